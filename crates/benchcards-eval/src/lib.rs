//! benchcards-eval: stages 2–3 — datasets, conditions, graders, providers, the run store and
//! the scheduler; and stage 2 from logs: reading conversations, measuring them, augmenting a
//! dataset with them, and deriving the adapted benchmark's card.

pub mod client;
pub mod conditions;
pub mod dataset;
pub mod derive;
pub mod fidelity;
pub mod grade;
pub mod harness;
pub mod human;
pub mod import;
pub mod logs;
pub mod measure;
pub mod metaeval;
pub mod responses;
pub mod results;
pub mod runner;
pub mod session;
pub mod store;
pub mod view;
