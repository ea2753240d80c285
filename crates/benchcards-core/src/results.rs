//! Tabular data files — CSV with a header, or JSONL with one flat object per line — read with
//! positions, the results form of SPEC §4 (`unit, condition, score, pair, replicate,
//! cluster, stratum, weight`, names mappable) read from them and written back, the condition
//! metadata they state (`model, grader, unit_source, relaxes, proxy`), and a behavioural
//! study's graded rows.

use crate::diag::{Diagnostic, Diagnostics, Pos, nearest};
use crate::taxonomy::{Taxonomy, taxonomy};
use benchcards_stats::data::{Data, ResultRow, gather, relaxes};
use benchcards_stats::decompose::ConditionMeta;
use benchcards_stats::study::StudyCounts;
use serde_json::Value as Json;
use std::path::Path;

/// A table read from CSV or JSONL: column names, and rows of optional text values.
#[derive(Debug, Clone)]
pub struct Tabular {
    pub columns: Vec<String>,
    pub rows: Vec<TabRow>,
}

#[derive(Debug, Clone)]
pub struct TabRow {
    /// 1-based line of the row in the file.
    pub line: usize,
    pub values: Vec<Option<String>>,
    /// 1-based character column where each value starts (1 for JSONL).
    pub columns: Vec<usize>,
}

impl Tabular {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// A required column, or the one diagnostic every reader gives for a missing one: the
    /// columns there are, and (with the flag that maps it) the nearest column to map.
    pub fn require(&self, name: &str, flag: Option<&str>) -> Result<usize, Diagnostic> {
        self.column(name).ok_or_else(|| {
            Diagnostic::error(at(1, 1), format!("no column `{name}` (the columns are: {})", self.columns.join(", ")))
                .expected(format!("a `{name}` column"))
                .suggest(flag.map(|flag| {
                    let nearest = nearest(name, self.columns.iter().map(String::as_str));
                    format!("map it with `{flag} {}`", nearest.as_deref().unwrap_or("NAME"))
                }))
        })
    }
}

fn at(line: usize, column: usize) -> Pos {
    Pos { line, column, index: 0 }
}

/// Reads CSV (when `jsonl` is false) or JSONL text.
pub fn read_tabular(text: &str, jsonl: bool) -> Result<Tabular, Diagnostics> {
    if jsonl { read_jsonl(text) } else { read_csv(text) }
}

fn read_csv(text: &str) -> Result<Tabular, Diagnostics> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let columns: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
        Err(e) => return Err(Diagnostics(vec![Diagnostic::error(at(1, 1), format!("cannot read the CSV header: {e}"))])),
    };
    if columns.iter().all(|c| c.is_empty()) {
        return Err(Diagnostics(vec![Diagnostic::error(at(1, 1), "the file is empty").expected("a CSV header line naming the columns")]));
    }
    let mut rows = Vec::new();
    let mut diags = Diagnostics::default();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line() as usize);
                let start = r.position().map_or(0, |p| p.byte() as usize);
                let cols = field_columns(&text[start.min(text.len())..]);
                let values = r.iter().map(|v| if v.trim().is_empty() { None } else { Some(v.trim().to_string()) }).collect();
                rows.push(TabRow { line, values, columns: cols });
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!("this row has {len} fields; the header has {expected_len}")
                    }
                    csv::ErrorKind::Utf8 { .. } => "this row is not valid UTF-8".to_string(),
                    _ => format!("malformed CSV: {e}"),
                };
                diags.push(
                    Diagnostic::error(at(line, 1), message).suggest(Some("quote fields that contain commas, quotes or line breaks".into())),
                );
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(Tabular { columns, rows })
}

/// 1-based character columns where each comma-separated field of a record starts (quotes
/// respected; a record may continue over lines inside quotes, so the scan stops at the first
/// unquoted line end).
fn field_columns(record: &str) -> Vec<usize> {
    let mut cols = vec![1];
    let mut quoted = false;
    for (i, ch) in record.chars().enumerate() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => cols.push(i + 2),
            '\n' if !quoted => break,
            _ => {}
        }
    }
    cols
}

fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

