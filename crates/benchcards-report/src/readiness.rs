//! What a deployment lead reads first, and what a clinician reads: the readiness summary (per
//! assumption group: the verdict, the measured drop against the tolerance, the gate, and what is
//! still untested) and the one-page clinician brief.

use crate::assess::comparison_sections;
use crate::card::card_tables;
use crate::decompose::decomposition_sections;
use crate::{Report, Table};
use benchcards_assess::Comparison;
use benchcards_core::{Card, Kind, Profile, Value, Verdict, taxonomy};
use benchcards_stats::decompose::Decomposition;
use benchcards_stats::study::{GateOutcome, GateResult, GroupGate, Uptake, group_gates};

/// One sample's transcript for the report's browser.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub summary: String,
    /// Whether the first grader passed it (none when ungraded).
    pub passed: Option<bool>,
    /// (speaker, text), in order.
    pub messages: Vec<(String, String)>,
}

/// What a report can show; each part is absent when its source does not give it.
#[derive(Default)]
pub struct Inputs {
    pub card: Option<Card>,
    pub profile: Option<Profile>,
    pub decomposition: Option<Decomposition>,
    /// The uptake table, when the same units were graded as the model's answer and a person's.
    pub uptake: Option<Uptake>,
    pub transcripts: Vec<Transcript>,
    /// Lines for the reproducibility block (run, plan hash, models, sampling, seeds).
    pub provenance: Vec<String>,
    /// Shown first, as warnings (e.g. a card file that could not be read).
    pub notes: Vec<String>,
}

impl Inputs {
    pub fn comparison(&self) -> Option<Comparison> {
        match (&self.card, &self.profile) {
            (Some(c), Some(p)) => Some(benchcards_assess::compare(taxonomy(), c, p)),
            _ => None,
        }
    }

    /// Each group's gate, for the groups the profile gives a tolerance.
    pub fn gates(&self) -> Vec<GroupGate> {
        let tolerances: Vec<(String, f64)> =
            self.profile.iter().flat_map(|p| p.groups.iter().filter_map(|(g, s)| s.tolerance.map(|t| (g.clone(), t)))).collect();
        self.decomposition.as_ref().map_or_else(Vec::new, |d| group_gates(d, &tolerances))
    }
}

/// The team's report: readiness, the card, the assessment, the decomposition (its waterfall
/// linked as `chart` from the Markdown twin), the transcripts, and reproducibility.
pub fn team_report(inputs: &Inputs, chart: &str, lines: &[String]) -> Report {
    let cmp = inputs.comparison();
    let gates = inputs.gates();
    let title = match (&inputs.card, &inputs.profile) {
        (Some(c), Some(p)) => format!("{} at the `{}` deployment", c.name, p.id),
        (Some(c), None) => c.name.clone(),
        _ => inputs.provenance.first().map_or_else(|| "Gap decomposition".into(), |p| format!("Gap decomposition: {p}")),
    };
    let mut r = Report::new(&title);
    for n in &inputs.notes {
        r.warning(&format!("Note: {n}."));
    }
    if let Some(d) = &inputs.decomposition
        && d.conditions.iter().any(|c| c.proxy)
    {
        r.warning("Proxy: a condition scores a simulated person's decision. It estimates nothing about real people; outcome assumptions stay not measured until a study with people.");
    }
    if let Some(c) = &cmp {
        r.heading(2, "Readiness");
        r.paragraph(&c.headline);
        r.table(&readiness_table(c, &gates));
    }
    if let Some(card) = &inputs.card {
        r.heading(2, "The card");
        for t in card_tables(card) {
            r.table(&t);
        }
    }
    if let Some(c) = &cmp {
        comparison_sections(&mut r, c);
    }
    if let Some(d) = &inputs.decomposition {
        decomposition_sections(&mut r, d, inputs.uptake.as_ref(), chart);
    }
    if !inputs.transcripts.is_empty() {
        r.heading(2, "Transcripts");
        r.paragraph(&format!("{} sample(s); ✓ passed and ✗ failed by the first grader. Open one to read it.", inputs.transcripts.len()));
        for t in &inputs.transcripts {
            r.transcript(&t.summary, t.passed, &t.messages);
        }
    }
    r.heading(2, "Reproducibility");
    let mut all = lines.to_vec();
    all.extend(inputs.provenance.iter().cloned());
    if let Some(d) = &inputs.decomposition {
        all.push(format!("estimand: {}", d.estimand.statement));
    }
    r.list(&all);
    r
}

fn group_verdict(g: &benchcards_assess::GroupAssessment) -> String {
    let assessed = g.holds + g.partial + g.broken + g.unknown;
    if g.broken > 0 {
        format!("broken ({} of {assessed})", g.broken)
    } else if g.partial > 0 {
        format!("partial ({} of {assessed})", g.partial)
    } else if g.unknown > 0 {
        format!("unknown ({} of {assessed})", g.unknown)
    } else if g.holds > 0 {
        "holds".into()
    } else {
        "not assessed".into()
    }
}

