//! The availability API over real HTTP on every backend: probe definitions stored and read
//! back, heartbeat check-ins (a late one shows as downtime), request counts, incidents as JSON
//! and CSV, the figures a customer may see, and bad input answered with the field at fault.
//!
//! Check-ins are taken only within the last hour of the server's clock, so these tests write
//! instants relative to the wall clock, and measure the month they fall in.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::backends;
use crate::http::{Reply, Server, token};

const DOCUMENTS: &str = r"apiVersion: accord/v1
kind: Service
metadata: { name: hosting }
spec:
  components: [{ name: compute }]
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec: { timeZone: UTC }
---
apiVersion: accord/v1
kind: Customer
metadata: { name: globex }
spec: { timeZone: UTC }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: sla }
spec:
  type: sla
  level: corporate
  parties: { provider: Northwind }
  term: { effectiveFrom: 2026-01-01, timeZone: UTC, review: { next: 2030-06-01 } }
  objectives:
    availability:
      - name: uptime
        service: hosting
        target: 99.9
        window: month
        source: incidents
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
      - name: web
        service: hosting
        target: 99.9
        window: month
        source: probe:web
";

const PROBES: &str = "probes:
  - { name: backup-job, affects: hosting, heartbeat: 5m, grace: 1m }
  - { name: web, affects: hosting, http: 'http://127.0.0.1:9/health' }
";

/// The instant `offset_seconds` from now, in UTC, as RFC 3339.
fn utc(offset_seconds: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    let seconds = i64::try_from(now).expect("a plausible clock") + offset_seconds;
    let (days, in_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Days to a civil date (Howard Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// This month (UTC), as a period.
fn this_month() -> String {
    utc(0)[..7].to_owned()
}

/// Asserts the status, showing the body when it differs, and returns the JSON body.
#[track_caller]
fn expect(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    reply.json()
}

/// One request with a bearer token and a body of `content_type`.
fn send(
    api: &Server,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: &str,
) -> Reply {
    let bearer = format!("Bearer {token}");
    api.send(
        method,
        path,
        &[("Authorization", &bearer), ("Content-Type", content_type)],
        body.as_bytes(),
    )
}

/// Applies the documents and activates the agreement.
fn set_up(api: &Server, editor: &str) {
    expect(&send(api, "POST", "/api/v1/agreements/apply", editor, "text/yaml", DOCUMENTS), 200);
    for action in ["submit", "approve", "activate"] {
        let body = json!({ "action": action, "revision": 1 });
        expect(&api.post("/api/v1/agreements/sla/lifecycle", editor, &body), 200);
    }
}

/// The objective called `name` in an availability answer.
fn objective<'a>(answer: &'a Value, customer: &str, name: &str) -> &'a Value {
    answer["objectives"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|objective| objective["customer"] == customer && objective["objective"] == name)
        .unwrap_or_else(|| panic!("objective {customer} {name} in {answer}"))
}

#[test]
fn probes_are_stored_and_a_late_heartbeat_shows_as_downtime() {
    for backend in backends("api_availability_heartbeats") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        let pusher = token(&backend, "pusher", "agent", &["--scope", "ingest"]);
        set_up(&api, &editor);

        // Only staff with the write scope define probes.
        let refused = send(&api, "PUT", "/api/v1/probes", &pusher, "text/yaml", PROBES);
        assert_eq!(expect(&refused, 403)["error"]["code"], "forbidden");
        let put = expect(&send(&api, "PUT", "/api/v1/probes", &editor, "text/yaml", PROBES), 200);
        assert_eq!((&put["revision"], &put["change"]), (&json!(1), &json!("created")));
        let again = expect(&send(&api, "PUT", "/api/v1/probes", &editor, "text/yaml", PROBES), 200);
        assert_eq!((&again["revision"], &again["change"]), (&json!(1), &json!("unchanged")));
        let stored = expect(&api.get("/api/v1/probes", &editor), 200);
        assert_eq!(stored["text"], PROBES);
        assert_eq!(stored["probes"][0]["check"]["heartbeat"]["seconds"], 300);
        // The agreements API still reads the store with probe definitions in it.
        expect(&api.get("/api/v1/agreements", &editor), 200);

        // Due 5 minutes after the first check-in, back 45 minutes later.
        let first = json!({ "at": utc(-50 * 60) });
        let beat = api.post("/api/v1/heartbeats/backup-job", &pusher, &first);
        assert_eq!(expect(&beat, 200)["recorded"], true);
        let now = api.request("POST", "/api/v1/heartbeats/backup-job", Some(&pusher), None);
        expect(&now, 200);

        let answer = expect(
            &api.get(&format!("/api/v1/availability?period={}", this_month()), &editor),
            200,
        );
        let backup = objective(&answer, "acme", "backup");
        assert_eq!(backup["status"], "measured", "{backup}");
        assert_eq!(backup["method"], "time");
        let downtime = backup["downtime"]["seconds"].as_i64().expect("seconds");
        assert!((44 * 60..=46 * 60).contains(&downtime), "{backup}");
        assert_eq!(backup["target"], "99%");
        assert!(backup["availability"]["text"].as_str().expect("text").ends_with('%'));
        assert!(backup["budget"]["consumed"]["seconds"].as_i64() == Some(downtime), "{backup}");
        assert!(backup["budget"]["forecast"].is_object(), "{backup}");
    }
}

