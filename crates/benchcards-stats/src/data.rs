//! Long-form results (one row per observation) gathered into units: a unit is a pairing key
//! (`pair`, defaulting to `unit`), holding one score per condition, each the mean of its
//! replicates. Units are sorted by stratum, then cluster, so resampling works on ranges.

use crate::decompose::ConditionMeta;
use serde::{Serialize, Serializer};
use std::collections::HashMap;

/// One row of the results form of SPEC §4 (`unit, condition, score, pair, replicate, cluster,
/// stratum, weight`) with its condition's metadata, serialized in the column order `runs export`
/// writes: an absent text as empty, `cluster` and `weight` only when present.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResultRow {
    pub unit: String,
    pub condition: String,
    pub score: f64,
    #[serde(serialize_with = "text")]
    pub pair: Option<String>,
    /// A label; a whole number is written as a number.
    #[serde(serialize_with = "replicate")]
    pub replicate: Option<String>,
    #[serde(serialize_with = "text", skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(serialize_with = "text")]
    pub stratum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(serialize_with = "text")]
    pub model: Option<String>,
    #[serde(serialize_with = "text")]
    pub grader: Option<String>,
    #[serde(serialize_with = "text")]
    pub unit_source: Option<String>,
    /// Assumption groups the condition relaxes relative to the benchmark.
    #[serde(serialize_with = "relaxes::serialize")]
    pub relaxes: Vec<String>,
    pub proxy: bool,
}

impl ResultRow {
    /// The row's condition metadata.
    pub fn condition_meta(&self) -> ConditionMeta {
        ConditionMeta {
            model: self.model.clone(),
            grader: self.grader.clone(),
            unit_source: self.unit_source.clone(),
            relaxes: self.relaxes.clone(),
            proxy: self.proxy,
        }
    }
}

fn text<S: Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(value.as_deref().unwrap_or(""))
}

fn replicate<S: Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match value.as_deref().map(|v| (v, v.parse::<i64>())) {
        Some((v, Ok(n))) if n.to_string() == v => s.serialize_i64(n),
        _ => text(value, s),
    }
}

/// The `relaxes` column: assumption groups joined by `;`.
pub mod relaxes {
    use serde::Serializer;

    pub fn split(text: &str) -> Vec<String> {
        text.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
    }

    pub fn serialize<S: Serializer>(groups: &[String], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&groups.join(";"))
    }
}

/// A problem with the data as a whole, pointing at the first row concerned (0-based).
#[derive(Debug, Clone, PartialEq)]
pub struct DataError {
    pub row: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    pub conditions: Vec<String>,
    pub strata: Vec<String>,
    pub clusters: Vec<String>,
    /// Pairing keys, in unit order.
    pub keys: Vec<String>,
    pub unit_stratum: Vec<usize>,
    pub unit_cluster: Vec<usize>,
    pub unit_weight: Vec<f64>,
    /// `score[u * C + c]`: the unit's mean score under condition c (0 when absent).
    pub score: Vec<f64>,
    /// `has[u * C + c]`: 1 when the unit was observed under condition c.
    pub has: Vec<f64>,
    /// Most replicates averaged into one unit's score under one condition.
    pub max_replicates: usize,
    /// Whether every unit score is exactly 0 or 1.
    pub binary: bool,
    /// Whether a cluster column was given.
    pub clustered: bool,
    /// Whether any row weight differs from 1.
    pub weighted: bool,
}

impl Data {
    pub fn n_conditions(&self) -> usize {
        self.conditions.len()
    }
    pub fn n_units(&self) -> usize {
        self.keys.len()
    }
    pub fn condition_index(&self, name: &str) -> Option<usize> {
        self.conditions.iter().position(|c| c == name)
    }
    /// Units observed under condition c.
    pub fn n_for(&self, c: usize) -> usize {
        let k = self.n_conditions();
        (0..self.n_units()).filter(|u| self.has[u * k + c] > 0.0).count()
    }
    /// Units observed under both conditions (paired).
    pub fn n_both(&self, a: usize, b: usize) -> usize {
        let k = self.n_conditions();
        (0..self.n_units()).filter(|u| self.has[u * k + a] > 0.0 && self.has[u * k + b] > 0.0).count()
    }
    /// Range of units in each stratum (units are sorted by stratum).
    pub fn stratum_ranges(&self) -> Vec<std::ops::Range<usize>> {
        ranges(&self.unit_stratum, self.strata.len())
    }
    pub fn cluster_ranges(&self) -> Vec<std::ops::Range<usize>> {
        ranges(&self.unit_cluster, self.clusters.len())
    }
}

