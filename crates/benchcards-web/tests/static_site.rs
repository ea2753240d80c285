//! `benchcards site build`: the static copy of the registry. Built into a folder it refuses to
//! take over from anything else; every page escaped, under its own Content-Security-Policy, with
//! only relative links that all resolve. Served by a plain file server (written here, on
//! 127.0.0.1, adding no header of its own) and walked in headless Chromium (required when CI is
//! set): the pages render and do not scroll sideways at 390 px, the wizard's result sits as the
//! server's does, the registry filter works, and the wizard's ranking in the browser is the one
//! `benchcards match` gives (`registry::rank`) for every bundled deployment profile.

mod common;

use benchcards_core::{Card, Profile, taxonomy};
use benchcards_web::{build_site, profile_from};
use common::{
    Frame, RESULT_PLACE, browse, chromium, deployment, encode, measure, no_live_markup, overflow_at_390, registry, root, wizard_query,
};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

const DEPLOYMENTS: [&str; 5] =
    ["patient-symptom-chatbot", "ed-decision-support", "medical-student-tutor", "nurse-telephone-triage", "portal-message-drafts"];

fn deployments() -> Vec<Profile> {
    DEPLOYMENTS.iter().map(|d| deployment(d)).collect()
}

/// The registry (with the hostile card) built into a new folder.
fn built() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    build_site(&registry(), &deployments(), &out).unwrap();
    (dir, out)
}

/// Every file under `dir`, by path from it.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// The values of an attribute (`href`, `src`, `action`) in a page.
fn attributes<'a>(page: &'a str, name: &str) -> Vec<&'a str> {
    page.split(&format!(" {name}=\"")).skip(1).map(|s| s.split('"').next().unwrap()).collect()
}

#[test]
fn the_site_is_built_with_relative_links_that_all_resolve_and_everything_escaped() {
    let (_dir, out) = built();
    let all = files(&out);
    let cards = registry();
    for page in ["index.html", "heatmap.html", "wizard.html", "static/wizard.js", "static/site.json"] {
        assert!(all.contains(&page.to_string()), "{page}: {all:?}");
    }
    for c in &cards {
        assert!(all.contains(&format!("cards/{}.html", c.id)) && all.contains(&format!("cards/{}.json", c.id)), "{}", c.id);
    }
    let pages: Vec<&String> = all.iter().filter(|p| p.ends_with(".html")).collect();
    assert_eq!(pages.len(), 3 + cards.len(), "{pages:?}");
    for rel in pages {
        let page = std::fs::read_to_string(out.join(rel)).unwrap();
        // The server's headers a page can carry.
        assert!(page.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src 'self';"), "{rel}");
        assert!(page.contains("<meta name=\"referrer\" content=\"no-referrer\">"), "{rel}");
        no_live_markup(&page, rel);
        assert_eq!(page.matches("<script").count(), 1, "{rel}: only the site's own script");
        // Nothing is loaded from elsewhere, every link is relative and names a file of the copy.
        let from = out.join(rel).parent().unwrap().to_path_buf();
        for link in attributes(&page, "href").into_iter().chain(attributes(&page, "src")).chain(attributes(&page, "action")) {
            assert!(!link.starts_with('/') && !link.starts_with("//"), "{rel}: `{link}` is not relative");
            if link.starts_with('#') || link.starts_with("https://") || link.starts_with("http://") {
                assert!(!attributes(&page, "src").contains(&link), "{rel}: loads `{link}` from elsewhere");
                continue;
            }
            let file = link.split(['?', '#']).next().unwrap().replace("&amp;", "&");
            assert!(from.join(&file).is_file(), "{rel}: `{link}` names no file of the copy");
        }
    }
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains(&format!("{0} of {0} card(s).", cards.len())) && index.contains("<a href=\"cards/medqa-usmle.html\">"));
    assert!(!index.contains("Runs") && !index.contains("cards/new"), "the server's pages are left out");
    let card = std::fs::read_to_string(out.join("cards/evil-card.html")).unwrap();
    assert!(card.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && card.contains("href=\"../index.html\""), "{card}");
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("static/site.json")).unwrap()).unwrap();
    assert_eq!(json["cards"].as_array().unwrap().len(), cards.len());
}

