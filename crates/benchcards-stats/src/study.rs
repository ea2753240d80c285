//! Stage 3 and 4 questions: the uptake table (does the person follow the model?), gates (is a
//! measured drop within the deployment's tolerance?), power for the studies that follow, and the
//! calibration of simulated against human results.

use crate::data::{Data, ResultRow};
use crate::proportion::{McNemar, Rate, mcnemar, newcombe_unpaired, normal, odds_ratio, rate, two_proportion_test};
use serde::Serialize;
use statrs::distribution::ContinuousCDF;
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
pub fn n_independent(h: f64, alpha: f64, power: f64) -> f64 {
    solve_increasing(|n| power_independent(h, n, alpha) - power, 2.0, 1e12)
}

/// Connor (1987): pairs needed for McNemar's test, with ψ = p10 + p01 and δ = p10 − p01.
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

/// Non-inferiority of two independent proportions (one-sided α): the new arm p_new is not worse
/// than p_ref by more than `margin`. n per group = (z_{1−α} + z_{1−β})² (p_new q_new + p_ref q_ref) / (p_new − p_ref + margin)².
pub fn n_noninferiority(p_new: f64, p_ref: f64, margin: f64, alpha: f64, power: f64) -> f64 {
    let nd = normal();
    let z = nd.inverse_cdf(1.0 - alpha) + nd.inverse_cdf(power);
    z * z * (p_new * (1.0 - p_new) + p_ref * (1.0 - p_ref)) / (p_new - p_ref + margin).powi(2)
}

pub fn power_noninferiority(p_new: f64, p_ref: f64, margin: f64, n: f64, alpha: f64) -> f64 {
    let nd = normal();
    let se = ((p_new * (1.0 - p_new) + p_ref * (1.0 - p_ref)) / n).sqrt();
    nd.cdf((p_new - p_ref + margin) / se - nd.inverse_cdf(1.0 - alpha))
}

/// Design effect of clustering: 1 + (m − 1)·ICC for clusters of m units.
pub fn design_effect(cluster_size: f64, icc: f64) -> f64 {
    1.0 + (cluster_size - 1.0) * icc
}

/// A design to plan a stage-4 study (or a stage-3 comparison) for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum PowerDesign {
    /// Two independent proportions (Cohen's h, normal approximation).
    Independent,
    /// Paired proportions, McNemar's test (Connor 1987).
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

/// The answer of a power calculation, with the n a clustered design needs.
#[derive(Debug, Clone, Serialize)]
pub struct PowerAnalysis {
    pub design: PowerDesign,
    pub alpha: f64,
    pub power: f64,
    pub n: f64,
    pub n_rounded_up: f64,
    /// What n counts: units per group, or pairs.
    pub unit: &'static str,
    pub design_effect: Option<f64>,
    /// The n solved for times the design effect (a given n is already every unit), rounded up.
    pub n_with_design_effect: Option<f64>,
    /// The independent design's effect size.
    #[serde(skip)]
    pub cohens_h: Option<f64>,
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
    /// Units per group (pairs for the paired design): solve for power.
    #[cfg_attr(feature = "clap", arg(long))]
    pub n: Option<f64>,
    /// Units per cluster (e.g. scenarios per participant), for the design effect.
    #[cfg_attr(feature = "clap", arg(long))]
    pub cluster_size: Option<f64>,
    /// Intra-cluster correlation, for the design effect.
    #[cfg_attr(feature = "clap", arg(long))]
    pub icc: Option<f64>,
}

impl PowerQuery {
    /// The answer, or what is missing or out of range, named by its flag.
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
        let deff = match (self.cluster_size, self.icc) {
            (Some(m), Some(r)) if m >= 1.0 && (0.0..=1.0).contains(&r) => Some(design_effect(m, r)),
            (Some(_), Some(_)) => return Err("--cluster-size must be at least 1 and --icc between 0 and 1".into()),
            (None, None) => None,
            _ => return Err("the design effect needs both --cluster-size and --icc".into()),
        };
        let (p, margin) = match self.design {
            PowerDesign::Independent => ([proportion(self.p1, "p1")?, proportion(self.p2, "p2")?], 0.0),
            PowerDesign::Paired => ([proportion(self.p10, "p10")?, proportion(self.p01, "p01")?], 0.0),
            PowerDesign::Noninferiority => {
                let margin = self.margin.ok_or("non-inferiority needs --margin")?;
                ([proportion(self.p1, "p1")?, proportion(self.p2, "p2")?], open_unit(margin, "margin")?)
            }
        };
        Ok(power_analysis(self.design, p, margin, alpha, solve, deff))
    }
}

