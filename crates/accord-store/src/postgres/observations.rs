//! The PostgreSQL side of [`crate::observations`].

use accord_core::availability::{Incident, ProbeCursor, RequestCount};
use accord_core::calendar::TimeRange;
use jiff::{SignedDuration, Timestamp};
use jiff_sqlx::ToSqlx;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Transaction};

use super::{PgStore, column, optional_instant};
use crate::observations::{
    ObservationTx, SourceKind, SourceRow, duration_micros, stored_exclusion, stored_impact,
};
use crate::{StoreError, database};

/// One observation transaction.
#[derive(Debug)]
pub(crate) struct PgObservations {
    tx: Transaction<'static, Postgres>,
}

impl PgStore {
    /// A write transaction; each source it records is locked (`FOR UPDATE`) until it ends.
    pub(crate) async fn observe(&self) -> Result<PgObservations, StoreError> {
        Ok(PgObservations { tx: self.begin().await? })
    }

    /// A read transaction, locking nothing.
    pub(crate) async fn read(&self) -> Result<PgObservations, StoreError> {
        let tx = self
            .pool
            .begin()
            .await
            .map_err(|error| database("starting a read transaction", error))?;
        Ok(PgObservations { tx })
    }
}

const SOURCE_COLUMNS: &str =
    "id, retries, every_us, grace_us, first_at, last_at, failures, first_failure_at";

