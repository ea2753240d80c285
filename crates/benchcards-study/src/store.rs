//! The study store: one SQLite file per study. Every answer and chat turn is committed before the
//! page that follows it is sent. Participants are known by a random id; their cookie token is
//! kept only as a SHA-256 hash, their recruitment ids as a keyed hash unless the plan asks for
//! them in clear, and no IP address or user agent is stored. Withdrawal deletes every row of the
//! participant and keeps only a count.

use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

const SCHEMA_VERSION: &str = "1";

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

/// The study's file.
pub struct StudyStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

type Result<T> = std::result::Result<T, String>;

fn db(e: rusqlite::Error) -> String {
    format!("study store: {e}")
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

impl StudyStore {
    /// Opens (or creates) the study's file, checking its schema version; a new store gets its
    /// secret (the key of its hashes and CSRF tokens).
    pub fn open(path: &Path) -> Result<StudyStore> {
        let conn = Connection::open(path).map_err(|e| format!("cannot open the study store {}: {e}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS participants (id TEXT PRIMARY KEY, enrolment INTEGER NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE, arm TEXT NOT NULL, scenarios TEXT NOT NULL, recruitment TEXT NOT NULL, step TEXT NOT NULL, started INTEGER NOT NULL, completed INTEGER, comprehension_attempts INTEGER NOT NULL DEFAULT 0, attention_failed INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE IF NOT EXISTS answers (participant TEXT NOT NULL, scenario TEXT NOT NULL, conditions TEXT NOT NULL, disposition TEXT, confidence INTEGER, sources TEXT, started INTEGER NOT NULL, submitted INTEGER NOT NULL, PRIMARY KEY (participant, scenario));
             CREATE TABLE IF NOT EXISTS turns (participant TEXT NOT NULL, scenario TEXT NOT NULL, idx INTEGER NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (participant, scenario, idx));
             CREATE TABLE IF NOT EXISTS events (participant TEXT, kind TEXT NOT NULL, detail TEXT NOT NULL, created INTEGER NOT NULL);",
        )
        .map_err(db)?;
        let store = StudyStore { conn: Mutex::new(conn), path: path.to_path_buf() };
        match store.meta("schema")? {
            None => {
                store.set_meta("schema", SCHEMA_VERSION)?;
                store.set_meta("secret", &random_hex(32)?)?;
            }
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) => {
                return Err(format!("{} is a study store of schema {v}; this benchcards reads schema {SCHEMA_VERSION}", path.display()));
            }
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| "the study store's lock was poisoned".to_string())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn()?.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().map_err(db)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn()?
            .execute("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2", [key, value])
            .map_err(db)?;
        Ok(())
    }

    /// The key of the store's hashes and CSRF tokens.
    pub fn secret(&self) -> Result<String> {
        self.meta("secret")?.ok_or_else(|| "the study store has no secret".to_string())
    }

    /// Enrols a participant in one transaction: the next enrolment number (never reused, even
    /// after a withdrawal), then the allocation `allocate` gives for it. Returns the participant.
    pub fn enrol(
        &self,
        token_hash: &str,
        recruitment: &BTreeMap<String, String>,
        allocate: impl Fn(u64) -> (String, Vec<String>),
    ) -> Result<Participant> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db)?;
        let next: u64 = tx
            .query_row("SELECT value FROM meta WHERE key = 'next_enrolment'", [], |r| r.get::<_, String>(0))
            .optional()
            .map_err(db)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let (arm, scenarios) = allocate(next);
        let p = Participant {
            id: random_hex(8)?,
            enrolment: next,
            arm,
            scenarios,
            recruitment: recruitment.clone(),
            step: Step::Instructions,
            started: now(),
            completed: None,
            comprehension_attempts: 0,
            attention_failed: 0,
        };
        tx.execute(
            "INSERT INTO participants (id, enrolment, token_hash, arm, scenarios, recruitment, step, started) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                p.id,
                p.enrolment as i64,
                token_hash,
                p.arm,
                serde_json::to_string(&p.scenarios).unwrap_or_default(),
                serde_json::to_string(&p.recruitment).unwrap_or_default(),
                p.step.text(),
                p.started
            ],
        )
        .map_err(db)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('next_enrolment', ?1) ON CONFLICT(key) DO UPDATE SET value = ?1",
            [(next + 1).to_string()],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(p)
    }

    const COLUMNS: &str = "id, enrolment, arm, scenarios, recruitment, step, started, completed, comprehension_attempts, attention_failed";

    fn row(r: &rusqlite::Row) -> rusqlite::Result<Participant> {
        let json = |i: usize| -> rusqlite::Result<String> { r.get(i) };
        Ok(Participant {
            id: r.get(0)?,
            enrolment: r.get::<_, i64>(1)? as u64,
            arm: r.get(2)?,
            scenarios: serde_json::from_str(&json(3)?).unwrap_or_default(),
            recruitment: serde_json::from_str(&json(4)?).unwrap_or_default(),
            step: Step::parse(&r.get::<_, String>(5)?),
            started: r.get(6)?,
            completed: r.get(7)?,
            comprehension_attempts: r.get(8)?,
            attention_failed: r.get(9)?,
        })
    }

    /// The participant whose cookie token hashes to `token_hash`.
    pub fn by_token(&self, token_hash: &str) -> Result<Option<Participant>> {
        let sql = format!("SELECT {} FROM participants WHERE token_hash = ?1", Self::COLUMNS);
        self.conn()?.query_row(&sql, [token_hash], Self::row).optional().map_err(db)
    }

    pub fn participants(&self) -> Result<Vec<Participant>> {
        let conn = self.conn()?;
        let mut st = conn.prepare(&format!("SELECT {} FROM participants ORDER BY enrolment", Self::COLUMNS)).map_err(db)?;
        st.query_map([], Self::row).map_err(db)?.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
    }

    pub fn set_step(&self, participant: &str, step: Step) -> Result<()> {
        let completed = (step == Step::Done).then(now);
        self.conn()?
            .execute(
                "UPDATE participants SET step = ?2, completed = COALESCE(?3, completed) WHERE id = ?1",
                params![participant, step.text(), completed],
            )
            .map_err(db)?;
        Ok(())
    }

    /// Counts a wrong comprehension answer (`field` = `comprehension_attempts`) or a failed
    /// attention check (`attention_failed`).
    pub fn count(&self, participant: &str, field: Counter) -> Result<()> {
        let sql = match field {
            Counter::Comprehension => "UPDATE participants SET comprehension_attempts = comprehension_attempts + 1 WHERE id = ?1",
            Counter::Attention => "UPDATE participants SET attention_failed = attention_failed + 1 WHERE id = ?1",
        };
        self.conn()?.execute(sql, [participant]).map_err(db)?;
        Ok(())
    }

    /// Appends a chat message; returns its position in the scenario's chat.
    pub fn add_turn(&self, participant: &str, scenario: &str, role: &str, text: &str) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db)?;
        let idx: i64 = tx
            .query_row("SELECT COUNT(*) FROM turns WHERE participant = ?1 AND scenario = ?2", [participant, scenario], |r| r.get(0))
            .map_err(db)?;
        tx.execute(
            "INSERT INTO turns (participant, scenario, idx, role, text, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![participant, scenario, idx, role, text, now()],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(idx as usize)
    }

    pub fn turns(&self, participant: &str, scenario: &str) -> Result<Vec<Turn>> {
        let conn = self.conn()?;
        let mut st =
            conn.prepare("SELECT role, text, created FROM turns WHERE participant = ?1 AND scenario = ?2 ORDER BY idx").map_err(db)?;
        st.query_map([participant, scenario], |r| Ok(Turn { role: r.get(0)?, text: r.get(1)?, created: r.get(2)? }))
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)
    }

    /// Messages from the participant since `since` (unix seconds), for the rate limit.
    pub fn messages_since(&self, participant: &str, since: i64) -> Result<usize> {
        self.conn()?
            .query_row(
                "SELECT COUNT(*) FROM turns WHERE participant = ?1 AND role = 'user' AND created >= ?2",
                params![participant, since],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(db)
    }

    /// Stores the outcome answer for a scenario and moves the participant on, in one transaction.
    pub fn answer(&self, a: &Answer, next: Step) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db)?;
        tx.execute(
            "INSERT OR REPLACE INTO answers (participant, scenario, conditions, disposition, confidence, sources, started, submitted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                a.participant,
                a.scenario,
                serde_json::to_string(&a.conditions).unwrap_or_default(),
                a.disposition,
                a.confidence,
                a.sources,
                a.started,
                a.submitted
            ],
        )
        .map_err(db)?;
        let completed = (next == Step::Done).then(now);
        tx.execute(
            "UPDATE participants SET step = ?2, completed = COALESCE(?3, completed) WHERE id = ?1",
            params![a.participant, next.text(), completed],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Every answer, with the participant's arm, in enrolment order.
    pub fn answers(&self) -> Result<Vec<Answer>> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT a.participant, p.arm, a.scenario, a.conditions, a.disposition, a.confidence, a.sources, a.started, a.submitted FROM answers a JOIN participants p ON p.id = a.participant ORDER BY p.enrolment, a.submitted",
            )
            .map_err(db)?;
        st.query_map([], |r| {
            Ok(Answer {
                participant: r.get(0)?,
                arm: r.get(1)?,
                scenario: r.get(2)?,
                conditions: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
                disposition: r.get(4)?,
                confidence: r.get(5)?,
                sources: r.get(6)?,
                started: r.get(7)?,
                submitted: r.get(8)?,
            })
        })
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)
    }

    pub fn event(&self, participant: Option<&str>, kind: &str, detail: &str) -> Result<()> {
        self.conn()?
            .execute(
                "INSERT INTO events (participant, kind, detail, created) VALUES (?1, ?2, ?3, ?4)",
                params![participant, kind, detail, now()],
            )
            .map_err(db)?;
        Ok(())
    }

    pub fn events(&self, kind: &str) -> Result<usize> {
        self.conn()?
            .query_row("SELECT COUNT(*) FROM events WHERE kind = ?1", [kind], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(db)
    }

    /// Deletes every row of the participant, keeping only the count of withdrawals.
    pub fn withdraw(&self, participant: &str) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db)?;
        for table in ["answers", "turns", "events"] {
            tx.execute(&format!("DELETE FROM {table} WHERE participant = ?1"), [participant]).map_err(db)?;
        }
        tx.execute("DELETE FROM participants WHERE id = ?1", [participant]).map_err(db)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('withdrawals', '1') ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            [],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    pub fn withdrawals(&self) -> Result<usize> {
        Ok(self.meta("withdrawals")?.and_then(|v| v.parse().ok()).unwrap_or(0))
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

    #[test]
    fn enrolment_numbers_are_never_reused_and_withdrawal_leaves_a_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = StudyStore::open(&dir.path().join("s.sqlite")).unwrap();
        let alloc = |j: u64| (format!("arm{}", j % 2), vec![format!("s{j}")]);
        let a = store.enrol("h1", &BTreeMap::new(), alloc).unwrap();
        let b = store.enrol("h2", &BTreeMap::new(), alloc).unwrap();
        store.add_turn(&b.id, "s1", "user", "hello").unwrap();
        store.withdraw(&b.id).unwrap();
        let c = store.enrol("h3", &BTreeMap::new(), alloc).unwrap();
        assert_eq!((a.enrolment, b.enrolment, c.enrolment), (0, 1, 2));
        assert_eq!(store.participants().unwrap().len(), 2);
        assert!(store.turns(&b.id, "s1").unwrap().is_empty() && store.by_token("h2").unwrap().is_none());
        assert_eq!(store.withdrawals().unwrap(), 1);
        // A reopened store keeps its secret.
        let secret = store.secret().unwrap();
        drop(store);
        assert_eq!(StudyStore::open(&dir.path().join("s.sqlite")).unwrap().secret().unwrap(), secret);
    }
}
