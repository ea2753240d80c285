//! Statistics commands: decompose, gate, study power, study analyze. They read the files, call
//! benchcards-stats and print.

use super::write_output;
use crate::cli::{BootstrapArgs, FAIL_ON_EXIT, GateFailOn, ResultsArgs, TableFormat};
use crate::diagnostics::print_diagnostics;
use benchcards_assess::readiness::readiness;
use benchcards_core::document::read_data;
use benchcards_core::results::{ResultColumns, Tabular, condition_meta, read_results, read_tabular};
use benchcards_core::{Diagnostic, Diagnostics, Pos, load_card, load_profile, taxonomy};
use benchcards_report::Table;
use benchcards_report::decompose::{markdown, text, waterfall_svg};
use benchcards_report::readiness::{published_sources, readiness_table};
use benchcards_stats::bootstrap::{BootstrapSpec, Scheme};
use benchcards_stats::data::{Data, ResultRow, Weights, gather};
use benchcards_stats::decompose::{ConditionMeta, DecomposeSpec, Decomposition, decompose as run_decompose};
use benchcards_stats::study::{self, PowerDesign, Solve, StudyCounts, Uptake, power_analysis, uptake_between};
use miette::{IntoDiagnostic, Result, miette};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Reads a data file as a table, printing any problem with its position.
fn read_table(path: &Path) -> Result<(Tabular, String), ExitCode> {
    let name = path.display().to_string();
    let text = read_data(path).map_err(|d| {
        print_diagnostics(&name, None, &Diagnostics(vec![d]));
        ExitCode::FAILURE
    })?;
    let jsonl = matches!(path.extension().and_then(|e| e.to_str()), Some("jsonl" | "ndjson"));
    match read_tabular(&text, jsonl) {
        Ok(t) => Ok((t, text)),
        Err(d) => {
            print_diagnostics(&name, Some(&text), &d);
            Err(ExitCode::FAILURE)
        }
    }
}

impl ResultsArgs {
    /// A results file with the default column names and no condition metadata file.
    pub(super) fn new(results: PathBuf) -> Self {
        let c = ResultColumns::default();
        ResultsArgs {
            results,
            unit_col: c.unit,
            condition_col: c.condition,
            score_col: c.score,
            pair_col: c.pair,
            replicate_col: c.replicate,
            cluster_col: None,
            stratum_col: c.stratum,
            weight_col: c.weight,
            condition_meta: None,
        }
    }

    fn columns(&self) -> ResultColumns {
        ResultColumns {
            unit: self.unit_col.clone(),
            condition: self.condition_col.clone(),
            score: self.score_col.clone(),
            pair: self.pair_col.clone(),
            replicate: self.replicate_col.clone(),
            cluster: self.cluster_col.clone().unwrap_or_else(|| ResultColumns::default().cluster),
            stratum: self.stratum_col.clone(),
            weight: self.weight_col.clone(),
        }
    }
}

pub(super) struct Loaded {
    data: Data,
    meta: Vec<ConditionMeta>,
}

fn load(input: &ResultsArgs) -> Result<Loaded, ExitCode> {
    let (table, text) = read_table(&input.results)?;
    let name = input.results.display().to_string();
    let cols = input.columns();
    let located = read_results(&table, &cols, input.cluster_col.is_some()).map_err(|d| {
        print_diagnostics(&name, Some(&text), &d);
        ExitCode::FAILURE
    })?;
    let (lines, rows): (Vec<usize>, Vec<ResultRow>) = located.into_iter().map(|l| (l.line, l.row)).unzip();
    let data = gather(&rows).map_err(|e| {
        let line = lines.get(e.row).copied().unwrap_or(1);
        print_diagnostics(&name, Some(&text), &Diagnostics(vec![Diagnostic::error(Pos { line, column: 1, index: 0 }, e.message)]));
        ExitCode::FAILURE
    })?;
    let file = input.condition_meta.as_deref().map(read_meta_table).transpose()?;
    let meta = condition_meta(taxonomy(), &data.conditions, &table, &cols.condition, file.as_ref()).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::FAILURE
    })?;
    Ok(Loaded { data, meta })
}

