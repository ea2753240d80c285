//! Other harnesses' per-sample logs read as benchcards results, and a run written out for
//! others: the Every Eval Ever instance-level records.
//!
//! | `--from` | log | unit | replicate | model | grader |
//! |---|---|---|---|---|---|
//! | `inspect` | Inspect AI: the JSON log (`--log-format=json`, `inspect log dump`; `eval`, `samples`) or a `.eval` archive (`header.json`, `samples/ID_epoch_N.json`) | the sample's `id` | its `epoch` | `eval.model` | `inspect:SCORER` |
//! | `lm-eval` | lm-evaluation-harness `--log_samples`: `samples_TASK_DATE.jsonl`, one document a line (`doc_id`, `filter`, `metrics`, each metric's value) | `doc_id` | `0` | `--model` | `lm-eval:METRIC` (`/FILTER` unless `none`) |
//!
//! The condition is named on the command line; its unit source, the groups it relaxes and
//! whether it is a proxy come from the taxonomy, as a run's do. A score must lie in 0–1:
//! Inspect's `C`, `I`, `P` read 1, 0, 0.5 and `N` (no answer) 0, as Inspect's own
//! `value_to_float` reads them (`--no-answer skip` leaves such samples out instead); a value
//! that is NaN or null is a sample Inspect left unscored, skipped and counted; a sample that
//! ended in an error without scores is skipped and counted. Anything else that does not read is
//! reported at its line (and, in an archive, its entry) and field, and nothing is written.

use crate::store::Store;
use benchcards_core::diag::nearest;
use benchcards_core::document::{MAX_DATA_BYTES, MAX_ITEMS, MAX_LINE_BYTES};
use benchcards_core::{Diagnostic, Diagnostics, Pos, Taxonomy};
use benchcards_stats::data::ResultRow;
use serde_json::Value;
use std::collections::HashMap;

/// The harness that wrote a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Harness {
    /// Inspect AI: a JSON log or a `.eval` archive.
    Inspect,
    /// lm-evaluation-harness: a `samples_TASK_DATE.jsonl` file written with `--log_samples`.
    LmEval,
}

/// What Inspect's `N` (no answer) counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum NoAnswer {
    /// 0, as Inspect's own metrics count it.
    #[default]
    Zero,
    /// Left out of the results (counted).
    Skip,
}

/// Which score of a log to read: Inspect's scorer, lm-eval's metric and filter.
#[derive(Debug, Clone, Default)]
pub struct Pick {
    pub scorer: Option<String>,
    pub metric: Option<String>,
    pub filter: Option<String>,
    pub no_answer: NoAnswer,
}

/// One sample's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub id: String,
    pub epoch: i64,
    pub score: f64,
}

/// A log's scores by one scorer or metric, with what was left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub samples: Vec<Scored>,
    /// `inspect:SCORER` or `lm-eval:METRIC`.
    pub grader: String,
    /// The model the log names (Inspect's `eval.model`).
    pub model: Option<String>,
    /// Samples whose value was NaN or null (Inspect's unscored), left out.
    pub unscored: usize,
    /// Samples scored `N`: counted as 0, or left out with [`NoAnswer::Skip`].
    pub no_answer: usize,
    /// Samples that ended in an error without scores, left out.
    pub errored: usize,
    /// The log's `status` when it is not `success` (a run stopped or still going).
    pub status: Option<String>,
}

/// A score value as Inspect and lm-eval write it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reading {
    Score(f64),
    /// Inspect's `N`.
    NoAnswer,
    /// NaN (written as `NaN`) or null: no score.
    Unscored,
}

