//! What a compliance report says, as values: each customer's objectives against what was
//! measured, the breaches, the credits, the satisfaction and the watermelon flag. Computed
//! without I/O from the catalog in force, the availability measurements and the folded tickets,
//! so the CLI, the API and the scheduler give the same figures, and a recompute from the same
//! log position gives the same bytes.

use std::collections::BTreeMap;

use accord_core::agreement::{Catalog, Metric, Money, Percent, Query, resolve};
use accord_core::availability::{Availability, parse_period};
use accord_core::calendar::TimeRange;
use accord_core::clock::compliance::{Tally, outcome};
use accord_core::clock::{RevisionRef, Score, Ticket};
use accord_core::credits::{
    self, BreachedClock, CreditStatement, Inputs, MeasuredAvailability, Period, breached_clocks,
};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::availability_cmd::{
    AvailabilityOutcome, Figures, IncidentCount, LatencyOutcome, Measurement,
};

/// Everything one report holds.
#[derive(Debug)]
pub(crate) struct Report {
    /// The period as asked: `2026-10`, `2026-Q4`, `2026`.
    pub(crate) period: String,
    /// One customer's report, or the provider-wide one (every customer).
    pub(crate) customer: Option<String>,
    /// The instant the figures are as of (the period's end, or earlier while it runs).
    pub(crate) as_of: Timestamp,
    /// The last event-log position folded in.
    pub(crate) position: u64,
    /// The customers, by name.
    pub(crate) customers: Vec<CustomerReport>,
}

/// One customer's part.
#[derive(Debug)]
pub(crate) struct CustomerReport {
    /// The customer's name.
    pub(crate) name: String,
    /// Its display name.
    pub(crate) display_name: String,
    /// Its zone, which the period and every local time are in.
    pub(crate) zone: TimeZone,
    /// The period in that zone.
    pub(crate) range: TimeRange,
    /// Availability and latency objectives.
    pub(crate) availability: Vec<AvailabilityRow>,
    /// Incidents that overlapped the period, once each.
    pub(crate) incidents: Vec<IncidentRow>,
    /// Ticket objectives per service, metric and priority.
    pub(crate) tickets: Vec<TicketRow>,
    /// Compliance objectives (share of tickets in time).
    pub(crate) compliance: Vec<ComplianceRowReport>,
    /// Breached clocks in the period.
    pub(crate) breaches: Vec<BreachRow>,
    /// Credit statements, one per service with credit terms and month.
    pub(crate) credits: Vec<CreditRow>,
    /// Satisfaction per service, and over all.
    pub(crate) satisfaction: Vec<SatisfactionRow>,
    /// Services green on the SLA but red for the customer.
    pub(crate) watermelons: Vec<Watermelon>,
}

impl CustomerReport {
    /// Objectives measured and missed (availability, latency, compliance).
    pub(crate) fn n_missed(&self) -> usize {
        self.availability.iter().filter(|row| row.met == Some(false)).count()
            + self.compliance.iter().filter(|row| !row.met).count()
    }

    /// Objectives with a verdict.
    pub(crate) fn n_judged(&self) -> usize {
        self.availability.iter().filter(|row| row.met.is_some()).count() + self.compliance.len()
    }

    /// The credits of the period per currency.
    pub(crate) fn credit_totals(&self) -> BTreeMap<String, i64> {
        let mut totals = BTreeMap::new();
        for row in &self.credits {
            if let Some(statement) = &row.statement {
                *totals.entry(statement.currency().to_owned()).or_insert(0) +=
                    statement.total.minor();
            }
        }
        totals
    }
}

