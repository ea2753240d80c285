//! What a deployment lead reads first, and what a clinician reads: the readiness summary (per
//! assumption group: the verdict, the measured drop against the tolerance, the gate, and what is
//! still untested), the one-page clinician brief, and the demo's report.

use crate::assess::comparison_sections;
use crate::card::card_tables;
use crate::decompose::decomposition_sections;
use crate::{Report, Table};
use benchcards_assess::Comparison;
use benchcards_assess::readiness::{Evidence, GroupReadiness, PublishedGate, readiness, result_name};
use benchcards_core::{Card, Profile, Value, Verdict, taxonomy};
use benchcards_stats::decompose::{Decomposition, StepKind};
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
    /// A run's samples per condition and model (done, failed, tokens, latency, cost), and its
    /// failed attempts.
    pub samples: Vec<Table>,
    /// Lines for the reproducibility block (run, plan hash, models, sampling, seeds).
    pub provenance: Vec<String>,
    /// Shown first, as warnings (e.g. a card file that could not be read).
    pub notes: Vec<String>,
    /// Demonstration models of the run (the embedded model, or marked `demo: true`): their
    /// numbers are labelled wherever they appear.
    pub demo_models: Vec<String>,
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
        let tolerances = self.profile.as_ref().map_or_else(Vec::new, Profile::tolerances);
        self.decomposition.as_ref().map_or_else(Vec::new, |d| group_gates(d, &tolerances))
    }

    /// Each group's readiness: this run's gate, else the card's published drops.
    pub fn readiness(&self) -> Vec<GroupReadiness> {
        self.profile.as_ref().map_or_else(Vec::new, |p| readiness(p, self.comparison().as_ref(), &self.gates()))
    }
}

