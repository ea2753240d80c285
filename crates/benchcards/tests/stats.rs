//! decompose, gate and study through the command line.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

const SEED: &str = "examples/results/bean-seed.csv";
const META: &str = "examples/results/bean-seed-conditions.csv";
const PATH: &str = "vignette,patient_query,chat_model_messages,participant_answer";

fn run(args: &[&str]) -> (i32, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::cargo_bin("benchcards").unwrap().current_dir(root).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn json(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn decompose_seed_example_json_declares_its_estimand() {
    let v = json(&[
        "decompose",
        SEED,
        "--path",
        PATH,
        "--reference",
        "control_arm",
        "--condition-meta",
        META,
        "--resamples",
        "500",
        "--format",
        "json",
    ]);
    let scores: Vec<f64> = v["conditions"].as_array().unwrap().iter().map(|c| c["score"].as_f64().unwrap()).collect();
    for (g, w) in scores.iter().zip([0.946667, 0.828333, 0.641667, 0.34]) {
        assert!((g - w).abs() < 1e-6);
    }
    for c in v["conditions"].as_array().unwrap() {
        assert_eq!(c["n"], 600);
        assert!(c["ci"].as_array().unwrap().len() == 2 && c["proxy"] == false);
    }
    let steps = v["steps"].as_array().unwrap();
    assert_eq!(steps[1]["assumption"], "interaction_type");
    assert!(steps[1]["confounded"][0].as_str().unwrap().starts_with("grader"));
    for key in ["task", "outcome_measured", "outcome_proxy"] {
        assert!(v["subtotals"].get(key).is_some());
    }
    assert!(v["subtotals"]["outcome_proxy"].is_null());
    let e = &v["estimand"];
    assert_eq!(e["weights"], "pooled");
    assert_eq!(e["bootstrap"], "stratified");
    assert_eq!(e["strata"], 10);
    assert_eq!(e["replicates_averaged"], 1);
    assert_eq!(e["resamples"], 500);
    assert!(v["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("composition differs")));
    assert!((v["reference"]["score"].as_f64().unwrap() - 0.47).abs() < 1e-12);
}

#[test]
fn decompose_text_md_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("waterfall.svg");
    let (code, out, err) = run(&[
        "decompose",
        SEED,
        "--path",
        PATH,
        "--reference",
        "control_arm",
        "--condition-meta",
        META,
        "--resamples",
        "300",
        "--chart",
        chart.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Estimand: "));
    assert!(out.contains("not measured") || out.contains("outcome assumptions, measured with people"));
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("control_arm: 47.0%") && svg.contains("⚠ confounded") && svg.contains("stroke-dasharray")
    );
    let (_, md, _) =
        run(&["decompose", SEED, "--path", PATH, "--condition-meta", META, "--resamples", "200", "--weights", "equal", "--format", "md"]);
    assert!(md.contains("**Estimand.** Each condition's score is the equal-weighted mean"), "{md}");
}

#[test]
fn decompose_proxy_is_excluded_from_the_measured_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("r.csv");
    // The metadata a run's export carries: what each condition relaxes, and which is a proxy.
    let mut text = String::from("unit,condition,score,relaxes,proxy\n");
    for u in 0..100 {
        text.push_str(&format!(
            "u{u},vignette,{},,false\nu{u},conversation,{},interaction_type,false\nu{u},patient_decision,{},interaction_type;decision_mediation,true\n",
            (u < 90) as u8,
            (u < 70) as u8,
            (u < 50) as u8
        ));
    }
    std::fs::write(&f, text).unwrap();
    let v = json(&[
        "decompose",
        f.to_str().unwrap(),
        "--path",
        "vignette,conversation,patient_decision",
        "--resamples",
        "200",
        "--format",
        "json",
    ]);
    assert_eq!(v["conditions"][2]["proxy"], true, "the file marks patient_decision a proxy");
    assert!(v["subtotals"]["outcome_measured"].is_null(), "the outcome gap is not measured");
    assert!((v["subtotals"]["outcome_proxy"]["estimate"].as_f64().unwrap() - 0.2).abs() < 1e-12);
    assert!(v["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().starts_with("proxy:")));
}

#[test]
fn decompose_errors_point_at_the_problem() {
    let (code, _, err) = run(&["decompose", SEED, "--path", "vignette,patient_querry"]);
    assert_eq!(code, 1);
    assert!(err.contains("condition `patient_querry` is not in the results") && err.contains("patient_query"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.csv");
    std::fs::write(&f, "unit,condition,score\na,x,1\nb,x,yes\n").unwrap();
    let (code, _, err) = run(&["decompose", f.to_str().unwrap(), "--path", "x,y"]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.csv:3:5") && err.contains("`score` is `yes`, not a number"), "{err}");
    let (code, _, err) = run(&["decompose", f.to_str().unwrap(), "--path", "x,y", "--cluster-col", "participant"]);
    assert_eq!(code, 1);
    assert!(err.contains("no column `participant`"), "{err}");
}

#[test]
fn uptake_table_from_paired_units() {
    let v = json(&[
        "decompose",
        SEED,
        "--path",
        PATH,
        "--condition-meta",
        META,
        "--resamples",
        "200",
        "--uptake",
        "chat_model_messages,participant_answer",
        "--format",
        "json",
    ]);
    let u = &v["uptake"];
    assert_eq!(u["n"], 600);
    assert_eq!(u["table"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).sum::<u64>(), 600);
    let p = u["person_right_given_model_right"]["p"].as_f64().unwrap();
    assert!((p - 204.0 / 385.0).abs() < 1e-12, "in the seed file every right participant had a right model");
}

#[test]
fn gate_against_the_chatbot_tolerances() {
    let v = json(&[
        "gate",
        SEED,
        "--deployment",
        "examples/deployments/patient-symptom-chatbot.yaml",
        "--path",
        PATH,
        "--condition-meta",
        META,
        "--resamples",
        "200",
        "--format",
        "json",
    ]);
    let gates = v["gates"].as_array().unwrap();
    let by = |g: &str| gates.iter().find(|x| x["group"] == g).unwrap().clone();
    assert_eq!(by("query_authorship")["source"], "run");
    assert_eq!(by("query_authorship")["result"], "fail", "11.8 points, interval above the 5-point tolerance");
    assert_eq!(by("information_completeness")["source"], "not_measured");
    assert_eq!(by("decision_mediation")["result"], "fail");
    let (code, _, _) = run(&[
        "gate",
        SEED,
        "--deployment",
        "examples/deployments/patient-symptom-chatbot.yaml",
        "--path",
        PATH,
        "--condition-meta",
        META,
        "--resamples",
        "200",
        "--fail-on",
        "gate-fail",
    ]);
    assert_eq!(code, 3);
}

#[test]
fn gate_inconclusive_says_how_many_units_would_settle_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("r.csv");
    let mut text = String::from("unit,condition,score,relaxes\n");
    for u in 0..60 {
        text.push_str(&format!("u{u},vignette,{},\nu{u},lay_rewrite,{},query_authorship\n", (u < 50) as u8, (u < 47) as u8));
    }
    std::fs::write(&f, text).unwrap();
    let v = json(&[
        "gate",
        f.to_str().unwrap(),
        "--deployment",
        "examples/deployments/patient-symptom-chatbot.yaml",
        "--path",
        "vignette,lay_rewrite",
        "--format",
        "json",
        "--resamples",
        "200",
    ]);
    let g = v["gates"].as_array().unwrap().iter().find(|x| x["group"] == "query_authorship").unwrap().clone();
    assert_eq!(g["result"], "inconclusive", "{g}");
    assert!(g["units_to_settle"].as_u64().unwrap() > 60);
}

#[test]
fn study_power_solves_for_n_and_for_power() {
    let v = json(&["study", "power", "--design", "independent", "--p1", "0.47", "--p2", "0.34", "--power", "0.9", "--format", "json"]);
    let n = v["n"].as_f64().unwrap();
    let h = benchcards_stats::study::cohens_h(0.47, 0.34);
    assert!((n - benchcards_stats::study::n_independent(h, 0.05, 0.9)).abs() < 1e-9);
    assert_eq!(v["n_rounded_up"].as_f64().unwrap(), n.ceil());
    let v = json(&["study", "power", "--design", "independent", "--p1", "0.47", "--p2", "0.34", "--n", &n.to_string(), "--format", "json"]);
    assert!((v["power"].as_f64().unwrap() - 0.9).abs() < 1e-6);
    let v = json(&[
        "study",
        "power",
        "--design",
        "paired",
        "--p10",
        "0.2",
        "--p01",
        "0.1",
        "--power",
        "0.8",
        "--cluster-size",
        "2",
        "--icc",
        "0.3",
        "--format",
        "json",
    ]);
    assert!((v["design_effect"].as_f64().unwrap() - 1.3).abs() < 1e-12);
    // Clusters of two pairs: enough clusters for n × 1.3 pairs, and the pairs they give.
    let clusters = (v["n"].as_f64().unwrap() * 1.3 / 2.0).ceil();
    assert_eq!((v["clusters"].as_f64().unwrap(), v["observations"].as_f64().unwrap()), (clusters, 2.0 * clusters));
    let v = json(&[
        "study",
        "power",
        "--design",
        "noninferiority",
        "--p1",
        "0.8",
        "--p2",
        "0.8",
        "--margin",
        "0.1",
        "--alpha",
        "0.025",
        "--power",
        "0.9",
        "--format",
        "json",
    ]);
    assert!(v["n"].as_f64().unwrap() > 300.0);
    let (code, _, err) = run(&["study", "power", "--design", "independent", "--p1", "0.5", "--p2", "0.4"]);
    assert_eq!(code, 1);
    assert!(err.contains("either --power"), "{err}");
}

#[test]
fn study_power_counts_people_and_observations_as_the_readme_says() {
    let args = [
        "study",
        "power",
        "--design",
        "independent",
        "--p1",
        "0.47",
        "--p2",
        "0.34",
        "--power",
        "0.9",
        "--cluster-size",
        "2",
        "--icc",
        "0.1",
    ];
    let v = json(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(v["n_rounded_up"], 298.0);
    assert_eq!((v["observations"].as_f64(), v["clusters"].as_f64()), (Some(328.0), Some(164.0)), "{v}");
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("units per group with the design effect (observations)  328"), "{out}");
    assert!(out.contains("clusters per group (e.g. people)                       164 of 2 units each"), "{out}");
}

#[test]
fn study_power_refuses_what_no_study_could_show_naming_the_flag() {
    for (args, said) in [
        (
            &["--design", "noninferiority", "--p1", "0.6", "--p2", "0.8", "--margin", "0.1"][..],
            "--p1 0.6 is below --p2 0.8 by the --margin 0.1 or more",
        ),
        (&["--design", "noninferiority", "--p1", "0.6", "--p2", "0.8", "--margin=-0.1"], "--margin is -0.1"),
        (&["--design", "paired", "--p10", "0.7", "--p01", "0.5"], "--p10 0.7 and --p01 0.5 add up to 1.2"),
        (&["--design", "independent", "--p1", "0.5", "--p2", "0.5"], "no difference to detect"),
        (&["--design", "paired", "--p10", "0.2", "--p01", "0.2"], "no difference to detect"),
        (
            &["--design", "independent", "--p1", "0.5", "--p2", "0.4", "--exact"],
            "--exact computes the exact McNemar test of the paired design",
        ),
    ] {
        let (code, out, err) = run(&[&["study", "power", "--power", "0.9"][..], args].concat());
        assert_eq!(code, 1, "{args:?}: {out}");
        // miette wraps long messages; compare the words.
        let words = err.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ");
        assert!(words.contains(said), "{args:?}: {err}");
        assert!(out.is_empty(), "no table for a refused question: {out}");
    }
}

#[test]
fn study_power_exact_mcnemar_finds_the_fewest_pairs() {
    let v =
        json(&["study", "power", "--design", "paired", "--p10", "0.3", "--p01", "0.05", "--power", "0.8", "--exact", "--format", "json"]);
    let n = benchcards_stats::study::n_paired_exact(0.3, 0.05, 0.05, 0.8).unwrap();
    assert_eq!((v["n"].as_f64(), v["exact"].as_bool()), (Some(n as f64), Some(true)), "{v}");
    assert!(v["power"].as_f64().unwrap() >= 0.8);
    let v = json(&[
        "study",
        "power",
        "--design",
        "paired",
        "--p10",
        "0.3",
        "--p01",
        "0.05",
        "--n",
        &n.to_string(),
        "--exact",
        "--format",
        "json",
    ]);
    assert_eq!(v["power"].as_f64(), Some(benchcards_stats::study::power_paired_exact(0.3, 0.05, n, 0.05)));
}

#[test]
fn study_analyze_with_control_and_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("study.csv");
    let mut text = String::from("participant,arm,scenario,score\n");
    let rates = [("s1", 0.2, 0.5), ("s2", 0.4, 0.5), ("s3", 0.6, 0.5), ("s4", 0.3, 0.5)];
    let mut p = 0;
    for (s, llm, ctl) in rates {
        for i in 0..50 {
            p += 1;
            text.push_str(&format!("p{p},llm,{s},{}\n", ((i as f64) < llm * 50.0) as u8));
            p += 1;
            text.push_str(&format!("p{p},control,{s},{}\n", ((i as f64) < ctl * 50.0) as u8));
        }
    }
    std::fs::write(&f, text).unwrap();
    let sim = dir.path().join("sim.csv");
    let mut s = String::from("unit,condition,score,stratum\n");
    for (sc, rate) in [("s1", 0.5), ("s2", 0.7), ("s3", 0.9), ("s4", 0.6)] {
        for i in 0..10 {
            s.push_str(&format!("{sc}-{i},patient_decision,{},{sc}\n", ((i as f64) < rate * 10.0) as u8));
        }
    }
    std::fs::write(&sim, s).unwrap();
    let v =
        json(&["study", "analyze", f.to_str().unwrap(), "--control", "control", "--simulated", sim.to_str().unwrap(), "--format", "json"]);
    let llm = v["arms"].as_array().unwrap().iter().find(|a| a["arm"] == "llm").unwrap().clone();
    assert!((llm["rate"].as_f64().unwrap() - 0.375).abs() < 1e-12);
    let or = llm["vs_control"]["odds_ratio_control_over_arm"].as_f64().unwrap();
    assert!((or - (100.0 / 100.0) / (75.0 / 125.0)).abs() < 1e-9, "{or}");
    let vs = &llm["vs_control"];
    assert_eq!((vs["test"].as_str(), vs["difference"].as_f64()), (Some("chi2"), Some(0.375 - 0.5)), "{vs}");
    assert_eq!(vs["p_holm"], vs["p"], "one comparison: nothing to adjust");
    assert!(vs["difference_ci"][0].as_f64().unwrap() < -0.125 && vs["difference_ci"][1].as_f64().unwrap() > -0.125);
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 8);
    let c = &v["calibration"];
    assert!((c["slope"].as_f64().unwrap() - 1.0).abs() < 1e-9, "human rates are the simulated ones minus 0.3: {c}");
    assert!((c["spearman"].as_f64().unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn study_analyze_uses_fisher_for_small_arms_adjusts_for_several_and_never_prints_zero() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("study.csv");
    let mut text = String::from("participant,arm,scenario,score\n");
    for (arm, right, n) in [("control", 282, 600), ("llm", 204, 600), ("small", 1, 8)] {
        for i in 0..n {
            text.push_str(&format!("{arm}{i},{arm},s{},{}\n", i % 3, u8::from(i < right)));
        }
    }
    std::fs::write(&f, text).unwrap();
    let v = json(&["study", "analyze", f.to_str().unwrap(), "--control", "control", "--format", "json"]);
    let vs = |arm: &str| v["arms"].as_array().unwrap().iter().find(|a| a["arm"] == arm).unwrap()["vs_control"].clone();
    let (llm, small) = (vs("llm"), vs("small"));
    assert_eq!((llm["test"].as_str(), small["test"].as_str()), (Some("chi2"), Some("fisher_exact")));
    assert_eq!(small["p"].as_f64(), Some(benchcards_stats::proportion::fisher_exact(1, 7, 282, 318)));
    let p: Vec<f64> = [&llm, &small].iter().map(|x| x["p"].as_f64().unwrap()).collect();
    let holm = benchcards_stats::proportion::holm(&p);
    assert_eq!((llm["p_holm"].as_f64(), small["p_holm"].as_f64()), (Some(holm[0]), Some(holm[1])));
    assert_eq!(v["comparisons"], 2);
    let (code, out, err) = run(&["study", "analyze", f.to_str().unwrap(), "--control", "control"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Holm-adjusted over 2 comparisons") && out.contains("Fisher exact (an expected count is 3.7 < 5)"), "{out}");
    assert!(out.contains("< 0.0001") && !out.contains("0.0000"), "{out}");
}

#[test]
fn impossible_settings_are_refused_with_a_reason_never_a_panic() {
    // `--confidence 1.5` or `NaN` used to panic inside the normal quantile; a huge resample
    // count allocated until the process was killed.
    for confidence in ["1.5", "NaN", "0"] {
        for args in [
            vec!["decompose", "examples/results/bean-seed.csv", "--path", "vignette,patient_query", "--confidence", confidence],
            vec!["study", "analyze", "examples/results/bean-seed.csv", "--control", "control_arm", "--confidence", confidence],
        ] {
            let (code, _, err) = run(&args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains("is not a confidence level") && !err.contains("panicked"), "{err}");
        }
    }
    let (code, _, err) =
        run(&["decompose", "examples/results/bean-seed.csv", "--path", "vignette,patient_query", "--resamples", "4000000000"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("more than the 1000000 allowed"), "{err}");
}

#[test]
fn one_item_per_stratum_with_an_averaged_score_gets_real_intervals_and_an_inconclusive_gate() {
    // The demo's export: one item per scenario, two openings averaged into the item's score, and
    // one opening graded right. Nothing within a one-item stratum can be resampled: the strata
    // are pooled for the variance, never shown as a zero-width interval, and n = 4 settles no gate.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("results.csv");
    let mut text = String::from("unit,condition,score,pair,replicate,stratum,relaxes\n");
    for (i, stratum) in ["common_cold", "tension_type_headache", "gallstones", "anaemia"].iter().enumerate() {
        let item = format!("sx-00{i}");
        text.push_str(&format!("{item},vignette,{},{item},0,{stratum},\n", (i < 2) as u8));
        for q in 1..=2 {
            let right = i == 0 && q == 1;
            text.push_str(&format!("{item}#q{q},patient_query,{},{item},0,{stratum},query_authorship\n", right as u8));
        }
        text.push_str(&format!("{item},conversation,0,{item},0,{stratum},query_authorship;interaction_type\n"));
    }
    std::fs::write(&f, text).unwrap();
    let file = f.to_str().unwrap();
    let v = json(&["decompose", file, "--path", "vignette,patient_query,conversation", "--format", "json", "--resamples", "500"]);
    for c in v["conditions"].as_array().unwrap().iter().chain(v["steps"].as_array().unwrap()) {
        let ci = c["ci"].as_array().unwrap();
        assert!(ci[1].as_f64().unwrap() > ci[0].as_f64().unwrap(), "zero-width interval: {c}");
    }
    assert!(v["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("collapsed strata")), "{}", v["warnings"]);
    let v = json(&[
        "gate",
        file,
        "--deployment",
        "examples/deployments/patient-symptom-chatbot.yaml",
        "--path",
        "vignette,patient_query,conversation",
        "--format",
        "json",
        "--resamples",
        "500",
    ]);
    let gates = v["gates"].as_array().unwrap();
    let g = gates.iter().find(|x| x["group"] == "query_authorship").unwrap();
    assert_eq!(g["result"], "inconclusive", "{g}");
}

#[test]
fn decompose_shows_heterogeneity_and_sensitivity_and_calls_no_confounded_step_an_effect() {
    let (code, out, err) = run(&["decompose", SEED, "--path", PATH, "--condition-meta", META, "--resamples", "200", "--sensitivity"]);
    assert_eq!(code, 0, "{err}");
    for expected in [
        "Intervals (95%) generalise to these scenarios",
        "Across strata: these scenarios, and scenarios like these",
        "95% prediction interval",
        "one stratum left out (most: `common_cold`)",
        "a drop between conditions that differ in more than the assumption",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(!out.contains("the effect of relaxing"), "every seed step is confounded:\n{out}");
}

#[test]
fn metadata_nobody_stated_is_unknown_never_guessed_from_a_condition_name() {
    // Real participants' answers under a condition named like the taxonomy's simulated one.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("r.csv");
    let mut text = String::from("unit,condition,score\n");
    for u in 0..50 {
        text.push_str(&format!("u{u},conversation,{}\nu{u},patient_decision,{}\n", (u < 40) as u8, (u < 25) as u8));
    }
    std::fs::write(&f, text).unwrap();
    let v = json(&["decompose", f.to_str().unwrap(), "--path", "conversation,patient_decision", "--format", "json", "--resamples", "200"]);
    assert_eq!(v["conditions"][1]["proxy"], false, "not labelled a simulated proxy by its name");
    let step = &v["steps"][0];
    assert_eq!(step["kind"], "unclassified");
    assert_eq!(step["unknown"], serde_json::json!(["model", "grader", "unit_source"]), "{step}");
    let (_, out, _) = run(&["decompose", f.to_str().unwrap(), "--path", "conversation,patient_decision", "--resamples", "200"]);
    assert!(out.contains("unknown: model, grader, unit_source not stated") && !out.contains("the effect of"), "{out}");
}
