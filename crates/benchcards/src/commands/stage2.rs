//! Stage 2 from logs and the protocol update: `measure`, `augment` and `card derive`. None of
//! them makes a network call.

use super::eval::{find, load_dataset, stored_plan};
use super::{Shown, fail, print_json, print_tables, shown, today, write_output};
use crate::cli::{DeriveArgs, MeasureArgs, TableFormat};
use crate::diagnostics::print_diagnostics;
use benchcards_core::document::{DocKind, read_data};
use benchcards_core::emit::document_yaml;
use benchcards_core::{load_card, load_profile};
use benchcards_eval::dataset::{Augmentation, Dataset, parse_dataset, to_jsonl};
use benchcards_eval::derive::{DatasetSource, derive_card, run_steps};
use benchcards_eval::logs::{AugmentArgs, CsvColumns, Logs, augment as attach, is_csv};
use benchcards_eval::measure::{Samples, compare, measure as measure_logs, to_profile, vocabulary};
use benchcards_eval::results::graded_results;
use benchcards_web::view::{comparison_table, measurement_tables};
use miette::{Result, miette};
use sha2::Digest;
use std::path::Path;
use std::process::ExitCode;

fn sha256_hex(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a log file (CSV by extension, else JSONL), printing every skipped line and the counts.
/// Returns the logs and the file's text.
fn read_logs(path: &Path, columns: &CsvColumns) -> Result<(Logs, String)> {
    let (logs, text) = benchcards_eval::logs::read_logs(path, columns).map_err(shown)?;
    let name = path.display().to_string();
    print_diagnostics(&name, Some(&text), &logs.warnings);
    eprintln!("{name}: {} line(s) read, {} conversation(s) kept, {} line(s) skipped", logs.lines, logs.conversations.len(), logs.skipped);
    if logs.conversations.is_empty() {
        eprintln!("error: {name} holds no conversation with a message from the person");
        return Err(Shown.into());
    }
    Ok((logs, text))
}

/// The register vocabulary: the bundled dataset's condition names, and the benchmark's when
/// one is given.
pub(super) fn register_vocabulary(against: Option<&Dataset>) -> Result<Vec<Vec<String>>> {
    let bundled = parse_dataset(benchcards_core::bundled::DEMO_DATASET).map_err(|_| miette!("the bundled dataset does not parse"))?;
    Ok(vocabulary(&[Some(&bundled), against].into_iter().flatten().collect::<Vec<&Dataset>>()))
}

pub fn measure(a: &MeasureArgs) -> Result<ExitCode> {
    let against = a.against.as_deref().map(load_dataset).transpose()?;
    let vocab = register_vocabulary(against.as_ref())?;
    let (Some(logs_path), []) = (&a.logs, &a.compare[..]) else {
        let samples = |p: &Path| Ok::<_, miette::Report>(Samples::of(&read_logs(p, &a.columns)?.0.conversations, against.as_ref(), &vocab));
        let (sim, real) = (&a.compare[0], &a.compare[1]);
        let c = compare(&samples(sim)?, &samples(real)?, &a.tolerance);
        match a.format {
            TableFormat::Json => print_json(&serde_json::json!({"simulated": sim, "real": real, "comparison": c}))?,
            _ => print_tables(a.format, &[comparison_table(&c, &sim.display().to_string(), &real.display().to_string())]),
        }
        return Ok(ExitCode::SUCCESS);
    };
    let (logs, _) = read_logs(logs_path, &a.columns)?;
    let base = a.profile.as_deref().map(load_profile).transpose().map_err(fail)?.map(|(p, _)| p);
    let m = measure_logs(&logs.conversations, against.as_ref(), &vocab);
    if !m.unknown_items.is_empty() {
        eprintln!("warning: conversations name item(s) the dataset lacks, left out of completeness: {}", m.unknown_items.join(", "));
    }
    let name = logs_path.display().to_string();
    let (figures, dims) = measurement_tables(&m, &format!("Measured from {} conversation(s) in {name}", logs.conversations.len()));
    match a.format {
        TableFormat::Json => print_json(
            &serde_json::json!({"logs": name, "lines": logs.lines, "conversations": logs.conversations.len(), "skipped": logs.skipped, "measurement": m}),
        )?,
        _ => print_tables(a.format, &[figures, dims]),
    }
    if let Some(out) = &a.output {
        let stem = logs_path.file_stem().map_or("logs".into(), |s| s.to_string_lossy().to_string());
        let p = to_profile(base, &m, &name, &stem);
        write_output(Some(out), &document_yaml(DocKind::Profile, &p))?;
        eprintln!("`benchcards compare CARD {}` now shows these dimensions as measured", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn augment(a: &AugmentArgs) -> Result<ExitCode> {
    let queries = &a.queries;
    let ds = load_dataset(&a.dataset)?;
    let (logs, text) = read_logs(queries, &a.columns)?;
    let provenance = Augmentation { logs: queries.display().to_string(), sha256: sha256_hex(&text), ..Default::default() };
    let name = queries.display();
    let logs_phi = match (a.logs_contain_phi, logs.contains_phi) {
        (Some(flag), Some(header)) if flag != header => {
            eprintln!("warning: {name} says contains_phi: {header}; --logs-contain-phi {flag} overrides it");
            flag
        }
        (Some(phi), _) | (None, Some(phi)) => phi,
        (None, None) => {
            let how = if is_csv(queries) {
                "pass --logs-contain-phi false"
            } else {
                "give it a first line {\"logs\": {\"contains_phi\": false}} or pass --logs-contain-phi false"
            };
            eprintln!(
                "note: {name} does not say whether it holds patient data, so it is taken to; if it holds none (synthetic or \
                 de-identified), {how}"
            );
            true
        }
    };
    let (out, report) = attach(&ds, &logs.conversations, logs_phi, provenance);
    write_output(a.output.as_deref(), &to_jsonl(&out))?;
    if out.header.contains_phi {
        eprintln!(
            "the dataset is marked contains_phi: `run` sends it only to models on this machine unless --allow-phi-to-remote is given"
        );
    }
    eprintln!(
        "{} of {} item(s) now carry real first messages and conversations; {} conversation(s) name no item",
        report.items_with,
        ds.items.len(),
        report.unlinked
    );
    if !report.items_without.is_empty() {
        let listed: Vec<&str> = report.items_without.iter().take(20).map(String::as_str).collect();
        eprintln!(
            "{} item(s) have no conversation and keep their written queries: {}{}",
            report.items_without.len(),
            listed.join(", "),
            if report.items_without.len() > 20 { ", …" } else { "" }
        );
    }
    if !report.unknown_items.is_empty() {
        eprintln!("warning: conversations name item(s) the dataset lacks: {}", report.unknown_items.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn derive(DeriveArgs { base, dataset, runs, store: store_path, output }: &DeriveArgs) -> Result<ExitCode> {
    let (card, _) = load_card(base).map_err(fail)?;
    let ds = load_dataset(dataset)?;
    let text = read_data(dataset).map_err(|d| miette!("{}", d.message))?;
    let mut measured = Vec::new();
    if !runs.is_empty() {
        for run in runs {
            let store = find(run, store_path.as_deref())?;
            let plan = stored_plan(&store, run)?;
            let (rows, grader) = graded_results(&store, run, &plan, None, false).map_err(|e| miette!("{e}"))?;
            let steps = run_steps(run, &plan, &rows, grader, &store.path().display().to_string());
            measured.push(steps.map_err(|e| miette!("cannot decompose run `{run}`: {e}"))?);
        }
    }
    let source = dataset.display().to_string();
    let sha = sha256_hex(&text);
    let derived = derive_card(&card, &ds, DatasetSource { path: &source, sha256: &sha }, &measured, &today());
    write_output(output.as_deref(), &document_yaml(DocKind::Card, &derived))?;
    eprintln!(
        "derived `{}`: {} tested entr(ies) from {} run(s); check it with `benchcards check`",
        derived.id,
        derived.tested.len() - card.tested.len(),
        runs.len()
    );
    Ok(ExitCode::SUCCESS)
}
