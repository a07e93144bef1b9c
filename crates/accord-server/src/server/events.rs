//! `/api/v1/events`: ticket events in, and the log out.
//!
//! `POST` takes one event or an array of events in the format of `docs/events.md`; each is
//! checked, then all are appended in one transaction. An event already in the log (the same id
//! and content) is a duplicate and is not counted twice, so a client retries a POST safely; an
//! id reused with other content refuses the request with 409. Order does not matter: the clock
//! engine orders each ticket's events by time.

use accord_core::access::Scope;
use accord_format::events::{parse_event, to_json};
use accord_store::{Appended, StoredEvent};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::error::ApiError;
use super::ingest::{IngestError, OwnedEvent};

/// The most events one request may carry.
const MAX_EVENTS: usize = 10_000;

/// Reads the body as JSON, naming the line and column of a syntax error.
pub(super) fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::body("the body is empty: expected JSON"));
    }
    serde_json::from_slice(body).map_err(|error| {
        ApiError::body(format!(
            "invalid JSON at line {} column {}: {error}",
            error.line(),
            error.column()
        ))
    })
}

/// Checks every event; the first problem is reported with its place (`[3].at`). The NATS
/// consumer checks each message with it too.
pub(super) fn read_events(value: &Value) -> Result<Vec<OwnedEvent>, ApiError> {
    let (items, batch) = match value {
        Value::Array(items) => (items.as_slice(), true),
        single => (std::slice::from_ref(single), false),
    };
    if items.is_empty() {
        return Err(ApiError::body("the array holds no events"));
    }
    if items.len() > MAX_EVENTS {
        return Err(ApiError::body(format!(
            "{} events in one request: at most {MAX_EVENTS}",
            items.len()
        )));
    }
    let mut events = Vec::with_capacity(items.len());
    for (idx, item) in items.iter().enumerate() {
        let place = |field: Option<&str>| match (batch, field) {
            (true, Some(field)) => format!("[{idx}].{field}"),
            (true, None) => format!("[{idx}]"),
            (false, Some(field)) => field.to_owned(),
            (false, None) => "body".to_owned(),
        };
        let (event, extra) = parse_event(item)
            .map_err(|(field, message)| ApiError::field(place(field.as_deref()), message))?;
        events.push(OwnedEvent {
            id: event.id.to_string(),
            ticket: event.ticket.to_string(),
            at: event.at,
            kind: event.kind.as_str(),
            body: to_json(&event, &extra).to_string(),
        });
    }
    Ok(events)
}

/// `POST /api/v1/events` (scope `ingest`).
pub(super) async fn post_events(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Ingest)?;
    let body = body.map_err(|rejection| ApiError {
        status: rejection.status(),
        code: if rejection.status() == 413 { "body_too_large" } else { "invalid_body" },
        message: rejection.body_text(),
        field: Some("body".to_owned()),
    })?;
    let events = read_events(&json_body(&body)?)?;
    Ok(axum::Json(append(&state, events).await?).into_response())
}

/// Appends checked events through the log's writer and counts them; the answer of
/// `POST /api/v1/events`, which the helpdesk adapters give too.
pub(super) async fn append(state: &AppState, events: Vec<OwnedEvent>) -> Result<Value, ApiError> {
    let ids: Vec<String> = events.iter().map(|event| event.id.clone()).collect();
    let appended = state.ingest.append(events).await.map_err(|error| match error {
        IngestError::Store(error) => ApiError::from(error),
        IngestError::Stopped => ApiError::unavailable("the server is shutting down; try again"),
    })?;
    let n_new = appended.iter().filter(|a| matches!(a, Appended::New { .. })).count();
    let n_duplicate = appended.len() - n_new;
    state.metrics.events_new.fetch_add(n_new as u64, std::sync::atomic::Ordering::Relaxed);
    state
        .metrics
        .events_duplicate
        .fetch_add(n_duplicate as u64, std::sync::atomic::Ordering::Relaxed);
    let listed: Vec<Value> = ids
        .iter()
        .zip(&appended)
        .map(|(id, appended)| {
            json!({
                "id": id,
                "position": appended.position(),
                "duplicate": matches!(appended, Appended::Duplicate { .. }),
            })
        })
        .collect();
    Ok(json!({
        "received": appended.len(),
        "new": n_new,
        "duplicates": n_duplicate,
        "events": listed,
    }))
}

/// The paging of the log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LogPage {
    /// Events after this position (default 0: from the start).
    after: Option<u64>,
    /// At most this many (default 1,000, at most 10,000).
    limit: Option<u32>,
}

fn listed(event: &StoredEvent) -> Value {
    json!({
        "position": event.position,
        "receivedAt": event.received_at.to_string(),
        "event": serde_json::from_str::<Value>(&event.body).unwrap_or(Value::Null),
    })
}

/// `GET /api/v1/events?after=N&limit=M` (provider staff, scope `read`): the log in order, for
/// replays and audits; `next` is the position to ask after for the following page.
pub(super) async fn get_events(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<LogPage>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Read)?;
    let Query(page) = query.map_err(|rejection| ApiError::field("query", rejection.body_text()))?;
    let limit = page.limit.unwrap_or(1000);
    if limit == 0 || limit > 10_000 {
        return Err(ApiError::field("limit", "expected 1 to 10000"));
    }
    let events = state.store.events_after(page.after.unwrap_or(0), limit).await?;
    let next = events.last().map(|event| event.position);
    let listed: Vec<Value> = events.iter().map(listed).collect();
    Ok(axum::Json(json!({ "events": listed, "next": next })).into_response())
}

/// `GET /api/v1/tickets/{ticket}/events` (scope `read`): one ticket's events; a customer sees
/// only tickets of its own customer, and another's is not found.
pub(super) async fn ticket_events(
    State(state): State<AppState>,
    auth: Auth,
    Path(ticket): Path<String>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let events = state.store.ticket_events(&ticket).await?;
    let customer = events.iter().find_map(|event| {
        let body: Value = serde_json::from_str(&event.body).ok()?;
        body.get("customer").and_then(Value::as_str).map(str::to_owned)
    });
    if events.is_empty() || !principal.sees_data_of(customer.as_deref()) {
        return Err(ApiError::not_found(format!("no ticket {ticket}")));
    }
    let listed: Vec<Value> = events.iter().map(listed).collect();
    Ok(axum::Json(json!({ "ticket": ticket, "customer": customer, "events": listed }))
        .into_response())
}
