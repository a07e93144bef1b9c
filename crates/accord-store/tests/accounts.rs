//! Accounts in the store, on every backend: users with the customer rule and unique names,
//! password changes and disabling; API tokens found by the hash of their secret, touched and
//! revoked; sessions that expire and end with their user; failed sign-ins counted per key.

use accord_core::access::{Role, Scope, Scopes};
use accord_store::{
    LOGIN_FAILURES_KEPT, NewSession, NewToken, NewUser, SessionRecord, Store, StoreError,
    TokenRecord, UserRecord,
};
use jiff::{SignedDuration, Timestamp};

mod common;
use common::each_backend;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

const NOW: &str = "2026-11-25T09:00:00Z";
const LATER: &str = "2026-11-25T10:00:00Z";

/// A PHC string shaped like the server's; the store only keeps it.
fn phc(tag: &str) -> String {
    format!("$argon2id$v=19$m=19456,t=2,p=1${tag}salt${tag}hash")
}

/// A lowercase hex SHA-256 made of one repeated digit: distinct per digit, valid in shape.
fn hash(digit: char) -> String {
    digit.to_string().repeat(64)
}

fn user(name: &str, role: Role, customer: Option<&str>) -> NewUser {
    NewUser {
        name: name.to_owned(),
        password_hash: phc(name),
        role,
        customer: customer.map(str::to_owned),
    }
}

fn token(name: &str, digit: char, role: Role, scopes: &[Scope]) -> NewToken {
    NewToken {
        name: name.to_owned(),
        secret_hash: hash(digit),
        scopes: Scopes::of(scopes),
        role,
        customer: (role == Role::Customer).then(|| "acme".to_owned()),
        created_by: "ann".to_owned(),
    }
}

fn session(digit: char, user: &str, created_at: &str, lasts: SignedDuration) -> NewSession {
    NewSession {
        id_hash: hash(digit),
        user: user.to_owned(),
        csrf_token_hash: hash('f'),
        created_at: at(created_at),
        expires_at: at(created_at) + lasts,
    }
}

#[track_caller]
fn assert_invalid(result: Result<impl std::fmt::Debug, StoreError>, expected: &str) {
    match result {
        Err(StoreError::Invalid { what }) => assert_eq!(what, expected),
        other => panic!("expected Invalid({expected:?}), got {other:?}"),
    }
}

#[tokio::test]
async fn users_round_trip_by_name() {
    each_backend(async |db| {
        let store = db.open().await;
        assert_eq!(store.users().await.unwrap(), []);
        assert_eq!(store.user("ann").await.unwrap(), None);

        // A finer instant is kept to the microsecond.
        let now = at("2026-11-25T09:00:00.123456789Z");
        store.add_user(&user("ann", Role::Admin, None), "root", now).await.unwrap();
        store.add_user(&user("carl", Role::Customer, Some("acme")), "root", now).await.unwrap();
        store.add_user(&user("bea", Role::Viewer, None), "root", now).await.unwrap();

        let ann = UserRecord {
            name: "ann".to_owned(),
            password_hash: phc("ann"),
            role: Role::Admin,
            customer: None,
            created_at: at("2026-11-25T09:00:00.123456Z"),
            password_changed_at: at("2026-11-25T09:00:00.123456Z"),
            disabled_at: None,
        };
        assert_eq!(store.user("ann").await.unwrap(), Some(ann.clone()));
        let users = store.users().await.unwrap();
        let names: Vec<&str> = users.iter().map(|user| user.name.as_str()).collect();
        assert_eq!(names, ["ann", "bea", "carl"]);
        assert_eq!(users[0], ann);
        assert_eq!((users[2].role, users[2].customer.as_deref()), (Role::Customer, Some("acme")));

        // After a restart, the same.
        store.close().await;
        let store = db.open().await;
        assert_eq!(store.users().await.unwrap(), users);
    })
    .await;
}

