//! The one output layer: a table rendered as aligned text, Markdown or HTML. Every command
//! that shows rows builds a `Table`; JSON output is the command's own serde value.

use crate::{escape_html, escape_inline_md, inline_html};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub title: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Longest cell in the text form, in characters; longer cells end in `…` (0: no limit).
    pub max_cell: usize,
    /// In the text form, the last column wraps at word boundaries to this width, continuing
    /// under itself (0: no wrapping).
    pub wrap_last: usize,
    /// In the HTML form, the table's class.
    pub class: Option<String>,
    /// In the HTML form, the first column heads its row (`<th scope="row">`).
    pub row_headers: bool,
    /// In the HTML form, where a cell links, by row and column (see `link`).
    pub links: BTreeMap<(usize, usize), String>,
    /// In the HTML form, a cell's inline style, by row and column (see `style`).
    pub styles: BTreeMap<(usize, usize), String>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Self {
        Table { columns: columns.iter().map(|c| c.to_string()).collect(), ..Table::default() }
    }
    pub fn titled(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    /// In the HTML form, makes a cell of the last row added a link to `href` (escaped, like the
    /// cell's text); the text and Markdown forms show the text alone.
    pub fn link(&mut self, column: usize, href: impl Into<String>) {
        if let Some(row) = self.rows.len().checked_sub(1) {
            self.links.insert((row, column), href.into());
        }
    }
    /// In the HTML form, gives a cell of the last row added an inline style (escaped).
    pub fn style(&mut self, column: usize, css: impl Into<String>) {
        if let Some(row) = self.rows.len().checked_sub(1) {
            self.styles.insert((row, column), css.into());
        }
    }

    /// Aligned plain text. Cells are kept on one line; the last column is not padded.
    pub fn to_text(&self) -> String {
        self.to_text_styled(|_, _| None)
    }

    /// Aligned text with an ANSI style (e.g. `"31"` for red) chosen per cell by `style(column,
    /// cell)`; widths are computed on the plain text. Use only when writing to a terminal.
    pub fn to_text_styled(&self, style: impl Fn(usize, &str) -> Option<&'static str>) -> String {
        let ncols = self.columns.len();
        let max = self.max_cell;
        // Control characters from outside text (an endpoint's ESC, BEL or backspace) never
        // reach the terminal: each shows as a space, as a line break does.
        let clean = |s: &str| {
            let s: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            if max > 1 && s.chars().count() > max { format!("{}…", s.chars().take(max - 1).collect::<String>()) } else { s }
        };
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(ncols) {
                widths[i] = widths[i].max(clean(cell).chars().count());
            }
        }
        if self.wrap_last > 0
            && let Some(last) = widths.last_mut()
        {
            *last = (*last).min(self.wrap_last);
        }
        let line = |cells: Vec<String>, styled: bool| -> String {
            let mut out = String::new();
            for (i, cell) in cells.iter().enumerate() {
                let pad = if i + 1 == cells.len() { 0 } else { widths[i] - cell.chars().count() + 2 };
                match style(i, cell).filter(|_| styled) {
                    Some(code) => out.push_str(&format!("\x1b[{code}m{cell}\x1b[0m")),
                    None => out.push_str(cell),
                }
                out.push_str(&" ".repeat(pad));
            }
            out.trim_end().to_string()
        };
        let mut out = String::new();
        if let Some(t) = &self.title {
            out.push_str(t);
            out.push('\n');
        }
        out.push_str(&line(self.columns.clone(), false));
        out.push('\n');
        out.push_str(&line(widths.iter().map(|w| "─".repeat(*w)).collect(), false));
        out.push('\n');
        let indent: usize = widths.iter().take(ncols.saturating_sub(1)).map(|w| w + 2).sum();
        for row in &self.rows {
            let mut cells: Vec<String> = row.iter().map(|c| clean(c)).collect();
            cells.resize(ncols, String::new());
            let mut rest = wrap(&cells[ncols - 1], self.wrap_last).into_iter();
            cells[ncols - 1] = rest.next().unwrap_or_default();
            out.push_str(&line(cells, true));
            out.push('\n');
            for more in rest {
                out.push_str(&format!("{}{more}\n", " ".repeat(indent)));
            }
        }
        out
    }

    /// A GitHub-flavoured Markdown table; `<`, pipes and line breaks inside cells are escaped.
    pub fn to_markdown(&self) -> String {
        // Nothing in a cell becomes a tag, link or image; pipes and breaks keep the table.
        let cell = |s: &str| escape_inline_md(s).replace('|', "\\|").replace('\n', "<br>");
        let mut out = String::new();
        if let Some(t) = &self.title {
            out.push_str(&format!("**{}**\n\n", cell(t)));
        }
        out.push_str(&format!("| {} |\n", self.columns.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")));
        out.push_str(&format!("|{}\n", "---|".repeat(self.columns.len())));
        for row in &self.rows {
            let mut cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
            cells.resize(self.columns.len(), String::new());
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    /// An HTML table; every cell, link and style is escaped (`code` spans shown as code).
    pub fn to_html(&self) -> String {
        let mut out = match &self.class {
            Some(class) => format!("<table class=\"{}\">\n", escape_html(class)),
            None => String::from("<table>\n"),
        };
        if let Some(t) = &self.title {
            out.push_str(&format!("<caption>{}</caption>\n", inline_html(t)));
        }
        out.push_str("<thead><tr>");
        for c in &self.columns {
            out.push_str(&format!("<th scope=\"col\">{}</th>", escape_html(c)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (r, row) in self.rows.iter().enumerate() {
            out.push_str("<tr>");
            for (c, cell) in row.iter().enumerate() {
                let (open, close) = if self.row_headers && c == 0 { ("th scope=\"row\"", "th") } else { ("td", "td") };
                let style = self.styles.get(&(r, c)).map_or(String::new(), |s| format!(" style=\"{}\"", escape_html(s)));
                let text = match self.links.get(&(r, c)) {
                    Some(href) => format!("<a href=\"{}\">{}</a>", escape_html(href), inline_html(cell)),
                    None => inline_html(cell),
                };
                out.push_str(&format!("<{open}{style}>{text}</{close}>"));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }
}

/// Lines of at most `width` characters, broken at spaces (a longer word keeps its own line).
fn wrap(text: &str, width: usize) -> Vec<String> {
    if width == 0 || text.chars().count() <= width {
        return vec![text.to_string()];
    }
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&["dimension", "value"]);
        t.row(vec!["query_author".into(), "clinician | exam".into()]);
        t.row(vec!["é".into(), "<b>x</b>".into()]);
        t
    }

    #[test]
    fn text_shows_no_control_character() {
        let mut t = Table::new(&["Reason"]);
        t.row(vec!["500 \x1b[2J\x07erased\x08\r".into()]);
        let text = t.to_text();
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert!(text.contains("500  [2J erased"), "{text:?}");
    }

    #[test]
    fn text_aligns_by_characters() {
        assert_eq!(
            sample().to_text(),
            "dimension     value\n────────────  ────────────────\nquery_author  clinician | exam\né             <b>x</b>\n"
        );
    }

    #[test]
    fn text_truncates_long_cells() {
        let mut t = sample();
        t.max_cell = 6;
        assert!(t.to_text().contains("clini…"), "{}", t.to_text());
    }

    #[test]
    fn styles_do_not_change_alignment() {
        let t = sample();
        let styled = t.to_text_styled(|col, _| (col == 0).then_some("31"));
        assert_eq!(styled.replace("\x1b[31m", "").replace("\x1b[0m", ""), t.to_text());
        assert!(styled.contains("\x1b[31mquery_author\x1b[0m"));
    }

    #[test]
    fn markdown_escapes_pipes() {
        assert!(sample().to_markdown().contains("| query_author | clinician \\| exam |"));
    }

    #[test]
    fn html_escapes_cells() {
        let html = sample().to_html();
        assert!(html.contains("<td>&lt;b&gt;x&lt;/b&gt;</td>"), "{html}");
        assert!(!html.contains("<b>x"));
    }

    #[test]
    fn html_links_styles_and_row_headers_are_escaped_and_only_in_html() {
        let mut t = Table::new(&["Card", "Fit"]);
        t.class = Some("heat\"map".into());
        t.row_headers = true;
        t.row(vec!["<evil>".into(), "0.5".into()]);
        t.link(0, "/cards/a\"b?x=1&y=2");
        t.style(1, "background:#fff\"");
        let html = t.to_html();
        assert!(html.contains("class=\"heat&quot;map\""), "{html}");
        assert!(html.contains("<th scope=\"row\"><a href=\"/cards/a&quot;b?x=1&amp;y=2\">&lt;evil&gt;</a></th>"), "{html}");
        assert!(html.contains("style=\"background:#fff&quot;\""), "{html}");
        assert!(!t.to_text().contains("href") && !t.to_markdown().contains("href"));
    }

    #[test]
    fn the_last_column_wraps_under_itself() {
        let mut t = Table::new(&["Rank", "Why"]);
        t.wrap_last = 12;
        t.row(vec!["1".into(), "breaks one group; measured drops".into()]);
        assert_eq!(t.to_text(), "Rank  Why\n────  ────────────\n1     breaks one\n      group;\n      measured\n      drops\n");
        assert_eq!(wrap("averyveryverylongword x", 5), ["averyveryverylongword", "x"]);
    }
}
