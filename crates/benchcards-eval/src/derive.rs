//! The protocol update (SPEC §1): once assumptions are tested, the adapted benchmark gets a card
//! of its own. Pure: the steps a run measured, from its graded rows; and from the base card, the
//! augmented dataset and those steps, the derived card — the dimensions the adaptation changed (status `measured`, with evidence), the
//! measured drops as `tested` entries, and the provenance of both.

use crate::dataset::Dataset;
use benchcards_core::{Card, CardDimension, CardStatus, DatasetFacts, Evidence, Plan, Tested, Value};
use benchcards_stats::data::ResultRow;

/// One step a run measured: the drop from one condition to the next, in points.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredStep {
    pub assumption: String,
    pub from: String,
    pub to: String,
    pub drop: f64,
    pub interval: [f64; 2],
    pub n: u64,
}

/// What one run contributes: its steps, and what identifies it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSteps {
    pub run: String,
    pub model: String,
    pub grader: String,
    /// Where the run lives (its store file).
    pub store: String,
    /// Condition ids the run posed (e.g. `conversation`).
    pub conditions: Vec<String>,
    pub steps: Vec<MeasuredStep>,
}

/// What one run measured: its graded `rows` decomposed along its plan's conditions (as
/// `runs export` then `decompose` would), each step's drop and interval in points. `store`
/// names where the run lives. The error is why the rows do not decompose.
pub fn run_steps(run: &str, plan: &Plan, rows: &[ResultRow], grader: String, store: &str) -> Result<RunSteps, String> {
    let (path, reference) = crate::results::decomposition_path(plan, rows);
    let d = crate::results::decompose_results(rows, &path, reference.as_deref(), benchcards_core::taxonomy())?;
    Ok(RunSteps {
        run: run.to_string(),
        model: plan.models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>().join(", "),
        grader,
        store: store.to_string(),
        conditions: plan.conditions.iter().map(|c| c.id.clone()).collect(),
        steps: d
            .steps
            .iter()
            .map(|s| MeasuredStep {
                assumption: s.assumption.clone(),
                from: s.from.clone(),
                to: s.to.clone(),
                drop: s.contribution * 100.0,
                interval: [s.ci[0] * 100.0, s.ci[1] * 100.0],
                n: s.n as u64,
            })
            .collect(),
    })
}

/// Where the adapted dataset came from: its file and SHA-256.
pub struct DatasetSource<'a> {
    pub path: &'a str,
    pub sha256: &'a str,
}

fn measured(value: &str, evidence: Evidence) -> CardDimension {
    CardDimension { value: Some(Value::One(value.into())), status: CardStatus::Measured, evidence: vec![evidence], answer: None }
}

