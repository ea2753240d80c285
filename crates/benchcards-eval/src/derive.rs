//! The protocol update (SPEC §1): once assumptions are tested, the adapted benchmark gets a card
//! of its own. Pure: from the base card, the augmented dataset and what runs measured, the
//! derived card — the dimensions the adaptation changed (status `measured`, with evidence), the
//! measured drops as `tested` entries, and the provenance of both.

use crate::dataset::Dataset;
use benchcards_core::{Card, CardDimension, CardStatus, DatasetFacts, Evidence, Tested, Value};

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
