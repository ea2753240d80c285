//! Card formats the field already uses: BenchmarkCards / Auto-BenchmarkCard JSON imported (the
//! fixtures were written for this test in each format), ranked by `match` from a folder;
//! Croissant-RAI written (and, when a Python with `mlcroissant` is named, validated and read
//! back by it); Hugging Face front matter checked against the card and filled by `render`.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/interop").join(name)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bc(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("benchcards").unwrap().current_dir(root()).args(args).output().unwrap()
}

fn card_json(path: &Path) -> Value {
    let out = bc(&["render", path.to_str().unwrap(), "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["benchcard"].clone()
}

#[test]
fn benchmarkcards_json_imports_with_one_reading_values_passes_check_and_ranks() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["exam-qa", "consumer-chat"] {
        let out_path = dir.path().join(format!("{f}.yaml"));
        let out = bc(&["import", fixture(&format!("{f}.json")).to_str().unwrap(), "--from", "ibm", "-o", out_path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("4 of 24 dimensions have a value; 20 are unstated"), "{stderr}");
    }
    let exam = card_json(&dir.path().join("exam-qa.yaml"));
    let d = &exam["dimensions"];
    assert_eq!(d["language"]["value"], "en");
    assert_eq!(d["input_modality"]["value"], serde_json::json!(["free_text"]));
    assert_eq!(d["clinical_task"]["value"], "clinical_decision_support");
    assert_eq!(d["reference_standard"]["value"], "exam_key");
    assert_eq!(d["input_source"]["status"], "not_specified");
    assert!(d["input_source"]["answer"].as_str().unwrap().contains("examination item writers"), "the text is kept");
    assert_eq!(exam["designer_endorsed"], false);
    assert_eq!(exam["license"], "CC-BY-4.0");
    assert_eq!(exam["dataset"]["items"], 1200);

    let chat = card_json(&dir.path().join("consumer-chat.yaml"));
    let d = &chat["dimensions"];
    assert_eq!(d["language"]["value"], serde_json::json!(["en", "pt-BR"]));
    assert_eq!(d["input_modality"]["value"], serde_json::json!(["free_text", "image"]));
    assert_eq!(d["clinical_task"]["value"], "patient_communication");
    assert_eq!(d["reference_standard"]["value"], "expert_panel");
    assert_eq!(chat["designer_endorsed"], true, "the Auto-BenchmarkCard marks the author's approval");
    assert!(chat.get("dataset").is_none_or(|x| x.get("items").is_none()), "`Not specified` is no size");

    let check = bc(&["check", dir.path().to_str().unwrap()]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    assert!(String::from_utf8_lossy(&check.stderr).contains("2 file(s): 0 error(s), 0 warning(s)"));

    let ranked =
        bc(&["match", "examples/deployments/patient-symptom-chatbot.yaml", "--registry", dir.path().to_str().unwrap(), "--format", "json"]);
    assert!(ranked.status.success(), "{}", String::from_utf8_lossy(&ranked.stderr));
    let text = String::from_utf8_lossy(&ranked.stdout);
    let first = text.find("home-symptom-questions").expect("ranked");
    let second = text.find("ward-round-exam-qa").expect("ranked");
    assert!(first < second, "the consumer card breaks no critical group; the exam card breaks outcome validity");
}

#[test]
fn a_card_without_a_name_is_refused_at_its_place() {
    let out = bc(&["import", fixture("no-name.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no-name.json:2:24"), "{stderr}");
    assert!(stderr.contains("no `benchmark_details.name`"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn croissant_rai_carries_the_cards_answers_and_validates_where_mlcroissant_is_installed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pubmedqa.croissant.json");
    let out = bc(&["export", "--to", "croissant-rai", "registry/pubmedqa.yaml", "-o", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let j: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(j["@context"]["rai"], "http://mlcommons.org/croissant/RAI/");
    assert_eq!(j["@context"]["conformsTo"], "dct:conformsTo");
    assert!(j["conformsTo"].as_array().unwrap().iter().any(|c| c == "http://mlcommons.org/croissant/RAI/1.0"));
    assert_eq!(j["rai:dataCollectionType"], serde_json::json!(["Others"]), "published abstracts: an `other:` source");
    assert!(j["rai:dataUseCases"].as_array().unwrap().iter().any(|u| u.as_str().unwrap().starts_with("Clinical task: Literature")));

    // Validated and read back by MLCommons' own library when the test script provides it.
    let Ok(python) = std::env::var("BENCHCARDS_CROISSANT_PYTHON") else {
        eprintln!("BENCHCARDS_CROISSANT_PYTHON not set: mlcroissant validation left to scripts/test.sh");
        return;
    };
    let script = root().join("scripts/croissant_check.py");
    let out = std::process::Command::new(python).arg(script).arg(&path).output().unwrap();
    assert!(out.status.success(), "mlcroissant refused the export:\n{}", String::from_utf8_lossy(&out.stderr));
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read["name"], j["name"]);
    for (ours, theirs) in [("rai:dataCollection", "data_collection"), ("rai:dataAnnotationProtocol", "data_annotation_protocol")] {
        assert_eq!(read[theirs], j[ours], "{theirs}");
    }
    assert_eq!(read["data_limitations"], j["rai:dataLimitations"]);
}

const README: &str = "---
license: cc-by-4.0
pretty_name: Front Matter QA
language_creators:
  - found
annotations_creators: crowdsourced
benchcard:
  version: 1
  id: front-matter-qa
  name: Front Matter QA
  citation: Written for this test, 2026
  card_author: benchcards project
  designer_endorsed: false
  dimensions:
    query_author:
      value: clinician
      status: inferred
      answer: Clinicians wrote the vignettes.
    reference_standard:
      value: expert_panel
      status: inferred
      answer: Three physicians agreed each answer.
---

# Front Matter QA

The authors' own prose.
";

#[test]
fn hugging_face_creators_are_checked_against_the_card_and_filled_by_render() {
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("README.md");
    std::fs::write(&readme, README).unwrap();
    let check = bc(&["check", readme.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&check.stderr);
    assert!(stdout.contains("`language_creators: [found]` contradicts the card, which says [expert-generated]"), "{stdout}");
    assert!(stdout.contains("`annotations_creators: [crowdsourced]` contradicts the card"), "{stdout}");
    assert!(stdout.contains("README.md:4:1"), "the warning points at the key: {stdout}");

    let rendered = dir.path().join("rendered.md");
    let out = bc(&["render", readme.to_str().unwrap(), "--format", "md", "-o", rendered.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&rendered).unwrap();
    assert!(text.contains("language_creators: [expert-generated]\nannotations_creators: [expert-generated]\nbenchcard:"), "{text}");
    assert!(text.starts_with("---\nlicense: cc-by-4.0\npretty_name: Front Matter QA\n"), "other keys kept in place: {text}");
    assert!(text.contains("The authors' own prose."));
    let again = bc(&["check", rendered.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success() && !said.contains("contradicts"), "{said}");

    // A card with nothing to say about who annotated leaves the key as written.
    let silent = README.replace(
        "    reference_standard:\n      value: expert_panel\n      status: inferred\n      answer: Three physicians agreed each answer.\n",
        "",
    );
    std::fs::write(&readme, &silent).unwrap();
    let out = bc(&["render", readme.to_str().unwrap(), "--format", "md", "-o", rendered.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&rendered).unwrap().contains("annotations_creators: crowdsourced\n"));
}
