//! Helpdesk adapters: webhook endpoints that take the payloads Zammad, Jira and Zendesk send,
//! and any JSON through a generic mapping, and append the ticket events they mean to the log
//! through the same writer as `POST /api/v1/events`.
//!
//! The mapping itself is `accord_format::adapters` (pure); this module adds what needs I/O:
//! the adapters document (a stored revision of kind `Adapters`, name `adapters`, like the
//! probe definitions), the ticket's stored events that decide between `created` and
//! `updated`, and the dead-letter log, which keeps every payload an authenticated sender
//! had refused (not JSON, of an unknown kind, a field Accord cannot use) with the reason.
//!
//! Helpdesks that cannot send an `Authorization` header may put the token in the query
//! (`?token=`), on these routes only. Nothing in the server logs a request's URI, metrics
//! use the route pattern, and a dead letter keeps the principal's name, never the token.

use std::path::Path as FilePath;

use accord_core::access::{Principal, Scope};
use accord_format::adapters::{
    self, Adapters, Helpdesk, PayloadError, Read, parse_adapters, read_generic,
};
use accord_store::{NewDeadLetter, Revision};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::{Auth, Unauthorized};
use super::availability::{Refused, SettingsDocument};
use super::error::ApiError;
use super::events::{append, json_body, read_events};
use super::ingest::OwnedEvent;

/// Where the adapters document is kept.
const SETTINGS: SettingsDocument =
    SettingsDocument { kind: "Adapters", name: "adapters", path: ADAPTERS_PATH };
/// The name the document is read under: messages say `adapters.yaml:LINE`.
const ADAPTERS_PATH: &str = "adapters.yaml";

/// The caller of a webhook route: an [`Auth`] from the `Authorization` header or, for
/// helpdesks that cannot set one, from `?token=`.
pub(super) struct HookAuth(Auth);

impl FromRequestParts<AppState> for HookAuth {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<HookAuth, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION)
            && let Some(token) = parts.uri.query().and_then(query_token)
        {
            let Ok(bearer) = HeaderValue::from_str(&format!("Bearer {token}")) else {
                let error = ApiError::unauthorized("the token in ?token= is not a valid token");
                return Err(Unauthorized(error).into_response());
            };
            parts.headers.insert(AUTHORIZATION, bearer);
        }
        Auth::from_request_parts(parts, state).await.map(HookAuth)
    }
}

/// The value of the `token` query parameter, percent-decoded.
fn query_token(query: &str) -> Option<String> {
    let raw = query.split('&').find_map(|pair| pair.strip_prefix("token="))?;
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        match bytes[idx] {
            b'%' if idx + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[idx + 1..idx + 3]).ok()?;
                decoded.push(u8::from_str_radix(hex, 16).ok()?);
                idx += 3;
            }
            byte => {
                decoded.push(byte);
                idx += 1;
            }
        }
    }
    String::from_utf8(decoded).ok().filter(|token| !token.is_empty())
}

/// The body, or why it could not be read (too large: 413).
fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| ApiError {
        status: rejection.status(),
        code: if rejection.status() == 413 { "body_too_large" } else { "invalid_body" },
        message: rejection.body_text(),
        field: Some("body".to_owned()),
    })
}

/// A payload the adapter cannot use: 422 for a kind it does not know, 400 for a bad field.
fn payload_error(error: PayloadError) -> ApiError {
    if error.unknown {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "unknown_payload",
            message: error.message,
            field: Some(error.field),
        }
    } else if error.field == "body" {
        ApiError::body(error.message)
    } else {
        ApiError::field(error.field, error.message)
    }
}

/// Checks mapped events as `POST /api/v1/events` does; a problem names the payload's field
/// the event field came from (`origin`), and the event field in the message.
fn check_events(
    events: &[Value],
    origin: impl Fn(&str) -> Option<String>,
) -> Result<Vec<OwnedEvent>, ApiError> {
    let mut checked = Vec::with_capacity(events.len());
    for event in events {
        match read_events(event) {
            Ok(owned) => checked.extend(owned),
            Err(mut error) => {
                if let Some(field) = error.field.take() {
                    error.message = format!("{field}: {}", error.message);
                    error.field = Some(origin(&field).unwrap_or(field));
                }
                return Err(error);
            }
        }
    }
    Ok(checked)
}

/// The latest stored adapters document and its revision; `None` when none was ever stored.
async fn stored_adapters(state: &AppState) -> Result<Option<(Revision, Adapters)>, ApiError> {
    let Some(revision) = SETTINGS.latest(state).await? else {
        return Ok(None);
    };
    let (adapters, _) = parse_adapters(FilePath::new(ADAPTERS_PATH), &revision.source_text)
        .map_err(|errors| ApiError::internal(&errors))?;
    Ok(Some((revision, adapters)))
}