#[test]
fn a_build_takes_over_only_an_empty_folder_or_its_own() {
    let (dir, out) = built();
    let cards = registry();
    // Rebuilt with one card fewer: that card's files go, and nothing else is touched.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    build_site(&cards[1..], &deployments(), &out).unwrap();
    assert!(!out.join(format!("cards/{}.html", cards[0].id)).exists(), "a removed card's page is removed");
    assert!(out.join(format!("cards/{}.html", cards[1].id)).is_file());
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine", "a file no build wrote stays");
    // A folder holding anything else is refused, and left as it was.
    let foreign = dir.path().join("docs");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("index.html"), "my page").unwrap();
    let e = build_site(&cards, &deployments(), &foreign).unwrap_err();
    assert!(e.contains("holds files that no `benchcards site build` wrote"), "{e}");
    assert_eq!(files(&foreign), ["index.html"]);
    assert_eq!(std::fs::read_to_string(foreign.join("index.html")).unwrap(), "my page");
    // A file is no folder.
    let e = build_site(&cards, &deployments(), &foreign.join("index.html")).unwrap_err();
    assert!(e.contains("is not a folder"), "{e}");
    // A card id that cannot name a file stops the build before anything is written.
    let mut odd = cards.clone();
    odd[0].id = "../escape".into();
    let e = build_site(&odd, &deployments(), &dir.path().join("odd")).unwrap_err();
    assert!(e.contains("cannot name a file"), "{e}");
    assert!(!dir.path().join("odd").exists() && !dir.path().join("escape.html").exists());
}

/// Serves `dir` over HTTP on 127.0.0.1 as a plain file server would (GET only, the type by the
/// extension, no other header), until the test process ends. Returns its address.
fn serve(dir: &Path) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || answer(&dir, stream));
        }
    });
    base
}

fn answer(dir: &Path, mut stream: std::net::TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    let path = line.split(' ').nth(1).unwrap_or("/").split(['?', '#']).next().unwrap_or("/");
    let rel = if path.ends_with('/') { format!("{path}index.html") } else { path.to_string() };
    let file = dir.join(rel.trim_start_matches('/'));
    let (status, body) = match (rel.contains(".."), std::fs::read(&file)) {
        (false, Ok(body)) => ("200 OK", body),
        _ => ("404 Not Found", b"not found".to_vec()),
    };
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
}

/// The ranking the static wizard shows: each row's card id (from its link), fit and unstated count.
fn ranking(dom: &str) -> Vec<(String, String, String)> {
    let table = dom.split("<table id=\"ranking\">").nth(1).unwrap_or_else(|| panic!("no ranking: {dom}"));
    let body = table.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let cells: Vec<&str> = row.split("<td>").skip(1).map(|c| c.split("</td>").next().unwrap()).collect();
            let id = cells[1].split("href=\"cards/").nth(1).unwrap().split(".html").next().unwrap().to_string();
            (id, cells[2].to_string(), cells[3].to_string())
        })
        .collect()
}

/// A query string's pairs, percent-decoded.
fn decoded(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let mut bytes = Vec::new();
        let mut it = s.bytes();
        while let Some(b) = it.next() {
            bytes.push(if b == b'%' {
                let h: String = [it.next().unwrap(), it.next().unwrap()].iter().map(|&c| c as char).collect();
                u8::from_str_radix(&h, 16).unwrap()
            } else {
                b
            });
        }
        String::from_utf8(bytes).unwrap()
    };
    query.split('&').map(|kv| kv.split_once('=').unwrap()).map(|(k, v)| (decode(k), decode(v))).collect()
}

/// The summary line's text in a page.
fn summary(dom: &str) -> &str {
    let at = dom.find("id=\"summary\"").unwrap();
    dom[at..].split('>').nth(1).unwrap().split("</p").next().unwrap()
}

