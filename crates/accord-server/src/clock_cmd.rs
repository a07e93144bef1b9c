//! `accord replay`, `accord clock explain` and `accord clock generate`: ticket clocks from a
//! file of events, over agreements in files.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use accord_core::agreement::{Kind, Target, format_duration};
use accord_core::clock::compliance::{ComplianceRow, Tally};
use accord_core::clock::explain::{SpanKind, timeline};
use accord_core::clock::hash::FastMap;
use accord_core::clock::synth::{self, SynthSpec, generate};
use accord_core::clock::{
    CatalogTerms, ClockView, TermsSource, Ticket, TicketEvent, TicketState, in_horizon,
};
use accord_format::events::{parse_events, write_jsonl};
use anyhow::{Context, bail};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::agreement_cmd;
use crate::cli::StoreArg;
use crate::output;
use crate::revision_cmd::StoreTerms;

/// How `replay` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per clock.
    Table,
    /// One object per ticket.
    Json,
}

/// Where the terms come from.
#[derive(Clone, Copy, Debug)]
pub enum TermsFrom<'a> {
    /// Documents in files: one revision each.
    Files(&'a Path),
    /// The store's revisions and their lifecycle.
    Store(&'a StoreArg),
}

impl<'a> TermsFrom<'a> {
    /// Files when a path is given, else the store.
    pub fn new(agreements: Option<&'a Path>, store: &'a StoreArg) -> TermsFrom<'a> {
        agreements.map_or(TermsFrom::Store(store), TermsFrom::Files)
    }

    fn load(self) -> anyhow::Result<Box<dyn TermsSource>> {
        match self {
            TermsFrom::Files(path) => {
                let loaded = agreement_cmd::load(path)?;
                let revisions: BTreeMap<String, String> = loaded
                    .documents
                    .iter()
                    .filter(|document| document.kind == Kind::Agreement)
                    .map(|document| {
                        let hash = &document.content_hash;
                        (
                            document.name.clone(),
                            format!("sha256:{}", hash.get(..12).unwrap_or(hash)),
                        )
                    })
                    .collect();
                Ok(Box::new(CatalogTerms::new(loaded.catalog, revisions)))
            }
            TermsFrom::Store(store) => Ok(Box::new(StoreTerms::load(store)?)),
        }
    }
}

/// What `replay` is asked.
#[derive(Debug)]
pub struct ReplayArgs<'a> {
    /// Where the terms come from.
    pub terms: TermsFrom<'a>,
    /// Events (JSON Lines).
    pub events: &'a Path,
    /// The instant (default: the last event's).
    pub at: Option<&'a str>,
    /// Output format.
    pub format: Format,
    /// Only counts and compliance.
    pub summary: bool,
    /// Timings on stderr.
    pub stats: bool,
}

/// A file of events replayed ticket by ticket.
struct Replay {
    terms: Box<dyn TermsSource>,
    // Sorted by ticket, then in the order the engine applies them.
    events: Vec<TicketEvent>,
    as_of: Timestamp,
    n_duplicates: usize,
    parse_time: std::time::Duration,
}

fn parse_instant(flag: &str, text: &str) -> anyhow::Result<Timestamp> {
    text.parse::<Timestamp>().with_context(|| {
        format!(
            "{flag} {text:?}: expected an instant with a UTC offset, such as 2026-11-02T17:00:00+01:00"
        )
    })
}

/// Loads agreements and events: every event up to `at` (default: the last event's instant),
/// sorted by ticket. `only` keeps one ticket's events.
fn load_replay(
    terms: TermsFrom<'_>,
    events: &Path,
    at: Option<&str>,
    only: Option<&str>,
) -> anyhow::Result<Replay> {
    let at = at.map(|text| parse_instant("--at", text)).transpose()?;
    let terms = terms.load()?;
    let text = std::fs::read_to_string(events)
        .with_context(|| format!("reading events {}", events.display()))?;
    let started = Instant::now();
    let parsed = parse_events(&events.display().to_string(), &text);
    drop(text);
    let parse_time = started.elapsed();
    if !parsed.errors.is_empty() {
        let n_errors = parsed.errors.len();
        for error in &parsed.errors {
            output::note(&error.to_string());
        }
        bail!(
            "{} has {n_errors} malformed event{}; nothing was replayed",
            events.display(),
            if n_errors == 1 { "" } else { "s" }
        );
    }
    for record in &parsed.records {
        if !in_horizon(record.event.at) {
            bail!(
                "{}:{}: at: {} is outside 1900-01-01 to 2200-01-01 UTC",
                events.display(),
                record.line,
                record.event.at
            );
        }
    }
    let as_of = match at {
        Some(at) => at,
        None => parsed
            .records
            .iter()
            .map(|record| record.event.at)
            .max()
            .context("the events file holds no events: give --at")?,
    };
    let events: Vec<TicketEvent> = parsed
        .records
        .into_iter()
        .map(|record| record.event)
        .filter(|event| event.at <= as_of && only.is_none_or(|only| *event.ticket == *only))
        .collect();
    Ok(Replay { terms, events, as_of, n_duplicates: parsed.duplicates, parse_time })
}

