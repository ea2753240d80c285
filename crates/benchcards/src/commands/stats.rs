//! Statistics commands: decompose, gate, study power, study analyze. They read the files, call
//! benchcards-stats and print.

use super::{Shown, fail, print_json, print_tables, read_table, shown, shown_in, write_output};
use crate::cli::{AnalyzeArgs, DecomposeArgs, FAIL_ON_EXIT, GateArgs, GateFailOn, PowerArgs, ResultsArgs, TableFormat};
use benchcards_assess::readiness::readiness;
use benchcards_core::results::{ResultColumns, ResultsData, ResultsError, read_results, read_results_file, read_study};
use benchcards_core::{load_card, load_profile, taxonomy};
use benchcards_report::decompose::{calibration_line, markdown, power_details, power_table, study_tables, text, waterfall_svg};
use benchcards_report::readiness::{published_sources, readiness_table};
use benchcards_stats::data::ResultRow;
use benchcards_stats::decompose::{DecomposeSpec, Decomposition};
use benchcards_stats::study::{self, Uptake, uptake_between};
use miette::{IntoDiagnostic, Result, miette};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

/// Shows why a results file cannot be used; the command then stops with status 1.
fn shown_results(e: ResultsError) -> miette::Report {
    match e {
        ResultsError::File(p) => shown(p),
        ResultsError::Meta(message) => {
            eprintln!("error: {message}");
            Shown.into()
        }
    }
}

/// Reads the results file named on the command line, with its columns and condition metadata.
fn load(input: &ResultsArgs) -> Result<ResultsData> {
    read_results_file(&input.results, &input.columns, input.condition_meta.as_deref()).map_err(shown_results)
}

/// Runs `spec` on `loaded`; `--case-mix PROFILE` standardises to the profile's case mix.
fn decomposition(loaded: &ResultsData, spec: DecomposeSpec, case_mix: Option<&Path>) -> Result<Decomposition> {
    let profile = case_mix.map(load_profile).transpose().map_err(fail)?.map(|(p, _)| p);
    let name = case_mix.map(|p| p.display().to_string()).unwrap_or_default();
    loaded.decompose(spec, profile.as_ref().map(|p| (name.as_str(), p))).map_err(|e| miette!("{e}"))
}

/// A results file (the results form's own column names, condition metadata from its columns and
/// `meta`) decomposed along `path` with the defaults of `decompose`: the data read, the spec
/// used and the result.
pub(super) fn decompose_file(results: &Path, meta: Option<&Path>, path: &[String]) -> Result<(ResultsData, DecomposeSpec, Decomposition)> {
    let loaded = read_results_file(results, &ResultColumns::default(), meta).map_err(shown_results)?;
    let spec = loaded.spec(path);
    let d = decomposition(&loaded, spec.clone(), None)?;
    Ok((loaded, spec, d))
}

/// The uptake table of MODEL_CONDITION,PERSON_CONDITION: the same units graded under both.
pub(super) fn uptake_table(loaded: &ResultsData, pair: &[String], confidence: f64) -> Result<Uptake> {
    let [m, p] = pair else { return Err(miette!("--uptake takes MODEL_CONDITION,PERSON_CONDITION")) };
    uptake_between(&loaded.data, m, p, confidence).map_err(|e| miette!("{e}"))
}

