//! Stage 1 through the command line: snapshots of every output format, and `--fail-on`.

use assert_cmd::Command;
use std::path::Path;

const BEAN: &str = "registry/bean-scenarios.yaml";
const CHATBOT: &str = "examples/deployments/patient-symptom-chatbot.yaml";

fn run(args: &[&str]) -> (i32, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::cargo_bin("benchcards").unwrap().current_dir(root).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

#[test]
fn compare_formats() {
    let table = ok(&["compare", BEAN, CHATBOT]);
    assert!(!table.contains('\x1b'), "no colour when not writing to a terminal");
    insta::assert_snapshot!("compare_table", table);
    insta::assert_snapshot!("compare_md", ok(&["compare", BEAN, CHATBOT, "--format", "md"]));
    let json = ok(&["compare", BEAN, CHATBOT, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in ["card", "deployment", "fit", "groups", "dimensions", "flags"] {
        assert!(v.get(key).is_some(), "json has `{key}`");
    }
    for key in ["id", "group", "kind", "benchmark", "deployment", "deployment_status", "verdict", "rationale", "bias", "next_step"] {
        assert!(v["dimensions"][0].get(key).is_some(), "dimension rows have `{key}`");
    }
    assert_eq!(v["card"]["id"], "bean-scenarios");
    insta::assert_snapshot!("compare_json", json);
}

#[test]
fn match_gaps_overview_formats() {
    insta::assert_snapshot!("match_table", ok(&["match", CHATBOT]));
    insta::assert_snapshot!("match_json_top2", ok(&["match", CHATBOT, "--top", "2", "--format", "json"]));
    insta::assert_snapshot!("gaps_table", ok(&["gaps", CHATBOT]));
    insta::assert_snapshot!("gaps_json", ok(&["gaps", CHATBOT, "--format", "json"]));
    insta::assert_snapshot!("overview_md", ok(&["registry", "overview", "--format", "md"]));
    let json: serde_json::Value = serde_json::from_str(&ok(&["registry", "overview", "--format", "json"])).unwrap();
    let mode = json["dimensions"].as_array().unwrap().iter().find(|d| d["id"] == "interaction_mode").unwrap();
    assert!(mode["uncovered"].as_array().unwrap().iter().any(|v| v == "multi_turn_human"), "no card tests a live human conversation");
}

#[test]
fn match_reads_a_registry_folder_and_reports_bad_cards() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::copy(root.join(BEAN), dir.path().join("bean.yaml")).unwrap();
    std::fs::write(dir.path().join("broken.yaml"), "benchcard:\n  version: 1\n").unwrap();
    let (code, out, err) = run(&["match", CHATBOT, "--registry", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("bean-scenarios") && out.contains("(1 cards)"), "{out}");
    assert!(err.contains("1 file(s)") && err.contains("not valid cards"), "{err}");
    assert!(err.contains("missing required key"), "the bad card's own diagnostics are shown: {err}");
}

#[test]
fn fail_on_broken_critical_exits_3() {
    let (code, _, err) = run(&["compare", BEAN, CHATBOT, "--fail-on", "broken-critical"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("critical"));
    let (code, _, _) = run(&["match", CHATBOT, "--fail-on", "broken-critical"]);
    assert_eq!(code, 3);
    // The medical-student tutor weighs no group critical, so nothing fails.
    let (code, _, _) =
        run(&["compare", "registry/medqa-usmle.yaml", "examples/deployments/medical-student-tutor.yaml", "--fail-on", "broken-critical"]);
    assert_eq!(code, 0);
}

#[test]
fn plan_is_drafted_and_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plans/bean.yaml");
    std::fs::create_dir_all(plan.parent().unwrap()).unwrap();
    let (code, _, err) = run(&["plan", BEAN, CHATBOT, "-o", plan.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&plan).unwrap();
    let (code, _, err) = run(&["check", plan.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (p, _) = benchcards_core::load_plan(&plan).unwrap();
    assert!(Path::new(&plan.parent().unwrap().join(&p.card)).is_file(), "card path is relative to the plan: {}", p.card);
    let ids: Vec<String> = p.conditions.iter().map(|c| c.name()).collect();
    assert_eq!(
        ids,
        [
            "vignette",
            "lay_rewrite",
            "withheld",
            "patient_query",
            "conversation",
            "conversation_misreporting",
            "patient_decision",
            "lay_rewrite+withheld",
            "conversation+withheld"
        ]
    );
    // Each added cell completes a 2×2 factorial, and the plan says how to use it.
    assert!(text.contains("--shapley information_completeness,interaction_type"), "{text}");
    assert_eq!(p.studies[0].group, "decision_mediation", "the critical outcome group with most optimistic bias comes first");
    assert_eq!(p.studies[0].design, "rct");
    assert!(p.studies[0].control_arm.contains("without the model"));
    assert!(p.questions.is_empty(), "the Bean card states every dimension");
    assert!(text.contains("control_arm: without the model"));
    insta::assert_snapshot!("plan_yaml", ok(&["plan", BEAN, CHATBOT]));
    // A card with unstated dimensions gets questions for its designers.
    let (_, out, _) = run(&["plan", "registry/healthbench.yaml", CHATBOT]);
    assert!(out.contains("questions:") && out.contains("dimension: misreporting"), "{out}");
}

#[test]
fn demo_shows_stages_one_and_two_without_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&["demo", "--no-model", "--out", dir.path().to_str().unwrap()]);
    for needle in [
        "1. Which benchmark",
        "2. What the best match assumed",
        "3. What no benchmark covers",
        "4. The staged plan",
        "behavioral_study:",
        "Fit ",
        "5. What 12 bundled conversations say",
        "information_completeness  complete",
    ] {
        assert!(out.contains(needle), "demo shows `{needle}`: {out}");
    }
    assert!(!out.contains("stage 3"), "no model, no stage 3");
    // Stage 2 leaves the logs and the measured profile, which passes check.
    let measured = dir.path().join("patient-symptom-chatbot.measured.yaml");
    assert!(dir.path().join("symptom-chat.jsonl").is_file());
    let (code, _, err) = run(&["check", measured.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn swapped_arguments_are_recognised_and_registry_ids_stand_for_files() {
    let (code, _, err) = run(&["compare", CHATBOT, BEAN]);
    assert_eq!(code, 1);
    assert!(err.contains("expected a card (top-level `benchcard:`), found a deployment profile") && err.contains("swapped"), "{err}");
    // By id, from the bundled registry: the same comparison as the files give.
    let by_id = ok(&["compare", "bean-scenarios", "patient-symptom-chatbot", "--format", "json"]);
    assert_eq!(by_id, ok(&["compare", BEAN, CHATBOT, "--format", "json"]));
    assert_eq!(
        ok(&["registry", "show", "bean-scenarios"]),
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(BEAN)).unwrap()
    );
    let (code, _, err) = run(&["registry", "show", "bean-scenario"]);
    assert!(code == 1 && err.contains("did you mean `bean-scenarios`?"), "{err}");
}
