//! `measure --compare SIMULATED REAL` on two small log files written for this test, whose
//! per-conversation values are counted by hand below; the differences and their intervals are
//! the statistics library's on those values (Welch for means, Newcombe for shares, both checked
//! against scipy/statsmodels elsewhere). On CRAFT-MD's simulated conversations (when present)
//! against the bundled logs it runs and finds the simulated conversations far longer.

use assert_cmd::Command;
use benchcards_stats::proportion::newcombe_unpaired;
use benchcards_stats::summary::welch;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare").join(name)
}

fn compare(sim: &Path, real: &Path, extra: &[&str]) -> Vec<Value> {
    let out = Command::cargo_bin("benchcards")
        .unwrap()
        .args(["measure", "--compare", sim.to_str().unwrap(), real.to_str().unwrap(), "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["comparison"].as_array().unwrap().clone()
}

fn figure<'a>(c: &'a [Value], id: &str) -> &'a Value {
    c.iter().find(|f| f["id"] == id).unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn the_differences_are_the_hand_counted_ones() {
    let c = compare(&fixture("simulated.jsonl"), &fixture("real.jsonl"), &["--tolerance", "user_turns_mean=5"]);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // Messages from the person: simulated 2, 1, 3; real 1, 1, 2. Words in the first message:
    // 4, 5, 7 against 1, 4, 1. Words per message, averaged per conversation: (4 + 2)/2, 5,
    // (7 + 1 + 1)/3 against 1, 4, (1 + 2)/2.
    let means: [(&str, [f64; 3], [f64; 3]); 3] = [
        ("user_turns_mean", [2.0, 1.0, 3.0], [1.0, 1.0, 2.0]),
        ("first_message_words_mean", [4.0, 5.0, 7.0], [1.0, 4.0, 1.0]),
        ("user_message_words_mean", [3.0, 5.0, 3.0], [1.0, 4.0, 1.5]),
    ];
    for (id, sim, real) in means {
        let f = figure(&c, id);
        let (d, ci) = welch(&sim, &real, 0.95).unwrap();
        assert!(close(f["simulated"].as_f64().unwrap(), sim.iter().sum::<f64>() / 3.0), "{id}: {f}");
        assert!(close(f["real"].as_f64().unwrap(), real.iter().sum::<f64>() / 3.0), "{id}: {f}");
        assert!(close(f["difference"].as_f64().unwrap(), d) && close(f["ci"][0].as_f64().unwrap(), ci[0]), "{id}: {f}");
        assert_eq!((f["n_simulated"].as_u64(), f["n_real"].as_u64()), (Some(3), Some(3)));
    }
    // Two of three simulated conversations have several messages from the person; one of three
    // real ones.
    let f = figure(&c, "multi_turn_share");
    let ci = newcombe_unpaired(2.0, 3.0, 1.0, 3.0, 0.95);
    assert!(close(f["difference"].as_f64().unwrap(), 1.0 / 3.0) && close(f["ci"][1].as_f64().unwrap(), ci[1]), "{f}");
    // A difference of 2/3 message whose interval fits in ±5 is within the declared tolerance;
    // with the default ±1 the same interval crosses it.
    assert_eq!(figure(&c, "user_turns_mean")["verdict"], "within");
    let default = compare(&fixture("simulated.jsonl"), &fixture("real.jsonl"), &[]);
    assert_eq!(figure(&default, "user_turns_mean")["verdict"], "undetermined");
    assert_eq!(figure(&default, "user_turns_mean")["tolerance"], 1.0);
}

#[test]
fn a_tolerance_for_a_figure_that_is_not_compared_is_refused() {
    let out = Command::cargo_bin("benchcards")
        .unwrap()
        .args(["measure", "--compare"])
        .args([fixture("simulated.jsonl"), fixture("real.jsonl")])
        .args(["--tolerance", "turns=2"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("`turns` is no figure `--compare` compares"), "{err}");
}

#[test]
fn craftmd_s_simulated_patients_against_the_bundled_logs() {
    let logs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/craftmd/conversations.jsonl");
    if !logs.exists() {
        eprintln!("CRAFT-MD conversations absent at {}: this test checks nothing on this machine", logs.display());
        return;
    }
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/logs/symptom-chat.jsonl");
    let c = compare(&logs, &bundled, &[]);
    let f = figure(&c, "user_turns_mean");
    assert_eq!((f["n_simulated"].as_u64(), f["n_real"].as_u64()), (Some(19_040), Some(12)));
    assert!(f["simulated"].as_f64().unwrap() > 7.0 && f["verdict"] == "outside", "CRAFT-MD's patients write far more messages: {f}");
    assert_eq!(figure(&c, "multi_turn_share")["verdict"], "outside");
}
