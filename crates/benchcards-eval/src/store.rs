//! The durable run store: one SQLite file (WAL) holding runs, every sample as soon as it
//! completes, each failed attempt with its reason, grades, and the response cache shared by all
//! runs. A killed run resumes from it: completed samples are never sent again.
//!
//! While requests are in flight, a run's writes go through a [`Writer`]: one thread that commits
//! whatever has queued up in one transaction (group commit), so no runtime thread waits on the
//! disk and a completed sample is durable as soon as the commit in progress ends.

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

pub struct Store {
    conn: Connection,
    path: std::path::PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: String,
    pub created: String,
    pub plan_id: String,
    pub plan_hash: String,
    pub status: String,
    pub samples_done: i64,
    pub samples_failed: i64,
}

/// One completed (or finally failed) sample.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SampleRow {
    pub key: String,
    pub unit: String,
    pub item: String,
    pub condition: String,
    pub label: String,
    pub model: String,
    pub epoch: i64,
    pub status: String,
    pub response: Option<String>,
    /// The whole exchange as JSON messages.
    pub transcript: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub latency_ms: i64,
    pub attempts: i64,
    pub requests_sent: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Cached {
    pub text: String,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

/// Whether a process with this id runs on this machine (Linux's `/proc`; elsewhere a lock is
/// never held against a later run).
fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{secs}")
}

/// The `.sqlite` files of a folder, by name: the run stores a reader may browse.
pub fn stores_in(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut out: Vec<(String, std::path::PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("sqlite"))
                .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p)))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The store holding `run`, opened read-only: the store `named`, else the first in `dir`
/// that holds it (`benchcards-runs.sqlite` first, then the folder's other `.sqlite` files, then
/// those of its subfolders, such as the demo's `benchcards-demo/runs.sqlite`). Nothing is
/// created. The error names every store searched and the flag to name another.
pub fn find_run(run: &str, named: Option<&Path>, dir: &Path) -> Result<Store, String> {
    let default = dir.join("benchcards-runs.sqlite");
    let candidates: Vec<std::path::PathBuf> = match named {
        Some(p) => vec![p.to_path_buf()],
        None => {
            let mut subfolders: Vec<_> = std::fs::read_dir(dir)
                .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect())
                .unwrap_or_default();
            subfolders.sort();
            let inside = std::iter::once(dir.to_path_buf()).chain(subfolders).flat_map(|d| stores_in(&d).into_iter().map(|(_, p)| p));
            std::iter::once(default.clone()).chain(inside.filter(|p| *p != default)).collect()
        }
    };
    let mut searched = Vec::new();
    for path in candidates {
        match Store::open_read_only(&path) {
            Ok(store) if store.plan_record(run).ok().flatten().is_some() => return Ok(store),
            Ok(_) => searched.push(format!("{} (no run `{run}`)", path.display())),
            Err(_) if !path.exists() => searched.push(format!("{} (no such file)", path.display())),
            Err(e) => searched.push(format!("{} (not a run store: {e})", path.display())),
        }
    }
    Err(format!(
        "no run `{run}` in {}; name the store that holds it with --store STORE (`benchcards runs list --store STORE` lists its runs)",
        searched.join(", ")
    ))
}

