//! Reading and writing the columns of the tables that keep instants as microseconds (leases,
//! escalation deliveries, surveys, report sends): one conversion each way and one error for an
//! unreadable column, naming the table.

use jiff::Timestamp;

use crate::StoreError;

/// An instant as the microseconds these tables keep.
pub(crate) fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// The columns of one group of tables, named in errors (`the surveys`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Columns(pub(crate) &'static str);

impl Columns {
    /// The instant of stored microseconds.
    pub(crate) fn instant(self, micros: i64) -> Result<Timestamp, StoreError> {
        Timestamp::from_microsecond(micros)
            .map_err(|_| StoreError::Corrupt { what: format!("instant {micros} in {}", self.0) })
    }

    /// Column `name` of `row`.
    pub(crate) fn get<'r, R, T>(self, row: &'r R, name: &'static str) -> Result<T, StoreError>
    where
        R: sqlx::Row,
        &'static str: sqlx::ColumnIndex<R>,
        T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        row.try_get(name).map_err(|error| StoreError::Corrupt {
            what: format!("column {name} of {}: {error}", self.0),
        })
    }
}
