//! Accord's storage: the only crate that contains SQL.
//!
//! One [`Store`] API over two databases, chosen once at startup by a [`Location`]: SQLite (a
//! file, the embedded default) and PostgreSQL. Each backend has its own module with its own SQL
//! and its own migrations (`migrations/sqlite/`, `migrations/postgres/`), using the native
//! driver rather than a lowest-common-denominator one; rows become `accord-core` values and
//! driver errors become [`StoreError`] at this crate's edge.
//!
//! # What is stored
//!
//! - **Documents**, named by `(kind, name)`: an agreement, a calendar, a policy.
//! - **Revisions** of each document, numbered 1, 2, 3, ...: the content as applied (canonical
//!   JSON, its SHA-256 and the YAML it came from), who applied it and why, and its term.
//!   Applying unchanged content records nothing.
//! - **Transitions** of revisions through their lifecycle (`accord_core::lifecycle`), for
//!   kinds that have one, in recording order.
//! - **The ticket event log**: every helpdesk event, append-only, by position.
//! - **The audit log**: every change to documents, lifecycle states, users, tokens and
//!   settings, hash-chained, written in the transaction of the change.
//! - **Availability observations**: probe outages, gaps and latency minutes, heartbeats,
//!   request counts and incidents.
//!
//! Instants are kept to the microsecond: SQLite stores them as `INTEGER` microseconds since the
//! Unix epoch, PostgreSQL as `timestamptz` (through `jiff-sqlx`). Finer instants given to the
//! store are truncated to the microsecond before anything is planned or written, so what the
//! store returns is what it will read back.
//!
//! **Architecture Invariant:** only this crate contains SQL, and nothing outside it sees a
//! `sqlx` type.
//!
//! **Architecture Invariant:** changes to one document are serialized: SQLite writes in
//! `BEGIN IMMEDIATE` transactions, PostgreSQL locks the document's row first, so revision
//! numbers never repeat and lifecycle requests are planned against the latest history.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;

use accord_core::lifecycle::{self, LifecycleError, Request, RevisionLifecycle, Transition};
use jiff::Timestamp;

/// Runs `$body` with `$pool` the backend's pool and `$lock` the row-locking clause of a claim,
/// for SQL written once for both backends (`$N` placeholders, which SQLite reads too, and
/// instants as microseconds). Defined before the modules, so every module can use it.
macro_rules! with_pool {
    ($store:expr, |$pool:ident, $lock:ident| $body:expr) => {
        match &$store.backend {
            Backend::Sqlite(store) => {
                let $pool = store.pool();
                let $lock = "";
                $body
            }
            Backend::Postgres(store) => {
                let $pool = store.pool();
                let $lock = " FOR UPDATE SKIP LOCKED";
                $body
            }
        }
    };
}

mod accounts;
mod audit;
mod columns;
mod dead_letters;
mod events;
mod leases;
mod notifications;
mod observations;
mod postgres;
mod report_sends;
mod sqlite;
mod surveys;

pub use accounts::{
    LOGIN_FAILURES_KEPT, NewSession, NewToken, NewUser, SessionRecord, TokenRecord, UserRecord,
};
pub use audit::{AuditEntry, AuditHead, AuditProblem, AuditVerification, GENESIS_HASH, entry_hash};
pub use dead_letters::{DeadLetter, NewDeadLetter};
pub use events::{Appended, NewEvent, StoredEvent};
pub use leases::Lease;
pub use notifications::{
    AfterAttempt, BREACH_RUNG, Delivery, DeliveryAttempt, FiringKey, FiringOutcome, FiringRecord,
    NewDelivery, NewFiring,
};
pub use observations::{
    HeartbeatSettings, ProbeBatch, ProbeHistory, ProbeRecorded, ProbeResult, ProbeSettings,
};
pub use report_sends::{NewReportSend, ReportEvidence, ReportFile, ReportSend};
pub use surveys::{NewSurvey, Survey};

/// Where the database lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file, created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user@host:5432/database`).
    Postgres(String),
}

