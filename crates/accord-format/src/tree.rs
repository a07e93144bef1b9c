//! A YAML document as a tree of nodes that remember their line and column, and the helpers
//! that turn nodes into values while collecting every error.
//!
//! Agreement documents are converted from this tree by hand rather than with serde derives:
//! serde stops at the first error in a document, while users want every error of a file in
//! one run, each with its line, column and field path.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use accord_core::agreement::{Origin, Percent, Sourced};
use jiff::SignedDuration;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::FormatError;

/// A YAML node with its position (1-based line and column within the file).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub(crate) line: u32,
    pub(crate) column: u32,
    pub(crate) value: Value,
}

/// What a node holds. Map entries keep their order; duplicate keys are reported by `Fields`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            line: spanned.referenced.line() as u32,
            column: spanned.referenced.column() as u32,
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
                Ok(Value::Bool(value))
            }
            fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
                Ok(Value::Int(value))
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Value, E> {
                i64::try_from(value).map(Value::Int).map_err(|_| E::custom("integer too large"))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
                Ok(Value::Float(value))
            }
            fn visit_str<E>(self, value: &str) -> Result<Value, E> {
                Ok(Value::Str(value.to_owned()))
            }
            fn visit_string<E>(self, value: String) -> Result<Value, E> {
                Ok(Value::Str(value))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Value::Seq(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<Node, Node>()? {
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Node {
    /// The node as canonical JSON: map keys sorted, positions dropped. Two documents that differ
    /// only in comments, key order or layout have the same canonical form.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(value) => serde_json::Value::Bool(*value),
            Value::Int(value) => serde_json::Value::from(*value),
            Value::Float(value) => serde_json::Number::from_f64(*value).map_or_else(
                || serde_json::Value::String(value.to_string()),
                serde_json::Value::Number,
            ),
            Value::Str(value) => serde_json::Value::String(value.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.scalar_text().unwrap_or_default(), value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Moves the node and its children down by `lines` (a document's offset in its file).
    pub(crate) fn shift(&mut self, lines: u32) {
        self.line += lines;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|item| item.shift(lines)),
            Value::Map(entries) => entries.iter_mut().for_each(|(key, value)| {
                key.shift(lines);
                value.shift(lines);
            }),
            _ => {}
        }
    }

    /// A scalar as text (numbers as written by their shortest form).
    pub(crate) fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(text) => Some(text.clone()),
            Value::Int(value) => Some(value.to_string()),
            Value::Float(value) => Some(value.to_string()),
            Value::Bool(value) => Some(value.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    fn describe(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "a whole number",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

/// Conversion context for one document: where it is, and the errors found so far.
pub(crate) struct Cx<'a> {
    pub(crate) path: &'a Path,
    pub(crate) file: Arc<str>,
    pub(crate) errors: Vec<FormatError>,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(path: &'a Path) -> Cx<'a> {
        Cx { path, file: Arc::from(path.display().to_string()), errors: Vec::new() }
    }

    pub(crate) fn origin(&self, node: &Node, field: &str) -> Origin {
        Origin {
            file: self.file.clone(),
            line: node.line,
            column: node.column,
            field: field.to_owned(),
        }
    }

    pub(crate) fn error(&mut self, node: &Node, field: &str, message: impl Into<String>) {
        self.errors.push(FormatError::at(
            self.path,
            node.line as usize,
            node.column as usize,
            field,
            message,
        ));
    }

    pub(crate) fn sourced<T>(&self, node: &Node, field: &str, value: T) -> Sourced<T> {
        Sourced::new(value, self.origin(node, field))
    }

    /// The map at `node`, refusing keys not in `known` and duplicate keys.
    pub(crate) fn fields<'n>(
        &mut self,
        node: &'n Node,
        field: &str,
        known: &[&str],
    ) -> Option<Fields<'n>> {
        let Value::Map(entries) = &node.value else {
            self.error(node, field, format!("expected a map, found {}", node.describe()));
            return None;
        };
        let mut map: BTreeMap<String, (&'n Node, &'n Node)> = BTreeMap::new();
        for (key, value) in entries {
            let Some(key_text) = key.scalar_text() else {
                self.error(key, field, "expected a plain key");
                continue;
            };
            let key_field = join(field, &key_text);
            if !known.contains(&key_text.as_str()) {
                self.error(
                    key,
                    &key_field,
                    format!("unknown field {key_text:?}: expected one of {}", known.join(", ")),
                );
                continue;
            }
            if let Some((first, _)) = map.get(&key_text) {
                let first_line = first.line;
                self.error(
                    key,
                    &key_field,
                    format!("duplicate field: already given on line {first_line}"),
                );
                continue;
            }
            map.insert(key_text, (key, value));
        }
        Some(Fields { node, field: field.to_owned(), map })
    }

    /// The entries of a map whose keys are free names (priorities, request types).
    pub(crate) fn entries<'n>(
        &mut self,
        node: &'n Node,
        field: &str,
    ) -> Vec<(Sourced<String>, &'n Node, String)> {
        let Value::Map(entries) = &node.value else {
            self.error(node, field, format!("expected a map, found {}", node.describe()));
            return Vec::new();
        };
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        let mut out = Vec::new();
        for (key, value) in entries {
            let Some(key_text) = key.scalar_text() else {
                self.error(key, field, "expected a plain key");
                continue;
            };
            let key_field = join(field, &key_text);
            if let Some(first_line) = seen.get(&key_text) {
                self.error(
                    key,
                    &key_field,
                    format!("duplicate key: already given on line {first_line}"),
                );
                continue;
            }
            seen.insert(key_text.clone(), key.line);
            out.push((self.sourced(key, &key_field, key_text), value, key_field));
        }
        out
    }

    pub(crate) fn items<'n>(&mut self, node: &'n Node, field: &str) -> Vec<(&'n Node, String)> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(item_idx, item)| (item, format!("{field}[{item_idx}]")))
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                self.error(node, field, format!("expected a list, found {}", node.describe()));
                Vec::new()
            }
        }
    }

    pub(crate) fn string(&mut self, node: &Node, field: &str) -> Option<String> {
        match &node.value {
            Value::Str(text) if !text.trim().is_empty() => Some(text.clone()),
            Value::Str(_) => {
                self.error(node, field, "expected text, found an empty string");
                None
            }
            Value::Int(_) | Value::Float(_) => node.scalar_text(),
            _ => {
                self.error(node, field, format!("expected text, found {}", node.describe()));
                None
            }
        }
    }

    pub(crate) fn strings(&mut self, node: &Node, field: &str) -> Vec<String> {
        self.items(node, field)
            .into_iter()
            .filter_map(|(item, item_field)| self.string(item, &item_field))
            .collect()
    }

    /// A name of another document (or of a component, region...): a slug.
    pub(crate) fn name(&mut self, node: &Node, field: &str) -> Option<Sourced<String>> {
        let text = self.string(node, field)?;
        if !is_name(&text) {
            self.error(
                node,
                field,
                format!("invalid name {text:?}: expected lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters"),
            );
            return None;
        }
        Some(self.sourced(node, field, text))
    }

    pub(crate) fn names(&mut self, node: &Node, field: &str) -> Vec<Sourced<String>> {
        self.items(node, field)
            .into_iter()
            .filter_map(|(item, item_field)| self.name(item, &item_field))
            .collect()
    }

    /// A word from a fixed set, mapped to its value.
    pub(crate) fn word<T: Copy>(
        &mut self,
        node: &Node,
        field: &str,
        words: &[(&str, T)],
    ) -> Option<T> {
        let text = self.string(node, field)?;
        if let Some((_, value)) = words.iter().find(|(word, _)| *word == text) {
            return Some(*value);
        }
        let expected: Vec<&str> = words.iter().map(|(word, _)| *word).collect();
        self.error(
            node,
            field,
            format!("unknown value {text:?}: expected one of {}", expected.join(", ")),
        );
        None
    }

    pub(crate) fn boolean(&mut self, node: &Node, field: &str) -> Option<bool> {
        match node.value {
            Value::Bool(value) => Some(value),
            _ => {
                self.error(
                    node,
                    field,
                    format!("expected true or false, found {}", node.describe()),
                );
                None
            }
        }
    }

    pub(crate) fn whole(&mut self, node: &Node, field: &str, min: i64, max: i64) -> Option<i64> {
        match node.value {
            Value::Int(value) if (min..=max).contains(&value) => Some(value),
            Value::Int(value) => {
                self.error(
                    node,
                    field,
                    format!("{value} is out of range: expected {min} to {max}"),
                );
                None
            }
            _ => {
                self.error(
                    node,
                    field,
                    format!("expected a whole number, found {}", node.describe()),
                );
                None
            }
        }
    }

    pub(crate) fn duration(&mut self, node: &Node, field: &str) -> Option<SignedDuration> {
        let text = self.string(node, field)?;
        match parse_duration(&text) {
            Some(duration) if duration > SignedDuration::ZERO => Some(duration),
            _ => {
                self.error(
                    node,
                    field,
                    format!("invalid duration {text:?}: expected a positive duration such as 30m, 4h, 1h30m or 90s (no days: write 24h, or 1bd for a business day)"),
                );
                None
            }
        }
    }

    pub(crate) fn percent(&mut self, node: &Node, field: &str) -> Option<Percent> {
        let text = match &node.value {
            Value::Str(text) => text.clone(),
            Value::Int(_) | Value::Float(_) => node.scalar_text()?,
            _ => {
                self.error(
                    node,
                    field,
                    format!("expected a percentage such as 99.9, found {}", node.describe()),
                );
                return None;
            }
        };
        match Percent::parse(&text) {
            Ok(percent) => Some(percent),
            Err(error) => {
                self.error(node, field, error.to_string());
                None
            }
        }
    }

    pub(crate) fn date(&mut self, node: &Node, field: &str) -> Option<Date> {
        let text = self.string(node, field)?;
        match text.parse::<Date>() {
            Ok(date) if text.len() == 10 => Some(date),
            _ => {
                self.error(node, field, format!("invalid date {text:?}: expected YYYY-MM-DD"));
                None
            }
        }
    }

    pub(crate) fn zone(&mut self, node: &Node, field: &str) -> Option<TimeZone> {
        let text = self.string(node, field)?;
        match jiff::tz::db().get(&text) {
            Ok(zone) => Some(zone),
            Err(_) => {
                self.error(
                    node,
                    field,
                    format!(
                        "unknown time zone {text:?}: expected an IANA name such as Europe/Berlin"
                    ),
                );
                None
            }
        }
    }

    /// Months written `12mo`.
    pub(crate) fn months(&mut self, node: &Node, field: &str) -> Option<u32> {
        let text = self.string(node, field)?;
        match text.strip_suffix("mo").and_then(|n| n.trim().parse::<u32>().ok()) {
            Some(months) if (1..=1200).contains(&months) => Some(months),
            _ => {
                self.error(
                    node,
                    field,
                    format!("invalid months {text:?}: expected a number of months such as 12mo"),
                );
                None
            }
        }
    }
}

