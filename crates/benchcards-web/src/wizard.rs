//! The deployment wizard (`/wizard`): the taxonomy's questions asked of a team deploying a
//! model, its answers read as a profile file would be, and the live result (a one-line summary,
//! the ranked matches, the comparison with a chosen card, the gaps). Also what it shares with the
//! card wizard (`card_wizard`): the form built from the taxonomy in either wording, reading a
//! dimension's answer from the query, checking the document the answers make as `check` would,
//! and the result's layout.

use crate::Site;
use crate::shell::{Links, Params, Shared, param, shell, url_encode};
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use benchcards_assess::registry::{gaps, rank};
use benchcards_core::document::{Document, load_text};
use benchcards_core::emit::to_yaml;
use benchcards_core::taxonomy::{Dimension, Group, Rule};
use benchcards_core::validate::slugify;
use benchcards_core::{Diagnostic, Profile, Weight, taxonomy};
use benchcards_report::assess::{comparison_sections, gaps_table, ranking_table};
use benchcards_report::{Report, escape_html, inline_html};
use serde_json::{Map, Value, json};

// ---- shared with the card wizard -----------------------------------------------------------

/// Whom a wizard asks: a team deploying a model, or a benchmark's designer (or card author).
#[derive(Clone, Copy)]
pub(crate) enum Wording {
    Deployment,
    Benchmark,
}

impl Wording {
    fn group(self, g: &Group) -> &str {
        match self {
            Wording::Deployment => &g.deployment_question,
            Wording::Benchmark => &g.question,
        }
    }
    fn dimension(self, d: &Dimension) -> &str {
        match self {
            Wording::Deployment => &d.deployment_question,
            Wording::Benchmark => &d.question,
        }
    }
}

/// A labelled input answered as the query says; `attrs` gives its type and limits.
pub(crate) fn field(q: &[(String, String)], key: &str, label: &str, attrs: &str) -> String {
    let value = escape_html(param(q, key).unwrap_or(""));
    format!(
        "<p class=\"field\"><label for=\"{0}\">{1}</label> <input id=\"{0}\" name=\"{0}\" value=\"{value}\"{attrs}></p>\n",
        escape_html(key),
        escape_html(label)
    )
}

/// A labelled text area answered as the query says.
pub(crate) fn text_area(q: &[(String, String)], key: &str, label: &str) -> String {
    let value = escape_html(param(q, key).unwrap_or(""));
    format!(
        "<p class=\"field\"><label for=\"{0}\">{1}</label> <textarea id=\"{0}\" name=\"{0}\" rows=\"2\">{value}</textarea></p>\n",
        escape_html(key),
        escape_html(label)
    )
}

/// A number input's limits: any non-negative decimal (a share, a tolerance).
const NUMBER: &str = "min=\"0\" step=\"any\" inputmode=\"decimal\"";

/// The query key of a dimension's share of one value.
fn share_key(d: &Dimension, value: &str) -> String {
    format!("share.{}.{value}", d.id)
}

