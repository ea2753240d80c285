//! The study store in a PostgreSQL database, shared by several servers behind one load balancer.
//! The URL names the user, host, port and database; the password comes from `PGPASSWORD` when
//! the URL has none (the command line refuses one in the URL: command lines are visible to
//! every user of a machine). A server on another machine is reached over TLS only, its
//! certificate verified against the system's authorities or the URL's `sslrootcert` (else
//! `PGSSLROOTCERT`), as libpq names them; `sslmode=disable` is refused for it. A server on this
//! machine (loopback or a Unix socket) is reached as `sslmode` says, unencrypted by default
//! (an `sslrootcert` in the URL asks for TLS there too). Enrolment takes the next number by
//! updating its row, which stays locked until the participant is committed, so concurrent
//! servers never allocate one number twice; the schema is brought up to date under an advisory
//! lock, so two servers starting together agree.

use super::{INSERT_PARTICIPANT, NEXT_ENROLMENT, Participant, Result, V};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{NoTls, Row};
use tokio_postgres_rustls::MakeRustlsConnect;

pub struct Postgres {
    pool: Pool,
    /// The URL without its password, for messages.
    pub(super) url: String,
    /// Whether sessions are encrypted (TLS with a verified certificate).
    pub(super) tls: bool,
}

/// libpq's connection settings that tokio-postgres does not read, taken out of a URL's query:
/// the URL left for tokio-postgres and `sslrootcert`. `sslmode=verify-ca` and `verify-full`
/// read as `require`: every certificate is verified here.
fn libpq_extras(url: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_string(), None) };
    let mut root = None;
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("sslrootcert", path) => root = Some(PathBuf::from(path)),
            ("sslmode", "verify-ca" | "verify-full") => {
                kept.append_pair("sslmode", "require");
            }
            _ => {
                kept.append_pair(&key, &value);
            }
        }
    }
    let kept = kept.finish();
    (if kept.is_empty() { base.to_string() } else { format!("{base}?{kept}") }, root)
}

/// Whether every host of `config` is on this machine: a Unix socket, `localhost` or a
/// loopback address.
fn on_this_machine(config: &tokio_postgres::Config) -> bool {
    let loopback = |h: &str| h == "localhost" || h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    config.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => loopback(name),
        Host::Unix(_) => true,
    }) && config.get_hostaddrs().iter().all(|a| a.is_loopback())
}

/// The TLS connector: certificates verified against `root` (a PEM file of authorities) or,
/// without one, the system's authorities.
fn tls_connector(root: Option<&Path>) -> Result<MakeRustlsConnect> {
    let mut roots = rustls::RootCertStore::empty();
    match root {
        Some(path) => {
            use rustls::pki_types::pem::PemObject;
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| {
                    format!("sslrootcert {}: {e}; give a PEM file of the authorities that sign the server's certificate", path.display())
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("sslrootcert {} holds no certificate authority", path.display()));
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
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
        let (pg_url, root) = libpq_extras(url);
        let mut config = tokio_postgres::Config::from_str(&pg_url).map_err(|e| format!("--database {}: {e}", shown(url)))?;
        if let (None, Ok(password)) = (config.get_password(), std::env::var("PGPASSWORD")) {
            config.password(password);
        }
        config.connect_timeout(std::time::Duration::from_secs(10));
        let local = on_this_machine(&config);
        // An authority named in the URL asks for TLS, wherever the server is.
        let asks_tls = root.is_some();
        let root = root.or_else(|| std::env::var_os("PGSSLROOTCERT").map(PathBuf::from));
        let tls = match config.get_ssl_mode() {
            SslMode::Disable if !local => {
                return Err(format!(
                    "--database {}: the server is on another machine, so participants' answers and the password would cross the network unencrypted; remove sslmode=disable and turn TLS on in the server (ssl = on), or reach it through a tunnel on this machine",
                    shown(url)
                ));
            }
            SslMode::Disable => false,
            SslMode::Require => true,
            _ => !local || asks_tls,
        };
        let recycling = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = if tls {
            // Never a silent fall back to an unencrypted session.
            config.ssl_mode(SslMode::Require);
            Manager::from_config(config, tls_connector(root.as_deref())?, recycling)
        } else {
            Manager::from_config(config, NoTls, recycling)
        };
        let pool = Pool::builder(manager).max_size(16).build().map_err(db)?;
        let store = Postgres { pool, url: shown(url), tls };
        drop(store.client().await.map_err(|e| if tls { format!("{e} (over TLS: is ssl = on in the server, and is its certificate signed by the system's authorities or by sslrootcert's?)") } else { e })?);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_settings_tokio_postgres_lacks_are_taken_out_of_the_url() {
        let (url, root) =
            libpq_extras("postgres://u@db.example:5432/s?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20b.pem&application_name=x");
        assert_eq!(url, "postgres://u@db.example:5432/s?sslmode=require&application_name=x");
        assert_eq!(root, Some(PathBuf::from("/etc/ca b.pem")));
        assert_eq!(libpq_extras("postgres://u@h/s?sslrootcert=/a.pem"), ("postgres://u@h/s".to_string(), Some(PathBuf::from("/a.pem"))));
        assert_eq!(libpq_extras("postgres://u@h/s"), ("postgres://u@h/s".to_string(), None));
        assert!(tokio_postgres::Config::from_str(&libpq_extras("postgres://u@h/s?sslmode=verify-ca").0).is_ok());
    }

    #[test]
    fn only_loopback_hosts_and_sockets_are_on_this_machine() {
        let here = |url: &str| on_this_machine(&tokio_postgres::Config::from_str(url).unwrap());
        for url in [
            "postgres://u@localhost/s",
            "postgres://u@127.0.0.1:5433/s",
            "postgres://u@[::1]/s",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/s",
        ] {
            assert!(here(url), "{url}");
        }
        for url in [
            "postgres://u@db.example/s",
            "postgres://u@10.0.0.1/s",
            "postgres://u@localhost,db.example/s",
            "postgres://u@localhost/s?hostaddr=10.0.0.1",
        ] {
            assert!(!here(url), "{url}");
        }
    }

    #[tokio::test]
    async fn plaintext_to_another_machine_is_refused_before_connecting() {
        // TEST-NET-1: nothing answers there, so an attempt would time out instead.
        let e = Postgres::connect("postgres://u:secret@192.0.2.1/s?sslmode=disable").await.err().unwrap();
        assert!(e.contains("another machine") && e.contains("sslmode=disable"), "{e}");
        assert!(!e.contains("secret"), "{e}");
    }
}