/// One row per assumption group. A group whose drop no step measured says so: an outcome group
/// without data from people reads "not measured".
pub fn readiness_table(cmp: &Comparison, gates: &[GroupGate]) -> Table {
    let mut t =
        Table::new(&["Group", "Kind", "Weight", "Verdict", "Measured drop (points, 95% CI, n)", "Tolerance", "Gate", "Still untested"])
            .titled(format!("Readiness of `{}` for `{}`", cmp.card_id, cmp.deployment_id));
    for g in &cmp.groups {
        let gate = gates.iter().find(|x| x.group == g.id);
        let (drop, result) = match gate.map(|x| &x.outcome) {
            Some(GateOutcome::Measured { drop, ci, n, result, units_to_settle, confounded, step }) => (
                format!(
                    "{drop:.1} ({:.1} to {:.1}; n = {n}) at {step}{}",
                    ci[0],
                    ci[1],
                    if confounded.is_empty() { "" } else { ", confounded" }
                ),
                match (result, units_to_settle) {
                    (GateResult::Pass, _) => "pass".to_string(),
                    (GateResult::Fail, _) => "fail".to_string(),
                    (GateResult::Inconclusive, Some(u)) => format!("inconclusive (about {u} units would settle it)"),
                    (GateResult::Inconclusive, None) => "inconclusive".to_string(),
                },
            ),
            Some(GateOutcome::NotMeasured { note, .. }) => (format!("not measured ({note})"), "—".into()),
            None => ("not measured".into(), "—".into()),
        };
        let measured = matches!(gate.map(|x| &x.outcome), Some(GateOutcome::Measured { .. }));
        let untested = match (g.kind, measured, g.broken + g.partial + g.unknown > 0) {
            (_, true, _) => String::new(),
            (Kind::Outcome, false, true) => "not measured: needs a study with people (stage 4)".into(),
            (Kind::Task, false, true) => "untested: run the plan's condition for it (stage 3)".into(),
            (_, false, false) => String::new(),
        };
        t.row(vec![
            g.id.clone(),
            format!("{:?}", g.kind).to_lowercase(),
            g.weight.name().into(),
            group_verdict(g),
            drop,
            g.tolerance.map_or_else(|| "—".into(), |x| format!("{x} points")),
            result,
            untested,
        ]);
    }
    t
}

fn value_text(v: &Option<Value>) -> String {
    v.as_ref().map_or_else(|| "not stated".into(), |v| v.ids().join(", "))
}

/// The first sentence of a text, without its full stop. A full stop ends a sentence when the
/// word before it is not an abbreviation (holds no other stop, and is longer than one letter).
fn first_sentence(text: &str) -> &str {
    let t = text.trim();
    let end = t
        .match_indices(". ")
        .map(|(i, _)| i)
        .find(|&i| {
            let word = t[..i].rsplit(' ').next().unwrap_or("");
            word.chars().count() > 1 && !word.contains('.')
        })
        .unwrap_or(t.len());
    t[..end].trim_end_matches('.')
}

