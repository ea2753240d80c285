//! benchcards-study: stage 4 with people. `benchcards study serve PLAN` runs the plan's `study`
//! section as a web study: consent, instructions, a comprehension check, then for each of the
//! participant's scenarios a chat with the arm's model (or the control arm's instructions) and
//! the outcome questions, then attention checks and a completion code. Its export is the plan's
//! `human_study` file, so `run`, `study analyze` and `decompose` read it as they read any study.
//!
//! `allocation` allocates arms and scenarios (permuted blocks, stratified by scenario), `store`
//! keeps everything in one SQLite file, `server` is the participant's way through and the
//! researcher's dashboard, `records` registers the design and exports the data, `participant`
//! takes part over HTTP as a browser would (for the walk-through test and pilots).

pub mod allocation;
#[cfg(feature = "clap")]
pub mod args;
pub mod participant;
pub mod records;
pub mod server;
pub mod store;

use allocation::Allocator;
use benchcards_core::{Plan, StudyDesign};
use benchcards_eval::client::Client;
use benchcards_eval::dataset::Dataset;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::{Location, StudyStore};

/// A study: its plan and design, the scenarios, its store, and (once `connect`ed, to serve)
/// one client per arm with a model.
pub struct Study {
    pub plan: Plan,
    pub design: StudyDesign,
    pub dataset: Dataset,
    /// Dataset item ids, in the order the allocation numbers them.
    pub scenarios: Vec<String>,
    pub allocator: Allocator,
    pub clients: HashMap<String, Arc<Client>>,
    pub store: StudyStore,
    /// What participants meet, hashed: see [`Study::design_hash`].
    pub design_hash: String,
}

/// The store a plan's study uses unless told otherwise: `PLAN-ID.study.sqlite` beside the plan.
pub fn default_store(plan_path: &Path, plan: &Plan) -> PathBuf {
    plan_path.parent().unwrap_or(Path::new(".")).join(format!("{}.study.sqlite", plan.id))
}

/// Where a study's data lives: `--database` (a file, or a `postgres://` URL), else the default
/// file beside the plan.
pub fn location(plan_path: &Path, plan: &Plan, database: Option<&str>) -> Location {
    database.map_or_else(|| Location::File(default_store(plan_path, plan)), Location::parse)
}

impl Study {
    /// Reads the plan, its study section and dataset, checks the scenarios exist, builds the
    /// arms' clients and opens the store.
    pub async fn load(plan_path: &Path, database: Option<&str>) -> Result<Study, String> {
        let (plan, _) = benchcards_core::load_plan(plan_path)
            .map_err(|e| format!("{} does not load as a plan: `benchcards check {}` shows why", e.path, e.path))?;
        let design = plan.study.as_deref().cloned().ok_or_else(|| {
            format!(
                "{} has no `study:` section; `benchcards plan CARD DEPLOYMENT` drafts one where decision mediation breaks",
                plan_path.display()
            )
        })?;
        let base = plan_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let dataset_path = benchcards_core::bundled::beside(base, &plan.dataset);
        let dataset =
            benchcards_eval::session::load_dataset_as(&dataset_path, plan.dataset_format, &plan.dataset_map).map_err(|e| format!("{e}"))?;
        let scenarios: Vec<String> = if design.scenarios.is_empty() {
            dataset.items.iter().filter(|i| !i.vignette.trim().is_empty()).map(|i| i.id.clone()).collect()
        } else {
            design.scenarios.clone()
        };
        for id in &scenarios {
            if dataset.item(id).is_none_or(|i| i.vignette.trim().is_empty()) {
                let near = benchcards_core::diag::nearest(id, dataset.items.iter().map(|i| i.id.as_str()));
                return Err(format!(
                    "study scenario `{id}` is no item with a vignette in {}{}",
                    dataset_path.display(),
                    near.map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default()
                ));
            }
        }
        if scenarios.len() < design.scenarios_per_participant as usize {
            return Err(format!(
                "the study gives {} scenarios per participant, but {} has {} with a vignette",
                design.scenarios_per_participant,
                dataset_path.display(),
                scenarios.len()
            ));
        }
        let allocator = Allocator::new(
            scenarios.len(),
            design.scenarios_per_participant as usize,
            design.arms.len(),
            design.allocation.block_size as usize,
            design.allocation.seed,
        );
        let store = StudyStore::open(&location(plan_path, &plan, database)).await?;
        let mut study = Study { plan, design, dataset, scenarios, allocator, clients: HashMap::new(), store, design_hash: String::new() };
        study.design_hash = study.design_hash();
        Ok(study)
    }

    /// The first 8 bytes of the SHA-256 of what participants meet and how they are scored: the
    /// study section, the arms' models, the graders, and the scenarios' items (vignette and
    /// gold). The rest of the plan (its conditions, a `human_study` file added for the
    /// analysis) may change after registration without changing the study.
    pub fn design_hash(&self) -> String {
        use sha2::Digest;
        let models: Vec<_> =
            self.design.arms.iter().filter_map(|a| a.model.as_ref()).filter_map(|m| self.plan.models.iter().find(|s| &s.id == m)).collect();
        let items: Vec<_> = self.scenarios.iter().filter_map(|s| self.dataset.item(s)).map(|i| (&i.id, &i.vignette, &i.gold)).collect();
        let design = serde_json::json!({"study": self.design, "models": models, "graders": self.plan.graders, "scenarios": items});
        sha2::Sha256::digest(design.to_string().as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// Builds the client of each arm with a model (loading the embedded model, reading API keys
    /// from their variables): only serving needs them.
    pub fn connect(&mut self) -> Result<(), String> {
        for arm in &self.design.arms {
            if let Some(m) = &arm.model {
                let spec =
                    self.plan.models.iter().find(|s| &s.id == m).ok_or_else(|| format!("arm `{}` names no model of the plan", arm.id))?;
                self.clients.insert(arm.id.clone(), Arc::new(Client::from_spec(spec, Default::default())?));
            }
        }
        Ok(())
    }

    /// The arm and scenarios of the participant enrolled `j`-th.
    pub fn allocate(&self, j: u64) -> (String, Vec<String>) {
        let a = self.allocator.allocate(j);
        let arm = self.design.arms.get(a.arm).map_or_else(String::new, |x| x.id.clone());
        (arm, a.scenarios.iter().filter_map(|&s| self.scenarios.get(s).cloned()).collect())
    }
}
