//! `accord serve --nats URL`: ticket events and probe results consumed from NATS JetStream, for
//! producers that publish faster than the HTTP path needs to absorb, or that cannot wait for
//! Accord to be up.
//!
//! Each subject has a durable pull consumer with explicit acknowledgement. A message is
//! acknowledged only after what it carries is committed; one that is not acknowledged within
//! the ack wait (the process was killed, the store failed) is delivered again. Applying is
//! idempotent: an event already in the log with the same content is a duplicate, and a probe
//! result no newer than the newest recorded for its probe is ignored, so a redelivery changes
//! nothing. A message that can never be applied (not JSON, an invalid event, an event id
//! reused with other content) is terminated, logged and counted, so it never blocks the
//! stream.
//!
//! Events are taken in batches: the consumer gathers every message already delivered (up to
//! 4 MiB), checks them while the previous batch commits, and appends the whole
//! batch in one call to the event log's writer. The bodies are those of `POST /api/v1/events`
//! and `POST /api/v1/probe-results`, checked by the same functions.

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use accord_store::{Appended, StoreError};
use anyhow::Context;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use async_nats::jetstream::stream::{RetentionPolicy, StorageType};
use async_nats::jetstream::{self, AckKind, Message};
use futures_util::{FutureExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::AppState;
use super::availability;
use super::error::ApiError;
use super::events;
use super::ingest::{IngestError, OwnedEvent};

/// Where and what to consume.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// The server URL, or several separated by commas; may hold a user and password or a token.
    pub url: String,
    /// The stream, created with file storage when missing.
    pub stream: String,
    /// The subject of ticket events.
    pub events_subject: String,
    /// The subject of probe results.
    pub probe_results_subject: String,
    /// The durable consumers' name prefix: `NAME-events` and `NAME-probe-results`.
    pub consumer: String,
    /// How long a delivered message may go unacknowledged before it is delivered again.
    pub ack_wait: Duration,
}

impl Settings {
    /// Checks the settings as the configuration gives them.
    ///
    /// # Errors
    ///
    /// A URL that is not a NATS address (shown without credentials), a stream or consumer name
    /// JetStream refuses, a subject with wildcards, the same subject twice, or no ack wait;
    /// each names its key.
    pub fn new(
        url: String,
        stream: String,
        events_subject: String,
        probe_results_subject: String,
        consumer: String,
        ack_wait_seconds: u64,
    ) -> anyhow::Result<Settings> {
        server_addresses(&url)?;
        for (key, name) in [("nats_stream", &stream), ("nats_consumer", &consumer)] {
            if name.is_empty() || name.contains(|c: char| c.is_whitespace() || ".*>/\\".contains(c))
            {
                anyhow::bail!(
                    "{key}: {name:?}: expected a name without spaces, '.', '*', '>', '/' or '\\'"
                );
            }
        }
        for (key, subject) in [
            ("nats_events_subject", &events_subject),
            ("nats_probe_results_subject", &probe_results_subject),
        ] {
            let wrong = |token: &str| token.is_empty() || token.contains(['*', '>']);
            if subject.contains(char::is_whitespace) || subject.split('.').any(wrong) {
                anyhow::bail!(
                    "{key}: {subject:?}: expected a subject such as accord.events, without wildcards"
                );
            }
        }
        if events_subject == probe_results_subject {
            anyhow::bail!(
                "nats_probe_results_subject: {probe_results_subject:?} is also nats_events_subject"
            );
        }
        if ack_wait_seconds == 0 {
            anyhow::bail!("nats_ack_wait_seconds: expected at least 1");
        }
        Ok(Settings {
            url,
            stream,
            events_subject,
            probe_results_subject,
            consumer,
            ack_wait: Duration::from_secs(ack_wait_seconds),
        })
    }
}

/// The URL is shown without its credentials.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("url", &redact(&self.url))
            .field("stream", &self.stream)
            .field("events_subject", &self.events_subject)
            .field("probe_results_subject", &self.probe_results_subject)
            .field("consumer", &self.consumer)
            .field("ack_wait", &self.ack_wait)
            .finish()
    }
}

