//! From a log file to measured verdicts to a derived card: `measure`, `augment` and
//! `card derive` on the bundled logs (examples/logs/symptom-chat.jsonl), whose figures were
//! counted by hand from the file.

use assert_cmd::Command;
use benchcards_mock::{MockConfig, start};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn bc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("benchcards").unwrap().current_dir(dir).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

fn file(rel: &str) -> String {
    root().join(rel).display().to_string()
}

/// Writes `plan.yaml` in `dir`: the bundled card and deployment, the dataset `aug.jsonl`, one
/// model at `base_url`, and the conditions given (YAML list entries).
fn write_plan(dir: &Path, base_url: &str, conditions: &str) {
    let plan = format!(
        "plan:\n  version: 1\n  id: adapted\n  card: {}\n  deployment: {}\n  dataset: aug.jsonl\n  models:\n    - {{id: served, provider: openai, model: m, base_urls: [\"{base_url}\"]}}\n  conditions:\n{conditions}  graders:\n    - kind: conditions\n",
        file("registry/bean-scenarios.yaml"),
        file("examples/deployments/patient-symptom-chatbot.yaml"),
    );
    std::fs::write(dir.join("plan.yaml"), plan).unwrap();
}

fn figure(v: &Value, id: &str) -> (f64, Option<[f64; 2]>, u64) {
    let f = v["measurement"]["figures"].as_array().unwrap().iter().find(|f| f["id"] == id).unwrap_or_else(|| panic!("no {id}"));
    let ci = f["ci"].as_array().map(|c| [c[0].as_f64().unwrap(), c[1].as_f64().unwrap()]);
    (f["value"].as_f64().unwrap(), ci, f["n"].as_u64().unwrap())
}

