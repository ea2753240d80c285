//! Stage 1: compare, match, gaps, registry overview, plan.

use super::{bundled_documents, fail, write_output};
use crate::cli::{FAIL_ON_EXIT, FailOn, TableFormat};
use crate::diagnostics::print_loaded;
use benchcards_assess::plan::{PlanPaths, draft};
use benchcards_assess::registry::{gaps as find_gaps, overview as registry_overview, rank};
use benchcards_core::emit::to_yaml;
use benchcards_core::{Card, Profile, load_card, load_profile, load_text, taxonomy};
use benchcards_report::assess::{comparison_json, comparison_markdown, comparison_text, gaps_table, overview_tables, ranking_table};
use miette::{IntoDiagnostic, Result, miette};
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

fn profile(path: &Path) -> Result<Profile, ExitCode> {
    load_profile(path)
        .map(|(p, loaded)| {
            print_loaded(&path.display().to_string(), &loaded);
            p
        })
        .map_err(fail)
}

fn card(path: &Path) -> Result<Card, ExitCode> {
    load_card(path)
        .map(|(c, loaded)| {
            print_loaded(&path.display().to_string(), &loaded);
            c
        })
        .map_err(fail)
}

/// The cards of a registry folder (every `.yaml` and `.md` file), or the bundled registry.
/// A card with errors is reported and left out, and the count of such cards is said.
pub fn registry_cards(dir: Option<&Path>) -> Result<Vec<Card>> {
    let Some(dir) = dir else {
        return Ok(bundled_documents()?.0);
    };
    let entries = std::fs::read_dir(dir).into_diagnostic().map_err(|e| miette!("cannot read registry folder {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "md")))
        .collect();
    paths.sort();
    let mut cards = Vec::new();
    let mut skipped = 0;
    for p in &paths {
        match load_card(p) {
            Ok((c, loaded)) => {
                print_loaded(&p.display().to_string(), &loaded);
                cards.push(c);
            }
            Err(e) => {
                print_loaded(&e.path, &e.loaded);
                skipped += 1;
            }
        }
    }
    if skipped > 0 {
        eprintln!("warning: {skipped} file(s) in {} are not valid cards and were left out (see above)", dir.display());
    }
    if cards.is_empty() {
        return Err(miette!("no valid cards in {}", dir.display()));
    }
    Ok(cards)
}

fn print_json(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value).into_diagnostic()?);
    Ok(())
}

