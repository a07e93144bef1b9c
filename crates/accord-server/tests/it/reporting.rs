//! Scheduled compliance reports end to end: an agreement whose `reporting` term sends a monthly
//! report is activated while last month's report is already due, and the report arrives at a
//! real SMTP server (`aiosmtpd`, as in the escalation test) within seconds: one e-mail to the
//! customer's `reports` contact and the term's extra recipient, with the PDF and the CSV
//! attached, whose SHA-256 the send log records. A restarted server sends nothing again.
//!
//! Without `aiosmtpd` the test says so and is skipped; with `CI=true` it fails instead.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use jiff::ToSpan;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use crate::backends;
use crate::escalations::{SmtpSink, eventually};
use crate::http::{Server, token};

const DOCUMENTS: &str = r#"apiVersion: accord/v1
kind: Service
metadata: { name: desk }
spec: {}
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec:
  legalName: Acme Corporation
  timeZone: UTC
  contacts:
    - { name: Ann Reader, email: ann@acme.example, roles: [reports] }
    - { name: Bob Oncall, email: bob@acme.example, roles: [escalation] }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: sla }
spec:
  type: sla
  level: customer
  parties: { provider: Northwind, customer: acme }
  term: { effectiveFrom: 2020-01-01, timeZone: UTC, review: { next: 2030-06-01 } }
  objectives:
    hours: calendar
    response:
      P1: 1h
      P2: 4h
  reporting:
    every: month
    formats: [pdf, csv]
    day: 1
    at: "00:00"
    recipients: [audit@northwind.example]
"#;

/// Last month (UTC, from the system clock) as a period, its name, and an instant in it.
fn last_month() -> (String, String, jiff::Timestamp) {
    let today = jiff::Timestamp::now().to_zoned(TimeZone::UTC).date();
    let first = today.first_of_month() - 1.month();
    let label = first.strftime("%Y-%m").to_string();
    let name = first.strftime("%B %Y").to_string();
    let instant = first.at(10, 0, 0, 0).to_zoned(TimeZone::UTC).expect("a UTC instant");
    (label, name, instant.timestamp())
}

/// A few tickets of last month: a P1 answered in 20 minutes, a P2 answered after 6 hours, and a
/// rating.
fn events(start: jiff::Timestamp) -> Value {
    let at = |minutes: i64| (start + jiff::SignedDuration::from_mins(minutes)).to_string();
    json!([
        { "id": "r-1", "ticket": "R-1", "type": "created", "at": at(0), "customer": "acme",
          "service": "desk", "priority": "P1" },
        { "id": "r-2", "ticket": "R-1", "type": "comment", "at": at(20), "author": "agent",
          "public": true },
        { "id": "r-3", "ticket": "R-1", "type": "solved", "at": at(120) },
        { "id": "r-4", "ticket": "R-2", "type": "created", "at": at(1440), "customer": "acme",
          "service": "desk", "priority": "P2" },
        { "id": "r-5", "ticket": "R-2", "type": "comment", "at": at(1800), "author": "agent",
          "public": true },
    ])
}

