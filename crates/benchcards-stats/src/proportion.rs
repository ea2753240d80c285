//! Proportions and their comparisons: Wilson intervals, Newcombe's differences (unpaired and
//! paired, method 10 of each 1998 paper), McNemar's test, the two-proportion z and chi-square
//! tests, Fisher's exact test, the odds ratio with Woolf's interval, and Holm's adjustment of
//! several p-values.

use serde::Serialize;
use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, Discrete, DiscreteCDF, Normal};
use statrs::function::factorial::ln_binomial;

/// The confidence level of intervals when none is asked for.
pub const CONFIDENCE: f64 = 0.95;

/// The two-sided normal quantile for a confidence level (1.959964 for 0.95).
pub fn z_for(confidence: f64) -> f64 {
    normal().inverse_cdf(1.0 - (1.0 - confidence) / 2.0)
}

pub fn normal() -> Normal {
    Normal::new(0.0, 1.0).expect("standard normal")
}

/// A rate with its interval and n: every rate shown to a user carries both.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    pub x: f64,
    pub n: f64,
    pub p: f64,
    pub ci: [f64; 2],
}

/// Wilson's score interval for x successes out of n.
pub fn wilson(x: f64, n: f64, confidence: f64) -> [f64; 2] {
    if n <= 0.0 {
        return [0.0, 1.0];
    }
    let z = z_for(confidence);
    let p = x / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // At x = 0 or x = n the bound is exactly 0 or 1; rounding would leave 1e-17.
    let lo = if x <= 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if x >= n { 1.0 } else { (centre + half).min(1.0) };
    [lo, hi]
}

pub fn rate(x: f64, n: f64, confidence: f64) -> Rate {
    Rate { x, n, p: if n > 0.0 { x / n } else { f64::NAN }, ci: wilson(x, n, confidence) }
}

/// Newcombe's hybrid score interval for p1 − p2 from independent samples (1998, method 10).
pub fn newcombe_unpaired(x1: f64, n1: f64, x2: f64, n2: f64, confidence: f64) -> [f64; 2] {
    let (p1, p2) = (x1 / n1, x2 / n2);
    let [l1, u1] = wilson(x1, n1, confidence);
    let [l2, u2] = wilson(x2, n2, confidence);
    let d = p1 - p2;
    [d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(), d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt()]
}

/// A paired 2×2 table: `both` right under A and B, `a_only` right under A only, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Paired {
    pub both: f64,
    pub a_only: f64,
    pub b_only: f64,
    pub neither: f64,
}

impl Paired {
    pub fn n(&self) -> f64 {
        self.both + self.a_only + self.b_only + self.neither
    }
}

/// Newcombe's interval for pA − pB from paired data (1998, method 10: Wilson limits for each
/// margin combined with the phi correlation correction).
pub fn newcombe_paired(t: Paired, confidence: f64) -> [f64; 2] {
    let n = t.n();
    let (xa, xb) = (t.both + t.a_only, t.both + t.b_only);
    let (pa, pb) = (xa / n, xb / n);
    let [la, ua] = wilson(xa, n, confidence);
    let [lb, ub] = wilson(xb, n, confidence);
    let d = pa - pb;
    let (r, s, u, v) = (t.both, t.a_only, t.b_only, t.neither);
    // phi, corrected towards 0 by n/2 as in the paper; 0 when a margin is empty.
    let margins = (r + s) * (u + v) * (r + u) * (s + v);
    let phi = if margins > 0.0 {
        let b = r * v - s * u;
        let c = if b > n / 2.0 {
            b - n / 2.0
        } else if b < 0.0 {
            b
        } else {
            0.0
        };
        c / margins.sqrt()
    } else {
        0.0
    };
    let lower = d - ((pa - la).powi(2) - 2.0 * phi * (pa - la) * (ub - pb) + (ub - pb).powi(2)).max(0.0).sqrt();
    let upper = d + ((pb - lb).powi(2) - 2.0 * phi * (pb - lb) * (ua - pa) + (ua - pa).powi(2)).max(0.0).sqrt();
    [lower.max(-1.0), upper.min(1.0)]
}

/// McNemar's test on the discordant pairs: exact two-sided p and mid-p.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct McNemar {
    pub discordant: f64,
    pub exact_p: f64,
    pub mid_p: f64,
}

