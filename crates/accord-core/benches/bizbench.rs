//! The bizbench workload: deadlines and elapsed business time on three calendars, timed per
//! query, and the cost of building their index.
//!
//! The full workload (200,000 queries) lives outside the repository in `shared/data/bizbench`
//! next to the checkout; without it, the bench uses the subset in `tests/data/bizbench` at the
//! workspace root, and without either it says so and measures nothing.
//! Before measuring, it checks every answer against `reference.txt` and prepares the index, so
//! the timings are of correct answers from a warm index.
//!
//! Run it with `cargo bench -p accord-core --bench bizbench`.

#![expect(clippy::print_stderr, reason = "a benchmark reports its workload and index size")]

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use accord_core::calendar::{BusinessCalendar, DateRule, DayException, WeeklyHours};
use accord_core::{DayInterval, QueryError};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Where the workload may be, relative to this crate, in order of preference.
const DATA_DIRS: [&str; 2] = ["../../../shared/data/bizbench", "../../tests/data/bizbench"];

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug)]
struct Workload {
    dir: PathBuf,
    calendar_ids: Vec<String>,
    calendars: Vec<BusinessCalendar>,
    adds: Vec<AddQuery>,
    elapsed: Vec<ElapsedQuery>,
    // One line per query, adds and elapsed queries interleaved as in `queries.tsv`.
    reference: Vec<String>,
    order: Vec<Query>,
}

#[derive(Clone, Copy, Debug)]
struct AddQuery {
    calendar_idx: usize,
    start: Timestamp,
    budget: SignedDuration,
}

#[derive(Clone, Copy, Debug)]
struct ElapsedQuery {
    calendar_idx: usize,
    start: Timestamp,
    end: Timestamp,
}

/// A query by its op and its index in that op's list.
#[derive(Clone, Copy, Debug)]
enum Query {
    Add(usize),
    Elapsed(usize),
}

fn data_dir() -> Option<PathBuf> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    DATA_DIRS.iter().map(|dir| crate_dir.join(dir)).find(|dir| dir.join("queries.tsv").is_file())
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// Parses `calendars.json`: for each calendar its id, zone, weekly hours and dated holidays.
fn parse_calendars(text: &str) -> Vec<(String, BusinessCalendar)> {
    let json: serde_json::Value = serde_json::from_str(text).expect("calendars.json is JSON");
    let calendars = json["calendars"].as_array().expect("calendars.json has a calendars list");
    calendars
        .iter()
        .map(|calendar| {
            let field = |name: &str| {
                calendar[name].as_str().unwrap_or_else(|| panic!("calendar without {name}"))
            };
            let id = field("id").to_owned();
            let zone = TimeZone::get(field("tz")).expect("calendar zone is an IANA name");
            let days = WEEKDAYS.map(|weekday| {
                let intervals = calendar["weekly"][weekday].as_array();
                intervals
                    .unwrap_or_else(|| panic!("calendar {id} has no hours for {weekday}"))
                    .iter()
                    .map(|pair| {
                        let (start, end) = (pair[0].as_str(), pair[1].as_str());
                        let (Some(start), Some(end)) = (start, end) else {
                            panic!("calendar {id}: {weekday} interval {pair} is not two times")
                        };
                        DayInterval::parse(&format!("{start}-{end}")).expect("interval is valid")
                    })
                    .collect()
            });
            let weekly = WeeklyHours::new(days).expect("weekly hours do not overlap");
            let holidays = calendar["holidays"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|holiday| {
                    let date = holiday.as_str().and_then(|date| date.parse().ok());
                    let date =
                        date.unwrap_or_else(|| panic!("calendar {id}: bad holiday {holiday}"));
                    DayException::holiday("holiday", DateRule::Date(date))
                })
                .collect();
            (id, BusinessCalendar::new(zone, weekly, holidays))
        })
        .collect()
}

impl Workload {
    fn load(dir: &Path) -> Workload {
        let (calendar_ids, calendars) =
            parse_calendars(&read(&dir.join("calendars.json"))).into_iter().unzip();
        let mut workload = Workload {
            dir: dir.to_owned(),
            calendar_ids,
            calendars,
            adds: vec![],
            elapsed: vec![],
            reference: read(&dir.join("reference.txt")).lines().map(str::to_owned).collect(),
            order: vec![],
        };
        let queries = read(&dir.join("queries.tsv"));
        for line in queries.lines().filter(|line| !line.starts_with('#') && !line.is_empty()) {
            let fields: Vec<&str> = line.split('\t').collect();
            let [op, calendar_id, start, last] = fields[..] else {
                panic!("query {line:?} does not have four fields");
            };
            let calendar_idx = workload
                .calendar_ids
                .iter()
                .position(|id| id == calendar_id)
                .unwrap_or_else(|| panic!("query {line:?} names an unknown calendar"));
            let instant = |text: &str| -> Timestamp {
                text.parse().unwrap_or_else(|error| panic!("query {line:?}: {error}"))
            };
            let start = instant(start);
            match op {
                "add" => {
                    let seconds: i64 = last.parse().expect("add takes whole seconds");
                    let budget = SignedDuration::from_secs(seconds);
                    workload.order.push(Query::Add(workload.adds.len()));
                    workload.adds.push(AddQuery { calendar_idx, start, budget });
                }
                "elapsed" => {
                    let end = instant(last);
                    workload.order.push(Query::Elapsed(workload.elapsed.len()));
                    workload.elapsed.push(ElapsedQuery { calendar_idx, start, end });
                }
                _ => panic!("query {line:?} has an unknown op"),
            }
        }
        workload
    }

