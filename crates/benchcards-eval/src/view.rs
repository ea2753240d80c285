//! A run read back from its store: the plan it was started from and the dataset it used. (What
//! a report shows of a run is assembled from these by `benchcards_web::view`, so this crate
//! knows nothing of reports.)

use crate::dataset::{Dataset, parse_dataset};
use crate::store::Store;
use benchcards_core::Plan;
use std::path::Path;

/// The plan a run was started from, as stored with it.
pub fn stored_plan(store: &Store, run: &str) -> Result<(String, Plan), String> {
    let (hash, json) = store.plan_record(run).map_err(|e| e.to_string())?.ok_or_else(|| format!("no run `{run}` in the store"))?;
    Ok((hash, serde_json::from_str(&json).map_err(|e| format!("the run's plan cannot be read: {e}"))?))
}

/// The dataset a run used, read again from where the run found it.
pub fn run_dataset(plan: &Plan) -> Result<Dataset, String> {
    let text = benchcards_core::document::read_data(Path::new(&plan.dataset)).map_err(|d| format!("{}: {}", plan.dataset, d.message))?;
    parse_dataset(&text).map_err(|d| format!("the dataset {} the run used no longer parses ({} problem(s))", plan.dataset, d.0.len()))
}