#[test]
fn heartbeats_refuse_unknown_names_and_old_or_future_instants() {
    for backend in backends("api_availability_heartbeat_errors") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        let pusher = token(&backend, "pusher", "agent", &["--scope", "ingest"]);
        // Nothing defined yet: every heartbeat is unknown.
        let unknown = api.request("POST", "/api/v1/heartbeats/backup-job", Some(&pusher), None);
        expect(&unknown, 404);
        expect(&send(&api, "PUT", "/api/v1/probes", &editor, "text/yaml", PROBES), 200);
        let unknown = api.request("POST", "/api/v1/heartbeats/nightly", Some(&pusher), None);
        expect(&unknown, 404);
        // A probe is not a heartbeat.
        expect(&api.request("POST", "/api/v1/heartbeats/web", Some(&pusher), None), 404);
        for at in [json!(utc(-2 * 3600)), json!(utc(3600)), json!("yesterday")] {
            let refused = api.post("/api/v1/heartbeats/backup-job", &pusher, &json!({ "at": at }));
            assert_eq!(expect(&refused, 400)["error"]["field"], "at", "{at}");
        }
        let read_only = token(&backend, "wallboard", "viewer", &[]);
        expect(&api.request("POST", "/api/v1/heartbeats/backup-job", Some(&read_only), None), 403);
    }
}

#[test]
fn probe_files_with_errors_or_a_ca_file_are_refused_with_line_and_field() {
    for backend in backends("api_availability_probe_errors") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        let bad = "probes:\n  - { name: backup-job, affects: hosting, heartbeat: soon }\n";
        let refused = expect(&send(&api, "PUT", "/api/v1/probes", &editor, "text/yaml", bad), 400);
        assert_eq!(refused["error"]["code"], "invalid_probes");
        let error = &refused["error"]["errors"][0];
        assert_eq!((&error["line"], &error["field"]), (&json!(2), &json!("probes[0].heartbeat")));
        let with_ca = "probes:\n  - name: portal\n    affects: hosting\n    http: https://portal.example/\n    ca: /etc/ssl/certs/ca.pem\n";
        let refused =
            expect(&send(&api, "PUT", "/api/v1/probes", &editor, "text/yaml", with_ca), 400);
        assert_eq!(refused["error"]["field"], "ca");
        assert!(refused["error"]["message"].as_str().expect("a message").contains("probes.yaml:5"));
        let json_body = send(&api, "PUT", "/api/v1/probes", &editor, "application/json", "{}");
        expect(&json_body, 415);
        // Nothing was stored.
        expect(&api.get("/api/v1/probes", &editor), 404);
    }
}

