//! Property tests: what benchcards writes (`emit::to_yaml`, used by `import`, `new`, `fit
//! --write-profile` and the web editor), it reads back unchanged, whatever the text inside.

use benchcards_core::de::from_node;
use benchcards_core::emit::to_yaml;
use benchcards_core::yaml::{Limits, Offset, parse};
use benchcards_core::{Document, load_file, load_text};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Any JSON value: any Unicode text (control characters, BOMs, line separators, lone CRs) in
/// keys and strings, any finite number, nesting a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Text mixing arbitrary Unicode with the characters YAML gives meaning to.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    " ", "  ", "\n", "\r", "\r\n", "\t", ":", ": ", " #", "#", "-", "- ", "?", ",", "[", "]", "{", "}", "&a", "*a", "!",
                    "|", ">", "'", "\"", "%", "@", "`", "~", "null", "yes", "no", "true", "1", "0x1", "1e3", ".5", "---", "...",
                    "\u{feff}", "\u{85}", "\u{2028}", "\u{0}", "é", "😀",
                ])
                .prop_map(str::to_string),
                "[a-z]{1,4}",
            ],
            0..8
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// Free text in cards and profiles: the fields a user writes prose into.
const FREE_TEXT: &[&str] = &[
    "name",
    "citation",
    "card_author",
    "intended_use",
    "notes",
    "note",
    "description",
    "collected_by",
    "quote",
    "where",
    "answer",
    "justification",
    "label",
    "benchmark_version",
    "license",
];

/// Replaces every free-text string in `doc` with the next of `texts` (cycling).
fn replace_free_text(doc: &mut Value, texts: &[String], next: &mut usize) {
    match doc {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if let (true, Value::String(s)) = (FREE_TEXT.contains(&k.as_str()), &mut *v) {
                    *s = texts[*next % texts.len()].clone();
                    *next += 1;
                } else {
                    replace_free_text(v, texts, next);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| replace_free_text(v, texts, next)),
        _ => {}
    }
}

/// Text for a field a document requires: anything but blank.
fn prose() -> impl Strategy<Value = String> {
    text().prop_filter("required text is not blank", |s| !s.trim().is_empty())
}

/// The documents the project ships, as (top-level key, JSON, folder for relative paths).
static SHIPPED: LazyLock<Vec<(&'static str, Value, PathBuf)>> = LazyLock::new(|| {
    let mut files: Vec<PathBuf> = ["registry", "examples/deployments", "examples/plans"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root().join(d)).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let (key, value) = as_json(load_file(path).document.unwrap_or_else(|| panic!("{} loads", path.display())));
            (key, value, path.parent().unwrap().to_path_buf())
        })
        .collect()
});

/// A document's top-level key and its JSON.
fn as_json(doc: Document) -> (&'static str, Value) {
    match doc {
        Document::Card(c) => ("benchcard", serde_json::to_value(c).unwrap()),
        Document::Profile(p) => ("deployment", serde_json::to_value(p).unwrap()),
        Document::Plan(p) => ("plan", serde_json::to_value(p).unwrap()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn any_json_value_written_as_yaml_reads_back_equal(value in json_value()) {
        let doc = json!({ "top": value });
        let text = to_yaml(&doc);
        let node = parse(&text, Offset::default(), Limits::default()).map_err(|d| TestCaseError::fail(format!("{}\n{text}", d.message)))?;
        let back = from_node::<Value>(&node, None).map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
        prop_assert_eq!(back, doc, "{}", text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Every shipped card, profile and plan, with its prose replaced by arbitrary text and its
    /// numbers by arbitrary ones, is written as YAML and loaded through the whole pipeline
    /// (parse, decode, validate) to the same document, without an error.
    #[test]
    fn shipped_documents_with_any_prose_write_and_load_back_equal(
        pick in any::<prop::sample::Index>(),
        texts in prop::collection::vec(prose(), 1..8),
        temperature in 0.0f64..2.0,
        seed in any::<u64>(),
        max_tokens in 1u32..100_000,
    ) {
        let (key, mut value, base) = pick.get(&SHIPPED).clone();
        replace_free_text(&mut value, &texts, &mut 0);
        if key == "plan" {
            for model in value["models"].as_array_mut().unwrap() {
                model["sampling"] = json!({ "temperature": temperature, "seed": seed, "max_tokens": max_tokens });
            }
        }
        let text = to_yaml(&json!({ key: value }));
        let loaded = load_text("written.yaml", text.clone(), Some(&base), false);
        let errors: Vec<&str> = loaded.diagnostics.errors().map(|d| d.message.as_str()).collect();
        prop_assert!(errors.is_empty(), "{errors:?}\n{text}");
        let (_, back) = as_json(loaded.document.unwrap());
        prop_assert_eq!(back, value, "{}", text);
    }
}
