//! `GET /dashboard`: what needs attention now, for staff over every customer and for a
//! customer principal over its own. Clocks at risk (running, more than 75 % of the target
//! elapsed) and breached now, and the next ten deadlines, from the server's clock engine (the
//! one `GET /api/v1/clocks` answers from); this month's error budget and burn rate per
//! availability objective (`availability::measure`, as `GET /api/v1/availability`); the
//! latest escalations and notification deliveries (staff only, as their API routes); the
//! agreements due for review or expiring within 60 days (the catalog the engine runs on); and
//! last month's watermelon flags (`report::compute`, as `GET /api/v1/watermelons`).
//!
//! The page reloads itself every minute (`<meta http-equiv="refresh">`), so the clock panels
//! stay live without script.

use accord_core::access::{Principal, Role};
use accord_core::agreement::Catalog;
use accord_core::clock::ClockState;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan as _};

use super::AppState;
use super::availability::measure;
use super::error::ApiError;
use super::nav::{Nav, html_response};
use super::page::{Page, percent_encode};
use crate::availability_cmd::{AvailabilityOutcome, Figures};
use crate::report::{self, Format, Request};
use crate::web::CSS;
use crate::web::i18n::{self, Lang};

/// How many upcoming deadlines are listed.
const N_DEADLINES: usize = 10;
/// How many escalations and deliveries are listed.
const N_RECENT: u32 = 10;
/// How far ahead reviews and expiries are listed.
const REVIEW_AHEAD_DAYS: i32 = 60;

/// One clock on the page.
#[derive(Debug)]
struct ClockRow {
    ticket: String,
    href: String,
    customer: String,
    priority: String,
    metric: &'static str,
    /// The deadline (the breach instant once breached), in the viewer's zone.
    deadline: String,
    /// `in 1 h 05 min`, `12 min ago`.
    relative: String,
    /// Share of the target elapsed: `82 %`.
    used: String,
}

/// One availability objective's budget this month.
#[derive(Debug)]
struct BudgetRow {
    customer: String,
    objective: String,
    availability: String,
    target: String,
    remaining: String,
    burn: String,
    /// `ok`, `warn` (burning faster than the budget allows) or `bad` (spent).
    class: &'static str,
}

#[derive(Debug)]
struct EscalationRow {
    at: String,
    ticket: String,
    href: String,
    customer: String,
    metric: String,
    what: String,
}

#[derive(Debug)]
struct DeliveryRow {
    at: String,
    ticket: String,
    recipient: String,
    channel: String,
    status: String,
}

#[derive(Debug)]
struct ReviewRow {
    agreement: String,
    href: String,
    customer: String,
    what: &'static str,
    date: String,
    overdue: bool,
}

#[derive(Debug)]
struct WatermelonRow {
    customer: String,
    service: String,
    reason: String,
}

#[derive(Debug, Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    lang: Lang,
    css: &'static str,
    title: &'static str,
    nav: Nav,
    /// Escalations and deliveries are for staff.
    staff: bool,
    at_risk: Vec<ClockRow>,
    breached: Vec<ClockRow>,
    upcoming: Vec<ClockRow>,
    budgets: Vec<BudgetRow>,
    budgets_heading: String,
    escalations: Vec<EscalationRow>,
    deliveries: Vec<DeliveryRow>,
    reviews: Vec<ReviewRow>,
    watermelons: Vec<WatermelonRow>,
    watermelons_heading: String,
    /// Panels that could not be computed, in words.
    problems: Vec<String>,
    zone: String,
    updated: String,
}