#[test]
fn measure_gives_the_hand_counted_figures_of_the_bundled_logs() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = bc(
        dir.path(),
        &[
            "measure",
            &file("examples/logs/symptom-chat.jsonl"),
            "--against",
            &file("examples/datasets/symptoms-uk.jsonl"),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("12 line(s) read, 12 conversation(s) kept, 0 line(s) skipped"), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // Messages from the person: 2 1 3 2 3 1 3 2 1 2 1 1 (log-01 … log-12).
    let (single, ci, n) = figure(&v, "single_turn_share");
    assert!(close(single, 5.0 / 12.0) && n == 12);
    let [lo, hi] = ci.unwrap();
    assert!((lo - 0.1933).abs() < 1e-4 && (hi - 0.6805).abs() < 1e-4, "Wilson 95% for 5/12: {lo} {hi}");
    assert!(close(figure(&v, "user_turns_mean").0, 22.0 / 12.0));
    assert!(close(figure(&v, "user_turns_median").0, 2.0) && close(figure(&v, "user_turns_p90").0, 3.0));
    // Words in the first messages: 11 10 7 16 5 11 8 13 4 9 14 9.
    assert!(close(figure(&v, "first_message_words_mean").0, 117.0 / 12.0));
    assert!(close(figure(&v, "first_message_words_median").0, 9.5));
    // No first message uses a clinical term.
    assert!(close(figure(&v, "first_message_clinical_terms").0, 0.0));
    // Key facts found, first message / by the end, for the ten linked conversations:
    // 2/6 3/6, 1/6 1/6, 0/6 4/6, 3/7 4/7, 0/7 1/7, 0/6 0/6, 0/7 3/7, 0/6 2/6, 0/6 0/6, 1/7 1/7.
    let (first, ci, n) = figure(&v, "key_facts_first_message");
    assert!(close(first, (3.0 / 6.0 + 4.0 / 7.0) / 10.0) && n == 10, "{first}");
    assert!(ci.unwrap()[0] >= 0.0, "a share's interval is clipped at 0");
    assert!(close(figure(&v, "key_facts_by_end").0, (10.0 / 6.0 + 9.0 / 7.0) / 10.0));
    // log-11 is in Spanish.
    let (es, _, _) = figure(&v, "language_es");
    assert!(close(es, 1.0 / 12.0));
    let measured: Vec<(&str, &str)> = v["measurement"]["measured"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["dimension"].as_str().unwrap(), m["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        measured,
        [
            ("interaction_mode", "multi_turn_human"),
            ("input_source", "real_user_queries"),
            ("information_completeness", "elicitation_required"),
            ("language", "en")
        ]
    );
}

#[test]
fn a_measured_profile_passes_check_and_compare_shows_measured_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = bc(
        dir.path(),
        &[
            "measure",
            &file("examples/logs/symptom-chat.jsonl"),
            "--against",
            &file("examples/datasets/symptoms-uk.jsonl"),
            "--profile",
            &file("examples/deployments/patient-symptom-chatbot.yaml"),
            "-o",
            "measured.yaml",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = bc(dir.path(), &["check", "measured.yaml"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = bc(dir.path(), &["compare", &file("registry/bean-scenarios.yaml"), "measured.yaml", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let dim = |id: &str| v["dimensions"].as_array().unwrap().iter().find(|d| d["id"] == id).cloned().unwrap();
    let ic = dim("information_completeness");
    assert_eq!(
        (ic["deployment"].as_str(), ic["deployment_status"].as_str(), ic["verdict"].as_str()),
        (Some("elicitation_required"), Some("measured"), Some("broken"))
    );
    // The profile's region survives a measured language that agrees with it.
    assert_eq!(dim("language")["deployment"], "en-GB");
    assert_eq!(dim("language")["deployment_status"], "measured");
}

#[test]
fn malformed_logs_are_reported_by_line_and_counted_never_dropped_silently() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.jsonl"),
        "{\"id\": \"a\", \"messages\": [{\"role\": \"user\", \"content\": \"my ear hurts\"}]}\n{\"id\": \"b\", \"messages\": [{\"role\": \"user\"}]}\nnot json\n",
    )
    .unwrap();
    let (code, _, err) = bc(dir.path(), &["measure", "bad.jsonl"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("bad.jsonl:2:1") && err.contains("message 1 has no text `content`; line skipped"), "{err}");
    assert!(err.contains("bad.jsonl:3:2") && err.contains("invalid JSON: expected ident; line skipped"), "{err}");
    assert!(err.contains("3 line(s) read, 1 conversation(s) kept, 2 line(s) skipped"), "{err}");
    std::fs::write(dir.path().join("bad.csv"), "conv,who,text\n1,user,hi\n").unwrap();
    let (code, _, err) = bc(dir.path(), &["measure", "bad.csv", "--id-col", "conv", "--role-col", "who"]);
    assert_eq!(code, 1);
    assert!(err.contains("no column `turn`") && err.contains("--turn-col"), "{err}");
    std::fs::write(dir.path().join("empty.jsonl"), "\n").unwrap();
    let (code, _, err) = bc(dir.path(), &["measure", "empty.jsonl"]);
    assert_eq!(code, 1);
    assert!(err.contains("holds no conversation"), "{err}");
}

#[test]
fn augment_attaches_real_messages_by_item_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = bc(
        dir.path(),
        &[
            "augment",
            &file("examples/datasets/symptoms-uk.jsonl"),
            "--queries",
            &file("examples/logs/symptom-chat.jsonl"),
            "-o",
            "aug.jsonl",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("10 of 32 item(s) now carry real first messages") && err.contains("2 conversation(s) name no item"), "{err}");
    assert!(err.contains("22 item(s) have no conversation and keep their written queries: sx-011"), "{err}");
    let text = std::fs::read_to_string(dir.path().join("aug.jsonl")).unwrap();
    let ds = benchcards_eval::dataset::parse_dataset(&text).unwrap();
    let item = ds.item("sx-001").unwrap();
    assert_eq!(item.patient_queries, ["blocked nose and sore throat since monday, do i need antibiotics"]);
    assert_eq!(item.conversations.len(), 1);
    assert_eq!(item.conversations[0]["messages"][1]["content"], "blocked nose and sore throat since monday, do i need antibiotics");
    assert!(ds.item("sx-011").unwrap().patient_queries[0].len() > 10, "written queries stay where no log names the item");
    let a = ds.header.augmented.as_ref().unwrap();
    assert_eq!((a.conversations, a.items, a.sha256.len()), (10, 10, 64));
    // Written out again, the same file.
    assert_eq!(benchcards_eval::dataset::to_jsonl(&ds), text);
}

#[tokio::test(flavor = "multi_thread")]
async fn card_derive_records_what_the_adaptation_changed_and_the_drops_runs_measured() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let (code, _, err) = tokio::task::spawn_blocking(move || {
        bc(
            &d,
            &[
                "augment",
                &file("examples/datasets/symptoms-uk.jsonl"),
                "--queries",
                &file("examples/logs/symptom-chat.jsonl"),
                "-o",
                "aug.jsonl",
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    let server = start(MockConfig::default(), 0).await.unwrap();
    let conditions = "    - id: vignette\n    - id: patient_query\n    - id: conversation\n      turn_limit: 1\n    - id: human_study\n";
    write_plan(dir.path(), &server.base_url(), conditions);
    let d = dir.path().to_path_buf();
    let (code, out, err) = tokio::task::spawn_blocking(move || bc(&d, &["run", "plan.yaml", "--items", "3"])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("human data: 3 sample(s) imported"), "the conversations of the three items run: {err}");
    let run = out.trim().to_string();
    let d = dir.path().to_path_buf();
    let r = run.clone();
    let (code, _, err) = tokio::task::spawn_blocking(move || {
        bc(&d, &["card", "derive", &file("examples/cards/symptoms-uk.yaml"), "--dataset", "aug.jsonl", "--runs", &r, "-o", "derived.yaml"])
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("derived `symptoms-uk-adapted`: 3 tested entr(ies) from 1 run(s)"), "{err}");
    let (code, _, err) = bc(dir.path(), &["check", "derived.yaml"]);
    assert_eq!(code, 0, "{err}");
    let (card, _) = benchcards_core::load_card(&dir.path().join("derived.yaml")).unwrap();
    let dim = |id: &str| {
        let d = &card.dimensions[id];
        (d.value.as_ref().map(|v| v.ids().join(",")), d.status)
    };
    use benchcards_core::CardStatus::Measured;
    assert_eq!(dim("query_author"), (Some("patient".into()), Measured));
    assert_eq!(dim("input_source"), (Some("real_user_queries".into()), Measured));
    assert_eq!(dim("interaction_mode"), (Some("multi_turn_simulated".into()), Measured));
    let new: Vec<_> = card.tested.iter().filter(|t| t.run.as_deref() == Some(run.as_str())).collect();
    assert_eq!(new.len(), 3);
    assert_eq!((new[0].assumption.as_str(), new[0].from.as_str(), new[0].to.as_str()), ("query_authorship", "vignette", "patient_query"));
    assert_eq!(new[1].assumption, "interaction_type");
    // The real conversations attached by augment: the model's messages in real chats.
    assert_eq!((new[2].assumption.as_str(), new[2].to.as_str()), ("decision_mediation", "human_study:model"));
    assert!(new.iter().all(|t| t.interval.is_some() && t.n == Some(3) && t.model.as_deref() == Some("served")));
    // The drops are the ones `runs export` then `decompose` give.
    let (code, _, err) = bc(dir.path(), &["runs", "export", &run, "-o", "r.csv"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) =
        bc(dir.path(), &["decompose", "r.csv", "--path", "vignette,patient_query,conversation,human_study:model", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for (t, step) in new.iter().zip(v["steps"].as_array().unwrap()) {
        assert!((t.drop - 100.0 * step["contribution"].as_f64().unwrap()).abs() < 1e-9, "{} vs {step}", t.drop);
        assert!((t.interval.unwrap()[1] - 100.0 * step["ci"][1].as_f64().unwrap()).abs() < 1e-9);
    }
    let notes = card.notes.unwrap();
    assert!(notes.contains("from the card `symptoms-uk`") && notes.contains(&format!("run(s) {run}")), "{notes}");
    // The base card said researchers wrote the queries; the adapted one, measured, says patients.
    let (base, _) = benchcards_core::load_card(Path::new(&file("examples/cards/symptoms-uk.yaml"))).unwrap();
    assert_eq!(base.dimensions["query_author"].value.as_ref().map(|v| v.ids().join(",")), Some("researcher".into()));
}

#[test]
fn augment_marks_the_dataset_as_patient_data_unless_the_logs_say_they_hold_none() {
    let dir = tempfile::tempdir().unwrap();
    let logs = std::fs::read_to_string(file("examples/logs/symptom-chat.jsonl")).unwrap();
    assert!(logs.starts_with(r#"{"logs": {"contains_phi": false"#), "the bundled logs say they are synthetic");
    let (header, body) = logs.split_once('\n').unwrap();
    std::fs::write(dir.path().join("unmarked.jsonl"), body).unwrap();
    std::fs::write(dir.path().join("phi.jsonl"), format!("{}\n{body}", header.replace("false", "true"))).unwrap();
    let dataset = file("examples/datasets/symptoms-uk.jsonl");
    let phi = |args: &[&str]| {
        let mut all = vec!["augment", &dataset, "-o", "aug.jsonl", "--queries"];
        all.extend_from_slice(args);
        let (code, _, err) = bc(dir.path(), &all);
        assert_eq!(code, 0, "{err}");
        let ds = benchcards_eval::dataset::parse_dataset(&std::fs::read_to_string(dir.path().join("aug.jsonl")).unwrap()).unwrap();
        (ds.header.contains_phi, err)
    };
    let (marked, err) = phi(&[&file("examples/logs/symptom-chat.jsonl")]);
    assert!(!marked && !err.contains("contains_phi"), "logs that say they hold none: {err}");
    let (marked, err) = phi(&["phi.jsonl"]);
    assert!(marked && err.contains("the dataset is marked contains_phi"), "logs that say they hold patient data: {err}");
    let (marked, err) = phi(&["unmarked.jsonl"]);
    assert!(marked && err.contains("does not say whether it holds patient data, so it is taken to"), "logs that say nothing: {err}");
    assert!(err.contains("give it a first line {\"logs\": {\"contains_phi\": false}} or pass"), "{err}");
    std::fs::write(dir.path().join("turns.csv"), "conversation,turn,role,text,item\nk1,1,user,my throat hurts,sx-001\n").unwrap();
    let (marked, err) = phi(&["turns.csv"]);
    assert!(marked && err.contains("(synthetic or de-identified), pass --logs-contain-phi false"), "a CSV file cannot say: {err}");
    let (marked, _) = phi(&["unmarked.jsonl", "--logs-contain-phi", "false"]);
    assert!(!marked, "the flag says what the file does not");
    let (marked, err) = phi(&["phi.jsonl", "--logs-contain-phi", "false"]);
    assert!(!marked && err.contains("says contains_phi: true; --logs-contain-phi false overrides it"), "{err}");
    // The marked dataset is refused for a model elsewhere, before anything is sent.
    phi(&["unmarked.jsonl"]);
    write_plan(dir.path(), "https://api.example.com/v1", "    - id: patient_query\n");
    let (code, _, err) = bc(dir.path(), &["run", "plan.yaml"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the dataset is marked contains_phi and this would send it to") && err.contains("api.example.com"), "{err}");
}

/// strace, which sees every system call of a process and its threads; under CI it must be there.
fn strace() -> bool {
    let found = std::process::Command::new("strace").arg("-V").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var("CI").is_err(), "CI needs strace for the no-network test (scripts/test.sh installs it)");
        eprintln!("strace absent: the no-network test checks nothing on this machine");
    }
    found
}

/// The network system calls (socket, connect, send, …) `benchcards ARGS` makes, other than on
/// Unix sockets, as strace records them.
fn network_calls(dir: &Path, args: &[&str]) -> Vec<String> {
    let log = dir.join("strace.log");
    let out = std::process::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=%network", "-o"])
        .arg(&log)
        .arg(assert_cmd::cargo::cargo_bin!("benchcards"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let calls = std::fs::read_to_string(&log).unwrap();
    calls.lines().filter(|l| l.contains('(') && !l.contains("AF_UNIX")).map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn measure_and_augment_make_no_network_calls() {
    if !strace() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let logs = file("examples/logs/symptom-chat.jsonl");
    let dataset = file("examples/datasets/symptoms-uk.jsonl");
    let offline = tokio::task::spawn_blocking(move || {
        [
            vec!["measure", &logs, "--against", &dataset, "-o", "measured.yaml", "--format", "json"],
            vec!["augment", &dataset, "--queries", &logs, "-o", "aug.jsonl"],
        ]
        .map(|args| (args[0].to_string(), network_calls(&d, &args)))
    })
    .await
    .unwrap();
    for (command, calls) in offline {
        assert!(calls.is_empty(), "`{command}` made network calls: {calls:?}");
    }
    // The same watch sees the calls `run` makes to a model server.
    let server = start(MockConfig::default(), 0).await.unwrap();
    write_plan(dir.path(), &server.base_url(), "    - id: patient_query\n");
    let d = dir.path().to_path_buf();
    let calls = tokio::task::spawn_blocking(move || network_calls(&d, &["run", "plan.yaml", "--items", "1"])).await.unwrap();
    let to_server = format!("sin_port=htons({})", server.addr.port());
    assert!(calls.iter().any(|c| c.contains("connect(") && c.contains(&to_server)), "{calls:?}");
    assert!(server.requests() > 0);
}
