//! The gap decomposition: condition scores along a declared path, each step's contribution
//! (score_i − score_{i+1}), subtotals by kind of assumption, the total, an optional reference
//! line, Shapley values when the full factorial exists, per-stratum tables and the warnings a
//! reader needs (composition, confounding, proxies, few clusters). Every figure has an interval
//! and an n, and the estimand is declared.

use crate::bootstrap::{BootstrapSpec, IntervalMethod, Replicates, Scheme, interval, jackknife, layout, resample};
use crate::data::{Data, Weights, scores_from};
use crate::heterogeneity::{Heterogeneity, dersimonian_laird, stratum_steps};
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
    /// Also compute how the steps move when a stratum is left out, another grader scores the
    /// same condition, or the path is taken in another order.
    pub sensitivity: bool,
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
            sensitivity: false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimand {
    pub weights: String,
    pub bootstrap: Scheme,
    /// The bootstrap interval's method, when some figure has a bootstrap interval.
    pub interval: Option<IntervalMethod>,
    /// What the intervals generalise to, in words.
    pub generalises_to: String,
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
    /// Metadata not known for one side or both, so whether it also changed is unknown.
    pub unknown: Vec<String>,
    pub method: &'static str,
    /// How the step varies across strata, when 2 or more strata hold it (unweighted units).
    pub heterogeneity: Option<Heterogeneity>,
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
    pub sensitivity: Option<Sensitivity>,
    pub warnings: Vec<String>,
}

/// How much the figures depend on choices and on single strata (point estimates only).
#[derive(Debug, Clone, Serialize)]
pub struct Sensitivity {
    /// Per step: the range of its contribution with one stratum left out at a time, and the
    /// stratum whose removal moves it most (none with a single stratum).
    pub leave_one_stratum_out: Vec<Option<LeaveOneOut>>,
    /// Per step: the contribution with each other grader of the same conditions (conditions
    /// that differ only in their grader), when the results hold one.
    pub graders: Vec<Vec<(String, f64)>>,
    /// Per assumption the path relaxes: the range of its contribution over every order of the
    /// path, when the factorial over the path's assumptions exists.
    pub path_orders: Option<Vec<(String, [f64; 2])>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeaveOneOut {
    pub range: [f64; 2],
    pub most_influential: String,
}

/// A linear combination of condition scores.
type Quantity = Vec<(usize, f64)>;

fn value(q: &Quantity, scores: &[f64]) -> f64 {
    q.iter().map(|(c, w)| w * scores[*c]).sum()
}

/// The resamples every bootstrap interval is read from, drawn once; or why the bootstrap
/// cannot be used for these data.
struct Engine<'a> {
    data: &'a Data,
    spec: &'a DecomposeSpec,
    estimate: Vec<f64>,
    boot: Result<Boot, String>,
    /// Whether some figure took its interval from the bootstrap.
    used: std::cell::Cell<bool>,
}

struct Boot {
    reps: Replicates,
    jack: Option<Vec<f64>>,
    /// Degrees of freedom of the variance (resampled elements minus groups).
    df: usize,
}

/// The method of an interval bounded by Wilson intervals because every resample gave the same
/// value (every unit scores alike): an interval of width zero would read as certainty.
pub const WILSON_BOUND: &str = "wilson bound (resamples never vary)";

