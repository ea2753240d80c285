//! Embeds the bundled registry cards, example deployment profiles, and the demo's plan,
//! dataset and logs (`bundled`), so `benchcards demo` runs on built-in defaults wherever the
//! binary is, and a registry id works wherever a card or profile file is expected.

use std::fmt::Write;
use std::path::Path;

fn list(dir: &Path, out: &mut String, name: &str) -> std::io::Result<()> {
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "md")))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    writeln!(out, "pub const {name}: &[(&str, &str)] = &[").map_err(std::io::Error::other)?;
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let file_name = f.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        writeln!(out, "    ({file_name:?}, include_str!({:?})),", f.canonicalize()?.display().to_string())
            .map_err(std::io::Error::other)?;
    }
    writeln!(out, "];").map_err(std::io::Error::other)?;
    Ok(())
}

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut out = String::new();
    list(&root.join("registry"), &mut out, "CARDS")?;
    list(&root.join("examples/deployments"), &mut out, "DEPLOYMENTS")?;
    for (name, file) in [
        ("DEMO_PLAN", "examples/plans/local-smollm2.yaml"),
        ("DEMO_DATASET", "examples/datasets/symptoms-uk.jsonl"),
        ("DEMO_LOGS", "examples/logs/symptom-chat.jsonl"),
    ] {
        let f = root.join(file).canonicalize()?;
        println!("cargo:rerun-if-changed={}", f.display());
        writeln!(out, "pub const {name}: &str = include_str!({:?});", f.display().to_string()).map_err(std::io::Error::other)?;
    }
    let dest = Path::new(&std::env::var("OUT_DIR").map_err(std::io::Error::other)?).join("bundled.rs");
    std::fs::write(dest, out)
}
