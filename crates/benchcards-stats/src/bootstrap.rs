//! The bootstrap: resampling units within strata (default), whole clusters, clusters then units
//! (two-stage, on request), or whole strata. Units are whole pairing keys, so a unit's scores
//! under every condition move together. Each resample's condition scores are kept; any quantity
//! that is a linear combination of condition scores (a contribution, a subtotal, a Shapley
//! value) gets its interval from them, by percentile or BCa.
//!
//! What is resampled is grouped so that a resample keeps the design: units (or clusters nested
//! in strata) are drawn within their stratum, and within a stratum separately for each pattern
//! of conditions they were observed under, so a condition scored on other units than its
//! neighbour keeps its n. Each group of m elements is drawn m − 1 times and rescaled by
//! m/(m − 1) (the rescaling bootstrap of Rao & Wu 1988, JASA 83(401)), which removes the
//! (m − 1)/m shrinkage of the naive bootstrap that leaves small strata with intervals too narrow.
//! A group of one cannot be resampled: under pooled weights such groups are pooled across strata
//! (collapsed strata); otherwise the bootstrap is refused with the reason.

use crate::data::{Data, StratumSums, StratumWeights, scores_from};
use crate::proportion::{CONFIDENCE, normal};
use crate::rng::Rng;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// On a command line the values are listed by name only (`help = None` keeps these docs out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Units resampled within each stratum (estimand: these strata, e.g. these scenarios).
    #[cfg_attr(feature = "clap", value(help = None))]
    Stratified,
    /// Whole clusters resampled intact (estimand: a population of clusters like these).
    #[cfg_attr(feature = "clap", value(help = None))]
    Cluster,
    /// Clusters, then units within each drawn cluster. Double-counts within-cluster variance.
    #[cfg_attr(feature = "clap", value(help = None))]
    TwoStage,
    /// Whole strata resampled (estimand: strata like these, e.g. scenarios like these).
    #[cfg_attr(feature = "clap", value(help = None))]
    Strata,
}

impl Scheme {
    /// What is resampled, in words.
    pub fn resamples(self) -> &'static str {
        match self {
            Scheme::Stratified => {
                "units resampled within their stratum, separately for each set of conditions they were observed under, so each condition keeps its n"
            }
            Scheme::Cluster => "whole clusters resampled, within their stratum when they sit in one",
            Scheme::TwoStage => "clusters resampled, then units within each drawn cluster",
            Scheme::Strata => "whole strata resampled, a stratum drawn twice counting twice",
        }
    }

    /// What the scheme generalises to, in words a clinician can read.
    pub fn estimand(self) -> &'static str {
        match self {
            Scheme::Stratified => "these scenarios: the strata are fixed, the units within them a sample",
            Scheme::Cluster => "clusters like these within these scenarios: clusters are a sample",
            Scheme::TwoStage => "clusters like these, and units within them, both sampled (conservative)",
            Scheme::Strata => "scenarios like these: the strata themselves are a sample",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    Percentile,
    Bca,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapSpec {
    pub scheme: Scheme,
    pub resamples: usize,
    pub seed: u64,
    pub interval: IntervalMethod,
    pub confidence: f64,
    /// Worker threads (results do not depend on it).
    #[serde(skip)]
    pub threads: usize,
}

impl Default for BootstrapSpec {
    fn default() -> Self {
        BootstrapSpec {
            scheme: Scheme::Stratified,
            resamples: 2000,
            seed: 20260101,
            interval: IntervalMethod::Bca,
            confidence: CONFIDENCE,
            threads: available_threads(),
        }
    }
}

/// The bootstrap a caller asks for (with the `clap` feature, these are a command's flags).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct BootstrapArgs {
    /// Resampling scheme (default: cluster when --cluster-col is given, else stratified): the
    /// intervals generalise to these strata (stratified), clusters like these (cluster), or
    /// strata like these (strata: whole strata resampled).
    #[cfg_attr(feature = "clap", arg(long, value_enum))]
    pub bootstrap: Option<Scheme>,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = BootstrapSpec::default().resamples))]
    pub resamples: usize,
    #[cfg_attr(feature = "clap", arg(long, default_value_t = BootstrapSpec::default().seed))]
    pub seed: u64,
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = BootstrapSpec::default().interval))]
    pub interval: IntervalMethod,
    /// The intervals' confidence level, between 0 and 1.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = CONFIDENCE, value_parser = confidence_level))]
    pub confidence: f64,
}

