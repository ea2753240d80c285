//! An evaluation session, the one API the command line, the demo and the coming study server
//! use for a plan: [`prepare`] reads it (its dataset and human data, its hash, its files made absolute);
//! [`Prepared::estimate`] is the dry run; [`Prepared::start`] records (or resumes) a run and
//! [`Session::execute`] sends the work, asks the judge and grades what completed.

use crate::client::{Client, Limits};
use crate::dataset::{Dataset, parse_dataset};
use crate::runner::{self, Options, Progress, Summary, Work};
use crate::store::{SampleRow, Store};
use benchcards_core::bundled::{beside, stands_for};
use benchcards_core::document::{LoadError, read_data};
use benchcards_core::{DatasetFormat, Diagnostics, GraderKind, Loaded, ModelSpec, Plan};
use indexmap::IndexMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Why a session step stopped.
#[derive(Debug)]
pub enum SessionError {
    /// The plan does not load: its own diagnostics.
    Plan(LoadError),
    /// A data file with problems: its name, its text when it could be read, and where.
    File { name: String, text: Option<String>, diagnostics: Diagnostics },
    /// Anything else, with the fix when there is one.
    Message { message: String, help: Option<String> },
}

impl SessionError {
    fn new(message: impl Into<String>) -> Self {
        SessionError::Message { message: message.into(), help: None }
    }

    fn help(message: impl Into<String>, help: impl Into<String>) -> Self {
        SessionError::Message { message: message.into(), help: Some(help.into()) }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Plan(e) => write!(f, "{} does not load", e.path),
            SessionError::File { name, .. } => write!(f, "{name} has problems"),
            SessionError::Message { message, .. } => f.write_str(message),
        }
    }
}

fn store_error(e: impl fmt::Display) -> SessionError {
    SessionError::new(e.to_string())
}

/// Reads a data file's text, or says why it cannot be read.
fn read_file(path: &Path) -> Result<String, SessionError> {
    read_data(path).map_err(|d| SessionError::File { name: path.display().to_string(), text: None, diagnostics: Diagnostics(vec![d]) })
}

/// Reads and parses a dataset.
pub fn load_dataset(path: &Path) -> Result<Dataset, SessionError> {
    load_dataset_as(path, None, &IndexMap::new())
}

/// Reads a dataset at `path`: benchcards' own JSONL, or with `format` another benchmark's file
/// as published (the plan's `dataset_format` and `dataset_map`).
pub fn load_dataset_as(path: &Path, format: Option<DatasetFormat>, map: &IndexMap<String, String>) -> Result<Dataset, SessionError> {
    let text = read_file(path)?;
    let read = match format {
        None => parse_dataset(&text),
        Some(f) => {
            let map: Vec<(String, String)> = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            crate::import::import(&text, f, &map, benchcards_core::results::is_jsonl(path))
        }
    };
    read.map_err(|diagnostics| SessionError::File { name: path.display().to_string(), text: Some(text), diagnostics })
}

/// A plan ready to run.
pub struct Prepared {
    pub plan: Plan,
    /// The plan as loaded, for its warnings.
    pub loaded: Loaded,
    /// The plan as stored with the run: its file paths made absolute.
    pub plan_json: String,
    pub plan_hash: String,
    pub dataset: Dataset,
    /// The human study's rows, imported as completed samples.
    pub human: Vec<SampleRow>,
    /// What was read besides the plan, to tell the user.
    pub notes: Vec<String>,
}

