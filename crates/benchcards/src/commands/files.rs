//! Commands about single files: taxonomy, check, schema, import, export, render.

use super::{fail, write_output};
use crate::cli::{CheckFormat, RenderFormat, TableFormat};
use crate::diagnostics::{FileReport, print_loaded};
use benchcards_core::document::{DocKind, Document, Source, read_text};
use benchcards_core::emit::to_yaml;
use benchcards_core::schema::{file_name, rule_name, schema_text};
use benchcards_core::{Card, Loaded, Profile, load_card, load_file, load_text, paper, taxonomy};
use benchcards_report::Table;
use benchcards_report::card::{card_html, card_markdown};
use miette::{IntoDiagnostic, Result, WrapErr, miette};
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

pub fn taxonomy_cmd(format: TableFormat) -> Result<ExitCode> {
    let t = taxonomy();
    let group_tables = || {
        t.groups.iter().map(|g| {
            let kind = format!("{:?}", g.kind).to_lowercase();
            let mut table =
                Table::new(&["Dimension", "Rule", "Value", "Definition"]).titled(format!("{} — {} assumption: {}", g.id, kind, g.question));
            for id in &g.dimensions {
                let Some(d) = t.dimension(id) else { continue };
                let mut rule = rule_name(d.rule).to_string();
                if let Some(end) = &d.demanding {
                    rule = format!("ordinal (demanding end: {end})");
                }
                if d.shares {
                    rule.push_str(" with shares");
                }
                table.row(vec![d.id.clone(), rule, String::new(), d.question.clone()]);
                for v in &d.values {
                    table.row(vec![String::new(), String::new(), v.id.clone(), v.definition.clone()]);
                }
                for p in &d.patterns {
                    table.row(vec![String::new(), String::new(), format!("{}…", p.prefix), p.definition.clone()]);
                }
            }
            table
        })
    };
    let mut flags = Table::new(&["Flag", "Value", "Definition"]).titled("Quality flags (shown, not compared)");
    for f in &t.flags {
        flags.row(vec![f.id.clone(), String::new(), f.question.clone()]);
        for v in &f.values {
            flags.row(vec![String::new(), v.id.clone(), v.definition.clone()]);
        }
    }
    match format {
        TableFormat::Json => {
            let value = json!({
                "groups": t.groups.iter().map(|g| json!({"id": g.id, "kind": g.kind, "title": g.title, "question": g.question, "dimensions": g.dimensions})).collect::<Vec<_>>(),
                "dimensions": t.dimensions.iter().map(|d| json!({
                    "id": d.id, "group": d.group, "kind": t.kind_of(d), "question": d.question, "rule": d.rule,
                    "demanding": d.demanding, "unordered": d.unordered, "shares": d.shares, "bias": d.bias,
                    "next_step": d.next_step, "aliases": d.aliases, "patterns": d.patterns, "values": d.values,
                })).collect::<Vec<_>>(),
                "flags": t.flags,
                "kinds": t.kinds,
                "next_steps": t.next_steps,
                "study_designs": t.study_designs,
                "conditions": t.conditions,
                "scores": {"verdicts": t.verdict_scores, "weights": t.weights},
                "thresholds": {"mixture": t.mixture_thresholds, "set_superset_note_ratio": t.set_superset_note_ratio, "currency_broken_factor": t.currency_broken_factor, "share_sum_tolerance": t.share_sum_tolerance},
            });
            println!("{}", serde_json::to_string_pretty(&value).into_diagnostic()?);
        }
        TableFormat::Md => {
            println!("# benchcards taxonomy\n");
            for table in group_tables() {
                println!("{}", table.to_markdown());
            }
            println!("{}", flags.to_markdown());
        }
        TableFormat::Table => {
            for table in group_tables() {
                println!("{}", table.to_text());
            }
            println!("{}", flags.to_text());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn check(files: &[std::path::PathBuf], format: CheckFormat) -> Result<ExitCode> {
    let loaded: Vec<(String, Loaded)> = files.iter().map(|f| (f.display().to_string(), load_file(f))).collect();
    let errors: usize = loaded.iter().map(|(_, l)| l.diagnostics.errors().count()).sum();
    let warnings: usize = loaded.iter().map(|(_, l)| l.diagnostics.warnings().count()).sum();
    match format {
        CheckFormat::Json => {
            let files: Vec<FileReport> = loaded.iter().map(|(p, l)| FileReport::new(p, l)).collect();
            println!("{}", serde_json::to_string_pretty(&json!({ "files": files })).into_diagnostic()?);
        }
        CheckFormat::Text => {
            for (path, l) in &loaded {
                print_loaded(path, l);
                if !l.diagnostics.has_errors()
                    && let Some(doc) = &l.document
                {
                    let (kind, id) = match doc {
                        Document::Card(c) => (DocKind::Card, &c.id),
                        Document::Profile(p) => (DocKind::Profile, &p.id),
                        Document::Plan(p) => (DocKind::Plan, &p.id),
                    };
                    println!("{path}: ok ({} `{id}`)", kind.noun());
                }
            }
            eprintln!("checked {} file(s): {errors} error(s), {warnings} warning(s)", loaded.len());
        }
    }
    Ok(if errors > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

pub fn schema(out: &Path, check_only: bool) -> Result<ExitCode> {
    let mut stale = Vec::new();
    for kind in DocKind::ALL {
        let path = out.join(file_name(kind));
        let text = schema_text(kind);
        if check_only {
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

pub fn card_yaml(card: &Card) -> String {
    to_yaml(&json!({ "benchcard": card }))
}

pub fn profile_yaml(profile: &Profile) -> String {
    to_yaml(&json!({ "deployment": profile }))
}

pub fn import(file: &Path, output: Option<&Path>, profile_out: Option<&Path>) -> Result<ExitCode> {
    let name = file.display().to_string();
    let text = match read_text(file) {
        Ok(t) => t,
        Err(d) => {
            eprintln!("{}", crate::diagnostics::render(&name, None, &d));
            return Ok(ExitCode::FAILURE);
        }
    };
    let source = Source { name: name.clone(), yaml: 0..text.len(), text, markdown: false };
    let imported = match paper::import(&source) {
        Ok(i) => i,
        Err(diags) => {
            print_loaded(&name, &Loaded { source: Some(source), root: None, document: None, diagnostics: diags });
            return Ok(ExitCode::FAILURE);
        }
    };
    print_loaded(&name, &Loaded { source: Some(source), root: None, document: None, diagnostics: imported.diagnostics.clone() });
    let yaml = card_yaml(&imported.card);
    // The converted card must itself pass `check`; anything else is a bug worth reporting.
    let reread = load_text("imported card", yaml.clone(), None, false);
    if reread.diagnostics.has_errors() {
        print_loaded("imported card", &reread);
        return Err(miette!("the converted card does not pass `check`; please report this with the input file"));
    }
    write_output(output, &yaml)?;
    if let Some(p) = profile_out {
        write_output(Some(p), &profile_yaml(&imported.profile))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn export(card_path: &Path, output: Option<&Path>) -> Result<ExitCode> {
    let (card, loaded) = match load_card(card_path) {
        Ok(x) => x,
        Err(e) => return Ok(fail(e)),
    };
    print_loaded(&card_path.display().to_string(), &loaded);
    match paper::export(&card) {
        Ok(text) => {
            write_output(output, &text)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => Err(miette!("the exported card does not match the paper format's schema:\n{}", errors.join("\n"))),
    }
}

pub fn render(card_path: &Path, format: RenderFormat, output: Option<&Path>) -> Result<ExitCode> {
    let (card, loaded) = match load_card(card_path) {
        Ok(x) => x,
        Err(e) => return Ok(fail(e)),
    };
    print_loaded(&card_path.display().to_string(), &loaded);
    let text = match format {
        RenderFormat::Md => card_markdown(&card, loaded.source.as_ref().ok_or_else(|| miette!("no source text"))?),
        RenderFormat::Html => card_html(&card),
        RenderFormat::Json => format!("{}\n", serde_json::to_string_pretty(&json!({ "benchcard": card })).into_diagnostic()?),
    };
    write_output(output, &text)?;
    Ok(ExitCode::SUCCESS)
}
