//! Ticket events as JSON Lines: one JSON object per line, read into
//! [`accord_core::clock::TicketEvent`] values and written back.
//!
//! The reference for the fields is `docs/events.md`. A file is read whole: every malformed line
//! is reported with its line and field, and the good lines are kept, because a helpdesk export
//! with one bad line still says a lot about the other tickets. The same objects are what the
//! HTTP API accepts, so [`parse_event`] reads a single object.
//!
//! **API boundary:** the event format is what helpdesk integrations write; change it
//! compatibly, and bump [`EVENT_FORMAT_VERSION`] when that is not possible.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::sync::Arc;

use accord_core::clock::{
    Author, Created, EVENT_FORMAT_VERSION, EventKind, Score, TicketEvent, TicketType, Updated,
};
use jiff::Timestamp;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// One event read from a file, with the line it came from and the fields Accord does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// The 1-based line.
    pub line: u32,
    /// The event.
    pub event: TicketEvent,
    /// Fields that are not part of the format, kept as given (sorted by name, because
    /// `serde_json`'s `preserve_order` feature is off).
    pub extra: Map<String, Value>,
}

/// A line that is not a valid event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError {
    /// The file, as the caller named it.
    pub path: String,
    /// The 1-based line.
    pub line: u32,
    /// The offending field (`author`), or `None` when the line as a whole is wrong (not JSON,
    /// not an object).
    pub field: Option<String>,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path, self.line)?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for EventError {}

/// Everything read from one file of events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedEvents {
    /// The valid events, in file order, without duplicates.
    pub records: Vec<EventRecord>,
    /// One error per malformed line, in file order.
    pub errors: Vec<EventError>,
    /// How many lines repeated an earlier event exactly (same id, same event, same extra
    /// fields) and were skipped.
    pub duplicates: usize,
}

/// Reads a JSON Lines file of ticket events; `path` names the file in errors.
///
/// Lines that are empty or only whitespace are skipped. Every other line must be one event;
/// a line that is not yields an [`EventError`] and reading goes on with the next line. An event
/// whose `id` appeared on an earlier line is skipped and counted in
/// [`ParsedEvents::duplicates`] when it is identical to the first one, and is an error on `id`
/// when it differs.
///
/// Repeated strings (ticket ids, customers, services, priorities, statuses, sites, regions,
/// groups and request types) share one allocation across the file.
///
/// # Examples
///
/// ```
/// use accord_format::events::parse_events;
///
/// let text = r#"{"id":"e1","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00+01:00"}
/// {"id":"e2","ticket":"T-1","type":"comment","at":"2026-11-02T09:05:00+01:00","author":"bot"}
/// "#;
/// let parsed = parse_events("events.jsonl", text);
/// assert_eq!(parsed.records.len(), 1);
/// assert_eq!(
///     parsed.errors[0].to_string(),
///     r#"events.jsonl:2: author: expected agent or customer, found "bot""#,
/// );
/// ```
pub fn parse_events(path: &str, text: &str) -> ParsedEvents {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Reserving for every line up front saves regrowing a million records.
    let n_lines = text.bytes().filter(|&byte| byte == b'\n').count() + 1;
    let mut parsed = ParsedEvents { records: Vec::with_capacity(n_lines), ..Default::default() };
    let mut interner = Interner::default();
    // The index into `parsed.records` of the first event with each id.
    let mut record_idx_by_id: HashMap<Arc<str>, usize> = HashMap::with_capacity(n_lines);
    for (line_idx, line_text) in text.lines().enumerate() {
        if line_text.trim().is_empty() {
            continue;
        }
        let line = u32::try_from(line_idx + 1).unwrap_or(u32::MAX);
        let error = |(field, message): FieldError| EventError {
            path: path.to_owned(),
            line,
            field,
            message,
        };
        let (event, extra) = match parse_line(line_text, &mut interner) {
            Ok(parsed_line) => parsed_line,
            Err(field_error) => {
                parsed.errors.push(error(field_error));
                continue;
            }
        };
        match record_idx_by_id.entry(event.id.clone()) {
            Entry::Vacant(vacant) => {
                vacant.insert(parsed.records.len());
                parsed.records.push(EventRecord { line, event, extra });
            }
            Entry::Occupied(occupied) => {
                let first = &parsed.records[*occupied.get()];
                if first.event == event && first.extra == extra {
                    parsed.duplicates += 1;
                } else {
                    parsed.errors.push(error((
                        Some("id".to_owned()),
                        format!(
                            "event id {} was already used on line {} for a different event",
                            quoted(&event.id),
                            first.line
                        ),
                    )));
                }
            }
        }
    }
    parsed.records.shrink_to_fit();
    parsed
}

