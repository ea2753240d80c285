//! Times the stratified bootstrap at the scale the book reports (docs/src/statistics.md, Speed):
//! 10,000 resamples of 100,000 units × 4 conditions with real-valued scores in 10 strata.
//! `bench/bootstrap.sh` runs it in release.

use benchcards_stats::bootstrap::{BootstrapSpec, IntervalMethod, Scheme, available_threads, layout, resample};
use benchcards_stats::data::{ResultRow, StratumWeights, gather};
use benchcards_stats::rng::Rng;
use std::time::Instant;

fn main() {
    let units: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let resamples: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let mut rng = Rng::new(1);
    let rows: Vec<ResultRow> = (0..units)
        .flat_map(|u| {
            let stratum = format!("s{}", u % 10);
            (0..4)
                .map(|c| ResultRow {
                    unit: u.to_string(),
                    condition: format!("c{c}"),
                    score: rng.uniform(),
                    stratum: Some(stratum.clone()),
                    ..Default::default()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let t0 = Instant::now();
    let data = gather(&rows).expect("valid data");
    let gathered = t0.elapsed();
    let spec = BootstrapSpec {
        scheme: Scheme::Stratified,
        resamples,
        seed: 7,
        interval: IntervalMethod::Percentile,
        confidence: 0.95,
        threads: available_threads(),
    };
    let t1 = Instant::now();
    let lay = layout(&data, Scheme::Stratified, true).expect("every stratum holds many units");
    let reps = resample(&data, &lay, &StratumWeights::Pooled, &spec, false);
    let elapsed = t1.elapsed();
    let first: f64 = reps.scores.iter().step_by(4).sum::<f64>() / resamples as f64;
    println!(
        "{{\"units\": {units}, \"conditions\": 4, \"strata\": 10, \"resamples\": {resamples}, \"threads\": {}, \"gather_s\": {:.3}, \"bootstrap_s\": {:.3}, \"mean_of_first_condition\": {first:.4}}}",
        spec.threads,
        gathered.as_secs_f64(),
        elapsed.as_secs_f64()
    );
}