impl Default for BootstrapArgs {
    fn default() -> Self {
        let d = BootstrapSpec::default();
        BootstrapArgs { bootstrap: None, resamples: d.resamples, seed: d.seed, interval: d.interval, confidence: d.confidence }
    }
}

impl BootstrapArgs {
    /// The bootstrap asked for: without a scheme, the cluster scheme when the results are
    /// clustered (a cluster column named), else stratified; at least 100 resamples.
    pub fn spec(&self, clustered: bool) -> BootstrapSpec {
        BootstrapSpec {
            scheme: self.bootstrap.unwrap_or(if clustered { Scheme::Cluster } else { Scheme::Stratified }),
            resamples: self.resamples.max(100),
            seed: self.seed,
            interval: self.interval,
            confidence: self.confidence,
            ..BootstrapSpec::default()
        }
    }
}

/// A confidence level: a number strictly between 0 and 1.
pub fn confidence_level(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(c) if c > 0.0 && c < 1.0 => Ok(c),
        _ => Err(format!("`{s}` is not a confidence level: give a number between 0 and 1, e.g. 0.95")),
    }
}

pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Condition scores of every resample, and (when asked) per-stratum means.
#[derive(Debug, Clone)]
pub struct Replicates {
    pub conditions: usize,
    pub strata: usize,
    /// `scores[b * C + c]`.
    pub scores: Vec<f64>,
    /// `stratum_means[(b * S + s) * C + c]`, when kept.
    pub stratum_means: Option<Vec<f64>>,
}

/// What one resample draws: groups of elements (a unit, a cluster's units or a stratum's
/// units), each group drawn m − 1 times for its m elements, and each unit's count scaled by its
/// group's m/(m − 1).
#[derive(Debug, Clone)]
pub struct Layout {
    groups: Vec<Vec<Vec<usize>>>,
    unit_scale: Vec<f32>,
    /// Stratum ranges, when each stratum is one group of single units (the fused path).
    fused: Option<Vec<std::ops::Range<usize>>>,
    /// Strata resampled whole: a stratum's weight follows how often it is drawn.
    strata_drawn: bool,
    /// Units drawn within each drawn cluster.
    two_stage: bool,
    /// Groups pooled across strata because they held one element.
    pub collapsed: usize,
    /// Elements minus groups: the degrees of freedom of the variance (for the expansion).
    pub df: usize,
}

/// What elements are grouped by: their stratum (when strata are fixed and they sit in one) and
/// the conditions they were observed under.
type GroupKey = (Option<usize>, Vec<bool>);

/// The condition pattern of some units: which conditions any of them was observed under.
fn pattern(data: &Data, units: &[usize]) -> Vec<bool> {
    let k = data.n_conditions();
    (0..k).map(|c| units.iter().any(|u| data.has[u * k + c] > 0.0)).collect()
}