fn ranges(index: &[usize], n: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = vec![0..0; n];
    let mut start = 0;
    for u in 1..=index.len() {
        if u == index.len() || index[u] != index[start] {
            out[index[start]] = start..u;
            start = u;
        }
    }
    out
}

/// Names stored once, each with its index in the order first seen.
#[derive(Debug, Default)]
struct Interned {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Interned {
    /// The name's index, stored first when it is new.
    fn intern(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }
}

/// One unit while its rows arrive.
#[derive(Debug)]
struct Unit {
    /// Its first row (0-based), which set its stratum and cluster.
    first: usize,
    stratum: usize,
    /// Its named cluster; `None` when it is its own (named by its pairing key, at the end).
    cluster: Option<usize>,
    weight_sum: f64,
    rows: usize,
    /// Per condition observed: the condition, the sum of its scores and its replicates.
    per: Vec<(usize, f64, usize)>,
}

/// Observations gathered into units one row at a time, so that a file can be read without
/// keeping its rows: [`push`](Gatherer::push) each row, then [`finish`](Gatherer::finish).
/// Memory grows with the units, not the rows: strata, clusters and conditions are stored once.
#[derive(Debug, Default)]
pub struct Gatherer {
    conditions: Interned,
    strata: Interned,
    clusters: Interned,
    /// Each pairing key's unit.
    unit_ix: HashMap<String, usize>,
    units: Vec<Unit>,
    /// Rows pushed so far, taken or refused: the next row's index.
    pushed: usize,
    clustered: bool,
    weighted: bool,
}

impl Gatherer {
    /// Adds one row to its unit. Errors, at the row's index among those pushed: a score outside
    /// [0, 1] or not finite, a negative weight, the unit placed in another stratum or cluster
    /// than at its first row. A refused row changes nothing.
    pub fn push(&mut self, r: &ResultRow) -> Result<(), DataError> {
        let row = self.pushed;
        self.pushed += 1;
        let error = |message: String| Err(DataError { row, message });
        if !r.score.is_finite() || !(0.0..=1.0).contains(&r.score) {
            return error(format!("score {} is outside 0–1", r.score));
        }
        let w = r.weight.unwrap_or(1.0);
        if !w.is_finite() || w < 0.0 {
            return error(format!("weight {w} is negative or not a number"));
        }
        let key = r.pair.as_deref().unwrap_or(&r.unit);
        let stratum = r.stratum.as_deref().unwrap_or_default();
        let cluster = r.cluster.as_deref().unwrap_or(key);
        let u = match self.unit_ix.get(key) {
            Some(&u) => {
                let unit = &self.units[u];
                let first = unit.first + 1;
                let held = &self.strata.names[unit.stratum];
                if held != stratum {
                    return error(format!("unit `{key}` is in stratum `{stratum}` here but `{held}` at row {first}"));
                }
                let held = unit.cluster.map_or(key, |c| self.clusters.names[c].as_str());
                if held != cluster {
                    return error(format!("unit `{key}` is in cluster `{cluster}` here but `{held}` at row {first}"));
                }
                u
            }
            None => {
                self.units.push(Unit {
                    first: row,
                    stratum: self.strata.intern(stratum),
                    cluster: r.cluster.as_deref().map(|c| self.clusters.intern(c)),
                    weight_sum: 0.0,
                    rows: 0,
                    per: Vec::new(),
                });
                self.unit_ix.insert(key.to_string(), self.units.len() - 1);
                self.units.len() - 1
            }
        };
        self.clustered |= r.cluster.is_some();
        self.weighted |= w != 1.0;
        let c = self.conditions.intern(&r.condition);
        let unit = &mut self.units[u];
        unit.weight_sum += w;
        unit.rows += 1;
        match unit.per.iter_mut().find(|p| p.0 == c) {
            Some(p) => {
                p.1 += r.score;
                p.2 += 1;
            }
            None => unit.per.push((c, r.score, 1)),
        }
        Ok(())
    }