impl Store {
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, created TEXT NOT NULL, plan_id TEXT NOT NULL, plan_hash TEXT NOT NULL, plan_json TEXT NOT NULL, status TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS samples (run_id TEXT NOT NULL, key TEXT NOT NULL, unit TEXT NOT NULL, item TEXT NOT NULL, condition TEXT NOT NULL, label TEXT NOT NULL, model TEXT NOT NULL, epoch INTEGER NOT NULL, status TEXT NOT NULL, response TEXT, transcript TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, latency_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, requests_sent INTEGER NOT NULL, error TEXT, created TEXT NOT NULL, PRIMARY KEY (run_id, key));
             CREATE TABLE IF NOT EXISTS failures (run_id TEXT NOT NULL, key TEXT NOT NULL, attempt INTEGER NOT NULL, reason TEXT NOT NULL, created TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS grades (run_id TEXT NOT NULL, key TEXT NOT NULL, grader TEXT NOT NULL, score REAL NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (run_id, key, grader));
             CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, text TEXT NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, created TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS locks (run_id TEXT PRIMARY KEY, pid INTEGER NOT NULL, since TEXT NOT NULL);",
        )?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens an existing store only to read it (`report`, `runs`, the web UI): nothing is
    /// created, no table, no journal mode set, so reading never writes to a file; a database
    /// that is not a benchcards run store is refused.
    pub fn open_read_only(path: &Path) -> rusqlite::Result<Store> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Only a benchcards run store: the tables and columns the readers use must be there.
        conn.prepare("SELECT id, created, plan_id, plan_hash, plan_json, status FROM runs LIMIT 0")?;
        conn.prepare("SELECT run_id, key, unit, item, condition, label, model, epoch, status, response, transcript FROM samples LIMIT 0")?;
        conn.prepare("SELECT run_id, key, grader, score, detail FROM grades LIMIT 0")?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    /// Records a new run with an id made of the plan's id, the time and a number unique among
    /// the store's runs (a start at the same millisecond as another draws again); returns the id.
    pub fn create_run(&self, plan_id: &str, plan_hash: &str, plan_json: &str) -> rusqlite::Result<String> {
        static STARTS: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let mut draw = u64::from(std::process::id()) ^ u64::from(now.subsec_nanos()) ^ STARTS.fetch_add(1, Ordering::Relaxed) << 20;
        loop {
            // A splitmix64 step per draw: four digits that differ between processes and tries.
            draw = draw.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mixed = (draw ^ (draw >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let id = format!("{plan_id}-{}{:04}", now.as_millis(), (mixed ^ (mixed >> 31)) % 10_000);
            let inserted = self
                .conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO runs (id, created, plan_id, plan_hash, plan_json, status) VALUES (?1, ?2, ?3, ?4, ?5, 'running')",
                )?
                .execute(params![id, now.as_secs().to_string(), plan_id, plan_hash, plan_json])?;
            if inserted == 1 {
                return Ok(id);
            }
        }
    }

    /// Takes the run's lock for this process, unless a live process holds it: then its id.
    /// A lock left by a process that no longer exists (a run killed mid-way) is taken over.
    pub fn lock_run(&self, run: &str) -> rusqlite::Result<Result<(), u32>> {
        let me = std::process::id();
        // Immediate: two processes never both read "no holder" and both take the lock.
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        let holder: Option<u32> = tx.query_row("SELECT pid FROM locks WHERE run_id = ?1", params![run], |r| r.get(0)).optional()?;
        if let Some(pid) = holder.filter(|&pid| pid != me && process_alive(pid)) {
            return Ok(Err(pid));
        }
        tx.execute("INSERT OR REPLACE INTO locks (run_id, pid, since) VALUES (?1, ?2, ?3)", params![run, me, now()])?;
        tx.commit()?;
        Ok(Ok(()))
    }

    /// Gives the run's lock back (only this process's own).
    pub fn unlock_run(&self, run: &str) -> rusqlite::Result<()> {
        self.conn.execute("DELETE FROM locks WHERE run_id = ?1 AND pid = ?2", params![run, std::process::id()])?;
        Ok(())
    }

    pub fn set_status(&self, id: &str, status: &str) -> rusqlite::Result<()> {
        self.conn.execute("UPDATE runs SET status = ?2 WHERE id = ?1", params![id, status])?;
        Ok(())
    }

    pub fn plan_record(&self, id: &str) -> rusqlite::Result<Option<(String, String)>> {
        self.conn.query_row("SELECT plan_hash, plan_json FROM runs WHERE id = ?1", params![id], |r| Ok((r.get(0)?, r.get(1)?))).optional()
    }

    pub fn runs(&self) -> rusqlite::Result<Vec<RunRow>> {
        let mut st = self.conn.prepare(
            "SELECT r.id, r.created, r.plan_id, r.plan_hash, r.status,
                    (SELECT COUNT(*) FROM samples s WHERE s.run_id = r.id AND s.status = 'done'),
                    (SELECT COUNT(*) FROM samples s WHERE s.run_id = r.id AND s.status = 'failed')
             FROM runs r ORDER BY r.created, r.id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(RunRow {
                id: r.get(0)?,
                created: r.get(1)?,
                plan_id: r.get(2)?,
                plan_hash: r.get(3)?,
                status: r.get(4)?,
                samples_done: r.get(5)?,
                samples_failed: r.get(6)?,
            })
        })?;
        rows.collect()
    }

    /// Keys of the samples a run holds, done or failed.
    pub fn recorded_keys(&self, run: &str) -> rusqlite::Result<std::collections::HashSet<String>> {
        let mut st = self.conn.prepare("SELECT key FROM samples WHERE run_id = ?1")?;
        let rows = st.query_map(params![run], |r| r.get::<_, String>(0))?;
        rows.collect()
    }

    /// Keys of samples already completed in a run (skipped on resume).
    pub fn done_keys(&self, run: &str) -> rusqlite::Result<std::collections::HashSet<String>> {
        let mut st = self.conn.prepare("SELECT key FROM samples WHERE run_id = ?1 AND status = 'done'")?;
        let rows = st.query_map(params![run], |r| r.get::<_, String>(0))?;
        rows.collect()
    }

