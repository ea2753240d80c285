//! The study commands as the command line takes them (`benchcards study serve|register|export`),
//! each with the function that runs it; the binary only dispatches.

use crate::Study;
use crate::participant::{Simulated, take_part};
use crate::server::Options;
use benchcards_core::PatientBehaviour;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The plan whose `study:` section is served.
    pub plan: PathBuf,
    /// The study's store: a SQLite file (default: PLAN-ID.study.sqlite beside the plan), or a
    /// PostgreSQL database several servers share, `postgres://USER@HOST:PORT/DB` (the password
    /// in PGPASSWORD).
    #[arg(long)]
    pub database: Option<String>,
    #[arg(long, default_value_t = 8090)]
    pub port: u16,
    /// Listen on another address than 127.0.0.1 (warned: put a TLS reverse proxy in front).
    #[arg(long)]
    pub host: Option<std::net::IpAddr>,
    /// A host name the server answers besides localhost and its addresses (the proxy's name).
    #[arg(long = "allowed-host")]
    pub allowed_hosts: Vec<String>,
    /// The environment variable holding the researcher's token for /admin.
    #[arg(long, default_value = "BENCHCARDS_STUDY_ADMIN_TOKEN")]
    pub admin_token_env: String,
    /// Mark cookies Secure (set it when a TLS reverse proxy serves the study).
    #[arg(long)]
    pub secure_cookies: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PilotArgs {
    /// The plan whose `study:` section is piloted.
    pub plan: PathBuf,
    /// Simulated participants to take part.
    #[arg(long, default_value_t = 20)]
    pub participants: usize,
    /// How many take part at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Messages each simulated participant sends the arm's model per scenario, at most.
    #[arg(long, default_value_t = 3)]
    pub turns: usize,
    /// The pilot's own store (default: PLAN-ID.pilot.sqlite beside the plan); never the
    /// study's.
    #[arg(long)]
    pub database: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RegisterArgs {
    pub plan: PathBuf,
    /// The study's store: a SQLite file (default: PLAN-ID.study.sqlite beside the plan), or a
    /// PostgreSQL database several servers share, `postgres://USER@HOST:PORT/DB` (the password
    /// in PGPASSWORD).
    #[arg(long)]
    pub database: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    pub plan: PathBuf,
    /// The study's store: a SQLite file (default: PLAN-ID.study.sqlite beside the plan), or a
    /// PostgreSQL database several servers share, `postgres://USER@HOST:PORT/DB` (the password
    /// in PGPASSWORD).
    #[arg(long)]
    pub database: Option<String>,
    /// The `human_study` CSV to write (one row per participant × scenario).
    #[arg(short, long, default_value = "study.csv")]
    pub output: PathBuf,
    /// Also write the chats as conversation logs (JSONL, for `measure` and `augment`).
    #[arg(long)]
    pub logs: Option<PathBuf>,
}

/// `--database`, refused when it writes a password on the command line.
fn database(given: &Option<String>) -> Result<Option<&str>, String> {
    match given.as_deref() {
        Some(url) if crate::store::postgres::has_password(url) => Err(
            "--database holds a password: give it in the environment variable PGPASSWORD instead (a command line is visible to every user of the machine)"
                .into(),
        ),
        other => Ok(other),
    }
}

/// A runtime for the study commands (the store and the server are asynchronous).
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())
}

