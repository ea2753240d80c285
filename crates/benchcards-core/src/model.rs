//! The file types: BenchmarkCard, DeploymentProfile and Plan (SPEC §2, §4). Field docs become
//! the descriptions in the generated JSON Schemas, which editors show on hover.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// A dimension's value: one vocabulary value, a set of values, or a mixture with shares.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    One(String),
    Set(Vec<String>),
    Mixture(Vec<(String, f64)>),
}

impl Value {
    /// The vocabulary values mentioned, in order.
    pub fn ids(&self) -> Vec<&str> {
        match self {
            Value::One(v) => vec![v.as_str()],
            Value::Set(vs) => vs.iter().map(String::as_str).collect(),
            Value::Mixture(m) => m.iter().map(|(v, _)| v.as_str()).collect(),
        }
    }
    /// Human-readable form: `a`, `a, b`, `a 70%, b 30%`.
    pub fn display(&self) -> String {
        match self {
            Value::One(v) => v.clone(),
            Value::Set(vs) => vs.join(", "),
            Value::Mixture(m) => m.iter().map(|(v, s)| format!("{v} {}%", fmt_share(*s))).collect::<Vec<_>>().join(", "),
        }
    }
}

fn fmt_share(share: f64) -> String {
    let pct = share * 100.0;
    if (pct - pct.round()).abs() < 1e-9 { format!("{pct:.0}") } else { format!("{pct:.1}") }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::One(v) => s.serialize_str(v),
            Value::Set(vs) => vs.serialize(s),
            Value::Mixture(m) => {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, a list of values, or a mapping of values to shares")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::One(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::One(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<String>()? {
                    out.push(v);
                }
                Ok(Value::Set(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, f64>()? {
                    out.push((k, v));
                }
                Ok(Value::Mixture(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Value {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Value".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "One vocabulary value, a list of values (sets), or a mapping of values to shares summing to 1 (mixtures).",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" } },
                { "type": "object", "additionalProperties": { "type": "number", "minimum": 0, "maximum": 1 } }
            ]
        })
    }
}

/// Where a fact comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// URL (or citation) of the paper, repository or dataset card.
    pub source: String,
    /// Where in the source: section, table, figure, file.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// A short quote or close paraphrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// How a card's value is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    /// The benchmark's paper, repository or dataset card says so.
    Stated,
    /// Deduced from what the sources say, not said outright.
    Inferred,
    /// Measured on the benchmark's data.
    Measured,
    /// The sources do not say (an unstated assumption is itself a finding).
    NotSpecified,
    /// The dimension does not apply to this benchmark.
    NotApplicable,
}

/// How a deployment's value is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProfileStatus {
    /// Declared by the deployment team.
    Declared,
    /// Measured from the deployment's logs (`benchcards measure`).
    Measured,
    /// Not known: the dimension is listed but not assessed.
    NotSpecified,
    /// The dimension does not apply to this deployment.
    NotApplicable,
}

/// The verdict on one assumption for one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Holds,
    Partial,
    Broken,
    Unknown,
    NotAssessed,
}

/// How much a group of assumptions matters to a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Weight {
    Critical,
    High,
    #[default]
    Normal,
    Low,
}

impl Weight {
    /// The name as written in files.
    pub fn name(self) -> &'static str {
        match self {
            Weight::Critical => "critical",
            Weight::High => "high",
            Weight::Normal => "normal",
            Weight::Low => "low",
        }
    }
}

/// The benchmark's (or the deployment's) value for one assumption dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CardDimension {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    pub status: CardStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// The designer's answer to the dimension's question, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// A measured result for one assumption: the score under the benchmark's condition and under a
/// condition that relaxes the assumption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tested {
    /// The group (or dimension) whose assumption was relaxed.
    pub assumption: String,
    /// Condition the drop is measured from (e.g. `vignette`).
    pub from: String,
    /// Condition that relaxes the assumption (e.g. `patient_query`).
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Drop in percentage points (from − to); negative when the relaxed condition scores higher.
    pub drop: f64,
    /// 95% interval of the drop in points, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// Number of units (items, conversations or participants) per condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
    /// A run id when measured by benchcards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The score under the relaxed condition, in percent. When that condition scores people's
    /// own decisions (`human_study`), it is the bottom line the clinician brief states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_score: Option<f64>,
    /// People deciding without the model (a control arm), on the same metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlArm>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

