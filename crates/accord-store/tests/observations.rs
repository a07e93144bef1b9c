//! Availability observations in the store, on every backend: probe results become outages,
//! gaps and latency minutes that survive a restart; heartbeats, request counts and incidents
//! are kept and read back by range.

use accord_core::agreement::{DowntimeExclusion, Percent};
use accord_core::availability::{Affected, Impact, Incident, ProbeTimeline, RequestCount};
use accord_core::calendar::TimeRange;
use accord_store::{HeartbeatSettings, ProbeBatch, ProbeResult, ProbeSettings, Store};
use jiff::{SignedDuration, Timestamp};

mod common;
use common::each_backend;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn range(from: &str, to: &str) -> TimeRange {
    TimeRange::new(at(from), at(to)).unwrap()
}

/// A result every 30 s from 10:00Z; `down` lists the results (by index) that failed.
fn results(n: usize, down: &[usize]) -> Vec<ProbeResult> {
    (0..n)
        .map(|i| ProbeResult {
            at: at("2026-10-01T10:00:00Z") + SignedDuration::from_secs(30 * i as i64),
            up: !down.contains(&i),
            latency: Some(SignedDuration::from_millis(20 + (i as i64 % 5) * 10)),
        })
        .collect()
}

const SETTINGS: ProbeSettings =
    ProbeSettings { retries: 2, max_gap: Some(SignedDuration::from_secs(60)) };

async fn record(store: &Store, probe: &str, results: &[ProbeResult]) -> (usize, usize, bool) {
    let batch = ProbeBatch { probe, settings: SETTINGS, results };
    let recorded = store.record_probe_results(&[batch]).await.unwrap();
    (recorded[0].accepted, recorded[0].ignored, recorded[0].down)
}

