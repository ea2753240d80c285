//! The web UI over HTTP on 127.0.0.1: every page and API answer checked by content; hostile card
//! text shown as text; run stores named by file name only. With `chromium` present (required
//! when CI is set), every page is loaded in headless Chromium, its DOM checked, and screenshots
//! saved under target/screenshots/ at 1400 and 390 pixels wide (at 390 no page may scroll
//! sideways).

use benchcards_core::document::{Document, load_text};
use benchcards_core::{Card, Profile};
use benchcards_eval::store::{SampleRow, Store};
use benchcards_web::{Limits, Site, router};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn card(text: &str) -> Card {
    match load_text("card.yaml", text.to_string(), None, false).document {
        Some(Document::Card(c)) => c,
        other => panic!("{other:?}"),
    }
}

fn registry() -> Vec<Card> {
    let mut cards: Vec<Card> =
        std::fs::read_dir(root().join("registry")).unwrap().map(|e| card(&std::fs::read_to_string(e.unwrap().path()).unwrap())).collect();
    cards.sort_by(|a, b| a.id.cmp(&b.id));
    // A card whose name and answer are hostile markup.
    let evil = std::fs::read_to_string(root().join("registry/bean-scenarios.yaml")).unwrap().replacen(
        "name: Bean et al. ten medical scenarios (HELPMed), LLM-alone condition",
        "name: \"<script>alert(1)</script> \\\"><img src=x onerror=alert(1)>\"",
        1,
    );
    let mut e = card(&evil);
    e.id = "evil-card".into();
    cards.push(e);
    cards
}

/// A run store holding one small run, in a folder of its own, and the run's id.
fn runs_folder() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("runs.sqlite")).unwrap();
    let f = |rel: &str| root().join(rel).display().to_string();
    let plan = serde_json::json!({"version": 1, "id": "web-test", "card": f("registry/bean-scenarios.yaml"), "deployment": f("examples/deployments/patient-symptom-chatbot.yaml"),
        "dataset": f("examples/datasets/symptoms-uk.jsonl"), "models": [{"id": "m", "provider": "mock"}], "conditions": [{"id": "vignette"}, {"id": "withheld"}],
        "graders": [{"kind": "conditions"}], "epochs": 1});
    let run = store.create_run("web-test", "abc123", &plan.to_string()).unwrap();
    // A file that is no run store: browsing must leave it as it is (empty).
    std::fs::write(dir.path().join("empty.sqlite"), "").unwrap();
    for (condition, i, ok) in [("vignette", 1, true), ("vignette", 2, false), ("withheld", 1, false), ("withheld", 2, false)] {
        let key = format!("{condition}|sx-00{i}|m|0");
        let transcript = format!(r#"[{{"role":"user","content":"case {i} <b>bold</b>"}},{{"role":"assistant","content":"answer {i}"}}]"#);
        store
            .put_sample(
                &run,
                &SampleRow {
                    key: key.clone(),
                    unit: format!("sx-00{i}"),
                    item: format!("sx-00{i}"),
                    condition: condition.into(),
                    label: condition.into(),
                    model: "m".into(),
                    epoch: 0,
                    status: "done".into(),
                    response: Some(format!("answer {i}")),
                    transcript,
                    prompt_tokens: 1,
                    completion_tokens: 1,
                    latency_ms: 1,
                    attempts: 1,
                    requests_sent: 1,
                    error: None,
                },
            )
            .unwrap();
        store.put_grade(&run, &key, "conditions:bean@80", f64::from(u8::from(ok)), "").unwrap();
    }
    (dir, run)
}

struct Server {
    base: String,
    runs: tempfile::TempDir,
    run: String,
}

async fn server() -> Server {
    let (runs, run) = runs_folder();
    let site = Site { cards: registry(), runs: Some(runs.path().to_path_buf()) };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(site, Limits::default())).await.unwrap() });
    Server { base, runs, run }
}

async fn get(url: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let r = reqwest::get(url).await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, r.text().await.unwrap(), headers)
}

