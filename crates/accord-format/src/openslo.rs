//! Import of OpenSLO v1 documents (`apiVersion: openslo/v1`) into Accord documents.
//!
//! OpenSLO describes objectives for monitoring tools; Accord keeps agreements. The importer maps
//! the overlap onto Accord `Service` and `Agreement` documents: OpenSLO services, ratio SLIs,
//! rolling and calendar-aligned windows, the three budgeting methods and their targets. What has
//! no safe Accord meaning (threshold metrics without a unit, windows Accord cannot measure,
//! alerting kinds) is refused with the file, line, column and OpenSLO field path, and whatever
//! was changed or approximated on the way is returned as notes.
//!
//! It is separate from [`crate::document`] because it reads a foreign format: it walks a
//! generic YAML tree that keeps every node's position instead of typed structs, and it writes
//! Accord YAML text (stable, for review and golden tests) instead of core values.
//!
//! | OpenSLO                                        | Accord                                      |
//! |------------------------------------------------|---------------------------------------------|
//! | `Service` `metadata.name`, `displayName`       | `Service` `metadata.name`, `metadata.title` |
//! | `Service` `spec.description`                   | `Service` `spec.description`                |
//! | `SLO` `spec.service`                           | `Agreement` `<service>-slos`, `covers.services` |
//! | `SLO` objective with a ratio indicator         | `spec.objectives.availability[]` entry      |
//! | `target` (fraction) / `targetPercent`          | `target` (percent)                          |
//! | `budgetingMethod: Occurrences`                 | `method: requests`                          |
//! | `budgetingMethod: Timeslices`                  | `method: timeslices`, `timeslice`, `sliceTarget` |
//! | `budgetingMethod: RatioTimeslices`             | `method: ratio_timeslices`, `timeslice`     |
//! | rolling `Nd`, `Nw`, `Nh` (whole days)          | `window: rolling Nd`                        |
//! | calendar `1d`, `1w`, `1M`, `1Q`, `1Y`          | `window: day`, `week`, `month`, `quarter`, `year` |
//! | `calendar.timeZone`                            | `timeZone`                                  |
//! | `ratioMetric` good/total or bad/total          | `source: requests:<SLI name>`               |
//! | `ratioMetric` raw                              | `source: metric:<SLI name>`                 |

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use jiff::civil::{DateTime, Weekday};
use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::{FormatError, FormatErrors};

/// The `apiVersion` the importer reads.
pub const API_VERSION: &str = "openslo/v1";

/// The longest Accord name.
const MAX_NAME_LEN: usize = 63;

/// Accord documents converted from one OpenSLO file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
    /// The Accord documents, separated by `---`, after a header comment that names the source
    /// file and repeats the notes.
    pub yaml: String,
    /// What was changed, approximated or left out, one sentence each, in document order.
    pub notes: Vec<String>,
}

/// Converts the OpenSLO v1 documents in `text` into Accord documents; `path` names the file in
/// errors and in the header comment.
///
/// The text may hold several documents separated by `---` lines, and a document may be a list
/// of OpenSLO objects. `Service` documents become Accord services. The objectives of every `SLO`
/// become availability objectives of one `Agreement` per OpenSLO service, named
/// `<service>-slos` (`type: sla`, `level: service`). `SLI` documents are read for the
/// `indicatorRef`s that name them. A service that SLOs name but the file does not define gets a
/// `Service` document with only its name, so that the output loads on its own.
///
/// # Errors
///
/// Every problem found, each naming the file, line, column and OpenSLO field path: YAML syntax,
/// an `apiVersion` other than `openslo/v1`, kinds other than `Service`, `SLI` and `SLO`, unknown
/// or missing fields, and what Accord cannot express (threshold metrics, whose value has no unit;
/// windows in minutes or of several months; unknown budgeting methods).
pub fn import(path: &Path, text: &str) -> Result<Imported, FormatErrors> {
    let mut import = Import { path, errors: Vec::new(), notes: Vec::new() };
    let mut roots = Vec::new();
    for chunk in split_documents(text) {
        match serde_saphyr::from_str::<Spanned<RawValue>>(&chunk.text) {
            Ok(raw) => roots.push(Node::from_raw(raw, chunk.first_line - 1)),
            Err(error) => {
                import.errors.push(crate::document::yaml_error(path, &error, chunk.first_line - 1))
            }
        }
    }
    if !import.errors.is_empty() {
        return Err(import.into_errors());
    }

    let objects = import.objects(&roots);
    let slis = import.slis(&objects);
    let mut slis = Slis { by_name: slis, used: HashSet::new() };
    let services = import.services(&objects);
    let mut slos = Vec::new();
    let mut slo_names: HashMap<&str, At> = HashMap::new();
    for object in objects.iter().filter(|object| object.kind == Kind::Slo) {
        if let Some(first) = slo_names.insert(&object.name, object.name_at) {
            import.error(
                object.name_at,
                &object.metadata.field("name"),
                format!("duplicate SLO name {:?}: line {} has it already", object.name, first.line),
            );
            continue;
        }
        if let Some(slo) = import.slo(object, &mut slis) {
            slos.push(slo);
        }
    }
    for object in objects.iter().filter(|object| object.kind == Kind::Sli) {
        if !slis.used.contains(object.name.as_str()) {
            import.note(format!(
                "SLI {} is not used by an SLO in this file and is not imported: Accord has no \
                 SLI documents",
                object.name
            ));
        }
    }
    if !import.errors.is_empty() {
        return Err(import.into_errors());
    }
    if services.is_empty() && slos.is_empty() {
        import.error(
            At { line: 0, column: 0 },
            "",
            "nothing to import: the file has no OpenSLO Service or SLO documents",
        );
        return Err(import.into_errors());
    }

    let agreements = import.agreements(slos);
    let services = import.add_missing_services(services, &agreements);
    let yaml = write_documents(path, &import.notes, &services, &agreements);
    Ok(Imported { yaml, notes: import.notes })
}

// ----------------------------------------------------------------------------------------------
// Reading: documents, a generic YAML tree with positions, and typed access to it.

/// A 1-based line and column in the file; 0 when unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct At {
    line: usize,
    column: usize,
}

/// One YAML document of the file and the file line it starts on.
struct Chunk {
    first_line: usize,
    text: String,
}

/// Splits `text` on lines that are `---` or start with `--- `, keeping columns: the marker is
/// blanked out, so what follows it on its line stays where it was. Chunks with nothing but
/// blank lines, comments and directives are dropped.
fn split_documents(text: &str) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut current = Chunk { first_line: 1, text: String::new() };
    for (line_idx, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']);
        let is_marker = content == "---" || content.starts_with("--- ");
        if is_marker {
            chunks.push(std::mem::replace(
                &mut current,
                Chunk { first_line: line_idx + 1, text: String::new() },
            ));
            current.text.push_str("   ");
            current.text.push_str(&line[3..]);
        } else {
            current.text.push_str(line);
        }
    }
    chunks.push(current);
    chunks.retain(|chunk| {
        chunk.text.lines().any(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#') && !line.starts_with('%')
        })
    });
    chunks
}

/// A YAML value as serde-saphyr reads it, with the position of every node.
enum RawValue {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    List(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<RawKey>, Spanned<RawValue>)>),
}

/// A mapping key: any scalar, as text.
struct RawKey(String);

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawValueVisitor)
    }
}

struct RawValueVisitor;

