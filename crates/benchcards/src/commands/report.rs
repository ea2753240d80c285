//! `benchcards report`: a run, a comparison or a decomposition as one self-contained HTML page
//! (no external assets; prints well) or its Markdown twin; `--audience clinician` gives the
//! one-page brief.

use super::eval::{decomposition_path, run_plan, run_results, write_results_csv};
use super::stats::decomposition;
use super::{today, write_output};
use crate::cli::{Audience, BootstrapArgs, ResultsArgs, WeightScheme};
use benchcards_core::{Card, Profile, load_card, load_profile, taxonomy};
use benchcards_report::Report;
use benchcards_report::assess::comparison_sections;
use benchcards_report::card::card_tables;
use benchcards_report::decompose::decomposition_sections;
use benchcards_report::readiness::{clinician_brief, readiness_table};
use benchcards_stats::decompose::Decomposition;
use benchcards_stats::study::group_gates;
use miette::{IntoDiagnostic, Result, miette};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What the report is of.
pub enum Source {
    Run(String),
    Compare(PathBuf, PathBuf),
    Decompose(PathBuf, Vec<String>),
}

impl Source {
    /// Clap guarantees exactly one of the three is given.
    pub fn pick(run: Option<String>, compare: Option<Vec<PathBuf>>, decompose: Option<PathBuf>, path: Vec<String>) -> Source {
        match (run, compare, decompose) {
            (Some(r), _, _) => Source::Run(r),
            (_, Some(c), _) if c.len() == 2 => Source::Compare(c[0].clone(), c[1].clone()),
            (_, _, Some(d)) => Source::Decompose(d, path),
            _ => Source::Run(String::new()),
        }
    }
}

/// Bootstrap and column defaults, exactly as `decompose` has them.
#[derive(clap::Parser)]
struct Defaults {
    #[command(flatten)]
    input: ResultsArgs,
    #[command(flatten)]
    boot: BootstrapArgs,
}

fn defaults(results: &str) -> Result<Defaults> {
    <Defaults as clap::Parser>::try_parse_from(["decompose", results]).into_diagnostic()
}

/// One transcript for the browser: summary, whether the first grader passed it, messages.
struct Transcript {
    summary: String,
    passed: Option<bool>,
    messages: Vec<(String, String)>,
}

/// Everything a report can show; each part is absent when its source does not give it.
#[derive(Default)]
struct Inputs {
    card: Option<Card>,
    profile: Option<Profile>,
    decomposition: Option<Decomposition>,
    transcripts: Vec<Transcript>,
    provenance: Vec<String>,
    notes: Vec<String>,
}

fn from_run(run: &str, store_path: &Path, transcripts: bool) -> Result<Inputs> {
    let store =
        benchcards_eval::store::Store::open(store_path).map_err(|e| miette!("cannot open the run store {}: {e}", store_path.display()))?;
    let plan = run_plan(&store, run)?;
    let mut inputs = Inputs::default();
    match load_card(Path::new(&plan.card)) {
        Ok((c, _)) => inputs.card = Some(c),
        Err(_) => inputs.notes.push(format!("the plan's card {} could not be read: no card or readiness section", plan.card)),
    }
    match load_profile(Path::new(&plan.deployment)) {
        Ok((p, _)) => inputs.profile = Some(p),
        Err(_) => inputs.notes.push(format!("the plan's deployment {} could not be read: no readiness section", plan.deployment)),
    }
    let (rows, grader) = run_results(&store, run, None)?;
    let (path, reference) = decomposition_path(&plan, &rows);
    let args = defaults(&format!("run {run}"))?;
    let csv = write_results_csv(&rows)?;
    let (_, _, d) = decomposition(&args.input, Some(&csv), &path, reference.as_deref(), WeightScheme::Pooled, None, None, &args.boot)?
        .map_err(|_| miette!("cannot decompose run `{run}`"))?;
    inputs.decomposition = Some(d);
    if transcripts {
        let mut grades: std::collections::HashMap<String, Vec<(String, f64)>> = Default::default();
        for (key, g, score, _) in store.grades(run).map_err(|e| miette!("{e}"))? {
            grades.entry(key).or_default().push((g, score));
        }
        for s in store.samples(run).map_err(|e| miette!("{e}"))? {
            let mut messages: Vec<(String, String)> = serde_json::from_str::<Vec<serde_json::Value>>(&s.transcript)
                .unwrap_or_default()
                .iter()
                .filter_map(|m| Some((m.get("role")?.as_str()?.to_string(), m.get("content")?.as_str()?.to_string())))
                .filter(|(role, _)| role != "system")
                .collect();
            if messages.is_empty() {
                messages.push(("answer".into(), s.response.clone().unwrap_or_else(|| s.error.clone().unwrap_or_default())));
            }
            let mine = grades.get(&s.key).cloned().unwrap_or_default();
            let shown: Vec<String> = mine.iter().map(|(g, v)| format!("{g} {v}")).collect();
            inputs.transcripts.push(Transcript {
                summary: format!(
                    "{} · {} · {} · {}",
                    s.unit,
                    s.label,
                    s.model,
                    if s.status == "done" { shown.join(", ") } else { format!("failed: {}", s.error.unwrap_or_default()) }
                ),
                passed: mine.iter().find(|(g, _)| *g == grader).map(|(_, v)| *v >= 0.5),
                messages,
            });
        }
    }
    let models: Vec<String> = plan
        .models
        .iter()
        .map(|m| {
            format!(
                "`{}` ({:?}{}), sampling {}",
                m.id,
                m.provider,
                m.model.as_ref().map_or(String::new(), |n| format!(", {n}")),
                serde_json::to_string(&m.sampling).unwrap_or_default()
            )
        })
        .collect();
    let hash = store.run_plan(run).map_err(|e| miette!("{e}"))?.map(|(h, _)| h).unwrap_or_default();
    inputs.provenance = vec![
        format!("run `{run}` of plan `{}` (hash {hash}), store {}", plan.id, store_path.display()),
        format!("models: {}", models.join("; ")),
        format!("graded by `{grader}`; epochs {}", plan.epochs),
        format!("bootstrap: {} resamples, seed {}", args.boot.resamples, args.boot.seed),
    ];
    Ok(inputs)
}

