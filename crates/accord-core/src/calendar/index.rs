//! The business-time index: open time as sorted instants, cut into fixed chunks.
//!
//! A calendar's business time is a monotone, piecewise-linear function of the instant: it grows
//! at one second per second while the calendar is open and stands still while it is closed.
//! This module stores that function so that a query is a binary search plus arithmetic.
//!
//! The horizon (1900 to 2200) is cut into chunks of `CHUNK_LEN` seconds of real time.
//! A chunk is built the first time a query touches it, from the weekly hours, the day
//! exceptions and the zone, and never changes afterwards.
//! Inside a chunk, positions are `u32` seconds from the chunk's start, which keeps a chunk of a
//! Monday-to-Friday calendar near 1.7 KiB.

use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::{Date, Time};

use super::{DayException, WeeklyHours};

/// Seconds of real time in one chunk (2^24 s, about 194 days).
pub(super) const CHUNK_LEN: i64 = 1 << 24;
/// `1900-01-01T00:00:00Z`, the first instant the index covers.
pub(super) const HORIZON_START: i64 = -2_208_988_800;
/// `2200-01-01T00:00:00Z`, the last instant the index answers for. The last chunk reaches
/// past it, so results beyond it are cut off by the queries.
pub(super) const HORIZON_END: i64 = 7_258_118_400;
/// [`HORIZON_END`] as an instant: no query answers with a later one.
pub(super) fn horizon_end() -> Timestamp {
    Timestamp::from_second(HORIZON_END).expect("horizon end is valid")
}

const N_CHUNKS: usize = ((HORIZON_END - HORIZON_START + CHUNK_LEN - 1) / CHUNK_LEN) as usize;

/// One chunk's open intervals and their running business-time total.
#[derive(Debug, Default)]
pub(super) struct Chunk {
    // Invariant: sorted, non-overlapping and non-adjacent (merged), each start < end,
    // all within 0..=CHUNK_LEN. `starts` and `ends` have the same length n.
    starts: Vec<u32>,
    ends: Vec<u32>,
    // Invariant: n + 1 entries; `cum[i]` is the business time before interval i,
    // `cum[n]` the chunk's total.
    cum: Vec<u32>,
}

/// Where an instant falls: its chunk, its whole second inside the chunk, and the rest.
#[derive(Clone, Copy, Debug)]
pub(super) struct Position {
    pub(super) chunk_idx: usize,
    pub(super) offset: u32,
    pub(super) nanos: u32,
}

impl Position {
    /// Splits a timestamp, or `None` outside the horizon (which includes its end instant).
    #[inline]
    pub(super) fn of(t: Timestamp) -> Option<Position> {
        let mut second = t.as_second();
        let mut nanos = t.subsec_nanosecond();
        // Before 1970, jiff reports a negative fraction: move it into [0, 1 s).
        if nanos < 0 {
            second -= 1;
            nanos += 1_000_000_000;
        }
        if !(HORIZON_START..=HORIZON_END).contains(&second) || (second == HORIZON_END && nanos > 0)
        {
            return None;
        }
        let from_start = second - HORIZON_START;
        Some(Position {
            chunk_idx: (from_start / CHUNK_LEN) as usize,
            offset: (from_start % CHUNK_LEN) as u32,
            nanos: nanos as u32,
        })
    }

    pub(super) fn to_timestamp(chunk_idx: usize, offset: u64, nanos: u32) -> Timestamp {
        let second = HORIZON_START + chunk_idx as i64 * CHUNK_LEN + offset as i64;
        Timestamp::new(second, nanos as i32).expect("instant inside the horizon is valid")
    }
}

impl Chunk {
    /// Business seconds in the whole chunk.
    #[inline]
    pub(super) fn total(&self) -> u32 {
        *self.cum.last().expect("cum has n + 1 entries")
    }

    /// Business seconds from the chunk's start to `offset`, and whether the second starting at
    /// `offset` is open.
    #[inline]
    pub(super) fn business_before(&self, offset: u32) -> (u32, bool) {
        let n_started = self.starts.partition_point(|&start| start <= offset);
        if n_started == 0 {
            return (0, false);
        }
        let idx = n_started - 1;
        let end = self.ends[idx];
        if offset < end {
            (self.cum[idx] + (offset - self.starts[idx]), true)
        } else {
            (self.cum[idx + 1], false)
        }
    }

    /// The earliest offset at which `target` business seconds (plus `nanos`) have passed since
    /// the chunk's start. The caller guarantees `0 < target + nanos <= total`.
    #[inline]
    pub(super) fn offset_after(&self, target: u32, nanos: u32) -> u32 {
        // With a fraction left over, the interval must end strictly after `target`.
        let key = target + u32::from(nanos > 0);
        let idx = self.cum[1..].partition_point(|&after| after < key);
        self.starts[idx] + (target - self.cum[idx])
    }

    /// The first open interval starting at or after `offset`, as `(start, end)`.
    #[inline]
    pub(super) fn interval_from(&self, offset: u32) -> Option<(u32, u32)> {
        let idx = self.starts.partition_point(|&start| start < offset);
        (idx < self.starts.len()).then(|| (self.starts[idx], self.ends[idx]))
    }

