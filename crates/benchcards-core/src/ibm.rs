//! BenchmarkCards JSON (Sokol et al., arXiv 2410.12974; IBM's collection) and the cards the
//! Auto-BenchmarkCard workflow drafts (Hofmann et al., arXiv 2512.09577), which wrap the same six
//! free-text sections in `benchmark_card`: `benchmark_details`, `purpose_and_intended_users`,
//! `data`, `methodology`, `targeted_risks`, `ethical_and_legal_considerations`.
//!
//! A field becomes a value only where it admits one reading: languages as BCP-47 tags, the data
//! type as the input modality, the tasks as the clinical task, the annotation as the reference
//! standard, the author's approval as `designer_endorsed`. Every other text is kept as the
//! answer of the dimension it speaks to, `not_specified`, or in the card's notes; what the card
//! leaves unstated is summarised.

use crate::diag::{Diagnostic, Diagnostics, Pos};
use crate::document::Source;
use crate::model::{Card, CardDimension, CardStatus, DatasetFacts, Evidence, Link, Metric, Value};
use crate::paper::{Imported, complete_dimensions, slug};
use crate::taxonomy::taxonomy;
use crate::yaml::{Limits, Node, NodeValue, Offset, parse};
use indexmap::IndexMap;

const SECTIONS: [&str; 6] =
    ["benchmark_details", "purpose_and_intended_users", "data", "methodology", "targeted_risks", "ethical_and_legal_considerations"];

/// Whether a parsed document looks like a BenchmarkCards card (so `import` can tell formats apart).
pub fn looks_like(root: &Node) -> bool {
    let card = root.get("benchmark_card").unwrap_or(root);
    SECTIONS.iter().any(|s| card.get(s).is_some())
}

/// The text of a field: a scalar, or a list's items joined; none for the formats' markers of an
/// unknown ("N/A", "Not specified", null, empty).
fn text(node: Option<&Node>) -> Option<String> {
    let node = node?;
    let t = match &node.value {
        NodeValue::Scalar { text, .. } => known(text)?.to_string(),
        NodeValue::Seq(items) => {
            let parts: Vec<String> = items.iter().filter_map(|i| text(Some(i))).collect();
            if parts.is_empty() {
                return None;
            }
            parts.join("; ")
        }
        NodeValue::Map(entries) => {
            let parts: Vec<String> = entries.iter().filter_map(|(k, v)| text(Some(v)).map(|t| format!("{}: {t}", k.text))).collect();
            if parts.is_empty() {
                return None;
            }
            parts.join("; ")
        }
    };
    Some(t)
}

fn known(s: &str) -> Option<&str> {
    let t = s.trim();
    let bare = t.trim_end_matches('.').to_lowercase();
    let unknown = ["", "n/a", "na", "not specified", "not applicable", "unknown", "not available", "not provided", "null", "~"];
    (!unknown.contains(&bare.as_str())).then_some(t)
}

