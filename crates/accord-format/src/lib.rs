//! Accord's document formats: text that people write or other tools export, turned into
//! `accord-core` values with errors that point at the file, line and field.
//!
//! This crate is separate from `accord-core` because it carries the parsing dependencies
//! (serde, a YAML reader, JSON) that the pure core does without, and separate from the binary so
//! that the loaders can be tested and fuzzed on their own.
//!
//! - [`document`]: YAML documents (`apiVersion: accord/v1`, `kind: Calendar`, ...).
//! - [`ical`]: iCalendar (`.ics`) holiday files.
//! - [`events`]: ticket events from helpdesks, as JSON Lines.
//! - [`adapters`]: helpdesk webhook payloads (Zammad, Jira, Zendesk, generic mappings) as ticket
//!   events.
//! - [`notifications`]: who escalation ladders notify, and the message templates.
//! - [`openslo`]: OpenSLO v1 documents, imported as Accord services and agreements.
//! - [`bizbench`]: the business-time conformance workload's interchange format.

#![warn(missing_docs)]

pub mod adapters;
pub mod bizbench;
pub mod catalog;
pub mod document;
pub mod events;
pub mod ical;
pub mod incidents;
pub mod notifications;
pub mod openslo;
pub mod probes;
mod tree;

use std::fmt;
use std::path::{Path, PathBuf};

use jiff::civil::Weekday;

/// Input that does not fit its format, located as precisely as the format allows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FormatError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, or 0 when unknown.
    pub line: usize,
    /// The 1-based column, or 0 when unknown.
    pub column: usize,
    /// The field path (`spec.hours.mon[1]`), or empty when none applies.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl FormatError {
    pub(crate) fn at(
        path: &Path,
        line: usize,
        column: usize,
        field: &str,
        message: impl Into<String>,
    ) -> FormatError {
        FormatError {
            path: path.to_owned(),
            line,
            column,
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Several errors found in one pass, so a user can fix them all at once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FormatErrors(pub Vec<FormatError>);

impl fmt::Display for FormatErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (error_idx, error) in self.0.iter().enumerate() {
            if error_idx > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

/// Parses a weekday as written in documents: `mon` or `monday`, any case.
pub(crate) fn parse_weekday(text: &str) -> Option<Weekday> {
    let weekday = match text.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    };
    Some(weekday)
}