/// Reads a plan, its dataset and its human data.
pub fn prepare(plan_path: &Path) -> Result<Prepared, SessionError> {
    let (plan, loaded) = benchcards_core::load_plan(plan_path).map_err(SessionError::Plan)?;
    let base = plan_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let dataset_path = beside(&base, &plan.dataset);
    let dataset = load_dataset_as(&dataset_path, plan.dataset_format, &plan.dataset_map)?;
    let plan_hash = plan_hash(&plan);
    // The stored plan names its files absolutely, so `runs export` and `report` find them later.
    let absolute = |rel: &str| {
        let p = beside(&base, rel);
        if stands_for(&p).is_some() {
            return rel.to_string();
        }
        std::path::absolute(&p).unwrap_or(p).display().to_string()
    };
    let mut stored = plan.clone();
    stored.dataset = absolute(&plan.dataset);
    stored.card = absolute(&plan.card);
    stored.deployment = absolute(&plan.deployment);
    let mut notes = Vec::new();
    if let Some((file, _)) = stands_for(&dataset_path) {
        notes.push(format!("dataset: `{}` is no file beside the plan: the bundled {file}", plan.dataset));
    }
    let mut human = match &plan.human_study {
        Some(study) => {
            let path = beside(&base, &study.path);
            let text = read_file(&path)?;
            let rows = crate::human::read_study(&text, benchcards_core::results::is_jsonl(&path), study, &dataset)
                .map_err(|diagnostics| SessionError::File { name: path.display().to_string(), text: Some(text), diagnostics })?;
            notes.push(format!("human study: {} row(s) read from {}", rows.len(), path.display()));
            rows
        }
        None => Vec::new(),
    };
    if plan.conditions.iter().any(|c| c.id == "human_study") {
        let real = crate::human::from_conversations(&dataset);
        if real.is_empty() && plan.human_study.is_none() {
            return Err(SessionError::help(
                format!(
                    "the plan has a `human_study` condition, but no `human_study` file and no conversations in {}",
                    dataset_path.display()
                ),
                "attach real conversations with `benchcards augment`, or name the study's file under `human_study`",
            ));
        }
        human.extend(real);
    }
    let plan_json = serde_json::to_string(&stored).unwrap_or_default();
    Ok(Prepared { plan, loaded, plan_json, plan_hash, dataset, human, notes })
}

/// The first 8 bytes of the plan's SHA-256, in hex: a resumed run must come from the same plan.
pub fn plan_hash(plan: &Plan) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(serde_json::to_string(plan).unwrap_or_default().as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A dataset marked `contains_phi` goes only to models on this machine, unless allowed.
pub fn check_patient_data(dataset: &Dataset, models: &[ModelSpec], allow: bool) -> Result<(), SessionError> {
    refuse_remote(dataset.header.contains_phi && !allow, "the dataset is marked contains_phi", models.iter())
}

/// An error naming the models not on this machine, when patient data must not reach them.
fn refuse_remote<'a>(guarded: bool, what: &str, models: impl Iterator<Item = &'a ModelSpec>) -> Result<(), SessionError> {
    let remote: Vec<&str> = models.flat_map(|m| m.base_urls.iter()).map(String::as_str).filter(|u| !on_this_machine(u)).collect();
    if !guarded || remote.is_empty() {
        return Ok(());
    }
    Err(SessionError::help(
        format!("{what} and this would send it to {}", remote.join(", ")),
        "use a model on this machine (an address like http://127.0.0.1:PORT/v1 or http://localhost:PORT/v1), or pass --allow-phi-to-remote if sending this data there is permitted",
    ))
}

impl Prepared {
    /// The dataset (when marked) goes only to models on this machine, and the human study's
    /// answers (patient data unless the plan's `human_study` says `contains_phi: false`) only to
    /// judges on this machine, unless allowed: no other model is sent them.
    pub fn check_patient_data(&self, allow: bool) -> Result<(), SessionError> {
        check_patient_data(&self.dataset, &self.plan.models, allow)?;
        let participants = self.plan.human_study.as_ref().is_some_and(|h| h.contains_phi) && !allow;
        let judges = self.plan.graders.iter().flat_map(|g| g.panel());
        let judges = judges.filter_map(|id| self.plan.models.iter().find(|m| m.id == id));
        refuse_remote(participants, "the human study holds participants' own words (contains_phi)", judges)
    }
}

/// Whether a base URL surely points at this machine: parsed as the HTTP client parses it, with
/// no user name or password, its host a loopback address, or `localhost` when every address it
/// resolves to is loopback. Any other name counts as elsewhere, whatever it resolves to now.
/// (Redirects are never followed, so the address checked is the address sent to.)
pub fn on_this_machine(base_url: &str) -> bool {
    let Ok(url) = url::Url::parse(base_url) else { return false };
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            let port = url.port_or_known_default().unwrap_or(80);
            std::net::ToSocketAddrs::to_socket_addrs(&("localhost", port))
                .map(|addrs| addrs.collect::<Vec<_>>())
                .is_ok_and(|addrs| !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()))
        }
        _ => false,
    }
}