/// Groups the elements to resample under `scheme`. `pooled` says the estimate does not depend
/// on strata, so groups of one may be pooled across strata.
pub fn layout(data: &Data, scheme: Scheme, pooled: bool) -> Result<Layout, String> {
    let strata = data.stratum_ranges();
    let mut clusters = vec![Vec::new(); data.clusters.len()];
    for (u, &c) in data.unit_cluster.iter().enumerate() {
        clusters[c].push(u);
    }
    let nested = clusters.iter().all(|units| units.iter().all(|&u| data.unit_stratum[u] == data.unit_stratum[units[0]]));
    let elements: Vec<Vec<usize>> = match scheme {
        Scheme::Stratified => (0..data.n_units()).map(|u| vec![u]).collect(),
        Scheme::Cluster | Scheme::TwoStage => clusters,
        Scheme::Strata => strata.iter().map(|r| r.clone().collect()).collect(),
    };
    // Elements are grouped by stratum (when they sit in one and strata are fixed) and pattern.
    let by_stratum = match scheme {
        Scheme::Stratified => true,
        Scheme::Cluster | Scheme::TwoStage => nested,
        Scheme::Strata => false,
    };
    // (stratum, pattern) → elements.
    let mut keyed: std::collections::BTreeMap<GroupKey, Vec<Vec<usize>>> = Default::default();
    for e in elements {
        let stratum = by_stratum.then(|| data.unit_stratum[e[0]]);
        keyed.entry((stratum, pattern(data, &e))).or_default().push(e);
    }
    // Groups of one cannot be resampled. Under pooled weights they are pooled across strata by
    // pattern first (each condition keeps its n); what is still alone joins the largest group
    // of its stratum, then (pooled only) a group of its pattern, then the largest group; else
    // it is refused.
    let (mut groups, mut single): (Vec<_>, Vec<_>) = keyed.into_iter().partition(|(_, members)| members.len() > 1);
    let mut collapsed = 0;
    if pooled {
        let mut pool: std::collections::BTreeMap<Vec<bool>, Vec<Vec<usize>>> = Default::default();
        for ((_, pat), members) in std::mem::take(&mut single) {
            pool.entry(pat).or_default().extend(members);
        }
        for (pat, members) in pool {
            if members.len() > 1 {
                collapsed += members.len();
                groups.push(((None, pat), members));
            } else {
                single.push(((Some(data.unit_stratum[members[0][0]]), pat), members));
            }
        }
    }
    let mut lonely = Vec::new();
    for ((stratum, pat), members) in single {
        let in_stratum = groups.iter_mut().filter(|((s, _), _)| *s == stratum).max_by_key(|(_, g)| g.len());
        let target = match in_stratum {
            Some(g) => Some(g),
            // The estimate does not depend on strata: any group will do, best one alike.
            None if pooled => {
                let alike = groups.iter().position(|((_, p), _)| *p == pat);
                let i = alike.or_else(|| (0..groups.len()).max_by_key(|&i| groups[i].1.len()));
                i.map(|i| &mut groups[i])
            }
            None => None,
        };
        match target {
            Some((_, g)) => {
                collapsed += 1;
                g.extend(members);
            }
            None => lonely.push(stratum.map_or_else(|| "all".to_string(), |s| data.strata[s].clone())),
        }
    }
    let groups: Vec<Vec<Vec<usize>>> = groups.into_iter().map(|(_, g)| g).collect();
    if !lonely.is_empty() {
        let what = match scheme {
            Scheme::Stratified => "unit",
            Scheme::Strata => "stratum",
            _ => "cluster",
        };
        lonely.sort();
        lonely.dedup();
        return Err(format!(
            "the bootstrap cannot resample: stratum/strata {} hold one {what} observed under its conditions, so nothing within them can vary and an interval would be falsely certain; {}",
            lonely.iter().take(5).map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
            match scheme {
                Scheme::Strata => "resample strata only when there are at least two".to_string(),
                _ if pooled => "give these strata more units, or merge them with others".to_string(),
                _ => format!(
                    "use --weights pooled (strata with one {what} are then pooled for the variance), give these strata more {what}s, or generalise over the strata themselves with --bootstrap strata"
                ),
            }
        ));
    }
    let mut unit_scale = vec![1.0f32; data.n_units()];
    let mut elements_total = 0;
    for g in &groups {
        let m = g.len() as f32;
        elements_total += g.len();
        for e in g {
            for &u in e {
                unit_scale[u] = m / (m - 1.0);
            }
        }
    }
    let fused = (scheme == Scheme::Stratified && collapsed == 0 && groups.len() == strata.iter().filter(|r| !r.is_empty()).count())
        .then(|| strata.clone());
    Ok(Layout {
        df: elements_total.saturating_sub(groups.len()).max(1),
        groups,
        unit_scale,
        fused,
        strata_drawn: scheme == Scheme::Strata,
        two_stage: scheme == Scheme::TwoStage,
        collapsed,
    })
}

