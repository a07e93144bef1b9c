//! `GET /status`: the provider's public status page, no login.
//!
//! For each service and component of the catalog in force: its state now (from open incidents
//! and from probes and heartbeats that are down now), 90 daily uptime bars and the 90-day
//! figure, then the open incidents and the maintenance of the next 14 days. The daily figures
//! come from `availability::measure`, the function `GET /api/v1/availability` answers with,
//! one calendar month at a time, so the page and the API agree to the digit. The page holds
//! only what a provider publishes: service and component names, states, incidents' causes and
//! maintenance windows; no customer's name and no figure of one customer's own terms beyond
//! the worst day any objective measured.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use accord_core::agreement::{AgreementType, Catalog, Level};
use accord_core::availability::{Availability, Impact};
use accord_core::calendar::TimeRange;
use accord_format::probes::Check;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{
    ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, SET_COOKIE,
    VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan as _};
use serde::Deserialize;

use super::AppState;
use super::availability::{self as api, query, stored_probes};
use super::error::ApiError;
use super::nav::LanguageLink;
use crate::availability_cmd::{AvailabilityOutcome, Figures};
use crate::revision_cmd;
use crate::web::CSS;
use crate::web::i18n::{self, Lang};

/// Days of uptime bars.
const N_DAYS: i16 = 90;
/// How far ahead maintenance is listed.
const MAINTENANCE_AHEAD: SignedDuration = SignedDuration::from_hours(24 * 14);

/// `?lang=zh-CN&tz=Asia/Shanghai`, both optional; each is kept in a cookie for later visits.
#[derive(Debug, Deserialize)]
pub(super) struct StatusQuery {
    lang: Option<String>,
    tz: Option<String>,
}

/// A component's state now, least bad first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ServiceState {
    Operational,
    Degraded,
    Partial,
    Major,
}

impl ServiceState {
    fn of(impact: Impact) -> ServiceState {
        match impact {
            Impact::Degraded => ServiceState::Degraded,
            Impact::Partial => ServiceState::Partial,
            Impact::Major => ServiceState::Major,
        }
    }

    /// The CSS class and the message key.
    fn class(self) -> &'static str {
        match self {
            ServiceState::Operational => "operational",
            ServiceState::Degraded => "degraded",
            ServiceState::Partial => "partial",
            ServiceState::Major => "major",
        }
    }

    fn text(self, lang: Lang) -> &'static str {
        lang.t(&format!("state.{}", self.class()))
    }
}

/// One day's bar.
#[derive(Debug)]
struct Bar {
    /// Its left edge in the chart's units.
    x: u32,
    /// `up`, `minor`, `low`, `down` or `none`.
    class: &'static str,
    /// `21 Nov 2026: 99.953 %`.
    title: String,
}

/// One service or component.
#[derive(Debug)]
struct Row {
    name: String,
    description: String,
    is_component: bool,
    state_class: &'static str,
    state_text: &'static str,
    /// The 90-day figure; empty without data.
    percent: String,
    /// The chart's text alternative.
    summary: String,
    bars: Vec<Bar>,
}

#[derive(Debug)]
struct IncidentView {
    cause: String,
    state_class: &'static str,
    impact: &'static str,
    since: String,
    affects: String,
}

#[derive(Debug)]
struct MaintenanceView {
    title: String,
    description: String,
    from: String,
    until: String,
    affects: String,
}

#[derive(Debug, Template)]
#[template(path = "status.html")]
struct StatusPage {
    lang: Lang,
    css: &'static str,
    title: String,
    heading: String,
    overall_class: &'static str,
    overall_text: &'static str,
    rows: Vec<Row>,
    incidents: Vec<IncidentView>,
    maintenance: Vec<MaintenanceView>,
    zone: String,
    updated: String,
    languages: Vec<LanguageLink>,
    days_ago: &'static str,
    today: &'static str,
}

