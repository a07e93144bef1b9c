//! Escalations and notifications: the rungs and breaches the clocks reached, each recorded
//! once however many server nodes find it, the messages each gave, and every attempt to
//! deliver them.
//!
//! Exactly once comes from the key: a firing is `(ticket, metric, cycle, rung)`, and only the
//! insert that takes a new key also writes the firing's deliveries, in the same transaction.
//! Delivery is at least once: a node leases due deliveries (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL; SQLite has one writer), tries them, and records the attempt; a dead node's
//! lease runs out and another node takes the delivery over. Receivers tell a repeat by the
//! delivery id.
//!
//! These tables keep instants as microseconds since the epoch on both backends, so the SQL is
//! written once (with `$N` placeholders, which SQLite reads too).

use jiff::{SignedDuration, Timestamp};

use crate::{Backend, Store, StoreError, database};

use crate::columns::{Columns, micros};

/// These tables' columns, named in errors.
const TABLES: Columns = Columns("the delivery log");

/// The rung number of a breach.
pub const BREACH_RUNG: i32 = -1;

/// What identifies a firing: one rung (or the breach) of one cycle of one clock.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FiringKey {
    /// The ticket.
    pub ticket: String,
    /// The metric: `response`, `resolution`...
    pub metric: String,
    /// The clock's cycle, from 1.
    pub cycle: u32,
    /// The rung's position in the effective ladder, or [`BREACH_RUNG`].
    pub rung: i32,
}

/// What became of a firing when it was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FiringOutcome {
    /// Its deliveries were made.
    Notified,
    /// Nobody was to be notified.
    Nobody,
    /// Found too long after it fired (history loaded late): recorded, not notified.
    Stale,
}

impl FiringOutcome {
    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            FiringOutcome::Notified => "notified",
            FiringOutcome::Nobody => "none",
            FiringOutcome::Stale => "stale",
        }
    }
}

/// A firing to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFiring {
    /// What it is.
    pub key: FiringKey,
    /// `75%`, `30m before` or `breach`.
    pub threshold: String,
    /// When the clock reached it.
    pub fired_at: Timestamp,
    /// The ticket's customer.
    pub customer: Option<String>,
    /// The ticket's service.
    pub service: Option<String>,
    /// The ticket's priority.
    pub priority: Option<String>,
    /// The agreement revisions the clock ran on: `corporate-sla r2, acme-sla r1`.
    pub revisions: String,
    /// What became of it.
    pub outcome: FiringOutcome,
}

/// A recorded firing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FiringRecord {
    /// The firing.
    pub firing: NewFiring,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// The node that recorded it.
    pub recorded_by: String,
}

/// A delivery to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// The recipient's name as the ladder gives it (`duty-manager`, `customer:escalation`).
    pub recipient: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The e-mail address or URL; empty when the recipient is unknown.
    pub address: String,
    /// The subject.
    pub subject: String,
    /// The message.
    pub body: String,
    /// When to send it (a recipient's quiet hours put it off).
    pub due_at: Timestamp,
    /// Why it can never be sent (an unknown recipient): recorded as failed at once.
    pub refused: Option<String>,
}

/// A delivery as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Its id: receivers tell a repeat by it.
    pub id: i64,
    /// Its firing.
    pub key: FiringKey,
    /// The recipient's name.
    pub recipient: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// The address or URL.
    pub address: String,
    /// The subject.
    pub subject: String,
    /// The message.
    pub body: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// When it is (or was) due.
    pub due_at: Timestamp,
    /// Attempts so far.
    pub attempts: u32,
    /// The last HTTP status or SMTP code.
    pub last_code: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was delivered.
    pub sent_at: Option<Timestamp>,
}

/// One attempt to deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// When.
    pub at: Timestamp,
    /// Which node tried.
    pub node: String,
    /// The HTTP status or SMTP code, when the other side answered.
    pub code: Option<i64>,
    /// What went wrong.
    pub error: Option<String>,
}

/// What comes after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterAttempt {
    /// Delivered.
    Sent,
    /// Try again at this instant.
    RetryAt(Timestamp),
    /// Given up.
    Failed,
}

const DELIVERY_COLUMNS: &str = "id, ticket, metric, cycle, rung, recipient, channel, address, \
     subject, body, status, due_at, attempts, last_code, last_error, created_at, sent_at";

