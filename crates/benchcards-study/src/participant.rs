//! A participant's way through a running study over HTTP, as a browser without JavaScript takes
//! it: the entry link, consent, instructions, the checks, each scenario's chat and answers, the
//! completion code. The person behind it (a script, a simulated patient) decides what to say and
//! answer; the checks are answered from the design, as someone who read the instructions would.
//! Nothing here reaches into the store: what it meets is what a participant meets.

use benchcards_core::{PatientBehaviour, Sampling, StudyDesign};
use benchcards_eval::client::Client;
use benchcards_eval::conditions::{Message, PATIENT_DECISION, PATIENT_OPENING, patient_system};
use std::sync::Arc;

/// A scenario as its page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// 1-based, of `of`.
    pub number: usize,
    pub of: usize,
    pub vignette: String,
    /// Whether the arm chats with a model (else it is the control arm's instructions).
    pub with_model: bool,
    /// The chat so far: (`user` or `assistant`, text).
    pub chat: Vec<(String, String)>,
}

/// What a participant answers after a scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answers {
    pub conditions: Vec<String>,
    /// One of the levels of care (`self_care` … `ambulance`).
    pub disposition: Option<String>,
    /// 1 to 5.
    pub confidence: Option<u8>,
    /// Where a control-arm participant looked.
    pub sources: Option<String>,
}

/// The person taking part (a script, or a simulated patient asking a model).
pub trait Person: Send {
    /// The next message to the assistant, or `None` to answer the questions.
    fn message(&mut self, scenario: &Scenario) -> impl Future<Output = Option<String>> + Send;
    fn answer(&mut self, scenario: &Scenario) -> impl Future<Output = Answers> + Send;
}

/// A simulated participant for a pilot: the runner's simulated patient (its instructions, with a
/// behaviour as its persona) reads the scenario as its own, asks the arm's model up to `turns`
/// times, then decides as the runner's `patient_decision` does: what it thinks it has, and where
/// it will go for care. A proxy: it estimates nothing about real people.
pub struct Simulated {
    pub client: Arc<Client>,
    pub sampling: Sampling,
    pub behaviour: PatientBehaviour,
    pub turns: usize,
}

impl Simulated {
    /// The patient's view: its instructions, then the chat with the roles turned round.
    fn view(&self, s: &Scenario) -> Vec<Message> {
        let mut m = vec![Message::new("system", patient_system(&s.vignette, self.behaviour, None))];
        m.extend(s.chat.iter().map(|(role, text)| Message::new(if role == "user" { "assistant" } else { "user" }, text.as_str())));
        m
    }

    async fn ask(&self, messages: &[Message]) -> Option<String> {
        self.client.complete(messages, &self.sampling).await.ok().map(|c| c.text.trim().to_string()).filter(|t| !t.is_empty())
    }
}

impl Person for Simulated {
    async fn message(&mut self, s: &Scenario) -> Option<String> {
        if s.chat.iter().filter(|(role, _)| role == "user").count() >= self.turns {
            return None;
        }
        let mut m = self.view(s);
        if s.chat.is_empty() {
            m.push(Message::new("user", PATIENT_OPENING));
        }
        self.ask(&m).await
    }

    async fn answer(&mut self, s: &Scenario) -> Answers {
        let mut m = self.view(s);
        m.push(Message::new("user", PATIENT_DECISION));
        let decision = self.ask(&m).await.unwrap_or_else(|| "I don't know".into());
        let said: String = decision.chars().take(200).collect();
        Answers {
            conditions: vec![said],
            disposition: benchcards_eval::grade::read_disposition(&decision).map(str::to_string),
            confidence: Some(3),
            sources: (!s.with_model).then(|| "my own judgement".into()),
        }
    }
}

/// What taking part took.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    /// The completion code shown at the end.
    pub code: String,
    /// Each page's time, from the request to the whole page.
    pub latencies: Vec<std::time::Duration>,
    /// Answers the server acknowledged (a page followed them).
    pub answered: usize,
    /// Times a server did not answer and the participant went on at another.
    pub failovers: usize,
}

