//! `run` against the loopback mock server: message flow, fleets sharing one cache, every injected
//! fault (statuses, malformed and empty replies, dropped and reset connections, timeouts, a server that
//! dies and comes back), dry runs that send nothing, and resuming a run killed mid-way.

use assert_cmd::Command;
use benchcards_mock::{Fault, MockConfig, MockServer, start};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn plan(dir: &Path, base_urls: &[String], conditions: &[&str], limit_items: Option<usize>) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let dataset = root.join("examples/datasets/symptoms-uk.jsonl");
    let dataset = match limit_items {
        Some(n) => {
            let text = std::fs::read_to_string(&dataset).unwrap();
            let p = dir.join("small.jsonl");
            std::fs::write(&p, text.lines().take(n + 1).collect::<Vec<_>>().join("\n")).unwrap();
            p
        }
        None => dataset,
    };
    let urls: Vec<String> = base_urls.iter().map(|u| format!("\"{u}\"")).collect();
    let conds: Vec<String> = conditions.iter().map(|c| format!("    - id: {c}")).collect();
    let text = format!(
        "plan:\n  version: 1\n  id: http-test\n  card: {}\n  deployment: {}\n  dataset: {}\n  models:\n    - id: served\n      provider: openai\n      model: test-model\n      base_urls: [{}]\n      sampling: {{temperature: 0.0, max_tokens: 64}}\n  conditions:\n{}\n  graders:\n    - kind: conditions\n",
        root.join("registry/bean-scenarios.yaml").display(),
        root.join("examples/deployments/patient-symptom-chatbot.yaml").display(),
        dataset.display(),
        urls.join(", "),
        conds.join("\n")
    );
    let p = dir.join("plan.yaml");
    std::fs::write(&p, text).unwrap();
    p
}

fn bc(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("benchcards").unwrap();
    c.current_dir(dir);
    c
}

async fn server(config: MockConfig) -> MockServer {
    start(config, 0).await.unwrap()
}

