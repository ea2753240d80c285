//! The gap decomposition: condition scores along a declared path, each step's contribution
//! (score_i − score_{i+1}), subtotals by kind of assumption, the total, an optional reference
//! line, Shapley values when the full factorial exists, per-stratum tables and the warnings a
//! reader needs (composition, confounding, proxies, few clusters). Every figure has an interval
//! and an n, and the estimand is declared.

use crate::bootstrap::{BootstrapSpec, IntervalMethod, Replicates, Scheme, interval, jackknife, resample};
use crate::data::{Data, Weights, scores_from};
use crate::proportion::{Paired, newcombe_paired, newcombe_unpaired, wilson};
use serde::Serialize;
use std::collections::BTreeSet;

/// What is known about one condition: what produced its scores, and which assumptions it
/// relaxes relative to the benchmark as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConditionMeta {
    pub model: Option<String>,
    pub grader: Option<String>,
    pub unit_source: Option<String>,
    /// Assumption groups relaxed relative to the benchmark (empty for the benchmark itself).
    pub relaxes: Vec<String>,
    /// Scored by a simulated person: a proxy, never a measurement of an outcome.
    pub proxy: bool,
}

#[derive(Debug, Clone)]
pub struct DecomposeSpec {
    pub path: Vec<String>,
    pub reference: Option<String>,
    pub weights: Weights,
    pub bootstrap: BootstrapSpec,
    /// Per condition, in the data's condition order.
    pub meta: Vec<ConditionMeta>,
    /// Groups that are outcome assumptions (the rest are task assumptions).
    pub outcome_groups: Vec<String>,
    /// Assumptions for Shapley values, when asked.
    pub shapley: Option<Vec<String>>,
    /// Standardised weights to show beside pooled figures when composition differs.
    pub standardise_with: Weights,
}

