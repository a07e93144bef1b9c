//! The ticket event log: every event a helpdesk sent, append-only, in arrival order.
//!
//! The log is the evidence every clock figure is recomputed from, so it only grows. Each event
//! gets a position (1, 2, 3, ...), gap-free and increasing in commit order, and is kept as the
//! caller serialized it (`body`, canonical JSON; this crate does not know the wire format) next
//! to the few fields the store looks up by. Appending is idempotent by event id: an event sent
//! again with the same content is a duplicate and returns its original position, while the same
//! id with other content is refused, so a retried delivery never counts twice and a reused id
//! never rewrites history. Events may arrive in any order; the clock engine orders them.
//!
//! The logic lives here once; each backend supplies the SQL through [`EventTx`], one append
//! transaction per batch that holds the log's write lock from its first read to its commit, so
//! positions are handed out by one writer at a time and a reader never sees a later position
//! before an earlier one.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::{Backend, Store, StoreError, to_microsecond};

/// One ticket event to append, already serialized by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewEvent<'a> {
    /// The event's id, unique across all tickets; not empty.
    pub id: &'a str,
    /// The ticket's id; not empty.
    pub ticket: &'a str,
    /// When it happened, kept to the microsecond.
    pub at: Timestamp,
    /// The event's type as written in the event (`created`, `comment`, ...); not empty.
    pub kind: &'a str,
    /// The whole event as canonical JSON on one line: what replays and exports read.
    pub body: &'a str,
}

/// What appending one event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// The event was new and now sits at `position`.
    New {
        /// Its place in the log, from 1.
        position: u64,
    },
    /// The same event (same id and content) was already in the log, or earlier in the batch;
    /// nothing was written.
    Duplicate {
        /// The position it was first appended at.
        position: u64,
    },
}

impl Appended {
    /// The event's place in the log, whether it was new or a duplicate.
    pub fn position(self) -> u64 {
        match self {
            Appended::New { position } | Appended::Duplicate { position } => position,
        }
    }
}

/// One event of the log, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its place in the log, from 1; positions increase in commit order.
    pub position: u64,
    /// The event's id.
    pub id: String,
    /// The ticket's id.
    pub ticket: String,
    /// When it happened, to the microsecond.
    pub at: Timestamp,
    /// The event's type as written in the event.
    pub kind: String,
    /// The whole event as canonical JSON, as it was appended.
    pub body: String,
    /// When the store received it (the `now` of the append), to the microsecond.
    pub received_at: Timestamp,
}

impl StoredEvent {
    /// Whether `event` is this one sent again: every field the caller gives is equal, with
    /// `at` already truncated to the microsecond.
    fn is_same_as(&self, event: &NewEvent<'_>) -> bool {
        self.id == event.id
            && self.ticket == event.ticket
            && self.at == event.at
            && self.kind == event.kind
            && self.body == event.body
    }
}

