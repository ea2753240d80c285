//! The study store in a PostgreSQL database, shared by several servers behind one load balancer.
//! The URL names the user, host, port and database; the password comes from `PGPASSWORD` when
//! the URL has none (the command line refuses one in the URL: command lines are visible to
//! every user of a machine). Enrolment takes the next number by updating its row, which stays locked until
//! the participant is committed, so concurrent servers never allocate one number twice; the
//! schema is brought up to date under an advisory lock, so two servers starting together agree.

use super::{INSERT_PARTICIPANT, NEXT_ENROLMENT, Participant, Result, V};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::str::FromStr;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};

pub struct Postgres {
    pool: Pool,
    /// The URL without its password, for messages.
    pub(super) url: String,
}

/// Whether a `postgres://` URL holds a password.
pub fn has_password(url: &str) -> bool {
    tokio_postgres::Config::from_str(url).is_ok_and(|c| c.get_password().is_some())
}

/// The URL with its password (if any) left out.
fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    match rest.split_once('@') {
        Some((user, host)) if user.contains(':') => format!("{scheme}://{}:***@{host}", user.split(':').next().unwrap_or_default()),
        _ => url.to_string(),
    }
}

/// The advisory lock key of schema changes ("bcstudy" in ASCII).
const SCHEMA_LOCK: i64 = 0x62_6373_7475_6479;

fn db(e: impl std::error::Error) -> String {
    format!("study store (PostgreSQL): {}", why(&e))
}

/// An error with its causes (the database's own message is a cause, not the error's text).
fn why(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}

impl ToSql for V {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            V::I(i) => i.to_sql(ty, out),
            V::T(t) => t.to_sql(ty, out),
        }
    }
    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <String as ToSql>::accepts(ty)
    }
    to_sql_checked!();
}

fn read(row: &Row) -> Vec<V> {
    (0..row.len())
        .map(|i| match *row.columns()[i].type_() {
            Type::INT8 => V::I(row.try_get(i).unwrap_or(None)),
            Type::INT4 => V::I(row.try_get::<_, Option<i32>>(i).unwrap_or(None).map(i64::from)),
            _ => V::T(row.try_get(i).unwrap_or(None)),
        })
        .collect()
}

fn params(p: &[V]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Postgres {
    pub async fn connect(url: &str) -> Result<Postgres> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| format!("--database {}: {e}", shown(url)))?;
        if let (None, Ok(password)) = (config.get_password(), std::env::var("PGPASSWORD")) {
            config.password(password);
        }
        config.connect_timeout(std::time::Duration::from_secs(10));
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager).max_size(16).build().map_err(db)?;
        let store = Postgres { pool, url: shown(url) };
        drop(store.client().await?);
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|e| format!("cannot reach the study's database {}: {}", self.url, why(&e)))
    }

    pub(super) async fn exec(&self, sql: &str, p: &[V]) -> Result<u64> {
        self.client().await?.execute(sql, &params(p)).await.map_err(db)
    }

    pub(super) async fn rows(&self, sql: &str, p: &[V]) -> Result<Vec<Vec<V>>> {
        Ok(self.client().await?.query(sql, &params(p)).await.map_err(db)?.iter().map(read).collect())
    }

    pub(super) async fn in_tx(&self, statements: &[(&str, Vec<V>)], lock: bool) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if lock {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK]).await.map_err(db)?;
        }
        for (sql, p) in statements {
            tx.execute(*sql, &params(p)).await.map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    pub(super) async fn enrol(&self, build: impl Fn(i64) -> (Participant, Vec<V>)) -> Result<Participant> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let next: i64 = tx.query_one(NEXT_ENROLMENT, &[]).await.map_err(db)?.try_get(0).map_err(db)?;
        let (p, values) = build(next);
        tx.execute(INSERT_PARTICIPANT, &params(&values)).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(p)
    }
}
