//! The crate map's arrows as a test (ARCHITECTURE.md, "Invariants"): each library's normal
//! dependencies, resolved with that library's own features as `cargo tree` resolves them, must
//! not reach what it must never know.

use std::collections::HashSet;
use std::path::Path;

/// Every crate `package` depends on (normal dependencies, transitively), by name.
fn dependencies(package: &str) -> HashSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .args(["tree", "--offline", "--locked", "-e", "normal", "--prefix", "none", "--format", "{p}", "-p", package])
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().skip(1).filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect()
}

/// Runtime, network and database crates: what a pure crate must never link.
const IO: [&str; 5] = ["tokio", "reqwest", "hyper", "rusqlite", "candle-core"];

#[test]
fn no_arrow_runs_where_the_crate_map_forbids_it() {
    let rules: [(&str, Vec<&str>); 6] = [
        ("benchcards-core", IO.to_vec()),
        ("benchcards-stats", [&IO[..], &["benchcards-core"]].concat()),
        ("benchcards-assess", [&IO[..], &["benchcards-eval", "benchcards-report"]].concat()),
        ("benchcards-report", [&IO[..], &["benchcards-eval"]].concat()),
        ("benchcards-eval", vec!["benchcards-web", "benchcards-report", "axum", "benchcards-study"]),
        // The web UI reads run stores; it never runs a model or calls one.
        ("benchcards-web", vec!["benchcards-local", "candle-core", "reqwest", "benchcards-study"]),
    ];
    let mut broken = Vec::new();
    for (package, forbidden) in &rules {
        let deps = dependencies(package);
        assert!(deps.contains("serde"), "{package}: the dependency listing is empty or unreadable: {deps:?}");
        for f in forbidden {
            if deps.contains(*f) {
                broken.push(format!("{package} → {f}"));
            }
        }
        // No library depends on the binary.
        if deps.contains("benchcards") {
            broken.push(format!("{package} → benchcards (the binary)"));
        }
    }
    assert!(broken.is_empty(), "forbidden arrows: {broken:?}");
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `.rs` file under a crate's `src`.
fn all_sources() -> Vec<std::path::PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    assert!(files.len() > 30, "the source files were found: {}", files.len());
    files
}

#[test]
fn files_are_written_only_by_the_atomic_writer() {
    // A file is written through `document::write_atomic` (temporary file, then rename), so a
    // failure never leaves half a file; any other way of writing one is listed here.
    let writes = ["fs::write(", "File::create(", "OpenOptions::new(", "fs::copy("];
    let files = all_sources();
    let mut stray = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let writer = file.ends_with("benchcards-core/src/document.rs");
        let body = if writer {
            // The writer's own body is the one allowed place.
            let start = text.find("pub fn write_atomic(").expect("the atomic writer exists");
            let end = text[start..].find("\n}\n").map_or(text.len(), |e| start + e);
            format!("{}{}", &text[..start], &text[end..])
        } else {
            text
        };
        for (i, line) in body.lines().enumerate() {
            if writes.iter().any(|w| line.contains(w)) && !line.trim_start().starts_with("//") {
                stray.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(stray.is_empty(), "files written outside the atomic writer: {stray:#?}");
}

#[test]
fn files_are_read_only_by_the_guarded_reader() {
    // `benchcards_core::document` reads every file: regular files only (a FIFO or a device is
    // refused before it is opened), within a size limit, as UTF-8. The one other reader is the
    // embedded model's weights, a regular file whose hash is checked.
    let reads = ["read_to_string(", "fs::read(", "File::open("];
    let files = all_sources();
    let allowed = ["benchcards-core/src/document.rs", "benchcards-local/src/lib.rs"];
    let mut stray = Vec::new();
    for file in files.iter().filter(|f| !allowed.iter().any(|a| f.ends_with(a))) {
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests may read what they wrote.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, line) in code.lines().enumerate() {
            if reads.iter().any(|r| line.contains(r)) && !line.trim_start().starts_with("//") {
                stray.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(stray.is_empty(), "files read outside the guarded reader: {stray:#?}");
}

#[test]
fn the_binary_stays_thin() {
    // The binary parses, calls the libraries and prints; what a study server or another program
    // could reuse lives in a library. A growing binary is logic in the wrong place.
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let lines: usize = files.iter().map(|f| std::fs::read_to_string(f).unwrap().lines().count()).sum();
    assert!(files.len() > 5 && lines > 500, "the binary's sources were found: {} files, {lines} lines", files.len());
    assert!(lines <= 2_000, "crates/benchcards/src is {lines} lines (at most 2,000): move library logic into a library");
}
