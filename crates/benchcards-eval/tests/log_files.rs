//! Log files read by their extension, with the file's problems where they are.

use benchcards_eval::logs::{CsvColumns, is_csv, read_logs};
use std::path::Path;

#[test]
fn log_files_are_read_by_their_extension() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (logs, text) = read_logs(&root.join("examples/logs/symptom-chat.jsonl"), &CsvColumns::default()).unwrap();
    assert_eq!((logs.conversations.len(), logs.skipped), (12, 0));
    assert!(text.starts_with('{'));
    let csv = root.join("examples/results/bean-seed.csv");
    assert!(is_csv(&csv));
    let e = read_logs(&csv, &CsvColumns::default()).unwrap_err();
    assert!(e.text.is_some() && e.diagnostics.0[0].message.contains("no column `conversation`"), "{e:?}");
    let e = read_logs(&root.join("no/such.jsonl"), &CsvColumns::default()).unwrap_err();
    assert!(e.name.ends_with("such.jsonl") && e.text.is_none() && e.diagnostics.0[0].message.starts_with("cannot read file"), "{e:?}");
}