/// One participant's browser: its cookies, the servers it may reach (as behind a load balancer:
/// when one does not answer, the next), and what it measured.
struct Browser {
    client: reqwest::Client,
    servers: Vec<String>,
    at: usize,
    taken: Taken,
}

enum Sent {
    Page(String),
    /// The server did not answer: go on at the next one.
    Gone,
}

impl Browser {
    fn base(&self) -> &str {
        &self.servers[self.at % self.servers.len()]
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Result<Sent, String> {
        let started = std::time::Instant::now();
        let r = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() || e.is_request() || e.is_timeout() => return Ok(Sent::Gone),
            Err(e) => return Err(e.to_string()),
        };
        let status = r.status();
        let Ok(text) = r.text().await else { return Ok(Sent::Gone) };
        if !status.is_success() {
            return Err(format!("{status}: {}", text_of(&text)));
        }
        self.taken.latencies.push(started.elapsed());
        Ok(Sent::Page(text))
    }

    /// A server did not answer: the next one, unless every server failed in a row.
    fn fail_over(&mut self, in_a_row: &mut usize) -> Result<(), String> {
        *in_a_row += 1;
        if *in_a_row > self.servers.len() {
            return Err(format!("no server answered: {}", self.servers.join(", ")));
        }
        self.at += 1;
        self.taken.failovers += 1;
        Ok(())
    }
}

/// Takes part from the recruitment platform's link (the first server, `/?` and `query`, e.g.
/// `PROLIFIC_PID=…`) to the completion code. When a server does not answer, the participant
/// goes on at the next one, where the study resumes them.
pub async fn take_part(servers: &[String], query: &str, design: &StudyDesign, person: &mut impl Person) -> Result<Taken, String> {
    let client =
        reqwest::Client::builder().cookie_store(true).timeout(std::time::Duration::from_secs(120)).build().map_err(|e| e.to_string())?;
    if servers.is_empty() {
        return Err("no server to take part at".into());
    }
    let servers = servers.iter().map(|s| s.trim_end_matches('/').to_string()).collect();
    let mut b = Browser { client, servers, at: 0, taken: Taken { code: String::new(), latencies: Vec::new(), answered: 0, failovers: 0 } };
    let mut in_a_row = 0;
    // Enter and consent; a server lost here means starting again at the next.
    let mut page = loop {
        let entry = b.send(b.client.get(format!("{}/?{query}", b.base()))).await?;
        let Sent::Page(consent) = entry else {
            b.fail_over(&mut in_a_row)?;
            continue;
        };
        // Enrolled already (the consent was committed, its answer lost): the study resumes.
        if !consent.contains("action=\"/consent\"") {
            break consent;
        }
        match b.send(b.client.post(format!("{}/consent", b.base())).form(&hidden(&consent))).await? {
            Sent::Page(p) => break p,
            Sent::Gone => b.fail_over(&mut in_a_row)?,
        }
    };
    // Each page leads to the next; a study with S scenarios and M messages each takes about
    // 4 + S × (M + 1) pages, far below this bound.
    for _ in 0..10_000 {
        let token = csrf(&page).ok();
        let title = between(&page, "<h1>", "</h1>").unwrap_or_default();
        let (path, mut form, answering) = match title.as_str() {
            "Thank you" => {
                b.taken.code = between(&page, "<strong>", "</strong>").map(|c| unescape(&c)).ok_or("no completion code")?;
                return Ok(b.taken);
            }
            "Instructions" => ("/study/instructions", Vec::new(), false),
            "A few questions about the instructions" => ("/study/comprehension", checks(&design.comprehension), false),
            "Almost done" => ("/study/attention", checks(&design.attention), false),
            t if t.starts_with("Scenario ") => {
                let s = scenario(&page, t)?;
                let message = if s.with_model { person.message(&s).await } else { None };
                match message {
                    Some(text) => ("/study/message", vec![("text".to_string(), text)], false),
                    None => ("/study/answer", answer_form(&person.answer(&s).await), true),
                }
            }
            other => return Err(format!("the study showed a page titled `{other}`: {}", text_of(&page))),
        };
        form.push(("csrf".into(), token.unwrap_or_default()));
        let mut sent = b.send(b.client.post(format!("{}{path}", b.base())).form(&form)).await?;
        let acknowledged = matches!(sent, Sent::Page(_));
        // Lost in flight (perhaps committed, perhaps not): the next server says where the
        // participant is now.
        while let Sent::Gone = sent {
            b.fail_over(&mut in_a_row)?;
            sent = b.send(b.client.get(format!("{}/study", b.base()))).await?;
        }
        if let Sent::Page(p) = sent {
            in_a_row = 0;
            if answering && p.contains("Please answer every question") {
                return Err("the participant left a required answer empty".into());
            }
            b.taken.answered += usize::from(answering && acknowledged);
            page = p;
        }
    }
    Err("the study did not end".into())
}