/// One availability or latency objective.
#[derive(Debug)]
pub(crate) struct AvailabilityRow {
    /// The service.
    pub(crate) service: String,
    /// The objective's name.
    pub(crate) objective: String,
    /// `availability` or `latency`.
    pub(crate) kind: &'static str,
    /// The target in words: `99.9%`, `p95 ≤ 300ms`.
    pub(crate) target: String,
    /// The measured value in words: `99.9531%`; `None` when not measured.
    pub(crate) actual: Option<String>,
    /// The availability as a number (percent), for charts.
    pub(crate) actual_percent: Option<f64>,
    /// The target as a number (percent), for charts.
    pub(crate) target_percent: Option<f64>,
    /// Met, missed, or not judged.
    pub(crate) met: Option<bool>,
    /// Downtime counted.
    pub(crate) downtime: Option<SignedDuration>,
    /// The share of the error budget left (1 untouched, below 0 overspent).
    pub(crate) budget_left: Option<f64>,
    /// Each local day with its availability in percent.
    pub(crate) daily: Vec<(jiff::civil::Date, Option<f64>)>,
    /// What the data lacks.
    pub(crate) notes: Vec<String>,
}

/// An incident.
#[derive(Debug)]
pub(crate) struct IncidentRow {
    /// Its id.
    pub(crate) id: String,
    /// When it started.
    pub(crate) start: Timestamp,
    /// When it ended; `None` while ongoing.
    pub(crate) end: Option<Timestamp>,
    /// The objectives it counted against and how.
    pub(crate) counted: String,
    /// The cause as recorded.
    pub(crate) cause: String,
    /// The root cause as recorded.
    pub(crate) root_cause: String,
}

/// A ticket objective's outcome over the period.
#[derive(Debug)]
pub(crate) struct TicketRow {
    /// The service.
    pub(crate) service: String,
    /// The metric.
    pub(crate) metric: Metric,
    /// The priority or request type.
    pub(crate) priority: String,
    /// The target as the agreement states it (`2h`, `3 business days`).
    pub(crate) target: String,
    /// Tickets decided in the period on this metric.
    pub(crate) n_decided: u32,
    /// Of which in time.
    pub(crate) n_met: u32,
}

impl TicketRow {
    /// The share in time, in percent; `None` without decided tickets.
    pub(crate) fn share_met(&self) -> Option<f64> {
        (self.n_decided > 0).then(|| f64::from(self.n_met) * 100.0 / f64::from(self.n_decided))
    }
}

/// A compliance objective over one of its windows inside the period.
#[derive(Debug)]
pub(crate) struct ComplianceRowReport {
    /// The service.
    pub(crate) service: String,
    /// The objective.
    pub(crate) objective: String,
    /// The window's label.
    pub(crate) window: String,
    /// The share that must be in time.
    pub(crate) target: Percent,
    /// Tickets decided.
    pub(crate) n_tickets: u32,
    /// Of which in time.
    pub(crate) n_met: u32,
    /// Misses allowed.
    pub(crate) n_allowed: u32,
    /// Whether it holds.
    pub(crate) met: bool,
}

/// A breached clock.
#[derive(Debug)]
pub(crate) struct BreachRow {
    /// The ticket.
    pub(crate) ticket: String,
    /// The helpdesk's own reference.
    pub(crate) external_ref: Option<String>,
    /// The service.
    pub(crate) service: String,
    /// The breach.
    pub(crate) clock: BreachedClock,
}

/// One month's credits for one service.
#[derive(Debug)]
pub(crate) struct CreditRow {
    /// The service.
    pub(crate) service: String,
    /// The month.
    pub(crate) month: String,
    /// The statement; `None` when it could not be computed (see `problem`).
    pub(crate) statement: Option<CreditStatement>,
    /// Why there is no statement.
    pub(crate) problem: Option<String>,
}

/// Satisfaction of one service (`None`: all services).
#[derive(Debug)]
pub(crate) struct SatisfactionRow {
    /// The service; `None` for the customer over all.
    pub(crate) service: Option<String>,
    /// Ratings in the period.
    pub(crate) n_ratings: u32,
    /// Of which satisfied (4 or 5 stars, or good).
    pub(crate) n_satisfied: u32,
    /// The mean of star ratings, when there are some.
    pub(crate) mean_stars: Option<f64>,
    /// The satisfied share (percent) in the two periods before and this one.
    pub(crate) trend: [Option<f64>; 3],
    /// The labels of those periods.
    pub(crate) trend_labels: [String; 3],
    /// Comments in the period, newest first, at most five.
    pub(crate) comments: Vec<(Timestamp, String, String)>,
}

