//! Accord's own satisfaction survey: after a ticket is solved, its requester gets an e-mail
//! with a signed one-time link to a one-click rating page that needs no sign-in.
//!
//! Three parts, each beside the code it rides on. The escalation scheduler, which already looks
//! at every ticket events touched, hands this module the tickets it finds solved (`Watch`);
//! `record` reads the requester's address from the ticket's `created` event (its extra
//! field `requester`) and records one survey per ticket in the store, so across nodes exactly
//! one is recorded and a ticket solved again after a reopen gets none. The notification worker
//! calls `send_due`, which leases due surveys, cancels those of tickets open again, and sends
//! the rest through the same SMTP code as notifications. `GET /survey/{token}` shows the
//! rating page without changing anything (mail scanners open links), and `POST` appends a
//! `rating` event with the id `survey:{ticket}` through the event writer and marks the link
//! used.
//!
//! A token is `base64url(payload).base64url(HMAC-SHA256(key, payload))`, where the payload is
//! the JSON array `[ticket, customer, expiry in Unix seconds, nonce]` and the key is derived
//! from the installation's `survey_secret` (else its `webhook_secret`). The nonce is stored
//! with the survey: a link is accepted only for the survey it was made for.

use std::collections::HashSet;
use std::path::Path as FilePath;
use std::sync::Arc;

use accord_core::clock::{EventKind, TicketEvent, TicketState};
use accord_format::events::{parse_event, to_json};
use accord_format::notifications::{SurveySettings, parse_notifications};
use accord_store::{AfterAttempt, NewSurvey, StoredEvent, Survey};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit as _, Mac as _};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use super::ingest::OwnedEvent;
use super::notify::{self, Mailer, NotifyConfig, Outcome};

/// The survey settings of the configuration: where requesters reach the server, and the
/// secret links are signed with.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SurveyConfig {
    /// The server's address as a requester's browser reaches it, without a trailing slash:
    /// `https://accord.example`.
    pub public_url: Option<String>,
    /// The installation's secret the link key is derived from.
    pub secret: Option<String>,
}

/// Shows no secret.
impl std::fmt::Debug for SurveyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SurveyConfig")
            .field("public_url", &self.public_url)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl SurveyConfig {
    /// The settings, `public_url` checked and without its trailing slash.
    ///
    /// # Errors
    ///
    /// A `public_url` that is not an `http://` or `https://` URL without query or fragment.
    pub fn new(public_url: Option<String>, secret: Option<String>) -> anyhow::Result<SurveyConfig> {
        let public_url = match public_url {
            Some(url) => {
                let trimmed = url.trim().trim_end_matches('/');
                let host = trimmed
                    .strip_prefix("https://")
                    .or_else(|| trimmed.strip_prefix("http://"))
                    .unwrap_or_default();
                if host.is_empty() || host.starts_with('/') || trimmed.contains(['?', '#', ' ']) {
                    anyhow::bail!(
                        "public_url: {url:?}: expected http://HOST[:PORT][/PATH] or https://..., \
                         as the requesters' browsers reach the server"
                    );
                }
                Some(trimmed.to_owned())
            }
            None => None,
        };
        Ok(SurveyConfig { public_url, secret: secret.filter(|secret| !secret.is_empty()) })
    }
}

/// What makes and checks survey links: the key derived from the secret, and the public URL.
#[derive(Clone)]
pub struct Links {
    key: Option<[u8; 32]>,
    public_url: Option<String>,
}

/// Shows no key.
impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links")
            .field("key", &self.key.map(|_| "[redacted]"))
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// What the link key is derived with, so it never equals the raw secret (which may also sign
/// webhooks) and a webhook signature is never a valid link.
const KEY_LABEL: &[u8] = b"accord survey link v1";

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn hmac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("invariant: HMAC takes a key of any length")
}

/// A link's content, once its signature is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Link {
    ticket: String,
    customer: String,
    expires_at: Timestamp,
    nonce: String,
}

/// Why a token is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// Not a token this installation signed (cut off, changed, or made elsewhere).
    Invalid,
    /// Signed, but past its expiry.
    Expired,
}

impl Links {
    /// The links of `config`.
    pub fn new(config: &SurveyConfig) -> Links {
        let key = config.secret.as_ref().map(|secret| {
            let mut mac = hmac(secret.as_bytes());
            mac.update(KEY_LABEL);
            mac.finalize().into_bytes().into()
        });
        Links { key, public_url: config.public_url.clone() }
    }

