//! The taxonomy, loaded from `taxonomy.yaml` (compiled in). Everything that knows about
//! dimensions, vocabularies and rules asks this module.

use crate::de::from_node;
use crate::yaml::{Limits, Offset, parse};
use benchcards_stats::decompose::ConditionMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The taxonomy file's text, as compiled into the binary.
pub const TAXONOMY_YAML: &str = include_str!("../taxonomy.yaml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Testable from conversation data alone.
    Task,
    /// Testable only with people.
    Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Categorical,
    Ordinal,
    Set,
    Language,
    Currency,
}

/// Which way a benchmark's score errs when the dimension does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bias {
    Optimistic,
    Pessimistic,
    Unclear,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueDef {
    pub id: String,
    pub definition: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    pub prefix: String,
    pub definition: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindDef {
    pub id: Kind,
    pub definition: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    /// The group's question, of a benchmark.
    pub question: String,
    /// The same question, asked of a team deploying a model (the deployment wizard).
    pub deployment_question: String,
    pub dimensions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub id: String,
    pub group: String,
    /// A plain name, for readers who do not know the ids (the clinician brief).
    pub title: String,
    /// What a clinician would ask a vendor about this assumption.
    pub clinician_question: String,
    /// What a benchmark's designer answers (cards, `card new`, the card wizard).
    pub question: String,
    /// The same question, asked of a team deploying a model (the deployment wizard).
    pub deployment_question: String,
    pub rule: Rule,
    /// Ordinal only: the more demanding end of the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demanding: Option<String>,
    /// Ordinal only: values outside the order, compared categorically.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unordered: Vec<String>,
    /// Set only: values may carry shares.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shares: bool,
    pub bias: Bias,
    pub next_step: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<Pattern>,
    pub values: Vec<ValueDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    pub id: String,
    pub title: String,
    pub question: String,
    /// Several values may apply at once.
    #[serde(default)]
    pub set: bool,
    pub values: Vec<ValueDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextStepDef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    pub definition: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionDef {
    pub id: String,
    /// A plain name ("the expert-written case").
    pub title: String,
    pub query: String,
    pub interaction: String,
    pub scored: String,
    pub relaxes: String,
    #[serde(default)]
    pub proxy: bool,
    pub definition: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictScores {
    pub holds: f64,
    pub partial: f64,
    /// A broken dimension in a group whose cost the card measured.
    pub broken_cost_measured: f64,
    pub broken: f64,
}

/// One side of a consistency rule: a dimension and some of its values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionValues {
    pub dimension: String,
    pub values: Vec<String>,
}

/// A card whose `when` dimension takes one of its values should give `expects` one of its values.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyRule {
    pub when: DimensionValues,
    pub expects: DimensionValues,
    pub message: String,
    pub suggestion: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub critical: f64,
    pub high: f64,
    pub normal: f64,
    pub low: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixtureThresholds {
    pub holds: f64,
    pub partial: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    pub version: u32,
    pub verdict_scores: VerdictScores,
    pub weights: Weights,
    pub mixture_thresholds: MixtureThresholds,
    pub set_superset_note_ratio: f64,
    pub currency_broken_factor: f64,
    pub share_sum_tolerance: f64,
    pub kinds: Vec<KindDef>,
    pub groups: Vec<Group>,
    pub dimensions: Vec<Dimension>,
    pub consistency: Vec<ConsistencyRule>,
    pub flags: Vec<Flag>,
    pub next_steps: Vec<NextStepDef>,
    pub study_designs: Vec<ValueDef>,
    pub conditions: Vec<ConditionDef>,
}

/// The compiled-in taxonomy. Its consistency is checked by this module's tests, so loading it
/// cannot fail in a released binary.
pub fn taxonomy() -> &'static Taxonomy {
    static TAXONOMY: OnceLock<Taxonomy> = OnceLock::new();
    TAXONOMY.get_or_init(|| {
        let node = parse(TAXONOMY_YAML, Offset::default(), Limits::default())
            .unwrap_or_else(|d| panic!("taxonomy.yaml:{}:{}: {}", d.line, d.column, d.message));
        from_node(&node, None).unwrap_or_else(|e| panic!("taxonomy.yaml: {e} at {:?}", e.pos))
    })
}

/// Why a value is not valid for a dimension or flag, with the nearest valid value.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidValue {
    pub message: String,
    pub expected: String,
    pub suggestion: Option<String>,
}