impl Location {
    /// Reads a location as written in configuration: a `postgres://` or `postgresql://` URL is
    /// PostgreSQL; `sqlite:PATH`, `sqlite://PATH` or a plain path is a SQLite file.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidLocation`] when no path or URL is given.
    pub fn parse(text: &str) -> Result<Location, StoreError> {
        let invalid = || StoreError::InvalidLocation { location: text.to_owned() };
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Location::Postgres(text.to_owned()));
        }
        let path = text.strip_prefix("sqlite://").or(text.strip_prefix("sqlite:")).unwrap_or(text);
        if path.trim().is_empty() {
            return Err(invalid());
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }
}

/// Shows the location with any password in a PostgreSQL URL replaced by `[redacted]`.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "sqlite database {}", path.display()),
            Location::Postgres(url) => write!(f, "postgres database {}", redact_password(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Location::Postgres(url) => {
                f.debug_tuple("Postgres").field(&redact_password(url)).finish()
            }
        }
    }
}

/// `postgres://user:secret@host/db?password=secret` becomes
/// `postgres://user:[redacted]@host/db?password=[redacted]`.
fn redact_password(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut redacted = base.to_owned();
    if let Some((scheme, rest)) = base.split_once("://") {
        let authority = rest.split('/').next().unwrap_or(rest);
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((user, _)) = userinfo.split_once(':')
        {
            redacted = format!("{scheme}://{user}:[redacted]{}", &rest[userinfo.len()..]);
        }
    }
    if let Some(query) = query {
        let parameters: Vec<&str> =
            query
                .split('&')
                .map(|parameter| {
                    if parameter.starts_with("password=") {
                        "password=[redacted]"
                    } else {
                        parameter
                    }
                })
                .collect();
        redacted = format!("{redacted}?{}", parameters.join("&"));
    }
    redacted
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A database location that names nothing.
    #[error(
        "invalid database location {location:?}: expected a postgres:// URL, sqlite:PATH or a file path"
    )]
    InvalidLocation {
        /// The location as written.
        location: String,
    },
    /// A document or revision that does not exist.
    #[error("no {what}")]
    NotFound {
        /// What was asked for, such as `revision 7 of Agreement acme-sla (latest is 3)`.
        what: String,
    },
    /// Something that exists already, such as a user with the same name; nothing was written.
    #[error("{what} already exists")]
    Duplicate {
        /// What exists already, such as `user ann`.
        what: String,
    },
    /// A lifecycle request refused by `accord_core::lifecycle::plan`; nothing was recorded.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// A concurrent change got in the way (a busy database, a deadlock, a duplicate revision
    /// number); nothing was written, and trying again may succeed.
    #[error("{doing}: conflicting concurrent change, try again")]
    Conflict {
        /// What the store was doing.
        doing: String,
        /// The driver's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// Input the store refuses, such as an incident that affects nothing; nothing was written.
    #[error("{what}")]
    Invalid {
        /// What is wrong.
        what: String,
    },
    /// A ticket event whose id is already in the log, or earlier in the same batch, with other
    /// content; nothing of the batch was written.
    #[error("event {id} differs from the one with the same id {}", events::conflicting(.position))]
    EventConflict {
        /// The event's id.
        id: String,
        /// The position of the logged event with that id; `None` when both are in the batch.
        position: Option<u64>,
    },
    /// A stored value this version cannot read, such as an unknown lifecycle state.
    #[error("stored data is invalid: {what}")]
    Corrupt {
        /// The value and where it is stored.
        what: String,
    },
    /// Any other database failure; nothing of the operation was written.
    #[error("{doing}")]
    Database {
        /// What the store was doing, such as `opening sqlite database /srv/accord.db`.
        doing: String,
        /// The driver's error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// Turns a driver error into a [`StoreError`], saying what the store was doing. Busy databases,
/// deadlocks, serialization failures and unique violations are conflicts; the rest are
/// database errors.
fn database(doing: impl Into<String>, error: sqlx::Error) -> StoreError {
    let doing = doing.into();
    let conflict = error.as_database_error().is_some_and(|db_error| {
        // PostgreSQL: 40001 serialization_failure, 40P01 deadlock_detected. SQLite (extended
        // codes): SQLITE_BUSY and SQLITE_LOCKED with their variants.
        let code = db_error.code();
        db_error.is_unique_violation()
            || matches!(
                code.as_deref(),
                Some("40001" | "40P01" | "5" | "6" | "261" | "262" | "517")
            )
    });
    if conflict {
        StoreError::Conflict { doing, source: Box::new(error) }
    } else {
        StoreError::Database { doing, source: Box::new(error) }
    }
}

/// Truncates an instant to the microsecond, the resolution both databases keep.
fn to_microsecond(at: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(at.as_microsecond())
        .expect("invariant: a Timestamp truncated toward zero to the microsecond is in range")
}

/// A revision number as stored (`INTEGER`/`BIGINT`) to the API's `u32`.
fn revision_number(stored: i64, document: &str) -> Result<u32, StoreError> {
    u32::try_from(stored).map_err(|_| StoreError::Corrupt {
        what: format!("revision number {stored} of {document}"),
    })
}

/// A lifecycle state as stored (`draft`, ...) to the core type.
fn lifecycle_state(stored: &str, document: &str) -> Result<lifecycle::LifecycleState, StoreError> {
    stored.parse().map_err(|_| StoreError::Corrupt {
        what: format!("lifecycle state {stored:?} of {document}"),
    })
}

/// `Agreement acme-sla`: how messages name a document.
fn document_name(kind: &str, name: &str) -> String {
    format!("{kind} {name}")
}

/// One document's content as read from a file, to be stored as a revision if it changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRevision {
    /// The document's kind, such as `Agreement`.
    pub kind: String,
    /// The document's name, unique within its kind.
    pub name: String,
    /// Lowercase hex SHA-256 of `canonical`; equal hashes mean unchanged content.
    pub content_hash: String,
    /// The document as canonical JSON.
    pub canonical: String,
    /// The document's YAML as written in its file.
    pub source_text: String,
    /// The file it was read from, as given.
    pub source_path: String,
    /// The line of the document's first line in that file, from 1.
    pub source_line: u32,
    /// When the revision starts to apply, if its content says.
    pub effective_from: Option<Timestamp>,
    /// When the revision stops applying (exclusive), if its content says; after
    /// `effective_from`.
    pub effective_until: Option<Timestamp>,
    /// Whether this kind has a lifecycle: if so, a new revision starts as `draft`.
    pub lifecycle: bool,
}

/// What applying one document did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The document was new: revision 1 was recorded.
    Created,
    /// The content changed: a new revision was recorded.
    Updated,
    /// The content equals the latest revision's: nothing was recorded.
    Unchanged,
}