    /// The token of `link`; `None` without a secret.
    fn token(&self, link: &Link) -> Option<String> {
        let key = self.key?;
        let expires = link.expires_at.as_second();
        let payload = json!([link.ticket, link.customer, expires, link.nonce]).to_string();
        let mut mac = hmac(&key);
        mac.update(payload.as_bytes());
        let signature = mac.finalize().into_bytes();
        Some(format!("{}.{}", base64url(payload.as_bytes()), base64url(&signature)))
    }

    /// The page's address for `link`; `None` without a secret or a public URL.
    fn url(&self, link: &Link) -> Option<String> {
        Some(format!("{}/survey/{}", self.public_url.as_ref()?, self.token(link)?))
    }

    /// The link `token` carries, if this installation signed it and it has not expired at
    /// `now`. The signature is checked first, in constant time, and nothing of the payload is
    /// believed before.
    pub(super) fn check(&self, token: &str, now: Timestamp) -> Result<Link, Refusal> {
        let key = self.key.ok_or(Refusal::Invalid)?;
        let (payload, signature) = token.split_once('.').ok_or(Refusal::Invalid)?;
        let payload = base64url_decode(payload).ok_or(Refusal::Invalid)?;
        let signature = base64url_decode(signature).ok_or(Refusal::Invalid)?;
        let mut mac = hmac(&key);
        mac.update(&payload);
        mac.verify_slice(&signature).map_err(|_| Refusal::Invalid)?;
        let (ticket, customer, expires, nonce): (String, String, i64, String) =
            serde_json::from_slice(&payload).map_err(|_| Refusal::Invalid)?;
        let expires_at = Timestamp::from_second(expires).map_err(|_| Refusal::Invalid)?;
        if now >= expires_at {
            return Err(Refusal::Expired);
        }
        Ok(Link { ticket, customer, expires_at, nonce })
    }

    fn can_sign(&self) -> bool {
        self.key.is_some() && self.public_url.is_some()
    }
}

/// RFC 4648 §5 base64url without padding.
fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads unpadded base64url; `None` for anything else.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// A random nonce, the token id: 16 bytes in base64url.
fn nonce() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(base64url(&bytes))
}

// ---------------------------------------------------------------------------------------------
// Finding solved tickets and recording their surveys.

/// What the escalation scheduler keeps for surveys between passes.
#[derive(Default)]
pub(super) struct Watch {
    /// Tickets found solved since the last [`record`]: when, and their customer.
    found: Vec<(Arc<str>, Timestamp, Option<Arc<str>>)>,
    /// Tickets this node is done with: their survey is recorded (by any node), or they get
    /// none.
    decided: HashSet<Arc<str>>,
}

impl Watch {
    /// Notes `ticket` if it is solved (or closed) and not decided yet; called for every ticket
    /// a scheduler pass looks at.
    pub(super) fn look(&mut self, id: &Arc<str>, state: &TicketState) {
        if self.decided.contains(id) {
            return;
        }
        if let Some(solved_at) = solved_at(state) {
            self.found.push((id.clone(), solved_at, state.customer.clone()));
        }
    }
}

/// When a ticket that is not open now stopped being open: its first `solved` or `closed`
/// status since it was created or last reopened.
fn solved_at(state: &TicketState) -> Option<Timestamp> {
    if state.open {
        return None;
    }
    let since = state.reopened_at.or(state.created_at)?;
    state
        .statuses
        .iter()
        .find(|(at, status)| *at >= since && matches!(&**status, "solved" | "closed"))
        .map(|(at, _)| *at)
}

/// The requester's e-mail address: the `requester` field of the ticket's `created` event.
fn requester(events: &[StoredEvent]) -> Option<String> {
    events.iter().filter(|event| event.kind == "created").find_map(|event| {
        let body: Value = serde_json::from_str(&event.body).ok()?;
        let address = body.get("requester")?.as_str()?.trim().to_owned();
        address.parse::<lettre::Address>().is_ok().then_some(address)
    })
}

/// The ticket's `created` event as JSON, for the e-mail's context.
fn created(events: &[StoredEvent]) -> Value {
    events
        .iter()
        .find(|event| event.kind == "created")
        .and_then(|event| serde_json::from_str(&event.body).ok())
        .unwrap_or(Value::Null)
}

/// Whether the ticket is open after its events (in the engine's order).
fn is_open(events: &[StoredEvent]) -> bool {
    let mut parsed: Vec<TicketEvent> = events
        .iter()
        .filter_map(|stored| {
            let value: Value = serde_json::from_str(&stored.body).ok()?;
            parse_event(&value).ok().map(|(event, _)| event)
        })
        .collect();
    parsed.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    parsed.iter().fold(false, |open, event| match event.kind {
        EventKind::Created(_) | EventKind::Reopened { .. } => true,
        EventKind::Solved | EventKind::Closed => false,
        _ => open,
    })
}

