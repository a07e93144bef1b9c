//! Helpdesk webhooks as ticket events: the adapters document, which says where each
//! helpdesk's payload names a ticket's customer, service, priority and status, and the pure
//! mapping from one payload to Accord ticket events (`docs/events.md`).
//!
//! Three built-in adapters read the payloads helpdesks send as their documentation shows them:
//! Zammad's default webhook payload (the ticket with its latest article), Jira's issue
//! webhooks (`webhookEvent`, `issue`, `comment`), and Zendesk's ticket event webhooks
//! (`zen:event-type:ticket.*`). A payload of these is a snapshot of the ticket: [`read`] takes
//! the snapshot apart into a [`Delivery`], and [`plan`] turns it into events against what the
//! log already holds of the ticket ([`Known`], which the caller folds from the stored events
//! with [`known`]): a ticket the log does not know is `created`, a known one gets `updated`
//! with the fields that changed, `solved`, `closed` or `reopened` when its status says so, and
//! a `comment` when the payload carries one. A generic mapping ([`read_generic`]) reads any
//! JSON object into one event, each field through a JSON pointer (RFC 6901).
//!
//! Every event id of one delivery starts with [`Delivery::prefix`], which is built from the
//! payload alone (`zammad:81:2020-11-13T14:34:35.333Z:`), so a redelivered webhook gives the
//! same ids and is a duplicate in the log, never a second count.
//!
//! It is separate from the server because it is a format: what helpdesks write, read with
//! errors that name the payload's field as a JSON pointer; the server adds the HTTP, the
//! store look-ups and the dead-letter log.

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::FormatErrors;
use crate::tree::{self, Cx, Node};

/// A helpdesk with a built-in adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Helpdesk {
    /// Zammad's default webhook payload (triggers and schedulers).
    Zammad,
    /// Jira (Jira Service Management) issue webhooks.
    Jira,
    /// Zendesk ticket event webhooks.
    Zendesk,
}

impl Helpdesk {
    /// Every built-in adapter.
    pub const ALL: [Helpdesk; 3] = [Helpdesk::Zammad, Helpdesk::Jira, Helpdesk::Zendesk];

    /// The name in URLs and in the adapters document.
    pub fn as_str(self) -> &'static str {
        match self {
            Helpdesk::Zammad => "zammad",
            Helpdesk::Jira => "jira",
            Helpdesk::Zendesk => "zendesk",
        }
    }

    /// The adapter called `name`.
    pub fn parse(name: &str) -> Option<Helpdesk> {
        Helpdesk::ALL.into_iter().find(|helpdesk| helpdesk.as_str() == name)
    }

    /// Where the built-in adapter reads each field, and its value maps, before the document
    /// changes any of it.
    pub fn defaults(self) -> Mapping {
        let pointers: &[Pair] = match self {
            Helpdesk::Zammad => &[
                ("ticket", "/ticket/number"),
                ("customer", "/ticket/organization/name"),
                ("service", "/ticket/group/name"),
                ("priority", "/ticket/priority/name"),
                ("status", "/ticket/state"),
                ("group", "/ticket/group/name"),
            ],
            Helpdesk::Jira => &[
                ("ticket", "/issue/key"),
                ("priority", "/issue/fields/priority"),
                ("status", "/issue/fields/status"),
            ],
            Helpdesk::Zendesk => &[
                ("ticket", "/detail/id"),
                ("customer", "/detail/organization_id"),
                ("priority", "/detail/priority"),
                ("status", "/detail/status"),
                ("group", "/detail/group_id"),
            ],
        };
        let (priorities, statuses): (&[Pair], &[Pair]) = match self {
            Helpdesk::Zammad => (
                &[("1 low", "P3"), ("2 normal", "P2"), ("3 high", "P1")],
                &[
                    ("new", "new"),
                    ("open", "open"),
                    ("pending reminder", "waiting_on_customer"),
                    ("pending close", "solved"),
                    ("closed", "closed"),
                    ("merged", "closed"),
                ],
            ),
            Helpdesk::Jira => (
                &[
                    ("Highest", "P1"),
                    ("High", "P2"),
                    ("Medium", "P3"),
                    ("Low", "P4"),
                    ("Lowest", "P4"),
                    ("Blocker", "P1"),
                    ("Critical", "P1"),
                    ("Major", "P2"),
                    ("Minor", "P3"),
                    ("Trivial", "P4"),
                ],
                &[
                    ("Open", "open"),
                    ("To Do", "new"),
                    ("In Progress", "open"),
                    ("Waiting for support", "open"),
                    ("Waiting for customer", "waiting_on_customer"),
                    ("Pending", "waiting_on_customer"),
                    ("Resolved", "solved"),
                    ("Done", "solved"),
                    ("Closed", "closed"),
                    ("Canceled", "closed"),
                ],
            ),
            Helpdesk::Zendesk => (
                &[
                    ("URGENT", "P1"),
                    ("HIGH", "P2"),
                    ("NORMAL", "P3"),
                    ("LOW", "P4"),
                    ("urgent", "P1"),
                    ("high", "P2"),
                    ("normal", "P3"),
                    ("low", "P4"),
                ],
                &[
                    ("NEW", "new"),
                    ("OPEN", "open"),
                    ("PENDING", "waiting_on_customer"),
                    ("HOLD", "on_hold"),
                    ("SOLVED", "solved"),
                    ("CLOSED", "closed"),
                    ("new", "new"),
                    ("open", "open"),
                    ("pending", "waiting_on_customer"),
                    ("hold", "on_hold"),
                    ("solved", "solved"),
                    ("closed", "closed"),
                ],
            ),
        };
        let to_map = |pairs: &[Pair]| {
            pairs.iter().map(|(from, to)| ((*from).to_owned(), (*to).to_owned())).collect()
        };
        Mapping {
            fields: pointers
                .iter()
                .map(|(field, pointer)| {
                    ((*field).to_owned(), Source::Pointer((*pointer).to_owned()))
                })
                .collect(),
            values: BTreeMap::from([
                ("priority".to_owned(), to_map(priorities)),
                ("status".to_owned(), to_map(statuses)),
            ]),
            ticket_prefix: String::new(),
        }
    }
}