impl<'de> Visitor<'de> for RawValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(value))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<RawValue, E> {
        Ok(RawValue::Number(value.to_string()))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<RawValue, E> {
        Ok(RawValue::Number(value.to_string()))
    }
    fn visit_i128<E: de::Error>(self, value: i128) -> Result<RawValue, E> {
        Ok(RawValue::Number(value.to_string()))
    }
    fn visit_u128<E: de::Error>(self, value: u128) -> Result<RawValue, E> {
        Ok(RawValue::Number(value.to_string()))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<RawValue, E> {
        // `Display` writes the shortest text that reads back as the same `f64`, without an
        // exponent: `0.995` stays `0.995`, so targets can be scaled exactly as decimals.
        Ok(RawValue::Number(value.to_string()))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<RawValue, E> {
        Ok(RawValue::String(value.to_owned()))
    }
    fn visit_string<E: de::Error>(self, value: String) -> Result<RawValue, E> {
        Ok(RawValue::String(value))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<RawValue, D::Error> {
        RawValue::deserialize(deserializer)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(RawValue::Map(entries))
    }
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = RawKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar key")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<RawKey, E> {
                Ok(RawKey(value.to_string()))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<RawKey, E> {
                Ok(RawKey(value.to_string()))
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<RawKey, E> {
                Ok(RawKey(value.to_string()))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<RawKey, E> {
                Ok(RawKey(value.to_string()))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<RawKey, E> {
                Ok(RawKey(value.to_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawKey, E> {
                Ok(RawKey(String::new()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

/// A YAML node and where it is in the file.
#[derive(Debug)]
struct Node {
    value: Value,
    at: At,
}

#[derive(Debug)]
enum Value {
    Null,
    Bool(bool),
    /// A number as the shortest text that reads back as the same value (`0.995`, `500`).
    Number(String),
    String(String),
    List(Vec<Node>),
    Map(Vec<Entry>),
}

/// A key of a mapping, where the key is, and its value.
#[derive(Debug)]
struct Entry {
    key: String,
    key_at: At,
    value: Node,
}

impl Node {
    /// Converts a parsed document, moving its positions `line_offset` lines down to file lines.
    fn from_raw(raw: Spanned<RawValue>, line_offset: usize) -> Node {
        let at = at_of(&raw, line_offset);
        let value = match raw.value {
            RawValue::Null => Value::Null,
            RawValue::Bool(value) => Value::Bool(value),
            RawValue::Number(text) => Value::Number(text),
            RawValue::String(text) => Value::String(text),
            RawValue::List(items) => Value::List(
                items.into_iter().map(|item| Node::from_raw(item, line_offset)).collect(),
            ),
            RawValue::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(key, value)| Entry {
                        key_at: at_of(&key, line_offset),
                        key: key.value.0,
                        value: Node::from_raw(value, line_offset),
                    })
                    .collect(),
            ),
        };
        Node { value, at }
    }
}

fn at_of<T>(spanned: &Spanned<T>, line_offset: usize) -> At {
    let line = spanned.referenced.line() as usize;
    let column = spanned.referenced.column() as usize;
    if line == 0 { At { line: 0, column: 0 } } else { At { line: line + line_offset, column } }
}

/// What a value is, for messages: `the number 5`, `a list`.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(value) => format!("{value}"),
        Value::Number(text) => format!("the number {text}"),
        Value::String(text) => format!("the string {text:?}"),
        Value::List(_) => "a list".to_owned(),
        Value::Map(_) => "a mapping".to_owned(),
    }
}

/// A mapping being read: its field path, its entries, and where to point when one is missing.
struct Map<'n> {
    path: String,
    entries: &'n [Entry],
    at: At,
}

impl<'n> Map<'n> {
    /// The field path of `key` in this mapping.
    fn field(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    /// The entry for `key`, unless it is absent or empty (`key:` with no value).
    fn get(&self, key: &str) -> Option<&'n Entry> {
        self.entries
            .iter()
            .find(|entry| entry.key == key)
            .filter(|entry| !matches!(entry.value.value, Value::Null))
    }
}

/// Errors and notes collected against one file.
struct Import<'p> {
    path: &'p Path,
    errors: Vec<FormatError>,
    notes: Vec<String>,
}

impl Import<'_> {
    /// The errors in file order, for people to fix top-down.
    fn into_errors(mut self) -> FormatErrors {
        self.errors.sort_by_key(|error| (error.line, error.column));
        FormatErrors(self.errors)
    }

    fn error(&mut self, at: At, field: &str, message: impl Into<String>) {
        self.errors.push(FormatError::at(self.path, at.line, at.column, field, message));
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    fn as_map<'n>(&mut self, node: &'n Node, path: String, at: At) -> Option<Map<'n>> {
        match &node.value {
            Value::Map(entries) => Some(Map { path, entries, at }),
            other => {
                let message = format!("expected a mapping, found {}", describe(other));
                self.error(node.at, &path, message);
                None
            }
        }
    }

    /// The mapping under `entry` of `parent`; a missing child will be reported at its key.
    fn entry_map<'n>(&mut self, parent: &Map<'n>, entry: &'n Entry) -> Option<Map<'n>> {
        self.as_map(&entry.value, parent.field(&entry.key), entry.key_at)
    }

    fn check_fields(&mut self, map: &Map<'_>, known: &[&str], what: &str) {
        for entry in map.entries {
            if !known.contains(&entry.key.as_str()) {
                let message =
                    format!("unknown field {:?}: {what} has {}", entry.key, known.join(", "));
                self.error(entry.key_at, &map.field(&entry.key), message);
            }
        }
    }

    fn require<'n>(&mut self, map: &Map<'n>, key: &str, hint: &str) -> Option<&'n Entry> {
        let entry = map.get(key);
        if entry.is_none() {
            self.error(map.at, &map.field(key), format!("{key} is missing: {hint}"));
        }
        entry
    }

    fn string<'n>(&mut self, map: &Map<'n>, entry: &'n Entry) -> Option<&'n str> {
        match &entry.value.value {
            Value::String(text) => Some(text),
            other => {
                let message = format!("expected a string, found {}", describe(other));
                self.error(entry.value.at, &map.field(&entry.key), message);
                None
            }
        }
    }

    fn number<'n>(&mut self, map: &Map<'n>, entry: &'n Entry) -> Option<&'n str> {
        match &entry.value.value {
            Value::Number(text) => Some(text),
            other => {
                let message = format!("expected a number, found {}", describe(other));
                self.error(entry.value.at, &map.field(&entry.key), message);
                None
            }
        }
    }

    fn boolean(&mut self, map: &Map<'_>, entry: &Entry) -> Option<bool> {
        match &entry.value.value {
            Value::Bool(value) => Some(*value),
            other => {
                let message = format!("expected true or false, found {}", describe(other));
                self.error(entry.value.at, &map.field(&entry.key), message);
                None
            }
        }
    }

    /// `name` as an Accord name, with a note when it had to change.
    fn accord_name(&mut self, name: &str, at: At, field: &str) -> Option<String> {
        let Some(accord) = to_accord_name(name) else {
            self.error(
                at,
                field,
                format!("name {name:?} has no letters or digits to make an Accord name from"),
            );
            return None;
        };
        if accord != name {
            self.note(format!(
                "{field} {name:?} became {accord:?}: Accord names are lowercase letters, digits \
                 and '-', at most {MAX_NAME_LEN} characters"
            ));
        }
        Some(accord)
    }
}

/// Turns an OpenSLO name into an Accord name (`[a-z0-9][a-z0-9-]*`, at most 63 characters):
/// letters are lowercased, every other character becomes `-`, runs of `-` collapse, and `-` at
/// either end goes. `None` when nothing is left.
fn to_accord_name(name: &str) -> Option<String> {
    let mut accord = String::with_capacity(name.len());
    for char in name.chars() {
        let char = char.to_ascii_lowercase();
        if char.is_ascii_lowercase() || char.is_ascii_digit() {
            accord.push(char);
        } else if !accord.is_empty() && !accord.ends_with('-') {
            accord.push('-');
        }
    }
    accord.truncate(MAX_NAME_LEN);
    let accord = accord.trim_end_matches('-');
    (!accord.is_empty()).then(|| accord.to_owned())
}

/// `base` and `suffix` joined by `-`, with `base` cut so that the result is an Accord name.
fn join_name(base: &str, suffix: &str) -> String {
    let room = MAX_NAME_LEN.saturating_sub(suffix.len() + 1);
    let base = base[..base.len().min(room)].trim_end_matches('-');
    format!("{base}-{suffix}")
}

// ----------------------------------------------------------------------------------------------
// OpenSLO objects.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Service,
    Sli,
    Slo,
}

/// An OpenSLO object whose `apiVersion`, `kind` and `metadata` have been checked.
struct Object<'n> {
    kind: Kind,
    /// `metadata.name` as written.
    name: String,
    name_at: At,
    metadata: Map<'n>,
    spec: Map<'n>,
}

const OBJECT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const METADATA_FIELDS: &[&str] = &["name", "displayName", "labels", "annotations"];
const SERVICE_SPEC_FIELDS: &[&str] = &["description"];
const SLI_SPEC_FIELDS: &[&str] = &["description", "thresholdMetric", "ratioMetric"];
const SLO_SPEC_FIELDS: &[&str] = &[
    "description",
    "service",
    "indicator",
    "indicatorRef",
    "timeWindow",
    "budgetingMethod",
    "objectives",
    "alertPolicies",
];
const OBJECTIVE_FIELDS: &[&str] = &[
    "displayName",
    "op",
    "value",
    "target",
    "targetPercent",
    "timeSliceTarget",
    "timeSliceWindow",
    "indicator",
    "indicatorRef",
    "compositeWeight",
];
/// OpenSLO v1 kinds that Accord has nothing for.
const UNSUPPORTED_KINDS: &[&str] =
    &["DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"];

/// An Accord service to write.
struct ServiceOut {
    name: String,
    title: Option<String>,
    description: Option<String>,
    labels: Vec<(String, String)>,
    /// No OpenSLO `Service` defines it: SLOs name it.
    added: bool,
}

/// The SLIs of the file by their OpenSLO name, and which of them SLOs use.
struct Slis {
    by_name: HashMap<String, Option<Indicator>>,
    used: HashSet<String>,
}

/// An SLI an objective is measured by.
#[derive(Clone, Debug)]
struct Indicator {
    /// The Accord name, used as the source name.
    name: String,
    metric: Metric,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Metric {
    /// `thresholdMetric`: one value compared against the objective's `op` and `value`.
    Threshold,
    /// `ratioMetric` with `good` and `total`.
    GoodTotal,
    /// `ratioMetric` with `bad` and `total`.
    BadTotal,
    /// `ratioMetric` with a precomputed `raw` ratio of successes, or of failures.
    Raw { failure: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Budgeting {
    Occurrences,
    Timeslices,
    RatioTimeslices,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WindowKind {
    Rolling { days: u32 },
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl fmt::Display for WindowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowKind::Rolling { days } => write!(f, "rolling {days}d"),
            WindowKind::Day => f.write_str("day"),
            WindowKind::Week => f.write_str("week"),
            WindowKind::Month => f.write_str("month"),
            WindowKind::Quarter => f.write_str("quarter"),
            WindowKind::Year => f.write_str("year"),
        }
    }
}

#[derive(Clone, Debug)]
struct Window {
    kind: WindowKind,
    time_zone: Option<String>,
}

/// The parts of an SLO its objectives share.
struct Slo<'a> {
    /// `metadata.name` as written, for notes and comments.
    name: &'a str,
    accord_name: String,
    display_name: Option<&'a str>,
    description: Option<&'a str>,
    budgeting: Budgeting,
    window: Window,
    n_objectives: usize,
}

/// The SLO-level indicator, as its objectives see it.
#[derive(Clone, Copy)]
enum SloIndicator<'a> {
    /// The SLO has none: each objective names its own (a composite SLO).
    None,
    Given(&'a Indicator),
    /// The SLO's indicator had errors, reported already.
    Failed,
}

/// The objectives of one SLO, for the agreement of its service.
struct SloOut {
    service: String,
    objectives: Vec<AvailabilityOut>,
}

/// An Accord availability objective to write.
struct AvailabilityOut {
    /// Comment lines written above the entry.
    comments: Vec<String>,
    /// The name before it is made unique within its agreement.
    name: String,
    /// The SLO it came from, for notes.
    slo: String,
    target: String,
    window: Window,
    method: &'static str,
    timeslice: Option<String>,
    slice_target: Option<String>,
    source: String,
}

/// An Accord agreement to write: the objectives of the SLOs of one service.
struct AgreementOut {
    name: String,
    service: String,
    objectives: Vec<AvailabilityOut>,
}

impl Import<'_> {
    /// Checks every object's envelope and keeps those of the kinds the importer reads.
    fn objects<'n>(&mut self, roots: &'n [Node]) -> Vec<Object<'n>> {
        let mut objects = Vec::new();
        for root in roots {
            match &root.value {
                Value::Map(entries) => {
                    let map = Map { path: String::new(), entries, at: root.at };
                    objects.extend(self.object(map));
                }
                Value::List(items) => {
                    for (item_idx, item) in items.iter().enumerate() {
                        let path = format!("[{item_idx}]");
                        if let Some(map) = self.as_map(item, path, item.at) {
                            objects.extend(self.object(map));
                        }
                    }
                }
                other => {
                    let message = format!(
                        "expected an OpenSLO object (apiVersion, kind, metadata, spec) or a list \
                         of them, found {}",
                        describe(other)
                    );
                    self.error(root.at, "", message);
                }
            }
        }
        objects
    }

    fn object<'n>(&mut self, root: Map<'n>) -> Option<Object<'n>> {
        self.check_fields(&root, OBJECT_FIELDS, "an OpenSLO object");
        let api_version = self.require(&root, "apiVersion", "expected apiVersion: openslo/v1")?;
        let version = self.string(&root, api_version)?;
        if version != API_VERSION {
            self.error(
                api_version.value.at,
                &root.field("apiVersion"),
                format!("unsupported apiVersion {version:?}: the importer reads {API_VERSION:?}"),
            );
            return None;
        }
        let kind_entry = self.require(&root, "kind", "expected Service, SLI or SLO")?;
        let kind_text = self.string(&root, kind_entry)?;
        let kind = match kind_text {
            "Service" => Kind::Service,
            "SLI" => Kind::Sli,
            "SLO" => Kind::Slo,
            other => {
                let message = if UNSUPPORTED_KINDS.contains(&other) {
                    format!(
                        "unsupported kind {other}: Accord has no equivalent; the importer reads \
                         Service, SLI and SLO (remove the {other} documents to import the rest)"
                    )
                } else {
                    format!("unknown kind {other:?}: the importer reads Service, SLI and SLO")
                };
                self.error(kind_entry.value.at, &root.field("kind"), message);
                return None;
            }
        };
        let metadata = self.require(&root, "metadata", "expected metadata with a name")?;
        let metadata = self.entry_map(&root, metadata)?;
        self.check_fields(&metadata, METADATA_FIELDS, "OpenSLO metadata");
        let name = self.require(&metadata, "name", "every OpenSLO object has a name")?;
        let name_at = name.value.at;
        let name = self.string(&metadata, name)?.to_owned();
        let spec = self.require(&root, "spec", &format!("a {kind_text} needs a spec"))?;
        let spec = self.entry_map(&root, spec)?;
        Some(Object { kind, name, name_at, metadata, spec })
    }

    /// The Accord services of the `Service` objects.
    fn services(&mut self, objects: &[Object<'_>]) -> Vec<ServiceOut> {
        let mut services: Vec<ServiceOut> = Vec::new();
        let mut seen: HashMap<String, (String, At)> = HashMap::new();
        for object in objects.iter().filter(|object| object.kind == Kind::Service) {
            let errors_before = self.errors.len();
            self.check_fields(&object.spec, SERVICE_SPEC_FIELDS, "an OpenSLO Service spec");
            let metadata = &object.metadata;
            let name = self.accord_name(&object.name, object.name_at, &metadata.field("name"));
            let title = metadata.get("displayName").and_then(|entry| self.string(metadata, entry));
            let description =
                object.spec.get("description").and_then(|entry| self.string(&object.spec, entry));
            let labels = self.labels(object);
            if let Some(annotations) = metadata.get("annotations")
                && matches!(&annotations.value.value, Value::Map(entries) if !entries.is_empty())
            {
                self.note(format!(
                    "Service {}: metadata.annotations are not imported: they are for OpenSLO \
                     tools",
                    object.name
                ));
            }
            let Some(name) = name else { continue };
            if let Some((first_name, first_at)) = seen.get(&name) {
                let message = if *first_name == object.name {
                    format!("duplicate Service {:?}: line {} has it already", name, first_at.line)
                } else {
                    format!(
                        "Service {:?} becomes Accord name {name:?}, which Service {first_name:?} \
                         (line {}) has already",
                        object.name, first_at.line
                    )
                };
                self.error(object.name_at, &metadata.field("name"), message);
                continue;
            }
            seen.insert(name.clone(), (object.name.clone(), object.name_at));
            if self.errors.len() > errors_before {
                continue;
            }
            services.push(ServiceOut {
                name,
                title: title.map(str::to_owned),
                description: description.map(str::to_owned),
                labels,
                added: false,
            });
        }
        services
    }

    /// The labels of a `Service`: a list of values is joined with `,`, because Accord labels
    /// have one string value.
    fn labels(&mut self, object: &Object<'_>) -> Vec<(String, String)> {
        let Some(entry) = object.metadata.get("labels") else { return Vec::new() };
        let Some(labels) = self.entry_map(&object.metadata, entry) else { return Vec::new() };
        let mut out = Vec::new();
        for label in labels.entries {
            let field = labels.field(&label.key);
            let value = match &label.value.value {
                Value::String(text) | Value::Number(text) => text.clone(),
                Value::Bool(value) => value.to_string(),
                Value::List(items) => {
                    let mut values = Vec::new();
                    for item in items {
                        match &item.value {
                            Value::String(text) | Value::Number(text) => values.push(text.clone()),
                            Value::Bool(value) => values.push(value.to_string()),
                            other => {
                                let message =
                                    format!("expected a label value, found {}", describe(other));
                                self.error(item.at, &field, message);
                            }
                        }
                    }
                    if values.is_empty() {
                        self.note(format!(
                            "Service {}: {field} has no values and is not imported",
                            object.name
                        ));
                        continue;
                    }
                    if values.len() > 1 {
                        self.note(format!(
                            "Service {}: {field} has several values ({}): joined with ',' \
                             because Accord labels have one value",
                            object.name,
                            values.join(", ")
                        ));
                    }
                    values.join(",")
                }
                other => {
                    let message = format!(
                        "expected a string or a list of strings, found {}",
                        describe(other)
                    );
                    self.error(label.value.at, &field, message);
                    continue;
                }
            };
            out.push((label.key.clone(), value));
        }
        out
    }

    /// The `SLI` objects by name, read once whether or not an SLO uses them.
    fn slis(&mut self, objects: &[Object<'_>]) -> HashMap<String, Option<Indicator>> {
        let mut slis = HashMap::new();
        let mut first_at: HashMap<&str, At> = HashMap::new();
        for object in objects.iter().filter(|object| object.kind == Kind::Sli) {
            if let Some(first) = first_at.insert(&object.name, object.name_at) {
                self.error(
                    object.name_at,
                    &object.metadata.field("name"),
                    format!("duplicate SLI {:?}: line {} has it already", object.name, first.line),
                );
                continue;
            }
            let name =
                self.accord_name(&object.name, object.name_at, &object.metadata.field("name"));
            let metric = self.sli_metric(&object.spec);
            let indicator = name.zip(metric).map(|(name, metric)| Indicator { name, metric });
            slis.insert(object.name.clone(), indicator);
        }
        slis
    }

    /// Reads an SLI spec (of an `SLI` object or an inline `indicator`).
    fn sli_metric(&mut self, spec: &Map<'_>) -> Option<Metric> {
        self.check_fields(spec, SLI_SPEC_FIELDS, "an OpenSLO SLI spec");
        match (spec.get("thresholdMetric"), spec.get("ratioMetric")) {
            (Some(threshold), None) => {
                self.metric_source_holder(spec, threshold)?;
                Some(Metric::Threshold)
            }
            (None, Some(ratio)) => self.ratio_metric(spec, ratio),
            (Some(_), Some(ratio)) => {
                self.error(
                    ratio.key_at,
                    &spec.field("ratioMetric"),
                    "give thresholdMetric or ratioMetric, not both",
                );
                None
            }
            (None, None) => {
                self.error(
                    spec.at,
                    &spec.field("ratioMetric"),
                    "ratioMetric is missing: an SLI needs a ratioMetric (good/total, bad/total \
                     or raw) or a thresholdMetric",
                );
                None
            }
        }
    }

    fn ratio_metric(&mut self, spec: &Map<'_>, entry: &Entry) -> Option<Metric> {
        let ratio = self.entry_map(spec, entry)?;
        self.check_fields(
            &ratio,
            &["counter", "good", "bad", "total", "rawType", "raw"],
            "an OpenSLO ratioMetric",
        );
        let errors_before = self.errors.len();
        if let Some(counter) = ratio.get("counter") {
            self.boolean(&ratio, counter);
        }
        let metric = if let Some(raw) = ratio.get("raw") {
            for key in ["good", "bad", "total"] {
                if let Some(other) = ratio.get(key) {
                    self.error(
                        other.key_at,
                        &ratio.field(key),
                        format!("{key} cannot be used with raw: give good/total, bad/total or raw"),
                    );
                }
            }
            self.metric_source_holder(&ratio, raw);
            let raw_type =
                self.require(&ratio, "rawType", "raw needs rawType: success or failure")?;
            match self.string(&ratio, raw_type)? {
                "success" => Metric::Raw { failure: false },
                "failure" => Metric::Raw { failure: true },
                other => {
                    self.error(
                        raw_type.value.at,
                        &ratio.field("rawType"),
                        format!("unknown rawType {other:?}: expected success or failure"),
                    );
                    return None;
                }
            }
        } else {
            if let Some(raw_type) = ratio.get("rawType") {
                self.error(raw_type.key_at, &ratio.field("rawType"), "rawType is only for raw");
            }
            let total = self.require(&ratio, "total", "good or bad counts need a total")?;
            self.metric_source_holder(&ratio, total);
            match (ratio.get("good"), ratio.get("bad")) {
                (Some(good), None) => {
                    self.metric_source_holder(&ratio, good);
                    Metric::GoodTotal
                }
                (None, Some(bad)) => {
                    self.metric_source_holder(&ratio, bad);
                    Metric::BadTotal
                }
                (Some(_), Some(bad)) => {
                    self.error(bad.key_at, &ratio.field("bad"), "give good or bad, not both");
                    return None;
                }
                (None, None) => {
                    self.error(
                        ratio.at,
                        &ratio.field("good"),
                        "good is missing: a ratioMetric needs good or bad with total, or raw",
                    );
                    return None;
                }
            }
        };
        (self.errors.len() == errors_before).then_some(metric)
    }

    /// Checks a `{metricSource: {metricSourceRef, type, spec}}` mapping. The query itself is
    /// the monitoring tool's business and is not imported.
    fn metric_source_holder(&mut self, parent: &Map<'_>, entry: &Entry) -> Option<()> {
        let holder = self.entry_map(parent, entry)?;
        self.check_fields(&holder, &["metricSource"], "an OpenSLO metric");
        let source = self.require(&holder, "metricSource", "a metric needs a metricSource")?;
        let source = self.entry_map(&holder, source)?;
        self.check_fields(&source, &["metricSourceRef", "type", "spec"], "an OpenSLO metricSource");
        Some(())
    }

    /// An inline `indicator` or an `indicatorRef` in `map` (an SLO spec or an objective).
    /// `fallback_name` names an inline indicator without `metadata.name`.
    fn indicator(
        &mut self,
        map: &Map<'_>,
        slis: &mut Slis,
        fallback_name: &str,
    ) -> Option<Indicator> {
        match (map.get("indicator"), map.get("indicatorRef")) {
            (Some(_), Some(reference)) => {
                self.error(
                    reference.key_at,
                    &map.field("indicatorRef"),
                    "give indicator or indicatorRef, not both",
                );
                None
            }
            (Some(inline), None) => {
                let indicator = self.entry_map(map, inline)?;
                self.check_fields(&indicator, &["metadata", "spec"], "an OpenSLO indicator");
                let name = match indicator.get("metadata") {
                    Some(metadata) => {
                        let metadata = self.entry_map(&indicator, metadata)?;
                        self.check_fields(&metadata, METADATA_FIELDS, "OpenSLO metadata");
                        match metadata.get("name") {
                            Some(name) => {
                                let text = self.string(&metadata, name)?;
                                self.accord_name(text, name.value.at, &metadata.field("name"))?
                            }
                            None => fallback_name.to_owned(),
                        }
                    }
                    None => fallback_name.to_owned(),
                };
                let spec = self.require(&indicator, "spec", "an indicator needs a spec")?;
                let spec = self.entry_map(&indicator, spec)?;
                let metric = self.sli_metric(&spec)?;
                Some(Indicator { name, metric })
            }
            (None, Some(reference)) => {
                let name = self.string(map, reference)?;
                match slis.by_name.get(name) {
                    Some(indicator) => {
                        slis.used.insert(name.to_owned());
                        // An SLI with errors has reported them already.
                        indicator.clone()
                    }
                    None => {
                        self.error(
                            reference.value.at,
                            &map.field("indicatorRef"),
                            format!(
                                "SLI {name:?} is not defined in this file: put the SLI document \
                                 in the file with the SLO, or inline it as indicator"
                            ),
                        );
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }

    /// Converts one SLO; `None` after reporting its errors.
    fn slo(&mut self, object: &Object<'_>, slis: &mut Slis) -> Option<SloOut> {
        let errors_before = self.errors.len();
        let spec = &object.spec;
        self.check_fields(spec, SLO_SPEC_FIELDS, "an OpenSLO SLO spec");
        let metadata = &object.metadata;
        let accord_name = self.accord_name(&object.name, object.name_at, &metadata.field("name"));
        let display_name =
            metadata.get("displayName").and_then(|entry| self.string(metadata, entry));
        for key in ["labels", "annotations"] {
            if metadata.get(key).is_some() {
                self.note(format!(
                    "SLO {}: metadata.{key} are not imported: Accord objectives have none",
                    object.name
                ));
            }
        }
        let service = self
            .require(spec, "service", "Accord agreements cover a named service")
            .and_then(|entry| {
                let text = self.string(spec, entry)?;
                self.accord_name(text, entry.value.at, &spec.field("service"))
            });
        let description = spec.get("description").and_then(|entry| self.string(spec, entry));
        let budgeting = self.budgeting(spec);
        let window = self.time_window(spec, &object.name);
        if let Some(policies) = spec.get("alertPolicies")
            && !matches!(&policies.value.value, Value::List(items) if items.is_empty())
        {
            self.note(format!(
                "SLO {}: spec.alertPolicies are not imported: Accord escalates tickets, not \
                 error budgets",
                object.name
            ));
        }
        let errors_before_indicator = self.errors.len();
        let fallback_name = accord_name.clone().unwrap_or_default();
        let slo_indicator = self.indicator(spec, slis, &fallback_name);
        let slo_indicator_failed = self.errors.len() > errors_before_indicator;

        let objectives = self.require(
            spec,
            "objectives",
            "an SLO needs at least one objective, such as - target: 0.995",
        )?;
        let objectives_field = spec.field("objectives");
        let items = match &objectives.value.value {
            Value::List(items) if !items.is_empty() => items,
            Value::List(_) => {
                self.error(
                    objectives.value.at,
                    &objectives_field,
                    "objectives is empty: an SLO needs at least one objective",
                );
                return None;
            }
            other => {
                let message = format!("expected a list of objectives, found {}", describe(other));
                self.error(objectives.value.at, &objectives_field, message);
                return None;
            }
        };
        let (Some(accord_name), Some(service), Some(budgeting), Some(window)) =
            (accord_name, service, budgeting, window)
        else {
            return None;
        };
        let slo = Slo {
            name: &object.name,
            accord_name,
            display_name,
            description,
            budgeting,
            window,
            n_objectives: items.len(),
        };
        let mut out = Vec::new();
        for (objective_idx, item) in items.iter().enumerate() {
            let path = format!("{objectives_field}[{objective_idx}]");
            let Some(map) = self.as_map(item, path, item.at) else { continue };
            let slo_indicator = match (&slo_indicator, slo_indicator_failed) {
                (_, true) => SloIndicator::Failed,
                (Some(indicator), false) => SloIndicator::Given(indicator),
                (None, false) => SloIndicator::None,
            };
            out.extend(self.objective(&slo, &map, objective_idx, slo_indicator, slis));
        }
        (self.errors.len() == errors_before).then_some(SloOut { service, objectives: out })
    }

    fn budgeting(&mut self, spec: &Map<'_>) -> Option<Budgeting> {
        const SUPPORTED: &str = "expected Occurrences, Timeslices or RatioTimeslices";
        let entry = self.require(spec, "budgetingMethod", SUPPORTED)?;
        let budgeting = match self.string(spec, entry)? {
            "Occurrences" => Budgeting::Occurrences,
            "Timeslices" => Budgeting::Timeslices,
            "RatioTimeslices" => Budgeting::RatioTimeslices,
            other => {
                self.error(
                    entry.value.at,
                    &spec.field("budgetingMethod"),
                    format!("unsupported budgetingMethod {other:?}: {SUPPORTED}"),
                );
                return None;
            }
        };
        Some(budgeting)
    }

    /// Reads `timeWindow` (a list of exactly one window).
    fn time_window(&mut self, spec: &Map<'_>, slo: &str) -> Option<Window> {
        let entry = self.require(
            spec,
            "timeWindow",
            "Accord objectives need a window, such as - duration: 28d with isRolling: true",
        )?;
        let field = spec.field("timeWindow");
        let item = match &entry.value.value {
            Value::List(items) if items.len() == 1 => &items[0],
            other => {
                let found = match other {
                    Value::List(items) => format!("{} windows", items.len()),
                    other => describe(other),
                };
                self.error(
                    entry.value.at,
                    &field,
                    format!("expected a list of exactly one time window, found {found}"),
                );
                return None;
            }
        };
        let item = self.as_map(item, format!("{field}[0]"), item.at)?;
        self.check_fields(&item, &["duration", "isRolling", "calendar"], "an OpenSLO time window");
        let duration = self.require(&item, "duration", "such as 28d (rolling) or 1M (calendar)")?;
        let duration_field = item.field("duration");
        let text = self.string(&item, duration)?;
        let Some((count, unit)) = parse_duration_shorthand(text) else {
            self.error(
                duration.value.at,
                &duration_field,
                format!(
                    "invalid duration {text:?}: expected a whole number and one of m, h, d, w, \
                     M, Q, Y, such as 28d or 1M"
                ),
            );
            return None;
        };
        let calendar = match item.get("calendar") {
            Some(calendar) => Some(self.entry_map(&item, calendar)?),
            None => None,
        };
        let is_rolling = match item.get("isRolling") {
            Some(entry) => self.boolean(&item, entry)?,
            None => false,
        };
        if is_rolling {
            if calendar.is_some() {
                self.note(format!(
                    "SLO {slo}: {field}[0].calendar is ignored: the window is rolling \
                     (isRolling: true), and only calendar-aligned windows have a start"
                ));
            }
            let days = match unit {
                'd' => Some(count),
                'w' => count.checked_mul(7),
                'h' if count % 24 == 0 => Some(count / 24),
                _ => None,
            };
            let Some(days) = days.filter(|days| *days > 0).and_then(|d| u32::try_from(d).ok())
            else {
                let why = match unit {
                    'm' | 'h' => "is not a whole number of days",
                    'M' | 'Q' | 'Y' => {
                        "has no fixed length (write days, such as 30d, or make it \
                         calendar-aligned with isRolling: false)"
                    }
                    _ => "is not a positive number of days",
                };
                self.error(
                    duration.value.at,
                    &duration_field,
                    format!(
                        "unsupported rolling window {text}: it {why}; Accord rolling windows are \
                         whole days (Nd, Nw, or hours in multiples of 24h)"
                    ),
                );
                return None;
            };
            return Some(Window { kind: WindowKind::Rolling { days }, time_zone: None });
        }

        let kind = match (count, unit) {
            (1, 'd') => WindowKind::Day,
            (1, 'w') => WindowKind::Week,
            (1, 'M') => WindowKind::Month,
            (1, 'Q') => WindowKind::Quarter,
            (1, 'Y') => WindowKind::Year,
            _ => {
                let hint = if unit == 'm' { " (m is minutes; months are M)" } else { "" };
                self.error(
                    duration.value.at,
                    &duration_field,
                    format!(
                        "unsupported calendar-aligned window {text}{hint}: Accord's calendar \
                         windows are 1d, 1w, 1M, 1Q and 1Y, and rolling windows \
                         (isRolling: true) are whole days"
                    ),
                );
                return None;
            }
        };
        let Some(calendar) = calendar else {
            self.note(format!(
                "SLO {slo}: {field}[0] has no calendar: the {kind} windows use Accord's default \
                 time zone (the agreement's, else UTC)"
            ));
            return Some(Window { kind, time_zone: None });
        };
        self.check_fields(&calendar, &["startTime", "timeZone"], "an OpenSLO calendar");
        let time_zone = match calendar.get("timeZone") {
            Some(entry) => {
                let name = self.string(&calendar, entry)?;
                if jiff::tz::db().get(name).is_err() {
                    self.error(
                        entry.value.at,
                        &calendar.field("timeZone"),
                        format!(
                            "unknown time zone {name:?}: expected an IANA name such as \
                             America/New_York"
                        ),
                    );
                    return None;
                }
                Some(name.to_owned())
            }
            None => None,
        };
        if let Some(entry) = calendar.get("startTime") {
            let text = self.string(&calendar, entry)?;
            let Ok(start) = text.parse::<DateTime>() else {
                self.error(
                    entry.value.at,
                    &calendar.field("startTime"),
                    format!("invalid startTime {text:?}: expected a date and time such as 2022-01-01 00:00:00"),
                );
                return None;
            };
            if let Some(boundary) = window_boundary(kind, start) {
                let zone = time_zone.as_deref().unwrap_or("the default time zone");
                self.note(format!(
                    "SLO {slo}: {} {text} is not where Accord {kind} windows begin: the imported \
                     windows are calendar {kind}s from {boundary} in {zone}",
                    calendar.field("startTime")
                ));
            }
        }
        Some(Window { kind, time_zone })
    }

    /// Converts one objective of `slo`; `None` after reporting its errors.
    fn objective(
        &mut self,
        slo: &Slo<'_>,
        item: &Map<'_>,
        objective_idx: usize,
        slo_indicator: SloIndicator<'_>,
        slis: &mut Slis,
    ) -> Option<AvailabilityOut> {
        let errors_before = self.errors.len();
        self.check_fields(item, OBJECTIVE_FIELDS, "an OpenSLO objective");
        let display_name = item.get("displayName").and_then(|entry| self.string(item, entry));
        let own_indicator = self.indicator(item, slis, &slo.accord_name);
        if let Some(weight) = item.get("compositeWeight")
            && let Some(weight) = self.number(item, weight)
        {
            self.note(format!(
                "SLO {}: {} {weight} is not imported: Accord has no composite objectives, so each \
                 objective stands alone",
                slo.name,
                item.field("compositeWeight")
            ));
        }
        let target = self.target(item);
        if self.errors.len() > errors_before {
            return None;
        }
        let indicator = match (own_indicator, slo_indicator) {
            (_, SloIndicator::Failed) => return None,
            (Some(_), SloIndicator::Given(_)) => {
                let key =
                    if item.get("indicator").is_some() { "indicator" } else { "indicatorRef" };
                self.error(
                    item.at,
                    &item.field(key),
                    "the SLO has an indicator already: give it on the SLO or on each objective \
                     (composite SLO), not both",
                );
                return None;
            }
            (Some(own), SloIndicator::None) => own,
            (None, SloIndicator::Given(shared)) => shared.clone(),
            (None, SloIndicator::None) => {
                self.error(
                    item.at,
                    &item.field("indicator"),
                    "no indicator: give spec.indicator or spec.indicatorRef on the SLO, or \
                     indicator or indicatorRef on each objective",
                );
                return None;
            }
        };
        let target = target?;

        let op = item.get("op");
        let op_text = match op {
            Some(entry) => {
                let text = self.string(item, entry)?;
                if !["lt", "lte", "gt", "gte"].contains(&text) {
                    self.error(
                        entry.value.at,
                        &item.field("op"),
                        format!("unknown op {text:?}: expected lte, gte, lt or gt"),
                    );
                    return None;
                }
                Some((entry, text))
            }
            None => None,
        };
        let source = match indicator.metric {
            Metric::Threshold => {
                self.threshold_objective(item, &indicator, op_text, &target);
                return None;
            }
            Metric::GoodTotal | Metric::BadTotal => format!("requests:{}", indicator.name),
            Metric::Raw { .. } => format!("metric:{}", indicator.name),
        };
        if let Some(value) = item.get("value") {
            self.error(
                value.key_at,
                &item.field("value"),
                format!(
                    "value compares threshold metrics, but SLI {} is a ratio metric: remove it",
                    indicator.name
                ),
            );
            return None;
        }
        if let Some((entry, op @ ("lt" | "lte"))) = op_text {
            self.error(
                entry.value.at,
                &item.field("op"),
                format!(
                    "op {op} on ratio metric {} would make a lower good share better: ratio \
                     objectives are met when the good share reaches the target (use gte, gt or \
                     no op)",
                    indicator.name
                ),
            );
            return None;
        }
        self.note(source_note(&source, indicator.metric));

        let (method, timeslice, slice_target) = match slo.budgeting {
            Budgeting::Occurrences => {
                for key in ["timeSliceWindow", "timeSliceTarget"] {
                    if item.get(key).is_some() {
                        self.note(format!(
                            "SLO {}: {} is ignored: the budgeting method is Occurrences",
                            slo.name,
                            item.field(key)
                        ));
                    }
                }
                ("requests", None, None)
            }
            Budgeting::Timeslices => {
                let window = self.time_slice_window(item, "Timeslices");
                let slice_target = self.time_slice_target(item);
                ("timeslices", Some(window?), Some(slice_target?))
            }
            Budgeting::RatioTimeslices => {
                if item.get("timeSliceTarget").is_some() {
                    self.note(format!(
                        "SLO {}: {} is ignored: RatioTimeslices averages the slices' good shares \
                         instead of counting good slices",
                        slo.name,
                        item.field("timeSliceTarget")
                    ));
                }
                ("ratio_timeslices", Some(self.time_slice_window(item, "RatioTimeslices")?), None)
            }
        };

        let name = if slo.n_objectives == 1 {
            slo.accord_name.clone()
        } else {
            match display_name.and_then(to_accord_name) {
                Some(suffix) => join_name(&slo.accord_name, &suffix),
                None => join_name(&slo.accord_name, &(objective_idx + 1).to_string()),
            }
        };
        let mut heading = format!("SLO {}", slo.name);
        if let Some(display_name) = slo.display_name {
            heading.push_str(&format!(" ({display_name})"));
        }
        if let Some(display_name) = display_name {
            heading.push_str(&format!(", objective {display_name:?}"));
        }
        let mut comments = vec![heading];
        comments.extend(slo.description.map(str::to_owned));
        Some(AvailabilityOut {
            comments,
            name,
            slo: slo.name.to_owned(),
            target,
            window: slo.window.clone(),
            method,
            timeslice,
            slice_target,
            source,
        })
    }

    /// Reports why a threshold-metric objective is not imported.
    fn threshold_objective(
        &mut self,
        item: &Map<'_>,
        indicator: &Indicator,
        op: Option<(&Entry, &str)>,
        target: &str,
    ) {
        const SUPPORTED: &str = "the importer reads ratio metrics (good/total, bad/total or raw)";
        if let Some((entry, op @ ("gt" | "gte"))) = op {
            self.error(
                entry.value.at,
                &item.field("op"),
                format!(
                    "op {op} on threshold metric {} (higher is better) has no Accord \
                     equivalent: Accord latency objectives are upper limits, and {SUPPORTED}",
                    indicator.name
                ),
            );
            return;
        }
        match item.get("value") {
            Some(value) => {
                let shown = match &value.value.value {
                    Value::Number(text) | Value::String(text) => text.clone(),
                    other => describe(other),
                };
                self.error(
                    value.value.at,
                    &item.field("value"),
                    format!(
                        "value {shown} of threshold metric {} has no unit in OpenSLO, so it \
                         cannot become an Accord latency threshold safely: {SUPPORTED}; write \
                         this one by hand as a latency objective with percentile: {target} and \
                         the threshold in its unit",
                        indicator.name
                    ),
                );
            }
            None => self.error(
                item.at,
                &item.field("value"),
                format!(
                    "value is missing: objectives on threshold metric {} compare it with op and \
                     value (and are not imported: {SUPPORTED})",
                    indicator.name
                ),
            ),
        }
    }

    /// `target` (a fraction) or `targetPercent`, as an Accord percentage.
    fn target(&mut self, item: &Map<'_>) -> Option<String> {
        match (item.get("target"), item.get("targetPercent")) {
            (Some(_), Some(percent)) => {
                self.error(
                    percent.key_at,
                    &item.field("targetPercent"),
                    "give target or targetPercent, not both",
                );
                None
            }
            (Some(entry), None) => {
                let text = self.number(item, entry)?;
                let percent = decimal_to_percent(text, 2);
                if percent.is_none() {
                    self.error(
                        entry.value.at,
                        &item.field("target"),
                        format!(
                            "target {text} is not a fraction from 0 to 1 with at most 8 decimals \
                             (0.995 means 99.5 %; use targetPercent for percentages)"
                        ),
                    );
                }
                percent
            }
            (None, Some(entry)) => {
                let text = self.number(item, entry)?;
                let percent = decimal_to_percent(text, 0);
                if percent.is_none() {
                    self.error(
                        entry.value.at,
                        &item.field("targetPercent"),
                        format!(
                            "targetPercent {text} is not a percentage from 0 to 100 with at most \
                             6 decimals"
                        ),
                    );
                }
                percent
            }
            (None, None) => {
                self.error(
                    item.at,
                    &item.field("target"),
                    "target is missing: give target (a fraction such as 0.995) or targetPercent \
                     (such as 99.5)",
                );
                None
            }
        }
    }

    /// `timeSliceWindow` (minutes, or a duration shorthand) as an Accord duration.
    fn time_slice_window(&mut self, item: &Map<'_>, method: &str) -> Option<String> {
        let entry = self.require(
            item,
            "timeSliceWindow",
            &format!("the {method} budgeting method needs the slice length, such as 1m"),
        )?;
        let field = item.field("timeSliceWindow");
        let (text, parsed) = match &entry.value.value {
            // A bare number is minutes (OpenSLO v1).
            Value::Number(text) => (text.as_str(), text.parse::<u64>().ok().map(|n| (n, 'm'))),
            Value::String(text) => (text.as_str(), parse_duration_shorthand(text)),
            other => {
                let message =
                    format!("expected a duration such as 1m or 5m, found {}", describe(other));
                self.error(entry.value.at, &field, message);
                return None;
            }
        };
        let duration =
            parsed.filter(|(count, _)| *count > 0).and_then(|(count, unit)| match unit {
                'm' => Some(format!("{count}m")),
                'h' => Some(format!("{count}h")),
                'd' => count.checked_mul(24).map(|hours| format!("{hours}h")),
                'w' => count.checked_mul(168).map(|hours| format!("{hours}h")),
                _ => None,
            });
        if duration.is_none() {
            self.error(
                entry.value.at,
                &field,
                format!(
                    "unsupported timeSliceWindow {text}: expected a positive number of minutes \
                     or a duration in m, h, d or w, such as 1m or 5m"
                ),
            );
        }
        duration
    }

    /// `timeSliceTarget` (a fraction) as an Accord percentage.
    fn time_slice_target(&mut self, item: &Map<'_>) -> Option<String> {
        let entry = self.require(
            item,
            "timeSliceTarget",
            "the Timeslices budgeting method needs the share a slice must reach to be good, \
             such as 0.95",
        )?;
        let text = self.number(item, entry)?;
        let percent = decimal_to_percent(text, 2).filter(|percent| percent != "0");
        if percent.is_none() {
            self.error(
                entry.value.at,
                &item.field("timeSliceTarget"),
                format!(
                    "timeSliceTarget {text} is not a fraction above 0 and at most 1, with at \
                     most 8 decimals"
                ),
            );
        }
        percent
    }

    /// Groups the SLOs' objectives by service, giving each a name unique in its agreement.
    fn agreements(&mut self, slos: Vec<SloOut>) -> Vec<AgreementOut> {
        let mut agreements: Vec<AgreementOut> = Vec::new();
        for slo in slos {
            let agreement_idx =
                match agreements.iter().position(|agreement| agreement.service == slo.service) {
                    Some(agreement_idx) => agreement_idx,
                    None => {
                        agreements.push(AgreementOut {
                            name: join_name(&slo.service, "slos"),
                            service: slo.service.clone(),
                            objectives: Vec::new(),
                        });
                        agreements.len() - 1
                    }
                };
            let agreement = &mut agreements[agreement_idx];
            for mut objective in slo.objectives {
                let taken = |name: &str| agreement.objectives.iter().any(|o| o.name == name);
                if taken(&objective.name) {
                    let unique = (2..)
                        .map(|n| join_name(&objective.name, &n.to_string()))
                        .find(|name| !taken(name))
                        .expect("some suffix is free");
                    self.note(format!(
                        "SLO {}: objective name {} is taken in agreement {}: named it {unique}",
                        objective.slo, objective.name, agreement.name
                    ));
                    objective.name = unique;
                }
                agreement.objectives.push(objective);
            }
        }
        agreements
    }

    /// Adds a `Service` with only a name for each service an agreement covers that the file
    /// does not define, so that the output loads on its own.
    fn add_missing_services(
        &mut self,
        mut services: Vec<ServiceOut>,
        agreements: &[AgreementOut],
    ) -> Vec<ServiceOut> {
        for agreement in agreements {
            if services.iter().any(|service| service.name == agreement.service) {
                continue;
            }
            self.note(format!(
                "the file defines no Service {}, which its SLOs name: added a Service document \
                 with only the name (drop it if another file defines the service)",
                agreement.service
            ));
            services.push(ServiceOut {
                name: agreement.service.clone(),
                title: None,
                description: None,
                labels: Vec::new(),
                added: true,
            });
        }
        services
    }
}

/// What the user has to do for a source, as a note.
fn source_note(source: &str, metric: Metric) -> String {
    let what = match metric {
        Metric::GoodTotal => "the SLI's good and total queries",
        Metric::BadTotal => "the SLI's bad and total queries (good = total - bad)",
        Metric::Raw { failure: false } => "the SLI's precomputed success ratio",
        Metric::Raw { failure: true } => {
            "the SLI's precomputed failure ratio (Accord expects the good share: 1 - ratio)"
        }
        Metric::Threshold => "the SLI's threshold metric",
    };
    format!(
        "source {source} stands for {what}: metric queries are not imported, so feed Accord \
         that source"
    )
}

/// Parses an OpenSLO duration shorthand: a whole number and one of `m h d w M Q Y`.
fn parse_duration_shorthand(text: &str) -> Option<(u64, char)> {
    let unit = text.chars().last()?;
    if !"mhdwMQY".contains(unit) {
        return None;
    }
    let count = &text[..text.len() - 1];
    if count.is_empty() || !count.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some((count.parse().ok()?, unit))
}

/// The decimal `text` times 10^`shift`, exactly, as an Accord percentage (`0.995`, 2 →
/// `99.5`). `None` unless the result is from 0 to 100 with at most six decimals.
fn decimal_to_percent(text: &str, shift: usize) -> Option<String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let is_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || !is_digits(whole) || !is_digits(fraction) {
        return None;
    }
    let mut digits = format!("{whole}{fraction}");
    let point = whole.len() + shift;
    while digits.len() < point {
        digits.push('0');
    }
    let (whole, fraction) = digits.split_at(point);
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let fraction = fraction.trim_end_matches('0');
    let whole_value: u64 = whole.parse().ok()?;
    if fraction.len() > 6 || whole_value > 100 || (whole_value == 100 && !fraction.is_empty()) {
        return None;
    }
    Some(if fraction.is_empty() { whole.to_owned() } else { format!("{whole}.{fraction}") })
}

/// Where Accord's `kind` windows begin, when `start` is not such a boundary.
fn window_boundary(kind: WindowKind, start: DateTime) -> Option<&'static str> {
    let midnight = start.time() == jiff::civil::Time::midnight();
    let (aligned, boundary) = match kind {
        WindowKind::Rolling { .. } => return None,
        WindowKind::Day => (midnight, "00:00"),
        WindowKind::Week => (midnight && start.weekday() == Weekday::Monday, "Monday 00:00"),
        WindowKind::Month => (midnight && start.day() == 1, "the 1st at 00:00"),
        WindowKind::Quarter => (
            midnight && start.day() == 1 && [1, 4, 7, 10].contains(&start.month()),
            "1 January, April, July and October at 00:00",
        ),
        WindowKind::Year => (midnight && start.day() == 1 && start.month() == 1, "1 January 00:00"),
    };
    (!aligned).then_some(boundary)
}

// ----------------------------------------------------------------------------------------------
// Writing Accord YAML.

fn write_documents(
    path: &Path,
    notes: &[String],
    services: &[ServiceOut],
    agreements: &[AgreementOut],
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Accord documents imported from the OpenSLO file {}.\n",
        comment_text(&path.display().to_string())
    ));
    if !notes.is_empty() {
        out.push_str("# Review these notes of the import:\n");
        for note in notes {
            out.push_str(&format!("# - {}\n", comment_text(note)));
        }
    }
    let mut documents = Vec::new();
    for service in services {
        documents.push(write_service(service));
    }
    for agreement in agreements {
        documents.push(write_agreement(agreement));
    }
    for (document_idx, document) in documents.iter().enumerate() {
        if document_idx > 0 {
            out.push_str("---\n");
        }
        out.push_str(document);
    }
    out
}

fn write_service(service: &ServiceOut) -> String {
    let mut out = String::new();
    if service.added {
        out.push_str(
            "# Added by the import: the OpenSLO file names this service but does not define \
             it.\n",
        );
    }
    out.push_str("apiVersion: accord/v1\nkind: Service\nmetadata:\n");
    out.push_str(&format!("  name: {}\n", yaml_string(&service.name)));
    if let Some(title) = &service.title {
        out.push_str(&format!("  title: {}\n", yaml_string(title)));
    }
    if !service.labels.is_empty() {
        out.push_str("  labels:\n");
        for (key, value) in &service.labels {
            out.push_str(&format!("    {}: {}\n", yaml_string(key), yaml_string(value)));
        }
    }
    match &service.description {
        Some(description) => {
            out.push_str(&format!("spec:\n  description: {}\n", yaml_string(description)));
        }
        None => out.push_str("spec: {}\n"),
    }
    out
}

fn write_agreement(agreement: &AgreementOut) -> String {
    let mut out = String::new();
    out.push_str("apiVersion: accord/v1\nkind: Agreement\nmetadata:\n");
    out.push_str(&format!("  name: {}\n", yaml_string(&agreement.name)));
    out.push_str(&format!(
        "  title: {}\n",
        yaml_string(&format!("OpenSLO objectives of {}", agreement.service))
    ));
    out.push_str("spec:\n  type: sla\n  level: service\n  covers:\n");
    out.push_str(&format!("    services: [{}]\n", yaml_string(&agreement.service)));
    out.push_str("  objectives:\n    availability:\n");
    for objective in &agreement.objectives {
        for comment in &objective.comments {
            out.push_str(&format!("      # {}\n", comment_text(comment)));
        }
        out.push_str(&format!("      - name: {}\n", yaml_string(&objective.name)));
        out.push_str(&format!("        target: {}\n", objective.target));
        out.push_str(&format!("        window: {}\n", objective.window.kind));
        if let Some(time_zone) = &objective.window.time_zone {
            out.push_str(&format!("        timeZone: {}\n", yaml_string(time_zone)));
        }
        out.push_str(&format!("        method: {}\n", objective.method));
        if let Some(timeslice) = &objective.timeslice {
            out.push_str(&format!("        timeslice: {timeslice}\n"));
        }
        if let Some(slice_target) = &objective.slice_target {
            out.push_str(&format!("        sliceTarget: {slice_target}\n"));
        }
        out.push_str(&format!("        source: {}\n", yaml_string(&objective.source)));
    }
    out
}

/// `text` on one comment line.
fn comment_text(text: &str) -> String {
    text.chars().map(|char| if char.is_control() { ' ' } else { char }).collect()
}

/// `text` as a YAML string: plain when that reads back as the same string in any context
/// (block or flow), double-quoted otherwise.
fn yaml_string(text: &str) -> String {
    const RESERVED: &[&str] = &["true", "false", "yes", "no", "on", "off", "null", "y", "n"];
    let chars: Vec<char> = text.chars().collect();
    let plain = chars.first().is_some_and(|first| first.is_alphabetic())
        && !text.ends_with(' ')
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str())
        && chars.iter().enumerate().all(|(char_idx, char)| match char {
            ':' => chars.get(char_idx + 1).is_some_and(|next| !matches!(next, ' ' | ',')),
            ' ' | '-' | '_' | '.' | '/' | '(' | ')' | '\'' | '+' | '%' | '@' | '=' | ';' => true,
            char => char.is_alphanumeric(),
        });
    if plain {
        return text.to_owned();
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for char in text.chars() {
        match char {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            char if char.is_control() => quoted.push_str(&format!("\\u{:04x}", u32::from(char))),
            char => quoted.push(char),
        }
    }
    quoted.push('"');
    quoted
}