pub fn decompose(a: &DecomposeArgs) -> Result<ExitCode> {
    let loaded = load(&a.input)?;
    let spec = DecomposeSpec {
        reference: a.reference.clone(),
        weights: a.weights.clone(),
        bootstrap: a.boot.spec(a.input.columns.cluster.is_some()),
        shapley: a.shapley.clone(),
        sensitivity: a.sensitivity,
        ..loaded.spec(&a.path)
    };
    let d = decomposition(&loaded, spec.clone(), a.case_mix.as_deref())?;
    let up = a.uptake.as_ref().map(|pair| uptake_table(&loaded, pair, spec.bootstrap.confidence)).transpose()?;
    match a.format {
        TableFormat::Table => print!("{}", text(&d, up.as_ref())),
        TableFormat::Md => print!("{}", markdown(&d, up.as_ref())),
        TableFormat::Json => {
            let mut v = serde_json::to_value(&d).into_diagnostic()?;
            v["uptake"] = serde_json::to_value(&up).into_diagnostic()?;
            print_json(&v)?;
        }
    }
    if let Some(chart) = &a.chart {
        write_output(Some(chart), &waterfall_svg(&d))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn gate(a: &GateArgs) -> Result<ExitCode> {
    let profile = load_profile(&a.deployment).map_err(fail)?.0;
    let card = a.card.as_deref().map(load_card).transpose().map_err(fail)?.map(|(c, _)| c);
    let loaded = load(&a.input)?;
    let spec = DecomposeSpec { bootstrap: a.boot.spec(a.input.columns.cluster.is_some()), ..loaded.spec(&a.path) };
    let d = decomposition(&loaded, spec, None)?;
    let cmp = card.as_ref().map(|c| benchcards_assess::compare(taxonomy(), c, &profile));
    let rows = readiness(&profile, cmp.as_ref(), &study::group_gates(&d, &profile.tolerances()));
    let any_fail = rows.iter().any(|r| r.run_fails());
    match a.format {
        TableFormat::Json => {
            let value = json!({"deployment": {"id": profile.id}, "card": card.as_ref().map(|c| &c.id), "estimand": d.estimand, "gates": rows, "warnings": d.warnings});
            print_json(&value)?
        }
        _ => {
            let t = readiness_table(
                &format!("Gates for `{}` (pass: the whole interval of the drop is below the tolerance)", profile.id),
                &rows,
                false,
            );
            print_tables(a.format, &[t]);
            let sources = published_sources(&rows);
            if !sources.is_empty() {
                println!("Published figures from: {}.", sources.join("; "));
            }
            println!("Estimand: {}", d.estimand.statement);
        }
    }
    if a.fail_on == Some(GateFailOn::GateFail) && any_fail {
        eprintln!("failing: a drop is above its tolerance (--fail-on gate-fail)");
        return Ok(ExitCode::from(FAIL_ON_EXIT));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn power(a: &PowerArgs) -> Result<ExitCode> {
    let r = a.query.analyse().map_err(|e| miette!("{e}"))?;
    let details = power_details(&r, a.query.margin.unwrap_or(0.0));
    match a.format {
        TableFormat::Json => {
            let mut value = serde_json::to_value(&r).into_diagnostic()?;
            value["details"] = details.iter().map(|(k, v)| json!({k: v})).collect();
            print_json(&value)?
        }
        _ => print_tables(a.format, &[power_table(&r, &details)]),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn analyze(a: &AnalyzeArgs) -> Result<ExitCode> {
    const NOTE: &str = "each arm against the control is a randomised contrast, causal when participants were randomised to arms (comparisons between scenarios or between the model's and people's answers are not); rows are treated as independent; when participants answer several scenarios, use `decompose --cluster-col participant` for cluster-bootstrap intervals";
    let (table, text) = read_table(&a.data)?;
    let counts = read_study(&table, &a.columns).map_err(|d| shown_in(&a.data, &text, d))?;
    let analysis = counts.analyze(&a.control, a.confidence).map_err(|e| miette!("{e}"))?;
    // Calibration: simulated per-scenario rates against the model arms' human rates.
    let calib = match &a.simulated {
        Some(path) => {
            let (table, text) = read_table(path)?;
            let rows = read_results(&table, &ResultColumns::default()).map_err(|d| shown_in(path, &text, d))?;
            let rows: Vec<ResultRow> =
                rows.into_iter().map(|l| l.row).filter(|r| a.simulated_condition.as_deref().is_none_or(|c| r.condition == c)).collect();
            counts.calibration(&a.control, &rows)
        }
        None => None,
    };
    match a.format {
        TableFormat::Json => {
            let mut value = serde_json::to_value(&analysis).into_diagnostic()?;
            value["calibration"] = serde_json::to_value(&calib).into_diagnostic()?;
            value["note"] = NOTE.into();
            print_json(&value)?
        }
        _ => {
            print_tables(a.format, &study_tables(&analysis));
            if let Some(line) = calibration_line(calib.as_ref(), a.simulated.is_some()) {
                println!("{line}");
            }
            println!("Note: {NOTE}.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