    /// The units gathered, sorted by stratum, then cluster, then pairing key; no rows taken is
    /// an error.
    pub fn finish(self) -> Result<Data, DataError> {
        if self.units.is_empty() {
            return Err(DataError { row: 0, message: "no observations".into() });
        }
        let mut keys = vec![String::new(); self.units.len()];
        for (key, u) in self.unit_ix {
            keys[u] = key;
        }
        let mut strata = self.strata.names.clone();
        strata.sort();
        let stratum_rank: Vec<usize> = self.strata.names.iter().map(|s| strata.partition_point(|x| x < s)).collect();
        let cluster_of: Vec<&str> =
            self.units.iter().zip(&keys).map(|(unit, key)| unit.cluster.map_or(key.as_str(), |c| &self.clusters.names[c])).collect();
        let mut clusters = cluster_of.clone();
        clusters.sort_unstable();
        clusters.dedup();
        let unit_stratum: Vec<usize> = self.units.iter().map(|unit| stratum_rank[unit.stratum]).collect();
        let unit_cluster: Vec<usize> = cluster_of.iter().map(|c| clusters.partition_point(|x| x < c)).collect();
        let clusters: Vec<String> = clusters.into_iter().map(str::to_string).collect();
        let mut order: Vec<usize> = (0..self.units.len()).collect();
        order.sort_unstable_by(|&a, &b| (unit_stratum[a], unit_cluster[a], &keys[a]).cmp(&(unit_stratum[b], unit_cluster[b], &keys[b])));
        let k = self.conditions.names.len();
        let n = self.units.len();
        let mut score = vec![0.0; n * k];
        let mut has = vec![0.0; n * k];
        let mut max_replicates = 0;
        let mut binary = true;
        for (u, &i) in order.iter().enumerate() {
            for &(c, sum, reps) in &self.units[i].per {
                let mean = sum / reps as f64;
                score[u * k + c] = mean;
                has[u * k + c] = 1.0;
                max_replicates = max_replicates.max(reps);
                binary &= mean == 0.0 || mean == 1.0;
            }
        }
        Ok(Data {
            conditions: self.conditions.names,
            unit_stratum: order.iter().map(|&i| unit_stratum[i]).collect(),
            unit_cluster: order.iter().map(|&i| unit_cluster[i]).collect(),
            unit_weight: order.iter().map(|&i| self.units[i].weight_sum / self.units[i].rows as f64).collect(),
            keys: order.iter().map(|&i| std::mem::take(&mut keys[i])).collect(),
            strata,
            clusters,
            score,
            has,
            max_replicates,
            binary,
            clustered: self.clustered,
            weighted: self.weighted,
        })
    }
}

/// Gathers observations into units (see [`Gatherer`]). Errors: a score outside [0, 1] or not
/// finite, a negative weight, a unit placed in two strata or two clusters, no observations.
pub fn gather(rows: &[ResultRow]) -> Result<Data, DataError> {
    let mut gatherer = Gatherer::default();
    for r in rows {
        gatherer.push(r)?;
    }
    gatherer.finish()
}

/// How strata are weighted when condition scores are computed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "scheme", content = "weights")]
pub enum Weights {
    /// Each unit counts once: the plain (pooled) mean, the paper's convention.
    Pooled,
    /// Each stratum counts equally.
    Equal,
    /// A deployment's case mix: stratum → weight.
    CaseMix(Vec<(String, f64)>),
}

/// On a command line `case-mix` names the scheme alone: its weights come from elsewhere (a
/// deployment profile), so the value parsed holds none.
#[cfg(feature = "clap")]
impl clap::ValueEnum for Weights {
    fn value_variants<'a>() -> &'a [Self] {
        static VARIANTS: [Weights; 3] = [Weights::Pooled, Weights::Equal, Weights::CaseMix(Vec::new())];
        &VARIANTS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self {
            Weights::Pooled => PossibleValue::new("pooled").help("Each unit counts once (the paper's convention)"),
            Weights::Equal => PossibleValue::new("equal").help("Each stratum counts equally"),
            Weights::CaseMix(_) => PossibleValue::new("case-mix").help("The deployment's case mix (`--case-mix PROFILE`)"),
        })
    }
}

/// Per-stratum weighted sums for each condition: `sum[s * C + c]`, `n[s * C + c]`.
#[derive(Debug, Clone)]
pub struct StratumSums {
    pub sum: Vec<f64>,
    pub n: Vec<f64>,
}

impl Data {
    pub fn sums(&self) -> StratumSums {
        let k = self.n_conditions();
        let mut sum = vec![0.0; self.strata.len() * k];
        let mut n = vec![0.0; self.strata.len() * k];
        for u in 0..self.n_units() {
            let s = self.unit_stratum[u];
            let w = self.unit_weight[u];
            for c in 0..k {
                sum[s * k + c] += w * self.score[u * k + c];
                n[s * k + c] += w * self.has[u * k + c];
            }
        }
        StratumSums { sum, n }
    }
}