/// One line of a dry run: a condition and model, or a judge; the total has neither.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EstimateRow {
    pub label: String,
    pub model: String,
    /// Samples, for a condition (a judge asks once per sample).
    pub samples: Option<usize>,
    pub requests: i64,
    pub prompt_tokens: i64,
    /// At most: each request may use the model's `max_tokens`.
    pub completion_tokens: i64,
    /// At the plan's prices; none for a model without `pricing` (the total: of the priced rows,
    /// none when no row has a price).
    pub cost_usd: Option<f64>,
}

/// What a run would send, before anything is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub rows: Vec<EstimateRow>,
    pub total: EstimateRow,
    /// The total exceeds the plan's `budget`.
    pub over_budget: bool,
    /// Models of the plan without `pricing`: their cost is unknown, never zero.
    pub unpriced: Vec<String>,
}

impl Estimate {
    /// What to say when some model has no prices, with how to add them.
    pub fn unpriced_note(&self) -> Option<String> {
        (!self.unpriced.is_empty()).then(|| {
            format!(
                "no prices in the plan for {}: their cost is unknown{}; give each model `pricing: {{input_per_mtok: USD, output_per_mtok: USD}}` (US dollars per million prompt and completion tokens) to see it",
                self.unpriced.join(", "),
                if self.total.cost_usd.is_some() { " and the total counts the priced models only" } else { "" }
            )
        })
    }
}

/// Completion tokens a request may use: the model's `max_tokens`, or 512.
fn max_tokens(m: &ModelSpec) -> i64 {
    m.sampling.max_tokens.unwrap_or(512) as i64
}

impl Prepared {
    /// Keeps only the dataset's first `n` items, and the human data about them.
    pub fn keep_items(&mut self, n: usize) {
        self.dataset.items.truncate(n);
        let ds = &self.dataset;
        self.human.retain(|s| ds.item(&s.item).is_some());
    }

    /// The plan's work (every sample of every condition and model), and notes on it.
    pub fn work(&self) -> Result<(Vec<Work>, Vec<String>), SessionError> {
        runner::expand(&self.plan, &self.dataset).map_err(SessionError::new)
    }