impl DecomposeSpec {
    /// The decomposition's defaults, defined once: no reference line, pooled weights (the
    /// paper's convention), the default bootstrap, no Shapley values, and equal stratum weights
    /// for the standardised figures.
    pub fn new(path: Vec<String>, meta: Vec<ConditionMeta>, outcome_groups: Vec<String>) -> Self {
        DecomposeSpec {
            path,
            reference: None,
            weights: Weights::Pooled,
            bootstrap: BootstrapSpec::default(),
            meta,
            outcome_groups,
            shapley: None,
            standardise_with: Weights::Equal,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimand {
    pub weights: String,
    pub bootstrap: Scheme,
    pub interval: IntervalMethod,
    pub resamples: usize,
    pub seed: u64,
    pub confidence: f64,
    pub strata: usize,
    pub clusters: Option<usize>,
    pub units: usize,
    /// Most replicates averaged into one unit's score.
    pub replicates_averaged: usize,
    /// How intervals were computed: analytic (Wilson, Newcombe) or bootstrap.
    pub intervals: String,
    pub statement: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConditionResult {
    pub id: String,
    pub n: usize,
    pub score: f64,
    pub ci: [f64; 2],
    pub proxy: bool,
    pub method: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Task,
    OutcomeMeasured,
    OutcomeProxy,
    Unclassified,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub from: String,
    pub to: String,
    pub assumption: String,
    pub kind: StepKind,
    pub contribution: f64,
    pub ci: [f64; 2],
    /// Units in both conditions (paired) — else the smaller condition's n.
    pub n: usize,
    pub paired: bool,
    /// Metadata that also differs between the two conditions.
    pub confounded: Vec<String>,
    pub method: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub estimate: f64,
    pub ci: [f64; 2],
    pub method: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Subtotals {
    pub task: Option<Figure>,
    /// `None` reads "not measured": no step into real people's decisions exists.
    pub outcome_measured: Option<Figure>,
    pub outcome_proxy: Option<Figure>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShapleyValue {
    pub assumption: String,
    pub value: f64,
    pub ci: [f64; 2],
}

#[derive(Debug, Clone, Serialize)]
pub struct StratumRow {
    pub stratum: String,
    /// Per path condition: (n, score, ci). No interval below 2 units: resampling one unit
    /// gives it back every time, an interval of width zero that would read as certainty.
    pub conditions: Vec<(usize, f64, Option<[f64; 2]>)>,
    /// Per step: (contribution, ci), with no interval when either condition has under 2 units.
    pub steps: Vec<(f64, Option<[f64; 2]>)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Standardised {
    pub weights: String,
    pub conditions: Vec<(String, f64, [f64; 2])>,
    pub steps: Vec<(String, String, f64, [f64; 2])>,
    pub total: Figure,
}

#[derive(Debug, Clone, Serialize)]
pub struct Decomposition {
    pub estimand: Estimand,
    pub conditions: Vec<ConditionResult>,
    pub steps: Vec<Step>,
    pub subtotals: Subtotals,
    pub total: Figure,
    pub reference: Option<ConditionResult>,
    pub shapley: Option<Vec<ShapleyValue>>,
    pub per_stratum: Option<Vec<StratumRow>>,
    pub standardised: Option<Standardised>,
    pub warnings: Vec<String>,
}

/// A linear combination of condition scores.
type Quantity = Vec<(usize, f64)>;

fn value(q: &Quantity, scores: &[f64]) -> f64 {
    q.iter().map(|(c, w)| w * scores[*c]).sum()
}

struct Engine<'a> {
    data: &'a Data,
    /// Independently resampled units: clusters under the cluster schemes, else units.
    sampling_units: usize,
    spec: &'a DecomposeSpec,
    estimate: Vec<f64>,
    reps: Replicates,
    jack: Option<Vec<f64>>,
}

impl Engine<'_> {
    fn boot(&self, q: &Quantity) -> (f64, [f64; 2]) {
        let k = self.data.n_conditions();
        let est = value(q, &self.estimate);
        let vals: Vec<f64> = self.reps.scores.chunks(k).map(|s| value(q, s)).collect();
        let jack: Option<Vec<f64>> = self.jack.as_ref().map(|j| j.chunks(k).map(|s| value(q, s)).collect());
        (est, interval(est, &vals, jack.as_deref(), self.spec.bootstrap.interval, self.spec.bootstrap.confidence, self.sampling_units))
    }
}

fn set_of(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

/// The most resamples a decomposition draws: each holds a score per condition, so more only
/// costs memory.
pub const MAX_RESAMPLES: usize = 1_000_000;

/// Runs the decomposition. Errors are the user's to fix (unknown condition, path too short,
/// a case mix missing a stratum) and are said plainly.
pub fn decompose(data: &Data, spec: &DecomposeSpec) -> Result<Decomposition, String> {
    let k = data.n_conditions();
    if spec.path.len() < 2 {
        return Err("the path needs at least two conditions (e.g. --path vignette,conversation)".into());
    }
    let index = |name: &str| {
        data.condition_index(name)
            .ok_or_else(|| format!("condition `{name}` is not in the results (they have: {})", data.conditions.join(", ")))
    };
    let path: Vec<usize> = spec.path.iter().map(|p| index(p)).collect::<Result<_, _>>()?;
    let b = &spec.bootstrap;
    if !(b.confidence > 0.0 && b.confidence < 1.0) {
        return Err(format!("the confidence level must be between 0 and 1, e.g. 0.95 (not {})", b.confidence));
    }
    if b.resamples > MAX_RESAMPLES {
        return Err(format!(
            "{} resamples is more than the {MAX_RESAMPLES} allowed (2,000 already gives stable 95% intervals; 10,000 for the third decimal)",
            b.resamples
        ));
    }
    let reference = spec.reference.as_deref().map(index).transpose()?;
    let weights = spec.weights.resolve(data)?;
    let mut warnings = Vec::new();
    let clustered_scheme = matches!(spec.bootstrap.scheme, Scheme::Cluster | Scheme::TwoStage);
    if clustered_scheme && !data.clustered {
        return Err("the cluster bootstrap needs a cluster column (--cluster-col)".into());
    }
    if data.clustered && !clustered_scheme {
        warnings.push("the results have clusters but the bootstrap resamples units within strata: intervals ignore the clustering (use --bootstrap cluster for a population of clusters)".into());
    }
    if clustered_scheme && data.clusters.len() < 30 {
        warnings.push(format!(
            "only {} clusters: cluster-bootstrap intervals are unreliable below 30 clusters and tend to be too narrow",
            data.clusters.len()
        ));
    }
    if spec.bootstrap.scheme == Scheme::TwoStage {
        warnings.push(
            "two-stage resampling (clusters, then units within them) double-counts within-cluster variance: its intervals are conservative"
                .into(),
        );
    }
    let mut estimate = vec![0.0; k];
    scores_from(&data.sums(), data.strata.len(), k, &weights, &mut estimate);
    if let Some(&c) = path.iter().chain(&reference).find(|&&c| !estimate[c].is_finite()) {
        return Err(format!(
            "condition `{}` has no score: the weights of its units (or of their strata) sum to zero; give some of them a positive weight",
            data.conditions[c]
        ));
    }
    // A step between conditions that share some units but not all mixes a paired comparison
    // with units scored under one side only.
    for w in path.windows(2) {
        let (a, b) = (w[0], w[1]);
        let both = data.n_both(a, b);
        let only = data.n_for(a) + data.n_for(b) - 2 * both;
        if both > 0 && only > 0 {
            let first = (0..data.n_units())
                .find(|u| (data.has[u * k + a] > 0.0) != (data.has[u * k + b] > 0.0))
                .map_or("", |u| data.keys[u].as_str());
            warnings.push(format!(
                "{only} unit(s) have a score under only one of `{}` and `{}` (e.g. `{first}`), though {both} have both: the step mixes paired and unpaired units; check for missing rows",
                data.conditions[a], data.conditions[b]
            ));
        }
    }
    let keep_strata = data.strata.len() > 1 && data.strata.len() <= 200;
    let reps = resample(data, &weights, &spec.bootstrap, keep_strata);
    let jack = (spec.bootstrap.interval == IntervalMethod::Bca).then(|| jackknife(data, &weights, spec.bootstrap.scheme));
    let sampling_units = if clustered_scheme { data.clusters.len() } else { data.n_units() };
    let engine = Engine { data, sampling_units, spec, estimate: estimate.clone(), reps, jack };
    // Analytic intervals apply to plain proportions: 0/1 unit scores, pooled weights, no
    // clusters and no unit weights. Otherwise every interval comes from the bootstrap.
    let analytic = data.binary && spec.weights == Weights::Pooled && !data.clustered && !data.weighted;
    let conf = spec.bootstrap.confidence;
    let successes = |c: usize| -> f64 { (0..data.n_units()).map(|u| data.score[u * k + c] * data.has[u * k + c]).sum() };
    let condition_result = |c: usize| -> ConditionResult {
        let n = data.n_for(c);
        let (score, ci, method) = if analytic {
            (estimate[c], wilson(successes(c), n as f64, conf), "wilson")
        } else {
            let (e, ci) = engine.boot(&vec![(c, 1.0)]);
            (e, ci, "bootstrap")
        };
        ConditionResult { id: data.conditions[c].clone(), n, score, ci, proxy: spec.meta[c].proxy, method }
    };
    // The difference a − b with the method that fits it.
    let difference = |a: usize, b: usize| -> (f64, [f64; 2], usize, bool, &'static str) {
        let both = data.n_both(a, b);
        let (na, nb) = (data.n_for(a), data.n_for(b));
        let paired = both > 0 && both == na && both == nb;
        if analytic && paired {
            let mut t = Paired { both: 0.0, a_only: 0.0, b_only: 0.0, neither: 0.0 };
            for u in (0..data.n_units()).filter(|u| data.has[u * k + a] > 0.0 && data.has[u * k + b] > 0.0) {
                match (data.score[u * k + a] > 0.5, data.score[u * k + b] > 0.5) {
                    (true, true) => t.both += 1.0,
                    (true, false) => t.a_only += 1.0,
                    (false, true) => t.b_only += 1.0,
                    (false, false) => t.neither += 1.0,
                }
            }
            (estimate[a] - estimate[b], newcombe_paired(t, conf), both, true, "newcombe_paired")
        } else if analytic && both == 0 {
            (
                estimate[a] - estimate[b],
                newcombe_unpaired(successes(a), na as f64, successes(b), nb as f64, conf),
                na.min(nb),
                false,
                "newcombe_unpaired",
            )
        } else {
            let (e, ci) = engine.boot(&vec![(a, 1.0), (b, -1.0)]);
            (e, ci, if both > 0 { both } else { na.min(nb) }, both > 0, "bootstrap")
        }
    };
    let conditions: Vec<ConditionResult> = path.iter().map(|&c| condition_result(c)).collect();
    let mut steps = Vec::new();
    for w in path.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (ma, mb) = (&spec.meta[a], &spec.meta[b]);
        let relaxed: Vec<String> = set_of(&mb.relaxes).difference(&set_of(&ma.relaxes)).cloned().collect();
        let assumption = if relaxed.is_empty() {
            "unnamed (give the condition's `relaxes` in the condition metadata)".to_string()
        } else {
            relaxed.join(" + ")
        };
        let kind = if mb.proxy && relaxed.iter().any(|g| spec.outcome_groups.contains(g)) {
            StepKind::OutcomeProxy
        } else if relaxed.is_empty() {
            StepKind::Unclassified
        } else if relaxed.iter().all(|g| spec.outcome_groups.contains(g)) {
            StepKind::OutcomeMeasured
        } else if relaxed.iter().all(|g| !spec.outcome_groups.contains(g)) {
            StepKind::Task
        } else {
            StepKind::Unclassified
        };
        if relaxed.len() > 1 {
            warnings.push(format!(
                "the step {} → {} relaxes several assumptions at once ({}): its contribution cannot be attributed to one",
                data.conditions[a],
                data.conditions[b],
                relaxed.join(", ")
            ));
        }
        let mut confounded = Vec::new();
        for (field, x, y) in
            [("model", &ma.model, &mb.model), ("grader", &ma.grader, &mb.grader), ("unit_source", &ma.unit_source, &mb.unit_source)]
        {
            if let (Some(x), Some(y)) = (x, y)
                && x != y
            {
                confounded.push(format!("{field}: {x} → {y}"));
            }
        }
        let (contribution, ci, n, paired, method) = difference(a, b);
        steps.push(Step {
            from: data.conditions[a].clone(),
            to: data.conditions[b].clone(),
            assumption,
            kind,
            contribution,
            ci,
            n,
            paired,
            confounded,
            method,
        });
    }
    if steps.iter().any(|s| !s.confounded.is_empty()) {
        warnings.push(
            "confounded steps change more than the assumption they name (see each step): their contribution mixes both changes".into(),
        );
    }
    if path.iter().any(|&c| spec.meta[c].proxy) {
        warnings.push("proxy: a simulated person's decision stands in for a real one; it is excluded from the measured outcome subtotal and never corrects it".into());
    }
    // Subtotals: a contiguous run of steps is a two-condition difference; otherwise a sum.
    let subtotal = |kind: StepKind| -> Option<Figure> {
        let idx: Vec<usize> = steps.iter().enumerate().filter(|(_, s)| s.kind == kind).map(|(i, _)| i).collect();
        let (first, last) = (*idx.first()?, *idx.last()?);
        if last - first + 1 == idx.len() {
            let (e, ci, _, _, method) = difference(path[first], path[last + 1]);
            Some(Figure { estimate: e, ci, method })
        } else {
            let q: Quantity = idx.iter().flat_map(|&i| [(path[i], 1.0), (path[i + 1], -1.0)]).collect();
            let (e, ci) = engine.boot(&q);
            Some(Figure { estimate: e, ci, method: "bootstrap" })
        }
    };
    let subtotals = Subtotals {
        task: subtotal(StepKind::Task),
        outcome_measured: subtotal(StepKind::OutcomeMeasured),
        outcome_proxy: subtotal(StepKind::OutcomeProxy),
    };
    let (te, tci, _, _, tmethod) = difference(path[0], *path.last().expect("two or more"));
    let total = Figure { estimate: te, ci: tci, method: tmethod };
    warnings.push("sequential contributions depend on the order of the path: another order can give other shares".into());

    // Composition: the share of each stratum among a condition's units.
    let shares = |c: usize| -> Vec<f64> {
        let n = data.n_for(c).max(1) as f64;
        (0..data.strata.len()).map(|s| data.stratum_ranges()[s].clone().filter(|u| data.has[u * k + c] > 0.0).count() as f64 / n).collect()
    };
    let composition_differs =
        data.strata.len() > 1 && path.windows(2).any(|w| shares(w[0]).iter().zip(shares(w[1])).any(|(x, y)| (x - y).abs() > 0.02));
    let standardised = if composition_differs && spec.weights == Weights::Pooled {
        let std_spec = DecomposeSpec { weights: spec.standardise_with.clone(), shapley: None, reference: None, ..spec.clone() };
        let inner = decompose(data, &std_spec)?;
        warnings.push(format!(
            "stratum composition differs between conditions: pooled figures mix composition into the gap; with {} stratum weights the total is {:.2} points instead of {:.2}",
            spec.standardise_with.name(),
            inner.total.estimate * 100.0,
            total.estimate * 100.0
        ));
        Some(Standardised {
            weights: spec.standardise_with.name().into(),
            conditions: inner.conditions.iter().map(|c| (c.id.clone(), c.score, c.ci)).collect(),
            steps: inner.steps.iter().map(|s| (s.from.clone(), s.to.clone(), s.contribution, s.ci)).collect(),
            total: inner.total,
        })
    } else {
        None
    };
    let reference = reference.map(condition_result);
    let shapley = match &spec.shapley {
        None => None,
        Some(assumptions) => match shapley_quantities(spec, assumptions) {
            Ok(qs) => Some(
                qs.into_iter()
                    .map(|(a, q)| {
                        let (v, ci) = engine.boot(&q);
                        ShapleyValue { assumption: a, value: v, ci }
                    })
                    .collect(),
            ),
            Err(missing) => {
                warnings.push(format!(
                    "Shapley values refused: the factorial over {} lacks cells {}; the sequential decomposition stands",
                    assumptions.join(", "),
                    missing
                ));
                None
            }
        },
    };
    let per_stratum = engine.reps.stratum_means.as_ref().map(|m| {
        let s_count = data.strata.len();
        let ranges = data.stratum_ranges();
        let sums = data.sums();
        (0..s_count)
            .map(|s| {
                let point = |c: usize| {
                    let n = sums.n[s * k + c];
                    if n > 0.0 { sums.sum[s * k + c] / n } else { f64::NAN }
                };
                let boot_vals =
                    |q: &dyn Fn(&[f64]) -> f64| -> Vec<f64> { m.chunks(s_count * k).map(|b| q(&b[s * k..(s + 1) * k])).collect() };
                let conf_iv = |n: usize, est: f64, q: &dyn Fn(&[f64]) -> f64| {
                    (n >= 2).then(|| interval(est, &boot_vals(q), None, IntervalMethod::Percentile, conf, ranges[s].len()))
                };
                let units_with = |c: usize| ranges[s].clone().filter(|u| data.has[u * k + c] > 0.0).count();
                StratumRow {
                    stratum: data.strata[s].clone(),
                    conditions: path
                        .iter()
                        .map(|&c| {
                            let (n, est) = (units_with(c), point(c));
                            (n, est, conf_iv(n, est, &|x| x[c]))
                        })
                        .collect(),
                    steps: path
                        .windows(2)
                        .map(|w| {
                            let est = point(w[0]) - point(w[1]);
                            (est, conf_iv(units_with(w[0]).min(units_with(w[1])), est, &|x| x[w[0]] - x[w[1]]))
                        })
                        .collect(),
                }
            })
            .collect()
    });
    if data.strata.len() > 200 {
        warnings.push(format!("{} strata: the per-stratum table is left out above 200 strata", data.strata.len()));
    }
    let scheme_text = match spec.bootstrap.scheme {
        Scheme::Stratified => "units resampled within strata (estimand: these strata)",
        Scheme::Cluster => "whole clusters resampled (estimand: a population of clusters like these)",
        Scheme::TwoStage => "clusters, then units within clusters (two-stage)",
    };
    let statement = format!(
        "Each condition's score is the {}-weighted mean over its units of each unit's score averaged over replicates (up to {}), across {} stratum/strata; intervals are {}% {} ({}, {} resamples, seed {}; bootstrap intervals expanded for the number of resampled units, Hesterberg 2015).",
        spec.weights.name(),
        data.max_replicates,
        data.strata.len(),
        (conf * 100.0).round(),
        if analytic { "Wilson / Newcombe (analytic) for rates and two-condition differences, bootstrap otherwise" } else { "bootstrap" },
        scheme_text,
        spec.bootstrap.resamples,
        spec.bootstrap.seed
    );
    let estimand = Estimand {
        weights: spec.weights.name().into(),
        bootstrap: spec.bootstrap.scheme,
        interval: spec.bootstrap.interval,
        resamples: spec.bootstrap.resamples,
        seed: spec.bootstrap.seed,
        confidence: conf,
        strata: data.strata.len(),
        clusters: data.clustered.then_some(data.clusters.len()),
        units: data.n_units(),
        replicates_averaged: data.max_replicates,
        intervals: if analytic { "analytic".into() } else { "bootstrap".into() },
        statement,
    };
    Ok(Decomposition { estimand, conditions, steps, subtotals, total, reference, shapley, per_stratum, standardised, warnings })
}

/// Shapley value of each assumption as a linear combination of the factorial's cell scores, or
/// the list of missing cells.
fn shapley_quantities(spec: &DecomposeSpec, assumptions: &[String]) -> Result<Vec<(String, Quantity)>, String> {
    let m = assumptions.len();
    let chosen = set_of(assumptions);
    let mut cells: Vec<Option<usize>> = vec![None; 1 << m];
    for (c, meta) in spec.meta.iter().enumerate() {
        let r = set_of(&meta.relaxes);
        if meta.proxy || !r.is_subset(&chosen) {
            continue;
        }
        let mask = assumptions.iter().enumerate().filter(|(_, a)| r.contains(*a)).fold(0usize, |acc, (i, _)| acc | (1 << i));
        cells[mask].get_or_insert(c);
    }
    let missing: Vec<String> = (0..1usize << m)
        .filter(|mask| cells[*mask].is_none())
        .map(|mask| {
            let names: Vec<&str> = (0..m).filter(|i| mask & (1 << i) != 0).map(|i| assumptions[i].as_str()).collect();
            if names.is_empty() { "{} (the benchmark itself)".to_string() } else { format!("{{{}}}", names.join(", ")) }
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing.join(", "));
    }
    let fact = |n: usize| (1..=n).map(|x| x as f64).product::<f64>();
    Ok((0..m)
        .map(|i| {
            let mut q: Quantity = Vec::new();
            for mask in 0..1usize << m {
                if mask & (1 << i) != 0 {
                    continue;
                }
                let size = mask.count_ones() as usize;
                let w = fact(size) * fact(m - size - 1) / fact(m);
                // Drop from adding assumption i: score(without) − score(with).
                q.push((cells[mask].expect("checked"), w));
                q.push((cells[mask | (1 << i)].expect("checked"), -w));
            }
            (assumptions[i].clone(), q)
        })
        .collect())
}
