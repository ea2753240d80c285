//! A run's results: its graded samples as rows of the results form `decompose` reads, carrying
//! each condition's metadata (model, grader, unit source, the assumption it relaxes, proxy) so
//! confounded steps can be flagged, by a grader named or the plan's first; the path its
//! decomposition follows; and that decomposition.

use crate::dataset::Dataset;
use crate::store::Store;
use benchcards_core::{Plan, Taxonomy};
use benchcards_stats::data::ResultRow;

/// A run's graded samples (by `grader`) as rows of the results form, each with its condition's
/// metadata: a plan cell's from the taxonomy's conditions it composes, a label the plan does not
/// list (the human data's) from its condition alone. Samples in `exclude` are left out.
pub fn results(
    store: &Store,
    run: &str,
    plan: &Plan,
    dataset: &Dataset,
    t: &Taxonomy,
    grader: &str,
    exclude: &std::collections::HashSet<String>,
) -> rusqlite::Result<Vec<ResultRow>> {
    let grades: std::collections::HashMap<String, f64> =
        store.grades(run)?.into_iter().filter(|(_, g, _, _)| g == grader).map(|(k, _, s, _)| (k, s)).collect();
    let multi_model = plan.models.iter().filter(|m| m.under_test).count() > 1;
    let mut out = Vec::new();
    for s in store.samples(run)?.into_iter().filter(|s| s.status == "done" && !exclude.contains(&s.key)) {
        let Some(score) = grades.get(&s.key) else { continue };
        let human = s.condition == "human_study";
        let parts: Vec<&str> = match plan.conditions.iter().find(|c| c.name() == s.label) {
            Some(spec) => std::iter::once(&spec.id).chain(&spec.with).map(String::as_str).collect(),
            None => vec![s.condition.as_str()],
        };
        let meta = t.condition_meta(&parts);
        out.push(ResultRow {
            unit: s.unit.clone(),
            condition: s.label.clone(),
            score: *score,
            // Units of one item (e.g. its patient queries, or its participants) pair with the
            // item's other conditions.
            pair: Some(if multi_model && !human { format!("{}|{}", s.item, s.model) } else { s.item.clone() }),
            replicate: Some(s.epoch.to_string()),
            stratum: dataset.item(&s.item).and_then(|i| i.stratum.clone()),
            // A participant answers instead of a model by design: not a model change to flag.
            model: (!human).then(|| s.model.clone()),
            grader: Some(grader.to_string()),
            unit_source: t.unit_source(&parts),
            relaxes: meta.relaxes,
            proxy: meta.proxy,
            ..Default::default()
        });
    }
    Ok(out)
}

/// A run's graded results by `grader` (default: the plan's first), with the grader's name;
/// with `faithful_only`, without the simulated conversations that failed a fidelity check (a
/// sensitivity analysis). Strata come from the dataset, read again from where the run found it.
pub fn graded_results(
    store: &Store,
    run: &str,
    plan: &Plan,
    grader: Option<&str>,
    faithful_only: bool,
) -> Result<(Vec<ResultRow>, String), String> {
    let grader = grader
        .map(str::to_string)
        .or_else(|| plan.graders.first().map(benchcards_core::GraderSpec::name))
        .ok_or_else(|| "the plan has no grader".to_string())?;
    let ds = crate::view::run_dataset(plan)?;
    let exclude =
        if faithful_only { crate::fidelity::unfaithful_samples(store, run).map_err(|e| e.to_string())? } else { Default::default() };
    let rows = results(store, run, plan, &ds, benchcards_core::taxonomy(), &grader, &exclude).map_err(|e| e.to_string())?;
    // A deployment that declares its users' persona mix has persona designs standardised to it.
    let mix = benchcards_core::load_profile(std::path::Path::new(&plan.deployment)).map(|(p, _)| p.persona_mix).unwrap_or_default();
    Ok((if mix.is_empty() { rows } else { standardise_personas(rows, plan, &mix)? }, grader))
}

