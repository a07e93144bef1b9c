//! The clock engine: folds a ticket's events, in time order, into its clocks.
//!
//! A ticket's clocks are a pure function of its events and its pinned terms. Events are kept
//! per ticket in [`TicketEvent::order_key`] order; an event that sorts after every other is
//! folded in place (the common case, a few calendar queries), one that sorts earlier makes the
//! ticket fold again from its first event, so arrival order never changes the result.
//!
//! Between two events nothing but time changes, so each clock cycle advances segment by
//! segment: over a running segment it gains the calendar's business time, over a paused one it
//! records the business time it did not count. A threshold or the target is crossed at the
//! exact instant the business time reaches it, found with [`BusinessCalendar::deadline`].

use std::sync::{Arc, LazyLock};

use jiff::{SignedDuration, Timestamp};

use super::event::{Author, EventKind, Score, TicketEvent, TicketType};
use super::hash::FastMap;
use super::terms::{Objective, PinnedTerms, Rung, TermsSource, Who, metric_idx};
use crate::agreement::{Metric, ReopenRule};
use crate::calendar::BusinessCalendar;

/// Statuses the engine sets itself, allocated once.
static SOLVED: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("solved"));
static CLOSED: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("closed"));
static OPEN: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("open"));
static NONE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));

/// Why a clock cycle stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// A public agent comment (response, next response, update).
    Responded,
    /// The ticket was solved.
    Solved,
    /// The ticket was closed without being solved first.
    Closed,
    /// A change left the ticket with no objective for this metric.
    Cancelled,
}

impl StopReason {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Responded => "responded",
            StopReason::Solved => "solved",
            StopReason::Closed => "closed",
            StopReason::Cancelled => "cancelled",
        }
    }
}

/// An escalation rung reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Firing {
    /// The rung.
    pub rung: Arc<Rung>,
    /// When it fired.
    pub at: Timestamp,
}

/// One run of a clock: from its start to the response, solution or cancellation that stops it.
#[derive(Clone, Debug)]
pub struct Cycle {
    /// When it started.
    pub start: Timestamp,
    /// The objective it runs on (changed by a retarget).
    pub objective: Arc<Objective>,
    /// The target as business time.
    pub target: SignedDuration,
    /// Business time carried over from the cycle before (reopen with `resume`).
    pub carried: SignedDuration,
    /// Business time counted, including `carried`, up to `through`.
    pub elapsed: SignedDuration,
    /// Business time that did not count because the clock was paused, up to `through`.
    pub paused: SignedDuration,
    /// The instant `elapsed` and `paused` are measured to.
    pub through: Timestamp,
    /// Whether the status lets the clock run.
    pub running: bool,
    /// The status the clock is paused by.
    pub paused_by: Option<Arc<str>>,
    /// When and why it stopped.
    pub stop: Option<(Timestamp, StopReason)>,
    /// When it breached: the instant the business time reached the target while running.
    pub breached_at: Option<Timestamp>,
    /// Escalation rungs reached, in order.
    pub fired: Vec<Firing>,
    // Invariant: the least business time at which an unfired rung or the breach is crossed
    // (`SignedDuration::MAX` when none is left), so most segments skip the ladder entirely.
    next_crossing: SignedDuration,
}

impl Cycle {
    fn new(
        objective: Arc<Objective>,
        start: Timestamp,
        carried: SignedDuration,
        status: &Arc<str>,
    ) -> Cycle {
        let target = objective.business_target(start).unwrap_or(SignedDuration::MAX);
        let running = !objective.pauses(status);
        let mut cycle = Cycle {
            start,
            target,
            carried,
            elapsed: carried,
            paused: SignedDuration::ZERO,
            through: start,
            running,
            paused_by: (!running).then(|| status.clone()),
            stop: None,
            // A cycle resumed past its target is over it from its first instant.
            breached_at: (carried > target).then_some(start),
            fired: Vec::new(),
            next_crossing: SignedDuration::ZERO,
            objective,
        };
        cycle.next_crossing = cycle.next_crossing();
        cycle
    }

    /// The least business time at which an unfired rung or the breach is crossed.
    fn next_crossing(&self) -> SignedDuration {
        let mut next = if self.breached_at.is_none() { self.target } else { SignedDuration::MAX };
        for (rung_idx, rung) in self.objective.ladder.iter().enumerate() {
            if !self.fired.iter().any(|fired| fired.rung.idx == rung.idx) {
                next = next.min(self.objective.threshold(rung_idx, self.target));
            }
        }
        next
    }

