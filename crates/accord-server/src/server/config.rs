//! The server's configuration: defaults, then a TOML file, then `ACCORD_` environment
//! variables, then flags, each overriding the one before. Unknown keys and unknown `ACCORD_`
//! variables are errors; a secret may be read from a file named by the `*_file` key or the
//! `ACCORD_*_FILE` variable.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use accord_store::Location;
use anyhow::{Context, bail};
use serde::Deserialize;

use crate::cli::ServeArgs;

/// A documented configuration file with every setting at its default.
pub const EXAMPLE: &str = r#"# Accord server configuration (TOML).
# Each setting can also come from an environment variable (shown beside it) or a flag of
# `accord serve`; flags win over variables, variables over this file.

# Address and port to listen on. ACCORD_LISTEN, --listen.
listen = "127.0.0.1:8080"

# The data directory: the SQLite database (accord.db) lives here. ACCORD_DATA, --data.
data = "accord-data"

# A PostgreSQL URL instead of SQLite, for several server nodes. ACCORD_DATABASE, --database.
# The URL holds a password; keep it out of this file with database_file (ACCORD_DATABASE_FILE),
# a file whose content is the URL.
# database = "postgres://accord@db.internal:5432/accord"
# database_file = "/run/secrets/accord-database-url"

# Log format: "text" for people, "json" for log collectors. ACCORD_LOG_FORMAT, --log-format.
log_format = "text"

# Log filter, as RUST_LOG: "info", or "accord=debug,info". ACCORD_LOG.
log = "info"

# The largest request body accepted, in bytes; larger ones get 413. ACCORD_MAX_BODY_BYTES.
max_body_bytes = 8388608

# How long shutdown waits for requests in progress, in seconds. ACCORD_SHUTDOWN_GRACE_SECONDS.
shutdown_grace_seconds = 30

# Reverse proxies whose X-Forwarded-For header is believed: the client address (for the
# sign-in rate limit and the log) is then the nearest address in it that is not one of these.
# ACCORD_TRUSTED_PROXIES, comma-separated.
trusted_proxies = []

# This node's name in delivery leases and logs; unique among nodes sharing a database.
# ACCORD_NODE. Default: HOSTNAME-PID.
# node = "accord-1"

# Run the probes of the stored probe definitions (PUT /api/v1/probes) on their intervals; with
# several nodes on one database each probe runs on one node at a time. false leaves probing to
# the other nodes, or to `accord probe run`. ACCORD_PROBES.
probes = true

# The SMTP relay e-mail notifications go through: smtp://HOST:PORT (plain, for a local relay),
# smtps://HOST:465 (TLS), or smtp://HOST:587?tls=required (STARTTLS); a user and password as
# smtp://USER:PASSWORD@HOST. ACCORD_SMTP_URL; keep the password out of this file with
# smtp_url_file (ACCORD_SMTP_URL_FILE). Without it, e-mail deliveries fail and are retried.
# smtp_url = "smtp://127.0.0.1:25"
# smtp_url_file = "/run/secrets/accord-smtp-url"

# The sender of notification e-mails. ACCORD_SMTP_FROM.
smtp_from = "Accord <accord@localhost>"

# The key webhook notifications are signed with (X-Accord-Signature, HMAC-SHA256).
# ACCORD_WEBHOOK_SECRET, or webhook_secret_file (ACCORD_WEBHOOK_SECRET_FILE). Unsigned without.
# webhook_secret_file = "/run/secrets/accord-webhook-secret"

# Where requesters' browsers reach this server, for the links of satisfaction surveys (the
# survey section of the notification settings): https://accord.example. ACCORD_PUBLIC_URL.
# No survey is sent without it.
# public_url = "https://accord.example"

# The secret survey links are signed with (HMAC-SHA256, under a key derived from it); without
# it, a key is derived from webhook_secret. Changing it makes the links sent before invalid.
# ACCORD_SURVEY_SECRET, or survey_secret_file (ACCORD_SURVEY_SECRET_FILE).
# survey_secret_file = "/run/secrets/accord-survey-secret"

# The provider's name at the top of every compliance report. ACCORD_REPORT_ISSUER.
# report_issuer = "Example Hosting GmbH"