/// A condition metadata file (`--condition-meta`): a table with a `condition` column.
fn read_meta_table(path: &Path) -> Result<Tabular, ExitCode> {
    let (table, text) = read_table(path)?;
    if table.column("condition").is_none() {
        let d = Diagnostic::error(Pos { line: 1, column: 1, index: 0 }, "no `condition` column")
            .expected("columns condition, model, grader, unit_source, relaxes, proxy");
        print_diagnostics(&path.display().to_string(), Some(&text), &Diagnostics(vec![d]));
        return Err(ExitCode::FAILURE);
    }
    Ok(table)
}

/// The bootstrap asked for; without `--bootstrap`, the cluster scheme when a cluster column is
/// named.
fn bootstrap_spec(boot: &BootstrapArgs, clustered: bool) -> BootstrapSpec {
    BootstrapSpec {
        scheme: boot.bootstrap.unwrap_or(if clustered { Scheme::Cluster } else { Scheme::Stratified }),
        resamples: boot.resamples.max(100),
        seed: boot.seed,
        interval: boot.interval,
        confidence: boot.confidence,
        ..BootstrapSpec::default()
    }
}

fn run(loaded: &Loaded, spec: &DecomposeSpec) -> Result<Decomposition> {
    run_decompose(&loaded.data, spec).map_err(|e| miette!("{e}"))
}

/// Reads a results file and decomposes it: the loaded data, the spec used, and the result.
/// A file problem has been printed when the inner result is an exit code.
pub(super) fn decomposition(
    input: &ResultsArgs,
    path: &[String],
    reference: Option<&str>,
    weights: Weights,
    case_mix: Option<&Path>,
    shapley: Option<Vec<String>>,
    bootstrap: BootstrapSpec,
) -> Result<Result<(Loaded, DecomposeSpec, Decomposition), ExitCode>> {
    let loaded = match load(input) {
        Ok(l) => l,
        Err(code) => return Ok(Err(code)),
    };
    let mix = match case_mix {
        Some(p) => match load_profile(p) {
            Ok((profile, _)) if !profile.case_mix.is_empty() => Some(Weights::CaseMix(profile.case_mix.into_iter().collect())),
            Ok(_) => return Err(miette!("{} has no `case_mix`", p.display())),
            Err(e) => return Ok(Err(super::fail(e))),
        },
        None => None,
    };
    let chosen = match weights {
        Weights::CaseMix(_) => mix.clone().ok_or_else(|| miette!("--weights case-mix needs --case-mix PROFILE"))?,
        w => w,
    };
    let spec = DecomposeSpec {
        reference: reference.map(str::to_string),
        weights: chosen,
        bootstrap,
        shapley,
        standardise_with: mix.unwrap_or(Weights::Equal),
        ..DecomposeSpec::new(path.to_vec(), loaded.meta.clone(), taxonomy().outcome_groups())
    };
    let d = run(&loaded, &spec)?;
    Ok(Ok((loaded, spec, d)))
}

/// The uptake table of MODEL_CONDITION,PERSON_CONDITION: the same units graded under both.
pub(super) fn uptake_table(loaded: &Loaded, pair: &[String], confidence: f64) -> Result<Uptake> {
    let [m, p] = pair else { return Err(miette!("--uptake takes MODEL_CONDITION,PERSON_CONDITION")) };
    uptake_between(&loaded.data, m, p, confidence).map_err(|e| miette!("{e}"))
}