pub fn report(source: Source, store: &Path, output: &Path, audience: Audience, no_transcripts: bool) -> Result<ExitCode> {
    let html = match output.extension().and_then(|e| e.to_str()) {
        Some("html" | "htm") => true,
        Some("md") => false,
        _ => {
            return Err(miette!(
                help = "name the output FILE.html or FILE.md",
                "cannot tell the report's format from {}",
                output.display()
            ));
        }
    };
    let inputs = match source {
        Source::Run(run) => from_run(&run, store, !no_transcripts)?,
        Source::Compare(card, deployment) => {
            let card = match load_card(&card) {
                Ok((c, _)) => c,
                Err(e) => return Ok(super::fail(e)),
            };
            let profile = match load_profile(&deployment) {
                Ok((p, _)) => p,
                Err(e) => return Ok(super::fail(e)),
            };
            Inputs { card: Some(card), profile: Some(profile), ..Default::default() }
        }
        Source::Decompose(results, path) => {
            let args = defaults(&results.display().to_string())?;
            let (_, _, d) = match decomposition(&args.input, None, &path, None, WeightScheme::Pooled, None, None, &args.boot)? {
                Ok(x) => x,
                Err(code) => return Ok(code),
            };
            Inputs {
                decomposition: Some(d),
                provenance: vec![
                    format!("results {}", results.display()),
                    format!("bootstrap: {} resamples, seed {}", args.boot.resamples, args.boot.seed),
                ],
                ..Default::default()
            }
        }
    };
    let cmp = match (&inputs.card, &inputs.profile) {
        (Some(c), Some(p)) => Some(benchcards_assess::compare(taxonomy(), c, p)),
        _ => None,
    };
    let tolerances: Vec<(String, f64)> =
        inputs.profile.iter().flat_map(|p| p.groups.iter().filter_map(|(g, s)| s.tolerance.map(|t| (g.clone(), t)))).collect();
    let gates = inputs.decomposition.as_ref().map_or_else(Vec::new, |d| group_gates(d, &tolerances));

    // The Markdown twin links the waterfall, written beside it; the HTML page embeds it.
    let stem = output.file_stem().map_or("report".into(), |s| s.to_string_lossy().to_string());
    let chart_name = format!("{stem}.waterfall.svg");
    let r = match audience {
        Audience::Clinician => {
            let card = inputs.card.as_ref().ok_or_else(|| {
                miette!(help = "report a run whose plan names a card, or use --compare CARD DEPLOYMENT", "the clinician brief needs a card")
            })?;
            clinician_brief(card, cmp.as_ref(), &gates)
        }
        Audience::Team => {
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
                decomposition_sections(&mut r, d, None, &chart_name);
            }
            if !inputs.transcripts.is_empty() {
                r.heading(2, "Transcripts");
                r.paragraph(&format!(
                    "{} sample(s); ✓ passed and ✗ failed by the first grader. Open one to read it.",
                    inputs.transcripts.len()
                ));
                for t in &inputs.transcripts {
                    r.transcript(&t.summary, t.passed, &t.messages);
                }
            }
            r.heading(2, "Reproducibility");
            let mut lines = vec![format!("benchcards {}", env!("CARGO_PKG_VERSION")), format!("report written {}", today())];
            lines.extend(inputs.provenance.iter().cloned());
            if let Some(d) = &inputs.decomposition {
                lines.push(format!("estimand: {}", d.estimand.statement));
            }
            r.list(&lines);
            r
        }
    };
    write_output(Some(output), &if html { r.html() } else { r.markdown() })?;
    if let (false, Audience::Team, Some(d)) = (html, audience, &inputs.decomposition) {
        write_output(Some(&output.with_file_name(&chart_name)), &benchcards_report::decompose::waterfall_svg(d))?;
    }
    Ok(ExitCode::SUCCESS)
}
