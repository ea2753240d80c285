//! benchcards-web: the local web UI on axum. The registry (filtered by dimension values), its
//! heatmap, card pages, a deployment wizard whose questions come from the taxonomy, the runs in
//! a folder of run stores, and a JSON API behind every page (`/api/...`). Pages read without
//! JavaScript; one small script makes the wizard update as it is filled in. Everything taken
//! from a card, profile or run is escaped; nothing is loaded from elsewhere; every request is a
//! read (no GET changes anything) and names things by id, never by path.

pub mod view;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use benchcards_assess::registry::{gaps, overview, rank};
use benchcards_core::document::{Document, load_text};
use benchcards_core::emit::to_yaml;
use benchcards_core::taxonomy::Rule;
use benchcards_core::{Card, Profile, Weight, taxonomy};
use benchcards_report::assess::{comparison_sections, gaps_table, ranking_table};
use benchcards_report::card::card_tables;
use benchcards_report::readiness::team_report;
use benchcards_report::{Report, Table, escape_html, html_page};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// What the site serves: the registry's cards, and optionally a folder of run stores.
pub struct Site {
    pub cards: Vec<Card>,
    pub runs: Option<PathBuf>,
}

type Shared = State<Arc<Site>>;
type Params = Query<Vec<(String, String)>>;

const NAV: &str = "<nav aria-label=\"Site\"><a href=\"/\">Registry</a> · <a href=\"/heatmap\">Heatmap</a> · <a href=\"/wizard\">Deployment wizard</a> · <a href=\"/runs\">Runs</a> · <a href=\"/api\">JSON API</a></nav>\n";

/// A whole page: the navigation, then the body (already escaped).
fn page(title: &str, body: &str) -> Response {
    let html = html_page(title, &format!("{NAV}{body}")).replace("</head>", "<script src=\"/static/wizard.js\" defer></script>\n</head>");
    let mut r = Html(html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

fn not_found(what: &str) -> Response {
    let mut r = page("Not found", &format!("<h1>Not found</h1><p>{}</p>", escape_html(what)));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// What one request may ask of the server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest request target (path and query); the wizard's longest is under 2 KiB.
    pub max_target: usize,
    /// Largest body a request may announce (every route is a GET and reads none).
    pub max_body: u64,
    /// Longest time a response may take.
    pub time: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_target: 8 * 1024, max_body: 64 * 1024, time: std::time::Duration::from_secs(10) }
    }
}

fn refused(status: StatusCode, why: &str) -> Response {
    let mut r = page("Refused", &format!("<h1>Refused</h1><p>{}</p>", escape_html(why)));
    *r.status_mut() = status;
    r
}

/// Refuses requests over the limits before they reach a page, and stops a page that takes too long.
async fn enforce(State(limits): State<Limits>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > limits.max_target {
        return refused(StatusCode::URI_TOO_LONG, &format!("The address is {target} bytes long; the limit is {}.", limits.max_target));
    }
    let body = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok()).unwrap_or(0);
    if body > limits.max_body {
        return refused(StatusCode::PAYLOAD_TOO_LARGE, &format!("The request carries {body} bytes; the limit is {}.", limits.max_body));
    }
    match tokio::time::timeout(limits.time, next.run(req)).await {
        Ok(r) => r,
        Err(_) => refused(StatusCode::SERVICE_UNAVAILABLE, &format!("The page took longer than {} s.", limits.time.as_secs_f64())),
    }
}

/// The router of the whole site, with the request limits.
pub fn router(site: Site, limits: Limits) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/heatmap", get(heatmap))
        .route("/cards/{id}", get(card_page))
        .route("/wizard", get(wizard))
        .route("/wizard/result", get(wizard_result))
        .route("/runs", get(runs_page))
        .route("/runs/{store}/{run}", get(run_page))
        .route("/static/wizard.js", get(wizard_js))
        .route("/api", get(api_index))
        .route("/api/taxonomy", get(|| async { Json(json!(taxonomy())) }))
        .route("/api/cards", get(api_cards))
        .route("/api/cards/{id}", get(api_card))
        .route("/api/overview", get(api_overview))
        .route("/api/assess", get(api_assess))
        .route("/api/profile.yaml", get(api_profile_yaml))
        .route("/api/runs", get(api_runs))
        .fallback(|| async { not_found("No page here.") })
        .with_state(Arc::new(site))
        .layer(axum::middleware::from_fn_with_state(limits, enforce))
}

