//! `benchcards dataset import`: each source format's fixture (written for these tests, in the
//! shape each benchmark publishes) read into a dataset with its ids and gold answers kept, bad
//! input refused at its line and field with nothing written, and each imported fixture run as a
//! plan against the mock server, as written and with one assumption relaxed.

use assert_cmd::Command;
use benchcards_eval::dataset::{Dataset, parse_dataset};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

/// Imports `file` from `format`; the dataset, or the command's standard error.
fn import(dir: &Path, file: &Path, format: &str, extra: &[&str]) -> Result<Dataset, String> {
    let out_path = dir.join(format!("{format}.jsonl"));
    let _ = std::fs::remove_file(&out_path);
    let out = Command::cargo_bin("benchcards")
        .unwrap()
        .args(["dataset", "import"])
        .arg(file)
        .args(["--from", format, "-o"])
        .arg(&out_path)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    if !out.status.success() {
        assert!(!out_path.exists(), "nothing is written when the file has a problem");
        return Err(err);
    }
    parse_dataset(&std::fs::read_to_string(&out_path).unwrap()).map_err(|d| format!("{d:?}"))
}

/// (id, options, answer) of each item.
fn mcq(ds: &Dataset) -> Vec<(String, usize, String)> {
    ds.items.iter().map(|i| (i.id.clone(), i.gold.options.len(), i.gold.answer.clone().unwrap_or_default())).collect()
}

#[test]
fn each_format_keeps_its_ids_and_gold_answers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let medqa = import(d, &fixture("medqa.jsonl"), "medqa", &[]).unwrap();
    assert_eq!(
        mcq(&medqa),
        [("line-1".into(), 4, "Patellar tendinopathy".into()), ("line-2".into(), 4, "Emergency assessment for stroke".into())]
    );
    assert_eq!(medqa.items[1].stratum.as_deref(), Some("step2&3"));
    let medmcqa = import(d, &fixture("medmcqa.jsonl"), "medmcqa", &[]).unwrap();
    assert_eq!(mcq(&medmcqa), [("mm-1".into(), 4, "Vitamin A".into()), ("mm-2".into(), 4, "Streptococcus pneumoniae".into())]);
    let headqa = import(d, &fixture("headqa.jsonl"), "headqa", &[]).unwrap();
    assert_eq!(mcq(&headqa), [("101".into(), 4, "Naloxone".into())]);
    let mediq = import(d, &fixture("mediq.jsonl"), "mediq", &[]).unwrap();
    assert_eq!(mcq(&mediq), [("7".into(), 4, "Meningococcal meningitis".into())]);
    let item = &mediq.items[0];
    assert!(item.vignette.starts_with("A 25-year-old woman") && item.vignette.ends_with("What is the most likely diagnosis?"));
    assert_eq!(item.gold.key_facts.len(), 4, "the atomic facts become key facts for `withheld`");
    let osce = import(d, &fixture("agentclinic.jsonl"), "agentclinic", &[]).unwrap();
    let case = &osce.items[0];
    assert_eq!((case.id.as_str(), case.gold.names()), ("line-1", vec!["Community-acquired pneumonia".to_string()]));
    assert_eq!(case.gold.key_facts, ["Productive cough", "Fever; Shortness of breath on stairs; Pain on the right side when breathing in"]);
    assert!(case.vignette.starts_with("Demographics: 58-year-old man\n"), "{}", case.vignette);
    assert!(case.vignette.contains("Physical Examination Findings / Chest: Crackles at the right base"), "{}", case.vignette);
    assert!(!case.vignette.contains("pneumonia"), "the diagnosis is never in the vignette: {}", case.vignette);
    let craftmd = import(d, &fixture("craftmd-cases.csv"), "craftmd", &[]).unwrap();
    assert_eq!(mcq(&craftmd), [("c-1".into(), 4, "Psoriasis".into()), ("c-2".into(), 4, "Migraine with aura".into())]);
    assert_eq!(craftmd.items[1].stratum.as_deref(), Some("Neurology"));
    let hb = import(d, &fixture("healthbench.jsonl"), "healthbench", &[]).unwrap();
    let got: Vec<(&str, usize, usize, Option<&str>)> =
        hb.items.iter().map(|i| (i.id.as_str(), i.messages.len(), i.rubric.len(), i.stratum.as_deref())).collect();
    assert_eq!(got, [("hb-chest-1", 1, 4, Some("theme:emergency_referrals")), ("hb-palp-2", 3, 3, Some("theme:communication"))]);
    let palp = &hb.items[1];
    assert_eq!((palp.rubric[2].points, palp.rubric[2].tags[0].as_str()), (-3.0, "axis:communication_quality"));
    assert!(palp.vignette.starts_with("my watch says") && palp.vignette.ends_with("when I lie down at night"), "the user's turns");
    assert!(!palp.vignette.contains("upper end of normal"), "the assistant's turn is not the patient's: {}", palp.vignette);
    assert!(hb.items[0].gold.ideal.as_deref().is_some_and(|i| i.starts_with("Please call an ambulance")) && palp.gold.ideal.is_none());
}