/// The team's report: readiness, the card, the assessment, the decomposition (its waterfall
/// linked as `chart` from the Markdown twin), the transcripts, and reproducibility.
pub fn team_report(inputs: &Inputs, chart: &str, lines: &[String]) -> Report {
    let cmp = inputs.comparison();
    let title = match (&inputs.card, &inputs.profile) {
        (Some(c), Some(p)) => format!("{} at the `{}` deployment", c.name, p.id),
        (Some(c), None) => c.name.clone(),
        _ => inputs.provenance.first().map_or_else(|| "Gap decomposition".into(), |p| format!("Gap decomposition: {p}")),
    };
    let mut r = Report::new(&title);
    for n in &inputs.notes {
        r.warning(&format!("Note: {n}."));
    }
    if !inputs.demo_models.is_empty() {
        r.warning(&demo_warning(&inputs.demo_models));
    }
    if let Some(d) = &inputs.decomposition
        && d.conditions.iter().any(|c| c.proxy)
    {
        r.warning("Proxy: a condition scores a simulated person's decision. It estimates nothing about real people; outcome assumptions stay not measured until a study with people.");
    }
    if let Some(c) = &cmp {
        r.heading(2, "Readiness");
        r.paragraph(&c.headline);
        let title = format!("Readiness of `{}` for `{}`", c.card_id, c.deployment_id);
        let rows = inputs.readiness();
        r.table(&readiness_table(&title, &rows, !inputs.demo_models.is_empty()));
        let sources = published_sources(&rows);
        if !sources.is_empty() {
            r.paragraph(&format!("Published figures from: {}.", sources.join("; ")));
        }
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
    if !inputs.samples.is_empty() {
        r.heading(2, "Samples");
        for t in &inputs.samples {
            r.table(t);
        }
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

/// The measured drop and gate of one group, as the readiness table and `gate` show them.
fn evidence_cells(r: &GroupReadiness, demo: bool) -> (String, String) {
    let demo_note = if demo { " — demo model, not a finding" } else { "" };
    match &r.evidence {
        Evidence::Run(GateOutcome::Measured { drop, ci, n, result, units_to_settle, confounded, step }) => (
            format!(
                "{drop:.1} ({:.1} to {:.1}; n = {n}) at {step}{}, this run{demo_note}",
                ci[0],
                ci[1],
                if confounded.is_empty() { "" } else { ", confounded" }
            ),
            match (result, units_to_settle) {
                (GateResult::Inconclusive, Some(u)) => format!("inconclusive (about {u} units would settle it)"),
                (r, _) => result_name(*r).to_string(),
            },
        ),
        Evidence::Run(_) => ("not measured".into(), "—".into()),
        Evidence::Published { drops } => (
            drops.iter().map(|d| format!("{} at {} → {}", d.drop_text(), d.tested.from, d.tested.to)).collect::<Vec<_>>().join("; "),
            drops.iter().map(PublishedGate::result_text).collect::<Vec<_>>().join("; "),
        ),
        Evidence::NotMeasured { note } => (format!("not measured ({note})"), "—".into()),
    }
}

/// One row per assumption group: the verdict, the best evidence of its cost (this run's, else the
/// card's published drops, else none), the tolerance, the gate and what is still untested. `gate`,
/// the report and the web UI all print this table.
pub fn readiness_table(title: &str, rows: &[GroupReadiness], demo: bool) -> Table {
    let mut t =
        Table::new(&["Group", "Weight", "Verdict", "Drop (points, 95% CI, n), where measured", "Tolerance", "Gate", "Still untested"])
            .titled(title);
    for r in rows {
        let (drop, result) = evidence_cells(r, demo);
        t.row(vec![
            r.group.clone(),
            r.weight.name().into(),
            r.verdict.clone().unwrap_or_else(|| "—".into()),
            drop,
            r.tolerance.map_or_else(|| "—".into(), |x| format!("{x} points")),
            result,
            r.untested().unwrap_or_default(),
        ]);
    }
    t
}

/// A dimension's value in words: each vocabulary value by its definition (shares in percent);
/// values outside a vocabulary (languages, dates) as written, `other:` without its prefix.
pub(crate) fn value_words(dim: &str, value: &Value) -> String {
    let def = |id: &str| -> String {
        if let Some(text) = id.strip_prefix("other:") {
            return text.trim().to_string();
        }
        taxonomy()
            .dimension(dim)
            .and_then(|d| d.values.iter().find(|v| v.id == id))
            .map_or_else(|| id.to_string(), |v| v.definition.trim_end_matches('.').to_string())
    };
    match value {
        Value::One(v) => def(v),
        Value::Set(vs) => vs.iter().map(|v| def(v)).collect::<Vec<_>>().join("; "),
        Value::Mixture(m) => m.iter().map(|(v, s)| format!("{} ({:.0}%)", def(v), s * 100.0)).collect::<Vec<_>>().join("; "),
    }
}

/// A published rate with its Wilson interval and n: "34% of cases (95% CI 30% to 38%, n = 600)".
fn rate_text(percent: f64, n: u64) -> String {
    let ci = benchcards_stats::proportion::wilson((percent / 100.0 * n as f64).round(), n as f64, 0.95);
    format!("{percent:.0}% of cases (95% CI {:.0}% to {:.0}%, n = {n})", ci[0] * 100.0, ci[1] * 100.0)
}

/// Where the rows' published figures come from, each source once, in order.
pub fn published_sources(rows: &[GroupReadiness]) -> Vec<&str> {
    let mut sources: Vec<&str> = Vec::new();
    for r in rows {
        if let Evidence::Published { drops } = &r.evidence {
            for d in drops {
                if !sources.contains(&d.source()) {
                    sources.push(d.source());
                }
            }
        }
    }
    sources
}

/// The brief's bottom line in absolute terms: what people decided with the model, where anyone
/// measured it (this run's study with people, else the card's published study).
fn bottom_line(card: &Card, decomposition: Option<&Decomposition>) -> String {
    // A measured outcome step ends at a condition that scores people's own decisions.
    let people = decomposition.and_then(|d| {
        let step = d.steps.iter().find(|s| s.kind == StepKind::OutcomeMeasured)?;
        Some((d, d.conditions.iter().find(|c| c.id == step.to)?))
    });
    if let Some((d, c)) = people {
        let mut s = format!(
            "In this run's study, people deciding with the model got it right {:.0}% of the time (95% CI {:.0}% to {:.0}%, n = {})",
            c.score * 100.0,
            c.ci[0] * 100.0,
            c.ci[1] * 100.0,
            c.n
        );
        if let Some(r) = &d.reference {
            s.push_str(&format!(
                "; without the model, {:.0}% (95% CI {:.0}% to {:.0}%, n = {})",
                r.score * 100.0,
                r.ci[0] * 100.0,
                r.ci[1] * 100.0,
                r.n
            ));
        }
        return s + ".";
    }
    let t = taxonomy();
    let scores_people = |id: &str| t.condition(id).is_some_and(|c| c.scored == "participant");
    let published = card.tested.iter().find(|x| scores_people(&x.to) && x.to_score.is_some());
    match published {
        Some(x) => {
            let metric = x.metric.as_deref().map(first_clause).or(card.metrics.first().map(|m| m.name.as_str())).unwrap_or("the task");
            let mut s = format!(
                "In the published study, people deciding with the model{} got “{metric}” right in {}",
                x.model.as_ref().map_or(String::new(), |m| format!(" ({m})")),
                x.to_score
                    .map_or_else(String::new, |p| x.n.map_or_else(|| format!("{p:.0}% of cases (n not reported)"), |n| rate_text(p, n)))
            );
            if let Some(c) = &x.control {
                s.push_str(&format!("; people without the model, in {}", rate_text(c.score, c.n)));
            }
            s + ". The benchmark scores the model alone, not what people decide with it."
        }
        None => "Nobody has measured what people decide with this model: the score is the model's alone.".into(),
    }
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

/// A text up to its first colon or semicolon ("relevant condition identified: ..." → the name).
fn first_clause(text: &str) -> &str {
    text.split([':', ';', '(']).next().unwrap_or(text).trim()
}

/// The clinician brief: one printable page on what the benchmark measured, the bottom line in
/// absolute terms, what it assumed about the questions, the conversation and who decides, what
/// has and has not been tested (the same readiness rows as the report), and the questions to ask
/// a vendor. Everything is in words: no taxonomy id appears in its text.
pub fn clinician_brief(inputs: &Inputs) -> Option<Report> {
    let card = inputs.card.as_ref()?;
    let t = taxonomy();
    let cmp = inputs.comparison();
    // The value in words, and the first sentence of the designers' answer: the brief fits a page.
    let said = |id: &str| {
        card.dimensions.get(id).map_or_else(
            || "not stated".to_string(),
            |d| {
                let v = d.value.as_ref().map_or_else(|| "not stated".to_string(), |v| value_words(id, v));
                match d.answer.as_deref().map(first_sentence) {
                    Some(a) => format!("{v}. {a}"),
                    None => v,
                }
            },
        )
    };
    let title = |id: &str| t.dimension(id).map_or(id.to_string(), |d| d.title.clone());
    let item = |id: &str| format!("{}: {}.", title(id), said(id));
    let mut r = Report::new(&format!("Clinician brief: {}", card.name));
    r.compact();
    r.paragraph(&format!(
        "What a score on this benchmark does and does not tell you{}. Card by {}{}.",
        inputs.profile.as_ref().map_or(String::new(), |p| format!(" about {}", p.name)),
        card.card_author,
        if card.designer_endorsed { ", endorsed by the benchmark's designers" } else { ", not endorsed by the benchmark's designers" }
    ));
    if !inputs.demo_models.is_empty() {
        r.warning(&demo_warning(&inputs.demo_models));
    }
    r.heading(2, "Bottom line");
    r.paragraph(&bottom_line(card, inputs.decomposition.as_ref()));
    r.heading(2, "What it measured");
    let metrics: Vec<&str> = card.metrics.iter().map(|m| m.name.as_str()).collect();
    r.list(&[
        card.intended_use
            .as_deref()
            .map_or_else(|| "The card does not say what the benchmark is meant to evaluate.".into(), |u| format!("{}.", first_sentence(u))),
        format!("Scores: {}.", if metrics.is_empty() { "not stated".to_string() } else { metrics.join("; ") }),
        item("outcome_level"),
        item("reference_standard"),
    ]);
    r.heading(2, "What it assumed");
    r.list(
        &["query_author", "input_source", "interaction_mode", "information_completeness", "decision_mediation", "mediator_expertise"]
            .map(item),
    );
    r.heading(2, "What has and has not been tested here");
    let rows = inputs.readiness();
    let mut tested: Vec<String> = rows
        .iter()
        .filter(|g| g.open)
        .map(|g| {
            let tolerance = g.tolerance.map_or(String::new(), |x| format!(" (this deployment accepts a drop of {x} points)"));
            let finding = match &g.evidence {
                Evidence::Run(GateOutcome::Measured { drop, ci, n, result, .. }) => format!(
                    "measured on this model: {drop:.1} points (95% CI {:.1} to {:.1}; n = {n}){}: {}",
                    ci[0],
                    ci[1],
                    if inputs.demo_models.is_empty() { "" } else { ", demo model, not a finding" },
                    result_name(*result)
                ),
                Evidence::Published { drops } => {
                    drops.iter().map(|d| format!("{}: {}", d.drop_text(), d.result_text())).collect::<Vec<_>>().join("; ")
                }
                _ => g.untested().unwrap_or_else(|| "not measured".into()),
            };
            format!("{}{tolerance}: {finding}.", g.title)
        })
        .collect();
    if tested.is_empty() {
        tested.push(if inputs.profile.is_some() {
            "Every assumption this deployment states holds for the benchmark.".to_string()
        } else {
            "No deployment profile could be read: nothing is compared.".to_string()
        });
    }
    let sources = published_sources(&rows);
    if !sources.is_empty() {
        tested.push(format!("Published figures from: {}.", sources.join("; ")));
    }
    r.list(&tested);
    r.heading(2, "Questions to ask a vendor");
    // One question per dimension that does not hold, heaviest groups first; the page has room for four.
    let mut open: Vec<(f64, String)> = match &cmp {
        Some(c) => c
            .dimensions
            .iter()
            .filter(|d| matches!(d.verdict, Verdict::Broken | Verdict::Partial | Verdict::Unknown))
            .filter_map(|d| {
                let def = t.dimension(&d.id)?;
                let weight = c.groups.iter().find(|g| g.id == d.group).map_or(1.0, |g| g.weight_value);
                let card_value = card.dimensions.get(&d.id).and_then(|x| x.value.as_ref()).map(|v| value_words(&d.id, v));
                let why = match (d.verdict, card_value) {
                    (Verdict::Unknown, _) | (_, None) => "the benchmark does not say".to_string(),
                    (_, Some(v)) => format!("the benchmark: {}", v.to_lowercase()),
                };
                Some((weight, format!("{} ({why}.)", def.clinician_question)))
            })
            .collect(),
        None => card
            .dimensions
            .iter()
            .filter(|(_, d)| d.status == benchcards_core::CardStatus::NotSpecified)
            .filter_map(|(id, _)| t.dimension(id).map(|d| (1.0, format!("{} (the benchmark does not say.)", d.clinician_question))))
            .collect(),
    };
    open.sort_by(|a, b| b.0.total_cmp(&a.0));
    let more = open.len().saturating_sub(4);
    let mut questions: Vec<String> = open.into_iter().take(4).map(|(_, q)| q).collect();
    if more > 0 {
        questions.push(format!("{more} more in the full report's assessment."));
    }
    questions.push("Has the model been tested with the people who will use it, deciding with its help, against usual care?".into());
    r.list(&questions);
    Some(r)
}

/// What the demo's report shows: the card against the measured profile, the scores by grader,
/// the first grader's decomposition, how they were produced, and how to run the plan for real.
pub struct DemoReport<'a> {
    pub card: &'a Card,
    pub profile: &'a Profile,
    pub vignettes: usize,
    pub scores: &'a Table,
    pub decomposition: &'a Decomposition,
    pub reproducibility: &'a [String],
    /// The steps to run the same plan against a real model.
    pub real_model: &'a str,
}

/// The demo's report (its waterfall linked from the Markdown twin as `waterfall.svg`).
/// What the demo's numbers are not: shown first in its report and at the end of its output.
pub const DEMO_CAVEAT: &str = "The embedded model (SmolLM2-135M, 4-bit) is tiny: its medical answers are not meaningful, and a handful of vignettes gives wide intervals. This demo shows the pipeline working end to end, not a finding.";

pub fn demo_report(d: &DemoReport) -> Report {
    let mut r = Report::new(&format!("benchcards demo: {} at the `{}` deployment", d.card.name, d.profile.id));
    r.warning(DEMO_CAVEAT);
    r.paragraph(&format!(
        "Stage 1 asks where the benchmark's assumptions break at this deployment; stage 3 runs the model on the same {} vignette(s) under conditions that relax them one at a time and measures what each step costs.",
        d.vignettes
    ));
    comparison_sections(&mut r, &benchcards_assess::compare(taxonomy(), d.card, d.profile));
    r.heading(2, "Scores under each condition, by grader");
    r.table(d.scores);
    decomposition_sections(&mut r, d.decomposition, None, "waterfall.svg");
    r.heading(2, "Reproducibility");
    r.list(d.reproducibility);
    r.heading(2, "The same plan against a real model");
    r.code(d.real_model);
    r
}

/// Said wherever a demonstration model's numbers appear.
pub fn demo_warning(models: &[String]) -> String {
    format!(
        "Demo model ({}): its numbers show that the pipeline works, not how a real model performs. They are not a finding.",
        models.join(", ")
    )
}

/// The steps to run the demo's plan (at `plan`, its store at `store`) against a real model.
pub fn real_endpoint_steps(plan: &str, store: &str) -> String {
    format!(
        "1. In {plan}, replace the model with an OpenAI-compatible endpoint, e.g.\n     - {{id: my-model, provider: openai, model: NAME, base_urls: [\"https://HOST/v1\"], api_key_env: MY_API_KEY}}\n2. benchcards run {plan} --dry-run        # requests, tokens and cost, nothing sent\n3. benchcards run {plan} --store {store}\n4. benchcards runs export RUN --store {store} --format csv -o results.csv\n5. benchcards decompose results.csv --path vignette,patient_query,conversation --chart waterfall.svg"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sentences_drop_the_rest_and_the_full_stop() {
        assert_eq!(first_sentence("Physicians wrote them. Three revised them."), "Physicians wrote them");
        assert_eq!(first_sentence("One sentence only."), "One sentence only");
        assert_eq!(first_sentence("e.g. this stays whole"), "e.g. this stays whole");
    }
}