/// One dimension's question in the given wording, answered as the query says: a choice for one
/// value, a box per value for a set, a share per value where values take shares, text where the
/// vocabulary is open; then what each value means, then `extra` (a wizard's own fields).
pub(crate) fn question(d: &Dimension, wording: &str, q: &[(String, String)], extra: &str) -> String {
    let id = escape_html(&d.id);
    let chosen: Vec<&str> = q.iter().filter(|(k, _)| k == &d.id).map(|(_, v)| v.as_str()).collect();
    let title = |v: &str| d.values.iter().find(|x| x.id == v).map_or(String::new(), |x| escape_html(&x.definition));
    let (control, grouped) = if d.shares {
        let inputs: String = d
            .values
            .iter()
            .map(|v| {
                let key = share_key(d, &v.id);
                let value = escape_html(param(q, &key).unwrap_or(""));
                let input = format!("<input type=\"number\" name=\"{}\" value=\"{value}\" {NUMBER} max=\"1\">", escape_html(&key));
                format!("<label class=\"choice\" title=\"{}\">{} {input}</label> ", title(&v.id), escape_html(&v.id))
            })
            .collect();
        (format!("<p class=\"meta\">A share between 0 and 1 for each level that occurs; the shares add up to 1.</p>{inputs}"), true)
    } else if d.rule == Rule::Set && !d.values.is_empty() {
        let boxes: String = d
            .values
            .iter()
            .map(|v| {
                let checked = if chosen.contains(&v.id.as_str()) { " checked" } else { "" };
                format!(
                    "<label class=\"choice\" title=\"{}\"><input type=\"checkbox\" name=\"{id}\" value=\"{1}\"{checked}> {1}</label> ",
                    title(&v.id),
                    escape_html(&v.id)
                )
            })
            .collect();
        (boxes, true)
    } else if d.values.is_empty() {
        let value = escape_html(chosen.first().copied().unwrap_or(""));
        (format!("<input id=\"{id}\" name=\"{id}\" value=\"{value}\" placeholder=\"not specified\">"), false)
    } else {
        let options: String = d
            .values
            .iter()
            .map(|v| {
                let sel = if chosen.contains(&v.id.as_str()) { " selected" } else { "" };
                format!("<option value=\"{0}\" title=\"{1}\"{sel}>{0}</option>", escape_html(&v.id), title(&v.id))
            })
            .collect();
        (format!("<select id=\"{id}\" name=\"{id}\"><option value=\"\">not specified</option>{options}</select>"), false)
    };
    let mut definitions = String::new();
    if !d.values.is_empty() {
        definitions.push_str("<details><summary>What the values mean</summary><dl>");
        for v in &d.values {
            definitions.push_str(&format!("<dt>{}</dt><dd>{}</dd>", escape_html(&v.id), escape_html(&v.definition)));
        }
        definitions.push_str("</dl></details>");
    }
    let (wording, code) = (escape_html(wording), format!("<span class=\"meta\">(<code>{id}</code>)</span>"));
    if grouped {
        format!("<fieldset class=\"question\"><legend>{wording} {code}</legend>\n{control}\n{definitions}{extra}</fieldset>\n")
    } else {
        format!("<div class=\"question\"><label for=\"{id}\">{wording}</label> {code}<br>\n{control}\n{definitions}{extra}</div>\n")
    }
}

/// Every group's questions in one wording: `group_extra` adds a wizard's fields to a group,
/// `dimension_extra` to a dimension.
pub(crate) fn questions(
    q: &[(String, String)],
    wording: Wording,
    group_extra: impl Fn(&Group) -> String,
    dimension_extra: impl Fn(&Dimension) -> String,
) -> String {
    let t = taxonomy();
    let mut out = String::new();
    for g in &t.groups {
        out.push_str(&format!(
            "<fieldset class=\"group\"><legend>{} <span class=\"meta\">({:?} assumption)</span></legend>\n<p class=\"meta\">{}</p>\n{}",
            escape_html(&g.title),
            g.kind,
            escape_html(wording.group(g)),
            group_extra(g)
        ));
        for d in t.dimensions.iter().filter(|d| d.group == g.id) {
            out.push_str(&question(d, wording.dimension(d), q, &dimension_extra(d)));
        }
        out.push_str("</fieldset>\n");
    }
    out
}

/// A number in a field, or what is wrong with it.
pub(crate) fn number(text: &str, what: &str) -> Result<f64, String> {
    text.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| format!("{what}: `{text}` is not a number"))
}

