//! Stage 3 and 4 questions: the uptake table (does the person follow the model?), gates (is a
//! measured drop within the deployment's tolerance?), power for the studies that follow, and the
//! calibration of simulated against human results.

use crate::data::{Data, ResultRow};
use crate::proportion::{IndependenceTest, McNemar, Rate, holm, independence_test, mcnemar, newcombe_unpaired, normal, odds_ratio, rate};
use serde::Serialize;
use statrs::distribution::ContinuousCDF;
use statrs::function::beta::beta_reg;
use statrs::function::factorial::ln_binomial;
use std::collections::BTreeMap;

/// Paired outcomes of the model's answer and the person's decision on the same units.
#[derive(Debug, Clone, Serialize)]
pub struct Uptake {
    pub n: usize,
    /// [model right & person right, model right & person wrong, model wrong & person right, both wrong]
    pub table: [usize; 4],
    pub person_right_given_model_right: Rate,
    pub person_right_given_model_wrong: Rate,
    pub mcnemar: McNemar,
}

pub fn uptake(pairs: &[(bool, bool)], confidence: f64) -> Uptake {
    let mut t = [0usize; 4];
    for &(model, person) in pairs {
        t[match (model, person) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        }] += 1;
    }
    Uptake {
        n: pairs.len(),
        table: t,
        person_right_given_model_right: rate(t[0] as f64, (t[0] + t[1]) as f64, confidence),
        person_right_given_model_wrong: rate(t[2] as f64, (t[2] + t[3]) as f64, confidence),
        mcnemar: mcnemar(t[1] as u64, t[2] as u64),
    }
}

