//! `/api/v1/agreements` and `/api/v1/terms`: agreements as code over HTTP.
//!
//! The routes do what `accord apply`, `history`, `diff`, `lifecycle` and `explain` do, through
//! the same functions (`revision_cmd`, `agreement_cmd`), and answer in JSON instead of text.
//! Two things differ from the command line, both because a request carries a few documents
//! where a command reads a whole directory:
//!
//! - `apply` checks the documents together with the latest stored revision of every other
//!   document, so one changed agreement can be applied alone.
//! - A customer principal sees only the SLAs that apply to its customer ([`applies_to`]);
//!   every other agreement, and another customer's terms, are not found.
//!
//! `docs/server.md` describes the requests and responses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use accord_core::access::{Principal, Role, Scope};
use accord_core::agreement::{
    self, Agreement, AgreementType, EffectiveTerms, Finding, Kind, Level, Origin, ResolveError,
    Severity, Sourced,
};
use accord_core::lifecycle::{Action, LifecycleError, Transition};
use accord_format::catalog::{self as format_catalog, Input};
use accord_format::{FormatError, FormatErrors};
use accord_store::{Change, NewRevision, Revision, RevisionSummary, StoreError};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::error::ApiError;
use super::events::json_body;
use crate::agreement_cmd::{self, ExplainedObjective, Explanation};
use crate::revision_cmd::{self, History, StoredError};

impl From<StoredError> for ApiError {
    fn from(error: StoredError) -> ApiError {
        match error {
            StoredError::Store(error) | StoredError::ReadingLatest(error) => ApiError::from(error),
            // Stored revisions that no longer load are the server's fault, not the request's.
            other => ApiError::internal(&other),
        }
    }
}

/// What an unknown agreement, and one the principal may not see, both answer.
fn no_agreement(name: &str) -> ApiError {
    ApiError::not_found(format!("no agreement {name}"))
}

/// Reads the query string, naming the parameter at fault.
fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::field("query", rejection.body_text()))
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

/// A revision number from the query or body.
fn revision_number(field: &str, text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>().ok().filter(|number| *number > 0).ok_or_else(|| {
        ApiError::field(field, format!("expected a revision number such as 2, found {text:?}"))
    })
}

// ---------------------------------------------------------------------------------------------
// Who sees what.

/// Whether `principal` may see `agreement`: provider staff see every agreement, a customer
/// principal the SLAs that apply to its customer.
fn visible(principal: &Principal, agreement: &Agreement) -> bool {
    match &principal.customer {
        Some(customer) => applies_to(agreement, customer),
        None => principal.role != Role::Customer,
    }
}

/// Whether `agreement` is an SLA that applies to `customer`: one that lists it in
/// `covers.customers`, or, listing none, names it in `parties.customer`, or, naming none, is
/// not customer-level (a corporate or service-level SLA for every customer). OLAs and UCs are
/// the provider's own contracts and apply to no customer.
fn applies_to(agreement: &Agreement, customer: &str) -> bool {
    if agreement.agreement_type != AgreementType::Sla {
        return false;
    }
    let listed = &agreement.covers.customers;
    if !listed.is_empty() {
        return listed.iter().any(|listed| listed.value == customer);
    }
    match &agreement.parties.customer {
        Some(party) => party.value == customer,
        None => agreement.level != Level::Customer,
    }
}

/// The agreement a stored revision holds.
fn stored_agreement(revision: &Revision) -> Result<Agreement, ApiError> {
    let mut catalog = revision_cmd::catalog_from(std::slice::from_ref(revision))?;
    catalog.agreements.remove(&revision.name).ok_or_else(|| {
        let number = revision.summary.number;
        ApiError::from(StoredError::NotAgreements {
            name: revision.name.clone(),
            from: number,
            to: number,
        })
    })
}

/// An agreement the principal may see: its history, latest revision and what that holds.
/// Unknown and hidden agreements are both [`no_agreement`].
async fn visible_agreement(
    state: &AppState,
    principal: &Principal,
    name: &str,
) -> Result<(History, Revision, Agreement), ApiError> {
    let history = match History::read(&state.store, "Agreement", name).await {
        Ok(history) => history,
        Err(StoreError::NotFound { .. }) => return Err(no_agreement(name)),
        Err(error) => return Err(error.into()),
    };
    let Some(latest) = history.revisions.last() else { return Err(no_agreement(name)) };
    let latest = state.store.revision("Agreement", name, latest.number).await?;
    let agreement = stored_agreement(&latest)?;
    if !visible(principal, &agreement) {
        return Err(no_agreement(name));
    }
    Ok((history, latest, agreement))
}

