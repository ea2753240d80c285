//! The participant's way through the study and the researcher's dashboard. Pages are rendered
//! on the server and work without JavaScript (forms, then a redirect to the page that follows:
//! POST-redirect-GET); every answer and chat message is committed before that redirect is sent,
//! so a participant who closes the tab, or meets a restarted server, resumes where they were.
//!
//! Security for a public page: the participant's cookie holds a keyed hash of the pre-consent
//! cookie's 32 random bytes (HttpOnly, SameSite=Strict; Secure behind TLS; a consent sent twice
//! finds the participant it enrolled) and the store only its hash; every form carries a CSRF
//! token (a keyed hash of the participant, or of a pre-consent cookie) compared in constant
//! time; per-participant limits on messages and their length and rate; the web UI's request
//! limits, `Host` check and security headers; everything from a participant, a model or the
//! plan escaped.

use crate::Study;
use crate::store::{Answer, Counter, Participant, Step, hmac_hex, now, random_hex, same, sha256_hex};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use benchcards_core::CheckQuestion;
use benchcards_eval::conditions::Message;
use benchcards_report::escape_html;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The researcher's token (from an environment variable).
    pub admin_token: String,
    /// Mark cookies `Secure` (behind a TLS reverse proxy).
    pub secure_cookies: bool,
    /// The web UI's request limits.
    pub limits: benchcards_web::Limits,
    /// One JSON line per request on standard error (a pilot runs without).
    pub log_requests: bool,
}

struct App {
    study: Study,
    options: Options,
    secret: String,
}

type Shared = State<Arc<App>>;
type Fields = Form<Vec<(String, String)>>;

const COOKIE: &str = "bcs";
const PRE: &str = "bcs_pre";
const ADMIN: &str = "bcs_admin";

/// The levels of care, in the dataset's order, as participants read them.
pub const LEVELS: [(&str, &str); 5] = [
    ("self_care", "Look after myself at home"),
    ("routine_gp", "Book a routine appointment with a GP"),
    ("urgent_primary_care", "Get urgent care today (a same-day GP, NHS 111 or an urgent care centre)"),
    ("a_and_e", "Go to A&E (accident and emergency)"),
    ("ambulance", "Call an ambulance (999)"),
];

const STYLE: &str = ".chat{border:1px solid #c8c8c8;border-radius:4px;padding:.5rem .8rem;margin:1rem 0}.msg{white-space:pre-wrap;overflow-wrap:anywhere;margin:.4rem 0}.msg.user{background:#eef4fb;padding:.3rem .6rem}.notice{background:#fff4e5;border-left:4px solid #a15c00;padding:.5rem .8rem}.scenario{background:#f4f4f4;padding:.6rem .9rem;border-left:4px solid #555}form textarea,form input[type=text]{width:100%;max-width:36rem;box-sizing:border-box}fieldset{min-width:0;margin:.8rem 0}label{display:inline-block;margin:.15rem 0}button{font-size:1rem;padding:.4rem 1rem;margin:.5rem 0}";

/// The study's router, behind the web UI's limits and security headers.
pub async fn router(study: Study, options: Options) -> Result<Router, String> {
    let secret = study.store.secret().await?;
    let (limits, log) = (options.limits.clone(), options.log_requests);
    let app = Arc::new(App { study, options, secret });
    let routes = Router::new()
        .route("/", get(entry))
        .route("/consent", post(consent))
        .route("/study", get(current))
        .route("/study.js", get(script))
        .route("/study/instructions", post(instructions_read))
        .route("/study/comprehension", post(comprehension))
        .route("/study/message", post(message))
        .route("/study/answer", post(answer))
        .route("/study/attention", post(attention))
        .route("/withdraw", get(withdraw_page).post(withdraw))
        .route("/admin", get(admin))
        .route("/admin/login", post(admin_login))
        .route("/health", get(health))
        .fallback(|| async { page_status(StatusCode::NOT_FOUND, "Not found", "<p>No page here.</p>") })
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(app);
    let routes = benchcards_web::guarded(routes, limits);
    Ok(if log { routes.layer(axum::middleware::from_fn(log_request)) } else { routes })
}