/// An e-mail as Python's `email` package reads it: recipients, subject, text, and each
/// attachment's name, type, size, SHA-256 and first bytes.
fn parse_mail(mail: &str) -> Value {
    const PARSE: &str = r#"
import email, email.policy, hashlib, json, sys
message = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
parts = []
for part in message.iter_attachments():
    data = part.get_payload(decode=True)
    parts.append({"name": part.get_filename(), "type": part.get_content_type(),
                  "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                  "head": data[:5].decode("latin-1")})
text = message.get_body(preferencelist=("plain",)).get_content()
print(json.dumps({"to": str(message["To"]), "subject": str(message["Subject"]),
                  "text": text, "attachments": parts}))
"#;
    let mut python = Command::new("python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    python.stdin.take().expect("stdin").write_all(mail.as_bytes()).expect("the mail is written");
    let output = python.wait_with_output().expect("python3 ends");
    assert!(output.status.success(), "python could not read the mail:\n{mail}");
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn a_due_report_is_mailed_once_with_its_files_and_their_hashes() {
    let Some(smtp) = SmtpSink::start() else { return };
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let environment = [("ACCORD_SMTP_URL", smtp_url.as_str())];
    let (period, month_name, start) = last_month();
    for backend in backends("reporting") {
        let before = smtp.messages();
        let n_before = before.len();
        let api = Server::start_with_env(&backend, "warn", false, &environment);
        let admin = token(&backend, "admin", "admin", &[]);
        let bearer = format!("Bearer {admin}");
        let applied = api.send(
            "POST",
            "/api/v1/agreements/apply",
            &[("Authorization", &bearer), ("Content-Type", "text/yaml")],
            DOCUMENTS.as_bytes(),
        );
        assert_eq!(applied.status, 200, "{}", applied.body);
        let posted = api.post("/api/v1/events", &admin, &events(start));
        assert_eq!(posted.status, 200, "{}", posted.body);
        // Until the agreement is active nothing is scheduled.
        let sends = api.get("/api/v1/report-sends", &admin).json();
        assert_eq!(sends["sends"], json!([]), "{sends}");
        for action in ["submit", "approve", "activate"] {
            let body = json!({ "action": action, "revision": 1 });
            let moved = api.post("/api/v1/agreements/sla/lifecycle", &admin, &body);
            assert_eq!(moved.status, 200, "{}", moved.body);
        }

        eventually(60, "the report e-mail", || smtp.messages().len() > n_before);
        eventually(30, "the send recorded as sent", || {
            api.get("/api/v1/report-sends", &admin).json()["sends"][0]["status"] == "sent"
        });
        let mails = smtp.messages();
        assert_eq!(mails.len(), n_before + 1, "one e-mail");
        let mail = mails.iter().find(|mail| !before.contains(mail)).expect("the new e-mail");
        let mail = parse_mail(mail);
        let to = mail["to"].as_str().expect("To");
        assert!(to.contains("ann@acme.example") && to.contains("audit@northwind.example"), "{to}");
        assert!(!to.contains("bob@acme.example"), "escalation contacts get no reports: {to}");
        assert_eq!(mail["subject"], format!("Service level report {month_name}: Acme Corporation"));
        let text = mail["text"].as_str().expect("text");
        assert!(text.contains("Objectives judged: "), "{text}");
        assert!(text.contains("Evidence: computed from event log position 5 as of"), "{text}");

        let attachments = mail["attachments"].as_array().expect("attachments");
        let names: Vec<&str> = attachments.iter().filter_map(|a| a["name"].as_str()).collect();
        let pdf_name = format!("accord-acme-{period}.pdf");
        let csv_name = format!("accord-acme-{period}.csv");
        assert_eq!(names, [pdf_name.as_str(), csv_name.as_str()]);
        let (pdf, csv) = (&attachments[0], &attachments[1]);
        assert_eq!((&pdf["type"], &csv["type"]), (&json!("application/pdf"), &json!("text/csv")));
        assert_eq!(pdf["head"], "%PDF-", "{pdf}");
        assert!(pdf["size"].as_u64() > Some(0) && csv["size"].as_u64() > Some(0));
        assert!(text.contains(csv["sha256"].as_str().expect("a hash")), "{text}");

        // The send log records the same files, and the evidence the text gives.
        let sends = api.get("/api/v1/report-sends", &admin).json();
        let send = &sends["sends"][0];
        assert_eq!(sends["sends"].as_array().map(Vec::len), Some(1), "{sends}");
        assert_eq!((&send["customer"], &send["period"]), (&json!("acme"), &json!(period)));
        assert_eq!(send["recipients"], json!(["ann@acme.example", "audit@northwind.example"]));
        assert_eq!((&send["attempts"], &send["logPosition"]), (&json!(1), &json!(5)), "{send}");
        let files = send["files"].as_array().expect("files");
        let recorded = |format: &str| {
            files.iter().find(|file| file["format"] == format).map(|file| file["sha256"].clone())
        };
        assert_eq!(recorded("csv"), Some(csv["sha256"].clone()), "{send}");
        assert_eq!(recorded("pdf"), Some(pdf["sha256"].clone()), "{send}");

        // Another customer's principal sees none of it.
        let globex = token(&backend, "globex-portal", "customer", &["--customer", "globex"]);
        let theirs = api.get("/api/v1/report-sends", &globex).json();
        assert_eq!(theirs["sends"], json!([]), "{theirs}");
        let refused = api.get("/api/v1/report-sends?customer=acme", &globex);
        assert_eq!(refused.status, 404, "{}", refused.body);

        // A restarted server finds the period claimed and sends nothing.
        api.stop();
        let api = Server::start_with_env(&backend, "warn", false, &environment);
        std::thread::sleep(Duration::from_secs(7));
        assert_eq!(smtp.messages().len(), n_before + 1, "no second e-mail after a restart");
        let sends = api.get("/api/v1/report-sends", &admin).json();
        assert_eq!(sends["sends"].as_array().map(Vec::len), Some(1), "{sends}");
        assert_eq!(sends["sends"][0]["attempts"], 1, "{sends}");
    }
}
