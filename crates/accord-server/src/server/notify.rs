//! Notifications: the settings that say who the names in escalation ladders are, the message
//! templates, and the worker that delivers what the escalation scheduler recorded, by webhook
//! (a signed JSON POST) or e-mail (SMTP).
//!
//! Messages are rendered when their firing is recorded and stored whole, so what a recipient got
//! can be shown later, and every attempt (status, code, error) is kept. The worker leases due
//! deliveries from the store, so with several nodes each delivery is tried by one at a time; a
//! failure is retried with exponential back-off, up to `delivery_max_attempts`.

use std::path::Path as FilePath;
use std::time::Duration;

use accord_core::access::Scope;
use accord_format::notifications::{NotificationSettings, parse_notifications};
use accord_format::probes::http_url;
use accord_store::{AfterAttempt, Delivery, DeliveryAttempt};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use hmac::{KeyInit as _, Mac as _};
use jiff::{SignedDuration, Timestamp};
use lettre::AsyncTransport as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::availability::{
    Refused, SettingsDocument, body_bytes, body_text, media_type, query, unsupported,
};
use super::error::ApiError;
use crate::probe_cmd::{HttpRequest, http_request};

/// Where notification settings are kept.
pub(super) const SETTINGS: SettingsDocument =
    SettingsDocument { kind: "Notifications", name: "notifications", path: "notifications.yaml" };

/// The built-in subject.
const DEFAULT_SUBJECT: &str = "{% if kind == 'burn_rate' %}Burn-rate alert ({{ severity }}): {{ objective }} of {{ customer }} burning {{ burn_rate }}x\
{% elif kind == 'breach' %}Breached{% else %}Escalation at {{ threshold }}{% endif %}: \
{{ metric }} of {{ ticket }} ({{ customer }}, {{ priority }})";

/// The built-in message.
const DEFAULT_BODY: &str = "{% if kind == 'burn_rate' %}The {{ objective }} objective of {{ customer }} ({{ service }}) has burned its error budget at {{ burn_rate }}x the sustainable rate over {{ long }} and {{ short }} since {{ fired_at_local }}.

Availability this period: {{ availability }} (target {{ target }}); budget left: {{ budget_remaining }}.
{% else %}{% if kind == 'breach' %}The {{ metric }} objective of ticket {{ ticket }} was breached at {{ fired_at_local }}.\
{% else %}Ticket {{ ticket }} reached {{ threshold }} of its {{ metric }} target ({{ target }}) at {{ fired_at_local }}.\
{% if deadline_local %} It breaches at {{ deadline_local }} unless the clock stops first.{% endif %}{% endif %}

Customer: {{ customer }}
Service: {{ service }}
Priority: {{ priority }}
Cycle: {{ cycle }}
Terms: {{ revisions }}
{% endif %}";

/// The longest rendered subject and message kept.
const MAX_RENDERED: usize = 64 * 1024;

/// How the server notifies: its SMTP relay, webhook key, and retry policy.
#[derive(Clone, PartialEq, Eq)]
pub struct NotifyConfig {
    /// This node's name, in leases and attempt records.
    pub node: String,
    /// `smtp://HOST:PORT` (plain, for a local relay), `smtps://` (TLS) or
    /// `smtp://HOST:PORT?tls=required` (STARTTLS), with optional `USER:PASSWORD@`.
    pub smtp_url: Option<String>,
    /// The sender of e-mails.
    pub smtp_from: String,
    /// The key webhook bodies are signed with (HMAC-SHA256).
    pub webhook_secret: Option<String>,
    /// Firings found longer than this after they happened are recorded without a message.
    pub max_age: SignedDuration,
    /// The first retry's delay; each later one doubles it, up to an hour.
    pub retry_base: SignedDuration,
    /// Attempts before a delivery is given up.
    pub max_attempts: u32,
    /// How long a node holds the deliveries it took.
    pub lease: SignedDuration,
}