// ---------------------------------------------------------------------------------------------
// JSON.

fn transition_json(transition: &Transition) -> Value {
    json!({
        "revision": transition.revision,
        "from": transition.from.map(|state| state.as_str()),
        "to": transition.to.as_str(),
        "actor": transition.actor,
        "note": transition.note,
        "recordedAt": transition.recorded_at.to_string(),
        "effectiveAt": transition.effective_at.to_string(),
    })
}

fn revision_json(history: &History, summary: &RevisionSummary, now: Timestamp) -> Value {
    let transitions: Vec<Value> = history
        .transitions
        .iter()
        .filter(|transition| transition.revision == summary.number)
        .map(transition_json)
        .collect();
    json!({
        "revision": summary.number,
        "state": history.state_at(summary, now).map(|state| state.as_str()),
        "author": summary.author,
        "message": summary.message,
        "createdAt": summary.created_at.to_string(),
        "contentHash": summary.content_hash,
        "effectiveFrom": summary.effective_from.map(|at| at.to_string()),
        "effectiveUntil": summary.effective_until.map(|at| at.to_string()),
        "source": { "path": summary.source_path, "line": summary.source_line },
        "transitions": transitions,
    })
}

/// The fields every listing of an agreement shows.
fn agreement_json(agreement: &Agreement, history: &History, now: Timestamp) -> Value {
    let latest = history.revisions.last();
    let is_sla = agreement.agreement_type == AgreementType::Sla;
    let latest_state = latest.and_then(|summary| history.state_at(summary, now));
    json!({
        "name": agreement.meta.name,
        "title": agreement.meta.title,
        "type": agreement.agreement_type.as_str(),
        "level": is_sla.then(|| agreement.level.as_str()),
        "customer": agreement.parties.customer.as_ref().map(|party| &party.value),
        "latestRevision": latest.map(|summary| summary.number),
        "latestState": latest_state.map(|state| state.as_str()),
        "activeRevision": history.active_at(now).map(|summary| summary.number),
        "updatedAt": latest.map(|summary| summary.created_at.to_string()),
    })
}

fn origin_json(origin: &Origin) -> Value {
    json!({
        "file": &*origin.file,
        "line": origin.line,
        "column": origin.column,
        "field": origin.field,
        "default": origin.is_default(),
        "text": agreement_cmd::origin_text(origin),
    })
}

fn sourced_json<T>(sourced: &Sourced<T>, value: Value) -> Value {
    json!({ "value": value, "origin": origin_json(&sourced.origin) })
}

fn objective_json(explained: &ExplainedObjective<'_>) -> Value {
    let objective = &explained.objective;
    let target = objective
        .target
        .as_ref()
        .map(|target| sourced_json(target, json!(target.value.to_string())));
    let underpinned_by = explained.underpinned_by.map(|refs| {
        let listed: Vec<Value> = refs
            .value
            .iter()
            .map(|objective_ref| {
                json!({
                    "agreement": objective_ref.agreement.value,
                    "objective": objective_ref.objective.value.to_string(),
                })
            })
            .collect();
        sourced_json(refs, json!(listed))
    });
    json!({
        "objective": agreement::ticket_label(explained.metric, explained.key),
        "metric": explained.metric.as_str(),
        "key": explained.key,
        "target": target,
        "hours": sourced_json(&objective.hours, json!(objective.hours.value.as_str())),
        "calendar": sourced_json(&objective.calendar, json!(objective.calendar.value)),
        "pauseOn": sourced_json(&objective.pause_on, json!(objective.pause_on.value)),
        "reopen": sourced_json(&objective.reopen, json!(objective.reopen.value.as_str())),
        "underpinnedBy": underpinned_by,
    })
}