/// The clinician brief: one printable page on what the benchmark measured, who wrote its
/// questions, what it assumed about the conversation and about who decides, what has and has not
/// been tested, and the questions to ask a vendor.
pub fn clinician_brief(card: &Card, cmp: Option<&Comparison>, gates: &[GroupGate]) -> Report {
    let t = taxonomy();
    let dim = |id: &str| card.dimensions.get(id);
    // The value, and the first sentence of the designers' answer: the brief fits one page.
    let said = |id: &str| {
        dim(id).map_or_else(
            || "not stated".to_string(),
            |d| {
                let v = value_text(&d.value);
                match d.answer.as_deref().map(first_sentence) {
                    Some(a) => format!("{v} — {a}"),
                    None => v,
                }
            },
        )
    };
    let mut r = Report::new(&format!("Clinician brief: {}", card.name));
    r.paragraph(&format!(
        "What a score on this benchmark does and does not tell you{}. Card by {}{}.",
        cmp.map_or(String::new(), |c| format!(" about the deployment `{}`", c.deployment_id)),
        card.card_author,
        if card.designer_endorsed { ", endorsed by the benchmark's designers" } else { ", not endorsed by the benchmark's designers" }
    ));
    r.heading(2, "What it measured");
    let metrics: Vec<String> =
        card.metrics.iter().map(|m| m.description.as_ref().map_or_else(|| m.name.clone(), |d| format!("{}: {d}", m.name))).collect();
    r.list(
        &[
            card.intended_use.clone().unwrap_or_else(|| "The card does not say what the benchmark is meant to evaluate.".into()),
            format!("Outcome scored: {}; reference: {}.", said("outcome_level"), said("reference_standard")),
        ]
        .into_iter()
        .chain(metrics)
        .collect::<Vec<_>>(),
    );
    r.heading(2, "Who wrote its questions");
    r.list(&[format!("Author: {}.", said("query_author")), format!("Source: {}.", said("input_source"))]);
    r.heading(2, "What it assumed about the conversation");
    r.list(&[
        format!("Interaction: {}.", said("interaction_mode")),
        format!("Information in each question: {}.", said("information_completeness")),
        format!("Misreporting: {}.", said("misreporting")),
    ]);
    r.heading(2, "What it assumed about who decides");
    r.list(&[format!("Decision: {}.", said("decision_mediation")), format!("Who reads the answer: {}.", said("mediator_expertise"))]);
    r.heading(2, "What has and has not been tested");
    let mut tested: Vec<String> = card
        .tested
        .iter()
        .map(|x| {
            format!(
                "{}: {} → {} cost {:.1} points{}{}.",
                x.assumption,
                x.from,
                x.to,
                x.drop,
                x.interval.map_or_else(|| " (no interval reported)".to_string(), |[lo, hi]| format!(" (95% CI {lo:.1} to {hi:.1})")),
                x.model.as_ref().map_or(String::new(), |m| format!(" for {m}"))
            )
        })
        .collect();
    for g in gates {
        if let GateOutcome::Measured { step, drop, ci, n, .. } = &g.outcome {
            tested.push(format!("{}: {step} cost {drop:.1} points here (95% CI {:.1} to {:.1}; n = {n}).", g.group, ci[0], ci[1]));
        }
    }
    if tested.is_empty() {
        tested.push("Nothing: no relaxed assumption has a measured cost.".into());
    }
    let measured: Vec<&str> =
        gates.iter().filter(|g| matches!(g.outcome, GateOutcome::Measured { .. })).map(|g| g.group.as_str()).collect();
    let outcome_untested: Vec<&str> = t
        .groups
        .iter()
        .filter(|g| g.kind == Kind::Outcome && !measured.contains(&g.id.as_str()) && !card.tested.iter().any(|x| x.assumption == g.id))
        .map(|g| g.id.as_str())
        .collect();
    if !outcome_untested.is_empty() {
        tested.push(format!(
            "Not measured: {} — whether people who use the model decide better needs a study with people.",
            outcome_untested.join(", ")
        ));
    }
    r.list(&tested);
    r.heading(2, "Questions to ask a vendor");
    let mut questions: Vec<String> = Vec::new();
    if let Some(c) = cmp {
        for d in c.dimensions.iter().filter(|d| matches!(d.verdict, Verdict::Broken | Verdict::Partial | Verdict::Unknown)) {
            if let Some(def) = t.dimension(&d.id) {
                let why = match d.verdict {
                    Verdict::Unknown => "the benchmark does not say".to_string(),
                    _ => format!(
                        "the benchmark assumed {}, this deployment has {}",
                        d.benchmark.as_deref().unwrap_or("—"),
                        d.deployment.as_deref().unwrap_or("—")
                    ),
                };
                questions.push(format!(
                    "{} ({}: {why}) What evidence shows the model works under this deployment's conditions?",
                    def.question, d.id
                ));
            }
        }
    } else {
        for (id, d) in &card.dimensions {
            if d.status == benchcards_core::CardStatus::NotSpecified
                && let Some(def) = t.dimension(id)
            {
                questions.push(format!("{} ({id}: the benchmark does not say)", def.question));
            }
        }
    }
    questions.push("Has the model been tested with the people who will use it, deciding with its help, against usual care?".into());
    r.list(&questions);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_verdicts_name_the_worst_finding_with_counts() {
        let g = |holds, partial, broken, unknown| benchcards_assess::GroupAssessment {
            id: "g".into(),
            kind: Kind::Task,
            weight: benchcards_core::Weight::High,
            weight_value: 1.0,
            tolerance: None,
            score: None,
            holds,
            partial,
            broken,
            unknown,
            not_assessed: 0,
        };
        assert_eq!(group_verdict(&g(2, 1, 1, 0)), "broken (1 of 4)");
        assert_eq!(group_verdict(&g(2, 1, 0, 1)), "partial (1 of 4)");
        assert_eq!(group_verdict(&g(2, 0, 0, 1)), "unknown (1 of 3)");
        assert_eq!(group_verdict(&g(2, 0, 0, 0)), "holds");
        assert_eq!(group_verdict(&g(0, 0, 0, 0)), "not assessed");
    }

    #[test]
    fn first_sentences_drop_the_rest_and_the_full_stop() {
        assert_eq!(first_sentence("Physicians wrote them. Three revised them."), "Physicians wrote them");
        assert_eq!(first_sentence("One sentence only."), "One sentence only");
        assert_eq!(first_sentence("e.g. this stays whole"), "e.g. this stays whole");
    }
}
