//! Statistics commands: decompose, gate, study power, study analyze.

use super::write_output;
use crate::cli::{
    BootstrapArgs, BootstrapScheme, FAIL_ON_EXIT, GateFailOn, IntervalKind, PowerDesign, ResultsArgs, TableFormat, WeightScheme,
};
use crate::diagnostics::print_diagnostics;
use benchcards_assess::readiness::readiness;
use benchcards_core::document::read_data;
use benchcards_core::results::{ResultColumns, ResultRow, Tabular, read_results, read_tabular, split_relaxes};
use benchcards_core::{Diagnostic, Diagnostics, Pos, load_card, load_profile, taxonomy};
use benchcards_report::Table;
use benchcards_report::decompose::{markdown, text, waterfall_svg};
use benchcards_report::readiness::{published_sources, readiness_table};
use benchcards_stats::bootstrap::{BootstrapSpec, IntervalMethod, Scheme, available_threads};
use benchcards_stats::data::{Data, Observation, Weights, gather};
use benchcards_stats::decompose::{ConditionMeta, DecomposeSpec, Decomposition, decompose as run_decompose};
use benchcards_stats::proportion::{odds_ratio, rate, two_proportion_test};
use benchcards_stats::study::{self, calibration, uptake as run_uptake};
use miette::{IntoDiagnostic, Result, miette};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
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

pub(super) struct Loaded {
    data: Data,
    meta: Vec<ConditionMeta>,
}

fn load(input: &ResultsArgs) -> Result<Loaded, ExitCode> {
    let (table, text) = read_table(&input.results)?;
    let name = input.results.display().to_string();
    let cols = ResultColumns {
        unit: input.unit_col.clone(),
        condition: input.condition_col.clone(),
        score: input.score_col.clone(),
        pair: input.pair_col.clone(),
        replicate: input.replicate_col.clone(),
        cluster: input.cluster_col.clone().unwrap_or_else(|| "cluster".into()),
        stratum: input.stratum_col.clone(),
        weight: input.weight_col.clone(),
    };
    let rows = read_results(&table, &cols, input.cluster_col.is_some()).map_err(|d| {
        print_diagnostics(&name, Some(&text), &d);
        ExitCode::FAILURE
    })?;
    let observations: Vec<Observation> = rows.iter().map(observation).collect();
    let data = gather(&observations).map_err(|e| {
        let line = rows.get(e.row).map_or(1, |r| r.line);
        print_diagnostics(&name, Some(&text), &Diagnostics(vec![Diagnostic::error(Pos { line, column: 1, index: 0 }, e.message)]));
        ExitCode::FAILURE
    })?;
    let meta = condition_meta(&data, &table, &cols, input.condition_meta.as_deref())?;
    Ok(Loaded { data, meta })
}

fn observation(r: &ResultRow) -> Observation {
    Observation {
        unit: r.unit.clone(),
        condition: r.condition.clone(),
        score: r.score,
        pair: r.pair.clone(),
        replicate: r.replicate.clone(),
        cluster: r.cluster.clone(),
        stratum: r.stratum.clone(),
        weight: r.weight,
    }
}