/// Shows no secret.
impl std::fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("node", &self.node)
            .field("smtp", &self.smtp_url.as_deref().map(redact_url))
            .field("smtp_from", &self.smtp_from)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "[redacted]"))
            .field("max_age", &self.max_age)
            .field("retry_base", &self.retry_base)
            .field("max_attempts", &self.max_attempts)
            .field("lease", &self.lease)
            .finish()
    }
}

impl Default for NotifyConfig {
    fn default() -> NotifyConfig {
        NotifyConfig {
            node: default_node_name(),
            smtp_url: None,
            smtp_from: "Accord <accord@localhost>".to_owned(),
            webhook_secret: None,
            max_age: SignedDuration::from_hours(1),
            retry_base: SignedDuration::from_secs(30),
            max_attempts: 8,
            lease: SignedDuration::from_mins(2),
        }
    }
}

/// `HOST-PID`: unique among the nodes of one database while they run.
pub fn default_node_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{}", std::process::id())
}

/// A URL with its password replaced.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:[redacted]{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Templates.

/// The message templates, compiled.
pub(super) struct Templates {
    env: minijinja::Environment<'static>,
}

impl Templates {
    /// The provider's templates over the built-in ones; an error names the template at fault.
    pub(super) fn new(settings: &NotificationSettings) -> Result<Templates, (String, String)> {
        let mut env = minijinja::Environment::new();
        // Plain text: nothing is escaped (webhook bodies are JSON-encoded afterwards).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        let subject =
            settings.templates.subject.clone().unwrap_or_else(|| DEFAULT_SUBJECT.to_owned());
        let body = settings.templates.body.clone().unwrap_or_else(|| DEFAULT_BODY.to_owned());
        for (name, source) in [("subject", subject), ("body", body)] {
            env.add_template_owned(name, source)
                .map_err(|error| (format!("templates.{name}"), error.to_string()))?;
        }
        let templates = Templates { env };
        // Rendering a sample finds what compiling does not (an unknown filter, say).
        templates
            .render(&sample_context())
            .map_err(|(name, error)| (format!("templates.{name}"), error))?;
        Ok(templates)
    }

    /// The subject and the message for `context`.
    pub(super) fn render(&self, context: &Value) -> Result<(String, String), (String, String)> {
        let context = minijinja::Value::from(minijinja::value::Serde(context));
        let mut out = Vec::with_capacity(2);
        for name in ["subject", "body"] {
            let template =
                self.env.get_template(name).map_err(|e| (name.to_owned(), e.to_string()))?;
            let mut text =
                template.render(&context).map_err(|e| (name.to_owned(), e.to_string()))?;
            if text.len() > MAX_RENDERED {
                let mut cut = MAX_RENDERED;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
            }
            out.push(text);
        }
        let body = out.pop().unwrap_or_default();
        let subject =
            out.pop().unwrap_or_default().lines().next().unwrap_or_default().trim().to_owned();
        Ok((subject, body))
    }
}

/// What templates are checked against.
fn sample_context() -> Value {
    json!({
        "kind": "escalation", "ticket": "T-1", "external_ref": "INC-1", "customer": "acme",
        "service": "hosting", "priority": "P1", "metric": "resolution", "cycle": 1,
        "threshold": "75%", "target": "4h", "fired_at": "2026-11-02T10:00:00Z",
        "fired_at_local": "2026-11-02 11:00 Europe/Berlin", "deadline": "2026-11-02T11:00:00Z",
        "deadline_local": "2026-11-02 12:00 Europe/Berlin", "zone": "Europe/Berlin",
        "revisions": "corporate-sla r2, acme-sla r1", "recipient": "duty-manager",
    })
}

/// The settings of a stored revision and their templates; the built-in templates and no
/// recipients when none is stored.
fn load(
    latest: Option<&accord_store::Revision>,
) -> Result<(NotificationSettings, Templates), ApiError> {
    let settings = match latest {
        Some(revision) => parse_notifications(FilePath::new(SETTINGS.path), &revision.source_text)
            .map_err(|errors| ApiError::internal(&errors))?,
        None => NotificationSettings::default(),
    };
    let templates = Templates::new(&settings).map_err(|(field, error)| {
        ApiError::internal(
            anyhow::anyhow!("stored notification settings, {field}: {error}").as_ref(),
        )
    })?;
    Ok((settings, templates))
}

