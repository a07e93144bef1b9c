//! The SQLite side of [`crate::observations`].

use accord_core::availability::{Incident, ProbeCursor, RequestCount};
use accord_core::calendar::TimeRange;
use jiff::{SignedDuration, Timestamp};
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};

use super::{SqliteStore, column, instant, micros, optional_instant};
use crate::observations::{
    ObservationTx, SourceKind, SourceRow, duration_micros, stored_exclusion, stored_impact,
};
use crate::{StoreError, database};

/// One observation transaction.
#[derive(Debug)]
pub(crate) struct SqliteObservations {
    tx: Transaction<'static, Sqlite>,
}

impl SqliteStore {
    /// A write transaction: `BEGIN IMMEDIATE` takes the write lock before the first read.
    pub(crate) async fn observe(&self) -> Result<SqliteObservations, StoreError> {
        Ok(SqliteObservations { tx: self.begin_immediate().await? })
    }

    /// A read transaction: one snapshot, no lock against writers.
    pub(crate) async fn read(&self) -> Result<SqliteObservations, StoreError> {
        let tx = self
            .pool
            .begin()
            .await
            .map_err(|error| database("starting a read transaction", error))?;
        Ok(SqliteObservations { tx })
    }
}

const SOURCE_COLUMNS: &str =
    "id, retries, every_us, grace_us, first_at, last_at, failures, first_failure_at";

fn source_row(row: &SqliteRow, name: &str) -> Result<SourceRow, StoreError> {
    let what = format!("source {name}");
    let duration = |column_name: &str| -> Result<Option<SignedDuration>, StoreError> {
        let micros: Option<i64> = column(row, column_name, &what)?;
        Ok(micros.map(SignedDuration::from_micros))
    };
    let retries: Option<i64> = column(row, "retries", &what)?;
    let failures: i64 = column(row, "failures", &what)?;
    Ok(SourceRow {
        id: column(row, "id", &what)?,
        retries: retries.and_then(|r| u32::try_from(r).ok()).unwrap_or(0),
        every: duration("every_us")?,
        grace: duration("grace_us")?,
        cursor: ProbeCursor {
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            first_failure: optional_instant(row, "first_failure_at", &what)?,
            first: optional_instant(row, "first_at", &what)?,
            last: optional_instant(row, "last_at", &what)?,
        },
    })
}

impl ObservationTx for SqliteObservations {
    async fn source(&mut self, kind: SourceKind, name: &str) -> Result<SourceRow, StoreError> {
        sqlx::query("INSERT INTO sources (kind, name) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(kind.as_str())
            .bind(name)
            .execute(&mut *self.tx)
            .await
            .map_err(|error| database(format!("recording {} {name}", kind.as_str()), error))?;
        self.find_source(kind, name).await?.ok_or_else(|| StoreError::NotFound {
            what: format!("{} {name} after creating it", kind.as_str()),
        })
    }

    async fn find_source(
        &mut self,
        kind: SourceKind,
        name: &str,
    ) -> Result<Option<SourceRow>, StoreError> {
        let query = format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE kind = ? AND name = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(kind.as_str())
            .bind(name)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(|error| database(format!("reading {} {name}", kind.as_str()), error))?;
        row.map(|row| source_row(&row, name)).transpose()
    }

    async fn save_source(&mut self, row: &SourceRow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sources SET retries = ?, every_us = ?, grace_us = ?, first_at = ?, \
             last_at = ?, failures = ?, first_failure_at = ? WHERE id = ?",
        )
        .bind(i64::from(row.retries))
        .bind(duration_micros(row.every))
        .bind(duration_micros(row.grace))
        .bind(row.cursor.first.map(micros))
        .bind(row.cursor.last.map(micros))
        .bind(i64::from(row.cursor.failures))
        .bind(row.cursor.first_failure.map(micros))
        .bind(row.id)
        .execute(&mut *self.tx)
        .await
        .map_err(|error| database("recording where a source stopped", error))?;
        Ok(())
    }

