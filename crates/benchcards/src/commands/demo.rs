//! `benchcards demo`: the whole flow on built-in defaults, offline. Stage 1 ranks the bundled
//! registry for the public symptom-chatbot deployment, compares the best card in full, shows
//! what no card covers and drafts the staged plan. Stage 2 measures the bundled logs and shows
//! the verdicts that become measured. Stage 3 writes the bundled local-model plan and dataset to
//! a folder, runs the embedded model on a few vignettes under each condition, exports the
//! results, decomposes the gap with intervals and writes a report.

use super::eval::{into_report, prepare, read_store, report, stored_plan};
use super::stage2::register_vocabulary;
use super::{after_shown, bundled_documents, write_file};
use crate::cli::DemoArgs;
use benchcards_assess::plan::{PlanPaths, draft};
use benchcards_assess::registry::{gaps, rank};
use benchcards_core::document::{DocKind, plan_beside};
use benchcards_core::emit::document_yaml;
use benchcards_core::results::results_csv;
use benchcards_core::{Card, Profile, taxonomy};
use benchcards_eval::results::{decompose_results, graded_results};
use benchcards_eval::runner::Progress;
use benchcards_eval::session::Settings;
use benchcards_report::assess::{comparison_text, gaps_table, measured_table, plan_table, ranking_table};
use benchcards_report::card::published_drops_table;
use benchcards_report::decompose::{scores_table, text, waterfall_svg};
use benchcards_report::readiness::{DEMO_CAVEAT, DemoReport, demo_report, real_endpoint_steps};
use benchcards_web::view::measurement_tables;
use miette::{IntoDiagnostic, Result, miette};
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

/// The deployment the demo uses: the setting of Bean et al. (2026).
const DEMO_DEPLOYMENT: &str = "patient-symptom-chatbot";

pub fn demo(a: &DemoArgs) -> Result<ExitCode> {
    let (cards, profiles) = bundled_documents()?;
    let profile =
        profiles.iter().find(|p| p.id == DEMO_DEPLOYMENT).ok_or_else(|| miette!("the bundled profile {DEMO_DEPLOYMENT} is missing"))?;
    let card = cards.iter().find(|c| c.id == DEMO_CARD).ok_or_else(|| miette!("the bundled card {DEMO_CARD} is missing"))?;
    stage1(&cards, profile);
    let measured = stage2(card, profile, &a.out)?;
    if a.no_model {
        return Ok(ExitCode::SUCCESS);
    }
    stage3(card, &measured, &a.out, a.items)
}

/// The bundled logs, measured against the bundled dataset; the profile they measure is written
/// beside them and returned.
fn stage2(card: &Card, profile: &Profile, out: &Path) -> Result<Profile> {
    use benchcards_eval::measure::{measure, to_profile};
    println!("benchcards demo — stage 2: measure task assumptions from the deployment's own logs.\n");
    std::fs::create_dir_all(out).into_diagnostic()?;
    let logs_name = "symptom-chat.jsonl";
    write_file(&out.join(logs_name), benchcards_core::bundled::DEMO_LOGS)?;
    let logs = benchcards_eval::logs::read_jsonl(benchcards_core::bundled::DEMO_LOGS);
    let dataset = benchcards_eval::dataset::parse_dataset(benchcards_core::bundled::DEMO_DATASET)
        .map_err(|_| miette!("the bundled dataset does not parse"))?;
    let m = measure(&logs.conversations, Some(&dataset), &register_vocabulary(Some(&dataset))?);
    let logs_path = out.join(logs_name);
    println!(
        "5. What {} bundled conversations say about the deployment (`benchcards measure {} --against symptoms-uk.jsonl`)\n",
        logs.conversations.len(),
        logs_path.display()
    );
    let (figures, dims) =
        measurement_tables(&m, "Measured from the bundled logs (written for benchcards; first messages omit or misstate facts)");
    println!("{}\n{}", figures.to_text(), dims.to_text());
    let measured = to_profile(Some(profile.clone()), &m, &logs_path.display().to_string(), logs_name);
    let measured_path = out.join(format!("{}.measured.yaml", profile.id));
    write_file(&measured_path, &document_yaml(DocKind::Profile, &measured))?;
    let cmp = benchcards_assess::compare(taxonomy(), card, &measured);
    println!("{}", measured_table(&cmp, &format!("{} against the measured profile ({})", card.id, measured_path.display())).to_text());
    Ok(measured)
}