/// The card of the adapted benchmark. `date` is written into its provenance.
pub fn derive_card(base: &Card, ds: &Dataset, source: DatasetSource, runs: &[RunSteps], date: &str) -> Card {
    let mut card = base.clone();
    card.id = format!("{}-adapted", base.id);
    card.benchmark_version = None;
    card.card_author = "benchcards card derive".into();
    card.designer_endorsed = false;
    let dataset_evidence = |quote: String| Evidence {
        source: source.path.to_string(),
        location: Some(format!("dataset header and items (sha256 {})", &source.sha256[..source.sha256.len().min(16)])),
        quote: Some(quote),
    };
    let mut changed = Vec::new();
    if let Some(a) = ds.header.augmented.as_ref().filter(|a| a.items > 0) {
        let quote = format!(
            "{} of {} items carry real first messages from {} conversation(s) of {} (sha256 {})",
            a.items,
            ds.items.len(),
            a.conversations,
            a.logs,
            &a.sha256[..a.sha256.len().min(16)]
        );
        card.dimensions.insert("query_author".into(), measured("patient", dataset_evidence(quote.clone())));
        card.dimensions.insert("input_source".into(), measured("real_user_queries", dataset_evidence(quote)));
        changed.extend(["query_author", "input_source"]);
    }
    let simulated: Vec<&str> = runs
        .iter()
        .filter(|r| r.conditions.iter().any(|c| matches!(c.as_str(), "conversation" | "singleturn" | "summarized" | "patient_decision")))
        .map(|r| r.run.as_str())
        .collect();
    if !simulated.is_empty() {
        let e = Evidence {
            source: runs[0].store.clone(),
            location: Some(format!("run(s) {}", simulated.join(", "))),
            quote: Some("the model is evaluated in conversation with a simulated patient holding each case".into()),
        };
        card.dimensions.insert("interaction_mode".into(), measured("multi_turn_simulated", e));
        changed.push("interaction_mode");
    }
    card.name =
        if changed.is_empty() { format!("{} (adapted)", base.name) } else { format!("{} (adapted: {})", base.name, changed.join(", ")) };
    card.dataset = Some(DatasetFacts { items: Some(ds.items.len() as u64), ..base.dataset.clone().unwrap_or_default() });
    for r in runs {
        for s in &r.steps {
            card.tested.push(Tested {
                assumption: s.assumption.clone(),
                from: s.from.clone(),
                to: s.to.clone(),
                model: Some(r.model.clone()),
                metric: Some(r.grader.clone()),
                drop: s.drop,
                interval: Some(s.interval),
                n: Some(s.n),
                run: Some(r.run.clone()),
                to_score: None,
                control: None,
                evidence: vec![Evidence {
                    source: r.store.clone(),
                    location: Some(format!("run {}", r.run)),
                    quote: Some(format!("sequential decomposition, {} → {}", s.from, s.to)),
                }],
            });
        }
    }
    let mut provenance = vec![format!(
        "Derived on {date} by `benchcards card derive` from the card `{}`{} and the dataset {} (sha256 {}).",
        base.id,
        base.benchmark_version.as_ref().map_or(String::new(), |v| format!(" ({v})")),
        source.path,
        source.sha256
    )];
    if !changed.is_empty() {
        provenance.push(format!("Changed from the base card: {}.", changed.join(", ")));
    }
    if !runs.is_empty() {
        provenance.push(format!("Measured drops from run(s) {}.", runs.iter().map(|r| r.run.as_str()).collect::<Vec<_>>().join(", ")));
    }
    if let Some(n) = &base.notes {
        provenance.push(format!("Base card's notes: {n}"));
    }
    card.notes = Some(provenance.join(" "));
    card
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_s_steps_are_its_decomposition_in_points() {
        let plan: Plan = serde_json::from_value(serde_json::json!({
            "version": 1, "id": "p", "card": "c.yaml", "deployment": "d.yaml", "dataset": "x.jsonl",
            "models": [{"id": "m1", "provider": "mock"}, {"id": "m2", "provider": "mock"}],
            "conditions": [{"id": "vignette"}, {"id": "patient_query"}], "graders": [{"kind": "disposition"}]
        }))
        .unwrap();
        let row = |unit: usize, condition: &str, score: f64| ResultRow {
            unit: format!("u{unit}"),
            condition: condition.into(),
            score,
            pair: Some(format!("u{unit}")),
            ..Default::default()
        };
        let rows: Vec<ResultRow> = (0..10).flat_map(|u| [row(u, "vignette", 1.0), row(u, "patient_query", (u < 5) as u8 as f64)]).collect();
        let r = run_steps("r1", &plan, &rows, "disposition".into(), "runs.sqlite").unwrap();
        assert_eq!((r.model.as_str(), r.conditions.len(), r.steps.len()), ("m1, m2", 2, 1));
        let s = &r.steps[0];
        assert_eq!((s.from.as_str(), s.to.as_str(), s.n), ("vignette", "patient_query", 10));
        assert!((s.drop - 50.0).abs() < 1e-9 && s.interval[0] < 50.0 && s.interval[1] > 50.0, "{s:?}");
        assert!(run_steps("r2", &plan, &[], "g".into(), "s").is_err());
    }
}
