//! Times `match` over a folder of cards: parsing and validating every card, then ranking the
//! parsed cards against a deployment (the median of several rankings). `bench/cli.sh` runs it
//! in release over 10,000 cards.
//!
//! Usage: match_bench CARDS_FOLDER DEPLOYMENT [REPETITIONS]

use benchcards_assess::registry::rank;
use benchcards_core::{load_card, load_profile, taxonomy};
use std::time::Instant;

// The allocator the `benchcards` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, folder, deployment, ..] = args.as_slice() else {
        return Err("usage: match_bench CARDS_FOLDER DEPLOYMENT [REPETITIONS]".into());
    };
    let repetitions: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(5);
    let (profile, _) = load_profile(deployment.as_ref()).map_err(|e| format!("{}: not a valid deployment profile", e.path))?;
    let mut paths: Vec<_> =
        std::fs::read_dir(folder).map_err(|e| format!("{folder}: {e}"))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let t0 = Instant::now();
    let cards: Vec<_> = paths.iter().filter_map(|p| load_card(p).ok().map(|(c, _)| c)).collect();
    let parse = t0.elapsed();
    let mut times: Vec<f64> = (0..repetitions)
        .map(|_| {
            let t = Instant::now();
            let ranked = rank(taxonomy(), &cards, &profile);
            assert_eq!(ranked.len(), cards.len(), "every card is ranked");
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"cards\": {}, \"parse_s\": {:.4}, \"rank_median_s\": {:.4}, \"rank_runs\": {:?}}}",
        cards.len(),
        parse.as_secs_f64(),
        times[times.len() / 2],
        times.iter().map(|t| (t * 1e4).round() / 1e4).collect::<Vec<_>>()
    );
    Ok(())
}
