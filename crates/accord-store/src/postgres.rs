//! The PostgreSQL backend: many writers, serialized per document by a row lock.
//!
//! Every write transaction locks the `documents` rows it touches (`SELECT ... FOR UPDATE`)
//! before reading revisions or transitions, so two writers to one document take turns while
//! writers to different documents do not wait for each other. A batch locks its documents in
//! one global order (kind, then name) so that two batches cannot deadlock.
//! Instants are `timestamptz`, converted by `jiff-sqlx`.

use std::collections::BTreeMap;

use accord_core::lifecycle::{self, LifecycleState, Request, RevisionLifecycle, Transition};
use jiff::Timestamp;
use jiff_sqlx::ToSqlx;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{PgExecutor, Postgres, Row, Transaction};

use crate::{
    Applied, Change, DocumentSummary, NewRevision, Revision, RevisionSummary, StoreError, audit,
    database, document_name, lifecycle_state, revision_number,
};

mod accounts;
mod dead_letters;
mod events;
mod observations;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The columns of `revisions r` that [`summary`] reads, as a literal for `concat!`.
macro_rules! summary_columns {
    () => {
        "r.number, r.content_hash, r.author, r.message, r.created_at, r.source_path, \
         r.source_line, r.effective_from, r.effective_until"
    };
}

