//! The integration tests: one binary, one module per feature, each running the real `accord`
//! executable the way a user does.

mod accounts;
mod adapters;
mod agreements;
mod api_agreements;
mod api_availability;
mod audit;
mod availability;
mod backtest;
mod browser;
mod calendar;
mod clocks;
mod conformance;
mod escalations;
mod http;
mod matrix;
mod nats;
mod probes;
mod probing;
mod reporting;
mod reports;
mod server;
mod sessions;
mod survey;
mod web_agreements;
mod web_dashboard;
mod web_tickets;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// `shared/data/<name>` beside the repository, when it is there (it is on CI and developer
/// machines, not on a bare clone).
fn shared_data(name: &str) -> Option<PathBuf> {
    let path = workspace().join("../shared/data").join(name);
    path.is_dir().then_some(path)
}

/// What one run of `accord` printed.
struct Run {
    stdout: String,
    stderr: String,
    success: bool,
}

/// Runs `accord` with `args` from the workspace root.
fn accord(args: &[&str]) -> Run {
    accord_in(&workspace(), args)
}

/// Runs `accord` with `args` in `dir`.
fn accord_in(dir: &Path, args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("accord runs");
    Run {
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        success: output.status.success(),
    }
}

impl Run {
    #[track_caller]
    fn ok(self) -> Run {
        assert!(self.success, "accord failed:\n{}", self.stderr);
        self
    }

    #[track_caller]
    fn failed(self) -> Run {
        assert!(!self.success, "accord succeeded but should not have:\n{}", self.stdout);
        self
    }
}

/// Where a test keeps its store.
pub(crate) enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, admin_url: String, database: String },
}

impl Backend {
    pub(crate) fn flags(&self) -> Vec<String> {
        match self {
            Backend::Sqlite(dir) => vec!["--data".into(), dir.path().display().to_string()],
            Backend::Postgres { url, .. } => vec!["--database".into(), url.clone()],
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Postgres { admin_url, database, .. } = self {
            let _ = Command::new("psql")
                .args([admin_url.as_str(), "-qc", &format!("DROP DATABASE IF EXISTS {database}")])
                .output();
        }
    }
}

/// SQLite always; PostgreSQL too when `ACCORD_TEST_POSTGRES_URL` is set, in a fresh database.
#[expect(clippy::print_stderr, reason = "a skipped backend is said on the test's stderr")]
pub(crate) fn backends(test: &str) -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite(tempfile::tempdir().unwrap())];
    match std::env::var("ACCORD_TEST_POSTGRES_URL") {
        Ok(admin_url) => {
            let database = format!("accord_it_{test}_{}", std::process::id());
            let created = Command::new("psql")
                .args([admin_url.as_str(), "-qc", &format!("CREATE DATABASE {database}")])
                .output()
                .expect("psql runs");
            assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
            let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
            let url = format!("{base}/{database}");
            backends.push(Backend::Postgres { url, admin_url, database });
        }
        Err(_) => eprintln!("skipping PostgreSQL: ACCORD_TEST_POSTGRES_URL is not set"),
    }
    backends
}
