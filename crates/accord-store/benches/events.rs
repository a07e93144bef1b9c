//! The event log's physical limit: `Store::append_events` into a SQLite file with nothing in
//! between, one event per transaction and 1,000 per transaction, for a few seconds each. The
//! server's ingestion (`scripts/bench-ingest`) is measured against these figures.
//!
//! Run it with `cargo bench -p accord-store --bench events`.

#![expect(clippy::print_stderr, reason = "a benchmark reports its figures")]

use std::time::{Duration, Instant};

use accord_store::{Location, NewEvent, Store};
use jiff::Timestamp;

const RUN_FOR: Duration = Duration::from_secs(5);

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    runtime.block_on(run(Location::Sqlite(dir.path().join("bench.db"))));
}

fn body(id: &str) -> String {
    format!(
        r#"{{"v":1,"id":"{id}","ticket":"T-{id}","type":"created","at":"2026-11-02T08:00:00Z","customer":"acme","service":"managed-workplace","priority":"P2"}}"#
    )
}

async fn append(store: &Store, ids: &[String], bodies: &[String], at: Timestamp) {
    let events: Vec<NewEvent<'_>> = ids
        .iter()
        .zip(bodies)
        .map(|(id, body)| NewEvent { id, ticket: id, at, kind: "created", body })
        .collect();
    store.append_events(&events, at).await.unwrap();
}

async fn run(location: Location) {
    let store = Store::open(&location).await.unwrap();
    let at: Timestamp = "2026-11-02T08:00:00Z".parse().unwrap();
    for per_transaction in [1usize, 1000] {
        let started = Instant::now();
        let mut n_events = 0usize;
        while started.elapsed() < RUN_FOR {
            let ids: Vec<String> =
                (0..per_transaction).map(|i| format!("{per_transaction}-{n_events}-{i}")).collect();
            let bodies: Vec<String> = ids.iter().map(|id| body(id)).collect();
            append(&store, &ids, &bodies, at).await;
            n_events += per_transaction;
        }
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{location}: {per_transaction} event(s) per transaction: {:.0} events/s ({:.0} transactions/s)",
            n_events as f64 / seconds,
            (n_events / per_transaction) as f64 / seconds
        );
    }
    store.close().await;
}
