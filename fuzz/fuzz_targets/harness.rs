//! `results import`'s readers: any bytes read as an Inspect log (a JSON log, or an `.eval`
//! archive when they start as a ZIP does) or an lm-eval samples file give scores in 0–1 that
//! become one results row each, or problems at lines of the text read, never a panic.
#![no_main]

use benchcards_eval::harness::{Harness, NoAnswer, Pick, read_log, to_rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = benchcards_core::taxonomy();
    let named = Pick { scorer: Some("choice".into()), metric: Some("acc".into()), filter: Some("none".into()), no_answer: NoAnswer::Skip };
    for harness in [Harness::Inspect, Harness::LmEval] {
        for pick in [Pick::default(), named.clone()] {
            match read_log(data.to_vec(), harness, &pick) {
                Ok(scores) => {
                    assert!(scores.samples.iter().all(|s| (0.0..=1.0).contains(&s.score)), "{scores:?}");
                    let rows = to_rows(&scores, "options_removed", None, None, t).expect("a taxonomy condition");
                    assert_eq!(rows.len(), scores.samples.len());
                }
                Err(p) => {
                    // At a line of the text read: an entry's, or the file's (text that is not UTF-8 too).
                    let lines = p.text.as_deref().map_or(data.split(|b| *b == b'\n').count(), |t| t.lines().count() + 1);
                    assert!(!p.diagnostics.0.is_empty() && p.diagnostics.0.iter().all(|d| d.line >= 1 && d.line <= lines), "{p:?}");
                }
            }
        }
    }
});
