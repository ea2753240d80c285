//! Data files read from disk: results read, gathered and written back; condition metadata
//! files; registry folders.

use benchcards_core::results::{
    ResultColumns, ResultsError, is_jsonl, read_results, read_results_file, read_tabular, results_csv, results_jsonl,
};
use benchcards_stats::data::ResultRow;
use std::path::Path;

#[test]
fn results_files_read_gathered_and_written_back() {
    let dir = tempfile::tempdir().unwrap();
    let (results, meta) = (dir.path().join("r.csv"), dir.path().join("m.csv"));
    std::fs::write(&results, "unit,condition,score\na,vignette,1\na,patient_query,0\nb,vignette,1\nb,patient_query,1\n").unwrap();
    std::fs::write(&meta, "condition,model\nvignette,m1\n").unwrap();
    let r = read_results_file(&results, &ResultColumns::default(), Some(&meta)).unwrap();
    assert_eq!(r.data.conditions, ["vignette", "patient_query"]);
    assert_eq!(r.meta[0].model.as_deref(), Some("m1"));
    assert_eq!(r.meta[1].relaxes, ["query_authorship"], "the taxonomy's metadata");
    std::fs::write(&meta, "cond,model\nvignette,m1\n").unwrap();
    match read_results_file(&results, &ResultColumns::default(), Some(&meta)) {
        Err(ResultsError::File(p)) => assert!(p.name.ends_with("m.csv") && p.diagnostics.0[0].message == "no `condition` column"),
        other => panic!("{other:?}"),
    }
    std::fs::write(&results, "unit,condition,score,stratum\na,x,1,s1\na,y,1,s2\n").unwrap();
    match read_results_file(&results, &ResultColumns::default(), None) {
        Err(ResultsError::File(p)) => assert_eq!((p.diagnostics.0[0].line, p.text.is_some()), (3, true)),
        other => panic!("{other:?}"),
    }
    let rows: Vec<ResultRow> = read_results(&read_tabular("unit,condition,score\na,x,1\n", false).unwrap(), &ResultColumns::default())
        .unwrap()
        .into_iter()
        .map(|l| l.row)
        .collect();
    let csv = results_csv(&rows).unwrap();
    assert!(csv.starts_with("unit,condition,score,") && csv.lines().count() == 2, "{csv}");
    let back = read_results(&read_tabular(&csv, false).unwrap(), &ResultColumns::default()).unwrap();
    assert_eq!(back[0].row.unit, "a");
    assert_eq!(results_jsonl(&rows).lines().count(), 1);
    assert!(is_jsonl(Path::new("r.ndjson")) && !is_jsonl(Path::new("r.csv")));
}

#[test]
fn a_registry_folder_loads_each_card_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let card = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../registry/bean-scenarios.yaml");
    std::fs::copy(&card, dir.path().join("b.yaml")).unwrap();
    std::fs::write(dir.path().join("a.yaml"), "deployment: {}\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a card").unwrap();
    let cards = benchcards_core::document::load_cards_in(dir.path()).unwrap();
    assert_eq!(cards.len(), 2);
    assert!(cards[0].0.ends_with("a.yaml") && cards[0].1.is_err());
    assert_eq!(cards[1].1.as_ref().unwrap().0.id, "bean-scenarios");
    assert!(benchcards_core::document::load_cards_in(&dir.path().join("none")).is_err());
}