    /// The open interval containing `offset`, as `(start, end)`.
    #[inline]
    pub(super) fn interval_at(&self, offset: u32) -> Option<(u32, u32)> {
        let n_started = self.starts.partition_point(|&start| start <= offset);
        let idx = n_started.checked_sub(1)?;
        (offset < self.ends[idx]).then(|| (self.starts[idx], self.ends[idx]))
    }

    /// The open intervals, in order.
    pub(super) fn intervals(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.starts.iter().copied().zip(self.ends.iter().copied())
    }

    pub(super) fn heap_bytes(&self) -> usize {
        (self.starts.capacity() + self.ends.capacity() + self.cum.capacity()) * size_of::<u32>()
    }
}

/// The lazily built chunks of one calendar.
pub(super) struct Index {
    chunks: Box<[OnceLock<Box<Chunk>>]>,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n_built = self.chunks.iter().filter(|chunk| chunk.get().is_some()).count();
        f.debug_struct("Index").field("n_built", &n_built).finish()
    }
}

impl Index {
    pub(super) fn new() -> Index {
        Index { chunks: (0..N_CHUNKS).map(|_| OnceLock::new()).collect() }
    }

    pub(super) const fn n_chunks() -> usize {
        N_CHUNKS
    }

    #[inline]
    pub(super) fn chunk(&self, chunk_idx: usize, rules: &Rules<'_>) -> &Chunk {
        self.chunks[chunk_idx].get_or_init(|| Box::new(build_chunk(chunk_idx, rules)))
    }

    pub(super) fn heap_bytes(&self) -> usize {
        let slots = self.chunks.len() * size_of::<OnceLock<Box<Chunk>>>();
        let built: usize = self
            .chunks
            .iter()
            .filter_map(|chunk| chunk.get())
            .map(|chunk| size_of::<Chunk>() + chunk.heap_bytes())
            .sum();
        slots + built
    }
}

/// What a chunk is built from.
#[derive(Clone, Copy, Debug)]
pub(super) struct Rules<'a> {
    pub(super) zone: &'a jiff::tz::TimeZone,
    pub(super) weekly: &'a WeeklyHours,
    pub(super) exceptions: &'a [DayException],
}

impl Rules<'_> {
    /// Turns a local wall-clock time on `date` into an instant: a time in a gap moves forward by
    /// the gap's length, and a repeated time takes its first occurrence (RFC 5545, jiff's
    /// `Disambiguation::Compatible`).
    fn instant(&self, date: Date, second_of_day: u32) -> i64 {
        let (date, second_of_day) = if second_of_day == 86_400 {
            (date.tomorrow().expect("date inside the horizon has a successor"), 0)
        } else {
            (date, second_of_day)
        };
        let time = Time::new(
            (second_of_day / 3600) as i8,
            (second_of_day / 60 % 60) as i8,
            (second_of_day % 60) as i8,
            0,
        )
        .expect("second of day below 86400 is a valid time");
        self.zone
            .to_ambiguous_timestamp(date.to_datetime(time))
            .compatible()
            .expect("local time inside the horizon converts")
            .as_second()
    }
}

fn build_chunk(chunk_idx: usize, rules: &Rules<'_>) -> Chunk {
    let chunk_start = HORIZON_START + chunk_idx as i64 * CHUNK_LEN;
    let chunk_end = chunk_start + CHUNK_LEN;
    // Zone offsets stay within a day of UTC, so two days of margin cover every local date
    // whose hours can reach into the chunk.
    let utc_date = |second: i64| {
        Timestamp::from_second(second)
            .expect("instant inside the horizon")
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    };
    let first_date = utc_date(chunk_start - 2 * 86_400);
    let last_date = utc_date(chunk_end + 2 * 86_400);
    let exceptions = super::exceptions_between(rules.exceptions, first_date, last_date);

    let mut raw: Vec<(i64, i64)> = Vec::new();
    let mut date = first_date;
    while date <= last_date {
        let hours = match exceptions.get(&date) {
            Some(exception) => exception.hours(),
            None => rules.weekly.on(date.weekday()),
        };
        for interval in hours {
            let start = rules.instant(date, interval.start_second());
            let end = rules.instant(date, interval.end_second());
            // An interval that ends inside a DST gap can collapse to nothing.
            let (start, end) = (start.max(chunk_start), end.min(chunk_end));
            if start < end {
                raw.push((start, end));
            }
        }
        date = date.tomorrow().expect("date inside the horizon has a successor");
    }
    raw.sort_unstable();

    let mut chunk = Chunk::default();
    let mut total = 0u32;
    chunk.cum.push(0);
    for (start, end) in raw {
        let (start, end) = ((start - chunk_start) as u32, (end - chunk_start) as u32);
        match chunk.ends.last_mut() {
            // Overlapping or touching the previous interval: extend it.
            Some(last_end) if start <= *last_end => {
                if end > *last_end {
                    total += end - *last_end;
                    *last_end = end;
                    *chunk.cum.last_mut().expect("cum is never empty") = total;
                }
            }
            _ => {
                chunk.starts.push(start);
                chunk.ends.push(end);
                total += end - start;
                chunk.cum.push(total);
            }
        }
    }
    chunk.starts.shrink_to_fit();
    chunk.ends.shrink_to_fit();
    chunk.cum.shrink_to_fit();
    chunk
}
