//! `accord serve`: the HTTP API over the store.
//!
//! One multi-threaded tokio runtime; axum routes; one [`Store`] shared by every request; one
//! writer task for the event log ([`ingest`]). Shutdown on SIGTERM or SIGINT stops accepting,
//! lets requests in progress finish (up to the grace period), lets the writer commit what it
//! holds, closes the store and exits 0.
//!
//! **Architecture Invariant:** a success response to a write means the write is committed:
//! handlers answer after the store's transaction commits, never before.

pub mod config;
pub mod error;
pub mod ingest;

mod adapters;
mod agreement_pages;
mod agreements;
mod audit;
mod auth;
mod availability;
mod catalog;
pub mod clocks;
mod dashboard;
mod escalations;
mod events;
pub mod metrics;
pub mod nats;
mod nav;
pub mod notify;
mod page;
mod portal;
mod probing;
mod report_pages;
mod reporting;
mod reports;
mod session;
mod signin;
mod status;
pub mod survey;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use accord_store::Store;
use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use serde_json::json;
use tokio::net::TcpListener;

use crate::cli::ServeArgs;
use config::{Config, LogFormat};
use error::ApiError;
use ingest::Ingest;

/// What every request handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store.
    pub store: Arc<Store>,
    /// The event log's writer.
    pub ingest: Ingest,
    /// The counters `/metrics` shows.
    pub metrics: Arc<metrics::Metrics>,
    /// The clock engine over the log.
    pub clocks: Arc<clocks::Clocks>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// Signalled when events were appended: the escalation scheduler looks at them.
    pub events_arrived: Arc<tokio::sync::Notify>,
    /// Signalled when deliveries were recorded: the delivery worker sends them.
    pub deliveries_waiting: Arc<tokio::sync::Notify>,
    /// What makes and checks satisfaction survey links.
    pub survey: Arc<survey::Links>,
    /// Report settings and signing key.
    pub reports: Arc<crate::report::ReportConfig>,
}

/// `accord serve`.
pub fn serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let environment: Vec<(String, String)> = std::env::vars().collect();
    let config = Config::load(args, &environment)?;
    init_logs(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(config, None))?;
    Ok(ExitCode::SUCCESS)
}

/// Work started beside the server once its state exists (the demo's simulated helpdesk); it
/// is stopped at shutdown, before the event writer is waited for, since it holds a sender.
pub type Live = Box<dyn FnOnce(AppState) -> tokio::task::JoinHandle<()> + Send>;

/// Starts the log as the configuration says.
pub(crate) fn init_logs(config: &Config) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .with_context(|| format!("log: {:?} is not a log filter", config.log))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match config.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("starting the log: {error}"))
}

/// The routes.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    table()
        .router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(move |request, next| {
            refuse_declared_oversize(max_body_bytes, request, next)
        }))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

/// Every `(METHOD, path)` the router serves, in the order they are routed: taken from the code
/// that builds the router, so a route cannot be served without being listed here.
/// `openapi.json` documents exactly these, and the tests hold the two together.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    table().routes
}

