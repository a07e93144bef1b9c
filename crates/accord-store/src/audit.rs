//! The audit log: who changed what and when, for documents, lifecycle states, users, tokens
//! and settings, hash-chained so that an edited or removed entry shows.
//!
//! Each change appends its entries in its own transaction, so a change without its entry (or an
//! entry without its change) cannot be committed. Appends are serialized like the event log's:
//! SQLite's `BEGIN IMMEDIATE`, and on PostgreSQL a transaction advisory lock
//! ([`AUDIT_LOG_LOCK`]) taken as the last lock of the transaction and held to its commit, so
//! `seq` is 1, 2, 3, ... without gaps and the chain is one line whatever the number of writers
//! and server nodes. Each entry's `hash` is SHA-256 over its fields and the previous entry's
//! hash ([`entry_hash`], the one place the serialization is written); [`Store::verify_audit`]
//! walks the chain and names the first entry that was edited, removed or renumbered. Removing
//! the newest entries leaves a valid shorter chain: comparing the head with one printed
//! earlier (`SEQ:HASH`, [`AuditHead`]) catches that.
//!
//! The table keeps instants as microseconds since the epoch on both backends, so the SQL is
//! written once and the hashed text is the same on both. Details are canonical JSON (sorted
//! keys, no spaces) and never hold a secret or its hash; what each action records is written
//! here, in the constructors of [`Change`].

use std::fmt;
use std::str::FromStr;

use accord_core::lifecycle::{LifecycleState, Request, Transition};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::{Backend, NewRevision, NewToken, NewUser, Store, StoreError, database};

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The key of the PostgreSQL advisory lock that serializes appends to the audit log: "accordau"
/// in ASCII, beside the event log's "accordev".
const AUDIT_LOG_LOCK: i64 = 0x6163_636f_7264_6175;

/// Entries read per query while verifying.
const VERIFY_PAGE: u32 = 1000;

/// One entry of the audit log, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its place in the log, from 1, without gaps.
    pub seq: u64,
    /// When the change was made (the `now` of the change), to the microsecond.
    pub at: Timestamp,
    /// Who made it, as the caller named them.
    pub actor: String,
    /// What was done: `revision.create`, `settings.store`, `lifecycle.activate`,
    /// `user.create`, `user.password`, `user.disable`, `token.create`, `token.revoke`.
    pub action: String,
    /// What it was done to: `Agreement/acme-sla r3`, `user ann`, `token 7`.
    pub subject: String,
    /// The particulars as canonical JSON.
    pub detail: String,
    /// The hash of the entry before, [`GENESIS_HASH`] for the first.
    pub prev_hash: String,
    /// Lowercase hex SHA-256 of the fields above ([`AuditEntry::content_hash`]).
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry's content gives: its `hash` unless the entry was changed.
    pub fn content_hash(&self) -> String {
        entry_hash(
            self.seq,
            self.at,
            &self.actor,
            &self.action,
            &self.subject,
            &self.detail,
            &self.prev_hash,
        )
    }
}