/// The control arm of a study: people deciding without the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlArm {
    /// Score in percent.
    pub score: f64,
    /// Participants' answers in the arm.
    pub n: u64,
}

/// Facts about the dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DatasetFacts {
    /// Number of items in the evaluation set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who collected or assembled the items (which may differ from who wrote them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A BenchmarkCard: the assumptions one benchmark makes. Lives under the top-level key
/// `benchcard:` of a YAML file or of a Markdown file's front matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// Format version; always 1.
    pub version: u32,
    /// Stable identifier, lowercase with hyphens (e.g. `medqa-usmle`).
    pub id: String,
    pub name: String,
    /// The benchmark's own version or release, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark_version: Option<String>,
    pub citation: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// The dataset's licence (SPDX id where possible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Who wrote this card.
    pub card_author: String,
    /// Whether the benchmark's designers endorse this card.
    pub designer_endorsed: bool,
    /// What the benchmark is meant to evaluate, in the designers' words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetFacts>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    /// One entry per taxonomy dimension, keyed by dimension id.
    pub dimensions: IndexMap<String, CardDimension>,
    /// Quality flags, keyed by flag id (shown, not compared).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub flags: IndexMap<String, CardDimension>,
    /// Results already measured for an assumption.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tested: Vec<Tested>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The deployment's value for one dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileDimension {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    pub status: ProfileStatus,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How much a group of assumptions matters at this deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSetting {
    #[serde(default)]
    pub weight: Weight,
    /// The largest drop (in percentage points) the deployment accepts when this group's
    /// assumption is relaxed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
}

/// A verdict set by hand for one card and dimension, with its justification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Card id.
    pub card: String,
    /// The card's `benchmark_version` the override was made for (absent: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_version: Option<String>,
    pub dimension: String,
    pub verdict: Verdict,
    pub justification: String,
}

/// A DeploymentProfile: the context a model will be used in. Lives under `deployment:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Format version; always 1.
    pub version: u32,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Date the profile describes (`YYYY-MM-DD`); currency is judged against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<String>,
    /// Per dimension: the value at deployment.
    pub dimensions: IndexMap<String, ProfileDimension>,
    /// Per group: weight and tolerance.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub groups: IndexMap<String, GroupSetting>,
    /// Stratum weights of the deployment's case mix, summing to 1.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub case_mix: IndexMap<String, f64>,
    /// The deployment's users by persona axis (`proficiency: {fluent: 0.7, basic: 0.3}`):
    /// results over a persona design are standardised to it.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub persona_mix: IndexMap<String, IndexMap<String, f64>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

