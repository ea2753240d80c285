//! A mock OpenAI-compatible server on 127.0.0.1: `POST /v1/chat/completions` answers after a
//! configurable latency with a configurable text (or an echo of the last user message), and can
//! inject failures (status codes, with or without Retry-After) for a share of requests. It counts
//! requests, so tests can check that nothing was sent twice.

use axum::extract::State;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::{IncomingStream, Listener};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// What the server answers.
#[derive(Debug, Clone)]
pub struct MockConfig {
    pub latency: Duration,
    /// Fixed reply text, where `{n}` stands for the request's number (so replies can differ);
    /// `None` echoes the last user message prefixed with "echo: ".
    pub reply: Option<String>,
    /// Replies chosen by the request: the first `(needles, reply)` whose needles all appear in
    /// the request's messages gives the reply (before `reply`), so one server can stand for a
    /// judge that answers each question its own way, or a simulated patient that keeps its
    /// persona.
    pub replies: Vec<(Vec<String>, String)>,
    /// Every n-th request (1-based) meets `fault` (0: never).
    pub fail_every: u64,
    pub fault: Fault,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            latency: Duration::ZERO,
            reply: None,
            replies: Vec::new(),
            fail_every: 0,
            fault: Fault::Status { code: 500, retry_after: None },
        }
    }
}

/// A failure the server injects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// An error status, with a Retry-After header (seconds) when given.
    Status { code: u16, retry_after: Option<u64> },
    /// A 200 whose body is not JSON.
    Malformed,
    /// A 200 with no `choices`.
    EmptyChoices,
    /// The connection closes mid-reply: a 200 announcing more bytes than it sends (the client
    /// may see part of the body or none, depending on what left before the close).
    Truncated,
    /// No reply for an hour (clients time out).
    Hang,
    /// The connection is reset (a TCP RST) before any byte of the reply.
    Reset,
    /// A 200 whose chunked body never ends (the mock stops after 1 GiB).
    Endless,
    /// A well-formed reply whose answer is 8 MB long.
    Huge,
    /// A reply whose answer is not valid UTF-8.
    BadUtf8,
    /// Empty content, `finish_reason: content_filter`.
    Filtered,
    /// `content: null`.
    NullContent,
    /// A redirect with this status to the same path; a GET there is answered, so a client that
    /// follows it (turning the POST into a GET) gets a reply to a request it never made.
    Redirect(u16),
}

impl std::str::FromStr for Fault {
    type Err = String;
    /// `500`, `429:2` (with Retry-After: 2), `malformed`, `empty`, `truncated`, `hang`, `reset`,
    /// `endless`, `huge`, `bad-utf8`, `filtered`, `null`, `redirect:307`.
    fn from_str(s: &str) -> Result<Fault, String> {
        Ok(match s {
            "malformed" => Fault::Malformed,
            "empty" => Fault::EmptyChoices,
            "truncated" => Fault::Truncated,
            "hang" => Fault::Hang,
            "reset" => Fault::Reset,
            "endless" => Fault::Endless,
            "huge" => Fault::Huge,
            "bad-utf8" => Fault::BadUtf8,
            "filtered" => Fault::Filtered,
            "null" => Fault::NullContent,
            _ if s.starts_with("redirect:") => {
                Fault::Redirect(s[9..].parse().map_err(|_| format!("`{s}`: redirect:STATUS, e.g. redirect:307"))?)
            }
            _ => {
                let (code, after) = s.split_once(':').map_or((s, None), |(c, a)| (c, Some(a)));
                let bad = || {
                    format!(
                        "`{s}` is not a fault: use a status (500, 429:2 with Retry-After 2), malformed, empty, truncated, hang, reset, endless, huge, bad-utf8, filtered, null or redirect:STATUS"
                    )
                };
                let code = code.parse().map_err(|_| bad())?;
                let retry_after = after.map(|a| a.parse().map_err(|_| bad())).transpose()?;
                Fault::Status { code, retry_after }
            }
        })
    }
}

#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub failures: AtomicU64,
    /// The first 10,000 request bodies, so tests can check what was sent.
    pub bodies: std::sync::Mutex<Vec<Value>>,
    /// When the first request arrived and the last reply was ready.
    span: std::sync::Mutex<Option<(Instant, Instant)>>,
}

impl Counters {
    fn saw(&self, at: Instant) {
        if let Ok(mut s) = self.span.lock() {
            let (first, last) = s.get_or_insert((at, at));
            *first = (*first).min(at);
            *last = (*last).max(at);
        }
    }
}

struct AppState {
    config: MockConfig,
    counters: Arc<Counters>,
}

