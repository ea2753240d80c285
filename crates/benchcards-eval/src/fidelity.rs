//! Whether a simulated patient stayed faithful to its case. Four checks per conversation, each
//! stored as a grade of its own (1 is faithful) so `runs show` summarises them per condition
//! with intervals, and `runs export --exclude-unfaithful` leaves out what failed any:
//!
//! - `fidelity:invented` (a judge): a statement of the patient's the case does not support;
//! - `fidelity:volunteered` (a judge, for items with key facts): a key fact stated although the
//!   model's message before did not ask about it;
//! - `fidelity:persona` (a judge): how consistently the patient kept to the persona it was given,
//!   rated 1 to 4 as PatientSim rates it, stored as (rating − 1) / 3; 2 or less is unfaithful;
//! - `fidelity:leak` (no judge): the case the patient holds, or a message of the patient's, names
//!   an accepted condition (the strict matcher: whole words, negations not counted).
//!
//! The judges' requests go through the run's cache, retries and concurrency; a reply that
//! cannot be read is a failure (`fidelity:KEY`), never a pass.

use crate::conditions::{DOCTOR_WRAP_UP, Message, patient_system};
use crate::dataset::Item;
use crate::grade::{Grade, strict_match};
use benchcards_core::PatientBehaviour;
use serde_json::Value;

/// The graders fidelity checks write, in the order they are asked.
pub const CHECKS: [&str; 4] = ["fidelity:invented", "fidelity:volunteered", "fidelity:persona", "fidelity:leak"];

/// The conversation itself from a run's transcript or a log: no system message, and nothing
/// after the model's final answer or the request for it (what a condition does afterwards is
/// not the patient's).
pub fn exchange(messages: &[Message]) -> Vec<Message> {
    let mut out = Vec::new();
    for m in messages.iter().filter(|m| m.role != "system") {
        if m.role == "user" && m.content == DOCTOR_WRAP_UP {
            break;
        }
        out.push(m.clone());
        if m.role == "assistant" && m.content.to_lowercase().contains("final answer") {
            break;
        }
    }
    out
}

/// The persona a behaviour (and persona) asks the patient to keep, in words a judge can check
/// against.
pub fn persona(behaviour: PatientBehaviour, persona: Option<&benchcards_core::personas::Persona>) -> String {
    // The patient's own instructions, without the case.
    let rules = patient_system("", behaviour, persona);
    rules.split("\n\nDescription:").next().unwrap_or(&rules).trim().to_string()
}

/// The conversation with the patient's messages numbered; the first marked when a person
/// wrote it (an item's real opening message), since the simulator did not.
fn numbered(exchange: &[Message], first_is_real: bool) -> String {
    let mut n = 0;
    let lines: Vec<String> = exchange
        .iter()
        .map(|m| {
            if m.role == "user" {
                n += 1;
                let by = if n == 1 && first_is_real { ", written by a real person: do not flag it" } else { "" };
                format!("[patient {n}{by}] {}", m.content.trim())
            } else {
                format!("[assistant] {}", m.content.trim())
            }
        })
        .collect();
    lines.join("\n")
}

