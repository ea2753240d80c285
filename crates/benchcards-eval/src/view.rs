//! A run read back from its store: the plan it was started from, the dataset it used, and its
//! samples tallied per condition and model. (What a report shows of a run is assembled from
//! these by `benchcards_web::view`, so this crate knows nothing of reports.)

use crate::dataset::Dataset;
use crate::store::{SampleRow, Store};
use benchcards_core::Plan;
use std::path::Path;

/// The plan a run was started from, as stored with it.
pub fn stored_plan(store: &Store, run: &str) -> Result<(String, Plan), String> {
    let (hash, json) = store.plan_record(run).map_err(|e| e.to_string())?.ok_or_else(|| format!("no run `{run}` in the store"))?;
    Ok((hash, serde_json::from_str(&json).map_err(|e| format!("the run's plan cannot be read: {e}"))?))
}

/// The dataset a run used, read again from where the run found it.
pub fn run_dataset(plan: &Plan) -> Result<Dataset, String> {
    crate::session::load_dataset_as(Path::new(&plan.dataset), plan.dataset_format, &plan.dataset_map).map_err(|e| match e {
        crate::session::SessionError::File { diagnostics, text: Some(_), .. } => {
            format!("the dataset {} the run used no longer parses ({} problem(s))", plan.dataset, diagnostics.0.len())
        }
        crate::session::SessionError::File { diagnostics, .. } => {
            format!("{}: {}", plan.dataset, diagnostics.0.first().map_or("cannot be read", |d| d.message.as_str()))
        }
        other => other.to_string(),
    })
}

/// One condition and model of a run, summed over its samples (`runs show`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// The condition's label (a factorial cell's composed name).
    pub condition: String,
    pub model: String,
    pub done: usize,
    pub failed: usize,
    /// Prompt and completion tokens.
    pub tokens: i64,
    pub requests_sent: i64,
    pub latency_ms: i64,
    /// At the plan's prices (zero for a model without `pricing`).
    pub cost_usd: f64,
}

impl Tally {
    /// Mean latency per sample, done or failed.
    pub fn mean_latency_ms(&self) -> f64 {
        self.latency_ms as f64 / (self.done + self.failed).max(1) as f64
    }
}

/// A run's samples summed per condition and model, in that order, priced as `plan` prices them.
pub fn tally(samples: &[SampleRow], plan: &Plan) -> Vec<Tally> {
    let mut by: std::collections::BTreeMap<(&str, &str), Tally> = Default::default();
    for s in samples {
        let t = by.entry((&s.label, &s.model)).or_insert_with(|| Tally {
            condition: s.label.clone(),
            model: s.model.clone(),
            ..Tally::default()
        });
        if s.status == "done" {
            t.done += 1
        } else {
            t.failed += 1
        }
        t.tokens += s.prompt_tokens + s.completion_tokens;
        t.requests_sent += s.requests_sent;
        t.latency_ms += s.latency_ms;
        t.cost_usd += plan.models.iter().find(|m| m.id == s.model).map_or(0.0, |m| m.cost(s.prompt_tokens, s.completion_tokens));
    }
    by.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(label: &str, model: &str, status: &str, tokens: (i64, i64), latency_ms: i64) -> SampleRow {
        SampleRow {
            key: format!("{label}|u|{model}|0"),
            unit: "u".into(),
            item: "i".into(),
            condition: label.into(),
            label: label.into(),
            model: model.into(),
            epoch: 0,
            status: status.into(),
            response: None,
            transcript: "[]".into(),
            prompt_tokens: tokens.0,
            completion_tokens: tokens.1,
            latency_ms,
            attempts: 1,
            requests_sent: 1,
            error: None,
        }
    }

    #[test]
    fn tallies_per_condition_and_model_at_the_plan_prices() {
        let plan: Plan = serde_json::from_value(serde_json::json!({
            "version": 1, "id": "p", "card": "c.yaml", "deployment": "d.yaml", "dataset": "x.jsonl",
            "models": [{"id": "priced", "provider": "mock", "pricing": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}}, {"id": "free", "provider": "mock"}],
            "conditions": [{"id": "vignette"}], "graders": [{"kind": "disposition"}]
        }))
        .unwrap();
        let samples = [
            sample("vignette", "priced", "done", (1_000_000, 500_000), 30),
            sample("vignette", "priced", "failed", (0, 0), 10),
            sample("patient_query", "free", "done", (10, 5), 7),
        ];
        let t = tally(&samples, &plan);
        assert_eq!(
            t.iter().map(|t| (t.condition.as_str(), t.model.as_str())).collect::<Vec<_>>(),
            [("patient_query", "free"), ("vignette", "priced")]
        );
        assert_eq!((t[1].done, t[1].failed, t[1].tokens, t[1].requests_sent), (1, 1, 1_500_000, 2));
        assert_eq!((t[1].cost_usd, t[1].mean_latency_ms()), (2.0, 20.0));
        assert_eq!((t[0].cost_usd, t[0].mean_latency_ms()), (0.0, 7.0));
    }
}
