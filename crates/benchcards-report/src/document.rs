//! A report written once and produced as twins: Markdown and a self-contained HTML page. Text
//! is escaped in the HTML twin; SVG is embedded in the page and linked from the Markdown.

use crate::{Table, escape_html, escape_md as md, html_page, inline_html};

/// Outside text on one Markdown line (a heading, an item, a quote): its breaks become spaces.
fn md_line(text: &str) -> String {
    md(text).replace('\n', " ")
}

pub struct Report {
    title: String,
    md: String,
    html: String,
    /// Set out tightly, for a page meant to print on one sheet (the clinician brief).
    compact: bool,
}

impl Report {
    pub fn new(title: &str) -> Report {
        Report {
            title: title.to_string(),
            md: format!("# {}\n\n", md_line(title)),
            html: format!("<h1>{}</h1>\n", inline_html(title)),
            compact: false,
        }
    }

    /// Sets the page out tightly, to print on one sheet.
    pub fn compact(&mut self) {
        self.compact = true;
    }

    /// A section heading (level 2 or 3).
    pub fn heading(&mut self, level: usize, text: &str) {
        let level = level.clamp(2, 3);
        self.md.push_str(&format!("{} {}\n\n", "#".repeat(level), md_line(text)));
        self.html.push_str(&format!("<h{level}>{}</h{level}>\n", inline_html(text)));
    }

    pub fn paragraph(&mut self, text: &str) {
        self.md.push_str(&format!("{}\n\n", md(text)));
        self.html.push_str(&format!("<p>{}</p>\n", inline_html(text)));
    }

    /// A callout that must not be missed (shown as a quote in Markdown).
    pub fn warning(&mut self, text: &str) {
        self.md.push_str(&format!("> **{}**\n\n", md_line(text)));
        self.html.push_str(&format!("<p role=\"note\" class=\"warning\"><strong>{}</strong></p>\n", inline_html(text)));
    }

    pub fn list(&mut self, items: &[String]) {
        for i in items {
            self.md.push_str(&format!("- {}\n", md_line(i)));
        }
        self.md.push('\n');
        self.html.push_str("<ul>\n");
        for i in items {
            self.html.push_str(&format!("<li>{}</li>\n", inline_html(i)));
        }
        self.html.push_str("</ul>\n");
    }

    /// A block of commands or other literal text.
    pub fn code(&mut self, text: &str) {
        self.md.push_str(&format!("```\n{text}\n```\n\n"));
        self.html.push_str(&format!("<pre>{}</pre>\n", escape_html(text)));
    }

    pub fn table(&mut self, t: &Table) {
        self.md.push_str(&t.to_markdown());
        self.md.push('\n');
        self.html.push_str(&t.to_html());
    }

    /// An SVG built by this crate (its text already escaped): inline in HTML, a link to
    /// `md_path` in Markdown.
    pub fn figure(&mut self, svg: &str, md_path: &str, alt: &str) {
        self.md.push_str(&format!("![{alt}]({md_path})\n\n"));
        self.html.push_str(&format!("<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>\n", escape_html(alt)));
    }

    /// A collapsible transcript: the summary line (with its grade shown as passed or not), then
    /// each message under its speaker. Collapsed in HTML; a quoted list in Markdown.
    pub fn transcript(&mut self, summary: &str, passed: Option<bool>, messages: &[(String, String)]) {
        let mark = match passed {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "·",
        };
        self.md.push_str(&format!("- {mark} {}\n", md_line(summary)));
        for (role, text) in messages {
            // Markdown renderers pass inline HTML through: message text is escaped here too.
            self.md.push_str(&format!("  > **{}:** {}\n", md_line(role), md_line(text)));
        }
        self.md.push('\n');
        let class = match passed {
            Some(true) => "pass",
            Some(false) => "fail",
            None => "ungraded",
        };
        self.html.push_str(&format!("<details class=\"transcript {class}\"><summary>{mark} {}</summary>\n", inline_html(summary)));
        for (role, text) in messages {
            self.html.push_str(&format!(
                "<p class=\"msg {}\"><strong>{}:</strong> {}</p>\n",
                escape_html(role),
                escape_html(role),
                escape_html(text)
            ));
        }
        self.html.push_str("</details>\n");
    }

    /// The HTML body without the page around it, for a page that adds its own navigation.
    pub fn fragment(&self) -> String {
        self.html.clone()
    }

    pub fn markdown(&self) -> String {
        self.md.clone()
    }

    pub fn html(&self) -> String {
        if self.compact {
            html_page(&self.title, &format!("<div class=\"compact\">\n{}</div>\n", self.html))
        } else {
            html_page(&self.title, &self.html)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twins_carry_the_same_content_and_html_escapes_it() {
        let mut r = Report::new("A <b> report");
        r.heading(2, "Scores & drops for `vignette`");
        r.paragraph("x < y");
        r.warning("not meaningful");
        r.list(&["one".into(), "<two>".into()]);
        let mut t = Table::new(&["a"]).titled("T");
        t.row(vec!["<script>".into()]);
        r.table(&t);
        let md = r.markdown();
        let html = r.html();
        assert!(md.starts_with("# A &lt;b> report\n"));
        assert!(md.contains("## Scores & drops for `vignette`") && md.contains("- &lt;two>") && md.contains("> **not meaningful**"));
        assert!(html.contains("<h1>A &lt;b&gt; report</h1>") && html.contains("<h2>Scores &amp; drops for <code>vignette</code></h2>"));
        assert!(html.contains("<li>&lt;two&gt;</li>") && html.contains("<td>&lt;script&gt;</td>"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn transcripts_collapse_and_escape_every_message() {
        let mut r = Report::new("t");
        r.transcript("sx-001 · vignette · conditions 1", Some(true), &[("user".into(), "<img src=x onerror=alert(1)>".into())]);
        let html = r.html();
        assert!(html.contains("<details class=\"transcript pass\"><summary>✓ sx-001 · vignette · conditions 1</summary>"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;") && !html.contains("<img"));
        assert!(r.markdown().contains("- ✓ sx-001 · vignette · conditions 1\n  > **user:** &lt;img src=x"));
    }
}