/// The stored settings with their compiled templates, for the scheduler: parsed and compiled
/// again only when a new revision is stored.
#[derive(Default)]
pub(super) struct Current {
    loaded: Option<(Option<u32>, NotificationSettings, Templates)>,
}

impl Current {
    /// The settings and templates in force now.
    pub(super) async fn get(
        &mut self,
        state: &AppState,
    ) -> Result<(&NotificationSettings, &Templates), ApiError> {
        let latest = SETTINGS.latest(state).await?;
        let number = latest.as_ref().map(|revision| revision.summary.number);
        if self.loaded.as_ref().is_none_or(|(loaded, _, _)| *loaded != number) {
            let (settings, templates) = load(latest.as_ref())?;
            self.loaded = Some((number, settings, templates));
        }
        let (_, settings, templates) = self.loaded.as_ref().expect("invariant: loaded above");
        Ok((settings, templates))
    }
}

// ---------------------------------------------------------------------------------------------
// Routes.

/// `PUT /api/v1/notifications` (staff, scope `write`): the settings as YAML, checked (recipients,
/// calendars named for working hours, templates compiled), stored as the next revision.
pub(super) async fn put_settings(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let principal = auth.require_staff(Scope::Write)?;
    let media = media_type(&headers);
    if !matches!(media.as_str(), "text/yaml" | "application/yaml" | "application/x-yaml") {
        return Err(unsupported("send the notification settings as text/yaml"));
    }
    let body = body_bytes(body)?;
    let text = body_text(&body)?;
    let settings = match parse_notifications(FilePath::new(SETTINGS.path), text) {
        Ok(settings) => settings,
        Err(errors) => {
            return Ok(Refused::file_errors("invalid_notifications", &errors).into_response());
        }
    };
    if let Err((field, message)) = Templates::new(&settings) {
        return Err(ApiError::field(field, message));
    }
    super::survey::check(&state, &settings.survey).await?;
    let calendars: std::collections::BTreeSet<String> = state
        .clocks
        .with_catalog(&state.store, |catalog| catalog.calendars.keys().cloned().collect())
        .await?;
    for (idx, recipient) in settings.recipients.iter().enumerate() {
        if let Some(calendar) = &recipient.working_hours
            && !calendars.contains(calendar)
        {
            return Err(ApiError::field(
                format!("recipients[{idx}].workingHours"),
                format!("no calendar {calendar} in the catalog"),
            ));
        }
    }
    let canonical = settings_json(&settings).to_string();
    let (revision, change) = SETTINGS
        .store(&state, &principal.subject, text, canonical, "PUT /api/v1/notifications")
        .await?;
    Ok(Json(json!({ "revision": revision, "change": change })).into_response())
}

fn settings_json(settings: &NotificationSettings) -> Value {
    let recipients: Vec<Value> = settings
        .recipients
        .iter()
        .map(|recipient| {
            let (channel, address) = match &recipient.address {
                accord_format::notifications::Address::Email(email) => ("email", email),
                accord_format::notifications::Address::Webhook(url) => ("webhook", url),
            };
            json!({ "name": recipient.name, "channel": channel, "address": address,
                "workingHours": recipient.working_hours })
        })
        .collect();
    json!({ "recipients": recipients, "templates": {
        "subject": settings.templates.subject, "body": settings.templates.body },
        "survey": super::survey::settings_json(&settings.survey) })
}

/// `GET /api/v1/notifications` (staff, scope `read`): the settings as stored, and the templates
/// in force (the built-in ones where none is set).
pub(super) async fn get_settings(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Read)?;
    let latest = SETTINGS.latest(&state).await?;
    let (settings, _) = load(latest.as_ref())?;
    let mut answer = settings_json(&settings);
    answer["revision"] = json!(latest.as_ref().map(|revision| revision.summary.number));
    answer["text"] = json!(latest.as_ref().map(|revision| revision.source_text.clone()));
    answer["defaults"] = json!({ "subject": DEFAULT_SUBJECT, "body": DEFAULT_BODY });
    Ok(Json(answer).into_response())
}

