//! The HTML pages of the registry (the filtered list, the heatmap, a card) and of the runs
//! folder (the runs, one run's report), and what they read: the filtered cards, the run stores.

use crate::shell::{Links, Params, Shared, not_found, page, param, shell, url_encode};
use crate::{Site, view};
use axum::extract::{Path as UrlPath, Query, State};
use axum::response::{Html, IntoResponse, Response};
use benchcards_assess::registry::overview;
use benchcards_core::{Card, taxonomy};
use benchcards_eval::store::Store;
use benchcards_report::card::card_tables;
use benchcards_report::readiness::team_report;
use benchcards_report::{Report, Table, escape_html};
use serde_json::{Value, json};
use std::path::PathBuf;

// ---- registry ------------------------------------------------------------------------------

/// A card's value for a dimension, as text.
fn card_value(card: &Card, dim: &str) -> Option<String> {
    card.dimensions.get(dim).and_then(|d| d.value.as_ref()).map(|v| v.ids().join(", "))
}

/// The cards matching `dim` = `value` (the value among the card's), or all.
pub(crate) fn filtered<'a>(cards: &'a [Card], q: &[(String, String)]) -> Vec<&'a Card> {
    let (dim, value) = (param(q, "dimension"), param(q, "value"));
    cards
        .iter()
        .filter(|c| match (dim, value) {
            (Some(d), Some(v)) => c
                .dimensions
                .get(d)
                .and_then(|x| x.value.as_ref())
                .is_some_and(|x| x.ids().iter().any(|id| id.eq_ignore_ascii_case(v.trim()))),
            (Some(d), None) => c.dimensions.get(d).is_some_and(|x| x.value.is_some()),
            _ => true,
        })
        .collect()
}

/// The registry's cards with a few telling dimensions, each name linking to its card.
fn registry_table(cards: &[&Card], links: Links) -> Table {
    let mut t = Table::new(&["Card", "Query author", "Interaction", "Decision", "Reference"]);
    for c in cards {
        let value = |d: &str| card_value(c, d).unwrap_or_else(|| "not stated".into());
        t.row(vec![
            c.name.clone(),
            value("query_author"),
            value("interaction_mode"),
            value("decision_mediation"),
            value("reference_standard"),
        ]);
        t.link(0, links.card(&c.id));
    }
    t
}

pub(crate) async fn registry(State(site): Shared, Query(q): Params) -> Response {
    Html(registry_page(&site.cards, &q, Links::Server)).into_response()
}

/// The registry page, filtered as the query says. A static copy lists every card, and its
/// script filters them in the browser (from the copy's data file).
pub(crate) fn registry_page(cards: &[Card], q: &[(String, String)], links: Links) -> String {
    let t = taxonomy();
    let (dim, value) = (param(q, "dimension"), param(q, "value"));
    let (write, filter) = match links {
        Links::Server => (", or <a href=\"/cards/new\">write a card</a> for another benchmark", String::new()),
        Links::Static { .. } => (
            "; <code>benchcards serve</code> also has a card wizard, to write a card for another benchmark",
            format!(" data-cards=\"{}\"", escape_html(&links.data())),
        ),
    };
    let mut body = format!(
        "<h1>benchcards registry</h1>\n<p>What each benchmark assumes about who asks, what they say, how the conversation runs and who decides. Filter by a dimension's value, open a card, describe your deployment in the <a href=\"{}\">wizard</a>{write}.</p>\n",
        escape_html(&links.wizard())
    );
    if let Links::Static { .. } = links {
        body.push_str("<p class=\"meta\">On this static copy the filter runs in the browser: it needs JavaScript.</p>\n");
    }
    body.push_str(&format!(
        "<form method=\"get\" action=\"{}\" class=\"filter\"{filter}><label for=\"dimension\">Dimension</label> <select id=\"dimension\" name=\"dimension\"><option value=\"\">any</option>",
        escape_html(&links.registry())
    ));
    for d in &t.dimensions {
        let sel = if dim == Some(d.id.as_str()) { " selected" } else { "" };
        body.push_str(&format!("<option value=\"{0}\"{sel}>{0}</option>", escape_html(&d.id)));
    }
    // The value is chosen from the chosen dimension's vocabulary (the script switches the list
    // when the dimension changes); typing is still allowed, and matching ignores case.
    let list = dim.and_then(|d| t.dimension(d)).map_or("any".to_string(), |d| d.id.clone());
    body.push_str(&format!(
        "</select> <label for=\"value\">value</label> <input id=\"value\" name=\"value\" value=\"{}\" list=\"values-{}\" autocomplete=\"off\" placeholder=\"choose from the list\"> <button type=\"submit\">Filter</button>\n",
        escape_html(value.unwrap_or("")),
        escape_html(&list)
    ));
    let mut all: Vec<&str> = Vec::new();
    for d in &t.dimensions {
        body.push_str(&format!("<datalist id=\"values-{}\">", escape_html(&d.id)));
        for v in &d.values {
            body.push_str(&format!("<option value=\"{}\" label=\"{}\"></option>", escape_html(&v.id), escape_html(&v.definition)));
            if !all.contains(&v.id.as_str()) {
                all.push(&v.id);
            }
        }
        body.push_str("</datalist>");
    }
    all.sort_unstable();
    let any: String = all.iter().map(|v| format!("<option value=\"{}\"></option>", escape_html(v))).collect();
    body.push_str(&format!("<datalist id=\"values-any\">{any}</datalist></form>\n"));
    let shown = filtered(cards, q);
    body.push_str(&format!("<p id=\"shown\">{} of {} card(s).</p>\n{}", shown.len(), cards.len(), registry_table(&shown, links).to_html()));
    shell("benchcards registry", &body, links, false)
}

