//! Stage 2–3 commands: grade, run, runs. The evaluation itself is `benchcards_eval::session`;
//! these parse, call it and print.

use super::write_output;
use crate::diagnostics::{print_diagnostics, print_loaded};
use benchcards_core::results::read_tabular;
use benchcards_core::{GraderKind, GraderMode, GraderSpec};
use benchcards_eval::dataset::Dataset;
use benchcards_eval::responses::{HEADER, ResponseColumns, csv_cell, grade_responses, plan_judge};
use benchcards_eval::session::{self, Estimate, Prepared, SessionError, Settings, is_jsonl, read_file};
use benchcards_stats::data::ResultRow;
use benchcards_stats::proportion::CONFIDENCE;
use miette::{IntoDiagnostic, Result, miette};
use std::path::Path;
use std::process::ExitCode;

/// Shows why a session step stopped: a file's problems where they are (exit code 1), or an
/// error with its fix.
pub(super) fn report(e: SessionError) -> Result<ExitCode> {
    match e {
        SessionError::Plan(e) => Ok(super::fail(e)),
        SessionError::File { name, text, diagnostics } => {
            print_diagnostics(&name, text.as_deref(), &diagnostics);
            Ok(ExitCode::FAILURE)
        }
        SessionError::Message { message, help: Some(help) } => Err(miette!(help = help, "{message}")),
        SessionError::Message { message, help: None } => Err(miette!("{message}")),
    }
}

/// The same as an error to pass on with `?` (a file's problems are printed first).
pub(super) fn into_report(e: SessionError) -> miette::Report {
    match report(e) {
        Err(r) => r,
        Ok(_) => miette!("stopped on the problems above"),
    }
}

/// Reads a dataset, printing its problems with line numbers.
pub fn load_dataset(path: &Path) -> Result<Dataset, ExitCode> {
    session::load_dataset(path).map_err(|e| report(e).unwrap_or(ExitCode::FAILURE))
}

/// Reads a plan with its data, printing its warnings and what was read.
pub(super) fn prepare(plan_path: &Path) -> Result<Result<Prepared, ExitCode>> {
    let p = match session::prepare(plan_path) {
        Ok(p) => p,
        Err(e) => return report(e).map(Err),
    };
    print_loaded(&plan_path.display().to_string(), &p.loaded);
    for n in &p.notes {
        eprintln!("{n}");
    }
    Ok(Ok(p))
}

/// What `grade --grader judge` needs: the plan naming the judge, and the store for its cache.
pub struct JudgeWith<'a> {
    pub plan: Option<&'a Path>,
    pub store: &'a Path,
    pub allow_phi: bool,
}

