//! Shared by the clock test files: a catalog from YAML text.

use std::collections::BTreeMap;
use std::path::PathBuf;

use accord_core::agreement::Catalog;

/// The catalog of `text` (documents separated by `---`), or a panic naming every error.
pub(crate) fn catalog(text: &str) -> Catalog {
    let input = accord_format::catalog::Input {
        path: PathBuf::from("test.yaml"),
        first_line: 1,
        text: text.to_owned(),
        files: Some(BTreeMap::new()),
    };
    match accord_format::catalog::load(&[input]) {
        Ok(loaded) => loaded.catalog,
        Err(errors) => panic!("fixture does not load:\n{errors}"),
    }
}