/// Reads a score value: a number in 0–1, true/false, Inspect's `C`/`I`/`P`/`N`, `yes`/`no`,
/// `true`/`false` or a number as text (as Inspect's `value_to_float` reads them); null is no
/// score. Anything else is why not.
pub fn read_score(v: &Value) -> Result<Reading, String> {
    let number = |x: f64| {
        if x.is_finite() && (0.0..=1.0).contains(&x) {
            Ok(Reading::Score(x))
        } else {
            Err(format!("the score {x} is outside 0–1 (benchcards' results are scored 0 to 1)"))
        }
    };
    match v {
        Value::Null => Ok(Reading::Unscored),
        Value::Bool(b) => Ok(Reading::Score(if *b { 1.0 } else { 0.0 })),
        Value::Number(n) => number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => match s.as_str() {
            "C" => Ok(Reading::Score(1.0)),
            "I" => Ok(Reading::Score(0.0)),
            "P" => Ok(Reading::Score(0.5)),
            "N" => Ok(Reading::NoAnswer),
            other => match other.trim().to_lowercase().as_str() {
                "yes" | "true" => Ok(Reading::Score(1.0)),
                "no" | "false" => Ok(Reading::Score(0.0)),
                t => match t.parse::<f64>() {
                    Ok(x) if !x.is_nan() => number(x),
                    _ => Err(format!("the value `{other}` is no score: expected C, I, P, N, a number or true/false")),
                },
            },
        },
        Value::Array(_) => Err("the value is a list, not one score per sample".into()),
        Value::Object(m) => Err(format!(
            "the value holds several scores ({}), not one score per sample",
            m.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Problems in one part of a log: the file itself (`entry` none) or one entry of an archive,
/// with that part's text for the snippets.
#[derive(Debug, Clone)]
pub struct LogProblems {
    pub entry: Option<String>,
    pub text: Option<String>,
    pub diagnostics: Diagnostics,
}

impl LogProblems {
    fn file(d: Diagnostic) -> Self {
        LogProblems { entry: None, text: None, diagnostics: Diagnostics(vec![d]) }
    }
}

/// Reads a log written by `harness`: an Inspect JSON log or `.eval` archive (by its first
/// bytes), or an lm-eval samples file.
pub fn read_log(bytes: Vec<u8>, harness: Harness, pick: &Pick) -> Result<Scores, LogProblems> {
    if harness == Harness::Inspect && bytes.starts_with(b"PK\x03\x04") {
        return inspect_archive(&bytes, pick);
    }
    let text = benchcards_core::document::decode_utf8(bytes).map_err(LogProblems::file)?;
    let read = match harness {
        Harness::Inspect => inspect_json(&text, pick),
        Harness::LmEval => lm_eval(&text, pick),
    };
    read.map_err(|diagnostics| LogProblems { entry: None, text: Some(text), diagnostics })
}

/// Most problems gathered from one log before the reader stops looking.
const MAX_PROBLEMS: usize = 100;

/// Largest entry of a `.eval` archive read (a sample with a long agent transcript), checked
/// against the size the entry declares before it is read, and again as it is read.
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// The position of byte `at` of `text`.
fn pos_of(text: &str, at: usize) -> Pos {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    Pos { line: before.matches('\n').count() + 1, column: before[start..].chars().count() + 1, index: 0 }
}

/// Where a field (a path `a.b`, each key found after the one before) is within `text[range]`:
/// its key, or the start of the range when it is not written there.
fn field_pos(text: &str, range: std::ops::Range<usize>, field: &str) -> Pos {
    let mut at = range.start;
    for key in field.split('.').filter(|k| !k.is_empty()) {
        match text.get(at..range.end).and_then(|t| t.find(&format!("\"{key}\""))) {
            Some(i) => at += i,
            None => break,
        }
    }
    pos_of(text, at)
}

/// A part of a log that does not read: the field concerned, why, and how to fix it.
#[derive(Debug)]
struct Bad {
    field: String,
    message: String,
    hint: Option<String>,
}

fn bad(field: &str, message: impl Into<String>) -> Bad {
    Bad { field: field.to_string(), message: message.into(), hint: None }
}

impl Bad {
    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    fn at(self, text: &str, range: std::ops::Range<usize>) -> Diagnostic {
        Diagnostic::error(field_pos(text, range, &self.field), self.message).suggest(self.hint)
    }
}

/// Inspect's NaN (an unscored value, which Python's JSON writes bare) as null, so the log is
/// JSON; lines are kept, so positions keep their lines.
fn nan_as_null(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if !in_string && rest.starts_with("NaN") {
            out.push_str("null");
            rest = &rest[3..];
            continue;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.into()
}

/// One Inspect sample's outcome.
enum Outcome {
    Scored(Scored),
    NoAnswer(Scored),
    Unscored,
    Errored,
}

/// A sample's `id` and `epoch`.
fn sample_key(v: &Value) -> Result<(String, i64), Bad> {
    let id = match v.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(bad("id", "a sample needs its `id` (text or a number)")),
    };
    let epoch = match v.get("epoch") {
        None | Some(Value::Null) => 1,
        Some(e) => e.as_i64().filter(|e| *e >= 0).ok_or_else(|| bad("epoch", format!("sample `{id}`: `epoch` must be a whole number")))?,
    };
    Ok((id, epoch))
}

/// The names of the scorers in a sample's `scores`.
fn scorer_names(v: &Value) -> Vec<String> {
    v.get("scores").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

/// Names as a list for a message: the first twenty, and how many there are in all.
fn listed(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(20).map(|n| format!("`{n}`")).collect();
    if names.len() > 20 { format!("{}, … ({} in all)", shown.join(", "), names.len()) } else { shown.join(", ") }
}

/// The scorer to read: the one named, or the log's only one.
fn choose_scorer(names: &[String], asked: Option<&str>) -> Result<String, Bad> {
    let list = || listed(names);
    match (asked, names) {
        (Some(s), _) if names.iter().any(|n| n == s) => Ok(s.to_string()),
        (Some(s), []) => Err(bad("scores", format!("--scorer `{s}`: no sample of the log has `scores`"))),
        (Some(s), _) => {
            let hint = nearest(s, names.iter().map(String::as_str)).map(|n| format!("did you mean `--scorer {n}`?"));
            Err(Bad { hint, ..bad("scores", format!("no sample is scored by `{s}`; the log's scorers are {}", list())) })
        }
        (None, [one]) => Ok(one.clone()),
        (None, []) => Err(bad("scores", "no sample of the log has `scores`: the log was not scored")
            .hint("score it first (`inspect score LOG`), then import the scored log")),
        (None, [first, ..]) => Err(bad("scores", format!("the log has several scorers ({}); benchcards reads one", list()))
            .hint(format!("name one with `--scorer {first}`"))),
    }
}

/// One sample read by `scorer`.
fn inspect_sample(v: &Value, scorer: &str, others: &[String]) -> Result<Outcome, Bad> {
    if !v.is_object() {
        return Err(bad("", "a sample must be a JSON object"));
    }
    let (id, epoch) = sample_key(v)?;
    let errored = v.get("error").is_some_and(|e| !e.is_null());
    let scores = match v.get("scores") {
        Some(Value::Object(m)) if !m.is_empty() => m,
        _ if errored => return Ok(Outcome::Errored),
        None | Some(Value::Null) => {
            return Err(bad("", format!("sample `{id}` (epoch {epoch}) has no `scores`: it was not scored"))
                .hint("score the log first (`inspect score LOG`)"));
        }
        Some(_) => return Err(bad("scores", format!("sample `{id}` (epoch {epoch}): `scores` must be {{SCORER: {{value, …}}}}"))),
    };
    let Some(score) = scores.get(scorer) else {
        let has = scores.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        return Err(bad("scores", format!("sample `{id}` (epoch {epoch}) has no score by `{scorer}` (it has {has})")));
    };
    let Some(value) = score.get("value") else {
        return Err(bad(&format!("scores.{scorer}"), format!("sample `{id}` (epoch {epoch}): the score by `{scorer}` has no `value`")));
    };
    let scored = |score| Scored { id: id.clone(), epoch, score };
    match read_score(value) {
        Ok(Reading::Score(s)) => Ok(Outcome::Scored(scored(s))),
        Ok(Reading::NoAnswer) => Ok(Outcome::NoAnswer(scored(0.0))),
        Ok(Reading::Unscored) => Ok(Outcome::Unscored),
        Err(why) => {
            let others: Vec<&String> = others.iter().filter(|o| *o != scorer).collect();
            let hint = match others.first() {
                Some(o) if value.is_object() => format!("name a scorer with one value per sample, e.g. `--scorer {o}`"),
                _ if value.is_object() => "re-score the log with a scorer that gives one value per sample, or split this one".into(),
                _ => "score the log with a scorer whose values are C/I/P/N, true/false or numbers in 0–1".into(),
            };
            Err(bad(&format!("scores.{scorer}.value"), format!("sample `{id}` (epoch {epoch}), scorer `{scorer}`: {why}")).hint(hint))
        }
    }
}

/// What a sample's outcome adds to the scores.
fn tally(scores: &mut Scores, outcome: Outcome, no_answer: NoAnswer) {
    match outcome {
        Outcome::Scored(s) => scores.samples.push(s),
        Outcome::NoAnswer(s) => {
            scores.no_answer += 1;
            if no_answer == NoAnswer::Zero {
                scores.samples.push(s);
            }
        }
        Outcome::Unscored => scores.unscored += 1,
        Outcome::Errored => scores.errored += 1,
    }
}

/// The model and status of a log's `eval` header.
fn header(scores: &mut Scores, eval: Option<&Value>, status: Option<&Value>) {
    scores.model = eval.and_then(|e| e.get("model")).and_then(Value::as_str).map(str::to_string);
    scores.status = status.and_then(Value::as_str).filter(|s| *s != "success").map(str::to_string);
}

/// Refuses a second score for the same sample and epoch; `said` tells where the first was
/// (worked out only then).
fn no_repeats<T>(seen: &mut HashMap<(String, i64), T>, s: &Scored, here: T, said: impl FnOnce(T) -> String) -> Result<(), Bad> {
    match seen.insert((s.id.clone(), s.epoch), here) {
        Some(first) => Err(bad("id", format!("sample `{}` epoch {} appears twice (first {})", s.id, s.epoch, said(first)))),
        None => Ok(()),
    }
}

#[derive(serde::Deserialize)]
struct InspectLog<'a> {
    #[serde(default)]
    eval: Option<Value>,
    #[serde(default)]
    status: Option<Value>,
    #[serde(borrow, default)]
    samples: Option<Vec<&'a serde_json::value::RawValue>>,
}

/// Byte range of `part`, a slice of `text`, within it.
fn range_in(text: &str, part: &str) -> std::ops::Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize).min(text.len());
    start..(start + part.len()).min(text.len())
}

/// Reads an Inspect JSON log (`--log-format=json`, or `inspect log dump`).
pub fn inspect_json(text: &str, pick: &Pick) -> Result<Scores, Diagnostics> {
    let text = nan_as_null(text);
    let text = text.as_ref();
    let one = |d: Diagnostic| Diagnostics(vec![d]);
    let log: InspectLog = serde_json::from_str(text).map_err(|e| {
        let hint =
            if e.is_eof() { "the file ends early: a log still being written, or cut short" } else { "an Inspect log is one JSON object" };
        one(Diagnostic::error(Pos { line: e.line(), column: e.column(), index: 0 }, benchcards_core::diag::json_error(&e))
            .expected("an Inspect AI log (`--log-format=json` or `inspect log dump`): {\"eval\": …, \"samples\": […]}")
            .suggest(Some(hint.into())))
    })?;
    let Some(raw) = log.samples.filter(|s| !s.is_empty()) else {
        return Err(one(Diagnostic::error(pos_of(text, 0), "the log holds no samples")
            .suggest(Some("write the log with its samples (not `--header-only`), or import the `.eval` file".into()))));
    };
    if raw.len() > MAX_ITEMS {
        return Err(one(Diagnostic::error(pos_of(text, 0), format!("the log holds {} samples, over the limit of {MAX_ITEMS}", raw.len()))));
    }
    let mut diags = Diagnostics::default();
    let mut samples = Vec::new();
    for r in &raw {
        let range = range_in(text, r.get());
        match serde_json::from_str::<Value>(r.get()) {
            Ok(v) => samples.push((v, range)),
            Err(e) => diags.push(Diagnostic::error(pos_of(text, range.start), format!("a sample does not read: {e}"))),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let names: Vec<String> = samples.iter().flat_map(|(v, _)| scorer_names(v)).collect::<indexmap::IndexSet<_>>().into_iter().collect();
    let first = samples.iter().find(|(v, _)| v.get("scores").is_some()).or(samples.first()).map_or(0..text.len(), |(_, r)| r.clone());
    let scorer = choose_scorer(&names, pick.scorer.as_deref()).map_err(|b| one(b.at(text, first)))?;
    let mut scores = Scores { grader: format!("inspect:{scorer}"), ..Scores::default() };
    header(&mut scores, log.eval.as_ref(), log.status.as_ref());
    let mut seen = HashMap::new();
    for (v, range) in &samples {
        if diags.0.len() >= MAX_PROBLEMS {
            break;
        }
        let outcome = inspect_sample(v, &scorer, &names).and_then(|o| {
            if let Outcome::Scored(s) | Outcome::NoAnswer(s) = &o {
                no_repeats(&mut seen, s, range.start, |at| format!("at line {}", pos_of(text, at).line))?;
            }
            Ok(o)
        });
        match outcome {
            Ok(o) => tally(&mut scores, o, pick.no_answer),
            Err(b) => diags.push(b.at(text, range.clone())),
        }
    }
    if diags.has_errors() { Err(diags) } else { Ok(scores) }
}

/// The entries of an `.eval` archive that are read: the header and the samples.
fn wanted(name: &str) -> bool {
    name == "header.json" || name == "_journal/start.json" || (name.starts_with("samples/") && name.ends_with(".json"))
}

/// Reads the entries of an `.eval` archive that are read, each as text: its declared size is
/// checked before it is read, no more than that is read, and all of them together stay within
/// the limit of a data file.
fn archive_entries(bytes: &[u8]) -> Result<Vec<(String, String)>, LogProblems> {
    use std::io::Read;
    let entry_problem = |name: &str, message: String| LogProblems {
        entry: Some(name.to_string()),
        text: None,
        diagnostics: Diagnostics(vec![Diagnostic::error(pos_of("", 0), message)]),
    };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| {
        LogProblems::file(
            Diagnostic::error(pos_of("", 0), format!("not a ZIP archive that can be read: {e}"))
                .expected("an Inspect AI `.eval` log: a ZIP archive of `header.json` and `samples/*.json`, or a JSON log".to_string()),
        )
    })?;
    if zip.len() > MAX_ITEMS + 100 {
        return Err(LogProblems::file(Diagnostic::error(
            pos_of("", 0),
            format!("the archive has {} entries, over the limit of {MAX_ITEMS} samples", zip.len()),
        )));
    }
    let mut total = 0u64;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let name = zip.name_for_index(i).and_then(Result::ok).map(|n| n.into_owned()).unwrap_or_default();
        if !wanted(&name) {
            continue;
        }
        let mut file = zip.by_index(i).map_err(|e| entry_problem(&name, format!("the entry cannot be read: {e}")))?;
        let size = file.size();
        if size > MAX_ENTRY_BYTES {
            return Err(entry_problem(
                &name,
                format!("the entry is {size} bytes uncompressed, over the limit of {MAX_ENTRY_BYTES}; not read"),
            ));
        }
        total += size;
        if total > MAX_DATA_BYTES {
            return Err(entry_problem(
                &name,
                format!("the archive's entries add up to over {MAX_DATA_BYTES} bytes uncompressed; not read further"),
            ));
        }
        // The declared size is only a bound: memory grows with what the entry really holds.
        let mut data = Vec::new();
        (&mut file).take(size + 1).read_to_end(&mut data).map_err(|e| entry_problem(&name, format!("the entry cannot be read: {e}")))?;
        if data.len() as u64 > size {
            return Err(entry_problem(&name, format!("the entry holds more than the {size} bytes it declares; not read")));
        }
        let text = String::from_utf8(data).map_err(|_| entry_problem(&name, "the entry is not UTF-8 text".into()))?;
        out.push((name, text));
    }
    Ok(out)
}

/// Reads an Inspect `.eval` archive: `header.json` (or, for a log still being written,
/// `_journal/start.json`) and one `samples/ID_epoch_N.json` per sample.
pub fn inspect_archive(bytes: &[u8], pick: &Pick) -> Result<Scores, LogProblems> {
    let entries = archive_entries(bytes)?;
    let mut problems: Vec<LogProblems> = Vec::new();
    let mut parsed: Vec<(&str, &str, Value)> = Vec::new();
    for (name, text) in &entries {
        match serde_json::from_str::<Value>(&nan_as_null(text)) {
            Ok(v) => parsed.push((name, text, v)),
            Err(e) => problems.push(LogProblems {
                entry: Some(name.clone()),
                // Only the first entry with problems is shown with its text.
                text: problems.is_empty().then(|| text.clone()),
                diagnostics: Diagnostics(vec![
                    Diagnostic::error(Pos { line: e.line(), column: e.column(), index: 0 }, benchcards_core::diag::json_error(&e))
                        .expected(if name.starts_with("samples/") {
                            "one Inspect sample, a JSON object"
                        } else {
                            "the log's header, a JSON object"
                        }),
                ]),
            }),
        }
    }
    if !problems.is_empty() {
        return Err(first_of(problems));
    }
    let head = parsed.iter().find(|(n, ..)| *n == "header.json").or_else(|| parsed.iter().find(|(n, ..)| *n == "_journal/start.json"));
    let samples: Vec<&(&str, &str, Value)> = parsed.iter().filter(|(n, ..)| n.starts_with("samples/")).collect();
    let Some((first_name, first_text, _)) = samples.first() else {
        let none = if head.is_some() { "the archive holds no samples" } else { "the archive holds neither `header.json` nor `samples/`" };
        return Err(LogProblems::file(
            Diagnostic::error(pos_of("", 0), none).expected("an Inspect AI `.eval` log: `header.json` and `samples/ID_epoch_N.json`"),
        ));
    };
    let names: Vec<String> = samples.iter().flat_map(|(.., v)| scorer_names(v)).collect::<indexmap::IndexSet<_>>().into_iter().collect();
    let in_entry = |name: &str, text: &str, b: Bad| LogProblems {
        entry: Some(name.to_string()),
        text: Some(text.to_string()),
        diagnostics: Diagnostics(vec![b.at(text, 0..text.len())]),
    };
    let scorer = choose_scorer(&names, pick.scorer.as_deref()).map_err(|b| in_entry(first_name, first_text, b))?;
    let mut scores = Scores { grader: format!("inspect:{scorer}"), ..Scores::default() };
    header(&mut scores, head.and_then(|(.., v)| v.get("eval")), head.and_then(|(.., v)| v.get("status")));
    let mut seen = HashMap::new();
    for (name, text, v) in samples {
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
        let outcome = inspect_sample(v, &scorer, &names).and_then(|o| {
            if let Outcome::Scored(s) | Outcome::NoAnswer(s) = &o {
                no_repeats(&mut seen, s, *name, |n| format!("in `{n}`"))?;
            }
            Ok(o)
        });
        match outcome {
            Ok(o) => tally(&mut scores, o, pick.no_answer),
            Err(b) if problems.is_empty() => problems.push(in_entry(name, text, b)),
            Err(_) => problems.push(LogProblems { entry: Some(name.to_string()), text: None, diagnostics: Diagnostics::default() }),
        }
    }
    if problems.is_empty() { Ok(scores) } else { Err(first_of(problems)) }
}

/// The first entry's problems, with a note naming the other entries that have some.
fn first_of(problems: Vec<LogProblems>) -> LogProblems {
    let mut problems = problems.into_iter();
    let Some(mut first) = problems.next() else { return LogProblems::file(Diagnostic::error(pos_of("", 0), "the log does not read")) };
    let rest: Vec<String> = problems.filter_map(|p| p.entry).collect();
    if !rest.is_empty() {
        let shown: Vec<String> = rest.iter().take(5).map(|n| format!("`{n}`")).collect();
        let more = if rest.len() > 5 { format!(" and {} more", rest.len() - 5) } else { String::new() };
        let entries = if rest.len() == 1 { "entry" } else { "entries" };
        let note = format!("{} other {entries} of the archive have problems too: {}{more}", rest.len(), shown.join(", "));
        first.diagnostics.push(Diagnostic { conceal: true, ..Diagnostic::error(pos_of("", 0), note) });
    }
    first
}

/// The text of a JSON value that names something (a string, or a number written as text).
fn name_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads lm-evaluation-harness's per-sample output (`--log_samples`): one JSON object a line.
pub fn lm_eval(text: &str, pick: &Pick) -> Result<Scores, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut lines: Vec<(usize, &str, serde_json::Map<String, Value>)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if diags.0.len() >= MAX_PROBLEMS {
            break;
        }
        let at = |column: usize| Pos { line: i + 1, column, index: 0 };
        if line.len() > MAX_LINE_BYTES {
            diags.push(Diagnostic::error(at(1), format!("the line is {} bytes, over the limit of {MAX_LINE_BYTES}", line.len())));
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => lines.push((i + 1, line, m)),
            Ok(_) => diags.push(Diagnostic::error(at(1), "this line is not a JSON object").expected("one document's record per line")),
            Err(e) => diags.push(
                Diagnostic::error(at(e.column()), benchcards_core::diag::json_error(&e))
                    .expected("lm-evaluation-harness samples: one JSON object per line (`--log_samples`)"),
            ),
        }
    }
    if lines.len() > MAX_ITEMS {
        diags.push(Diagnostic::error(Pos { line: 1, column: 1, index: 0 }, format!("over {MAX_ITEMS} records")));
    }
    if diags.has_errors() {
        return Err(diags);
    }
    if lines.is_empty() {
        return Err(Diagnostics(vec![
            Diagnostic::error(Pos { line: 1, column: 1, index: 0 }, "the file is empty")
                .expected("lm-evaluation-harness samples: one JSON object per line (`--log_samples`)"),
        ]));
    }
    let at = |line: usize, text: &str, b: Bad| Diagnostic { line, ..b.at(text, 0..text.len()) };
    let filter_of = |m: &serde_json::Map<String, Value>| m.get("filter").and_then(Value::as_str).unwrap_or("none").to_string();
    let (mut filters, mut metrics) = (indexmap::IndexSet::new(), indexmap::IndexSet::new());
    for (_, _, m) in &lines {
        filters.insert(filter_of(m));
        metrics.extend(m.get("metrics").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string));
    }
    let (filters, metrics): (Vec<String>, Vec<String>) = (filters.into_iter().collect(), metrics.into_iter().collect());
    let list = listed;
    let (first_line, first_text, _) = &lines[0];
    let filter = match (&pick.filter, filters.as_slice()) {
        (Some(f), _) if filters.contains(f) => f.clone(),
        (Some(f), _) => {
            let hint = nearest(f, filters.iter().map(String::as_str)).map(|n| format!("did you mean `--filter {n}`?"));
            return Err(Diagnostics(vec![at(
                *first_line,
                first_text,
                Bad { hint, ..bad("filter", format!("no record has the filter `{f}`; the file's filters are {}", list(&filters))) },
            )]));
        }
        (None, [one]) => one.clone(),
        (None, _) => {
            let (line, text, _) = lines.iter().find(|(.., m)| filter_of(m) != filters[0]).unwrap_or(&lines[0]);
            return Err(Diagnostics(vec![at(
                *line,
                text,
                bad("filter", format!("the file scores each document under several filters ({}); benchcards reads one", list(&filters)))
                    .hint(format!("name one with `--filter {}`", filters[0])),
            )]));
        }
    };
    let metric = match (&pick.metric, metrics.as_slice()) {
        (Some(m), _) => m.clone(),
        (None, [one]) => one.clone(),
        (None, []) => {
            return Err(Diagnostics(vec![at(
                *first_line,
                first_text,
                bad("metrics", "no record lists its `metrics`").hint("name the metric to read with `--metric NAME`"),
            )]));
        }
        (None, [first, ..]) => {
            return Err(Diagnostics(vec![at(
                *first_line,
                first_text,
                bad("metrics", format!("the file has several metrics ({}); benchcards reads one", list(&metrics)))
                    .hint(format!("name one with `--metric {first}`")),
            )]));
        }
    };
    let grader = if filter == "none" { format!("lm-eval:{metric}") } else { format!("lm-eval:{metric}/{filter}") };
    let mut scores = Scores { grader, ..Scores::default() };
    let mut seen = HashMap::new();
    for (line, text, m) in lines.iter().filter(|(.., m)| filter_of(m) == filter) {
        if diags.0.len() >= MAX_PROBLEMS {
            break;
        }
        let read = lm_record(m, &metric, &metrics, &filter).and_then(|s| match s {
            Some(s) => match no_repeats(&mut seen, &s, *line, |l| format!("at line {l}")) {
                Ok(()) => Ok(Some(s)),
                Err(_) => Err(bad("doc_id", format!("document `{}` appears twice under the filter `{filter}`", s.id))),
            },
            None => Ok(None),
        });
        match read {
            Ok(Some(s)) => scores.samples.push(s),
            Ok(None) => scores.unscored += 1,
            Err(b) => diags.push(at(*line, text, b)),
        }
    }
    if diags.has_errors() { Err(diags) } else { Ok(scores) }
}

