//! `accord availability` on hand-worked months: maintenance across the autumn clock change,
//! an excluded incident, weights, the minimum outage and a month boundary.

use crate::accord_in;

const DOCUMENTS: &str = r"apiVersion: accord/v1
kind: Service
metadata: { name: hosting }
spec:
  components: [{ name: compute }]
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec: { timeZone: Europe/Berlin }
---
apiVersion: accord/v1
kind: MaintenanceWindow
metadata: { name: saturday-patching }
spec:
  services: [hosting]
  timeZone: Europe/Berlin
  start: 2026-10-03T22:00
  duration: 4h
  rrule: FREQ=WEEKLY;BYDAY=SA
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: sla }
spec:
  type: sla
  level: corporate
  parties: { provider: Northwind }
  term: { effectiveFrom: 2026-01-01, timeZone: Europe/Berlin, review: { next: 2027-06-01 } }
  exclusions: { maintenance: [saturday-patching], forceMajeure: true }
  objectives:
    availability:
      - name: uptime
        service: hosting
        target: 99.9
        window: month
        source: incidents
        downtime: { minimum: 1m, partialWeight: 50% }
      - name: web
        service: hosting
        target: 99.9
        window: month
        source: probe:web
      - name: api
        service: hosting
        target: 99.9
        window: month
        method: requests
        source: requests:api
      - name: backup
        service: hosting
        target: 99
        window: month
        source: heartbeat:backup-job
    latency:
      - name: web-latency
        service: hosting
        percentile: 99
        threshold: 1s
        window: month
        source: probe:web
";

const INCIDENTS: &str = "id,start,end,affected,impact,excluded,reason,cause
I1,2026-10-05T10:00:00+02:00,2026-10-05T10:30:00+02:00,hosting/compute,major,,,Host crash
I2,2026-10-14T08:00:00+02:00,2026-10-14T10:00:00+02:00,hosting,partial,,,Slow storage
I3,2026-10-20T02:00:00+02:00,2026-10-20T06:00:00+02:00,hosting,major,force_majeure,Regional grid failure,Power
I4,2026-10-24T23:00:00+02:00,2026-10-25T03:00:00+01:00,hosting,major,,,\"Router loop, during and after patching\"
I5,2026-11-30T23:30:00+01:00,2026-12-01T00:45:00+01:00,hosting,major,,,Failover
I6,2026-10-07T12:00:00+02:00,2026-10-07T12:00:30+02:00,hosting,major,,,Blip
";

/// Runs `accord availability` for `period` over the documents and incidents above, with
/// `files` written beside them and `args` added, as of mid-December; returns stdout.
fn availability(period: &str, files: &[(&str, &str)], args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("documents.yaml"), DOCUMENTS).expect("write");
    std::fs::write(dir.path().join("incidents.csv"), INCIDENTS).expect("write");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let mut all = vec![
        "availability",
        "--agreements",
        "documents.yaml",
        "--incidents",
        "incidents.csv",
        "--period",
        period,
        "--at",
        "2026-12-15T00:00:00Z",
    ];
    all.extend_from_slice(args);
    accord_in(dir.path(), &all).ok().stdout
}

#[test]
fn october_leaves_out_maintenance_across_the_clock_change_and_force_majeure() {
    // October in Berlin has 745 hours. Left out: four Saturday windows of 4h, 2h of the one
    // that starts at 22:00 CET on the 31st, and the 4h force majeure incident: 22h, so 723h
    // are eligible. Down: I1 30m, I2 2h at 50% = 1h, and I4 from the end of the window on
    // the 24th (02:00 CEST, 00:00 UTC) to 03:00 CET (02:00 UTC) = 2h; I6 is under a minute.
    // 1 - 3.5/723 = 99.51590...%; the budget is 0.1% of 723h = 43m22.8s.
    let out = availability("2026-10", &[], &[]);
    assert!(
        out.contains("  availability 99.5159% against 99.9%: missed; eligible 723h, left out 22h, downtime 3h30m\n"),
        "{out}"
    );
    assert!(
        out.contains("  error budget: allowed 43m22s, consumed 3h30m, remaining -2h46m37s\n"),
        "{out}"
    );
    assert!(out.contains("I3 2026-10-20 02:00 CEST to 2026-10-20 06:00 CEST major, excluded (Regional grid failure)"), "{out}");
    assert!(out.contains("I4 2026-10-24 23:00 CEST to 2026-10-25 03:00 CET major, counted 2h: Router loop, during and after patching"), "{out}");
    assert!(
        out.contains("I6 2026-10-07 12:00 CEST to 2026-10-07 12:00 CEST major, ignored: shorter than the minimum 1m: Blip"),
        "{out}"
    );
}

