//! The results form, CSV and JSONL: any text gives rows or diagnostics, never a panic.
#![no_main]

use benchcards_core::results::{ResultColumns, read_results, read_tabular};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for jsonl in [false, true] {
        if let Ok(t) = read_tabular(text, jsonl) {
            // The cluster column optional, then named (and so required in every row).
            for cluster in [None, Some("cluster".to_string())] {
                let _ = read_results(&t, &ResultColumns { cluster, ..ResultColumns::default() });
            }
        }
    }
});