impl Replay {
    /// Folds each ticket in turn, in ticket id order, and hands it to `visit`; returns the
    /// number of tickets and of duplicates dropped. Tickets are not kept, so a replay needs
    /// memory for its events, not for every ticket's clocks.
    fn for_each_ticket(&mut self, mut visit: impl FnMut(&Ticket)) -> Folded {
        let groups = group_by_ticket(std::mem::take(&mut self.events));
        let mut folded = Folded {
            n_tickets: groups.len(),
            n_duplicates: self.n_duplicates,
            fold_time: std::time::Duration::ZERO,
        };
        for (id, events) in groups {
            let started = Instant::now();
            let (ticket, duplicates) = Ticket::from_events(id, events, self.terms.as_mut());
            folded.fold_time += started.elapsed();
            folded.n_duplicates += duplicates;
            visit(&ticket);
        }
        folded
    }
}

/// What [`Replay::for_each_ticket`] did.
struct Folded {
    n_tickets: usize,
    n_duplicates: usize,
    /// Time spent in the clock engine proper.
    fold_time: std::time::Duration,
}

/// Each ticket's events, tickets in id order: one pass to bucket, then a sort of the ids only.
fn group_by_ticket(events: Vec<TicketEvent>) -> Vec<(Arc<str>, Vec<TicketEvent>)> {
    let mut index: FastMap<Arc<str>, usize> = FastMap::default();
    let mut groups: Vec<(Arc<str>, Vec<TicketEvent>)> = Vec::new();
    for event in events {
        let idx = *index.entry(event.ticket.clone()).or_insert_with(|| {
            groups.push((event.ticket.clone(), Vec::with_capacity(12)));
            groups.len() - 1
        });
        groups[idx].1.push(event);
    }
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    groups
}

