//! The evaluation's values as the output layer shows them — the one place that sees both
//! benchcards-eval and benchcards-report, shared by the command line and the web UI. A run as a
//! report shows it, read from its store (the plan's card and profile when their files can be
//! read, the graded results decomposed along the plan's conditions, samples and failures, the
//! transcripts, what identifies the run; the store is only read), and the tables of a dry run,
//! a run's samples and a log measurement.
use benchcards_core::Plan;
use benchcards_core::{load_card, load_profile, taxonomy};
use benchcards_eval::measure::{Figure, Measurement};
use benchcards_eval::results::{decompose_results, decomposition_path, graded_results};
use benchcards_eval::session::{Estimate, Executed};
use benchcards_eval::store::{SampleRow, Store};
use benchcards_eval::view::{stored_plan, tally};
use benchcards_report::Table;
use benchcards_report::readiness::{Inputs, Transcript};
use std::path::Path;

/// Everything a report shows of one run. `store_label` names the store in the provenance.
pub fn run_inputs(store: &Store, store_label: &str, run: &str, transcripts: bool) -> Result<Inputs, String> {
    let t = taxonomy();
    let (hash, plan) = stored_plan(store, run)?;
    let mut inputs = Inputs::default();
    match load_card(Path::new(&plan.card)) {
        Ok((c, _)) => inputs.card = Some(c),
        Err(_) => inputs.notes.push(format!("the plan's card {} could not be read: no card or readiness section", plan.card)),
    }
    match load_profile(Path::new(&plan.deployment)) {
        Ok((p, _)) => inputs.profile = Some(p),
        Err(_) => inputs.notes.push(format!("the plan's deployment {} could not be read: no readiness section", plan.deployment)),
    }
    let grader = plan.graders.first().map(benchcards_core::GraderSpec::name).ok_or("the plan has no grader")?;
    let (rows, _) = graded_results(store, run, &plan, Some(&grader), false)?;
    let (path, reference) = decomposition_path(&plan, &rows);
    if path.len() < 2 {
        inputs.notes.push(format!("the run has graded results under {} condition(s): a decomposition needs two", path.len()));
    } else {
        match decompose_results(&rows, &path, reference.as_deref(), t) {
            Ok(d) => inputs.decomposition = Some(d),
            Err(e) => inputs.notes.push(format!("no decomposition of this run's results: {e}")),
        }
    }
    let samples = store.samples(run).map_err(|e| e.to_string())?;
    inputs.samples.push(samples_table(&samples, &plan));
    inputs.samples.extend(failures_table(&store.failures(run).map_err(|e| e.to_string())?));
    if transcripts {
        let mut grades: std::collections::HashMap<String, Vec<(String, f64)>> = Default::default();
        for (key, g, score, _) in store.grades(run).map_err(|e| e.to_string())? {
            grades.entry(key).or_default().push((g, score));
        }
        for s in samples {
            let mut messages: Vec<(String, String)> = serde_json::from_str::<Vec<serde_json::Value>>(&s.transcript)
                .unwrap_or_default()
                .iter()
                .filter_map(|m| Some((m.get("role")?.as_str()?.to_string(), m.get("content")?.as_str()?.to_string())))
                .filter(|(role, _)| role != "system")
                .collect();
            if messages.is_empty() {
                messages.push(("answer".into(), s.response.clone().unwrap_or_else(|| s.error.clone().unwrap_or_default())));
            }
            let mine = grades.get(&s.key).cloned().unwrap_or_default();
            let shown: Vec<String> = mine.iter().map(|(g, v)| format!("{g} {v}")).collect();
            let outcome = if s.status == "done" { shown.join(", ") } else { format!("failed: {}", s.error.clone().unwrap_or_default()) };
            inputs.transcripts.push(Transcript {
                summary: format!("{} · {} · {} · {outcome}", s.unit, s.label, s.model),
                passed: mine.iter().find(|(g, _)| *g == grader).map(|(_, v)| *v >= 0.5),
                messages,
            });
        }
    }
    let models: Vec<String> = plan
        .models
        .iter()
        .map(|m| {
            format!(
                "`{}` ({:?}{}), sampling {}",
                m.id,
                m.provider,
                m.model.as_ref().map_or(String::new(), |n| format!(", {n}")),
                serde_json::to_string(&m.sampling).unwrap_or_default()
            )
        })
        .collect();
    inputs.demo_models = plan.models.iter().filter(|m| m.is_demo()).map(|m| m.id.clone()).collect();
    let boot = benchcards_stats::bootstrap::BootstrapSpec::default();
    inputs.provenance = vec![
        format!("run `{run}` of plan `{}` (hash {hash}), store {store_label}", plan.id),
        format!("models: {}", models.join("; ")),
        format!("graded by `{grader}`; epochs {}", plan.epochs),
        format!("bootstrap: {} resamples, seed {}", boot.resamples, boot.seed),
    ];
    Ok(inputs)
}

