//! Properties of the clock engine over random ticket histories: arrival order does not matter,
//! pauses never make a clock due earlier, business time never outruns wall time, and a stopped
//! cycle's outcome never changes.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use accord_core::agreement::Metric;
use accord_core::clock::{
    Author, CatalogTerms, Created, Engine, EventKind, TicketEvent, TicketState, TicketType, Updated,
};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

const DOCUMENTS: &str = r"
apiVersion: accord/v1
kind: Calendar
metadata: { name: desk }
spec:
  timeZone: Europe/Berlin
  hours: { mon-fri: [09:00-12:30, 13:00-17:00] }
  holidays:
    - { yearly: 11-04, name: Test Day }
---
apiVersion: accord/v1
kind: Service
metadata: { name: helpdesk }
spec:
  calendars: [{ calendar: desk }]
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec: { timeZone: Europe/Berlin }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: sla }
spec:
  type: sla
  level: corporate
  term: { effectiveFrom: 2026-01-01, timeZone: Europe/Berlin }
  objectives:
    pauseOn: [waiting]
    response: { P1: 30m, P2: 1h, P3: 4h }
    nextResponse: { P1: 1h, P2: 2h, P3: 1bd }
    resolution: { P1: 4h, P2: 8h, P3: { target: 2bd, reopen: new_cycle } }
    update: { P1: 1h, P2: 4h }
  escalation:
    - { at: 50%, notify: [lead] }
    - { at: 30m before, notify: [duty] }
";

fn engine() -> Engine<CatalogTerms> {
    Engine::new(CatalogTerms::new(common::catalog(DOCUMENTS), BTreeMap::new()))
}

/// Monday 2026-11-02 08:00 Berlin.
fn start() -> Timestamp {
    "2026-11-02T07:00:00Z".parse().expect("instant")
}

