//! Scheduled report sends on every backend: one claim per customer and period whichever node
//! asks first, a failed send leased again when its retry is due (and not while another node
//! holds it), and the evidence kept with the send.

use accord_store::{AfterAttempt, NewReportSend, ReportEvidence, ReportFile};
use jiff::{SignedDuration, Timestamp};

mod common;
use common::each_backend;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn october(customer: &str) -> NewReportSend {
    NewReportSend {
        customer: customer.to_owned(),
        period: "2026-10".to_owned(),
        every: "month".to_owned(),
        due_at: at("2026-11-01T07:00:00Z"),
        formats: vec!["pdf".to_owned(), "csv".to_owned()],
        recipients: vec!["ann@acme.example".to_owned(), "audit@acme.example".to_owned()],
    }
}

const LEASE: SignedDuration = SignedDuration::from_secs(60);

#[tokio::test]
async fn a_period_is_claimed_once_and_a_failed_send_is_retried_not_repeated() {
    each_backend(async |db| {
        let store = db.open().await;
        let now = at("2026-11-01T07:00:05Z");
        assert!(store.claim_report_send(&october("acme"), "node-a", now, LEASE).await.unwrap());
        // Another node, or the same node again: nothing new.
        assert!(!store.claim_report_send(&october("acme"), "node-b", now, LEASE).await.unwrap());
        assert!(store.claim_report_send(&october("globex"), "node-b", now, LEASE).await.unwrap());
        let sends = store.report_sends(Some("acme"), 10).await.unwrap();
        assert_eq!(sends.len(), 1);
        let send = &sends[0];
        assert_eq!((&send.send, send.status.as_str()), (&october("acme"), "pending"));
        assert_eq!((send.claimed_by.as_str(), send.claimed_at, send.attempts), ("node-a", now, 0));
        assert_eq!(send.evidence, None);
        assert_eq!(store.report_sends(None, 10).await.unwrap().len(), 2);

        // Held by the claiming node: nothing to retry, even once its next attempt is due.
        assert_eq!(store.claim_report_retries("node-b", now, LEASE, 10).await.unwrap(), []);

        // The first attempt generates the report but the relay refuses it for now.
        let evidence = ReportEvidence {
            position: 42,
            as_of: at("2026-11-01T00:00:00Z"),
            files: vec![ReportFile {
                format: "pdf".to_owned(),
                file_name: "accord-acme-2026-10.pdf".to_owned(),
                sha256: "ab".repeat(32),
                bytes: 1234,
            }],
        };
        let retry_at = at("2026-11-01T07:01:00Z");
        store
            .finish_report_send(
                "acme",
                "2026-10",
                now,
                Some(&evidence),
                Some(451),
                Some("try later"),
                AfterAttempt::RetryAt(retry_at),
            )
            .await
            .unwrap();
        assert_eq!(store.claim_report_retries("node-b", now, LEASE, 10).await.unwrap(), []);
        let retried = store.claim_report_retries("node-b", retry_at, LEASE, 10).await.unwrap();
        assert_eq!(retried.len(), 1);
        assert_eq!((retried[0].attempts, retried[0].last_code), (1, Some(451)));
        assert_eq!(retried[0].evidence.as_ref(), Some(&evidence));
        // Leased to node-b now.
        assert_eq!(store.claim_report_retries("node-a", retry_at, LEASE, 10).await.unwrap(), []);

        let sent_at = at("2026-11-01T07:01:01Z");
        store
            .finish_report_send(
                "acme",
                "2026-10",
                sent_at,
                None,
                Some(250),
                None,
                AfterAttempt::Sent,
            )
            .await
            .unwrap();
        let send = &store.report_sends(Some("acme"), 10).await.unwrap()[0];
        assert_eq!((send.status.as_str(), send.sent_at, send.attempts), ("sent", Some(sent_at), 2));
        // The evidence of the attempt that generated the report stays.
        assert_eq!(send.evidence.as_ref(), Some(&evidence));
        let later = at("2026-12-01T00:00:00Z");
        // Only globex's claim, whose node never finished it, is taken over once its lease ran
        // out.
        let retried = store.claim_report_retries("node-a", later, LEASE, 10).await.unwrap();
        let customers: Vec<&str> = retried.iter().map(|s| s.send.customer.as_str()).collect();
        assert_eq!(customers, ["globex"]);
        // The claim stays too: the period is never sent again.
        assert!(!store.claim_report_send(&october("acme"), "node-a", later, LEASE).await.unwrap());
    })
    .await;
}
