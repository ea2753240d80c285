//! A card as Croissant's Responsible AI metadata (MLCommons Croissant 1.0 with the RAI 1.0
//! vocabulary, `rai:`), the fields the NeurIPS Datasets & Benchmarks track asks for: a JSON-LD
//! `sc:Dataset` that a dataset's own Croissant file can merge. Each `rai:` field is written from
//! the dimensions that answer it; an assumption the card leaves unstated is listed among the
//! limitations, never filled in.

use crate::readiness::value_words;
use benchcards_core::model::{Card, CardStatus};
use benchcards_core::taxonomy::{Bias, taxonomy};
use serde_json::{Map, Value as Json, json};

/// The Croissant 1.0 `@context` (its published vocabulary), with the RAI and Dublin Core prefixes.
fn context() -> Json {
    let cr = |term: &str| json!(format!("cr:{term}"));
    let mut c = Map::new();
    c.insert("@language".into(), json!("en"));
    c.insert("@vocab".into(), json!("https://schema.org/"));
    for term in [
        "citeAs",
        "column",
        "equivalentProperty",
        "extract",
        "field",
        "fileProperty",
        "fileObject",
        "fileSet",
        "format",
        "includes",
        "isLiveDataset",
        "jsonPath",
        "key",
        "md5",
        "parentField",
        "path",
        "recordSet",
        "references",
        "regex",
        "repeated",
        "replace",
        "samplingRate",
        "separator",
        "source",
        "subField",
        "transform",
    ] {
        c.insert(term.into(), cr(term));
    }
    c.insert("conformsTo".into(), json!("dct:conformsTo"));
    c.insert("cr".into(), json!("http://mlcommons.org/croissant/"));
    c.insert("rai".into(), json!("http://mlcommons.org/croissant/RAI/"));
    c.insert("data".into(), json!({"@id": "cr:data", "@type": "@json"}));
    c.insert("dataType".into(), json!({"@id": "cr:dataType", "@type": "@vocab"}));
    c.insert("dct".into(), json!("http://purl.org/dc/terms/"));
    c.insert("examples".into(), json!({"@id": "cr:examples", "@type": "@json"}));
    c.insert("sc".into(), json!("https://schema.org/"));
    Json::Object(c)
}

/// How the items were collected, in the RAI vocabulary's recommended terms.
fn collection_type(source: &str) -> &'static str {
    match source {
        "real_user_queries" => "User-generated content data",
        "real_clinical_records" => "Secondary Data analysis",
        "exam_questions" | "case_reports" => "Document analysis",
        "clinician_vignettes" => "Manual Human Curator",
        "consumer_health_web" => "Web Scraping",
        _ => "Others",
    }
}

/// A stated dimension as "Title: value in words — the card's answer".
fn stated(card: &Card, id: &str) -> Option<String> {
    let d = card.dimensions.get(id)?;
    let dim = taxonomy().dimension(id)?;
    let value = d.value.as_ref().filter(|_| !matches!(d.status, CardStatus::NotSpecified | CardStatus::NotApplicable))?;
    let mut s = format!("{}: {}", dim.title, value_words(id, value));
    if let Some(a) = &d.answer {
        s.push_str(&format!(" — {a}"));
    }
    Some(s)
}

