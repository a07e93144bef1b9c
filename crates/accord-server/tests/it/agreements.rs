//! Agreements as code through the real binary: `check`, `explain`, `import openslo`, and the
//! stored revisions (`apply`, `history`, `diff`, `lifecycle`) on SQLite and PostgreSQL.

use std::path::{Path, PathBuf};

use crate::{Backend, Run, accord, backends, shared_data, workspace};

const AT: &str = "2026-11-21";

#[test]
fn check_passes_on_the_examples() {
    let run = accord(&["check", "examples", "--at", AT]).ok();
    assert!(run.stdout.contains(": 0 errors,"), "{}", run.stdout);
    assert!(run.stdout.starts_with("checked 2"), "{}", run.stdout);
}

/// Copies `examples/` into a temporary directory.
fn examples_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&workspace().join("examples"), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Replaces `old` (which must occur exactly once) in a file.
#[track_caller]
fn edit(path: &Path, old: &str, new: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert_eq!(text.matches(old).count(), 1, "{old:?} occurs once in {}", path.display());
    std::fs::write(path, text.replacen(old, new, 1)).expect("write");
}

/// The 1-based line of the first line containing `needle` in a file.
#[track_caller]
fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).expect("read");
    text.lines().position(|line| line.contains(needle)).expect("needle present") + 1
}

#[test]
fn a_broken_copy_of_the_examples_fails_with_precise_messages() {
    let dir = examples_copy();
    let root = dir.path();
    let customers = root.join("catalog/customers.yaml");
    let corporate = root.join("agreements/corporate-sla.yaml");
    let acme = root.join("agreements/acme-sla.yaml");
    edit(
        &customers,
        "Manufacturing GmbH\n  timeZone: Europe/Berlin",
        "Manufacturing GmbH\n  timeZone: Europe/Munich",
    );
    edit(&corporate, "    reopen: resume", "    reopen: resume\n    pausOn: [waiting_on_customer]");
    edit(&acme, "target: 2h, calendar: 24x7", "target: 2h, calendar: round-the-clock");

    let run = accord(&["check", root.to_str().unwrap(), "--at", AT]).failed();
    let stderr = run.stderr.replace(&format!("{}/", root.display()), "");
    let zone_line = line_of(&customers, "Europe/Munich");
    let typo_line = line_of(&corporate, "pausOn");
    for expected in [
        format!(
            "catalog/customers.yaml:{zone_line}:13: spec.timeZone: unknown time zone \"Europe/Munich\": expected an IANA name such as Europe/Berlin"
        ),
        format!(
            "agreements/corporate-sla.yaml:{typo_line}:5: spec.objectives.pausOn: unknown field \"pausOn\": expected one of calendar, hours, pauseOn, reopen, response, nextResponse, resolution, update, request, availability, latency, compliance"
        ),
        "error: ".to_owned(),
    ] {
        assert!(stderr.contains(&expected), "missing {expected:?} in:\n{stderr}");
    }
    // Reference errors come from the checks that run once the files load.
    edit(&customers, "timeZone: Europe/Munich", "timeZone: Europe/Berlin");
    edit(&corporate, "\n    pausOn: [waiting_on_customer]", "");
    let run = accord(&["check", root.to_str().unwrap(), "--at", AT]).failed();
    let stderr = run.stderr.replace(&format!("{}/", root.display()), "");
    let calendar_line = line_of(&acme, "round-the-clock");
    assert!(
        stderr.contains(&format!("agreements/acme-sla.yaml:{calendar_line}:"))
            && stderr.contains("unknown calendar \"round-the-clock\": expected 24x7 or one of"),
        "{stderr}"
    );
    assert!(run.stderr.contains("1 error,"), "{}", run.stderr);
}

