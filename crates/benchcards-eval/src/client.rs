//! Model access: any OpenAI-compatible chat-completions endpoint (one client, several base URLs
//! for a fleet; feature `http`), the embedded model (feature `local`), and a deterministic mock.
//! A call either returns text and token counts or says why it failed and whether trying again
//! could help.

// A build without both backends (the web UI reads run stores only) leaves some helpers unused.
#![cfg_attr(not(all(feature = "http", feature = "local")), allow(unused))]

use crate::conditions::Message;
use benchcards_core::{ModelSpec, Provider, Sampling};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Completion {
    pub text: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    pub reason: String,
    pub retryable: bool,
    /// Seconds the server asked us to wait (Retry-After).
    pub retry_after: Option<f64>,
    /// The server said it is overloaded (429): the scheduler lowers concurrency.
    pub rate_limited: bool,
}

impl CallError {
    fn retry(reason: impl Into<String>) -> Self {
        CallError { reason: reason.into(), retryable: true, retry_after: None, rate_limited: false }
    }
    fn fatal(reason: impl Into<String>) -> Self {
        CallError { reason: reason.into(), retryable: false, retry_after: None, rate_limited: false }
    }
}

/// What bounds one request: its time, and the size of its reply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub timeout: Duration,
    pub max_reply_bytes: usize,
}

/// The longest reply read by default: 4 MB, some hundred times a long answer.
pub const DEFAULT_MAX_REPLY_BYTES: usize = 4_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(120), max_reply_bytes: DEFAULT_MAX_REPLY_BYTES }
    }
}

/// A client for one model of the plan: it sends a conversation and returns the reply.
pub enum Client {
    #[cfg(feature = "http")]
    OpenAi {
        client: reqwest::Client,
        /// The chat-completions address of each base URL, parsed once.
        endpoints: Vec<reqwest::Url>,
        model: String,
        api_key: Option<String>,
        /// The longest reply read; a longer one is a failure.
        max_reply_bytes: usize,
        next: AtomicUsize,
    },
    /// The embedded model: one clone per core (clones share the weights), each generating one
    /// reply at a time.
    #[cfg(feature = "local")]
    Local(std::sync::Arc<Vec<std::sync::Mutex<benchcards_local::LocalModel>>>, AtomicUsize),
    Mock,
}

