//! The command line: every subcommand and flag of `accord`.
//!
//! **API boundary:** the command line is a promise to scripts; rename nothing lightly.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Accord: service level agreements as code, measured and enforced.
#[derive(Debug, Parser)]
#[command(name = "accord", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Business calendars: deadlines, elapsed business time, opening hours.
    #[command(subcommand)]
    Calendar(CalendarCommand),
}

/// `accord calendar ...`.
#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Prints the instant at which a business duration from a start has passed.
    Deadline {
        #[command(flatten)]
        calendar: CalendarArg,
        /// The start: RFC 3339 with an offset (2026-12-23T16:00:00+01:00) or a zone
        /// (2026-12-23T16:00[Europe/Berlin]).
        #[arg(long)]
        start: String,
        /// Business time to add: 4h, 30m, 1h30m, 2d (days of 24 business hours), PT4H.
        #[arg(long)]
        duration: String,
    },
    /// Prints the business time between two instants.
    Elapsed {
        #[command(flatten)]
        calendar: CalendarArg,
        /// The start (RFC 3339, as for `deadline`).
        #[arg(long)]
        start: String,
        /// The end (RFC 3339).
        #[arg(long)]
        end: String,
        /// Business time to leave out, as START/END (repeat the flag for several pauses).
        #[arg(long = "pause", value_name = "START/END")]
        pauses: Vec<String>,
    },
    /// Lists each day's opening hours and why (weekly hours, holiday, extra working day).
    Hours {
        #[command(flatten)]
        calendar: CalendarArg,
        /// The first local date (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// How many days to list.
        #[arg(long, default_value_t = 14)]
        days: u16,
    },
    /// Validates calendar files and reports every error found.
    Check {
        /// Calendar files (YAML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Answers a bizbench workload: one line per query on stdout.
    Eval {
        /// The calendars, as bizbench `calendars.json`.
        #[arg(long)]
        calendars: PathBuf,
        /// The queries, as bizbench `queries.tsv`.
        #[arg(long)]
        queries: PathBuf,
        /// Prints `add: N ops, X ns/op` and `elapsed: N ops, Y ns/op` on stderr, timing only the
        /// computation.
        #[arg(long)]
        stats: bool,
    },
}

/// Which calendar a command uses.
#[derive(Debug, Args)]
pub struct CalendarArg {
    /// A calendar file (YAML, `kind: Calendar`), or `24x7` for the ready round-the-clock
    /// calendar in UTC.
    #[arg(long, value_name = "FILE|24x7")]
    pub calendar: String,
}
