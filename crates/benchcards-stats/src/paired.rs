//! Two sets of results on the same units (two models, or before and after a fix) compared per
//! condition. Rows with the same condition and unit are one unit whatever their replicate
//! (epoch): each unit's replicates are averaged under each run, and the two means are paired.
//! When every unit's mean is right/wrong (0 or 1), Newcombe's paired interval and McNemar's
//! test; otherwise the normal interval of the mean paired difference over units.

use crate::data::ResultRow;
use crate::proportion::{Paired, mcnemar, newcombe_paired, z_for};
use serde::Serialize;
use std::collections::BTreeMap;

/// One condition's paired comparison: scores under A and B, A − B with its interval, and (for
/// right/wrong unit scores) McNemar's test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedRow {
    pub condition: String,
    /// Units with results under both runs: the pairs.
    pub n: usize,
    /// The fewest and the most replicates averaged into one unit's score, over both runs.
    pub replicates: [usize; 2],
    /// Rows of each run averaged into the paired units.
    pub rows_a: usize,
    pub rows_b: usize,
    pub score_a: f64,
    pub score_b: f64,
    pub difference: f64,
    /// Absent when the normal interval has fewer than 2 units to go on (it would have width 0).
    pub ci: Option<[f64; 2]>,
    pub method: &'static str,
    pub mcnemar_exact_p: Option<f64>,
    pub mcnemar_mid_p: Option<f64>,
}

/// One unit's results under both runs: (mean, replicates) under A, then under B.
type UnitPair = ((f64, usize), (f64, usize));

/// Each (condition, unit)'s mean score and its number of replicates.
fn unit_means(rows: &[ResultRow]) -> BTreeMap<(&str, &str), (f64, usize)> {
    let mut sums: BTreeMap<(&str, &str), (f64, usize)> = BTreeMap::new();
    for r in rows {
        let e = sums.entry((r.condition.as_str(), r.unit.as_str())).or_insert((0.0, 0));
        e.0 += r.score;
        e.1 += 1;
    }
    for (sum, replicates) in sums.values_mut() {
        *sum /= *replicates as f64;
    }
    sums
}

/// One row per condition (in name order) with a unit under both runs; none when `a` and `b`
/// share no unit.
pub fn compare(a: &[ResultRow], b: &[ResultRow], confidence: f64) -> Vec<PairedRow> {
    let means_b = unit_means(b);
    let mut by: BTreeMap<&str, Vec<UnitPair>> = BTreeMap::new();
    for (key, mean_a) in unit_means(a) {
        if let Some(mean_b) = means_b.get(&key) {
            by.entry(key.0).or_default().push((mean_a, *mean_b));
        }
    }
    by.into_iter().map(|(condition, units)| row(condition.to_string(), &units, confidence)).collect()
}