/// The uptake table of two conditions graded right/wrong on the same units: the model's answer
/// under `model`, the person's decision under `person`.
pub fn uptake_between(data: &Data, model: &str, person: &str, confidence: f64) -> Result<Uptake, String> {
    let index = |c: &str| data.condition_index(c).ok_or_else(|| format!("no condition `{c}`"));
    let (mi, pi) = (index(model)?, index(person)?);
    let k = data.n_conditions();
    let pairs: Vec<(bool, bool)> = (0..data.n_units())
        .filter(|u| data.has[u * k + mi] > 0.0 && data.has[u * k + pi] > 0.0)
        .map(|u| (data.score[u * k + mi] >= 0.5, data.score[u * k + pi] >= 0.5))
        .collect();
    if pairs.is_empty() {
        return Err(format!("no unit has both `{model}` and `{person}`: the uptake table needs the same units graded under both"));
    }
    if !data.binary {
        return Err("the uptake table needs right/wrong (0/1) scores".into());
    }
    Ok(uptake(&pairs, confidence))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateResult {
    Pass,
    Fail,
    Inconclusive,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub result: GateResult,
    /// Units that would give an interval narrow enough to settle it, at the same estimate
    /// (interval width shrinks with √n); absent unless inconclusive.
    pub units_to_settle: Option<u64>,
}

/// Non-inferiority on a drop (points): pass when the whole interval lies below the tolerance,
/// fail when it lies above, else inconclusive with the n that would settle it.
pub fn gate(drop: f64, ci: [f64; 2], tolerance: f64, n: usize) -> Gate {
    if ci[1] < tolerance {
        return Gate { result: GateResult::Pass, units_to_settle: None };
    }
    if ci[0] > tolerance {
        return Gate { result: GateResult::Fail, units_to_settle: None };
    }
    // The half-width on the side facing the tolerance must shrink below the margin.
    let half = if drop < tolerance { ci[1] - drop } else { drop - ci[0] };
    let margin = (tolerance - drop).abs();
    let units = if margin > 0.0 { Some((n as f64 * (half / margin).powi(2)).ceil() as u64) } else { None };
    Gate { result: GateResult::Inconclusive, units_to_settle: units }
}

/// One group's gate: the step that relaxes it, measured against the deployment's tolerance, or
/// why it is not measured.
#[derive(Debug, Clone, Serialize)]
pub struct GroupGate {
    pub group: String,
    /// Points.
    pub tolerance: f64,
    #[serde(flatten)]
    pub outcome: GateOutcome,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum GateOutcome {
    Measured {
        step: String,
        /// Points, with its interval.
        drop: f64,
        ci: [f64; 2],
        n: usize,
        result: GateResult,
        units_to_settle: Option<u64>,
        confounded: Vec<String>,
    },
    NotMeasured {
        result: &'static str,
        note: String,
    },
}

/// The gate of each group with a tolerance: the one step of the path that relaxes it (a proxy
/// step does not count), its drop in points against the tolerance.
pub fn group_gates(d: &crate::decompose::Decomposition, tolerances: &[(String, f64)]) -> Vec<GroupGate> {
    let not_measured = |note: String| GateOutcome::NotMeasured { result: "not measured", note };
    tolerances
        .iter()
        .map(|(group, tolerance)| {
            let steps: Vec<_> = d.steps.iter().filter(|s| s.assumption == *group).collect();
            let proxy = |id: &str| d.conditions.iter().any(|c| c.id == id && c.proxy);
            let outcome = match steps.as_slice() {
                [] => not_measured("no step of the path relaxes this group alone".into()),
                [s] if proxy(&s.to) => not_measured(format!("only a proxy step ({} → {}) relaxes it", s.from, s.to)),
                [s] => {
                    let (drop, ci) = (s.contribution * 100.0, [s.ci[0] * 100.0, s.ci[1] * 100.0]);
                    let g = gate(drop, ci, *tolerance, s.n);
                    GateOutcome::Measured {
                        step: format!("{} → {}", s.from, s.to),
                        drop,
                        ci,
                        n: s.n,
                        result: g.result,
                        units_to_settle: g.units_to_settle,
                        confounded: s.confounded.clone(),
                    }
                }
                _ => not_measured("several steps relax this group; give a path with one step per group".into()),
            };
            GroupGate { group: group.clone(), tolerance: *tolerance, outcome }
        })
        .collect()
}

/// Cohen's h between two proportions.
pub fn cohens_h(p1: f64, p2: f64) -> f64 {
    2.0 * p1.sqrt().asin() - 2.0 * p2.sqrt().asin()
}

/// Power of a two-sided test of two independent proportions by the normal approximation on
/// Cohen's h (as statsmodels' `NormalIndPower`, both tails counted), n per group.
pub fn power_independent(h: f64, n_per_group: f64, alpha: f64) -> f64 {
    let nd = normal();
    let crit = nd.inverse_cdf(1.0 - alpha / 2.0);
    let shift = h.abs() * (n_per_group / 2.0).sqrt();
    (1.0 - nd.cdf(crit - shift)) + nd.cdf(-crit - shift)
}

/// n per group for a target power (continuous, as statsmodels returns it; round up to use).
/// Infinite when h is 0: no n detects no difference.
pub fn n_independent(h: f64, alpha: f64, power: f64) -> f64 {
    if h == 0.0 {
        return f64::INFINITY;
    }
    solve_increasing(|n| power_independent(h, n, alpha) - power, 2.0, 1e12)
}

/// Connor (1987): pairs needed for McNemar's test, with ψ = p10 + p01 and δ = p10 − p01.
/// Infinite when δ is 0.
pub fn n_paired(p10: f64, p01: f64, alpha: f64, power: f64) -> f64 {
    let (psi, delta) = (p10 + p01, p10 - p01);
    let nd = normal();
    let (za, zb) = (nd.inverse_cdf(1.0 - alpha / 2.0), nd.inverse_cdf(power));
    (za * psi.sqrt() + zb * (psi - delta * delta).sqrt()).powi(2) / (delta * delta)
}

/// Power of McNemar's test with n pairs, by inverting Connor's formula.
pub fn power_paired(p10: f64, p01: f64, n: f64, alpha: f64) -> f64 {
    let (psi, delta) = (p10 + p01, p10 - p01);
    let nd = normal();
    let za = nd.inverse_cdf(1.0 - alpha / 2.0);
    nd.cdf(((n * delta * delta).sqrt() - za * psi.sqrt()) / (psi - delta * delta).sqrt())
}

/// The most pairs the exact McNemar power is computed for.
pub const MAX_EXACT_PAIRS: u64 = 100_000;

/// The exact conditional McNemar test's chance of rejecting, given the number of discordant
/// pairs. Given d discordant pairs, the pairs right under the first condition only are
/// Binomial(d, π) with π = p10 / (p10 + p01), and the two-sided binomial test at ½ rejects at
/// level α when that count is at most c or at least d − c, c the largest count whose doubled
/// lower tail under ½ is at most α (the test's p-value is min(1, 2·P(X ≤ min(x, d − x)))).
struct ExactMcNemar {
    alpha: f64,
    /// π: the share of discordant pairs right under the first condition only.
    share: f64,
    /// c of the last d computed (−1: no count rejects); it never falls as d grows.
    critical: i64,
    /// P(reject | d) for d = 0, 1, …
    reject: Vec<f64>,
}

/// P(X ≤ k) for X ~ Binomial(n, p), k < n.
fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    beta_reg((n - k) as f64, k as f64 + 1.0, 1.0 - p)
}

impl ExactMcNemar {
    fn new(p10: f64, p01: f64, alpha: f64) -> Self {
        ExactMcNemar { alpha, share: p10 / (p10 + p01), critical: -1, reject: Vec::new() }
    }

    fn reject_given(&mut self, discordant: u64) -> f64 {
        while self.reject.len() as u64 <= discordant {
            let d = self.reject.len() as u64;
            while self.critical + 1 < d as i64 && 2.0 * binomial_cdf((self.critical + 1) as u64, d, 0.5) <= self.alpha {
                self.critical += 1;
            }
            let r = match u64::try_from(self.critical) {
                // P(X ≤ c) + P(X ≥ d − c) under π; c < d / 2, so the two tails do not meet.
                Ok(c) => binomial_cdf(c, d, self.share) + (1.0 - binomial_cdf(d - c - 1, d, self.share)),
                Err(_) => 0.0,
            };
            self.reject.push(r);
        }
        self.reject[discordant as usize]
    }

    /// Σ over d of P(d discordant of n pairs) · P(reject | d), the discordant count being
    /// Binomial(n, p10 + p01); terms below 1e-17 of the largest are left out.
    fn power(&mut self, n: u64, psi: f64) -> f64 {
        if psi >= 1.0 {
            return self.reject_given(n);
        }
        let ratio = psi / (1.0 - psi);
        let mode = (((n + 1) as f64 * psi).floor() as u64).min(n);
        let peak = (ln_binomial(n, mode) + mode as f64 * psi.ln() + (n - mode) as f64 * (1.0 - psi).ln()).exp();
        let mut total = peak * self.reject_given(mode);
        let (mut w, mut d) = (peak, mode);
        while d < n && w > peak * 1e-17 {
            w *= (n - d) as f64 / (d + 1) as f64 * ratio;
            d += 1;
            total += w * self.reject_given(d);
        }
        let (mut w, mut d) = (peak, mode);
        while d > 0 && w > peak * 1e-17 {
            w *= d as f64 / (n - d + 1) as f64 / ratio;
            d -= 1;
            total += w * self.reject_given(d);
        }
        total.min(1.0)
    }
}

/// Power of the exact conditional McNemar test (two-sided, level α) with n pairs: the binomial
/// test at ½ on the discordant pairs, averaged over their Binomial(n, p10 + p01) number.
pub fn power_paired_exact(p10: f64, p01: f64, n: u64, alpha: f64) -> f64 {
    ExactMcNemar::new(p10, p01, alpha).power(n, (p10 + p01).min(1.0))
}

/// The fewest pairs at which the exact conditional McNemar test reaches `power`, searched from
/// one pair upwards (the exact power is not monotone in n, so one more pair can fall just
/// short). None when it is not reached within `MAX_EXACT_PAIRS`, or when Connor's approximation
/// puts it beyond twice that, where the search would be futile.
pub fn n_paired_exact(p10: f64, p01: f64, alpha: f64, power: f64) -> Option<u64> {
    // Far beyond the limit by Connor's approximation: not worth the search.
    let connor = n_paired(p10, p01, alpha, power);
    if connor.is_nan() || connor > 2.0 * MAX_EXACT_PAIRS as f64 {
        return None;
    }
    let mut exact = ExactMcNemar::new(p10, p01, alpha);
    let psi = (p10 + p01).min(1.0);
    (1..=MAX_EXACT_PAIRS).find(|&n| exact.power(n, psi) >= power)
}

/// Non-inferiority of two independent proportions (one-sided α): the new arm p_new is not worse
/// than p_ref by more than `margin`. n per group = (z_{1−α} + z_{1−β})² (p_new q_new + p_ref q_ref) / (p_new − p_ref + margin)².
/// Infinite when p_new − p_ref + margin is not positive: an arm expected to be worse than the
/// margin allows is never shown non-inferior.
pub fn n_noninferiority(p_new: f64, p_ref: f64, margin: f64, alpha: f64, power: f64) -> f64 {
    let effect = p_new - p_ref + margin;
    if effect <= 0.0 {
        return f64::INFINITY;
    }
    let nd = normal();
    let z = nd.inverse_cdf(1.0 - alpha) + nd.inverse_cdf(power);
    z * z * (p_new * (1.0 - p_new) + p_ref * (1.0 - p_ref)) / effect.powi(2)
}

/// Power of the one-sided non-inferiority test with n per group (at most α when the new arm is
/// expected to be worse than the margin allows).
pub fn power_noninferiority(p_new: f64, p_ref: f64, margin: f64, n: f64, alpha: f64) -> f64 {
    let nd = normal();
    let se = ((p_new * (1.0 - p_new) + p_ref * (1.0 - p_ref)) / n).sqrt();
    nd.cdf((p_new - p_ref + margin) / se - nd.inverse_cdf(1.0 - alpha))
}

/// Design effect of clustering: 1 + (m − 1)·ICC for clusters of m units.
pub fn design_effect(cluster_size: f64, icc: f64) -> f64 {
    1.0 + (cluster_size - 1.0) * icc
}

/// Units that come in clusters (e.g. the scenarios one participant answers), which inflate the
/// units a study needs by the design effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clustering {
    /// Units per cluster.
    pub size: f64,
    /// Intra-cluster correlation.
    pub icc: f64,
}

