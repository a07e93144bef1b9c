//! Scheduled compliance reports: each customer's `reporting` term (`docs/agreements.md`) makes
//! the report of every period, e-mailed with its files attached to the customer's `reports`
//! contacts and the term's `recipients`, once, whatever the number of server nodes.
//!
//! Separate from the escalation scheduler because it watches the calendar, not the clocks: it
//! reads the agreements in force (again when the store's catalog version changes), resolves
//! each customer's effective schedule per service and region, and keeps one schedule per
//! customer and period length. It sleeps until the earliest due instant (at most
//! [`IDLE`]). A due report is claimed in the store before anything is sent
//! (`Store::claim_report_send`: the node whose insert wins sends), generated with
//! `crate::report` (every format from one computation, so all files name the same log
//! position), and sent through the notifications' SMTP relay; a failure is retried with the
//! notifications' back-off on the same row (`Store::claim_report_retries`), regenerated
//! byte for byte from the recorded position and instant.
//!
//! A report is sent at most [`CATCH_UP`] after it fell due, or after the agreement asking
//! for it was first activated, whichever is later: after a longer downtime the missed period is
//! skipped, and an agreement activated mid-period sends the latest period's report at once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use accord_core::access::{Role, Scope};
use accord_core::agreement::{self, Catalog, ContactRole, Query, ReportEvery, Reporting};
use accord_core::lifecycle::LifecycleState;
use accord_store::{AfterAttempt, NewReportSend, ReportEvidence, ReportFile, ReportSend};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query as QueryParams, State};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::availability::query;
use super::error::ApiError;
use super::notify::{self, Mailer, NotifyConfig, Outcome};
use crate::report::{self, Format, ReportError, Request};
use crate::revision_cmd;

/// The longest the scheduler sleeps: agreements applied on any node are read within this.
const IDLE: Duration = Duration::from_secs(5);
/// How often failed sends are looked at for a retry.
const RETRY_LOOK: SignedDuration = SignedDuration::from_secs(30);
/// How late a report may still be sent (`report_catch_up_days`, fixed at 7).
const CATCH_UP: SignedDuration = SignedDuration::from_hours(7 * 24);
/// How long a node holds a report it sends: generating it reads the whole event log.
const LEASE: SignedDuration = SignedDuration::from_mins(15);
/// How many retries one look takes.
const ROUND: u32 = 5;

/// One customer's schedule for one period length, merged over its services and regions.
#[derive(Clone, Debug, PartialEq)]
struct Schedule {
    customer: String,
    zone: TimeZone,
    reporting: Reporting,
    /// The customer's `reports` contacts and the schedule's `recipients`, each once.
    recipients: Vec<String>,
    /// The agreements that write the schedule.
    agreements: BTreeSet<String>,
    /// The first activation of the earliest of them: lateness is counted from no earlier.
    in_force_since: Option<Timestamp>,
}

/// Every customer's schedules in `catalog` (the agreements in force at `now`): one per customer
/// and period length. Services (and regions) with the same period length combine: their
/// formats and recipients add up, and the earliest day and time wins.
fn schedules(catalog: &Catalog, now: Timestamp) -> Vec<Schedule> {
    let mut merged: BTreeMap<(String, ReportEvery), Schedule> = BTreeMap::new();
    for (name, customer) in &catalog.customers {
        let on = now.to_zoned(customer.time_zone.clone()).date();
        let regions = customer.regions();
        // No region, or the only one, resolves by default; several each on their own.
        let regions: Vec<Option<&str>> =
            if regions.len() <= 1 { vec![None] } else { regions.into_iter().map(Some).collect() };
        for service in catalog.services.keys() {
            for region in &regions {
                let query = Query { customer: name, service, region: *region, site: None, on };
                let Ok(effective) = agreement::resolve(catalog, &query) else { continue };
                let Some(reporting) = effective.terms.reporting else { continue };
                // Replaced as a whole: the most specific agreement that writes one wins.
                let writer = effective.applied.iter().rev().find(|applied| {
                    catalog
                        .agreements
                        .get(&applied.name)
                        .is_some_and(|a| a.terms.reporting.is_some())
                });
                let reporting = reporting.value;
                let key = (name.clone(), reporting.every);
                let schedule = merged.entry(key).or_insert_with(|| Schedule {
                    customer: name.clone(),
                    zone: customer.time_zone.clone(),
                    reporting: reporting.clone(),
                    recipients: Vec::new(),
                    agreements: BTreeSet::new(),
                    in_force_since: None,
                });
                schedule.agreements.extend(writer.map(|applied| applied.name.clone()));
                let kept = &mut schedule.reporting;
                for format in &reporting.formats {
                    if !kept.formats.contains(format) {
                        kept.formats.push(*format);
                    }
                }
                for address in &reporting.recipients {
                    if !kept.recipients.contains(address) {
                        kept.recipients.push(address.clone());
                    }
                }
                if (reporting.day, reporting.at) < (kept.day, kept.at) {
                    (kept.day, kept.at) = (reporting.day, reporting.at);
                }
            }
        }
    }
    let mut out: Vec<Schedule> = merged.into_values().collect();
    for schedule in &mut out {
        let customer = &catalog.customers[&schedule.customer];
        let contacts = customer
            .contacts
            .iter()
            .filter(|contact| contact.roles.contains(&ContactRole::Reports))
            .filter_map(|contact| contact.email.clone());
        let mut seen = HashSet::new();
        schedule.recipients = contacts
            .chain(schedule.reporting.recipients.iter().cloned())
            .filter(|address| seen.insert(address.to_lowercase()))
            .collect();
    }
    out
}

