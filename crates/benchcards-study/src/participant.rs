//! A participant's way through a running study over HTTP, as a browser without JavaScript takes
//! it: the entry link, consent, instructions, the checks, each scenario's chat and answers, the
//! completion code. The person behind it (a script, a simulated patient) decides what to say and
//! answer; the checks are answered from the design, as someone who read the instructions would.
//! Nothing here reaches into the store: what it meets is what a participant meets.

use benchcards_core::StudyDesign;

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

/// The person taking part.
pub trait Person {
    /// The next message to the assistant, or `None` to answer the questions.
    fn message(&mut self, scenario: &Scenario) -> Option<String>;
    fn answer(&mut self, scenario: &Scenario) -> Answers;
}

/// Takes part from `entry` (the link the recruitment platform gives, e.g.
/// `http://HOST/?PROLIFIC_PID=…`) to the end; returns the completion code.
pub async fn take_part(entry: &str, design: &StudyDesign, person: &mut impl Person) -> Result<String, String> {
    let base = entry.split_once("/?").map_or(entry.trim_end_matches('/'), |(b, _)| b).to_string();
    let client = reqwest::Client::builder().cookie_store(true).build().map_err(|e| e.to_string())?;
    let mut page = send(client.get(entry)).await?;
    csrf(&page)?;
    page = send(client.post(format!("{base}/consent")).form(&hidden(&page))).await?;
    // Each page leads to the next; a study with S scenarios and M messages each takes about
    // 4 + S × (M + 1) pages, far below this bound.
    for _ in 0..10_000 {
        let token = csrf(&page).ok();
        let title = between(&page, "<h1>", "</h1>").unwrap_or_default();
        let post = |path: &str, form: Vec<(String, String)>| {
            let mut form = form;
            form.push(("csrf".into(), token.clone().unwrap_or_default()));
            client.post(format!("{base}{path}")).form(&form)
        };
        page = match title.as_str() {
            "Thank you" => return between(&page, "<strong>", "</strong>").map(|c| unescape(&c)).ok_or_else(|| "no completion code".into()),
            "Instructions" => send(post("/study/instructions", Vec::new())).await?,
            "A few questions about the instructions" => send(post("/study/comprehension", checks(&design.comprehension))).await?,
            "Almost done" => send(post("/study/attention", checks(&design.attention))).await?,
            t if t.starts_with("Scenario ") => {
                let s = scenario(&page, t)?;
                match person.message(&s).filter(|_| s.with_model) {
                    Some(text) => send(post("/study/message", vec![("text".into(), text)])).await?,
                    None => send(post("/study/answer", answer_form(&person.answer(&s)))).await?,
                }
            }
            other => return Err(format!("the study showed a page titled `{other}`: {}", text_of(&page))),
        };
    }
    Err("the study did not end".into())
}

async fn send(request: reqwest::RequestBuilder) -> Result<String, String> {
    let r = request.send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let text = r.text().await.map_err(|e| e.to_string())?;
    if status.is_success() { Ok(text) } else { Err(format!("{status}: {}", text_of(&text))) }
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