/// A design to plan a stage-4 study (or a stage-3 comparison) for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum PowerDesign {
    /// Two independent proportions (Cohen's h, normal approximation).
    Independent,
    /// Paired proportions, McNemar's test (Connor 1987, or exact with --exact).
    Paired,
    /// Non-inferiority of two independent proportions (one-sided).
    Noninferiority,
}

/// What a power calculation solves for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Solve {
    /// The n that gives this power.
    N { power: f64 },
    /// The power of this n.
    Power { n: f64 },
}

/// The answer of a power calculation, with the clusters and observations a clustered design
/// needs.
#[derive(Debug, Clone, Serialize)]
pub struct PowerAnalysis {
    pub design: PowerDesign,
    /// The test whose power is computed, and how.
    pub method: &'static str,
    /// What was solved for: `n` or `power`.
    pub solved_for: &'static str,
    /// Whether the power is the exact McNemar test's.
    pub exact: bool,
    pub alpha: f64,
    /// The power asked for, or computed; for the exact test, the power reached at n.
    pub power: f64,
    /// Solving for n, the independent units needed (continuous unless the test is exact); else
    /// the n given, every observation of a clustered design.
    pub n: f64,
    pub n_rounded_up: f64,
    /// What n counts: units per group, or pairs.
    pub unit: &'static str,
    /// Present when the units come in clusters.
    #[serde(flatten)]
    pub clustered: Option<Clustered>,
    /// The independent design's effect size.
    #[serde(skip)]
    pub cohens_h: Option<f64>,
}

/// A clustered design's figures, per group (pairs for the paired design).
#[derive(Debug, Clone, Serialize)]
pub struct Clustered {
    pub cluster_size: f64,
    pub icc: f64,
    pub design_effect: f64,
    /// Clusters (e.g. people): solving for n, enough for n × the design effect observations,
    /// rounded up; else the n given over the cluster size.
    pub clusters: f64,
    /// Observations (units): solving for n, the clusters times their size; else the n given.
    pub observations: f64,
    /// The independent units the power is computed for: n when solving for n, else the
    /// observations over the design effect (rounded down to whole pairs for the exact test).
    pub effective_n: f64,
}

/// A power question as a person asks it: the design, the proportions it needs, and either the
/// power wanted (solve for n) or the n available (solve for power). With the `clap` feature,
/// these are the flags of `study power`.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct PowerQuery {
    #[cfg_attr(feature = "clap", arg(long, value_enum))]
    pub design: PowerDesign,
    /// Expected proportion in the first arm (independent, non-inferiority: the new arm).
    #[cfg_attr(feature = "clap", arg(long))]
    pub p1: Option<f64>,
    /// Expected proportion in the second arm (the control or reference).
    #[cfg_attr(feature = "clap", arg(long))]
    pub p2: Option<f64>,
    /// Paired: share of pairs right under the first condition only.
    #[cfg_attr(feature = "clap", arg(long))]
    pub p10: Option<f64>,
    /// Paired: share of pairs right under the second condition only.
    #[cfg_attr(feature = "clap", arg(long))]
    pub p01: Option<f64>,
    /// Non-inferiority margin (a proportion, e.g. 0.05).
    #[cfg_attr(feature = "clap", arg(long))]
    pub margin: Option<f64>,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.05))]
    pub alpha: f64,
    /// Target power (solve for n); omit with --n to solve for power.
    #[cfg_attr(feature = "clap", arg(long))]
    pub power: Option<f64>,
    /// Units per group (pairs for the paired design), every observation when clustered: solve
    /// for power.
    #[cfg_attr(feature = "clap", arg(long))]
    pub n: Option<f64>,
    /// Units per cluster (e.g. scenarios per participant), for the design effect.
    #[cfg_attr(feature = "clap", arg(long))]
    pub cluster_size: Option<f64>,
    /// Intra-cluster correlation, for the design effect.
    #[cfg_attr(feature = "clap", arg(long))]
    pub icc: Option<f64>,
    /// Paired design: the power of the exact conditional McNemar test (a binomial test on the
    /// discordant pairs) instead of Connor's normal approximation.
    #[cfg_attr(feature = "clap", arg(long))]
    pub exact: bool,
}

/// A number as a person would type it (0.7, not 0.7000000000000001).
fn typed(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}

