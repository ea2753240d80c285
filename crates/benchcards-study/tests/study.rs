//! The study server over real HTTP on 127.0.0.1: participants taken through the whole study
//! with a cookie-keeping client, the export read back, and the guards (CSRF, the admin token,
//! withdrawal, a restart, hostile text, a changed registered plan).

mod pg;

use benchcards_study::Study;
use benchcards_study::server::{Options, serve_on};
use std::path::{Path, PathBuf};

const TOKEN: &str = "a-researcher-token-of-some-length";

fn plan_text(model: &str) -> String {
    format!(
        "plan:
  version: 1
  id: test-study
  card: bean-scenarios
  deployment: patient-symptom-chatbot
  dataset: symptoms-uk
  models:
{model}
  conditions: [{{ id: vignette }}]
  graders: [{{ kind: conditions, mode: bean, threshold: 80 }}, {{ kind: disposition }}]
  study:
    arms:
      - {{ id: with_model, model: m, system_prompt: Be brief. }}
      - {{ id: control, instructions: Use whatever you would normally use. }}
    scenarios: [sx-001, sx-002]
    scenarios_per_participant: 2
    consent: You agree to take part.
    instructions: Imagine you are the person described.
    comprehension: [{{ question: Whose symptoms are they?, options: [Mine, The person described], answer: 1 }}]
    attention: [{{ question: Choose green., options: [Blue, Green], answer: 1 }}]
    target_participants: 4
    completion: {{ code: DONE42, redirect: \"https://example.org/done?cc={{code}}&p={{PROLIFIC_PID}}\" }}
    recruitment_ids: [PROLIFIC_PID]
"
    )
}

const MOCK: &str = "    - { id: m, provider: mock }";

fn write_plan(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("plan.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A server for the plan on 127.0.0.1 (its store the default SQLite file), and its base URL.
async fn start(plan: &Path) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    start_on(plan, None).await
}

/// A server for the plan on 127.0.0.1 with the store `db` (a PostgreSQL URL), and its base URL.
async fn start_on(plan: &Path, db: Option<&str>) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let mut study = Study::load(plan, db).await.unwrap();
    study.connect().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let options =
        Options { admin_token: TOKEN.into(), secure_cookies: false, limits: benchcards_web::Limits::default(), log_requests: false };
    (base, tokio::spawn(serve_on(listener, study, options)))
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

async fn get(c: &reqwest::Client, url: &str) -> String {
    let r = c.get(url).send().await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.text().await.unwrap()
}

async fn post(c: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = c.post(url).form(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Consent (with a recruitment id), instructions, a wrong then a right comprehension answer.
async fn enrol(c: &reqwest::Client, base: &str, pid: &str) -> String {
    let page = get(c, &format!("{base}/?PROLIFIC_PID={pid}")).await;
    assert!(page.contains("You agree to take part."));
    let (_, page) = post(c, &format!("{base}/consent"), &[("csrf", &csrf(&page)), ("rid.PROLIFIC_PID", pid)]).await;
    assert!(page.contains("Imagine you are the person described."), "{page}");
    let (_, page) = post(c, &format!("{base}/study/instructions"), &[("csrf", &csrf(&page))]).await;
    let (_, page) = post(c, &format!("{base}/study/comprehension"), &[("csrf", &csrf(&page)), ("q0", "0")]).await;
    assert!(page.contains("was not right"), "a wrong answer shows the instructions again: {page}");
    let (_, page) = post(c, &format!("{base}/study/instructions"), &[("csrf", &csrf(&page))]).await;
    let (_, page) = post(c, &format!("{base}/study/comprehension"), &[("csrf", &csrf(&page)), ("q0", "1")]).await;
    assert!(page.contains("Scenario 1 of 2"), "{page}");
    page
}

/// One scenario: a message to the model when there is a chat, then the answers.
async fn scenario(c: &reqwest::Client, base: &str, page: &str, message: &str, answers: &[(&str, &str)]) -> String {
    let mut page = page.to_string();
    if page.contains("/study/message") {
        let (status, after) = post(c, &format!("{base}/study/message"), &[("csrf", &csrf(&page)), ("text", message)]).await;
        assert_eq!(status, 200);
        assert!(after.contains("<strong>Assistant:</strong>"), "the model answered: {after}");
        page = after;
    }
    let mut form = vec![("csrf", csrf(&page))];
    form.extend(answers.iter().map(|(k, v)| (*k, v.to_string())));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post(c, &format!("{base}/study/answer"), &form).await.1
}

const FIRST: [(&str, &str); 4] = [("c0", "common cold"), ("c1", "flu"), ("disposition", "self_care"), ("confidence", "4")];
const SECOND: [(&str, &str); 3] = [("c0", "migraine"), ("disposition", "routine_gp"), ("confidence", "2")];

#[tokio::test]
async fn participants_go_through_the_study_resume_after_a_restart_and_the_export_is_what_they_entered() {
    end_to_end(None).await;
}

#[tokio::test]
async fn the_same_study_runs_on_postgresql() {
    let Some(server) = pg::server() else { return };
    let db = server.database("end_to_end").await;
    end_to_end(Some(&db)).await;
}

/// Whether every session of the test server on database `name` is encrypted, and how many there
/// are, seen from the server's side.
async fn sessions_encrypted(server: &pg::Server, name: &str) -> (bool, i64) {
    let admin = format!("postgres://postgres:{}@127.0.0.1:{}/postgres", server.password, server.port);
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT coalesce(bool_and(s.ssl), false), count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1",
            &[&name],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn a_database_over_tls_is_reached_only_with_a_verified_certificate() {
    use benchcards_study::store::{Location, StudyStore};
    let Some(server) = pg::server() else { return };
    // By name, as a server on another machine is: the certificate must name `localhost` and be
    // signed by the authority in sslrootcert (libpq's `verify-full`).
    let db = server.database("over_tls").await.replace("@127.0.0.1:", "@localhost:");
    let verified = format!("{db}?sslmode=verify-full&sslrootcert={}", server.ca.display());
    let store = StudyStore::open(&Location::Postgres(verified)).await.unwrap();
    assert_eq!(store.transport(), "over TLS, its certificate verified");
    let (encrypted, sessions) = sessions_encrypted(server, "over_tls").await;
    assert!(encrypted && sessions >= 1, "{sessions} session(s), encrypted: {encrypted}");
    drop(store);
    // The system's authorities do not know the test's: no session, and the message says why.
    let e = StudyStore::open(&Location::Postgres(format!("{db}?sslmode=require"))).await.err().unwrap();
    assert!(e.contains("over TLS") && e.contains("sslrootcert"), "{e}");
    assert!(!e.contains(&server.password), "the password is never shown: {e}");
    // A missing authority file is said before any connection.
    let e = StudyStore::open(&Location::Postgres(format!("{db}?sslrootcert=/nonexistent/ca.pem"))).await.err().unwrap();
    assert!(e.contains("sslrootcert /nonexistent/ca.pem"), "{e}");
    // On this machine without sslmode, sessions are unencrypted, and the server says so.
    let plain = server.database("plain_local").await.replace("@127.0.0.1:", "@localhost:");
    let store = StudyStore::open(&Location::Postgres(plain)).await.unwrap();
    assert_eq!(store.transport(), "unencrypted, on this machine");
    assert!(!sessions_encrypted(server, "plain_local").await.0, "sessions on this machine without sslmode are unencrypted");
}

/// The value a response sets for cookie `name`.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let (pair, _) = v.split_once(';').unwrap_or((v, ""));
        pair.strip_prefix(&format!("{name}=")).map(str::to_string)
    })
}

#[tokio::test]
async fn a_consent_sent_twice_enrols_one_participant() {
    consent_twice(None).await;
}

#[tokio::test]
async fn a_consent_sent_twice_enrols_one_participant_on_postgresql() {
    let Some(server) = pg::server() else { return };
    consent_twice(Some(&server.database("consent_twice").await)).await;
}

async fn consent_twice(db: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &plan_text(MOCK));
    let (base, _server) = start_on(&plan, db).await;
    // A client that keeps no cookies and follows no redirect: it sends the pre-consent cookie by
    // hand, as a browser does that never saw the consent's reply (which clears that cookie).
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let entry = plain.get(format!("{base}/?PROLIFIC_PID=twice")).send().await.unwrap();
    let pre = format!("bcs_pre={}", set_cookie(&entry, "bcs_pre").expect("a pre-consent cookie"));
    let form = [("csrf", csrf(&entry.text().await.unwrap())), ("rid.PROLIFIC_PID", "twice".to_string())];
    let send = || async { plain.post(format!("{base}/consent")).header("cookie", &pre).form(&form).send().await.unwrap() };
    // A double click (two at once), then the form sent again after a lost reply.
    let (first, second) = tokio::join!(send(), send());
    let again = send().await;
    let tokens: Vec<_> = [&first, &second, &again]
        .iter()
        .map(|r| {
            assert_eq!(r.status().as_u16(), 303, "consent goes on to the study");
            set_cookie(r, "bcs").expect("the participant's cookie")
        })
        .collect();
    assert!(tokens.iter().all(|t| t == &tokens[0] && t.len() == 64), "one participant's token: {tokens:?}");
    let study = Study::load(&plan, db).await.unwrap();
    let enrolled = study.store.participants().await.unwrap();
    assert_eq!(enrolled.iter().map(|p| p.enrolment).collect::<Vec<_>>(), vec![0], "one participant holds one enrolment number");
    // The next person enrolled takes the next number.
    let c = browser();
    enrol(&c, &base, "next").await;
    let enrolled = study.store.participants().await.unwrap();
    assert_eq!(enrolled.iter().map(|p| p.enrolment).collect::<Vec<_>>(), vec![0, 1]);
}

/// Participants through the whole study, a restart on the same store, the export and its import.
async fn end_to_end(db: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &plan_text(MOCK));
    let (base, server) = start_on(&plan, db).await;
    // Participants enrol until both arms are taken; each answers both scenarios.
    let mut arms = std::collections::BTreeSet::new();
    let mut people = Vec::new();
    for i in 0..6 {
        let c = browser();
        let page = enrol(&c, &base, &format!("pid-{i}")).await;
        arms.insert(page.contains("/study/message"));
        people.push((c, page));
        if arms.len() == 2 {
            break;
        }
    }
    assert_eq!(arms.len(), 2, "both arms were allocated");
    let (c, page) = &people[0];
    let page = scenario(c, &base, page, "I have a blocked nose <b>and</b> a cough", &FIRST).await;
    assert!(page.contains("Scenario 2 of 2"), "{page}");
    // The server stops mid-study and a new one starts on the same store: the participant
    // resumes where they were, with every answer kept.
    server.abort();
    let _ = server.await;
    let (base, _server) = start_on(&plan, db).await;
    let page = get(c, &format!("{base}/study")).await;
    assert!(page.contains("Scenario 2 of 2"), "resumed: {page}");
    assert!(!page.contains("<b>and</b>"), "the participant's own text is escaped");
    let page = scenario(c, &base, &page, "and a headache", &SECOND).await;
    assert!(page.contains("Almost done"), "{page}");
    let (_, page) = post(c, &format!("{base}/study/attention"), &[("csrf", &csrf(&page)), ("q0", "0")]).await;
    assert!(page.contains("DONE42") && page.contains("https://example.org/done?cc=DONE42&amp;p=pid-0"), "{page}");
    for (c, page) in &people[1..] {
        let page = scenario(c, &base, page, "hello", &FIRST).await;
        let page = scenario(c, &base, &page, "again", &SECOND).await;
        let (_, page) = post(c, &format!("{base}/study/attention"), &[("csrf", &csrf(&page)), ("q0", "1")]).await;
        assert!(page.contains("DONE42"));
    }
    // The export holds what they entered, one row per participant × scenario.
    let study = Study::load(&plan, db).await.unwrap();
    let csv = study.export_csv().await.unwrap();
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2 * people.len(), "{csv}");
    for r in &rows {
        let (conditions, disposition, confidence) = (&r[4], &r[5], &r[6]);
        let entered = if disposition == "self_care" { ("common cold; flu", "4") } else { ("migraine", "2") };
        assert_eq!((conditions, confidence), entered, "{csv}");
        assert!(r[3].ends_with(&format!("Disposition: {disposition}")), "{csv}");
    }
    let participants = study.store.participants().await.unwrap();
    assert_eq!(participants.iter().map(|p| p.attention_failed).sum::<u32>(), 1);
    assert_eq!(participants.iter().map(|p| p.comprehension_attempts).sum::<u32>(), people.len() as u32);
    assert!(
        participants.iter().all(|p| p.recruitment.get("PROLIFIC_PID").is_some_and(|h| h.len() == 64 && !h.contains("pid"))),
        "kept as a keyed hash"
    );
    // The chats export as conversation logs `measure` reads, item attached.
    let logs = study.export_logs().await.unwrap();
    let convs = benchcards_eval::logs::read_jsonl(&logs);
    assert!(convs.conversations.iter().all(|c| c.item.is_some() && c.messages[0].role == "system"), "{logs}");
    // `run` imports the export as `human_study` rows, one per answer, labelled by arm.
    std::fs::write(dir.path().join("study.csv"), &csv).unwrap();
    let with_import = plan_text(MOCK).replace(
        "  conditions: [{ id: vignette }]",
        "  conditions: [{ id: vignette }, { id: human_study }]\n  human_study: { path: study.csv, control_arm: control }",
    );
    let plan2 = dir.path().join("import.yaml");
    std::fs::write(&plan2, with_import).unwrap();
    let prepared = benchcards_eval::session::prepare(&plan2).map_err(|e| e.to_string()).unwrap();
    assert_eq!(prepared.human.len(), rows.len());
    assert!(prepared.human.iter().any(|s| s.label == "human_study:control"));
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &plan_text(MOCK));
    let (base, _server) = start(&plan).await;
    let c = browser();
    // Before consent: a consent without the page's token enrols no one.
    assert_eq!(post(&c, &format!("{base}/consent"), &[]).await.0, 403);
    assert_eq!(post(&c, &format!("{base}/consent"), &[("csrf", "0000")]).await.0, 403);
    let page = enrol(&c, &base, "x").await;
    for form in [vec![], vec![("csrf", "f".repeat(64))]] {
        let mut fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fields.extend(FIRST);
        assert_eq!(post(&c, &format!("{base}/study/answer"), &fields).await.0, 403);
        assert_eq!(post(&c, &format!("{base}/withdraw"), &fields[..fields.len() - FIRST.len()]).await.0, 403);
    }
    // Another participant's token is no good either.
    let other = browser();
    let theirs = enrol(&other, &base, "y").await;
    let mut fields = vec![("csrf", csrf(&theirs))];
    fields.extend(FIRST.iter().map(|(k, v)| (*k, v.to_string())));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(post(&c, &format!("{base}/study/answer"), &fields).await.0, 403);
    let study = Study::load(&plan, None).await.unwrap();
    assert!(study.store.answers().await.unwrap().is_empty());
    assert_eq!(study.store.participants().await.unwrap().len(), 2);
    assert!(page.contains("Scenario 1 of 2"));
}

