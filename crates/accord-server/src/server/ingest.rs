//! Ticket events into the log, durably and many requests at a time.
//!
//! A request is answered only once its events are committed, and a commit waits for the disk
//! (SQLite `synchronous=FULL`). One commit per request would cap the server at the disk's
//! flush rate; instead one writer task takes every request waiting when it is free and appends
//! them in one transaction (group commit), then answers each. A batch refused because one
//! request reuses an event id with other content is retried request by request, so only that
//! request fails.

use std::sync::Arc;

use accord_store::{Appended, NewEvent, Store, StoreError};
use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};

/// One event, serialized, as a request hands it to the writer.
#[derive(Clone, Debug)]
pub struct OwnedEvent {
    /// Its id.
    pub id: String,
    /// Its ticket.
    pub ticket: String,
    /// When it happened.
    pub at: Timestamp,
    /// Its type (`created`, `comment`, ...).
    pub kind: &'static str,
    /// The event as canonical JSON.
    pub body: String,
}

struct Job {
    events: Vec<OwnedEvent>,
    reply: oneshot::Sender<Result<Vec<Appended>, StoreError>>,
}

/// Why events were not appended.
#[derive(Debug)]
pub enum IngestError {
    /// The store refused them or failed.
    Store(StoreError),
    /// The writer has stopped: the server is shutting down.
    Stopped,
}

/// The most events one transaction takes from waiting requests.
const MAX_GROUP: usize = 20_000;

/// The handle requests append through.
#[derive(Clone, Debug)]
pub struct Ingest {
    jobs: mpsc::Sender<Job>,
}

impl Ingest {
    /// Starts the writer task over `store`; it ends when every handle is dropped, after
    /// answering what it holds. `appended` is signalled after each commit.
    pub fn start(
        store: Arc<Store>,
        appended: Arc<tokio::sync::Notify>,
    ) -> (Ingest, tokio::task::JoinHandle<()>) {
        let (jobs, receiver) = mpsc::channel(4096);
        let writer = tokio::spawn(write(store, receiver, appended));
        (Ingest { jobs }, writer)
    }

    /// Appends the events of one request; returns once they are durable.
    ///
    /// # Errors
    ///
    /// What the store says (an id reused with other content, a database failure), or
    /// [`IngestError::Stopped`] when the writer is gone.
    pub async fn append(&self, events: Vec<OwnedEvent>) -> Result<Vec<Appended>, IngestError> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { events, reply }).await.map_err(|_| IngestError::Stopped)?;
        answer.await.map_err(|_| IngestError::Stopped)?.map_err(IngestError::Store)
    }
}

async fn write(
    store: Arc<Store>,
    mut receiver: mpsc::Receiver<Job>,
    appended: Arc<tokio::sync::Notify>,
) {
    while let Some(first) = receiver.recv().await {
        let mut group = vec![first];
        let mut n_events = group[0].events.len();
        while n_events < MAX_GROUP {
            match receiver.try_recv() {
                Ok(job) => {
                    n_events += job.events.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        append_group(&store, group).await;
        appended.notify_one();
    }
}

fn new_events(events: &[OwnedEvent]) -> Vec<NewEvent<'_>> {
    events
        .iter()
        .map(|event| NewEvent {
            id: &event.id,
            ticket: &event.ticket,
            at: event.at,
            kind: event.kind,
            body: &event.body,
        })
        .collect()
}

async fn append_group(store: &Store, group: Vec<Job>) {
    let now = Timestamp::now();
    if group.len() > 1 {
        let all: Vec<NewEvent<'_>> = group.iter().flat_map(|job| new_events(&job.events)).collect();
        let appended = store.append_events(&all, now).await;
        // On an error (one request's conflict, two requests carrying the same event with
        // different content, a failure) each request is tried alone for its own answer.
        if let Ok(appended) = appended {
            let mut rest = appended.as_slice();
            for job in group {
                let (mine, others) = rest.split_at(job.events.len());
                rest = others;
                let _ = job.reply.send(Ok(mine.to_vec()));
            }
            return;
        }
    }
    for job in group {
        let result = store.append_events(&new_events(&job.events), now).await;
        let _ = job.reply.send(result);
    }
}