    /// Whether the cycle has stopped.
    pub fn is_stopped(&self) -> bool {
        self.stop.is_some()
    }

    /// The business time left (negative once breached).
    pub fn remaining(&self) -> SignedDuration {
        self.target - self.elapsed
    }

    /// Met: stopped without a breach.
    pub fn is_met(&self) -> bool {
        self.is_stopped() && self.breached_at.is_none() && !self.is_cancelled()
    }

    /// Stopped by a change that left no objective.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.stop, Some((_, StopReason::Cancelled)))
    }

    /// Moves the cycle to `to`, counting business time while running and recording each rung
    /// and the breach at the instant it is crossed. `business` is the calendar's business time
    /// in `[self.through, to)`, computed once by the caller for all cycles on that calendar.
    fn advance(&mut self, to: Timestamp, business: SignedDuration) {
        if to <= self.through || self.is_stopped() {
            return;
        }
        if self.running {
            let before = self.elapsed;
            let after = before + business;
            if after < self.next_crossing {
                self.elapsed = after;
                self.through = to;
                return;
            }
            let calendar = &self.objective.calendar;
            let from = self.through;
            // A crossing at `value` happens at the first instant the business time reaches it;
            // it counts only when the clock is still running after that instant.
            let crossing = |value: SignedDuration| -> Option<Timestamp> {
                if value > after || value < before {
                    return None;
                }
                let at = calendar.deadline(from, value - before).ok()?;
                (at < to).then_some(at)
            };
            let target = self.target;
            for (rung_idx, rung) in self.objective.ladder.iter().enumerate() {
                if self.fired.iter().any(|fired| fired.rung.idx == rung.idx) {
                    continue;
                }
                if let Some(at) = crossing(self.objective.threshold(rung_idx, target)) {
                    self.fired.push(firing(rung, at));
                }
            }
            if self.breached_at.is_none() {
                self.breached_at = crossing(target);
            }
            self.elapsed = after;
            self.next_crossing = self.next_crossing();
        } else {
            self.paused += business;
        }
        self.through = to;
    }

    fn stop(&mut self, at: Timestamp, reason: StopReason) {
        if self.stop.is_none() {
            self.stop = Some((at, reason));
        }
    }

    fn set_status(&mut self, status: &Arc<str>) {
        self.running = !self.objective.pauses(status);
        self.paused_by = (!self.running).then(|| status.clone());
    }
}

fn firing(rung: &Arc<Rung>, at: Timestamp) -> Firing {
    Firing { rung: rung.clone(), at }
}

/// A change of objective on a running clock.
#[derive(Clone, Debug)]
pub struct Retarget {
    /// When.
    pub at: Timestamp,
    /// The objective before (`None`: the clock had none).
    pub from: Option<Arc<Objective>>,
    /// The objective after (`None`: the clock was cancelled).
    pub to: Option<Arc<Objective>>,
    /// Business time elapsed before and after recounting on the new objective.
    pub elapsed: (SignedDuration, SignedDuration),
    /// A breach withdrawn because the new target is longer.
    pub withdrawn_breach: Option<Timestamp>,
}

/// One metric's clock on one ticket.
#[derive(Clone, Debug)]
pub struct Clock {
    /// The metric.
    pub metric: Metric,
    /// Cycles, oldest first; only the last can be open.
    pub cycles: Vec<Cycle>,
    /// Objective changes, in order.
    pub retargets: Vec<Retarget>,
}

impl Clock {
    /// The open cycle, if any.
    pub fn open_cycle(&self) -> Option<&Cycle> {
        self.cycles.last().filter(|cycle| !cycle.is_stopped())
    }

    fn open_cycle_mut(&mut self) -> Option<&mut Cycle> {
        self.cycles.last_mut().filter(|cycle| !cycle.is_stopped())
    }

    /// The latest cycle.
    pub fn last_cycle(&self) -> Option<&Cycle> {
        self.cycles.last()
    }
}

/// A ticket: its events and the clocks they give.
#[derive(Clone, Debug)]
pub struct Ticket {
    /// The ticket's id.
    pub id: Arc<str>,
    // Invariant: sorted by `TicketEvent::order_key`, no two with the same key.
    events: Vec<TicketEvent>,
    /// The state after the last event.
    pub state: TicketState,
}

impl Ticket {
    /// The ticket's events in the order they were applied.
    pub fn events(&self) -> &[TicketEvent] {
        &self.events
    }

