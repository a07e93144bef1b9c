//! The integration tests: one binary, one module per feature, each running the real `accord`
//! executable the way a user does.

mod agreements;
mod availability;
mod calendar;
mod clocks;
mod conformance;
mod probes;

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
