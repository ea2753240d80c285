//! `benchcards results import`: other harnesses' per-sample logs as results. An Inspect AI log
//! (fixtures written for these tests) reads the same from its JSON form and from the `.eval`
//! archive of the same samples (built here, with zstd and deflate entries); an lm-evaluation-
//! harness samples file reads with its metric named; the two together are a decomposition's
//! first step. Bad logs are refused at their line (or archive entry) and field, with nothing
//! written. Then `runs export --format every-eval-ever`: each record has what Every Eval Ever's
//! instance-level schema requires, and (ignored, run by scripts/test.sh with the package
//! installed) each passes the EvalEval coalition's own validator.

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/harness").join(name)
}

const INSPECT: &str = "inspect-log.json";
const LM_EVAL: &str = "samples_triage_cloze_2026-01-05T10-00-00.jsonl";

/// Imports `file` into `dir/out`: the results written, or the command's standard error (after
/// checking the command failed and wrote nothing).
fn import(dir: &Path, file: &Path, args: &[&str], out: &str) -> Result<String, String> {
    let out_path = dir.join(out);
    let _ = std::fs::remove_file(&out_path);
    let o = Command::cargo_bin("benchcards")
        .unwrap()
        .current_dir(dir)
        .args(["results", "import"])
        .arg(file)
        .args(args)
        .arg("-o")
        .arg(&out_path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    if !o.status.success() {
        assert!(o.status.code().is_some_and(|c| c != 0), "{err}");
        assert!(!out_path.exists(), "nothing is written when the log has a problem: {err}");
        return Err(err);
    }
    Ok(std::fs::read_to_string(&out_path).unwrap())
}

/// A ZIP archive of `entries`, alternately zstd- and deflate-compressed.
fn archive(entries: &[(String, String)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (i, (name, text)) in entries.iter().enumerate() {
        let method = if i % 2 == 0 { zip::CompressionMethod::Zstd } else { zip::CompressionMethod::Deflated };
        zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default().compression_method(method)).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The entries of a JSON log's `.eval` archive, as Inspect writes it: `header.json` (the log
/// without its samples) and `samples/ID_epoch_N.json`, one per sample.
fn eval_entries(log: &Value) -> Vec<(String, String)> {
    let mut header = log.clone();
    let samples = header.as_object_mut().unwrap().remove("samples").unwrap();
    let mut entries = vec![("header.json".to_string(), serde_json::to_string_pretty(&header).unwrap())];
    // In the order the samples finished, not the log's.
    for s in samples.as_array().unwrap().iter().rev() {
        entries.push((format!("samples/{}_epoch_{}.json", s["id"], s["epoch"]), serde_json::to_string(s).unwrap()));
    }
    entries
}

fn inspect_log() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(INSPECT)).unwrap()).unwrap()
}

