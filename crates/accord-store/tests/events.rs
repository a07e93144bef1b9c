//! The ticket event log in the store, on every backend: batches are appended whole or not at
//! all, a delivery sent again is recognized by event id and never counted twice, an id reused
//! with other content is refused, and the log reads back in position order after a restart and
//! under concurrent appends.

use std::collections::{BTreeSet, HashMap};

use accord_store::{Appended, NewEvent, Store, StoreError, StoredEvent};
use jiff::{SignedDuration, Timestamp};

mod common;
use common::each_backend;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// An event as the caller holds it before lending it to the store.
#[derive(Clone, Debug)]
struct Event {
    id: String,
    ticket: String,
    at: Timestamp,
    kind: String,
    body: String,
}

impl Event {
    fn as_new(&self) -> NewEvent<'_> {
        NewEvent {
            id: &self.id,
            ticket: &self.ticket,
            at: self.at,
            kind: &self.kind,
            body: &self.body,
        }
    }

    /// The same event with other content (its body says so).
    fn changed(&self) -> Event {
        Event { body: self.body.replace('}', r#","changed":true}"#), ..self.clone() }
    }

    /// How the store keeps it, at `position`, received at `received_at`.
    fn stored(&self, position: u64, received_at: Timestamp) -> StoredEvent {
        StoredEvent {
            position,
            id: self.id.clone(),
            ticket: self.ticket.clone(),
            at: self.at,
            kind: self.kind.clone(),
            body: self.body.clone(),
            received_at,
        }
    }
}

/// An event with a body shaped like the wire format's canonical JSON.
fn event(id: &str, ticket: &str, at_text: &str, kind: &str) -> Event {
    let body =
        format!(r#"{{"v":1,"id":"{id}","ticket":"{ticket}","type":"{kind}","at":"{at_text}"}}"#);
    Event {
        id: id.to_owned(),
        ticket: ticket.to_owned(),
        at: at(at_text),
        kind: kind.to_owned(),
        body,
    }
}

/// `n` comments on ticket `T-1`, ids `prefix-0`..., a minute apart from 09:00Z.
fn comments(prefix: &str, range: std::ops::Range<usize>) -> Vec<Event> {
    range
        .map(|i| {
            let at = at("2026-11-24T09:00:00Z") + SignedDuration::from_mins(i as i64);
            event(&format!("{prefix}-{i}"), "T-1", &at.to_string(), "comment")
        })
        .collect()
}

async fn append(
    store: &Store,
    events: &[Event],
    now: Timestamp,
) -> Result<Vec<Appended>, StoreError> {
    let new: Vec<NewEvent<'_>> = events.iter().map(Event::as_new).collect();
    store.append_events(&new, now).await
}

/// The whole log, in position order.
async fn log(store: &Store) -> Vec<StoredEvent> {
    store.events_after(0, u32::MAX).await.unwrap()
}

fn new(positions: std::ops::RangeInclusive<u64>) -> Vec<Appended> {
    positions.map(|position| Appended::New { position }).collect()
}

fn duplicate(positions: std::ops::RangeInclusive<u64>) -> Vec<Appended> {
    positions.map(|position| Appended::Duplicate { position }).collect()
}

const NOW: &str = "2026-11-24T12:00:00Z";
const LATER: &str = "2026-11-24T13:00:00Z";

/// Three events of two tickets, not in the order they happened.
fn three() -> Vec<Event> {
    vec![
        event("e-2", "T-1", "2026-11-24T10:05:00Z", "comment"),
        event("e-1", "T-1", "2026-11-24T10:00:00Z", "created"),
        event("e-3", "T-2", "2026-11-24T09:00:00Z", "created"),
    ]
}

#[tokio::test]
async fn a_batch_is_appended_at_the_next_positions_and_read_back_in_order() {
    each_backend(async |db| {
        let store = db.open().await;
        assert_eq!(store.log_head().await.unwrap(), 0);
        assert_eq!(log(&store).await, []);
        assert_eq!(append(&store, &[], at(NOW)).await.unwrap(), []);

        let events = three();
        assert_eq!(append(&store, &events, at(NOW)).await.unwrap(), new(1..=3));
        assert_eq!(store.log_head().await.unwrap(), 3);
        // Arrival order, not the order the events happened in.
        let expected: Vec<StoredEvent> = events
            .iter()
            .zip(1..)
            .map(|(event, position)| event.stored(position, at(NOW)))
            .collect();
        assert_eq!(log(&store).await, expected);

        let more = [event("e-4", "T-2", "2026-11-24T09:30:00Z", "solved")];
        assert_eq!(append(&store, &more, at(LATER)).await.unwrap(), new(4..=4));
        assert_eq!(store.events_after(3, 10).await.unwrap(), [more[0].stored(4, at(LATER))]);
    })
    .await;
}

#[tokio::test]
async fn a_batch_delivered_again_is_all_duplicates_at_the_first_positions() {
    each_backend(async |db| {
        let store = db.open().await;
        let events = three();
        append(&store, &events, at(NOW)).await.unwrap();
        let first = log(&store).await;

        assert_eq!(append(&store, &events, at(LATER)).await.unwrap(), duplicate(1..=3));
        // In another order, too; nothing is written, not even when it was received.
        let reversed: Vec<Event> = events.iter().rev().cloned().collect();
        assert_eq!(
            append(&store, &reversed, at(LATER)).await.unwrap(),
            [3, 2, 1].map(|position| Appended::Duplicate { position })
        );
        assert_eq!(store.log_head().await.unwrap(), 3);
        assert_eq!(log(&store).await, first);

        // A retry that carries one more event appends only that one.
        let mut retry = events.clone();
        retry.insert(1, event("e-9", "T-3", "2026-11-24T11:00:00Z", "created"));
        let appended = append(&store, &retry, at(LATER)).await.unwrap();
        assert_eq!(
            appended,
            [
                Appended::Duplicate { position: 1 },
                Appended::New { position: 4 },
                Appended::Duplicate { position: 2 },
                Appended::Duplicate { position: 3 },
            ]
        );
        assert_eq!(
            appended.iter().map(|appended| appended.position()).collect::<Vec<_>>(),
            [1, 4, 2, 3]
        );
        assert_eq!(store.log_head().await.unwrap(), 4);
    })
    .await;
}

#[tokio::test]
async fn an_id_reused_with_other_content_refuses_the_whole_batch() {
    each_backend(async |db| {
        let store = db.open().await;
        let events = three();
        append(&store, &events, at(NOW)).await.unwrap();
        let before = log(&store).await;

        let batch = [
            event("e-10", "T-9", "2026-11-24T11:00:00Z", "created"),
            events[1].changed(),
            event("e-11", "T-9", "2026-11-24T11:05:00Z", "comment"),
        ];
        let error = append(&store, &batch, at(LATER)).await.unwrap_err();
        assert!(
            matches!(&error, StoreError::EventConflict { id, position: Some(2) } if id == "e-1"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "event e-1 differs from the one with the same id at position 2 of the log"
        );
        assert_eq!(store.log_head().await.unwrap(), 3);
        assert_eq!(log(&store).await, before);
        assert_eq!(store.ticket_events("T-9").await.unwrap(), []);

        // Any field differing is other content, even with the same body.
        let other_ticket = Event { ticket: "T-2".to_owned(), ..events[0].clone() };
        let other_kind = Event { kind: "note".to_owned(), ..events[0].clone() };
        let other_at =
            Event { at: events[0].at + SignedDuration::from_micros(1), ..events[0].clone() };
        for other in [other_ticket, other_kind, other_at] {
            let error = append(&store, &[other], at(LATER)).await.unwrap_err();
            assert!(
                matches!(error, StoreError::EventConflict { position: Some(1), .. }),
                "{error:?}"
            );
        }
        assert_eq!(log(&store).await, before);
    })
    .await;
}

#[tokio::test]
async fn an_event_twice_in_one_batch_is_appended_once() {
    each_backend(async |db| {
        let store = db.open().await;
        let [a, b, c] = three().try_into().unwrap();
        let batch = [a.clone(), b.clone(), a.clone(), c.clone(), b.clone()];
        assert_eq!(
            append(&store, &batch, at(NOW)).await.unwrap(),
            [
                Appended::New { position: 1 },
                Appended::New { position: 2 },
                Appended::Duplicate { position: 1 },
                Appended::New { position: 3 },
                Appended::Duplicate { position: 2 },
            ]
        );
        assert_eq!(
            log(&store).await,
            [a.stored(1, at(NOW)), b.stored(2, at(NOW)), c.stored(3, at(NOW))]
        );

        // Twice with other content: refused, and the batch's other events are not written.
        let d = event("e-4", "T-4", "2026-11-24T11:00:00Z", "created");
        let error = append(&store, &[d.clone(), d.changed()], at(LATER)).await.unwrap_err();
        assert!(matches!(&error, StoreError::EventConflict { id, position: None } if id == "e-4"));
        assert_eq!(
            error.to_string(),
            "event e-4 differs from the one with the same id earlier in the batch"
        );
        assert_eq!(store.log_head().await.unwrap(), 3);
    })
    .await;
}

#[tokio::test]
async fn events_with_an_empty_id_ticket_or_type_are_refused() {
    each_backend(async |db| {
        let store = db.open().await;
        let good = event("e-1", "T-1", "2026-11-24T10:00:00Z", "created");
        let cases = [
            (Event { id: String::new(), ..good.clone() }, "an event has an empty id"),
            (Event { ticket: String::new(), ..good.clone() }, "event e-1 has an empty ticket"),
            (Event { kind: String::new(), ..good.clone() }, "event e-1 has an empty type"),
        ];
        for (bad, message) in cases {
            let error = append(&store, &[good.clone(), bad], at(NOW)).await.unwrap_err();
            assert!(matches!(error, StoreError::Invalid { .. }), "{error:?}");
            assert_eq!(error.to_string(), message);
        }
        assert_eq!(store.log_head().await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn ticket_events_are_one_tickets_events_in_position_order() {
    each_backend(async |db| {
        let store = db.open().await;
        let first = three();
        append(&store, &first, at(NOW)).await.unwrap();
        let second = [
            event("e-4", "T-2", "2026-11-24T08:00:00Z", "comment"),
            event("e-5", "T-1", "2026-11-24T10:10:00Z", "solved"),
        ];
        append(&store, &second, at(LATER)).await.unwrap();

        // Position order, even where the events happened in another order.
        assert_eq!(
            store.ticket_events("T-1").await.unwrap(),
            [
                first[0].stored(1, at(NOW)),
                first[1].stored(2, at(NOW)),
                second[1].stored(5, at(LATER))
            ]
        );
        assert_eq!(
            store.ticket_events("T-2").await.unwrap(),
            [first[2].stored(3, at(NOW)), second[0].stored(4, at(LATER))]
        );
        assert_eq!(store.ticket_events("T-404").await.unwrap(), []);
        // Ticket ids are matched exactly.
        assert_eq!(store.ticket_events("t-1").await.unwrap(), []);
    })
    .await;
}

#[tokio::test]
async fn events_after_pages_through_the_log() {
    each_backend(async |db| {
        let store = db.open().await;
        let events = comments("c", 0..25);
        append(&store, &events, at(NOW)).await.unwrap();

        let mut pages = Vec::new();
        let mut after = 0;
        loop {
            let page = store.events_after(after, 10).await.unwrap();
            let Some(last) = page.last() else { break };
            after = last.position;
            pages.push(page.iter().map(|event| event.position).collect::<Vec<u64>>());
        }
        assert_eq!(
            pages,
            [(1..=10).collect::<Vec<u64>>(), (11..=20).collect(), (21..=25).collect()]
        );
        assert_eq!(store.events_after(24, 10).await.unwrap(), [events[24].stored(25, at(NOW))]);
        assert_eq!(store.events_after(0, 0).await.unwrap(), []);
        assert_eq!(store.events_after(25, 10).await.unwrap(), []);
        assert_eq!(store.events_after(u64::MAX, 10).await.unwrap(), []);
    })
    .await;
}

#[tokio::test]
async fn a_large_batch_is_appended_whole_and_recognized_whole() {
    each_backend(async |db| {
        let store = db.open().await;
        let events = comments("big", 0..1200);
        assert_eq!(append(&store, &events, at(NOW)).await.unwrap(), new(1..=1200));
        assert_eq!(append(&store, &events, at(LATER)).await.unwrap(), duplicate(1..=1200));

        // A conflict at the very end refuses the new events before it, in every chunk.
        let mut batch = comments("more", 0..1100);
        batch.push(events[1199].changed());
        let error = append(&store, &batch, at(LATER)).await.unwrap_err();
        assert!(matches!(error, StoreError::EventConflict { position: Some(1200), .. }));
        assert_eq!(store.log_head().await.unwrap(), 1200);
        let expected: Vec<StoredEvent> = events
            .iter()
            .zip(1..)
            .map(|(event, position)| event.stored(position, at(NOW)))
            .collect();
        assert_eq!(log(&store).await, expected);
    })
    .await;
}

#[tokio::test]
async fn instants_are_kept_to_the_microsecond() {
    each_backend(async |db| {
        let store = db.open().await;
        let fine = event("e-1", "T-1", "2026-11-24T10:00:00.123456789Z", "created");
        let now = at("2026-11-24T12:00:00.987654321Z");
        assert_eq!(append(&store, std::slice::from_ref(&fine), now).await.unwrap(), new(1..=1));
        let stored = &log(&store).await[0];
        assert_eq!(stored.at.to_string(), "2026-11-24T10:00:00.123456Z");
        assert_eq!(stored.received_at.to_string(), "2026-11-24T12:00:00.987654Z");
        // Before the epoch too, truncated toward zero (later) like every instant in the store.
        let old = event("e-0", "T-0", "1969-07-20T20:17:40.000001999Z", "created");
        append(&store, &[old], now).await.unwrap();
        assert_eq!(
            store.ticket_events("T-0").await.unwrap()[0].at.to_string(),
            "1969-07-20T20:17:40.000002Z"
        );

        // Sent again with the same nanoseconds, it is the same event; a microsecond apart, not.
        assert_eq!(
            append(&store, std::slice::from_ref(&fine), now).await.unwrap(),
            duplicate(1..=1)
        );
        let truncated = Event { at: stored.at, ..fine.clone() };
        assert_eq!(append(&store, &[truncated], now).await.unwrap(), duplicate(1..=1));
        let apart = Event { at: fine.at + SignedDuration::from_micros(1), ..fine };
        assert!(matches!(
            append(&store, &[apart], now).await,
            Err(StoreError::EventConflict { position: Some(1), .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn the_log_survives_a_restart() {
    each_backend(async |db| {
        let store = db.open().await;
        let events = three();
        append(&store, &events, at(NOW)).await.unwrap();
        let before = log(&store).await;
        store.close().await;

        let store = db.open().await;
        assert_eq!(store.log_head().await.unwrap(), 3);
        assert_eq!(log(&store).await, before);
        // Still recognized after the restart, and appends go on from the head.
        assert_eq!(append(&store, &events, at(LATER)).await.unwrap(), duplicate(1..=3));
        let more = [event("e-4", "T-1", "2026-11-24T10:30:00Z", "solved")];
        assert_eq!(append(&store, &more, at(LATER)).await.unwrap(), new(4..=4));
        store.close().await;

        let store = db.open().await;
        assert_eq!(store.ticket_events("T-1").await.unwrap().len(), 3);
        assert_eq!(store.log_head().await.unwrap(), 4);
    })
    .await;
}

#[tokio::test]
async fn concurrent_appends_take_turns_and_lose_nothing() {
    each_backend(async |db| {
        // Two servers on one database; their deliveries overlap in events 100 to 199.
        let (one, two) = (db.open().await, db.open().await);
        let events = comments("c", 0..300);
        let deliver = async |store: &Store, events: &[Event]| {
            let mut appended = Vec::new();
            for batch in events.chunks(20) {
                appended.extend(append(store, batch, at(NOW)).await.unwrap());
            }
            appended
        };
        let (from_one, from_two) =
            tokio::join!(deliver(&one, &events[..200]), deliver(&two, &events[100..]));

        // Every event once, at gap-free positions.
        assert_eq!(one.log_head().await.unwrap(), 300);
        let logged = log(&two).await;
        assert_eq!(
            logged.iter().map(|event| event.position).collect::<Vec<u64>>(),
            (1..=300).collect::<Vec<u64>>()
        );
        let ids: BTreeSet<&str> = logged.iter().map(|event| event.id.as_str()).collect();
        assert_eq!(ids.len(), 300);
        let positions: HashMap<&str, u64> =
            logged.iter().map(|event| (event.id.as_str(), event.position)).collect();

        // Each delivery was told the position its events sit at; each shared event was new to
        // exactly one of them; each delivery's new events are in the log in its order.
        for (events, appended) in [(&events[..200], &from_one), (&events[100..], &from_two)] {
            for (event, appended) in events.iter().zip(appended.iter()) {
                assert_eq!(appended.position(), positions[event.id.as_str()]);
            }
            let new: Vec<u64> = appended
                .iter()
                .filter(|appended| matches!(appended, Appended::New { .. }))
                .map(|appended| appended.position())
                .collect();
            assert!(new.is_sorted(), "{new:?}");
        }
        for shared_idx in 100..200 {
            let n_new = [&from_one[shared_idx], &from_two[shared_idx - 100]]
                .iter()
                .filter(|appended| matches!(appended, Appended::New { .. }))
                .count();
            assert_eq!(n_new, 1, "event c-{shared_idx}");
        }
        one.close().await;
        two.close().await;
    })
    .await;
}