#[tokio::test]
async fn a_taken_user_name_is_refused() {
    each_backend(async |db| {
        let store = db.open().await;
        store.add_user(&user("ann", Role::Admin, None), "root", at(NOW)).await.unwrap();
        let error =
            store.add_user(&user("ann", Role::Viewer, None), "root", at(LATER)).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::Duplicate { what } if what == "user ann"),
            "{error:?}"
        );
        assert_eq!(error.to_string(), "user ann already exists");
        assert_eq!(store.user("ann").await.unwrap().unwrap().role, Role::Admin);
        // Names are exact: another case is another user.
        store.add_user(&user("Ann", Role::Viewer, None), "root", at(LATER)).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_customer_role_and_only_it_is_bound_to_a_customer() {
    each_backend(async |db| {
        let store = db.open().await;
        assert_invalid(
            store.add_user(&user("carl", Role::Customer, None), "root", at(NOW)).await,
            "user carl has role customer but no customer",
        );
        assert_invalid(
            store.add_user(&user("ann", Role::Agent, Some("acme")), "root", at(NOW)).await,
            "user ann has role agent, which is bound to no customer, but customer acme was given",
        );
        assert_invalid(
            store.add_user(&user("carl", Role::Customer, Some("")), "root", at(NOW)).await,
            "user carl has an empty customer",
        );
        assert_invalid(
            store.add_user(&user("", Role::Admin, None), "root", at(NOW)).await,
            "a user name is empty",
        );
        assert_invalid(
            store
                .add_user(
                    &NewUser { password_hash: "plain".into(), ..user("x", Role::Admin, None) },
                    "root",
                    at(NOW),
                )
                .await,
            "the password hash of user x is not a PHC string",
        );
        let mut customer_token = token("ci", 'a', Role::Customer, &[Scope::Read]);
        customer_token.customer = None;
        assert_invalid(
            store.add_token(&customer_token, at(NOW)).await,
            "token ci has role customer but no customer",
        );
        assert_eq!(store.users().await.unwrap(), []);
        assert_eq!(store.tokens().await.unwrap(), []);
    })
    .await;
}

#[tokio::test]
async fn a_password_change_replaces_the_hash_and_disabling_ends_sessions() {
    each_backend(async |db| {
        let store = db.open().await;
        store.add_user(&user("ann", Role::Agent, None), "root", at(NOW)).await.unwrap();
        store.set_password("ann", &phc("new"), "root", at(LATER)).await.unwrap();
        let ann = store.user("ann").await.unwrap().unwrap();
        assert_eq!(ann.password_hash, phc("new"));
        assert_eq!((ann.created_at, ann.password_changed_at), (at(NOW), at(LATER)));

        let error = store.set_password("bob", &phc("x"), "root", at(LATER)).await.unwrap_err();
        assert_eq!(error.to_string(), "no user bob");
        assert!(matches!(
            store.disable_user("bob", "root", at(LATER)).await,
            Err(StoreError::NotFound { .. })
        ));

        let hour = SignedDuration::from_hours(1);
        store.create_session(&session('1', "ann", LATER, hour)).await.unwrap();
        store.disable_user("ann", "root", at(LATER)).await.unwrap();
        // Disabling again keeps the first instant.
        store.disable_user("ann", "root", at("2026-11-26T00:00:00Z")).await.unwrap();
        assert_eq!(store.user("ann").await.unwrap().unwrap().disabled_at, Some(at(LATER)));
        assert_eq!(store.session_by_hash(&hash('1'), at(LATER)).await.unwrap(), None);
        assert_eq!(store.delete_user_sessions("ann").await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn tokens_are_found_by_the_hash_of_their_secret_touched_and_revoked() {
    each_backend(async |db| {
        let store = db.open().await;
        let ingest = token("collector", 'a', Role::Agent, &[Scope::Ingest]);
        let added = store.add_token(&ingest, at("2026-11-25T09:00:00.5000009Z")).await.unwrap();
        let expected = TokenRecord {
            id: added.id,
            name: "collector".to_owned(),
            secret_hash: hash('a'),
            scopes: Scopes::of(&[Scope::Ingest]),
            role: Role::Agent,
            customer: None,
            created_by: "ann".to_owned(),
            created_at: at("2026-11-25T09:00:00.500000Z"),
            revoked_at: None,
            last_used_at: None,
        };
        assert_eq!(added, expected);
        let portal = store
            .add_token(&token("portal", 'b', Role::Customer, &[Scope::Read]), at(NOW))
            .await
            .unwrap();
        assert!(portal.id > added.id);
        assert_eq!(portal.customer.as_deref(), Some("acme"));

        assert_eq!(store.token_by_hash(&hash('a')).await.unwrap(), Some(expected.clone()));
        assert_eq!(store.token_by_hash(&hash('c')).await.unwrap(), None);
        assert_eq!(store.tokens().await.unwrap(), [expected.clone(), portal.clone()]);

        // The same secret twice is refused.
        let error = store
            .add_token(&token("again", 'a', Role::Viewer, &[Scope::Read]), at(NOW))
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Duplicate { .. }), "{error:?}");
        // So is a scope the role cannot hold, or none.
        assert_invalid(
            store
                .add_token(&token("ci", 'c', Role::Viewer, &[Scope::Read, Scope::Write]), at(NOW))
                .await,
            "token ci has scope write, which role viewer cannot hold (it may hold read)",
        );
        assert_invalid(
            store.add_token(&token("ci", 'c', Role::Admin, &[]), at(NOW)).await,
            "token ci has no scope",
        );

        // Use moves forward only.
        store.touch_token(added.id, at(LATER)).await.unwrap();
        store.touch_token(added.id, at(NOW)).await.unwrap();
        store.touch_token(999, at(LATER)).await.unwrap();
        let touched = store.token_by_hash(&hash('a')).await.unwrap().unwrap();
        assert_eq!(touched.last_used_at, Some(at(LATER)));

        // A revoked token is still found, with when it was revoked.
        assert!(store.revoke_token(added.id, "root", at(LATER)).await.unwrap());
        assert!(!store.revoke_token(added.id, "root", at("2026-11-26T00:00:00Z")).await.unwrap());
        assert!(!store.revoke_token(999, "root", at(LATER)).await.unwrap());
        let revoked = store.token_by_hash(&hash('a')).await.unwrap().unwrap();
        assert_eq!(revoked.revoked_at, Some(at(LATER)));
        assert_eq!(store.token_by_hash(&hash('b')).await.unwrap().unwrap().revoked_at, None);
    })
    .await;
}

#[tokio::test]
async fn sessions_expire_and_can_be_ended() {
    each_backend(async |db| {
        let store = db.open().await;
        store.add_user(&user("ann", Role::Admin, None), "root", at(NOW)).await.unwrap();
        store.add_user(&user("bea", Role::Viewer, None), "root", at(NOW)).await.unwrap();
        let hour = SignedDuration::from_hours(1);
        let first = session('1', "ann", NOW, hour);
        store.create_session(&first).await.unwrap();

        let record = SessionRecord {
            id_hash: hash('1'),
            user: "ann".to_owned(),
            csrf_token_hash: hash('f'),
            created_at: at(NOW),
            expires_at: at(LATER),
        };
        assert_eq!(store.session_by_hash(&hash('1'), at(NOW)).await.unwrap(), Some(record.clone()));
        let just_before = at(LATER) - SignedDuration::from_micros(1);
        assert_eq!(store.session_by_hash(&hash('1'), just_before).await.unwrap(), Some(record));
        // `expires_at` is exclusive.
        assert_eq!(store.session_by_hash(&hash('1'), at(LATER)).await.unwrap(), None);
        assert_eq!(store.session_by_hash(&hash('2'), at(NOW)).await.unwrap(), None);

        // Creating a session clears expired ones, so the first id is free again.
        store.create_session(&session('2', "ann", LATER, hour)).await.unwrap();
        store.create_session(&session('1', "bea", LATER, hour)).await.unwrap();
        store.create_session(&session('3', "ann", LATER, hour)).await.unwrap();
        let error = store.create_session(&session('3', "bea", LATER, hour)).await.unwrap_err();
        assert!(matches!(error, StoreError::Duplicate { .. }), "{error:?}");
        let error = store.create_session(&session('4', "nobody", LATER, hour)).await.unwrap_err();
        assert_eq!(error.to_string(), "no user nobody");
        assert_invalid(
            store.create_session(&session('4', "ann", LATER, SignedDuration::ZERO)).await,
            "a session of user ann expires at 2026-11-25T10:00:00Z, not after its creation at 2026-11-25T10:00:00Z",
        );

        store.delete_session(&hash('2')).await.unwrap();
        store.delete_session(&hash('2')).await.unwrap();
        assert_eq!(store.session_by_hash(&hash('2'), at(LATER)).await.unwrap(), None);
        assert_eq!(store.delete_user_sessions("ann").await.unwrap(), 1);
        assert_eq!(store.session_by_hash(&hash('3'), at(LATER)).await.unwrap(), None);
        let bea = store.session_by_hash(&hash('1'), at(LATER)).await.unwrap().unwrap();
        assert_eq!(bea.user, "bea");
    })
    .await;
}

#[tokio::test]
async fn login_failures_are_counted_per_key_within_a_window() {
    each_backend(async |db| {
        let store = db.open().await;
        let minute = SignedDuration::from_mins(1);
        for n_minutes in 0..5 {
            store.record_login_failure("ann", at(NOW) + minute * n_minutes).await.unwrap();
        }
        store.record_login_failure("10.0.0.1", at(NOW)).await.unwrap();

        assert_eq!(store.login_failures_since("ann", at(NOW)).await.unwrap(), 5);
        // The window's start is included.
        assert_eq!(store.login_failures_since("ann", at(NOW) + minute * 3).await.unwrap(), 2);
        assert_eq!(store.login_failures_since("ann", at(LATER)).await.unwrap(), 0);
        assert_eq!(store.login_failures_since("bea", at(NOW)).await.unwrap(), 0);

        store.clear_login_failures("ann").await.unwrap();
        assert_eq!(store.login_failures_since("ann", at(NOW)).await.unwrap(), 0);
        assert_eq!(store.login_failures_since("10.0.0.1", at(NOW)).await.unwrap(), 1);

        // Failures older than what is kept are forgotten when another is recorded.
        let next_day = at(NOW) + LOGIN_FAILURES_KEPT + minute;
        store.record_login_failure("bea", next_day).await.unwrap();
        assert_eq!(store.login_failures_since("10.0.0.1", at(NOW)).await.unwrap(), 0);
        assert_eq!(store.login_failures_since("bea", at(NOW)).await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn failures_recorded_concurrently_are_all_counted() {
    each_backend(async |db| {
        let store = db.open().await;
        let other = db.open().await;
        let record = async |store: &Store, n: i64| {
            for i in 0..n {
                let at = at(NOW) + SignedDuration::from_secs(i);
                store.record_login_failure("ann", at).await.unwrap();
            }
        };
        tokio::join!(record(&store, 20), record(&other, 20));
        assert_eq!(store.login_failures_since("ann", at(NOW)).await.unwrap(), 40);
    })
    .await;
}
