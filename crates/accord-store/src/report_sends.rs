//! Scheduled compliance reports: each customer's report of each period, claimed once however
//! many server nodes find it due, and what became of sending it.
//!
//! Exactly once comes from the key: a send is `(customer, period)`, and only the node whose
//! insert takes a new key sends; the row is leased to it while it does. A failed attempt
//! releases the lease with the instant of the next one, and any node may lease the row again
//! then (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer), so the report is
//! retried, never duplicated. A node that dies while sending leaves a lease that runs out, and
//! the report is sent again: at least once, like notification deliveries.
//!
//! The table keeps instants as microseconds since the epoch on both backends, so the SQL is
//! written once (see `with_pool!`).

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::{AfterAttempt, Backend, Store, StoreError, database};

use crate::columns::{Columns, micros};

/// These tables' columns, named in errors.
const TABLES: Columns = Columns("the report sends");

/// A report send to claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReportSend {
    /// The customer.
    pub customer: String,
    /// The period: `2026-10`, `2026-Q4` or `2026`.
    pub period: String,
    /// `month`, `quarter` or `year`.
    pub every: String,
    /// When the schedule made it due.
    pub due_at: Timestamp,
    /// The formats attached: `pdf`, `csv`.
    pub formats: Vec<String>,
    /// The e-mail addresses.
    pub recipients: Vec<String>,
}

/// One file of a sent report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFile {
    /// `pdf`, `csv`...
    pub format: String,
    /// `accord-acme-2026-10.pdf`.
    pub file_name: String,
    /// The SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

/// What a report was computed from, and its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportEvidence {
    /// The last event-log position folded in.
    pub position: u64,
    /// The instant the figures are as of.
    pub as_of: Timestamp,
    /// The files, in the order of the formats.
    pub files: Vec<ReportFile>,
}

/// A report send as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportSend {
    /// What was claimed.
    pub send: NewReportSend,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When the next attempt is due while pending.
    pub next_attempt_at: Timestamp,
    /// The last SMTP code.
    pub last_code: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was claimed.
    pub claimed_at: Timestamp,
    /// The node whose claim won.
    pub claimed_by: String,
    /// When it was sent.
    pub sent_at: Option<Timestamp>,
    /// The evidence, once the report was generated.
    pub evidence: Option<ReportEvidence>,
}

const COLUMNS: &str = "customer, period, every, due_at, formats, recipients, status, attempts, \
     next_attempt_at, last_code, last_error, claimed_at, claimed_by, sent_at, log_position, \
     as_of, files";

fn files_json(files: &[ReportFile]) -> String {
    let files: Vec<Value> = files
        .iter()
        .map(|file| {
            json!({ "format": file.format, "fileName": file.file_name, "sha256": file.sha256,
                "bytes": file.bytes })
        })
        .collect();
    Value::Array(files).to_string()
}

fn files_from(text: &str) -> Result<Vec<ReportFile>, StoreError> {
    let corrupt = || StoreError::Corrupt { what: format!("files {text:?} of a report send") };
    let value: Value = serde_json::from_str(text).map_err(|_| corrupt())?;
    let text_of =
        |file: &Value, key: &str| file.get(key).and_then(Value::as_str).map(str::to_owned);
    value
        .as_array()
        .ok_or_else(corrupt)?
        .iter()
        .map(|file| {
            let read = || {
                Some(ReportFile {
                    format: text_of(file, "format")?,
                    file_name: text_of(file, "fileName")?,
                    sha256: text_of(file, "sha256")?,
                    bytes: file.get("bytes")?.as_u64()?,
                })
            };
            read().ok_or_else(corrupt)
        })
        .collect()
}

fn list(text: &str, separator: char) -> Vec<String> {
    text.split(separator).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

fn report_send<'r, R>(row: &'r R) -> Result<ReportSend, StoreError>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let attempts: i64 = TABLES.get(row, "attempts")?;
    let position: Option<i64> = TABLES.get(row, "log_position")?;
    let as_of: Option<i64> = TABLES.get(row, "as_of")?;
    let files: Option<String> = TABLES.get(row, "files")?;
    let evidence = match (position, as_of, files) {
        (Some(position), Some(as_of), Some(files)) => Some(ReportEvidence {
            position: u64::try_from(position).map_err(|_| StoreError::Corrupt {
                what: format!("log position {position} of a report send"),
            })?,
            as_of: TABLES.instant(as_of)?,
            files: files_from(&files)?,
        }),
        _ => None,
    };
    Ok(ReportSend {
        send: NewReportSend {
            customer: TABLES.get(row, "customer")?,
            period: TABLES.get(row, "period")?,
            every: TABLES.get(row, "every")?,
            due_at: TABLES.instant(TABLES.get(row, "due_at")?)?,
            formats: list(&TABLES.get::<_, String>(row, "formats")?, ','),
            recipients: list(&TABLES.get::<_, String>(row, "recipients")?, '\n'),
        },
        status: TABLES.get(row, "status")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt_at: TABLES.instant(TABLES.get(row, "next_attempt_at")?)?,
        last_code: TABLES.get(row, "last_code")?,
        last_error: TABLES.get(row, "last_error")?,
        claimed_at: TABLES.instant(TABLES.get(row, "claimed_at")?)?,
        claimed_by: TABLES.get(row, "claimed_by")?,
        sent_at: TABLES
            .get::<_, Option<i64>>(row, "sent_at")?
            .map(|micros| TABLES.instant(micros))
            .transpose()?,
        evidence,
    })
}

