//! The PostgreSQL side of [`crate::accounts`].
//!
//! Changes to users and tokens run in one transaction with their audit entry, as do the few
//! other changes of two statements (recording a failure and forgetting old ones, creating a
//! session and deleting expired ones); single statements that are not audited run on their
//! own. Several server processes may share the database: each change is a statement on the
//! rows it names, so concurrent changes need no lock of their own beside the audit log's, and
//! failed sign-ins are rows, counted the same from every process.

use jiff::Timestamp;
use jiff_sqlx::ToSqlx;
use sqlx::postgres::PgRow;

use super::{PgStore, column, optional_instant};
use crate::accounts::{
    AccountRows, NewSession, NewToken, NewUser, SessionRecord, TokenRow, UserRow, insert_error,
};
use crate::audit::{Change, append_postgres};
use crate::{StoreError, database};

const USER_COLUMNS: &str =
    "name, password_hash, role, customer, created_at, password_changed_at, disabled_at";

const TOKEN_COLUMNS: &str = "id, name, secret_hash, scopes, role, customer, created_by, \
                             created_at, revoked_at, last_used_at";

impl AccountRows for PgStore {
    async fn insert_user(
        &self,
        user: &NewUser,
        actor: &str,
        created_at: Timestamp,
    ) -> Result<(), StoreError> {
        let what = format!("user {}", user.name);
        let mut tx = self.begin().await?;
        let query =
            format!("INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL)");
        sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(user.role.as_str())
            .bind(user.customer.as_deref())
            .bind(created_at.to_sqlx())
            .bind(created_at.to_sqlx())
            .execute(&mut *tx)
            .await
            .map_err(|error| insert_error(error, format!("adding {what}"), &what, None))?;
        append_postgres(&mut tx, &[Change::user_created(user, actor)], created_at).await?;
        tx.commit().await.map_err(|error| database(format!("adding {what}"), error))
    }

