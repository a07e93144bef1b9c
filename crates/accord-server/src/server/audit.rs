//! `/api/v1/audit`: the store's hash-chained log of changes, for administrators.
//!
//! `GET /api/v1/audit` pages through the entries in order; `GET /api/v1/audit/verify` walks the
//! chain as `accord audit verify` does and reports the first entry edited or removed, with
//! 200 either way: the answer is the finding. Only the `admin` scope reads the log, since it
//! names every user and token and who changed what.

use accord_core::access::Scope;
use accord_store::{AuditEntry, AuditHead};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::error::ApiError;

/// The paging of the log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditPage {
    /// Entries after this one (default 0: from the start).
    after: Option<u64>,
    /// At most this many (default 1,000, at most 10,000).
    limit: Option<u32>,
}

/// What to verify against.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct VerifyQuery {
    /// A head noted earlier, `SEQ:HASH`.
    #[serde(rename = "expectHead")]
    expect_head: Option<String>,
}

fn listed(entry: &AuditEntry) -> Value {
    json!({
        "seq": entry.seq,
        "at": entry.at.to_string(),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        // The stored text when it is not JSON, as an edited entry's may not be.
        "detail": serde_json::from_str::<Value>(&entry.detail)
            .unwrap_or_else(|_| Value::String(entry.detail.clone())),
        "prevHash": entry.prev_hash,
        "hash": entry.hash,
    })
}

/// `GET /api/v1/audit?after=N&limit=M` (scope `admin`): the entries in order; `next` is the
/// entry to ask after for the following page.
pub(super) async fn get_audit(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<AuditPage>, QueryRejection>,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Admin)?;
    let Query(page) = query.map_err(|rejection| ApiError::field("query", rejection.body_text()))?;
    let limit = page.limit.unwrap_or(1000);
    if limit == 0 || limit > 10_000 {
        return Err(ApiError::field("limit", "expected 1 to 10000"));
    }
    let entries = state.store.audit_entries(page.after.unwrap_or(0), limit).await?;
    let next = entries.last().map(|entry| entry.seq);
    let listed: Vec<Value> = entries.iter().map(listed).collect();
    Ok(Json(json!({ "entries": listed, "next": next })).into_response())
}

/// `GET /api/v1/audit/verify?expectHead=SEQ:HASH` (scope `admin`): whether the chain is
/// intact, its length and head, and the first problem.
pub(super) async fn verify(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<VerifyQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Admin)?;
    let Query(query) =
        query.map_err(|rejection| ApiError::field("query", rejection.body_text()))?;
    let expected_head: Option<AuditHead> =
        query.expect_head.map(|text| text.parse()).transpose().map_err(
            |error: accord_store::StoreError| ApiError::field("expectHead", error.to_string()),
        )?;
    let verification = state.store.verify_audit(expected_head.as_ref()).await?;
    let head = verification
        .head
        .as_ref()
        .map(|head| json!({ "seq": head.seq, "hash": head.hash, "text": head.to_string() }));
    let problem = verification
        .first_problem
        .as_ref()
        .map(|problem| json!({ "seq": problem.seq, "what": problem.what }));
    Ok(Json(json!({
        "intact": verification.is_intact(),
        "entries": verification.n_entries,
        "head": head,
        "problem": problem,
    }))
    .into_response())
}