    /// The dry run: requests, tokens and cost for each condition and model, then for each judge.
    pub fn estimate(&self, work: &[Work]) -> Estimate {
        let (plan, mut rows) = (&self.plan, Vec::new());
        for cond in &plan.conditions {
            let label = cond.name();
            for (m, spec) in plan.models.iter().enumerate().filter(|(_, s)| s.under_test) {
                let ws: Vec<_> = work.iter().filter(|w| w.label == label && w.model == m).collect();
                let requests: i64 = ws.iter().map(|w| w.estimate().0).sum();
                let prompt_tokens: i64 = ws.iter().map(|w| w.estimate().1).sum();
                let completion_tokens = requests * max_tokens(spec);
                let cost_usd = spec.known_cost(prompt_tokens, completion_tokens);
                let samples = Some(ws.len());
                rows.push(EstimateRow {
                    label: label.clone(),
                    model: spec.id.clone(),
                    samples,
                    requests,
                    prompt_tokens,
                    completion_tokens,
                    cost_usd,
                });
            }
        }
        // Each judge is asked once per sample (the case, the reference and the answer); a
        // rubric's judges once per criterion of the sample's item.
        for g in &plan.graders {
            for spec in g.panel().into_iter().filter_map(|id| plan.models.iter().find(|m| m.id == id)) {
                let (mut requests, mut prompt_tokens) = (0, 0);
                for w in work {
                    let Some(item) = self.dataset.item(&w.item) else { continue };
                    let asks = match g.kind {
                        GraderKind::Rubric => item.rubric.iter().map(|c| crate::grade::criterion_messages(item, "", c)).collect(),
                        _ => vec![crate::grade::judge_messages(g.rubric.as_deref().unwrap_or(""), item, "")],
                    };
                    for messages in asks {
                        requests += 1;
                        prompt_tokens += crate::client::estimate_tokens(&messages) + max_tokens(&plan.models[w.model]);
                    }
                }
                let completion_tokens = requests * max_tokens(spec);
                let cost_usd = spec.known_cost(prompt_tokens, completion_tokens);
                let kind = if g.kind == GraderKind::Rubric { "rubric" } else { "judge" };
                let label = format!("{kind} ({})", g.name());
                rows.push(EstimateRow {
                    label,
                    model: spec.id.clone(),
                    samples: None,
                    requests,
                    prompt_tokens,
                    completion_tokens,
                    cost_usd,
                });
            }
        }
        // The fidelity judge is asked two or three questions about each simulated conversation,
        // each holding the conversation (at most every reply's token limit).
        if let Some(spec) = plan.fidelity.as_ref().and_then(|f| plan.models.iter().find(|m| m.id == f.judge_model)) {
            let (mut requests, mut prompt_tokens) = (0, 0);
            for w in work.iter().filter(|w| benchcards_core::simulates_patient(&w.condition)) {
                let Some(item) = self.dataset.item(&w.item) else { continue };
                for (_, messages) in crate::fidelity::requests(&[], &item.vignette, item, "") {
                    requests += 1;
                    prompt_tokens += crate::client::estimate_tokens(&messages) + w.estimate().0 * max_tokens(&plan.models[w.model]);
                }
            }
            let completion_tokens = requests * max_tokens(spec);
            let cost_usd = spec.known_cost(prompt_tokens, completion_tokens);
            let label = "fidelity checks".to_string();
            rows.push(EstimateRow { label, model: spec.id.clone(), samples: None, requests, prompt_tokens, completion_tokens, cost_usd });
        }
        let total =
            rows.iter().fold(EstimateRow { label: "total".into(), samples: Some(0), ..EstimateRow::default() }, |t, r| EstimateRow {
                samples: Some(t.samples.unwrap_or(0) + r.samples.unwrap_or(0)),
                requests: t.requests + r.requests,
                prompt_tokens: t.prompt_tokens + r.prompt_tokens,
                completion_tokens: t.completion_tokens + r.completion_tokens,
                cost_usd: match (t.cost_usd, r.cost_usd) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                },
                ..t
            });
        let over_budget = plan.budget.as_ref().is_some_and(|b| {
            b.max_requests.is_some_and(|m| total.requests as u64 > m)
                || b.max_cost_usd.is_some_and(|m| total.cost_usd.is_some_and(|c| c > m))
        });
        let unpriced = plan.models.iter().filter(|m| m.known_cost(0, 0).is_none()).map(|m| format!("`{}`", m.id)).collect();
        Estimate { rows, total, over_budget, unpriced }
    }

    /// Records a new run in the store (or picks up `resume`, which must come from the same
    /// plan) and imports the human data. Each model's client is built first: a missing key or
    /// model stops here, before a run is recorded.
    pub fn start(&self, store_path: &Path, resume: Option<&str>, settings: Settings) -> Result<Session, SessionError> {
        let clients = self
            .plan
            .models
            .iter()
            .map(|m| Client::from_spec(m, settings.limits).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(SessionError::new)?;
        let store = open_store(store_path)?;
        let run_id = match resume {
            Some(id) => match store.plan_record(id).map_err(store_error)? {
                Some((hash, _)) if hash == self.plan_hash => id.to_string(),
                Some(_) => {
                    return Err(SessionError::new(format!(
                        "run `{id}` was started from a different plan; start a new run instead of resuming it"
                    )));
                }
                None => return Err(SessionError::new(format!("no run `{id}` in {} (see `benchcards runs list`)", store_path.display()))),
            },
            None => store.create_run(&self.plan.id, &self.plan_hash, &self.plan_json).map_err(store_error)?,
        };
        if let Err(pid) = store.lock_run(&run_id).map_err(store_error)? {
            return Err(SessionError::help(
                format!(
                    "run `{run_id}` is being run now by process {pid} on this machine; two runs of it at once would send every request twice"
                ),
                format!("wait for it to finish (or stop it), then `--resume {run_id}`"),
            ));
        }
        for row in &self.human {
            store.put_sample(&run_id, row).map_err(store_error)?;
        }
        Ok(Session { run_id, store: Arc::new(Mutex::new(store)), store_path: store_path.to_path_buf(), clients, settings })
    }
}

