//! The Python package's native module, `benchcards._benchcards`: cards checked, compared and
//! ranked, and results decomposed, by the libraries the command line uses, so both give the same
//! figures. Every function returns JSON text the Python wrapper (`python/benchcards`) reads: on
//! success `{"value": …, "warnings": [text, …]}` (the value in the command line's `--format json`
//! form), on a problem `{"error": text, "diagnostics": [{path, line, column, …}, …]}`, the text as
//! the command line renders it. Nothing here panics on input; the wrapper raises the errors.

use benchcards_assess::registry::rank as rank_cards;
use benchcards_core::document::{FileReport, Loaded, registry};
use benchcards_core::results::{ResultColumns, ResultsError, read_results_file};
use benchcards_core::{Diagnostic, Diagnostics, LoadError, load_card, load_file, load_profile, taxonomy};
use benchcards_report::assess::{comparison_json, ranking_json};
use benchcards_report::diagnostic::render_list;
use benchcards_stats::bootstrap::{BootstrapArgs, IntervalMethod, Scheme};
use benchcards_stats::data::Weights;
use benchcards_stats::decompose::DecomposeSpec;
use benchcards_stats::study::uptake_between;
use clap::ValueEnum;
use pyo3::prelude::*;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A success: the value and the warnings, rendered.
fn ok(value: Json, warnings: Vec<String>) -> String {
    json!({"value": value, "warnings": warnings}).to_string()
}

/// A failure said in words, with no place in a file.
fn failed(message: impl std::fmt::Display) -> String {
    json!({"error": message.to_string(), "diagnostics": []}).to_string()
}

/// Each diagnostic of `diags` with the file it is in, as the command line's `--format json`.
fn located<'a>(name: &str, diags: impl Iterator<Item = &'a Diagnostic>) -> Vec<Json> {
    diags
        .map(|d| {
            let mut v = serde_json::to_value(d).unwrap_or(Json::Null);
            v["path"] = name.into();
            v
        })
        .collect()
}

/// A file's errors, rendered as the command line shows them; every one listed with its place.
fn file_failed(name: &str, text: Option<&str>, diags: &Diagnostics) -> String {
    let message = render_list(name, text, diags.errors(), false).join("\n");
    json!({"error": message, "diagnostics": located(name, diags.errors())}).to_string()
}

/// The text of a loaded file, for the snippets.
fn text_of(loaded: &Loaded) -> Option<&str> {
    loaded.source.as_ref().map(|s| s.text.as_str())
}

/// A loaded file's warnings, rendered.
fn warnings_of(name: &str, loaded: &Loaded) -> Vec<String> {
    render_list(name, text_of(loaded), loaded.diagnostics.warnings(), false)
}

/// A loaded file's errors as a failure.
fn loaded_failed(name: &str, loaded: &Loaded) -> String {
    file_failed(name, text_of(loaded), &loaded.diagnostics)
}

fn name_of(path: &Path) -> String {
    path.display().to_string()
}

/// Loads a card, profile or plan (a path, or a bundled id) and says what it is and every problem
/// it has, as `benchcards check --format json` does for one file.
#[pyfunction]
fn check(path: PathBuf) -> String {
    let name = name_of(&path);
    let loaded = load_file(&path);
    let mut report = serde_json::to_value(FileReport::new(&name, &loaded)).unwrap_or(Json::Null);
    let doc = loaded.document.as_ref().filter(|_| !loaded.diagnostics.has_errors());
    report["kind"] = doc.map(|d| d.kind().noun()).into();
    report["id"] = doc.map(|d| d.id()).into();
    report["rendered"] = render_list(&name, text_of(&loaded), &loaded.diagnostics.0, false).into();
    ok(report, Vec::new())
}

/// A card or profile loaded by `load`, as its JSON form.
fn document_json<T: serde::Serialize>(path: &Path, load: fn(&Path) -> Result<(T, Loaded), LoadError>) -> String {
    match load(path) {
        Ok((value, loaded)) => ok(serde_json::to_value(value).unwrap_or(Json::Null), warnings_of(&name_of(path), &loaded)),
        Err(e) => loaded_failed(&e.path, &e.loaded),
    }
}