impl Engine<'_> {
    /// The quantity's estimate, interval and the interval's method.
    fn boot(&self, q: &Quantity) -> Result<(f64, [f64; 2], &'static str), String> {
        let b = self.boot.as_ref().map_err(String::clone)?;
        self.used.set(true);
        let k = self.data.n_conditions();
        let conf = self.spec.bootstrap.confidence;
        let est = value(q, &self.estimate);
        let vals: Vec<f64> = b.reps.scores.chunks(k).map(|s| value(q, s)).collect();
        let jack: Option<Vec<f64>> = b.jack.as_ref().map(|j| j.chunks(k).map(|s| value(q, s)).collect());
        let iv = interval(est, &vals, jack.as_deref(), self.spec.bootstrap.interval, conf, b.df);
        if iv[1] - iv[0] > 1e-12 {
            return Ok((est, iv, "bootstrap"));
        }
        // Scores lie in [0, 1], so their variance is at most μ(1 − μ): each condition's Wilson
        // interval is conservative, and their weighted box bounds the combination.
        let bound = q.iter().fold([0.0, 0.0], |acc, &(c, w)| {
            let n = self.data.n_for(c) as f64;
            let [lo, hi] = wilson(self.estimate[c] * n, n, conf);
            if w >= 0.0 { [acc[0] + w * lo, acc[1] + w * hi] } else { [acc[0] + w * hi, acc[1] + w * lo] }
        });
        Ok((est, bound, WILSON_BOUND))
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
    // A name is read without the spaces around it (`--path "a, b"`).
    let index = |name: &str| {
        let name = name.trim();
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
    let sampled = if clustered_scheme {
        data.clusters.len()
    } else if spec.bootstrap.scheme == Scheme::Strata {
        data.strata.len()
    } else {
        data.n_units()
    };
    if clustered_scheme && !data.clustered {
        return Err("the cluster bootstrap needs a cluster column (--cluster-col)".into());
    }
    if data.clustered && !clustered_scheme {
        warnings.push("the results have clusters but the bootstrap resamples units within strata: intervals ignore the clustering (use --bootstrap cluster for a population of clusters)".into());
    }
    if (clustered_scheme || spec.bootstrap.scheme == Scheme::Strata) && sampled < 30 {
        let what = if clustered_scheme { "clusters" } else { "strata" };
        warnings.push(format!("only {sampled} {what} resampled: bootstrap intervals are unreliable below 30 and tend to be too narrow"));
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
    // Analytic intervals apply to plain proportions: 0/1 unit scores, pooled weights, no
    // clusters and no unit weights, strata fixed. Otherwise every interval comes from the
    // bootstrap.
    let analytic =
        data.binary && spec.weights == Weights::Pooled && !data.clustered && !data.weighted && spec.bootstrap.scheme == Scheme::Stratified;
    let keep_strata = !analytic && data.strata.len() > 1 && data.strata.len() <= 200;
    let boot = layout(data, spec.bootstrap.scheme, spec.weights == Weights::Pooled).map(|lay| {
        if lay.collapsed > 0 {
            warnings.push(format!(
                "{} {} sit alone in their stratum or among the units observed under the same conditions: for the variance they are resampled with others (collapsed strata)",
                lay.collapsed,
                if clustered_scheme { "cluster(s)" } else { "unit(s)" }
            ));
        }
        let reps = resample(data, &lay, &weights, &spec.bootstrap, keep_strata);
        let jack = (spec.bootstrap.interval == IntervalMethod::Bca).then(|| jackknife(data, &lay, &weights));
        Boot { reps, jack, df: lay.df }
    });
    let engine = Engine { data, spec, estimate: estimate.clone(), boot, used: Default::default() };
    let conf = spec.bootstrap.confidence;
    let successes = |c: usize| -> f64 { (0..data.n_units()).map(|u| data.score[u * k + c] * data.has[u * k + c]).sum() };
    let condition_result = |c: usize| -> Result<ConditionResult, String> {
        let n = data.n_for(c);
        let (score, ci, method) =
            if analytic { (estimate[c], wilson(successes(c), n as f64, conf), "wilson") } else { engine.boot(&vec![(c, 1.0)])? };
        Ok(ConditionResult { id: data.conditions[c].clone(), n, score, ci, proxy: spec.meta[c].proxy, method })
    };
    // The difference a − b with the method that fits it.
    let difference = |a: usize, b: usize| -> Result<(f64, [f64; 2], usize, bool, &'static str), String> {
        let both = data.n_both(a, b);
        let (na, nb) = (data.n_for(a), data.n_for(b));
        let paired = both > 0 && both == na && both == nb;
        if analytic && paired {
            let t = paired_counts(data, a, b, 0..data.n_units());
            Ok((estimate[a] - estimate[b], newcombe_paired(t, conf), both, true, "newcombe_paired"))
        } else if analytic && both == 0 {
            Ok((
                estimate[a] - estimate[b],
                newcombe_unpaired(successes(a), na as f64, successes(b), nb as f64, conf),
                na.min(nb),
                false,
                "newcombe_unpaired",
            ))
        } else {
            let (e, ci, method) = engine.boot(&vec![(a, 1.0), (b, -1.0)])?;
            Ok((e, ci, if both > 0 { both } else { na.min(nb) }, both > 0, method))
        }
    };
    let conditions: Vec<ConditionResult> = path.iter().map(|&c| condition_result(c)).collect::<Result<_, _>>()?;
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
        let (mut confounded, mut unknown) = (Vec::new(), Vec::new());
        for (field, x, y) in
            [("model", &ma.model, &mb.model), ("grader", &ma.grader, &mb.grader), ("unit_source", &ma.unit_source, &mb.unit_source)]
        {
            match (x, y) {
                (Some(x), Some(y)) if x != y => confounded.push(format!("{field}: {x} → {y}")),
                (Some(_), Some(_)) => {}
                _ => unknown.push(field.to_string()),
            }
        }
        let (contribution, ci, n, paired, method) = difference(a, b)?;
        let heterogeneity = (!data.weighted && data.strata.len() > 1)
            .then(|| {
                let (y, v) = stratum_steps(data, a, b);
                dersimonian_laird(&y, &v, conf)
            })
            .flatten();
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
            unknown,
            method,
            heterogeneity,
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
    let subtotal = |kind: StepKind| -> Result<Option<Figure>, String> {
        let idx: Vec<usize> = steps.iter().enumerate().filter(|(_, s)| s.kind == kind).map(|(i, _)| i).collect();
        let (Some(&first), Some(&last)) = (idx.first(), idx.last()) else { return Ok(None) };
        Ok(Some(if last - first + 1 == idx.len() {
            let (e, ci, _, _, method) = difference(path[first], path[last + 1])?;
            Figure { estimate: e, ci, method }
        } else {
            let q: Quantity = idx.iter().flat_map(|&i| [(path[i], 1.0), (path[i + 1], -1.0)]).collect();
            let (e, ci, method) = engine.boot(&q)?;
            Figure { estimate: e, ci, method }
        }))
    };
    let subtotals = Subtotals {
        task: subtotal(StepKind::Task)?,
        outcome_measured: subtotal(StepKind::OutcomeMeasured)?,
        outcome_proxy: subtotal(StepKind::OutcomeProxy)?,
    };
    let (te, tci, _, _, tmethod) = difference(path[0], *path.last().expect("two or more"))?;
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
        let std_spec =
            DecomposeSpec { weights: spec.standardise_with.clone(), shapley: None, reference: None, sensitivity: false, ..spec.clone() };
        decompose(data, &std_spec)
            .map_err(|e| warnings.push(format!("stratum composition differs between conditions, but no standardised figures: {e}")))
            .ok()
    } else {
        None
    };
    let standardised = if let Some(inner) = standardised {
        warnings.push(format!(
            "stratum composition differs between conditions: pooled figures mix composition into the gap; with {} stratum weights the total is {:.2} points instead of {:.2}",
            spec.standardise_with.name(),
            inner.total.estimate * 100.0,
            total.estimate * 100.0
        ));
        Some(Standardised {
            weights: spec.standardise_with.name().into(),
            // A figure equal to the pooled one is the same quantity: it keeps the one interval.
            conditions: inner
                .conditions
                .iter()
                .zip(&conditions)
                .map(|(c, p)| (c.id.clone(), c.score, if (c.score - p.score).abs() < 1e-12 { p.ci } else { c.ci }))
                .collect(),
            steps: inner
                .steps
                .iter()
                .zip(&steps)
                .map(|(s, p)| {
                    (
                        s.from.clone(),
                        s.to.clone(),
                        s.contribution,
                        if (s.contribution - p.contribution).abs() < 1e-12 { p.ci } else { s.ci },
                    )
                })
                .collect(),
            total: if (inner.total.estimate - total.estimate).abs() < 1e-12 { total.clone() } else { inner.total },
        })
    } else {
        None
    };
    let reference = reference.map(condition_result).transpose()?;
    let shapley = match &spec.shapley {
        None => None,
        Some(assumptions) => match shapley_quantities(spec, &data.conditions, assumptions) {
            Ok(qs) => Some(
                qs.into_iter()
                    .map(|(a, q)| {
                        let (v, ci, _) = engine.boot(&q)?;
                        Ok(ShapleyValue { assumption: a, value: v, ci })
                    })
                    .collect::<Result<_, String>>()?,
            ),
            Err(why) => {
                warnings.push(format!(
                    "Shapley values refused: the factorial over {} {why}; the sequential decomposition stands",
                    assumptions.join(", ")
                ));
                None
            }
        },
    };
    let per_stratum = (data.strata.len() > 1 && data.strata.len() <= 200).then(|| {
        let ranges = data.stratum_ranges();
        let sums = data.sums();
        let means = engine.boot.as_ref().ok().and_then(|b| b.reps.stratum_means.as_ref());
        (0..data.strata.len()).map(|s| stratum_row(data, &path, s, ranges[s].clone(), &sums, means, analytic, conf)).collect()
    });
    if data.strata.len() > 200 {
        warnings.push(format!("{} strata: the per-stratum table is left out above 200 strata", data.strata.len()));
    }
    let statement = format!(
        "Each condition's score is the {}-weighted mean over its units of each unit's score averaged over replicates (up to {}), across {} stratum/strata. Intervals ({}%) generalise to {}. They are {}{}.",
        spec.weights.name(),
        data.max_replicates,
        data.strata.len(),
        (conf * 100.0).round(),
        spec.bootstrap.scheme.estimand(),
        if analytic { "Wilson / Newcombe (analytic) for rates and two-condition differences" } else { "" },
        if engine.used.get() {
            format!(
                "{}{} bootstrap ({}; {} resamples, seed {}; each group of m drawn m − 1 times and rescaled, Rao & Wu 1988; t-expanded, Hesterberg 2015)",
                if analytic { ", otherwise " } else { "" },
                if spec.bootstrap.interval == IntervalMethod::Bca { "BCa" } else { "percentile" },
                spec.bootstrap.scheme.resamples(),
                spec.bootstrap.resamples,
                spec.bootstrap.seed
            )
        } else {
            String::new()
        }
    );
    let estimand = Estimand {
        weights: spec.weights.name().into(),
        bootstrap: spec.bootstrap.scheme,
        interval: engine.used.get().then_some(spec.bootstrap.interval),
        generalises_to: spec.bootstrap.scheme.estimand().into(),
        resamples: spec.bootstrap.resamples,
        seed: spec.bootstrap.seed,
        confidence: conf,
        strata: data.strata.len(),
        clusters: data.clustered.then_some(data.clusters.len()),
        units: data.n_units(),
        replicates_averaged: data.max_replicates,
        intervals: match (analytic, engine.used.get()) {
            (true, false) => "analytic",
            (true, true) => "analytic and bootstrap",
            _ => "bootstrap",
        }
        .into(),
        statement,
    };
    let sensitivity = spec.sensitivity.then(|| sensitivity(data, spec, &path, &weights));
    Ok(Decomposition {
        estimand,
        conditions,
        steps,
        subtotals,
        total,
        reference,
        shapley,
        per_stratum,
        standardised,
        sensitivity,
        warnings,
    })
}

/// The sensitivity analyses of a decomposition along `path` (see [`Sensitivity`]).
fn sensitivity(data: &Data, spec: &DecomposeSpec, path: &[usize], weights: &crate::data::StratumWeights) -> Sensitivity {
    let k = data.n_conditions();
    let s_count = data.strata.len();
    let full = data.sums();
    let scores = |sums: &crate::data::StratumSums| {
        let mut out = vec![0.0; k];
        scores_from(sums, s_count, k, weights, &mut out);
        out
    };
    let estimate = scores(&full);
    let leave_one_stratum_out = path
        .windows(2)
        .map(|w| {
            let mut moved: Vec<(f64, &str)> = Vec::new();
            for h in (0..s_count).filter(|_| s_count > 1) {
                let mut sums = full.clone();
                sums.n[h * k..(h + 1) * k].iter_mut().for_each(|n| *n = 0.0);
                let e = scores(&sums);
                let step = e[w[0]] - e[w[1]];
                if step.is_finite() {
                    moved.push((step, &data.strata[h]));
                }
            }
            let base = estimate[w[0]] - estimate[w[1]];
            let lo = moved.iter().map(|m| m.0).fold(f64::INFINITY, f64::min);
            let hi = moved.iter().map(|m| m.0).fold(f64::NEG_INFINITY, f64::max);
            let most = moved.iter().max_by(|a, b| (a.0 - base).abs().total_cmp(&(b.0 - base).abs()))?;
            Some(LeaveOneOut { range: [lo, hi], most_influential: most.1.to_string() })
        })
        .collect();
    // Conditions alike in everything but the grader stand in for one another.
    let twins = |c: usize| -> Vec<usize> {
        let m = &spec.meta[c];
        (0..k)
            .filter(|&o| {
                let x = &spec.meta[o];
                o != c
                    && m.grader.is_some()
                    && x.grader.is_some()
                    && x.grader != m.grader
                    && (&x.model, &x.unit_source, set_of(&x.relaxes), x.proxy) == (&m.model, &m.unit_source, set_of(&m.relaxes), m.proxy)
            })
            .collect()
    };
    let graders = path
        .windows(2)
        .map(|w| {
            let mut out = Vec::new();
            for (a, b) in twins(w[0]).into_iter().map(|a| (a, w[1])).chain(twins(w[1]).into_iter().map(|b| (w[0], b))) {
                let grader = spec.meta[if a == w[0] { b } else { a }].grader.clone().unwrap_or_default();
                out.push((format!("{} → {} graded by {grader}", data.conditions[a], data.conditions[b]), estimate[a] - estimate[b]));
            }
            out
        })
        .collect();
    // Every order of the path's assumptions, when each step relaxes one and the factorial exists.
    let relaxed: Vec<String> = path
        .windows(2)
        .filter_map(|w| {
            let r: Vec<String> = set_of(&spec.meta[w[1]].relaxes).difference(&set_of(&spec.meta[w[0]].relaxes)).cloned().collect();
            (r.len() == 1).then(|| r[0].clone())
        })
        .collect();
    let path_orders = (relaxed.len() == path.len() - 1 && relaxed.len() <= 6)
        .then(|| factorial_cells(spec, &data.conditions, &relaxed).ok())
        .flatten()
        .map(|cells| {
            let m = relaxed.len();
            let mut ranges = vec![[f64::INFINITY, f64::NEG_INFINITY]; m];
            for order in permutations(m) {
                let mut mask = 0usize;
                for &i in &order {
                    let step = estimate[cells[mask]] - estimate[cells[mask | (1 << i)]];
                    ranges[i] = [ranges[i][0].min(step), ranges[i][1].max(step)];
                    mask |= 1 << i;
                }
            }
            relaxed.iter().cloned().zip(ranges).collect()
        });
    Sensitivity { leave_one_stratum_out, graders, path_orders }
}

/// Every order of 0..m.
fn permutations(m: usize) -> Vec<Vec<usize>> {
    if m == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(m - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, m - 1);
            out.push(q);
        }
    }
    out
}

