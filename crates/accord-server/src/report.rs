//! Compliance reports: what one customer (or the whole provider) was promised over a period,
//! what was measured, what it cost, and how satisfied the customers were; computed from the
//! event log up to a recorded position, rendered as JSON, CSV, HTML or PDF.
//!
//! A report's bytes depend only on the store's contents up to its log position and its
//! as-of instant, both printed in it: `accord report --position P --as-of T` recomputes the
//! same bytes, and their SHA-256 is the evidence (signed with the installation's Ed25519 key
//! when one is configured).

pub(crate) mod doc;
pub(crate) mod html;
pub(crate) mod layout;
pub(crate) mod model;
pub(crate) mod pdf;
pub(crate) mod sign;
pub(crate) mod svg;
pub(crate) mod tabular;

use std::collections::BTreeMap;

use accord_core::agreement::Catalog;
use accord_core::availability::parse_period;
use accord_core::clock::{Engine, TermsSource, Ticket};
use accord_store::Store;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use crate::availability_cmd::Sources;
use crate::revision_cmd::{self, StoreTerms};

/// A report's file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Structured data.
    Json,
    /// One row per figure.
    Csv,
    /// A self-contained page with SVG charts.
    Html,
    /// Laid out for print, with the same charts.
    Pdf,
}

impl Format {
    /// Every format, as `parse` reads them.
    pub(crate) const NAMES: &'static str = "json, csv, html or pdf";

    /// `pdf` → `Format::Pdf`.
    pub(crate) fn parse(text: &str) -> Option<Format> {
        match text.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "html" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }

    /// The file extension.
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Pdf => "pdf",
        }
    }

    /// The media type.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
        }
    }
}

/// What to report on.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    /// One customer, or every customer (the provider-wide report).
    pub(crate) customer: Option<String>,
    /// `2026-10`, `2026-Q4` or `2026`.
    pub(crate) period: String,
    /// The format.
    pub(crate) format: Format,
    /// The log position to compute from (default: the log's head).
    pub(crate) position: Option<u64>,
    /// The instant the figures are as of (default: the period's end, or now while it runs).
    pub(crate) as_of: Option<Timestamp>,
}

/// Installation-wide report settings.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The provider's name, at the top of every report.
    pub(crate) issuer: String,
    /// CSAT (percent satisfied) below which a met SLA is flagged as a watermelon.
    pub(crate) csat_threshold: f64,
    /// Fewest ratings in a period for its CSAT to count.
    pub(crate) min_ratings: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { issuer: "Accord".to_owned(), csat_threshold: 80.0, min_ratings: 3 }
    }
}

/// The server's report configuration.
#[derive(Clone, Debug, Default)]
pub struct ReportConfig {
    /// Issuer and watermelon threshold.
    pub(crate) settings: Settings,
    /// The key reports are signed with, when one is configured.
    pub(crate) signing_key: Option<std::sync::Arc<sign::SigningKey>>,
}

/// Configurations are equal when they make the same reports with the same key.
impl PartialEq for ReportConfig {
    fn eq(&self, other: &ReportConfig) -> bool {
        self.settings.issuer == other.settings.issuer
            && self.settings.csat_threshold.to_bits() == other.settings.csat_threshold.to_bits()
            && self.settings.min_ratings == other.settings.min_ratings
            && self.signing_key.as_ref().map(|key| key.public_base64())
                == other.signing_key.as_ref().map(|key| key.public_base64())
    }
}

impl Eq for ReportConfig {}

/// A rendered report and its evidence.
#[derive(Clone, Debug)]
pub(crate) struct Generated {
    /// The bytes.
    pub(crate) bytes: Vec<u8>,
    /// The format.
    pub(crate) format: Format,
    /// `accord-acme-2026-10.pdf`.
    pub(crate) file_name: String,
    /// The SHA-256 of `bytes`, lowercase hex.
    pub(crate) sha256: String,
    /// The last event-log position folded in.
    pub(crate) position: u64,
    /// The instant the figures are as of.
    pub(crate) as_of: Timestamp,
}

/// Why a report cannot be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReportError {
    /// No such customer in the agreements in force over the period.
    #[error("customer {0:?} has no agreement in force in the period")]
    UnknownCustomer(String),
    /// A request field is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field (`period`, `position`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// SHA-256 of `bytes` as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut out, byte| {
        use std::fmt::Write as _;
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// How many events one read of the log takes.
const PAGE: u32 = 10_000;

/// Folds every event of the log up to `position` into a fresh engine over `terms` (the
/// store's agreement revisions for a report; a draft's for `accord backtest`).
pub(crate) async fn fold<T: TermsSource>(
    store: &Store,
    position: u64,
    terms: T,
) -> anyhow::Result<Engine<T>> {
    let mut engine = Engine::new(terms);
    let mut after = 0;
    while after < position {
        let events = store.events_after(after, PAGE).await?;
        let Some(last) = events.last() else { break };
        after = last.position;
        for stored in events.iter().filter(|stored| stored.position <= position) {
            if let Some(event) = crate::server::clocks::ticket_event(&stored.body) {
                engine.apply(event);
            }
        }
        if events.len() < PAGE as usize {
            break;
        }
    }
    Ok(engine)
}

/// The labels of the months of `period` (`2026-Q4` → `2026-10`, `2026-11`, `2026-12`).
fn months_of(period: &str) -> Vec<String> {
    let Ok((_, range)) = parse_period(period, &TimeZone::UTC) else { return Vec::new() };
    let mut months = Vec::new();
    let mut date = range.start().to_zoned(TimeZone::UTC).date().first_of_month();
    let end = range.end().to_zoned(TimeZone::UTC).date();
    while date < end {
        months.push(format!("{:04}-{:02}", date.year(), date.month()));
        let Ok(next) = date.checked_add(jiff::Span::new().months(1)) else { break };
        date = next;
    }
    months
}

