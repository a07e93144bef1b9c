//! The `accord` binary: parses the command line and hands over to [`accord_server::run`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = accord_server::cli::Cli::parse();
    match accord_server::run(cli) {
        Ok(code) => code,
        Err(error) => {
            accord_server::output::error(&error);
            ExitCode::FAILURE
        }
    }
}