/// A helpdesk's word and Accord's.
type Pair = (&'static str, &'static str);

/// Where a field's value comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A JSON pointer into the payload (`/ticket/priority/name`).
    Pointer(String),
    /// The same value for every payload.
    Constant(Value),
}

/// How one adapter reads payloads: a source per event field, value maps per field (the
/// helpdesk's word to Accord's), and a prefix for ticket ids.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    /// By event field (`customer`, `priority`, ...).
    pub fields: BTreeMap<String, Source>,
    /// By event field: a helpdesk value to the value Accord records. Values not listed are
    /// kept as they are.
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Put before every ticket id, to keep the tickets of several helpdesks apart.
    pub ticket_prefix: String,
}

impl Mapping {
    /// `self` with `overrides` laid over it: a field's source is replaced, value maps are
    /// merged entry by entry, and a prefix replaces the prefix.
    pub fn overlay(&self, overrides: &Mapping) -> Mapping {
        let mut merged = self.clone();
        for (field, source) in &overrides.fields {
            merged.fields.insert(field.clone(), source.clone());
        }
        for (field, values) in &overrides.values {
            merged.values.entry(field.clone()).or_default().extend(values.clone());
        }
        if !overrides.ticket_prefix.is_empty() {
            merged.ticket_prefix.clone_from(&overrides.ticket_prefix);
        }
        merged
    }

    /// The mapping as the adapters document writes it.
    pub fn to_json(&self) -> Value {
        let mut fields = Map::new();
        let mut constants = Map::new();
        for (field, source) in &self.fields {
            match source {
                Source::Pointer(pointer) => {
                    fields.insert(field.clone(), Value::from(pointer.clone()))
                }
                Source::Constant(value) => constants.insert(field.clone(), value.clone()),
            };
        }
        let values: Map<String, Value> = self
            .values
            .iter()
            .map(|(field, values)| {
                let values: Map<String, Value> = values
                    .iter()
                    .map(|(from, to)| (from.clone(), Value::from(to.clone())))
                    .collect();
                (field.clone(), Value::Object(values))
            })
            .collect();
        let mut json = Map::new();
        if !self.ticket_prefix.is_empty() {
            json.insert("ticketPrefix".to_owned(), Value::from(self.ticket_prefix.clone()));
        }
        json.insert("fields".to_owned(), Value::Object(fields));
        json.insert("constants".to_owned(), Value::Object(constants));
        json.insert("values".to_owned(), Value::Object(values));
        Value::Object(json)
    }

    /// A field's value in `payload`: the text at its pointer (or its constant), through the
    /// field's value map. `Ok(None)` when the payload has nothing there.
    fn text(&self, field: &str, payload: &Value) -> Result<Option<String>, PayloadError> {
        let Some(source) = self.fields.get(field) else { return Ok(None) };
        let raw = match source {
            Source::Constant(value) => return Ok(scalar_text(value)),
            Source::Pointer(pointer) => match payload.pointer(pointer) {
                None | Some(Value::Null) => return Ok(None),
                Some(value) => scalar_text(value).ok_or_else(|| {
                    PayloadError::field(
                        pointer,
                        format!("{field}: expected text, found {}", describe(value)),
                    )
                })?,
            },
        };
        Ok(Some(self.mapped(field, raw)))
    }

    fn mapped(&self, field: &str, raw: String) -> String {
        match self.values.get(field).and_then(|values| values.get(&raw)) {
            Some(mapped) => mapped.clone(),
            None => raw,
        }
    }

    /// Where `field` comes from, for messages: its pointer, or `constants.FIELD`.
    fn origin(&self, field: &str) -> Option<String> {
        match self.fields.get(field)? {
            Source::Pointer(pointer) => Some(pointer.clone()),
            Source::Constant(_) => Some(format!("constants.{field}")),
        }
    }
}

/// The adapters document: changes to the built-in adapters, and generic mappings by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Adapters {
    /// What the document changes of each built-in adapter.
    pub helpdesks: BTreeMap<Helpdesk, Mapping>,
    /// Generic mappings, by the name in `/api/v1/adapters/generic/{name}`.
    pub generic: BTreeMap<String, Mapping>,
}

impl Adapters {
    /// The mapping a built-in adapter uses: its defaults with the document's changes.
    pub fn mapping(&self, helpdesk: Helpdesk) -> Mapping {
        let defaults = helpdesk.defaults();
        match self.helpdesks.get(&helpdesk) {
            Some(overrides) => defaults.overlay(overrides),
            None => defaults,
        }
    }

