//! The availability API: probe definitions kept in the store, heartbeat check-ins, request
//! counts and incidents pushed over HTTP, and the availability of each objective computed
//! from what is recorded.
//!
//! The figures come from `availability_cmd::measure`, the function `accord availability`
//! prints, so the API and the command line agree to the digit. Probe definitions are a
//! document revision of kind `Probes`, name `probes`: the latest one gives each heartbeat its
//! period and grace. `docs/server.md` describes the requests and responses.

use std::collections::BTreeMap;
use std::path::Path as FilePath;

use accord_core::access::{Principal, Role, Scope};
use accord_core::agreement::{AvailabilityMethod, format_duration};
use accord_core::availability::{Availability, Incident, RequestCount, parse_period};
use accord_core::calendar::TimeRange;
use accord_format::incidents::parse_incidents;
use accord_format::probes::{Check, ProbeSpec, parse_probes};
use accord_store::{
    Change, HeartbeatSettings, NewRevision, ProbeBatch, ProbeResult, ProbeSettings, StoreError,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::Digest as _;

use super::AppState;
use super::auth::Auth;
use super::error::ApiError;
use super::events::json_body;
use crate::availability_cmd::{
    self, AvailabilityOutcome, Figures, IncidentCount, LatencyOutcome, Measurement, TimeFigures,
};
use crate::revision_cmd;

/// The kind and name of the stored probe definitions.
pub(super) const PROBES_KIND: &str = "Probes";
pub(super) const PROBES_NAME: &str = "probes";
/// The name probe files are read under: messages say `probes.yaml:LINE`.
const PROBES_PATH: &str = "probes.yaml";
/// How far back a heartbeat's `at` may be.
const CHECK_IN_LOOKBACK: SignedDuration = SignedDuration::from_hours(1);

/// Reads the query string, naming the parameter at fault.
pub(super) fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::field("query", rejection.body_text()))
}

/// The body, or why it could not be read (too large: 413).
pub(super) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| ApiError {
        status: rejection.status(),
        code: if rejection.status() == 413 { "body_too_large" } else { "invalid_body" },
        message: rejection.body_text(),
        field: Some("body".to_owned()),
    })
}

pub(super) fn body_text(body: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(body).map_err(|_| ApiError::body("the body is not UTF-8 text"))
}

/// The media type of the request, lowercase, without parameters.
pub(super) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

pub(super) fn unsupported(message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type",
        message: message.into(),
        field: Some("Content-Type".to_owned()),
    }
}

/// `[3].at` in an array, `at` in a single object.
fn place(batch: bool, item_idx: usize, field: &str) -> String {
    if batch { format!("[{item_idx}].{field}") } else { field.to_owned() }
}

/// The items of a body that holds one object or an array of them.
fn items(value: &Value, what: &str) -> Result<(Vec<Value>, bool), ApiError> {
    match value {
        Value::Array(items) if items.is_empty() => {
            Err(ApiError::body(format!("the array holds no {what}")))
        }
        Value::Array(items) => Ok((items.clone(), true)),
        Value::Object(_) => Ok((vec![value.clone()], false)),
        _ => Err(ApiError::body(format!("expected one {what} object or an array of them"))),
    }
}

fn instant(value: &Value, field: &str) -> Result<Timestamp, ApiError> {
    value
        .as_str()
        .and_then(|text| text.parse::<Timestamp>().ok())
        .ok_or_else(|| ApiError::field(field, "expected an instant with a UTC offset"))
}

// ---------------------------------------------------------------------------------------------
// Probe definitions.

/// The line of the first `ca:` key, if any: over the API nothing is read from the server's
/// disk, and `ca:` names a file.
fn ca_line(text: &str) -> Option<usize> {
    text.lines().position(|line| {
        let mut rest = line;
        // Every place a key can start: the line's start (after list dashes), or after `{`
        // or `,` in a flow mapping.
        let mut starts = vec![line.trim_start().trim_start_matches(['-', ' '])];
        while let Some(idx) = rest.find(['{', ',']) {
            rest = &rest[idx + 1..];
            starts.push(rest.trim_start());
        }
        starts.iter().any(|start| {
            let key = start.trim_start_matches(['"', '\'']);
            key.strip_prefix("ca").is_some_and(|after| {
                after.trim_start_matches(['"', '\'']).trim_start().starts_with(':')
            })
        })
    })
}

/// A 400 in [`ApiError`]'s shape that lists every problem under `errors`.
pub(super) struct Refused(pub(super) Value);

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Refused {
        Refused(json!({ "error": {
            "code": error.code,
            "message": error.message,
            "field": error.field,
        }}))
    }
}