fn delivery<'r, R>(row: &'r R) -> Result<Delivery, StoreError>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let cycle: i64 = TABLES.get(row, "cycle")?;
    let rung: i64 = TABLES.get(row, "rung")?;
    let attempts: i64 = TABLES.get(row, "attempts")?;
    Ok(Delivery {
        id: TABLES.get(row, "id")?,
        key: FiringKey {
            ticket: TABLES.get(row, "ticket")?,
            metric: TABLES.get(row, "metric")?,
            cycle: u32::try_from(cycle).unwrap_or(0),
            rung: i32::try_from(rung).unwrap_or(BREACH_RUNG),
        },
        recipient: TABLES.get(row, "recipient")?,
        channel: TABLES.get(row, "channel")?,
        address: TABLES.get(row, "address")?,
        subject: TABLES.get(row, "subject")?,
        body: TABLES.get(row, "body")?,
        status: TABLES.get(row, "status")?,
        due_at: TABLES.instant(TABLES.get(row, "due_at")?)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        last_code: TABLES.get(row, "last_code")?,
        last_error: TABLES.get(row, "last_error")?,
        created_at: TABLES.instant(TABLES.get(row, "created_at")?)?,
        sent_at: TABLES
            .get::<_, Option<i64>>(row, "sent_at")?
            .map(|micros| TABLES.instant(micros))
            .transpose()?,
    })
}

fn firing_record<'r, R>(row: &'r R) -> Result<FiringRecord, StoreError>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let cycle: i64 = TABLES.get(row, "cycle")?;
    let rung: i64 = TABLES.get(row, "rung")?;
    let outcome: String = TABLES.get(row, "outcome")?;
    let outcome = match outcome.as_str() {
        "notified" => FiringOutcome::Notified,
        "none" => FiringOutcome::Nobody,
        "stale" => FiringOutcome::Stale,
        other => {
            return Err(StoreError::Corrupt { what: format!("firing outcome {other:?}") });
        }
    };
    Ok(FiringRecord {
        firing: NewFiring {
            key: FiringKey {
                ticket: TABLES.get(row, "ticket")?,
                metric: TABLES.get(row, "metric")?,
                cycle: u32::try_from(cycle).unwrap_or(0),
                rung: i32::try_from(rung).unwrap_or(BREACH_RUNG),
            },
            threshold: TABLES.get(row, "threshold")?,
            fired_at: TABLES.instant(TABLES.get(row, "fired_at")?)?,
            customer: TABLES.get(row, "customer")?,
            service: TABLES.get(row, "service")?,
            priority: TABLES.get(row, "priority")?,
            revisions: TABLES.get(row, "revisions")?,
            outcome,
        },
        recorded_at: TABLES.instant(TABLES.get(row, "recorded_at")?)?,
        recorded_by: TABLES.get(row, "recorded_by")?,
    })
}