impl Store {
    /// Claims the report of `send.customer` for `send.period` for `node` unless it is claimed
    /// already, leasing it to `node` until `now + lease`. Returns whether this call claimed it:
    /// across nodes exactly one does, and only that one sends.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn claim_report_send(
        &self,
        send: &NewReportSend,
        node: &str,
        now: Timestamp,
        lease: SignedDuration,
    ) -> Result<bool, StoreError> {
        let until = now.checked_add(lease).unwrap_or(now);
        let doing = || format!("claiming the report of {} for {}", send.customer, send.period);
        with_pool!(self, |pool, _lock| {
            let done = sqlx::query(
                "INSERT INTO report_sends (customer, period, every, due_at, formats, recipients, \
                 status, next_attempt_at, lease_owner, lease_until, claimed_at, claimed_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $7, $8) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(&send.customer)
            .bind(&send.period)
            .bind(&send.every)
            .bind(micros(send.due_at))
            .bind(send.formats.join(","))
            .bind(send.recipients.join("\n"))
            .bind(micros(now))
            .bind(node)
            .bind(micros(until))
            .execute(pool)
            .await
            .map_err(|error| database(doing(), error))?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Leases up to `limit` pending report sends whose next attempt is due at `now` to `node`
    /// for `lease`, oldest due first; sends another live node holds are skipped.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn claim_report_retries(
        &self,
        node: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<ReportSend>, StoreError> {
        let until = now.checked_add(lease).unwrap_or(now);
        with_pool!(self, |pool, lock| {
            let query = format!(
                "UPDATE report_sends SET lease_owner = $1, lease_until = $2 \
                 WHERE (customer, period) IN (SELECT customer, period FROM report_sends \
                 WHERE status = 'pending' AND next_attempt_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY next_attempt_at, customer, period LIMIT $4{lock}) RETURNING {COLUMNS}"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(query))
                .bind(node)
                .bind(micros(until))
                .bind(micros(now))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(|error| database("leasing report sends to retry", error))?;
            let mut claimed: Vec<ReportSend> =
                rows.iter().map(report_send).collect::<Result<_, _>>()?;
            claimed.sort_by(|a, b| {
                let key = |s: &ReportSend| (s.next_attempt_at, s.send.customer.clone());
                key(a).cmp(&key(b))
            });
            Ok(claimed)
        })
    }

    /// Records an attempt at sending the report of `customer` for `period`, made at `at`: the
    /// evidence when the report was generated, the SMTP `code` and the `error` when there were
    /// any, and what comes after it. The lease ends.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    #[expect(clippy::too_many_arguments, reason = "one attempt's record, field by field")]
    pub async fn finish_report_send(
        &self,
        customer: &str,
        period: &str,
        at: Timestamp,
        evidence: Option<&ReportEvidence>,
        code: Option<i64>,
        error: Option<&str>,
        after: AfterAttempt,
    ) -> Result<(), StoreError> {
        let (status, next_attempt_at, sent_at) = match after {
            AfterAttempt::Sent => ("sent", None, Some(micros(at))),
            AfterAttempt::RetryAt(retry_at) => ("pending", Some(micros(retry_at)), None),
            AfterAttempt::Failed => ("failed", None, None),
        };
        let position =
            evidence.map(|evidence| i64::try_from(evidence.position).unwrap_or(i64::MAX));
        let as_of = evidence.map(|evidence| micros(evidence.as_of));
        let files = evidence.map(|evidence| files_json(&evidence.files));
        with_pool!(self, |pool, _lock| {
            sqlx::query(
                "UPDATE report_sends SET status = $1, \
                 next_attempt_at = COALESCE($2, next_attempt_at), sent_at = $3, \
                 attempts = attempts + 1, last_code = $4, last_error = $5, \
                 log_position = COALESCE($6, log_position), as_of = COALESCE($7, as_of), \
                 files = COALESCE($8, files), lease_owner = NULL, lease_until = NULL \
                 WHERE customer = $9 AND period = $10",
            )
            .bind(status)
            .bind(next_attempt_at)
            .bind(sent_at)
            .bind(code)
            .bind(error)
            .bind(position)
            .bind(as_of)
            .bind(files)
            .bind(customer)
            .bind(period)
            .execute(pool)
            .await
            .map_err(|error| {
                database(format!("recording the report of {customer} for {period}"), error)
            })?;
            Ok(())
        })
    }

    /// The report sends, newest claim first: of `customer` only when given, at most `limit`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`].
    pub async fn report_sends(
        &self,
        customer: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReportSend>, StoreError> {
        with_pool!(self, |pool, _lock| {
            let query = format!(
                "SELECT {COLUMNS} FROM report_sends WHERE ($1 IS NULL OR customer = $1) \
                 ORDER BY claimed_at DESC, customer, period LIMIT $2"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(query))
                .bind(customer)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(|error| database("reading the report sends", error))?;
            rows.iter().map(report_send).collect()
        })
    }
}
