//! Datasets as other benchmarks publish them, read into benchcards' own form: each source's
//! fields mapped onto items with their gold answers, the source's ids kept, and anything that
//! does not map reported at its line and field (nothing is written then). The user brings the
//! file; nothing is downloaded.
//!
//! | `--from` | source | item |
//! |---|---|---|
//! | `craftmd` | CRAFT-MD `cases.csv`: `case_id, dataset, category, vignette, choice_1..4, answer` | `id` = case_id, `stratum` = category, options, answer |
//! | `medqa` | MedQA JSONL: `question`, `options` {letter: text}, `answer_idx` (letter) or `answer` (text) | id = `id` or the line, options, answer |
//! | `medmcqa` | MedMCQA JSONL: `id`, `question`, `opa`..`opd`, `cop` (0–3) | options, answer; `stratum` = `subject_name` |
//! | `headqa` | HEAD-QA JSONL: `qid`, `qtext`, `answers` [{`aid`, `atext`}], `ra` (the right `aid`) | options, answer; `stratum` = `category` |
//! | `mediq` | MediQ JSONL: `id`, `context` (text or sentences), `question`, `options`, `answer` or `answer_idx`, `facts` / `atomic_facts` | vignette = context + question; key facts |
//! | `agentclinic` | AgentClinic OSCE JSONL: `OSCE_Examination` with `Patient_Actor`, `Physical_Examination_Findings`, `Test_Results`, `Correct_Diagnosis` | vignette = the patient's facts then the findings; key facts = the symptoms; the diagnosis as the accepted condition |
//! | `healthbench` | HealthBench JSONL: `prompt_id`, `prompt` [{`role`, `content`}], `rubrics` [{`criterion`, `points`, `tags`}], `example_tags`, `ideal_completions_data` | `messages` = the prompt (posed as it is), vignette = the user's turns, `rubric`, `tags`, `stratum` = the `theme:` tag, `gold.ideal` |
//! | `generic` | any CSV or JSONL, `--map field=column` for `id`, `vignette`, `answer`, `options` (columns joined with `+`), `stratum`, `condition`, `disposition` | as mapped |

use crate::conditions::Message;
use crate::dataset::{AcceptedCondition, Criterion, Dataset, Gold, Item, parse_dataset, to_jsonl};
use benchcards_core::results::read_tabular;
use benchcards_core::{DatasetFormat, Diagnostic, Diagnostics, Pos};
use serde_json::Value;

/// `benchcards dataset …`.
#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DatasetCommand {
    /// Read a benchmark's file as published (MedQA, MedMCQA, HEAD-QA, MediQ, AgentClinic,
    /// HealthBench, CRAFT-MD, or any CSV/JSONL with --map) into a benchcards dataset.
    Import(ImportArgs),
}

#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The benchmark's file (CSV for `craftmd`; JSON Lines for the others; either for `generic`).
    pub file: std::path::PathBuf,
    #[arg(long, value_enum)]
    pub from: DatasetFormat,
    /// `generic`: FIELD=COLUMN for id, vignette, answer, options (columns joined with +),
    /// stratum, condition, disposition; a field not mapped is read from the column of its name.
    #[arg(long = "map", value_parser = field_column)]
    pub map: Vec<(String, String)>,
    /// The dataset to write (JSONL).
    #[arg(short, long)]
    pub output: std::path::PathBuf,
}

#[cfg(feature = "clap")]
fn field_column(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(f, c)| (f.trim().to_string(), c.trim().to_string())).ok_or_else(|| format!("`{s}` is not FIELD=COLUMN"))
}

/// Imports the file and writes the dataset; returns what was written, or the file's problems.
#[cfg(feature = "clap")]
pub fn run(a: &ImportArgs) -> Result<String, benchcards_core::results::FileProblems> {
    use benchcards_core::results::{FileProblems, is_jsonl};
    let problems = |text: Option<&str>, d: Diagnostics| FileProblems::new(&a.file, text, d);
    let text = benchcards_core::document::read_data(&a.file).map_err(|d| problems(None, Diagnostics(vec![d])))?;
    let mut ds = import(&text, a.from, &a.map, is_jsonl(&a.file)).map_err(|d| problems(Some(&text), d))?;
    ds.header.note = Some(format!("imported from {} ({:?} format) by `benchcards dataset import`", a.file.display(), a.from));
    benchcards_core::document::write_atomic(&a.output, &to_jsonl(&ds))
        .map_err(|e| problems(None, Diagnostics(vec![Diagnostic::error(at(1, 1), e)])))?;
    let with_options = ds.items.iter().filter(|i| !i.gold.options.is_empty()).count();
    let with_rubric = ds.items.iter().filter(|i| !i.rubric.is_empty()).count();
    let mut said = format!("wrote {} ({} items", a.output.display(), ds.items.len());
    if with_options > 0 {
        said += &format!("; {with_options} multiple choice, graded by `mcq`: add `options_removed` to pose them without their options");
    }
    if with_rubric > 0 {
        said += &format!("; {with_rubric} with a rubric of their own, graded by `kind: rubric` with a judge or a panel of judges");
    }
    Ok(said + ")")
}

