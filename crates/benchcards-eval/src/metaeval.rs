//! How far a rubric's judges agree with people (`benchcards grade --meta-eval LABELS`), as
//! HealthBench checks its grader against physicians: each labelled row (a conversation, a reply,
//! one criterion, people's yes/no verdicts) is put to every judge of the plan's rubric grader
//! through the same cache and retries as a run; each judge's verdicts, and the panel's, are
//! compared with the people's consensus (the majority; a tie leaves the row out): the share of
//! rows they agree on and Cohen's kappa, each with its interval and n.

use crate::conditions::Message;
use crate::dataset::{Criterion, Item};
use crate::session::{SessionError, judge_requests};
use benchcards_core::{Diagnostic, Diagnostics, GraderKind, Plan, Pos};
use benchcards_stats::agreement::{Agreement, binary_agreement};
use benchcards_stats::proportion::CONFIDENCE;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// One labelled row: the conversation and reply as an item with a one-criterion rubric, and
/// the people's consensus (none when they tie).
#[derive(Debug, Clone)]
pub struct Labelled {
    pub id: String,
    pub item: Item,
    pub completion: String,
    pub people: Option<bool>,
}

/// One judge's (or the panel's) agreement with the people.
#[derive(Debug, Clone, Serialize)]
pub struct JudgeAgreement {
    pub judge: String,
    pub agreement: Agreement,
    /// Rows the judge, and the people, call met.
    pub judge_met: usize,
    pub people_met: usize,
}

/// A row where the panel and the people differ.
#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    pub id: String,
    pub criterion: String,
    pub people: bool,
    pub panel: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetaEval {
    pub grader: String,
    /// Rows compared, and rows left out because the people tied.
    pub rows: usize,
    pub ties: usize,
    pub judges: Vec<JudgeAgreement>,
    pub disagreements: Vec<Disagreement>,
}

/// Reads a labels file: JSON lines with `prompt` (messages, or a text) or `conversation`,
/// `completion`, `criterion` (or HealthBench's `rubric`), optional `points`, and the people's
/// verdicts as `labels` / `binary_labels` (a list) or `label` (one). Ids come from `id`,
/// `completion_id` or the line.
pub fn read_labels(text: &str) -> Result<Vec<Labelled>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |field: &str| {
            let column = line.find(&format!("\"{field}\"")).map_or(1, |c| line[..c].chars().count() + 1);
            Pos { line: i + 1, column, index: 0 }
        };
        let o: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                diags.push(
                    Diagnostic::error(Pos { line: i + 1, column: e.column().max(1), index: 0 }, benchcards_core::diag::json_error(&e))
                        .expected("one JSON object per line"),
                );
                continue;
            }
        };
        match labelled(&o, i + 1) {
            Ok(row) => rows.push(row),
            Err((field, why)) => diags.push(Diagnostic::error(at(field), why).expected(
                "`prompt` (messages or text), `completion`, `criterion`, and `labels` (people's true/false verdicts) or `label`",
            )),
        }
    }
    if rows.is_empty() && !diags.has_errors() {
        diags.push(Diagnostic::error(Pos { line: 1, column: 1, index: 0 }, "the labels file has no rows"));
    }
    if diags.has_errors() { Err(diags) } else { Ok(rows) }
}