    /// Every adapter as it reads payloads: the built-in ones with their defaults applied.
    pub fn to_json(&self) -> Value {
        let mut json = Map::new();
        for helpdesk in Helpdesk::ALL {
            json.insert(helpdesk.as_str().to_owned(), self.mapping(helpdesk).to_json());
        }
        let generic: Map<String, Value> =
            self.generic.iter().map(|(name, mapping)| (name.clone(), mapping.to_json())).collect();
        json.insert("generic".to_owned(), Value::Object(generic));
        Value::Object(json)
    }
}

/// The fields of the ticket a built-in adapter reads from a payload.
const SNAPSHOT_FIELDS: [&str; 11] = [
    "ticket",
    "customer",
    "service",
    "priority",
    "status",
    "ticketType",
    "requestType",
    "site",
    "region",
    "group",
    "externalRef",
];

/// The event fields a generic mapping may set.
const EVENT_FIELDS: [&str; 18] = [
    "id",
    "ticket",
    "type",
    "at",
    "customer",
    "service",
    "priority",
    "ticketType",
    "requestType",
    "status",
    "site",
    "region",
    "group",
    "externalRef",
    "author",
    "public",
    "score",
    "comment",
];

/// Reads an adapters document; every problem is reported with its line, column and field.
/// Returns the document and its canonical JSON (keys sorted, comments and layout dropped).
///
/// ```yaml
/// zammad:
///   fields: { service: /ticket/group/name }
///   values:
///     customer: { Awesome Customer Inc.: acme }
/// generic:
///   statuspage:
///     fields: { id: /event/id, ticket: /incident/id, at: /event/at, type: /event/kind }
///     constants: { customer: acme, service: cloud-hosting, priority: P2 }
///     values:
///       type: { opened: created, resolved: solved }
/// ```
///
/// # Errors
///
/// Every problem found.
pub fn parse_adapters(path: &Path, text: &str) -> Result<(Adapters, Value), FormatErrors> {
    let mut cx = Cx::new(path);
    let root: Node = match serde_saphyr::from_str(text) {
        Ok(root) => root,
        Err(error) => return Err(FormatErrors(vec![crate::document::yaml_error(path, &error, 0)])),
    };
    let mut adapters = Adapters::default();
    if root.value == tree::Value::Null {
        return Ok((adapters, Value::Object(Map::new())));
    }
    let known: Vec<&str> =
        Helpdesk::ALL.iter().map(|helpdesk| helpdesk.as_str()).chain(["generic"]).collect();
    if let Some(fields) = cx.fields(&root, "", &known) {
        for helpdesk in Helpdesk::ALL {
            if let Some((node, field)) = fields.get(helpdesk.as_str())
                && let Some(mapping) = mapping(&mut cx, node, &field, &SNAPSHOT_FIELDS)
            {
                adapters.helpdesks.insert(helpdesk, mapping);
            }
        }
        if let Some((node, field)) = fields.get("generic") {
            for (name, node, field) in cx.entries(node, &field) {
                if !tree::is_name(&name.value) {
                    cx.error(
                        node,
                        &field,
                        format!(
                            "invalid mapping name {:?}: expected lowercase letters, digits and '-'",
                            name.value
                        ),
                    );
                    continue;
                }
                let Some(mapping) = mapping(&mut cx, node, &field, &EVENT_FIELDS) else { continue };
                for required in ["id", "ticket", "at", "type"] {
                    match mapping.fields.get(required) {
                        Some(Source::Pointer(_)) => {}
                        Some(Source::Constant(_)) if required == "type" => {}
                        Some(Source::Constant(_)) => cx.error(
                            node,
                            &field,
                            format!("{required} must come from the payload: give fields.{required} a JSON pointer"),
                        ),
                        None => cx.error(
                            node,
                            &field,
                            format!("missing fields.{required}: the JSON pointer to the event's {required}"),
                        ),
                    }
                }
                adapters.generic.insert(name.value, mapping);
            }
        }
    }
    if cx.errors.is_empty() { Ok((adapters, root.to_json())) } else { Err(FormatErrors(cx.errors)) }
}