/// A map's known fields, by key.
pub(crate) struct Fields<'n> {
    pub(crate) node: &'n Node,
    pub(crate) field: String,
    map: BTreeMap<String, (&'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    /// The value of `key` and its field path, if present.
    pub(crate) fn get(&self, key: &str) -> Option<(&'n Node, String)> {
        self.map.get(key).map(|(_, value)| (*value, join(&self.field, key)))
    }

    /// The value of `key`, reporting it missing otherwise.
    pub(crate) fn require(
        &self,
        cx: &mut Cx<'_>,
        key: &str,
        what: &str,
    ) -> Option<(&'n Node, String)> {
        let found = self.get(key);
        if found.is_none() {
            cx.error(self.node, &self.field, format!("missing field {key:?}: {what}"));
        }
        found
    }

    /// Converts `key` with `convert` if present.
    pub(crate) fn with<T>(
        &self,
        cx: &mut Cx<'_>,
        key: &str,
        convert: impl FnOnce(&mut Cx<'_>, &'n Node, &str) -> Option<T>,
    ) -> Option<T> {
        let (node, field) = self.get(key)?;
        convert(cx, node, &field)
    }

    /// Converts `key` with `convert` if present, keeping its origin.
    pub(crate) fn sourced<T>(
        &self,
        cx: &mut Cx<'_>,
        key: &str,
        convert: impl FnOnce(&mut Cx<'_>, &'n Node, &str) -> Option<T>,
    ) -> Option<Sourced<T>> {
        let (node, field) = self.get(key)?;
        let value = convert(cx, node, &field)?;
        Some(cx.sourced(node, &field, value))
    }
}

