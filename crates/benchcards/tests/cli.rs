//! The command line as a user meets it: exit codes, output formats, and files on disk.

mod common;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn bc() -> Command {
    let mut c = Command::cargo_bin("benchcards").unwrap();
    c.current_dir(repo());
    c
}

fn files_in(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "md"))
        .collect();
    v.sort();
    v
}

#[test]
fn bundled_cards_and_profiles_pass_check_without_warnings() {
    let mut files = files_in("registry");
    assert!(files.len() >= 5, "the registry holds at least five cards");
    let profiles = files_in("examples/deployments");
    assert_eq!(profiles.len(), 5);
    files.extend(profiles);
    let out = bc().arg("check").args(&files).args(["--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    for f in json["files"].as_array().unwrap() {
        assert_eq!(f["errors"].as_array().unwrap().len(), 0, "{f}");
        assert_eq!(f["warnings"].as_array().unwrap().len(), 0, "{f}");
    }
}

#[test]
fn registry_cards_are_unendorsed_warning_free_have_unique_ids_and_cite_stated_values() {
    let mut ids = std::collections::HashSet::new();
    for path in files_in("registry") {
        let (card, loaded) = benchcards_core::load_card(&path).unwrap_or_else(|e| panic!("{}: {:?}", e.path, e.loaded.diagnostics));
        let warnings: Vec<_> = loaded.diagnostics.warnings().collect();
        assert!(warnings.is_empty(), "{} passes check with no warning: {warnings:#?}", card.id);
        assert!(ids.insert(card.id.clone()), "duplicate card id {}", card.id);
        assert_eq!(card.card_author, "benchcards project", "{}", card.id);
        assert!(!card.designer_endorsed, "{}", card.id);
        for (dim, entry) in card.dimensions.iter().chain(card.flags.iter()) {
            if entry.status == benchcards_core::CardStatus::Stated {
                assert!(entry.evidence.iter().any(|e| e.source.starts_with("http")), "{}: {dim} is stated without a URL source", card.id);
            }
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schema/benchcard.schema.json"),
            "{} lacks the schema line",
            path.display()
        );
    }
    for path in files_in("examples/deployments") {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../../schema/deployment.schema.json"),
            "{} lacks the schema line",
            path.display()
        );
    }
}