fn explanation_json(explanation: &Explanation<'_>) -> Value {
    let effective: &EffectiveTerms = explanation.effective;
    let applied: Vec<Value> = effective
        .applied
        .iter()
        .map(|applied| {
            json!({
                "name": applied.name,
                "level": applied.level.as_str(),
                "regional": applied.regional,
                "origin": origin_json(&applied.origin),
            })
        })
        .collect();
    let skipped: Vec<Value> = effective
        .skipped
        .iter()
        .map(|(name, reason)| json!({ "name": name, "reason": reason }))
        .collect();
    let tickets: Vec<Value> = explanation.tickets.iter().map(objective_json).collect();
    let others: Vec<Value> = explanation
        .others
        .iter()
        .map(|described| {
            json!({
                "label": described.label,
                "value": described.value,
                "origin": origin_json(&described.origin),
            })
        })
        .collect();
    json!({
        "customer": effective.customer,
        "service": effective.service,
        "region": effective.region,
        "on": effective.on.to_string(),
        "priority": explanation.priority,
        "agreements": applied,
        "skipped": skipped,
        "serviceCalendar": effective
            .service_calendar
            .as_ref()
            .map(|calendar| sourced_json(calendar, json!(calendar.value))),
        "tickets": tickets,
        "otherTerms": others,
    })
}

// ---------------------------------------------------------------------------------------------
// POST /api/v1/agreements/apply

/// What a YAML body is called in messages and in its revisions' source, unless `?path=` says.
const BODY_PATH: &str = "request.yaml";

/// The query of `POST /api/v1/agreements/apply` (a YAML body's message and name).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ApplyQuery {
    message: Option<String>,
    path: Option<String>,
}

/// What to apply.
#[derive(Debug)]
struct ApplyRequest {
    inputs: Vec<Input>,
    message: String,
    /// The field problems in the documents are reported under: `body` or `documents`.
    field: &'static str,
}

/// Reads a YAML body (`text/yaml`, `application/yaml`), or a JSON body (`application/json`)
/// of the form `{"documents": ..., "path": ..., "files": {...}, "message": ...}`.
fn read_apply(
    headers: &HeaderMap,
    query: ApplyQuery,
    body: &[u8],
) -> Result<ApplyRequest, ApiError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match content_type.as_str() {
        "text/yaml" | "application/yaml" | "application/x-yaml" | "text/x-yaml" => {
            let text = std::str::from_utf8(body)
                .map_err(|error| ApiError::body(format!("the body is not UTF-8: {error}")))?;
            let path = document_path("path", query.path.as_deref().unwrap_or(BODY_PATH))?;
            // Invariant: `files` is always `Some`: a request's documents never make the loader
            // read the server's disk (a calendar's holiday files come in the request).
            Ok(ApplyRequest {
                inputs: vec![Input {
                    path,
                    first_line: 1,
                    text: text.to_owned(),
                    files: Some(BTreeMap::new()),
                }],
                message: query.message.unwrap_or_default(),
                field: "body",
            })
        }
        "application/json" => {
            for (given, name) in [(&query.message, "message"), (&query.path, "path")] {
                if given.is_some() {
                    return Err(ApiError::field(
                        name,
                        format!("with a JSON body, give {name} in the body"),
                    ));
                }
            }
            read_apply_json(&json_body(body)?)
        }
        _ => Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: format!(
                "expected Content-Type text/yaml or application/json, found {content_type:?}"
            ),
            field: Some("Content-Type".to_owned()),
        }),
    }
}

fn document_path(field: &str, path: &str) -> Result<PathBuf, ApiError> {
    let path = path.trim();
    if path.is_empty() {
        return Err(ApiError::field(
            field,
            "expected a file name such as agreements/acme-sla.yaml",
        ));
    }
    Ok(PathBuf::from(path))
}

fn string_field<'a>(value: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    value.as_str().ok_or_else(|| ApiError::field(field, "expected a string"))
}

