//! Compares one card with one deployment profile, dimension by dimension, under the rules the
//! taxonomy declares (SPEC §3), and summarises the result per group and as a fit.

use crate::fit::{Fit, fit, group_score};
use benchcards_core::taxonomy::{Bias, Dimension, Rule, Taxonomy, parse_date};
use benchcards_core::{Card, CardDimension, CardStatus, Kind, Profile, ProfileDimension, ProfileStatus, Tested, Value, Verdict, Weight};
use serde::Serialize;

/// Which way the benchmark's score likely errs for this deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BiasDirection {
    /// The assumption holds: no bias from it.
    None,
    /// The benchmark likely overstates performance at this deployment.
    BenchmarkOptimistic,
    /// The benchmark likely understates it.
    BenchmarkPessimistic,
    Unclear,
}

/// A hand-set verdict from the profile, shown beside the computed one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedOverride {
    pub verdict: Verdict,
    pub justification: String,
}

/// The assessment of one dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionAssessment {
    pub id: String,
    pub group: String,
    pub kind: Kind,
    /// What the benchmark assumes (display form), with its status.
    pub benchmark: Option<String>,
    pub benchmark_status: CardStatus,
    pub deployment: Option<String>,
    pub deployment_status: ProfileStatus,
    /// The verdict in force: the override's if there is one, else the computed one.
    pub verdict: Verdict,
    pub computed_verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none", rename = "override")]
    pub override_: Option<AppliedOverride>,
    pub rationale: String,
    pub bias: BiasDirection,
    pub next_step: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupAssessment {
    pub id: String,
    pub kind: Kind,
    pub weight: Weight,
    pub weight_value: f64,
    pub tolerance: Option<f64>,
    /// Mean verdict score over assessed dimensions, as a range (absent when none is assessed).
    pub score: Option<Fit>,
    /// The card's `tested` entries for this group: what relaxing its assumption cost.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub measured: Vec<Tested>,
    pub holds: usize,
    pub partial: usize,
    pub broken: usize,
    pub unknown: usize,
    pub not_assessed: usize,
}

impl GroupAssessment {
    /// Broken, and the card measured what that costs.
    pub fn cost_measured(&self) -> bool {
        self.broken > 0 && !self.measured.is_empty()
    }

    /// The worst finding, with counts: "broken — cost measured (2 of 4)", "partial (1 of 4)".
    pub fn verdict_text(&self) -> String {
        let assessed = self.holds + self.partial + self.broken + self.unknown;
        if self.cost_measured() {
            format!("broken — cost measured ({} of {assessed})", self.broken)
        } else if self.broken > 0 {
            format!("broken ({} of {assessed})", self.broken)
        } else if self.partial > 0 {
            format!("partial ({} of {assessed})", self.partial)
        } else if self.unknown > 0 {
            format!("unknown ({} of {assessed})", self.unknown)
        } else if self.holds > 0 {
            "holds".into()
        } else {
            "not assessed".into()
        }
    }
}

/// The group a `tested` entry's assumption names (a group id, or a dimension of the group).
pub fn tested_group<'t>(t: &'t Taxonomy, tested: &Tested) -> Option<&'t str> {
    t.group(&tested.assumption).map(|g| g.id.as_str()).or_else(|| t.dimension(&tested.assumption).map(|d| d.group.as_str()))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagShown {
    pub id: String,
    pub value: Option<String>,
    pub status: CardStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub card_id: String,
    pub card_name: String,
    pub card_version: Option<String>,
    pub deployment_id: String,
    /// Fit as a range: unknown dimensions count as broken at its low end, holding at its high.
    pub fit: Option<Fit>,
    pub groups: Vec<GroupAssessment>,
    pub dimensions: Vec<DimensionAssessment>,
    pub flags: Vec<FlagShown>,
    pub headline: String,
}

impl Comparison {
    /// Whether any dimension of a `critical` group is broken (for `--fail-on broken-critical`).
    pub fn broken_critical(&self) -> bool {
        self.groups.iter().filter(|g| g.weight == Weight::Critical).any(|g| g.broken > 0)
    }
}