/// Reads one event object, as posted to the HTTP API: the event and the fields that are not
/// part of the format.
///
/// # Errors
///
/// The offending field (`None` when `value` is not an object) and what is wrong with it.
#[expect(clippy::type_complexity, reason = "a plain tuple the HTTP handler takes apart at once")]
pub fn parse_event(
    value: &Value,
) -> Result<(TicketEvent, Map<String, Value>), (Option<String>, String)> {
    let Value::Object(object) = value else {
        return Err((None, format!("expected a JSON object, found {}", found(value))));
    };
    let object = object.iter().map(|(name, value)| (Cow::from(name.as_str()), Raw::from(value)));
    parse_object(object.collect(), &mut Interner::default())
}

/// The JSON object of an event: `"v": 1`, the common fields, the kind's fields and `extra`.
///
/// Optional fields that are `None` are left out; everything else is written, defaults
/// included. `at` is written in UTC. A field of `extra` with the name of a field of the format
/// is overwritten by the event's value. [`parse_event`] reads the result back into the same
/// event and extra fields.
pub fn to_json(event: &TicketEvent, extra: &Map<String, Value>) -> Value {
    let mut object = extra.clone();
    for (name, value) in fields(event) {
        object.insert(name.to_owned(), value);
    }
    Value::Object(object)
}

/// Appends one line per event to `out`, fields in the order of `docs/events.md` (`v`, `id`,
/// `ticket`, `type`, `at`, then the kind's fields), with no extra fields.
///
/// [`parse_events`] reads the text back into the same events.
pub fn write_jsonl<'a>(events: impl IntoIterator<Item = &'a TicketEvent>, out: &mut String) {
    for event in events {
        out.push('{');
        for (field_idx, (name, value)) in fields(event).into_iter().enumerate() {
            if field_idx > 0 {
                out.push(',');
            }
            // Field names are ASCII words that need no escaping.
            write!(out, "\"{name}\":{value}").expect("writing to a String does not fail");
        }
        out.push_str("}\n");
    }
}

/// A field (`None` for the whole object) and what is wrong with it.
type FieldError = (Option<String>, String);

const TYPES: &str = "one of created, updated, comment, note, solved, closed, reopened, rating";
const NAME: &str = "a non-empty string";
const INSTANT: &str = "an RFC 3339 instant such as 2026-11-02T09:00:00+01:00";
const SCORE: &str = "an integer from 1 to 5, good or bad";
/// The fields of an `updated` event, in `docs/events.md` order.
const UPDATED_FIELDS: &str =
    "status, priority, service, customer, site, region, group, requestType";

fn parse_line(
    line_text: &str,
    interner: &mut Interner,
) -> Result<(TicketEvent, Map<String, Value>), FieldError> {
    // A JSON text that starts with `{` is an object or not JSON at all.
    let result = if line_text.trim_start().starts_with('{') {
        serde_json::from_str::<LineObject<'_>>(line_text).map(Ok)
    } else {
        serde_json::from_str::<Value>(line_text).map(Err)
    };
    match result {
        Ok(Ok(LineObject { fields, repeated: None })) => parse_object(fields, interner),
        Ok(Ok(LineObject { repeated: Some(name), .. })) => {
            Err(check::error(&name, "given more than once".to_owned()))
        }
        Ok(Err(value)) => Err((None, format!("expected a JSON object, found {}", found(&value)))),
        Err(error) => {
            // Each line is parsed on its own, so serde_json's "at line 1" would mislead.
            let message = error.to_string();
            let suffix = format!(" at line {} column {}", error.line(), error.column());
            let message = message.strip_suffix(&suffix).unwrap_or(&message);
            Err((None, format!("invalid JSON at column {}: {message}", error.column())))
        }
    }
}

