//! Readiness: per assumption group, the best evidence of what relaxing it costs, gated against
//! the deployment's tolerance. A drop this run measured comes first; for a group no run
//! measured, the card's published drops (its `tested` entries), labelled as measured on another
//! model; otherwise "not measured". `report`, `gate`, the web UI and the clinician brief all
//! read this one function, so they cannot disagree.

use crate::compare::{Comparison, GroupAssessment};
use benchcards_core::{Kind, Profile, Tested, Weight, taxonomy};
use benchcards_stats::study::{GateOutcome, GateResult, GroupGate, gate};
use serde::Serialize;

/// A published drop gated against the tolerance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedGate {
    #[serde(flatten)]
    pub tested: Tested,
    /// Absent when the deployment gives no tolerance for the group.
    pub result: Option<GateResult>,
    /// No interval was reported, so the result compares the point estimate with the tolerance:
    /// above it fails (a deployment should not rely on it), below it stays inconclusive.
    pub on_point_estimate: bool,
}

impl PublishedGate {
    pub fn new(tested: &Tested, tolerance: Option<f64>) -> Self {
        let result = tolerance.map(|tol| match tested.interval {
            Some(ci) => gate(tested.drop, ci, tol, tested.n.unwrap_or(1) as usize).result,
            None if tested.drop > tol => GateResult::Fail,
            None => GateResult::Inconclusive,
        });
        PublishedGate { tested: tested.clone(), result, on_point_estimate: tested.interval.is_none() }
    }

    /// "11.8 points (no interval reported; n = 600) on gpt-4o, published, on another model".
    pub fn drop_text(&self) -> String {
        let t = &self.tested;
        let interval = t.interval.map_or_else(|| "no interval reported".to_string(), |[lo, hi]| format!("95% CI {lo:.1} to {hi:.1}"));
        format!(
            "{:.1} points ({interval}; n = {}){}, published, on another model",
            t.drop,
            t.n.map_or_else(|| "not reported".to_string(), |n| n.to_string()),
            t.model.as_ref().map_or(String::new(), |m| format!(" on {m}")),
        )
    }

    /// Where the figure comes from: the first evidence entry's source.
    pub fn source(&self) -> &str {
        self.tested.evidence.first().map_or("the card (no source given)", |e| e.source.as_str())
    }

    pub fn result_text(&self) -> String {
        match (self.result, self.on_point_estimate) {
            (None, _) => "— (no tolerance)".into(),
            (Some(GateResult::Fail), true) => "fail (point estimate above the tolerance; no interval reported)".into(),
            (Some(GateResult::Inconclusive), true) => "inconclusive (no interval reported)".into(),
            (Some(r), _) => result_name(r).into(),
        }
    }
}

pub fn result_name(r: GateResult) -> &'static str {
    match r {
        GateResult::Pass => "pass",
        GateResult::Fail => "fail",
        GateResult::Inconclusive => "inconclusive",
    }
}

/// Where a group's evidence comes from.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Evidence {
    /// This run's decomposition measured the group's step (always `GateOutcome::Measured`).
    Run(GateOutcome),
    /// The card's published drops, measured on another model.
    Published {
        drops: Vec<PublishedGate>,
    },
    NotMeasured {
        note: String,
    },
}

/// One assumption group's readiness.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReadiness {
    pub group: String,
    pub title: String,
    pub kind: Kind,
    pub weight: Weight,
    pub tolerance: Option<f64>,
    /// The comparison's verdict for the group, when a card was compared.
    pub verdict: Option<String>,
    /// Something in the group does not hold (or no card was compared): there is work left.
    pub open: bool,
    #[serde(flatten)]
    pub evidence: Evidence,
}

impl GroupReadiness {
    /// What is still to do for this deployment's model, or nothing.
    pub fn untested(&self) -> Option<String> {
        let stage = match self.kind {
            Kind::Outcome => "needs a study with people (stage 4)",
            Kind::Task => "run the plan's condition for it (stage 3)",
        };
        match &self.evidence {
            Evidence::Run(_) => None,
            Evidence::Published { .. } if self.open => Some(format!("untested on this model: {stage}")),
            _ if self.open => Some(format!("not measured: {stage}")),
            _ => None,
        }
    }

