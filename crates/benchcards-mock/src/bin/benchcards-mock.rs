//! `benchcards-mock`: the mock OpenAI-compatible server as a process, for benchmarks and
//! fault-injection scripts. Binds 127.0.0.1 only; stops on Ctrl-C or after `--max-seconds`.

use benchcards_mock::{MockConfig, start};
use clap::Parser;
use std::time::Duration;

#[derive(Parser)]
#[command(about = "A loopback mock of an OpenAI-compatible chat-completions server")]
struct Args {
    #[arg(long, default_value_t = 8199)]
    port: u16,
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fixed reply text; `{n}` stands for the request's number (default: echo the last user
    /// message).
    #[arg(long)]
    reply: Option<String>,
    /// Every n-th request meets the fault (0: never).
    #[arg(long, default_value_t = 0)]
    fail_every: u64,
    /// A status (500, or 429:2 for Retry-After: 2), malformed, empty, truncated, hang, reset,
    /// endless, huge, bad-utf8, filtered, null, or redirect:STATUS.
    #[arg(long, default_value = "500")]
    fault: benchcards_mock::Fault,
    /// Stop by itself after this many seconds.
    #[arg(long, default_value_t = 3600)]
    max_seconds: u64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let a = Args::parse();
    let config = MockConfig {
        latency: Duration::from_millis(a.latency_ms),
        reply: a.reply,
        replies: Vec::new(),
        fail_every: a.fail_every,
        fault: a.fault,
    };
    let server = start(config, a.port).await?;
    println!("mock server on {}", server.base_url());
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = tokio::time::sleep(Duration::from_secs(a.max_seconds)) => {}
    }
    println!("served {} request(s) in {:.3} s (first request to last reply)", server.requests(), server.busy().as_secs_f64());
    Ok(())
}
