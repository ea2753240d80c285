//! Two participants take the whole study in headless Chromium, one per arm, driven through the
//! DevTools protocol over a pipe (`--remote-debugging-pipe`: JSON messages ended by a NUL byte
//! on file descriptors 3 and 4): real clicks on real forms, a page closed mid-scenario and
//! opened again (the study resumes), and the export read back against what they entered.

use benchcards_study::Study;
use benchcards_study::server::{Options, serve_on};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(std::env::var("CI").is_err(), "CI needs chromium for the browser tests (scripts/test.sh installs it)");
        eprintln!("chromium absent: the browser study is not taken on this machine");
    }
    found
}

/// A headless Chromium spoken to over its DevTools pipe; killed when dropped, or after two
/// minutes whatever happens (a blocked read then ends).
struct Browser {
    child: std::process::Child,
    tx: std::fs::File,
    rx: BufReader<std::fs::File>,
    next: u64,
    done: Arc<AtomicBool>,
    _profile: tempfile::TempDir,
}

/// Two pipes whose ends are closed on exec unless moved onto 3 and 4.
fn pipe() -> [i32; 2] {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    fds
}

impl Browser {
    fn start(chromium: &str) -> Browser {
        let (commands, replies) = (pipe(), pipe());
        let (child_reads, child_writes) = (commands[0], replies[1]);
        let profile = tempfile::tempdir().unwrap();
        let mut cmd = std::process::Command::new(chromium);
        cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls: fcntl and dup2 put the
        // pipe ends on 3 and 4 (through descriptors above 10, so neither is overwritten early).
        unsafe {
            cmd.pre_exec(move || {
                let (r, w) = (libc::fcntl(child_reads, libc::F_DUPFD, 10), libc::fcntl(child_writes, libc::F_DUPFD, 10));
                if r < 0 || w < 0 || libc::dup2(r, 3) < 0 || libc::dup2(w, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        // SAFETY: the parent's ends are owned here from now on; the child's are closed.
        let (tx, rx) = unsafe {
            libc::close(child_reads);
            libc::close(child_writes);
            (std::fs::File::from_raw_fd(commands[1]), std::fs::File::from_raw_fd(replies[0]))
        };
        let done = Arc::new(AtomicBool::new(false));
        let (flag, pid) = (done.clone(), child.id() as i32);
        std::thread::spawn(move || {
            for _ in 0..1200 {
                std::thread::sleep(std::time::Duration::from_millis(100));
                if flag.load(Ordering::Relaxed) {
                    return;
                }
            }
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        });
        Browser { child, tx, rx: BufReader::new(rx), next: 0, done, _profile: profile }
    }

    /// Sends a command (to a page's session, when given) and returns its result.
    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.call(session, method, params).unwrap_or_else(|reply| panic!("{method}: {reply}"))
    }

    /// Sends a command; its result, or the reply holding its error.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Result<Value, Value> {
        self.next += 1;
        let mut msg = json!({"id": self.next, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.tx.write_all(format!("{msg}\0").as_bytes()).unwrap();
        loop {
            let mut buf = Vec::new();
            assert!(self.rx.read_until(0, &mut buf).unwrap() > 0, "the browser closed its pipe (after {method})");
            buf.pop();
            let reply: Value = serde_json::from_slice(&buf).unwrap();
            if reply["id"] == json!(self.next) {
                return if reply.get("error").is_some() { Err(reply) } else { Ok(reply["result"].clone()) };
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One participant's tab in their own browser context (their own cookies).
struct Tab {
    context: String,
    target: String,
    session: String,
}

impl Tab {
    fn open(b: &mut Browser, context: &str, url: &str) -> Tab {
        let target =
            b.send(None, "Target.createTarget", json!({"url": url, "browserContextId": context}))["targetId"].as_str().unwrap().to_string();
        let session =
            b.send(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true}))["sessionId"].as_str().unwrap().to_string();
        let tab = Tab { context: context.to_string(), target, session };
        tab.wait(b, "document.readyState === 'complete' && !!document.querySelector('h1')");
        tab
    }

    fn eval(&self, b: &mut Browser, js: &str) -> Value {
        b.send(Some(&self.session), "Runtime.evaluate", json!({"expression": js, "returnByValue": true}))["result"]["value"].clone()
    }

    /// Waits until `condition` holds; an evaluation cut off by the page navigating is "not yet".
    fn wait(&self, b: &mut Browser, condition: &str) {
        let js = format!("(() => {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }})()");
        for _ in 0..200 {
            let held = b.call(Some(&self.session), "Runtime.evaluate", json!({"expression": js, "returnByValue": true}));
            if held.is_ok_and(|r| r["result"]["value"] == json!(true)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("waited 10 s for {condition}: {}", self.text(b));
    }

    fn text(&self, b: &mut Browser) -> String {
        self.eval(b, "document.body ? document.body.innerText : ''").as_str().unwrap_or("").to_string()
    }

    /// Runs `fill`, clicks the button of the form posting to `action`, and waits for the page
    /// that follows.
    fn submit(&self, b: &mut Browser, fill: &str, action: &str) {
        self.eval(b, &format!("window.__before = true; {fill}; document.querySelector('form[action=\"{action}\"] button').click(); true"));
        self.wait(b, "!window.__before && document.readyState === 'complete' && !!document.querySelector('h1')");
    }

    fn close(self, b: &mut Browser) -> String {
        b.send(None, "Target.closeTarget", json!({"targetId": self.target}));
        self.context
    }
}

const PLAN: &str = "plan:
  version: 1
  id: browser-study
  card: bean-scenarios
  deployment: patient-symptom-chatbot
  dataset: symptoms-uk
  models: [{ id: m, provider: mock }]
  conditions: [{ id: vignette }]
  graders: [{ kind: conditions, mode: bean, threshold: 80 }]
  study:
    arms:
      - { id: with_model, model: m }
      - { id: control, instructions: Use whatever you would normally use. }
    scenarios: [sx-001]
    allocation: { block_size: 2, seed: 5 }
    consent: You agree to take part.
    instructions: Imagine you are the person described.
    comprehension: [{ question: Whose symptoms are they?, options: [Mine, The person described], answer: 1 }]
    attention: [{ question: Choose green., options: [Blue, Green], answer: 1 }]
    target_participants: 2
    completion: { code: DONE42 }
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_participants_take_the_whole_study_in_a_browser_and_the_export_is_what_they_entered() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let mut study = Study::load(&plan, None).await.unwrap();
    study.connect().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let options = Options {
        admin_token: "a-researcher-token-of-some-length".into(),
        secure_cookies: false,
        limits: benchcards_web::Limits::default(),
        log_requests: false,
    };
    tokio::spawn(serve_on(listener, study, options));
    let entered = tokio::task::spawn_blocking(move || {
        let mut b = Browser::start(chromium);
        let mut entered = Vec::new();
        // One block of two: the two participants take different arms.
        for (i, (condition, level, sure)) in [("common cold", "self_care", 4), ("hay fever", "routine_gp", 2)].into_iter().enumerate() {
            let context = b.send(None, "Target.createBrowserContext", json!({}))["browserContextId"].as_str().unwrap().to_string();
            let tab = Tab::open(&mut b, &context, &format!("{base}/?PROLIFIC_PID=p{i}"));
            assert!(tab.text(&mut b).contains("You agree to take part."));
            tab.submit(&mut b, "", "/consent");
            tab.submit(&mut b, "", "/study/instructions");
            tab.submit(&mut b, "document.querySelector('input[name=q0][value=\"1\"]').checked = true", "/study/comprehension");
            assert!(tab.text(&mut b).contains("Scenario 1 of 1"), "{}", tab.text(&mut b));
            let with_model = tab.eval(&mut b, "!!document.querySelector('form[action=\"/study/message\"]')") == json!(true);
            let tab = if with_model {
                tab.submit(&mut b, "document.getElementById('text').value = 'I have a blocked nose and a cough'", "/study/message");
                assert!(tab.text(&mut b).contains("Assistant: Mock answer"), "{}", tab.text(&mut b));
                // The page is closed mid-scenario and opened again: the chat is still there.
                let context = tab.close(&mut b);
                let tab = Tab::open(&mut b, &context, &format!("{base}/study"));
                let text = tab.text(&mut b);
                assert!(text.contains("Scenario 1 of 1") && text.contains("You: I have a blocked nose and a cough"), "{text}");
                // The chat's script: the message box has the focus; a message sent says so in
                // the live region and cannot be sent again while the assistant replies.
                tab.wait(&mut b, "document.activeElement && document.activeElement.id === 'text'");
                let sent = tab.eval(
                    &mut b,
                    "window.__before = true; document.getElementById('text').value = 'and a fever'; const f = document.querySelector('form[action=\"/study/message\"]'); f.requestSubmit(); f.requestSubmit(); document.getElementById('chat-status').textContent + '|' + f.querySelector('button').disabled",
                );
                assert_eq!(sent, json!("Sent. The assistant is replying…|true"));
                tab.wait(&mut b, "!window.__before && document.readyState === 'complete' && !!document.querySelector('h1')");
                assert_eq!(tab.eval(&mut b, "document.querySelectorAll('.msg.user').length"), json!(2), "{}", tab.text(&mut b));
                tab
            } else {
                assert!(tab.text(&mut b).contains("Use whatever you would normally use."));
                tab
            };
            // On a 390 px phone the scenario page does not scroll sideways.
            let phone = json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true});
            b.send(Some(&tab.session), "Emulation.setDeviceMetricsOverride", phone);
            assert_eq!(tab.eval(&mut b, "document.documentElement.clientWidth"), json!(390), "measured at 390 px");
            let fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth";
            assert_eq!(tab.eval(&mut b, fits), json!(true), "the scenario page scrolls sideways at 390 px");
            let fill = format!(
                "document.getElementById('c0').value = '{condition}'; document.querySelector('input[name=disposition][value={level}]').checked = true; document.querySelector('input[name=confidence][value=\"{sure}\"]').checked = true"
            );
            tab.submit(&mut b, &fill, "/study/answer");
            tab.submit(&mut b, "document.querySelector('input[name=q0][value=\"1\"]').checked = true", "/study/attention");
            assert!(tab.text(&mut b).contains("DONE42"), "{}", tab.text(&mut b));
            entered.push((with_model, condition.to_string(), level.to_string(), sure.to_string()));
        }
        entered
    })
    .await
    .unwrap();
    assert_eq!(entered.iter().filter(|e| e.0).count(), 1, "one participant per arm: {entered:?}");
    let csv = Study::load(&plan, None).await.unwrap().export_csv().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    let mut got: Vec<(bool, String, String, String)> =
        rows.iter().map(|r| (r[2] == "with_model", r[4].clone(), r[5].clone(), r[6].clone())).collect();
    let mut want = entered;
    got.sort();
    want.sort();
    assert_eq!(got, want, "{csv}");
}
