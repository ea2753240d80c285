//! benchcards-report: turns cards and results into text, Markdown and self-contained HTML.
//! Pure: takes values, returns strings. Everything that came from a file is escaped in HTML.

pub mod assess;
pub mod card;
pub mod croissant;
pub mod decompose;
pub mod diagnostic;
pub mod document;
pub mod readiness;
pub mod table;

pub use document::Report;
pub use table::Table;

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text for Markdown, which may come from a model, card, profile, dataset or transcript: `<`
/// escaped (no tag), `[` and `]` escaped (no link, no remote image), every kind of line break
/// made a line feed (renderers honour a lone `\r`), and a line that would open a block
/// (heading, quote, list, fence, rule, table) escaped at its first character.
pub fn escape_md(text: &str) -> String {
    escape_inline_md(text)
        .split('\n')
        .map(|line| {
            let rest = line.trim_start();
            // A marker opens a block when a space or the line's end follows it.
            let marker = |m: &str| rest.strip_prefix(m).is_some_and(|after| after.is_empty() || after.starts_with([' ', '\t']));
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let ordered = digits > 0 && (marker(&format!("{}.", &rest[..digits])) || marker(&format!("{})", &rest[..digits])));
            let underline = !rest.is_empty() && (rest.trim_end().chars().all(|c| c == '=') || rest.trim_end().chars().all(|c| c == '-'));
            let opens_block = rest.starts_with(['#', '>', '|'])
                || rest.starts_with("```")
                || rest.starts_with("~~~")
                || ["-", "*", "+"].iter().any(|m| marker(m))
                || ordered
                || underline;
            if opens_block { format!("{}\\{rest}", &line[..line.len() - rest.len()]) } else { line.to_string() }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Text inside a Markdown construct that holds no line (a table cell): as `escape_md`, but
/// breaks are left as line feeds for the caller to render.
fn escape_inline_md(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace(['\r', '\u{2028}', '\u{2029}', '\u{85}'], "\n")
        .replace('<', "&lt;")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

/// Escapes text for HTML and shows `code` spans (paired backticks) as `<code>`, as the
/// Markdown twin does. An unpaired backtick stays as it is.
pub fn inline_html(s: &str) -> String {
    let escaped = escape_html(s);
    let parts: Vec<&str> = escaped.split('`').collect();
    if parts.len() < 3 {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // Odd pieces are inside a pair; a last odd piece has no closing backtick.
            let closing = i % 2 == 0;
            let opens_unpaired = i % 2 == 1 && i == parts.len() - 1;
            out.push_str(if opens_unpaired {
                "`"
            } else if closing {
                "</code>"
            } else {
                "<code>"
            });
        }
        out.push_str(part);
    }
    out
}

/// A complete, self-contained HTML page (no external assets; prints well).
pub fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n{}</main>\n</body>\n</html>\n",
        escape_html(title),
        STYLE,
        body
    )
}

const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;color:#1b1b1b;margin:0;background:#fff}main{max-width:60rem;margin:0 auto;padding:1.5rem}h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.05rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}th,td{border:1px solid #d0d0d0;padding:.3rem .45rem;text-align:left;vertical-align:top}th{background:#f2f2f2}caption{text-align:left;font-weight:600;padding:.2rem 0}.meta{color:#555}.status-not_specified{color:#8a5a00}pre{background:#f6f6f6;padding:.5rem;overflow-x:auto}.warning{border-left:4px solid #b45309;padding:.3rem .6rem;background:#fff7ed}figure{margin:1rem 0}details.transcript{border:1px solid #ddd;border-left:4px solid #999;margin:.3rem 0;padding:.2rem .6rem}details.pass{border-left-color:#2e7d32}details.fail{border-left-color:#c62828}details.transcript p{margin:.3rem 0}@media print{details.transcript{break-inside:avoid}}svg{max-width:100%;height:auto}code{font-family:ui-monospace,monospace;font-size:.92em;background:#f3f3f3;padding:0 .2em;border-radius:3px}blockquote{margin:.3rem 0;padding-left:.6rem;border-left:3px solid #ccc;color:#444}@media print{main{max-width:none;padding:0}a{color:inherit}h2{break-after:avoid}tr{break-inside:avoid}}.skip{position:absolute;left:-999rem}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.3rem .6rem;border:2px solid #1b1b1b}main p,main li,main dd,main h1,main h2{overflow-wrap:anywhere}select,input,textarea{max-width:100%}@media (max-width:40rem){main{padding:.8rem}table{display:block;overflow-x:auto}}.compact{font-size:13px;line-height:1.35}.compact h1{font-size:1.3rem}.compact h2{font-size:1rem;margin:.7rem 0 .2rem}.compact p,.compact ul{margin:.2rem 0}.compact ul{padding-left:1.1rem}.compact li{margin:.1rem 0}@media print{@page{size:A4;margin:12mm}.compact{font-size:8.3pt}}";

#[cfg(test)]
mod tests {
    #[test]
    fn outside_text_opens_no_block_link_image_or_tag_in_markdown() {
        use super::escape_md;
        assert_eq!(escape_md("fine\r# heading"), "fine\n\\# heading");
        assert_eq!(escape_md("a\r\n> quote\n- item\n1. first\n```\n==="), "a\n\\> quote\n\\- item\n\\1. first\n\\```\n\\===");
        assert_eq!(
            escape_md("[x](javascript:alert(1)) ![](http://t.example/p.png)"),
            "\\[x\\](javascript:alert(1)) !\\[\\](http://t.example/p.png)"
        );
        assert_eq!(escape_md("<img src=x>"), "&lt;img src=x>");
        // What is not a block marker stays as it is.
        assert_eq!(escape_md("-0.5 points; `code` first; 2026 cases; *emphasis*"), "-0.5 points; `code` first; 2026 cases; *emphasis*");
    }

    use super::*;

    #[test]
    fn code_spans_become_code_and_everything_stays_escaped() {
        assert_eq!(inline_html("the benchmark has `clinician`; <b>"), "the benchmark has <code>clinician</code>; &lt;b&gt;");
        assert_eq!(inline_html("`a` and `b`"), "<code>a</code> and <code>b</code>");
        assert_eq!(inline_html("one ` alone"), "one ` alone");
        assert_eq!(inline_html("`x` then `y"), "<code>x</code> then `y");
        assert_eq!(inline_html("`<script>`"), "<code>&lt;script&gt;</code>");
    }
}