#[tokio::test]
async fn the_dashboard_needs_the_admin_token_and_shows_rates_with_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &plan_text(MOCK));
    let (base, _server) = start(&plan).await;
    let c = browser();
    let page = enrol(&c, &base, "x").await;
    scenario(&c, &base, &page, "hi", &FIRST).await;
    let anon = reqwest::Client::new();
    assert_eq!(anon.get(format!("{base}/admin")).send().await.unwrap().status(), 401);
    let wrong = anon.get(format!("{base}/admin")).bearer_auth("not-the-token-at-all-but-long").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = anon.get(format!("{base}/admin")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(right.status(), 200);
    let html = right.text().await.unwrap();
    assert!(html.contains("Study test-study") && html.contains("0 of 4 participants completed (1 in progress)"), "{html}");
    assert!(html.contains("95% CI") && html.contains("n = 1"), "every rate has its interval and n: {html}");
    // 4 participants × 2 scenarios over 2 arms × 2 scenarios: 2 per cell; this participant's
    // arm has one scenario answered and one allocated, the other arm none.
    assert!(html.contains("against a target of 2 per cell"), "{html}");
    let cells: Vec<&str> = html.match_indices("<td>").map(|(i, _)| &html[i + 4..i + 4 + html[i + 4..].find('<').unwrap()]).collect();
    for want in ["1 / 1", "0 / 1", "0 / 0"] {
        assert_eq!(cells.iter().filter(|c| **c == want).count(), if want == "0 / 0" { 2 } else { 1 }, "{want}: {cells:?}");
    }
    // The login form sets a cookie that opens the dashboard; a wrong token does not.
    let admin = browser();
    assert_eq!(post(&admin, &format!("{base}/admin/login"), &[("token", "wrong")]).await.0, 401);
    let (status, html) = post(&admin, &format!("{base}/admin/login"), &[("token", TOKEN)]).await;
    assert_eq!(status, 200);
    assert!(html.contains("Enrolment per arm and scenario"), "{html}");
}