fn read_apply_json(body: &Value) -> Result<ApplyRequest, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::body("expected an object with documents"));
    };
    for key in fields.keys() {
        if !matches!(key.as_str(), "documents" | "path" | "files" | "message") {
            return Err(ApiError::field(
                key.clone(),
                format!("unknown field {key:?}: expected documents, path, files or message"),
            ));
        }
    }
    let message = match fields.get("message") {
        Some(message) => string_field(message, "message")?.to_owned(),
        None => String::new(),
    };
    let mut files = BTreeMap::new();
    if let Some(given) = fields.get("files") {
        let Value::Object(given) = given else {
            return Err(ApiError::field("files", "expected an object of file name to text"));
        };
        for (name, text) in given {
            files.insert(name.clone(), string_field(text, &format!("files.{name}"))?.to_owned());
        }
    }
    let input = |path: PathBuf, text: &str| Input {
        path,
        first_line: 1,
        text: text.to_owned(),
        files: Some(files.clone()),
    };
    let inputs = match fields.get("documents") {
        None => return Err(ApiError::field("documents", "expected the documents' YAML")),
        Some(Value::String(text)) => {
            let path = match fields.get("path") {
                Some(path) => string_field(path, "path")?,
                None => BODY_PATH,
            };
            vec![input(document_path("path", path)?, text)]
        }
        Some(Value::Array(items)) => {
            if fields.contains_key("path") {
                return Err(ApiError::field("path", "with a list of documents, each has its path"));
            }
            let mut inputs = Vec::with_capacity(items.len());
            for (idx, item) in items.iter().enumerate() {
                let place = |field: &str| format!("documents[{idx}].{field}");
                let Value::Object(item) = item else {
                    return Err(ApiError::field(
                        format!("documents[{idx}]"),
                        "expected {\"path\": ..., \"text\": ...}",
                    ));
                };
                if let Some(key) = item.keys().find(|key| !matches!(key.as_str(), "path" | "text"))
                {
                    return Err(ApiError::field(
                        place(key),
                        format!("unknown field {key:?}: expected path and text"),
                    ));
                }
                let path = item
                    .get("path")
                    .ok_or_else(|| ApiError::field(place("path"), "expected the file name"))?;
                let text = item
                    .get("text")
                    .ok_or_else(|| ApiError::field(place("text"), "expected the YAML text"))?;
                let path = document_path(&place("path"), string_field(path, &place("path"))?)?;
                inputs.push(input(path, string_field(text, &place("text"))?));
            }
            inputs
        }
        Some(_) => {
            return Err(ApiError::field(
                "documents",
                "expected the YAML text, or a list of {\"path\": ..., \"text\": ...}",
            ));
        }
    };
    Ok(ApplyRequest { inputs, message, field: "documents" })
}

/// Why documents are not applied.
#[derive(Debug)]
enum Refusal {
    /// Documents that do not load.
    Format(FormatErrors),
    /// Documents that load but do not check; every finding, warnings too.
    Check(Vec<Finding>),
    /// No documents at all.
    Empty,
}

fn format_error_json(error: &FormatError) -> Value {
    json!({
        "file": error.path.display().to_string(),
        "line": error.line,
        "column": error.column,
        "field": error.field,
        "message": error.message,
        "text": error.to_string(),
    })
}

fn finding_json(finding: &Finding) -> Value {
    json!({
        "file": &*finding.origin.file,
        "line": finding.origin.line,
        "column": finding.origin.column,
        "field": finding.origin.field,
        "message": finding.message,
        "text": finding.to_string(),
    })
}

impl Refusal {
    /// 400 in [`ApiError`]'s shape, with every problem listed under `errors` (and any
    /// warnings under `warnings`).
    fn into_response(self, field: &str) -> Response {
        let (errors, warnings): (Vec<Value>, Vec<Value>) = match &self {
            Refusal::Format(errors) => {
                (errors.0.iter().map(format_error_json).collect(), Vec::new())
            }
            Refusal::Check(findings) => {
                let (errors, warnings): (Vec<&Finding>, Vec<&Finding>) =
                    findings.iter().partition(|finding| finding.severity == Severity::Error);
                (
                    errors.into_iter().map(finding_json).collect(),
                    warnings.into_iter().map(finding_json).collect(),
                )
            }
            Refusal::Empty => {
                return ApiError::field(
                    field,
                    "no documents: expected YAML documents such as kind: Agreement",
                )
                .into_response();
            }
        };
        let n_errors = errors.len();
        let body = json!({ "error": {
            "code": "invalid_documents",
            "message": format!(
                "{n_errors} error{}: nothing was applied",
                if n_errors == 1 { "" } else { "s" }
            ),
            "field": field,
            "errors": errors,
            "warnings": warnings,
        }});
        (StatusCode::BAD_REQUEST, Json(body)).into_response()
    }
}