#[test]
fn check_json_reports_position_message_and_suggestion_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let good = repo().join("examples/deployments/patient-symptom-chatbot.yaml");
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("interaction_mode: { value: multi_turn_human", "interaction_mode: { value: multi_turn_humans");
    std::fs::write(&bad, text).unwrap();
    let out = bc().arg("check").arg(&good).arg(&bad).args(["--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["errors"].as_array().unwrap().len(), 0);
    let e = &files[1]["errors"][0];
    assert_eq!(e["line"], 22);
    assert_eq!(e["column"], 32);
    assert_eq!(e["suggestion"], "did you mean `multi_turn_human`?");
    assert!(e["message"].as_str().unwrap().contains("unknown value `multi_turn_humans`"));
    // The text form shows the file, position and the offending snippet.
    let out = bc().arg("check").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:22:32"), "{err}");
    assert!(err.contains("multi_turn_humans"), "{err}");
    assert!(err.contains("did you mean `multi_turn_human`?"), "{err}");
}

#[test]
fn check_missing_file_is_an_error_not_a_panic() {
    let out = bc().args(["check", "no/such/file.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read file"));
}

#[test]
fn taxonomy_json_has_the_documented_shape() {
    let out = bc().args(["taxonomy", "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    let groups = t["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 6);
    assert_eq!(groups[0]["id"], "query_authorship");
    assert_eq!(groups[0]["kind"], "task");
    assert_eq!(groups[4]["kind"], "outcome");
    let dims = t["dimensions"].as_array().unwrap();
    let mode = dims.iter().find(|d| d["id"] == "interaction_mode").unwrap();
    assert_eq!(mode["rule"], "ordinal");
    assert_eq!(mode["demanding"], "multi_turn_human");
    assert_eq!(mode["group"], "interaction_type");
    assert!(mode["question"].as_str().unwrap().ends_with('?'));
    assert!(mode["values"].as_array().unwrap().iter().all(|v| v["id"].is_string() && v["definition"].is_string()));
    assert_eq!(t["flags"].as_array().unwrap().len(), 6);
    for fmt in ["table", "md"] {
        let out = bc().args(["taxonomy", "--format", fmt]).output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("elicitation_required"));
    }
}

#[test]
fn import_turns_both_quirks_into_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("card.yaml");
    let profile = dir.path().join("profile.yaml");
    let out =
        bc().arg("import").arg(fixture("paper-card-quirks.yaml")).arg("-o").arg(&card).arg("--profile").arg(&profile).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("`holds_at_deployment` under `intended_use_case`"), "{err}");
    assert!(err.contains("interaction answer `One prompt per case, single-shot.` is not one of the format's values"), "{err}");
    let (c, _) = benchcards_core::load_card(&card).unwrap();
    let value = |d: &str| c.dimensions[d].value.as_ref().map(|v| v.display());
    assert_eq!(value("query_author").as_deref(), Some("clinician"));
    assert_eq!(value("information_completeness").as_deref(), Some("complete"));
    assert_eq!(value("interaction_mode").as_deref(), Some("single_turn"));
    assert_eq!(value("decision_mediation").as_deref(), Some("llm_is_final"));
    assert_eq!(value("outcome_level").as_deref(), Some("model_vs_reference"));
    assert_eq!(c.dimensions["interaction_mode"].status, benchcards_core::CardStatus::Inferred);
    assert_eq!(c.dimensions["care_setting"].status, benchcards_core::CardStatus::NotSpecified);
    assert_eq!(c.dimensions.len(), 24);
    let notes = c.notes.unwrap();
    assert!(notes.contains("- query_authorship: No. People describe their own symptoms."), "{notes}");
    assert!(notes.contains("- intended use: Deployment: adults ask a chatbot"), "{notes}");
    let (p, _) = benchcards_core::load_profile(&profile).unwrap();
    assert_eq!(p.dimensions["interaction_mode"].note.as_deref(), Some("No. Real use is a conversation."));
    assert_eq!(p.dimensions["interaction_mode"].status, benchcards_core::ProfileStatus::NotSpecified);
    assert!(bc().arg("check").arg(&card).arg(&profile).output().unwrap().status.success());
}

#[test]
fn import_refuses_a_card_without_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("noname.yaml");
    std::fs::write(&src, "citation: x\nintended_use_case: {answer: y}\n").unwrap();
    let out = bc().arg("import").arg(&src).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no `benchmark_name` text"));
}

#[test]
fn import_export_import_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["paper-card-clean.yaml", "paper-card-quirks.yaml"] {
        let card1 = dir.path().join("card1.yaml");
        let paper = dir.path().join("paper.yaml");
        let card2 = dir.path().join("card2.yaml");
        let paper2 = dir.path().join("paper2.yaml");
        assert!(bc().arg("import").arg(fixture(name)).arg("-o").arg(&card1).output().unwrap().status.success());
        let out = bc().args(["export", "--to", "raman"]).arg(&card1).arg("-o").arg(&paper).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = bc().arg("import").arg(&paper).arg("-o").arg(&card2).output().unwrap();
        assert!(out.status.success());
        assert!(!String::from_utf8_lossy(&out.stderr).contains("paper-format schema"), "our export matches the format's schema");
        let (a, _) = benchcards_core::load_card(&card1).unwrap();
        let (mut b, _) = benchcards_core::load_card(&card2).unwrap();
        if name == "paper-card-quirks.yaml" {
            // The format only admits its enum for the interaction answer; the value survives.
            assert_eq!(b.dimensions["interaction_mode"].answer.as_deref(), Some("single-turn"));
            b.dimensions["interaction_mode"].answer = a.dimensions["interaction_mode"].answer.clone();
            b.dimensions["interaction_mode"].evidence = a.dimensions["interaction_mode"].evidence.clone();
        }
        assert_eq!(a, b, "{name}: import → export → import changes nothing");
        // Exporting again is a fixed point.
        assert!(bc().args(["export", "--to", "raman"]).arg(&card2).arg("-o").arg(&paper2).output().unwrap().status.success());
        assert_eq!(std::fs::read_to_string(&paper).unwrap(), std::fs::read_to_string(&paper2).unwrap());
    }
}

