//! The signed-in pages about tickets and availability, and the customer portal's home:
//!
//! - `GET /tickets?q=&customer=&state=`: tickets found by id or external reference, customer
//!   and clock state, from the server's clock engine (what `/api/v1/clocks` answers from);
//! - `GET /tickets/{ticket}[?at=INSTANT]`: the ticket's clocks, each cycle drawn as a timeline
//!   from `accord_core::clock::explain` (what `accord clock explain` prints), with its events;
//! - `GET /availability?period=2026-11[&customer=]`: each objective's figures, from
//!   `availability::measure` (what `/api/v1/availability` answers);
//! - `GET /portal[?customer=]`: a customer's home, as the customer sees it.
//!
//! A customer principal sees only its own customer's data: another customer's ticket or
//! portal is a 404 page, as if it did not exist. Customers never see internal notes or
//! private comments.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use accord_core::access::Principal;
use accord_core::agreement::{Percent, format_duration};
use accord_core::availability::Availability;
use accord_core::clock::explain::{SpanKind, timeline};
use accord_core::clock::{ClockState, ClockView, Cycle};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::AppState;
use super::availability as api;
use super::error::ApiError;
use super::nav::{Nav, html_response};
use super::page::{Page, percent_encode, query_value};
use crate::availability_cmd::{AvailabilityOutcome, Figures, IncidentCount, LatencyOutcome};
use crate::report::doc::{Bar, BarChart, Tone};
use crate::report::svg;
use crate::web::CSS;
use crate::web::i18n::{self, Lang};

/// How many tickets the list shows at most.
const MAX_TICKETS: usize = 500;
/// The timeline's width in SVG units.
const WIDTH: f64 = 720.0;

/// The parts every page of this module shares: the header (the shared [`Nav`]) and the
/// footer's zone and time.
#[derive(Debug)]
struct Frame {
    lang: Lang,
    title: String,
    zone: String,
    updated: String,
}

impl Frame {
    fn new(
        page: &Page,
        headers: &HeaderMap,
        title: String,
        current: &str,
        now: Timestamp,
    ) -> (Frame, Nav) {
        let frame = Frame {
            lang: page.lang,
            title,
            zone: i18n::zone_name(&page.zone).to_owned(),
            updated: page.lang.date_time(now, &page.zone),
        };
        (frame, Nav::new(page, headers, current))
    }
}

/// The `customer` of the query, when not empty.
fn customer_asked(page: &Page) -> Option<String> {
    let query = page.path.split_once('?').map(|(_, query)| query);
    query_value(query, "customer").filter(|customer| !customer.is_empty())
}

/// A query value of the page's path.
fn asked(page: &Page, name: &str) -> Option<String> {
    let query = page.path.split_once('?').map(|(_, query)| query);
    query_value(query, name).filter(|value| !value.is_empty())
}

/// The customer whose data the page shows: the principal's own; for staff the one asked for,
/// if any. `Err` for a customer principal asking for another customer (a 404).
fn customer_scope(page: &Page) -> Result<Option<String>, ()> {
    let asked = customer_asked(page);
    match (&page.principal.customer, asked) {
        (Some(bound), Some(asked)) if *bound != asked => Err(()),
        (Some(bound), _) => Ok(Some(bound.clone())),
        (None, asked) => Ok(asked),
    }
}

fn render(status: StatusCode, page: &Page, view: &impl Template) -> Result<Response, ApiError> {
    let body = view.render().map_err(|error| ApiError::internal(&error))?;
    let query = page.path.split_once('?').map(|(_, query)| query);
    Ok(html_response(status, page.lang, query, body))
}

#[derive(Debug, Template)]
#[template(path = "portal_missing.html")]
struct MissingPage {
    lang: Lang,
    css: &'static str,
    title: String,
    nav: Nav,
    frame: Frame,
    message: String,
}

/// The 404 page: the same whether the thing does not exist or is another customer's.
fn missing(page: &Page, headers: &HeaderMap, message: String) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let (frame, nav) =
        Frame::new(page, headers, page.lang.t("portal.missing.title").to_owned(), "", now);
    render(
        StatusCode::NOT_FOUND,
        page,
        &MissingPage {
            lang: frame.lang,
            css: CSS,
            title: frame.title.clone(),
            nav,
            frame,
            message,
        },
    )
}

fn clock_state_text(lang: Lang, state: ClockState) -> &'static str {
    lang.t(&format!("portal.clock.{}", state.as_str()))
}

fn metric_text(lang: Lang, metric: accord_core::agreement::Metric) -> &'static str {
    lang.t(&format!("portal.metric.{}", metric.as_str()))
}

/// `?at=` when it is an instant; now otherwise.
fn as_of(page: &Page) -> Timestamp {
    asked(page, "at").and_then(|at| at.parse().ok()).unwrap_or_else(Timestamp::now)
}