#[allow(clippy::too_many_arguments)]
pub fn decompose(
    input: &ResultsArgs,
    path: &[String],
    reference: Option<&str>,
    weights: Weights,
    case_mix: Option<&Path>,
    shapley: Option<Vec<String>>,
    uptake: Option<Vec<String>>,
    boot: &BootstrapArgs,
    format: TableFormat,
    chart: Option<&Path>,
) -> Result<ExitCode> {
    let bootstrap = bootstrap_spec(boot, input.cluster_col.is_some());
    let (loaded, spec, d) = match decomposition(input, path, reference, weights, case_mix, shapley, bootstrap)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let up = uptake.map(|pair| uptake_table(&loaded, &pair, spec.bootstrap.confidence)).transpose()?;
    match format {
        TableFormat::Table => print!("{}", text(&d, up.as_ref())),
        TableFormat::Md => print!("{}", markdown(&d, up.as_ref())),
        TableFormat::Json => {
            let mut v = serde_json::to_value(&d).into_diagnostic()?;
            v["uptake"] = serde_json::to_value(&up).into_diagnostic()?;
            println!("{}", serde_json::to_string_pretty(&v).into_diagnostic()?);
        }
    }
    if let Some(chart) = chart {
        write_output(Some(chart), &waterfall_svg(&d))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn gate(
    input: &ResultsArgs,
    deployment: &Path,
    card: Option<&Path>,
    path: &[String],
    boot: &BootstrapArgs,
    format: TableFormat,
    fail_on: Option<GateFailOn>,
) -> Result<ExitCode> {
    let profile = match load_profile(deployment) {
        Ok((p, _)) => p,
        Err(e) => return Ok(super::fail(e)),
    };
    let card = match card.map(load_card).transpose() {
        Ok(c) => c.map(|(c, _)| c),
        Err(e) => return Ok(super::fail(e)),
    };
    let loaded = match load(input) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let spec = DecomposeSpec {
        bootstrap: bootstrap_spec(boot, input.cluster_col.is_some()),
        ..DecomposeSpec::new(path.to_vec(), loaded.meta.clone(), taxonomy().outcome_groups())
    };
    let d = run(&loaded, &spec)?;
    let tolerances: Vec<(String, f64)> = profile.groups.iter().filter_map(|(g, s)| s.tolerance.map(|t| (g.clone(), t))).collect();
    let cmp = card.as_ref().map(|c| benchcards_assess::compare(taxonomy(), c, &profile));
    let rows = readiness(&profile, cmp.as_ref(), &study::group_gates(&d, &tolerances));
    let any_fail = rows.iter().any(|r| r.run_fails());
    match format {
        TableFormat::Json => {
            let value = json!({"deployment": {"id": profile.id}, "card": card.as_ref().map(|c| &c.id), "estimand": d.estimand, "gates": rows, "warnings": d.warnings});
            println!("{}", serde_json::to_string_pretty(&value).into_diagnostic()?)
        }
        _ => {
            let t = readiness_table(
                &format!("Gates for `{}` (pass: the whole interval of the drop is below the tolerance)", profile.id),
                &rows,
                false,
            );
            let out = if format == TableFormat::Md { t.to_markdown() } else { t.to_text() };
            println!("{out}");
            let sources = published_sources(&rows);
            if !sources.is_empty() {
                println!("Published figures from: {}.", sources.join("; "));
            }
            println!("Estimand: {}", d.estimand.statement);
        }
    }
    if fail_on == Some(GateFailOn::GateFail) && any_fail {
        eprintln!("failing: a drop is above its tolerance (--fail-on gate-fail)");
        return Ok(ExitCode::from(FAIL_ON_EXIT));
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
pub fn power(
    design: PowerDesign,
    p1: Option<f64>,
    p2: Option<f64>,
    p10: Option<f64>,
    p01: Option<f64>,
    margin: Option<f64>,
    alpha: f64,
    target: Option<f64>,
    n: Option<f64>,
    cluster_size: Option<f64>,
    icc: Option<f64>,
    format: TableFormat,
) -> Result<ExitCode> {
    let need = |v: Option<f64>, flag: &str| {
        v.filter(|x| x.is_finite() && (0.0..=1.0).contains(x))
            .ok_or_else(|| miette!("this design needs {flag} (a proportion between 0 and 1)"))
    };
    let solve = match (target, n) {
        (Some(power), None) => Solve::N { power },
        (None, Some(n)) => Solve::Power { n },
        _ => return Err(miette!("give either --power (to solve for n) or --n (to solve for power)")),
    };
    let deff = match (cluster_size, icc) {
        (Some(m), Some(r)) => Some(study::design_effect(m, r)),
        (None, None) => None,
        _ => return Err(miette!("the design effect needs both --cluster-size and --icc")),
    };
    let (p, margin) = match design {
        PowerDesign::Independent => ([need(p1, "--p1")?, need(p2, "--p2")?], 0.0),
        PowerDesign::Paired => ([need(p10, "--p10")?, need(p01, "--p01")?], 0.0),
        PowerDesign::Noninferiority => {
            ([need(p1, "--p1")?, need(p2, "--p2")?], margin.ok_or_else(|| miette!("non-inferiority needs --margin"))?)
        }
    };
    let r = power_analysis(design, p, margin, alpha, solve, deff);
    let mut facts: Vec<(String, String)> = Vec::new();
    if let Some(h) = r.cohens_h {
        facts.push(("Cohen's h".into(), format!("{h:.6}")));
    }
    if design == PowerDesign::Noninferiority {
        facts.push(("test".into(), format!("one-sided at α = {alpha}: the new arm is not worse than the reference by more than {margin}")));
    }
    match format {
        TableFormat::Json => {
            let mut value = serde_json::to_value(&r).into_diagnostic()?;
            value["details"] = facts.iter().map(|(k, v)| json!({k: v})).collect();
            println!("{}", serde_json::to_string_pretty(&value).into_diagnostic()?)
        }
        _ => {
            let mut t = Table::new(&["Quantity", "Value"]);
            t.row(vec!["alpha (two-sided unless stated)".into(), format!("{alpha}")]);
            t.row(vec!["power".into(), format!("{:.4}", r.power)]);
            t.row(vec![r.unit.into(), format!("{:.2} (use {})", r.n, r.n_rounded_up)]);
            if let (Some(d), Some(c)) = (r.design_effect, r.n_with_design_effect) {
                t.row(vec!["design effect".into(), format!("{d:.3}")]);
                t.row(vec![format!("{} with the design effect", r.unit), format!("{c}")]);
            }
            for (k, v) in facts {
                t.row(vec![k, v]);
            }
            println!("{}", if format == TableFormat::Md { t.to_markdown() } else { t.to_text() });
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn analyze(
    data: &Path,
    control: &str,
    cols: [&String; 4],
    simulated: Option<&Path>,
    simulated_condition: Option<&str>,
    confidence: f64,
    format: TableFormat,
) -> Result<ExitCode> {
    const NOTE: &str = "rows are treated as independent; when participants answer several scenarios, use `decompose --cluster-col participant` for cluster-bootstrap intervals";
    let (table, text) = match read_table(data) {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let name = data.display().to_string();
    let mut idx = Vec::new();
    for (c, flag) in cols.iter().zip(["--participant-col", "--arm-col", "--scenario-col", "--score-col"]) {
        match table.require(c, Some(flag)) {
            Ok(i) => idx.push(i),
            Err(d) => {
                print_diagnostics(&name, Some(&text), &Diagnostics(vec![d]));
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    let mut counts = StudyCounts::default();
    let mut diags = Diagnostics::default();
    for row in &table.rows {
        let get = |i: usize| row.values.get(i).cloned().flatten();
        let (Some(arm), Some(scenario), Some(score)) = (get(idx[1]), get(idx[2]), get(idx[3])) else {
            diags.push(Diagnostic::error(Pos { line: row.line, column: 1, index: 0 }, "a row without arm, scenario or score"));
            continue;
        };
        match score.parse::<f64>() {
            Ok(s) if s == 0.0 || s == 1.0 => counts.add(arm, scenario, s == 1.0),
            _ => diags.push(
                Diagnostic::error(Pos { line: row.line, column: row.columns[idx[3]], index: 0 }, format!("score `{score}` is not 0 or 1"))
                    .expected("a graded score, 0 or 1"),
            ),
        }
    }
    if diags.has_errors() {
        print_diagnostics(&name, Some(&text), &diags);
        return Ok(ExitCode::FAILURE);
    }
    let analysis = counts.analyze(control, confidence).map_err(|e| miette!("{e}"))?;
    // Calibration: simulated per-scenario rates against the model arms' human rates.
    let calib = match simulated {
        Some(path) => {
            let (st, stext) = match read_table(path) {
                Ok(x) => x,
                Err(code) => return Ok(code),
            };
            let rows: Vec<ResultRow> = match read_results(&st, &ResultColumns::default(), false) {
                Ok(r) => r.into_iter().map(|l| l.row).filter(|r| simulated_condition.is_none_or(|c| r.condition == c)).collect(),
                Err(d) => {
                    print_diagnostics(&path.display().to_string(), Some(&stext), &d);
                    return Ok(ExitCode::FAILURE);
                }
            };
            counts.calibration(control, &rows)
        }
        None => None,
    };
    match format {
        TableFormat::Json => {
            let mut value = serde_json::to_value(&analysis).into_diagnostic()?;
            value["calibration"] = serde_json::to_value(&calib).into_diagnostic()?;
            value["note"] = NOTE.into();
            println!("{}", serde_json::to_string_pretty(&value).into_diagnostic()?)
        }
        _ => {
            let pc = |x: f64| format!("{:.1}%", x * 100.0);
            let interval = |[lo, hi]: [f64; 2]| format!("{} to {}", pc(lo), pc(hi));
            // Counts are numbers with a fraction in the JSON (`12.0`), and shown as there.
            let right_of = |x: f64, n: f64| format!("{x:?} / {n:?}");
            let mut t =
                Table::new(&["Arm", "Right / n", "Rate", "95% CI", "χ² vs control (p)", "OR control / arm (95% CI)"]).titled("Per arm");
            for a in &analysis.arms {
                let (chi, or) = match &a.vs_control {
                    Some(v) => (
                        format!("{:.2} ({:.4})", v.chi2, v.p),
                        format!("{:.2} ({:.2} to {:.2})", v.odds_ratio_control_over_arm, v.or_ci[0], v.or_ci[1]),
                    ),
                    None => ("control".into(), "—".into()),
                };
                t.row(vec![a.arm.clone(), right_of(a.x, a.n), pc(a.rate), interval(a.ci), chi, or]);
            }
            let mut s = Table::new(&["Arm", "Scenario", "Right / n", "Rate", "95% CI"]).titled("Per scenario");
            for r in &analysis.scenarios {
                s.row(vec![r.arm.clone(), r.scenario.clone(), right_of(r.x, r.n), pc(r.rate), interval(r.ci)]);
            }
            let md = format == TableFormat::Md;
            for table in [t, s] {
                println!("{}", if md { table.to_markdown() } else { table.to_text() });
            }
            match &calib {
                Some(c) => println!(
                    "Calibration (a diagnostic, never a correction): human = {:.3} + {:.3} (SE {:.3}) × simulated across {} scenarios; Spearman ρ = {:.3}",
                    c.intercept, c.slope, c.slope_se, c.scenarios, c.spearman
                ),
                None if simulated.is_some() => {
                    println!("Calibration: fewer than 3 scenarios in common, or no spread in the simulated rates")
                }
                None => {}
            }
            println!("Note: {NOTE}.");
        }
    }
    Ok(ExitCode::SUCCESS)
}
