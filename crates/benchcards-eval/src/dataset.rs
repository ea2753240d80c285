//! Datasets (SPEC §4): JSONL, one item per line, with an optional first-line header
//! `{"dataset": {...}}` carrying file-level facts such as `contains_phi`.

use crate::conditions::Message;
use benchcards_core::document::{MAX_ITEMS, MAX_LINE_BYTES, MAX_MESSAGES};
use benchcards_core::{Diagnostic, Diagnostics, Pos};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetHeader {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Items hold protected health information: never sent to a non-loopback endpoint without
    /// an explicit flag.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub contains_phi: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Real messages attached by `benchcards augment`, and where they came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augmented: Option<Augmentation>,
}

/// Provenance of an augmentation: the log file (and its SHA-256), how many conversations were
/// attached, and to how many items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augmentation {
    pub logs: String,
    pub sha256: String,
    pub conversations: usize,
    pub items: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedCondition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gold {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<AcceptedCondition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub red_flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_facts: Vec<String>,
    /// Multiple choice: the right option's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// A model answer written as the reference (HealthBench's ideal completion), shown to judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ideal: Option<String>,
}

impl Gold {
    /// Every accepted name: each condition's name and synonyms.
    pub fn names(&self) -> Vec<String> {
        self.conditions.iter().flat_map(|c| std::iter::once(c.name.clone()).chain(c.synonyms.iter().cloned())).collect()
    }
}

/// One criterion of an item's own rubric: met or not, worth `points` (negative for what a
/// response must not do), with tags such as `axis:accuracy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub criterion: String,
    pub points: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub vignette: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patient_queries: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stratum: Option<String>,
    #[serde(default)]
    pub gold: Gold,
    /// Whole real conversations attached by `augment` (OpenAI chat messages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversations: Vec<serde_json::Value>,
    /// The conversation so far, ending with the user's turn (HealthBench): posed as it is in
    /// place of the vignette, which then holds the user's words for a simulated patient.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    /// The item's own rubric, graded by `kind: rubric`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rubric: Vec<Criterion>,
    /// The item's tags (e.g. `theme:emergency_referrals`): `rubric` scores per tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Item {
    /// Why the item's messages or rubric cannot be used, if they cannot.
    fn problem(&self) -> Option<String> {
        if let Some(m) = self.messages.iter().find(|m| !matches!(m.role.as_str(), "system" | "developer" | "user" | "assistant")) {
            return Some(format!("item `{}`: message role `{}` is none of system, developer, user, assistant", self.id, m.role));
        }
        if self.messages.last().is_some_and(|m| m.role != "user") {
            return Some(format!("item `{}`: its messages must end with the user's turn, which the model answers", self.id));
        }
        if self.messages.len() > MAX_MESSAGES {
            return Some(format!("item `{}` has more than {MAX_MESSAGES} messages", self.id));
        }
        if let Some(c) = self.rubric.iter().find(|c| !c.points.is_finite()) {
            return Some(format!("item `{}`: criterion `{}` has points {}", self.id, c.criterion, c.points));
        }
        if !self.rubric.is_empty() && !self.rubric.iter().any(|c| c.points > 0.0) {
            return Some(format!("item `{}`: its rubric has no criterion worth positive points, so no score can be computed", self.id));
        }
        None
    }
}

#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub header: DatasetHeader,
    pub items: Vec<Item>,
    /// Position of each item by id, as parsed (`item` checks it, so a changed list stays correct).
    index: std::collections::HashMap<String, usize>,
}

impl Dataset {
    pub fn item(&self, id: &str) -> Option<&Item> {
        let indexed = self.index.get(id).and_then(|&i| self.items.get(i)).filter(|it| it.id == id);
        indexed.or_else(|| self.items.iter().find(|i| i.id == id))
    }
}

