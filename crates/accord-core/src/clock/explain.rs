//! Why a clock reads what it reads: each cycle cut into spans that counted or did not (closed
//! hours, a holiday by name, a pausing status, before the cycle started), with the instants
//! where something happened (start, rungs, breach, stop, retargets).
//!
//! Separate from the engine because it is for people: it recomputes spans from the status
//! history and the calendar instead of reading the engine's running totals, and so doubles as
//! a check on them (the counted spans add up to the cycle's elapsed time).

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::engine::{Clock, Cycle, StopReason, TicketState};
use crate::agreement::format_duration;
use crate::calendar::{BusinessCalendar, ExceptionKind};

/// Why a span did or did not count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// Business time that counted.
    Counted,
    /// The calendar was closed (nights, weekends).
    Closed,
    /// The calendar was closed for a named day.
    Holiday(String),
    /// The ticket's status paused the clock.
    Paused(Arc<str>),
    /// Between the ticket's creation and the cycle's start.
    BeforeStart,
}

/// A stretch of a cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// First instant.
    pub from: Timestamp,
    /// First instant after.
    pub to: Timestamp,
    /// Why it counted or not.
    pub kind: SpanKind,
    /// Business time counted in the cycle at `to` (carried time included).
    pub elapsed: SignedDuration,
}

/// Something that happened to a cycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// When.
    pub at: Timestamp,
    /// What, in words.
    pub what: String,
}

/// One cycle explained.
#[derive(Clone, Debug)]
pub struct CycleTimeline {
    /// The cycle, as of the instant explained.
    pub cycle: Cycle,
    /// Its spans, in order.
    pub spans: Vec<Span>,
    /// What happened, in order.
    pub marks: Vec<Mark>,
}

/// Explains every cycle of `clock` on `ticket` as of `as_of`.
pub fn timeline(ticket: &TicketState, clock: &Clock, as_of: Timestamp) -> Vec<CycleTimeline> {
    let mut timelines = Vec::new();
    for (cycle_idx, cycle) in clock.cycles.iter().enumerate() {
        let cycle = cycle.as_of(as_of);
        let end = cycle.stop.map_or(as_of, |(at, _)| at).max(cycle.start);
        let calendar = &cycle.objective.calendar;
        let mut spans = Vec::new();
        let mut elapsed = cycle.carried;
        if cycle_idx == 0
            && let Some(created) = ticket.created_at
            && created < cycle.start
        {
            spans.push(Span {
                from: created,
                to: cycle.start,
                kind: SpanKind::BeforeStart,
                elapsed,
            });
        }
        for (from, to, status) in status_segments(ticket, cycle.start, end) {
            if cycle.objective.pauses(status) {
                spans.push(Span { from, to, kind: SpanKind::Paused(status.clone()), elapsed });
                continue;
            }
            let open = calendar.open_periods(from, to).unwrap_or_default();
            let mut at = from;
            for period in open {
                if period.start() > at {
                    spans.push(Span {
                        from: at,
                        to: period.start(),
                        kind: closed(calendar, at, period.start()),
                        elapsed,
                    });
                }
                elapsed += period.end().duration_since(period.start());
                spans.push(Span {
                    from: period.start(),
                    to: period.end(),
                    kind: SpanKind::Counted,
                    elapsed,
                });
                at = period.end();
            }
            if at < to {
                spans.push(Span { from: at, to, kind: closed(calendar, at, to), elapsed });
            }
        }
        let mut marks = vec![Mark {
            at: cycle.start,
            what: if cycle.carried > SignedDuration::ZERO {
                format!(
                    "cycle {} starts, resuming {} already counted",
                    cycle_idx + 1,
                    format_duration(cycle.carried)
                )
            } else {
                format!("cycle {} starts", cycle_idx + 1)
            },
        }];
        for fired in &cycle.fired {
            marks.push(Mark {
                at: fired.at,
                what: format!(
                    "escalation at {} fires: notify {}",
                    fired.rung.label(),
                    fired.rung.step.notify.join(", ")
                ),
            });
        }
        if let Some(breach) = cycle.breached_at {
            marks.push(Mark { at: breach, what: "breached: the target is used up".to_owned() });
        }
        for retarget in &clock.retargets {
            if retarget.at < cycle.start || retarget.at > end {
                continue;
            }
            let describe = |objective: &Option<Arc<super::Objective>>| match objective {
                Some(objective) => format!(
                    "{} {} ({} on {})",
                    objective.key,
                    objective.target,
                    objective.effective.hours.value.as_str(),
                    objective.calendar_name()
                ),
                None => "no objective".to_owned(),
            };
            let mut what = format!(
                "retargeted from {} to {}: elapsed {} recounted as {}",
                describe(&retarget.from),
                describe(&retarget.to),
                format_duration(retarget.elapsed.0),
                format_duration(retarget.elapsed.1),
            );
            if let Some(withdrawn) = retarget.withdrawn_breach {
                what.push_str(&format!("; breach at {withdrawn} withdrawn"));
            }
            marks.push(Mark { at: retarget.at, what });
        }
        if let Some((at, reason)) = cycle.stop {
            let outcome = match (reason, cycle.breached_at) {
                (StopReason::Cancelled, _) => "cancelled: no objective for the ticket now",
                (_, Some(_)) => "stopped late",
                (_, None) => "stopped in time: met",
            };
            marks.push(Mark { at, what: format!("{}: {outcome}", reason.as_str()) });
        }
        marks.sort_by_key(|mark| mark.at);
        timelines.push(CycleTimeline { cycle, spans, marks });
    }
    timelines
}

/// The ticket's statuses over `[from, to)`, as segments.
fn status_segments(
    ticket: &TicketState,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Timestamp, &Arc<str>)> {
    let mut segments = Vec::new();
    let first = ticket.statuses.partition_point(|(since, _)| *since <= from).saturating_sub(1);
    let statuses = &ticket.statuses[first..];
    for (idx, (since, status)) in statuses.iter().enumerate() {
        let start = (*since).max(from);
        let end = statuses.get(idx + 1).map_or(to, |(next, _)| (*next).min(to));
        if start < end {
            segments.push((start, end, status));
        }
    }
    segments
}

/// Why the calendar is closed over `[from, to)`: a named closed day in it, else closed hours.
fn closed(calendar: &BusinessCalendar, from: Timestamp, to: Timestamp) -> SpanKind {
    let zone = calendar.zone().clone();
    let mut date = from.to_zoned(zone.clone()).date();
    let last = to.to_zoned(zone).date();
    while date <= last {
        if let Some(exception) = calendar.hours_on(date).exception
            && exception.kind() == ExceptionKind::Holiday
        {
            return SpanKind::Holiday(format!("{} ({date})", exception.name()));
        }
        match date.tomorrow() {
            Ok(next) => date = next,
            Err(_) => break,
        }
    }
    SpanKind::Closed
}
