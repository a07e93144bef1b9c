//! `/api/v1/reports`, `/api/v1/credits`, `/api/v1/watermelons` and the report signing key at
//! `/.well-known/accord/report-signing-key`: the compliance reports of `crate::report`, over
//! HTTP, with the evidence (SHA-256, log position, as-of instant) in response headers.

use accord_core::access::{Principal, Role, Scope};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::availability::query;
use super::error::ApiError;
use crate::report::{self, Format, ReportError, Request};

/// The query of the report routes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ReportQuery {
    customer: Option<String>,
    period: Option<String>,
    format: Option<String>,
    position: Option<u64>,
    as_of: Option<String>,
}

impl From<ReportError> for ApiError {
    fn from(error: ReportError) -> ApiError {
        match error {
            ReportError::UnknownCustomer(customer) => ApiError {
                field: Some("customer".to_owned()),
                ..ApiError::not_found(format!("no customer {customer}"))
            },
            ReportError::Invalid { field, message } => ApiError::field(field, message),
            ReportError::Internal(error) => ApiError::internal(error.as_ref()),
        }
    }
}

/// The customer a principal's question is about: the one asked for, or the one it is bound
/// to; `None` (every customer) only for staff bound to none.
fn scope_of(principal: &Principal, asked: Option<String>) -> Result<Option<String>, ApiError> {
    match (asked, &principal.customer) {
        (Some(customer), _) if !principal.sees_customer(&customer) => Err(ApiError {
            field: Some("customer".to_owned()),
            ..ApiError::not_found(format!("no customer {customer}"))
        }),
        (Some(customer), _) => Ok(Some(customer)),
        (None, Some(bound)) => Ok(Some(bound.clone())),
        (None, None) if principal.role == Role::Customer => {
            Err(ApiError::field("customer", "expected a customer's name"))
        }
        (None, None) => Ok(None),
    }
}

/// The request a query asks for, in `default` format unless it names one.
fn request_of(
    principal: &Principal,
    report_query: ReportQuery,
    default: Format,
) -> Result<Request, ApiError> {
    let period = report_query
        .period
        .ok_or_else(|| ApiError::field("period", "expected a period such as 2026-10"))?;
    let format = match report_query.format.as_deref() {
        Some(text) => Format::parse(text).ok_or_else(|| {
            ApiError::field("format", format!("{text:?}: expected {}", Format::NAMES))
        })?,
        None => default,
    };
    let as_of = report_query
        .as_of
        .as_deref()
        .map(|text| {
            text.parse::<Timestamp>().map_err(|_| {
                ApiError::field("asOf", format!("{text:?}: expected an instant with a UTC offset"))
            })
        })
        .transpose()?;
    Ok(Request {
        customer: scope_of(principal, report_query.customer)?,
        period,
        format,
        position: report_query.position,
        as_of,
    })
}

/// `GET /api/v1/reports?period=2026-10[&customer=C][&format=pdf][&position=N][&asOf=T]`
/// (scope `read`): the compliance report as a file; headers give its SHA-256, log position
/// and as-of instant, and `X-Accord-Signature` the signature file (base64) when the server
/// signs reports.
pub(super) async fn get_report(
    State(state): State<AppState>,
    auth: Auth,
    report_query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let request = request_of(principal, query(report_query)?, Format::Json)?;
    let config = &state.reports;
    let generated =
        report::generate(&state.store, &config.settings, &request, Timestamp::now()).await?;
    let as_of = generated.as_of.to_string();
    let mut response = (
        [
            (header::CONTENT_TYPE, generated.format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", generated.file_name),
            ),
        ],
        generated.bytes.clone(),
    )
        .into_response();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    };
    set("x-accord-report-sha256", &generated.sha256);
    set("x-accord-log-position", &generated.position.to_string());
    set("x-accord-as-of", &as_of);
    if let Some(key) = &config.signing_key {
        use base64::Engine as _;
        let signature =
            key.sign(&generated.file_name, &generated.bytes, generated.position, &as_of);
        set(
            "x-accord-signature",
            &base64::engine::general_purpose::STANDARD.encode(signature.as_bytes()),
        );
    }
    Ok(response)
}

/// `GET /api/v1/credits?period=2026-10[&customer=C]` (scope `read`): the credit statements
/// of the period with their lines and evidence (the report's JSON, credits only).
pub(super) async fn get_credits(
    State(state): State<AppState>,
    auth: Auth,
    report_query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let request = request_of(principal, query(report_query)?, Format::Json)?;
    let report_json = report_value(&state, &request).await?;
    let customers: Vec<Value> = report_json["customers"]
        .as_array()
        .map(|customers| {
            customers
                .iter()
                .map(|customer| {
                    json!({
                        "customer": customer["name"],
                        "credits": customer["credits"],
                        "creditTotals": customer["creditTotals"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(json!({
        "period": report_json["period"],
        "asOf": report_json["asOf"],
        "logPosition": report_json["logPosition"],
        "customers": customers,
    }))
    .into_response())
}

/// `GET /api/v1/watermelons?period=2026-10[&customer=C]` (scope `read`): services green on
/// the SLA but red for the customer, with the satisfaction beside the compliance.
pub(super) async fn get_watermelons(
    State(state): State<AppState>,
    auth: Auth,
    report_query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let request = request_of(principal, query(report_query)?, Format::Json)?;
    let report_json = report_value(&state, &request).await?;
    let mut flagged = Vec::new();
    let mut satisfaction = Vec::new();
    for customer in report_json["customers"].as_array().into_iter().flatten() {
        for flag in customer["watermelons"].as_array().into_iter().flatten() {
            flagged.push(json!({
                "customer": customer["name"],
                "service": flag["service"],
                "reason": flag["reason"],
            }));
        }
        satisfaction.push(json!({
            "customer": customer["name"],
            "objectivesJudged": customer["objectivesJudged"],
            "objectivesMissed": customer["objectivesMissed"],
            "satisfaction": customer["satisfaction"],
        }));
    }
    Ok(Json(json!({
        "period": report_json["period"],
        "asOf": report_json["asOf"],
        "csatThreshold": state.reports.settings.csat_threshold,
        "watermelons": flagged,
        "customers": satisfaction,
    }))
    .into_response())
}

/// The report's JSON form as a value.
async fn report_value(state: &AppState, request: &Request) -> Result<Value, ApiError> {
    let request = Request { format: Format::Json, ..request.clone() };
    let generated =
        report::generate(&state.store, &state.reports.settings, &request, Timestamp::now()).await?;
    serde_json::from_slice(&generated.bytes).map_err(|error| ApiError::internal(&error))
}

/// `GET /.well-known/accord/report-signing-key` (public: it is a public key): the key reports
/// are signed with, for `accord report verify --key`; 404 when reports are not signed.
pub(super) async fn signing_key(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(key) = &state.reports.signing_key else {
        return Err(ApiError::not_found("this server does not sign reports"));
    };
    let public = key.public_base64();
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(&public).unwrap_or_default();
    Ok(Json(json!({
        "algorithm": "Ed25519",
        "publicKey": public,
        "fingerprint": report::sign::fingerprint(&raw),
        "format": report::sign::FORMAT,
    }))
    .into_response())
}