/// Records the surveys of the tickets `watch` found solved, as `settings` say: one per ticket,
/// due `after` the solve. A solve found longer than `escalation_max_age_seconds` after its
/// survey was due (history loaded late, or surveys turned on later) gets none, as stale
/// escalations notify nobody.
pub(super) async fn record(
    state: &AppState,
    config: &NotifyConfig,
    settings: &SurveySettings,
    watch: &mut Watch,
    now: Timestamp,
) {
    let found = std::mem::take(&mut watch.found);
    if !settings.enabled {
        return;
    }
    let mut recorded_any = false;
    for (ticket, solved_at, customer) in found {
        let due_at = solved_at.checked_add(settings.after).unwrap_or(solved_at);
        let Some(customer) = customer.filter(|customer| settings.covers(customer)) else {
            watch.decided.insert(ticket);
            continue;
        };
        if now.duration_since(due_at) > config.max_age {
            watch.decided.insert(ticket);
            continue;
        }
        if !state.survey.can_sign() {
            tracing::warn!(
                %ticket,
                "the survey is on, but survey links need public_url and survey_secret (or \
                 webhook_secret): no survey for this ticket"
            );
            watch.decided.insert(ticket);
            continue;
        }
        let events = match state.store.ticket_events(&ticket).await {
            Ok(events) => events,
            Err(error) => {
                tracing::warn!(%error, %ticket, "reading the ticket for its survey failed");
                watch.found.push((ticket, solved_at, Some(customer)));
                continue;
            }
        };
        let Some(address) = requester(&events) else {
            watch.decided.insert(ticket);
            continue;
        };
        let nonce = match nonce() {
            Ok(nonce) => nonce,
            Err(error) => {
                tracing::warn!(%error, "no random bytes for a survey link");
                watch.found.push((ticket, solved_at, Some(customer)));
                continue;
            }
        };
        let expires_at = due_at.max(now).checked_add(settings.expires).unwrap_or(due_at);
        let survey = NewSurvey {
            ticket: ticket.to_string(),
            customer: customer.to_string(),
            address,
            nonce,
            solved_at,
            due_at,
            expires_at,
        };
        match state.store.record_survey(&survey, &config.node, now).await {
            Ok(recorded) => {
                if recorded {
                    tracing::info!(%ticket, due_at = %due_at, "survey recorded");
                    recorded_any = true;
                }
                watch.decided.insert(ticket);
            }
            Err(error) => {
                tracing::warn!(%error, %ticket, "recording a survey failed; trying again");
                watch.found.push((ticket, solved_at, Some(customer)));
            }
        }
    }
    if recorded_any {
        state.deliveries_waiting.notify_one();
    }
}

// ---------------------------------------------------------------------------------------------
// Sending.

/// How many surveys one round takes.
const ROUND: u32 = 20;

/// The built-in subject.
const DEFAULT_SUBJECT: &str = "How did we do on ticket {{ ticket }}?";

/// The built-in message.
const DEFAULT_BODY: &str = "Hello,

your ticket {{ ticket }}{% if external_ref %} ({{ external_ref }}){% endif %} has been solved. \
How satisfied are you with how we handled it?

One click rates it, no sign-in needed:
{{ link }}

The link works once, until {{ expires_date }}.
";

/// Renders the survey e-mail's subject (its first line) and message.
fn render(
    settings: &SurveySettings,
    context: &Value,
) -> Result<(String, String), (String, String)> {
    let mut env = minijinja::Environment::new();
    // Plain text: nothing is escaped.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    let templates = &settings.templates;
    let subject = templates.subject.as_deref().unwrap_or(DEFAULT_SUBJECT);
    let body = templates.body.as_deref().unwrap_or(DEFAULT_BODY);
    let context = minijinja::Value::from(minijinja::value::Serde(context));
    let mut out = Vec::with_capacity(2);
    for (name, source) in [("subject", subject), ("body", body)] {
        let field = || format!("survey.templates.{name}");
        let template = env.template_from_str(source).map_err(|e| (field(), e.to_string()))?;
        out.push(template.render(&context).map_err(|e| (field(), e.to_string()))?);
    }
    let body = out.pop().unwrap_or_default();
    let subject = out.pop().unwrap_or_default().lines().next().unwrap_or_default().trim().into();
    Ok((subject, body))
}