#[test]
fn export_of_a_registry_card_passes_the_format_schema() {
    let out = bc().args(["export", "--to", "raman", "registry/bean-scenarios.yaml"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("benchmark_name:"));
    assert!(text.contains("interaction_type:"));
    assert!(text.contains("answer: single-turn"), "{text}");
    // What the format cannot hold is said, not dropped silently.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the paper's format cannot hold") && err.contains("intended_user") && err.contains("the evidence"), "{err}");
    // A `.json` file gets JSON, and it reads back as the same card.
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bean.json");
    assert!(bc().args(["export", "--to", "raman", "registry/bean-scenarios.yaml", "-o"]).arg(&json).output().unwrap().status.success());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["contextual"]["interaction_type"]["answer"], "single-turn");
    assert!(bc().arg("import").arg(&json).output().unwrap().status.success(), "the JSON export imports back");
}

#[test]
fn render_keeps_hugging_face_keys_and_prose_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("README.md");
    std::fs::copy(fixture("hf-readme.md"), &readme).unwrap();
    let original = std::fs::read_to_string(&readme).unwrap();
    let front = original.split("---\n").nth(1).unwrap().to_string();
    let out = bc().arg("render").arg(&readme).args(["--format", "md", "-o"]).arg(&readme).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let once = std::fs::read_to_string(&readme).unwrap();
    assert!(once.starts_with(&format!("---\n{front}---\n")), "front matter untouched:\n{once}");
    assert!(once.contains("license: cc-by-4.0\nlanguage:\n  - en\n  - sw\n"));
    assert!(once.contains("Prose the dataset's authors wrote, which rendering keeps."));
    assert!(once.contains("| query_author | patient | stated |"), "{once}");
    // The README's own prose, title first, stays where it was, above the generated section.
    let prose = once.find("Prose the dataset's authors wrote").unwrap();
    assert!(prose < once.find("<!-- benchcards").unwrap(), "{once}");
    let after_front = |t: &str| t[t.rfind("---\n").unwrap() + 4..].trim_start().lines().next().unwrap_or("").to_string();
    assert_eq!(after_front(&once), after_front(&original), "the first line after the front matter is still the README's own");
    let out = bc().arg("render").arg(&readme).args(["--format", "md", "-o"]).arg(&readme).output().unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), once, "rendering twice changes nothing");
    // The rendered README is still a valid card.
    assert!(bc().arg("check").arg(&readme).output().unwrap().status.success());
}