/// Serves the study until the process ends.
pub fn serve(a: &ServeArgs) -> Result<String, String> {
    let token = std::env::var(&a.admin_token_env).ok().filter(|t| t.len() >= 16).ok_or_else(|| {
        format!(
            "set {} to the researcher's token (at least 16 characters, e.g. `export {}=$(openssl rand -hex 24)`): the dashboard at /admin needs it",
            a.admin_token_env, a.admin_token_env
        )
    })?;
    runtime()?.block_on(async {
        let mut study = Study::load(&a.plan, database(&a.database)?).await?;
        if study.is_pilot().await? {
            return Err(format!(
                "{} holds a pilot's simulated participants: serve the study on its own store (leave out --database, or name another)",
                study.store.location()
            ));
        }
        if let Some(warning) = study.may_serve().await? {
            eprintln!("warning: {warning}");
        }
        eprintln!("connecting the arms' models (the embedded model takes some seconds to load) ...");
        study.connect()?;
        let host = a.host.unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
        if !host.is_loopback() {
            eprintln!(
                "warning: listening on {host}: anyone who can reach this machine can take part; serve it behind a TLS reverse proxy with --secure-cookies"
            );
        }
        let store = study.store.location();
        let listener = tokio::net::TcpListener::bind((host, a.port))
            .await
            .map_err(|e| format!("cannot serve on {host}:{}: {e}; another program may hold that port: pick another with --port", a.port))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        eprintln!(
            "benchcards study serve: participants at http://{bound}/ ; the dashboard at http://{bound}/admin (token in {}); store {store} ({})",
            a.admin_token_env,
            study.store.transport()
        );
        let limits = benchcards_web::Limits { port: Some(bound.port()), allowed_hosts: a.allowed_hosts.clone(), ..Default::default() };
        crate::server::serve_on(listener, study, Options { admin_token: token, secure_cookies: a.secure_cookies, limits, log_requests: true })
            .await
            .map_err(|e| e.to_string())
    })?;
    Ok(String::new())
}

/// Runs a pilot: the study served on 127.0.0.1 from the pilot's own store, simulated
/// participants taking part over HTTP as people would (the runner's simulated patient asking the
/// arm's model, with the plan's `patient_model` or the first arm's model playing the patient),
/// then each arm's estimates, labelled a proxy.
pub fn pilot(a: &PilotArgs) -> Result<String, String> {
    let (plan, _) = benchcards_core::load_plan(&a.plan)
        .map_err(|e| format!("{} does not load as a plan: `benchcards check {}` shows why", e.path, e.path))?;
    let store = match database(&a.database)? {
        Some(given) => given.to_string(),
        None => crate::default_store(&a.plan, &plan).with_extension("").with_extension("pilot.sqlite").display().to_string(),
    };
    runtime()?.block_on(async {
        let mut study = Study::load(&a.plan, Some(&store)).await?;
        if !study.is_pilot().await? && !study.store.participants().await?.is_empty() {
            return Err(format!("{store} holds a study's participants: a pilot writes only into a store of its own"));
        }
        study.store.set_meta(crate::records::PILOT, "simulated participants").await?;
        study.connect()?;
        let patient = plan
            .patient_model
            .clone()
            .or_else(|| study.design.arms.iter().find_map(|x| x.model.clone()))
            .ok_or("the study has no arm with a model and the plan no `patient_model` to play the participants")?;
        let spec = plan.models.iter().find(|m| m.id == patient).ok_or_else(|| format!("`{patient}` is not among the plan's models"))?;
        let client = Arc::new(benchcards_eval::client::Client::from_spec(spec, Default::default())?);
        let design = study.design.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
        let base = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
        let limits = benchcards_web::Limits { port: Some(listener.local_addr().map_err(|e| e.to_string())?.port()), ..Default::default() };
        let options = Options { admin_token: crate::store::random_hex(24)?, secure_cookies: false, limits, log_requests: false };
        let server = tokio::spawn(crate::server::serve_on(listener, study, options));
        let gate = Arc::new(tokio::sync::Semaphore::new(a.concurrency.max(1)));
        let behaviours = [PatientBehaviour::Truthful, PatientBehaviour::ImperfectRecall, PatientBehaviour::Misreporting];
        let people: Vec<_> = (0..a.participants)
            .map(|i| {
                let (gate, design, base) = (gate.clone(), design.clone(), base.clone());
                let mut person = Simulated { client: client.clone(), sampling: spec.sampling.clone(), behaviour: behaviours[i % 3], turns: a.turns };
                tokio::spawn(async move {
                    let _turn = gate.acquire().await.map_err(|e| e.to_string())?;
                    take_part(&[base], &format!("PILOT={i}"), &design, &mut person).await
                })
            })
            .collect();
        let mut failed = Vec::new();
        for p in people {
            if let Err(e) = p.await.map_err(|e| e.to_string()).and_then(|r| r) {
                failed.push(e);
            }
        }
        server.abort();
        let study = Study::load(&a.plan, Some(&store)).await?;
        let answers = study.store.answers().await?;
        let mut said = format!(
            "pilot: {} of {} simulated participants finished, {} answers, in {store}. A PROXY: simulated participants (the runner's simulated patient, truthful / imperfect recall / misreporting in turn), not people.\n",
            a.participants - failed.len(),
            a.participants,
            answers.len()
        );
        for e in crate::records::estimates(&study, &answers) {
            said.push_str(&format!("{}: named a relevant condition {}; chose the right level of care {}\n", e.arm, e.named, e.level));
        }
        if let Some(first) = failed.first() {
            said.push_str(&format!("{} could not finish; the first: {first}\n", failed.len()));
        }
        said.push_str(&format!("`benchcards study export {} --database {store}` writes their answers with arms named simulated_ARM", a.plan.display()));
        Ok(said)
    })
}