/// `GET /dashboard` (any signed-in principal; a customer sees its own customer's).
pub(super) async fn get_dashboard(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let lang = page.lang;
    let principal = &page.principal;
    let staff = principal.role != Role::Customer;
    let mut problems = Vec::new();

    let (at_risk, breached, upcoming) = clocks(&state, &page, now).await?;

    let today = now.to_zoned(TimeZone::UTC).date();
    let this_month = period_of(today);
    let last_month = period_of(today.first_of_month().yesterday().expect("not the first day"));
    // A customer principal bound to no customer sees no customer's figures.
    let scope = principal.customer.clone();
    let sees_figures = staff || scope.is_some();

    let mut budgets = Vec::new();
    if sees_figures {
        match measure(&state, &this_month, scope.clone(), now, now).await {
            Ok(measured) => {
                for measurement in &measured {
                    if let Some(row) = budget_row(lang, measurement, now) {
                        budgets.push(row);
                    }
                }
            }
            // A customer without agreements this month has no objectives.
            Err(error) if error.status == StatusCode::NOT_FOUND => {}
            Err(error) => {
                tracing::warn!(%error.message, "dashboard: availability");
                problems.push(lang.t("ui.dash.budget_failed").to_owned());
            }
        }
    }

    let (mut escalations, mut deliveries) = (Vec::new(), Vec::new());
    if staff {
        for record in state.store.firings(None, N_RECENT).await? {
            let firing = &record.firing;
            escalations.push(EscalationRow {
                at: lang.date_time(firing.fired_at, &page.zone),
                href: ticket_href(&firing.key.ticket),
                ticket: firing.key.ticket.clone(),
                customer: firing.customer.clone().unwrap_or_default(),
                metric: metric_text(lang, &firing.key.metric).to_owned(),
                what: if firing.key.rung < 0 {
                    lang.t("ui.dash.breach").to_owned()
                } else {
                    lang.fill("ui.dash.rung", &[("threshold", &firing.threshold)])
                },
            });
        }
        for delivery in state.store.deliveries(None, None, N_RECENT).await? {
            deliveries.push(DeliveryRow {
                at: lang.date_time(delivery.sent_at.unwrap_or(delivery.created_at), &page.zone),
                ticket: delivery.key.ticket.clone(),
                recipient: delivery.recipient.clone(),
                channel: delivery.channel.clone(),
                status: match delivery.status.as_str() {
                    "sent" => lang.t("ui.dash.sent"),
                    "failed" => lang.t("ui.dash.failed"),
                    _ => lang.t("ui.dash.pending"),
                }
                .to_owned(),
            });
        }
    }

    let local_today = now.to_zoned(page.zone.clone()).date();
    let reviews = state
        .clocks
        .with_catalog(&state.store, |catalog| reviews(catalog, principal, lang, local_today))
        .await?;

    let mut watermelons = Vec::new();
    if sees_figures {
        let request = Request {
            customer: scope,
            period: last_month.clone(),
            format: Format::Json,
            position: None,
            as_of: None,
        };
        match report::compute(&state.store, &state.reports.settings, &request, now).await {
            Ok(computed) => {
                for customer in &computed.customers {
                    for flag in &customer.watermelons {
                        watermelons.push(WatermelonRow {
                            customer: customer.display_name.clone(),
                            service: flag.service.clone(),
                            reason: flag.reason.clone(),
                        });
                    }
                }
            }
            Err(report::ReportError::UnknownCustomer(_)) => {}
            Err(error) => {
                tracing::warn!(%error, "dashboard: watermelons");
                problems.push(lang.t("ui.dash.watermelons_failed").to_owned());
            }
        }
    }

    let html = DashboardPage {
        lang,
        css: CSS,
        title: lang.t("ui.dash.title"),
        nav: Nav::new(&page, &headers, "/dashboard"),
        staff,
        at_risk,
        breached,
        upcoming,
        budgets,
        budgets_heading: lang.fill("ui.dash.budgets", &[("period", &this_month)]),
        escalations,
        deliveries,
        reviews,
        watermelons,
        watermelons_heading: lang.fill("ui.dash.watermelons", &[("period", &last_month)]),
        problems,
        zone: i18n::zone_name(&page.zone).to_owned(),
        updated: lang.date_time(now, &page.zone),
    }
    .render()
    .map_err(|error| ApiError::internal(&error))?;
    let query = page.path.split_once('?').map(|(_, query)| query);
    Ok(html_response(StatusCode::OK, lang, query, html))
}

