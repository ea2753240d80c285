//! A serde `Deserializer` over the positioned YAML tree. Every error carries the position of the
//! node (or key) it concerns, what was expected and, for unknown keys and values, the nearest
//! valid alternative. Scalars are typed by the target type, not guessed (no "Norway problem").

use crate::diag::{Diagnostic, Pos, nearest};
use crate::yaml::{Key, Node, NodeValue};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::fmt;

#[derive(Debug)]
pub struct DeError {
    pub message: String,
    pub pos: Option<Pos>,
    pub len: usize,
    pub expected: Option<String>,
    pub suggestion: Option<String>,
    /// A missing field is reported at the key that owns the mapping.
    missing: bool,
}

impl DeError {
    fn new(message: String) -> Self {
        DeError { message, pos: None, len: 1, expected: None, suggestion: None, missing: false }
    }
    fn at(mut self, pos: Pos, len: usize) -> Self {
        if self.pos.is_none() {
            self.pos = Some(pos);
            self.len = len;
        }
        self
    }
    pub fn into_diagnostic(self, fallback: Pos) -> Diagnostic {
        let mut d = Diagnostic::error(self.pos.unwrap_or(fallback), self.message).len(self.len).suggest(self.suggestion);
        d.expected = self.expected;
        d
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for DeError {}

/// Every allowed key or value, listed: a type's keys and values are few enough to read, and
/// the list is what the writer needs.
fn one_of(expected: &[&str]) -> String {
    match expected {
        [] => "nothing here".into(),
        _ => format!("one of {}", expected.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(msg.to_string())
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(format!("unknown key `{field}`"));
        e.expected = Some(one_of(expected));
        e.suggestion = nearest(field, expected.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        e.len = field.chars().count();
        e
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(format!("unknown value `{variant}`"));
        e.expected = Some(one_of(expected));
        e.suggestion = nearest(variant, expected.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        e.len = variant.chars().count();
        e
    }
    fn missing_field(field: &'static str) -> Self {
        let mut e = DeError::new(format!("missing required key `{field}`"));
        e.suggestion = Some(format!("add `{field}:` here"));
        e.missing = true;
        e
    }
    fn invalid_type(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        let mut e = DeError::new(format!("wrong type: found {unexp}"));
        e.expected = Some(exp.to_string());
        e
    }
    fn invalid_value(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        let mut e = DeError::new(format!("invalid value: {unexp}"));
        e.expected = Some(exp.to_string());
        e
    }
}

/// Deserializes `T` from a node; `owner` is the key whose value `node` is, if any (missing
/// fields are reported there, which is where a reader looks).
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node, owner: Option<&'de Key>) -> Result<T, DeError> {
    T::deserialize(NodeDe { node, owner })
}

#[derive(Clone, Copy)]
struct NodeDe<'a> {
    node: &'a Node,
    owner: Option<&'a Key>,
}

impl<'a> NodeDe<'a> {
    fn place(&self, e: DeError) -> DeError {
        if e.missing
            && e.pos.is_none()
            && let Some(k) = self.owner
        {
            let mut e = e.at(k.pos, k.text.chars().count());
            e.message = format!("{} in `{}`", e.message, k.text);
            return e;
        }
        e.at(self.node.pos, self.node.len)
    }
    fn wrong_type(&self, expected: &str) -> DeError {
        let found = match &self.node.value {
            NodeValue::Scalar { text, .. } if !self.node.is_null() => format!("`{}`", truncate(text)),
            _ => self.node.type_name().to_string(),
        };
        let mut e = DeError::new(format!("wrong type: expected {expected}, found {found}"));
        e.expected = Some(expected.to_string());
        e.at(self.node.pos, self.node.len)
    }
    fn text(&self, expected: &str) -> Result<&'a str, DeError> {
        match &self.node.value {
            NodeValue::Scalar { text, .. } if !self.node.is_null() || expected == "text" => Ok(text),
            _ => Err(self.wrong_type(expected)),
        }
    }
    fn plain(&self, expected: &str) -> Result<&'a str, DeError> {
        match &self.node.value {
            NodeValue::Scalar { text, quoted: false } => Ok(text),
            _ => Err(self.wrong_type(expected)),
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 { format!("{}…", s.chars().take(40).collect::<String>()) } else { s.to_string() }
}

macro_rules! number {
    ($method:ident, $visit:ident, $ty:ty, $what:literal) => {
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            let text = self.plain($what)?;
            let parsed: $ty = text.replace('_', "").parse().map_err(|_| self.wrong_type($what))?;
            v.$visit(parsed).map_err(|e| self.place(e))
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            NodeValue::Seq(items) => v.visit_seq(SeqDe { items: items.iter() }),
            NodeValue::Map(entries) => v.visit_map(MapDe { entries: entries.iter(), value: None }),
            NodeValue::Scalar { text, quoted: true } => v.visit_str(text),
            NodeValue::Scalar { text, quoted: false } => {
                if self.node.is_null() {
                    v.visit_unit()
                } else if let Some(b) = parse_bool(text) {
                    v.visit_bool(b)
                } else if let Ok(i) = text.parse::<i64>() {
                    v.visit_i64(i)
                } else if let Ok(u) = text.parse::<u64>() {
                    v.visit_u64(u)
                } else if let Some(f) = parse_float(text) {
                    v.visit_f64(f)
                } else {
                    v.visit_str(text)
                }
            }
        };
        r.map_err(|e| self.place(e))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let b = parse_bool(self.plain("`true` or `false`")?).ok_or_else(|| self.wrong_type("`true` or `false`"))?;
        v.visit_bool(b).map_err(|e| self.place(e))
    }

    number!(deserialize_i8, visit_i8, i8, "an integer");
    number!(deserialize_i16, visit_i16, i16, "an integer");
    number!(deserialize_i32, visit_i32, i32, "an integer");
    number!(deserialize_i64, visit_i64, i64, "an integer");
    number!(deserialize_u8, visit_u8, u8, "a whole number");
    number!(deserialize_u16, visit_u16, u16, "a whole number");
    number!(deserialize_u32, visit_u32, u32, "a whole number");
    number!(deserialize_u64, visit_u64, u64, "a whole number");

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(v)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let f = parse_float(self.plain("a number")?).ok_or_else(|| self.wrong_type("a number"))?;
        v.visit_f64(f).map_err(|e| self.place(e))
    }
    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let text = self.text("text")?;
        v.visit_str(text).map_err(|e| self.place(e))
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.node.is_null() { v.visit_none() } else { v.visit_some(self) }.map_err(|e| self.place(e))
    }
    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if !self.node.is_null() {
            return Err(self.wrong_type("nothing"));
        }
        v.visit_unit().map_err(|e| self.place(e))
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, DeError> {
        self.deserialize_unit(v)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value, DeError> {
        v.visit_newtype_struct(self).map_err(|e| self.place(e))
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            NodeValue::Seq(items) => v.visit_seq(SeqDe { items: items.iter() }).map_err(|e| self.place(e)),
            _ => Err(self.wrong_type("a list")),
        }
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            NodeValue::Map(entries) => v.visit_map(MapDe { entries: entries.iter(), value: None }).map_err(|e| self.place(e)),
            _ => Err(self.wrong_type("a mapping of `key: value` lines")),
        }
    }
    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], v: V) -> Result<V::Value, DeError> {
        self.deserialize_map(v)
    }
    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, variants: &'static [&'static str], v: V) -> Result<V::Value, DeError> {
        let text = match &self.node.value {
            NodeValue::Scalar { text, .. } if !self.node.is_null() => text.as_str(),
            _ => return Err(self.wrong_type(&one_of(variants))),
        };
        v.visit_enum(text.into_deserializer()).map_err(|e: DeError| self.place(e))
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_unit()
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
        // Rust accepts "inf", "nan" and "infinity"; YAML does not.
        t if t.chars().any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') => None,
        t => t.replace('_', "").parse().ok(),
    }
}