/// The 2×2 table of two conditions over the units that have both (0/1 scores).
fn paired_counts(data: &Data, a: usize, b: usize, units: impl Iterator<Item = usize>) -> Paired {
    let k = data.n_conditions();
    let mut t = Paired { both: 0.0, a_only: 0.0, b_only: 0.0, neither: 0.0 };
    for u in units.filter(|u| data.has[u * k + a] > 0.0 && data.has[u * k + b] > 0.0) {
        match (data.score[u * k + a] > 0.5, data.score[u * k + b] > 0.5) {
            (true, true) => t.both += 1.0,
            (true, false) => t.a_only += 1.0,
            (false, true) => t.b_only += 1.0,
            (false, false) => t.neither += 1.0,
        }
    }
    t
}

/// One stratum's conditions and steps along the path. Plain proportions get Wilson and
/// Newcombe intervals, as the whole-data figures do; otherwise the percentile interval of the
/// stratum's bootstrap means. A stratum with under 2 units, or whose resamples never vary, gets
/// no interval: one that would read as certainty is never shown.
#[allow(clippy::too_many_arguments)]
fn stratum_row(
    data: &Data,
    path: &[usize],
    s: usize,
    units: std::ops::Range<usize>,
    sums: &crate::data::StratumSums,
    means: Option<&Vec<f64>>,
    analytic: bool,
    conf: f64,
) -> StratumRow {
    let k = data.n_conditions();
    let s_count = data.strata.len();
    let point = |c: usize| {
        let n = sums.n[s * k + c];
        if n > 0.0 { sums.sum[s * k + c] / n } else { f64::NAN }
    };
    let with = |c: usize| units.clone().filter(|u| data.has[u * k + c] > 0.0).count();
    let boot = |n: usize, est: f64, q: &dyn Fn(&[f64]) -> f64| -> Option<[f64; 2]> {
        let vals: Vec<f64> = means?.chunks(s_count * k).map(|b| q(&b[s * k..(s + 1) * k])).collect();
        let iv = interval(est, &vals, None, IntervalMethod::Percentile, conf, n.saturating_sub(1));
        (n >= 2 && iv[1] > iv[0]).then_some(iv)
    };
    let conditions = path
        .iter()
        .map(|&c| {
            let (n, est) = (with(c), point(c));
            let ci = if analytic { (n >= 2).then(|| wilson((est * n as f64).round(), n as f64, conf)) } else { boot(n, est, &|x| x[c]) };
            (n, est, ci)
        })
        .collect();
    let steps = path
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let est = point(a) - point(b);
            let (na, nb) = (with(a), with(b));
            let ci = if !analytic {
                boot(na.min(nb), est, &|x| x[a] - x[b])
            } else if na < 2 || nb < 2 {
                None
            } else {
                let t = paired_counts(data, a, b, units.clone());
                let both = (t.both + t.a_only + t.b_only + t.neither) as usize;
                if both == na && both == nb {
                    Some(newcombe_paired(t, conf))
                } else {
                    Some(newcombe_unpaired((point(a) * na as f64).round(), na as f64, (point(b) * nb as f64).round(), nb as f64, conf))
                }
            };
            (est, ci)
        })
        .collect();
    StratumRow { stratum: data.strata[s].clone(), conditions, steps }
}

