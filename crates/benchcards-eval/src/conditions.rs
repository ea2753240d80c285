//! Conditions as compositions (SPEC §5): where the query comes from × how the interaction runs
//! × whose answer is scored. This module turns a condition and a dataset item into the units to
//! run and the `Flow` of each: one request, a lay rewrite by the model then the question, or a
//! conversation with a simulated patient followed by what is scored; the runner carries flows
//! out.

use crate::dataset::Item;
use crate::grade::fold;
use benchcards_core::personas::{Persona, catalogue};
use benchcards_core::{ConditionSpec, NamedPersona, PatientBehaviour, Scoring};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Message { role: role.into(), content: content.into() }
    }
}

/// How a unit's answer is produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Flow {
    /// One request with these messages.
    Single(Vec<Message>),
    /// The vignette rewritten by the model in a patient's first-person lay words, then asked.
    LayRewrite { vignette: String },
    /// A conversation between the model and a simulated patient holding the vignette; `then`
    /// says what is scored once it ends.
    Conversation {
        vignette: String,
        opening: Option<String>,
        turn_limit: u32,
        behaviour: PatientBehaviour,
        persona: Option<Persona>,
        then: After,
    },
}

/// What follows a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Score the model's final answer (or every assistant message).
    Score(Scoring),
    /// The patient's side of the history in one message, answered single-turn (CRAFT-MD).
    SingleTurn,
    /// The conversation rewritten as a vignette, then answered (CRAFT-MD).
    Summarized,
    /// The simulated patient says what they think they have and where they will go: a proxy.
    PatientDecision,
}

impl Flow {
    /// Flows that replay a conversation run after the conversations themselves, so they find
    /// its requests in the cache instead of sending them twice.
    pub fn phase(&self) -> u8 {
        match self {
            Flow::Conversation { then: After::Score(_), .. } => 0,
            Flow::Conversation { .. } => 1,
            _ => 0,
        }
    }
}

/// One unit of work: an item posed under a condition (a unit per patient query for
/// `patient_query`).
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// Stable id: `item` or `item#q2`.
    pub unit: String,
    pub item: String,
    pub flow: Flow,
}

/// The model's instructions in a conversation.
pub const DOCTOR_SYSTEM: &str = "You are a medical assistant chatting with a member of the public about their health. Ask one short question at a time to understand what is going on. When you are confident, reply starting with \"Final answer:\", then name the most likely condition first and say where they should seek care: look after it at home, a routine GP appointment, urgent primary care today, A&E, or an ambulance.";

/// What the model is told when the turn limit is reached.
pub const DOCTOR_WRAP_UP: &str = "Please give your final answer now, starting with \"Final answer:\".";

/// The simulated patient's instructions (after CRAFT-MD's rules). It sees only the vignette:
/// never the accepted conditions, the disposition or any other gold answer. A persona adds its
/// instructions (`personas.yaml`).
pub fn patient_system(vignette: &str, behaviour: PatientBehaviour, persona: Option<&Persona>) -> String {
    let variant = match behaviour {
        PatientBehaviour::Truthful => "",
        PatientBehaviour::ImperfectRecall => {
            " You are unsure about times and details: give approximate or vague answers about when things started and how long they lasted, and leave out one minor detail unless asked twice."
        }
        PatientBehaviour::Misreporting => {
            " Like many people, you describe one of your symptoms inaccurately in everyday terms (for example calling a racing heart indigestion) until the assistant asks precisely about it."
        }
    };
    let persona = persona.map(|p| catalogue().instructions(p)).filter(|i| !i.is_empty()).map(|i| format!(" {i}")).unwrap_or_default();
    format!(
        "You are a patient using a health chat service. The description below is about you, written to you in the second person. Rules: answer only what you are asked; use one or two sentences; use everyday words, not medical terms; never invent symptoms or facts that are not in the description; if asked about something the description does not cover, say you don't know or haven't noticed; never suggest a diagnosis.{variant}{persona}\n\nDescription:\n{vignette}"
    )
}

pub const PATIENT_OPENING: &str = "Start the conversation: in one or two sentences, say why you are getting in touch.";

pub const PATIENT_DECISION: &str = "The chat is over. In one or two sentences: what do you think you have, and where will you go for care (look after it at home, a routine GP appointment, urgent primary care today, A&E, or an ambulance)?";

pub const LAY_REWRITE: &str = "Rewrite the case below as the first message the person would type to a health chatbot: first person, everyday words, keep every fact, add nothing, and do not name a diagnosis. Reply with the message only.";

pub const SUMMARIZE: &str = "Summarize this conversation as a short clinical case description in the second person (\"You are ...\"), keeping every fact the patient gave and adding nothing. Reply with the description only.";

/// The instruction appended to single-turn inputs. Fixed, so results are comparable across runs.
pub const TASK: &str = "What condition or conditions could explain this, and what should I do: look after it myself at home, see my GP routinely, get urgent primary care today, go to A&E, or call an ambulance? Name the most likely condition first.";

