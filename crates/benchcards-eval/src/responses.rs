//! Grading a file of responses written elsewhere (the `grade` command): each row's response to
//! its item, by one grader, into the results form with the grader's reading beside the score.

use crate::conditions::Message;
use crate::dataset::Dataset;
use crate::grade::{self, Grade, Ungraded};
use benchcards_core::results::Tabular;
use benchcards_core::{Diagnostic, Diagnostics, GraderKind, GraderSpec, Pos};
use std::collections::HashMap;

/// The columns holding each row's unit, item, response and (optional) condition.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct ResponseColumns {
    #[cfg_attr(feature = "clap", arg(long = "unit-col", default_value = "unit"))]
    pub unit: String,
    #[cfg_attr(feature = "clap", arg(long = "item-col", default_value = "item"))]
    pub item: String,
    #[cfg_attr(feature = "clap", arg(long = "response-col", default_value = "response"))]
    pub response: String,
    #[cfg_attr(feature = "clap", arg(long = "condition-col", default_value = "condition"))]
    pub condition: String,
}

/// `benchcards grade`: a file of responses graded by one grader, or (`--meta-eval`) a rubric's
/// judges checked against people's labels.
#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Args)]
pub struct GradeArgs {
    /// CSV or JSONL with a unit, the dataset item it answers, and the response text.
    #[arg(required_unless_present = "meta_eval")]
    pub responses: Option<std::path::PathBuf>,
    #[arg(long, required_unless_present = "meta_eval")]
    pub dataset: Option<std::path::PathBuf>,
    #[arg(long, value_enum, required_unless_present = "meta_eval")]
    pub grader: Option<GraderKind>,
    #[arg(long, value_enum, default_value = "bean")]
    pub mode: benchcards_core::GraderMode,
    /// Fuzzy-match threshold, 0–100 (conditions grader, bean mode).
    #[arg(long, default_value_t = 80)]
    pub threshold: u8,
    #[command(flatten)]
    pub columns: ResponseColumns,
    /// With --grader judge: the plan whose `kind: judge` grader (rubric, judge_model) and
    /// models to use; with --meta-eval, the plan whose first `kind: rubric` grader's judges are
    /// checked.
    #[arg(long)]
    pub plan: Option<std::path::PathBuf>,
    /// The run store whose cache keeps the judges' replies.
    #[arg(long, default_value = "benchcards-runs.sqlite")]
    pub store: std::path::PathBuf,
    /// With --grader judge: send a dataset marked `contains_phi` to a judge that is not on
    /// this machine.
    #[arg(long)]
    pub allow_phi_to_remote: bool,
    /// Where to write the graded rows (CSV, the results form plus grader columns), or the
    /// meta-evaluation's tables.
    #[arg(short, long)]
    pub output: Option<std::path::PathBuf>,
    /// Check the plan's rubric judges against people's labels: JSONL of conversations
    /// (`prompt`), replies (`completion`), a criterion each and people's verdicts (`labels`);
    /// prints each judge's agreement and Cohen's kappa with their intervals.
    #[arg(long, value_name = "LABELS", requires = "plan", conflicts_with_all = ["responses", "dataset", "grader"])]
    pub meta_eval: Option<std::path::PathBuf>,
}

/// The output's columns.
pub const HEADER: [&str; 12] =
    ["unit", "item", "condition", "replicate", "pair", "stratum", "score", "grader", "matched", "within_one", "under_triage", "detail"];

/// One graded row, its cells in the order of [`HEADER`].
#[derive(Debug, Clone, PartialEq)]
pub struct GradedResponse {
    /// The row's line in the responses file.
    pub line: usize,
    pub cells: [String; 12],
}

impl GradedResponse {
    fn set(&mut self, g: &Grade) {
        self.cells[6] = g.score.to_string();
        self.cells[8] = g.matched.clone().unwrap_or_default();
        self.cells[11] = g.detail.clone();
    }
}

/// Graded rows, and for a judge the requests to send (keyed `line N`) before they have scores.
pub struct GradedResponses {
    pub rows: Vec<GradedResponse>,
    pub judge_requests: Vec<(String, Vec<Message>)>,
}