/// The share of a group's dimensions a card states, as a colour from pale (none) to dark, with
/// the text colour (near-black or white) that contrasts with it more: at least 4.5:1 (WCAG AA),
/// the background darkened a little where neither would reach it.
fn heat(specified: usize, total: usize) -> String {
    let share = if total == 0 { 0.0 } else { specified as f64 / total as f64 };
    let mut light = (95.0 - 55.0 * share).round();
    loop {
        let bg = hsl_luminance(210.0, 0.6, light / 100.0);
        let (dark, white) = (contrast(bg, luminance_of(0x11)), contrast(bg, 1.0));
        if dark.max(white) >= 4.5 || light <= 20.0 {
            return format!("background:hsl(210,60%,{light:.0}%);color:{}", if dark >= white { "#111" } else { "#fff" });
        }
        light -= 1.0;
    }
}

/// WCAG 2 relative luminance of a grey whose channels are all `v` (0–255).
fn luminance_of(v: u8) -> f64 {
    let c = channel(v as f64 / 255.0);
    0.2126 * c + 0.7152 * c + 0.0722 * c
}

/// sRGB to linear light (WCAG 2).
fn channel(c: f64) -> f64 {
    if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
}

/// WCAG 2 relative luminance of an HSL colour (hue in degrees, saturation and lightness 0–1).
fn hsl_luminance(h: f64, s: f64, l: f64) -> f64 {
    let a = s * l.min(1.0 - l);
    let f = |n: f64| {
        let k = (n + h / 30.0) % 12.0;
        l - a * (k - 3.0).min(9.0 - k).clamp(-1.0, 1.0)
    };
    0.2126 * channel(f(0.0)) + 0.7152 * channel(f(8.0)) + 0.0722 * channel(f(4.0))
}