    /// Records a sample (replacing an earlier failed attempt at it) in its own transaction.
    pub fn put_sample(&self, run: &str, s: &SampleRow) -> rusqlite::Result<()> {
        self.conn.prepare_cached(
            "INSERT OR REPLACE INTO samples (run_id, key, unit, item, condition, label, model, epoch, status, response, transcript, prompt_tokens, completion_tokens, latency_ms, attempts, requests_sent, error, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            )?
            .execute(params![run, s.key, s.unit, s.item, s.condition, s.label, s.model, s.epoch, s.status, s.response, s.transcript, s.prompt_tokens, s.completion_tokens, s.latency_ms, s.attempts, s.requests_sent, s.error, now()],
        )?;
        Ok(())
    }

    pub fn put_failure(&self, run: &str, key: &str, attempt: i64, reason: &str) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("INSERT INTO failures (run_id, key, attempt, reason, created) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![run, key, attempt, reason, now()])?;
        Ok(())
    }

    pub fn failures(&self, run: &str) -> rusqlite::Result<Vec<(String, i64, String)>> {
        let mut st = self.conn.prepare("SELECT key, attempt, reason FROM failures WHERE run_id = ?1 ORDER BY rowid")?;
        let rows = st.query_map(params![run], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect()
    }

    pub fn samples(&self, run: &str) -> rusqlite::Result<Vec<SampleRow>> {
        let mut st = self.conn.prepare(
            "SELECT key, unit, item, condition, label, model, epoch, status, response, transcript, prompt_tokens, completion_tokens, latency_ms, attempts, requests_sent, error
             FROM samples WHERE run_id = ?1 ORDER BY label, unit, model, epoch",
        )?;
        let rows = st.query_map(params![run], |r| {
            Ok(SampleRow {
                key: r.get(0)?,
                unit: r.get(1)?,
                item: r.get(2)?,
                condition: r.get(3)?,
                label: r.get(4)?,
                model: r.get(5)?,
                epoch: r.get(6)?,
                status: r.get(7)?,
                response: r.get(8)?,
                transcript: r.get(9)?,
                prompt_tokens: r.get(10)?,
                completion_tokens: r.get(11)?,
                latency_ms: r.get(12)?,
                attempts: r.get(13)?,
                requests_sent: r.get(14)?,
                error: r.get(15)?,
            })
        })?;
        rows.collect()
    }

    pub fn cache_get(&self, key: &str) -> rusqlite::Result<Option<Cached>> {
        self.conn
            .prepare_cached("SELECT text, prompt_tokens, completion_tokens FROM cache WHERE key = ?1")?
            .query_row(params![key], |r| Ok(Cached { text: r.get(0)?, prompt_tokens: r.get(1)?, completion_tokens: r.get(2)? }))
            .optional()
    }

    pub fn cache_put(&self, key: &str, c: &Cached) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO cache (key, text, prompt_tokens, completion_tokens, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![key, c.text, c.prompt_tokens, c.completion_tokens, now()])?;
        Ok(())
    }

    pub fn put_grade(&self, run: &str, key: &str, grader: &str, score: f64, detail: &str) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO grades (run_id, key, grader, score, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![run, key, grader, score, detail])?;
        Ok(())
    }

    pub fn grades(&self, run: &str) -> rusqlite::Result<Vec<(String, String, f64, String)>> {
        let mut st = self.conn.prepare("SELECT key, grader, score, detail FROM grades WHERE run_id = ?1 ORDER BY key, grader")?;
        let rows = st.query_map(params![run], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect()
    }

    /// Runs `f` in one transaction: its writes land together or not at all.
    pub fn transaction<T>(&self, f: impl FnOnce(&Store) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        let tx = self.conn.unchecked_transaction()?;
        let out = f(self)?;
        tx.commit()?;
        Ok(out)
    }

    fn apply(&self, run: &str, w: &Write) -> rusqlite::Result<()> {
        match w {
            Write::Sample(s) => self.put_sample(run, s),
            Write::Cache(key, c) => self.cache_put(key, c),
            Write::Failure { key, attempt, reason } => self.put_failure(run, key, *attempt, reason),
        }
    }

    /// Checks the file's integrity (`PRAGMA integrity_check`).
    pub fn integrity_ok(&self) -> rusqlite::Result<bool> {
        self.conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).map(|s| s == "ok")
    }
}

/// A write a run makes while its requests are in flight.
#[derive(Debug, Clone)]
pub enum Write {
    Sample(Box<SampleRow>),
    Cache(String, Cached),
    Failure { key: String, attempt: i64, reason: String },
}