/// Each dimension with its answer in the query, in taxonomy order: a mixture of the shares
/// given (zero shares left out), else the values chosen (a list for sets), else none. Shares
/// that are no number go to `problems`.
pub(crate) fn answers(q: &[(String, String)], problems: &mut Vec<String>) -> Vec<(&'static Dimension, Option<Value>)> {
    let t = taxonomy();
    let mut out = Vec::new();
    for d in &t.dimensions {
        let mut shares = Map::new();
        if d.shares {
            let prefix = share_key(d, "");
            for (k, v) in q.iter().filter(|(_, v)| !v.trim().is_empty()) {
                let Some(value) = k.strip_prefix(&prefix) else { continue };
                match number(v, &format!("{}, share of {value}", d.title)) {
                    Ok(s) if s != 0.0 => {
                        shares.insert(value.to_string(), json!(s));
                    }
                    Ok(_) => {}
                    Err(e) => problems.push(e),
                }
            }
        }
        let values: Vec<&str> = q.iter().filter(|(k, v)| k == &d.id && !v.trim().is_empty()).map(|(_, v)| v.trim()).collect();
        let value = if !shares.is_empty() {
            Some(Value::Object(shares))
        } else if values.is_empty() {
            None
        } else if d.rule == Rule::Set {
            Some(json!(values))
        } else {
            Some(json!(values[0]))
        };
        out.push((d, value));
    }
    out
}

/// The document's id: the one given, else the name as a slug, else `fallback`.
pub(crate) fn id_from(q: &[(String, String)], name: &str, fallback: &str) -> String {
    let slug = slugify(name);
    param(q, "id").map(|i| i.trim().to_string()).unwrap_or(if slug.is_empty() { fallback.to_string() } else { slug })
}

