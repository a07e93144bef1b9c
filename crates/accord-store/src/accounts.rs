//! Accounts: the users who sign in, the API tokens programs call with, web sessions, and the
//! failed sign-ins that rate limiting counts.
//!
//! The store keeps no secret. A password arrives as a PHC string the caller computed (Argon2id
//! in `accord-server`); a token, a session cookie and a CSRF token arrive as the lowercase hex
//! SHA-256 of the secret, so a copy of the database lets no one sign in or call the API.
//! Roles and scopes are `accord_core::access` values, stored as their words.
//!
//! The rules live here once: names, the customer rule (a `customer` role is bound to exactly
//! one customer, every other role to none), the scopes a token's role may hold, and reading
//! the stored words back. Each backend supplies the SQL through [`AccountRows`]; the schema
//! repeats the rules as `CHECK`s. Users are disabled, never deleted; tokens are revoked, never
//! deleted, so a token id in a log keeps meaning one token. Every change to a user or token is
//! recorded in the audit log (`crate::audit`) in its transaction, with who made it; sessions and
//! failed sign-ins are not changes and are not recorded.

use std::fmt;

use accord_core::access::{Role, Scopes};
use jiff::{SignedDuration, Timestamp};

use crate::{Backend, Store, StoreError, database, to_microsecond};

/// How long failed sign-ins are kept: [`Store::login_failures_since`] counts nothing older.
/// Recording a failure forgets everyone's failures older than this, so the table stays small
/// whatever keys are tried.
pub const LOGIN_FAILURES_KEPT: SignedDuration = SignedDuration::from_hours(24);

/// A user to add.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The name to sign in with: not empty, without whitespace, control characters or `:`
    /// (`token:NAME` names a token's principal).
    pub name: String,
    /// The password as a PHC string (`$argon2id$v=19$...`), computed by the caller.
    pub password_hash: String,
    /// What the user may do.
    pub role: Role,
    /// The customer a [`Role::Customer`] user is bound to; `None` for every other role.
    pub customer: Option<String>,
}

/// Shows everything but the password hash.
impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("name", &self.name)
            .field("password_hash", &"[redacted]")
            .field("role", &self.role)
            .field("customer", &self.customer)
            .finish()
    }
}

/// A stored user.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The name to sign in with.
    pub name: String,
    /// The password as a PHC string.
    pub password_hash: String,
    /// What the user may do.
    pub role: Role,
    /// The customer a [`Role::Customer`] user is bound to; `None` for every other role.
    pub customer: Option<String>,
    /// When the user was added.
    pub created_at: Timestamp,
    /// When the password was last set: `created_at` until it is changed.
    pub password_changed_at: Timestamp,
    /// When the user was disabled; a disabled user cannot sign in and has no sessions.
    pub disabled_at: Option<Timestamp>,
}

/// Shows everything but the password hash.
impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("name", &self.name)
            .field("password_hash", &"[redacted]")
            .field("role", &self.role)
            .field("customer", &self.customer)
            .field("created_at", &self.created_at)
            .field("password_changed_at", &self.password_changed_at)
            .field("disabled_at", &self.disabled_at)
            .finish()
    }
}

/// An API token to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    /// A label saying what the token is for; not empty, not unique.
    pub name: String,
    /// Lowercase hex SHA-256 of the token's secret; unique.
    pub secret_hash: String,
    /// What the token may be used for: not empty, and only scopes its role may hold.
    pub scopes: Scopes,
    /// The role the token acts as.
    pub role: Role,
    /// The customer a [`Role::Customer`] token is bound to; `None` for every other role.
    pub customer: Option<String>,
    /// Who created it, as they said.
    pub created_by: String,
}

/// A stored API token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token's number, from 1, never reused.
    pub id: u64,
    /// A label saying what the token is for.
    pub name: String,
    /// Lowercase hex SHA-256 of the token's secret.
    pub secret_hash: String,
    /// What the token may be used for.
    pub scopes: Scopes,
    /// The role the token acts as.
    pub role: Role,
    /// The customer a [`Role::Customer`] token is bound to.
    pub customer: Option<String>,
    /// Who created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was revoked; a revoked token no longer authenticates.
    pub revoked_at: Option<Timestamp>,
    /// When it was last used, as [`Store::touch_token`] recorded.
    pub last_used_at: Option<Timestamp>,
}