struct Judgement {
    verdict: Verdict,
    rationale: String,
    /// The benchmark is less demanding or narrower than needed (bias per taxonomy), or not.
    biased: bool,
    /// A next step even when the verdict holds (restrict to the stratum).
    step: Option<String>,
}

impl Judgement {
    fn new(verdict: Verdict, rationale: impl Into<String>) -> Self {
        Judgement { verdict, rationale: rationale.into(), biased: !matches!(verdict, Verdict::Holds | Verdict::NotAssessed), step: None }
    }
}

/// Shares of each value: a single value is all of it; a set spreads evenly.
fn distribution(v: &Value) -> Vec<(String, f64)> {
    match v {
        Value::One(x) => vec![(x.clone(), 1.0)],
        Value::Set(xs) => xs.iter().map(|x| (x.clone(), 1.0 / xs.len() as f64)).collect(),
        Value::Mixture(m) => m.clone(),
    }
}

fn share(dist: &[(String, f64)], id: &str) -> f64 {
    dist.iter().filter(|(k, _)| k == id).map(|(_, s)| s).sum()
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn level(t: &Taxonomy, share: f64) -> Verdict {
    if share >= t.mixture_thresholds.holds - 1e-9 {
        Verdict::Holds
    } else if share >= t.mixture_thresholds.partial - 1e-9 {
        Verdict::Partial
    } else {
        Verdict::Broken
    }
}

fn categorical(t: &Taxonomy, card: &Value, dep: &Value) -> Judgement {
    let c = distribution(card);
    let d = distribution(dep);
    // The share of the deployment's cases whose value the benchmark's items share.
    let overlap: f64 = d.iter().map(|(v, s)| s.min(share(&c, v))).sum();
    let verdict = level(t, overlap);
    let rationale = match (card, dep) {
        (Value::One(a), Value::One(b)) if a == b => format!("both `{a}`"),
        (Value::One(a), Value::One(b)) => format!("the benchmark has `{a}`; the deployment has `{b}`"),
        _ => format!(
            "{} of the deployment's cases match the benchmark's values (holds from {}, partial from {})",
            pct(overlap),
            pct(t.mixture_thresholds.holds),
            pct(t.mixture_thresholds.partial)
        ),
    };
    Judgement::new(verdict, rationale)
}

/// Position of a value on the ordinal scale, counted so that larger is more demanding.
fn rank(dim: &Dimension, value: &str) -> Option<usize> {
    if dim.unordered.iter().any(|u| u == value) {
        return None;
    }
    let ordered: Vec<&str> = dim.values.iter().map(|v| v.id.as_str()).filter(|v| !dim.unordered.iter().any(|u| u == v)).collect();
    let pos = ordered.iter().position(|v| *v == value)?;
    let demanding_last = dim.demanding.as_deref() == ordered.last().copied();
    Some(if demanding_last { pos } else { ordered.len() - 1 - pos })
}

fn ordinal(t: &Taxonomy, dim: &Dimension, card: &Value, dep: &Value) -> Judgement {
    let c = distribution(card);
    let d = distribution(dep);
    // The deployment must cope with its most demanding value that is common (≥ the partial share).
    let needed =
        d.iter().filter(|(_, s)| *s >= t.mixture_thresholds.partial - 1e-9).filter_map(|(v, _)| rank(dim, v).map(|r| (r, v))).max();
    let Some((need, need_id)) = needed else {
        return categorical(t, card, dep);
    };
    if c.iter().any(|(v, _)| rank(dim, v).is_none()) {
        return categorical(t, card, dep);
    }
    let at_least = |steps_short: usize| -> f64 {
        c.iter().filter(|(v, _)| rank(dim, v).is_some_and(|r| r + steps_short >= need)).map(|(_, s)| s).sum()
    };
    let demanding = dim.demanding.as_deref().unwrap_or("the demanding end");
    if let (Value::One(cv), true) = (card, c.len() == 1) {
        let r = rank(dim, cv).unwrap_or(0);
        return if r >= need {
            let mut j = Judgement::new(
                Verdict::Holds,
                if r > need {
                    format!("benchmark stricter than needed: `{cv}` is more demanding than `{need_id}`")
                } else {
                    format!("both `{cv}`")
                },
            );
            j.biased = false;
            j
        } else if need - r == 1 {
            Judgement::new(Verdict::Partial, format!("`{cv}` is one step less demanding than `{need_id}` (towards `{demanding}`)"))
        } else {
            Judgement::new(Verdict::Broken, format!("`{cv}` is {} steps less demanding than `{need_id}` (towards `{demanding}`)", need - r))
        };
    }
    let enough = at_least(0);
    let near = at_least(1);
    let verdict = if enough >= t.mixture_thresholds.holds - 1e-9 {
        Verdict::Holds
    } else if near >= t.mixture_thresholds.partial - 1e-9 {
        Verdict::Partial
    } else {
        Verdict::Broken
    };
    Judgement::new(
        verdict,
        format!("{} of the benchmark's items are at least as demanding as `{need_id}`, {} within one step", pct(enough), pct(near)),
    )
}

fn set(t: &Taxonomy, dim: &Dimension, card: &Value, dep: &Value) -> Judgement {
    let c = card.ids();
    let d = dep.ids();
    let inside: Vec<&str> = d.iter().copied().filter(|v| c.contains(v)).collect();
    let outside: Vec<&str> = d.iter().copied().filter(|v| !c.contains(v)).collect();
    if let (true, true, Value::Mixture(_), Value::Mixture(_)) = (dim.shares, outside.is_empty(), card, dep) {
        // Every level is covered, but in what shares? A different mix moves the headline score.
        let (cd, dd) = (distribution(card), distribution(dep));
        let overlap: f64 = dd.iter().map(|(v, s)| s.min(share(&cd, v))).sum();
        if overlap < t.mixture_thresholds.holds - 1e-9 {
            let mut j = Judgement::new(
                Verdict::Partial,
                format!(
                    "the benchmark covers every level but in other shares ({} overlap): reweight its score by the deployment's case mix",
                    pct(overlap)
                ),
            );
            j.step = Some("restrict_stratum".into());
            return j;
        }
    }
    if outside.is_empty() {
        let mut j = Judgement::new(Verdict::Holds, format!("the benchmark covers {}", d.join(", ")));
        if c.len() as f64 >= t.set_superset_note_ratio * d.len() as f64 {
            let extra: Vec<&str> = c.iter().copied().filter(|v| !d.contains(v)).collect();
            j.rationale = format!(
                "the benchmark covers {} and also {}: its headline score mixes in items outside this deployment; restrict it to the deployment's stratum",
                d.join(", "),
                extra.join(", ")
            );
            j.step = Some("restrict_stratum".into());
        }
        j
    } else if inside.is_empty() {
        Judgement::new(Verdict::Broken, format!("the benchmark covers none of {} (it has {})", d.join(", "), c.join(", ")))
    } else {
        Judgement::new(Verdict::Partial, format!("the benchmark covers {} but not {}", inside.join(", "), outside.join(", ")))
    }
}

fn split_tag(tag: &str) -> (String, Option<String>) {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("").to_ascii_lowercase();
    let region = parts.find(|p| p.len() == 2 || (p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()))).map(|r| r.to_ascii_uppercase());
    (primary, region)
}

