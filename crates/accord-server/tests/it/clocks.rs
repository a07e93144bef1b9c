//! `accord replay` and `accord clock ...`: the worked examples of docs/clocks.md run exactly as
//! printed, and the commands on the example provider with a generated history.

use std::fmt::Write as _;

use crate::{accord, accord_in, workspace};

/// One fenced block of a Markdown file.
struct Block {
    info: String,
    text: String,
    // Line indices of the first and last content lines (exclusive end).
    lines: (usize, usize),
}

fn blocks(markdown: &str) -> Vec<Block> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut blocks = Vec::new();
    let mut idx = 0;
    while idx < lines.len() {
        if let Some(info) = lines[idx].strip_prefix("```")
            && !info.is_empty()
        {
            let first = idx + 1;
            let mut end = first;
            while end < lines.len() && lines[end] != "```" {
                end += 1;
            }
            let text: String = lines[first..end].iter().map(|line| format!("{line}\n")).collect();
            blocks.push(Block { info: info.to_owned(), text, lines: (first, end) });
            idx = end + 1;
        } else {
            idx += 1;
        }
    }
    blocks
}

/// Runs every `$ accord ...` command of every console block in `docs/clocks.md`, in a directory
/// holding the files of the named `yaml` and `jsonl` blocks, and compares what it prints with
/// what the page shows. `UPDATE_DOCS=1` writes the actual output into the page instead.
#[test]
fn docs_clock_examples_run_as_printed() {
    let path = workspace().join("docs/clocks.md");
    let markdown = std::fs::read_to_string(&path).expect("docs/clocks.md");
    let dir = tempfile::tempdir().expect("temp dir");
    let blocks = blocks(&markdown);
    for block in &blocks {
        if let Some((_, name)) = block.info.split_once(' ') {
            std::fs::write(dir.path().join(name), &block.text).expect("write example file");
        }
    }
    let mut replacements: Vec<((usize, usize), String)> = Vec::new();
    let mut n_commands = 0;
    for block in blocks.iter().filter(|block| block.info == "console") {
        let mut actual = String::new();
        let mut current: Option<&str> = None;
        let flush = |command: Option<&str>, actual: &mut String| {
            let Some(command) = command else { return };
            let args: Vec<&str> = command.split_whitespace().skip(1).collect();
            let run = accord_in(dir.path(), &args);
            assert!(run.success, "{command} failed:\n{}", run.stderr);
            let _ = writeln!(actual, "$ {command}");
            actual.push_str(&run.stdout);
            if !run.stdout.ends_with('\n') {
                actual.push('\n');
            }
        };
        for line in block.text.lines() {
            if let Some(command) = line.strip_prefix("$ ") {
                flush(current, &mut actual);
                current = Some(command);
                n_commands += 1;
            }
        }
        flush(current, &mut actual);
        replacements.push((block.lines, actual));
    }
    assert!(n_commands >= 6, "the worked examples are missing: {n_commands} commands found");
    let lines: Vec<&str> = markdown.lines().collect();
    let mut rebuilt = String::new();
    let mut idx = 0;
    for ((first, end), actual) in &replacements {
        for line in &lines[idx..*first] {
            rebuilt.push_str(line);
            rebuilt.push('\n');
        }
        rebuilt.push_str(actual);
        idx = *end;
    }
    for line in &lines[idx..] {
        rebuilt.push_str(line);
        rebuilt.push('\n');
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, rebuilt).expect("write docs/clocks.md");
        return;
    }
    assert!(
        rebuilt == markdown,
        "docs/clocks.md shows other output than accord prints; rerun with UPDATE_DOCS=1 and read the diff"
    );
}

fn generate(dir: &std::path::Path, tickets: &str) -> String {
    let history = dir.join("history.jsonl").display().to_string();
    accord(&[
        "clock",
        "generate",
        "--agreements",
        "examples",
        "--tickets",
        tickets,
        "--seed",
        "7",
        "-o",
        &history,
    ])
    .ok();
    history
}

#[test]
fn replay_and_explain_run_on_the_examples_with_a_generated_history() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = generate(dir.path(), "300");
    let summary =
        accord(&["replay", "--agreements", "examples", "--events", &history, "--summary"]).ok();
    assert!(summary.stdout.contains("300 tickets, 0 with problems"), "{}", summary.stdout);
    assert!(summary.stdout.contains("compliance\n"), "{}", summary.stdout);

    let json =
        accord(&["replay", "--agreements", "examples", "--events", &history, "--format", "json"])
            .ok();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let tickets = value["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len(), 300);
    for ticket in tickets {
        let revisions = ticket["revisions"].as_array().expect("pinned revisions");
        assert!(revisions.iter().any(|revision| revision["agreement"] == "corporate-sla"));
        assert!(!ticket["clocks"].as_array().expect("clocks").is_empty(), "{ticket}");
    }
    let states: Vec<&str> = tickets
        .iter()
        .flat_map(|ticket| ticket["clocks"].as_array().expect("clocks"))
        .map(|clock| clock["state"].as_str().expect("state"))
        .collect();
    assert!(states.contains(&"met") && states.contains(&"breached"), "{states:?}");

    let explain =
        accord(&["clock", "explain", "T-000001", "--agreements", "examples", "--events", &history])
            .ok();
    assert!(explain.stdout.starts_with("ticket T-000001 as of "), "{}", explain.stdout);
    assert!(explain.stdout.contains("corporate-sla sha256:"), "{}", explain.stdout);
    assert!(explain.stdout.contains("  cycle 1: "), "{}", explain.stdout);
}

