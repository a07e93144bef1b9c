//! `accord serve` over real HTTP: health, authentication, event ingestion with its errors,
//! tenant isolation, graceful shutdown, and durability when the server is killed mid-stream.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::backends;
use crate::http::{Server, activate_examples, request, token};

fn created(id: &str, ticket: &str, customer: &str, at: &str) -> Value {
    json!({"id": id, "ticket": ticket, "type": "created", "at": at, "customer": customer,
           "service": "service-desk", "priority": "P2"})
}

#[test]
fn health_and_readiness_need_no_token_and_unknown_routes_are_json_404s() {
    for backend in backends("server_health") {
        let server = Server::start(&backend);
        let health = server.request("GET", "/healthz", None, None);
        assert_eq!((health.status, health.json()["status"].clone()), (200, json!("ok")));
        let ready = server.request("GET", "/readyz", None, None);
        assert_eq!((ready.status, ready.json()["status"].clone()), (200, json!("ready")));
        let missing = server.request("GET", "/api/v1/nothing", None, None);
        assert_eq!(missing.status, 404);
        assert_eq!(missing.json()["error"]["code"], "not_found");
    }
}

#[test]
fn events_need_an_ingest_token_and_are_counted_once() {
    for backend in backends("server_events") {
        let agent = token(&backend, "helpdesk", "agent", &["--scope", "ingest", "--scope", "read"]);
        let viewer = token(&backend, "wallboard", "viewer", &[]);
        let server = Server::start(&backend);
        let event = created("e-1", "T-1", "acme", "2026-11-02T09:00:00+01:00").to_string();

        let anonymous = server.request("POST", "/api/v1/events", None, Some(&event));
        assert_eq!(anonymous.status, 401, "{}", anonymous.body);
        assert!(anonymous.head.to_ascii_lowercase().contains("www-authenticate: bearer"));
        let forged = server.request("POST", "/api/v1/events", Some("acc_forged"), Some(&event));
        assert_eq!(forged.status, 401);
        let read_only = server.request("POST", "/api/v1/events", Some(&viewer), Some(&event));
        assert_eq!(
            (read_only.status, read_only.json()["error"]["code"].clone()),
            (403, json!("forbidden"))
        );

        let first = server.request("POST", "/api/v1/events", Some(&agent), Some(&event));
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(
            (first.json()["new"].clone(), first.json()["duplicates"].clone()),
            (json!(1), json!(0))
        );
        // A retried POST never double-counts.
        let retry = server.request("POST", "/api/v1/events", Some(&agent), Some(&event));
        assert_eq!(
            (retry.json()["new"].clone(), retry.json()["duplicates"].clone()),
            (json!(0), json!(1))
        );
        assert_eq!(retry.json()["events"][0]["position"], first.json()["events"][0]["position"]);

        // A batch with one bad event: 400 naming it, and nothing of the batch is written.
        let batch = json!([
            created("e-2", "T-2", "acme", "2026-11-02T10:00:00+01:00"),
            {"id": "e-3", "ticket": "T-2", "type": "comment", "at": "yesterday", "author": "agent"},
        ])
        .to_string();
        let bad = server.request("POST", "/api/v1/events", Some(&agent), Some(&batch));
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert_eq!(bad.json()["error"]["field"], "[1].at");
        let log = server.request("GET", "/api/v1/events", Some(&agent), None);
        assert_eq!(log.json()["events"].as_array().map(Vec::len), Some(1), "{}", log.body);

        // The same id with other content is a conflict.
        let changed = created("e-1", "T-1", "acme", "2026-11-02T09:30:00+01:00").to_string();
        let conflict = server.request("POST", "/api/v1/events", Some(&agent), Some(&changed));
        assert_eq!(conflict.status, 409, "{}", conflict.body);

        // Bad JSON names the place; a body over the limit is refused.
        let broken = server.request("POST", "/api/v1/events", Some(&agent), Some("{\"id\": "));
        assert_eq!(broken.status, 400);
        assert!(broken.json()["error"]["message"].as_str().unwrap_or("").contains("line 1 column"));
        // A body declared larger than the limit is refused before it is read.
        let mut stream = TcpStream::connect(&server.address).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let head = format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {agent}\r\nContent-Length: 100000000\r\n\r\n["
        );
        stream.write_all(head.as_bytes()).expect("send");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        assert!(response.starts_with("HTTP/1.1 413"), "{response}");
        assert!(response.contains("\"code\":\"body_too_large\""), "{response}");
        assert_eq!(server.terminate().code(), Some(0));
    }
}