fn run_blocking(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = bc(dir).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn message_flow_and_a_fleet_sharing_one_cache() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (server(MockConfig::default()).await, server(MockConfig::default()).await);
    let p = plan(dir.path(), &[a.base_url(), b.base_url()], &["vignette", "patient_query"], Some(4));
    let d = dir.path().to_path_buf();
    let pp = p.to_str().unwrap().to_string();
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--concurrency", "4"])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    // 4 items: 4 vignettes + 8 patient queries.
    assert_eq!(a.requests() + b.requests(), 12);
    assert!(a.requests() > 0 && b.requests() > 0, "requests are spread across the fleet");
    let run = out.trim().to_string();
    let d = dir.path().to_path_buf();
    let r2 = run.clone();
    let (_, csv, _) = tokio::task::spawn_blocking(move || run_blocking(&d, &["runs", "export", &r2, "--format", "jsonl"])).await.unwrap();
    assert_eq!(csv.lines().count(), 12);
    // The patient's own words were sent alone: the echo shows the exact message.
    let store = benchcards_eval::store::Store::open(&dir.path().join("benchcards-runs.sqlite")).unwrap();
    let samples = store.samples(&run).unwrap();
    let q = samples.iter().find(|s| s.unit == "sx-001#q1").unwrap();
    let transcript: serde_json::Value = serde_json::from_str(&q.transcript).unwrap();
    assert_eq!(transcript.as_array().unwrap().len(), 2);
    assert_eq!(q.response.as_deref().unwrap(), format!("echo: {}", transcript[0]["content"].as_str().unwrap()));
    drop(store);
    // A second run of the same plan is served from the cache: nothing is sent to either server.
    let d = dir.path().to_path_buf();
    let pp = p.to_str().unwrap().to_string();
    let (code, _, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("12 done (12 from cache)"), "{err}");
    assert_eq!(a.requests() + b.requests(), 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_injected_fault_is_retried_recorded_with_its_reason_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let faults: [(Fault, &[&str]); 10] = [
        (Fault::Status { code: 429, retry_after: Some(0) }, &["429"]),
        (Fault::Status { code: 429, retry_after: None }, &["429"]),
        (Fault::Status { code: 500, retry_after: None }, &["500"]),
        (Fault::Status { code: 502, retry_after: None }, &["502"]),
        (Fault::Status { code: 503, retry_after: Some(0) }, &["503"]),
        (Fault::Malformed, &["malformed JSON"]),
        (Fault::EmptyChoices, &["no choices"]),
        // Part of the reply may or may not have left before the connection closed.
        (Fault::Truncated, &["body truncated", "connection closed before message completed"]),
        (Fault::Hang, &["timed out"]),
        (Fault::Reset, &["Connection reset by peer"]),
    ];
    for (i, (fault, reasons)) in faults.into_iter().enumerate() {
        let s = server(MockConfig { fail_every: 3, fault, ..Default::default() }).await;
        let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(9));
        let store = dir.path().join(format!("store-{i}.sqlite"));
        let (d, pp, st) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string(), store.to_str().unwrap().to_string());
        let args = ["run", &pp, "--store", &st, "--concurrency", "2", "--timeout", "1"].map(String::from);
        let (code, out, err) =
            tokio::task::spawn_blocking(move || run_blocking(&d, &args.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap();
        assert_eq!(code, 0, "{fault:?}: {err}");
        let failures = s.counters.failures.load(std::sync::atomic::Ordering::SeqCst);
        assert!(failures > 0, "{fault:?}");
        assert_eq!(s.requests(), 9 + failures, "{fault:?}: each failure retried, no completed request sent twice");
        let st = benchcards_eval::store::Store::open(&store).unwrap();
        let run = out.trim();
        let recorded = st.failures(run).unwrap();
        assert_eq!(recorded.len() as u64, failures, "{fault:?}: every failure recorded");
        assert!(
            recorded.iter().all(|(_, attempt, reason)| *attempt < 5 && reasons.iter().any(|r| reason.contains(r))),
            "{fault:?}: {recorded:?}"
        );
        let samples = st.samples(run).unwrap();
        assert_eq!(samples.len(), 9);
        assert!(samples.iter().all(|x| x.status == "done" && x.attempts <= 5), "{fault:?}");
    }
    // A server that always fails: the sample fails after the bounded attempts, with its reason.
    let s = server(MockConfig { fail_every: 1, fault: Fault::Status { code: 500, retry_after: None }, ..Default::default() }).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(1));
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let (code, _, err) =
        tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--store", "fail.sqlite", "--max-attempts", "3"]))
            .await
            .unwrap();
    assert_eq!(code, 1);
    assert!(err.contains("1 failed"), "{err}");
    assert_eq!(s.requests(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_dies_mid_run_and_returns_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = MockConfig { latency: Duration::from_millis(100), ..Default::default() };
    let first = server(config.clone()).await;
    let port = first.addr.port();
    let p = plan(dir.path(), &[first.base_url()], &["vignette", "patient_query"], Some(6));
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let run = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--concurrency", "2", "--max-attempts", "8"]));
    // Let a few samples complete, then the server goes away for a second and comes back on the same port.
    while first.requests() < 4 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let served_before = first.counters.clone();
    drop(first);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = loop {
        match start(config.clone(), port).await {
            Ok(s) => break s,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let (code, out, err) = run.await.unwrap();
    assert_eq!(code, 0, "{err}");
    let st = benchcards_eval::store::Store::open(&dir.path().join("benchcards-runs.sqlite")).unwrap();
    let samples = st.samples(out.trim()).unwrap();
    // 6 vignettes and 12 patient queries, every one completed.
    assert_eq!(samples.len(), 18);
    assert!(samples.iter().all(|x| x.status == "done"));
    let failures = st.failures(out.trim()).unwrap();
    assert!(!failures.is_empty(), "the outage was seen and recorded");
    assert!(failures.iter().all(|(_, _, r)| r.contains("connection")), "{failures:?}");
    let served = served_before.requests.load(std::sync::atomic::Ordering::SeqCst) + second.requests();
    // A request in flight when the server died may be sent again; nothing that completed is.
    assert!(served >= 18 && served <= 18 + failures.len() as u64, "served {served}, {} failure(s)", failures.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig::default()).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette", "withheld", "patient_query"], None);
    with_judge(&p);
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--dry-run"])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Dry run: nothing is sent") && out.contains("total"), "{out}");
    // 32 + 32 + 64 samples, one request each, and one judge request per sample.
    let total: Vec<&str> = out.lines().find(|l| l.starts_with("total")).unwrap().split_whitespace().collect();
    assert_eq!(total[1..3], ["128", "256"], "{out}");
    assert!(out.lines().any(|l| l.starts_with("judge (judge:served)") && l.split_whitespace().nth(3) == Some("128")), "{out}");
    // The endpoint has no prices: its cost is unknown, never $0, and the note says how to add them.
    assert!(out.contains("no prices in the plan") && !out.contains("0.0000"), "{out}");
    assert!(out.contains("note: no prices in the plan for `served`") && out.contains("pricing: {input_per_mtok"), "{out}");
    assert_eq!(s.requests(), 0);
    assert!(!dir.path().join("benchcards-runs.sqlite").exists(), "a dry run creates no store");
}

/// Kills of `run` with SIGKILL at seeded moments, each resumed: 20, or `BENCHCARDS_KILL_TRIALS`
/// for a longer run (RELIABILITY.md).
fn kill_trials() -> u64 {
    std::env::var("BENCHCARDS_KILL_TRIALS").ok().and_then(|n| n.parse().ok()).unwrap_or(20)
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_killed_at_seeded_moments_resume_to_the_same_results_without_resending_completed_requests() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig { latency: Duration::from_millis(40), ..Default::default() }).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(30));
    let pp = p.to_str().unwrap().to_string();
    // The uninterrupted run the killed ones must end up equal to.
    let (d, pq) = (dir.path().to_path_buf(), pp.clone());
    let (code, out, err) =
        tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pq, "--store", "whole.sqlite", "--concurrency", "3"]))
            .await
            .unwrap();
    assert_eq!(code, 0, "{err}");
    let answers = |store: &str, run: &str| -> Vec<(String, Option<String>)> {
        let st = benchcards_eval::store::Store::open(&dir.path().join(store)).unwrap();
        st.samples(run).unwrap().into_iter().map(|x| (x.key, x.response)).collect()
    };
    let whole = answers("whole.sqlite", out.trim());
    assert_eq!(whole.len(), 30);
    let bin = assert_cmd::cargo::cargo_bin("benchcards");
    for seed in 1..=kill_trials() {
        let store = format!("killed-{seed}.sqlite");
        let before = s.requests();
        // A seeded moment: 0 to 39 ms (a request's latency is 40) after 1 to 25 of the 30
        // requests have reached the server, so kills land at every stage of a request.
        let kill_at = 1 + (seed * 7919) % 25;
        let then = Duration::from_millis((seed * 104_729) % 40);
        let mut child = std::process::Command::new(&bin)
            .current_dir(dir.path())
            .args(["run", &pp, "--store", &store, "--concurrency", "3"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while s.requests() - before < kill_at && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(then).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let sent_before = s.requests() - before;
        assert!(sent_before < 30, "trial {seed}: killed mid-run ({sent_before} sent)");
        let st = benchcards_eval::store::Store::open(&dir.path().join(&store)).unwrap();
        assert!(st.integrity_ok().unwrap(), "trial {seed}: the store survived the kill");
        let run = st.runs().unwrap()[0].id.clone();
        let done_before = st.done_keys(&run).unwrap().len() as u64;
        assert!(done_before <= sent_before, "trial {seed}");
        drop(st);
        let (d, pq, r, sq) = (dir.path().to_path_buf(), pp.clone(), run.clone(), store.clone());
        let (code, _, err) =
            tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pq, "--store", &sq, "--resume", &r])).await.unwrap();
        assert_eq!(code, 0, "trial {seed}: {err}");
        assert_eq!(answers(&store, &run), whole, "trial {seed}: the same samples and answers, none lost or duplicated");
        // Only requests in flight at the kill (at most the concurrency, 3) were sent again.
        let resent = s.requests() - before - 30;
        assert!(resent <= 3, "trial {seed}: {resent} re-sent");
    }
}