/// Serves the site until the process ends.
pub async fn serve(site: Site, addr: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("benchcards serve: http://{}/", listener.local_addr()?);
    axum::serve(listener, router(site, Limits::default())).await
}

// ---- registry ------------------------------------------------------------------------------

/// A card's value for a dimension, as text.
fn card_value(card: &Card, dim: &str) -> Option<String> {
    card.dimensions.get(dim).and_then(|d| d.value.as_ref()).map(|v| v.ids().join(", "))
}

/// The cards matching `dim` = `value` (the value among the card's), or all.
fn filtered<'a>(site: &'a Site, q: &[(String, String)]) -> Vec<&'a Card> {
    let (dim, value) = (param(q, "dimension"), param(q, "value"));
    site.cards
        .iter()
        .filter(|c| match (dim, value) {
            (Some(d), Some(v)) => c.dimensions.get(d).and_then(|x| x.value.as_ref()).is_some_and(|x| x.ids().contains(&v)),
            (Some(d), None) => c.dimensions.get(d).is_some_and(|x| x.value.is_some()),
            _ => true,
        })
        .collect()
}

async fn index(State(site): Shared, Query(q): Params) -> Response {
    let t = taxonomy();
    let (dim, value) = (param(&q, "dimension"), param(&q, "value"));
    let mut body = String::from(
        "<h1>benchcards registry</h1>\n<p>What each benchmark assumes about who asks, what they say, how the conversation runs and who decides. Filter by a dimension's value, open a card, or describe your deployment in the <a href=\"/wizard\">wizard</a>.</p>\n",
    );
    body.push_str("<form method=\"get\" action=\"/\" class=\"filter\"><label for=\"dimension\">Dimension</label> <select id=\"dimension\" name=\"dimension\"><option value=\"\">any</option>");
    for d in &t.dimensions {
        let sel = if dim == Some(d.id.as_str()) { " selected" } else { "" };
        body.push_str(&format!("<option value=\"{0}\"{sel}>{0}</option>", escape_html(&d.id)));
    }
    body.push_str(&format!(
        "</select> <label for=\"value\">value</label> <input id=\"value\" name=\"value\" value=\"{}\" list=\"values\"> <button type=\"submit\">Filter</button></form>\n",
        escape_html(value.unwrap_or(""))
    ));
    let cards = filtered(&site, &q);
    body.push_str(&format!("<p>{} of {} card(s).</p>\n<table>\n<thead><tr><th scope=\"col\">Card</th><th scope=\"col\">Query author</th><th scope=\"col\">Interaction</th><th scope=\"col\">Decision</th><th scope=\"col\">Reference</th></tr></thead>\n<tbody>\n", cards.len(), site.cards.len()));
    for c in cards {
        let cell = |d: &str| escape_html(&card_value(c, d).unwrap_or_else(|| "not stated".into()));
        body.push_str(&format!(
            "<tr><td><a href=\"/cards/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape_html(&c.id),
            escape_html(&c.name),
            cell("query_author"),
            cell("interaction_mode"),
            cell("decision_mediation"),
            cell("reference_standard")
        ));
    }
    body.push_str("</tbody>\n</table>\n");
    page("benchcards registry", &body)
}

/// The share of a group's dimensions a card states, as a colour from pale (none) to dark.
fn heat(specified: usize, total: usize) -> String {
    let share = if total == 0 { 0.0 } else { specified as f64 / total as f64 };
    let light = 95.0 - 55.0 * share;
    format!("background:hsl(210,60%,{light:.0}%);color:{}", if share > 0.6 { "#fff" } else { "#111" })
}