#[derive(Clone, Debug)]
enum Step {
    Status(&'static str),
    Priority(&'static str),
    Agent,
    Customer,
    Note,
    Solved,
    Reopened,
    Closed,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => prop_oneof![Just("open"), Just("waiting"), Just("in_progress")].prop_map(Step::Status),
        1 => prop_oneof![Just("P1"), Just("P2"), Just("P3"), Just("P4")].prop_map(Step::Priority),
        3 => Just(Step::Agent),
        3 => Just(Step::Customer),
        1 => Just(Step::Note),
        1 => Just(Step::Solved),
        1 => Just(Step::Reopened),
        1 => Just(Step::Closed),
    ]
}

/// A ticket's events: created at a random minute of the first days, then steps at random
/// later minutes (several may share an instant).
fn history() -> impl Strategy<Value = Vec<TicketEvent>> {
    (0..3_000i64, prop::collection::vec((0..6_000i64, step()), 0..14)).prop_map(
        |(created, steps)| {
            let ticket: Arc<str> = Arc::from("T-1");
            let at = |minutes: i64| start() + SignedDuration::from_mins(minutes);
            let mut events = vec![TicketEvent {
                id: Arc::from("e-created"),
                ticket: ticket.clone(),
                at: at(created),
                kind: EventKind::Created(Box::new(Created {
                    customer: Arc::from("acme"),
                    service: Arc::from("helpdesk"),
                    priority: Arc::from("P2"),
                    ticket_type: TicketType::Incident,
                    request_type: None,
                    status: Arc::from("new"),
                    site: None,
                    region: None,
                    group: None,
                    external_ref: None,
                })),
            }];
            for (idx, (offset, step)) in steps.into_iter().enumerate() {
                let update = |updated: Updated| EventKind::Updated(Box::new(updated));
                let kind = match step {
                    Step::Status(status) => {
                        update(Updated { status: Some(Arc::from(status)), ..Updated::default() })
                    }
                    Step::Priority(priority) => update(Updated {
                        priority: Some(Arc::from(priority)),
                        ..Updated::default()
                    }),
                    Step::Agent => EventKind::Comment { author: Author::Agent, public: true },
                    Step::Customer => EventKind::Comment { author: Author::Customer, public: true },
                    Step::Note => EventKind::Note,
                    Step::Solved => EventKind::Solved,
                    Step::Reopened => EventKind::Reopened { status: None },
                    Step::Closed => EventKind::Closed,
                };
                events.push(TicketEvent {
                    id: Arc::from(format!("e{idx:02}")),
                    ticket: ticket.clone(),
                    at: at(created + offset),
                    kind,
                });
            }
            events
        },
    )
}

fn fold(events: &[TicketEvent]) -> Engine<CatalogTerms> {
    let mut engine = engine();
    for event in events {
        engine.apply(event.clone());
    }
    engine
}

fn state(engine: &Engine<CatalogTerms>) -> &TicketState {
    &engine.ticket("T-1").expect("ticket").state
}

/// Everything a clock shows, as text, for comparing two folds.
fn picture(state: &TicketState, as_of: Timestamp) -> String {
    let mut out = format!("{:?}\n", state.problems);
    for clock in &state.clocks {
        for cycle in &clock.cycles {
            let cycle = cycle.as_of(as_of);
            out.push_str(&format!(
                "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?}\n",
                clock.metric.as_str(),
                cycle.objective.key,
                cycle.start,
                cycle.elapsed,
                cycle.paused,
                cycle.stop,
                cycle.breached_at,
                cycle.fired.iter().map(|fired| (fired.rung.idx, fired.at)).collect::<Vec<_>>(),
                cycle.deadline(),
            ));
        }
    }
    out
}

fn as_of(events: &[TicketEvent]) -> Timestamp {
    events.iter().map(|event| event.at).max().expect("events") + SignedDuration::from_hours(30)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_arrival_order_gives_the_same_clocks(
        events in history(),
        seed in any::<u64>(),
    ) {
        let as_of = as_of(&events);
        let mut sorted = events.clone();
        sorted.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        let expected = picture(state(&fold(&sorted)), as_of);
        // A deterministic shuffle from the seed, plus every event sent twice.
        let mut shuffled = events.clone();
        let mut rng = seed | 1;
        for idx in (1..shuffled.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let other = usize::try_from(rng % (idx as u64 + 1)).expect("fits");
            shuffled.swap(idx, other);
        }
        let duplicated: Vec<TicketEvent> = shuffled.iter().chain(events.iter()).cloned().collect();
        prop_assert_eq!(picture(state(&fold(&duplicated)), as_of), expected);
    }

    #[test]
    fn a_pause_never_makes_a_clock_due_earlier(
        events in history(),
        pause_start in 0..6_000i64,
        pause_length in 1..3_000i64,
    ) {
        let created = events[0].at;
        let paused_from = created + SignedDuration::from_mins(pause_start);
        let paused_to = paused_from + SignedDuration::from_mins(pause_length);
        // Only status changes and comments: the pause must not be undone by another status.
        let plain: Vec<TicketEvent> = events
            .iter()
            .filter(|event| !matches!(event.kind, EventKind::Updated(_)))
            .cloned()
            .collect();
        let mut with_pause = plain.clone();
        for (id, at, status) in [("p-on", paused_from, "waiting"), ("p-off", paused_to, "open")] {
            with_pause.push(TicketEvent {
                id: Arc::from(id),
                ticket: Arc::from("T-1"),
                at,
                kind: EventKind::Updated(Box::new(Updated {
                    status: Some(Arc::from(status)),
                    ..Updated::default()
                })),
            });
        }
        // Read both at one instant after every event of either.
        let as_of = as_of(&with_pause);
        let without = fold(&plain);
        let with = fold(&with_pause);
        for metric in [Metric::Response, Metric::Resolution] {
            let (Some(before), Some(after)) =
                (state(&without).clock(metric), state(&with).clock(metric))
            else {
                continue;
            };
            let before = before.cycles[0].as_of(as_of);
            let after = after.cycles[0].as_of(as_of);
            // The instant the target is used up, where known: breach, or projected deadline.
            if let (Some(due_before), Some(due_after)) =
                (before.breached_at.or(before.deadline()), after.breached_at.or(after.deadline()))
            {
                prop_assert!(due_after >= due_before, "{metric:?}: {due_after} < {due_before}");
            }
            prop_assert!(after.elapsed <= before.elapsed);
            prop_assert!(before.breached_at.is_some() || after.breached_at.is_none());
        }
    }

    #[test]
    fn business_time_never_exceeds_wall_time(events in history()) {
        let as_of = as_of(&events);
        let engine = fold(&events);
        for clock in &state(&engine).clocks {
            for cycle in &clock.cycles {
                let cycle = cycle.as_of(as_of);
                let end = cycle.stop.map_or(as_of, |(at, _)| at);
                let wall = end.duration_since(cycle.start);
                prop_assert!(cycle.elapsed - cycle.carried + cycle.paused <= wall);
                prop_assert!(cycle.elapsed >= cycle.carried);
            }
        }
    }

    #[test]
    fn a_stopped_cycle_never_changes(events in history()) {
        let mut sorted = events.clone();
        sorted.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        let mut engine = engine();
        let mut stopped: Vec<(Metric, usize, String)> = Vec::new();
        for event in sorted {
            engine.apply(event);
            let state = state(&engine);
            for (metric, cycle_idx, picture) in &stopped {
                let clock = state.clock(*metric).expect("clock stays");
                let cycle = &clock.cycles[*cycle_idx];
                let now = format!("{:?} {:?} {:?} {:?}", cycle.stop, cycle.breached_at, cycle.elapsed, cycle.target);
                prop_assert_eq!(&now, picture);
            }
            stopped.clear();
            for clock in &state.clocks {
                for (cycle_idx, cycle) in clock.cycles.iter().enumerate() {
                    if cycle.is_stopped() {
                        let picture = format!("{:?} {:?} {:?} {:?}", cycle.stop, cycle.breached_at, cycle.elapsed, cycle.target);
                        stopped.push((clock.metric, cycle_idx, picture));
                    }
                }
            }
        }
    }
}
