//! Commands about single files: taxonomy, check, schema, import, export, render.

use super::{fail, loaded, print_json, print_tables, shown, write_output};
use crate::cli::{
    BundledArgs, CheckArgs, CheckFormat, ExportArgs, ExportTarget, ImportArgs, RenderArgs, RenderFormat, SchemaArgs, TableFormat,
    TaxonomyArgs,
};
use crate::diagnostics::{print_diagnostics, print_loaded};
use benchcards_core::document::{DocKind, FileReport, Source, documents_in, read_text};
use benchcards_core::emit::document_yaml;
use benchcards_core::results::FileProblems;
use benchcards_core::schema::{file_name, schema_text};
use benchcards_core::{Diagnostics, Loaded, load_card, load_file, load_text, paper, taxonomy};
use benchcards_report::card::{card_html, card_markdown, taxonomy_json, taxonomy_tables};
use miette::{IntoDiagnostic, Result, WrapErr, miette};
use serde_json::json;
use std::process::ExitCode;

/// A bundled file by id: printed, or written (`to_file`: to `-o`, else its own name here).
pub fn bundled(a: &BundledArgs, to_file: bool) -> Result<ExitCode> {
    let Some((name, text)) = benchcards_core::bundled::file(&a.id) else {
        let ids = benchcards_core::bundled::all().map(|(n, _)| n.rsplit_once('.').map_or(*n, |(stem, _)| stem));
        let near = benchcards_core::diag::nearest(&a.id, ids).map_or(String::new(), |n| format!(" (did you mean `{n}`?)"));
        return Err(miette!(help = "`benchcards registry overview` lists the cards", "no bundled file `{}`{near}", a.id));
    };
    let output = a.output.clone().or_else(|| to_file.then(|| name.into()));
    write_output(output.as_deref(), text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn taxonomy_cmd(&TaxonomyArgs { format }: &TaxonomyArgs) -> Result<ExitCode> {
    let t = taxonomy();
    if format == TableFormat::Json {
        print_json(&taxonomy_json(t))?;
        return Ok(ExitCode::SUCCESS);
    }
    if format == TableFormat::Md {
        println!("# benchcards taxonomy\n");
    }
    let (groups, flags) = taxonomy_tables(t);
    print_tables(format, &groups);
    print_tables(format, &[flags]);
    Ok(ExitCode::SUCCESS)
}

pub fn check(a: &CheckArgs) -> Result<ExitCode> {
    // A folder stands for its `.yaml` and `.md` files.
    let mut files = Vec::new();
    for f in &a.files {
        files.extend(if f.is_dir() {
            documents_in(f).map_err(|e| miette!("cannot read folder {}: {e}", f.display()))?
        } else {
            vec![f.clone()]
        });
    }
    let loaded: Vec<(String, Loaded)> = files.iter().map(|f| (f.display().to_string(), load_file(f))).collect();
    let errors: usize = loaded.iter().map(|(_, l)| l.diagnostics.errors().count()).sum();
    let warnings: usize = loaded.iter().map(|(_, l)| l.diagnostics.warnings().count()).sum();
    match a.format {
        CheckFormat::Json => {
            let files: Vec<FileReport> = loaded.iter().map(|(p, l)| FileReport::new(p, l)).collect();
            print_json(&json!({ "files": files }))?;
        }
        CheckFormat::Text => {
            for (path, l) in &loaded {
                print_loaded(path, l);
                if !l.diagnostics.has_errors()
                    && let Some(doc) = &l.document
                {
                    println!("{path}: ok ({} `{}`)", doc.kind().noun(), doc.id());
                }
            }
            eprintln!("checked {} file(s): {errors} error(s), {warnings} warning(s)", loaded.len());
        }
    }
    Ok(if errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub fn schema(a: &SchemaArgs) -> Result<ExitCode> {
    let out = &a.out;
    let mut stale = Vec::new();
    for kind in DocKind::ALL {
        let path = out.join(file_name(kind));
        let text = schema_text(kind);
        if a.check {
            if benchcards_core::document::read_text(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::create_dir_all(out).into_diagnostic().wrap_err_with(|| format!("cannot create {}", out.display()))?;
            write_output(Some(&path), &text)?;
        }
    }
    if stale.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("stale JSON Schemas: {}\nhelp: regenerate them with `benchcards schema --out {}`", stale.join(", "), out.display());
    Ok(ExitCode::FAILURE)
}

pub fn import(a: &ImportArgs) -> Result<ExitCode> {
    let file = &a.file;
    let name = file.display().to_string();
    let text = read_text(file).map_err(|d| shown(FileProblems::new(file, None, Diagnostics(vec![d]))))?;
    let source = Source { name: name.clone(), yaml: 0..text.len(), text, markdown: false };
    let imported = paper::import_as(&source, a.from).map_err(|d| shown(FileProblems::new(file, Some(&source.text), d)))?;
    print_diagnostics(&name, Some(&source.text), &imported.diagnostics);
    if let Some(s) = &imported.summary {
        eprintln!("{s}");
    }
    let yaml = document_yaml(DocKind::Card, &imported.card);
    // The converted card must itself pass `check`; anything else is a bug worth reporting.
    let reread = load_text("imported card", yaml.clone(), None, false);
    if reread.diagnostics.has_errors() {
        print_loaded("imported card", &reread);
        return Err(miette!("the converted card does not pass `check`; please report this with the input file"));
    }
    let profile = match (&a.profile, &imported.profile) {
        (Some(_), None) => return Err(miette!("this format judges no deployment: `--profile` needs a paper-format card")),
        (Some(p), Some(profile)) => Some((p, document_yaml(DocKind::Profile, profile))),
        (None, _) => None,
    };
    write_output(a.output.as_deref(), &yaml)?;
    if let Some((p, text)) = profile {
        write_output(Some(p), &text)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(a: &ExportArgs) -> Result<ExitCode> {
    let card = loaded(&a.card, load_card)?;
    if a.to == ExportTarget::CroissantRai {
        let text = serde_json::to_string_pretty(&benchcards_report::croissant::croissant_rai(&card)).into_diagnostic()?;
        write_output(a.output.as_deref(), &format!("{text}\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let e = paper::export(&card)
        .map_err(|errors| miette!("the exported card does not match the paper format's schema:\n{}", errors.join("\n")))?;
    if let Some(note) = e.left_out_note() {
        eprintln!("warning: {note}");
    }
    write_output(a.output.as_deref(), &e.text(a.output.as_deref().and_then(|p| p.extension()).is_some_and(|x| x == "json")))?;
    Ok(ExitCode::SUCCESS)
}

pub fn render(a: &RenderArgs) -> Result<ExitCode> {
    let (card, loaded) = load_card(&a.card).map_err(fail)?;
    print_loaded(&a.card.display().to_string(), &loaded);
    let text = match a.format {
        RenderFormat::Md => card_markdown(&card, loaded.source.as_ref().ok_or_else(|| miette!("no source text"))?),
        RenderFormat::Html => card_html(&card),
        RenderFormat::Json => format!("{}\n", serde_json::to_string_pretty(&json!({ "benchcard": card })).into_diagnostic()?),
    };
    write_output(a.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}
