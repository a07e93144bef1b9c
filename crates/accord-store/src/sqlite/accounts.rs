//! The SQLite side of [`crate::accounts`].
//!
//! Changes to users and tokens run in one `BEGIN IMMEDIATE` transaction with their audit
//! entry, as do the few other changes of two statements (recording a failure and forgetting
//! old ones, creating a session and deleting expired ones); single statements that are not
//! audited run on their own.

use jiff::Timestamp;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, column, instant, micros, optional_instant};
use crate::accounts::{
    AccountRows, NewSession, NewToken, NewUser, SessionRecord, TokenRow, UserRow, insert_error,
};
use crate::audit::{Change, append_sqlite};
use crate::{StoreError, database};

const USER_COLUMNS: &str =
    "name, password_hash, role, customer, created_at, password_changed_at, disabled_at";

const TOKEN_COLUMNS: &str = "id, name, secret_hash, scopes, role, customer, created_by, \
                             created_at, revoked_at, last_used_at";

impl AccountRows for SqliteStore {
    async fn insert_user(
        &self,
        user: &NewUser,
        actor: &str,
        created_at: Timestamp,
    ) -> Result<(), StoreError> {
        let what = format!("user {}", user.name);
        let mut tx = self.begin_immediate().await?;
        let query = format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL)");
        sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(user.role.as_str())
            .bind(user.customer.as_deref())
            .bind(micros(created_at))
            .bind(micros(created_at))
            .execute(&mut *tx)
            .await
            .map_err(|error| insert_error(error, format!("adding {what}"), &what, None))?;
        append_sqlite(&mut tx, &[Change::user_created(user, actor)], created_at).await?;
        tx.commit().await.map_err(|error| database(format!("adding {what}"), error))
    }

    async fn user_rows(&self, name: Option<&str>) -> Result<Vec<UserRow>, StoreError> {
        let query =
            format!("SELECT {USER_COLUMNS} FROM users WHERE ?1 IS NULL OR name = ?1 ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(name)
            .fetch_all(&self.pool)
            .await
            .map_err(|error| database("reading users", error))?;
        rows.iter().map(user_row).collect()
    }

    async fn update_password(
        &self,
        name: &str,
        password_hash: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let doing = || format!("setting the password of user {name}");
        let mut tx = self.begin_immediate().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?",
        )
        .bind(password_hash)
        .bind(micros(at))
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(|error| database(doing(), error))?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_sqlite(&mut tx, &[Change::password_set(name, actor)], at).await?;
        tx.commit().await.map_err(|error| database(doing(), error))?;
        Ok(true)
    }

    async fn disable_user(
        &self,
        name: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let doing = || format!("disabling user {name}");
        let mut tx = self.begin_immediate().await?;
        let enabled: Option<bool> =
            sqlx::query_scalar("SELECT disabled_at IS NULL FROM users WHERE name = ?")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|error| database(doing(), error))?;
        let Some(enabled) = enabled else { return Ok(false) };
        if enabled {
            sqlx::query("UPDATE users SET disabled_at = ? WHERE name = ?")
                .bind(micros(at))
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(|error| database(doing(), error))?;
            append_sqlite(&mut tx, &[Change::user_disabled(name, actor)], at).await?;
        }
        sqlx::query("DELETE FROM sessions WHERE user_name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(|error| database(doing(), error))?;
        tx.commit().await.map_err(|error| database(doing(), error))?;
        Ok(true)
    }

    async fn insert_token(
        &self,
        token: &NewToken,
        scopes: &str,
        created_at: Timestamp,
    ) -> Result<i64, StoreError> {
        let doing = || format!("adding token {}", token.name);
        let mut tx = self.begin_immediate().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tokens (name, secret_hash, scopes, role, customer, created_by, \
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&token.name)
        .bind(&token.secret_hash)
        .bind(scopes)
        .bind(token.role.as_str())
        .bind(token.customer.as_deref())
        .bind(&token.created_by)
        .bind(micros(created_at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| insert_error(error, doing(), "a token with the same secret", None))?;
        append_sqlite(&mut tx, &[Change::token_created(id, token, scopes)], created_at).await?;
        tx.commit().await.map_err(|error| database(doing(), error))?;
        Ok(id)
    }

    async fn token_rows(&self, secret_hash: Option<&str>) -> Result<Vec<TokenRow>, StoreError> {
        let query = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE ?1 IS NULL OR secret_hash = ?1 ORDER BY id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(secret_hash)
            .fetch_all(&self.pool)
            .await
            .map_err(|error| database("reading tokens", error))?;
        rows.iter().map(token_row).collect()
    }

    async fn touch_token(&self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tokens SET last_used_at = ?1 \
             WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)",
        )
        .bind(micros(at))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|error| database(format!("recording the use of token {id}"), error))?;
        Ok(())
    }

    async fn revoke_token(&self, id: i64, actor: &str, at: Timestamp) -> Result<bool, StoreError> {
        let doing = || format!("revoking token {id}");
        let mut tx = self.begin_immediate().await?;
        let revoked: Option<String> = sqlx::query_scalar(
            "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING name",
        )
        .bind(micros(at))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|error| database(doing(), error))?;
        let Some(name) = revoked else { return Ok(false) };
        append_sqlite(&mut tx, &[Change::token_revoked(id, &name, actor)], at).await?;
        tx.commit().await.map_err(|error| database(doing(), error))?;
        Ok(true)
    }

    async fn insert_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let doing = || format!("creating a session for user {}", session.user);
        let mut tx = self.begin_immediate().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(micros(session.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|error| database("deleting expired sessions", error))?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_name, csrf_token_hash, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&session.id_hash)
        .bind(&session.user)
        .bind(&session.csrf_token_hash)
        .bind(micros(session.created_at))
        .bind(micros(session.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(|error| {
            let user = format!("user {}", session.user);
            insert_error(error, doing(), "a session with the same id", Some(&user))
        })?;
        tx.commit().await.map_err(|error| database(doing(), error))
    }

    async fn session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id_hash, s.user_name, s.csrf_token_hash, s.created_at, s.expires_at \
             FROM sessions s JOIN users u ON u.name = s.user_name \
             WHERE s.id_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL",
        )
        .bind(id_hash)
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| database("reading a session", error))?;
        row.as_ref().map(session_record).transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(|error| database("deleting a session", error))?;
        Ok(())
    }

    async fn delete_user_sessions(&self, name: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_name = ?")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(|error| database(format!("deleting the sessions of user {name}"), error))?;
        Ok(done.rows_affected())
    }

    async fn insert_login_failure(
        &self,
        key: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<(), StoreError> {
        let doing = "recording a failed sign-in";
        let mut tx = self.begin_immediate().await?;
        sqlx::query("DELETE FROM login_failures WHERE at < ?")
            .bind(micros(forget_before))
            .execute(&mut *tx)
            .await
            .map_err(|error| database("forgetting old failed sign-ins", error))?;
        sqlx::query("INSERT INTO login_failures (key, at) VALUES (?, ?)")
            .bind(key)
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(|error| database(doing, error))?;
        tx.commit().await.map_err(|error| database(doing, error))
    }

    async fn count_login_failures(&self, key: &str, since: Timestamp) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT count(*) FROM login_failures WHERE key = ? AND at >= ?")
            .bind(key)
            .bind(micros(since))
            .fetch_one(&self.pool)
            .await
            .map_err(|error| database("counting failed sign-ins", error))
    }

    async fn delete_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(|error| database("forgetting failed sign-ins", error))?;
        Ok(())
    }
}

