//! The study store: one SQLite file per study on one machine, or a PostgreSQL database that
//! several servers share. Every answer and chat turn is committed before the page that follows
//! it is sent. Participants are known by a random id; their cookie token is
//! kept only as a SHA-256 hash, their recruitment ids as a keyed hash unless the plan asks for
//! them in clear, and no IP address or user agent is stored. Withdrawal deletes every row of the
//! participant and keeps only a count.

pub mod postgres;
mod sqlite;

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where a participant is in the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Instructions,
    Comprehension,
    /// The n-th of the participant's scenarios (from 0).
    Scenario(usize),
    Attention,
    Done,
}

impl Step {
    fn text(self) -> String {
        match self {
            Step::Instructions => "instructions".into(),
            Step::Comprehension => "comprehension".into(),
            Step::Scenario(i) => format!("scenario:{i}"),
            Step::Attention => "attention".into(),
            Step::Done => "done".into(),
        }
    }
    fn parse(s: &str) -> Step {
        match s {
            "instructions" => Step::Instructions,
            "comprehension" => Step::Comprehension,
            "attention" => Step::Attention,
            "done" => Step::Done,
            _ => s.strip_prefix("scenario:").and_then(|n| n.parse().ok()).map_or(Step::Instructions, Step::Scenario),
        }
    }
}

/// One participant as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Participant {
    pub id: String,
    pub enrolment: u64,
    pub arm: String,
    pub scenarios: Vec<String>,
    /// The recruitment platform's ids, hashed unless the plan keeps them in clear.
    pub recruitment: BTreeMap<String, String>,
    pub step: Step,
    /// Unix seconds.
    pub started: i64,
    pub completed: Option<i64>,
    pub comprehension_attempts: u32,
    pub attention_failed: u32,
}

/// One outcome answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub participant: String,
    pub arm: String,
    pub scenario: String,
    pub conditions: Vec<String>,
    pub disposition: Option<String>,
    pub confidence: Option<u8>,
    /// The control arm's "where did you look".
    pub sources: Option<String>,
    pub started: i64,
    pub submitted: i64,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub role: String,
    pub text: String,
    pub created: i64,
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Random bytes from the operating system, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| format!("no randomness from the operating system: {e}"))?;
    Ok(hex(&buf))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(text.as_bytes()))
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`, hex-encoded.
pub fn hmac_hex(key: &str, message: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    let key = key.as_bytes();
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message.as_bytes()).finalize();
    hex(&Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize())
}

/// Equality that takes as long whatever the first difference (for tokens).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

type Result<T> = std::result::Result<T, String>;

/// The schema version this benchcards reads and writes; a store of another version is refused.
const SCHEMA_VERSION: i64 = 1;

/// The schema, each statement on its own (SQLite and PostgreSQL alike: every integer a BIGINT).
const SCHEMA: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS participants (id TEXT PRIMARY KEY, enrolment BIGINT NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE, arm TEXT NOT NULL, scenarios TEXT NOT NULL, recruitment TEXT NOT NULL, step TEXT NOT NULL, started BIGINT NOT NULL, completed BIGINT, comprehension_attempts BIGINT NOT NULL DEFAULT 0, attention_failed BIGINT NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS answers (participant TEXT NOT NULL, scenario TEXT NOT NULL, conditions TEXT NOT NULL, disposition TEXT, confidence BIGINT, sources TEXT, started BIGINT NOT NULL, submitted BIGINT NOT NULL, PRIMARY KEY (participant, scenario))",
    "CREATE TABLE IF NOT EXISTS turns (participant TEXT NOT NULL, scenario TEXT NOT NULL, idx BIGINT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, created BIGINT NOT NULL, PRIMARY KEY (participant, scenario, idx))",
    "CREATE TABLE IF NOT EXISTS events (participant TEXT, kind TEXT NOT NULL, detail TEXT NOT NULL, created BIGINT NOT NULL)",
];

/// Takes the next enrolment number; its row stays locked until the transaction ends, so two
/// servers never hand out the same number.
const NEXT_ENROLMENT: &str =
    "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'next_enrolment' RETURNING CAST(value AS BIGINT) - 1";
const INSERT_PARTICIPANT: &str = "INSERT INTO participants (id, enrolment, token_hash, arm, scenarios, recruitment, step, started) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// A value sent to or read from either database.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum V {
    I(Option<i64>),
    T(Option<String>),
}

impl V {
    fn text(s: &str) -> V {
        V::T(Some(s.to_string()))
    }
    fn int(&self) -> Option<i64> {
        match self {
            V::I(i) => *i,
            V::T(t) => t.as_deref().and_then(|t| t.parse().ok()),
        }
    }
    fn string(&self) -> Option<String> {
        match self {
            V::I(i) => i.map(|i| i.to_string()),
            V::T(t) => t.clone(),
        }
    }
}

/// Where a study's data lives: a SQLite file, or a PostgreSQL database (`postgres://USER@HOST:PORT/DB`,
/// its password in the environment variable `PGPASSWORD`, never in the URL).
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    File(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(s: &str) -> Location {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Location::Postgres(s.to_string())
        } else {
            Location::File(s.into())
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => write!(f, "{url}"),
        }
    }
}

