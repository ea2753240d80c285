//! Stage-1 results for people: a comparison as terminal text, as the paper's Markdown table and
//! as JSON; rankings, gaps, the registry overview, the dimensions a profile measured and a
//! drafted plan's stages as tables.

use crate::{Report, Table, escape_md};
use benchcards_assess::registry::{Gaps, Overview, Ranked};
use benchcards_assess::{BiasDirection, Comparison};
use benchcards_core::{CardStatus, Plan, ProfileStatus, Verdict, taxonomy};
use serde_json::{Value as Json, json};

pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Holds => "holds",
        Verdict::Partial => "partial",
        Verdict::Broken => "broken",
        Verdict::Unknown => "unknown",
        Verdict::NotAssessed => "not_assessed",
    }
}

pub fn bias_name(b: BiasDirection) -> &'static str {
    match b {
        BiasDirection::None => "none",
        BiasDirection::BenchmarkOptimistic => "benchmark optimistic",
        BiasDirection::BenchmarkPessimistic => "benchmark pessimistic",
        BiasDirection::Unclear => "unclear",
    }
}

fn card_status(s: CardStatus) -> &'static str {
    benchcards_core::validate::status_name(s)
}

fn deployment_status(s: ProfileStatus) -> &'static str {
    benchcards_core::validate::profile_status_name(s)
}

/// A verdict cell: the verdict in force, with the computed one beside an override.
fn verdict_cell(d: &benchcards_assess::DimensionAssessment) -> String {
    match &d.override_ {
        Some(o) => format!("{} (override; computed {})", verdict_name(o.verdict), verdict_name(d.computed_verdict)),
        None => verdict_name(d.verdict).to_string(),
    }
}

fn why(d: &benchcards_assess::DimensionAssessment) -> String {
    match &d.override_ {
        Some(o) => format!("{} — override: {}", d.rationale, o.justification),
        None => d.rationale.clone(),
    }
}

/// The ANSI colour of a verdict cell.
pub fn verdict_colour(cell: &str) -> Option<&'static str> {
    let first = cell.split_whitespace().next()?;
    Some(match first {
        "holds" => "32",
        "partial" => "33",
        "broken" => "31;1",
        "unknown" => "35",
        "not_assessed" => "2",
        _ => return None,
    })
}

pub fn summary_table(cmp: &Comparison) -> Table {
    let mut t = Table::new(&[
        "Group",
        "Kind",
        "Weight",
        "Verdict",
        "Score (low–high)",
        "Holds",
        "Partial",
        "Broken",
        "Unknown",
        "Not assessed",
        "Tolerance (points)",
    ]);
    for g in &cmp.groups {
        t.row(vec![
            g.id.clone(),
            format!("{:?}", g.kind).to_lowercase(),
            g.weight.name().into(),
            g.verdict_text(),
            g.score.map_or_else(|| "—".into(), |s| s.display()),
            g.holds.to_string(),
            g.partial.to_string(),
            g.broken.to_string(),
            g.unknown.to_string(),
            g.not_assessed.to_string(),
            g.tolerance.map_or_else(|| "—".into(), |t| format!("{t}")),
        ]);
    }
    t
}

fn flags_table(cmp: &Comparison) -> Table {
    let mut t =
        Table::new(&["Flag", "Value", "Status"]).titled("Quality flags (the strength of the benchmark's evidence; shown, not compared)");
    for f in &cmp.flags {
        t.row(vec![f.id.clone(), f.value.clone().unwrap_or_else(|| "—".into()), card_status(f.status).into()]);
    }
    t
}

fn title(cmp: &Comparison) -> String {
    let version = cmp.card_version.as_ref().map_or(String::new(), |v| format!(" ({v})"));
    format!("{}{version} vs deployment `{}`", cmp.card_name, cmp.deployment_id)
}