pub fn mcnemar(a_only: u64, b_only: u64) -> McNemar {
    let n = a_only + b_only;
    if n == 0 {
        return McNemar { discordant: 0.0, exact_p: 1.0, mid_p: 1.0 };
    }
    let k = a_only.min(b_only);
    let bin = Binomial::new(0.5, n).expect("valid binomial");
    let tail = bin.cdf(k);
    let exact = (2.0 * tail).min(1.0);
    let mid = (2.0 * (tail - 0.5 * bin.pmf(k))).min(1.0);
    McNemar { discordant: n as f64, exact_p: exact, mid_p: mid }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TwoProportionTest {
    pub z: f64,
    pub z_p: f64,
    pub chi2: f64,
    pub chi2_p: f64,
}

/// Two-proportion z test with the pooled variance (two-sided), and Pearson's chi-square on the
/// same 2×2 table without continuity correction (chi2 = z²).
pub fn two_proportion_test(x1: f64, n1: f64, x2: f64, n2: f64) -> TwoProportionTest {
    let p = (x1 + x2) / (n1 + n2);
    let se = (p * (1.0 - p) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let z = if se > 0.0 { (x1 / n1 - x2 / n2) / se } else { 0.0 };
    let p_z = 2.0 * normal().cdf(-z.abs());
    let chi2 = z * z;
    let chi2_p = 1.0 - ChiSquared::new(1.0).expect("df 1").cdf(chi2);
    TwoProportionTest { z, z_p: p_z, chi2, chi2_p }
}

/// Fisher's exact test of a 2×2 table `[[a, b], [c, d]]`, two-sided as `scipy.stats.fisher_exact`
/// and R's `fisher.test` compute it: the probability, with every margin fixed, of the tables no
/// more likely than the one observed (a relative tolerance of 1e-7 keeps ties together). A table
/// with an empty row or column gives 1.
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let (row1, row2, col1) = (a + b, c + d, a + c);
    let total = row1 + row2;
    if row1 == 0 || row2 == 0 || col1 == 0 || col1 == total {
        return 1.0;
    }
    // The top-left cell is hypergeometric: col1 draws from row1 successes among total.
    let ln_pmf = |x: u64| ln_binomial(row1, x) + ln_binomial(row2, col1 - x) - ln_binomial(total, col1);
    let observed = ln_pmf(a);
    let cut = observed + 1e-7f64.ln_1p();
    let p: f64 = (col1.saturating_sub(row2)..=col1.min(row1)).map(ln_pmf).filter(|&l| l <= cut).map(f64::exp).sum();
    p.min(1.0)
}

/// The test of two independent proportions chosen for the table: Pearson's χ² when every
/// expected count is at least 5, else Fisher's exact test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableTest {
    Chi2,
    FisherExact,
}

/// Two independent proportions tested with the test their table allows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IndependenceTest {
    pub test: TableTest,
    /// The smallest count expected in the 2×2 table if the two proportions were equal.
    pub min_expected: f64,
    /// Pearson's χ² without continuity correction, present when it is the test used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chi2: Option<f64>,
    /// Two-sided.
    pub p: f64,
}

/// Tests x1 of n1 against x2 of n2 (whole counts): Pearson's χ² when every expected count is at
/// least 5, else Fisher's exact test, which stays valid for small counts.
pub fn independence_test(x1: f64, n1: f64, x2: f64, n2: f64) -> IndependenceTest {
    let (right, total) = (x1 + x2, n1 + n2);
    let min_expected = [n1, n2].iter().flat_map(|n| [n * right / total, n * (total - right) / total]).fold(f64::INFINITY, f64::min);
    if min_expected >= 5.0 {
        let t = two_proportion_test(x1, n1, x2, n2);
        return IndependenceTest { test: TableTest::Chi2, min_expected, chi2: Some(t.chi2), p: t.chi2_p };
    }
    let p = fisher_exact(x1 as u64, (n1 - x1) as u64, x2 as u64, (n2 - x2) as u64);
    IndependenceTest { test: TableTest::FisherExact, min_expected, chi2: None, p }
}

/// Holm's step-down adjustment of p-values for testing them together (as statsmodels'
/// `multipletests(method="holm")`), in the order given: the i-th smallest of m is multiplied by
/// m − i + 1, kept no smaller than the adjusted value before it, and capped at 1.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OddsRatio {
    pub or: f64,
    pub ci: [f64; 2],
    /// Whether 0.5 was added to every cell because one was empty.
    pub corrected: bool,
}