    /// A ticket from all its events at once, in any order: the same clocks as applying them
    /// one by one, without the bookkeeping. Returns the ticket and the number of duplicates
    /// dropped. A batch replay groups its events by ticket and calls this for each group.
    pub fn from_events(
        id: Arc<str>,
        mut events: Vec<TicketEvent>,
        source: &mut dyn TermsSource,
    ) -> (Ticket, usize) {
        events.sort_unstable_by(|a, b| a.order_key().cmp(&b.order_key()));
        let n_events = events.len();
        events.dedup_by(|a, b| a.order_key() == b.order_key());
        let n_duplicates = n_events - events.len();
        let state = TicketState::from_events(&events, source);
        (Ticket { id, events, state }, n_duplicates)
    }
}

/// Attributes of a ticket and its clocks after some of its events.
#[derive(Clone, Debug, Default)]
pub struct TicketState {
    /// When it was created.
    pub created_at: Option<Timestamp>,
    /// Customer.
    pub customer: Option<Arc<str>>,
    /// Service.
    pub service: Option<Arc<str>>,
    /// Priority.
    pub priority: Option<Arc<str>>,
    /// Incident or request.
    pub ticket_type: TicketType,
    /// Request type.
    pub request_type: Option<Arc<str>>,
    /// Current status.
    pub status: Option<Arc<str>>,
    /// Site.
    pub site: Option<Arc<str>>,
    /// Region.
    pub region: Option<Arc<str>>,
    /// Assignee group.
    pub group: Option<Arc<str>>,
    /// The helpdesk's reference.
    pub external_ref: Option<Arc<str>>,
    /// Whether it is open (created, not solved or closed).
    pub open: bool,
    /// Whether it was closed.
    pub closed: bool,
    /// Status history: each status and the instant it took effect.
    // Invariant: sorted by instant.
    pub statuses: Vec<(Timestamp, Arc<str>)>,
    /// The terms the clocks run on.
    pub terms: Option<Arc<PinnedTerms>>,
    /// The instant whose agreement revisions `terms` come from: the ticket's creation.
    pub pinned_at: Option<Timestamp>,
    /// Why the ticket has no or fewer clocks (no terms, events before creation...).
    pub problems: Vec<String>,
    /// The clocks.
    pub clocks: Vec<Clock>,
    /// Satisfaction ratings.
    pub ratings: Vec<(Timestamp, Score, Option<Arc<str>>)>,
    /// When the last public agent comment (or creation) was: the anchor of `update`.
    pub last_update_at: Option<Timestamp>,
    /// Whether a public agent comment has been made.
    pub responded: bool,
    /// The customer comment waiting for a reply (anchor of `next_response`).
    pub awaiting_since: Option<Timestamp>,
    /// The instant the clocks are advanced to.
    pub through: Option<Timestamp>,
    /// When the ticket last reopened.
    pub reopened_at: Option<Timestamp>,
    // Invariant: the objective of each metric (in `Metric::ALL` order) under `terms` for the
    // current priority and request type.
    current: [Option<Arc<Objective>>; Metric::ALL.len()],
}

impl TicketState {
    /// The clock for `metric`.
    pub fn clock(&self, metric: Metric) -> Option<&Clock> {
        self.clocks.iter().find(|clock| clock.metric == metric)
    }

    /// The status at `at`.
    fn status_at(&self, at: Timestamp) -> Option<&Arc<str>> {
        let idx = self.statuses.partition_point(|(since, _)| *since <= at);
        idx.checked_sub(1).map(|idx| &self.statuses[idx].1)
    }

    /// The key of `metric`'s objective: the request type for requests, else the priority.
    fn key(&self, metric: Metric) -> Option<&Arc<str>> {
        match metric {
            Metric::Request => self.request_type.as_ref(),
            _ => self.priority.as_ref(),
        }
    }

    /// The objective `metric` runs on now, under the pinned terms.
    fn objective(&self, metric: Metric) -> Option<Arc<Objective>> {
        self.current[metric_idx(metric)].clone()
    }

