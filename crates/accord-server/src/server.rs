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

mod agreements;
mod auth;
mod availability;
pub mod clocks;
mod events;
pub mod metrics;
mod session;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use accord_store::Store;
use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
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

/// Work started beside the server once its state exists (the demo's simulated helpdesk).
pub type Live = Box<dyn FnOnce(AppState) + Send>;

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
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/events", post(events::post_events).get(events::get_events))
        .route("/api/v1/tickets/{ticket}/events", get(events::ticket_events))
        .route("/api/v1/tickets/{ticket}/clocks", get(clocks::ticket_clocks))
        .route("/api/v1/clocks", get(clocks::clocks))
        .route("/api/v1/agreements", get(agreements::list))
        .route("/api/v1/agreements/apply", post(agreements::apply))
        .route("/api/v1/agreements/{name}", get(agreements::show))
        .route("/api/v1/agreements/{name}/diff", get(agreements::diff))
        .route("/api/v1/agreements/{name}/lifecycle", post(agreements::lifecycle))
        .route("/api/v1/terms", get(agreements::terms))
        .route("/api/v1/probes", get(availability::get_probes).put(availability::put_probes))
        .route("/api/v1/heartbeats/{name}", post(availability::check_in))
        .route("/api/v1/request-counts", post(availability::post_request_counts))
        .route(
            "/api/v1/incidents",
            post(availability::post_incidents).get(availability::get_incidents),
        )
        .route("/api/v1/availability", get(availability::get_availability))
        .route("/api/v1/login", post(session::login))
        .route("/api/v1/logout", post(session::logout))
        .route("/api/v1/me", get(session::me))
        .route("/metrics", get(metrics::metrics))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(move |request, next| {
            refuse_declared_oversize(max_body_bytes, request, next)
        }))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
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
    let (ingest, writer) = Ingest::start(Arc::clone(&store));
    let state = AppState {
        store: Arc::clone(&store),
        ingest,
        metrics: Arc::default(),
        clocks: Arc::default(),
    };
    if let Some(live) = live {
        live(state.clone());
    }
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