#[test]
fn november_counts_its_part_of_an_outage_across_the_month_boundary() {
    // November has 720 hours, less 2h of the window from 31 October and four more Saturdays:
    // 702h eligible. I5 counts 30 minutes in November: 1 - 0.5/702 = 99.92877...%.
    let out = availability("2026-11", &[], &[]);
    assert!(
        out.contains("  availability 99.9287% against 99.9%: met; eligible 702h, left out 18h, downtime 30m\n"),
        "{out}"
    );
    assert!(
        out.contains("  error budget: allowed 42m7s, consumed 30m, remaining 12m7s\n"),
        "{out}"
    );
}

#[test]
fn malformed_incidents_are_rejected_with_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("documents.yaml"), DOCUMENTS).expect("write");
    std::fs::write(
        dir.path().join("incidents.csv"),
        "id,start,end,affected,impact\nI1,2026-10-05T10:00:00,,hosting,major\nI2,2026-10-05T10:00:00Z,,hosting,huge\n",
    )
    .expect("write");
    let run = accord_in(
        dir.path(),
        &[
            "availability",
            "--agreements",
            "documents.yaml",
            "--incidents",
            "incidents.csv",
            "--period",
            "2026-10",
        ],
    )
    .failed();
    assert!(run.stderr.contains("incidents.csv:2: start: "), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "incidents.csv:3: impact: \"huge\": expected major, partial, degraded or maintenance"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn probe_results_count_for_objectives_that_name_the_probe() {
    // Every 30 s: a flap of two failures (under the two retries allowed) does not count;
    // three failures from 10:00:00 with the recovery at 10:01:30 make 90 s down. With I5's
    // 30 minutes, November has 31m30s down over 702 eligible hours: 99.92521...%.
    // The successful checks took 120 ms, 120 ms and 1.8 s: the 99th percentile is the
    // slowest of three, 1.8 s (reported as its bucket's bound, at most 9 % more).
    let results = web_results();
    let stdout = availability(
        "2026-11",
        &[("results.jsonl", &results)],
        &["--probe-results", "results.jsonl"],
    );
    let latency = stdout.split("acme hosting latency web-latency").nth(1).expect("latency");
    // 1.8 s falls in the bucket up to 2^(87/8) ms = 1878.02 ms.
    assert!(
        latency.contains("  p99 1.878s against 1s: missed (3 samples; within 9 %, never under)\n"),
        "{latency}"
    );
    let web = stdout.split("acme hosting web").nth(1).expect("the web objective");
    // Before the first result, between 09:01:30 and 10:00, and after the last: no data.
    assert!(
        web.contains(" in 3 gaps (counted as up), the first from 2026-10-31T23:00:00Z\n"),
        "{web}"
    );
    assert!(
        web.contains("  availability 99.9252% against 99.9%: met; eligible 702h, left out 18h, downtime 31m30s\n"),
        "{web}"
    );
}

/// The probe results of the test above, as `accord probe run --results` writes them.
fn web_results() -> String {
    [
        ("2026-11-12T09:00:00Z", true, 120),
        ("2026-11-12T09:00:30Z", false, 10_000),
        ("2026-11-12T09:01:00Z", false, 10_000),
        ("2026-11-12T09:01:30Z", true, 120),
        ("2026-11-12T10:00:00Z", false, 10_000),
        ("2026-11-12T10:00:30Z", false, 10_000),
        ("2026-11-12T10:01:00Z", false, 10_000),
        ("2026-11-12T10:01:30Z", true, 1800),
    ]
    .iter()
    .map(|(at, up, millis)| {
        format!(
            "{{\"probe\":\"web\",\"at\":\"{at}\",\"up\":{up},\"retries\":2,\"intervalSeconds\":30,\"latencyMs\":{millis}}}\n"
        )
    })
    .collect()
}

#[test]
fn missed_heartbeats_count_from_when_they_were_due() {
    // Hourly check-ins with 10 minutes' grace all November, except 10:00-13:00 UTC on the
    // 15th: due at 10:00, back at 14:00, so 4h down; with I5's 30 minutes, 4h30m over 702h
    // eligible: 99.35897...%.
    let stdout = availability(
        "2026-11",
        &[("probes.yaml", PROBES), ("beats.jsonl", &backup_beats())],
        &["--probes", "probes.yaml", "--heartbeats", "beats.jsonl"],
    );
    let backup = stdout.split("acme hosting backup").nth(1).expect("the backup objective");
    assert!(
        backup.contains(
            "  availability 99.3589% against 99%: met; eligible 702h, left out 18h, downtime 4h30m\n"
        ),
        "{backup}"
    );
}

const PROBES: &str = "probes:
  - { name: backup-job, affects: hosting, heartbeat: 1h, grace: 10m }
  - { name: web, affects: hosting, http: 'http://127.0.0.1:8080/health' }
";

/// With `--probes`, every probe and heartbeat the objectives name must be defined there.
#[test]
fn objectives_naming_undefined_probes_are_refused_with_file_line_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("documents.yaml"), DOCUMENTS).expect("write");
    let probes = "probes:\n  - { name: backup-job, affects: hosting, tcp: '127.0.0.1:22' }\n";
    std::fs::write(dir.path().join("probes.yaml"), probes).expect("write");
    let run = accord_in(
        dir.path(),
        &[
            "availability",
            "--agreements",
            "documents.yaml",
            "--probes",
            "probes.yaml",
            "--period",
            "2026-10",
        ],
    )
    .failed();
    for expected in [
        "documents.yaml:43: spec.objectives.availability[1].source: \"web\" is not defined in probes.yaml",
        "documents.yaml:54: spec.objectives.availability[3].source: \"backup-job\" is a probe in probes.yaml, named here as a heartbeat",
        "documents.yaml:61: spec.objectives.latency[0].source: \"web\" is not defined in probes.yaml",
        "3 objectives name probes that probes.yaml does not define",
    ] {
        assert!(run.stderr.contains(expected), "{expected:?} in {}", run.stderr);
    }
}