/// What the survey's templates see.
fn context(survey: &NewSurvey, created: &Value, link: &str) -> Value {
    json!({
        "ticket": survey.ticket,
        "external_ref": created.get("externalRef"),
        "customer": survey.customer,
        "service": created.get("service"),
        "priority": created.get("priority"),
        "requester": survey.address,
        "link": link,
        "solved_at": survey.solved_at.to_string(),
        "expires_at": survey.expires_at.to_string(),
        "expires_date": survey.expires_at.strftime("%Y-%m-%d").to_string(),
    })
}

/// Checks the survey settings of a `PUT /api/v1/notifications`: the templates compile and
/// render, and the customers named are in the catalog.
pub(super) async fn check(state: &AppState, settings: &SurveySettings) -> Result<(), ApiError> {
    let sample = NewSurvey {
        ticket: "T-1".to_owned(),
        customer: "acme".to_owned(),
        address: "ann@acme.example".to_owned(),
        nonce: "nonce".to_owned(),
        solved_at: Timestamp::UNIX_EPOCH,
        due_at: Timestamp::UNIX_EPOCH,
        expires_at: Timestamp::UNIX_EPOCH,
    };
    let created = json!({ "externalRef": "ZD-1", "service": "hosting", "priority": "P2" });
    render(settings, &context(&sample, &created, "https://accord.example/survey/TOKEN"))
        .map_err(|(field, message)| ApiError::field(field, message))?;
    if let Some(customers) = &settings.customers {
        let known: HashSet<String> = state
            .clocks
            .with_catalog(&state.store, |catalog| catalog.customers.keys().cloned().collect())
            .await?;
        for (idx, customer) in customers.iter().enumerate() {
            if !known.contains(customer) {
                return Err(ApiError::field(
                    format!("survey.customers[{idx}]"),
                    format!("no customer {customer} in the catalog"),
                ));
            }
        }
    }
    Ok(())
}

/// The survey section of the settings as the API shows it (and as their content hash covers).
pub(super) fn settings_json(settings: &SurveySettings) -> Value {
    json!({
        "enabled": settings.enabled,
        "afterSeconds": settings.after.as_secs(),
        "expiresSeconds": settings.expires.as_secs(),
        "customers": settings.customers,
        "templates": { "subject": settings.templates.subject, "body": settings.templates.body },
        "defaults": { "subject": DEFAULT_SUBJECT, "body": DEFAULT_BODY },
    })
}

/// Sends the surveys due now, for the notification worker's round: each is leased, cancelled
/// when its ticket is open again or surveys were turned off, else rendered and sent through
/// `mailer`, and the attempt recorded with the notifications' retry policy.
pub(super) async fn send_due(state: &AppState, config: &NotifyConfig, mailer: Option<&Mailer>) {
    let now = Timestamp::now();
    let claimed = match state.store.claim_surveys(&config.node, now, config.lease, ROUND).await {
        Ok(claimed) => claimed,
        Err(error) => {
            tracing::warn!(%error, "leasing surveys failed; trying again");
            return;
        }
    };
    if claimed.is_empty() {
        return;
    }
    let settings = match notify::SETTINGS.latest(state).await.map(|latest| {
        latest.map(|revision| {
            parse_notifications(FilePath::new(notify::SETTINGS.path), &revision.source_text)
        })
    }) {
        Ok(Some(Ok(settings))) => settings.survey,
        Ok(None) => SurveySettings::default(),
        Ok(Some(Err(errors))) => {
            tracing::warn!(%errors, "the stored notification settings do not parse");
            return;
        }
        Err(error) => {
            tracing::warn!(error = %error.message, "reading the notification settings failed");
            return;
        }
    };
    for survey in claimed {
        send(state, config, mailer, &settings, &survey).await;
    }
}

