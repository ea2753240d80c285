//! benchcards-stats: proportions, tests, the bootstrap, standardisation, gap decomposition,
//! gates, uptake, power, calibration and agreement — each output declaring the estimand it estimates.
//! Pure: takes numbers, returns numbers.

pub mod agreement;
pub mod bootstrap;
pub mod data;
pub mod decompose;
pub mod heterogeneity;
pub mod paired;
pub mod proportion;
pub mod rng;
pub mod study;
pub mod summary;