#[test]
fn an_inspect_log_imports_alike_from_json_and_from_its_eval_archive() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let from_json = import(d, &fixture(INSPECT), &["--from", "inspect", "--condition", "vignette"], "json.csv").unwrap();
    let entries = eval_entries(&inspect_log());
    let bytes = archive(&entries);
    assert_eq!(&bytes[..4], b"PK\x03\x04");
    std::fs::write(d.join("log.eval"), &bytes).unwrap();
    let from_eval = import(d, &d.join("log.eval"), &["--from", "inspect", "--condition", "vignette"], "eval.csv").unwrap();
    assert_eq!(from_json, from_eval, "the JSON log and its archive give the same results");
    // Both methods were really used: zstd (93) and deflate (8) entries.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let methods: Vec<zip::CompressionMethod> = (0..zip.len()).map(|i| zip.by_index(i).unwrap().compression()).collect();
    assert!(methods.contains(&zip::CompressionMethod::Zstd) && methods.contains(&zip::CompressionMethod::Deflated), "{methods:?}");
    let mut lines = from_json.lines();
    assert_eq!(lines.next(), Some("unit,condition,score,pair,replicate,stratum,model,grader,unit_source,relaxes,proxy"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(
        rows,
        [
            "1,vignette,1.0,1,1,,openai/test-model,inspect:choice,clinician_vignette,,false",
            "2,vignette,1.0,2,1,,openai/test-model,inspect:choice,clinician_vignette,,false",
            "2,vignette,0.0,2,2,,openai/test-model,inspect:choice,clinician_vignette,,false",
            "3,vignette,0.0,3,1,,openai/test-model,inspect:choice,clinician_vignette,,false",
            "4,vignette,0.0,4,1,,openai/test-model,inspect:choice,clinician_vignette,,false",
            "5,vignette,0.5,5,1,,openai/test-model,inspect:choice,clinician_vignette,,false",
        ],
        "C 1, I 0, P 0.5, N 0 (as Inspect counts it); epochs as replicates"
    );
    // `N` left out instead, and JSON Lines by the output's extension.
    let jsonl = import(d, &fixture(INSPECT), &["--from", "inspect", "--condition", "vignette", "--no-answer", "skip"], "r.jsonl").unwrap();
    let units: Vec<String> = jsonl.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["unit"].to_string()).collect();
    assert_eq!(units, ["\"1\"", "\"2\"", "\"2\"", "\"3\"", "\"5\""]);
    // A relaxed condition and a label carry the taxonomy's metadata.
    let relaxed =
        import(d, &fixture(INSPECT), &["--from", "inspect", "--condition", "lay_rewrite+withheld", "--label", "lay"], "l.csv").unwrap();
    assert_eq!(
        relaxed.lines().nth(1),
        Some("1,lay,1.0,1,1,,openai/test-model,inspect:choice,lay_rewrite,query_authorship;information_completeness,false"),
        "the label names the condition; its parts give the unit source and the groups relaxed"
    );
}