#[test]
fn phi_is_not_sent_to_remote_endpoints_without_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let text = std::fs::read_to_string(root.join("examples/datasets/symptoms-uk.jsonl")).unwrap().replacen(
        "\"contains_phi\": false",
        "\"contains_phi\": true",
        1,
    );
    assert!(text.contains("\"contains_phi\": true"));
    std::fs::write(dir.path().join("phi.jsonl"), text).unwrap();
    // A string prefix took each of the last four for this machine; the last one connected to
    // 127.0.0.1 and sent `127.9.9.9:1` as Basic credentials.
    for url in [
        "https://api.example.com/v1",
        "http://127.0.0.1@10.1.2.3/v1",
        "https://127.0.0.1.nip.io/v1",
        "http://127.example.com/v1",
        "http://127.9.9.9:1@127.0.0.1:9/v1",
    ] {
        let p = plan(dir.path(), &[url.to_string()], &["vignette"], None);
        let t = std::fs::read_to_string(&p).unwrap().replace(
            &root.join("examples/datasets/symptoms-uk.jsonl").display().to_string(),
            &dir.path().join("phi.jsonl").display().to_string(),
        );
        std::fs::write(&p, t).unwrap();
        let (code, _, err) = run_blocking(dir.path(), &["run", p.to_str().unwrap()]);
        assert_eq!(code, 1, "{url}");
        // The message names the address (wrapped to the terminal's width).
        let unwrapped: String = err.split_whitespace().filter(|w| *w != "│").collect();
        assert!(err.contains("contains_phi") && unwrapped.contains(url), "{url}: {err}");
        assert!(!dir.path().join("benchcards-runs.sqlite").exists(), "{url}: nothing recorded, nothing sent");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_replies_are_failures_with_their_reason_never_graded_answers() {
    let dir = tempfile::tempdir().unwrap();
    // Each fault on every request: the sample fails after its attempts, nothing is graded.
    let faults: [(Fault, &str); 7] = [
        (Fault::Endless, "reply over 4000000 bytes"),
        (Fault::Huge, "reply over 4000000 bytes"),
        (Fault::BadUtf8, "not valid UTF-8"),
        (Fault::Filtered, "the reply is empty (finish_reason: content_filter)"),
        (Fault::NullContent, "the reply's content is null"),
        // Followed, a 302 turned the POST into a GET whose answer was scored.
        (Fault::Redirect(302), "302 redirect to /v1/chat/completions: redirects are not followed"),
        (Fault::Redirect(307), "307 redirect to /v1/chat/completions: redirects are not followed"),
    ];
    for (i, (fault, reason)) in faults.into_iter().enumerate() {
        let s = server(MockConfig { fail_every: 1, fault, ..Default::default() }).await;
        let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(1));
        let store = dir.path().join(format!("store-{i}.sqlite"));
        let (d, pp, st) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string(), store.to_str().unwrap().to_string());
        let (code, _, err) =
            tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--store", &st, "--max-attempts", "2"])).await.unwrap();
        assert_eq!(code, 1, "{fault:?}: {err}");
        let st = benchcards_eval::store::Store::open(&store).unwrap();
        let run = &st.runs().unwrap()[0].id;
        let samples = st.samples(run).unwrap();
        assert!(samples.iter().all(|x| x.status == "failed"), "{fault:?}: {samples:?}");
        assert!(st.grades(run).unwrap().is_empty(), "{fault:?}: nothing graded");
        let recorded = st.failures(run).unwrap();
        assert!(!recorded.is_empty() && recorded.iter().all(|(_, _, r)| r.contains(reason)), "{fault:?}: {recorded:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_reply_costs_a_run_little_memory() {
    // The peak resident memory (KiB) of a run against `config`, as the kernel counts it for a
    // finished child, and the requests the server saw.
    async fn peak(config: MockConfig) -> (u64, u64) {
        let dir = tempfile::tempdir().unwrap();
        let s = server(config).await;
        let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(4));
        let exe = assert_cmd::cargo::cargo_bin("benchcards");
        let measure = "import resource, subprocess, sys\nsubprocess.run(sys.argv[1:], capture_output=True)\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
        let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3")
                .current_dir(&d)
                .args(["-c", measure, exe.to_str().unwrap(), "run", &pp, "--max-attempts", "2", "--concurrency", "4"])
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let kib =
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
        (kib, s.requests())
    }
    // The same run against a server that answers well is the baseline: the binary's own size
    // varies with the build, the cost of the endless replies does not. Four replies in flight,
    // each cut at its 4 MB limit, measured 41–56 MiB more (the allocator keeps freed buffers);
    // without the limit the replies would grow by hundreds of MiB a second until the timeout.
    let (baseline, _) = peak(MockConfig::default()).await;
    let (endless, requests) = peak(MockConfig { fail_every: 1, fault: Fault::Endless, ..Default::default() }).await;
    assert!(requests >= 4, "the replies were asked for: {requests}");
    let extra = endless.saturating_sub(baseline) / 1024;
    assert!(extra < 96, "endless replies cost {extra} MiB more than good ones ({} MiB against {} MiB)", endless / 1024, baseline / 1024);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_echoed_in_an_error_never_reaches_the_store_even_in_part() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig { fail_every: 1, fault: Fault::Status { code: 401, retry_after: None }, ..Default::default() }).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(1));
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("      model: test-model\n", "      model: test-model\n      api_key_env: BENCHCARDS_TEST_KEY\n");
    std::fs::write(&p, text).unwrap();
    // Long enough that the 200-character cut of the echoed error falls inside it.
    let key = format!("sk-SENTINEL-{}", "XY".repeat(100));
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let out = tokio::task::spawn_blocking(move || {
        let run = bc(&d).env("BENCHCARDS_TEST_KEY", key).args(["run", &pp]).output().unwrap();
        let store = benchcards_eval::store::Store::open(&d.join("benchcards-runs.sqlite")).unwrap();
        let id = store.runs().unwrap()[0].id.clone();
        let show = bc(&d).args(["runs", "show", &id]).output().unwrap();
        (run, show, store.failures(&id).unwrap())
    })
    .await
    .unwrap();
    let (run, show, failures) = out;
    assert_eq!(run.status.code(), Some(1));
    assert!(!failures.is_empty() && failures.iter().all(|(_, _, r)| r.contains("401") && r.contains("[redacted]")), "{failures:?}");
    for text in [String::from_utf8_lossy(&run.stderr), String::from_utf8_lossy(&show.stdout), format!("{failures:?}").into()] {
        assert!(!text.contains("SENTINEL"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn conversation_flows_and_the_patient_never_sees_gold_answers() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig::default()).await;
    let p = plan(dir.path(), &[s.base_url()], &["conversation", "singleturn", "summarized", "patient_decision", "lay_rewrite"], Some(3));
    // Short conversations: two assistant turns, then the wrap-up request.
    let text = std::fs::read_to_string(&p).unwrap().replace("    - id: conversation\n", "    - id: conversation\n      turn_limit: 2\n");
    let text = text
        .replace("    - id: singleturn\n", "    - id: singleturn\n      turn_limit: 2\n")
        .replace("    - id: summarized\n", "    - id: summarized\n      turn_limit: 2\n");
    let text = text.replace("    - id: patient_decision\n", "    - id: patient_decision\n      turn_limit: 2\n");
    std::fs::write(&p, text).unwrap();
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    // Per item: conversation 5 requests (2 doctor turns, 2 patient answers, the wrap-up);
    // singleturn +1, summarized +2, patient_decision +1 (the conversation comes from the cache);
    // lay_rewrite 2. Three items: 3 × 11.
    assert_eq!(s.requests(), 33, "{err}");
    let bodies = s.counters.bodies.lock().unwrap().clone();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ds = benchcards_eval::dataset::parse_dataset(&std::fs::read_to_string(root.join("examples/datasets/symptoms-uk.jsonl")).unwrap())
        .unwrap();
    let mut patient_requests = 0;
    for b in &bodies {
        let system = b["messages"][0]["content"].as_str().unwrap_or("");
        if system.starts_with("You are a patient") {
            patient_requests += 1;
            let item = ds.items.iter().find(|i| system.contains(&i.vignette)).expect("the patient holds its vignette");
            let leak =
                benchcards_eval::grade::conditions(&b.to_string(), &item.gold.names(), benchcards_core::GraderMode::Strict, 80, None);
            assert_eq!(leak.score, 0.0, "the patient's prompt holds a gold answer: {:?}", leak.matched);
            assert!(!b.to_string().contains(item.gold.disposition.as_deref().unwrap()), "nor the disposition");
        }
    }
    assert_eq!(patient_requests, 3 * (2 + 1), "two answers per conversation and one decision");
    let store = benchcards_eval::store::Store::open(&dir.path().join("benchcards-runs.sqlite")).unwrap();
    let samples = store.samples(out.trim()).unwrap();
    let decision = samples.iter().find(|x| x.condition == "patient_decision").unwrap();
    let transcript: serde_json::Value = serde_json::from_str(&decision.transcript).unwrap();
    assert_eq!(transcript.as_array().unwrap().last().unwrap()["role"], "patient", "the patient's own answer is what is scored");
    let conv = samples.iter().find(|x| x.condition == "conversation").unwrap();
    let t: serde_json::Value = serde_json::from_str(&conv.transcript).unwrap();
    assert_eq!(t[0]["role"], "system");
    assert_eq!(t[1]["content"], ds.items[0].patient_queries[0], "the conversation opens with the patient's own first message");
    // The export labels the proxy.
    let r = out.trim().to_string();
    let d = dir.path().to_path_buf();
    let (_, csv, _) = tokio::task::spawn_blocking(move || run_blocking(&d, &["runs", "export", &r])).await.unwrap();
    assert!(csv.lines().any(|l| l.contains(",patient_decision,") && l.ends_with(",true")), "{csv}");
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_compare_gives_paired_differences_and_mcnemar() {
    let dir = tempfile::tempdir().unwrap();
    let a = server(MockConfig { reply: Some("Final answer: a common cold; look after it at home.".into()), ..Default::default() }).await;
    let b = server(MockConfig { reply: Some("Final answer: I cannot tell; see your GP.".into()), ..Default::default() }).await;
    let mut runs = Vec::new();
    for (name, s) in [("a", &a), ("b", &b)] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let p = plan(&sub, &[s.base_url()], &["vignette"], Some(3));
        // Two logical models: the cache is keyed on the model, so they must not share an id.
        // Two epochs each: replicates of the same three units, not six pairs.
        let text = std::fs::read_to_string(&p).unwrap().replace("id: served", &format!("id: model-{name}"));
        std::fs::write(&p, text.replace("  conditions:\n", "  epochs: 2\n  conditions:\n")).unwrap();
        let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
        let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp])).await.unwrap();
        assert_eq!(code, 0, "{err}");
        runs.push(out.trim().to_string());
    }
    let (d, ra, rb) = (dir.path().to_path_buf(), runs[0].clone(), runs[1].clone());
    let (code, out, err) =
        tokio::task::spawn_blocking(move || run_blocking(&d, &["runs", "compare", &ra, &rb, "--format", "json"])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let c = &v["conditions"][0];
    assert_eq!(c["condition"], "vignette");
    assert_eq!(c["n"], 3, "units, each with its two epochs averaged: {c}");
    assert_eq!((c["replicates"].clone(), c["rows_a"].clone(), c["rows_b"].clone()), (serde_json::json!([2, 2]), 6.into(), 6.into()));
    assert!((c["difference"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12, "only the common-cold item is named by run a: {c}");
    assert!((c["mcnemar_exact_p"].as_f64().unwrap() - 1.0).abs() < 1e-12, "one discordant pair");
    assert_eq!(c["method"], "newcombe_paired", "every epoch of a unit agrees, so each unit is right or wrong");
    let (d, ra, rb) = (dir.path().to_path_buf(), runs[0].clone(), runs[1].clone());
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["runs", "compare", &ra, &rb])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("each unit's replicates (epochs) averaged under each run, then paired"), "{out}");
    assert!(out.contains("Units (paired)") && out.contains("Replicates per unit"), "{out}");
}

