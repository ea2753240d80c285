//! Conversation logs (SPEC §4, stage 2): JSONL in the OpenAI chat `messages` format (optional
//! `id`, `item`, `metadata`; an optional first line `{"logs": {"contains_phi": BOOL}}` says
//! whether the file holds patient data), or CSV with one row per turn (conversation id, turn,
//! role, text, optionally item; names mappable). Nothing is dropped silently: a malformed line or row is
//! skipped with a warning at its line and column, and the counts say what was read and skipped.

use crate::conditions::Message;
use crate::dataset::{Augmentation, Dataset};
use benchcards_core::document::{MAX_LINE_BYTES, MAX_MESSAGES, read_data};
use benchcards_core::results::{FileProblems, read_tabular};
use benchcards_core::{Diagnostic, Diagnostics, Pos};
use serde_json::Value;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: String,
    /// The dataset item the conversation is about, when the log links one.
    pub item: Option<String>,
    /// `system`, `user` (the person) and `assistant` (the model) turns, in order.
    pub messages: Vec<Message>,
    pub metadata: Option<Value>,
    /// Line of the conversation (its first row, for CSV).
    pub line: usize,
}

impl Conversation {
    /// The person's messages, in order.
    pub fn user_messages(&self) -> impl Iterator<Item = &str> {
        self.messages.iter().filter(|m| m.role == "user").map(|m| m.content.as_str())
    }

    /// The conversation as OpenAI chat messages, as `augment` attaches it to an item.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::json!({"id": self.id, "messages": self.messages});
        if let Some(m) = &self.metadata {
            v["metadata"] = m.clone();
        }
        v
    }
}

/// What a log file held.
#[derive(Debug, Clone, Default)]
pub struct Logs {
    pub conversations: Vec<Conversation>,
    /// Non-empty lines (JSONL) or rows (CSV) read.
    pub lines: usize,
    /// Lines or rows skipped, each with a warning in `warnings`.
    pub skipped: usize,
    pub warnings: Diagnostics,
    /// Whether the file says it holds protected health information (its JSONL header line);
    /// `None` when it does not say.
    pub contains_phi: Option<bool>,
}

/// A role name as the chat format has it: the person is `user`, the model `assistant`. Logs
/// from other tools name them otherwise (CRAFT-MD's simulated doctor is the assistant).
pub fn normalise_role(role: &str) -> Option<&'static str> {
    match role.trim().to_lowercase().as_str() {
        "user" | "patient" | "human" | "customer" | "caller" | "member" => Some("user"),
        "assistant" | "model" | "bot" | "ai" | "doctor" | "agent" | "chatbot" => Some("assistant"),
        "system" | "developer" => Some("system"),
        _ => None,
    }
}

const ROLES: &str = "user (or patient, human), assistant (or model, bot, doctor), system";

fn at(line: usize, column: usize) -> Pos {
    Pos { line, column: column.max(1), index: 0 }
}

impl Logs {
    fn skip(&mut self, line: usize, column: usize, message: String, expected: &str) {
        self.skipped += 1;
        self.warnings.push(Diagnostic::warning(at(line, column), format!("{message}; line skipped")).expected(expected.to_string()));
    }

    /// Keeps a conversation that has something to measure, within the length limit.
    fn keep(&mut self, c: Conversation) {
        if c.messages.len() > MAX_MESSAGES {
            let why = format!("conversation `{}` has {} messages, over the limit of {MAX_MESSAGES}", c.id, c.messages.len());
            self.skip(c.line, 1, why, "a conversation of at most 1,000 messages (split longer logs into sessions)");
        } else if c.user_messages().next().is_none() {
            self.skip(c.line, 1, format!("conversation `{}` has no message from the person", c.id), "at least one `user` message");
        } else {
            self.conversations.push(c);
        }
    }
}

