//! `benchcards report`: a run, a comparison or a decomposition as one self-contained HTML page
//! (no external assets; prints well) or its Markdown twin; `--audience clinician` gives the
//! one-page brief.

use super::eval::find;
use super::stats::{decompose_file, uptake_table};
use super::{fail, today, write_output};
use crate::cli::{Audience, ReportArgs};
use benchcards_core::{load_card, load_profile};
use benchcards_report::readiness::{Inputs, clinician_brief, team_report};
use benchcards_web::view::run_inputs;
use miette::{Result, miette};
use std::process::ExitCode;

pub fn report(a: &ReportArgs) -> Result<ExitCode> {
    let output = &a.output;
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
    // What the report is of: clap guarantees exactly one of the three is given.
    let inputs = match (&a.run, a.compare.as_deref(), &a.decompose) {
        (None, Some([card, deployment]), _) => {
            let card = load_card(card).map_err(fail)?.0;
            let profile = load_profile(deployment).map_err(fail)?.0;
            Inputs { card: Some(card), profile: Some(profile), ..Default::default() }
        }
        (None, _, Some(results)) => {
            let (loaded, spec, d) = decompose_file(results, a.condition_meta.as_deref(), &a.path)?;
            Inputs {
                uptake: a.uptake.as_ref().map(|pair| uptake_table(&loaded, pair, spec.bootstrap.confidence)).transpose()?,
                decomposition: Some(d),
                provenance: vec![
                    format!("results {}", results.display()),
                    format!("bootstrap: {} resamples, seed {}", spec.bootstrap.resamples, spec.bootstrap.seed),
                ],
                ..Default::default()
            }
        }
        (run, _, _) => {
            let run = run.as_deref().unwrap_or_default();
            let store = find(run, a.store.as_deref())?;
            run_inputs(&store, &store.path().display().to_string(), run, !a.no_transcripts).map_err(|e| miette!("{e}"))?
        }
    };
    // The Markdown twin links the waterfall, written beside it; the HTML page embeds it.
    let stem = output.file_stem().map_or("report".into(), |s| s.to_string_lossy().to_string());
    let chart_name = format!("{stem}.waterfall.svg");
    let r = match a.audience {
        Audience::Clinician => clinician_brief(&inputs).ok_or_else(|| {
            miette!(help = "report a run whose plan names a card, or use --compare CARD DEPLOYMENT", "the clinician brief needs a card")
        })?,
        Audience::Team => {
            team_report(&inputs, &chart_name, &[format!("benchcards {}", env!("CARGO_PKG_VERSION")), format!("report written {}", today())])
        }
    };
    write_output(Some(output), &if html { r.html() } else { r.markdown() })?;
    if let (false, Audience::Team, Some(d)) = (html, a.audience, &inputs.decomposition) {
        write_output(Some(&output.with_file_name(&chart_name)), &benchcards_report::decompose::waterfall_svg(d))?;
    }
    Ok(ExitCode::SUCCESS)
}