/// What the writer thread receives.
enum ToWriter {
    Write(Write),
    /// Answered once everything sent before it is committed, with the first write error so far.
    Flush(tokio::sync::oneshot::Sender<Result<(), String>>),
}

/// The store's writer thread for one run. It stops when the `Writer` is dropped, after
/// committing what was sent.
pub struct Writer {
    tx: mpsc::Sender<ToWriter>,
    /// Set by the writer thread at its first failed write (or when it could not open the store).
    failed: Arc<AtomicBool>,
}

/// Most writes in one transaction.
const BATCH: usize = 4096;

impl Writer {
    /// Starts the writer on its own connection to the store's file, so reads (the cache) never
    /// wait for a commit.
    pub fn start(store: &Store, run: &str) -> Writer {
        let (tx, rx) = mpsc::channel::<ToWriter>();
        let (run, path) = (run.to_string(), store.path.clone());
        let failed = Arc::new(AtomicBool::new(false));
        let flag = failed.clone();
        std::thread::spawn(move || {
            let store = Store::open(&path).map_err(|e| format!("cannot open {} to record the run: {e}", path.display()));
            let mut error = store.as_ref().err().cloned();
            flag.store(error.is_some(), Ordering::SeqCst);
            while let Ok(first) = rx.recv() {
                let (mut writes, mut acks) = (Vec::new(), Vec::new());
                for m in std::iter::once(first).chain(rx.try_iter().take(BATCH - 1)) {
                    match m {
                        ToWriter::Write(w) => writes.push(w),
                        ToWriter::Flush(ack) => acks.push(ack),
                    }
                }
                if let Ok(st) = &store
                    && let Err(e) = commit(st, &run, &writes)
                {
                    error.get_or_insert(e);
                    flag.store(true, Ordering::SeqCst);
                }
                for ack in acks {
                    let _ = ack.send(error.clone().map_or(Ok(()), Err));
                }
            }
        });
        Writer { tx, failed }
    }

    /// Whether a write has failed: the run should stop sending requests.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Queues a write. If the writer has stopped, the next `flush` says so.
    pub fn send(&self, w: Write) {
        let _ = self.tx.send(ToWriter::Write(w));
    }

    /// Waits until everything sent so far is committed; the error is the first write that failed.
    pub async fn flush(&self) -> Result<(), String> {
        let (ack, done) = tokio::sync::oneshot::channel();
        let stopped = || "the run store's writer stopped".to_string();
        self.tx.send(ToWriter::Flush(ack)).map_err(|_| stopped())?;
        done.await.map_err(|_| stopped())?
    }
}