async fn heatmap(State(site): Shared) -> Response {
    let t = taxonomy();
    let o = overview(t, &site.cards);
    let mut body = String::from(
        "<h1>Registry heatmap</h1>\n<p>Cards × assumption groups. Each cell shows the group's first dimension and how many of its dimensions the card states; darker cells state more. Pale columns are where benchmarks are missing evidence.</p>\n<table class=\"heatmap\">\n<thead><tr><th scope=\"col\">Card</th>",
    );
    for g in &t.groups {
        body.push_str(&format!("<th scope=\"col\">{}</th>", escape_html(&g.id)));
    }
    body.push_str("</tr></thead>\n<tbody>\n");
    for c in &o.cards {
        body.push_str(&format!("<tr><th scope=\"row\"><a href=\"/cards/{}\">{}</a></th>", escape_html(&c.id), escape_html(&c.id)));
        for g in &c.groups {
            body.push_str(&format!(
                "<td style=\"{}\">{} ({}/{})</td>",
                heat(g.specified, g.total),
                escape_html(g.value.as_deref().unwrap_or("—")),
                g.specified,
                g.total
            ));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody>\n</table>\n<h2>Settings no card covers</h2>\n");
    let mut t2 = Table::new(&["Dimension", "No card covers"]);
    for d in o.dimensions.iter().filter(|d| !d.uncovered.is_empty()) {
        t2.row(vec![d.id.clone(), d.uncovered.join(", ")]);
    }
    body.push_str(&t2.to_html());
    page("Registry heatmap", &body)
}

async fn card_page(State(site): Shared, UrlPath(id): UrlPath<String>) -> Response {
    let Some(card) = site.cards.iter().find(|c| c.id == id) else { return not_found(&format!("No card `{id}` in the registry.")) };
    let mut r = Report::new(&card.name);
    r.paragraph(&format!("`{}` · {} · card by {}", card.id, card.citation, card.card_author));
    if let Some(u) = &card.intended_use {
        r.paragraph(u);
    }
    for t in card_tables(card) {
        r.table(&t);
    }
    page(
        &card.name,
        &format!(
            "{}<p><a href=\"/api/cards/{}\">This card as JSON</a> · <a href=\"/wizard?card={}\">Compare it with a deployment</a></p>",
            r.fragment(),
            escape_html(&card.id),
            escape_html(&card.id)
        ),
    )
}

// ---- wizard --------------------------------------------------------------------------------

/// The deployment the wizard's answers describe, validated as a profile file would be: the
/// profile, or the problems found (in words).
pub fn profile_from(q: &[(String, String)]) -> (String, Result<Profile, Vec<String>>) {
    let t = taxonomy();
    let mut dims = serde_json::Map::new();
    for d in &t.dimensions {
        let values: Vec<&str> = q.iter().filter(|(k, v)| k == &d.id && !v.trim().is_empty()).map(|(_, v)| v.trim()).collect();
        if values.is_empty() {
            continue;
        }
        let value = if d.rule == Rule::Set { json!(values) } else { json!(values[0]) };
        dims.insert(d.id.clone(), json!({"value": value, "status": "declared"}));
    }
    let mut groups = serde_json::Map::new();
    for g in &t.groups {
        if let Some(w) = param(q, &format!("weight.{}", g.id)) {
            groups.insert(g.id.clone(), json!({"weight": w}));
        }
    }
    let name = param(q, "name").unwrap_or("My deployment");
    let mut profile = json!({"version": 1, "id": "my-deployment", "name": name, "dimensions": dims});
    if !groups.is_empty() {
        profile["groups"] = Value::Object(groups);
    }
    let yaml = to_yaml(&json!({ "deployment": profile }));
    let loaded = load_text("wizard", yaml.clone(), None, false);
    let errors: Vec<String> = loaded.diagnostics.errors().map(|d| d.message.clone()).collect();
    match loaded.document {
        Some(Document::Profile(p)) if errors.is_empty() => (yaml, Ok(p)),
        _ => (yaml, Err(if errors.is_empty() { vec!["the answers do not make a deployment profile".into()] } else { errors })),
    }
}

/// The wizard's live result: the comparison with the chosen card, the ranked matches and the
/// gaps (HTML, escaped).
fn wizard_fragment(site: &Site, q: &[(String, String)]) -> String {
    let t = taxonomy();
    let (_, profile) = profile_from(q);
    let profile = match profile {
        Ok(p) if !p.dimensions.is_empty() => p,
        Ok(_) => return "<p>Answer a question to see how the registry's benchmarks fit.</p>".into(),
        Err(errors) => {
            return format!("<p role=\"alert\">{}</p>", errors.iter().map(|e| escape_html(e)).collect::<Vec<_>>().join("<br>"));
        }
    };
    let mut r = Report::new("Your deployment against the registry");
    let mut ranked = ranking_table(&rank(t, &site.cards, &profile));
    ranked.rows.truncate(5);
    r.heading(2, "Ranked matches");
    r.table(&ranked.titled("The five best-fitting benchmarks"));
    if let Some(card) = param(q, "card").and_then(|id| site.cards.iter().find(|c| c.id == id)) {
        comparison_sections(&mut r, &benchcards_assess::compare(t, card, &profile));
    }
    r.heading(2, "Gaps");
    r.table(&gaps_table(&gaps(t, &site.cards, &profile)));
    let query: String = q.iter().map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))).collect::<Vec<_>>().join("&amp;");
    format!(
        "<p><a href=\"/api/profile.yaml?{query}\" download=\"deployment.yaml\">Download this deployment profile (YAML)</a></p>\n{}",
        r.fragment()
    )
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn wizard(State(site): Shared, Query(q): Params) -> Response {
    let t = taxonomy();
    let mut body = String::from(
        "<h1>Deployment wizard</h1>\n<p>Describe where the model will be used. Every question comes from the taxonomy; leave any you cannot answer as <em>not specified</em>. The result below updates as you answer (or press <strong>Compare</strong>).</p>\n<form id=\"wizard\" method=\"get\" action=\"/wizard\">\n",
    );
    body.push_str(&format!(
        "<p><label for=\"name\">Deployment name</label> <input id=\"name\" name=\"name\" value=\"{}\"></p>\n<p><label for=\"card\">Compare with</label> <select id=\"card\" name=\"card\"><option value=\"\">no card (ranked matches only)</option>",
        escape_html(param(&q, "name").unwrap_or("My deployment"))
    ));
    for c in &site.cards {
        let sel = if param(&q, "card") == Some(c.id.as_str()) { " selected" } else { "" };
        body.push_str(&format!("<option value=\"{}\"{sel}>{}</option>", escape_html(&c.id), escape_html(&c.name)));
    }
    body.push_str("</select></p>\n");
    for g in &t.groups {
        body.push_str(&format!(
            "<fieldset><legend>{} <span class=\"meta\">({:?} assumption)</span></legend>\n<p class=\"meta\">{}</p>\n",
            escape_html(&g.title),
            g.kind,
            escape_html(&g.question)
        ));
        let wkey = format!("weight.{}", g.id);
        body.push_str(&format!("<p><label for=\"{wkey}\">How much it matters here</label> <select id=\"{wkey}\" name=\"{wkey}\">"));
        for w in [Weight::Critical, Weight::High, Weight::Normal, Weight::Low] {
            let sel =
                if param(&q, &wkey) == Some(w.name()) || (param(&q, &wkey).is_none() && w == Weight::Normal) { " selected" } else { "" };
            body.push_str(&format!("<option value=\"{0}\"{sel}>{0}</option>", w.name()));
        }
        body.push_str("</select></p>\n");
        for d in t.dimensions.iter().filter(|d| d.group == g.id) {
            let chosen: Vec<&str> = q.iter().filter(|(k, _)| k == &d.id).map(|(_, v)| v.as_str()).collect();
            body.push_str(&format!(
                "<div class=\"question\"><label for=\"{0}\">{1}</label> <span class=\"meta\">(<code>{0}</code>)</span><br>",
                escape_html(&d.id),
                escape_html(&d.question)
            ));
            if d.values.is_empty() {
                body.push_str(&format!(
                    "<input id=\"{0}\" name=\"{0}\" value=\"{1}\" placeholder=\"not specified\">",
                    escape_html(&d.id),
                    escape_html(chosen.first().copied().unwrap_or(""))
                ));
            } else {
                let multiple = if d.rule == Rule::Set { " multiple" } else { "" };
                body.push_str(&format!("<select id=\"{0}\" name=\"{0}\"{multiple}>", escape_html(&d.id)));
                if multiple.is_empty() {
                    body.push_str("<option value=\"\">not specified</option>");
                }
                for v in &d.values {
                    let sel = if chosen.contains(&v.id.as_str()) { " selected" } else { "" };
                    body.push_str(&format!(
                        "<option value=\"{0}\" title=\"{1}\"{sel}>{0}</option>",
                        escape_html(&v.id),
                        escape_html(&v.definition)
                    ));
                }
                body.push_str("</select>");
                body.push_str("<details><summary>What the values mean</summary><dl>");
                for v in &d.values {
                    body.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape_html(&v.id), escape_html(&v.definition)));
                }
                body.push_str("</dl></details>");
            }
            body.push_str("</div>\n");
        }
        body.push_str("</fieldset>\n");
    }
    body.push_str("<p><button type=\"submit\">Compare</button></p>\n</form>\n<section id=\"result\" aria-live=\"polite\">\n");
    body.push_str(&wizard_fragment(&site, &q));
    body.push_str("</section>\n");
    page("Deployment wizard", &body)
}