/// Loads the documents, then checks them together with the latest stored revision of every
/// other document, as the catalog will be once they are applied. Returns the revisions to
/// apply and the warnings about the documents.
fn check_in_context(
    inputs: &[Input],
    stored: Vec<Revision>,
    today: Date,
) -> Result<(Vec<NewRevision>, Vec<Finding>), Refusal> {
    let posted = format_catalog::load(inputs).map_err(Refusal::Format)?;
    if posted.documents.is_empty() {
        return Err(Refusal::Empty);
    }
    let replaced: BTreeSet<(Kind, &str)> =
        posted.documents.iter().map(|document| (document.kind, document.name.as_str())).collect();
    let kept: Vec<Revision> = stored
        .into_iter()
        .filter(|revision| {
            Kind::parse(&revision.kind)
                .is_none_or(|kind| !replaced.contains(&(kind, revision.name.as_str())))
        })
        .collect();
    let mut all = revision_cmd::revision_inputs(&kept);
    all.extend_from_slice(inputs);
    let combined = format_catalog::load(&all).map_err(Refusal::Format)?;
    let (revisions, findings) = revision_cmd::prepare(&combined.catalog, &posted.documents, today)
        .map_err(Refusal::Check)?;
    // The warnings about these documents; the stored ones were reported when they were applied.
    let posted_files: BTreeSet<String> =
        inputs.iter().map(|input| input.path.display().to_string()).collect();
    let warnings = findings
        .into_iter()
        .filter(|finding| posted_files.contains(&*finding.origin.file))
        .collect();
    Ok((revisions, warnings))
}

/// `POST /api/v1/agreements/apply` (provider staff, scope `write`): `accord apply` over the
/// request's documents.
pub(super) async fn apply(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    apply_query: Result<Query<ApplyQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require_staff(Scope::Write)?;
    let body = body_bytes(body)?;
    let request = read_apply(&headers, query(apply_query)?, &body)?;
    let stored = state.store.latest(None).await?;
    let today = agreement_cmd::today();
    let inputs = request.inputs;
    let checked = tokio::task::spawn_blocking(move || check_in_context(&inputs, stored, today))
        .await
        .map_err(|error| ApiError::internal(&error))?;
    let (revisions, warnings) = match checked {
        Ok(checked) => checked,
        Err(refusal) => return Ok(refusal.into_response(request.field)),
    };
    let applied = state
        .store
        .apply(&revisions, &principal.subject, &request.message, Timestamp::now())
        .await?;
    let n_changed = applied.iter().filter(|applied| applied.change != Change::Unchanged).count();
    let listed: Vec<Value> = applied
        .iter()
        .map(|applied| {
            json!({
                "kind": applied.kind,
                "name": applied.name,
                "change": match applied.change {
                    Change::Created => "created",
                    Change::Updated => "updated",
                    Change::Unchanged => "unchanged",
                },
                "revision": applied.revision,
            })
        })
        .collect();
    let warnings: Vec<Value> = warnings.iter().map(finding_json).collect();
    state.clocks.invalidate();
    Ok(Json(json!({
        "documents": listed,
        "changed": n_changed,
        "unchanged": applied.len() - n_changed,
        "warnings": warnings,
    }))
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// Reading agreements.

/// `GET /api/v1/agreements` (scope `read`): every agreement the principal may see, with its
/// latest revision and state and the revision active now.
pub(super) async fn list(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let now = Timestamp::now();
    let mut listed = Vec::new();
    for latest in state.store.latest(Some("Agreement")).await? {
        let agreement = stored_agreement(&latest)?;
        if !visible(principal, &agreement) {
            continue;
        }
        let history = History::read(&state.store, "Agreement", &latest.name).await?;
        listed.push(agreement_json(&agreement, &history, now));
    }
    Ok(Json(json!({ "agreements": listed })).into_response())
}

/// The query of `GET /api/v1/agreements/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ShowQuery {
    /// The revision whose document to show (default: the latest).
    revision: Option<String>,
}

/// `GET /api/v1/agreements/{name}` (scope `read`): a revision's document (the latest by
/// default) as canonical JSON, and the agreement's history.
pub(super) async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    show_query: Result<Query<ShowQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let show_query = query(show_query)?;
    let (history, latest, agreement) = visible_agreement(&state, principal, &name).await?;
    let shown = match show_query.revision {
        None => latest,
        Some(text) => {
            let number = revision_number("revision", &text)?;
            if !history.revisions.iter().any(|summary| summary.number == number) {
                return Err(no_revision("revision", &name, number, &history));
            }
            state.store.revision("Agreement", &name, number).await?
        }
    };
    let canonical: Value =
        serde_json::from_str(&shown.canonical).map_err(|error| ApiError::internal(&error))?;
    let now = Timestamp::now();
    let revisions: Vec<Value> =
        history.revisions.iter().map(|summary| revision_json(&history, summary, now)).collect();
    let mut body = agreement_json(&agreement, &history, now);
    body["revision"] = json!(shown.summary.number);
    body["contentHash"] = json!(shown.summary.content_hash);
    body["document"] = canonical.get("document").cloned().unwrap_or(Value::Null);
    body["history"] = json!(revisions);
    Ok(Json(body).into_response())
}