    /// Looks up the objective of every metric for the ticket's terms, priority and request
    /// type, once per change instead of once per cycle.
    fn refresh_objectives(&mut self) {
        let Some(terms) = self.terms.clone() else {
            self.current = Default::default();
            return;
        };
        let fulfilment = match (self.ticket_type, &self.request_type) {
            (TicketType::Request, Some(kind)) => terms.objective(Metric::Request, kind).cloned(),
            _ => None,
        };
        for metric in Metric::ALL {
            self.current[metric_idx(metric)] = match metric {
                // A request with a fulfilment target runs it instead of the resolution target.
                Metric::Request => fulfilment.clone(),
                Metric::Resolution if fulfilment.is_some() => None,
                _ => self.key(metric).and_then(|key| terms.objective(metric, key)).cloned(),
            };
        }
    }

    /// Moves every open cycle to `to`.
    fn advance(&mut self, to: Timestamp) {
        let Some(from) = self.through else { return };
        if to <= from {
            return;
        }
        // Cycles on one calendar share one query: most tickets have one calendar.
        let mut last: Option<(usize, SignedDuration)> = None;
        for clock in &mut self.clocks {
            let Some(cycle) = clock.open_cycle_mut() else { continue };
            let calendar = &cycle.objective.calendar;
            let amount = match last {
                Some((id, amount)) if cycle.through == from && calendar.id() == id => amount,
                _ => {
                    let amount = business(calendar, cycle.through, to);
                    if cycle.through == from {
                        last = Some((calendar.id(), amount));
                    }
                    amount
                }
            };
            cycle.advance(to, amount);
        }
        self.through = Some(to);
    }
}

/// Business time in `[from, to)`. The engine refuses events outside the calendar horizon, so
/// the query cannot fail; zero is the safe answer if it ever did.
fn business(calendar: &BusinessCalendar, from: Timestamp, to: Timestamp) -> SignedDuration {
    calendar.elapsed(from, to).unwrap_or(SignedDuration::ZERO)
}

