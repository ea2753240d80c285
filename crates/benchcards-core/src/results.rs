//! Tabular data files — CSV with a header, or JSONL with one flat object per line — read with
//! positions, the results form of SPEC §4 (`unit, condition, score, pair, replicate,
//! cluster, stratum, weight`, names mappable) read from them and written back, the condition
//! metadata they state (`model, grader, unit_source, relaxes, proxy`), and a behavioural
//! study's graded rows.

use crate::Profile;
use crate::diag::{Diagnostic, Diagnostics, Pos, nearest};
use crate::taxonomy::{Taxonomy, taxonomy};
use benchcards_stats::data::{Data, Gatherer, ResultRow, Weights, relaxes};
use benchcards_stats::decompose::{ConditionMeta, DecomposeSpec, Decomposition, decompose};
use benchcards_stats::study::StudyCounts;
use serde_json::{Map, Value as Json};
use std::io::{BufRead, Read};
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

/// The CSV reader of every CSV data file: a header, then records of as many fields.
fn csv_reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new().flexible(false).from_reader(input)
}

/// A CSV file's column names (trimmed), or why it has none.
fn csv_header<R: Read>(reader: &mut csv::Reader<R>) -> Result<Vec<String>, Diagnostic> {
    let columns: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
        Err(e) => return Err(Diagnostic::error(at(1, 1), format!("cannot read the CSV header: {e}"))),
    };
    if columns.iter().all(|c| c.is_empty()) {
        return Err(Diagnostic::error(at(1, 1), "the file is empty").expected("a CSV header line naming the columns"));
    }
    Ok(columns)
}

/// A CSV record as a row: each value trimmed, an empty one `None`; `columns` says where each
/// starts.
fn csv_row(record: &csv::StringRecord, columns: Vec<usize>) -> TabRow {
    let line = record.position().map_or(0, |p| p.line() as usize);
    let values = record.iter().map(|v| Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_string)).collect();
    TabRow { line, values, columns }
}

fn read_csv(text: &str) -> Result<Tabular, Diagnostics> {
    let mut reader = csv_reader(text.as_bytes());
    let columns = csv_header(&mut reader).map_err(|d| Diagnostics(vec![d]))?;
    let mut rows = Vec::new();
    let mut diags = Diagnostics::default();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let start = r.position().map_or(0, |p| p.byte() as usize);
                rows.push(csv_row(&r, field_columns(&text[start.min(text.len())..])));
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

/// The object on a (non-blank) line of a JSONL file, or why there is none.
fn json_object(text: &str, line: usize) -> Result<Map<String, Json>, Diagnostic> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(Diagnostic::error(at(line, 1), "this line is not a JSON object")
            .expected("one JSON object per line, e.g. {\"unit\": \"a\", ...}")),
        Err(e) => Err(Diagnostic::error(at(line, e.column().max(1)), crate::diag::json_error(&e)).expected("one JSON object per line")),
    }
}

/// Adds the keys of a line's object that are not yet among `columns`: a JSONL file's columns
/// are the keys of all its lines, in the order first seen.
fn add_keys(columns: &mut Vec<String>, map: &Map<String, Json>) {
    for k in map.keys() {
        if !columns.contains(k) {
            columns.push(k.clone());
        }
    }
}

/// A line's object as a row of `columns`' values.
fn object_row(line: usize, columns: &[String], map: &Map<String, Json>) -> TabRow {
    TabRow { line, values: columns.iter().map(|c| map.get(c).and_then(scalar_text)).collect(), columns: vec![1; columns.len()] }
}

