//! The card wizard (`/cards/new`): the taxonomy's questions asked of a benchmark, with a
//! status, an answer and evidence per dimension; its answers read as a card file would be, the
//! problems shown as they are found, and the card to download (`/api/card.yaml`). It builds its
//! form with the deployment wizard's functions, in the benchmark's wording.

use crate::shell::{Links, Params, param, url_encode};
use crate::wizard::{Checked, Wording, answers, check, count, field, id_from, listed, questions, result, text_area, wizard_page};
use axum::extract::Query;
use axum::response::{Html, IntoResponse, Response};
use benchcards_core::taxonomy::Dimension;
use benchcards_core::validate::status_name;
use benchcards_core::{CardStatus, taxonomy};
use benchcards_report::escape_html;
use serde_json::{Map, Value, json};

const STATUSES: [CardStatus; 5] =
    [CardStatus::Stated, CardStatus::Inferred, CardStatus::Measured, CardStatus::NotSpecified, CardStatus::NotApplicable];

/// The card the answers describe, checked as `check` would: a dimension with no answer is
/// `not_specified`, one with a value `stated` unless another status is chosen.
pub(crate) fn card_from(q: &[(String, String)]) -> Checked {
    let mut problems = Vec::new();
    let text = |key: &str| param(q, key).map(str::trim).unwrap_or("");
    for (key, missing) in
        [("name", "Name the benchmark."), ("citation", "Give the benchmark's citation."), ("card_author", "Say who wrote this card.")]
    {
        if text(key).is_empty() {
            problems.push(missing.to_string());
        }
    }
    let mut dims = Map::new();
    for (d, value) in answers(q, &mut problems) {
        let at = |what: &str| text(&format!("{what}.{}", d.id));
        let status = Some(at("status")).filter(|s| !s.is_empty()).unwrap_or(if value.is_some() { "stated" } else { "not_specified" });
        let mut entry = Map::new();
        if let Some(v) = value {
            entry.insert("value".into(), v);
        }
        entry.insert("status".into(), json!(status));
        if !at("answer").is_empty() {
            entry.insert("answer".into(), json!(at("answer")));
        }
        if ["source", "where", "quote"].iter().any(|k| !at(k).is_empty()) {
            let mut evidence = Map::from_iter([("source".to_string(), json!(at("source")))]);
            for k in ["where", "quote"].into_iter().filter(|k| !at(k).is_empty()) {
                evidence.insert(k.into(), json!(at(k)));
            }
            entry.insert("evidence".into(), json!([evidence]));
        }
        dims.insert(d.id.clone(), Value::Object(entry));
    }
    let mut card = json!({"version": 1, "id": id_from(q, text("name"), "new-benchmark"), "name": text("name"), "citation": text("citation"),
        "card_author": text("card_author"), "designer_endorsed": text("designer_endorsed") == "true"});
    if !text("intended_use").is_empty() {
        card["intended_use"] = json!(text("intended_use"));
    }
    card["dimensions"] = Value::Object(dims);
    check("benchcard", card, problems)
}

/// A dimension's status, answer and evidence, under its question.
fn evidence_fields(q: &[(String, String)], d: &Dimension) -> String {
    let key = |what: &str| format!("{what}.{}", d.id);
    let filled = ["status", "answer", "source", "where", "quote"].iter().any(|w| param(q, &key(w)).is_some_and(|v| !v.trim().is_empty()));
    let status = key("status");
    let mut s = format!(
        "<details class=\"evidence\"{}><summary>Status, answer and evidence</summary>\n<p class=\"field\"><label for=\"{status}\">Status</label> <select id=\"{status}\" name=\"{status}\"><option value=\"\">stated when a value is chosen, else not specified</option>",
        if filled { " open" } else { "" }
    );
    for st in STATUSES {
        let sel = if param(q, &status) == Some(status_name(st)) { " selected" } else { "" };
        s.push_str(&format!("<option value=\"{0}\"{sel}>{0}</option>", status_name(st)));
    }
    s.push_str("</select></p>\n");
    s.push_str(&text_area(q, &key("answer"), "The answer in words"));
    s.push_str(&field(q, &key("source"), "Source (a URL or citation)", ""));
    s.push_str(&field(q, &key("where"), "Where in the source", " placeholder=\"section, table, figure\""));
    s.push_str(&text_area(q, &key("quote"), "Quote"));
    s + "</details>\n"
}

/// The live result: the summary, the problems and warnings, the card to download and its YAML.
fn fragment(q: &[(String, String)]) -> String {
    let c = card_from(q);
    let total = taxonomy().dimensions.len();
    let answered = answers(q, &mut Vec::new()).iter().filter(|(_, v)| v.is_some()).count();
    let mut details = listed("To fix", &c.errors);
    details.push_str(&listed("Warnings (check allows these)", &c.warnings));
    let summary = if c.errors.is_empty() {
        let query: String = q.iter().map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v))).collect::<Vec<_>>().join("&amp;");
        let id = c.document.as_ref().map_or("card", |d| d.id());
        details.push_str(&format!(
            "<p><a href=\"/api/card.yaml?{query}\" download=\"{}.yaml\">Download this card (YAML)</a> · check it with <code>benchcards check</code></p>\n",
            escape_html(id)
        ));
        format!("A valid card: {answered} of {total} dimensions answered; {}.", count(c.warnings.len(), "warning"))
    } else {
        format!("Not yet a valid card: {} (listed below); {answered} of {total} dimensions answered.", count(c.errors.len(), "problem"))
    };
    details.push_str(&format!("<h2>The card so far</h2>\n<pre class=\"yaml\">{}</pre>\n", escape_html(&c.yaml)));
    result(&summary, &details)
}

/// The card wizard's page: the form, answered as the query says, and its result.
pub(crate) async fn form(Query(q): Params) -> Response {
    let mut fields = field(&q, "name", "Benchmark name", "");
    fields.push_str(&field(&q, "id", "Id", " placeholder=\"from the name\""));
    fields.push_str(&field(&q, "citation", "Citation", " placeholder=\"the paper or page that introduces it\""));
    fields.push_str(&field(&q, "card_author", "Card written by", ""));
    let endorsed = if param(&q, "designer_endorsed") == Some("true") { " checked" } else { "" };
    fields.push_str(&format!("<p class=\"field\"><label><input type=\"checkbox\" name=\"designer_endorsed\" value=\"true\"{endorsed}> The benchmark's designers have read and approved this card</label></p>\n"));
    fields.push_str(&text_area(&q, "intended_use", "Intended use (what it is meant to evaluate, in its designers' words)"));
    fields.push_str(&questions(&q, Wording::Benchmark, |_| String::new(), |d| evidence_fields(&q, d)));
    let intro = "<p>Describe a benchmark, dimension by dimension, as its paper, repository or dataset card does. Leave a question unanswered where the sources are silent: it is written as <em>not specified</em>, which is itself a finding. Problems show as you answer (or press <strong>Check</strong>); the card downloads as a file for <code>benchcards check</code> and the registry. Nothing is stored here.</p>";
    Html(wizard_page("New benchmark card", intro, "/cards/new", &fields, "Check", &fragment(&q), Links::Server)).into_response()
}

/// The result alone, for the wizard's script.
pub(crate) async fn result_only(Query(q): Params) -> Response {
    Html(fragment(&q)).into_response()
}