fn stage1(cards: &[Card], profile: &Profile) {
    let t = taxonomy();
    println!("benchcards demo — stage 1, offline, on the bundled registry ({} cards) and the `{}` deployment.\n", cards.len(), profile.id);
    println!("Deployment: {}", profile.name);
    if let Some(d) = &profile.description {
        println!("{d}\n");
    }

    println!("1. Which benchmark's evidence transfers best? (`benchcards match`)\n");
    let ranked = rank(t, cards, profile);
    println!("{}", ranking_table(&ranked).to_text());

    let Some(best) = ranked.first() else { return };
    println!("2. What the best match assumed, and where that breaks here (`benchcards compare`)\n");
    print!("{}", comparison_text(&best.comparison, std::io::stdout().is_terminal()));
    println!();

    println!("3. What no benchmark covers for this deployment (`benchcards gaps`)\n");
    println!("{}", gaps_table(&gaps(t, cards, profile)).to_text());

    println!("4. The staged plan for {} (`benchcards plan ... -o plan.yaml`)\n", best.card_id);
    let plan = draft(t, &best.comparison, PlanPaths { card: String::new(), deployment: String::new(), dataset: String::new() });
    println!("{}", plan_table(&plan).to_text());
    let tested = published_drops_table(cards);
    if !tested.rows.is_empty() {
        println!("{}", tested.to_text());
    }
    println!(
        "Try it on your own deployment, from any folder: `benchcards registry export {DEMO_DEPLOYMENT} -o my-deployment.yaml`, edit it, then"
    );
    println!("  benchcards check my-deployment.yaml && benchcards match my-deployment.yaml\n");
}

/// The card the demo plan evaluates: Bean et al.'s scenarios.
const DEMO_CARD: &str = "bean-scenarios";