fn parse_object(
    object: Vec<(Cow<'_, str>, Raw<'_>)>,
    interner: &mut Interner,
) -> Result<(TicketEvent, Map<String, Value>), FieldError> {
    let mut fields = Fields { object, interner };
    if let Some(version) = fields.optional("v") {
        match &version {
            Raw::Other(Value::Number(number))
                if number.as_u64() == Some(u64::from(EVENT_FORMAT_VERSION)) => {}
            Raw::Other(Value::Number(number)) if number.is_i64() || number.is_u64() => {
                return Err(check::error(
                    "v",
                    format!(
                        "unsupported event format version {number}: this Accord reads version \
                         {EVENT_FORMAT_VERSION}"
                    ),
                ));
            }
            _ => return Err(check::expected("v", "an integer", &version)),
        }
    }
    // Event ids are unique, so interning them would only cost a lookup.
    let id = Arc::from(fields.required_name("id")?);
    let ticket = fields.required_interned("ticket")?;
    let type_value = fields.required("type", TYPES)?;
    let at = fields.instant()?;
    let kind = match type_value.as_str() {
        Some("created") => created(&mut fields)?,
        Some("updated") => updated(&mut fields)?,
        Some("comment") => EventKind::Comment {
            author: fields.required_word(
                "author",
                &[("agent", Author::Agent), ("customer", Author::Customer)],
            )?,
            public: fields.boolean("public")?.unwrap_or(true),
        },
        Some("note") => EventKind::Note,
        Some("solved") => EventKind::Solved,
        Some("closed") => EventKind::Closed,
        Some("reopened") => EventKind::Reopened { status: fields.interned("status")? },
        Some("rating") => EventKind::Rating {
            score: fields.score()?,
            comment: fields.text("comment")?.map(Arc::from),
        },
        _ => return Err(check::expected("type", TYPES, &type_value)),
    };
    let extra = fields.object.into_iter().map(|(name, raw)| (name.into_owned(), raw.into()));
    Ok((TicketEvent { id, ticket, at, kind }, extra.collect()))
}

fn created(fields: &mut Fields<'_, '_>) -> Result<EventKind, FieldError> {
    let customer = fields.required_interned("customer")?;
    let service = fields.required_interned("service")?;
    let priority = fields.required_interned("priority")?;
    let ticket_type = fields
        .word(
            "ticketType",
            &[("incident", TicketType::Incident), ("request", TicketType::Request)],
        )?
        .unwrap_or_default();
    let request_type = fields.interned("requestType")?;
    if ticket_type == TicketType::Request && request_type.is_none() {
        return Err(check::error(
            "requestType",
            format!("missing: a request needs a request type ({NAME})"),
        ));
    }
    let status = match fields.interned("status")? {
        Some(status) => status,
        None => fields.interner.intern("new"),
    };
    Ok(EventKind::Created(Box::new(Created {
        customer,
        service,
        priority,
        ticket_type,
        request_type,
        status,
        site: fields.interned("site")?,
        region: fields.interned("region")?,
        group: fields.interned("group")?,
        // Usually unique per ticket, so not interned.
        external_ref: fields.name("externalRef")?.map(Arc::from),
    })))
}

fn updated(fields: &mut Fields<'_, '_>) -> Result<EventKind, FieldError> {
    let updated = Updated {
        status: fields.interned("status")?,
        priority: fields.interned("priority")?,
        service: fields.interned("service")?,
        customer: fields.interned("customer")?,
        site: fields.interned("site")?,
        region: fields.interned("region")?,
        group: fields.interned("group")?,
        request_type: fields.interned("requestType")?,
    };
    if updated == Updated::default() {
        return Err(check::error(
            "type",
            format!("an updated event changes at least one of {UPDATED_FIELDS}"),
        ));
    }
    Ok(EventKind::Updated(Box::new(updated)))
}

