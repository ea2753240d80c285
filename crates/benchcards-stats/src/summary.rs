//! Summaries of measured quantities (message lengths, turns, register scores): means with
//! Student-t intervals, Welch's interval for a difference of means, the median, and quantiles by
//! nearest rank.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A mean with its n and, from two values on, its Student-t interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mean {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
    pub ci: Option<[f64; 2]>,
}

fn t_quantile(confidence: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |t| t.inverse_cdf(1.0 - (1.0 - confidence) / 2.0))
}

/// The mean of `values` with a two-sided Student-t interval (none below two values).
pub fn mean_t(values: &[f64], confidence: f64) -> Option<Mean> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return Some(Mean { mean, sd: f64::NAN, n, ci: None });
    }
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let half = t_quantile(confidence, (n - 1) as f64) * sd / (n as f64).sqrt();
    Some(Mean { mean, sd, n, ci: Some([mean - half, mean + half]) })
}

/// Welch's interval for mean(a) − mean(b), unequal variances, with Welch–Satterthwaite degrees
/// of freedom. None when either side has fewer than two values or both have no spread.
pub fn welch(a: &[f64], b: &[f64], confidence: f64) -> Option<(f64, [f64; 2])> {
    let (ma, mb) = (mean_t(a, confidence)?, mean_t(b, confidence)?);
    if ma.n < 2 || mb.n < 2 {
        return None;
    }
    let (va, vb) = (ma.sd.powi(2) / ma.n as f64, mb.sd.powi(2) / mb.n as f64);
    let se = (va + vb).sqrt();
    if se == 0.0 {
        return None;
    }
    let df = (va + vb).powi(2) / (va.powi(2) / (ma.n - 1) as f64 + vb.powi(2) / (mb.n - 1) as f64);
    let d = ma.mean - mb.mean;
    let half = t_quantile(confidence, df) * se;
    Some((d, [d - half, d + half]))
}

/// The median (the mean of the two middle values when n is even).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The q-quantile by nearest rank: the smallest value with at least a share q of values at or
/// below it (numpy's `inverted_cdf` method).
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return None;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_values() {
        // Mean 5, sd √(32/7), t(7) = 2.364624: 5 ± 1.787.
        let m = mean_t(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 0.95).unwrap();
        assert!((m.mean - 5.0).abs() < 1e-12 && (m.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        let half = 2.364624251 * m.sd / 8f64.sqrt();
        assert!((m.ci.unwrap()[1] - (5.0 + half)).abs() < 1e-6);
        assert_eq!(mean_t(&[3.0], 0.95).unwrap().ci, None);
        assert_eq!(median(&[1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0]), Some(2.0));
        assert_eq!(quantile(&[1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0], 0.9), Some(3.0));
        assert_eq!(quantile(&[5.0, 1.0, 3.0], 0.5), Some(3.0));
        assert_eq!(welch(&[1.0, 1.0], &[2.0, 2.0], 0.95), None, "no spread on either side");
    }
}
