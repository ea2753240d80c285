//! A new card to fill in (`benchcards card new`): every dimension and quality flag of the
//! taxonomy with `status: not_specified`, each under a comment with its question, its values
//! and their definitions, and the `other:<text>` escape, all read from the taxonomy, so a card
//! started today lists what the taxonomy asks today.

use crate::taxonomy::{Taxonomy, ValueDef};
use std::fmt::Write;

/// The card's YAML; as Markdown (`markdown`), the same in front matter above a title, so the
/// file doubles as a dataset README.
pub fn card_template(t: &Taxonomy, id: &str, markdown: bool) -> String {
    let mut y = String::new();
    let w = &mut y;
    let _ = writeln!(w, "# A BenchmarkCard: what the benchmark `{id}` assumes. For each dimension, write what its");
    let _ = writeln!(w, "# designers state: a `value:` from the list (or `other:<text>` when none fits), a `status:`");
    let _ = writeln!(w, "# (stated, inferred, measured, not_specified, not_applicable), an `answer:` in words and");
    let _ = writeln!(w, "# `evidence:` (source, where, quote). A dimension left `not_specified` is itself a finding.");
    let _ = writeln!(w, "# `benchcards check` this file as you go; `benchcards compare` it with a deployment.");
    let _ = writeln!(w, "benchcard:\n  version: 1\n  id: {id}\n  name: {id}");
    let _ = writeln!(w, "  citation: \"the paper or page that introduces the benchmark\"");
    let _ = writeln!(w, "  card_author: \"who wrote this card\"");
    let _ = writeln!(w, "  # true only when the benchmark's designers have read and approved this card");
    let _ = writeln!(w, "  designer_endorsed: false\n  dimensions:");
    for g in &t.groups {
        let _ = writeln!(w, "\n    # ── {}: {}", g.title, g.question);
        for d in t.dimensions.iter().filter(|d| d.group == g.id) {
            entry(w, &d.id, &d.question, &d.values);
        }
    }
    let _ = writeln!(w, "  flags:");
    for f in &t.flags {
        entry(w, &f.id, &f.question, &f.values);
    }
    if markdown { format!("---\n{y}---\n\n# {id}\n\nWhat the benchmark is for, in the designers' words.\n") } else { y }
}

/// One dimension or flag: its question and values as comments, then `not_specified`.
fn entry(w: &mut String, id: &str, question: &str, values: &[ValueDef]) {
    let _ = writeln!(w, "    # {id}: {question}");
    for v in values {
        let _ = writeln!(w, "    #   {}: {}", v.id, v.definition);
    }
    let _ = writeln!(w, "    #   other:<text>: none of these (say which)");
    let _ = writeln!(w, "    {id}:\n      status: not_specified");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::load_text;

    #[test]
    fn a_new_card_lists_every_dimension_and_passes_check_with_warnings_only() {
        let t = crate::taxonomy();
        for markdown in [false, true] {
            let text = card_template(t, "my-bench", markdown);
            let loaded = load_text("my-bench", text.clone(), None, markdown);
            assert!(!loaded.diagnostics.has_errors(), "{:?}", loaded.diagnostics);
            for d in &t.dimensions {
                assert!(text.contains(&format!("    {}:\n      status: not_specified", d.id)), "{}", d.id);
                assert!(text.contains(&d.question), "{}", d.id);
            }
            assert!(text.contains("other:<text>"));
        }
    }
}
