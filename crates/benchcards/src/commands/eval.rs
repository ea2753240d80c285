//! Stage 2–3 commands: grade.

use super::write_output;
use crate::cli::{GraderChoice, GraderModeChoice};
use crate::diagnostics::print_diagnostics;
use benchcards_core::document::read_data;
use benchcards_core::results::read_tabular;
use benchcards_core::{Diagnostic, Diagnostics, Pos};
use benchcards_eval::dataset::{Dataset, parse_dataset};
use benchcards_eval::grade::{self, Mode};
use miette::{IntoDiagnostic, Result};
use std::path::Path;
use std::process::ExitCode;

/// Reads and parses a dataset, printing its problems with line numbers.
pub fn load_dataset(path: &Path) -> Result<Dataset, ExitCode> {
    let name = path.display().to_string();
    let text = read_data(path).map_err(|d| {
        print_diagnostics(&name, None, &Diagnostics(vec![d]));
        ExitCode::FAILURE
    })?;
    parse_dataset(&text).map_err(|d| {
        print_diagnostics(&name, Some(&text), &d);
        ExitCode::FAILURE
    })
}

/// What `grade --grader judge` needs: the plan naming the judge, and the store for its cache.
pub struct JudgeWith<'a> {
    pub plan: Option<&'a Path>,
    pub store: &'a Path,
    pub allow_phi: bool,
}

/// The plan's judge: its grader, its model and a provider for it.
fn plan_judge(plan: Option<&Path>) -> Result<Result<(benchcards_core::GraderSpec, benchcards_core::ModelSpec), ExitCode>> {
    let Some(plan) = plan else {
        return Err(miette::miette!(
            help = "add a grader `{kind: judge, rubric: ..., judge_model: MODEL_ID}` to a plan, and pass it with --plan",
            "--grader judge needs --plan PLAN: the plan's judge grader gives the rubric and the model"
        ));
    };
    let (p, loaded) = match benchcards_core::load_plan(plan) {
        Ok(x) => x,
        Err(e) => return Ok(Err(super::fail(e))),
    };
    crate::diagnostics::print_loaded(&plan.display().to_string(), &loaded);
    let g = p
        .graders
        .iter()
        .find(|g| g.kind == benchcards_core::GraderKind::Judge)
        .cloned()
        .ok_or_else(|| miette::miette!("{} has no grader with `kind: judge`", plan.display()))?;
    let m = p
        .models
        .iter()
        .find(|m| Some(&m.id) == g.judge_model.as_ref())
        .cloned()
        .ok_or_else(|| miette::miette!("the judge's model is not in the plan"))?;
    Ok(Ok((g, m)))
}

