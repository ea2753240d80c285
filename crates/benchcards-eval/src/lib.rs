//! benchcards-eval: stages 2–3 — datasets, conditions and graders.

pub mod conditions;
pub mod dataset;
pub mod export;
pub mod grade;
pub mod human;
pub mod provider;
pub mod runner;
pub mod store;