/// The card's Croissant-RAI JSON-LD document.
pub fn croissant_rai(card: &Card) -> Json {
    let t = taxonomy();
    let mut out = Map::new();
    out.insert("@context".into(), context());
    out.insert("@type".into(), json!("sc:Dataset"));
    out.insert("conformsTo".into(), json!(["http://mlcommons.org/croissant/1.0", "http://mlcommons.org/croissant/RAI/1.0"]));
    out.insert("name".into(), json!(card.name));
    let description = card.intended_use.clone().or_else(|| card.dataset.as_ref().and_then(|d| d.description.clone()));
    out.insert("description".into(), json!(description.unwrap_or_else(|| format!("The {} benchmark.", card.name))));
    out.insert("citeAs".into(), json!(card.citation));
    if let Some(l) = &card.license {
        out.insert("license".into(), json!(l));
    }
    if let Some(url) = card.dataset.as_ref().and_then(|d| d.url.clone()).or_else(|| card.links.first().map(|l| l.url.clone())) {
        out.insert("url".into(), json!(url));
    }
    let collection: Vec<String> = card
        .dataset
        .as_ref()
        .and_then(|d| d.collected_by.clone())
        .into_iter()
        .chain(["query_author", "input_source", "information_completeness"].iter().filter_map(|id| stated(card, id)))
        .collect();
    if !collection.is_empty() {
        out.insert("rai:dataCollection".into(), json!(collection.join("\n")));
    }
    let sources = card.dimensions.get("input_source").filter(|d| d.status != CardStatus::NotSpecified).and_then(|d| d.value.as_ref());
    if let Some(v) = sources {
        let mut types: Vec<&str> = v.ids().into_iter().map(collection_type).collect();
        types.dedup();
        out.insert("rai:dataCollectionType".into(), json!(types));
    }
    if let Some(s) = stated(card, "reference_standard") {
        out.insert("rai:dataAnnotationProtocol".into(), json!([s]));
    }
    let uses: Vec<String> = card
        .intended_use
        .clone()
        .into_iter()
        .chain(["clinical_task", "intended_user", "care_setting"].iter().filter_map(|id| stated(card, id)))
        .collect();
    if !uses.is_empty() {
        out.insert("rai:dataUseCases".into(), json!(uses));
    }
    let mut limitations: Vec<String> = t
        .dimensions
        .iter()
        .filter(|d| card.dimensions.get(&d.id).is_none_or(|c| c.status == CardStatus::NotSpecified))
        .map(|d| format!("Not stated: {} ({})", d.title, d.question))
        .collect();
    limitations.extend(card.tested.iter().map(|x| {
        let n = x.n.map_or_else(|| "n not reported".to_string(), |n| format!("n = {n}"));
        let interval = x.interval.map_or_else(|| "interval not reported".to_string(), |[lo, hi]| format!("95% CI {lo} to {hi}"));
        let model = x.model.as_deref().map_or(String::new(), |m| format!(" on {m}"));
        format!(
            "Measured: moving {} from {} to {} dropped the score by {} points{model} ({interval}, {n})",
            x.assumption, x.from, x.to, x.drop
        )
    }));
    out.insert("rai:dataLimitations".into(), json!(limitations));
    let biases: Vec<String> = t
        .dimensions
        .iter()
        .filter(|d| d.bias == Bias::Optimistic)
        .filter_map(|d| {
            stated(card, &d.id)
                .map(|s| format!("{s}. Where a deployment differs here, the benchmark's score tends to overstate performance."))
        })
        .collect();
    if !biases.is_empty() {
        out.insert("rai:dataBiases".into(), json!(biases));
    }
    if sources.is_some_and(|v| v.ids().iter().any(|s| matches!(*s, "real_clinical_records" | "real_user_queries"))) {
        out.insert(
            "rai:personalSensitiveInformation".into(),
            json!(["Items derive from real people's records or messages: see the card's evidence on how they were de-identified."]),
        );
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_card_writes_the_rai_fields_it_answers_and_lists_what_it_leaves_unstated() {
        let (cards, _) = benchcards_core::bundled::documents().expect("bundled registry");
        let card = cards.into_iter().find(|c| c.id == "pubmedqa").expect("pubmedqa is bundled");
        let j = croissant_rai(&card);
        assert_eq!(j["@type"], "sc:Dataset");
        assert_eq!(j["conformsTo"][1], "http://mlcommons.org/croissant/RAI/1.0");
        assert!(
            j["rai:dataAnnotationProtocol"][0].as_str().unwrap().starts_with("Who set the right answers: Agreement of several experts")
        );
        let limits: Vec<&str> = j["rai:dataLimitations"].as_array().unwrap().iter().filter_map(Json::as_str).collect();
        let unstated = card.dimensions.values().filter(|d| d.status == CardStatus::NotSpecified).count();
        assert_eq!(limits.iter().filter(|l| l.starts_with("Not stated:")).count(), unstated);
        assert!(j.get("rai:personalSensitiveInformation").is_none(), "published abstracts are not personal data");
    }
}