#[tokio::test]
async fn probe_results_recorded_in_batches_give_the_outages_of_one_timeline() {
    each_backend(async |db| {
        let store = db.open().await;
        // Results 10-11 fail (a flap), 20-29 fail (down at 20, up at 30), 50.. fail to the end.
        let down: Vec<usize> = [10, 11].into_iter().chain(20..30).chain(50..60).collect();
        let all = results(60, &down);
        let mut whole = ProbeTimeline::with_gaps(2, SignedDuration::from_secs(60));
        for result in &all {
            whole.record(result.at, result.up);
        }
        // Recorded in three batches, the second cutting through the outage, then reopened.
        assert_eq!(record(&store, "web", &all[..25]).await, (25, 0, true));
        assert_eq!(record(&store, "web", &all[25..52]).await, (27, 0, false));
        store.close().await;
        let store = db.open().await;
        // A repeated delivery is ignored; the rest goes on after the restart.
        assert_eq!(record(&store, "web", &all[40..]).await, (8, 12, true));
        let october = range("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z");
        let history = store.probe_history("web", october, true).await.unwrap().unwrap();
        assert_eq!(history.timeline.outages(october), whole.outages(october));
        let outages: Vec<String> = history
            .timeline
            .outages(october)
            .iter()
            .map(|outage| format!("{}..{}", outage.range.start(), outage.range.end()))
            .collect();
        assert_eq!(
            outages,
            [
                "2026-10-01T10:10:00Z..2026-10-01T10:15:00Z",
                "2026-10-01T10:25:00Z..2026-11-01T00:00:00Z"
            ]
        );
        assert!(history.timeline.is_down());
        // Latency of the 38 successful results, none lost across batches: p50 is 40 ms.
        let (p50, n) = history.latency.percentile(october, Percent::parse("50%").unwrap()).unwrap();
        assert_eq!(n, 38);
        assert!(p50 >= SignedDuration::from_millis(40) && p50 < SignedDuration::from_millis(44));
        // An outage that started before the range is read when it overlaps it.
        let later = range("2026-10-02T00:00:00Z", "2026-10-03T00:00:00Z");
        let history = store.probe_history("web", later, true).await.unwrap().unwrap();
        assert_eq!(history.timeline.outages(later).len(), 1);
        assert!(history.latency.is_empty());
        assert!(store.probe_history("nothing", october, false).await.unwrap().is_none());
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn gaps_in_probe_results_are_kept() {
    each_backend(async |db| {
        let store = db.open().await;
        let mut all = results(10, &[]);
        // Five minutes with no result between the 10th and the 11th.
        all.push(ProbeResult { at: at("2026-10-01T10:09:30Z"), up: true, latency: None });
        record(&store, "api", &all[..10]).await;
        record(&store, "api", &all[10..]).await;
        let day = range("2026-10-01T10:00:00Z", "2026-10-01T10:10:00Z");
        let history = store.probe_history("api", day, false).await.unwrap().unwrap();
        let gaps: Vec<String> = history
            .timeline
            .gaps(day)
            .iter()
            .map(|gap| format!("{}..{}", gap.start(), gap.end()))
            .collect();
        assert_eq!(gaps, ["2026-10-01T10:04:30Z..2026-10-01T10:09:30Z"]);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_late_heartbeat_is_downtime_from_when_it_was_due() {
    each_backend(async |db| {
        let store = db.open().await;
        let settings = HeartbeatSettings {
            every: SignedDuration::from_hours(1),
            grace: SignedDuration::from_mins(10),
        };
        let beats = ["2026-10-01T00:00:00Z", "2026-10-01T01:05:00Z", "2026-10-01T04:00:00Z"];
        let beats: Vec<Timestamp> = beats.iter().map(|beat| at(beat)).collect();
        assert_eq!(store.record_heartbeats("backup", settings, &beats[..2]).await.unwrap(), 2);
        // Delivered again with the next one: only the new one counts.
        assert_eq!(store.record_heartbeats("backup", settings, &beats).await.unwrap(), 1);
        let day = range("2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z");
        let show = |outages: Vec<accord_core::availability::Outage>| -> Vec<String> {
            outages
                .iter()
                .map(|outage| format!("{}..{}", outage.range.start(), outage.range.end()))
                .collect()
        };
        // 01:05 is within the grace; 04:00 was due at 02:05. Late again from 05:00 at 06:00.
        let outages = store.heartbeat_outages("backup", day, at("2026-10-01T06:00:00Z")).await;
        assert_eq!(
            show(outages.unwrap().unwrap()),
            [
                "2026-10-01T02:05:00Z..2026-10-01T04:00:00Z",
                "2026-10-01T05:00:00Z..2026-10-01T06:00:00Z"
            ]
        );
        let early = store.heartbeat_outages("backup", day, at("2026-10-01T05:05:00Z")).await;
        assert_eq!(show(early.unwrap().unwrap()), ["2026-10-01T02:05:00Z..2026-10-01T04:00:00Z"]);
        assert!(store.heartbeat_outages("other", day, day.end()).await.unwrap().is_none());
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn request_counts_pushed_again_replace_the_first_push() {
    each_backend(async |db| {
        let store = db.open().await;
        let count = |from: &str, to: &str, good, total| RequestCount {
            range: range(from, to),
            good,
            total,
        };
        let first = [
            count("2026-10-01T00:00:00Z", "2026-10-01T00:05:00Z", 990, 1000),
            count("2026-10-01T00:05:00Z", "2026-10-01T00:10:00Z", 500, 500),
        ];
        store.record_request_counts("api", &first).await.unwrap();
        let again = [count("2026-10-01T00:05:00Z", "2026-10-01T00:10:00Z", 499, 501)];
        store.record_request_counts("api", &again).await.unwrap();
        let day = range("2026-10-01T00:00:00Z", "2026-10-02T00:00:00Z");
        let counts = store.request_counts("api", day).await.unwrap();
        assert_eq!(counts, [first[0], again[0]]);
        let bad = [count("2026-10-01T00:10:00Z", "2026-10-01T00:15:00Z", 10, 5)];
        assert!(store.record_request_counts("api", &bad).await.is_err());
        assert_eq!(store.request_counts("api", day).await.unwrap().len(), 2);
        assert!(store.request_counts("nothing", day).await.unwrap().is_empty());
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn incidents_are_kept_whole_and_read_by_the_range_they_overlap() {
    each_backend(async |db| {
        let store = db.open().await;
        let affected = |service: &str, component: Option<&str>| Affected {
            service: service.to_owned(),
            component: component.map(str::to_owned),
        };
        let spanning = Incident {
            id: "INC-1".to_owned(),
            start: at("2026-10-31T23:00:00Z"),
            end: Some(at("2026-11-01T01:00:00Z")),
            affected: vec![affected("hosting", Some("db")), affected("mail", None)],
            impact: Impact::Partial,
            excluded: None,
            cause: "disk full".to_owned(),
            root_cause: "log rotation off".to_owned(),
        };
        let ongoing = Incident {
            id: "INC-2".to_owned(),
            start: at("2026-11-05T08:00:00Z"),
            end: None,
            affected: vec![affected("hosting", None)],
            impact: Impact::Major,
            excluded: Some((DowntimeExclusion::ForceMajeure, "flood".to_owned())),
            cause: String::new(),
            root_cause: String::new(),
        };
        let now = at("2026-11-05T09:00:00Z");
        store.record_incidents(&[spanning.clone(), ongoing.clone()], now).await.unwrap();
        let october = range("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z");
        let november = range("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
        assert_eq!(store.incidents(october).await.unwrap(), std::slice::from_ref(&spanning));
        assert_eq!(store.incidents(november).await.unwrap(), [spanning.clone(), ongoing.clone()]);
        // Recorded again when it ends: replaced, affected list included.
        let ended = Incident {
            end: Some(at("2026-11-05T12:00:00Z")),
            affected: vec![affected("hosting", Some("web"))],
            ..ongoing
        };
        store.record_incidents(std::slice::from_ref(&ended), now).await.unwrap();
        assert_eq!(store.incidents(november).await.unwrap(), [spanning.clone(), ended]);
        // An incident that affects nothing is refused, and the batch with it.
        let nothing = Incident { id: "INC-3".to_owned(), affected: Vec::new(), ..spanning };
        assert!(store.record_incidents(&[nothing], now).await.is_err());
        assert_eq!(store.incidents(november).await.unwrap().len(), 2);
        store.close().await;
    })
    .await;
}