async fn send(
    state: &AppState,
    config: &NotifyConfig,
    mailer: Option<&Mailer>,
    settings: &SurveySettings,
    survey: &Survey,
) {
    let ticket = &survey.survey.ticket;
    let cancel = |reason: &'static str| async move {
        tracing::info!(%ticket, reason, "survey cancelled");
        if let Err(error) = state.store.cancel_survey(ticket, reason).await {
            tracing::warn!(%error, %ticket, "cancelling a survey failed");
        }
    };
    if !settings.enabled {
        return cancel("surveys were turned off before it was due").await;
    }
    let events = match state.store.ticket_events(ticket).await {
        Ok(events) => events,
        Err(error) => {
            // The lease runs out, and the survey is taken up again.
            tracing::warn!(%error, %ticket, "reading the ticket for its survey failed");
            return;
        }
    };
    if is_open(&events) {
        return cancel("the ticket was open again when the survey was due").await;
    }
    let link = Link {
        ticket: ticket.clone(),
        customer: survey.survey.customer.clone(),
        expires_at: survey.survey.expires_at,
        nonce: survey.survey.nonce.clone(),
    };
    let outcome = match (state.survey.url(&link), mailer) {
        (None, _) => retry("no survey_secret (or webhook_secret) or no public_url is configured"),
        (Some(_), None) => retry("no SMTP relay is configured (smtp_url)"),
        (Some(url), Some(mailer)) => {
            match render(settings, &context(&survey.survey, &created(&events), &url)) {
                Ok((subject, body)) => {
                    let address = &survey.survey.address;
                    notify::send_mail(mailer, &config.smtp_from, address, &subject, &body).await
                }
                Err((field, error)) => Outcome {
                    code: None,
                    error: Some(format!("the {field} template failed: {error}")),
                    permanent: true,
                },
            }
        }
    };
    let at = Timestamp::now();
    let after = notify::after_attempt(config, &outcome, survey.attempts + 1, at);
    match after {
        AfterAttempt::Sent => tracing::info!(%ticket, "survey sent"),
        _ => tracing::warn!(
            %ticket, code = ?outcome.code, error = outcome.error.as_deref().unwrap_or_default(),
            "survey not sent"
        ),
    }
    let error = outcome.error.as_deref();
    if let Err(error) = state.store.finish_survey(ticket, at, outcome.code, error, after).await {
        tracing::warn!(%error, %ticket, "recording a survey attempt failed");
    }
}

/// A failure that configuration can mend: tried again with the notifications' back-off.
fn retry(error: &str) -> Outcome {
    Outcome { code: None, error: Some(error.to_owned()), permanent: false }
}

// ---------------------------------------------------------------------------------------------
// The page.

/// The longest comment kept, in characters.
const MAX_COMMENT_CHARS: usize = 2000;

/// The five scores and their labels.
const SCORES: [(u8, &str); 5] = [
    (1, "Very dissatisfied"),
    (2, "Dissatisfied"),
    (3, "Neither satisfied nor dissatisfied"),
    (4, "Satisfied"),
    (5, "Very satisfied"),
];

/// The form the page posts.
#[derive(Debug, Deserialize)]
pub(super) struct Answer {
    score: Option<String>,
    comment: Option<String>,
}

/// `GET /survey/{token}` (anyone holding the link): the rating page, or why the link does not
/// work. Changes nothing: mail scanners and link previews open links.
pub(super) async fn get_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let (link, survey) = match open(&state, &token).await {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    if survey.used_at.is_some() {
        return already(StatusCode::OK, &link.ticket);
    }
    form(StatusCode::OK, &link, None, "")
}

/// `POST /survey/{token}` (anyone holding the link; a form with `score` 1-5 and an optional
/// `comment`): appends the rating and marks the link used; a second answer is refused with
/// the page that says the rating is recorded.
pub(super) async fn post_survey(
    State(state): State<AppState>,
    Path(token): Path<String>,
    answer: Result<Form<Answer>, FormRejection>,
) -> Response {
    let (link, survey) = match open(&state, &token).await {
        Ok(opened) => opened,
        Err(refused) => return refused,
    };
    if survey.used_at.is_some() {
        return already(StatusCode::CONFLICT, &link.ticket);
    }
    let Ok(Form(answer)) = answer else {
        return form(StatusCode::BAD_REQUEST, &link, Some("Choose one of the five ratings."), "");
    };
    let comment = answer.comment.as_deref().map(str::trim).unwrap_or_default();
    let score = answer.score.as_deref().and_then(|score| score.trim().parse::<u8>().ok());
    let Some(score) = score.filter(|score| (1..=5).contains(score)) else {
        return form(
            StatusCode::BAD_REQUEST,
            &link,
            Some("Choose one of the five ratings."),
            comment,
        );
    };
    if comment.chars().count() > MAX_COMMENT_CHARS {
        let message = format!("The comment is longer than {MAX_COMMENT_CHARS} characters.");
        return form(StatusCode::BAD_REQUEST, &link, Some(&message), comment);
    }
    let now = Timestamp::now();
    let mut event = json!({
        "v": 1, "id": format!("survey:{}", link.ticket), "ticket": link.ticket, "type": "rating",
        "at": now.to_string(), "score": score, "source": "survey",
    });
    if !comment.is_empty() {
        event["comment"] = json!(comment);
    }
    let event = match parse_event(&event) {
        Ok((event, extra)) => OwnedEvent {
            id: event.id.to_string(),
            ticket: event.ticket.to_string(),
            at: event.at,
            kind: event.kind.as_str(),
            body: to_json(&event, &extra).to_string(),
        },
        Err((field, message)) => {
            tracing::error!(?field, message, "a survey rating is not a valid event");
            return failed();
        }
    };
    match super::events::append(&state, vec![event]).await {
        // The same event again (two clicks in the same microsecond) is a duplicate.
        Ok(answer) if answer["duplicates"] == 1 => {}
        Ok(_) => {
            tracing::info!(ticket = %link.ticket, score, "survey answered");
        }
        // The ticket's survey rating is in the log already (a second click, or a first answer
        // whose link was not marked used): refused as already rated.
        Err(error) if error.status == StatusCode::CONFLICT => {
            mark_used(&state, &link, now).await;
            return already(StatusCode::CONFLICT, &link.ticket);
        }
        Err(error) => {
            tracing::warn!(error = %error.message, ticket = %link.ticket, "a survey answer failed");
            return failed();
        }
    }
    mark_used(&state, &link, now).await;
    thanks(&link.ticket, score)
}