/// Draws `spec.resamples` resamples laid out by `lay`. `keep_strata` also keeps per-stratum
/// means.
pub fn resample(data: &Data, lay: &Layout, weights: &StratumWeights, spec: &BootstrapSpec, keep_strata: bool) -> Replicates {
    let k = data.n_conditions();
    let s_count = data.strata.len();
    let b_total = spec.resamples;
    let packed = pack(data);
    let threads = spec.threads.clamp(1, b_total.max(1));
    let mut scores = vec![0.0; b_total * k];
    let mut stratum_means = keep_strata.then(|| vec![0.0; b_total * s_count * k]);
    let chunk = b_total.div_ceil(threads);
    let ranges = data.stratum_ranges();
    // Each worker fills a disjoint slice; resample b always uses stream b of the seed.
    std::thread::scope(|scope| {
        let mut score_chunks = scores.chunks_mut(chunk * k);
        let mut strata_chunks = stratum_means.as_mut().map(|m| m.chunks_mut(chunk * s_count * k));
        for t in 0..threads {
            let Some(out) = score_chunks.next() else { break };
            let strata_out = strata_chunks.as_mut().and_then(|c| c.next());
            let (packed, ranges) = (&packed, &ranges);
            scope.spawn(move || {
                let mut counts = vec![0u32; data.n_units()];
                let mut sums = StratumSums { sum: vec![0.0; s_count * k], n: vec![0.0; s_count * k] };
                let mut strata_out = strata_out;
                for (i, row) in out.chunks_mut(k).enumerate() {
                    let b = t * chunk + i;
                    let mut rng = Rng::stream(spec.seed, b as u64);
                    match &lay.fused {
                        Some(strata) if packed.has.is_none() && packed.weights.is_none() && k <= 8 => {
                            gather_stratified(packed, strata, &mut rng, &mut sums)
                        }
                        _ => {
                            draw(lay, &mut rng, &mut counts);
                            accumulate(packed, ranges, &counts, &lay.unit_scale, &mut sums);
                        }
                    }
                    match weights {
                        // A stratum drawn twice counts twice when strata are what is sampled.
                        StratumWeights::Fixed(w) if lay.strata_drawn => {
                            let drawn: Vec<f64> = ranges.iter().zip(w).map(|(r, w)| w * counts[r.start] as f64).collect();
                            scores_from(&sums, s_count, k, &StratumWeights::Fixed(drawn), row);
                        }
                        _ => scores_from(&sums, s_count, k, weights, row),
                    }
                    if let Some(m) = strata_out.as_deref_mut() {
                        let dest = &mut m[i * s_count * k..(i + 1) * s_count * k];
                        for (j, d) in dest.iter_mut().enumerate() {
                            *d = if sums.n[j] > 0.0 { sums.sum[j] / sums.n[j] } else { f64::NAN };
                        }
                    }
                }
            });
        }
    });
    Replicates { conditions: k, strata: s_count, scores, stratum_means }
}

/// One resample's counts: each group of m elements drawn m − 1 times; a two-stage scheme also
/// draws units within each drawn cluster.
fn draw(lay: &Layout, rng: &mut Rng, counts: &mut [u32]) {
    counts.iter_mut().for_each(|c| *c = 0);
    for g in &lay.groups {
        let m = g.len();
        let mut take = |members: &Vec<usize>, rng: &mut Rng| {
            if lay.two_stage {
                for _ in 0..members.len() {
                    counts[members[rng.below(members.len())]] += 1;
                }
            } else {
                for &u in members {
                    counts[u] += 1;
                }
            }
        };
        // Two 32-bit draws from each 64-bit output (Lemire's multiply-shift on each half), as
        // the fused path draws.
        let draws = m - 1;
        for _ in 0..draws / 2 {
            let x = rng.next_u64();
            take(&g[(((x & 0xFFFF_FFFF) * m as u64) >> 32) as usize], rng);
            take(&g[(((x >> 32) * m as u64) >> 32) as usize], rng);
        }
        if draws % 2 == 1 {
            let i = rng.below(m);
            take(&g[i], rng);
        }
    }
}

