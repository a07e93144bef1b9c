//! Engine stories on a small catalog: a Berlin desk open 09:00-17:00 on weekdays, Christmas
//! Day closed, and one corporate SLA.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::catalog;
use expect_test::{Expect, expect};
use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use accord_core::agreement::{Metric, format_duration};
use accord_core::clock::compliance::compliance;
use accord_core::clock::explain::{SpanKind, timeline};
use accord_core::clock::*;

const DOCUMENTS: &str = r"
apiVersion: accord/v1
kind: Calendar
metadata: { name: desk }
spec:
  timeZone: Europe/Berlin
  hours: { mon-fri: [09:00-17:00] }
  holidays:
    - { yearly: 12-25, name: Christmas Day }
---
apiVersion: accord/v1
kind: Service
metadata: { name: helpdesk }
spec:
  calendars: [{ calendar: desk }]
---
apiVersion: accord/v1
kind: Service
metadata: { name: hosting }
spec:
  calendars: [{ calendar: 24x7 }]
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
    pauseOn: [waiting_on_customer]
    response: { P1: 30m, P2: 1h, P3: 4h }
    nextResponse: { P2: 2h }
    resolution:
      P1: 2h
      P2: 8h
      P3: { target: 2bd, reopen: new_cycle }
    update: { P2: 4h }
    request: { new-laptop: 3bd }
    compliance:
      - { name: p2-resolution, metric: resolution, priority: P2, target: 90, window: month }
  escalation:
    - { objectives: [resolution], at: 50%, notify: [lead] }
    - { objectives: [resolution], at: 30m before, notify: [duty-manager] }
";

fn engine() -> Engine<CatalogTerms> {
    Engine::new(CatalogTerms::new(catalog(DOCUMENTS), BTreeMap::new()))
}

fn berlin(text: &str) -> Timestamp {
    let datetime: DateTime = text.parse().expect("test instant");
    datetime.to_zoned(TimeZone::get("Europe/Berlin").expect("zone")).expect("zoned").timestamp()
}

/// One event per line: `2026-11-02T16:45 created P2`, `... agent`, `... customer`,
/// `... status waiting_on_customer`, `... priority P1`, `... solved`, `... closed`,
/// `... reopened`, `... note`, `... request new-laptop`, `... service hosting`.
fn events(script: &str) -> Vec<TicketEvent> {
    let ticket: Arc<str> = Arc::from("T-1");
    script
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(idx, line)| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let arg = words.get(2).copied().unwrap_or("");
            let kind = match words[1] {
                "created" | "request" => EventKind::Created(Box::new(Created {
                    customer: Arc::from("acme"),
                    service: Arc::from("helpdesk"),
                    priority: Arc::from(if words[1] == "created" { arg } else { "P3" }),
                    ticket_type: if words[1] == "created" {
                        TicketType::Incident
                    } else {
                        TicketType::Request
                    },
                    request_type: (words[1] == "request").then(|| Arc::from(arg)),
                    status: Arc::from("new"),
                    site: None,
                    region: None,
                    group: None,
                    external_ref: None,
                })),
                "agent" => EventKind::Comment { author: Author::Agent, public: true },
                "customer" => EventKind::Comment { author: Author::Customer, public: true },
                "status" => EventKind::Updated(Box::new(Updated {
                    status: Some(Arc::from(arg)),
                    ..Updated::default()
                })),
                "priority" => EventKind::Updated(Box::new(Updated {
                    priority: Some(Arc::from(arg)),
                    ..Updated::default()
                })),
                "service" => EventKind::Updated(Box::new(Updated {
                    service: Some(Arc::from(arg)),
                    ..Updated::default()
                })),
                "solved" => EventKind::Solved,
                "closed" => EventKind::Closed,
                "reopened" => EventKind::Reopened { status: None },
                "note" => EventKind::Note,
                other => panic!("unknown test event {other}"),
            };
            TicketEvent {
                id: Arc::from(format!("e{idx:03}")),
                ticket: ticket.clone(),
                at: berlin(words[0]),
                kind,
            }
        })
        .collect()
}

