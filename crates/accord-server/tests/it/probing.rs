//! Continuous probes in `accord serve`: the server runs the stored probes on their intervals
//! against a target the test serves, records the results (an outage of the target shows as
//! downtime), and, with several servers on one PostgreSQL database, runs each probe on one
//! node at a time and moves it to another node when the one running it is killed, losing no
//! interval.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::http::{Reply, Server, token};
use crate::{Backend, backends};

/// What the server's probes check: `GET /health` answers the current status and the instant
/// of every request is kept.
struct Target {
    port: u16,
    status: Arc<AtomicU16>,
    requests: Arc<Mutex<Vec<Instant>>>,
    stopped: Arc<AtomicBool>,
}

impl Target {
    fn start() -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("address").port();
        let status = Arc::new(AtomicU16::new(200));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let (answering, counting, stopping) =
            (Arc::clone(&status), Arc::clone(&requests), Arc::clone(&stopped));
        thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                counting.lock().expect("not poisoned").push(Instant::now());
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let mut request = Vec::new();
                let mut buffer = [0_u8; 1024];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let status = answering.load(Ordering::Relaxed);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
            }
        });
        Target { port, status, requests, stopped }
    }

    fn requests(&self) -> Vec<Instant> {
        self.requests.lock().expect("not poisoned").clone()
    }

    fn n_requests(&self) -> usize {
        self.requests.lock().expect("not poisoned").len()
    }

    /// Waits until the target has had `n` requests in all.
    #[track_caller]
    fn wait_for(&self, n: usize, limit: Duration) {
        let started = Instant::now();
        while self.n_requests() < n {
            assert!(
                started.elapsed() < limit,
                "{} requests after {limit:?}, expected {n}",
                self.n_requests()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Relaxed);
    }
}

const DOCUMENTS: &str = r"apiVersion: accord/v1
kind: Service
metadata: { name: hosting }
spec: {}
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
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
      - name: web
        service: hosting
        target: 99.9
        window: month
        source: probe:web
";

/// Probes `web` every second against the target, down at the first failure.
fn probes(target: &Target) -> String {
    format!(
        "probes:\n  - {{ name: backup-job, affects: hosting, heartbeat: 5m }}\n  - {{ name: web, \
         affects: hosting, http: 'http://127.0.0.1:{}/health', interval: 1s, timeout: 1s, \
         retries: 0 }}\n",
        target.port
    )
}

#[track_caller]
fn expect(reply: &Reply, status: u16) -> Value {
    assert_eq!(reply.status, status, "{}", reply.body);
    reply.json()
}

fn send_yaml(server: &Server, path: &str, token: &str, yaml: &str) -> Reply {
    let bearer = format!("Bearer {token}");
    server.send(
        "PUT",
        path,
        &[("Authorization", &bearer), ("Content-Type", "text/yaml")],
        yaml.as_bytes(),
    )
}

/// The node running `web`, as `GET /api/v1/probes` says.
fn runner(server: &Server, token: &str) -> Option<String> {
    runners(server, token).remove("web").unwrap_or_else(|| panic!("no probe web"))
}

/// The node running each probe, by probe.
fn runners(server: &Server, token: &str) -> BTreeMap<String, Option<String>> {
    let probes = expect(&server.get("/api/v1/probes", token), 200);
    let probes = probes["probes"].as_array().expect("a list");
    probes
        .iter()
        .map(|probe| {
            let name = probe["name"].as_str().expect("a name").to_owned();
            (name, probe["runner"].as_str().map(str::to_owned))
        })
        .collect()
}

/// A server that runs probes, named `node`.
fn prober(backend: &Backend, node: &str, log: &str, capture: bool) -> Server {
    let environment = [("ACCORD_PROBES", "true"), ("ACCORD_NODE", node)];
    Server::start_with_env(backend, log, capture, &environment)
}

