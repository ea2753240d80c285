//! A real PostgreSQL server for the tests: initialised in a temporary folder, listening on a
//! loopback port, with TLS (a certificate for `localhost` and 127.0.0.1 signed by an authority
//! made for the test, in `ca.pem`), run as its own user (PostgreSQL refuses root: as root the tests use the user
//! `benchcards-pg`, which scripts/test.sh creates), with a password. It is started once per
//! test binary and dies with it (the parent-death signal of a thread that lives as long as the
//! process). Where PostgreSQL cannot be started the tests say so and skip, except under CI.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Server {
    pub port: u16,
    pub password: String,
    /// The authority that signed the server's certificate (PEM).
    #[allow(dead_code)]
    pub ca: PathBuf,
}

/// A certificate authority, and a server certificate for `localhost` and 127.0.0.1 it signed:
/// (authority PEM, certificate PEM, key PEM).
fn certificates() -> Result<(String, String, String), rcgen::Error> {
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name.push(rcgen::DnType::CommonName, "benchcards test authority");
    let ca_cert = ca.self_signed(&ca_key)?;
    let key = rcgen::KeyPair::generate()?;
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?
        .signed_by(&key, &rcgen::Issuer::new(ca, ca_key))?;
    Ok((ca_cert.pem(), cert.pem(), key.serialize_pem()))
}

const USER: &str = "benchcards-pg";

/// The folder holding `initdb` and `postgres`: on the PATH, else Debian's.
fn bin_dir() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let debian = std::fs::read_dir("/usr/lib/postgresql").into_iter().flatten().flatten().map(|e| e.path().join("bin"));
    std::env::split_paths(&path).chain(debian).find(|d| ["initdb", "postgres", "pg_isready"].iter().all(|b| d.join(b).is_file()))
}

/// The user and group ids to run as: this process's unless it is root.
fn ids() -> Result<Option<(u32, u32)>, String> {
    // SAFETY: getuid has no preconditions; getpwnam's result is read at once, before any other
    // call could overwrite it.
    unsafe {
        if libc::getuid() != 0 {
            return Ok(None);
        }
        let name = std::ffi::CString::new(USER).map_err(|e| e.to_string())?;
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            return Err(format!("running as root and there is no user `{USER}` to run PostgreSQL as (scripts/test.sh creates it)"));
        }
        Ok(Some(((*pw).pw_uid, (*pw).pw_gid)))
    }
}

fn as_user(cmd: &mut Command, ids: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = ids {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(0, |a| a.port())
}

fn start() -> Result<Server, String> {
    let bin = bin_dir().ok_or("no PostgreSQL (initdb, postgres, pg_isready) on the PATH or under /usr/lib/postgresql")?;
    let ids = ids()?;
    // Folders of earlier test processes that are gone.
    for e in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(pid) = name.strip_prefix("benchcards-pg-")
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let dir = std::env::temp_dir().join(format!("benchcards-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let password = format!("pw-{}-{}", std::process::id(), free_port());
    std::fs::write(dir.join("pw"), &password).map_err(|e| e.to_string())?;
    let (ca, cert, key) = certificates().map_err(|e| e.to_string())?;
    for (name, text) in [("ca.pem", ca), ("server.crt", cert), ("server.key", key)] {
        std::fs::write(dir.join(name), text).map_err(|e| e.to_string())?;
    }
    // PostgreSQL refuses a key that others can read.
    std::fs::set_permissions(dir.join("server.key"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).map_err(|e| e.to_string())?;
    if let Some((uid, gid)) = ids {
        for p in [dir.clone(), dir.join("pw"), dir.join("server.crt"), dir.join("server.key")] {
            std::os::unix::fs::chown(&p, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
        }
    }
    let out = as_user(&mut Command::new(bin.join("initdb")), ids)
        .args(["-D", "data", "-U", "postgres", "--auth=scram-sha-256", "--pwfile=pw", "--no-sync"])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let port = free_port();
    let (tx, rx) = std::sync::mpsc::channel();
    let (postgres, data, sockets) = (bin.join("postgres"), dir.join("data"), dir.clone());
    let tls = [
        "-c".to_string(),
        "ssl=on".to_string(),
        "-c".to_string(),
        format!("ssl_cert_file={}", dir.join("server.crt").display()),
        "-c".to_string(),
        format!("ssl_key_file={}", dir.join("server.key").display()),
    ];
    // The server's parent is this thread, which never ends before the process does.
    std::thread::spawn(move || {
        let mut cmd = Command::new(postgres);
        as_user(&mut cmd, ids)
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"])
            .args(&tls)
            .arg("-k")
            .arg(&sockets)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(sockets.join("log")).map_or_else(|_| std::process::Stdio::null(), Into::into));
        // SAFETY: prctl is async-signal-safe; it only asks for SIGKILL when this thread ends.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn();
        let _ = tx.send(child.as_ref().map(|_| ()).map_err(|e| e.to_string()));
        if let Ok(mut c) = child {
            let _ = c.wait();
        }
        loop {
            std::thread::park();
        }
    });
    rx.recv().map_err(|e| e.to_string())??;
    // Ready when it accepts sessions (an open port may still answer "starting up").
    for _ in 0..200 {
        let ready = Command::new(bin.join("pg_isready")).args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()]).status();
        if ready.is_ok_and(|s| s.success()) {
            return Ok(Server { port, password, ca: dir.join("ca.pem") });
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err(format!("PostgreSQL did not start: {}", std::fs::read_to_string(dir.join("log")).unwrap_or_default()))
}

/// The test server, started on first use; `None` (said on stderr) where it cannot start,
/// except under CI, where that fails the test.
pub fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(s) => Some(s),
        Err(e) => {
            assert!(std::env::var("CI").is_err(), "CI needs PostgreSQL for the study store's tests: {e}");
            eprintln!("PostgreSQL cannot be started here, so the PostgreSQL half of this test is skipped: {e}");
            None
        }
    }
}

impl Server {
    /// A URL without the password (it goes in PGPASSWORD). Not every test binary that includes
    /// this module runs the command line.
    #[allow(dead_code)]
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database; its URL with the password, for use in this process.
    pub async fn database(&self, name: &str) -> String {
        let admin = format!("postgres://postgres:{}@127.0.0.1:{}/postgres", self.password, self.port);
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.expect("connect to the test server");
        tokio::spawn(connection);
        client.batch_execute(&format!("CREATE DATABASE \"{name}\"")).await.expect("create a database");
        format!("postgres://postgres:{}@127.0.0.1:{}/{name}", self.password, self.port)
    }
}