fn at(line: usize, column: usize) -> Pos {
    Pos { line, column: column.max(1), index: 0 }
}

/// Reads `text` in the `source` format into a dataset (checked as any dataset is: unique ids,
/// sizes). `map` gives the generic format's columns (`field=column`).
pub fn import(text: &str, source: DatasetFormat, map: &[(String, String)], jsonl: bool) -> Result<Dataset, Diagnostics> {
    let items = match source {
        DatasetFormat::Craftmd => craftmd(text)?,
        DatasetFormat::Generic => generic(text, map, jsonl)?,
        json => json_lines(text, json)?,
    };
    let mut out = Dataset::default();
    out.items = items;
    parse_dataset(&to_jsonl(&out))
}

/// The right option: a letter (`A`…), a 0-based index, or the option's own text.
fn answer_of(options: &[String], given: &str, zero_based_number: bool) -> Option<String> {
    let g = given.trim();
    if let Some(o) = options.iter().find(|o| o.trim().eq_ignore_ascii_case(g)) {
        return Some(o.clone());
    }
    let index = match g.parse::<usize>() {
        Ok(n) if zero_based_number => Some(n),
        Ok(n) => n.checked_sub(1),
        Err(_) if g.len() == 1 => {
            g.chars().next().filter(char::is_ascii_alphabetic).map(|c| (c.to_ascii_uppercase() as u8 - b'A') as usize)
        }
        Err(_) => None,
    };
    index.and_then(|i| options.get(i).cloned())
}

fn mcq_item(id: String, vignette: String, stratum: Option<String>, options: Vec<String>, answer: String) -> Item {
    Item {
        id,
        vignette,
        patient_queries: Vec::new(),
        stratum,
        gold: Gold { answer: Some(answer), options, ..Gold::default() },
        ..Item::default()
    }
}

fn craftmd(text: &str) -> Result<Vec<Item>, Diagnostics> {
    let table = read_tabular(text, false)?;
    let mut diags = Diagnostics::default();
    let mut col = |name: &str| {
        table
            .require(name, None)
            .map_err(|d| diags.push(d.expected("CRAFT-MD's cases.csv: case_id, dataset, category, vignette, choice_1..choice_4, answer")))
            .ok()
    };
    let cols: Vec<Option<usize>> =
        ["case_id", "category", "vignette", "choice_1", "choice_2", "choice_3", "choice_4", "answer"].iter().map(|c| col(c)).collect();
    let Some(cols) = cols.into_iter().collect::<Option<Vec<usize>>>() else { return Err(diags) };
    let mut items = Vec::new();
    for row in &table.rows {
        let get = |i: usize| row.values.get(cols[i]).cloned().flatten().unwrap_or_default();
        let options: Vec<String> = (3..7).map(get).filter(|o| !o.is_empty()).collect();
        let (id, vignette, given) = (get(0), get(2), get(7));
        if id.is_empty() || vignette.is_empty() {
            diags.push(Diagnostic::error(at(row.line, 1), "a case needs its `case_id` and `vignette`"));
            continue;
        }
        match answer_of(&options, &given, false) {
            Some(answer) => items.push(mcq_item(id, vignette, Some(get(1)).filter(|s| !s.is_empty()), options, answer)),
            None => diags.push(
                Diagnostic::error(
                    at(row.line, row.columns.get(cols[7]).copied().unwrap_or(1)),
                    format!("case `{id}`: the answer `{given}` is none of its choices"),
                )
                .expected("the text of one of choice_1..choice_4"),
            ),
        }
    }
    if diags.has_errors() { Err(diags) } else { Ok(items) }
}