/// Reads JSONL logs: one conversation per line.
pub fn read_jsonl(text: &str) -> Logs {
    const SHAPE: &str = "{\"id\": ..., \"item\": ..., \"messages\": [{\"role\": \"user\", \"content\": \"...\"}, ...]}";
    let mut logs = Logs::default();
    let mut ids = std::collections::HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        // The first line may be a header: an object with the one key `logs`.
        let first = logs.lines == 0 && logs.skipped == 0 && logs.contains_phi.is_none();
        let header_facts = || match serde_json::from_str(raw) {
            Ok(Value::Object(mut m)) if m.len() == 1 => m.remove("logs"),
            _ => None,
        };
        if first && let Some(facts) = header_facts() {
            match header(&facts) {
                Ok(phi) => logs.contains_phi = Some(phi),
                Err(message) => {
                    logs.lines += 1;
                    logs.skip(line, 1, message, HEADER);
                }
            }
            continue;
        }
        logs.lines += 1;
        if raw.len() > MAX_LINE_BYTES {
            logs.skip(line, 1, format!("the line is {} bytes, over the limit of {MAX_LINE_BYTES}", raw.len()), SHAPE);
            continue;
        }
        let v: Value = match serde_json::from_str(raw) {
            Ok(v) => v,
            Err(e) => {
                logs.skip(line, e.column(), benchcards_core::diag::json_error(&e), SHAPE);
                continue;
            }
        };
        let Some(obj) = v.as_object() else {
            logs.skip(line, 1, "not a JSON object".into(), SHAPE);
            continue;
        };
        let text_field = |k: &str| match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(format!("`{k}` is not text")),
        };
        let (id, item) = match (text_field("id"), text_field("item")) {
            (Ok(id), Ok(item)) => (id.unwrap_or_else(|| format!("line-{line}")), item),
            (Err(e), _) | (_, Err(e)) => {
                logs.skip(line, 1, e, SHAPE);
                continue;
            }
        };
        let Some(raw_messages) = obj.get("messages").and_then(Value::as_array) else {
            logs.skip(line, 1, "no `messages` array".into(), SHAPE);
            continue;
        };
        let mut messages = Vec::new();
        let mut problem = None;
        for (k, m) in raw_messages.iter().enumerate() {
            let role = m.get("role").and_then(Value::as_str);
            let content = m.get("content").and_then(Value::as_str);
            match (role.and_then(normalise_role), content) {
                (Some(r), Some(c)) => messages.push(Message::new(r, c)),
                (None, _) => {
                    problem = Some((format!("message {} has role {:?}", k + 1, role.unwrap_or("(none)")), ROLES));
                    break;
                }
                (_, None) => {
                    problem = Some((format!("message {} has no text `content`", k + 1), "`content` as text in every message"));
                    break;
                }
            }
        }
        if let Some((message, expected)) = problem {
            logs.skip(line, 1, message, expected);
            continue;
        }
        if let Some(first) = ids.insert(id.clone(), line) {
            logs.skip(line, 1, format!("conversation id `{id}` already used on line {first}"), "a unique `id` per conversation");
            continue;
        }
        logs.keep(Conversation { id, item, messages, metadata: obj.get("metadata").cloned(), line });
    }
    logs
}

const HEADER: &str = "{\"logs\": {\"contains_phi\": true}} (or false) as the first line";

/// The `contains_phi` of a header line's `{"contains_phi": BOOL, "note": "..."}`, or why it is
/// not one.
fn header(facts: &Value) -> Result<bool, String> {
    let Some(facts) = facts.as_object() else {
        return Err("the header's `logs` is not an object".into());
    };
    if let Some(k) = facts.keys().find(|k| !matches!(k.as_str(), "contains_phi" | "note")) {
        return Err(format!("the header has an unknown key `{k}` (it may hold `contains_phi` and `note`)"));
    }
    match facts.get("contains_phi") {
        Some(Value::Bool(b)) => Ok(*b),
        _ => Err("the header's `contains_phi` is not `true` or `false`".into()),
    }
}

/// Whether a log file is CSV (by its extension); otherwise it is JSONL.
pub fn is_csv(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some("csv")
}

/// Reads a log file, CSV (`cols` naming its columns) or JSONL by its extension, with the file's
/// text. A skipped line is a warning in the logs; a file that cannot be read, or a CSV file
/// without a column it needs, is an error.
pub fn read_logs(path: &Path, cols: &CsvColumns) -> Result<(Logs, String), FileProblems> {
    let text = read_data(path).map_err(|d| FileProblems::new(path, None, Diagnostics(vec![d])))?;
    let logs = if is_csv(path) { read_csv(&text, cols).map_err(|d| FileProblems::new(path, Some(&text), d))? } else { read_jsonl(&text) };
    Ok((logs, text))
}

