//! The PostgreSQL side of [`crate::dead_letters`].

use jiff::Timestamp;
use jiff_sqlx::ToSqlx;
use sqlx::postgres::PgRow;

use super::{PgStore, column};
use crate::dead_letters::{DeadLetterRow, DeadLetterRows, NewDeadLetter};
use crate::{StoreError, database};

impl DeadLetterRows for PgStore {
    async fn insert_dead_letter(
        &self,
        letter: &NewDeadLetter<'_>,
        received_at: Timestamp,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO dead_letters (received_at, adapter, reason, field, principal, payload) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(received_at.to_sqlx())
        .bind(letter.adapter)
        .bind(letter.reason)
        .bind(letter.field)
        .bind(letter.principal)
        .bind(letter.payload)
        .fetch_one(&self.pool)
        .await
        .map_err(|error| database(format!("keeping a dead letter of {}", letter.adapter), error))
    }

    async fn dead_letter_rows(
        &self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<DeadLetterRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, received_at, adapter, reason, field, principal, payload FROM dead_letters \
             WHERE $1::bigint IS NULL OR id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| database("reading dead letters", error))?;
        rows.iter().map(dead_letter_row).collect()
    }
}

fn dead_letter_row(row: &PgRow) -> Result<DeadLetterRow, StoreError> {
    let id: i64 = column(row, "id", "a dead letter")?;
    let what = format!("dead letter {id}");
    Ok(DeadLetterRow {
        id,
        received_at: column::<jiff_sqlx::Timestamp>(row, "received_at", &what)?.to_jiff(),
        adapter: column(row, "adapter", &what)?,
        reason: column(row, "reason", &what)?,
        field: column(row, "field", &what)?,
        principal: column(row, "principal", &what)?,
        payload: column(row, "payload", &what)?,
    })
}
