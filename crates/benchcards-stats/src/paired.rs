//! Two sets of results on the same units (two models, or before and after a fix) compared per
//! condition: rows with the same condition, unit and replicate are paired. Right/wrong scores get
//! Newcombe's paired interval and McNemar's test; other scores the normal interval of the mean
//! paired difference.

use crate::data::ResultRow;
use crate::proportion::{Paired, mcnemar, newcombe_paired, z_for};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One condition's paired comparison: scores under A and B, A − B with its interval, and (for
/// right/wrong scores) McNemar's test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedRow {
    pub condition: String,
    /// Pairs.
    pub n: usize,
    pub score_a: f64,
    pub score_b: f64,
    pub difference: f64,
    pub ci: [f64; 2],
    pub method: &'static str,
    pub mcnemar_exact_p: Option<f64>,
    pub mcnemar_mid_p: Option<f64>,
}

/// One row per condition (in name order) with a pair; none when `a` and `b` share no unit.
pub fn compare(a: &[ResultRow], b: &[ResultRow], confidence: f64) -> Vec<PairedRow> {
    let key = |r: &ResultRow| (r.condition.clone(), r.unit.clone(), r.replicate.clone());
    let scores_b: HashMap<_, f64> = b.iter().map(|r| (key(r), r.score)).collect();
    let mut by: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for r in a {
        if let Some(sb) = scores_b.get(&key(r)) {
            by.entry(r.condition.clone()).or_default().push((r.score, *sb));
        }
    }
    by.into_iter().map(|(condition, pairs)| row(condition, &pairs, confidence)).collect()
}

fn row(condition: String, pairs: &[(f64, f64)], confidence: f64) -> PairedRow {
    let n = pairs.len() as f64;
    let (ma, mb) = (pairs.iter().map(|p| p.0).sum::<f64>() / n, pairs.iter().map(|p| p.1).sum::<f64>() / n);
    let binary = pairs.iter().all(|(x, y)| (*x == 0.0 || *x == 1.0) && (*y == 0.0 || *y == 1.0));
    let (ci, mc) = if binary {
        let mut t = Paired { both: 0.0, a_only: 0.0, b_only: 0.0, neither: 0.0 };
        for (x, y) in pairs {
            match (*x > 0.5, *y > 0.5) {
                (true, true) => t.both += 1.0,
                (true, false) => t.a_only += 1.0,
                (false, true) => t.b_only += 1.0,
                (false, false) => t.neither += 1.0,
            }
        }
        (newcombe_paired(t, confidence), Some(mcnemar(t.a_only as u64, t.b_only as u64)))
    } else {
        let d: Vec<f64> = pairs.iter().map(|(x, y)| x - y).collect();
        let mean = d.iter().sum::<f64>() / n;
        let sd = (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let half = z_for(confidence) * sd / n.sqrt();
        ([mean - half, mean + half], None)
    };
    PairedRow {
        condition,
        n: pairs.len(),
        score_a: ma,
        score_b: mb,
        difference: ma - mb,
        ci,
        method: if binary { "newcombe_paired" } else { "normal (mean of paired differences)" },
        mcnemar_exact_p: mc.map(|m| m.exact_p),
        mcnemar_mid_p: mc.map(|m| m.mid_p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(condition: &str, unit: &str, score: f64) -> ResultRow {
        ResultRow { unit: unit.into(), condition: condition.into(), score, replicate: Some("0".into()), ..Default::default() }
    }

    #[test]
    fn pairs_by_condition_unit_and_replicate() {
        let a = [r("x", "u1", 1.0), r("x", "u2", 1.0), r("x", "u3", 0.0), r("y", "u1", 0.5), r("y", "u2", 1.0), r("z", "u9", 1.0)];
        let b = [r("x", "u1", 1.0), r("x", "u2", 0.0), r("x", "u3", 0.0), r("y", "u1", 0.25), r("y", "u2", 0.5)];
        let rows = compare(&a, &b, 0.95);
        assert_eq!(rows.iter().map(|r| (r.condition.as_str(), r.n)).collect::<Vec<_>>(), [("x", 3), ("y", 2)]);
        assert!((rows[0].difference - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(rows[0].method, "newcombe_paired");
        assert!((rows[0].mcnemar_exact_p.unwrap() - 1.0).abs() < 1e-12, "one discordant pair");
        // Differences 0.25 and 0.5: mean 0.375, sd √0.03125, half-width z·sd/√2.
        let half = z_for(0.95) * 0.03125f64.sqrt() / 2f64.sqrt();
        assert!((rows[1].ci[0] - (0.375 - half)).abs() < 1e-12 && rows[1].mcnemar_exact_p.is_none());
        assert!(compare(&a, &[r("x", "u1", 1.0)], 0.95)[0].n == 1);
        assert!(compare(&a, &[], 0.95).is_empty());
    }
}