#[allow(clippy::too_many_arguments)]
pub fn grade(
    responses: &Path,
    dataset: &Path,
    grader: GraderChoice,
    mode: GraderModeChoice,
    threshold: u8,
    cols: [&String; 4],
    judge_with: JudgeWith,
    output: Option<&Path>,
) -> Result<ExitCode> {
    let ds = match load_dataset(dataset) {
        Ok(d) => d,
        Err(code) => return Ok(code),
    };
    let judge = if grader == GraderChoice::Judge {
        match plan_judge(judge_with.plan)? {
            Ok(j) => Some(j),
            Err(code) => return Ok(code),
        }
    } else {
        None
    };
    let name = responses.display().to_string();
    let text = match read_data(responses) {
        Ok(t) => t,
        Err(d) => {
            print_diagnostics(&name, None, &Diagnostics(vec![d]));
            return Ok(ExitCode::FAILURE);
        }
    };
    let jsonl = matches!(responses.extension().and_then(|e| e.to_str()), Some("jsonl" | "ndjson"));
    let table = match read_tabular(&text, jsonl) {
        Ok(t) => t,
        Err(d) => {
            print_diagnostics(&name, Some(&text), &d);
            return Ok(ExitCode::FAILURE);
        }
    };
    let [unit_col, item_col, response_col, condition_col] = cols;
    let mut diags = Diagnostics::default();
    let mut need = |c: &str, flag: &str| table.require(c, Some(flag)).map_err(|d| diags.push(d)).ok();
    let (unit, item, response) = (need(unit_col, "--unit-col"), need(item_col, "--item-col"), need(response_col, "--response-col"));
    let (Some(unit), Some(item), Some(response)) = (unit, item, response) else {
        print_diagnostics(&name, Some(&text), &diags);
        return Ok(ExitCode::FAILURE);
    };
    let (condition, replicate, pair) = (table.column(condition_col), table.column("replicate"), table.column("pair"));
    let mode = if mode == GraderModeChoice::Strict { Mode::Strict } else { Mode::Bean };
    let mut out = csv::Writer::from_writer(Vec::new());
    let header =
        ["unit", "item", "condition", "replicate", "pair", "stratum", "score", "grader", "matched", "within_one", "under_triage", "detail"];
    out.write_record(header).into_diagnostic()?;
    let mut records: Vec<[String; 12]> = Vec::new();
    // The judge's requests, keyed by the row's line, sent together after every row is read.
    let mut judge_requests = Vec::new();
    for row in &table.rows {
        let get = |i: Option<usize>| i.and_then(|i| row.values.get(i).cloned().flatten());
        let (Some(u), Some(it)) = (get(Some(unit)), get(Some(item))) else {
            diags.push(Diagnostic::error(Pos { line: row.line, column: 1, index: 0 }, "a row without unit or item"));
            continue;
        };
        let Some(entry) = ds.item(&it) else {
            diags.push(
                Diagnostic::error(
                    Pos { line: row.line, column: row.columns.get(item).copied().unwrap_or(1), index: 0 },
                    format!("item `{it}` is not in the dataset"),
                )
                .suggest(Some("check the item ids, or pass the dataset these responses answer".into())),
            );
            continue;
        };
        let text = get(Some(response)).unwrap_or_default();
        let (score, matched, within, under, detail) = match grader {
            GraderChoice::Conditions => {
                let g = grade::conditions(&text, &entry.gold.names(), mode, threshold, None);
                (g.score, g.matched, String::new(), String::new(), g.detail)
            }
            GraderChoice::Mcq => {
                let g = grade::mcq(&text, entry.gold.answer.as_deref().unwrap_or(""), &entry.gold.options);
                (g.score, g.matched, String::new(), String::new(), g.detail)
            }
            GraderChoice::Disposition => {
                let Some(gold) = entry.gold.disposition.as_deref() else {
                    diags.push(Diagnostic::error(
                        Pos { line: row.line, column: 1, index: 0 },
                        format!("item `{it}` has no gold disposition"),
                    ));
                    continue;
                };
                let d = grade::disposition(&text, gold);
                let detail = format!("read {} (gold {gold})", d.predicted.as_deref().unwrap_or("no disposition"));
                (f64::from(u8::from(d.exact)), d.predicted, d.within_one.to_string(), d.under_triage.to_string(), detail)
            }
            GraderChoice::Judge => {
                let rubric = judge.as_ref().and_then(|(g, _)| g.rubric.as_deref()).unwrap_or_default();
                judge_requests.push((format!("line {}", row.line), grade::judge_messages(rubric, entry, &text)));
                (f64::NAN, None, String::new(), String::new(), String::new())
            }
        };
        let grader_name = match grader {
            GraderChoice::Conditions => {
                format!("conditions:{}", if mode == Mode::Bean { format!("bean@{threshold}") } else { "strict".into() })
            }
            GraderChoice::Mcq => "mcq".into(),
            GraderChoice::Disposition => "disposition".into(),
            GraderChoice::Judge => judge.as_ref().map(|(g, _)| benchcards_eval::export::grader_name(g)).unwrap_or_default(),
        };
        records.push([
            u,
            it,
            get(condition).unwrap_or_default(),
            get(replicate).unwrap_or_default(),
            get(pair).unwrap_or_default(),
            entry.stratum.clone().unwrap_or_default(),
            score.to_string(),
            grader_name,
            matched.unwrap_or_default(),
            within,
            under,
            detail,
        ]);
    }
    if diags.has_errors() {
        print_diagnostics(&name, Some(&text), &diags);
        return Ok(ExitCode::FAILURE);
    }
    if let Some((_, model)) = &judge {
        refuse_phi_to_remote(&ds, std::slice::from_ref(model), judge_with.allow_phi)?;
        let verdicts = judge_responses(model, judge_requests, judge_with.store)?;
        let mut unread = Vec::new();
        for (row, record) in table.rows.iter().zip(records.iter_mut()) {
            match verdicts.get(&format!("line {}", row.line)) {
                Some(Ok(g)) => {
                    record[6] = g.score.to_string();
                    record[8] = g.matched.clone().unwrap_or_default();
                    record[11] = g.detail.clone();
                }
                Some(Err(reason)) => unread.push(format!("line {}: {reason}", row.line)),
                None => unread.push(format!("line {}: no verdict", row.line)),
            }
        }
        if !unread.is_empty() {
            return Err(miette::miette!(
                help = "run the same command again: verdicts already read come from the cache, and only these are asked again",
                "the judge gave no readable verdict for {} response(s), so nothing was written:\n{}",
                unread.len(),
                unread.join("\n")
            ));
        }
    }
    let graded = records.len();
    for r in records {
        out.write_record(r).into_diagnostic()?;
    }
    let bytes = out.into_inner().map_err(|e| miette::miette!("{e}"))?;
    write_output(output, &String::from_utf8_lossy(&bytes))?;
    eprintln!("graded {graded} response(s)");
    Ok(ExitCode::SUCCESS)
}

