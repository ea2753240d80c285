//! What every page shares: the shell (navigation, the wizard's script, security headers), the
//! error pages, and reading and writing query strings.

use crate::Site;
use crate::assets::WIZARD_JS_PATH;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use benchcards_report::{escape_html, html_page};
use std::sync::Arc;

pub(crate) type Shared = State<Arc<Site>>;
pub(crate) type Params = Query<Vec<(String, String)>>;

const NAV: &str = "<nav aria-label=\"Site\"><a href=\"/\">Registry</a> · <a href=\"/heatmap\">Heatmap</a> · <a href=\"/wizard\">Deployment wizard</a> · <a href=\"/runs\">Runs</a> · <a href=\"/api\">JSON API</a></nav>\n";

/// A whole page: the navigation, then the body (already escaped).
pub(crate) fn page(title: &str, body: &str) -> Response {
    let html =
        html_page(title, &format!("<a class=\"skip\" href=\"#content\">Skip to content</a>\n{NAV}<div id=\"content\">\n{body}</div>\n"))
            .replace("</head>", &format!("<script src=\"{WIZARD_JS_PATH}\" defer></script>\n</head>"));
    Html(html).into_response()
}

/// The headers every response carries, pages, JSON, YAML and script alike: nothing loads from
/// elsewhere, no other site may frame it, no type is guessed, no address leaks onward.
pub(crate) fn secure(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
}

pub(crate) fn not_found(what: &str) -> Response {
    let mut r = page("Not found", &format!("<h1>Not found</h1><p>{}</p>", escape_html(what)));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

pub(crate) fn refused(status: StatusCode, why: &str) -> Response {
    let mut r = page("Refused", &format!("<h1>Refused</h1><p>{}</p>", escape_html(why)));
    *r.status_mut() = status;
    r
}

/// The first non-empty value of a query parameter.
pub(crate) fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// Percent-encodes everything but the unreserved characters, for a path segment or a query.
pub(crate) fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
