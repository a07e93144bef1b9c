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
}

impl Layer {
    /// `later` wins where it sets a value.
    fn then(self, later: Layer) -> Layer {
        Layer {
            listen: later.listen.or(self.listen),
            data: later.data.or(self.data),
            // A URL and a URL file from one layer: the later layer's choice wins whole.
            database: later.database.clone().or(if later.database_file.is_some() {
                None
            } else {
                self.database
            }),
            database_file: later.database_file.clone().or(if later.database.is_some() {
                None
            } else {
                self.database_file
            }),
            log_format: later.log_format.or(self.log_format),
            log: later.log.or(self.log),
            max_body_bytes: later.max_body_bytes.or(self.max_body_bytes),
            shutdown_grace_seconds: later.shutdown_grace_seconds.or(self.shutdown_grace_seconds),
            trusted_proxies: later.trusted_proxies.or(self.trusted_proxies),
        }
    }
}

/// The `ACCORD_` variables the server reads, with their keys.
const VARIABLES: [(&str, &str); 9] = [
    ("ACCORD_LISTEN", "listen"),
    ("ACCORD_DATA", "data"),
    ("ACCORD_DATABASE", "database"),
    ("ACCORD_DATABASE_FILE", "database_file"),
    ("ACCORD_LOG_FORMAT", "log_format"),
    ("ACCORD_LOG", "log"),
    ("ACCORD_MAX_BODY_BYTES", "max_body_bytes"),
    ("ACCORD_SHUTDOWN_GRACE_SECONDS", "shutdown_grace_seconds"),
    ("ACCORD_TRUSTED_PROXIES", "trusted_proxies"),
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
            "max_body_bytes" | "shutdown_grace_seconds" => {
                let number: i64 = value.trim().parse().with_context(|| {
                    format!("environment variable {name}: expected a whole number")
                })?;
                toml::Value::Integer(number)
            }
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
            ..Layer::default()
        };
        let layer = defaults.then(file).then(environment_layer(environment)?).then(flags);
        let listen_text = layer.listen.unwrap_or_default();
        let listen = listen_text.parse().with_context(|| {
            format!("listen: {listen_text:?} is not an address such as 127.0.0.1:8080")
        })?;
        let data = layer.data.unwrap_or_else(|| PathBuf::from("accord-data"));
        let database = match (layer.database, layer.database_file) {
            (Some(url), _) => Some(url),
            (None, Some(path)) => Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("database_file: reading {}", path.display()))?
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
        };
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
        Ok(Config {
            listen,
            location,
            data,
            log_format,
            log: layer.log.unwrap_or_else(|| "info".to_owned()),
            max_body_bytes,
            shutdown_grace_seconds: layer.shutdown_grace_seconds.unwrap_or(30),
            trusted_proxies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ServeArgs {
        ServeArgs { config: None, listen: None, data: None, database: None, log_format: None }
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