/// How to run: concurrency, attempts per request, and what bounds each request.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub concurrency: usize,
    pub max_attempts: u32,
    pub limits: Limits,
}

/// A run recorded in its store, ready to execute.
pub struct Session {
    pub run_id: String,
    store: Arc<Mutex<Store>>,
    store_path: PathBuf,
    clients: Vec<Arc<Client>>,
    settings: Settings,
}

impl Drop for Session {
    /// The run's lock goes back when the session ends, however it ends.
    fn drop(&mut self) {
        if let Ok(store) = self.store.lock() {
            store.unlock_run(&self.run_id).ok();
        }
    }
}

/// What one execution did.
pub struct Executed {
    pub summary: Summary,
    /// Grades written, the judge's included.
    pub graded: usize,
    /// Judge verdicts written, and the samples the judge could not grade (each recorded as a
    /// failure).
    pub judged: u64,
    pub unjudged: u64,
    pub judge_requests: u64,
    /// The run's samples and verdicts at the plan's prices (requests answered from the cache
    /// were not paid again).
    pub cost_usd: f64,
}

impl Session {
    /// Sends the work (what the store already holds is skipped), asks the plan's judges, grades
    /// every completed sample with the other graders, and marks the run complete or not.
    pub fn execute(&self, p: &Prepared, work: Vec<Work>, progress: Progress) -> Result<Executed, SessionError> {
        let (plan, run_id, store) = (&p.plan, &self.run_id, &self.store);
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(store_error)?;
        let opts = Options { concurrency: self.settings.concurrency, max_attempts: self.settings.max_attempts, progress };
        let summary = rt.block_on(runner::execute(store.clone(), run_id, work, &plan.models, self.clients.clone(), opts.clone()));
        let judged = rt.block_on(runner::judge_run(store.clone(), run_id, plan, &p.dataset, &self.clients, &opts)).map_err(store_error)?;
        let guard = store.lock().map_err(|_| SessionError::new("the run store lock was poisoned"))?;
        if let Some(e) = summary.store_error.as_ref().or(judged.store_error.as_ref()) {
            guard.set_status(run_id, "incomplete").ok();
            return Err(SessionError::help(
                format!(
                    "run `{run_id}`: the run store {} could not record {} sample(s), so the run stopped sending requests: {e}",
                    self.store_path.display(),
                    summary.unrecorded
                ),
                format!("free the disk or fix the store, then `--resume {run_id}` sends the unrecorded samples again"),
            ));
        }
        let graded = grade_run(&guard, run_id, plan, &p.dataset).map_err(store_error)? + judged.graded as usize;
        let complete = summary.failed == 0 && judged.failed == 0;
        guard.set_status(run_id, if complete { "complete" } else { "incomplete" }).map_err(store_error)?;
        let samples_cost: f64 = guard
            .samples(run_id)
            .map_err(store_error)?
            .iter()
            .filter_map(|s| plan.models.iter().find(|m| m.id == s.model).map(|m| m.cost(s.prompt_tokens, s.completion_tokens)))
            .sum();
        Ok(Executed {
            summary,
            graded,
            judged: judged.graded,
            unjudged: judged.failed,
            judge_requests: judged.requests_sent,
            cost_usd: samples_cost + judged.cost_usd,
        })
    }
}

/// Grades every completed sample of a run; returns how many grades were written.
pub fn grade_run(store: &Store, run: &str, plan: &Plan, dataset: &Dataset) -> rusqlite::Result<usize> {
    store.transaction(|store| grade_samples(store, run, plan, dataset))
}