#[test]
fn a_generic_file_is_read_through_its_column_map() {
    let dir = tempfile::tempdir().unwrap();
    let maps = ["--map", "id=qid", "--map", "vignette=text", "--map", "condition=dx", "--map", "disposition=level"];
    let ds = import(dir.path(), &fixture("generic.csv"), "generic", &maps).unwrap();
    let got: Vec<(String, Vec<String>, Option<String>)> =
        ds.items.iter().map(|i| (i.id.clone(), i.gold.names(), i.gold.disposition.clone())).collect();
    assert_eq!(
        got,
        [
            ("g-1".into(), vec!["common cold".to_string()], Some("self_care".into())),
            ("g-2".into(), vec!["heart attack".to_string()], Some("ambulance".into()))
        ]
    );
    // An unmapped column is named, with the flag that maps it; a field that is none is refused.
    let err = import(dir.path(), &fixture("generic.csv"), "generic", &["--map", "vignette=text"]).unwrap_err();
    assert!(err.contains("`id`") && err.contains("--map FIELD=id"), "{err}");
    let err =
        import(dir.path(), &fixture("generic.csv"), "generic", &["--map", "id=qid", "--map", "vignette=text", "--map", "diagnosis=dx"])
            .unwrap_err();
    assert!(err.contains("`diagnosis`, which is no item field"), "{err}");
}