/// What the scheduler keeps between passes.
#[derive(Default)]
struct Plan {
    /// The catalog version and hour the schedules were read at.
    read_at: Option<(i64, i64)>,
    schedules: Vec<Schedule>,
    /// `(customer, period)` this node is done with: claimed (by any node), or not to be sent.
    decided: HashSet<(String, String)>,
    /// When failed sends are looked at next.
    next_retry_look: Option<Timestamp>,
    /// Whether the missing relay was said already.
    said_no_relay: bool,
}

/// Sends scheduled reports until `stop` is set.
pub(super) async fn run(
    state: AppState,
    config: NotifyConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mailer = notify::configured_mailer(&config);
    let mut plan = Plan::default();
    loop {
        let now = Timestamp::now();
        if let Err(error) = refresh(&state, &mut plan, now).await {
            tracing::warn!(%error, "reading the reporting schedules failed; trying again");
        }
        let next_due = pass(&state, &config, mailer.as_ref(), &mut plan, now).await;
        let wake = next_due.into_iter().chain(plan.next_retry_look).min();
        let idle =
            Duration::try_from(wake.map_or(SignedDuration::MAX, |at| at.duration_since(now)))
                .unwrap_or_default()
                .min(IDLE);
        tokio::select! {
            () = tokio::time::sleep(idle.max(Duration::from_millis(50))) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Reads the schedules again when the catalog changed, and every hour (terms start and end by
/// date).
async fn refresh(state: &AppState, plan: &mut Plan, now: Timestamp) -> anyhow::Result<()> {
    let version = state.store.catalog_version().await?;
    let read_at = (version, now.as_second() / 3600);
    if plan.read_at == Some(read_at) {
        return Ok(());
    }
    let today = now.to_zoned(TimeZone::UTC).date();
    let catalog = revision_cmd::active_catalog(&state.store, today, today, now)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut schedules = schedules(&catalog, now);
    let mut first_active: HashMap<String, Option<Timestamp>> = HashMap::new();
    for schedule in &mut schedules {
        for name in &schedule.agreements {
            if !first_active.contains_key(name) {
                let transitions = state.store.transitions("Agreement", name).await?;
                let first = transitions
                    .iter()
                    .filter(|t| t.to == LifecycleState::Active && t.effective_at <= now)
                    .map(|t| t.effective_at)
                    .min();
                first_active.insert(name.clone(), first);
            }
            let first = first_active[name];
            schedule.in_force_since = match (schedule.in_force_since, first) {
                (Some(since), Some(first)) => Some(since.min(first)),
                (since, first) => since.or(first),
            };
        }
    }
    if schedules != plan.schedules {
        tracing::info!(n_schedules = schedules.len(), "reporting schedules read");
    }
    plan.schedules = schedules;
    plan.read_at = Some(read_at);
    Ok(())
}

/// Claims and sends the reports due at `now`, then retries failed ones when it is time;
/// returns the next instant a report falls due.
async fn pass(
    state: &AppState,
    config: &NotifyConfig,
    mailer: Option<&Mailer>,
    plan: &mut Plan,
    now: Timestamp,
) -> Option<Timestamp> {
    let mut next_due: Option<Timestamp> = None;
    let mut due = Vec::new();
    for schedule in &plan.schedules {
        let reporting = &schedule.reporting;
        if let Some(next) = reporting.next_due(&schedule.zone, now) {
            next_due = Some(next_due.map_or(next, |due| due.min(next)));
        }
        let Some(period) = reporting.latest_due(&schedule.zone, now) else { continue };
        let key = (schedule.customer.clone(), period.label.clone());
        if plan.decided.contains(&key) {
            continue;
        }
        let counted_from =
            schedule.in_force_since.map_or(period.due_at, |at| at.max(period.due_at));
        if now.duration_since(counted_from) > CATCH_UP {
            tracing::info!(
                customer = %schedule.customer, period = %period.label, due_at = %period.due_at,
                "a scheduled report is more than 7 days late: not sent"
            );
            plan.decided.insert(key);
            continue;
        }
        if schedule.recipients.is_empty() {
            tracing::warn!(
                customer = %schedule.customer, period = %period.label,
                "a scheduled report has no recipients (no contact with role reports, no \
                 reporting.recipients): not sent"
            );
            plan.decided.insert(key);
            continue;
        }
        due.push((key, schedule, period));
    }
    // Without a relay nothing is claimed: a node with one (or this one, configured) sends.
    let Some(mailer) = mailer else {
        if !due.is_empty() && !plan.said_no_relay {
            tracing::warn!("scheduled reports are due, but no SMTP relay is configured (smtp_url)");
            plan.said_no_relay = true;
        }
        return next_due;
    };
    let mut decided = Vec::new();
    for (key, schedule, period) in due {
        let send = NewReportSend {
            customer: schedule.customer.clone(),
            period: period.label.clone(),
            every: schedule.reporting.every.as_str().to_owned(),
            due_at: period.due_at,
            formats: schedule.reporting.formats.iter().map(|f| f.as_str().to_owned()).collect(),
            recipients: schedule.recipients.clone(),
        };
        match state.store.claim_report_send(&send, &config.node, now, LEASE).await {
            Ok(true) => {
                tracing::info!(customer = %send.customer, period = %send.period, "report claimed");
                decided.push(key);
                attempt(state, config, mailer, &send, None, 0).await;
            }
            Ok(false) => decided.push(key),
            Err(error) => {
                tracing::warn!(%error, "claiming a scheduled report failed; trying again")
            }
        }
    }
    plan.decided.extend(decided);
    if plan.next_retry_look.is_none_or(|at| at <= now) {
        plan.next_retry_look = Some(now + RETRY_LOOK);
        match state.store.claim_report_retries(&config.node, now, LEASE, ROUND).await {
            Ok(claimed) => {
                for retry in claimed {
                    let evidence = retry.evidence.as_ref();
                    attempt(state, config, mailer, &retry.send, evidence, retry.attempts).await;
                }
            }
            Err(error) => tracing::warn!(%error, "leasing scheduled reports to retry failed"),
        }
    }
    next_due
}

/// One attempt at the report `send`, after `attempts` earlier ones: generated (from `evidence`
/// when an earlier attempt recorded it), sent, and the outcome recorded.
async fn attempt(
    state: &AppState,
    config: &NotifyConfig,
    mailer: &Mailer,
    send: &NewReportSend,
    evidence: Option<&ReportEvidence>,
    attempts: u32,
) {
    let (outcome, evidence) = match build(state, config, send, evidence).await {
        Ok((message, evidence)) => (notify::send_message(mailer, message).await, Some(evidence)),
        Err(outcome) => (outcome, evidence.cloned()),
    };
    let at = Timestamp::now();
    let after = notify::after_attempt(config, &outcome, attempts + 1, at);
    let (customer, period) = (&send.customer, &send.period);
    match after {
        AfterAttempt::Sent => tracing::info!(%customer, %period, "scheduled report sent"),
        _ => tracing::warn!(
            %customer, %period, code = ?outcome.code,
            error = outcome.error.as_deref().unwrap_or_default(), "scheduled report not sent"
        ),
    }
    let error = outcome.error.as_deref();
    let recorded = state
        .store
        .finish_report_send(customer, period, at, evidence.as_ref(), outcome.code, error, after)
        .await;
    if let Err(error) = recorded {
        tracing::warn!(%error, %customer, %period, "recording a scheduled report failed");
    }
}

/// The report of `send` and its e-mail: every format rendered from one computation (at the
/// recorded position and instant on a retry), signed when the server signs reports.
async fn build(
    state: &AppState,
    config: &NotifyConfig,
    send: &NewReportSend,
    evidence: Option<&ReportEvidence>,
) -> Result<(lettre::Message, ReportEvidence), Outcome> {
    let settings = &state.reports.settings;
    let request = Request {
        customer: Some(send.customer.clone()),
        period: send.period.clone(),
        format: Format::Json,
        position: evidence.map(|evidence| evidence.position),
        as_of: evidence.map(|evidence| evidence.as_of),
    };
    let computed = report::compute(&state.store, settings, &request, Timestamp::now()).await;
    let computed = computed.map_err(|error| {
        let permanent = !matches!(error, ReportError::Internal(_));
        Outcome { code: None, error: Some(format!("generating the report: {error}")), permanent }
    })?;
    let figures: Value = serde_json::from_slice(&report::render(&computed, settings, Format::Json))
        .unwrap_or_default();
    let mut attachments = Vec::new();
    let mut files = Vec::new();
    for name in &send.formats {
        let Some(format) = Format::parse(name) else {
            return Err(Outcome {
                code: None,
                error: Some(format!("unknown report format {name:?}")),
                permanent: true,
            });
        };
        let report::Generated { bytes, file_name, sha256, .. } =
            report::package(&computed, settings, format);
        files.push(ReportFile {
            format: format.extension().to_owned(),
            file_name: file_name.clone(),
            sha256,
            bytes: bytes.len() as u64,
        });
        if let Some(key) = &state.reports.signing_key {
            let as_of = computed.as_of.to_string();
            let signature = key.sign(&file_name, &bytes, computed.position, &as_of);
            attachments.push((file_name.clone(), format.content_type(), bytes));
            attachments.push((
                format!("{file_name}.sig"),
                "application/json",
                signature.into_bytes(),
            ));
        } else {
            attachments.push((file_name, format.content_type(), bytes));
        }
    }
    let evidence = ReportEvidence { position: computed.position, as_of: computed.as_of, files };
    let signed = state.reports.signing_key.is_some();
    let body = body(send, &figures, &evidence, signed);
    let subject = format!(
        "Service level report {}: {}",
        period_title(&send.period),
        display_name(send, &figures)
    );
    let message = message(&config.smtp_from, &send.recipients, &subject, body, attachments)
        .map_err(|error| Outcome { code: None, error: Some(error), permanent: true })?;
    Ok((message, evidence))
}

/// `October 2026`, `Q4 2026`, `2026`.
fn period_title(period: &str) -> String {
    if let Some((year, quarter)) = period.split_once("-Q") {
        return format!("Q{quarter} {year}");
    }
    match jiff::civil::Date::strptime("%Y-%m-%d", format!("{period}-01")) {
        Ok(first) if period.len() == 7 => first.strftime("%B %Y").to_string(),
        _ => period.to_owned(),
    }
}

/// The customer's name as the report shows it (its legal name, else its name).
fn display_name(send: &NewReportSend, figures: &Value) -> String {
    figures["customers"][0]["displayName"].as_str().unwrap_or(&send.customer).to_owned()
}

/// The e-mail's text: the key figures from the report's JSON, and the evidence.
fn body(send: &NewReportSend, figures: &Value, evidence: &ReportEvidence, signed: bool) -> String {
    let customer = &figures["customers"][0];
    let count = |key: &str| customer[key].as_u64().unwrap_or(0);
    let credits: Vec<String> = customer["creditTotals"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(currency, minor)| Some((currency, minor.as_i64()?)))
        .filter(|(_, minor)| *minor != 0)
        .map(|(currency, minor)| report::model::format_minor(minor, currency))
        .collect();
    let (mut n_ratings, mut n_satisfied) = (0, 0);
    for row in customer["satisfaction"].as_array().into_iter().flatten() {
        n_ratings += row["ratings"].as_u64().unwrap_or(0);
        n_satisfied += row["satisfied"].as_u64().unwrap_or(0);
    }
    let satisfaction = if n_ratings == 0 {
        "no ratings".to_owned()
    } else {
        let share = n_satisfied as f64 * 100.0 / n_ratings as f64;
        let plural = if n_ratings == 1 { "rating" } else { "ratings" };
        format!("{share:.1}% satisfied ({n_ratings} {plural})")
    };
    let mut text = format!(
        "Hello,\n\nattached is the service level report of {} for {}.\n\n\
         Objectives judged: {}, missed: {}\n\
         Service credits: {}\n\
         Customer satisfaction: {satisfaction}\n\n\
         Evidence: computed from event log position {} as of {}.\n\
         SHA-256 of the attached files:\n",
        display_name(send, figures),
        period_title(&send.period),
        count("objectivesJudged"),
        count("objectivesMissed"),
        if credits.is_empty() { "none".to_owned() } else { credits.join(", ") },
        evidence.position,
        evidence.as_of,
    );
    for file in &evidence.files {
        text.push_str(&format!("  {}  {}\n", file.sha256, file.file_name));
    }
    let format = evidence.files.first().map_or("pdf", |file| file.format.as_str());
    text.push_str(&format!(
        "\nThe same bytes can be computed again from the event log:\n  accord report \
         --customer {} --period {} --position {} --as-of {} --format {format}\n",
        send.customer, send.period, evidence.position, evidence.as_of
    ));
    if signed {
        text.push_str(
            "Each .sig file is the provider's signature of the file it names; check it with \
             accord report verify FILE.\n",
        );
    }
    text
}

/// The e-mail: one message to every recipient, the text first, then the files.
fn message(
    from: &str,
    recipients: &[String],
    subject: &str,
    body: String,
    attachments: Vec<(String, &str, Vec<u8>)>,
) -> Result<lettre::Message, String> {
    let from: Mailbox = from.parse().map_err(|error| format!("smtp_from {from:?}: {error}"))?;
    let mut builder = lettre::Message::builder().from(from).subject(subject);
    for address in recipients {
        let to: Mailbox =
            address.parse().map_err(|error| format!("address {address:?}: {error}"))?;
        builder = builder.to(to);
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body));
    for (file_name, content_type, bytes) in attachments {
        let content_type = ContentType::parse(content_type)
            .map_err(|error| format!("content type {content_type:?}: {error}"))?;
        // Base64 keeps the bytes exact (their SHA-256 is the evidence): a text transfer
        // encoding would let relays and mailboxes rewrite the CSV's line ends.
        let body = Body::new_with_encoding(bytes, ContentTransferEncoding::Base64)
            .map_err(|_| "base64 encodes any bytes".to_owned())?;
        parts = parts.singlepart(Attachment::new(file_name).body(body, content_type));
    }
    builder.multipart(parts).map_err(|error| error.to_string())
}

// ---------------------------------------------------------------------------------------------
// The route.

/// The filters of the send log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SendQuery {
    customer: Option<String>,
    limit: Option<u32>,
}

fn send_json(send: &ReportSend) -> Value {
    let evidence = send.evidence.as_ref();
    let files: Vec<Value> = evidence
        .map(|evidence| {
            evidence
                .files
                .iter()
                .map(|file| {
                    json!({ "format": file.format, "fileName": file.file_name,
                        "sha256": file.sha256, "bytes": file.bytes })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "customer": send.send.customer,
        "period": send.send.period,
        "every": send.send.every,
        "dueAt": send.send.due_at.to_string(),
        "formats": send.send.formats,
        "recipients": send.send.recipients,
        "status": send.status,
        "attempts": send.attempts,
        "nextAttemptAt": (send.status == "pending").then(|| send.next_attempt_at.to_string()),
        "lastCode": send.last_code,
        "lastError": send.last_error,
        "claimedAt": send.claimed_at.to_string(),
        "claimedBy": send.claimed_by,
        "sentAt": send.sent_at.map(|at| at.to_string()),
        "logPosition": evidence.map(|evidence| evidence.position),
        "asOf": evidence.map(|evidence| evidence.as_of.to_string()),
        "files": files,
    })
}

/// `GET /api/v1/report-sends[?customer=C][&limit=N]` (scope `read`): the scheduled reports
/// claimed, newest first, with their recipients, status, attempts and evidence; a customer
/// principal sees its own customer's only, and another customer is "not found".
pub(super) async fn get_report_sends(
    State(state): State<AppState>,
    auth: Auth,
    send_query: Result<QueryParams<SendQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require(Scope::Read)?;
    let send_query = query(send_query)?;
    let limit = send_query.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::field("limit", "expected 1 to 1000"));
    }
    let customer = match (send_query.customer, &principal.customer) {
        (Some(customer), _) if !principal.sees_customer(&customer) => {
            return Err(ApiError {
                field: Some("customer".to_owned()),
                ..ApiError::not_found(format!("no customer {customer}"))
            });
        }
        (Some(customer), _) => Some(customer),
        (None, Some(bound)) => Some(bound.clone()),
        (None, None) if principal.role == Role::Customer => {
            return Err(ApiError::forbidden("this token is bound to no customer"));
        }
        (None, None) => None,
    };
    let sends = state.store.report_sends(customer.as_deref(), limit).await?;
    let sends: Vec<Value> = sends.iter().map(send_json).collect();
    Ok(Json(json!({ "sends": sends })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_as_words() {
        assert_eq!(period_title("2026-10"), "October 2026");
        assert_eq!(period_title("2026-Q4"), "Q4 2026");
        assert_eq!(period_title("2026"), "2026");
    }

    #[test]
    fn the_body_gives_the_key_figures_and_the_evidence() {
        let send = NewReportSend {
            customer: "acme".into(),
            period: "2026-10".into(),
            every: "month".into(),
            due_at: Timestamp::UNIX_EPOCH,
            formats: vec!["pdf".into()],
            recipients: vec!["ann@acme.example".into()],
        };
        let figures = json!({ "customers": [{
            "displayName": "Acme Corporation", "objectivesJudged": 6, "objectivesMissed": 1,
            "creditTotals": { "EUR": 125_000 },
            "satisfaction": [{ "ratings": 10, "satisfied": 9 }, { "ratings": 5, "satisfied": 4 }],
        }]});
        let evidence = ReportEvidence {
            position: 42,
            as_of: "2026-11-01T00:00:00Z".parse().unwrap(),
            files: vec![ReportFile {
                format: "pdf".into(),
                file_name: "accord-acme-2026-10.pdf".into(),
                sha256: "ab".repeat(32),
                bytes: 10,
            }],
        };
        let text = body(&send, &figures, &evidence, true);
        expect_test::expect![[r#"
            Hello,

            attached is the service level report of Acme Corporation for October 2026.

            Objectives judged: 6, missed: 1
            Service credits: 1,250.00 EUR
            Customer satisfaction: 86.7% satisfied (15 ratings)

            Evidence: computed from event log position 42 as of 2026-11-01T00:00:00Z.
            SHA-256 of the attached files:
              abababababababababababababababababababababababababababababababab  accord-acme-2026-10.pdf

            The same bytes can be computed again from the event log:
              accord report --customer acme --period 2026-10 --position 42 --as-of 2026-11-01T00:00:00Z --format pdf
            Each .sig file is the provider's signature of the file it names; check it with accord report verify FILE.
        "#]]
        .assert_eq(&text);
    }

    #[test]
    fn one_schedule_per_customer_and_period_length_whatever_the_services() {
        let documents = r"apiVersion: accord/v1
kind: Service
metadata: { name: desk }
spec: {}
---
apiVersion: accord/v1
kind: Service
metadata: { name: hosting }
spec: {}
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec:
  timeZone: Europe/Berlin
  contacts:
    - { name: Ann, email: ann@acme.example, roles: [reports] }
    - { name: Bob, email: bob@acme.example, roles: [escalation] }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: corporate }
spec:
  type: sla
  level: corporate
  reporting: { every: month, formats: [pdf], day: 3, recipients: [ANN@acme.example] }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: acme-hosting }
spec:
  type: sla
  level: service
  parties: { customer: acme }
  covers: { services: [hosting] }
  reporting: { every: month, formats: [csv], day: 2, at: '09:00', recipients: [audit@acme.example] }
";
        let input = accord_format::catalog::Input {
            path: "catalog.yaml".into(),
            first_line: 1,
            text: documents.to_owned(),
            files: None,
        };
        let catalog = accord_format::catalog::load(&[input]).unwrap().catalog;
        let found = schedules(&catalog, "2026-11-22T12:00:00Z".parse().unwrap());
        assert_eq!(found.len(), 1, "{found:#?}");
        let schedule = &found[0];
        assert_eq!(
            schedule.reporting.to_string(),
            "every month on day 2 at 09:00, as pdf, csv, also to ANN@acme.example, audit@acme.example"
        );
        assert_eq!(schedule.recipients, ["ann@acme.example", "audit@acme.example"]);
        let agreements: Vec<&str> = schedule.agreements.iter().map(String::as_str).collect();
        assert_eq!(agreements, ["acme-hosting", "corporate"]);
    }
}