/// One lm-eval record's score by `metric`: none when its value is null.
fn lm_record(m: &serde_json::Map<String, Value>, metric: &str, metrics: &[String], filter: &str) -> Result<Option<Scored>, Bad> {
    let id = name_of(m.get("doc_id")).ok_or_else(|| bad("doc_id", "a record needs its `doc_id` (a number or text)"))?;
    let Some(value) = m.get(metric) else {
        let has: Vec<String> =
            m.get("metrics").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(|n| format!("`{n}`")).collect();
        let hint = nearest(metric, metrics.iter().map(String::as_str)).map(|n| format!("did you mean `--metric {n}`?"));
        let why = format!("document `{id}` (filter `{filter}`) has no `{metric}` (its metrics: {})", has.join(", "));
        return Err(Bad { hint, ..bad("metrics", why) });
    };
    let scored = |score| Some(Scored { id: id.clone(), epoch: 0, score });
    match read_score(value) {
        Ok(Reading::Score(s)) => Ok(scored(s)),
        Ok(Reading::NoAnswer) => Ok(scored(0.0)),
        Ok(Reading::Unscored) => Ok(None),
        Err(why) => {
            let hint = if value.is_array() {
                "this metric is computed over the whole corpus (a document's value is its part of the aggregate): choose a \
                 per-document metric such as `acc` or `exact_match`"
            } else {
                "choose a metric whose per-document value is 0–1"
            };
            Err(bad(metric, format!("document `{id}`, metric `{metric}`: {why}")).hint(hint))
        }
    }
}