#[test]
fn a_customer_token_sees_only_its_own_tickets() {
    for backend in backends("server_tenancy") {
        let agent = token(&backend, "helpdesk", "agent", &[]);
        let acme = token(&backend, "acme-portal", "customer", &["--customer", "acme"]);
        let server = Server::start(&backend);
        let events = json!([
            created("a-1", "T-ACME", "acme", "2026-11-02T09:00:00+01:00"),
            created("g-1", "T-GLOBEX", "globex", "2026-11-02T09:00:00+01:00"),
        ])
        .to_string();
        assert_eq!(
            server.request("POST", "/api/v1/events", Some(&agent), Some(&events)).status,
            200
        );
        let own = server.request("GET", "/api/v1/tickets/T-ACME/events", Some(&acme), None);
        assert_eq!(own.status, 200, "{}", own.body);
        assert_eq!(own.json()["customer"], "acme");
        let foreign = server.request("GET", "/api/v1/tickets/T-GLOBEX/events", Some(&acme), None);
        assert_eq!(foreign.status, 404);
        assert!(!foreign.body.contains("globex"), "{}", foreign.body);
        let log = server.request("GET", "/api/v1/events", Some(&acme), None);
        assert_eq!(log.status, 403);
        assert!(!log.body.contains("globex"));
        let staff = server.request("GET", "/api/v1/tickets/T-GLOBEX/events", Some(&agent), None);
        assert_eq!(staff.status, 200);
    }
}

/// A client posts events one by one while the server is killed with SIGKILL; after a restart
/// every event that got a success response is in the log, and none is there twice.
#[test]
fn events_acknowledged_before_a_kill_survive_it_and_none_is_doubled() {
    for backend in backends("server_kill") {
        let agent = token(&backend, "helpdesk", "agent", &[]);
        let server = Server::start(&backend);
        let address = server.address.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let posting = {
            let stop = Arc::clone(&stop);
            let agent = agent.clone();
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let id = format!("k-{n}");
                    let event =
                        created(&id, &format!("T-{n}"), "acme", "2026-11-02T09:00:00+01:00");
                    let reply = std::panic::catch_unwind(|| {
                        request(
                            &address,
                            "POST",
                            "/api/v1/events",
                            Some(&agent),
                            Some(&event.to_string()),
                        )
                    });
                    match reply {
                        Ok(reply) if reply.status == 200 => acknowledged.push(id),
                        _ => break,
                    }
                }
                acknowledged
            })
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(700) {
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(server); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        let acknowledged = posting.join().expect("the client thread");
        assert!(acknowledged.len() > 10, "only {} events were acknowledged", acknowledged.len());

        let server = Server::start(&backend);
        let mut ids = Vec::new();
        let mut after = 0u64;
        loop {
            let page = server.request(
                "GET",
                &format!("/api/v1/events?after={after}&limit=10000"),
                Some(&agent),
                None,
            );
            assert_eq!(page.status, 200, "{}", page.body);
            let page = page.json();
            let events = page["events"].as_array().cloned().unwrap_or_default();
            if events.is_empty() {
                break;
            }
            for event in &events {
                ids.push(event["event"]["id"].as_str().unwrap_or_default().to_owned());
            }
            after = page["next"].as_u64().expect("next");
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "an event is in the log twice");
        for id in &acknowledged {
            assert!(unique.binary_search(id).is_ok(), "acknowledged event {id} was lost");
        }
        // At most the one request in flight at the kill may be in the log unacknowledged.
        assert!(
            ids.len() <= acknowledged.len() + 1,
            "{} in the log, {} acknowledged",
            ids.len(),
            acknowledged.len()
        );
    }
}