impl SatisfactionRow {
    /// CSAT: the satisfied share in percent; `None` without ratings.
    pub(crate) fn csat(&self) -> Option<f64> {
        (self.n_ratings > 0)
            .then(|| f64::from(self.n_satisfied) * 100.0 / f64::from(self.n_ratings))
    }
}

/// Green on the SLA, red for the customer.
#[derive(Debug)]
pub(crate) struct Watermelon {
    /// The service.
    pub(crate) service: String,
    /// Why, in words.
    pub(crate) reason: String,
}

/// What a report is computed from, read from the store by the caller.
pub(crate) struct Inputs2<'a> {
    /// The agreements in force over the period.
    pub(crate) catalog: &'a Catalog,
    /// The period's availability measurements.
    pub(crate) measurements: &'a [Measurement],
    /// Each month's measurements (credits are monthly).
    pub(crate) monthly: &'a BTreeMap<String, Vec<Measurement>>,
    /// Every ticket folded up to the position.
    pub(crate) tickets: &'a [&'a Ticket],
    /// The CSAT below which a met SLA is a watermelon (percent).
    pub(crate) csat_threshold: f64,
    /// Fewest ratings for a CSAT to count.
    pub(crate) min_ratings: u32,
}

impl std::fmt::Debug for Inputs2<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs").finish_non_exhaustive()
    }
}

/// Computes the report of `customer` (every customer when `None`) over `period`.
///
/// # Errors
///
/// A period that is not one.
pub(crate) fn compute(
    inputs: &Inputs2<'_>,
    customer: Option<&str>,
    period: &str,
    as_of: Timestamp,
    position: u64,
) -> Result<Report, String> {
    let mut customers = Vec::new();
    for customer_doc in inputs.catalog.customers.values() {
        if customer.is_some_and(|wanted| wanted != customer_doc.meta.name) {
            continue;
        }
        let zone = &customer_doc.time_zone;
        let (_, range) = parse_period(period, zone)?;
        let name = customer_doc.meta.name.clone();
        let tickets: Vec<&Ticket> = inputs
            .tickets
            .iter()
            .copied()
            .filter(|ticket| ticket.state.customer.as_deref() == Some(name.as_str()))
            .collect();
        let availability = availability_rows(inputs.measurements, &name);
        let incidents = incident_rows(inputs.measurements, &name);
        let (ticket_rows, breaches) = ticket_rows(&tickets, range, as_of);
        let compliance = compliance_rows(&tickets, range, zone, as_of);
        let credits = credit_rows(inputs, &name, zone, &tickets, as_of);
        let satisfaction = satisfaction_rows(&tickets, period, zone);
        let watermelons = watermelons(
            &availability,
            &compliance,
            &satisfaction,
            inputs.csat_threshold,
            inputs.min_ratings,
        );
        customers.push(CustomerReport {
            display_name: customer_doc.legal_name.clone().unwrap_or_else(|| name.clone()),
            name,
            zone: zone.clone(),
            range,
            availability,
            incidents,
            tickets: ticket_rows,
            compliance,
            breaches,
            credits,
            satisfaction,
            watermelons,
        });
    }
    Ok(Report {
        period: period.to_owned(),
        customer: customer.map(str::to_owned),
        as_of,
        position,
        customers,
    })
}

fn percent_of(percent: Percent) -> f64 {
    f64::from(percent.micros()) / 1_000_000.0
}

fn percent_value(availability: Availability) -> f64 {
    percent_of(availability.percent())
}