/// The study's store.
pub enum StudyStore {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// Calls the backend's method: SQLite's at once, PostgreSQL's awaited.
macro_rules! on {
    ($self:ident, $b:ident => $call:expr) => {
        match $self {
            StudyStore::Sqlite($b) => $call,
            StudyStore::Postgres($b) => $call.await,
        }
    };
}

impl StudyStore {
    /// Opens (or creates) the study's store and brings its schema to this version in one locked
    /// transaction (a store of a newer version is refused); a new store gets its secret (the key
    /// of its hashes and CSRF tokens).
    pub async fn open(location: &Location) -> Result<StudyStore> {
        let store = match location {
            Location::File(path) => StudyStore::Sqlite(sqlite::Sqlite::open(path)?),
            Location::Postgres(url) => StudyStore::Postgres(postgres::Postgres::connect(url).await?),
        };
        let found = store.rows("SELECT value FROM meta WHERE key = 'schema'", &[]).await.ok();
        let found = found.and_then(|r| r.first().and_then(|row| row[0].int()));
        if let Some(v) = found.filter(|v| *v != SCHEMA_VERSION) {
            return Err(format!("{location} is a study store of schema {v}; this benchcards reads schema {SCHEMA_VERSION}"));
        }
        let mut statements: Vec<(&str, Vec<V>)> = SCHEMA.iter().map(|s| (*s, Vec::new())).collect();
        let init = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
        for (key, value) in [
            ("schema", SCHEMA_VERSION.to_string()),
            ("secret", random_hex(32)?),
            ("next_enrolment", "0".into()),
            ("withdrawals", "0".into()),
        ] {
            statements.push((init, vec![V::text(key), V::T(Some(value))]));
        }
        store.in_tx(&statements, true).await?;
        Ok(store)
    }

    /// Where the store is, for messages.
    pub fn location(&self) -> Location {
        match self {
            StudyStore::Sqlite(s) => Location::File(s.path.clone()),
            StudyStore::Postgres(p) => Location::Postgres(p.url.clone()),
        }
    }

    /// How the store is reached, for the server's first message.
    pub fn transport(&self) -> &'static str {
        match self {
            StudyStore::Sqlite(_) => "a file on this machine",
            StudyStore::Postgres(p) if p.tls => "over TLS, its certificate verified",
            StudyStore::Postgres(_) => "unencrypted, on this machine",
        }
    }

    async fn exec(&self, sql: &str, params: &[V]) -> Result<u64> {
        on!(self, b => b.exec(sql, params))
    }

    async fn rows(&self, sql: &str, params: &[V]) -> Result<Vec<Vec<V>>> {
        on!(self, b => b.rows(sql, params))
    }

