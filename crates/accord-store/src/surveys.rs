//! Accord's own satisfaction survey: the survey e-mail of each solved ticket, recorded once
//! however many server nodes find the solve, sent when due, and its link used once.
//!
//! Exactly once comes from the key: a survey is its ticket, so only the first insert records
//! one, and a ticket reopened and solved again gets no second survey. Sending is at least once,
//! like notification deliveries: a node leases due surveys (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL; SQLite has one writer), sends them and records the outcome; a dead node's lease
//! runs out and another node takes the survey over. The link's nonce is stored with the survey,
//! so a link is accepted only for the survey it was made for, and `used_at` is its used flag.
//!
//! The table keeps instants as microseconds since the epoch on both backends, so the SQL is
//! written once (see `with_pool!`).

use jiff::{SignedDuration, Timestamp};

use crate::{AfterAttempt, Backend, Store, StoreError, database};

use crate::columns::{Columns, micros};

/// These tables' columns, named in errors.
const TABLES: Columns = Columns("the surveys");

/// A survey to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSurvey {
    /// The ticket.
    pub ticket: String,
    /// The ticket's customer.
    pub customer: String,
    /// The requester's e-mail address.
    pub address: String,
    /// The random nonce the link's signature covers (the token id).
    pub nonce: String,
    /// When the ticket was found solved.
    pub solved_at: Timestamp,
    /// When to send the e-mail.
    pub due_at: Timestamp,
    /// When the link stops working.
    pub expires_at: Timestamp,
}

/// A survey as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    /// What was recorded.
    pub survey: NewSurvey,
    /// `pending`, `sent`, `failed` or `cancelled` (the ticket was open again when it was due).
    pub status: String,
    /// Attempts to send it so far.
    pub attempts: u32,
    /// The last SMTP code.
    pub last_code: Option<i64>,
    /// The last error, or why it was cancelled.
    pub last_error: Option<String>,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// The node that recorded it.
    pub recorded_by: String,
    /// When the e-mail was sent.
    pub sent_at: Option<Timestamp>,
    /// When the link was used to rate the ticket.
    pub used_at: Option<Timestamp>,
}

const COLUMNS: &str = "ticket, customer, address, nonce, solved_at, due_at, expires_at, status, \
     attempts, last_code, last_error, recorded_at, recorded_by, sent_at, used_at";

fn survey<'r, R>(row: &'r R) -> Result<Survey, StoreError>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let attempts: i64 = TABLES.get(row, "attempts")?;
    let optional = |name| {
        TABLES.get::<_, Option<i64>>(row, name)?.map(|micros| TABLES.instant(micros)).transpose()
    };
    Ok(Survey {
        survey: NewSurvey {
            ticket: TABLES.get(row, "ticket")?,
            customer: TABLES.get(row, "customer")?,
            address: TABLES.get(row, "address")?,
            nonce: TABLES.get(row, "nonce")?,
            solved_at: TABLES.instant(TABLES.get(row, "solved_at")?)?,
            due_at: TABLES.instant(TABLES.get(row, "due_at")?)?,
            expires_at: TABLES.instant(TABLES.get(row, "expires_at")?)?,
        },
        status: TABLES.get(row, "status")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_code: TABLES.get(row, "last_code")?,
        last_error: TABLES.get(row, "last_error")?,
        recorded_at: TABLES.instant(TABLES.get(row, "recorded_at")?)?,
        recorded_by: TABLES.get(row, "recorded_by")?,
        sent_at: optional("sent_at")?,
        used_at: optional("used_at")?,
    })
}

