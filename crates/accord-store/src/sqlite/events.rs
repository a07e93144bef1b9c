//! The SQLite side of [`crate::events`].
//!
//! An append runs in a `BEGIN IMMEDIATE` transaction: SQLite's one write lock is taken before
//! the log's head is read and held until the commit, so appends take turns and positions follow
//! commit order. Batches are looked up and written [`CHUNK`] events per statement.

use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, Transaction};

use super::{SqliteStore, column, instant, micros};
use crate::events::{EventTx, NewEvent, StoredEvent, sql_position, stored_position};
use crate::{StoreError, database};

/// Events per statement: 7 variables each stays far below SQLite's limit of 32766.
const CHUNK: usize = 500;

const EVENT_COLUMNS: &str = "position, id, ticket, at, kind, body, received_at";

/// One append transaction.
#[derive(Debug)]
pub(crate) struct SqliteEventAppend {
    tx: Transaction<'static, Sqlite>,
}

impl SqliteStore {
    /// An append transaction: `BEGIN IMMEDIATE` takes the write lock before the first read.
    pub(crate) async fn append_log(&self) -> Result<SqliteEventAppend, StoreError> {
        Ok(SqliteEventAppend { tx: self.begin_immediate().await? })
    }

    pub(crate) async fn events_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let query = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?"
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
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE ticket = ? ORDER BY position");
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

impl EventTx for SqliteEventAppend {
    async fn head(&mut self) -> Result<u64, StoreError> {
        head(&mut *self.tx).await
    }

    async fn find(&mut self, ids: &[&str]) -> Result<Vec<StoredEvent>, StoreError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let mut query = QueryBuilder::<Sqlite>::new(format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE id IN ("
            ));
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(")");
            let rows = query
                .build()
                .fetch_all(&mut *self.tx)
                .await
                .map_err(|error| database("looking up event ids in the log", error))?;
            for row in &rows {
                found.push(stored_event(row)?);
            }
        }
        Ok(found)
    }

    async fn insert(
        &mut self,
        events: &[(u64, NewEvent<'_>)],
        received_at: Timestamp,
    ) -> Result<(), StoreError> {
        for chunk in events.chunks(CHUNK) {
            let mut query =
                QueryBuilder::<Sqlite>::new(format!("INSERT INTO events ({EVENT_COLUMNS}) "));
            query.push_values(chunk, |mut row, (position, event)| {
                row.push_bind(sql_position(*position))
                    .push_bind(event.id)
                    .push_bind(event.ticket)
                    .push_bind(micros(event.at))
                    .push_bind(event.kind)
                    .push_bind(event.body)
                    .push_bind(micros(received_at));
            });
            query.build().execute(&mut *self.tx).await.map_err(|error| {
                let (first, _) = chunk.first().expect("invariant: chunks are not empty");
                database(format!("appending events to the log from position {first}"), error)
            })?;
        }
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(|error| database("committing appended events", error))
    }
}

async fn head(executor: impl sqlx::SqliteExecutor<'_>) -> Result<u64, StoreError> {
    let head: i64 = sqlx::query_scalar("SELECT coalesce(max(position), 0) FROM events")
        .fetch_one(executor)
        .await
        .map_err(|error| database("reading the head of the event log", error))?;
    stored_position(head)
}

/// A row of [`EVENT_COLUMNS`].
fn stored_event(row: &SqliteRow) -> Result<StoredEvent, StoreError> {
    let position: i64 = column(row, "position", "the event log")?;
    let what = format!("the event at position {position} of the log");
    Ok(StoredEvent {
        position: stored_position(position)?,
        id: column(row, "id", &what)?,
        ticket: column(row, "ticket", &what)?,
        at: instant(column(row, "at", &what)?, &what)?,
        kind: column(row, "kind", &what)?,
        body: column(row, "body", &what)?,
        received_at: instant(column(row, "received_at", &what)?, &what)?,
    })
}
