//! Leases on every backend: a lease is taken when free, renewed by its holder, refused to
//! another node while it lives, taken over once it has run out, and given up; many nodes
//! racing for one lease get it exactly once.

use std::sync::Arc;

use accord_store::Lease;
use jiff::{SignedDuration, Timestamp};

mod common;
use common::each_backend;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

const TTL: SignedDuration = SignedDuration::from_secs(5);

#[tokio::test]
async fn a_lease_is_held_by_one_node_until_it_runs_out_or_is_given_up() {
    each_backend(async |db| {
        let store = db.open().await;
        assert_eq!(store.leases("").await.unwrap(), []);

        // Free: taken.
        let t0 = at("2026-11-28T09:00:00Z");
        assert!(store.acquire_lease("probe:web", "node-a", t0, TTL).await.unwrap());
        // Live and another node's: refused, nothing changes.
        let t1 = at("2026-11-28T09:00:02Z");
        assert!(!store.acquire_lease("probe:web", "node-b", t1, TTL).await.unwrap());
        // Renewed by its holder: held since the first take, for another TTL.
        assert!(store.acquire_lease("probe:web", "node-a", t1, TTL).await.unwrap());
        let held = Lease {
            name: "probe:web".into(),
            owner: "node-a".into(),
            acquired_at: t0,
            expires_at: at("2026-11-28T09:00:07Z"),
        };
        assert_eq!(store.leases("probe:").await.unwrap(), std::slice::from_ref(&held));
        assert!(held.is_live(at("2026-11-28T09:00:06.999999Z")));
        assert!(!held.is_live(at("2026-11-28T09:00:07Z")));
        // Still refused just before it runs out; taken over when it has.
        let t2 = at("2026-11-28T09:00:06.999999Z");
        assert!(!store.acquire_lease("probe:web", "node-b", t2, TTL).await.unwrap());
        let t3 = at("2026-11-28T09:00:07Z");
        assert!(store.acquire_lease("probe:web", "node-b", t3, TTL).await.unwrap());
        let taken = &store.leases("").await.unwrap()[0];
        assert_eq!((taken.owner.as_str(), taken.acquired_at), ("node-b", t3));
        // The old holder, back, cannot renew.
        assert!(!store.acquire_lease("probe:web", "node-a", t3, TTL).await.unwrap());

        // Other leases are apart; the prefix is a prefix, not a pattern.
        assert!(store.acquire_lease("probe:db", "node-a", t3, TTL).await.unwrap());
        assert!(store.acquire_lease("node:node-a", "node-a", t3, TTL).await.unwrap());
        assert!(store.acquire_lease("probe_x", "node-a", t3, TTL).await.unwrap());
        let names = |leases: Vec<Lease>| leases.into_iter().map(|lease| lease.name).collect();
        let probes: Vec<String> = names(store.leases("probe:").await.unwrap());
        assert_eq!(probes, ["probe:db", "probe:web"]);
        assert_eq!(names(store.leases("probe_").await.unwrap()), ["probe_x"]);
        assert_eq!(store.leases("").await.unwrap().len(), 4);

        // Renewed all at once: the holder's live leases only.
        let t35 = at("2026-11-28T09:00:10Z");
        let renewed = store.renew_leases("node-a", t35, TTL).await.unwrap();
        assert_eq!(renewed, ["node:node-a", "probe:db", "probe_x"]);
        assert!(
            store
                .leases("")
                .await
                .unwrap()
                .iter()
                .all(|lease| lease.owner != "node-a"
                    || lease.expires_at == at("2026-11-28T09:00:15Z"))
        );
        // Run out: nothing to renew, and the lease's instants stay.
        let late = at("2026-11-28T09:00:20Z");
        assert_eq!(store.renew_leases("node-b", late, TTL).await.unwrap(), Vec::<String>::new());
        let web = store.leases("probe:web").await.unwrap().remove(0);
        assert_eq!(web.expires_at, at("2026-11-28T09:00:12Z"));

        // Given up: only by its holder; then free for anyone at once.
        assert!(!store.release_lease("probe:web", "node-a").await.unwrap());
        assert!(store.release_lease("probe:web", "node-b").await.unwrap());
        assert!(!store.release_lease("probe:web", "node-b").await.unwrap());
        assert!(store.acquire_lease("probe:web", "node-c", t3, TTL).await.unwrap());
        // A lease that ran out and is taken again by the same node starts anew.
        let t4 = at("2026-11-28T09:01:00Z");
        assert!(store.acquire_lease("probe:db", "node-a", t4, TTL).await.unwrap());
        let db_lease = store.leases("probe:db").await.unwrap().remove(0);
        assert_eq!((db_lease.acquired_at, db_lease.expires_at), (t4, t4 + TTL));
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn nodes_racing_for_a_lease_get_it_once() {
    each_backend(async |db| {
        let store = Arc::new(db.open().await);
        let now = at("2026-11-28T10:00:00Z");
        for round in 0..5 {
            let name = format!("probe:race-{round}");
            let tasks: Vec<_> = (0..8)
                .map(|node_idx| {
                    let store = Arc::clone(&store);
                    let name = name.clone();
                    tokio::spawn(async move {
                        let node = format!("node-{node_idx}");
                        store.acquire_lease(&name, &node, now, TTL).await.unwrap()
                    })
                })
                .collect();
            let mut n_taken = 0;
            for task in tasks {
                n_taken += usize::from(task.await.unwrap());
            }
            assert_eq!(n_taken, 1, "{name}");
            assert_eq!(store.leases(&name).await.unwrap().len(), 1);
        }
    })
    .await;
}
