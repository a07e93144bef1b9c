//! `accord backtest`: the recorded events and observations replayed under a draft agreement,
//! period by period, beside the figures under the active revisions. The answer to "can we
//! promise 2 h for P1?" before signing it.
//!
//! Both sides go through the report's computation (`report::fold` and `report::figures`), so
//! a backtest's active column is what `accord report` says. Only the terms differ: the active
//! side pins each ticket to the agreement revisions active when it was created
//! (`revision_cmd::StoreTerms`), and availability and credits to the catalog in force in each
//! period; the draft side applies one catalog, the store's with the draft's documents laid
//! over it, to every ticket and every period (`accord_core::clock::CatalogTerms`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use accord_core::agreement::{self, Catalog, Kind, Severity};
use accord_core::availability::parse_period;
use accord_core::clock::{CatalogTerms, Ticket};
use accord_format::catalog::Loaded;
use accord_store::Store;
use anyhow::bail;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use crate::agreement_cmd;
use crate::availability_cmd::recorded_sources;
use crate::cli::StoreArg;
use crate::output;
use crate::report::model::{self, CustomerReport, format_minor};
use crate::report::{self, Basis, Settings};
use crate::revision_cmd::{self, StoreTerms, block_on, open};

/// How `backtest` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a terminal.
    Text,
    /// One JSON object with the same content.
    Json,
}

/// What `backtest` is asked.
#[derive(Debug)]
pub struct BacktestArgs<'a> {
    /// The draft documents: a file or a directory.
    pub draft: &'a Path,
    /// `2026-01..2026-10`, `2026-Q1..2026-Q3`, `2025..2026` or one period.
    pub period: &'a str,
    /// Only this customer.
    pub customer: Option<&'a str>,
    /// How to print.
    pub format: Format,
    /// The store.
    pub store: &'a StoreArg,
}

/// The most periods one backtest compares.
const MAX_PERIODS: usize = 120;

/// What the two sides mean, printed at the top of every backtest, a line at a time.
const ACTIVE_MEANS: [&str; 2] = [
    "each ticket on the agreement revisions active when it was created;",
    "availability and credits on the revisions in force in each period",
];
const DRAFT_MEANS: [&str; 2] = [
    "the store's latest documents with the draft's laid over them, for every ticket",
    "and every period of the range, over the same events and observations",
];
/// When a ticket objective counts as met.
const TICKET_MET_MEANS: &str =
    "a ticket objective is met in a period when every ticket decided in it was in time";

/// `accord backtest --draft PATH --period A..B`.
///
/// # Errors
///
/// A bad period or customer, a draft that does not load or check, or a store error.
pub fn run(args: &BacktestArgs<'_>) -> anyhow::Result<ExitCode> {
    let labels = periods(args.period)?;
    // Prints every problem with its file, line, column and field, then fails.
    let loaded = agreement_cmd::load(args.draft)?;
    let now = Timestamp::now();
    let backtest = block_on(async {
        let store = open(args.store).await?;
        compute(&store, args, &loaded, &labels, now).await
    })??;
    match args.format {
        Format::Text => output::lines(text(&backtest)),
        Format::Json => output::text(&serde_json::to_string_pretty(&json_of(&backtest))?),
    }
    Ok(ExitCode::SUCCESS)
}

/// A period label: a year, a quarter or a month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Label {
    Year(i16),
    Quarter(i16, u8),
    Month(i16, u8),
}

impl Label {
    fn parse(text: &str) -> Option<Label> {
        parse_period(text, &TimeZone::UTC).ok()?;
        match text.split_once('-') {
            None => Some(Label::Year(text.parse().ok()?)),
            Some((year, quarter)) if quarter.starts_with('Q') => {
                Some(Label::Quarter(year.parse().ok()?, quarter[1..].parse().ok()?))
            }
            Some((year, month)) => Some(Label::Month(year.parse().ok()?, month.parse().ok()?)),
        }
    }

