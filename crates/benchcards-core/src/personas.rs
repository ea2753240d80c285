//! Simulated patients' personas, loaded from `personas.yaml` (compiled in; a plan adds its own
//! named personas). Each axis is a way people differ (personality, language proficiency, recall,
//! confusion, health literacy, bias); each value adds one instruction to the patient's rules, and
//! every axis's first value is its default, adding nothing. A persona is the value it takes on
//! every axis; a condition names one (`persona:`) or a design over them (`personas:`).

use crate::de::from_node;
use crate::model::{NamedPersona, PersonaDesign, PersonaDesignKind};
use crate::yaml::{Limits, Offset, parse};
use indexmap::IndexMap;
use serde::Deserialize;
use std::sync::OnceLock;

/// The personas file's text, as compiled into the binary.
pub const PERSONAS_YAML: &str = include_str!("../personas.yaml");

#[derive(Debug, Clone, Deserialize)]
pub struct AxisValue {
    pub id: String,
    pub instruction: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Axis {
    pub id: String,
    pub values: Vec<AxisValue>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Catalogue {
    pub axes: Vec<Axis>,
    pub personas: Vec<NamedPersona>,
}

/// The compiled-in personas. Their consistency is checked by this module's tests.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let node = parse(PERSONAS_YAML, Offset::default(), Limits::default())
            .unwrap_or_else(|d| panic!("personas.yaml:{}:{}: {}", d.line, d.column, d.message));
        from_node(&node, None).unwrap_or_else(|e| panic!("personas.yaml: {e} at {:?}", e.pos))
    })
}

/// A persona resolved on every axis: its id (a name, or the values it changes, `plain` when
/// none) and each axis's value, in the catalogue's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    pub id: String,
    pub values: Vec<(String, String)>,
}

impl Persona {
    /// The persona's value on `axis`.
    pub fn value(&self, axis: &str) -> Option<&str> {
        self.values.iter().find(|(a, _)| a == axis).map(|(_, v)| v.as_str())
    }
}

impl Catalogue {
    /// The axis `id`, or what there is instead (the nearest first).
    fn axis(&self, id: &str) -> Result<&Axis, String> {
        self.axes.iter().find(|a| a.id == id).ok_or_else(|| {
            let ids = || self.axes.iter().map(|a| a.id.as_str());
            let near = crate::diag::nearest(id, ids()).map(|n| format!("did you mean `{n}`? ")).unwrap_or_default();
            format!("no persona axis `{id}`; {near}the axes are {}", ids().collect::<Vec<_>>().join(", "))
        })
    }

    /// The persona taking `values` (axis → value) and every other axis's default; `id` names
    /// it, else the values it changes name it.
    pub fn persona(&self, values: &IndexMap<String, String>, id: Option<&str>) -> Result<Persona, String> {
        for (axis, value) in values {
            let a = self.axis(axis)?;
            if !a.values.iter().any(|v| &v.id == value) {
                let known: Vec<&str> = a.values.iter().map(|v| v.id.as_str()).collect();
                return Err(format!("`{value}` is no value of the persona axis `{axis}`; one of {}", known.join(", ")));
            }
        }
        let resolved: Vec<(String, String)> =
            self.axes.iter().map(|a| (a.id.clone(), values.get(&a.id).cloned().unwrap_or_else(|| a.values[0].id.clone()))).collect();
        let changed: Vec<String> =
            self.axes.iter().zip(&resolved).filter(|(a, (_, v))| *v != a.values[0].id).map(|(_, (k, v))| format!("{k}={v}")).collect();
        let id = id.map(str::to_string).unwrap_or_else(|| if changed.is_empty() { "plain".into() } else { changed.join("+") });
        Ok(Persona { id, values: resolved })
    }

    /// The named persona `id`, from the plan's own (`extra`, first) or the catalogue's.
    pub fn named(&self, id: &str, extra: &[NamedPersona]) -> Result<Persona, String> {
        let p = extra.iter().chain(&self.personas).find(|p| p.id == id).ok_or_else(|| {
            let known: Vec<&str> = extra.iter().chain(&self.personas).map(|p| p.id.as_str()).collect();
            format!("no persona `{id}`; one of {}, or one the plan's `personas` defines", known.join(", "))
        })?;
        self.persona(&p.values, Some(&p.id))
    }