/// The data in the form the resampling loop reads: scores as f32 (half the memory traffic of
/// the sweep, which is what bounds its speed), and the presence and weight columns only when
/// they vary.
struct Packed {
    k: usize,
    scores: Vec<f32>,
    has: Option<Vec<f32>>,
    weights: Option<Vec<f32>>,
}

fn pack(data: &Data) -> Packed {
    let complete = data.has.iter().all(|h| *h > 0.0);
    Packed {
        k: data.n_conditions(),
        scores: data.score.iter().map(|v| *v as f32).collect(),
        has: (!complete).then(|| data.has.iter().map(|v| *v as f32).collect()),
        weights: data.weighted.then(|| data.unit_weight.iter().map(|v| *v as f32).collect()),
    }
}

/// The common case, fused: complete, unweighted data resampled within strata. Each draw reads
/// the drawn unit's scores directly (independent reads, which the processor overlaps), with no
/// count array to clear, update and sweep. Draws take two 32-bit halves of each 64-bit output.
/// Monomorphised per number of conditions so the inner loop unrolls.
fn gather_stratified(p: &Packed, strata: &[std::ops::Range<usize>], rng: &mut Rng, sums: &mut StratumSums) {
    match p.k {
        1 => gather_k::<1>(p, strata, rng, sums),
        2 => gather_k::<2>(p, strata, rng, sums),
        3 => gather_k::<3>(p, strata, rng, sums),
        4 => gather_k::<4>(p, strata, rng, sums),
        5 => gather_k::<5>(p, strata, rng, sums),
        6 => gather_k::<6>(p, strata, rng, sums),
        7 => gather_k::<7>(p, strata, rng, sums),
        _ => gather_k::<8>(p, strata, rng, sums),
    }
}

fn gather_k<const K: usize>(p: &Packed, strata: &[std::ops::Range<usize>], rng: &mut Rng, sums: &mut StratumSums) {
    for (s, r) in strata.iter().enumerate() {
        let m = r.len() as u64;
        // m − 1 draws, rescaled by m/(m − 1) (Rao–Wu).
        let draws = m - 1;
        let scale = m as f64 / draws as f64;
        let rows: &[[f32; K]] = {
            let flat = &p.scores[r.start * K..r.end * K];
            let (chunks, rest) = flat.as_chunks::<K>();
            debug_assert!(rest.is_empty());
            chunks
        };
        let mut total = [0.0f64; K];
        let mut block = [0.0f32; K];
        let mut drawn = 0u64;
        while drawn + 1 < draws {
            let x = rng.next_u64();
            let (a, b) = (&rows[(((x & 0xFFFF_FFFF) * m) >> 32) as usize], &rows[(((x >> 32) * m) >> 32) as usize]);
            for c in 0..K {
                block[c] += a[c] + b[c];
            }
            drawn += 2;
            // Flush to f64 every 512 draws: an f32 block sum stays below 512 and keeps ~5e-5 precision.
            if drawn.is_multiple_of(512) {
                for c in 0..K {
                    total[c] += block[c] as f64;
                    block[c] = 0.0;
                }
            }
        }
        if drawn < draws {
            let a = &rows[rng.below(m as usize)];
            for c in 0..K {
                block[c] += a[c];
            }
        }
        for c in 0..K {
            total[c] = (total[c] + block[c] as f64) * scale;
        }
        sums.sum[s * p.k..s * p.k + K].copy_from_slice(&total);
        sums.n[s * p.k..(s + 1) * p.k].iter_mut().for_each(|x| *x = m as f64);
    }
}