fn availability_rows(measurements: &[Measurement], customer: &str) -> Vec<AvailabilityRow> {
    let mut rows = Vec::new();
    for measurement in measurements.iter().filter(|m| m.customer == customer) {
        let budget_left = measurement.budget_left();
        let mut row = AvailabilityRow {
            service: measurement.service.clone(),
            objective: measurement.name.clone(),
            kind: "availability",
            target: String::new(),
            actual: None,
            actual_percent: None,
            target_percent: None,
            met: None,
            downtime: None,
            budget_left,
            daily: Vec::new(),
            notes: Vec::new(),
        };
        match &measurement.figures {
            Figures::Availability { notes, outcome, .. } => {
                row.notes.clone_from(notes);
                match outcome {
                    AvailabilityOutcome::NoTarget => row.notes.push("no target".to_owned()),
                    AvailabilityOutcome::NeedsRequestsSource => {
                        row.notes.push("needs a requests source".to_owned());
                    }
                    AvailabilityOutcome::NoRequestCounts { source } => {
                        row.notes.push(format!("no request counts from {source}"));
                    }
                    AvailabilityOutcome::Requests { availability, target, .. }
                    | AvailabilityOutcome::Timeslices { availability, target, .. } => {
                        row.target = target.to_string();
                        row.target_percent = Some(percent_of(*target));
                        row.actual = Some(availability.to_string());
                        row.actual_percent = Some(percent_value(*availability));
                        row.met = Some(availability.meets(*target));
                    }
                    AvailabilityOutcome::Time(figures) => {
                        row.target = figures.target.to_string();
                        row.target_percent = Some(percent_of(figures.target));
                        row.actual = Some(figures.availability.to_string());
                        row.actual_percent = Some(percent_value(figures.availability));
                        row.met = Some(figures.availability.meets(figures.target));
                        row.downtime = Some(figures.downtime);
                        row.daily = figures
                            .daily
                            .iter()
                            .map(|(date, measured)| (*date, measured.map(percent_value)))
                            .collect();
                    }
                }
            }
            Figures::Latency(outcome) => {
                row.kind = "latency";
                match outcome {
                    LatencyOutcome::NeedsPercentileAndThreshold => {
                        row.notes.push("needs a percentile and a threshold".to_owned());
                    }
                    LatencyOutcome::NoSamples => row.notes.push("no samples".to_owned()),
                    LatencyOutcome::Measured { percentile, value, threshold, n_samples } => {
                        row.target = format!(
                            "p{} ≤ {}",
                            percentile.to_string().trim_end_matches('%'),
                            crate::availability_cmd::format_latency(*threshold)
                        );
                        row.actual = Some(format!(
                            "{} ({n_samples} samples)",
                            crate::availability_cmd::format_latency(*value)
                        ));
                        row.met = Some(value <= threshold);
                    }
                }
            }
        }
        rows.push(row);
    }
    rows
}

fn incident_rows(measurements: &[Measurement], customer: &str) -> Vec<IncidentRow> {
    let mut rows: BTreeMap<(Timestamp, String), IncidentRow> = BTreeMap::new();
    for measurement in measurements.iter().filter(|m| m.customer == customer) {
        let Figures::Availability { outcome: AvailabilityOutcome::Time(figures), .. } =
            &measurement.figures
        else {
            continue;
        };
        for listed in &figures.incidents {
            let incident = &listed.incident;
            let how = match &listed.counted {
                IncidentCount::Excluded(reason) if reason.is_empty() => "excluded".to_owned(),
                IncidentCount::Excluded(reason) => format!("excluded: {reason}"),
                IncidentCount::TooShort(minimum) => {
                    format!(
                        "below the {} minimum",
                        crate::availability_cmd::format_latency(*minimum)
                    )
                }
                IncidentCount::Counted(counted) => {
                    format!("{} counted", accord_core::agreement::format_duration(*counted))
                }
                IncidentCount::NotCounted => "not counted".to_owned(),
            };
            let counted = format!("{}/{}: {how}", measurement.service, measurement.name);
            let row =
                rows.entry((incident.start, incident.id.clone())).or_insert_with(|| IncidentRow {
                    id: incident.id.clone(),
                    start: incident.start,
                    end: incident.end,
                    counted: String::new(),
                    cause: incident.cause.clone(),
                    root_cause: incident.root_cause.clone(),
                });
            if !row.counted.is_empty() {
                row.counted.push_str("; ");
            }
            row.counted.push_str(&counted);
        }
    }
    rows.into_values().collect()
}