async fn wizard_result(State(site): Shared, Query(q): Params) -> Response {
    Html(wizard_fragment(&site, &q)).into_response()
}

/// The wizard's one script: send the form's answers as they change, show the server's result.
const WIZARD_JS: &str = r#"// benchcards: live results for the deployment wizard. The page works without it.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("wizard");
  const result = document.getElementById("result");
  if (!form || !result) return;
  const update = async () => {
    const query = new URLSearchParams(new FormData(form)).toString();
    const response = await fetch("/wizard/result?" + query);
    if (response.ok) result.innerHTML = await response.text();
  };
  form.addEventListener("change", update);
});
"#;

async fn wizard_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], WIZARD_JS).into_response()
}

// ---- runs ----------------------------------------------------------------------------------

/// The run stores in the runs folder, by file name (the only names a URL may use).
fn stores(site: &Site) -> Vec<(String, PathBuf)> {
    let Some(dir) = &site.runs else { return Vec::new() };
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("sqlite"))
                .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p)))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn runs_json(site: &Site) -> Vec<Value> {
    let mut out = Vec::new();
    for (name, path) in stores(site) {
        let Ok(store) = benchcards_eval::store::Store::open_read_only(&path) else { continue };
        for r in store.runs().unwrap_or_default() {
            out.push(json!({"store": name, "run": r.id, "plan": r.plan_id, "status": r.status, "done": r.samples_done, "failed": r.samples_failed, "created": r.created}));
        }
    }
    out
}