/// The check-ins of the test above.
fn backup_beats() -> String {
    let first: jiff::Timestamp = "2026-10-31T23:00:00Z".parse().expect("instant");
    (0..720)
        .map(|hour| first + jiff::SignedDuration::from_hours(hour))
        .filter(|at| {
            let missing_from: jiff::Timestamp = "2026-11-15T10:00:00Z".parse().expect("instant");
            let missing_to: jiff::Timestamp = "2026-11-15T13:00:00Z".parse().expect("instant");
            *at < missing_from || *at > missing_to
        })
        .map(|at| format!("{{\"heartbeat\":\"backup-job\",\"at\":\"{at}\"}}\n"))
        .collect()
}

#[test]
fn request_counts_measure_request_based_objectives() {
    // 9,990 of 10,000 and 10,000 of 10,000: 19,990 of 20,000 = 99.95 %; 0.1 % of 20,000
    // allows 20 failed requests, 10 are used.
    let stdout =
        availability("2026-11", &[("requests.jsonl", REQUESTS)], &["--requests", "requests.jsonl"]);
    let api = stdout.split("acme hosting api").nth(1).expect("the api objective");
    assert!(
        api.contains(
            "  availability 99.9500% against 99.9%: met\n  error budget: 20 failed requests allowed of 20000, 10 used\n"
        ),
        "{api}"
    );
}