/// One adapter's section: `ticketPrefix`, `fields`, `constants`, `values`, over `allowed`
/// event fields.
fn mapping(cx: &mut Cx<'_>, node: &Node, field: &str, allowed: &[&str]) -> Option<Mapping> {
    let fields = cx.fields(node, field, &["ticketPrefix", "fields", "constants", "values"])?;
    let mut mapping = Mapping::default();
    let unknown = |name: &str| {
        format!("unknown event field {name:?}: expected one of {}", allowed.join(", "))
    };
    if let Some(prefix) = fields.with(cx, "ticketPrefix", |cx, node, field| cx.string(node, field))
    {
        mapping.ticket_prefix = prefix;
    }
    if let Some((node, field)) = fields.get("fields") {
        for (name, node, field) in cx.entries(node, &field) {
            if !allowed.contains(&name.value.as_str()) {
                cx.error(node, &field, unknown(&name.value));
                continue;
            }
            let Some(pointer) = cx.string(node, &field) else { continue };
            if let Err(message) = check_pointer(&pointer) {
                cx.error(node, &field, message);
                continue;
            }
            mapping.fields.insert(name.value, Source::Pointer(pointer));
        }
    }
    if let Some((node, field)) = fields.get("constants") {
        for (name, node, field) in cx.entries(node, &field) {
            if !allowed.contains(&name.value.as_str()) {
                cx.error(node, &field, unknown(&name.value));
                continue;
            }
            if mapping.fields.contains_key(&name.value) {
                cx.error(
                    node,
                    &field,
                    format!(
                        "{} has a pointer in fields already: give one or the other",
                        name.value
                    ),
                );
                continue;
            }
            let value = match &node.value {
                tree::Value::Bool(_) if name.value == "public" => node.to_json(),
                tree::Value::Int(_) if name.value == "score" => node.to_json(),
                _ => match cx.string(node, &field) {
                    Some(text) => Value::from(text),
                    None => continue,
                },
            };
            mapping.fields.insert(name.value, Source::Constant(value));
        }
    }
    if let Some((node, field)) = fields.get("values") {
        for (name, node, field) in cx.entries(node, &field) {
            if !allowed.contains(&name.value.as_str()) {
                cx.error(node, &field, unknown(&name.value));
                continue;
            }
            let mut values = BTreeMap::new();
            for (from, node, field) in cx.entries(node, &field) {
                if let Some(to) = cx.string(node, &field) {
                    values.insert(from.value, to);
                }
            }
            mapping.values.insert(name.value, values);
        }
    }
    Some(mapping)
}

/// A JSON pointer as RFC 6901 writes it: empty, or `/` then segments, `~` only as `~0` or
/// `~1`.
fn check_pointer(pointer: &str) -> Result<(), String> {
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(format!(
            "invalid JSON pointer {pointer:?}: it starts with / (such as /ticket/priority/name)"
        ));
    }
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(format!(
                "invalid JSON pointer {pointer:?}: ~ must be followed by 0 (for ~) or 1 (for /)"
            ));
        }
    }
    Ok(())
}

/// A payload Accord cannot use: the field at fault as a JSON pointer into the payload (or
/// `body`), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadError {
    /// `/ticket/priority/name`, `body`.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
    /// Whether the payload is of a kind the adapter does not know at all (HTTP 422), rather
    /// than a known kind with a bad field (HTTP 400).
    pub unknown: bool,
}

impl PayloadError {
    /// A bad field of a known payload.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> PayloadError {
        PayloadError { field: field.into(), message: message.into(), unknown: false }
    }

    /// A payload of an unknown kind.
    pub fn unknown(field: impl Into<String>, message: impl Into<String>) -> PayloadError {
        PayloadError { field: field.into(), message: message.into(), unknown: true }
    }
}

/// A comment the payload carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// When it was written.
    pub at: Timestamp,
    /// `agent` or `customer`.
    pub author: &'static str,
    /// Whether the customer sees it.
    pub public: bool,
}

/// One payload of a built-in adapter, taken apart: the ticket as the payload shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The Accord ticket id (with the adapter's prefix).
    pub ticket: String,
    /// The start of every event id made from this payload.
    pub prefix: String,
    /// When the payload's change happened.
    pub at: Timestamp,
    /// When the ticket was created.
    pub created_at: Timestamp,
    /// The ticket's fields as the payload shows them (after the value maps), by event field.
    pub snapshot: BTreeMap<&'static str, String>,
    /// Where each field came from, for messages: a pointer or `constants.FIELD`.
    pub origins: BTreeMap<&'static str, String>,
    /// A comment the payload carries.
    pub comment: Option<Comment>,
}

/// What a built-in adapter makes of a payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// A change of a ticket.
    Delivery(Delivery),
    /// A payload of a kind that says nothing about SLA clocks (a deleted issue, a worklog);
    /// the reason says which.
    Ignored(String),
}

/// Takes a payload of `helpdesk` apart with `mapping` (see [`Adapters::mapping`]).
///
/// # Errors
///
/// A payload that is not of the helpdesk's documented shape, naming the field at fault.
pub fn read(helpdesk: Helpdesk, mapping: &Mapping, payload: &Value) -> Result<Read, PayloadError> {
    if !payload.is_object() {
        return Err(PayloadError::field(
            "body",
            format!("expected a JSON object, found {}", describe(payload)),
        ));
    }
    match helpdesk {
        Helpdesk::Zammad => read_zammad(mapping, payload),
        Helpdesk::Jira => read_jira(mapping, payload),
        Helpdesk::Zendesk => read_zendesk(mapping, payload),
    }
}

fn read_zammad(mapping: &Mapping, payload: &Value) -> Result<Read, PayloadError> {
    if !payload.get("ticket").is_some_and(Value::is_object) {
        return Err(PayloadError::unknown(
            "/ticket",
            "not a Zammad webhook payload: expected the ticket object at /ticket (the default payload; a custom payload needs a generic mapping)",
        ));
    }
    let source_id = id_text(payload, "/ticket/id")?;
    let at = required_instant(payload, "/ticket/updated_at")?;
    let created_at = required_instant(payload, "/ticket/created_at")?;
    let comment = match payload.get("article") {
        None | Some(Value::Null) => None,
        Some(Value::Object(_)) => {
            let sender = required_text(payload, "/article/sender")?;
            let author = match sender.as_str() {
                "Agent" => Some("agent"),
                "Customer" => Some("customer"),
                // System messages (auto-replies, notifications) are nobody's answer.
                "System" => None,
                other => {
                    return Err(PayloadError::field(
                        "/article/sender",
                        format!("unknown sender {other:?}: expected Agent, Customer or System"),
                    ));
                }
            };
            let internal = match payload.pointer("/article/internal") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(internal)) => *internal,
                Some(other) => {
                    return Err(PayloadError::field(
                        "/article/internal",
                        format!("expected true or false, found {}", describe(other)),
                    ));
                }
            };
            match author {
                Some(author) => Some(Comment {
                    at: required_instant(payload, "/article/created_at")?,
                    author,
                    public: !internal,
                }),
                None => None,
            }
        }
        Some(other) => {
            return Err(PayloadError::field(
                "/article",
                format!("expected the article object, found {}", describe(other)),
            ));
        }
    };
    let prefix = format!("zammad:{source_id}:{at}:");
    delivery(mapping, payload, prefix, at, created_at, comment).map(Read::Delivery)
}

