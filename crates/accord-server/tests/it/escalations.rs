//! Escalations end to end: a P1 ticket's response clock runs past its rungs and breaches while
//! a real server watches; the messages arrive at a real SMTP server (Python's `aiosmtpd`,
//! writing a maildir) and a local HTTP receiver, each once, signed, retried after a failure,
//! and held for quiet hours where the ladder says so.
//!
//! Without `aiosmtpd` the test says so and is skipped; with `CI=true` it fails instead.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{KeyInit as _, Mac as _};
use serde_json::{Value, json};

use crate::backends;
use crate::http::{Server, token};

const SECRET: &str = "test-webhook-key";

/// A local SMTP server writing what it receives into a maildir.
pub(crate) struct SmtpSink {
    child: Child,
    pub(crate) port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts `aiosmtpd`; `None` (skipped, said) when it is not installed outside CI.
    #[expect(clippy::print_stderr, reason = "a skipped test is said on the test's stderr")]
    pub(crate) fn start() -> Option<SmtpSink> {
        let python = ["python3", "/usr/bin/python3"].into_iter().find(|python| {
            Command::new(python)
                .args(["-c", "import aiosmtpd"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        });
        let Some(python) = python else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "aiosmtpd is not installed (pip install aiosmtpd): CI runs the escalation test"
            );
            eprintln!("skipped: aiosmtpd is not installed (pip install aiosmtpd)");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let maildir = tempfile::tempdir().expect("temp dir");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "aiosmtpd did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(SmtpSink { child, port, maildir })
    }

    /// The messages received, as text.
    pub(crate) fn messages(&self) -> Vec<String> {
        let new = self.maildir.path().join("mail").join("new");
        let mut messages: Vec<String> = std::fs::read_dir(new)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        messages.sort();
        messages
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request the receiver got: its headers (lowercase names) and body.
#[derive(Clone, Debug)]
struct Received {
    headers: BTreeMap<String, String>,
    body: String,
}

/// A local HTTP server that answers 200, or 500 to its first request when `fail_first`.
fn receiver(fail_first: bool) -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let kept = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
            let mut headers = BTreeMap::new();
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
                }
            }
            let length: usize =
                headers.get("content-length").and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut all = kept.lock().expect("the list");
            let status =
                if fail_first && all.is_empty() { "500 Internal Server Error" } else { "200 OK" };
            all.push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
            drop(all);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (port, received)
}

/// The documents: a 24x7 calendar, one open half an hour a day six hours from now, and an SLA
/// whose P1 response target is 8 seconds, with a ladder at 25 % and 50 %.
fn documents(later_hour: u32) -> String {
    let later = format!("{later_hour:02}:00-{later_hour:02}:30");
    format!(
        r"apiVersion: accord/v1
kind: Calendar
metadata: {{ name: always }}
spec: {{ timeZone: UTC, hours: 24x7 }}
---
apiVersion: accord/v1
kind: Calendar
metadata: {{ name: later }}
spec:
  timeZone: UTC
  hours: {{ daily: ['{later}'] }}
---
apiVersion: accord/v1
kind: Service
metadata: {{ name: desk }}
spec: {{}}
---
apiVersion: accord/v1
kind: Customer
metadata: {{ name: acme }}
spec:
  timeZone: UTC
  contacts:
    - {{ name: Petra Schmidt, email: petra@acme.example, roles: [escalation] }}
---
apiVersion: accord/v1
kind: Agreement
metadata: {{ name: sla }}
spec:
  type: sla
  level: customer
  parties: {{ provider: Northwind, customer: acme }}
  term: {{ effectiveFrom: 2026-01-01, timeZone: UTC, review: {{ next: 2030-06-01 }} }}
  objectives:
    calendar: always
    hours: calendar
    response:
      P1: 8s
      P2: 1h
    availability:
      - {{ name: uptime, service: desk, target: 99.9, window: month, source: incidents }}
  escalation:
    - at: 25%
      notify: [lead, hook]
    - at: 50%
      notify: [customer:escalation, night-owl, nobody-known]
      quietHours: respect
"
    )
}