/// One JSON line on standard error per request: the time, method, route (the pattern, never the
/// address as sent: no query string, no participant text), status and milliseconds.
async fn log_request(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let route = req.extensions().get::<axum::extract::MatchedPath>().map_or("(none)", |m| m.as_str()).to_string();
    let r = next.run(req).await;
    let line = serde_json::json!({"time": now(), "method": method, "route": route, "status": r.status().as_u16(), "ms": started.elapsed().as_millis() as u64});
    eprintln!("{line}");
    r
}

/// For a load balancer: 200 when the store answers, else 503; nothing about anyone.
async fn health(State(app): Shared) -> Response {
    let (status, text) = match app.study.store.meta("schema").await {
        Ok(Some(_)) => (StatusCode::OK, "{\"status\":\"ok\"}"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "{\"status\":\"the study store does not answer\"}"),
    };
    let mut r = (status, text).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Serves the study on a bound listener until the process ends.
pub async fn serve_on(listener: tokio::net::TcpListener, study: Study, options: Options) -> std::io::Result<()> {
    let limits = options.limits.clone();
    let app = router(study, options).await.map_err(std::io::Error::other)?;
    benchcards_web::serve_router(listener, app, limits).await
}

fn page(title: &str, body: &str) -> Response {
    let mut r = Html(benchcards_report::html_page(title, &format!("<style>{STYLE}</style>\n{body}"))).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The chat's small same-origin script (the pages work without it).
async fn script() -> Response {
    let mut r = include_str!("assets/study.js").into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn page_status(status: StatusCode, title: &str, body: &str) -> Response {
    let mut r = page(title, &format!("<h1>{}</h1>\n{body}", escape_html(title)));
    *r.status_mut() = status;
    r
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(r: &mut Response, app: &App, name: &str, value: &str, max_age: Option<i64>) {
    let secure = if app.options.secure_cookies { "; Secure" } else { "" };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{age}")) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn field<'a>(f: &'a [(String, String)], key: &str) -> &'a str {
    f.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

fn csrf_for(app: &App, who: &str) -> String {
    hmac_hex(&app.secret, &format!("csrf:{who}"))
}

fn hidden_csrf(token: &str) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", escape_html(token))
}

fn forbidden() -> Response {
    page_status(
        StatusCode::FORBIDDEN,
        "This form has expired",
        "<p>The page was opened in another window or is out of date. <a href=\"/study\">Continue the study</a>.</p>",
    )
}

fn failure(e: String) -> Response {
    eprintln!("study: {e}");
    page_status(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "<p>Your answers so far are saved. Please try again in a moment.</p>",
    )
}

/// The participant whose cookie this is, and the hash of their token.
async fn participant(app: &App, headers: &HeaderMap) -> Result<Option<(Participant, String)>, String> {
    let Some(token) = cookie(headers, COOKIE) else { return Ok(None) };
    let hash = sha256_hex(token);
    Ok(app.study.store.by_token(&hash).await?.map(|p| (p, hash)))
}

/// The participant of a POST whose CSRF token is right, or the response to send instead.
async fn poster(app: &App, headers: &HeaderMap, f: &[(String, String)]) -> Result<(Participant, String), Box<Response>> {
    match participant(app, headers).await {
        Ok(Some((p, hash))) if same(field(f, "csrf"), &csrf_for(app, &hash)) => {
            if closed(app, &p) {
                return Err(Box::new(Redirect::to("/study").into_response()));
            }
            Ok((p, hash))
        }
        Ok(_) => Err(Box::new(forbidden())),
        Err(e) => Err(Box::new(failure(e))),
    }
}

fn closed(app: &App, p: &Participant) -> bool {
    p.step != Step::Done && now() - p.started > i64::from(app.study.design.time_limit_minutes) * 60
}

const WITHDRAW_LINK: &str = "<p class=\"meta\"><a href=\"/withdraw\">Stop and withdraw my answers</a></p>";

async fn entry(State(app): Shared, headers: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    match participant(&app, &headers).await {
        Ok(Some(_)) => return Redirect::to("/study").into_response(),
        Ok(None) => {}
        Err(e) => return failure(e),
    }
    let Ok(pre) = random_hex(32) else { return failure("no randomness".into()) };
    let d = &app.study.design;
    let mut hidden = hidden_csrf(&csrf_for(&app, &format!("pre:{pre}")));
    for name in &d.recruitment_ids {
        if let Some((_, v)) = q.iter().find(|(k, _)| k == name) {
            let v: String = v.chars().take(200).collect();
            hidden.push_str(&format!("<input type=\"hidden\" name=\"rid.{}\" value=\"{}\">", escape_html(name), escape_html(&v)));
        }
    }
    let body = format!(
        "<h1>Before you start</h1>\n<div class=\"consent\">{}</div>\n<form method=\"post\" action=\"/consent\">{hidden}<button type=\"submit\">I agree and want to take part</button></form>\n<p class=\"meta\">If you do not agree, close this page; nothing is stored.</p>\n<p class=\"meta\">Started already? <a href=\"/study\">Continue where you left off</a> (the link from the recruitment site opens this page first: your browser keeps your place only for pages this site opens).</p>",
        paragraphs(&d.consent)
    );
    let mut r = page("Consent", &body);
    set_cookie(&mut r, &app, PRE, &pre, None);
    r
}

fn paragraphs(text: &str) -> String {
    text.split("\n\n").map(|p| format!("<p>{}</p>", escape_html(p.trim()))).collect::<Vec<_>>().join("\n")
}

async fn consent(State(app): Shared, headers: HeaderMap, Form(f): Fields) -> Response {
    let Some(pre) = cookie(&headers, PRE) else { return forbidden() };
    if !same(field(&f, "csrf"), &csrf_for(&app, &format!("pre:{pre}"))) {
        return forbidden();
    }
    let d = &app.study.design;
    let mut recruitment = BTreeMap::new();
    for name in &d.recruitment_ids {
        let v = field(&f, &format!("rid.{name}"));
        if !v.is_empty() {
            let kept = if d.recruitment_ids_in_clear { v.to_string() } else { hmac_hex(&app.secret, &format!("rid:{v}")) };
            recruitment.insert(name.clone(), kept);
        }
    }
    // The participant's token follows from the pre-consent cookie, so a consent sent twice (a
    // double click, or a reply lost and the form sent again) finds the participant it enrolled
    // instead of enrolling another, who would hold an enrolment number and never finish.
    let token = hmac_hex(&app.secret, &format!("participant:{pre}"));
    let hash = sha256_hex(&token);
    let enrolled = match app.study.store.by_token(&hash).await {
        Ok(p) => p.is_some(),
        Err(e) => return failure(e),
    };
    if !enrolled && let Err(e) = app.study.store.enrol(&hash, &recruitment, |j| app.study.allocate(j)).await {
        // Sent twice at once: the other request enrolled this token (its hash is unique), and
        // this one's transaction, enrolment number included, was rolled back.
        if !matches!(app.study.store.by_token(&hash).await, Ok(Some(_))) {
            return failure(e);
        }
    }
    let mut r = Redirect::to("/study").into_response();
    set_cookie(&mut r, &app, COOKIE, &token, Some(7 * 24 * 3600));
    set_cookie(&mut r, &app, PRE, "", Some(0));
    // The completion page needs the recruitment ids in clear for the redirect; it reads them
    // from this cookie, which the store never sees.
    if let Some(url) = &d.completion.redirect {
        let ids: Vec<String> = d
            .recruitment_ids
            .iter()
            .filter(|n| url.contains(&format!("{{{n}}}")))
            .map(|n| format!("{n}:{}", hex_text(field(&f, &format!("rid.{n}")))))
            .collect();
        set_cookie(&mut r, &app, "bcs_rid", &ids.join("."), Some(7 * 24 * 3600));
    }
    r
}

fn hex_text(s: &str) -> String {
    crate::store::hex(s.as_bytes())
}

fn unhex(s: &str) -> String {
    let bytes: Vec<u8> = (0..s.len() / 2).filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn current(State(app): Shared, headers: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    let (p, hash) = match participant(&app, &headers).await {
        Ok(Some(x)) => x,
        Ok(None) => return Redirect::to("/").into_response(),
        Err(e) => return failure(e),
    };
    if closed(&app, &p) {
        return page_status(
            StatusCode::OK,
            "The study has closed for you",
            &format!(
                "<p>The time for this study has run out. Thank you for your time; your answers so far are kept unless you withdraw them.</p>{WITHDRAW_LINK}"
            ),
        );
    }
    let notice = q.iter().find(|(k, _)| k == "notice").map(|(_, v)| v.as_str());
    let csrf = hidden_csrf(&csrf_for(&app, &hash));
    let d = &app.study.design;
    let arm = d.arms.iter().find(|a| a.id == p.arm);
    let body = match p.step {
        Step::Instructions => {
            let again = if notice == Some("comprehension") {
                "<p class=\"notice\" role=\"status\">One of your answers was not right. Please read the instructions again.</p>"
            } else {
                ""
            };
            format!(
                "<h1>Instructions</h1>{again}\n{}\n{}\n<form method=\"post\" action=\"/study/instructions\">{csrf}<button type=\"submit\">Continue</button></form>",
                paragraphs(&d.instructions),
                arm.and_then(|a| a.instructions.as_deref()).map(paragraphs).unwrap_or_default()
            )
        }
        Step::Comprehension => checks_form("A few questions about the instructions", "/study/comprehension", &d.comprehension, &csrf),
        Step::Attention => checks_form("Almost done", "/study/attention", &d.attention, &csrf),
        Step::Scenario(i) => match scenario_page(&app, &p, i, &csrf, notice).await {
            Ok(b) => b,
            Err(e) => return failure(e),
        },
        Step::Done => done_page(&app, &headers),
    };
    page("Study", &format!("{body}\n{WITHDRAW_LINK}"))
}

fn checks_form(title: &str, action: &str, checks: &[CheckQuestion], csrf: &str) -> String {
    let mut out = format!("<h1>{}</h1>\n<form method=\"post\" action=\"{action}\">{csrf}", escape_html(title));
    for (i, c) in checks.iter().enumerate() {
        out.push_str(&format!("<fieldset><legend>{}</legend>", escape_html(&c.question)));
        for (j, o) in c.options.iter().enumerate() {
            out.push_str(&format!("<label><input type=\"radio\" name=\"q{i}\" value=\"{j}\" required> {}</label><br>", escape_html(o)));
        }
        out.push_str("</fieldset>");
    }
    out.push_str("<button type=\"submit\">Continue</button></form>");
    out
}

async fn scenario_page(app: &App, p: &Participant, i: usize, csrf: &str, notice: Option<&str>) -> Result<String, String> {
    let d = &app.study.design;
    let id = p.scenarios.get(i).ok_or("the participant's scenario is missing")?;
    let item = app.study.dataset.item(id).ok_or_else(|| format!("scenario {id} is not in the dataset"))?;
    let arm = d.arms.iter().find(|a| a.id == p.arm);
    let mut out = format!(
        "<h1>Scenario {} of {}</h1>\n<p>Imagine you are the person described here.</p>\n<div class=\"scenario\">{}</div>\n",
        i + 1,
        p.scenarios.len(),
        paragraphs(&item.vignette)
    );
    match notice {
        Some("model") => out.push_str("<p class=\"notice\" role=\"status\">The assistant could not answer just now. Please try again, or answer the questions below without it.</p>"),
        Some("limit") => out.push_str("<p class=\"notice\" role=\"status\">You have sent as many messages as this scenario allows, or too many too quickly. Please answer the questions below.</p>"),
        Some("missing") => out.push_str("<p class=\"notice\" role=\"status\">Please answer every question below.</p>"),
        _ => {}
    }
    if arm.is_some_and(|a| a.model.is_some()) {
        out.push_str("<section class=\"chat\" aria-label=\"Conversation with the assistant\"><h2>The assistant</h2>");
        for t in app.study.store.turns(&p.id, id).await? {
            let who = if t.role == "user" { "You" } else { "Assistant" };
            out.push_str(&format!("<div class=\"msg {}\"><strong>{who}:</strong> {}</div>", escape_html(&t.role), escape_html(&t.text)));
        }
        out.push_str(&format!(
            "<form method=\"post\" action=\"/study/message\">{csrf}<label for=\"text\">Your message</label><br><textarea id=\"text\" name=\"text\" rows=\"3\" maxlength=\"{}\" required></textarea><br><button type=\"submit\">Send</button></form><p id=\"chat-status\" class=\"meta\" role=\"status\"></p></section>\n<script src=\"/study.js\" defer></script>\n",
            d.limits.message_chars
        ));
    } else if let Some(text) = arm.and_then(|a| a.instructions.as_deref()) {
        out.push_str(&format!("<div class=\"notice\">{}</div>\n", paragraphs(text)));
    }
    out.push_str(&format!("<h2>Your answers</h2>\n<form method=\"post\" action=\"/study/answer\">{csrf}"));
    if arm.is_none_or(|a| a.model.is_none()) {
        out.push_str("<p><label for=\"sources\">Where did you look, if anywhere?</label><br><textarea id=\"sources\" name=\"sources\" rows=\"2\" maxlength=\"2000\"></textarea></p>");
    }
    for k in 0..d.questions.conditions {
        let label = if k == 0 { "The condition you think most likely" } else { "Another condition you think likely (optional)" };
        let req = if k == 0 { " required" } else { "" };
        out.push_str(&format!(
            "<p><label for=\"c{k}\">{label}</label><br><input type=\"text\" id=\"c{k}\" name=\"c{k}\" maxlength=\"200\"{req}></p>"
        ));
    }
    if d.questions.disposition {
        out.push_str("<fieldset><legend>What would you do next?</legend>");
        for (id, label) in LEVELS {
            out.push_str(&format!(
                "<label><input type=\"radio\" name=\"disposition\" value=\"{id}\" required> {}</label><br>",
                escape_html(label)
            ));
        }
        out.push_str("</fieldset>");
    }
    if d.questions.confidence {
        out.push_str("<fieldset><legend>How sure are you? (1 not at all, 5 very)</legend>");
        for k in 1..=5 {
            out.push_str(&format!("<label><input type=\"radio\" name=\"confidence\" value=\"{k}\" required> {k}</label> "));
        }
        out.push_str("</fieldset>");
    }
    out.push_str("<button type=\"submit\">Submit my answers</button></form>");
    Ok(out)
}

fn done_page(app: &App, headers: &HeaderMap) -> String {
    let c = &app.study.design.completion;
    let mut out = format!(
        "<h1>Thank you</h1>\n<p>You have finished the study. Your completion code is <strong>{}</strong>.</p>",
        escape_html(&c.code)
    );
    if let Some(url) = &c.redirect {
        let mut link = url.replace("{code}", &benchcards_web::url_encode(&c.code));
        for pair in cookie(headers, "bcs_rid").unwrap_or("").split('.') {
            if let Some((name, value)) = pair.split_once(':') {
                link = link.replace(&format!("{{{name}}}"), &benchcards_web::url_encode(&unhex(value)));
            }
        }
        out.push_str(&format!("<p><a href=\"{}\">Return to the study's website</a></p>", escape_html(&link)));
    }
    out
}

fn next_after_scenarios(app: &App) -> Step {
    if app.study.design.attention.is_empty() { Step::Done } else { Step::Attention }
}

async fn instructions_read(State(app): Shared, headers: HeaderMap, Form(f): Fields) -> Response {
    let (p, _) = match poster(&app, &headers, &f).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if p.step == Step::Instructions {
        let next = if app.study.design.comprehension.is_empty() { Step::Scenario(0) } else { Step::Comprehension };
        if let Err(e) = app.study.store.set_step(&p.id, next).await {
            return failure(e);
        }
    }
    Redirect::to("/study").into_response()
}

fn all_right(checks: &[CheckQuestion], f: &[(String, String)]) -> bool {
    checks.iter().enumerate().all(|(i, c)| field(f, &format!("q{i}")).parse::<usize>().ok() == Some(c.answer))
}

async fn comprehension(State(app): Shared, headers: HeaderMap, Form(f): Fields) -> Response {
    let (p, _) = match poster(&app, &headers, &f).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if p.step != Step::Comprehension {
        return Redirect::to("/study").into_response();
    }
    let store = &app.study.store;
    let result = if all_right(&app.study.design.comprehension, &f) {
        store.set_step(&p.id, Step::Scenario(0)).await.map(|_| "/study")
    } else {
        match store.count(&p.id, Counter::Comprehension).await {
            Ok(()) => store.set_step(&p.id, Step::Instructions).await.map(|_| "/study?notice=comprehension"),
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(to) => Redirect::to(to).into_response(),
        Err(e) => failure(e),
    }
}

async fn attention(State(app): Shared, headers: HeaderMap, Form(f): Fields) -> Response {
    let (p, _) = match poster(&app, &headers, &f).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    if p.step != Step::Attention {
        return Redirect::to("/study").into_response();
    }
    let store = &app.study.store;
    let mut result = Ok(());
    if !all_right(&app.study.design.attention, &f) {
        result = match store.count(&p.id, Counter::Attention).await {
            Ok(()) => store.event(Some(&p.id), "attention_failed", "").await,
            Err(e) => Err(e),
        };
    }
    if result.is_ok() {
        result = store.set_step(&p.id, Step::Done).await;
    }
    match result {
        Ok(()) => Redirect::to("/study").into_response(),
        Err(e) => failure(e),
    }
}

async fn message(State(app): Shared, headers: HeaderMap, Form(f): Fields) -> Response {
    let (p, _) = match poster(&app, &headers, &f).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Step::Scenario(i) = p.step else { return Redirect::to("/study").into_response() };
    let (Some(scenario), Some(client)) = (p.scenarios.get(i), app.study.clients.get(&p.arm)) else {
        return Redirect::to("/study").into_response();
    };
    let text = field(&f, "text").trim();
    let limits = &app.study.design.limits;
    if text.is_empty() {
        return Redirect::to("/study").into_response();
    }
    if text.chars().count() > limits.message_chars as usize {
        return page_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Your message is too long",
            &format!("<p>Messages may be up to {} characters. <a href=\"/study\">Go back</a>.</p>", limits.message_chars),
        );
    }
    let store = &app.study.store;
    let turns = match store.turns(&p.id, scenario).await {
        Ok(t) => t,
        Err(e) => return failure(e),
    };
    let sent = turns.iter().filter(|t| t.role == "user").count();
    match store.messages_since(&p.id, now() - 60).await {
        Ok(recent) if sent < limits.messages_per_scenario as usize && recent < limits.requests_per_minute as usize => {}
        Ok(_) => return Redirect::to("/study?notice=limit").into_response(),
        Err(e) => return failure(e),
    }
    if let Err(e) = store.add_turn(&p.id, scenario, "user", text).await {
        return failure(e);
    }
    let arm = app.study.design.arms.iter().find(|a| a.id == p.arm);
    let mut messages = Vec::new();
    if let Some(sp) = arm.and_then(|a| a.system_prompt.as_deref()) {
        messages.push(Message::new("system", sp));
    }
    messages.extend(turns.iter().map(|t| Message::new(&t.role, t.text.clone())));
    messages.push(Message::new("user", text));
    let sampling = app
        .study
        .plan
        .models
        .iter()
        .find(|m| Some(&m.id) == arm.and_then(|a| a.model.as_ref()))
        .map(|m| m.sampling.clone())
        .unwrap_or_default();
    let mut last = String::new();
    for attempt in 0..3u64 {
        match client.complete(&messages, &sampling).await {
            Ok(c) => {
                return match store.add_turn(&p.id, scenario, "assistant", &c.text).await {
                    Ok(_) => Redirect::to("/study#text").into_response(),
                    Err(e) => failure(e),
                };
            }
            Err(e) => {
                last = e.reason;
                if !e.retryable {
                    break;
                }
                let wait = e.retry_after.map_or(0.3 * (attempt + 1) as f64, |s| s.min(5.0));
                tokio::time::sleep(std::time::Duration::from_secs_f64(wait)).await;
            }
        }
    }
    match store.event(Some(&p.id), "model_failure", &last).await {
        Ok(()) => Redirect::to("/study?notice=model").into_response(),
        Err(e) => failure(e),
    }
}

async fn answer(State(app): Shared, headers: HeaderMap, Form(f): Fields) -> Response {
    let (p, _) = match poster(&app, &headers, &f).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Step::Scenario(i) = p.step else { return Redirect::to("/study").into_response() };
    let Some(scenario) = p.scenarios.get(i) else { return Redirect::to("/study").into_response() };
    let d = &app.study.design;
    let conditions: Vec<String> = (0..d.questions.conditions)
        .map(|k| field(&f, &format!("c{k}")).trim().chars().take(200).collect::<String>())
        .filter(|c| !c.is_empty())
        .collect();
    let disposition = Some(field(&f, "disposition")).filter(|v| LEVELS.iter().any(|(id, _)| id == v)).map(str::to_string);
    let confidence = field(&f, "confidence").parse::<u8>().ok().filter(|c| (1..=5).contains(c));
    if conditions.is_empty() || (d.questions.disposition && disposition.is_none()) || (d.questions.confidence && confidence.is_none()) {
        return Redirect::to("/study?notice=missing").into_response();
    }
    let sources = Some(field(&f, "sources").trim().chars().take(2000).collect::<String>()).filter(|s| !s.is_empty());
    let next = if i + 1 < p.scenarios.len() { Step::Scenario(i + 1) } else { next_after_scenarios(&app) };
    let a = Answer {
        participant: p.id.clone(),
        arm: p.arm.clone(),
        scenario: scenario.clone(),
        conditions,
        disposition,
        confidence,
        sources,
        started: p.started,
        submitted: now(),
    };
    match app.study.store.answer(&a, next).await {
        Ok(()) => Redirect::to("/study").into_response(),
        Err(e) => failure(e),
    }
}

async fn withdraw_page(State(app): Shared, headers: HeaderMap) -> Response {
    match participant(&app, &headers).await {
        Ok(Some((_, hash))) => page(
            "Withdraw",
            &format!(
                "<h1>Withdraw from the study</h1><p>This deletes every answer and message you gave. It cannot be undone.</p><form method=\"post\" action=\"/withdraw\">{}<button type=\"submit\">Delete my answers and leave</button></form><p><a href=\"/study\">Go back to the study</a></p>",
                hidden_csrf(&csrf_for(&app, &hash))
            ),
        ),
        Ok(None) => page("Withdraw", "<h1>Nothing to withdraw</h1><p>This browser holds no answers to this study.</p>"),
        Err(e) => failure(e),
    }
}

async fn withdraw(State(app): Shared, headers: HeaderMap, Form(f): Fields) -> Response {
    let (p, hash) = match participant(&app, &headers).await {
        Ok(Some(x)) => x,
        Ok(None) => return forbidden(),
        Err(e) => return failure(e),
    };
    if !same(field(&f, "csrf"), &csrf_for(&app, &hash)) {
        return forbidden();
    }
    if let Err(e) = app.study.store.withdraw(&p.id).await {
        return failure(e);
    }
    let mut r = page("Withdrawn", "<h1>Your answers are deleted</h1><p>Thank you for your time. You may close this page.</p>");
    set_cookie(&mut r, &app, COOKIE, "", Some(0));
    r
}

/// Whether the request carries the researcher's token (as a bearer token or the admin cookie).
fn is_admin(app: &App, headers: &HeaderMap) -> bool {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    bearer.is_some_and(|t| same(t, &app.options.admin_token))
        || cookie(headers, ADMIN).is_some_and(|c| same(c, &hmac_hex(&app.secret, &format!("admin:{}", app.options.admin_token))))
}

fn login_form(status: StatusCode, why: &str) -> Response {
    page_status(
        status,
        "Researcher's dashboard",
        &format!(
            "<p>{}</p><form method=\"post\" action=\"/admin/login\"><label for=\"token\">Admin token</label><br><input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\"><br><button type=\"submit\">Sign in</button></form>",
            escape_html(why)
        ),
    )
}

async fn admin(State(app): Shared, headers: HeaderMap) -> Response {
    if !is_admin(&app, &headers) {
        return login_form(StatusCode::UNAUTHORIZED, "Sign in with the token the server was started with.");
    }
    match crate::records::dashboard(&app.study).await {
        Ok(body) => page("Dashboard", &body),
        Err(e) => failure(e),
    }
}

async fn admin_login(State(app): Shared, Form(f): Fields) -> Response {
    if !same(field(&f, "token"), &app.options.admin_token) {
        return login_form(StatusCode::UNAUTHORIZED, "That token is not right.");
    }
    let mut r = Redirect::to("/admin").into_response();
    set_cookie(&mut r, &app, ADMIN, &hmac_hex(&app.secret, &format!("admin:{}", app.options.admin_token)), Some(12 * 3600));
    r
}
