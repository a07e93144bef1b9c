//! The audit log on every backend: each change to documents, lifecycle states, users, tokens
//! and settings appends one entry in its transaction and nothing else does; the chain verifies;
//! an entry edited or removed behind the store's back (the append-only triggers bypassed) is
//! named, a removed tail shows against an earlier head, and concurrent writers on several
//! stores keep one gap-free chain.
//!
//! ```text
//! ACCORD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p accord-store --test audit
//! ```

use accord_core::access::{Role, Scope, Scopes};
use accord_core::lifecycle::{Action, Request};
use accord_store::{
    AuditEntry, AuditHead, GENESIS_HASH, Location, NewRevision, NewToken, NewUser, Store,
};
use jiff::Timestamp;
use sqlx::Connection;

mod common;
use common::{TestDb, each_backend};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn document(kind: &str, name: &str, content: &str) -> NewRevision {
    NewRevision {
        kind: kind.to_owned(),
        name: name.to_owned(),
        content_hash: content.repeat(64)[..64].to_owned(),
        canonical: format!(r#"{{"content":"{content}"}}"#),
        source_text: format!("kind: {kind}\nname: {name}\ncontent: {content}\n"),
        source_path: "documents.yaml".to_owned(),
        source_line: 3,
        effective_from: None,
        effective_until: None,
        lifecycle: kind == "Agreement",
    }
}

const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$c2VjcmV0";
const TOKEN_HASH: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";

fn user(name: &str) -> NewUser {
    NewUser {
        name: name.to_owned(),
        password_hash: PASSWORD_HASH.to_owned(),
        role: Role::Viewer,
        customer: None,
    }
}

/// `seq actor action subject detail` per entry.
fn shown(entries: &[AuditEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| {
            format!(
                "{} {} {} {} {}",
                entry.seq, entry.actor, entry.action, entry.subject, entry.detail
            )
        })
        .collect()
}

/// Runs SQL on a connection of its own, as someone with the database file or a database login
/// would: the store is not involved.
async fn behind_the_stores_back(db: &TestDb, sql: &str) -> Result<(), sqlx::Error> {
    match &db.location {
        Location::Sqlite(path) => {
            let url = format!("sqlite://{}", path.display());
            let mut connection = sqlx::SqliteConnection::connect(&url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut connection).await?;
            connection.close().await
        }
        Location::Postgres(url) => {
            let mut connection = sqlx::PgConnection::connect(url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut connection).await?;
            connection.close().await
        }
    }
}

/// Turns off the triggers that refuse changes to the audit log.
async fn bypass_the_triggers(db: &TestDb) {
    let sql = match &db.location {
        Location::Sqlite(_) => {
            "DROP TRIGGER audit_is_not_updated; DROP TRIGGER audit_is_not_deleted;"
        }
        Location::Postgres(_) => "ALTER TABLE audit DISABLE TRIGGER USER;",
    };
    behind_the_stores_back(db, sql).await.unwrap();
}

/// The first problem `verify_audit` finds, as `entry N: what`, or `intact: N entries`.
async fn verified(store: &Store, expected_head: Option<&AuditHead>) -> String {
    let verification = store.verify_audit(expected_head).await.unwrap();
    match verification.first_problem {
        None => format!("intact: {} entries", verification.n_entries),
        Some(problem) => format!("entry {}: {}", problem.seq, problem.what),
    }
}

#[tokio::test]
async fn every_change_is_recorded_once_and_the_chain_verifies() {
    each_backend(async |db| {
        let store = db.open().await;
        let empty = store.verify_audit(None).await.unwrap();
        assert_eq!((empty.n_entries, empty.head, empty.first_problem), (0, None, None));

        let t1 = at("2026-11-29T09:00:00Z");
        let batch = [
            document("Agreement", "acme-sla", "a"),
            document("Calendar", "office", "b"),
            document("Probes", "probes", "c"),
        ];
        store.apply(&batch, "alice", "first", t1).await.unwrap();
        // Unchanged content, a refused request and a refused user record nothing.
        store.apply(&batch, "alice", "again", t1).await.unwrap();
        let activate = Request {
            revision: 1,
            action: Action::Activate,
            actor: "bob".to_owned(),
            note: "too early".to_owned(),
        };
        store.transition("Agreement", "acme-sla", &activate, t1).await.unwrap_err();
        let t2 = at("2026-11-29T10:00:00Z");
        let submit = Request { action: Action::Submit, note: "please".to_owned(), ..activate };
        store.transition("Agreement", "acme-sla", &submit, t2).await.unwrap();

        store.add_user(&user("ann"), "root", t2).await.unwrap();
        store.add_user(&user("ann"), "root", t2).await.unwrap_err();
        store.set_password("ann", PASSWORD_HASH, "ann", t2).await.unwrap();
        store.set_password("nobody", PASSWORD_HASH, "ann", t2).await.unwrap_err();
        store.disable_user("ann", "root", t2).await.unwrap();
        store.disable_user("ann", "root", t2).await.unwrap();
        let token = NewToken {
            name: "ci".to_owned(),
            secret_hash: TOKEN_HASH.to_owned(),
            scopes: Scopes::of(&[Scope::Read]),
            role: Role::Viewer,
            customer: None,
            created_by: "carol".to_owned(),
        };
        let token = store.add_token(&token, t2).await.unwrap();
        assert!(store.revoke_token(token.id, "dave", t2).await.unwrap());
        assert!(!store.revoke_token(token.id, "dave", t2).await.unwrap());
        // Using a token and signing in are not changes.
        store.touch_token(token.id, t2).await.unwrap();
        store.record_login_failure("ann", t2).await.unwrap();

        let entries = store.audit_entries(0, 100).await.unwrap();
        assert_eq!(
            shown(&entries),
            [
                r#"1 alice revision.create Agreement/acme-sla r1 {"contentHash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","message":"first","source":"documents.yaml:3","state":"draft"}"#,
                r#"2 alice revision.create Calendar/office r1 {"contentHash":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","message":"first","source":"documents.yaml:3"}"#,
                r#"3 alice settings.store Probes/probes r1 {"contentHash":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","message":"first","source":"documents.yaml:3"}"#,
                r#"4 bob lifecycle.submit Agreement/acme-sla r1 {"note":"please","transitions":[{"effectiveAt":"2026-11-29T10:00:00Z","from":"draft","revision":1,"to":"in_review"}]}"#,
                r#"5 root user.create user ann {"role":"viewer"}"#,
                "6 ann user.password user ann {}",
                "7 root user.disable user ann {}",
                r#"8 carol token.create token 1 {"name":"ci","role":"viewer","scopes":"read"}"#,
                r#"9 dave token.revoke token 1 {"name":"ci"}"#,
            ]
        );
        assert_eq!(entries[0].at, t1);
        assert_eq!(entries[8].at, t2);
        assert_eq!(entries[0].prev_hash, GENESIS_HASH);
        for pair in entries.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash);
        }
        for entry in &entries {
            assert_eq!(entry.hash, entry.content_hash(), "entry {}", entry.seq);
            assert!(!entry.detail.contains("argon2") && !entry.detail.contains(TOKEN_HASH));
        }
        assert_eq!(shown(&store.audit_entries(2, 2).await.unwrap()), shown(&entries[2..4]));
        assert_eq!(store.audit_entries(9, 10).await.unwrap(), []);

        let verification = store.verify_audit(None).await.unwrap();
        assert!(verification.is_intact());
        assert_eq!(verification.n_entries, 9);
        let head = verification.head.unwrap();
        assert_eq!(head, AuditHead { seq: 9, hash: entries[8].hash.clone() });
        assert_eq!(verified(&store, Some(&head)).await, "intact: 9 entries");

        // The log only grows: the store's own connections cannot change it.
        for sql in ["UPDATE audit SET actor = 'eve' WHERE seq = 3", "DELETE FROM audit WHERE seq = 3"]
        {
            let refused = behind_the_stores_back(db, sql).await.unwrap_err();
            assert!(refused.to_string().contains("the audit log is append-only"), "{refused}");
        }
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn an_edited_or_removed_entry_is_named() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-11-29T09:00:00Z");
        for name in ["u1", "u2", "u3", "u4", "u5", "u6"] {
            store.add_user(&user(name), "root", now).await.unwrap();
        }
        let entries = store.audit_entries(0, 100).await.unwrap();
        let head = store.verify_audit(None).await.unwrap().head.unwrap();
        bypass_the_triggers(db).await;

        // An edited detail.
        let edit = r#"UPDATE audit SET detail = '{"role":"admin"}' WHERE seq = 3"#;
        behind_the_stores_back(db, edit).await.unwrap();
        assert_eq!(verified(&store, None).await, "entry 3: hash does not match its content");
        // Its hash recomputed to match: the next entry no longer links to it.
        let forged = &entries[2];
        let hash = accord_store::entry_hash(
            3,
            forged.at,
            &forged.actor,
            &forged.action,
            &forged.subject,
            r#"{"role":"admin"}"#,
            &forged.prev_hash,
        );
        let rehash = format!("UPDATE audit SET hash = '{hash}' WHERE seq = 3");
        behind_the_stores_back(db, &rehash).await.unwrap();
        assert_eq!(
            verified(&store, None).await,
            "entry 4: prev_hash does not match the hash of entry 3"
        );
        let restore = format!(
            "UPDATE audit SET detail = '{}', hash = '{}' WHERE seq = 3",
            forged.detail, forged.hash
        );
        behind_the_stores_back(db, &restore).await.unwrap();
        assert_eq!(verified(&store, Some(&head)).await, "intact: 6 entries");

        // A removed tail leaves a valid chain, which an earlier head tells apart.
        behind_the_stores_back(db, "DELETE FROM audit WHERE seq = 6").await.unwrap();
        assert_eq!(verified(&store, None).await, "intact: 5 entries");
        assert_eq!(
            verified(&store, Some(&head)).await,
            format!("entry 6: missing: the log ends at entry 5, before the expected head {head}")
        );

        // A removed entry in the middle.
        behind_the_stores_back(db, "DELETE FROM audit WHERE seq = 4").await.unwrap();
        assert_eq!(verified(&store, None).await, "entry 4: missing: entry 5 follows entry 3");
        let verification = store.verify_audit(None).await.unwrap();
        let last = AuditHead { seq: 5, hash: entries[4].hash.clone() };
        assert_eq!((verification.n_entries, verification.head), (4, Some(last)));
        // ... and the later one renumbered to close the gap.
        let renumber = "UPDATE audit SET seq = seq - 1 WHERE seq = 5";
        behind_the_stores_back(db, renumber).await.unwrap();
        assert_eq!(
            verified(&store, None).await,
            "entry 4: prev_hash does not match the hash of entry 3"
        );
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_on_several_stores_keep_one_chain() {
    each_backend(async |db| {
        let (one, two, three) = (db.open().await, db.open().await, db.open().await);
        let now = at("2026-11-29T09:00:00Z");
        let write = async |store: &Store, node: &str| {
            for user_idx in 0..5 {
                let name = format!("{node}-{user_idx}");
                store.add_user(&user(&name), node, now).await.unwrap();
                let document = document("Agreement", &name, "a");
                store.apply(&[document], node, "new", now).await.unwrap();
            }
        };
        tokio::join!(write(&one, "one"), write(&two, "two"), write(&three, "three"));
        assert_eq!(verified(&two, None).await, "intact: 30 entries");
        let entries = three.audit_entries(0, 100).await.unwrap();
        let seqs: Vec<u64> = entries.iter().map(|entry| entry.seq).collect();
        assert_eq!(seqs, (1..=30).collect::<Vec<u64>>());
        for store in [one, two, three] {
            store.close().await;
        }
    })
    .await;
}
