//! The deployment wizard: a form whose questions come from the taxonomy, its answers read as a
//! profile file would be, and the live result (the ranked matches, the comparison with a chosen
//! card, the gaps).

use crate::Site;
use crate::shell::{Params, Shared, page, param, url_encode};
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use benchcards_assess::registry::{gaps, rank};
use benchcards_core::document::{Document, load_text};
use benchcards_core::emit::to_yaml;
use benchcards_core::taxonomy::Rule;
use benchcards_core::{Profile, Weight, taxonomy};
use benchcards_report::assess::{comparison_sections, gaps_table, ranking_table};
use benchcards_report::{Report, escape_html};
use serde_json::{Value, json};

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
fn fragment(site: &Site, q: &[(String, String)]) -> String {
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
    for (i, row) in ranked.rows.iter().enumerate() {
        ranked.links.insert((i, 1), format!("/cards/{}", url_encode(&row[1])));
    }
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

/// The wizard's page: the form, answered as the query says, and its result.
pub(crate) async fn form(State(site): Shared, Query(q): Params) -> Response {
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
    body.push_str(&fragment(&site, &q));
    body.push_str("</section>\n");
    page("Deployment wizard", &body)
}

/// The result alone, for the wizard's script.
pub(crate) async fn result(State(site): Shared, Query(q): Params) -> Response {
    Html(fragment(&site, &q)).into_response()
}