fn read_jsonl(text: &str) -> Result<Tabular, Diagnostics> {
    let mut columns: Vec<String> = Vec::new();
    let mut objects = Vec::new();
    let mut diags = Diagnostics::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Json>(line) {
            Ok(Json::Object(map)) => {
                for k in map.keys() {
                    if !columns.contains(k) {
                        columns.push(k.clone());
                    }
                }
                objects.push((i + 1, map));
            }
            Ok(_) => diags.push(
                Diagnostic::error(at(i + 1, 1), "this line is not a JSON object")
                    .expected("one JSON object per line, e.g. {\"unit\": \"a\", ...}"),
            ),
            Err(e) => diags
                .push(Diagnostic::error(at(i + 1, e.column().max(1)), crate::diag::json_error(&e)).expected("one JSON object per line")),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    if objects.is_empty() {
        return Err(Diagnostics(vec![Diagnostic::error(at(1, 1), "the file is empty").expected("one JSON object per line")]));
    }
    let rows = objects
        .into_iter()
        .map(|(line, map)| TabRow {
            line,
            values: columns.iter().map(|c| map.get(c).and_then(scalar_text)).collect(),
            columns: vec![1; columns.len()],
        })
        .collect();
    Ok(Tabular { columns, rows })
}

/// Column names of the results form, each mappable by a flag (with the `clap` feature, these
/// are the flags).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct ResultColumns {
    #[cfg_attr(feature = "clap", arg(long = "unit-col", default_value = "unit"))]
    pub unit: String,
    #[cfg_attr(feature = "clap", arg(long = "condition-col", default_value = "condition"))]
    pub condition: String,
    #[cfg_attr(feature = "clap", arg(long = "score-col", default_value = "score"))]
    pub score: String,
    /// Pairing key: rows of different conditions with the same pair are paired (default: unit).
    #[cfg_attr(feature = "clap", arg(long = "pair-col", default_value = "pair"))]
    pub pair: String,
    #[cfg_attr(feature = "clap", arg(long = "replicate-col", default_value = "replicate"))]
    pub replicate: String,
    /// Cluster column; naming it selects the cluster bootstrap (whole clusters resampled) and
    /// makes it required. Unnamed, a `cluster` column is read when there is one.
    #[cfg_attr(feature = "clap", arg(long = "cluster-col"))]
    pub cluster: Option<String>,
    #[cfg_attr(feature = "clap", arg(long = "stratum-col", default_value = "stratum"))]
    pub stratum: String,
    #[cfg_attr(feature = "clap", arg(long = "weight-col", default_value = "weight"))]
    pub weight: String,
}

impl Default for ResultColumns {
    fn default() -> Self {
        ResultColumns {
            unit: "unit".into(),
            condition: "condition".into(),
            score: "score".into(),
            pair: "pair".into(),
            replicate: "replicate".into(),
            cluster: None,
            stratum: "stratum".into(),
            weight: "weight".into(),
        }
    }
}

impl ResultColumns {
    /// The cluster column read: the one named, else `cluster`.
    pub fn cluster_column(&self) -> &str {
        self.cluster.as_deref().unwrap_or("cluster")
    }
}

/// A row of the results form with the 1-based line it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub line: usize,
    pub row: ResultRow,
}

