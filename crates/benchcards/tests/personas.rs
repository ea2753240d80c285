//! A factorial persona design run against mock servers: a simulated patient (its own model) that
//! writes broken English when its persona says English is not its first language, and a model
//! that names the condition unless the patient's message is broken. The results carry each
//! persona in their units; `decompose` averages a pair's personas equally, and once the
//! deployment declares its users' mix the run's results are standardised to it.

use assert_cmd::Command;
use benchcards_mock::{MockConfig, start};
use std::path::Path;

fn bc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("benchcards").unwrap().current_dir(dir).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

/// The conversation rows of an export: (unit, score).
fn rows(csv: &str, condition: &str) -> Vec<(String, f64)> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[1] == condition)
        .map(|c| (c[0].to_string(), c[2].parse().unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_factorial_persona_design_carries_its_personas_and_standardises_to_a_declared_mix() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let broken = "me chest pain, is bad".to_string();
    let patient = start(
        MockConfig {
            replies: vec![(vec!["English is not your first language and you know little".into()], broken.clone())],
            reply: Some("I have had a tight chest since this morning.".into()),
            ..Default::default()
        },
        0,
    )
    .await
    .unwrap();
    let model = start(
        MockConfig {
            replies: vec![(vec![broken], "Final answer: I am not sure; see your GP.".into())],
            reply: Some("Final answer: this could be angina; call an ambulance.".into()),
            ..Default::default()
        },
        0,
    )
    .await
    .unwrap();
    let items = [
        r#"{"id": "p-1", "vignette": "You are 60. Your chest has felt tight since this morning.", "gold": {"conditions": [{"name": "angina"}]}}"#,
        r#"{"id": "p-2", "vignette": "You are 55. Your chest hurts when you climb stairs.", "gold": {"conditions": [{"name": "angina"}]}}"#,
    ];
    std::fs::write(d.join("items.jsonl"), items.join("\n")).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let profile = std::fs::read_to_string(root.join("examples/deployments/patient-symptom-chatbot.yaml")).unwrap();
    std::fs::write(d.join("deployment.yaml"), &profile).unwrap();
    let plan = format!(
        "plan:\n  version: 1\n  id: personas\n  card: {}\n  deployment: deployment.yaml\n  dataset: items.jsonl\n  models:\n    - {{id: m, provider: openai, model: x, base_urls: [\"{}\"]}}\n    - {{id: p, provider: openai, model: y, base_urls: [\"{}\"], under_test: false}}\n  patient_model: p\n  conditions:\n    - {{id: vignette}}\n    - {{id: conversation, turn_limit: 2, personas: {{design: factorial, axes: [proficiency]}}}}\n  graders: [{{kind: conditions, mode: strict}}]\n",
        root.join("registry/bean-scenarios.yaml").display(),
        model.base_url(),
        patient.base_url()
    );
    std::fs::write(d.join("plan.yaml"), plan).unwrap();
    let (code, out, err) = tokio::task::block_in_place(|| bc(d, &["run", "plan.yaml"]));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("8 done"), "two items as written, and in conversation with three personas each: {err}");
    let run = out.trim().to_string();
    let (code, csv, err) = tokio::task::block_in_place(|| bc(d, &["runs", "export", &run]));
    assert_eq!(code, 0, "{err}");
    let mut conv = rows(&csv, "conversation");
    conv.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        conv,
        [
            ("p-1@plain".to_string(), 1.0),
            ("p-1@proficiency=basic".to_string(), 0.0),
            ("p-1@proficiency=intermediate".to_string(), 1.0),
            ("p-2@plain".to_string(), 1.0),
            ("p-2@proficiency=basic".to_string(), 0.0),
            ("p-2@proficiency=intermediate".to_string(), 1.0),
        ],
        "{csv}"
    );
    // Without a declared mix each pair's personas count equally: a drop of 1/3.
    std::fs::write(d.join("equal.csv"), &csv).unwrap();
    let step = |file: &str| {
        let (code, out, err) = bc(d, &["decompose", file, "--path", "vignette,conversation", "--format", "json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["steps"][0]["contribution"].as_f64().unwrap_or_else(|| panic!("{v}"))
    };
    assert!((tokio::task::block_in_place(|| step("equal.csv")) - 1.0 / 3.0).abs() < 1e-9);
    // The deployment's users: three in four fluent, one in four with basic English.
    let mixed = format!("{profile}  persona_mix:\n    proficiency: {{fluent: 0.75, intermediate: 0.0, basic: 0.25}}\n");
    std::fs::write(d.join("deployment.yaml"), mixed).unwrap();
    let (code, _, err) = tokio::task::block_in_place(|| bc(d, &["check", "deployment.yaml"]));
    assert_eq!(code, 0, "{err}");
    let (code, csv, err) = tokio::task::block_in_place(|| bc(d, &["runs", "export", &run]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(rows(&csv, "conversation"), [("p-1".to_string(), 0.75), ("p-2".to_string(), 0.75)], "{csv}");
    std::fs::write(d.join("mixed.csv"), &csv).unwrap();
    assert!((tokio::task::block_in_place(|| step("mixed.csv")) - 0.25).abs() < 1e-9);
}