/// Keeps a refused payload in the dead-letter log, and returns the refusal. Refusals of the
/// payload are kept (400, 404, 409, 415, 422); a refused caller, a body over the limit and
/// failures of the server are not.
async fn refuse(
    state: &AppState,
    adapter: &str,
    principal: &Principal,
    payload: &[u8],
    error: ApiError,
) -> ApiError {
    if !matches!(error.status.as_u16(), 400 | 404 | 409 | 415 | 422) {
        return error;
    }
    let letter = NewDeadLetter {
        adapter,
        reason: &error.message,
        field: error.field.as_deref(),
        principal: &principal.subject,
        payload,
    };
    match state.store.record_dead_letter(&letter, Timestamp::now()).await {
        Ok(id) => tracing::info!(adapter, dead_letter = id, "payload refused"),
        Err(store_error) => {
            tracing::warn!(adapter, error = %store_error, "could not keep a refused payload");
        }
    }
    error
}

/// The answer to a webhook: what `POST /api/v1/events` answers, with the adapter and ticket.
fn answer(mut appended: Value, adapter: &str, ticket: Option<&str>) -> Response {
    appended["adapter"] = json!(adapter);
    appended["ticket"] = json!(ticket);
    Json(appended).into_response()
}

fn nothing_appended() -> Value {
    json!({ "received": 0, "new": 0, "duplicates": 0, "events": [] })
}

/// `POST /api/v1/adapters/zammad` (staff, scope `ingest`).
pub(super) async fn post_zammad(
    State(state): State<AppState>,
    auth: HookAuth,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    post_helpdesk(&state, &auth, Helpdesk::Zammad, body).await
}

/// `POST /api/v1/adapters/jira` (staff, scope `ingest`).
pub(super) async fn post_jira(
    State(state): State<AppState>,
    auth: HookAuth,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    post_helpdesk(&state, &auth, Helpdesk::Jira, body).await
}

/// `POST /api/v1/adapters/zendesk` (staff, scope `ingest`).
pub(super) async fn post_zendesk(
    State(state): State<AppState>,
    auth: HookAuth,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    post_helpdesk(&state, &auth, Helpdesk::Zendesk, body).await
}

async fn post_helpdesk(
    state: &AppState,
    auth: &HookAuth,
    helpdesk: Helpdesk,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.0.require_staff(Scope::Ingest)?;
    let body = body_bytes(body)?;
    match from_helpdesk(state, helpdesk, &body).await {
        Ok(response) => Ok(response),
        Err(error) => Err(refuse(state, helpdesk.as_str(), principal, &body, error).await),
    }
}

async fn from_helpdesk(
    state: &AppState,
    helpdesk: Helpdesk,
    body: &[u8],
) -> Result<Response, ApiError> {
    let adapter = helpdesk.as_str();
    let payload = json_body(body)?;
    let document = stored_adapters(state).await?.map(|(_, adapters)| adapters);
    let mapping = document.unwrap_or_default().mapping(helpdesk);
    let delivery = match adapters::read(helpdesk, &mapping, &payload).map_err(payload_error)? {
        Read::Delivery(delivery) => delivery,
        Read::Ignored(reason) => {
            let mut ignored = nothing_appended();
            ignored["ignored"] = json!(reason);
            return Ok(answer(ignored, adapter, None));
        }
    };
    let stored = state.store.ticket_events(&delivery.ticket).await?;
    let own: Vec<Value> = stored
        .iter()
        .filter(|event| event.id.starts_with(&delivery.prefix))
        .filter_map(|event| serde_json::from_str(&event.body).ok())
        .collect();
    let planned = if own.is_empty() {
        let bodies: Vec<Value> = stored
            .iter()
            .map(|event| serde_json::from_str(&event.body).unwrap_or(Value::Null))
            .collect();
        let known = adapters::known(
            &delivery,
            stored.iter().zip(&bodies).map(|(event, body)| (event.id.as_str(), event.at, body)),
        );
        adapters::plan(helpdesk, &delivery, &known).map_err(payload_error)?
    } else {
        // A delivery the log has seen: its events again, which are duplicates, whatever
        // arrived for the ticket since.
        own
    };
    let events = check_events(&planned, |field| delivery.origins.get(field).cloned())?;
    let appended =
        if events.is_empty() { nothing_appended() } else { append(state, events).await? };
    Ok(answer(appended, adapter, Some(&delivery.ticket)))
}

