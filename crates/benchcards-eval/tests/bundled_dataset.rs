//! The bundled dataset of original vignettes parses and has what the runner and `measure` need.

use benchcards_core::GraderMode;
use benchcards_eval::dataset::parse_dataset;
use benchcards_eval::grade::{self, DISPOSITIONS};

#[test]
fn bundled_vignettes_are_complete_and_do_not_give_the_answer_away() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/datasets/symptoms-uk.jsonl")).unwrap();
    let ds = parse_dataset(&text).unwrap_or_else(|d| panic!("{:?}", d.0));
    assert!(ds.items.len() >= 30);
    assert!(!ds.header.contains_phi);
    assert!(ds.header.note.as_deref().unwrap_or("").contains("Not clinically validated"));
    for level in DISPOSITIONS {
        let n = ds.items.iter().filter(|i| i.gold.disposition.as_deref() == Some(level)).count();
        assert!(n >= 5, "{level}: {n} items");
    }
    for item in &ds.items {
        assert!(item.vignette.starts_with("You "), "{}: second person", item.id);
        assert!(item.patient_queries.len() >= 2, "{}", item.id);
        assert!(item.gold.key_facts.len() >= 4, "{}", item.id);
        assert!(!item.gold.conditions.is_empty() && !item.gold.red_flags.is_empty(), "{}", item.id);
        let leak = grade::conditions(&item.vignette, &item.gold.names(), GraderMode::Strict, 80, None);
        assert_eq!(leak.score, 0.0, "{}: the vignette names its own diagnosis ({:?})", item.id, leak.matched);
    }
}