fn read_jsonl(text: &str) -> Result<Tabular, Diagnostics> {
    let mut columns: Vec<String> = Vec::new();
    let mut objects = Vec::new();
    let mut diags = Diagnostics::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match json_object(line, i + 1) {
            Ok(map) => {
                add_keys(&mut columns, &map);
                objects.push((i + 1, map));
            }
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    if objects.is_empty() {
        return Err(Diagnostics(vec![Diagnostic::error(at(1, 1), "the file is empty").expected("one JSON object per line")]));
    }
    let rows = objects.into_iter().map(|(line, map)| object_row(line, &columns, &map)).collect();
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

/// Where the results form's columns are among a table's columns.
struct ResultIndex {
    unit: usize,
    condition: usize,
    score: usize,
    pair: Option<usize>,
    replicate: Option<usize>,
    cluster: Option<usize>,
    stratum: Option<usize>,
    weight: Option<usize>,
}

impl ResultIndex {
    /// Finds `cols` among `t`'s columns. A missing unit, condition or score column, or a
    /// cluster column named in `cols`, is an error naming the flag that maps it.
    fn new(t: &Tabular, cols: &ResultColumns) -> Result<Self, Diagnostics> {
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
        let cluster =
            if cols.cluster.is_some() { idx(cols.cluster_column(), "--cluster-col", &mut diags) } else { t.column(cols.cluster_column()) };
        match (unit, condition, score) {
            (Some(unit), Some(condition), Some(score)) if !diags.has_errors() => Ok(ResultIndex {
                unit,
                condition,
                score,
                pair: t.column(&cols.pair),
                replicate: t.column(&cols.replicate),
                cluster,
                stratum: t.column(&cols.stratum),
                weight: t.column(&cols.weight),
            }),
            _ => Err(diags),
        }
    }
}

/// One row of the results form, or its problems (each at its line and column) added to `diags`:
/// the one reading of a row, for a table in memory and for a file read as a stream.
fn result_row(row: &TabRow, ix: &ResultIndex, cols: &ResultColumns, diags: &mut Diagnostics) -> Option<ResultRow> {
    let get = |i: Option<usize>| i.and_then(|i| row.values.get(i).cloned().flatten());
    let pos = |i: usize| at(row.line, row.columns.get(i).copied().unwrap_or(1));
    let (Some(u), Some(c)) = (get(Some(ix.unit)), get(Some(ix.condition))) else {
        let missing = if get(Some(ix.unit)).is_none() { &cols.unit } else { &cols.condition };
        diags
            .push(Diagnostic::error(at(row.line, 1), format!("empty `{missing}`")).expected(format!("a value in every row's `{missing}`")));
        return None;
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
    let Some(s) = number(ix.score, &cols.score, diags) else {
        if get(Some(ix.score)).is_none() {
            diags.push(Diagnostic::error(at(row.line, 1), format!("empty `{}`", cols.score)).expected("a score between 0 and 1"));
        }
        return None;
    };
    if !(0.0..=1.0).contains(&s) {
        diags.push(
            Diagnostic::error(pos(ix.score), format!("score {s} is outside 0–1")).expected("a score between 0 and 1 (0/1 for right/wrong)"),
        );
        return None;
    }
    let w = match ix.weight {
        Some(i) if get(Some(i)).is_some() => match number(i, &cols.weight, diags)? {
            w if w >= 0.0 => Some(w),
            w => {
                diags.push(Diagnostic::error(pos(i), format!("weight {w} is negative")));
                return None;
            }
        },
        _ => None,
    };
    if cols.cluster.is_some() && get(ix.cluster).is_none() {
        diags.push(
            Diagnostic::error(at(row.line, 1), format!("empty `{}`", cols.cluster_column()))
                .expected("a cluster in every row for the cluster bootstrap"),
        );
        return None;
    }
    Some(ResultRow {
        unit: u,
        condition: c,
        score: s,
        pair: get(ix.pair),
        replicate: get(ix.replicate),
        cluster: get(ix.cluster),
        stratum: get(ix.stratum),
        weight: w,
        ..Default::default()
    })
}

/// Reads the results form (its condition metadata is per condition: see [`condition_meta`]).
/// A cluster column named in `cols` must be there, with a value in every row (for the cluster
/// bootstrap). Every bad value is reported with its line and column.
pub fn read_results(t: &Tabular, cols: &ResultColumns) -> Result<Vec<Located>, Diagnostics> {
    let ix = ResultIndex::new(t, cols)?;
    let mut diags = Diagnostics::default();
    let mut out = Vec::with_capacity(t.rows.len());
    for row in &t.rows {
        if let Some(r) = result_row(row, &ix, cols, &mut diags) {
            out.push(Located { line: row.line, row: r });
        }
    }
    if diags.has_errors() { Err(diags) } else { Ok(out) }
}

/// The columns a table may state its conditions' metadata in.
const META_COLUMNS: [&str; 5] = ["model", "grader", "unit_source", "relaxes", "proxy"];
/// `relaxes` among [`META_COLUMNS`]: a row without a value relaxes nothing.
const RELAXES: usize = 3;

/// The condition metadata a table states in its own columns ([`META_COLUMNS`]), noted row by
/// row as the table is read: for each condition, the last value of each column that was not
/// empty, and the last row's `relaxes`, empty or not.
#[derive(Debug)]
pub struct StatedMeta {
    /// The columns of the conditions and of each of [`META_COLUMNS`].
    condition: Option<usize>,
    at: [Option<usize>; 5],
    /// Which metadata columns the table has.
    present: [bool; 5],
    /// The conditions in the order first seen, each with its values in the metadata columns.
    stated: Vec<(String, [Option<String>; 5])>,
}

impl StatedMeta {
    /// For a table with `columns`, its conditions named in `condition_col`.
    fn new(columns: &[String], condition_col: &str) -> Self {
        let find = |name: &str| columns.iter().position(|c| c == name);
        let at = META_COLUMNS.map(find);
        StatedMeta { condition: find(condition_col), at, present: at.map(|i| i.is_some()), stated: Vec::new() }
    }

    /// What a table in memory states.
    pub fn of_table(t: &Tabular, condition_col: &str) -> Self {
        let mut stated = StatedMeta::new(&t.columns, condition_col);
        for row in &t.rows {
            stated.note(row);
        }
        stated
    }

    /// Notes what one row states.
    fn note(&mut self, row: &TabRow) {
        let get = |i: Option<usize>| i.and_then(|i| row.values.get(i)?.as_deref());
        let Some(condition) = get(self.condition) else { return };
        let slot = match self.stated.iter().position(|(c, _)| c == condition) {
            Some(slot) => slot,
            None => {
                self.stated.push((condition.to_string(), Default::default()));
                self.stated.len() - 1
            }
        };
        for (f, held) in self.stated[slot].1.iter_mut().enumerate() {
            let value = get(self.at[f]);
            if (value.is_some() || f == RELAXES) && held.as_deref() != value {
                *held = value.map(str::to_string);
            }
        }
    }

    /// The metadata columns the table has among `columns`, when they are known only once it has
    /// been read (a JSONL file's columns are the keys of all its lines).
    fn present_in(&mut self, columns: &[String]) {
        self.present = META_COLUMNS.map(|name| columns.iter().any(|c| c == name));
    }

    /// Whether the table has a `model`, `grader` or `relaxes` column, without which a results
    /// table's metadata columns are not read.
    fn states_metadata(&self) -> bool {
        self.present[0] || self.present[1] || self.present[RELAXES]
    }

    /// Sets what was stated on the metadata of `conditions` (`meta`, in the same order); a
    /// condition not among them is passed over.
    fn apply(&self, conditions: &[String], meta: &mut [ConditionMeta]) {
        for (condition, [model, grader, unit_source, relaxed, proxy]) in &self.stated {
            let Some(m) = conditions.iter().position(|c| c == condition).and_then(|i| meta.get_mut(i)) else { continue };
            if let Some(v) = model {
                m.model = Some(v.clone());
            }
            if let Some(v) = grader {
                m.grader = Some(v.clone());
            }
            if let Some(v) = unit_source {
                m.unit_source = Some(v.clone());
            }
            if self.present[RELAXES] {
                m.relaxes = relaxed.as_deref().map(relaxes::split).unwrap_or_default();
            }
            if let Some(v) = proxy {
                m.proxy = v == "true" || v == "1";
            }
        }
    }
}

/// Each condition's metadata, in the order of `conditions`: what the results table states in its
/// own columns (when it has a `model`, `grader` or `relaxes` column), then what a condition
/// metadata table states (`file`, its conditions in a `condition` column). A later value
/// replaces an earlier one; an empty one replaces nothing, except in `relaxes`. Nothing is
/// guessed from a condition's name: what neither states stays unknown. Every relaxed group must
/// be a taxonomy group.
pub fn condition_meta(
    t: &Taxonomy,
    conditions: &[String],
    results: &StatedMeta,
    file: Option<&StatedMeta>,
) -> Result<Vec<ConditionMeta>, String> {
    let mut meta = vec![ConditionMeta::default(); conditions.len()];
    if results.states_metadata() {
        results.apply(conditions, &mut meta);
    }
    if let Some(file) = file {
        file.apply(conditions, &mut meta);
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
#[derive(Debug, Clone, PartialEq)]
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

/// Reads a results file for the statistics: the results form (`cols`), gathered into units (a
/// unit in two strata or clusters is an error at its row), and each condition's metadata from
/// the taxonomy, the file's own columns and `meta_file`, a table with a `condition` column
/// ([`condition_meta`]). The file is read as a stream, its rows gathered as they come, so memory
/// grows with its units, not its rows; at any problem it is read again whole, for the problems'
/// lines, columns and text.
pub fn read_results_file(path: &Path, cols: &ResultColumns, meta_file: Option<&Path>) -> Result<ResultsData, ResultsError> {
    let (data, stated) = match stream_results(path, cols) {
        Some(read) => read,
        None => read_whole(path, cols)?,
    };
    let file = match meta_file {
        Some(p) => {
            let (meta, meta_text) = read_table_file(p).map_err(ResultsError::File)?;
            if meta.column("condition").is_none() {
                let d = Diagnostic::error(at(1, 1), "no `condition` column")
                    .expected("columns condition, model, grader, unit_source, relaxes, proxy");
                return Err(ResultsError::File(FileProblems::new(p, Some(&meta_text), Diagnostics(vec![d]))));
            }
            Some(StatedMeta::of_table(&meta, "condition"))
        }
        None => None,
    };
    let meta = condition_meta(taxonomy(), &data.conditions, &stated, file.as_ref()).map_err(ResultsError::Meta)?;
    Ok(ResultsData { data, meta })
}

impl ResultsData {
    /// The defaults of a decomposition of these results along `path` (conditions by name).
    pub fn spec(&self, path: &[String]) -> DecomposeSpec {
        DecomposeSpec::new(path.to_vec(), self.meta.clone(), taxonomy().outcome_groups())
    }

    /// Runs `spec` on these results. A deployment profile's `case_mix` (`case_mix`, named
    /// `name` in errors) standardises every score, and gives the stratum weights when `spec`
    /// asks for case-mix weights; without one scores are standardised to equal strata.
    pub fn decompose(&self, mut spec: DecomposeSpec, case_mix: Option<(&str, &Profile)>) -> Result<Decomposition, String> {
        let mix = match case_mix {
            Some((name, p)) if p.case_mix.is_empty() => return Err(format!("{name} has no `case_mix`")),
            Some((_, p)) => Some(Weights::CaseMix(p.case_mix.iter().map(|(k, v)| (k.clone(), *v)).collect())),
            None => None,
        };
        if let Weights::CaseMix(_) = spec.weights {
            spec.weights = mix.clone().ok_or("case-mix weights need a deployment profile with a `case_mix` (--case-mix PROFILE)")?;
        }
        spec.standardise_with = mix.unwrap_or(Weights::Equal);
        decompose(&self.data, &spec)
    }
}

/// A results file read whole into memory, then gathered, with every problem where it is.
fn read_whole(path: &Path, cols: &ResultColumns) -> Result<(Data, StatedMeta), ResultsError> {
    let (table, text) = read_table_file(path).map_err(ResultsError::File)?;
    let problems = |d| ResultsError::File(FileProblems::new(path, Some(&text), d));
    let located = read_results(&table, cols).map_err(problems)?;
    let mut units = Gatherer::default();
    let data = located.iter().try_for_each(|l| units.push(&l.row)).and_then(|()| units.finish()).map_err(|e| {
        let line = located.get(e.row).map_or(1, |l| l.line);
        problems(Diagnostics(vec![Diagnostic::error(at(line, 1), e.message)]))
    })?;
    Ok((data, StatedMeta::of_table(&table, &cols.condition)))
}

/// A results file's rows taken one at a time as the file is read: each read as the results form,
/// gathered into its unit and its condition metadata noted; none is kept.
struct Stream<'a> {
    cols: &'a ResultColumns,
    ix: ResultIndex,
    units: Gatherer,
    stated: StatedMeta,
}

impl<'a> Stream<'a> {
    /// For a file with `t`'s columns; `None` when one the results form needs is missing.
    fn new(t: &Tabular, cols: &'a ResultColumns) -> Option<Self> {
        let ix = ResultIndex::new(t, cols).ok()?;
        Some(Stream { cols, ix, units: Gatherer::default(), stated: StatedMeta::new(&t.columns, &cols.condition) })
    }

    /// Takes one row; `None` when it has a problem.
    fn take(&mut self, row: &TabRow) -> Option<()> {
        let r = result_row(row, &self.ix, self.cols, &mut Diagnostics::default())?;
        self.units.push(&r).ok()?;
        self.stated.note(row);
        Some(())
    }

    /// The units and what the file states of its conditions; `None` when no row was taken.
    fn finish(self) -> Option<(Data, StatedMeta)> {
        Some((self.units.finish().ok()?, self.stated))
    }
}

/// Reads a results file as a stream ([`Stream`]): the units and what the file states of its
/// conditions, or `None` at the first problem of any kind.
fn stream_results(path: &Path, cols: &ResultColumns) -> Option<(Data, StatedMeta)> {
    let input = crate::document::open_data(path).ok()?;
    if is_jsonl(path) { stream_jsonl(input, cols) } else { stream_csv(input, cols) }
}

/// Reads a CSV results file record by record. Its rows have no field positions: a problem is
/// shown from the file read whole.
fn stream_csv(input: impl Read, cols: &ResultColumns) -> Option<(Data, StatedMeta)> {
    let mut reader = csv_reader(input);
    let t = Tabular { columns: csv_header(&mut reader).ok()?, rows: Vec::new() };
    let mut stream = Stream::new(&t, cols)?;
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).ok()? {
        stream.take(&csv_row(&record, Vec::new()))?;
    }
    stream.finish()
}

/// Reads a JSONL results file line by line. A JSONL file's columns are the keys of all its lines,
/// known only at its end, so each line's values are looked up by the names of the columns read.
fn stream_jsonl(mut input: impl BufRead, cols: &ResultColumns) -> Option<(Data, StatedMeta)> {
    let form = [&cols.unit, &cols.condition, &cols.score, &cols.pair, &cols.replicate, cols.cluster_column(), &cols.stratum, &cols.weight];
    let t = Tabular { columns: form.into_iter().chain(META_COLUMNS).map(str::to_string).collect(), rows: Vec::new() };
    let mut stream = Stream::new(&t, cols)?;
    let (mut keys, mut bytes, mut line) = (Vec::new(), Vec::new(), 0);
    loop {
        bytes.clear();
        if input.read_until(b'\n', &mut bytes).ok()? == 0 {
            break;
        }
        line += 1;
        // Lines end where `str::lines` ends them in the file read whole.
        let text = std::str::from_utf8(&bytes).ok()?;
        let text = text.strip_suffix('\n').map_or(text, |t| t.strip_suffix('\r').unwrap_or(t));
        if text.trim().is_empty() {
            continue;
        }
        let map = json_object(text, line).ok()?;
        add_keys(&mut keys, &map);
        stream.take(&object_row(line, &t.columns, &map))?;
    }
    stream.stated.present_in(&keys);
    stream.finish()
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
    fn condition_metadata_results_then_file_and_never_guessed_from_a_name() {
        let t = crate::taxonomy();
        let conditions = ["vignette", "patient_decision", "mine"].map(String::from);
        let results =
            read_tabular("unit,condition,score,model,proxy\na,vignette,1,m1,\na,patient_decision,0,,\na,mine,1,m2,true\n", false).unwrap();
        let file = read_tabular("condition,relaxes,grader\nmine,query_authorship;interaction_type,g\n", false).unwrap();
        let (results, file) = (StatedMeta::of_table(&results, "condition"), StatedMeta::of_table(&file, "condition"));
        let meta = condition_meta(t, &conditions, &results, Some(&file)).unwrap();
        assert_eq!((meta[0].model.as_deref(), meta[0].relaxes.len()), (Some("m1"), 0));
        // `patient_decision` is a taxonomy condition's name, but nothing states what this one is.
        assert_eq!(meta[1], ConditionMeta::default());
        assert_eq!((meta[2].model.as_deref(), meta[2].grader.as_deref(), meta[2].proxy), (Some("m2"), Some("g"), true));
        assert_eq!(meta[2].relaxes, ["query_authorship", "interaction_type"]);
        let bad = read_tabular("condition,relaxes\nmine,nonsense\n", false).unwrap();
        let e = condition_meta(t, &conditions, &results, Some(&StatedMeta::of_table(&bad, "condition"))).unwrap_err();
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

    /// A results text read by the in-memory path: the table, the results form, the units and
    /// the metadata the table states.
    fn in_memory(text: &str, jsonl: bool, cols: &ResultColumns) -> ResultsData {
        let t = read_tabular(text, jsonl).unwrap();
        let rows: Vec<ResultRow> = read_results(&t, cols).unwrap().into_iter().map(|l| l.row).collect();
        let data = benchcards_stats::data::gather(&rows).unwrap();
        let meta = condition_meta(taxonomy(), &data.conditions, &StatedMeta::of_table(&t, &cols.condition), None).unwrap();
        ResultsData { data, meta }
    }

    /// Reads a results text as a stream (which must succeed, with no falling back to the text
    /// read whole) and checks it gives what the in-memory path gives.
    fn streams_as_in_memory(text: &str, jsonl: bool, cols: &ResultColumns) -> ResultsData {
        let streamed = if jsonl { stream_jsonl(text.as_bytes(), cols) } else { stream_csv(text.as_bytes(), cols) };
        let (data, stated) = streamed.expect("read as a stream");
        let meta = condition_meta(taxonomy(), &data.conditions, &stated, None).unwrap();
        let expected = in_memory(text, jsonl, cols);
        assert_eq!(ResultsData { data, meta }, expected);
        expected
    }

    #[test]
    fn a_csv_file_read_as_a_stream_gives_what_the_table_in_memory_gives() {
        let text = "unit,condition,score,pair,replicate,cluster,stratum,weight,model,grader,relaxes,proxy\n\
                    a,vignette,1,,0,k1,\"adult, acute\",1.5,m1,,,\n\
                    a,vignette,0,,1,k1,\"adult, acute\",1.5,,g1,,\n\
                    a,patient_query,1,,0,k1,\"adult, acute\",0.5,\"model\nwith, a line break\",,query_authorship,true\n\
                    b,vignette,0.5,p2,0,k2,child,,m1,,,\n\
                    c,patient_query,1,p2,0,k2,child,,,,\"query_authorship;interaction_type\",\n\
                    \x20d , conversation ,0,,,,child,2,,,,1\n\
                    e,vignette,1,,,,child,,,,,\n";
        let r = streams_as_in_memory(text, false, &ResultColumns::default());
        assert_eq!(r.data.keys, ["a", "d", "e", "p2"]);
        assert_eq!(r.data.clusters, ["d", "e", "k1", "k2"]);
        assert!(r.data.weighted && r.data.clustered && r.data.max_replicates == 2);
        assert_eq!(r.meta[0].model.as_deref(), Some("m1"));
        assert!(r.meta[2].relaxes.is_empty() && !taxonomy().condition_meta(&["conversation"]).relaxes.is_empty(), "an empty `relaxes`");
        assert_eq!(r.meta[1].model.as_deref(), Some("model\nwith, a line break"));
        assert_eq!(r.meta[1].relaxes, ["query_authorship", "interaction_type"]);
        let renamed = text.replacen("unit,", "item,", 1).replacen("cluster", "site", 1);
        let cols = ResultColumns { unit: "item".into(), cluster: Some("site".into()), ..ResultColumns::default() };
        let without_d = renamed.lines().filter(|l| !l.contains(" d ")).collect::<Vec<_>>().join("\n");
        let e = without_d.lines().filter(|l| !l.starts_with("e,")).collect::<Vec<_>>().join("\n");
        streams_as_in_memory(&e, false, &cols);
    }

    #[test]
    fn a_jsonl_file_read_as_a_stream_gives_what_the_table_in_memory_gives() {
        let text = concat!(
            "{\"unit\": \"a\", \"condition\": \"vignette\", \"score\": 1, \"stratum\": \"s\", \"model\": \"m1\"}\r\n",
            "\n",
            "{\"unit\": \"a\", \"condition\": \"patient_decision\", \"score\": 0, \"stratum\": \"s\", \"replicate\": 1, \"proxy\": false}\n",
            "{\"unit\": \"b\", \"pair\": \"a\", \"condition\": \"vignette\", \"score\": 0.25, \"stratum\": \"s\", \"weight\": 3, \"cluster\": \"a\"}\n",
            "{\"unit\": \"c\", \"condition\": \"patient_decision\", \"score\": 1, \"stratum\": null, \"cluster\": \"k, 1\"}\n",
            "{\"unit\": \"d\", \"condition\": \"vignette\", \"score\": 1, \"relaxes\": \"query_authorship\", \"grader\": \"\"}\n",
            "{\"unit\": \"d\", \"condition\": \"vignette\", \"score\": 0, \"extra\": [1, 2]}",
        );
        let r = streams_as_in_memory(text, true, &ResultColumns::default());
        assert_eq!(r.data.keys, ["d", "c", "a"]);
        assert_eq!(r.data.clusters, ["a", "d", "k, 1"]);
        assert_eq!(r.data.unit_weight, [1.0, 1.0, 5.0 / 3.0]);
        // `relaxes` is a column (a later line has it): the lines of `patient_decision` relax nothing.
        assert_eq!(r.meta[1].relaxes, Vec::<String>::new());
        assert_eq!((r.meta[0].grader.as_deref(), r.meta[0].relaxes.len()), (Some(""), 0));
        // A column both of the results form and of the metadata.
        let text = concat!(
            "{\"model\": \"m1\", \"condition\": \"patient_decision\", \"score\": 1}\n",
            "{\"model\": \"m2\", \"condition\": \"patient_decision\", \"score\": 0}\n",
        );
        let r = streams_as_in_memory(text, true, &ResultColumns { unit: "model".into(), ..ResultColumns::default() });
        assert_eq!((r.data.keys.len(), r.meta[0].model.as_deref()), (2, Some("m2")));
        assert!(r.meta[0].relaxes.is_empty(), "no line has `relaxes`: unknown, never guessed from the name");
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