/// A row of [`USER_COLUMNS`].
fn user_row(row: &SqliteRow) -> Result<UserRow, StoreError> {
    let name: String = column(row, "name", "a user")?;
    let what = format!("user {name}");
    Ok(UserRow {
        password_hash: column(row, "password_hash", &what)?,
        role: column(row, "role", &what)?,
        customer: column(row, "customer", &what)?,
        created_at: instant(column(row, "created_at", &what)?, &what)?,
        password_changed_at: instant(column(row, "password_changed_at", &what)?, &what)?,
        disabled_at: optional_instant(row, "disabled_at", &what)?,
        name,
    })
}

/// A row of [`TOKEN_COLUMNS`].
fn token_row(row: &SqliteRow) -> Result<TokenRow, StoreError> {
    let id: i64 = column(row, "id", "a token")?;
    let what = format!("token {id}");
    Ok(TokenRow {
        id,
        name: column(row, "name", &what)?,
        secret_hash: column(row, "secret_hash", &what)?,
        scopes: column(row, "scopes", &what)?,
        role: column(row, "role", &what)?,
        customer: column(row, "customer", &what)?,
        created_by: column(row, "created_by", &what)?,
        created_at: instant(column(row, "created_at", &what)?, &what)?,
        revoked_at: optional_instant(row, "revoked_at", &what)?,
        last_used_at: optional_instant(row, "last_used_at", &what)?,
    })
}

fn session_record(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    let user: String = column(row, "user_name", "a session")?;
    let what = format!("a session of user {user}");
    Ok(SessionRecord {
        id_hash: column(row, "id_hash", &what)?,
        csrf_token_hash: column(row, "csrf_token_hash", &what)?,
        created_at: instant(column(row, "created_at", &what)?, &what)?,
        expires_at: instant(column(row, "expires_at", &what)?, &what)?,
        user,
    })
}