/// Each ticket objective's decided outcomes in `range`, and the breaches in it.
fn ticket_rows(
    tickets: &[&Ticket],
    range: TimeRange,
    as_of: Timestamp,
) -> (Vec<TicketRow>, Vec<BreachRow>) {
    let mut rows: BTreeMap<(String, Metric, String), TicketRow> = BTreeMap::new();
    let mut breaches = Vec::new();
    for ticket in tickets {
        let service = ticket.state.service.as_deref().unwrap_or("").to_owned();
        for clock in &ticket.state.clocks {
            let Some(decided) = outcome(clock, as_of) else { continue };
            if decided.at < range.start() || decided.at >= range.end() {
                continue;
            }
            let Some(cycle) = clock.cycles.last() else { continue };
            let key = (service.clone(), clock.metric, cycle.objective.key.to_string());
            let row = rows.entry(key).or_insert_with(|| TicketRow {
                service: service.clone(),
                metric: clock.metric,
                priority: cycle.objective.key.to_string(),
                target: cycle.objective.target.to_string(),
                n_decided: 0,
                n_met: 0,
            });
            row.n_decided += 1;
            row.n_met += u32::from(decided.met);
        }
        for clock in breached_clocks(&ticket.id, &ticket.state, range, as_of) {
            breaches.push(BreachRow {
                ticket: ticket.id.to_string(),
                external_ref: ticket.state.external_ref.as_deref().map(str::to_owned),
                service: service.clone(),
                clock,
            });
        }
    }
    breaches.sort_by(|a, b| {
        (a.clock.breached_at, &a.ticket, a.clock.metric).cmp(&(
            b.clock.breached_at,
            &b.ticket,
            b.clock.metric,
        ))
    });
    (rows.into_values().collect(), breaches)
}

/// The compliance objectives' windows that lie inside `range`.
fn compliance_rows(
    tickets: &[&Ticket],
    range: TimeRange,
    zone: &TimeZone,
    as_of: Timestamp,
) -> Vec<ComplianceRowReport> {
    let mut tally = Tally::default();
    for ticket in tickets {
        tally.add(&ticket.state, as_of);
    }
    tally
        .rows()
        .into_iter()
        .filter(|row| {
            parse_period(&row.period, zone).is_ok_and(|(_, window)| {
                range.start() <= window.start() && window.end() <= range.end()
            })
        })
        .map(|row| ComplianceRowReport {
            met: row.is_met(),
            service: row.service,
            objective: row.objective,
            window: row.period,
            target: row.target,
            n_tickets: row.n_tickets,
            n_met: row.n_met,
            n_allowed: row.n_allowed,
        })
        .collect()
}

/// Each month of the period for each service whose terms grant credits.
fn credit_rows(
    inputs: &Inputs2<'_>,
    customer: &str,
    zone: &TimeZone,
    tickets: &[&Ticket],
    as_of: Timestamp,
) -> Vec<CreditRow> {
    let mut rows = Vec::new();
    for (month, measurements) in inputs.monthly {
        let Ok(period) = Period::month(month, zone) else { continue };
        if period.range().start() >= as_of {
            continue;
        }
        let on = period.range().start().to_zoned(zone.clone()).date();
        for service in inputs.catalog.services.keys() {
            let query = Query { customer, service, region: None, site: None, on };
            let Ok(effective) = resolve(inputs.catalog, &query) else { continue };
            let Some(terms) = &effective.terms.credits else { continue };
            let revision_of = |origin: &accord_core::agreement::Origin| {
                let agreement = effective
                    .applied
                    .iter()
                    .find(|applied| applied.origin.file == origin.file)
                    .map_or_else(String::new, |applied| applied.name.clone());
                let revision = origin
                    .file
                    .rsplit_once('@')
                    .map_or_else(|| "current".to_owned(), |(_, number)| format!("r{number}"));
                RevisionRef { agreement, revision }
            };
            let credits_revision = revision_of(&terms.origin);
            let Some(pricing) = &effective.terms.pricing else {
                rows.push(CreditRow {
                    service: service.clone(),
                    month: month.clone(),
                    statement: None,
                    problem: Some(
                        "no monthly fee in the agreement: credits cannot be priced".into(),
                    ),
                });
                continue;
            };
            let pricing_revision = revision_of(&pricing.origin);
            let measured = terms.value.availability_objective.as_ref().and_then(|objective| {
                let measurement = measurements.iter().find(|m| {
                    m.customer == customer && m.service == *service && m.name == objective.value
                })?;
                match &measurement.figures {
                    Figures::Availability {
                        outcome: AvailabilityOutcome::Time(figures), ..
                    } => {
                        Some(MeasuredAvailability::from_account(&objective.value, &figures.account))
                    }
                    // Request- and slice-based figures have no outage intervals: the evidence
                    // is the measured share itself.
                    Figures::Availability {
                        outcome:
                            AvailabilityOutcome::Requests { availability, .. }
                            | AvailabilityOutcome::Timeslices { availability, .. },
                        ..
                    } => Some(MeasuredAvailability {
                        objective: objective.value.clone(),
                        availability: *availability,
                        outages: Vec::new(),
                    }),
                    _ => None,
                }
            });
            let breaches: Vec<BreachedClock> = tickets
                .iter()
                .filter(|ticket| ticket.state.service.as_deref() == Some(service.as_str()))
                .flat_map(|ticket| {
                    breached_clocks(&ticket.id, &ticket.state, period.range(), as_of)
                })
                .collect();
            let computed = credits::compute(&Inputs {
                terms: &terms.value,
                credits_revision: &credits_revision,
                monthly_fee: pricing.value.monthly_fee,
                pricing_revision: Some(&pricing_revision),
                period: &period,
                availability: measured.as_ref(),
                breaches: &breaches,
            });
            let (statement, problem) = match computed {
                Ok(statement) => (Some(statement), None),
                Err(error) => (None, Some(error.to_string())),
            };
            rows.push(CreditRow {
                service: service.clone(),
                month: month.clone(),
                statement,
                problem,
            });
        }
    }
    rows
}

