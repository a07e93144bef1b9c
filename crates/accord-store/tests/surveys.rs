//! Surveys on every backend: one per ticket whoever records it first, leased when due, retried,
//! cancelled only while pending, and their link used once.

use accord_store::{AfterAttempt, NewSurvey};
use jiff::{SignedDuration, Timestamp};

mod common;
use common::each_backend;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn new_survey(ticket: &str, nonce: &str, due_at: &str) -> NewSurvey {
    NewSurvey {
        ticket: ticket.to_owned(),
        customer: "acme".to_owned(),
        address: "ann@acme.example".to_owned(),
        nonce: nonce.to_owned(),
        solved_at: at("2026-12-01T09:00:00Z"),
        due_at: at(due_at),
        expires_at: at("2026-12-15T09:10:00Z"),
    }
}

const LEASE: SignedDuration = SignedDuration::from_secs(60);

#[tokio::test]
async fn a_ticket_gets_one_survey_sent_when_due_and_its_link_is_used_once() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-12-01T09:00:01Z");
        let first = new_survey("T-1", "nonce-a", "2026-12-01T09:10:00Z");
        assert!(store.record_survey(&first, "node-a", now).await.unwrap());
        // Another node, or the same ticket solved again: nothing new, the first nonce stands.
        let again = new_survey("T-1", "nonce-b", "2026-12-01T09:00:00Z");
        assert!(!store.record_survey(&again, "node-b", now).await.unwrap());
        let stored = store.survey("T-1").await.unwrap().expect("recorded");
        assert_eq!((&stored.survey, stored.status.as_str()), (&first, "pending"));
        assert_eq!((stored.recorded_by.as_str(), stored.recorded_at), ("node-a", now));
        assert_eq!(store.survey("T-2").await.unwrap(), None);

        // Not due yet; then due, and leased to one node at a time.
        assert_eq!(store.claim_surveys("node-a", now, LEASE, 10).await.unwrap(), []);
        let due = at("2026-12-01T09:10:00Z");
        let claimed = store.claim_surveys("node-a", due, LEASE, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(store.claim_surveys("node-b", due, LEASE, 10).await.unwrap(), []);

        // A transient failure: retried later, by whichever node leases it then.
        let retry_at = at("2026-12-01T09:10:30Z");
        let failed = Some("connection refused");
        store
            .finish_survey("T-1", due, None, failed, AfterAttempt::RetryAt(retry_at))
            .await
            .unwrap();
        let stored = store.survey("T-1").await.unwrap().expect("recorded");
        assert_eq!(
            (stored.status.as_str(), stored.attempts, stored.survey.due_at),
            ("pending", 1, retry_at)
        );
        assert_eq!(stored.last_error.as_deref(), failed);
        assert_eq!(store.claim_surveys("node-b", due, LEASE, 10).await.unwrap(), []);
        assert_eq!(store.claim_surveys("node-b", retry_at, LEASE, 10).await.unwrap().len(), 1);
        store.finish_survey("T-1", retry_at, Some(250), None, AfterAttempt::Sent).await.unwrap();
        let sent = store.survey("T-1").await.unwrap().expect("recorded");
        assert_eq!(
            (sent.status.as_str(), sent.sent_at, sent.last_code),
            ("sent", Some(retry_at), Some(250))
        );
        // A survey sent is not cancelled by a later reopen.
        store.cancel_survey("T-1", "reopened").await.unwrap();
        assert_eq!(store.survey("T-1").await.unwrap().expect("recorded").status, "sent");

        // The link: only with its own nonce, and once.
        let rated = at("2026-12-02T10:00:00Z");
        assert!(!store.use_survey("T-1", "nonce-b", rated).await.unwrap());
        assert!(store.use_survey("T-1", "nonce-a", rated).await.unwrap());
        assert!(!store.use_survey("T-1", "nonce-a", rated).await.unwrap());
        assert_eq!(store.survey("T-1").await.unwrap().expect("recorded").used_at, Some(rated));

        // A pending survey of a ticket open again is cancelled, and never leased.
        assert!(
            store
                .record_survey(&new_survey("T-3", "n", "2026-12-01T09:00:00Z"), "a", now)
                .await
                .unwrap()
        );
        store.cancel_survey("T-3", "the ticket is open again").await.unwrap();
        let cancelled = store.survey("T-3").await.unwrap().expect("recorded");
        assert_eq!(cancelled.status, "cancelled");
        assert_eq!(store.claim_surveys("node-a", rated, LEASE, 10).await.unwrap(), []);
        store.close().await;
    })
    .await;
}