/// The taxonomy conditions a results condition is composed of (`ID` or `ID+WITH+…`), or why a
/// part is none.
pub fn condition_parts<'a>(condition: &'a str, t: &Taxonomy) -> Result<Vec<&'a str>, String> {
    let parts: Vec<&str> = condition.split('+').map(str::trim).collect();
    for p in &parts {
        if t.condition(p).is_none() {
            let ids = t.conditions.iter().map(|c| format!("`{}`", c.id)).collect::<Vec<_>>().join(", ");
            let near = nearest(p, t.conditions.iter().map(|c| c.id.as_str())).map_or(String::new(), |n| format!("did you mean `{n}`? "));
            return Err(format!(
                "unknown condition `{p}`: {near}the conditions are {ids} (composed with `+`, e.g. `lay_rewrite+withheld`)"
            ));
        }
    }
    Ok(parts)
}

/// Natural order of sample ids: numbers by value, before texts.
fn id_order(id: &str) -> (u8, u128, &str) {
    match id.parse::<u128>() {
        Ok(n) => (0, n, ""),
        Err(_) => (1, 0, id),
    }
}

/// A log's scores as rows of the results form under `condition` (named `label`, if given),
/// with the model the log names (or `model`) and the condition's metadata from the taxonomy;
/// in order of sample id, then epoch.
pub fn to_rows(scores: &Scores, condition: &str, label: Option<&str>, model: Option<&str>, t: &Taxonomy) -> Result<Vec<ResultRow>, String> {
    let parts = condition_parts(condition, t)?;
    let meta = t.condition_meta(&parts);
    let name = label.unwrap_or(condition).to_string();
    let model = model.map(str::to_string).or_else(|| scores.model.clone());
    let mut samples: Vec<&Scored> = scores.samples.iter().collect();
    samples.sort_by(|a, b| id_order(&a.id).cmp(&id_order(&b.id)).then(a.epoch.cmp(&b.epoch)));
    Ok(samples
        .into_iter()
        .map(|s| ResultRow {
            unit: s.id.clone(),
            condition: name.clone(),
            score: s.score,
            pair: Some(s.id.clone()),
            replicate: Some(s.epoch.to_string()),
            model: model.clone(),
            grader: Some(scores.grader.clone()),
            unit_source: t.unit_source(&parts),
            relaxes: meta.relaxes.clone(),
            proxy: meta.proxy,
            ..Default::default()
        })
        .collect())
}

