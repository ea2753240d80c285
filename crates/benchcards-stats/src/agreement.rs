//! Agreement between two raters on the same units: the share of units they agree on, and Cohen's
//! kappa with its asymptotic standard error (Fleiss, Cohen & Everitt 1969), as statsmodels'
//! `cohens_kappa` computes it (checked against it in `tests/reference.rs`).

use crate::proportion::{Rate, normal, rate};
use serde::Serialize;
use statrs::distribution::ContinuousCDF;

/// Cohen's kappa for a square table of counts, with its standard error and Wald interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Kappa {
    pub kappa: f64,
    pub se: f64,
    pub ci: [f64; 2],
    pub n: f64,
}

/// How two raters agree on `n` units: the share of units they agree on (with its Wilson
/// interval) and Cohen's kappa (none when the table is not square, is empty, or agreement by
/// chance is already certain, as when both raters give one category to every unit).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Agreement {
    pub agreement: Rate,
    pub kappa: Option<Kappa>,
}

/// Cohen's kappa of `table` (rows: rater A's category; columns: rater B's).
pub fn cohens_kappa(table: &[Vec<f64>], confidence: f64) -> Option<Kappa> {
    let k = table.len();
    if k == 0 || table.iter().any(|r| r.len() != k) {
        return None;
    }
    let n: f64 = table.iter().flatten().sum();
    if n <= 0.0 {
        return None;
    }
    let p = |i: usize, j: usize| table[i][j] / n;
    let row: Vec<f64> = (0..k).map(|i| (0..k).map(|j| p(i, j)).sum()).collect();
    let col: Vec<f64> = (0..k).map(|j| (0..k).map(|i| p(i, j)).sum()).collect();
    let observed: f64 = (0..k).map(|i| p(i, i)).sum();
    let chance: f64 = (0..k).map(|i| row[i] * col[i]).sum();
    if (1.0 - chance).abs() < 1e-12 {
        return None;
    }
    let kappa = (observed - chance) / (1.0 - chance);
    let a: f64 = (0..k).map(|i| p(i, i) * (1.0 - (row[i] + col[i]) * (1.0 - kappa)).powi(2)).sum();
    let b: f64 =
        (0..k).flat_map(|i| (0..k).filter(move |&j| j != i).map(move |j| (i, j))).map(|(i, j)| p(i, j) * (col[i] + row[j]).powi(2)).sum();
    let c = (kappa - chance * (1.0 - kappa)).powi(2);
    let var = (a + (1.0 - kappa).powi(2) * b - c) / (1.0 - chance).powi(2) / n;
    let se = var.max(0.0).sqrt();
    let z = normal().inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    Some(Kappa { kappa, se, ci: [kappa - z * se, kappa + z * se], n })
}

/// Agreement of two raters' yes/no verdicts on the same units, in pairs `(a, b)`.
pub fn binary_agreement(pairs: &[(bool, bool)], confidence: f64) -> Agreement {
    let mut table = vec![vec![0.0; 2]; 2];
    for &(a, b) in pairs {
        table[usize::from(a)][usize::from(b)] += 1.0;
    }
    let agree = table[0][0] + table[1][1];
    Agreement { agreement: rate(agree, pairs.len() as f64, confidence), kappa: cohens_kappa(&table, confidence) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_of_a_textbook_table() {
        // Cohen's (1960)-style worked example: 2×2, 20 yes-yes, 5 yes-no, 10 no-yes, 15 no-no:
        // observed 0.7, chance 0.5, kappa 0.4.
        let k = cohens_kappa(&[vec![20.0, 5.0], vec![10.0, 15.0]], 0.95).unwrap();
        assert!((k.kappa - 0.4).abs() < 1e-12, "{k:?}");
        assert!(k.ci[0] < 0.4 && k.ci[1] > 0.4 && k.se > 0.0);
        // Perfect agreement on both categories is kappa 1 with no spread.
        let k = cohens_kappa(&[vec![7.0, 0.0], vec![0.0, 3.0]], 0.95).unwrap();
        assert_eq!((k.kappa, k.se), (1.0, 0.0));
        // One category for everything: chance agreement is certain, kappa undefined.
        assert!(cohens_kappa(&[vec![9.0, 0.0], vec![0.0, 0.0]], 0.95).is_none());
        assert!(cohens_kappa(&[vec![1.0, 2.0]], 0.95).is_none());
    }

    #[test]
    fn binary_agreement_counts_pairs() {
        let pairs = [(true, true), (true, true), (false, false), (true, false)];
        let a = binary_agreement(&pairs, 0.95);
        assert_eq!((a.agreement.x, a.agreement.n), (3.0, 4.0));
        assert!((a.kappa.unwrap().kappa - 0.5).abs() < 1e-12, "observed 0.75, chance 0.5");
    }
}