/// Odds of success in group 1 over group 2, with Woolf's log interval. An empty cell gets the
/// Haldane–Anscombe correction (0.5 added to every cell), and the result says so.
pub fn odds_ratio(x1: f64, n1: f64, x2: f64, n2: f64, confidence: f64) -> OddsRatio {
    let (mut a, mut b, mut c, mut d) = (x1, n1 - x1, x2, n2 - x2);
    let corrected = [a, b, c, d].contains(&0.0);
    if corrected {
        a += 0.5;
        b += 0.5;
        c += 0.5;
        d += 0.5;
    }
    let or = (a * d) / (b * c);
    let se = (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d).sqrt();
    let z = z_for(confidence);
    OddsRatio { or, ci: [(or.ln() - z * se).exp(), (or.ln() + z * se).exp()], corrected }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn wilson_textbook() {
        // Newcombe (1998a), Table I: 81/263 → 0.2553 to 0.3662; 15/148 → 0.0624 to 0.1605.
        let [l, u] = wilson(81.0, 263.0, 0.95);
        assert!(close(l, 0.2553, 5e-5) && close(u, 0.3662, 5e-5), "{l} {u}");
        let [l, u] = wilson(15.0, 148.0, 0.95);
        assert!(close(l, 0.0624, 5e-5) && close(u, 0.1605, 5e-5), "{l} {u}");
        assert_eq!(wilson(0.0, 10.0, 0.95)[0], 0.0);
    }

    #[test]
    fn newcombe_unpaired_textbook() {
        // Newcombe (1998b), Table II, method 10: 56/70 − 48/80 → 0.0524 to 0.3339.
        let [l, u] = newcombe_unpaired(56.0, 70.0, 48.0, 80.0, 0.95);
        assert!(close(l, 0.0524, 5e-5) && close(u, 0.3339, 5e-5), "{l} {u}");
    }

    #[test]
    fn mcnemar_small_table() {
        // 1 vs 6 discordant pairs: P(X ≤ 1 | n = 7) = 8/128; exact p = 0.125, mid-p = 0.0703125.
        let m = mcnemar(1, 6);
        assert!(close(m.exact_p, 0.125, 1e-12), "{}", m.exact_p);
        assert!(close(m.mid_p, 0.0703125, 1e-12), "{}", m.mid_p);
        assert_eq!(mcnemar(0, 0).exact_p, 1.0);
    }

    #[test]
    fn fisher_exact_textbook() {
        // Fisher's lady tasting tea, 3 of 4 cups right: 34/70 (Agresti 2002, §3.5.1).
        assert!(close(fisher_exact(3, 1, 1, 3), 34.0 / 70.0, 1e-12), "{}", fisher_exact(3, 1, 1, 3));
        // Two extreme tables of five: 2 · 1/C(10, 5) = 2/252.
        assert!(close(fisher_exact(0, 5, 5, 0), 2.0 / 252.0, 1e-12));
        // Dieting by sex (Wikipedia's worked example), p = 0.0027594561852200836 by scipy.
        assert!(close(fisher_exact(1, 9, 11, 3), 0.0027594561852200836, 1e-12));
        assert_eq!(fisher_exact(10, 10, 10, 10), 1.0);
        assert_eq!(fisher_exact(0, 0, 3, 4), 1.0, "an empty row");
        assert_eq!(fisher_exact(0, 3, 0, 4), 1.0, "an empty column");
    }

    #[test]
    fn the_table_decides_between_chi2_and_fisher() {
        // 1/8 against 282/600: 8 · 283/608 = 3.72 people expected right in the small arm.
        let small = independence_test(1.0, 8.0, 282.0, 600.0);
        assert_eq!((small.test, small.chi2), (TableTest::FisherExact, None));
        assert!(close(small.min_expected, 8.0 * 283.0 / 608.0, 1e-12));
        assert!(close(small.p, fisher_exact(1, 7, 282, 318), 1e-15));
        let large = independence_test(204.0, 600.0, 282.0, 600.0);
        assert_eq!(large.test, TableTest::Chi2);
        assert!(close(large.p, two_proportion_test(204.0, 600.0, 282.0, 600.0).chi2_p, 1e-15));
    }

    #[test]
    fn holm_textbook() {
        // Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, then 0.04 raised to 0.06.
        let got = holm(&[0.01, 0.04, 0.03, 0.005]);
        for (g, e) in got.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert!(close(*g, e, 1e-15), "{got:?}");
        }
        let got = holm(&[0.5, 0.2, 0.9]);
        assert!(got[0] == 1.0 && close(got[1], 0.6, 1e-15) && got[2] == 1.0, "capped at 1, never below an earlier one: {got:?}");
        assert_eq!(holm(&[0.03]), [0.03], "one comparison is not adjusted");
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn odds_ratio_hand_computed() {
        // 20/50 vs 10/50: OR = (20·40)/(30·10) = 2.6667; se = sqrt(1/20 + 1/30 + 1/10 + 1/40).
        let o = odds_ratio(20.0, 50.0, 10.0, 50.0, 0.95);
        assert!(close(o.or, 8.0 / 3.0, 1e-12));
        let se: f64 = (1.0f64 / 20.0 + 1.0 / 30.0 + 1.0 / 10.0 + 1.0 / 40.0).sqrt();
        assert!(close(o.ci[0], (o.or.ln() - 1.959963984540054 * se).exp(), 1e-9));
        assert!(!o.corrected);
        assert!(odds_ratio(0.0, 10.0, 5.0, 10.0, 0.95).corrected);
    }
}