fn settings(hook_port: u16) -> String {
    format!(
        "recipients:
  - {{ name: lead, email: lead@northwind.example }}
  - {{ name: hook, webhook: 'http://127.0.0.1:{hook_port}/accord' }}
  - {{ name: night-owl, email: owl@northwind.example, workingHours: later }}
alerts:
  page: [hook]
templates:
  subject: '[{{{{ priority }}}}] {{{{ ticket }}}} {{{{ metric }}}} {{{{ threshold }}}}'
"
    )
}

/// Applies the documents and the notification settings, activates the SLA, and returns the
/// hour (UTC) the `later` calendar opens.
fn set_up(api: &Server, admin: &str, hook_port: u16) -> u32 {
    let now = jiff::Timestamp::now();
    let hour = now.to_zoned(jiff::tz::TimeZone::UTC).hour();
    let later_hour = u32::try_from((i32::from(hour) + 6) % 24).expect("an hour");
    let apply = api.send(
        "POST",
        "/api/v1/agreements/apply",
        &[("Authorization", &format!("Bearer {admin}")), ("Content-Type", "text/yaml")],
        documents(later_hour).as_bytes(),
    );
    assert_eq!(apply.status, 200, "{}", apply.body);
    for action in ["submit", "approve", "activate"] {
        let body = json!({ "action": action, "revision": 1 });
        let moved = api.post("/api/v1/agreements/sla/lifecycle", admin, &body);
        assert_eq!(moved.status, 200, "{}", moved.body);
    }
    let put = api.send(
        "PUT",
        "/api/v1/notifications",
        &[("Authorization", &format!("Bearer {admin}")), ("Content-Type", "text/yaml")],
        settings(hook_port).as_bytes(),
    );
    assert_eq!(put.status, 200, "{}", put.body);

    later_hour
}

/// Posts a P1 ticket created now: 25 % at 2 s, 50 % at 4 s, the breach at 8 s.
fn open_p1(api: &Server, admin: &str, ticket: &str) {
    let opened = (jiff::Timestamp::now() + jiff::SignedDuration::from_millis(200)).to_string();
    let created = json!({ "id": format!("{ticket}-created"), "ticket": ticket, "type": "created",
        "at": opened, "customer": "acme", "service": "desk", "priority": "P1" });
    let posted = api.post("/api/v1/events", admin, &created);
    assert_eq!(posted.status, 200, "{}", posted.body);
}

