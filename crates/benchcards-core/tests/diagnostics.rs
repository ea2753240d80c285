//! Every class of input error gives one diagnostic at the exact line and column, with what was
//! expected and, where one exists, the nearest valid alternative; one error hides no other. No
//! input panics.

use benchcards_core::document::{MAX_DATA_BYTES, MAX_FILE_BYTES, decode_utf8, load_file, load_text, read_data, read_text};
use benchcards_core::{Diagnostic, Loaded};
use std::path::Path;

const CARD: &str = "benchcard:
  version: 1
  id: demo-card
  name: Demo
  citation: Someone 2024
  card_author: benchcards project
  designer_endorsed: false
  dimensions:
    query_author:
      value: clinician
      status: stated
      evidence:
        - source: https://example.org/paper
    interaction_mode:
      value: { single_turn: 0.6, multi_turn_static: 0.4 }
      status: inferred
";

fn load(text: &str) -> Loaded {
    load_text("test.yaml", text.to_string(), None, false)
}

/// The only error of a text, which must have exactly one.
fn only_error(text: &str) -> Diagnostic {
    let loaded = load(text);
    let errors: Vec<&Diagnostic> = loaded.diagnostics.errors().collect();
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    errors[0].clone()
}

fn at(d: &Diagnostic) -> (usize, usize) {
    (d.line, d.column)
}

#[test]
fn base_card_is_valid() {
    let loaded = load(CARD);
    assert!(loaded.ok(), "{:#?}", loaded.diagnostics);
}

#[test]
fn yaml_syntax_error() {
    let d = only_error(&CARD.replace("  name: Demo\n", "  name: [Demo\n"));
    assert!(d.message.starts_with("YAML syntax error"), "{}", d.message);
    assert_eq!(d.line, 5, "{d:?}");
}

#[test]
fn unknown_key_with_suggestion() {
    let d = only_error(&CARD.replace("  citation:", "  citaton:"));
    assert_eq!(at(&d), (5, 3));
    assert_eq!(d.message, "unknown key `citaton`");
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `citation`?"));
}

#[test]
fn unknown_vocabulary_value_with_suggestion() {
    let d = only_error(&CARD.replace("value: clinician", "value: clinican"));
    assert_eq!(at(&d), (10, 14));
    assert!(d.message.contains("unknown value `clinican`"), "{}", d.message);
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `clinician`?"));
}

#[test]
fn unknown_value_in_mixture_points_at_its_key() {
    let d = only_error(&CARD.replace("multi_turn_static: 0.4", "multi_turn_humn: 0.4"));
    assert_eq!(at(&d), (15, 34));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `multi_turn_human`?"));
}

#[test]
fn unknown_enum_value_with_suggestion() {
    let d = only_error(&CARD.replace("status: inferred", "status: infered"));
    assert_eq!(at(&d), (16, 15));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `inferred`?"));
}

#[test]
fn one_reading_error_hides_no_other() {
    // A bad vocabulary value, an unknown key in the same dimension and a bad status in another:
    // all three are said (a reading error leaves its entry out and the rest is read and checked).
    let text = CARD
        .replace("status: inferred", "status: infered")
        .replace("      status: stated\n", "      status: stated\n      answr: x\n")
        .replace("value: clinician", "value: pharmacist");
    let loaded = load(&text);
    let errors: Vec<(usize, usize)> = loaded.diagnostics.errors().map(at).collect();
    assert_eq!(errors, [(10, 14), (12, 7), (17, 15)], "{:#?}", loaded.diagnostics);
    assert!(loaded.document.is_none(), "a file with a reading error gives no document");
    // The dimensions left out for their errors are written: "not listed" does not name them.
    let unlisted = loaded.diagnostics.warnings().find(|d| d.message.contains("not listed")).expect("the card lists two dimensions");
    assert!(unlisted.message.contains("intended_user"), "{}", unlisted.message);
    assert!(!unlisted.message.contains("query_author") && !unlisted.message.contains("interaction_mode"), "{}", unlisted.message);
}