# The Ed25519 key reports are signed with: a base64 seed, as `accord report keygen` prints.
# Its public half is served at /.well-known/accord/report-signing-key. Unsigned without.
# ACCORD_REPORT_SIGNING_KEY, or report_signing_key_file (ACCORD_REPORT_SIGNING_KEY_FILE).
# report_signing_key_file = "/run/secrets/accord-report-key"

# The satisfied share (CSAT, percent of ratings 4-5 stars or good) below which a service that
# met every objective is flagged as a watermelon. ACCORD_CSAT_THRESHOLD.
csat_threshold = 80.0

# Rungs and breaches found longer than this after they happened (history loaded late) are
# recorded without notifying anyone, in seconds. ACCORD_ESCALATION_MAX_AGE_SECONDS.
escalation_max_age_seconds = 3600

# The first retry of a failed notification waits this long, in seconds; each later one twice
# as long, up to an hour. ACCORD_DELIVERY_RETRY_SECONDS.
delivery_retry_seconds = 30

# Attempts before a notification is given up. ACCORD_DELIVERY_MAX_ATTEMPTS.
delivery_max_attempts = 8

# How long a node holds the notifications it is sending, in seconds: another node takes over
# those of a node that died after this. ACCORD_DELIVERY_LEASE_SECONDS.
delivery_lease_seconds = 120

# NATS JetStream: ticket events and probe results consumed from a stream, beside the HTTP API
# (docs/server.md). Off unless a URL is set; several URLs are separated by commas.
# ACCORD_NATS, --nats. The URL may hold a user and password or a token; keep it out of this
# file with nats_file (ACCORD_NATS_FILE), a file whose content is the URL.
# nats = "nats://127.0.0.1:4222"
# nats_file = "/run/secrets/accord-nats-url"

# The stream, created with file storage and work-queue retention when it is missing.
# ACCORD_NATS_STREAM.
nats_stream = "ACCORD"

# The subject of ticket events: one event or an array, as POST /api/v1/events takes them.
# ACCORD_NATS_EVENTS_SUBJECT.
nats_events_subject = "accord.events"

# The subject of probe results, as POST /api/v1/probe-results takes them.
# ACCORD_NATS_PROBE_RESULTS_SUBJECT.
nats_probe_results_subject = "accord.probe-results"

# The durable consumers' name prefix: NAME-events and NAME-probe-results. ACCORD_NATS_CONSUMER.
nats_consumer = "accord"

# How long a delivered message may stay unacknowledged before JetStream delivers it again, in
# seconds. ACCORD_NATS_ACK_WAIT_SECONDS.
nats_ack_wait_seconds = 30
"#;

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line.
    Json,
}

/// The server's settings, resolved.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// Where the database is.
    pub location: Location,
    /// The data directory.
    pub data: PathBuf,
    /// How logs are written.
    pub log_format: LogFormat,
    /// The log filter.
    pub log: String,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// How long shutdown waits for requests in progress.
    pub shutdown_grace_seconds: u64,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// NATS JetStream ingestion, when a URL is set.
    pub nats: Option<super::nats::Settings>,
    /// How escalations are notified.
    pub notify: super::notify::NotifyConfig,
    /// Whether this node runs the stored probes.
    pub probes: bool,
    /// Satisfaction survey links.
    pub survey: super::survey::SurveyConfig,
    /// Compliance reports: issuer, watermelon threshold, signing key.
    pub reports: crate::report::ReportConfig,
}

/// The database URL is shown with its password redacted.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("location", &self.location.to_string())
            .field("data", &self.data)
            .field("log_format", &self.log_format)
            .field("log", &self.log)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("shutdown_grace_seconds", &self.shutdown_grace_seconds)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("nats", &self.nats)
            .field("notify", &self.notify)
            .field("probes", &self.probes)
            .field("survey", &self.survey)
            .field("reports", &self.reports)
            .finish()
    }
}

