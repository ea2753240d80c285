//! The mock server answers like an OpenAI-compatible endpoint, injects failures on schedule,
//! and counts what it received — over real loopback TCP.

use benchcards_mock::{Fault, MockConfig, start};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn post(addr: std::net::SocketAddr, body: &str) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_lowercase(), body.to_string())
}

const BODY: &str = r#"{"model": "m", "messages": [{"role": "user", "content": "my chest hurts"}]}"#;

#[tokio::test]
async fn echoes_counts_and_injects_failures() {
    let server = start(MockConfig { fail_every: 3, fault: Fault::Status { code: 429, retry_after: Some(2) }, ..Default::default() }, 0)
        .await
        .unwrap();
    assert!(server.base_url().starts_with("http://127.0.0.1:"));
    let (status, _, body) = post(server.addr, BODY).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "echo: my chest hurts");
    assert_eq!(v["usage"]["prompt_tokens"], 3);
    post(server.addr, BODY).await;
    let (status, head, _) = post(server.addr, BODY).await;
    assert_eq!(status, 429, "every third request fails");
    assert!(head.contains("retry-after: 2"));
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn fixed_reply_after_latency() {
    let server =
        start(MockConfig { latency: Duration::from_millis(50), reply: Some("Disposition: A&E ({n})".into()), ..Default::default() }, 0)
            .await
            .unwrap();
    assert_eq!(server.busy(), Duration::ZERO, "nothing served yet");
    let t = std::time::Instant::now();
    let (_, _, body) = post(server.addr, BODY).await;
    assert!(t.elapsed() >= Duration::from_millis(50));
    assert!(body.contains("Disposition: A&E (1)"), "{body}");
    let (_, _, body) = post(server.addr, BODY).await;
    assert!(body.contains("Disposition: A&E (2)"), "the request number differs: {body}");
    assert!(server.busy() >= Duration::from_millis(100), "two requests of 50 ms one after the other: {:?}", server.busy());
}

#[tokio::test]
async fn a_reset_fault_resets_the_connection_before_any_byte_of_the_reply() {
    let server = start(MockConfig { fail_every: 1, fault: Fault::Reset, ..Default::default() }, 0).await.unwrap();
    let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{BODY}",
        server.addr,
        BODY.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let err = s.read_to_end(&mut out).await.expect_err("a reset, not an orderly close");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    assert!(out.is_empty(), "no byte of a reply: {}", String::from_utf8_lossy(&out));
    assert_eq!(server.requests(), 1);
}

#[test]
fn faults_are_named_on_the_command_line() {
    assert_eq!("429:2".parse::<Fault>(), Ok(Fault::Status { code: 429, retry_after: Some(2) }));
    assert_eq!("503".parse::<Fault>(), Ok(Fault::Status { code: 503, retry_after: None }));
    assert_eq!("truncated".parse::<Fault>(), Ok(Fault::Truncated));
    assert_eq!("reset".parse::<Fault>(), Ok(Fault::Reset));
    let err = "teapot".parse::<Fault>().unwrap_err();
    assert!(err.contains("`teapot` is not a fault") && err.contains("malformed"), "{err}");
}
