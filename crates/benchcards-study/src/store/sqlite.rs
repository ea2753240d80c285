//! The study store in one SQLite file (write-ahead log, `synchronous = FULL`): the default on one
//! machine. Statements are written once, in PostgreSQL's `$N` form, which SQLite reads as `?N`.

use super::{INSERT_PARTICIPANT, NEXT_ENROLMENT, Participant, Result, V};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub struct Sqlite {
    conn: Mutex<Connection>,
    pub(super) path: PathBuf,
}

fn db(e: rusqlite::Error) -> String {
    format!("study store: {e}")
}

/// `$N` → `?N` (no statement holds a `$` otherwise).
fn sql(s: &str) -> String {
    s.replace('$', "?")
}

impl rusqlite::ToSql for V {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            V::I(i) => i.to_sql()?,
            V::T(t) => t.to_sql()?,
        })
    }
}

fn read(row: &rusqlite::Row) -> rusqlite::Result<Vec<V>> {
    (0..row.as_ref().column_count())
        .map(|i| {
            Ok(match row.get_ref(i)? {
                ValueRef::Integer(n) => V::I(Some(n)),
                ValueRef::Null => V::T(None),
                ValueRef::Text(t) => V::T(Some(String::from_utf8_lossy(t).into_owned())),
                ValueRef::Real(r) => V::I(Some(r as i64)),
                ValueRef::Blob(b) => V::T(Some(String::from_utf8_lossy(b).into_owned())),
            })
        })
        .collect()
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite> {
        let conn = Connection::open(path).map_err(|e| format!("cannot open the study store {}: {e}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db)?;
        Ok(Sqlite { conn: Mutex::new(conn), path: path.to_path_buf() })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| "the study store's lock was poisoned".to_string())
    }

    pub(super) fn exec(&self, s: &str, params: &[V]) -> Result<u64> {
        self.conn()?.execute(&sql(s), rusqlite::params_from_iter(params)).map(|n| n as u64).map_err(db)
    }

    pub(super) fn rows(&self, s: &str, params: &[V]) -> Result<Vec<Vec<V>>> {
        let conn = self.conn()?;
        let mut st = conn.prepare(&sql(s)).map_err(db)?;
        st.query_map(rusqlite::params_from_iter(params), read).map_err(db)?.collect::<rusqlite::Result<_>>().map_err(db)
    }

    /// One immediate transaction (SQLite has one writer at a time, so `lock` adds nothing).
    pub(super) fn in_tx(&self, statements: &[(&str, Vec<V>)], _lock: bool) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        for (s, params) in statements {
            tx.execute(&sql(s), rusqlite::params_from_iter(params)).map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    pub(super) fn enrol(&self, build: impl Fn(i64) -> (Participant, Vec<V>)) -> Result<Participant> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let next: i64 = tx.query_row(NEXT_ENROLMENT, [], |r| r.get(0)).map_err(db)?;
        let (p, params) = build(next);
        tx.execute(&sql(INSERT_PARTICIPANT), rusqlite::params_from_iter(&params)).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(p)
    }
}
