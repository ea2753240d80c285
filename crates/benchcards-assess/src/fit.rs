//! Fit: how well a benchmark's evidence transfers to a deployment, as a range in [0, 1].
//!
//! Per dimension holds 1, partial 0.5, broken 0 (the taxonomy file holds the numbers); a broken
//! dimension in a group whose cost the card's `tested` entries measured scores 0.25 ("broken —
//! cost measured": the size of the problem is known). An unknown dimension has no score of its
//! own: the range's low end counts it as broken, its high end as holding, so **silence is not
//! evidence** and a card never climbs by stating less. A group's score is the mean over its
//! assessed dimensions; fit is the weight-averaged group score (critical 4, high 2, normal 1,
//! low 0.5). Averaging within a group first keeps one underlying assumption (who wrote the
//! queries), which several dimensions of one group describe, from being counted several times.
//! Dimensions not assessed are left out; a group with none assessed is left out of fit.
//!
//! Cards rank by the low end, then by fewer unknown dimensions, then by the high end.

use benchcards_core::{Taxonomy, Verdict};
use serde::Serialize;
use std::cmp::Ordering;

/// Fit as a range: `low` counts every unknown dimension as broken, `high` as holding.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fit {
    pub low: f64,
    pub high: f64,
}

impl Fit {
    /// `0.31–0.58`, or one number when nothing is unknown.
    pub fn display(&self) -> String {
        if (self.high - self.low).abs() < 0.005 { format!("{:.2}", self.low) } else { format!("{:.2}–{:.2}", self.low, self.high) }
    }
}

/// The (low, high) score of one verdict, or `None` when it is not assessed. `cost_measured`:
/// the card measured what breaking this dimension's group costs.
pub fn verdict_score(t: &Taxonomy, v: Verdict, cost_measured: bool) -> Option<(f64, f64)> {
    let s = &t.verdict_scores;
    let one = |x: f64| Some((x, x));
    match v {
        Verdict::Holds => one(s.holds),
        Verdict::Partial => one(s.partial),
        Verdict::Broken if cost_measured => one(s.broken_cost_measured),
        Verdict::Broken => one(s.broken),
        Verdict::Unknown => Some((s.broken, s.holds)),
        Verdict::NotAssessed => None,
    }
}

/// Mean (low, high) score of a group's assessed verdicts.
pub fn group_score(t: &Taxonomy, verdicts: &[Verdict], cost_measured: bool) -> Option<(f64, f64)> {
    let scores: Vec<(f64, f64)> = verdicts.iter().filter_map(|v| verdict_score(t, *v, cost_measured)).collect();
    let n = scores.len() as f64;
    (!scores.is_empty()).then(|| (scores.iter().map(|s| s.0).sum::<f64>() / n, scores.iter().map(|s| s.1).sum::<f64>() / n))
}

/// Weight-averaged score over groups that have one: `(weight, (low, high))` pairs.
pub fn fit(groups: &[(f64, Option<(f64, f64)>)]) -> Option<Fit> {
    let assessed: Vec<(f64, (f64, f64))> = groups.iter().filter_map(|(w, s)| s.map(|s| (*w, s))).collect();
    let den: f64 = assessed.iter().map(|(w, _)| w).sum();
    (den > 0.0).then(|| Fit {
        low: assessed.iter().map(|(w, s)| w * s.0).sum::<f64>() / den,
        high: assessed.iter().map(|(w, s)| w * s.1).sum::<f64>() / den,
    })
}

/// What a ranking sorts by: the low end, then fewer unknowns, then the high end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankKey {
    pub fit: Option<Fit>,
    pub unknown: usize,
}

impl RankKey {
    /// `Greater` when `self` ranks above `other`. A card with no fit ranks last.
    pub fn rank_against(&self, other: &RankKey) -> Ordering {
        let low = |k: &RankKey| k.fit.map_or(-1.0, |f| f.low);
        let high = |k: &RankKey| k.fit.map_or(-1.0, |f| f.high);
        // Scores are compared to 1e-9 so sums in another order do not reorder equal cards.
        let close = |a: f64, b: f64| if (a - b).abs() < 1e-9 { Ordering::Equal } else { a.total_cmp(&b) };
        close(low(self), low(other)).then(other.unknown.cmp(&self.unknown)).then(close(high(self), high(other)))
    }
}

/// Verdicts from worst to best for ranking: an unstated assumption is worse than a stated
/// mismatch, which is worse than a partial fit.
pub const ORDER: [Verdict; 4] = [Verdict::Unknown, Verdict::Broken, Verdict::Partial, Verdict::Holds];

#[cfg(test)]
mod tests {
    use super::*;
    use benchcards_core::taxonomy;
    use proptest::prelude::*;

    /// A group: its weight, whether the card measured its cost, and its verdicts.
    type G = (f64, bool, Vec<Verdict>);

    fn verdict() -> impl Strategy<Value = Verdict> {
        prop_oneof![Just(Verdict::Holds), Just(Verdict::Partial), Just(Verdict::Unknown), Just(Verdict::Broken), Just(Verdict::NotAssessed)]
    }

