//! Over a whole registry: ranking by fit (`match`), deployment values no card covers (`gaps`),
//! and the matrix of what the registry's benchmarks assume (`registry overview`).

use crate::compare::{Comparison, broken_groups, compare};
use crate::fit::{Fit, ORDER, RankKey};
use benchcards_core::{Card, CardStatus, Profile, ProfileStatus, Taxonomy, Value, Verdict};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Ranked {
    pub rank: usize,
    pub card_id: String,
    pub card_name: String,
    /// Fit as a range; cards rank by its low end, then fewer unknowns, then its high end.
    pub fit: Option<Fit>,
    /// Dimensions the card leaves unstated (counted as broken at fit's low end).
    pub unknown: usize,
    /// Why the card ranks where it does: the weighted groups it breaks, heaviest first, the
    /// costs the card measured, the strength of its evidence, and what it leaves unstated.
    pub explanation: String,
    pub broken_groups: Vec<String>,
    #[serde(skip)]
    pub comparison: Comparison,
}

/// Ranks cards best first by fit's low end, then fewer unstated dimensions, then fit's high end.
/// Ties (and cards with no fit) are ordered by card id, so the ranking is deterministic. Cards
/// are compared on every core.
pub fn rank(t: &Taxonomy, cards: &[Card], profile: &Profile) -> Vec<Ranked> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = cards.len().div_ceil(threads).max(64);
    let mut ranked: Vec<Ranked> = std::thread::scope(|s| {
        let parts: Vec<_> =
            cards.chunks(chunk).map(|part| s.spawn(move || part.iter().map(|c| ranked(t, c, profile)).collect::<Vec<_>>())).collect();
        parts.into_iter().flat_map(|p| p.join().expect("comparing cards does not panic")).collect()
    });
    ranked.sort_by(|a, b| b.key().rank_against(&a.key()).then_with(|| a.card_id.cmp(&b.card_id)));
    for (i, r) in ranked.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    ranked
}

impl Ranked {
    pub fn key(&self) -> RankKey {
        RankKey { fit: self.fit, unknown: self.unknown }
    }
}

/// The quality flags a ranking names among its reasons: how strong the card's evidence is.
const STRENGTH_FLAGS: [&str; 3] = ["validity_evidence", "output_uptake", "human_baseline"];