/// The judge's requests for one conversation: `(check, messages)` for invented statements,
/// volunteered key facts (when the item has key facts) and persona consistency. `case` is what
/// the patient was given.
pub fn requests(exchange: &[Message], case: &str, item: &Item, persona: &str) -> Vec<(&'static str, Vec<Message>)> {
    let first_is_real = exchange.iter().find(|m| m.role == "user").is_some_and(|m| item.patient_queries.contains(&m.content));
    let conversation = numbered(exchange, first_is_real);
    let flags = "Reply with JSON only: {\"flags\": [{\"message\": N, \"text\": \"...\"}]}, N the patient message's number; an empty list when there is nothing to flag.";
    let mut out = vec![(
        CHECKS[0],
        vec![
            Message::new(
                "system",
                format!(
                    "You check a simulated patient's messages against the case they were given. Flag every statement the case does not support: a symptom, time, history or circumstance it neither states nor clearly implies. Saying they do not know, or putting a stated fact in everyday words, is not invented. {flags}"
                ),
            ),
            Message::new("user", format!("Case:\n{}\n\nConversation:\n{conversation}", case.trim())),
        ],
    )];
    if !item.gold.key_facts.is_empty() {
        let facts: Vec<String> = item.gold.key_facts.iter().map(|f| format!("- {f}")).collect();
        out.push((
            CHECKS[1],
            vec![
                Message::new(
                    "system",
                    format!(
                        "You check whether a simulated patient volunteers key facts. Flag every key fact a patient message states although the assistant's message just before it did not ask about it or its topic (the first message may say why they are getting in touch, but a key fact in it counts as volunteered). {flags}"
                    ),
                ),
                Message::new("user", format!("Key facts:\n{}\n\nConversation:\n{conversation}", facts.join("\n"))),
            ],
        ));
    }
    out.push((
        CHECKS[2],
        vec![
            Message::new(
                "system",
                "You rate how consistently a simulated patient kept to the persona they were given, across the whole conversation: 1 not at all, 2 rarely, 3 mostly, 4 fully. Reply with JSON only: {\"explanation\": \"why, in a sentence or two\", \"rating\": 1, 2, 3 or 4}.",
            ),
            Message::new("user", format!("Persona:\n{persona}\n\nConversation:\n{conversation}")),
        ],
    ));
    out
}

fn json_object(reply: &str) -> Result<Value, String> {
    let quoted = || format!("{:?}", reply.chars().take(200).collect::<String>());
    reply
        .find('{')
        .zip(reply.rfind('}'))
        .filter(|(a, b)| a < b)
        .and_then(|(a, b)| serde_json::from_str(&reply[a..=b]).ok())
        .ok_or_else(|| format!("the judge's reply holds no JSON object: {}", quoted()))
}

/// Reads an invented / volunteered verdict: 1 when nothing is flagged, else 0 with the flags.
pub fn read_flags(reply: &str) -> Result<Grade, String> {
    let v = json_object(reply)?;
    let flags = v.get("flags").and_then(Value::as_array).ok_or("the judge's reply has no `flags` list")?;
    let texts: Vec<String> = flags
        .iter()
        .map(|f| match (f.get("message").and_then(Value::as_u64), f.get("text").and_then(Value::as_str)) {
            (Some(n), Some(t)) => format!("patient message {n}: {t}"),
            (None, Some(t)) => t.to_string(),
            _ => f.to_string(),
        })
        .collect();
    let detail = if texts.is_empty() { "nothing flagged".to_string() } else { texts.join("; ") };
    Ok(Grade { score: f64::from(u8::from(texts.is_empty())), matched: None, detail })
}

/// Reads a persona rating, 1 to 4, as (rating − 1) / 3.
pub fn read_rating(reply: &str) -> Result<Grade, String> {
    let v = json_object(reply)?;
    let rating = v.get("rating").and_then(Value::as_f64).filter(|r| [1.0, 2.0, 3.0, 4.0].contains(r));
    let rating = rating.ok_or("the judge's reply has no `rating` of 1, 2, 3 or 4")?;
    let why = v.get("explanation").and_then(Value::as_str).unwrap_or("no explanation given");
    Ok(Grade { score: (rating - 1.0) / 3.0, matched: Some(rating.to_string()), detail: format!("rated {rating} of 4: {why}") })
}

/// The reader for a check's verdict.
pub fn reader(check: &str) -> crate::runner::Reader {
    if check == CHECKS[2] { read_rating } else { read_flags }
}

/// Whether the case or a patient message names an accepted condition: 1 when neither does.
pub fn leak(exchange: &[Message], case: &str, item: &Item) -> Grade {
    let names = item.gold.names();
    let first_is_real = exchange.iter().find(|m| m.role == "user").is_some_and(|m| item.patient_queries.contains(&m.content));
    let said = exchange.iter().filter(|m| m.role == "user").enumerate().skip(usize::from(first_is_real));
    let found = std::iter::once(("the case the patient holds".to_string(), case))
        .chain(said.map(|(i, m)| (format!("patient message {}", i + 1), m.content.as_str())))
        .find_map(|(at, text)| strict_match(text, &names, None).matched.map(|name| format!("{at} names `{name}`")));
    match found {
        Some(detail) => Grade { score: 0.0, matched: None, detail },
        None => Grade { score: 1.0, matched: None, detail: "no accepted condition named".into() },
    }
}