/// SHA-256, as lowercase hex, over `seq` and `at` (microseconds since the epoch) in decimal and
/// the other fields as they are, in this order, each preceded by its length in bytes as an
/// 8-byte big-endian integer, so that no two different entries serialize alike.
pub fn entry_hash(
    seq: u64,
    at: Timestamp,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    prev_hash: &str,
) -> String {
    let seq = seq.to_string();
    let at = at.as_microsecond().to_string();
    let mut hasher = Sha256::new();
    for field in [seq.as_str(), at.as_str(), actor, action, subject, detail, prev_hash] {
        let length = u64::try_from(field.len()).expect("invariant: a field is shorter than 2^64");
        hasher.update(length.to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// An entry's place and hash, written `SEQ:HASH`: what an operator notes to check later that
/// the log still holds that entry unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditHead {
    /// The entry's `seq`, from 1.
    pub seq: u64,
    /// The entry's `hash`.
    pub hash: String,
}

impl fmt::Display for AuditHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl FromStr for AuditHead {
    type Err = StoreError;

    /// Reads `SEQ:HASH`, as [`AuditHead`]'s `Display` writes it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Invalid`] naming the text.
    fn from_str(text: &str) -> Result<AuditHead, StoreError> {
        let invalid = || StoreError::Invalid {
            what: format!(
                "audit head {text:?} is not SEQ:HASH (an entry number from 1 and 64 hex digits)"
            ),
        };
        let (seq, hash) = text.trim().split_once(':').ok_or_else(invalid)?;
        let seq: u64 = seq.parse().map_err(|_| invalid())?;
        let hash = hash.to_ascii_lowercase();
        let is_hex = hash.len() == 64 && hash.bytes().all(|byte| byte.is_ascii_hexdigit());
        if seq == 0 || !is_hex {
            return Err(invalid());
        }
        Ok(AuditHead { seq, hash })
    }
}

/// The first thing wrong with the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditProblem {
    /// The entry it is at.
    pub seq: u64,
    /// What is wrong, such as `hash does not match its content`.
    pub what: String,
}

/// What [`Store::verify_audit`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditVerification {
    /// How many entries the log holds.
    pub n_entries: u64,
    /// The newest entry, `None` when the log is empty.
    pub head: Option<AuditHead>,
    /// The first entry, in `seq` order, that was edited, removed or renumbered, or the expected
    /// head that is missing or differs; `None` when the log is intact.
    pub first_problem: Option<AuditProblem>,
}

impl AuditVerification {
    /// Whether nothing is wrong.
    pub fn is_intact(&self) -> bool {
        self.first_problem.is_none()
    }
}

/// Checks entries one at a time, in `seq` order.
#[derive(Debug)]
struct Verifier<'a> {
    expected_head: Option<&'a AuditHead>,
    n_entries: u64,
    /// The last entry checked.
    head: Option<AuditHead>,
    first_problem: Option<AuditProblem>,
}

impl<'a> Verifier<'a> {
    fn new(expected_head: Option<&'a AuditHead>) -> Verifier<'a> {
        Verifier { expected_head, n_entries: 0, head: None, first_problem: None }
    }

    fn check(&mut self, entry: &AuditEntry) {
        self.n_entries += 1;
        if self.first_problem.is_none() {
            self.first_problem = self.problem(entry);
        }
        self.head = Some(AuditHead { seq: entry.seq, hash: entry.hash.clone() });
    }

    fn problem(&self, entry: &AuditEntry) -> Option<AuditProblem> {
        let problem = |seq, what: String| Some(AuditProblem { seq, what });
        let (expected_seq, prev_hash) = match &self.head {
            Some(head) => (head.seq + 1, head.hash.as_str()),
            None => (1, GENESIS_HASH),
        };
        if entry.seq != expected_seq {
            let what = match &self.head {
                Some(head) => format!("missing: entry {} follows entry {}", entry.seq, head.seq),
                None => format!("missing: the log starts at entry {}", entry.seq),
            };
            return problem(expected_seq, what);
        }
        if entry.prev_hash != prev_hash {
            let what = match entry.seq {
                1 => "prev_hash is not 64 zeros, so the chain does not start here".to_owned(),
                seq => format!("prev_hash does not match the hash of entry {}", seq - 1),
            };
            return problem(entry.seq, what);
        }
        if entry.content_hash() != entry.hash {
            return problem(entry.seq, "hash does not match its content".to_owned());
        }
        match self.expected_head {
            Some(expected) if expected.seq == entry.seq && expected.hash != entry.hash => problem(
                entry.seq,
                format!("hash {} differs from the expected head {expected}", entry.hash),
            ),
            _ => None,
        }
    }

    fn finish(self) -> AuditVerification {
        let last_seq = self.head.as_ref().map_or(0, |head| head.seq);
        let truncated = self.expected_head.filter(|expected| expected.seq > last_seq);
        let first_problem = match (self.first_problem, truncated) {
            (None, Some(expected)) => Some(AuditProblem {
                seq: expected.seq,
                what: format!(
                    "missing: the log ends at entry {last_seq}, before the expected head {expected}"
                ),
            }),
            (first_problem, _) => first_problem,
        };
        AuditVerification { n_entries: self.n_entries, head: self.head, first_problem }
    }
}

/// One change to record, before it has a place in the log.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Change {
    actor: String,
    action: String,
    subject: String,
    detail: Value,
}

