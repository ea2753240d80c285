//! How much a step varies across strata (scenarios), as a random-effects meta-analysis over
//! strata: Cochran's Q, I², τ² by DerSimonian and Laird (Controlled Clinical Trials 7(3), 1986),
//! the random-effects mean with its interval, and the prediction interval for a new stratum like
//! these (Higgins, Thompson & Spiegelhalter, JRSS A 172(1), 2009). The fixed-strata figures say
//! what the step cost on *these* scenarios; these say how far it could land on a *new* one.

use crate::data::Data;
use crate::proportion::z_for;
use serde::Serialize;
use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heterogeneity {
    /// Strata with at least 2 units under each condition (the ones combined).
    pub strata: usize,
    pub q: f64,
    pub q_p: f64,
    /// Share of the spread beyond chance, 0–1.
    pub i2: f64,
    pub tau2: f64,
    pub tau: f64,
    /// The random-effects mean (strata like these) and its interval.
    pub mean: f64,
    pub mean_ci: [f64; 2],
    /// Where the step would fall in a new stratum like these (needs 3 strata).
    pub prediction: Option<[f64; 2]>,
}

/// DerSimonian–Laird over estimates `y` with within-stratum variances `v` (all positive);
/// none below 2 strata.
pub fn dersimonian_laird(y: &[f64], v: &[f64], confidence: f64) -> Option<Heterogeneity> {
    let k = y.len();
    if k < 2 || v.len() != k || v.iter().any(|v| v.is_nan() || *v <= 0.0) {
        return None;
    }
    let w: Vec<f64> = v.iter().map(|v| 1.0 / v).collect();
    let sw: f64 = w.iter().sum();
    let fixed = w.iter().zip(y).map(|(w, y)| w * y).sum::<f64>() / sw;
    let q: f64 = w.iter().zip(y).map(|(w, y)| w * (y - fixed).powi(2)).sum();
    let df = (k - 1) as f64;
    let c = sw - w.iter().map(|w| w * w).sum::<f64>() / sw;
    let tau2 = ((q - df) / c).max(0.0);
    let i2 = if q > 0.0 { ((q - df) / q).max(0.0) } else { 0.0 };
    let ws: Vec<f64> = v.iter().map(|v| 1.0 / (v + tau2)).collect();
    let sws: f64 = ws.iter().sum();
    let mean = ws.iter().zip(y).map(|(w, y)| w * y).sum::<f64>() / sws;
    let se = (1.0 / sws).sqrt();
    let z = z_for(confidence);
    let q_p = ChiSquared::new(df).map_or(f64::NAN, |d| 1.0 - d.cdf(q));
    let prediction = (k >= 3).then(|| StudentsT::new(0.0, 1.0, (k - 2) as f64).ok()).flatten().map(|t| {
        let half = t.inverse_cdf(1.0 - (1.0 - confidence) / 2.0) * (tau2 + se * se).sqrt();
        [mean - half, mean + half]
    });
    Some(Heterogeneity { strata: k, q, q_p, i2, tau2, tau: tau2.sqrt(), mean, mean_ci: [mean - z * se, mean + z * se], prediction })
}

/// Each stratum's step a − b and its variance, from the units observed there: the mean paired
/// difference when every unit has both conditions, else the difference of means. A variance of
/// zero (every unit alike) is replaced by that of half a discordant pair each way (paired) or
/// of (x + ½)/(n + 1) (each unpaired side), so a stratum never gets infinite weight. Strata with
/// fewer than 2 units under either condition are left out.
pub fn stratum_steps(data: &Data, a: usize, b: usize) -> (Vec<f64>, Vec<f64>) {
    let k = data.n_conditions();
    let (mut y, mut v) = (Vec::new(), Vec::new());
    let mean_var = |xs: &[f64]| {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        (m, xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0))
    };
    for r in data.stratum_ranges() {
        let score = |c: usize| -> Vec<f64> { r.clone().filter(|u| data.has[u * k + c] > 0.0).map(|u| data.score[u * k + c]).collect() };
        let (sa, sb) = (score(a), score(b));
        if sa.len() < 2 || sb.len() < 2 {
            continue;
        }
        let paired = r.clone().all(|u| (data.has[u * k + a] > 0.0) == (data.has[u * k + b] > 0.0));
        if paired {
            let d: Vec<f64> = sa.iter().zip(&sb).map(|(x, y)| x - y).collect();
            let n = d.len() as f64;
            let (m, var) = mean_var(&d);
            y.push(m);
            v.push(if var > 0.0 { var / n } else { 1.0 / ((n + 1.0) * (n + 1.0)) });
        } else {
            let side = |xs: &[f64]| {
                let n = xs.len() as f64;
                let (m, var) = mean_var(xs);
                let p = (m * n + 0.5) / (n + 1.0);
                (m, if var > 0.0 { var / n } else { p * (1.0 - p) / (n + 1.0) })
            };
            let ((ma, va), (mb, vb)) = (side(&sa), side(&sb));
            y.push(ma - mb);
            v.push(va + vb);
        }
    }
    (y, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homogeneous_strata_have_no_excess_spread() {
        let h = dersimonian_laird(&[0.1, 0.1, 0.1, 0.1], &[0.01; 4], 0.95).unwrap();
        assert_eq!((h.q, h.i2, h.tau2), (0.0, 0.0, 0.0));
        assert!((h.mean - 0.1).abs() < 1e-12);
        // With τ² = 0 the prediction interval is the t-widened interval of the mean.
        let [lo, hi] = h.prediction.unwrap();
        assert!((hi - lo) > (h.mean_ci[1] - h.mean_ci[0]));
    }

    #[test]
    fn a_textbook_case() {
        // Two strata at 0 and 1 with variance 0.1 each: Q = 5, I² = 0.8, τ² = (5 − 1)/10 = 0.4.
        let h = dersimonian_laird(&[0.0, 1.0], &[0.1, 0.1], 0.95).unwrap();
        assert!((h.q - 5.0).abs() < 1e-12 && (h.i2 - 0.8).abs() < 1e-12 && (h.tau2 - 0.4).abs() < 1e-12, "{h:?}");
        assert!(h.prediction.is_none(), "two strata give no prediction interval");
        assert!(dersimonian_laird(&[0.1], &[0.1], 0.95).is_none());
        assert!(dersimonian_laird(&[0.1, 0.2], &[0.1, 0.0], 0.95).is_none());
    }
}
