//! The dead-letter log on every backend: refused payloads kept byte for byte with their
//! reason, field and sender, listed newest first in pages; empty names refused.

use accord_store::{NewDeadLetter, StoreError};
use jiff::Timestamp;

mod common;
use common::each_backend;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn letter<'a>(adapter: &'a str, payload: &'a [u8]) -> NewDeadLetter<'a> {
    NewDeadLetter {
        adapter,
        reason: "unknown webhookEvent \"sprint_started\"",
        field: Some("/webhookEvent"),
        principal: "token:jira",
        payload,
    }
}

#[tokio::test]
async fn dead_letters_are_kept_and_listed_newest_first() {
    each_backend(async |db| {
        let store = db.open().await;
        assert_eq!(store.dead_letters(None, 10).await.unwrap(), []);

        // Bytes that are not UTF-8 (a NUL, a lone continuation byte) come back as sent.
        let odd: &[u8] = b"{\"x\":\0\x80}";
        let first = store
            .record_dead_letter(&letter("jira", odd), at("2026-11-27T09:00:00.123456789Z"))
            .await
            .unwrap();
        let no_field = NewDeadLetter { field: None, ..letter("zammad", b"[]") };
        let second = store.record_dead_letter(&no_field, at("2026-11-27T09:01:00Z")).await.unwrap();
        let third = store
            .record_dead_letter(&letter("generic/statuspage", b"{}"), at("2026-11-27T09:02:00Z"))
            .await
            .unwrap();
        assert!(first < second && second < third, "{first} {second} {third}");

        let all = store.dead_letters(None, 10).await.unwrap();
        let ids: Vec<u64> = all.iter().map(|letter| letter.id).collect();
        assert_eq!(ids, [third, second, first]);
        let oldest = &all[2];
        assert_eq!(oldest.payload, odd);
        assert_eq!(oldest.adapter, "jira");
        assert_eq!(oldest.field.as_deref(), Some("/webhookEvent"));
        assert_eq!(oldest.principal, "token:jira");
        assert_eq!(oldest.reason, "unknown webhookEvent \"sprint_started\"");
        // Kept to the microsecond.
        assert_eq!(oldest.received_at, at("2026-11-27T09:00:00.123456Z"));
        assert_eq!(all[1].field, None);

        // Pages: the next one starts before the last id of the one before.
        let page = store.dead_letters(None, 2).await.unwrap();
        assert_eq!(page.iter().map(|letter| letter.id).collect::<Vec<_>>(), [third, second]);
        let next = store.dead_letters(Some(second), 2).await.unwrap();
        assert_eq!(next.iter().map(|letter| letter.id).collect::<Vec<_>>(), [first]);
        assert_eq!(store.dead_letters(Some(first), 2).await.unwrap(), []);

        let nobody = NewDeadLetter { principal: " ", ..letter("jira", b"{}") };
        match store.record_dead_letter(&nobody, at("2026-11-27T09:03:00Z")).await {
            Err(StoreError::Invalid { what }) => {
                assert_eq!(what, "a dead letter's principal is empty");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
        assert_eq!(store.dead_letters(None, 10).await.unwrap().len(), 3);
        store.close().await;
    })
    .await;
}