#[test]
fn unknown_dimension_with_suggestion() {
    let d = only_error(&CARD.replace("    interaction_mode:", "    interaction_mod:"));
    assert_eq!(at(&d), (14, 5));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `interaction_mode`?"));
}

#[test]
fn missing_required_field_points_at_owner_key() {
    let d = only_error(&CARD.replace("  name: Demo\n", ""));
    assert_eq!(at(&d), (1, 1));
    assert_eq!(d.message, "missing required key `name` in `benchcard`");
    assert_eq!(d.suggestion.as_deref(), Some("add `name:` here"));
}

#[test]
fn wrong_type() {
    let d = only_error(&CARD.replace("designer_endorsed: false", "designer_endorsed: maybe"));
    assert_eq!(at(&d), (7, 22));
    assert!(d.message.contains("expected `true` or `false`, found `maybe`"), "{}", d.message);
    let d = only_error(&CARD.replace("  version: 1", "  version: [1]"));
    assert_eq!(at(&d), (2, 12));
    assert!(d.message.contains("found a list"), "{}", d.message);
}

#[test]
fn duplicate_key() {
    let d = only_error(&CARD.replace("  name: Demo\n", "  name: Demo\n  name: Again\n"));
    assert_eq!(at(&d), (5, 3));
    assert!(d.message.contains("duplicate key `name` (first defined at line 4, column 3)"), "{}", d.message);
}

#[test]
fn empty_file() {
    for text in ["", "\n\n", "# nothing but a comment\n"] {
        let d = only_error(text);
        assert_eq!(at(&d), (1, 1));
        assert!(d.message.contains("empty") || d.message.contains("no `benchcard:`"), "{}", d.message);
    }
}

#[test]
fn not_utf8_points_at_the_byte() {
    let mut bytes = b"benchcard:\n  name: Caf".to_vec();
    bytes.push(0xE9); // Latin-1 é
    bytes.extend_from_slice(b"\n");
    let d = decode_utf8(bytes).unwrap_err();
    assert_eq!(at(&d), (2, 12));
    assert!(d.message.contains("not valid UTF-8"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.yaml");
    std::fs::write(&path, b"benchcard:\n  name: Caf\xe9\n").unwrap();
    let loaded = load_file(&path);
    assert_eq!(loaded.diagnostics.errors().map(at).collect::<Vec<_>>(), vec![(2, 12)]);
}

#[test]
fn over_size_limit_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    // Invalid YAML throughout: if it were parsed, the error would be a syntax error instead.
    std::fs::write(&path, "[".repeat(MAX_FILE_BYTES as usize + 1)).unwrap();
    let loaded = load_file(&path);
    let errors: Vec<&Diagnostic> = loaded.diagnostics.errors().collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(at(errors[0]), (1, 1));
    assert!(errors[0].message.contains("over the limit"), "{}", errors[0].message);
    assert!(loaded.source.is_none(), "the text was not even kept");
}

#[test]
fn a_data_file_over_256_mib_is_refused_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.jsonl");
    // Sparse: 256 MiB and one byte that take no room on disk.
    std::fs::File::create(&path).unwrap().set_len(MAX_DATA_BYTES + 1).unwrap();
    let d = read_data(&path).unwrap_err();
    assert_eq!(d.message, format!("file is {} bytes, over the limit of {MAX_DATA_BYTES} bytes; not parsed", MAX_DATA_BYTES + 1));
    assert_eq!(d.suggestion.as_deref(), Some("split the file, or filter it to the rows you need"));
    // At the limit exactly, a file is read (the same check, with a card's 1 MiB).
    std::fs::File::create(&path).unwrap().set_len(MAX_FILE_BYTES).unwrap();
    assert_eq!(read_text(&path).map(|t| t.len()).ok(), Some(MAX_FILE_BYTES as usize));
}

#[test]
fn only_regular_files_are_opened() {
    // A device never runs out, and opening a FIFO waits for a writer forever: both are refused
    // before they are opened.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("card.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    for path in [Path::new("/dev/zero"), fifo.as_path()] {
        let d = read_text(path).unwrap_err();
        assert_eq!(d.message, "this is not a regular file (a pipe, device or socket); it is not opened", "{}", path.display());
        assert!(read_data(path).is_err());
    }
}