impl Change {
    /// A document revision stored by [`Store::apply`]: `revision.create` for a catalog
    /// document, `settings.store` for settings (probe definitions, notifications, adapters).
    pub(crate) fn revision(
        document: &NewRevision,
        number: i64,
        author: &str,
        message: &str,
    ) -> Change {
        let is_catalog = accord_core::agreement::Kind::parse(&document.kind).is_some();
        let mut detail = json!({
            "contentHash": document.content_hash,
            "message": message,
            "source": format!("{}:{}", document.source_path, document.source_line),
        });
        if document.lifecycle {
            detail["state"] = json!("draft");
        }
        Change {
            actor: author.to_owned(),
            action: if is_catalog { "revision.create" } else { "settings.store" }.to_owned(),
            subject: format!("{}/{} r{number}", document.kind, document.name),
            detail,
        }
    }

    /// A lifecycle request and the transitions it recorded: `lifecycle.activate`, ...
    pub(crate) fn lifecycle(
        kind: &str,
        name: &str,
        request: &Request,
        planned: &[Transition],
    ) -> Change {
        let transitions: Vec<Value> = planned
            .iter()
            .map(|transition| {
                json!({
                    "revision": transition.revision,
                    "from": transition.from.map(LifecycleState::as_str),
                    "to": transition.to.as_str(),
                    "effectiveAt": transition.effective_at.to_string(),
                })
            })
            .collect();
        Change {
            actor: request.actor.clone(),
            action: format!("lifecycle.{}", request.action),
            subject: format!("{kind}/{name} r{}", request.revision),
            detail: json!({ "note": request.note, "transitions": transitions }),
        }
    }

    /// A user added; never the password hash.
    pub(crate) fn user_created(user: &NewUser, actor: &str) -> Change {
        let mut detail = json!({ "role": user.role.as_str() });
        if let Some(customer) = &user.customer {
            detail["customer"] = json!(customer);
        }
        Change::about_user("user.create", &user.name, actor, detail)
    }

    /// A user's password set; never the password hash.
    pub(crate) fn password_set(name: &str, actor: &str) -> Change {
        Change::about_user("user.password", name, actor, json!({}))
    }

    /// A user disabled.
    pub(crate) fn user_disabled(name: &str, actor: &str) -> Change {
        Change::about_user("user.disable", name, actor, json!({}))
    }

    fn about_user(action: &str, name: &str, actor: &str, detail: Value) -> Change {
        Change {
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: format!("user {name}"),
            detail,
        }
    }

    /// A token added, by its creator; never the secret or its hash.
    pub(crate) fn token_created(id: i64, token: &NewToken, scopes: &str) -> Change {
        let mut detail =
            json!({ "name": token.name, "role": token.role.as_str(), "scopes": scopes });
        if let Some(customer) = &token.customer {
            detail["customer"] = json!(customer);
        }
        Change {
            actor: token.created_by.clone(),
            action: "token.create".to_owned(),
            subject: format!("token {id}"),
            detail,
        }
    }

    /// A token revoked.
    pub(crate) fn token_revoked(id: i64, name: &str, actor: &str) -> Change {
        Change {
            actor: actor.to_owned(),
            action: "token.revoke".to_owned(),
            subject: format!("token {id}"),
            detail: json!({ "name": name }),
        }
    }
}

/// Appends `changes` at `at` inside a SQLite `BEGIN IMMEDIATE` transaction, which holds the
/// database's write lock already.
pub(crate) async fn append_sqlite(
    tx: &mut Transaction<'static, Sqlite>,
    changes: &[Change],
    at: Timestamp,
) -> Result<(), StoreError> {
    append::<Sqlite>(&mut **tx, changes, at).await
}

/// Appends `changes` at `at` inside a PostgreSQL transaction, taking [`AUDIT_LOG_LOCK`] first.
/// Take it last: the transaction must take no other lock afterwards, or two writers could
/// deadlock.
pub(crate) async fn append_postgres(
    tx: &mut Transaction<'static, Postgres>,
    changes: &[Change],
    at: Timestamp,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOG_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(|error| database("locking the audit log", error))?;
    append::<Postgres>(&mut **tx, changes, at).await
}

