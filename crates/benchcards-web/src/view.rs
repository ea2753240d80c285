//! A run as a report shows it, read from its store: the plan's card and profile (when their
//! files can be read), the graded results decomposed along the plan's conditions, the
//! transcripts, and what identifies the run. Shared by `benchcards report` and the web UI's run
//! page; the store is only read.

use benchcards_core::{load_card, load_profile, taxonomy};
use benchcards_eval::results::{decompose_results, decomposition_path, results};
use benchcards_eval::store::Store;
use benchcards_eval::view::{run_dataset, stored_plan};
use benchcards_report::readiness::{Inputs, Transcript};
use std::path::Path;

/// Everything a report shows of one run. `store_label` names the store in the provenance.
pub fn run_inputs(store: &Store, store_label: &str, run: &str, transcripts: bool) -> Result<Inputs, String> {
    let t = taxonomy();
    let (hash, plan) = stored_plan(store, run)?;
    let mut inputs = Inputs::default();
    match load_card(Path::new(&plan.card)) {
        Ok((c, _)) => inputs.card = Some(c),
        Err(_) => inputs.notes.push(format!("the plan's card {} could not be read: no card or readiness section", plan.card)),
    }
    match load_profile(Path::new(&plan.deployment)) {
        Ok((p, _)) => inputs.profile = Some(p),
        Err(_) => inputs.notes.push(format!("the plan's deployment {} could not be read: no readiness section", plan.deployment)),
    }
    let grader = plan.graders.first().map(benchcards_core::GraderSpec::name).ok_or("the plan has no grader")?;
    let dataset = run_dataset(&plan)?;
    let rows = results(store, run, &plan, &dataset, t, &grader).map_err(|e| e.to_string())?;
    let (path, reference) = decomposition_path(&plan, &rows);
    if path.len() < 2 {
        inputs.notes.push(format!("the run has graded results under {} condition(s): a decomposition needs two", path.len()));
    } else {
        inputs.decomposition = Some(decompose_results(&rows, &path, reference.as_deref(), t)?);
    }
    if transcripts {
        let mut grades: std::collections::HashMap<String, Vec<(String, f64)>> = Default::default();
        for (key, g, score, _) in store.grades(run).map_err(|e| e.to_string())? {
            grades.entry(key).or_default().push((g, score));
        }
        for s in store.samples(run).map_err(|e| e.to_string())? {
            let mut messages: Vec<(String, String)> = serde_json::from_str::<Vec<serde_json::Value>>(&s.transcript)
                .unwrap_or_default()
                .iter()
                .filter_map(|m| Some((m.get("role")?.as_str()?.to_string(), m.get("content")?.as_str()?.to_string())))
                .filter(|(role, _)| role != "system")
                .collect();
            if messages.is_empty() {
                messages.push(("answer".into(), s.response.clone().unwrap_or_else(|| s.error.clone().unwrap_or_default())));
            }
            let mine = grades.get(&s.key).cloned().unwrap_or_default();
            let shown: Vec<String> = mine.iter().map(|(g, v)| format!("{g} {v}")).collect();
            let outcome = if s.status == "done" { shown.join(", ") } else { format!("failed: {}", s.error.clone().unwrap_or_default()) };
            inputs.transcripts.push(Transcript {
                summary: format!("{} · {} · {} · {outcome}", s.unit, s.label, s.model),
                passed: mine.iter().find(|(g, _)| *g == grader).map(|(_, v)| *v >= 0.5),
                messages,
            });
        }
    }
    let models: Vec<String> = plan
        .models
        .iter()
        .map(|m| {
            format!(
                "`{}` ({:?}{}), sampling {}",
                m.id,
                m.provider,
                m.model.as_ref().map_or(String::new(), |n| format!(", {n}")),
                serde_json::to_string(&m.sampling).unwrap_or_default()
            )
        })
        .collect();
    inputs.demo_models = plan.models.iter().filter(|m| m.is_demo()).map(|m| m.id.clone()).collect();
    let boot = benchcards_stats::bootstrap::BootstrapSpec::default();
    inputs.provenance = vec![
        format!("run `{run}` of plan `{}` (hash {hash}), store {store_label}", plan.id),
        format!("models: {}", models.join("; ")),
        format!("graded by `{grader}`; epochs {}", plan.epochs),
        format!("bootstrap: {} resamples, seed {}", boot.resamples, boot.seed),
    ];
    Ok(inputs)
}