/// Stage 3 with the embedded model. The plan, card, profile and dataset are written to `out`
/// first, so the run is an ordinary `benchcards run` of a plan the user can edit.
fn stage3(card: &Card, profile: &Profile, out: &Path, items: usize) -> Result<ExitCode> {
    println!("benchcards demo — stage 3: run the model on the same vignettes under conditions that relax one assumption at a time.");
    println!(
        "It runs {DEMO_CARD}, not the best match above: its scenarios are this deployment's own setting (Bean et al.), and its bundled vignettes are small enough for the embedded model.\n"
    );
    if let Err(e) = benchcards_local::find_model() {
        println!("Stage 3 skipped: {e}.");
        println!("`bash scripts/demo.sh` installs the model and runs the whole demo.");
        return Ok(ExitCode::SUCCESS);
    }
    let card_file = benchcards_core::bundled::document(DEMO_CARD).ok_or_else(|| miette!("the bundled card {DEMO_CARD} is missing"))?;
    // Stage 2 wrote the measured profile beside the plan.
    let profile_file = format!("{}.measured.yaml", profile.id);
    let dataset_name = "symptoms-uk.jsonl";
    // The bundled plan names its files relative to the repository; here they sit beside it.
    let plan_text = plan_beside(benchcards_core::bundled::DEMO_PLAN, card_file.0, &profile_file, dataset_name);
    for (name, text) in [card_file, (dataset_name, benchcards_core::bundled::DEMO_DATASET)] {
        write_file(&out.join(name), text)?;
    }
    let plan_path = out.join("plan.yaml");
    write_file(&plan_path, &plan_text)?;

    let mut p = prepare(&plan_path).map_err(|e| after_shown(e, || miette!("the demo plan {} does not load", plan_path.display())))?;
    p.keep_items(items.max(1));
    let (work, _) = p.work().map_err(|e| miette!("{e}"))?;
    let model = &p.plan.models[0];
    println!(
        "6. The local model `{}` answers {} vignette(s) under {} (`benchcards run {}`)\n",
        model.id,
        p.dataset.items.len(),
        p.plan.conditions.iter().map(|c| c.name()).collect::<Vec<_>>().join(", "),
        plan_path.display()
    );
    let store = out.join("runs.sqlite");
    let limits = benchcards_eval::client::Limits { timeout: std::time::Duration::from_secs(600), ..Default::default() };
    let settings = Settings { concurrency: 4, max_attempts: 3, limits };
    let session = p.start(&store, None, settings).map_err(into_report)?;
    let run_id = session.run_id.clone();
    eprintln!("run `{run_id}`: {} sample(s); store {}", work.len(), store.display());
    let summary = session.execute(&p, work, Progress::for_stderr()).map_err(report)?.summary;
    println!(
        "Run `{run_id}`: {} sample(s) ({} from the cache of earlier demos), {} failed; {} request(s); {} prompt + {} completion tokens; {:.1} s.\n",
        summary.done,
        summary.cached,
        summary.failed,
        summary.requests_sent,
        summary.prompt_tokens,
        summary.completion_tokens,
        summary.elapsed.as_secs_f64()
    );
    if summary.failed > 0 {
        return Err(miette!("{} sample(s) failed; see `benchcards runs show {run_id} --store {}`", summary.failed, store.display()));
    }

    // One results file per grader; each decomposed along the plan's conditions. The first
    // grader's decomposition is the one shown in full.
    // Each grader's rows are written as `runs export` writes them, and decomposed in memory.
    let path: Vec<String> = p.plan.conditions.iter().map(|c| c.name()).collect();
    let db = read_store(&store)?;
    let stored = stored_plan(&db, &run_id)?;
    let mut by_grader = Vec::new();
    for (i, g) in p.plan.graders.iter().enumerate() {
        let grader = g.name();
        let file = out.join(if i == 0 { "results.csv".to_string() } else { format!("results-{}.csv", grader.replace([':', '@'], "-")) });
        let (rows, _) = graded_results(&db, &run_id, &stored, Some(&grader), false).map_err(|e| miette!("{e}"))?;
        write_file(&file, &results_csv(&rows).map_err(|e| miette!("{e}"))?)?;
        let d = decompose_results(&rows, &path, None, taxonomy()).map_err(|e| miette!("cannot decompose {}: {e}", file.display()))?;
        by_grader.push((grader, d));
    }
    let results = out.join("results.csv");
    let d = by_grader.first().map(|(_, d)| d).ok_or_else(|| miette!("the demo plan has no grader"))?;
    let scores = scores_table(&by_grader);
    println!("{}", scores.to_text());
    println!("7. Where the score goes (`benchcards decompose {} --path {}`)\n", results.display(), path.join(","));
    print!("{}", text(d, None));

    let reproducibility = [
        format!("benchcards {}", env!("CARGO_PKG_VERSION")),
        format!("plan `{}` (hash {}), run `{run_id}`, store {}", p.plan.id, p.plan_hash, store.display()),
        format!("model `{}` ({:?}), sampling {}", model.id, model.provider, serde_json::to_string(&model.sampling).unwrap_or_default()),
        match d.estimand.interval {
            Some(method) => format!("bootstrap: {} resamples, seed {}, {method:?} intervals", d.estimand.resamples, d.estimand.seed),
            None => "intervals: analytic (Wilson, Newcombe); no bootstrap figure".into(),
        },
        format!("estimand: {}", d.estimand.statement),
    ];
    let r = demo_report(&DemoReport {
        card,
        profile,
        vignettes: p.dataset.items.len(),
        scores: &scores,
        decomposition: d,
        reproducibility: &reproducibility,
        real_model: &real_endpoint_steps(&plan_path.display().to_string(), &store.display().to_string()),
    });
    write_file(&out.join("waterfall.svg"), &waterfall_svg(d))?;
    write_file(&out.join("report.md"), &r.markdown())?;
    write_file(&out.join("report.html"), &r.html())?;

    println!("\n{DEMO_CAVEAT}\n");
    println!(
        "Written to {}: plan.yaml, the card, profile and dataset it uses, runs.sqlite, results.csv, waterfall.svg, report.md and report.html.\n",
        out.display()
    );
    println!(
        "The same plan against a real model:\n{}",
        real_endpoint_steps(&plan_path.display().to_string(), &store.display().to_string())
    );
    Ok(ExitCode::SUCCESS)
}