#[derive(Debug)]
pub(crate) struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// The connection pool, for modules that run the same SQL on both backends.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Connects to `url`; `shown` is the location with its password redacted, for messages.
    pub(crate) async fn open(url: &str, shown: &str) -> Result<PgStore, StoreError> {
        let options: PgConnectOptions =
            url.parse().map_err(|error| database(format!("opening {shown}"), error))?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|error| database(format!("opening {shown}"), error))?;
        MIGRATOR.run(&pool).await.map_err(|error| StoreError::Database {
            doing: format!("migrating {shown}"),
            source: Box::new(error),
        })?;
        Ok(PgStore { pool })
    }

    pub(crate) async fn close(self) {
        self.pool.close().await;
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(|error| database("starting a write transaction", error))
    }

    pub(crate) async fn apply(
        &self,
        documents: &[NewRevision],
        author: &str,
        message: &str,
        now: Timestamp,
    ) -> Result<Vec<Applied>, StoreError> {
        let mut tx = self.begin().await?;
        // Lock every document of the batch, creating the missing ones, in (kind, name) order.
        let mut document_ids: BTreeMap<(&str, &str), i64> = documents
            .iter()
            .map(|document| ((document.kind.as_str(), document.name.as_str()), 0))
            .collect();
        for ((kind, name), document_id) in &mut document_ids {
            let doing = || format!("recording {}", document_name(kind, name));
            sqlx::query(
                "INSERT INTO documents (kind, name) VALUES ($1, $2) \
                 ON CONFLICT (kind, name) DO NOTHING",
            )
            .bind(*kind)
            .bind(*name)
            .execute(&mut *tx)
            .await
            .map_err(|error| database(doing(), error))?;
            *document_id = lock_document(&mut *tx, kind, name).await?;
        }

        let mut applied = Vec::with_capacity(documents.len());
        let mut changes = Vec::new();
        for document in documents {
            let name = document_name(&document.kind, &document.name);
            let document_id = document_ids[&(document.kind.as_str(), document.name.as_str())];
            let latest: Option<(i64, String)> = sqlx::query_as(
                "SELECT number, content_hash FROM revisions WHERE document_id = $1 \
                 ORDER BY number DESC LIMIT 1",
            )
            .bind(document_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|error| database(format!("reading the latest revision of {name}"), error))?;
            let (number, change) = match &latest {
                Some((number, hash)) if *hash == document.content_hash => {
                    applied.push(Applied {
                        kind: document.kind.clone(),
                        name: document.name.clone(),
                        revision: revision_number(*number, &name)?,
                        change: Change::Unchanged,
                    });
                    continue;
                }
                Some((number, _)) => (number + 1, Change::Updated),
                None => (1, Change::Created),
            };
            let doing_insert = || format!("recording revision {number} of {name}");
            let revision_id: i64 = sqlx::query_scalar(
                "INSERT INTO revisions (document_id, number, content_hash, canonical, \
                 source_text, source_path, source_line, author, message, created_at, \
                 effective_from, effective_until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
            )
            .bind(document_id)
            .bind(number)
            .bind(&document.content_hash)
            .bind(&document.canonical)
            .bind(&document.source_text)
            .bind(&document.source_path)
            .bind(i64::from(document.source_line))
            .bind(author)
            .bind(message)
            .bind(now.to_sqlx())
            .bind(document.effective_from.map(ToSqlx::to_sqlx))
            .bind(document.effective_until.map(ToSqlx::to_sqlx))
            .fetch_one(&mut *tx)
            .await
            .map_err(|error| database(doing_insert(), error))?;
            if document.lifecycle {
                let draft = Transition {
                    revision: revision_number(number, &name)?,
                    from: None,
                    to: LifecycleState::Draft,
                    actor: author.to_owned(),
                    note: message.to_owned(),
                    recorded_at: now,
                    effective_at: now,
                };
                insert_transition(&mut tx, revision_id, &draft)
                    .await
                    .map_err(|error| database(doing_insert(), error))?;
            }
            changes.push(audit::Change::revision(document, number, author, message));
            applied.push(Applied {
                kind: document.kind.clone(),
                name: document.name.clone(),
                revision: revision_number(number, &name)?,
                change,
            });
        }
        audit::append_postgres(&mut tx, &changes, now).await?;
        tx.commit().await.map_err(|error| database("committing applied documents", error))?;
        Ok(applied)
    }

    pub(crate) async fn revisions(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<RevisionSummary>, StoreError> {
        let document = document_name(kind, name);
        let document_id = document_id(&self.pool, kind, name).await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            summary_columns!(),
            " FROM revisions r WHERE r.document_id = $1 ORDER BY r.number"
        ))
        .bind(document_id)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| database(format!("reading revisions of {document}"), error))?;
        rows.iter().map(|row| summary(row, &document)).collect()
    }

    pub(crate) async fn revision(
        &self,
        kind: &str,
        name: &str,
        number: u32,
    ) -> Result<Revision, StoreError> {
        let document = document_name(kind, name);
        let document_id = document_id(&self.pool, kind, name).await?;
        let doing = || format!("reading revision {number} of {document}");
        let row = sqlx::query(concat!(
            "SELECT ",
            summary_columns!(),
            ", r.canonical, r.source_text FROM revisions r \
             WHERE r.document_id = $1 AND r.number = $2"
        ))
        .bind(document_id)
        .bind(i64::from(number))
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| database(doing(), error))?;
        if let Some(row) = row {
            return revision(&row, kind.to_owned(), name.to_owned());
        }
        let latest: i64 =
            sqlx::query_scalar("SELECT max(number) FROM revisions WHERE document_id = $1")
                .bind(document_id)
                .fetch_one(&self.pool)
                .await
                .map_err(|error| database(doing(), error))?;
        Err(StoreError::NotFound {
            what: format!("revision {number} of {document} (latest is {latest})"),
        })
    }

    pub(crate) async fn documents(
        &self,
        kind: Option<&str>,
    ) -> Result<Vec<DocumentSummary>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT d.kind, d.name, max(r.number) FROM documents d \
             JOIN revisions r ON r.document_id = d.id \
             WHERE $1::text IS NULL OR d.kind = $1 \
             GROUP BY d.id ORDER BY d.kind, d.name",
        )
        .bind(kind)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| database("listing documents", error))?;
        rows.into_iter()
            .map(|(kind, name, latest)| {
                let latest = revision_number(latest, &document_name(&kind, &name))?;
                Ok(DocumentSummary { kind, name, latest })
            })
            .collect()
    }

    pub(crate) async fn latest(&self, kind: Option<&str>) -> Result<Vec<Revision>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT d.kind, d.name, ",
            summary_columns!(),
            ", r.canonical, r.source_text \
             FROM documents d JOIN revisions r ON r.document_id = d.id \
             WHERE r.number = (SELECT max(number) FROM revisions WHERE document_id = d.id) \
             AND ($1::text IS NULL OR d.kind = $1) \
             ORDER BY d.kind, d.name"
        ))
        .bind(kind)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| database("reading the latest revisions", error))?;
        rows.iter()
            .map(|row| {
                let kind: String = column(row, "kind", "documents")?;
                let name: String = column(row, "name", "documents")?;
                revision(row, kind, name)
            })
            .collect()
    }

    pub(crate) async fn transitions(
        &self,
        kind: &str,
        name: &str,
    ) -> Result<Vec<Transition>, StoreError> {
        let document_id = document_id(&self.pool, kind, name).await?;
        read_transitions(&self.pool, document_id, &document_name(kind, name)).await
    }

    pub(crate) async fn transition(
        &self,
        kind: &str,
        name: &str,
        request: &Request,
        now: Timestamp,
    ) -> Result<Vec<Transition>, StoreError> {
        let document = document_name(kind, name);
        let mut tx = self.begin().await?;
        let document_id = lock_document(&mut *tx, kind, name).await?;
        let rows = sqlx::query(
            "SELECT id, number, effective_from, effective_until FROM revisions \
             WHERE document_id = $1 ORDER BY number",
        )
        .bind(document_id)
        .fetch_all(&mut *tx)
        .await
        .map_err(|error| database(format!("reading revisions of {document}"), error))?;
        let mut revision_ids = Vec::with_capacity(rows.len());
        let mut revisions = Vec::with_capacity(rows.len());
        for row in &rows {
            let number = revision_number(column(row, "number", &document)?, &document)?;
            revision_ids.push((number, column::<i64>(row, "id", &document)?));
            revisions.push(RevisionLifecycle {
                revision: number,
                effective_from: optional_instant(row, "effective_from", &document)?,
                effective_until: optional_instant(row, "effective_until", &document)?,
            });
        }
        let history = read_transitions(&mut *tx, document_id, &document).await?;
        let planned = lifecycle::plan(request, &revisions, &history, now)?;
        for transition in &planned {
            let (_, revision_id) = revision_ids
                .iter()
                .find(|(number, _)| *number == transition.revision)
                .expect("invariant: plan only returns transitions of the revisions it was given");
            insert_transition(&mut tx, *revision_id, transition).await.map_err(|error| {
                database(format!("recording the transition of {document}"), error)
            })?;
        }
        if !planned.is_empty() {
            let change = audit::Change::lifecycle(kind, name, request, &planned);
            audit::append_postgres(&mut tx, &[change], now).await?;
        }
        tx.commit()
            .await
            .map_err(|error| database(format!("committing the transition of {document}"), error))?;
        Ok(planned)
    }
}

