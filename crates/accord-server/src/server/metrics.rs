//! `/metrics` in the Prometheus text format: requests by route, method and status with their
//! latencies, the events taken into the log, clocks by state, breaches, and each availability
//! objective's figure and error budget left this month.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use accord_core::access::Scope;
use accord_core::agreement::Percent;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::AppState;
use super::auth::Auth;
use super::availability;
use super::error::ApiError;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Debug, Default)]
struct Series {
    count: u64,
    seconds: f64,
    // Invariant: cumulative per bound of `BUCKETS`.
    buckets: [u64; BUCKETS.len()],
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Series>>,
    /// Events appended to the log as new.
    pub events_new: AtomicU64,
    /// Events received again and not counted twice.
    pub events_duplicate: AtomicU64,
    /// NATS messages applied and acknowledged.
    pub nats_applied: AtomicU64,
    /// NATS messages refused and terminated (never delivered again).
    pub nats_terminated: AtomicU64,
    /// NATS messages the store could not take now, asked for again.
    pub nats_retried: AtomicU64,
    /// Probe checks this node ran that found the target up.
    pub probe_runs_up: AtomicU64,
    /// Probe checks this node ran that found the target down.
    pub probe_runs_down: AtomicU64,
}

impl Metrics {
    fn observe(&self, route: String, method: String, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let series = requests.entry((route, method, status)).or_default();
        series.count += 1;
        series.seconds += seconds;
        for (bound, bucket) in BUCKETS.iter().zip(series.buckets.iter_mut()) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP accord_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE accord_http_requests_total counter\n");
        let requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((route, method, status), series) in requests.iter() {
            let _ = writeln!(
                out,
                "accord_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} {}",
                series.count
            );
        }
        out.push_str("# HELP accord_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE accord_http_request_duration_seconds histogram\n");
        for ((route, method, status), series) in requests.iter() {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            for (bound, bucket) in BUCKETS.iter().zip(series.buckets.iter()) {
                let _ = writeln!(
                    out,
                    "accord_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {bucket}"
                );
            }
            let _ = writeln!(
                out,
                "accord_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                series.count
            );
            let _ = writeln!(
                out,
                "accord_http_request_duration_seconds_sum{{{labels}}} {}",
                series.seconds
            );
            let _ = writeln!(
                out,
                "accord_http_request_duration_seconds_count{{{labels}}} {}",
                series.count
            );
        }
        out.push_str("# HELP accord_events_ingested_total Ticket events taken into the log.\n");
        out.push_str("# TYPE accord_events_ingested_total counter\n");
        let _ = writeln!(
            out,
            "accord_events_ingested_total{{outcome=\"new\"}} {}",
            self.events_new.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "accord_events_ingested_total{{outcome=\"duplicate\"}} {}",
            self.events_duplicate.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP accord_nats_messages_total NATS JetStream messages consumed, by outcome.\n",
        );
        out.push_str("# TYPE accord_nats_messages_total counter\n");
        for (outcome, counter) in [
            ("applied", &self.nats_applied),
            ("terminated", &self.nats_terminated),
            ("retried", &self.nats_retried),
        ] {
            let _ = writeln!(
                out,
                "accord_nats_messages_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP accord_probe_runs_total Probe checks this node ran, by outcome.\n");
        out.push_str("# TYPE accord_probe_runs_total counter\n");
        for (outcome, counter) in [("up", &self.probe_runs_up), ("down", &self.probe_runs_down)] {
            let _ = writeln!(
                out,
                "accord_probe_runs_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// Counts and times every request under its route's pattern (never the raw path, which may
/// hold tokens or ids).
pub(super) async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe(
        route,
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics` (provider staff, scope `read`).
pub(super) async fn metrics(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Read)?;
    let mut text = state.metrics.render();
    let clocks = state.clocks.by_state(&state.store).await?;
    text.push_str(
        "# HELP accord_clocks SLA clocks of the logged tickets now, by metric and state.\n",
    );
    text.push_str("# TYPE accord_clocks gauge\n");
    for ((metric, clock_state), n) in &clocks.by_state {
        let _ = writeln!(text, "accord_clocks{{metric=\"{metric}\",state=\"{clock_state}\"}} {n}");
    }
    text.push_str(
        "# HELP accord_breaches Clock cycles of the logged tickets that breached their target, by metric.\n",
    );
    text.push_str("# TYPE accord_breaches gauge\n");
    for (metric, n) in &clocks.breached_cycles {
        let _ = writeln!(text, "accord_breaches{{metric=\"{metric}\"}} {n}");
    }
    budget_lines(&state, &mut text).await?;
    Ok(([("content-type", "text/plain; version=0.0.4")], text).into_response())
}

/// A label value escaped for the text format.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Availability and error budget left of every availability objective in force this month
/// (UTC), so far.
async fn budget_lines(state: &AppState, text: &mut String) -> Result<(), ApiError> {
    let now = Timestamp::now();
    let month = now.to_zoned(TimeZone::UTC).strftime("%Y-%m").to_string();
    let measured = availability::measure(state, &month, None, now, now).await?;
    let mut availability_lines = String::new();
    let mut budget_lines = String::new();
    for measurement in &measured {
        let labels = format!(
            "customer=\"{}\",service=\"{}\",objective=\"{}\",period=\"{}\"",
            label(&measurement.customer),
            label(&measurement.service),
            label(&measurement.name),
            label(&measurement.period),
        );
        if let Some(availability) = measurement.availability() {
            let ratio =
                f64::from(availability.percent().micros()) / f64::from(Percent::HUNDRED.micros());
            let _ = writeln!(availability_lines, "accord_availability_ratio{{{labels}}} {ratio}");
        }
        if let Some(left) = measurement.budget_left() {
            let _ =
                writeln!(budget_lines, "accord_error_budget_remaining_ratio{{{labels}}} {left}");
        }
    }
    text.push_str(
        "# HELP accord_availability_ratio Availability so far this month, by objective.\n",
    );
    text.push_str("# TYPE accord_availability_ratio gauge\n");
    text.push_str(&availability_lines);
    text.push_str(
        "# HELP accord_error_budget_remaining_ratio Share of this month's error budget left, by objective: 1 untouched, 0 spent, below 0 overspent.\n",
    );
    text.push_str("# TYPE accord_error_budget_remaining_ratio gauge\n");
    text.push_str(&budget_lines);
    Ok(())
}
