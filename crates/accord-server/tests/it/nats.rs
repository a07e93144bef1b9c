//! `accord serve --nats`: ticket events and probe results consumed from NATS JetStream.
//!
//! The test publishes a million events (`ACCORD_TEST_NATS_EVENTS` sets another count), kills
//! the consumer with SIGKILL midway, restarts it and checks that every event is in the log
//! exactly once, then that malformed messages are terminated without blocking the stream.
//!
//! It needs `nats-server -js` on 127.0.0.1:4222, and is skipped with a notice when none
//! answers, except on CI (`CI=true`), where that fails. Each run uses its own stream and
//! subjects, deleted at the end.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use accord_store::{Location, Store};
use async_nats::jetstream::{self, stream};
use serde_json::{Value, json};

use crate::Backend;
use crate::http::{Server, token};

const NATS: &str = "127.0.0.1:4222";

/// Whether NATS answers; a missing server skips the test, except on CI.
#[expect(clippy::print_stderr, reason = "a skipped test is said on the test's stderr")]
fn nats_is_running() -> bool {
    let address: SocketAddr = NATS.parse().expect("an address");
    if TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "NATS is not running on {NATS}: start `nats-server -js -a 127.0.0.1 -p 4222`"
    );
    eprintln!("skipping the NATS test: no server on {NATS} (nats-server -js -a 127.0.0.1)");
    false
}

/// A stream and subjects of this run only, deleted when dropped.
struct Run {
    runtime: tokio::runtime::Runtime,
    context: jetstream::Context,
    stream: String,
    prefix: String,
}

impl Run {
    fn new() -> Run {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_nanos();
        let tag = format!("{}_{nanos}", std::process::id());
        // A worker thread keeps the connection served between calls.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let context = runtime.block_on(async {
            jetstream::new(async_nats::connect(format!("nats://{NATS}")).await.expect("NATS"))
        });
        Run { runtime, context, stream: format!("ACCORD_IT_{tag}"), prefix: format!("it{tag}") }
    }

    fn events_subject(&self) -> String {
        format!("{}.events", self.prefix)
    }

    fn probe_results_subject(&self) -> String {
        format!("{}.probe-results", self.prefix)
    }

    /// The server's NATS settings for this run, with a URL holding a password NATS ignores
    /// (it has no authentication), which must never be logged.
    fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ACCORD_NATS", format!("nats://accord:hunter2@{NATS}")),
            ("ACCORD_NATS_STREAM", self.stream.clone()),
            ("ACCORD_NATS_EVENTS_SUBJECT", self.events_subject()),
            ("ACCORD_NATS_PROBE_RESULTS_SUBJECT", self.probe_results_subject()),
            ("ACCORD_NATS_CONSUMER", "accord-it".to_owned()),
            // Messages in hand at the kill come back after this long.
            ("ACCORD_NATS_ACK_WAIT_SECONDS", "5".to_owned()),
        ]
    }

    /// Creates the stream as the server would, so messages can be published before it starts.
    fn create_stream(&self) {
        self.runtime
            .block_on(self.context.create_stream(stream::Config {
                name: self.stream.clone(),
                subjects: vec![self.events_subject(), self.probe_results_subject()],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::WorkQueue,
                ..Default::default()
            }))
            .expect("creating the stream");
    }

    /// Publishes each payload to `subject` and waits until JetStream has stored them all.
    fn publish(&self, subject: &str, payloads: impl IntoIterator<Item = Vec<u8>>) {
        self.runtime.block_on(async {
            let mut stored = Vec::new();
            for payload in payloads {
                let ack = self
                    .context
                    .publish(subject.to_owned(), payload.into())
                    .await
                    .expect("publishing");
                stored.push(ack);
                // A window of acknowledgements in flight.
                if stored.len() >= 64 {
                    for ack in stored.drain(..) {
                        ack.await.expect("JetStream stored the message");
                    }
                }
            }
            for ack in stored {
                ack.await.expect("JetStream stored the message");
            }
        });
    }

    /// (messages delivered but not acknowledged, messages not yet delivered) of a consumer.
    fn pending(&self, consumer: &str) -> (usize, u64) {
        self.runtime.block_on(async {
            let stream = self.context.get_stream(&self.stream).await.expect("the stream");
            let info = stream.consumer_info(consumer).await.expect("the consumer");
            (info.num_ack_pending, info.num_pending)
        })
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.runtime.block_on(self.context.delete_stream(&self.stream));
    }
}

/// Ticket `n / 4`'s event `n % 4`: created, an agent's comment, a status change, solved.
fn event(n: u64) -> Value {
    let ticket = format!("T-{}", n / 4);
    let minute = n % 4 * 7;
    let at = format!("2026-11-02T09:{minute:02}:00Z");
    let id = format!("e-{n}");
    match n % 4 {
        0 => json!({"id": id, "ticket": ticket, "type": "created", "at": at, "customer": "acme",
                    "service": "service-desk", "priority": "P2"}),
        1 => json!({"id": id, "ticket": ticket, "type": "comment", "at": at, "author": "agent"}),
        2 => json!({"id": id, "ticket": ticket, "type": "updated", "at": at,
                    "status": "waiting_on_customer"}),
        _ => json!({"id": id, "ticket": ticket, "type": "solved", "at": at}),
    }
}

/// The log head `/readyz` reports.
fn log_head(server: &Server) -> u64 {
    let ready = server.request("GET", "/readyz", None, None);
    ready.json()["eventLogHead"].as_u64().expect("eventLogHead")
}

