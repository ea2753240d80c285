//! Prints diagnostics to standard error, rendered by the output layer.

use benchcards_core::{Diagnostics, Loaded};
use benchcards_report::diagnostic::render_list;
use std::io::IsTerminal;

/// Prints every diagnostic of a loaded file to standard error.
pub fn print_loaded(path: &str, loaded: &Loaded) {
    print_diagnostics(path, loaded.source.as_ref().map(|s| s.text.as_str()), &loaded.diagnostics);
}

/// Prints diagnostics about any file (with its text, when there is one, for the snippets).
/// Many errors in one data file are cut to the first 20, with a count of the rest.
pub fn print_diagnostics(path: &str, text: Option<&str>, diags: &Diagnostics) {
    for shown in render_list(path, text, &diags.0, std::io::stderr().is_terminal()) {
        eprintln!("{shown}");
    }
}
