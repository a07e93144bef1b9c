//! The OpenSLO importer over real OpenSLO example files: every file in `tests/data/openslo/`
//! (copied from the OpenSLO repository, see its README.md) either imports or is refused with a
//! message naming the unsupported field, and each file's outcome is pinned here. When the
//! workspace's sibling `shared/data/openslo/` exists, its files are checked the same way.

use std::path::{Path, PathBuf};

use accord_format::openslo;
use expect_test::{ExpectFile, expect_file};

const LOCAL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/openslo");
const SHARED_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/openslo");

/// What importing a file must do.
enum Outcome {
    /// It imports; the YAML contains every line of `contains` and matches `golden`.
    Imports { contains: &'static [&'static str], golden: ExpectFile },
    /// It is refused, first at `at` (`line:column: field`), with `message` in the error.
    Refused { at: &'static str, message: &'static str },
}

/// The pinned outcome of each example file, by file name.
fn outcome(file_name: &str) -> Option<Outcome> {
    let outcome = match file_name {
        // A latency threshold (`op: lt`, `value: 500`) with no unit: not safely a latency.
        "budgeting-method--occurences-slo.yaml" => Outcome::Refused {
            at: "27:14: spec.objectives[0].value",
            message: "value 500 of threshold metric search-latency has no unit in OpenSLO",
        },
        "budgeting-method--ratio-timeslices.yaml" => Outcome::Imports {
            contains: &[
                "  name: web-shop-slos",
                "    services: [web-shop]",
                "      - name: main-page",
                "        target: 99",
                "        window: rolling 14d",
                "        method: ratio_timeslices",
                "        timeslice: 1m",
                "        source: requests:response-code",
            ],
            golden: expect_file!["data/openslo-expected/budgeting-method--ratio-timeslices.yaml"],
        },
        // `duration: 1m` calendar-aligned is one minute in OpenSLO (months are `1M`), though
        // the comment says a month was meant: refused rather than guessed.
        "budgeting-method--timeslices-slo.yaml" => Outcome::Refused {
            at: "27:17: spec.timeWindow[0].duration",
            message: "unsupported calendar-aligned window 1m (m is minutes; months are M)",
        },
        "treat-low-traffic-as-equally-important--timeslices-slo.yaml" => Outcome::Imports {
            contains: &[
                "      - name: service-availability",
                "        target: 99.95",
                "        window: week",
                "        timeZone: America/New_York",
                "        method: timeslices",
                "        timeslice: 1m",
                "        sliceTarget: 95",
                "        source: requests:web-availability",
            ],
            golden: expect_file![
                "data/openslo-expected/treat-low-traffic-as-equally-important--timeslices-slo.yaml"
            ],
        },
        "v1-examples--services.yaml" => Outcome::Imports {
            contains: &[
                "kind: Service",
                "  name: example-service",
                "    env: prod",
                "  description: Example service description",
            ],
            golden: expect_file!["data/openslo-expected/v1-examples--services.yaml"],
        },
        "v1-examples--slos.yaml" => Outcome::Imports {
            contains: &[
                "  name: web-slos",
                "      - name: web-availability",
                "        target: 99.5",
                "        window: week",
                "        method: timeslices",
                "        sliceTarget: 95",
                "        source: requests:web-successful-requests-ratio",
            ],
            golden: expect_file!["data/openslo-expected/v1-examples--slos.yaml"],
        },
        _ => return None,
    };
    Some(outcome)
}

/// The `*.yaml` files of `dir`, sorted.
fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|error| panic!("reading {dir}: {error}"));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yaml"))
        .collect();
    files.sort();
    files
}

