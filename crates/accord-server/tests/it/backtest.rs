//! `accord backtest` through the binary on a small store: an agreement promising P1 resolution
//! in 2 h, active since before its tickets, and P1 tickets resolved in 1 h and in 3 h; a draft
//! promising 4 h turns the missed months into met ones and takes the breach penalties away; a
//! draft that does not load or check is refused naming the file and line.

use std::path::Path;

use accord_core::agreement::Kind;
use accord_core::lifecycle::{Action, Request};
use accord_store::{Location, NewEvent, NewRevision, Store};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::{Backend, Run, accord, backends};

const DOCUMENTS: &str = r"apiVersion: accord/v1
kind: Calendar
metadata: { name: always }
spec: { timeZone: UTC, hours: 24x7 }
---
apiVersion: accord/v1
kind: Service
metadata: { name: hosting }
spec: { description: Managed hosting }
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec: { timeZone: UTC, legalName: Acme Corporation }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: sla }
spec:
  type: sla
  level: corporate
  parties: { provider: Northwind }
  term: { effectiveFrom: 2026-01-01, timeZone: UTC, review: { next: 2030-06-01 } }
  pricing: { monthlyFee: 1000000, currency: EUR }
  objectives:
    calendar: always
    response:
      P1: { target: 30m }
    resolution:
      P1: { target: 2h }
  credits:
    breaches:
      P1: 5%
";

/// The agreement with the P1 resolution target replaced.
fn agreement_with(target: &str) -> String {
    let agreement = DOCUMENTS.split("---\n").last().expect("the agreement");
    agreement.replace("P1: { target: 2h }", &format!("P1: {{ target: {target} }}"))
}

/// P1 tickets, each answered after 10 minutes and solved after the given hours: January one
/// in 3 h and one in 1 h, February one in 1 h, March one in 3 h.
const TICKETS: [(&str, &str, i64); 4] = [
    ("T-1", "2026-01-12T09:00:00Z", 3),
    ("T-2", "2026-01-20T09:00:00Z", 1),
    ("T-3", "2026-02-10T09:00:00Z", 1),
    ("T-4", "2026-03-16T09:00:00Z", 3),
];

fn location(backend: &Backend) -> Location {
    match backend {
        Backend::Sqlite(dir) => Location::Sqlite(dir.path().join("accord.db")),
        Backend::Postgres { url, .. } => Location::Postgres(url.clone()),
    }
}

fn accord_with(backend: &Backend, args: &[&str]) -> Run {
    let flags = backend.flags();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(flags.iter().map(String::as_str));
    accord(&all)
}

/// Applies the documents and activates the agreement on 1 December 2025, through the store as
/// `accord demo` does (the command line acts now, after the tickets), and appends the tickets'
/// events.
fn set_up(backend: &Backend, dir: &Path) {
    let documents = dir.join("documents.yaml");
    std::fs::write(&documents, DOCUMENTS).unwrap();
    let loaded = accord_format::catalog::load_path(&documents).expect("the documents load");
    let revisions: Vec<NewRevision> = loaded
        .documents
        .iter()
        .map(|document| NewRevision {
            kind: document.kind.as_str().to_owned(),
            name: document.name.clone(),
            content_hash: document.content_hash.clone(),
            canonical: document.canonical.clone(),
            source_text: document.text.clone(),
            source_path: document.path.display().to_string(),
            source_line: document.line,
            // The term's first day, midnight UTC.
            effective_from: (document.kind == Kind::Agreement)
                .then(|| "2026-01-01T00:00:00Z".parse().unwrap()),
            effective_until: None,
            lifecycle: document.kind == Kind::Agreement,
        })
        .collect();
    let applied_at: Timestamp = "2025-12-01T00:00:00Z".parse().unwrap();
    let mut bodies = Vec::new();
    for (ticket, created, hours) in TICKETS {
        let at: Timestamp = created.parse().unwrap();
        let minutes = |n: i64| (at + jiff::SignedDuration::from_mins(n)).to_string();
        bodies.push(json!({ "v": 1, "id": format!("{ticket}-c"), "ticket": ticket,
            "type": "created", "at": created,
            "customer": "acme", "service": "hosting", "priority": "P1" }));
        bodies.push(json!({ "v": 1, "id": format!("{ticket}-r"), "ticket": ticket,
            "type": "comment", "at": minutes(10), "author": "agent", "public": true }));
        bodies.push(json!({ "v": 1, "id": format!("{ticket}-s"), "ticket": ticket,
            "type": "solved", "at": minutes(60 * hours) }));
    }
    let texts: Vec<String> = bodies.iter().map(Value::to_string).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = Store::open(&location(backend)).await.unwrap();
        store.apply(&revisions, "alice", "the 2026 terms", applied_at).await.unwrap();
        for action in [Action::Submit, Action::Approve, Action::Activate] {
            let request =
                Request { revision: 1, action, actor: "carol".to_owned(), note: String::new() };
            store.transition("Agreement", "sla", &request, applied_at).await.unwrap();
        }
        let events: Vec<NewEvent<'_>> = bodies
            .iter()
            .zip(&texts)
            .map(|(event, body)| NewEvent {
                id: event["id"].as_str().unwrap(),
                ticket: event["ticket"].as_str().unwrap(),
                at: event["at"].as_str().unwrap().parse().unwrap(),
                kind: event["type"].as_str().unwrap(),
                body,
            })
            .collect();
        store.append_events(&events, "2026-04-01T00:00:00Z".parse().unwrap()).await.unwrap();
        store.close().await;
    });
}

