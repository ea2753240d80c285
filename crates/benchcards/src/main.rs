//! The `benchcards` command: parses flags, reads files through benchcards-core, prints through
//! the output layer. No logic of its own beyond wiring.

mod cli;
mod commands;
mod diagnostics;

use clap::{CommandFactory, Parser};
use std::process::ExitCode;

// A faster allocator than the system one for the many small strings of parsing and comparing
// cards (`bench/RESULTS.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Behave like other command-line tools when the reader of our output goes away
    // (`benchcards taxonomy | head`): end quietly instead of failing on a broken pipe.
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; restores the default action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::try_parse().unwrap_or_else(|mut e| {
        benchcards_core::diag::suggest_flag(&mut e, &cli::Cli::command(), std::env::args());
        e.exit()
    });
    commands::run(cli.command).unwrap_or_else(|report| {
        eprintln!("{report:?}");
        ExitCode::FAILURE
    })
}
