//! The files compiled into the library: the registry's cards, the example deployment profiles,
//! and the demo's plan, dataset and logs. Each is found by its id (the file name without its
//! extension) or its file name, so `benchcards compare pubmedqa my-deployment.yaml` works
//! anywhere and `registry show ID` can hand any of them out.

use crate::document::{LoadError, load_documents};
use crate::{Card, Profile};

mod files {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

pub use files::{CARDS, DEMO_DATASET, DEMO_LOGS, DEMO_PLAN, DEPLOYMENTS};

/// The demo's plan, dataset and logs by their file names.
pub const DEMO_FILES: [(&str, &str); 3] =
    [("local-smollm2.yaml", DEMO_PLAN), ("symptoms-uk.jsonl", DEMO_DATASET), ("symptom-chat.jsonl", DEMO_LOGS)];

/// Every bundled file: (file name, text).
pub fn all() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    CARDS.iter().chain(DEPLOYMENTS).chain(DEMO_FILES.iter())
}

/// The bundled file with this id or file name.
pub fn file(id: &str) -> Option<(&'static str, &'static str)> {
    find(all(), id)
}

/// The bundled card or deployment profile with this id or file name.
pub fn document(id: &str) -> Option<(&'static str, &'static str)> {
    find(CARDS.iter().chain(DEPLOYMENTS), id)
}

fn find(mut files: impl Iterator<Item = &'static (&'static str, &'static str)>, id: &str) -> Option<(&'static str, &'static str)> {
    files.find(|(name, _)| *name == id || name.rsplit_once('.').is_some_and(|(stem, _)| stem == id)).copied()
}

/// The bundled cards and profiles, loaded; a file that does not pass `check` is the error (a
/// build defect).
pub fn documents() -> Result<(Vec<Card>, Vec<Profile>), LoadError> {
    load_documents(CARDS.iter().chain(DEPLOYMENTS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_found_by_id_or_name_and_every_document_loads() {
        assert_eq!(file("pubmedqa").map(|f| f.0), Some("pubmedqa.yaml"));
        assert_eq!(file("patient-symptom-chatbot.yaml").map(|f| f.0), Some("patient-symptom-chatbot.yaml"));
        assert_eq!(file("symptoms-uk").map(|f| f.0), Some("symptoms-uk.jsonl"));
        assert!(file("no-such-card").is_none() && file("").is_none());
        assert!(document("symptoms-uk").is_none(), "a dataset is no card or profile");
        let (cards, profiles) = documents().unwrap();
        assert_eq!((cards.len(), profiles.len()), (CARDS.len(), DEPLOYMENTS.len()));
    }
}
