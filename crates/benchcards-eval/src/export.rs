//! After a run: grade every completed sample with the plan's graders, and export the results
//! form `decompose` reads, carrying each condition's metadata (model, grader, unit source, the
//! assumption it relaxes, proxy) so confounded steps can be flagged.

use crate::dataset::Dataset;
use crate::grade::{self, Mode};
use crate::store::Store;
use benchcards_core::{GraderKind, GraderMode, GraderSpec, Plan, Taxonomy};
use serde::Serialize;

pub fn grader_name(g: &GraderSpec) -> String {
    match g.kind {
        GraderKind::Conditions => match g.mode.unwrap_or(GraderMode::Bean) {
            GraderMode::Bean => format!("conditions:bean@{}", g.threshold.unwrap_or(80)),
            GraderMode::Strict => "conditions:strict".into(),
        },
        GraderKind::Disposition => "disposition".into(),
        GraderKind::Mcq => "mcq".into(),
        GraderKind::Judge => format!("judge:{}", g.judge_model.as_deref().unwrap_or("?")),
    }
}

/// Grades every completed sample of a run; returns how many grades were written.
pub fn grade_run(store: &Store, run: &str, plan: &Plan, dataset: &Dataset) -> rusqlite::Result<usize> {
    let mut n = 0;
    for s in store.samples(run)?.into_iter().filter(|s| s.status == "done") {
        let Some(item) = dataset.item(&s.item) else { continue };
        let response = s.response.as_deref().unwrap_or("");
        for g in &plan.graders {
            let (score, detail) = match g.kind {
                GraderKind::Conditions => {
                    let mode = if g.mode == Some(GraderMode::Strict) { Mode::Strict } else { Mode::Bean };
                    let r = grade::conditions(response, &item.gold.names(), mode, g.threshold.unwrap_or(80), None);
                    (r.score, r.detail)
                }
                GraderKind::Mcq => {
                    let r = grade::mcq(response, item.gold.answer.as_deref().unwrap_or(""), &item.gold.options);
                    (r.score, r.detail)
                }
                GraderKind::Disposition => match item.gold.disposition.as_deref() {
                    Some(gold) => {
                        let d = grade::disposition(response, gold);
                        (
                            f64::from(u8::from(d.exact)),
                            format!(
                                "read {} (gold {gold}); within one: {}; under-triage: {}",
                                d.predicted.as_deref().unwrap_or("none"),
                                d.within_one,
                                d.under_triage
                            ),
                        )
                    }
                    None => continue,
                },
                // The judge needs model calls: `runner::judge_run` grades with it.
                GraderKind::Judge => continue,
            };
            store.put_grade(run, &s.key, &grader_name(g), score, &detail)?;
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
            None => (
                def.filter(|d| d.relaxes != "none").map_or_else(String::new, |d| d.relaxes.clone()),
                def.map_or_else(String::new, |d| d.query.clone()),
            ),
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