/// Sends the judge's requests (cached in the run store) and reads the verdicts, by key.
fn judge_responses(
    model: &benchcards_core::ModelSpec,
    requests: Vec<(String, Vec<benchcards_eval::conditions::Message>)>,
    store_path: &Path,
) -> Result<std::collections::HashMap<String, Result<grade::Grade, String>>> {
    use benchcards_eval::runner::{Options, judge};
    let provider =
        benchcards_eval::provider::Provider::from_spec(model, std::time::Duration::from_secs(120)).map_err(|e| miette::miette!("{e}"))?;
    let store = std::sync::Arc::new(std::sync::Mutex::new(open_store(store_path)?));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().into_diagnostic()?;
    let opts = Options { concurrency: 16, max_attempts: 5, progress: benchcards_eval::runner::Progress::Quiet };
    let v = rt.block_on(judge(store, "grade", model, std::sync::Arc::new(provider), requests, &opts));
    eprintln!(
        "judge `{}`: {} request(s) sent; {} prompt + {} completion tokens; cost {:.4} USD at the plan's prices",
        model.id,
        v.requests_sent,
        v.prompt_tokens,
        v.completion_tokens,
        model.cost(v.prompt_tokens, v.completion_tokens)
    );
    Ok(v.verdicts.into_iter().collect())
}

/// A dataset marked `contains_phi` goes only to models on this machine, unless allowed.
fn refuse_phi_to_remote(dataset: &Dataset, models: &[benchcards_core::ModelSpec], allow: bool) -> Result<()> {
    if !dataset.header.contains_phi || allow {
        return Ok(());
    }
    let remote: Vec<&str> = models.iter().flat_map(|m| m.base_urls.iter()).map(String::as_str).filter(|u| !is_loopback(u)).collect();
    if remote.is_empty() {
        return Ok(());
    }
    Err(miette::miette!(
        help = "use a model on this machine, or pass --allow-phi-to-remote if sending this data there is permitted",
        "the dataset is marked contains_phi and this would send it to {}",
        remote.join(", ")
    ))
}

/// Whether a base URL points at this machine.
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

pub(super) struct Prepared {
    pub plan: benchcards_core::Plan,
    /// The plan as stored with the run: its file paths made absolute.
    pub plan_json: String,
    pub plan_hash: String,
    pub dataset: Dataset,
    /// The human study's rows, imported as completed samples.
    pub human: Vec<benchcards_eval::store::SampleRow>,
}

impl Prepared {
    /// Only the dataset's first `n` items, and the human data about them.
    pub fn keep_items(&mut self, n: usize) {
        self.dataset.items.truncate(n);
        let ds = &self.dataset;
        self.human.retain(|s| ds.item(&s.item).is_some());
    }
}

