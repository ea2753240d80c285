//! Helpers shared by the command-line tests that read what a person sees: a page's visible
//! text, the taxonomy ids in it, and how many pages it prints on.

use std::path::Path;

/// The text a reader sees: tags dropped, the five escapes undone.
pub fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.split("<style>").map(|p| p.split_once("</style>").map_or(p, |x| x.1)).collect::<String>().chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// Taxonomy ids (those with an underscore, which no English word has) that appear as words.
pub fn raw_ids(text: &str) -> Vec<String> {
    let t = benchcards_core::taxonomy();
    let ids = t
        .groups
        .iter()
        .map(|g| g.id.as_str())
        .chain(t.dimensions.iter().flat_map(|d| std::iter::once(d.id.as_str()).chain(d.values.iter().map(|v| v.id.as_str()))))
        .chain(t.conditions.iter().map(|c| c.id.as_str()))
        .chain(t.flags.iter().flat_map(|f| std::iter::once(f.id.as_str()).chain(f.values.iter().map(|v| v.id.as_str()))));
    let words: std::collections::HashSet<&str> = text.split(|c: char| !(c.is_alphanumeric() || c == '_')).collect();
    let mut found: Vec<String> = ids.filter(|id| id.contains('_') && words.contains(id)).map(str::to_string).collect();
    found.sort();
    found.dedup();
    found
}

/// Pages of an HTML file printed to PDF (A4, as the page's print style asks) by headless
/// Chromium; `None` when Chromium is absent (never under CI).
pub fn printed_pages(html: &Path) -> Option<usize> {
    let found = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    let Some(chromium) = found else {
        assert!(std::env::var("CI").is_err(), "CI needs chromium for the print test (scripts/test.sh installs it)");
        eprintln!("chromium absent: the page count is not checked on this machine");
        return None;
    };
    let profile = tempfile::tempdir().unwrap();
    let pdf = profile.path().join("out.pdf");
    let out = std::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", profile.path().join("profile").display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&pdf).unwrap();
    // Each page object is a dictionary of type /Page (the page tree's own is /Pages).
    let text = String::from_utf8_lossy(&bytes);
    Some(text.matches("/Type /Page").count() - text.matches("/Type /Pages").count())
}