    async fn outages(
        &mut self,
        source: i64,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, Option<Timestamp>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT start_at, end_at FROM outages WHERE source_id = ? AND start_at < ? \
             AND (end_at IS NULL OR end_at > ?) ORDER BY start_at",
        )
        .bind(source)
        .bind(micros(to))
        .bind(micros(from))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading outages", error))?;
        rows.iter()
            .map(|row| {
                let start: i64 = column(row, "start_at", "an outage")?;
                Ok((instant(start, "an outage")?, optional_instant(row, "end_at", "an outage")?))
            })
            .collect()
    }

    async fn put_outage(
        &mut self,
        source: i64,
        start: Timestamp,
        end: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO outages (source_id, start_at, end_at) VALUES (?, ?, ?) \
             ON CONFLICT (source_id, start_at) DO UPDATE SET end_at = excluded.end_at",
        )
        .bind(source)
        .bind(micros(start))
        .bind(end.map(micros))
        .execute(&mut *self.tx)
        .await
        .map_err(|error| database("recording an outage", error))?;
        Ok(())
    }

    async fn gaps(&mut self, source: i64, range: TimeRange) -> Result<Vec<TimeRange>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT start_at, end_at FROM gaps WHERE source_id = ? AND start_at < ? \
             AND end_at > ? ORDER BY start_at",
        )
        .bind(source)
        .bind(micros(range.end()))
        .bind(micros(range.start()))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading gaps", error))?;
        rows.into_iter()
            .map(|(start, end)| {
                TimeRange::new(instant(start, "a gap")?, instant(end, "a gap")?)
                    .ok_or_else(|| StoreError::Corrupt { what: format!("gap {start}..{end}") })
            })
            .collect()
    }

    async fn put_gap(&mut self, source: i64, gap: TimeRange) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO gaps (source_id, start_at, end_at) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(source)
        .bind(micros(gap.start()))
        .bind(micros(gap.end()))
        .execute(&mut *self.tx)
        .await
        .map_err(|error| database("recording a gap", error))?;
        Ok(())
    }

    async fn latency_minutes(
        &mut self,
        source: i64,
        first: i64,
        last: i64,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        sqlx::query_as(
            "SELECT minute, counts FROM latency_minutes WHERE source_id = ? \
             AND minute BETWEEN ? AND ? ORDER BY minute",
        )
        .bind(source)
        .bind(first)
        .bind(last)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading latencies", error))
    }

    async fn put_latency_minute(
        &mut self,
        source: i64,
        minute: i64,
        counts: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO latency_minutes (source_id, minute, counts) VALUES (?, ?, ?) \
             ON CONFLICT (source_id, minute) DO UPDATE SET counts = excluded.counts",
        )
        .bind(source)
        .bind(minute)
        .bind(counts)
        .execute(&mut *self.tx)
        .await
        .map_err(|error| database("recording latencies", error))?;
        Ok(())
    }

    async fn request_counts(
        &mut self,
        source: i64,
        range: TimeRange,
    ) -> Result<Vec<RequestCount>, StoreError> {
        let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT start_at, end_at, good, total FROM request_counts WHERE source_id = ? \
             AND start_at >= ? AND start_at < ? ORDER BY start_at",
        )
        .bind(source)
        .bind(micros(range.start()))
        .bind(micros(range.end()))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading request counts", error))?;
        rows.into_iter()
            .map(|(start, end, good, total)| {
                let what = "request counts";
                let range = TimeRange::new(instant(start, what)?, instant(end, what)?).ok_or_else(
                    || StoreError::Corrupt { what: format!("{what} {start}..{end}") },
                )?;
                Ok(RequestCount {
                    range,
                    good: u64::try_from(good).unwrap_or(0),
                    total: u64::try_from(total).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn put_request_count(
        &mut self,
        source: i64,
        count: &RequestCount,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO request_counts (source_id, start_at, end_at, good, total) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (source_id, start_at) DO UPDATE \
             SET end_at = excluded.end_at, good = excluded.good, total = excluded.total",
        )
        .bind(source)
        .bind(micros(count.range.start()))
        .bind(micros(count.range.end()))
        .bind(i64::try_from(count.good).unwrap_or(i64::MAX))
        .bind(i64::try_from(count.total).unwrap_or(i64::MAX))
        .execute(&mut *self.tx)
        .await
        .map_err(|error| database("recording request counts", error))?;
        Ok(())
    }

    async fn put_incident(
        &mut self,
        incident: &Incident,
        recorded_at: Timestamp,
    ) -> Result<(), StoreError> {
        let doing = || format!("recording incident {}", incident.id);
        sqlx::query("DELETE FROM incidents WHERE id = ?")
            .bind(&incident.id)
            .execute(&mut *self.tx)
            .await
            .map_err(|error| database(doing(), error))?;
        sqlx::query(
            "INSERT INTO incidents (id, start_at, end_at, impact, excluded, reason, cause, \
             root_cause, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&incident.id)
        .bind(micros(incident.start))
        .bind(incident.end.map(micros))
        .bind(incident.impact.as_str())
        .bind(incident.excluded.as_ref().map(|(category, _)| category.as_str()))
        .bind(incident.excluded.as_ref().map_or("", |(_, reason)| reason.as_str()))
        .bind(&incident.cause)
        .bind(&incident.root_cause)
        .bind(micros(recorded_at))
        .execute(&mut *self.tx)
        .await
        .map_err(|error| database(doing(), error))?;
        for affected in &incident.affected {
            sqlx::query(
                "INSERT INTO incident_affects (incident_id, service, component) \
                 VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(&incident.id)
            .bind(&affected.service)
            .bind(affected.component.as_deref().unwrap_or(""))
            .execute(&mut *self.tx)
            .await
            .map_err(|error| database(doing(), error))?;
        }
        Ok(())
    }

    async fn incidents(
        &mut self,
        range: TimeRange,
    ) -> Result<(Vec<Incident>, Vec<(String, String, String)>), StoreError> {
        let rows = sqlx::query(
            "SELECT id, start_at, end_at, impact, excluded, reason, cause, root_cause \
             FROM incidents WHERE start_at < ? AND (end_at IS NULL OR end_at > ?) \
             ORDER BY start_at, id",
        )
        .bind(micros(range.end()))
        .bind(micros(range.start()))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading incidents", error))?;
        let mut incidents = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = column(row, "id", "an incident")?;
            let what = format!("incident {id}");
            let start: i64 = column(row, "start_at", &what)?;
            let impact: String = column(row, "impact", &what)?;
            incidents.push(Incident {
                start: instant(start, &what)?,
                end: optional_instant(row, "end_at", &what)?,
                affected: Vec::new(),
                impact: stored_impact(&impact, &id)?,
                excluded: stored_exclusion(
                    column(row, "excluded", &what)?,
                    column(row, "reason", &what)?,
                    &id,
                )?,
                cause: column(row, "cause", &what)?,
                root_cause: column(row, "root_cause", &what)?,
                id,
            });
        }
        let affects = sqlx::query_as(
            "SELECT a.incident_id, a.service, a.component FROM incident_affects a \
             JOIN incidents i ON i.id = a.incident_id \
             WHERE i.start_at < ? AND (i.end_at IS NULL OR i.end_at > ?) \
             ORDER BY a.incident_id, a.service, a.component",
        )
        .bind(micros(range.end()))
        .bind(micros(range.start()))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading incidents", error))?;
        Ok((incidents, affects))
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(|error| database("committing observations", error))
    }
}
