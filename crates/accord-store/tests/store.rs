//! The store's story, told once and run against every backend: against a SQLite file in a
//! temporary directory always, and against PostgreSQL when `ACCORD_TEST_POSTGRES_URL` names a
//! server where the tests may create databases (each test gets a fresh one and drops it).
//!
//! ```text
//! ACCORD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p accord-store
//! ```

use accord_core::lifecycle::{self, Action, LifecycleError, LifecycleState, Request, Transition};
use accord_store::{Applied, Change, Location, NewRevision, Store, StoreError};
use jiff::Timestamp;
use sqlx::Connection;

mod common;
use common::{TestDb, each_backend};

// Values.

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A valid lowercase hex SHA-256-shaped hash of `content` (FNV-1a, repeated; the store only
/// compares hashes).
fn hash(content: &str) -> String {
    let fnv = content.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{fnv:016x}").repeat(4)
}

fn document(kind: &str, name: &str, content: &str) -> NewRevision {
    NewRevision {
        kind: kind.to_owned(),
        name: name.to_owned(),
        content_hash: hash(content),
        canonical: format!(r#"{{"content":"{content}"}}"#),
        source_text: format!("kind: {kind}\nname: {name}\ncontent: {content}\n"),
        source_path: "documents.yaml".to_owned(),
        source_line: 1,
        effective_from: None,
        effective_until: None,
        lifecycle: kind == "Agreement",
    }
}

fn agreement(name: &str, content: &str) -> NewRevision {
    document("Agreement", name, content)
}

fn request(revision: u32, action: Action) -> Request {
    Request { revision, action, actor: "bob".to_owned(), note: format!("please {action}") }
}

fn applied(applied: &[Applied]) -> Vec<String> {
    applied
        .iter()
        .map(|applied| {
            let change = match applied.change {
                Change::Created => "created",
                Change::Updated => "updated",
                Change::Unchanged => "unchanged",
            };
            format!("{} {} r{} {change}", applied.kind, applied.name, applied.revision)
        })
        .collect()
}

fn rendered(transitions: &[Transition]) -> Vec<String> {
    transitions
        .iter()
        .map(|t| {
            let from = t.from.map_or("(new)", LifecycleState::as_str);
            format!(
                "r{} {from} -> {} effective {} recorded {} by {}: {}",
                t.revision, t.to, t.effective_at, t.recorded_at, t.actor, t.note
            )
        })
        .collect()
}

/// Every revision's state at `instant`, from what the store returns.
async fn states_at(store: &Store, name: &str, instant: Timestamp) -> Vec<String> {
    let transitions = store.transitions("Agreement", name).await.unwrap();
    let revisions = store.revisions("Agreement", name).await.unwrap();
    revisions
        .iter()
        .map(|summary| {
            let term = summary.lifecycle();
            let state = lifecycle::state_at(summary.number, &transitions, &term, instant);
            format!("r{} {}", summary.number, state.map_or("-", LifecycleState::as_str))
        })
        .collect()
}

/// Passes a future through, failing to compile unless it is `Send` (as axum handlers need).
fn send<F: std::future::Future + Send>(future: F) -> F {
    future
}

async fn walk(store: &Store, name: &str, revision: u32, actions: &[Action], now: Timestamp) {
    for action in actions {
        send(store.transition("Agreement", name, &request(revision, *action), now)).await.unwrap();
    }
}

// Stories.

#[tokio::test]
async fn apply_creates_revision_1_in_draft() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-01-10T09:00:00Z");
        let result = send(store.apply(&[agreement("acme-sla", "v1")], "alice", "first", now)).await;
        assert_eq!(applied(&result.unwrap()), ["Agreement acme-sla r1 created"]);

        let revisions = store.revisions("Agreement", "acme-sla").await.unwrap();
        assert_eq!(revisions.len(), 1);
        let summary = &revisions[0];
        assert_eq!(
            (summary.number, summary.author.as_str(), summary.message.as_str()),
            (1, "alice", "first")
        );
        assert_eq!((summary.created_at, summary.content_hash.clone()), (now, hash("v1")));
        assert_eq!(
            rendered(&store.transitions("Agreement", "acme-sla").await.unwrap()),
            [
                "r1 (new) -> draft effective 2026-01-10T09:00:00Z recorded 2026-01-10T09:00:00Z by alice: first"
            ]
        );
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn reapplying_identical_content_records_nothing() {
    each_backend(async |db| {
        let store = db.open().await;
        let documents = [agreement("acme-sla", "v1"), document("Calendar", "office", "9-5")];
        store.apply(&documents, "alice", "first", at("2026-01-10T09:00:00Z")).await.unwrap();
        let again = store.apply(&documents, "bob", "again", at("2026-01-11T09:00:00Z")).await;
        assert_eq!(
            applied(&again.unwrap()),
            ["Agreement acme-sla r1 unchanged", "Calendar office r1 unchanged"]
        );
        assert_eq!(store.revisions("Agreement", "acme-sla").await.unwrap().len(), 1);
        assert_eq!(store.transitions("Agreement", "acme-sla").await.unwrap().len(), 1);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn changed_content_becomes_the_next_revision() {
    each_backend(async |db| {
        let store = db.open().await;
        let first = [agreement("acme-sla", "v1"), agreement("globex-sla", "v1")];
        store.apply(&first, "alice", "first", at("2026-01-10T09:00:00Z")).await.unwrap();
        let second = [agreement("acme-sla", "v2"), agreement("globex-sla", "v1")];
        let result = store.apply(&second, "bob", "second", at("2026-01-11T09:00:00Z")).await;
        assert_eq!(
            applied(&result.unwrap()),
            ["Agreement acme-sla r2 updated", "Agreement globex-sla r1 unchanged"]
        );
        // Going back to earlier content is a change too: only the latest revision counts.
        let back = [agreement("acme-sla", "v1")];
        let result = store.apply(&back, "carol", "revert", at("2026-01-12T09:00:00Z")).await;
        assert_eq!(applied(&result.unwrap()), ["Agreement acme-sla r3 updated"]);

        let revision = store.revision("Agreement", "acme-sla", 2).await.unwrap();
        assert_eq!(revision.canonical, r#"{"content":"v2"}"#);
        assert_eq!(revision.source_text, "kind: Agreement\nname: acme-sla\ncontent: v2\n");
        assert_eq!((revision.kind.as_str(), revision.name.as_str()), ("Agreement", "acme-sla"));
        let transitions = store.transitions("Agreement", "acme-sla").await.unwrap();
        let drafts: Vec<(u32, &str)> =
            transitions.iter().map(|t| (t.revision, t.to.as_str())).collect();
        assert_eq!(drafts, [(1, "draft"), (2, "draft"), (3, "draft")]);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn history_lists_revisions_oldest_first_with_source_and_term() {
    each_backend(async |db| {
        let store = db.open().await;
        for (revision_idx, (author, from, until)) in [
            ("alice", None, None),
            ("bob", Some("2026-03-01T00:00:00Z"), None),
            ("carol", Some("2026-04-01T00:00:00Z"), Some("2027-04-01T00:00:00Z")),
        ]
        .into_iter()
        .enumerate()
        {
            let mut revision = agreement("acme-sla", &format!("v{revision_idx}"));
            revision.source_path = format!("agreements/{revision_idx}.yaml");
            revision.source_line = 10 * revision_idx as u32 + 1;
            revision.effective_from = from.map(at);
            revision.effective_until = until.map(at);
            let now = at("2026-01-10T09:00:00Z") + jiff::SignedDuration::from_hours(revision_idx as i64);
            store.apply(&[revision], author, &format!("change {revision_idx}"), now).await.unwrap();
        }
        let history: Vec<String> = store
            .revisions("Agreement", "acme-sla")
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let term = |at: Option<Timestamp>| at.map_or("-".to_owned(), |at| at.to_string());
                format!(
                    "r{} {} {:?} {} {}:{} from {} until {}",
                    r.number,
                    r.author,
                    r.message,
                    r.created_at,
                    r.source_path,
                    r.source_line,
                    term(r.effective_from),
                    term(r.effective_until),
                )
            })
            .collect();
        assert_eq!(
            history,
            [
                r#"r1 alice "change 0" 2026-01-10T09:00:00Z agreements/0.yaml:1 from - until -"#,
                r#"r2 bob "change 1" 2026-01-10T10:00:00Z agreements/1.yaml:11 from 2026-03-01T00:00:00Z until -"#,
                r#"r3 carol "change 2" 2026-01-10T11:00:00Z agreements/2.yaml:21 from 2026-04-01T00:00:00Z until 2027-04-01T00:00:00Z"#,
            ]
        );
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn instants_are_kept_to_the_microsecond() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-01-10T09:00:00.123456789Z");
        let mut revision = agreement("acme-sla", "v1");
        revision.effective_from = Some(at("1969-07-20T20:17:40.000001Z"));
        store.apply(&[revision], "alice", "first", now).await.unwrap();
        let summary = &store.revisions("Agreement", "acme-sla").await.unwrap()[0];
        assert_eq!(summary.created_at.to_string(), "2026-01-10T09:00:00.123456Z");
        assert_eq!(summary.effective_from.unwrap().to_string(), "1969-07-20T20:17:40.000001Z");

        let recorded = store
            .transition("Agreement", "acme-sla", &request(1, Action::Submit), now)
            .await
            .unwrap();
        assert_eq!(recorded[0].recorded_at.to_string(), "2026-01-10T09:00:00.123456Z");
        // What `transition` returns is what the store reads back.
        let stored = store.transitions("Agreement", "acme-sla").await.unwrap();
        assert_eq!(stored[1..], recorded[..]);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_failing_document_leaves_the_whole_batch_unwritten() {
    each_backend(async |db| {
        let store = db.open().await;
        store
            .apply(&[agreement("acme-sla", "v1")], "alice", "first", at("2026-01-10T09:00:00Z"))
            .await
            .unwrap();

        let mut broken = agreement("globex-sla", "v1");
        broken.content_hash = "not a sha-256".to_owned();
        let batch = [agreement("acme-sla", "v2"), agreement("initech-sla", "v1"), broken];
        let error =
            store.apply(&batch, "bob", "second", at("2026-01-11T09:00:00Z")).await.unwrap_err();
        assert!(matches!(error, StoreError::Database { .. }), "{error:?}");
        assert_eq!(error.to_string(), "recording revision 1 of Agreement globex-sla");

        let documents: Vec<(String, u32)> = store
            .documents(None)
            .await
            .unwrap()
            .into_iter()
            .map(|document| (document.name, document.latest))
            .collect();
        assert_eq!(documents, [("acme-sla".to_owned(), 1)]);
        assert_eq!(store.transitions("Agreement", "acme-sla").await.unwrap().len(), 1);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn missing_documents_and_revisions_are_named() {
    each_backend(async |db| {
        let store = db.open().await;
        for content in ["v1", "v2", "v3"] {
            store
                .apply(
                    &[agreement("acme-sla", content)],
                    "alice",
                    content,
                    at("2026-01-10T09:00:00Z"),
                )
                .await
                .unwrap();
        }
        let error = send(store.revision("Agreement", "acme-sla", 7)).await.unwrap_err();
        assert!(matches!(error, StoreError::NotFound { .. }));
        assert_eq!(error.to_string(), "no revision 7 of Agreement acme-sla (latest is 3)");

        let error = send(store.revisions("Agreement", "wayne-sla")).await.unwrap_err();
        assert_eq!(error.to_string(), "no Agreement wayne-sla");
        let error = send(store.transitions("Calendar", "acme-sla")).await.unwrap_err();
        assert_eq!(error.to_string(), "no Calendar acme-sla");
        let submit = request(1, Action::Submit);
        let now = at("2026-01-10T09:00:00Z");
        let error = store.transition("Agreement", "wayne-sla", &submit, now).await.unwrap_err();
        assert_eq!(error.to_string(), "no Agreement wayne-sla");
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn documents_and_latest_revisions_are_listed_by_kind_and_name() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-01-10T09:00:00Z");
        let batch = [
            agreement("globex-sla", "v1"),
            document("Calendar", "office", "9-5"),
            agreement("acme-sla", "v1"),
        ];
        store.apply(&batch, "alice", "first", now).await.unwrap();
        store.apply(&[agreement("globex-sla", "v2")], "alice", "second", now).await.unwrap();

        let documents: Vec<String> = store
            .documents(None)
            .await
            .unwrap()
            .iter()
            .map(|d| format!("{} {} r{}", d.kind, d.name, d.latest))
            .collect();
        assert_eq!(
            documents,
            ["Agreement acme-sla r1", "Agreement globex-sla r2", "Calendar office r1"]
        );
        let calendars = send(store.documents(Some("Calendar"))).await.unwrap();
        assert_eq!(calendars.len(), 1);

        let latest: Vec<String> = store
            .latest(Some("Agreement"))
            .await
            .unwrap()
            .iter()
            .map(|r| format!("{} {} r{} {}", r.kind, r.name, r.summary.number, r.canonical))
            .collect();
        assert_eq!(
            latest,
            [
                r#"Agreement acme-sla r1 {"content":"v1"}"#,
                r#"Agreement globex-sla r2 {"content":"v2"}"#,
            ]
        );
        assert_eq!(send(store.latest(None)).await.unwrap().len(), 3);
        assert!(store.latest(Some("Policy")).await.unwrap().is_empty());
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn kinds_without_a_lifecycle_record_no_transitions() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-01-10T09:00:00Z");
        store.apply(&[document("Calendar", "office", "9-5")], "alice", "first", now).await.unwrap();
        assert!(store.transitions("Calendar", "office").await.unwrap().is_empty());
        let error = store.transition("Calendar", "office", &request(1, Action::Submit), now).await;
        assert!(matches!(
            error,
            Err(StoreError::Lifecycle(LifecycleError::NoLifecycle { revision: 1 }))
        ));
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn activation_with_a_future_effective_date_reads_approved_until_that_date() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-01-10T09:00:00Z");
        let mut revision = agreement("acme-sla", "v1");
        revision.effective_from = Some(at("2026-03-01T00:00:00Z"));
        store.apply(&[revision], "alice", "first", now).await.unwrap();
        walk(&store, "acme-sla", 1, &[Action::Submit, Action::Approve], now).await;
        let activated = store
            .transition("Agreement", "acme-sla", &request(1, Action::Activate), now)
            .await
            .unwrap();
        assert_eq!(
            rendered(&activated),
            ["r1 approved -> active effective 2026-03-01T00:00:00Z recorded 2026-01-10T09:00:00Z by bob: please activate"]
        );
        assert_eq!(states_at(&store, "acme-sla", at("2026-02-28T23:59:59Z")).await, ["r1 approved"]);
        assert_eq!(states_at(&store, "acme-sla", at("2026-03-01T00:00:00Z")).await, ["r1 active"]);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn activating_revision_2_supersedes_revision_1() {
    each_backend(async |db| {
        let store = db.open().await;
        let jan = at("2026-01-10T09:00:00Z");
        let feb = at("2026-02-10T09:00:00Z");
        store.apply(&[agreement("acme-sla", "v1")], "alice", "first", jan).await.unwrap();
        walk(&store, "acme-sla", 1, &[Action::Submit, Action::Approve, Action::Activate], jan).await;
        store.apply(&[agreement("acme-sla", "v2")], "alice", "second", feb).await.unwrap();
        walk(&store, "acme-sla", 2, &[Action::Submit, Action::Approve], feb).await;
        let activated = store
            .transition("Agreement", "acme-sla", &request(2, Action::Activate), feb)
            .await
            .unwrap();
        assert_eq!(
            rendered(&activated),
            [
                "r2 approved -> active effective 2026-02-10T09:00:00Z recorded 2026-02-10T09:00:00Z by bob: please activate",
                "r1 active -> superseded effective 2026-02-10T09:00:00Z recorded 2026-02-10T09:00:00Z by bob: superseded by revision 2",
            ]
        );
        assert_eq!(states_at(&store, "acme-sla", jan).await, ["r1 active", "r2 -"]);
        assert_eq!(states_at(&store, "acme-sla", feb).await, ["r1 superseded", "r2 active"]);
        let transitions = store.transitions("Agreement", "acme-sla").await.unwrap();
        assert_eq!(transitions[transitions.len() - 2..], activated[..]);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_forbidden_transition_is_refused_and_records_nothing() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-01-10T09:00:00Z");
        store.apply(&[agreement("acme-sla", "v1")], "alice", "first", now).await.unwrap();
        let error = store
            .transition("Agreement", "acme-sla", &request(1, Action::Activate), now)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Lifecycle(LifecycleError::NotAllowed { .. })));
        assert_eq!(
            error.to_string(),
            "cannot activate revision 1: it is draft; activate needs approved"
        );
        let error = store
            .transition("Agreement", "acme-sla", &request(2, Action::Submit), now)
            .await
            .unwrap_err();
        assert_eq!(error.to_string(), "unknown revision 2");
        assert_eq!(store.transitions("Agreement", "acme-sla").await.unwrap().len(), 1);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn reopening_the_database_keeps_what_was_written() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-01-10T09:00:00Z");
        store.apply(&[agreement("acme-sla", "v1")], "alice", "first", now).await.unwrap();
        walk(&store, "acme-sla", 1, &[Action::Submit], now).await;
        let revisions = store.revisions("Agreement", "acme-sla").await.unwrap();
        let transitions = store.transitions("Agreement", "acme-sla").await.unwrap();
        drop(store);

        let reopened = db.open().await;
        assert_eq!(reopened.revisions("Agreement", "acme-sla").await.unwrap(), revisions);
        assert_eq!(reopened.transitions("Agreement", "acme-sla").await.unwrap(), transitions);
        reopened.close().await;
    })
    .await;
}

#[tokio::test]
async fn opening_a_migrated_database_again_changes_nothing() {
    each_backend(async |db| {
        let first = db.open().await;
        let now = at("2026-01-10T09:00:00Z");
        first.apply(&[agreement("acme-sla", "v1")], "alice", "first", now).await.unwrap();
        let second = db.open().await;
        let third = db.open().await;
        let result = third.apply(&[agreement("acme-sla", "v1")], "bob", "again", now).await;
        assert_eq!(applied(&result.unwrap()), ["Agreement acme-sla r1 unchanged"]);
        assert_eq!(second.documents(None).await.unwrap().len(), 1);
        first.close().await;
        second.close().await;
        third.close().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_applies_never_repeat_a_revision_number() {
    each_backend(async |db| {
        let (one, two) = (db.open().await, db.open().await);
        let now = at("2026-01-10T09:00:00Z");
        let apply = async |store: &Store, content: &str| {
            let batch = [agreement("acme-sla", content), agreement("globex-sla", content)];
            store.apply(&batch, "alice", content, now).await.unwrap()
        };
        let (a, b, c, d) =
            tokio::join!(apply(&one, "a"), apply(&two, "b"), apply(&one, "c"), apply(&two, "d"));
        let mut numbers: Vec<u32> =
            [a, b, c, d].iter().map(|applied| applied[0].revision).collect();
        numbers.sort();
        assert_eq!(numbers, [1, 2, 3, 4]);
        let history = one.revisions("Agreement", "globex-sla").await.unwrap();
        assert_eq!(history.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 3, 4]);
        one.close().await;
        two.close().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_activations_leave_one_revision_active() {
    each_backend(async |db| {
        let store = db.open().await;
        let other = db.open().await;
        let now = at("2026-01-10T09:00:00Z");
        for content in ["v1", "v2"] {
            store.apply(&[agreement("acme-sla", content)], "alice", content, now).await.unwrap();
        }
        for revision in [1, 2] {
            walk(&store, "acme-sla", revision, &[Action::Submit, Action::Approve], now).await;
        }
        let (activate_1, activate_2) = (request(1, Action::Activate), request(2, Action::Activate));
        let (first, second) = tokio::join!(
            store.transition("Agreement", "acme-sla", &activate_1, now),
            other.transition("Agreement", "acme-sla", &activate_2, now),
        );
        let (first, second) = (first.unwrap(), second.unwrap());
        // Whichever went second superseded the other.
        assert_eq!(first.len() + second.len(), 3);
        let mut states = states_at(&store, "acme-sla", now).await;
        states.sort_by_key(|state| state.ends_with("active"));
        assert!(
            states == ["r1 superseded", "r2 active"] || states == ["r2 superseded", "r1 active"],
            "{states:?}"
        );
        store.close().await;
        other.close().await;
    })
    .await;
}

// SQLite only.

#[tokio::test]
async fn sqlite_database_is_created_in_wal_mode() {
    let db = TestDb::sqlite();
    let store = db.open().await;
    store.close().await;
    let Location::Sqlite(path) = &db.location else { unreachable!() };
    let url = format!("sqlite:{}", path.display());
    let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mode: String =
        sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut connection).await.unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn opening_a_sqlite_file_in_a_missing_directory_names_the_file() {
    let location = Location::Sqlite("/nonexistent/accord/accord.db".into());
    let error = Store::open(&location).await.unwrap_err();
    assert!(matches!(error, StoreError::Database { .. }), "{error:?}");
    assert_eq!(error.to_string(), "opening sqlite database /nonexistent/accord/accord.db");
    assert!(std::error::Error::source(&error).is_some());
}