struct SeqDe<'a> {
    items: std::slice::Iter<'a, Node>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(node) => seed.deserialize(NodeDe { node, owner: None }).map(Some).map_err(|e| e.at(node.pos, node.len)),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'a> {
    entries: std::slice::Iter<'a, (Key, Node)>,
    value: Option<(&'a Key, &'a Node)>,
}

impl<'de> de::MapAccess<'de> for MapDe<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((key, node)) => {
                self.value = Some((key, node));
                let len = key.text.chars().count();
                seed.deserialize(key.text.as_str().into_deserializer()).map(Some).map_err(|e: DeError| e.at(key.pos, len))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (key, node) = self.value.take().ok_or_else(|| DeError::new("value requested before key".into()))?;
        seed.deserialize(NodeDe { node, owner: Some(key) }).map_err(|e| e.at(node.pos, node.len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, Offset, parse};
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        name: String,
        share: f64,
        count: Option<u32>,
        mode: Mode,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        SingleTurn,
        MultiTurnHuman,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    fn load(text: &str) -> Result<Outer, DeError> {
        let node = parse(text, Offset::default(), Limits::default()).unwrap();
        from_node::<Outer>(&node, None)
    }

    #[test]
    fn reads_typed_values() {
        let o = load("inner:\n  name: no\n  share: 0.5\n  mode: single_turn\n").unwrap();
        assert_eq!(o.inner.name, "no", "`no` stays a string where a string is expected");
        assert_eq!(o.inner.mode, Mode::SingleTurn);
        assert_eq!(o.inner.count, None);
    }

    #[test]
    fn unknown_key_points_at_key_with_suggestion() {
        let e = load("inner:\n  name: a\n  shar: 0.5\n  mode: single_turn\n").unwrap_err();
        assert_eq!(e.pos.map(|p| (p.line, p.column)), Some((3, 3)));
        assert_eq!(e.suggestion.as_deref(), Some("did you mean `share`?"));
    }

    #[test]
    fn unknown_variant_points_at_value() {
        let e = load("inner:\n  name: a\n  share: 0.5\n  mode: multi_turn_humn\n").unwrap_err();
        assert_eq!(e.pos.map(|p| (p.line, p.column)), Some((4, 9)));
        assert_eq!(e.suggestion.as_deref(), Some("did you mean `multi_turn_human`?"));
    }

    #[test]
    fn wrong_type_and_missing_field() {
        let e = load("inner:\n  name: a\n  share: lots\n  mode: single_turn\n").unwrap_err();
        assert_eq!(e.pos.map(|p| (p.line, p.column)), Some((3, 10)));
        assert!(e.message.contains("expected a number, found `lots`"), "{}", e.message);
        let e = load("inner:\n  name: a\n  mode: single_turn\n").unwrap_err();
        assert_eq!(e.pos.map(|p| (p.line, p.column)), Some((1, 1)));
        assert!(e.message.contains("missing required key `share` in `inner`"), "{}", e.message);
    }
}