/// The URLs of `url` (comma-separated), each with any user, password or token replaced by
/// `[redacted]`: `nats://[redacted]@host:4222`.
pub fn redact(url: &str) -> String {
    let redacted: Vec<String> = url
        .split(',')
        .map(|one| {
            let one = one.trim();
            let (scheme, rest) = one.split_once("://").unwrap_or(("", one));
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) if scheme.is_empty() => format!("[redacted]{}", &rest[at..]),
                Some(at) => format!("{scheme}://[redacted]{}", &rest[at..]),
                None => one.to_owned(),
            }
        })
        .collect();
    redacted.join(",")
}

/// The URLs of `url`, comma-separated, each checked.
///
/// # Errors
///
/// A URL that is not a NATS server address, named without its credentials.
pub fn server_addresses(url: &str) -> anyhow::Result<Vec<async_nats::ServerAddr>> {
    url.split(',')
        .map(str::trim)
        .filter(|one| !one.is_empty())
        .map(|one| {
            one.parse::<async_nats::ServerAddr>().map_err(|error| {
                anyhow::anyhow!(
                    "nats: {} is not a NATS URL such as nats://127.0.0.1:4222: {error}",
                    redact(one)
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .and_then(|addresses| {
            if addresses.is_empty() {
                anyhow::bail!("nats: expected a URL such as nats://127.0.0.1:4222");
            }
            Ok(addresses)
        })
}

/// The most bytes of messages one batch takes (about 25,000 events): a batch ends at the first
/// message that reaches it.
const MAX_BATCH_BYTES: usize = 4 << 20;
/// The most messages one batch takes (single-event messages).
const MAX_BATCH_MESSAGES: usize = 2_000;
/// Messages and bytes the client asks JetStream for ahead of processing.
const PREFETCH_MESSAGES: usize = 1_000;
const PREFETCH_BYTES: usize = 8 << 20;
/// How long a message the store could not take waits before it is delivered again.
const RETRY_DELAY: Duration = Duration::from_secs(5);

/// The running consumers; [`Consumers::stop`] ends them.
#[derive(Debug)]
pub(super) struct Consumers {
    client: async_nats::Client,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Consumers {
    /// Lets each consumer finish the batch in hand (committed and acknowledged), then sends the
    /// acknowledgements still buffered.
    pub(super) async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        if let Err(error) = self.client.flush().await {
            tracing::warn!(%error, "NATS: sending the last acknowledgements");
        }
    }
}

/// Connects, creates the stream (file storage, work-queue retention) when it is missing and
/// the two durable consumers, and starts consuming.
///
/// # Errors
///
/// NATS unreachable, JetStream not enabled, or a stream that does not hold the subjects.
pub(super) async fn start(settings: &Settings, state: AppState) -> anyhow::Result<Consumers> {
    let shown = redact(&settings.url);
    let addresses = server_addresses(&settings.url)?;
    let client = async_nats::ConnectOptions::new()
        .name("accord")
        .event_callback(|event| async move {
            // async-nats logs each event at info; a lost connection or an error is worth a
            // warning, the connection made or closed at shutdown is not.
            if !matches!(event, async_nats::Event::Connected | async_nats::Event::Closed) {
                tracing::warn!(%event, "NATS");
            }
        })
        .connect(addresses.as_slice())
        .await
        .with_context(|| format!("connecting to NATS at {shown}"))?;
    let context = jetstream::new(client.clone());
    let stream = context
        .get_or_create_stream(jetstream::stream::Config {
            name: settings.stream.clone(),
            subjects: vec![settings.events_subject.clone(), settings.probe_results_subject.clone()],
            storage: StorageType::File,
            // Acknowledged messages are deleted: the stream holds the backlog only.
            retention: RetentionPolicy::WorkQueue,
            ..Default::default()
        })
        .await
        .with_context(|| format!("NATS at {shown}: opening the stream {}", settings.stream))?;
    let mut consumers = Vec::new();
    for (suffix, subject) in
        [("events", &settings.events_subject), ("probe-results", &settings.probe_results_subject)]
    {
        let name = format!("{}-{suffix}", settings.consumer);
        let consumer: PullConsumer = stream
            .create_consumer(pull::Config {
                durable_name: Some(name.clone()),
                filter_subject: subject.clone(),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: settings.ack_wait,
                ..Default::default()
            })
            .await
            .with_context(|| {
                format!(
                    "NATS at {shown}: creating the consumer {name} of {subject} on the stream {}",
                    settings.stream
                )
            })?;
        consumers.push(consumer);
    }
    let probe_results = consumers.pop().expect("two consumers");
    let events = consumers.pop().expect("two consumers");
    let (stop, stopping) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(consume_events(events, state.clone(), stopping.clone())),
        tokio::spawn(consume_probe_results(probe_results, state, stopping)),
    ];
    tracing::info!(
        url = %shown,
        stream = %settings.stream,
        events = %settings.events_subject,
        probe_results = %settings.probe_results_subject,
        "consuming from NATS JetStream"
    );
    Ok(Consumers { client, stop, tasks })
}

/// Waits until `stop` is set (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// The next message, or `None` when asked to stop. Errors of the pull (a missed heartbeat, a
/// reconnection) are logged; a message stream that ends is opened again.
async fn next_message(
    consumer: &PullConsumer,
    messages: &mut Option<pull::Stream>,
    stop: &mut watch::Receiver<bool>,
) -> Option<Message> {
    loop {
        if *stop.borrow() {
            return None;
        }
        let stream = match messages {
            Some(stream) => stream,
            None => {
                let opened = consumer
                    .stream()
                    .max_messages_per_batch(PREFETCH_MESSAGES)
                    .max_bytes_per_batch(PREFETCH_BYTES)
                    .messages()
                    .await;
                match opened {
                    Ok(stream) => messages.insert(stream),
                    Err(error) => {
                        tracing::warn!(%error, "NATS: pulling messages; trying again");
                        tokio::select! {
                            () = stopped(stop) => return None,
                            () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        }
                    }
                }
            }
        };
        tokio::select! {
            () = stopped(stop) => return None,
            next = stream.next() => match next {
                Some(Ok(message)) => return Some(message),
                Some(Err(error)) => tracing::warn!(%error, "NATS: pulling messages"),
                None => *messages = None,
            },
        }
    }
}

/// The stream sequence of `message`, for the log.
fn sequence(message: &Message) -> u64 {
    message.info().map_or(0, |info| info.stream_sequence)
}

/// Terminates `message`: it is never delivered again.
async fn terminate(state: &AppState, message: &Message, reason: &ApiError) {
    let field = reason.field.as_deref().unwrap_or("");
    tracing::warn!(
        subject = %message.subject,
        sequence = sequence(message),
        field,
        reason = %reason.message,
        "NATS: message refused and terminated"
    );
    state.metrics.nats_terminated.fetch_add(1, Ordering::Relaxed);
    acknowledge(message, AckKind::Term).await;
}

/// Asks for `message` again after [`RETRY_DELAY`].
async fn retry(state: &AppState, message: &Message) {
    state.metrics.nats_retried.fetch_add(1, Ordering::Relaxed);
    acknowledge(message, AckKind::Nak(Some(RETRY_DELAY))).await;
}

/// Acknowledges `message` as applied.
async fn applied(state: &AppState, message: &Message) {
    state.metrics.nats_applied.fetch_add(1, Ordering::Relaxed);
    acknowledge(message, AckKind::Ack).await;
}

async fn acknowledge(message: &Message, kind: AckKind) {
    // A lost acknowledgement only means a redelivery, which changes nothing.
    if let Err(error) = message.ack_with(kind).await {
        tracing::warn!(%error, subject = %message.subject, "NATS: acknowledging");
    }
}

/// The events of one message, or why they are refused.
fn message_events(message: &Message) -> Result<Vec<OwnedEvent>, ApiError> {
    events::read_events(&events::json_body(&message.payload)?)
}

/// Messages whose events are appended together.
struct Batch {
    events: Vec<OwnedEvent>,
    messages: Vec<Message>,
}

/// Ticket events: batches of messages, each batch checked while the one before commits.
async fn consume_events(consumer: PullConsumer, state: AppState, mut stop: watch::Receiver<bool>) {
    let mut messages = None;
    let mut committing: Option<JoinHandle<()>> = None;
    while let Some(first) = next_message(&consumer, &mut messages, &mut stop).await {
        let mut gathered = vec![first];
        let mut n_bytes = gathered[0].payload.len();
        // Only what has already arrived: a batch never waits for more.
        while n_bytes < MAX_BATCH_BYTES && gathered.len() < MAX_BATCH_MESSAGES {
            match messages.as_mut().and_then(|stream| stream.next().now_or_never()) {
                Some(Some(Ok(message))) => {
                    n_bytes += message.payload.len();
                    gathered.push(message);
                }
                Some(Some(Err(error))) => {
                    tracing::warn!(%error, "NATS: pulling messages");
                    break;
                }
                Some(None) => {
                    messages = None;
                    break;
                }
                None => break,
            }
        }
        // Checking is CPU work of tens of milliseconds: off the async workers.
        let checked = tokio::task::spawn_blocking(move || {
            gathered
                .into_iter()
                .map(|message| (message_events(&message), message))
                .collect::<Vec<_>>()
        })
        .await
        .expect("checking events does not panic");
        let mut batch = Batch { events: Vec::new(), messages: Vec::new() };
        for (events, message) in checked {
            match events {
                Ok(events) => {
                    batch.events.extend(events);
                    batch.messages.push(message);
                }
                Err(reason) => terminate(&state, &message, &reason).await,
            }
        }
        if let Some(previous) = committing.take() {
            let _ = previous.await;
        }
        if !batch.messages.is_empty() {
            committing = Some(tokio::spawn(append_batch(state.clone(), batch)));
        }
    }
    if let Some(previous) = committing {
        let _ = previous.await;
    }
}

/// Appends a batch and acknowledges its messages once committed. When the store refuses the
/// batch because an event id is reused with other content, each message is appended alone, so
/// only the one at fault is terminated.
async fn append_batch(state: AppState, batch: Batch) {
    tracing::debug!(
        n_messages = batch.messages.len(),
        n_events = batch.events.len(),
        "NATS: appending a batch"
    );
    match state.ingest.append(batch.events).await {
        Ok(appended) => {
            count_events(&state, &appended);
            for message in &batch.messages {
                applied(&state, message).await;
            }
        }
        Err(IngestError::Stopped) => {}
        Err(IngestError::Store(StoreError::EventConflict { .. })) => {
            for message in &batch.messages {
                append_message(&state, message).await;
            }
        }
        Err(IngestError::Store(error)) => {
            tracing::warn!(%error, n_messages = batch.messages.len(), "NATS: appending events; they will be delivered again");
            for message in &batch.messages {
                retry(&state, message).await;
            }
        }
    }
}

/// Appends one message's events alone.
async fn append_message(state: &AppState, message: &Message) {
    let events = match message_events(message) {
        Ok(events) => events,
        Err(reason) => return terminate(state, message, &reason).await,
    };
    match state.ingest.append(events).await {
        Ok(appended) => {
            count_events(state, &appended);
            applied(state, message).await;
        }
        Err(IngestError::Stopped) => {}
        Err(IngestError::Store(error @ StoreError::EventConflict { .. })) => {
            terminate(state, message, &ApiError::from(error)).await;
        }
        Err(IngestError::Store(error)) => {
            tracing::warn!(%error, "NATS: appending events; they will be delivered again");
            retry(state, message).await;
        }
    }
}

fn count_events(state: &AppState, appended: &[Appended]) {
    let n_new = appended.iter().filter(|a| matches!(a, Appended::New { .. })).count();
    state.metrics.events_new.fetch_add(n_new as u64, Ordering::Relaxed);
    state.metrics.events_duplicate.fetch_add((appended.len() - n_new) as u64, Ordering::Relaxed);
}

/// Probe results: one message at a time, in the stream's order, each recorded in its own
/// transaction.
async fn consume_probe_results(
    consumer: PullConsumer,
    state: AppState,
    mut stop: watch::Receiver<bool>,
) {
    let mut messages = None;
    while let Some(message) = next_message(&consumer, &mut messages, &mut stop).await {
        // The body is JSON, or NDJSON when the message says so in its headers.
        let mut headers = axum::http::HeaderMap::new();
        let content_type = message
            .headers
            .as_ref()
            .and_then(|headers| headers.get("Content-Type"))
            .and_then(|value| axum::http::HeaderValue::from_str(value.as_str()).ok());
        if let Some(content_type) = content_type {
            headers.insert(axum::http::header::CONTENT_TYPE, content_type);
        }
        let recorded = match availability::probe_result_items(&headers, &message.payload) {
            Ok(items) => availability::record_probe_results(&state, &items).await,
            Err(reason) => Err(reason),
        };
        match recorded {
            Ok(_) => applied(&state, &message).await,
            Err(reason) if reason.status.is_client_error() => {
                terminate(&state, &message, &reason).await;
            }
            Err(reason) => {
                tracing::warn!(
                    subject = %message.subject,
                    reason = %reason.message,
                    "NATS: recording probe results; they will be delivered again"
                );
                retry(&state, &message).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::redact;
    use crate::cli::{Cli, Command, ServeArgs};
    use crate::server::config::Config;

    fn serve_args(args: &[&str]) -> ServeArgs {
        let args = ["accord", "serve"].iter().chain(args);
        match Cli::parse_from(args).command {
            Command::Serve(args) => args,
            _ => unreachable!("accord serve"),
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
    }

    #[test]
    fn nats_is_off_by_default_and_configured_by_flag_variable_or_file() {
        assert_eq!(Config::load(&serve_args(&[]), &[]).unwrap().nats, None);
        let config = Config::load(&serve_args(&["--nats", "nats://n1:4222"]), &env(&[])).unwrap();
        let nats = config.nats.unwrap();
        assert_eq!((nats.url.as_str(), nats.stream.as_str()), ("nats://n1:4222", "ACCORD"));
        assert_eq!(
            (nats.events_subject.as_str(), nats.probe_results_subject.as_str()),
            ("accord.events", "accord.probe-results")
        );
        assert_eq!((nats.consumer.as_str(), nats.ack_wait.as_secs()), ("accord", 30));

        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("url");
        std::fs::write(&secret, "nats://accord:hunter2@n2:4222\n").unwrap();
        let variables = env(&[
            ("ACCORD_NATS_FILE", secret.to_str().unwrap()),
            ("ACCORD_NATS_ACK_WAIT_SECONDS", "5"),
        ]);
        let config = Config::load(&serve_args(&[]), &variables).unwrap();
        let shown = format!("{config:?}");
        assert!(shown.contains("nats://[redacted]@n2:4222") && !shown.contains("hunter2"));
        let nats = config.nats.unwrap();
        assert_eq!(
            (nats.url.as_str(), nats.ack_wait.as_secs()),
            ("nats://accord:hunter2@n2:4222", 5)
        );
        // The flag wins over the file.
        let config = Config::load(&serve_args(&["--nats", "nats://n3"]), &variables).unwrap();
        assert_eq!(config.nats.unwrap().url, "nats://n3");
    }

    #[test]
    fn bad_nats_settings_are_named() {
        let check = |pairs: &[(&str, &str)], expected: &str| {
            let mut pairs = pairs.to_vec();
            pairs.push(("ACCORD_NATS", "nats://127.0.0.1:4222"));
            let error = Config::load(&serve_args(&[]), &env(&pairs)).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(!error.contains("hunter2"), "{error}");
        };
        check(&[("ACCORD_NATS_EVENTS_SUBJECT", "accord.*")], "nats_events_subject: \"accord.*\"");
        check(&[("ACCORD_NATS_PROBE_RESULTS_SUBJECT", "accord.events")], "is also nats_events");
        check(&[("ACCORD_NATS_STREAM", "ACC.ORD")], "nats_stream: \"ACC.ORD\"");
        check(&[("ACCORD_NATS_ACK_WAIT_SECONDS", "0")], "nats_ack_wait_seconds");
        let error = Config::load(&serve_args(&["--nats", "nats://ann:hunter2@bad host"]), &[])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("nats: nats://[redacted]@bad host is not a NATS URL"), "{error}");
    }

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(redact("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(redact("nats://ann:hunter2@nats:4222"), "nats://[redacted]@nats:4222");
        assert_eq!(redact("tls://s3cr3t@nats"), "tls://[redacted]@nats");
        assert_eq!(redact("ann:pw@nats:4222"), "[redacted]@nats:4222");
        assert_eq!(
            redact("nats://a:pw@one:4222, nats://two:4222"),
            "nats://[redacted]@one:4222,nats://two:4222"
        );
    }
}
