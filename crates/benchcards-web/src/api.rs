//! The JSON API behind every page (`/api/...`), and its index page. Every endpoint is a GET and
//! changes nothing.

use crate::card_wizard::card_from;
use crate::pages::{blocking, filtered, runs_json};
use crate::shell::{Params, Shared, page, param};
use crate::wizard::profile_from;
use axum::Json;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use benchcards_assess::registry;
use benchcards_report::Table;
use serde_json::{Value, json};

pub(crate) async fn index() -> Response {
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
        ("/api/card.yaml?...", "the card wizard's answers (/cards/new) as a card file"),
        ("/api/runs", "the runs in the runs folder"),
    ] {
        t.row(vec![e.into(), w.into()]);
    }
    page("JSON API", &format!("<h1>JSON API</h1>\n<p>Every page reads from these; all are GET and change nothing.</p>\n{}", t.to_html()))
}

pub(crate) async fn taxonomy() -> Json<Value> {
    Json(json!(benchcards_core::taxonomy()))
}

pub(crate) async fn cards(State(site): Shared, Query(q): Params) -> Json<Value> {
    Json(json!(filtered(&site.cards, &q).iter().map(|c| json!({"id": c.id, "name": c.name, "citation": c.citation})).collect::<Vec<_>>()))
}

pub(crate) async fn card(State(site): Shared, UrlPath(id): UrlPath<String>) -> Response {
    match site.cards.iter().find(|c| c.id == id) {
        Some(c) => Json(json!(c)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"error": format!("no card `{id}`")}))).into_response(),
    }
}

pub(crate) async fn overview(State(site): Shared) -> Json<Value> {
    Json(json!(registry::overview(benchcards_core::taxonomy(), &site.cards)))
}

pub(crate) async fn assess(State(site): Shared, Query(q): Params) -> Response {
    let t = benchcards_core::taxonomy();
    match profile_from(&q).1 {
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"errors": errors}))).into_response(),
        Ok(profile) => {
            let ranked: Vec<Value> = registry::rank(t, &site.cards, &profile)
                .iter()
                .map(|r| json!({"card": r.card_id, "fit": r.comparison.fit, "headline": r.comparison.headline}))
                .collect();
            let comparison = param(&q, "card")
                .and_then(|id| site.cards.iter().find(|c| c.id == id))
                .map(|c| benchcards_report::assess::comparison_json(&benchcards_assess::compare(t, c, &profile)));
            Json(json!({"profile": profile, "ranked": ranked, "gaps": registry::gaps(t, &site.cards, &profile), "comparison": comparison}))
                .into_response()
        }
    }
}

pub(crate) async fn profile_yaml(Query(q): Params) -> Response {
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

pub(crate) async fn card_yaml(Query(q): Params) -> Response {
    let c = card_from(&q);
    match c.document {
        Some(card) => {
            let disposition = format!("attachment; filename=\"{}.yaml\"", card.id());
            ([(header::CONTENT_TYPE, "application/yaml; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)], c.yaml)
                .into_response()
        }
        None => (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"errors": c.errors}))).into_response(),
    }
}

pub(crate) async fn runs(State(site): Shared) -> Json<Value> {
    Json(json!(blocking(move || runs_json(&site).0).await.unwrap_or_default()))
}