/// Reads the results form (its condition metadata is per condition: see [`condition_meta`]).
/// A cluster column named in `cols` must be there, with a value in every row (for the cluster
/// bootstrap). Every bad value is reported with its line and column.
pub fn read_results(t: &Tabular, cols: &ResultColumns) -> Result<Vec<Located>, Diagnostics> {
    let cluster_required = cols.cluster.is_some();
    let mut diags = Diagnostics::default();
    let idx = |name: &str, flag: &str, diags: &mut Diagnostics| match t.require(name, Some(flag)) {
        Ok(i) => Some(i),
        Err(d) => {
            diags.push(d);
            None
        }
    };
    let unit = idx(&cols.unit, "--unit-col", &mut diags);
    let condition = idx(&cols.condition, "--condition-col", &mut diags);
    let score = idx(&cols.score, "--score-col", &mut diags);
    let cluster = if cluster_required { idx(cols.cluster_column(), "--cluster-col", &mut diags) } else { t.column(cols.cluster_column()) };
    let (Some(unit), Some(condition), Some(score)) = (unit, condition, score) else {
        return Err(diags);
    };
    if diags.has_errors() {
        return Err(diags);
    }
    let (pair, replicate, stratum, weight) =
        (t.column(&cols.pair), t.column(&cols.replicate), t.column(&cols.stratum), t.column(&cols.weight));
    let mut out = Vec::with_capacity(t.rows.len());
    for row in &t.rows {
        let get = |i: Option<usize>| i.and_then(|i| row.values.get(i).cloned().flatten());
        let pos = |i: usize| at(row.line, row.columns.get(i).copied().unwrap_or(1));
        let (Some(u), Some(c)) = (get(Some(unit)), get(Some(condition))) else {
            let missing = if get(Some(unit)).is_none() { &cols.unit } else { &cols.condition };
            diags.push(
                Diagnostic::error(at(row.line, 1), format!("empty `{missing}`")).expected(format!("a value in every row's `{missing}`")),
            );
            continue;
        };
        let number = |i: usize, name: &str, diags: &mut Diagnostics| -> Option<f64> {
            let text = get(Some(i))?;
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => {
                    diags.push(
                        Diagnostic::error(pos(i), format!("`{name}` is `{text}`, not a number")).expected(format!("a number in `{name}`")),
                    );
                    None
                }
            }
        };
        let Some(s) = number(score, &cols.score, &mut diags) else {
            if get(Some(score)).is_none() {
                diags.push(Diagnostic::error(at(row.line, 1), format!("empty `{}`", cols.score)).expected("a score between 0 and 1"));
            }
            continue;
        };
        if !(0.0..=1.0).contains(&s) {
            diags.push(
                Diagnostic::error(pos(score), format!("score {s} is outside 0–1"))
                    .expected("a score between 0 and 1 (0/1 for right/wrong)"),
            );
            continue;
        }
        let w = match weight {
            Some(i) if get(Some(i)).is_some() => match number(i, &cols.weight, &mut diags) {
                Some(w) if w >= 0.0 => Some(w),
                Some(w) => {
                    diags.push(Diagnostic::error(pos(i), format!("weight {w} is negative")));
                    continue;
                }
                None => continue,
            },
            _ => None,
        };
        if cluster_required && get(cluster).is_none() {
            diags.push(
                Diagnostic::error(at(row.line, 1), format!("empty `{}`", cols.cluster_column()))
                    .expected("a cluster in every row for the cluster bootstrap"),
            );
            continue;
        }
        out.push(Located {
            line: row.line,
            row: ResultRow {
                unit: u,
                condition: c,
                score: s,
                pair: get(pair),
                replicate: get(replicate),
                cluster: get(cluster),
                stratum: get(stratum),
                weight: w,
                ..Default::default()
            },
        });
    }
    if diags.has_errors() { Err(diags) } else { Ok(out) }
}

