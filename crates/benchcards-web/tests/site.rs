//! The web UI over HTTP on 127.0.0.1: every page and API answer checked by content; hostile card
//! text shown as text; run stores named by file name only. With `chromium` present (required
//! when CI is set), every page is loaded in headless Chromium, its DOM checked, and screenshots
//! saved under target/screenshots/ at 1400 and 390 pixels wide (at 390 no page may scroll
//! sideways).

mod common;

use benchcards_core::Profile;
use benchcards_core::document::{Document, load_text};
use benchcards_eval::store::{SampleRow, Store};
use benchcards_web::{Limits, Site, router};
use common::{
    Frame, RESULT_PLACE, browse, card, chromium, deployment, encode, measure, no_live_markup, overflow_at_390, registry, root, wizard_query,
};

/// The bundled public symptom-chatbot profile.
fn chatbot() -> Profile {
    deployment("patient-symptom-chatbot")
}

/// The wizard's query for the public symptom chatbot, compared with `card`.
fn chatbot_query(card: &str) -> String {
    wizard_query(&chatbot(), card)
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

/// The card wizard's query for a small card: some dimensions answered (one value, a set, shares,
/// an open value), one with its evidence, one with another status; the rest left unanswered.
fn card_query(name: &str) -> String {
    encode(&[
        ("name", name),
        ("citation", "Doe J. Ten symptom scenarios. Journal (2026)."),
        ("card_author", "benchcards tests"),
        ("query_author", "clinician"),
        ("source.query_author", "https://example.org/paper"),
        ("where.query_author", "Methods"),
        ("quote.query_author", "Physicians wrote every scenario."),
        ("answer.query_author", "Clinicians wrote the vignettes."),
        ("interaction_mode", "single_turn"),
        ("status.interaction_mode", "inferred"),
        ("care_setting", "home_self_care"),
        ("care_setting", "primary_care"),
        ("share.acuity_mix.emergent", "0.25"),
        ("share.acuity_mix.routine", "0.75"),
        ("language", "en-GB"),
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_over_the_limits_are_refused_with_a_reason() {
    let s = server().await;
    let limits = Limits::default();
    let long = format!("{}/?q={}", s.base, "a".repeat(limits.max_target));
    let (code, body, _) = get(&long).await;
    assert_eq!(code, 414);
    assert!(body.contains(&format!("the limit is {}.", limits.max_target)), "{body}");
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
    assert_eq!(shown(&typed), shown(&filtered), "the filter ignores case and surrounding spaces");
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
        "vs deployment <code>patient-symptom-chatbot</code>",
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

/// The text of the wizard's summary line.
fn summary(page: &str) -> &str {
    let open = "<p id=\"summary\" aria-live=\"polite\" aria-atomic=\"true\">";
    let at = page.find(open).unwrap_or_else(|| panic!("no summary line: {page}")) + open.len();
    page[at..].split("</p>").next().unwrap()
}

/// The number of cards the registry page says it shows.
fn shown(page: &str) -> usize {
    let at = page.find("<p id=\"shown\">").expect("the count of cards shown") + "<p id=\"shown\">".len();
    page[at..].split(" of ").next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_downloads_a_profile_carrying_every_field() {
    use benchcards_core::Value;
    let s = server().await;
    let p = chatbot();
    let (code, yaml, _) = get(&format!("{}/api/profile.yaml?{}", s.base, chatbot_query(""))).await;
    assert_eq!(code, 200, "{yaml}");
    let loaded = load_text("deployment.yaml", yaml.clone(), None, false);
    assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
    let Some(Document::Profile(got)) = loaded.document else { panic!("no profile: {yaml}") };
    assert_eq!(
        (got.id.as_str(), got.name.as_str(), got.as_of.as_deref()),
        ("patient-symptom-chatbot", p.name.as_str(), Some("2026-11-01"))
    );
    assert_eq!(got.tolerances().len(), 4, "{yaml}");
    assert_eq!(got.tolerances(), p.tolerances());
    for (g, setting) in &p.groups {
        assert_eq!(got.groups[g].weight, setting.weight, "{g}");
    }
    let shares = [("emergent", 0.1), ("urgent", 0.2), ("routine", 0.3), ("self_care", 0.4)].map(|(v, s)| (v.to_string(), s));
    assert_eq!(got.dimensions["acuity_mix"].value, Some(Value::Mixture(shares.to_vec())));
    for (id, d) in &p.dimensions {
        assert_eq!(got.dimensions[id].value, d.value, "{id}");
    }
    // Without an id, the id is the name as a slug; a given id is checked as a profile's is.
    let (_, yaml, _) = get(&format!("{}/api/profile.yaml?name=Ward%20round%20helper%20(UK)&query_author=clinician", s.base)).await;
    assert!(yaml.contains("id: ward-round-helper-uk\n"), "{yaml}");
    // Problems are said in words, naming the question; nothing downloads until they are fixed.
    for (query, problem) in [
        ("id=Ward%20Round&query_author=clinician", "id `Ward Round` is not a slug (use `ward-round`)"),
        ("share.acuity_mix.emergent=0.5&share.acuity_mix.routine=0.4", "Mix of urgency: shares sum to 0.9 instead of 1"),
        ("share.acuity_mix.emergent=half", "Mix of urgency, share of emergent: `half` is not a number"),
        ("query_author=patient&tolerance.query_authorship=lots", "Query authorship, tolerance: `lots` is not a number"),
        ("query_author=patient&tolerance.query_authorship=150", "Query authorship: tolerance 150 is outside 0–100"),
        ("query_author=patient&as_of=2026-13-01", "`2026-13-01` is not a date"),
    ] {
        let (code, body, _) = get(&format!("{}/api/profile.yaml?{query}", s.base)).await;
        assert_eq!(code, 422, "{query}: {body}");
        let errors: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(errors["errors"].as_array().unwrap().iter().any(|e| e.as_str().unwrap().starts_with(problem)), "{query}: {body}");
        let (_, page, _) = get(&format!("{}/wizard?{query}", s.base)).await;
        assert_eq!(summary(&page), "Not yet a deployment profile: 1 problem (listed below).", "{query}");
        assert!(page.contains(&format!("<li>{}", benchcards_report::inline_html(problem))), "{query}");
        assert!(!page.contains("/api/profile.yaml"), "{query}: no download");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_wizards_summary_line_is_live() {
    let s = server().await;
    let (chatbot_q, card_q) = (chatbot_query("bean-scenarios"), card_query("Ten symptom scenarios"));
    for path in [
        format!("/wizard?{chatbot_q}"),
        format!("/wizard/result?{chatbot_q}"),
        "/wizard".to_string(),
        "/wizard?share.acuity_mix.emergent=2".to_string(),
        format!("/cards/new?{card_q}"),
        format!("/cards/new/result?{card_q}"),
        "/cards/new".to_string(),
    ] {
        let (code, page, _) = get(&format!("{}{path}", s.base)).await;
        assert_eq!(code, 200, "{path}");
        assert_eq!(page.matches("aria-live").count(), 1, "{path}: one live region");
        // Roles that are live regions of their own.
        for role in ["alert", "status", "log", "marquee", "timer"] {
            assert!(!page.contains(&format!("role=\"{role}\"")), "{path}: role {role}");
        }
        assert!(!summary(&page).contains('<') && !summary(&page).contains('\n'), "{path}: one line of text");
    }
    // The line itself: the best-fitting card, its fit, the groups it breaks, what is unanswered.
    let best = &benchcards_assess::registry::rank(benchcards_core::taxonomy(), &registry(), &chatbot())[0];
    let broken = best.broken_groups.len();
    let expected = format!(
        "Best fit: {}, fit {}; {broken} of 6 groups {}; 0 dimensions not answered.",
        benchcards_report::escape_html(&best.card_name),
        best.fit.unwrap().display(),
        if broken == 1 { "breaks" } else { "break" }
    );
    let (_, page, _) = get(&format!("{}/wizard?{chatbot_q}", s.base)).await;
    assert_eq!(summary(&page), expected);
    let (_, page, _) = get(&format!("{}/wizard?query_author=patient&language=en-GB", s.base)).await;
    assert!(summary(&page).ends_with("; 22 dimensions not answered."), "{}", summary(&page));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_card_wizard_downloads_a_card_that_passes_check() {
    use benchcards_core::{CardStatus, Value};
    let s = server().await;
    let t = benchcards_core::taxonomy();
    let q = card_query("Ten symptom scenarios");
    let (code, page, _) = get(&format!("{}/cards/new?{q}", s.base)).await;
    assert_eq!(code, 200);
    assert!(summary(&page).starts_with("A valid card: 5 of 24 dimensions answered;"), "{}", summary(&page));
    assert!(page.contains("Download this card (YAML)") && page.contains("<a href=\"/cards/new\">New card</a>"));
    // The questions are the benchmark's, grouped as the deployment wizard's.
    let author = t.dimension("query_author").unwrap();
    assert!(page.contains(&benchcards_report::escape_html(&author.question)));
    assert!(!page.contains(&benchcards_report::escape_html(&author.deployment_question)));
    let (_, wizard, _) = get(&format!("{}/wizard", s.base)).await;
    assert!(wizard.contains(&benchcards_report::escape_html(&author.deployment_question)));
    assert!(!wizard.contains(&benchcards_report::escape_html(&author.question)));
    let legends = |page: &str| page.matches("<fieldset class=\"group\">").count();
    assert_eq!((legends(&page), legends(&wizard)), (6, 6));
    // The download passes check with no error.
    let (code, yaml, headers) = get(&format!("{}/api/card.yaml?{q}", s.base)).await;
    assert_eq!(code, 200, "{yaml}");
    assert!(headers["content-disposition"].to_str().unwrap().contains("ten-symptom-scenarios.yaml"));
    let loaded = load_text("card.yaml", yaml.clone(), None, false);
    assert_eq!(loaded.diagnostics.errors().count(), 0, "{:?}\n{yaml}", loaded.diagnostics);
    let Some(Document::Card(c)) = loaded.document else { panic!("no card: {yaml}") };
    assert_eq!((c.id.as_str(), c.card_author.as_str(), c.designer_endorsed), ("ten-symptom-scenarios", "benchcards tests", false));
    assert_eq!(c.dimensions.len(), t.dimensions.len(), "every dimension is listed");
    let author = &c.dimensions["query_author"];
    assert_eq!((&author.value, author.status), (&Some(Value::One("clinician".into())), CardStatus::Stated));
    assert_eq!(author.answer.as_deref(), Some("Clinicians wrote the vignettes."));
    let e = &author.evidence[0];
    assert_eq!(
        (e.source.as_str(), e.location.as_deref(), e.quote.as_deref()),
        ("https://example.org/paper", Some("Methods"), Some("Physicians wrote every scenario."))
    );
    assert_eq!(c.dimensions["interaction_mode"].status, CardStatus::Inferred);
    assert_eq!(c.dimensions["care_setting"].value, Some(Value::Set(vec!["home_self_care".into(), "primary_care".into()])));
    assert_eq!(c.dimensions["acuity_mix"].value, Some(Value::Mixture(vec![("emergent".into(), 0.25), ("routine".into(), 0.75)])));
    let answered = ["query_author", "interaction_mode", "care_setting", "acuity_mix", "language"];
    for (id, d) in c.dimensions.iter().filter(|(id, _)| !answered.contains(&id.as_str())) {
        assert_eq!((d.status, &d.value), (CardStatus::NotSpecified, &None), "{id}: unanswered is not_specified");
    }
    // Problems are shown as they are found, naming the question, and nothing downloads.
    let bad =
        encode(&[("name", "Ten"), ("query_author", "patient"), ("status.misreporting", "stated"), ("quote.language", "no source given")]);
    let (_, page, _) = get(&format!("{}/cards/new?{bad}", s.base)).await;
    assert!(summary(&page).starts_with("Not yet a valid card: 4 problems (listed below)"), "{}", summary(&page));
    for problem in [
        "Give the benchmark's citation.",
        "Say who wrote this card.",
        "Misreported facts: `misreporting` has status `stated` but no value",
        "Language: evidence without a source",
    ] {
        assert!(page.contains(&format!("<li>{}", benchcards_report::inline_html(problem))), "{problem}: {page}");
    }
    assert!(!page.contains("/api/card.yaml"), "no download");
    assert_eq!(get(&format!("{}/api/card.yaml?{bad}", s.base)).await.0, 422);
    // Hostile text is shown as text, in the form, the summary and the card's YAML.
    let (_, page, _) = get(&format!("{}/cards/new?{}", s.base, card_query("<script>alert(1)</script><img src=x>"))).await;
    no_live_markup(&page, "the card wizard");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_registry_filter_offers_the_chosen_dimensions_values() {
    let s = server().await;
    let t = benchcards_core::taxonomy();
    let (_, page, _) = get(&format!("{}/?dimension=interaction_mode", s.base)).await;
    assert!(page.contains("list=\"values-interaction_mode\""), "the value input lists the dimension's values");
    let list = |page: &str, id: &str| -> Vec<String> {
        let open = format!("<datalist id=\"values-{id}\">");
        let at = page.find(&open).unwrap_or_else(|| panic!("no list {id}")) + open.len();
        let list = page[at..].split("</datalist>").next().unwrap();
        list.split("<option value=\"").skip(1).map(|o| o.split('"').next().unwrap().to_string()).collect()
    };
    let vocabulary: Vec<String> = t.dimension("interaction_mode").unwrap().values.iter().map(|v| v.id.clone()).collect();
    assert_eq!(list(&page, "interaction_mode"), vocabulary);
    // A value chosen from the list filters the registry; in other case, to the same cards.
    let value = &list(&page, "interaction_mode")[0];
    let (_, chosen, _) = get(&format!("{}/?dimension=interaction_mode&value={value}", s.base)).await;
    let n = shown(&chosen);
    assert!(n > 0 && n < 22, "{n} of 22 cards are single-turn");
    let (_, shouted, _) = get(&format!("{}/?dimension=interaction_mode&value={}", s.base, value.to_uppercase())).await;
    assert_eq!(shown(&shouted), n);
    // With no dimension chosen, the list holds every value once.
    let (_, page, _) = get(&format!("{}/", s.base)).await;
    assert!(page.contains("list=\"values-any\""));
    let any = list(&page, "any");
    let mut unique = any.clone();
    unique.dedup();
    assert!(any.contains(&"multi_turn_human".to_string()) && unique.len() == any.len() && any.len() > 100, "{any:?}");
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

#[tokio::test(flavor = "multi_thread")]
async fn no_page_scrolls_sideways_on_a_phone() {
    let Some(chromium) = chromium() else { return };
    let s = server().await;
    let pages = [
        ("registry", format!("{}/", s.base)),
        ("heatmap", format!("{}/heatmap", s.base)),
        ("wizard", format!("{}/wizard?{}", s.base, chatbot_query("bean-scenarios"))),
        ("card-wizard", format!("{}/cards/new?{}", s.base, card_query("Ten symptom scenarios"))),
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
        let px = tokio::task::spawn_blocking(move || overflow_at_390(chromium, &Frame::Html(&html), "true", &format!("{name}-390.png")))
            .await
            .unwrap();
        if px > 0 {
            wide.push(format!("{name}: {px} px too wide"));
        }
    }
    assert!(wide.is_empty(), "pages scroll sideways at 390 px: {wide:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wizards_result_sits_beside_the_form_on_a_wide_screen_and_after_it_on_a_phone() {
    let Some(chromium) = chromium() else { return };
    let s = server().await;
    for url in [format!("{}/wizard?{}", s.base, chatbot_query("bean-scenarios")), format!("{}/cards/new?{}", s.base, card_query("Ten"))] {
        let html = get(&url).await.1;
        let (wide, narrow) = tokio::task::spawn_blocking(move || {
            let frame = Frame::Html(&html);
            (measure(chromium, &frame, 1400, "true", RESULT_PLACE, None), measure(chromium, &frame, 390, "true", RESULT_PLACE, None))
        })
        .await
        .unwrap();
        assert_eq!(wide, "beside sticky 0", "{url}: at 1400 px the result stays in view beside the form");
        assert!(narrow.starts_with("after static "), "{url}: at 390 px the result follows the form: {narrow}");
    }
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
            ("card-wizard.png", format!("{base}/cards/new?{}", card_query("Ten symptom scenarios"))),
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
    let [registry, heatmap, wizard, card_wizard, run, evil, card, runs, api] = dom;
    assert!(card.contains("Bean") && runs.contains("runs.sqlite") && api.contains("/api/cards"), "every page renders");
    assert!(registry.contains("22 of 22 card(s).") && registry.contains("href=\"/cards/medqa-usmle\""));
    assert!(heatmap.contains("class=\"heatmap\""));
    assert!(
        wizard.contains("Ranked matches")
            && wizard.contains("<a href=\"/cards/healthsearchqa\">healthsearchqa</a>")
            && wizard.contains("Gaps"),
        "the browser shows the ranked matches, each linking to its card"
    );
    assert!(
        card_wizard.contains("A valid card: 5 of 24 dimensions answered") && card_wizard.contains("Download this card"),
        "the browser shows the card wizard's result"
    );
    // After the script has run, the summary line is still the only live region.
    for page in [&wizard, &card_wizard] {
        assert_eq!(page.matches("aria-live").count(), 1, "one live region");
    }
    assert!(run.contains("Readiness") && run.contains("50.0%"));
    // The hostile name is text in the parsed page: no image element, no script but the wizard's.
    for page in [&registry, &evil, &wizard, &card_wizard, &heatmap] {
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
