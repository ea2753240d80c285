//! Stage 2–3 commands: grade, run, runs. The evaluation itself is `benchcards_eval::session`;
//! these parse, call it and print.

use super::{Shown, after_shown, fail, loaded, print_json, print_tables, read_table, shown_in, write_output};
use crate::cli::{ExportFormat, RunsCompareArgs, RunsExportArgs, RunsListArgs, RunsShowArgs, TableFormat};
use crate::diagnostics::{print_diagnostics, print_loaded};
use benchcards_core::results::{csv_text, results_csv, results_jsonl};
use benchcards_core::{GraderKind, GraderSpec, Plan, load_plan};
use benchcards_eval::dataset::Dataset;
use benchcards_eval::responses::{GradeArgs, HEADER, csv_cell, grade_responses, plan_judge};
use benchcards_eval::session::RunArgs;
use benchcards_eval::session::{self, Prepared, SessionError, Settings};
use benchcards_eval::store::{Store, find_run};
use benchcards_eval::{harness::every_eval_ever, results::graded_results};
use benchcards_report::Table;
use benchcards_report::decompose::paired_table;
use benchcards_stats::data::ResultRow;
use benchcards_stats::proportion::CONFIDENCE;
use benchcards_web::view::{estimate_table, execution_lines, failures_table, meta_eval_tables, samples_table, scores_table};
use miette::{Report, Result, miette};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// Shows why a session step stopped: a file's problems where they are (exit code 1), or an
/// error with its fix.
pub(super) fn report(e: SessionError) -> Report {
    match e {
        SessionError::Plan(e) => fail(e),
        SessionError::File { name, text, diagnostics } => {
            print_diagnostics(&name, text.as_deref(), &diagnostics);
            Shown.into()
        }
        SessionError::Message { message, help: Some(help) } => miette!(help = help, "{message}"),
        SessionError::Message { message, help: None } => miette!("{message}"),
    }
}

/// The same, with a last word after a file's problems.
pub(super) fn into_report(e: SessionError) -> Report {
    after_shown(report(e), || miette!("stopped on the problems above"))
}

/// Reads a dataset, printing its problems with line numbers.
pub fn load_dataset(path: &Path) -> Result<Dataset> {
    session::load_dataset(path).map_err(report)
}

/// Reads a plan with its data, printing its warnings and what was read.
pub(super) fn prepare(plan_path: &Path) -> Result<Prepared> {
    let p = session::prepare(plan_path).map_err(report)?;
    print_loaded(&plan_path.display().to_string(), &p.loaded);
    for n in &p.notes {
        eprintln!("{n}");
    }
    Ok(p)
}