fn language(card: &Value, dep: &Value) -> Judgement {
    let card_tags = card.ids();
    if card_tags.iter().any(|t| t.eq_ignore_ascii_case("mul")) {
        let mut j = Judgement::new(Verdict::Unknown, "the benchmark is multilingual (`mul`) without listing its languages");
        j.biased = true;
        return j;
    }
    let mut worst = (Verdict::Holds, String::new());
    for tag in dep.ids() {
        let (p, r) = split_tag(tag);
        let found = card_tags.iter().map(|c| split_tag(c)).fold(Verdict::Broken, |best, (cp, cr)| {
            let v = if cp != p {
                Verdict::Broken
            } else if cr == r {
                Verdict::Holds
            } else {
                Verdict::Partial
            };
            if rank_verdict(v) > rank_verdict(best) { v } else { best }
        });
        let why = match found {
            Verdict::Holds => format!("`{tag}` is among the benchmark's languages"),
            Verdict::Partial => {
                format!("the benchmark has {} but not the region of `{tag}` (spelling, drugs and services differ)", card_tags.join(", "))
            }
            _ => format!("the benchmark has {}, not `{tag}`", card_tags.join(", ")),
        };
        if rank_verdict(found) < rank_verdict(worst.0) || worst.1.is_empty() {
            worst = (found, why);
        }
    }
    Judgement::new(worst.0, worst.1)
}

