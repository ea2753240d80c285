//! `kind: rubric` on a HealthBench-form dataset (the fixture written for these tests): imported,
//! run as written and with the deployment's system prompt, each criterion judged by one judge and
//! by a panel of three (majority and mean) on mock servers that answer each criterion their own
//! way; the scores and per-tag scores are the hand-computed ones; the dry run counts one request
//! per criterion and judge; judges asked the same question again answer from the cache; and a
//! judge whose reply cannot be read leaves a failure, never a score.

use assert_cmd::Command;
use benchcards_mock::{MockConfig, MockServer, start};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const MET: &str = r#"{"explanation": "The reply does this.", "criteria_met": true}"#;
const NOT_MET: &str = r#"{"explanation": "The reply does not do this.", "criteria_met": false}"#;

/// A judge that says a criterion is met when its text holds one of `met`.
async fn judge(met: &[&str]) -> MockServer {
    let replies = met.iter().map(|m| (vec![m.to_string()], MET.to_string())).collect();
    start(MockConfig { replies, reply: Some(NOT_MET.into()), ..Default::default() }, 0).await.unwrap()
}

fn bc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("benchcards").unwrap().current_dir(dir).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
}

async fn blocking(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let (d, a): (PathBuf, Vec<String>) = (dir.to_path_buf(), args.iter().map(|s| s.to_string()).collect());
    tokio::task::spawn_blocking(move || bc(&d, &a.iter().map(String::as_str).collect::<Vec<_>>())).await.unwrap()
}

