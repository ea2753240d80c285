//! SPEC §1's seed example: 600 units per condition, #2–#4 paired, reproduced exactly under pooled
//! weights, with the equal-weight figures computed independently here.

use benchcards_stats::bootstrap::{BootstrapSpec, IntervalMethod, Scheme};
use benchcards_stats::data::{ResultRow, Weights, gather};
use benchcards_stats::decompose::{ConditionMeta, DecomposeSpec, StepKind, decompose};
use std::collections::BTreeMap;

fn seed_rows() -> Vec<ResultRow> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/results/bean-seed.csv");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            ResultRow {
                unit: f[0].into(),
                condition: f[1].into(),
                score: f[2].parse().unwrap(),
                stratum: Some(f[3].into()),
                ..Default::default()
            }
        })
        .collect()
}

fn meta(relaxes: &[&str], grader: &str, source: &str) -> ConditionMeta {
    ConditionMeta {
        model: Some("gpt-4o".into()),
        grader: Some(grader.into()),
        unit_source: Some(source.into()),
        relaxes: relaxes.iter().map(|s| s.to_string()).collect(),
        proxy: false,
    }
}

fn spec(data: &benchcards_stats::data::Data, weights: Weights) -> DecomposeSpec {
    let m = |c: &str| match c {
        "vignette" => meta(&[], "final", "samples"),
        "patient_query" => meta(&["query_authorship"], "final", "participants"),
        "chat_model_messages" => meta(&["query_authorship", "interaction_type"], "any message", "participants"),
        "participant_answer" => meta(&["query_authorship", "interaction_type", "decision_mediation"], "final", "participants"),
        _ => ConditionMeta::default(),
    };
    DecomposeSpec {
        path: ["vignette", "patient_query", "chat_model_messages", "participant_answer"].map(String::from).to_vec(),
        reference: Some("control_arm".into()),
        weights,
        bootstrap: BootstrapSpec { resamples: 400, scheme: Scheme::Stratified, interval: IntervalMethod::Bca, ..Default::default() },
        meta: data.conditions.iter().map(|c| m(c)).collect(),
        outcome_groups: vec!["decision_mediation".into(), "outcome_validity".into()],
        shapley: None,
        standardise_with: Weights::Equal,
        sensitivity: false,
    }
}