/// The SQL a backend supplies, inside one append transaction that holds the log's write lock.
pub(crate) trait EventTx {
    /// The position of the last event, 0 when the log is empty.
    async fn head(&mut self) -> Result<u64, StoreError>;
    /// The logged events with any of these ids, in any order.
    async fn find(&mut self, ids: &[&str]) -> Result<Vec<StoredEvent>, StoreError>;
    /// Writes each event at its position, all received at `received_at`.
    async fn insert(
        &mut self,
        events: &[(u64, NewEvent<'_>)],
        received_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Makes everything written durable and releases the lock.
    async fn commit(self) -> Result<(), StoreError>;
}

/// How [`StoreError::EventConflict`] names the other event.
pub(crate) fn conflicting(position: &Option<u64>) -> String {
    match position {
        Some(position) => format!("at position {position} of the log"),
        None => "earlier in the batch".to_owned(),
    }
}

/// A position as stored (`INTEGER`/`BIGINT`, from 1) to the API's `u64`.
pub(crate) fn stored_position(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored)
        .map_err(|_| StoreError::Corrupt { what: format!("event log position {stored}") })
}

/// A position or limit from the API as bound in SQL; positions beyond `i64::MAX` never exist.
pub(crate) fn sql_position(position: u64) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

/// Refuses events the schema would refuse, naming them, before anything is written.
fn check(events: &[NewEvent<'_>]) -> Result<(), StoreError> {
    for event in events {
        if event.id.is_empty() {
            return Err(StoreError::Invalid { what: "an event has an empty id".to_owned() });
        }
        for (field, value) in [("ticket", event.ticket), ("type", event.kind)] {
            if value.is_empty() {
                return Err(StoreError::Invalid {
                    what: format!("event {} has an empty {field}", event.id),
                });
            }
        }
    }
    Ok(())
}

/// [`Store::append_events`] in one append transaction, which it commits when nothing is refused.
async fn append<T: EventTx>(
    mut tx: T,
    events: &[NewEvent<'_>],
    now: Timestamp,
) -> Result<Vec<Appended>, StoreError> {
    let events: Vec<NewEvent<'_>> =
        events.iter().map(|event| NewEvent { at: to_microsecond(event.at), ..*event }).collect();
    let mut ids: Vec<&str> = events.iter().map(|event| event.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let logged: HashMap<String, StoredEvent> =
        tx.find(&ids).await?.into_iter().map(|event| (event.id.clone(), event)).collect();
    let mut head = tx.head().await?;
    // Invariant: every event of `new` has an id not in `logged`, and `batch` maps each of
    // them to its index in `new`.
    let mut new: Vec<(u64, NewEvent<'_>)> = Vec::new();
    let mut batch: HashMap<&str, usize> = HashMap::new();
    let mut appended = Vec::with_capacity(events.len());
    for event in &events {
        if let Some(stored) = logged.get(event.id) {
            if !stored.is_same_as(event) {
                return Err(StoreError::EventConflict {
                    id: event.id.to_owned(),
                    position: Some(stored.position),
                });
            }
            appended.push(Appended::Duplicate { position: stored.position });
        } else if let Some(&new_idx) = batch.get(event.id) {
            let (position, first) = &new[new_idx];
            if first != event {
                return Err(StoreError::EventConflict { id: event.id.to_owned(), position: None });
            }
            appended.push(Appended::Duplicate { position: *position });
        } else {
            head += 1;
            batch.insert(event.id, new.len());
            new.push((head, *event));
            appended.push(Appended::New { position: head });
        }
    }
    if !new.is_empty() {
        tx.insert(&new, to_microsecond(now)).await?;
    }
    tx.commit().await?;
    Ok(appended)
}

impl Store {
    /// Appends ticket events to the log, in one transaction, all or nothing, each new one at
    /// the next position in batch order; `now` is recorded as when they were received.
    ///
    /// An event whose id is already in the log, or earlier in the batch, with the same ticket,
    /// instant (to the microsecond), type and body is a duplicate: nothing is written for it
    /// and its first position is returned, so delivering a batch again changes nothing.
    /// Returns what happened to each event, in batch order.
    ///
    /// Appends are serialized: SQLite's `BEGIN IMMEDIATE` and, on PostgreSQL, a transaction
    /// advisory lock taken before the log is read, so positions follow commit order.
    ///
    /// # Errors
    ///
    /// - [`StoreError::EventConflict`] when an event has the id of a logged event, or of one
    ///   earlier in the batch, but other content.
    /// - [`StoreError::Invalid`] for an event with an empty id, ticket or type.
    /// - [`StoreError::Database`] or [`StoreError::Conflict`].
    ///
    /// In every case nothing of the batch was written.
    pub async fn append_events(
        &self,
        events: &[NewEvent<'_>],
        now: Timestamp,
    ) -> Result<Vec<Appended>, StoreError> {
        check(events)?;
        if events.is_empty() {
            return Ok(Vec::new());
        }
        match &self.backend {
            Backend::Sqlite(store) => append(store.append_log().await?, events, now).await,
            Backend::Postgres(store) => append(store.append_log().await?, events, now).await,
        }
    }

    /// At most `limit` events of the log after position `after` (exclusive), in position
    /// order: `events_after(0, n)` starts at the beginning, and a consumer goes on from the
    /// last position it read. Positions have no gaps, and no later append can land before
    /// the last one returned.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unreadable row.
    pub async fn events_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        match &self.backend {
            Backend::Sqlite(store) => store.events_after(after, limit).await,
            Backend::Postgres(store) => store.events_after(after, limit).await,
        }
    }

    /// Every event of one ticket, in position order; empty for an unknown ticket.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unreadable row.
    pub async fn ticket_events(&self, ticket: &str) -> Result<Vec<StoredEvent>, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.ticket_events(ticket).await,
            Backend::Postgres(store) => store.ticket_events(ticket).await,
        }
    }

    /// The position of the last event of the log, 0 when it is empty: what a report records
    /// as the evidence it was computed from.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn log_head(&self) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(store) => store.log_head().await,
            Backend::Postgres(store) => store.log_head().await,
        }
    }
}