impl Refused {
    /// A settings file refused with every error, its line, column and field; nothing stored.
    pub(super) fn file_errors(code: &'static str, errors: &accord_format::FormatErrors) -> Refused {
        let listed: Vec<Value> = errors
            .0
            .iter()
            .map(|error| {
                json!({
                    "line": error.line,
                    "column": error.column,
                    "field": error.field,
                    "message": error.message,
                    "text": error.to_string(),
                })
            })
            .collect();
        let n_errors = listed.len();
        let first = errors.0.first().map_or("body", |error| error.field.as_str());
        Refused(json!({ "error": {
            "code": code,
            "message": format!(
                "{n_errors} error{}: nothing was stored",
                if n_errors == 1 { "" } else { "s" }
            ),
            "field": if first.is_empty() { "body" } else { first },
            "errors": listed,
        }}))
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(self.0)).into_response()
    }
}

/// Checks a probe file as `accord probe check` does; 400 with every error otherwise.
fn check_probes(text: &str) -> Result<Vec<ProbeSpec>, Refused> {
    if let Some(line_idx) = ca_line(text) {
        return Err(ApiError::field(
            "ca",
            format!(
                "{PROBES_PATH}:{}: ca: names a file, and the API reads no files: trust the CA on the probe runner's side (accord probe run --probes) and leave ca: out here",
                line_idx + 1
            ),
        )
        .into());
    }
    parse_probes(FilePath::new(PROBES_PATH), text)
        .map_err(|errors| Refused::file_errors("invalid_probes", &errors))
}

pub(super) fn duration_json(duration: SignedDuration) -> Value {
    json!({ "text": format_duration(duration), "seconds": duration.as_secs() })
}