impl PowerQuery {
    /// A question about `design` at α = 0.05 with nothing else given yet.
    pub fn new(design: PowerDesign) -> Self {
        PowerQuery {
            design,
            p1: None,
            p2: None,
            p10: None,
            p01: None,
            margin: None,
            alpha: 0.05,
            power: None,
            n: None,
            cluster_size: None,
            icc: None,
            exact: false,
        }
    }

    /// The answer, or what is missing, out of range or impossible, named by its flag with the fix.
    pub fn analyse(&self) -> Result<PowerAnalysis, String> {
        let proportion = |v: Option<f64>, flag: &str| {
            v.filter(|x| (0.0..=1.0).contains(x)).ok_or_else(|| format!("this design needs --{flag} (a proportion between 0 and 1)"))
        };
        let open_unit = |v: f64, flag: &str| {
            if v > 0.0 && v < 1.0 { Ok(v) } else { Err(format!("--{flag} is {v}: give a number strictly between 0 and 1")) }
        };
        let alpha = open_unit(self.alpha, "alpha")?;
        let solve = match (self.power, self.n) {
            (Some(power), None) => Solve::N { power: open_unit(power, "power")? },
            (None, Some(n)) if n.is_finite() && n >= 1.0 => Solve::Power { n },
            (None, Some(n)) => return Err(format!("--n is {n}: give at least 1 unit")),
            _ => return Err("give either --power (to solve for n) or --n (to solve for power)".into()),
        };
        let clustering = match (self.cluster_size, self.icc) {
            (Some(size), Some(icc)) if size >= 1.0 && (0.0..=1.0).contains(&icc) => Some(Clustering { size, icc }),
            (Some(_), Some(_)) => return Err("--cluster-size must be at least 1 and --icc between 0 and 1".into()),
            (None, None) => None,
            _ => return Err("the design effect needs both --cluster-size and --icc".into()),
        };
        if self.exact && self.design != PowerDesign::Paired {
            return Err(
                "--exact computes the exact McNemar test of the paired design: add --design paired with --p10 and --p01, or drop --exact"
                    .into(),
            );
        }
        let (p, margin) = match self.design {
            PowerDesign::Independent => {
                let (p1, p2) = (proportion(self.p1, "p1")?, proportion(self.p2, "p2")?);
                if p1 == p2 {
                    return Err(format!(
                        "--p1 and --p2 are both {p1}: no difference to detect; give the proportion you expect in each arm"
                    ));
                }
                ([p1, p2], 0.0)
            }
            PowerDesign::Paired => {
                let (p10, p01) = (proportion(self.p10, "p10")?, proportion(self.p01, "p01")?);
                if p10 + p01 > 1.0 + 1e-9 {
                    return Err(format!(
                        "--p10 {p10} and --p01 {p01} add up to {}: they are shares of the same pairs (right under the first condition only, under the second only), so together at most 1",
                        typed(p10 + p01)
                    ));
                }
                if p10 == p01 {
                    return Err(format!(
                        "--p10 and --p01 are both {p10}: no difference to detect (McNemar's test compares the two kinds of discordant pair); give unequal shares"
                    ));
                }
                ([p10, p01], 0.0)
            }
            PowerDesign::Noninferiority => {
                let margin = open_unit(self.margin.ok_or("non-inferiority needs --margin")?, "margin")?;
                let (p1, p2) = (proportion(self.p1, "p1")?, proportion(self.p2, "p2")?);
                if p1 - p2 + margin <= 0.0 {
                    return Err(format!(
                        "--p1 {p1} is below --p2 {p2} by the --margin {margin} or more: the new arm is expected to be inferior, so no n shows it is not (the power stays at most --alpha); expect --p1 above {} or widen --margin",
                        typed(p2 - margin)
                    ));
                }
                if p1 * (1.0 - p1) + p2 * (1.0 - p2) == 0.0 {
                    return Err(format!(
                        "--p1 {p1} and --p2 {p2} leave no variance for the normal approximation: give a proportion strictly between 0 and 1 in at least one arm"
                    ));
                }
                ([p1, p2], margin)
            }
        };
        if let (true, Solve::Power { n }, None) = (self.exact, solve, clustering)
            && n.fract() != 0.0
        {
            return Err(format!("--n is {n}: the exact test counts whole pairs; give a whole number"));
        }
        power_analysis(self.design, p, margin, alpha, solve, clustering, self.exact)
    }
}

/// Rounds up, forgiving the last bits of floating-point error (110.00000000000001 is 110).
fn ceil_whole(x: f64) -> f64 {
    (x - 1e-9 * x.abs().max(1.0)).ceil()
}