/// String equality that skips the comparison for one shared allocation (the event reader
/// shares repeated strings).
pub(crate) fn same_str(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// Whether the calendars can count at `at`: from 1900 up to 2200 UTC.
pub fn in_horizon(at: Timestamp) -> bool {
    (-2_208_988_800..7_258_118_400).contains(&at.as_second())
}

/// Moves one cycle to `to` on its own calendar.
fn advance_alone(cycle: &mut Cycle, to: Timestamp) {
    if to > cycle.through {
        let amount = business(&cycle.objective.calendar, cycle.through, to);
        cycle.advance(to, amount);
    }
}

impl TicketState {
    /// The state after `events`, which are sorted by [`TicketEvent::order_key`].
    fn from_events(events: &[TicketEvent], source: &mut dyn TermsSource) -> TicketState {
        let mut state = TicketState::default();
        for event in events {
            state.fold(event, source);
        }
        state
    }

    /// Applies one event, which sorts at or after every event applied before.
    fn fold(&mut self, event: &TicketEvent, source: &mut dyn TermsSource) {
        let at = event.at;
        if !in_horizon(at) {
            self.problems.push(format!(
                "{} event {} at {at} is outside 1900-01-01 to 2200-01-01 UTC: ignored",
                event.kind.as_str(),
                event.id
            ));
            return;
        }
        if self.created_at.is_none() && !matches!(event.kind, EventKind::Created(_)) {
            self.problems.push(format!(
                "{} event {} at {at} comes before the ticket was created: ignored",
                event.kind.as_str(),
                event.id
            ));
            return;
        }
        self.advance(at);
        match &event.kind {
            EventKind::Created(created) => {
                if self.created_at.is_some() {
                    self.problems
                        .push(format!("second created event {} at {at}: ignored", event.id));
                    return;
                }
                self.created_at = Some(at);
                self.through = Some(at);
                self.customer = Some(created.customer.clone());
                self.service = Some(created.service.clone());
                self.priority = Some(created.priority.clone());
                self.ticket_type = created.ticket_type;
                self.request_type.clone_from(&created.request_type);
                self.site.clone_from(&created.site);
                self.region.clone_from(&created.region);
                self.group.clone_from(&created.group);
                self.external_ref.clone_from(&created.external_ref);
                self.statuses.reserve(4);
                self.statuses.push((at, created.status.clone()));
                self.status = Some(created.status.clone());
                self.open = true;
                self.last_update_at = Some(at);
                self.pin(source, at);
                let mut n_started = 0;
                for metric in
                    [Metric::Response, Metric::Resolution, Metric::Update, Metric::Request]
                {
                    n_started += usize::from(self.start_cycle(metric, at, SignedDuration::ZERO));
                }
                if n_started == 0 && self.terms.is_some() {
                    let request = created
                        .request_type
                        .as_ref()
                        .map_or_else(String::new, |kind| format!(" or request type {kind}"));
                    self.problems.push(format!(
                        "the terms have no ticket objective for priority {}{request}: no clocks",
                        created.priority
                    ));
                }
            }
            EventKind::Updated(updated) => {
                if let Some(status) = &updated.status {
                    self.set_status(at, status);
                }
                let mut rescope = false;
                for (field, value) in [
                    (&mut self.customer, &updated.customer),
                    (&mut self.service, &updated.service),
                    (&mut self.site, &updated.site),
                    (&mut self.region, &updated.region),
                ] {
                    if value.is_some() && field != value {
                        field.clone_from(value);
                        rescope = true;
                    }
                }
                let mut rekey = false;
                for (field, value) in [
                    (&mut self.priority, &updated.priority),
                    (&mut self.request_type, &updated.request_type),
                ] {
                    if value.is_some() && field != value {
                        field.clone_from(value);
                        rekey = true;
                    }
                }
                if updated.group.is_some() {
                    self.group.clone_from(&updated.group);
                }
                if rescope {
                    // The ticket keeps the revisions in force when its clocks started.
                    self.pin(source, self.pinned_at.unwrap_or(at));
                }
                if rescope || rekey {
                    self.refresh_objectives();
                    self.retarget(at);
                }
            }
            EventKind::Comment { author: Author::Agent, public: true } => {
                self.responded = true;
                self.awaiting_since = None;
                self.stop_cycle(Metric::Response, at, StopReason::Responded);
                self.stop_cycle(Metric::NextResponse, at, StopReason::Responded);
                if self.open {
                    self.stop_cycle(Metric::Update, at, StopReason::Responded);
                    self.last_update_at = Some(at);
                    self.start_cycle(Metric::Update, at, SignedDuration::ZERO);
                }
            }
            EventKind::Comment { author: Author::Customer, public: true } => {
                if self.open && self.responded && self.awaiting_since.is_none() {
                    self.awaiting_since = Some(at);
                    self.start_cycle(Metric::NextResponse, at, SignedDuration::ZERO);
                }
            }
            EventKind::Comment { public: false, .. } | EventKind::Note => {}
            EventKind::Solved => {
                self.finish(at, StopReason::Solved);
                self.set_status(at, &SOLVED);
            }
            EventKind::Closed => {
                self.finish(at, StopReason::Closed);
                self.closed = true;
                self.set_status(at, &CLOSED);
            }
            EventKind::Reopened { status } => {
                if self.open {
                    return;
                }
                self.open = true;
                self.closed = false;
                self.reopened_at = Some(at);
                self.last_update_at = Some(at);
                let status = status.clone().unwrap_or_else(|| OPEN.clone());
                self.set_status(at, &status);
                for metric in [Metric::Resolution, Metric::Request] {
                    let carried = match self.clock(metric).and_then(Clock::last_cycle) {
                        Some(cycle) if cycle.objective.reopen == ReopenRule::Resume => {
                            cycle.elapsed
                        }
                        _ => SignedDuration::ZERO,
                    };
                    self.start_cycle(metric, at, carried);
                }
                self.start_cycle(Metric::Update, at, SignedDuration::ZERO);
            }
            EventKind::Rating { score, comment } => {
                self.ratings.push((at, *score, comment.clone()));
            }
        }
    }

    /// Stops every open cycle: the ticket is solved or closed.
    fn finish(&mut self, at: Timestamp, reason: StopReason) {
        if !self.open {
            return;
        }
        self.open = false;
        self.awaiting_since = None;
        for clock in &mut self.clocks {
            if let Some(cycle) = clock.open_cycle_mut() {
                cycle.stop(at, reason);
            }
        }
    }

    fn set_status(&mut self, at: Timestamp, status: &Arc<str>) {
        if self.status.as_ref().is_some_and(|current| same_str(current, status)) {
            return;
        }
        self.status = Some(status.clone());
        self.statuses.push((at, status.clone()));
        for clock in &mut self.clocks {
            if let Some(cycle) = clock.open_cycle_mut() {
                cycle.set_status(status);
            }
        }
    }

    fn pin(&mut self, source: &mut dyn TermsSource, at: Timestamp) {
        let (Some(customer), Some(service)) = (&self.customer, &self.service) else { return };
        let who =
            Who { customer, service, site: self.site.as_deref(), region: self.region.as_deref() };
        self.pinned_at = Some(at);
        match source.terms(&who, at) {
            Ok(terms) => self.terms = Some(terms),
            Err(why) => {
                self.problems.push(format!("no terms for {customer} and {service}: {why}"));
                self.terms = None;
            }
        }
        self.refresh_objectives();
    }

    fn clock_mut(&mut self, metric: Metric) -> &mut Clock {
        let idx = match self.clocks.binary_search_by_key(&metric, |clock| clock.metric) {
            Ok(idx) => idx,
            Err(idx) => {
                if self.clocks.capacity() == 0 {
                    self.clocks.reserve_exact(Metric::ALL.len());
                }
                // Most clocks run one cycle; updates and next responses a few.
                let capacity = match metric {
                    Metric::Update | Metric::NextResponse => 4,
                    _ => 1,
                };
                let cycles = Vec::with_capacity(capacity);
                self.clocks.insert(idx, Clock { metric, cycles, retargets: Vec::new() });
                idx
            }
        };
        &mut self.clocks[idx]
    }

    /// Starts a cycle of `metric` at `start` (which may lie before the clocks' current
    /// instant: it is then counted over the status history up to it).
    fn start_cycle(&mut self, metric: Metric, start: Timestamp, carried: SignedDuration) -> bool {
        let Some(objective) = self.objective(metric) else { return false };
        let status = self.status_at(start).cloned().unwrap_or_else(|| NONE.clone());
        let mut cycle = Cycle::new(objective, start, carried, &status);
        let through = self.through.unwrap_or(start);
        self.replay_statuses(&mut cycle, through);
        self.clock_mut(metric).cycles.push(cycle);
        true
    }

    fn stop_cycle(&mut self, metric: Metric, at: Timestamp, reason: StopReason) {
        if let Some(cycle) = self
            .clocks
            .iter_mut()
            .find(|clock| clock.metric == metric)
            .and_then(Clock::open_cycle_mut)
        {
            cycle.stop(at, reason);
        }
    }

    /// Counts `cycle` from its `through` to `to` over the status history.
    fn replay_statuses(&self, cycle: &mut Cycle, to: Timestamp) {
        let first = self.statuses.partition_point(|(since, _)| *since <= cycle.through);
        for (since, status) in &self.statuses[first..] {
            if *since >= to {
                break;
            }
            advance_alone(cycle, *since);
            cycle.set_status(status);
        }
        advance_alone(cycle, to);
    }

    /// Where a cycle of `metric` started that would be running now.
    fn anchor(&self, metric: Metric) -> Option<Timestamp> {
        if !self.open {
            return None;
        }
        match metric {
            Metric::Response => (!self.responded).then_some(self.created_at?),
            Metric::NextResponse => self.awaiting_since,
            Metric::Update => self.last_update_at,
            Metric::Resolution | Metric::Request => self.reopened_at.or(self.created_at),
        }
    }

    /// Puts every clock on the objective the ticket's priority, request type and terms give
    /// now, recounting each open cycle from its start as if the new objective had applied from
    /// there (the business time elapsed and the pauses taken are kept); rungs and breaches
    /// that the recount finds in the past happen now.
    fn retarget(&mut self, at: Timestamp) {
        for metric in Metric::ALL {
            let new = self.objective(metric);
            let open = self.clock(metric).and_then(Clock::open_cycle);
            match (open, new) {
                (Some(cycle), Some(new)) if Arc::ptr_eq(&cycle.objective, &new) => {}
                (Some(cycle), Some(new)) => {
                    let old = cycle.clone();
                    let status = self.status_at(old.start).cloned().unwrap_or_else(|| NONE.clone());
                    let mut fresh = Cycle::new(new.clone(), old.start, old.carried, &status);
                    fresh.fired = old.fired.clone();
                    fresh.next_crossing = fresh.next_crossing();
                    self.replay_statuses(&mut fresh, at);
                    for fired in &mut fresh.fired[old.fired.len()..] {
                        fired.at = fired.at.max(at);
                    }
                    fresh.breached_at = match (fresh.breached_at, old.breached_at) {
                        (Some(_), Some(before)) => Some(before),
                        (Some(now), None) => Some(now.max(at)),
                        (None, _) => None,
                    };
                    fresh.next_crossing = fresh.next_crossing();
                    let retarget = Retarget {
                        at,
                        from: Some(old.objective.clone()),
                        to: Some(new),
                        elapsed: (old.elapsed, fresh.elapsed),
                        withdrawn_breach: old.breached_at.filter(|_| fresh.breached_at.is_none()),
                    };
                    let clock = self.clock_mut(metric);
                    if let Some(last) = clock.cycles.last_mut() {
                        *last = fresh;
                    }
                    clock.retargets.push(retarget);
                }
                (Some(cycle), None) => {
                    let retarget = Retarget {
                        at,
                        from: Some(cycle.objective.clone()),
                        to: None,
                        elapsed: (cycle.elapsed, cycle.elapsed),
                        withdrawn_breach: None,
                    };
                    let clock = self.clock_mut(metric);
                    clock.retargets.push(retarget);
                    if let Some(cycle) = clock.open_cycle_mut() {
                        cycle.stop(at, StopReason::Cancelled);
                    }
                }
                (None, Some(new)) => {
                    let Some(start) = self.anchor(metric) else { continue };
                    if !self.start_cycle(metric, start, SignedDuration::ZERO) {
                        continue;
                    }
                    let clock = self.clock_mut(metric);
                    let Some(cycle) = clock.cycles.last_mut() else { continue };
                    for fired in &mut cycle.fired {
                        fired.at = fired.at.max(at);
                    }
                    cycle.breached_at = cycle.breached_at.map(|breach| breach.max(at));
                    let elapsed = cycle.elapsed;
                    clock.retargets.push(Retarget {
                        at,
                        from: None,
                        to: Some(new),
                        elapsed: (SignedDuration::ZERO, elapsed),
                        withdrawn_breach: None,
                    });
                }
                (None, None) => {}
            }
        }
    }
}

/// What [`Engine::apply`] did with an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Folded after the ticket's other events.
    Folded,
    /// Sorted before some of the ticket's events: the ticket was folded again.
    Refolded,
    /// An event with this id was applied before: ignored.
    Duplicate,
    /// Outside what the engine can count (before 1900 or from 2200).
    Rejected(String),
}

