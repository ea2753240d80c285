//! benchcards-assess: stage 1. Compares cards with a deployment (verdicts, bias, next steps),
//! scores fit, ranks a registry, finds what no card covers, and drafts a staged plan. Pure.

pub mod compare;
pub mod fit;
pub mod plan;
pub mod readiness;
pub mod registry;

pub use compare::{BiasDirection, Comparison, DimensionAssessment, GroupAssessment, compare};