#[test]
fn what_does_not_map_is_shown_at_its_line_and_field_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    let good = std::fs::read_to_string(fixture("medqa.jsonl")).unwrap();
    let second = good.lines().nth(1).unwrap().replace("\"answer\": \"Emergency assessment for stroke\"", "\"answer_idx\": \"F\"");
    std::fs::write(&bad, format!("{}\n{second}\n{{not json\n", good.lines().next().unwrap())).unwrap();
    let err = import(dir.path(), &bad, "medqa", &[]).unwrap_err();
    let column = second.find("\"answer_idx\"").unwrap() + 1;
    assert!(err.contains(&format!("bad.jsonl:2:{column}")) && err.contains("the answer `F` is none of the options"), "{err}");
    assert!(err.contains("bad.jsonl:3:") && err.contains("not JSON"), "{err}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, std::fs::read_to_string(fixture("craftmd-cases.csv")).unwrap().replace(",Psoriasis\n", ",Eczema\n")).unwrap();
    let err = import(dir.path(), &bad, "craftmd", &[]).unwrap_err();
    assert!(err.contains("bad.csv:2:") && err.contains("case `c-1`: the answer `Eczema` is none of its choices"), "{err}"); // A rubric worth no positive points cannot be scored; a prompt must end with the user's turn.
    let bad = dir.path().join("bad-hb.jsonl");
    let good = std::fs::read_to_string(fixture("healthbench.jsonl")).unwrap();
    let (first, second) = (good.lines().next().unwrap(), good.lines().nth(1).unwrap());
    let second = second.replace("\"points\": 5", "\"points\": -5");
    let first = first.replacen("\"role\": \"user\"", "\"role\": \"assistant\"", 1);
    std::fs::write(&bad, format!("{first}\n{second}\n")).unwrap();
    let err = import(dir.path(), &bad, "healthbench", &[]).unwrap_err();
    let column = |line: &str, field: &str| line.find(&format!("\"{field}\"")).unwrap() + 1;
    assert!(err.contains(&format!("bad-hb.jsonl:1:{}", column(&first, "prompt"))) && err.contains("end with the user's turn"), "{err}");
    assert!(
        err.contains(&format!("bad-hb.jsonl:2:{}", column(&second, "rubrics"))) && err.contains("no criterion is worth positive points"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_imported_format_runs_as_a_plan_as_written_and_with_one_assumption_relaxed() {
    let server = benchcards_mock::start(benchcards_mock::MockConfig::default(), 0).await.unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let generic = ["--map", "id=qid", "--map", "vignette=text", "--map", "condition=dx", "--map", "disposition=level"];
    let cases: [(&str, &str, &str, &str, &[&str]); 8] = [
        ("medqa", "medqa.jsonl", "options_removed", "mcq", &[]),
        ("medmcqa", "medmcqa.jsonl", "options_removed", "mcq", &[]),
        ("headqa", "headqa.jsonl", "options_removed", "mcq", &[]),
        ("mediq", "mediq.jsonl", "withheld", "mcq", &[]),
        ("agentclinic", "agentclinic.jsonl", "withheld", "conditions", &[]),
        ("craftmd", "craftmd-cases.csv", "options_removed", "mcq", &[]),
        ("generic", "generic.csv", "lay_rewrite", "conditions", &generic),
        // The conversation so far as written; the user's words held by a simulated patient.
        ("healthbench", "healthbench.jsonl", "conversation", "conditions", &[]),
    ];
    for (format, file, relaxed, grader, extra) in cases {
        let dir = tempfile::tempdir().unwrap();
        let items = import(dir.path(), &fixture(file), format, extra).unwrap().items.len();
        let plan = format!(
            "plan:\n  version: 1\n  id: imported\n  card: {}\n  deployment: {}\n  dataset: {format}.jsonl\n  models:\n    - {{id: m, provider: openai, model: x, base_urls: [\"{}\"]}}\n  conditions: [{{id: vignette}}, {{id: {relaxed}}}]\n  graders: [{{kind: {grader}}}]\n",
            root.join("registry/bean-scenarios.yaml").display(),
            root.join("examples/deployments/patient-symptom-chatbot.yaml").display(),
            server.base_url()
        );
        std::fs::write(dir.path().join("plan.yaml"), plan).unwrap();
        let d = dir.path().to_path_buf();
        let out = tokio::task::spawn_blocking(move || {
            Command::cargo_bin("benchcards").unwrap().current_dir(&d).args(["run", "plan.yaml"]).output().unwrap()
        })
        .await
        .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{format}: {err}");
        assert!(
            err.contains(&format!("{} done", 2 * items)) && err.contains(", 0 failed"),
            "{format}: {items} item(s) under two conditions: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_runs_a_benchmark_s_file_as_published_named_with_its_format() {
    let server = benchcards_mock::start(benchcards_mock::MockConfig::default(), 0).await.unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = |dataset: &Path, format: &str| {
        format!(
            "plan:\n  version: 1\n  id: published\n  card: {}\n  deployment: {}\n  dataset: {}\n{format}  models:\n    - {{id: m, provider: openai, model: x, base_urls: [\"{}\"]}}\n  conditions: [{{id: vignette}}, {{id: options_removed}}]\n  graders: [{{kind: mcq}}]\n",
            root.join("registry/bean-scenarios.yaml").display(),
            root.join("examples/deployments/patient-symptom-chatbot.yaml").display(),
            dataset.display(),
            server.base_url()
        )
    };
    let run = |text: String| {
        std::fs::write(dir.path().join("plan.yaml"), text).unwrap();
        let out = Command::cargo_bin("benchcards").unwrap().current_dir(dir.path()).args(["run", "plan.yaml"]).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (ok, run_id, err) = tokio::task::block_in_place(|| run(plan(&fixture("medqa.jsonl"), "  dataset_format: medqa\n")));
    assert!(ok && err.contains("4 done"), "{err}");
    // Later commands read the file the same way: the results carry the source's ids.
    let out = Command::cargo_bin("benchcards").unwrap().current_dir(dir.path()).args(["runs", "export", &run_id]).output().unwrap();
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && csv.lines().filter(|l| l.starts_with("line-2,")).count() == 2, "{csv}");
    // A generic file with its columns named in the plan.
    let generic = "  dataset_format: generic\n  dataset_map: {id: qid, vignette: text, condition: dx}\n";
    let (ok, _, err) = tokio::task::block_in_place(|| run(plan(&fixture("generic.csv"), generic).replace("kind: mcq", "kind: conditions")));
    assert!(ok && err.contains("4 done"), "{err}");
    // Without its format the same file is not a benchcards dataset, and says where.
    let (ok, _, err) = tokio::task::block_in_place(|| run(plan(&fixture("medqa.jsonl"), "")));
    assert!(!ok && err.contains("medqa.jsonl:1:") && err.contains("item:"), "{err}");
    let (ok, _, err) = tokio::task::block_in_place(|| run(plan(&fixture("medqa.jsonl"), "  dataset_format: medqa_usmle\n")));
    assert!(!ok && err.contains("dataset_format") && err.contains("medqa"), "an unknown format lists the known ones: {err}");
}