/// Metadata per condition: a `--condition-meta` file first, then the results file's own
/// columns, then the taxonomy's definition of a condition with the same id.
fn condition_meta(data: &Data, results: &Tabular, cols: &ResultColumns, file: Option<&Path>) -> Result<Vec<ConditionMeta>, ExitCode> {
    let t = taxonomy();
    let mut meta: Vec<ConditionMeta> = data
        .conditions
        .iter()
        .map(|c| match t.condition(c) {
            Some(def) => ConditionMeta { relaxes: def.relaxed_groups(), proxy: def.proxy, ..Default::default() },
            None => ConditionMeta::default(),
        })
        .collect();
    let mut apply = |table: &Tabular, condition_col: &str| {
        let col = |n: &str| table.column(n);
        let Some(ci) = col(condition_col) else { return };
        for row in &table.rows {
            let get = |i: Option<usize>| i.and_then(|i| row.values.get(i).cloned().flatten());
            let Some(c) = get(Some(ci)).and_then(|c| data.condition_index(&c)) else { continue };
            let m = &mut meta[c];
            if let Some(v) = get(col("model")) {
                m.model = Some(v);
            }
            if let Some(v) = get(col("grader")) {
                m.grader = Some(v);
            }
            if let Some(v) = get(col("unit_source")) {
                m.unit_source = Some(v);
            }
            if col("relaxes").is_some() {
                m.relaxes = get(col("relaxes")).map(|v| split_relaxes(&v)).unwrap_or_default();
            }
            if let Some(v) = get(col("proxy")) {
                m.proxy = v == "true" || v == "1";
            }
        }
    };
    if results.column("model").is_some() || results.column("relaxes").is_some() || results.column("grader").is_some() {
        apply(results, &cols.condition);
    }
    if let Some(path) = file {
        let (table, text) = read_table(path)?;
        if table.column("condition").is_none() {
            let d = Diagnostic::error(Pos { line: 1, column: 1, index: 0 }, "no `condition` column")
                .expected("columns condition, model, grader, unit_source, relaxes, proxy");
            print_diagnostics(&path.display().to_string(), Some(&text), &Diagnostics(vec![d]));
            return Err(ExitCode::FAILURE);
        }
        apply(&table, "condition");
    }
    // A relaxed group must be a taxonomy group.
    for (c, m) in meta.iter().enumerate() {
        for g in &m.relaxes {
            if t.group(g).is_none() {
                eprintln!(
                    "error: condition `{}` relaxes unknown group `{g}` (groups: {})",
                    data.conditions[c],
                    t.groups.iter().map(|g| g.id.as_str()).collect::<Vec<_>>().join(", ")
                );
                return Err(ExitCode::FAILURE);
            }
        }
    }
    Ok(meta)
}

fn bootstrap_spec(boot: &BootstrapArgs, input: &ResultsArgs) -> BootstrapSpec {
    let scheme = match boot.bootstrap {
        Some(BootstrapScheme::Stratified) => Scheme::Stratified,
        Some(BootstrapScheme::Cluster) => Scheme::Cluster,
        Some(BootstrapScheme::TwoStage) => Scheme::TwoStage,
        None if input.cluster_col.is_some() => Scheme::Cluster,
        None => Scheme::Stratified,
    };
    BootstrapSpec {
        scheme,
        resamples: boot.resamples.max(100),
        seed: boot.seed,
        interval: if boot.interval == IntervalKind::Bca { IntervalMethod::Bca } else { IntervalMethod::Percentile },
        confidence: boot.confidence,
        threads: available_threads(),
    }
}

fn run(loaded: &Loaded, spec: &DecomposeSpec) -> Result<Decomposition> {
    run_decompose(&loaded.data, spec).map_err(|e| miette!("{e}"))
}

/// `decompose`'s own defaults (columns, bootstrap) for a results file, for the commands that
/// decompose without asking (demo, report).
pub(super) struct Defaults {
    pub input: ResultsArgs,
    pub boot: BootstrapArgs,
}

pub(super) fn defaults(results: &Path) -> Result<Defaults> {
    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        input: ResultsArgs,
        #[command(flatten)]
        boot: BootstrapArgs,
    }
    let a = <Args as clap::Parser>::try_parse_from(["decompose".into(), results.display().to_string()]).into_diagnostic()?;
    Ok(Defaults { input: a.input, boot: a.boot })
}

/// Reads a results file and decomposes it: the loaded data, the spec used, and the result.
/// A file problem has been printed when the inner result is an exit code.
pub(super) fn decomposition(
    input: &ResultsArgs,
    path: &[String],
    reference: Option<&str>,
    weights: WeightScheme,
    case_mix: Option<&Path>,
    shapley: Option<Vec<String>>,
    boot: &BootstrapArgs,
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
        WeightScheme::Pooled => Weights::Pooled,
        WeightScheme::Equal => Weights::Equal,
        WeightScheme::CaseMix => mix.clone().ok_or_else(|| miette!("--weights case-mix needs --case-mix PROFILE"))?,
    };
    let spec = DecomposeSpec {
        reference: reference.map(str::to_string),
        weights: chosen,
        bootstrap: bootstrap_spec(boot, input),
        shapley,
        standardise_with: mix.unwrap_or(Weights::Equal),
        ..DecomposeSpec::new(path.to_vec(), loaded.meta.clone(), taxonomy().outcome_groups())
    };
    let d = run(&loaded, &spec)?;
    Ok(Ok((loaded, spec, d)))
}