pub(super) fn prepare(plan_path: &Path) -> Result<Prepared, ExitCode> {
    let (plan, loaded) = benchcards_core::load_plan(plan_path).map_err(super::fail)?;
    crate::diagnostics::print_loaded(&plan_path.display().to_string(), &loaded);
    let base = plan_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let dataset_path = base.join(&plan.dataset);
    let dataset = load_dataset(&dataset_path)?;
    use sha2::Digest;
    let plan_hash = sha2::Sha256::digest(serde_json::to_string(&plan).unwrap_or_default().as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    // The stored plan names its files absolutely, so `runs export` and `report` find them later.
    let absolute = |rel: &str| {
        let p = base.join(rel);
        std::path::absolute(&p).unwrap_or(p).display().to_string()
    };
    let mut stored = plan.clone();
    stored.dataset = absolute(&plan.dataset);
    stored.card = absolute(&plan.card);
    stored.deployment = absolute(&plan.deployment);
    let mut human = match &plan.human_study {
        Some(study) => {
            let path = base.join(&study.path);
            let name = path.display().to_string();
            let text = read_data(&path).map_err(|d| {
                print_diagnostics(&name, None, &Diagnostics(vec![d]));
                ExitCode::FAILURE
            })?;
            let jsonl = matches!(path.extension().and_then(|e| e.to_str()), Some("jsonl" | "ndjson"));
            let rows = benchcards_eval::human::read_study(&text, jsonl, study, &dataset).map_err(|d| {
                print_diagnostics(&name, Some(&text), &d);
                ExitCode::FAILURE
            })?;
            eprintln!("human study: {} row(s) read from {name}", rows.len());
            rows
        }
        None => Vec::new(),
    };
    if plan.conditions.iter().any(|c| c.id == "human_study") {
        let real = benchcards_eval::human::from_conversations(&dataset);
        if real.is_empty() && plan.human_study.is_none() {
            eprintln!(
                "error: the plan has a `human_study` condition, but no `human_study` file and no conversations in {} (attach real ones with `benchcards augment`)",
                dataset_path.display()
            );
            return Err(ExitCode::FAILURE);
        }
        human.extend(real);
    }
    let plan_json = serde_json::to_string(&stored).unwrap_or_default();
    Ok(Prepared { plan, plan_json, plan_hash, dataset, human })
}

/// How to run: concurrency, attempts per request, seconds before a request times out.
pub struct Settings {
    pub concurrency: usize,
    pub max_attempts: u32,
    pub timeout: u64,
}

/// What one `execute_plan` did.
pub struct Executed {
    pub run_id: String,
    pub summary: benchcards_eval::runner::Summary,
    /// Grades written, the judge's included.
    pub graded: usize,
    /// Completed samples the judge could not grade (each recorded as a failure).
    pub unjudged: u64,
    /// The run's samples and verdicts at the plan's prices (requests answered from the cache
    /// were not paid again).
    pub cost_usd: f64,
}

/// Starts (or resumes) a run in the store, imports the human study, executes the work, and
/// grades what completed.
pub fn execute_plan(
    p: &Prepared,
    work: Vec<benchcards_eval::runner::Work>,
    store_path: &Path,
    resume: Option<&str>,
    settings: Settings,
) -> Result<Executed> {
    let Prepared { plan, plan_json, plan_hash, dataset, human } = p;
    use benchcards_eval::provider::Provider;
    use benchcards_eval::runner::{Options, execute};
    // Providers first: a missing key or model stops here, before a run is recorded.
    let timeout = std::time::Duration::from_secs(settings.timeout.max(1));
    let providers = plan
        .models
        .iter()
        .map(|m| Provider::from_spec(m, timeout).map(std::sync::Arc::new))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| miette::miette!("{e}"))?;
    let store = open_store(store_path)?;
    let run_id = match resume {
        Some(id) => match store.run_plan(id).map_err(|e| miette::miette!("{e}"))? {
            Some((hash, _)) if &hash == plan_hash => id.to_string(),
            Some(_) => return Err(miette::miette!("run `{id}` was started from a different plan; start a new run instead of resuming it")),
            None => return Err(miette::miette!("no run `{id}` in {} (see `benchcards runs list`)", store_path.display())),
        },
        None => {
            let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
            let id = format!("{}-{secs}", plan.id);
            store.create_run(&id, &plan.id, plan_hash, plan_json).map_err(|e| miette::miette!("{e}"))?;
            id
        }
    };
    eprintln!("run `{run_id}`: {} sample(s); store {}", work.len(), store_path.display());
    if !human.is_empty() {
        eprintln!(
            "human data: {} sample(s) imported (study rows, and the model's messages in real conversations attached to items)",
            human.len()
        );
    }
    for row in human {
        store.put_sample(&run_id, row).map_err(|e| miette::miette!("{e}"))?;
    }
    let store = std::sync::Arc::new(std::sync::Mutex::new(store));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().into_diagnostic()?;
    let opts = Options {
        concurrency: settings.concurrency,
        max_attempts: settings.max_attempts,
        progress: benchcards_eval::runner::Progress::for_stderr(),
    };
    let summary = rt.block_on(execute(store.clone(), &run_id, work, &plan.models, providers.clone(), opts.clone()));
    let judged = rt
        .block_on(benchcards_eval::runner::judge_run(store.clone(), &run_id, plan, dataset, &providers, &opts))
        .map_err(|e| miette::miette!("{e}"))?;
    if judged.graded + judged.failed > 0 {
        eprintln!("judge: {} sample(s) graded, {} request(s) sent", judged.graded, judged.requests_sent);
    }
    if judged.failed > 0 {
        eprintln!(
            "warning: the judge could not grade {} sample(s) (see `benchcards runs show {run_id}`); `--resume {run_id}` asks it again",
            judged.failed
        );
    }
    let guard = store.lock().map_err(|_| miette::miette!("the run store lock was poisoned"))?;
    if let Some(e) = summary.store_error.as_ref().or(judged.store_error.as_ref()) {
        guard.set_status(&run_id, "incomplete").ok();
        return Err(miette::miette!(
            help = format!("free the disk or fix the store, then `--resume {run_id}` sends the unrecorded samples again"),
            "run `{run_id}`: the run store {} could not record everything: {e}",
            store_path.display()
        ));
    }
    let graded =
        benchcards_eval::export::grade_run(&guard, &run_id, plan, dataset).map_err(|e| miette::miette!("{e}"))? + judged.graded as usize;
    guard
        .set_status(&run_id, if summary.failed == 0 && judged.failed == 0 { "complete" } else { "incomplete" })
        .map_err(|e| miette::miette!("{e}"))?;
    let samples_cost: f64 = guard
        .samples(&run_id)
        .map_err(|e| miette::miette!("{e}"))?
        .iter()
        .filter_map(|s| plan.models.iter().find(|m| m.id == s.model).map(|m| m.cost(s.prompt_tokens, s.completion_tokens)))
        .sum();
    Ok(Executed { run_id, summary, graded, unjudged: judged.failed, cost_usd: samples_cost + judged.cost_usd })
}