/// A web session to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    /// Lowercase hex SHA-256 of the session cookie's value; unique.
    pub id_hash: String,
    /// The signed-in user's name.
    pub user: String,
    /// Lowercase hex SHA-256 of the session's CSRF token.
    pub csrf_token_hash: String,
    /// When the user signed in.
    pub created_at: Timestamp,
    /// When the session ends; after `created_at`.
    pub expires_at: Timestamp,
}

/// A stored web session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Lowercase hex SHA-256 of the session cookie's value.
    pub id_hash: String,
    /// The signed-in user's name.
    pub user: String,
    /// Lowercase hex SHA-256 of the session's CSRF token.
    pub csrf_token_hash: String,
    /// When the user signed in.
    pub created_at: Timestamp,
    /// When the session ends (exclusive).
    pub expires_at: Timestamp,
}

/// A user as stored, its role a word still.
#[derive(Clone, Debug)]
pub(crate) struct UserRow {
    pub(crate) name: String,
    pub(crate) password_hash: String,
    pub(crate) role: String,
    pub(crate) customer: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) password_changed_at: Timestamp,
    pub(crate) disabled_at: Option<Timestamp>,
}

/// A token as stored, its role and scopes words still.
#[derive(Clone, Debug)]
pub(crate) struct TokenRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) secret_hash: String,
    pub(crate) scopes: String,
    pub(crate) role: String,
    pub(crate) customer: Option<String>,
    pub(crate) created_by: String,
    pub(crate) created_at: Timestamp,
    pub(crate) revoked_at: Option<Timestamp>,
    pub(crate) last_used_at: Option<Timestamp>,
}

