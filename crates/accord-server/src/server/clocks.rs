//! `/api/v1/clocks` and `/api/v1/tickets/{ticket}/clocks`: the SLA clocks of the tickets in
//! the event log, as of now or a given instant.
//!
//! The server keeps one clock engine over the store's agreement revisions. Before answering, it
//! catches up with the log (every event after the last position it folded), so what it shows
//! includes every acknowledged event, also those another server node took in. When agreements
//! change, the engine is rebuilt from the log on the next question.

use std::sync::atomic::{AtomicBool, Ordering};

use accord_core::access::Scope;
use accord_core::clock::{ClockState, Engine, TicketEvent};
use accord_format::events::parse_event;
use accord_store::Store;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::AppState;
use super::auth::Auth;
use super::error::ApiError;
use crate::clock_cmd::ticket_json;
use crate::revision_cmd::StoreTerms;

/// The engine and how far into the log it has folded.
struct Folded {
    engine: Engine<StoreTerms>,
    position: u64,
    /// The store's catalog version the engine's terms were read at.
    version: i64,
    /// The tickets events were applied to since the scheduler last looked; `None` when the
    /// engine was rebuilt since (every ticket is new to it).
    touched: Option<std::collections::HashSet<std::sync::Arc<str>>>,
}

/// The tickets that changed since the scheduler last looked.
pub(super) enum Changed {
    /// The engine was rebuilt: every ticket.
    All,
    /// These tickets.
    Some(Vec<std::sync::Arc<str>>),
}

/// The server's clock engine.
#[derive(Default)]
pub struct Clocks {
    folded: Mutex<Option<Folded>>,
    stale: AtomicBool,
}

impl std::fmt::Debug for Clocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clocks").field("stale", &self.stale).finish_non_exhaustive()
    }
}

/// How many events one read of the log takes.
const PAGE: u32 = 10_000;

impl Clocks {
    /// The agreements changed: the next question rebuilds the engine over the new revisions.
    pub fn invalidate(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }

    /// Runs `read` on the engine once it has caught up with the log.
    async fn with<T>(
        &self,
        store: &Store,
        read: impl FnOnce(&Engine<StoreTerms>) -> T,
    ) -> Result<T, ApiError> {
        let folded = self.caught_up(store).await?;
        let state = folded.as_ref().expect("invariant: set by `caught_up`");
        Ok(read(&state.engine))
    }

    /// Runs `read` on the engine once it has caught up with the log (for the web pages).
    pub(super) async fn read<T>(
        &self,
        store: &Store,
        read: impl FnOnce(&Engine<StoreTerms>) -> T,
    ) -> Result<T, ApiError> {
        self.with(store, read).await
    }

    /// Runs `read` on the catalog the engine runs on (customers, calendars).
    pub(super) async fn with_catalog<T>(
        &self,
        store: &Store,
        read: impl FnOnce(&accord_core::agreement::Catalog) -> T,
    ) -> Result<T, ApiError> {
        self.with(store, |engine| read(engine.source().catalog())).await
    }

    /// Runs `scan` on the engine once it has caught up with the log, with the tickets that
    /// changed since the last scan (for the escalation scheduler, the one caller).
    pub(super) async fn scan<T>(
        &self,
        store: &Store,
        scan: impl FnOnce(&Engine<StoreTerms>, Changed) -> T,
    ) -> Result<T, ApiError> {
        let mut folded = self.caught_up(store).await?;
        let state = folded.as_mut().expect("invariant: set by `caught_up`");
        let changed = match state.touched.replace(std::collections::HashSet::new()) {
            None => Changed::All,
            Some(tickets) => Changed::Some(tickets.into_iter().collect()),
        };
        Ok(scan(&state.engine, changed))
    }

