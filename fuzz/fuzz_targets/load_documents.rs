//! Fuzzes the agreement document loader: any UTF-8 text given to `catalog::load` must come
//! back as a catalog or as errors, never as a panic, and a catalog that loads must survive
//! `agreement::check` too.
//!
//! Included files (a calendar's `holidayFiles`) are an empty map, so nothing is read from disk
//! and a document that names one gets an error instead.

#![no_main]

use std::collections::BTreeMap;
use std::path::PathBuf;

use accord_core::agreement;
use accord_format::catalog::{self, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    let input = Input {
        path: PathBuf::from("fuzz.yaml"),
        first_line: 1,
        text: text.to_owned(),
        files: Some(BTreeMap::new()),
    };
    match catalog::load(&[input]) {
        // Rendering is part of the contract too: every error is shown to the user.
        Err(errors) => drop(errors.to_string()),
        Ok(loaded) => {
            let findings = agreement::check(&loaded.catalog, jiff::civil::date(2026, 11, 21));
            for finding in &findings {
                drop(finding.to_string());
            }
        }
    }
});
