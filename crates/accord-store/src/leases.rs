//! Leases: work that one server node does at a time, such as running a probe.
//!
//! A lease is a row naming the work (`probe:web`), the node holding it and when it runs out.
//! A node takes a lease that is free, run out or already its own in one upsert, and renews it
//! by taking it again before it runs out; a node that dies stops renewing, and another takes
//! the work over once the lease has run out. The upsert is atomic on both backends (PostgreSQL
//! locks the conflicting row and checks the condition against its latest version; SQLite has
//! one writer), so at any instant at most one node holds a lease. Nodes compare instants from
//! their own clocks: keep them in sync to well under a lease's length.
//!
//! The table keeps instants as microseconds since the epoch on both backends, so the SQL is
//! written once (see `with_pool!`).

use jiff::{SignedDuration, Timestamp};

use crate::{Backend, Store, StoreError, database};

use crate::columns::Columns;

/// These tables' columns, named in errors.
const TABLES: Columns = Columns("the leases");

/// A lease as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// What is leased: `probe:web`.
    pub name: String,
    /// The node holding it.
    pub owner: String,
    /// Since when the owner has held it without a break.
    pub acquired_at: Timestamp,
    /// When it runs out unless renewed; a lease past this instant is free.
    pub expires_at: Timestamp,
}

impl Lease {
    /// Whether the lease still holds at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

fn lease<'r, R>(row: &'r R) -> Result<Lease, StoreError>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Lease {
        name: TABLES.get(row, "name")?,
        owner: TABLES.get(row, "owner")?,
        acquired_at: TABLES.instant(TABLES.get(row, "acquired_at")?)?,
        expires_at: TABLES.instant(TABLES.get(row, "expires_at")?)?,
    })
}

impl Store {
    /// Takes or renews the lease `name` for `owner` until `now + ttl`, when it is free, has run
    /// out at `now`, or is `owner`'s already. Returns whether `owner` holds it now: `false`
    /// means another node holds a live lease, and nothing changed.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<bool, StoreError> {
        let expires_at = now.checked_add(ttl).unwrap_or(now);
        let doing = || format!("taking the lease {name}");
        with_pool!(self, |pool, _lock| {
            // A renewal keeps `acquired_at`; a lease taken over, or taken again after it ran
            // out, starts anew.
            let row = sqlx::query(
                "INSERT INTO leases (name, owner, acquired_at, expires_at) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, \
                 acquired_at = CASE WHEN leases.owner = excluded.owner AND leases.expires_at > $3 \
                 THEN leases.acquired_at ELSE excluded.acquired_at END, \
                 expires_at = excluded.expires_at \
                 WHERE leases.expires_at <= $3 OR leases.owner = $2 \
                 RETURNING owner",
            )
            .bind(name)
            .bind(owner)
            .bind(now.as_microsecond())
            .bind(expires_at.as_microsecond())
            .fetch_optional(pool)
            .await
            .map_err(|error| database(doing(), error))?;
            Ok(row.is_some())
        })
    }

    /// Renews every lease `owner` holds that has not run out at `now`, until `now + ttl`, in one
    /// statement (a node renews all its leases at once, however many it holds). Returns the
    /// names renewed, sorted; a lease that ran out is not among them, and is taken again, if
    /// still free, with [`Store::acquire_lease`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn renew_leases(
        &self,
        owner: &str,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<Vec<String>, StoreError> {
        let expires_at = now.checked_add(ttl).unwrap_or(now);
        with_pool!(self, |pool, _lock| {
            let rows = sqlx::query(
                "UPDATE leases SET expires_at = $1 WHERE owner = $2 AND expires_at > $3 \
                 RETURNING name",
            )
            .bind(expires_at.as_microsecond())
            .bind(owner)
            .bind(now.as_microsecond())
            .fetch_all(pool)
            .await
            .map_err(|error| database(format!("renewing the leases of {owner}"), error))?;
            let mut names: Vec<String> =
                rows.iter().map(|row| TABLES.get(row, "name")).collect::<Result<_, _>>()?;
            names.sort();
            Ok(names)
        })
    }

    /// Gives up `owner`'s lease `name`, so another node may take it at once. Returns whether
    /// `owner` held it (live or run out); another node's lease is left alone.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Conflict`] when the database is busy.
    pub async fn release_lease(&self, name: &str, owner: &str) -> Result<bool, StoreError> {
        with_pool!(self, |pool, _lock| {
            let done = sqlx::query("DELETE FROM leases WHERE name = $1 AND owner = $2")
                .bind(name)
                .bind(owner)
                .execute(pool)
                .await
                .map_err(|error| database(format!("giving up the lease {name}"), error))?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Every lease whose name starts with `prefix` (all with `""`), live or run out, by name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`].
    pub async fn leases(&self, prefix: &str) -> Result<Vec<Lease>, StoreError> {
        with_pool!(self, |pool, _lock| {
            // Compared as a prefix, not with LIKE: names may hold `%` and `_`.
            let rows = sqlx::query(
                "SELECT name, owner, acquired_at, expires_at FROM leases \
                 WHERE substr(name, 1, length($1)) = $1 ORDER BY name",
            )
            .bind(prefix)
            .fetch_all(pool)
            .await
            .map_err(|error| database("reading the leases", error))?;
            rows.iter().map(lease).collect()
        })
    }
}