    /// The engine, rebuilt if the agreements changed, after folding every event of the log.
    async fn caught_up(
        &self,
        store: &Store,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<Folded>>, ApiError> {
        let mut folded = self.folded.lock().await;
        if self.stale.swap(false, Ordering::Relaxed) {
            *folded = None;
        }
        // Agreements changed through another node too: the store's version says so.
        let version = store.catalog_version().await?;
        if folded.as_ref().is_some_and(|state| state.version != version) {
            *folded = None;
        }
        if folded.is_none() {
            let terms = StoreTerms::read(store, "the store".to_owned())
                .await
                .map_err(|error| ApiError::internal(error.as_ref()))?;
            *folded =
                Some(Folded { engine: Engine::new(terms), position: 0, version, touched: None });
        }
        let state = folded.as_mut().expect("invariant: set above");
        loop {
            let events = store.events_after(state.position, PAGE).await?;
            let Some(last) = events.last() else { break };
            state.position = last.position;
            for stored in &events {
                if let Some(event) = ticket_event(&stored.body) {
                    if let Some(touched) = &mut state.touched {
                        touched.insert(event.ticket.clone());
                    }
                    state.engine.apply(event);
                }
            }
            if events.len() < PAGE as usize {
                break;
            }
        }
        Ok(folded)
    }
}

impl Clocks {
    /// How many clocks are in each state now, by metric and state, and how many cycles
    /// breached by metric, after catching up with the log (for `/metrics`).
    pub(super) async fn by_state(&self, store: &Store) -> Result<ClockCounts, ApiError> {
        let now = Timestamp::now();
        self.with(store, |engine| {
            let mut counts = ClockCounts::default();
            for ticket in engine.tickets() {
                for view in ticket.state.views(now) {
                    let metric = view.metric.as_str();
                    *counts.by_state.entry((metric, view.state.as_str())).or_insert(0) += 1;
                    *counts.breached_cycles.entry(metric).or_insert(0) += view.n_breached as u64;
                }
            }
            counts
        })
        .await
    }
}

/// Clocks counted for `/metrics`.
#[derive(Debug, Default)]
pub(super) struct ClockCounts {
    /// Clocks by metric and the state of their latest cycle.
    pub(super) by_state: std::collections::BTreeMap<(&'static str, &'static str), u64>,
    /// Cycles (of all, stopped or not) that breached, by metric.
    pub(super) breached_cycles: std::collections::BTreeMap<&'static str, u64>,
}

/// An event of the log back into the engine's value; the log holds only checked events.
pub(crate) fn ticket_event(body: &str) -> Option<TicketEvent> {
    let value: Value = serde_json::from_str(body).ok()?;
    parse_event(&value).ok().map(|(event, _)| event)
}

fn instant(field: &str, text: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    text.map(|text| {
        text.parse::<Timestamp>().map_err(|_| {
            ApiError::field(field, format!("{text:?}: expected an instant with a UTC offset"))
        })
    })
    .transpose()
}

/// The instant asked about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AsOf {
    at: Option<String>,
}

/// `GET /api/v1/tickets/{ticket}/clocks[?at=INSTANT]` (scope `read`).
pub(super) async fn ticket_clocks(
    State(state): State<AppState>,
    auth: Auth,
    Path(ticket): Path<String>,
    query: Result<Query<AsOf>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?.clone();
    let Query(query) =
        query.map_err(|rejection| ApiError::field("query", rejection.body_text()))?;
    let as_of = instant("at", query.at.as_deref())?.unwrap_or_else(Timestamp::now);
    let found = state
        .clocks
        .with(&state.store, |engine| {
            let ticket = engine.ticket(&ticket)?;
            principal
                .sees_data_of(ticket.state.customer.as_deref())
                .then(|| ticket_json(&ticket.id, &ticket.state, &ticket.state.views(as_of), as_of))
        })
        .await?;
    match found {
        Some(body) => Ok(axum::Json(body).into_response()),
        None => Err(ApiError::not_found(format!("no ticket {ticket}"))),
    }
}

/// What `GET /api/v1/clocks` filters on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ClockQuery {
    customer: Option<String>,
    service: Option<String>,
    metric: Option<String>,
    /// `running`, `paused`, `at_risk`, `met`, `breached`, `cancelled`; several comma-separated.
    state: Option<String>,
    due_after: Option<String>,
    due_before: Option<String>,
    at: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