/// Grades every row of `table` with `spec`; every row that cannot be graded is a diagnostic.
pub fn grade_responses(
    table: &Tabular,
    cols: &ResponseColumns,
    dataset: &Dataset,
    spec: &GraderSpec,
) -> Result<GradedResponses, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut need = |c: &str, flag: &str| table.require(c, Some(flag)).map_err(|d| diags.push(d)).ok();
    let (unit, item, response) = (need(&cols.unit, "--unit-col"), need(&cols.item, "--item-col"), need(&cols.response, "--response-col"));
    let (Some(unit), Some(item), Some(response)) = (unit, item, response) else { return Err(diags) };
    let (condition, replicate, pair) = (table.column(&cols.condition), table.column("replicate"), table.column("pair"));
    let name = spec.name();
    let mut out = GradedResponses { rows: Vec::new(), judge_requests: Vec::new() };
    for row in &table.rows {
        let get = |i: Option<usize>| i.and_then(|i| row.values.get(i).cloned().flatten());
        let at = |column: usize| Pos { line: row.line, column, index: 0 };
        let (Some(u), Some(it)) = (get(Some(unit)), get(Some(item))) else {
            diags.push(Diagnostic::error(at(1), "a row without unit or item"));
            continue;
        };
        let Some(entry) = dataset.item(&it) else {
            diags.push(
                Diagnostic::error(at(row.columns.get(item).copied().unwrap_or(1)), format!("item `{it}` is not in the dataset"))
                    .suggest(Some("check the item ids, or pass the dataset these responses answer".into())),
            );
            continue;
        };
        let text = get(Some(response)).unwrap_or_default();
        let (graded, disposition) = match grade::grade(spec, entry, &text) {
            Ok(g) => (g.grade, g.disposition),
            Err(Ungraded::Judge) => {
                out.judge_requests
                    .push((format!("line {}", row.line), grade::judge_messages(spec.rubric.as_deref().unwrap_or(""), entry, &text)));
                (Grade { score: f64::NAN, matched: None, detail: String::new() }, None)
            }
            Err(Ungraded::NoGold(kind)) => {
                diags.push(Diagnostic::error(at(1), format!("item `{it}` has no gold {kind}")));
                continue;
            }
        };
        let flag = |f: fn(&grade::DispositionGrade) -> bool| disposition.as_ref().map(|d| f(d).to_string()).unwrap_or_default();
        let mut r = GradedResponse {
            line: row.line,
            cells: [
                u,
                it,
                get(condition).unwrap_or_default(),
                get(replicate).unwrap_or_default(),
                get(pair).unwrap_or_default(),
                entry.stratum.clone().unwrap_or_default(),
                String::new(),
                name.clone(),
                String::new(),
                flag(|d| d.within_one),
                flag(|d| d.under_triage),
                String::new(),
            ],
        };
        r.set(&graded);
        out.rows.push(r);
    }
    if diags.has_errors() { Err(diags) } else { Ok(out) }
}

impl GradedResponses {
    /// Fills in the judge's verdicts; returns the rows it gave no readable verdict for.
    pub fn apply_verdicts(&mut self, verdicts: &HashMap<String, Result<Grade, String>>) -> Vec<String> {
        let mut unread = Vec::new();
        for r in &mut self.rows {
            match verdicts.get(&format!("line {}", r.line)) {
                Some(Ok(g)) => r.set(g),
                Some(Err(reason)) => unread.push(format!("line {}: {reason}", r.line)),
                None => unread.push(format!("line {}: no verdict", r.line)),
            }
        }
        unread
    }
}

/// A cell as written to CSV: text that a spreadsheet would run as a formula (starting with
/// `= + - @`, a tab or a carriage return) gets a leading `'`, as OWASP recommends; numbers are
/// left as they are.
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula && cell.trim().parse::<f64>().is_err() { format!("'{cell}").into() } else { cell.into() }
}

/// The plan's judge: its grader and the model that judges.
pub fn plan_judge(plan: &benchcards_core::Plan) -> Result<(GraderSpec, benchcards_core::ModelSpec), String> {
    let g = plan.graders.iter().find(|g| g.kind == GraderKind::Judge).cloned().ok_or("the plan has no grader with `kind: judge`")?;
    let m = plan.models.iter().find(|m| Some(&m.id) == g.judge_model.as_ref()).cloned().ok_or("the judge's model is not in the plan")?;
    Ok((g, m))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn formulas_are_guarded_and_numbers_kept() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1+1", "'\t=1+1"),
            ("-0.5", "-0.5"),
            ("1", "1"),
            ("plain text", "plain text"),
        ] {
            assert_eq!(csv_cell(cell), written);
        }
    }
}
