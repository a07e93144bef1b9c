//! Availability observations: probe results, heartbeats, request counts and incidents.
//!
//! Probe results are not kept one row per result. Each batch goes through the same
//! [`ProbeTimeline`] the accounting reads, restored from where the source stopped; what is
//! written is what changed: an outage opened or closed, a gap in the results, the per-minute
//! latency histograms, and the source's cursor. A year of results every 30 s becomes a few
//! rows per outage plus one histogram per minute.
//!
//! The logic lives here once; each backend supplies the SQL through [`ObservationTx`], one
//! transaction per call, so a batch is recorded whole or not at all.

use accord_core::agreement::DowntimeExclusion;
use accord_core::availability::{
    Affected, Impact, Incident, LatencyHistogram, Outage, ProbeCursor, ProbeTimeline, RequestCount,
    heartbeat_outages,
};
use accord_core::calendar::TimeRange;
use jiff::{SignedDuration, Timestamp};

use crate::{Backend, Store, StoreError, to_microsecond};

/// How a probe's results become outages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeSettings {
    /// Failed results in a row, beyond the first, before the component is declared down.
    pub retries: u32,
    /// Results further apart than this leave a gap in the data (twice the interval, say).
    pub max_gap: Option<SignedDuration>,
}

/// One probe check's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeResult {
    /// When the check started.
    pub at: Timestamp,
    /// Whether it counted as up.
    pub up: bool,
    /// How long a successful check took; failures are not latencies.
    pub latency: Option<SignedDuration>,
}

/// The results of one probe to record, in any order.
#[derive(Clone, Copy, Debug)]
pub struct ProbeBatch<'a> {
    /// The probe's name.
    pub probe: &'a str,
    /// How its results become outages; the latest settings are kept.
    pub settings: ProbeSettings,
    /// Its results.
    pub results: &'a [ProbeResult],
}

/// What recording one probe's batch did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeRecorded {
    /// Results taken in.
    pub accepted: usize,
    /// Results no newer than the newest already recorded (a repeated delivery), left out.
    pub ignored: usize,
    /// Whether the component is down after the batch.
    pub down: bool,
}

/// A probe's history over a range, as the accounting reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeHistory {
    /// The outages and gaps that overlap the range, with the probe's cursor.
    pub timeline: ProbeTimeline,
    /// Latencies of the minutes in the range.
    pub latency: LatencyHistogram,
}

/// How often a heartbeat must check in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeartbeatSettings {
    /// The check-in period.
    pub every: SignedDuration,
    /// How late a check-in may come before the component counts as down.
    pub grace: SignedDuration,
}

/// The kinds of source, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SourceKind {
    Probe,
    Heartbeat,
    Requests,
}

impl SourceKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SourceKind::Probe => "probe",
            SourceKind::Heartbeat => "heartbeat",
            SourceKind::Requests => "requests",
        }
    }
}

/// A source's row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SourceRow {
    pub(crate) id: i64,
    pub(crate) retries: u32,
    /// Probe: the gap limit. Heartbeat: the period.
    pub(crate) every: Option<SignedDuration>,
    pub(crate) grace: Option<SignedDuration>,
    pub(crate) cursor: ProbeCursor,
}