const STATES: [ClockState; 6] = [
    ClockState::Running,
    ClockState::Paused,
    ClockState::AtRisk,
    ClockState::Met,
    ClockState::Breached,
    ClockState::Cancelled,
];

/// `GET /api/v1/clocks` (scope `read`): every clock matching the filters, by deadline (clocks
/// without one last), then ticket and metric; `next` is the cursor of the following page.
pub(super) async fn clocks(
    State(state): State<AppState>,
    auth: Auth,
    query: Result<Query<ClockQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?.clone();
    let Query(query) =
        query.map_err(|rejection| ApiError::field("query", rejection.body_text()))?;
    if let (Some(bound), Some(asked)) = (&principal.customer, &query.customer)
        && bound != asked
    {
        return Err(ApiError::not_found(format!("no customer {asked}")));
    }
    let states: Option<Vec<ClockState>> = query
        .state
        .as_deref()
        .map(|text| {
            text.split(',')
                .map(|word| {
                    STATES.into_iter().find(|state| state.as_str() == word.trim()).ok_or_else(|| {
                        ApiError::field(
                            "state",
                            format!("{word:?}: expected running, paused, at_risk, met, breached or cancelled"),
                        )
                    })
                })
                .collect()
        })
        .transpose()?;
    let due_after = instant("dueAfter", query.due_after.as_deref())?;
    let due_before = instant("dueBefore", query.due_before.as_deref())?;
    let as_of = instant("at", query.at.as_deref())?.unwrap_or_else(Timestamp::now);
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::field("limit", "expected 1 to 1000"));
    }
    let offset: usize = match &query.cursor {
        Some(cursor) => cursor
            .parse()
            .map_err(|_| ApiError::field("cursor", "not a cursor this server gave"))?,
        None => 0,
    };
    let mut rows = state
        .clocks
        .with(&state.store, |engine| {
            let mut rows: Vec<(Option<Timestamp>, String, &'static str, Value)> = Vec::new();
            for ticket in engine.tickets() {
                let ticket_state = &ticket.state;
                let customer = ticket_state.customer.as_deref();
                if !principal.sees_data_of(customer)
                    || query.customer.as_deref().is_some_and(|wanted| Some(wanted) != customer)
                    || query
                        .service
                        .as_deref()
                        .is_some_and(|wanted| Some(wanted) != ticket_state.service.as_deref())
                {
                    continue;
                }
                for view in ticket_state.views(as_of) {
                    let metric = view.metric.as_str();
                    if query.metric.as_deref().is_some_and(|wanted| wanted != metric)
                        || states.as_ref().is_some_and(|states| !states.contains(&view.state))
                        || due_after
                            .is_some_and(|after| view.deadline.is_none_or(|due| due < after))
                        || due_before
                            .is_some_and(|before| view.deadline.is_none_or(|due| due >= before))
                    {
                        continue;
                    }
                    let row = json!({
                        "ticket": &*ticket.id,
                        "customer": customer,
                        "service": ticket_state.service.as_deref(),
                        "priority": ticket_state.priority.as_deref(),
                        "metric": metric,
                        "state": view.state.as_str(),
                        "deadline": view.deadline.map(|at| at.to_string()),
                        "remainingSeconds": view.cycle.remaining().as_secs(),
                    });
                    rows.push((view.deadline, ticket.id.to_string(), metric, row));
                }
            }
            rows
        })
        .await?;
    rows.sort_by(|a, b| {
        let key = |row: &(Option<Timestamp>, String, &'static str, Value)| {
            (row.0.is_none(), row.0, row.1.clone(), row.2)
        };
        key(a).cmp(&key(b))
    });
    let total = rows.len();
    let page: Vec<Value> = rows.into_iter().skip(offset).take(limit).map(|row| row.3).collect();
    let next = (offset + page.len() < total).then(|| (offset + page.len()).to_string());
    Ok(axum::Json(json!({ "total": total, "clocks": page, "next": next })).into_response())
}