/// Rows of persona designs standardised to a users' mix (axis → value → share): for each pair,
/// condition and replicate, the rows of the condition's personas (units `ITEM@PERSONA`) become
/// one row whose score weighs each persona by its share of the mix, renormalised over the
/// personas present. Without a mix, `decompose` averages a pair's persona rows equally (the
/// design's own mix). Other rows are kept as they are.
pub fn standardise_personas(
    rows: Vec<ResultRow>,
    plan: &Plan,
    mix: &indexmap::IndexMap<String, indexmap::IndexMap<String, f64>>,
) -> Result<Vec<ResultRow>, String> {
    let c = benchcards_core::personas::catalogue();
    let mut weights: std::collections::HashMap<(String, String), f64> = Default::default();
    for spec in &plan.conditions {
        for p in crate::conditions::personas_of(spec, &plan.personas)? {
            weights.insert((spec.name(), p.id.clone()), c.weight(&p, mix));
        }
    }
    let mut out = Vec::new();
    // (pair, condition, replicate) → the row standing for them, Σ weight × score, Σ weight.
    type Key = (String, String, Option<String>);
    let mut groups: indexmap::IndexMap<Key, (ResultRow, f64, f64)> = Default::default();
    for r in rows {
        let persona = r.unit.split_once('@').map(|(_, p)| (r.condition.clone(), p.to_string()));
        let Some(w) = persona.and_then(|k| weights.get(&k).copied()) else {
            out.push(r);
            continue;
        };
        let pair = r.pair.clone().unwrap_or_else(|| r.unit.clone());
        let g = groups
            .entry((pair.clone(), r.condition.clone(), r.replicate.clone()))
            .or_insert_with(|| (ResultRow { unit: pair, ..r.clone() }, 0.0, 0.0));
        g.1 += w * r.score;
        g.2 += w;
    }
    out.extend(groups.into_values().filter(|(_, _, w)| *w > 0.0).map(|(row, sum, w)| ResultRow { score: sum / w, ..row }));
    Ok(out)
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
    use benchcards_stats::data::gather;
    use benchcards_stats::decompose::{ConditionMeta, DecomposeSpec, decompose};
    let data = gather(rows).map_err(|e| e.message)?;
    let meta = data
        .conditions
        .iter()
        .map(|c| rows.iter().find(|r| &r.condition == c).map_or_else(ConditionMeta::default, ResultRow::condition_meta))
        .collect();
    let spec = DecomposeSpec { reference: reference.map(str::to_string), ..DecomposeSpec::new(path.to_vec(), meta, t.outcome_groups()) };
    decompose(&data, &spec).map_err(|e| e.to_string())
}

/// The path a run's decomposition follows: the plan's chain of conditions in order, with
/// `human_study` standing for the human data's labels present (the model's messages in real
/// chats, then each study arm); the study's control arm is the reference line, not a step. Left
/// out of the chain: factorial cells (`with:`, for `decompose --shapley`), a labelled variant of
/// a condition already on it (e.g. the misreporting patient's conversation), and, once real
/// people's decisions are present, the simulated person's (a proxy for what they measure).
pub fn decomposition_path(plan: &Plan, rows: &[ResultRow]) -> (Vec<String>, Option<String>) {
    use crate::human::{CONVERSATIONS_LABEL, arm_label};
    let present = |c: &str| rows.iter().any(|r| r.condition == c);
    let control = plan.human_study.as_ref().and_then(|h| h.control_arm.as_deref()).map(arm_label).filter(|c| present(c));
    let people = rows.iter().any(|r| r.condition.starts_with("human_study:") && r.condition != CONVERSATIONS_LABEL);
    let mut path = Vec::new();
    let mut ids = Vec::new();
    for c in &plan.conditions {
        if c.id == "human_study" {
            let mut arms: Vec<String> = rows.iter().map(|r| r.condition.clone()).filter(|l| l.starts_with("human_study:")).collect();
            arms.sort_by_key(|l| (l != CONVERSATIONS_LABEL, l.clone()));
            arms.dedup();
            path.extend(arms.into_iter().filter(|a| Some(a) != control.as_ref()));
        } else if present(&c.name())
            && c.with.is_empty()
            && !ids.contains(&c.id)
            && !(people && rows.iter().any(|r| r.condition == c.name() && r.proxy))
        {
            path.push(c.name());
        }
        ids.push(c.id.clone());
    }
    (path, control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_s_path_is_its_chain_without_factorial_cells_variants_or_proxies_people_replace() {
        let plan: Plan = serde_json::from_value(serde_json::json!({
            "version": 1, "id": "p", "card": "c.yaml", "deployment": "d.yaml", "dataset": "x.jsonl",
            "models": [{"id": "m", "provider": "mock"}],
            "conditions": [{"id": "vignette"}, {"id": "lay_rewrite"}, {"id": "conversation"},
                {"id": "conversation", "label": "conversation_misreporting", "patient": "misreporting"},
                {"id": "patient_decision"}, {"id": "lay_rewrite", "with": ["withheld"]}, {"id": "human_study"}],
            "graders": [{"kind": "conditions"}],
            "human_study": {"path": "s.csv", "control_arm": "control"}
        }))
        .unwrap();
        let row = |condition: &str, proxy: bool| ResultRow { unit: "u".into(), condition: condition.into(), proxy, ..Default::default() };
        let model = ["vignette", "lay_rewrite", "conversation", "conversation_misreporting", "lay_rewrite+withheld"];
        let mut rows: Vec<ResultRow> = model.iter().map(|c| row(c, false)).chain([row("patient_decision", true)]).collect();
        let (path, reference) = decomposition_path(&plan, &rows);
        assert_eq!(path, ["vignette", "lay_rewrite", "conversation", "patient_decision"]);
        assert_eq!(reference, None);
        rows.extend([row("human_study:with_model", false), row("human_study:control", false)]);
        let (path, reference) = decomposition_path(&plan, &rows);
        assert_eq!(path, ["vignette", "lay_rewrite", "conversation", "human_study:with_model"]);
        assert_eq!(reference.as_deref(), Some("human_study:control"));
    }
}