/// `accord demo` seeds a provider and serves it: the printed token reads the seeded log, and
/// the printed users are there.
#[test]
fn the_demo_serves_a_seeded_provider() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("demo");
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["demo", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("ACCORD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("accord demo starts");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut token = None;
    let mut address = None;
    let mut users = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("a line");
        if let Some(rest) = line.strip_prefix("helpdesk token (ingest, read): ") {
            token = Some(rest.trim().to_owned());
        }
        if line.starts_with("  ") && line.contains(" / demo-") {
            users.push(line.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("accord listening on http://") {
            address = Some(rest.trim().to_owned());
            break;
        }
    }
    let (token, address) = (token.expect("a token line"), address.expect("the listening line"));
    assert_eq!(users.len(), 4, "{users:?}");
    let ready = request(&address, "GET", "/readyz", None, None);
    let head = ready.json()["eventLogHead"].as_u64().unwrap_or(0);
    assert!(head > 10_000, "the seeded log holds {head} events");
    let page = request(&address, "GET", "/api/v1/events?limit=2", Some(&token), None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.json()["events"].as_array().map(Vec::len), Some(2));
    // Months of history: breaches, and each availability objective's budget this month.
    let metrics = request(&address, "GET", "/metrics", Some(&token), None);
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    let value = |prefix: &str| -> Vec<f64> {
        metrics
            .body
            .lines()
            .filter(|line| line.starts_with(prefix))
            .filter_map(|line| line.rsplit(' ').next()?.parse().ok())
            .collect()
    };
    let breaches = value("accord_breaches{metric=\"resolution\"}");
    assert!(breaches.first().is_some_and(|n| *n > 0.0), "{}", metrics.body);
    let budgets = value("accord_error_budget_remaining_ratio{customer=\"acme\"");
    assert!(!budgets.is_empty() && budgets.iter().all(|left| *left <= 1.0), "{}", metrics.body);
    let availability = value("accord_availability_ratio{customer=\"acme\"");
    assert!(availability.iter().all(|ratio| (0.5..=1.0).contains(ratio)), "{}", metrics.body);
    // Last month's report of a customer, from the seeded history, in every format.
    let last_month = jiff::Zoned::now()
        .date()
        .first_of_month()
        .yesterday()
        .expect("a day before")
        .strftime("%Y-%m")
        .to_string();
    for format in ["pdf", "html", "csv", "json"] {
        let path = format!("/api/v1/reports?customer=acme&period={last_month}&format={format}");
        let report = request(&address, "GET", &path, Some(&token), None);
        assert_eq!(report.status, 200, "{}", report.body);
        assert!(report.bytes.len() > 2_000, "{format}: {} bytes", report.bytes.len());
    }
    // A stop request ends the demo, simulated helpdesk and all.
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    assert!(sent.success());
    let status = child.wait().expect("the demo exits");
    assert!(status.success(), "{status}");
}

/// The clocks of the logged tickets over the stored, active agreements: a P1 of acme's, open
/// far past its target, is breached; a customer sees only its own tickets' clocks.
#[test]
fn clocks_are_served_over_the_active_agreements_and_filtered_by_customer() {
    for backend in backends("server_clocks") {
        activate_examples(&backend, &["corporate-sla", "acme-sla"], None);
        let agent = token(&backend, "helpdesk", "agent", &[]);
        let acme = token(&backend, "acme-portal", "customer", &["--customer", "acme"]);
        let server = Server::start(&backend);
        // The agreements are active from now on: the tickets come after.
        let opened = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
        let mut events = json!([
            created("a-1", "T-ACME", "acme", &opened),
            created("g-1", "T-GLOBEX", "globex", &opened),
        ]);
        events[0]["priority"] = json!("P1");
        assert_eq!(server.post("/api/v1/events", &agent, &events).status, 200);
        let at = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 8)).to_string();
        let at = at.as_str();
        let ticket = server.get(&format!("/api/v1/tickets/T-ACME/clocks?at={at}"), &agent);
        assert_eq!(ticket.status, 200, "{}", ticket.body);
        let clocks = ticket.json()["clocks"].as_array().cloned().unwrap_or_default();
        assert!(
            clocks
                .iter()
                .any(|clock| clock["metric"] == "resolution" && clock["state"] == "breached"),
            "{}",
            ticket.body
        );
        let breached = server.get(&format!("/api/v1/clocks?state=breached&at={at}"), &agent);
        assert_eq!(breached.status, 200, "{}", breached.body);
        assert!(breached.json()["total"].as_u64().unwrap_or(0) >= 1, "{}", breached.body);
        // Paging: one clock per page, and the cursor goes on.
        let first = server.get(&format!("/api/v1/clocks?limit=1&at={at}"), &agent).json();
        let total = first["total"].as_u64().unwrap_or(0);
        assert!(total >= 2, "{first}");
        let next = first["next"].as_str().expect("a next cursor").to_owned();
        let second = server.get(&format!("/api/v1/clocks?limit=1&cursor={next}&at={at}"), &agent);
        assert_ne!(second.json()["clocks"][0], first["clocks"][0]);
        // The customer sees its ticket and nothing of globex's.
        let own = server.get(&format!("/api/v1/clocks?at={at}"), &acme);
        assert_eq!(own.status, 200);
        assert!(own.body.contains("T-ACME") && !own.body.contains("T-GLOBEX"), "{}", own.body);
        let foreign = server.get("/api/v1/tickets/T-GLOBEX/clocks", &acme);
        assert_eq!(foreign.status, 404);
        let other = server.get("/api/v1/clocks?customer=globex", &acme);
        assert_eq!(other.status, 404);
        // The catalog: a customer sees its own record (staff all three); everyone sees the
        // maintenance schedule.
        let customers = server.get("/api/v1/customers", &acme).json();
        let names: Vec<&str> = customers["customers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(names, ["acme"]);
        assert_eq!(
            server.get("/api/v1/customers", &agent).json()["customers"].as_array().map(Vec::len),
            Some(3)
        );
        let maintenance = server.get("/api/v1/maintenance", &acme).json();
        let windows = maintenance["maintenance"].as_array().cloned().unwrap_or_default();
        assert!(
            windows.iter().any(|window| window["recurring"] == true
                && window["next"].as_array().is_some_and(|next| !next.is_empty())),
            "{maintenance}"
        );
        // /metrics counts the clocks now: both tickets' resolution clocks run.
        let metrics = server.get("/metrics", &agent);
        assert_eq!(metrics.status, 200);
        assert!(
            metrics.body.contains("accord_clocks{metric=\"resolution\",state="),
            "{}",
            metrics.body
        );
        assert!(
            metrics.body.contains("accord_events_ingested_total{outcome=\"new\"} 2"),
            "{}",
            metrics.body
        );
        assert_eq!(server.get("/metrics", &acme).status, 403);
        let bad = server.get("/api/v1/clocks?state=late", &agent);
        assert_eq!((bad.status, bad.json()["error"]["field"].clone()), (400, json!("state")));
    }
}