/// Whether a conversation's fidelity grades (grader → score) fail any check: something
/// invented, volunteered or leaked, or a persona rated 2 of 4 or less.
pub fn unfaithful<'a>(grades: impl IntoIterator<Item = (&'a str, f64)>) -> bool {
    grades.into_iter().any(|(g, s)| if g == CHECKS[2] { s < 0.5 } else { CHECKS.contains(&g) && s < 1.0 })
}

/// `benchcards fidelity`: a simulator's conversation logs checked against their items' cases.
#[cfg(feature = "clap")]
#[derive(Debug, Clone, clap::Args)]
pub struct FidelityArgs {
    /// Simulated conversations naming their items (JSONL or CSV, as for `measure`).
    pub logs: std::path::PathBuf,
    /// The dataset whose items' vignettes the simulated patients held.
    #[arg(long)]
    pub against: std::path::PathBuf,
    /// The plan whose `fidelity: {judge_model}` judges, with its models.
    #[arg(long)]
    pub plan: std::path::PathBuf,
    /// The persona the simulated patients were told to keep.
    #[arg(long, value_enum, default_value = "truthful")]
    pub persona: benchcards_core::PatientBehaviour,
    /// The run store whose cache keeps the judge's replies.
    #[arg(long, default_value = "benchcards-runs.sqlite")]
    pub store: std::path::PathBuf,
    #[command(flatten)]
    pub columns: crate::logs::CsvColumns,
}

/// What `benchcards fidelity` found: for each check, the conversations passing it (with its
/// interval and n), and every conversation flagged with why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogFidelity {
    pub checks: Vec<(String, benchcards_stats::proportion::Rate)>,
    pub flagged: Vec<(String, String, String)>,
    /// Conversations left out: no item, or an item the dataset lacks.
    pub unlinked: usize,
}

/// Checks every conversation of `logs` that names an item of `dataset` with the judge `model`
/// (requests cached in `store`). An unreadable verdict stops it, listing the conversations.
pub fn check_logs(
    convs: &[crate::logs::Conversation],
    dataset: &crate::dataset::Dataset,
    model: &benchcards_core::ModelSpec,
    behaviour: PatientBehaviour,
    store: &std::path::Path,
) -> Result<LogFidelity, crate::session::SessionError> {
    use benchcards_stats::proportion::{CONFIDENCE, rate};
    let linked: Vec<(&crate::logs::Conversation, &Item, Vec<Message>)> =
        convs.iter().filter_map(|c| dataset.item(c.item.as_deref()?).map(|i| (c, i, exchange(&c.messages)))).collect();
    let persona = persona(behaviour, None);
    let mut results: Vec<(String, Vec<(String, Grade)>)> =
        linked.iter().map(|(c, i, ex)| (c.id.clone(), vec![(CHECKS[3].to_string(), leak(ex, &i.vignette, i))])).collect();
    let mut unread = Vec::new();
    for check in &CHECKS[..3] {
        let asks: Vec<(String, Vec<Message>)> = linked
            .iter()
            .enumerate()
            .flat_map(|(n, (_, i, ex))| {
                requests(ex, &i.vignette, i, &persona).into_iter().filter(|(c, _)| c == check).map(move |(_, m)| (format!("{n:09}"), m))
            })
            .collect();
        let v = crate::session::judge_requests(model, asks, store, reader(check))?;
        for (key, verdict) in v.verdicts {
            let Some(r) = key.parse::<usize>().ok().and_then(|n| results.get_mut(n)) else { continue };
            match verdict {
                Ok(g) => r.1.push((check.to_string(), g)),
                Err(e) => unread.push(format!("  {} ({check}): {e}", r.0)),
            }
        }
    }
    crate::session::refuse_unread(&unread, "")?;
    let checks = CHECKS
        .iter()
        .filter_map(|c| {
            let scores: Vec<f64> = results.iter().flat_map(|(_, g)| g.iter().filter(|(k, _)| k == c).map(|(_, g)| g.score)).collect();
            let pass = scores.iter().filter(|s| !unfaithful([(*c, **s)])).count();
            (!scores.is_empty()).then(|| (c.to_string(), rate(pass as f64, scores.len() as f64, CONFIDENCE)))
        })
        .collect();
    let flagged = results
        .iter()
        .flat_map(|(id, g)| {
            g.iter().filter(|(c, g)| unfaithful([(c.as_str(), g.score)])).map(move |(c, g)| (id.clone(), c.clone(), g.detail.clone()))
        })
        .collect();
    Ok(LogFidelity { checks, flagged, unlinked: convs.len() - linked.len() })
}

