//! What the web UI's tests share: the registry with a hostile card, the bundled deployments as
//! the wizard's queries, and headless Chromium (skipped with a message when absent, required
//! when CI is set): a page's DOM, screenshots under target/screenshots/, and measures of a page
//! at a given width.

// Each test file uses its own part of these helpers.
#![allow(dead_code)]

use benchcards_core::document::{Document, load_text};
use benchcards_core::{Card, Profile};
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn card(text: &str) -> Card {
    match load_text("card.yaml", text.to_string(), None, false).document {
        Some(Document::Card(c)) => c,
        other => panic!("{other:?}"),
    }
}

pub fn registry() -> Vec<Card> {
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

/// Pairs as a query string, percent-encoded.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b"-_.".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// A bundled deployment profile, by its file's name.
pub fn deployment(name: &str) -> Profile {
    let text = std::fs::read_to_string(root().join(format!("examples/deployments/{name}.yaml"))).unwrap();
    let Some(Document::Profile(p)) = load_text("p.yaml", text, None, false).document else { panic!("{name}") };
    p
}

/// The deployment wizard's query for a profile: every field the wizard has (name, id, date,
/// values, shares, weights, tolerances), and the card to compare with.
pub fn wizard_query(p: &Profile, card: &str) -> String {
    let mut q: Vec<(String, String)> = vec![("card".into(), card.into()), ("name".into(), p.name.clone()), ("id".into(), p.id.clone())];
    q.extend(p.as_of.clone().map(|d| ("as_of".to_string(), d)));
    for (id, d) in &p.dimensions {
        match &d.value {
            Some(benchcards_core::Value::Mixture(m)) => q.extend(m.iter().map(|(v, s)| (format!("share.{id}.{v}"), s.to_string()))),
            Some(v) => q.extend(v.ids().into_iter().map(|x| (id.clone(), x.to_string()))),
            None => {}
        }
    }
    for (g, s) in &p.groups {
        q.push((format!("weight.{g}"), s.weight.name().into()));
        q.push((format!("tolerance.{g}"), s.tolerance.map(|t| t.to_string()).unwrap_or_default()));
    }
    encode(&q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
}

pub fn no_live_markup(page: &str, what: &str) {
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x") && !page.contains("<b>bold</b>"), "{what} holds live markup");
}

/// Headless Chromium, when present (required with CI set).
pub fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    if found.is_none() {
        assert!(std::env::var("CI").is_err(), "CI needs chromium for the browser tests (scripts/test.sh installs it)");
        eprintln!("chromium absent: the browser test checks nothing on this machine");
    }
    found
}

pub fn browse(chromium: &str, url: &str, shot: &str) -> String {
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

/// What `measure` shows: a page's HTML (in a frame of a local file), or a page served at `base`
/// (`page`, a path with its query) from the folder `dir`, in a frame of a page written there.
pub enum Frame<'a> {
    Html(&'a str),
    Served { dir: &'a Path, base: &'a str, page: &'a str },
}

/// What the JavaScript expression `expr` gives in a page shown in Chromium `width` pixels wide
/// (900 high), once `ready` (an expression too) is true or three seconds have passed, with a
/// screenshot at that size when `shot` names one. Headless Chromium lays a page out at least
/// 500 pixels wide whatever its window, so the page is measured in a frame of exactly that
/// width, in a page that holds the frame and one measuring script. The expressions run in that
/// page, given the frame's `document`, `window` and `getComputedStyle`: the site's own pages run
/// no inline script and a static copy's policy forbids it.
pub fn measure(chromium: &str, frame: &Frame, width: u32, ready: &str, expr: &str, shot: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let (attribute, probe, page) = match frame {
        Frame::Html(html) => {
            let page = dir.path().join("page.html");
            std::fs::write(&page, html).unwrap();
            let frame = html.replace('&', "&amp;").replace('"', "&quot;");
            (
                format!("srcdoc=\"{frame}\""),
                format!("file://{}", dir.path().join("probe.html").display()),
                format!("file://{}", page.display()),
            )
        }
        Frame::Served { base, page, .. } => {
            let name = format!("probe-{width}.html");
            (format!("src=\"{}\"", page.replace('&', "&amp;")), format!("{base}/{name}"), format!("{base}/{page}"))
        }
    };
    let html = format!(
        "<!doctype html><body style=\"margin:0\"><iframe id=\"f\" width=\"{width}\" height=\"900\" style=\"border:0\" {attribute}></iframe><script>const f = document.getElementById('f'); const run = (e) => new Function('document', 'window', 'getComputedStyle', 'return (' + e + ')')(f.contentDocument, f.contentWindow, (x) => f.contentWindow.getComputedStyle(x)); f.addEventListener('load', () => {{ let tries = 0; const probe = () => {{ if (!run({ready:?}) && ++tries < 60) return setTimeout(probe, 50); document.body.setAttribute('data-probe', String(run({expr:?}))); }}; probe(); }});</script></body>"
    );
    match frame {
        Frame::Html(_) => std::fs::write(dir.path().join("probe.html"), html).unwrap(),
        Frame::Served { dir: served, .. } => std::fs::write(served.join(format!("probe-{width}.html")), html).unwrap(),
    }
    let profile = format!("--user-data-dir={}", dir.path().join("profile").display());
    let args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", "--virtual-time-budget=5000"];
    let window = format!("--window-size={},1000", width.max(500) + 50);
    let out = std::process::Command::new(chromium).args(args).args([&profile, &window, "--dump-dom", &probe]).output().unwrap();
    if let Some(shot) = shot {
        let (shot, size) =
            (format!("--screenshot={}", root().join("target/screenshots").join(shot).display()), format!("--window-size={width},900"));
        std::process::Command::new(chromium).args(args).args([&profile, &size, &shot, &page]).output().unwrap();
    }
    let dom = String::from_utf8_lossy(&out.stdout);
    let at = dom.find("data-probe=\"").unwrap_or_else(|| panic!("the probe ran: {dom}")) + "data-probe=\"".len();
    dom[at..].split('"').next().unwrap().to_string()
}

/// How many pixels a page is wider than a 390-pixel phone screen, once `ready`, and a
/// screenshot at that width.
pub fn overflow_at_390(chromium: &str, frame: &Frame, ready: &str, shot: &str) -> i64 {
    measure(chromium, frame, 390, ready, "document.documentElement.scrollWidth - window.innerWidth", Some(shot)).parse().unwrap()
}

/// Where the wizard's result is against its form (`beside`, `after`, `overlapping`), then, the
/// page scrolled far down, its position and where its top is.
pub const RESULT_PLACE: &str = "(() => { const f = document.getElementById('wizard').getBoundingClientRect(), r = document.getElementById('result'), b = r.getBoundingClientRect(); const place = b.left >= f.right ? 'beside' : b.top >= f.bottom ? 'after' : 'overlapping'; window.scrollTo(0, 3000); return place + ' ' + getComputedStyle(r).position + ' ' + Math.round(r.getBoundingClientRect().top); })()";
