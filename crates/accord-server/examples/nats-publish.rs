//! Publishes synthetic ticket events to NATS JetStream for `scripts/bench-nats`: tickets of
//! four events each (created, an agent's comment, a status change, solved), in messages of
//! JSON arrays, as `accord serve --nats` consumes them.
//!
//! ```sh
//! cargo run --release --example nats-publish -- nats://127.0.0.1:4222 STREAM SUBJECT EVENTS [PER_MESSAGE]
//! cargo run --release --example nats-publish -- nats://127.0.0.1:4222 STREAM --delete
//! ```
//!
//! The stream is created as the server creates it (file storage, work-queue retention, the
//! subject and `SUBJECT` with its last token replaced by `probe-results`) when it is missing.

use async_nats::jetstream::{self, stream};
use serde_json::{Value, json};

fn event(n: u64) -> Value {
    let ticket = format!("T-{}", n / 4);
    let at = format!("2026-11-02T09:{:02}:00Z", n % 4 * 7);
    let id = format!("e-{n}");
    match n % 4 {
        0 => json!({"id": id, "ticket": ticket, "type": "created", "at": at, "customer": "acme",
                    "service": "service-desk", "priority": "P2"}),
        1 => json!({"id": id, "ticket": ticket, "type": "comment", "at": at, "author": "agent"}),
        2 => json!({"id": id, "ticket": ticket, "type": "updated", "at": at,
                    "status": "waiting_on_customer"}),
        _ => json!({"id": id, "ticket": ticket, "type": "solved", "at": at}),
    }
}

#[expect(clippy::print_stdout, reason = "a benchmark tool reports what it did")]
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: nats-publish URL STREAM SUBJECT EVENTS [PER_MESSAGE] | URL STREAM --delete";
    let [url, stream_name, rest @ ..] = args.as_slice() else { anyhow::bail!(usage) };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let context = jetstream::new(async_nats::connect(url.as_str()).await?);
        if rest.first().map(String::as_str) == Some("--delete") {
            context.delete_stream(stream_name).await?;
            return Ok(());
        }
        let [subject, n_events, per_message @ ..] = rest else { anyhow::bail!(usage) };
        let n_events: u64 = n_events.parse()?;
        let per_message: u64 = per_message.first().map_or(Ok(1000), |n| n.parse())?;
        let probe_results = format!(
            "{}.probe-results",
            subject.rsplit_once('.').map_or("accord", |(base, _)| base)
        );
        context
            .get_or_create_stream(stream::Config {
                name: stream_name.clone(),
                subjects: vec![subject.clone(), probe_results],
                storage: stream::StorageType::File,
                retention: stream::RetentionPolicy::WorkQueue,
                ..Default::default()
            })
            .await?;
        let started = std::time::Instant::now();
        let mut stored = Vec::new();
        for first in (0..n_events).step_by(usize::try_from(per_message)?) {
            let events: Vec<Value> =
                (first..(first + per_message).min(n_events)).map(event).collect();
            stored
                .push(context.publish(subject.clone(), serde_json::to_vec(&events)?.into()).await?);
            if stored.len() >= 64 {
                for ack in stored.drain(..) {
                    ack.await?;
                }
            }
        }
        for ack in stored {
            ack.await?;
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "published {n_events} events in {seconds:.1} s ({:.0} events/s)",
            n_events as f64 / seconds
        );
        Ok(())
    })
}