/// `benchcards results …`.
#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ResultsCommand {
    /// Read another harness's per-sample log (Inspect AI, lm-evaluation-harness) as a results
    /// file for `decompose`, under a condition named here.
    Import(HarnessArgs),
}

#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Args)]
pub struct HarnessArgs {
    /// The log: Inspect's JSON log or `.eval` archive, or lm-eval's `samples_TASK_DATE.jsonl`.
    pub file: std::path::PathBuf,
    #[arg(long, value_enum)]
    pub from: Harness,
    /// The condition the log was run under: a taxonomy condition id (`vignette`,
    /// `options_removed`, `patient_query`, …), or several joined with `+`.
    #[arg(long, value_parser = known_condition)]
    pub condition: String,
    /// The name the results give the condition (default: the condition itself).
    #[arg(long)]
    pub label: Option<String>,
    /// Inspect: the scorer whose values to read (needed when the log has several).
    #[arg(long)]
    pub scorer: Option<String>,
    /// lm-eval: the metric to read (needed when the records list several).
    #[arg(long)]
    pub metric: Option<String>,
    /// lm-eval: the filter whose records to read (needed when each document has several).
    #[arg(long)]
    pub filter: Option<String>,
    /// The model, for logs that do not name it (lm-eval's samples); overrides Inspect's.
    #[arg(long)]
    pub model: Option<String>,
    /// Inspect: what a sample scored `N` (no answer) counts as.
    #[arg(long, value_enum, default_value = "zero")]
    pub no_answer: NoAnswer,
    /// The results to write: CSV, or JSON Lines for `.jsonl`.
    #[arg(short, long)]
    pub output: std::path::PathBuf,
}