#[test]
fn the_static_copy_walks_in_chromium_and_its_wizard_ranks_as_match_does() {
    let Some(chromium) = chromium() else { return };
    let (_dir, out) = built();
    let base = serve(&out);
    let t = taxonomy();
    let cards: Vec<Card> = registry();
    // The ranking the browser computes equals `match`'s for every bundled deployment, and for one
    // with other weights and a mix of values no card holds together.
    let mut profiles: Vec<(String, String)> = DEPLOYMENTS.iter().map(|d| (d.to_string(), wizard_query(&deployment(d), ""))).collect();
    let mixed = encode(&[
        ("care_setting", "primary_care"),
        ("care_setting", "research"),
        ("share.acuity_mix.emergent", "0.7"),
        ("share.acuity_mix.routine", "0.3"),
        ("language", "en"),
        ("currency", "2023"),
        ("as_of", "2026-11-01"),
        ("interaction_mode", "single_turn"),
        ("weight.decision_mediation", "low"),
        ("weight.query_authorship", "critical"),
    ]);
    profiles.push(("mixed".into(), mixed));
    // The bundled profiles the wizard can state whole (every dimension a value, no override)
    // rank as their files do.
    let mut whole = 0;
    for p in deployments().iter().filter(|p| p.dimensions.values().all(|d| d.value.is_some()) && p.overrides.is_empty()) {
        let ids = |p: &Profile| benchcards_assess::registry::rank(t, &cards, p).into_iter().map(|r| r.card_id).collect::<Vec<_>>();
        let (file, wizard) = (ids(p), ids(&profile_from(&decoded(&wizard_query(p, ""))).1.unwrap()));
        assert_eq!(file, wizard, "{}", p.id);
        whole += 1;
    }
    assert!(whole >= 3, "{whole}");
    for (name, query) in &profiles {
        let pairs = decoded(query);
        let profile = profile_from(&pairs).1.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let expected: Vec<(String, String, String)> = benchcards_assess::registry::rank(t, &cards, &profile)
            .iter()
            .map(|r| (r.card_id.clone(), r.fit.map_or("—".into(), |f| f.display()), r.unknown.to_string()))
            .collect();
        let dom = browse(chromium, &format!("{base}/wizard.html?{query}"), &format!("static-wizard-{name}.png"));
        assert_eq!(ranking(&dom), expected, "{name}: the browser's ranking is match's");
        let best = &benchcards_assess::registry::rank(t, &cards, &profile)[0];
        assert!(
            summary(&dom).starts_with(&format!(
                "Best fit: {}, fit {};",
                benchcards_report::escape_html(&best.card_name),
                best.fit.unwrap().display()
            )),
            "{name}: {}",
            summary(&dom)
        );
        no_live_markup(&dom, name);
    }
    // An answer this copy did not precompute is said, not ranked.
    let dom = browse(chromium, &format!("{base}/wizard.html?language=tlh"), "static-wizard-unranked.png");
    assert!(summary(&dom).starts_with("Not yet a deployment profile this copy can rank: 1 problem"), "{}", summary(&dom));
    assert!(dom.contains("not `tlh`") && !dom.contains("id=\"ranking\""), "{dom}");
    // The registry filter works in the browser.
    let dom =
        browse(chromium, &format!("{base}/index.html?dimension=interaction_mode&value=%20Single_Turn"), "static-registry-filtered.png");
    let single = cards
        .iter()
        .filter(|c| c.dimensions.get("interaction_mode").and_then(|d| d.value.as_ref()).is_some_and(|v| v.ids().contains(&"single_turn")))
        .count();
    assert!(single > 0 && single < cards.len());
    assert!(dom.contains(&format!("<p id=\"shown\">{single} of {} card(s).</p>", cards.len())), "{dom}");
    assert_eq!(dom.matches("<tr hidden=\"\">").count(), cards.len() - single);
    // Every page renders, with no page wider than a phone, and the wizard's result placed as the server's.
    let chatbot = format!("wizard.html?{}", wizard_query(&deployment("patient-symptom-chatbot"), ""));
    let ready = "document.getElementById('ranking') !== null";
    let mut wide = Vec::new();
    for (name, page, ready) in [
        ("registry", "index.html", "true"),
        ("heatmap", "heatmap.html", "true"),
        ("card", "cards/bean-scenarios.html", "true"),
        ("evil-card", "cards/evil-card.html", "true"),
        ("wizard", chatbot.as_str(), ready),
    ] {
        let frame = Frame::Served { dir: &out, base: &base, page };
        let px = overflow_at_390(chromium, &frame, ready, &format!("static-{name}-390.png"));
        if px > 0 {
            wide.push(format!("{name}: {px} px too wide"));
        }
    }
    assert!(wide.is_empty(), "pages scroll sideways at 390 px: {wide:?}");
    let frame = Frame::Served { dir: &out, base: &base, page: &chatbot };
    assert_eq!(measure(chromium, &frame, 1400, ready, RESULT_PLACE, None), "beside sticky 0");
    assert!(measure(chromium, &frame, 390, ready, RESULT_PLACE, None).starts_with("after static "));
    let heatmap = browse(chromium, &format!("{base}/heatmap.html"), "static-heatmap.png");
    assert!(heatmap.contains("class=\"heatmap\"") && heatmap.contains("href=\"cards/bean-scenarios.html\""));
    let card = browse(chromium, &format!("{base}/cards/bean-scenarios.html"), "static-card.png");
    assert!(card.contains("Bean") && card.contains("href=\"../cards/bean-scenarios.json\""));
    assert!(root().join("target/screenshots/static-wizard-patient-symptom-chatbot.png").is_file());
}