/// The outcome of applying one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The document's kind.
    pub kind: String,
    /// The document's name.
    pub name: String,
    /// The revision that now holds the document's content: the new one, or the latest one
    /// when unchanged.
    pub revision: u32,
    /// What happened.
    pub change: Change,
}

/// One revision of a document, without its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionSummary {
    /// The revision's number within its document, from 1.
    pub number: u32,
    /// Lowercase hex SHA-256 of the canonical content.
    pub content_hash: String,
    /// Who applied it.
    pub author: String,
    /// Why, in the author's words.
    pub message: String,
    /// When it was applied.
    pub created_at: Timestamp,
    /// The file it was read from.
    pub source_path: String,
    /// The line of the document's first line in that file.
    pub source_line: u32,
    /// When the revision starts to apply, if its content says.
    pub effective_from: Option<Timestamp>,
    /// When the revision stops applying (exclusive), if its content says.
    pub effective_until: Option<Timestamp>,
}

impl RevisionSummary {
    /// The revision's term, as `accord_core::lifecycle` takes it.
    pub fn lifecycle(&self) -> RevisionLifecycle {
        RevisionLifecycle {
            revision: self.number,
            effective_from: self.effective_from,
            effective_until: self.effective_until,
        }
    }
}

/// One revision of a document, with its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// The document's kind.
    pub kind: String,
    /// The document's name.
    pub name: String,
    /// Number, hash, author and term.
    pub summary: RevisionSummary,
    /// The document as canonical JSON.
    pub canonical: String,
    /// The document's YAML as written in its file.
    pub source_text: String,
}