/// What `check` makes of the document a wizard's answers build.
pub(crate) struct Checked {
    pub yaml: String,
    /// The document, when it has no errors.
    pub document: Option<Document>,
    /// The wizard's own problems, then the errors, each naming the question it concerns.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Writes `value` under the top-level `key` and loads it as `check` does.
pub(crate) fn check(key: &str, value: Value, mut errors: Vec<String>) -> Checked {
    let yaml = to_yaml(&json!({ key: value }));
    let loaded = load_text(key, yaml.clone(), None, false);
    errors.extend(loaded.diagnostics.errors().map(|d| located(&yaml, d)));
    let warnings = loaded.diagnostics.warnings().map(|d| located(&yaml, d)).collect();
    let document = loaded.document.filter(|_| errors.is_empty());
    Checked { yaml, document, errors, warnings }
}

/// A diagnostic in words, after the title of the dimension or group it concerns (the entry
/// four spaces in that holds its line) and with its suggestion.
fn located(yaml: &str, d: &Diagnostic) -> String {
    let t = taxonomy();
    let lines: Vec<&str> = yaml.lines().take(d.line).collect();
    let entry = lines.iter().rev().filter(|l| !l.trim().is_empty()).find(|l| l.len() - l.trim_start().len() <= 4);
    let key = entry.filter(|l| l.starts_with("    ")).and_then(|l| l.trim().split(':').next()).unwrap_or("");
    let title = t.dimension(key).map(|d| &d.title).or(t.group(key).map(|g| &g.title));
    let mut text = title.map_or(d.message.clone(), |t| format!("{t}: {}", d.message));
    if let Some(s) = &d.suggestion {
        text.push_str(&format!(" ({s})"));
    }
    text
}

/// "1 problem", "2 problems".
pub(crate) fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// A titled list of messages (nothing when there are none).
pub(crate) fn listed(title: &str, items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let items: String = items.iter().map(|i| format!("<li>{}</li>", inline_html(i))).collect();
    format!("<h2>{}</h2>\n<ul class=\"problems\">{items}</ul>\n", escape_html(title))
}

/// A wizard's result: the one-line summary (the only live region: a screen reader reads it
/// out as it changes), then the details. The page and the wizard's script both show this.
pub(crate) fn result(summary: &str, details: &str) -> String {
    format!(
        "<p id=\"summary\" aria-live=\"polite\" aria-atomic=\"true\">{}</p>\n<div id=\"details\">\n{details}</div>\n",
        escape_html(summary)
    )
}

/// A wizard's page: the form (`fields`, sent to `action` as a GET) and its result, side by side
/// on a wide screen, the result after the form on a narrow one. The script updates the result
/// from the server (`action/result`) or, on a static copy, from the copy's data file.
pub(crate) fn wizard_page(title: &str, intro: &str, action: &str, fields: &str, button: &str, result: &str, links: Links) -> String {
    let source = match links {
        Links::Server => format!("data-result=\"{action}/result\""),
        Links::Static { .. } => format!("data-static=\"{}\"", escape_html(&links.data())),
    };
    let body = format!(
        "<h1>{title}</h1>\n{intro}\n<div class=\"wizard\">\n<form id=\"wizard\" method=\"get\" action=\"{action}\" {source}>\n{fields}<p><button type=\"submit\">{button}</button></p>\n</form>\n<section id=\"result\" aria-label=\"Result\">\n{result}</section>\n</div>\n"
    );
    shell(title, &body, links, true)
}

// ---- the deployment wizard -----------------------------------------------------------------

/// The deployment the wizard's answers describe, validated as a profile file would be: its
/// YAML, and the profile or the problems found (in words).
pub fn profile_from(q: &[(String, String)]) -> (String, Result<Profile, Vec<String>>) {
    let t = taxonomy();
    let mut problems = Vec::new();
    let mut dims = Map::new();
    for (d, value) in answers(q, &mut problems) {
        if let Some(value) = value {
            dims.insert(d.id.clone(), json!({"value": value, "status": "declared"}));
        }
    }
    let mut groups = Map::new();
    for g in &t.groups {
        let mut setting = Map::new();
        if let Some(w) = param(q, &format!("weight.{}", g.id)) {
            setting.insert("weight".into(), json!(w));
        }
        if let Some(tol) = param(q, &format!("tolerance.{}", g.id)).filter(|t| !t.trim().is_empty()) {
            match number(tol, &format!("{}, tolerance", g.title)) {
                Ok(x) => {
                    setting.insert("tolerance".into(), json!(x));
                }
                Err(e) => problems.push(e),
            }
        }
        if !setting.is_empty() {
            groups.insert(g.id.clone(), Value::Object(setting));
        }
    }
    let name = param(q, "name").map(str::trim).filter(|n| !n.is_empty()).unwrap_or("My deployment");
    let mut profile = json!({"version": 1, "id": id_from(q, name, "my-deployment"), "name": name});
    if let Some(date) = param(q, "as_of").map(str::trim).filter(|d| !d.is_empty()) {
        profile["as_of"] = json!(date);
    }
    profile["dimensions"] = Value::Object(dims);
    if !groups.is_empty() {
        profile["groups"] = Value::Object(groups);
    }
    let c = check("deployment", profile, problems);
    match c.document {
        Some(Document::Profile(p)) => (c.yaml, Ok(p)),
        _ if c.errors.is_empty() => (c.yaml, Err(vec!["the answers do not make a deployment profile".into()])),
        _ => (c.yaml, Err(c.errors)),
    }
}

/// The wizard's live result: the summary, then the download link, the ranked matches (each
/// linking to its card), the comparison with the chosen card and the gaps (HTML, escaped).
fn fragment(site: &Site, q: &[(String, String)]) -> String {
    let t = taxonomy();
    let profile = match profile_from(q).1 {
        Ok(p) if !p.dimensions.is_empty() => p,
        Ok(_) => return result("Answer a question to see how the registry's benchmarks fit.", ""),
        Err(errors) => {
            let summary = format!("Not yet a deployment profile: {} (listed below).", count(errors.len(), "problem"));
            return result(&summary, &listed("To fix", &errors));
        }
    };
    let ranked = rank(t, &site.cards, &profile);
    let unanswered = count(t.dimensions.len() - profile.dimensions.len(), "dimension");
    let summary = match ranked.first() {
        Some(best) => {
            let broken = best.broken_groups.len();
            format!(
                "Best fit: {}, fit {}; {broken} of {} groups {}; {unanswered} not answered.",
                best.card_name,
                best.fit.map_or_else(|| "not computable".into(), |f| f.display()),
                t.groups.len(),
                if broken == 1 { "breaks" } else { "break" },
            )
        }
        None => format!("No card in the registry to compare with; {unanswered} not answered."),
    };
    let mut r = Report::new("");
    let mut table = ranking_table(&ranked);
    table.rows.truncate(5);
    for (i, row) in table.rows.iter().enumerate() {
        table.links.insert((i, 1), Links::Server.card(&row[1]));
    }
    r.heading(2, "Ranked matches");
    r.table(&table.titled("The five best-fitting benchmarks"));
    if let Some(card) = param(q, "card").and_then(|id| site.cards.iter().find(|c| c.id == id)) {
        comparison_sections(&mut r, &benchcards_assess::compare(t, card, &profile));
    }
    r.heading(2, "Gaps");
    r.table(&gaps_table(&gaps(t, &site.cards, &profile)));
    let query: String = q.iter().map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))).collect::<Vec<_>>().join("&amp;");
    // The summary heads the result: the report's own title is left out.
    let html = r.fragment();
    let body = html.split_once("</h1>\n").map_or(html.as_str(), |(_, rest)| rest);
    let details = format!(
        "<p><a href=\"/api/profile.yaml?{query}\" download=\"deployment.yaml\">Download this deployment profile (YAML)</a></p>\n{body}"
    );
    result(&summary, &details)
}

