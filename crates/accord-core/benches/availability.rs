//! Availability at scale: a year of probe results for 1,000 components probed every 30 s,
//! ingested through `ProbeTimeline::record` (the path the server's probes take), then the
//! monthly availability of 10,000 components over 12 months.
//!
//! Run it with `cargo bench -p accord-core --bench availability`.

#![expect(clippy::print_stderr, reason = "a benchmark reports its figures")]

use std::hint::black_box;

use accord_core::availability::{ProbeTimeline, Rules, account, parse_period};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// SplitMix64: a small deterministic generator.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// One year of results every 30 s for `components` components: mostly up, with an outage
/// of 1 to 40 results starting about twice a week per component.
fn ingest_year(components: usize, start: Timestamp) -> (Vec<ProbeTimeline>, u64) {
    let mut timelines = vec![ProbeTimeline::new(2); components];
    let mut random = Random(7);
    let mut down_left = vec![0u32; components];
    let steps = 365 * 24 * 120;
    let mut n_results = 0u64;
    for step in 0..steps {
        let at = start + SignedDuration::from_secs(30 * step);
        for (component, timeline) in timelines.iter_mut().enumerate() {
            if down_left[component] == 0 && random.next().is_multiple_of(10_080) {
                down_left[component] = 1 + u32::try_from(random.next() % 40).expect("small");
            }
            let up = down_left[component] == 0;
            down_left[component] = down_left[component].saturating_sub(1);
            timeline.record(at, up);
            n_results += 1;
        }
    }
    (timelines, n_results)
}

fn bench(c: &mut Criterion) {
    let zone = TimeZone::get("Europe/Berlin").expect("zone");
    let start = parse_period("2026", &zone).expect("year").1.start();

    #[expect(clippy::disallowed_methods, reason = "a benchmark times itself")]
    let started = std::time::Instant::now();
    let (timelines, n_results) = ingest_year(1_000, start);
    let seconds = started.elapsed().as_secs_f64();
    let n_changes: usize = timelines.iter().map(ProbeTimeline::len).sum();
    eprintln!(
        "ingest: {n_results} probe results of 1,000 components over a year in {seconds:.2} s, {:.0} results/s; {n_changes} state changes kept",
        n_results as f64 / seconds
    );

    // 10,000 components: the year's timelines of the 1,000 reused ten times over.
    let components: Vec<&ProbeTimeline> = timelines.iter().cycle().take(10_000).collect();
    let months: Vec<_> = (1..=12)
        .map(|month| parse_period(&format!("2026-{month:02}"), &zone).expect("month").1)
        .collect();
    let rules = Rules::default();
    let mut group = c.benchmark_group("availability");
    group.sample_size(10);
    group.throughput(Throughput::Elements(120_000));
    group.bench_function("120,000 monthly figures", |b| {
        b.iter(|| {
            let mut n_met = 0;
            for timeline in &components {
                for month in &months {
                    let outages = timeline.outages(*month);
                    let account = account(*month, &outages, &[], &rules);
                    n_met +=
                        usize::from(black_box(account.availability()).meets(
                            accord_core::agreement::Percent::parse("99.9").expect("percent"),
                        ));
                }
            }
            n_met
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