/// The SQL a backend supplies. Instants given are already truncated to the microsecond, and
/// input is already checked against the rules of this module.
pub(crate) trait AccountRows {
    /// Inserts a user and its audit entry by `actor`; [`StoreError::Duplicate`] when the name
    /// is taken.
    async fn insert_user(
        &self,
        user: &NewUser,
        actor: &str,
        created_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The user called `name`, or every user by name when `name` is `None`.
    async fn user_rows(&self, name: Option<&str>) -> Result<Vec<UserRow>, StoreError>;
    /// Sets a user's password, with its audit entry by `actor`; false when there is no such
    /// user.
    async fn update_password(
        &self,
        name: &str,
        password_hash: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Disables a user (keeping an earlier instant; the audit entry by `actor` only when it
    /// was enabled) and deletes its sessions, in one transaction; false when there is no such
    /// user.
    async fn disable_user(
        &self,
        name: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Inserts a token with its scopes as a list, and its audit entry by its creator; returns
    /// its id. [`StoreError::Duplicate`] when the secret's hash is taken.
    async fn insert_token(
        &self,
        token: &NewToken,
        scopes: &str,
        created_at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// The token with this secret hash, or every token by id when `secret_hash` is `None`.
    async fn token_rows(&self, secret_hash: Option<&str>) -> Result<Vec<TokenRow>, StoreError>;
    /// Moves a token's `last_used_at` forward to `at`; never back.
    async fn touch_token(&self, id: i64, at: Timestamp) -> Result<(), StoreError>;
    /// Revokes a token not yet revoked, with its audit entry by `actor`; false when there is no
    /// such token to revoke.
    async fn revoke_token(&self, id: i64, actor: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// Deletes every session expired by the new one's `created_at`, then inserts it, in one
    /// transaction; [`StoreError::NotFound`] when the user does not exist.
    async fn insert_session(&self, session: &NewSession) -> Result<(), StoreError>;
    /// The session, unless it has expired at `now` or its user is disabled.
    async fn session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError>;
    /// Deletes a session, if it exists.
    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;
    /// Deletes every session of a user; returns how many there were.
    async fn delete_user_sessions(&self, name: &str) -> Result<u64, StoreError>;
    /// Deletes every failure before `forget_before`, then records one for `key` at `at`, in
    /// one transaction.
    async fn insert_login_failure(
        &self,
        key: &str,
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<(), StoreError>;
    /// How many failures of `key` are at or after `since`.
    async fn count_login_failures(&self, key: &str, since: Timestamp) -> Result<i64, StoreError>;
    /// Deletes every failure of `key`.
    async fn delete_login_failures(&self, key: &str) -> Result<(), StoreError>;
}

/// A driver error of an insert: a unique violation means `what` exists already; an unknown
/// referenced row means `missing` does not exist.
pub(crate) fn insert_error(
    error: sqlx::Error,
    doing: impl Into<String>,
    what: &str,
    missing: Option<&str>,
) -> StoreError {
    let Some(db_error) = error.as_database_error() else { return database(doing, error) };
    if db_error.is_unique_violation() {
        return StoreError::Duplicate { what: what.to_owned() };
    }
    match missing {
        Some(missing) if db_error.is_foreign_key_violation() => {
            StoreError::NotFound { what: missing.to_owned() }
        }
        _ => database(doing, error),
    }
}

/// A token id from the API as bound in SQL; ids beyond `i64::MAX` never exist.
pub(crate) fn sql_id(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

fn invalid(what: String) -> StoreError {
    StoreError::Invalid { what }
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_user_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() {
        return Err(invalid("a user name is empty".to_owned()));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':') {
        return Err(invalid(format!(
            "user name {name:?} has whitespace, a control character or ':'"
        )));
    }
    Ok(())
}

/// The customer rule: a customer role has a customer, no other role has one.
fn check_customer(whose: &str, role: Role, customer: Option<&str>) -> Result<(), StoreError> {
    match (role, customer) {
        (Role::Customer, None) => {
            Err(invalid(format!("{whose} has role customer but no customer")))
        }
        (_, Some(customer)) if customer.trim().is_empty() => {
            Err(invalid(format!("{whose} has an empty customer")))
        }
        (Role::Customer, Some(_)) | (_, None) => Ok(()),
        (role, Some(customer)) => Err(invalid(format!(
            "{whose} has role {role}, which is bound to no customer, but customer {customer} was given"
        ))),
    }
}

fn check_password_hash(whose: &str, password_hash: &str) -> Result<(), StoreError> {
    if password_hash.starts_with('$') {
        Ok(())
    } else {
        Err(invalid(format!("the password hash of {whose} is not a PHC string")))
    }
}

fn check_token(token: &NewToken) -> Result<(), StoreError> {
    if token.name.trim().is_empty() {
        return Err(invalid("a token name is empty".to_owned()));
    }
    let whose = format!("token {}", token.name);
    if !is_sha256_hex(&token.secret_hash) {
        return Err(invalid(format!("the secret hash of {whose} is not lowercase hex SHA-256")));
    }
    if token.scopes == Scopes::NONE {
        return Err(invalid(format!("{whose} has no scope")));
    }
    let allowed = token.role.scopes();
    if let Some(scope) = token.scopes.iter().find(|scope| !allowed.contains(*scope)) {
        return Err(invalid(format!(
            "{whose} has scope {scope}, which role {} cannot hold (it may hold {})",
            token.role,
            allowed.to_list()
        )));
    }
    check_customer(&whose, token.role, token.customer.as_deref())
}

fn check_session(session: &NewSession) -> Result<(), StoreError> {
    let whose = format!("a session of user {}", session.user);
    if !is_sha256_hex(&session.id_hash) || !is_sha256_hex(&session.csrf_token_hash) {
        return Err(invalid(format!("{whose} has a hash that is not lowercase hex SHA-256")));
    }
    if session.expires_at <= session.created_at {
        return Err(invalid(format!(
            "{whose} expires at {}, not after its creation at {}",
            session.expires_at, session.created_at
        )));
    }
    Ok(())
}

fn stored_role(word: &str, whose: &str) -> Result<Role, StoreError> {
    Role::parse(word)
        .ok_or_else(|| StoreError::Corrupt { what: format!("role {word:?} of {whose}") })
}

fn user_record(row: UserRow) -> Result<UserRecord, StoreError> {
    let role = stored_role(&row.role, &format!("user {}", row.name))?;
    Ok(UserRecord {
        name: row.name,
        password_hash: row.password_hash,
        role,
        customer: row.customer,
        created_at: row.created_at,
        password_changed_at: row.password_changed_at,
        disabled_at: row.disabled_at,
    })
}

fn token_record(row: TokenRow) -> Result<TokenRecord, StoreError> {
    let whose = format!("token {}", row.id);
    let id = u64::try_from(row.id)
        .map_err(|_| StoreError::Corrupt { what: format!("token id {}", row.id) })?;
    let role = stored_role(&row.role, &whose)?;
    let scopes = Scopes::parse_list(&row.scopes)
        .map_err(|word| StoreError::Corrupt { what: format!("scope {word:?} of {whose}") })?;
    Ok(TokenRecord {
        id,
        name: row.name,
        secret_hash: row.secret_hash,
        scopes,
        role,
        customer: row.customer,
        created_by: row.created_by,
        created_at: row.created_at,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
    })
}

/// Runs `$body` with `$rows` bound to whichever backend the store has.
macro_rules! on_backend {
    ($store:expr, |$rows:ident| $body:expr) => {
        match &$store.backend {
            Backend::Sqlite($rows) => $body,
            Backend::Postgres($rows) => $body,
        }
    };
}

impl Store {
    /// Adds a user, created at `now` by `actor` (recorded in the audit log).
    ///
    /// # Errors
    ///
    /// - [`StoreError::Duplicate`] when a user has the name already.
    /// - [`StoreError::Invalid`] for an empty name or one with whitespace, a control character
    ///   or `:`; a password hash that is not a PHC string; a customer role without a customer,
    ///   or another role with one.
    /// - [`StoreError::Database`].
    pub async fn add_user(
        &self,
        user: &NewUser,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        check_user_name(&user.name)?;
        let whose = format!("user {}", user.name);
        check_password_hash(&whose, &user.password_hash)?;
        check_customer(&whose, user.role, user.customer.as_deref())?;
        let now = to_microsecond(now);
        on_backend!(self, |rows| rows.insert_user(user, actor, now).await)
    }

    /// The user called `name`, disabled or not; `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unknown stored role.
    pub async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let found = on_backend!(self, |rows| rows.user_rows(Some(name)).await)?;
        found.into_iter().next().map(user_record).transpose()
    }

    /// Every user, disabled or not, by name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unknown stored role.
    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let found = on_backend!(self, |rows| rows.user_rows(None).await)?;
        found.into_iter().map(user_record).collect()
    }

    /// Sets a user's password (a PHC string), changed at `now` by `actor` (recorded in the
    /// audit log, without the hash). The user's sessions stay: the caller ends them with
    /// [`Store::delete_user_sessions`] when it should.
    ///
    /// # Errors
    ///
    /// - [`StoreError::NotFound`] when there is no such user.
    /// - [`StoreError::Invalid`] for a password hash that is not a PHC string.
    /// - [`StoreError::Database`].
    pub async fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let whose = format!("user {name}");
        check_password_hash(&whose, password_hash)?;
        let now = to_microsecond(now);
        let updated =
            on_backend!(self, |rows| rows.update_password(name, password_hash, actor, now).await)?;
        if updated { Ok(()) } else { Err(StoreError::NotFound { what: whose }) }
    }

    /// Disables a user at `now` and ends its sessions: it can no longer sign in. `actor` is
    /// recorded in the audit log. Disabling a disabled user keeps when it was first disabled
    /// and records nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] when there is no such user, or [`StoreError::Database`].
    pub async fn disable_user(
        &self,
        name: &str,
        actor: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = to_microsecond(now);
        let found = on_backend!(self, |rows| rows.disable_user(name, actor, now).await)?;
        if found { Ok(()) } else { Err(StoreError::NotFound { what: format!("user {name}") }) }
    }

    /// Adds an API token, created at `now`, and returns it as stored, with its id. Its creator
    /// (`created_by`) is recorded in the audit log, with its id, name, role and scopes.
    ///
    /// # Errors
    ///
    /// - [`StoreError::Invalid`] for an empty name; a secret hash that is not lowercase hex
    ///   SHA-256; no scope, or a scope the role cannot hold; a customer role without a
    ///   customer, or another role with one.
    /// - [`StoreError::Duplicate`] when a token has the same secret hash.
    /// - [`StoreError::Database`].
    pub async fn add_token(
        &self,
        token: &NewToken,
        now: Timestamp,
    ) -> Result<TokenRecord, StoreError> {
        check_token(token)?;
        let now = to_microsecond(now);
        let scopes = token.scopes.to_list();
        let id = on_backend!(self, |rows| rows.insert_token(token, &scopes, now).await)?;
        Ok(TokenRecord {
            id: u64::try_from(id)
                .map_err(|_| StoreError::Corrupt { what: format!("new token id {id}") })?,
            name: token.name.clone(),
            secret_hash: token.secret_hash.clone(),
            scopes: token.scopes,
            role: token.role,
            customer: token.customer.clone(),
            created_by: token.created_by.clone(),
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        })
    }

    /// The token whose secret has this SHA-256 (lowercase hex), revoked or not: the caller
    /// checks [`TokenRecord::revoked_at`]. `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unknown stored role or
    /// scope.
    pub async fn token_by_hash(
        &self,
        secret_hash: &str,
    ) -> Result<Option<TokenRecord>, StoreError> {
        let found = on_backend!(self, |rows| rows.token_rows(Some(secret_hash)).await)?;
        found.into_iter().next().map(token_record).transpose()
    }

    /// Records that a token was used at `now`. `last_used_at` only moves forward, so
    /// processes touching one token concurrently leave the latest instant; an unknown id is
    /// ignored.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] or [`StoreError::Conflict`].
    pub async fn touch_token(&self, id: u64, now: Timestamp) -> Result<(), StoreError> {
        let now = to_microsecond(now);
        on_backend!(self, |rows| rows.touch_token(sql_id(id), now).await)
    }

    /// Every token, revoked or not, by id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unknown stored role or
    /// scope.
    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let found = on_backend!(self, |rows| rows.token_rows(None).await)?;
        found.into_iter().map(token_record).collect()
    }

    /// Revokes a token at `now` by `actor` (recorded in the audit log); false when there is no
    /// such token or it was revoked already (its revocation instant is kept).
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn revoke_token(
        &self,
        id: u64,
        actor: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = to_microsecond(now);
        on_backend!(self, |rows| rows.revoke_token(sql_id(id), actor, now).await)
    }

    /// Creates a web session. Sessions of every user that have expired by the new one's
    /// `created_at` are deleted at the same time.
    ///
    /// # Errors
    ///
    /// - [`StoreError::NotFound`] when there is no such user.
    /// - [`StoreError::Invalid`] for a hash that is not lowercase hex SHA-256, or an
    ///   `expires_at` not after `created_at`.
    /// - [`StoreError::Duplicate`] when a session has the same id hash.
    /// - [`StoreError::Database`].
    pub async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let session = NewSession {
            created_at: to_microsecond(session.created_at),
            expires_at: to_microsecond(session.expires_at),
            ..session.clone()
        };
        check_session(&session)?;
        on_backend!(self, |rows| rows.insert_session(&session).await)
    }

    /// The session whose cookie has this SHA-256 (lowercase hex); `None` when there is none,
    /// it has expired at `now` (`expires_at` is exclusive), or its user is disabled.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn session_by_hash(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let now = to_microsecond(now);
        on_backend!(self, |rows| rows.session(id_hash, now).await)
    }

    /// Ends a session (signing out); nothing happens when there is none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        on_backend!(self, |rows| rows.delete_session(id_hash).await)
    }

    /// Ends every session of a user; returns how many there were.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn delete_user_sessions(&self, name: &str) -> Result<u64, StoreError> {
        on_backend!(self, |rows| rows.delete_user_sessions(name).await)
    }