/// The paging and filters of the delivery log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeliveryQuery {
    ticket: Option<String>,
    status: Option<String>,
    limit: Option<u32>,
}

fn delivery_json(delivery: &Delivery, attempts: &[DeliveryAttempt]) -> Value {
    let attempts: Vec<Value> = attempts
        .iter()
        .map(|attempt| {
            json!({ "at": attempt.at.to_string(), "node": attempt.node,
            "code": attempt.code, "error": attempt.error })
        })
        .collect();
    json!({
        "id": delivery.id,
        "ticket": delivery.key.ticket,
        "metric": delivery.key.metric,
        "cycle": delivery.key.cycle,
        "rung": delivery.key.rung,
        "recipient": delivery.recipient,
        "channel": delivery.channel,
        "address": delivery.address,
        "subject": delivery.subject,
        "body": delivery.body,
        "status": delivery.status,
        "dueAt": delivery.due_at.to_string(),
        "attempts": attempts,
        "lastCode": delivery.last_code,
        "lastError": delivery.last_error,
        "createdAt": delivery.created_at.to_string(),
        "sentAt": delivery.sent_at.map(|at| at.to_string()),
    })
}

/// `GET /api/v1/deliveries[?ticket=T][&status=S][&limit=N]` (staff, scope `read`): the delivery
/// log, newest first, each with its attempts.
pub(super) async fn get_deliveries(
    State(state): State<AppState>,
    auth: Auth,
    delivery_query: Result<Query<DeliveryQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    auth.require_staff(Scope::Read)?;
    let delivery_query = query(delivery_query)?;
    if let Some(status) = &delivery_query.status
        && !matches!(status.as_str(), "pending" | "sent" | "failed")
    {
        return Err(ApiError::field("status", "expected pending, sent or failed"));
    }
    let limit = delivery_query.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::field("limit", "expected 1 to 1000"));
    }
    let deliveries = state
        .store
        .deliveries(delivery_query.ticket.as_deref(), delivery_query.status.as_deref(), limit)
        .await?;
    let mut listed = Vec::with_capacity(deliveries.len());
    for delivery in &deliveries {
        let attempts = state.store.delivery_attempts(delivery.id).await?;
        listed.push(delivery_json(delivery, &attempts));
    }
    Ok(Json(json!({ "deliveries": listed })).into_response())
}

// ---------------------------------------------------------------------------------------------
// Delivery.

/// How many deliveries one round takes.
const ROUND: u32 = 20;
/// The longest the worker sleeps before looking again (other nodes record firings too).
const IDLE: Duration = Duration::from_secs(2);
/// How long one webhook request may take.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// What one attempt gave: the code the other side answered with, an error, and whether trying
/// again can help.
pub(super) struct Outcome {
    pub(super) code: Option<i64>,
    pub(super) error: Option<String>,
    pub(super) permanent: bool,
}