/// The OpenAPI 3.1 document of the API, written by hand and served as it is committed.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// The route table: each route is added once, by method, and recorded as it is added.
fn table() -> Table {
    Table::default()
        .get("/healthz", healthz)
        .get("/readyz", readyz)
        .get("/api/v1/openapi.json", openapi)
        .post("/api/v1/events", events::post_events)
        .get("/api/v1/events", events::get_events)
        .get("/api/v1/tickets/{ticket}/events", events::ticket_events)
        .get("/api/v1/tickets/{ticket}/clocks", clocks::ticket_clocks)
        .get("/api/v1/clocks", clocks::clocks)
        .get("/api/v1/agreements", agreements::list)
        .post("/api/v1/agreements/apply", agreements::apply)
        .get("/api/v1/agreements/{name}", agreements::show)
        .get("/api/v1/agreements/{name}/diff", agreements::diff)
        .post("/api/v1/agreements/{name}/lifecycle", agreements::lifecycle)
        .get("/api/v1/terms", agreements::terms)
        .get("/api/v1/customers", catalog::customers)
        .get("/api/v1/customers/{name}", catalog::customer)
        .get("/api/v1/services", catalog::services)
        .get("/api/v1/calendars", catalog::calendars)
        .get("/api/v1/maintenance", catalog::maintenance)
        .get("/api/v1/probes", availability::get_probes)
        .put("/api/v1/probes", availability::put_probes)
        .post("/api/v1/heartbeats/{name}", availability::check_in)
        .get("/api/v1/adapters", adapters::get_adapters)
        .put("/api/v1/adapters", adapters::put_adapters)
        .post("/api/v1/adapters/zammad", adapters::post_zammad)
        .post("/api/v1/adapters/jira", adapters::post_jira)
        .post("/api/v1/adapters/zendesk", adapters::post_zendesk)
        .post("/api/v1/adapters/generic/{mapping}", adapters::post_generic)
        .get("/api/v1/dead-letters", adapters::get_dead_letters)
        .get("/api/v1/notifications", notify::get_settings)
        .put("/api/v1/notifications", notify::put_settings)
        .get("/api/v1/escalations", escalations::get_escalations)
        .get("/api/v1/deliveries", notify::get_deliveries)
        .get("/api/v1/report-sends", reporting::get_report_sends)
        .post("/api/v1/probe-results", availability::post_probe_results)
        .post("/api/v1/request-counts", availability::post_request_counts)
        .post("/api/v1/incidents", availability::post_incidents)
        .get("/api/v1/incidents", availability::get_incidents)
        .get("/api/v1/availability", availability::get_availability)
        .get("/api/v1/audit", audit::get_audit)
        .get("/api/v1/audit/verify", audit::verify)
        .get("/api/v1/reports", reports::get_report)
        .get("/api/v1/credits", reports::get_credits)
        .get("/api/v1/watermelons", reports::get_watermelons)
        .get("/.well-known/accord/report-signing-key", reports::signing_key)
        .post("/api/v1/login", session::login)
        .post("/api/v1/logout", session::logout)
        .get("/api/v1/me", session::me)
        .get("/metrics", metrics::metrics)
        // Public by design: the signed link is the credential (see `survey`).
        .get("/survey/{token}", survey::get_survey)
        .post("/survey/{token}", survey::post_survey)
        // Public by design: what a provider publishes about its services (see `status`).
        .get("/status", status::get_status)
        // Sign-in and the dashboard (see `signin` and `dashboard`).
        .get("/login", signin::get_login)
        .post("/login", signin::post_login)
        .post("/logout", signin::post_logout)
        .get("/account/password", signin::get_password)
        .post("/account/password", signin::post_password)
        .get("/dashboard", dashboard::get_dashboard)
        // Signed-in pages: tickets and their clocks, availability, the customer portal.
        .get("/tickets", portal::get_tickets)
        .get("/tickets/{ticket}", portal::get_ticket)
        .get("/availability", portal::get_availability)
        .get("/portal", portal::get_portal)
        // Signed-in pages (see `agreement_pages` and `report_pages`).
        .get("/agreements", agreement_pages::get_agreements)
        .get("/agreements/{name}", agreement_pages::get_agreement)
        .post("/agreements/{name}/lifecycle", agreement_pages::post_lifecycle)
        .get("/reports", report_pages::get_reports)
}

/// A router being built, and the `(METHOD, path)` pairs routed so far.
#[derive(Default)]
struct Table {
    router: Router<AppState>,
    routes: Vec<(&'static str, &'static str)>,
}

impl Table {
    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Table {
        self.add("GET", path, get(handler))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Table {
        self.add("POST", path, post(handler))
    }

    fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Table {
        self.add("PUT", path, put(handler))
    }

    /// Routes `path` with `method_router`, which serves `method` only. Axum merges the method
    /// routers of one path, and panics on a method routed twice.
    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        method_router: MethodRouter<AppState>,
    ) -> Table {
        self.router = self.router.route(path, method_router);
        self.routes.push((method, path));
        self
    }
}