async fn mark_used(state: &AppState, link: &Link, now: Timestamp) {
    if let Err(error) = state.store.use_survey(&link.ticket, &link.nonce, now).await {
        tracing::warn!(%error, ticket = %link.ticket, "marking a survey link used failed");
    }
}

/// The link and its survey, or the page that says why the link does not work.
async fn open(state: &AppState, token: &str) -> Result<(Link, Survey), Response> {
    let link = match state.survey.check(token, Timestamp::now()) {
        Ok(link) => link,
        Err(Refusal::Invalid) => return Err(invalid()),
        Err(Refusal::Expired) => {
            return Err(page(
                StatusCode::GONE,
                "This link has expired",
                "<p>Survey links work for a limited time, and this one has run out. \
                 Thank you for wanting to tell us; you can still reach us through your service \
                 desk.</p>",
            ));
        }
    };
    match state.store.survey(&link.ticket).await {
        Ok(Some(survey))
            if survey.survey.nonce == link.nonce && survey.survey.customer == link.customer =>
        {
            Ok((link, survey))
        }
        Ok(_) => Err(invalid()),
        Err(error) => {
            tracing::warn!(%error, "reading a survey failed");
            Err(failed())
        }
    }
}

fn invalid() -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "This link is not valid",
        "<p>The link may have been cut off or changed on its way. \
         Open it again from the e-mail, or copy the whole link into the address bar.</p>",
    )
}

fn failed() -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Something went wrong on our side",
        "<p>Your rating was not recorded. Please try again in a few minutes.</p>",
    )
}

fn already(status: StatusCode, ticket: &str) -> Response {
    page(
        status,
        "Thank you, your rating is already recorded",
        &format!(
            "<p>A rating for ticket {} was already given through this link, and each link \
             rates once. Thank you for your feedback.</p>",
            escape(ticket)
        ),
    )
}

fn thanks(ticket: &str, score: u8) -> Response {
    let label = SCORES.iter().find(|(n, _)| *n == score).map_or("", |(_, label)| label);
    page(
        StatusCode::OK,
        "Thank you for your rating",
        &format!(
            "<p>We recorded your rating of ticket {}: <strong>{score} of 5, {}</strong>.</p>\
             <p>You can close this page.</p>",
            escape(ticket),
            escape(label)
        ),
    )
}

/// The rating page: one form, whose five buttons each submit it with their score, after the
/// optional comment.
fn form(status: StatusCode, link: &Link, error: Option<&str>, comment: &str) -> Response {
    let title = format!("How did we do on ticket {}?", link.ticket);
    page(status, &title, &form_content(link, error, comment))
}

fn form_content(link: &Link, error: Option<&str>, comment: &str) -> String {
    let ticket = escape(&link.ticket);
    let mut content = format!(
        "<p>Your ticket {ticket} has been solved. One click on a rating sends it; \
         no sign-in is needed.</p>"
    );
    if let Some(error) = error {
        content.push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>", escape(error)));
    }
    content.push_str(&format!(
        "<form method=\"post\">\
         <label for=\"comment\">Anything you want to tell us? (optional; write it before you \
         choose a rating)</label>\
         <textarea id=\"comment\" name=\"comment\" rows=\"4\" maxlength=\"{MAX_COMMENT_CHARS}\">{}</textarea>\
         <fieldset><legend>Your rating</legend><div class=\"scores\">",
        escape(comment)
    ));
    for (score, label) in SCORES {
        content.push_str(&format!(
            "<button type=\"submit\" name=\"score\" value=\"{score}\">\
             <span class=\"score\">{score}</span> {label}</button>"
        ));
    }
    content.push_str("</div></fieldset></form>");
    content.push_str(&format!(
        "<p class=\"hint\">This link rates once, until {}.</p>",
        link.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    ));
    content
}