pub fn grade(a: &GradeArgs) -> Result<ExitCode> {
    let (Some(responses), Some(dataset), Some(kind), None) = (&a.responses, &a.dataset, a.grader, &a.meta_eval) else {
        let (labels, plan) = a.meta_eval.as_deref().zip(a.plan.as_deref()).ok_or_else(|| miette!("--meta-eval needs --plan"))?;
        let m = benchcards_eval::metaeval::run(labels, plan, &a.store).map_err(into_report)?;
        write_output(a.output.as_deref(), &meta_eval_tables(&m).iter().map(Table::to_text).collect::<Vec<_>>().join("\n"))?;
        return Ok(ExitCode::SUCCESS);
    };
    if kind == GraderKind::Rubric {
        return Err(miette!(
            help = "run the responses' items in a plan with `benchcards run`: its rubric grader judges each criterion",
            "--grader rubric grades within a run; a file of responses cannot be graded by the items' rubrics yet"
        ));
    }
    let ds = load_dataset(dataset)?;
    let (spec, judge) = if kind == GraderKind::Judge {
        let Some(plan) = &a.plan else {
            return Err(miette!(
                help = "add a grader `{kind: judge, rubric: ..., judge_model: MODEL_ID}` to a plan, and pass it with --plan",
                "--grader judge needs --plan PLAN: the plan's judge grader gives the rubric and the model"
            ));
        };
        let (g, m) = plan_judge(&loaded(plan, load_plan)?).map_err(|e| miette!("{}: {e}", plan.display()))?;
        (g, Some(m))
    } else {
        (GraderSpec { mode: Some(a.mode), threshold: Some(a.threshold), ..GraderSpec::new(kind) }, None)
    };
    let (table, text) = read_table(responses)?;
    let mut graded = grade_responses(&table, &a.columns, &ds, &spec).map_err(|d| shown_in(responses, &text, d))?;
    if let Some(model) = &judge {
        session::check_patient_data(&ds, std::slice::from_ref(model), a.allow_phi_to_remote).map_err(into_report)?;
        let requests = std::mem::take(&mut graded.judge_requests);
        let v = session::judge_requests(model, requests, &a.store, benchcards_eval::grade::read_judgement).map_err(into_report)?;
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
    let cells = graded.rows.iter().map(|r| r.cells.iter().map(|c| csv_cell(c).into_owned()).collect());
    write_output(a.output.as_deref(), &csv_text(&HEADER, cells).map_err(|e| miette!("{e}"))?)?;
    eprintln!("graded {} response(s)", graded.rows.len());
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: &RunArgs) -> Result<ExitCode> {
    let limits = benchcards_eval::client::Limits { timeout: Duration::from_secs(a.timeout.max(1)), max_reply_bytes: a.max_reply_bytes };
    let settings = Settings { concurrency: a.concurrency, max_attempts: a.max_attempts, limits };
    let mut p = prepare(&a.plan)?;
    if let Some(n) = a.items {
        p.keep_items(n);
    }
    let (mut work, notes) = p.work().map_err(into_report)?;
    for n in &notes {
        eprintln!("note: {n}");
    }
    if let Some(l) = a.limit {
        work.truncate(l);
    }
    p.check_patient_data(a.allow_phi_to_remote).map_err(into_report)?;
    if a.dry_run {
        let e = p.estimate(&work);
        println!("{}", estimate_table(&e).to_text());
        if let Some(note) = e.unpriced_note() {
            println!("note: {note}");
        }
        if e.over_budget {
            println!("warning: the estimate exceeds the plan's budget");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let s = p.start(&a.store, a.resume.as_deref(), settings).map_err(report)?;
    let run_id = &s.run_id;
    eprintln!("run `{run_id}`: {} sample(s); store {}", work.len(), a.store.display());
    if !p.human.is_empty() {
        eprintln!(
            "human data: {} sample(s) imported (study rows, and the model's messages in real conversations attached to items)",
            p.human.len()
        );
    }
    let x = s.execute(&p, work, benchcards_eval::runner::Progress::for_stderr()).map_err(report)?;
    for line in execution_lines(run_id, &x, &p.plan, settings.concurrency, &a.plan.display().to_string()) {
        eprintln!("{line}");
    }
    if x.summary.failed > 0 || x.unjudged > 0 {
        return Ok(ExitCode::FAILURE);
    }
    println!("{run_id}");
    Ok(ExitCode::SUCCESS)
}

/// The store holding `run`, opened read-only (`store::find_run`: the one named, else this
/// folder's).
pub(super) fn find(run: &str, store: Option<&Path>) -> Result<Store> {
    find_run(run, store, Path::new(".")).map_err(|e| miette!("{e}"))
}

/// A store to read, opened read-only: nothing is created or changed.
pub(super) fn read_store(path: &Path) -> Result<Store> {
    Store::open_read_only(path)
        .map_err(|e| miette!(help = "name a run store with --store STORE", "cannot read the run store {}: {e}", path.display()))
}

pub fn runs_list(a: &RunsListArgs) -> Result<ExitCode> {
    let store = read_store(&a.store)?;
    let mut t = Table::new(&["Run", "Plan", "Status", "Done", "Failed", "Plan hash"]);
    for r in store.runs().map_err(|e| miette!("{e}"))? {
        t.row(vec![r.id, r.plan_id, r.status, r.samples_done.to_string(), r.samples_failed.to_string(), r.plan_hash]);
    }
    println!("{}", t.to_text());
    Ok(ExitCode::SUCCESS)
}

pub fn runs_show(RunsShowArgs { run, store }: &RunsShowArgs) -> Result<ExitCode> {
    let store = find(run, store.as_deref())?;
    let samples = store.samples(run).map_err(|e| miette!("{e}"))?;
    let plan = stored_plan(&store, run)?;
    let t = samples_table(&samples, &plan).titled(format!("Run `{run}`"));
    println!("{}\n{}", t.to_text(), scores_table(&samples, &store.grades(run).map_err(|e| miette!("{e}"))?).to_text());
    let failures = store.failures(run).map_err(|e| miette!("{e}"))?;
    if let Some(f) = failures_table(&failures) {
        println!("{}", f.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

/// The plan a run was started from, as stored with it.
pub(super) fn stored_plan(store: &Store, run: &str) -> Result<Plan> {
    benchcards_eval::view::stored_plan(store, run).map(|(_, p)| p).map_err(|e| miette!(help = "see `benchcards runs list`", "{e}"))
}

/// The graded results of one run (by `grader`, default the plan's first), and the grader's name.
pub(super) fn run_results(store: &Store, run: &str, grader: Option<&str>, faithful_only: bool) -> Result<(Vec<ResultRow>, String)> {
    graded_results(store, run, &stored_plan(store, run)?, grader, faithful_only).map_err(|e| miette!("{e}"))
}

pub fn runs_compare(RunsCompareArgs { run_a: a, run_b: b, store, grader, format }: &RunsCompareArgs) -> Result<ExitCode> {
    let store = find(a, store.as_deref())?;
    let (ra, grader_name) = run_results(&store, a, grader.as_deref(), false)?;
    let (rb, _) = run_results(&store, b, Some(&grader_name), false)?;
    let rows = benchcards_stats::paired::compare(&ra, &rb, CONFIDENCE);
    if rows.is_empty() {
        return Err(miette!("the two runs share no graded unit (same condition and unit)"));
    }
    match format {
        TableFormat::Json => print_json(&serde_json::json!({"run_a": a, "run_b": b, "grader": grader_name, "conditions": rows}))?,
        _ => print_tables(*format, &[paired_table(format!("`{a}` vs `{b}`, graded by `{grader_name}`"), &rows)]),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn runs_export(RunsExportArgs { run, store, format, grader, output, exclude_unfaithful }: &RunsExportArgs) -> Result<ExitCode> {
    let store = find(run, store.as_deref())?;
    let (rows, grader) = run_results(&store, run, grader.as_deref(), *exclude_unfaithful)?;
    let text = match format {
        ExportFormat::Jsonl => results_jsonl(&rows),
        ExportFormat::Csv => results_csv(&rows).map_err(|e| miette!("{e}"))?,
        ExportFormat::EveryEvalEver => every_eval_ever(&store, run, &grader, *exclude_unfaithful).map_err(|e| miette!("{e}"))?,
    };
    write_output(output.as_deref(), &text)?;
    eprintln!("exported {} row(s) graded by `{grader}`", rows.len());
    Ok(ExitCode::SUCCESS)
}