#[cfg(feature = "clap")]
fn known_condition(s: &str) -> Result<String, String> {
    condition_parts(s, benchcards_core::taxonomy()).map(|_| s.to_string())
}

/// Runs a `results` command: reads the log and writes the results; says what was written, or
/// shows the log's problems where they are.
#[cfg(feature = "clap")]
pub fn run(command: &ResultsCommand) -> Result<String, benchcards_core::results::FileProblems> {
    use benchcards_core::results::{FileProblems, is_jsonl, results_csv, results_jsonl};
    let ResultsCommand::Import(a) = command;
    let name = a.file.display().to_string();
    let problem = |message: String| FileProblems {
        name: name.clone(),
        text: None,
        diagnostics: Diagnostics(vec![Diagnostic::error(pos_of("", 0), message)]),
    };
    let misplaced = match a.from {
        Harness::Inspect => [("--metric", a.metric.is_some()), ("--filter", a.filter.is_some())],
        Harness::LmEval => [("--scorer", a.scorer.is_some()), ("--no-answer", a.no_answer != NoAnswer::Zero)],
    };
    if let Some((flag, _)) = misplaced.iter().find(|(_, given)| *given) {
        let (fits, from) = if a.from == Harness::Inspect { ("lm-eval's samples", "inspect") } else { ("Inspect logs", "lm-eval") };
        return Err(problem(format!("{flag} is for {fits}; this log is read with --from {from}")));
    }
    let mut bytes = Vec::new();
    let read = benchcards_core::document::open_data(&a.file).and_then(|mut r| {
        std::io::Read::read_to_end(&mut r, &mut bytes).map_err(|e| Diagnostic::error(pos_of("", 0), format!("cannot read file: {e}")))
    });
    read.map_err(|d| FileProblems::new(&a.file, None, Diagnostics(vec![d])))?;
    let pick = Pick { scorer: a.scorer.clone(), metric: a.metric.clone(), filter: a.filter.clone(), no_answer: a.no_answer };
    let scores = read_log(bytes, a.from, &pick).map_err(|p| FileProblems {
        name: p.entry.map_or_else(|| name.clone(), |e| format!("{name}:{e}")),
        text: p.text,
        diagnostics: p.diagnostics,
    })?;
    let rows = to_rows(&scores, &a.condition, a.label.as_deref(), a.model.as_deref(), benchcards_core::taxonomy()).map_err(problem)?;
    if rows.is_empty() {
        return Err(problem(format!("no sample of the log has a score by `{}`: nothing to write", scores.grader)));
    }
    let text = if is_jsonl(&a.output) { results_jsonl(&rows) } else { results_csv(&rows).map_err(problem)? };
    benchcards_core::document::write_atomic(&a.output, &text).map_err(problem)?;
    let units = rows.iter().map(|r| r.unit.as_str()).collect::<std::collections::HashSet<_>>().len();
    let mut said = format!(
        "wrote {} ({} row(s): {units} unit(s) under `{}`, graded by `{}`, model {})",
        a.output.display(),
        rows.len(),
        rows[0].condition,
        scores.grader,
        rows[0].model.as_deref().map_or("not named (give it with --model)".to_string(), |m| format!("`{m}`"))
    );
    let skipped = [
        (
            scores.no_answer,
            if a.no_answer == NoAnswer::Zero { "scored N (no answer), counted as 0" } else { "scored N (no answer), left out" },
        ),
        (scores.unscored, "unscored (NaN or null), left out"),
        (scores.errored, "ended in an error without scores, left out"),
    ];
    for (n, what) in skipped.iter().filter(|(n, _)| *n > 0) {
        said += &format!("; {n} sample(s) {what}");
    }
    if let Some(status) = &scores.status {
        said += &format!("; the log's status is `{status}`: it may not hold every sample");
    }
    Ok(said)
}

/// The version of the Every Eval Ever instance-level schema the records follow.
pub const EEE_SCHEMA_VERSION: &str = "0.3.0";

/// Python's `json.dumps(value, sort_keys=True, separators=(",", ":"))` of an object whose keys
/// are already in order: serde_json's compact text with every character past ASCII escaped.
fn python_json(value: &Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out += &format!("\\u{u:04x}");
            }
        }
    }
    out
}

