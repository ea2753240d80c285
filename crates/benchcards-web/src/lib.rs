//! benchcards-web: the local web UI on axum. The registry (filtered by dimension values), its
//! heatmap, card pages, a deployment wizard and a card wizard whose questions come from the
//! taxonomy (each in its own wording), the runs in a folder of run stores, and a JSON API behind
//! every page (`/api/...`). Pages read without JavaScript; one small script makes the wizards
//! update as they are filled in. Nothing is stored: the wizards' files are downloads. Everything taken
//! from a card, profile or run is escaped; nothing is loaded from elsewhere; every request is a
//! read (no GET changes anything) and names things by id, never by path.
//!
//! This file holds the router, the request limits and the server; `pages` the registry and run
//! pages, `wizard` the deployment wizard and what the wizards share, `card_wizard` the card
//! wizard (`/cards/new`), `api` the JSON endpoints, `assets` the wizards' script, `shell` what
//! every page shares, `static_site` the read-only pages as static files (`benchcards site build`).

mod api;
mod assets;
mod card_wizard;
mod idle;
mod pages;
mod shell;
mod static_site;
pub mod view;
mod wizard;

pub use shell::url_encode;
#[cfg(feature = "clap")]
pub use static_site::{SiteBuildArgs, SiteCommand, site_command};
pub use static_site::{build as build_site, pages as site_pages};
pub use wizard::profile_from;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use benchcards_core::Card;
use shell::{not_found, refused};
use std::path::PathBuf;
use std::sync::Arc;

/// What the site serves: the registry's cards, and optionally a folder of run stores.
pub struct Site {
    pub cards: Vec<Card>,
    pub runs: Option<PathBuf>,
}

/// What one request may ask of the server, and what the server holds open.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest request target (path and query): room for the card wizard's answers with an
    /// answer, a source and a quote for every dimension (the deployment wizard's are under 3 KiB).
    pub max_target: usize,
    /// Largest body a request may announce (every route is a GET and reads none).
    pub max_body: u64,
    /// Longest time a response may take.
    pub time: std::time::Duration,
    /// The port served, which a request's `Host` must name (`None`: any port, for tests).
    pub port: Option<u16>,
    /// A connection that moves no byte for this long is closed.
    pub idle: std::time::Duration,
    /// A request's headers must all arrive within this time from its first byte.
    pub headers_within: std::time::Duration,
    /// At most this many connections are open at once; more wait to be accepted.
    pub max_connections: usize,
    /// Host names answered besides `localhost` and address literals (`--allowed-host`).
    pub allowed_hosts: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_target: 32 * 1024,
            max_body: 64 * 1024,
            time: std::time::Duration::from_secs(10),
            port: None,
            idle: std::time::Duration::from_secs(30),
            headers_within: std::time::Duration::from_secs(10),
            max_connections: 1024,
            allowed_hosts: Vec::new(),
        }
    }
}

/// Whether a request's `Host` names this server: `localhost`, an address literal or an allowed
/// name, with the port served. Any other name is refused, so a page elsewhere cannot point its
/// own name at this machine (DNS rebinding) and read the registry and runs through the browser.
fn host_allowed(host: Option<&str>, port: Option<u16>, allowed: &[String]) -> bool {
    let Some(host) = host else { return false };
    let (name, given_port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.is_empty() && !p.contains(']') => (n, p.parse::<u16>().ok()),
        _ => (host, Some(80)),
    };
    let literal = name.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok();
    // A name allowed on purpose is answered on any port: a TLS reverse proxy in front forwards
    // `Host: name` (port 443) to the port served here.
    allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
        || ((literal || name.eq_ignore_ascii_case("localhost")) && port.is_none_or(|p| given_port == Some(p)))
}

/// Refuses requests over the limits, or for another host, before they reach a page; stops a
/// page that takes too long; and gives every response the security headers.
async fn enforce(State(limits): State<Limits>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut r = check(&limits, req, next).await;
    shell::secure(&mut r);
    r
}

async fn check(limits: &Limits, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    if !host_allowed(host, limits.port, &limits.allowed_hosts) {
        return refused(StatusCode::MISDIRECTED_REQUEST, "This server answers only requests addressed to it by address or as localhost.");
    }
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

/// A router behind the site's request limits, `Host` check and security headers (the study
/// server's pages use them too).
pub fn guarded(app: Router, limits: Limits) -> Router {
    app.layer(axum::middleware::from_fn_with_state(limits, enforce))
}

/// Serves a router on a bound listener with the site's connection bounds (connections idle past
/// `idle` close; at most `max_connections` open) until SIGTERM or Ctrl-C, then stops accepting
/// and finishes the requests in flight before returning.
pub async fn serve_router(listener: tokio::net::TcpListener, app: Router, limits: Limits) -> std::io::Result<()> {
    let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    axum::serve(idle::IdleListener { listener, idle: limits.idle, headers_within: limits.headers_within, open }, app)
        .with_graceful_shutdown(stop_signal())
        .await
}

/// SIGTERM (a service manager stopping the server) or Ctrl-C.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    eprintln!("stopping: no new connections; finishing the requests in flight");
}