/// `GET /status[?lang=zh-CN][&tz=ZONE]`: the public status page.
pub(super) async fn get_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    status_query: Result<Query<StatusQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let status_query = query(status_query)?;
    let now = Timestamp::now();
    let cookies = headers.get(COOKIE).and_then(|value| value.to_str().ok());
    let accept_language = headers.get(ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
    let lang =
        Lang::choose(status_query.lang.as_deref(), i18n::cookie(cookies, "lang"), accept_language);
    let today_utc = now.to_zoned(TimeZone::UTC).date();
    let catalog = revision_cmd::active_catalog(&state.store, today_utc, today_utc, now).await?;
    let (provider, provider_zone) = provider_of(&catalog);
    let zone = i18n::choose_zone(
        status_query.tz.as_deref(),
        i18n::cookie(cookies, "tz"),
        provider_zone.clone(),
    );

    let today = now.to_zoned(provider_zone).date();
    let first_day = today.checked_sub((N_DAYS - 1).days()).map_err(|e| ApiError::internal(&e))?;
    let daily = recent_daily_figures(&state, first_day, today, now).await?;
    let open = open_incidents(&state, now).await?;
    let down = down_now(&state, now).await?;

    let mut rows = Vec::new();
    for service in catalog.services.values() {
        let name = &service.meta.name;
        let components = std::iter::once(None)
            .chain(service.components.iter().map(|component| Some(component.name.value.as_str())));
        for component in components {
            let measured = component.map_or_else(|| name.clone(), |c| format!("{name}/{c}"));
            let state = open
                .iter()
                .filter(|incident| incident.affects(name, component))
                .map(|incident| ServiceState::of(incident.impact))
                .chain(
                    down.iter()
                        .filter(|(service, hit)| hits(service, hit.as_deref(), name, component))
                        .map(|_| ServiceState::Major),
                )
                .max()
                .unwrap_or(ServiceState::Operational);
            let (title, description) = match component {
                None => (
                    service.meta.title.clone().unwrap_or_else(|| name.clone()),
                    service.meta.description.clone().unwrap_or_default(),
                ),
                Some(c) => {
                    let doc = service.components.iter().find(|doc| doc.name.value == c);
                    (c.to_owned(), doc.and_then(|doc| doc.description.clone()).unwrap_or_default())
                }
            };
            rows.push(row(
                lang,
                title,
                description,
                component.is_some(),
                state,
                first_day,
                daily.get(&measured),
            ));
        }
    }

    let issues = rows.iter().any(|row| row.state_class != ServiceState::Operational.class());
    let incidents = open
        .iter()
        .map(|incident| {
            let state = ServiceState::of(incident.impact);
            IncidentView {
                cause: if incident.cause.is_empty() {
                    incident.id.clone()
                } else {
                    incident.cause.clone()
                },
                state_class: state.class(),
                impact: state.text(lang),
                since: lang.date_time(incident.start, &zone),
                affects: incident
                    .affected
                    .iter()
                    .map(|affected| match &affected.component {
                        Some(component) => format!("{}/{component}", affected.service),
                        None => affected.service.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    let heading = match &provider {
        Some(provider) => lang.fill("status.of", &[("provider", provider)]),
        None => lang.t("status.heading").to_owned(),
    };
    let page = StatusPage {
        lang,
        css: CSS,
        title: heading.clone(),
        heading,
        overall_class: if issues { "issues" } else { "operational" },
        overall_text: lang.t(if issues { "status.some_issues" } else { "status.all_operational" }),
        rows,
        incidents,
        maintenance: maintenance(&catalog, lang, &zone, now),
        zone: i18n::zone_name(&zone).to_owned(),
        updated: lang.date_time(now, &zone),
        languages: LanguageLink::all(lang),
        days_ago: lang.t("status.days_ago"),
        today: lang.t("status.today"),
    };
    let html = page.render().map_err(|error| ApiError::internal(&error))?;
    let mut response = html.into_response();
    let response_headers = response.headers_mut();
    for (name, value) in [
        (CONTENT_TYPE, "text/html; charset=utf-8"),
        (VARY, "Accept-Language, Cookie"),
        (CACHE_CONTROL, "no-cache"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Inline style and SVG only: no script, no other origin.
        (
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    ] {
        response_headers.insert(name, HeaderValue::from_static(value));
    }
    // A choice made in the query is remembered for the next visit.
    let remembered = [
        (
            "lang",
            status_query.lang.as_deref().and_then(Lang::parse).map(|lang| lang.tag().to_owned()),
        ),
        ("tz", status_query.tz.filter(|name| TimeZone::get(name).is_ok())),
    ];
    for (name, value) in remembered {
        let Some(value) = value else { continue };
        let cookie = format!("{name}={value}; Path=/; Max-Age=31536000; SameSite=Lax");
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            response_headers.append(SET_COOKIE, cookie);
        }
    }
    Ok(response)
}

/// The provider's name and zone: from the corporate SLA in force (the first by name), else
/// any agreement naming a provider; UTC without one.
fn provider_of(catalog: &Catalog) -> (Option<String>, TimeZone) {
    let mut agreements: Vec<_> = catalog.agreements.values().collect();
    agreements.sort_by_key(|agreement| {
        (agreement.agreement_type != AgreementType::Sla, agreement.level != Level::Corporate)
    });
    let provider = agreements.iter().find_map(|agreement| agreement.parties.provider.clone());
    let zone = agreements
        .iter()
        .find_map(|agreement| agreement.term.as_ref().and_then(|term| term.value.time_zone.clone()))
        .unwrap_or(TimeZone::UTC);
    (provider, zone)
}

/// Whether something down on `service` (and `component`) hits the row of `row_service` (and
/// `row_component`): the rule of `Incident::affects`.
fn hits(
    service: &str,
    component: Option<&str>,
    row_service: &str,
    row_component: Option<&str>,
) -> bool {
    service == row_service
        && match (row_component, component) {
            (Some(wanted), Some(hit)) => wanted == hit,
            _ => true,
        }
}

/// Daily figures by service or component, then by date.
type Daily = BTreeMap<String, BTreeMap<Date, Availability>>;

/// The daily figures measured last: the page is public and refreshes itself every minute,
/// and 90 days are four months of accounting, so one measurement serves every viewer for
/// [`FIGURES_FOR`]. States, incidents and maintenance are read on every request.
static RECENT: Mutex<Option<Recent>> = Mutex::new(None);
/// How long daily figures are reused.
const FIGURES_FOR: SignedDuration = SignedDuration::from_mins(1);

#[derive(Debug)]
struct Recent {
    /// The store measured (its address: tests run several servers in one process).
    store: usize,
    first_day: Date,
    measured_at: Timestamp,
    daily: Arc<Daily>,
}

/// [`daily_figures`], or the same measured less than [`FIGURES_FOR`] ago.
async fn recent_daily_figures(
    state: &AppState,
    first_day: Date,
    last_day: Date,
    now: Timestamp,
) -> Result<Arc<Daily>, ApiError> {
    let store = Arc::as_ptr(&state.store).addr();
    {
        let recent = RECENT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(recent) = recent.as_ref()
            && recent.store == store
            && recent.first_day == first_day
            && now.duration_since(recent.measured_at) < FIGURES_FOR
            && recent.measured_at <= now
        {
            return Ok(Arc::clone(&recent.daily));
        }
    }
    let daily = Arc::new(daily_figures(state, first_day, last_day, now).await?);
    *RECENT.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
        Some(Recent { store, first_day, measured_at: now, daily: Arc::clone(&daily) });
    Ok(daily)
}

/// Each measured service or component (`hosting`, `hosting/compute`) with each day's figure
/// from `first_day` to `last_day`: the worst any time-based objective measured that day.
async fn daily_figures(
    state: &AppState,
    first_day: Date,
    last_day: Date,
    now: Timestamp,
) -> Result<Daily, ApiError> {
    let mut periods = Vec::new();
    let mut month = first_day.first_of_month();
    while month <= last_day {
        periods.push(format!("{:04}-{:02}", month.year(), month.month()));
        month = month.checked_add(1.month()).map_err(|error| ApiError::internal(&error))?;
    }
    let mut daily = Daily::new();
    for period in periods {
        for measurement in api::measure(state, &period, None, now, now).await? {
            let Figures::Availability {
                measured, outcome: AvailabilityOutcome::Time(figures), ..
            } = &measurement.figures
            else {
                continue;
            };
            let days = daily.entry(measured.clone()).or_default();
            for (date, availability) in &figures.daily {
                let Some(availability) = availability else { continue };
                if *date < first_day || *date > last_day {
                    continue;
                }
                days.entry(*date)
                    .and_modify(|worst| {
                        if availability.percent() < worst.percent() {
                            *worst = *availability;
                        }
                    })
                    .or_insert(*availability);
            }
        }
    }
    Ok(daily)
}

/// Recorded incidents going on now, earliest first.
async fn open_incidents(
    state: &AppState,
    now: Timestamp,
) -> Result<Vec<accord_core::availability::Incident>, ApiError> {
    let span = TimeRange::new(now - SignedDuration::from_hours(24 * i64::from(N_DAYS)), now)
        .expect("ordered");
    let mut open: Vec<_> = state
        .store
        .incidents(span)
        .await?
        .into_iter()
        .filter(|incident| incident.start <= now && incident.end.is_none_or(|end| end > now))
        .collect();
    open.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    Ok(open)
}

/// What probes and heartbeats say is down now: each as (service, component).
async fn down_now(
    state: &AppState,
    now: Timestamp,
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let Some((_, specs)) = stored_probes(state).await? else {
        return Ok(Vec::new());
    };
    let recent = TimeRange::new(now - SignedDuration::from_hours(1), now).expect("ordered");
    let mut down = Vec::new();
    for spec in specs {
        let is_down = match spec.check {
            Check::Heartbeat { .. } => state
                .store
                .heartbeat_outages(&spec.name, recent, now)
                .await?
                .is_some_and(|outages| outages.iter().any(|outage| outage.range.end() >= now)),
            _ => state
                .store
                .probe_history(&spec.name, recent, false)
                .await?
                .is_some_and(|history| history.timeline.is_down()),
        };
        if is_down {
            down.push((spec.affects.service.clone(), spec.affects.component.clone()));
        }
    }
    Ok(down)
}

/// The bars and the 90-day figure of one row.
fn row(
    lang: Lang,
    name: String,
    description: String,
    is_component: bool,
    state: ServiceState,
    first_day: Date,
    daily: Option<&BTreeMap<Date, Availability>>,
) -> Row {
    let mut bars = Vec::new();
    let (mut good, mut eligible) = (0_i128, 0_i128);
    let mut date = first_day;
    for day_idx in 0..u32::try_from(N_DAYS).unwrap_or(90) {
        let figure = daily.and_then(|daily| daily.get(&date));
        let (class, title) = match figure {
            Some(availability) => {
                good += availability.eligible() - availability.bad();
                eligible += availability.eligible();
                (
                    bar_class(*availability),
                    lang.fill(
                        "status.bar_title",
                        &[("date", &lang.date(date)), ("percent", &lang.percent(*availability))],
                    ),
                )
            }
            None => (
                "none",
                lang.fill(
                    "status.bar_title",
                    &[("date", &lang.date(date)), ("percent", lang.t("status.no_data"))],
                ),
            ),
        };
        bars.push(Bar { x: day_idx * 8, class, title });
        date = date.tomorrow().unwrap_or(date);
    }
    let percent = if daily.is_some_and(|daily| !daily.is_empty()) {
        lang.percent(Availability::of_counts(good, eligible))
    } else {
        String::new()
    };
    let summary = lang.fill(
        "status.bars_alt",
        &[
            ("name", &name),
            ("percent", if percent.is_empty() { lang.t("status.no_data") } else { &percent }),
        ],
    );
    Row {
        name,
        description,
        is_component,
        state_class: state.class(),
        state_text: state.text(lang),
        percent,
        summary,
        bars,
    }
}

/// A day's colour: all up, at least 99 %, at least 95 %, below.
fn bar_class(availability: Availability) -> &'static str {
    let micros = availability.percent().micros();
    match micros {
        100_000_000.. => "up",
        99_000_000.. => "minor",
        95_000_000.. => "low",
        _ => "down",
    }
}

/// The maintenance windows' occurrences from now to 14 days ahead, earliest first.
fn maintenance(
    catalog: &Catalog,
    lang: Lang,
    zone: &TimeZone,
    now: Timestamp,
) -> Vec<MaintenanceView> {
    let ahead = TimeRange::new(now, now + MAINTENANCE_AHEAD).expect("ordered");
    let mut occurrences: Vec<(Timestamp, MaintenanceView)> = Vec::new();
    for window in catalog.maintenance.values() {
        let affects = if window.components.is_empty() {
            window.services.iter().map(|service| service.value.clone()).collect::<Vec<_>>()
        } else {
            window
                .services
                .iter()
                .flat_map(|service| {
                    window.components.iter().map(move |c| format!("{}/{}", service.value, c.value))
                })
                .collect()
        };
        for occurrence in window.occurrences(ahead) {
            occurrences.push((
                occurrence.start(),
                MaintenanceView {
                    title: window.meta.title.clone().unwrap_or_else(|| window.meta.name.clone()),
                    description: window.meta.description.clone().unwrap_or_default(),
                    from: lang.date_time(occurrence.start(), zone),
                    until: lang.date_time(occurrence.end(), zone),
                    affects: lang.fill("status.affects_label", &[("list", &affects.join(", "))]),
                },
            ));
        }
    }
    occurrences.sort_by_key(|(start, _)| *start);
    occurrences.into_iter().map(|(_, view)| view).collect()
}