/// Delivers due deliveries until `stop` is set.
pub(super) async fn deliver(
    state: AppState,
    config: NotifyConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mailer = configured_mailer(&config);
    loop {
        let now = Timestamp::now();
        let claimed =
            match state.store.claim_deliveries(&config.node, now, config.lease, ROUND).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "leasing deliveries failed; trying again");
                    Vec::new()
                }
            };
        let n_claimed = claimed.len();
        for delivery in claimed {
            let outcome = match delivery.channel.as_str() {
                "webhook" => post_webhook(&delivery, config.webhook_secret.as_deref()).await,
                _ => match &mailer {
                    Some(mailer) => {
                        let (to, subject, body) =
                            (&delivery.address, &delivery.subject, &delivery.body);
                        send_mail(mailer, &config.smtp_from, to, subject, body).await
                    }
                    None => Outcome {
                        code: None,
                        error: Some("no SMTP relay is configured (smtp_url)".to_owned()),
                        permanent: false,
                    },
                },
            };
            let at = Timestamp::now();
            let after = after_attempt(&config, &outcome, delivery.attempts + 1, at);
            match after {
                AfterAttempt::Sent => tracing::info!(
                    delivery = delivery.id, channel = %delivery.channel,
                    recipient = %delivery.recipient, "notification delivered"
                ),
                _ => tracing::warn!(
                    delivery = delivery.id, channel = %delivery.channel,
                    recipient = %delivery.recipient, code = ?outcome.code,
                    error = outcome.error.as_deref().unwrap_or_default(), "notification not delivered"
                ),
            }
            let attempt = DeliveryAttempt {
                at,
                node: config.node.clone(),
                code: outcome.code,
                error: outcome.error,
            };
            if let Err(error) = state.store.finish_delivery(delivery.id, &attempt, after).await {
                tracing::warn!(%error, delivery = delivery.id, "recording a delivery attempt failed");
            }
        }
        // Accord's own satisfaction surveys go out through the same relay.
        super::survey::send_due(&state, &config, mailer.as_ref()).await;
        if n_claimed == ROUND as usize {
            continue;
        }
        let wait = match state.store.next_delivery_due().await {
            Ok(Some(due)) => {
                let left = due.duration_since(Timestamp::now());
                Duration::try_from(left).unwrap_or(Duration::ZERO).min(IDLE)
            }
            _ => IDLE,
        };
        tokio::select! {
            () = tokio::time::sleep(wait.max(Duration::from_millis(50))) => {}
            () = state.deliveries_waiting.notified() => {}
            _ = stop.changed() => return,
        }
    }
}

/// What comes after attempt number `attempts` (from 1), made at `at`: sent, failed for good
/// (a permanent error, or the last attempt), or a retry after `retry_base`, doubled each time
/// up to an hour.
pub(super) fn after_attempt(
    config: &NotifyConfig,
    outcome: &Outcome,
    attempts: u32,
    at: Timestamp,
) -> AfterAttempt {
    if outcome.error.is_none() {
        AfterAttempt::Sent
    } else if outcome.permanent || attempts >= config.max_attempts {
        AfterAttempt::Failed
    } else {
        let factor = 1_i32 << (attempts.max(1) - 1).min(16);
        let delay = config
            .retry_base
            .checked_mul(factor)
            .unwrap_or(SignedDuration::from_hours(1))
            .min(SignedDuration::from_hours(1));
        AfterAttempt::RetryAt(at + delay)
    }
}

/// The webhook's body is the stored message; the signature header covers the instant and the
/// body: `t=UNIX,v1=HEX(HMAC-SHA256(secret, "UNIX.BODY"))`.
fn signature(secret: &str, at: i64, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("invariant: HMAC takes a key of any length");
    mac.update(format!("{at}.").as_bytes());
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("t={at},v1={hex}")
}

async fn post_webhook(delivery: &Delivery, secret: Option<&str>) -> Outcome {
    let Some(url) = http_url(&delivery.address) else {
        return Outcome {
            code: None,
            error: Some(format!("invalid webhook URL {}", delivery.address)),
            permanent: true,
        };
    };
    let body = delivery.body.clone().into_bytes();
    let mut headers = vec![
        ("Content-Type", "application/json".to_owned()),
        ("X-Accord-Delivery", delivery.id.to_string()),
        ("X-Accord-Attempt", (delivery.attempts + 1).to_string()),
    ];
    if let Some(secret) = secret {
        headers
            .push(("X-Accord-Signature", signature(secret, Timestamp::now().as_second(), &body)));
    }
    let tls = url.https.then(|| accord_format::probes::Tls {
        ca: Vec::new(),
        certificate_expiry: SignedDuration::ZERO,
    });
    let answer = tokio::task::spawn_blocking(move || {
        let request = HttpRequest {
            method: "POST",
            host: &url.host,
            port: url.port,
            path: &url.path,
            headers: &headers,
            body: &body,
        };
        http_request(&request, tls.as_ref(), WEBHOOK_TIMEOUT)
    })
    .await;
    match answer {
        Ok(Ok(response)) if (200..300).contains(&response.status) => {
            Outcome { code: Some(i64::from(response.status)), error: None, permanent: false }
        }
        Ok(Ok(response)) => Outcome {
            code: Some(i64::from(response.status)),
            error: Some(format!("the receiver answered {}", response.status)),
            // 4xx other than 408 and 429 will not change by trying again.
            permanent: (400..500).contains(&response.status)
                && !matches!(response.status, 408 | 429),
        },
        Ok(Err(error)) => Outcome { code: None, error: Some(error), permanent: false },
        Err(error) => Outcome { code: None, error: Some(error.to_string()), permanent: false },
    }
}

