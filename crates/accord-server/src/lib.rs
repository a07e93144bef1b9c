//! The `accord` binary's library: the command line today; the HTTP API, web UI, scheduler,
//! probes and notifiers as they arrive.
//!
//! **Architecture Invariant:** this is the only crate that knows the command line, HTTP and
//! HTML. It reads the clock and the environment and passes values down to the core.

pub mod calendar_cmd;
pub mod cli;
pub mod output;

use std::process::ExitCode;

/// Runs one command line.
///
/// # Errors
///
/// Whatever the command reports, with context naming the file or value involved.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        cli::Command::Calendar(command) => calendar_cmd::run(command),
    }
}