/// The page's style: inline, so the page needs nothing else.
const STYLE: &str = "body{margin:0;background:#f3f4f6;color:#16181d;\
font:1.05rem/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
main{max-width:42rem;margin:2rem auto;padding:1.5rem 2rem 2rem;background:#fff;\
border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.15)}\
h1{font-size:1.6rem;line-height:1.25}\
label,legend{display:block;font-weight:600;margin:1.25rem 0 .5rem}\
textarea{box-sizing:border-box;width:100%;font:inherit;padding:.5rem;border:1px solid #6b7280;\
border-radius:8px}\
fieldset{border:0;margin:0;padding:0}\
.scores{display:grid;grid-template-columns:repeat(auto-fit,minmax(7rem,1fr));gap:.75rem}\
button{min-height:5.5rem;padding:.75rem .5rem;font:inherit;color:#16181d;background:#fff;\
border:2px solid #1f4f9c;border-radius:10px;cursor:pointer}\
button:hover{background:#e6eefa}\
button:focus-visible,textarea:focus-visible{outline:3px solid #16181d;outline-offset:2px}\
.score{display:block;font-size:1.9rem;font-weight:700;color:#1f4f9c}\
.error{padding:.75rem 1rem;background:#fdecea;border-left:4px solid #b3261e}\
.hint{color:#4b5058;font-size:.95rem}";

/// A whole page: `title` escaped, `content` as it is (the caller escapes what it puts in),
/// with headers that keep it out of caches, search engines, frames and other sites' referrers.
fn page(status: StatusCode, title: &str, content: &str) -> Response {
    page_headers((status, page_html(title, content)).into_response())
}

/// The HTML of a page.
fn page_html(title: &str, content: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex, nofollow\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main><h1>{title}</h1>{content}</main></body></html>\n",
        title = escape(title),
    )
}

fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        // The token is in the address: it must not travel on to other sites.
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Text for HTML, in element content and quoted attributes alike.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Links {
        Links::new(
            &SurveyConfig::new(Some("https://accord.example/".into()), Some("s3cret".into()))
                .unwrap(),
        )
    }

    fn link() -> Link {
        Link {
            ticket: "T-1".into(),
            customer: "acme".into(),
            expires_at: "2026-12-15T09:00:00Z".parse().unwrap(),
            nonce: "abc".into(),
        }
    }

    #[test]
    fn a_link_is_accepted_until_it_expires_and_refused_when_changed() {
        let links = links();
        let url = links.url(&link()).expect("a secret and a public URL");
        let token = url.strip_prefix("https://accord.example/survey/").expect("the public URL");
        let before: Timestamp = "2026-12-15T08:59:59Z".parse().unwrap();
        assert_eq!(links.check(token, before), Ok(link()));
        assert_eq!(links.check(token, link().expires_at), Err(Refusal::Expired));
        // Another payload under the same signature, a changed signature, garbage.
        let (payload, signature) = token.split_once('.').unwrap();
        let other = base64url(br#"["T-2","acme",1797325200,"abc"]"#);
        for tampered in [
            format!("{other}.{signature}"),
            format!("{payload}.{}", base64url(&[0; 32])),
            format!("{payload}.{}", &signature[1..]),
            token.replace('.', ""),
            "bogus".to_owned(),
            String::new(),
        ] {
            assert_eq!(links.check(&tampered, before), Err(Refusal::Invalid), "{tampered}");
        }
        // Another installation's secret.
        let elsewhere = Links::new(&SurveyConfig::new(None, Some("other".into())).unwrap())
            .check(token, before);
        assert_eq!(elsewhere, Err(Refusal::Invalid));
        // Without a secret, nothing is signed or accepted.
        let unsigned = Links::new(&SurveyConfig::default());
        assert_eq!(unsigned.url(&link()), None);
        assert_eq!(unsigned.check(token, before), Err(Refusal::Invalid));
    }

    #[test]
    fn base64url_reads_back_what_it_writes() {
        for length in 0..40 {
            let bytes: Vec<u8> = (0..length).map(|n| (n * 37 + 11) as u8).collect();
            assert_eq!(base64url_decode(&base64url(&bytes)), Some(bytes));
        }
        assert_eq!(base64url_decode("a"), None);
        assert_eq!(base64url_decode("ab+/"), None);
    }

    #[test]
    fn public_urls_are_checked() {
        let config = SurveyConfig::new(Some("https://accord.example/base/".into()), None).unwrap();
        assert_eq!(config.public_url.as_deref(), Some("https://accord.example/base"));
        for bad in ["accord.example", "https://", "ftp://x", "https://x/?a=1"] {
            assert!(SurveyConfig::new(Some(bad.into()), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        let mut link = link();
        link.ticket = "<script>alert('x')</script>".into();
        let content = form_content(&link, Some("a & b"), "</textarea><b>");
        let html = page_html(&format!("How did we do on ticket {}?", link.ticket), &content);
        assert!(!html.contains("<script>") && !html.contains("</textarea><b>"), "{html}");
        assert!(html.contains("<h1>How did we do on ticket &lt;script&gt;alert(&#39;x&#39;)"));
        assert!(html.contains(">a &amp; b</p>"), "{html}");
        assert_eq!(html.matches("<button type=\"submit\" name=\"score\"").count(), 5);
        assert_eq!(html.matches("<form").count(), 1);
        assert!(!html.contains("<script"), "no scripts: {html}");
        let response = form(StatusCode::OK, &link, None, "");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            HeaderValue::from_static("text/html; charset=utf-8")
        );
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
        let escaped = escape("<a href=\"x\">'&'</a>");
        assert_eq!(escaped, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    /// Stored events of one ticket, from `(id, type, minute, extra fields)`, in arrival order.
    fn stored(events: &[(&str, &str, u32, Value)]) -> Vec<StoredEvent> {
        events
            .iter()
            .enumerate()
            .map(|(idx, (id, kind, minute, extra))| {
                let at: Timestamp = format!("2026-12-01T09:{minute:02}:00Z").parse().unwrap();
                let mut body = json!({ "v": 1, "id": id, "ticket": "T-1", "type": kind,
                    "at": at.to_string() });
                for (name, value) in extra.as_object().into_iter().flatten() {
                    body[name] = value.clone();
                }
                StoredEvent {
                    position: idx as u64 + 1,
                    id: (*id).to_owned(),
                    ticket: "T-1".to_owned(),
                    at,
                    kind: (*kind).to_owned(),
                    body: body.to_string(),
                    received_at: at,
                }
            })
            .collect()
    }

    #[test]
    fn the_requester_comes_from_the_created_event_and_a_reopen_keeps_the_ticket_open() {
        let created = json!({ "customer": "acme", "service": "desk", "priority": "P2",
            "requester": " ann@acme.example " });
        let solved =
            stored(&[("e1", "created", 0, created.clone()), ("e2", "solved", 5, json!({}))]);
        assert_eq!(requester(&solved).as_deref(), Some("ann@acme.example"));
        assert!(!is_open(&solved));
        // Arrival order does not matter: the reopen is the latest event.
        let reopened = stored(&[
            ("e3", "reopened", 9, json!({})),
            ("e1", "created", 0, created.clone()),
            ("e2", "solved", 5, json!({})),
        ]);
        assert!(is_open(&reopened));
        let nobody = json!({ "customer": "acme", "service": "desk", "priority": "P2",
            "requester": "not an address" });
        assert_eq!(requester(&stored(&[("e1", "created", 0, nobody)])), None);
        let unnamed = json!({ "customer": "acme", "service": "desk", "priority": "P2" });
        assert_eq!(requester(&stored(&[("e1", "created", 0, unnamed)])), None);
    }

    #[test]
    fn the_built_in_e_mail_carries_the_link() {
        let survey = NewSurvey {
            ticket: "T-1".into(),
            customer: "acme".into(),
            address: "ann@acme.example".into(),
            nonce: "n".into(),
            solved_at: Timestamp::UNIX_EPOCH,
            due_at: Timestamp::UNIX_EPOCH,
            expires_at: "2026-12-15T09:00:00Z".parse().unwrap(),
        };
        let created = json!({ "externalRef": "ZD-7" });
        let context = context(&survey, &created, "https://accord.example/survey/x.y");
        let (subject, body) = render(&SurveySettings::default(), &context).unwrap();
        assert_eq!(subject, "How did we do on ticket T-1?");
        assert!(body.contains("your ticket T-1 (ZD-7) has been solved"), "{body}");
        assert!(body.contains("\nhttps://accord.example/survey/x.y\n"), "{body}");
        assert!(body.contains("until 2026-12-15."), "{body}");
    }
}