fn no_revision(field: &str, name: &str, number: u32, history: &History) -> ApiError {
    let latest = history.revisions.last().map_or(0, |summary| summary.number);
    ApiError {
        field: Some(field.to_owned()),
        ..ApiError::not_found(format!(
            "no revision {number} of agreement {name} (latest is {latest})"
        ))
    }
}

/// The query of `GET /api/v1/agreements/{name}/diff`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/v1/agreements/{name}/diff?from=N&to=M` (scope `read`): what changed from one
/// revision to another, term by term, as `accord diff` shows it.
pub(super) async fn diff(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    diff_query: Result<Query<DiffQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let diff_query = query(diff_query)?;
    let mut numbers = [0; 2];
    for (number, (field, given)) in
        numbers.iter_mut().zip([("from", &diff_query.from), ("to", &diff_query.to)])
    {
        let text =
            given.as_deref().ok_or_else(|| ApiError::field(field, "expected a revision number"))?;
        *number = revision_number(field, text)?;
    }
    let [from, to] = numbers;
    let (history, _, _) = visible_agreement(&state, principal, &name).await?;
    for (field, number) in [("from", from), ("to", to)] {
        if !history.revisions.iter().any(|summary| summary.number == number) {
            return Err(no_revision(field, &name, number, &history));
        }
    }
    let comparison = revision_cmd::compare(&state.store, &name, from, to).await?;
    let side = |revision: &Revision| {
        json!({
            "revision": revision.summary.number,
            "createdAt": revision.summary.created_at.to_string(),
            "author": revision.summary.author,
            "message": revision.summary.message,
        })
    };
    let changes: Vec<Value> = comparison
        .changes
        .iter()
        .map(|change| {
            json!({
                "label": change.label,
                "old": change.old,
                "new": change.new,
                "text": change.to_string(),
            })
        })
        .collect();
    Ok(Json(json!({
        "name": name,
        "from": side(&comparison.old),
        "to": side(&comparison.new),
        "changes": changes,
    }))
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// POST /api/v1/agreements/{name}/lifecycle

/// `{"action": "approve", "revision": 2, "note": "..."}`.
fn read_lifecycle(body: &Value) -> Result<(Action, Option<u32>, String), ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::body("expected an object with action"));
    };
    if let Some(key) =
        fields.keys().find(|key| !matches!(key.as_str(), "action" | "revision" | "note"))
    {
        return Err(ApiError::field(
            key.clone(),
            format!("unknown field {key:?}: expected action, revision or note"),
        ));
    }
    let action = fields.get("action").ok_or_else(|| {
        ApiError::field("action", "expected submit, approve, reject, activate, terminate or expire")
    })?;
    let action: Action = string_field(action, "action")?
        .parse()
        .map_err(|error: LifecycleError| ApiError::field("action", error.to_string()))?;
    let revision = match fields.get("revision") {
        None | Some(Value::Null) => None,
        Some(Value::Number(number)) => Some(revision_number("revision", &number.to_string())?),
        Some(_) => return Err(ApiError::field("revision", "expected a revision number such as 2")),
    };
    let note = match fields.get("note") {
        Some(note) => string_field(note, "note")?.to_owned(),
        None => String::new(),
    };
    Ok((action, revision, note))
}