#[test]
fn pooled_figures_reproduce_the_paper() {
    let data = gather(&seed_rows()).unwrap();
    let d = decompose(&data, &spec(&data, Weights::Pooled)).unwrap();
    let scores: Vec<f64> = d.conditions.iter().map(|c| c.score).collect();
    for (got, want) in scores.iter().zip([0.946667, 0.828333, 0.641667, 0.340000]) {
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
    let contributions: Vec<f64> = d.steps.iter().map(|s| s.contribution).collect();
    for (got, want) in contributions.iter().zip([0.118333, 0.186667, 0.301667]) {
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
    assert!((d.total.estimate - 0.606667).abs() < 1e-6);
    assert_eq!(d.conditions.iter().map(|c| c.n).collect::<Vec<_>>(), [600, 600, 600, 600]);
    assert_eq!(d.conditions[0].method, "wilson");
    assert_eq!((d.steps[0].method, d.steps[1].method), ("newcombe_unpaired", "newcombe_paired"));
    assert_eq!(
        d.steps.iter().map(|s| s.assumption.as_str()).collect::<Vec<_>>(),
        ["query_authorship", "interaction_type", "decision_mediation"]
    );
    assert_eq!(d.steps[0].confounded, ["unit_source: samples → participants"]);
    assert_eq!(d.steps[1].confounded, ["grader: final → any message"]);
    assert_eq!(d.steps[2].kind, StepKind::OutcomeMeasured);
    let task = d.subtotals.task.as_ref().unwrap();
    assert!((task.estimate - 0.305).abs() < 1e-6);
    assert!((d.subtotals.outcome_measured.as_ref().unwrap().estimate - 0.301667).abs() < 1e-6);
    assert!(d.subtotals.outcome_proxy.is_none());
    let r = d.reference.as_ref().unwrap();
    assert!((r.score - 0.47).abs() < 1e-12, "the control arm (47.0%) lies above the LLM arm's 34.0%");
    for c in &d.conditions {
        assert!(c.ci[0] < c.score && c.score < c.ci[1]);
    }
    // Composition differs (60 samples per scenario for #1; 43–85 conversations for #2–#4).
    assert!(d.standardised.is_some());
    assert!(d.warnings.iter().any(|w| w.contains("composition differs")));
    // The common cold scores higher from the patient's message than from the vignette.
    let cold = d.per_stratum.as_ref().unwrap().iter().find(|r| r.stratum == "common_cold").unwrap();
    assert!(cold.steps[0].0 < 0.0, "negative contribution kept as it is");
}

#[test]
fn equal_weights_match_a_hand_computation() {
    let rows = seed_rows();
    let data = gather(&rows).unwrap();
    let d = decompose(&data, &spec(&data, Weights::Equal)).unwrap();
    // Independent computation: mean over scenarios of each scenario's mean.
    let mut by: BTreeMap<(&str, &str), (f64, f64)> = BTreeMap::new();
    for r in &rows {
        let e = by.entry((r.condition.as_str(), r.stratum.as_deref().unwrap())).or_insert((0.0, 0.0));
        e.0 += r.score;
        e.1 += 1.0;
    }
    let equal = |cond: &str| {
        let means: Vec<f64> = by.iter().filter(|((c, _), _)| *c == cond).map(|(_, (s, n))| s / n).collect();
        means.iter().sum::<f64>() / means.len() as f64
    };
    for c in &d.conditions {
        assert!((c.score - equal(&c.id)).abs() < 1e-12, "{}: {} vs {}", c.id, c.score, equal(&c.id));
        assert_eq!(c.method, "bootstrap", "weighted figures take bootstrap intervals");
    }
    assert!((d.total.estimate - (equal("vignette") - equal("participant_answer"))).abs() < 1e-12);
    assert_eq!(d.estimand.weights, "equal");
}

#[test]
fn shapley_over_a_full_factorial_and_refusal_when_a_cell_is_missing() {
    // Four cells over two assumptions, 100 units each (paired): ∅ 0.9, {q} 0.8, {i} 0.6, {q,i} 0.4.
    let cells = [("base", 90, vec![]), ("q", 80, vec!["q"]), ("i", 60, vec!["i"]), ("qi", 40, vec!["q", "i"])];
    let rows: Vec<ResultRow> = cells
        .iter()
        .flat_map(|(c, x, _)| {
            (0..100).map(move |u| ResultRow {
                unit: format!("u{u}"),
                condition: c.to_string(),
                score: (u < *x) as u8 as f64,
                ..Default::default()
            })
        })
        .collect();
    let data = gather(&rows).unwrap();
    let meta: Vec<ConditionMeta> = data
        .conditions
        .iter()
        .map(|c| ConditionMeta {
            relaxes: cells.iter().find(|x| x.0 == c).unwrap().2.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        })
        .collect();
    let mut s = DecomposeSpec {
        path: vec!["base".into(), "q".into(), "qi".into()],
        reference: None,
        weights: Weights::Pooled,
        bootstrap: BootstrapSpec { resamples: 300, ..Default::default() },
        meta,
        outcome_groups: vec![],
        shapley: Some(vec!["q".into(), "i".into()]),
        standardise_with: Weights::Equal,
        sensitivity: true,
    };
    let d = decompose(&data, &s).unwrap();
    let sh = d.shapley.unwrap();
    // φ_q = ½[(0.9−0.8) + (0.6−0.4)] = 0.15; φ_i = ½[(0.9−0.6) + (0.8−0.4)] = 0.35; sum = total 0.5.
    assert!((sh[0].value - 0.15).abs() < 1e-12 && (sh[1].value - 0.35).abs() < 1e-12, "{sh:?}");
    assert!((sh[0].value + sh[1].value - d.total.estimate).abs() < 1e-12);
    // Over both orders of the path: q costs 0.1 (first) or 0.2 (after i); i costs 0.3 or 0.4.
    let orders = d.sensitivity.as_ref().unwrap().path_orders.clone().unwrap();
    let close = |x: [f64; 2], y: [f64; 2]| (x[0] - y[0]).abs() < 1e-12 && (x[1] - y[1]).abs() < 1e-12;
    assert!(orders[0].0 == "q" && close(orders[0].1, [0.1, 0.2]) && orders[1].0 == "i" && close(orders[1].1, [0.3, 0.4]), "{orders:?}");
    // Without the {i} cell the factorial is incomplete: Shapley is refused, sequential stands.
    s.meta[data.condition_index("i").unwrap()].relaxes = vec!["q".into(), "x".into()];
    let d = decompose(&data, &s).unwrap();
    assert!(d.shapley.is_none());
    assert!(d.warnings.iter().any(|w| w.contains("Shapley values refused") && w.contains("{i}")), "{:?}", d.warnings);
    assert_eq!(d.steps.len(), 2);
    // A fifth condition also filling the {i} cell: which one to use is a guess, so Shapley is
    // refused too.
    s.meta[data.condition_index("i").unwrap()].relaxes = vec!["i".into()];
    let mut rows = rows;
    rows.extend((0..100).map(|u| ResultRow {
        unit: format!("u{u}"),
        condition: "i2".into(),
        score: (u < 70) as u8 as f64,
        ..Default::default()
    }));
    let data = gather(&rows).unwrap();
    s.meta.push(ConditionMeta { relaxes: vec!["i".into()], ..Default::default() });
    let d = decompose(&data, &s).unwrap();
    assert!(d.shapley.is_none());
    assert!(d.warnings.iter().any(|w| w.contains("several conditions") && w.contains("{i} by `i` and `i2`")), "{:?}", d.warnings);
}

#[test]
fn a_stratum_of_one_unit_gets_no_interval_rather_than_one_of_width_zero() {
    // The common cold keeps one unit per condition; the other scenarios keep all theirs.
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<ResultRow> =
        seed_rows().into_iter().filter(|r| r.stratum.as_deref() != Some("common_cold") || seen.insert(r.condition.clone())).collect();
    let data = gather(&rows).unwrap();
    let d = decompose(&data, &spec(&data, Weights::Pooled)).unwrap();
    let rows = d.per_stratum.as_ref().unwrap();
    let cold = rows.iter().find(|r| r.stratum == "common_cold").unwrap();
    assert!(cold.conditions.iter().all(|(n, _, ci)| *n == 1 && ci.is_none()), "{:?}", cold.conditions);
    assert!(cold.steps.iter().all(|(_, ci)| ci.is_none()), "{:?}", cold.steps);
    let other = rows.iter().find(|r| r.stratum != "common_cold").unwrap();
    assert!(other.conditions.iter().all(|(n, _, ci)| *n > 1 && ci.is_some_and(|[lo, hi]| lo < hi)), "{:?}", other.conditions);
    assert!(other.steps.iter().all(|(_, ci)| ci.is_some()), "{:?}", other.steps);
}

#[test]
fn bad_settings_are_refused_and_partly_paired_steps_are_named() {
    let data = gather(&seed_rows()).unwrap();
    let with = |f: &dyn Fn(&mut DecomposeSpec)| {
        let mut s = spec(&data, Weights::Pooled);
        f(&mut s);
        decompose(&data, &s)
    };
    for confidence in [1.5, 0.0, f64::NAN] {
        let e = with(&|s| s.bootstrap.confidence = confidence).unwrap_err();
        assert!(e.contains("between 0 and 1"), "{confidence}: {e}");
    }
    let e = with(&|s| s.bootstrap.resamples = 4_000_000_000).unwrap_err();
    assert!(e.contains("more than the 1000000 allowed"), "{e}");
    let zero: Vec<(String, f64)> = data.strata.iter().map(|s| (s.clone(), 0.0)).collect();
    let e = with(&|s| s.weights = Weights::CaseMix(zero.clone())).unwrap_err();
    assert!(e.contains("sum to zero"), "{e}");
    // The seed's vignette arm has its own units: unpaired by design, no warning.
    let d = with(&|_| {}).unwrap();
    assert!(!d.warnings.iter().any(|w| w.contains("only one of")), "{:?}", d.warnings);
    // One participant's row lost from a paired condition: the step says so.
    let mut rows = seed_rows();
    let lost = rows.iter().position(|r| r.condition == "chat_model_messages").unwrap();
    let unit = rows.remove(lost).unit;
    let data = gather(&rows).unwrap();
    let d = decompose(&data, &spec(&data, Weights::Pooled)).unwrap();
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("1 unit(s) have a score under only one of `patient_query` and `chat_model_messages`") && w.contains(&unit)),
        "{:?}",
        d.warnings
    );
}