/// A probe as JSON: the canonical form stored, and what `GET /api/v1/probes` lists.
fn probe_json(spec: &ProbeSpec) -> Value {
    let affects = match &spec.affects.component {
        Some(component) => format!("{}/{component}", spec.affects.service),
        None => spec.affects.service.clone(),
    };
    let check = match &spec.check {
        Check::Http { host, port, path, expect, keyword, latency, tls } => json!({
            "http": { "host": host, "port": port, "path": path, "expect": expect,
                "keyword": keyword, "latency": latency.map(duration_json),
                "tls": tls.as_ref().map(|tls| json!({
                    "certificateExpiry": duration_json(tls.certificate_expiry),
                })) }
        }),
        Check::Tcp { address } => json!({ "tcp": address }),
        Check::Dns { name } => json!({ "dns": name }),
        Check::Heartbeat { every, grace } => {
            json!({ "heartbeat": duration_json(*every), "grace": duration_json(*grace) })
        }
    };
    json!({
        "name": spec.name,
        "affects": affects,
        "check": check,
        "interval": duration_json(spec.interval),
        "timeout": duration_json(spec.timeout),
        "retries": spec.retries,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `PUT /api/v1/probes` (staff, scope `write`): the probe file as YAML, checked, stored as the
/// next revision of `Probes/probes` when its content changed.
pub(super) async fn put_probes(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require_staff(Scope::Write)?;
    let media = media_type(&headers);
    if !matches!(media.as_str(), "text/yaml" | "application/yaml" | "application/x-yaml") {
        return Err(unsupported("send the probe file as text/yaml"));
    }
    let body = body_bytes(body)?;
    let text = body_text(&body)?;
    let specs = match check_probes(text) {
        Ok(specs) => specs,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let probes: Vec<Value> = specs.iter().map(probe_json).collect();
    let canonical = json!({ "probes": probes }).to_string();
    let stored = SettingsDocument { kind: PROBES_KIND, name: PROBES_NAME, path: PROBES_PATH };
    let (revision, change) =
        stored.store(&state, &principal.subject, text, canonical, "PUT /api/v1/probes").await?;
    Ok(Json(json!({ "revision": revision, "change": change, "probes": probes })).into_response())
}

/// A settings file kept as a document revision without a lifecycle (probe definitions,
/// notification settings): each content change is the next revision.
pub(super) struct SettingsDocument {
    /// The document kind.
    pub(super) kind: &'static str,
    /// Its name.
    pub(super) name: &'static str,
    /// The file name messages give (`probes.yaml:LINE`).
    pub(super) path: &'static str,
}

impl SettingsDocument {
    /// Stores `text` (checked) with its canonical JSON as the next revision when the content
    /// changed: the revision number and `created`, `updated` or `unchanged`.
    pub(super) async fn store(
        &self,
        state: &AppState,
        author: &str,
        text: &str,
        canonical: String,
        message: &str,
    ) -> Result<(u32, &'static str), ApiError> {
        let revision = NewRevision {
            kind: self.kind.to_owned(),
            name: self.name.to_owned(),
            content_hash: sha256_hex(canonical.as_bytes()),
            canonical,
            source_text: text.to_owned(),
            source_path: self.path.to_owned(),
            source_line: 1,
            effective_from: None,
            effective_until: None,
            lifecycle: false,
        };
        let applied = state
            .store
            .apply(std::slice::from_ref(&revision), author, message, Timestamp::now())
            .await?;
        let applied = applied.first().expect("one document applied, one answer");
        let change = match applied.change {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
        };
        Ok((applied.revision, change))
    }

    /// The latest revision; `None` when none was ever stored.
    pub(super) async fn latest(
        &self,
        state: &AppState,
    ) -> Result<Option<accord_store::Revision>, ApiError> {
        let latest = state.store.latest(Some(self.kind)).await?;
        Ok(latest.into_iter().find(|revision| revision.name == self.name))
    }
}

/// The latest stored probe definitions, with the revision's number and the YAML; `None`
/// when none were ever stored.
pub(super) async fn stored_probes(
    state: &AppState,
) -> Result<Option<(accord_store::Revision, Vec<ProbeSpec>)>, ApiError> {
    let stored = SettingsDocument { kind: PROBES_KIND, name: PROBES_NAME, path: PROBES_PATH };
    let Some(revision) = stored.latest(state).await? else {
        return Ok(None);
    };
    let specs = parse_probes(FilePath::new(PROBES_PATH), &revision.source_text)
        .map_err(|errors| ApiError::internal(&errors))?;
    Ok(Some((revision, specs)))
}

/// `GET /api/v1/probes` (scope `read`): the latest probe definitions, each with the node
/// running it now (`runner`, the holder of its live lease; `null` for none and for heartbeats).
pub(super) async fn get_probes(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    auth.require(Scope::Read)?;
    let Some((revision, specs)) = stored_probes(&state).await? else {
        return Err(ApiError::not_found("no probe definitions: PUT /api/v1/probes first"));
    };
    let leases = state.store.leases("probe:").await?;
    let now = Timestamp::now();
    let probes: Vec<Value> = specs
        .iter()
        .map(|spec| {
            let lease_name = super::probing::lease_name(&spec.name);
            let runner = leases
                .iter()
                .find(|lease| lease.name == lease_name && lease.is_live(now))
                .map(|lease| lease.owner.as_str());
            let mut probe = probe_json(spec);
            probe["runner"] = json!(runner);
            probe
        })
        .collect();
    Ok(Json(json!({
        "revision": revision.summary.number,
        "author": revision.summary.author,
        "createdAt": revision.summary.created_at.to_string(),
        "text": revision.source_text,
        "probes": probes,
    }))
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// Observations.

/// `POST /api/v1/heartbeats/{name}` (scope `ingest`): a check-in, now or at the body's `at`
/// (within the last hour).
pub(super) async fn check_in(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    auth.require(Scope::Ingest)?;
    let body = body_bytes(body)?;
    let now = Timestamp::now();
    let at = if body.iter().all(u8::is_ascii_whitespace) {
        now
    } else {
        let value = json_body(&body)?;
        let Value::Object(fields) = &value else {
            return Err(ApiError::body("expected a JSON object such as {\"at\": INSTANT}"));
        };
        if let Some(unknown) = fields.keys().find(|key| *key != "at") {
            return Err(ApiError::field(unknown.clone(), "unknown field: expected at"));
        }
        match fields.get("at") {
            None | Some(Value::Null) => now,
            Some(at) => instant(at, "at")?,
        }
    };
    if at > now {
        return Err(ApiError::field("at", format!("{at} is in the future (it is {now})")));
    }
    if now.duration_since(at) > CHECK_IN_LOOKBACK {
        return Err(ApiError::field("at", format!("{at} is more than an hour ago (it is {now})")));
    }
    let heartbeat = stored_probes(&state).await?.and_then(|(_, specs)| {
        specs.into_iter().find_map(|spec| match spec.check {
            Check::Heartbeat { every, grace } if spec.name == name => {
                Some(HeartbeatSettings { every, grace })
            }
            _ => None,
        })
    });
    let Some(settings) = heartbeat else {
        return Err(ApiError::not_found(format!(
            "no heartbeat {name} in the probe definitions (PUT /api/v1/probes)"
        )));
    };
    let n_new = state.store.record_heartbeats(&name, settings, &[at]).await?;
    Ok(Json(json!({ "heartbeat": name, "at": at.to_string(), "recorded": n_new == 1 }))
        .into_response())
}

/// How far ahead of the server's clock a probe result's `at` may be (runners' clocks drift).
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(1);

/// The fields a probe result may carry: what `accord probe run --results` writes, so its file
/// can be posted as it is. Only `probe`, `at`, `up` and `latencyMs` are used: the stored
/// definition gives the interval and retries.
const PROBE_RESULT_FIELDS: [&str; 10] = [
    "probe",
    "at",
    "up",
    "latencyMs",
    "affects",
    "retries",
    "intervalSeconds",
    "detail",
    "certificateExpires",
    "warning",
];

/// The items of a probe-result body: JSON (one object or an array) or, as
/// `application/x-ndjson`, one object per line (`accord probe run --results` output). Each item
/// comes with its place for messages (`[3]`, `line 4`, or nothing for a single object).
pub(super) fn probe_result_items(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, Value)>, ApiError> {
    if media_type(headers) != "application/x-ndjson" {
        let (items, batch) = items(&json_body(body)?, "probe result")?;
        return Ok(items
            .into_iter()
            .enumerate()
            .map(|(idx, item)| (if batch { format!("[{idx}]") } else { String::new() }, item))
            .collect());
    }
    let mut items = Vec::new();
    for (line_idx, line) in body_text(body)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let place = format!("line {}", line_idx + 1);
        let item = serde_json::from_str(line).map_err(|error| {
            ApiError::field(
                place.clone(),
                format!("invalid JSON at column {}: {error}", error.column()),
            )
        })?;
        items.push((place, item));
    }
    if items.is_empty() {
        return Err(ApiError::body("the body holds no probe result"));
    }
    Ok(items)
}

/// `POST /api/v1/probe-results` (scope `ingest`): results of probes run elsewhere (`accord
/// probe run --results` output, or a monitor's), recorded as `accord record --probe-results`
/// does, with each probe's interval and retries from the stored definitions. A repeated
/// delivery is ignored; the whole body is checked before anything is recorded.
pub(super) async fn post_probe_results(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    auth.require(Scope::Ingest)?;
    let body = body_bytes(body)?;
    let items = probe_result_items(&headers, &body)?;
    let recorded = record_probe_results(&state, &items).await?;
    Ok(Json(json!({ "recorded": recorded })).into_response())
}

/// Checks every probe result of `items` (from [`probe_result_items`]), then records them in
/// one transaction; the answer by probe. The route and the NATS consumer share it.
pub(super) async fn record_probe_results(
    state: &AppState,
    items: &[(String, Value)],
) -> Result<Map<String, Value>, ApiError> {
    let specs = stored_probes(state).await?.map(|(_, specs)| specs).unwrap_or_default();
    let now = Timestamp::now();
    let mut results: BTreeMap<String, (ProbeSettings, Vec<ProbeResult>)> = BTreeMap::new();
    for (place, item) in items {
        let at = |field: &str| {
            if place.is_empty() {
                field.to_owned()
            } else if place.starts_with('[') {
                format!("{place}.{field}")
            } else {
                format!("{place}: {field}")
            }
        };
        let Value::Object(fields) = item else {
            return Err(ApiError::field(
                if place.is_empty() { "body" } else { place },
                "expected a probe result object",
            ));
        };
        if let Some(unknown) =
            fields.keys().find(|key| !PROBE_RESULT_FIELDS.contains(&key.as_str()))
        {
            return Err(ApiError::field(
                at(unknown),
                "unknown field: expected probe, at, up and latencyMs",
            ));
        }
        let name = item["probe"]
            .as_str()
            .ok_or_else(|| ApiError::field(at("probe"), "expected the probe's name"))?;
        let spec = specs.iter().find(|spec| spec.name == name).ok_or_else(|| {
            ApiError::field(
                at("probe"),
                format!("no probe {name} in the probe definitions (PUT /api/v1/probes)"),
            )
        })?;
        if matches!(spec.check, Check::Heartbeat { .. }) {
            return Err(ApiError::field(
                at("probe"),
                format!("{name} is a heartbeat: POST /api/v1/heartbeats/{name}"),
            ));
        }
        let when = instant(&item["at"], &at("at"))?;
        if when > now + CLOCK_SKEW {
            return Err(ApiError::field(
                at("at"),
                format!("{when} is in the future (it is {now})"),
            ));
        }
        let up = item["up"]
            .as_bool()
            .ok_or_else(|| ApiError::field(at("up"), "expected true or false"))?;
        let latency = match &item["latencyMs"] {
            Value::Null => None,
            value => {
                Some(value.as_u64().and_then(|millis| i64::try_from(millis).ok()).ok_or_else(
                    || ApiError::field(at("latencyMs"), "expected a whole number of milliseconds"),
                )?)
            }
        };
        let settings = availability_cmd::probe_settings_of(spec.retries, spec.interval);
        results.entry(name.to_owned()).or_insert_with(|| (settings, Vec::new())).1.push(
            ProbeResult {
                at: when,
                up,
                // Failures are not latencies.
                latency: latency.filter(|_| up).map(SignedDuration::from_millis),
            },
        );
    }
    let batches: Vec<ProbeBatch<'_>> = results
        .iter()
        .map(|(probe, (settings, results))| ProbeBatch { probe, settings: *settings, results })
        .collect();
    let recorded = state.store.record_probe_results(&batches).await?;
    let probes: Map<String, Value> = batches
        .iter()
        .zip(recorded)
        .map(|(batch, recorded)| {
            let figures = json!({
                "accepted": recorded.accepted,
                "ignored": recorded.ignored,
                "down": recorded.down,
            });
            (batch.probe.to_owned(), figures)
        })
        .collect();
    Ok(probes)
}

/// Checks request counts as `accord record --requests` does, by source.
fn read_request_counts(value: &Value) -> Result<BTreeMap<String, Vec<RequestCount>>, ApiError> {
    let (items, batch) = items(value, "request count")?;
    let mut counts: BTreeMap<String, Vec<RequestCount>> = BTreeMap::new();
    for (item_idx, item) in items.iter().enumerate() {
        let at = |field: &str| place(batch, item_idx, field);
        let Value::Object(fields) = item else {
            return Err(ApiError::field(at("").trim_end_matches('.'), "expected an object"));
        };
        let known = ["source", "from", "to", "good", "total"];
        if let Some(unknown) = fields.keys().find(|key| !known.contains(&key.as_str())) {
            return Err(ApiError::field(
                at(unknown),
                "unknown field: expected source, from, to, good and total",
            ));
        }
        let source = item["source"]
            .as_str()
            .filter(|source| !source.trim().is_empty())
            .ok_or_else(|| ApiError::field(at("source"), "expected the source's name"))?;
        let from = instant(&item["from"], &at("from"))?;
        let to = instant(&item["to"], &at("to"))?;
        let range = TimeRange::new(from, to)
            .filter(|range| range.start() < range.end())
            .ok_or_else(|| ApiError::field(at("to"), "expected an instant after from"))?;
        let number = |field: &str| {
            item[field]
                .as_u64()
                .ok_or_else(|| ApiError::field(at(field), "expected a whole number"))
        };
        let (good, total) = (number("good")?, number("total")?);
        if good > total {
            return Err(ApiError::field(at("good"), "more than total"));
        }
        counts.entry(source.to_owned()).or_default().push(RequestCount { range, good, total });
    }
    Ok(counts)
}

/// `POST /api/v1/request-counts` (scope `ingest`): one count or an array of them.
pub(super) async fn post_request_counts(
    State(state): State<AppState>,
    auth: Auth,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    auth.require(Scope::Ingest)?;
    let body = body_bytes(body)?;
    let counts = read_request_counts(&json_body(&body)?)?;
    let mut n_recorded = 0;
    for (source, counts) in &counts {
        state.store.record_request_counts(source, counts).await?;
        n_recorded += counts.len();
    }
    Ok(Json(json!({ "recorded": n_recorded })).into_response())
}

/// The incident CSV's columns, in order.
const INCIDENT_COLUMNS: [&str; 9] =
    ["id", "start", "end", "affected", "impact", "excluded", "reason", "cause", "rootCause"];

/// One CSV field, quoted.
fn csv_field(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Reads JSON incidents by writing each as a one-record incident file for the CSV reader, so
/// both follow the same rules; an error names the item and field (`[1].impact`).
fn read_json_incidents(value: &Value) -> Result<Vec<Incident>, ApiError> {
    let (items, batch) = items(value, "incident")?;
    let mut incidents = Vec::new();
    for (item_idx, item) in items.iter().enumerate() {
        let at = |field: &str| place(batch, item_idx, field);
        let Value::Object(fields) = item else {
            return Err(ApiError::field(at("").trim_end_matches('.'), "expected an object"));
        };
        if let Some(unknown) = fields.keys().find(|key| !INCIDENT_COLUMNS.contains(&key.as_str())) {
            return Err(ApiError::field(
                at(unknown),
                format!("unknown field: expected {}", INCIDENT_COLUMNS.join(", ")),
            ));
        }
        let mut record = Vec::new();
        for column in INCIDENT_COLUMNS {
            let text = match fields.get(column) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(text)) => text.clone(),
                Some(Value::Array(list)) if column == "affected" => {
                    let names: Option<Vec<&str>> = list.iter().map(Value::as_str).collect();
                    let names = names.ok_or_else(|| {
                        ApiError::field(at(column), "expected SERVICE or SERVICE/COMPONENT names")
                    })?;
                    names.join(";")
                }
                Some(_) if column == "affected" => {
                    return Err(ApiError::field(
                        at(column),
                        "expected a list of SERVICE or SERVICE/COMPONENT names",
                    ));
                }
                Some(_) => return Err(ApiError::field(at(column), "expected a string")),
            };
            record.push(csv_field(&text));
        }
        let file = format!("{}\n{}\n", INCIDENT_COLUMNS.join(","), record.join(","));
        match parse_incidents("body", &file) {
            Ok(parsed) => incidents.extend(parsed),
            Err(errors) => {
                let error = errors.first().expect("a refusal lists its errors");
                return Err(ApiError::field(at(&error.column), error.message.clone()));
            }
        }
    }
    Ok(incidents)
}

/// Reads a CSV incident file; 400 with every error, the first one's column as the field.
fn read_csv_incidents(text: &str) -> Result<Vec<Incident>, Refused> {
    parse_incidents("body", text).map_err(|errors| {
        let listed: Vec<Value> = errors
            .iter()
            .map(|error| {
                json!({
                    "line": error.line,
                    "field": error.column,
                    "message": error.message,
                    "text": error.to_string(),
                })
            })
            .collect();
        let n_errors = listed.len();
        let first = errors.first().map_or("body", |error| error.column.as_str());
        let body = json!({ "error": {
            "code": "invalid_incidents",
            "message": format!(
                "{n_errors} malformed record{}: nothing was recorded",
                if n_errors == 1 { "" } else { "s" }
            ),
            "field": first,
            "errors": listed,
        }});
        Refused(body)
    })
}

/// `POST /api/v1/incidents` (staff, scope `write`): incidents as JSON (one or an array) or
/// as `text/csv`; one recorded again by id replaces the first.
pub(super) async fn post_incidents(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Write)?;
    let body = body_bytes(body)?;
    let incidents = match media_type(&headers).as_str() {
        "text/csv" => match read_csv_incidents(body_text(&body)?) {
            Ok(incidents) => incidents,
            Err(refusal) => return Ok(refusal.into_response()),
        },
        "" | "application/json" => read_json_incidents(&json_body(&body)?)?,
        other => {
            return Err(unsupported(format!(
                "{other}: send incidents as application/json or text/csv"
            )));
        }
    };
    if incidents.is_empty() {
        return Err(ApiError::body("no incidents: expected at least one record"));
    }
    state.store.record_incidents(&incidents, Timestamp::now()).await?;
    let ids: Vec<&str> = incidents.iter().map(|incident| incident.id.as_str()).collect();
    Ok(Json(json!({ "recorded": incidents.len(), "ids": ids })).into_response())
}

fn incident_json(incident: &Incident) -> Value {
    let affected: Vec<String> = incident
        .affected
        .iter()
        .map(|affected| match &affected.component {
            Some(component) => format!("{}/{component}", affected.service),
            None => affected.service.clone(),
        })
        .collect();
    json!({
        "id": incident.id,
        "start": incident.start.to_string(),
        "end": incident.end.map(|end| end.to_string()),
        "affected": affected,
        "impact": incident.impact.as_str(),
        "excluded": incident.excluded.as_ref().map(|(category, _)| category.as_str()),
        "reason": incident.excluded.as_ref().map(|(_, reason)| reason.as_str()),
        "cause": incident.cause,
        "rootCause": incident.root_cause,
    })
}

/// `GET /api/v1/incidents?from=&to=`.
#[derive(Debug, Deserialize)]
pub(super) struct IncidentsQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/incidents?from=INSTANT&to=INSTANT` (staff, scope `read`): the incidents that
/// overlap the range, by start. Customers see the incidents that count against their
/// objectives in `GET /api/v1/availability`.
pub(super) async fn get_incidents(
    State(state): State<AppState>,
    auth: Auth,
    incidents_query: Result<Query<IncidentsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Read)?;
    let incidents_query = query(incidents_query)?;
    let bound = |field: &str, text: Option<&String>| {
        let text = text.ok_or_else(|| ApiError::field(field, "expected an instant"))?;
        instant(&Value::String(text.clone()), field)
    };
    let from = bound("from", incidents_query.from.as_ref())?;
    let to = bound("to", incidents_query.to.as_ref())?;
    let range = TimeRange::new(from, to)
        .filter(|range| range.start() < range.end())
        .ok_or_else(|| ApiError::field("to", "expected an instant after from"))?;
    let incidents = state.store.incidents(range).await?;
    let listed: Vec<Value> = incidents.iter().map(incident_json).collect();
    Ok(Json(json!({ "incidents": listed })).into_response())
}

// ---------------------------------------------------------------------------------------------
// Availability.

/// `GET /api/v1/availability?period=&customer=&at=`.
#[derive(Debug, Deserialize)]
pub(super) struct AvailabilityQuery {
    period: Option<String>,
    customer: Option<String>,
    at: Option<String>,
}

/// An availability with its exact ratio: `good` of `eligible` in `unit`.
fn availability_json(availability: Availability, unit: &str) -> Value {
    json!({
        "text": availability.to_string(),
        "good": (availability.eligible() - availability.bad()).to_string(),
        "eligible": availability.eligible().to_string(),
        "unit": unit,
    })
}

fn time_json(figures: &TimeFigures) -> Map<String, Value> {
    let incidents: Vec<Value> = figures
        .incidents
        .iter()
        .map(|figure| {
            let mut value = incident_json(&figure.incident);
            let (counted, ignored, excluded) = match &figure.counted {
                IncidentCount::Excluded(_) => (None, false, true),
                IncidentCount::TooShort(_) => (None, true, false),
                IncidentCount::Counted(counted) => (Some(duration_json(*counted)), false, false),
                IncidentCount::NotCounted => (None, false, false),
            };
            value["counted"] = json!(counted);
            value["ignoredAsTooShort"] = json!(ignored);
            value["leftOut"] = json!(excluded);
            value
        })
        .collect();
    let alerts: Vec<Value> = figures
        .alerts
        .iter()
        .map(|alert| {
            json!({
                "severity": alert.rule.severity,
                "burnRate": format!("{}.{}", alert.rule.tenths / 10, alert.rule.tenths % 10),
                "long": duration_json(alert.rule.long),
                "short": duration_json(alert.rule.short),
                "start": alert.start.to_string(),
                "end": alert.end.map(|end| end.to_string()),
            })
        })
        .collect();
    let budget = &figures.budget;
    let mut fields = Map::new();
    fields.insert("availability".into(), availability_json(figures.availability, "nanoseconds"));
    fields.insert("target".into(), json!(figures.target.to_string()));
    fields.insert("met".into(), json!(figures.availability.meets(figures.target)));
    fields.insert("eligible".into(), duration_json(figures.eligible));
    fields.insert("leftOut".into(), duration_json(figures.left_out));
    fields.insert("downtime".into(), duration_json(figures.downtime));
    fields.insert(
        "budget".into(),
        json!({
            "allowed": duration_json(budget.allowed),
            "consumed": duration_json(budget.consumed),
            "remaining": duration_json(budget.remaining),
            // The availability the period ends at if it goes on as so far; only while it
            // goes on.
            "forecast": figures
                .ongoing
                .then(|| availability_json(budget.forecast, "nanoseconds")),
        }),
    );
    fields.insert("incidents".into(), json!(incidents));
    fields.insert("alerts".into(), json!(alerts));
    fields
}

fn measurement_json(measurement: &Measurement) -> Value {
    let mut fields = Map::new();
    fields.insert("customer".into(), json!(measurement.customer));
    fields.insert("service".into(), json!(measurement.service));
    fields.insert("objective".into(), json!(measurement.name));
    fields.insert("period".into(), json!(measurement.period));
    fields.insert("zone".into(), json!(measurement.zone_name()));
    fields.insert("from".into(), json!(measurement.range.start().to_string()));
    fields.insert("to".into(), json!(measurement.range.end().to_string()));
    match &measurement.figures {
        Figures::Latency(outcome) => {
            fields.insert("kind".into(), json!("latency"));
            let status = match outcome {
                LatencyOutcome::NeedsPercentileAndThreshold => "needs_percentile_and_threshold",
                LatencyOutcome::NoSamples => "no_samples",
                LatencyOutcome::Measured { percentile, value, threshold, n_samples } => {
                    fields.insert("percentile".into(), json!(percentile.to_string()));
                    fields.insert("value".into(), json!(availability_cmd::format_latency(*value)));
                    fields.insert("valueMs".into(), json!(value.as_millis()));
                    fields.insert(
                        "threshold".into(),
                        json!(availability_cmd::format_latency(*threshold)),
                    );
                    fields.insert("thresholdMs".into(), json!(threshold.as_millis()));
                    fields.insert("samples".into(), json!(n_samples));
                    fields.insert("met".into(), json!(value <= threshold));
                    "measured"
                }
            };
            fields.insert("status".into(), json!(status));
        }
        Figures::Availability { measured, notes, outcome } => {
            fields.insert("kind".into(), json!("availability"));
            fields.insert("measured".into(), json!(measured));
            fields.insert("notes".into(), json!(notes));
            let (status, method) = match outcome {
                AvailabilityOutcome::NoTarget => ("no_target", None),
                AvailabilityOutcome::NeedsRequestsSource => ("needs_requests_source", None),
                AvailabilityOutcome::NoRequestCounts { source } => {
                    fields.insert("source".into(), json!(source));
                    ("no_request_counts", None)
                }
                AvailabilityOutcome::Requests { method, availability, target, allowed } => {
                    let unit = match method {
                        AvailabilityMethod::Requests => "requests",
                        _ => "ratio",
                    };
                    fields.insert("availability".into(), availability_json(*availability, unit));
                    fields.insert("target".into(), json!(target.to_string()));
                    fields.insert("met".into(), json!(availability.meets(*target)));
                    if let Some((allowed, total)) = allowed {
                        fields.insert(
                            "budget".into(),
                            json!({
                                "allowedFailedRequests": allowed,
                                "totalRequests": total,
                                "failedRequests": u64::try_from(availability.bad()).unwrap_or(0),
                            }),
                        );
                    }
                    ("measured", Some(*method))
                }
                AvailabilityOutcome::Timeslices {
                    availability,
                    target,
                    n_slices,
                    n_good,
                    slice,
                    slice_target,
                    allowed,
                } => {
                    fields
                        .insert("availability".into(), availability_json(*availability, "slices"));
                    fields.insert("target".into(), json!(target.to_string()));
                    fields.insert("met".into(), json!(availability.meets(*target)));
                    fields.insert(
                        "slices".into(),
                        json!({
                            "total": n_slices,
                            "good": n_good,
                            "length": duration_json(*slice),
                            "goodAt": slice_target.to_string(),
                        }),
                    );
                    fields.insert(
                        "budget".into(),
                        json!({ "allowedBadSlices": allowed, "badSlices": n_slices - n_good }),
                    );
                    ("measured", Some(AvailabilityMethod::Timeslices))
                }
                AvailabilityOutcome::Time(figures) => {
                    fields.extend(time_json(figures));
                    ("measured", Some(AvailabilityMethod::Time))
                }
            };
            fields.insert("status".into(), json!(status));
            fields.insert("method".into(), json!(method.map(AvailabilityMethod::as_str)));
        }
    }
    Value::Object(fields)
}

/// A customer one may not see, or that does not exist: the same answer.
fn no_customer(customer: &str) -> ApiError {
    ApiError {
        field: Some("customer".to_owned()),
        ..ApiError::not_found(format!("no customer {customer}"))
    }
}

/// Whether `principal` may ask for `customer`'s figures (another customer's are not found).
fn may_see(principal: &Principal, customer: &str) -> bool {
    principal.sees_customer(customer)
}

/// `GET /api/v1/availability?period=2026-10[&customer=C][&at=INSTANT]` (scope `read`): every
/// availability and latency objective of the agreements in force in the period (each one's
/// revision active last in it), from the recorded observations, as of `at` (default now). A
/// customer principal gets its own customer's.
pub(super) async fn get_availability(
    State(state): State<AppState>,
    auth: Auth,
    availability_query: Result<Query<AvailabilityQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let availability_query = query(availability_query)?;
    let period = availability_query
        .period
        .ok_or_else(|| ApiError::field("period", "expected a period such as 2026-10"))?;
    parse_period(&period, &jiff::tz::TimeZone::UTC).map_err(|message| {
        ApiError::field("period", format!("{message}: expected 2026-10, 2026-Q4 or 2026"))
    })?;
    let now = Timestamp::now();
    let as_of = match availability_query.at.as_deref() {
        Some(at) => instant(&Value::String(at.to_owned()), "at")?,
        None => now,
    };
    let customer = match (availability_query.customer, &principal.customer) {
        (Some(customer), _) => Some(customer),
        (None, Some(bound)) => Some(bound.clone()),
        (None, None) => None,
    };
    match &customer {
        Some(customer) if !may_see(principal, customer) => return Err(no_customer(customer)),
        None if principal.role == Role::Customer => {
            // A customer-role principal bound to no customer sees no customer's figures.
            return Err(ApiError::field("customer", "expected a customer's name"));
        }
        _ => {}
    }
    let measured = measure(&state, &period, customer, as_of, now).await?;
    let objectives: Vec<Value> = measured.iter().map(measurement_json).collect();
    Ok(Json(json!({ "asOf": as_of.to_string(), "objectives": objectives })).into_response())
}

/// The figures of every availability and latency objective in force in `period`
/// (`2026-10`), of one customer or all, as of `as_of`. A customer not in the catalog is not
/// found.
pub(super) async fn measure(
    state: &AppState,
    period: &str,
    customer: Option<String>,
    as_of: Timestamp,
    now: Timestamp,
) -> Result<Vec<Measurement>, ApiError> {
    let catalog = revision_cmd::catalog_in_force(&state.store, period, now).await?;
    if let Some(customer) = &customer
        && !catalog.customers.contains_key(customer)
    {
        return Err(no_customer(customer));
    }
    let sources = availability_cmd::recorded_sources(&state.store, &catalog, period, as_of)
        .await
        .map_err(|error| match error.downcast::<StoreError>() {
        Ok(error) => ApiError::from(error),
        Err(error) => ApiError::internal(error.as_ref()),
    })?;
    let period = period.to_owned();
    tokio::task::spawn_blocking(move || {
        availability_cmd::measure(&catalog, &period, customer.as_deref(), &sources, as_of)
    })
    .await
    .map_err(|error| ApiError::internal(&error))?
    .map_err(|error| ApiError::internal(error.as_ref()))
}