/// Condition scores from per-stratum sums under a weighting scheme. `case_mix` holds a weight
/// per stratum index (already checked to cover the strata). Strata a condition lacks are left
/// out and the remaining weights renormalised.
pub fn scores_from(sums: &StratumSums, strata: usize, conditions: usize, weights: &StratumWeights, out: &mut [f64]) {
    for (c, slot) in out.iter_mut().enumerate().take(conditions) {
        let (mut num, mut den) = (0.0, 0.0);
        for s in 0..strata {
            let n = sums.n[s * conditions + c];
            if n <= 0.0 {
                continue;
            }
            match weights {
                StratumWeights::Pooled => {
                    num += sums.sum[s * conditions + c];
                    den += n;
                }
                StratumWeights::Fixed(w) => {
                    num += w[s] * sums.sum[s * conditions + c] / n;
                    den += w[s];
                }
            }
        }
        *slot = if den > 0.0 { num / den } else { f64::NAN };
    }
}

/// Stratum weights resolved to indices.
#[derive(Debug, Clone)]
pub enum StratumWeights {
    Pooled,
    Fixed(Vec<f64>),
}

impl Weights {
    /// Resolves to per-stratum weights; a case mix must name every stratum in the data.
    pub fn resolve(&self, data: &Data) -> Result<StratumWeights, String> {
        Ok(match self {
            Weights::Pooled => StratumWeights::Pooled,
            Weights::Equal => StratumWeights::Fixed(vec![1.0; data.strata.len()]),
            Weights::CaseMix(mix) => {
                let mut w = Vec::with_capacity(data.strata.len());
                for s in &data.strata {
                    match mix.iter().find(|(k, _)| k == s) {
                        Some((_, v)) => w.push(*v),
                        None => return Err(format!("the case mix has no weight for stratum `{s}`")),
                    }
                }
                StratumWeights::Fixed(w)
            }
        })
    }
    pub fn name(&self) -> &'static str {
        match self {
            Weights::Pooled => "pooled",
            Weights::Equal => "equal",
            Weights::CaseMix(_) => "case_mix",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(unit: &str, cond: &str, score: f64, stratum: &str) -> ResultRow {
        ResultRow { unit: unit.into(), condition: cond.into(), score, stratum: Some(stratum.into()), ..Default::default() }
    }

    #[test]
    fn replicates_are_averaged_and_units_sorted_by_stratum() {
        let rows = vec![obs("u2", "a", 1.0, "s2"), obs("u1", "a", 1.0, "s1"), obs("u1", "a", 0.0, "s1"), obs("u1", "b", 1.0, "s1")];
        let d = gather(&rows).unwrap();
        assert_eq!(d.keys, ["u1", "u2"]);
        assert_eq!(d.score[0], 0.5);
        assert_eq!(d.max_replicates, 2);
        assert!(!d.binary);
        assert_eq!(d.stratum_ranges(), vec![0..1, 1..2]);
        assert_eq!(d.n_both(0, 1), 1);
    }

    #[test]
    fn a_row_is_written_in_the_export_columns() {
        let mut r = obs("u1", "a", 1.0, "s");
        r.replicate = Some("0".into());
        r.relaxes = vec!["query_authorship".into(), "interaction_type".into()];
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"unit":"u1","condition":"a","score":1.0,"pair":"","replicate":0,"stratum":"s","model":"","grader":"","unit_source":"","relaxes":"query_authorship;interaction_type","proxy":false}"#
        );
        r.replicate = Some("007".into());
        r.cluster = Some("k".into());
        assert!(serde_json::to_string(&r).unwrap().contains(r#""replicate":"007","cluster":"k","stratum""#));
        assert_eq!(relaxes::split(" a; ;b "), ["a", "b"]);
    }

    #[test]
    fn inconsistent_stratum_is_an_error() {
        let rows = vec![obs("u1", "a", 1.0, "s1"), obs("u1", "b", 1.0, "s2")];
        let e = gather(&rows).unwrap_err();
        assert_eq!(e.row, 1);
        assert!(e.message.contains("stratum `s2` here but `s1` at row 1"), "{}", e.message);
        assert!(gather(&[obs("u", "a", 1.5, "s")]).is_err());
    }

    #[test]
    fn a_gatherer_fed_row_by_row_sorts_units_and_names_clusters_at_the_end() {
        let row = |unit: &str, cond: &str, score: f64, stratum: &str, cluster: Option<&str>, weight: Option<f64>| ResultRow {
            cluster: cluster.map(str::to_string),
            weight,
            ..obs(unit, cond, score, stratum)
        };
        let mut paired = row("p1", "b", 1.0, "s1", None, None);
        paired.pair = Some("c".into());
        let rows = vec![
            row("z", "b", 1.0, "s2", Some("k"), Some(2.0)),
            row("a", "a", 0.0, "s2", None, None),
            row("a", "b", 1.0, "s2", Some("a"), None),
            row("y", "a", 1.0, "s2", Some("a"), Some(0.5)),
            row("z", "b", 0.0, "s2", Some("k"), Some(1.0)),
            paired,
            row("c", "a", 1.0, "s1", None, None),
        ];
        let mut gatherer = Gatherer::default();
        for r in &rows {
            gatherer.push(r).unwrap();
        }
        let d = gatherer.finish().unwrap();
        assert_eq!(d, gather(&rows).unwrap());
        assert_eq!(d.conditions, ["b", "a"]);
        assert_eq!(d.strata, ["s1", "s2"]);
        // `a` is its own cluster, which `y` names too; `c` is its own.
        assert_eq!(d.clusters, ["a", "c", "k"]);
        assert_eq!(d.keys, ["c", "a", "y", "z"]);
        assert_eq!((d.unit_stratum, d.unit_cluster), (vec![0, 1, 1, 1], vec![1, 0, 0, 2]));
        assert_eq!(d.unit_weight, [1.0, 1.0, 0.5, 1.5]);
        assert_eq!(d.score, [1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.5, 0.0]);
        assert_eq!(d.has, [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
        assert_eq!((d.max_replicates, d.binary, d.clustered, d.weighted), (2, false, true, true));
    }

    #[test]
    fn a_refused_row_carries_its_index_and_changes_nothing() {
        let rows = [obs("u1", "a", 1.0, "s"), obs("u2", "a", 0.0, "s"), obs("u1", "b", 1.0, "s")];
        let mut gatherer = Gatherer::default();
        gatherer.push(&rows[0]).unwrap();
        gatherer.push(&rows[1]).unwrap();
        let e = gatherer.push(&ResultRow { cluster: Some("k".into()), ..obs("u1", "c", 1.0, "s") }).unwrap_err();
        assert_eq!((e.row, e.message.as_str()), (2, "unit `u1` is in cluster `k` here but `u1` at row 1"));
        let e = gatherer.push(&ResultRow { weight: Some(-1.0), ..obs("u3", "a", 1.0, "s") }).unwrap_err();
        assert_eq!((e.row, e.message.as_str()), (3, "weight -1 is negative or not a number"));
        let e = gatherer.push(&obs("u2", "b", 1.0, "t")).unwrap_err();
        assert_eq!((e.row, e.message.as_str()), (4, "unit `u2` is in stratum `t` here but `s` at row 2"));
        assert_eq!(gatherer.push(&obs("u3", "a", f64::NAN, "s")).unwrap_err().row, 5);
        gatherer.push(&rows[2]).unwrap();
        assert_eq!(gatherer.finish().unwrap(), gather(&rows).unwrap());
        assert_eq!(Gatherer::default().finish().unwrap_err(), DataError { row: 0, message: "no observations".into() });
    }

    #[test]
    fn weighting_schemes() {
        // Stratum s1: 3 units all right; s2: 1 unit wrong. Pooled 0.75, equal 0.5, mix 0.9/0.1 → 0.9.
        let rows = vec![obs("a", "c", 1.0, "s1"), obs("b", "c", 1.0, "s1"), obs("d", "c", 1.0, "s1"), obs("e", "c", 0.0, "s2")];
        let d = gather(&rows).unwrap();
        let sums = d.sums();
        let mut out = [0.0];
        for (w, expect) in
            [(Weights::Pooled, 0.75), (Weights::Equal, 0.5), (Weights::CaseMix(vec![("s1".into(), 0.9), ("s2".into(), 0.1)]), 0.9)]
        {
            scores_from(&sums, 2, 1, &w.resolve(&d).unwrap(), &mut out);
            assert!((out[0] - expect).abs() < 1e-12, "{w:?}: {}", out[0]);
        }
        assert!(Weights::CaseMix(vec![("s1".into(), 1.0)]).resolve(&d).is_err());
    }
}