#[allow(clippy::too_many_arguments)]
pub fn grade(
    responses: &Path,
    dataset: &Path,
    kind: GraderKind,
    mode: GraderMode,
    threshold: u8,
    cols: [&String; 4],
    judge_with: JudgeWith,
    output: Option<&Path>,
) -> Result<ExitCode> {
    let ds = match load_dataset(dataset) {
        Ok(d) => d,
        Err(code) => return Ok(code),
    };
    let (spec, judge) = if kind == GraderKind::Judge {
        let Some(plan) = judge_with.plan else {
            return Err(miette!(
                help = "add a grader `{kind: judge, rubric: ..., judge_model: MODEL_ID}` to a plan, and pass it with --plan",
                "--grader judge needs --plan PLAN: the plan's judge grader gives the rubric and the model"
            ));
        };
        let p = match benchcards_core::load_plan(plan) {
            Ok((p, loaded)) => {
                print_loaded(&plan.display().to_string(), &loaded);
                p
            }
            Err(e) => return Ok(super::fail(e)),
        };
        let (g, m) = plan_judge(&p).map_err(|e| miette!("{}: {e}", plan.display()))?;
        (g, Some(m))
    } else {
        (GraderSpec { kind, mode: Some(mode), threshold: Some(threshold), rubric: None, judge_model: None }, None)
    };
    let name = responses.display().to_string();
    let text = match read_file(responses) {
        Ok(t) => t,
        Err(e) => return report(e),
    };
    let table = match read_tabular(&text, is_jsonl(responses)) {
        Ok(t) => t,
        Err(d) => {
            print_diagnostics(&name, Some(&text), &d);
            return Ok(ExitCode::FAILURE);
        }
    };
    let [unit, item, response, condition] = cols;
    let mut graded = match grade_responses(&table, &ResponseColumns { unit, item, response, condition }, &ds, &spec) {
        Ok(g) => g,
        Err(d) => {
            print_diagnostics(&name, Some(&text), &d);
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(model) = &judge {
        session::check_patient_data(&ds, std::slice::from_ref(model), judge_with.allow_phi).map_err(into_report)?;
        let v = session::judge_requests(model, std::mem::take(&mut graded.judge_requests), judge_with.store).map_err(into_report)?;
        eprintln!(
            "judge `{}`: {} request(s) sent; {} prompt + {} completion tokens; cost {:.4} USD at the plan's prices",
            model.id,
            v.requests_sent,
            v.prompt_tokens,
            v.completion_tokens,
            model.cost(v.prompt_tokens, v.completion_tokens)
        );
        let unread = graded.apply_verdicts(&v.verdicts.into_iter().collect());
        if !unread.is_empty() {
            return Err(miette!(
                help = "run the same command again: verdicts already read come from the cache, and only these are asked again",
                "the judge gave no readable verdict for {} response(s), so nothing was written:\n{}",
                unread.len(),
                unread.join("\n")
            ));
        }
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HEADER).into_diagnostic()?;
    for r in &graded.rows {
        out.write_record(r.cells.iter().map(|c| csv_cell(c).into_owned())).into_diagnostic()?;
    }
    let bytes = out.into_inner().map_err(|e| miette!("{e}"))?;
    write_output(output, &String::from_utf8_lossy(&bytes))?;
    eprintln!("graded {} response(s)", graded.rows.len());
    Ok(ExitCode::SUCCESS)
}

/// The dry run's table.
fn estimate_table(e: &Estimate) -> benchcards_report::Table {
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
    for r in e.rows.iter().chain([&e.total]) {
        t.row(vec![
            r.label.clone(),
            r.model.clone(),
            r.samples.map(|n| n.to_string()).unwrap_or_default(),
            r.requests.to_string(),
            r.prompt_tokens.to_string(),
            r.completion_tokens.to_string(),
            format!("{:.4}", r.cost_usd),
        ]);
    }
    t
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    plan_path: &Path,
    dry_run: bool,
    resume: Option<&str>,
    items: Option<usize>,
    limit: Option<usize>,
    store_path: &Path,
    settings: Settings,
    allow_phi: bool,
) -> Result<ExitCode> {
    let mut p = match prepare(plan_path)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    if let Some(n) = items {
        p.keep_items(n);
    }
    let (mut work, notes) = p.work().map_err(into_report)?;
    for n in &notes {
        eprintln!("note: {n}");
    }
    if let Some(l) = limit {
        work.truncate(l);
    }
    session::check_patient_data(&p.dataset, &p.plan.models, allow_phi).map_err(into_report)?;
    if dry_run {
        let e = p.estimate(&work);
        println!("{}", estimate_table(&e).to_text());
        if e.over_budget {
            println!("warning: the estimate exceeds the plan's budget");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let s = match p.start(store_path, resume, settings) {
        Ok(s) => s,
        Err(e) => return report(e),
    };
    let run_id = &s.run_id;
    eprintln!("run `{run_id}`: {} sample(s); store {}", work.len(), store_path.display());
    if !p.human.is_empty() {
        eprintln!(
            "human data: {} sample(s) imported (study rows, and the model's messages in real conversations attached to items)",
            p.human.len()
        );
    }
    let x = match s.execute(&p, work, benchcards_eval::runner::Progress::for_stderr()) {
        Ok(x) => x,
        Err(e) => return report(e),
    };
    if x.judged + x.unjudged > 0 {
        eprintln!("judge: {} sample(s) graded, {} request(s) sent", x.judged, x.judge_requests);
    }
    if x.unjudged > 0 {
        eprintln!(
            "warning: the judge could not grade {} sample(s) (see `benchcards runs show {run_id}`); `--resume {run_id}` asks it again",
            x.unjudged
        );
    }
    let summary = &x.summary;
    eprintln!(
        "run `{run_id}`: {} done ({} from cache), {} failed; {} request(s) sent, {} retried; {} prompt + {} completion tokens; {:.1} s; {} grade(s)",
        summary.done,
        summary.cached,
        summary.failed,
        summary.requests_sent,
        summary.retries,
        summary.prompt_tokens,
        summary.completion_tokens,
        summary.elapsed.as_secs_f64(),
        x.graded
    );
    if p.plan.models.iter().any(|m| m.pricing.is_some()) {
        eprintln!(
            "cost: {:.4} USD at the plan's prices for the whole run (requests answered from the cache were not paid again)",
            x.cost_usd
        );
    }
    if summary.final_concurrency < settings.concurrency {
        eprintln!(
            "rate limited: concurrency lowered from {} to {} (it grows back one step per window of successes)",
            settings.concurrency, summary.final_concurrency
        );
    }
    if summary.failed > 0 || x.unjudged > 0 {
        eprintln!(
            "some samples failed or were not judged (see `benchcards runs show {run_id}`); `benchcards run {} --resume {run_id}` retries them",
            plan_path.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    println!("{run_id}");
    Ok(ExitCode::SUCCESS)
}

fn open_store(path: &Path) -> Result<benchcards_eval::store::Store> {
    session::open_store(path).map_err(|e| miette!("{e}"))
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
    if store.plan_record(run).map_err(|e| miette::miette!("{e}"))?.is_none() {
        return Err(miette::miette!("no run `{run}` in {}", store_path.display()));
    }
    let samples = store.samples(run).map_err(|e| miette::miette!("{e}"))?;
    let plan = stored_plan(&store, run)?;
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
pub(super) fn stored_plan(store: &benchcards_eval::store::Store, run: &str) -> Result<benchcards_core::Plan> {
    benchcards_eval::view::stored_plan(store, run).map(|(_, p)| p).map_err(|e| miette::miette!(help = "see `benchcards runs list`", "{e}"))
}

/// The graded results of one run (by `grader`, default the plan's first), and the grader's name.
pub(super) fn run_results(store: &benchcards_eval::store::Store, run: &str, grader: Option<&str>) -> Result<(Vec<ResultRow>, String)> {
    let plan = stored_plan(store, run)?;
    let grader = grader
        .map(str::to_string)
        .or_else(|| plan.graders.first().map(GraderSpec::name))
        .ok_or_else(|| miette::miette!("the plan has no grader"))?;
    // Strata come from the dataset, read again from where the run found it.
    let ds = benchcards_eval::view::run_dataset(&plan).map_err(|e| miette::miette!("{e}"))?;
    let rows = benchcards_eval::results::results(store, run, &plan, &ds, benchcards_core::taxonomy(), &grader)
        .map_err(|e| miette::miette!("{e}"))?;
    Ok((rows, grader))
}

pub fn runs_compare(store_path: &Path, a: &str, b: &str, grader: Option<&str>, format: crate::cli::TableFormat) -> Result<ExitCode> {
    let store = open_store(store_path)?;
    let (ra, grader_name) = run_results(&store, a, grader)?;
    let (rb, _) = run_results(&store, b, Some(&grader_name))?;
    let rows = benchcards_stats::paired::compare(&ra, &rb, CONFIDENCE);
    if rows.is_empty() {
        return Err(miette::miette!("the two runs share no graded samples (same condition, unit and epoch)"));
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
                t.row(vec![
                    r.condition.clone(),
                    r.n.to_string(),
                    format!("{:.1}%", r.score_a * 100.0),
                    format!("{:.1}%", r.score_b * 100.0),
                    format!("{:.1}", r.difference * 100.0),
                    format!("{:.1} to {:.1}", r.ci[0] * 100.0, r.ci[1] * 100.0),
                    match (r.mcnemar_exact_p, r.mcnemar_mid_p) {
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
fn write_results_csv(rows: &[ResultRow]) -> Result<String> {
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