/// `POST /api/v1/adapters/generic/{mapping}` (staff, scope `ingest`): one event from any JSON
/// object, through the generic mapping of that name in the adapters document.
pub(super) async fn post_generic(
    State(state): State<AppState>,
    auth: HookAuth,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.0.require_staff(Scope::Ingest)?;
    let body = body_bytes(body)?;
    let adapter = format!("generic/{name}");
    match from_generic(&state, &name, &body).await {
        Ok(response) => Ok(response),
        Err(error) => Err(refuse(&state, &adapter, principal, &body, error).await),
    }
}

async fn from_generic(state: &AppState, name: &str, body: &[u8]) -> Result<Response, ApiError> {
    let payload = json_body(body)?;
    if !payload.is_object() {
        return Err(ApiError::body("expected one JSON object: a generic mapping reads one event"));
    }
    let document = stored_adapters(state).await?.map(|(_, adapters)| adapters).unwrap_or_default();
    let Some(mapping) = document.generic.get(name) else {
        return Err(ApiError::not_found(format!(
            "no generic mapping {name}: add it under generic.{name} in the adapters document (PUT /api/v1/adapters)"
        )));
    };
    let read = read_generic(name, mapping, &payload).map_err(payload_error)?;
    let events =
        check_events(std::slice::from_ref(&read.event), |field| read.origins.get(field).cloned())?;
    let ticket = events.first().map(|event| event.ticket.clone());
    let appended = append(state, events).await?;
    Ok(answer(appended, &format!("generic/{name}"), ticket.as_deref()))
}

/// The media type of the request, lowercase, without parameters.
fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// `PUT /api/v1/adapters` (staff, scope `write`): the adapters document as YAML, checked, and
/// stored as the next revision of `Adapters/adapters` when its content changed.
pub(super) async fn put_adapters(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require_staff(Scope::Write)?;
    let media = media_type(&headers);
    if !matches!(media.as_str(), "text/yaml" | "application/yaml" | "application/x-yaml") {
        return Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: "send the adapters document as text/yaml".to_owned(),
            field: Some("Content-Type".to_owned()),
        });
    }
    let body = body_bytes(body)?;
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::body("the body is not UTF-8 text"))?;
    let (adapters, canonical) = match parse_adapters(FilePath::new(ADAPTERS_PATH), text) {
        Ok(parsed) => parsed,
        Err(errors) => {
            return Ok(Refused::file_errors("invalid_adapters", &errors).into_response());
        }
    };
    let (revision, change) = SETTINGS
        .store(&state, &principal.subject, text, canonical.to_string(), "PUT /api/v1/adapters")
        .await?;
    Ok(Json(json!({
        "revision": revision,
        "change": change,
        "adapters": adapters.to_json(),
    }))
    .into_response())
}

/// `GET /api/v1/adapters` (staff, scope `read`): the stored document and how every adapter
/// reads payloads with it (the built-in defaults where the document says nothing).
pub(super) async fn get_adapters(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Read)?;
    let answer = match stored_adapters(&state).await? {
        Some((revision, adapters)) => json!({
            "revision": revision.summary.number,
            "author": revision.summary.author,
            "createdAt": revision.summary.created_at.to_string(),
            "text": revision.source_text,
            "adapters": adapters.to_json(),
        }),
        None => json!({
            "revision": null,
            "author": null,
            "createdAt": null,
            "text": null,
            "adapters": Adapters::default().to_json(),
        }),
    };
    Ok(Json(answer).into_response())
}

/// The paging of the dead-letter log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeadLetterPage {
    /// Those kept before this id (default: from the newest).
    before: Option<u64>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<u32>,
}

/// `GET /api/v1/dead-letters?before=ID&limit=N` (staff, scope `read`): refused payloads,
/// newest first; `next` is the `before` of the following page.
pub(super) async fn get_dead_letters(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<DeadLetterPage>, QueryRejection>,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Read)?;
    let Query(page) = query.map_err(|rejection| ApiError::field("query", rejection.body_text()))?;
    let limit = page.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::field("limit", "expected 1 to 1000"));
    }
    let letters = state.store.dead_letters(page.before, limit).await?;
    let next =
        if letters.len() == limit as usize { letters.last().map(|letter| letter.id) } else { None };
    let listed: Vec<Value> = letters
        .iter()
        .map(|letter| {
            json!({
                "id": letter.id,
                "receivedAt": letter.received_at.to_string(),
                "adapter": letter.adapter,
                "reason": letter.reason,
                "field": letter.field,
                "principal": letter.principal,
                "payload": String::from_utf8_lossy(&letter.payload),
                "payloadBytes": letter.payload.len(),
            })
        })
        .collect();
    Ok(Json(json!({ "deadLetters": listed, "next": next })).into_response())
}