/// The router of the whole site, with the request limits.
pub fn router(site: Site, limits: Limits) -> Router {
    let routes = Router::new()
        .route("/", get(pages::registry))
        .route("/heatmap", get(pages::heatmap))
        .route("/cards/{id}", get(pages::card))
        .route("/wizard", get(wizard::form))
        .route("/wizard/result", get(wizard::result_only))
        .route("/cards/new", get(card_wizard::form))
        .route("/cards/new/result", get(card_wizard::result_only))
        .route("/runs", get(pages::runs))
        .route("/runs/{store}/{run}", get(pages::run))
        .route(assets::WIZARD_JS_PATH, get(assets::wizard_js))
        .route("/api", get(api::index))
        .route("/api/taxonomy", get(api::taxonomy))
        .route("/api/cards", get(api::cards))
        .route("/api/cards/{id}", get(api::card))
        .route("/api/overview", get(api::overview))
        .route("/api/assess", get(api::assess))
        .route("/api/profile.yaml", get(api::profile_yaml))
        .route("/api/card.yaml", get(api::card_yaml))
        .route("/api/runs", get(api::runs))
        .fallback(|| async { not_found("No page here.") })
        .with_state(Arc::new(site));
    guarded(routes, limits)
}

/// `benchcards serve`'s flags.
#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on (default 127.0.0.1). Any other address exposes the UI beyond
    /// this machine.
    #[arg(long)]
    pub host: Option<std::net::IpAddr>,
    /// Folder of cards (default: the bundled registry).
    #[arg(long)]
    pub registry: Option<PathBuf>,
    /// Folder of run stores (`*.sqlite`) to browse.
    #[arg(long)]
    pub runs: Option<PathBuf>,
    /// A host name the UI is reached by, besides localhost and addresses (repeatable); requests
    /// naming any other host are refused.
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,
}

/// `benchcards serve` on these cards: serves until the process ends, or says why it cannot.
#[cfg(feature = "clap")]
pub fn serve_command(a: &ServeArgs, cards: Vec<Card>) -> Result<String, String> {
    let host = a.host.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    serve(Site { cards, runs: a.runs.clone() }, std::net::SocketAddr::new(host, a.port), a.allowed_hosts.clone()).map_err(|e| {
        format!(
            "cannot serve on {host}:{}: {e}; another program may hold that port: pick another with --port (0 takes any free one)",
            a.port
        )
    })?;
    Ok(String::new())
}

/// Serves the site until the process ends, on its own runtime, answering `localhost`, address
/// literals and the `allowed_hosts` names. Listening beyond loopback is said first, with what
/// it exposes.
pub fn serve(site: Site, addr: std::net::SocketAddr, allowed_hosts: Vec<String>) -> std::io::Result<()> {
    if !addr.ip().is_loopback() {
        let runs = site.runs.as_deref().map_or("(no runs folder)".into(), |p| p.display().to_string());
        eprintln!("warning: listening on {}: anyone who can reach this machine can read the registry and the runs in {runs}", addr.ip());
    }
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        eprintln!("benchcards serve: http://{bound}/");
        serve_on(listener, site, Limits { port: Some(bound.port()), allowed_hosts, ..Limits::default() }).await
    })
}

/// Serves the site on a bound listener with these limits (connections idle past `idle` close).
pub async fn serve_on(listener: tokio::net::TcpListener, site: Site, limits: Limits) -> std::io::Result<()> {
    serve_router(listener, router(site, limits.clone()), limits).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_server_by_address_or_localhost_is_answered() {
        for host in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST:8080", "[::1]:8080", "192.168.1.7:8080"] {
            assert!(host_allowed(Some(host), Some(8080), &[]), "{host}");
        }
        for host in ["evil.example:8080", "evil.example", "127.0.0.1.nip.io:8080", "127.0.0.1:9999", "localhost", ""] {
            assert!(!host_allowed(Some(host), Some(8080), &[]), "{host}");
        }
        assert!(!host_allowed(None, Some(8080), &[]));
        // A name served on purpose (`--allowed-host`).
        let allowed = ["bench.example.org".to_string()];
        assert!(host_allowed(Some("bench.example.org:8080"), Some(8080), &allowed));
        assert!(host_allowed(Some("bench.example.org"), Some(8080), &allowed), "behind a proxy, on its port");
        assert!(!host_allowed(Some("evil.example:8080"), Some(8080), &allowed));
    }

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