pub(super) type Mailer = lettre::AsyncSmtpTransport<lettre::Tokio1Executor>;

/// The SMTP relay of `config`: `None` without `smtp_url`, and, said in the log, when it is
/// unusable. Deliveries, surveys and scheduled reports all send through this one setup.
pub(super) fn configured_mailer(config: &NotifyConfig) -> Option<Mailer> {
    match config.smtp_url.as_deref().map(mailer) {
        Some(Ok(mailer)) => Some(mailer),
        Some(Err(error)) => {
            tracing::error!(%error, "the SMTP relay is unusable: e-mails will fail");
            None
        }
        None => None,
    }
}

fn mailer(url: &str) -> Result<Mailer, String> {
    Mailer::from_url(url)
        .map(|builder| builder.timeout(Some(Duration::from_secs(30))).build())
        .map_err(|error| format!("smtp_url {}: {error}", redact_url(url)))
}

/// Sends one plain-text e-mail to `address` through `mailer`: escalation deliveries and
/// surveys alike.
pub(super) async fn send_mail(
    mailer: &Mailer,
    from: &str,
    address: &str,
    subject: &str,
    body: &str,
) -> Outcome {
    let message = (|| {
        let from: lettre::message::Mailbox =
            from.parse().map_err(|error| format!("smtp_from {from:?}: {error}"))?;
        let to: lettre::message::Mailbox =
            address.parse().map_err(|error| format!("address {address:?}: {error}"))?;
        lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|error| error.to_string())
    })();
    match message {
        Ok(message) => send_message(mailer, message).await,
        Err(error) => Outcome { code: None, error: Some(error), permanent: true },
    }
}

/// Sends a message built elsewhere (scheduled reports, with attachments) through `mailer`.
pub(super) async fn send_message(mailer: &Mailer, message: lettre::Message) -> Outcome {
    match mailer.send(message).await {
        Ok(response) => Outcome {
            code: Some(i64::from(u16::from(response.code()))),
            error: None,
            permanent: false,
        },
        Err(error) => Outcome {
            code: error.status().map(|code| i64::from(u16::from(code))),
            error: Some(error.to_string()),
            permanent: error.is_permanent(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_instant_and_the_body() {
        // HMAC-SHA256("key", "1700000000.{}"), computed independently with Python's hmac.
        assert_eq!(
            signature("key", 1_700_000_000, b"{}"),
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(redact_url("smtp://mail:s3cret@relay:25"), "smtp://mail:[redacted]@relay:25");
        assert_eq!(redact_url("smtp://relay:25"), "smtp://relay:25");
    }

    #[test]
    fn templates_render_and_mistakes_are_named() {
        let templates = Templates::new(&NotificationSettings::default()).expect("built-in");
        let (subject, body) = templates.render(&sample_context()).expect("renders");
        assert_eq!(subject, "Escalation at 75%: resolution of T-1 (acme, P1)");
        assert!(body.contains("It breaches at 2026-11-02 12:00 Europe/Berlin"), "{body}");
        let mut settings = NotificationSettings::default();
        settings.templates.body = Some("{{ ticket | nosuchfilter }}".to_owned());
        let (field, _) = Templates::new(&settings).err().expect("refused");
        assert_eq!(field, "templates.body");
    }
}