fn grade_samples(store: &Store, run: &str, plan: &Plan, dataset: &Dataset) -> rusqlite::Result<usize> {
    let mut n = 0;
    for s in store.samples(run)?.into_iter().filter(|s| s.status == "done") {
        let Some(item) = dataset.item(&s.item) else { continue };
        for g in &plan.graders {
            // The judge grades in `runner::judge_run`; an item without the gold a grader reads
            // is not graded by it.
            let Ok(graded) = crate::grade::grade(g, item, s.response.as_deref().unwrap_or("")) else { continue };
            store.put_grade(run, &s.key, &g.name(), graded.grade.score, &graded.grade.detail)?;
            n += 1;
        }
    }
    Ok(n)
}

/// Opens (or creates) a run store.
fn open_store(path: &Path) -> Result<Store, SessionError> {
    Store::open(path).map_err(|e| SessionError::new(format!("cannot open the run store {}: {e}", path.display())))
}

/// Stops when some of a judge's verdicts could not be read (`unread`, one line each), saying what
/// was not done; asked again, the readable ones come from the cache.
pub fn refuse_unread(unread: &[String], not_done: &str) -> Result<(), SessionError> {
    if unread.is_empty() {
        return Ok(());
    }
    Err(SessionError::help(
        format!("{} verdict(s) could not be read{not_done}:\n{}", unread.len(), unread.join("\n")),
        "run the same command again: verdicts already read come from the cache, and only these are asked again",
    ))
}

/// The judge's verdicts on `(key, messages)` requests outside a run (the `grade` command),
/// cached in the store like a run's requests.
pub fn judge_requests(
    model: &ModelSpec,
    requests: Vec<(String, Vec<crate::conditions::Message>)>,
    store_path: &Path,
    read: runner::Reader,
) -> Result<runner::Verdicts, SessionError> {
    let client = Client::from_spec(model, Limits::default()).map_err(SessionError::new)?;
    let store = Arc::new(Mutex::new(open_store(store_path)?));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(store_error)?;
    let opts = Options { concurrency: 16, max_attempts: 5, progress: Progress::Quiet };
    Ok(rt.block_on(runner::judge(store, "grade", model, Arc::new(client), requests, read, &opts)))
}

/// `benchcards run`'s flags.
#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    pub plan: PathBuf,
    /// Count requests, tokens and cost, and call nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Continue a run: samples already completed are not sent again.
    #[arg(long)]
    pub resume: Option<String>,
    /// Only the dataset's first N items.
    #[arg(long)]
    pub items: Option<usize>,
    /// Only the first N samples (in a stable order).
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long, default_value = "benchcards-runs.sqlite")]
    pub store: PathBuf,
    /// Most requests in flight (lowered automatically on rate limits).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Attempts per request before the sample is recorded as failed.
    #[arg(long, default_value_t = 5)]
    pub max_attempts: u32,
    /// Seconds before a request times out.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// The longest reply read, in bytes; a longer one is recorded as a failure.
    #[arg(long, default_value_t = crate::client::DEFAULT_MAX_REPLY_BYTES)]
    pub max_reply_bytes: usize,
    /// Send a dataset marked `contains_phi` to endpoints that are not on this machine.
    #[arg(long)]
    pub allow_phi_to_remote: bool,
}

#[cfg(test)]
mod tests {
    use super::on_this_machine;

    #[test]
    fn only_loopback_addresses_and_localhost_are_this_machine() {
        for url in ["http://127.0.0.1:8080/v1", "http://localhost/v1", "http://LOCALHOST:9/v1", "http://[::1]:9/v1", "https://127.3.4.5/v1"]
        {
            assert!(on_this_machine(url), "{url}");
        }
        for url in [
            "https://api.example.com/v1",
            "http://10.0.0.1/v1",
            "http://[2001:db8::1]/v1",
            // A string prefix would have taken each of these for this machine.
            "http://127.0.0.1@10.1.2.3/v1",
            "https://127.0.0.1.nip.io/v1",
            "http://127.example.com/v1",
            "http://127.9.9.9:1@127.0.0.1:8080/v1",
            "http://localhost.example.com/v1",
            "127.0.0.1:5",
            "file:///etc/passwd",
        ] {
            assert!(!on_this_machine(url), "{url}");
        }
    }
}