#[tokio::test]
async fn past_the_time_limit_the_study_closes_for_the_participant_and_keeps_their_answers() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &plan_text(MOCK));
    let (base, _server) = start(&plan).await;
    let c = browser();
    let page = enrol(&c, &base, "x").await;
    let page = scenario(&c, &base, &page, "hi", &FIRST).await;
    assert!(page.contains("Scenario 2 of 2"), "{page}");
    // The participant started 61 minutes ago (the limit is 60).
    let db = rusqlite::Connection::open(dir.path().join("test-study.study.sqlite")).unwrap();
    assert_eq!(db.execute("UPDATE participants SET started = started - 61 * 60", []).unwrap(), 1);
    let closed = get(&c, &format!("{base}/study")).await;
    assert!(closed.contains("The study has closed for you") && closed.contains("/withdraw"), "{closed}");
    // The second scenario's answer, sent from the page still open, is not stored.
    let token = csrf(&page);
    let form: Vec<(&str, &str)> = [("csrf", token.as_str())].into_iter().chain(SECOND).collect();
    let (_, after) = post(&c, &format!("{base}/study/answer"), &form).await;
    assert!(after.contains("The study has closed for you"), "{after}");
    let answers = Study::load(&plan, None).await.unwrap().store.answers().await.unwrap();
    assert_eq!(answers.iter().map(|a| a.disposition.as_deref()).collect::<Vec<_>>(), [Some("self_care")]);
}