/// Every Eval Ever's `sample_hash`: SHA-256 of `{"raw": …, "reference": […]}` as its adapters
/// compute it, so the same item hashes alike across harnesses.
fn sample_hash(raw: &str, reference: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let v = serde_json::json!({"raw": raw, "reference": reference});
    Sha256::digest(python_json(&v).as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A run's graded samples (by `grader`; with `faithful_only`, without the simulated
/// conversations that failed a fidelity check) as Every Eval Ever instance-level records, one
/// JSON object a line (schema 0.3.0, `instance_level_eval.schema.json` of the EvalEval
/// coalition's every_eval_ever package). Real people's answers (`human_study`) are not a
/// model's and are left out. Each record's `evaluation_id` names the run; no aggregate record
/// is written.
pub fn every_eval_ever(store: &Store, run: &str, grader: &str, faithful_only: bool) -> Result<String, String> {
    use crate::conditions::Message;
    let plan = crate::view::stored_plan(store, run)?.1;
    let dataset = crate::view::run_dataset(&plan)?;
    let t = benchcards_core::taxonomy();
    let grades: HashMap<String, f64> =
        store.grades(run).map_err(|e| e.to_string())?.into_iter().filter(|(_, g, ..)| g == grader).map(|(k, _, s, _)| (k, s)).collect();
    let exclude =
        if faithful_only { crate::fidelity::unfaithful_samples(store, run).map_err(|e| e.to_string())? } else { Default::default() };
    let mut out = String::new();
    for s in store.samples(run).map_err(|e| e.to_string())? {
        let Some(&score) = grades.get(&s.key) else { continue };
        if s.status != "done" || s.condition == "human_study" || exclude.contains(&s.key) {
            continue;
        }
        let spec = plan.conditions.iter().find(|c| c.name() == s.label);
        let shown_options = !spec.is_some_and(|c| c.has("options_removed"));
        let multi = t.condition(&s.condition).is_some_and(|c| c.interaction == "multi_turn");
        let item = dataset.item(&s.item);
        let messages: Vec<Message> = serde_json::from_str(&s.transcript).unwrap_or_default();
        let last_reply = messages.iter().rposition(|m| m.role == "assistant");
        let posed = &messages[..last_reply.unwrap_or(messages.len())];
        let reply = s.response.clone().or_else(|| last_reply.map(|i| messages[i].content.clone())).unwrap_or_default();
        let raw = match (multi, posed) {
            (true, _) => item.map(|i| i.vignette.clone()).or_else(|| messages.first().map(|m| m.content.clone())).unwrap_or_default(),
            (false, [one]) => one.content.clone(),
            (false, many) => many.iter().map(|m| format!("{}: {}", m.role, m.content)).collect::<Vec<_>>().join("\n\n"),
        };
        let gold = item.map(|i| i.gold.clone()).unwrap_or_default();
        let reference: Vec<String> = gold.answer.clone().into_iter().chain(gold.names()).chain(gold.disposition.clone()).collect();
        let mut input = serde_json::json!({"raw": raw, "reference": reference});
        if shown_options && !gold.options.is_empty() {
            input["choices"] = serde_json::json!(gold.options);
        }
        let model_id = plan.models.iter().find(|m| m.id == s.model).and_then(|m| m.model.clone()).unwrap_or_else(|| s.model.clone());
        let mut metadata = serde_json::json!({
            "benchcards_run": run, "plan": plan.id, "condition": s.label, "condition_id": s.condition,
            "unit": s.unit, "item": s.item, "epoch": s.epoch.to_string(), "model": s.model, "grader": grader,
        });
        if let Some(stratum) = item.and_then(|i| i.stratum.clone()) {
            metadata["stratum"] = stratum.into();
        }
        let (input_tokens, output_tokens) = (s.prompt_tokens.max(0), s.completion_tokens.max(0));
        let mut record = serde_json::json!({
            "schema_version": EEE_SCHEMA_VERSION,
            "evaluation_id": format!("benchcards/{}/{run}", plan.id),
            "model_id": model_id,
            "evaluation_name": format!("{}:{}", plan.id, s.label),
            "evaluation_result_id": format!("{run}:{}:{grader}", s.label),
            "sample_id": s.unit,
            "sample_hash": sample_hash(&raw, &reference),
            "interaction_type": if multi { "multi_turn" } else { "single_turn" },
            "input": input,
            "answer_attribution": [{
                "turn_idx": if multi { last_reply.unwrap_or(0) } else { 0 },
                "source": if multi { format!("messages[{}].content", last_reply.unwrap_or(0)) } else { "output.raw".into() },
                "extracted_value": reply,
                "extraction_method": grader,
                "is_terminal": true,
            }],
            "evaluation": {"score": score, "is_correct": score >= 1.0},
            "token_usage": {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens},
            "performance": {"latency_ms": s.latency_ms.max(0) as f64},
            "metadata": metadata,
        });
        if multi {
            let turns: Vec<Value> = messages
                .iter()
                .enumerate()
                .map(|(i, m)| serde_json::json!({"turn_idx": i, "role": m.role, "content": m.content}))
                .collect();
            record["evaluation"]["num_turns"] = serde_json::json!(turns.len().max(1));
            record["messages"] = Value::Array(turns);
            record["output"] = Value::Null;
        } else {
            record["output"] = serde_json::json!({"raw": [reply]});
            record["messages"] = Value::Null;
        }
        out += &record.to_string();
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn score_values_read_as_inspect_reads_them() {
        assert_eq!(read_score(&json!("C")), Ok(Reading::Score(1.0)));
        assert_eq!(read_score(&json!("I")), Ok(Reading::Score(0.0)));
        assert_eq!(read_score(&json!("P")), Ok(Reading::Score(0.5)));
        assert_eq!(read_score(&json!("N")), Ok(Reading::NoAnswer));
        assert_eq!(read_score(&json!(true)), Ok(Reading::Score(1.0)));
        assert_eq!(read_score(&json!(false)), Ok(Reading::Score(0.0)));
        assert_eq!(read_score(&json!(0.25)), Ok(Reading::Score(0.25)));
        assert_eq!(read_score(&json!(1)), Ok(Reading::Score(1.0)));
        assert_eq!(read_score(&json!("yes")), Ok(Reading::Score(1.0)));
        assert_eq!(read_score(&json!("0.75")), Ok(Reading::Score(0.75)));
        assert_eq!(read_score(&Value::Null), Ok(Reading::Unscored));
        assert!(read_score(&json!(3)).unwrap_err().contains("outside 0–1"));
        assert!(read_score(&json!(-0.5)).unwrap_err().contains("outside 0–1"));
        assert!(read_score(&json!("maybe")).unwrap_err().contains("`maybe` is no score"));
        assert!(read_score(&json!({"a": 1, "b": 0})).unwrap_err().contains("`a`, `b`"));
        assert!(read_score(&json!([1, 0])).is_err());
    }

    fn log(samples: &str) -> String {
        format!(
            "{{\n  \"eval\": {{\"task\": \"t\", \"model\": \"m/x\"}},\n  \"status\": \"success\",\n  \"samples\": [\n{samples}\n  ]\n}}"
        )
    }

    #[test]
    fn an_inspect_log_reads_its_epochs_and_skips_what_inspect_skips() {
        let text = log(concat!(
            "    {\"id\": \"a\", \"epoch\": 1, \"scores\": {\"match\": {\"value\": \"C\"}}},\n",
            "    {\"id\": \"a\", \"epoch\": 2, \"scores\": {\"match\": {\"value\": \"I\"}}},\n",
            "    {\"id\": 7, \"epoch\": 1, \"scores\": {\"match\": {\"value\": \"N\"}}},\n",
            "    {\"id\": \"c\", \"epoch\": 1, \"scores\": {\"match\": {\"value\": NaN}}},\n",
            "    {\"id\": \"d\", \"epoch\": 1, \"error\": {\"message\": \"timeout\"}}"
        ));
        let s = inspect_json(&text, &Pick::default()).unwrap();
        assert_eq!((s.grader.as_str(), s.model.as_deref(), s.status.as_deref()), ("inspect:match", Some("m/x"), None));
        let got: Vec<(&str, i64, f64)> = s.samples.iter().map(|x| (x.id.as_str(), x.epoch, x.score)).collect();
        assert_eq!(got, [("a", 1, 1.0), ("a", 2, 0.0), ("7", 1, 0.0)]);
        assert_eq!((s.no_answer, s.unscored, s.errored), (1, 1, 1));
        let skip = inspect_json(&text, &Pick { no_answer: NoAnswer::Skip, ..Pick::default() }).unwrap();
        assert_eq!((skip.samples.len(), skip.no_answer), (2, 1));
    }

    #[test]
    fn an_inspect_log_s_problems_are_at_their_line_and_field() {
        let text = log(concat!(
            "    {\"id\": \"a\", \"scores\": {\"match\": {\"value\": \"C\"}}},\n",
            "    {\"id\": \"b\", \"scores\": {\"match\": {\"value\": 4}}},\n",
            "    {\"id\": \"c\"}"
        ));
        let d = inspect_json(&text, &Pick::default()).unwrap_err();
        assert_eq!(d.0.len(), 2, "{d:?}");
        let line6 = text.lines().nth(5).unwrap();
        assert_eq!((d.0[0].line, d.0[0].column), (6, line6.find("\"value\"").unwrap() + 1), "{d:?}");
        assert!(d.0[0].message.contains("sample `b` (epoch 1), scorer `match`: the score 4 is outside 0–1"), "{d:?}");
        assert_eq!((d.0[1].line, d.0[1].message.contains("sample `c` (epoch 1) has no `scores`")), (7, true), "{d:?}");
        // Several scorers: one must be named.
        let two = log("    {\"id\": \"a\", \"scores\": {\"match\": {\"value\": 1}, \"judge\": {\"value\": {\"x\": 1}}}}");
        let d = inspect_json(&two, &Pick::default()).unwrap_err();
        assert!(d.0[0].message.contains("several scorers (`match`, `judge`)") && d.0[0].line == 5, "{d:?}");
        assert_eq!(d.0[0].suggestion.as_deref(), Some("name one with `--scorer match`"));
        let pick = |s: &str| Pick { scorer: Some(s.into()), ..Pick::default() };
        assert_eq!(inspect_json(&two, &pick("match")).unwrap().samples[0].score, 1.0);
        let d = inspect_json(&two, &pick("judge")).unwrap_err();
        assert!(d.0[0].message.contains("scorer `judge`: the value holds several scores (`x`)"), "{d:?}");
        assert!(d.0[0].suggestion.as_deref().is_some_and(|s| s.contains("--scorer match")), "{d:?}");
        let d = inspect_json(&two, &pick("mtach")).unwrap_err();
        assert_eq!(d.0[0].suggestion.as_deref(), Some("did you mean `--scorer match`?"));
        // A log cut short is shown where it ends.
        let d = inspect_json(&text[..text.len() / 2], &Pick::default()).unwrap_err();
        assert!(d.0[0].message.contains("EOF") && d.0[0].line > 1, "{d:?}");
        // A sample twice in the same epoch.
        let twice =
            log("    {\"id\": \"a\", \"scores\": {\"m\": {\"value\": 1}}},\n    {\"id\": \"a\", \"scores\": {\"m\": {\"value\": 0}}}");
        let d = inspect_json(&twice, &Pick::default()).unwrap_err();
        assert!(d.0[0].message.contains("appears twice (first at line 5)") && d.0[0].line == 6, "{d:?}");
    }

    #[test]
    fn nan_outside_strings_becomes_null() {
        assert_eq!(nan_as_null(r#"{"v": NaN, "t": "NaN \" NaN"}"#), r#"{"v": null, "t": "NaN \" NaN"}"#);
    }

    #[test]
    fn an_lm_eval_file_reads_one_metric_under_one_filter() {
        let text = concat!(
            "{\"doc_id\": 0, \"filter\": \"strict\", \"metrics\": [\"exact_match\"], \"exact_match\": 1.0}\n",
            "{\"doc_id\": 0, \"filter\": \"flex\", \"metrics\": [\"exact_match\"], \"exact_match\": 0.0}\n",
            "{\"doc_id\": 1, \"filter\": \"strict\", \"metrics\": [\"exact_match\"], \"exact_match\": 0.0}\n",
            "{\"doc_id\": 1, \"filter\": \"flex\", \"metrics\": [\"exact_match\"], \"exact_match\": 1.0}\n",
        );
        let d = lm_eval(text, &Pick::default()).unwrap_err();
        assert!(d.0[0].message.contains("several filters (`strict`, `flex`)") && d.0[0].line == 2, "{d:?}");
        let s = lm_eval(text, &Pick { filter: Some("flex".into()), ..Pick::default() }).unwrap();
        assert_eq!(s.grader, "lm-eval:exact_match/flex");
        assert_eq!(s.samples.iter().map(|x| x.score).collect::<Vec<_>>(), [0.0, 1.0]);
        let two = "{\"doc_id\": 0, \"filter\": \"none\", \"metrics\": [\"acc\", \"acc_norm\"], \"acc\": 1.0, \"acc_norm\": 0.0}\n";
        let d = lm_eval(two, &Pick::default()).unwrap_err();
        assert!(d.0[0].message.contains("several metrics (`acc`, `acc_norm`)"), "{d:?}");
        let s = lm_eval(two, &Pick { metric: Some("acc_norm".into()), ..Pick::default() }).unwrap();
        assert_eq!((s.grader.as_str(), s.samples[0].score), ("lm-eval:acc_norm", 0.0));
        let bleu =
            "{\"doc_id\": 0, \"metrics\": [\"acc\"], \"acc\": 1}\n{\"doc_id\": 1, \"metrics\": [\"bleu\"], \"bleu\": [\"a\", \"b\"]}\n";
        let d = lm_eval(bleu, &Pick { metric: Some("bleu".into()), ..Pick::default() }).unwrap_err();
        let line1 = bleu.lines().next().unwrap();
        assert_eq!((d.0[0].line, d.0[0].column), (1, line1.find("\"metrics\"").unwrap() + 1), "document 0 has no bleu: {d:?}");
        assert!(d.0[1].message.contains("document `1`, metric `bleu`: the value is a list") && d.0[1].line == 2, "{d:?}");
        let d = lm_eval("{\"doc_id\": 0, \"metrics\": [\"acc\"], \"acc\": 1}\n{\"doc_id\": 1, \"acc\n", &Pick::default()).unwrap_err();
        assert!(d.0[0].line == 2 && d.0[0].message.starts_with("invalid JSON"), "{d:?}");
    }

    #[test]
    fn an_unknown_condition_lists_the_known_ones() {
        let t = benchcards_core::taxonomy();
        assert_eq!(condition_parts("lay_rewrite+withheld", t).unwrap(), ["lay_rewrite", "withheld"]);
        let e = condition_parts("vignete", t).unwrap_err();
        assert!(e.contains("unknown condition `vignete`: did you mean `vignette`?") && e.contains("`options_removed`"), "{e}");
        let scores = Scores {
            samples: vec![Scored { id: "10".into(), epoch: 1, score: 1.0 }, Scored { id: "9".into(), epoch: 1, score: 0.0 }],
            grader: "inspect:m".into(),
            ..Scores::default()
        };
        let rows = to_rows(&scores, "options_removed", None, Some("x"), t).unwrap();
        assert_eq!(rows.iter().map(|r| r.unit.as_str()).collect::<Vec<_>>(), ["9", "10"], "ids in natural order");
        assert_eq!((rows[0].relaxes.clone(), rows[0].model.as_deref(), rows[0].proxy), (vec!["task_scope".to_string()], Some("x"), false));
    }

    #[test]
    fn the_sample_hash_is_the_one_python_computes() {
        // hashlib.sha256(json.dumps({"raw": "Fièvre?", "reference": ["a"]}, sort_keys=True,
        // separators=(",", ":")).encode()).hexdigest()
        assert_eq!(
            python_json(&json!({"raw": "Fièvre? 😷", "reference": ["a"]})),
            r#"{"raw":"Fi\u00e8vre? \ud83d\ude37","reference":["a"]}"#
        );
        assert_eq!(sample_hash("Fièvre?", &["a".to_string()]), "316071ee970f357df6b515469bb434af16262a2a8017468666ba91a78a3850fe");
    }
}
