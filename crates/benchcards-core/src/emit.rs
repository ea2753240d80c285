//! Writes YAML from a JSON value: block style, flow style for short lists and mixtures, literal
//! blocks for multi-line text, quotes only where a plain scalar would be misread.

use crate::document::DocKind;
use serde_json::Value;

/// A card, profile or plan as a file of its kind: its value under the kind's top-level key
/// (`benchcard:`, `deployment:`, `plan:`).
pub fn document_yaml(kind: DocKind, value: &impl serde::Serialize) -> String {
    let mut top = serde_json::Map::new();
    top.insert(kind.key().to_string(), serde_json::to_value(value).unwrap_or_default());
    to_yaml(&Value::Object(top))
}

/// YAML text for `value` (a mapping at the top level), ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    emit(value, 0, &mut out);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn emit(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if map.is_empty() => out.push_str("{}\n"),
        Value::Array(items) if items.is_empty() => out.push_str("[]\n"),
        Value::Object(map) => {
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 || !out.ends_with("- ") {
                    out.push_str(&pad);
                }
                out.push_str(&scalar(k));
                out.push(':');
                emit_child(v, indent, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push_str("- ");
                match item {
                    Value::Object(m) if !m.is_empty() => emit(item, indent + 2, out),
                    _ => {
                        out.pop();
                        emit_child(item, indent, out);
                    }
                }
            }
        }
        _ => {
            out.push_str(&scalar_value(value, indent));
            out.push('\n');
        }
    }
}

/// Emits the value after `key:` (or `-`): inline when it fits, else on the next lines.
fn emit_child(v: &Value, indent: usize, out: &mut String) {
    if let Some(flow) = flow(v) {
        out.push(' ');
        out.push_str(&flow);
        out.push('\n');
        return;
    }
    match v {
        Value::Object(_) => {
            out.push('\n');
            emit(v, indent + 2, out);
        }
        Value::Array(_) => {
            out.push('\n');
            emit(v, indent + 2, out);
        }
        _ => {
            out.push(' ');
            out.push_str(&scalar_value(v, indent + 2));
            out.push('\n');
        }
    }
}

/// Flow form for empty containers, short lists of plain scalars and small mixtures.
fn flow(v: &Value) -> Option<String> {
    let text = match v {
        Value::Array(items) if items.is_empty() => "[]".to_string(),
        Value::Object(map) if map.is_empty() => "{}".to_string(),
        Value::Array(items) if items.iter().all(|i| matches!(i, Value::String(s) if !s.contains('\n')) || i.is_number()) => {
            format!("[{}]", items.iter().map(|i| i.as_str().map_or_else(|| i.to_string(), flow_scalar)).collect::<Vec<_>>().join(", "))
        }
        Value::Object(map) if map.values().all(Value::is_number) => {
            format!("{{{}}}", map.iter().map(|(k, v)| format!("{}: {}", flow_scalar(k), v)).collect::<Vec<_>>().join(", "))
        }
        _ => return None,
    };
    (text.len() <= 80).then_some(text)
}

fn scalar_value(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.contains('\n') && literal_ok(s) => {
            let pad = " ".repeat(indent);
            let chomp = if s.ends_with('\n') { "" } else { "-" };
            let body: Vec<String> =
                s.trim_end_matches('\n').lines().map(|l| if l.is_empty() { String::new() } else { format!("{pad}{l}") }).collect();
            format!("|{chomp}\n{}", body.join("\n"))
        }
        Value::String(s) => scalar(s),
        other => other.to_string(),
    }
}

/// A literal block keeps the text exactly when its first non-empty line has no leading space (a
/// reader takes that line's indentation for the block's), no line has a trailing space, it ends
/// with at most one newline, and every character can be written without an escape.
fn literal_ok(s: &str) -> bool {
    s.lines().find(|l| !l.is_empty()).is_some_and(|l| !l.starts_with(' '))
        && !s.ends_with("\n\n")
        && s.chars().all(|c| c == '\n' || plain_char(c))
        && !s.lines().any(|l| l.ends_with(' ') || l.contains('\t'))
}

/// A character written as itself outside quotes: printable in YAML's sense (§5.1), and neither a
/// byte-order mark nor a character some readers take for a line break.
fn plain_char(c: char) -> bool {
    !c.is_control() && !matches!(c, '\u{feff}' | '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}')
}

/// A string scalar: plain where YAML reads it back as the same string, double-quoted otherwise.
pub fn scalar(s: &str) -> String {
    if plain_ok(s) { s.to_string() } else { quoted(s) }
}

/// Inside `[...]` and `{...}` commas and brackets end a plain scalar, so quote them; so is a
/// scalar ending in `-`, which the reader would take for an indicator before the bracket.
fn flow_scalar(s: &str) -> String {
    if s.contains([',', '[', ']', '{', '}']) || s.ends_with('-') { quoted(s) } else { scalar(s) }
}

/// A double-quoted scalar; everything but a plain character, and the quote and backslash, is
/// escaped.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if plain_char(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let reserved = matches!(
        s,
        "true"
            | "false"
            | "True"
            | "False"
            | "TRUE"
            | "FALSE"
            | "null"
            | "Null"
            | "NULL"
            | "~"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | "Yes"
            | "No"
            | "On"
            | "Off"
    );
    let numeric = s.parse::<f64>().is_ok() || s.starts_with('.') || s.starts_with("0x") || s.starts_with("0o");
    !reserved
        && !numeric
        && !"-?:,[]{}#&*!|>'\"%@` ".contains(first)
        && !s.ends_with(' ')
        && !s.ends_with(':')
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars().all(plain_char)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::de::from_node;
    use crate::yaml::{Limits, Offset, parse};
    use serde_json::json;

    fn round_trip(v: &Value) -> Value {
        let text = to_yaml(v);
        let node = parse(&text, Offset::default(), Limits::default()).unwrap_or_else(|d| panic!("{}\n{text}", d.message));
        from_node::<Value>(&node, None).unwrap()
    }

    #[test]
    fn emits_yaml_that_reads_back_identically() {
        let v = json!({
            "benchcard": {
                "version": 1,
                "id": "x-y",
                "tricky": ["a, b", "[x]", "yes", "no", "1.0", "a: b", "#x", "- x", "", " lead", "ünï", "null", "line\nbreak\n", "two\nlines",
                    "\u{feff}bom", "\n  indented later", "nel\u{85}", "tab\tin\nblock", "quote\\\"back"],
                "big": u64::MAX,
                "mix": {"patient": 0.7, "clinician": 0.3},
                "list": [{"source": "https://a.b/c", "where": "§2"}, {"quote": "He said: \"no\""}],
                "empty": [],
                "nested": {"deeper": {"flag": true, "n": null}}
            }
        });
        assert_eq!(round_trip(&v), v);
        // In a flow sequence a scalar ending in `-` is quoted (found by the property test).
        let flow = json!({"": ["~ -"], "b": ["a -", "x"]});
        assert_eq!(round_trip(&flow), flow);
    }

    #[test]
    fn readable_output() {
        let text = to_yaml(&json!({"a": {"value": ["x", "w", "a, b"], "mix": {"p": 0.5, "q": 0.5}}}));
        assert_eq!(text, "a:\n  value: [x, w, \"a, b\"]\n  mix: {p: 0.5, q: 0.5}\n");
    }

    #[test]
    fn documents_sit_under_their_kind() {
        let yaml = document_yaml(DocKind::Profile, &json!({"id": "p"}));
        assert_eq!(yaml, to_yaml(&json!({"deployment": {"id": "p"}})));
    }
}