impl Profile {
    /// Each group's tolerance, for the groups that give one, in the profile's order.
    pub fn tolerances(&self) -> Vec<(String, f64)> {
        self.groups.iter().filter_map(|(g, s)| s.tolerance.map(|t| (g.clone(), t))).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Any OpenAI-compatible chat-completions endpoint.
    Openai,
    /// The embedded local model (SmolLM2-135M-Instruct).
    Local,
    /// A deterministic mock, for tests.
    Mock,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Sampling {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// Prices per million tokens, for cost accounting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Name used in results (the logical model).
    pub id: String,
    pub provider: Provider,
    /// The model name sent to the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// One or more base URLs serving the same model (a fleet); requests are spread across them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_urls: Vec<String>,
    /// Name of the environment variable holding the API key (never the key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub sampling: Sampling,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
    /// A demonstration model whose numbers show the pipeline works, not how a real model
    /// performs; reports label its figures as such. The embedded local model always is one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    /// `false` for a model that only judges or plays the patient: it answers no item.
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub under_test: bool,
}

impl ModelSpec {
    /// Whether reports must label this model's numbers as a demonstration.
    pub fn is_demo(&self) -> bool {
        self.demo || self.provider == Provider::Local
    }

    /// What these tokens cost, when it is known: at the model's `pricing`, or nothing for the
    /// embedded and mock models; unknown for an endpoint without `pricing`.
    pub fn known_cost(&self, prompt_tokens: i64, completion_tokens: i64) -> Option<f64> {
        (self.pricing.is_some() || self.provider != Provider::Openai).then(|| self.cost(prompt_tokens, completion_tokens))
    }

    /// What these tokens cost at the model's `pricing` (zero without one).
    pub fn cost(&self, prompt_tokens: i64, completion_tokens: i64) -> f64 {
        self.pricing
            .as_ref()
            .map_or(0.0, |p| (prompt_tokens as f64 * p.input_per_mtok + completion_tokens as f64 * p.output_per_mtok) / 1e6)
    }
}

/// How a conversation condition scores the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// The model's final answer.
    FinalAnswer,
    /// Any assistant message (as Bean et al. scored the model in real chats).
    AnyAssistantMessage,
}

/// How the simulated patient behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum PatientBehaviour {
    /// CRAFT-MD rules: answers only what is asked, truthfully, in lay words.
    Truthful,
    /// Forgets or blurs some facts.
    ImperfectRecall,
    /// Misreports some facts.
    Misreporting,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// Condition id from the taxonomy (`vignette`, `conversation`, ...).
    pub id: String,
    /// Label used in results when a condition appears twice with different settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Most assistant turns in a conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<PatientBehaviour>,
    /// The simulated patient's persona, by name (`personas.yaml`, or the plan's `personas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<String>,
    /// A design over personas: every item is posed once per persona, and the results carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personas: Option<PersonaDesign>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scoring: Option<Scoring>,
    /// The deployment's system prompt, for `framed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// Other conditions' changes applied on top of this one, making a cell of a factorial
    /// design (for Shapley values): `withheld` (key facts removed from the case the model or the
    /// simulated patient holds), `options_removed`, `framed` (with `system_prompt`). The cell
    /// relaxes every assumption its parts relax.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<String>,
}

/// The conditions whose change can be applied on top of another (`with:`), and the base
/// conditions each composes with.
pub const COMPOSABLE: &[(&str, &[&str])] = &[
    ("withheld", &["vignette", "options_removed", "framed", "lay_rewrite", "conversation", "singleturn", "summarized", "patient_decision"]),
    ("options_removed", &["vignette", "withheld", "framed"]),
    ("framed", &["vignette", "withheld", "options_removed"]),
];

impl ConditionSpec {
    /// The name results use: the label, else the id with its `with` parts (`vignette+withheld`).
    pub fn name(&self) -> String {
        match &self.label {
            Some(l) => l.clone(),
            None if self.with.is_empty() => self.id.clone(),
            None => format!("{}+{}", self.id, self.with.join("+")),
        }
    }

