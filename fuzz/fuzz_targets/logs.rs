//! Conversation logs, JSONL and CSV: any text gives conversations and warnings (or, for CSV
//! without the named columns, diagnostics), and every line is counted as kept or skipped.
#![no_main]

use benchcards_eval::logs::{CsvColumns, read_csv, read_jsonl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let logs = read_jsonl(text);
    assert_eq!(logs.skipped, logs.warnings.0.len());
    assert!(logs.conversations.len() + logs.skipped <= logs.lines);
    let _ = read_csv(text, &CsvColumns::default());
});