    fn next(self) -> Label {
        match self {
            Label::Year(year) => Label::Year(year + 1),
            Label::Quarter(year, 4) => Label::Quarter(year + 1, 1),
            Label::Quarter(year, quarter) => Label::Quarter(year, quarter + 1),
            Label::Month(year, 12) => Label::Month(year + 1, 1),
            Label::Month(year, month) => Label::Month(year, month + 1),
        }
    }

    fn same_form(self, other: Label) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Year(year) => write!(f, "{year:04}"),
            Label::Quarter(year, quarter) => write!(f, "{year:04}-Q{quarter}"),
            Label::Month(year, month) => write!(f, "{year:04}-{month:02}"),
        }
    }
}

/// `2026-01..2026-03` → `2026-01`, `2026-02`, `2026-03`; one label → itself.
fn periods(text: &str) -> anyhow::Result<Vec<String>> {
    let expected =
        "expected a period (2026-10, 2026-Q4, 2026) or a range of them (2026-01..2026-10)";
    let (first, last) = text.split_once("..").unwrap_or((text, text));
    let (Some(first), Some(last)) = (Label::parse(first.trim()), Label::parse(last.trim())) else {
        bail!("--period {text:?}: {expected}");
    };
    if !first.same_form(last) {
        bail!("--period {text:?}: both ends must be months, quarters or years alike");
    }
    if last < first {
        bail!("--period {text:?}: the range ends before it starts");
    }
    let mut labels = vec![first];
    while labels.last() != Some(&last) {
        if labels.len() == MAX_PERIODS {
            bail!("--period {text:?}: more than {MAX_PERIODS} periods");
        }
        labels.push(labels[labels.len() - 1].next());
    }
    Ok(labels.iter().map(Label::to_string).collect())
}

/// Everything a backtest shows.
#[derive(Debug)]
struct Backtest {
    draft: String,
    period: String,
    position: u64,
    /// Choices made for the draft side, in words (a stretched term).
    notes: Vec<String>,
    /// Periods left out (not started yet).
    skipped: Vec<String>,
    /// Per period, per customer.
    comparisons: Vec<Comparison>,
}

/// One customer in one period under both sides.
#[derive(Debug)]
struct Comparison {
    period: String,
    as_of: Timestamp,
    customer: String,
    display_name: String,
    rows: Vec<Row>,
    breaches: Pair<usize>,
    credits: Pair<BTreeMap<String, i64>>,
}

#[derive(Debug, Default)]
struct Pair<T> {
    active: T,
    draft: T,
}

/// The kinds of objective, in the order they are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ObjectiveKind {
    Availability,
    Latency,
    Ticket,
    Compliance,
}

impl ObjectiveKind {
    fn as_str(self) -> &'static str {
        match self {
            ObjectiveKind::Availability => "availability",
            ObjectiveKind::Latency => "latency",
            ObjectiveKind::Ticket => "ticket",
            ObjectiveKind::Compliance => "compliance",
        }
    }
}

/// One objective under both sides; a side is `None` where the objective does not exist.
#[derive(Debug)]
struct Row {
    kind: ObjectiveKind,
    service: String,
    /// `P1 resolution`, `availability hosting`, `compliance p1-resolution`.
    objective: String,
    active: Option<Side>,
    draft: Option<Side>,
}

impl Row {
    fn changed(&self) -> bool {
        self.active != self.draft
    }
}

/// One objective's figures under one side.
#[derive(Clone, Debug, PartialEq)]
struct Side {
    target: String,
    /// Measured availability or latency; `None` for ticket objectives.
    actual: Option<String>,
    /// Tickets decided, and of which in time (ticket and compliance objectives).
    counts: Option<(u32, u32)>,
    /// Met, missed, or not judged (nothing measured or decided).
    met: Option<bool>,
}

impl Side {
    fn share(&self) -> Option<f64> {
        let (n_decided, n_met) = self.counts?;
        (n_decided > 0).then(|| f64::from(n_met) * 100.0 / f64::from(n_decided))
    }