/// A run's samples summed per condition and model (`runs show`, and a run's report).
pub fn samples_table(samples: &[SampleRow], plan: &Plan) -> Table {
    let columns = ["Condition", "Model", "Done", "Failed", "Tokens", "Requests sent", "Mean latency (ms)", "Cost (USD, plan prices)"];
    let mut t = Table::new(&columns);
    for c in tally(samples, plan) {
        t.row(vec![
            c.condition.clone(),
            c.model.clone(),
            c.done.to_string(),
            c.failed.to_string(),
            c.tokens.to_string(),
            c.requests_sent.to_string(),
            format!("{:.0}", c.mean_latency_ms()),
            format!("{:.4}", c.cost_usd),
        ]);
    }
    t
}

/// Each grader's mean score per condition and model, over units (a unit's epochs averaged
/// first), with its 95% interval (Wilson when every unit scores 0 or 1, else Student-t) and n.
/// A rubric's per-tag scores are graders of their own (`rubric:JUDGE#axis:accuracy`).
pub fn scores_table(samples: &[SampleRow], grades: &[(String, String, f64, String)]) -> Table {
    use benchcards_stats::proportion::{CONFIDENCE, wilson};
    use std::collections::BTreeMap;
    let by_key: std::collections::HashMap<&str, &SampleRow> = samples.iter().map(|s| (s.key.as_str(), s)).collect();
    let mut units: BTreeMap<(&str, &str, &str), BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
    for (key, grader, score, _) in grades {
        if let Some(s) = by_key.get(key.as_str()) {
            units
                .entry((s.label.as_str(), s.model.as_str(), grader.as_str()))
                .or_default()
                .entry(s.unit.as_str())
                .or_default()
                .push(*score);
        }
    }
    let mut t = Table::new(&["Condition", "Model", "Grader", "Mean score", "95% CI", "n (units)"]).titled("Scores");
    for ((label, model, grader), per_unit) in units {
        let means: Vec<f64> = per_unit.values().map(|v| v.iter().sum::<f64>() / v.len() as f64).collect();
        let n = means.len();
        let mean = means.iter().sum::<f64>() / n as f64;
        let ci = if means.iter().all(|m| *m == 0.0 || *m == 1.0) {
            Some(wilson(mean * n as f64, n as f64, CONFIDENCE))
        } else {
            benchcards_stats::summary::mean_t(&means, CONFIDENCE).and_then(|m| m.ci)
        };
        let ci = ci.map_or_else(|| "needs two units".into(), |[lo, hi]| format!("{lo:.3} to {hi:.3}"));
        t.row(vec![label.into(), model.into(), grader.into(), format!("{mean:.3}"), ci, n.to_string()]);
    }
    t
}