    /// Whether this condition is, or applies, `part`.
    pub fn has(&self, part: &str) -> bool {
        self.id == part || self.with.iter().any(|w| w == part)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum GraderKind {
    /// Names at least one accepted condition.
    Conditions,
    /// Care disposition on the five-level scale.
    Disposition,
    /// Multiple choice.
    Mcq,
    /// An LLM judge with a rubric.
    Judge,
    /// The item's own rubric (HealthBench-style): one judge call per criterion, met or not;
    /// score = points met ÷ positive points, clipped to 0–1, and the same per tag.
    Rubric,
}

/// How a panel of judges' verdicts on one criterion are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// Met when more than half of the judges say so (a tie is not met).
    #[default]
    Majority,
    /// Each criterion counts the share of judges who say it is met.
    Mean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum GraderMode {
    /// Reproduces Bean et al.'s fuzzy substring matcher exactly.
    Bean,
    /// Word boundaries and negation scope.
    Strict,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraderSpec {
    pub kind: GraderKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<GraderMode>,
    /// Fuzzy-match threshold, 0–100 (Bean et al. use 80).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u8>,
    /// Rubric for the judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rubric: Option<String>,
    /// Model id (from `models`) that judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_model: Option<String>,
    /// `rubric`: a panel of judges (model ids from `models`), instead of `judge_model`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub judges: Vec<String>,
    /// `rubric` with a panel: how the judges' verdicts on a criterion are combined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine: Option<Combine>,
}

impl GraderSpec {
    /// A grader of `kind` with nothing else set.
    pub fn new(kind: GraderKind) -> Self {
        GraderSpec { kind, mode: None, threshold: None, rubric: None, judge_model: None, judges: Vec::new(), combine: None }
    }

    /// The grader's name in run stores and results: its kind, with its mode and threshold
    /// (`conditions:bean@80`) or its judge (`judge:MODEL`).
    pub fn name(&self) -> String {
        match self.kind {
            GraderKind::Conditions => match self.mode.unwrap_or(GraderMode::Bean) {
                GraderMode::Bean => format!("conditions:bean@{}", self.threshold.unwrap_or(80)),
                GraderMode::Strict => "conditions:strict".into(),
            },
            GraderKind::Disposition => "disposition".into(),
            GraderKind::Mcq => "mcq".into(),
            GraderKind::Judge => format!("judge:{}", self.judge_model.as_deref().unwrap_or("?")),
            GraderKind::Rubric => match self.panel().as_slice() {
                [one] => format!("rubric:{one}"),
                panel => format!("rubric:{}:{}", panel.join("+"), if self.combine == Some(Combine::Mean) { "mean" } else { "majority" }),
            },
        }
    }

    /// The models that judge for this grader: `judge_model`, then a rubric's `judges` (none
    /// for the graders that read the response themselves).
    pub fn panel(&self) -> Vec<&str> {
        match self.kind {
            GraderKind::Judge => self.judge_model.iter().map(String::as_str).collect(),
            GraderKind::Rubric => self.judge_model.iter().chain(&self.judges).map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost_usd: Option<f64>,
}

/// Imported human-study data (one row per participant × scenario).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HumanStudy {
    /// CSV or JSONL file, relative to the plan: one row per participant × scenario, with the
    /// participant's own answer.
    pub path: String,
    /// The arm without the model (usual resources); its rows become `human_study:ARM` like the
    /// others, and serve as the decomposition's reference line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_arm: Option<String>,
    /// Column names, when they differ from `participant`, `item`, `arm`, `response`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<HumanStudyColumns>,
    /// Whether the file holds participants' own words, to be handled as patient data: a judge
    /// not on this machine never sees them unless `--allow-phi-to-remote` is given. Default
    /// true; `false` only for data known to hold nothing about anyone.
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub contains_phi: bool,
}

fn is_yes(b: &bool) -> bool {
    *b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HumanStudyColumns {
    #[serde(default = "participant_col")]
    pub participant: String,
    #[serde(default = "item_col")]
    pub item: String,
    #[serde(default = "arm_col")]
    pub arm: String,
    #[serde(default = "response_col")]
    pub response: String,
}

fn participant_col() -> String {
    "participant".into()
}
fn item_col() -> String {
    "item".into()
}
fn arm_col() -> String {
    "arm".into()
}
fn response_col() -> String {
    "response".into()
}

impl Default for HumanStudyColumns {
    fn default() -> Self {
        HumanStudyColumns { participant: participant_col(), item: item_col(), arm: arm_col(), response: response_col() }
    }
}

/// A Plan: a staged evaluation. Lives under `plan:`. Paths are relative to the plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Format version; always 1.
    pub version: u32,
    pub id: String,
    /// Path of the benchmark's card.
    pub card: String,
    /// Path of the deployment profile.
    pub deployment: String,
    /// Path of the dataset: benchcards' own JSONL, or another benchmark's file as published
    /// with `dataset_format`.
    pub dataset: String,
    /// The format of `dataset` when it is another benchmark's file as published, read as
    /// `benchcards dataset import --from FORMAT` reads it, at every run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_format: Option<DatasetFormat>,
    /// With `dataset_format: generic`: which column holds each item field (`id: qid`), as
    /// `dataset import --map`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub dataset_map: IndexMap<String, String>,
    pub models: Vec<ModelSpec>,
    pub conditions: Vec<ConditionSpec>,
    pub graders: Vec<GraderSpec>,
    /// Repetitions of each item per condition.
    #[serde(default = "one")]
    pub epochs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_study: Option<HumanStudy>,
    /// Model id (from `models`) that plays the simulated patient; default: each model plays its
    /// own patient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient_model: Option<String>,
    /// Named personas of the plan's own, beside `personas.yaml`'s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub personas: Vec<NamedPersona>,
    /// Checks of every simulated conversation against its case: invented statements,
    /// volunteered key facts, persona consistency (by a judge) and a leaked diagnosis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fidelity: Option<Fidelity>,
    /// Stage 4: studies with people for outcome assumptions, highest priority first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub studies: Vec<StudySpec>,
    /// The study `benchcards study serve` runs with people: arms, scenarios, questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<Box<StudyDesign>>,
    /// Questions for the benchmark's designers, one per assumption the card leaves unstated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<DesignerQuestion>,
    /// What the plan's author still has to decide or supply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Whether a condition's samples are conversations with a simulated patient.
pub fn simulates_patient(condition: &str) -> bool {
    matches!(condition, "conversation" | "singleturn" | "summarized" | "patient_decision")
}

/// A named persona: the values it takes on the axes it changes (`personas.yaml` lists the axes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamedPersona {
    pub id: String,
    #[serde(default)]
    pub values: IndexMap<String, String>,
}

/// How a condition's simulated patients vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonaDesignKind {
    /// Every combination of the values of `axes`.
    Factorial,
    /// `n` distinct personas drawn from every combination of every axis, with `seed`.
    Sample,
    /// The personas `names` lists.
    Named,
}

/// A design over personas: each item is posed once per persona.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonaDesign {
    pub design: PersonaDesignKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub axes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// How simulated conversations are checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fidelity {
    /// Model id (from `models`) that judges the conversations.
    pub judge_model: String,
}

/// A benchmark's file as published, read into benchcards items (`dataset import --from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum DatasetFormat {
    Craftmd,
    Medqa,
    Medmcqa,
    Headqa,
    Mediq,
    Agentclinic,
    Healthbench,
    Generic,
}

/// A stage-4 study skeleton: what a behavioural study or trial must settle, and what its power
/// calculation needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StudySpec {
    /// The outcome group it tests.
    pub group: String,
    /// 1 is the most urgent.
    pub priority: u32,
    /// Study design from the taxonomy (`rct`, `crossover`, ...).
    pub design: String,
    pub question: String,
    pub primary_outcome: String,
    pub arms: Vec<String>,
    /// The arm without the model: the counterfactual.
    pub control_arm: String,
    /// Inputs `benchcards study power` needs.
    pub power_inputs: Vec<String>,
    pub rationale: String,
}

