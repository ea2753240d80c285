//! The README's stage-4 walk-through, command by command (docs/src/stage-4.md): `plan` drafts the
//! study for the Bean scenarios card × the public chatbot profile, `study register`, `study
//! serve` (a real server process on 127.0.0.1), participants take part over HTTP, `study export`,
//! `run` imports the export as `human_study`, `decompose` steps into people's decisions against
//! the control arm, and `report` shows the decision-mediation group measured by this run. The
//! one departure from the README: the arms' model is the mock instead of the embedded model, so
//! the test takes seconds.

use assert_cmd::Command;
use benchcards_study::participant::{Answers, Person, Scenario, take_part};
use std::io::{BufRead, BufReader};
use std::path::Path;

const TOKEN: &str = "a-walk-through-admin-token";

/// What a command printed (standard output, then standard error); it must succeed.
fn bc(dir: &Path, args: &[&str]) -> (String, String) {
    let out = Command::cargo_bin("benchcards").unwrap().current_dir(dir).args(args).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
    assert!(out.status.success(), "benchcards {}: {stderr}", args.join(" "));
    (stdout, stderr)
}

/// A participant who asks the assistant once per scenario; with the model they name the right
/// conditions, without it they do not, so the arms differ.
#[derive(Default)]
struct Scripted {
    asked: usize,
    seen: Vec<Scenario>,
}

impl Person for Scripted {
    async fn message(&mut self, s: &Scenario) -> Option<String> {
        (s.chat.is_empty()).then(|| {
            self.asked += 1;
            "I feel unwell, what could it be and what should I do?".to_string()
        })
    }
    async fn answer(&mut self, s: &Scenario) -> Answers {
        self.seen.push(s.clone());
        let conditions: &[&str] = if s.with_model { &["common cold", "tension-type headache"] } else { &["migraine"] };
        Answers {
            conditions: conditions.iter().map(|c| c.to_string()).collect(),
            disposition: Some("routine_gp".into()),
            confidence: Some(3),
            sources: (!s.with_model).then(|| "a health website".into()),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stage_4_walk_through_runs_from_the_plan_to_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    bc(d, &["plan", "bean-scenarios", "patient-symptom-chatbot", "--dataset", "symptoms-uk", "-o", "study-plan.yaml"]);
    let drafted = std::fs::read_to_string(d.join("study-plan.yaml")).unwrap();
    assert!(drafted.contains("  study:\n") && drafted.contains("study power --design independent"), "{drafted}");
    // The researcher picks two scenarios (the README's edit); the test swaps in the mock model.
    let plan = drafted
        .replacen("    scenarios_per_participant: 2", "    scenarios: [sx-001, sx-002]\n    scenarios_per_participant: 2", 1)
        .replace("provider: local", "provider: mock");
    std::fs::write(d.join("study-plan.yaml"), &plan).unwrap();
    let said = bc(d, &["study", "register", "study-plan.yaml"]).1;
    assert!(said.contains("registered study") && said.contains("power: benchcards study power"), "{said}");

    // `study serve` on a free port; its first line says where.
    let mut server = std::process::Command::new(assert_cmd::cargo::cargo_bin("benchcards"))
        .current_dir(d)
        .args(["study", "serve", "study-plan.yaml", "--port", "0"])
        .env("BENCHCARDS_STUDY_ADMIN_TOKEN", TOKEN)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.split("participants at ").nth(1).and_then(|r| r.split_whitespace().next()).map(|u| u.trim_end_matches('/').to_string())
        })
        .expect("the server says where participants go");
    let design = benchcards_core::load_plan(&d.join("study-plan.yaml")).unwrap().0.study.unwrap();
    // People enrol until both arms have someone.
    let mut arms = std::collections::BTreeMap::new();
    let mut people = 0;
    for i in 0..8 {
        people += 1;
        let mut p = Scripted::default();
        let taken = take_part(std::slice::from_ref(&base), &format!("PROLIFIC_PID=person-{i}"), &design, &mut p).await.unwrap();
        assert_eq!(taken.code, "COMPLETE");
        assert_eq!(p.seen.len(), 2, "two scenarios each");
        let with_model = p.seen[0].with_model;
        if with_model {
            assert_eq!(p.asked, 2, "one message per scenario");
            assert!(p.seen.iter().all(|s| s.chat.len() == 2 && s.chat[1].1.starts_with("Mock answer")), "{:?}", p.seen);
        }
        arms.entry(with_model).or_insert(i);
        if arms.len() == 2 {
            break;
        }
    }
    assert_eq!(arms.len(), 2, "both arms were allocated within 8 people");
    let _ = server.kill();
    let _ = server.wait();

    let said = bc(d, &["study", "export", "study-plan.yaml", "-o", "study.csv", "--logs", "study-chats.jsonl"]).1;
    assert!(said.contains("patient data") && said.contains("human_study: {path: study.csv, control_arm: control}"), "{said}");
    let logs = std::fs::read_to_string(d.join("study-chats.jsonl")).unwrap();
    assert!(logs.starts_with("{\"logs\":{\"contains_phi\":true"), "{logs}");
    // The README's second edit: the study's file and a `human_study` condition.
    let plan =
        plan.replacen("  graders:", "    - id: human_study\n  graders:", 1) + "  human_study: {path: study.csv, control_arm: control}\n";
    std::fs::write(d.join("study-plan.yaml"), plan).unwrap();
    let (run, said) = bc(d, &["run", "study-plan.yaml", "--items", "2"]);
    assert!(said.contains(&format!("human study: {} row(s) read", 2 * people)), "every answer is imported: {said}");
    let run = run.trim().to_string();
    bc(d, &["runs", "export", &run, "-o", "results.csv"]);
    let (json, _) = bc(
        d,
        &[
            "decompose",
            "results.csv",
            "--path",
            "vignette,patient_query,conversation,human_study:with_model",
            "--reference",
            "human_study:control",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let last = v["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["assumption"].as_str(), last["to"].as_str()), (Some("decision_mediation"), Some("human_study:with_model")), "{json}");
    assert_eq!(v["reference"]["id"], "human_study:control");

    bc(d, &["report", &run, "-o", "report.html"]);
    let html = std::fs::read_to_string(d.join("report.html")).unwrap();
    let row =
        html.split("<tr>").skip(1).find(|r| r.contains("Decision mediation") || r.contains("decision_mediation")).expect("a readiness row");
    assert!(row.contains("this run") && row.contains("human_study:with_model"), "the outcome group is measured with people: {row}");
}