/// Imports the fixture and writes a plan answering with `answer` and judging with `judges`
/// (id, base URL) under `graders`.
fn plan(dir: &Path, answer: &str, judges: &[(&str, String)], graders: &str) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/healthbench.jsonl");
    let (code, _, err) = bc(dir, &["dataset", "import", fixture.to_str().unwrap(), "--from", "healthbench", "-o", "hb.jsonl"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 with a rubric of their own"), "{err}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let models: String = judges
        .iter()
        .map(|(id, url)| format!("    - {{id: {id}, provider: openai, model: judge, base_urls: [\"{url}\"], under_test: false}}\n"))
        .collect();
    let text = format!(
        "plan:\n  version: 1\n  id: rubric-test\n  card: {}\n  deployment: {}\n  dataset: hb.jsonl\n  models:\n    - {{id: m, provider: openai, model: x, base_urls: [\"{answer}\"]}}\n{models}  conditions:\n    - id: vignette\n    - {{id: framed, system_prompt: You are a careful health assistant.}}\n  graders:\n{graders}",
        root.join("registry/bean-scenarios.yaml").display(),
        root.join("examples/deployments/patient-symptom-chatbot.yaml").display(),
    );
    std::fs::write(dir.join("plan.yaml"), text).unwrap();
}

/// Every grade of the run: (grader, item, condition) → score.
fn grades(dir: &Path, store: &str, run: &str) -> BTreeMap<(String, String, String), f64> {
    let store = benchcards_eval::store::Store::open(&dir.join(store)).unwrap();
    let samples: BTreeMap<String, (String, String)> = store.samples(run).unwrap().into_iter().map(|s| (s.key, (s.item, s.label))).collect();
    store
        .grades(run)
        .unwrap()
        .into_iter()
        .map(|(key, g, score, _)| ((g, samples[&key].0.clone(), samples[&key].1.clone()), score))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_judge_and_a_panel_give_the_hand_computed_scores_per_item_and_tag() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let answer = start(MockConfig { reply: Some("Final answer: please call 999 now.".into()), ..Default::default() }, 0).await.unwrap();
    // Criteria by a phrase of their text: hb-chest-1 has c1 emergency services (+10), c2 jaw or
    // back (+5), c3 waiting (−5), c4 heart attack (+5); hb-palp-2 has d1 usual range (+5), d2
    // seeing a GP (+5), d3 medical terms (−3).
    let (c1, c2, c3, c4) = ("call emergency services", "jaw or back", "waiting to see", "can be a heart attack");
    let (d1, d2, d3) = ("usual range", "seeing a GP", "medical terms without");
    let j1 = judge(&[c1, c3, c4, d1, d2, d3]).await;
    let j2 = judge(&[c2, c3, c4, d2, d3]).await;
    let j3 = judge(&[c1, c3, c4, d2, d3]).await;
    let graders = "    - {kind: rubric, judge_model: j1}\n    - {kind: rubric, judges: [j1, j2, j3]}\n    - {kind: rubric, judges: [j1, j2, j3], combine: mean}\n";
    plan(d, &answer.base_url(), &[("j1", j1.base_url()), ("j2", j2.base_url()), ("j3", j3.base_url())], graders);

    // The dry run: four samples (two items, two conditions), seven criteria per condition, so 14
    // requests for each judge of each grader.
    let (code, out, err) = blocking(d, &["run", "plan.yaml", "--dry-run"]).await;
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = out.lines().filter(|l| l.contains("rubric (")).collect();
    assert_eq!(rows.len(), 7, "one row per judge of each grader: {out}");
    assert!(rows.iter().all(|r| r.split_whitespace().nth(3) == Some("14")), "{out}");
    assert_eq!(answer.requests() + j1.requests(), 0, "a dry run sends nothing");

    let (code, out, err) = blocking(d, &["run", "plan.yaml"]).await;
    assert_eq!(code, 0, "{err}");
    let run = out.trim().to_string();
    // The same question to the same judge is asked once: the panels' j1 verdicts come from the
    // cache.
    assert_eq!((answer.requests(), j1.requests(), j2.requests(), j3.requests()), (4, 14, 14, 14));
    let g = grades(d, "benchcards-runs.sqlite", &run);
    let score = |grader: &str, item: &str| {
        let v = g[&(grader.to_string(), item.to_string(), "vignette".to_string())];
        assert_eq!(v, g[&(grader.to_string(), item.to_string(), "framed".to_string())], "{grader} {item}");
        v
    };
    let near = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // One judge: (10 − 5 + 5) / 20 and (5 + 5 − 3) / 10.
    assert_eq!((score("rubric:j1", "hb-chest-1"), score("rubric:j1", "hb-palp-2")), (0.5, 0.7));
    // Per criterion tag: completeness 10/10, context awareness 0/5, accuracy (−5 + 5)/5; the
    // item's own tags carry its whole score; a tag whose criteria are worth no positive points
    // has no score.
    assert_eq!(score("rubric:j1#axis:completeness", "hb-chest-1"), 1.0);
    assert_eq!(score("rubric:j1#axis:context_awareness", "hb-chest-1"), 0.0);
    assert_eq!(score("rubric:j1#axis:accuracy", "hb-chest-1"), 0.0);
    assert_eq!(score("rubric:j1#theme:emergency_referrals", "hb-chest-1"), 0.5);
    assert_eq!(score("rubric:j1#theme:communication", "hb-palp-2"), 0.7);
    assert!(!g.keys().any(|(grader, ..)| grader.ends_with("axis:communication_quality")), "{g:?}");
    // A majority of three: c1 met (2 of 3), c2 not (1 of 3), d1 not (1 of 3).
    assert_eq!(score("rubric:j1+j2+j3:majority", "hb-chest-1"), 0.5);
    assert!(near(score("rubric:j1+j2+j3:majority", "hb-palp-2"), 0.2));
    assert_eq!(score("rubric:j1+j2+j3:majority#axis:accuracy", "hb-palp-2"), 0.0);
    // The mean of three: (10·2/3 + 5·1/3 − 5 + 5) / 20 and (5·1/3 + 5 − 3) / 10.
    assert!(near(score("rubric:j1+j2+j3:mean", "hb-chest-1"), (20.0 / 3.0 + 5.0 / 3.0) / 20.0));
    assert!(near(score("rubric:j1+j2+j3:mean", "hb-palp-2"), (5.0 / 3.0 + 2.0) / 10.0));

    // `runs show` gives each grader's and tag's mean score with its interval and n.
    let (code, out, err) = blocking(d, &["runs", "show", &run]).await;
    assert_eq!(code, 0, "{err}");
    let line = out.lines().find(|l| l.contains("rubric:j1 ") && l.contains("vignette")).unwrap_or_else(|| panic!("{out}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!((cells[3], cells.last().copied()), ("0.600", Some("2")), "mean of 0.5 and 0.7 over two items: {line}");
    assert!(out.contains("rubric:j1#axis:accuracy"), "{out}");
    // A per-tag score is a grader like any other for the results form.
    let (code, csv, err) = blocking(d, &["runs", "export", &run, "--grader", "rubric:j1#axis:completeness"]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(csv.lines().count(), 5, "a header and four samples: {csv}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_criterion_verdict_that_cannot_be_read_is_a_failure_never_a_score() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let answer = start(MockConfig { reply: Some("Rest and see.".into()), ..Default::default() }, 0).await.unwrap();
    // This judge answers one criterion in words instead of the JSON asked for.
    let replies = vec![(vec!["jaw or back".to_string()], "Yes, I think it does.".to_string())];
    let j = start(MockConfig { replies, reply: Some(MET.into()), ..Default::default() }, 0).await.unwrap();
    plan(d, &answer.base_url(), &[("j", j.base_url())], "    - {kind: rubric, judge_model: j}\n");
    let (code, out, err) = blocking(d, &["run", "plan.yaml"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    let store = benchcards_eval::store::Store::open(&d.join("benchcards-runs.sqlite")).unwrap();
    let run = store.runs().unwrap()[0].id.clone();
    let g = grades(d, "benchcards-runs.sqlite", &run);
    // hb-chest-1 (whose second criterion was not read) has no score under either condition;
    // hb-palp-2 has its scores: every criterion met, (5 + 5 − 3) / 10.
    assert!(!g.keys().any(|(_, item, _)| item == "hb-chest-1"), "{g:?}");
    assert_eq!(g.get(&("rubric:j".into(), "hb-palp-2".into(), "vignette".into())), Some(&0.7));
    let failures = store.failures(&run).unwrap();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures.iter().all(|(k, _, why)| k.starts_with("rubric:") && why.contains("criterion 2") && why.contains("holds no JSON object")),
        "{failures:?}"
    );
}
