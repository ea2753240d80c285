//! Fidelity checks of simulated patients, with a mock judge that flags what these hand-written
//! transcripts hold: an invented rash, a key fact volunteered in answer to another question, a
//! diagnosis the patient names (found without a judge), and a faithful conversation that passes
//! every check. Then a run's simulated conversations checked the same way, summarised per
//! condition, and left out of `runs export --exclude-unfaithful`.

use assert_cmd::Command;
use benchcards_mock::{MockConfig, MockServer, start};
use std::path::{Path, PathBuf};

const NOTHING: &str = r#"{"flags": []}"#;
const KEPT: &str = r#"{"explanation": "Stayed in character.", "rating": 4}"#;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fidelity").join(name)
}

/// A judge flagging what each `(needles, flag)` names, keeping personas, and flagging nothing else.
async fn judge(flags: &[(&[&str], &str)]) -> MockServer {
    let mut replies: Vec<(Vec<String>, String)> =
        flags.iter().map(|(needles, reply)| (needles.iter().map(|n| n.to_string()).collect(), reply.to_string())).collect();
    replies.push((vec!["Persona:".into()], KEPT.into()));
    start(MockConfig { replies, reply: Some(NOTHING.into()), ..Default::default() }, 0).await.unwrap()
}

fn plan(dir: &Path, model: &str, judge: &MockServer, dataset: &str, conditions: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let text = format!(
        "plan:\n  version: 1\n  id: fidelity\n  card: {}\n  deployment: {}\n  dataset: {dataset}\n  models:\n    - {{id: m, provider: openai, model: x, base_urls: [\"{model}\"]}}\n    - {{id: j, provider: openai, model: judge, base_urls: [\"{}\"], under_test: false}}\n  conditions: {conditions}\n  graders: [{{kind: conditions, mode: strict}}]\n  fidelity: {{judge_model: j}}\n",
        root.join("registry/bean-scenarios.yaml").display(),
        root.join("examples/deployments/patient-symptom-chatbot.yaml").display(),
        judge.base_url()
    );
    std::fs::write(dir.join("plan.yaml"), text).unwrap();
}

async fn bc(dir: &Path, args: Vec<String>) -> (i32, String, String) {
    let d = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let out = Command::cargo_bin("benchcards").unwrap().current_dir(&d).args(&args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    })
    .await
    .unwrap()
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn hand_written_transcripts_are_flagged_where_they_stray_and_a_faithful_one_passes() {
    let dir = tempfile::tempdir().unwrap();
    let j = judge(&[
        (&["Case:", "rash on my arm"], r#"{"flags": [{"message": 2, "text": "a rash on the arm"}]}"#),
        (
            &["Key facts:", "[assistant] How old are you?\n[patient 2] I'm 61, and the pain"],
            r#"{"flags": [{"message": 2, "text": "long flight two days ago"}]}"#,
        ),
    ])
    .await;
    plan(dir.path(), "http://127.0.0.1:9/v1", &j, "symptoms-uk", "[{id: conversation}]");
    let (t, c) = (fixture("transcripts.jsonl"), fixture("cases.jsonl"));
    let check = args(&["fidelity", t.to_str().unwrap(), "--against", c.to_str().unwrap(), "--plan", "plan.yaml"]);
    let (code, out, err) = bc(dir.path(), check.clone()).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(1 left out: no item of the dataset)"), "{out}");
    let passed = |check: &str| {
        let line = out.lines().find(|l| l.starts_with(check)).unwrap_or_else(|| panic!("{check}: {out}"));
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    // Four linked conversations: one invents, one volunteers, one names the diagnosis.
    assert_eq!((passed("fidelity:invented"), passed("fidelity:volunteered")), ("0.750".into(), "0.750".into()));
    assert_eq!((passed("fidelity:persona"), passed("fidelity:leak")), ("1.000".into(), "0.750".into()));
    let flagged: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("Flagged")).skip(3).filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(flagged.len(), 3, "{out}");
    assert!(flagged[0].starts_with("t-invented") && flagged[0].contains("patient message 2: a rash on the arm"), "{out}");
    assert!(flagged[1].starts_with("t-volunteered") && flagged[1].contains("long flight two days ago"), "{out}");
    assert!(flagged[2].starts_with("t-leak") && flagged[2].contains("patient message 1 names `DVT`"), "{out}");
    assert!(!out.contains("t-faithful  "), "the faithful conversation is not flagged: {out}");
    // Asked again, every verdict comes from the cache.
    let before = j.requests();
    assert_eq!(bc(dir.path(), check).await.0, 0);
    assert_eq!(j.requests(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_s_simulated_conversations_are_checked_summarised_and_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let model = start(MockConfig::default(), 0).await.unwrap();
    // The judge finds something invented in every conversation about the first item (its case
    // opens with "You are a 29-year-old").
    let j = judge(&[(&["Case:", "You are a 29-year-old"], r#"{"flags": [{"message": 1, "text": "an invented detail"}]}"#)]).await;
    let small = dir.path().join("small.jsonl");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("examples/datasets/symptoms-uk.jsonl")).unwrap();
    std::fs::write(&small, text.lines().take(3).collect::<Vec<_>>().join("\n")).unwrap();
    plan(dir.path(), &model.base_url(), &j, "small.jsonl", "[{id: vignette}, {id: conversation, turn_limit: 2}]");
    let (code, out, err) = bc(dir.path(), args(&["run", "plan.yaml", "--dry-run"])).await;
    assert_eq!(code, 0, "{err}");
    let row = out.lines().find(|l| l.starts_with("fidelity checks")).unwrap_or_else(|| panic!("{out}"));
    assert_eq!(row.split_whitespace().nth(3), Some("6"), "three questions about each of two conversations: {row}");
    let (code, out, err) = bc(dir.path(), args(&["run", "plan.yaml"])).await;
    assert_eq!(code, 0, "{err}");
    let run = out.trim().to_string();
    let (_, show, _) = bc(dir.path(), args(&["runs", "show", &run])).await;
    let line = show.lines().find(|l| l.starts_with("conversation") && l.contains("fidelity:invented")).unwrap_or_else(|| panic!("{show}"));
    assert!(line.contains("0.500") && line.trim_end().ends_with('2'), "one of two conversations passes: {line}");
    assert!(!show.lines().any(|l| l.starts_with("vignette") && l.contains("fidelity:")), "only simulated conversations are checked");
    // The sensitivity analysis leaves the unfaithful conversation out of the results.
    let export = |extra: &[&str]| {
        let mut a = args(&["runs", "export", &run]);
        a.extend(args(extra));
        bc(dir.path(), a)
    };
    let (all, faithful) = (export(&[]).await.1, export(&["--exclude-unfaithful"]).await.1);
    let rows = |csv: &str, cond: &str| csv.lines().filter(|l| l.contains(&format!(",{cond},"))).count();
    assert_eq!((rows(&all, "conversation"), rows(&faithful, "conversation")), (2, 1), "{faithful}");
    assert_eq!(rows(&faithful, "vignette"), 2, "other conditions keep every row");
}
