//! `study` commands on a PostgreSQL store from the command line: the password comes from
//! PGPASSWORD, one written in `--database` is refused, a wrong one is a clear error. (The
//! PostgreSQL test server is the study crate's.)

#[path = "../../benchcards-study/tests/pg/mod.rs"]
mod pg;

use assert_cmd::Command;

const PLAN: &str = "plan:
  version: 1
  id: pg-study
  card: bean-scenarios
  deployment: patient-symptom-chatbot
  dataset: symptoms-uk
  models: [{ id: m, provider: mock }]
  conditions: [{ id: vignette }]
  graders: [{ kind: conditions }]
  study:
    arms:
      - { id: with_model, model: m }
      - { id: control, instructions: Use whatever you would normally use. }
    scenarios: [sx-001, sx-002]
    consent: You agree to take part.
    instructions: Imagine you are the person described.
    target_participants: 10
    completion: { code: DONE }
";

fn study(dir: &std::path::Path, args: &[&str], password: Option<&str>) -> (bool, String) {
    let mut c = Command::cargo_bin("benchcards").unwrap();
    c.current_dir(dir).arg("study").args(args).env_remove("PGPASSWORD");
    if let Some(p) = password {
        c.env("PGPASSWORD", p);
    }
    let out = c.output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_study_registers_and_exports_on_postgresql_with_the_password_from_pgpassword() {
    let Some(server) = pg::server() else { return };
    server.database("cli").await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.yaml"), PLAN).unwrap();
    let url = server.url("cli");
    let (ok, said) = study(dir.path(), &["register", "plan.yaml", "--database", &url], Some(&server.password));
    assert!(ok && said.contains("registered study `pg-study` in postgres://postgres@127.0.0.1:"), "{said}");
    let (ok, said) = study(dir.path(), &["export", "plan.yaml", "--database", &url, "-o", "study.csv"], Some(&server.password));
    assert!(ok && said.contains("wrote study.csv (0 answer(s))"), "{said}");
    assert!(!dir.path().join("pg-study.study.sqlite").exists(), "nothing was written beside the plan");
    // A password on the command line is refused, and never echoed; a wrong one is a clear error.
    let with_password = url.replace("postgres@", &format!("postgres:{}@", server.password));
    let (ok, said) = study(dir.path(), &["register", "plan.yaml", "--database", &with_password], None);
    assert!(!ok && said.contains("PGPASSWORD") && !said.contains(&server.password), "{said}");
    let (ok, said) = study(dir.path(), &["export", "plan.yaml", "--database", &url], Some("wrong"));
    assert!(!ok && said.contains("cannot reach the study's database") && said.contains("password"), "{said}");
}
