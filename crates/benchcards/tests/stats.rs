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
    let mut text = String::from("unit,condition,score\n");
    for u in 0..100 {
        text.push_str(&format!(
            "u{u},vignette,{}\nu{u},conversation,{}\nu{u},patient_decision,{}\n",
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
    assert_eq!(v["conditions"][2]["proxy"], true, "the taxonomy marks patient_decision a proxy");
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
    let mut text = String::from("unit,condition,score\n");
    for u in 0..60 {
        text.push_str(&format!("u{u},vignette,{}\nu{u},lay_rewrite,{}\n", (u < 50) as u8, (u < 47) as u8));
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
    assert_eq!(v["n_with_design_effect"].as_f64().unwrap(), (v["n"].as_f64().unwrap() * 1.3).ceil());
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
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 8);
    let c = &v["calibration"];
    assert!((c["slope"].as_f64().unwrap() - 1.0).abs() < 1e-9, "human rates are the simulated ones minus 0.3: {c}");
    assert!((c["spearman"].as_f64().unwrap() - 1.0).abs() < 1e-12);
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
