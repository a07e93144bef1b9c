//! The command line: every subcommand and flag of `accord`.
//!
//! **API boundary:** the command line is a promise to scripts; rename nothing lightly.

use std::path::PathBuf;

use accord_core::access::{Role, Scope};
use clap::builder::{PossibleValuesParser, TypedValueParser};
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
    /// Validates documents (a file or a directory tree): every error with file, line, column
    /// and field; SMART lint warnings; whether OLAs and UCs fit the SLAs they underpin.
    Check {
        /// A YAML file or a directory of them.
        path: PathBuf,
        /// The date for terms in force, overdue reviews and the fit check (default: today).
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
    },
    /// Prints the effective terms for a customer and service, and where each value came from.
    Explain {
        /// The customer.
        #[arg(long)]
        customer: String,
        /// The service.
        #[arg(long)]
        service: String,
        /// Only this priority's ticket objectives.
        #[arg(long)]
        priority: Option<String>,
        /// The customer's region (default: the site's, or the customer's only region).
        #[arg(long)]
        region: Option<String>,
        /// The customer's site.
        #[arg(long)]
        site: Option<String>,
        /// The date (default: today).
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
        /// Documents to read (a file or directory); without it, the store's active revisions.
        path: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Stores every changed document as a new immutable revision, all or nothing.
    Apply {
        /// A YAML file or a directory of them.
        path: PathBuf,
        #[command(flatten)]
        store: StoreArg,
        /// Who applies (default: $USER).
        #[arg(long)]
        author: Option<String>,
        /// Why (recorded with each new revision).
        #[arg(long, short, default_value = "")]
        message: String,
        /// Records the revisions as applied at this earlier instant (onboarding contracts
        /// signed before Accord ran; the audit log keeps the real time).
        #[arg(long, value_name = "INSTANT")]
        backdate: Option<String>,
    },
    /// Lists the revisions of an agreement (or another document) and their lifecycle.
    History {
        /// The agreement's name.
        name: String,
        /// The document kind.
        #[arg(long, default_value = "Agreement")]
        kind: String,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Shows what changed between two revisions of an agreement, term by term.
    Diff {
        /// The agreement's name.
        name: String,
        /// The older revision number.
        from: u32,
        /// The newer revision number.
        to: u32,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Moves an agreement revision through its lifecycle: submit, approve, reject, activate,
    /// terminate, expire.
    Lifecycle {
        /// The agreement's name.
        name: String,
        /// submit, approve, reject, activate, terminate or expire.
        action: String,
        /// The revision (default: the latest).
        #[arg(long)]
        revision: Option<u32>,
        /// Who takes the action (default: $USER).
        #[arg(long)]
        by: Option<String>,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
        /// Records the action as taken at this earlier instant (onboarding a contract signed
        /// before Accord ran), so its history and reports over past periods apply it.
        #[arg(long, value_name = "INSTANT")]
        backdate: Option<String>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Converts documents from other formats into Accord documents.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Replays ticket events (JSON Lines) and prints every clock as of an instant.
    Replay {
        /// The agreements: a YAML file or a directory of them; without it, the store's
        /// agreement revisions, each ticket on those active when it was created.
        #[arg(long, value_name = "PATH")]
        agreements: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArg,
        /// The events, one JSON object per line (docs/events.md).
        #[arg(long, value_name = "FILE")]
        events: PathBuf,
        /// The instant to read the clocks at, with a UTC offset (default: the last event's).
        #[arg(long, value_name = "INSTANT")]
        at: Option<String>,
        /// How to print.
        #[arg(long, value_enum, default_value = "table")]
        format: crate::clock_cmd::Format,
        /// Only the counts by state and the compliance objectives.
        #[arg(long)]
        summary: bool,
        /// Prints the time spent parsing and in the engine on stderr.
        #[arg(long)]
        stats: bool,
    },
    /// Availability, error budget and burn-rate alerts of every availability objective over a
    /// period, from recorded incidents and the maintenance windows the agreements exclude.
    Availability {
        /// The agreements: a YAML file or a directory of them.
        #[arg(long, value_name = "PATH")]
        agreements: PathBuf,
        /// Incidents, as CSV (docs/availability.md).
        #[arg(long, value_name = "FILE")]
        incidents: Option<PathBuf>,
        /// Probe results, as `accord probe run --results` writes them; objectives with
        /// `source: probe:NAME` count that probe's outages.
        #[arg(long, value_name = "FILE")]
        probe_results: Option<PathBuf>,
        /// Request counts, one JSON object per line: {"source", "from", "to", "good", "total"};
        /// objectives with `method: requests` or `ratio_timeslices` count them.
        #[arg(long, value_name = "FILE")]
        requests: Option<PathBuf>,
        /// Probe definitions, for how often each heartbeat must check in.
        #[arg(long, value_name = "FILE")]
        probes: Option<PathBuf>,
        /// Heartbeat check-ins, one JSON object per line: {"heartbeat": NAME, "at": INSTANT};
        /// objectives with `source: heartbeat:NAME` count the missed ones.
        #[arg(long, value_name = "FILE")]
        heartbeats: Option<PathBuf>,
        /// The period: YYYY-MM, YYYY-Qn or YYYY, in each objective's zone.
        #[arg(long)]
        period: String,
        /// Only this customer.
        #[arg(long)]
        customer: Option<String>,
        /// The instant the figures are as of, with a UTC offset (default: now).
        #[arg(long, value_name = "INSTANT")]
        at: Option<String>,
        /// Also count the observations recorded in the store (`accord record`, `accord probe
        /// run --record`) for the sources the files do not give.
        #[arg(long)]
        recorded: bool,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Records observations into the store: probe results, heartbeat check-ins, request counts
    /// and incidents, through the same path the server takes. Recording a file again changes
    /// nothing.
    Record {
        /// Probe definitions: heartbeat periods and grace (needed with --heartbeats).
        #[arg(long, value_name = "FILE")]
        probes: Option<PathBuf>,
        /// Probe results written by `accord probe run --results`.
        #[arg(long, value_name = "FILE")]
        probe_results: Option<PathBuf>,
        /// Heartbeat check-ins, one JSON object per line: `{"heartbeat": NAME, "at": INSTANT}`.
        #[arg(long, value_name = "FILE")]
        heartbeats: Option<PathBuf>,
        /// Request counts, one JSON object per line: `{"source", "from", "to", "good", "total"}`.
        #[arg(long, value_name = "FILE")]
        requests: Option<PathBuf>,
        /// Incidents (CSV); one recorded again by id replaces the first.
        #[arg(long, value_name = "FILE")]
        incidents: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Runs the server: the HTTP API over the store.
    Serve(ServeArgs),
    /// Compliance reports: `accord report --customer acme --period 2026-10 --format pdf -o
    /// acme.pdf`; `accord report verify FILE`; `accord report keygen`.
    Report(ReportArgs),
    /// Replays the recorded events and observations under a draft agreement and shows, per
    /// period, compliance and credits under the draft beside those under the active revisions.
    Backtest {
        /// The draft documents (a file or a directory): they replace the store's documents of
        /// the same kind and name, and add the others.
        #[arg(long, value_name = "PATH")]
        draft: PathBuf,
        /// A period (2026-10, 2026-Q4, 2026) or a range of them (2026-01..2026-10).
        #[arg(long)]
        period: String,
        /// Only this customer.
        #[arg(long)]
        customer: Option<String>,
        /// How to print.
        #[arg(long, value_enum, default_value = "text")]
        format: crate::backtest_cmd::Format,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Runs the server on a fresh SQLite directory seeded with a demo provider: agreements,
    /// users, 90 days of tickets and probe results, and a simulated helpdesk while it runs.
    Demo(DemoArgs),
    /// The server's configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Users who sign in to the server: add, list, change a password, disable.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for programs: add (shown once), list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The hash-chained audit log of changes (documents, lifecycle, users, tokens, settings):
    /// verify, log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Built-in probes (HTTP, TCP, DNS).
    #[command(subcommand)]
    Probe(ProbeCommand),
    /// Ticket clocks: explanations and generated histories.
    #[command(subcommand)]
    Clock(ClockCommand),
}

/// `accord probe ...`.
#[derive(Debug, Subcommand)]
pub enum ProbeCommand {
    /// Runs the probes of a file in the foreground, each on its interval, printing when a
    /// component goes down and comes back.
    Run {
        /// The probe definitions (YAML, docs/availability.md).
        config: PathBuf,
        /// Runs each probe once, prints the results and exits (1 when any is down).
        #[arg(long)]
        once: bool,
        /// Stops after this long (10m, 1h); default: until interrupted.
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<String>,
        /// Appends every result to this file, one JSON object per line.
        #[arg(long, value_name = "FILE")]
        results: Option<PathBuf>,
        /// Record the results into the store (`--data`/`--database`), as the server does; read
        /// them back with `accord availability --recorded`.
        #[arg(long)]
        record: bool,
        #[command(flatten)]
        store: StoreArg,
    },
}

/// `accord clock ...`.
#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// A ticket's clocks as a timeline: each span, whether it counted and why not.
    Explain {
        /// The ticket's id.
        ticket: String,
        /// The agreements: a YAML file or a directory of them; without it, the store's
        /// agreement revisions.
        #[arg(long, value_name = "PATH")]
        agreements: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArg,
        /// The events, one JSON object per line.
        #[arg(long, value_name = "FILE")]
        events: PathBuf,
        /// The instant to explain the clocks at (default: the last event's).
        #[arg(long, value_name = "INSTANT")]
        at: Option<String>,
    },
    /// Writes a realistic generated ticket history (JSON Lines) for the agreements' customers
    /// and services: for benchmarks and demonstrations.
    Generate {
        /// The agreements: a YAML file or a directory of them.
        #[arg(long, value_name = "PATH")]
        agreements: PathBuf,
        /// How many tickets.
        #[arg(long, default_value_t = 1000)]
        tickets: usize,
        /// The random seed: the same seed gives the same history.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The first day tickets are created on (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", default_value = "2026-09-01")]
        from: String,
        /// Over how many days tickets are created.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// `accord import ...`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// OpenSLO v1 Service, SLI and SLO documents.
    Openslo {
        /// The OpenSLO YAML file.
        file: PathBuf,
        /// Write the Accord documents here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// Where revisions are stored.
#[derive(Debug, Args)]
pub struct StoreArg {
    /// The data directory of the embedded SQLite store (`accord.db` inside it).
    #[arg(long, value_name = "DIR", env = "ACCORD_DATA", default_value = "accord-data")]
    pub data: PathBuf,
    /// A PostgreSQL URL (postgres://...); overrides --data.
    #[arg(long, value_name = "URL", env = "ACCORD_DATABASE")]
    pub database: Option<String>,
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

/// `accord serve`: each setting comes from the defaults, then the configuration file, then
/// `ACCORD_` environment variables, then these flags.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A TOML configuration file (`accord config example` prints one).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on, such as `127.0.0.1:8080` (port 0 picks a free one).
    #[arg(long, value_name = "ADDRESS")]
    pub listen: Option<String>,
    /// The data directory: the SQLite database lives here unless `--database` is given.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// A PostgreSQL URL, instead of SQLite in the data directory.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Log format: `text` or `json`.
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Also consume ticket events and probe results from NATS JetStream at this URL.
    #[arg(long, value_name = "URL")]
    pub nats: Option<String>,
}

/// `accord config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Prints a configuration file with every setting, its default and what it does.
    Example,
}

/// The roles, as `--role` takes them.
fn role_parser() -> impl clap::builder::TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::ALL.map(Role::as_str))
        .map(|word| Role::parse(&word).expect("invariant: every possible value is a role"))
}

/// The scopes, as `--scope` takes them.
fn scope_parser() -> impl clap::builder::TypedValueParser<Value = Scope> {
    PossibleValuesParser::new(Scope::ALL.map(Scope::as_str))
        .map(|word| Scope::parse(&word).expect("invariant: every possible value is a scope"))
}

/// `accord user ...`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Adds a user; the password is read from --password-file, or else as one line of stdin
    /// (at least 12 characters), and stored as an Argon2id hash.
    Add {
        /// The name to sign in with.
        name: String,
        /// What the user may do.
        #[arg(long, value_parser = role_parser())]
        role: Role,
        /// The customer a `customer` user sees; required for that role, refused for others.
        #[arg(long)]
        customer: Option<String>,
        /// A file whose one line is the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Lists every user, disabled ones too.
    List {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Sets a user's password, read as for `add`.
    Passwd {
        /// The user's name.
        name: String,
        /// A file whose one line is the password.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Disables a user: no more signing in, and their sessions end.
    Disable {
        /// The user's name.
        name: String,
        #[command(flatten)]
        store: StoreArg,
    },
}

/// `accord token ...`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Makes an API token and prints it on stdout, once: only its hash is stored.
    Add {
        /// A label saying what the token is for.
        name: String,
        /// The role the token acts as.
        #[arg(long, value_parser = role_parser())]
        role: Role,
        /// What the token may be used for (repeat the flag; default: every scope of the role).
        #[arg(long = "scope", value_name = "SCOPE", value_parser = scope_parser())]
        scopes: Vec<Scope>,
        /// The customer a `customer` token sees; required for that role, refused for others.
        #[arg(long)]
        customer: Option<String>,
        /// Who creates it (default: $USER).
        #[arg(long)]
        by: Option<String>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Lists every token, revoked ones too; never their secrets.
    List {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Revokes a token: it no longer authenticates.
    Revoke {
        /// The token's id, as `accord token list` shows it.
        id: u64,
        #[command(flatten)]
        store: StoreArg,
    },
}

/// `accord audit ...`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Checks the audit log's hash chain and prints its head (SEQ:HASH); exits 1 naming the
    /// first entry that was edited or removed.
    Verify {
        /// A head printed earlier: also fails when that entry is gone or differs, as when the
        /// newest entries were removed.
        #[arg(long, value_name = "SEQ:HASH")]
        expect_head: Option<String>,
        #[command(flatten)]
        store: StoreArg,
    },
    /// Prints the audit log's entries, oldest first: seq, instant, actor, action, subject and
    /// detail.
    Log {
        /// Starts after this entry.
        #[arg(long, value_name = "SEQ", default_value_t = 0)]
        after: u64,
        /// Prints at most this many entries.
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[command(flatten)]
        store: StoreArg,
    },
}

/// `accord demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The directory to seed (must be empty or absent; default: a new one in the temporary
    /// directory).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:8080")]
    pub listen: String,
}

/// `accord report ...`: make a report, or check one.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    /// Verify a report's signature, or make a signing key.
    #[command(subcommand)]
    pub command: Option<ReportCommand>,
    /// The customer (default: the provider-wide report of every customer).
    #[arg(long)]
    pub customer: Option<String>,
    /// The period: a month (2026-10), a quarter (2026-Q4) or a year (2026).
    #[arg(long)]
    pub period: Option<String>,
    /// json, csv, html or pdf (default: from the output file's extension, else json).
    #[arg(long)]
    pub format: Option<String>,
    /// The file to write (default: standard output; required for pdf).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Compute from the event log up to this position (default: its last); with --as-of,
    /// recomputes an earlier report byte for byte.
    #[arg(long)]
    pub position: Option<u64>,
    /// The instant the figures are as of (default: the period's end, or now while it runs).
    #[arg(long, value_name = "INSTANT")]
    pub as_of: Option<String>,
    /// Sign the report: writes FILE.sig beside it with the key in this file (base64 seed, as
    /// `accord report keygen` prints).
    #[arg(long, value_name = "FILE", env = "ACCORD_REPORT_SIGNING_KEY_FILE")]
    pub sign_key_file: Option<PathBuf>,
    /// The provider's name at the top of the report.
    #[arg(long, env = "ACCORD_REPORT_ISSUER", default_value = "Accord")]
    pub issuer: String,
    #[command(flatten)]
    pub store: StoreArg,
}

/// `accord report verify` and `keygen`.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Checks a report against its signature file (FILE.sig): the content hash, the log
    /// position and instant it names, and the key.
    Verify {
        /// The report.
        file: PathBuf,
        /// The signature file (default: FILE.sig).
        #[arg(long)]
        signature: Option<PathBuf>,
        /// The provider's public key (base64) to require, as served at
        /// /.well-known/accord/report-signing-key.
        #[arg(long)]
        key: Option<String>,
    },
    /// Prints a new Ed25519 signing key (a base64 seed for `report_signing_key`) and its
    /// public key.
    Keygen,
}
