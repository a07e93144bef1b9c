//! The dead-letter log: helpdesk payloads the server's adapters refused (not JSON, of an
//! unknown kind, or with a field Accord cannot use), kept with the reason so that someone can
//! see what a helpdesk sent and fix the mapping.
//!
//! It is a log for people, not evidence: nothing reads it back into events. Rows are only
//! added; the newest come first when listed. The rules (what must not be empty, instants to the
//! microsecond) live here once; each backend supplies the SQL through [`DeadLetterRows`].

use jiff::Timestamp;

use crate::{Backend, Store, StoreError, to_microsecond};

/// A refused payload to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewDeadLetter<'a> {
    /// The adapter that refused it (`zammad`, `generic/statuspage`); not empty.
    pub adapter: &'a str,
    /// Why, as the sender was told; not empty.
    pub reason: &'a str,
    /// The payload's field at fault (`/ticket/priority/name`, `body`), when there is one.
    pub field: Option<&'a str>,
    /// Who sent it: a principal's name (`token:zammad`), never a secret; not empty.
    pub principal: &'a str,
    /// The payload as received. The server never reads a body beyond its body limit, so this
    /// is at most that long.
    pub payload: &'a [u8],
}

/// A kept payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its number, from 1, increasing in the order they were kept.
    pub id: u64,
    /// When it was received, to the microsecond.
    pub received_at: Timestamp,
    /// The adapter that refused it.
    pub adapter: String,
    /// Why.
    pub reason: String,
    /// The payload's field at fault, when there is one.
    pub field: Option<String>,
    /// Who sent it.
    pub principal: String,
    /// The payload as received.
    pub payload: Vec<u8>,
}

/// A dead letter as stored, its id as the database keeps it.
#[derive(Clone, Debug)]
pub(crate) struct DeadLetterRow {
    pub(crate) id: i64,
    pub(crate) received_at: Timestamp,
    pub(crate) adapter: String,
    pub(crate) reason: String,
    pub(crate) field: Option<String>,
    pub(crate) principal: String,
    pub(crate) payload: Vec<u8>,
}

/// The SQL a backend supplies. Instants given are already truncated to the microsecond.
pub(crate) trait DeadLetterRows {
    /// Inserts one; returns its id.
    async fn insert_dead_letter(
        &self,
        letter: &NewDeadLetter<'_>,
        received_at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// At most `limit`, newest first, with ids below `before` when it is given.
    async fn dead_letter_rows(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeadLetterRow>, StoreError>;
}

fn dead_letter(row: DeadLetterRow) -> Result<DeadLetter, StoreError> {
    let id = u64::try_from(row.id)
        .map_err(|_| StoreError::Corrupt { what: format!("dead letter id {}", row.id) })?;
    Ok(DeadLetter {
        id,
        received_at: row.received_at,
        adapter: row.adapter,
        reason: row.reason,
        field: row.field,
        principal: row.principal,
        payload: row.payload,
    })
}

impl Store {
    /// Keeps a refused payload, received at `now`; returns its id.
    ///
    /// # Errors
    ///
    /// - [`StoreError::Invalid`] when the adapter, reason or principal is empty.
    /// - [`StoreError::Database`].
    pub async fn record_dead_letter(
        &self,
        letter: &NewDeadLetter<'_>,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        for (what, text) in [
            ("adapter", letter.adapter),
            ("reason", letter.reason),
            ("principal", letter.principal),
        ] {
            if text.trim().is_empty() {
                return Err(StoreError::Invalid {
                    what: format!("a dead letter's {what} is empty"),
                });
            }
        }
        let now = to_microsecond(now);
        let id = match &self.backend {
            Backend::Sqlite(rows) => rows.insert_dead_letter(letter, now).await?,
            Backend::Postgres(rows) => rows.insert_dead_letter(letter, now).await?,
        };
        u64::try_from(id).map_err(|_| StoreError::Corrupt { what: format!("dead letter id {id}") })
    }

    /// At most `limit` kept payloads, newest first; with `before`, only those kept before the
    /// one with that id (the next page after a page whose last id it is).
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for a row this version cannot read.
    pub async fn dead_letters(
        &self,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let before = before.map(|id| i64::try_from(id).unwrap_or(i64::MAX));
        let limit = i64::from(limit);
        let rows = match &self.backend {
            Backend::Sqlite(rows) => rows.dead_letter_rows(before, limit).await?,
            Backend::Postgres(rows) => rows.dead_letter_rows(before, limit).await?,
        };
        rows.into_iter().map(dead_letter).collect()
    }
}