#[tokio::test]
async fn withdrawal_deletes_the_participants_rows_and_keeps_a_count() {
    withdrawal(None).await;
}

#[tokio::test]
async fn withdrawal_deletes_the_participants_rows_on_postgresql() {
    let Some(server) = pg::server() else { return };
    withdrawal(Some(&server.database("withdrawal").await)).await;
}

async fn withdrawal(db: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &plan_text(MOCK));
    let (base, _server) = start_on(&plan, db).await;
    let (stay, leave) = (browser(), browser());
    for c in [&stay, &leave] {
        let page = enrol(c, &base, "x").await;
        scenario(c, &base, &page, "hi", &FIRST).await;
    }
    let page = get(&leave, &format!("{base}/withdraw")).await;
    let (status, page) = post(&leave, &format!("{base}/withdraw"), &[("csrf", &csrf(&page))]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Your answers are deleted"));
    let study = Study::load(&plan, db).await.unwrap();
    assert_eq!(study.store.participants().await.unwrap().len(), 1);
    assert_eq!(study.store.answers().await.unwrap().len(), 1);
    assert_eq!(study.store.withdrawals().await.unwrap(), 1);
    // The cookie is gone: the withdrawn browser starts again at consent.
    assert!(get(&leave, &format!("{base}/study")).await.contains("You agree to take part."));
}