fn accumulate(p: &Packed, strata: &[std::ops::Range<usize>], counts: &[u32], scale: &[f32], sums: &mut StratumSums) {
    let k = p.k;
    sums.sum.iter_mut().for_each(|v| *v = 0.0);
    sums.n.iter_mut().for_each(|v| *v = 0.0);
    for (s, r) in strata.iter().enumerate() {
        let sum = &mut sums.sum[s * k..(s + 1) * k];
        let n = &mut sums.n[s * k..(s + 1) * k];
        let scores = &p.scores[r.start * k..r.end * k];
        let cnts = &counts[r.clone()];
        let scale = &scale[r.clone()];
        match (&p.has, &p.weights) {
            (None, None) if k <= 8 && scale.iter().all(|x| *x == scale[0]) => {
                let scale = scale.first().copied().unwrap_or(1.0) as f64;
                // Complete, unweighted data: every unit counts under every condition. Blocks of
                // 256 units are summed in f32 (exact enough: at most a few thousand), then in f64.
                let mut total = 0u64;
                for (rows, cs) in scores.chunks(256 * k).zip(cnts.chunks(256)) {
                    let mut block = [0.0f32; 8];
                    for (row, &c) in rows.chunks_exact(k).zip(cs) {
                        let w = c as f32;
                        total += c as u64;
                        for (acc, v) in block.iter_mut().zip(row) {
                            *acc += w * v;
                        }
                    }
                    for (acc, b) in sum.iter_mut().zip(block) {
                        *acc += b as f64 * scale;
                    }
                }
                n.iter_mut().for_each(|x| *x = total as f64 * scale);
            }
            (has, weights) => {
                for (i, (row, &c)) in scores.chunks_exact(k).zip(cnts).enumerate() {
                    let w = c as f32 * scale[i] * weights.as_ref().map_or(1.0, |ws| ws[r.start + i]);
                    let present = has.as_ref().map(|h| &h[(r.start + i) * k..(r.start + i + 1) * k]);
                    for c in 0..k {
                        let h = present.map_or(1.0, |h| h[c]);
                        sum[c] += (w * row[c]) as f64;
                        n[c] += (w * h) as f64;
                    }
                }
            }
        }
    }
}

/// Leave-one-out condition scores (one row per resampled element: a unit, a cluster or a
/// stratum), for BCa's acceleration. Each leave-out changes only the strata the left-out
/// element touches.
pub fn jackknife(data: &Data, lay: &Layout, weights: &StratumWeights) -> Vec<f64> {
    let k = data.n_conditions();
    let s_count = data.strata.len();
    let full = data.sums();
    let groups: Vec<&Vec<usize>> = lay.groups.iter().flatten().collect();
    let mut out = vec![0.0; groups.len() * k];
    let mut sums = full.clone();
    for (g, units) in groups.iter().enumerate() {
        for &u in units.iter() {
            let s = data.unit_stratum[u];
            let w = data.unit_weight[u];
            for c in 0..k {
                sums.sum[s * k + c] -= w * data.score[u * k + c];
                sums.n[s * k + c] -= w * data.has[u * k + c];
            }
        }
        scores_from(&sums, s_count, k, weights, &mut out[g * k..(g + 1) * k]);
        for &u in units.iter() {
            let s = data.unit_stratum[u];
            for c in 0..k {
                sums.sum[s * k + c] = full.sum[s * k + c];
                sums.n[s * k + c] = full.n[s * k + c];
            }
        }
    }
    out
}

/// Linear interpolation quantile (type 7) of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The tail probability to use so that a bootstrap interval is not too narrow for few resampled
/// elements: the normal quantile replaced by Student's t with the variance's degrees of freedom
/// (elements minus groups), z_{1−α'/2} = t_{df, 1−α/2}, as in Hesterberg's expanded percentile
/// interval ("What teachers should know about the bootstrap", The American Statistician 69(4),
/// 2015) without its √(K/(K−1)) factor, which the Rao–Wu rescaling already applies. It matters
/// for few clusters and vanishes for many units.
pub fn expanded_alpha(confidence: f64, df: usize) -> f64 {
    let alpha = 1.0 - confidence;
    if df < 1 {
        return alpha;
    }
    let t = StudentsT::new(0.0, 1.0, df as f64).map_or(f64::NAN, |d| d.inverse_cdf(1.0 - alpha / 2.0));
    if t.is_finite() { 2.0 * (1.0 - normal().cdf(t)) } else { alpha }
}

