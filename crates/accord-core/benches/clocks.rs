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

    // One event at a time on a live engine: the first half of the history is applied, then
    // each iteration applies a status change, an agent comment or a customer comment to the
    // next of the tickets still open then, each later than everything before. This is the
    // steady state of a server: 50,000 tickets in memory, caches cold for the ticket at hand.
    let middle = events[events.len() / 2].at;
    let mut live = Engine::new(terms.clone());
    for event in events.iter().filter(|event| event.at <= middle) {
        live.apply(event.clone());
    }
    let open: Vec<Arc<str>> =
        live.tickets().filter(|ticket| ticket.state.open).map(|ticket| ticket.id.clone()).collect();
    eprintln!("live engine: {} tickets, {} open", live.len(), open.len());
    let statuses = [Arc::<str>::from("waiting_on_customer"), Arc::from("open")];
    let next_event = |n: usize| {
        let ticket = open[n % open.len()].clone();
        let kind = match n % 4 {
            0 => EventKind::Comment { author: Author::Agent, public: true },
            1 => EventKind::Comment { author: Author::Customer, public: true },
            _ => EventKind::Updated(Box::new(Updated {
                status: Some(statuses[(n / open.len()) % 2].clone()),
                ..Updated::default()
            })),
        };
        let at = middle + jiff::SignedDuration::from_millis(i64::try_from(n).expect("fits"));
        TicketEvent { id: Arc::from(format!("bench-{n}")), ticket, at, kind }
    };
    // Rounds of one event per open ticket on the live engine: a round touches each ticket
    // once, so each event finds its ticket cold in the cache, as on a busy server.
    let mut per_event = Vec::new();
    let mut n = 0;
    for _ in 0..20 {
        let round: Vec<TicketEvent> = (n..n + open.len()).map(next_event).collect();
        n += open.len();
        #[expect(clippy::disallowed_methods, reason = "a benchmark times itself")]
        let started = std::time::Instant::now();
        for event in round {
            live.apply(black_box(event));
        }
        per_event.push(started.elapsed().as_nanos() / open.len() as u128);
    }
    per_event.sort_unstable();
    eprintln!(
        "apply one event to a live engine ({} tickets, {} open): median {} ns, fastest round {} ns, slowest {} ns",
        live.len(),
        open.len(),
        per_event[per_event.len() / 2],
        per_event[0],
        per_event[per_event.len() - 1],
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