#[tokio::test]
async fn hostile_text_from_a_model_is_shown_as_text() {
    let mock = benchcards_mock::start(
        benchcards_mock::MockConfig { reply: Some("<script>alert(1)</script><img src=x onerror=alert(2)>".into()), ..Default::default() },
        0,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let model = format!("    - {{ id: m, provider: openai, model: x, base_urls: [\"{}\"] }}", mock.base_url());
    let plan = write_plan(dir.path(), &plan_text(&model));
    let (base, _server) = start(&plan).await;
    for _ in 0..6 {
        let c = browser();
        let page = enrol(&c, &base, "x").await;
        if !page.contains("/study/message") {
            continue;
        }
        let (_, page) = post(&c, &format!("{base}/study/message"), &[("csrf", &csrf(&page)), ("text", "<script>alert(3)</script>")]).await;
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && page.contains("&lt;script&gt;alert(3)"), "{page}");
        assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "{page}");
        return;
    }
    panic!("no participant was allocated the model arm");
}

#[tokio::test]
async fn a_registered_study_refuses_a_changed_plan_once_someone_took_part() {
    registration(None).await;
}

#[tokio::test]
async fn a_registered_study_on_postgresql_refuses_a_changed_plan() {
    let Some(server) = pg::server() else { return };
    registration(Some(&server.database("registration").await)).await;
}

