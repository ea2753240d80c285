//! The `benchcards` command: parses flags, reads files through benchcards-core, prints through
//! the output layer. No logic of its own beyond wiring.

mod cli;
mod commands;
mod diagnostics;

use clap::Parser;
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
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
