//! Allocation by permuted blocks, stratified by the participant's scenarios. The j-th enrolled
//! participant (j from 0) gets a sequence of scenarios and an arm that depend on j and the seed
//! alone, so servers sharing one store stay balanced without talking to each other.
//!
//! Sequences: for k in 0..S, scenarios k, k+1, …, k+m−1 (cyclic), so each scenario lies in
//! exactly m sequences. Participant j takes sequence perm[j mod S] (a seeded permutation): the
//! sequences fill in turn. Within a sequence, the c-th participant (c = j div S) takes the
//! (c mod B)-th arm of permuted block c div B, a seeded shuffle of the arms repeated B/A times.
//! Within a sequence the arms never differ by more than B/2; within a scenario (in m sequences)
//! by more than m·B/2; after each whole round of blocks, not at all.

use benchcards_stats::rng::Rng;

/// What one participant is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// The sequence (stratum) index.
    pub stratum: usize,
    /// Positions in the study's scenario list, in the order shown.
    pub scenarios: Vec<usize>,
    /// Position in the study's arms.
    pub arm: usize,
}

/// The allocation rule of one study.
#[derive(Debug, Clone)]
pub struct Allocator {
    scenarios: usize,
    per_participant: usize,
    arms: usize,
    block: usize,
    seed: u64,
    order: Vec<usize>,
}

impl Allocator {
    /// `block` 0 means twice the number of arms. Needs at least one scenario and one arm, and
    /// `per_participant` between 1 and the number of scenarios (the plan's check ensures it).
    pub fn new(scenarios: usize, per_participant: usize, arms: usize, block: usize, seed: u64) -> Allocator {
        let (scenarios, arms) = (scenarios.max(1), arms.max(1));
        let block = if block == 0 { 2 * arms } else { block };
        let mut order: Vec<usize> = (0..scenarios).collect();
        shuffle(&mut order, &mut Rng::stream(seed, u64::MAX));
        Allocator { scenarios, per_participant: per_participant.clamp(1, scenarios), arms, block, seed, order }
    }

    /// Arms per block.
    pub fn block_size(&self) -> usize {
        self.block
    }

    /// The allocation of the participant enrolled `j`-th (from 0).
    pub fn allocate(&self, j: u64) -> Allocation {
        let n = self.scenarios as u64;
        let stratum = self.order[(j % n) as usize];
        let c = j / n;
        let (block, position) = (c / self.block as u64, (c % self.block as u64) as usize);
        let mut arms: Vec<usize> = (0..self.block).map(|i| i % self.arms).collect();
        shuffle(&mut arms, &mut Rng::stream(self.seed, stratum as u64 * 1_000_003 + block));
        let scenarios = (0..self.per_participant).map(|i| (stratum + i) % self.scenarios).collect();
        Allocation { stratum, scenarios, arm: arms[position] }
    }
}

/// Fisher–Yates.
fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest difference between two arms' counts, per scenario, after each enrolment.
    fn worst_imbalance(a: &Allocator, scenarios: usize, arms: usize, n: u64) -> (usize, Vec<Vec<usize>>) {
        let mut counts = vec![vec![0usize; arms]; scenarios];
        let mut worst = 0;
        for j in 0..n {
            let x = a.allocate(j);
            for s in &x.scenarios {
                counts[*s][x.arm] += 1;
            }
            for c in &counts {
                worst = worst.max(c.iter().max().unwrap() - c.iter().min().unwrap());
            }
        }
        (worst, counts)
    }

    #[test]
    fn arms_stay_balanced_within_every_scenario_over_a_thousand_enrolments() {
        for (scenarios, m, arms, block) in [(10, 2, 2, 0), (10, 2, 2, 4), (7, 3, 3, 6), (32, 1, 2, 2), (5, 2, 4, 8)] {
            let a = Allocator::new(scenarios, m, arms, block, 20261205);
            let (worst, counts) = worst_imbalance(&a, scenarios, arms, 1000);
            assert!(worst <= m * a.block_size() / 2, "{scenarios} scenarios, {m} each, {arms} arms: imbalance {worst}");
            let total: Vec<usize> = (0..arms).map(|arm| counts.iter().map(|c| c[arm]).sum()).collect();
            assert!(total.iter().max().unwrap() - total.iter().min().unwrap() <= m * a.block_size(), "{total:?}");
            // Each scenario is shown equally often (the sequences fill in turn).
            let shown: Vec<usize> = counts.iter().map(|c| c.iter().sum()).collect();
            assert!(shown.iter().max().unwrap() - shown.iter().min().unwrap() <= m, "{shown:?}");
        }
    }

    #[test]
    fn a_whole_round_of_blocks_is_exactly_balanced() {
        let (scenarios, m, arms) = (10, 2, 2);
        let a = Allocator::new(scenarios, m, arms, 4, 7);
        let (_, counts) = worst_imbalance(&a, scenarios, arms, (scenarios * a.block_size() * 3) as u64);
        for c in counts {
            assert_eq!(c[0], c[1]);
        }
    }

    #[test]
    fn the_sequence_is_the_seeds_and_scenarios_are_distinct_within_a_participant() {
        let seq = |seed| (0..200).map(|j| Allocator::new(10, 3, 2, 0, seed).allocate(j)).collect::<Vec<_>>();
        assert_eq!(seq(1), seq(1));
        assert_ne!(seq(1), seq(2));
        for x in seq(3) {
            let mut s = x.scenarios.clone();
            s.sort();
            s.dedup();
            assert_eq!(s.len(), 3, "{x:?}");
        }
        // A block is not always the same order: the arms are shuffled.
        let firsts: Vec<usize> = (0..40).map(|j| Allocator::new(1, 1, 2, 2, 9).allocate(j * 2).arm).collect();
        assert!(firsts.contains(&0) && firsts.contains(&1), "{firsts:?}");
    }
}
