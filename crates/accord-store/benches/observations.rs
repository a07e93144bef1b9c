//! Probe results recorded through `Store::record_probe_results`, the path `accord probe run
//! --record` and the server take: 200 components probed every 30 s for 7 days (4,032,000
//! results), delivered as one call per 10-minute round (a transaction holding every
//! component's 20 results), into a SQLite file; then the month's history of every component
//! read back. With `ACCORD_BENCH_POSTGRES_URL`, the same against that PostgreSQL database,
//! which must be empty (a fresh database; the bench does not clean up).
//!
//! Run it with `cargo bench -p accord-store --bench observations`.

#![expect(clippy::print_stderr, reason = "a benchmark reports its figures")]

use accord_core::calendar::TimeRange;
use accord_store::{Location, ProbeBatch, ProbeResult, ProbeSettings, Store};
use jiff::{SignedDuration, Timestamp};

const COMPONENTS: usize = 200;
const DAYS: i64 = 7;
const PER_ROUND: i64 = 20;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    runtime.block_on(run(Location::Sqlite(dir.path().join("bench.db"))));
    if let Ok(url) = std::env::var("ACCORD_BENCH_POSTGRES_URL") {
        runtime.block_on(run(Location::Postgres(url)));
    }
}

async fn run(location: Location) {
    let store = Store::open(&location).await.unwrap();
    let names: Vec<String> = (0..COMPONENTS).map(|idx| format!("bench-{idx:04}")).collect();
    let start: Timestamp = "2026-10-01T00:00:00Z".parse().unwrap();
    let settings = ProbeSettings { retries: 2, max_gap: Some(SignedDuration::from_secs(60)) };
    let rounds = DAYS * 24 * 6;
    let started = std::time::Instant::now();
    let mut n_results = 0u64;
    for round in 0..rounds {
        let results: Vec<Vec<ProbeResult>> = (0..COMPONENTS)
            .map(|component| {
                (0..PER_ROUND)
                    .map(|step| {
                        let n = round * PER_ROUND + step;
                        // About one outage of 2 minutes a day per component, staggered.
                        let up = (n + component as i64 * 97) % 2880 >= 4;
                        ProbeResult {
                            at: start + SignedDuration::from_secs(30 * n),
                            up,
                            latency: up.then(|| SignedDuration::from_millis(20 + n % 50)),
                        }
                    })
                    .collect()
            })
            .collect();
        let batches: Vec<ProbeBatch<'_>> = names
            .iter()
            .zip(&results)
            .map(|(probe, results)| ProbeBatch { probe, settings, results })
            .collect();
        store.record_probe_results(&batches).await.unwrap();
        n_results += (COMPONENTS as u64) * PER_ROUND as u64;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{location}: recorded {n_results} probe results of {COMPONENTS} components in {rounds} transactions in {seconds:.1} s: {:.0} results/s",
        n_results as f64 / seconds
    );
    let october = TimeRange::new(start, "2026-11-01T00:00:00Z".parse().unwrap()).unwrap();
    let started = std::time::Instant::now();
    let mut n_outages = 0;
    for name in &names {
        let history = store.probe_history(name, october, false).await.unwrap().unwrap();
        n_outages += history.timeline.outages(october).len();
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{location}: read the October outages of {COMPONENTS} components ({n_outages} outages) in {seconds:.3} s"
    );
    let started = std::time::Instant::now();
    for name in &names {
        let history = store.probe_history(name, october, true).await.unwrap().unwrap();
        assert!(!history.latency.is_empty());
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{location}: read the October outages and latency minutes of {COMPONENTS} components in {seconds:.2} s"
    );
    store.close().await;
}