/// The id of a document, or [`StoreError::NotFound`].
async fn document_id(
    executor: impl PgExecutor<'_>,
    kind: &str,
    name: &str,
) -> Result<i64, StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM documents WHERE kind = $1 AND name = $2")
            .bind(kind)
            .bind(name)
            .fetch_optional(executor)
            .await
            .map_err(|error| {
                database(format!("looking up {}", document_name(kind, name)), error)
            })?;
    found.ok_or_else(|| StoreError::NotFound { what: document_name(kind, name) })
}

/// Locks a document's row until the transaction ends and returns its id, or
/// [`StoreError::NotFound`].
async fn lock_document(
    executor: impl PgExecutor<'_>,
    kind: &str,
    name: &str,
) -> Result<i64, StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM documents WHERE kind = $1 AND name = $2 FOR UPDATE")
            .bind(kind)
            .bind(name)
            .fetch_optional(executor)
            .await
            .map_err(|error| database(format!("locking {}", document_name(kind, name)), error))?;
    found.ok_or_else(|| StoreError::NotFound { what: document_name(kind, name) })
}

async fn insert_transition(
    tx: &mut Transaction<'static, Postgres>,
    revision_id: i64,
    transition: &Transition,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO transitions (revision_id, from_state, to_state, actor, note, recorded_at, \
         effective_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(revision_id)
    .bind(transition.from.map(LifecycleState::as_str))
    .bind(transition.to.as_str())
    .bind(&transition.actor)
    .bind(&transition.note)
    .bind(transition.recorded_at.to_sqlx())
    .bind(transition.effective_at.to_sqlx())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn read_transitions(
    executor: impl PgExecutor<'_>,
    document_id: i64,
    document: &str,
) -> Result<Vec<Transition>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.number, t.from_state, t.to_state, t.actor, t.note, t.recorded_at, \
         t.effective_at FROM transitions t JOIN revisions r ON r.id = t.revision_id \
         WHERE r.document_id = $1 ORDER BY t.id",
    )
    .bind(document_id)
    .fetch_all(executor)
    .await
    .map_err(|error| database(format!("reading transitions of {document}"), error))?;
    rows.iter()
        .map(|row| {
            let from: Option<String> = column(row, "from_state", document)?;
            let to: String = column(row, "to_state", document)?;
            Ok(Transition {
                revision: revision_number(column(row, "number", document)?, document)?,
                from: from.map(|from| lifecycle_state(&from, document)).transpose()?,
                to: lifecycle_state(&to, document)?,
                actor: column(row, "actor", document)?,
                note: column(row, "note", document)?,
                recorded_at: column::<jiff_sqlx::Timestamp>(row, "recorded_at", document)?
                    .to_jiff(),
                effective_at: column::<jiff_sqlx::Timestamp>(row, "effective_at", document)?
                    .to_jiff(),
            })
        })
        .collect()
}