// ---------------------------------------------------------------------------------------------
// /tickets

#[derive(Debug)]
struct ClockChip {
    class: &'static str,
    text: String,
}

/// A chip for each of a ticket's clocks: its metric and state, classed by the state.
fn clock_chips(lang: Lang, views: &[ClockView]) -> Vec<ClockChip> {
    views
        .iter()
        .map(|view| ClockChip {
            class: view.state.as_str(),
            text: format!(
                "{}: {}",
                metric_text(lang, view.metric),
                clock_state_text(lang, view.state)
            ),
        })
        .collect()
}

#[derive(Debug)]
struct TicketRow {
    id: String,
    href: String,
    external_ref: String,
    customer: String,
    service: String,
    priority: String,
    status: String,
    clocks: Vec<ClockChip>,
    deadline: String,
}

#[derive(Debug, Template)]
#[template(path = "portal_tickets.html")]
struct TicketsPage {
    lang: Lang,
    css: &'static str,
    title: String,
    nav: Nav,
    frame: Frame,
    q: String,
    /// The customer filter's options (staff only): name, selected.
    customers: Vec<(String, bool)>,
    bound: bool,
    /// State options: value, label, selected.
    states: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<TicketRow>,
    found: String,
}

const STATE_FILTERS: [ClockState; 4] =
    [ClockState::Running, ClockState::Paused, ClockState::Breached, ClockState::Met];

/// `GET /tickets?q=&customer=&state=`: tickets by id or reference, customer and clock state.
pub(super) async fn get_tickets(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
) -> Result<Response, ApiError> {
    let Ok(customer) = customer_scope(&page) else {
        return missing(&page, &headers, page.lang.t("portal.missing.customer").to_owned());
    };
    let lang = page.lang;
    let now = as_of(&page);
    let q = asked(&page, "q").unwrap_or_default();
    let wanted_state = asked(&page, "state")
        .and_then(|word| STATE_FILTERS.into_iter().find(|state| state.as_str() == word));
    let needle = q.trim().to_lowercase();
    let principal = page.principal.clone();
    let zone = page.zone.clone();
    let (rows, customers, total) = state
        .clocks
        .read(&state.store, |engine| {
            let mut customers = std::collections::BTreeSet::new();
            let mut found: Vec<TicketRow> = Vec::new();
            let mut total = 0_usize;
            for ticket in engine.tickets() {
                let ticket_customer = ticket.state.customer.as_deref();
                if !principal.sees_data_of(ticket_customer) {
                    continue;
                }
                if let Some(name) = ticket_customer {
                    customers.insert(name.to_owned());
                }
                if customer.as_deref().is_some_and(|wanted| Some(wanted) != ticket_customer) {
                    continue;
                }
                let external = ticket.state.external_ref.as_deref().unwrap_or_default();
                if !needle.is_empty()
                    && !ticket.id.to_lowercase().contains(&needle)
                    && !external.to_lowercase().contains(&needle)
                {
                    continue;
                }
                let views = ticket.state.views(now);
                if let Some(wanted) = wanted_state
                    && !views.iter().any(|view| view.state == wanted)
                {
                    continue;
                }
                total += 1;
                let deadline = views
                    .iter()
                    .filter(|view| view.state != ClockState::Breached)
                    .filter_map(|view| view.deadline)
                    .min();
                found.push(TicketRow {
                    id: ticket.id.to_string(),
                    href: format!("/tickets/{}", percent_encode(&ticket.id)),
                    external_ref: external.to_owned(),
                    customer: ticket_customer.unwrap_or("–").to_owned(),
                    service: ticket.state.service.as_deref().unwrap_or("–").to_owned(),
                    priority: ticket.state.priority.as_deref().unwrap_or("–").to_owned(),
                    status: ticket.state.status.as_deref().unwrap_or("–").to_owned(),
                    clocks: clock_chips(lang, &views),
                    deadline: deadline.map_or_else(String::new, |at| lang.date_time(at, &zone)),
                });
            }
            found.sort_by(|a, b| a.id.cmp(&b.id));
            found.truncate(MAX_TICKETS);
            (found, customers, total)
        })
        .await?;
    let (frame, nav) = Frame::new(
        &page,
        &headers,
        lang.t("portal.tickets.title").to_owned(),
        "/tickets",
        Timestamp::now(),
    );
    let found = lang.fill("portal.tickets.found", &[("count", &total.to_string())]);
    let view = TicketsPage {
        lang,
        css: CSS,
        title: frame.title.clone(),
        nav,
        frame,
        q,
        customers: customers
            .into_iter()
            .map(|name| {
                let selected = customer.as_deref() == Some(name.as_str());
                (name, selected)
            })
            .collect(),
        bound: page.principal.customer.is_some(),
        states: STATE_FILTERS
            .iter()
            .map(|each| (each.as_str(), clock_state_text(lang, *each), Some(*each) == wanted_state))
            .collect(),
        rows,
        found,
    };
    render(StatusCode::OK, &page, &view)
}

