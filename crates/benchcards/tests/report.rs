//! `benchcards report`: a run, a comparison and a decomposition as self-contained HTML and its
//! Markdown twin; the clinician brief; hostile card text shown as text.

mod common;

use assert_cmd::Command;
use benchcards_mock::{MockConfig, start};
use common::{printed_pages, raw_ids, visible_text};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn file(rel: &str) -> String {
    root().join(rel).display().to_string()
}

fn bc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("benchcards").unwrap().current_dir(dir).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

/// Nothing in a report loads from elsewhere or runs.
fn self_contained(html: &str) {
    for bad in ["<script", "src=\"http", "<link", "@import", "url(http"] {
        assert!(!html.contains(bad), "the report holds `{bad}`");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_report_has_readiness_scores_transcripts_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let server =
        start(MockConfig { reply: Some("Sounds like a common cold: self-care at home.".into()), ..Default::default() }, 0).await.unwrap();
    // The plan sits in its own folder: the run must find the card and profile later from anywhere.
    std::fs::create_dir(dir.path().join("plans")).unwrap();
    let plan = format!(
        "plan:\n  version: 1\n  id: report-test\n  card: {}\n  deployment: {}\n  dataset: {}\n  models:\n    - {{id: served, provider: openai, model: m, base_urls: [\"{}\"]}}\n  conditions: [{{id: vignette}}, {{id: patient_query}}]\n  graders: [{{kind: conditions}}, {{kind: disposition}}]\n",
        file("examples/cards/symptoms-uk.yaml"),
        file("examples/deployments/patient-symptom-chatbot.yaml"),
        file("examples/datasets/symptoms-uk.jsonl"),
        server.base_url()
    );
    std::fs::write(dir.path().join("plans/plan.yaml"), plan).unwrap();
    let d = dir.path().to_path_buf();
    let (code, out, err) = tokio::task::spawn_blocking(move || bc(&d, &["run", "plans/plan.yaml", "--items", "2"])).await.unwrap();
    assert_eq!(code, 0, "{err}");
    let run = out.trim().to_string();
    let (code, _, err) = bc(dir.path(), &["report", &run, "-o", "run.html"]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(dir.path().join("run.html")).unwrap();
    self_contained(&html);
    for needle in [
        "<h2>Readiness</h2>",
        "not measured: needs a study with people (stage 4)",
        "<h2>The card</h2>",
        "<h2>Gap decomposition</h2>",
        "<svg",
        "vignette → patient_query",
        "<h2>Transcripts</h2>",
        "<details class=\"transcript pass\"><summary>✓ sx-001 · vignette · served",
        "Sounds like a common cold",
        &format!("run <code>{run}</code>"),
        "benchcards 0.1.0",
    ] {
        assert!(html.contains(needle), "the report shows `{needle}`");
    }
    // Without transcripts: no conversation text at all.
    let (code, _, err) = bc(dir.path(), &["report", &run, "-o", "shared.md", "--no-transcripts"]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(dir.path().join("shared.md")).unwrap();
    assert!(!md.contains("Transcripts") && !md.contains("Sounds like a common cold") && !md.contains("blocked nose"), "{md}");
    assert!(md.contains("## Readiness") && md.contains("](shared.waterfall.svg)") && dir.path().join("shared.waterfall.svg").is_file());
    // The clinician brief of the same run.
    let (code, _, err) = bc(dir.path(), &["report", &run, "-o", "brief.html", "--audience", "clinician"]);
    assert_eq!(code, 0, "{err}");
    let brief = std::fs::read_to_string(dir.path().join("brief.html")).unwrap();
    for needle in [
        "<h2>Bottom line</h2>",
        "Nobody has measured what people decide with this model",
        "<h2>What it measured</h2>",
        "Who wrote the questions: The benchmark",
        "<h2>Questions to ask a vendor</h2>",
        "Query authorship (this deployment accepts a drop of 5 points): measured on this model:",
    ] {
        assert!(brief.contains(needle), "the brief shows `{needle}`: {brief}");
    }
    assert_eq!(raw_ids(&visible_text(&brief)), Vec::<String>::new(), "the brief speaks in words, not ids");
}

#[test]
fn readiness_agrees_across_report_gate_and_brief_and_the_brief_prints_on_one_page() {
    let dir = tempfile::tempdir().unwrap();
    let (card, chatbot) = (file("registry/bean-scenarios.yaml"), file("examples/deployments/patient-symptom-chatbot.yaml"));
    for (out, audience) in [("team.md", "team"), ("brief.md", "clinician"), ("brief.html", "clinician")] {
        let (code, _, err) = bc(dir.path(), &["report", "--compare", &card, &chatbot, "-o", out, "--audience", audience]);
        assert_eq!(code, 0, "{err}");
    }
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap();
    let (team, brief, brief_html) = (read("team.md"), read("brief.md"), read("brief.html"));
    // The gate over results that measure query authorship only: the other groups come from the card.
    let gate = |format: &str| {
        let (code, out, err) = bc(
            &root(),
            &[
                "gate",
                "examples/results/bean-seed.csv",
                "--condition-meta",
                "examples/results/bean-seed-conditions.csv",
                "--deployment",
                &chatbot,
                "--card",
                &card,
                "--path",
                "vignette,patient_query",
                "--resamples",
                "200",
                "--format",
                format,
            ],
        );
        assert_eq!(code, 0, "{err}");
        out
    };
    let json: serde_json::Value = serde_json::from_str(&gate("json")).unwrap();
    let gate_text = gate("table");
    let group = |g: &str| json["gates"].as_array().unwrap().iter().find(|x| x["group"] == g).unwrap().clone();
    assert_eq!(group("query_authorship")["source"], "run", "this run's measurement comes first");
    assert_eq!(group("information_completeness")["source"], "not_measured");
    for (g, drop) in [("interaction_type", "18.7"), ("decision_mediation", "30.2")] {
        let row = group(g);
        assert_eq!(row["source"], "published", "{row}");
        assert_eq!(row["drops"][0]["result"], "fail", "{drop} points against a 5-point tolerance");
        assert_eq!(row["drops"][0]["on_point_estimate"], true, "the paper reports no interval");
        let shown = format!("{drop} points (no interval reported; n = 600) on gpt-4o-2024-05-13, published, on another model");
        let result = "fail (point estimate above the tolerance; no interval reported)";
        for (name, text) in [("report", &team), ("brief", &brief), ("gate", &gate_text)] {
            assert!(text.contains(&shown) && text.contains(result), "{name} shows {g}'s published drop and gate: {text}");
        }
    }
    assert!(team.contains("| information_completeness | high | broken (2 of 2) | not measured"), "{team}");
    // The brief's bottom line in absolute terms, with Wilson intervals (204/600 and 282/600).
    assert!(
        brief.contains(
            "right in 34% of cases (95% CI 30% to 38%, n = 600); people without the model, in 47% of cases (95% CI 43% to 51%, n = 600)"
        ),
        "{brief}"
    );
    assert_eq!(raw_ids(&visible_text(&brief_html)), Vec::<String>::new(), "{brief_html}");
    assert!(raw_ids("a stray `llm_is_final` and query_authorship.").len() == 2, "the id check finds ids");
    if let Some(pages) = printed_pages(&dir.path().join("brief.html")) {
        assert_eq!(pages, 1, "the clinician brief prints on one page");
    }
}

#[test]
fn hostile_card_text_is_shown_as_text_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "<script>alert(1)</script> \\\"><img src=x onerror=alert(1)>";
    let card = std::fs::read_to_string(file("registry/bean-scenarios.yaml")).unwrap().replacen(
        "name: Bean et al. ten medical scenarios (HELPMed), LLM-alone condition",
        &format!("name: \"{evil}\""),
        1,
    );
    assert!(card.contains("<script>"));
    std::fs::write(dir.path().join("evil.yaml"), card).unwrap();
    let (code, _, err) = bc(dir.path(), &["check", "evil.yaml"]);
    assert_eq!(code, 0, "{err}");
    for (out, audience) in [("e.html", "team"), ("e.md", "team"), ("b.html", "clinician"), ("b.md", "clinician")] {
        let (code, _, err) = bc(
            dir.path(),
            &[
                "report",
                "--compare",
                "evil.yaml",
                &file("examples/deployments/patient-symptom-chatbot.yaml"),
                "-o",
                out,
                "--audience",
                audience,
            ],
        );
        assert_eq!(code, 0, "{err}");
        let text = std::fs::read_to_string(dir.path().join(out)).unwrap();
        assert!(!text.contains("<script>alert") && !text.contains("<img src=x"), "{out} holds live markup");
        assert!(text.contains("&lt;script&gt;alert(1)") || text.contains("&lt;script>alert(1)"), "{out} shows the name as text");
        if out.ends_with(".html") {
            self_contained(&text);
        }
    }
}

#[test]
fn a_decomposition_report_and_bad_output_names() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = bc(
        dir.path(),
        &[
            "report",
            "--decompose",
            &file("examples/results/bean-seed.csv"),
            "--path",
            "vignette,patient_query,chat_model_messages",
            "-o",
            "d.html",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(dir.path().join("d.html")).unwrap();
    self_contained(&html);
    assert!(html.contains("<td>vignette</td><td>600</td><td>94.7%</td><td>92.6% to 96.2%</td>"), "scores with n and interval");
    // With the uptake table: the seed example's 600 participants, paired with the model's answers.
    let (code, _, err) = bc(
        dir.path(),
        &[
            "report",
            "--decompose",
            &file("examples/results/bean-seed.csv"),
            "--path",
            "vignette,patient_query,chat_model_messages,participant_answer",
            "--uptake",
            "chat_model_messages,participant_answer",
            "-o",
            "u.md",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(dir.path().join("u.md")).unwrap();
    assert!(md.contains("### Uptake (paired on 600 units") && md.contains("| Model right | 204 | 181 | 53.0% |"), "{md}");
    let (code, _, err) = bc(
        dir.path(),
        &["report", "--decompose", &file("examples/results/bean-seed.csv"), "--path", "vignette,patient_query", "-o", "d.pdf"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("cannot tell the report's format") && err.contains("FILE.html or FILE.md"), "{err}");
    let (code, _, err) = bc(
        dir.path(),
        &[
            "report",
            "--decompose",
            &file("examples/results/bean-seed.csv"),
            "--path",
            "vignette,patient_query",
            "-o",
            "d.html",
            "--audience",
            "clinician",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("the clinician brief needs a card"), "{err}");
}