/// A row of [`summary_columns`] followed by `canonical` and `source_text`.
fn revision(row: &PgRow, kind: String, name: String) -> Result<Revision, StoreError> {
    let document = document_name(&kind, &name);
    Ok(Revision {
        summary: summary(row, &document)?,
        canonical: column(row, "canonical", &document)?,
        source_text: column(row, "source_text", &document)?,
        kind,
        name,
    })
}

/// A row of [`summary_columns`].
fn summary(row: &PgRow, document: &str) -> Result<RevisionSummary, StoreError> {
    let source_line: i64 = column(row, "source_line", document)?;
    Ok(RevisionSummary {
        number: revision_number(column(row, "number", document)?, document)?,
        content_hash: column(row, "content_hash", document)?,
        author: column(row, "author", document)?,
        message: column(row, "message", document)?,
        created_at: column::<jiff_sqlx::Timestamp>(row, "created_at", document)?.to_jiff(),
        source_path: column(row, "source_path", document)?,
        source_line: u32::try_from(source_line).map_err(|_| StoreError::Corrupt {
            what: format!("source line {source_line} of {document}"),
        })?,
        effective_from: optional_instant(row, "effective_from", document)?,
        effective_until: optional_instant(row, "effective_until", document)?,
    })
}

/// One column of a row, or [`StoreError::Corrupt`] naming it.
fn column<'r, T>(row: &'r PgRow, name: &str, document: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    row.try_get(name).map_err(|error| StoreError::Corrupt {
        what: format!("column {name} of {document}: {error}"),
    })
}

fn optional_instant(
    row: &PgRow,
    name: &str,
    document: &str,
) -> Result<Option<Timestamp>, StoreError> {
    let at: Option<jiff_sqlx::Timestamp> = column(row, name, document)?;
    Ok(at.map(jiff_sqlx::Timestamp::to_jiff))
}