/// Jira webhook events that say nothing about SLA clocks.
const JIRA_IGNORED: [&str; 13] = [
    "jira:issue_deleted",
    "comment_updated",
    "comment_deleted",
    "worklog_created",
    "worklog_updated",
    "worklog_deleted",
    "issuelink_created",
    "issuelink_deleted",
    "attachment_created",
    "attachment_deleted",
    "issue_property_set",
    "issue_property_deleted",
    "jira:worklog_updated",
];

fn read_jira(mapping: &Mapping, payload: &Value) -> Result<Read, PayloadError> {
    let Some(event) = payload.get("webhookEvent") else {
        return Err(PayloadError::unknown(
            "/webhookEvent",
            "not a Jira webhook payload: expected webhookEvent such as jira:issue_created",
        ));
    };
    let Some(event) = event.as_str() else {
        return Err(PayloadError::unknown(
            "/webhookEvent",
            format!("expected the event's name, found {}", describe(event)),
        ));
    };
    if JIRA_IGNORED.contains(&event) {
        return Ok(Read::Ignored(format!("webhookEvent {event} does not change SLA clocks")));
    }
    if !matches!(event, "jira:issue_created" | "jira:issue_updated" | "comment_created") {
        return Err(PayloadError::unknown(
            "/webhookEvent",
            format!(
                "unknown webhookEvent {event:?}: expected jira:issue_created, jira:issue_updated or comment_created"
            ),
        ));
    }
    if !payload.get("issue").is_some_and(Value::is_object) {
        return Err(PayloadError::field("/issue", format!("{event} without the issue object")));
    }
    let source_id = id_text(payload, "/issue/id")?;
    let created_at = optional_instant(payload, "/issue/fields/created")?;
    let at = match event {
        "jira:issue_created" => match created_at {
            Some(created_at) => created_at,
            None => required_instant(payload, "/timestamp")?,
        },
        _ => required_instant(payload, "/timestamp")?,
    };
    let comment = match payload.get("comment") {
        None | Some(Value::Null) => None,
        Some(Value::Object(_)) => {
            let written_at = required_instant(payload, "/comment/created")?;
            // A comment by the issue's reporter is the customer's; any other is an agent's.
            let person = |at: &str| {
                ["accountId", "name", "key"]
                    .iter()
                    .find_map(|key| payload.pointer(&format!("{at}/{key}"))?.as_str())
            };
            let by_reporter = person("/comment/author")
                .is_some_and(|author| person("/issue/fields/reporter") == Some(author));
            let public = match payload.pointer("/comment/jsdPublic") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(public)) => *public,
                Some(other) => {
                    return Err(PayloadError::field(
                        "/comment/jsdPublic",
                        format!("expected true or false, found {}", describe(other)),
                    ));
                }
            };
            Some(Comment {
                at: written_at,
                author: if by_reporter { "customer" } else { "agent" },
                public,
            })
        }
        Some(other) => {
            return Err(PayloadError::field(
                "/comment",
                format!("expected the comment object, found {}", describe(other)),
            ));
        }
    };
    if event == "comment_created" && comment.is_none() {
        return Err(PayloadError::field("/comment", "comment_created without the comment object"));
    }
    let prefix = format!("jira:{source_id}:{at}:");
    delivery(mapping, payload, prefix, at, created_at.unwrap_or(at), comment).map(Read::Delivery)
}

/// Zendesk ticket events that say nothing about SLA clocks.
const ZENDESK_IGNORED: [&str; 5] =
    ["soft_deleted", "permanently_deleted", "undeleted", "merged", "marked_as_spam"];