/// Sentences of `text`: a run of `.`, `!` or `?` ends one, text after the last is one more, and
/// a piece without a letter or digit is none. The one sentence splitter (`measure` counts these).
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_ends = chars.peek().is_some_and(|(_, n)| matches!(n, '.' | '!' | '?'));
        if matches!(c, '.' | '!' | '?') && !next_ends {
            let end = i + c.len_utf8();
            out.push(text[start..end].trim());
            start = end;
        }
    }
    out.push(text[start..].trim());
    out.retain(|s| s.chars().any(char::is_alphanumeric));
    out
}

/// The vignette with every sentence that states a key fact removed (the key fact's words all
/// present in the sentence, after case and diacritic folding).
pub fn withhold(vignette: &str, key_facts: &[String]) -> String {
    let facts: Vec<Vec<String>> =
        key_facts.iter().map(|f| fold(f).split_whitespace().filter(|w| w.len() > 3).map(str::to_string).collect()).collect();
    sentences(vignette)
        .into_iter()
        .filter(|s| {
            let fs = fold(s);
            !facts.iter().any(|words| !words.is_empty() && words.iter().filter(|w| fs.contains(w.as_str())).count() * 2 > words.len())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditionError {
    #[error("unknown condition `{0}`")]
    Unknown(String),
}

/// The personas a condition's simulated patients take: the one it names, the design's, or
/// none (the rules alone). `extra` are the plan's own named personas.
pub fn personas_of(spec: &ConditionSpec, extra: &[NamedPersona]) -> Result<Vec<Persona>, String> {
    let c = catalogue();
    match (&spec.persona, &spec.personas) {
        (Some(name), _) => Ok(vec![c.named(name, extra)?]),
        (None, Some(design)) => c.design(design, extra),
        (None, None) => Ok(Vec::new()),
    }
}

/// The units of one item under one condition (empty when the item has nothing to pose, e.g. no
/// patient queries). A conversation is posed once per persona of `personas` (its unit
/// `ITEM@PERSONA`), or once with the rules alone when there are none.
pub fn units(spec: &ConditionSpec, item: &Item, personas: &[Persona]) -> Result<Vec<Unit>, ConditionError> {
    // A factorial cell applies its `with` parts to the base condition: the case loses its key
    // facts (`withheld`), the question its options (`options_removed`), the request gains the
    // deployment's system prompt (`framed`).
    if spec.has("withheld") && item.gold.key_facts.is_empty() {
        return Ok(Vec::new());
    }
    let case = if spec.has("withheld") { withhold(&item.vignette, &item.gold.key_facts) } else { item.vignette.clone() };
    let question = |text: &str| {
        if item.gold.options.is_empty() || spec.has("options_removed") {
            format!("{text}\n\n{TASK}")
        } else {
            let opts: Vec<String> =
                item.gold.options.iter().enumerate().map(|(i, o)| format!("{}) {o}", (b'A' + i as u8) as char)).collect();
            format!("{text}\n\nWhich of the following is the most likely diagnosis?\n{}", opts.join("\n"))
        }
    };
    let single = |content: String| {
        let mut messages = Vec::new();
        if spec.has("framed") {
            messages.push(Message::new("system", spec.system_prompt.clone().unwrap_or_default()));
        }
        // An item that is a conversation so far is posed as it is (its own last question).
        if item.messages.is_empty() {
            messages.push(Message::new("user", content));
        } else {
            messages.extend(item.messages.iter().cloned());
        }
        vec![Unit { unit: item.id.clone(), item: item.id.clone(), flow: Flow::Single(messages) }]
    };
    let conversation = |then: After| {
        let posed: Vec<Option<&Persona>> = if personas.is_empty() { vec![None] } else { personas.iter().map(Some).collect() };
        posed
            .into_iter()
            .map(|p| Unit {
                unit: p.map_or_else(|| item.id.clone(), |p| format!("{}@{}", item.id, p.id)),
                item: item.id.clone(),
                flow: Flow::Conversation {
                    vignette: case.clone(),
                    opening: item.patient_queries.first().cloned(),
                    turn_limit: spec.turn_limit.unwrap_or(10),
                    behaviour: spec.patient.unwrap_or(PatientBehaviour::Truthful),
                    persona: p.cloned(),
                    then,
                },
            })
            .collect::<Vec<_>>()
    };
    Ok(match spec.id.as_str() {
        "vignette" | "options_removed" | "withheld" | "framed" => single(question(&case)),
        "patient_query" => item
            .patient_queries
            .iter()
            .enumerate()
            .map(|(i, q)| Unit {
                unit: format!("{}#q{}", item.id, i + 1),
                item: item.id.clone(),
                flow: Flow::Single(vec![Message::new("user", q.clone())]),
            })
            .collect(),
        "lay_rewrite" => vec![Unit { unit: item.id.clone(), item: item.id.clone(), flow: Flow::LayRewrite { vignette: case.clone() } }],
        "conversation" => conversation(After::Score(spec.scoring.unwrap_or(Scoring::FinalAnswer))),
        "singleturn" => conversation(After::SingleTurn),
        "summarized" => conversation(After::Summarized),
        "patient_decision" => conversation(After::PatientDecision),
        // Imported from the plan's study file (`human`), never posed to a model.
        "human_study" => Vec::new(),
        other => return Err(ConditionError::Unknown(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Gold;

    fn item() -> Item {
        Item {
            id: "a".into(),
            vignette: "You are 40. You have chest pain when breathing in. You flew back from Australia last week. You like gardening."
                .into(),
            patient_queries: vec!["my chest hurts".into(), "pain when i breathe".into()],
            stratum: None,
            gold: Gold { key_facts: vec!["chest pain when breathing in".into(), "flew back from Australia".into()], ..Default::default() },
            ..Item::default()
        }
    }

    fn units_of(spec: &ConditionSpec, item: &Item) -> Result<Vec<Unit>, ConditionError> {
        units(spec, item, &[])
    }

    fn spec(id: &str) -> ConditionSpec {
        ConditionSpec {
            id: id.into(),
            label: None,
            turn_limit: None,
            patient: None,
            persona: None,
            personas: None,
            scoring: None,
            system_prompt: Some("You are a helpful NHS assistant.".into()),
            with: Vec::new(),
        }
    }

    #[test]
    fn compositions() {
        let first = |u: &[Unit]| match &u[0].flow {
            Flow::Single(m) => m.clone(),
            other => panic!("{other:?}"),
        };
        let v = units_of(&spec("vignette"), &item()).unwrap();
        assert!(first(&v)[0].content.ends_with(TASK));
        let w = units_of(&spec("withheld"), &item()).unwrap();
        assert_eq!(first(&w)[0].content, format!("You are 40. You like gardening.\n\n{TASK}"));
        let q = units_of(&spec("patient_query"), &item()).unwrap();
        assert_eq!(q.iter().map(|u| u.unit.as_str()).collect::<Vec<_>>(), ["a#q1", "a#q2"]);
        assert_eq!(first(&q[1..])[0].content, "pain when i breathe", "the patient's words, alone");
        let f = units_of(&spec("framed"), &item()).unwrap();
        assert_eq!(first(&f)[0].role, "system");
        let c = units_of(&spec("conversation"), &item()).unwrap();
        assert!(
            matches!(&c[0].flow, Flow::Conversation { opening: Some(o), turn_limit: 10, then: After::Score(Scoring::FinalAnswer), .. } if o == "my chest hurts")
        );
        assert_eq!(units_of(&spec("patient_decision"), &item()).unwrap()[0].flow.phase(), 1);
        assert!(units_of(&spec("human_study"), &item()).unwrap().is_empty(), "imported, not posed");
        let p = patient_system(&item().vignette, PatientBehaviour::Misreporting, None);
        assert!(p.contains("Description:\nYou are 40.") && p.contains("inaccurately"));
    }

    #[test]
    fn a_conversation_so_far_is_posed_as_it_is() {
        let messages =
            vec![Message::new("user", "my heart flutters"), Message::new("assistant", "When?"), Message::new("user", "at night")];
        let it = Item { messages: messages.clone(), ..item() };
        let flow = |id: &str| units_of(&spec(id), &it).unwrap().remove(0).flow;
        assert_eq!(flow("vignette"), Flow::Single(messages.clone()), "no task appended: the last turn is the question");
        let Flow::Single(framed) = flow("framed") else { panic!() };
        assert_eq!((framed[0].role.as_str(), &framed[1..]), ("system", &messages[..]));
    }

    #[test]
    fn factorial_cells_apply_their_parts_on_top_of_the_base() {
        let cell = |id: &str, with: &[&str]| ConditionSpec { with: with.iter().map(|w| w.to_string()).collect(), ..spec(id) };
        let mcq = Item { gold: Gold { options: vec!["Pleurisy".into(), "Pulmonary embolism".into()], ..item().gold }, ..item() };
        let single = |u: Vec<Unit>| match u.into_iter().next().map(|u| u.flow) {
            Some(Flow::Single(m)) => m,
            other => panic!("{other:?}"),
        };
        // Withheld facts and no options, together.
        let m = single(units_of(&cell("options_removed", &["withheld"]), &mcq).unwrap());
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].content, format!("You are 40. You like gardening.\n\n{TASK}"));
        // The options stay when only the facts go; the system prompt comes with `framed`.
        let m = single(units_of(&cell("framed", &["withheld"]), &mcq).unwrap());
        assert_eq!(m[0].role, "system");
        assert!(
            m[1].content.starts_with("You are 40. You like gardening.\n\nWhich of the following") && m[1].content.contains("B) Pulmonary")
        );
        // The simulated patient holds the case without its key facts.
        let c = units_of(&cell("conversation", &["withheld"]), &item()).unwrap();
        assert!(matches!(&c[0].flow, Flow::Conversation { vignette, .. } if vignette == "You are 40. You like gardening."));
        // An item without key facts has nothing to withhold.
        let bare = Item { gold: Gold::default(), ..item() };
        assert!(units_of(&cell("conversation", &["withheld"]), &bare).unwrap().is_empty());
        assert_eq!(cell("conversation", &["withheld"]).name(), "conversation+withheld");
    }
}