/// `POST /api/v1/agreements/{name}/lifecycle` (provider staff, scope `write`): `accord
/// lifecycle`; a refused transition is 409 with the reason.
pub(super) async fn lifecycle(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require_staff(Scope::Write)?;
    let body = body_bytes(body)?;
    let (action, revision, note) = read_lifecycle(&json_body(&body)?)?;
    let now = Timestamp::now();
    let recorded = revision_cmd::transition(
        &state.store,
        &name,
        action,
        revision,
        &principal.subject,
        &note,
        now,
    )
    .await
    .map_err(|error| match error {
        StoreError::NotFound { .. } => no_agreement(&name),
        StoreError::Lifecycle(LifecycleError::UnknownRevision { revision }) => ApiError {
            field: Some("revision".to_owned()),
            ..ApiError::not_found(format!("no revision {revision} of agreement {name}"))
        },
        StoreError::Lifecycle(refused) => {
            ApiError::conflict(refused.to_string(), Some("action".to_owned()))
        }
        other => ApiError::from(other),
    })?;
    state.clocks.invalidate();
    let history = History::read(&state.store, "Agreement", &name).await?;
    let acted_on = recorded.first().map(|transition| transition.revision);
    let state_now = history
        .revisions
        .iter()
        .find(|summary| Some(summary.number) == acted_on)
        .and_then(|summary| history.state_at(summary, now));
    let listed: Vec<Value> = recorded.iter().map(transition_json).collect();
    Ok(Json(json!({
        "name": name,
        "revision": acted_on,
        "state": state_now.map(|state| state.as_str()),
        "activeRevision": history.active_at(now).map(|summary| summary.number),
        "recorded": listed,
    }))
    .into_response())
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/terms

/// The query of `GET /api/v1/terms`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TermsQuery {
    customer: Option<String>,
    service: Option<String>,
    priority: Option<String>,
    region: Option<String>,
    site: Option<String>,
    at: Option<String>,
}

/// `GET /api/v1/terms?customer=C&service=S[&priority=P][&region=R][&site=SITE][&at=DATE]`
/// (scope `read`): `accord explain` over the revisions active on the date (default today),
/// each value with where it comes from. A customer principal asks for its own customer only.
pub(super) async fn terms(
    State(state): State<AppState>,
    auth: Auth,
    terms_query: Result<Query<TermsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let terms_query = query(terms_query)?;
    let customer = terms_query
        .customer
        .as_deref()
        .ok_or_else(|| ApiError::field("customer", "expected a customer's name"))?;
    let service = terms_query
        .service
        .as_deref()
        .ok_or_else(|| ApiError::field("service", "expected a service's name"))?;
    let no_customer = || ApiError {
        field: Some("customer".to_owned()),
        ..ApiError::not_found(format!("no customer {customer}"))
    };
    if !principal.sees_customer(customer) {
        return Err(no_customer());
    }
    let today = agreement_cmd::today();
    let on = match terms_query.at.as_deref() {
        Some(at) => at.parse::<Date>().map_err(|_| {
            ApiError::field("at", format!("expected a date such as 2026-11-21, found {at:?}"))
        })?,
        None => today,
    };
    let catalog = revision_cmd::active_catalog(&state.store, on, today, Timestamp::now()).await?;
    let resolve_query = agreement::Query {
        customer,
        service,
        region: terms_query.region.as_deref(),
        site: terms_query.site.as_deref(),
        on,
    };
    let effective = agreement::resolve(&catalog, &resolve_query).map_err(|error| match &error {
        // A customer principal is not told which other customers there are.
        ResolveError::UnknownCustomer { .. } if principal.customer.is_some() => no_customer(),
        ResolveError::UnknownCustomer { .. } => ApiError {
            field: Some("customer".to_owned()),
            ..ApiError::not_found(error.to_string())
        },
        ResolveError::UnknownService { .. } => {
            ApiError { field: Some("service".to_owned()), ..ApiError::not_found(error.to_string()) }
        }
        ResolveError::UnknownSite { .. } => {
            ApiError { field: Some("site".to_owned()), ..ApiError::not_found(error.to_string()) }
        }
        ResolveError::NoAgreement { .. } => ApiError::not_found(format!(
            "{error} (only active agreement revisions count: approve and activate one)"
        )),
        ResolveError::Ambiguous(_) => ApiError::conflict(error.to_string(), None),
    })?;
    let explanation = Explanation::new(&effective, terms_query.priority.as_deref());
    Ok(Json(explanation_json(&explanation)).into_response())
}