fn rank_verdict(v: Verdict) -> usize {
    crate::fit::ORDER.iter().position(|o| *o == v).unwrap_or(0)
}

fn currency(t: &Taxonomy, card: &Value, dep: &Value, as_of: Option<&str>) -> Judgement {
    let (Value::One(c), Value::One(d)) = (card, dep) else {
        return Judgement::new(Verdict::Unknown, "currency takes one date on each side");
    };
    let (Some(cy), Some(dy)) = (parse_date(c), parse_date(d)) else {
        return Judgement::new(Verdict::Unknown, "a date could not be read");
    };
    if cy >= dy {
        let mut j =
            Judgement::new(Verdict::Holds, format!("the benchmark's knowledge ({c}) is no older than the oldest acceptable date ({d})"));
        j.biased = false;
        return j;
    }
    let Some(now) = as_of.and_then(parse_date) else {
        return Judgement::new(
            Verdict::Partial,
            format!(
                "the benchmark's knowledge ({c}) is older than the oldest acceptable date ({d}); give the profile an `as_of` date to tell how much"
            ),
        );
    };
    let acceptable_age = (now - dy).max(0.0);
    let card_age = now - cy;
    if card_age > t.currency_broken_factor * acceptable_age {
        Judgement::new(
            Verdict::Broken,
            format!(
                "the benchmark's knowledge ({c}) is {card_age:.1} years old at {}, more than {} × the {acceptable_age:.1} years the deployment accepts",
                as_of.unwrap_or(""),
                t.currency_broken_factor
            ),
        )
    } else {
        Judgement::new(Verdict::Partial, format!("the benchmark's knowledge ({c}) is older than the oldest acceptable date ({d})"))
    }
}

fn judge(t: &Taxonomy, dim: &Dimension, card: Option<&CardDimension>, dep: Option<&ProfileDimension>, as_of: Option<&str>) -> Judgement {
    let dep_value = match dep {
        None => return Judgement::new(Verdict::NotAssessed, "the deployment profile does not list this dimension"),
        Some(d) if d.status == ProfileStatus::NotSpecified => {
            return Judgement::new(Verdict::NotAssessed, "the deployment does not state it");
        }
        Some(d) if d.status == ProfileStatus::NotApplicable => {
            return if card.is_some_and(|c| c.status == CardStatus::NotApplicable) {
                Judgement::new(Verdict::Holds, "does not apply to the benchmark or the deployment")
            } else {
                Judgement::new(Verdict::NotAssessed, "does not apply to this deployment")
            };
        }
        Some(d) => match &d.value {
            Some(v) => v,
            None => return Judgement::new(Verdict::NotAssessed, "the deployment gives no value"),
        },
    };
    let card_value = match card {
        None => return Judgement::new(Verdict::Unknown, "the card does not list this dimension: an unstated assumption"),
        Some(c) if c.status == CardStatus::NotSpecified => {
            return Judgement::new(Verdict::Unknown, "the benchmark does not state it: an unstated assumption");
        }
        Some(c) if c.status == CardStatus::NotApplicable => {
            return Judgement::new(Verdict::Unknown, "the card marks it not applicable, but the deployment depends on it");
        }
        Some(c) => match &c.value {
            Some(v) => v,
            None => return Judgement::new(Verdict::Unknown, "the card gives no value"),
        },
    };
    if card_value.ids().iter().any(|v| v.starts_with("other:")) {
        return Judgement::new(
            Verdict::Unknown,
            format!("the benchmark's value `{}` is outside the vocabulary and cannot be compared", card_value.display()),
        );
    }
    if dep_value.ids().iter().any(|v| v.starts_with("other:")) {
        return if card_value == dep_value {
            Judgement::new(Verdict::Holds, format!("both `{}`", dep_value.display()))
        } else {
            Judgement::new(
                Verdict::Unknown,
                format!("the deployment's value `{}` is outside the vocabulary and cannot be compared", dep_value.display()),
            )
        };
    }
    match dim.rule {
        Rule::Categorical => categorical(t, card_value, dep_value),
        Rule::Ordinal => ordinal(t, dim, card_value, dep_value),
        Rule::Set => set(t, dim, card_value, dep_value),
        Rule::Language => language(card_value, dep_value),
        Rule::Currency => currency(t, card_value, dep_value, as_of),
    }
}