impl Taxonomy {
    pub fn dimension(&self, id: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.id == id)
    }
    /// The canonical dimension an alias (from the paper repository's format) stands for.
    pub fn dimension_alias(&self, alias: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.aliases.iter().any(|a| a == alias))
    }
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }
    pub fn flag(&self, id: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.id == id)
    }
    pub fn condition(&self, id: &str) -> Option<&ConditionDef> {
        self.conditions.iter().find(|c| c.id == id)
    }
    /// The metadata the taxonomy gives a condition composed of `parts` (the condition, then
    /// those applied on top of it), where the results do not state their own: the groups any part
    /// relaxes relative to `vignette`, and whether the condition itself is a proxy. Ids the
    /// taxonomy does not define add nothing.
    pub fn condition_meta(&self, parts: &[&str]) -> ConditionMeta {
        let mut relaxes: Vec<String> = Vec::new();
        for p in parts.iter().filter_map(|id| self.condition(id)) {
            if p.relaxes != "none" && !relaxes.contains(&p.relaxes) {
                relaxes.push(p.relaxes.clone());
            }
        }
        let proxy = parts.first().and_then(|id| self.condition(id)).is_some_and(|d| d.proxy);
        ConditionMeta { relaxes, proxy, ..Default::default() }
    }

    /// Where the units of a condition composed of `parts` come from: a part's source replaces
    /// the clinician's vignette (as `withheld` does).
    pub fn unit_source(&self, parts: &[&str]) -> Option<String> {
        let sources = parts.iter().filter_map(|id| self.condition(id)).map(|p| p.query.as_str());
        let source = sources.fold(None, |acc: Option<&str>, q| match acc {
            None | Some("clinician_vignette") => Some(q),
            Some(a) => Some(a),
        });
        source.map(str::to_string)
    }

    /// The groups whose assumptions only people can test.
    pub fn outcome_groups(&self) -> Vec<String> {
        self.groups.iter().filter(|g| g.kind == Kind::Outcome).map(|g| g.id.clone()).collect()
    }
    pub fn kind_of(&self, dimension: &Dimension) -> Kind {
        self.group(&dimension.group).map_or(Kind::Task, |g| g.kind)
    }
    pub fn weight(&self, weight: crate::Weight) -> f64 {
        match weight {
            crate::Weight::Critical => self.weights.critical,
            crate::Weight::High => self.weights.high,
            crate::Weight::Normal => self.weights.normal,
            crate::Weight::Low => self.weights.low,
        }
    }
    /// Position of a dimension in taxonomy order (for stable output ordering).
    pub fn dimension_index(&self, id: &str) -> usize {
        self.dimensions.iter().position(|d| d.id == id).unwrap_or(usize::MAX)
    }

    /// Checks one vocabulary value of a dimension. `other:<text>` is always admitted.
    pub fn check_dimension_value(&self, dim: &Dimension, value: &str) -> Result<(), InvalidValue> {
        if let Some(text) = value.strip_prefix("other:") {
            return if text.trim().is_empty() {
                Err(InvalidValue {
                    message: "`other:` needs a description after the colon".into(),
                    expected: "`other:<what it is>`".into(),
                    suggestion: Some("write e.g. `other:pharmacy technicians`".into()),
                })
            } else {
                Ok(())
            };
        }
        match dim.rule {
            Rule::Language => check_language_tag(value),
            Rule::Currency => check_date(value),
            _ => {
                if dim.values.iter().any(|v| v.id == value) {
                    return Ok(());
                }
                if let Some(p) = dim.patterns.iter().find(|p| value.starts_with(&p.prefix)) {
                    return check_pattern(p, value);
                }
                let mut ids: Vec<&str> = dim.values.iter().map(|v| v.id.as_str()).collect();
                let prefixes: Vec<String> = dim.patterns.iter().map(|p| format!("{}<…>", p.prefix)).collect();
                ids.extend(prefixes.iter().map(String::as_str));
                let mut e = unknown_value(value, &format!("dimension `{}`", dim.id), &ids);
                e.expected.push_str(", or `other:<text>` for a value outside the vocabulary (compared as unknown)");
                Err(e)
            }
        }
    }

    pub fn check_flag_value(&self, flag: &Flag, value: &str) -> Result<(), InvalidValue> {
        if flag.values.iter().any(|v| v.id == value) {
            return Ok(());
        }
        let ids: Vec<&str> = flag.values.iter().map(|v| v.id.as_str()).collect();
        Err(unknown_value(value, &format!("flag `{}`", flag.id), &ids))
    }

    /// Checks a next step such as `run_condition:withheld` or `behavioral_study:rct`.
    pub fn check_next_step(&self, step: &str) -> Result<(), InvalidValue> {
        let (id, param) = match step.split_once(':') {
            Some((id, p)) => (id, Some(p)),
            None => (step, None),
        };
        let ids: Vec<&str> = self.next_steps.iter().map(|s| s.id.as_str()).collect();
        let Some(def) = self.next_steps.iter().find(|s| s.id == id) else {
            return Err(unknown_value(id, "next steps", &ids));
        };
        match (def.parameter.as_deref(), param) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(InvalidValue {
                message: format!("next step `{id}` takes no parameter"),
                expected: format!("`{id}`"),
                suggestion: Some(format!("write `{id}`")),
            }),
            (Some(kind), p) => {
                let (vocab, what): (Vec<&str>, &str) = if kind == "condition" {
                    (self.conditions.iter().map(|c| c.id.as_str()).collect(), "conditions")
                } else {
                    (self.study_designs.iter().map(|d| d.id.as_str()).collect(), "study designs")
                };
                match p {
                    Some(p) if vocab.contains(&p) => Ok(()),
                    Some(p) => Err(unknown_value(p, what, &vocab)),
                    None => Err(InvalidValue {
                        message: format!("next step `{id}` needs a {kind}"),
                        expected: format!("`{id}:<{kind}>`"),
                        suggestion: vocab.first().map(|v| format!("e.g. `{id}:{v}`")),
                    }),
                }
            }
        }
    }
}

