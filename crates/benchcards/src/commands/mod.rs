//! One function per command, and what they share: a failure shown once, a data file read as
//! a table, tables and JSON printed, files written atomically, the bundled registry.

mod demo;
mod eval;
mod files;
mod report;
mod stage1;
mod stage2;
mod stats;

use crate::cli::{CardCommand, Command, ExportTarget, RegistryCommand, RunsCommand, StudyCommand, TableFormat};
use crate::diagnostics::{print_diagnostics, print_loaded};
use benchcards_core::document::{LoadError, load_documents};
use benchcards_core::results::{FileProblems, StudyColumns, Tabular, read_table_file};
use benchcards_core::{Card, Diagnostics, Loaded, Profile};
use benchcards_report::Table;
use miette::{IntoDiagnostic, Report, Result, WrapErr, miette};
use std::path::Path;
use std::process::ExitCode;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// A failure already shown where it is (a file's diagnostics): the command exits with status 1
/// and says nothing more.
#[derive(Debug)]
pub struct Shown;

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the problems above")
    }
}

impl std::error::Error for Shown {}
impl miette::Diagnostic for Shown {}

/// `e`, or when its problems were shown above, `instead` said after them.
pub fn after_shown(e: Report, instead: impl FnOnce() -> Report) -> Report {
    if e.downcast_ref::<Shown>().is_some() { instead() } else { e }
}

/// Prints a data file's problems; the command then stops with status 1.
pub fn shown(p: FileProblems) -> Report {
    print_diagnostics(&p.name, p.text.as_deref(), &p.diagnostics);
    Shown.into()
}

/// Prints problems found in the text of the file at `path`; the command then stops.
pub fn shown_in(path: &Path, text: &str, diagnostics: Diagnostics) -> Report {
    shown(FileProblems::new(path, Some(text), diagnostics))
}

/// Prints why a card, profile or plan does not load; the command then stops with status 1.
pub fn fail(e: LoadError) -> Report {
    print_loaded(&e.path, &e.loaded);
    Shown.into()
}

/// Loads a card, profile or plan with `load`, printing its warnings; its errors stop the command.
pub fn loaded<T>(path: &Path, load: fn(&Path) -> Result<(T, Loaded), LoadError>) -> Result<T> {
    let (value, loaded) = load(path).map_err(fail)?;
    print_loaded(&path.display().to_string(), &loaded);
    Ok(value)
}

/// Reads a data file as a table (JSONL or CSV by its extension), showing its problems.
pub fn read_table(path: &Path) -> Result<(Tabular, String)> {
    read_table_file(path).map_err(shown)
}

/// Prints tables as aligned text, or as Markdown when asked, each followed by a blank line.
pub fn print_tables(format: TableFormat, tables: &[Table]) {
    for t in tables {
        println!("{}", if format == TableFormat::Md { t.to_markdown() } else { t.to_text() });
    }
}

/// Prints a value as indented JSON.
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value).into_diagnostic()?);
    Ok(())
}