    /// The first and last instant any query names.
    fn span(&self) -> (Timestamp, Timestamp) {
        let instants = self
            .adds
            .iter()
            .map(|query| query.start)
            .chain(self.elapsed.iter().flat_map(|query| [query.start, query.end]));
        let first = instants.clone().min().expect("the workload has queries");
        let last = instants.max().expect("the workload has queries");
        (first, last)
    }

    /// Compares every answer with `reference.txt` and describes the first few that differ.
    fn mismatches(&self) -> (usize, Vec<String>) {
        assert_eq!(self.order.len(), self.reference.len(), "one reference line per query");
        let mut n_mismatches = 0;
        let mut examples = vec![];
        for (query, expected) in self.order.iter().zip(&self.reference) {
            let (described, actual) = match *query {
                Query::Add(idx) => {
                    let query = self.adds[idx];
                    let deadline =
                        self.calendars[query.calendar_idx].deadline(query.start, query.budget);
                    (format!("{query:?}"), answer(deadline.map(|t| t.to_string())))
                }
                Query::Elapsed(idx) => {
                    let query = self.elapsed[idx];
                    let elapsed =
                        self.calendars[query.calendar_idx].elapsed(query.start, query.end);
                    (format!("{query:?}"), answer(elapsed.map(|d| d.as_secs().to_string())))
                }
            };
            if actual != *expected {
                n_mismatches += 1;
                if examples.len() < 5 {
                    examples.push(format!("{described}: expected {expected}, got {actual}"));
                }
            }
        }
        (n_mismatches, examples)
    }
}

fn answer(result: Result<String, QueryError>) -> String {
    result.unwrap_or_else(|error| format!("error: {error}"))
}

/// The calendars again, sharing nothing with the originals, so their index starts empty.
fn fresh(calendars: &[BusinessCalendar]) -> Vec<BusinessCalendar> {
    calendars
        .iter()
        .map(|calendar| {
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
    let workload = Workload::load(&dir);
    let (first, last) = workload.span();
    let prepared_until = last.checked_add(SignedDuration::from_hours(120 * 24)).expect("in range");
    for calendar in &workload.calendars {
        calendar.prepare(first, prepared_until).expect("workload lies inside the horizon");
    }
    let index_bytes: usize = workload.calendars.iter().map(BusinessCalendar::index_bytes).sum();
    eprintln!(
        "bizbench: {} with {} add and {} elapsed queries on {:?}",
        workload.dir.display(),
        workload.adds.len(),
        workload.elapsed.len(),
        workload.calendar_ids,
    );
    eprintln!(
        "bizbench: index over {first}..{prepared_until}: {index_bytes} bytes for {} calendars",
        workload.calendars.len(),
    );
    let (n_mismatches, examples) = workload.mismatches();
    eprintln!("bizbench: {n_mismatches} answers differ from reference.txt");
    for example in examples {
        eprintln!("bizbench:   {example}");
    }

    let calendars = &workload.calendars;
    let mut group = c.benchmark_group("deadline");
    group.throughput(Throughput::Elements(workload.adds.len() as u64));
    group.bench_function("bizbench", |b| {
        b.iter(|| {
            for query in &workload.adds {
                let calendar = &calendars[query.calendar_idx];
                let _ = black_box(calendar.deadline(black_box(query.start), query.budget));
            }
        });
    });
    group.finish();

    let mut group = c.benchmark_group("elapsed");
    group.throughput(Throughput::Elements(workload.elapsed.len() as u64));
    group.bench_function("bizbench", |b| {
        b.iter(|| {
            for query in &workload.elapsed {
                let calendar = &calendars[query.calendar_idx];
                let _ = black_box(calendar.elapsed(black_box(query.start), query.end));
            }
        });
    });
    group.finish();

    let from: Timestamp = "2024-01-01T00:00:00Z".parse().expect("valid instant");
    let to: Timestamp = "2029-01-01T00:00:00Z".parse().expect("valid instant");
    let mut group = c.benchmark_group("index_build");
    group.throughput(Throughput::Elements(calendars.len() as u64));
    group.bench_function("2024-2028", |b| {
        b.iter_batched(
            || fresh(calendars),
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
