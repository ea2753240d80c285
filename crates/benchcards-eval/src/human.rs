//! Imports human data (SPEC §5 `human_study`), sending nothing anywhere. A study file holds real
//! participants' own answers, one row per participant × scenario, with the arm each was in: each
//! row becomes a completed sample labelled `human_study:ARM`, graded by the plan's graders like
//! the model's answers, so the decomposition can step from the model into people's decisions,
//! with the control arm as its reference line. Real conversations attached to items by
//! `augment` become samples labelled `human_study:model`: the model's messages in real chats,
//! scored together (as Bean et al. scored the model in their participants' conversations).

use crate::dataset::Dataset;
use crate::store::SampleRow;
use benchcards_core::results::read_tabular;
use benchcards_core::{Diagnostic, Diagnostics, HumanStudy, HumanStudyColumns, Pos};

/// A completed sample of human data: nothing was sent for it, so no tokens, latency or attempts.
fn imported(label: &str, unit: String, item: &str, response: String, transcript: String) -> SampleRow {
    SampleRow {
        key: format!("{label}|{unit}"),
        unit,
        item: item.to_string(),
        condition: "human_study".into(),
        label: label.to_string(),
        model: "participant".into(),
        epoch: 0,
        status: "done".into(),
        response: Some(response),
        transcript,
        prompt_tokens: 0,
        completion_tokens: 0,
        latency_ms: 0,
        attempts: 0,
        requests_sent: 0,
        error: None,
    }
}

/// The label of the model's messages in real conversations attached to items.
pub const CONVERSATIONS_LABEL: &str = "human_study:model";

/// Samples from the real conversations attached to the dataset's items: the response is every
/// message from the model, in order; the transcript is the whole conversation.
pub fn from_conversations(dataset: &Dataset) -> Vec<SampleRow> {
    let mut out = Vec::new();
    for item in &dataset.items {
        for (i, c) in item.conversations.iter().enumerate() {
            let id = c.get("id").and_then(|v| v.as_str()).map_or_else(|| format!("{}#c{}", item.id, i + 1), str::to_string);
            let model: Vec<&str> = c
                .get("messages")
                .and_then(|m| m.as_array())
                .into_iter()
                .flatten()
                .filter(|m| m.get("role").and_then(|r| r.as_str()) == Some("assistant"))
                .filter_map(|m| m.get("content").and_then(|t| t.as_str()))
                .collect();
            let transcript = c.get("messages").map(|m| m.to_string()).unwrap_or_default();
            out.push(imported(CONVERSATIONS_LABEL, id, &item.id, model.join("\n\n"), transcript));
        }
    }
    out
}

/// The label of an arm's rows in results.
pub fn arm_label(arm: &str) -> String {
    format!("human_study:{arm}")
}

/// Reads a study file into samples. Every problem is reported with its line and column; a file
/// with any problem imports nothing.
pub fn read_study(text: &str, jsonl: bool, study: &HumanStudy, dataset: &Dataset) -> Result<Vec<SampleRow>, Diagnostics> {
    let table = read_tabular(text, jsonl)?;
    let cols = study.columns.clone().unwrap_or_default();
    let at = |line: usize, column: usize| Pos { line, column, index: 0 };
    let mut diags = Diagnostics::default();
    let mut index = |name: &str| {
        table
            .require(name, None)
            .map_err(|d| diags.push(d.suggest(Some("name the columns under `human_study: columns:` in the plan".into()))))
            .ok()
    };
    let HumanStudyColumns { participant, item, arm, response } = &cols;
    let (p, it, a, r) = (index(participant), index(item), index(arm), index(response));
    let (Some(p), Some(it), Some(a), Some(r)) = (p, it, a, r) else { return Err(diags) };
    let mut out = Vec::new();
    let mut arms = std::collections::BTreeSet::new();
    let mut keys = std::collections::HashSet::new();
    for row in &table.rows {
        let get = |i: usize| row.values.get(i).cloned().flatten().filter(|v| !v.trim().is_empty());
        let col = |i: usize| row.columns.get(i).copied().unwrap_or(1);
        let (Some(pv), Some(iv), Some(av)) = (get(p), get(it), get(a)) else {
            diags.push(Diagnostic::error(at(row.line, 1), format!("a row needs `{participant}`, `{item}` and `{arm}`")));
            continue;
        };
        if dataset.item(&iv).is_none() {
            diags.push(
                Diagnostic::error(at(row.line, col(it)), format!("item `{iv}` is not in the plan's dataset"))
                    .suggest(Some("use the dataset's item ids for the scenarios participants saw".into())),
            );
            continue;
        }
        arms.insert(av.clone());
        let label = arm_label(&av);
        if !keys.insert(format!("{label}|{pv}|{iv}")) {
            diags.push(Diagnostic::error(
                at(row.line, 1),
                format!("participant `{pv}` and item `{iv}` repeat an earlier row of arm `{av}`"),
            ));
            continue;
        }
        out.push(imported(&label, format!("{pv}|{iv}"), &iv, get(r).unwrap_or_default(), String::new()));
    }
    if let Some(c) = &study.control_arm
        && !arms.contains(c)
    {
        diags.push(
            Diagnostic::error(
                at(1, 1),
                format!("no row is in the control arm `{c}` (arms: {})", arms.into_iter().collect::<Vec<_>>().join(", ")),
            )
            .suggest(Some("set `control_arm` to the arm without the model".into())),
        );
    }
    if diags.has_errors() { Err(diags) } else { Ok(out) }
}