/// Reads the head and writes each change after it; the caller holds the log's write lock.
async fn append<DB>(
    connection: &mut DB::Connection,
    changes: &[Change],
    at: Timestamp,
) -> Result<(), StoreError>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
{
    if changes.is_empty() {
        return Ok(());
    }
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *connection)
            .await
            .map_err(|error| database("reading the head of the audit log", error))?;
    let (mut seq, mut prev_hash) = match head {
        Some((seq, hash)) => (stored_seq(seq)?, hash),
        None => (0, GENESIS_HASH.to_owned()),
    };
    for change in changes {
        seq += 1;
        let detail = change.detail.to_string();
        let hash = entry_hash(
            seq,
            at,
            &change.actor,
            &change.action,
            &change.subject,
            &detail,
            &prev_hash,
        );
        sqlx::query(
            "INSERT INTO audit (seq, at, actor, action, subject, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(sql_seq(seq))
        .bind(at.as_microsecond())
        .bind(change.actor.clone())
        .bind(change.action.clone())
        .bind(change.subject.clone())
        .bind(detail)
        .bind(prev_hash)
        .bind(hash.clone())
        .execute(&mut *connection)
        .await
        .map_err(|error| database(format!("appending entry {seq} to the audit log"), error))?;
        prev_hash = hash;
    }
    Ok(())
}

/// A `seq` as stored (`INTEGER`/`BIGINT`, from 1) to the API's `u64`.
fn stored_seq(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored)
        .map_err(|_| StoreError::Corrupt { what: format!("audit log entry number {stored}") })
}

/// A `seq` from the API as bound in SQL; entries beyond `i64::MAX` never exist.
fn sql_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn get<'r, R, T>(row: &'r R, name: &'static str, seq: i64) -> Result<T, StoreError>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.try_get(name).map_err(|error| StoreError::Corrupt {
        what: format!("column {name} of audit log entry {seq}: {error}"),
    })
}

fn audit_entry<'r, R>(row: &'r R) -> Result<AuditEntry, StoreError>
where
    R: sqlx::Row,
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let seq: i64 = get(row, "seq", 0)?;
    let at: i64 = get(row, "at", seq)?;
    Ok(AuditEntry {
        seq: stored_seq(seq)?,
        at: Timestamp::from_microsecond(at).map_err(|_| StoreError::Corrupt {
            what: format!("instant {at} of audit log entry {seq}"),
        })?,
        actor: get(row, "actor", seq)?,
        action: get(row, "action", seq)?,
        subject: get(row, "subject", seq)?,
        detail: get(row, "detail", seq)?,
        prev_hash: get(row, "prev_hash", seq)?,
        hash: get(row, "hash", seq)?,
    })
}

