//! Diagnostics: what went wrong, where (1-based line and column, in characters), what was
//! expected and the nearest valid alternative.

use serde::Serialize;

/// A position in a source file. `line` and `column` are 1-based and count Unicode scalar
/// values, as editors do; `index` is the 0-based character offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    #[serde(skip)]
    pub index: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    #[serde(skip)]
    pub severity: Severity,
    pub line: usize,
    pub column: usize,
    /// Length of the offending text in characters (at least 1), for underlining.
    #[serde(skip)]
    pub len: usize,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    pub suggestion: Option<String>,
    /// The offending text is a secret: the diagnostic is shown without its snippet.
    #[serde(skip)]
    pub conceal: bool,
}

impl Diagnostic {
    pub fn error(pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, pos, message)
    }
    pub fn warning(pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, pos, message)
    }
    fn new(severity: Severity, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            line: pos.line.max(1),
            column: pos.column.max(1),
            len: 1,
            message: message.into(),
            expected: None,
            suggestion: None,
            conceal: false,
        }
    }
    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }
    pub fn suggest(mut self, suggestion: Option<String>) -> Self {
        self.suggestion = suggestion;
        self
    }
    pub fn len(mut self, len: usize) -> Self {
        self.len = len.max(1);
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics of one file, errors and warnings together, in source order.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| (d.line, d.column));
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
}

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c.to_string())
}

/// Adds the nearest long flag of the subcommand the arguments named to clap's "unexpected
/// argument" error, where clap finds none: clap's measure misses swapped letters (`--tpo` for
/// `--top`), one edit that a person makes often.
#[cfg(feature = "clap")]
pub fn suggest_flag(e: &mut clap::Error, root: &clap::Command, args: impl IntoIterator<Item = String>) {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(given)) = e.get(ContextKind::InvalidArg) else { return };
    let Some(given) = given.strip_prefix("--").map(str::to_string) else { return };
    if e.get(ContextKind::SuggestedArg).is_some() {
        return;
    }
    let mut cmd = root;
    for a in args {
        cmd = cmd.find_subcommand(&a).unwrap_or(cmd);
    }
    let flags = cmd.get_arguments().filter_map(|a| a.get_long());
    let best = flags.map(|f| (strsim::osa_distance(&given, f), f)).filter(|(d, f)| *d <= 1 + f.len() / 6).min();
    if let Some((_, flag)) = best {
        e.insert(ContextKind::SuggestedArg, ContextValue::String(format!("--{flag}")));
        e.insert(ContextKind::Suggested, ContextValue::StyledStrs(Vec::new()));
    }
}

/// "did you mean `x`?" for a suggestion, or a list of the valid choices when there are few.
pub fn did_you_mean(suggestion: &Option<String>) -> Option<String> {
    suggestion.as_ref().map(|s| format!("did you mean `{s}`?"))
}

/// A JSON parse error for one line of a JSONL file, without serde's "at line 1 column N"
/// (the diagnostic carries the file's own line and column).
pub fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = text.rsplit_once(" at line ").map_or(text.as_str(), |(m, _)| m);
    format!("invalid JSON: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_and_rejects_strangers() {
        let vocab = ["single_turn", "multi_turn_static", "multi_turn_simulated", "multi_turn_human"];
        assert_eq!(nearest("multi_turn_humn", vocab).as_deref(), Some("multi_turn_human"));
        assert_eq!(nearest("Single_Turn", vocab).as_deref(), Some("single_turn"));
        assert_eq!(nearest("banana", vocab), None);
    }
}