impl Client {
    /// Builds a client for the plan's model. The API key is read from the named environment
    /// variable now, and kept only in memory.
    pub fn from_spec(spec: &ModelSpec, limits: Limits) -> Result<Client, String> {
        match spec.provider {
            Provider::Mock => Ok(Client::Mock),
            #[cfg(not(feature = "http"))]
            Provider::Openai => Err(format!("model `{}`: this build has no HTTP client (feature `http`)", spec.id)),
            #[cfg(feature = "http")]
            Provider::Openai => {
                let api_key = match &spec.api_key_env {
                    Some(var) => Some(
                        std::env::var(var)
                            .map_err(|_| format!("model `{}`: the environment variable `{var}` (its API key) is not set", spec.id))?,
                    ),
                    None => None,
                };
                // A redirect is never followed: it could carry the request (and patient text)
                // to another host, or turn the POST into a GET whose reply would be scored.
                let client = reqwest::Client::builder()
                    .timeout(limits.timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
                Ok(Client::OpenAi {
                    client,
                    endpoints: spec
                        .base_urls
                        .iter()
                        .map(|u| {
                            let url = format!("{}/chat/completions", u.trim_end_matches('/'));
                            let url =
                                reqwest::Url::parse(&url).map_err(|e| format!("model `{}`: base URL `{u}` is not a URL: {e}", spec.id))?;
                            if !url.username().is_empty() || url.password().is_some() {
                                return Err(format!(
                                    "model `{}`: base URL `{}` carries a user name or password before `@`; put the key in the environment variable `api_key_env` names",
                                    spec.id,
                                    url.host_str().unwrap_or("")
                                ));
                            }
                            Ok(url)
                        })
                        .collect::<Result<_, _>>()?,
                    model: spec.model.clone().unwrap_or_else(|| spec.id.clone()),
                    api_key,
                    max_reply_bytes: limits.max_reply_bytes,
                    next: AtomicUsize::new(0),
                })
            }
            #[cfg(not(feature = "local"))]
            Provider::Local => Err(format!("model `{}`: this build has no embedded model (feature `local`)", spec.id)),
            #[cfg(feature = "local")]
            Provider::Local => {
                // `model:` may name the GGUF file; otherwise it is found where the set-up script puts it.
                let path = match spec.model.as_deref().map(std::path::PathBuf::from).filter(|p| p.is_file()) {
                    Some(p) => p,
                    None => benchcards_local::find_model().map_err(|e| format!("model `{}`: {e}", spec.id))?,
                };
                let model = benchcards_local::LocalModel::load(&path).map_err(|e| format!("model `{}`: {e}", spec.id))?;
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
                let pool = (0..cores).map(|_| std::sync::Mutex::new(model.clone())).collect();
                Ok(Client::Local(std::sync::Arc::new(pool), AtomicUsize::new(0)))
            }
        }
    }

    pub async fn complete(&self, messages: &[Message], sampling: &Sampling) -> Result<Completion, CallError> {
        match self {
            Client::Mock => Ok(mock_reply(messages)),
            #[cfg(feature = "local")]
            Client::Local(pool, next) => {
                let (pool, sampling, first) = (pool.clone(), sampling.clone(), next.fetch_add(1, Ordering::Relaxed));
                let msgs: Vec<(String, String)> = messages.iter().map(|m| (m.role.clone(), m.content.clone())).collect();
                let result = tokio::task::spawn_blocking(move || {
                    // A free clone if there is one, else wait for this request's turn on one.
                    let mut m = match pool.iter().find_map(|m| m.try_lock().ok()) {
                        Some(m) => m,
                        None => pool[first % pool.len()].lock().map_err(|_| "the local model's lock was poisoned".to_string())?,
                    };
                    m.generate(
                        &msgs,
                        sampling.max_tokens.unwrap_or(256) as usize,
                        sampling.temperature,
                        sampling.top_p,
                        sampling.seed.unwrap_or(0),
                    )
                })
                .await
                .map_err(|e| CallError::fatal(format!("local model task failed: {e}")))?;
                let (text, prompt, completion) = result.map_err(|e| CallError::fatal(format!("local model: {e}")))?;
                Ok(Completion { text, prompt_tokens: prompt as i64, completion_tokens: completion as i64 })
            }
            #[cfg(feature = "http")]
            Client::OpenAi { client, endpoints, model, api_key, max_reply_bytes, next } => {
                let endpoint = &endpoints[next.fetch_add(1, Ordering::Relaxed) % endpoints.len()];
                let request = Request { client, endpoint, model, api_key: api_key.as_deref(), max_reply_bytes: *max_reply_bytes };
                openai(&request, messages, sampling).await
            }
        }
    }
}

#[cfg(feature = "http")]
/// An error with its causes ("error sending request: connection closed before message completed").
fn causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out = format!("{out}: {s}");
        source = s.source();
    }
    out
}

/// One chat-completions request to one endpoint of a fleet, and what bounds its reply.
#[cfg(feature = "http")]
struct Request<'a> {
    client: &'a reqwest::Client,
    endpoint: &'a reqwest::Url,
    model: &'a str,
    api_key: Option<&'a str>,
    max_reply_bytes: usize,
}