/// The fields of the format, in `docs/events.md` order.
fn fields(event: &TicketEvent) -> Vec<(&'static str, Value)> {
    fn optional(
        fields: &mut Vec<(&'static str, Value)>,
        name: &'static str,
        value: &Option<Arc<str>>,
    ) {
        if let Some(value) = value {
            fields.push((name, Value::from(&**value)));
        }
    }
    let mut fields: Vec<(&'static str, Value)> = vec![
        ("v", Value::from(EVENT_FORMAT_VERSION)),
        ("id", Value::from(&*event.id)),
        ("ticket", Value::from(&*event.ticket)),
        ("type", Value::from(event.kind.as_str())),
        ("at", Value::from(event.at.to_string())),
    ];
    match &event.kind {
        EventKind::Created(created) => {
            let Created {
                customer,
                service,
                priority,
                ticket_type,
                request_type,
                status,
                site,
                region,
                group,
                external_ref,
            } = &**created;
            fields.push(("customer", Value::from(&**customer)));
            fields.push(("service", Value::from(&**service)));
            fields.push(("priority", Value::from(&**priority)));
            fields.push(("ticketType", Value::from(ticket_type.as_str())));
            optional(&mut fields, "requestType", request_type);
            fields.push(("status", Value::from(&**status)));
            optional(&mut fields, "site", site);
            optional(&mut fields, "region", region);
            optional(&mut fields, "group", group);
            optional(&mut fields, "externalRef", external_ref);
        }
        EventKind::Updated(updated) => {
            let Updated { status, priority, service, customer, site, region, group, request_type } =
                &**updated;
            optional(&mut fields, "status", status);
            optional(&mut fields, "priority", priority);
            optional(&mut fields, "service", service);
            optional(&mut fields, "customer", customer);
            optional(&mut fields, "site", site);
            optional(&mut fields, "region", region);
            optional(&mut fields, "group", group);
            optional(&mut fields, "requestType", request_type);
        }
        EventKind::Comment { author, public } => {
            fields.push(("author", Value::from(author.as_str())));
            fields.push(("public", Value::from(*public)));
        }
        EventKind::Note | EventKind::Solved | EventKind::Closed => {}
        EventKind::Reopened { status } => optional(&mut fields, "status", status),
        EventKind::Rating { score, comment } => {
            let score = match score {
                Score::Stars(stars) => Value::from(*stars),
                Score::Good(true) => Value::from("good"),
                Score::Good(false) => Value::from("bad"),
            };
            fields.push(("score", score));
            optional(&mut fields, "comment", comment);
        }
    }
    fields
}

/// A JSON value as error messages show it: scalars as JSON (long strings cut), containers by
/// kind.
fn found(value: &Value) -> String {
    match value {
        Value::String(text) => quoted(text),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        Value::Null | Value::Bool(_) | Value::Number(_) => value.to_string(),
    }
}

/// `text` as a JSON string, cut after 60 characters.
fn quoted(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut_idx, _)) => format!("{}...", Value::from(&text[..cut_idx])),
        None => Value::from(text).to_string(),
    }
}

/// One allocation per distinct string of a file.
#[derive(Default)]
struct Interner {
    strings: HashSet<Arc<str>>,
}

impl Interner {
    fn intern(&mut self, text: &str) -> Arc<str> {
        if let Some(interned) = self.strings.get(text) {
            return interned.clone();
        }
        let interned: Arc<str> = Arc::from(text);
        self.strings.insert(interned.clone());
        interned
    }
}

/// The fields of one object not read yet, in line order; whatever is left at the end is extra.
struct Fields<'a, 'i> {
    object: Vec<(Cow<'a, str>, Raw<'a>)>,
    interner: &'i mut Interner,
}