/// `benchcards fidelity`: reads the logs, the dataset and the plan's fidelity judge, then
/// [`check_logs`].
#[cfg(feature = "clap")]
pub fn run(a: &FidelityArgs) -> Result<LogFidelity, crate::session::SessionError> {
    use crate::session::SessionError;
    let (plan, _) = benchcards_core::load_plan(&a.plan).map_err(SessionError::Plan)?;
    let model =
        plan.fidelity.as_ref().and_then(|f| plan.models.iter().find(|m| m.id == f.judge_model)).ok_or_else(|| SessionError::Message {
            message: format!("{} names no fidelity judge", a.plan.display()),
            help: Some("add `fidelity: {judge_model: MODEL}` with a model of the plan's `models`".into()),
        })?;
    let dataset = crate::session::load_dataset(&a.against)?;
    let (logs, _) = crate::logs::read_logs(&a.logs, &a.columns).map_err(|p| SessionError::File {
        name: p.name,
        text: p.text,
        diagnostics: p.diagnostics,
    })?;
    check_logs(&logs.conversations, &dataset, model, a.persona, &a.store)
}

/// The samples of a run whose conversation failed a fidelity check.
pub fn unfaithful_samples(store: &crate::store::Store, run: &str) -> rusqlite::Result<std::collections::HashSet<String>> {
    let mut by_sample: std::collections::HashMap<String, Vec<(String, f64)>> = Default::default();
    for (key, grader, score, _) in store.grades(run)?.into_iter().filter(|(_, g, ..)| CHECKS.contains(&g.as_str())) {
        by_sample.entry(key).or_default().push((grader, score));
    }
    Ok(by_sample.into_iter().filter(|(_, g)| unfaithful(g.iter().map(|(c, s)| (c.as_str(), *s)))).map(|(k, _)| k).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{AcceptedCondition, Gold};

    fn item() -> Item {
        Item {
            id: "a".into(),
            vignette: "You have had a dry cough for a week and a mild fever.".into(),
            gold: Gold {
                conditions: vec![AcceptedCondition { name: "community-acquired pneumonia".into(), synonyms: vec!["pneumonia".into()] }],
                key_facts: vec!["dry cough for a week".into()],
                ..Gold::default()
            },
            ..Item::default()
        }
    }

    fn talk(turns: &[(&str, &str)]) -> Vec<Message> {
        turns.iter().map(|(r, c)| Message::new(r, *c)).collect()
    }

    #[test]
    fn the_exchange_stops_at_the_final_answer_or_its_request() {
        let t = talk(&[
            ("system", "You are a medical assistant."),
            ("user", "I have a cough."),
            ("assistant", "How long?"),
            ("user", "A week."),
            ("user", DOCTOR_WRAP_UP),
            ("assistant", "Final answer: a chest infection."),
            ("user", "Summarize this conversation."),
        ]);
        assert_eq!(exchange(&t).len(), 3);
        let t = talk(&[("user", "I have a cough."), ("assistant", "Final answer: a cold."), ("user", "What do you think you have?")]);
        assert_eq!(exchange(&t).len(), 2);
    }

    #[test]
    fn a_named_diagnosis_leaks_and_a_negated_one_or_a_real_opening_does_not() {
        let it = item();
        let ok = talk(&[("user", "I've had a cough."), ("assistant", "Fever?"), ("user", "A bit, yes.")]);
        assert_eq!(leak(&ok, &it.vignette, &it).score, 1.0);
        let leaked = talk(&[("user", "I've had a cough."), ("assistant", "Fever?"), ("user", "Yes, could it be pneumonia?")]);
        assert_eq!(leak(&leaked, &it.vignette, &it).detail, "patient message 2 names `pneumonia`");
        let denied = talk(&[("user", "It is not pneumonia, my GP said.")]);
        assert_eq!(leak(&denied, &it.vignette, &it).score, 1.0, "a negated name is not a leak");
        let case = "You have pneumonia and a cough.";
        assert_eq!(leak(&ok, case, &it).detail, "the case the patient holds names `pneumonia`");
        let real = Item { patient_queries: vec!["is it pneumonia".into()], ..item() };
        assert_eq!(leak(&talk(&[("user", "is it pneumonia")]), &it.vignette, &real).score, 1.0, "a person wrote it");
    }

    #[test]
    fn the_patient_s_prompt_never_holds_the_gold_answer() {
        // The simulated patient sees its instructions and the case: never the accepted
        // conditions, the disposition or the key facts as such.
        let it = Item { gold: Gold { disposition: Some("urgent_primary_care".into()), ..item().gold }, ..item() };
        for b in [PatientBehaviour::Truthful, PatientBehaviour::ImperfectRecall, PatientBehaviour::Misreporting] {
            let prompt = patient_system(&it.vignette, b, None);
            assert!(it.gold.names().iter().all(|n| !prompt.to_lowercase().contains(&n.to_lowercase())), "{prompt}");
            assert!(!prompt.contains("urgent_primary_care") && !prompt.contains("Key facts"), "{prompt}");
        }
        assert!(persona(PatientBehaviour::Misreporting, None).contains("inaccurately"));
        assert!(!persona(PatientBehaviour::Truthful, None).contains("Description"));
        // Every persona of the catalogue keeps the gold answer out of the prompt too, and adds its
        // instructions to what the fidelity judge checks.
        let c = benchcards_core::personas::catalogue();
        for p in &c.personas {
            let p = c.named(&p.id, &[]).unwrap();
            let prompt = patient_system(&it.vignette, PatientBehaviour::Truthful, Some(&p));
            assert!(it.gold.names().iter().all(|n| !prompt.to_lowercase().contains(&n.to_lowercase())), "{prompt}");
            assert!(persona(PatientBehaviour::Truthful, Some(&p)).contains(&c.instructions(&p)));
        }
    }

    #[test]
    fn verdicts_are_read_or_refused() {
        assert_eq!(read_flags(r#"{"flags": []}"#).unwrap().score, 1.0);
        let g = read_flags(r#"{"flags": [{"message": 2, "text": "a rash on the arm"}]}"#).unwrap();
        assert_eq!((g.score, g.detail.as_str()), (0.0, "patient message 2: a rash on the arm"));
        assert!(read_flags("None invented.").unwrap_err().contains("no JSON object"));
        assert!(read_flags(r#"{"invented": []}"#).is_err());
        assert_eq!(read_rating(r#"{"explanation": "kept it", "rating": 4}"#).unwrap().score, 1.0);
        assert_eq!(read_rating(r#"{"rating": 2}"#).unwrap().score, 1.0 / 3.0);
        assert!(read_rating(r#"{"rating": 5}"#).is_err() && read_rating(r#"{"rating": "4"}"#).is_err());
        assert!(unfaithful([("fidelity:invented", 1.0), ("fidelity:persona", 1.0 / 3.0)]));
        assert!(!unfaithful([("fidelity:invented", 1.0), ("fidelity:persona", 2.0 / 3.0), ("conditions:strict", 0.0)]));
        assert!(unfaithful([("fidelity:leak", 0.0)]));
    }

    #[test]
    fn a_check_is_asked_only_where_it_applies() {
        let t = talk(&[("user", "I've had a dry cough for a week."), ("assistant", "Anything else?"), ("user", "No.")]);
        let r = requests(&t, &item().vignette, &item(), "calm");
        assert_eq!(r.iter().map(|(c, _)| *c).collect::<Vec<_>>(), ["fidelity:invented", "fidelity:volunteered", "fidelity:persona"]);
        assert!(r[0].1[1].content.contains("[patient 1] I've had a dry cough") && r[1].1[1].content.contains("- dry cough for a week"));
        let no_facts = Item { gold: Gold::default(), ..item() };
        assert_eq!(requests(&t, "case", &no_facts, "calm").len(), 2);
    }
}