/// `2026-11`.
fn period_of(date: Date) -> String {
    format!("{:04}-{:02}", date.year(), date.month())
}

fn ticket_href(ticket: &str) -> String {
    format!("/tickets/{}", percent_encode(ticket))
}

fn metric_text(lang: Lang, metric: &str) -> &'static str {
    match metric {
        "response" => lang.t("ui.metric.response"),
        "next_response" => lang.t("ui.metric.next_response"),
        "resolution" => lang.t("ui.metric.resolution"),
        "update" => lang.t("ui.metric.update"),
        "request" => lang.t("ui.metric.request"),
        _ => lang.t("ui.metric.other"),
    }
}

/// `1 h 05 min`, `3 d 4 h`, `12 min`: to the minute, the two largest units.
fn duration_text(lang: Lang, duration: SignedDuration) -> String {
    let minutes = duration.as_secs().unsigned_abs() / 60;
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    let text = if days > 0 {
        lang.fill("ui.dur.dh", &[("d", &days.to_string()), ("h", &hours.to_string())])
    } else if hours > 0 {
        lang.fill("ui.dur.hm", &[("h", &hours.to_string()), ("m", &format!("{mins:02}"))])
    } else {
        lang.fill("ui.dur.m", &[("m", &mins.to_string())])
    };
    if duration.is_negative() { format!("−{text}") } else { text }
}

/// At risk, breached now, and the next deadlines, of the clocks the principal sees.
async fn clocks(
    state: &AppState,
    page: &Page,
    now: Timestamp,
) -> Result<(Vec<ClockRow>, Vec<ClockRow>, Vec<ClockRow>), ApiError> {
    let principal = &page.principal;
    let lang = page.lang;
    // (deadline, row, at risk, breached)
    let mut rows = state
        .clocks
        .read(&state.store, |engine| {
            let mut rows = Vec::new();
            for ticket in engine.tickets() {
                let ticket_state = &ticket.state;
                let customer = ticket_state.customer.as_deref();
                if !principal.sees_data_of(customer) {
                    continue;
                }
                for view in ticket_state.views(now) {
                    let cycle = &view.cycle;
                    let open = cycle.stop.is_none();
                    let breached = open && view.state == ClockState::Breached;
                    let target = cycle.target.as_secs();
                    let elapsed = cycle.elapsed.as_secs();
                    let at_risk = open
                        && !breached
                        && cycle.running
                        && target > 0
                        && elapsed.saturating_mul(4) > target.saturating_mul(3);
                    let Some(deadline) = view.deadline else { continue };
                    if !open || !(cycle.running || breached) {
                        continue;
                    }
                    let used = if target > 0 { elapsed.saturating_mul(100) / target } else { 0 };
                    let row = ClockRow {
                        ticket: ticket.id.to_string(),
                        href: ticket_href(&ticket.id),
                        customer: customer.unwrap_or_default().to_owned(),
                        priority: ticket_state.priority.as_deref().unwrap_or_default().to_owned(),
                        metric: metric_text(lang, view.metric.as_str()),
                        deadline: lang.date_time(deadline, &page.zone),
                        relative: relative(lang, deadline.duration_since(now)),
                        // Long-breached clocks read as "over 999 %", not a number nobody
                        // can take in; the deadline beside it says how long ago.
                        used: if used > 999 { "> 999 %".to_owned() } else { format!("{used} %") },
                    };
                    rows.push((deadline, row, at_risk, breached));
                }
            }
            rows
        })
        .await?;
    rows.sort_by(|a, b| (a.0, &a.1.ticket).cmp(&(b.0, &b.1.ticket)));
    let (mut at_risk, mut breached, mut upcoming) = (Vec::new(), Vec::new(), Vec::new());
    for (_, row, is_at_risk, is_breached) in rows {
        if is_breached {
            breached.push(row);
        } else if is_at_risk {
            at_risk.push(row);
        } else if upcoming.len() < N_DEADLINES {
            upcoming.push(row);
        }
    }
    Ok((at_risk, breached, upcoming))
}