/// The uptake table of MODEL_CONDITION,PERSON_CONDITION: the same units graded under both.
pub(super) fn uptake_table(loaded: &Loaded, pair: &[String], confidence: f64) -> Result<benchcards_stats::study::Uptake> {
    let [m, p] = pair else { return Err(miette!("--uptake takes MODEL_CONDITION,PERSON_CONDITION")) };
    let data = &loaded.data;
    let (mi, pi) = (
        data.condition_index(m).ok_or_else(|| miette!("no condition `{m}`"))?,
        data.condition_index(p).ok_or_else(|| miette!("no condition `{p}`"))?,
    );
    let k = data.n_conditions();
    let pairs: Vec<(bool, bool)> = (0..data.n_units())
        .filter(|u| data.has[u * k + mi] > 0.0 && data.has[u * k + pi] > 0.0)
        .map(|u| (data.score[u * k + mi] >= 0.5, data.score[u * k + pi] >= 0.5))
        .collect();
    if pairs.is_empty() {
        return Err(miette!("no unit has both `{m}` and `{p}`: the uptake table needs the same units graded under both"));
    }
    if !data.binary {
        return Err(miette!("the uptake table needs right/wrong (0/1) scores"));
    }
    Ok(run_uptake(&pairs, confidence))
}

#[allow(clippy::too_many_arguments)]
pub fn decompose(
    input: &ResultsArgs,
    path: &[String],
    reference: Option<&str>,
    weights: WeightScheme,
    case_mix: Option<&Path>,
    shapley: Option<Vec<String>>,
    uptake: Option<Vec<String>>,
    boot: &BootstrapArgs,
    format: TableFormat,
    chart: Option<&Path>,
) -> Result<ExitCode> {
    let (loaded, spec, d) = match decomposition(input, path, reference, weights, case_mix, shapley, boot)? {
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
        bootstrap: bootstrap_spec(boot, input),
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
    if target.is_some() == n.is_some() {
        return Err(miette!("give either --power (to solve for n) or --n (to solve for power)"));
    }
    let deff = match (cluster_size, icc) {
        (Some(m), Some(r)) => Some(study::design_effect(m, r)),
        (None, None) => None,
        _ => return Err(miette!("the design effect needs both --cluster-size and --icc")),
    };
    let mut facts: Vec<(String, String)> = Vec::new();
    let (label, solved_n, solved_power) = match design {
        PowerDesign::Independent => {
            let (a, b) = (need(p1, "--p1")?, need(p2, "--p2")?);
            let h = study::cohens_h(a, b);
            facts.push(("Cohen's h".into(), format!("{h:.6}")));
            match (target, n) {
                (Some(pw), _) => ("units per group", Some(study::n_independent(h, alpha, pw)), pw),
                (_, Some(n)) => ("units per group", Some(n), study::power_independent(h, n / deff.unwrap_or(1.0), alpha)),
                _ => unreachable!("checked above"),
            }
        }
        PowerDesign::Paired => {
            let (a, b) = (need(p10, "--p10")?, need(p01, "--p01")?);
            match (target, n) {
                (Some(pw), _) => ("pairs", Some(study::n_paired(a, b, alpha, pw)), pw),
                (_, Some(n)) => ("pairs", Some(n), study::power_paired(a, b, n / deff.unwrap_or(1.0), alpha)),
                _ => unreachable!("checked above"),
            }
        }
        PowerDesign::Noninferiority => {
            let (a, b, m) = (need(p1, "--p1")?, need(p2, "--p2")?, margin.ok_or_else(|| miette!("non-inferiority needs --margin"))?);
            facts.push(("test".into(), format!("one-sided at α = {alpha}: the new arm is not worse than the reference by more than {m}")));
            match (target, n) {
                (Some(pw), _) => ("units per group", Some(study::n_noninferiority(a, b, m, alpha, pw)), pw),
                (_, Some(n)) => ("units per group", Some(n), study::power_noninferiority(a, b, m, n / deff.unwrap_or(1.0), alpha)),
                _ => unreachable!("checked above"),
            }
        }
    };
    let exact = solved_n.unwrap_or(f64::NAN);
    let clustered = deff.map(|d| if target.is_some() { exact * d } else { exact });
    let value = json!({
        "design": match design { PowerDesign::Independent => "independent", PowerDesign::Paired => "paired", PowerDesign::Noninferiority => "noninferiority" },
        "alpha": alpha, "power": solved_power, "n": exact, "n_rounded_up": exact.ceil(), "unit": label,
        "design_effect": deff, "n_with_design_effect": clustered.map(f64::ceil),
        "details": facts.iter().map(|(k, v)| json!({k: v})).collect::<Vec<_>>(),
    });
    match format {
        TableFormat::Json => println!("{}", serde_json::to_string_pretty(&value).into_diagnostic()?),
        _ => {
            let mut t = Table::new(&["Quantity", "Value"]);
            t.row(vec!["alpha (two-sided unless stated)".into(), format!("{alpha}")]);
            t.row(vec!["power".into(), format!("{solved_power:.4}")]);
            t.row(vec![label.into(), format!("{exact:.2} (use {})", exact.ceil())]);
            if let (Some(d), Some(c)) = (deff, clustered) {
                t.row(vec!["design effect".into(), format!("{d:.3}")]);
                t.row(vec![format!("{label} with the design effect"), format!("{}", c.ceil())]);
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
    // (arm, scenario) → (right, n)
    let mut cells: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    let mut diags = Diagnostics::default();
    for row in &table.rows {
        let get = |i: usize| row.values.get(i).cloned().flatten();
        let (Some(arm), Some(scenario), Some(score)) = (get(idx[1]), get(idx[2]), get(idx[3])) else {
            diags.push(Diagnostic::error(Pos { line: row.line, column: 1, index: 0 }, "a row without arm, scenario or score"));
            continue;
        };
        match score.parse::<f64>() {
            Ok(s) if s == 0.0 || s == 1.0 => {
                let e = cells.entry((arm, scenario)).or_insert((0.0, 0.0));
                e.0 += s;
                e.1 += 1.0;
            }
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
    let mut arms: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for ((arm, _), (x, n)) in &cells {
        let e = arms.entry(arm.clone()).or_insert((0.0, 0.0));
        e.0 += x;
        e.1 += n;
    }
    let Some(&(cx, cn)) = arms.get(control) else {
        return Err(miette!("no arm `{control}` in the data (arms: {})", arms.keys().cloned().collect::<Vec<_>>().join(", ")));
    };
    let arm_rows: Vec<serde_json::Value> = arms
        .iter()
        .map(|(arm, &(x, n))| {
            let r = rate(x, n, confidence);
            let mut v = json!({"arm": arm, "x": x, "n": n, "rate": r.p, "ci": r.ci, "control": arm == control});
            if arm != control {
                let test = two_proportion_test(x, n, cx, cn);
                let or = odds_ratio(cx, cn, x, n, confidence);
                v["vs_control"] = json!({"chi2": test.chi2, "p": test.chi2_p, "odds_ratio_control_over_arm": or.or, "or_ci": or.ci, "or_corrected": or.corrected,
                    "difference_ci": benchcards_stats::proportion::newcombe_unpaired(x, n, cx, cn, confidence)});
            }
            v
        })
        .collect();
    // Calibration: simulated per-scenario rates against the model arms' human rates.
    let calib = match simulated {
        Some(path) => {
            let (st, stext) = match read_table(path) {
                Ok(x) => x,
                Err(code) => return Ok(code),
            };
            let rows = match read_results(&st, &ResultColumns::default(), false) {
                Ok(r) => r,
                Err(d) => {
                    print_diagnostics(&path.display().to_string(), Some(&stext), &d);
                    return Ok(ExitCode::FAILURE);
                }
            };
            let mut sim: BTreeMap<String, (f64, f64)> = BTreeMap::new();
            for r in rows.iter().filter(|r| simulated_condition.is_none_or(|c| r.condition == c)) {
                let e = sim.entry(r.stratum.clone().unwrap_or_default()).or_insert((0.0, 0.0));
                e.0 += r.score;
                e.1 += 1.0;
            }
            let mut human: BTreeMap<String, (f64, f64)> = BTreeMap::new();
            for ((arm, scenario), (x, n)) in &cells {
                if arm != control {
                    let e = human.entry(scenario.clone()).or_insert((0.0, 0.0));
                    e.0 += x;
                    e.1 += n;
                }
            }
            let common: Vec<&String> = sim.keys().filter(|s| human.contains_key(*s)).collect();
            let xs: Vec<f64> = common.iter().map(|s| sim[*s].0 / sim[*s].1).collect();
            let ys: Vec<f64> = common.iter().map(|s| human[*s].0 / human[*s].1).collect();
            calibration(&xs, &ys)
        }
        None => None,
    };
    let scenario_rows: Vec<serde_json::Value> = cells
        .iter()
        .map(|((arm, scenario), &(x, n))| {
            let r = rate(x, n, confidence);
            json!({"arm": arm, "scenario": scenario, "x": x, "n": n, "rate": r.p, "ci": r.ci})
        })
        .collect();
    let value = json!({"arms": arm_rows, "scenarios": scenario_rows, "calibration": calib,
        "note": "rows are treated as independent; when participants answer several scenarios, use `decompose --cluster-col participant` for cluster-bootstrap intervals"});
    match format {
        TableFormat::Json => println!("{}", serde_json::to_string_pretty(&value).into_diagnostic()?),
        _ => {
            let pc = |x: f64| format!("{:.1}%", x * 100.0);
            let mut t =
                Table::new(&["Arm", "Right / n", "Rate", "95% CI", "χ² vs control (p)", "OR control / arm (95% CI)"]).titled("Per arm");
            for a in &arm_rows {
                let ci = a["ci"]
                    .as_array()
                    .map_or(String::new(), |c| format!("{} to {}", pc(c[0].as_f64().unwrap_or(0.0)), pc(c[1].as_f64().unwrap_or(0.0))));
                let (chi, or) = match a.get("vs_control") {
                    Some(v) => (
                        format!("{:.2} ({:.4})", v["chi2"].as_f64().unwrap_or(f64::NAN), v["p"].as_f64().unwrap_or(f64::NAN)),
                        format!(
                            "{:.2} ({:.2} to {:.2})",
                            v["odds_ratio_control_over_arm"].as_f64().unwrap_or(f64::NAN),
                            v["or_ci"][0].as_f64().unwrap_or(f64::NAN),
                            v["or_ci"][1].as_f64().unwrap_or(f64::NAN)
                        ),
                    ),
                    None => ("control".into(), "—".into()),
                };
                t.row(vec![
                    a["arm"].as_str().unwrap_or("").into(),
                    format!("{} / {}", a["x"], a["n"]),
                    pc(a["rate"].as_f64().unwrap_or(f64::NAN)),
                    ci,
                    chi,
                    or,
                ]);
            }
            let mut s = Table::new(&["Arm", "Scenario", "Right / n", "Rate", "95% CI"]).titled("Per scenario");
            for r in &scenario_rows {
                let ci = r["ci"]
                    .as_array()
                    .map_or(String::new(), |c| format!("{} to {}", pc(c[0].as_f64().unwrap_or(0.0)), pc(c[1].as_f64().unwrap_or(0.0))));
                s.row(vec![
                    r["arm"].as_str().unwrap_or("").into(),
                    r["scenario"].as_str().unwrap_or("").into(),
                    format!("{} / {}", r["x"], r["n"]),
                    pc(r["rate"].as_f64().unwrap_or(f64::NAN)),
                    ci,
                ]);
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
            println!(
                "Note: rows are treated as independent; when participants answer several scenarios, use `decompose --cluster-col participant` for cluster-bootstrap intervals."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
