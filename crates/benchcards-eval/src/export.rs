//! After a run: grade every completed sample with the plan's graders, and export the results
//! form `decompose` reads, carrying each condition's metadata (model, grader, unit source, the
//! assumption it relaxes, proxy) so confounded steps can be flagged.

use crate::dataset::Dataset;
use crate::grade;
use crate::store::Store;
use benchcards_core::{GraderSpec, Plan, Taxonomy};
use serde::Serialize;

pub fn grader_name(g: &GraderSpec) -> String {
    g.name()
}

/// Grades every completed sample of a run; returns how many grades were written.
pub fn grade_run(store: &Store, run: &str, plan: &Plan, dataset: &Dataset) -> rusqlite::Result<usize> {
    store.transaction(|store| grade_samples(store, run, plan, dataset))
}

fn grade_samples(store: &Store, run: &str, plan: &Plan, dataset: &Dataset) -> rusqlite::Result<usize> {
    let mut n = 0;
    for s in store.samples(run)?.into_iter().filter(|s| s.status == "done") {
        let Some(item) = dataset.item(&s.item) else { continue };
        for g in &plan.graders {
            // The judge grades in `runner::judge_run`; an item without the gold a grader reads
            // is not graded by it.
            let Ok(graded) = grade::grade(g, item, s.response.as_deref().unwrap_or("")) else { continue };
            store.put_grade(run, &s.key, &g.name(), graded.grade.score, &graded.grade.detail)?;
            n += 1;
        }
    }
    Ok(n)
}

/// One row of the results form.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub unit: String,
    pub condition: String,
    pub score: f64,
    pub pair: String,
    pub replicate: i64,
    pub stratum: String,
    pub model: String,
    pub grader: String,
    pub unit_source: String,
    pub relaxes: String,
    pub proxy: bool,
}

pub fn results(store: &Store, run: &str, plan: &Plan, dataset: &Dataset, t: &Taxonomy, grader: &str) -> rusqlite::Result<Vec<ResultRow>> {
    let grades: std::collections::HashMap<String, f64> =
        store.grades(run)?.into_iter().filter(|(_, g, _, _)| g == grader).map(|(k, _, s, _)| (k, s)).collect();
    let multi_model = plan.models.len() > 1;
    let mut out = Vec::new();
    for s in store.samples(run)?.into_iter().filter(|s| s.status == "done") {
        let Some(score) = grades.get(&s.key) else { continue };
        let def = t.condition(&s.condition);
        let human = s.condition == "human_study";
        let (relaxes, unit_source) = match plan.conditions.iter().find(|c| c.name() == s.label) {
            Some(spec) => cell_meta(spec, t),
            None => (def.map(|d| d.relaxed_groups().join(";")).unwrap_or_default(), def.map_or_else(String::new, |d| d.query.clone())),
        };
        out.push(ResultRow {
            unit: s.unit.clone(),
            condition: s.label.clone(),
            score: *score,
            // Units of one item (e.g. its patient queries, or its participants) pair with the
            // item's other conditions.
            pair: if multi_model && !human { format!("{}|{}", s.item, s.model) } else { s.item.clone() },
            replicate: s.epoch,
            stratum: dataset.item(&s.item).and_then(|i| i.stratum.clone()).unwrap_or_default(),
            // A participant answers instead of a model by design: not a model change to flag.
            model: if human { String::new() } else { s.model.clone() },
            grader: grader.to_string(),
            unit_source,
            relaxes,
            proxy: def.is_some_and(|d| d.proxy),
        });
    }
    Ok(out)
}

/// A condition's metadata: the assumptions it relaxes (its own and those of its `with` parts,
/// `;`-separated) and where its units come from (a part's source replaces the clinician's
/// vignette, as `withheld` does).
fn cell_meta(spec: &benchcards_core::ConditionSpec, t: &Taxonomy) -> (String, String) {
    let parts: Vec<_> = std::iter::once(&spec.id).chain(&spec.with).filter_map(|id| t.condition(id)).collect();
    let mut relaxes: Vec<&str> = Vec::new();
    for p in &parts {
        if p.relaxes != "none" && !relaxes.contains(&p.relaxes.as_str()) {
            relaxes.push(&p.relaxes);
        }
    }
    let source = parts.iter().map(|p| p.query.as_str()).fold(None, |acc: Option<&str>, q| match acc {
        None | Some("clinician_vignette") => Some(q),
        Some(a) => Some(a),
    });
    (relaxes.join(";"), source.unwrap_or_default().to_string())
}

/// Decomposes a run's results along `path` with the defaults `decompose` has (pooled weights,
/// stratified bootstrap, 2,000 resamples, BCa): the same figures as `runs export` followed by
/// `benchcards decompose`, each condition's metadata taken from the rows.
pub fn decompose_results(
    rows: &[ResultRow],
    path: &[String],
    reference: Option<&str>,
    t: &Taxonomy,
) -> Result<benchcards_stats::decompose::Decomposition, String> {
    use benchcards_stats::data::{Observation, gather};
    use benchcards_stats::decompose::{ConditionMeta, DecomposeSpec, decompose};
    let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let observations: Vec<Observation> = rows
        .iter()
        .map(|r| Observation {
            unit: r.unit.clone(),
            condition: r.condition.clone(),
            score: r.score,
            pair: text(&r.pair),
            replicate: Some(r.replicate.to_string()),
            cluster: None,
            stratum: text(&r.stratum),
            weight: None,
        })
        .collect();
    let data = gather(&observations).map_err(|e| e.message)?;
    let meta = data
        .conditions
        .iter()
        .map(|c| {
            rows.iter().find(|r| &r.condition == c).map_or_else(ConditionMeta::default, |r| ConditionMeta {
                model: text(&r.model),
                grader: text(&r.grader),
                unit_source: text(&r.unit_source),
                relaxes: benchcards_core::results::split_relaxes(&r.relaxes),
                proxy: r.proxy,
            })
        })
        .collect();
    let spec = DecomposeSpec { reference: reference.map(str::to_string), ..DecomposeSpec::new(path.to_vec(), meta, t.outcome_groups()) };
    decompose(&data, &spec).map_err(|e| e.to_string())
}

/// The path a run's decomposition follows: the plan's conditions in order, with `human_study`
/// standing for the human data's labels present (the model's messages in real chats, then each
/// study arm); the study's control arm is the reference line, not a step.
pub fn decomposition_path(plan: &Plan, rows: &[ResultRow]) -> (Vec<String>, Option<String>) {
    use crate::human::{CONVERSATIONS_LABEL, arm_label};
    let present = |c: &str| rows.iter().any(|r| r.condition == c);
    let control = plan.human_study.as_ref().and_then(|h| h.control_arm.as_deref()).map(arm_label).filter(|c| present(c));
    let mut path = Vec::new();
    for c in &plan.conditions {
        if c.id == "human_study" {
            let mut arms: Vec<String> = rows.iter().map(|r| r.condition.clone()).filter(|l| l.starts_with("human_study:")).collect();
            arms.sort_by_key(|l| (l != CONVERSATIONS_LABEL, l.clone()));
            arms.dedup();
            path.extend(arms.into_iter().filter(|a| Some(a) != control.as_ref()));
        } else if present(&c.name()) {
            path.push(c.name());
        }
    }
    (path, control)
}