/// `in 1 h 05 min` ahead, `12 min ago` behind.
fn relative(lang: Lang, until: SignedDuration) -> String {
    let text = duration_text(lang, until.abs());
    if until.is_negative() {
        lang.fill("ui.dur.ago", &[("d", &text)])
    } else {
        lang.fill("ui.dur.in", &[("d", &text)])
    }
}

/// The budget row of a time-based availability objective; other kinds have no budget in time.
fn budget_row(
    lang: Lang,
    measurement: &crate::availability_cmd::Measurement,
    now: Timestamp,
) -> Option<BudgetRow> {
    let Figures::Availability { outcome: AvailabilityOutcome::Time(figures), .. } =
        &measurement.figures
    else {
        return None;
    };
    let budget = &figures.budget;
    let (start, end) = (measurement.range.start(), measurement.range.end());
    let period = end.duration_since(start).as_secs_f64();
    let elapsed = now.duration_since(start).as_secs_f64().clamp(0.0, period);
    let allowed = budget.allowed.as_secs_f64();
    let consumed = budget.consumed.as_secs_f64();
    // How fast the budget goes, against the pace that spends it exactly at the period's end.
    let burn = (allowed > 0.0 && elapsed > 0.0).then(|| (consumed / allowed) / (elapsed / period));
    let class = if budget.remaining.is_negative() {
        "bad"
    } else if burn.is_some_and(|burn| burn > 1.0) {
        "warn"
    } else {
        "ok"
    };
    Some(BudgetRow {
        customer: measurement.customer.clone(),
        objective: format!("{} · {}", measurement.service, measurement.name),
        availability: lang.percent(figures.availability),
        target: figures.target.to_string(),
        remaining: duration_text(lang, budget.remaining),
        burn: burn.map_or_else(|| "–".to_owned(), |burn| format!("{burn:.1}×")),
        class,
    })
}

/// The agreements the principal sees that are due for review, or end, within
/// [`REVIEW_AHEAD_DAYS`] of `today` (overdue reviews too), soonest first.
fn reviews(catalog: &Catalog, principal: &Principal, lang: Lang, today: Date) -> Vec<ReviewRow> {
    let horizon = today.checked_add(REVIEW_AHEAD_DAYS.days()).unwrap_or(today);
    let mut rows: Vec<(Date, ReviewRow)> = Vec::new();
    for (name, agreement) in &catalog.agreements {
        let customer = agreement.parties.customer.as_ref().map(|c| c.value.as_str());
        if !principal.sees_data_of(customer) {
            continue;
        }
        let Some(term) = &agreement.term else { continue };
        let term = &term.value;
        let mut push = |date: Date, what: &'static str, overdue: bool| {
            rows.push((
                date,
                ReviewRow {
                    agreement: agreement.meta.title.clone().unwrap_or_else(|| name.clone()),
                    href: format!("/agreements/{}", percent_encode(name)),
                    customer: customer.unwrap_or_default().to_owned(),
                    what: lang.t(what),
                    date: lang.date(date),
                    overdue,
                },
            ));
        };
        if let Some(next) = term.next_review
            && next <= horizon
        {
            push(next, "ui.dash.review", next < today);
        }
        if let Some(until) = term.effective_until
            && today <= until
            && until <= horizon
        {
            push(until, "ui.dash.expires", false);
        }
    }
    rows.sort_by(|a, b| (a.0, &a.1.agreement).cmp(&(b.0, &b.1.agreement)));
    rows.into_iter().map(|(_, row)| row).collect()
}