/// The condition filling each cell of the factorial over `assumptions` (cell = bit mask of the
/// assumptions relaxed), or why there is none: cells no condition fills, or cells several
/// conditions fill (which one would be a guess).
fn factorial_cells(spec: &DecomposeSpec, conditions: &[String], assumptions: &[String]) -> Result<Vec<usize>, String> {
    let m = assumptions.len();
    let chosen = set_of(assumptions);
    let mut cells: Vec<Vec<usize>> = vec![Vec::new(); 1 << m];
    for (c, meta) in spec.meta.iter().enumerate() {
        let r = set_of(&meta.relaxes);
        if meta.proxy || !r.is_subset(&chosen) {
            continue;
        }
        let mask = assumptions.iter().enumerate().filter(|(_, a)| r.contains(*a)).fold(0usize, |acc, (i, _)| acc | (1 << i));
        cells[mask].push(c);
    }
    let name = |mask: usize| {
        let names: Vec<&str> = (0..m).filter(|i| mask & (1 << i) != 0).map(|i| assumptions[i].as_str()).collect();
        if names.is_empty() { "{} (the benchmark itself)".to_string() } else { format!("{{{}}}", names.join(", ")) }
    };
    let missing: Vec<String> = (0..1usize << m).filter(|mask| cells[*mask].is_empty()).map(name).collect();
    if !missing.is_empty() {
        return Err(format!("lacks cells {}", missing.join(", ")));
    }
    let ambiguous: Vec<String> = (0..1usize << m)
        .filter(|mask| cells[*mask].len() > 1)
        .map(|mask| {
            let by: Vec<String> = cells[mask].iter().map(|c| format!("`{}`", conditions[*c])).collect();
            format!("{} by {}", name(mask), by.join(" and "))
        })
        .collect();
    if !ambiguous.is_empty() {
        return Err(format!(
            "has cells filled by several conditions ({}): keep one condition per cell in the results, or give the others the `relaxes` they differ in",
            ambiguous.join("; ")
        ));
    }
    Ok(cells.iter().map(|c| c[0]).collect())
}

/// Shapley value of each assumption as a linear combination of the factorial's cell scores, or
/// why there are none ([`factorial_cells`]).
fn shapley_quantities(spec: &DecomposeSpec, conditions: &[String], assumptions: &[String]) -> Result<Vec<(String, Quantity)>, String> {
    let m = assumptions.len();
    let cells = factorial_cells(spec, conditions, assumptions)?;
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
                q.push((cells[mask], w));
                q.push((cells[mask | (1 << i)], -w));
            }
            (assumptions[i].clone(), q)
        })
        .collect())
}
