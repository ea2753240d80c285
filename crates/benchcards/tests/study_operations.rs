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
    fn message(&mut self, _: &Scenario) -> Option<String> {
        Some(SECRET.into())
    }
    fn answer(&mut self, _: &Scenario) -> Answers {
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