/// Imports `path` under its file name (so that output and errors do not depend on where the
/// checkout is) and checks its pinned outcome, or for a file without one, that it imports or
/// that every error names a line and a field.
#[track_caller]
fn check_file(path: &Path) -> Result<(), String> {
    let file_name = path.file_name().and_then(|name| name.to_str()).expect("a UTF-8 file name");
    let text = std::fs::read_to_string(path).map_err(|error| format!("{file_name}: {error}"))?;
    let result = openslo::import(Path::new(file_name), &text);
    match (outcome(file_name), result) {
        (Some(Outcome::Imports { contains, golden }), Ok(imported)) => {
            for line in contains {
                if !imported.yaml.lines().any(|actual| actual == *line) {
                    return Err(format!("{file_name}: no line {line:?} in\n{}", imported.yaml));
                }
            }
            golden.assert_eq(&imported.yaml);
            check_reads_back(file_name, &imported.yaml)
        }
        (Some(Outcome::Refused { at, message }), Err(errors)) => {
            let first = errors.0.first().expect("a refusal has an error").to_string();
            let expected_start = format!("{file_name}:{at}: ");
            if !first.starts_with(&expected_start) || !first.contains(message) {
                return Err(format!(
                    "{file_name}: expected an error starting {expected_start:?} with {message:?}, \
                     got {first:?}"
                ));
            }
            Ok(())
        }
        (Some(Outcome::Imports { .. }), Err(errors)) => {
            Err(format!("{file_name}: expected an import, got errors:\n{errors}"))
        }
        (Some(Outcome::Refused { at, .. }), Ok(imported)) => Err(format!(
            "{file_name}: expected a refusal at {at}, got an import:\n{}",
            imported.yaml
        )),
        (None, Ok(imported)) => check_reads_back(file_name, &imported.yaml),
        (None, Err(errors)) => {
            for error in &errors.0 {
                if error.line == 0 || error.field.is_empty() {
                    return Err(format!("{file_name}: the error names no line or field: {error}"));
                }
            }
            Ok(())
        }
    }
}

/// Checks that `yaml` reads back as Accord documents: a mapping each, with `apiVersion`,
/// `kind`, `metadata.name` and `spec`.
fn check_reads_back(file_name: &str, yaml: &str) -> Result<(), String> {
    let documents: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml)
        .map_err(|error| format!("{file_name}: the output is not YAML: {error}"))?;
    for document in &documents {
        let name = document.pointer("/metadata/name").and_then(|name| name.as_str());
        let kind = document.get("kind").and_then(|kind| kind.as_str());
        if document.get("apiVersion").and_then(|version| version.as_str()) != Some("accord/v1")
            || !matches!(kind, Some("Service" | "Agreement"))
            || name.is_none()
            || document.get("spec").is_none()
        {
            return Err(format!("{file_name}: not an Accord document: {document}"));
        }
    }
    Ok(())
}

#[test]
fn every_example_file_imports_or_is_refused_as_pinned() {
    let files = yaml_files(LOCAL_DIR);
    assert_eq!(files.len(), 6, "the six OpenSLO example files: {files:?}");
    for path in &files {
        let file_name = path.file_name().and_then(|name| name.to_str()).expect("a file name");
        assert!(outcome(file_name).is_some(), "{file_name}: pin its outcome in outcome()");
        if let Err(failure) = check_file(path) {
            panic!("{failure}");
        }
    }
}

#[test]
fn the_shared_example_files_import_or_are_refused_too() {
    // The shared directory is the source of the copies above; it is absent on a plain clone.
    if !Path::new(SHARED_DIR).is_dir() {
        return;
    }
    let failures: Vec<String> =
        yaml_files(SHARED_DIR).iter().filter_map(|path| check_file(path).err()).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_example_copies_keep_their_license_and_readme() {
    for file_name in ["LICENSE-OpenSLO", "README.md"] {
        let path = Path::new(LOCAL_DIR).join(file_name);
        assert!(path.is_file(), "{} is missing", path.display());
    }
}

#[test]
fn the_golden_outputs_load_as_an_accord_catalog() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/openslo-expected");
    let goldens = yaml_files(dir);
    assert_eq!(goldens.len(), 4, "{goldens:?}");
    for path in goldens {
        if let Err(errors) = accord_format::catalog::load_path(&path) {
            panic!("Accord's loader refuses {}:\n{errors}", path.display());
        }
    }
}