/// `benchcards augment`: real first messages attached to the items they name.
#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Args)]
pub struct AugmentArgs {
    pub dataset: std::path::PathBuf,
    /// Conversation logs naming the items (JSONL or CSV, as for `measure`).
    #[arg(long)]
    pub queries: std::path::PathBuf,
    #[arg(short, long)]
    pub output: Option<std::path::PathBuf>,
    /// Whether the logs hold protected health information, when they do not say so in a
    /// first line `{"logs": {"contains_phi": true}}` (CSV logs cannot). Logs that say
    /// nothing either way are taken to hold it, and the dataset is marked `contains_phi`.
    #[arg(long, value_name = "true|false")]
    pub logs_contain_phi: Option<bool>,
    #[command(flatten)]
    pub columns: CsvColumns,
}

/// Column names of a CSV log (JSONL logs use the chat `messages` format).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct CsvColumns {
    /// CSV logs: the column holding the conversation id.
    #[cfg_attr(feature = "clap", arg(long = "id-col", default_value = "conversation"))]
    pub conversation: String,
    /// CSV logs: the column holding the turn's position in its conversation.
    #[cfg_attr(feature = "clap", arg(long = "turn-col", default_value = "turn"))]
    pub turn: String,
    /// CSV logs: the column holding the speaker (user/patient, assistant/model, system).
    #[cfg_attr(feature = "clap", arg(long = "role-col", default_value = "role"))]
    pub role: String,
    /// CSV logs: the column holding the message.
    #[cfg_attr(feature = "clap", arg(long = "text-col", default_value = "text"))]
    pub text: String,
    /// CSV logs: the column naming the dataset item a conversation is about (optional).
    #[cfg_attr(feature = "clap", arg(long = "item-col", default_value = "item"))]
    pub item: String,
}

impl Default for CsvColumns {
    fn default() -> Self {
        CsvColumns {
            conversation: "conversation".into(),
            turn: "turn".into(),
            role: "role".into(),
            text: "text".into(),
            item: "item".into(),
        }
    }
}

/// Reads CSV logs: one row per turn, grouped by conversation id and ordered by turn number.
/// A missing column is an error for the whole file; a bad row is skipped with a warning.
pub fn read_csv(text: &str, cols: &CsvColumns) -> Result<Logs, Diagnostics> {
    let table = read_tabular(text, false)?;
    let mut missing = Diagnostics::default();
    let mut need = |name: &str, flag: &str| table.require(name, Some(flag)).map_err(|d| missing.push(d)).ok();
    let (c, t, r, x) = (
        need(&cols.conversation, "--id-col"),
        need(&cols.turn, "--turn-col"),
        need(&cols.role, "--role-col"),
        need(&cols.text, "--text-col"),
    );
    let (Some(c), Some(t), Some(r), Some(x)) = (c, t, r, x) else { return Err(missing) };
    let item_col = table.column(&cols.item);
    let mut logs = Logs::default();
    // Conversation id → (first line, item, turns as (turn, line, role, text)).
    type Turns = Vec<(f64, usize, &'static str, String)>;
    let mut by: indexmap::IndexMap<String, (usize, Option<String>, Turns)> = indexmap::IndexMap::new();
    for row in &table.rows {
        logs.lines += 1;
        let get = |i: usize| row.values.get(i).cloned().flatten();
        let col = |i: usize| row.columns.get(i).copied().unwrap_or(1);
        let Some(id) = get(c) else {
            logs.skip(row.line, col(c), format!("no `{}`", cols.conversation), "a conversation id on every row");
            continue;
        };
        let Some(turn) = get(t).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite()) else {
            logs.skip(row.line, col(t), format!("`{}` is not a number", cols.turn), "the turn's position in its conversation (1, 2, ...)");
            continue;
        };
        let Some(role) = get(r).as_deref().and_then(normalise_role) else {
            logs.skip(row.line, col(r), format!("role {:?} is not one benchcards knows", get(r).unwrap_or_default()), ROLES);
            continue;
        };
        let entry = by.entry(id).or_insert_with(|| (row.line, None, Vec::new()));
        if let Some(item) = item_col.and_then(get) {
            entry.1.get_or_insert(item);
        }
        entry.2.push((turn, row.line, role, get(x).unwrap_or_default()));
    }
    for (id, (line, item, mut turns)) in by {
        turns.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let messages = turns.into_iter().map(|(_, _, role, text)| Message::new(role, text)).collect();
        logs.keep(Conversation { id, item, messages, metadata: None, line });
    }
    Ok(logs)
}