    /// Records a failed sign-in of `key` (a user name, a client address) at `now`, and forgets
    /// every failure older than [`LOGIN_FAILURES_KEPT`]. Failures are rows in the database, so
    /// every server process sharing it counts the same ones.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] or [`StoreError::Conflict`].
    pub async fn record_login_failure(&self, key: &str, now: Timestamp) -> Result<(), StoreError> {
        let now = to_microsecond(now);
        let forget_before = now.checked_sub(LOGIN_FAILURES_KEPT).unwrap_or(Timestamp::MIN);
        on_backend!(self, |rows| rows.insert_login_failure(key, now, forget_before).await)
    }

    /// How many failed sign-ins of `key` were recorded at or after `since`; failures older
    /// than [`LOGIN_FAILURES_KEPT`] may be forgotten already.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn login_failures_since(
        &self,
        key: &str,
        since: Timestamp,
    ) -> Result<u32, StoreError> {
        let since = to_microsecond(since);
        let n_failures = on_backend!(self, |rows| rows.count_login_failures(key, since).await)?;
        Ok(u32::try_from(n_failures).unwrap_or(u32::MAX))
    }

    /// Forgets the failed sign-ins of `key`, as after a successful one.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        on_backend!(self, |rows| rows.delete_login_failures(key).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_customer_rule_names_the_account() {
        let check = |role, customer| match check_customer("user ann", role, customer) {
            Ok(()) => "ok".to_owned(),
            Err(error) => error.to_string(),
        };
        assert_eq!(check(Role::Customer, Some("acme")), "ok");
        assert_eq!(check(Role::Agent, None), "ok");
        assert_eq!(check(Role::Customer, None), "user ann has role customer but no customer");
        assert_eq!(check(Role::Customer, Some(" ")), "user ann has an empty customer");
        assert_eq!(
            check(Role::Viewer, Some("acme")),
            "user ann has role viewer, which is bound to no customer, but customer acme was given"
        );
    }

    #[test]
    fn user_names_are_one_printable_word() {
        assert!(check_user_name("ann.lee@example.com").is_ok());
        for name in ["", "ann lee", "token:ci", "ann\n"] {
            assert!(check_user_name(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn a_token_holds_only_its_roles_scopes() {
        use accord_core::access::Scope;
        let token = NewToken {
            name: "ci".to_owned(),
            secret_hash: "0".repeat(64),
            scopes: Scopes::of(&[Scope::Read, Scope::Admin]),
            role: Role::Agent,
            customer: None,
            created_by: "ann".to_owned(),
        };
        let error = check_token(&token).unwrap_err().to_string();
        assert_eq!(
            error,
            "token ci has scope admin, which role agent cannot hold (it may hold read,write,ingest)"
        );
        assert!(check_token(&NewToken { scopes: Scopes::of(&[Scope::Ingest]), ..token }).is_ok());
    }

    #[test]
    fn unknown_stored_words_are_corrupt_data() {
        let at = Timestamp::UNIX_EPOCH;
        let token = TokenRow {
            id: 7,
            name: "ci".to_owned(),
            secret_hash: "0".repeat(64),
            scopes: "read,everything".to_owned(),
            role: "agent".to_owned(),
            customer: None,
            created_by: "ann".to_owned(),
            created_at: at,
            revoked_at: None,
            last_used_at: None,
        };
        let error = token_record(token.clone()).unwrap_err().to_string();
        assert_eq!(error, r#"stored data is invalid: scope "everything" of token 7"#);
        let error = token_record(TokenRow { role: "root".to_owned(), ..token }).unwrap_err();
        assert_eq!(error.to_string(), r#"stored data is invalid: role "root" of token 7"#);
        let user = UserRow {
            name: "ann".to_owned(),
            password_hash: "$x".to_owned(),
            role: "owner".to_owned(),
            customer: None,
            created_at: at,
            password_changed_at: at,
            disabled_at: None,
        };
        let error = user_record(user).unwrap_err().to_string();
        assert_eq!(error, r#"stored data is invalid: role "owner" of user ann"#);
    }

    #[test]
    fn debug_never_shows_a_password_hash() {
        let user = NewUser {
            name: "ann".to_owned(),
            password_hash: "$argon2id$v=19$secret".to_owned(),
            role: Role::Admin,
            customer: None,
        };
        assert!(!format!("{user:?}").contains("secret"));
    }
}
