//! `accord calendar eval` against the bizbench reference answers.

use std::path::Path;

use crate::{Run, accord, shared_data, workspace};

/// Runs `accord calendar eval` on a workload.
fn eval(calendars: &Path, queries: &Path, extra: &[&str]) -> Run {
    let (calendars, queries) = (calendars.to_str().unwrap(), queries.to_str().unwrap());
    let mut args = vec!["calendar", "eval", "--calendars", calendars, "--queries", queries];
    args.extend_from_slice(extra);
    accord(&args)
}

/// Runs the workload in `dir` and compares every answer with `reference.txt`.
#[track_caller]
fn check_workload(dir: &Path, expected_queries: usize) {
    let calendars = dir.join("calendars.json");
    let queries = dir.join("queries.tsv");
    let run = eval(&calendars, &queries, &["--stats"]).ok();
    let reference = std::fs::read_to_string(dir.join("reference.txt")).unwrap();
    let answers: Vec<&str> = run.stdout.lines().collect();
    let expected: Vec<&str> = reference.lines().collect();
    assert_eq!(expected.len(), expected_queries, "reference size");
    assert_eq!(answers.len(), expected.len(), "one answer per query");
    let query_text = std::fs::read_to_string(&queries).unwrap();
    let query_lines: Vec<&str> = query_text.lines().filter(|line| !line.starts_with('#')).collect();
    let mismatches: Vec<String> = answers
        .iter()
        .zip(&expected)
        .zip(&query_lines)
        .filter(|((answer, expected), _)| answer != expected)
        .take(10)
        .map(|((answer, expected), query)| format!("{query}: got {answer}, expected {expected}"))
        .collect();
    assert!(mismatches.is_empty(), "answers differ from the reference:\n{}", mismatches.join("\n"));

    // --stats: one line per operation on stderr, with a count and a per-operation time.
    let n_adds = query_lines.iter().filter(|line| line.starts_with("add\t")).count();
    let add_line = run.stderr.lines().find(|line| line.starts_with("add: ")).expect("add stats");
    assert!(add_line.starts_with(&format!("add: {n_adds} ops, ")), "{add_line}");
    assert!(add_line.ends_with(" ns/op"), "{add_line}");
    let elapsed_line =
        run.stderr.lines().find(|line| line.starts_with("elapsed: ")).expect("elapsed stats");
    let n_elapsed = expected_queries - n_adds;
    assert!(elapsed_line.starts_with(&format!("elapsed: {n_elapsed} ops, ")), "{elapsed_line}");
}

#[test]
fn committed_subset_matches_the_reference() {
    check_workload(&workspace().join("tests/data/bizbench"), 20_000);
}

#[test]
#[expect(clippy::print_stderr, reason = "says why the full workload did not run")]
fn full_workload_matches_the_reference_when_shared_data_is_present() {
    let Some(dir) = shared_data("bizbench") else {
        eprintln!("skipped: ../shared/data/bizbench is not present; the committed subset ran");
        return;
    };
    check_workload(&dir, 200_000);
}

#[test]
fn hand_checked_cases_match() {
    let handchecked =
        std::fs::read_to_string(workspace().join("tests/data/bizbench/handchecked.tsv")).unwrap();
    let cases: Vec<Vec<&str>> = handchecked
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.split('\t').collect())
        .collect();
    assert_eq!(cases.len(), 18);
    let dir = tempfile::tempdir().unwrap();
    let queries = dir.path().join("queries.tsv");
    let text: String = cases.iter().map(|case| format!("{}\n", case[..4].join("\t"))).collect();
    std::fs::write(&queries, text).unwrap();
    let calendars = workspace().join("tests/data/bizbench/calendars.json");
    let run = eval(&calendars, &queries, &[]).ok();
    for (case, answer) in cases.iter().zip(run.stdout.lines()) {
        assert_eq!(answer, case[4], "{} {} {} {}: {}", case[0], case[1], case[2], case[3], case[5]);
    }
    assert_eq!(run.stdout.lines().count(), 18);
}

#[test]
fn bad_query_names_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let queries = dir.path().join("queries.tsv");
    std::fs::write(
        &queries,
        "# comment\nadd\tberlin\t2025-01-01T00:00:00Z\t60\nadd\tberlin\t2025-13-01T00:00:00Z\t60\n",
    )
    .unwrap();
    let calendars = workspace().join("tests/data/bizbench/calendars.json");
    let run = eval(&calendars, &queries, &[]).failed();
    let expected = format!(
        "error: {}:3:12: start: invalid instant \"2025-13-01T00:00:00Z\": expected RFC 3339\n",
        queries.display()
    );
    assert_eq!(run.stderr, expected);
    assert_eq!(run.stdout, "", "nothing half-written");
}