/// Power or n for `design`, with the inputs `PowerQuery::analyse` checks. `p` is (p1, p2), the
/// new arm first, or for the paired design (p10, p01); `margin` is the non-inferiority margin
/// (unused otherwise); `exact` asks for the exact McNemar test (paired design only). Errors
/// when the exact test's n or power lies beyond `MAX_EXACT_PAIRS`.
pub fn power_analysis(
    design: PowerDesign,
    p: [f64; 2],
    margin: f64,
    alpha: f64,
    solve: Solve,
    clustering: Option<Clustering>,
    exact: bool,
) -> Result<PowerAnalysis, String> {
    let [a, b] = p;
    let h = cohens_h(a, b);
    let exact = exact && design == PowerDesign::Paired;
    let deff = clustering.map_or(1.0, |c| design_effect(c.size, c.icc));
    let too_many = |what: String| {
        format!(
            "{what}: the exact McNemar power is computed for up to {MAX_EXACT_PAIRS} pairs; at this size Connor's approximation (without --exact) is accurate"
        )
    };
    // (n as reported, power, the independent units the power is for)
    let (n, power, effective) = match solve {
        Solve::N { power } if exact => {
            let n = n_paired_exact(a, b, alpha, power).ok_or_else(|| too_many(format!("power {power} is not reached")))?;
            (n as f64, power_paired_exact(a, b, n, alpha), n as f64)
        }
        Solve::N { power } => {
            let n = match design {
                PowerDesign::Independent => n_independent(h, alpha, power),
                PowerDesign::Paired => n_paired(a, b, alpha, power),
                PowerDesign::Noninferiority => n_noninferiority(a, b, margin, alpha, power),
            };
            (n, power, n)
        }
        Solve::Power { n } if exact => {
            let pairs = (n / deff + 1e-9).floor();
            if pairs > MAX_EXACT_PAIRS as f64 {
                return Err(too_many(format!("{pairs} independent pairs")));
            }
            (n, power_paired_exact(a, b, pairs as u64, alpha), pairs)
        }
        Solve::Power { n } => {
            let effective = n / deff;
            let power = match design {
                PowerDesign::Independent => power_independent(h, effective, alpha),
                PowerDesign::Paired => power_paired(a, b, effective, alpha),
                PowerDesign::Noninferiority => power_noninferiority(a, b, margin, effective, alpha),
            };
            (n, power, effective)
        }
    };
    let clustered = clustering.map(|c| {
        let (clusters, observations) = match solve {
            Solve::N { .. } => {
                let clusters = ceil_whole(n * deff / c.size);
                (clusters, ceil_whole(clusters * c.size))
            }
            Solve::Power { .. } => (n / c.size, n),
        };
        Clustered { cluster_size: c.size, icc: c.icc, design_effect: deff, clusters, observations, effective_n: effective }
    });
    let method = match design {
        PowerDesign::Independent => "two-sided z test of two independent proportions, normal approximation on Cohen's h",
        PowerDesign::Paired if exact => "exact conditional McNemar test: two-sided binomial test at 1/2 on the discordant pairs",
        PowerDesign::Paired => "McNemar's test, Connor's (1987) normal approximation",
        PowerDesign::Noninferiority => "one-sided z test of the difference against the margin, normal approximation",
    };
    Ok(PowerAnalysis {
        design,
        method,
        solved_for: if matches!(solve, Solve::N { .. }) { "n" } else { "power" },
        exact,
        alpha,
        power,
        n,
        n_rounded_up: n.ceil(),
        unit: if design == PowerDesign::Paired { "pairs" } else { "units per group" },
        clustered,
        cohens_h: (design == PowerDesign::Independent).then_some(h),
    })
}