/// WCAG 2 contrast ratio of two luminances.
fn contrast(a: f64, b: f64) -> f64 {
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

pub(crate) async fn heatmap(State(site): Shared) -> Response {
    Html(heatmap_page(&site.cards, Links::Server)).into_response()
}

/// Cards × assumption groups, and the settings no card covers.
pub(crate) fn heatmap_page(cards: &[Card], links: Links) -> String {
    let t = taxonomy();
    let o = overview(t, cards);
    let mut columns = vec!["Card"];
    columns.extend(t.groups.iter().map(|g| g.id.as_str()));
    let mut map = Table::new(&columns);
    map.class = Some("heatmap".into());
    map.row_headers = true;
    for c in &o.cards {
        let mut cells = vec![c.id.clone()];
        cells.extend(c.groups.iter().map(|g| format!("{} ({}/{})", g.value.as_deref().unwrap_or("—"), g.specified, g.total)));
        map.row(cells);
        map.link(0, links.card(&c.id));
        for (i, g) in c.groups.iter().enumerate() {
            map.style(i + 1, heat(g.specified, g.total));
        }
    }
    let mut uncovered = Table::new(&["Dimension", "No card covers"]);
    for d in o.dimensions.iter().filter(|d| !d.uncovered.is_empty()) {
        uncovered.row(vec![d.id.clone(), d.uncovered.join(", ")]);
    }
    let body = format!(
        "<h1>Registry heatmap</h1>\n<p>Cards × assumption groups. Each cell shows the group's first dimension and how many of its dimensions the card states; darker cells state more. Pale columns are where benchmarks are missing evidence.</p>\n{}<h2>Settings no card covers</h2>\n{}",
        map.to_html(),
        uncovered.to_html()
    );
    shell("Registry heatmap", &body, links, false)
}

pub(crate) async fn card(State(site): Shared, UrlPath(id): UrlPath<String>) -> Response {
    match site.cards.iter().find(|c| c.id == id) {
        Some(card) => Html(card_page(card, Links::Server)).into_response(),
        None => not_found(&format!("No card `{id}` in the registry.")),
    }
}

/// A card's page: what it says, dimension by dimension, and the card as JSON.
pub(crate) fn card_page(card: &Card, links: Links) -> String {
    let mut r = Report::new(&card.name);
    r.paragraph(&format!("`{}` · {} · card by {}", card.id, card.citation, card.card_author));
    if let Some(u) = &card.intended_use {
        r.paragraph(u);
    }
    for t in card_tables(card) {
        r.table(&t);
    }
    // The static wizard ranks but does not compare with one card.
    let compare = match links {
        Links::Server => format!(" · <a href=\"/wizard?card={}\">Compare it with a deployment</a>", escape_html(&url_encode(&card.id))),
        Links::Static { .. } => String::new(),
    };
    let body = format!("{}<p><a href=\"{}\">This card as JSON</a>{compare}</p>", r.fragment(), escape_html(&links.card_json(&card.id)));
    shell(&card.name, &body, links, false)
}

// ---- runs ----------------------------------------------------------------------------------

/// The run stores in the runs folder, by file name (the only names a URL may use).
fn stores(site: &Site) -> Vec<(String, PathBuf)> {
    site.runs.as_deref().map_or_else(Vec::new, benchcards_eval::store::stores_in)
}

/// Every run in the runs folder's stores (opened read-only), as the API lists them, and each
/// `.sqlite` file that is not a readable run store with the reason.
pub(crate) fn runs_json(site: &Site) -> (Vec<Value>, Vec<(String, String)>) {
    let (mut out, mut skipped) = (Vec::new(), Vec::new());
    for (name, path) in stores(site) {
        let store = match Store::open_read_only(&path) {
            Ok(s) => s,
            Err(e) => {
                skipped.push((name, format!("not a benchcards run store ({e})")));
                continue;
            }
        };
        match store.runs() {
            Ok(runs) => {
                for r in runs {
                    out.push(json!({"store": name, "run": r.id, "plan": r.plan_id, "status": r.status, "done": r.samples_done, "failed": r.samples_failed, "created": r.created}));
                }
            }
            Err(e) => skipped.push((name, format!("its runs cannot be read ({e})"))),
        }
    }
    (out, skipped)
}

/// Runs `work` (file and database reads) off the async workers, so a slow file holds one
/// blocking thread and the page's time limit still fires.
pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}

