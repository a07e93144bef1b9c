//! The bizbench workload: deadlines and elapsed business time on three calendars, timed per
//! query, and the cost of building their index.
//!
//! The full workload (200,000 queries) lives outside the repository in `shared/data/bizbench`
//! next to the checkout; without it, the bench uses the subset in `tests/data/bizbench` at the
//! workspace root, and without either it says so and measures nothing.
//! Before measuring, it checks every answer against `reference.txt` and prepares the index, so
//! the timings are of correct answers from a warm index.
//! It reads the workload with `accord_format::bizbench`, the reader `accord calendar eval` uses.
//!
//! Run it with `cargo bench -p accord-core --bench bizbench`.

#![expect(clippy::print_stderr, reason = "a benchmark reports its workload and index size")]

use std::hint::black_box;
use std::path::{Path, PathBuf};

use accord_core::BusinessCalendar;
use accord_format::bizbench::{self, Calendars, Queries, Query};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::Timestamp;

/// Where the workload may be, relative to this crate, in order of preference.
const DATA_DIRS: [&str; 2] = ["../../../shared/data/bizbench", "../../tests/data/bizbench"];

fn data_dir() -> Option<PathBuf> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    DATA_DIRS.iter().map(|dir| crate_dir.join(dir)).find(|dir| dir.join("queries.tsv").is_file())
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

fn load(dir: &Path) -> (Calendars, Queries) {
    let path = dir.join("calendars.json");
    let calendars = Calendars::parse(&path, &read(&path)).unwrap_or_else(|error| panic!("{error}"));
    let path = dir.join("queries.tsv");
    let queries = bizbench::parse_queries(&path, &read(&path), &calendars)
        .unwrap_or_else(|error| panic!("{error}"));
    (calendars, queries)
}

/// Counts the answers that differ from `reference.txt`, describing the first few.
fn mismatches(dir: &Path, calendars: &Calendars, queries: &Queries) -> (usize, Vec<String>) {
    let reference = read(&dir.join("reference.txt"));
    let reference: Vec<&str> = reference.lines().collect();
    assert_eq!(queries.queries.len(), reference.len(), "one reference line per query");
    let mut examples = vec![];
    let mut n_mismatches = 0;
    for ((query, line), expected) in queries.queries.iter().zip(&queries.lines).zip(reference) {
        let actual = match bizbench::answer(calendars, query) {
            Ok(answer) => answer.to_string(),
            Err(error) => format!("error: {error}"),
        };
        if actual != expected {
            n_mismatches += 1;
            if examples.len() < 5 {
                examples.push(format!("queries.tsv:{line}: expected {expected}, got {actual}"));
            }
        }
    }
    (n_mismatches, examples)
}

/// The calendars again, sharing nothing with the originals, so their index starts empty.
fn fresh(calendars: &Calendars) -> Vec<BusinessCalendar> {
    calendars
        .calendars
        .iter()
        .map(|(_, calendar)| {
            BusinessCalendar::new(
                calendar.zone().clone(),
                calendar.weekly().clone(),
                calendar.exceptions().to_vec(),
            )
        })
        .collect()
}

fn bizbench(c: &mut Criterion) {
    let Some(dir) = data_dir() else {
        eprintln!(
            "bizbench: no workload in {DATA_DIRS:?} relative to the crate: nothing to measure"
        );
        return;
    };
    let (calendars, queries) = load(&dir);
    bizbench::prepare(&calendars, &queries.queries);
    let index_bytes: usize =
        calendars.calendars.iter().map(|(_, calendar)| calendar.index_bytes()).sum();
    let (adds, elapsed): (Vec<Query>, Vec<Query>) =
        queries.queries.iter().partition(|query| matches!(query, Query::Add { .. }));
    eprintln!(
        "bizbench: {} with {} add and {} elapsed queries; index {index_bytes} bytes for {} calendars",
        dir.display(),
        adds.len(),
        elapsed.len(),
        calendars.calendars.len(),
    );
    let (n_mismatches, examples) = mismatches(&dir, &calendars, &queries);
    eprintln!("bizbench: {n_mismatches} answers differ from reference.txt");
    for example in examples {
        eprintln!("bizbench:   {example}");
    }

    for (name, group_queries) in [("deadline", &adds), ("elapsed", &elapsed)] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(group_queries.len() as u64));
        group.bench_function("bizbench", |b| {
            b.iter(|| {
                for query in group_queries {
                    let _ = black_box(bizbench::answer(&calendars, black_box(query)));
                }
            });
        });
        group.finish();
    }

    let from: Timestamp = "2024-01-01T00:00:00Z".parse().expect("valid instant");
    let to: Timestamp = "2029-01-01T00:00:00Z".parse().expect("valid instant");
    let mut group = c.benchmark_group("index_build");
    group.throughput(Throughput::Elements(calendars.calendars.len() as u64));
    group.bench_function("2024-2028", |b| {
        b.iter_batched(
            || fresh(&calendars),
            |fresh_calendars| {
                for calendar in &fresh_calendars {
                    calendar.prepare(from, to).expect("inside the horizon");
                }
                // Returned, so that dropping the index is not measured.
                fresh_calendars
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bizbench);
criterion_main!(benches);
