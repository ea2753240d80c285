//! Diagnostics as miette's annotated snippets for a terminal, converting their character
//! positions to bytes here, at the output's edge.

use benchcards_core::{Diagnostic, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report};

/// Byte offset of a 1-based line and column (in characters) in `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + l.char_indices().nth(column.saturating_sub(1)).map_or(l.len(), |(b, _)| b);
        }
        offset += l.len();
    }
    text.len()
}

fn char_len_to_bytes(text: &str, start: usize, chars: usize) -> usize {
    text[start.min(text.len())..].char_indices().nth(chars).map_or(text.len() - start.min(text.len()), |(b, _)| b)
}

/// At most this many problems of one file are rendered; the rest are counted.
pub const SHOWN: usize = 20;

/// Renders the diagnostics of one file one after another: the first [`SHOWN`] of them, then a
/// line counting the rest.
pub fn render_list<'a>(path: &str, text: Option<&str>, diags: impl IntoIterator<Item = &'a Diagnostic>, color: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut more = 0;
    for d in diags {
        if out.len() < SHOWN {
            out.push(render(path, text, d, color));
        } else {
            more += 1;
        }
    }
    if more > 0 {
        out.push(format!("… and {more} more problem(s) in {path}"));
    }
    out
}

/// Renders one diagnostic with the offending snippet for a terminal, in colour when `color`.
pub fn render(path: &str, text: Option<&str>, d: &Diagnostic, color: bool) -> String {
    // The nearest fix first: a long list of expected values must not bury it.
    let mut help = Vec::new();
    if let Some(s) = &d.suggestion {
        help.push(s.clone());
    }
    if let Some(e) = &d.expected {
        help.push(format!("expected {e}"));
    }
    let mut diag = MietteDiagnostic::new(d.message.clone()).with_severity(match d.severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
    });
    if !help.is_empty() {
        diag = diag.with_help(help.join("; "));
    }
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = format!("{path}:{}:{}: ", d.line, d.column);
    let report: Report = match text {
        // A secret's line is never printed.
        Some(text) if !text.is_empty() && !d.conceal => {
            let start = byte_offset(text, d.line, d.column).min(text.len());
            let len = char_len_to_bytes(text, start, d.len);
            let label = if d.is_error() { "here" } else { "note" };
            Report::new(diag.with_labels([LabeledSpan::at(start..start + len, label)]))
                .with_source_code(NamedSource::new(path, text.to_string()))
        }
        _ => Report::new(diag),
    };
    let mut rendered = String::new();
    if handler.render_report(&mut rendered, report.as_ref()).is_err() {
        rendered = d.message.clone();
    }
    out.push_str(rendered.trim_start());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters() {
        let text = "a: é\nbé: x\n";
        assert_eq!(byte_offset(text, 2, 5), "a: é\nbé: ".len());
        assert_eq!(byte_offset(text, 9, 1), text.len());
    }

    #[test]
    fn a_long_list_shows_its_first_problems_and_counts_the_rest() {
        let text = "x\n".repeat(30);
        let diags: Vec<Diagnostic> = (1..=SHOWN + 2)
            .map(|line| Diagnostic::error(benchcards_core::Pos { line, column: 1, index: 0 }, format!("bad row {line}")))
            .collect();
        let shown = render_list("f.csv", Some(&text), &diags, false);
        assert_eq!(shown.len(), SHOWN + 1);
        assert!(shown[0].contains("f.csv:1:1") && shown[0].contains("bad row 1"), "{}", shown[0]);
        assert_eq!(shown[SHOWN], "… and 2 more problem(s) in f.csv");
        assert_eq!(render_list("f.csv", Some(&text), &diags[..3], false).len(), 3);
    }
}