async fn registration(db: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &plan_text(MOCK));
    let study = Study::load(&plan, db).await.unwrap();
    assert!(study.may_serve().await.unwrap().is_some_and(|w| w.contains("not registered")));
    let r = study.register().await.unwrap();
    assert_eq!((r.arms.len(), r.control_arm.as_deref(), r.target_participants), (2, Some("control"), 4));
    assert_eq!(study.may_serve().await.unwrap(), None);
    drop(study);
    let (base, server) = start_on(&plan, db).await;
    enrol(&browser(), &base, "x").await;
    server.abort();
    // The same design serves again, also with other conditions for the model's run; a changed
    // design does not, and cannot be registered anew.
    assert_eq!(Study::load(&plan, db).await.unwrap().may_serve().await.unwrap(), None);
    write_plan(dir.path(), &plan_text(MOCK).replace("[{ id: vignette }]", "[{ id: vignette }, { id: patient_query }]"));
    assert_eq!(Study::load(&plan, db).await.unwrap().may_serve().await.unwrap(), None);
    write_plan(dir.path(), &plan_text(MOCK).replace("target_participants: 4", "target_participants: 8"));
    let changed = Study::load(&plan, db).await.unwrap();
    let err = changed.may_serve().await.unwrap_err();
    assert!(err.contains("changed since it was registered") && err.contains(&r.design_hash), "{err}");
    assert!(changed.register().await.is_err());
}

/// A participant of the model arm, on their first scenario.
async fn model_arm(base: &str) -> (reqwest::Client, String) {
    for i in 0..6 {
        let c = browser();
        let page = enrol(&c, base, &format!("m{i}")).await;
        if page.contains("/study/message") {
            return (c, page);
        }
    }
    panic!("no participant was allocated the model arm");
}