/// The SQL a backend supplies, inside one transaction.
pub(crate) trait ObservationTx {
    /// The source's row, created when missing, and locked for the transaction.
    async fn source(&mut self, kind: SourceKind, name: &str) -> Result<SourceRow, StoreError>;
    /// The source's row, if it exists; nothing is created or locked.
    async fn find_source(
        &mut self,
        kind: SourceKind,
        name: &str,
    ) -> Result<Option<SourceRow>, StoreError>;
    /// Writes the source's settings and cursor.
    async fn save_source(&mut self, row: &SourceRow) -> Result<(), StoreError>;
    /// The source's outages that end after `from` (or are open) and start before `to`, by start.
    async fn outages(
        &mut self,
        source: i64,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, Option<Timestamp>)>, StoreError>;
    /// Records an outage, replacing the end of one with the same start.
    async fn put_outage(
        &mut self,
        source: i64,
        start: Timestamp,
        end: Option<Timestamp>,
    ) -> Result<(), StoreError>;
    /// The gaps that overlap the range, by start.
    async fn gaps(&mut self, source: i64, range: TimeRange) -> Result<Vec<TimeRange>, StoreError>;
    /// Records a gap (once).
    async fn put_gap(&mut self, source: i64, gap: TimeRange) -> Result<(), StoreError>;
    /// The stored latency minutes from `first` to `last`, both included.
    async fn latency_minutes(
        &mut self,
        source: i64,
        first: i64,
        last: i64,
    ) -> Result<Vec<(i64, String)>, StoreError>;
    /// Writes one minute's histogram, replacing what was stored.
    async fn put_latency_minute(
        &mut self,
        source: i64,
        minute: i64,
        counts: &str,
    ) -> Result<(), StoreError>;
    /// The request counts whose intervals start in the range, by start.
    async fn request_counts(
        &mut self,
        source: i64,
        range: TimeRange,
    ) -> Result<Vec<RequestCount>, StoreError>;
    /// Records one interval's counts, replacing those of an interval with the same start.
    async fn put_request_count(
        &mut self,
        source: i64,
        count: &RequestCount,
    ) -> Result<(), StoreError>;
    /// Records an incident, replacing one with the same id.
    async fn put_incident(
        &mut self,
        incident: &Incident,
        recorded_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The incidents that overlap the range (an ongoing one overlaps everything after its
    /// start), by start, as stored rows: the incident without its affected list, and that list
    /// as `(id, service, component)` with `""` for the whole service.
    async fn incidents(
        &mut self,
        range: TimeRange,
    ) -> Result<(Vec<Incident>, Vec<(String, String, String)>), StoreError>;
    /// Makes everything written durable.
    async fn commit(self) -> Result<(), StoreError>;
}

/// `bucket:count` pairs separated by spaces.
fn encode_counts(counts: &[(u16, u32)]) -> String {
    let pairs: Vec<String> =
        counts.iter().map(|(bucket, count)| format!("{bucket}:{count}")).collect();
    pairs.join(" ")
}

fn decode_counts(text: &str, source: &str, minute: i64) -> Result<Vec<(u16, u32)>, StoreError> {
    text.split_whitespace()
        .map(|pair| {
            pair.split_once(':')
                .and_then(|(bucket, count)| Some((bucket.parse().ok()?, count.parse().ok()?)))
                .ok_or_else(|| StoreError::Corrupt {
                    what: format!("latency counts {text:?} of {source} at minute {minute}"),
                })
        })
        .collect()
}

/// A duration as stored: whole microseconds (both databases keep a setting as `BIGINT`).
pub(crate) fn duration_micros(duration: Option<SignedDuration>) -> Option<i64> {
    duration.map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn microseconds(duration: SignedDuration) -> SignedDuration {
    SignedDuration::from_micros(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX))
}

async fn record_probe<T: ObservationTx>(
    tx: &mut T,
    batch: &ProbeBatch<'_>,
) -> Result<ProbeRecorded, StoreError> {
    let mut row = tx.source(SourceKind::Probe, batch.probe).await?;
    row.retries = batch.settings.retries;
    row.every = batch.settings.max_gap.map(microseconds);
    let open = match row.cursor.last {
        Some(last) => {
            let open = tx.outages(row.id, last, Timestamp::MAX).await?;
            open.into_iter().filter(|(_, end)| end.is_none()).collect()
        }
        None => Vec::new(),
    };
    let mut timeline =
        ProbeTimeline::restore(row.retries, row.every, row.cursor, &open, Vec::new());
    let mut results: Vec<ProbeResult> = batch
        .results
        .iter()
        .map(|result| ProbeResult { at: to_microsecond(result.at), ..*result })
        .collect();
    results.sort_by_key(|result| result.at);
    let mut recorded = ProbeRecorded { accepted: 0, ignored: 0, down: false };
    let mut latency = LatencyHistogram::default();
    for result in &results {
        if timeline.last().is_some_and(|last| result.at <= last) {
            recorded.ignored += 1;
            continue;
        }
        recorded.accepted += 1;
        timeline.record(result.at, result.up);
        if let (true, Some(took)) = (result.up, result.latency) {
            latency.record(result.at, took);
        }
    }
    recorded.down = timeline.is_down();
    for (start, end) in timeline.intervals() {
        tx.put_outage(row.id, start, end).await?;
    }
    for gap in timeline.recorded_gaps() {
        tx.put_gap(row.id, *gap).await?;
    }
    let minutes: Vec<(i64, &[(u16, u32)])> = latency.minutes().collect();
    if let (Some((first, _)), Some((last, _))) = (minutes.first(), minutes.last()) {
        let mut merged = LatencyHistogram::default();
        // Only the minute of the newest result recorded before may already have counts.
        let stored_until = row.cursor.last.map_or(i64::MIN, |at| at.as_second().div_euclid(60));
        let stored = if *first <= stored_until {
            tx.latency_minutes(row.id, *first, (*last).min(stored_until)).await?
        } else {
            Vec::new()
        };
        for (minute, text) in stored {
            merged.add(minute, &decode_counts(&text, batch.probe, minute)?);
        }
        for (minute, counts) in &minutes {
            merged.add(*minute, counts);
        }
        for (minute, counts) in merged.minutes() {
            tx.put_latency_minute(row.id, minute, &encode_counts(counts)).await?;
        }
    }
    row.cursor = timeline.cursor();
    tx.save_source(&row).await?;
    Ok(recorded)
}

async fn probe_history<T: ObservationTx>(
    tx: &mut T,
    probe: &str,
    range: TimeRange,
    with_latency: bool,
) -> Result<Option<ProbeHistory>, StoreError> {
    let Some(row) = tx.find_source(SourceKind::Probe, probe).await? else { return Ok(None) };
    let outages = tx.outages(row.id, range.start(), range.end()).await?;
    let gaps = tx.gaps(row.id, range).await?;
    let timeline = ProbeTimeline::restore(row.retries, row.every, row.cursor, &outages, gaps);
    let mut latency = LatencyHistogram::default();
    if with_latency {
        let first = range.start().as_second().div_euclid(60);
        let last = (range.end().as_second() - 1).div_euclid(60);
        for (minute, text) in tx.latency_minutes(row.id, first, last).await? {
            latency.add(minute, &decode_counts(&text, probe, minute)?);
        }
    }
    Ok(Some(ProbeHistory { timeline, latency }))
}

async fn record_heartbeats<T: ObservationTx>(
    tx: &mut T,
    name: &str,
    settings: HeartbeatSettings,
    beats: &[Timestamp],
) -> Result<usize, StoreError> {
    let mut row = tx.source(SourceKind::Heartbeat, name).await?;
    row.every = Some(microseconds(settings.every));
    row.grace = Some(microseconds(settings.grace));
    let mut beats: Vec<Timestamp> = beats.iter().copied().map(to_microsecond).collect();
    beats.sort();
    let mut accepted = 0;
    for beat in beats {
        let Some(last) = row.cursor.last else {
            row.cursor.first = Some(beat);
            row.cursor.last = Some(beat);
            accepted += 1;
            continue;
        };
        if beat <= last {
            continue;
        }
        accepted += 1;
        // A late check-in closes the outage that started when it was due.
        if let Some(span) = TimeRange::new(last, beat) {
            for outage in heartbeat_outages(&[], settings.every, settings.grace, last, span) {
                tx.put_outage(row.id, outage.range.start(), Some(outage.range.end())).await?;
            }
        }
        row.cursor.last = Some(beat);
    }
    tx.save_source(&row).await?;
    Ok(accepted)
}

async fn heartbeat_history<T: ObservationTx>(
    tx: &mut T,
    name: &str,
    range: TimeRange,
    as_of: Timestamp,
) -> Result<Option<Vec<Outage>>, StoreError> {
    let Some(row) = tx.find_source(SourceKind::Heartbeat, name).await? else { return Ok(None) };
    let (Some(last), Some(every)) = (row.cursor.last, row.every) else { return Ok(None) };
    let clip = |start: Timestamp, end: Timestamp| {
        TimeRange::new(start.max(range.start()), end.min(range.end()))
            .filter(|span| span.start() < span.end())
    };
    let mut outages: Vec<Outage> = tx
        .outages(row.id, range.start(), range.end())
        .await?
        .into_iter()
        .filter_map(|(start, end)| clip(start, end.unwrap_or(range.end())))
        .map(|range| Outage { range, impact: Impact::Major })
        .collect();
    // Late now: down since the check-in was due, as of the instant asked about.
    let grace = row.grace.unwrap_or(SignedDuration::ZERO);
    if let Some(since_last) = TimeRange::new(last, as_of.max(last)) {
        for outage in heartbeat_outages(&[], every, grace, last, since_last) {
            if let Some(span) = clip(outage.range.start(), outage.range.end()) {
                outages.push(Outage { range: span, impact: Impact::Major });
            }
        }
    }
    Ok(Some(outages))
}

async fn incidents<T: ObservationTx>(
    tx: &mut T,
    range: TimeRange,
) -> Result<Vec<Incident>, StoreError> {
    let (mut incidents, affects) = tx.incidents(range).await?;
    for incident in &mut incidents {
        incident.affected = affects
            .iter()
            .filter(|(id, _, _)| *id == incident.id)
            .map(|(_, service, component)| Affected {
                service: service.clone(),
                component: (!component.is_empty()).then(|| component.clone()),
            })
            .collect();
    }
    Ok(incidents)
}

/// An impact as stored.
pub(crate) fn stored_impact(word: &str, incident: &str) -> Result<Impact, StoreError> {
    Impact::parse(word).ok_or_else(|| StoreError::Corrupt {
        what: format!("impact {word:?} of incident {incident}"),
    })
}

/// An exclusion category as stored.
pub(crate) fn stored_exclusion(
    word: Option<String>,
    reason: String,
    incident: &str,
) -> Result<Option<(DowntimeExclusion, String)>, StoreError> {
    match word {
        None => Ok(None),
        Some(word) => match DowntimeExclusion::parse(&word) {
            Some(category) => Ok(Some((category, reason))),
            None => Err(StoreError::Corrupt {
                what: format!("exclusion {word:?} of incident {incident}"),
            }),
        },
    }
}

/// Runs `$body` with `$tx` bound to a new transaction of whichever backend the store has
/// (`$begin` is `observe` to write, `read` to read), committing when `$body` succeeds.
macro_rules! in_transaction {
    ($store:expr, $begin:ident, |$tx:ident| $body:expr) => {
        match &$store.backend {
            Backend::Sqlite(store) => {
                let mut $tx = store.$begin().await?;
                let out = $body;
                $tx.commit().await?;
                Ok(out)
            }
            Backend::Postgres(store) => {
                let mut $tx = store.$begin().await?;
                let out = $body;
                $tx.commit().await?;
                Ok(out)
            }
        }
    };
}

impl Store {
    /// Records probe results, batch by batch, in one transaction: each probe's timeline goes
    /// on from where it stopped; outages, gaps, latency minutes and the cursor are written.
    /// Results no newer than a probe's newest recorded result are left out, so delivering a
    /// batch twice changes nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] or [`StoreError::Conflict`]; nothing was written.
    pub async fn record_probe_results(
        &self,
        batches: &[ProbeBatch<'_>],
    ) -> Result<Vec<ProbeRecorded>, StoreError> {
        in_transaction!(self, observe, |tx| {
            let mut recorded = Vec::with_capacity(batches.len());
            for batch in batches {
                recorded.push(record_probe(&mut tx, batch).await?);
            }
            recorded
        })
    }

    /// A probe's outages and gaps that overlap `range`, and, `with_latency`, its latencies in
    /// the range (one histogram per minute: a month is 43,200 rows, so ask only when a latency
    /// objective needs them); `None` when nothing of the probe was ever recorded.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unreadable histogram.
    pub async fn probe_history(
        &self,
        probe: &str,
        range: TimeRange,
        with_latency: bool,
    ) -> Result<Option<ProbeHistory>, StoreError> {
        in_transaction!(self, read, |tx| probe_history(&mut tx, probe, range, with_latency).await?)
    }

    /// Records a heartbeat's check-ins: a check-in later than the period and grace after the
    /// previous one records an outage from when it was due. Returns how many were new.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] or [`StoreError::Conflict`]; nothing was written.
    pub async fn record_heartbeats(
        &self,
        name: &str,
        settings: HeartbeatSettings,
        beats: &[Timestamp],
    ) -> Result<usize, StoreError> {
        in_transaction!(self, observe, |tx| record_heartbeats(&mut tx, name, settings, beats)
            .await?)
    }

    /// A heartbeat's outages in `range`, including the one going on at `as_of` when the
    /// heartbeat is late then; `None` when it never checked in.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn heartbeat_outages(
        &self,
        name: &str,
        range: TimeRange,
        as_of: Timestamp,
    ) -> Result<Option<Vec<Outage>>, StoreError> {
        in_transaction!(self, read, |tx| heartbeat_history(&mut tx, name, range, as_of).await?)
    }

    /// Records request counts of one source; an interval pushed again replaces the first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] (for example, more good requests than total); nothing was
    /// written.
    pub async fn record_request_counts(
        &self,
        source: &str,
        counts: &[RequestCount],
    ) -> Result<(), StoreError> {
        in_transaction!(self, observe, |tx| {
            let row = tx.source(SourceKind::Requests, source).await?;
            for count in counts {
                let range = TimeRange::new(
                    to_microsecond(count.range.start()),
                    to_microsecond(count.range.end()),
                )
                .unwrap_or(count.range);
                tx.put_request_count(row.id, &RequestCount { range, ..*count }).await?;
            }
        })
    }

    /// The request counts of a source whose intervals start in `range`, by start.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`].
    pub async fn request_counts(
        &self,
        source: &str,
        range: TimeRange,
    ) -> Result<Vec<RequestCount>, StoreError> {
        in_transaction!(self, read, |tx| {
            match tx.find_source(SourceKind::Requests, source).await? {
                Some(row) => tx.request_counts(row.id, range).await?,
                None => Vec::new(),
            }
        })
    }

    /// Records incidents; one recorded again by id replaces the first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] (for example, an incident that affects nothing); nothing was
    /// written.
    pub async fn record_incidents(
        &self,
        incidents: &[Incident],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        in_transaction!(self, observe, |tx| {
            for incident in incidents {
                if incident.affected.is_empty() {
                    return Err(StoreError::Invalid {
                        what: format!("incident {} affects nothing", incident.id),
                    });
                }
                let stored = Incident {
                    start: to_microsecond(incident.start),
                    end: incident.end.map(to_microsecond),
                    ..incident.clone()
                };
                tx.put_incident(&stored, to_microsecond(now)).await?;
            }
        })
    }

    /// The incidents that overlap `range`, by start.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`], or [`StoreError::Corrupt`] for an unknown impact.
    pub async fn incidents(&self, range: TimeRange) -> Result<Vec<Incident>, StoreError> {
        in_transaction!(self, read, |tx| incidents(&mut tx, range).await?)
    }
}