/// Each condition's metadata, in the order of `conditions`: the taxonomy's for a condition of
/// the same id, then what the results table states in its own columns (when it has a `model`,
/// `grader` or `relaxes` column), then what `file` states (a condition metadata table, its
/// conditions in a `condition` column). A later value replaces an earlier one; an empty one
/// replaces nothing, except in `relaxes`. Every relaxed group must be a taxonomy group.
pub fn condition_meta(
    t: &Taxonomy,
    conditions: &[String],
    results: &Tabular,
    condition_col: &str,
    file: Option<&Tabular>,
) -> Result<Vec<ConditionMeta>, String> {
    let mut meta: Vec<ConditionMeta> = conditions.iter().map(|c| t.condition_meta(&[c.as_str()])).collect();
    let mut apply = |table: &Tabular, condition_col: &str| {
        let col = |n: &str| table.column(n);
        let Some(ci) = col(condition_col) else { return };
        for row in &table.rows {
            let get = |i: Option<usize>| i.and_then(|i| row.values.get(i).cloned().flatten());
            let Some(c) = get(Some(ci)).and_then(|c| conditions.iter().position(|x| *x == c)) else { continue };
            let m = &mut meta[c];
            if let Some(v) = get(col("model")) {
                m.model = Some(v);
            }
            if let Some(v) = get(col("grader")) {
                m.grader = Some(v);
            }
            if let Some(v) = get(col("unit_source")) {
                m.unit_source = Some(v);
            }
            if col("relaxes").is_some() {
                m.relaxes = get(col("relaxes")).map(|v| relaxes::split(&v)).unwrap_or_default();
            }
            if let Some(v) = get(col("proxy")) {
                m.proxy = v == "true" || v == "1";
            }
        }
    };
    if ["model", "relaxes", "grader"].iter().any(|c| results.column(c).is_some()) {
        apply(results, condition_col);
    }
    if let Some(file) = file {
        apply(file, "condition");
    }
    for (c, m) in meta.iter().enumerate() {
        if let Some(g) = m.relaxes.iter().find(|g| t.group(g).is_none()) {
            return Err(format!(
                "condition `{}` relaxes unknown group `{g}` (groups: {})",
                conditions[c],
                t.groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(meta)
}

/// A data file's problems: its name, its text when it could be read, and where each one is.
#[derive(Debug)]
pub struct FileProblems {
    pub name: String,
    pub text: Option<String>,
    pub diagnostics: Diagnostics,
}

impl FileProblems {
    pub fn new(path: &Path, text: Option<&str>, diagnostics: Diagnostics) -> Self {
        FileProblems { name: path.display().to_string(), text: text.map(str::to_string), diagnostics }
    }
}

/// Whether a data file is JSON Lines (by its extension); otherwise it is read as CSV.
pub fn is_jsonl(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("jsonl" | "ndjson"))
}

/// Reads a data file as a table (JSONL or CSV by its extension), with the file's text.
pub fn read_table_file(path: &Path) -> Result<(Tabular, String), FileProblems> {
    let text = crate::document::read_data(path).map_err(|d| FileProblems::new(path, None, Diagnostics(vec![d])))?;
    match read_tabular(&text, is_jsonl(path)) {
        Ok(t) => Ok((t, text)),
        Err(d) => Err(FileProblems::new(path, Some(&text), d)),
    }
}

/// A results file ready for the statistics: its rows gathered into units, and each condition's
/// metadata (in the order of `data.conditions`).
#[derive(Debug, Clone)]
pub struct ResultsData {
    pub data: Data,
    pub meta: Vec<ConditionMeta>,
}

/// Why a results file cannot be used.
#[derive(Debug)]
pub enum ResultsError {
    /// Problems in the results file or the condition metadata file, where they are.
    File(FileProblems),
    /// Condition metadata the taxonomy does not allow (a relaxed group it lacks).
    Meta(String),
}

/// Reads a results file for the statistics: the results form (`cols`), gathered into units (a unit in two strata or clusters is an error at
/// its row), and each condition's metadata from the taxonomy, the file's own columns and
/// `meta_file`, a table with a `condition` column ([`condition_meta`]).
pub fn read_results_file(path: &Path, cols: &ResultColumns, meta_file: Option<&Path>) -> Result<ResultsData, ResultsError> {
    let (table, text) = read_table_file(path).map_err(ResultsError::File)?;
    let problems = |d| ResultsError::File(FileProblems::new(path, Some(&text), d));
    let located = read_results(&table, cols).map_err(problems)?;
    let (lines, rows): (Vec<usize>, Vec<ResultRow>) = located.into_iter().map(|l| (l.line, l.row)).unzip();
    let data = gather(&rows).map_err(|e| {
        let line = lines.get(e.row).copied().unwrap_or(1);
        problems(Diagnostics(vec![Diagnostic::error(at(line, 1), e.message)]))
    })?;
    let file = match meta_file {
        Some(p) => {
            let (meta, meta_text) = read_table_file(p).map_err(ResultsError::File)?;
            if meta.column("condition").is_none() {
                let d = Diagnostic::error(at(1, 1), "no `condition` column")
                    .expected("columns condition, model, grader, unit_source, relaxes, proxy");
                return Err(ResultsError::File(FileProblems::new(p, Some(&meta_text), Diagnostics(vec![d]))));
            }
            Some(meta)
        }
        None => None,
    };
    let meta = condition_meta(taxonomy(), &data.conditions, &table, &cols.condition, file.as_ref()).map_err(ResultsError::Meta)?;
    Ok(ResultsData { data, meta })
}

/// The results form as CSV, one row per line after the header, as `runs export` writes it.
pub fn results_csv(rows: &[ResultRow]) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| e.to_string())?;
    }
    Ok(String::from_utf8_lossy(&w.into_inner().map_err(|e| e.to_string())?).to_string())
}