#[test]
fn render_html_escapes_card_text() {
    let out = bc().arg("render").arg(fixture("hf-readme.md")).args(["--format", "html"]).output().unwrap();
    assert!(out.status.success());
    let html = String::from_utf8_lossy(&out.stdout);
    assert!(html.contains("Fixture QA &lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(!html.contains("<script>"));
    assert!(!html.contains("<img"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    let out = bc().arg("render").arg(fixture("hf-readme.md")).args(["--format", "json"]).output().unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["benchcard"]["id"], "fixture-qa");
}

#[test]
fn render_refuses_a_profile() {
    let out = bc().args(["render", "examples/deployments/ed-decision-support.yaml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected a card"));
}

#[test]
fn checked_in_schemas_are_current() {
    let out = bc().args(["schema", "--check", "--out", "schema"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.schema.json"), "{}").unwrap();
    let out = bc().args(["schema", "--check", "--out"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stale JSON Schemas"));
}

#[test]
fn demo_runs_the_whole_flow_offline_and_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let demo = || Command::cargo_bin("benchcards").unwrap().current_dir(dir.path()).args(["demo", "--items", "1"]).output().unwrap();
    let out = demo();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    // Stage 1 from the compiled-in registry.
    assert!(text.contains("patient-symptom-chatbot"));
    assert!(text.contains("medqa-usmle") && text.contains("bean-scenarios"));
    assert!(text.contains("multi_turn_human"));
    if benchcards_local::find_model().is_err() && std::env::var("CI").is_err() {
        assert!(text.contains("Stage 3 skipped") && text.contains("scripts/demo.sh"), "{text}");
        eprintln!("local model absent (run scripts/setup-local-model.sh): stage 3 is not checked here");
        return;
    }
    // Stage 2 from the bundled logs needs no model.
    assert!(text.contains("5. What 12 bundled conversations say") && text.contains("elicitation_required"), "{text}");
    // Stage 3: one vignette under three conditions (two patient queries), decomposed.
    assert!(text.contains("Run `local-smollm2-") && text.contains("4 sample(s) (0 from the cache of earlier demos), 0 failed"), "{text}");
    assert!(text.contains("vignette → patient_query") && text.contains("patient_query → conversation"), "{text}");
    assert!(text.contains("not meaningful"), "the demo says the tiny model's answers mean nothing");
    let out_dir = dir.path().join("benchcards-demo");
    let results = std::fs::read_to_string(out_dir.join("results.csv")).unwrap();
    for condition in ["vignette", "patient_query", "conversation"] {
        assert!(results.lines().any(|l| l.contains(&format!(",{condition},"))), "{condition} in {results}");
    }
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains("<h2>Gap decomposition</h2>") && html.contains("<svg") && html.contains("not meaningful"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "the report loads nothing from outside");
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("](waterfall.svg)") && out_dir.join("waterfall.svg").is_file());
    // Word for word what it showed before, apart from timings and run ids (accept a deliberate
    // change with INSTA_UPDATE=always).
    let stable = |s: &str| {
        let s = regex::Regex::new(r"local-smollm2-\d+").unwrap().replace_all(s, "local-smollm2-RUN");
        regex::Regex::new(r"\b\d+\.\d s\b").unwrap().replace_all(&s, "T s").into_owned()
    };
    insta::assert_snapshot!("demo_stdout", stable(&text));
    insta::assert_snapshot!("demo_report_md", stable(&md));
    // The plan left behind is one a user can check, edit and run.
    let check = bc().current_dir(&out_dir).args(["check", "plan.yaml"]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let store = benchcards_eval::store::Store::open_read_only(&out_dir.join("runs.sqlite")).unwrap();
    let samples = store.samples(&store.runs().unwrap()[0].id).unwrap();
    assert_eq!(samples.len(), 4);
    for s in &samples {
        assert!(s.response.as_deref().is_some_and(|r| !r.is_empty()), "the local model answered: {s:?}");
        // max_tokens 64 per request; a one-turn conversation makes at most three requests.
        let cap = if s.condition == "conversation" { 3 * 64 } else { 64 };
        assert!((1..=cap).contains(&s.completion_tokens), "{s:?}");
    }
    // The demo run's report and clinician brief label the tiny model's numbers as a demonstration;
    // the brief speaks in words and prints on one page. `report RUN` finds the demo's store from
    // its folder by itself, and reading it changes no file and leaves none behind.
    let run = &store.runs().unwrap()[0].id;
    let listing = |root: &Path| -> Vec<(std::path::PathBuf, u64, std::time::SystemTime)> {
        let mut out = Vec::new();
        for e in walk(root) {
            let m = std::fs::metadata(&e).unwrap();
            out.push((e, m.len(), m.modified().unwrap()));
        }
        out
    };
    let before = listing(dir.path());
    let elsewhere = tempfile::tempdir().unwrap();
    // From the demo's folder and from the folder the demo was run in (the store in a subfolder).
    for (out, audience, from) in [("team.html", "team", out_dir.as_path()), ("brief.html", "clinician", dir.path())] {
        let to = elsewhere.path().join(out);
        let report = bc().current_dir(from).args(["report", run, "-o", to.to_str().unwrap(), "--audience", audience]).output().unwrap();
        assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
        let html = std::fs::read_to_string(&to).unwrap();
        assert!(html.contains("Demo model (smollm2-135m): its numbers show that the pipeline works"), "{out}: {html}");
    }
    assert_eq!(listing(dir.path()), before, "reading the run store changed or created a file");
    let missing = bc().current_dir(dir.path()).args(["report", "no-such-run", "-o", "x.html"]).output().unwrap();
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success() && err.contains("benchcards-runs.sqlite (no such file)") && err.contains("--store"), "{err}");
    assert_eq!(listing(dir.path()), before, "a failed report leaves no store behind");
    let out_dir = elsewhere.path();
    let team = std::fs::read_to_string(out_dir.join("team.html")).unwrap();
    assert!(team.contains("this run — demo model, not a finding"), "the readiness table labels the measured drop: {team}");
    let brief = std::fs::read_to_string(out_dir.join("brief.html")).unwrap();
    assert!(brief.contains("demo model, not a finding"), "the brief labels the measured drop: {brief}");
    assert_eq!(common::raw_ids(&common::visible_text(&brief)), Vec::<String>::new(), "{brief}");
    if let Some(pages) = common::printed_pages(&out_dir.join("brief.html")) {
        assert_eq!(pages, 1, "the demo run's brief prints on one page");
    }
    // A second demo answers from the run store's cache.
    let again = demo();
    assert!(String::from_utf8_lossy(&again.stdout).contains("4 sample(s) (4 from the cache of earlier demos)"));
}

#[test]
fn serve_listens_on_loopback_unless_told_otherwise_and_then_warns() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("benchcards"))
        .args(["serve", "--port", "0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap()).read_line(&mut first).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(first.starts_with("benchcards serve: http://127.0.0.1:"), "{first}");
    // 192.0.2.1 is for documentation (RFC 5737), no address of this machine: the warning comes
    // before anything listens, and then binding fails.
    let out = bc().args(["serve", "--port", "0", "--host", "192.0.2.1"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with("warning: listening on 192.0.2.1: anyone who can reach this machine can read the registry"), "{err}");
    assert!(err.contains("cannot serve on 192.0.2.1:0"), "{err}");
}

#[test]
fn a_key_written_into_a_plan_is_refused_without_printing_it() {
    let dir = tempfile::tempdir().unwrap();
    let key = "sk-SENTINEL-0123456789abcdefghijklmnop";
    let plan = format!(
        "plan:\n  version: 1\n  id: leaky\n  card: c.yaml\n  deployment: d.yaml\n  dataset: d.jsonl\n  models:\n    - id: m\n      provider: openai\n      model: x\n      base_urls: [\"http://127.0.0.1:9/v1\"]\n      api_key_env: {key}\n  conditions:\n    - id: vignette\n  graders:\n    - kind: conditions\n"
    );
    std::fs::write(dir.path().join("plan.yaml"), plan).unwrap();
    let out = bc().current_dir(dir.path()).args(["check", "plan.yaml"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    // The diagnostic says where and what, but its snippet would have printed the key's line.
    assert!(err.contains("plan.yaml:12:") && err.contains("looks like an API key"), "{err}");
    assert!(!err.contains("SENTINEL") && !String::from_utf8_lossy(&out.stdout).contains("SENTINEL"), "{err}");
}

/// Every file under `root`, in a stable order.
fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out.sort();
    out
}

#[test]
fn a_new_card_filled_in_three_places_passes_check_and_compares() {
    let dir = tempfile::tempdir().unwrap();
    let out = bc().current_dir(dir.path()).args(["card", "new", "my-bench", "-o", "my-bench.yaml"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = dir.path().join("my-bench.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (dim, value) in [("query_author", "patient"), ("language", "en"), ("interaction_mode", "single_turn")] {
        let blank = format!("    {dim}:\n      status: not_specified\n");
        assert!(text.contains(&blank), "{dim} is in the new card");
        let evidence =
            "      evidence:\n        - { source: \"https://example.org/paper\", where: \"Methods\", quote: \"as the test says\" }\n";
        text = text.replace(
            &blank,
            &format!("    {dim}:\n      value: {value}\n      status: stated\n      answer: \"Filled in by the test.\"\n{evidence}"),
        );
    }
    std::fs::write(&path, text).unwrap();
    let check = bc().current_dir(dir.path()).args(["check", "my-bench.yaml", "--format", "json"]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    let file = &report["files"][0];
    // Dimensions left `not_specified` are findings, not faults: no error and no warning.
    assert!(file["errors"].as_array().unwrap().is_empty() && file["warnings"].as_array().unwrap().is_empty(), "{file}");
    // The card compares with a bundled profile named by its id, from any folder.
    let cmp =
        bc().current_dir(dir.path()).args(["compare", "my-bench.yaml", "patient-symptom-chatbot", "--format", "json"]).output().unwrap();
    assert!(cmp.status.success(), "{}", String::from_utf8_lossy(&cmp.stderr));
    let v: Value = serde_json::from_slice(&cmp.stdout).unwrap();
    let qa = v["dimensions"].as_array().unwrap().iter().find(|d| d["id"] == "query_author").unwrap();
    assert_eq!((&qa["benchmark"], &qa["verdict"]), (&Value::from("patient"), &Value::from("holds")), "{qa}");
}

#[test]
fn the_pre_commit_hook_runs_check_on_card_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).unwrap();
    let field = |name: &str| {
        let line = text.lines().find_map(|l| l.trim_start().trim_start_matches("- ").strip_prefix(&format!("{name}: "))).unwrap();
        line.trim().trim_matches('\'').to_string()
    };
    assert_eq!(field("id"), "benchcards-check");
    let files = regex::Regex::new(&field("files")).unwrap();
    for (path, matched) in [("README.md", true), ("cards/my-benchcard.yaml", true), ("my-card.md", true), ("data/train.yaml", false)] {
        assert_eq!(files.is_match(path), matched, "{path}");
    }
    // The entry is a command that exists: run on cards as pre-commit would (files as arguments).
    let entry = field("entry");
    let mut words = entry.split_whitespace();
    assert_eq!(words.next(), Some("benchcards"));
    let out = bc().current_dir(&root).args(words).args(["registry/pubmedqa.yaml", "registry/bean-scenarios.yaml"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_bundled_plan_dataset_and_logs_are_named_by_id_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = bc().current_dir(dir.path()).args(["run", "local-smollm2", "--dry-run"]).output().unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(err.contains("the bundled local-smollm2.yaml") && err.contains("the bundled symptoms-uk.jsonl"), "{err}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("vignette"), "the dry run lists the plan's conditions");
    let measure =
        bc().current_dir(dir.path()).args(["measure", "symptom-chat", "--against", "symptoms-uk", "--format", "json"]).output().unwrap();
    assert!(measure.status.success(), "{}", String::from_utf8_lossy(&measure.stderr));
    assert!(String::from_utf8_lossy(&measure.stdout).contains("\"n\": 12"), "the 12 bundled conversations are measured");
    // A file of the same name in the folder is the user's: it is read, not the bundled one.
    std::fs::write(dir.path().join("symptoms-uk"), "not a dataset\n").unwrap();
    let mine = bc().current_dir(dir.path()).args(["measure", "symptom-chat", "--against", "symptoms-uk"]).output().unwrap();
    assert!(!mine.status.success(), "the user's broken file is read and refused");
    // Nothing was written where the commands ran, but the one file the test put there.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["symptoms-uk"], "{left:?}");
}

#[test]
fn a_mistyped_flag_is_answered_with_the_nearest_flag_of_its_subcommand() {
    for (args, tip) in [
        (&["match", "patient-symptom-chatbot", "--tpo", "3"][..], "a similar argument exists: '--top'"),
        (&["run", "--dryrun", "local-smollm2"][..], "a similar argument exists: '--dry-run'"),
        (&["match", "patient-symptom-chatbot", "--xyz"][..], "to pass '--xyz' as a value"),
    ] {
        let out = bc().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(tip), "{args:?}: {err}");
        assert_eq!(err.matches("tip:").count(), 1, "one tip, not a nearest flag and a `--` escape: {err}");
    }
}