/// A stored document and its latest revision number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentSummary {
    /// The document's kind.
    pub kind: String,
    /// The document's name.
    pub name: String,
    /// The number of its latest revision.
    pub latest: u32,
}

/// Accord's storage, on SQLite or PostgreSQL.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

impl Store {
    /// Connects to the database at `location` and runs any pending migrations. A SQLite file is
    /// created if missing (its directory must exist), in WAL mode with full synchronous writes
    /// and foreign keys on.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database cannot be opened or migrated.
    pub async fn open(location: &Location) -> Result<Store, StoreError> {
        let backend = match location {
            Location::Sqlite(path) => Backend::Sqlite(sqlite::SqliteStore::open(path).await?),
            Location::Postgres(url) => {
                Backend::Postgres(postgres::PgStore::open(url, &location.to_string()).await?)
            }
        };
        Ok(Store { backend })
    }

    /// Closes every connection, waiting for operations in progress. Dropping the store closes
    /// them too, but without waiting.
    pub async fn close(self) {
        match self.backend {
            Backend::Sqlite(store) => store.close().await,
            Backend::Postgres(store) => store.close().await,
        }
    }

    /// Records the documents whose content changed, all or nothing, in one transaction.
    ///
    /// For each document, in order: if the latest revision has the same `content_hash` nothing
    /// is recorded ([`Change::Unchanged`]); otherwise the next revision is recorded with
    /// `author`, `message` and `now`, and, when the kind has a lifecycle, its initial `draft`
    /// transition (by `author`, noted with `message`, recorded and effective at `now`).
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] (for example, a `content_hash` that is not lowercase hex
    /// SHA-256) or [`StoreError::Conflict`]; either way nothing was written.
    pub async fn apply(
        &self,
        documents: &[NewRevision],
        author: &str,
        message: &str,
        now: Timestamp,
    ) -> Result<Vec<Applied>, StoreError> {
        let now = to_microsecond(now);
        match &self.backend {
            Backend::Sqlite(store) => store.apply(documents, author, message, now).await,
            Backend::Postgres(store) => store.apply(documents, author, message, now).await,
        }
    }

    /// Every revision of a document, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when there is no such document.
    pub async fn revisions(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<RevisionSummary>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.revisions(kind, name).await,
            Backend::Postgres(store) => store.revisions(kind, name).await,
        }
    }

    /// One revision of a document, with its content.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when there is no such document or revision; for a revision,
    /// the message names the latest one.
    pub async fn revision(
        &self,
        kind: &str,
        name: &str,
        number: u32,
    ) -> Result<Revision, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.revision(kind, name, number).await,
            Backend::Postgres(store) => store.revision(kind, name, number).await,
        }
    }

    /// Every document, or every document of one kind, by kind and name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn documents(&self, kind: Option<&str>) -> Result<Vec<DocumentSummary>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.documents(kind).await,
            Backend::Postgres(store) => store.documents(kind).await,
        }
    }

    /// A number that grows with every revision of a catalog document (the kinds of
    /// `accord_core::agreement::Kind`, not settings such as probe definitions) and every
    /// lifecycle transition, recorded by any node: a cache of the catalog is stale when it
    /// changed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn catalog_version(&self) -> Result<i64, StoreError> {
        let kinds: Vec<String> = accord_core::agreement::Kind::ALL
            .iter()
            .map(|kind| format!("'{}'", kind.as_str()))
            .collect();
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM revisions JOIN documents \
             ON documents.id = revisions.document_id WHERE documents.kind IN ({})) \
             + (SELECT COUNT(*) FROM transitions) AS version",
            kinds.join(", ")
        );
        let doing = |error| database("reading the catalog version", error);
        with_pool!(self, |pool, _lock| {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.map_err(doing)?;
            sqlx::Row::try_get(&row, "version").map_err(doing)
        })
    }

    /// The latest revision of every document, or of every document of one kind, by kind and
    /// name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn latest(&self, kind: Option<&str>) -> Result<Vec<Revision>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.latest(kind).await,
            Backend::Postgres(store) => store.latest(kind).await,
        }
    }

    /// Every lifecycle transition of every revision of a document, in recording order; empty
    /// for a kind without a lifecycle.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when there is no such document.
    pub async fn transitions(&self, kind: &str, name: &str) -> Result<Vec<Transition>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.transitions(kind, name).await,
            Backend::Postgres(store) => store.transitions(kind, name).await,
        }
    }

    /// Moves a revision through its lifecycle: plans the request with
    /// `accord_core::lifecycle::plan` against the document's current history and records what
    /// it returns, in one transaction serialized with every other change to the document.
    /// Returns the recorded transitions.
    ///
    /// # Errors
    ///
    /// - [`StoreError::NotFound`] when there is no such document.
    /// - [`StoreError::Lifecycle`] when the request is refused; nothing is recorded.
    pub async fn transition(
        &self,
        kind: &str,
        name: &str,
        request: &Request,
        now: Timestamp,
    ) -> Result<Vec<Transition>, StoreError> {
        let now = to_microsecond(now);
        match &self.backend {
            Backend::Sqlite(store) => store.transition(kind, name, request, now).await,
            Backend::Postgres(store) => store.transition(kind, name, request, now).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: &str) {
        let shown = match Location::parse(text) {
            Ok(location) => format!("{location:?} = {location}"),
            Err(error) => format!("error: {error}"),
        };
        assert_eq!(shown, expected);
    }

    #[test]
    fn postgres_urls_are_postgres_and_other_text_is_a_sqlite_path() {
        check(
            "postgres://accord@db:5432/accord",
            r#"Postgres("postgres://accord@db:5432/accord") = postgres database postgres://accord@db:5432/accord"#,
        );
        check(
            "postgresql://db/accord?sslmode=disable",
            r#"Postgres("postgresql://db/accord?sslmode=disable") = postgres database postgresql://db/accord?sslmode=disable"#,
        );
        check(
            "sqlite:data/accord.db",
            r#"Sqlite("data/accord.db") = sqlite database data/accord.db"#,
        );
        check(
            "sqlite:///srv/accord.db",
            r#"Sqlite("/srv/accord.db") = sqlite database /srv/accord.db"#,
        );
        check("accord.db", r#"Sqlite("accord.db") = sqlite database accord.db"#);
    }

    #[test]
    fn empty_location_is_refused() {
        check(
            "sqlite:",
            r#"error: invalid database location "sqlite:": expected a postgres:// URL, sqlite:PATH or a file path"#,
        );
        check(
            " ",
            r#"error: invalid database location " ": expected a postgres:// URL, sqlite:PATH or a file path"#,
        );
    }

    #[test]
    fn passwords_in_postgres_urls_are_never_shown() {
        check(
            "postgres://accord:s3cr:et@db/accord?sslmode=disable&password=x",
            r#"Postgres("postgres://accord:[redacted]@db/accord?sslmode=disable&password=[redacted]") = postgres database postgres://accord:[redacted]@db/accord?sslmode=disable&password=[redacted]"#,
        );
    }

    #[test]
    fn instants_are_truncated_to_the_microsecond() {
        let at: Timestamp = "2026-03-01T12:00:00.123456789Z".parse().unwrap();
        assert_eq!(to_microsecond(at).to_string(), "2026-03-01T12:00:00.123456Z");
        let before_epoch: Timestamp = "1969-12-31T23:59:59.999999999Z".parse().unwrap();
        assert_eq!(to_microsecond(before_epoch).to_string(), "1970-01-01T00:00:00Z");
    }
}
