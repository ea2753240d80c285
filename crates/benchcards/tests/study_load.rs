//! Study servers as processes under load: simulated participants (the study crate's
//! `participant::take_part`, which fails over to the next server as a load balancer would)
//! against one or two `benchcards study serve` instances on a SQLite file or a PostgreSQL
//! database, with the mock model at a set latency.
//!
//! - Kill trials (in the suite): a server instance is killed with SIGKILL at a seeded moment
//!   during the load; every participant finishes on the other instance and every answer the
//!   server acknowledged is in the store.
//! - The load table (`bash bench/study.sh`, release build): 100, 300 and 1,000 participants at
//!   once against one and two instances on SQLite and PostgreSQL: page latency p50/p99,
//!   participants per minute, peak memory, answers lost, allocation imbalance per scenario.

#[path = "../../benchcards-study/tests/pg/mod.rs"]
mod pg;

use benchcards_mock::{MockConfig, MockServer};
use benchcards_study::participant::{Answers, Person, Scenario, Taken, take_part};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

const TOKEN: &str = "a-load-test-admin-token";
const BLOCK: i64 = 4;

fn plan_text(model_url: &str) -> String {
    format!(
        "plan:
  version: 1
  id: load
  card: bean-scenarios
  deployment: patient-symptom-chatbot
  dataset: symptoms-uk
  models: [{{ id: m, provider: openai, model: x, base_urls: [\"{model_url}\"] }}]
  conditions: [{{ id: vignette }}]
  graders: [{{ kind: conditions }}]
  study:
    arms:
      - {{ id: with_model, model: m }}
      - {{ id: control, instructions: Use whatever you would normally use. }}
    scenarios: [sx-001, sx-002, sx-003, sx-004]
    scenarios_per_participant: 2
    allocation: {{ block_size: {BLOCK}, seed: 3 }}
    consent: You agree to take part.
    instructions: Imagine you are the person described.
    comprehension: [{{ question: Whose symptoms are they?, options: [Mine, The person described], answer: 1 }}]
    attention: [{{ question: Choose green., options: [Blue, Green], answer: 1 }}]
    target_participants: 1000
    completion: {{ code: DONE }}
    limits: {{ requests_per_minute: 1000 }}
"
    )
}

/// A participant who asks once per scenario and answers.
struct Simulated;

impl Person for Simulated {
    async fn message(&mut self, s: &Scenario) -> Option<String> {
        s.chat.is_empty().then(|| "What could this be, and what should I do?".to_string())
    }
    async fn answer(&mut self, _: &Scenario) -> Answers {
        Answers { conditions: vec!["common cold".into()], disposition: Some("self_care".into()), confidence: Some(3), sources: None }
    }
}

/// Where the study's data lives for a run.
#[derive(Clone)]
enum Db {
    Sqlite,
    Postgres { url: String, password: String },
}

impl Db {
    fn name(&self) -> &str {
        match self {
            Db::Sqlite => "SQLite",
            Db::Postgres { .. } => "PostgreSQL",
        }
    }
}

/// `study serve` processes on one store.
struct Servers {
    children: Vec<std::process::Child>,
    urls: Vec<String>,
}

impl Servers {
    fn start(dir: &Path, db: &Db, n: usize) -> Servers {
        let (mut children, mut urls) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("benchcards"));
            cmd.current_dir(dir).args(["study", "serve", "plan.yaml", "--port", "0"]).env("BENCHCARDS_STUDY_ADMIN_TOKEN", TOKEN);
            if let Db::Postgres { url, password } = db {
                cmd.args(["--database", url]).env("PGPASSWORD", password);
            }
            let mut child = cmd.stderr(std::process::Stdio::piped()).spawn().unwrap();
            // The log is read to its end on a thread of its own, so the server never blocks on it.
            let (tx, rx) = std::sync::mpsc::channel();
            let stderr = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                let mut said = String::new();
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(url) = line.split("participants at ").nth(1).and_then(|r| r.split_whitespace().next()) {
                        let _ = tx.send(Ok(url.trim_end_matches('/').to_string()));
                    } else if !line.starts_with('{') {
                        said.push_str(&line);
                        said.push('\n');
                    }
                }
                let _ = tx.send(Err(said));
            });
            urls.push(rx.recv_timeout(Duration::from_secs(60)).unwrap().unwrap_or_else(|e| panic!("the server ended: {e}")));
            children.push(child);
        }
        Servers { children, urls }
    }

    /// The peak resident memory of each instance, in MiB.
    fn peak_mib(&self) -> Vec<f64> {
        self.children
            .iter()
            .map(|c| {
                let status = std::fs::read_to_string(format!("/proc/{}/status", c.id())).unwrap_or_default();
                let kib = status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok());
                kib.unwrap_or(0.0) / 1024.0
            })
            .collect()
    }

    fn kill(&mut self, i: usize) {
        let _ = self.children[i].kill();
        let _ = self.children[i].wait();
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn model(latency: Duration) -> MockServer {
    benchcards_mock::start(MockConfig { latency, ..Default::default() }, 0).await.unwrap()
}

/// `n` participants at once, each starting at a server in turn; what each took.
async fn participants(n: usize, servers: &[String], design: &benchcards_core::StudyDesign) -> Vec<Result<Taken, String>> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let mut order = servers.to_vec();
            order.rotate_left(i % servers.len());
            let design = design.clone();
            tokio::spawn(async move { take_part(&order, &format!("PROLIFIC_PID=p{i}"), &design, &mut Simulated).await })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap_or_else(|e| Err(e.to_string())));
    }
    out
}