impl<'a> Fields<'a, '_> {
    fn remove(&mut self, field: &str) -> Option<Raw<'a>> {
        let field_idx = self.object.iter().position(|(name, _)| name == field)?;
        Some(self.object.remove(field_idx).1)
    }

    /// A field that may be left out; `null` counts as left out.
    fn optional(&mut self, field: &str) -> Option<Raw<'a>> {
        self.remove(field).filter(|raw| !matches!(raw, Raw::Other(Value::Null)))
    }

    fn required(&mut self, field: &str, expected: &str) -> Result<Raw<'a>, FieldError> {
        self.remove(field)
            .ok_or_else(|| check::error(field, format!("missing: expected {expected}")))
    }

    /// An optional string, empty or not.
    fn text(&mut self, field: &str) -> Result<Option<Cow<'a, str>>, FieldError> {
        match self.optional(field) {
            None => Ok(None),
            Some(Raw::Str(text)) => Ok(Some(text)),
            Some(raw) => Err(check::expected(field, "a string", &raw)),
        }
    }

    /// An optional name: a string that is not empty or whitespace.
    fn name(&mut self, field: &str) -> Result<Option<Cow<'a, str>>, FieldError> {
        self.optional(field).map(|raw| check::name(field, raw)).transpose()
    }

    fn required_name(&mut self, field: &str) -> Result<Cow<'a, str>, FieldError> {
        check::name(field, self.required(field, NAME)?)
    }

    fn interned(&mut self, field: &str) -> Result<Option<Arc<str>>, FieldError> {
        Ok(self.name(field)?.map(|name| self.interner.intern(&name)))
    }

    fn required_interned(&mut self, field: &str) -> Result<Arc<str>, FieldError> {
        let name = self.required_name(field)?;
        Ok(self.interner.intern(&name))
    }

    /// One of a few words.
    fn word<T: Copy>(&mut self, field: &str, words: &[(&str, T)]) -> Result<Option<T>, FieldError> {
        self.optional(field).map(|raw| check::word(field, words, &raw)).transpose()
    }

    fn required_word<T: Copy>(
        &mut self,
        field: &str,
        words: &[(&str, T)],
    ) -> Result<T, FieldError> {
        let raw = self.required(field, &check::words(words))?;
        check::word(field, words, &raw)
    }

    fn boolean(&mut self, field: &str) -> Result<Option<bool>, FieldError> {
        match self.optional(field) {
            None => Ok(None),
            Some(Raw::Other(Value::Bool(boolean))) => Ok(Some(boolean)),
            Some(raw) => Err(check::expected(field, "true or false", &raw)),
        }
    }

    fn instant(&mut self) -> Result<Timestamp, FieldError> {
        let raw = self.required("at", INSTANT)?;
        let Raw::Str(text) = &raw else {
            return Err(check::expected("at", INSTANT, &raw));
        };
        match text.parse::<Timestamp>() {
            Ok(at) => Ok(at),
            // A date and time without an offset: the usual mistake, worth its own message.
            Err(_) if text.contains(':') && text.parse::<jiff::civil::DateTime>().is_ok() => {
                Err(check::error(
                    "at",
                    format!(
                        "{} is a local time without a UTC offset: add Z or an offset such as \
                         +01:00",
                        quoted(text)
                    ),
                ))
            }
            Err(_) => Err(check::expected("at", INSTANT, &raw)),
        }
    }

    fn score(&mut self) -> Result<Score, FieldError> {
        let raw = self.required("score", SCORE)?;
        let score = match &raw {
            Raw::Other(Value::Number(number)) => number
                .as_u64()
                .and_then(|stars| u8::try_from(stars).ok())
                .filter(|stars| (1..=5).contains(stars))
                .map(Score::Stars),
            Raw::Str(word) if word == "good" => Some(Score::Good(true)),
            Raw::Str(word) if word == "bad" => Some(Score::Good(false)),
            _ => None,
        };
        score.ok_or_else(|| check::expected("score", SCORE, &raw))
    }
}

/// Checks on single values, shared by the [`Fields`] methods.
mod check {
    use std::borrow::Cow;

    use super::{FieldError, NAME, Raw};

    pub(super) fn error(field: &str, message: String) -> FieldError {
        (Some(field.to_owned()), message)
    }

    pub(super) fn expected(field: &str, expected: &str, raw: &Raw<'_>) -> FieldError {
        error(field, format!("expected {expected}, found {}", raw.found()))
    }