impl Store {
    /// Records the survey of `survey.ticket` unless the ticket has one already. Returns whether
    /// this call recorded it: across nodes, exactly one does.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn record_survey(
        &self,
        survey: &NewSurvey,
        node: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let doing = || format!("recording the survey of ticket {}", survey.ticket);
        with_pool!(self, |pool, _lock| {
            let done = sqlx::query(
                "INSERT INTO surveys (ticket, customer, address, nonce, solved_at, due_at, \
                 expires_at, status, recorded_at, recorded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) ON CONFLICT DO NOTHING",
            )
            .bind(&survey.ticket)
            .bind(&survey.customer)
            .bind(&survey.address)
            .bind(&survey.nonce)
            .bind(micros(survey.solved_at))
            .bind(micros(survey.due_at))
            .bind(micros(survey.expires_at))
            .bind(micros(now))
            .bind(node)
            .execute(pool)
            .await
            .map_err(|error| database(doing(), error))?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// The survey of `ticket`, if it has one.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`].
    pub async fn survey(&self, ticket: &str) -> Result<Option<Survey>, StoreError> {
        with_pool!(self, |pool, _lock| {
            let query = format!("SELECT {COLUMNS} FROM surveys WHERE ticket = $1");
            let row = sqlx::query(sqlx::AssertSqlSafe(query))
                .bind(ticket)
                .fetch_optional(pool)
                .await
                .map_err(|error| database(format!("reading the survey of {ticket}"), error))?;
            row.as_ref().map(survey).transpose()
        })
    }

    /// Leases up to `limit` pending surveys due at `now` to `node` for `lease`, oldest due
    /// first; surveys another live node holds are skipped.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn claim_surveys(
        &self,
        node: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<Survey>, StoreError> {
        let until = now.checked_add(lease).unwrap_or(now);
        with_pool!(self, |pool, lock| {
            let query = format!(
                "UPDATE surveys SET lease_owner = $1, lease_until = $2 \
                 WHERE ticket IN (SELECT ticket FROM surveys \
                 WHERE status = 'pending' AND due_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY due_at, ticket LIMIT $4{lock}) RETURNING {COLUMNS}"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(query))
                .bind(node)
                .bind(micros(until))
                .bind(micros(now))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(|error| database("leasing surveys", error))?;
            let mut claimed: Vec<Survey> = rows.iter().map(survey).collect::<Result<_, _>>()?;
            claimed.sort_by(|a, b| {
                (a.survey.due_at, &a.survey.ticket).cmp(&(b.survey.due_at, &b.survey.ticket))
            });
            Ok(claimed)
        })
    }

    /// Records an attempt at sending the survey of `ticket` at `at` (the SMTP `code` and the
    /// `error`, when there were any) and what comes after it; the lease ends.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn finish_survey(
        &self,
        ticket: &str,
        at: Timestamp,
        code: Option<i64>,
        error: Option<&str>,
        after: AfterAttempt,
    ) -> Result<(), StoreError> {
        let (status, due_at, sent_at) = match after {
            AfterAttempt::Sent => ("sent", None, Some(micros(at))),
            AfterAttempt::RetryAt(retry_at) => ("pending", Some(micros(retry_at)), None),
            AfterAttempt::Failed => ("failed", None, None),
        };
        with_pool!(self, |pool, _lock| {
            sqlx::query(
                "UPDATE surveys SET status = $1, due_at = COALESCE($2, due_at), sent_at = $3, \
                 attempts = attempts + 1, last_code = $4, last_error = $5, \
                 lease_owner = NULL, lease_until = NULL WHERE ticket = $6",
            )
            .bind(status)
            .bind(due_at)
            .bind(sent_at)
            .bind(code)
            .bind(error)
            .bind(ticket)
            .execute(pool)
            .await
            .map_err(|error| database(format!("recording the survey of {ticket}"), error))?;
            Ok(())
        })
    }

    /// Cancels the pending survey of `ticket` for `reason` (the ticket is open again); a survey
    /// sent already is left alone.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn cancel_survey(&self, ticket: &str, reason: &str) -> Result<(), StoreError> {
        with_pool!(self, |pool, _lock| {
            sqlx::query(
                "UPDATE surveys SET status = 'cancelled', last_error = $1, lease_owner = NULL, \
                 lease_until = NULL WHERE ticket = $2 AND status = 'pending'",
            )
            .bind(reason)
            .bind(ticket)
            .execute(pool)
            .await
            .map_err(|error| database(format!("cancelling the survey of {ticket}"), error))?;
            Ok(())
        })
    }

    /// Marks the link of `ticket`'s survey with `nonce` used at `now`. Returns whether this
    /// call did: `false` when it was used already or no such survey exists.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn use_survey(
        &self,
        ticket: &str,
        nonce: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        with_pool!(self, |pool, _lock| {
            let done = sqlx::query(
                "UPDATE surveys SET used_at = $1 \
                 WHERE ticket = $2 AND nonce = $3 AND used_at IS NULL",
            )
            .bind(micros(now))
            .bind(ticket)
            .bind(nonce)
            .execute(pool)
            .await
            .map_err(|error| database(format!("using the survey of {ticket}"), error))?;
            Ok(done.rows_affected() == 1)
        })
    }
}