    /// The personas of a design: every combination of the named axes' values (`factorial`), `n`
    /// drawn from every combination of every axis with `seed` (`sample`, distinct, in a stable
    /// order), or the named ones (`named`).
    pub fn design(&self, d: &PersonaDesign, extra: &[NamedPersona]) -> Result<Vec<Persona>, String> {
        match d.design {
            PersonaDesignKind::Named => d.names.iter().map(|n| self.named(n, extra)).collect(),
            PersonaDesignKind::Factorial => {
                if d.axes.is_empty() {
                    return Err("a factorial design names its `axes`".into());
                }
                let mut combos: Vec<IndexMap<String, String>> = vec![IndexMap::new()];
                for axis in &d.axes {
                    let a = self.axis(axis)?;
                    combos = combos
                        .into_iter()
                        .flat_map(|c| {
                            a.values.iter().map(move |v| {
                                let mut c = c.clone();
                                c.insert(axis.clone(), v.id.clone());
                                c
                            })
                        })
                        .collect();
                }
                combos.iter().map(|c| self.persona(c, None)).collect()
            }
            PersonaDesignKind::Sample => {
                let total: u64 = self.axes.iter().map(|a| a.values.len() as u64).product();
                let n = d.n.ok_or("a sampled design gives `n`, how many personas")?;
                if n == 0 || n as u64 > total {
                    return Err(format!("`n` must be 1 to {total}, the number of personas there are"));
                }
                let mut rng = benchcards_stats::rng::Rng::new(d.seed.unwrap_or(1));
                let mut picked: Vec<u64> = Vec::new();
                while picked.len() < n {
                    let k = rng.next_u64() % total;
                    if !picked.contains(&k) {
                        picked.push(k);
                    }
                }
                picked.sort_unstable();
                picked
                    .into_iter()
                    .map(|mut k| {
                        let mut values = IndexMap::new();
                        for a in &self.axes {
                            let len = a.values.len() as u64;
                            values.insert(a.id.clone(), a.values[(k % len) as usize].id.clone());
                            k /= len;
                        }
                        self.persona(&values, None)
                    })
                    .collect()
            }
        }
    }

    /// The patient's instructions a persona adds, one per axis it changes.
    pub fn instructions(&self, p: &Persona) -> String {
        let lines: Vec<&str> = self
            .axes
            .iter()
            .filter_map(|a| a.values.iter().find(|v| Some(v.id.as_str()) == p.value(&a.id)).map(|v| v.instruction.as_str()))
            .filter(|i| !i.is_empty())
            .collect();
        lines.join(" ")
    }

    /// A persona's weight under a users' mix (axis → value → share): the product of its values'
    /// shares over the axes the mix declares.
    pub fn weight(&self, p: &Persona, mix: &IndexMap<String, IndexMap<String, f64>>) -> f64 {
        mix.iter().map(|(axis, shares)| p.value(axis).and_then(|v| shares.get(v)).copied().unwrap_or(0.0)).product()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_is_consistent() {
        let c = catalogue();
        assert_eq!(
            c.axes.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["personality", "proficiency", "recall", "confusion", "health_literacy", "bias"]
        );
        for a in &c.axes {
            assert!(a.values[0].instruction.is_empty(), "{}'s default adds nothing", a.id);
            assert!(a.values[1..].iter().all(|v| !v.instruction.is_empty()), "{}", a.id);
        }
        for p in &c.personas {
            c.named(&p.id, &[]).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(c.named("plain", &[]).unwrap().values, c.persona(&IndexMap::new(), None).unwrap().values);
        assert_eq!(c.instructions(&c.named("plain", &[]).unwrap()), "");
    }

    #[test]
    fn designs_are_factorial_sampled_or_named() {
        let c = catalogue();
        let design = |kind, axes: &[&str], n, names: &[&str]| PersonaDesign {
            design: kind,
            axes: axes.iter().map(|a| a.to_string()).collect(),
            n,
            seed: Some(7),
            names: names.iter().map(|a| a.to_string()).collect(),
        };
        let f = c.design(&design(PersonaDesignKind::Factorial, &["recall", "health_literacy"], None, &[]), &[]).unwrap();
        let ids: Vec<&str> = f.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["plain", "health_literacy=low", "recall=low", "recall=low+health_literacy=low"]);
        assert!(c.instructions(&f[3]).contains("do not remember") && c.instructions(&f[3]).contains("few medical words"));
        let s = c.design(&design(PersonaDesignKind::Sample, &[], Some(5), &[]), &[]).unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(s, c.design(&design(PersonaDesignKind::Sample, &[], Some(5), &[]), &[]).unwrap(), "the same seed, the same personas");
        let ids: std::collections::BTreeSet<&str> = s.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), 5, "distinct");
        let own = NamedPersona { id: "mine".into(), values: [("bias".to_string(), "cost_worry".to_string())].into_iter().collect() };
        let n = c.design(&design(PersonaDesignKind::Named, &[], None, &["anxious", "mine"]), std::slice::from_ref(&own)).unwrap();
        assert_eq!((n[1].id.as_str(), n[1].value("bias")), ("mine", Some("cost_worry")));
        assert!(c.design(&design(PersonaDesignKind::Named, &[], None, &["nobody"]), &[]).unwrap_err().contains("no persona `nobody`"));
        assert!(c.design(&design(PersonaDesignKind::Factorial, &["mood"], None, &[]), &[]).unwrap_err().contains("no persona axis"));
        let wrong: IndexMap<String, String> = [("recall".to_string(), "medium".to_string())].into_iter().collect();
        assert!(c.persona(&wrong, None).unwrap_err().contains("one of high, low"));
    }

    #[test]
    fn a_mix_weighs_a_persona_by_its_values_shares() {
        let c = catalogue();
        let mix: IndexMap<String, IndexMap<String, f64>> = [(
            "proficiency".to_string(),
            [("fluent".to_string(), 0.7), ("intermediate".to_string(), 0.2), ("basic".to_string(), 0.1)].into_iter().collect(),
        )]
        .into_iter()
        .collect();
        assert_eq!(c.weight(&c.named("plain", &[]).unwrap(), &mix), 0.7);
        assert_eq!(c.weight(&c.named("basic_english", &[]).unwrap(), &mix), 0.1);
    }
}