    /// Runs the statements in one transaction (`lock`: one at a time across servers).
    async fn in_tx(&self, statements: &[(&str, Vec<V>)], lock: bool) -> Result<()> {
        on!(self, b => b.in_tx(statements, lock))
    }

    async fn count_of(&self, sql: &str, params: &[V]) -> Result<usize> {
        Ok(self.rows(sql, params).await?.first().and_then(|r| r[0].int()).unwrap_or(0) as usize)
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.rows("SELECT value FROM meta WHERE key = $1", &[V::text(key)]).await?.first().and_then(|r| r[0].string()))
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let sql = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        self.exec(sql, &[V::text(key), V::text(value)]).await.map(drop)
    }

    /// The key of the store's hashes and CSRF tokens.
    pub async fn secret(&self) -> Result<String> {
        self.meta("secret").await?.ok_or_else(|| "the study store has no secret".to_string())
    }

    /// Enrols a participant in one transaction: the next enrolment number (never reused, even
    /// after a withdrawal; locked until the participant's row is committed), then the
    /// allocation `allocate` gives for it. Returns the participant.
    pub async fn enrol(
        &self,
        token_hash: &str,
        recruitment: &BTreeMap<String, String>,
        allocate: impl Fn(u64) -> (String, Vec<String>),
    ) -> Result<Participant> {
        let (id, started) = (random_hex(8)?, now());
        let build = |next: i64| {
            let (arm, scenarios) = allocate(next as u64);
            let p = Participant {
                id: id.clone(),
                enrolment: next as u64,
                arm,
                scenarios,
                recruitment: recruitment.clone(),
                step: Step::Instructions,
                started,
                completed: None,
                comprehension_attempts: 0,
                attention_failed: 0,
            };
            let params = vec![
                V::text(&p.id),
                V::I(Some(next)),
                V::text(token_hash),
                V::text(&p.arm),
                V::T(serde_json::to_string(&p.scenarios).ok()),
                V::T(serde_json::to_string(&p.recruitment).ok()),
                V::T(Some(p.step.text())),
                V::I(Some(p.started)),
            ];
            (p, params)
        };
        on!(self, b => b.enrol(build))
    }

    const COLUMNS: &str = "id, enrolment, arm, scenarios, recruitment, step, started, completed, comprehension_attempts, attention_failed";

    fn participant(r: &[V]) -> Participant {
        let text = |i: usize| r.get(i).and_then(V::string).unwrap_or_default();
        let int = |i: usize| r.get(i).and_then(V::int);
        Participant {
            id: text(0),
            enrolment: int(1).unwrap_or(0) as u64,
            arm: text(2),
            scenarios: serde_json::from_str(&text(3)).unwrap_or_default(),
            recruitment: serde_json::from_str(&text(4)).unwrap_or_default(),
            step: Step::parse(&text(5)),
            started: int(6).unwrap_or(0),
            completed: int(7),
            comprehension_attempts: int(8).unwrap_or(0) as u32,
            attention_failed: int(9).unwrap_or(0) as u32,
        }
    }

    /// The participant whose cookie token hashes to `token_hash`.
    pub async fn by_token(&self, token_hash: &str) -> Result<Option<Participant>> {
        let sql = format!("SELECT {} FROM participants WHERE token_hash = $1", Self::COLUMNS);
        Ok(self.rows(&sql, &[V::text(token_hash)]).await?.first().map(|r| Self::participant(r)))
    }

    pub async fn participants(&self) -> Result<Vec<Participant>> {
        let sql = format!("SELECT {} FROM participants ORDER BY enrolment", Self::COLUMNS);
        Ok(self.rows(&sql, &[]).await?.iter().map(|r| Self::participant(r)).collect())
    }

    fn step_update(participant: &str, step: Step) -> (&'static str, Vec<V>) {
        let completed = (step == Step::Done).then(now);
        (
            "UPDATE participants SET step = $2, completed = COALESCE($3, completed) WHERE id = $1",
            vec![V::text(participant), V::T(Some(step.text())), V::I(completed)],
        )
    }

    pub async fn set_step(&self, participant: &str, step: Step) -> Result<()> {
        let (sql, params) = Self::step_update(participant, step);
        self.exec(sql, &params).await.map(drop)
    }

    /// Counts a wrong comprehension answer or a failed attention check.
    pub async fn count(&self, participant: &str, field: Counter) -> Result<()> {
        let sql = match field {
            Counter::Comprehension => "UPDATE participants SET comprehension_attempts = comprehension_attempts + 1 WHERE id = $1",
            Counter::Attention => "UPDATE participants SET attention_failed = attention_failed + 1 WHERE id = $1",
        };
        self.exec(sql, &[V::text(participant)]).await.map(drop)
    }

    /// Appends a chat message; returns its position in the scenario's chat.
    pub async fn add_turn(&self, participant: &str, scenario: &str, role: &str, text: &str) -> Result<usize> {
        let sql = "INSERT INTO turns (participant, scenario, idx, role, text, created) SELECT $1, $2, COALESCE(MAX(idx) + 1, 0), $3, $4, CAST($5 AS BIGINT) FROM turns WHERE participant = $1 AND scenario = $2 RETURNING idx";
        let params = [V::text(participant), V::text(scenario), V::text(role), V::text(text), V::I(Some(now()))];
        Ok(self.rows(sql, &params).await?.first().and_then(|r| r[0].int()).unwrap_or(0) as usize)
    }

    pub async fn turns(&self, participant: &str, scenario: &str) -> Result<Vec<Turn>> {
        let sql = "SELECT role, text, created FROM turns WHERE participant = $1 AND scenario = $2 ORDER BY idx";
        let rows = self.rows(sql, &[V::text(participant), V::text(scenario)]).await?;
        Ok(rows
            .iter()
            .map(|r| Turn {
                role: r[0].string().unwrap_or_default(),
                text: r[1].string().unwrap_or_default(),
                created: r[2].int().unwrap_or(0),
            })
            .collect())
    }

    /// Messages from the participant since `since` (unix seconds), for the rate limit.
    pub async fn messages_since(&self, participant: &str, since: i64) -> Result<usize> {
        self.count_of(
            "SELECT COUNT(*) FROM turns WHERE participant = $1 AND role = 'user' AND created >= $2",
            &[V::text(participant), V::I(Some(since))],
        )
        .await
    }

    /// Stores the outcome answer for a scenario and moves the participant on, in one transaction.
    pub async fn answer(&self, a: &Answer, next: Step) -> Result<()> {
        let sql = "INSERT INTO answers (participant, scenario, conditions, disposition, confidence, sources, started, submitted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (participant, scenario) DO UPDATE SET conditions = excluded.conditions, disposition = excluded.disposition, confidence = excluded.confidence, sources = excluded.sources, started = excluded.started, submitted = excluded.submitted";
        let params = vec![
            V::text(&a.participant),
            V::text(&a.scenario),
            V::T(serde_json::to_string(&a.conditions).ok()),
            V::T(a.disposition.clone()),
            V::I(a.confidence.map(i64::from)),
            V::T(a.sources.clone()),
            V::I(Some(a.started)),
            V::I(Some(a.submitted)),
        ];
        self.in_tx(&[(sql, params), Self::step_update(&a.participant, next)], false).await
    }

    /// Every answer, with the participant's arm, in enrolment order.
    pub async fn answers(&self) -> Result<Vec<Answer>> {
        let sql = "SELECT a.participant, p.arm, a.scenario, a.conditions, a.disposition, a.confidence, a.sources, a.started, a.submitted FROM answers a JOIN participants p ON p.id = a.participant ORDER BY p.enrolment, a.submitted";
        Ok(self
            .rows(sql, &[])
            .await?
            .iter()
            .map(|r| Answer {
                participant: r[0].string().unwrap_or_default(),
                arm: r[1].string().unwrap_or_default(),
                scenario: r[2].string().unwrap_or_default(),
                conditions: serde_json::from_str(&r[3].string().unwrap_or_default()).unwrap_or_default(),
                disposition: r[4].string(),
                confidence: r[5].int().map(|c| c.clamp(0, 255) as u8),
                sources: r[6].string(),
                started: r[7].int().unwrap_or(0),
                submitted: r[8].int().unwrap_or(0),
            })
            .collect())
    }

    pub async fn event(&self, participant: Option<&str>, kind: &str, detail: &str) -> Result<()> {
        let sql = "INSERT INTO events (participant, kind, detail, created) VALUES ($1, $2, $3, $4)";
        self.exec(sql, &[V::T(participant.map(str::to_string)), V::text(kind), V::text(detail), V::I(Some(now()))]).await.map(drop)
    }

    pub async fn events(&self, kind: &str) -> Result<usize> {
        self.count_of("SELECT COUNT(*) FROM events WHERE kind = $1", &[V::text(kind)]).await
    }

    /// Deletes every row of the participant, keeping only the count of withdrawals.
    pub async fn withdraw(&self, participant: &str) -> Result<()> {
        let who = || vec![V::text(participant)];
        self.in_tx(
            &[
                ("DELETE FROM answers WHERE participant = $1", who()),
                ("DELETE FROM turns WHERE participant = $1", who()),
                ("DELETE FROM events WHERE participant = $1", who()),
                ("DELETE FROM participants WHERE id = $1", who()),
                ("UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'withdrawals'", Vec::new()),
            ],
            false,
        )
        .await
    }

    pub async fn withdrawals(&self) -> Result<usize> {
        Ok(self.meta("withdrawals").await?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }
}