/// The settings as a file or the environment gives them; every one optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    listen: Option<String>,
    data: Option<PathBuf>,
    database: Option<String>,
    database_file: Option<PathBuf>,
    log_format: Option<String>,
    log: Option<String>,
    max_body_bytes: Option<usize>,
    shutdown_grace_seconds: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
    nats: Option<String>,
    nats_file: Option<PathBuf>,
    nats_stream: Option<String>,
    nats_events_subject: Option<String>,
    nats_probe_results_subject: Option<String>,
    nats_consumer: Option<String>,
    nats_ack_wait_seconds: Option<u64>,
    node: Option<String>,
    smtp_url: Option<String>,
    smtp_url_file: Option<PathBuf>,
    smtp_from: Option<String>,
    webhook_secret: Option<String>,
    webhook_secret_file: Option<PathBuf>,
    escalation_max_age_seconds: Option<u64>,
    delivery_retry_seconds: Option<u64>,
    delivery_max_attempts: Option<u32>,
    delivery_lease_seconds: Option<u64>,
    probes: Option<bool>,
    public_url: Option<String>,
    survey_secret: Option<String>,
    survey_secret_file: Option<PathBuf>,
    report_issuer: Option<String>,
    report_signing_key: Option<String>,
    report_signing_key_file: Option<PathBuf>,
    csat_threshold: Option<f64>,
}

/// A value or a file holding it, from one layer: the later layer's choice wins whole.
fn either<T>(
    earlier: (Option<T>, Option<PathBuf>),
    later: (Option<T>, Option<PathBuf>),
) -> (Option<T>, Option<PathBuf>) {
    if later.0.is_some() || later.1.is_some() { later } else { earlier }
}

/// A setting given as a value, or as a file holding it (`key` names the file's setting).
fn value_or_file(
    value: Option<String>,
    file: Option<PathBuf>,
    key: &str,
) -> anyhow::Result<Option<String>> {
    Ok(match (value, file) {
        (Some(value), _) => Some(value),
        (None, Some(path)) => Some(
            std::fs::read_to_string(&path)
                .with_context(|| format!("{key}: reading {}", path.display()))?
                .trim()
                .to_owned(),
        ),
        (None, None) => None,
    })
}