/// The dataset as JSONL: the header line, then one item per line. `parse_dataset` reads it back
/// to the same value.
pub fn to_jsonl(ds: &Dataset) -> String {
    let mut out = serde_json::to_string(&serde_json::json!({ "dataset": ds.header })).unwrap_or_default();
    out.push('\n');
    for item in &ds.items {
        out.push_str(&serde_json::to_string(item).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Parses a dataset, reporting every malformed line with its number; ids must be unique.
pub fn parse_dataset(text: &str) -> Result<Dataset, Diagnostics> {
    let mut ds = Dataset::default();
    let mut diags = Diagnostics::default();
    let rows = text.lines().filter(|l| !l.trim().is_empty()).count();
    if rows > MAX_ITEMS + 1 {
        let d = Diagnostic::error(
            Pos { line: 1, column: 1, index: 0 },
            format!("the dataset has {rows} lines, over the limit of {MAX_ITEMS} items"),
        )
        .suggest(Some("split the dataset into several files".into()));
        return Err(Diagnostics(vec![d]));
    }
    // The line each item was read from, for duplicate ids.
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = |column: usize| Pos { line: i + 1, column: column.max(1), index: 0 };
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > MAX_LINE_BYTES {
            diags.push(
                Diagnostic::error(at(1), format!("the line is {} bytes, over the limit of {MAX_LINE_BYTES}", line.len()))
                    .expected("one item per line, each under 4 MiB")
                    .suggest(Some("attach fewer conversations to the item, or shorten them".into())),
            );
            continue;
        }
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                diags.push(Diagnostic::error(at(e.column()), benchcards_core::diag::json_error(&e)).expected("one JSON object per line"));
                continue;
            }
        };
        if let Some(h) = value.get("dataset").filter(|_| ds.items.is_empty() && value.as_object().is_some_and(|o| o.len() == 1)) {
            match serde_json::from_value::<DatasetHeader>(h.clone()) {
                Ok(h) => ds.header = h,
                Err(e) => diags.push(Diagnostic::error(at(1), format!("dataset header: {e}"))),
            }
            continue;
        }
        match serde_json::from_value::<Item>(value) {
            Ok(item) if item.problem().is_some() => {
                diags.push(Diagnostic::error(at(1), item.problem().unwrap_or_default()).expected(
                    "`messages` of roles system, user, assistant ending with the user's turn; a rubric with at least one criterion of positive points",
                ));
            }
            Ok(item) if item.conversations.iter().any(|c| c["messages"].as_array().is_some_and(|m| m.len() > MAX_MESSAGES)) => diags.push(
                Diagnostic::error(at(1), format!("item `{}` has a conversation of more than {MAX_MESSAGES} messages", item.id))
                    .suggest(Some("attach a shorter excerpt of the conversation".into())),
            ),
            Ok(item) => {
                match ds.index.get(&item.id) {
                    Some(&first) => diags.push(
                        Diagnostic::error(at(1), format!("item id `{}` already used on line {}", item.id, lines[first]))
                            .suggest(Some("give every item its own id".into())),
                    ),
                    None => _ = ds.index.insert(item.id.clone(), ds.items.len()),
                }
                lines.push(i + 1);
                ds.items.push(item);
            }
            Err(e) => diags.push(
                Diagnostic::error(at(1), format!("item: {e}"))
                    .expected("an object with `id`, `vignette` and optional `patient_queries`, `stratum`, `gold`"),
            ),
        }
    }
    if ds.items.is_empty() && !diags.has_errors() {
        diags
            .push(Diagnostic::error(Pos { line: 1, column: 1, index: 0 }, "the dataset has no items").expected("one JSON object per line"));
    }
    if diags.has_errors() { Err(diags) } else { Ok(ds) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_items_and_errors() {
        let text = "{\"dataset\": {\"id\": \"x\", \"contains_phi\": true}}\n{\"id\": \"a\", \"vignette\": \"v\", \"gold\": {\"conditions\": [{\"name\": \"flu\", \"synonyms\": [\"influenza\"]}]}}\n";
        let d = parse_dataset(text).unwrap();
        assert!(d.header.contains_phi);
        assert_eq!(d.items[0].gold.names(), ["flu", "influenza"]);
        let bad = "{\"id\": \"a\", \"vignette\": \"v\"}\n{\"id\": \"a\", \"vignette\": \"w\"}\n{\"id\": 3}\n{oops\n";
        let e = parse_dataset(bad).unwrap_err();
        let lines: Vec<usize> = e.0.iter().map(|d| d.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert!(e.0[0].message.contains("already used on line 1"));
    }

    #[test]
    fn lines_items_and_conversations_over_the_limits_are_refused_with_their_line() {
        let long = format!("{{\"id\": \"a\", \"vignette\": \"{}\"}}", "x".repeat(MAX_LINE_BYTES));
        let e = parse_dataset(&format!("{{\"id\": \"ok\", \"vignette\": \"v\"}}\n{long}\n")).unwrap_err();
        assert_eq!((e.0.len(), e.0[0].line), (1, 2));
        assert!(e.0[0].message.contains("over the limit of 4194304"), "{}", e.0[0].message);
        let messages: Vec<String> = (0..=MAX_MESSAGES).map(|_| r#"{"role": "user", "content": "hi"}"#.to_string()).collect();
        let item = format!("{{\"id\": \"c\", \"vignette\": \"v\", \"conversations\": [{{\"messages\": [{}]}}]}}", messages.join(","));
        let e = parse_dataset(&item).unwrap_err();
        assert!(e.0[0].message.contains("more than 1000 messages"), "{}", e.0[0].message);
        let e = parse_dataset(&"{}\n".repeat(MAX_ITEMS + 2)).unwrap_err();
        assert!(e.0[0].message.contains("over the limit of 1000000 items"), "{}", e.0[0].message);
    }

    #[test]
    fn items_are_found_by_id_even_after_the_list_changes() {
        let text: String = (0..50).map(|i| format!("{{\"id\": \"i{i}\", \"vignette\": \"v{i}\"}}\n")).collect();
        let mut d = parse_dataset(&text).unwrap();
        assert_eq!(d.item("i42").unwrap().vignette, "v42");
        assert!(d.item("i50").is_none());
        d.items.remove(0);
        assert_eq!(d.item("i42").unwrap().vignette, "v42", "a stale index position is not trusted");
        assert!(d.item("i0").is_none());
    }
}
