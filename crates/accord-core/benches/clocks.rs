//! The clock engine on a generated history: 100,000 tickets and about 1,000,000 events of the
//! example provider's customers and services, over its Berlin, Singapore, follow-the-sun and
//! round-the-clock calendars.
//!
//! Three figures: events per second through the engine in a batch replay (the history grouped
//! by ticket and each ticket folded, as `accord replay` does) and in a streaming one (every
//! event applied to one engine in the order a helpdesk sends them, as a server does), and the
//! time to apply one event to a ticket that already has a history.
//!
//! Run it with `cargo bench -p accord-core --bench clocks`.

#![expect(clippy::print_stderr, reason = "a benchmark reports its workload")]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use accord_core::agreement::Catalog;
use accord_core::clock::synth::{self, SynthSpec, generate};
use accord_core::clock::{Author, CatalogTerms, Engine, EventKind, Ticket, TicketEvent, Updated};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn catalog() -> Catalog {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    accord_format::catalog::load_path(&examples)
        .unwrap_or_else(|errors| panic!("examples do not load: {errors}"))
        .catalog
}

/// The history `accord clock generate --agreements examples` writes, with `tickets` tickets.
fn history(catalog: &Catalog, tickets: usize) -> Vec<TicketEvent> {
    let from = jiff::civil::date(2026, 9, 1);
    let customers = synth::customers(catalog, from);
    generate(&SynthSpec {
        seed: 1,
        tickets,
        start: "2026-09-01T00:00:00Z".parse().expect("instant"),
        days: 90,
        customers,
        priorities: vec![("P1".into(), 3), ("P2".into(), 12), ("P3".into(), 45), ("P4".into(), 40)],
        request_types: vec!["new-user-account".into(), "equipment-shipment".into()],
        waiting_statuses: vec!["waiting_on_customer".into(), "waiting_on_vendor".into()],
    })
}

fn replay(terms: &CatalogTerms, events: &[TicketEvent]) -> Engine<CatalogTerms> {
    let mut engine = Engine::new(terms.clone());
    for event in events {
        engine.apply(event.clone());
    }
    engine
}

fn bench(c: &mut Criterion) {
    let catalog = catalog();
    let events = history(&catalog, 100_000);
    let terms = CatalogTerms::new(catalog, BTreeMap::new());
    let engine = replay(&terms, &events);
    let n_clocks: usize = engine.tickets().map(|ticket| ticket.state.clocks.len()).sum();
    let n_problems = engine.tickets().filter(|ticket| !ticket.state.problems.is_empty()).count();
    eprintln!(
        "history: {} events, {} tickets, {n_clocks} clocks, {n_problems} tickets with problems",
        events.len(),
        engine.len()
    );

    let mut group = c.benchmark_group("clocks");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events.len() as u64));
    // What `accord replay` does: events grouped by ticket (in the setup), then each ticket's
    // events folded and the ticket dropped.
    let mut groups: BTreeMap<Arc<str>, Vec<TicketEvent>> = BTreeMap::new();
    for event in &events {
        groups.entry(event.ticket.clone()).or_default().push(event.clone());
    }
    let groups: Vec<(Arc<str>, Vec<TicketEvent>)> = groups.into_iter().collect();
    group.bench_function("batch replay 100k tickets", |b| {
        b.iter_batched(
            || (terms.clone(), groups.clone()),
            |(mut terms, groups)| {
                let mut n_clocks = 0;
                for (id, events) in groups {
                    let (ticket, _) = Ticket::from_events(id, events, &mut terms);
                    n_clocks += black_box(&ticket).state.clocks.len();
                }
                n_clocks
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function("streaming replay 100k tickets", |b| {
        b.iter_batched(
            || (terms.clone(), events.clone()),
            |(terms, events)| {
                let mut engine = Engine::new(terms);
                for event in events {
                    engine.apply(black_box(event));
                }
                engine
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();

    // One event on a ticket in the middle of its life: the ticket's first eight events are
    // applied, then each sample applies a status change, an agent comment or a customer comment.
    let ticket: Arc<str> = events[events.len() / 2].ticket.clone();
    let ticket_events: Vec<TicketEvent> =
        events.iter().filter(|event| event.ticket == ticket).take(8).cloned().collect();
    let last_at = ticket_events.last().expect("events").at;
    let mut warm = Engine::new(terms.clone());
    for event in &ticket_events {
        warm.apply(event.clone());
    }
    let next = |kind: EventKind| TicketEvent {
        id: Arc::from("bench-next"),
        ticket: ticket.clone(),
        at: last_at + jiff::SignedDuration::from_mins(95),
        kind,
    };
    let mut group = c.benchmark_group("apply one event");
    for (name, event) in [
        (
            "status change",
            next(EventKind::Updated(Box::new(Updated {
                status: Some(Arc::from("waiting_on_customer")),
                ..Updated::default()
            }))),
        ),
        ("agent comment", next(EventKind::Comment { author: Author::Agent, public: true })),
        ("customer comment", next(EventKind::Comment { author: Author::Customer, public: true })),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || (warm.clone(), event.clone()),
                |(mut engine, event)| {
                    engine.apply(event);
                    engine
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