    fn result(&self) -> String {
        match (&self.actual, self.counts) {
            (Some(actual), _) => actual.clone(),
            (None, Some((n_decided, _))) if n_decided > 0 => {
                format!("{:.1}%", self.share().unwrap_or_default())
            }
            _ => "-".to_owned(),
        }
    }

    fn in_time(&self) -> String {
        self.counts.map_or_else(String::new, |(n_decided, n_met)| format!("{n_met}/{n_decided}"))
    }
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "-",
    }
}

/// The change of verdict from the active side to the draft's, when there is one.
fn change(row: &Row) -> String {
    match (&row.active, &row.draft) {
        (None, Some(_)) => "only in draft".to_owned(),
        (Some(_), None) => "not in draft".to_owned(),
        (Some(active), Some(draft)) if active.met != draft.met => {
            format!("{} → {}", verdict(active.met), verdict(draft.met))
        }
        _ => String::new(),
    }
}

async fn compute(
    store: &Store,
    args: &BacktestArgs<'_>,
    loaded: &Loaded,
    labels: &[String],
    now: Timestamp,
) -> anyhow::Result<Backtest> {
    let position = store.log_head().await?;
    let mut periods = Vec::new();
    let mut skipped = Vec::new();
    for label in labels {
        let (_, utc_range) = parse_period(label, &TimeZone::UTC).map_err(anyhow::Error::msg)?;
        if utc_range.start() >= now {
            skipped.push(label.clone());
            continue;
        }
        let as_of = report::final_at(utc_range, now);
        let in_force = revision_cmd::catalog_in_force(store, label, as_of).await?;
        periods.push((label.clone(), as_of, in_force));
    }
    let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
        bail!("--period {}: no period of the range has started yet", args.period);
    };
    let first_day = parse_period(&first.0, &TimeZone::UTC).map_err(anyhow::Error::msg)?.1;
    let last_day = parse_period(&last.0, &TimeZone::UTC).map_err(anyhow::Error::msg)?.1;
    let span = (
        first_day.start().to_zoned(TimeZone::UTC).date(),
        last_day.end().to_zoned(TimeZone::UTC).date(),
    );

    let in_force: Vec<&Catalog> = periods.iter().map(|(_, _, catalog)| catalog).collect();
    let mut draft = draft_catalog(&in_force, &loaded.catalog);
    check(&draft, args.draft, span.0)?;
    let notes = stretch_terms(&mut draft, &loaded.catalog, span);
    if let Some(customer) = args.customer
        && !draft.customers.contains_key(customer)
    {
        bail!("--customer: {customer:?} is not a customer of the store or the draft");
    }

    let revisions: BTreeMap<String, String> =
        loaded.catalog.agreements.keys().map(|name| (name.clone(), "draft".to_owned())).collect();
    let active_engine =
        report::fold(store, position, StoreTerms::read(store, "the store".to_owned()).await?)
            .await?;
    let draft_engine =
        report::fold(store, position, CatalogTerms::new(draft.clone(), revisions)).await?;
    let active_tickets: Vec<&Ticket> = active_engine.tickets().collect();
    let draft_tickets: Vec<&Ticket> = draft_engine.tickets().collect();

    let settings = Settings::default();
    let mut comparisons = Vec::new();
    for (label, as_of, in_force) in &periods {
        let active_sources = recorded_sources(store, in_force, label, *as_of).await?;
        let draft_sources = recorded_sources(store, &draft, label, *as_of).await?;
        let active_basis = Basis {
            catalog: in_force,
            sources: &active_sources,
            tickets: &active_tickets,
            position,
        };
        let draft_basis =
            Basis { catalog: &draft, sources: &draft_sources, tickets: &draft_tickets, position };
        let active = report::figures(&active_basis, &settings, args.customer, label, *as_of)?;
        let draft = report::figures(&draft_basis, &settings, args.customer, label, *as_of)?;
        comparisons.extend(compare(label, *as_of, &active, &draft));
    }
    Ok(Backtest {
        draft: args.draft.display().to_string(),
        period: args.period.to_owned(),
        position,
        notes,
        skipped,
        comparisons,
    })
}