/// A list field's known items with their positions (a scalar counts as one item).
fn items(node: Option<&Node>) -> Vec<(String, Pos)> {
    match node.map(|n| &n.value) {
        Some(NodeValue::Seq(items)) => items.iter().filter_map(|i| Some((known(i.scalar()?)?.to_string(), i.pos))).collect(),
        Some(NodeValue::Scalar { text, .. }) => {
            known(text).map(|t| vec![(t.to_string(), node.map_or_else(Pos::default, |n| n.pos))]).unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

const LANGUAGES: [(&str, &str); 36] = [
    ("english", "en"),
    ("chinese", "zh"),
    ("simplified chinese", "zh-Hans"),
    ("traditional chinese", "zh-Hant"),
    ("mandarin", "zh"),
    ("spanish", "es"),
    ("french", "fr"),
    ("german", "de"),
    ("japanese", "ja"),
    ("korean", "ko"),
    ("arabic", "ar"),
    ("portuguese", "pt"),
    ("brazilian portuguese", "pt-BR"),
    ("russian", "ru"),
    ("hindi", "hi"),
    ("italian", "it"),
    ("dutch", "nl"),
    ("vietnamese", "vi"),
    ("swahili", "sw"),
    ("turkish", "tr"),
    ("polish", "pl"),
    ("persian", "fa"),
    ("hebrew", "he"),
    ("indonesian", "id"),
    ("thai", "th"),
    ("bengali", "bn"),
    ("urdu", "ur"),
    ("greek", "el"),
    ("swedish", "sv"),
    ("yoruba", "yo"),
    ("hausa", "ha"),
    ("igbo", "ig"),
    ("amharic", "am"),
    ("zulu", "zu"),
    ("romanian", "ro"),
    ("multilingual", "mul"),
];

/// A language name or tag as a BCP-47 tag, when it has one reading.
fn language_tag(name: &str) -> Option<String> {
    let lower = name.trim().to_lowercase();
    if let Some((_, tag)) = LANGUAGES.iter().find(|(n, _)| *n == lower) {
        return Some((*tag).to_string());
    }
    let tag = name.trim();
    let primary_lower = tag.split('-').next().is_some_and(|p| p.chars().all(|c| c.is_ascii_lowercase()));
    (primary_lower && crate::taxonomy::check_language_tag(tag).is_ok()).then(|| tag.to_string())
}

/// The data type as input modalities: every part must name one (`text`, `image`, `audio`).
fn modalities(data_type: &str) -> Option<Vec<String>> {
    let lower = data_type.to_lowercase();
    let without_brackets: String = lower.split('(').map(|p| p.split_once(')').map_or(p, |(_, rest)| rest)).collect();
    let mut out: Vec<String> = Vec::new();
    for part in without_brackets.split([',', '/', '&', '+', ';']).flat_map(|p| p.split(" and ")) {
        let m = match part.trim() {
            "" => continue,
            "text" | "textual" | "natural language" => "free_text",
            "image" | "images" => "image",
            "audio" | "speech" => "audio",
            _ => return None,
        };
        if !out.iter().any(|o| o == m) {
            out.push(m.to_string());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The clinical task a task description names, when exactly one fits.
fn clinical_task(task: &str) -> Option<&'static str> {
    let t = task.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    let fits = [
        ("clinical_decision_support", has(&["diagnos", "triage", "treatment", "clinical decision", "management plan", "differential"])),
        ("note_generation", has(&["note generation", "clinical note", "documentation", "discharge summar", "summariz", "summaris"])),
        (
            "patient_communication",
            has(&["patient question", "consumer health", "patient communication", "patient education", "patient messag"]),
        ),
        ("research_assistance", has(&["literature", "biomedical research", "research question", "evidence synthesis"])),
        ("administration", has(&["billing", "icd coding", "medical coding", "scheduling", "administrat"])),
    ];
    one_reading(fits)
}

/// The reference standard an annotation description names, when exactly one fits.
fn reference_standard(annotation: &str) -> Option<&'static str> {
    let a = annotation.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| a.contains(w));
    let expert = has(&["physician", "clinician", "doctor", "expert", "pharmacist", "nurse", "specialist"]);
    let several = has(&["panel", "consensus", "two ", "three ", "multiple", "several", "adjudicat", "agreement"]);
    let fits = [
        ("exam_key", has(&["answer key", "official answer", "exam answer", "examination answer"])),
        ("expert_panel", expert && several && !has(&["rubric"])),
        (
            "single_expert",
            expert && !several && !has(&["rubric"]) && has(&["a physician", "one physician", "single", "an expert", "a clinician"]),
        ),
        ("expert_rubric_llm_graded", expert && has(&["rubric"]) && has(&["gpt", "llm", "model grader", "model-based grader"])),
        (
            "llm_judge",
            has(&["llm judge", "llm-as-a-judge", "gpt-4 judge", "model-generated label", "generated by gpt", "llm-generated label"])
                && !expert,
        ),
        ("observed_outcome", has(&["patient outcome", "observed outcome", "follow-up outcome"])),
    ];
    one_reading(fits)
}

/// The one value whose test holds, when exactly one does.
fn one_reading<const N: usize>(fits: [(&'static str, bool); N]) -> Option<&'static str> {
    let mut hits = fits.into_iter().filter_map(|(v, hit)| hit.then_some(v));
    match (hits.next(), hits.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// Which format a card is in, for its byline.
fn format_name(auto: bool) -> &'static str {
    if auto { "an Auto-BenchmarkCard" } else { "a BenchmarkCards JSON card" }
}

/// Converts a BenchmarkCards / Auto-BenchmarkCard JSON card. Only a card without a name, or
/// without any of the six sections, is refused; a field of an unexpected shape is read as text
/// and warned about.
pub fn import(source: &Source) -> Result<Imported, Diagnostics> {
    let mut diags = Diagnostics::default();
    let root = parse(source.yaml_text(), Offset::default(), Limits::default()).map_err(|d| Diagnostics(vec![d]))?;
    let auto = root.get("benchmark_card").is_some();
    let card_node = root.get("benchmark_card").unwrap_or(&root);
    if !matches!(card_node.value, NodeValue::Map(_)) || !looks_like(&root) {
        return Err(Diagnostics(vec![
            Diagnostic::error(card_node.pos, format!("expected a BenchmarkCards card, found {}", card_node.type_name()))
                .expected(format!("a JSON object with the sections {}", SECTIONS.join(", ")))
                .suggest(Some("an Auto-BenchmarkCard may hold them under `benchmark_card`".into())),
        ]));
    }
    for (k, v) in card_node.entries() {
        if SECTIONS.contains(&k.text.as_str()) && !matches!(v.value, NodeValue::Map(_)) && !v.is_null() {
            diags.push(
                Diagnostic::warning(v.pos, format!("section `{}` is {}, not an object; read as text", k.text, v.type_name()))
                    .expected("an object of named fields"),
            );
        }
    }
    let field = |section: &str, key: &str| card_node.at_path(&[section, key]);
    let Some(name) = text(field("benchmark_details", "name")) else {
        let at = card_node.get("benchmark_details").map_or(card_node.pos, |n| n.pos);
        diags.push(
            Diagnostic::error(at, "the card has no `benchmark_details.name`")
                .expected("`\"name\": \"...\"` in `benchmark_details`")
                .suggest(Some("give the benchmark's name; the card's id is made from it".into())),
        );
        return Err(diags);
    };

    let file_name = std::path::Path::new(&source.name).file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
    let approved_key = ["author_approved", "approved_by_author"];
    let approval = approved_key.iter().find_map(|k| root.get(k).or_else(|| card_node.get(k)));
    let designer_endorsed = match approval.and_then(Node::scalar) {
        Some("true") => true,
        Some("false") | None => file_name.starts_with('\u{2B50}'),
        Some(other) => {
            diags.push(
                Diagnostic::warning(
                    approval.map_or(root.pos, |n| n.pos),
                    format!("author approval `{other}` is not true or false; read as not approved"),
                )
                .expected("true or false"),
            );
            false
        }
    };

    let resources = items(field("benchmark_details", "resources"));
    let links: Vec<Link> = resources
        .iter()
        .filter(|(r, _)| r.starts_with("https://") || r.starts_with("http://"))
        .map(|(r, _)| Link {
            label: if r.contains("arxiv.org") || r.contains("doi.org") { "paper" } else { "resource" }.into(),
            url: r.clone(),
        })
        .collect();
    let citation = links
        .iter()
        .find(|l| l.label == "paper")
        .or(links.first())
        .map_or_else(|| format!("{name} (no citation in the imported card)"), |l| format!("{name}. {}", l.url));
    let evidence_source = links.iter().find(|l| l.label == "paper").or(links.first()).map_or_else(|| citation.clone(), |l| l.url.clone());
    let quoted = |section: &str, key: &str, quote: &str| Evidence {
        source: evidence_source.clone(),
        location: Some(format!("imported card, {section}.{key}")),
        quote: Some(quote.to_string()),
    };

    let mut dimensions: IndexMap<String, CardDimension> = IndexMap::new();
    let mut flags: IndexMap<String, CardDimension> = IndexMap::new();
    let put = |dims: &mut IndexMap<String, CardDimension>,
               id: &str,
               value: Option<Value>,
               status: CardStatus,
               answer: String,
               evidence: Vec<Evidence>| {
        let status = if value.is_some() { status } else { CardStatus::NotSpecified };
        let evidence = if value.is_some() { evidence } else { Vec::new() };
        dims.insert(id.to_string(), CardDimension { value, status, evidence, answer: Some(answer) });
    };

    // Languages: every entry must have a tag, else the text is kept.
    let languages = items(field("benchmark_details", "languages"));
    if !languages.is_empty() {
        let joined = languages.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(", ");
        let tags: Vec<Option<String>> = languages.iter().map(|(l, _)| language_tag(l)).collect();
        for ((l, pos), tag) in languages.iter().zip(&tags) {
            if tag.is_none() {
                diags.push(
                    Diagnostic::warning(*pos, format!("language `{l}` has no BCP-47 tag here; the languages are kept as text"))
                        .suggest(Some("write the tag in the card after import (e.g. `en-GB`, `pt-BR`, `sw`)".into())),
                );
            }
        }
        let value = tags.into_iter().collect::<Option<Vec<String>>>().map(|mut t| {
            t.dedup();
            if t.len() == 1 { Value::One(t.remove(0)) } else { Value::Set(t) }
        });
        let answer = format!("The imported card lists the languages: {joined}.");
        put(&mut dimensions, "language", value, CardStatus::Stated, answer, vec![quoted("benchmark_details", "languages", &joined)]);
    }
    if let Some(data_type) = text(field("benchmark_details", "data_type")) {
        let value = modalities(&data_type).map(Value::Set);
        let answer = format!("The imported card gives the data type: {data_type}.");
        put(
            &mut dimensions,
            "input_modality",
            value,
            CardStatus::Stated,
            answer,
            vec![quoted("benchmark_details", "data_type", &data_type)],
        );
    }
    let tasks = items(field("purpose_and_intended_users", "tasks"));
    if !tasks.is_empty() {
        let mut named: Vec<&str> = tasks.iter().filter_map(|(t, _)| clinical_task(t)).collect();
        named.dedup();
        let joined = tasks.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join("; ");
        let value = match named.as_slice() {
            [one] => Some(Value::One((*one).to_string())),
            _ => None,
        };
        let answer = format!("The imported card lists the tasks: {joined}.");
        put(
            &mut dimensions,
            "clinical_task",
            value,
            CardStatus::Inferred,
            answer,
            vec![quoted("purpose_and_intended_users", "tasks", &joined)],
        );
    }
    if let Some(annotation) = text(field("data", "annotation")) {
        let value = reference_standard(&annotation).map(|v| Value::One(v.to_string()));
        let answer = format!("The imported card describes the annotation: {annotation}");
        put(&mut dimensions, "reference_standard", value, CardStatus::Inferred, answer, vec![quoted("data", "annotation", &annotation)]);
    }
    // Texts that speak to a dimension but fix no value.
    let as_answers: [(&str, &str, &str, &str); 5] = [
        ("data", "source", "input_source", "The imported card gives the data's source"),
        ("benchmark_details", "domains", "specialties", "The imported card lists the domains"),
        ("methodology", "metrics", "outcome_level", "The imported card lists the metrics"),
        ("targeted_risks", "demographic_analysis", "population_age", "The imported card's demographic analysis"),
        ("methodology", "methods", "prompt_framing", "The imported card lists the methods"),
    ];
    for (section, key, dim, lead) in as_answers {
        if let Some(t) = text(field(section, key)) {
            put(&mut dimensions, dim, None, CardStatus::NotSpecified, format!("{lead}: {t}"), Vec::new());
        }
    }
    let flag_texts: [(&str, &[(&str, &str)]); 3] = [
        ("validity_evidence", &[("methodology", "validation"), ("methodology", "interpretation")]),
        ("human_baseline", &[("methodology", "human_baseline")]),
        ("harm_assessment", &[("targeted_risks", "risk_categories"), ("targeted_risks", "harm"), ("targeted_risks", "potential_harm")]),
    ];
    for (flag, fields) in flag_texts {
        let parts: Vec<String> = fields.iter().filter_map(|(s, k)| text(field(s, k)).map(|t| format!("{s}.{k}: {t}"))).collect();
        if !parts.is_empty() {
            put(&mut flags, flag, None, CardStatus::NotSpecified, format!("From the imported card — {}", parts.join(" | ")), Vec::new());
        }
    }
    complete_dimensions(&mut dimensions);

    let t = taxonomy();
    let mut unstated_groups: Vec<String> = Vec::new();
    let mut unstated = 0;
    for g in &t.groups {
        let open: Vec<&str> = t
            .dimensions
            .iter()
            .filter(|d| d.group == g.id && dimensions.get(&d.id).is_none_or(|c| c.status == CardStatus::NotSpecified))
            .map(|d| d.title.as_str())
            .collect();
        unstated += open.len();
        if !open.is_empty() {
            unstated_groups.push(format!("{} ({})", g.title, open.join(", ")));
        }
    }
    let summary = format!(
        "Imported from {}: {} of {} dimensions have a value; {unstated} are unstated. Unstated by group: {}.",
        format_name(auto),
        t.dimensions.len() - unstated,
        t.dimensions.len(),
        if unstated_groups.is_empty() { "none".to_string() } else { unstated_groups.join("; ") }
    );

    let mut notes = vec![summary.clone()];
    let note_fields: [(&str, &str, &str); 11] = [
        ("purpose_and_intended_users", "audience", "Audience of the benchmark"),
        ("purpose_and_intended_users", "limitations", "Limitations"),
        ("purpose_and_intended_users", "out_of_scope_uses", "Out-of-scope uses"),
        ("benchmark_details", "similar_benchmarks", "Similar benchmarks"),
        ("methodology", "calculation", "Calculation"),
        ("methodology", "baseline_results", "Baseline results"),
        ("targeted_risks", "atlas_risks", "Risks (AI Risk Atlas)"),
        ("ethical_and_legal_considerations", "privacy_and_anonymity", "Privacy and anonymity"),
        ("ethical_and_legal_considerations", "data_licensing", "Data licensing"),
        ("ethical_and_legal_considerations", "consent_procedures", "Consent procedures"),
        ("ethical_and_legal_considerations", "compliance_with_regulations", "Compliance with regulations"),
    ];
    for (section, key, label) in note_fields {
        if let Some(t) = text(field(section, key)) {
            notes.push(format!("{label}: {t}"));
        }
    }
    let size = text(field("data", "size"));
    let numbers: Vec<u64> = size
        .iter()
        .flat_map(|s| s.split(|c: char| !(c.is_ascii_digit() || c == ',')).filter_map(|n| n.replace(',', "").parse::<u64>().ok()))
        .collect();
    let description: Vec<String> = [("Size", size.clone()), ("Format", text(field("data", "format")))]
        .into_iter()
        .filter_map(|(l, t)| t.map(|t| format!("{l}: {t}")))
        .collect();
    let dataset = DatasetFacts {
        items: match numbers.as_slice() {
            [n] => Some(*n),
            _ => None,
        },
        description: (!description.is_empty()).then(|| description.join(". ")),
        collected_by: None,
        url: None,
    };
    let metrics: Vec<Metric> =
        items(field("methodology", "metrics")).into_iter().map(|(m, _)| Metric { name: m, description: None }).collect();
    let intended_use: Vec<String> =
        [text(field("benchmark_details", "overview")), text(field("purpose_and_intended_users", "goal")).map(|g| format!("Goal: {g}"))]
            .into_iter()
            .flatten()
            .collect();
    let license = text(field("ethical_and_legal_considerations", "data_licensing")).filter(|l| !l.contains(' ') && l.len() <= 40);
    let id = slug(&name);
    let card = Card {
        version: 1,
        id: if id.is_empty() { "imported-card".into() } else { id },
        name,
        benchmark_version: None,
        citation,
        links,
        license,
        card_author: format!("imported from {} by benchcards", format_name(auto)),
        designer_endorsed,
        intended_use: (!intended_use.is_empty()).then(|| intended_use.join(" ")),
        dataset: (dataset != DatasetFacts { items: None, description: None, collected_by: None, url: None }).then_some(dataset),
        metrics,
        dimensions,
        flags,
        tested: Vec::new(),
        notes: Some(notes.join("\n\n")),
    };
    Ok(Imported { card, profile: None, diagnostics: diags, summary: Some(summary) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_names_and_tags_have_one_reading_or_none() {
        assert_eq!(language_tag("English").as_deref(), Some("en"));
        assert_eq!(language_tag(" Brazilian Portuguese ").as_deref(), Some("pt-BR"));
        assert_eq!(language_tag("en-GB").as_deref(), Some("en-GB"));
        assert_eq!(language_tag("Klingon"), None);
        assert_eq!(language_tag("EN"), None, "an upper-case primary subtag is not a tag as written");
    }

    #[test]
    fn a_data_type_maps_only_when_every_part_does() {
        assert_eq!(modalities("text").unwrap(), vec!["free_text"]);
        assert_eq!(modalities("Text and images (radiographs)").unwrap(), vec!["free_text", "image"]);
        assert_eq!(modalities("Video Question-Answering"), None);
        assert_eq!(modalities("multimodal"), None);
    }

    #[test]
    fn tasks_and_annotations_map_only_with_one_reading() {
        assert_eq!(clinical_task("Diagnosis from patient vignettes"), Some("clinical_decision_support"));
        assert_eq!(clinical_task("Question answering"), None);
        assert_eq!(clinical_task("Summarising clinical notes for diagnosis"), None, "two readings");
        assert_eq!(reference_standard("Answers are the official answer key of the exam."), Some("exam_key"));
        assert_eq!(reference_standard("Two physicians labelled each item; disagreements resolved by consensus."), Some("expert_panel"));
        assert_eq!(reference_standard("Labels were crowdsourced."), None);
        assert_eq!(known("Not specified."), None);
        assert_eq!(known(" N/A "), None);
        assert_eq!(known("None"), Some("None"), "`None` can be an answer (no personal data)");
    }
}