// ---------------------------------------------------------------------------------------------
// /tickets/{ticket}

#[derive(Debug)]
struct Segment {
    x: String,
    width: String,
    class: &'static str,
    title: String,
}

#[derive(Debug)]
struct Marker {
    x: String,
    class: &'static str,
    label: String,
    /// `start`, `middle` or `end`: where the label sits against the line.
    anchor: &'static str,
    /// The label's baseline: above the band or below it.
    y: u32,
}

#[derive(Debug)]
struct CycleView {
    heading: String,
    state_class: &'static str,
    facts: Vec<(&'static str, String)>,
    alt: String,
    segments: Vec<Segment>,
    markers: Vec<Marker>,
    axis_from: String,
    axis_to: String,
    words: Vec<String>,
}

#[derive(Debug)]
struct EventView {
    at: String,
    kind: &'static str,
    class: String,
    detail: String,
}

#[derive(Debug, Template)]
#[template(path = "portal_ticket.html")]
struct TicketPage {
    lang: Lang,
    css: &'static str,
    title: String,
    nav: Nav,
    frame: Frame,
    facts: Vec<(&'static str, String)>,
    as_of: String,
    cycles: Vec<CycleView>,
    events: Vec<EventView>,
    /// Legend entries: class, label.
    legend: Vec<(&'static str, &'static str)>,
}

/// `GET /tickets/{ticket}[?at=INSTANT]`: the ticket's clocks as timelines, and its events.
pub(super) async fn get_ticket(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
    Path(ticket_id): Path<String>,
) -> Result<Response, ApiError> {
    let lang = page.lang;
    let as_of = as_of(&page);
    let principal = page.principal.clone();
    let zone = page.zone.clone();
    let found = state
        .clocks
        .read(&state.store, |engine| {
            let ticket = engine.ticket(&ticket_id)?;
            if !principal.sees_data_of(ticket.state.customer.as_deref()) {
                return None;
            }
            let ticket_state = &ticket.state;
            let text = |value: Option<&str>| value.unwrap_or("–").to_owned();
            let facts = vec![
                (lang.t("portal.ticket.customer"), text(ticket_state.customer.as_deref())),
                (lang.t("portal.ticket.service"), text(ticket_state.service.as_deref())),
                (lang.t("portal.ticket.priority"), text(ticket_state.priority.as_deref())),
                (lang.t("portal.ticket.status"), text(ticket_state.status.as_deref())),
                (lang.t("portal.ticket.reference"), text(ticket_state.external_ref.as_deref())),
                (
                    lang.t("portal.ticket.created"),
                    ticket_state
                        .created_at
                        .map_or_else(|| "–".to_owned(), |at| lang.date_time(at, &zone)),
                ),
            ];
            let mut cycles = Vec::new();
            for clock in &ticket_state.clocks {
                let metric = metric_text(lang, clock.metric);
                let timelines = timeline(ticket_state, clock, as_of);
                let n_cycles = timelines.len();
                for (cycle_idx, explained) in timelines.iter().enumerate() {
                    cycles.push(cycle_view(
                        lang,
                        &zone,
                        metric,
                        (cycle_idx, n_cycles),
                        &explained.cycle,
                        &explained.spans,
                        as_of,
                    ));
                }
            }
            Some((facts, cycles))
        })
        .await?;
    let Some((facts, cycles)) = found else {
        return missing(
            &page,
            &headers,
            lang.fill("portal.missing.ticket", &[("ticket", &ticket_id)]),
        );
    };
    let events = state.store.ticket_events(&ticket_id).await?;
    let customer_view = page.principal.customer.is_some()
        || page.principal.role == accord_core::access::Role::Customer;
    let events = events
        .iter()
        .filter_map(|event| {
            let body: Value = serde_json::from_str(&event.body).ok()?;
            let public = body.get("public").and_then(Value::as_bool).unwrap_or(true);
            if customer_view && (event.kind == "note" || (event.kind == "comment" && !public)) {
                return None;
            }
            Some(event_view(lang, &page.zone, &event.kind, event.at, &body))
        })
        .collect();
    let (frame, nav) = Frame::new(
        &page,
        &headers,
        lang.fill("portal.ticket.title", &[("ticket", &ticket_id)]),
        "/tickets",
        Timestamp::now(),
    );
    let view = TicketPage {
        lang,
        css: CSS,
        title: frame.title.clone(),
        nav,
        frame,
        facts,
        as_of: lang.date_time(as_of, &page.zone),
        cycles,
        events,
        legend: ["counted", "closed", "holiday", "paused", "before"]
            .into_iter()
            .map(|class| (class, lang.t(&format!("portal.span.{class}"))))
            .collect(),
    };
    render(StatusCode::OK, &page, &view)
}

fn event_view(lang: Lang, zone: &TimeZone, kind: &str, at: Timestamp, body: &Value) -> EventView {
    let known = ["created", "updated", "comment", "note", "solved", "closed", "reopened", "rating"];
    let kind_key = if known.contains(&kind) { kind } else { "other" };
    let mut details = Vec::new();
    for (field, key) in [
        ("status", "portal.event.status"),
        ("priority", "portal.event.priority"),
        ("author", "portal.event.author"),
        ("score", "portal.event.score"),
    ] {
        let value = match body.get(field) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            _ => continue,
        };
        details.push(lang.fill(key, &[("value", &value)]));
    }
    EventView {
        at: lang.date_time(at, zone),
        kind: lang.t(&format!("portal.event.{kind_key}")),
        class: kind_key.to_owned(),
        detail: details.join(" · "),
    }
}

/// A duration for people: `4h 30m` (`format_duration`), `–` for none.
fn duration(value: SignedDuration) -> String {
    if value == SignedDuration::MAX { "–".to_owned() } else { format_duration(value) }
}

/// One cycle drawn: its spans along a line from its first span to the later of its end and its
/// deadline, with the start, the deadline, the breach and the stop marked.
fn cycle_view(
    lang: Lang,
    zone: &TimeZone,
    metric: &str,
    (cycle_idx, n_cycles): (usize, usize),
    cycle: &Cycle,
    spans: &[accord_core::clock::explain::Span],
    as_of: Timestamp,
) -> CycleView {
    let state = cycle.state();
    let deadline = cycle.deadline().filter(|_| cycle.breached_at.is_none());
    let end = cycle.stop.map_or(as_of, |(at, _)| at).max(cycle.start);
    let from = spans.first().map_or(cycle.start, |span| span.from).min(cycle.start);
    let mut to = end;
    for at in [deadline, cycle.breached_at].into_iter().flatten() {
        to = to.max(at);
    }
    if to <= from {
        to = from + SignedDuration::from_mins(1);
    }
    let total = to.duration_since(from).as_secs_f64();
    let x =
        |at: Timestamp| (at.duration_since(from).as_secs_f64() / total * WIDTH).clamp(0.0, WIDTH);
    let number = |value: f64| format!("{value:.1}");
    let mut segments = Vec::new();
    let mut words = Vec::new();
    for span in spans {
        let (class, why) = match &span.kind {
            SpanKind::Counted => ("counted", lang.t("portal.span.counted").to_owned()),
            SpanKind::Closed => ("closed", lang.t("portal.span.closed").to_owned()),
            SpanKind::Holiday(name) => {
                ("holiday", lang.fill("portal.span.holiday_named", &[("name", name)]))
            }
            SpanKind::Paused(status) => {
                ("paused", lang.fill("portal.span.paused_by", &[("status", status)]))
            }
            SpanKind::BeforeStart => ("before", lang.t("portal.span.before").to_owned()),
        };
        let sentence = lang.fill(
            "portal.span.words",
            &[
                ("from", &lang.date_time(span.from, zone)),
                ("to", &lang.date_time(span.to, zone)),
                ("length", &duration(span.to.duration_since(span.from))),
                ("why", &why),
                ("elapsed", &duration(span.elapsed)),
            ],
        );
        let (left, right) = (x(span.from), x(span.to));
        segments.push(Segment {
            x: number(left),
            width: number((right - left).max(0.5)),
            class,
            title: sentence.clone(),
        });
        words.push(sentence);
    }
    let anchor = |at: f64| {
        if at < 60.0 {
            "start"
        } else if at > WIDTH - 60.0 {
            "end"
        } else {
            "middle"
        }
    };
    let mut markers = vec![Marker {
        x: number(x(cycle.start)),
        class: "start",
        label: lang.t("portal.mark.start").to_owned(),
        anchor: "start",
        y: 76,
    }];
    let mut mark_words =
        vec![lang.fill("portal.mark.start_at", &[("at", &lang.date_time(cycle.start, zone))])];
    if let Some(at) = deadline {
        let position = x(at);
        markers.push(Marker {
            x: number(position),
            class: "deadline",
            label: lang.t("portal.mark.deadline").to_owned(),
            anchor: anchor(position),
            y: 12,
        });
        mark_words.push(lang.fill("portal.mark.deadline_at", &[("at", &lang.date_time(at, zone))]));
    }
    for fired in &cycle.fired {
        mark_words.push(lang.fill(
            "portal.mark.escalation_at",
            &[("at", &lang.date_time(fired.at, zone)), ("rung", &fired.rung.label())],
        ));
    }
    if let Some(at) = cycle.breached_at {
        let position = x(at);
        markers.push(Marker {
            x: number(position),
            class: "breach",
            label: lang.t("portal.mark.breach").to_owned(),
            anchor: anchor(position),
            y: 12,
        });
        mark_words.push(lang.fill("portal.mark.breach_at", &[("at", &lang.date_time(at, zone))]));
    }
    if let Some((at, _)) = cycle.stop {
        let position = x(at);
        markers.push(Marker {
            x: number(position),
            class: "stop",
            label: lang.t("portal.mark.stop").to_owned(),
            anchor: anchor(position),
            y: 76,
        });
        mark_words.push(lang.fill("portal.mark.stop_at", &[("at", &lang.date_time(at, zone))]));
    } else if as_of > from && as_of <= to {
        let position = x(as_of);
        markers.push(Marker {
            x: number(position),
            class: "now",
            label: lang.t("portal.mark.now").to_owned(),
            anchor: anchor(position),
            y: 76,
        });
    }
    words.extend(mark_words);
    let heading = if n_cycles > 1 {
        lang.fill(
            "portal.cycle.heading_n",
            &[("metric", metric), ("n", &(cycle_idx + 1).to_string())],
        )
    } else {
        metric.to_owned()
    };
    let facts = vec![
        (lang.t("portal.cycle.state"), clock_state_text(lang, state).to_owned()),
        (lang.t("portal.cycle.target"), duration(cycle.target)),
        (lang.t("portal.cycle.elapsed"), duration(cycle.elapsed)),
        (lang.t("portal.cycle.paused"), duration(cycle.paused)),
        (
            lang.t("portal.cycle.deadline"),
            cycle.deadline().map_or_else(|| "–".to_owned(), |at| lang.date_time(at, zone)),
        ),
    ];
    let alt = lang.fill(
        "portal.cycle.alt",
        &[
            ("metric", &heading),
            ("state", clock_state_text(lang, state)),
            ("elapsed", &duration(cycle.elapsed)),
            ("target", &duration(cycle.target)),
        ],
    );
    CycleView {
        heading,
        state_class: state.as_str(),
        facts,
        alt,
        segments,
        markers,
        axis_from: lang.date_time(from, zone),
        axis_to: lang.date_time(to, zone),
        words,
    }
}

// ---------------------------------------------------------------------------------------------
// /availability

#[derive(Debug)]
struct ObjectiveView {
    title: String,
    service: String,
    target: String,
    actual: String,
    budget: String,
    budget_class: &'static str,
    chart: String,
    notes: Vec<String>,
    incidents: Vec<String>,
    latency: String,
}

#[derive(Debug)]
struct CustomerAvailability {
    name: String,
    objectives: Vec<ObjectiveView>,
    maintenance: Vec<String>,
}

#[derive(Debug, Template)]
#[template(path = "portal_availability.html")]
struct AvailabilityPage {
    lang: Lang,
    css: &'static str,
    title: String,
    nav: Nav,
    frame: Frame,
    period: String,
    heading: String,
    customers: Vec<CustomerAvailability>,
    customer: String,
}

fn percent_number(percent: Percent) -> f64 {
    f64::from(percent.micros()) / 1_000_000.0
}

fn target_of(outcome: &AvailabilityOutcome) -> Option<Percent> {
    match outcome {
        AvailabilityOutcome::Requests { target, .. }
        | AvailabilityOutcome::Timeslices { target, .. } => Some(*target),
        AvailabilityOutcome::Time(figures) => Some(figures.target),
        _ => None,
    }
}

fn percent_text(lang: Lang, percent: Percent) -> String {
    let text = percent.to_string();
    match lang {
        Lang::En => text.replace('%', " %"),
        Lang::ZhCn => text,
    }
}

/// `GET /availability?period=2026-11[&customer=NAME]`: each objective's figures of the period.
pub(super) async fn get_availability(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
) -> Result<Response, ApiError> {
    let Ok(customer) = customer_scope(&page) else {
        return missing(&page, &headers, page.lang.t("portal.missing.customer").to_owned());
    };
    let lang = page.lang;
    let now = Timestamp::now();
    let period = asked(&page, "period").unwrap_or_else(|| {
        let today = now.to_zoned(page.zone.clone()).date();
        format!("{:04}-{:02}", today.year(), today.month())
    });
    if accord_core::availability::parse_period(&period, &TimeZone::UTC).is_err() {
        return missing(
            &page,
            &headers,
            lang.fill("portal.missing.period", &[("period", &period)]),
        );
    }
    let measured = match api::measure(&state, &period, customer.clone(), now, now).await {
        Ok(measured) => measured,
        Err(error) if error.status == StatusCode::NOT_FOUND => {
            return missing(&page, &headers, page.lang.t("portal.missing.customer").to_owned());
        }
        Err(error) if error.status == StatusCode::BAD_REQUEST => {
            return missing(
                &page,
                &headers,
                lang.fill("portal.missing.period", &[("period", &period)]),
            );
        }
        Err(error) => return Err(error),
    };
    let catalog = crate::revision_cmd::catalog_in_force(&state.store, &period, now).await?;
    let mut by_customer: BTreeMap<String, CustomerAvailability> = BTreeMap::new();
    let mut ranges = BTreeMap::new();
    for measurement in &measured {
        if !page.principal.sees_customer(&measurement.customer) {
            continue;
        }
        ranges.insert(measurement.customer.clone(), measurement.range);
        let entry = by_customer.entry(measurement.customer.clone()).or_insert_with(|| {
            CustomerAvailability {
                name: catalog
                    .customers
                    .get(&measurement.customer)
                    .and_then(|found| found.meta.title.clone())
                    .unwrap_or_else(|| measurement.customer.clone()),
                objectives: Vec::new(),
                maintenance: Vec::new(),
            }
        });
        entry.objectives.push(objective_view(lang, &page.zone, measurement));
    }
    for (name, entry) in &mut by_customer {
        let Some(range) = ranges.get(name) else { continue };
        let services: std::collections::BTreeSet<&str> =
            entry.objectives.iter().map(|objective| objective.service.as_str()).collect();
        let mut windows = Vec::new();
        for window in catalog.maintenance.values() {
            let hits = window.services.iter().any(|service| {
                services
                    .iter()
                    .any(|measured| measured.split('/').next() == Some(service.value.as_str()))
            });
            if !hits {
                continue;
            }
            let title = window.meta.title.clone().unwrap_or_else(|| window.meta.name.clone());
            for occurrence in window.occurrences(*range) {
                windows.push((
                    occurrence.start(),
                    lang.fill(
                        "portal.availability.window",
                        &[
                            ("title", &title),
                            ("from", &lang.date_time(occurrence.start(), &page.zone)),
                            ("to", &lang.date_time(occurrence.end(), &page.zone)),
                        ],
                    ),
                ));
            }
        }
        windows.sort_by_key(|(start, _)| *start);
        entry.maintenance = windows.into_iter().map(|(_, text)| text).collect();
    }
    let (frame, nav) = Frame::new(
        &page,
        &headers,
        lang.fill("portal.availability.title", &[("period", &period)]),
        "/availability",
        now,
    );
    let view = AvailabilityPage {
        lang,
        css: CSS,
        title: frame.title.clone(),
        nav,
        heading: lang.fill("portal.availability.title", &[("period", &period)]),
        frame,
        period,
        customers: by_customer.into_values().collect(),
        customer: customer.unwrap_or_default(),
    };
    render(StatusCode::OK, &page, &view)
}

fn objective_view(
    lang: Lang,
    zone: &TimeZone,
    measurement: &crate::availability_cmd::Measurement,
) -> ObjectiveView {
    let dash = || "–".to_owned();
    let budget_left = measurement.budget_left();
    let mut view = ObjectiveView {
        title: measurement.name.clone(),
        service: measurement.service.clone(),
        target: dash(),
        actual: measurement.availability().map_or_else(dash, |found| lang.percent(found)),
        budget: budget_left.map_or_else(dash, |share| format!("{:.1} %", share * 100.0)),
        budget_class: match budget_left {
            Some(share) if share < 0.0 => "bad",
            Some(share) if share < 0.25 => "warn",
            Some(_) => "good",
            None => "",
        },
        chart: String::new(),
        notes: Vec::new(),
        incidents: Vec::new(),
        latency: String::new(),
    };
    match &measurement.figures {
        Figures::Availability { measured, notes, outcome } => {
            view.service.clone_from(measured);
            view.notes.clone_from(notes);
            if let Some(target) = target_of(outcome) {
                view.target = percent_text(lang, target);
            }
            match outcome {
                AvailabilityOutcome::Time(figures) => {
                    view.chart =
                        daily_chart(lang, &measurement.name, figures.target, &figures.daily);
                    for figure in &figures.incidents {
                        let incident = &figure.incident;
                        let counted = match &figure.counted {
                            IncidentCount::Counted(length) => lang
                                .fill("portal.incident.counted", &[("length", &duration(*length))]),
                            IncidentCount::Excluded(why) => {
                                lang.fill("portal.incident.excluded", &[("why", why)])
                            }
                            IncidentCount::TooShort(length) => lang.fill(
                                "portal.incident.too_short",
                                &[("length", &duration(*length))],
                            ),
                            IncidentCount::NotCounted => {
                                lang.t("portal.incident.not_counted").to_owned()
                            }
                        };
                        let cause =
                            if incident.cause.is_empty() { &incident.id } else { &incident.cause };
                        view.incidents.push(lang.fill(
                            "portal.incident.line",
                            &[
                                ("cause", cause),
                                ("from", &lang.date_time(incident.start, zone)),
                                (
                                    "to",
                                    &incident.end.map_or_else(
                                        || lang.t("portal.incident.ongoing").to_owned(),
                                        |end| lang.date_time(end, zone),
                                    ),
                                ),
                                ("counted", &counted),
                            ],
                        ));
                    }
                }
                AvailabilityOutcome::NoTarget => {
                    view.notes.push(lang.t("portal.availability.no_target").to_owned());
                }
                AvailabilityOutcome::NeedsRequestsSource
                | AvailabilityOutcome::NoRequestCounts { .. } => {
                    view.notes.push(lang.t("portal.availability.no_counts").to_owned());
                }
                AvailabilityOutcome::Requests { .. } | AvailabilityOutcome::Timeslices { .. } => {}
            }
        }
        Figures::Latency(outcome) => {
            view.latency = match outcome {
                LatencyOutcome::Measured { percentile, value, threshold, n_samples } => lang.fill(
                    "portal.latency.measured",
                    &[
                        ("percentile", &percentile.to_string().replace('%', "")),
                        ("value", &format!("{} ms", value.as_millis())),
                        ("threshold", &format!("{} ms", threshold.as_millis())),
                        ("samples", &n_samples.to_string()),
                    ],
                ),
                LatencyOutcome::NoSamples => lang.t("portal.latency.no_samples").to_owned(),
                LatencyOutcome::NeedsPercentileAndThreshold => {
                    lang.t("portal.latency.incomplete").to_owned()
                }
            };
        }
    }
    view
}

/// The daily uptime bars, drawn by the reports' chart code.
fn daily_chart(
    lang: Lang,
    name: &str,
    target: Percent,
    daily: &[(jiff::civil::Date, Option<Availability>)],
) -> String {
    let target_value = percent_number(target);
    let values: Vec<f64> = daily
        .iter()
        .filter_map(|(_, found)| found.map(|found| percent_number(found.percent())))
        .collect();
    let lowest = values.iter().copied().fold(target_value, f64::min);
    let floor = (lowest - 0.5).floor().clamp(0.0, 99.0);
    let bars: Vec<Bar> = daily
        .iter()
        .map(|(date, found)| {
            let value = found.map(|found| percent_number(found.percent()));
            Bar {
                label: date.day().to_string(),
                tip: lang.fill(
                    "portal.availability.bar",
                    &[
                        ("date", &lang.date(*date)),
                        (
                            "percent",
                            &found.map_or_else(
                                || lang.t("portal.availability.no_data").to_owned(),
                                |found| lang.percent(found),
                            ),
                        ),
                    ],
                ),
                value,
                tone: match value {
                    None => Tone::Neutral,
                    Some(value) if value >= target_value => Tone::Good,
                    Some(value) if value >= target_value - 1.0 => Tone::Warn,
                    Some(_) => Tone::Bad,
                },
            }
        })
        .collect();
    let mut worst: Vec<&Bar> = bars.iter().filter(|bar| bar.value.is_some()).collect();
    worst.sort_by(|a, b| a.value.partial_cmp(&b.value).unwrap_or(std::cmp::Ordering::Equal));
    let mut lowest_days = String::new();
    for bar in worst.iter().take(3) {
        if !lowest_days.is_empty() {
            lowest_days.push_str("; ");
        }
        let _ = write!(lowest_days, "{}", bar.tip);
    }
    let chart = BarChart {
        title: lang.fill("portal.availability.chart_title", &[("name", name)]),
        alt: lang.fill(
            "portal.availability.chart_alt",
            &[
                ("name", name),
                ("target", &percent_text(lang, target)),
                (
                    "lowest",
                    if lowest_days.is_empty() {
                        lang.t("portal.availability.no_data")
                    } else {
                        &lowest_days
                    },
                ),
            ],
        ),
        unit: "%".to_owned(),
        floor,
        ceiling: 100.0,
        target: Some(target_value),
        bars,
    };
    svg::bars(&chart)
}

// ---------------------------------------------------------------------------------------------
// /portal

#[derive(Debug, Template)]
#[template(path = "portal_home.html")]
struct PortalPage {
    lang: Lang,
    css: &'static str,
    title: String,
    nav: Nav,
    frame: Frame,
    heading: String,
    /// Staff without a customer chosen: the customers to choose from (name, href).
    choices: Vec<(String, String)>,
    links: Vec<(&'static str, String)>,
    /// Summary figures: label, value, class.
    summary: Vec<(&'static str, String, &'static str)>,
    /// The open tickets: id, href, clock chips.
    open: Vec<(String, String, Vec<ClockChip>)>,
    staff_view: bool,
}

/// `GET /portal[?customer=NAME]`: a customer's home.
pub(super) async fn get_portal(
    State(state): State<AppState>,
    headers: HeaderMap,
    page: Page,
) -> Result<Response, ApiError> {
    let Ok(customer) = customer_scope(&page) else {
        return missing(&page, &headers, page.lang.t("portal.missing.customer").to_owned());
    };
    let lang = page.lang;
    let now = Timestamp::now();
    let customers = state
        .clocks
        .with_catalog(&state.store, |catalog| {
            catalog
                .customers
                .iter()
                .map(|(name, found)| {
                    (name.clone(), found.meta.title.clone(), found.time_zone.clone())
                })
                .collect::<Vec<_>>()
        })
        .await?;
    let Some(customer) = customer else {
        let (frame, nav) =
            Frame::new(&page, &headers, lang.t("portal.home.choose").to_owned(), "/portal", now);
        let view = PortalPage {
            lang,
            css: CSS,
            title: frame.title.clone(),
            nav,
            frame,
            heading: lang.t("portal.home.choose").to_owned(),
            choices: customers
                .iter()
                .map(|(name, title, _)| {
                    (
                        title.clone().unwrap_or_else(|| name.clone()),
                        format!("/portal?customer={}", percent_encode(name)),
                    )
                })
                .collect(),
            links: Vec::new(),
            summary: Vec::new(),
            open: Vec::new(),
            staff_view: false,
        };
        return render(StatusCode::OK, &page, &view);
    };
    let Some((_, title, customer_zone)) = customers.iter().find(|(name, ..)| *name == customer)
    else {
        return missing(&page, &headers, lang.t("portal.missing.customer").to_owned());
    };
    let display = title.clone().unwrap_or_else(|| customer.clone());
    let month_start = {
        let today = now.to_zoned(customer_zone.clone()).date();
        customer_zone
            .to_timestamp(today.first_of_month().to_datetime(jiff::civil::Time::midnight()))
            .unwrap_or(now)
    };
    let principal: Principal = page.principal.clone();
    let wanted = customer.clone();
    let (open, n_open_clocks, n_breaches) = state
        .clocks
        .read(&state.store, |engine| {
            let mut open = Vec::new();
            let (mut n_open_clocks, mut n_breaches) = (0_usize, 0_usize);
            for ticket in engine.tickets() {
                let ticket_customer = ticket.state.customer.as_deref();
                if ticket_customer != Some(wanted.as_str())
                    || !principal.sees_data_of(ticket_customer)
                {
                    continue;
                }
                let views = ticket.state.views(now);
                for clock in &ticket.state.clocks {
                    n_breaches += clock
                        .cycles
                        .iter()
                        .filter(|cycle| {
                            cycle.as_of(now).breached_at.is_some_and(|at| at >= month_start)
                        })
                        .count();
                }
                let running: Vec<_> =
                    views.iter().filter(|view| view.cycle.stop.is_none()).collect();
                n_open_clocks += running.len();
                if ticket.state.open {
                    open.push((
                        ticket.id.to_string(),
                        format!("/tickets/{}", percent_encode(&ticket.id)),
                        clock_chips(lang, &views),
                    ));
                }
            }
            open.sort_by(|a: &(String, String, Vec<ClockChip>), b| a.0.cmp(&b.0));
            open.truncate(50);
            (open, n_open_clocks, n_breaches)
        })
        .await?;
    let staff_view = page.principal.customer.is_none();
    let suffix =
        if staff_view { format!("?customer={}", percent_encode(&customer)) } else { String::new() };
    let links = vec![
        (lang.t("portal.home.tickets"), format!("/tickets{suffix}")),
        (lang.t("portal.home.availability"), format!("/availability{suffix}")),
        (lang.t("portal.home.agreements"), "/agreements".to_owned()),
        (lang.t("portal.home.reports"), "/reports".to_owned()),
    ];
    let (frame, nav) = Frame::new(&page, &headers, display.clone(), "/portal", now);
    let view = PortalPage {
        lang,
        css: CSS,
        title: frame.title.clone(),
        nav,
        frame,
        heading: display,
        choices: Vec::new(),
        links,
        summary: vec![
            (lang.t("portal.home.open_clocks"), n_open_clocks.to_string(), ""),
            (
                lang.t("portal.home.breaches"),
                n_breaches.to_string(),
                if n_breaches > 0 { "bad" } else { "good" },
            ),
        ],
        open,
        staff_view,
    };
    render(StatusCode::OK, &page, &view)
}