/// Waits until `check` holds, for at most `seconds`.
pub(crate) fn eventually(seconds: u64, what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < Duration::from_secs(seconds), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn rungs_and_breaches_notify_by_mail_and_webhook_once_each() {
    for backend in backends("escalations") {
        let Some(smtp) = SmtpSink::start() else { return };
        let (hook_port, received) = receiver(true);
        let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
        let api = Server::start_with_env(
            &backend,
            "warn",
            false,
            &[
                ("ACCORD_SMTP_URL", &smtp_url),
                ("ACCORD_WEBHOOK_SECRET", SECRET),
                ("ACCORD_DELIVERY_RETRY_SECONDS", "1"),
            ],
        );
        let admin = token(&backend, "admin", "admin", &[]);
        let later_hour = set_up(&api, &admin, hook_port);

        open_p1(&api, &admin, "T-1");

        eventually(30, "the three firings", || {
            let firings = api.get("/api/v1/escalations?ticket=T-1", &admin).json();
            firings["escalations"].as_array().map_or(0, Vec::len) == 3
        });
        let firings = api.get("/api/v1/escalations?ticket=T-1", &admin).json();
        let thresholds: Vec<&str> = firings["escalations"]
            .as_array()
            .expect("a list")
            .iter()
            .filter_map(|firing| firing["threshold"].as_str())
            .collect();
        assert_eq!(thresholds, ["breach", "50%", "25%"], "{firings}");
        assert!(
            firings["escalations"].as_array().expect("a list").iter().all(|firing| {
                firing["revisions"] == "sla r1" && firing["outcome"] == "notified"
            })
        );

        // The webhook: the 25 % rung (refused once, then delivered) and the breach, each signed.
        eventually(30, "the webhook deliveries", || {
            let deliveries = api.get("/api/v1/deliveries?ticket=T-1&status=sent", &admin).json();
            deliveries["deliveries"]
                .as_array()
                .is_some_and(|list| list.iter().filter(|d| d["channel"] == "webhook").count() == 2)
        });
        let got = received.lock().expect("the list").clone();
        assert_eq!(got.len(), 3, "one refused and two delivered: {got:#?}");
        let ids: Vec<&str> = got.iter().map(|r| r.headers["x-accord-delivery"].as_str()).collect();
        assert_eq!(ids[0], ids[1], "the refused delivery is retried: {got:#?}");
        assert_ne!(ids[1], ids[2]);
        for request in &got {
            let signature = &request.headers["x-accord-signature"];
            let (t, v1) = signature
                .strip_prefix("t=")
                .and_then(|rest| rest.split_once(",v1="))
                .unwrap_or_else(|| panic!("a signature: {signature}"));
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
            mac.update(format!("{t}.{}", request.body).as_bytes());
            let expected: String =
                mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect();
            assert_eq!(v1, expected, "the signature verifies");
        }
        let bodies: Vec<Value> =
            got[1..].iter().map(|r| serde_json::from_str(&r.body).expect("JSON")).collect();
        assert_eq!(bodies[0]["kind"], "escalation");
        assert_eq!(bodies[0]["threshold"], "25%");
        assert_eq!(bodies[0]["title"], "[P1] T-1 response 25%");
        assert_eq!(bodies[1]["kind"], "breach");

        // E-mail: lead at 25 % and on the breach, the customer's escalation contact at 50 % and
        // on the breach, the night owl on the P1 breach at once.
        eventually(30, "five e-mails", || smtp.messages().len() == 5);
        let mails = smtp.messages();
        let to =
            |address: &str| mails.iter().filter(|m| m.contains(&format!("To: {address}"))).count();
        assert_eq!((to("lead@northwind.example"), to("petra@acme.example")), (2, 2), "{mails:#?}");
        assert_eq!(to("owl@northwind.example"), 1, "{mails:#?}");
        assert!(
            mails.iter().any(|m| m.contains("Subject: [P1] T-1 response breach")),
            "{mails:#?}"
        );

        // The night owl's 50 % message waits for its working hours; the unknown name failed.
        let all = api.get("/api/v1/deliveries?ticket=T-1", &admin).json();
        let deliveries = all["deliveries"].as_array().expect("a list");
        let owl_rung = deliveries
            .iter()
            .find(|d| d["recipient"] == "night-owl" && d["rung"] == 1)
            .unwrap_or_else(|| panic!("the night owl's 50 % message in {all}"));
        assert_eq!(owl_rung["status"], "pending", "{owl_rung}");
        let due: jiff::Timestamp =
            owl_rung["dueAt"].as_str().expect("dueAt").parse().expect("an instant");
        let due_hour = due.to_zoned(jiff::tz::TimeZone::UTC).hour();
        assert_eq!(u32::try_from(due_hour).ok(), Some(later_hour), "{owl_rung}");
        let unknown = deliveries.iter().find(|d| d["recipient"] == "nobody-known").expect("listed");
        assert_eq!(unknown["status"], "failed");
        assert!(
            unknown["lastError"].as_str().unwrap_or_default().contains("no recipient nobody-known")
        );
        let smtp_sent =
            deliveries.iter().find(|d| d["channel"] == "email" && d["status"] == "sent");
        assert_eq!(smtp_sent.expect("a sent e-mail")["attempts"][0]["code"], 250);

        // An outage for the last ten minutes burns the month's budget far past 14.4x: after a
        // restart (alerts are looked for at start and every minute) the page goes to the hook.
        let start = (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(10)).to_string();
        let incident = json!({ "id": "INC-1", "start": start, "affected": ["desk"],
            "impact": "major", "cause": "Power loss" });
        let posted = api.post("/api/v1/incidents", &admin, &incident);
        assert_eq!(posted.status, 200, "{}", posted.body);

        // Nothing fires twice: a restart on the same store records and sends nothing new.
        drop(api);
        let again = Server::start_with_env(
            &backend,
            "warn",
            false,
            &[("ACCORD_SMTP_URL", &smtp_url), ("ACCORD_WEBHOOK_SECRET", SECRET)],
        );
        eventually(30, "the burn-rate page", || received.lock().expect("the list").len() >= 4);
        let firings = again.get("/api/v1/escalations?ticket=T-1", &admin).json();
        assert_eq!(firings["escalations"].as_array().map(Vec::len), Some(3));
        let page: Value =
            serde_json::from_str(&received.lock().expect("the list")[3].body).expect("a JSON body");
        assert_eq!((&page["kind"], &page["severity"]), (&json!("burn_rate"), &json!("page")));
        assert_eq!(page["objective"], "uptime");
        // The provider's subject template, the built-in message.
        let text = page["text"].as_str().unwrap_or_default();
        assert!(text.starts_with("The uptime objective of acme (desk) has burned"), "{text}");
        let alerts =
            again.get("/api/v1/escalations?ticket=availability:acme/uptime", &admin).json();
        let alerts = alerts["escalations"].as_array().expect("a list");
        // Both page rules fire (14.4x over 1 h and 5 min, 6x over 6 h and 30 min), each once,
        // to the hook; the ticket rules fire too and notify nobody (no one is named for them).
        let pages: Vec<&Value> =
            alerts.iter().filter(|alert| alert["metric"] == "burn-rate:page").collect();
        assert!(!pages.is_empty() && pages.iter().all(|a| a["outcome"] == "notified"));
        assert!(
            alerts
                .iter()
                .filter(|alert| alert["metric"] == "burn-rate:ticket")
                .all(|alert| alert["outcome"] == "none"),
            "{alerts:#?}"
        );
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(received.lock().expect("the list").len(), 3 + pages.len());
        assert_eq!(smtp.messages().len(), 5);
    }
}

/// Two servers on one PostgreSQL database: every rung and breach is recorded once and each
/// message sent once, also when the node that recorded the first rung is killed midway.
#[test]
fn two_nodes_fire_each_escalation_once_and_survive_losing_one() {
    for backend in backends("escalations_nodes") {
        if matches!(backend, crate::Backend::Sqlite(_)) {
            continue;
        }
        let Some(smtp) = SmtpSink::start() else { return };
        let (hook_port, received) = receiver(false);
        let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
        let node = |name| {
            let environment = [
                ("ACCORD_SMTP_URL", smtp_url.as_str()),
                ("ACCORD_WEBHOOK_SECRET", SECRET),
                ("ACCORD_NODE", name),
                // A killed node's messages move to the other one within seconds.
                ("ACCORD_DELIVERY_LEASE_SECONDS", "3"),
            ];
            Server::start_with_env(&backend, "warn", false, &environment)
        };
        let (first, second) = (node("node-a"), node("node-b"));
        let admin = token(&backend, "admin", "admin", &[]);
        set_up(&first, &admin, hook_port);
        open_p1(&second, &admin, "T-2");
        // Once the first rung is recorded, the node that recorded it goes.
        eventually(30, "the first rung", || {
            let firings = second.get("/api/v1/escalations?ticket=T-2", &admin).json();
            firings["escalations"].as_array().is_some_and(|list| !list.is_empty())
        });
        let firings = second.get("/api/v1/escalations?ticket=T-2", &admin).json();
        let recorder =
            firings["escalations"][0]["recordedBy"].as_str().unwrap_or_default().to_owned();
        let survivor = if recorder == "node-a" {
            drop(first);
            second
        } else {
            drop(second);
            first
        };
        eventually(30, "the three firings", || {
            let firings = survivor.get("/api/v1/escalations?ticket=T-2", &admin).json();
            firings["escalations"].as_array().map_or(0, Vec::len) == 3
        });
        eventually(30, "two webhooks and five e-mails", || {
            received.lock().expect("the list").len() >= 2 && smtp.messages().len() >= 5
        });
        // A moment more. Each message arrived (a node killed between sending and recording
        // the attempt makes the other send it again, with the same delivery id).
        std::thread::sleep(Duration::from_secs(4));
        let got = received.lock().expect("the list").clone();
        let mut ids: Vec<&str> =
            got.iter().map(|r| r.headers["x-accord-delivery"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 2, "{got:#?}");
        let mut mails: Vec<String> = smtp
            .messages()
            .iter()
            .map(|mail| {
                let header = |name: &str| {
                    mail.lines().find(|line| line.starts_with(name)).unwrap_or_default().to_owned()
                };
                format!("{} {}", header("To:"), header("Subject:"))
            })
            .collect();
        mails.sort();
        mails.dedup();
        assert_eq!(mails.len(), 5, "{mails:#?}");
        let firings = survivor.get("/api/v1/escalations?ticket=T-2", &admin).json();
        assert_eq!(firings["escalations"].as_array().map(Vec::len), Some(3), "{firings}");
    }
}
