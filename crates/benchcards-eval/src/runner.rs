//! The scheduler: every (condition, unit, model, epoch) sample of a plan, run with bounded
//! concurrency that halves on rate limits and grows back slowly (AIMD), bounded retries with
//! jittered backoff that honour Retry-After, the response cache, and a durable record of each
//! sample the moment it completes.

use crate::client::{CallError, Client, Completion, cache_key};
use crate::conditions::{
    After, DOCTOR_SYSTEM, DOCTOR_WRAP_UP, Flow, LAY_REWRITE, Message, PATIENT_DECISION, PATIENT_OPENING, SUMMARIZE, TASK, patient_system,
    personas_of, units,
};
use crate::dataset::Dataset;
use crate::store::{Cached, SampleRow, Store, Write, Writer};
use benchcards_core::Scoring;
use benchcards_core::{ModelSpec, Plan};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// One sample to produce.
#[derive(Debug, Clone)]
pub struct Work {
    pub key: String,
    pub unit: String,
    pub item: String,
    pub condition: String,
    pub label: String,
    pub model: usize,
    /// The model that plays the simulated patient.
    pub patient: usize,
    pub epoch: u32,
    pub flow: Flow,
}

impl Work {
    /// Most requests the sample can send, and a rough prompt-token count, for dry runs.
    pub fn estimate(&self) -> (i64, i64) {
        use crate::client::estimate_tokens;
        match &self.flow {
            Flow::Single(m) => (1, estimate_tokens(m)),
            Flow::LayRewrite { vignette } => (2, 2 * estimate_tokens(&[Message::new("user", vignette.clone())])),
            Flow::Conversation { vignette, turn_limit, then, .. } => {
                let extra = match then {
                    After::Score(_) => 0,
                    After::SingleTurn | After::PatientDecision => 1,
                    After::Summarized => 2,
                };
                let requests = 2 * *turn_limit as i64 + 2 + extra;
                (requests, requests * estimate_tokens(&[Message::new("user", vignette.clone())]))
            }
        }
    }
}

/// Expands a plan over a dataset into work, in a stable order; items with nothing to pose are
/// counted. `human_study` poses nothing: its rows are imported (`human`).
pub fn expand(plan: &Plan, dataset: &Dataset) -> Result<(Vec<Work>, Vec<String>), String> {
    let mut work = Vec::new();
    let mut notes = Vec::new();
    for cond in plan.conditions.iter().filter(|c| c.id != "human_study") {
        let label = cond.name();
        let personas = personas_of(cond, &plan.personas).map_err(|e| format!("condition `{label}`: {e}"))?;
        let mut empty = 0;
        for item in &dataset.items {
            let us = units(cond, item, &personas).map_err(|e| e.to_string())?;
            if us.is_empty() {
                empty += 1;
            }
            for u in us {
                for (m, spec) in plan.models.iter().enumerate().filter(|(_, s)| s.under_test) {
                    let patient = plan.patient_model.as_ref().and_then(|p| plan.models.iter().position(|x| &x.id == p)).unwrap_or(m);
                    for epoch in 0..plan.epochs {
                        work.push(Work {
                            key: format!("{label}|{}|{}|{epoch}", u.unit, spec.id),
                            unit: u.unit.clone(),
                            item: u.item.clone(),
                            condition: cond.id.clone(),
                            label: label.clone(),
                            model: m,
                            patient,
                            epoch,
                            flow: u.flow.clone(),
                        });
                    }
                }
            }
        }
        if empty > 0 {
            notes.push(format!(
                "{label}: {empty} item(s) have nothing to pose under this condition (no patient queries or key facts) and are left out"
            ));
        }
    }
    Ok((work, notes))
}

#[derive(Debug, Clone)]
pub struct Options {
    pub concurrency: usize,
    pub max_attempts: u32,
    pub progress: Progress,
}

/// How a run shows its progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A live bar with rate and time left (a terminal).
    Bar,
    /// A plain line at every tenth of the work (logs, CI).
    Lines,
    Quiet,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise.
    pub fn for_stderr() -> Progress {
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) { Progress::Bar } else { Progress::Lines }
    }
}

