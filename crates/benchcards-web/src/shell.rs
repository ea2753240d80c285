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

/// Where a page's links point: the server's absolute paths, or the files of a static copy
/// (`benchcards site build`), relative to a page `depth` folders below the copy's root, so the
/// folder works under any address.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Links {
    Server,
    Static { depth: usize },
}

impl Links {
    fn up(self) -> String {
        match self {
            Links::Server => String::new(),
            Links::Static { depth } => "../".repeat(depth),
        }
    }
    /// The path of a page: the server's route, or the static copy's file.
    fn to(self, route: &str, file: &str) -> String {
        match self {
            Links::Server => route.to_string(),
            Links::Static { .. } => format!("{}{file}", self.up()),
        }
    }
    pub(crate) fn registry(self) -> String {
        self.to("/", "index.html")
    }
    pub(crate) fn heatmap(self) -> String {
        self.to("/heatmap", "heatmap.html")
    }
    pub(crate) fn wizard(self) -> String {
        self.to("/wizard", "wizard.html")
    }
    pub(crate) fn card(self, id: &str) -> String {
        self.to(&format!("/cards/{}", url_encode(id)), &format!("cards/{}.html", url_encode(id)))
    }
    /// The card as JSON: the API's answer, or the copy's file beside the card's page.
    pub(crate) fn card_json(self, id: &str) -> String {
        self.to(&format!("/api/cards/{}", url_encode(id)), &format!("cards/{}.json", url_encode(id)))
    }
    /// What the scripts of a static copy read: the cards and the verdicts precomputed per answer.
    pub(crate) fn data(self) -> String {
        format!("{}{}", self.up(), crate::static_site::DATA_FILE)
    }
    fn script(self) -> String {
        self.to(WIZARD_JS_PATH, WIZARD_JS_PATH.trim_start_matches('/'))
    }
    /// The navigation: a static copy has no card wizard, runs or API (they need the server).
    fn nav(self) -> String {
        let mut links = vec![(self.registry(), "Registry"), (self.heatmap(), "Heatmap"), (self.wizard(), "Deployment wizard")];
        if self == Links::Server {
            links.extend([("/cards/new".to_string(), "New card"), ("/runs".into(), "Runs"), ("/api".into(), "JSON API")]);
        }
        let links: Vec<String> = links.iter().map(|(href, name)| format!("<a href=\"{}\">{name}</a>", escape_html(href))).collect();
        format!("<nav aria-label=\"Site\">{}</nav>\n", links.join(" · "))
    }
}

/// The Content-Security-Policy of every page: the server's header adds `frame-ancestors`, which
/// a `<meta>` policy (a static copy's) cannot carry.
macro_rules! policy {
    () => {
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'"
    };
}

/// The site's styles on top of the report's: the wizards' forms, and their two columns (the
/// form, and the result kept in view beside it) on screens at least 70rem wide.
const SITE_STYLE: &str = "main.wide{max-width:100rem}.wizard fieldset{min-width:0}.wizard fieldset.group{border:1px solid #c8c8c8;border-radius:4px;margin:0 0 1rem;padding:.3rem .9rem .6rem}.wizard legend{font-weight:600}.wizard .question{margin:.9rem 0;border:0;padding:0}.wizard fieldset.question legend{padding:0;font-weight:normal}.wizard .field{margin:.5rem 0}.wizard .field label{display:inline-block;min-width:11rem}.wizard .choice{display:inline-block;margin:.1rem .8rem .1rem 0;white-space:nowrap}.wizard .choice input[type=number]{width:5rem}.wizard input:not([type]),.wizard textarea{width:24rem}.wizard details{margin:.2rem 0}.wizard details summary{color:#333}.wizard details.evidence{border-left:3px solid #d0d0d0;padding-left:.6rem}#summary{font-weight:600;background:#eef4fb;border-left:4px solid #1f5fa8;padding:.5rem .8rem;margin-top:0}pre.yaml{font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}@media (min-width:70rem){.wizard{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.15fr);gap:2rem;align-items:start}#result{position:sticky;top:0;max-height:100vh;overflow-y:auto;padding-bottom:1rem}}";

/// A whole page of the server: the navigation, then the body (already escaped).
pub(crate) fn page(title: &str, body: &str) -> Response {
    Html(shell(title, body, Links::Server, false)).into_response()
}

/// A whole page with the navigation its links call for; `wide` gives room for two columns (the
/// wizards). A static copy's page carries the server's security headers that a page can carry
/// as `<meta>`: the policy (but `frame-ancestors`) and the referrer policy.
pub(crate) fn shell(title: &str, body: &str, links: Links, wide: bool) -> String {
    let meta = match links {
        Links::Server => String::new(),
        Links::Static { .. } => {
            format!(
                "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n<meta name=\"referrer\" content=\"no-referrer\">\n",
                policy!()
            )
        }
    };
    let html = html_page(
        title,
        &format!("<a class=\"skip\" href=\"#content\">Skip to content</a>\n{}<div id=\"content\">\n{body}</div>\n", links.nav()),
    )
    .replacen(
        "</head>",
        &format!("{meta}<style>{SITE_STYLE}</style>\n<script src=\"{}\" defer></script>\n</head>", escape_html(&links.script())),
        1,
    );
    if wide { html.replacen("<main>", "<main class=\"wide\">", 1) } else { html }
}

/// The headers every response carries, pages, JSON, YAML and script alike: nothing loads from
/// elsewhere, no other site may frame it, no type is guessed, no address leaks onward.
pub(crate) fn secure(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(concat!(policy!(), "; frame-ancestors 'none'")));
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