#[test]
fn deep_nesting() {
    let text = format!("benchcard:\n  notes: {}\n", "[".repeat(200));
    let d = only_error(&text);
    assert!(d.message.contains("nesting deeper than 64"), "{}", d.message);
    assert_eq!(d.line, 2);
}

#[test]
fn alias_expansion_bomb() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
    }
    let d = only_error(&text);
    assert!(d.message.contains("expands to more than"), "{}", d.message);
    assert_eq!(d.column, 10, "{d:?}");
    assert!(d.line > 1 && d.line <= 6, "the bomb is refused early: {d:?}");
}

#[test]
fn mixture_shares_must_sum_to_one() {
    let d = only_error(&CARD.replace("multi_turn_static: 0.4", "multi_turn_static: 0.3"));
    assert_eq!(at(&d), (15, 14));
    assert_eq!(d.message, "shares sum to 0.9 instead of 1");
}

#[test]
fn status_without_value_and_stated_without_evidence() {
    let loaded = load(&CARD.replace("      value: clinician\n", ""));
    let e: Vec<_> = loaded.diagnostics.errors().map(|d| (at(d), d.message.clone())).collect();
    assert_eq!(e, vec![((10, 15), "`query_author` has status `stated` but no value".to_string())]);
    let loaded = load(&CARD.replace("      evidence:\n        - source: https://example.org/paper\n", ""));
    let w: Vec<_> = loaded.diagnostics.warnings().filter(|d| d.message.contains("without evidence")).map(at).collect();
    assert_eq!(w, vec![(11, 15)]);
}

#[test]
fn markdown_front_matter_positions_are_file_positions() {
    let text = format!("---\nlicense: mit\n{}---\n\n# Prose\n", CARD.replace("value: clinician", "value: clinican"));
    let loaded = load_text("README.md", text, None, true);
    let errors: Vec<_> = loaded.diagnostics.errors().map(at).collect();
    assert_eq!(errors, vec![(12, 14)], "line 10 of the card is line 12 of the README");
    let d = load_text("README.md", "# no front matter\n".into(), None, true);
    assert!(d.diagnostics.errors().any(|d| d.message.contains("no front matter")));
    let d = load_text("README.md", "---\nbenchcard:\n".into(), None, true);
    assert!(d.diagnostics.errors().any(|d| d.message.contains("not closed")));
}

#[test]
fn wrong_top_level_key_suggests() {
    let d = only_error("benchcards:\n  version: 1\n");
    assert_eq!(at(&d), (1, 1));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `benchcard`?"));
    let d = only_error("benchmark_name: x\ncitation: y\n");
    assert!(d.suggestion.as_deref().unwrap_or("").contains("benchcards import"));
}