/// The wizard's query for the bundled public symptom-chatbot profile: its declared values and
/// weights, and the card to compare with.
fn chatbot_query(card: &str) -> String {
    let text = std::fs::read_to_string(root().join("examples/deployments/patient-symptom-chatbot.yaml")).unwrap();
    let Some(Document::Profile(p)) = load_text("p.yaml", text, None, false).document else { panic!() };
    let p: Profile = p;
    let mut q: Vec<(String, String)> = vec![("card".into(), card.into()), ("name".into(), p.name.clone())];
    for (id, d) in &p.dimensions {
        if let Some(v) = &d.value {
            q.extend(v.ids().into_iter().map(|x| (id.clone(), x.to_string())));
        }
    }
    for (g, s) in &p.groups {
        q.push((format!("weight.{g}"), s.weight.name().into()));
    }
    q.iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                k,
                v.bytes()
                    .map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
                    .collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn no_live_markup(page: &str, what: &str) {
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x") && !page.contains("<b>bold</b>"), "{what} holds live markup");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_over_the_limits_are_refused_with_a_reason() {
    let s = server().await;
    let limits = Limits::default();
    let long = format!("{}/?q={}", s.base, "a".repeat(limits.max_target));
    let (code, body, _) = get(&long).await;
    assert_eq!(code, 414);
    assert!(body.contains("the limit is 8192"), "{body}");
    let r = reqwest::Client::new().get(format!("{}/", s.base)).body(vec![b'x'; 100_000]).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert!(r.text().await.unwrap().contains("100000 bytes"));
    // Within the limits, the same page answers.
    assert_eq!(get(&format!("{}/?q={}", s.base, "a".repeat(1000))).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_and_api_answer_with_content() {
    let s = server().await;
    let (code, index, headers) = get(&format!("{}/", s.base)).await;
    assert_eq!(code, 200);
    assert!(index.contains("22 of 22 card(s).") && index.contains("<a href=\"/cards/medqa-usmle\">"));
    assert!(headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    no_live_markup(&index, "the registry");
    let (_, filtered, _) = get(&format!("{}/?dimension=query_author&value=patient", s.base)).await;
    assert!(filtered.contains("of 22 card(s)") && !filtered.contains("medqa-usmle"), "filtered to cards whose authors are patients");
    let (_, typed, _) = get(&format!("{}/?dimension=query_author&value=%20Patient%20", s.base)).await;
    let count = |page: &str| page.split("<p>").find(|p| p.contains("card(s).")).map(str::to_string);
    assert_eq!(count(&typed), count(&filtered), "the filter ignores case and surrounding spaces");
    let (_, heat, _) = get(&format!("{}/heatmap", s.base)).await;
    assert!(
        heat.contains("<table class=\"heatmap\">") && heat.contains("background:hsl(210,60%,") && heat.contains("Settings no card covers")
    );
    no_live_markup(&heat, "the heatmap");
    let (code, page, _) = get(&format!("{}/cards/evil-card", s.base)).await;
    assert_eq!(code, 200);
    no_live_markup(&page, "the card page");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name shows as text");
    assert_eq!(get(&format!("{}/cards/nope", s.base)).await.0, 404);
    // The wizard, answered as the public symptom chatbot, compared with Bean et al.
    let (code, wizard, _) = get(&format!("{}/wizard?{}", s.base, chatbot_query("bean-scenarios"))).await;
    assert_eq!(code, 200);
    for needle in [
        "<h2>Ranked matches</h2>",
        "vs deployment <code>my-deployment</code>",
        "decision_mediation",
        "<h2>Gaps</h2>",
        "Download this deployment profile",
    ] {
        assert!(wizard.contains(needle), "the wizard shows `{needle}`");
    }
    no_live_markup(&wizard, "the wizard");
    // Its profile downloads as a file that passes check.
    let (code, yaml, headers) = get(&format!("{}/api/profile.yaml?{}", s.base, chatbot_query(""))).await;
    assert_eq!(code, 200);
    assert!(headers["content-disposition"].to_str().unwrap().contains("deployment.yaml"));
    let loaded = load_text("deployment.yaml", yaml, None, false);
    assert!(!loaded.diagnostics.has_errors() && matches!(loaded.document, Some(Document::Profile(_))));
    // The API behind it.
    let (code, assess, _) = get(&format!("{}/api/assess?{}", s.base, chatbot_query("bean-scenarios"))).await;
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&assess).unwrap();
    assert_eq!(v["ranked"].as_array().unwrap().len(), 22);
    assert_eq!(v["comparison"]["card"]["id"], "bean-scenarios", "{}", v["comparison"]);
    let (code, bad, _) = get(&format!("{}/api/assess?interaction_mode=telepathy", s.base)).await;
    assert_eq!(code, 422);
    assert!(bad.contains("telepathy"), "{bad}");
    let (_, cards, _) = get(&format!("{}/api/cards", s.base)).await;
    assert_eq!(serde_json::from_str::<serde_json::Value>(&cards).unwrap().as_array().unwrap().len(), 22);
    let (_, tax, _) = get(&format!("{}/api/taxonomy", s.base)).await;
    assert_eq!(serde_json::from_str::<serde_json::Value>(&tax).unwrap()["groups"].as_array().unwrap().len(), 6);
    // Runs, named by store file only.
    let (_, runs, _) = get(&format!("{}/runs", s.base)).await;
    assert!(runs.contains(&format!("<a href=\"/runs/runs.sqlite/{0}\">{0}</a>", s.run)));
    let (code, run, _) = get(&format!("{}/runs/runs.sqlite/{}", s.base, s.run)).await;
    assert_eq!(code, 200, "{run}");
    assert!(run.contains("<td>vignette</td><td>2</td><td>50.0%</td><td>9.5% to 90.5%</td>"), "score with n and interval: {run}");
    assert!(run.contains("<h2>Readiness</h2>") && run.contains("<svg"), "the run's full report");
    // The run measured information completeness only; the card's published drops fill the groups
    // it did not measure, exactly as `report`, `gate` and the brief show them (one function).
    let f = |rel: &str| std::fs::read_to_string(root().join(rel)).unwrap();
    let profile = match load_text("p.yaml", f("examples/deployments/patient-symptom-chatbot.yaml"), None, false).document {
        Some(Document::Profile(p)) => p,
        other => panic!("{other:?}"),
    };
    let cmp = benchcards_assess::compare(benchcards_core::taxonomy(), &card(&f("registry/bean-scenarios.yaml")), &profile);
    let rows = benchcards_assess::readiness::readiness(&profile, Some(&cmp), &[]);
    let published: Vec<_> = rows
        .iter()
        .filter(|r| r.group != "information_completeness")
        .filter_map(|r| match &r.evidence {
            benchcards_assess::readiness::Evidence::Published { drops } => Some(drops),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(published.len(), 3, "query authorship, interaction type, decision mediation");
    for d in published {
        let shown = benchcards_report::escape_html(&d.drop_text());
        assert!(run.contains(&shown) && run.contains(&benchcards_report::escape_html(&d.result_text())), "{shown}: {run}");
    }
    assert!(run.contains("<details class=\"transcript pass\">") && run.contains("<details class=\"transcript fail\">"));
    no_live_markup(&run, "the run page");
    // Browsing reads only: the file that is no run store is still empty, and no table was made.
    assert_eq!(std::fs::metadata(s.runs.path().join("empty.sqlite")).unwrap().len(), 0, "a browse is not a write");
    for bad in
        ["/runs/..%2F..%2Fetc%2Fpasswd/x", &format!("/runs/other.sqlite/{}", s.run), "/runs/runs.sqlite/nope", "/static/../Cargo.toml"]
    {
        assert_eq!(get(&format!("{}{bad}", s.base)).await.0, 404, "{bad}");
    }
    // Reads only: nothing answers a POST.
    let post = reqwest::Client::new().post(format!("{}/wizard", s.base)).send().await.unwrap();
    assert_eq!(post.status().as_u16(), 405);
    // The file that is no run store is listed with the reason it is not shown.
    let (_, runs, _) = get(&format!("{}/runs", s.base)).await;
    assert!(runs.contains("<td>empty.sqlite</td><td>not a benchcards run store"), "{runs}");
}

#[tokio::test]
async fn every_response_is_guarded_and_only_this_server_is_answered() {
    let s = server().await;
    // Every kind of response carries the same security headers, refusals included.
    for path in ["/", "/api/cards", "/api/taxonomy", "/static/wizard.js", &format!("/api/profile.yaml?{}", chatbot_query("")), "/nope"] {
        let (_, _, h) = get(&format!("{}{path}", s.base)).await;
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
    // A page that names another host (DNS rebinding: a site pointing its own name at this
    // machine) gets no registry and no run.
    for host in ["evil.example", "127.0.0.1.nip.io"] {
        let r = reqwest::Client::new().get(format!("{}/api/runs", s.base)).header("host", host).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 421, "{host}");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        assert!(!r.text().await.unwrap().contains(&s.run), "{host}");
    }
    assert_eq!(reqwest::Client::new().get(format!("{}/api/runs", s.base)).header("host", "localhost").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_run_whose_dataset_is_a_pipe_is_refused_at_once_without_stalling_the_server() {
    // Opening a FIFO waits for a writer forever; the guarded reader refuses it before opening,
    // and reads run off the server's workers.
    let s = server().await;
    let fifo = s.runs.path().join("dataset.jsonl");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let store = Store::open(&s.runs.path().join("piped.sqlite")).unwrap();
    let plan = serde_json::json!({"version": 1, "id": "piped", "card": root().join("registry/bean-scenarios.yaml").display().to_string(),
        "deployment": root().join("examples/deployments/patient-symptom-chatbot.yaml").display().to_string(),
        "dataset": fifo.display().to_string(), "models": [{"id": "m", "provider": "mock"}], "conditions": [{"id": "vignette"}],
        "graders": [{"kind": "conditions"}], "epochs": 1});
    let run = store.create_run("piped", "h", &plan.to_string()).unwrap();
    let t = std::time::Instant::now();
    let (code, page, _) = get(&format!("{}/runs/piped.sqlite/{run}", s.base)).await;
    assert_eq!(code, 404, "{page}");
    assert!(page.contains("not a regular file"), "{page}");
    assert!(t.elapsed() < std::time::Duration::from_secs(5), "answered at once: {:?}", t.elapsed());
    assert_eq!(get(&format!("{}/", s.base)).await.0, 200, "the server still answers");
}

/// Headless Chromium, when present (required with CI set).
fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(std::env::var("CI").is_err(), "CI needs chromium for the browser tests (scripts/test.sh installs it)");
        eprintln!("chromium absent: the browser test checks nothing on this machine");
    }
    found
}

fn browse(chromium: &str, url: &str, shot: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let shots = root().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=3000",
    ];
    let dir = format!("--user-data-dir={}", profile.path().display());
    let out = std::process::Command::new(chromium).args(common).arg(&dir).args(["--dump-dom", url]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shot = format!("--screenshot={}", shots.join(shot).display());
    let s = std::process::Command::new(chromium).args(common).arg(&dir).args([&shot, "--window-size=1400,1600", url]).output().unwrap();
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// How many pixels `html` is wider than a 390-pixel phone screen in Chromium, and a screenshot
/// of it at that width. The page is measured from a local copy with one measuring script added
/// (the site itself runs no inline script).
fn overflow_at_390(chromium: &str, html: &str, shot: &str) -> i64 {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("page.html");
    let probe =
        "<script>document.body.setAttribute('data-overflow', String(document.documentElement.scrollWidth - window.innerWidth))</script>";
    std::fs::write(&file, html.replace("</body>", &format!("{probe}</body>"))).unwrap();
    let url = format!("file://{}", file.display());
    let profile = format!("--user-data-dir={}", dir.path().join("profile").display());
    let args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", "--window-size=390,900"];
    let out = std::process::Command::new(chromium).args(args).arg(&profile).args(["--dump-dom", &url]).output().unwrap();
    let shot = format!("--screenshot={}", root().join("target/screenshots").join(shot).display());
    std::process::Command::new(chromium).args(args).arg(&profile).args([&shot, &url]).output().unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let at = dom.find("data-overflow=\"").unwrap_or_else(|| panic!("the probe ran: {dom}")) + "data-overflow=\"".len();
    dom[at..].split('"').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_page_scrolls_sideways_on_a_phone() {
    let Some(chromium) = chromium() else { return };
    let s = server().await;
    let pages = [
        ("registry", format!("{}/", s.base)),
        ("heatmap", format!("{}/heatmap", s.base)),
        ("wizard", format!("{}/wizard?{}", s.base, chatbot_query("bean-scenarios"))),
        ("card", format!("{}/cards/bean-scenarios", s.base)),
        ("runs", format!("{}/runs", s.base)),
        ("run", format!("{}/runs/runs.sqlite/{}", s.base, s.run)),
        ("api", format!("{}/api", s.base)),
    ];
    let mut wide = Vec::new();
    for (name, url) in pages {
        let (status, html, _) = get(&url).await;
        assert_eq!(status, 200, "{url}");
        assert!(html.contains("href=\"#content\">Skip to content</a>") && html.contains("id=\"content\""), "{name}: a skip link");
        let px = tokio::task::spawn_blocking(move || overflow_at_390(chromium, &html, &format!("{name}-390.png"))).await.unwrap();
        if px > 0 {
            wide.push(format!("{name}: {px} px too wide"));
        }
    }
    assert!(wide.is_empty(), "pages scroll sideways at 390 px: {wide:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_render_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let s = server().await;
    let (base, run) = (s.base.clone(), s.run.clone());
    let dom = tokio::task::spawn_blocking(move || {
        [
            ("registry.png", format!("{base}/")),
            ("heatmap.png", format!("{base}/heatmap")),
            ("wizard.png", format!("{base}/wizard?{}", chatbot_query("bean-scenarios"))),
            ("run.png", format!("{base}/runs/runs.sqlite/{run}")),
            ("evil-card.png", format!("{base}/cards/evil-card")),
            ("card.png", format!("{base}/cards/bean-scenarios")),
            ("runs.png", format!("{base}/runs")),
            ("api.png", format!("{base}/api")),
        ]
        .map(|(shot, url)| browse(chromium, &url, shot))
    })
    .await
    .unwrap();
    let [registry, heatmap, wizard, run, evil, card, runs, api] = dom;
    assert!(card.contains("Bean") && runs.contains("runs.sqlite") && api.contains("/api/cards"), "every page renders");
    assert!(registry.contains("22 of 22 card(s).") && registry.contains("href=\"/cards/medqa-usmle\""));
    assert!(heatmap.contains("class=\"heatmap\""));
    assert!(
        wizard.contains("Ranked matches")
            && wizard.contains("<a href=\"/cards/healthsearchqa\">healthsearchqa</a>")
            && wizard.contains("Gaps"),
        "the browser shows the ranked matches, each linking to its card"
    );
    assert!(run.contains("Readiness") && run.contains("50.0%"));
    // The hostile name is text in the parsed page: no image element, no script but the wizard's.
    for page in [&registry, &evil, &wizard, &heatmap] {
        assert!(!page.contains("<img") && !page.contains("<script>alert"), "live markup in the DOM");
        assert_eq!(page.matches("<script").count(), 1, "only the site's own script");
    }
    assert!(evil.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(root().join("target/screenshots/wizard.png").is_file());
}

#[tokio::test]
async fn an_idle_connection_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits { idle: std::time::Duration::from_millis(300), ..Limits::default() };
    tokio::spawn(benchcards_web::serve_on(listener, Site { cards: registry(), runs: None }, limits));
    // Tens of thousands of connections that send nothing used to stay open until the server
    // ran out of them; now each ends after the idle time.
    let mut quiet = tokio::net::TcpStream::connect(addr).await.unwrap();
    let t = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), quiet.read(&mut buf)).await.expect("closed by the server");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    assert!(t.elapsed() >= std::time::Duration::from_millis(250), "{:?}", t.elapsed());
    // A connection that asks is answered as before.
    let mut busy = tokio::net::TcpStream::connect(addr).await.unwrap();
    busy.write_all(b"GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut reply = String::new();
    busy.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_ends() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits { max_connections: 2, ..Limits::default() };
    tokio::spawn(benchcards_web::serve_on(listener, Site { cards: registry(), runs: None }, limits));
    let ask = || async move {
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut reply = String::new();
        c.read_to_string(&mut reply).await.map(|_| reply)
    };
    // Two quiet connections take both places: a third request is not served...
    let quiet = [tokio::net::TcpStream::connect(addr).await.unwrap(), tokio::net::TcpStream::connect(addr).await.unwrap()];
    let third = tokio::spawn(ask());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!third.is_finished(), "served beyond the cap");
    // ...until one of them ends.
    drop(quiet);
    let reply = tokio::time::timeout(std::time::Duration::from_secs(5), third).await.unwrap().unwrap().unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

#[tokio::test]
async fn a_request_trickling_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits { headers_within: std::time::Duration::from_millis(400), ..Limits::default() };
    tokio::spawn(benchcards_web::serve_on(listener, Site { cards: registry(), runs: None }, limits));
    // A byte every 100 ms never lets the connection go idle, but its headers never end.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    let t = std::time::Instant::now();
    let mut cut = false;
    for _ in 0..30 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if slow.write_all(b"X").await.is_err() {
            cut = true;
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(std::time::Duration::from_millis(1), slow.read(&mut buf)).await {
            assert!(n == 0 || !String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "served");
            cut = true;
            break;
        }
    }
    assert!(cut && t.elapsed() < std::time::Duration::from_secs(2), "cut off after {:?}", t.elapsed());
    // Headers that arrive in time are served, over several reads.
    let mut ok = tokio::net::TcpStream::connect(addr).await.unwrap();
    for part in [&b"GET /api HTTP/1.1\r\n"[..], b"Host: 127.0.0.1\r\n", b"Connection: close\r\n\r\n"] {
        ok.write_all(part).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut reply = String::new();
    ok.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}