#[test]
fn a_longer_p1_resolution_turns_missed_months_into_met_ones_and_drops_the_credits() {
    for backend in backends("backtest") {
        let dir = tempfile::tempdir().unwrap();
        set_up(&backend, dir.path());
        let draft = dir.path().join("draft.yaml");
        std::fs::write(&draft, agreement_with("4h")).unwrap();
        let draft = draft.to_str().unwrap();

        let run =
            accord_with(&backend, &["backtest", "--draft", draft, "--period", "2026-01..2026-03"])
                .ok();
        let out = &run.stdout;
        // The header says what each side means.
        assert!(
            out.contains(
                "active: each ticket on the agreement revisions active when it was created"
            ),
            "{out}"
        );
        assert!(
            out.contains("draft:  the store's latest documents with the draft's laid over them"),
            "{out}"
        );
        // The draft's term covers the range: nothing is stretched.
        assert!(!out.contains("note:"), "{out}");
        // January: T-1 took 3 h, missed under 2 h and in time under 4 h.
        let words = |line: String| line.split_whitespace().collect::<Vec<_>>().join(" ");
        let january = section(out, "2026-01 · acme (Acme Corporation)");
        assert_eq!(
            words(line_with(&january, "P1 resolution")),
            "hosting P1 resolution 2h 1/2 50.0% MISSED 4h 2/2 100.0% met MISSED → met",
            "{january}"
        );
        // One P1 breach: 5 % of 10,000.00 EUR under the active terms, none under the draft.
        assert_eq!(words(line_with(&january, "breaches")), "breaches 1 → 0", "{january}");
        assert_eq!(
            words(line_with(&january, "credits")),
            "credits 500.00 EUR → 0.00 EUR",
            "{january}"
        );
        // The response objective is the same under both.
        assert!(january.contains("1 objective the same under both"), "{january}");
        let summary = section(out, "summary over 3 periods");
        // Under 2 h, P1 resolution was met in one month of three, 2 of 4 tickets in time;
        // under 4 h in all three, every ticket in time.
        assert_eq!(
            words(line_with(&summary, "P1 resolution")),
            "acme hosting P1 resolution 2h 1 of 3 2/4 50.0% 4h 3 of 3 4/4 100.0%",
            "{summary}"
        );
        assert!(summary.contains("breaches 2 → 0; credits 1,000.00 EUR → 0.00 EUR"), "{summary}");

        // A draft signed for next year is judged as if it had been in force, and says so.
        let next_year = dir.path().join("next-year.yaml");
        std::fs::write(
            &next_year,
            agreement_with("4h").replace("effectiveFrom: 2026-01-01", "effectiveFrom: 2027-01-01"),
        )
        .unwrap();
        let run = accord_with(
            &backend,
            &["backtest", "--draft", next_year.to_str().unwrap(), "--period", "2026-01..2026-03"],
        )
        .ok();
        assert!(
            run.stdout.contains(
                "note: draft Agreement sla: its term (from 2027-01-01) is read as covering the whole range"
            ),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("breaches 2 → 0; credits 1,000.00 EUR → 0.00 EUR"),
            "{}",
            run.stdout
        );

        // The same content as JSON.
        let run = accord_with(
            &backend,
            &["backtest", "--draft", draft, "--period", "2026-01", "--format", "json"],
        )
        .ok();
        let backtest: Value = serde_json::from_str(&run.stdout).expect("JSON");
        let january = &backtest["results"][0];
        assert_eq!(january["period"], "2026-01");
        let resolution = january["objectives"]
            .as_array()
            .expect("objectives")
            .iter()
            .find(|row| row["objective"] == "P1 resolution")
            .expect("the P1 resolution objective");
        assert_eq!(resolution["change"], "MISSED → met");
        assert_eq!(
            (&resolution["active"]["target"], &resolution["active"]["met"]),
            (&json!("2h"), &json!(false))
        );
        assert_eq!(
            (&resolution["draft"]["target"], &resolution["draft"]["inTime"]),
            (&json!("4h"), &json!(2))
        );
        assert_eq!(january["credits"]["active"]["minor"]["EUR"], 50_000);
        assert_eq!(january["credits"]["draft"]["minor"]["EUR"], 0);
        assert_eq!(backtest["summary"]["breaches"], json!({ "active": 1, "draft": 0 }));
    }
}

