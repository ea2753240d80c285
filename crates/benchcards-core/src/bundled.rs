//! The files compiled into the library: the registry's cards, the example deployment profiles,
//! and the demo's plan, dataset and logs. Each is found by its id (the file name without its
//! extension) or its file name, so `benchcards compare pubmedqa my-deployment.yaml` works
//! anywhere and `registry show ID` can hand any of them out.

use crate::document::{LoadError, load_documents};
use crate::{Card, Profile};
use std::path::{Component, Path, PathBuf};

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

/// The bundled file a path stands for: a bare id or file name (`./` allowed) that is no file
/// here. Anything with a folder in it, or that exists, is the user's file.
pub fn stands_for(path: &Path) -> Option<(&'static str, &'static str)> {
    let mut parts = path.components().filter(|c| *c != Component::CurDir);
    let (Some(Component::Normal(name)), None) = (parts.next(), parts.next()) else { return None };
    if path.exists() {
        return None;
    }
    file(name.to_str()?)
}

/// Where a file a plan names lies: beside the plan (in `base`), unless no such file is there and
/// the name is a bundled id, which then names the bundled file.
pub fn beside(base: &Path, name: &str) -> PathBuf {
    let path = base.join(name);
    if path.exists() || stands_for(Path::new(name)).is_none() { path } else { PathBuf::from(name) }
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
        assert_eq!(stands_for(Path::new("./local-smollm2")).map(|f| f.0), Some("local-smollm2.yaml"));
        assert_eq!(stands_for(Path::new("symptom-chat.jsonl")).map(|f| f.0), Some("symptom-chat.jsonl"));
        assert!(stands_for(Path::new("elsewhere/pubmedqa")).is_none(), "a path with a folder is the user's");
        assert!(stands_for(Path::new("Cargo.toml")).is_none() && stands_for(Path::new("src")).is_none(), "an existing file is the user's");
        assert_eq!(beside(Path::new("src"), "symptoms-uk"), Path::new("symptoms-uk"), "no such file beside the plan: the bundled one");
        assert_eq!(beside(Path::new("src"), "lib.rs"), Path::new("src/lib.rs"));
        assert_eq!(beside(Path::new("src"), "mine.jsonl"), Path::new("src/mine.jsonl"), "not bundled: the error names the plan's folder");
        let (cards, profiles) = documents().unwrap();
        assert_eq!((cards.len(), profiles.len()), (CARDS.len(), DEPLOYMENTS.len()));
    }
}
