//! `benchcards report`: a run, a comparison or a decomposition as one self-contained HTML page
//! (no external assets; prints well) or its Markdown twin; `--audience clinician` gives the
//! one-page brief.

use super::stats::{decompose_file, uptake_table};
use super::{fail, today, write_output};
use crate::cli::Audience;
use benchcards_core::{load_card, load_profile};
use benchcards_report::readiness::{Inputs, clinician_brief, team_report};
use benchcards_web::view::run_inputs;
use miette::{Result, miette};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What the report is of.
pub enum Source {
    Run(String),
    Compare(PathBuf, PathBuf),
    /// Results, the path, and optionally MODEL_CONDITION,PERSON_CONDITION for the uptake table.
    Decompose(PathBuf, Vec<String>, Option<Vec<String>>),
}

impl Source {
    /// Clap guarantees exactly one of the three is given.
    pub fn pick(
        run: Option<String>,
        compare: Option<Vec<PathBuf>>,
        decompose: Option<PathBuf>,
        path: Vec<String>,
        uptake: Option<Vec<String>>,
    ) -> Source {
        match (run, compare, decompose) {
            (Some(r), _, _) => Source::Run(r),
            (_, Some(c), _) if c.len() == 2 => Source::Compare(c[0].clone(), c[1].clone()),
            (_, _, Some(d)) => Source::Decompose(d, path, uptake),
            _ => Source::Run(String::new()),
        }
    }
}

pub fn report(source: Source, store_path: &Path, output: &Path, audience: Audience, no_transcripts: bool) -> Result<ExitCode> {
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
        Source::Run(run) => {
            let store = benchcards_eval::store::Store::open(store_path)
                .map_err(|e| miette!("cannot open the run store {}: {e}", store_path.display()))?;
            run_inputs(&store, &store_path.display().to_string(), &run, !no_transcripts).map_err(|e| miette!("{e}"))?
        }
        Source::Compare(card, deployment) => {
            let card = load_card(&card).map_err(fail)?.0;
            let profile = load_profile(&deployment).map_err(fail)?.0;
            Inputs { card: Some(card), profile: Some(profile), ..Default::default() }
        }
        Source::Decompose(results, path, uptake) => {
            let (loaded, spec, d) = decompose_file(&results, &path)?;
            Inputs {
                uptake: uptake.map(|pair| uptake_table(&loaded, &pair, spec.bootstrap.confidence)).transpose()?,
                decomposition: Some(d),
                provenance: vec![
                    format!("results {}", results.display()),
                    format!("bootstrap: {} resamples, seed {}", spec.bootstrap.resamples, spec.bootstrap.seed),
                ],
                ..Default::default()
            }
        }
    };
    // The Markdown twin links the waterfall, written beside it; the HTML page embeds it.
    let stem = output.file_stem().map_or("report".into(), |s| s.to_string_lossy().to_string());
    let chart_name = format!("{stem}.waterfall.svg");
    let r = match audience {
        Audience::Clinician => clinician_brief(&inputs).ok_or_else(|| {
            miette!(help = "report a run whose plan names a card, or use --compare CARD DEPLOYMENT", "the clinician brief needs a card")
        })?,
        Audience::Team => {
            team_report(&inputs, &chart_name, &[format!("benchcards {}", env!("CARGO_PKG_VERSION")), format!("report written {}", today())])
        }
    };
    write_output(Some(output), &if html { r.html() } else { r.markdown() })?;
    if let (false, Audience::Team, Some(d)) = (html, audience, &inputs.decomposition) {
        write_output(Some(&output.with_file_name(&chart_name)), &benchcards_report::decompose::waterfall_svg(d))?;
    }
    Ok(ExitCode::SUCCESS)
}