/// Serves until SIGTERM or SIGINT, starting `live` beside the server.
pub async fn run(config: Config, live: Option<Live>) -> anyhow::Result<()> {
    if let accord_store::Location::Sqlite(_) = &config.location {
        std::fs::create_dir_all(&config.data)
            .with_context(|| format!("creating the data directory {}", config.data.display()))?;
    }
    let store = Store::open(&config.location)
        .await
        .with_context(|| format!("opening the store {}", config.location))?;
    let store = Arc::new(store);
    let events_arrived = Arc::new(tokio::sync::Notify::new());
    let (ingest, writer) = Ingest::start(Arc::clone(&store), Arc::clone(&events_arrived));
    let state = AppState {
        store: Arc::clone(&store),
        ingest,
        metrics: Arc::default(),
        clocks: Arc::default(),
        trusted_proxies: config.trusted_proxies.clone().into(),
        events_arrived: Arc::clone(&events_arrived),
        deliveries_waiting: Arc::default(),
        survey: Arc::new(survey::Links::new(&config.survey)),
        reports: Arc::new(config.reports.clone()),
    };
    let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
    let scheduler = tokio::spawn(escalations::run(
        state.clone(),
        config.notify.clone(),
        workers_stopped.clone(),
    ));
    let reporter =
        tokio::spawn(reporting::run(state.clone(), config.notify.clone(), workers_stopped.clone()));
    // Probes run only where the configuration allows; on several nodes each runs on one.
    let prober = config.probes.then(|| {
        tokio::spawn(probing::run(
            state.clone(),
            config.notify.node.clone(),
            workers_stopped.clone(),
        ))
    });
    let deliverer =
        tokio::spawn(notify::deliver(state.clone(), config.notify.clone(), workers_stopped));
    let live = live.map(|live| live(state.clone()));
    let nats = match &config.nats {
        Some(settings) => Some(nats::start(settings, state.clone()).await?),
        None => None,
    };
    let app = router(state, config.max_body_bytes);
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let address: SocketAddr = listener.local_addr().context("reading the listening address")?;
    tracing::info!(%address, store = %config.location, "listening");
    // Scripts and tests read the address from this line.
    crate::output::text(&format!("accord listening on http://{address}"));
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    // The peer address is what sign-in failures are counted by, besides the user name.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in progress");
        let _ = stopping.send(());
    });
    let mut server = Box::pin(server.into_future());
    tokio::select! {
        served = &mut server => served.context("serving")?,
        () = async {
            let _ = stopped.await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!("requests still in progress after the grace period; stopping anyway"),
    }
    // Every request handler is gone with the router, and with them the writer's senders: the
    // writer commits what it holds and ends.
    drop(server);
    // The NATS consumers finish the batch in hand and drop their handles on the writer too.
    if let Some(nats) = nats {
        nats.stop().await;
    }
    if let Some(live) = live {
        live.abort();
        let _ = live.await;
    }
    let _ = stop_workers.send(true);
    let _ = scheduler.await;
    let _ = reporter.await;
    let _ = deliverer.await;
    if let Some(prober) = prober {
        let _ = prober.await;
    }
    let _ = writer.await;
    match Arc::try_unwrap(store) {
        Ok(store) => store.close().await,
        Err(_) => tracing::warn!("the store is still in use at shutdown"),
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(terminate) => terminate,
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// The API's description; like `/healthz` it needs no token, as it holds no data.
async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// Alive: the process answers.
async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

/// Ready: the store answers (its migrations ran when it opened).
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.log_head().await {
        Ok(head) => axum::Json(json!({ "status": "ready", "eventLogHead": head })).into_response(),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({ "status": "store unreachable" })))
                .into_response()
        }
    }
}

/// Refuses a body whose declared length is over the limit before reading any of it (a body
/// without a declared length is cut off at the limit as it is read).
async fn refuse_declared_oversize(
    max_body_bytes: usize,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_body_bytes as u64) {
        let mut response = ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "body_too_large",
            message: format!("the body is larger than the limit of {max_body_bytes} bytes"),
            field: Some("body".to_owned()),
        }
        .into_response();
        // The unread body makes the connection unusable.
        response
            .headers_mut()
            .insert(axum::http::header::CONNECTION, "close".parse().expect("a header value"));
        return response;
    }
    next.run(request).await
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    /// `openapi.json` documents exactly the routes the router serves: one operation for each
    /// `(METHOD, path)` of [`super::routes`], and none besides.
    #[test]
    fn the_openapi_document_lists_every_route_and_only_those() {
        let document: Value =
            serde_json::from_str(super::OPENAPI).expect("openapi.json is valid JSON");
        assert_eq!(document["openapi"], "3.1.0", "openapi.json must say \"openapi\": \"3.1.0\"");
        let paths = document["paths"].as_object().expect("openapi.json has paths");
        let documented: BTreeSet<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| {
                let methods = item.as_object().expect("a path item is an object");
                methods.keys().map(move |method| (method.to_uppercase(), path.clone()))
            })
            .collect();
        let routed: BTreeSet<(String, String)> = super::routes()
            .into_iter()
            .map(|(method, path)| (method.to_owned(), path.to_owned()))
            .collect();
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "add these routes to crates/accord-server/openapi.json (under \"paths\", with a \
             summary, parameters and responses): {undocumented:?}"
        );
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(
            unrouted.is_empty(),
            "openapi.json documents routes the router does not serve; remove them or route \
             them in `server::table`: {unrouted:?}"
        );
        // Every reference resolves to a component that exists.
        let text = super::OPENAPI;
        for reference in text.split("\"$ref\": \"#/").skip(1) {
            let pointer = reference.split('"').next().expect("a closing quote");
            assert!(
                !document.pointer(&format!("/{pointer}")).unwrap_or(&Value::Null).is_null(),
                "openapi.json refers to #/{pointer}, which it does not define"
            );
        }
    }

    #[test]
    fn every_route_is_routed_once() {
        let routes = super::routes();
        let unique: BTreeSet<_> = routes.iter().collect();
        assert_eq!(unique.len(), routes.len(), "{routes:?}");
    }
}