/// Registers the design and says what was recorded.
pub fn register(a: &RegisterArgs) -> Result<String, String> {
    let (study, r) = runtime()?.block_on(async {
        let study = Study::load(&a.plan, database(&a.database)?).await?;
        let r = study.register().await?;
        Ok::<_, String>((study, r))
    })?;
    Ok(format!(
        "registered study `{}` in {}: design hash {}, allocation seed {}, blocks of {}, arms {} (control: {}), {} scenario(s), {} per participant, target {} participants\npower: {}\nanalysis: {}\n",
        r.plan_id,
        study.store.location(),
        r.design_hash,
        r.seed,
        r.block_size,
        r.arms.join(", "),
        r.control_arm.as_deref().unwrap_or("none"),
        r.scenarios.len(),
        r.scenarios_per_participant,
        r.target_participants,
        r.power.as_deref().unwrap_or("none recorded (say how the target was sized under `study: power:`)"),
        r.analysis
    ))
}

/// Writes the export; returns what was written.
pub fn export(a: &ExportArgs) -> Result<String, String> {
    let (study, csv, logs, answers, pilot) = runtime()?.block_on(async {
        let study = Study::load(&a.plan, database(&a.database)?).await?;
        let logs = match &a.logs {
            Some(_) => Some(study.export_logs().await?),
            None => None,
        };
        let (csv, answers, pilot) = (study.export_csv().await?, study.store.answers().await?.len(), study.is_pilot().await?);
        Ok::<_, String>((study, csv, logs, answers, pilot))
    })?;
    benchcards_core::document::write_atomic(&a.output, &csv)?;
    let mut said = format!("wrote {} ({answers} answer(s))", a.output.display());
    if let (Some(path), Some(text)) = (&a.logs, &logs) {
        benchcards_core::document::write_atomic(path, text)?;
        said.push_str(&format!(" and {}", path.display()));
    }
    if pilot {
        said.push_str("\nA PILOT: simulated participants, not people (arms named simulated_ARM); a proxy, never a `human_study`");
        return Ok(said);
    }
    let phi = study.design.contains_phi;
    if phi {
        said.push_str("\nthese files hold participants' own words: treat them as patient data (the logs say `contains_phi: true`; `run` sends the answers to no judge outside this machine)");
    }
    let control = study.design.arms.iter().find(|x| x.model.is_none()).map_or("ARM".into(), |x| x.id.clone());
    said.push_str(&format!(
        "\nimport it: `human_study: {{path: {}, control_arm: {control}{}}}` and a condition `{{id: human_study}}` in the plan, then `benchcards run PLAN`; or `benchcards study analyze` once graded",
        a.output.display(),
        if phi { "" } else { ", contains_phi: false" }
    ));
    Ok(said)
}