/// The store's documents with the draft's over them: the latest revision of every document
/// without a lifecycle (as every period's catalog holds them), of each agreement the revision
/// in force last in the range, then every draft document replacing the one of the same kind
/// and name, or added.
fn draft_catalog(in_force: &[&Catalog], draft: &Catalog) -> Catalog {
    let mut merged = in_force.last().map(|catalog| (*catalog).clone()).unwrap_or_default();
    for earlier in in_force.iter().rev().skip(1) {
        for (name, agreement) in &earlier.agreements {
            merged.agreements.entry(name.clone()).or_insert_with(|| agreement.clone());
        }
    }
    merged.calendars.extend(draft.calendars.clone());
    merged.customers.extend(draft.customers.clone());
    merged.maintenance.extend(draft.maintenance.clone());
    merged.services.extend(draft.services.clone());
    merged.agreements.extend(draft.agreements.clone());
    merged
}

/// Checks the merged catalog as `accord check` does; errors refuse the draft, and warnings
/// about the draft's own files are shown.
fn check(merged: &Catalog, draft: &Path, on: Date) -> anyhow::Result<()> {
    let findings = agreement::check(merged, on);
    let draft_prefix = draft.display().to_string();
    let n_errors = findings.iter().filter(|finding| finding.severity == Severity::Error).count();
    for finding in &findings {
        if finding.severity == Severity::Error || finding.origin.file.starts_with(&draft_prefix) {
            output::note(&finding.to_string());
        }
    }
    if n_errors > 0 {
        bail!(
            "the draft {} does not check against the store's documents: {n_errors} error{}",
            draft.display(),
            if n_errors == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// Widens the term of each draft agreement that does not cover the range, so the draft is
/// judged over all of it ("what if it had been in force"); says which.
fn stretch_terms(merged: &mut Catalog, draft: &Catalog, (first, end): (Date, Date)) -> Vec<String> {
    let last = end.yesterday().unwrap_or(end);
    // A day more either side: periods are read in each customer's zone, the span in UTC.
    let from = first.yesterday().unwrap_or(first);
    let until = end;
    let mut notes = Vec::new();
    for name in draft.agreements.keys() {
        let Some(agreement) = merged.agreements.get_mut(name) else { continue };
        let Some(term) = agreement.term.as_mut() else { continue };
        let term = &mut term.value;
        if term.covers(first) && term.covers(last) {
            continue;
        }
        let written = match term.effective_until {
            Some(last) => format!("{} to {last}", term.effective_from),
            None => format!("from {}", term.effective_from),
        };
        term.effective_from = term.effective_from.min(from);
        term.effective_until = term.effective_until.map(|last| last.max(until));
        notes.push(format!(
            "draft {} {name}: its term ({written}) is read as covering the whole range",
            Kind::Agreement.as_str()
        ));
    }
    notes
}

/// Each customer's rows under both sides.
fn compare(
    period: &str,
    as_of: Timestamp,
    active: &model::Report,
    draft: &model::Report,
) -> Vec<Comparison> {
    let mut names: Vec<&str> = active.customers.iter().map(|c| c.name.as_str()).collect();
    for customer in &draft.customers {
        if !names.contains(&customer.name.as_str()) {
            names.push(&customer.name);
        }
    }
    names.sort_unstable();
    let mut comparisons = Vec::new();
    for name in names {
        let active = active.customers.iter().find(|c| c.name == name);
        let draft = draft.customers.iter().find(|c| c.name == name);
        let mut rows: BTreeMap<(ObjectiveKind, String, String), Row> = BTreeMap::new();
        for (customer, is_draft) in [(active, false), (draft, true)] {
            let Some(customer) = customer else { continue };
            for (kind, service, objective, side) in sides(customer, period) {
                let row = rows.entry((kind, service.clone(), objective.clone())).or_insert(Row {
                    kind,
                    service,
                    objective,
                    active: None,
                    draft: None,
                });
                if is_draft {
                    row.draft = Some(side);
                } else {
                    row.active = Some(side);
                }
            }
        }
        let rows: Vec<Row> = rows.into_values().collect();
        let breaches = Pair {
            active: active.map_or(0, |c| c.breaches.len()),
            draft: draft.map_or(0, |c| c.breaches.len()),
        };
        let credits = Pair {
            active: active.map(CustomerReport::credit_totals).unwrap_or_default(),
            draft: draft.map(CustomerReport::credit_totals).unwrap_or_default(),
        };
        let nothing = rows.is_empty()
            && breaches.active == 0
            && breaches.draft == 0
            && credits.active.is_empty()
            && credits.draft.is_empty();
        if nothing {
            continue;
        }
        let display_name =
            active.or(draft).map_or_else(|| name.to_owned(), |c| c.display_name.clone());
        comparisons.push(Comparison {
            period: period.to_owned(),
            as_of,
            customer: name.to_owned(),
            display_name,
            rows,
            breaches,
            credits,
        });
    }
    comparisons
}

/// A customer's objectives as rows of one side.
fn sides(customer: &CustomerReport, period: &str) -> Vec<(ObjectiveKind, String, String, Side)> {
    let mut sides = Vec::new();
    for row in &customer.availability {
        let kind = if row.kind == "latency" {
            ObjectiveKind::Latency
        } else {
            ObjectiveKind::Availability
        };
        let side = Side {
            target: if row.target.is_empty() { "-".to_owned() } else { row.target.clone() },
            actual: Some(row.actual.clone().unwrap_or_else(|| "-".to_owned())),
            counts: None,
            met: row.met,
        };
        sides.push((kind, row.service.clone(), format!("{} {}", row.kind, row.objective), side));
    }
    for row in &customer.tickets {
        // A ticket objective is a promise per ticket: met when every ticket decided in the
        // period was in time.
        let side = Side {
            target: row.target.clone(),
            actual: None,
            counts: Some((row.n_decided, row.n_met)),
            met: (row.n_decided > 0).then_some(row.n_met == row.n_decided),
        };
        let objective = format!("{} {}", row.priority, row.metric.as_str().replace('_', " "));
        sides.push((ObjectiveKind::Ticket, row.service.clone(), objective, side));
    }
    for row in &customer.compliance {
        let side = Side {
            target: row.target.to_string(),
            actual: None,
            counts: Some((row.n_tickets, row.n_met)),
            met: Some(row.met),
        };
        let objective = if row.window == period {
            format!("compliance {}", row.objective)
        } else {
            format!("compliance {} {}", row.objective, row.window)
        };
        sides.push((ObjectiveKind::Compliance, row.service.clone(), objective, side));
    }
    sides
}

/// Money per currency: `1,234.50 EUR + 99.00 USD`; `0` without any.
fn money(totals: &BTreeMap<String, i64>) -> String {
    if totals.values().all(|minor| *minor == 0) {
        return totals.keys().next().map_or_else(|| "0".to_owned(), |c| format_minor(0, c));
    }
    totals
        .iter()
        .filter(|(_, minor)| **minor != 0)
        .map(|(currency, minor)| format_minor(*minor, currency))
        .collect::<Vec<_>>()
        .join(" + ")
}

fn add_totals(sum: &mut BTreeMap<String, i64>, more: &BTreeMap<String, i64>) {
    for (currency, minor) in more {
        *sum.entry(currency.clone()).or_insert(0) += minor;
    }
}

/// One changed objective over every period.
#[derive(Debug, Default)]
struct Summary {
    active: SideSummary,
    draft: SideSummary,
}

#[derive(Debug, Default)]
struct SideSummary {
    /// Distinct targets, in order of appearance.
    targets: Vec<String>,
    n_periods: u32,
    n_judged: u32,
    n_met: u32,
    n_decided: u32,
    n_in_time: u32,
}

impl SideSummary {
    fn add(&mut self, side: Option<&Side>) {
        let Some(side) = side else { return };
        self.n_periods += 1;
        if !self.targets.contains(&side.target) {
            self.targets.push(side.target.clone());
        }
        if let Some(met) = side.met {
            self.n_judged += 1;
            self.n_met += u32::from(met);
        }
        if let Some((n_decided, n_met)) = side.counts {
            self.n_decided += n_decided;
            self.n_in_time += n_met;
        }
    }

    /// Target, periods met, tickets in time and their share, as table cells.
    fn cells(&self) -> [String; 4] {
        if self.n_periods == 0 {
            return ["-".to_owned(), String::new(), String::new(), String::new()];
        }
        let (in_time, share) = if self.n_decided > 0 {
            let share = f64::from(self.n_in_time) * 100.0 / f64::from(self.n_decided);
            (format!("{}/{}", self.n_in_time, self.n_decided), format!("{share:.1}%"))
        } else {
            (String::new(), String::new())
        };
        [self.targets.join("/"), format!("{} of {}", self.n_met, self.n_judged), in_time, share]
    }

    fn json(&self) -> Value {
        json!({
            "targets": self.targets,
            "periods": self.n_periods,
            "judged": self.n_judged,
            "met": self.n_met,
            "decided": self.n_decided,
            "inTime": self.n_in_time,
        })
    }
}

/// The objectives that changed in some period, summed over all periods, by customer.
fn summaries(backtest: &Backtest) -> BTreeMap<(String, ObjectiveKind, String, String), Summary> {
    let changed: std::collections::BTreeSet<(String, ObjectiveKind, String, String)> = backtest
        .comparisons
        .iter()
        .flat_map(|c| {
            c.rows.iter().filter(|row| row.changed()).map(|row| {
                (c.customer.clone(), row.kind, row.service.clone(), row.objective.clone())
            })
        })
        .collect();
    let mut summaries: BTreeMap<_, Summary> = BTreeMap::new();
    for comparison in &backtest.comparisons {
        for row in &comparison.rows {
            let key =
                (comparison.customer.clone(), row.kind, row.service.clone(), row.objective.clone());
            if !changed.contains(&key) {
                continue;
            }
            let summary = summaries.entry(key).or_default();
            summary.active.add(row.active.as_ref());
            summary.draft.add(row.draft.as_ref());
        }
    }
    summaries
}

/// Breaches and credits over every period and customer.
fn totals(backtest: &Backtest) -> (Pair<usize>, Pair<BTreeMap<String, i64>>) {
    let mut breaches = Pair::default();
    let mut credits: Pair<BTreeMap<String, i64>> = Pair::default();
    for comparison in &backtest.comparisons {
        breaches.active += comparison.breaches.active;
        breaches.draft += comparison.breaches.draft;
        add_totals(&mut credits.active, &comparison.credits.active);
        add_totals(&mut credits.draft, &comparison.credits.draft);
    }
    (breaches, credits)
}

/// Columns padded to their widest cell, two spaces apart; `right` columns aligned right.
fn table(rows: &[Vec<String>], right: &[usize]) -> Vec<String> {
    let n_columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n_columns)
        .map(|idx| {
            rows.iter().filter_map(|row| row.get(idx)).map(|c| c.chars().count()).max().unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (idx, cell) in row.iter().enumerate() {
                let pad = " ".repeat(widths[idx].saturating_sub(cell.chars().count()));
                if idx > 0 {
                    line.push_str("  ");
                }
                if right.contains(&idx) {
                    line.push_str(&pad);
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&pad);
                }
            }
            line.trim_end().to_owned()
        })
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The text a terminal shows.
fn text(backtest: &Backtest) -> Vec<String> {
    let mut lines = vec![format!(
        "backtest of {} over {}, event log up to position {}",
        backtest.draft, backtest.period, backtest.position
    )];
    for (side, means) in [("active:", ACTIVE_MEANS), ("draft:", DRAFT_MEANS)] {
        lines.push(format!("  {side:<7} {}", means[0]));
        lines.extend(means[1..].iter().map(|line| format!("          {line}")));
    }
    lines.push(format!("  {TICKET_MET_MEANS}"));
    lines.extend(backtest.notes.iter().map(|note| format!("  note: {note}")));
    if !backtest.skipped.is_empty() {
        lines.push(format!("  left out (not started): {}", backtest.skipped.join(", ")));
    }
    let indent = |table: Vec<String>| table.into_iter().map(|line| format!("  {line}"));
    for comparison in &backtest.comparisons {
        lines.push(String::new());
        let name = if comparison.display_name == comparison.customer {
            comparison.customer.clone()
        } else {
            format!("{} ({})", comparison.customer, comparison.display_name)
        };
        lines.push(format!("{} · {name} · as of {}", comparison.period, comparison.as_of));
        let changed: Vec<&Row> = comparison.rows.iter().filter(|row| row.changed()).collect();
        if !changed.is_empty() {
            let mut rows = vec![
                cells(&["", "", "active", "", "", "", "draft"]),
                cells(&[
                    "service",
                    "objective",
                    "target",
                    "in time",
                    "result",
                    "verdict",
                    "target",
                    "in time",
                    "result",
                    "verdict",
                    "change",
                ]),
            ];
            for row in &changed {
                let mut cells = vec![row.service.clone(), row.objective.clone()];
                for side in [&row.active, &row.draft] {
                    match side {
                        Some(side) => cells.extend([
                            side.target.clone(),
                            side.in_time(),
                            side.result(),
                            verdict(side.met).to_owned(),
                        ]),
                        None => cells.extend(["-", "", "", ""].map(str::to_owned)),
                    }
                }
                cells.push(change(row));
                rows.push(cells);
            }
            lines.extend(indent(table(&rows, &[3, 4, 7, 8])));
        }
        let n_same = comparison.rows.len() - changed.len();
        if n_same > 0 {
            lines.push(format!(
                "  {} the same under both",
                plural(n_same, "objective", "objectives")
            ));
        }
        let totals = [
            cells(&[
                "breaches",
                &comparison.breaches.active.to_string(),
                "→",
                &comparison.breaches.draft.to_string(),
            ]),
            cells(&[
                "credits",
                &money(&comparison.credits.active),
                "→",
                &money(&comparison.credits.draft),
            ]),
        ];
        lines.extend(indent(table(&totals, &[1, 3])));
    }
    lines.push(String::new());
    let n_periods = backtest
        .comparisons
        .iter()
        .map(|c| c.period.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    lines.push(format!("summary over {}", plural(n_periods, "period", "periods")));
    let summaries = summaries(backtest);
    if summaries.is_empty() {
        lines.push("  no objective changes under the draft".to_owned());
    } else {
        let mut rows = vec![
            cells(&["", "", "", "active", "", "", "", "draft"]),
            cells(&[
                "customer",
                "service",
                "objective",
                "target",
                "met in",
                "in time",
                "share",
                "target",
                "met in",
                "in time",
                "share",
            ]),
        ];
        for ((customer, _, service, objective), summary) in &summaries {
            let mut row = vec![customer.clone(), service.clone(), objective.clone()];
            row.extend(summary.active.cells());
            row.extend(summary.draft.cells());
            rows.push(row);
        }
        lines.extend(indent(table(&rows, &[5, 6, 9, 10])));
    }
    let (breaches, credits) = totals(backtest);
    lines.push(format!(
        "  breaches {} → {}; credits {} → {}",
        breaches.active,
        breaches.draft,
        money(&credits.active),
        money(&credits.draft)
    ));
    lines
}

fn cells(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| (*text).to_owned()).collect()
}

fn side_json(side: Option<&Side>) -> Value {
    let Some(side) = side else { return Value::Null };
    json!({
        "target": side.target,
        "actual": side.actual,
        "decided": side.counts.map(|(n_decided, _)| n_decided),
        "inTime": side.counts.map(|(_, n_met)| n_met),
        "share": side.share(),
        "met": side.met,
    })
}

fn credits_json(totals: &BTreeMap<String, i64>) -> Value {
    json!({ "minor": totals, "text": money(totals) })
}

/// The same content as the text, as one JSON object.
fn json_of(backtest: &Backtest) -> Value {
    let results: Vec<Value> = backtest
        .comparisons
        .iter()
        .map(|comparison| {
            let objectives: Vec<Value> = comparison
                .rows
                .iter()
                .map(|row| {
                    let verdict_change = change(row);
                    json!({
                        "kind": row.kind.as_str(),
                        "service": row.service,
                        "objective": row.objective,
                        "changed": row.changed(),
                        "change": (!verdict_change.is_empty()).then_some(verdict_change),
                        "active": side_json(row.active.as_ref()),
                        "draft": side_json(row.draft.as_ref()),
                    })
                })
                .collect();
            json!({
                "period": comparison.period,
                "asOf": comparison.as_of.to_string(),
                "customer": comparison.customer,
                "displayName": comparison.display_name,
                "objectives": objectives,
                "breaches": { "active": comparison.breaches.active, "draft": comparison.breaches.draft },
                "credits": {
                    "active": credits_json(&comparison.credits.active),
                    "draft": credits_json(&comparison.credits.draft),
                },
            })
        })
        .collect();
    let summary: Vec<Value> = summaries(backtest)
        .iter()
        .map(|((customer, kind, service, objective), summary)| {
            json!({
                "customer": customer,
                "kind": kind.as_str(),
                "service": service,
                "objective": objective,
                "active": summary.active.json(),
                "draft": summary.draft.json(),
            })
        })
        .collect();
    let (breaches, credits) = totals(backtest);
    json!({
        "draft": backtest.draft,
        "period": backtest.period,
        "position": backtest.position,
        "semantics": {
            "active": ACTIVE_MEANS.join(" "),
            "draft": DRAFT_MEANS.join(" "),
            "ticketObjectives": TICKET_MET_MEANS,
        },
        "notes": backtest.notes,
        "skipped": backtest.skipped,
        "results": results,
        "summary": {
            "objectives": summary,
            "breaches": { "active": breaches.active, "draft": breaches.draft },
            "credits": { "active": credits_json(&credits.active), "draft": credits_json(&credits.draft) },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_expand_to_their_periods() {
        assert_eq!(
            periods("2026-11..2027-02").unwrap(),
            ["2026-11", "2026-12", "2027-01", "2027-02"]
        );
        assert_eq!(periods("2026-Q3..2027-Q1").unwrap(), ["2026-Q3", "2026-Q4", "2027-Q1"]);
        assert_eq!(periods("2025..2026").unwrap(), ["2025", "2026"]);
        assert_eq!(periods("2026-10").unwrap(), ["2026-10"]);
    }

    #[test]
    fn bad_ranges_are_refused() {
        for (text, message) in [
            ("2026-10..2026-01", "ends before it starts"),
            ("2026-01..2026-Q3", "alike"),
            ("2026-13", "expected a period"),
            ("2000-01..2026-12", "more than 120"),
        ] {
            let error = periods(text).unwrap_err().to_string();
            assert!(error.contains(message), "{text}: {error}");
        }
    }

    #[test]
    fn columns_align() {
        let rows = vec![
            vec!["a".to_owned(), "1".to_owned(), "x".to_owned()],
            vec!["long".to_owned(), "100".to_owned(), "y".to_owned()],
        ];
        assert_eq!(table(&rows, &[1]), ["a       1  x", "long  100  y"]);
    }
}