/// A meta-evaluation's tables: each judge's (and the panel's) agreement with people and Cohen's
/// kappa, with their intervals and n; then the rows where the panel and the people differ.
pub fn meta_eval_tables(m: &benchcards_eval::metaeval::MetaEval) -> Vec<Table> {
    let range = |[lo, hi]: [f64; 2]| format!("{lo:.3} to {hi:.3}");
    let ties = if m.ties > 0 { format!("; {} left out where people tied", m.ties) } else { String::new() };
    let mut t = Table::new(&["Judge", "Agreement", "95% CI", "Cohen's kappa", "95% CI", "Judge: met", "People: met", "n (rows)"])
        .titled(format!("`{}` against people's labels ({} rows{ties})", m.grader, m.rows));
    for j in &m.judges {
        let a = &j.agreement;
        let (kappa, kappa_ci) =
            a.kappa.map_or(("undefined".into(), "one category only".into()), |k| (format!("{:.3}", k.kappa), range(k.ci)));
        t.row(vec![
            j.judge.clone(),
            format!("{:.3}", a.agreement.p),
            range(a.agreement.ci),
            kappa,
            kappa_ci,
            j.judge_met.to_string(),
            j.people_met.to_string(),
            a.agreement.n.to_string(),
        ]);
    }
    let mut d = Table::new(&["Row", "Criterion", "People", "Panel"]).titled("Where the judges and the people differ");
    for x in &m.disagreements {
        let says = |b: bool| if b { "met" } else { "not met" }.to_string();
        d.row(vec![x.id.clone(), x.criterion.clone(), says(x.people), says(x.panel)]);
    }
    if m.disagreements.is_empty() { vec![t] } else { vec![t, d] }
}

/// The dry run's table.
pub fn estimate_table(e: &Estimate) -> Table {
    let mut t =
        Table::new(&["Condition", "Model", "Samples", "Requests", "Prompt tokens (est.)", "Completion tokens (max)", "Cost (USD, est.)"])
            .titled("Dry run: nothing is sent");
    for r in e.rows.iter().chain([&e.total]) {
        t.row(vec![
            r.label.clone(),
            r.model.clone(),
            r.samples.map(|n| n.to_string()).unwrap_or_default(),
            r.requests.to_string(),
            r.prompt_tokens.to_string(),
            r.completion_tokens.to_string(),
            r.cost_usd.map_or_else(|| "no prices in the plan".into(), |c| format!("{c:.4}")),
        ]);
    }
    t
}

/// A run's failed attempts, the first 50 (none when nothing failed).
pub fn failures_table(failures: &[(String, i64, String)]) -> Option<Table> {
    if failures.is_empty() {
        return None;
    }
    let mut f = Table::new(&["Sample", "Attempt", "Reason"]).titled(format!("{} failed attempt(s)", failures.len()));
    for (k, a, r) in failures.iter().take(50) {
        f.row(vec![k.clone(), a.to_string(), r.clone()]);
    }
    Some(f)
}

/// Shares (proportions and mean shares) show as percentages.
fn is_share(f: &Figure) -> bool {
    f.method.starts_with("proportion") || f.method.starts_with("mean share")
}

fn figure_value(f: &Figure) -> String {
    if is_share(f) { format!("{:.1}%", f.value * 100.0) } else { format!("{:.2}", f.value) }
}

fn figure_ci(f: &Figure) -> String {
    match f.ci {
        Some([lo, hi]) if is_share(f) => format!("{:.1}% to {:.1}%", lo * 100.0, hi * 100.0),
        Some([lo, hi]) => format!("{lo:.2} to {hi:.2}"),
        None => "—".into(),
    }
}

/// The figures (each with its interval and n) and the profile values they support.
pub fn measurement_tables(m: &Measurement, title: &str) -> (Table, Table) {
    let mut figures = Table::new(&["Topic", "Figure", "Value", "95% CI", "n", "Method"]).titled(title);
    for f in &m.figures {
        figures.row(vec![f.topic.into(), f.label.clone(), figure_value(f), figure_ci(f), f.n.to_string(), f.method.into()]);
    }
    let mut dims = Table::new(&["Dimension", "Measured value", "Basis"]).titled("For the deployment profile (status: measured)");
    for d in &m.measured {
        dims.row(vec![d.dimension.into(), d.value.clone(), d.basis.clone()]);
    }
    (figures, dims)
}