/// What `StudyStore::count` counts.
#[derive(Debug, Clone, Copy)]
pub enum Counter {
    Comprehension,
    Attention,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2.
        assert_eq!(hmac_hex("Jefe", "what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }

    #[tokio::test]
    async fn enrolment_numbers_are_never_reused_and_withdrawal_leaves_a_count() {
        let dir = tempfile::tempdir().unwrap();
        let at = Location::File(dir.path().join("s.sqlite"));
        let store = StudyStore::open(&at).await.unwrap();
        let alloc = |j: u64| (format!("arm{}", j % 2), vec![format!("s{j}")]);
        let a = store.enrol("h1", &BTreeMap::new(), alloc).await.unwrap();
        let b = store.enrol("h2", &BTreeMap::new(), alloc).await.unwrap();
        assert_eq!(store.add_turn(&b.id, "s1", "user", "hello").await.unwrap(), 0);
        assert_eq!(store.add_turn(&b.id, "s1", "assistant", "hi").await.unwrap(), 1);
        store.withdraw(&b.id).await.unwrap();
        let c = store.enrol("h3", &BTreeMap::new(), alloc).await.unwrap();
        assert_eq!((a.enrolment, b.enrolment, c.enrolment), (0, 1, 2));
        assert_eq!(store.participants().await.unwrap().len(), 2);
        assert!(store.turns(&b.id, "s1").await.unwrap().is_empty() && store.by_token("h2").await.unwrap().is_none());
        assert_eq!(store.withdrawals().await.unwrap(), 1);
        // A reopened store keeps its secret; a store of another schema is refused.
        let secret = store.secret().await.unwrap();
        store.set_meta("schema", "2").await.unwrap();
        drop(store);
        let refused = StudyStore::open(&at).await.err().unwrap_or_default();
        assert!(refused.contains("schema 2") && refused.contains("reads schema 1"), "{refused}");
        let reopened = sqlite::Sqlite::open(&dir.path().join("s.sqlite")).unwrap();
        reopened.exec("UPDATE meta SET value = '1' WHERE key = 'schema'", &[]).unwrap();
        assert_eq!(StudyStore::open(&at).await.unwrap().secret().await.unwrap(), secret);
    }
}
