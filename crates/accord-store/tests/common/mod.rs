//! The harness of the store's stories: each runs against a SQLite file in a temporary
//! directory always, and against PostgreSQL when `ACCORD_TEST_POSTGRES_URL` names a server where
//! the tests may create databases (each story gets a fresh one and drops it).

use std::sync::atomic::{AtomicU32, Ordering};

use accord_store::{Location, Store};
use sqlx::Connection;

/// A fresh, empty database of one backend.
pub(crate) struct TestDb {
    pub(crate) location: Location,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The SQLite file's directory, deleted on drop.
    Sqlite(#[expect(dead_code, reason = "held for its Drop")] tempfile::TempDir),
    /// The database to drop, and the URL of the one to drop it from.
    Postgres { admin_url: String, database: String },
}

impl TestDb {
    pub(crate) fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let location = Location::Sqlite(dir.path().join("accord.db"));
        TestDb { location, cleanup: Cleanup::Sqlite(dir) }
    }

    async fn postgres(admin_url: &str) -> TestDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let database = format!("accord_test_{}_{n}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|error| panic!("connecting to ACCORD_TEST_POSTGRES_URL: {error}"));
        // Left over from an earlier run whose process had the same id and did not clean up.
        drop_database(&mut admin, &database).await;
        let create = format!("CREATE DATABASE {database}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();
        TestDb {
            location: Location::Postgres(with_database(admin_url, &database)),
            cleanup: Cleanup::Postgres { admin_url: admin_url.to_owned(), database },
        }
    }

    pub(crate) async fn open(&self) -> Store {
        Store::open(&self.location)
            .await
            .unwrap_or_else(|error| panic!("opening {}: {error:?}", self.location))
    }

    /// Drops a PostgreSQL database; a SQLite directory goes when `self` is dropped.
    async fn remove(self) {
        if let Cleanup::Postgres { admin_url, database } = &self.cleanup {
            let mut admin = sqlx::PgConnection::connect(admin_url).await.unwrap();
            drop_database(&mut admin, database).await;
        }
    }
}

async fn drop_database(admin: &mut sqlx::PgConnection, database: &str) {
    let drop = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(admin).await.unwrap();
}

/// `postgres://user@host/test?x=y` with the database replaced: `postgres://user@host/db?x=y`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (scheme, rest) = base.split_once("://").expect("a URL with a scheme");
    let authority = rest.split('/').next().unwrap_or(rest);
    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
    format!("{scheme}://{authority}/{database}{query}")
}

/// Runs a story against SQLite and, when configured, PostgreSQL, each on a fresh database.
pub(crate) async fn each_backend(story: impl AsyncFn(&TestDb)) {
    let sqlite = TestDb::sqlite();
    on(&sqlite);
    story(&sqlite).await;
    match std::env::var("ACCORD_TEST_POSTGRES_URL") {
        Ok(url) => {
            let postgres = TestDb::postgres(&url).await;
            on(&postgres);
            story(&postgres).await;
            postgres.remove().await;
        }
        Err(_) => skipping_postgres(),
    }
}

#[expect(clippy::print_stderr, reason = "says which backend a failing story ran on")]
fn on(db: &TestDb) {
    eprintln!("story on {}", db.location);
}

#[expect(clippy::print_stderr, reason = "a skipped backend should not pass silently")]
fn skipping_postgres() {
    eprintln!("skipping PostgreSQL store tests: ACCORD_TEST_POSTGRES_URL is not set");
}
