//! `GET /reports`: the compliance report of a customer and period to download (PDF, HTML,
//! CSV, JSON from `/api/v1/reports`, which takes the session cookie), and the period's credit
//! ledger and watermelon flags shown on the page. Like the agreement pages it calls the API's
//! handlers (`reports::get_credits`, `reports::get_watermelons`) with the viewer's principal:
//! a customer sees its own customer only, and asking for another is a 404 page.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::{ToSpan, Zoned};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::agreement_pages::{api_query, html, json_of, message_page, text_of};
use super::auth::Auth;
use super::catalog;
use super::error::ApiError;
use super::nav::Nav;
use super::page::{Page, percent_encode};
use super::reports;
use crate::report::model::format_minor;
use crate::web::CSS;
use crate::web::i18n::{self, Lang};

/// The query of `GET /reports`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ReportsQuery {
    customer: Option<String>,
    period: Option<String>,
    format: Option<String>,
}

/// The formats a report downloads in, as `/api/v1/reports` names them.
const FORMATS: [&str; 4] = ["pdf", "html", "csv", "json"];

struct CreditLine {
    rule: String,
    evidence: String,
    amount: String,
}

struct CreditRow {
    customer: String,
    month: String,
    service: String,
    lines: Vec<CreditLine>,
    total: String,
}

struct Flag {
    customer: String,
    service: String,
    reason: String,
}

struct Choice {
    value: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    lang: Lang,
    nav: Nav,
    css: &'static str,
    title: &'static str,
    customers: Vec<Choice>,
    period: String,
    formats: Vec<Choice>,
    download: String,
    view: String,
    credits: Vec<CreditRow>,
    totals: Vec<String>,
    flags: Vec<Flag>,
    zone: String,
}

/// What a credit line rests on, in a few words: the tickets whose clocks breached, or the
/// figures of the availability it was judged on.
fn evidence_text(evidence: &Value) -> String {
    if let Some(ticket) = evidence["ticket"].as_str() {
        let n_breaches = evidence["breaches"].as_array().map_or(0, Vec::len);
        return format!("{ticket} ({n_breaches})");
    }
    match evidence {
        Value::Object(fields) => fields
            .iter()
            .filter(|(_, value)| !value.is_array() && !value.is_object() && !value.is_null())
            .map(|(key, value)| format!("{key}: {}", text_of(value)))
            .collect::<Vec<_>>()
            .join(", "),
        other => text_of(other),
    }
}

/// `GET /reports[?customer=C][&period=2026-10][&format=pdf]`: the report form, links and
/// the credit ledger of the period (last month unless asked).
pub(super) async fn get_reports(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    reports_query: Result<Query<ReportsQuery>, QueryRejection>,
) -> Response {
    let lang = page.lang;
    let fail =
        |error: &ApiError| message_page(lang, Some(Nav::new(&page, &headers, "/reports")), error);
    let asked = reports_query.map(|Query(asked)| asked).unwrap_or_default();
    let principal = &page.principal;
    let last_month = Zoned::now()
        .with_time_zone(page.zone.clone())
        .date()
        .first_of_month()
        .checked_sub(1.month())
        .map(|date| format!("{:04}-{:02}", date.year(), date.month()))
        .unwrap_or_default();
    let period = asked.period.filter(|period| !period.is_empty()).unwrap_or(last_month);
    // Another customer than the viewer's own is the API's 404.
    let customer =
        asked.customer.filter(|customer| !customer.is_empty()).or(principal.customer.clone());
    let format = asked.format.filter(|format| FORMATS.contains(&format.as_str()));
    let format = format.unwrap_or_else(|| "pdf".to_owned());

    let mut pairs = vec![("period", period.as_str())];
    if let Some(customer) = &customer {
        pairs.push(("customer", customer));
    }
    let auth = || Auth(principal.clone());
    let credits =
        match json_of(reports::get_credits(State(state.clone()), auth(), api_query(&pairs)).await)
            .await
        {
            Ok(credits) => credits,
            Err(error) => return fail(&error),
        };
    let watermelons = match json_of(
        reports::get_watermelons(State(state.clone()), auth(), api_query(&pairs)).await,
    )
    .await
    {
        Ok(watermelons) => watermelons,
        Err(error) => return fail(&error),
    };

    let mut rows = Vec::new();
    let mut totals = Vec::new();
    for listed in credits["customers"].as_array().into_iter().flatten() {
        let name = text_of(&listed["customer"]);
        for row in listed["credits"].as_array().into_iter().flatten() {
            let lines = row["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|line| CreditLine {
                    rule: text_of(&line["rule"]),
                    evidence: evidence_text(&line["evidence"]),
                    amount: text_of(&line["amount"]),
                })
                .collect();
            rows.push(CreditRow {
                customer: name.clone(),
                month: text_of(&row["month"]),
                service: text_of(&row["service"]),
                lines,
                total: text_of(&row["total"]),
            });
        }
        for (currency, minor) in listed["creditTotals"].as_object().into_iter().flatten() {
            let amount = format_minor(minor.as_i64().unwrap_or(0), currency);
            totals.push(format!("{name}: {amount}"));
        }
    }
    let flags = watermelons["watermelons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|flag| Flag {
            customer: text_of(&flag["customer"]),
            service: text_of(&flag["service"]),
            reason: text_of(&flag["reason"]),
        })
        .collect();

    let customers = if principal.customer.is_none() {
        let listed = json_of(catalog::customers(State(state.clone()), auth()).await).await;
        let mut choices = vec![Choice { value: String::new(), selected: customer.is_none() }];
        for listed in listed.iter().flat_map(|listed| listed["customers"].as_array()).flatten() {
            let value = text_of(&listed["name"]);
            let selected = customer.as_deref() == Some(value.as_str());
            choices.push(Choice { value, selected });
        }
        choices
    } else {
        Vec::new()
    };
    let link = |format: &str| {
        let mut link =
            format!("/api/v1/reports?period={}&format={format}", percent_encode(&period));
        if let Some(customer) = &customer {
            link.push_str(&format!("&customer={}", percent_encode(customer)));
        }
        link
    };
    let reports_page = ReportsPage {
        lang,
        nav: Nav::new(&page, &headers, "/reports"),
        css: CSS,
        title: lang.t("agp.reports"),
        customers,
        formats: FORMATS
            .iter()
            .map(|known| Choice { value: (*known).to_owned(), selected: *known == format })
            .collect(),
        download: link(&format),
        view: link("html"),
        period,
        credits: rows,
        totals,
        flags,
        zone: i18n::zone_name(&page.zone).to_owned(),
    };
    html(&page, &reports_page)
}