#[test]
fn sensitivity_leaves_each_stratum_out_and_tries_the_other_grader() {
    // Three strata of 10 paired units; the step a → b costs 0.1, 0.2 and 0.6 in them. A third
    // condition `b_strict` is `b` graded otherwise, scoring 0.1 lower everywhere.
    let mut rows = Vec::new();
    for (h, drop) in [0.1, 0.2, 0.6].iter().enumerate() {
        for u in 0..10 {
            let a = (u < 9) as u8 as f64;
            let b = ((u as f64) < 9.0 - drop * 10.0) as u8 as f64;
            let strict = ((u as f64) < 8.0 - drop * 10.0) as u8 as f64;
            for (c, v) in [("a", a), ("b", b), ("b_strict", strict)] {
                rows.push(ResultRow {
                    unit: format!("s{h}u{u}"),
                    condition: c.into(),
                    score: v,
                    stratum: Some(format!("s{h}")),
                    ..Default::default()
                });
            }
        }
    }
    let data = gather(&rows).unwrap();
    let meta = |grader: &str, relaxes: &[&str]| ConditionMeta {
        grader: Some(grader.into()),
        model: Some("m".into()),
        unit_source: Some("x".into()),
        relaxes: relaxes.iter().map(|s| s.to_string()).collect(),
        proxy: false,
    };
    let metas: Vec<ConditionMeta> = data
        .conditions
        .iter()
        .map(|c| match c.as_str() {
            "a" => meta("bean", &[]),
            "b" => meta("bean", &["interaction_type"]),
            _ => meta("strict", &["interaction_type"]),
        })
        .collect();
    let spec = DecomposeSpec { sensitivity: true, ..DecomposeSpec::new(vec!["a".into(), "b".into()], metas, vec![]) };
    let d = decompose(&data, &spec).unwrap();
    assert!((d.steps[0].contribution - 0.3).abs() < 1e-12);
    let s = d.sensitivity.unwrap();
    // Without s2 the step is 0.15; without s0, 0.4: the range, and s2 moves it most.
    let loo = s.leave_one_stratum_out[0].clone().unwrap();
    assert!((loo.range[0] - 0.15).abs() < 1e-12 && (loo.range[1] - 0.4).abs() < 1e-12, "{loo:?}");
    assert_eq!(loo.most_influential, "s2");
    assert_eq!(s.graders[0].len(), 1);
    assert!(s.graders[0][0].0.contains("b_strict") && (s.graders[0][0].1 - 0.4).abs() < 1e-12, "{:?}", s.graders);
    // The step's spread across the three strata: Cochran's Q well above its 2 degrees of freedom.
    let h = d.steps[0].heterogeneity.clone().unwrap();
    assert!(h.strata == 3 && h.i2 > 0.5 && h.prediction.is_some(), "{h:?}");
}