/// The interval of one quantity from its bootstrap values (and jackknife values, for BCa), with
/// `df` degrees of freedom of the variance ([`Layout::df`]).
pub fn interval(estimate: f64, values: &[f64], jack: Option<&[f64]>, method: IntervalMethod, confidence: f64, df: usize) -> [f64; 2] {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let alpha = expanded_alpha(confidence, df);
    let percentile = || [quantile(&sorted, alpha / 2.0), quantile(&sorted, 1.0 - alpha / 2.0)];
    let (IntervalMethod::Bca, Some(jack)) = (method, jack) else {
        return percentile();
    };
    let b = sorted.len() as f64;
    let below = sorted.iter().filter(|v| **v < estimate).count() as f64;
    let ties = sorted.iter().filter(|v| **v == estimate).count() as f64;
    let prop = (below + 0.5 * ties) / b;
    if !(prop > 0.0 && prop < 1.0) {
        return percentile();
    }
    let nd = normal();
    let z0 = nd.inverse_cdf(prop);
    let jack: Vec<f64> = jack.iter().copied().filter(|v| v.is_finite()).collect();
    let mean = jack.iter().sum::<f64>() / jack.len() as f64;
    let (num, den) = jack.iter().fold((0.0, 0.0), |(n, d), v| {
        let x = mean - v;
        (n + x * x * x, d + x * x)
    });
    let a = if den > 0.0 { num / (6.0 * den.powf(1.5)) } else { 0.0 };
    let adjust = |z: f64| nd.cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z)));
    let (lo, hi) = (adjust(nd.inverse_cdf(alpha / 2.0)), adjust(nd.inverse_cdf(1.0 - alpha / 2.0)));
    if !(lo.is_finite() && hi.is_finite()) {
        return percentile();
    }
    [quantile(&sorted, lo), quantile(&sorted, hi)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ResultRow, gather};

    fn data(n: usize, seed: u64) -> Data {
        let mut rng = Rng::new(seed);
        let rows: Vec<ResultRow> = (0..n)
            .flat_map(|u| {
                let s = format!("s{}", u % 3);
                let a = rng.bernoulli(0.7) as u8 as f64;
                let b = rng.bernoulli(0.4) as u8 as f64;
                [("a", a), ("b", b)].map(|(c, v)| ResultRow {
                    unit: format!("u{u}"),
                    condition: c.into(),
                    score: v,
                    cluster: Some(format!("k{}", u / 5)),
                    stratum: Some(s.clone()),
                    ..Default::default()
                })
            })
            .collect();
        gather(&rows).unwrap()
    }

    #[test]
    fn results_do_not_depend_on_threads() {
        let d = data(300, 1);
        let spec = BootstrapSpec { resamples: 101, threads: 1, ..Default::default() };
        let lay = layout(&d, Scheme::Stratified, true).unwrap();
        let one = resample(&d, &lay, &StratumWeights::Pooled, &spec, true);
        let three = resample(&d, &lay, &StratumWeights::Pooled, &BootstrapSpec { threads: 3, ..spec }, true);
        assert_eq!(one.scores, three.scores);
        assert_eq!(one.stratum_means, three.stratum_means);
    }

    #[test]
    fn pairs_move_together_and_stratum_sizes_are_kept() {
        // With every unit scoring the same under both conditions, the difference is 0 in every
        // resample: pairs were never split.
        let rows: Vec<ResultRow> = (0..50)
            .flat_map(|u| {
                ["a", "b"].map(|c| ResultRow {
                    unit: format!("u{u}"),
                    condition: c.into(),
                    score: (u % 2) as f64,
                    stratum: Some(format!("s{}", u % 2)),
                    ..Default::default()
                })
            })
            .collect();
        let d = gather(&rows).unwrap();
        let lay = layout(&d, Scheme::Stratified, true).unwrap();
        let r = resample(&d, &lay, &StratumWeights::Pooled, &BootstrapSpec { resamples: 200, ..Default::default() }, false);
        assert!(r.scores.chunks(2).all(|s| s[0] == s[1]));
        // Stratified: stratum s1 (all 1s) and s0 (all 0s) keep 25 units each, so the pooled mean is fixed.
        assert!(r.scores.iter().all(|s| (s - 0.5).abs() < 1e-12));
    }

    #[test]
    fn percentile_and_bca_are_close_for_a_symmetric_mean() {
        let d = data(600, 2);
        let spec = BootstrapSpec { resamples: 2000, ..Default::default() };
        let lay = layout(&d, Scheme::Stratified, true).unwrap();
        let r = resample(&d, &lay, &StratumWeights::Pooled, &spec, false);
        let mut est = vec![0.0; 2];
        scores_from(&d.sums(), d.strata.len(), 2, &StratumWeights::Pooled, &mut est);
        let vals: Vec<f64> = r.scores.chunks(2).map(|s| s[0]).collect();
        let jack = jackknife(&d, &lay, &StratumWeights::Pooled);
        let jv: Vec<f64> = jack.chunks(2).map(|s| s[0]).collect();
        let p = interval(est[0], &vals, None, IntervalMethod::Percentile, 0.95, 600);
        let b = interval(est[0], &vals, Some(&jv), IntervalMethod::Bca, 0.95, 600);
        // Against Wilson for the same proportion (the strata barely matter here).
        let x = (est[0] * 600.0).round();
        let w = crate::proportion::wilson(x, 600.0, 0.95);
        for iv in [p, b] {
            assert!((iv[0] - w[0]).abs() < 0.01 && (iv[1] - w[1]).abs() < 0.01, "{iv:?} vs {w:?}");
        }
    }

    #[test]
    fn fused_and_general_paths_draw_the_same_resample() {
        let d = data(501, 4);
        let (p, lay) = (pack(&d), layout(&d, Scheme::Stratified, true).unwrap());
        assert!(p.has.is_none() && p.weights.is_none(), "complete, unweighted: the fused path applies");
        let strata = lay.fused.clone().expect("one group per stratum");
        let mut fused = StratumSums { sum: vec![0.0; 6], n: vec![0.0; 6] };
        gather_stratified(&p, &strata, &mut Rng::new(9), &mut fused);
        let mut counts = vec![0u32; d.n_units()];
        draw(&lay, &mut Rng::new(9), &mut counts);
        let mut general = StratumSums { sum: vec![0.0; 6], n: vec![0.0; 6] };
        accumulate(&p, &strata, &counts, &lay.unit_scale, &mut general);
        for (a, b) in fused.n.iter().zip(&general.n) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        for (a, b) in fused.sum.iter().zip(&general.sum) {
            assert!((a - b).abs() < 1e-7 * a.abs().max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn expansion_matters_for_few_degrees_of_freedom_only() {
        // 9 degrees of freedom: z' = t_{9, 0.975} = 2.2622 → α' = 2 (1 − Φ(2.2622)) ≈ 0.0237.
        assert!((expanded_alpha(0.95, 9) - 0.02368).abs() < 2e-4, "{}", expanded_alpha(0.95, 9));
        assert!((expanded_alpha(0.95, 100_000) - 0.05).abs() < 1e-4);
    }

    #[test]
    fn jackknife_matches_recomputation() {
        let d = data(40, 3);
        let lay = layout(&d, Scheme::Cluster, false).unwrap();
        let jack = jackknife(&d, &lay, &StratumWeights::Fixed(vec![1.0, 2.0, 3.0]));
        // Leave the first element (a cluster) out by hand.
        let first = &lay.groups[0][0];
        let keep: Vec<usize> = (0..d.n_units()).filter(|u| !first.contains(u)).collect();
        let mut sums = StratumSums { sum: vec![0.0; 6], n: vec![0.0; 6] };
        for &u in &keep {
            let s = d.unit_stratum[u];
            for c in 0..2 {
                sums.sum[s * 2 + c] += d.score[u * 2 + c];
                sums.n[s * 2 + c] += d.has[u * 2 + c];
            }
        }
        let mut out = [0.0; 2];
        scores_from(&sums, 3, 2, &StratumWeights::Fixed(vec![1.0, 2.0, 3.0]), &mut out);
        assert!((jack[0] - out[0]).abs() < 1e-12 && (jack[1] - out[1]).abs() < 1e-12);
    }
}