#[test]
fn request_counts_and_incidents_count_in_the_figures() {
    for backend in backends("api_availability_observations") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        let pusher = token(&backend, "pusher", "agent", &["--scope", "ingest"]);
        set_up(&api, &editor);

        let counts = json!([
            { "source": "api", "from": utc(-50 * 60), "to": utc(-45 * 60), "good": 990, "total": 1000 },
            { "source": "api", "from": utc(-45 * 60), "to": utc(-40 * 60), "good": 1000, "total": 1000 },
        ]);
        assert_eq!(
            expect(&api.post("/api/v1/request-counts", &pusher, &counts), 200)["recorded"],
            2
        );
        let bad_counts = [
            (
                json!({ "source": "api", "from": utc(-60), "to": utc(-30), "good": 2, "total": 1 }),
                "good",
            ),
            (json!({ "source": "api", "from": utc(-60), "good": 1, "total": 1 }), "to"),
            (
                json!({ "source": "api", "from": utc(-30), "to": utc(-60), "good": 1, "total": 1 }),
                "to",
            ),
            (
                json!([{ "source": "api", "from": utc(-60), "to": utc(-30), "good": -1, "total": 1 }]),
                "[0].good",
            ),
            (json!({ "from": utc(-60), "to": utc(-30), "good": 1, "total": 1 }), "source"),
        ];
        for (body, field) in bad_counts {
            let refused = api.post("/api/v1/request-counts", &pusher, &body);
            assert_eq!(expect(&refused, 400)["error"]["field"], field, "{body}");
        }

        // Incidents are the provider's staff's to record.
        let incident = json!({
            "id": "I1", "start": utc(-30 * 60), "end": utc(-20 * 60),
            "affected": ["hosting/compute"], "impact": "major", "cause": "Host crash",
        });
        expect(&api.post("/api/v1/incidents", &pusher, &incident), 403);
        let recorded = expect(&api.post("/api/v1/incidents", &editor, &incident), 200);
        assert_eq!(recorded["ids"], json!(["I1"]));
        let csv = format!(
            "id,start,end,affected,impact,cause\nI2,{},{},hosting,maintenance,\"Patching, announced\"\n",
            utc(-15 * 60),
            utc(-10 * 60)
        );
        expect(&send(&api, "POST", "/api/v1/incidents", &editor, "text/csv", &csv), 200);
        let bad = json!([incident, { "id": "I3", "start": utc(-60), "affected": "hosting", "impact": "huge" }]);
        let refused = expect(&api.post("/api/v1/incidents", &editor, &bad), 400);
        assert_eq!(refused["error"]["field"], "[1].impact");
        let bad_csv = format!("id,start,affected,impact\nI3,{},hosting,huge\n", utc(-60));
        let refused =
            expect(&send(&api, "POST", "/api/v1/incidents", &editor, "text/csv", &bad_csv), 400);
        assert_eq!(refused["error"]["field"], "impact");
        assert_eq!(refused["error"]["errors"][0]["line"], 2);

        let listed = expect(
            &api.get(&format!("/api/v1/incidents?from={}&to={}", utc(-3600), utc(60)), &editor),
            200,
        );
        let ids: Vec<&Value> =
            listed["incidents"].as_array().expect("a list").iter().map(|i| &i["id"]).collect();
        assert_eq!(ids, [&json!("I1"), &json!("I2")]);
        assert_eq!(listed["incidents"][1]["excluded"], "maintenance");
        let refused = expect(&api.get("/api/v1/incidents?from=yesterday", &editor), 400);
        assert_eq!(refused["error"]["field"], "from");

        let answer = expect(
            &api.get(&format!("/api/v1/availability?period={}", this_month()), &editor),
            200,
        );
        let api_objective = objective(&answer, "acme", "api");
        assert_eq!(api_objective["availability"]["text"], "99.5000%", "{api_objective}");
        assert_eq!(
            (&api_objective["availability"]["good"], &api_objective["availability"]["eligible"]),
            (&json!("1990"), &json!("2000"))
        );
        assert_eq!(api_objective["met"], false);
        assert_eq!(api_objective["budget"]["failedRequests"], 10);
        let uptime = objective(&answer, "acme", "uptime");
        let incidents = uptime["incidents"].as_array().expect("a list");
        assert_eq!(incidents[0]["id"], "I1", "{uptime}");
        assert_eq!(incidents[0]["counted"]["seconds"], 600, "{uptime}");
        // No objective excludes maintenance here: announced work still counts.
        assert_eq!(uptime["downtime"]["seconds"], 900, "{uptime}");
        assert!(
            uptime["alerts"].as_array().expect("a list").iter().all(|a| a["start"].is_string()),
            "{uptime}"
        );

        let refused = expect(&api.get("/api/v1/availability?period=october", &editor), 400);
        assert_eq!(refused["error"]["field"], "period");
        let refused = expect(
            &api.get(&format!("/api/v1/availability?period={}&at=now", this_month()), &editor),
            400,
        );
        assert_eq!(refused["error"]["field"], "at");
    }
}