/// Whether a rating is satisfied: 4 or 5 stars, or good.
fn satisfied(score: Score) -> bool {
    match score {
        Score::Stars(stars) => stars >= 4,
        Score::Good(good) => good,
    }
}

/// The period before `label` (`2026-10` → `2026-09`, `2026-Q1` → `2025-Q4`, `2026` →
/// `2025`); `None` for other forms.
pub(crate) fn previous_period(label: &str) -> Option<String> {
    match label.split_once('-') {
        None => Some((label.parse::<i32>().ok()? - 1).to_string()),
        Some((year, quarter)) if quarter.starts_with('Q') => {
            let year: i32 = year.parse().ok()?;
            let quarter: u8 = quarter[1..].parse().ok()?;
            Some(if quarter <= 1 {
                format!("{}-Q4", year - 1)
            } else {
                format!("{year}-Q{}", quarter - 1)
            })
        }
        Some((year, month)) => {
            let year: i32 = year.parse().ok()?;
            let month: u8 = month.parse().ok()?;
            Some(if month <= 1 {
                format!("{}-12", year - 1)
            } else {
                format!("{year}-{:02}", month - 1)
            })
        }
    }
}

/// Ratings counted over one period.
#[derive(Clone, Copy, Debug, Default)]
struct RatingCounts {
    n_ratings: u32,
    n_satisfied: u32,
    star_sum: u32,
    n_stars: u32,
}