#[tokio::test]
async fn a_failing_model_is_retried_then_the_participant_is_told_and_the_failure_counted() {
    let mock = benchcards_mock::start(benchcards_mock::MockConfig { fail_every: 1, ..Default::default() }, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let model = format!("    - {{ id: m, provider: openai, model: x, base_urls: [\"{}\"] }}", mock.base_url());
    let plan = write_plan(dir.path(), &plan_text(&model));
    let (base, _server) = start(&plan).await;
    let (c, page) = model_arm(&base).await;
    let (status, page) = post(&c, &format!("{base}/study/message"), &[("csrf", &csrf(&page)), ("text", "hello")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("could not answer just now") && page.contains("/study/answer"), "{page}");
    assert_eq!(mock.requests(), 3, "three attempts");
    let study = Study::load(&plan, None).await.unwrap();
    assert_eq!(study.store.events("model_failure").await.unwrap(), 1);
    // The participant's message is kept, and they can still answer.
    let participants = study.store.participants().await.unwrap();
    let p = participants.last().unwrap();
    assert_eq!(study.store.turns(&p.id, &p.scenarios[0]).await.unwrap().len(), 1);
}

#[tokio::test]
async fn messages_are_limited_in_length_and_number() {
    let dir = tempfile::tempdir().unwrap();
    let text = plan_text(MOCK)
        .replace("    recruitment_ids:", "    limits: { messages_per_scenario: 2, message_chars: 50 }\n    recruitment_ids:");
    let plan = write_plan(dir.path(), &text);
    let (base, _server) = start(&plan).await;
    let (c, page) = model_arm(&base).await;
    let token = csrf(&page);
    let url = format!("{base}/study/message");
    assert_eq!(post(&c, &url, &[("csrf", &token), ("text", &"x".repeat(51))]).await.0, 413);
    for _ in 0..2 {
        assert!(post(&c, &url, &[("csrf", &token), ("text", "a question")]).await.1.contains("Assistant:"));
    }
    let (_, page) = post(&c, &url, &[("csrf", &token), ("text", "one more")]).await;
    assert!(page.contains("as many messages as this scenario allows"), "{page}");
    assert_eq!(page.matches("<strong>You:</strong>").count(), 2, "the third message was not stored");
}

/// A simulated participant: one message to the assistant per scenario, then a fixed answer.
struct Scripted;

impl benchcards_study::participant::Person for Scripted {
    async fn message(&mut self, s: &benchcards_study::participant::Scenario) -> Option<String> {
        s.chat.is_empty().then(|| "What could this be?".to_string())
    }
    async fn answer(&mut self, _: &benchcards_study::participant::Scenario) -> benchcards_study::participant::Answers {
        benchcards_study::participant::Answers {
            conditions: vec!["common cold".into()],
            disposition: Some("self_care".into()),
            confidence: Some(3),
            sources: None,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_participants_on_two_servers_sharing_postgresql_lose_nothing_and_stay_balanced() {
    let Some(server) = pg::server() else { return };
    let db = server.database("two_servers").await;
    let dir = tempfile::tempdir().unwrap();
    let text = plan_text(MOCK)
        .replace("scenarios: [sx-001, sx-002]", "scenarios: [sx-001, sx-002, sx-003, sx-004]")
        .replace("    consent:", "    allocation: { block_size: 4, seed: 11 }\n    consent:");
    let plan = write_plan(dir.path(), &text);
    let (a, _one) = start_on(&plan, Some(&db)).await;
    let (b, _two) = start_on(&plan, Some(&db)).await;
    let design = benchcards_core::load_plan(&plan).unwrap().0.study.unwrap();
    // 300 people, 50 at a time, each sent to one server or the other as a load balancer would.
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(50));
    let people: Vec<_> = (0..300)
        .map(|i| {
            let servers = if i % 2 == 0 { [a.clone(), b.clone()] } else { [b.clone(), a.clone()] };
            let (design, gate) = (design.clone(), gate.clone());
            tokio::spawn(async move {
                let _turn = gate.acquire().await.unwrap();
                benchcards_study::participant::take_part(&servers, &format!("PROLIFIC_PID=p{i}"), &design, &mut Scripted).await
            })
        })
        .collect();
    for p in people {
        let taken = p.await.unwrap().unwrap();
        assert_eq!((taken.code.as_str(), taken.answered, taken.failovers), ("DONE42", 2, 0));
    }
    let study = Study::load(&plan, Some(&db)).await.unwrap();
    let participants = study.store.participants().await.unwrap();
    let answers = study.store.answers().await.unwrap();
    // Everyone enrolled once, with numbers 0..300; every answer is there.
    let mut numbers: Vec<u64> = participants.iter().map(|p| p.enrolment).collect();
    numbers.sort();
    assert_eq!(numbers, (0..300).collect::<Vec<u64>>());
    assert_eq!(answers.len(), 600, "two answers each, none lost");
    assert!(participants.iter().all(|p| p.completed.is_some()));
    // Within each scenario the arms differ by at most the block size.
    for s in &study.scenarios {
        let per_arm = |arm: &str| answers.iter().filter(|x| &x.scenario == s && x.arm == arm).count() as i64;
        let (m, c) = (per_arm("with_model"), per_arm("control"));
        assert!((m - c).abs() <= 4, "{s}: {m} with the model, {c} without");
        assert_eq!(m + c, 150, "{s}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pilot_never_writes_into_a_store_where_people_took_part() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), &plan_text(MOCK));
    let (base, server) = start(&plan).await;
    enrol(&browser(), &base, "someone").await;
    server.abort();
    let store = dir.path().join("test-study.study.sqlite").display().to_string();
    let args = benchcards_study::args::PilotArgs { plan: plan.clone(), participants: 2, concurrency: 1, turns: 1, database: Some(store) };
    let refused = tokio::task::spawn_blocking(move || benchcards_study::args::pilot(&args)).await.unwrap().unwrap_err();
    assert!(refused.contains("holds a study's participants"), "{refused}");
    let study = Study::load(&plan, None).await.unwrap();
    assert!(!study.is_pilot().await.unwrap());
    assert_eq!(study.store.participants().await.unwrap().len(), 1, "nothing was added");
}