fn row(condition: String, units: &[UnitPair], confidence: f64) -> PairedRow {
    let n = units.len() as f64;
    let pairs: Vec<(f64, f64)> = units.iter().map(|((x, _), (y, _))| (*x, *y)).collect();
    let (ma, mb) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let binary = pairs.iter().all(|(x, y)| (*x == 0.0 || *x == 1.0) && (*y == 0.0 || *y == 1.0));
    let (ci, mc) = if binary {
        let mut t = Paired { both: 0.0, a_only: 0.0, b_only: 0.0, neither: 0.0 };
        for (x, y) in &pairs {
            match (*x > 0.5, *y > 0.5) {
                (true, true) => t.both += 1.0,
                (true, false) => t.a_only += 1.0,
                (false, true) => t.b_only += 1.0,
                (false, false) => t.neither += 1.0,
            }
        }
        (Some(newcombe_paired(t, confidence)), Some(mcnemar(t.a_only as u64, t.b_only as u64)))
    } else if pairs.len() < 2 {
        (None, None)
    } else {
        let d: Vec<f64> = pairs.iter().map(|(x, y)| x - y).collect();
        let mean = d.iter().sum::<f64>() / n;
        let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let half = z_for(confidence) * sd / n.sqrt();
        (Some([mean - half, mean + half]), None)
    };
    let replicates = units.iter().flat_map(|((_, ka), (_, kb))| [*ka, *kb]);
    PairedRow {
        condition,
        n: units.len(),
        replicates: [replicates.clone().min().unwrap_or(0), replicates.max().unwrap_or(0)],
        rows_a: units.iter().map(|((_, k), _)| k).sum(),
        rows_b: units.iter().map(|(_, (_, k))| k).sum(),
        score_a: ma,
        score_b: mb,
        difference: ma - mb,
        ci,
        method: if binary { "newcombe_paired" } else { "normal (mean of paired differences over units)" },
        mcnemar_exact_p: mc.map(|m| m.exact_p),
        mcnemar_mid_p: mc.map(|m| m.mid_p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(condition: &str, unit: &str, score: f64) -> ResultRow {
        epoch(condition, unit, 0, score)
    }

    fn epoch(condition: &str, unit: &str, replicate: u32, score: f64) -> ResultRow {
        ResultRow { unit: unit.into(), condition: condition.into(), score, replicate: Some(replicate.to_string()), ..Default::default() }
    }

    #[test]
    fn pairs_by_condition_and_unit() {
        let a = [r("x", "u1", 1.0), r("x", "u2", 1.0), r("x", "u3", 0.0), r("y", "u1", 0.5), r("y", "u2", 1.0), r("z", "u9", 1.0)];
        let b = [r("x", "u1", 1.0), r("x", "u2", 0.0), r("x", "u3", 0.0), r("y", "u1", 0.25), r("y", "u2", 0.5)];
        let rows = compare(&a, &b, 0.95);
        assert_eq!(rows.iter().map(|r| (r.condition.as_str(), r.n)).collect::<Vec<_>>(), [("x", 3), ("y", 2)]);
        assert!((rows[0].difference - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!((rows[0].method, rows[0].replicates), ("newcombe_paired", [1, 1]));
        assert!((rows[0].mcnemar_exact_p.unwrap() - 1.0).abs() < 1e-12, "one discordant pair");
        // Differences 0.25 and 0.5: mean 0.375, sd √0.03125, half-width z·sd/√2.
        let half = z_for(0.95) * 0.03125f64.sqrt() / 2f64.sqrt();
        assert!((rows[1].ci.unwrap()[0] - (0.375 - half)).abs() < 1e-12 && rows[1].mcnemar_exact_p.is_none());
        assert!(compare(&a, &[r("x", "u1", 1.0)], 0.95)[0].n == 1);
        assert!(compare(&a, &[], 0.95).is_empty());
    }

    #[test]
    fn epochs_are_replicates_of_one_unit_not_more_pairs() {
        // Two units, three epochs each under both runs. Run A is right on every epoch of u1 and
        // on none of u2; run B is right on one epoch in three of each.
        let mut a = Vec::new();
        let mut b = Vec::new();
        for e in 0..3 {
            a.extend([epoch("x", "u1", e, 1.0), epoch("x", "u2", e, 0.0)]);
            b.extend([epoch("x", "u1", e, f64::from(u8::from(e == 0))), epoch("x", "u2", e, f64::from(u8::from(e == 0)))]);
        }
        let row = &compare(&a, &b, 0.95)[0];
        assert_eq!((row.n, row.replicates, row.rows_a, row.rows_b), (2, [3, 3], 6, 6), "two units, not six pairs");
        assert!((row.score_a - 0.5).abs() < 1e-12 && (row.score_b - 1.0 / 3.0).abs() < 1e-12);
        // Unit means 1 vs 1/3 and 0 vs 1/3: not right/wrong, so the normal interval over the two
        // units' differences 2/3 and −1/3 (mean 1/6, sd √0.5).
        assert_eq!(row.method, "normal (mean of paired differences over units)");
        let half = z_for(0.95) * 0.5f64.sqrt() / 2f64.sqrt();
        let [lo, hi] = row.ci.unwrap();
        assert!((lo - (1.0 / 6.0 - half)).abs() < 1e-12 && (hi - (1.0 / 6.0 + half)).abs() < 1e-12, "{lo} {hi}");
        assert!(row.mcnemar_exact_p.is_none());
    }

    #[test]
    fn epochs_that_agree_keep_a_unit_right_or_wrong() {
        // Every epoch agrees within each unit: the unit means are 0/1, so McNemar over 3 units.
        let a: Vec<_> = (0..2).flat_map(|e| [epoch("x", "u1", e, 1.0), epoch("x", "u2", e, 1.0), epoch("x", "u3", e, 0.0)]).collect();
        let b: Vec<_> = (0..2).flat_map(|e| [epoch("x", "u1", e, 1.0), epoch("x", "u2", e, 0.0), epoch("x", "u3", e, 0.0)]).collect();
        let row = &compare(&a, &b, 0.95)[0];
        assert_eq!((row.n, row.method, row.replicates), (3, "newcombe_paired", [2, 2]));
        let table = Paired { both: 1.0, a_only: 1.0, b_only: 0.0, neither: 1.0 };
        assert_eq!(row.ci, Some(newcombe_paired(table, 0.95)));
        // Run B has one epoch where A has two: replicates run from 1 to 2.
        let row = &compare(&a, &[epoch("x", "u1", 0, 1.0), epoch("x", "u2", 0, 1.0)], 0.95)[0];
        assert_eq!((row.n, row.replicates, row.rows_a, row.rows_b), (2, [1, 2], 4, 2));
    }

    #[test]
    fn one_unit_of_averaged_scores_gets_no_interval_rather_than_a_certain_one() {
        let row = &compare(&[epoch("x", "u1", 0, 1.0), epoch("x", "u1", 1, 0.0)], &[epoch("x", "u1", 0, 0.0)], 0.95)[0];
        assert_eq!((row.n, row.ci, row.mcnemar_exact_p), (1, None, None));
        assert!((row.difference - 0.5).abs() < 1e-12);
    }
}