fn show(at: Timestamp) -> String {
    at.to_zoned(TimeZone::get("Europe/Berlin").expect("zone"))
        .strftime("%a %m-%d %H:%M")
        .to_string()
}

/// Every clock of ticket `T-1` as of `as_of`, one line each.
fn render(state: &TicketState, as_of: Timestamp) -> String {
    let mut out = String::new();
    for problem in &state.problems {
        out.push_str(&format!("problem: {problem}\n"));
    }
    for view in state.views(as_of) {
        let cycle = &view.cycle;
        let mut line = format!(
            "{} {} {}: elapsed {} of {}, paused {}, {} cycle(s)",
            view.metric.as_str(),
            cycle.objective.key,
            view.state.as_str(),
            format_duration(cycle.elapsed),
            format_duration(cycle.target),
            format_duration(view.total_paused),
            view.n_cycles,
        );
        if let Some((at, reason)) = cycle.stop {
            line.push_str(&format!(", {} {}", reason.as_str(), show(at)));
        }
        if let Some(at) = cycle.breached_at {
            line.push_str(&format!(", breached {}", show(at)));
        } else if let Some(at) = view.deadline {
            line.push_str(&format!(", due {}", show(at)));
        }
        for fired in &cycle.fired {
            line.push_str(&format!(", {} fired {}", fired.rung.label(), show(fired.at)));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn check(script: &str, as_of: &str, expect: Expect) {
    let mut engine = engine();
    for event in events(script) {
        engine.apply(event);
    }
    let ticket = engine.ticket("T-1").expect("ticket");
    expect.assert_eq(&render(&ticket.state, berlin(as_of)));
}

#[test]
fn response_counts_business_hours_only() {
    // Created 16:45 on a Monday: 15 minutes count that day, the rest from 09:00 Tuesday.
    check(
        "2026-11-02T16:45 created P2
         2026-11-03T09:20 agent",
        "2026-11-03T09:20",
        expect![[r#"
            response P2 met: elapsed 35m of 1h, paused 0s, 1 cycle(s), responded Tue 11-03 09:20
            resolution P2 running: elapsed 35m of 8h, paused 0s, 1 cycle(s), due Tue 11-03 16:45
            update P2 running: elapsed 0s of 4h, paused 0s, 2 cycle(s), due Tue 11-03 13:20
        "#]],
    );
}

#[test]
fn waiting_time_is_measured_in_business_hours_not_round_the_clock() {
    // Waiting from Friday 16:00 to Monday 10:00 pauses 2h of business time, not 66h.
    check(
        "2026-11-06T15:00 created P2
         2026-11-06T15:10 agent
         2026-11-06T16:00 status waiting_on_customer
         2026-11-09T10:00 status open",
        "2026-11-09T12:00",
        expect![[r#"
            response P2 met: elapsed 10m of 1h, paused 0s, 1 cycle(s), responded Fri 11-06 15:10
            resolution P2 running: elapsed 3h of 8h, paused 2h, 1 cycle(s), due Mon 11-09 17:00
            update P2 running: elapsed 2h50m of 4h, paused 2h, 2 cycle(s), due Mon 11-09 13:10
        "#]],
    );
}

#[test]
fn pause_taken_is_kept_when_the_priority_changes() {
    // A GLPI/Zammad classic: the pause from 10:00 to 14:00 must survive the change to P2.
    check(
        "2026-11-02T09:00 created P3
         2026-11-02T10:00 status waiting_on_customer
         2026-11-02T14:00 status open
         2026-11-02T15:00 priority P2",
        "2026-11-02T15:00",
        expect![[r#"
            response P2 breached: elapsed 2h of 1h, paused 4h, 1 cycle(s), breached Mon 11-02 15:00
            resolution P2 running: elapsed 2h of 8h, paused 4h, 1 cycle(s), due Tue 11-03 13:00
            update P2 running: elapsed 2h of 4h, paused 4h, 1 cycle(s), due Mon 11-02 17:00
        "#]],
    );
}

#[test]
fn raising_the_priority_past_its_target_breaches_at_the_change() {
    check(
        "2026-11-02T09:00 created P3
         2026-11-02T09:05 agent
         2026-11-02T12:00 priority P1",
        "2026-11-02T12:30",
        expect![[r#"
            response P3 met: elapsed 5m of 4h, paused 0s, 1 cycle(s), responded Mon 11-02 09:05
            resolution P1 breached: elapsed 3h30m of 2h, paused 0s, 1 cycle(s), breached Mon 11-02 12:00, 50% fired Mon 11-02 12:00, 30m before fired Mon 11-02 12:00
        "#]],
    );
}

#[test]
fn lowering_the_priority_withdraws_a_running_breach() {
    let mut engine = engine();
    for event in events(
        "2026-11-02T09:00 created P1
         2026-11-02T09:10 agent
         2026-11-02T12:00 priority P2",
    ) {
        engine.apply(event);
    }
    let state = &engine.ticket("T-1").expect("ticket").state;
    let resolution = state.clock(Metric::Resolution).expect("resolution");
    expect![[r#"
        [
            (
                Some(
                    "Mon 11-02 11:00",
                ),
                "P1",
                "P2",
            ),
        ]
    "#]]
    .assert_debug_eq(
        &resolution
            .retargets
            .iter()
            .map(|retarget| {
                (
                    retarget.withdrawn_breach.map(show),
                    retarget.from.as_ref().map_or("-".into(), |o| o.key.to_string()),
                    retarget.to.as_ref().map_or("-".into(), |o| o.key.to_string()),
                )
            })
            .collect::<Vec<_>>(),
    );
    expect![[r#"
        response P1 met: elapsed 10m of 30m, paused 0s, 1 cycle(s), responded Mon 11-02 09:10
        resolution P2 at_risk: elapsed 3h30m of 8h, paused 0s, 1 cycle(s), due Mon 11-02 17:00, 50% fired Mon 11-02 10:00, 30m before fired Mon 11-02 10:30
        update P2 running: elapsed 3h20m of 4h, paused 0s, 1 cycle(s), due Mon 11-02 13:10
    "#]]
    .assert_eq(&render(state, berlin("2026-11-02T12:30")));
}

#[test]
fn threshold_reached_at_closing_time_fires_at_the_close_not_overnight() {
    // P1 resolution 2h from 15:30: 30m before the breach is 17:00 sharp, the closing time;
    // the breach itself is 09:30 the next morning.
    check(
        "2026-11-02T15:30 created P1",
        "2026-11-03T10:00",
        expect![[r#"
            response P1 breached: elapsed 2h30m of 30m, paused 0s, 1 cycle(s), breached Mon 11-02 16:00
            resolution P1 breached: elapsed 2h30m of 2h, paused 0s, 1 cycle(s), breached Tue 11-03 09:30, 50% fired Mon 11-02 16:30, 30m before fired Mon 11-02 17:00
        "#]],
    );
}

#[test]
fn reopen_resumes_the_resolution_clock_with_the_time_already_used() {
    check(
        "2026-11-02T09:00 created P2
         2026-11-02T09:30 agent
         2026-11-02T12:00 solved
         2026-11-03T09:00 reopened
         2026-11-03T15:00 solved",
        "2026-11-03T16:00",
        expect![[r#"
            response P2 met: elapsed 30m of 1h, paused 0s, 1 cycle(s), responded Mon 11-02 09:30
            resolution P2 breached: elapsed 9h of 8h, paused 0s, 2 cycle(s), solved Tue 11-03 15:00, breached Tue 11-03 14:00, 50% fired Tue 11-03 10:00, 30m before fired Tue 11-03 13:30
            update P2 breached: elapsed 6h of 4h, paused 0s, 3 cycle(s), solved Tue 11-03 15:00, breached Tue 11-03 13:00
        "#]],
    );
}

#[test]
fn reopen_with_new_cycle_starts_again_and_keeps_the_met_cycle() {
    let mut engine = engine();
    for event in events(
        "2026-11-02T09:00 created P3
         2026-11-02T09:30 agent
         2026-11-02T12:00 solved
         2026-11-03T09:00 reopened",
    ) {
        engine.apply(event);
    }
    let state = &engine.ticket("T-1").expect("ticket").state;
    let resolution = state.clock(Metric::Resolution).expect("resolution");
    let cycles: Vec<String> = resolution
        .cycles
        .iter()
        .map(|cycle| {
            let cycle = cycle.as_of(berlin("2026-11-03T10:00"));
            format!(
                "{} from {} elapsed {} target {}",
                cycle.state().as_str(),
                show(cycle.start),
                format_duration(cycle.elapsed),
                format_duration(cycle.target)
            )
        })
        .collect();
    expect![[r#"
        [
            "met from Mon 11-02 09:00 elapsed 3h target 24h",
            "running from Tue 11-03 09:00 elapsed 1h target 24h",
        ]
    "#]]
    .assert_debug_eq(&cycles);
}

#[test]
fn next_response_runs_from_a_customer_comment_to_the_agents_reply() {
    check(
        "2026-11-02T09:00 created P2
         2026-11-02T09:20 customer
         2026-11-02T09:40 agent
         2026-11-02T10:00 customer
         2026-11-02T10:30 customer
         2026-11-02T13:00 agent
         2026-11-02T14:00 customer",
        "2026-11-02T15:00",
        expect![[r#"
            response P2 met: elapsed 40m of 1h, paused 0s, 1 cycle(s), responded Mon 11-02 09:40
            next_response P2 running: elapsed 1h of 2h, paused 0s, 2 cycle(s), due Mon 11-02 16:00
            resolution P2 at_risk: elapsed 6h of 8h, paused 0s, 1 cycle(s), due Mon 11-02 17:00, 50% fired Mon 11-02 13:00
            update P2 running: elapsed 2h of 4h, paused 0s, 3 cycle(s), due Mon 11-02 17:00
        "#]],
    );
}

#[test]
fn request_fulfilment_replaces_resolution_and_counts_business_days() {
    // 3bd from Thursday: Friday, Monday, Tuesday; due at Tuesday's close.
    check(
        "2026-11-05T11:00 request new-laptop
         2026-11-05T11:30 agent",
        "2026-11-06T09:00",
        expect![[r#"
            response P3 met: elapsed 30m of 4h, paused 0s, 1 cycle(s), responded Thu 11-05 11:30
            request new-laptop running: elapsed 6h of 30h, paused 0s, 1 cycle(s), due Tue 11-10 17:00
        "#]],
    );
}

#[test]
fn holidays_do_not_count_and_explain_names_them() {
    let mut engine = engine();
    for event in events("2026-12-24T16:00 created P2") {
        engine.apply(event);
    }
    let state = &engine.ticket("T-1").expect("ticket").state;
    let as_of = berlin("2026-12-28T10:00");
    expect![[r#"
        response P2 breached: elapsed 2h of 1h, paused 0s, 1 cycle(s), breached Thu 12-24 17:00
        resolution P2 running: elapsed 2h of 8h, paused 0s, 1 cycle(s), due Mon 12-28 16:00
        update P2 running: elapsed 2h of 4h, paused 0s, 1 cycle(s), due Mon 12-28 12:00
    "#]]
    .assert_eq(&render(state, as_of));
    let resolution = state.clock(Metric::Resolution).expect("resolution");
    let spans: Vec<String> = timeline(state, resolution, as_of)[0]
        .spans
        .iter()
        .map(|span| {
            let why = match &span.kind {
                SpanKind::Counted => "counted".to_owned(),
                SpanKind::Closed => "closed".to_owned(),
                SpanKind::Holiday(name) => format!("holiday {name}"),
                SpanKind::Paused(status) => format!("paused {status}"),
                SpanKind::BeforeStart => "before start".to_owned(),
            };
            format!("{} - {} {why}", show(span.from), show(span.to))
        })
        .collect();
    expect![[r#"
        [
            "Thu 12-24 16:00 - Thu 12-24 17:00 counted",
            "Thu 12-24 17:00 - Mon 12-28 09:00 holiday Christmas Day (2026-12-25)",
            "Mon 12-28 09:00 - Mon 12-28 10:00 counted",
        ]
    "#]]
    .assert_debug_eq(&spans);
}

#[test]
fn events_in_any_order_give_the_same_clocks_and_duplicates_are_ignored() {
    let script = "2026-11-02T09:00 created P2
         2026-11-02T09:20 agent
         2026-11-02T10:00 status waiting_on_customer
         2026-11-02T11:00 customer
         2026-11-02T11:05 status open
         2026-11-02T15:00 solved";
    let as_of = berlin("2026-11-02T16:00");
    let mut in_order = engine();
    for event in events(script) {
        in_order.apply(event);
    }
    let mut shuffled = engine();
    let mut reversed = events(script);
    reversed.reverse();
    let mut applied = Vec::new();
    for event in reversed.iter().cloned().chain(reversed.iter().take(2).cloned()) {
        applied.push(shuffled.apply(event));
    }
    assert_eq!(applied.iter().filter(|applied| **applied == Applied::Duplicate).count(), 2);
    assert_eq!(
        render(&in_order.ticket("T-1").expect("ticket").state, as_of),
        render(&shuffled.ticket("T-1").expect("ticket").state, as_of)
    );
}

#[test]
fn next_change_is_the_next_rung_or_breach() {
    let mut engine = engine();
    for event in events("2026-11-02T16:00 created P1\n2026-11-02T16:10 agent") {
        engine.apply(event);
    }
    let state = &engine.ticket("T-1").expect("ticket").state;
    // 50% of 2h is reached at 17:00 sharp (the close); 30m before at 09:30 the next day.
    let first = state.next_change(berlin("2026-11-02T16:10")).expect("a change");
    expect!["Mon 11-02 17:00"].assert_eq(&show(first));
    let second = state.next_change(berlin("2026-11-02T18:00")).expect("a change");
    expect!["Tue 11-03 09:30"].assert_eq(&show(second));
    let waiting = {
        let mut engine = self::engine();
        for event in events(
            "2026-11-02T16:00 created P1\n2026-11-02T16:05 agent\n2026-11-02T16:10 status waiting_on_customer",
        ) {
            engine.apply(event);
        }
        engine.ticket("T-1").expect("ticket").state.next_change(berlin("2026-11-02T16:30"))
    };
    // A paused clock changes only when an event arrives.
    assert_eq!(waiting, None);
}

#[test]
fn events_before_creation_and_unknown_priorities_are_problems_not_failures() {
    check(
        "2026-11-02T08:00 agent
         2026-11-02T09:00 created P9",
        "2026-11-02T10:00",
        expect![[r#"
            problem: comment event e000 at 2026-11-02T07:00:00Z comes before the ticket was created: ignored
            problem: the terms have no ticket objective for priority P9: no clocks
        "#]],
    );
}

#[test]
fn a_service_change_recounts_on_the_new_services_calendar() {
    // Hosting counts round the clock: from Monday 16:00 to Tuesday 08:00 is 16h of P2's 8h.
    check(
        "2026-11-02T16:00 created P2
         2026-11-02T16:05 agent
         2026-11-03T08:00 service hosting",
        "2026-11-03T08:00",
        expect![[r#"
            response P2 met: elapsed 5m of 1h, paused 0s, 1 cycle(s), responded Mon 11-02 16:05
            resolution P2 breached: elapsed 16h of 8h, paused 0s, 1 cycle(s), breached Tue 11-03 08:00, 50% fired Tue 11-03 08:00, 30m before fired Tue 11-03 08:00
            update P2 breached: elapsed 15h55m of 4h, paused 0s, 2 cycle(s), breached Tue 11-03 08:00
        "#]],
    );
}

#[test]
fn round_the_clock_targets_count_real_hours_across_the_autumn_change() {
    // The night the clocks go back has 25 hours: 8h from midnight is due at 07:00, not 08:00.
    let mut engine = engine();
    for event in events("2026-10-25T00:00 created P2\n2026-10-25T00:00 service hosting") {
        engine.apply(event);
    }
    let state = &engine.ticket("T-1").expect("ticket").state;
    let resolution = state.clock(Metric::Resolution).expect("resolution");
    let due = resolution.last_cycle().expect("cycle").deadline().expect("running");
    expect!["Sun 10-25 07:00"].assert_eq(&show(due));
}

#[test]
fn compliance_counts_tickets_and_the_misses_left() {
    let mut engine = engine();
    // Ten P2 tickets on one Monday; one is solved the next morning, an hour late.
    for ticket_idx in 0..10 {
        let solved = if ticket_idx == 6 { "2026-11-03T10:00" } else { "2026-11-02T12:00" };
        for event in events(&format!("2026-11-02T09:00 created P2\n{solved} solved")) {
            engine.apply(TicketEvent {
                id: Arc::from(format!("{ticket_idx}-{}", event.id)),
                ticket: Arc::from(format!("T-{ticket_idx}")),
                ..event
            });
        }
    }
    let rows = compliance(engine.tickets().map(|ticket| &ticket.state), berlin("2026-12-01T00:00"));
    let summaries: Vec<String> = rows
        .iter()
        .map(|row| format!("{} {} {}: {}", row.objective, row.period, row.is_met(), row.summary()))
        .collect();
    expect![[r#"
        [
            "p2-resolution 2026-11 true: 90% in time: 1 of 10 misses allowed, 1 used",
        ]
    "#]]
    .assert_debug_eq(&summaries);
}

/// Revision 1 until `switch`, revision 2 from then on.
struct TwoRevisions {
    first: CatalogTerms,
    second: CatalogTerms,
    switch: Timestamp,
}

impl TermsSource for TwoRevisions {
    fn terms(&mut self, who: &Who<'_>, at: Timestamp) -> Result<Arc<PinnedTerms>, String> {
        if at < self.switch { self.first.terms(who, at) } else { self.second.terms(who, at) }
    }
}

#[test]
fn a_ticket_keeps_the_revision_in_force_when_its_clocks_started() {
    let revisions = |label: &str| BTreeMap::from([("sla".to_owned(), label.to_owned())]);
    let stricter = DOCUMENTS.replace("P2: 8h", "P2: 4h");
    let mut engine = Engine::new(TwoRevisions {
        first: CatalogTerms::new(catalog(DOCUMENTS), revisions("r1")),
        second: CatalogTerms::new(catalog(&stricter), revisions("r2")),
        switch: berlin("2026-11-02T12:00"),
    });
    let early = events(
        "2026-11-02T09:00 created P2
         2026-11-02T13:00 priority P3
         2026-11-02T14:00 priority P2",
    );
    for event in early {
        engine.apply(event);
    }
    for event in events("2026-11-02T12:30 created P2") {
        engine.apply(TicketEvent { id: Arc::from("late"), ticket: Arc::from("T-2"), ..event });
    }
    let describe = |id: &str| {
        let state = &engine.ticket(id).expect("ticket").state;
        let terms = state.terms.as_ref().expect("terms");
        let resolution = state.clock(Metric::Resolution).expect("resolution");
        let cycle = resolution.last_cycle().expect("cycle");
        format!(
            "{id}: {} pinned {}, target {}",
            terms.revision_label(),
            show(state.pinned_at.expect("pinned")),
            format_duration(cycle.target)
        )
    };
    expect![[r#"
        T-1: sla r1 pinned Mon 11-02 09:00, target 8h
    "#]]
    .assert_eq(&format!("{}\n", describe("T-1")));
    expect![[r#"
        T-2: sla r2 pinned Mon 11-02 12:30, target 4h
    "#]]
    .assert_eq(&format!("{}\n", describe("T-2")));
}
