//! `dataset import`'s readers: any text in any source format gives a dataset or diagnostics at
//! lines of the text, never a panic; an imported dataset is one `parse_dataset` reads back.
#![no_main]

use benchcards_eval::dataset::{parse_dataset, to_jsonl};
use benchcards_core::DatasetFormat as F;
use benchcards_eval::import::import;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let map = [("id".to_string(), "qid".to_string()), ("options".to_string(), "a+b".to_string())];
    for source in [F::Craftmd, F::Medqa, F::Medmcqa, F::Headqa, F::Mediq, F::Agentclinic, F::Healthbench, F::Generic] {
        for jsonl in [false, true] {
            match import(text, source, &map, jsonl) {
                Ok(ds) => assert_eq!(parse_dataset(&to_jsonl(&ds)).expect("an import reads back").items, ds.items),
                Err(diags) => assert!(diags.0.iter().all(|d| d.line >= 1 && d.line <= text.lines().count().max(1) + 1)),
            }
        }
    }
});