#[test]
fn a_customer_sees_its_own_availability_and_no_other() {
    for backend in backends("api_availability_customers") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        let acme = token(&backend, "acme-portal", "customer", &["--customer", "acme"]);
        set_up(&api, &editor);
        let period = this_month();
        let own = expect(&api.get(&format!("/api/v1/availability?period={period}"), &acme), 200);
        let customers: Vec<&Value> =
            own["objectives"].as_array().expect("a list").iter().map(|o| &o["customer"]).collect();
        assert!(!customers.is_empty() && customers.iter().all(|c| **c == "acme"), "{own}");
        let asked = api.get(&format!("/api/v1/availability?period={period}&customer=acme"), &acme);
        let asked = expect(&asked, 200);
        assert_eq!(asked["objectives"].as_array().map(Vec::len), Some(customers.len()));
        let other =
            api.get(&format!("/api/v1/availability?period={period}&customer=globex"), &acme);
        assert_eq!(expect(&other, 404)["error"]["field"], "customer");
        let unknown =
            api.get(&format!("/api/v1/availability?period={period}&customer=nobody"), &editor);
        expect(&unknown, 404);
        // Staff see every customer's; customers see no incident list.
        let all = expect(&api.get(&format!("/api/v1/availability?period={period}"), &editor), 200);
        objective(&all, "globex", "uptime");
        let listed = api.get(&format!("/api/v1/incidents?from={}&to={}", utc(-60), utc(0)), &acme);
        expect(&listed, 403);
    }
}

/// Results of `web` every 30 seconds from 40 to 10 minutes ago, down from 30 to 20 minutes
/// ago, as `accord probe run --results` writes them.
fn web_results() -> Vec<Value> {
    (0..=60)
        .map(|idx| {
            let ago = 40 * 60 - idx * 30;
            let up = !(20 * 60..=30 * 60).contains(&ago);
            json!({
                "probe": "web", "affects": "hosting", "at": utc(-ago), "up": up,
                "retries": 2, "intervalSeconds": 30, "latencyMs": 12,
                "detail": if up { "200" } else { "connection refused" },
            })
        })
        .collect()
}

#[test]
fn pushed_probe_results_become_downtime_and_a_repeat_changes_nothing() {
    for backend in backends("api_availability_probe_results") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        let pusher = token(&backend, "pusher", "agent", &["--scope", "ingest"]);
        set_up(&api, &editor);
        expect(&send(&api, "PUT", "/api/v1/probes", &editor, "text/yaml", PROBES), 200);
        let results = web_results();

        // The first half as a probe runner's results file, the rest as a JSON array.
        let lines: Vec<String> = results[..30].iter().map(Value::to_string).collect();
        let ndjson = lines.join("\n") + "\n";
        let first =
            send(&api, "POST", "/api/v1/probe-results", &pusher, "application/x-ndjson", &ndjson);
        assert_eq!(
            expect(&first, 200)["recorded"]["web"],
            json!({ "accepted": 30, "ignored": 0, "down": true })
        );
        let rest =
            api.post("/api/v1/probe-results", &pusher, &Value::Array(results[30..].to_vec()));
        assert_eq!(
            expect(&rest, 200)["recorded"]["web"],
            json!({ "accepted": 31, "ignored": 0, "down": false })
        );
        // Delivered again: ignored, the figures unchanged.
        let again = api.post("/api/v1/probe-results", &pusher, &Value::Array(results.clone()));
        assert_eq!(
            expect(&again, 200)["recorded"]["web"],
            json!({ "accepted": 0, "ignored": 61, "down": false })
        );

        let answer = expect(
            &api.get(&format!("/api/v1/availability?period={}", this_month()), &editor),
            200,
        );
        let web = objective(&answer, "acme", "web");
        assert_eq!(web["status"], "measured", "{web}");
        // Down from the first failure to the first success after it.
        assert_eq!(web["downtime"]["seconds"], 630, "{web}");
        assert_eq!(web["budget"]["consumed"]["seconds"], 630, "{web}");
        let allowed = web["budget"]["allowed"]["seconds"].as_i64().expect("seconds");
        assert_eq!(web["budget"]["remaining"]["seconds"], allowed - 630, "{web}");
        // The same budget in /metrics, as a share left.
        let metrics = api.get("/metrics", &editor);
        let prefix = format!(
            "accord_error_budget_remaining_ratio{{customer=\"acme\",service=\"hosting\",objective=\"web\",period=\"{}\"}} ",
            this_month()
        );
        let left: f64 = metrics
            .body
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("{prefix} in {}", metrics.body))
            .parse()
            .expect("a number");
        #[allow(clippy::cast_precision_loss)]
        let expected = (allowed - 630) as f64 / allowed as f64;
        assert!((left - expected).abs() < 0.001, "{left} against {expected}");

        // Viewers and customers push nothing.
        let viewer = token(&backend, "wallboard", "viewer", &[]);
        expect(&api.post("/api/v1/probe-results", &viewer, &results[0]), 403);
    }
}