/// Waits until the log head reaches `head`, for at most `limit`.
#[track_caller]
fn wait_for_head(server: &Server, head: u64, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let now = log_head(server);
        if now >= head {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "the log head is {now} after {limit:?}, expected {head}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Publishes the events in messages of 1,000, kills the consumer with SIGKILL once 40 % are
/// in the log, restarts it, and checks that the log holds every event exactly once. Then a
/// message that is not JSON, one with an invalid event, a probe result for a probe that is
/// not defined, a valid probe result and a message sent again: the first three are
/// terminated and logged with their subject, and nothing is left pending.
#[test]
#[expect(clippy::print_stderr, reason = "the consumer's rate is reported on the test's stderr")]
fn events_published_to_jetstream_are_applied_exactly_once_across_a_kill() {
    if !nats_is_running() {
        return;
    }
    let n_events: u64 = std::env::var("ACCORD_TEST_NATS_EVENTS")
        .map_or(1_000_000, |count| count.parse().expect("ACCORD_TEST_NATS_EVENTS: a count"));
    let per_message = 1_000;
    let run = Run::new();
    run.create_stream();
    let message = |first: u64| {
        let events: Vec<Value> = (first..(first + per_message).min(n_events)).map(event).collect();
        serde_json::to_vec(&events).expect("JSON")
    };
    let started = Instant::now();
    run.publish(&run.events_subject(), (0..n_events).step_by(per_message as usize).map(message));
    eprintln!("published {n_events} events in {:?}", started.elapsed());

    let backend = Backend::Sqlite(tempfile::tempdir().expect("a temporary directory"));
    let agent = token(&backend, "nats-test", "agent", &[]);
    let environment = run.environment();
    let environment: Vec<(&str, &str)> =
        environment.iter().map(|(name, value)| (*name, value.as_str())).collect();
    let server = Server::start_with_env(&backend, "warn", false, &environment);
    let started = Instant::now();
    let first_run = wait_for_head(&server, n_events * 2 / 5, Duration::from_secs(120));
    let head_at_kill = log_head(&server);
    drop(server); // SIGKILL
    eprintln!(
        "first run: {head_at_kill} events in {first_run:?} ({:.0} events/s), killed",
        head_at_kill as f64 / first_run.as_secs_f64()
    );
    assert!(head_at_kill < n_events, "the consumer finished before the kill; publish more");

    let server = Server::start_with_env(&backend, "info", true, &environment);
    let second_run = wait_for_head(&server, n_events, Duration::from_secs(120));
    eprintln!("second run: the rest in {second_run:?}; {:?} in all", started.elapsed());

    // Malformed messages do not block the stream; a message sent again changes nothing.
    let probes =
        "probes:\n  - { name: web, affects: hosting, http: 'http://127.0.0.1:9/health' }\n";
    let put = server.send(
        "PUT",
        "/api/v1/probes",
        &[("Authorization", &format!("Bearer {agent}")), ("Content-Type", "text/yaml")],
        probes.as_bytes(),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    let events = run.events_subject();
    let invalid = json!([{"id": "bad", "ticket": "T-bad", "type": "created", "at": "noon"}]);
    run.publish(&events, [b"{not json".to_vec(), invalid.to_string().into_bytes(), message(0)]);
    let at = jiff::Timestamp::now().to_string();
    let result = |probe: &str| json!({"probe": probe, "at": at, "up": true, "latencyMs": 12});
    run.publish(
        &run.probe_results_subject(),
        [result("db").to_string().into_bytes(), result("web").to_string().into_bytes()],
    );
    let started = Instant::now();
    while run.pending("accord-it-events") != (0, 0)
        || run.pending("accord-it-probe-results") != (0, 0)
    {
        assert!(started.elapsed() < Duration::from_secs(30), "messages are still pending");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(log_head(&server), n_events, "a message sent again added events");
    let log = server.stop();
    assert!(!log.contains("hunter2"), "the NATS password was logged:\n{log}");
    let terminated: Vec<&str> =
        log.lines().filter(|line| line.contains("message refused and terminated")).collect();
    assert_eq!(terminated.len(), 3, "{log}");
    // The two consumers run side by side: the lines come in any order.
    let probe_results = run.probe_results_subject();
    for (subject, reason) in
        [(&events, "invalid JSON"), (&events, "[0].at"), (&probe_results, "no probe db")]
    {
        assert!(
            terminated.iter().any(|line| line.contains(subject.as_str()) && line.contains(reason)),
            "no line names {subject} and {reason}:\n{log}"
        );
    }

    // Every event is in the log once, at positions 1 to n_events.
    let Backend::Sqlite(dir) = &backend else { unreachable!("SQLite") };
    let positions = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            let store = Store::open(&Location::Sqlite(dir.path().join("accord.db")))
                .await
                .expect("the store");
            let mut seen = vec![false; n_events as usize];
            let mut after = 0;
            loop {
                let page = store.events_after(after, 10_000).await.expect("a page of the log");
                let Some(last) = page.last() else { break };
                for stored in &page {
                    assert_eq!(stored.position, after + 1, "a gap in the log");
                    after = stored.position;
                    let n: usize = stored.id["e-".len()..].parse().expect("an id e-N");
                    assert!(!seen[n], "{} is in the log twice", stored.id);
                    seen[n] = true;
                }
                assert_eq!(after, last.position);
            }
            store.close().await;
            assert!(seen.iter().all(|seen| *seen), "an event is missing");
            after
        });
    assert_eq!(positions, n_events);
}
