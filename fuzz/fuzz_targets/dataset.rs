//! Dataset JSONL: any text gives a dataset or line-numbered diagnostics, and a dataset that
//! parses writes back to the same dataset.
#![no_main]

use benchcards_eval::dataset::{parse_dataset, to_jsonl};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_dataset(text) {
        Ok(ds) => {
            let again = parse_dataset(&to_jsonl(&ds)).expect("a parsed dataset writes back to a valid one");
            assert_eq!(again.items, ds.items);
            assert_eq!(again.header, ds.header);
        }
        Err(diags) => assert!(diags.0.iter().all(|d| d.line >= 1 && d.line <= text.lines().count().max(1))),
    }
});
