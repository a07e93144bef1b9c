//! The PostgreSQL side of [`crate::events`].
//!
//! An append starts by taking a transaction advisory lock, [`EVENT_LOG_LOCK`], held until the
//! commit, so appends take turns: each reads the head after the previous one committed, and
//! positions follow commit order. Without it two batches could commit out of position order,
//! and a reader of `events_after` could step past a position that appears later. An advisory
//! lock rather than `LOCK TABLE events`: it never waits on (or is waited on by) readers, and it
//! does not conflict with autovacuum, which a `SHARE ROW EXCLUSIVE` table lock would wait for
//! during an anti-wraparound vacuum of a large log. A batch is looked up with one query and
//! written with one `INSERT ... SELECT FROM unnest(...)`, whatever its size.

use jiff::Timestamp;
use jiff_sqlx::ToSqlx;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Postgres, Transaction};

use super::{PgStore, column};
use crate::events::{EventTx, NewEvent, StoredEvent, sql_position, stored_position};
use crate::{StoreError, database};

/// The key of the advisory lock that serializes appends to the event log: "accordev" in
/// ASCII. Advisory locks are per database, so only another application sharing Accord's
/// database and picking this very key could contend for it.
const EVENT_LOG_LOCK: i64 = 0x6163_636f_7264_6576;

const EVENT_COLUMNS: &str = "position, id, ticket, at, kind, body, received_at";

/// One append transaction, holding [`EVENT_LOG_LOCK`].
#[derive(Debug)]
pub(crate) struct PgEventAppend {
    tx: Transaction<'static, Postgres>,
}

impl PgStore {
    /// An append transaction that holds [`EVENT_LOG_LOCK`] until it ends.
    pub(crate) async fn append_log(&self) -> Result<PgEventAppend, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(EVENT_LOG_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(|error| database("locking the event log", error))?;
        Ok(PgEventAppend { tx })
    }

    pub(crate) async fn events_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let query = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(sql_position(after))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|error| database(format!("reading the event log after {after}"), error))?;
        rows.iter().map(stored_event).collect()
    }

    pub(crate) async fn ticket_events(&self, ticket: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let query =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE ticket = $1 ORDER BY position");
        let rows = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(ticket)
            .fetch_all(&self.pool)
            .await
            .map_err(|error| database(format!("reading the events of ticket {ticket}"), error))?;
        rows.iter().map(stored_event).collect()
    }

    pub(crate) async fn log_head(&self) -> Result<u64, StoreError> {
        head(&self.pool).await
    }
}

impl EventTx for PgEventAppend {
    async fn head(&mut self) -> Result<u64, StoreError> {
        head(&mut *self.tx).await
    }

    async fn find(&mut self, ids: &[&str]) -> Result<Vec<StoredEvent>, StoreError> {
        let query = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ANY($1)");
        let rows = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(ids)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(|error| database("looking up event ids in the log", error))?;
        rows.iter().map(stored_event).collect()
    }

    async fn insert(
        &mut self,
        events: &[(u64, NewEvent<'_>)],
        received_at: Timestamp,
    ) -> Result<(), StoreError> {
        let positions: Vec<i64> =
            events.iter().map(|(position, _)| sql_position(*position)).collect();
        let mut ids = Vec::with_capacity(events.len());
        let mut tickets = Vec::with_capacity(events.len());
        let mut ats = Vec::with_capacity(events.len());
        let mut kinds = Vec::with_capacity(events.len());
        let mut bodies = Vec::with_capacity(events.len());
        for (_, event) in events {
            ids.push(event.id);
            tickets.push(event.ticket);
            ats.push(event.at.to_sqlx());
            kinds.push(event.kind);
            bodies.push(event.body);
        }
        let query = format!(
            "INSERT INTO events ({EVENT_COLUMNS}) \
             SELECT position, id, ticket, at, kind, body, $7 \
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], \
             $6::text[]) AS batch (position, id, ticket, at, kind, body)"
        );
        sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(&positions)
            .bind(&ids)
            .bind(&tickets)
            .bind(&ats)
            .bind(&kinds)
            .bind(&bodies)
            .bind(received_at.to_sqlx())
            .execute(&mut *self.tx)
            .await
            .map_err(|error| {
                let first = positions.first().copied().unwrap_or_default();
                database(format!("appending events to the log from position {first}"), error)
            })?;
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(|error| database("committing appended events", error))
    }
}

async fn head(executor: impl PgExecutor<'_>) -> Result<u64, StoreError> {
    let head: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(executor)
        .await
        .map_err(|error| database("reading the head of the event log", error))?;
    stored_position(head)
}

/// A row of [`EVENT_COLUMNS`].
fn stored_event(row: &PgRow) -> Result<StoredEvent, StoreError> {
    let position: i64 = column(row, "position", "the event log")?;
    let what = format!("the event at position {position} of the log");
    Ok(StoredEvent {
        position: stored_position(position)?,
        id: column(row, "id", &what)?,
        ticket: column(row, "ticket", &what)?,
        at: column::<jiff_sqlx::Timestamp>(row, "at", &what)?.to_jiff(),
        kind: column(row, "kind", &what)?,
        body: column(row, "body", &what)?,
        received_at: column::<jiff_sqlx::Timestamp>(row, "received_at", &what)?.to_jiff(),
    })
}