impl Store {
    /// Records firings, each with its deliveries, unless it is recorded already, in one
    /// transaction. Returns, for each, whether this call recorded it: across nodes, exactly one
    /// does.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy;
    /// nothing is recorded then.
    pub async fn record_firings(
        &self,
        firings: &[(NewFiring, Vec<NewDelivery>)],
        node: &str,
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        let doing = || format!("recording {} escalation firings", firings.len());
        with_pool!(self, |pool, _lock| {
            let mut tx = pool.begin().await.map_err(|error| database(doing(), error))?;
            let mut recorded = Vec::with_capacity(firings.len());
            for (firing, deliveries) in firings {
                let key = &firing.key;
                let inserted = sqlx::query(
                    "INSERT INTO escalation_firings (ticket, metric, cycle, rung, threshold, \
                     fired_at, customer, service, priority, revisions, recorded_at, recorded_by, \
                     outcome) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(&key.ticket)
                .bind(&key.metric)
                .bind(i64::from(key.cycle))
                .bind(i64::from(key.rung))
                .bind(&firing.threshold)
                .bind(micros(firing.fired_at))
                .bind(firing.customer.as_deref())
                .bind(firing.service.as_deref())
                .bind(firing.priority.as_deref())
                .bind(&firing.revisions)
                .bind(micros(now))
                .bind(node)
                .bind(firing.outcome.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|error| database(doing(), error))?
                .rows_affected()
                    == 1;
                recorded.push(inserted);
                if !inserted {
                    continue;
                }
                for new in deliveries {
                    let (status, error) = match &new.refused {
                        Some(reason) => ("failed", Some(reason.as_str())),
                        None => ("pending", None),
                    };
                    sqlx::query(
                        "INSERT INTO notification_deliveries (ticket, metric, cycle, rung, \
                         recipient, channel, address, subject, body, status, due_at, last_error, \
                         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(&key.ticket)
                    .bind(&key.metric)
                    .bind(i64::from(key.cycle))
                    .bind(i64::from(key.rung))
                    .bind(&new.recipient)
                    .bind(&new.channel)
                    .bind(&new.address)
                    .bind(&new.subject)
                    .bind(&new.body)
                    .bind(status)
                    .bind(micros(new.due_at))
                    .bind(error)
                    .bind(micros(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(|error| database(doing(), error))?;
                }
            }
            tx.commit().await.map_err(|error| database(doing(), error))?;
            Ok(recorded)
        })
    }

    /// Recorded firings, newest first: of one ticket, or all; at most `limit`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`].
    pub async fn firings(
        &self,
        ticket: Option<&str>,
        limit: u32,
    ) -> Result<Vec<FiringRecord>, StoreError> {
        with_pool!(self, |pool, _lock| {
            let rows = sqlx::query(
                "SELECT * FROM escalation_firings WHERE $1 IS NULL OR ticket = $1 \
                 ORDER BY fired_at DESC, ticket, metric, cycle, rung LIMIT $2",
            )
            .bind(ticket)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(|error| database("reading the firings", error))?;
            rows.iter().map(firing_record).collect()
        })
    }

    /// Leases up to `limit` pending deliveries due at `now` to `node` for `lease`, oldest due
    /// first; deliveries another live node holds are skipped.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn claim_deliveries(
        &self,
        node: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let until = now.checked_add(lease).unwrap_or(now);
        with_pool!(self, |pool, lock| {
            let query = format!(
                "UPDATE notification_deliveries SET lease_owner = $1, lease_until = $2 \
                 WHERE id IN (SELECT id FROM notification_deliveries \
                 WHERE status = 'pending' AND due_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY due_at, id LIMIT $4{lock}) RETURNING {DELIVERY_COLUMNS}"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(query))
                .bind(node)
                .bind(micros(until))
                .bind(micros(now))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(|error| database("leasing deliveries", error))?;
            let mut claimed: Vec<Delivery> = rows.iter().map(delivery).collect::<Result<_, _>>()?;
            claimed.sort_by_key(|delivery| (delivery.due_at, delivery.id));
            Ok(claimed)
        })
    }

    /// Records an attempt at delivery `id` by `node` and what comes after it; the lease ends.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn finish_delivery(
        &self,
        id: i64,
        attempt: &DeliveryAttempt,
        after: AfterAttempt,
    ) -> Result<(), StoreError> {
        let doing = || format!("recording an attempt at delivery {id}");
        let (status, due_at, sent_at) = match after {
            AfterAttempt::Sent => ("sent", None, Some(micros(attempt.at))),
            AfterAttempt::RetryAt(at) => ("pending", Some(micros(at)), None),
            AfterAttempt::Failed => ("failed", None, None),
        };
        with_pool!(self, |pool, _lock| {
            let mut tx = pool.begin().await.map_err(|error| database(doing(), error))?;
            sqlx::query(
                "INSERT INTO delivery_attempts (delivery, at, node, code, error) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(micros(attempt.at))
            .bind(&attempt.node)
            .bind(attempt.code)
            .bind(attempt.error.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(|error| database(doing(), error))?;
            sqlx::query(
                "UPDATE notification_deliveries SET status = $1, due_at = COALESCE($2, due_at), \
                 sent_at = $3, attempts = attempts + 1, last_code = $4, last_error = $5, \
                 lease_owner = NULL, lease_until = NULL WHERE id = $6",
            )
            .bind(status)
            .bind(due_at)
            .bind(sent_at)
            .bind(attempt.code)
            .bind(attempt.error.as_deref())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|error| database(doing(), error))?;
            tx.commit().await.map_err(|error| database(doing(), error))?;
            Ok(())
        })
    }

    /// Deliveries, newest first: of one ticket and one status, or all; at most `limit`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`].
    pub async fn deliveries(
        &self,
        ticket: Option<&str>,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        with_pool!(self, |pool, _lock| {
            let query = format!(
                "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries \
                 WHERE ($1 IS NULL OR ticket = $1) AND ($2 IS NULL OR status = $2) \
                 ORDER BY id DESC LIMIT $3"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(query))
                .bind(ticket)
                .bind(status)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(|error| database("reading deliveries", error))?;
            rows.iter().map(delivery).collect()
        })
    }

    /// The attempts at delivery `id`, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`].
    pub async fn delivery_attempts(&self, id: i64) -> Result<Vec<DeliveryAttempt>, StoreError> {
        with_pool!(self, |pool, _lock| {
            let rows = sqlx::query(
                "SELECT at, node, code, error FROM delivery_attempts WHERE delivery = $1 \
                 ORDER BY at",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(|error| database("reading delivery attempts", error))?;
            rows.iter()
                .map(|row| {
                    Ok(DeliveryAttempt {
                        at: TABLES.instant(TABLES.get(row, "at")?)?,
                        node: TABLES.get(row, "node")?,
                        code: TABLES.get(row, "code")?,
                        error: TABLES.get(row, "error")?,
                    })
                })
                .collect()
        })
    }

    /// When the next pending delivery is due, leased or not.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn next_delivery_due(&self) -> Result<Option<Timestamp>, StoreError> {
        with_pool!(self, |pool, _lock| {
            let row = sqlx::query(
                "SELECT MIN(due_at) AS due FROM notification_deliveries WHERE status = 'pending'",
            )
            .fetch_one(pool)
            .await
            .map_err(|error| database("reading the next delivery", error))?;
            TABLES
                .get::<_, Option<i64>>(&row, "due")?
                .map(|micros| TABLES.instant(micros))
                .transpose()
        })
    }
}