fn labelled(o: &Value, line: usize) -> Result<Labelled, (&'static str, String)> {
    let messages = match o.get("prompt").or_else(|| o.get("conversation")) {
        Some(Value::String(s)) => vec![Message::new("user", s.clone())],
        Some(v) => serde_json::from_value::<Vec<Message>>(v.clone())
            .map_err(|_| ("prompt", "`prompt` must be a text or a list of {role, content}".to_string()))?,
        None => return Err(("prompt", "`prompt` is missing".into())),
    };
    let text = |keys: &[&'static str]| keys.iter().find_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_string));
    let completion = text(&["completion"]).ok_or(("completion", "`completion` (the reply judged) is missing or not text".to_string()))?;
    let criterion = text(&["criterion", "rubric"]).ok_or(("criterion", "`criterion` is missing or not text".to_string()))?;
    let points = o.get("points").and_then(Value::as_f64).unwrap_or(1.0);
    let labels: Vec<bool> = match o.get("labels").or_else(|| o.get("binary_labels")).or_else(|| o.get("label")) {
        Some(Value::Bool(b)) => vec![*b],
        Some(Value::Array(a)) => {
            a.iter().map(Value::as_bool).collect::<Option<_>>().ok_or(("labels", "`labels` must be a list of true/false".to_string()))?
        }
        _ => return Err(("labels", "`labels` (people's true/false verdicts) is missing".into())),
    };
    if labels.is_empty() {
        return Err(("labels", "`labels` is empty".into()));
    }
    let yes = labels.iter().filter(|l| **l).count();
    let people = (yes * 2 != labels.len()).then_some(yes * 2 > labels.len());
    let id = text(&["id", "completion_id"]).or_else(|| o.get("id").map(Value::to_string)).unwrap_or(format!("line-{line}"));
    let item = Item {
        id: id.clone(),
        vignette: messages.iter().filter(|m| m.role == "user").map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n\n"),
        messages,
        rubric: vec![Criterion { criterion, points, tags: Vec::new() }],
        ..Item::default()
    };
    Ok(Labelled { id, item, completion, people })
}

/// Puts every row with a consensus to each judge of the plan's first `kind: rubric` grader and
/// compares. A verdict that cannot be read stops it, listing the rows (asked again next time;
/// the others come from the cache).
pub fn meta_eval(plan: &Plan, rows: &[Labelled], store: &Path) -> Result<MetaEval, SessionError> {
    let g = plan.graders.iter().find(|g| g.kind == GraderKind::Rubric).ok_or_else(|| SessionError::Message {
        message: "the plan has no grader with `kind: rubric` whose judges to check".into(),
        help: Some("add `{kind: rubric, judge_model: MODEL}` or `{kind: rubric, judges: [A, B, C]}` to its graders".into()),
    })?;
    let agreed: Vec<(&Labelled, bool)> = rows.iter().filter_map(|r| r.people.map(|p| (r, p))).collect();
    let mut verdicts: Vec<Vec<f64>> = vec![Vec::new(); agreed.len()];
    let mut judges = Vec::new();
    let mut unread = Vec::new();
    for id in g.panel() {
        let model = plan.models.iter().find(|m| m.id == id).ok_or_else(|| SessionError::Message {
            message: format!("the rubric's judge `{id}` is not a model of the plan"),
            help: None,
        })?;
        let requests = agreed
            .iter()
            .enumerate()
            .map(|(i, (r, _))| (format!("{i:09}"), crate::grade::criterion_messages(&r.item, &r.completion, &r.item.rubric[0])))
            .collect();
        let v = judge_requests(model, requests, store, crate::grade::read_criterion)?;
        let mut pairs = Vec::new();
        for (key, verdict) in v.verdicts {
            let i: usize = key.parse().unwrap_or(usize::MAX);
            let Some((row, people)) = agreed.get(i) else { continue };
            match verdict {
                Ok(grade) => {
                    verdicts[i].push(grade.score);
                    pairs.push((grade.score >= 1.0, *people));
                }
                Err(e) => unread.push(format!("  {} (judge `{id}`): {e}", row.id)),
            }
        }
        judges.push(agreement(id.to_string(), &pairs));
    }
    crate::session::refuse_unread(&unread, ", so nothing was compared")?;
    let how = g.combine.unwrap_or_default();
    let panel: Vec<(bool, bool)> = verdicts.iter().zip(&agreed).map(|(v, (_, p))| (crate::grade::combine(v, how) > 0.5, *p)).collect();
    if judges.len() > 1 {
        judges.push(agreement(format!("panel ({})", g.name()), &panel));
    }
    let disagreements = panel
        .iter()
        .zip(&agreed)
        .filter(|((j, p), _)| j != p)
        .map(|((j, p), (r, _))| Disagreement { id: r.id.clone(), criterion: r.item.rubric[0].criterion.clone(), people: *p, panel: *j })
        .collect();
    Ok(MetaEval { grader: g.name(), rows: agreed.len(), ties: rows.len() - agreed.len(), judges, disagreements })
}

fn agreement(judge: String, pairs: &[(bool, bool)]) -> JudgeAgreement {
    JudgeAgreement {
        judge,
        agreement: binary_agreement(pairs, CONFIDENCE),
        judge_met: pairs.iter().filter(|(j, _)| *j).count(),
        people_met: pairs.iter().filter(|(_, p)| *p).count(),
    }
}

/// `grade --meta-eval LABELS --plan PLAN`: reads both, then [`meta_eval`].
pub fn run(labels: &Path, plan: &Path, store: &Path) -> Result<MetaEval, SessionError> {
    let (plan, _) = benchcards_core::load_plan(plan).map_err(SessionError::Plan)?;
    let text = benchcards_core::document::read_data(labels).map_err(|d| SessionError::File {
        name: labels.display().to_string(),
        text: None,
        diagnostics: Diagnostics(vec![d]),
    })?;
    let rows = read_labels(&text).map_err(|diagnostics| SessionError::File {
        name: labels.display().to_string(),
        text: Some(text),
        diagnostics,
    })?;
    meta_eval(&plan, &rows, store)
}