#[test]
fn events_out_of_order_and_repeated_replay_like_sorted_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = generate(dir.path(), "60");
    let sorted = std::fs::read_to_string(&history).expect("history");
    let mut lines: Vec<&str> = sorted.lines().collect();
    let at = "2026-12-15T00:00:00Z";
    lines.reverse();
    let repeated: Vec<&str> = lines.iter().chain(lines.iter().take(25)).copied().collect();
    let shuffled = dir.path().join("shuffled.jsonl");
    std::fs::write(&shuffled, repeated.join("\n")).expect("write");
    let replay = |events: &str| {
        accord(&["replay", "--agreements", "examples", "--events", events, "--at", at]).ok().stdout
    };
    let expected = replay(&history);
    assert!(expected.contains("60 tickets"), "{expected}");
    assert_eq!(replay(&shuffled.display().to_string()), expected);
}

#[test]
fn malformed_events_are_rejected_with_line_and_field_and_nothing_is_replayed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"id":"a","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z","customer":"acme","service":"service-desk","priority":"P2"}"#,
            "\n",
            r#"{"id":"b","ticket":"T-1","type":"comment","at":"2026-11-02T09:10:00Z","author":"bot"}"#,
            "\n",
            r#"{"id":"c","ticket":"T-1","type":"solved","at":"2026-11-02T10:00:00"}"#,
            "\n",
        ),
    )
    .expect("write");
    let run = accord_in(
        dir.path(),
        &[
            "replay",
            "--agreements",
            &workspace().join("examples").display().to_string(),
            "--events",
            "events.jsonl",
        ],
    )
    .failed();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("events.jsonl:2: author: "), "{}", run.stderr);
    assert!(run.stderr.contains("events.jsonl:3: at: "), "{}", run.stderr);
    assert!(run.stderr.contains("2 malformed events; nothing was replayed"), "{}", run.stderr);
}

const DOCUMENTS: &str = r"apiVersion: accord/v1
kind: Calendar
metadata: { name: desk }
spec:
  timeZone: Europe/Berlin
  hours: { mon-fri: [09:00-17:00] }
---
apiVersion: accord/v1
kind: Service
metadata: { name: helpdesk }
spec:
  calendars: [{ calendar: desk }]
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec: { timeZone: Europe/Berlin }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: sla }
spec:
  type: sla
  level: corporate
  parties: { provider: Northwind }
  term: { effectiveFrom: FROM, timeZone: Europe/Berlin, review: { next: 2099-06-01 } }
  objectives:
    response: { P2: 1h }
    resolution: { P2: TARGET }
";

#[test]
fn a_replay_from_the_store_runs_each_ticket_on_the_revision_active_at_its_creation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data").display().to_string();
    let store = ["--data", data.as_str()];
    let documents = dir.path().join("documents.yaml");
    let revise = |from: &str, target: &str| {
        let text = DOCUMENTS.replace("FROM", from).replace("TARGET", target);
        std::fs::write(&documents, text).expect("write documents");
        let path = documents.display().to_string();
        accord(&[&["apply", path.as_str()][..], &store[..]].concat()).ok();
        for action in ["submit", "approve", "activate"] {
            accord(&[&["lifecycle", "sla", action][..], &store[..]].concat()).ok();
        }
    };
    // Revision 1 is active from now on; revision 2 takes over when its term starts in 2099.
    revise("2026-01-01", "8h");
    revise("2099-01-01", "4h");
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"id":"a1","ticket":"T-A","type":"created","at":"2098-12-30T09:00:00+01:00","customer":"acme","service":"helpdesk","priority":"P2"}"#,
            "\n",
            r#"{"id":"b1","ticket":"T-B","type":"created","at":"2099-01-05T09:00:00+01:00","customer":"acme","service":"helpdesk","priority":"P2"}"#,
            "\n",
            r#"{"id":"a2","ticket":"T-A","type":"updated","at":"2099-01-05T10:00:00+01:00","status":"open"}"#,
            "\n",
        ),
    )
    .expect("write events");
    let events = events.display().to_string();
    let run = accord(&[&["replay", "--events", events.as_str()][..], &store[..]].concat()).ok();
    let resolution: Vec<&str> =
        run.stdout.lines().filter(|line| line.contains("\tresolution\t")).collect();
    assert_eq!(resolution.len(), 2, "{}", run.stdout);
    // T-A was created under revision 1 and keeps its 8h after revision 2 takes over.
    assert!(
        resolution[0].starts_with("T-A\t") && resolution[0].contains("\t8h\t"),
        "{resolution:?}"
    );
    assert!(resolution[0].ends_with("\tsla r1"), "{resolution:?}");
    assert!(
        resolution[1].starts_with("T-B\t") && resolution[1].contains("\t4h\t"),
        "{resolution:?}"
    );
    assert!(resolution[1].ends_with("\tsla r2"), "{resolution:?}");
}