/// A JSON object's field as text (numbers too), or why not.
fn text_field(o: &Value, key: &str) -> Option<String> {
    match o.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Options given as {letter: text} (in letter order) or as a list.
fn options_field(o: &Value, key: &str) -> Option<Vec<String>> {
    match o.get(key)? {
        Value::Object(m) => {
            let mut pairs: Vec<(&String, &Value)> = m.iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            pairs.into_iter().map(|(_, v)| v.as_str().map(str::to_string)).collect()
        }
        Value::Array(a) => a.iter().map(|v| v.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}

/// MedQA's and MediQ's `options` ({letter: text} or a list) and the right one's text, from
/// `answer_idx` (a letter) or `answer`; or the field that does not map.
fn lettered(o: &Value) -> Result<(Vec<String>, String), (String, String)> {
    let options =
        options_field(o, "options").ok_or(("options".to_string(), "`options` must be {letter: text} or a list of texts".to_string()))?;
    let key = if o.get("answer_idx").is_some() { "answer_idx" } else { "answer" };
    let given = text_field(o, key).ok_or((key.to_string(), "neither `answer_idx` nor `answer` is given as text".to_string()))?;
    let answer = answer_of(&options, &given, false).ok_or((key.to_string(), format!("the answer `{given}` is none of the options")))?;
    Ok((options, answer))
}

/// Every text in a nested JSON value with its path (`Symptoms / Primary_Symptom`), in order;
/// underscores read as spaces.
fn leaves(v: &Value, path: &str) -> Vec<(String, String)> {
    let name = |k: &str| k.replace('_', " ");
    match v {
        Value::String(s) if !s.trim().is_empty() => vec![(name(path), s.trim().to_string())],
        Value::Number(n) => vec![(name(path), n.to_string())],
        Value::Array(a) => {
            let texts: Vec<String> = a.iter().flat_map(|x| leaves(x, "")).map(|(_, t)| t).collect();
            if texts.is_empty() { Vec::new() } else { vec![(name(path), texts.join("; "))] }
        }
        Value::Object(m) => {
            m.iter().flat_map(|(k, x)| leaves(x, &if path.is_empty() { k.clone() } else { format!("{path} / {k}") })).collect()
        }
        _ => Vec::new(),
    }
}

/// One item of a JSON-lines source, or the field that does not map.
fn json_item(o: &Value, source: DatasetFormat, line: usize) -> Result<Item, (String, String)> {
    let need = |key: &str| text_field(o, key).ok_or_else(|| (key.to_string(), format!("`{key}` is missing or not text")));
    let fallback_id = format!("line-{line}");
    match source {
        DatasetFormat::Medqa => {
            let (options, answer) = lettered(o)?;
            let stratum = text_field(o, "meta_info");
            Ok(mcq_item(text_field(o, "id").unwrap_or(fallback_id), need("question")?, stratum, options, answer))
        }
        DatasetFormat::Medmcqa => {
            let options: Vec<String> = ["opa", "opb", "opc", "opd"].iter().map(|k| need(k)).collect::<Result<_, _>>()?;
            let cop = need("cop")?;
            let answer = answer_of(&options, &cop, true).ok_or(("cop".into(), format!("`cop` {cop} is not 0 to 3")))?;
            Ok(mcq_item(text_field(o, "id").unwrap_or(fallback_id), need("question")?, text_field(o, "subject_name"), options, answer))
        }
        DatasetFormat::Headqa => {
            let answers = o
                .get("answers")
                .and_then(Value::as_array)
                .ok_or(("answers".to_string(), "`answers` must be a list of {aid, atext}".to_string()))?;
            let mut pairs = Vec::new();
            for a in answers {
                let (Some(aid), Some(atext)) = (text_field(a, "aid"), text_field(a, "atext")) else {
                    return Err(("answers".into(), "each answer needs `aid` and `atext`".into()));
                };
                pairs.push((aid, atext));
            }
            let ra = need("ra")?;
            let answer = pairs
                .iter()
                .find(|(aid, _)| *aid == ra)
                .map(|(_, t)| t.clone())
                .ok_or(("ra".into(), format!("`ra` {ra} is no answer's `aid`")))?;
            let options = pairs.into_iter().map(|(_, t)| t).collect();
            Ok(mcq_item(text_field(o, "qid").unwrap_or(fallback_id), need("qtext")?, text_field(o, "category"), options, answer))
        }
        DatasetFormat::Mediq => {
            let context = match o.get("context") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
                Some(Value::String(s)) => s.clone(),
                _ => return Err(("context".into(), "`context` must be text or a list of sentences".into())),
            };
            let (options, answer) = lettered(o)?;
            let facts = o.get("atomic_facts").or_else(|| o.get("facts")).and_then(Value::as_array);
            let key_facts = facts.map(|f| f.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default();
            let vignette =
                [context.trim(), need("question")?.trim()].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ");
            let mut item = mcq_item(text_field(o, "id").unwrap_or(fallback_id), vignette, None, options, answer);
            item.gold.key_facts = key_facts;
            Ok(item)
        }
        DatasetFormat::Agentclinic => {
            let osce = o.get("OSCE_Examination").ok_or(("OSCE_Examination".to_string(), "`OSCE_Examination` is missing".to_string()))?;
            let diagnosis = text_field(osce, "Correct_Diagnosis")
                .ok_or(("Correct_Diagnosis".to_string(), "`Correct_Diagnosis` is missing or not text".to_string()))?;
            let actor = osce.get("Patient_Actor").ok_or(("Patient_Actor".to_string(), "`Patient_Actor` is missing".to_string()))?;
            let symptoms = actor.get("Symptoms");
            let key_facts: Vec<String> = symptoms.map(|v| leaves(v, "")).unwrap_or_default().into_iter().map(|(_, t)| t).collect();
            let mut facts = leaves(actor, "");
            facts.extend(
                ["Physical_Examination_Findings", "Test_Results"].iter().filter_map(|k| osce.get(*k).map(|v| leaves(v, k))).flatten(),
            );
            let vignette = facts.iter().map(|(path, text)| format!("{path}: {text}")).collect::<Vec<_>>().join("\n");
            Ok(Item {
                id: text_field(o, "id").unwrap_or(fallback_id),
                vignette,
                patient_queries: Vec::new(),
                stratum: None,
                gold: Gold { conditions: vec![AcceptedCondition { name: diagnosis, synonyms: Vec::new() }], key_facts, ..Gold::default() },
                ..Item::default()
            })
        }
        DatasetFormat::Healthbench => {
            let bad = |field: &str, why: &str| (field.to_string(), why.to_string());
            let messages: Vec<Message> = o
                .get("prompt")
                .and_then(|p| serde_json::from_value(p.clone()).ok())
                .filter(|m: &Vec<Message>| !m.is_empty())
                .ok_or(bad("prompt", "`prompt` must be a list of {role, content} messages"))?;
            let rubric: Vec<Criterion> = o
                .get("rubrics")
                .and_then(|r| serde_json::from_value(r.clone()).ok())
                .filter(|r: &Vec<Criterion>| !r.is_empty())
                .ok_or(bad("rubrics", "`rubrics` must be a list of {criterion, points, tags}"))?;
            let tags: Vec<String> = match o.get("example_tags") {
                None | Some(Value::Null) => Vec::new(),
                Some(t) => serde_json::from_value(t.clone()).map_err(|_| bad("example_tags", "`example_tags` must be a list of texts"))?,
            };
            let ideal = o.get("ideal_completions_data").and_then(|d| text_field(d, "ideal_completion"));
            if !rubric.iter().any(|c| c.points > 0.0) {
                return Err(bad("rubrics", "no criterion is worth positive points, so no score can be computed"));
            }
            if messages.last().is_some_and(|m| m.role != "user") {
                return Err(bad("prompt", "the prompt must end with the user's turn, which the model answers"));
            }
            let vignette = messages.iter().filter(|m| m.role == "user").map(|m| m.content.trim()).collect::<Vec<_>>().join("\n\n");
            Ok(Item {
                id: text_field(o, "prompt_id").unwrap_or(fallback_id),
                vignette,
                stratum: tags.iter().find(|t| t.starts_with("theme:")).cloned(),
                gold: Gold { ideal, ..Gold::default() },
                messages,
                rubric,
                tags,
                ..Item::default()
            })
        }
        DatasetFormat::Craftmd | DatasetFormat::Generic => Err(("".into(), "not a JSON-lines format".into())),
    }
}

fn json_lines(text: &str, source: DatasetFormat) -> Result<Vec<Item>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut items = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                diags.push(Diagnostic::error(at(i + 1, e.column()), format!("not JSON: {e}")).expected("one JSON object per line"));
                continue;
            }
        };
        match json_item(&value, source, i + 1) {
            Ok(item) => items.push(item),
            Err((field, why)) => {
                let column = line.find(&format!("\"{field}\"")).map_or(1, |c| line[..c].chars().count() + 1);
                diags.push(
                    Diagnostic::error(at(i + 1, column), why)
                        .expected(format!("{source:?} fields (see `benchcards dataset import --help`)")),
                );
            }
        }
    }
    if diags.has_errors() { Err(diags) } else { Ok(items) }
}