fn source_row(row: &PgRow, name: &str) -> Result<SourceRow, StoreError> {
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

fn ts(at: Timestamp) -> jiff_sqlx::Timestamp {
    at.to_sqlx()
}

impl ObservationTx for PgObservations {
    async fn source(&mut self, kind: SourceKind, name: &str) -> Result<SourceRow, StoreError> {
        sqlx::query("INSERT INTO sources (kind, name) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(kind.as_str())
            .bind(name)
            .execute(&mut *self.tx)
            .await
            .map_err(|error| database(format!("recording {} {name}", kind.as_str()), error))?;
        let query = format!(
            "SELECT {SOURCE_COLUMNS} FROM sources WHERE kind = $1 AND name = $2 FOR UPDATE"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(kind.as_str())
            .bind(name)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(|error| database(format!("locking {} {name}", kind.as_str()), error))?;
        source_row(&row, name)
    }

    async fn find_source(
        &mut self,
        kind: SourceKind,
        name: &str,
    ) -> Result<Option<SourceRow>, StoreError> {
        let query = format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE kind = $1 AND name = $2");
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
            "UPDATE sources SET retries = $1, every_us = $2, grace_us = $3, first_at = $4, \
             last_at = $5, failures = $6, first_failure_at = $7 WHERE id = $8",
        )
        .bind(i64::from(row.retries))
        .bind(duration_micros(row.every))
        .bind(duration_micros(row.grace))
        .bind(row.cursor.first.map(ToSqlx::to_sqlx))
        .bind(row.cursor.last.map(ToSqlx::to_sqlx))
        .bind(i64::from(row.cursor.failures))
        .bind(row.cursor.first_failure.map(ToSqlx::to_sqlx))
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
            "SELECT start_at, end_at FROM outages WHERE source_id = $1 AND start_at < $2 \
             AND (end_at IS NULL OR end_at > $3) ORDER BY start_at",
        )
        .bind(source)
        .bind(ts(to))
        .bind(ts(from))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading outages", error))?;
        rows.iter()
            .map(|row| {
                let start: jiff_sqlx::Timestamp = column(row, "start_at", "an outage")?;
                Ok((start.to_jiff(), optional_instant(row, "end_at", "an outage")?))
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
            "INSERT INTO outages (source_id, start_at, end_at) VALUES ($1, $2, $3) \
             ON CONFLICT (source_id, start_at) DO UPDATE SET end_at = excluded.end_at",
        )
        .bind(source)
        .bind(ts(start))
        .bind(end.map(ToSqlx::to_sqlx))
        .execute(&mut *self.tx)
        .await
        .map_err(|error| database("recording an outage", error))?;
        Ok(())
    }

    async fn gaps(&mut self, source: i64, range: TimeRange) -> Result<Vec<TimeRange>, StoreError> {
        let rows: Vec<(jiff_sqlx::Timestamp, jiff_sqlx::Timestamp)> = sqlx::query_as(
            "SELECT start_at, end_at FROM gaps WHERE source_id = $1 AND start_at < $2 \
             AND end_at > $3 ORDER BY start_at",
        )
        .bind(source)
        .bind(ts(range.end()))
        .bind(ts(range.start()))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading gaps", error))?;
        rows.into_iter()
            .map(|(start, end)| {
                let (start, end) = (start.to_jiff(), end.to_jiff());
                TimeRange::new(start, end)
                    .ok_or_else(|| StoreError::Corrupt { what: format!("gap {start}..{end}") })
            })
            .collect()
    }

    async fn put_gap(&mut self, source: i64, gap: TimeRange) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO gaps (source_id, start_at, end_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(source)
        .bind(ts(gap.start()))
        .bind(ts(gap.end()))
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
            "SELECT minute, counts FROM latency_minutes WHERE source_id = $1 \
             AND minute BETWEEN $2 AND $3 ORDER BY minute",
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
            "INSERT INTO latency_minutes (source_id, minute, counts) VALUES ($1, $2, $3) \
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
        let rows: Vec<(jiff_sqlx::Timestamp, jiff_sqlx::Timestamp, i64, i64)> = sqlx::query_as(
            "SELECT start_at, end_at, good, total FROM request_counts WHERE source_id = $1 \
             AND start_at >= $2 AND start_at < $3 ORDER BY start_at",
        )
        .bind(source)
        .bind(ts(range.start()))
        .bind(ts(range.end()))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading request counts", error))?;
        rows.into_iter()
            .map(|(start, end, good, total)| {
                let what = "request counts";
                let (start, end) = (start.to_jiff(), end.to_jiff());
                let range = TimeRange::new(start, end).ok_or_else(|| StoreError::Corrupt {
                    what: format!("{what} {start}..{end}"),
                })?;
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
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_id, start_at) DO UPDATE \
             SET end_at = excluded.end_at, good = excluded.good, total = excluded.total",
        )
        .bind(source)
        .bind(ts(count.range.start()))
        .bind(ts(count.range.end()))
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
        sqlx::query("DELETE FROM incidents WHERE id = $1")
            .bind(&incident.id)
            .execute(&mut *self.tx)
            .await
            .map_err(|error| database(doing(), error))?;
        sqlx::query(
            "INSERT INTO incidents (id, start_at, end_at, impact, excluded, reason, cause, \
             root_cause, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&incident.id)
        .bind(ts(incident.start))
        .bind(incident.end.map(ToSqlx::to_sqlx))
        .bind(incident.impact.as_str())
        .bind(incident.excluded.as_ref().map(|(category, _)| category.as_str()))
        .bind(incident.excluded.as_ref().map_or("", |(_, reason)| reason.as_str()))
        .bind(&incident.cause)
        .bind(&incident.root_cause)
        .bind(ts(recorded_at))
        .execute(&mut *self.tx)
        .await
        .map_err(|error| database(doing(), error))?;
        for affected in &incident.affected {
            sqlx::query(
                "INSERT INTO incident_affects (incident_id, service, component) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
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
             FROM incidents WHERE start_at < $1 AND (end_at IS NULL OR end_at > $2) \
             ORDER BY start_at, id",
        )
        .bind(ts(range.end()))
        .bind(ts(range.start()))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading incidents", error))?;
        let mut incidents = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = column(row, "id", "an incident")?;
            let what = format!("incident {id}");
            let start: jiff_sqlx::Timestamp = column(row, "start_at", &what)?;
            let impact: String = column(row, "impact", &what)?;
            incidents.push(Incident {
                start: start.to_jiff(),
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
             WHERE i.start_at < $1 AND (i.end_at IS NULL OR i.end_at > $2) \
             ORDER BY a.incident_id, a.service, a.component",
        )
        .bind(ts(range.end()))
        .bind(ts(range.start()))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|error| database("reading incidents", error))?;
        Ok((incidents, affects))
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(|error| database("committing observations", error))
    }
}