/// Every ticket's clocks, kept up to date event by event.
#[derive(Clone, Debug)]
pub struct Engine<S> {
    source: S,
    tickets: FastMap<Arc<str>, Ticket>,
}

impl<S: TermsSource> Engine<S> {
    /// An engine taking terms from `source`.
    pub fn new(source: S) -> Engine<S> {
        Engine { source, tickets: FastMap::default() }
    }

    /// The terms source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The terms source, to fold tickets outside the engine ([`Ticket::from_events`]).
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    /// Applies one event; any arrival order gives the same clocks.
    pub fn apply(&mut self, event: TicketEvent) -> Applied {
        if !in_horizon(event.at) {
            return Applied::Rejected(format!(
                "{} is outside 1900-01-01 to 2200-01-01 UTC",
                event.at
            ));
        }
        let ticket = self.tickets.entry(event.ticket.clone()).or_insert_with(|| Ticket {
            id: event.ticket.clone(),
            events: Vec::with_capacity(8),
            state: TicketState::default(),
        });
        // A redelivered event has the same time, type and id, so it sorts onto itself.
        let key = event.order_key();
        let idx = match ticket.events.last() {
            // The common case: the ticket's newest event.
            Some(last) if last.order_key() < key => ticket.events.len(),
            None => 0,
            Some(_) => ticket.events.partition_point(|seen| seen.order_key() < key),
        };
        if ticket.events.get(idx).is_some_and(|seen| seen.order_key() == key) {
            return Applied::Duplicate;
        }
        if idx == ticket.events.len() {
            ticket.state.fold(&event, &mut self.source);
            ticket.events.push(event);
            return Applied::Folded;
        }
        ticket.events.insert(idx, event);
        ticket.state = TicketState::from_events(&ticket.events, &mut self.source);
        Applied::Refolded
    }