    /// Whether this run's own measurement fails the gate (`--fail-on gate-fail`). Published
    /// drops, measured on another model, never fail a run.
    pub fn run_fails(&self) -> bool {
        matches!(&self.evidence, Evidence::Run(GateOutcome::Measured { result: GateResult::Fail, .. }))
    }
}

/// Every group's readiness, in taxonomy order. `cmp` (a card compared with the profile) brings
/// the verdicts and the published drops; `run_gates` are this run's gates (`group_gates`).
/// Without a card, only groups with a tolerance are listed (there is nothing else to say).
pub fn readiness(profile: &Profile, cmp: Option<&Comparison>, run_gates: &[GroupGate]) -> Vec<GroupReadiness> {
    let t = taxonomy();
    t.groups
        .iter()
        .filter_map(|g| {
            let setting = profile.groups.get(&g.id);
            let tolerance = setting.and_then(|s| s.tolerance);
            let assessed: Option<&GroupAssessment> = cmp.and_then(|c| c.groups.iter().find(|x| x.id == g.id));
            if cmp.is_none() && tolerance.is_none() {
                return None;
            }
            let run = run_gates.iter().find(|x| x.group == g.id);
            let published = assessed.map_or(&[][..], |a| a.measured.as_slice());
            let evidence = match run {
                Some(r) if matches!(r.outcome, GateOutcome::Measured { .. }) => Evidence::Run(r.outcome.clone()),
                _ if !published.is_empty() => {
                    Evidence::Published { drops: published.iter().map(|p| PublishedGate::new(p, tolerance)).collect() }
                }
                Some(GroupGate { outcome: GateOutcome::NotMeasured { note, .. }, .. }) => Evidence::NotMeasured { note: note.clone() },
                _ => Evidence::NotMeasured { note: "no run and no published figure".into() },
            };
            Some(GroupReadiness {
                group: g.id.clone(),
                title: g.title.clone(),
                kind: g.kind,
                weight: setting.map_or(Weight::Normal, |s| s.weight),
                tolerance,
                verdict: assessed.map(GroupAssessment::verdict_text),
                open: assessed.is_none_or(|a| a.broken + a.partial + a.unknown > 0),
                evidence,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(drop: f64, interval: Option<[f64; 2]>) -> Tested {
        Tested {
            assumption: "query_authorship".into(),
            from: "vignette".into(),
            to: "patient_query".into(),
            model: Some("m".into()),
            metric: None,
            drop,
            interval,
            n: Some(600),
            run: None,
            to_score: None,
            control: None,
            evidence: Vec::new(),
        }
    }

    #[test]
    fn published_drops_are_gated_on_their_interval_else_conservatively_on_the_point() {
        let result = |drop, interval, tol| PublishedGate::new(&published(drop, interval), tol).result;
        // With an interval: non-inferiority as for a run's own drop.
        assert_eq!(result(2.0, Some([0.5, 3.5]), Some(5.0)), Some(GateResult::Pass));
        assert_eq!(result(9.0, Some([6.0, 12.0]), Some(5.0)), Some(GateResult::Fail));
        assert_eq!(result(4.0, Some([1.0, 7.0]), Some(5.0)), Some(GateResult::Inconclusive));
        // Without one: above the tolerance fails, below it never passes.
        assert_eq!(result(11.8, None, Some(5.0)), Some(GateResult::Fail));
        assert_eq!(result(2.0, None, Some(5.0)), Some(GateResult::Inconclusive));
        assert_eq!(result(11.8, None, None), None, "no tolerance, no gate");
        let g = PublishedGate::new(&published(11.8, None), Some(5.0));
        assert_eq!(g.drop_text(), "11.8 points (no interval reported; n = 600) on m, published, on another model");
        assert_eq!(g.result_text(), "fail (point estimate above the tolerance; no interval reported)");
        assert_eq!(g.source(), "the card (no source given)");
    }
}