/// A card as its JSON form (`benchcards render CARD --format json`'s `benchcard`).
#[pyfunction]
fn load_card_json(path: PathBuf) -> String {
    document_json(&path, load_card)
}

/// A deployment profile as its JSON form.
#[pyfunction]
fn load_profile_json(path: PathBuf) -> String {
    document_json(&path, load_profile)
}

/// A card compared with a deployment profile, as `benchcards compare --format json`.
#[pyfunction]
fn compare(card: PathBuf, deployment: PathBuf) -> String {
    let (c, p) = (load_card(&card), load_profile(&deployment));
    match (c, p) {
        (Ok((c, cl)), Ok((p, pl))) => {
            let mut warnings = warnings_of(&name_of(&card), &cl);
            warnings.extend(warnings_of(&name_of(&deployment), &pl));
            ok(comparison_json(&benchcards_assess::compare(taxonomy(), &c, &p)), warnings)
        }
        (Err(e), _) | (_, Err(e)) => loaded_failed(&e.path, &e.loaded),
    }
}

/// A registry folder's cards (the bundled registry without one) ranked by fit to a deployment,
/// as `benchcards match --format json`. Files that are not valid cards are left out, each with a
/// warning.
#[pyfunction]
#[pyo3(signature = (deployment, registry_dir=None, top=None))]
fn rank(deployment: PathBuf, registry_dir: Option<PathBuf>, top: Option<usize>) -> String {
    let (p, pl) = match load_profile(&deployment) {
        Ok(loaded) => loaded,
        Err(e) => return loaded_failed(&e.path, &e.loaded),
    };
    let r = match registry(registry_dir.as_deref()) {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let mut warnings = warnings_of(&name_of(&deployment), &pl);
    for (name, loaded) in &r.files {
        warnings.extend(render_list(name, text_of(loaded), &loaded.diagnostics.0, false));
    }
    if r.left_out > 0 {
        warnings.push(format!("{} file(s) are not valid cards and were left out", r.left_out));
    }
    let mut ranked = rank_cards(taxonomy(), &r.cards, &p);
    ranked.truncate(top.unwrap_or(usize::MAX));
    ok(ranking_json(&p.id, r.cards.len(), &ranked), warnings)
}

/// A value of a command-line enum by its command-line name.
fn choice<T: ValueEnum>(what: &str, value: &str) -> Result<T, String> {
    T::from_str(value, true).map_err(|_| {
        let names: Vec<String> =
            T::value_variants().iter().filter_map(|v| v.to_possible_value()).map(|v| format!("\"{}\"", v.get_name())).collect();
        format!("{what} \"{value}\" is not one of {}", names.join(", "))
    })
}

/// Result columns by the results form's names (`unit`, `condition`, `score`, `pair`,
/// `replicate`, `cluster`, `stratum`, `weight`) mapped to the file's own.
fn result_columns(names: &HashMap<String, String>) -> Result<ResultColumns, String> {
    let mut c = ResultColumns::default();
    for (key, column) in names {
        let slot = match key.as_str() {
            "unit" => &mut c.unit,
            "condition" => &mut c.condition,
            "score" => &mut c.score,
            "pair" => &mut c.pair,
            "replicate" => &mut c.replicate,
            "stratum" => &mut c.stratum,
            "weight" => &mut c.weight,
            "cluster" => {
                c.cluster = Some(column.clone());
                continue;
            }
            other => {
                return Err(format!(
                    "columns: `{other}` is not a column of the results form (unit, condition, score, pair, replicate, cluster, stratum, weight)"
                ));
            }
        };
        *slot = column.clone();
    }
    Ok(c)
}

/// What `decompose` is asked, beside the results file.
struct Request {
    path: Vec<String>,
    columns: ResultColumns,
    condition_meta: Option<PathBuf>,
    reference: Option<String>,
    weights: Weights,
    case_mix: Option<PathBuf>,
    shapley: Option<Vec<String>>,
    uptake: Option<(String, String)>,
    sensitivity: bool,
    bootstrap: BootstrapArgs,
}

/// The decomposition of `results` as `benchcards decompose --format json` prints it (with its
/// `uptake`). `shown_as` names the results in errors (a DataFrame written to a temporary file).
fn decompose_file(results: &Path, shown_as: &str, req: Request) -> String {
    let loaded = match read_results_file(results, &req.columns, req.condition_meta.as_deref()) {
        Ok(l) => l,
        Err(ResultsError::Meta(m)) => return failed(m),
        Err(ResultsError::File(p)) => {
            let name = if p.name == name_of(results) { shown_as.to_string() } else { p.name };
            return file_failed(&name, p.text.as_deref(), &p.diagnostics);
        }
    };
    let mut warnings = Vec::new();
    let profile = match req.case_mix.as_deref().map(load_profile).transpose() {
        Ok(p) => p.map(|(profile, l)| {
            warnings.extend(warnings_of(&req.case_mix.as_deref().map(name_of).unwrap_or_default(), &l));
            profile
        }),
        Err(e) => return loaded_failed(&e.path, &e.loaded),
    };
    let spec = DecomposeSpec {
        reference: req.reference,
        weights: req.weights,
        bootstrap: req.bootstrap.spec(req.columns.cluster.is_some()),
        shapley: req.shapley,
        sensitivity: req.sensitivity,
        ..loaded.spec(&req.path)
    };
    let confidence = spec.bootstrap.confidence;
    let mix_name = req.case_mix.as_deref().map(name_of).unwrap_or_default();
    let d = match loaded.decompose(spec, profile.as_ref().map(|p| (mix_name.as_str(), p))) {
        Ok(d) => d,
        Err(e) => return failed(e),
    };
    let uptake = match req.uptake.map(|(m, p)| uptake_between(&loaded.data, &m, &p, confidence)).transpose() {
        Ok(u) => u,
        Err(e) => return failed(e),
    };
    let mut value = serde_json::to_value(&d).unwrap_or(Json::Null);
    value["uptake"] = serde_json::to_value(&uptake).unwrap_or(Json::Null);
    ok(value, warnings)
}

/// Decomposes the gap between conditions of a results file (CSV or JSONL) along `path`; the
/// keywords are `benchcards decompose`'s flags.
#[pyfunction]
#[pyo3(signature = (
    results, path, *, shown_as=None, columns=None, condition_meta=None, reference=None,
    weights="pooled", case_mix=None, shapley=None, uptake=None, sensitivity=false, bootstrap=None,
    resamples=BootstrapArgs::default().resamples, seed=BootstrapArgs::default().seed,
    interval="bca", confidence=BootstrapArgs::default().confidence,
))]
#[allow(clippy::too_many_arguments)]
fn decompose(
    py: Python<'_>,
    results: PathBuf,
    path: Vec<String>,
    shown_as: Option<String>,
    columns: Option<HashMap<String, String>>,
    condition_meta: Option<PathBuf>,
    reference: Option<String>,
    weights: &str,
    case_mix: Option<PathBuf>,
    shapley: Option<Vec<String>>,
    uptake: Option<(String, String)>,
    sensitivity: bool,
    bootstrap: Option<&str>,
    resamples: usize,
    seed: u64,
    interval: &str,
    confidence: f64,
) -> String {
    let asked = || -> Result<Request, String> {
        Ok(Request {
            path,
            columns: result_columns(&columns.unwrap_or_default())?,
            condition_meta,
            reference,
            weights: choice::<Weights>("weights", weights)?,
            case_mix,
            shapley,
            uptake,
            sensitivity,
            bootstrap: BootstrapArgs {
                bootstrap: bootstrap.map(|b| choice::<Scheme>("bootstrap", b)).transpose()?,
                resamples,
                seed,
                interval: choice::<IntervalMethod>("interval", interval)?,
                confidence,
            },
        })
    };
    let req = match asked() {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let shown_as = shown_as.unwrap_or_else(|| name_of(&results));
    // The bootstrap runs on every core without holding the interpreter.
    py.detach(|| decompose_file(&results, &shown_as, req))
}

#[pymodule]
fn _benchcards(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(load_card_json, m)?)?;
    m.add_function(wrap_pyfunction!(load_profile_json, m)?)?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(rank, m)?)?;
    m.add_function(wrap_pyfunction!(decompose, m)?)?;
    Ok(())
}