pub fn run(command: Command) -> Result<ExitCode> {
    match dispatch(command) {
        Err(e) if e.downcast_ref::<Shown>().is_some() => Ok(ExitCode::FAILURE),
        result => result,
    }
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Taxonomy { format } => files::taxonomy_cmd(format),
        Command::Check { files, format } => files::check(&files, format),
        Command::Schema { out, check } => files::schema(&out, check),
        Command::Import { file, output, profile } => files::import(&file, output.as_deref(), profile.as_deref()),
        Command::Export { to: ExportTarget::Raman, card, output } => files::export(&card, output.as_deref()),
        Command::Render { card, format, output } => files::render(&card, format, output.as_deref()),
        Command::Compare { card, deployment, format, fail_on } => stage1::compare(&card, &deployment, format, fail_on),
        Command::Match { deployment, registry, top, format, fail_on } => {
            stage1::match_cmd(&deployment, registry.as_deref(), top, format, fail_on)
        }
        Command::Gaps { deployment, registry, format } => stage1::gaps(&deployment, registry.as_deref(), format),
        Command::Registry { command: RegistryCommand::Overview { registry, format } } => stage1::overview(registry.as_deref(), format),
        Command::Plan { card, deployment, dataset, output } => stage1::plan(&card, &deployment, dataset.as_deref(), output.as_deref()),
        Command::Decompose { input, path, reference, weights, case_mix, shapley, uptake, boot, format, chart } => stats::decompose(
            &input,
            &path,
            reference.as_deref(),
            weights,
            case_mix.as_deref(),
            shapley,
            uptake,
            &boot,
            format,
            chart.as_deref(),
        ),
        Command::Gate { input, deployment, card, path, boot, format, fail_on } => {
            stats::gate(&input, &deployment, card.as_deref(), &path, &boot, format, fail_on)
        }
        Command::Study {
            command: StudyCommand::Power { design, p1, p2, p10, p01, margin, alpha, power, n, cluster_size, icc, format },
        } => stats::power(design, p1, p2, p10, p01, margin, alpha, power, n, cluster_size, icc, format),
        Command::Study {
            command:
                StudyCommand::Analyze {
                    data,
                    control,
                    participant_col,
                    arm_col,
                    scenario_col,
                    score_col,
                    simulated,
                    simulated_condition,
                    confidence,
                    format,
                },
        } => stats::analyze(
            &data,
            &control,
            &StudyColumns { participant: participant_col, arm: arm_col, scenario: scenario_col, score: score_col },
            simulated.as_deref(),
            simulated_condition.as_deref(),
            confidence,
            format,
        ),
        Command::Measure { logs: file, against, profile, output, columns, format } => {
            stage2::measure(&file, against.as_deref(), profile.as_deref(), output.as_deref(), &columns, format)
        }
        Command::Augment { dataset, queries, output, logs_contain_phi, columns } => {
            stage2::augment(&dataset, &queries, output.as_deref(), logs_contain_phi, &columns)
        }
        Command::Report { run, compare, decompose, path, uptake, store, output, audience, no_transcripts } => {
            report::report(report::Source::pick(run, compare, decompose, path, uptake), &store, &output, audience, no_transcripts)
        }
        Command::Serve { port, host, registry, runs } => serve(port, host, registry.as_deref(), runs),
        Command::Card { command: CardCommand::Derive { base, dataset, runs, store, output } } => {
            stage2::derive(&base, &dataset, &runs, &store, output.as_deref())
        }
        Command::Grade {
            responses,
            dataset,
            grader,
            mode,
            threshold,
            unit_col,
            item_col,
            response_col,
            condition_col,
            plan,
            store,
            allow_phi_to_remote,
            output,
        } => eval::grade(
            &responses,
            &dataset,
            grader,
            mode,
            threshold,
            [&unit_col, &item_col, &response_col, &condition_col],
            eval::JudgeWith { plan: plan.as_deref(), store: &store, allow_phi: allow_phi_to_remote },
            output.as_deref(),
        ),
        Command::Run {
            plan,
            dry_run,
            resume,
            items,
            limit,
            store,
            concurrency,
            max_attempts,
            timeout,
            max_reply_bytes,
            allow_phi_to_remote,
        } => {
            let limits = benchcards_eval::client::Limits { timeout: std::time::Duration::from_secs(timeout.max(1)), max_reply_bytes };
            let settings = benchcards_eval::session::Settings { concurrency, max_attempts, limits };
            eval::run(&plan, dry_run, resume.as_deref(), items, limit, &store, settings, allow_phi_to_remote)
        }
        Command::Runs { command: RunsCommand::List { store } } => eval::runs_list(&store),
        Command::Runs { command: RunsCommand::Show { run, store } } => eval::runs_show(&store, &run),
        Command::Runs { command: RunsCommand::Compare { run_a, run_b, store, grader, format } } => {
            eval::runs_compare(&store, &run_a, &run_b, grader.as_deref(), format)
        }
        Command::Runs { command: RunsCommand::Export { run, store, format, grader, output } } => {
            eval::runs_export(&store, &run, format, grader.as_deref(), output.as_deref())
        }
        Command::Demo { out, items, no_model } => demo::demo(&out, items, no_model),
    }
}

/// Runs the web UI until interrupted.
fn serve(port: u16, host: Option<std::net::IpAddr>, registry: Option<&Path>, runs: Option<std::path::PathBuf>) -> Result<ExitCode> {
    let host = host.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    if !host.is_loopback() {
        eprintln!(
            "warning: listening on {host}: anyone who can reach this machine can read the registry and the runs in {}",
            runs.as_deref().map_or("(no runs folder)".into(), |p| p.display().to_string())
        );
    }
    let cards = stage1::registry_cards(registry)?;
    let site = benchcards_web::Site { cards, runs };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().into_diagnostic()?;
    rt.block_on(benchcards_web::serve(site, std::net::SocketAddr::new(host, port)))
        .map_err(|e| miette!("cannot serve on {host}:{port}: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes to a file atomically (a crash never leaves a half-written file), or to stdout.
pub fn write_output(path: Option<&Path>, text: &str) -> Result<()> {
    match path {
        None => {
            print!("{text}");
            Ok(())
        }
        Some(path) => {
            write_file(path, text)?;
            eprintln!("wrote {}", path.display());
            Ok(())
        }
    }
}

/// The one place that writes a file: a temporary file beside it, then a rename, so a failure
/// never leaves half a file where a whole one was (a test finds any other file write).
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", path.file_name().map_or("out".into(), |n| n.to_string_lossy())));
    std::fs::write(&tmp, text).into_diagnostic().wrap_err_with(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).into_diagnostic().wrap_err_with(|| format!("cannot write {}", path.display()))
}

/// Loads the bundled files, failing loudly if any does not pass `check` (a build defect).
fn bundled_documents() -> Result<(Vec<Card>, Vec<Profile>)> {
    load_documents(bundled::CARDS.iter().chain(bundled::DEPLOYMENTS)).map_err(|e| {
        if !e.loaded.diagnostics.has_errors() {
            return miette!("bundled file {} is neither a card nor a deployment profile", e.path);
        }
        print_loaded(&e.path, &e.loaded);
        miette!("bundled file {} does not pass `check`", e.path)
    })
}

/// Today's date (UTC) as YYYY-MM-DD.
pub fn today() -> String {
    benchcards_core::taxonomy::utc_date(std::time::SystemTime::now())
}
