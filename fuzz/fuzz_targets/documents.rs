//! Cards, deployment profiles and plans, as YAML or Markdown front matter: any bytes give a
//! document or diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = benchcards_core::document::decode_utf8(data.to_vec()) else { return };
    for markdown in [false, true] {
        let loaded = benchcards_core::load_text("fuzz.yaml", text.clone(), None, markdown);
        // Every diagnostic points at a line of the text (or just past its end); a lone carriage
        // return is a line break, as in YAML.
        let lines = text.replace("\r\n", "\n").matches(['\n', '\r']).count() + 1;
        assert!(loaded.diagnostics.0.iter().all(|d| d.line >= 1 && d.line <= lines + 1), "{:?}", loaded.diagnostics);
    }
});
