//! Stage 1: compare, match, gaps, registry overview, plan.

use super::{loaded, print_json, print_tables, write_output};
use crate::cli::{CompareArgs, FAIL_ON_EXIT, FailOn, GapsArgs, MatchArgs, OverviewArgs, PlanArgs, TableFormat};
use crate::diagnostics::print_loaded;
use benchcards_assess::plan::{PlanPaths, draft};
use benchcards_assess::registry::{gaps as find_gaps, overview as registry_overview, rank};
use benchcards_core::document::{DocKind, registry, relative_path};
use benchcards_core::emit::document_yaml;
use benchcards_core::{Card, load_card, load_profile, load_text, taxonomy};
use benchcards_report::assess::{
    comparison_json, comparison_markdown, comparison_text, gaps_table, overview_tables, ranking_json, ranking_table,
};
use miette::{Result, miette};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

/// The cards of a registry folder, or the bundled registry, with each file's problems shown and
/// the cards left out for errors counted.
pub fn registry_cards(dir: Option<&Path>) -> Result<Vec<Card>> {
    let r = registry(dir).map_err(|e| miette!("{e}"))?;
    for (name, loaded) in &r.files {
        print_loaded(name, loaded);
    }
    if r.left_out > 0 {
        eprintln!("warning: {} file(s) are not valid cards and were left out (see above)", r.left_out);
    }
    Ok(r.cards)
}

pub fn compare(a: &CompareArgs) -> Result<ExitCode> {
    // Both files are read, so the problems of both are shown.
    let (c, p) = (loaded(&a.card, load_card), loaded(&a.deployment, load_profile));
    let cmp = benchcards_assess::compare(taxonomy(), &c?, &p?);
    match a.format {
        TableFormat::Table => print!("{}", comparison_text(&cmp, std::io::stdout().is_terminal())),
        TableFormat::Md => print!("{}", comparison_markdown(&cmp)),
        TableFormat::Json => print_json(&comparison_json(&cmp))?,
    }
    if a.fail_on == Some(FailOn::BrokenCritical) && cmp.broken_critical() {
        eprintln!("failing: a dimension of a critical group is broken (--fail-on broken-critical)");
        return Ok(ExitCode::from(FAIL_ON_EXIT));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn match_cmd(a: &MatchArgs) -> Result<ExitCode> {
    let p = loaded(&a.deployment, load_profile)?;
    let cards = registry_cards(a.registry.as_deref())?;
    let mut ranked = rank(taxonomy(), &cards, &p);
    let best_breaks_critical = ranked.first().is_some_and(|r| r.comparison.broken_critical());
    ranked.truncate(a.top.unwrap_or(usize::MAX));
    match a.format {
        TableFormat::Json => print_json(&ranking_json(&p.id, cards.len(), &ranked))?,
        _ => print_tables(
            a.format,
            &[ranking_table(&ranked).titled(format!("Benchmarks ranked by fit to `{}` ({} cards)", p.id, cards.len()))],
        ),
    }
    if a.fail_on == Some(FailOn::BrokenCritical) && best_breaks_critical {
        eprintln!("failing: even the best-fitting card breaks a critical group (--fail-on broken-critical)");
        return Ok(ExitCode::from(FAIL_ON_EXIT));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn gaps(a: &GapsArgs) -> Result<ExitCode> {
    let p = loaded(&a.deployment, load_profile)?;
    let cards = registry_cards(a.registry.as_deref())?;
    let g = find_gaps(taxonomy(), &cards, &p);
    let title = format!("What no card among {} covers for `{}`: where the field needs a benchmark", g.cards, g.deployment);
    match a.format {
        TableFormat::Json => print_json(&g)?,
        _ => print_tables(a.format, &[gaps_table(&g).titled(title)]),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn overview(a: &OverviewArgs) -> Result<ExitCode> {
    let cards = registry_cards(a.registry.as_deref())?;
    let o = registry_overview(taxonomy(), &cards);
    let (matrix, dims) = overview_tables(&o);
    match a.format {
        TableFormat::Json => print_json(&o)?,
        _ => print_tables(a.format, &[matrix, dims]),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn plan(PlanArgs { card: card_path, deployment, dataset, output }: &PlanArgs) -> Result<ExitCode> {
    let (c, p) = (loaded(card_path, load_card), loaded(deployment, load_profile));
    let cmp = benchcards_assess::compare(taxonomy(), &c?, &p?);
    let base = output.as_deref().and_then(Path::parent).filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let paths = PlanPaths {
        card: relative_path(card_path, base),
        deployment: relative_path(deployment, base),
        dataset: dataset.as_deref().map_or_else(|| "dataset.jsonl".to_string(), |d| relative_path(d, base)),
    };
    let text = document_yaml(DocKind::Plan, &draft(taxonomy(), &cmp, paths));
    // The draft must pass `check` like any plan; anything else is a defect worth reporting.
    let reread = load_text("drafted plan", text.clone(), Some(base), false);
    print_loaded("drafted plan", &reread);
    if reread.diagnostics.has_errors() {
        return Err(miette!("the drafted plan does not pass `check`; please report this"));
    }
    write_output(output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