fn ranked(t: &Taxonomy, c: &Card, profile: &Profile) -> Ranked {
    let comparison = compare(t, c, profile);
    let broken = broken_groups(&comparison.groups);
    let unknown = comparison.dimensions.iter().filter(|d| d.verdict == Verdict::Unknown).count();
    let mut reasons = vec![if broken.is_empty() { "breaks no group".to_string() } else { format!("breaks {}", broken.join(", ")) }];
    let drops: Vec<String> = comparison
        .groups
        .iter()
        .flat_map(|g| g.measured.iter().map(move |m| (g, m)))
        .map(|(g, m)| {
            format!(
                "{} {:.1} points{}{}",
                g.id,
                m.drop,
                m.n.map_or(String::new(), |n| format!(" (n = {n})")),
                m.model.as_ref().map_or(String::new(), |x| format!(" on {x}"))
            )
        })
        .collect();
    if !drops.is_empty() {
        reasons.push(format!("measured drops: {}", drops.join(", ")));
    }
    let flags: Vec<String> = STRENGTH_FLAGS
        .iter()
        .filter_map(|id| comparison.flags.iter().find(|f| f.id == *id))
        .map(|f| format!("{} {}", f.id, f.value.as_deref().unwrap_or("not stated")))
        .collect();
    reasons.push(format!("evidence: {}", flags.join(", ")));
    if unknown > 0 {
        reasons.push(format!("{unknown} unstated (counted as broken at the low end)"));
    }
    Ranked {
        rank: 0,
        card_id: c.id.clone(),
        card_name: c.name.clone(),
        fit: comparison.fit,
        unknown,
        explanation: reasons.join("; "),
        broken_groups: broken,
        comparison,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub dimension: String,
    pub group: String,
    /// The deployment's value that no card holds for.
    pub deployment: String,
    /// The best verdict any card reaches on this dimension.
    pub best_verdict: Verdict,
    /// The card that comes closest (best verdict, then best fit, then id).
    pub closest_card: Option<String>,
    pub closest_value: Option<String>,
    /// What would adapt the closest card to this deployment value.
    pub next_step: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gaps {
    pub deployment: String,
    pub cards: usize,
    /// Deployment values no card holds for: where the community needs a benchmark.
    pub gaps: Vec<Gap>,
    /// Dimensions the deployment states and at least one card holds for, with those cards.
    pub covered: Vec<(String, Vec<String>)>,
}

fn verdict_rank(v: Verdict) -> usize {
    ORDER.iter().position(|o| *o == v).unwrap_or(0)
}

pub fn gaps(t: &Taxonomy, cards: &[Card], profile: &Profile) -> Gaps {
    let ranked = rank(t, cards, profile);
    let mut gaps = Vec::new();
    let mut covered = Vec::new();
    for dim in &t.dimensions {
        let Some(entry) = profile.dimensions.get(&dim.id) else { continue };
        if !matches!(entry.status, ProfileStatus::Declared | ProfileStatus::Measured) {
            continue;
        }
        let Some(value) = &entry.value else { continue };
        let rows: Vec<(&Ranked, &crate::DimensionAssessment)> =
            ranked.iter().filter_map(|r| r.comparison.dimensions.iter().find(|d| d.id == dim.id).map(|d| (r, d))).collect();
        let holding: Vec<String> = rows.iter().filter(|(_, d)| d.verdict == Verdict::Holds).map(|(r, _)| r.card_id.clone()).collect();
        if !holding.is_empty() {
            covered.push((dim.id.clone(), holding));
            continue;
        }
        // `ranked` is already ordered by fit then id, so the first best verdict wins ties.
        let closest = rows
            .iter()
            .filter(|(_, d)| d.verdict != Verdict::NotAssessed)
            .max_by(|a, b| verdict_rank(a.1.verdict).cmp(&verdict_rank(b.1.verdict)).then_with(|| b.0.rank.cmp(&a.0.rank)));
        gaps.push(Gap {
            dimension: dim.id.clone(),
            group: dim.group.clone(),
            deployment: value.display(),
            best_verdict: closest.map_or(Verdict::NotAssessed, |c| c.1.verdict),
            closest_card: closest.map(|c| c.0.card_id.clone()),
            closest_value: closest.and_then(|c| c.1.benchmark.clone()),
            next_step: closest.and_then(|c| c.1.next_step.clone()),
        });
    }
    Gaps { deployment: profile.id.clone(), cards: cards.len(), gaps, covered }
}

#[derive(Debug, Clone, Serialize)]
pub struct OverviewCell {
    pub group: String,
    /// The group's first dimension, which names its assumption.
    pub dimension: String,
    pub value: Option<String>,
    /// Dimensions of the group the card specifies (not `not_specified`), of all.
    pub specified: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverviewCard {
    pub id: String,
    pub name: String,
    pub groups: Vec<OverviewCell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueCount {
    pub id: String,
    pub cards: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverviewDimension {
    pub id: String,
    pub group: String,
    /// How many cards take each vocabulary value (a card with a set or mixture counts once per value).
    pub values: Vec<ValueCount>,
    pub not_specified: usize,
    /// Vocabulary values no card takes: deployment settings no benchmark covers.
    pub uncovered: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub cards: Vec<OverviewCard>,
    pub dimensions: Vec<OverviewDimension>,
}

fn specified(status: CardStatus) -> bool {
    !matches!(status, CardStatus::NotSpecified)
}

pub fn overview(t: &Taxonomy, cards: &[Card]) -> Overview {
    let mut sorted: Vec<&Card> = cards.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let rows = sorted
        .iter()
        .map(|c| OverviewCard {
            id: c.id.clone(),
            name: c.name.clone(),
            groups: t
                .groups
                .iter()
                .map(|g| {
                    let head = &g.dimensions[0];
                    OverviewCell {
                        group: g.id.clone(),
                        dimension: head.clone(),
                        value: c.dimensions.get(head).filter(|d| specified(d.status)).and_then(|d| d.value.as_ref()).map(Value::display),
                        specified: g.dimensions.iter().filter(|d| c.dimensions.get(*d).is_some_and(|e| specified(e.status))).count(),
                        total: g.dimensions.len(),
                    }
                })
                .collect(),
        })
        .collect();
    let dimensions = t
        .dimensions
        .iter()
        .map(|dim| {
            let taken: Vec<Vec<String>> = cards
                .iter()
                .filter_map(|c| c.dimensions.get(&dim.id))
                .filter(|e| specified(e.status))
                .filter_map(|e| e.value.as_ref())
                .map(|v| v.ids().into_iter().map(str::to_string).collect())
                .collect();
            let count = |id: &str| taken.iter().filter(|ids| ids.iter().any(|i| i == id)).count();
            let mut values: Vec<ValueCount> = dim.values.iter().map(|v| ValueCount { id: v.id.clone(), cards: count(&v.id) }).collect();
            // Values outside the vocabulary (languages, dates, `other:`) are listed as they occur.
            let mut extra: Vec<String> = taken.iter().flatten().filter(|i| !dim.values.iter().any(|v| &v.id == *i)).cloned().collect();
            extra.sort();
            extra.dedup();
            values.extend(extra.iter().map(|e| ValueCount { id: e.clone(), cards: count(e) }));
            let uncovered = dim.values.iter().filter(|v| count(&v.id) == 0).map(|v| v.id.clone()).collect();
            OverviewDimension {
                id: dim.id.clone(),
                group: dim.group.clone(),
                values,
                not_specified: cards.iter().filter(|c| c.dimensions.get(&dim.id).is_none_or(|e| !specified(e.status))).count(),
                uncovered,
            }
        })
        .collect();
    Overview { cards: rows, dimensions }
}