fn generic(text: &str, map: &[(String, String)], jsonl: bool) -> Result<Vec<Item>, Diagnostics> {
    const FIELDS: [&str; 7] = ["id", "vignette", "answer", "options", "stratum", "condition", "disposition"];
    let table = read_tabular(text, jsonl)?;
    let mut diags = Diagnostics::default();
    fn column<'a>(map: &'a [(String, String)], field: &'a str) -> &'a str {
        map.iter().find(|(f, _)| f == field).map_or(field, |(_, c)| c.as_str())
    }
    let column_of = |field: &'static str| column(map, field);
    for (field, _) in map {
        if !FIELDS.contains(&field.as_str()) {
            diags.push(
                Diagnostic::error(at(1, 1), format!("--map names `{field}`, which is no item field"))
                    .expected(format!("one of {}", FIELDS.join(", "))),
            );
        }
    }
    let mut require =
        |name: &str| table.require(name, None).map_err(|d| diags.push(d.suggest(Some(format!("name it with --map FIELD={name}"))))).ok();
    let (id, vignette) = (require(column_of("id")), require(column_of("vignette")));
    let optional = |field: &'static str| map.iter().any(|(f, _)| f == field).then(|| column_of(field));
    let mut opt = |field: &'static str| optional(field).map(|c| c.split('+').map(&mut require).collect::<Option<Vec<usize>>>());
    let (answer, options, stratum, condition, disposition) =
        (opt("answer"), opt("options"), opt("stratum"), opt("condition"), opt("disposition"));
    let (Some(id), Some(vignette)) = (id, vignette) else { return Err(diags) };
    if diags.has_errors() {
        return Err(diags);
    }
    let one = |cols: &Option<Option<Vec<usize>>>, row: &benchcards_core::results::TabRow| {
        cols.clone().flatten().and_then(|c| c.first().and_then(|&i| row.values.get(i).cloned().flatten()))
    };
    let mut items = Vec::new();
    for row in &table.rows {
        let get = |i: usize| row.values.get(i).cloned().flatten();
        let (Some(item_id), Some(text)) = (get(id), get(vignette)) else {
            diags.push(Diagnostic::error(at(row.line, 1), format!("a row needs `{}` and `{}`", column_of("id"), column_of("vignette"))));
            continue;
        };
        let opts: Vec<String> = options.clone().flatten().unwrap_or_default().iter().filter_map(|&i| get(i)).collect();
        let given = one(&answer, row);
        let answer = match &given {
            Some(g) if !opts.is_empty() => match answer_of(&opts, g, false) {
                Some(a) => Some(a),
                None => {
                    diags.push(Diagnostic::error(at(row.line, 1), format!("item `{item_id}`: the answer `{g}` is none of its options")));
                    continue;
                }
            },
            other => other.clone(),
        };
        let conditions = one(&condition, row).map(|name| vec![AcceptedCondition { name, synonyms: Vec::new() }]).unwrap_or_default();
        items.push(Item {
            id: item_id,
            vignette: text,
            patient_queries: Vec::new(),
            stratum: one(&stratum, row),
            gold: Gold { conditions, disposition: one(&disposition, row), answer, options: opts, ..Gold::default() },
            ..Item::default()
        });
    }
    if diags.has_errors() { Err(diags) } else { Ok(items) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_as_a_letter_a_number_or_the_option_s_text() {
        let o: Vec<String> = ["Flu", "Cold", "Migraine"].iter().map(|s| s.to_string()).collect();
        assert_eq!(answer_of(&o, "B", false).as_deref(), Some("Cold"));
        assert_eq!(answer_of(&o, "b", false).as_deref(), Some("Cold"));
        assert_eq!(answer_of(&o, "migraine", false).as_deref(), Some("Migraine"));
        assert_eq!(answer_of(&o, "1", false).as_deref(), Some("Flu"));
        assert_eq!(answer_of(&o, "1", true).as_deref(), Some("Cold"));
        assert_eq!(answer_of(&o, "D", false), None);
        assert_eq!(answer_of(&o, "0", false), None);
    }
}