/// `measure --compare`: each figure of the simulated conversations against the real ones, the
/// difference with its interval, the tolerance and the verdict.
pub fn comparison_table(c: &[benchcards_eval::measure::Comparison], simulated: &str, real: &str) -> Table {
    use benchcards_eval::measure::Verdict;
    let columns = ["Figure", "Simulated", "Real", "Difference", "95% CI", "Tolerance", "Verdict", "n (simulated / real)"];
    let mut t = Table::new(&columns).titled(format!("Simulated ({simulated}) against real ({real}) conversations"));
    for x in c {
        let verdict = match x.verdict {
            Verdict::Within => "within tolerance",
            Verdict::Outside => "outside tolerance",
            Verdict::Undetermined => "undetermined: the interval crosses the tolerance",
        };
        t.row(vec![
            x.label.clone(),
            format!("{:.2}", x.simulated),
            format!("{:.2}", x.real),
            format!("{:+.2}", x.difference),
            format!("{:.2} to {:.2}", x.ci[0], x.ci[1]),
            format!("±{}", x.tolerance),
            verdict.into(),
            format!("{} / {}", x.n_simulated, x.n_real),
        ]);
    }
    t
}

/// `benchcards fidelity`: each check's pass rate with its interval and n, then every flag.
pub fn fidelity_tables(f: &benchcards_eval::fidelity::LogFidelity) -> Vec<Table> {
    let title = format!("Fidelity of simulated conversations ({} left out: no item of the dataset)", f.unlinked);
    let mut t = Table::new(&["Check", "Passed", "95% CI", "n (conversations)"]).titled(title);
    for (check, r) in &f.checks {
        t.row(vec![check.clone(), format!("{:.3}", r.p), format!("{:.3} to {:.3}", r.ci[0], r.ci[1]), r.n.to_string()]);
    }
    let mut flags = Table::new(&["Conversation", "Check", "Why"]).titled("Flagged");
    for (id, check, why) in &f.flagged {
        flags.row(vec![id.clone(), check.clone(), why.clone()]);
    }
    if f.flagged.is_empty() { vec![t] } else { vec![t, flags] }
}

/// What `run` says after a run, line by line: the judge's work, the summary, the cost at the
/// plan's prices (when it has any), a concurrency lowered by rate limits, and how to retry what
/// failed. `plan_path` is the plan as the user named it.
pub fn execution_lines(run_id: &str, x: &Executed, plan: &Plan, concurrency: usize, plan_path: &str) -> Vec<String> {
    let s = &x.summary;
    let mut out = Vec::new();
    if x.judged + x.unjudged > 0 {
        out.push(format!("judge: {} sample(s) graded, {} request(s) sent", x.judged, x.judge_requests));
    }
    if x.unjudged > 0 {
        out.push(format!(
            "warning: the judge could not grade {} sample(s) (see `benchcards runs show {run_id}`); `--resume {run_id}` asks it again",
            x.unjudged
        ));
    }
    out.push(format!(
        "run `{run_id}`: {} done ({} from cache), {} failed; {} request(s) sent, {} retried; {} prompt + {} completion tokens; {:.1} s; {} grade(s)",
        s.done,
        s.cached,
        s.failed,
        s.requests_sent,
        s.retries,
        s.prompt_tokens,
        s.completion_tokens,
        s.elapsed.as_secs_f64(),
        x.graded
    ));
    if plan.models.iter().any(|m| m.pricing.is_some()) {
        out.push(format!(
            "cost: {:.4} USD at the plan's prices for the whole run (requests answered from the cache were not paid again)",
            x.cost_usd
        ));
    }
    if s.final_concurrency < concurrency {
        out.push(format!(
            "rate limited: concurrency lowered from {concurrency} to {} (it grows back one step per window of successes)",
            s.final_concurrency
        ));
    }
    if s.failed > 0 || x.unjudged > 0 {
        out.push(format!(
            "some samples failed or were not judged (see `benchcards runs show {run_id}`); `benchcards run {plan_path} --resume {run_id}` retries them"
        ));
    }
    out
}