impl Layer {
    /// How escalations are notified.
    fn notify_config(&self) -> anyhow::Result<super::notify::NotifyConfig> {
        let defaults = super::notify::NotifyConfig::default();
        let seconds = |value: Option<u64>, default: jiff::SignedDuration| {
            value.map_or(default, |seconds| {
                jiff::SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX))
            })
        };
        let max_attempts = self.delivery_max_attempts.unwrap_or(defaults.max_attempts);
        if max_attempts == 0 {
            bail!("delivery_max_attempts: at least 1");
        }
        Ok(super::notify::NotifyConfig {
            node: self.node.clone().filter(|node| !node.trim().is_empty()).unwrap_or(defaults.node),
            smtp_url: value_or_file(
                self.smtp_url.clone(),
                self.smtp_url_file.clone(),
                "smtp_url_file",
            )?,
            smtp_from: self.smtp_from.clone().unwrap_or(defaults.smtp_from),
            webhook_secret: value_or_file(
                self.webhook_secret.clone(),
                self.webhook_secret_file.clone(),
                "webhook_secret_file",
            )?,
            max_age: seconds(self.escalation_max_age_seconds, defaults.max_age),
            retry_base: seconds(self.delivery_retry_seconds, defaults.retry_base),
            max_attempts,
            lease: seconds(self.delivery_lease_seconds, defaults.lease)
                .max(jiff::SignedDuration::from_secs(1)),
        })
    }

    /// `later` wins where it sets a value.
    fn then(self, later: Layer) -> Layer {
        let (database, database_file) =
            either((self.database, self.database_file), (later.database, later.database_file));
        let (nats, nats_file) = either((self.nats, self.nats_file), (later.nats, later.nats_file));
        let (smtp_url, smtp_url_file) =
            either((self.smtp_url, self.smtp_url_file), (later.smtp_url, later.smtp_url_file));
        let (webhook_secret, webhook_secret_file) = either(
            (self.webhook_secret, self.webhook_secret_file),
            (later.webhook_secret, later.webhook_secret_file),
        );
        let (survey_secret, survey_secret_file) = either(
            (self.survey_secret, self.survey_secret_file),
            (later.survey_secret, later.survey_secret_file),
        );
        let (report_signing_key, report_signing_key_file) = either(
            (self.report_signing_key, self.report_signing_key_file),
            (later.report_signing_key, later.report_signing_key_file),
        );
        Layer {
            report_issuer: later.report_issuer.or(self.report_issuer),
            report_signing_key,
            report_signing_key_file,
            csat_threshold: later.csat_threshold.or(self.csat_threshold),
            public_url: later.public_url.or(self.public_url),
            survey_secret,
            survey_secret_file,
            listen: later.listen.or(self.listen),
            data: later.data.or(self.data),
            database,
            database_file,
            log_format: later.log_format.or(self.log_format),
            log: later.log.or(self.log),
            max_body_bytes: later.max_body_bytes.or(self.max_body_bytes),
            shutdown_grace_seconds: later.shutdown_grace_seconds.or(self.shutdown_grace_seconds),
            trusted_proxies: later.trusted_proxies.or(self.trusted_proxies),
            nats,
            nats_file,
            nats_stream: later.nats_stream.or(self.nats_stream),
            nats_events_subject: later.nats_events_subject.or(self.nats_events_subject),
            nats_probe_results_subject: later
                .nats_probe_results_subject
                .or(self.nats_probe_results_subject),
            nats_consumer: later.nats_consumer.or(self.nats_consumer),
            nats_ack_wait_seconds: later.nats_ack_wait_seconds.or(self.nats_ack_wait_seconds),
            probes: later.probes.or(self.probes),
            node: later.node.or(self.node),
            smtp_url,
            smtp_url_file,
            smtp_from: later.smtp_from.or(self.smtp_from),
            webhook_secret,
            webhook_secret_file,
            escalation_max_age_seconds: later
                .escalation_max_age_seconds
                .or(self.escalation_max_age_seconds),
            delivery_retry_seconds: later.delivery_retry_seconds.or(self.delivery_retry_seconds),
            delivery_max_attempts: later.delivery_max_attempts.or(self.delivery_max_attempts),
            delivery_lease_seconds: later.delivery_lease_seconds.or(self.delivery_lease_seconds),
        }
    }
}

/// The `ACCORD_` variables the server reads, with their keys.
const VARIABLES: [(&str, &str); 34] = [
    ("ACCORD_LISTEN", "listen"),
    ("ACCORD_DATA", "data"),
    ("ACCORD_DATABASE", "database"),
    ("ACCORD_DATABASE_FILE", "database_file"),
    ("ACCORD_LOG_FORMAT", "log_format"),
    ("ACCORD_LOG", "log"),
    ("ACCORD_MAX_BODY_BYTES", "max_body_bytes"),
    ("ACCORD_SHUTDOWN_GRACE_SECONDS", "shutdown_grace_seconds"),
    ("ACCORD_TRUSTED_PROXIES", "trusted_proxies"),
    ("ACCORD_NATS", "nats"),
    ("ACCORD_NATS_FILE", "nats_file"),
    ("ACCORD_NATS_STREAM", "nats_stream"),
    ("ACCORD_NATS_EVENTS_SUBJECT", "nats_events_subject"),
    ("ACCORD_NATS_PROBE_RESULTS_SUBJECT", "nats_probe_results_subject"),
    ("ACCORD_NATS_CONSUMER", "nats_consumer"),
    ("ACCORD_NATS_ACK_WAIT_SECONDS", "nats_ack_wait_seconds"),
    ("ACCORD_NODE", "node"),
    ("ACCORD_SMTP_URL", "smtp_url"),
    ("ACCORD_SMTP_URL_FILE", "smtp_url_file"),
    ("ACCORD_SMTP_FROM", "smtp_from"),
    ("ACCORD_WEBHOOK_SECRET", "webhook_secret"),
    ("ACCORD_WEBHOOK_SECRET_FILE", "webhook_secret_file"),
    ("ACCORD_ESCALATION_MAX_AGE_SECONDS", "escalation_max_age_seconds"),
    ("ACCORD_DELIVERY_RETRY_SECONDS", "delivery_retry_seconds"),
    ("ACCORD_DELIVERY_MAX_ATTEMPTS", "delivery_max_attempts"),
    ("ACCORD_DELIVERY_LEASE_SECONDS", "delivery_lease_seconds"),
    ("ACCORD_PROBES", "probes"),
    ("ACCORD_PUBLIC_URL", "public_url"),
    ("ACCORD_SURVEY_SECRET", "survey_secret"),
    ("ACCORD_SURVEY_SECRET_FILE", "survey_secret_file"),
    ("ACCORD_REPORT_ISSUER", "report_issuer"),
    ("ACCORD_REPORT_SIGNING_KEY", "report_signing_key"),
    ("ACCORD_REPORT_SIGNING_KEY_FILE", "report_signing_key_file"),
    ("ACCORD_CSAT_THRESHOLD", "csat_threshold"),
];

