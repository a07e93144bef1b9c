//! `/api/v1/customers`, `/api/v1/services`, `/api/v1/calendars`, `/api/v1/maintenance`: the
//! catalog the agreements refer to, as the latest stored revisions give it today. They change
//! through `POST /api/v1/agreements/apply`, like every document.
//!
//! A customer principal sees its own customer record only (another's is not found). Services,
//! calendars and maintenance windows are the provider's offering and schedule, not customer
//! data: every principal with `read` sees them.

use accord_core::access::Scope;
use accord_core::agreement::{Catalog, Customer, MaintenanceWindow};
use accord_core::calendar::TimeRange;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::error::ApiError;
use crate::agreement_cmd;
use crate::revision_cmd;

async fn catalog(state: &AppState) -> Result<Catalog, ApiError> {
    let today = agreement_cmd::today();
    revision_cmd::active_catalog(&state.store, today, today, Timestamp::now())
        .await
        .map_err(|error| ApiError::internal(&error))
}

fn customer_json(customer: &Customer) -> Value {
    json!({
        "name": customer.meta.name,
        "title": customer.meta.title,
        "legalName": customer.legal_name,
        "timeZone": customer.time_zone.iana_name(),
        "tier": customer.tier,
        "sites": customer.sites.iter().map(|site| json!({
            "name": site.name,
            "region": site.region,
            "timeZone": site.time_zone.as_ref().and_then(|zone| zone.iana_name()),
        })).collect::<Vec<_>>(),
        "contacts": customer.contacts.iter().map(|contact| json!({
            "name": contact.name, "email": contact.email, "phone": contact.phone,
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/customers` (scope `read`): every customer, or a customer principal's own.
pub(super) async fn customers(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?.clone();
    let catalog = catalog(&state).await?;
    let listed: Vec<Value> = catalog
        .customers
        .values()
        .filter(|customer| principal.sees_customer(&customer.meta.name))
        .map(customer_json)
        .collect();
    Ok(axum::Json(json!({ "customers": listed })).into_response())
}

/// `GET /api/v1/customers/{name}` (scope `read`).
pub(super) async fn customer(
    State(state): State<AppState>,
    auth: Auth,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?.clone();
    let catalog = catalog(&state).await?;
    match catalog.customers.get(&name).filter(|_| principal.sees_customer(&name)) {
        Some(customer) => Ok(axum::Json(customer_json(customer)).into_response()),
        None => Err(ApiError::not_found(format!("no customer {name}"))),
    }
}

/// `GET /api/v1/services` (scope `read`): the service catalog.
pub(super) async fn services(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    auth.require(Scope::Read)?;
    let catalog = catalog(&state).await?;
    let listed: Vec<Value> = catalog
        .services
        .values()
        .map(|service| {
            json!({
                "name": service.meta.name,
                "title": service.meta.title,
                "description": service.meta.description,
                "owner": service.owner,
                "scope": service.scope,
                "exclusions": service.exclusions,
                "components": service.components.iter().map(|component| json!({
                    "name": component.name.value, "description": component.description,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(axum::Json(json!({ "services": listed })).into_response())
}

/// `GET /api/v1/calendars` (scope `read`): the business calendars, with their zones.
pub(super) async fn calendars(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    auth.require(Scope::Read)?;
    let catalog = catalog(&state).await?;
    let listed: Vec<Value> = catalog
        .calendars
        .values()
        .map(|calendar| {
            json!({
                "name": calendar.meta.name,
                "title": calendar.meta.title,
                "timeZone": calendar.calendar.zone().iana_name(),
            })
        })
        .collect();
    Ok(axum::Json(json!({ "calendars": listed })).into_response())
}

fn window_json(window: &MaintenanceWindow, next: TimeRange) -> Value {
    json!({
        "name": window.meta.name,
        "title": window.meta.title,
        "services": window.services.iter().map(|service| &service.value).collect::<Vec<_>>(),
        "components": window.components.iter().map(|component| &component.value).collect::<Vec<_>>(),
        "timeZone": window.time_zone.iana_name(),
        "start": window.start.to_string(),
        "durationSeconds": window.duration.as_secs(),
        "recurring": window.rrule.is_some(),
        "next": window.occurrences(next).iter().map(|occurrence| json!({
            "start": occurrence.start().to_string(), "end": occurrence.end().to_string(),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/v1/maintenance` (scope `read`): the planned maintenance windows, each with its
/// occurrences in the next 30 days.
pub(super) async fn maintenance(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    auth.require(Scope::Read)?;
    let catalog = catalog(&state).await?;
    let now = Timestamp::now();
    let next = TimeRange::new(now, now + SignedDuration::from_hours(24 * 30)).expect("ordered");
    let listed: Vec<Value> =
        catalog.maintenance.values().map(|window| window_json(window, next)).collect();
    Ok(axum::Json(json!({ "maintenance": listed })).into_response())
}