/// Commits a batch in one transaction; if that fails, each write on its own, so one bad write
/// loses only itself. The error names how many writes were not recorded.
fn commit(st: &Store, run: &str, writes: &[Write]) -> Result<(), String> {
    if writes.is_empty() {
        return Ok(());
    }
    if st.transaction(|st| writes.iter().try_for_each(|w| st.apply(run, w))).is_ok() {
        return Ok(());
    }
    let errors: Vec<String> = writes.iter().filter_map(|w| st.apply(run, w).err().map(|e| e.to_string())).collect();
    match errors.first() {
        None => Ok(()),
        Some(e) => Err(format!("{} write(s) to the run store failed, the first with: {e}", errors.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(key: &str) -> SampleRow {
        SampleRow {
            key: key.into(),
            unit: "u".into(),
            item: "i".into(),
            condition: "vignette".into(),
            label: "vignette".into(),
            model: "m".into(),
            epoch: 0,
            status: "done".into(),
            response: Some("flu".into()),
            transcript: "[]".into(),
            prompt_tokens: 1,
            completion_tokens: 1,
            latency_ms: 1,
            attempts: 1,
            requests_sent: 1,
            error: None,
        }
    }

    #[tokio::test]
    async fn the_writer_commits_everything_sent_before_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("runs.sqlite")).unwrap();
        let writer = Writer::start(&store, "r");
        for i in 0..5000 {
            writer.send(Write::Sample(Box::new(sample(&format!("k{i}")))));
        }
        writer.send(Write::Cache("c".into(), Cached { text: "t".into(), prompt_tokens: 2, completion_tokens: 3 }));
        writer.send(Write::Failure { key: "k1".into(), attempt: 1, reason: "500 server error".into() });
        writer.flush().await.unwrap();
        // Read through the other connection: the writes are committed, not only queued.
        assert_eq!(store.done_keys("r").unwrap().len(), 5000);
        assert_eq!(store.cache_get("c").unwrap().unwrap().completion_tokens, 3);
        assert_eq!(store.failures("r").unwrap(), vec![("k1".to_string(), 1, "500 server error".to_string())]);
    }

    #[tokio::test]
    async fn a_write_that_fails_is_reported_and_loses_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("runs.sqlite")).unwrap();
        let writer = Writer::start(&store, "r");
        writer.send(Write::Sample(Box::new(sample("before"))));
        writer.flush().await.unwrap();
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.key = 'bad' BEGIN SELECT RAISE(ABORT, 'disk says no'); END;",
            )
            .unwrap();
        for key in ["a", "bad", "b"] {
            writer.send(Write::Sample(Box::new(sample(key))));
        }
        let err = writer.flush().await.unwrap_err();
        assert!(err.contains("1 write(s)") && err.contains("disk says no"), "{err}");
        let mut kept: Vec<String> = store.done_keys("r").unwrap().into_iter().collect();
        kept.sort();
        assert_eq!(kept, ["a", "b", "before"], "the batch's other writes are recorded");
    }

    #[test]
    fn a_run_is_locked_by_a_live_process_and_taken_over_from_a_dead_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("runs.sqlite")).unwrap();
        let run = store.create_run("p", "h", "{}").unwrap();
        let mut other = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let hold = |pid: u32| store.conn.execute("INSERT OR REPLACE INTO locks VALUES (?1, ?2, '0')", params![run, pid]).unwrap();
        hold(other.id());
        assert_eq!(store.lock_run(&run).unwrap(), Err(other.id()), "a live holder keeps the run");
        other.kill().unwrap();
        other.wait().unwrap();
        assert_eq!(store.lock_run(&run).unwrap(), Ok(()), "a dead holder's lock is taken over");
        assert_eq!(store.lock_run(&run).unwrap(), Ok(()), "this process may take its own lock again");
        store.unlock_run(&run).unwrap();
        assert_eq!(store.conn.query_row("SELECT COUNT(*) FROM locks", [], |r| r.get::<_, i64>(0)).unwrap(), 0);
    }

    #[test]
    fn runs_started_at_once_get_different_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.sqlite");
        Store::open(&path).unwrap();
        // Eight connections, as eight processes would have, starting 25 runs each at once.
        let ids: Vec<String> = std::thread::scope(|s| {
            let starts: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let store = Store::open(&path).unwrap();
                        (0..25).map(|_| store.create_run("same-plan", "h", "{}").unwrap()).collect::<Vec<_>>()
                    })
                })
                .collect();
            starts.into_iter().flat_map(|t| t.join().unwrap()).collect()
        });
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), 200);
        assert_eq!(Store::open(&path).unwrap().runs().unwrap().len(), 200);
    }

    #[test]
    fn after_a_failed_write_a_run_stops_sending_and_counts_what_it_did_not_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("runs.sqlite")).unwrap();
        // The disk "fills" after three samples.
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER full BEFORE INSERT ON samples WHEN (SELECT COUNT(*) FROM samples) >= 3 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
            )
            .unwrap();
        let plan_text = "plan:\n  version: 1\n  id: full\n  epochs: 40\n  card: c.yaml\n  deployment: d.yaml\n  dataset: d.jsonl\n  models:\n    - {id: m, provider: mock}\n  conditions:\n    - id: vignette\n  graders:\n    - kind: conditions\n";
        let loaded = benchcards_core::document::load_text("plan.yaml", plan_text.into(), None, false);
        let Some(benchcards_core::Document::Plan(plan)) = loaded.document else { panic!("{:?}", loaded.diagnostics) };
        let dataset = crate::dataset::parse_dataset(include_str!("../../../examples/datasets/symptoms-uk.jsonl")).unwrap();
        let (work, _) = crate::runner::expand(&plan, &dataset).unwrap();
        let total = work.len() as u64;
        assert!(total > 1000);
        let run = store.create_run("full", "h", "{}").unwrap();
        let clients = vec![Arc::new(crate::client::Client::Mock)];
        let opts = crate::runner::Options { concurrency: 1, max_attempts: 1, progress: crate::runner::Progress::Quiet };
        let store = Arc::new(std::sync::Mutex::new(store));
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let s = rt.block_on(crate::runner::execute(store, &run, work, &plan.models, clients, opts));
        assert!(s.store_error.as_deref().is_some_and(|e| e.contains("disk is full")), "{s:?}");
        assert!(s.done + s.failed < total / 2, "it stopped sending: {} of {total} samples tried", s.done + s.failed);
        assert_eq!(s.unrecorded, total - 3, "every sample the store does not hold is counted");
    }
}