/// The wizard's page: the form, answered as the query says, and its result.
pub(crate) async fn form(State(site): Shared, Query(q): Params) -> Response {
    let intro = "<p>Describe where the model will be used. Leave any question you cannot answer as <em>not specified</em>. The result updates as you answer (or press <strong>Compare</strong>); the profile it makes downloads as a file for <code>benchcards compare</code>, <code>match</code> and <code>plan</code>.</p>";
    let mut fields = String::from(
        "<p class=\"field\"><label for=\"card\">Compare with</label> <select id=\"card\" name=\"card\"><option value=\"\">no card (ranked matches only)</option>",
    );
    for c in &site.cards {
        let sel = if param(&q, "card") == Some(c.id.as_str()) { " selected" } else { "" };
        fields.push_str(&format!("<option value=\"{}\"{sel}>{}</option>", escape_html(&c.id), escape_html(&c.name)));
    }
    fields.push_str("</select></p>\n");
    Html(deployment_wizard(&q, intro, &fields, |_| String::new(), &fragment(&site, &q), Links::Server)).into_response()
}

/// The deployment wizard's page, answered as the query says: the deployment's name, id and date,
/// `extra` fields, each group's weight and tolerance with its questions (`dimension_extra`
/// added to a dimension's), and the result.
pub(crate) fn deployment_wizard(
    q: &[(String, String)],
    intro: &str,
    extra: &str,
    dimension_extra: impl Fn(&Dimension) -> String,
    result: &str,
    links: Links,
) -> String {
    let mut fields = field(q, "name", "Deployment name", " placeholder=\"My deployment\"");
    fields.push_str(&field(q, "id", "Id", " placeholder=\"from the name\""));
    fields.push_str(&field(q, "as_of", "As of (the date the answers hold)", " type=\"date\""));
    fields.push_str(extra);
    let group_fields = |g: &Group| {
        let wkey = format!("weight.{}", g.id);
        let mut s =
            format!("<p class=\"field\"><label for=\"{wkey}\">How much it matters here</label> <select id=\"{wkey}\" name=\"{wkey}\">");
        for w in [Weight::Critical, Weight::High, Weight::Normal, Weight::Low] {
            let chosen = param(q, &wkey).unwrap_or(Weight::Normal.name()) == w.name();
            s.push_str(&format!("<option value=\"{0}\"{1}>{0}</option>", w.name(), if chosen { " selected" } else { "" }));
        }
        s.push_str("</select></p>\n");
        let attrs = format!(" type=\"number\" {NUMBER} max=\"100\" placeholder=\"none\"");
        s + &field(q, &format!("tolerance.{}", g.id), "Largest drop in the score you accept (points)", &attrs)
    };
    fields.push_str(&questions(q, Wording::Deployment, group_fields, dimension_extra));
    wizard_page("Deployment wizard", intro, &escape_html(&links.wizard()), &fields, "Compare", result, links)
}

/// The result alone, for the wizard's script.
pub(crate) async fn result_only(State(site): Shared, Query(q): Params) -> Response {
    Html(fragment(&site, &q)).into_response()
}