fn read_zendesk(mapping: &Mapping, payload: &Value) -> Result<Read, PayloadError> {
    let Some(kind) = payload.get("type").and_then(Value::as_str) else {
        return Err(PayloadError::unknown(
            "/type",
            "not a Zendesk event webhook payload: expected type such as zen:event-type:ticket.created",
        ));
    };
    let Some(ticket_event) = kind.strip_prefix("zen:event-type:ticket.") else {
        return Err(PayloadError::unknown(
            "/type",
            format!(
                "{kind:?} is not a ticket event: connect the webhook to zen:event-type:ticket.* events only"
            ),
        ));
    };
    if ZENDESK_IGNORED.contains(&ticket_event) {
        return Ok(Read::Ignored(format!("{kind} does not change SLA clocks")));
    }
    if !payload.get("detail").is_some_and(Value::is_object) {
        return Err(PayloadError::field("/detail", format!("{kind} without the detail object")));
    }
    let event_id = required_text(payload, "/id")?;
    let at = required_instant(payload, "/time")?;
    let created_at = optional_instant(payload, "/detail/created_at")?.unwrap_or(at);
    let comment = if ticket_event == "comment_added" {
        if !payload.pointer("/event/comment").is_some_and(Value::is_object) {
            return Err(PayloadError::field(
                "/event/comment",
                format!("{kind} without the comment object"),
            ));
        }
        let boolean = |pointer: &str| match payload.pointer(pointer) {
            Some(Value::Bool(value)) => Ok(*value),
            None | Some(Value::Null) => {
                Err(PayloadError::field(pointer, "missing: expected true or false"))
            }
            Some(other) => Err(PayloadError::field(
                pointer,
                format!("expected true or false, found {}", describe(other)),
            )),
        };
        let is_staff = boolean("/event/comment/author/is_staff")?;
        let public = boolean("/event/comment/is_public")?;
        Some(Comment { at, author: if is_staff { "agent" } else { "customer" }, public })
    } else {
        None
    };
    let prefix = format!("zendesk:{event_id}:");
    delivery(mapping, payload, prefix, at, created_at, comment).map(Read::Delivery)
}

/// The common part of the built-in adapters: the ticket and its fields through `mapping`.
fn delivery(
    mapping: &Mapping,
    payload: &Value,
    prefix: String,
    at: Timestamp,
    created_at: Timestamp,
    comment: Option<Comment>,
) -> Result<Delivery, PayloadError> {
    let mut snapshot = BTreeMap::new();
    let mut origins = BTreeMap::new();
    for field in SNAPSHOT_FIELDS {
        if let Some(origin) = mapping.origin(field) {
            origins.insert(field, origin);
        }
        if let Some(value) = mapping.text(field, payload)? {
            snapshot.insert(field, value);
        }
    }
    let Some(ticket) = snapshot.remove("ticket") else {
        let field = origins.get("ticket").cloned().unwrap_or_else(|| "ticket".to_owned());
        return Err(PayloadError::field(field, "missing: the ticket's id"));
    };
    Ok(Delivery {
        ticket: format!("{}{ticket}", mapping.ticket_prefix),
        prefix,
        at,
        created_at: created_at.min(at),
        snapshot,
        origins,
        comment,
    })
}

/// Whether a ticket is open, solved or closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stage {
    /// Open (including new, pending, waiting).
    #[default]
    Open,
    /// Solved, not reopened since.
    Solved,
    /// Closed, not reopened since.
    Closed,
}

impl Stage {
    /// The stage a status word puts a ticket in: `solved` and `closed` are theirs, every other
    /// status is open.
    fn of(status: &str) -> Stage {
        match status {
            "solved" => Stage::Solved,
            "closed" => Stage::Closed,
            _ => Stage::Open,
        }
    }
}

/// What the log knows of a delivery's ticket, besides the delivery's own events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Whether the log has any event of the ticket.
    pub exists: bool,
    /// The ticket's fields as of the delivery's instant, by event field.
    pub values: BTreeMap<String, String>,
    /// Open, solved or closed as of the delivery's instant.
    pub stage: Stage,
}

/// Folds a ticket's stored events, given as `(id, at, event JSON)` in log order, into what
/// the log knows of the ticket before `delivery`: events of the delivery itself (ids starting
/// with its prefix) are left out, and only events up to its instant count for the fields.
pub fn known<'a>(
    delivery: &Delivery,
    events: impl IntoIterator<Item = (&'a str, Timestamp, &'a Value)>,
) -> Known {
    let mut earlier: Vec<(Timestamp, &Value)> = Vec::new();
    let mut known = Known::default();
    for (id, at, body) in events {
        if id.starts_with(&delivery.prefix) {
            continue;
        }
        known.exists = true;
        if at <= delivery.at {
            earlier.push((at, body));
        }
    }
    // Stable: events at one instant keep their log order.
    earlier.sort_by_key(|(at, _)| *at);
    for (_, body) in earlier {
        let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        match body.get("type").and_then(Value::as_str) {
            Some("created") => {
                known.values.clear();
                known.stage = Stage::Open;
                known.values.insert("status".to_owned(), "new".to_owned());
                for name in SNAPSHOT_FIELDS {
                    if let Some(value) = field(name) {
                        known.values.insert(name.to_owned(), value);
                    }
                }
            }
            Some("updated") => {
                for name in SNAPSHOT_FIELDS {
                    if let Some(value) = field(name) {
                        known.values.insert(name.to_owned(), value);
                    }
                }
            }
            Some("reopened") => {
                known.stage = Stage::Open;
                let status = field("status").unwrap_or_else(|| "open".to_owned());
                known.values.insert("status".to_owned(), status);
            }
            Some("solved") if known.stage == Stage::Open => {
                known.stage = Stage::Solved;
                known.values.insert("status".to_owned(), "solved".to_owned());
            }
            Some("closed") => {
                known.stage = Stage::Closed;
                known.values.insert("status".to_owned(), "closed".to_owned());
            }
            _ => {}
        }
    }
    known
}