/// The progress display of one run.
struct Meter {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    total: usize,
    start: Instant,
}

impl Meter {
    fn new(progress: Progress, total: usize) -> Meter {
        let bar = (progress == Progress::Bar && total > 0).then(|| {
            let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} samples · {per_sec} · {eta} left {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            indicatif::ProgressBar::new(total as u64).with_style(style)
        });
        Meter { bar, lines: progress == Progress::Lines, total, start: Instant::now() }
    }

    fn tick(&self, finished: usize, failed: u64) {
        if let Some(b) = &self.bar {
            b.set_position(finished as u64);
            if failed > 0 {
                b.set_message(format!("· {failed} failed"));
            }
        } else if self.lines && (finished * 10 / self.total.max(1) != (finished - 1) * 10 / self.total.max(1) || finished == self.total) {
            eprintln!("progress: {finished}/{} samples, {failed} failed, {:.1} s", self.total, self.start.elapsed().as_secs_f64());
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub done: u64,
    pub failed: u64,
    pub cached: u64,
    pub requests_sent: u64,
    pub retries: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub elapsed: Duration,
    pub final_concurrency: usize,
    /// The first write the store could not record; the run stopped sending requests then.
    pub store_error: Option<String>,
    /// Samples of this run the store does not hold at the end (not sent, or not recorded):
    /// a resumed run sends them.
    pub unrecorded: u64,
}

/// Additive-increase, multiplicative-decrease concurrency over a semaphore.
struct Aimd {
    sem: Arc<Semaphore>,
    limit: AtomicUsize,
    successes: AtomicUsize,
    max: usize,
}

impl Aimd {
    fn on_success(&self) {
        let limit = self.limit.load(Ordering::Relaxed);
        if self.successes.fetch_add(1, Ordering::Relaxed) + 1 >= limit && limit < self.max {
            self.successes.store(0, Ordering::Relaxed);
            self.limit.fetch_add(1, Ordering::Relaxed);
            self.sem.add_permits(1);
        }
    }
    fn on_rate_limit(&self) {
        let limit = self.limit.load(Ordering::Relaxed);
        let cut = limit / 2;
        if cut == 0 {
            return;
        }
        self.limit.fetch_sub(cut, Ordering::Relaxed);
        self.successes.store(0, Ordering::Relaxed);
        let sem = self.sem.clone();
        // Withdraw the permits as they come free.
        tokio::spawn(async move {
            if let Ok(p) = sem.acquire_many(cut as u32).await {
                p.forget();
            }
        });
    }
}

fn jitter(key: &str, attempt: u32) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes().chain(attempt.to_le_bytes()) {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    0.5 + (h % 1000) as f64 / 1000.0
}

/// What every task of a run shares.
struct Shared {
    store: Arc<Mutex<Store>>,
    writer: Writer,
    aimd: Aimd,
    opts: Options,
    counters: Counters,
}

impl Shared {
    fn new(store: Arc<Mutex<Store>>, run: &str, opts: &Options) -> Arc<Shared> {
        let limit = opts.concurrency.max(1);
        let writer = Writer::start(&store.lock().expect("store lock"), run);
        Arc::new(Shared {
            writer,
            store,
            aimd: Aimd { sem: Arc::new(Semaphore::new(limit)), limit: AtomicUsize::new(limit), successes: AtomicUsize::new(0), max: limit },
            opts: opts.clone(),
            counters: Counters::default(),
        })
    }
}

/// One request with retries. Completed requests come from (and go to) the cache.
async fn request(
    client: &Client,
    spec: &ModelSpec,
    messages: &[Message],
    epoch: u32,
    key: &str,
    sh: &Shared,
) -> Result<(Completion, bool, u32), (CallError, u32)> {
    let (store, aimd, opts, stats) = (&sh.store, &sh.aimd, &sh.opts, &sh.counters);
    let ck = cache_key(spec, messages, epoch);
    if let Ok(Some(c)) = store.lock().expect("store lock").cache_get(&ck) {
        return Ok((Completion { text: c.text, prompt_tokens: c.prompt_tokens, completion_tokens: c.completion_tokens }, true, 0));
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        let permit = aimd.sem.acquire().await.expect("semaphore open");
        stats.sent.fetch_add(1, Ordering::Relaxed);
        let result = client.complete(messages, &spec.sampling).await;
        match result {
            Ok(c) => {
                let cached = Cached { text: c.text.clone(), prompt_tokens: c.prompt_tokens, completion_tokens: c.completion_tokens };
                sh.writer.send(Write::Cache(ck, cached));
                // The slot is held until the answer is committed, so at most `concurrency` answers
                // are ever received but unrecorded: all a kill can make a resumed run send again.
                // A write error is kept by the writer and reported when the run ends.
                let _ = sh.writer.flush().await;
                drop(permit);
                aimd.on_success();
                return Ok((c, false, attempt));
            }
            Err(e) => {
                drop(permit);
                if e.rate_limited {
                    aimd.on_rate_limit();
                }
                sh.writer.send(Write::Failure { key: key.to_string(), attempt: attempt as i64, reason: e.reason.clone() });
                if !e.retryable || attempt >= opts.max_attempts {
                    return Err((e, attempt));
                }
                stats.retries.fetch_add(1, Ordering::Relaxed);
                let backoff = e.retry_after.unwrap_or_else(|| (0.25 * 2f64.powi(attempt as i32 - 1)).min(20.0) * jitter(key, attempt));
                tokio::time::sleep(Duration::from_secs_f64(backoff.min(60.0))).await;
            }
        }
    }
}

/// Tokens, requests and attempts over every request of one sample.
#[derive(Debug, Default)]
struct Tally {
    prompt: i64,
    completion: i64,
    sent: i64,
    attempts: u32,
    all_cached: bool,
}

/// What a flow produced: the text to score and the whole exchange.
struct Outcome {
    scored: String,
    transcript: Vec<Message>,
    tally: Tally,
}

type Endpoint<'a> = (&'a Client, &'a ModelSpec);

async fn ask(ep: Endpoint<'_>, messages: &[Message], w: &Work, sh: &Shared, tally: &mut Tally) -> Result<String, (CallError, u32)> {
    let (c, cached, attempts) = request(ep.0, ep.1, messages, w.epoch, &w.key, sh).await.map_err(|(e, a)| (e, tally.attempts + a))?;
    tally.prompt += c.prompt_tokens;
    tally.completion += c.completion_tokens;
    tally.attempts += attempts.max(1);
    if !cached {
        tally.sent += attempts as i64;
        tally.all_cached = false;
    }
    Ok(c.text)
}

fn transcript_text(messages: &[Message]) -> String {
    messages
        .iter()
        .filter(|m| m.role != "system")
        .map(|m| format!("{}: {}", if m.role == "assistant" { "Assistant" } else { "Patient" }, m.content))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs one sample's flow: a single request, a rewrite then a question, or a conversation with
/// a simulated patient and what follows it.
async fn run_flow(w: &Work, doctor: Endpoint<'_>, patient: Endpoint<'_>, sh: &Shared) -> Result<Outcome, (CallError, u32)> {
    let mut t = Tally { all_cached: true, ..Default::default() };
    match &w.flow {
        Flow::Single(messages) => {
            let text = ask(doctor, messages, w, sh, &mut t).await?;
            let mut transcript = messages.clone();
            transcript.push(Message::new("assistant", text.clone()));
            Ok(Outcome { scored: text, transcript, tally: t })
        }
        Flow::LayRewrite { vignette } => {
            let rewrite_req = vec![Message::new("user", format!("{LAY_REWRITE}\n\n{vignette}"))];
            let rewrite = ask(doctor, &rewrite_req, w, sh, &mut t).await?;
            let question = vec![Message::new("user", format!("{rewrite}\n\n{TASK}"))];
            let answer = ask(doctor, &question, w, sh, &mut t).await?;
            let transcript = vec![
                rewrite_req[0].clone(),
                Message::new("assistant", rewrite),
                question[0].clone(),
                Message::new("assistant", answer.clone()),
            ];
            Ok(Outcome { scored: answer, transcript, tally: t })
        }
        Flow::Conversation { vignette, opening, turn_limit, behaviour, persona, then } => {
            let system = patient_system(vignette, *behaviour, persona.as_ref());
            let mut patient_view = vec![Message::new("system", system), Message::new("user", PATIENT_OPENING)];
            let opening = match opening {
                Some(o) => o.clone(),
                None => ask(patient, &patient_view, w, sh, &mut t).await?,
            };
            patient_view.push(Message::new("assistant", opening.clone()));
            let mut doctor_view = vec![Message::new("system", DOCTOR_SYSTEM), Message::new("user", opening.clone())];
            let mut patient_said = vec![opening];
            let mut final_answer = None;
            for _ in 0..*turn_limit {
                let reply = ask(doctor, &doctor_view, w, sh, &mut t).await?;
                doctor_view.push(Message::new("assistant", reply.clone()));
                if reply.to_lowercase().contains("final answer") {
                    final_answer = Some(reply);
                    break;
                }
                patient_view.push(Message::new("user", reply));
                let answer = ask(patient, &patient_view, w, sh, &mut t).await?;
                patient_view.push(Message::new("assistant", answer.clone()));
                doctor_view.push(Message::new("user", answer.clone()));
                patient_said.push(answer);
            }
            let final_answer = match final_answer {
                Some(f) => f,
                None => {
                    doctor_view.push(Message::new("user", DOCTOR_WRAP_UP));
                    let reply = ask(doctor, &doctor_view, w, sh, &mut t).await?;
                    doctor_view.push(Message::new("assistant", reply.clone()));
                    reply
                }
            };
            let mut transcript = doctor_view.clone();
            let scored = match then {
                After::Score(Scoring::FinalAnswer) => final_answer,
                After::Score(Scoring::AnyAssistantMessage) => {
                    doctor_view.iter().filter(|m| m.role == "assistant").map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n")
                }
                After::SingleTurn => {
                    let q = vec![Message::new("user", format!("{}\n\n{TASK}", patient_said.join(" ")))];
                    let a = ask(doctor, &q, w, sh, &mut t).await?;
                    transcript.extend([q[0].clone(), Message::new("assistant", a.clone())]);
                    a
                }
                After::Summarized => {
                    let req = vec![Message::new("user", format!("{SUMMARIZE}\n\n{}", transcript_text(&doctor_view)))];
                    let summary = ask(doctor, &req, w, sh, &mut t).await?;
                    let q = vec![Message::new("user", format!("{summary}\n\n{TASK}"))];
                    let a = ask(doctor, &q, w, sh, &mut t).await?;
                    transcript.extend([
                        req[0].clone(),
                        Message::new("assistant", summary),
                        q[0].clone(),
                        Message::new("assistant", a.clone()),
                    ]);
                    a
                }
                After::PatientDecision => {
                    patient_view.push(Message::new("user", PATIENT_DECISION));
                    let d = ask(patient, &patient_view, w, sh, &mut t).await?;
                    transcript.extend([Message::new("user", PATIENT_DECISION), Message::new("patient", d.clone())]);
                    d
                }
            };
            Ok(Outcome { scored, transcript, tally: t })
        }
    }
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    retries: AtomicU64,
}

/// Runs the work, skipping samples the store already holds for this run.
pub async fn execute(
    store: Arc<Mutex<Store>>,
    run: &str,
    work: Vec<Work>,
    models: &[ModelSpec],
    clients: Vec<Arc<Client>>,
    opts: Options,
) -> Summary {
    let start = Instant::now();
    let done_before = store.lock().expect("store lock").done_keys(run).unwrap_or_default();
    let todo: Vec<Work> = work.into_iter().filter(|w| !done_before.contains(&w.key)).collect();
    let total = todo.len();
    let limit = opts.concurrency.max(1);
    let sh = Shared::new(store.clone(), run, &opts);
    let summary = Arc::new(Mutex::new(Summary::default()));
    let finished = Arc::new(AtomicUsize::new(0));
    let meter = Arc::new(Meter::new(opts.progress, total));
    let mut tasks = tokio::task::JoinSet::new();
    // Bound the number of queued tasks too, so memory stays flat for large runs.
    let queue = Arc::new(Semaphore::new(limit * 4));
    // Conversations first; flows that replay them (single-turn history, summary, the patient's
    // decision) after, so they find the conversation's requests in the cache.
    let mut todo = todo;
    todo.sort_by_key(|w| w.flow.phase());
    let keys: Vec<String> = todo.iter().map(|w| w.key.clone()).collect();
    let mut phase = 0;
    for w in todo {
        // After a failed write nothing more is sent: its answer could not be kept.
        if sh.writer.failed() {
            break;
        }
        if w.flow.phase() != phase {
            // The next phase replays this one's requests; each answer is committed before its
            // request ends, so they are in the cache once the tasks are done.
            while tasks.join_next().await.is_some() {}
            phase = w.flow.phase();
        }
        let slot = queue.clone().acquire_owned().await.expect("queue open");
        let (sh, summary, finished, meter) = (sh.clone(), summary.clone(), finished.clone(), meter.clone());
        let (doctor, patient) = (clients[w.model].clone(), clients[w.patient].clone());
        let (doctor_spec, patient_spec) = (models[w.model].clone(), models[w.patient].clone());
        tasks.spawn(async move {
            let t0 = Instant::now();
            let outcome = run_flow(&w, (&doctor, &doctor_spec), (&patient, &patient_spec), &sh).await;
            let base = SampleRow {
                key: w.key.clone(),
                unit: w.unit.clone(),
                item: w.item.clone(),
                condition: w.condition.clone(),
                label: w.label.clone(),
                model: doctor_spec.id.clone(),
                epoch: w.epoch as i64,
                status: String::new(),
                response: None,
                transcript: String::new(),
                prompt_tokens: 0,
                completion_tokens: 0,
                latency_ms: t0.elapsed().as_millis() as i64,
                attempts: 0,
                requests_sent: 0,
                error: None,
            };
            let row = match &outcome {
                Ok(o) => SampleRow {
                    status: "done".into(),
                    response: Some(o.scored.clone()),
                    transcript: serde_json::to_string(&o.transcript).unwrap_or_default(),
                    prompt_tokens: o.tally.prompt,
                    completion_tokens: o.tally.completion,
                    attempts: o.tally.attempts as i64,
                    requests_sent: o.tally.sent,
                    ..base
                },
                Err((e, attempts)) => SampleRow {
                    status: "failed".into(),
                    attempts: *attempts as i64,
                    requests_sent: *attempts as i64,
                    error: Some(e.reason.clone()),
                    ..base
                },
            };
            sh.writer.send(Write::Sample(Box::new(row)));
            {
                let mut s = summary.lock().expect("summary lock");
                match &outcome {
                    Ok(o) => {
                        s.done += 1;
                        s.cached += u64::from(o.tally.all_cached);
                        s.prompt_tokens += o.tally.prompt as u64;
                        s.completion_tokens += o.tally.completion as u64;
                    }
                    Err(_) => s.failed += 1,
                }
            }
            let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
            let failed = summary.lock().expect("summary lock").failed;
            meter.tick(n, failed);
            drop(slot);
        });
        while let Some(r) = tasks.try_join_next() {
            r.ok();
        }
    }
    while tasks.join_next().await.is_some() {}
    meter.finish();
    let mut s = summary.lock().expect("summary lock").clone();
    // The writer keeps its first error: one flush at the end reports it.
    s.store_error = sh.writer.flush().await.err();
    let recorded = store.lock().expect("store lock").recorded_keys(run).unwrap_or_default();
    s.unrecorded = keys.iter().filter(|k| !recorded.contains(*k)).count() as u64;
    s.requests_sent = sh.counters.sent.load(Ordering::Relaxed);
    s.retries = sh.counters.retries.load(Ordering::Relaxed);
    s.elapsed = start.elapsed();
    s.final_concurrency = sh.aimd.limit.load(Ordering::Relaxed);
    s
}

/// What the judge did: grades written, samples it could not grade (each with a recorded
/// failure), requests sent, and the cost of its verdicts at the judge model's prices.
#[derive(Debug, Clone, Default)]
pub struct JudgeSummary {
    pub graded: u64,
    pub failed: u64,
    pub requests_sent: u64,
    pub cost_usd: f64,
    pub store_error: Option<String>,
}

impl JudgeSummary {
    /// Counts a judge's requests and their cost at `spec`'s prices, keeps its first store error,
    /// and hands back its verdicts.
    fn take(&mut self, spec: &ModelSpec, v: Verdicts) -> Vec<(String, Result<crate::grade::Grade, String>)> {
        self.requests_sent += v.requests_sent;
        self.cost_usd += spec.cost(v.prompt_tokens, v.completion_tokens);
        if let Some(e) = v.store_error {
            self.store_error.get_or_insert(e);
        }
        v.verdicts
    }
}

/// The judge's verdicts by key (a grade, or why there is none), with the requests sent and the
/// tokens of every verdict (cached ones included, as for samples).
pub struct Verdicts {
    pub verdicts: Vec<(String, Result<crate::grade::Grade, String>)>,
    pub requests_sent: u64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Writes the store could not record.
    pub store_error: Option<String>,
}

/// How a judge's reply is read: a score, or why it cannot be read.
pub type Reader = fn(&str) -> Result<crate::grade::Grade, String>;

/// Asks the judge model for each `(key, messages)` and reads its verdict with `read`, through
/// the same cache, retries and concurrency as a run (request failures are recorded under `run`).
pub async fn judge(
    store: Arc<Mutex<Store>>,
    run: &str,
    spec: &ModelSpec,
    client: Arc<Client>,
    requests: Vec<(String, Vec<Message>)>,
    read: Reader,
    opts: &Options,
) -> Verdicts {
    let sh = Shared::new(store, run, opts);
    let mut tasks = tokio::task::JoinSet::new();
    for (key, messages) in requests {
        let (sh, client, spec) = (sh.clone(), client.clone(), spec.clone());
        tasks.spawn(async move {
            match request(&client, &spec, &messages, 0, &key, &sh).await {
                Ok((c, ..)) => (key, read(&c.text), c.prompt_tokens, c.completion_tokens),
                Err((e, _)) => (key, Err(e.reason), 0, 0),
            }
        });
    }
    let mut out = Verdicts { verdicts: Vec::new(), requests_sent: 0, prompt_tokens: 0, completion_tokens: 0, store_error: None };
    while let Some(r) = tasks.join_next().await {
        if let Ok((key, verdict, prompt, completion)) = r {
            out.verdicts.push((key, verdict));
            out.prompt_tokens += prompt;
            out.completion_tokens += completion;
        }
    }
    out.verdicts.sort_by(|a, b| a.0.cmp(&b.0));
    out.requests_sent = sh.counters.sent.load(Ordering::Relaxed);
    out.store_error = sh.writer.flush().await.err();
    out
}

/// Grades a run's completed samples with the plan's LLM-judge and rubric graders. Samples that
/// already hold the grader's grade are skipped, so a resumed run judges only what is left; an
/// unreadable verdict is recorded as a failure under `judge:KEY` or `rubric:KEY`, never as a
/// score.
pub async fn judge_run(
    store: Arc<Mutex<Store>>,
    run: &str,
    plan: &Plan,
    dataset: &Dataset,
    clients: &[Arc<Client>],
    opts: &Options,
) -> rusqlite::Result<JudgeSummary> {
    use benchcards_core::GraderKind;
    let mut summary = JudgeSummary::default();
    for g in plan.graders.iter().filter(|g| matches!(g.kind, GraderKind::Judge | GraderKind::Rubric)) {
        let name = g.name();
        let pending: Vec<(crate::store::SampleRow, &crate::dataset::Item)> = {
            let st = store.lock().expect("store lock");
            let graded: std::collections::HashSet<String> =
                st.grades(run)?.into_iter().filter(|(_, gr, _, _)| *gr == name).map(|(k, ..)| k).collect();
            let samples = st.samples(run)?.into_iter().filter(|s| s.status == "done" && !graded.contains(&s.key));
            // An item without a rubric of its own is not graded by `rubric`.
            let items = samples.filter_map(|s| dataset.item(&s.item).map(|i| (s, i)));
            items.filter(|(_, i)| g.kind != GraderKind::Rubric || !i.rubric.is_empty()).collect()
        };
        let response = |s: &crate::store::SampleRow| s.response.clone().unwrap_or_default();
        // Every judge of the grader is asked every request; verdicts are kept by request key.
        let mut verdicts = std::collections::HashMap::new();
        for id in g.panel() {
            let Some(m) = plan.models.iter().position(|m| m.id == id) else { continue };
            let (requests, read): (Vec<(String, Vec<Message>)>, Reader) = match g.kind {
                GraderKind::Rubric => (
                    pending
                        .iter()
                        .flat_map(|(s, item)| {
                            item.rubric.iter().enumerate().map(move |(c, criterion)| {
                                (format!("rubric:{}#{c}@{id}", s.key), crate::grade::criterion_messages(item, &response(s), criterion))
                            })
                        })
                        .collect(),
                    crate::grade::read_criterion,
                ),
                _ => (
                    pending
                        .iter()
                        .map(|(s, item)| {
                            let rubric = g.rubric.as_deref().unwrap_or("");
                            (format!("judge:{}", s.key), crate::grade::judge_messages(rubric, item, &response(s)))
                        })
                        .collect(),
                    crate::grade::read_judgement,
                ),
            };
            let v = judge(store.clone(), run, &plan.models[m], clients[m].clone(), requests, read, opts).await;
            verdicts.extend(summary.take(&plan.models[m], v));
        }
        let st = store.lock().expect("store lock");
        st.transaction(|st| {
            for (s, item) in &pending {
                let graded = match g.kind {
                    GraderKind::Rubric => rubric_verdicts(g, item, &s.key, &mut verdicts),
                    _ => verdicts.remove(&format!("judge:{}", s.key)).map(|v| v.map(|grade| vec![(String::new(), grade)])),
                };
                match graded {
                    Some(Ok(grades)) => {
                        for (tag, grade) in grades {
                            let grader = if tag.is_empty() { name.clone() } else { format!("{name}#{tag}") };
                            st.put_grade(run, &s.key, &grader, grade.score, &grade.detail)?;
                        }
                        summary.graded += 1;
                    }
                    Some(Err(reason)) => {
                        let kind = if g.kind == GraderKind::Rubric { "rubric" } else { "judge" };
                        st.put_failure(run, &format!("{kind}:{}", s.key), 0, &reason)?;
                        summary.failed += 1;
                    }
                    None => {}
                }
            }
            Ok(())
        })?;
    }
    if let Some(f) = &plan.fidelity {
        fidelity_run(store, run, plan, dataset, clients, &f.judge_model, opts, &mut summary).await?;
    }
    Ok(summary)
}

/// The simulated conversations' fidelity checks: each done sample of a conversation condition
/// without them yet gets the leak check and the judge's (`fidelity::requests`), stored as grades;
/// an unreadable verdict is a failure under `fidelity:KEY`.
#[allow(clippy::too_many_arguments)]
async fn fidelity_run(
    store: Arc<Mutex<Store>>,
    run: &str,
    plan: &Plan,
    dataset: &Dataset,
    clients: &[Arc<Client>],
    judge_model: &str,
    opts: &Options,
    summary: &mut JudgeSummary,
) -> rusqlite::Result<()> {
    use crate::fidelity::{CHECKS, exchange, leak, persona, reader, requests};
    let Some(m) = plan.models.iter().position(|x| x.id == judge_model) else { return Ok(()) };
    // (sample key, the exchange, the case the patient held, item) of what is left to check.
    // Each condition with its personas, resolved once.
    let conditions: Vec<(String, &benchcards_core::ConditionSpec, Vec<benchcards_core::personas::Persona>)> =
        plan.conditions.iter().filter_map(|c| Some((c.name(), c, personas_of(c, &plan.personas).ok()?))).collect();
    let pending: Vec<(String, Vec<Message>, String, String, &crate::dataset::Item)> = {
        let st = store.lock().expect("store lock");
        let checked: std::collections::HashSet<String> =
            st.grades(run)?.into_iter().filter(|(_, g, _, _)| g == CHECKS[3]).map(|(k, ..)| k).collect();
        let samples = st
            .samples(run)?
            .into_iter()
            .filter(|s| s.status == "done" && benchcards_core::simulates_patient(&s.condition) && !checked.contains(&s.key));
        samples
            .filter_map(|s| {
                let item = dataset.item(&s.item)?;
                let (_, spec, personas) = conditions.iter().find(|(name, ..)| *name == s.label)?;
                let unit = units(spec, item, personas).ok()?.into_iter().find(|u| u.unit == s.unit)?;
                let Flow::Conversation { vignette, behaviour, persona: p, .. } = unit.flow else { return None };
                let transcript: Vec<Message> = serde_json::from_str(&s.transcript).ok()?;
                Some((s.key, exchange(&transcript), vignette, persona(behaviour, p.as_ref()), item))
            })
            .collect()
    };
    let mut verdicts = std::collections::HashMap::new();
    for check in &CHECKS[..3] {
        let asks: Vec<(String, Vec<Message>)> = pending
            .iter()
            .flat_map(|(key, ex, case, persona, item)| {
                requests(ex, case, item, persona).into_iter().filter(|(c, _)| c == check).map(move |(c, msgs)| (format!("{c}:{key}"), msgs))
            })
            .collect();
        let v = judge(store.clone(), run, &plan.models[m], clients[m].clone(), asks, reader(check), opts).await;
        verdicts.extend(summary.take(&plan.models[m], v));
    }
    let st = store.lock().expect("store lock");
    st.transaction(|st| {
        for (key, ex, case, _, item) in &pending {
            let asked: Vec<(&str, Result<crate::grade::Grade, String>)> =
                CHECKS[..3].iter().filter_map(|c| verdicts.remove(&format!("{c}:{key}")).map(|v| (*c, v))).collect();
            if let Some((c, Err(reason))) = asked.iter().find(|(_, v)| v.is_err()) {
                st.put_failure(run, &format!("fidelity:{key}"), 0, &format!("{c}: {reason}"))?;
                summary.failed += 1;
                continue;
            }
            for (check, grade) in asked.into_iter().filter_map(|(c, v)| v.ok().map(|g| (c, g))).chain([(CHECKS[3], leak(ex, case, item))]) {
                st.put_grade(run, key, check, grade.score, &grade.detail)?;
            }
            summary.graded += 1;
        }
        Ok(())
    })
}

/// A sample's rubric grades from its judges' verdicts on every criterion (taken out of
/// `verdicts`): the whole score and each tag's, or the first verdict that could not be read.
/// None when a criterion has no verdict at all (its judge is not in the plan).
fn rubric_verdicts(
    g: &benchcards_core::GraderSpec,
    item: &crate::dataset::Item,
    key: &str,
    verdicts: &mut std::collections::HashMap<String, Result<crate::grade::Grade, String>>,
) -> Option<Result<Vec<(String, crate::grade::Grade)>, String>> {
    let mut met = Vec::new();
    let mut lines = Vec::new();
    for (c, criterion) in item.rubric.iter().enumerate() {
        let mut scores = Vec::new();
        for id in g.panel() {
            match verdicts.remove(&format!("rubric:{key}#{c}@{id}"))? {
                Ok(v) => scores.push(v.score),
                Err(e) => return Some(Err(format!("criterion {} (`{}`), judge `{id}`: {e}", c + 1, criterion.criterion))),
            }
        }
        let m = crate::grade::combine(&scores, g.combine.unwrap_or_default());
        lines.push(format!(
            "{} {:+} {}",
            if m >= 1.0 {
                "met"
            } else if m > 0.0 {
                "partly"
            } else {
                "not met"
            },
            criterion.points,
            criterion.criterion
        ));
        met.push(m);
    }
    let detail = lines.join("\n");
    let scores = crate::grade::rubric_scores(item, &met);
    Some(Ok(scores.into_iter().map(|(tag, score)| (tag, crate::grade::Grade { score, matched: None, detail: detail.clone() })).collect()))
}