/// Rows of text as CSV under `header`.
pub fn csv_text(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(|e| e.to_string())?;
    for r in rows {
        w.write_record(&r).map_err(|e| e.to_string())?;
    }
    Ok(String::from_utf8_lossy(&w.into_inner().map_err(|e| e.to_string())?).to_string())
}

/// The results form as JSON Lines.
pub fn results_jsonl(rows: &[ResultRow]) -> String {
    rows.iter().map(|r| serde_json::to_string(r).unwrap_or_default() + "\n").collect()
}

/// Column names of a behavioural study's rows: one per participant × scenario, in an arm, with
/// a graded 0/1 score.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct StudyColumns {
    #[cfg_attr(feature = "clap", arg(long = "participant-col", default_value = "participant"))]
    pub participant: String,
    #[cfg_attr(feature = "clap", arg(long = "arm-col", default_value = "arm"))]
    pub arm: String,
    #[cfg_attr(feature = "clap", arg(long = "scenario-col", default_value = "scenario"))]
    pub scenario: String,
    #[cfg_attr(feature = "clap", arg(long = "score-col", default_value = "score"))]
    pub score: String,
}

/// Reads a behavioural study's rows into counts per arm and scenario. A missing column is an
/// error naming the flag that maps it; a row without an arm, scenario or score, or with a score
/// other than 0 or 1, is an error at its line.
pub fn read_study(t: &Tabular, cols: &StudyColumns) -> Result<StudyCounts, Diagnostics> {
    let names = [&cols.participant, &cols.arm, &cols.scenario, &cols.score];
    let mut idx = Vec::new();
    for (c, flag) in names.into_iter().zip(["--participant-col", "--arm-col", "--scenario-col", "--score-col"]) {
        idx.push(t.require(c, Some(flag)).map_err(|d| Diagnostics(vec![d]))?);
    }
    let mut counts = StudyCounts::default();
    let mut diags = Diagnostics::default();
    for row in &t.rows {
        let get = |i: usize| row.values.get(i).cloned().flatten();
        let (Some(arm), Some(scenario), Some(score)) = (get(idx[1]), get(idx[2]), get(idx[3])) else {
            diags.push(Diagnostic::error(at(row.line, 1), "a row without arm, scenario or score"));
            continue;
        };
        match score.parse::<f64>() {
            Ok(s) if s == 0.0 || s == 1.0 => counts.add(arm, scenario, s == 1.0),
            _ => diags.push(
                Diagnostic::error(at(row.line, row.columns.get(idx[3]).copied().unwrap_or(1)), format!("score `{score}` is not 0 or 1"))
                    .expected("a graded score, 0 or 1"),
            ),
        }
    }
    if diags.has_errors() { Err(diags) } else { Ok(counts) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_positions_and_errors() {
        let text = "unit,condition,score\na,x,1\nb,x,maybe\nc,x,1.5\n";
        let t = read_tabular(text, false).unwrap();
        let e = read_results(&t, &ResultColumns::default()).unwrap_err();
        let got: Vec<(usize, usize, String)> = e.0.iter().map(|d| (d.line, d.column, d.message.clone())).collect();
        assert_eq!(got[0], (3, 5, "`score` is `maybe`, not a number".to_string()));
        assert_eq!((got[1].0, got[1].1), (4, 5));
        assert!(got[1].2.contains("outside 0–1"));
    }

    #[test]
    fn missing_column_suggests_mapping() {
        let t = read_tabular("item,condition,score\na,x,1\n", false).unwrap();
        let e = read_results(&t, &ResultColumns::default()).unwrap_err();
        assert!(e.0[0].message.contains("no column `unit`"));
        let t = read_tabular("units,condition,score\na,x,1\n", false).unwrap();
        let e = read_results(&t, &ResultColumns::default()).unwrap_err();
        assert_eq!(e.0[0].suggestion.as_deref(), Some("map it with `--unit-col units`"));
    }

    #[test]
    fn condition_metadata_taxonomy_then_results_then_file() {
        let t = crate::taxonomy();
        let conditions = ["vignette", "patient_decision", "mine"].map(String::from);
        let results =
            read_tabular("unit,condition,score,model,proxy\na,vignette,1,m1,\na,patient_decision,0,,\na,mine,1,m2,true\n", false).unwrap();
        let file = read_tabular("condition,relaxes,grader\nmine,query_authorship;interaction_type,g\n", false).unwrap();
        let meta = condition_meta(t, &conditions, &results, "condition", Some(&file)).unwrap();
        assert_eq!((meta[0].model.as_deref(), meta[0].relaxes.len()), (Some("m1"), 0));
        assert!(meta[1].proxy, "an empty proxy cell keeps the taxonomy's");
        assert_eq!(meta[1].relaxes, ["decision_mediation"]);
        assert_eq!((meta[2].model.as_deref(), meta[2].grader.as_deref(), meta[2].proxy), (Some("m2"), Some("g"), true));
        assert_eq!(meta[2].relaxes, ["query_authorship", "interaction_type"]);
        let bad = read_tabular("condition,relaxes\nmine,nonsense\n", false).unwrap();
        let e = condition_meta(t, &conditions, &results, "condition", Some(&bad)).unwrap_err();
        assert!(e.starts_with("condition `mine` relaxes unknown group `nonsense`"), "{e}");
    }

    #[test]
    fn jsonl_and_ragged_csv() {
        let t = read_tabular("{\"unit\": \"a\", \"condition\": \"x\", \"score\": 1}\n{\"unit\": \"b\", \"condition\": \"x\", \"score\": 0, \"stratum\": \"s\"}\n", true).unwrap();
        let r = read_results(&t, &ResultColumns::default()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].row.stratum.as_deref(), Some("s"));
        let e = read_tabular("{\"unit\": \"a\"}\n{oops\n", true).unwrap_err();
        assert_eq!(e.0[0].line, 2);
        let e = read_tabular("a,b\n1,2\n1,2,3\n", false).unwrap_err();
        assert_eq!(e.0[0].line, 3);
        assert!(e.0[0].message.contains("3 fields; the header has 2"), "{}", e.0[0].message);
    }

    #[test]
    fn study_rows_counted_and_bad_rows_pointed_at() {
        let cols = StudyColumns { participant: "p".into(), arm: "arm".into(), scenario: "scenario".into(), score: "score".into() };
        let t = read_tabular("p,arm,scenario,score\n1,llm,a,1\n2,llm,a,0\n3,control,a,1\n", false).unwrap();
        let a = read_study(&t, &cols).unwrap().analyze("control", 0.95).unwrap();
        let llm = a.arms.iter().find(|r| r.arm == "llm").unwrap();
        assert_eq!((llm.x, llm.n), (1.0, 2.0));
        let t = read_tabular("p,arm,scenario,score\n1,llm,,1\n2,llm,a,0.5\n", false).unwrap();
        let e = read_study(&t, &cols).unwrap_err();
        assert_eq!((e.0[0].line, e.0[0].column), (2, 1));
        assert_eq!((e.0[1].line, e.0[1].column, e.0[1].message.as_str()), (3, 9, "score `0.5` is not 0 or 1"));
        let t = read_tabular("p,arm,scenarios,score\n", false).unwrap();
        let e = read_study(&t, &cols).unwrap_err();
        assert_eq!(e.0[0].suggestion.as_deref(), Some("map it with `--scenario-col scenarios`"));
    }

    #[test]
    fn csv_text_quotes_what_needs_it() {
        let text = csv_text(&["a", "b"], [vec!["1".to_string(), "x, y".to_string()]]).unwrap();
        assert_eq!(text, "a,b\n1,\"x, y\"\n");
    }
}