/// `accord replay`.
pub fn replay(args: &ReplayArgs<'_>) -> anyhow::Result<ExitCode> {
    let mut replay = load_replay(args.terms, args.events, args.at, None)?;
    let as_of = replay.as_of;
    let n_events = replay.events.len();
    let mut tally = Tally::default();
    let mut counts = Counts::default();
    let mut out = output::Stream::stdout();
    match args.format {
        Format::Json => out.line(&format!("{{\"asOf\": \"{as_of}\", \"tickets\": ["))?,
        Format::Table => {
            out.line(&format!("clocks as of {as_of}"))?;
            if !args.summary {
                out.line(
                    "TICKET\tCLOCK\tKEY\tSTATE\tELAPSED\tTARGET\tPAUSED\tCYCLES\tWHEN\tREVISION",
                )?;
            }
        }
    }
    let started = Instant::now();
    let mut result = Ok(());
    let mut first = true;
    let folded = replay.for_each_ticket(|ticket| {
        tally.add(&ticket.state, as_of);
        let views = ticket.state.views(as_of);
        counts.add(&ticket.state, &views);
        if args.summary || result.is_err() {
            return;
        }
        result = match args.format {
            Format::Json => {
                let json = ticket_json(&ticket.id, &ticket.state, &views, as_of);
                let separator = if std::mem::take(&mut first) { "" } else { "," };
                out.line(&format!("{separator}{json}"))
            }
            Format::Table => table_rows(ticket, &views).iter().try_for_each(|row| out.line(row)),
        };
    });
    result?;
    let replay_time = started.elapsed();
    let Folded { n_tickets, n_duplicates, fold_time } = folded;
    let rows = tally.rows();
    match args.format {
        Format::Json => {
            let compliance: Vec<Value> = rows.iter().map(compliance_json).collect();
            out.line(&format!(
                "], \"summary\": {}, \"compliance\": {}}}",
                counts.json(n_tickets),
                Value::Array(compliance)
            ))?;
        }
        Format::Table => {
            out.line("")?;
            for line in counts.lines(n_tickets) {
                out.line(&line)?;
            }
            if !rows.is_empty() {
                out.line("")?;
                out.line("compliance")?;
            }
            for row in &rows {
                out.line(&format!(
                    "  {} {} {} {}: {}/{} met, {} ({})",
                    row.customer,
                    row.service,
                    row.objective,
                    row.period,
                    row.n_met,
                    row.n_tickets,
                    row.summary(),
                    if row.is_met() { "met" } else { "missed" }
                ))?;
            }
        }
    }
    out.flush()?;
    if args.stats {
        let seconds = fold_time.as_secs_f64();
        output::note(&format!(
            "events: {n_events} replayed ({n_duplicates} duplicates) into {n_tickets} tickets; parse {:.3} s; clock engine {:.3} s ({:.0} events/s, {:.0} ns/event); grouping, engine and output {:.3} s",
            replay.parse_time.as_secs_f64(),
            seconds,
            n_events as f64 / seconds.max(1e-9),
            seconds * 1e9 / (n_events.max(1) as f64),
            replay_time.as_secs_f64(),
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Clocks by metric and state, and tickets with problems.
#[derive(Default)]
struct Counts {
    by_state: BTreeMap<(&'static str, &'static str), usize>,
    n_problems: usize,
}

impl Counts {
    fn add(&mut self, state: &TicketState, views: &[ClockView]) {
        self.n_problems += usize::from(!state.problems.is_empty());
        for view in views {
            *self.by_state.entry((view.metric.as_str(), view.state.as_str())).or_default() += 1;
        }
    }

    fn lines(&self, n_tickets: usize) -> Vec<String> {
        let mut lines = vec![format!("{n_tickets} tickets, {} with problems", self.n_problems)];
        let mut metrics: Vec<&str> = self.by_state.keys().map(|(metric, _)| *metric).collect();
        metrics.dedup();
        for metric in metrics {
            let states: Vec<String> = self
                .by_state
                .iter()
                .filter(|((m, _), _)| *m == metric)
                .map(|((_, state), n)| format!("{n} {state}"))
                .collect();
            lines.push(format!("  {metric}: {}", states.join(", ")));
        }
        lines
    }

    fn json(&self, n_tickets: usize) -> Value {
        let mut clocks = serde_json::Map::new();
        for ((metric, state), n) in &self.by_state {
            let entry = clocks.entry(*metric).or_insert_with(|| json!({}));
            entry[*state] = json!(n);
        }
        json!({ "tickets": n_tickets, "withProblems": self.n_problems, "clocks": clocks })
    }
}

fn show(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

/// The target as business time; `2bd=17h` for business days.
fn target_text(cycle: &accord_core::clock::Cycle) -> String {
    match cycle.objective.target {
        Target::BusinessDays(_) => {
            format!("{}={}", cycle.objective.target, format_duration(cycle.target))
        }
        Target::Duration(_) => format_duration(cycle.target),
    }
}

fn table_rows(ticket: &Ticket, views: &[ClockView]) -> Vec<String> {
    let mut rows: Vec<String> = ticket
        .state
        .problems
        .iter()
        .map(|problem| format!("{}\t-\t-\tproblem\t{problem}", ticket.id))
        .collect();
    let revision =
        ticket.state.terms.as_ref().map(|terms| terms.revision_label()).unwrap_or_default();
    rows.extend(views.iter().map(|view| table_row(&ticket.id, view, &revision)));
    rows
}

fn table_row(ticket: &str, view: &ClockView, revision: &str) -> String {
    let cycle = &view.cycle;
    let zone = cycle.objective.calendar.zone();
    let when = match (cycle.stop, view.deadline) {
        (Some((at, reason)), _) => format!("{} {}", reason.as_str(), show(at, zone)),
        (None, Some(deadline)) if cycle.breached_at.is_some() => {
            format!("breached {}", show(deadline, zone))
        }
        (None, Some(deadline)) => format!("due {}", show(deadline, zone)),
        (None, None) => match &cycle.paused_by {
            Some(status) => format!("paused by {status}"),
            None => String::new(),
        },
    };
    let state = match &view.stage {
        Some(stage) if view.state == accord_core::clock::ClockState::AtRisk => {
            format!("at_risk({stage})")
        }
        _ => view.state.as_str().to_owned(),
    };
    format!(
        "{ticket}\t{}\t{}\t{state}\t{}\t{}\t{}\t{}\t{when}\t{revision}",
        view.metric.as_str(),
        cycle.objective.key,
        format_duration(cycle.elapsed),
        target_text(cycle),
        format_duration(view.total_paused),
        view.n_cycles,
    )
}

fn compliance_json(row: &ComplianceRow) -> Value {
    json!({
        "customer": row.customer,
        "service": row.service,
        "objective": row.objective,
        "period": row.period,
        "target": row.target.to_string(),
        "tickets": row.n_tickets,
        "met": row.n_met,
        "missesAllowed": row.n_allowed,
        "missesUsed": row.n_missed(),
        "ok": row.is_met(),
    })
}

fn duration_json(duration: SignedDuration) -> Value {
    json!(duration.as_secs())
}

pub(crate) fn ticket_json(
    id: &str,
    state: &TicketState,
    views: &[ClockView],
    as_of: Timestamp,
) -> Value {
    let clocks: Vec<Value> = views
        .iter()
        .map(|view| {
            let cycle = &view.cycle;
            json!({
                "metric": view.metric.as_str(),
                "key": &*cycle.objective.key,
                "state": view.state.as_str(),
                "stage": view.stage,
                "target": cycle.objective.target.to_string(),
                "targetSeconds": duration_json(cycle.target),
                "calendar": cycle.objective.calendar_name(),
                "elapsedSeconds": duration_json(cycle.elapsed),
                "remainingSeconds": duration_json(cycle.remaining()),
                "pausedSeconds": duration_json(view.total_paused),
                "pausedBy": cycle.paused_by.as_deref(),
                "cycles": view.n_cycles,
                "breachedCycles": view.n_breached,
                "started": cycle.start.to_string(),
                "deadline": view.deadline.map(|at| at.to_string()),
                "breachedAt": cycle.breached_at.map(|at| at.to_string()),
                "stopped": cycle.stop.map(|(at, _)| at.to_string()),
                "stopReason": cycle.stop.map(|(_, reason)| reason.as_str()),
                "escalations": cycle.fired.iter().map(|fired| json!({
                    "at": fired.at.to_string(), "threshold": fired.rung.label(), "notify": fired.rung.step.notify,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "ticket": id,
        "customer": state.customer.as_deref(),
        "service": state.service.as_deref(),
        "priority": state.priority.as_deref(),
        "status": state.status.as_deref(),
        "revisions": state.terms.as_ref().map(|terms| terms.revisions.iter().map(|revision| json!({
            "agreement": revision.agreement, "revision": revision.revision,
        })).collect::<Vec<_>>()),
        "termsPinnedAt": state.pinned_at.map(|at| at.to_string()),
        "nextChange": state.next_change(as_of).map(|at| at.to_string()),
        "problems": state.problems,
        "clocks": clocks,
    })
}

/// `accord clock explain TICKET`.
pub fn explain(
    ticket_id: &str,
    terms: TermsFrom<'_>,
    events: &Path,
    at: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let mut replay = load_replay(terms, events, at, Some(ticket_id))?;
    let as_of = replay.as_of;
    let mut found = None;
    let _ = replay.for_each_ticket(|ticket| found = Some(ticket.clone()));
    let Some(ticket) = found else {
        bail!("no ticket {ticket_id:?} in {} up to {as_of}", events.display());
    };
    let state = &ticket.state;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ticket {} as of {as_of}: customer {}, service {}, priority {}, status {}",
        ticket.id,
        state.customer.as_deref().unwrap_or("-"),
        state.service.as_deref().unwrap_or("-"),
        state.priority.as_deref().unwrap_or("-"),
        state.status.as_deref().unwrap_or("-"),
    );
    match &state.terms {
        Some(terms) => {
            let _ = writeln!(
                out,
                "terms: {} (the revisions in force at {}, kept for the ticket's life)",
                terms.revision_label(),
                state.pinned_at.map_or_else(|| "-".to_owned(), |at| show(at, &terms.zone)),
            );
        }
        None => {
            let _ = writeln!(out, "terms: none");
        }
    }
    for problem in &state.problems {
        let _ = writeln!(out, "problem: {problem}");
    }
    for clock in &state.clocks {
        let Some(first) = clock.cycles.first() else { continue };
        let objective = &clock.cycles.last().unwrap_or(first).objective;
        let effective = &objective.effective;
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} {}: target {} ({}), {} hours on calendar {} ({}), pauses on [{}] ({}), reopen {}",
            clock.metric.as_str(),
            objective.key,
            objective.target,
            effective.target.as_ref().map_or_else(String::new, |target| target.origin.to_string()),
            effective.hours.value.as_str(),
            objective.calendar_name(),
            effective.calendar.origin,
            effective.pause_on.value.join(", "),
            effective.pause_on.origin,
            effective.reopen.value.as_str(),
        );
        for (cycle_idx, cycle_timeline) in timeline(state, clock, as_of).iter().enumerate() {
            let cycle = &cycle_timeline.cycle;
            let zone = cycle.objective.calendar.zone();
            let _ = writeln!(
                out,
                "  cycle {}: {}, elapsed {} of {}, paused {}",
                cycle_idx + 1,
                cycle.state().as_str(),
                format_duration(cycle.elapsed),
                target_text(cycle),
                format_duration(cycle.paused),
            );
            for span in &cycle_timeline.spans {
                let why = match &span.kind {
                    SpanKind::Counted => "counted".to_owned(),
                    SpanKind::Closed => "not counted: closed hours".to_owned(),
                    SpanKind::Holiday(name) => format!("not counted: holiday {name}"),
                    SpanKind::Paused(status) => format!("not counted: paused by status {status}"),
                    SpanKind::BeforeStart => "not counted: before the cycle started".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "    {} - {}  {:>8}  {why} (elapsed {})",
                    show(span.from, zone),
                    show(span.to, zone),
                    format_duration(span.to.duration_since(span.from)),
                    format_duration(span.elapsed),
                );
            }
            for mark in &cycle_timeline.marks {
                let _ = writeln!(out, "    at {}: {}", show(mark.at, zone), mark.what);
            }
            if cycle.stop.is_none()
                && let Some(deadline) = cycle.deadline()
            {
                let _ = writeln!(out, "    due {}", show(deadline, zone));
            }
        }
    }
    if let Some(next) = state.next_change(as_of) {
        let zone = state
            .clocks
            .iter()
            .find_map(|clock| clock.cycles.first())
            .map_or(TimeZone::UTC, |cycle| cycle.objective.calendar.zone().clone());
        let _ = writeln!(out, "\nnext change: {} ({next})", show(next, &zone));
    }
    output::text(&out);
    Ok(ExitCode::SUCCESS)
}

/// What `clock generate` is asked.
#[derive(Debug)]
pub struct GenerateArgs<'a> {
    /// Agreements: customers, services and request types come from them.
    pub agreements: &'a Path,
    /// How many tickets.
    pub tickets: usize,
    /// The seed.
    pub seed: u64,
    /// The first day.
    pub from: &'a str,
    /// Over how many days.
    pub days: u32,
    /// Where to write (default: stdout).
    pub output: Option<&'a Path>,
}

/// A generator of `tickets` tickets over `days` days from `start` for the customers of
/// `catalog`, each on the services an SLA in force then covers for it, with the catalog's
/// request types; `None` when no customer has a service.
pub(crate) fn synth_spec(
    catalog: &accord_core::agreement::Catalog,
    start: Timestamp,
    days: u32,
    tickets: usize,
    seed: u64,
) -> Option<SynthSpec> {
    let customers = synth::customers(catalog, start.to_zoned(TimeZone::UTC).date());
    if customers.is_empty() {
        return None;
    }
    let mut request_types: Vec<String> = catalog
        .agreements
        .values()
        .flat_map(|agreement| agreement.terms.tickets.keys())
        .filter(|(metric, _)| *metric == accord_core::agreement::Metric::Request)
        .map(|(_, key)| key.clone())
        .collect();
    request_types.sort();
    request_types.dedup();
    Some(SynthSpec {
        seed,
        tickets,
        start,
        days,
        customers,
        priorities: vec![("P1".into(), 3), ("P2".into(), 12), ("P3".into(), 45), ("P4".into(), 40)],
        request_types,
        waiting_statuses: vec!["waiting_on_customer".into(), "waiting_on_vendor".into()],
    })
}

/// `accord clock generate`.
pub fn generate_history(args: &GenerateArgs<'_>) -> anyhow::Result<ExitCode> {
    let loaded = agreement_cmd::load(args.agreements)?;
    let catalog = &loaded.catalog;
    let from = agreement_cmd::parse_date("--from", args.from)?;
    let start =
        from.to_zoned(TimeZone::UTC).context("--from: outside the supported range")?.timestamp();
    let Some(spec) = synth_spec(catalog, start, args.days, args.tickets, args.seed) else {
        bail!(
            "{} defines no customers or no services to generate tickets for",
            args.agreements.display()
        );
    };
    let events: Vec<TicketEvent> = generate(&spec);
    let mut text = String::with_capacity(events.len() * 160);
    write_jsonl(&events, &mut text);
    match args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            output::note(&format!(
                "{} events of {} tickets written to {}",
                events.len(),
                args.tickets,
                path.display()
            ));
        }
        None => output::text(&text),
    }
    Ok(ExitCode::SUCCESS)
}