fn solve_increasing(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    if f(lo) >= 0.0 {
        return lo;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < 0.0 {
            lo = mid
        } else {
            hi = mid
        }
        if hi - lo < 1e-10 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Calibration of simulated against human per-scenario rates: OLS slope of human on simulated
/// with its standard error, and Spearman's rank correlation. A diagnostic, never a correction.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub scenarios: usize,
    pub slope: f64,
    pub slope_se: f64,
    pub intercept: f64,
    pub spearman: f64,
}

pub fn calibration(simulated: &[f64], human: &[f64]) -> Option<Calibration> {
    let n = simulated.len();
    if n < 3 || human.len() != n {
        return None;
    }
    let mx = simulated.iter().sum::<f64>() / n as f64;
    let my = human.iter().sum::<f64>() / n as f64;
    let sxx: f64 = simulated.iter().map(|x| (x - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = simulated.iter().zip(human).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let rss: f64 = simulated.iter().zip(human).map(|(x, y)| (y - intercept - slope * x).powi(2)).sum();
    let slope_se = (rss / (n as f64 - 2.0) / sxx).sqrt();
    let (rx, ry) = (ranks(simulated), ranks(human));
    let spearman = pearson(&rx, &ry);
    Some(Calibration { scenarios: n, slope, slope_se, intercept, spearman })
}

/// A behavioural study's graded answers (right or wrong), counted per arm and scenario.
#[derive(Debug, Clone, Default)]
pub struct StudyCounts {
    /// (arm, scenario) → (right, n).
    cells: BTreeMap<(String, String), (f64, f64)>,
}

/// A study's rates per arm, each arm tested against the control arm, and per arm and scenario.
/// Rows are treated as independent.
#[derive(Debug, Clone, Serialize)]
pub struct StudyAnalysis {
    /// The confidence level of every interval.
    pub confidence: f64,
    /// Comparisons with the control arm, over which the Holm-adjusted p-values are adjusted.
    pub comparisons: usize,
    pub arms: Vec<ArmRate>,
    pub scenarios: Vec<ScenarioRate>,
}

/// One arm's rate of right answers.
#[derive(Debug, Clone, Serialize)]
pub struct ArmRate {
    pub arm: String,
    pub x: f64,
    pub n: f64,
    pub rate: f64,
    pub ci: [f64; 2],
    pub control: bool,
    /// Absent for the control arm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vs_control: Option<VsControl>,
}

/// An arm against the control arm: the difference in rates with its interval, the test its
/// table allows (χ², or Fisher's exact test when an expected count is under 5) with its p-value
/// and the Holm-adjusted one, and the odds ratio (control over arm).
#[derive(Debug, Clone, Serialize)]
pub struct VsControl {
    /// The arm's rate minus the control's.
    pub difference: f64,
    /// Newcombe's hybrid score interval of the difference (method 10).
    pub difference_ci: [f64; 2],
    #[serde(flatten)]
    pub test: IndependenceTest,
    /// `p` adjusted by Holm's method over every comparison with the control.
    pub p_holm: f64,
    pub odds_ratio_control_over_arm: f64,
    pub or_ci: [f64; 2],
    pub or_corrected: bool,
}

/// One arm's rate in one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRate {
    pub arm: String,
    pub scenario: String,
    pub x: f64,
    pub n: f64,
    pub rate: f64,
    pub ci: [f64; 2],
}

impl StudyCounts {
    /// Counts one graded answer.
    pub fn add(&mut self, arm: String, scenario: String, right: bool) {
        let e = self.cells.entry((arm, scenario)).or_insert((0.0, 0.0));
        e.0 += f64::from(u8::from(right));
        e.1 += 1.0;
    }

    /// Per arm (each other arm against `control`) and per arm and scenario, in name order.
    pub fn analyze(&self, control: &str, confidence: f64) -> Result<StudyAnalysis, String> {
        let mut arms: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for ((arm, _), (x, n)) in &self.cells {
            let e = arms.entry(arm).or_insert((0.0, 0.0));
            e.0 += x;
            e.1 += n;
        }
        let Some(&(cx, cn)) = arms.get(control) else {
            return Err(format!("no arm `{control}` in the data (arms: {})", arms.keys().copied().collect::<Vec<_>>().join(", ")));
        };
        let mut arms: Vec<ArmRate> = arms
            .into_iter()
            .map(|(arm, (x, n))| {
                let r = rate(x, n, confidence);
                let vs_control = (arm != control).then(|| {
                    let or = odds_ratio(cx, cn, x, n, confidence);
                    VsControl {
                        difference: x / n - cx / cn,
                        difference_ci: newcombe_unpaired(x, n, cx, cn, confidence),
                        test: independence_test(x, n, cx, cn),
                        p_holm: f64::NAN,
                        odds_ratio_control_over_arm: or.or,
                        or_ci: or.ci,
                        or_corrected: or.corrected,
                    }
                });
                ArmRate { arm: arm.to_string(), x, n, rate: r.p, ci: r.ci, control: arm == control, vs_control }
            })
            .collect();
        let p: Vec<f64> = arms.iter().filter_map(|a| a.vs_control.as_ref().map(|v| v.test.p)).collect();
        let adjusted = holm(&p);
        for (v, adjusted) in arms.iter_mut().filter_map(|a| a.vs_control.as_mut()).zip(&adjusted) {
            v.p_holm = *adjusted;
        }
        let scenarios = self
            .cells
            .iter()
            .map(|((arm, scenario), &(x, n))| {
                let r = rate(x, n, confidence);
                ScenarioRate { arm: arm.clone(), scenario: scenario.clone(), x, n, rate: r.p, ci: r.ci }
            })
            .collect();
        Ok(StudyAnalysis { confidence, comparisons: p.len(), arms, scenarios })
    }

    /// Calibration of simulated people's per-scenario rates (a row's `stratum` is its scenario)
    /// against the rates of the arms other than `control`, over the scenarios both have.
    pub fn calibration(&self, control: &str, simulated: &[ResultRow]) -> Option<Calibration> {
        let mut sim: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for r in simulated {
            let e = sim.entry(r.stratum.as_deref().unwrap_or_default()).or_insert((0.0, 0.0));
            e.0 += r.score;
            e.1 += 1.0;
        }
        let mut human: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for ((arm, scenario), (x, n)) in &self.cells {
            if arm != control {
                let e = human.entry(scenario).or_insert((0.0, 0.0));
                e.0 += x;
                e.1 += n;
            }
        }
        let common: Vec<&str> = sim.keys().copied().filter(|s| human.contains_key(s)).collect();
        let xs: Vec<f64> = common.iter().map(|s| sim[s].0 / sim[s].1).collect();
        let ys: Vec<f64> = common.iter().map(|s| human[s].0 / human[s].1).collect();
        calibration(&xs, &ys)
    }
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|a, b| v[*a].total_cmp(&v[*b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    sxy / (sxx * syy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proportion::TableTest;

    #[test]
    fn uptake_table() {
        let pairs = [(true, true), (true, true), (true, false), (false, true), (false, false), (false, false)];
        let u = uptake(&pairs, 0.95);
        assert_eq!(u.table, [2, 1, 1, 2]);
        assert!((u.person_right_given_model_right.p - 2.0 / 3.0).abs() < 1e-12);
        assert!((u.person_right_given_model_wrong.p - 1.0 / 3.0).abs() < 1e-12);
    }

    fn query() -> PowerQuery {
        PowerQuery { p1: Some(0.6), p2: Some(0.4), power: Some(0.8), ..PowerQuery::new(PowerDesign::Independent) }
    }

    fn paired(p10: f64, p01: f64) -> PowerQuery {
        PowerQuery { p10: Some(p10), p01: Some(p01), power: Some(0.8), ..PowerQuery::new(PowerDesign::Paired) }
    }

    fn noninferiority(p1: f64, p2: f64, margin: f64) -> PowerQuery {
        PowerQuery { p1: Some(p1), p2: Some(p2), margin: Some(margin), power: Some(0.9), ..PowerQuery::new(PowerDesign::Noninferiority) }
    }

    #[test]
    fn a_power_query_names_the_flag_that_is_missing_or_out_of_range() {
        let q = query();
        let r = q.analyse().unwrap();
        assert_eq!(r.n_rounded_up, n_independent(cohens_h(0.6, 0.4), 0.05, 0.8).ceil());
        let err = |q: PowerQuery| q.analyse().unwrap_err();
        assert!(err(PowerQuery { p2: None, ..q.clone() }).contains("--p2"));
        assert!(err(PowerQuery { p1: Some(1.5), ..q.clone() }).contains("--p1"));
        assert!(err(PowerQuery { alpha: 1.5, ..q.clone() }).contains("--alpha is 1.5"));
        assert!(err(PowerQuery { power: Some(f64::NAN), ..q.clone() }).contains("--power"));
        assert!(err(PowerQuery { n: Some(10.0), ..q.clone() }).contains("either --power"));
        assert!(err(PowerQuery { power: None, n: Some(0.0), ..q.clone() }).contains("--n is 0"));
        assert!(err(PowerQuery { icc: Some(0.1), ..q.clone() }).contains("both --cluster-size and --icc"));
        assert!(err(PowerQuery { icc: Some(2.0), cluster_size: Some(3.0), ..q.clone() }).contains("--icc between 0 and 1"));
        assert!(err(PowerQuery { design: PowerDesign::Noninferiority, ..q.clone() }).contains("--margin"));
        assert!(err(PowerQuery { design: PowerDesign::Paired, ..q }).contains("--p10"));
    }

    #[test]
    fn no_difference_is_refused_rather_than_answered_with_a_huge_n() {
        let e = PowerQuery { p2: Some(0.6), ..query() }.analyse().unwrap_err();
        assert_eq!(e, "--p1 and --p2 are both 0.6: no difference to detect; give the proportion you expect in each arm");
        let e = paired(0.2, 0.2).analyse().unwrap_err();
        assert!(e.starts_with("--p10 and --p01 are both 0.2: no difference to detect"), "{e}");
        // The library functions say so too: no n, never a number that looks like one.
        assert_eq!(n_independent(0.0, 0.05, 0.9), f64::INFINITY);
        assert_eq!(n_paired(0.2, 0.2, 0.05, 0.9), f64::INFINITY);
    }

    #[test]
    fn paired_shares_above_one_in_total_are_refused() {
        let e = paired(0.7, 0.5).analyse().unwrap_err();
        assert!(e.starts_with("--p10 0.7 and --p01 0.5 add up to 1.2: they are shares of the same pairs"), "{e}");
        // Exactly 1 (every pair discordant) is a design, not an error.
        assert!(paired(0.6, 0.4).analyse().is_ok());
        assert!(PowerQuery { exact: true, ..paired(0.6, 0.4) }.analyse().is_ok());
    }

    #[test]
    fn a_new_arm_worse_than_the_margin_is_refused_and_the_margin_must_be_positive() {
        let e = noninferiority(0.6, 0.8, 0.1).analyse().unwrap_err();
        assert_eq!(
            e,
            "--p1 0.6 is below --p2 0.8 by the --margin 0.1 or more: the new arm is expected to be inferior, so no n shows it is not (the power stays at most --alpha); expect --p1 above 0.7 or widen --margin"
        );
        // On the boundary the power is α whatever n: refused too.
        assert!(noninferiority(0.7, 0.8, 0.1).analyse().is_err());
        assert!(noninferiority(0.71, 0.8, 0.1).analyse().is_ok());
        assert_eq!(noninferiority(0.6, 0.8, -0.1).analyse().unwrap_err(), "--margin is -0.1: give a number strictly between 0 and 1");
        assert!(noninferiority(1.0, 1.0, 0.1).analyse().unwrap_err().contains("no variance"));
        assert_eq!(n_noninferiority(0.6, 0.8, 0.1, 0.05, 0.9), f64::INFINITY);
        // The power of a given n stays below α when the new arm is inferior.
        assert!(power_noninferiority(0.6, 0.8, 0.1, 1556.0, 0.05) < 0.05);
    }

    #[test]
    fn exact_applies_to_the_paired_design_and_to_whole_pairs() {
        let e = PowerQuery { exact: true, ..query() }.analyse().unwrap_err();
        assert!(e.starts_with("--exact computes the exact McNemar test of the paired design"), "{e}");
        let e = PowerQuery { exact: true, power: None, n: Some(100.5), ..paired(0.2, 0.1) }.analyse().unwrap_err();
        assert_eq!(e, "--n is 100.5: the exact test counts whole pairs; give a whole number");
        let e = PowerQuery { exact: true, power: None, n: Some(1e6), ..paired(0.2, 0.1) }.analyse().unwrap_err();
        assert!(e.contains("computed for up to 100000 pairs") && e.contains("without --exact"), "{e}");
    }

    #[test]
    fn exact_mcnemar_power_by_hand() {
        // Five discordant pairs or fewer never reject at α = 0.05: 2 · (1/2)^5 = 0.0625.
        assert_eq!(power_paired_exact(0.5, 0.1, 5, 0.05), 0.0);
        // Every pair discordant (ψ = 1) and six pairs: only 0 or 6 of one kind rejects
        // (2 · 7/64 > 0.05 for one), so the power is 0.9⁶ + 0.1⁶ with π = 0.9.
        let p = power_paired_exact(0.9, 0.1, 6, 0.05);
        assert!((p - (0.9f64.powi(6) + 0.1f64.powi(6))).abs() < 1e-12, "{p}");
        // Seven pairs, ψ = 0.5: P(d = 6) · R(6) + P(d = 7) · R(7), both with c = 0.
        let r = |d: i32| 0.8f64.powi(d) + 0.2f64.powi(d);
        let expect = 7.0 * 0.5f64.powi(7) * r(6) + 0.5f64.powi(7) * r(7);
        assert!((power_paired_exact(0.4, 0.1, 7, 0.05) - expect).abs() < 1e-12);
        // The solved n is the first to reach the power.
        let n = n_paired_exact(0.3, 0.05, 0.05, 0.8).unwrap();
        assert!(power_paired_exact(0.3, 0.05, n, 0.05) >= 0.8);
        assert!((1..n).all(|m| power_paired_exact(0.3, 0.05, m, 0.05) < 0.8));
        // The exact test is conservative: it needs more pairs than Connor's approximation here.
        assert!(n as f64 > n_paired(0.3, 0.05, 0.05, 0.8), "{n}");
    }

    #[test]
    fn a_clustered_design_counts_people_and_observations() {
        // The Bean setting of the book (docs/src/statistics.md): 47% vs 34%, power 0.9, two
        // scenarios per person, ICC 0.1.
        let q = PowerQuery { p1: Some(0.47), p2: Some(0.34), power: Some(0.9), cluster_size: Some(2.0), icc: Some(0.1), ..query() };
        let r = q.analyse().unwrap();
        let c = r.clustered.clone().unwrap();
        assert_eq!((r.n_rounded_up, c.observations, c.clusters), (298.0, 328.0, 164.0));
        assert!((c.design_effect - 1.1).abs() < 1e-12 && c.effective_n == r.n);
        // 100 pairs × 1.1 = 110 observations is 55 people of two, not 56 by a rounding error.
        assert_eq!(ceil_whole(100.0 * 1.1 / 2.0), 55.0);
        // A given n is every observation: power at n / design effect, people n / cluster size.
        let g = PowerQuery { power: None, n: Some(200.0), ..q }.analyse().unwrap();
        let c = g.clustered.unwrap();
        assert_eq!((g.solved_for, c.observations, c.clusters), ("power", 200.0, 100.0));
        assert!((g.power - power_independent(cohens_h(0.47, 0.34), 200.0 / 1.1, 0.05)).abs() < 1e-15);
        assert!(query().analyse().unwrap().clustered.is_none());
    }

    #[test]
    fn gates() {
        assert_eq!(gate(2.0, [1.0, 4.0], 5.0, 100).result, GateResult::Pass);
        assert_eq!(gate(9.0, [6.0, 12.0], 5.0, 100).result, GateResult::Fail);
        let g = gate(3.0, [1.0, 7.0], 5.0, 100);
        assert_eq!(g.result, GateResult::Inconclusive);
        // Upper half-width 4 must shrink to the margin 2: n × (4/2)² = 400.
        assert_eq!(g.units_to_settle, Some(400));
    }

    #[test]
    fn connor_closed_form() {
        // Hand computation: p10 = 0.2, p01 = 0.1, α = 0.05, power 0.8:
        // ψ = 0.3, δ = 0.1 → (1.959964·√0.3 + 0.841621·√0.29)² / 0.01 = 233.9...
        let n = n_paired(0.2, 0.1, 0.05, 0.8);
        let expect = (1.959963984540054f64 * 0.3f64.sqrt() + 0.8416212335729143 * 0.29f64.sqrt()).powi(2) / 0.01;
        assert!((n - expect).abs() < 1e-9, "{n}");
        assert!((power_paired(0.2, 0.1, n, 0.05) - 0.8).abs() < 1e-9);
    }

    #[test]
    fn independent_power_round_trips() {
        let h = cohens_h(0.5, 0.35);
        let n = n_independent(h, 0.05, 0.9);
        assert!((power_independent(h, n, 0.05) - 0.9).abs() < 1e-9);
        assert!((design_effect(20.0, 0.1) - 2.9).abs() < 1e-12);
        let ni = n_noninferiority(0.8, 0.8, 0.1, 0.025, 0.9);
        assert!((power_noninferiority(0.8, 0.8, 0.1, ni, 0.025) - 0.9).abs() < 1e-9);
    }

    #[test]
    fn a_study_per_arm_against_the_control_and_calibrated_per_scenario() {
        let mut counts = StudyCounts::default();
        for (arm, scenario, right, n) in [("llm", "s1", 1, 4), ("llm", "s2", 3, 4), ("llm", "s3", 2, 4), ("control", "s1", 2, 4)] {
            for i in 0..n {
                counts.add(arm.into(), scenario.into(), i < right);
            }
        }
        let a = counts.analyze("control", 0.95).unwrap();
        assert_eq!(
            a.arms.iter().map(|r| (r.arm.as_str(), r.x, r.n, r.control)).collect::<Vec<_>>(),
            [("control", 2.0, 4.0, true), ("llm", 6.0, 12.0, false)]
        );
        assert!(a.arms[0].vs_control.is_none() && a.arms[1].vs_control.is_some());
        assert_eq!(a.scenarios.len(), 4);
        assert_eq!(counts.analyze("none", 0.95).unwrap_err(), "no arm `none` in the data (arms: control, llm)");
        // Simulated rates 0.5, 1, 0.75 against human 0.25, 0.75, 0.5: human = simulated − 0.25.
        let sim: Vec<ResultRow> = [("s1", 0.5), ("s2", 1.0), ("s3", 0.75), ("s9", 1.0)]
            .iter()
            .map(|(s, score)| ResultRow { stratum: Some(s.to_string()), score: *score, ..Default::default() })
            .collect();
        let c = counts.calibration("control", &sim).unwrap();
        assert!(c.scenarios == 3 && (c.slope - 1.0).abs() < 1e-12 && (c.intercept + 0.25).abs() < 1e-12, "{c:?}");
    }

    #[test]
    fn power_analysis_inflates_only_a_solved_n() {
        let two = Some(Clustering { size: 2.0, icc: 1.0 });
        let solved = power_analysis(PowerDesign::Paired, [0.2, 0.1], 0.0, 0.05, Solve::N { power: 0.8 }, two, false).unwrap();
        let c = solved.clustered.clone().unwrap();
        assert_eq!((solved.unit, solved.n_rounded_up, c.observations), ("pairs", 234.0, (solved.n * 2.0 / 2.0).ceil() * 2.0));
        let given = power_analysis(PowerDesign::Independent, [0.5, 0.35], 0.0, 0.05, Solve::Power { n: 200.0 }, two, false).unwrap();
        assert_eq!(given.clustered.unwrap().observations, 200.0);
        assert!((given.power - power_independent(cohens_h(0.5, 0.35), 100.0, 0.05)).abs() < 1e-15);
        assert!(given.cohens_h.is_some() && solved.cohens_h.is_none());
        // The exact test with a design effect: power at whole independent pairs, rounded down.
        let exact = power_analysis(PowerDesign::Paired, [0.2, 0.1], 0.0, 0.05, Solve::Power { n: 301.0 }, two, true).unwrap();
        assert_eq!(exact.clustered.unwrap().effective_n, 150.0);
        assert_eq!(exact.power, power_paired_exact(0.2, 0.1, 150, 0.05));
    }

    #[test]
    fn each_arm_against_the_control_with_the_test_its_table_allows_and_holm() {
        let mut counts = StudyCounts::default();
        for (arm, right, n) in [("control", 282, 600), ("llm", 204, 600), ("small", 1, 8)] {
            for i in 0..n {
                counts.add(arm.into(), "s1".into(), i < right);
            }
        }
        let a = counts.analyze("control", 0.9).unwrap();
        assert_eq!((a.confidence, a.comparisons), (0.9, 2));
        let vs = |arm: &str| a.arms.iter().find(|r| r.arm == arm).unwrap().vs_control.clone().unwrap();
        let (llm, small) = (vs("llm"), vs("small"));
        assert_eq!((llm.test.test, small.test.test), (TableTest::Chi2, TableTest::FisherExact));
        assert!((small.test.p - crate::proportion::fisher_exact(1, 7, 282, 318)).abs() < 1e-15);
        assert!((llm.difference - (0.34 - 0.47)).abs() < 1e-12);
        assert_eq!(llm.difference_ci, newcombe_unpaired(204.0, 600.0, 282.0, 600.0, 0.9));
        // Holm over two: the smaller p doubled, the larger kept (or raised to the first).
        assert!((llm.p_holm - 2.0 * llm.test.p).abs() < 1e-15);
        assert_eq!(small.p_holm, small.test.p.max(llm.p_holm));
    }

    #[test]
    fn calibration_of_a_perfect_and_a_flat_relation() {
        let sim = [0.2, 0.4, 0.6, 0.8];
        let c = calibration(&sim, &[0.1, 0.3, 0.5, 0.7]).unwrap();
        assert!((c.slope - 1.0).abs() < 1e-12 && c.slope_se.abs() < 1e-9 && (c.spearman - 1.0).abs() < 1e-12);
        let c = calibration(&sim, &[0.5, 0.2, 0.2, 0.5]).unwrap();
        assert!(c.slope.abs() < 1e-12, "{}", c.slope);
    }
}
