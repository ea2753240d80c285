//! Stage 3 and 4 questions: the uptake table (does the person follow the model?), gates (is a
//! measured drop within the deployment's tolerance?), power for the studies that follow, and the
//! calibration of simulated against human results.

use crate::proportion::{McNemar, Rate, mcnemar, normal, rate};
use serde::Serialize;
use statrs::distribution::ContinuousCDF;

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
    fn calibration_of_a_perfect_and_a_flat_relation() {
        let sim = [0.2, 0.4, 0.6, 0.8];
        let c = calibration(&sim, &[0.1, 0.3, 0.5, 0.7]).unwrap();
        assert!((c.slope - 1.0).abs() < 1e-12 && c.slope_se.abs() < 1e-9 && (c.spearman - 1.0).abs() < 1e-12);
        let c = calibration(&sim, &[0.5, 0.2, 0.2, 0.5]).unwrap();
        assert!(c.slope.abs() < 1e-12, "{}", c.slope);
    }
}
