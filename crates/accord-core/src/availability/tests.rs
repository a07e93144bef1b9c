//! Hand-worked months, including published cloud SLA definitions.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::*;

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("zone")
}

fn at(text: &str) -> Timestamp {
    let datetime: DateTime = text.parse().expect("test instant");
    datetime.to_zoned(berlin()).expect("zoned").timestamp()
}

fn range(from: &str, to: &str) -> TimeRange {
    TimeRange::new(at(from), at(to)).expect("ordered")
}

fn outage(from: &str, to: &str, impact: Impact) -> Outage {
    Outage { range: range(from, to), impact }
}

fn percent(text: &str) -> Percent {
    Percent::parse(text).expect("percent")
}

fn month(label: &str) -> TimeRange {
    parse_period(label, &berlin()).expect("period").1
}

#[test]
fn october_in_berlin_has_745_hours_and_a_month_boundary_splits_an_outage() {
    let october = month("2026-10");
    let november = month("2026-11");
    assert_eq!(october.end().duration_since(october.start()), SignedDuration::from_hours(745));
    assert_eq!(october.end(), november.start());
    // 23:30 on 31 October to 00:45 on 1 November: 30 minutes in October, 45 in November.
    let outages = [outage("2026-10-31T23:30", "2026-11-01T00:45", Impact::Major)];
    let rules = Rules::default();
    let in_october = account(october, &outages, &[], &rules);
    let in_november = account(november, &outages, &[], &rules);
    assert_eq!(in_october.downtime, SignedDuration::from_mins(30));
    assert_eq!(in_november.downtime, SignedDuration::from_mins(45));
    // 1 - 30 / (745 * 60) = 99.93288...%; 1 - 45 / (720 * 60) = 99.89583...%.
    assert_eq!(in_october.availability().to_string(), "99.9328%");
    assert_eq!(in_november.availability().to_string(), "99.8958%");
}

#[test]
fn aws_ec2_region_level_monthly_uptime_is_the_share_of_minutes_available() {
    // AWS EC2 region-level SLA: Monthly Uptime Percentage is 100 % minus the share of minutes
    // in the month the region was unavailable; the commitment is 99.99 %. November 2026 has
    // 43,200 minutes; 5 unavailable minutes give 1 - 5/43200 = 99.98842...%, under 99.99 %;
    // 4 minutes give 99.99074...%, over it.
    let november = month("2026-11");
    let five = [outage("2026-11-10T10:00", "2026-11-10T10:05", Impact::Major)];
    let four = [outage("2026-11-10T10:00", "2026-11-10T10:04", Impact::Major)];
    let rules = Rules::default();
    let missed = account(november, &five, &[], &rules).availability();
    let kept = account(november, &four, &[], &rules).availability();
    assert_eq!(missed.to_string(), "99.9884%");
    assert!(!missed.meets(percent("99.99")));
    assert_eq!(kept.to_string(), "99.9907%");
    assert!(kept.meets(percent("99.99")));
    // 4.32 minutes is exactly 99.99 % of 43,200: met, to the nanosecond.
    let exact = [Outage {
        range: TimeRange::new(
            at("2026-11-10T10:00"),
            at("2026-11-10T10:00") + SignedDuration::from_millis(259_200),
        )
        .expect("ordered"),
        impact: Impact::Major,
    }];
    let boundary = account(november, &exact, &[], &rules).availability();
    assert!(boundary.meets(percent("99.99")));
    assert_eq!(boundary.percent(), percent("99.99"));
}