/// Computes the report `request` asks for, as of `now`, and renders it.
///
/// # Errors
///
/// An unknown customer, a bad period or position, or a store error.
pub(crate) async fn generate(
    store: &Store,
    settings: &Settings,
    request: &Request,
    now: Timestamp,
) -> Result<Generated, ReportError> {
    let report = compute(store, settings, request, now).await?;
    Ok(package(&report, settings, request.format))
}

/// A computed report rendered in `format`, with its file name and evidence.
pub(crate) fn package(report: &model::Report, settings: &Settings, format: Format) -> Generated {
    let bytes = render(report, settings, format);
    let scope = report.customer.as_deref().unwrap_or("provider");
    Generated {
        sha256: sha256_hex(&bytes),
        file_name: format!("accord-{scope}-{}.{}", report.period, format.extension()),
        bytes,
        format,
        position: report.position,
        as_of: report.as_of,
    }
}

/// Renders a computed report.
pub(crate) fn render(report: &model::Report, settings: &Settings, format: Format) -> Vec<u8> {
    match format {
        Format::Json => tabular::json(report).into_bytes(),
        Format::Csv => tabular::csv(report).into_bytes(),
        Format::Html => html::render(&layout::doc(report, settings)).into_bytes(),
        Format::Pdf => pdf::render(&layout::doc(report, settings)),
    }
}

/// Computes the figures `request` asks for, as of `now`.
///
/// # Errors
///
/// As [`generate`].
pub(crate) async fn compute(
    store: &Store,
    settings: &Settings,
    request: &Request,
    now: Timestamp,
) -> Result<model::Report, ReportError> {
    let period = request.period.as_str();
    let (_, utc_range) = parse_period(period, &TimeZone::UTC)
        .map_err(|message| ReportError::Invalid { field: "period", message })?;
    let head = store.log_head().await.map_err(anyhow::Error::from)?;
    let position = match request.position {
        Some(position) if position > head => {
            return Err(ReportError::Invalid {
                field: "position",
                message: format!("{position} is past the log's last position {head}"),
            });
        }
        Some(position) => position,
        None => head,
    };
    let as_of = request.as_of.unwrap_or_else(|| final_at(utc_range, now));
    let catalog = revision_cmd::catalog_in_force(store, period, as_of)
        .await
        .map_err(|error| ReportError::Internal(anyhow::anyhow!(error)))?;
    if let Some(customer) = &request.customer
        && !catalog.customers.contains_key(customer)
    {
        return Err(ReportError::UnknownCustomer(customer.clone()));
    }
    let sources = crate::availability_cmd::recorded_sources(store, &catalog, period, as_of).await?;
    let terms = StoreTerms::read(store, "the store".to_owned()).await?;
    let engine = fold(store, position, terms).await?;
    let customer = request.customer.clone();
    let period_owned = period.to_owned();
    let settings = settings.clone();
    let report = tokio::task::spawn_blocking(move || {
        let tickets: Vec<&Ticket> = engine.tickets().collect();
        let basis = Basis { catalog: &catalog, sources: &sources, tickets: &tickets, position };
        figures(&basis, &settings, customer.as_deref(), &period_owned, as_of)
    })
    .await
    .map_err(|error| ReportError::Internal(anyhow::anyhow!(error)))??;
    Ok(report)
}

/// The instant a period's figures are final: its end in the latest zone (14 hours after
/// UTC's), or `now` while it runs.
pub(crate) fn final_at(utc_range: accord_core::calendar::TimeRange, now: Timestamp) -> Timestamp {
    let end = utc_range
        .end()
        .checked_add(jiff::SignedDuration::from_hours(14))
        .unwrap_or(utc_range.end());
    now.min(end)
}

/// What a report's figures are computed from, once read: the catalog in force (or a draft
/// one), its observations and the folded tickets.
pub(crate) struct Basis<'a> {
    /// The agreements the figures are judged by.
    pub(crate) catalog: &'a Catalog,
    /// The observations over the period for that catalog's sources.
    pub(crate) sources: &'a Sources,
    /// Every folded ticket.
    pub(crate) tickets: &'a [&'a Ticket],
    /// The last log position folded in.
    pub(crate) position: u64,
}

/// The figures of `period` from `basis`, without I/O: availability measured per period and
/// month, then the report model.
///
/// # Errors
///
/// A period that is not one.
pub(crate) fn figures(
    basis: &Basis<'_>,
    settings: &Settings,
    customer: Option<&str>,
    period: &str,
    as_of: Timestamp,
) -> anyhow::Result<model::Report> {
    let measure = |label: &str| {
        crate::availability_cmd::measure(basis.catalog, label, customer, basis.sources, as_of)
    };
    let measurements = measure(period)?;
    let mut monthly = BTreeMap::new();
    for month in months_of(period) {
        monthly.insert(month.clone(), measure(&month)?);
    }
    let inputs = model::Inputs2 {
        catalog: basis.catalog,
        measurements: &measurements,
        monthly: &monthly,
        tickets: basis.tickets,
        csat_threshold: settings.csat_threshold,
        min_ratings: settings.min_ratings,
    };
    model::compute(&inputs, customer, period, as_of, basis.position)
        .map_err(|message| anyhow::anyhow!(message))
}