#[test]
fn imported_logs_decompose_as_a_vignette_and_a_relaxed_condition() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vignette = import(d, &fixture(INSPECT), &["--from", "inspect", "--condition", "vignette"], "v.csv").unwrap();
    let lm = ["--from", "lm-eval", "--condition", "options_removed", "--metric", "acc", "--model", "openai/test-model"];
    let relaxed = import(d, &fixture(LM_EVAL), &lm, "o.csv").unwrap();
    assert_eq!(relaxed.lines().count(), 6, "{relaxed}");
    assert!(
        relaxed.contains("\n1,options_removed,1.0,1,0,,openai/test-model,lm-eval:acc,clinician_vignette,task_scope,false\n"),
        "{relaxed}"
    );
    std::fs::write(d.join("both.csv"), format!("{vignette}{}", relaxed.split_once('\n').unwrap().1)).unwrap();
    let o = Command::cargo_bin("benchcards")
        .unwrap()
        .current_dir(d)
        .args(["decompose", "both.csv", "--path", "vignette,options_removed", "--resamples", "200", "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // By hand from the fixture: unit 2's epochs average to (1 + 0) / 2; then
    // (1 + 0.5 + 0 + 0 [N] + 0.5 [P]) / 5 = 0.4, Inspect's own accuracy in the log's results.
    let by_hand = (1.0 + (1.0 + 0.0) / 2.0 + 0.0 + 0.0 + 0.5) / 5.0;
    assert_eq!(inspect_log()["results"]["scores"][0]["metrics"]["accuracy"]["value"].as_f64(), Some(by_hand));
    let c = &v["conditions"];
    assert_eq!((c[0]["id"].as_str(), c[0]["n"].as_u64()), (Some("vignette"), Some(5)));
    assert!((c[0]["score"].as_f64().unwrap() - by_hand).abs() < 1e-12, "{c}");
    assert!((c[1]["score"].as_f64().unwrap() - 0.2).abs() < 1e-12, "acc 1, 0, 0, 0, 0: {c}");
    assert_eq!(v["estimand"]["replicates_averaged"], 2);
    let step = &v["steps"][0];
    assert_eq!((step["assumption"].as_str(), step["paired"].as_bool()), (Some("task_scope"), Some(true)));
    assert!((step["contribution"].as_f64().unwrap() - 0.2).abs() < 1e-12, "{step}");
    // The two harnesses graded differently: the step says so rather than claim the effect.
    assert_eq!(step["confounded"][0], "grader: inspect:choice → lm-eval:acc");
}

#[test]
fn bad_logs_are_refused_where_they_go_wrong_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let args = ["--from", "inspect", "--condition", "vignette"];
    let text = std::fs::read_to_string(fixture(INSPECT)).unwrap();
    // A log cut short: where it ends.
    let cut: String = text.lines().take(150).collect::<Vec<_>>().join("\n");
    std::fs::write(d.join("cut.json"), &cut).unwrap();
    let err = import(d, &d.join("cut.json"), &args, "x.csv").unwrap_err();
    assert!(err.contains("cut.json:150:") && err.contains("EOF while parsing") && err.contains("ends early"), "{err}");
    // A sample without `scores`: its line and the sample named.
    let mut log = inspect_log();
    log["samples"][3].as_object_mut().unwrap().remove("scores");
    let pretty = serde_json::to_string_pretty(&log).unwrap();
    std::fs::write(d.join("unscored.json"), &pretty).unwrap();
    let err = import(d, &d.join("unscored.json"), &args, "x.csv").unwrap_err();
    // The sample's `{` (1-based), the line before its id.
    let line = pretty.lines().position(|l| l.trim() == "\"id\": 3,").unwrap();
    assert!(err.contains(&format!("unscored.json:{line}:")) && err.contains("sample `3` (epoch 1) has no `scores`"), "{err}");
    // Several scorers, none named: listed, with the flag that names one.
    let mut log = inspect_log();
    for s in log["samples"].as_array_mut().unwrap() {
        s["scores"]["model_graded_fact"] = serde_json::json!({"value": "C"});
    }
    let pretty = serde_json::to_string_pretty(&log).unwrap();
    std::fs::write(d.join("two.json"), &pretty).unwrap();
    let err = import(d, &d.join("two.json"), &args, "x.csv").unwrap_err();
    let line = 1 + pretty.lines().position(|l| l.trim() == "\"scores\": {").unwrap();
    assert!(err.contains(&format!("two.json:{line}:")) && err.contains("several scorers (`choice`, `model_graded_fact`)"), "{err}");
    assert!(err.contains("--scorer choice"), "{err}");
    let picked = import(d, &d.join("two.json"), &[&args[..], &["--scorer", "model_graded_fact"]].concat(), "x.csv").unwrap();
    assert_eq!(picked.lines().filter(|l| l.contains(",1.0,")).count(), 6, "{picked}");
    // An archive entry that is not JSON: the file and the entry named, at its line.
    let mut entries = eval_entries(&inspect_log());
    entries[2].1 = "{\"id\": 4,\n  \"epoch\": 1,\n  \"scores\": oops}".into();
    let bad_entry = entries[2].0.clone();
    std::fs::write(d.join("bad.eval"), archive(&entries)).unwrap();
    let err = import(d, &d.join("bad.eval"), &args, "x.csv").unwrap_err();
    assert!(err.contains(&format!("bad.eval:{bad_entry}:3:")) && err.contains("invalid JSON"), "{err}");
    // An archive entry whose score does not read: the entry, the sample and the field.
    let mut entries = eval_entries(&inspect_log());
    entries[1].1 = entries[1].1.replace("\"value\":\"P\"", "\"value\":7");
    let named = entries[1].0.clone();
    std::fs::write(d.join("seven.eval"), archive(&entries)).unwrap();
    let err = import(d, &d.join("seven.eval"), &args, "x.csv").unwrap_err();
    assert!(err.contains(&format!("seven.eval:{named}:1:")) && err.contains("scorer `choice`: the score 7 is outside 0–1"), "{err}");
    // Not a ZIP archive after all.
    std::fs::write(d.join("broken.eval"), b"PK\x03\x04 not really").unwrap();
    let err = import(d, &d.join("broken.eval"), &args, "x.csv").unwrap_err();
    assert!(err.contains("broken.eval:1:1:") && err.contains("not a ZIP archive"), "{err}");
    // lm-eval: several metrics and none named; a line that is not JSON.
    let lm = ["--from", "lm-eval", "--condition", "options_removed"];
    let err = import(d, &fixture(LM_EVAL), &lm, "x.csv").unwrap_err();
    assert!(err.contains(&format!("{LM_EVAL}:1:")) && err.contains("several metrics (`acc`, `acc_norm`)"), "{err}");
    assert!(err.contains("--metric acc"), "{err}");
    let lines = std::fs::read_to_string(fixture(LM_EVAL)).unwrap();
    std::fs::write(d.join("samples.jsonl"), format!("{}{{\"doc_id\": 9, \"acc\": \n", lines)).unwrap();
    let err = import(d, &d.join("samples.jsonl"), &[&lm[..], &["--metric", "acc"]].concat(), "x.csv").unwrap_err();
    assert!(err.contains("samples.jsonl:6:") && err.contains("invalid JSON"), "{err}");
    // Flags of the other harness, and a condition the taxonomy lacks.
    let err = import(d, &fixture(LM_EVAL), &[&lm[..], &["--scorer", "choice"]].concat(), "x.csv").unwrap_err();
    assert!(err.contains("--scorer is for Inspect logs"), "{err}");
    let err = import(d, &fixture(INSPECT), &["--from", "inspect", "--condition", "vignete"], "x.csv").unwrap_err();
    assert!(err.contains("unknown condition `vignete`: did you mean `vignette`?") && err.contains("`options_removed`"), "{err}");
}