#[test]
fn gcp_compute_downtime_periods_shorter_than_a_minute_do_not_count() {
    // GCP Compute Engine SLA: a Downtime Period is at least one consecutive minute of
    // downtime; shorter intermittent downtime does not count. 30 s and 59 s are ignored,
    // 90 s counts: 1 - 90 / (43,200 * 60) = 99.99652...%.
    let rules = Rules { minimum: SignedDuration::from_mins(1), ..Rules::default() };
    let outages = [
        Outage {
            range: TimeRange::new(
                at("2026-11-03T12:00"),
                at("2026-11-03T12:00") + SignedDuration::from_secs(30),
            )
            .expect("ordered"),
            impact: Impact::Major,
        },
        Outage {
            range: TimeRange::new(
                at("2026-11-04T12:00"),
                at("2026-11-04T12:00") + SignedDuration::from_secs(59),
            )
            .expect("ordered"),
            impact: Impact::Major,
        },
        Outage {
            range: TimeRange::new(
                at("2026-11-05T12:00"),
                at("2026-11-05T12:00") + SignedDuration::from_secs(90),
            )
            .expect("ordered"),
            impact: Impact::Major,
        },
    ];
    let account = account(month("2026-11"), &outages, &[], &rules);
    assert_eq!(account.downtime, SignedDuration::from_secs(90));
    assert_eq!(
        account.outages.iter().map(|counted| counted.too_short).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(account.availability().to_string(), "99.9965%");
}

#[test]
fn partial_outages_count_by_weight_and_overlaps_count_the_worst_once() {
    // A partial outage 10:00-12:00 weighted 30 %, with a major one 11:00-11:30 inside it:
    // 1h30m of partial at 30 % (27m) plus 30m of major.
    let rules = Rules { partial_weight: percent("30"), ..Rules::default() };
    let outages = [
        outage("2026-11-10T10:00", "2026-11-10T12:00", Impact::Partial),
        outage("2026-11-10T11:00", "2026-11-10T11:30", Impact::Major),
        outage("2026-11-10T13:00", "2026-11-10T14:00", Impact::Degraded),
    ];
    let account = account(month("2026-11"), &outages, &[], &rules);
    assert_eq!(account.downtime, SignedDuration::from_mins(57));
    assert_eq!(account.outages[0].counted, SignedDuration::from_mins(27));
    assert_eq!(account.outages[1].counted, SignedDuration::from_mins(30));
    assert_eq!(account.outages[2].counted, SignedDuration::ZERO);
}

#[test]
fn maintenance_is_neither_eligible_nor_downtime() {
    // A 4h window on the Saturday night the clocks go back (22:00 CEST to 01:00 CET real
    // hours later) leaves 741 eligible hours in October; an outage inside it does not count,
    // the part of one that runs past it does.
    let october = month("2026-10");
    let maintenance = [TimeRange::new(
        at("2026-10-24T22:00"),
        at("2026-10-24T22:00") + SignedDuration::from_hours(4),
    )
    .expect("ordered")];
    let outages = [outage("2026-10-24T23:00", "2026-10-25T02:30", Impact::Major)];
    let account = account(october, &outages, &maintenance, &Rules::default());
    assert_eq!(account.eligible(), SignedDuration::from_hours(741));
    // The window ends at 02:00 CET (the clocks went back at 03:00 CEST); 30 minutes remain.
    assert_eq!(account.downtime, SignedDuration::from_mins(30));
}

#[test]
fn allowed_downtime_per_target_and_window() {
    let thirty_days = SignedDuration::from_hours(24 * 30);
    assert_eq!(
        allowed_downtime(percent("99.999"), thirty_days),
        SignedDuration::from_millis(25_920)
    );
    assert_eq!(
        allowed_downtime(percent("99.9"), thirty_days),
        SignedDuration::from_mins(43) + SignedDuration::from_secs(12)
    );
    assert_eq!(
        allowed_downtime(percent("99.99"), SignedDuration::from_hours(24 * 365)),
        SignedDuration::from_secs(3153) + SignedDuration::from_millis(600)
    );
}

#[test]
fn the_budget_forecasts_the_month_at_the_rate_so_far() {
    // 99.9 % of November allows 43m12s. By the 10th at midnight (9 days), 20 minutes are
    // used: 23m12s remain, and at that rate the month ends with 66m40s down, 99.8456...%.
    let november = month("2026-11");
    let so_far_range = range("2026-11-01T00:00", "2026-11-10T00:00");
    let outages = [outage("2026-11-05T10:00", "2026-11-05T10:20", Impact::Major)];
    let whole = account(november, &outages, &[], &Rules::default());
    let so_far = account(so_far_range, &outages, &[], &Rules::default());
    let budget = budget(percent("99.9"), &whole, &so_far);
    assert_eq!(budget.allowed, SignedDuration::from_secs(43 * 60 + 12));
    assert_eq!(budget.consumed, SignedDuration::from_mins(20));
    assert_eq!(budget.remaining, SignedDuration::from_secs(23 * 60 + 12));
    assert_eq!(budget.forecast.bad(), SignedDuration::from_secs(66 * 60 + 40).as_nanos());
    assert_eq!(budget.forecast.to_string(), "99.8456%");
}

#[test]
fn burn_rate_alerts_start_and_end_at_hand_worked_instants() {
    // 99.9 % over 30 days: the workbook's lookbacks as they are. A 10-minute major outage
    // from 12:00. Page at 14.4x: the hour needs 14.4 * 0.1 % * 3600 s = 51.84 s down and the
    // 5 minutes 4.32 s, both true at the 12:01 evaluation; the 5 minutes hold less than
    // 4.32 s once they start after 12:09:55.68, at 12:14:55.68, so the alert ends at 12:15.
    // Page at 6x: 6 hours need 129.6 s (12:02:09.6, so 12:03) and 30 minutes 10.8 s; it ends
    // when the 30 minutes fall under 10.8 s at 12:39:49.2, so at 12:40.
    // Ticket at 3x over 1 day (259.2 s: 12:04:19.2, so 12:05) and 2 hours (21.6 s); the 2 hours
    // hold less than 21.6 s once they start after 12:09:38.4, at 14:09:38.4, so it ends at
    // 14:10. Ticket at 1x over 3 days (259.2 s, 12:05) and 6 hours (21.6 s) ends at 18:10.
    let rules = standard_burn_rules(SignedDuration::from_hours(24 * 30));
    let outages = [outage("2026-11-10T12:00", "2026-11-10T12:10", Impact::Major)];
    let alerts = burn_alerts(
        range("2026-11-10T11:00", "2026-11-11T00:00"),
        SignedDuration::from_mins(1),
        percent("99.9"),
        &outages,
        &[],
        &Rules::default(),
        &rules,
    );
    let shown: Vec<String> = alerts
        .iter()
        .map(|alert| {
            let show = |t: Timestamp| t.to_zoned(berlin()).strftime("%H:%M").to_string();
            format!(
                "{} {}.{}x {}-{}",
                alert.rule.severity,
                alert.rule.tenths / 10,
                alert.rule.tenths % 10,
                show(alert.start),
                alert.end.map_or("open".to_owned(), show)
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            "page 14.4x 12:01-12:15",
            "page 6.0x 12:03-12:40",
            "ticket 3.0x 12:05-14:10",
            "ticket 1.0x 12:05-18:10"
        ]
    );
}

#[test]
fn burn_rule_lookbacks_scale_with_the_window() {
    let week = standard_burn_rules(SignedDuration::from_hours(24 * 7));
    // A 7-day window: 1 h becomes 14 minutes, 5 minutes become 70 seconds.
    assert_eq!(week[0].long, SignedDuration::from_mins(14));
    assert_eq!(week[0].short, SignedDuration::from_secs(70));
}

#[test]
fn periods_are_calendar_aligned_in_the_zone() {
    let q4 = parse_period("2026-Q4", &berlin()).expect("quarter").1;
    assert_eq!(q4.start(), at("2026-10-01T00:00"));
    assert_eq!(q4.end(), at("2027-01-01T00:00"));
    let week = period_of(Window::Week, at("2026-11-05T15:00"), &berlin()).expect("week");
    assert_eq!(week.start(), at("2026-11-02T00:00"));
    assert!(parse_period("2026-13", &berlin()).is_err());
    assert!(parse_period("2026-Q5", &berlin()).is_err());
}

#[test]
fn weekly_maintenance_keeps_its_civil_time_across_the_autumn_change() {
    use crate::agreement::{MaintenanceWindow, Metadata, Origin};
    use crate::maintenance::Rrule;
    let window = MaintenanceWindow {
        meta: Metadata {
            name: "saturday-patching".to_owned(),
            title: None,
            description: None,
            labels: std::collections::BTreeMap::new(),
            origin: Origin::default_value("test"),
        },
        services: Vec::new(),
        components: Vec::new(),
        time_zone: berlin(),
        start: "2026-10-03T22:00".parse().expect("datetime"),
        duration: SignedDuration::from_hours(4),
        rrule: Some(Rrule::parse("FREQ=WEEKLY;BYDAY=SA").expect("rule")),
        notice: None,
    };
    let october = month("2026-10");
    let occurrences = window.occurrences(october);
    let starts: Vec<String> = occurrences.iter().map(|range| range.start().to_string()).collect();
    // 22:00 CEST is 20:00 UTC until the clocks go back on the 25th; 22:00 CET is 21:00 UTC.
    assert_eq!(
        starts,
        [
            "2026-10-03T20:00:00Z",
            "2026-10-10T20:00:00Z",
            "2026-10-17T20:00:00Z",
            "2026-10-24T20:00:00Z",
            "2026-10-31T21:00:00Z"
        ]
    );
    // The last one runs into November: 2 of its 4 hours are October's. 745 - 4 * 4 - 2 = 727.
    let account = account(october, &[], &occurrences, &Rules::default());
    assert_eq!(account.eligible(), SignedDuration::from_hours(727));
}

/// A store keeps a timeline's outages, gaps and cursor, and restores it after every batch:
/// cut anywhere, the restored timelines end where one uninterrupted timeline ends.
#[test]
fn a_timeline_restored_between_batches_ends_as_one_that_never_stopped() {
    let t = |second: i64| at("2026-11-10T10:00") + SignedDuration::from_secs(second);
    // Up, a flap, an outage, a gap of 5 minutes, an outage still open at the end.
    let mut results: Vec<(i64, bool)> = (0..40).map(|i| (i * 30, i % 7 != 3)).collect();
    results.extend((8..14).map(|i| (1200 + i * 30, i >= 12)));
    results.extend((0..5).map(|i| (2000 + i * 30, false)));
    let max_gap = SignedDuration::from_mins(1);
    let mut whole = ProbeTimeline::with_gaps(1, max_gap);
    for (second, up) in &results {
        whole.record(t(*second), *up);
    }
    assert!(whole.is_down());
    assert!(!whole.recorded_gaps().is_empty());
    for cut in [1, 3, 4, 10, 25, 41, 44, 47, results.len() - 1] {
        let mut stored: Vec<(Timestamp, Option<Timestamp>)> = Vec::new();
        let mut gaps: Vec<TimeRange> = Vec::new();
        let mut cursor = ProbeCursor::default();
        for batch in [&results[..cut], &results[cut..]] {
            let open: Vec<_> = stored.iter().copied().filter(|(_, end)| end.is_none()).collect();
            let mut timeline = ProbeTimeline::restore(1, Some(max_gap), cursor, &open, Vec::new());
            for (second, up) in batch {
                timeline.record(t(*second), *up);
            }
            // What a store writes back: outages upserted by start, gaps added.
            for (start, end) in timeline.intervals() {
                stored.retain(|(kept, _)| *kept != start);
                stored.push((start, end));
            }
            gaps.extend_from_slice(timeline.recorded_gaps());
            cursor = timeline.cursor();
        }
        stored.sort();
        let restored = ProbeTimeline::restore(1, Some(max_gap), cursor, &stored, gaps);
        assert_eq!(restored, whole, "cut after {cut} results");
    }
}

/// A histogram rebuilt minute by minute from another is the same histogram.
#[test]
fn latency_histograms_merge_minute_by_minute() {
    let mut whole = LatencyHistogram::default();
    let mut first = LatencyHistogram::default();
    let mut second = LatencyHistogram::default();
    for i in 0..500i64 {
        let when = at("2026-11-10T10:00") + SignedDuration::from_secs(i * 7);
        let latency = SignedDuration::from_millis(5 + (i * 37) % 900);
        whole.record(when, latency);
        if i % 3 == 0 { &mut first } else { &mut second }.record(when, latency);
    }
    let mut merged = LatencyHistogram::default();
    for part in [&first, &second] {
        for (minute, counts) in part.minutes() {
            merged.add(minute, counts);
        }
    }
    assert_eq!(merged, whole);
}

#[test]
fn probes_declare_an_outage_after_the_retries_from_the_first_failure() {
    let mut timeline = ProbeTimeline::new(2);
    let t = |minute: i64| at("2026-11-10T10:00") + SignedDuration::from_mins(minute);
    // Two failures then a success: a flap, no outage.
    for (minute, up) in [(0, true), (1, false), (2, false), (3, true)] {
        timeline.record(t(minute), up);
    }
    assert!(timeline.is_empty());
    // Three failures in a row from minute 4: down from minute 4 until the success at 9.
    for (minute, up) in [(4, false), (5, false), (6, false), (7, false), (8, false), (9, true)] {
        timeline.record(t(minute), up);
    }
    // A result older than the newest is ignored.
    timeline.record(t(2), false);
    let november = month("2026-11");
    let outages = timeline.outages(november);
    assert_eq!(outages.len(), 1);
    assert_eq!(outages[0].range.start(), t(4));
    assert_eq!(outages[0].range.end(), t(9));
    // Down again at the end: the open outage runs to the end of the range asked for.
    for minute in 20..23 {
        timeline.record(t(minute), false);
    }
    assert!(timeline.is_down());
    let open = timeline.outages(range("2026-11-10T10:00", "2026-11-10T11:00"));
    assert_eq!(open.last().map(|outage| outage.range.end()), Some(at("2026-11-10T11:00")));
    assert_eq!(
        account(month("2026-11"), &timeline.outages(month("2026-11")), &[], &Rules::default())
            .downtime,
        SignedDuration::from_mins(5) + month("2026-11").end().duration_since(t(20))
    );
}

#[test]
fn a_slice_is_good_when_enough_of_it_was_up() {
    // Five-minute slices over one hour, 99 % of a slice must be up (2.97 s of down allowed).
    // 10:07:00-10:07:02 (2 s) leaves its slice good; 10:21:00-10:21:05 (5 s) makes it bad;
    // 10:29:58-10:30:10 touches two slices: 2 s in the first (good), 10 s in the next (bad).
    // 10:40-10:50 is maintenance: its two slices do not count. 8 of 10 counted slices are good.
    let secs = |text: &str, seconds: i64| at(text) + SignedDuration::from_secs(seconds);
    let outages = [
        Outage {
            range: TimeRange::new(secs("2026-11-10T10:07", 0), secs("2026-11-10T10:07", 2))
                .unwrap(),
            impact: Impact::Major,
        },
        Outage {
            range: TimeRange::new(secs("2026-11-10T10:21", 0), secs("2026-11-10T10:21", 5))
                .unwrap(),
            impact: Impact::Major,
        },
        Outage {
            range: TimeRange::new(secs("2026-11-10T10:29", 58), secs("2026-11-10T10:30", 10))
                .unwrap(),
            impact: Impact::Major,
        },
    ];
    let maintenance = [range("2026-11-10T10:40", "2026-11-10T10:50")];
    let slices = timeslices(
        range("2026-11-10T10:00", "2026-11-10T11:00"),
        SignedDuration::from_mins(5),
        percent("99"),
        &outages,
        &maintenance,
        &Rules::default(),
    );
    assert_eq!((slices.n_good, slices.n_slices), (8, 10));
    assert_eq!(
        slices.bad,
        [
            range("2026-11-10T10:20", "2026-11-10T10:25"),
            range("2026-11-10T10:30", "2026-11-10T10:35")
        ]
    );
    assert_eq!(slices.availability().to_string(), "80.0000%");
}

#[test]
fn latency_percentiles_come_from_minute_histograms_within_a_bucket() {
    // 1,000 samples over ten minutes: 990 at 100 ms and 10 at 2 s. The 99th percentile is
    // the 990th sample (100 ms, reported as its bucket's bound, within 9 %); the 99.5th is
    // the 995th (2 s, reported within 9 %).
    let mut histogram = LatencyHistogram::default();
    let start = at("2026-11-10T10:00");
    for idx in 0..1000 {
        let when = start + SignedDuration::from_millis(600 * idx);
        let latency = if idx % 100 == 99 {
            SignedDuration::from_secs(2)
        } else {
            SignedDuration::from_millis(100)
        };
        histogram.record(when, latency);
    }
    let window = range("2026-11-10T10:00", "2026-11-10T10:10");
    let (p99, n) = histogram.percentile(window, percent("99")).expect("samples");
    assert_eq!(n, 1000);
    assert!(
        p99 >= SignedDuration::from_millis(100) && p99 <= SignedDuration::from_millis(109),
        "{p99:?}"
    );
    let (p995, _) = histogram.percentile(window, percent("99.5")).expect("samples");
    assert!(
        p995 >= SignedDuration::from_secs(2) && p995 <= SignedDuration::from_millis(2180),
        "{p995:?}"
    );
    // Minutes outside the window are left out.
    assert_eq!(
        histogram.percentile(range("2026-11-10T11:00", "2026-11-10T12:00"), percent("99")),
        None
    );
    let (_, first_minute) = histogram
        .percentile(range("2026-11-10T10:00", "2026-11-10T10:01"), percent("50"))
        .expect("samples");
    assert_eq!(first_minute, 100);
}

#[test]
fn a_missed_heartbeat_beyond_the_grace_is_downtime_from_when_it_was_due() {
    // Every 5 minutes with 2 minutes' grace, from 10:00. Beats at 10:05, 10:11 (a minute
    // late: fine), 10:25 (due 10:16, more than 2 minutes late: down 10:16-10:25), then none:
    // due 10:30, down from then to the end of the range at 11:00.
    let minute = |m: i64| at("2026-11-10T10:00") + SignedDuration::from_mins(m);
    let beats = [minute(5), minute(11), minute(25)];
    let outages = heartbeat_outages(
        &beats,
        SignedDuration::from_mins(5),
        SignedDuration::from_mins(2),
        minute(0),
        range("2026-11-10T10:00", "2026-11-10T11:00"),
    );
    let spans: Vec<(Timestamp, Timestamp)> =
        outages.iter().map(|outage| (outage.range.start(), outage.range.end())).collect();
    assert_eq!(spans, [(minute(16), minute(25)), (minute(30), minute(60))]);
}

#[test]
fn request_based_availability_and_the_mean_of_slice_ratios() {
    // Two five-minute intervals: 999 of 1,000 good, then 90 of 100. By requests: 1,089 of
    // 1,100 = 99.0000%. As the mean of slice ratios: (99.9 % + 90 %) / 2 = 94.95 %. An
    // interval starting under maintenance is left out.
    let count =
        |from: &str, to: &str, good, total| RequestCount { range: range(from, to), good, total };
    let counts = [
        count("2026-11-10T10:00", "2026-11-10T10:05", 999, 1000),
        count("2026-11-10T10:05", "2026-11-10T10:10", 90, 100),
        count("2026-11-10T10:40", "2026-11-10T10:45", 0, 500),
    ];
    let window = range("2026-11-10T10:00", "2026-11-10T11:00");
    let maintenance = [range("2026-11-10T10:40", "2026-11-10T10:50")];
    assert_eq!(requests(window, &counts, &maintenance).to_string(), "99.0000%");
    let by_slices = ratio_timeslices(window, SignedDuration::from_mins(5), &counts, &maintenance);
    assert_eq!(by_slices.to_string(), "94.9500%");
    // Without the maintenance, the failed interval counts: 1,089 of 1,600 = 68.0625 %.
    assert_eq!(requests(window, &counts, &[]).to_string(), "68.0625%");
}

#[test]
fn gaps_in_probe_results_are_kept_and_reported() {
    // Results every 30 s from 10:00 to 10:05, none until 10:20, then to 10:30; a gap is more
    // than a minute without a result. Over 09:50-11:00: no data before 10:00, 10:05-10:20,
    // and after 10:30.
    let mut timeline = ProbeTimeline::with_gaps(2, SignedDuration::from_mins(1));
    let second = |s: i64| at("2026-11-10T10:00") + SignedDuration::from_secs(s);
    for s in (0..=300).step_by(30).chain((1200..=1800).step_by(30)) {
        timeline.record(second(s), true);
    }
    let gaps: Vec<(Timestamp, Timestamp)> = timeline
        .gaps(range("2026-11-10T09:50", "2026-11-10T11:00"))
        .iter()
        .map(|gap| (gap.start(), gap.end()))
        .collect();
    assert_eq!(
        gaps,
        [
            (at("2026-11-10T09:50"), second(0)),
            (second(300), second(1200)),
            (second(1800), at("2026-11-10T11:00"))
        ]
    );
}