/// Variables of other tools that share the prefix: the test suites' own settings.
const FOREIGN_PREFIXES: [&str; 2] = ["ACCORD_TEST_", "ACCORD_BENCH_"];

fn environment_layer(environment: &[(String, String)]) -> anyhow::Result<Layer> {
    let mut table = toml::Table::new();
    for (name, value) in environment {
        if !name.starts_with("ACCORD_") || FOREIGN_PREFIXES.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let Some((_, key)) = VARIABLES.iter().find(|(variable, _)| variable == name) else {
            let known: Vec<&str> = VARIABLES.iter().map(|(variable, _)| *variable).collect();
            bail!(
                "environment variable {name} is not a setting: expected one of {}",
                known.join(", ")
            );
        };
        let value = match *key {
            "max_body_bytes"
            | "shutdown_grace_seconds"
            | "nats_ack_wait_seconds"
            | "escalation_max_age_seconds"
            | "delivery_retry_seconds"
            | "delivery_max_attempts"
            | "delivery_lease_seconds" => {
                let number: i64 = value.trim().parse().with_context(|| {
                    format!("environment variable {name}: expected a whole number")
                })?;
                toml::Value::Integer(number)
            }
            "csat_threshold" => {
                let number: f64 = value
                    .trim()
                    .parse()
                    .with_context(|| format!("environment variable {name}: expected a number"))?;
                toml::Value::Float(number)
            }
            "probes" => match value.trim() {
                "true" | "1" => toml::Value::Boolean(true),
                "false" | "0" => toml::Value::Boolean(false),
                _ => bail!("environment variable {name}: expected true or false"),
            },
            "trusted_proxies" => toml::Value::Array(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| toml::Value::String(item.to_owned()))
                    .collect(),
            ),
            _ => toml::Value::String(value.clone()),
        };
        table.insert((*key).to_owned(), value);
    }
    Layer::deserialize(table).map_err(|error| anyhow::anyhow!("environment: {error}"))
}

fn file_layer(path: &Path) -> anyhow::Result<Layer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the configuration {}", path.display()))?;
    toml::from_str(&text).map_err(|error| {
        // The error names the line, column and key.
        anyhow::anyhow!("{}: {}", path.display(), error.to_string().trim_end())
    })
}