#[test]
fn a_missing_api_key_stops_before_anything_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let p = plan(dir.path(), &["http://127.0.0.1:9/v1".to_string()], &["vignette"], Some(1));
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("      model: test-model\n", "      model: test-model\n      api_key_env: BENCHCARDS_TEST_KEY_NOT_SET\n");
    std::fs::write(&p, text).unwrap();
    let out = bc(dir.path()).env_remove("BENCHCARDS_TEST_KEY_NOT_SET").args(["run", p.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BENCHCARDS_TEST_KEY_NOT_SET"));
    assert!(!dir.path().join("benchcards-runs.sqlite").exists(), "no run recorded");
}

/// Adds an LLM-judge grader, played by the plan's own model, to a test plan.
fn with_judge(p: &Path) {
    let text = std::fs::read_to_string(p).unwrap()
        + "    - kind: judge\n      rubric: Names the most likely condition and the right level of care.\n      judge_model: served\n";
    std::fs::write(p, text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_judge_grades_completed_samples_once_and_an_unreadable_verdict_is_a_failure_not_a_score() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig { reply: Some("Names the condition, but not the level of care.\nSCORE: 0.5".into()), ..Default::default() })
        .await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(3));
    with_judge(&p);
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("judge: 3 sample(s) graded, 3 request(s) sent"), "{err}");
    assert_eq!(s.requests(), 6, "three answers and three verdicts");
    let run = out.trim().to_string();
    let store = benchcards_eval::store::Store::open(&dir.path().join("benchcards-runs.sqlite")).unwrap();
    let judged: Vec<_> = store.grades(&run).unwrap().into_iter().filter(|g| g.1 == "judge:served").collect();
    assert_eq!(judged.len(), 3);
    assert!(judged.iter().all(|g| g.2 == 0.5 && g.3 == "Names the condition, but not the level of care."), "{judged:?}");
    // The judge's grades export in the results form; resuming asks the judge nothing again.
    let (code, csv, err) = run_blocking(dir.path(), &["runs", "export", &run, "--grader", "judge:served"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(csv.lines().filter(|l| l.contains(",0.5,")).count(), 3, "{csv}");
    let (d, pp, r) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string(), run.clone());
    let (code, _, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--resume", &r])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert_eq!(s.requests(), 6);

    // A judge that answers without a score: the samples stay done, each is recorded as not judged.
    let s = server(MockConfig { reply: Some("It seems reasonable.".into()), ..Default::default() }).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(2));
    with_judge(&p);
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--store", "unread.sqlite"])).await.unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the judge could not grade 2 sample(s)"), "{err}");
    let store = benchcards_eval::store::Store::open(&dir.path().join("unread.sqlite")).unwrap();
    let run = store.runs().unwrap()[0].id.clone();
    assert!(out.is_empty() && store.grades(&run).unwrap().iter().all(|g| g.1 != "judge:served"));
    let failures = store.failures(&run).unwrap();
    assert_eq!(failures.len(), 2);
    assert!(failures.iter().all(|(k, _, reason)| k.starts_with("judge:") && reason.contains("no `SCORE:` line")), "{failures:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn grade_with_a_judge_reads_the_rubric_and_model_from_a_plan_and_caches_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig { reply: Some("Both right.\nSCORE: 1".into()), ..Default::default() }).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(2));
    with_judge(&p);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let ds = root.join("examples/datasets/symptoms-uk.jsonl").display().to_string();
    std::fs::write(dir.path().join("answers.csv"), "unit,item,response\nu1,sx-001,A cold; rest at home.\nu2,sx-002,Tension headache.\n")
        .unwrap();
    let base: Vec<String> =
        ["grade", "answers.csv", "--dataset", &ds, "--grader", "judge", "-o", "graded.csv"].iter().map(|s| s.to_string()).collect();
    let grade = |extra: Vec<String>| {
        let (d, a) = (dir.path().to_path_buf(), [base.clone(), extra].concat());
        tokio::task::spawn_blocking(move || run_blocking(&d, &a.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let (code, _, err) = grade(vec![]).await.unwrap();
    assert_eq!(code, 1);
    assert!(err.contains("--grader judge needs --plan PLAN"), "{err}");
    for _ in 0..2 {
        let (code, _, err) = grade(vec!["--plan".into(), p.display().to_string()]).await.unwrap();
        assert_eq!(code, 0, "{err}");
        let graded = std::fs::read_to_string(dir.path().join("graded.csv")).unwrap();
        assert_eq!(graded.lines().filter(|l| l.contains(",1,judge:served,")).count(), 2, "{graded}");
    }
    assert_eq!(s.requests(), 2, "the second grading came from the cache");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_halve_concurrency_and_other_errors_do_not() {
    let dir = tempfile::tempdir().unwrap();
    for (status, lowered) in [(429u16, true), (503, false)] {
        let s = server(MockConfig {
            latency: Duration::from_millis(20),
            fail_every: 2,
            fault: Fault::Status { code: status, retry_after: Some(0) },
            ..Default::default()
        })
        .await;
        let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(24));
        let store = dir.path().join(format!("aimd-{status}.sqlite")).display().to_string();
        let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
        let (code, _, err) = tokio::task::spawn_blocking(move || {
            run_blocking(&d, &["run", &pp, "--store", &store, "--concurrency", "16", "--max-attempts", "10"])
        })
        .await
        .unwrap();
        assert_eq!(code, 0, "{err}");
        // Every other request is refused: with halving on each 429 and one step back per 16
        // successes, the limit cannot recover to 16.
        assert_eq!(err.contains("rate limited: concurrency lowered from 16 to"), lowered, "{status}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_outlives_the_timeout_is_retried_then_recorded_as_timed_out() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig { latency: Duration::from_secs(5), ..Default::default() }).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(1));
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let started = std::time::Instant::now();
    let (code, out, err) =
        tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--timeout", "1", "--max-attempts", "2"])).await.unwrap();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("1 failed"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "the client gave up before the server answered");
    assert!(out.is_empty());
    let store = benchcards_eval::store::Store::open(&dir.path().join("benchcards-runs.sqlite")).unwrap();
    let run = store.runs().unwrap()[0].id.clone();
    let failures = store.failures(&run).unwrap();
    assert_eq!(failures.len(), 2, "two attempts, each recorded: {failures:?}");
    assert!(failures.iter().all(|(_, _, reason)| reason.starts_with("timed out")), "{failures:?}");
    let sample = &store.samples(&run).unwrap()[0];
    assert_eq!((sample.status.as_str(), sample.attempts), ("failed", 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_reports_its_cost_at_the_plans_prices() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig::default()).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(3));
    // One dollar per prompt token and five per completion token, so the figure is exact.
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("      sampling:", "      pricing: {input_per_mtok: 1000000, output_per_mtok: 5000000}\n      sampling:");
    std::fs::write(&p, text).unwrap();
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let store = benchcards_eval::store::Store::open(&dir.path().join("benchcards-runs.sqlite")).unwrap();
    let samples = store.samples(out.trim()).unwrap();
    let expected: i64 = samples.iter().map(|s| s.prompt_tokens + 5 * s.completion_tokens).sum();
    assert!(expected > 0);
    assert!(err.contains(&format!("cost: {expected}.0000 USD at the plan's prices")), "{expected}: {err}");
    // Not a terminal: progress comes as plain lines, the last one at the end of the work.
    assert!(err.contains("progress: 1/3 samples") && err.contains("progress: 3/3 samples, 0 failed"), "{err}");
    let (_, shown, _) = run_blocking(dir.path(), &["runs", "show", out.trim()]);
    assert!(shown.contains(&format!("{expected}.0000")), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_factorial_plan_runs_every_cell_and_decomposes_into_shapley_values() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig::default()).await;
    let framed = "framed\n      system_prompt: You are the NHS symptom checker.";
    let cell = format!("{framed}\n      with: [withheld]");
    let p = plan(dir.path(), &[s.base_url()], &["vignette", "withheld", framed, &cell], Some(4));
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    // Every cell sends its own requests: the cell's carry the system prompt and the shorter case.
    let bodies = s.counters.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 16);
    let framed_lengths = |with_prompt: bool| {
        let mut v: Vec<usize> = bodies
            .iter()
            .filter(|b| (b["messages"][0]["role"] == "system") == with_prompt)
            .map(|b| b["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap().len())
            .collect();
        v.sort();
        v
    };
    assert_eq!(framed_lengths(true).len(), 8);
    assert!(framed_lengths(true)[0] < framed_lengths(true)[7], "framed cases with and without their key facts");
    let (code, _, err) = run_blocking(dir.path(), &["runs", "export", out.trim(), "-o", "results.csv"]);
    assert_eq!(code, 0, "{err}");
    let results = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    let cell: Vec<&str> = results.lines().filter(|l| l.contains(",framed+withheld,")).collect();
    assert_eq!(cell.len(), 4, "{results}");
    assert!(cell.iter().all(|l| l.contains(",withheld_facts,interaction_type;information_completeness,")), "{cell:?}");
    let (code, json, err) = run_blocking(
        dir.path(),
        &[
            "decompose",
            "results.csv",
            "--path",
            "vignette,withheld,framed+withheld",
            "--shapley",
            "information_completeness,interaction_type",
            "--format",
            "json",
            "--resamples",
            "200",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let shapley = v["shapley"].as_array().expect("Shapley values when every cell exists");
    assert_eq!(shapley.len(), 2);
    // The two shares add up to the whole drop from the benchmark to the cell that relaxes both.
    let score = |c: &str| v["conditions"].as_array().unwrap().iter().find(|x| x["id"] == c).unwrap()["score"].as_f64().unwrap();
    let sum: f64 = shapley.iter().map(|x| x["value"].as_f64().unwrap()).sum();
    assert!((sum - (score("vignette") - score("framed+withheld"))).abs() < 1e-12, "{json}");
}

#[test]
fn participants_answers_reach_no_remote_judge_unless_the_plan_or_the_flag_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("study.csv"), "participant,item,arm,response\np1,sx-001,control,a cold\n").unwrap();
    let p = plan(dir.path(), &["https://api.example.com/v1".into()], &["vignette", "human_study"], Some(2));
    with_judge(&p);
    let base = std::fs::read_to_string(&p).unwrap() + "  human_study: {path: study.csv, control_arm: control}\n";
    std::fs::write(&p, &base).unwrap();
    let pp = p.to_str().unwrap();
    let (code, _, err) = run_blocking(dir.path(), &["run", pp, "--dry-run"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("participants' own words") && err.contains("api.example.com"), "{err}");
    let (code, out, err) = run_blocking(dir.path(), &["run", pp, "--dry-run", "--allow-phi-to-remote"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("human_study"), "{out}");
    std::fs::write(&p, base.replace("control_arm: control}", "control_arm: control, contains_phi: false}")).unwrap();
    let (code, _, err) = run_blocking(dir.path(), &["run", pp, "--dry-run"]);
    assert_eq!(code, 0, "a study the plan marks as holding nothing about anyone: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_human_study_is_imported_graded_and_decomposed_against_its_control_arm() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig::default()).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette", "human_study"], Some(2));
    // Two participants per arm, each answering both scenarios in their own words.
    std::fs::write(
        dir.path().join("study.csv"),
        "who,item,arm,response\n\
         p1,sx-001,with_model,I think it's a common cold\n\
         p1,sx-002,with_model,Probably a tension-type headache\n\
         p2,sx-001,with_model,flu maybe\n\
         p2,sx-002,with_model,tension-type headache from stress\n\
         p3,sx-001,usual_resources,a cold\n\
         p3,sx-002,usual_resources,migraine\n\
         p4,sx-001,usual_resources,common cold\n\
         p4,sx-002,usual_resources,no idea\n",
    )
    .unwrap();
    let with_study = |p: &Path, file: &str| {
        let text = std::fs::read_to_string(p).unwrap()
            + &format!("  human_study:\n    path: {file}\n    control_arm: usual_resources\n    columns: {{participant: who}}\n");
        std::fs::write(p, text).unwrap();
    };
    with_study(&p, "study.csv");
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("human study: 8 row(s) read") && err.contains("human data: 8 sample(s) imported"), "{err}");
    assert_eq!(s.requests(), 2, "only the model's two vignettes are sent; the study is imported");
    let (code, _, err) = run_blocking(dir.path(), &["runs", "export", out.trim(), "-o", "results.csv"]);
    assert_eq!(code, 0, "{err}");
    let results = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    let score = |unit: &str, arm: &str| {
        let line = results.lines().find(|l| l.starts_with(&format!("{unit},human_study:{arm},"))).unwrap_or_else(|| panic!("{results}"));
        line.split(',').nth(2).unwrap().to_string()
    };
    // Graded by the plan's own grader (bean mode, threshold 80): "flu maybe" names no accepted condition.
    assert_eq!((score("p1|sx-001", "with_model"), score("p2|sx-001", "with_model")), ("1.0".into(), "0.0".into()));
    assert_eq!(score("p4|sx-002", "usual_resources"), "0.0");
    assert!(results.contains(",real_participant,decision_mediation,"), "{results}");
    let (code, json, err) = run_blocking(
        dir.path(),
        &[
            "decompose",
            "results.csv",
            "--path",
            "vignette,human_study:with_model",
            "--reference",
            "human_study:usual_resources",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["steps"][0]["assumption"], "decision_mediation");
    assert_eq!(v["reference"]["id"], "human_study:usual_resources", "{json}");
    assert!((v["reference"]["score"].as_f64().unwrap() - 0.5).abs() < 1e-12, "a cold, common cold: 2 of 4");

    // A study naming a scenario the dataset lacks: an error at its line and column, and no run.
    std::fs::write(dir.path().join("bad.csv"), "who,item,arm,response\np1,sx-001,usual_resources,cold\np1,sx-999,usual_resources,cold\n")
        .unwrap();
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(2));
    with_study(&p, "bad.csv");
    let (code, _, err) = run_blocking(dir.path(), &["run", p.to_str().unwrap(), "--store", "bad.sqlite"]);
    assert_eq!(code, 1);
    assert!(err.contains("item `sx-999` is not in the plan's dataset") && err.contains("bad.csv:3:4"), "{err}");
    assert!(!dir.path().join("bad.sqlite").exists());
}

/// Every file under a folder, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(files_under(&p)) } else { out.push(p) }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_key_never_reaches_an_output_a_file_or_the_run_store() {
    const KEY: &str = "sk-sentinel-0e7c5a9f41d2b8c36e05f7a1d9b4c2e8";
    let dir = tempfile::tempdir().unwrap();
    // Every other request is refused with a 401 whose body repeats the Authorization header, as
    // some servers do.
    let s = server(MockConfig { fail_every: 2, fault: Fault::Status { code: 401, retry_after: None }, ..Default::default() }).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette", "patient_query"], Some(3));
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("      model: test-model\n", "      model: test-model\n      api_key_env: BENCHCARDS_SENTINEL_KEY\n");
    std::fs::write(&p, text).unwrap();
    with_judge(&p);
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let outputs = tokio::task::spawn_blocking(move || {
        let sh = |args: &[&str]| {
            let out = bc(&d).env("BENCHCARDS_SENTINEL_KEY", KEY).args(args).output().unwrap();
            (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
        };
        let mut all = vec![sh(&["run", &pp, "--dry-run"]), sh(&["run", &pp, "--concurrency", "2"])];
        let run_id = benchcards_eval::store::Store::open(&d.join("benchcards-runs.sqlite")).unwrap().runs().unwrap()[0].id.clone();
        for args in [
            vec!["run", &pp, "--resume", &run_id],
            vec!["runs", "list"],
            vec!["runs", "show", &run_id],
            vec!["runs", "export", &run_id, "-o", "results.csv"],
            vec!["runs", "export", &run_id, "--format", "jsonl"],
            vec!["report", &run_id, "-o", "report.html"],
            vec!["report", &run_id, "-o", "report.md"],
            vec!["report", &run_id, "-o", "brief.html", "--audience", "clinician"],
            vec!["grade", "results.csv", "--grader", "judge", "--plan", &pp],
            vec!["run", &pp, "--resume", "no-such-run"],
        ] {
            all.push(sh(&args));
        }
        all
    })
    .await
    .unwrap();
    assert_eq!(outputs[1].0, Some(1), "some samples were refused: {}", outputs[1].1);
    assert!(outputs.iter().any(|(code, _)| *code == Some(0)), "the commands ran: {outputs:?}");
    for (code, out) in &outputs {
        assert!(!out.contains(KEY) && !out.contains(&KEY[3..]), "exit {code:?} printed the key:\n{out}");
    }
    let files = files_under(dir.path());
    assert!(files.iter().any(|f| f.ends_with("benchcards-runs.sqlite")) && files.iter().any(|f| f.ends_with("report.html")));
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(KEY.len() - 3).any(|w| w == &KEY.as_bytes()[3..]), "{} holds the key", f.display());
    }
    // The key was sent, and the server's echo of it was what got scrubbed.
    let st = benchcards_eval::store::Store::open(&dir.path().join("benchcards-runs.sqlite")).unwrap();
    let run = st.runs().unwrap()[0].id.clone();
    let reasons: Vec<String> = st.failures(&run).unwrap().into_iter().map(|(_, _, r)| r).collect();
    assert!(reasons.iter().any(|r| r.contains("401") && r.contains("Bearer [redacted]")), "{reasons:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_being_run_cannot_be_resumed_twice_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(MockConfig::default()).await;
    let p = plan(dir.path(), &[s.base_url()], &["vignette"], Some(2));
    let (d, pp) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string());
    let (code, out, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let run = out.trim().to_string();
    // This test process holds the run, as a first `run --resume` still running would.
    let store = benchcards_eval::store::Store::open(&dir.path().join("benchcards-runs.sqlite")).unwrap();
    assert_eq!(store.lock_run(&run).unwrap(), Ok(()));
    let (d, pp, r) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string(), run.clone());
    let (code, _, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--resume", &r])).await.unwrap();
    assert_eq!(code, 1);
    assert!(err.contains(&format!("is being run now by process {}", std::process::id())), "{err}");
    // Once it is given back, the resume proceeds (and sends nothing: every sample is done).
    store.unlock_run(&run).unwrap();
    let before = s.requests();
    let (d, pp, r) = (dir.path().to_path_buf(), p.to_str().unwrap().to_string(), run.clone());
    let (code, _, err) = tokio::task::spawn_blocking(move || run_blocking(&d, &["run", &pp, "--resume", &r])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    assert_eq!(s.requests(), before);
}