/// What `augment` attached, and what it could not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AugmentReport {
    /// Items given real first messages and conversations.
    pub items_with: usize,
    /// Items no conversation names: they keep their written queries.
    pub items_without: Vec<String>,
    /// Conversations that name no item.
    pub unlinked: usize,
    /// Item ids named by conversations that the dataset lacks.
    pub unknown_items: Vec<String>,
}

/// Attaches conversations to the items they name: each item's `patient_queries` become the
/// real first messages (so `patient_query` poses real words), and its `conversations` the whole
/// exchanges. Items no conversation names are left as they are, and reported. The result holds
/// patient data when the dataset or the logs do.
pub fn augment(ds: &Dataset, convs: &[Conversation], logs_contain_phi: bool, provenance: Augmentation) -> (Dataset, AugmentReport) {
    let mut out = ds.clone();
    out.header.contains_phi |= logs_contain_phi;
    let mut report = AugmentReport::default();
    let mut attached = 0;
    for item in &mut out.items {
        let mine: Vec<&Conversation> = convs.iter().filter(|c| c.item.as_deref() == Some(item.id.as_str())).collect();
        if mine.is_empty() {
            report.items_without.push(item.id.clone());
            continue;
        }
        report.items_with += 1;
        attached += mine.len();
        item.patient_queries = mine.iter().filter_map(|c| c.user_messages().next()).map(str::to_string).collect();
        item.conversations = mine.iter().map(|c| c.to_json()).collect();
    }
    report.unlinked = convs.iter().filter(|c| c.item.is_none()).count();
    let mut unknown: Vec<String> = convs.iter().filter_map(|c| c.item.clone()).filter(|i| ds.item(i).is_none()).collect();
    unknown.sort();
    unknown.dedup();
    report.unknown_items = unknown;
    out.header.augmented = Some(Augmentation { conversations: attached, items: report.items_with, ..provenance });
    (out, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_or_a_conversation_over_the_limits_is_skipped_with_a_warning() {
        let long = format!(r#"{{"id": "long", "messages": [{{"role": "user", "content": "{}"}}]}}"#, "x".repeat(MAX_LINE_BYTES));
        let turns: Vec<&str> = (0..=MAX_MESSAGES).map(|_| r#"{"role": "user", "content": "hi"}"#).collect();
        let many = format!(r#"{{"id": "many", "messages": [{}]}}"#, turns.join(","));
        let ok = r#"{"id": "ok", "messages": [{"role": "user", "content": "hi"}]}"#;
        let logs = read_jsonl(&format!("{long}\n{many}\n{ok}\n"));
        assert_eq!((logs.lines, logs.skipped, logs.conversations.len()), (3, 2, 1));
        let warnings: Vec<(usize, &str)> = logs.warnings.0.iter().map(|d| (d.line, d.message.as_str())).collect();
        assert!(warnings[0].0 == 1 && warnings[0].1.contains("over the limit of 4194304"), "{warnings:?}");
        assert!(warnings[1].0 == 2 && warnings[1].1.contains("1001 messages, over the limit of 1000"), "{warnings:?}");
    }

    #[test]
    fn a_first_line_header_says_whether_the_logs_hold_patient_data() {
        let conv = r#"{"id": "a", "messages": [{"role": "user", "content": "hi"}]}"#;
        let read = |header: &str| read_jsonl(&format!("\n{header}\n{conv}\n"));
        let logs = read(r#"{"logs": {"contains_phi": true, "note": "from the clinic"}}"#);
        assert_eq!((logs.contains_phi, logs.lines, logs.skipped, logs.conversations.len()), (Some(true), 1, 0, 1));
        assert_eq!(read(r#"{"logs": {"contains_phi": false}}"#).contains_phi, Some(false));
        assert_eq!(read_jsonl(&format!("{conv}\n")).contains_phi, None, "a file without a header does not say");
        for (bad, why) in [
            (r#"{"logs": {"contains_phi": "yes"}}"#, "is not `true` or `false`"),
            (r#"{"logs": {"phi": true}}"#, "unknown key `phi`"),
            (r#"{ "logs" : true }"#, "is not an object"),
        ] {
            let logs = read(bad);
            assert_eq!((logs.contains_phi, logs.lines, logs.skipped, logs.conversations.len()), (None, 2, 1, 1), "{bad}");
            let w = &logs.warnings.0[0];
            assert!(w.line == 2 && w.message.contains(why) && w.expected.as_deref().unwrap().contains("first line"), "{bad}: {w:?}");
        }
        // Only the first line is a header; later, it is a line without messages.
        let logs = read_jsonl(&format!("{conv}\n{{\"logs\": {{\"contains_phi\": true}}}}\n"));
        assert_eq!((logs.contains_phi, logs.skipped), (None, 1));
    }

    #[test]
    fn jsonl_keeps_good_lines_and_says_why_each_bad_one_was_skipped() {
        let text = r#"{"id": "a", "item": "sx-001", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}

{"id": "b", "messages": [{"role": "patient", "content": "my head"}, {"role": "doctor", "content": "since when?"}]}
{oops
{"id": "c", "messages": [{"role": "nurse", "content": "x"}]}
{"id": "d", "messages": [{"role": "assistant", "content": "anyone there?"}]}
{"id": "a", "messages": [{"role": "user", "content": "again"}]}
[1, 2]
{"messages": [{"role": "user", "content": "no id"}], "metadata": {"site": "x"}}
"#;
        let logs = read_jsonl(text);
        assert_eq!((logs.lines, logs.skipped, logs.conversations.len()), (8, 5, 3));
        let ids: Vec<&str> = logs.conversations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "line-9"]);
        assert_eq!(logs.conversations[0].item.as_deref(), Some("sx-001"));
        assert_eq!(logs.conversations[1].messages[0], Message::new("user", "my head"), "a patient is the user, a doctor the assistant");
        let warnings: Vec<(usize, usize, &str)> = logs.warnings.0.iter().map(|d| (d.line, d.column, d.message.as_str())).collect();
        assert_eq!(warnings[0].0, 4);
        assert_eq!(warnings[0].1, 2, "the JSON error's column");
        assert!(warnings[1].2.contains("message 1 has role \"nurse\""), "{warnings:?}");
        assert!(warnings[2].2.contains("no message from the person"), "{warnings:?}");
        assert!(warnings[3].2.contains("already used on line 1"), "{warnings:?}");
        assert!(warnings[4].2.contains("not a JSON object"), "{warnings:?}");
        assert!(logs.warnings.0.iter().all(|d| !d.is_error() && d.message.ends_with("line skipped")));
    }

    #[test]
    fn csv_groups_turns_by_conversation_in_turn_order() {
        let text = "conv,turn,speaker,utterance,case\nk1,2,assistant,since when?,sx-002\nk1,1,user,\"my head, it hurts\",sx-002\nk2,1,patient,tired,\nk2,x,user,bad turn,\nk1,3,user,two days,\nk3,1,robot,hmm,\n";
        let cols = CsvColumns {
            conversation: "conv".into(),
            role: "speaker".into(),
            text: "utterance".into(),
            item: "case".into(),
            ..Default::default()
        };
        let logs = read_csv(text, &cols).unwrap();
        assert_eq!((logs.lines, logs.skipped, logs.conversations.len()), (6, 2, 2));
        let k1 = &logs.conversations[0];
        assert_eq!((k1.id.as_str(), k1.item.as_deref(), k1.line), ("k1", Some("sx-002"), 2));
        assert_eq!(k1.user_messages().collect::<Vec<_>>(), ["my head, it hurts", "two days"]);
        assert_eq!(logs.warnings.0[0].line, 5);
        assert_eq!(logs.warnings.0[0].column, 4, "at the turn value");
        assert!(logs.warnings.0[1].message.contains("\"robot\""));
        let err = read_csv("id,text\n1,x\n", &CsvColumns::default()).unwrap_err();
        assert!(
            err.0[0].message.contains("no column `conversation`") && err.0[0].suggestion.as_deref() == Some("map it with `--id-col NAME`")
        );
    }
}