async fn runs_page(State(site): Shared) -> Response {
    let mut body = String::from("<h1>Runs</h1>\n");
    if site.runs.is_none() {
        body.push_str("<p>No runs folder: start with <code>benchcards serve --runs DIR</code>, where DIR holds run stores (<code>*.sqlite</code>).</p>");
        return page("Runs", &body);
    }
    let runs = runs_json(&site);
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
    page("Runs", &body)
}

async fn run_page(State(site): Shared, UrlPath((store_name, run)): UrlPath<(String, String)>) -> Response {
    let Some((_, path)) = stores(&site).into_iter().find(|(n, _)| *n == store_name) else {
        return not_found("No such run store in the runs folder.");
    };
    let Ok(store) = benchcards_eval::store::Store::open_read_only(&path) else { return not_found("The run store cannot be opened.") };
    let inputs = match view::run_inputs(&store, &store_name, &run, true) {
        Ok(i) => i,
        Err(e) => return not_found(&e),
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

// ---- JSON API ------------------------------------------------------------------------------

async fn api_index() -> Response {
    let mut t = Table::new(&["Endpoint", "What it returns"]);
    for (e, w) in [
        ("/api/taxonomy", "the taxonomy: groups, dimensions, vocabularies with definitions, rules"),
        ("/api/cards[?dimension=D&value=V]", "the registry's cards (id, name, citation), filtered like the registry page"),
        ("/api/cards/{id}", "one card, whole"),
        ("/api/overview", "cards × assumption groups, and per dimension the values no card covers (the heatmap)"),
        (
            "/api/assess?DIMENSION=VALUE&...&weight.GROUP=W[&card=ID]",
            "the wizard's answers as a validated profile, the ranked matches, the gaps, and the comparison with the card",
        ),
        ("/api/profile.yaml?...", "the same answers as a deployment profile file"),
        ("/api/runs", "the runs in the runs folder"),
    ] {
        t.row(vec![e.into(), w.into()]);
    }
    page("JSON API", &format!("<h1>JSON API</h1>\n<p>Every page reads from these; all are GET and change nothing.</p>\n{}", t.to_html()))
}

async fn api_cards(State(site): Shared, Query(q): Params) -> Json<Value> {
    Json(json!(filtered(&site, &q).iter().map(|c| json!({"id": c.id, "name": c.name, "citation": c.citation})).collect::<Vec<_>>()))
}

async fn api_card(State(site): Shared, UrlPath(id): UrlPath<String>) -> Response {
    match site.cards.iter().find(|c| c.id == id) {
        Some(c) => Json(json!(c)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": format!("no card `{id}`")}))).into_response(),
    }
}

async fn api_overview(State(site): Shared) -> Json<Value> {
    Json(json!(overview(taxonomy(), &site.cards)))
}

async fn api_assess(State(site): Shared, Query(q): Params) -> Response {
    let t = taxonomy();
    match profile_from(&q).1 {
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"errors": errors}))).into_response(),
        Ok(profile) => {
            let ranked: Vec<Value> = rank(t, &site.cards, &profile)
                .iter()
                .map(|r| json!({"card": r.card_id, "fit": r.comparison.fit, "headline": r.comparison.headline}))
                .collect();
            let comparison = param(&q, "card")
                .and_then(|id| site.cards.iter().find(|c| c.id == id))
                .map(|c| benchcards_report::assess::comparison_json(&benchcards_assess::compare(t, c, &profile)));
            Json(json!({"profile": profile, "ranked": ranked, "gaps": gaps(t, &site.cards, &profile), "comparison": comparison}))
                .into_response()
        }
    }
}

async fn api_profile_yaml(Query(q): Params) -> Response {
    match profile_from(&q) {
        (yaml, Ok(_)) => (
            [
                (header::CONTENT_TYPE, "application/yaml; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"deployment.yaml\""),
            ],
            yaml,
        )
            .into_response(),
        (_, Err(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"errors": errors}))).into_response(),
    }
}

async fn api_runs(State(site): Shared) -> Json<Value> {
    Json(json!(runs_json(&site)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_page_that_takes_too_long_is_stopped() {
        let limits = Limits { time: std::time::Duration::from_millis(50), ..Limits::default() };
        let app = Router::new()
            .route("/slow", get(|| async { tokio::time::sleep(std::time::Duration::from_secs(5)).await }))
            .route("/fast", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(limits, enforce));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let t = std::time::Instant::now();
        assert_eq!(reqwest::get(format!("{base}/slow")).await.unwrap().status(), 503);
        assert!(t.elapsed() < std::time::Duration::from_secs(2), "stopped at the limit, not at the page's end");
        assert_eq!(reqwest::get(format!("{base}/fast")).await.unwrap().status(), 200);
    }
}