/// What the store holds after a run: completed participants, answers, the largest difference
/// between the arms within a scenario.
struct Stored {
    completed: usize,
    answers: usize,
    complete_answers: bool,
    imbalance: i64,
}

async fn stored(dir: &Path, db: &Db) -> Stored {
    let database = match db {
        Db::Sqlite => None,
        Db::Postgres { url, password } => Some(url.replace("postgres@", &format!("postgres:{password}@"))),
    };
    let study = benchcards_study::Study::load(&dir.join("plan.yaml"), database.as_deref()).await.unwrap();
    let participants = study.store.participants().await.unwrap();
    let answers = study.store.answers().await.unwrap();
    let completed: Vec<_> = participants.iter().filter(|p| p.completed.is_some()).collect();
    let complete_answers = completed.iter().all(|p| answers.iter().filter(|a| a.participant == p.id).count() == 2);
    let imbalance = study
        .scenarios
        .iter()
        .map(|s| {
            let n = |arm: &str| answers.iter().filter(|a| &a.scenario == s && a.arm == arm).count() as i64;
            (n("with_model") - n("control")).abs()
        })
        .max()
        .unwrap_or(0);
    Stored { completed: completed.len(), answers: answers.len(), complete_answers, imbalance }
}

/// A fresh study folder (and database) for one run.
async fn fresh(db_kind: &str, name: &str, model_url: &str) -> Option<(tempfile::TempDir, Db)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.yaml"), plan_text(model_url)).unwrap();
    let db = if db_kind == "sqlite" {
        Db::Sqlite
    } else {
        let server = pg::server()?;
        server.database(name).await;
        Db::Postgres { url: server.url(name), password: server.password.clone() }
    };
    Some((dir, db))
}

fn design(dir: &Path) -> benchcards_core::StudyDesign {
    *benchcards_core::load_plan(&dir.join("plan.yaml")).unwrap().0.study.unwrap()
}

