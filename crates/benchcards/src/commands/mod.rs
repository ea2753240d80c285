//! One function per command, and what they share: a failure shown once, a data file read as
//! a table, tables and JSON printed, files written atomically, the bundled registry.

mod demo;
mod eval;
mod files;
mod report;
mod stage1;
mod stage2;
mod stats;

use crate::cli::{CardCommand, Command, RegistryCommand, RunsCommand, StudyCommand, TableFormat};
use crate::diagnostics::{print_diagnostics, print_loaded};
use benchcards_core::document::LoadError;
use benchcards_core::results::{FileProblems, Tabular, read_table_file};
use benchcards_core::{Card, Diagnostics, Loaded, Profile};
use benchcards_report::Table;
use benchcards_study::args as study;
use miette::{IntoDiagnostic, Report, Result, miette};
use std::path::Path;
use std::process::ExitCode;

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
        Command::Taxonomy(a) => files::taxonomy_cmd(&a),
        Command::Check(a) => files::check(&a),
        Command::Schema(a) => files::schema(&a),
        Command::Import(a) => files::import(&a),
        Command::Export(a) => files::export(&a),
        Command::Render(a) => files::render(&a),
        Command::Compare(a) => stage1::compare(&a),
        Command::Match(a) => stage1::match_cmd(&a),
        Command::Gaps(a) => stage1::gaps(&a),
        Command::Registry { command: RegistryCommand::Overview(a) } => stage1::overview(&a),
        Command::Registry { command: RegistryCommand::Show(a) } => files::bundled(&a, false),
        Command::Registry { command: RegistryCommand::Export(a) } => files::bundled(&a, true),
        Command::Plan(a) => stage1::plan(&a),
        Command::Decompose(a) => stats::decompose(&a),
        Command::Gate(a) => stats::gate(&a),
        Command::Study { command: StudyCommand::Power(a) } => stats::power(&a),
        Command::Study { command: StudyCommand::Analyze(a) } => stats::analyze(&a),
        Command::Study { command: StudyCommand::Register(a) } => said(study::register(&a)),
        Command::Study { command: StudyCommand::Serve(a) } => said(study::serve(&a)),
        Command::Study { command: StudyCommand::Export(a) } => said(study::export(&a)),
        Command::Study { command: StudyCommand::Pilot(a) } => said(study::pilot(&a)),
        Command::Measure(a) => stage2::measure(&a),
        Command::Augment(a) => stage2::augment(&a),
        Command::Report(a) => report::report(&a),
        Command::Serve(a) => said(benchcards_web::serve_command(&a, stage1::registry_cards(a.registry.as_deref())?)),
        Command::Site { command } => said(benchcards_web::site_command(&command)),
        Command::Card { command: CardCommand::Derive(a) } => stage2::derive(&a),
        Command::Card { command: CardCommand::New(a) } => {
            let md = a.output.as_deref().is_some_and(benchcards_core::document::is_markdown);
            write_output(a.output.as_deref(), &benchcards_core::template::card_template(benchcards_core::taxonomy(), &a.id, md))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Grade(a) => eval::grade(&a),
        Command::Run(a) => eval::run(&a),
        Command::Runs { command: RunsCommand::List(a) } => eval::runs_list(&a),
        Command::Runs { command: RunsCommand::Show(a) } => eval::runs_show(&a),
        Command::Runs { command: RunsCommand::Compare(a) } => eval::runs_compare(&a),
        Command::Runs { command: RunsCommand::Export(a) } => eval::runs_export(&a),
        Command::Demo(a) => demo::demo(&a),
        Command::Fidelity(a) => {
            print_tables(
                TableFormat::Table,
                &benchcards_web::view::fidelity_tables(&benchcards_eval::fidelity::run(&a).map_err(eval::into_report)?),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Dataset { command: benchcards_eval::import::DatasetCommand::Import(a) } => {
            said(Ok(benchcards_eval::import::run(&a).map_err(shown)?))
        }
        Command::Results { command } => said(Ok(benchcards_eval::harness::run(&command).map_err(shown)?)),
    }
}

/// A study command's outcome, said on standard error.
fn said(r: std::result::Result<String, String>) -> Result<ExitCode> {
    eprintln!("{}", r.map_err(|e| miette!("{e}"))?.trim_end());
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

/// Writes a file atomically through the one writer (`document::write_atomic`).
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    benchcards_core::document::write_atomic(path, text).map_err(|e| miette!("{e}"))
}

/// Loads the bundled files, failing loudly if any does not pass `check` (a build defect).
fn bundled_documents() -> Result<(Vec<Card>, Vec<Profile>)> {
    benchcards_core::bundled::documents().map_err(|e| {
        print_loaded(&e.path, &e.loaded);
        miette!("bundled file {} is not a card or profile that passes `check`", e.path)
    })
}

/// Today's date (UTC) as YYYY-MM-DD.
pub fn today() -> String {
    benchcards_core::taxonomy::utc_date(std::time::SystemTime::now())
}