#[test]
fn an_underpinning_contract_that_cannot_fit_fails_the_check() {
    let dir = examples_copy();
    let root = dir.path();
    let uc = root.join("agreements/hostico-uc.yaml");
    let text = std::fs::read_to_string(&uc).unwrap();
    // Slow the vendor's P1 resolution down to a working week.
    let slow = regex_free_replace_target(&text, "resolution", "P1", "40h");
    std::fs::write(&uc, slow).unwrap();
    let run = accord(&["check", root.to_str().unwrap(), "--at", AT]).failed();
    assert!(
        run.stderr.contains("hostico-uc resolution.P1 (40h business hours on 24x7"),
        "the misfit names the vendor objective: {}",
        run.stderr
    );
    assert!(run.stderr.contains("does not fit inside"), "{}", run.stderr);
}

/// Sets `METRIC: PRIORITY:` target in an agreement's text, whether written short or long.
fn regex_free_replace_target(text: &str, metric: &str, priority: &str, target: &str) -> String {
    let mut out = Vec::new();
    let mut in_metric = false;
    let mut done = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with(&format!("{metric}:")) {
            in_metric = true;
        } else if in_metric && indent <= 4 && !trimmed.is_empty() && !trimmed.starts_with('#') {
            in_metric = trimmed.starts_with(&format!("{priority}:")) || indent > 4;
        }
        if in_metric && !done && trimmed.starts_with(&format!("{priority}:")) {
            let rest = trimmed[priority.len() + 1..].trim();
            if rest.is_empty() {
                out.push(line.to_owned());
                continue;
            }
            out.push(format!("{}{priority}: {target}", " ".repeat(indent)));
            done = true;
            continue;
        }
        if in_metric && !done && trimmed.starts_with("target:") {
            out.push(format!("{}target: {target}", " ".repeat(indent)));
            done = true;
            continue;
        }
        out.push(line.to_owned());
    }
    assert!(done, "found {metric} {priority}");
    out.join("\n") + "\n"
}