    pub(super) fn name<'a>(field: &str, raw: Raw<'a>) -> Result<Cow<'a, str>, FieldError> {
        match raw {
            Raw::Str(name) if !name.trim().is_empty() => Ok(name),
            raw => Err(expected(field, NAME, &raw)),
        }
    }

    /// `agent or customer`, `one of a, b, c`.
    pub(super) fn words<T>(words: &[(&str, T)]) -> String {
        match words {
            [(first, _), (second, _)] => format!("{first} or {second}"),
            _ => {
                let names: Vec<&str> = words.iter().map(|(word, _)| *word).collect();
                format!("one of {}", names.join(", "))
            }
        }
    }

    pub(super) fn word<T: Copy>(
        field: &str,
        words: &[(&str, T)],
        raw: &Raw<'_>,
    ) -> Result<T, FieldError> {
        raw.as_str()
            .and_then(|text| words.iter().find(|(word, _)| *word == text))
            .map(|(_, meaning)| *meaning)
            .ok_or_else(|| expected(field, &self::words(words), raw))
    }
}

/// The fields of one line's object, read without building a [`Value`] for the whole line.
struct LineObject<'a> {
    /// The fields, in line order.
    fields: Vec<(Cow<'a, str>, Raw<'a>)>,
    /// The first field name given twice, if any.
    repeated: Option<Cow<'a, str>>,
}

/// A field's value: a string borrowed from the line when it has no escapes, anything else as a
/// [`Value`]. Most values of an event are strings that get interned or parsed, and borrowing
/// them saves an allocation each, which is most of the time a line takes.
#[derive(Debug)]
enum Raw<'a> {
    Str(Cow<'a, str>),
    Other(Value),
}

impl Raw<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Raw::Str(text) => Some(text),
            Raw::Other(_) => None,
        }
    }

    fn found(&self) -> String {
        match self {
            Raw::Str(text) => quoted(text),
            Raw::Other(value) => found(value),
        }
    }
}

impl<'a> From<&'a Value> for Raw<'a> {
    fn from(value: &'a Value) -> Raw<'a> {
        match value {
            Value::String(text) => Raw::Str(Cow::Borrowed(text)),
            value => Raw::Other(value.clone()),
        }
    }
}

impl From<Raw<'_>> for Value {
    fn from(raw: Raw<'_>) -> Value {
        match raw {
            Raw::Str(text) => Value::String(text.into_owned()),
            Raw::Other(value) => value,
        }
    }
}

impl<'de> Deserialize<'de> for LineObject<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = LineObject<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Room for the fields of a `created` event without growing.
                let mut fields: Vec<(Cow<'de, str>, Raw<'de>)> = Vec::with_capacity(16);
                let mut repeated = None;
                while let Some(Key(name)) = map.next_key()? {
                    if fields.iter().any(|(seen, _)| *seen == name) {
                        map.next_value::<IgnoredAny>()?;
                        repeated.get_or_insert(name);
                    } else {
                        fields.push((name, map.next_value()?));
                    }
                }
                Ok(LineObject { fields, repeated })
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A field name, borrowed from the line when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Raw<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawVisitor;

        impl<'de> Visitor<'de> for RawVisitor {
            type Value = Raw<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Raw::Str(Cow::Borrowed(text)))
            }

            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Raw::Str(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(Raw::Str(Cow::Owned(text)))
            }

            fn visit_bool<E>(self, boolean: bool) -> Result<Self::Value, E> {
                Ok(Raw::Other(Value::Bool(boolean)))
            }

            fn visit_i64<E>(self, number: i64) -> Result<Self::Value, E> {
                Ok(Raw::Other(Value::from(number)))
            }

            fn visit_u64<E>(self, number: u64) -> Result<Self::Value, E> {
                Ok(Raw::Other(Value::from(number)))
            }

            fn visit_f64<E>(self, number: f64) -> Result<Self::Value, E> {
                Ok(Raw::Other(Value::from(number)))
            }

            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Raw::Other(Value::Null))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(seq)).map(Raw::Other)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(Raw::Other)
            }
        }

        deserializer.deserialize_any(RawVisitor)
    }
}
