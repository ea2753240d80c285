//! Hugging Face dataset-card front matter that restates a card: `language_creators` (who wrote
//! the inputs) and `annotations_creators` (who set the right answers), in the Hub's terms
//! (found, crowdsourced, expert-generated, machine-generated, other). `render` writes them from
//! the card; `check` warns when a card's front matter says otherwise.

use crate::diag::Diagnostic;
use crate::model::{Card, CardStatus};
use crate::yaml::{Limits, Node, Offset, parse};

/// The two keys, each with what the card's dimensions say (empty: the card does not say).
pub fn creators(card: &Card) -> [(&'static str, Vec<&'static str>); 2] {
    let values = |id: &str| -> Vec<&str> {
        card.dimensions
            .get(id)
            .filter(|d| !matches!(d.status, CardStatus::NotSpecified | CardStatus::NotApplicable))
            .and_then(|d| d.value.as_ref())
            .map(|v| v.ids())
            .unwrap_or_default()
    };
    let mut language: Vec<&'static str> = Vec::new();
    for v in values("query_author").into_iter().chain(values("input_source")) {
        let term = match v {
            "clinician" | "exam_writer" | "medical_trainee" | "researcher" | "exam_questions" | "clinician_vignettes" => "expert-generated",
            "crowdworker" => "crowdsourced",
            "synthetic" | "simulated_patient" => "machine-generated",
            "real_user_queries" | "real_clinical_records" | "case_reports" | "consumer_health_web" | "record_derived" => "found",
            _ => continue,
        };
        language.push(term);
    }
    let mut annotations: Vec<&'static str> = Vec::new();
    for v in values("reference_standard") {
        let terms: &[&'static str] = match v {
            "exam_key" | "single_expert" | "expert_panel" => &["expert-generated"],
            "expert_rubric_llm_graded" => &["expert-generated", "machine-generated"],
            "llm_judge" => &["machine-generated"],
            "observed_outcome" => &["found"],
            _ => &[],
        };
        annotations.extend(terms);
    }
    for list in [&mut language, &mut annotations] {
        list.sort_unstable();
        list.dedup();
    }
    [("language_creators", language), ("annotations_creators", annotations)]
}

/// Warnings for front-matter keys (`root`: the whole front matter) that contradict the card.
pub fn contradictions(card: &Card, root: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (key, expected) in creators(card) {
        let (Some(node), false) = (root.get(key), expected.is_empty()) else { continue };
        let mut given: Vec<&str> = match &node.value {
            crate::yaml::NodeValue::Seq(items) => items.iter().filter_map(Node::scalar).collect(),
            _ => node.scalar().into_iter().collect(),
        };
        given.sort_unstable();
        given.dedup();
        if given != expected {
            let pos = root.key(key).map_or(node.pos, |k| k.pos);
            out.push(
                Diagnostic::warning(
                    pos,
                    format!("`{key}: [{}]` contradicts the card, which says [{}]", given.join(", "), expected.join(", ")),
                )
                .len(key.chars().count())
                .suggest(Some("`benchcards render CARD --format md` writes them from the card; or correct the card".into())),
            );
        }
    }
    out
}

/// The front matter's text with the two keys as the card says (replacing any given; keys the
/// card does not answer are left as they are). Other keys, comments and order are kept.
pub fn fill(card: &Card, front: &str) -> String {
    let Ok(root) = parse(front, Offset::default(), Limits::default()) else { return front.to_string() };
    let mut lines: Vec<String> = front.lines().map(str::to_string).collect();
    let (mut replace, mut add) = (Vec::new(), Vec::new());
    for (key, expected) in creators(card) {
        if expected.is_empty() {
            continue;
        }
        let line = format!("{key}: [{}]", expected.join(", "));
        match root.key(key) {
            Some(k) => replace.push((k.pos.line - 1, line)),
            None => add.push(line),
        }
    }
    // From the bottom up, so earlier lines keep their numbers. An entry runs from its key to
    // the next line that starts a top-level key.
    replace.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (start, line) in replace {
        let end = (start + 1..lines.len())
            .find(|&i| lines[i].chars().next().is_some_and(|c| !c.is_whitespace() && c != '-' && c != '#'))
            .unwrap_or(lines.len());
        lines.splice(start..end, [line]);
    }
    lines.extend(add);
    let mut text = lines.join("\n");
    text.push('\n');
    text
}