pub fn compare(card_path: &Path, deployment: &Path, format: TableFormat, fail_on: Option<FailOn>) -> Result<ExitCode> {
    let (c, p) = match (card(card_path), profile(deployment)) {
        (Ok(c), Ok(p)) => (c, p),
        (Err(code), _) | (_, Err(code)) => return Ok(code),
    };
    let cmp = benchcards_assess::compare(taxonomy(), &c, &p);
    match format {
        TableFormat::Table => print!("{}", comparison_text(&cmp, std::io::stdout().is_terminal())),
        TableFormat::Md => print!("{}", comparison_markdown(&cmp)),
        TableFormat::Json => print_json(&comparison_json(&cmp))?,
    }
    if fail_on == Some(FailOn::BrokenCritical) && cmp.broken_critical() {
        eprintln!("failing: a dimension of a critical group is broken (--fail-on broken-critical)");
        return Ok(ExitCode::from(FAIL_ON_EXIT));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn match_cmd(
    deployment: &Path,
    registry: Option<&Path>,
    top: Option<usize>,
    format: TableFormat,
    fail_on: Option<FailOn>,
) -> Result<ExitCode> {
    let p = match profile(deployment) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let cards = registry_cards(registry)?;
    let mut ranked = rank(taxonomy(), &cards, &p);
    let best_breaks_critical = ranked.first().is_some_and(|r| r.comparison.broken_critical());
    ranked.truncate(top.unwrap_or(usize::MAX));
    match format {
        TableFormat::Json => print_json(&json!({
            "deployment": {"id": p.id},
            "cards": cards.len(),
            "ranking": ranked.iter().map(|r| json!({"rank": r.rank, "card": r.card_id, "name": r.card_name, "fit": r.fit, "unknown": r.unknown, "explanation": r.explanation, "broken_groups": r.broken_groups})).collect::<Vec<_>>(),
        }))?,
        TableFormat::Md => println!(
            "{}",
            ranking_table(&ranked).titled(format!("Benchmarks ranked by fit to `{}` ({} cards)", p.id, cards.len())).to_markdown()
        ),
        TableFormat::Table => println!(
            "{}",
            ranking_table(&ranked).titled(format!("Benchmarks ranked by fit to `{}` ({} cards)", p.id, cards.len())).to_text()
        ),
    }
    if fail_on == Some(FailOn::BrokenCritical) && best_breaks_critical {
        eprintln!("failing: even the best-fitting card breaks a critical group (--fail-on broken-critical)");
        return Ok(ExitCode::from(FAIL_ON_EXIT));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn gaps(deployment: &Path, registry: Option<&Path>, format: TableFormat) -> Result<ExitCode> {
    let p = match profile(deployment) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let cards = registry_cards(registry)?;
    let g = find_gaps(taxonomy(), &cards, &p);
    let title = format!("What no card among {} covers for `{}`: where the field needs a benchmark", g.cards, g.deployment);
    match format {
        TableFormat::Json => print_json(&serde_json::to_value(&g).into_diagnostic()?)?,
        TableFormat::Md => println!("{}", gaps_table(&g).titled(title).to_markdown()),
        TableFormat::Table => println!("{}", gaps_table(&g).titled(title).to_text()),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn overview(registry: Option<&Path>, format: TableFormat) -> Result<ExitCode> {
    let cards = registry_cards(registry)?;
    let o = registry_overview(taxonomy(), &cards);
    let (matrix, dims) = overview_tables(&o);
    match format {
        TableFormat::Json => print_json(&serde_json::to_value(&o).into_diagnostic()?)?,
        TableFormat::Md => println!("{}\n{}", matrix.to_markdown(), dims.to_markdown()),
        TableFormat::Table => println!("{}\n{}", matrix.to_text(), dims.to_text()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `target` as a path relative to the folder `base` (both made absolute first).
fn relative(target: &Path, base: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (t, b) = (abs(target), abs(base));
    let tc: Vec<Component> = t.components().collect();
    let bc: Vec<Component> = b.components().collect();
    let common = tc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &tc[common..] {
        out.push(c);
    }
    out.display().to_string()
}

pub fn plan(card_path: &Path, deployment: &Path, dataset: Option<&Path>, output: Option<&Path>) -> Result<ExitCode> {
    let (c, p) = match (card(card_path), profile(deployment)) {
        (Ok(c), Ok(p)) => (c, p),
        (Err(code), _) | (_, Err(code)) => return Ok(code),
    };
    let cmp = benchcards_assess::compare(taxonomy(), &c, &p);
    let base = output.and_then(Path::parent).filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let paths = PlanPaths {
        card: relative(card_path, base),
        deployment: relative(deployment, base),
        dataset: dataset.map_or_else(|| "dataset.jsonl".to_string(), |d| relative(d, base)),
    };
    let plan = draft(taxonomy(), &cmp, paths);
    let text = to_yaml(&json!({ "plan": plan }));
    // The draft must pass `check` like any plan; anything else is a defect worth reporting.
    let reread = load_text("drafted plan", text.clone(), Some(base), false);
    print_loaded("drafted plan", &reread);
    if reread.diagnostics.has_errors() {
        return Err(miette!("the drafted plan does not pass `check`; please report this"));
    }
    write_output(output, &text)?;
    Ok(ExitCode::SUCCESS)
}