pub(crate) async fn runs(State(site): Shared) -> Response {
    let mut body = String::from("<h1>Runs</h1>\n");
    if site.runs.is_none() {
        body.push_str("<p>No runs folder: start with <code>benchcards serve --runs DIR</code>, where DIR holds run stores (<code>*.sqlite</code>).</p>");
        return page("Runs", &body);
    }
    let Some((runs, skipped)) = blocking(move || runs_json(&site)).await else { return not_found("The runs folder cannot be read.") };
    let mut t = Table::new(&["Run", "Store", "Plan", "Status", "Done", "Failed"]);
    let mut links = Vec::new();
    for r in &runs {
        let s = |k: &str| r[k].as_str().map_or_else(|| r[k].to_string(), str::to_string);
        links.push(format!(
            "<li><a href=\"/runs/{}/{}\">{}</a> ({}, {})</li>",
            url_encode(&s("store")),
            url_encode(&s("run")),
            escape_html(&s("run")),
            escape_html(&s("plan")),
            escape_html(&s("status"))
        ));
        t.row(vec![s("run"), s("store"), s("plan"), s("status"), s("done"), s("failed")]);
    }
    body.push_str(&format!("<ul>{}</ul>\n{}", links.join("\n"), t.to_html()));
    if !skipped.is_empty() {
        let mut s = Table::new(&["File", "Not shown because"]).titled("Files in the runs folder that are not shown");
        for (name, why) in skipped {
            s.row(vec![name, why]);
        }
        body.push_str(&s.to_html());
    }
    page("Runs", &body)
}

pub(crate) async fn run(State(site): Shared, UrlPath((store_name, run)): UrlPath<(String, String)>) -> Response {
    let (name, id) = (store_name.clone(), run.clone());
    let read = blocking(move || {
        let (_, path) = stores(&site).into_iter().find(|(n, _)| *n == name).ok_or("No such run store in the runs folder.")?;
        let store = Store::open_read_only(&path).map_err(|_| "The run store cannot be opened.".to_string())?;
        view::run_inputs(&store, &name, &id, true)
    })
    .await;
    let inputs = match read {
        Some(Ok(i)) => i,
        Some(Err(e)) => return not_found(&e),
        None => return not_found("The run could not be read."),
    };
    let r = team_report(&inputs, "waterfall.svg", &[format!("benchcards {}", env!("CARGO_PKG_VERSION"))]);
    page(
        &format!("Run {run}"),
        &format!(
            "<p class=\"meta\">Run <code>{}</code> in <code>{}</code>. The same report as a file: <code>benchcards report {} --store {} -o report.html</code></p>\n{}",
            escape_html(&run),
            escape_html(&store_name),
            escape_html(&run),
            escape_html(&store_name),
            r.fragment()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heatmap_text_meets_wcag_aa_on_every_shade() {
        // hsl(210, 60%, 40%) is rgb(41, 102, 163): relative luminance 0.1262 by WCAG 2's formula.
        assert!((hsl_luminance(210.0, 0.6, 0.4) - 0.1262).abs() < 0.002, "{}", hsl_luminance(210.0, 0.6, 0.4));
        assert!((contrast(luminance_of(0xff), luminance_of(0)) - 21.0).abs() < 1e-9);
        for total in 1..=12 {
            for specified in 0..=total {
                let css = heat(specified, total);
                let light: f64 = css.split("60%,").nth(1).and_then(|r| r.split('%').next()).unwrap().parse().unwrap();
                let bg = hsl_luminance(210.0, 0.6, light / 100.0);
                let text = if css.ends_with("#fff") { 1.0 } else { luminance_of(0x11) };
                assert!(contrast(bg, text) >= 4.5, "{specified}/{total}: {css} at {:.2}:1", contrast(bg, text));
            }
        }
    }

    #[test]
    fn the_registry_table_links_each_name_and_escapes_name_and_link() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../registry/bean-scenarios.yaml");
        let (mut card, _) = benchcards_core::load_card(&path).unwrap();
        card.id = "a\"><script>".into();
        card.name = "<b>Bean</b> & co".into();
        let html = registry_table(&[&card], Links::Server).to_html();
        assert!(html.contains("<tr><td><a href=\"/cards/a%22%3E%3Cscript%3E\">&lt;b&gt;Bean&lt;/b&gt; &amp; co</a></td><td>"), "{html}");
        let html = registry_table(&[&card], Links::Static { depth: 0 }).to_html();
        assert!(
            html.contains("<tr><td><a href=\"cards/a%22%3E%3Cscript%3E.html\">&lt;b&gt;Bean&lt;/b&gt; &amp; co</a></td><td>"),
            "{html}"
        );
        assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
    }
}