pub(crate) fn join(field: &str, key: &str) -> String {
    if field.is_empty() { key.to_owned() } else { format!("{field}.{key}") }
}

/// `[a-z0-9][a-z0-9-]*`, at most 63 characters.
pub(crate) fn is_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || *byte == b'-')
}

/// `30m`, `4h`, `1h30m`, `90s`, `45min`, `2h 30m`.
pub(crate) fn parse_duration(text: &str) -> Option<SignedDuration> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = compact.as_str();
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let number: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let seconds = match unit {
            "h" | "hr" | "hrs" => 3600,
            "m" | "min" | "mins" => 60,
            "s" | "sec" | "secs" => 1,
            _ => return None,
        };
        total = total.checked_add(number.checked_mul(seconds)?)?;
    }
    Some(SignedDuration::from_secs(total))
}

/// Splits a file into its documents at `---` lines, giving each one's first line (1-based).
/// A leading part with nothing but comments and blank lines is dropped.
pub(crate) fn split_documents(text: &str) -> Vec<(u32, String)> {
    let mut documents = Vec::new();
    let mut current = String::new();
    let mut start_line = 1u32;
    for (line_idx, line) in text.lines().enumerate() {
        let is_marker = line == "---" || line.starts_with("--- ") || line.starts_with("---\t");
        let is_end = line == "...";
        if is_marker || is_end {
            documents.push((start_line, std::mem::take(&mut current)));
            start_line = line_idx as u32 + 2;
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    documents.push((start_line, current));
    documents.retain(|(_, text)| {
        text.lines().any(|line| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#')
        })
    });
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_document_syntax() {
        assert_eq!(parse_duration("1h30m"), Some(SignedDuration::from_mins(90)));
        assert_eq!(parse_duration("45min"), Some(SignedDuration::from_mins(45)));
        assert_eq!(parse_duration("2h 30m"), Some(SignedDuration::from_mins(150)));
        for bad in ["", "1d", "h", "30", "1.5h", "-1h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn documents_split_at_markers_with_their_first_line() {
        let text = "# header\n---\nkind: A\n---\nkind: B\n...\n";
        let documents = split_documents(text);
        assert_eq!(documents, vec![(3, "kind: A\n".to_owned()), (5, "kind: B\n".to_owned())]);
    }

    #[test]
    fn names_are_slugs() {
        assert!(is_name("acme-2"));
        assert!(!is_name("Acme"));
        assert!(!is_name("-acme"));
        assert!(!is_name(&"a".repeat(64)));
    }
}
