//! `benchcards site build`: the web UI's read-only pages as a folder of static files a registry
//! repository can publish with no server. The same renderers as the server's pages, with
//! relative links (`Links::Static`), so the folder works under any address; the registry filter
//! and the deployment wizard's ranking run in the browser, the ranking from verdicts this build
//! precomputes with `benchcards_assess::compare` for every answer the page offers, which the
//! script only combines as `compare`, `fit` and `rank` do. The card wizard and the runs need the
//! server and are left out.

use crate::pages::{card_page, heatmap_page, registry_page};
use crate::shell::Links;
use crate::wizard::{deployment_wizard, profile_from, result};
use benchcards_assess::compare::tested_group;
use benchcards_assess::fit::verdict_score;
use benchcards_core::document::write_atomic;
use benchcards_core::taxonomy::{Dimension, Rule};
use benchcards_core::{Card, Profile, Verdict, Weight, taxonomy};
use benchcards_report::escape_html;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::path::{Component, Path};

/// What the scripts of a static copy read, from its root.
pub(crate) const DATA_FILE: &str = "static/site.json";

/// The file that marks a folder as a static copy: the files the last build wrote, one a line.
/// A build writes only into an empty folder or one holding this file, and removes only the
/// files it lists.
const MANIFEST: &str = ".benchcards-site";

/// How the wizard's answer to a dimension becomes the key of a precomputed verdict.
fn kind(d: &Dimension) -> &'static str {
    if d.shares {
        "shares"
    } else if d.rule == Rule::Currency {
        "dated"
    } else if d.values.is_empty() {
        "text"
    } else if d.rule == Rule::Set {
        "set"
    } else {
        "one"
    }
}

/// The answers to one dimension a static copy ranks, each with the wizard's query that gives it:
/// every value of a vocabulary (one at a time for a set or shares: the script combines them);
/// for an open one, the values the cards and the bundled deployments use (and a language tag's
/// language alone); for a date, those values, each as of no date or a bundled deployment's.
fn answers(d: &Dimension, cards: &[Card], deployments: &[Profile]) -> Vec<(String, Vec<(String, String)>)> {
    let one = |v: &str| vec![(d.id.clone(), v.to_string())];
    if !d.values.is_empty() {
        return d.values.iter().map(|v| (v.id.clone(), one(&v.id))).collect();
    }
    let stated = cards
        .iter()
        .filter_map(|c| c.dimensions.get(&d.id)?.value.clone())
        .chain(deployments.iter().filter_map(|p| p.dimensions.get(&d.id)?.value.clone()));
    let mut values = BTreeSet::new();
    for v in stated {
        for id in v.ids() {
            values.insert(id.to_string());
            if d.rule == Rule::Language {
                values.insert(id.split('-').next().unwrap_or(id).to_string());
            }
        }
    }
    if d.rule != Rule::Currency {
        return values.into_iter().map(|v| (v.clone(), one(&v))).collect();
    }
    let dates: BTreeSet<String> = std::iter::once(String::new()).chain(deployments.iter().filter_map(|p| p.as_of.clone())).collect();
    let mut out = Vec::new();
    for v in &values {
        for date in &dates {
            let mut q = one(v);
            if !date.is_empty() {
                q.push(("as_of".into(), date.clone()));
            }
            out.push((format!("{v}@{date}"), q));
        }
    }
    out
}

fn verdict_name(v: Verdict) -> Value {
    json!(v)
}

