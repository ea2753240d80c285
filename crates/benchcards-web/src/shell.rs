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

const NAV: &str = "<nav aria-label=\"Site\"><a href=\"/\">Registry</a> · <a href=\"/heatmap\">Heatmap</a> · <a href=\"/wizard\">Deployment wizard</a> · <a href=\"/cards/new\">New card</a> · <a href=\"/runs\">Runs</a> · <a href=\"/api\">JSON API</a></nav>\n";

/// The site's styles on top of the report's: the wizards' forms, and their two columns (the
/// form, and the result kept in view beside it) on screens at least 70rem wide.
const SITE_STYLE: &str = "main.wide{max-width:100rem}.wizard fieldset{min-width:0}.wizard fieldset.group{border:1px solid #c8c8c8;border-radius:4px;margin:0 0 1rem;padding:.3rem .9rem .6rem}.wizard legend{font-weight:600}.wizard .question{margin:.9rem 0;border:0;padding:0}.wizard fieldset.question legend{padding:0;font-weight:normal}.wizard .field{margin:.5rem 0}.wizard .field label{display:inline-block;min-width:11rem}.wizard .choice{display:inline-block;margin:.1rem .8rem .1rem 0;white-space:nowrap}.wizard .choice input[type=number]{width:5rem}.wizard input:not([type]),.wizard textarea{width:24rem}.wizard details{margin:.2rem 0}.wizard details summary{color:#333}.wizard details.evidence{border-left:3px solid #d0d0d0;padding-left:.6rem}#summary{font-weight:600;background:#eef4fb;border-left:4px solid #1f5fa8;padding:.5rem .8rem;margin-top:0}pre.yaml{font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}@media (min-width:70rem){.wizard{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.15fr);gap:2rem;align-items:start}#result{position:sticky;top:0;max-height:100vh;overflow-y:auto;padding-bottom:1rem}}";

/// A whole page: the navigation, then the body (already escaped).
pub(crate) fn page(title: &str, body: &str) -> Response {
    Html(shell(title, body)).into_response()
}

/// A page with room for two columns (the wizards).
pub(crate) fn wide_page(title: &str, body: &str) -> Response {
    Html(shell(title, body).replacen("<main>", "<main class=\"wide\">", 1)).into_response()
}

fn shell(title: &str, body: &str) -> String {
    html_page(title, &format!("<a class=\"skip\" href=\"#content\">Skip to content</a>\n{NAV}<div id=\"content\">\n{body}</div>\n"))
        .replacen("</head>", &format!("<style>{SITE_STYLE}</style>\n<script src=\"{WIZARD_JS_PATH}\" defer></script>\n</head>"), 1)
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
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