impl Store {
    /// At most `limit` entries of the audit log after `after` (exclusive), in `seq` order:
    /// `audit_entries(0, n)` starts at the beginning.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unreadable row.
    pub async fn audit_entries(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        with_pool!(self, |pool, _lock| {
            let rows = sqlx::query(
                "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit \
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(sql_seq(after))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(|error| database(format!("reading the audit log after {after}"), error))?;
            rows.iter().map(audit_entry).collect()
        })
    }

    /// Walks the whole audit log and reports its length, its head and the first entry that was
    /// edited (its hash does not match its content), removed (a gap in `seq`) or renumbered or
    /// replaced (its `prev_hash` does not match the entry before). With `expected_head`, a head
    /// printed earlier, also reports when that entry is gone (the newest entries were removed)
    /// or differs.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unreadable row.
    pub async fn verify_audit(
        &self,
        expected_head: Option<&AuditHead>,
    ) -> Result<AuditVerification, StoreError> {
        let mut verifier = Verifier::new(expected_head);
        let mut after = 0;
        loop {
            let page = self.audit_entries(after, VERIFY_PAGE).await?;
            for entry in &page {
                verifier.check(entry);
            }
            match page.last() {
                Some(last) if page.len() == VERIFY_PAGE as usize => after = last.seq,
                _ => break,
            }
        }
        Ok(verifier.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n_entries: u64) -> Vec<AuditEntry> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n_entries {
            let prev_hash =
                entries.last().map_or(GENESIS_HASH.to_owned(), |last| last.hash.clone());
            let mut entry = AuditEntry {
                seq,
                at: Timestamp::from_second(1_800_000_000 + i64::try_from(seq).unwrap()).unwrap(),
                actor: "ann".to_owned(),
                action: "user.create".to_owned(),
                subject: format!("user u{seq}"),
                detail: r#"{"role":"viewer"}"#.to_owned(),
                prev_hash,
                hash: String::new(),
            };
            entry.hash = entry.content_hash();
            entries.push(entry);
        }
        entries
    }

    #[track_caller]
    fn check(entries: &[AuditEntry], expected_head: Option<&str>, expected: &str) {
        let expected_head: Option<AuditHead> = expected_head.map(|head| head.parse().unwrap());
        let mut verifier = Verifier::new(expected_head.as_ref());
        for entry in entries {
            verifier.check(entry);
        }
        let verification = verifier.finish();
        let shown = match verification.first_problem {
            None => format!("intact: {} entries", verification.n_entries),
            Some(problem) => format!("entry {}: {}", problem.seq, problem.what),
        };
        assert_eq!(shown, expected);
    }

    #[test]
    fn an_untouched_chain_is_intact() {
        check(&[], None, "intact: 0 entries");
        check(&chain(3), None, "intact: 3 entries");
    }

    #[test]
    fn an_edited_entry_is_named() {
        let mut entries = chain(4);
        entries[2].detail = r#"{"role":"admin"}"#.to_owned();
        check(&entries, None, "entry 3: hash does not match its content");
        // Its hash recomputed too: the next entry no longer links to it.
        entries[2].hash = entries[2].content_hash();
        check(&entries, None, "entry 4: prev_hash does not match the hash of entry 3");
    }

    #[test]
    fn a_removed_entry_is_named() {
        let mut entries = chain(4);
        entries.remove(1);
        check(&entries, None, "entry 2: missing: entry 3 follows entry 1");
        let mut entries = chain(2);
        entries.remove(0);
        check(&entries, None, "entry 1: missing: the log starts at entry 2");
        // Renumbered to close the gap: the hashes no longer match.
        let mut entries = chain(3);
        entries.remove(1);
        entries[1].seq = 2;
        check(&entries, None, "entry 2: prev_hash does not match the hash of entry 1");
    }

    #[test]
    fn a_removed_tail_shows_against_an_earlier_head() {
        let entries = chain(4);
        let head = format!("4:{}", entries[3].hash);
        check(&entries, Some(&head), "intact: 4 entries");
        check(
            &entries[..3],
            Some(&head),
            &format!("entry 4: missing: the log ends at entry 3, before the expected head {head}"),
        );
        let other = format!("2:{}", entries[3].hash);
        check(
            &entries,
            Some(&other),
            &format!("entry 2: hash {} differs from the expected head {other}", entries[1].hash),
        );
    }

    #[test]
    fn the_hash_covers_every_field_unambiguously() {
        let at = Timestamp::UNIX_EPOCH;
        let base = entry_hash(1, at, "ann", "user.create", "user bo", "{}", GENESIS_HASH);
        assert_eq!(base.len(), 64);
        // Moving a character from one field to its neighbour changes the hash.
        assert_ne!(base, entry_hash(1, at, "an", "nuser.create", "user bo", "{}", GENESIS_HASH));
        assert_ne!(base, entry_hash(2, at, "ann", "user.create", "user bo", "{}", GENESIS_HASH));
    }

    #[test]
    fn heads_read_as_written() {
        let head: AuditHead = format!("42:{}", "AB".repeat(32)).parse().unwrap();
        assert_eq!(head.to_string(), format!("42:{}", "ab".repeat(32)));
        let refused = ["42".to_owned(), format!("0:{}", "a".repeat(64)), "1:abc".to_owned()];
        for text in &refused {
            assert!(text.parse::<AuditHead>().is_err(), "{text}");
        }
    }

    #[test]
    fn details_are_canonical_json_without_secrets() {
        let user = NewUser {
            name: "ann".to_owned(),
            password_hash: "$argon2id$v=19$secret".to_owned(),
            role: accord_core::access::Role::Customer,
            customer: Some("acme".to_owned()),
        };
        let change = Change::user_created(&user, "root");
        assert_eq!(change.detail.to_string(), r#"{"customer":"acme","role":"customer"}"#);
        assert_eq!(change.subject, "user ann");
    }
}