/// Power or n for `design`. `p` is (p1, p2), the new arm first, or for the paired design
/// (p10, p01); `margin` is the non-inferiority margin (unused otherwise).
pub fn power_analysis(
    design: PowerDesign,
    p: [f64; 2],
    margin: f64,
    alpha: f64,
    solve: Solve,
    design_effect: Option<f64>,
) -> PowerAnalysis {
    let [a, b] = p;
    let h = cohens_h(a, b);
    let (n, power) = match solve {
        Solve::N { power } => {
            let n = match design {
                PowerDesign::Independent => n_independent(h, alpha, power),
                PowerDesign::Paired => n_paired(a, b, alpha, power),
                PowerDesign::Noninferiority => n_noninferiority(a, b, margin, alpha, power),
            };
            (n, power)
        }
        Solve::Power { n } => {
            let effective = n / design_effect.unwrap_or(1.0);
            let power = match design {
                PowerDesign::Independent => power_independent(h, effective, alpha),
                PowerDesign::Paired => power_paired(a, b, effective, alpha),
                PowerDesign::Noninferiority => power_noninferiority(a, b, margin, effective, alpha),
            };
            (n, power)
        }
    };
    let clustered = |d: f64| if matches!(solve, Solve::N { .. }) { n * d } else { n };
    PowerAnalysis {
        design,
        alpha,
        power,
        n,
        n_rounded_up: n.ceil(),
        unit: if design == PowerDesign::Paired { "pairs" } else { "units per group" },
        design_effect,
        n_with_design_effect: design_effect.map(|d| clustered(d).ceil()),
        cohens_h: (design == PowerDesign::Independent).then_some(h),
    }
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

/// An arm against the control arm: χ², the odds ratio (control over arm) and the difference in rates.
#[derive(Debug, Clone, Serialize)]
pub struct VsControl {
    pub chi2: f64,
    pub p: f64,
    pub odds_ratio_control_over_arm: f64,
    pub or_ci: [f64; 2],
    pub or_corrected: bool,
    pub difference_ci: [f64; 2],
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
        let arms = arms
            .into_iter()
            .map(|(arm, (x, n))| {
                let r = rate(x, n, confidence);
                let vs_control = (arm != control).then(|| {
                    let test = two_proportion_test(x, n, cx, cn);
                    let or = odds_ratio(cx, cn, x, n, confidence);
                    VsControl {
                        chi2: test.chi2,
                        p: test.chi2_p,
                        odds_ratio_control_over_arm: or.or,
                        or_ci: or.ci,
                        or_corrected: or.corrected,
                        difference_ci: newcombe_unpaired(x, n, cx, cn, confidence),
                    }
                });
                ArmRate { arm: arm.to_string(), x, n, rate: r.p, ci: r.ci, control: arm == control, vs_control }
            })
            .collect();
        let scenarios = self
            .cells
            .iter()
            .map(|((arm, scenario), &(x, n))| {
                let r = rate(x, n, confidence);
                ScenarioRate { arm: arm.clone(), scenario: scenario.clone(), x, n, rate: r.p, ci: r.ci }
            })
            .collect();
        Ok(StudyAnalysis { arms, scenarios })
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

    #[test]
    fn uptake_table() {
        let pairs = [(true, true), (true, true), (true, false), (false, true), (false, false), (false, false)];
        let u = uptake(&pairs, 0.95);
        assert_eq!(u.table, [2, 1, 1, 2]);
        assert!((u.person_right_given_model_right.p - 2.0 / 3.0).abs() < 1e-12);
        assert!((u.person_right_given_model_wrong.p - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_power_query_names_the_flag_that_is_missing_or_out_of_range() {
        let q = PowerQuery {
            design: PowerDesign::Independent,
            p1: Some(0.6),
            p2: Some(0.4),
            p10: None,
            p01: None,
            margin: None,
            alpha: 0.05,
            power: Some(0.8),
            n: None,
            cluster_size: None,
            icc: None,
        };
        let r = q.analyse().unwrap();
        assert_eq!(
            r.n_rounded_up,
            power_analysis(PowerDesign::Independent, [0.6, 0.4], 0.0, 0.05, Solve::N { power: 0.8 }, None).n_rounded_up
        );
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
        let solved = power_analysis(PowerDesign::Paired, [0.2, 0.1], 0.0, 0.05, Solve::N { power: 0.8 }, Some(2.0));
        assert_eq!((solved.unit, solved.n_rounded_up, solved.n_with_design_effect), ("pairs", 234.0, Some((solved.n * 2.0).ceil())));
        let given = power_analysis(PowerDesign::Independent, [0.5, 0.35], 0.0, 0.05, Solve::Power { n: 200.0 }, Some(2.0));
        assert_eq!(given.n_with_design_effect, Some(200.0));
        assert!((given.power - power_independent(cohens_h(0.5, 0.35), 100.0, 0.05)).abs() < 1e-15);
        assert!(given.cohens_h.is_some() && solved.cohens_h.is_none());
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
