//! `accord audit` and `/api/v1/audit`: documents applied, a lifecycle step, a user and a token
//! each leave an entry; the chain verifies; an entry edited or removed with the database's own
//! client (the append-only triggers turned off) makes `accord audit verify` exit 1 naming it,
//! and a removed tail shows against the head printed before.

use std::process::Command;

use serde_json::Value;

use crate::http::{Server, token};
use crate::{Backend, Run, backends};

fn accord_with(backend: &Backend, args: &[&str]) -> Run {
    let flags = backend.flags();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(flags.iter().map(String::as_str));
    crate::accord(&all)
}

/// Runs SQL with the database's own command-line client, as someone with the file or a
/// database login would: `sqlite3` or `psql`. Returns what it printed.
fn behind_accords_back(backend: &Backend, sql: &str) -> String {
    let output = match backend {
        Backend::Sqlite(dir) => Command::new("sqlite3")
            .arg(dir.path().join("accord.db"))
            .arg(sql)
            .output()
            .expect("sqlite3 runs (apt-get install sqlite3)"),
        Backend::Postgres { url, .. } => Command::new("psql")
            .args([url.as_str(), "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql runs"),
    };
    assert!(output.status.success(), "{sql}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// Turns off the triggers that keep the audit log append-only.
fn bypass_the_triggers(backend: &Backend) {
    let sql = match backend {
        Backend::Sqlite(_) => {
            "DROP TRIGGER audit_is_not_updated; DROP TRIGGER audit_is_not_deleted;"
        }
        Backend::Postgres { .. } => "ALTER TABLE audit DISABLE TRIGGER USER;",
    };
    behind_accords_back(backend, sql);
}

/// The `SEQ:HASH` at the end of `audit log intact: N entries, head SEQ:HASH`.
fn head(verified: &Run) -> String {
    verified.stdout.trim_end().rsplit_once("head ").expect("a head").1.to_owned()
}

/// The seq of the first line of `accord audit log` that contains `needle`.
fn seq_of(log: &str, needle: &str) -> u64 {
    let line = log.lines().find(|line| line.contains(needle)).unwrap_or_else(|| panic!("{needle}"));
    line.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn audit_verify_names_the_entry_edited_or_removed_behind_accords_back() {
    let files = tempfile::tempdir().unwrap();
    let password = files.path().join("password");
    std::fs::write(&password, "correct horse battery staple\n").unwrap();
    let examples = crate::workspace().join("examples");
    for backend in backends("audit") {
        let empty = accord_with(&backend, &["audit", "verify"]).ok();
        assert_eq!(empty.stdout, "audit log intact: 0 entries\n");

        accord_with(&backend, &["apply", examples.to_str().unwrap(), "--author", "alice"]).ok();
        accord_with(&backend, &["lifecycle", "acme-sla", "submit", "--by", "carol"]).ok();
        let password = password.to_str().unwrap();
        accord_with(
            &backend,
            &["user", "add", "ann", "--role", "viewer", "--password-file", password],
        )
        .ok();
        let admin = token(&backend, "root", "admin", &["--by", "dave"]);

        let log = accord_with(&backend, &["audit", "log"]).ok().stdout;
        let n_entries = log.lines().count();
        assert!(log.contains(" alice revision.create Agreement/acme-sla r1 {"), "{log}");
        assert!(log.contains(" carol lifecycle.submit Agreement/acme-sla r1 {"), "{log}");
        assert!(log.contains(r#" user.create user ann {"role":"viewer"}"#), "{log}");
        assert!(
            log.contains(r#" dave token.create token 1 {"name":"root","role":"admin","#),
            "{log}"
        );
        assert!(!log.contains("argon2") && !log.contains(&admin), "{log}");
        let page = accord_with(&backend, &["audit", "log", "--after", "1", "--limit", "2"]).ok();
        assert_eq!(page.stdout.lines().collect::<Vec<_>>(), log.lines().collect::<Vec<_>>()[1..3]);
        assert!(
            page.stderr.contains("more may follow: accord audit log --after 3"),
            "{}",
            page.stderr
        );

        let verified = accord_with(&backend, &["audit", "verify"]).ok();
        let head = head(&verified);
        assert_eq!(
            verified.stdout,
            format!("audit log intact: {n_entries} entries, head {head}\n")
        );
        assert!(head.starts_with(&format!("{n_entries}:")), "{head}");
        accord_with(&backend, &["audit", "verify", "--expect-head", &head]).ok();
        let malformed = accord_with(&backend, &["audit", "verify", "--expect-head", "7"]).failed();
        assert!(malformed.stderr.contains("is not SEQ:HASH"), "{}", malformed.stderr);

        // The API gives the same finding to an administrator.
        let server = Server::start(&backend);
        let reply = server.get("/api/v1/audit/verify", &admin);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let finding = reply.json();
        assert_eq!(finding["intact"], true, "{finding}");
        assert_eq!(finding["head"]["text"], head.as_str(), "{finding}");
        let reply = server.get("/api/v1/audit?after=1&limit=1", &admin);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let entries = reply.json();
        assert_eq!(entries["entries"][0]["seq"], 2, "{entries}");
        assert_eq!(entries["next"], 2, "{entries}");
        drop(server);

        bypass_the_triggers(&backend);

        // An edited entry: the lifecycle step's note.
        let edited = seq_of(&log, "lifecycle.submit");
        let select = format!("SELECT detail FROM audit WHERE seq = {edited}");
        let original = behind_accords_back(&backend, &select).trim_end().to_owned();
        let edit = format!(
            r#"UPDATE audit SET detail = '{{"note":"approved by the board"}}' WHERE seq = {edited}"#
        );
        behind_accords_back(&backend, &edit);
        let broken = accord_with(&backend, &["audit", "verify"]).failed();
        assert!(
            broken.stderr.contains(&format!(
                "audit log broken at entry {edited}: hash does not match its content"
            )),
            "{}",
            broken.stderr
        );
        let server = Server::start(&backend);
        let finding: Value = server.get("/api/v1/audit/verify", &admin).json();
        assert_eq!(finding["intact"], false, "{finding}");
        assert_eq!(finding["problem"]["seq"], edited, "{finding}");
        drop(server);
        let original = original.replace('\'', "''");
        behind_accords_back(
            &backend,
            &format!("UPDATE audit SET detail = '{original}' WHERE seq = {edited}"),
        );
        accord_with(&backend, &["audit", "verify", "--expect-head", &head]).ok();

        // A removed tail: the chain left is valid, but the head printed before is gone.
        behind_accords_back(&backend, &format!("DELETE FROM audit WHERE seq = {n_entries}"));
        accord_with(&backend, &["audit", "verify"]).ok();
        let truncated =
            accord_with(&backend, &["audit", "verify", "--expect-head", &head]).failed();
        assert!(
            truncated.stderr.contains(&format!(
                "audit log broken at entry {n_entries}: missing: the log ends at entry {}, before \
                 the expected head {head}",
                n_entries - 1
            )),
            "{}",
            truncated.stderr
        );

        // A removed entry in the middle.
        behind_accords_back(&backend, "DELETE FROM audit WHERE seq = 2");
        let gap = accord_with(&backend, &["audit", "verify"]).failed();
        assert!(
            gap.stderr.contains("audit log broken at entry 2: missing: entry 3 follows entry 1"),
            "{}",
            gap.stderr
        );
    }
}
