//! `grade --meta-eval`: a rubric's judges (mock servers answering each criterion their own way)
//! checked against people's labels in a fixture written for this test. The hand-counted table
//! of one judge against the people is [[3, 1], [0, 4]] (rows: the judge says not met / met;
//! columns: the people), one of the tables `scripts/stats_reference.py` checks against
//! statsmodels' `cohens_kappa`; the command prints the same kappa and interval.

use assert_cmd::Command;
use benchcards_mock::{MockConfig, MockServer, start};
use benchcards_stats::agreement::cohens_kappa;
use std::path::Path;

const MET: &str = r#"{"explanation": "It does.", "criteria_met": true}"#;
const NOT_MET: &str = r#"{"explanation": "It does not.", "criteria_met": false}"#;

async fn judge(met: &[&str], otherwise: &str) -> MockServer {
    let replies = met.iter().map(|m| (vec![m.to_string()], MET.to_string())).collect();
    start(MockConfig { replies, reply: Some(otherwise.into()), ..Default::default() }, 0).await.unwrap()
}

fn plan(dir: &Path, judges: &[(&str, &MockServer)], grader: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let models: String = judges
        .iter()
        .map(|(id, s)| {
            format!("    - {{id: {id}, provider: openai, model: judge, base_urls: [\"{}\"], under_test: false}}\n", s.base_url())
        })
        .collect();
    let text = format!(
        "plan:\n  version: 1\n  id: meta\n  card: {}\n  deployment: {}\n  dataset: symptoms-uk\n  models:\n    - {{id: m, provider: mock}}\n{models}  conditions: [{{id: vignette}}]\n  graders:\n    - {grader}\n",
        root.join("registry/bean-scenarios.yaml").display(),
        root.join("examples/deployments/patient-symptom-chatbot.yaml").display(),
    );
    std::fs::write(dir.join("plan.yaml"), text).unwrap();
}

async fn meta_eval(dir: &Path) -> (i32, String, String) {
    let labels = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/meta-eval/labels.jsonl");
    let d = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let out = Command::cargo_bin("benchcards")
            .unwrap()
            .current_dir(&d)
            .args(["grade", "--meta-eval", labels.to_str().unwrap(), "--plan", "plan.yaml"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    })
    .await
    .unwrap()
}

/// The cells of the table row that starts with `name`.
fn row<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    let line = out.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no row {name}: {out}"));
    line[name.len()..].split("  ").map(str::trim).filter(|c| !c.is_empty()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_judge_s_agreement_and_kappa_are_the_hand_counted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // j1 calls met every criterion that "Tells the user": rows 1–4 (people: met) and row 10
    // (people tied, so left out); it misses row 5, which the people call met.
    let j1 = judge(&["Tells the user"], NOT_MET).await;
    plan(d, &[("j1", &j1)], "{kind: rubric, judge_model: j1}");
    let (code, out, err) = meta_eval(d).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("`rubric:j1` against people's labels (8 rows; 2 left out where people tied)"), "{out}");
    let k = cohens_kappa(&[vec![3.0, 1.0], vec![0.0, 4.0]], 0.95).unwrap();
    assert!((k.kappa - 0.75).abs() < 1e-12);
    let cells = row(&out, "j1");
    let range = |[lo, hi]: [f64; 2]| format!("{lo:.3} to {hi:.3}");
    assert_eq!(cells, ["0.875", &range(benchcards_stats::proportion::wilson(7.0, 8.0, 0.95)), "0.750", &range(k.ci), "4", "5", "8"]);
    assert!(out.contains("ml-05") && out.contains("Asks about allergies to pain relief."), "the disagreement is listed: {out}");
    assert_eq!(j1.requests(), 8, "only rows with a consensus are put to the judge");
    // Asked again, every verdict comes from the cache.
    let (code, again, err) = meta_eval(d).await;
    assert_eq!((code, again), (0, out), "{err}");
    assert_eq!(j1.requests(), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panel_is_compared_judge_by_judge_and_as_a_whole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let j1 = judge(&["Tells the user"], NOT_MET).await;
    let j2 = judge(&["Tells the user", "Asks about allergies"], NOT_MET).await;
    let j3 = judge(&["Asks about allergies"], NOT_MET).await;
    plan(d, &[("j1", &j1), ("j2", &j2), ("j3", &j3)], "{kind: rubric, judges: [j1, j2, j3]}");
    let (code, out, err) = meta_eval(d).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(row(&out, "j1")[2], "0.750");
    assert_eq!(row(&out, "j2")[..3], ["1.000", "0.676 to 1.000", "1.000"]);
    // j3 says met only for row 5: [[3, 4], [0, 1]].
    let k3 = cohens_kappa(&[vec![3.0, 4.0], vec![0.0, 1.0]], 0.95).unwrap();
    assert_eq!(row(&out, "j3")[2], format!("{:.3}", k3.kappa));
    // The majority of three agrees with the people on every row: nothing to list.
    assert_eq!(row(&out, "panel (rubric:j1+j2+j3:majority)")[..3], ["1.000", "0.676 to 1.000", "1.000"]);
    assert!(!out.contains("Where the judges and the people differ"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_verdict_or_a_bad_labels_file_stops_it_with_where() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let j = judge(&["Asks whether there is a fever"], "It seems fine.").await;
    plan(d, &[("j", &j)], "{kind: rubric, judge_model: j}");
    let (code, out, err) = meta_eval(d).await;
    assert_eq!(code, 1);
    assert!(out.is_empty() && err.contains("7 verdict(s) could not be read, so nothing was compared"), "{err}");
    assert!(err.contains("ml-01 (judge `j`): the judge's reply holds no JSON object"), "{err}");
    // A row without people's labels is pointed at, line and field.
    let labels = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/meta-eval/labels.jsonl");
    let text = std::fs::read_to_string(labels).unwrap().replacen("\"labels\": [true, true]", "\"labels\": [true, \"yes\"]", 1);
    std::fs::write(d.join("bad.jsonl"), &text).unwrap();
    let out = Command::cargo_bin("benchcards")
        .unwrap()
        .current_dir(d)
        .args(["grade", "--meta-eval", "bad.jsonl", "--plan", "plan.yaml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let column = text.lines().nth(2).unwrap().find("\"labels\"").unwrap() + 1;
    assert!(err.contains(&format!("bad.jsonl:3:{column}")) && err.contains("`labels` must be a list of true/false"), "{err}");
}