    /// One ticket.
    pub fn ticket(&self, id: &str) -> Option<&Ticket> {
        self.tickets.get(id)
    }

    /// Every ticket, in no particular order.
    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.tickets.values()
    }

    /// The number of tickets.
    pub fn len(&self) -> usize {
        self.tickets.len()
    }

    /// Whether there are no tickets.
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }
}

/// Where a clock stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockState {
    /// Counting.
    Running,
    /// Stopped by a pausing status.
    Paused,
    /// Counting or paused, with an escalation rung reached.
    AtRisk,
    /// Stopped in time.
    Met,
    /// Past its target (running or stopped).
    Breached,
    /// Stopped because the ticket no longer has an objective for the metric.
    Cancelled,
}

impl ClockState {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::AtRisk => "at_risk",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
            ClockState::Cancelled => "cancelled",
        }
    }
}

/// A clock as of an instant: its latest cycle moved to that instant.
#[derive(Clone, Debug)]
pub struct ClockView {
    /// The metric.
    pub metric: Metric,
    /// The state of the latest cycle.
    pub state: ClockState,
    /// The latest cycle, counted up to the instant (or to its stop).
    pub cycle: Cycle,
    /// The number of cycles so far.
    pub n_cycles: usize,
    /// Cycles (of all) that breached.
    pub n_breached: usize,
    /// Business time paused over all cycles.
    pub total_paused: SignedDuration,
    /// When the running cycle breaches if nothing changes (its breach instant once breached);
    /// `None` when stopped or paused.
    pub deadline: Option<Timestamp>,
    /// The latest escalation rung reached in the cycle.
    pub stage: Option<String>,
}

