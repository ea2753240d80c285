//! Data files read from disk: results read, gathered and written back; condition metadata
//! files; registry folders.

use benchcards_core::Diagnostics;
use benchcards_core::document::{MAX_DATA_BYTES, open_data, read_data};
use benchcards_core::results::{
    ResultColumns, ResultsData, ResultsError, StatedMeta, condition_meta, is_jsonl, read_results, read_results_file, read_tabular,
    results_csv, results_jsonl,
};
use benchcards_core::taxonomy;
use benchcards_stats::data::{ResultRow, gather};
use std::io::Read;
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
    assert!(r.meta[1].relaxes.is_empty() && r.meta[1].model.is_none(), "nothing stated, nothing guessed from the name");
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
fn a_results_file_gives_what_its_table_in_memory_gives() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "unit,condition,score,pair,replicate,cluster,stratum,weight,model,relaxes\n\
               a,vignette,1,,0,k1,\"adult, acute\",2,m1,\n\
               a,vignette,0,,1,k1,\"adult, acute\",2,,\n\
               b,patient_query,1,a,0,k1,\"adult, acute\",,\"m\n2\",interaction_type\n\
               c,vignette,0.5,,,,child,,,\n";
    let jsonl = "{\"unit\": \"a\", \"condition\": \"vignette\", \"score\": 1, \"cluster\": \"k\"}\n\n\
                 {\"unit\": \"b\", \"condition\": \"vignette\", \"score\": 0, \"weight\": 0.5, \"grader\": \"g\"}\r\n";
    for (name, text) in [("r.csv", csv), ("r.jsonl", jsonl)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let read = read_results_file(&path, &ResultColumns::default(), None).unwrap();
        let t = read_tabular(text, is_jsonl(&path)).unwrap();
        let rows: Vec<ResultRow> = read_results(&t, &ResultColumns::default()).unwrap().into_iter().map(|l| l.row).collect();
        let data = gather(&rows).unwrap();
        let meta = condition_meta(taxonomy(), &data.conditions, &StatedMeta::of_table(&t, "condition"), None).unwrap();
        assert_eq!(read, ResultsData { data, meta }, "{name}");
    }
}

/// (line, column, message) of each problem.
type Problems = Vec<(usize, usize, String)>;

fn listed(d: &Diagnostics) -> Problems {
    d.0.iter().map(|d| (d.line, d.column, d.message.clone())).collect()
}

/// The problems the table in memory shows in a results text: its rows, then the results form,
/// then the units (at the line of the row concerned).
fn in_memory_problems(text: &str, jsonl: bool) -> Problems {
    let t = match read_tabular(text, jsonl) {
        Ok(t) => t,
        Err(d) => return listed(&d),
    };
    let located = match read_results(&t, &ResultColumns::default()) {
        Ok(l) => l,
        Err(d) => return listed(&d),
    };
    let rows: Vec<ResultRow> = located.iter().map(|l| l.row.clone()).collect();
    match gather(&rows) {
        Ok(_) => Vec::new(),
        Err(e) => vec![(located.get(e.row).map_or(1, |l| l.line), 1, e.message)],
    }
}

#[test]
fn a_bad_results_file_shows_the_problems_the_table_in_memory_shows() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, (usize, usize, &str)); 6] = [
        ("score.csv", "unit,condition,score\na,x,1\nb,x,maybe\n", (3, 5, "`score` is `maybe`, not a number")),
        ("unit.csv", "unit,condition,score\na,x,1\n,x,1\n", (3, 1, "empty `unit`")),
        (
            "strata.csv",
            "unit,condition,score,stratum\na,x,1,s1\nb,x,1,s1\n\"a\",y,1,s2\n",
            (4, 1, "unit `a` is in stratum `s2` here but `s1` at row 1"),
        ),
        ("ragged.csv", "unit,condition,score\na,x,1\n\"b,\nc\",x,1,0\n", (3, 1, "this row has 4 fields; the header has 3")),
        (
            "line.jsonl",
            "{\"unit\": \"a\", \"condition\": \"x\", \"score\": 1}\n\n{\"unit\": \"b\", oops}\n",
            (3, 15, "invalid JSON: key must be a string"),
        ),
        ("empty.csv", "unit,condition,score\n", (1, 1, "no observations")),
    ];
    for (name, text, (line, column, message)) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let Err(ResultsError::File(p)) = read_results_file(&path, &ResultColumns::default(), None) else { panic!("{name} read") };
        let got = listed(&p.diagnostics);
        assert_eq!(got, in_memory_problems(text, is_jsonl(&path)), "{name}");
        assert_eq!((got[0].0, got[0].1), (line, column), "{name}");
        assert!(got[0].2.starts_with(message), "{name}: {}", got[0].2);
        assert_eq!(p.text.as_deref(), Some(text), "{name}: the text for the snippet");
    }
}

#[test]
fn a_data_file_is_opened_as_a_stream_after_the_checks_of_reading_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("results.csv");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let huge = dir.path().join("huge.csv");
    // Sparse: 256 MiB and one byte that take no room on disk.
    std::fs::File::create(&huge).unwrap().set_len(MAX_DATA_BYTES + 1).unwrap();
    for path in [dir.path(), Path::new("/dev/zero"), &fifo, &huge, &dir.path().join("none.csv")] {
        let refused = open_data(path).err().map(|d| (d.message, d.suggestion));
        assert_eq!(refused, read_data(path).err().map(|d| (d.message, d.suggestion)), "{}", path.display());
        assert!(refused.is_some(), "{}", path.display());
    }
    let small = dir.path().join("small.csv");
    std::fs::write(&small, "unit\na\n").unwrap();
    let mut text = String::new();
    open_data(&small).unwrap().read_to_string(&mut text).unwrap();
    assert_eq!(text, "unit\na\n");
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
