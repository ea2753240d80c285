//! Running `study serve` as a service: a health endpoint for a load balancer, one JSON log line
//! per request without participants' text or the recruitment platform's ids, and a graceful stop
//! on SIGTERM that finishes the request in flight (here a chat message waiting on a slow model)
//! before the process exits.

use benchcards_mock::{MockConfig, start};
use benchcards_study::participant::{Answers, Person, Scenario, take_part};
use std::io::Read;
use std::time::Duration;

const SECRET: &str = "a rash I have told nobody about";

struct Talker;

impl Person for Talker {
    async fn message(&mut self, _: &Scenario) -> Option<String> {
        Some(SECRET.into())
    }
    async fn answer(&mut self, _: &Scenario) -> Answers {
        Answers::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_answers_health_checks_logs_no_text_and_stops_after_the_request_in_flight() {
    let model = start(MockConfig { latency: Duration::from_millis(1500), ..Default::default() }, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = format!(
        "plan:
  version: 1
  id: ops
  card: bean-scenarios
  deployment: patient-symptom-chatbot
  dataset: symptoms-uk
  models: [{{ id: m, provider: openai, model: x, base_urls: [\"{}\"] }}]
  conditions: [{{ id: vignette }}]
  graders: [{{ kind: conditions }}]
  study:
    arms: [{{ id: a, model: m }}, {{ id: b, model: m }}]
    scenarios: [sx-001]
    consent: You agree to take part.
    instructions: Imagine you are the person described.
    target_participants: 2
    completion: {{ code: DONE }}
    recruitment_ids: [PROLIFIC_PID]
",
        model.base_url()
    );
    std::fs::write(dir.path().join("plan.yaml"), plan).unwrap();
    let mut server = std::process::Command::new(assert_cmd::cargo::cargo_bin("benchcards"))
        .current_dir(dir.path())
        .args(["study", "serve", "plan.yaml", "--port", "0"])
        .env("BENCHCARDS_STUDY_ADMIN_TOKEN", "an-operations-test-token")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = server.stderr.take().unwrap();
    // The first lines say where the server listens.
    let mut said = String::new();
    let mut buf = [0u8; 256];
    while !said.contains("participants at ") || !said[said.find("participants at ").unwrap()..].contains(" ;") {
        let n = stderr.read(&mut buf).unwrap();
        assert!(n > 0, "the server ended: {said}");
        said.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let base = said.split("participants at ").nth(1).unwrap().split_whitespace().next().unwrap().trim_end_matches('/').to_string();
    let health = reqwest::get(format!("{base}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "{\"status\":\"ok\"}");
    // A participant sends a message; the model takes 1.5 s; the server is told to stop meanwhile.
    let design = benchcards_core::load_plan(&dir.path().join("plan.yaml")).unwrap().0.study.unwrap();
    let taking_part = tokio::spawn(async move { take_part(&[base], "PROLIFIC_PID=recruit-4711", &design, &mut Talker).await });
    while model.requests() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SAFETY: kill sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(server.id() as i32, libc::SIGTERM) }, 0);
    let status = tokio::task::spawn_blocking(move || server.wait()).await.unwrap().unwrap();
    assert!(status.success(), "a graceful stop exits 0: {status:?}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    said.push_str(&rest);
    // The participant's next page finds no server; the message and the model's reply were kept.
    assert!(taking_part.await.unwrap().is_err());
    let logs = dir.path().join("chats.jsonl");
    let out = assert_cmd::Command::cargo_bin("benchcards")
        .unwrap()
        .current_dir(dir.path())
        .args(["study", "export", "plan.yaml", "--logs"])
        .arg(&logs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let chats = std::fs::read_to_string(&logs).unwrap();
    assert!(chats.contains(SECRET) && chats.contains("\"role\":\"assistant\""), "the request in flight finished: {chats}");
    // Logs: one JSON object per request, routes only.
    assert!(said.contains("stopping: no new connections"), "{said}");
    let requests: Vec<serde_json::Value> = said.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(requests.iter().any(|r| r["route"] == "/study/message" && r["status"] == 303 && r["ms"].as_u64() >= Some(1500)), "{said}");
    assert!(requests.iter().any(|r| r["route"] == "/health" && r["status"] == 200), "{said}");
    assert!(!said.contains("rash") && !said.contains("recruit-4711"), "no participant text or recruitment id in the logs: {said}");
}

#[test]
fn a_pilot_runs_simulated_participants_through_the_pages_into_a_store_of_its_own_labelled_a_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let plan = "plan:
  version: 1
  id: pilot-demo
  card: bean-scenarios
  deployment: patient-symptom-chatbot
  dataset: symptoms-uk
  models: [{ id: m, provider: mock }]
  conditions: [{ id: vignette }]
  graders: [{ kind: conditions, mode: bean, threshold: 80 }, { kind: disposition }]
  study:
    arms:
      - { id: with_model, model: m }
      - { id: control, instructions: Use whatever you would normally use. }
    scenarios: [sx-001, sx-002, sx-003, sx-004]
    scenarios_per_participant: 2
    consent: You agree to take part.
    instructions: Imagine you are the person described.
    comprehension: [{ question: Whose symptoms are they?, options: [Mine, The person described], answer: 1 }]
    target_participants: 40
    completion: { code: DONE }
";
    std::fs::write(dir.path().join("plan.yaml"), plan).unwrap();
    let bc = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("benchcards").unwrap().current_dir(dir.path()).args(args).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (ok, said) = bc(&["study", "pilot", "plan.yaml", "--participants", "6"]);
    assert!(ok, "{said}");
    assert!(said.contains("pilot: 6 of 6 simulated participants finished, 12 answers") && said.contains("A PROXY"), "{said}");
    assert!(said.contains("with_model: named a relevant condition") && said.contains("95% CI"), "every rate with its interval: {said}");
    assert!(!said.contains("\"route\""), "a pilot logs no requests: {said}");
    assert!(dir.path().join("pilot-demo.pilot.sqlite").exists() && !dir.path().join("pilot-demo.study.sqlite").exists());
    // Exported, its arms say they are simulated; it is never served to people.
    let (ok, said) = bc(&["study", "export", "plan.yaml", "--database", "pilot-demo.pilot.sqlite", "-o", "pilot.csv"]);
    assert!(ok && said.contains("A PILOT"), "{said}");
    let csv = std::fs::read_to_string(dir.path().join("pilot.csv")).unwrap();
    let arms: std::collections::BTreeSet<String> =
        csv::Reader::from_reader(csv.as_bytes()).records().map(|r| r.unwrap()[2].to_string()).collect();
    assert_eq!(arms.into_iter().collect::<Vec<_>>(), ["simulated_control", "simulated_with_model"], "{csv}");
    let serve = assert_cmd::Command::cargo_bin("benchcards")
        .unwrap()
        .current_dir(dir.path())
        .args(["study", "serve", "plan.yaml", "--database", "pilot-demo.pilot.sqlite", "--port", "0"])
        .env("BENCHCARDS_STUDY_ADMIN_TOKEN", "an-operations-test-token")
        .output()
        .unwrap();
    assert!(!serve.status.success() && String::from_utf8_lossy(&serve.stderr).contains("holds a pilot's simulated participants"));
    // A second pilot adds to the first.
    let (ok, said) = bc(&["study", "pilot", "plan.yaml", "--participants", "1"]);
    assert!(ok && said.contains("1 of 1 simulated participants finished, 14 answers"), "{said}");
}