#[test]
fn a_draft_that_does_not_load_or_check_is_refused_naming_file_and_line() {
    let backend = Backend::Sqlite(tempfile::tempdir().unwrap());
    let dir = tempfile::tempdir().unwrap();
    set_up(&backend, dir.path());

    let broken = dir.path().join("broken.yaml");
    let text = agreement_with("4h").replace("P1: { target: 4h }", "P1: target: 4h");
    std::fs::write(&broken, &text).unwrap();
    let line = text.lines().position(|line| line.contains("target: 4h")).unwrap() + 1;
    let run = accord_with(
        &backend,
        &["backtest", "--draft", broken.to_str().unwrap(), "--period", "2026-01"],
    )
    .failed();
    assert!(run.stderr.contains(&format!("broken.yaml:{line}:")), "{}", run.stderr);
    assert!(run.stderr.contains("broken.yaml has 1 error"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    // It loads, but names a calendar neither the store nor the draft has.
    let unknown = dir.path().join("unknown.yaml");
    let text = agreement_with("4h").replace("calendar: always", "calendar: nowhere");
    std::fs::write(&unknown, &text).unwrap();
    let line = text.lines().position(|line| line.contains("calendar: nowhere")).unwrap() + 1;
    let run = accord_with(
        &backend,
        &["backtest", "--draft", unknown.to_str().unwrap(), "--period", "2026-01"],
    )
    .failed();
    assert!(run.stderr.contains(&format!("unknown.yaml:{line}:")), "{}", run.stderr);
    assert!(run.stderr.contains("nowhere"), "{}", run.stderr);
    assert!(
        run.stderr.contains("does not check against the store's documents: 1 error"),
        "{}",
        run.stderr
    );

    let run = accord_with(
        &backend,
        &["backtest", "--draft", unknown.to_str().unwrap(), "--period", "2026-03..2026-01"],
    )
    .failed();
    assert!(run.stderr.contains("the range ends before it starts"), "{}", run.stderr);
}

/// The lines from the one starting with `heading` to the next blank line.
#[track_caller]
fn section(out: &str, heading: &str) -> String {
    let start = out.find(heading).unwrap_or_else(|| panic!("{heading:?} in\n{out}"));
    let rest = &out[start..];
    rest.split("\n\n").next().unwrap_or(rest).to_owned()
}

#[track_caller]
fn line_with(text: &str, needle: &str) -> String {
    text.lines()
        .find(|line| line.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} in\n{text}"))
        .trim()
        .to_owned()
}