/// The comparison for a terminal: one table per group, reasons for what does not hold, the
/// group summary, flags, fit and headline.
pub fn comparison_text(cmp: &Comparison, colour: bool) -> String {
    let t = taxonomy();
    let mut out = format!("{}\n\n", title(cmp));
    for g in &t.groups {
        let kind = format!("{:?}", g.kind).to_lowercase();
        let mut table = Table::new(&["Dimension", "Benchmark assumes", "Deployment has", "Verdict", "Bias", "Next step"])
            .titled(format!("{} ({kind} assumption)", g.title));
        table.max_cell = 40;
        let mut reasons = Vec::new();
        for d in cmp.dimensions.iter().filter(|d| d.group == g.id) {
            let dep = d.deployment.clone().map_or_else(
                || format!("— ({})", deployment_status(d.deployment_status)),
                |v| format!("{v} ({})", deployment_status(d.deployment_status)),
            );
            table.row(vec![
                d.id.clone(),
                d.benchmark.clone().map_or_else(
                    || format!("— ({})", card_status(d.benchmark_status)),
                    |v| format!("{v} ({})", card_status(d.benchmark_status)),
                ),
                dep,
                verdict_cell(d),
                bias_name(d.bias).into(),
                d.next_step.clone().unwrap_or_default(),
            ]);
            if d.verdict != Verdict::Holds || d.next_step.is_some() || d.override_.is_some() {
                reasons.push(format!("  {}: {}", d.id, why(d)));
            }
        }
        let style = |col: usize, cell: &str| if colour && col == 3 { verdict_colour(cell) } else { None };
        out.push_str(&table.to_text_styled(style));
        for r in reasons {
            out.push_str(&r);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&summary_table(cmp).titled("Per group").to_text());
    out.push('\n');
    out.push_str(&flags_table(cmp).to_text());
    out.push('\n');
    out.push_str(&cmp.headline);
    out.push('\n');
    out
}

/// One table per assumption group: (heading, table). `md` adds Markdown emphasis to cells.
fn group_tables(cmp: &Comparison, md: bool) -> Vec<(String, Table)> {
    let t = taxonomy();
    let mut out = Vec::new();
    for g in &t.groups {
        let kind = format!("{:?}", g.kind).to_lowercase();
        let mut table =
            Table::new(&["Dimension", "What the benchmark assumed", "At this deployment", "Verdict", "Why", "Bias", "Next step"]);
        let code = |s: &str| if md { format!("`{s}`") } else { s.to_string() };
        for d in cmp.dimensions.iter().filter(|d| d.group == g.id) {
            table.row(vec![
                code(&d.id),
                d.benchmark.clone().map_or_else(
                    || format!("— ({})", card_status(d.benchmark_status)),
                    |v| format!("{v} ({})", card_status(d.benchmark_status)),
                ),
                d.deployment.clone().map_or_else(
                    || format!("— ({})", deployment_status(d.deployment_status)),
                    |v| format!("{v} ({})", deployment_status(d.deployment_status)),
                ),
                if md { format!("**{}**", verdict_cell(d)) } else { verdict_cell(d) },
                why(d),
                bias_name(d.bias).into(),
                d.next_step.as_deref().map(code).unwrap_or_default(),
            ]);
        }
        out.push((format!("{} ({kind} assumption)", g.title), table));
    }
    out
}

/// The paper's table: what the benchmark assumed, and where that broke at this deployment.
pub fn comparison_markdown(cmp: &Comparison) -> String {
    let mut out = format!("## {}\n\n**{}**\n\n", escape_md(&title(cmp)), escape_md(&cmp.headline));
    for (heading, table) in group_tables(cmp, true) {
        out.push_str(&format!("### {heading}\n\n{}\n", table.to_markdown()));
    }
    out.push_str(&format!("### Per group\n\n{}\n", summary_table(cmp).to_markdown()));
    out.push_str(&format!("### Quality flags\n\n{}\n", flags_table(cmp).to_markdown()));
    out
}

/// The comparison as sections of a report: the same tables as `comparison_markdown`.
pub fn comparison_sections(r: &mut Report, cmp: &Comparison) {
    r.heading(2, &title(cmp));
    r.warning(&cmp.headline);
    for (heading, table) in group_tables(cmp, false) {
        r.heading(3, &heading);
        r.table(&table);
    }
    r.heading(3, "Per group");
    r.table(&summary_table(cmp));
    r.heading(3, "Quality flags");
    r.table(&flags_table(cmp));
}

/// The comparison's documented JSON form.
pub fn comparison_json(cmp: &Comparison) -> Json {
    json!({
        "card": {"id": cmp.card_id, "version": cmp.card_version},
        "deployment": {"id": cmp.deployment_id},
        "fit": cmp.fit,
        "headline": cmp.headline,
        "groups": cmp.groups.iter().map(|g| json!({
            "id": g.id, "kind": g.kind, "score": g.score, "weight": g.weight.name(), "weight_value": g.weight_value,
            "tolerance": g.tolerance, "verdict": g.verdict_text(), "measured": g.measured,
            "counts": {"holds": g.holds, "partial": g.partial, "broken": g.broken, "unknown": g.unknown, "not_assessed": g.not_assessed},
        })).collect::<Vec<_>>(),
        "dimensions": cmp.dimensions.iter().map(|d| json!({
            "id": d.id, "group": d.group, "kind": d.kind,
            "benchmark": d.benchmark, "benchmark_status": d.benchmark_status,
            "deployment": d.deployment, "deployment_status": d.deployment_status,
            "verdict": d.verdict, "computed_verdict": d.computed_verdict, "override": d.override_,
            "rationale": d.rationale, "bias": d.bias, "next_step": d.next_step,
        })).collect::<Vec<_>>(),
        "flags": cmp.flags,
    })
}

/// A ranking's documented JSON form: `cards` counts the cards ranked, `ranking` lists `ranked`
/// (all of them, or the top ones shown).
pub fn ranking_json(deployment_id: &str, cards: usize, ranked: &[Ranked]) -> Json {
    json!({
        "deployment": {"id": deployment_id},
        "cards": cards,
        "ranking": ranked.iter().map(|r| json!({
            "rank": r.rank, "card": r.card_id, "name": r.card_name, "fit": r.fit, "unknown": r.unknown,
            "explanation": r.explanation, "broken_groups": r.broken_groups,
        })).collect::<Vec<_>>(),
    })
}

pub fn ranking_table(ranked: &[Ranked]) -> Table {
    let mut t = Table::new(&["Rank", "Card", "Fit (low–high)", "Why"]);
    t.wrap_last = 90;
    for r in ranked {
        t.row(vec![r.rank.to_string(), r.card_id.clone(), r.fit.map_or_else(|| "—".into(), |f| f.display()), r.explanation.clone()]);
    }
    t
}

pub fn gaps_table(g: &Gaps) -> Table {
    let mut t = Table::new(&["Dimension", "Deployment has", "Best any card does", "Closest card", "Its value", "Next step to adapt it"]);
    for gap in &g.gaps {
        t.row(vec![
            gap.dimension.clone(),
            gap.deployment.clone(),
            verdict_name(gap.best_verdict).into(),
            gap.closest_card.clone().unwrap_or_else(|| "—".into()),
            gap.closest_value.clone().unwrap_or_else(|| "—".into()),
            gap.next_step.clone().unwrap_or_default(),
        ]);
    }
    t
}

/// The registry matrix (cards × groups) and, per dimension, the values no card takes.
pub fn overview_tables(o: &Overview) -> (Table, Table) {
    let t = taxonomy();
    let mut columns: Vec<&str> = vec!["Card"];
    columns.extend(t.groups.iter().map(|g| g.id.as_str()));
    let mut matrix = Table::new(&columns).titled(
        "What each benchmark assumes, per group: its first dimension's value, and how many of the group's dimensions the card states",
    );
    for c in &o.cards {
        let mut row = vec![c.id.clone()];
        let short = |v: &str| if v.chars().count() > 26 { format!("{}…", v.chars().take(25).collect::<String>()) } else { v.to_string() };
        row.extend(
            c.groups.iter().map(|g| format!("{} ({}/{})", g.value.as_deref().map_or_else(|| "—".into(), short), g.specified, g.total)),
        );
        matrix.row(row);
    }
    let mut dims = Table::new(&["Dimension", "Values taken (cards)", "Not specified", "No card covers"])
        .titled("Across the registry: which settings the benchmarks cover, and which none does");
    dims.max_cell = 70;
    for d in &o.dimensions {
        let taken: Vec<String> = d.values.iter().filter(|v| v.cards > 0).map(|v| format!("{} ({})", v.id, v.cards)).collect();
        dims.row(vec![d.id.clone(), taken.join(", "), d.not_specified.to_string(), d.uncovered.join(", ")]);
    }
    (matrix, dims)
}

/// The dimensions whose deployment value was measured (`status: measured`): what the benchmark
/// assumes, what was measured, and the verdict.
pub fn measured_table(cmp: &Comparison, title: &str) -> Table {
    let mut t = Table::new(&["Dimension", "Benchmark assumes", "Deployment (measured)", "Verdict"]).titled(title);
    for d in cmp.dimensions.iter().filter(|d| d.deployment_status == ProfileStatus::Measured) {
        t.row(vec![
            d.id.clone(),
            d.benchmark.clone().unwrap_or_default(),
            d.deployment.clone().unwrap_or_default(),
            verdict_name(d.verdict).into(),
        ]);
    }
    t
}

/// A drafted plan's stages in one table: its stage-3 conditions (what each relaxes and
/// measures, from the taxonomy), its stage-4 studies, and the questions for the designers.
pub fn plan_table(plan: &Plan) -> Table {
    let t = taxonomy();
    let mut stages = Table::new(&["Stage", "Step", "Relaxes", "What it measures"]);
    for c in &plan.conditions {
        let def = t.condition(&c.id);
        stages.row(vec![
            "3".into(),
            c.name(),
            def.map_or(String::new(), |d| d.relaxes.clone()),
            def.map_or(String::new(), |d| d.definition.clone()),
        ]);
    }
    for s in &plan.studies {
        stages.row(vec!["4".into(), format!("study {}: {}", s.priority, s.design), s.group.clone(), s.primary_outcome.clone()]);
    }
    for q in &plan.questions {
        stages.row(vec!["1".into(), "ask the designers".into(), q.dimension.clone(), q.question.clone()]);
    }
    stages
}

#[cfg(test)]
mod tests {
    use super::*;
    use benchcards_core::{Card, Document, Profile, load_text};

    fn bundled() -> (Card, Profile) {
        let card = load_text("c.yaml", include_str!("../../../registry/bean-scenarios.yaml").into(), None, false);
        let profile = load_text("p.yaml", include_str!("../../../examples/deployments/patient-symptom-chatbot.yaml").into(), None, false);
        match (card.document, profile.document) {
            (Some(Document::Card(c)), Some(Document::Profile(p))) => (c, p),
            _ => panic!("the bundled files load"),
        }
    }

    #[test]
    fn measured_dimensions_only_with_their_verdicts() {
        let (card, mut profile) = bundled();
        assert_eq!(measured_table(&benchcards_assess::compare(taxonomy(), &card, &profile), "t").rows.len(), 0);
        profile.dimensions.get_mut("interaction_mode").unwrap().status = ProfileStatus::Measured;
        let t = measured_table(&benchcards_assess::compare(taxonomy(), &card, &profile), "t");
        assert_eq!(t.rows, [["interaction_mode", "single_turn", "multi_turn_human", "broken"]]);
    }

    #[test]
    fn a_plan_s_stages_in_order_with_what_each_condition_measures() {
        let (card, profile) = bundled();
        let paths = benchcards_assess::plan::PlanPaths { card: String::new(), deployment: String::new(), dataset: String::new() };
        let plan = benchcards_assess::plan::draft(taxonomy(), &benchcards_assess::compare(taxonomy(), &card, &profile), paths);
        let t = plan_table(&plan);
        assert_eq!(t.rows.len(), plan.conditions.len() + plan.studies.len() + plan.questions.len());
        assert_eq!(t.rows[0], ["3", "vignette", "none", "The benchmark as written."]);
        // Stage-3 conditions, then stage-4 studies, then the designers' questions.
        let order: Vec<usize> = t.rows.iter().map(|r| ["3", "4", "1"].iter().position(|s| *s == r[0]).unwrap()).collect();
        assert!(order.is_sorted(), "{order:?}");
    }
}