/// A randomized study with people (stage 4), run by `benchcards study serve`: each participant
/// is allocated one arm and reads a few of the dataset's scenarios ("imagine you are…"), talks
/// with the arm's model or follows the control arm's instructions, then answers the outcome
/// questions. Its export is the plan's `human_study` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StudyDesign {
    /// Two or more arms; at most one without a model (the control).
    pub arms: Vec<StudyArm>,
    /// Dataset item ids shown as scenarios; empty: every item with a vignette.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<String>,
    /// Scenarios each participant completes (drawn so each scenario is seen equally often).
    #[serde(default = "one")]
    pub scenarios_per_participant: u32,
    #[serde(default)]
    pub allocation: StudyAllocation,
    #[serde(default)]
    pub questions: OutcomeQuestions,
    /// Shown first; taking part means agreeing to it.
    pub consent: String,
    /// Shown after consent, before the comprehension check.
    pub instructions: String,
    /// Questions about the instructions; a wrong answer shows the instructions again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comprehension: Vec<CheckQuestion>,
    /// Questions with one plain answer, placed after the scenarios; failures are counted, not
    /// excluded silently.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<CheckQuestion>,
    /// Minutes a participant has from consent to completion.
    #[serde(default = "study_minutes")]
    pub time_limit_minutes: u32,
    /// Participants wanted in all (from `benchcards study power`), shown against enrolment.
    pub target_participants: u32,
    /// How the target was sized: the `benchcards study power` command and its inputs' sources
    /// (`study register` records it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<String>,
    pub completion: StudyCompletion,
    /// The recruitment platform's query parameters kept from the entry link (e.g. Prolific's
    /// `PROLIFIC_PID`, `STUDY_ID`, `SESSION_ID`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recruitment_ids: Vec<String>,
    /// Store the recruitment ids as given instead of as a keyed hash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recruitment_ids_in_clear: bool,
    /// Whether the export is patient data (default true: participants may tell their own).
    #[serde(default = "yes")]
    pub contains_phi: bool,
    #[serde(default)]
    pub limits: ParticipantLimits,
}

