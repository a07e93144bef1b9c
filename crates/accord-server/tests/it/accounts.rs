//! `accord user` and `accord token`: accounts made from the command line land in the store
//! with hashed secrets, bad input is refused with exit status 1, and no password or token is
//! printed where it should not be.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use accord_core::access::{Role, Scope, Scopes};
use accord_server::account_cmd::{secret_hash, verify_password};
use accord_store::{Location, Store};

use crate::{Backend, backends};

const PASSWORD: &str = "correct horse battery staple";

/// What one run of `accord` did.
#[derive(Debug)]
struct Outcome {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Runs `accord` with `args` and the store flags of `backend`, writing `stdin` to it.
fn accord_stdin(backend: &Backend, args: &[&str], stdin: &str) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .args(backend.flags())
        .env_remove("ACCORD_DATA")
        .env_remove("ACCORD_DATABASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("accord runs");
    // A command that does not read stdin may exit before the write: a broken pipe is fine.
    let _ = child.stdin.take().expect("stdin is piped").write_all(stdin.as_bytes());
    let output = child.wait_with_output().expect("accord finishes");
    Outcome {
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        code: output.status.code(),
    }
}

/// Runs `accord` with nothing on stdin.
fn accord(backend: &Backend, args: &[&str]) -> Outcome {
    accord_stdin(backend, args, "")
}

impl Outcome {
    #[track_caller]
    fn ok(self) -> Outcome {
        assert_eq!(self.code, Some(0), "accord failed:\n{}", self.stderr);
        self
    }

    /// Exit status 1 with `message` on stderr.
    #[track_caller]
    fn refused(self, message: &str) -> Outcome {
        assert_eq!(self.code, Some(1), "accord did not exit with 1:\n{self:?}");
        assert!(self.stderr.contains(message), "expected {message:?} in:\n{}", self.stderr);
        self
    }

    /// Exit status 2, clap's for a command line it cannot parse, with `message` on stderr.
    #[track_caller]
    fn unparsed(self, message: &str) -> Outcome {
        assert_eq!(self.code, Some(2), "accord did not exit with 2:\n{self:?}");
        assert!(self.stderr.contains(message), "expected {message:?} in:\n{}", self.stderr);
        self
    }