/// Trials, or `BENCHCARDS_STUDY_KILL_TRIALS`.
fn kill_trials() -> u64 {
    std::env::var("BENCHCARDS_STUDY_KILL_TRIALS").ok().and_then(|n| n.parse().ok()).unwrap_or(20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_mid_study_loses_no_acknowledged_answer_and_its_participants_finish_on_the_other() {
    let model = model(Duration::from_millis(100)).await;
    let mut failed_over = 0;
    for trial in 0..kill_trials() {
        // Even trials on a SQLite file both servers share, odd ones on PostgreSQL (where it runs).
        let kind = if trial % 2 == 1 && pg::server().is_some() { "postgres" } else { "sqlite" };
        let Some((dir, db)) = fresh(kind, &format!("kill_{trial}"), &model.base_url()).await else { continue };
        let mut servers = Servers::start(dir.path(), &db, 2);
        let design = design(dir.path());
        let load = tokio::spawn({
            let urls = servers.urls.clone();
            async move { participants(30, &urls, &design).await }
        });
        // A seeded moment during the load (splitmix of the trial number: 50 to 800 ms).
        let mut z = trial.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        tokio::time::sleep(Duration::from_millis(50 + (z >> 33) % 750)).await;
        servers.kill(0);
        let taken = load.await.unwrap();
        let at = format!("trial {trial} on {}", db.name());
        let mut acknowledged = 0;
        for t in &taken {
            let t = t.as_ref().unwrap_or_else(|e| panic!("{at}: a participant could not finish: {e}"));
            assert_eq!(t.code, "DONE", "{at}");
            acknowledged += t.answered;
            failed_over += usize::from(t.failovers > 0);
        }
        let s = stored(dir.path(), &db).await;
        assert_eq!(s.completed, 30, "{at}: every participant finished");
        assert!(s.complete_answers && s.answers >= acknowledged, "{at}: {} answers stored, {acknowledged} acknowledged", s.answers);
    }
    assert!(failed_over > 0, "no participant was on the killed server when it died: the trials tested nothing");
    eprintln!("{failed_over} participants went on at the other server after a kill");
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The load table; `bash bench/study.sh` runs it in a release build.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: bash bench/study.sh"]
async fn load_table() {
    let latency = Duration::from_millis(1000);
    let model = model(latency).await;
    println!(
        "| participants | instances | store | page p50 (ms) | page p99 (ms) | participants/min | peak RSS per instance (MiB) | answers lost | imbalance (max per scenario) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for kind in ["sqlite", "postgres"] {
        for instances in [1, 2] {
            for n in [100, 300, 1000] {
                let Some((dir, db)) = fresh(kind, &format!("load_{instances}_{n}"), &model.base_url()).await else { continue };
                let servers = Servers::start(dir.path(), &db, instances);
                let started = Instant::now();
                let taken = participants(n, &servers.urls, &design(dir.path())).await;
                let wall = started.elapsed().as_secs_f64();
                let memory = servers.peak_mib();
                drop(servers);
                let taken: Vec<Taken> = taken.into_iter().map(|t| t.expect("every participant finishes")).collect();
                let mut pages: Vec<Duration> = taken.iter().flat_map(|t| t.latencies.iter().copied()).collect();
                pages.sort();
                let acknowledged: usize = taken.iter().map(|t| t.answered).sum();
                let s = stored(dir.path(), &db).await;
                let lost = acknowledged.saturating_sub(s.answers);
                assert_eq!((lost, s.completed), (0, n), "{kind} × {instances} × {n}");
                assert!(s.imbalance <= BLOCK, "{kind} × {instances} × {n}: imbalance {}", s.imbalance);
                println!(
                    "| {n} | {instances} | {} | {:.0} | {:.0} | {:.0} | {} | {lost} | {} |",
                    db.name(),
                    percentile(&pages, 0.5),
                    percentile(&pages, 0.99),
                    n as f64 / wall * 60.0,
                    memory.iter().map(|m| format!("{m:.0}")).collect::<Vec<_>>().join(", "),
                    s.imbalance
                );
            }
        }
    }
    println!("\nmock model latency {} ms per reply; every participant at once.", latency.as_millis());
}