fn csrf(page: &str) -> Result<String, String> {
    between(page, "name=\"csrf\" value=\"", "\"").ok_or_else(|| format!("a page without a form: {}", text_of(page)))
}

/// The hidden fields of a page's forms (the CSRF token, the recruitment ids), unescaped.
fn hidden(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|f| {
            let (name, rest) = f.split_once('"')?;
            let value = rest.split_once("value=\"")?.1.split('"').next()?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

fn checks(questions: &[benchcards_core::CheckQuestion]) -> Vec<(String, String)> {
    questions.iter().enumerate().map(|(i, q)| (format!("q{i}"), q.answer.to_string())).collect()
}

fn answer_form(a: &Answers) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = a.conditions.iter().enumerate().map(|(k, c)| (format!("c{k}"), c.clone())).collect();
    form.extend(a.disposition.iter().map(|d| ("disposition".into(), d.clone())));
    form.extend(a.confidence.iter().map(|c| ("confidence".into(), c.to_string())));
    form.extend(a.sources.iter().map(|s| ("sources".into(), s.clone())));
    form
}

/// The scenario page read back: its number, vignette, and chat.
fn scenario(page: &str, title: &str) -> Result<Scenario, String> {
    let numbers: Vec<usize> = title.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    let [number, of] = numbers[..] else { return Err(format!("a scenario page titled `{title}`")) };
    let vignette = between(page, "<div class=\"scenario\">", "</div>").map(|v| text_of(&v)).unwrap_or_default();
    let chat = page
        .split("<div class=\"msg ")
        .skip(1)
        .filter_map(|m| {
            let (role, rest) = m.split_once('"')?;
            let text = rest.split_once("</strong> ")?.1.split("</div>").next()?;
            Some((unescape(role), unescape(text)))
        })
        .collect();
    Ok(Scenario { number, of, vignette, with_model: page.contains("action=\"/study/message\""), chat })
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let from = text.find(start)? + start.len();
    Some(text[from..from + text[from..].find(end)?].to_string())
}

/// A page's text without its tags, a blank line between paragraphs.
fn text_of(html: &str) -> String {
    let strip = |p: &str| {
        let mut out = String::new();
        let mut in_tag = false;
        for c in p.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        unescape(out.trim())
    };
    html.split("</p>").map(strip).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n\n")
}

/// The inverse of the pages' escaping.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_page_reads_back_as_the_participant_saw_it() {
        let page = "<h1>Scenario 2 of 3</h1><div class=\"scenario\"><p>I have a &lt;b&gt; cough</p>\n<p>Since Monday.</p></div>\
            <div class=\"msg user\"><strong>You:</strong> what &amp; why</div><div class=\"msg assistant\"><strong>Assistant:</strong> rest</div>\
            <form method=\"post\" action=\"/study/message\">";
        let s = scenario(page, "Scenario 2 of 3").unwrap();
        assert_eq!((s.number, s.of, s.with_model), (2, 3, true));
        assert_eq!(s.vignette, "I have a <b> cough\n\nSince Monday.");
        assert_eq!(s.chat, [("user".to_string(), "what & why".to_string()), ("assistant".into(), "rest".into())]);
        assert!(scenario(page, "Scenario two").is_err());
        let consent =
            "<input type=\"hidden\" name=\"csrf\" value=\"ab\"><input type=\"hidden\" name=\"rid.PROLIFIC_PID\" value=\"a&amp;b\">";
        assert_eq!(hidden(consent), [("csrf".to_string(), "ab".to_string()), ("rid.PROLIFIC_PID".into(), "a&b".into())]);
    }
}
