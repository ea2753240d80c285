//! One function per command.

mod demo;
mod eval;
mod files;
mod logs;
mod report;
mod stage1;
mod stats;

use crate::cli::{CardCommand, Command, ExportTarget, RegistryCommand, RunsCommand, StudyCommand};
use crate::diagnostics::print_loaded;
use benchcards_core::document::{Document, LoadError};
use benchcards_core::{Card, Profile, load_text};
use miette::{IntoDiagnostic, Result, WrapErr, miette};
use std::path::Path;
use std::process::ExitCode;

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

pub fn run(command: Command) -> Result<ExitCode> {
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
            [&participant_col, &arm_col, &scenario_col, &score_col],
            simulated.as_deref(),
            simulated_condition.as_deref(),
            confidence,
            format,
        ),
        Command::Measure { logs: file, against, profile, output, columns, format } => {
            logs::measure(&file, against.as_deref(), profile.as_deref(), output.as_deref(), &columns, format)
        }
        Command::Augment { dataset, queries, output, logs_contain_phi, columns } => {
            logs::augment(&dataset, &queries, output.as_deref(), logs_contain_phi, &columns)
        }
        Command::Report { run, compare, decompose, path, uptake, store, output, audience, no_transcripts } => {
            report::report(report::Source::pick(run, compare, decompose, path, uptake), &store, &output, audience, no_transcripts)
        }
        Command::Serve { port, host, registry, runs } => serve(port, host, registry.as_deref(), runs),
        Command::Card { command: CardCommand::Derive { base, dataset, runs, store, output } } => {
            logs::derive(&base, &dataset, &runs, &store, output.as_deref())
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

pub fn fail(e: LoadError) -> ExitCode {
    print_loaded(&e.path, &e.loaded);
    ExitCode::FAILURE
}

/// Loads the bundled files, failing loudly if any does not pass `check` (a build defect).
fn bundled_documents() -> Result<(Vec<Card>, Vec<Profile>)> {
    let mut cards = Vec::new();
    let mut profiles = Vec::new();
    for (name, text) in bundled::CARDS.iter().chain(bundled::DEPLOYMENTS) {
        let loaded = load_text(name, text.to_string(), None, name.ends_with(".md"));
        if loaded.diagnostics.has_errors() {
            print_loaded(name, &loaded);
            return Err(miette!("bundled file {name} does not pass `check`"));
        }
        match loaded.document {
            Some(Document::Card(c)) => cards.push(c),
            Some(Document::Profile(p)) => profiles.push(p),
            _ => return Err(miette!("bundled file {name} is neither a card nor a deployment profile")),
        }
    }
    Ok((cards, profiles))
}

/// The calendar date of a day count since 1970-01-01 (Hinnant's civil-from-days).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Today's date (UTC) as YYYY-MM-DD.
pub fn today() -> String {
    let days = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_782), (2026, 11, 25));
        assert_eq!(super::civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(super::civil_from_days(-1), (1969, 12, 31));
    }
}