pub(crate) fn unknown_value(value: &str, within: &str, ids: &[&str]) -> InvalidValue {
    let expected = if ids.len() <= 12 {
        format!("one of {}", ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", "))
    } else {
        format!("one of the {} values of {within} (see `benchcards taxonomy`)", ids.len())
    };
    InvalidValue {
        message: format!("unknown value `{value}` for {within}"),
        expected,
        suggestion: crate::diag::nearest(value, ids.iter().copied()).map(|s| format!("did you mean `{s}`?")),
    }
}

fn check_pattern(p: &Pattern, value: &str) -> Result<(), InvalidValue> {
    let rest = &value[p.prefix.len()..];
    if rest.len() == 2 && rest.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(InvalidValue {
            message: format!("`{value}` is not `{}` followed by a two-letter ISO 3166-1 code", p.prefix),
            expected: p.definition.clone(),
            suggestion: Some(format!("e.g. `{}{}`", p.prefix, rest.to_ascii_uppercase().chars().take(2).collect::<String>())),
        })
    }
}

/// A BCP-47 language tag, in the subset benchmarks use: language (2–3 letters), optional script
/// (4 letters), optional region (2 letters or 3 digits), optional variants.
pub fn check_language_tag(tag: &str) -> Result<(), InvalidValue> {
    let mut parts = tag.split('-');
    let lang = parts.next().unwrap_or("");
    let ok_lang = (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_alphabetic());
    let ok_rest = parts.all(|p| {
        (p.len() == 4 && p.chars().all(|c| c.is_ascii_alphabetic()))
            || (p.len() == 2 && p.chars().all(|c| c.is_ascii_alphabetic()))
            || (p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()))
            || ((5..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
    });
    if ok_lang && ok_rest {
        Ok(())
    } else {
        Err(InvalidValue {
            message: format!("`{tag}` is not a BCP-47 language tag"),
            expected: "a tag such as `en`, `en-GB`, `pt-BR` or `sw`".into(),
            suggestion: None,
        })
    }
}

/// A date `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, returned as a fractional year for comparisons.
pub fn parse_date(text: &str) -> Option<f64> {
    let parts: Vec<&str> = text.split('-').collect();
    let num = |s: &str, len: usize| (s.len() == len && s.chars().all(|c| c.is_ascii_digit())).then(|| s.parse::<u32>().ok()).flatten();
    let year = num(parts.first()?, 4)?;
    let month = match parts.get(1) {
        Some(m) => num(m, 2).filter(|m| (1..=12).contains(m))?,
        None => 1,
    };
    let day = match parts.get(2) {
        Some(d) => num(d, 2).filter(|d| (1..=31).contains(d))?,
        None => 1,
    };
    if parts.len() > 3 {
        return None;
    }
    Some(year as f64 + (month - 1) as f64 / 12.0 + (day - 1) as f64 / 365.0)
}

/// The UTC calendar date of `t` as `YYYY-MM-DD`. The caller reads the clock; this crate never
/// does.
pub fn utc_date(t: std::time::SystemTime) -> String {
    let days = t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The calendar date of a day count since 1970-01-01 (Hinnant's civil-from-days).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn check_date(text: &str) -> Result<(), InvalidValue> {
    parse_date(text).map(|_| ()).ok_or_else(|| InvalidValue {
        message: format!("`{text}` is not a date"),
        expected: "a date `YYYY`, `YYYY-MM` or `YYYY-MM-DD`".into(),
        suggestion: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn taxonomy_is_consistent() {
        let t = taxonomy();
        let mut seen = HashSet::new();
        for d in &t.dimensions {
            assert!(seen.insert(d.id.as_str()), "duplicate dimension {}", d.id);
            let g = t.group(&d.group).unwrap_or_else(|| panic!("{}: unknown group {}", d.id, d.group));
            assert!(g.dimensions.contains(&d.id), "group {} does not list {}", g.id, d.id);
            t.check_next_step(&d.next_step).unwrap_or_else(|e| panic!("{}: {}", d.id, e.message));
            for q in [&d.question, &d.deployment_question, &d.clinician_question] {
                assert!(q.trim().ends_with(['?', ')', '.']), "{}: `{q}` is not a question", d.id);
            }
            assert_ne!(d.question, d.deployment_question, "{}: the deployment's wording is its own", d.id);
            if d.rule == Rule::Ordinal {
                let demanding = d.demanding.as_deref().unwrap_or_else(|| panic!("{} has no demanding end", d.id));
                assert!(d.values.iter().any(|v| v.id == demanding), "{}: demanding end not a value", d.id);
            } else {
                assert!(d.demanding.is_none() && d.unordered.is_empty(), "{}: ordinal fields on a non-ordinal", d.id);
            }
            for u in &d.unordered {
                assert!(d.values.iter().any(|v| &v.id == u), "{}: unordered {} not a value", d.id, u);
            }
            let mut ids = HashSet::new();
            for v in &d.values {
                assert!(ids.insert(v.id.as_str()), "{}: duplicate value {}", d.id, v.id);
                assert!(!v.definition.trim().is_empty(), "{}.{} lacks a definition", d.id, v.id);
            }
        }
        for g in &t.groups {
            assert!(g.deployment_question.trim().ends_with('?') && g.deployment_question != g.question, "{}", g.id);
        }
        let listed: usize = t.groups.iter().map(|g| g.dimensions.len()).sum();
        assert_eq!(listed, t.dimensions.len(), "every dimension in exactly one group");
        for c in &t.conditions {
            assert!(c.relaxes == "none" || t.group(&c.relaxes).is_some(), "condition {} relaxes unknown group", c.id);
        }
        let v = &t.verdict_scores;
        assert!(
            v.broken < v.broken_cost_measured && v.broken_cost_measured < v.partial,
            "a measured cost scores between broken and partial"
        );
        for r in &t.consistency {
            for side in [&r.when, &r.expects] {
                let d = t.dimension(&side.dimension).unwrap_or_else(|| panic!("consistency: unknown dimension {}", side.dimension));
                for v in &side.values {
                    assert!(d.values.iter().any(|x| &x.id == v), "consistency: {} has no value {v}", d.id);
                }
            }
        }
        assert!(t.mixture_thresholds.partial < t.mixture_thresholds.holds);
    }

    #[test]
    fn a_dimension_without_its_deployment_question_does_not_load() {
        let without: String =
            TAXONOMY_YAML.lines().filter(|l| !l.contains("deployment_question: Who will type")).map(|l| format!("{l}\n")).collect();
        assert_eq!(without.len() + "    deployment_question: Who will type the questions the model answers?\n".len(), TAXONOMY_YAML.len());
        let node = parse(&without, Offset::default(), Limits::default()).unwrap();
        let e = from_node::<Taxonomy>(&node, None).unwrap_err();
        assert!(e.to_string().contains("deployment_question"), "{e}");
    }

    #[test]
    fn taxonomy_covers_spec_groups() {
        let t = taxonomy();
        let ids: Vec<&str> = t.groups.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(
            ids,
            ["query_authorship", "information_completeness", "interaction_type", "task_scope", "decision_mediation", "outcome_validity"]
        );
        assert_eq!(t.dimensions.len(), 24);
        assert_eq!(t.flags.len(), 6);
        assert_eq!(t.dimension_alias("interaction_type").map(|d| d.id.as_str()), Some("interaction_mode"));
    }

    #[test]
    fn values_are_checked_with_suggestions() {
        let t = taxonomy();
        let mode = t.dimension("interaction_mode").unwrap();
        assert!(t.check_dimension_value(mode, "multi_turn_human").is_ok());
        assert!(t.check_dimension_value(mode, "other:video visit").is_ok());
        let e = t.check_dimension_value(mode, "multi-turn-human").unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("did you mean `multi_turn_human`?"));
        assert!(e.expected.contains("`other:<text>`"), "{}", e.expected);
        let j = t.dimension("jurisdiction").unwrap();
        assert!(t.check_dimension_value(j, "country:NG").is_ok());
        assert!(t.check_dimension_value(j, "country:nigeria").is_err());
        let l = t.dimension("language").unwrap();
        assert!(t.check_dimension_value(l, "en-GB").is_ok());
        assert!(t.check_dimension_value(l, "english").is_err());
        let c = t.dimension("currency").unwrap();
        assert!(t.check_dimension_value(c, "2019-06").is_ok());
        assert!(t.check_dimension_value(c, "2019-13").is_err());
        assert!(t.check_next_step("run_condition:withheld").is_ok());
        assert!(t.check_next_step("run_condition:witheld").unwrap_err().suggestion.is_some());
        assert!(t.check_next_step("behavioral_study").is_err());
    }

    #[test]
    fn metadata_of_composed_conditions() {
        let t = taxonomy();
        let cell = t.condition_meta(&["conversation", "withheld"]);
        assert_eq!(cell.relaxes, ["interaction_type", "information_completeness"]);
        assert!(!cell.proxy && cell.unit_source.is_none());
        assert_eq!(t.condition_meta(&["vignette"]).relaxes, Vec::<String>::new());
        assert!(t.condition_meta(&["patient_decision"]).proxy);
        assert_eq!(t.condition_meta(&["no_such_condition"]), ConditionMeta::default());
        // A part's source replaces the vignette's, not another source.
        assert_eq!(t.unit_source(&["vignette", "withheld"]).as_deref(), Some("withheld_facts"));
        assert_eq!(t.unit_source(&["conversation", "withheld"]).as_deref(), Some("simulated_patient"));
        assert_eq!(t.unit_source(&["no_such_condition"]), None);
    }

    #[test]
    fn dates_order() {
        assert!(parse_date("2020-06").unwrap() > parse_date("2020").unwrap());
        assert_eq!(parse_date("2020"), Some(2020.0));
        assert_eq!(parse_date("20-01"), None);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_782), (2026, 11, 25));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(20_782 * 86_400 + 86_399);
        assert_eq!(utc_date(t), "2026-11-25");
        assert_eq!(utc_date(std::time::UNIX_EPOCH), "1970-01-01");
    }
}