/// The events a delivery makes, given what the log knows of its ticket: `created` for a
/// ticket the log does not know, else `updated` with the fields that changed; `solved`,
/// `closed` or `reopened` when the status moves the ticket between open, solved and closed;
/// and the comment. Event ids are the delivery's prefix and the event's type.
///
/// # Errors
///
/// A new ticket without a customer, service or priority, naming where the adapter looks for
/// it.
pub fn plan(
    helpdesk: Helpdesk,
    delivery: &Delivery,
    known: &Known,
) -> Result<Vec<Value>, PayloadError> {
    let mut events = Vec::new();
    let event = |kind: &str, at: Timestamp| {
        let mut event = Map::new();
        event.insert("id".to_owned(), Value::from(format!("{}{kind}", delivery.prefix)));
        event.insert("ticket".to_owned(), Value::from(delivery.ticket.clone()));
        event.insert("type".to_owned(), Value::from(kind));
        event.insert("at".to_owned(), Value::from(at.to_string()));
        event
    };
    let status = delivery.snapshot.get("status").map(String::as_str);
    let new_stage = status.map(Stage::of);
    let fields = delivery.snapshot.iter().filter(|(field, _)| **field != "status");
    if known.exists {
        let mut updated = event("updated", delivery.at);
        for (field, value) in fields {
            if known.values.get(*field) != Some(value) {
                updated.insert((*field).to_owned(), Value::from(value.clone()));
            }
        }
        let mut reopened = None;
        match (known.stage, new_stage, status) {
            (Stage::Open, Some(Stage::Solved), _) => events.push(event("solved", delivery.at)),
            (Stage::Open | Stage::Solved, Some(Stage::Closed), _) => {
                events.push(event("closed", delivery.at));
            }
            (Stage::Solved | Stage::Closed, Some(Stage::Open), Some(status)) => {
                let mut event = event("reopened", delivery.at);
                event.insert("status".to_owned(), Value::from(status));
                reopened = Some(event);
            }
            (Stage::Open, Some(Stage::Open), Some(status))
                if known.values.get("status").map(String::as_str) != Some(status) =>
            {
                updated.insert("status".to_owned(), Value::from(status));
            }
            _ => {}
        }
        events.extend(reopened);
        // More than the four common fields: something changed.
        if updated.len() > 4 {
            events.push(updated);
        }
    } else {
        let mut created = event("created", delivery.created_at);
        for required in ["customer", "service", "priority"] {
            if !delivery.snapshot.contains_key(required) {
                let (field, message) = match delivery.origins.get(required) {
                    Some(origin) => (
                        origin.clone(),
                        format!(
                            "missing: a new ticket needs its {required}, which the {} adapter reads at {origin}",
                            helpdesk_name(helpdesk)
                        ),
                    ),
                    None => (
                        required.to_owned(),
                        format!(
                            "a new ticket needs its {required}: the adapters document gives the {} adapter none (set {}.fields.{required} to a JSON pointer or {}.constants.{required})",
                            helpdesk_name(helpdesk),
                            helpdesk.as_str(),
                            helpdesk.as_str()
                        ),
                    ),
                };
                return Err(PayloadError::field(field, message));
            }
        }
        for (field, value) in fields {
            created.insert((*field).to_owned(), Value::from(value.clone()));
        }
        if let (Some(Stage::Open), Some(status)) = (new_stage, status) {
            created.insert("status".to_owned(), Value::from(status));
        }
        events.push(created);
        match new_stage {
            Some(Stage::Solved) => events.push(event("solved", delivery.at)),
            Some(Stage::Closed) => events.push(event("closed", delivery.at)),
            _ => {}
        }
    }
    if let Some(comment) = &delivery.comment {
        let mut event = event("comment", comment.at);
        event.insert("author".to_owned(), Value::from(comment.author));
        event.insert("public".to_owned(), Value::from(comment.public));
        events.push(event);
    }
    Ok(events.into_iter().map(Value::Object).collect())
}

fn helpdesk_name(helpdesk: Helpdesk) -> &'static str {
    match helpdesk {
        Helpdesk::Zammad => "Zammad",
        Helpdesk::Jira => "Jira",
        Helpdesk::Zendesk => "Zendesk",
    }
}

/// One event read through a generic mapping, and where each of its fields came from.
#[derive(Clone, Debug, PartialEq)]
pub struct GenericEvent {
    /// The event as `docs/events.md` writes it; not yet checked.
    pub event: Value,
    /// By event field: the pointer it was read at, or `constants.FIELD`.
    pub origins: BTreeMap<String, String>,
}

/// Reads one event from `payload` through the generic mapping called `name`: each field from
/// its pointer or constant, through its value map. The event id is `NAME:` and the text at
/// the `id` pointer. Instants may be RFC 3339 (an offset such as `-0500` is read as `-05:00`)
/// or whole milliseconds since 1970 (as Jira and JavaScript write them).
///
/// # Errors
///
/// A payload without an id, ticket, instant or type, or with a value of the wrong kind,
/// naming its pointer.
pub fn read_generic(
    name: &str,
    mapping: &Mapping,
    payload: &Value,
) -> Result<GenericEvent, PayloadError> {
    if !payload.is_object() {
        return Err(PayloadError::field(
            "body",
            format!("expected a JSON object, found {}", describe(payload)),
        ));
    }
    let mut event = Map::new();
    let mut origins = BTreeMap::new();
    for (field, source) in &mapping.fields {
        let origin = mapping.origin(field).expect("a mapped field has an origin");
        origins.insert(field.clone(), origin.clone());
        let value = match source {
            Source::Constant(value) => value.clone(),
            Source::Pointer(pointer) => {
                let found = match payload.pointer(pointer) {
                    None | Some(Value::Null) => {
                        if ["id", "ticket", "at", "type"].contains(&field.as_str()) {
                            return Err(PayloadError::field(
                                pointer,
                                format!("missing: the event's {field} (mapping {name})"),
                            ));
                        }
                        continue;
                    }
                    Some(found) => found,
                };
                generic_value(mapping, field, pointer, found)?
            }
        };
        event.insert(field.clone(), value);
    }
    if let Some(Value::String(id)) = event.get("id") {
        let id = format!("{name}:{id}");
        event.insert("id".to_owned(), Value::from(id));
    }
    if let Some(Value::String(ticket)) = event.get("ticket")
        && !mapping.ticket_prefix.is_empty()
    {
        let ticket = format!("{}{ticket}", mapping.ticket_prefix);
        event.insert("ticket".to_owned(), Value::from(ticket));
    }
    Ok(GenericEvent { event: Value::Object(event), origins })
}