/// What the static registry filter and wizard read: the taxonomy's numbers (verdict scores,
/// weights, the share a mixture must overlap to hold), and per card its values, the groups whose
/// cost it measured, and the verdict `compare` gives each answer the wizard offers.
pub(crate) fn data(cards: &[Card], deployments: &[Profile]) -> Value {
    let t = taxonomy();
    let mut dimensions = Vec::new();
    let mut verdicts: Vec<Map<String, Value>> = vec![Map::new(); cards.len()];
    for d in &t.dimensions {
        let mut keys = Vec::new();
        let mut per_card: Vec<Map<String, Value>> = vec![Map::new(); cards.len()];
        for (key, q) in answers(d, cards, deployments) {
            // An answer the wizard would refuse is not offered.
            let Ok(profile) = profile_from(&q).1 else { continue };
            for (i, card) in cards.iter().enumerate() {
                let c = benchcards_assess::compare(t, card, &profile);
                if let Some(a) = c.dimensions.iter().find(|a| a.id == d.id) {
                    per_card[i].insert(key.clone(), verdict_name(a.verdict));
                }
            }
            keys.push(key);
        }
        for (all, mine) in verdicts.iter_mut().zip(per_card) {
            all.insert(d.id.clone(), Value::Object(mine));
        }
        dimensions.push(json!({"id": d.id, "title": d.title, "kind": kind(d), "keys": keys}));
    }
    let cards: Vec<Value> = cards
        .iter()
        .zip(verdicts)
        .map(|(c, verdicts)| {
            let values: Map<String, Value> =
                c.dimensions.iter().filter_map(|(id, d)| Some((id.clone(), json!(d.value.as_ref()?.ids())))).collect();
            let shares: Map<String, Value> = c
                .dimensions
                .iter()
                .filter_map(|(id, d)| match &d.value {
                    Some(benchcards_core::Value::Mixture(m)) => {
                        Some((id.clone(), json!(m.iter().map(|(v, s)| (v.clone(), json!(s))).collect::<Map<String, Value>>())))
                    }
                    _ => None,
                })
                .collect();
            let measured: BTreeSet<&str> = c.tested.iter().filter_map(|x| tested_group(t, x)).collect();
            json!({"id": c.id, "name": c.name, "page": Links::Static { depth: 0 }.card(&c.id), "values": values, "shares": shares,
                "measured": measured, "verdicts": verdicts})
        })
        .collect();
    let scores: Map<String, Value> = [Verdict::Holds, Verdict::Partial, Verdict::Broken, Verdict::Unknown, Verdict::NotAssessed]
        .into_iter()
        .map(|v| {
            let pair = |measured| verdict_score(t, v, measured).map(|(low, high)| json!([low, high]));
            (verdict_name(v).as_str().unwrap_or_default().to_string(), json!([pair(false), pair(true)]))
        })
        .collect();
    let weights: Map<String, Value> = [Weight::Critical, Weight::High, Weight::Normal, Weight::Low]
        .into_iter()
        .map(|w| (w.name().to_string(), json!(t.weight(w))))
        .collect();
    let groups: Vec<Value> = t
        .groups
        .iter()
        .map(|g| json!({"id": g.id, "dimensions": t.dimensions.iter().filter(|d| d.group == g.id).map(|d| &d.id).collect::<Vec<_>>()}))
        .collect();
    json!({"dimensions": dimensions, "groups": groups, "scores": scores, "weights": weights,
        "holds_share": t.mixture_thresholds.holds, "share_tolerance": t.share_sum_tolerance, "cards": cards})
}

/// The static wizard's page: the deployment wizard's form, each open question followed by the
/// values this copy ranks; the ranking is left to the script.
fn wizard(data: &Value) -> String {
    let keys = |d: &Dimension| -> Vec<String> {
        let found = data["dimensions"].as_array().and_then(|ds| ds.iter().find(|x| x["id"] == d.id.as_str()));
        found
            .and_then(|x| x["keys"].as_array())
            .map_or_else(Vec::new, |k| k.iter().filter_map(|k| k.as_str().map(str::to_string)).collect())
    };
    let offered = |d: &Dimension| -> String {
        if !d.values.is_empty() {
            return String::new();
        }
        let keys = keys(d);
        let (values, dates) = if d.rule == Rule::Currency {
            let split: Vec<(&str, &str)> = keys.iter().filter_map(|k| k.split_once('@')).collect();
            let values: BTreeSet<&str> = split.iter().map(|(v, _)| *v).collect();
            let dates: BTreeSet<&str> = split.iter().map(|(_, d)| *d).filter(|d| !d.is_empty()).collect();
            (values.into_iter().collect::<Vec<_>>().join(", "), dates.into_iter().collect::<Vec<_>>().join(", "))
        } else {
            (keys.join(", "), String::new())
        };
        let dates = if dates.is_empty() { String::new() } else { format!(", with no date or one of these as of: {dates}") };
        format!(
            "<p class=\"meta\">This copy ranks these answers: {}{}; <code>benchcards match</code> ranks any.</p>",
            escape_html(&values),
            escape_html(&dates)
        )
    };
    let intro = "<p>Describe where the model will be used. Leave any question you cannot answer as <em>not specified</em>. This is a static copy of the registry: your browser ranks its cards as you answer, from the verdicts benchcards computed for each answer when the copy was built, in the same order as <code>benchcards match</code>. Comparing with one card, the gaps, and downloading the profile need <code>benchcards serve</code>.</p>\n<noscript><p class=\"warning\">The ranking runs in the browser: it needs JavaScript.</p></noscript>";
    let waiting = result("Answer a question to see how the registry's benchmarks fit.", "");
    deployment_wizard(&[], intro, "", offered, &waiting, Links::Static { depth: 0 })
}