#[test]
fn probe_results_with_errors_are_refused_whole_with_the_field() {
    for backend in backends("api_availability_probe_result_errors") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        let pusher = token(&backend, "pusher", "agent", &["--scope", "ingest"]);
        let good = json!({ "probe": "web", "at": utc(-60), "up": true, "latencyMs": 5 });
        // Nothing defined yet: the probe is unknown.
        let refused = api.post("/api/v1/probe-results", &pusher, &good);
        assert_eq!(expect(&refused, 400)["error"]["field"], "probe");
        expect(&send(&api, "PUT", "/api/v1/probes", &editor, "text/yaml", PROBES), 200);

        let cases = [
            (
                json!({ "probe": "nightly", "at": utc(-60), "up": true }),
                "[1].probe",
                "no probe nightly",
            ),
            (
                json!({ "probe": "backup-job", "at": utc(-60), "up": true }),
                "[1].probe",
                "is a heartbeat",
            ),
            (json!({ "probe": "web", "at": utc(3600), "up": true }), "[1].at", "in the future"),
            (json!({ "probe": "web", "at": "noon", "up": true }), "[1].at", "instant"),
            (json!({ "probe": "web", "at": utc(-30), "up": "yes" }), "[1].up", "true or false"),
            (
                json!({ "probe": "web", "at": utc(-30), "up": true, "latencyMs": -3 }),
                "[1].latencyMs",
                "milliseconds",
            ),
            (
                json!({ "probe": "web", "at": utc(-30), "up": true, "status": 200 }),
                "[1].status",
                "unknown field",
            ),
        ];
        for (bad, field, words) in cases {
            let body = json!([good, bad]);
            let refused = expect(&api.post("/api/v1/probe-results", &pusher, &body), 400);
            assert_eq!(refused["error"]["field"], field, "{refused}");
            let message = refused["error"]["message"].as_str().expect("a message");
            assert!(message.contains(words), "{message}");
        }
        let ndjson = format!("{good}\n{{\"probe\": \"web\",\n");
        let refused =
            send(&api, "POST", "/api/v1/probe-results", &pusher, "application/x-ndjson", &ndjson);
        assert_eq!(expect(&refused, 400)["error"]["field"], "line 2");
        // Nothing of the refused bodies was recorded: the good result is still new.
        let taken = expect(&api.post("/api/v1/probe-results", &pusher, &good), 200);
        assert_eq!(taken["recorded"]["web"]["accepted"], 1, "{taken}");
    }
}

#[test]
fn an_agreement_terminated_during_the_period_still_answers_for_it() {
    for backend in backends("api_availability_terminated") {
        let api = Server::start(&backend);
        let editor = token(&backend, "editor", "agent", &[]);
        set_up(&api, &editor);
        let body = json!({ "action": "terminate", "revision": 1, "note": "contract ended" });
        expect(&api.post("/api/v1/agreements/sla/lifecycle", &editor, &body), 200);
        let answer = expect(
            &api.get(&format!("/api/v1/availability?period={}", this_month()), &editor),
            200,
        );
        objective(&answer, "acme", "uptime");
        // Never in force in an earlier year: nothing to answer for.
        let earlier = expect(&api.get("/api/v1/availability?period=2025", &editor), 200);
        assert_eq!(earlier["objectives"], json!([]), "{earlier}");
    }
}
