//! Real data: CRAFT-MD's published answers (../shared/data/craftmd, MIT), graded here and
//! decomposed. Says so plainly, and checks nothing, when the data is absent.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/craftmd");
    if dir.join("responses.csv").is_file() && dir.join("cases.csv").is_file() {
        Some(dir)
    } else {
        eprintln!("CRAFT-MD data absent at {}: this test checks nothing on this machine", dir.display());
        None
    }
}

#[test]
fn gpt4_mcq_vignette_to_multiturn_matches_the_published_check() {
    let Some(dir) = data_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // The cases become a benchcards dataset through `dataset import --from craftmd` (in a
    // temporary folder, never in the project): all 1,904, each with its four choices.
    let dataset = tmp.path().join("craftmd.jsonl");
    let out = Command::cargo_bin("benchcards")
        .unwrap()
        .args(["dataset", "import"])
        .arg(dir.join("cases.csv"))
        .args(["--from", "craftmd", "-o"])
        .arg(&dataset)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ds = benchcards_eval::dataset::parse_dataset(&std::fs::read_to_string(&dataset).unwrap()).unwrap();
    assert_eq!(ds.items.len(), 1904);
    assert!(ds.items.iter().all(|i| i.gold.options.len() == 4 && i.gold.answer.is_some()));
    let mut responses = csv::Reader::from_path(dir.join("responses.csv")).unwrap();
    let mut w = csv::Writer::from_path(tmp.path().join("responses.csv")).unwrap();
    w.write_record(["unit", "item", "condition", "replicate", "response"]).unwrap();
    let mut n = 0;
    for r in responses.records() {
        let r = r.unwrap();
        if &r[0] == "gpt-4-1106-preview" && &r[4] == "mcq" {
            w.write_record([&r[1], &r[1], &r[3], &r[2], &r[5]]).unwrap();
            n += 1;
        }
    }
    w.flush().unwrap();
    assert_eq!(n, 4 * 9520, "GPT-4 multiple-choice answers under four conditions");
    let bc = || Command::cargo_bin("benchcards").unwrap();
    let graded = tmp.path().join("graded.csv");
    let out = bc()
        .arg("grade")
        .arg(tmp.path().join("responses.csv"))
        .arg("--dataset")
        .arg(&dataset)
        .args(["--grader", "mcq", "-o"])
        .arg(&graded)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = bc()
        .arg("decompose")
        .arg(&graded)
        .args(["--path", "vignette,summarized,multiturn,singleturn", "--resamples", "200", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let score = |id: &str| v["conditions"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap()["score"].as_f64().unwrap();
    for (condition, published) in [("vignette", 0.819), ("multiturn", 0.618), ("singleturn", 0.511), ("summarized", 0.663)] {
        let got = score(condition);
        println!("CRAFT-MD GPT-4 mcq {condition}: {got:.4} (plain check {published})");
        assert!((got - published).abs() < 0.01, "{condition}: {got} vs {published}");
    }
    assert_eq!(v["estimand"]["replicates_averaged"], 5, "five trials averaged within each case");
    assert_eq!(v["conditions"][0]["n"], 1904);
}

#[test]
fn measure_reads_craftmd_conversations_with_the_patient_as_the_user() {
    let Some(dir) = data_dir() else { return };
    let logs = dir.join("conversations.jsonl");
    if !logs.is_file() {
        eprintln!("CRAFT-MD conversations absent at {}: this test checks nothing on this machine", logs.display());
        return;
    }
    let out = Command::cargo_bin("benchcards").unwrap().args(["measure", logs.to_str().unwrap(), "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // 1,904 cases × 2 models × 5 trials; the doctor model is the assistant, the simulated patient
    // the user (the folder's README).
    assert_eq!((v["conversations"].as_u64(), v["skipped"].as_u64()), (Some(19_040), Some(0)));
    let fig = |id: &str| v["measurement"]["figures"].as_array().unwrap().iter().find(|f| f["id"] == id).cloned().unwrap();
    assert!(fig("multi_turn_share")["value"].as_f64().unwrap() > 0.99, "CRAFT-MD conversations are multi-turn");
    assert!(fig("user_turns_median")["value"].as_f64().unwrap() >= 3.0);
    assert!(fig("language_en")["value"].as_f64().unwrap() > 0.99);
    let dims: Vec<&str> = v["measurement"]["measured"].as_array().unwrap().iter().map(|m| m["dimension"].as_str().unwrap()).collect();
    assert_eq!(dims, ["interaction_mode", "input_source", "language"], "no completeness without a linked dataset");
}