fn open_store(path: &Path) -> Result<benchcards_eval::store::Store> {
    benchcards_eval::store::Store::open(path).map_err(|e| miette::miette!("cannot open the run store {}: {e}", path.display()))
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    plan_path: &Path,
    dry_run: bool,
    resume: Option<&str>,
    items: Option<usize>,
    limit: Option<usize>,
    store_path: &Path,
    concurrency: usize,
    max_attempts: u32,
    timeout: u64,
    allow_phi: bool,
) -> Result<ExitCode> {
    use benchcards_eval::runner::expand;
    let mut p = match prepare(plan_path) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    if let Some(n) = items {
        p.keep_items(n);
    }
    let (mut work, notes) = expand(&p.plan, &p.dataset).map_err(|e| miette::miette!("{e}"))?;
    for n in &notes {
        eprintln!("note: {n}");
    }
    if let Some(l) = limit {
        work.truncate(l);
    }
    refuse_phi_to_remote(&p.dataset, &p.plan.models, allow_phi)?;
    if dry_run {
        let mut t = benchcards_report::Table::new(&[
            "Condition",
            "Model",
            "Samples",
            "Requests",
            "Prompt tokens (est.)",
            "Completion tokens (max)",
            "Cost (USD, est.)",
        ])
        .titled("Dry run: nothing is sent");
        let mut total = (0usize, 0i64, 0i64, 0f64, 0i64);
        for cond in &p.plan.conditions {
            let label = cond.name();
            for (m, spec) in p.plan.models.iter().enumerate() {
                let ws: Vec<_> = work.iter().filter(|w| w.label == label && w.model == m).collect();
                let requests: i64 = ws.iter().map(|w| w.estimate().0).sum();
                let prompt: i64 = ws.iter().map(|w| w.estimate().1).sum();
                let completion = requests * spec.sampling.max_tokens.unwrap_or(512) as i64;
                let cost = spec.cost(prompt, completion);
                total = (total.0 + ws.len(), total.1 + prompt, total.2 + completion, total.3 + cost, total.4 + requests);
                t.row(vec![
                    label.clone(),
                    spec.id.clone(),
                    ws.len().to_string(),
                    requests.to_string(),
                    prompt.to_string(),
                    completion.to_string(),
                    format!("{cost:.4}"),
                ]);
            }
        }
        // Each judge grader asks its model once per sample: the case, the reference and the answer.
        for g in p.plan.graders.iter().filter(|g| g.kind == benchcards_core::GraderKind::Judge) {
            let Some(spec) = p.plan.models.iter().find(|m| Some(&m.id) == g.judge_model.as_ref()) else { continue };
            let prompt: i64 = work
                .iter()
                .filter_map(|w| {
                    let item = p.dataset.item(&w.item)?;
                    let messages = benchcards_eval::grade::judge_messages(g.rubric.as_deref().unwrap_or(""), item, "");
                    Some(
                        benchcards_eval::provider::estimate_tokens(&messages)
                            + p.plan.models[w.model].sampling.max_tokens.unwrap_or(512) as i64,
                    )
                })
                .sum();
            let requests = work.len() as i64;
            let completion = requests * spec.sampling.max_tokens.unwrap_or(512) as i64;
            let cost = spec.cost(prompt, completion);
            total = (total.0, total.1 + prompt, total.2 + completion, total.3 + cost, total.4 + requests);
            t.row(vec![
                format!("judge ({})", benchcards_eval::export::grader_name(g)),
                spec.id.clone(),
                String::new(),
                requests.to_string(),
                prompt.to_string(),
                completion.to_string(),
                format!("{cost:.4}"),
            ]);
        }
        t.row(vec![
            "total".into(),
            String::new(),
            total.0.to_string(),
            total.4.to_string(),
            total.1.to_string(),
            total.2.to_string(),
            format!("{:.4}", total.3),
        ]);
        println!("{}", t.to_text());
        if let Some(b) = &p.plan.budget
            && (b.max_requests.is_some_and(|m| total.4 as u64 > m) || b.max_cost_usd.is_some_and(|m| total.3 > m))
        {
            println!("warning: the estimate exceeds the plan's budget");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let Executed { run_id, summary, graded, unjudged, cost_usd } =
        execute_plan(&p, work, store_path, resume, Settings { concurrency, max_attempts, timeout })?;
    eprintln!(
        "run `{run_id}`: {} done ({} from cache), {} failed; {} request(s) sent, {} retried; {} prompt + {} completion tokens; {:.1} s; {graded} grade(s)",
        summary.done,
        summary.cached,
        summary.failed,
        summary.requests_sent,
        summary.retries,
        summary.prompt_tokens,
        summary.completion_tokens,
        summary.elapsed.as_secs_f64()
    );
    if p.plan.models.iter().any(|m| m.pricing.is_some()) {
        eprintln!("cost: {cost_usd:.4} USD at the plan's prices for the whole run (requests answered from the cache were not paid again)");
    }
    if summary.final_concurrency < concurrency {
        eprintln!(
            "rate limited: concurrency lowered from {concurrency} to {} (it grows back one step per window of successes)",
            summary.final_concurrency
        );
    }
    if summary.failed > 0 || unjudged > 0 {
        eprintln!(
            "some samples failed or were not judged (see `benchcards runs show {run_id}`); `benchcards run {} --resume {run_id}` retries them",
            plan_path.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("{run_id}");
    Ok(ExitCode::SUCCESS)
}

pub fn runs_list(store_path: &Path) -> Result<ExitCode> {
    let store = open_store(store_path)?;
    let mut t = benchcards_report::Table::new(&["Run", "Plan", "Status", "Done", "Failed", "Plan hash"]);
    for r in store.runs().map_err(|e| miette::miette!("{e}"))? {
        t.row(vec![r.id, r.plan_id, r.status, r.samples_done.to_string(), r.samples_failed.to_string(), r.plan_hash]);
    }
    println!("{}", t.to_text());
    Ok(ExitCode::SUCCESS)
}

pub fn runs_show(store_path: &Path, run: &str) -> Result<ExitCode> {
    let store = open_store(store_path)?;
    if store.run_plan(run).map_err(|e| miette::miette!("{e}"))?.is_none() {
        return Err(miette::miette!("no run `{run}` in {}", store_path.display()));
    }
    let samples = store.samples(run).map_err(|e| miette::miette!("{e}"))?;
    let plan = run_plan(&store, run)?;
    let model_cost =
        |model: &str, prompt: i64, completion: i64| plan.models.iter().find(|m| m.id == model).map_or(0.0, |m| m.cost(prompt, completion));
    /// Per (condition, model): done, failed, tokens, requests sent, summed latency, cost.
    #[derive(Default)]
    struct Tally(usize, usize, i64, i64, i64, f64);
    let mut by: std::collections::BTreeMap<(String, String), Tally> = Default::default();
    for s in &samples {
        let e = by.entry((s.label.clone(), s.model.clone())).or_default();
        if s.status == "done" {
            e.0 += 1
        } else {
            e.1 += 1
        }
        e.2 += s.prompt_tokens + s.completion_tokens;
        e.3 += s.requests_sent;
        e.4 += s.latency_ms;
        e.5 += model_cost(&s.model, s.prompt_tokens, s.completion_tokens);
    }
    let mut t = benchcards_report::Table::new(&[
        "Condition",
        "Model",
        "Done",
        "Failed",
        "Tokens",
        "Requests sent",
        "Mean latency (ms)",
        "Cost (USD, plan prices)",
    ])
    .titled(format!("Run `{run}`"));
    for ((c, m), Tally(d, f, tok, req, lat, cost)) in by {
        t.row(vec![
            c,
            m,
            d.to_string(),
            f.to_string(),
            tok.to_string(),
            req.to_string(),
            format!("{:.0}", lat as f64 / (d + f).max(1) as f64),
            format!("{cost:.4}"),
        ]);
    }
    println!("{}", t.to_text());
    let failures = store.failures(run).map_err(|e| miette::miette!("{e}"))?;
    if !failures.is_empty() {
        let mut f = benchcards_report::Table::new(&["Sample", "Attempt", "Reason"]).titled(format!("{} failed attempt(s)", failures.len()));
        for (k, a, r) in failures.iter().take(50) {
            f.row(vec![k.clone(), a.to_string(), r.clone()]);
        }
        println!("{}", f.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan a run was started from, as stored with it.
pub(super) fn run_plan(store: &benchcards_eval::store::Store, run: &str) -> Result<benchcards_core::Plan> {
    benchcards_eval::view::run_plan(store, run).map(|(_, p)| p).map_err(|e| miette::miette!(help = "see `benchcards runs list`", "{e}"))
}

/// The graded results of one run (by `grader`, default the plan's first), and the grader's name.
pub(super) fn run_results(
    store: &benchcards_eval::store::Store,
    run: &str,
    grader: Option<&str>,
) -> Result<(Vec<benchcards_eval::export::ResultRow>, String)> {
    let plan = run_plan(store, run)?;
    let grader = grader
        .map(str::to_string)
        .or_else(|| plan.graders.first().map(benchcards_eval::export::grader_name))
        .ok_or_else(|| miette::miette!("the plan has no grader"))?;
    // Strata come from the dataset, read again from where the run found it.
    let ds = benchcards_eval::view::run_dataset(&plan).map_err(|e| miette::miette!("{e}"))?;
    let rows = benchcards_eval::export::results(store, run, &plan, &ds, benchcards_core::taxonomy(), &grader)
        .map_err(|e| miette::miette!("{e}"))?;
    Ok((rows, grader))
}

pub fn runs_compare(store_path: &Path, a: &str, b: &str, grader: Option<&str>, format: crate::cli::TableFormat) -> Result<ExitCode> {
    use benchcards_stats::proportion::{Paired, mcnemar, newcombe_paired};
    let store = open_store(store_path)?;
    let (ra, grader_name) = run_results(&store, a, grader)?;
    let (rb, _) = run_results(&store, b, Some(&grader_name))?;
    let key = |r: &benchcards_eval::export::ResultRow| (r.condition.clone(), r.unit.clone(), r.replicate);
    let bmap: std::collections::HashMap<_, f64> = rb.iter().map(|r| (key(r), r.score)).collect();
    let mut by: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
    for r in &ra {
        if let Some(sb) = bmap.get(&key(r)) {
            by.entry(r.condition.clone()).or_default().push((r.score, *sb));
        }
    }
    if by.is_empty() {
        return Err(miette::miette!("the two runs share no graded samples (same condition, unit and epoch)"));
    }
    let mut rows = Vec::new();
    for (cond, pairs) in &by {
        let n = pairs.len() as f64;
        let (ma, mb) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
        let binary = pairs.iter().all(|(x, y)| (*x == 0.0 || *x == 1.0) && (*y == 0.0 || *y == 1.0));
        let (ci, mc) = if binary {
            let mut t = Paired { both: 0.0, a_only: 0.0, b_only: 0.0, neither: 0.0 };
            for (x, y) in pairs {
                match (*x > 0.5, *y > 0.5) {
                    (true, true) => t.both += 1.0,
                    (true, false) => t.a_only += 1.0,
                    (false, true) => t.b_only += 1.0,
                    (false, false) => t.neither += 1.0,
                }
            }
            (newcombe_paired(t, 0.95), Some(mcnemar(t.a_only as u64, t.b_only as u64)))
        } else {
            let d: Vec<f64> = pairs.iter().map(|(x, y)| x - y).collect();
            let mean = d.iter().sum::<f64>() / n;
            let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
            let half = 1.959963984540054 * sd / n.sqrt();
            ([mean - half, mean + half], None)
        };
        rows.push(serde_json::json!({"condition": cond, "n": pairs.len(), "score_a": ma, "score_b": mb, "difference": ma - mb, "ci": ci,
            "method": if binary { "newcombe_paired" } else { "normal (mean of paired differences)" },
            "mcnemar_exact_p": mc.map(|m| m.exact_p), "mcnemar_mid_p": mc.map(|m| m.mid_p)}));
    }
    match format {
        crate::cli::TableFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"run_a": a, "run_b": b, "grader": grader_name, "conditions": rows}))
                .into_diagnostic()?
        ),
        _ => {
            let mut t = benchcards_report::Table::new(&[
                "Condition",
                "n (paired)",
                "A",
                "B",
                "A − B (points)",
                "95% CI",
                "McNemar p (exact; mid-p)",
            ])
            .titled(format!("`{a}` vs `{b}`, graded by `{grader_name}`"));
            for r in &rows {
                let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
                t.row(vec![
                    r["condition"].as_str().unwrap_or("").into(),
                    r["n"].to_string(),
                    format!("{:.1}%", f("score_a") * 100.0),
                    format!("{:.1}%", f("score_b") * 100.0),
                    format!("{:.1}", f("difference") * 100.0),
                    format!(
                        "{:.1} to {:.1}",
                        r["ci"][0].as_f64().unwrap_or(f64::NAN) * 100.0,
                        r["ci"][1].as_f64().unwrap_or(f64::NAN) * 100.0
                    ),
                    match (r["mcnemar_exact_p"].as_f64(), r["mcnemar_mid_p"].as_f64()) {
                        (Some(e), Some(m)) => format!("{e:.4}; {m:.4}"),
                        _ => "—".into(),
                    },
                ]);
            }
            println!("{}", if format == crate::cli::TableFormat::Md { t.to_markdown() } else { t.to_text() });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The results form as CSV, one row per graded sample.
fn write_results_csv(rows: &[benchcards_eval::export::ResultRow]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).into_diagnostic()?;
    }
    Ok(String::from_utf8_lossy(&w.into_inner().map_err(|e| miette::miette!("{e}"))?).to_string())
}

pub fn runs_export(
    store_path: &Path,
    run: &str,
    format: crate::cli::ExportFormat,
    grader: Option<&str>,
    output: Option<&Path>,
) -> Result<ExitCode> {
    let store = open_store(store_path)?;
    let (rows, grader) = run_results(&store, run, grader)?;
    let text = match format {
        crate::cli::ExportFormat::Jsonl => rows.iter().map(|r| serde_json::to_string(r).unwrap_or_default() + "\n").collect::<String>(),
        crate::cli::ExportFormat::Csv => write_results_csv(&rows)?,
    };
    write_output(output, &text)?;
    eprintln!("exported {} row(s) graded by `{grader}`", rows.len());
    Ok(ExitCode::SUCCESS)
}
