//! A YAML tree in which every node knows where it came from, built from the event stream with
//! hard limits (nesting depth, node count including alias expansion) so hostile input is refused
//! with a diagnostic instead of exhausting memory or the stack.

use crate::diag::{Diagnostic, Pos};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle};
use std::collections::HashMap;

/// Limits applied while building a tree.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes in the tree, counting every node an alias expands to.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_depth: 64, max_nodes: 200_000 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// A scalar and whether it was quoted (quoted scalars are always strings).
    Scalar {
        text: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub text: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    /// Where the node starts.
    pub pos: Pos,
    /// Length in characters of a scalar's source text (1 for containers).
    pub len: usize,
    /// Nodes in this subtree, for the expansion budget.
    size: usize,
}

impl Node {
    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }
    /// A plain scalar that YAML's core schema reads as null (`~`, `null`, empty).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar { text, quoted: false } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }
    pub fn entries(&self) -> &[(Key, Node)] {
        match &self.value {
            NodeValue::Map(entries) => entries,
            _ => &[],
        }
    }
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries().iter().find(|(k, _)| k.text == key).map(|(_, v)| v)
    }
    pub fn key(&self, key: &str) -> Option<&Key> {
        self.entries().iter().find(|(k, _)| k.text == key).map(|(k, _)| k)
    }
    /// Follows a path of mapping keys and sequence indices (given as decimal strings).
    pub fn at_path(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for step in path {
            node = match &node.value {
                NodeValue::Map(_) => node.get(step)?,
                NodeValue::Seq(items) => items.get(step.parse::<usize>().ok()?)?,
                NodeValue::Scalar { .. } => return None,
            };
        }
        Some(node)
    }
    /// Removes the deepest mapping entry or list item that starts at `at` (its key or its value)
    /// and returns the position of the key that owns its container (`owner` at this level):
    /// where an error about the container, such as a field now missing, points. None when
    /// nothing starts there.
    pub fn remove_at(&mut self, at: Pos, owner: Pos) -> Option<Pos> {
        let same = |p: &Pos| (p.line, p.column) == (at.line, at.column);
        match &mut self.value {
            NodeValue::Map(entries) => {
                if let Some(o) = entries.iter_mut().find_map(|(k, v)| v.remove_at(at, k.pos)) {
                    return Some(o);
                }
                let i = entries.iter().position(|(k, v)| same(&k.pos) || same(&v.pos))?;
                entries.remove(i);
                Some(owner)
            }
            NodeValue::Seq(items) => {
                if let Some(o) = items.iter_mut().find_map(|v| v.remove_at(at, owner)) {
                    return Some(o);
                }
                let i = items.iter().position(|v| same(&v.pos))?;
                items.remove(i);
                Some(owner)
            }
            NodeValue::Scalar { .. } => None,
        }
    }
    /// A short description of the node's type, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            NodeValue::Scalar { .. } if self.is_null() => "nothing (null)",
            NodeValue::Scalar { .. } => "a scalar",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

/// Offsets added to every position, for YAML embedded in a larger file (Markdown front matter).
#[derive(Debug, Clone, Copy, Default)]
pub struct Offset {
    pub lines: usize,
    pub chars: usize,
}

fn pos(m: &Marker, off: Offset) -> Pos {
    Pos { line: m.line() + off.lines, column: m.col() + 1, index: m.index() + off.chars }
}

enum Frame {
    Seq { pos: Pos, anchor: usize, items: Vec<Node>, size: usize },
    Map { pos: Pos, anchor: usize, entries: Vec<(Key, Node)>, pending: Option<Key>, size: usize },
}