    fn groups() -> impl Strategy<Value = Vec<G>> {
        let weight = prop_oneof![Just(4.0), Just(2.0), Just(1.0), Just(0.5)];
        prop::collection::vec((weight, any::<bool>(), prop::collection::vec(verdict(), 1..5)), 1..7)
    }

    fn key(groups: &[G]) -> RankKey {
        let t = taxonomy();
        RankKey {
            fit: fit(&groups.iter().map(|(w, m, vs)| (*w, group_score(t, vs, *m))).collect::<Vec<_>>()),
            unknown: groups.iter().flat_map(|g| &g.2).filter(|v| **v == Verdict::Unknown).count(),
        }
    }

    #[test]
    fn scores_are_ordered_and_unknown_spans_the_range() {
        let t = taxonomy();
        let s: Vec<f64> =
            [Verdict::Broken, Verdict::Partial, Verdict::Holds].iter().map(|v| verdict_score(t, *v, false).unwrap().0).collect();
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        let measured = verdict_score(t, Verdict::Broken, true).unwrap().0;
        assert!(s[0] < measured && measured < s[1], "a measured cost scores between broken and partial");
        assert_eq!(verdict_score(t, Verdict::Unknown, false), Some((s[0], s[2])));
    }

    #[test]
    fn worked_example() {
        // Critical group broken, normal group holding: (4·0 + 1·1) / 5.
        let f = key(&[(4.0, false, vec![Verdict::Broken, Verdict::Broken]), (1.0, false, vec![Verdict::Holds])]).fit.unwrap();
        assert!((f.low - 0.2).abs() < 1e-12 && (f.high - 0.2).abs() < 1e-12);
        // One unknown of two in the critical group: low (4·0.5 + 1) / 5, high (4·1 + 1) / 5.
        let f = key(&[(4.0, false, vec![Verdict::Holds, Verdict::Unknown]), (1.0, false, vec![Verdict::Holds])]).fit.unwrap();
        assert!((f.low - 0.6).abs() < 1e-12 && (f.high - 1.0).abs() < 1e-12, "{f:?}");
        assert_eq!(f.display(), "0.60–1.00");
        assert_eq!(key(&[(4.0, false, vec![Verdict::NotAssessed])]).fit, None);
    }

    proptest! {
        #[test]
        fn stating_less_never_raises_the_rank_key(groups in groups(), g in 0usize..7, d in 0usize..5) {
            // Replacing any stated verdict by "not specified" (unknown) never ranks a card higher.
            let g = g % groups.len();
            let d = d % groups[g].2.len();
            prop_assume!(groups[g].2[d] != Verdict::NotAssessed);
            let mut silent = groups.clone();
            silent[g].2[d] = Verdict::Unknown;
            prop_assert!(key(&silent).rank_against(&key(&groups)) != Ordering::Greater, "{:?} -> {:?}", key(&groups), key(&silent));
        }

        #[test]
        fn improving_one_verdict_never_lowers_the_rank_key(groups in groups(), g in 0usize..7, d in 0usize..5, measured in any::<bool>()) {
            let g = g % groups.len();
            let d = d % groups[g].2.len();
            let before = key(&groups);
            if let Some(pos) = ORDER.iter().position(|v| *v == groups[g].2[d]) {
                for better in &ORDER[pos + 1..] {
                    let mut improved = groups.clone();
                    improved[g].2[d] = *better;
                    prop_assert!(key(&improved).rank_against(&before) != Ordering::Less, "{before:?} -> {:?}", key(&improved));
                }
            }
            // Measuring a group's cost never lowers it either.
            let mut with_cost = groups.clone();
            with_cost[g].1 = with_cost[g].1 || measured;
            prop_assert!(key(&with_cost).rank_against(&before) != Ordering::Less);
        }

        #[test]
        fn duplicating_an_assumption_within_its_group_does_not_change_fit(groups in groups(), g in 0usize..7, copies in 1usize..4) {
            // Three dimensions describing one broken assumption weigh what one does.
            let g = g % groups.len();
            let mut uniform = groups.clone();
            uniform[g].2 = vec![uniform[g].2[0]];
            let mut repeated = uniform.clone();
            repeated[g].2 = vec![uniform[g].2[0]; 1 + copies];
            let (a, b) = (key(&uniform).fit, key(&repeated).fit);
            let same = match (a, b) {
                (Some(a), Some(b)) => (a.low - b.low).abs() < 1e-12 && (a.high - b.high).abs() < 1e-12,
                (None, None) => true,
                _ => false,
            };
            prop_assert!(same, "{:?} vs {:?}", a, b);
        }

        #[test]
        fn a_broken_critical_dimension_ranks_below_the_same_card_holding(groups in groups(), rest in prop::collection::vec(verdict(), 0..4)) {
            let mut with_broken = groups.clone();
            with_broken.push((4.0, false, [vec![Verdict::Broken], rest.clone()].concat()));
            let mut with_holding = groups;
            with_holding.push((4.0, false, [vec![Verdict::Holds], rest].concat()));
            prop_assert_eq!(key(&with_broken).rank_against(&key(&with_holding)), Ordering::Less);
        }
    }
}