impl Config {
    /// Resolves the settings from the defaults, `args.config`, `environment` (the process's
    /// variables) and the flags.
    ///
    /// # Errors
    ///
    /// An unreadable or invalid file, an unknown key or variable, or a value that does not
    /// parse, each named.
    pub fn load(args: &ServeArgs, environment: &[(String, String)]) -> anyhow::Result<Config> {
        let defaults: Layer = toml::from_str(EXAMPLE).expect("invariant: the example parses");
        let file = match &args.config {
            Some(path) => file_layer(path)?,
            None => Layer::default(),
        };
        let flags = Layer {
            listen: args.listen.clone(),
            data: args.data.clone(),
            database: args.database.clone(),
            log_format: args.log_format.clone(),
            nats: args.nats.clone(),
            ..Layer::default()
        };
        let layer = defaults.then(file).then(environment_layer(environment)?).then(flags);
        let notify = layer.notify_config()?;
        let survey_secret = value_or_file(
            layer.survey_secret.clone(),
            layer.survey_secret_file.clone(),
            "survey_secret_file",
        )?;
        let survey = super::survey::SurveyConfig::new(
            layer.public_url.clone(),
            survey_secret.or_else(|| notify.webhook_secret.clone()),
        )?;
        let listen_text = layer.listen.unwrap_or_default();
        let listen = listen_text.parse().with_context(|| {
            format!("listen: {listen_text:?} is not an address such as 127.0.0.1:8080")
        })?;
        let data = layer.data.unwrap_or_else(|| PathBuf::from("accord-data"));
        let database = value_or_file(layer.database, layer.database_file, "database_file")?;
        let location = match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Location::Postgres(url)
            }
            Some(_) => bail!("database: expected a postgres:// URL"),
            None => Location::Sqlite(data.join("accord.db")),
        };
        let log_format = match layer.log_format.as_deref() {
            Some("text") | None => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("log_format: {other:?}: expected text or json"),
        };
        let trusted_proxies = layer
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|text| {
                text.parse::<IpAddr>().with_context(|| {
                    format!("trusted_proxies: {text:?} is not an IP address such as 10.0.0.2")
                })
            })
            .collect::<anyhow::Result<Vec<IpAddr>>>()?;
        let max_body_bytes = layer.max_body_bytes.unwrap_or(8 << 20);
        if max_body_bytes < 1024 {
            bail!("max_body_bytes: {max_body_bytes} is too small: at least 1024");
        }
        // Cloned, not moved: other settings are resolved from `layer` after these.
        let nats_url = value_or_file(layer.nats.clone(), layer.nats_file.clone(), "nats_file")?;
        let nats = match nats_url {
            Some(url) => Some(super::nats::Settings::new(
                url,
                layer.nats_stream.clone().unwrap_or_default(),
                layer.nats_events_subject.clone().unwrap_or_default(),
                layer.nats_probe_results_subject.clone().unwrap_or_default(),
                layer.nats_consumer.clone().unwrap_or_default(),
                layer.nats_ack_wait_seconds.unwrap_or(30),
            )?),
            None => None,
        };
        let report_signing_key = value_or_file(
            layer.report_signing_key.clone(),
            layer.report_signing_key_file.clone(),
            "report_signing_key_file",
        )?
        .map(|seed| {
            crate::report::sign::SigningKey::from_base64(&seed)
                .map_err(|message| anyhow::anyhow!("report_signing_key: {message}"))
        })
        .transpose()?;
        let csat_threshold = layer.csat_threshold.unwrap_or(80.0);
        if !(0.0..=100.0).contains(&csat_threshold) {
            bail!("csat_threshold: {csat_threshold}: expected a percentage from 0 to 100");
        }
        let reports = crate::report::ReportConfig {
            settings: crate::report::Settings {
                issuer: layer.report_issuer.clone().unwrap_or_else(|| "Accord".to_owned()),
                csat_threshold,
                ..crate::report::Settings::default()
            },
            signing_key: report_signing_key.map(std::sync::Arc::new),
        };
        Ok(Config {
            listen,
            location,
            data,
            log_format,
            log: layer.log.unwrap_or_else(|| "info".to_owned()),
            max_body_bytes,
            shutdown_grace_seconds: layer.shutdown_grace_seconds.unwrap_or(30),
            trusted_proxies,
            nats,
            notify,
            probes: layer.probes.unwrap_or(true),
            survey,
            reports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ServeArgs {
        ServeArgs {
            config: None,
            listen: None,
            data: None,
            database: None,
            log_format: None,
            nats: None,
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
    }

    #[test]
    fn the_example_is_the_defaults() {
        let config = Config::load(&args(), &[]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.location, Location::Sqlite(PathBuf::from("accord-data/accord.db")));
        assert_eq!((config.log_format, config.max_body_bytes), (LogFormat::Text, 8 << 20));
    }

    #[test]
    fn probing_is_on_unless_turned_off() {
        assert!(Config::load(&args(), &[]).unwrap().probes);
        let off = Config::load(&args(), &env(&[("ACCORD_PROBES", "false")])).unwrap();
        assert!(!off.probes);
        let error = Config::load(&args(), &env(&[("ACCORD_PROBES", "no")])).unwrap_err();
        assert!(error.to_string().contains("ACCORD_PROBES: expected true or false"), "{error}");
    }

    #[test]
    fn flags_win_over_variables_and_variables_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accord.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\ndata = \"/srv\"\n",
        )
        .unwrap();
        let mut with_file = args();
        with_file.config = Some(file.clone());
        let config =
            Config::load(&with_file, &env(&[("ACCORD_LISTEN", "127.0.0.1:9001")])).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9001".parse().unwrap());
        assert_eq!((config.log_format, config.data), (LogFormat::Json, PathBuf::from("/srv")));
        with_file.listen = Some("127.0.0.1:9002".to_owned());
        let config =
            Config::load(&with_file, &env(&[("ACCORD_LISTEN", "127.0.0.1:9001")])).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9002".parse().unwrap());
    }

    #[test]
    fn unknown_keys_and_variables_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("accord.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:1\"\nlisten_port = 8080\n").unwrap();
        let mut with_file = args();
        with_file.config = Some(file);
        let error = Config::load(&with_file, &[]).unwrap_err().to_string();
        assert!(error.contains("accord.toml") && error.contains("listen_port"), "{error}");
        assert!(error.contains("line 2"), "{error}");
        let error = Config::load(&args(), &env(&[("ACCORD_LISTN", "x")])).unwrap_err();
        assert!(error.to_string().contains("ACCORD_LISTN is not a setting"), "{error}");
        // The test suites' variables share the prefix and are not the server's.
        assert!(Config::load(&args(), &env(&[("ACCORD_TEST_POSTGRES_URL", "x")])).is_ok());
    }

    #[test]
    fn trusted_proxies_come_as_a_list_or_a_comma_separated_variable() {
        let config =
            Config::load(&args(), &env(&[("ACCORD_TRUSTED_PROXIES", "10.0.0.2, ::1")])).unwrap();
        assert_eq!(
            config.trusted_proxies,
            ["10.0.0.2".parse::<IpAddr>().unwrap(), "::1".parse().unwrap()]
        );
        let error = Config::load(&args(), &env(&[("ACCORD_TRUSTED_PROXIES", "proxy.local")]));
        assert!(error.unwrap_err().to_string().contains("trusted_proxies: \"proxy.local\""));
    }

    #[test]
    fn survey_links_take_their_own_secret_or_the_webhook_secret_and_never_show_it() {
        let config = Config::load(&args(), &[]).unwrap();
        assert_eq!(config.survey, super::super::survey::SurveyConfig::default());
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("survey");
        std::fs::write(&secret, "hunter2\n").unwrap();
        let environment = env(&[
            ("ACCORD_PUBLIC_URL", "https://accord.example/"),
            ("ACCORD_SURVEY_SECRET_FILE", secret.to_str().unwrap()),
            ("ACCORD_WEBHOOK_SECRET", "other"),
        ]);
        let config = Config::load(&args(), &environment).unwrap();
        assert_eq!(config.survey.public_url.as_deref(), Some("https://accord.example"));
        assert_eq!(config.survey.secret.as_deref(), Some("hunter2"));
        assert!(!format!("{config:?}").contains("hunter2"));
        let webhook = Config::load(&args(), &env(&[("ACCORD_WEBHOOK_SECRET", "other")])).unwrap();
        assert_eq!(webhook.survey.secret.as_deref(), Some("other"));
        let error = Config::load(&args(), &env(&[("ACCORD_PUBLIC_URL", "accord.example")]));
        assert!(error.unwrap_err().to_string().contains("public_url: \"accord.example\""));
    }

    #[test]
    fn the_database_url_can_come_from_a_file_and_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("url");
        std::fs::write(&secret, "postgres://accord:hunter2@db/accord\n").unwrap();
        let config =
            Config::load(&args(), &env(&[("ACCORD_DATABASE_FILE", secret.to_str().unwrap())]))
                .unwrap();
        assert_eq!(
            config.location,
            Location::Postgres("postgres://accord:hunter2@db/accord".into())
        );
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