/// One arm: a model from the plan (with an optional system prompt), or a control arm with
/// written instructions and no model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StudyArm {
    pub id: String,
    /// A model id from the plan's `models`; none for the control arm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// What the participant is told to do in this arm (required for the control arm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// Permuted blocks, stratified by the participant's scenarios, so arms stay balanced within
/// each scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StudyAllocation {
    /// Arms per block, a multiple of the number of arms (0: twice the number of arms).
    #[serde(default)]
    pub block_size: u32,
    /// Seed of the allocation sequence; `study register` records it.
    #[serde(default = "allocation_seed")]
    pub seed: u64,
}

impl Default for StudyAllocation {
    fn default() -> Self {
        StudyAllocation { block_size: 0, seed: allocation_seed() }
    }
}

/// The outcome questions asked after each scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeQuestions {
    /// The conditions the participant thinks likely, in free text: at most this many (1–3).
    #[serde(default = "three")]
    pub conditions: u32,
    /// The level of care, on the dataset's five-level disposition scale.
    #[serde(default = "yes")]
    pub disposition: bool,
    /// Confidence in the answer, 1–5.
    #[serde(default = "yes")]
    pub confidence: bool,
}

impl Default for OutcomeQuestions {
    fn default() -> Self {
        OutcomeQuestions { conditions: three(), disposition: true, confidence: true }
    }
}

/// A multiple-choice check with one right answer (its position in `options`, from 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckQuestion {
    pub question: String,
    pub options: Vec<String>,
    pub answer: usize,
}

/// What a participant gets at the end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StudyCompletion {
    /// The completion code shown (and passed to the redirect as `{code}`).
    pub code: String,
    /// Where to send the participant, e.g.
    /// `https://app.prolific.com/submissions/complete?cc={code}`; `{NAME}` is replaced by the
    /// recruitment id of that name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<String>,
}

/// Per-participant limits of a public study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantLimits {
    #[serde(default = "messages_per_scenario")]
    pub messages_per_scenario: u32,
    #[serde(default = "message_chars")]
    pub message_chars: u32,
    #[serde(default = "requests_per_minute")]
    pub requests_per_minute: u32,
}

impl Default for ParticipantLimits {
    fn default() -> Self {
        ParticipantLimits {
            messages_per_scenario: messages_per_scenario(),
            message_chars: message_chars(),
            requests_per_minute: requests_per_minute(),
        }
    }
}

fn study_minutes() -> u32 {
    60
}
fn allocation_seed() -> u64 {
    1
}
fn three() -> u32 {
    3
}
fn yes() -> bool {
    true
}
fn messages_per_scenario() -> u32 {
    20
}
fn message_chars() -> u32 {
    2000
}
fn requests_per_minute() -> u32 {
    30
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignerQuestion {
    pub dimension: String,
    pub question: String,
}

fn one() -> u32 {
    1
}
