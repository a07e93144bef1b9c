//! The `accord` binary's library: the command line today; the HTTP API, web UI, scheduler,
//! probes and notifiers as they arrive.
//!
//! **Architecture Invariant:** this is the only crate that knows the command line, HTTP and
//! HTML. It reads the clock and the environment and passes values down to the core.

pub mod account_cmd;
pub mod agreement_cmd;
pub mod audit_cmd;
pub mod availability_cmd;
pub mod backtest_cmd;
pub mod calendar_cmd;
pub mod cli;
pub mod clock_cmd;
pub mod demo;
pub mod output;
pub mod probe_cmd;
pub mod report;
pub mod report_cmd;
pub mod revision_cmd;
pub mod server;
pub mod web;

use std::process::ExitCode;

/// Runs one command line.
///
/// # Errors
///
/// Whatever the command reports, with context naming the file or value involved.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        cli::Command::Calendar(command) => calendar_cmd::run(command),
        cli::Command::Check { path, at } => agreement_cmd::check(&path, at.as_deref()),
        cli::Command::Explain { customer, service, priority, region, site, at, path, store } => {
            let on = match at {
                Some(at) => agreement_cmd::parse_date("--at", &at)?,
                None => agreement_cmd::today(),
            };
            let args = agreement_cmd::ExplainArgs {
                customer: &customer,
                service: &service,
                priority: priority.as_deref(),
                region: region.as_deref(),
                site: site.as_deref(),
                on,
            };
            match path {
                Some(path) => {
                    let loaded = agreement_cmd::load(&path)?;
                    agreement_cmd::explain(&loaded.catalog, &args, &path.display().to_string())?;
                }
                None => revision_cmd::explain(&store, &args)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        cli::Command::Apply { path, store, author, message, backdate } => {
            revision_cmd::apply(&path, &store, author, &message, backdate.as_deref())
        }
        cli::Command::History { name, kind, store } => revision_cmd::history(&store, &kind, &name),
        cli::Command::Diff { name, from, to, store } => revision_cmd::diff(&store, &name, from, to),
        cli::Command::Lifecycle { name, action, revision, by, note, backdate, store } => {
            revision_cmd::lifecycle(
                &store,
                &name,
                &action,
                revision,
                by,
                &note,
                backdate.as_deref(),
            )
        }
        cli::Command::Import(cli::ImportCommand::Openslo { file, output }) => {
            agreement_cmd::import_openslo(&file, output.as_deref())
        }
        cli::Command::Availability {
            agreements,
            incidents,
            probe_results,
            requests,
            probes,
            heartbeats,
            period,
            customer,
            at,
            recorded,
            store,
        } => availability_cmd::availability(&availability_cmd::AvailabilityArgs {
            agreements: &agreements,
            incidents: incidents.as_deref(),
            probe_results: probe_results.as_deref(),
            requests: requests.as_deref(),
            probes: probes.as_deref(),
            heartbeats: heartbeats.as_deref(),
            period: &period,
            customer: customer.as_deref(),
            at: at.as_deref(),
            recorded: recorded.then_some(&store),
        }),
        cli::Command::Record { probes, probe_results, heartbeats, requests, incidents, store } => {
            availability_cmd::record(
                &store,
                &availability_cmd::RecordArgs {
                    probes: probes.as_deref(),
                    probe_results: probe_results.as_deref(),
                    heartbeats: heartbeats.as_deref(),
                    requests: requests.as_deref(),
                    incidents: incidents.as_deref(),
                },
            )
        }
        cli::Command::Serve(args) => server::serve(&args),
        cli::Command::Report(args) => report_cmd::run(&args),
        cli::Command::Backtest { draft, period, customer, format, store } => {
            backtest_cmd::run(&backtest_cmd::BacktestArgs {
                draft: &draft,
                period: &period,
                customer: customer.as_deref(),
                format,
                store: &store,
            })
        }
        cli::Command::Demo(args) => demo::demo(&args),
        cli::Command::Config(cli::ConfigCommand::Example) => {
            output::text(server::config::EXAMPLE.trim_end());
            Ok(ExitCode::SUCCESS)
        }
        cli::Command::User(command) => match command {
            cli::UserCommand::Add { name, role, customer, password_file, store } => {
                account_cmd::user_add(&store, &name, role, customer, password_file.as_deref())
            }
            cli::UserCommand::List { store } => account_cmd::user_list(&store),
            cli::UserCommand::Passwd { name, password_file, store } => {
                account_cmd::user_passwd(&store, &name, password_file.as_deref())
            }
            cli::UserCommand::Disable { name, store } => account_cmd::user_disable(&store, &name),
        },
        cli::Command::Token(command) => match command {
            cli::TokenCommand::Add { name, role, scopes, customer, by, store } => {
                account_cmd::token_add(
                    &store,
                    account_cmd::TokenAddArgs { name: &name, role, scopes: &scopes, customer, by },
                )
            }
            cli::TokenCommand::List { store } => account_cmd::token_list(&store),
            cli::TokenCommand::Revoke { id, store } => account_cmd::token_revoke(&store, id),
        },
        cli::Command::Audit(command) => match command {
            cli::AuditCommand::Verify { expect_head, store } => {
                audit_cmd::verify(&store, expect_head.as_deref())
            }
            cli::AuditCommand::Log { after, limit, store } => audit_cmd::log(&store, after, limit),
        },
        cli::Command::Probe(cli::ProbeCommand::Run {
            config,
            once,
            duration,
            results,
            record,
            store,
        }) => probe_cmd::run(&probe_cmd::RunArgs {
            config: &config,
            once,
            duration: duration.as_deref(),
            results: results.as_deref(),
            record: record.then_some(&store),
        }),
        cli::Command::Replay { agreements, store, events, at, format, summary, stats } => {
            clock_cmd::replay(&clock_cmd::ReplayArgs {
                terms: clock_cmd::TermsFrom::new(agreements.as_deref(), &store),
                events: &events,
                at: at.as_deref(),
                format,
                summary,
                stats,
            })
        }
        cli::Command::Clock(cli::ClockCommand::Explain {
            ticket,
            agreements,
            store,
            events,
            at,
        }) => {
            let terms = clock_cmd::TermsFrom::new(agreements.as_deref(), &store);
            clock_cmd::explain(&ticket, terms, &events, at.as_deref())
        }
        cli::Command::Clock(cli::ClockCommand::Generate {
            agreements,
            tickets,
            seed,
            from,
            days,
            output,
        }) => clock_cmd::generate_history(&clock_cmd::GenerateArgs {
            agreements: &agreements,
            tickets,
            seed,
            from: &from,
            days,
            output: output.as_deref(),
        }),
    }
}