impl Cycle {
    /// This cycle as of `as_of`: counted up to it when still open.
    pub fn as_of(&self, as_of: Timestamp) -> Cycle {
        let mut cycle = self.clone();
        advance_alone(&mut cycle, as_of);
        cycle
    }

    /// The state of the cycle (already moved to the instant of interest).
    pub fn state(&self) -> ClockState {
        match self.stop {
            Some((_, StopReason::Cancelled)) => ClockState::Cancelled,
            Some(_) if self.breached_at.is_some() => ClockState::Breached,
            Some(_) => ClockState::Met,
            None if self.breached_at.is_some() => ClockState::Breached,
            None if !self.fired.is_empty() => ClockState::AtRisk,
            None if self.running => ClockState::Running,
            None => ClockState::Paused,
        }
    }

    /// The projected breach instant of a running, unbreached cycle.
    pub fn deadline(&self) -> Option<Timestamp> {
        if self.is_stopped() {
            return None;
        }
        if let Some(breach) = self.breached_at {
            return Some(breach);
        }
        if !self.running {
            return None;
        }
        self.objective.calendar.deadline(self.through, self.remaining()).ok()
    }

    /// The next instant after `self.through` at which this cycle reaches a rung or breaches,
    /// if nothing else happens.
    pub fn next_change(&self) -> Option<Timestamp> {
        if self.is_stopped() || !self.running {
            return None;
        }
        let calendar = &self.objective.calendar;
        let mut values: Vec<SignedDuration> = self
            .objective
            .ladder
            .iter()
            .filter(|rung| !self.fired.iter().any(|fired| fired.rung.idx == rung.idx))
            .map(|rung| rung.threshold(self.target))
            .collect();
        if self.breached_at.is_none() {
            values.push(self.target);
        }
        values
            .into_iter()
            .filter(|value| *value >= self.elapsed)
            .filter_map(|value| calendar.deadline(self.through, value - self.elapsed).ok())
            .min()
    }
}

impl TicketState {
    /// Every clock as of `as_of` (at or after the last event applied).
    pub fn views(&self, as_of: Timestamp) -> Vec<ClockView> {
        let mut views = Vec::with_capacity(self.clocks.len());
        for clock in &self.clocks {
            let Some(last) = clock.cycles.last() else { continue };
            let cycle = last.as_of(as_of);
            let state = cycle.state();
            let n_breached = clock.cycles[..clock.cycles.len() - 1]
                .iter()
                .filter(|cycle| cycle.breached_at.is_some())
                .count()
                + usize::from(cycle.breached_at.is_some());
            let total_paused = clock.cycles[..clock.cycles.len() - 1]
                .iter()
                .map(|cycle| cycle.paused)
                .fold(cycle.paused, |sum, paused| sum + paused);
            views.push(ClockView {
                metric: clock.metric,
                state,
                deadline: cycle.deadline(),
                stage: cycle.fired.last().map(|fired| fired.rung.label()),
                n_cycles: clock.cycles.len(),
                n_breached,
                total_paused,
                cycle,
            });
        }
        views
    }

    /// The next instant after `as_of` at which any clock reaches a rung or breaches, if no
    /// event arrives first: a scheduler sleeps until then.
    pub fn next_change(&self, as_of: Timestamp) -> Option<Timestamp> {
        self.clocks
            .iter()
            .filter_map(Clock::open_cycle)
            .filter_map(|cycle| cycle.as_of(as_of).next_change())
            .min()
    }
}