#[test]
fn plan_checks_secrets_and_references() {
    let plan = "plan:
  version: 1
  id: p
  card: card.yaml
  deployment: dep.yaml
  dataset: data.jsonl
  models:
    - id: m
      provider: openai
      model: gpt-x
      base_urls: [\"http://127.0.0.1:8000/v1\"]
      api_key_env: sk-live-abcdefghijklmnopqrstuvwxyz012345
  conditions: [{ id: vignete }]
  graders: [{ kind: conditions, mode: bean }]
";
    let loaded = load(plan);
    let errors: Vec<_> = loaded.diagnostics.errors().map(|d| (at(d), d.message.clone(), d.suggestion.clone())).collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_eq!(errors[0].0, (12, 20));
    assert!(errors[0].1.contains("looks like an API key"));
    assert!(!errors[0].1.contains("abcdefghij"), "the secret is not echoed in the message");
    assert_eq!(errors[1].0, (13, 22));
    assert_eq!(errors[1].2.as_deref(), Some("did you mean `vignette`?"));
}

#[test]
fn factorial_cells_compose_only_what_composes() {
    let plan = |conditions: &str| {
        format!(
            "plan:\n  version: 1\n  id: p\n  card: c.yaml\n  deployment: d.yaml\n  dataset: x.jsonl\n  models: [{{ id: m, provider: mock }}]\n  conditions:\n{conditions}  graders: [{{ kind: conditions }}]\n"
        )
    };
    assert!(!load(&plan("    - { id: conversation, with: [withheld] }\n")).diagnostics.has_errors());
    let d = only_error(&plan("    - { id: patient_query, with: [withheld] }\n"));
    assert_eq!((at(&d), d.message.as_str()), ((9, 35), "`withheld` does not compose with `patient_query`"));
    assert!(d.expected.as_deref().unwrap_or("").contains("`conversation`"));
    let d = only_error(&plan("    - { id: vignette, with: [withhold] }\n"));
    assert_eq!(at(&d), (9, 30));
    assert_eq!(d.suggestion.as_deref(), Some("did you mean `withheld`?"));
    let d = only_error(&plan("    - { id: withheld, with: [withheld] }\n"));
    assert_eq!(d.message, "`withheld` is applied twice");
    let d = only_error(&plan("    - { id: vignette, with: [framed] }\n"));
    assert_eq!(d.message, "`framed` needs the deployment's `system_prompt`");
    // The same cell twice is a duplicate name.
    let d = only_error(&plan("    - { id: vignette, with: [withheld] }\n    - { id: vignette, with: [withheld] }\n"));
    assert!(d.message.contains("vignette+withheld"), "{}", d.message);
}

#[test]
fn a_rubric_needs_judges_of_the_plan_and_a_helper_model_answers_nothing() {
    let plan = |models: &str, graders: &str| {
        format!(
            "plan:\n  version: 1\n  id: p\n  card: c.yaml\n  deployment: d.yaml\n  dataset: x.jsonl\n  models:\n{models}  conditions: [{{ id: vignette }}]\n  graders:\n{graders}"
        )
    };
    let models = "    - { id: m, provider: mock }\n    - { id: j1, provider: mock, under_test: false }\n    - { id: j2, provider: mock, under_test: false }\n    - { id: j3, provider: mock, under_test: false }\n";
    let good = load(&plan(models, "    - { kind: rubric, judges: [j1, j2, j3] }\n"));
    assert!(!good.diagnostics.has_errors() && good.diagnostics.0.is_empty(), "{:?}", good.diagnostics);
    let d = only_error(&plan(models, "    - { kind: rubric }\n"));
    assert!(d.message.contains("needs `judge_model` or a panel `judges`"), "{}", d.message);
    let d = only_error(&plan(models, "    - { kind: rubric, judges: [j1, j4, j3] }\n"));
    assert_eq!((at(&d), d.message.as_str()), ((14, 36), "`j4` is not a model of this plan"));
    // An even majority can tie; panels belong to rubrics; a helper model must help.
    let warnings = |text: &str| load(text).diagnostics.0.iter().map(|d| d.message.clone()).collect::<Vec<_>>();
    assert_eq!(
        warnings(&plan(models, "    - { kind: rubric, judges: [j1, j2] }\n    - { kind: rubric, judge_model: j3 }\n")),
        ["a majority of 2 judges can tie, and a tie counts as not met"]
    );
    assert!(
        warnings(&plan(models, "    - { kind: rubric, judges: [j1, j2], combine: mean }\n    - { kind: rubric, judge_model: j3 }\n"))
            .is_empty()
    );
    let w = warnings(&plan(models, "    - { kind: conditions, judges: [j1] }\n    - { kind: rubric, judges: [j2, j3, j1] }\n"));
    assert_eq!(w, ["`judges` and `combine` apply only to the `rubric` grader"]);
    let w = warnings(&plan(models, "    - { kind: rubric, judges: [j2, j3, m] }\n"));
    assert_eq!(w, ["model `j1` answers no item and neither judges nor plays the patient"]);
    let d = only_error(&plan("    - { id: j1, provider: mock, under_test: false }\n", "    - { kind: rubric, judge_model: j1 }\n"));
    assert!(d.message.contains("no model answers the items"), "{}", d.message);
    // A fidelity judge is a helper too, and must be a model of the plan.
    let fidelity = format!("{}  fidelity: {{ judge_model: j1 }}\n", plan(models, "    - { kind: rubric, judges: [j2, j3, m] }\n"));
    assert!(load(&fidelity).diagnostics.0.is_empty(), "{:?}", load(&fidelity).diagnostics);
    let d = only_error(&fidelity.replace("judge_model: j1 }", "judge_model: j9 }"));
    assert_eq!(d.message, "`j9` is not a model of this plan");
}

#[test]
fn personas_are_named_designed_and_mixed_from_what_exists() {
    let plan = |conditions: &str, extra: &str| {
        format!(
            "plan:\n  version: 1\n  id: p\n  card: c.yaml\n  deployment: d.yaml\n  dataset: x.jsonl\n  models: [{{ id: m, provider: mock }}]\n  conditions:\n{conditions}  graders: [{{ kind: conditions }}]\n{extra}"
        )
    };
    let good = plan(
        "    - { id: conversation, persona: mine }\n    - { id: singleturn, personas: { design: factorial, axes: [recall, bias] } }\n",
        "  personas: [{ id: mine, values: { personality: anxious } }]\n",
    );
    assert!(load(&good).diagnostics.0.is_empty(), "{:?}", load(&good).diagnostics);
    let d = only_error(&plan("    - { id: conversation, persona: nervous }\n", ""));
    assert!(d.message.contains("no persona `nervous`") && d.message.contains("anxious"), "{}", d.message);
    let d = only_error(&plan("    - { id: conversation, personas: { design: factorial, axes: [mood] } }\n", ""));
    assert!(d.message.starts_with("no persona axis `mood`; the axes are personality, proficiency"), "{}", d.message);
    let d = only_error(&plan("    - { id: conversation, personas: { design: factorial, axes: [proficency] } }\n", ""));
    assert!(d.message.contains("did you mean `proficiency`?"), "{}", d.message);
    let d = only_error(&plan("    - { id: conversation, persona: anxious, personas: { design: sample, n: 3 } }\n", ""));
    assert!(d.message.contains("not both"), "{}", d.message);
    let d = only_error(&plan("    - { id: conversation }\n", "  personas: [{ id: mine, values: { recall: medium } }]\n"));
    assert!(d.message.contains("one of high, low"), "{}", d.message);
    let w = load(&plan("    - { id: vignette, persona: anxious }\n", ""));
    assert!(w.diagnostics.0.iter().any(|d| d.message.contains("`persona` applies only to conversations")), "{:?}", w.diagnostics);
    // A deployment's users' mix names axes and values that exist, with shares summing to 1.
    let profile = |mix: &str| {
        format!(
            "deployment:\n  version: 1\n  id: d\n  name: D\n  dimensions:\n    query_author: {{ value: patient, status: declared }}\n  persona_mix:\n{mix}"
        )
    };
    assert!(!load(&profile("    proficiency: { fluent: 0.7, basic: 0.3 }\n")).diagnostics.has_errors());
    let d = only_error(&profile("    proficiency: { fluent: 0.7, basic: 0.2 }\n"));
    assert!(d.message.contains("shares sum to 0.9"), "{}", d.message);
    let d = only_error(&profile("    proficiency: { fluent: 0.7, native: 0.3 }\n"));
    assert!(d.message.contains("`native` is no value"), "{}", d.message);
    assert!(only_error(&profile("    mood: { calm: 1 }\n")).message.contains("no persona axis `mood`"));
}

#[test]
fn hostile_inputs_never_panic() {
    let samples = [
        "benchcard: [",
        "benchcard: {",
        "benchcard:\n  dimensions: 3\n",
        "benchcard: !!binary x",
        "? [a]\n: b\n",
        "*unknown",
        "benchcard:\n  dimensions:\n    query_author:\n      value: {a: x}\n      status: stated\n",
        "---\n---\n",
        "benchcard: &a\n  x: *a\n",
        "\u{feff}benchcard: 1",
        "deployment:\n  case_mix: {a: .nan}\n",
    ];
    for s in samples {
        let loaded = load(s);
        assert!(loaded.diagnostics.has_errors(), "{s:?} should be an error");
    }
}

/// Found by fuzzing: YAML breaks lines at a lone carriage return, so the rendered snippet must
/// too, or it shows another line than the one the message names.
#[test]
fn a_lone_carriage_return_is_a_line_break_everywhere() {
    let text = "a: 1\r\r---\nb: 2\n";
    let loaded = load(text);
    let d = loaded.diagnostics.errors().next().expect("a second document is an error");
    assert_eq!(at(d), (3, 1));
    let source = loaded.source.as_ref().unwrap();
    assert_eq!(source.text.lines().nth(2), Some("---"), "the source shows the same line 3");
    assert_eq!(source.text.len(), text.len(), "no position moved");
    // A Windows line end stays as it is.
    assert!(load("benchcard:\r\n  version: 1\r\n").source.unwrap().text.contains("\r\n"));
}

#[test]
fn a_person_deciding_when_the_score_observes_no_decision_is_warned_at_the_value() {
    let outcome = |decision: &str, level: &str| {
        CARD.to_string()
            + &format!(
                "    decision_mediation:\n      value: {decision}\n      status: inferred\n    outcome_level:\n      value: {level}\n      status: inferred\n"
            )
    };
    let inconsistent = load(&outcome("lay_user_acts", "rubric_quality"));
    assert!(inconsistent.ok(), "a warning, not an error: {:#?}", inconsistent.diagnostics);
    let warnings: Vec<&Diagnostic> =
        inconsistent.diagnostics.0.iter().filter(|d| d.message.contains("observes no person's decision")).collect();
    assert_eq!(warnings.len(), 1, "{:#?}", inconsistent.diagnostics);
    assert_eq!(at(warnings[0]), (18, 14), "at the decision_mediation value");
    assert!(warnings[0].suggestion.as_deref().is_some_and(|s| s.contains("llm_is_final")));
    // The same pair with a score that observes people's decisions is consistent.
    let consistent = load(&outcome("lay_user_acts", "human_decision_with_model"));
    assert!(!consistent.diagnostics.0.iter().any(|d| d.message.contains("observes no")), "{:#?}", consistent.diagnostics);
}

#[test]
fn a_study_section_is_checked_at_each_value() {
    let plan = |study: &str| {
        format!(
            "plan:\n  version: 1\n  id: p\n  card: c.yaml\n  deployment: d.yaml\n  dataset: x.jsonl\n  models: [{{ id: m, provider: mock }}]\n  conditions: [{{ id: vignette }}]\n  graders: [{{ kind: conditions }}]\n  study:\n    consent: You agree.\n    instructions: Imagine you are the person.\n    target_participants: 10\n    completion: {{ code: ABC }}\n{study}"
        )
    };
    let good = "    arms:\n      - { id: with_model, model: m }\n      - { id: control, instructions: Use what you would normally use. }\n";
    let loaded = load(&plan(good));
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let d = only_error(&plan(&good.replace("model: m }", "model: mm }")));
    assert_eq!((at(&d), d.suggestion.as_deref()), ((16, 34), Some("did you mean `m`?")));
    let d = only_error(&plan(&good.replace(", instructions: Use what you would normally use.", "")));
    assert_eq!((at(&d), d.message.as_str()), ((17, 15), "the control arm `control` needs `instructions`"));
    let d = only_error(&plan(&format!("{good}    allocation: {{ block_size: 3 }}\n")));
    assert_eq!((at(&d), d.expected.as_deref()), ((18, 31), Some("a multiple of 2")));
    let d =
        only_error(&plan(&format!("{good}    attention:\n      - {{ question: Colour of grass?, options: [Blue, Green], answer: 2 }}\n")));
    assert_eq!((at(&d), d.message.as_str()), ((19, 71), "answer 2 is not an option"));
    let redirect = "    recruitment_ids: [PROLIFIC_PID]\n";
    let text = plan(&format!("{good}{redirect}"))
        .replace("{ code: ABC }", "{ code: ABC, redirect: \"https://x.example/done?cc={code}&p={PROLIFIC_PIDD}\" }");
    let d = only_error(&text);
    assert_eq!((at(&d).0, d.message.as_str()), (14, "`{PROLIFIC_PIDD}` names no recruitment id"));
}