/// Whether a card id can name its page's file: letters, digits, `-`, `_` and `.`, not first.
fn file_name(id: &str) -> bool {
    !id.is_empty() && !id.starts_with('.') && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The files of the static copy of these cards, by path from its root.
pub fn pages(cards: &[Card], deployments: &[Profile]) -> Result<Vec<(String, String)>, String> {
    let mut ids = BTreeSet::new();
    for c in cards {
        if !file_name(&c.id) {
            return Err(format!(
                "card id `{}` cannot name a file: a card id for a static site uses letters, digits, `-`, `_` and `.`",
                c.id
            ));
        }
        if !ids.insert(c.id.as_str()) {
            return Err(format!("two cards have the id `{}`", c.id));
        }
    }
    let data = data(cards, deployments);
    let json = serde_json::to_string(&data).map_err(|e| format!("cannot write the site's data: {e}"))?;
    let mut files = vec![
        ("index.html".to_string(), registry_page(cards, &[], Links::Static { depth: 0 })),
        ("heatmap.html".into(), heatmap_page(cards, Links::Static { depth: 0 })),
        ("wizard.html".into(), wizard(&data)),
        (crate::assets::WIZARD_JS_PATH.trim_start_matches('/').into(), crate::assets::WIZARD_JS.into()),
        (DATA_FILE.into(), json),
    ];
    for c in cards {
        files.push((format!("cards/{}.html", c.id), card_page(c, Links::Static { depth: 1 })));
        let json = serde_json::to_string_pretty(c).map_err(|e| format!("cannot write card {}: {e}", c.id))?;
        files.push((format!("cards/{}.json", c.id), json));
    }
    Ok(files)
}

/// The files a previous build listed, if `out` holds one; an error if `out` is a file, or a
/// folder holding anything that no build wrote.
fn previous(out: &Path) -> Result<Vec<String>, String> {
    if !out.exists() {
        return Ok(Vec::new());
    }
    if !out.is_dir() {
        return Err(format!("{} is not a folder: give the folder to write the site into", out.display()));
    }
    let manifest = out.join(MANIFEST);
    if manifest.is_file() {
        let text =
            benchcards_core::document::read_text(&manifest).map_err(|e| format!("cannot read {}: {}", manifest.display(), e.message))?;
        return Ok(text.lines().map(str::to_string).collect());
    }
    let mut entries = std::fs::read_dir(out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    if entries.next().is_some() {
        return Err(format!(
            "{} holds files that no `benchcards site build` wrote: give an empty or new folder (the build never overwrites other files)",
            out.display()
        ));
    }
    Ok(Vec::new())
}

/// A path a manifest may name: relative, with plain parts only.
fn inside(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// Writes the static copy of these cards into `out` (created if need be), each file atomically,
/// and removes the files of a previous build this one no longer writes. Returns how many pages
/// were written.
pub fn build(cards: &[Card], deployments: &[Profile], out: &Path) -> Result<usize, String> {
    let before = previous(out)?;
    let files = pages(cards, deployments)?;
    for (path, text) in &files {
        let target = out.join(path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        write_atomic(&target, text)?;
    }
    let written: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for stale in before.iter().filter(|p| inside(p) && !written.contains(p.as_str())) {
        let path = out.join(stale);
        if path.is_file() {
            std::fs::remove_file(&path).map_err(|e| format!("cannot remove {} (left from a previous build): {e}", path.display()))?;
        }
    }
    let manifest: String = written.iter().map(|p| format!("{p}\n")).collect();
    write_atomic(&out.join(MANIFEST), &manifest)?;
    Ok(files.iter().filter(|(p, _)| p.ends_with(".html")).count())
}

/// `benchcards site`'s subcommands.
#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SiteCommand {
    /// Write the registry, its heatmap, every card and the deployment wizard as static files
    /// (relative links; the wizard ranks in the browser), for GitHub Pages or any file server.
    Build(SiteBuildArgs),
}

/// `benchcards site build`'s flags.
#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Args)]
pub struct SiteBuildArgs {
    /// Folder to write the site into: new, empty, or a previous build's.
    #[arg(short, long)]
    pub out: std::path::PathBuf,
    /// Folder of cards (default: the bundled registry). Any card with an error stops the build.
    #[arg(long)]
    pub registry: Option<std::path::PathBuf>,
}

/// `benchcards site ...`: what was written, or why nothing could be.
#[cfg(feature = "clap")]
pub fn site_command(command: &SiteCommand) -> Result<String, String> {
    let SiteCommand::Build(a) = command;
    let r = benchcards_core::document::registry(a.registry.as_deref())?;
    if r.left_out > 0 {
        let problems: Vec<String> = r
            .files
            .iter()
            .flat_map(|(name, loaded)| loaded.diagnostics.errors().map(move |d| format!("{name}:{}:{}: {}", d.line, d.column, d.message)))
            .collect();
        return Err(format!("{} file(s) in the registry are not valid cards; nothing was written:\n{}", r.left_out, problems.join("\n")));
    }
    let deployments = benchcards_core::bundled::documents().map_err(|e| format!("bundled file {} does not pass `check`", e.path))?.1;
    let pages = build(&r.cards, &deployments, &a.out)?;
    Ok(format!("wrote {pages} pages of {} cards to {}", r.cards.len(), a.out.display()))
}