fn bias_of(b: Bias) -> BiasDirection {
    match b {
        Bias::Optimistic => BiasDirection::BenchmarkOptimistic,
        Bias::Pessimistic => BiasDirection::BenchmarkPessimistic,
        Bias::Unclear => BiasDirection::Unclear,
    }
}

/// Compares a card with a deployment profile.
pub fn compare(t: &Taxonomy, card: &Card, profile: &Profile) -> Comparison {
    let mut dimensions = Vec::new();
    for dim in &t.dimensions {
        let c = card.dimensions.get(&dim.id);
        let d = profile.dimensions.get(&dim.id);
        let j = judge(t, dim, c, d, profile.as_of.as_deref());
        let override_ = profile
            .overrides
            .iter()
            .find(|o| {
                o.card == card.id
                    && o.dimension == dim.id
                    && o.card_version.as_ref().is_none_or(|v| Some(v) == card.benchmark_version.as_ref())
            })
            .map(|o| AppliedOverride { verdict: o.verdict, justification: o.justification.clone() });
        let verdict = override_.as_ref().map_or(j.verdict, |o| o.verdict);
        let bias = match verdict {
            Verdict::Holds | Verdict::NotAssessed => BiasDirection::None,
            Verdict::Unknown => BiasDirection::Unclear,
            Verdict::Partial | Verdict::Broken if j.biased || override_.is_some() => bias_of(dim.bias),
            _ => BiasDirection::Unclear,
        };
        let next_step = match verdict {
            Verdict::Holds => j.step.clone(),
            Verdict::NotAssessed => None,
            Verdict::Unknown => Some("ask_designers".to_string()),
            Verdict::Partial | Verdict::Broken => Some(j.step.clone().unwrap_or_else(|| dim.next_step.clone())),
        };
        dimensions.push(DimensionAssessment {
            id: dim.id.clone(),
            group: dim.group.clone(),
            kind: t.kind_of(dim),
            benchmark: c.and_then(|c| c.value.as_ref()).map(Value::display),
            benchmark_status: c.map_or(CardStatus::NotSpecified, |c| c.status),
            deployment: d.and_then(|d| d.value.as_ref()).map(Value::display),
            deployment_status: d.map_or(ProfileStatus::NotSpecified, |d| d.status),
            verdict,
            computed_verdict: j.verdict,
            override_,
            rationale: j.rationale,
            bias,
            next_step,
        });
    }
    let groups: Vec<GroupAssessment> = t
        .groups
        .iter()
        .map(|g| {
            let verdicts: Vec<Verdict> = dimensions.iter().filter(|d| d.group == g.id).map(|d| d.verdict).collect();
            let count = |v: Verdict| verdicts.iter().filter(|x| **x == v).count();
            let setting = profile.groups.get(&g.id);
            let weight = setting.map_or(Weight::Normal, |s| s.weight);
            let measured: Vec<Tested> = card.tested.iter().filter(|x| tested_group(t, x) == Some(g.id.as_str())).cloned().collect();
            GroupAssessment {
                id: g.id.clone(),
                kind: g.kind,
                weight,
                weight_value: t.weight(weight),
                tolerance: setting.and_then(|s| s.tolerance),
                score: group_score(t, &verdicts, !measured.is_empty()).map(|(low, high)| Fit { low, high }),
                measured,
                holds: count(Verdict::Holds),
                partial: count(Verdict::Partial),
                broken: count(Verdict::Broken),
                unknown: count(Verdict::Unknown),
                not_assessed: count(Verdict::NotAssessed),
            }
        })
        .collect();
    let fit = fit(&groups.iter().map(|g| (g.weight_value, g.score.map(|s| (s.low, s.high)))).collect::<Vec<_>>());
    let flags = t
        .flags
        .iter()
        .map(|f| {
            let entry = card.flags.get(&f.id);
            FlagShown {
                id: f.id.clone(),
                value: entry.and_then(|e| e.value.as_ref()).map(Value::display),
                status: entry.map_or(CardStatus::NotSpecified, |e| e.status),
            }
        })
        .collect();
    let headline = headline(&groups, &dimensions, fit);
    Comparison {
        card_id: card.id.clone(),
        card_name: card.name.clone(),
        card_version: card.benchmark_version.clone(),
        deployment_id: profile.id.clone(),
        fit,
        groups,
        dimensions,
        flags,
        headline,
    }
}