#[cfg(feature = "http")]
async fn openai(r: &Request<'_>, messages: &[Message], sampling: &Sampling) -> Result<Completion, CallError> {
    let mut body = json!({"model": r.model, "messages": messages});
    if let Some(t) = sampling.temperature {
        body["temperature"] = json!(t);
    }
    if let Some(p) = sampling.top_p {
        body["top_p"] = json!(p);
    }
    if let Some(m) = sampling.max_tokens {
        body["max_tokens"] = json!(m);
    }
    if let Some(s) = sampling.seed {
        body["seed"] = json!(s);
    }
    let mut req = r.client.post(r.endpoint.clone()).json(&body);
    if let Some(k) = r.api_key {
        req = req.bearer_auth(k);
    }
    let clean = |text: &str| clean(text, r.api_key);
    let mut resp = req.send().await.map_err(|e| {
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else {
            "request failed"
        };
        CallError::retry(format!("{kind}: {}", clean(&causes(&e))))
    })?;
    let status = resp.status();
    if status.is_redirection() {
        let to = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("nowhere");
        return Err(CallError::fatal(format!(
            "{} redirect to {}: redirects are not followed; put the final address in the plan's base_urls",
            status.as_u16(),
            clean(to)
        )));
    }
    let retry_after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    if status.as_u16() == 429 {
        return Err(CallError { reason: "429 rate limited".into(), retryable: true, retry_after, rate_limited: true });
    }
    if status.is_server_error() {
        return Err(CallError { reason: format!("{} server error", status.as_u16()), retryable: true, retry_after, rate_limited: false });
    }
    // Read at most `max_reply_bytes`, chunk by chunk: a reply that never ends costs no memory.
    let too_long = || {
        CallError::fatal(format!(
            "reply over {} bytes: not read further (raise --max-reply-bytes if answers this long are expected)",
            r.max_reply_bytes
        ))
    };
    if resp.content_length().is_some_and(|n| n > r.max_reply_bytes as u64) {
        return Err(too_long());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| CallError::retry(format!("body truncated: {}", clean(&causes(&e)))))? {
        let needed = bytes.len() + chunk.len();
        if needed > r.max_reply_bytes {
            return Err(too_long());
        }
        // Grown by doubling but never past the limit, so a reply holds at most its limit.
        if needed > bytes.capacity() {
            bytes.reserve_exact(needed.max(2 * bytes.capacity()).min(r.max_reply_bytes) - bytes.len());
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        CallError::retry(format!("the reply is not valid UTF-8 (byte {}); it is not read as an answer", e.utf8_error().valid_up_to()))
    })?;
    if !status.is_success() {
        return Err(CallError::fatal(format!("{} {}", status.as_u16(), clean(&text))));
    }
    let v: Value =
        serde_json::from_str(&text).map_err(|_| CallError::retry(format!("malformed JSON in the response: {}", clean(&text))))?;
    let choice = v["choices"].get(0).ok_or_else(|| CallError::retry("the response has no choices"))?;
    let finish = choice["finish_reason"].as_str().unwrap_or("not given");
    let content = match &choice["message"]["content"] {
        Value::String(c) if !c.trim().is_empty() => c.as_str(),
        Value::String(_) => return Err(CallError::retry(format!("the reply is empty (finish_reason: {})", clean(finish)))),
        Value::Null => return Err(CallError::retry(format!("the reply's content is null (finish_reason: {})", clean(finish)))),
        _ => return Err(CallError::retry("the reply's content is not text")),
    };
    Ok(Completion {
        text: content.to_string(),
        prompt_tokens: v["usage"]["prompt_tokens"].as_i64().unwrap_or_else(|| estimate_tokens(messages)),
        completion_tokens: v["usage"]["completion_tokens"].as_i64().unwrap_or_else(|| words(content)),
    })
}

/// Outside text as a failure's reason: the key (a server may echo it: "Incorrect API key
/// provided: sk-...") and anything like a token redacted first, control characters made
/// spaces, then cut to 200 characters, so no cut ever leaves part of a secret.
#[cfg(feature = "http")]
fn clean(text: &str, key: Option<&str>) -> String {
    let text = match key.filter(|k| !k.is_empty()) {
        Some(k) => text.replace(k, "[redacted]"),
        None => text.to_string(),
    };
    let redacted = text
        .split_whitespace()
        .map(|w| {
            let bare = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_');
            if bare.starts_with("sk-") || bare.len() > 40 && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                "[redacted]"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    redacted.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect()
}

fn words(s: &str) -> i64 {
    s.split_whitespace().count() as i64
}

/// Rough token count for estimates: 4/3 tokens per word.
pub fn estimate_tokens(messages: &[Message]) -> i64 {
    messages.iter().map(|m| words(&m.content) * 4 / 3 + 4).sum()
}

/// The mock's deterministic reply: the same messages always give the same text.
fn mock_reply(messages: &[Message]) -> Completion {
    let mut h = Sha256::new();
    for m in messages {
        h.update(m.role.as_bytes());
        h.update(m.content.as_bytes());
    }
    let digest = h.finalize();
    let text = format!("Mock answer {:02x}{:02x}{:02x}{:02x}. Disposition: routine GP.", digest[0], digest[1], digest[2], digest[3]);
    Completion { prompt_tokens: estimate_tokens(messages), completion_tokens: words(&text), text }
}

/// The cache key of a request: the logical model (id, model name, sampling), the messages and
/// the epoch — not the endpoint, so a fleet of servers shares one cache.
pub fn cache_key(spec: &ModelSpec, messages: &[Message], epoch: u32) -> String {
    let v = json!({"model": spec.id, "name": spec.model, "sampling": spec.sampling, "messages": messages, "epoch": epoch});
    let digest = Sha256::digest(v.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