fn satisfaction_rows(tickets: &[&Ticket], period: &str, zone: &TimeZone) -> Vec<SatisfactionRow> {
    let before = previous_period(period);
    let before_that = before.as_deref().and_then(previous_period);
    let labels = [before_that.unwrap_or_default(), before.unwrap_or_default(), period.to_owned()];
    let ranges: Vec<Option<TimeRange>> =
        labels.iter().map(|label| parse_period(label, zone).ok().map(|(_, range)| range)).collect();
    let mut services: BTreeMap<Option<String>, [RatingCounts; 3]> = BTreeMap::new();
    let mut comments: BTreeMap<Option<String>, Vec<(Timestamp, String, String)>> = BTreeMap::new();
    for ticket in tickets {
        let service = ticket.state.service.as_deref().map(str::to_owned);
        for (at, score, comment) in &ticket.state.ratings {
            for (idx, range) in ranges.iter().enumerate() {
                let Some(range) = range else { continue };
                if *at < range.start() || *at >= range.end() {
                    continue;
                }
                for key in [None, service.clone()] {
                    let counts = &mut services.entry(key.clone()).or_default()[idx];
                    counts.n_ratings += 1;
                    counts.n_satisfied += u32::from(satisfied(*score));
                    if let Score::Stars(stars) = score {
                        counts.star_sum += u32::from(*stars);
                        counts.n_stars += 1;
                    }
                    if idx == 2
                        && key.is_none()
                        && let Some(comment) = comment
                    {
                        comments.entry(service.clone()).or_default().push((
                            *at,
                            format!("{} · {score}", ticket.id),
                            comment.to_string(),
                        ));
                    }
                }
            }
        }
    }
    services
        .into_iter()
        .map(|(service, counts)| {
            let RatingCounts { n_ratings, n_satisfied, star_sum, n_stars } = counts[2];
            let share = |counts: RatingCounts| {
                (counts.n_ratings > 0)
                    .then(|| f64::from(counts.n_satisfied) * 100.0 / f64::from(counts.n_ratings))
            };
            let mut listed = match &service {
                None => comments.values().flatten().cloned().collect(),
                Some(name) => comments.get(&Some(name.clone())).cloned().unwrap_or_default(),
            };
            listed.sort_by(|a: &(Timestamp, String, String), b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            listed.truncate(5);
            SatisfactionRow {
                service,
                n_ratings,
                n_satisfied,
                mean_stars: (n_stars > 0).then(|| f64::from(star_sum) / f64::from(n_stars)),
                trend: [share(counts[0]), share(counts[1]), share(counts[2])],
                trend_labels: labels.clone(),
                comments: listed,
            }
        })
        .filter(|row| row.trend.iter().any(Option::is_some))
        .collect()
}

/// Services whose objectives were all met while their customers were not satisfied: CSAT
/// below the threshold, or falling over three periods.
fn watermelons(
    availability: &[AvailabilityRow],
    compliance: &[ComplianceRowReport],
    satisfaction: &[SatisfactionRow],
    threshold: f64,
    min_ratings: u32,
) -> Vec<Watermelon> {
    let mut flagged = Vec::new();
    for row in satisfaction {
        let Some(service) = &row.service else { continue };
        let judged = availability
            .iter()
            .filter(|a| a.service == *service)
            .filter_map(|a| a.met)
            .chain(compliance.iter().filter(|c| c.service == *service).map(|c| c.met))
            .collect::<Vec<bool>>();
        if judged.is_empty() || judged.contains(&false) {
            continue;
        }
        let Some(csat) = row.csat().filter(|_| row.n_ratings >= min_ratings) else { continue };
        let reason = if csat < threshold {
            Some(format!(
                "every objective met, but satisfaction is {csat:.0}% ({} of {} ratings), below {threshold:.0}%",
                row.n_satisfied, row.n_ratings
            ))
        } else if let [Some(first), Some(second), Some(third)] = row.trend
            && first > second
            && second > third
        {
            Some(format!(
                "every objective met, but satisfaction fell three periods running: {first:.0}% → {second:.0}% → {third:.0}%"
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            flagged.push(Watermelon { service: service.clone(), reason });
        }
    }
    flagged
}

/// Money as `1,234.50 EUR`.
pub(crate) fn format_money(money: Money) -> String {
    format_minor(money.minor(), money.currency())
}

/// Minor units of `currency` as `1,234.50 EUR` (two decimals, as `Money` keeps).
pub(crate) fn format_minor(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.unsigned_abs();
    let units = (minor / 100).to_string();
    let mut grouped = String::new();
    for (idx, digit) in units.chars().enumerate() {
        if idx > 0 && (units.len() - idx).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02} {currency}", minor % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_periods_cross_years() {
        assert_eq!(previous_period("2026-01").as_deref(), Some("2025-12"));
        assert_eq!(previous_period("2026-10").as_deref(), Some("2026-09"));
        assert_eq!(previous_period("2026-Q1").as_deref(), Some("2025-Q4"));
        assert_eq!(previous_period("2026").as_deref(), Some("2025"));
    }

    #[test]
    fn money_is_grouped() {
        assert_eq!(format_minor(123_456_789, "EUR"), "1,234,567.89 EUR");
        assert_eq!(format_minor(-5, "USD"), "-0.05 USD");
        assert_eq!(format_minor(100_000, "USD"), "1,000.00 USD");
    }
}