/// A payload value as the event field `field` takes it.
fn generic_value(
    mapping: &Mapping,
    field: &str,
    pointer: &str,
    found: &Value,
) -> Result<Value, PayloadError> {
    let wrong = |expected: &str| {
        PayloadError::field(
            pointer,
            format!("{field}: expected {expected}, found {}", describe(found)),
        )
    };
    match field {
        "at" => {
            let at = instant(found).ok_or_else(|| {
                wrong("an instant such as 2026-11-02T09:00:00Z or milliseconds since 1970")
            })?;
            Ok(Value::from(at.to_string()))
        }
        "public" => {
            let text = match found {
                Value::Bool(public) => public.to_string(),
                other => scalar_text(other).ok_or_else(|| wrong("true or false"))?,
            };
            match mapping.mapped(field, text).as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                other => Err(PayloadError::field(
                    pointer,
                    format!(
                        "public: expected true or false (or a value map to them), found {other:?}"
                    ),
                )),
            }
        }
        "score" => {
            let text = scalar_text(found).ok_or_else(|| wrong("a score"))?;
            let mapped = mapping.mapped(field, text);
            Ok(mapped.parse::<i64>().map_or_else(|_| Value::from(mapped), Value::from))
        }
        _ => {
            let text = scalar_text(found).ok_or_else(|| wrong("text"))?;
            Ok(Value::from(mapping.mapped(field, text)))
        }
    }
}

/// A scalar as text; an object stands for its `name` (or `value`), as helpdesks write
/// priorities, statuses and select fields (`{"id": "3", "name": "High"}`).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Object(object) => {
            object.get("name").or_else(|| object.get("value")).and_then(|inner| match inner {
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            })
        }
        Value::Null | Value::Array(_) => None,
    }
}

/// An instant: RFC 3339 text (a `+hhmm` offset read as `+hh:mm`), or whole milliseconds since
/// 1970.
fn instant(value: &Value) -> Option<Timestamp> {
    match value {
        Value::String(text) => text.parse().ok().or_else(|| {
            // Jira writes `2011-06-07T10:31:26.805-0500`.
            let split = text.len().checked_sub(5)?;
            let (head, offset) = text.split_at_checked(split)?;
            let bytes = offset.as_bytes();
            let basic =
                matches!(bytes[0], b'+' | b'-') && bytes[1..].iter().all(u8::is_ascii_digit);
            if !basic || !head.contains('T') {
                return None;
            }
            format!("{head}{}:{}", &offset[..3], &offset[3..]).parse().ok()
        }),
        Value::Number(number) => Timestamp::from_millisecond(number.as_i64()?).ok(),
        _ => None,
    }
}

fn required_instant(payload: &Value, pointer: &str) -> Result<Timestamp, PayloadError> {
    optional_instant(payload, pointer)?
        .ok_or_else(|| PayloadError::field(pointer, "missing: expected an instant"))
}

fn optional_instant(payload: &Value, pointer: &str) -> Result<Option<Timestamp>, PayloadError> {
    match payload.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => instant(value).map(Some).ok_or_else(|| {
            PayloadError::field(
                pointer,
                format!(
                    "expected an instant such as 2026-11-02T09:00:00Z or milliseconds since 1970, found {}",
                    describe(value)
                ),
            )
        }),
    }
}

fn required_text(payload: &Value, pointer: &str) -> Result<String, PayloadError> {
    match payload.pointer(pointer) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        None | Some(Value::Null) => Err(PayloadError::field(pointer, "missing: expected text")),
        Some(other) => {
            Err(PayloadError::field(pointer, format!("expected text, found {}", describe(other))))
        }
    }
}

/// An id, written as a string or a number.
fn id_text(payload: &Value, pointer: &str) -> Result<String, PayloadError> {
    match payload.pointer(pointer) {
        Some(Value::Number(number)) => Ok(number.to_string()),
        _ => required_text(payload, pointer),
    }
}

/// A JSON value's kind, and the value when it is short, for messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::String(text) if text.chars().count() <= 40 => format!("{text:?}"),
        Value::String(_) => "a long string".to_owned(),
        Value::Array(items) => {
            let mut text = String::from("a list");
            if items.is_empty() {
                text.push_str(" (empty)");
            } else {
                let _ = write!(text, " of {}", items.len());
            }
            text
        }
        Value::Object(_) => "an object".to_owned(),
    }
}