#[test]
fn explain_shows_each_value_and_where_it_came_from() {
    let run = accord(&[
        "explain",
        "--customer",
        "acme",
        "--service",
        "cloud-hosting",
        "--priority",
        "P1",
        "--at",
        AT,
        "examples",
    ])
    .ok();
    let out = &run.stdout;
    assert!(out.contains("corporate-sla                corporate"), "{out}");
    assert!(out.contains("acme-sla                     customer"), "{out}");
    let resolution = out.split("P1 resolution:").nth(1).expect("P1 resolution listed");
    let target_line = resolution.lines().find(|l| l.trim_start().starts_with("target")).unwrap();
    assert!(target_line.contains("examples/agreements/acme-sla.yaml:"), "{target_line}");
    let pause_line = resolution.lines().find(|l| l.trim_start().starts_with("pause on")).unwrap();
    assert!(pause_line.contains("examples/agreements/corporate-sla.yaml:"), "{pause_line}");
    // Only P1 is listed.
    assert!(!out.contains("P2 resolution"), "{out}");

    let unknown =
        accord(&["explain", "--customer", "nobody", "--service", "x", "examples"]).failed();
    assert!(
        unknown.stderr.contains("unknown customer \"nobody\": expected one of acme"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn every_openslo_example_imports_into_documents_that_check() {
    let mut dirs = vec![workspace().join("crates/accord-format/tests/data/openslo")];
    dirs.extend(shared_data("openslo"));
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        files.sort();
        assert!(files.len() >= 6, "{}", dir.display());
        let mut n_imported = 0;
        for file in files {
            let out = tempfile::tempdir().unwrap();
            let target = out.path().join("imported.yaml");
            let run = accord(&[
                "import",
                "openslo",
                file.to_str().unwrap(),
                "-o",
                target.to_str().unwrap(),
            ]);
            if run.success {
                n_imported += 1;
                let check = accord(&["check", target.to_str().unwrap(), "--at", AT]);
                assert!(check.success, "{}: {}", file.display(), check.stderr);
            } else {
                // Refused: the message names the file, line and field.
                let name = file.file_name().unwrap().to_str().unwrap();
                assert!(
                    run.stderr.contains(name) && run.stderr.contains(": spec."),
                    "{}",
                    run.stderr
                );
            }
        }
        assert_eq!(n_imported, 4, "{}", dir.display());
    }
}

fn accord_with(backend: &Backend, args: &[&str]) -> Run {
    let flags = backend.flags();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(flags.iter().map(String::as_str));
    accord(&all)
}

#[test]
fn apply_history_diff_and_lifecycle_on_every_backend() {
    for backend in backends("revisions") {
        let dir = examples_copy();
        let root = dir.path().to_str().unwrap().to_owned();
        let first =
            accord_with(&backend, &["apply", &root, "--author", "alice", "-m", "initial"]).ok();
        assert!(
            first.stdout.contains("created: Agreement acme-sla revision 1"),
            "{}",
            first.stdout
        );
        assert!(first.stdout.contains("documents changed; 0 unchanged"), "{}", first.stdout);

        // Applying the same documents again stores nothing.
        let again = accord_with(&backend, &["apply", &root, "--author", "alice"]).ok();
        assert!(again.stdout.starts_with("0 of "), "{}", again.stdout);

        // A comment is not a change; a new target is.
        let acme = dir.path().join("agreements/acme-sla.yaml");
        let text = std::fs::read_to_string(&acme).unwrap();
        std::fs::write(&acme, format!("# Reviewed 2026-11.\n{text}")).unwrap();
        let comment = accord_with(&backend, &["apply", &root, "--author", "bob"]).ok();
        assert!(comment.stdout.starts_with("0 of "), "{}", comment.stdout);
        let changed = regex_free_replace_target(&text, "resolution", "P1", "90m");
        std::fs::write(&acme, changed).unwrap();
        let second =
            accord_with(&backend, &["apply", &root, "--author", "bob", "-m", "faster P1"]).ok();
        assert!(
            second.stdout.contains("updated: Agreement acme-sla revision 2"),
            "{}",
            second.stdout
        );
        assert!(
            second.stdout.starts_with("updated: Agreement acme-sla revision 2\n1 of "),
            "{}",
            second.stdout
        );

        let diff = accord_with(&backend, &["diff", "acme-sla", "1", "2"]).ok();
        assert!(diff.stdout.contains("  P1 resolution: 2h to 1h30m"), "{}", diff.stdout);

        // Lifecycle: revision 1 through review to active, then revision 2 supersedes it.
        for action in ["submit", "approve", "activate"] {
            accord_with(
                &backend,
                &["lifecycle", "acme-sla", action, "--revision", "1", "--by", "carol"],
            )
            .ok();
        }
        let refused =
            accord_with(&backend, &["lifecycle", "acme-sla", "activate", "--revision", "2"])
                .failed();
        assert!(
            refused.stderr.contains("cannot activate revision 2: it is draft"),
            "{}",
            refused.stderr
        );
        for action in ["submit", "approve", "activate"] {
            accord_with(&backend, &["lifecycle", "acme-sla", action, "--by", "dave"]).ok();
        }
        let history = accord_with(&backend, &["history", "acme-sla"]).ok();
        let out = &history.stdout;
        assert!(out.contains("revision 1 [superseded]"), "{out}");
        assert!(out.contains("revision 2 [active]"), "{out}");
        assert!(out.contains("by bob"), "{out}");
        assert!(out.contains("approved -> active by dave"), "{out}");
        assert!(out.contains("superseded by revision 2"), "{out}");

        // Explain over the store uses the revisions active now.
        for action in ["submit", "approve", "activate"] {
            accord_with(&backend, &["lifecycle", "corporate-sla", action, "--by", "carol"]).ok();
        }
        let explain = accord_with(
            &backend,
            &["explain", "--customer", "acme", "--service", "cloud-hosting", "--priority", "P1"],
        )
        .ok();
        assert!(explain.stdout.contains("P1 resolution: 1h30m"), "{}", explain.stdout);
        assert!(explain.stdout.contains("acme-sla.yaml@2:"), "{}", explain.stdout);
    }
}