/// Broken groups in order of weight, as "name (weight)", or "name (weight; cost measured)".
pub fn broken_groups(groups: &[GroupAssessment]) -> Vec<String> {
    let mut broken: Vec<&GroupAssessment> = groups.iter().filter(|g| g.broken > 0).collect();
    broken.sort_by(|a, b| b.weight_value.total_cmp(&a.weight_value));
    broken.iter().map(|g| format!("{} ({}{})", g.id, g.weight.name(), if g.cost_measured() { "; cost measured" } else { "" })).collect()
}

fn headline(groups: &[GroupAssessment], dims: &[DimensionAssessment], fit: Option<Fit>) -> String {
    let broken = broken_groups(groups);
    let optimistic = dims.iter().filter(|d| d.bias == BiasDirection::BenchmarkOptimistic).count();
    let unknown = dims.iter().filter(|d| d.verdict == Verdict::Unknown).count();
    let fit_text = fit.map_or_else(|| "Fit cannot be computed (nothing assessed)".to_string(), |f| format!("Fit {} of 1", f.display()));
    let mut s = if broken.is_empty() {
        format!("{fit_text}. No assumption is broken for this deployment.")
    } else {
        format!("{fit_text}. Broken for this deployment: {}.", broken.join(", "))
    };
    if optimistic > 0 {
        s.push_str(&format!(" {optimistic} dimension(s) make the benchmark's score likely optimistic here."));
    }
    if unknown > 0 {
        s.push_str(&format!(" {unknown} assumption(s) are unstated by the benchmark."));
    }
    if groups.iter().any(|g| g.kind == Kind::Outcome && (g.broken > 0 || g.partial > 0)) {
        s.push_str(" Outcome assumptions can only be tested with people (stage 4).");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_verdicts_name_the_worst_finding_with_counts() {
        let g = |holds, partial, broken, unknown, measured: bool| GroupAssessment {
            id: "g".into(),
            kind: Kind::Task,
            weight: Weight::High,
            weight_value: 1.0,
            tolerance: None,
            score: None,
            measured: if measured {
                vec![Tested {
                    assumption: "g".into(),
                    from: "a".into(),
                    to: "b".into(),
                    model: None,
                    metric: None,
                    drop: 10.0,
                    interval: None,
                    n: None,
                    run: None,
                    to_score: None,
                    control: None,
                    evidence: Vec::new(),
                }]
            } else {
                Vec::new()
            },
            holds,
            partial,
            broken,
            unknown,
            not_assessed: 0,
        };
        assert_eq!(g(2, 1, 1, 0, false).verdict_text(), "broken (1 of 4)");
        assert_eq!(g(2, 1, 1, 0, true).verdict_text(), "broken — cost measured (1 of 4)");
        assert_eq!(g(2, 1, 0, 1, true).verdict_text(), "partial (1 of 4)", "a cost is only noted on a broken group");
        assert_eq!(g(2, 0, 0, 1, false).verdict_text(), "unknown (1 of 3)");
        assert_eq!(g(2, 0, 0, 0, false).verdict_text(), "holds");
        assert_eq!(g(0, 0, 0, 0, false).verdict_text(), "not assessed");
    }
}