    async fn user_rows(&self, name: Option<&str>) -> Result<Vec<UserRow>, StoreError> {
        let query = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE $1::text IS NULL OR name = $1 ORDER BY name"
        );
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
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE name = $3",
        )
        .bind(password_hash)
        .bind(at.to_sqlx())
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(|error| database(doing(), error))?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_postgres(&mut tx, &[Change::password_set(name, actor)], at).await?;
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
        let mut tx = self.begin().await?;
        // Locks the user's row, so that of two concurrent requests only one finds it enabled.
        let enabled: Option<bool> =
            sqlx::query_scalar("SELECT disabled_at IS NULL FROM users WHERE name = $1 FOR UPDATE")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|error| database(doing(), error))?;
        let Some(enabled) = enabled else { return Ok(false) };
        if enabled {
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE name = $2")
                .bind(at.to_sqlx())
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(|error| database(doing(), error))?;
        }
        sqlx::query("DELETE FROM sessions WHERE user_name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(|error| database(doing(), error))?;
        if enabled {
            append_postgres(&mut tx, &[Change::user_disabled(name, actor)], at).await?;
        }
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
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tokens (name, secret_hash, scopes, role, customer, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&token.name)
        .bind(&token.secret_hash)
        .bind(scopes)
        .bind(token.role.as_str())
        .bind(token.customer.as_deref())
        .bind(&token.created_by)
        .bind(created_at.to_sqlx())
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| insert_error(error, doing(), "a token with the same secret", None))?;
        append_postgres(&mut tx, &[Change::token_created(id, token, scopes)], created_at).await?;
        tx.commit().await.map_err(|error| database(doing(), error))?;
        Ok(id)
    }

    async fn token_rows(&self, secret_hash: Option<&str>) -> Result<Vec<TokenRow>, StoreError> {
        let query = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE $1::text IS NULL OR secret_hash = $1 ORDER BY id"
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
            "UPDATE tokens SET last_used_at = $1 \
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
        )
        .bind(at.to_sqlx())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|error| database(format!("recording the use of token {id}"), error))?;
        Ok(())
    }

    async fn revoke_token(&self, id: i64, actor: &str, at: Timestamp) -> Result<bool, StoreError> {
        let doing = || format!("revoking token {id}");
        let mut tx = self.begin().await?;
        let revoked: Option<String> = sqlx::query_scalar(
            "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             RETURNING name",
        )
        .bind(at.to_sqlx())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|error| database(doing(), error))?;
        let Some(name) = revoked else { return Ok(false) };
        append_postgres(&mut tx, &[Change::token_revoked(id, &name, actor)], at).await?;
        tx.commit().await.map_err(|error| database(doing(), error))?;
        Ok(true)
    }

    async fn insert_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let doing = || format!("creating a session for user {}", session.user);
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(session.created_at.to_sqlx())
            .execute(&mut *tx)
            .await
            .map_err(|error| database("deleting expired sessions", error))?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_name, csrf_token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.id_hash)
        .bind(&session.user)
        .bind(&session.csrf_token_hash)
        .bind(session.created_at.to_sqlx())
        .bind(session.expires_at.to_sqlx())
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
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(id_hash)
        .bind(now.to_sqlx())
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| database("reading a session", error))?;
        row.as_ref().map(session_record).transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(|error| database("deleting a session", error))?;
        Ok(())
    }

    async fn delete_user_sessions(&self, name: &str) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_name = $1")
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
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(forget_before.to_sqlx())
            .execute(&mut *tx)
            .await
            .map_err(|error| database("forgetting old failed sign-ins", error))?;
        sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
            .bind(key)
            .bind(at.to_sqlx())
            .execute(&mut *tx)
            .await
            .map_err(|error| database(doing, error))?;
        tx.commit().await.map_err(|error| database(doing, error))
    }

    async fn count_login_failures(&self, key: &str, since: Timestamp) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2")
            .bind(key)
            .bind(since.to_sqlx())
            .fetch_one(&self.pool)
            .await
            .map_err(|error| database("counting failed sign-ins", error))
    }

    async fn delete_login_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(|error| database("forgetting failed sign-ins", error))?;
        Ok(())
    }
}

/// A row of [`USER_COLUMNS`].
fn user_row(row: &PgRow) -> Result<UserRow, StoreError> {
    let name: String = column(row, "name", "a user")?;
    let what = format!("user {name}");
    Ok(UserRow {
        password_hash: column(row, "password_hash", &what)?,
        role: column(row, "role", &what)?,
        customer: column(row, "customer", &what)?,
        created_at: column::<jiff_sqlx::Timestamp>(row, "created_at", &what)?.to_jiff(),
        password_changed_at: column::<jiff_sqlx::Timestamp>(row, "password_changed_at", &what)?
            .to_jiff(),
        disabled_at: optional_instant(row, "disabled_at", &what)?,
        name,
    })
}

/// A row of [`TOKEN_COLUMNS`].
fn token_row(row: &PgRow) -> Result<TokenRow, StoreError> {
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
        created_at: column::<jiff_sqlx::Timestamp>(row, "created_at", &what)?.to_jiff(),
        revoked_at: optional_instant(row, "revoked_at", &what)?,
        last_used_at: optional_instant(row, "last_used_at", &what)?,
    })
}

fn session_record(row: &PgRow) -> Result<SessionRecord, StoreError> {
    let user: String = column(row, "user_name", "a session")?;
    let what = format!("a session of user {user}");
    Ok(SessionRecord {
        id_hash: column(row, "id_hash", &what)?,
        csrf_token_hash: column(row, "csrf_token_hash", &what)?,
        created_at: column::<jiff_sqlx::Timestamp>(row, "created_at", &what)?.to_jiff(),
        expires_at: column::<jiff_sqlx::Timestamp>(row, "expires_at", &what)?.to_jiff(),
        user,
    })
}