/// A plan of `conditions` against the mock server, run in `dir`; the run's id.
fn run_plan(dir: &Path, base_url: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let dataset = std::fs::read_to_string(root.join("examples/datasets/symptoms-uk.jsonl")).unwrap();
    std::fs::write(dir.join("small.jsonl"), dataset.lines().take(3).collect::<Vec<_>>().join("\n")).unwrap();
    let plan = format!(
        "plan:\n  version: 1\n  id: eee\n  card: {}\n  deployment: {}\n  dataset: small.jsonl\n  models:\n    - {{id: served, provider: openai, model: org/test-model, base_urls: [\"{base_url}\"]}}\n  conditions: [{{id: vignette}}, {{id: conversation, turn_limit: 2}}]\n  graders: [{{kind: conditions}}]\n",
        root.join("registry/bean-scenarios.yaml").display(),
        root.join("examples/deployments/patient-symptom-chatbot.yaml").display(),
    );
    std::fs::write(dir.join("plan.yaml"), plan).unwrap();
    let o = Command::cargo_bin("benchcards").unwrap().current_dir(dir).args(["run", "plan.yaml"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// A run of two items under a single-turn and a multi-turn condition, exported as Every Eval
/// Ever records into `dir/eee.jsonl`.
async fn exported(dir: &Path) -> Vec<Value> {
    let server = benchcards_mock::start(benchcards_mock::MockConfig::default(), 0).await.unwrap();
    let d = dir.to_path_buf();
    let url = server.base_url();
    let records = tokio::task::spawn_blocking(move || {
        let run = run_plan(&d, &url);
        let o = Command::cargo_bin("benchcards")
            .unwrap()
            .current_dir(&d)
            .args(["runs", "export", &run, "--format", "every-eval-ever", "-o", "eee.jsonl"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(d.join("eee.jsonl")).unwrap()
    })
    .await
    .unwrap();
    records.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_exports_every_eval_ever_records_with_what_the_schema_requires() {
    // The required fields and the single-turn/multi-turn rule of
    // https://github.com/evaleval/every_eval_ever, instance_level_eval.schema.json, version
    // 0.3.0; scripts/test.sh also runs the package's own validator (the ignored test below).
    let dir = tempfile::tempdir().unwrap();
    let records = exported(dir.path()).await;
    assert_eq!(records.len(), 4, "two items under two conditions: {records:#?}");
    let required = [
        "schema_version",
        "evaluation_id",
        "model_id",
        "evaluation_name",
        "sample_id",
        "interaction_type",
        "input",
        "answer_attribution",
        "evaluation",
    ];
    let allowed =
        [&required[..], &["evaluation_result_id", "sample_hash", "output", "messages", "token_usage", "performance", "error", "metadata"]]
            .concat();
    for r in &records {
        let o = r.as_object().unwrap();
        assert!(required.iter().all(|k| o.contains_key(*k)), "{r}");
        assert!(o.keys().all(|k| allowed.contains(&k.as_str())), "no field the schema does not define: {r}");
        assert_eq!((r["schema_version"].as_str(), r["model_id"].as_str()), (Some("0.3.0"), Some("org/test-model")));
        assert!(r["input"]["raw"].is_string() && r["input"]["reference"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
        let a = &r["answer_attribution"][0];
        assert!(a["turn_idx"].is_u64() && a["source"].is_string() && a["extracted_value"].is_string() && a["is_terminal"] == true, "{r}");
        assert_eq!(a["extraction_method"], "conditions:bean@80", "the grader that scored it");
        let score = r["evaluation"]["score"].as_f64().unwrap();
        assert_eq!(r["evaluation"]["is_correct"].as_bool(), Some(score >= 1.0));
        assert!(r["metadata"].as_object().unwrap().values().all(Value::is_string), "metadata values are text: {r}");
        assert_eq!(r["sample_hash"].as_str().map(str::len), Some(64));
        match r["interaction_type"].as_str() {
            Some("single_turn") => {
                assert!(r["messages"].is_null() && r["output"]["raw"][0].as_str().is_some_and(|t| t.starts_with("echo: ")), "{r}");
                assert_eq!(r["metadata"]["condition"], "vignette");
            }
            Some("multi_turn") => {
                let m = r["messages"].as_array().unwrap();
                assert!(r["output"].is_null() && m.len() >= 2 && r["evaluation"]["num_turns"].as_u64() == Some(m.len() as u64), "{r}");
                assert!(m.iter().enumerate().all(|(i, t)| t["turn_idx"].as_u64() == Some(i as u64) && t["role"].is_string()), "{r}");
                assert_eq!(r["metadata"]["condition"], "conversation");
            }
            other => panic!("interaction_type {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Python with the every_eval_ever package (scripts/test.sh installs it into target/pyref)"]
async fn every_eval_ever_records_pass_the_published_validator() {
    // BENCHCARDS_EEE_PYTHON: a Python with every_eval_ever (its packaged schema and validator)
    // and jsonschema; scripts/eee_check.py validates with both.
    let python = std::env::var("BENCHCARDS_EEE_PYTHON").expect("BENCHCARDS_EEE_PYTHON names a Python with every_eval_ever installed");
    let dir = tempfile::tempdir().unwrap();
    let records = exported(dir.path()).await;
    assert_eq!(records.len(), 4);
    let check = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/eee_check.py");
    let o = std::process::Command::new(python).arg(check).arg(dir.path().join("eee.jsonl")).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{said}");
    assert!(said.contains("4 record(s) valid"), "{said}");
    // The check can fail: a record without a required field does not pass.
    let broken: Vec<String> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("answer_attribution");
            r.to_string()
        })
        .collect();
    std::fs::write(dir.path().join("broken.jsonl"), broken.join("\n")).unwrap();
    let o = std::process::Command::new(std::env::var("BENCHCARDS_EEE_PYTHON").unwrap())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/eee_check.py"))
        .arg(dir.path().join("broken.jsonl"))
        .output()
        .unwrap();
    assert!(!o.status.success(), "a record without answer_attribution is refused");
}