/// A running mock server; it stops when dropped.
pub struct MockServer {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl MockServer {
    /// The base URL to put in a plan (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::SeqCst)
    }
    /// Time from the first request's arrival to the last reply (zero before any request).
    pub fn busy(&self) -> Duration {
        self.counters.span.lock().ok().and_then(|s| s.map(|(first, last)| last - first)).unwrap_or_default()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the server on 127.0.0.1 (port 0 picks a free port) inside the current Tokio runtime.
pub async fn start(config: MockConfig, port: u16) -> std::io::Result<MockServer> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let counters = Arc::new(Counters::default());
    let state = Arc::new(AppState { config, counters: counters.clone() });
    let app = Router::new().route("/v1/chat/completions", post(chat).get(redirected)).with_state(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(Resettable(listener), app.into_make_service_with_connect_info::<ResetHandle>())
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(MockServer { addr, counters, shutdown: Some(tx) })
}

/// Accepts connections a handler can reset.
struct Resettable(TcpListener);

impl Listener for Resettable {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((tcp, addr)) => {
                    // Replies go out as soon as they are written (no Nagle delay), as a
                    // production server's do.
                    let _ = tcp.set_nodelay(true);
                    return (Conn { tcp, reset: ResetHandle::default() }, addr);
                }
                // Out of file descriptors, say: wait, then accept again.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// A handler's way to reset the connection its request came on.
#[derive(Clone, Default)]
struct ResetHandle(Arc<AtomicBool>);

impl Connected<IncomingStream<'_, Resettable>> for ResetHandle {
    fn connect_info(stream: IncomingStream<'_, Resettable>) -> Self {
        stream.io().reset.clone()
    }
}

/// A connection that, once its handle is set, fails its next read or write after setting
/// SO_LINGER to zero: the server then drops it, and the kernel sends a RST instead of a FIN.
struct Conn {
    tcp: TcpStream,
    reset: ResetHandle,
}

impl Conn {
    fn check(&self) -> io::Result<()> {
        if self.reset.0.load(Ordering::SeqCst) {
            let _ = self.tcp.set_zero_linger();
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        Ok(())
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

async fn chat(
    State(state): State<Arc<AppState>>,
    ConnectInfo(conn): ConnectInfo<ResetHandle>,
    request_headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let n = state.counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
    state.counters.saw(Instant::now());
    if let Ok(mut b) = state.counters.bodies.lock()
        && b.len() < 10_000
    {
        b.push(body.clone());
    }
    let c = &state.config;
    if !c.latency.is_zero() {
        tokio::time::sleep(c.latency).await;
    }
    state.counters.saw(Instant::now());
    if c.fail_every > 0 && n % c.fail_every == 0 {
        state.counters.failures.fetch_add(1, Ordering::SeqCst);
        let auth = request_headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("none");
        return fault(c.fault, auth, &conn).await;
    }
    let messages = body.get("messages").and_then(Value::as_array).cloned().unwrap_or_default();
    let last_user = messages.iter().rev().find(|m| m["role"] == "user").and_then(|m| m["content"].as_str()).unwrap_or("");
    let all: String = messages.iter().filter_map(|m| m["content"].as_str()).collect::<Vec<_>>().join("\n");
    let chosen = c.replies.iter().find(|(needles, _)| needles.iter().all(|n| all.contains(n.as_str()))).map(|(_, r)| r);
    let chosen = chosen.or(c.reply.as_ref());
    let text = chosen.map_or_else(|| format!("echo: {last_user}"), |r| r.replace("{n}", &n.to_string()));
    let prompt_tokens: usize = messages.iter().filter_map(|m| m["content"].as_str()).map(|s| s.split_whitespace().count()).sum();
    let completion_tokens = text.split_whitespace().count();
    completion(&text, prompt_tokens, completion_tokens)
}

/// What a client that followed a redirect gets: an answer to a question it never sent.
async fn redirected() -> Response {
    completion("an answer to a GET", 0, 4)
}

fn completion(content: &str, prompt_tokens: usize, completion_tokens: usize) -> Response {
    Json(json!({
        "id": "mock",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
    }))
    .into_response()
}

/// An injected failure. Like some real servers, error bodies repeat the credentials they were sent.
async fn fault(f: Fault, auth: &str, conn: &ResetHandle) -> Response {
    match f {
        Fault::Status { code, retry_after } => {
            let mut headers = HeaderMap::new();
            if let Some(s) = retry_after {
                headers.insert("retry-after", HeaderValue::from(s));
            }
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = format!("injected failure; the request's authorization was {auth}");
            (status, headers, Json(json!({"error": {"message": message, "type": "mock"}}))).into_response()
        }
        Fault::Malformed => ([("content-type", "application/json")], "{\"choices\": [{\"message\": ").into_response(),
        Fault::EmptyChoices => Json(json!({"id": "mock", "object": "chat.completion", "choices": []})).into_response(),
        Fault::Truncated => {
            let whole = json!({"choices": [{"message": {"role": "assistant", "content": "this reply never arrives whole"}}]}).to_string();
            let part = axum::body::Bytes::from(whole[..20].to_string());
            let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> =
                vec![Ok(part), Err(std::io::Error::other("the mock drops the connection"))];
            let mut r = Response::new(axum::body::Body::from_stream(futures_util::stream::iter(chunks)));
            r.headers_mut().insert("content-length", HeaderValue::from(whole.len()));
            r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
            r
        }
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Fault::Reset => {
            conn.0.store(true, Ordering::SeqCst);
            // Never written: the connection fails its first write.
            StatusCode::OK.into_response()
        }
        Fault::Endless => {
            let head = axum::body::Bytes::from_static(b"{\"choices\": [{\"message\": {\"role\": \"assistant\", \"content\": \"");
            let chunk = axum::body::Bytes::from(vec![b'a'; 64 * 1024]);
            let body =
                futures_util::stream::iter(std::iter::once(head).chain(std::iter::repeat_n(chunk, 16 * 1024)).map(Ok::<_, std::io::Error>));
            ([("content-type", "application/json")], axum::body::Body::from_stream(body)).into_response()
        }
        Fault::Huge => completion(&"word ".repeat(8_000_000 / 5), 1, 1_600_000),
        Fault::BadUtf8 => {
            let mut body = br#"{"choices": [{"message": {"role": "assistant", "content": "caf"#.to_vec();
            body.extend_from_slice(b"\xe9 au lait\"}, \"finish_reason\": \"stop\"}]}");
            ([("content-type", "application/json")], body).into_response()
        }
        Fault::Filtered => {
            Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "content_filter"}]}))
                .into_response()
        }
        Fault::NullContent => {
            Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": null}, "finish_reason": "stop"}]}))
                .into_response()
        }
        Fault::Redirect(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::FOUND);
            (status, [("location", "/v1/chat/completions")]).into_response()
        }
    }
}