/// Parses one YAML document into a tree. An empty document yields a null scalar.
pub fn parse(text: &str, offset: Offset, limits: Limits) -> Result<Node, Diagnostic> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut total_nodes = 0usize;
    let mut root: Option<Node> = None;
    let mut documents = 0usize;

    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let at = pos(e.marker(), offset);
            if e.info().contains("recursion limit") {
                too_deep(at, limits)
            } else {
                Diagnostic::error(at, format!("YAML syntax error: {}", e.info()))
                    .expected("well-formed YAML (check indentation, colons and quotes)")
            }
        })?;
        let at = pos(&span.start, offset);
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(Diagnostic::error(at, "a second YAML document starts here")
                        .expected("exactly one YAML document per file")
                        .suggest(Some("remove the `---` line or split the file".into())));
                }
                continue;
            }
            Event::Alias(id) => {
                let target = anchors.get(&id).ok_or_else(|| Diagnostic::error(at, "alias refers to an unknown anchor"))?;
                total_nodes += target.size;
                if total_nodes > limits.max_nodes {
                    return Err(alias_bomb(at, limits));
                }
                let mut copy = target.clone();
                copy.pos = at;
                copy
            }
            Event::Scalar(text, style, anchor, tag) => {
                total_nodes += 1;
                if total_nodes > limits.max_nodes {
                    return Err(alias_bomb(at, limits));
                }
                let forced_str = tag.as_ref().is_some_and(|t| t.handle == "tag:yaml.org,2002:" && t.suffix == "str");
                let quoted = forced_str || !matches!(style, ScalarStyle::Plain);
                let len = span.end.index().saturating_sub(span.start.index()).max(1);
                let node = Node { value: NodeValue::Scalar { text: text.into_owned(), quoted }, pos: at, len, size: 1 };
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= limits.max_depth {
                    return Err(too_deep(at, limits));
                }
                total_nodes += 1;
                if total_nodes > limits.max_nodes {
                    return Err(alias_bomb(at, limits));
                }
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq { pos: at, anchor, items: Vec::new(), size: 1 }
                } else {
                    Frame::Map { pos: at, anchor, entries: Vec::new(), pending: None, size: 1 }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match stack.pop() {
                    Some(Frame::Seq { pos, anchor, items, size }) => (Node { value: NodeValue::Seq(items), pos, len: 1, size }, anchor),
                    Some(Frame::Map { pos, anchor, entries, size, .. }) => {
                        (Node { value: NodeValue::Map(entries), pos, len: 1, size }, anchor)
                    }
                    None => continue,
                };
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, size, .. }) => {
                *size += node.size;
                items.push(node);
            }
            Some(Frame::Map { entries, pending, size, .. }) => match pending.take() {
                None => {
                    let NodeValue::Scalar { text, .. } = node.value else {
                        return Err(Diagnostic::error(node.pos, "a mapping key must be a plain text, not a list or mapping")
                            .expected("`key: value`"));
                    };
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.text == text) {
                        return Err(Diagnostic::error(
                            node.pos,
                            format!("duplicate key `{text}` (first defined at line {}, column {})", first.pos.line, first.pos.column),
                        )
                        .expected("each key at most once in a mapping")
                        .suggest(Some(format!("merge the two `{text}` entries or remove one")))
                        .len(text.chars().count()));
                    }
                    *pending = Some(Key { text, pos: node.pos });
                }
                Some(key) => {
                    *size += node.size;
                    entries.push((key, node));
                }
            },
        }
    }
    Ok(root.unwrap_or(Node {
        value: NodeValue::Scalar { text: String::new(), quoted: false },
        pos: Pos { line: offset.lines + 1, column: 1, index: offset.chars },
        len: 1,
        size: 1,
    }))
}

fn too_deep(at: Pos, limits: Limits) -> Diagnostic {
    Diagnostic::error(at, format!("nesting deeper than {} levels", limits.max_depth))
        .expected(format!("at most {} nested mappings and lists", limits.max_depth))
        .suggest(Some("flatten the structure; no card, profile or plan needs this depth".into()))
}

fn alias_bomb(at: Pos, limits: Limits) -> Diagnostic {
    Diagnostic::error(at, format!("document expands to more than {} nodes (anchors and aliases multiply)", limits.max_nodes))
        .expected("a document of reasonable size")
        .suggest(Some("write the repeated content out, or reduce the aliases".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Node, Diagnostic> {
        parse(text, Offset::default(), Limits::default())
    }

    #[test]
    fn positions_are_one_based_characters() {
        let root = p("a: 1\nbé: [x, \"y\"]\n").unwrap();
        let b = root.get("bé").unwrap();
        assert_eq!((b.pos.line, b.pos.column), (2, 5));
        let y = b.at_path(&["1"]).unwrap();
        assert_eq!(y.value, NodeValue::Scalar { text: "y".into(), quoted: true });
        assert_eq!((y.pos.line, y.pos.column), (2, 9));
        assert_eq!(root.key("bé").unwrap().pos.column, 1);
    }

    #[test]
    fn duplicate_key_points_at_second() {
        let err = p("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!((err.line, err.column), (3, 1));
        assert!(err.message.contains("duplicate key `a`"), "{}", err.message);
        assert!(err.message.contains("line 1"));
    }

    #[test]
    fn alias_bomb_refused() {
        let mut doc = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = (b'a' + i - 1) as char;
            let cur = (b'a' + i) as char;
            doc.push_str(&format!(
                "{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let err = p(&doc).unwrap_err();
        assert!(err.message.contains("expands to more than"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_refused_without_stack_overflow() {
        let err = p(&"[".repeat(100)).unwrap_err();
        assert!(err.message.contains("nesting deeper than 64"), "{}", err.message);
        assert_eq!((err.line, err.column), (1, 65));
        // Past the scanner's own limit the same message is given.
        let err = p(&"[".repeat(100_000)).unwrap_err();
        assert!(err.message.contains("nesting deeper than 64"), "{}", err.message);
        let mut block = String::new();
        for depth in 0..200 {
            block.push_str(&format!("{}k{depth}:\n", " ".repeat(depth)));
        }
        let err = p(&block).unwrap_err();
        assert!(err.message.contains("nesting deeper than 64"), "{}", err.message);
        assert_eq!(err.line, 65);
    }

    #[test]
    fn offsets_shift_lines() {
        let root = parse("k: v\n", Offset { lines: 3, chars: 10 }, Limits::default()).unwrap();
        assert_eq!(root.key("k").unwrap().pos.line, 4);
    }

    #[test]
    fn empty_document_is_null() {
        assert!(p("").unwrap().is_null());
        assert!(p("# only a comment\n").unwrap().is_null());
    }
}
