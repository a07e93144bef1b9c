//! Compliance objectives: the share of tickets that met a target per period, and the misses
//! the period still allows ("95 % in time: 3 of 60 misses allowed, 1 used").
//!
//! A ticket counts once per metric: it missed when any cycle of the metric breached, and met
//! when every cycle stopped in time. It falls in the period of its first breach, or else of
//! its last stop; a clock still running without a breach is not counted yet.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::engine::{Clock, TicketState};
use crate::agreement::{Percent, Window};

/// A ticket's decided outcome on one metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Whether every cycle met the target.
    pub met: bool,
    /// The instant that decided it: the first breach, or the last stop.
    pub at: Timestamp,
}

/// The decided outcome of `clock` as of `as_of`, or `None` while undecided or cancelled.
pub fn outcome(clock: &Clock, as_of: Timestamp) -> Option<Outcome> {
    let mut last_stop = None;
    for cycle in &clock.cycles {
        let cycle = cycle.as_of(as_of);
        if let Some(breach) = cycle.breached_at.filter(|breach| *breach <= as_of) {
            return Some(Outcome { met: false, at: breach });
        }
        match cycle.stop {
            Some((_, super::StopReason::Cancelled)) => {}
            Some((at, _)) => last_stop = Some(at),
            None => return None,
        }
    }
    last_stop.map(|at| Outcome { met: true, at })
}

/// One compliance objective over one period for one customer and service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComplianceRow {
    /// The customer.
    pub customer: String,
    /// The service.
    pub service: String,
    /// The objective's name.
    pub objective: String,
    /// `2026-11`, `2026-Q4`, `2026`, `2026-W47`, `2026-11-02`, or `30d to 2026-11-02`.
    pub period: String,
    /// The share that must be met.
    pub target: Percent,
    /// Tickets decided in the period.
    pub n_tickets: u32,
    /// Of which met.
    pub n_met: u32,
    /// Misses the target allows for that many tickets.
    pub n_allowed: u32,
}

impl ComplianceRow {
    /// Misses.
    pub fn n_missed(&self) -> u32 {
        self.n_tickets - self.n_met
    }

    /// Whether the objective holds.
    pub fn is_met(&self) -> bool {
        self.n_missed() <= self.n_allowed
    }

    /// `95% in time: 3 of 60 misses allowed, 1 used`.
    pub fn summary(&self) -> String {
        format!(
            "{} in time: {} of {} misses allowed, {} used",
            self.target,
            self.n_allowed,
            self.n_tickets,
            self.n_missed()
        )
    }
}

/// Every compliance objective of every ticket's terms, per period, as of `as_of`.
pub fn compliance<'a>(
    tickets: impl IntoIterator<Item = &'a TicketState>,
    as_of: Timestamp,
) -> Vec<ComplianceRow> {
    let mut tally = Tally::default();
    for ticket in tickets {
        tally.add(ticket, as_of);
    }
    tally.rows()
}

/// Compliance rows built ticket by ticket, for replays that do not keep every ticket.
#[derive(Debug, Default)]
pub struct Tally {
    rows: BTreeMap<(String, String, String, String), ComplianceRow>,
}

impl Tally {
    /// Counts `ticket`'s decided outcomes as of `as_of`.
    pub fn add(&mut self, ticket: &TicketState, as_of: Timestamp) {
        let Some(terms) = &ticket.terms else { return };
        for (name, objective) in &terms.compliance {
            let (Some(metric), Some(target), Some(window)) = (
                objective.metric.as_ref().map(|metric| metric.value),
                objective.target.as_ref().map(|target| target.value),
                objective.window.as_ref().map(|window| window.value),
            ) else {
                continue;
            };
            let Some(clock) = ticket.clock(metric) else { continue };
            let key_matches = clock.cycles.first().is_some_and(|cycle| {
                objective
                    .priority
                    .as_ref()
                    .is_none_or(|priority| *cycle.objective.key == *priority.value)
            });
            if !key_matches {
                continue;
            }
            let Some(outcome) = outcome(clock, as_of) else { continue };
            let Some(period) = period(window, outcome.at, as_of, &terms.zone) else { continue };
            let key = (terms.customer.clone(), terms.service.clone(), name.clone(), period.clone());
            let row = self.rows.entry(key).or_insert_with(|| ComplianceRow {
                customer: terms.customer.clone(),
                service: terms.service.clone(),
                objective: name.clone(),
                period,
                target,
                n_tickets: 0,
                n_met: 0,
                n_allowed: 0,
            });
            row.n_tickets += 1;
            row.n_met += u32::from(outcome.met);
        }
    }

    /// The rows, by customer, service, objective and period.
    pub fn rows(self) -> Vec<ComplianceRow> {
        self.rows
            .into_values()
            .map(|mut row| {
                let allowed = row.target.allowed_misses(u64::from(row.n_tickets));
                row.n_allowed = u32::try_from(allowed).unwrap_or(u32::MAX);
                row
            })
            .collect()
    }
}

/// The label of the period of `window` holding `at`, in `zone`; `None` for a rolling window
/// that `at` falls outside of.
fn period(window: Window, at: Timestamp, as_of: Timestamp, zone: &TimeZone) -> Option<String> {
    let date = at.to_zoned(zone.clone()).date();
    Some(match window {
        Window::Day => date.to_string(),
        Window::Week => {
            let week = date.iso_week_date();
            format!("{}-W{:02}", week.year(), week.week())
        }
        Window::Month => format!("{:04}-{:02}", date.year(), date.month()),
        Window::Quarter => format!("{:04}-Q{}", date.year(), (date.month() - 1) / 3 + 1),
        Window::Year => format!("{:04}", date.year()),
        Window::Rolling { days } => {
            let length = SignedDuration::from_hours(24 * i64::from(days));
            let start = as_of.checked_sub(length).ok()?;
            if at <= start {
                return None;
            }
            format!("{days}d to {}", as_of.to_zoned(zone.clone()).date())
        }
    })
}