const REQUESTS: &str = concat!(
    r#"{"source":"api","from":"2026-11-10T09:00:00Z","to":"2026-11-10T09:05:00Z","good":9990,"total":10000}"#,
    "\n",
    r#"{"source":"api","from":"2026-11-10T09:05:00Z","to":"2026-11-10T09:10:00Z","good":10000,"total":10000}"#,
    "\n",
);

/// What `accord record` stores, `accord availability --recorded` reads back: the same
/// figures as from the files, for the month with the data and the month before it; and
/// recording the same files again changes nothing.
#[test]
fn observations_recorded_in_the_store_give_the_figures_the_files_give() {
    let dir = tempfile::tempdir().expect("temp dir");
    let files = [
        ("documents.yaml", DOCUMENTS.to_owned()),
        ("incidents.csv", INCIDENTS.to_owned()),
        ("results.jsonl", web_results()),
        ("probes.yaml", PROBES.to_owned()),
        ("beats.jsonl", backup_beats()),
        ("requests.jsonl", REQUESTS.to_owned()),
    ];
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let inputs = [
        "--incidents",
        "incidents.csv",
        "--probe-results",
        "results.jsonl",
        "--probes",
        "probes.yaml",
        "--heartbeats",
        "beats.jsonl",
        "--requests",
        "requests.jsonl",
    ];
    let record = |expected: &[&str]| {
        let mut args = vec!["record", "--data", "data"];
        args.extend_from_slice(&inputs);
        let stdout = accord_in(dir.path(), &args).ok().stdout;
        for line in expected {
            assert!(stdout.contains(line), "{line:?} in {stdout}");
        }
    };
    record(&[
        "probe web: 8 results recorded, 0 already recorded\n",
        "heartbeat backup-job: 716 check-ins recorded, 0 already recorded\n",
        "requests api: 2 intervals recorded\n",
        "6 incidents recorded",
    ]);
    record(&[
        "probe web: 0 results recorded, 8 already recorded\n",
        "heartbeat backup-job: 0 check-ins recorded, 716 already recorded\n",
    ]);
    for period in ["2026-10", "2026-11"] {
        let base = [
            "availability",
            "--agreements",
            "documents.yaml",
            "--period",
            period,
            "--at",
            "2026-12-15T00:00:00Z",
        ];
        let mut from_files = base.to_vec();
        from_files.extend_from_slice(&inputs);
        let from_files = accord_in(dir.path(), &from_files).ok().stdout;
        let mut from_store = base.to_vec();
        from_store.extend_from_slice(&["--recorded", "--data", "data"]);
        let from_store = accord_in(dir.path(), &from_store).ok().stdout;
        assert_eq!(from_store, from_files, "{period}");
    }
}

/// Maintenance announced as an incident is left out where the objective excludes
/// maintenance, like a window of the agreement.
#[test]
fn an_incident_with_maintenance_impact_is_left_out_as_maintenance() {
    let incidents = "id,start,end,affected,impact,excluded,reason,cause
M1,2026-11-18T06:00:00+01:00,2026-11-18T08:00:00+01:00,hosting,maintenance,,,Emergency kernel patch
";
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("documents.yaml"), DOCUMENTS).expect("write");
    std::fs::write(dir.path().join("incidents.csv"), incidents).expect("write");
    let stdout = accord_in(
        dir.path(),
        &[
            "availability",
            "--agreements",
            "documents.yaml",
            "--incidents",
            "incidents.csv",
            "--period",
            "2026-11",
            "--at",
            "2026-12-15T00:00:00Z",
        ],
    )
    .ok()
    .stdout;
    let uptime = stdout.split("acme hosting uptime").nth(1).expect("the uptime objective");
    // November's 720 h less the 18 h of Saturday windows (four, and 2 h of October's last)
    // and this incident's 2 h: 700 h.
    assert!(
        uptime.contains("  availability 100.0000% against 99.9%: met; eligible 700h, left out 20h, downtime 0s\n"),
        "{uptime}"
    );
    assert!(
        uptime.contains("  incident M1 2026-11-18 06:00 CET to 2026-11-18 08:00 CET major, excluded (announced maintenance): Emergency kernel patch\n"),
        "{uptime}"
    );
}