#[test]
fn the_server_runs_the_stored_probes_and_records_an_outage() {
    for backend in backends("probing_outage") {
        let target = Target::start();
        let admin = token(&backend, "admin", "admin", &[]);
        let server = prober(&backend, "node-1", "info", true);
        let bearer = format!("Bearer {admin}");
        let applied = server.send(
            "POST",
            "/api/v1/agreements/apply",
            &[("Authorization", &bearer), ("Content-Type", "text/yaml")],
            DOCUMENTS.as_bytes(),
        );
        expect(&applied, 200);
        for action in ["submit", "approve", "activate"] {
            let body = json!({ "action": action, "revision": 1 });
            expect(&server.post("/api/v1/agreements/sla/lifecycle", &admin, &body), 200);
        }
        expect(&send_yaml(&server, "/api/v1/probes", &admin, &probes(&target)), 200);

        // The first check comes within the interval, then one a second.
        target.wait_for(3, Duration::from_secs(10));
        assert_eq!(runner(&server, &admin).as_deref(), Some("node-1"));
        let heartbeat = expect(&server.get("/api/v1/probes", &admin), 200)["probes"][0].clone();
        assert_eq!(
            (&heartbeat["name"], &heartbeat["runner"]),
            (&json!("backup-job"), &Value::Null)
        );

        // Down for three checks, then up again.
        target.status.store(500, Ordering::Relaxed);
        let failing_from = target.n_requests();
        target.wait_for(failing_from + 3, Duration::from_secs(10));
        target.status.store(200, Ordering::Relaxed);
        let up_from = target.n_requests();
        target.wait_for(up_from + 2, Duration::from_secs(10));

        let period = jiff::Timestamp::now().strftime("%Y-%m").to_string();
        let started = Instant::now();
        let web = loop {
            let answer =
                expect(&server.get(&format!("/api/v1/availability?period={period}"), &admin), 200);
            let web = answer["objectives"]
                .as_array()
                .expect("a list")
                .iter()
                .find(|objective| objective["objective"] == "web")
                .unwrap_or_else(|| panic!("web in {answer}"))
                .clone();
            if web["downtime"]["seconds"].as_i64().is_some_and(|seconds| seconds > 0) {
                break web;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "no downtime recorded: {web}");
            thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(web["status"], "measured", "{web}");
        // From the first failure to the first success: three or four checks a second apart.
        let downtime = web["downtime"]["seconds"].as_i64().expect("seconds");
        assert!((2..=6).contains(&downtime), "{web}");

        let metrics = server.get("/metrics", &admin).body;
        assert!(metrics.contains("accord_probe_runs_total{outcome=\"down\"} "), "{metrics}");
        assert!(!metrics.contains("accord_probe_runs_total{outcome=\"down\"} 0\n"), "{metrics}");

        // A probe taken out of the definitions is no longer run.
        let only_heartbeat = "probes:\n  - { name: backup-job, affects: hosting, heartbeat: 5m }\n";
        expect(&send_yaml(&server, "/api/v1/probes", &admin, only_heartbeat), 200);
        thread::sleep(Duration::from_millis(2500));
        let n_after_removal = target.n_requests();
        thread::sleep(Duration::from_millis(2000));
        assert_eq!(target.n_requests(), n_after_removal, "the removed probe still runs");

        let log = server.stop();
        assert!(log.contains("probe is down"), "{log}");
        assert!(log.contains("probe is up again"), "{log}");
    }
}

#[test]
#[expect(clippy::print_stderr, reason = "a skipped test says so on its stderr")]
fn each_probe_runs_on_one_node_and_moves_when_that_node_dies() {
    let Some(backend) = backends("probing_nodes")
        .into_iter()
        .find(|backend| matches!(backend, Backend::Postgres { .. }))
    else {
        eprintln!("skipping: several nodes need PostgreSQL (ACCORD_TEST_POSTGRES_URL)");
        return;
    };
    let target = Target::start();
    let admin = token(&backend, "admin", "admin", &[]);
    let nodes = ["node-1", "node-2", "node-3"];
    let mut servers: Vec<Option<Server>> =
        nodes.iter().map(|node| Some(prober(&backend, node, "warn", false))).collect();
    let first = servers[0].as_ref().expect("running");
    // Besides web, two probes that resolve a name and touch no target: three probes share
    // three nodes, one each. Web every 6 s: longer than the 5 s lease, as real intervals are,
    // so a takeover loses no interval.
    let definitions = probes(&target).replace("interval: 1s", "interval: 6s")
        + "  - { name: dns-1, affects: hosting, dns: localhost, interval: 1s }\n"
        + "  - { name: dns-2, affects: hosting, dns: localhost, interval: 1s }\n";
    expect(&send_yaml(first, "/api/v1/probes", &admin, &definitions), 200);
    let spread = |server: &Server, n_nodes: usize| {
        let started = Instant::now();
        loop {
            let runners = runners(server, &admin);
            let probes: Vec<&Option<String>> = runners
                .iter()
                .filter(|(name, _)| *name != "backup-job")
                .map(|(_, runner)| runner)
                .collect();
            let nodes: BTreeSet<&str> = probes.iter().filter_map(|node| node.as_deref()).collect();
            if probes.iter().all(|node| node.is_some()) && nodes.len() == n_nodes {
                return runners;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "not spread over {n_nodes} nodes: {runners:?}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    };
    spread(first, 3);

    // Three nodes, web on one: one check every 6 s, not two or three.
    target.wait_for(1, Duration::from_secs(10));
    let watch_from = Instant::now();
    thread::sleep(Duration::from_secs(12));
    let n_watched = target
        .requests()
        .iter()
        .filter(|at| **at >= watch_from && **at < watch_from + Duration::from_secs(12))
        .count();
    assert!((1..=3).contains(&n_watched), "{n_watched} checks in 12 s at a 6 s interval");

    // Kill the node running it (SIGKILL: its lease is not given up, it runs out).
    let running = runner(first, &admin).expect("a node runs web");
    let killed_idx = nodes.iter().position(|node| **node == running).expect("a known node");
    drop(servers[killed_idx].take());
    let killed_at = Instant::now();
    let survivor = servers.iter().flatten().next().expect("two nodes left");
    let taken_over = loop {
        let now_running = runner(survivor, &admin);
        if let Some(node) = now_running.filter(|node| *node != running) {
            break node;
        }
        assert!(killed_at.elapsed() < Duration::from_secs(15), "nobody took web over");
        thread::sleep(Duration::from_millis(100));
    };
    assert_ne!(taken_over, running);
    // Every probe runs on one of the two nodes left.
    let runners = spread(survivor, 2);
    assert!(runners.values().flatten().all(|node| *node != running), "{runners:?}");
    let n_before = target.n_requests();
    target.wait_for(n_before + 2, Duration::from_secs(20));

    // No interval lost: no two checks further apart than the interval plus the lease's five
    // seconds plus a second, within the two intervals the store counts as a gap in the data.
    let requests = target.requests();
    let widest = requests.windows(2).map(|pair| pair[1] - pair[0]).max().expect("checks");
    assert!(widest <= Duration::from_secs(12), "{widest:?} between two checks");
    // And still one node at a time after the move.
    let recent: Vec<&Instant> =
        requests.iter().filter(|at| **at >= killed_at + Duration::from_secs(12)).collect();
    if let (Some(first), Some(last)) = (recent.first(), recent.last()) {
        let span = (**last - **first).as_secs_f64();
        #[expect(clippy::cast_precision_loss, reason = "a handful of checks")]
        let n_recent = recent.len() as f64;
        assert!(n_recent <= span / 6.0 + 2.0, "{n_recent} checks in {span:.1} s after the move");
    }
    eprintln!(
        "web ran on {running}, then on {taken_over}; widest gap {widest:?}; {} checks in all",
        requests.len()
    );
    drop(servers);
}