    /// Neither output contains `secret`.
    #[track_caller]
    fn never_shows(self, secret: &str) -> Outcome {
        assert!(!self.stdout.contains(secret) && !self.stderr.contains(secret), "{self:?}");
        self
    }
}

/// Opens the store `backend` holds, the way the server does, and runs `read` on it.
fn with_store<T>(backend: &Backend, read: impl AsyncFnOnce(&Store) -> T) -> T {
    let location = match backend {
        Backend::Sqlite(dir) => Location::Sqlite(dir.path().join("accord.db")),
        Backend::Postgres { url, .. } => Location::Postgres(url.clone()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = Store::open(&location).await.unwrap();
        let out = read(&store).await;
        store.close().await;
        out
    })
}

fn sqlite() -> Backend {
    Backend::Sqlite(tempfile::tempdir().unwrap())
}

fn password_file(dir: &Path, password: &str) -> String {
    let path = dir.join("password");
    std::fs::write(&path, format!("{password}\n")).unwrap();
    path.display().to_string()
}

#[test]
fn users_are_added_from_a_password_file_or_stdin_and_stored_hashed() {
    let files = tempfile::tempdir().unwrap();
    let file = password_file(files.path(), PASSWORD);
    for backend in backends("accounts_users") {
        let added =
            accord(&backend, &["user", "add", "ann", "--role", "admin", "--password-file", &file])
                .ok()
                .never_shows(PASSWORD);
        assert_eq!(added.stdout, "user ann added (role admin)\n");
        let from_stdin = "another long password";
        accord_stdin(
            &backend,
            &["user", "add", "bea", "--role", "viewer"],
            &format!("{from_stdin}\r\n"),
        )
        .ok()
        .never_shows(from_stdin);
        accord(
            &backend,
            &[
                "user",
                "add",
                "carl",
                "--role",
                "customer",
                "--customer",
                "acme",
                "--password-file",
                &file,
            ],
        )
        .ok();

        let list = accord(&backend, &["user", "list"]).ok().never_shows("$argon2");
        let lines: Vec<&str> = list.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{}", list.stdout);
        assert!(lines[0].starts_with("NAME  ROLE      CUSTOMER  CREATED"), "{}", list.stdout);
        assert!(lines[1].starts_with("ann   admin     -         20"), "{}", list.stdout);
        assert!(lines[2].starts_with("bea   viewer    -         20"), "{}", list.stdout);
        assert!(lines[3].starts_with("carl  customer  acme      20"), "{}", list.stdout);

        // Stored as Argon2id PHC strings of the line, without its line ending.
        let (ann, bea, carl) = with_store(&backend, async |store| {
            let user = async |name| store.user(name).await.unwrap().unwrap();
            (user("ann").await, user("bea").await, user("carl").await)
        });
        assert!(ann.password_hash.starts_with("$argon2id$v=19$"), "{}", ann.password_hash);
        assert!(verify_password(PASSWORD, &ann.password_hash));
        assert!(verify_password(from_stdin, &bea.password_hash));
        assert_ne!(ann.password_hash, carl.password_hash, "each hash has its own salt");
        assert_eq!((carl.role, carl.customer.as_deref()), (Role::Customer, Some("acme")));

        // A new password replaces the old one; disabling shows in the list.
        let changed = "a brand new passphrase";
        accord_stdin(&backend, &["user", "passwd", "ann"], &format!("{changed}\n"))
            .ok()
            .never_shows(changed);
        accord(&backend, &["user", "disable", "bea"]).ok();
        let (ann, bea) = with_store(&backend, async |store| {
            (store.user("ann").await.unwrap().unwrap(), store.user("bea").await.unwrap().unwrap())
        });
        assert!(verify_password(changed, &ann.password_hash));
        assert!(!verify_password(PASSWORD, &ann.password_hash));
        assert!(bea.disabled_at.is_some());
        let list = accord(&backend, &["user", "list"]).ok();
        let bea_line = list.stdout.lines().find(|line| line.starts_with("bea ")).unwrap();
        assert!(bea_line.ends_with(" UTC"), "{bea_line}");

        accord(&backend, &["user", "passwd", "nobody", "--password-file", &file])
            .refused("no user nobody");
        accord(&backend, &["user", "disable", "nobody"]).refused("no user nobody");
    }
}

#[test]
fn a_taken_user_name_is_refused_with_exit_1() {
    let backend = sqlite();
    let files = tempfile::tempdir().unwrap();
    let file = password_file(files.path(), PASSWORD);
    accord(&backend, &["user", "add", "ann", "--role", "admin", "--password-file", &file]).ok();
    accord(&backend, &["user", "add", "ann", "--role", "viewer", "--password-file", &file])
        .refused("user ann already exists")
        .never_shows(PASSWORD);
    let ann = with_store(&backend, async |store| store.user("ann").await.unwrap().unwrap());
    assert_eq!(ann.role, Role::Admin);
}

#[test]
fn empty_short_and_multi_line_passwords_are_refused_without_showing_them() {
    let backend = sqlite();
    accord_stdin(&backend, &["user", "add", "ann", "--role", "admin"], "hunter2\n")
        .refused("error: the password is too short: 7 characters, at least 12 needed")
        .never_shows("hunter2");
    accord_stdin(&backend, &["user", "add", "ann", "--role", "admin"], "\n")
        .refused("error: the password is empty");
    accord(&backend, &["user", "add", "ann", "--role", "admin"])
        .refused("error: the password is empty");
    let files = tempfile::tempdir().unwrap();
    let two_lines = password_file(files.path(), "first long line\nsecond long line");
    accord(&backend, &["user", "add", "ann", "--role", "admin", "--password-file", &two_lines])
        .refused("has more than one line")
        .never_shows("long line");
    let missing = files.path().join("missing").display().to_string();
    accord(&backend, &["user", "add", "ann", "--role", "admin", "--password-file", &missing])
        .refused("reading the password file");
    assert_eq!(with_store(&backend, async |store| store.users().await.unwrap()), []);
}

#[test]
fn the_customer_role_and_only_it_takes_a_customer() {
    let backend = sqlite();
    let files = tempfile::tempdir().unwrap();
    let file = password_file(files.path(), PASSWORD);
    accord(&backend, &["user", "add", "carl", "--role", "customer", "--password-file", &file])
        .refused("error: role customer needs --customer NAME");
    accord(
        &backend,
        &["user", "add", "ann", "--role", "agent", "--customer", "acme", "--password-file", &file],
    )
    .refused("error: --customer is only for role customer, not agent");
    accord(&backend, &["token", "add", "portal", "--role", "customer"])
        .refused("error: role customer needs --customer NAME");
    accord(&backend, &["user", "add", "ann", "--role", "owner", "--password-file", &file])
        .unparsed("[possible values: admin, agent, viewer, customer]");
    let (users, tokens) = with_store(&backend, async |store| {
        (store.users().await.unwrap(), store.tokens().await.unwrap())
    });
    assert_eq!((users, tokens), (vec![], vec![]));
}

#[test]
fn a_token_is_printed_once_and_only_its_hash_is_stored() {
    for backend in backends("accounts_tokens") {
        let added =
            accord(&backend, &["token", "add", "collector", "--role", "agent", "--by", "ann"]).ok();
        // Stdout is the token alone, so `TOKEN=$(accord token add ...)` works.
        let token = added.stdout.trim_end().to_owned();
        assert_eq!(added.stdout, format!("{token}\n"));
        assert!(token.starts_with("acc_") && token.len() == 47, "{token}");
        assert!(
            added
                .stderr
                .contains("token 1 added: collector (role agent, scopes read,write,ingest)"),
            "{}",
            added.stderr
        );
        assert!(added.stderr.contains("will not be shown again"), "{}", added.stderr);

        let ingest = accord(
            &backend,
            &["token", "add", "probe", "--role", "admin", "--scope", "ingest", "--scope", "read"],
        )
        .ok();
        let second = ingest.stdout.trim_end().to_owned();
        assert_ne!(second, token);
        accord(&backend, &["token", "add", "portal", "--role", "customer", "--customer", "acme"])
            .ok();

        let list =
            accord(&backend, &["token", "list"]).ok().never_shows(&token).never_shows(&second);
        let lines: Vec<&str> = list.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{}", list.stdout);
        let columns = |line: &str| {
            line.split("  ")
                .filter(|cell| !cell.is_empty())
                .map(str::trim)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            columns(lines[0]),
            ["ID", "NAME", "ROLE", "SCOPES", "CUSTOMER", "CREATED", "BY", "LAST USED", "REVOKED"]
        );
        let collector = columns(lines[1]);
        assert_eq!(collector[..5], ["1", "collector", "agent", "read,write,ingest", "-"]);
        assert_eq!(collector[6..], ["ann", "never", "-"]);
        assert_eq!(columns(lines[2])[..5], ["2", "probe", "admin", "read,ingest", "-"]);
        assert_eq!(columns(lines[3])[..5], ["3", "portal", "customer", "read", "acme"]);

        let (found, unknown) = with_store(&backend, async |store| {
            let found = store.token_by_hash(&secret_hash(&token)).await.unwrap();
            let unknown = store.token_by_hash(&secret_hash("acc_guess")).await.unwrap();
            (found, unknown)
        });
        let found = found.expect("the token is found by the hash of its secret");
        assert_eq!(
            (found.id, found.name.as_str(), found.created_by.as_str()),
            (1, "collector", "ann")
        );
        assert_eq!(found.scopes, Scopes::of(&[Scope::Read, Scope::Write, Scope::Ingest]));
        assert_eq!(unknown, None);
    }
}

#[test]
fn a_revoked_token_is_listed_as_revoked_and_cannot_be_revoked_again() {
    for backend in backends("accounts_revoke") {
        let token = accord(&backend, &["token", "add", "ci", "--role", "viewer"]).ok().stdout;
        let revoked = accord(&backend, &["token", "revoke", "1"]).ok();
        assert_eq!(revoked.stdout, "token 1 revoked\n");
        accord(&backend, &["token", "revoke", "1"])
            .refused("error: no token 1 to revoke: it does not exist or was revoked already");
        accord(&backend, &["token", "revoke", "7"]).refused("no token 7 to revoke");
        let list = accord(&backend, &["token", "list"]).ok();
        let line = list.stdout.lines().nth(1).unwrap();
        assert!(line.starts_with("1   ci    viewer  read"), "{line}");
        assert!(line.ends_with(" UTC"), "revoked at an instant: {line}");

        let found = with_store(&backend, async |store| {
            store.token_by_hash(&secret_hash(token.trim_end())).await.unwrap().unwrap()
        });
        assert!(found.revoked_at.is_some());
    }
}

#[test]
fn a_scope_the_role_cannot_hold_is_refused_by_name() {
    let backend = sqlite();
    accord(&backend, &["token", "add", "ci", "--role", "viewer", "--scope", "ingest"])
        .refused("error: role viewer cannot hold scope ingest: it may hold read");
    accord(
        &backend,
        &["token", "add", "ci", "--role", "agent", "--scope", "read", "--scope", "admin"],
    )
    .refused("error: role agent cannot hold scope admin: it may hold read, write, ingest");
    accord(&backend, &["token", "add", "ci", "--role", "agent", "--scope", "everything"])
        .unparsed("[possible values: read, write, ingest, admin]");
    assert_eq!(with_store(&backend, async |store| store.tokens().await.unwrap()), []);
}
