//! Business calendars and business-time arithmetic.
//!
//! A [`BusinessCalendar`] says when a service desk is open: weekly hours in local wall-clock
//! time, in an IANA time zone, minus holidays, plus extra working days.
//! Everything Accord measures in business hours (response and resolution deadlines, elapsed
//! time, escalation thresholds) is computed here.
//!
//! # Semantics
//!
//! - **Business time** is the union of the open intervals of every local date, each interval
//!   turned into instants in the calendar's zone. An interval belongs to the date it starts on:
//!   a holiday on 24 December closes `22:00-24:00` on the 24th, not `00:00-06:00` on the 25th.
//! - **Wall clock to instant** takes the first occurrence of a repeated time (the autumn fold)
//!   and moves a time inside a gap (the spring gap) forward by the gap's length: RFC 5545's rule,
//!   jiff's `Disambiguation::Compatible`. On a 24x7 calendar, DST days simply have 23 h or 25 h.
//! - [`BusinessCalendar::elapsed`]`(s, e)` is the business time in `[s, e)`; negative when
//!   `e < s`.
//! - [`BusinessCalendar::deadline`]`(s, d)` is the **earliest** instant `t >= s` with
//!   `elapsed(s, t) == d`. A deadline that uses up a working period exactly lands on that
//!   period's closing time (17:30), not on the next opening: at 17:30 the time is spent, and a
//!   breach test is `elapsed >= target`.
//! - Resolution is the nanosecond; open intervals begin and end on whole seconds.
//! - Queries work from 1900-01-01T00:00:00Z up to and including 2200-01-01T00:00:00Z (the
//!   *horizon*); outside it they return [`QueryError`], and no answer lies beyond it.
//!
//! # Worked examples
//!
//! A deadline that uses up the day lands on the closing time, and one that does not carries
//! over Good Friday, the weekend (with the spring DST change) and Easter Monday:
//!
//! ```
//! use accord_core::calendar::{BusinessCalendar, DayException, DateRule, WeeklyHours};
//! use accord_core::DayInterval;
//! use jiff::{SignedDuration, Timestamp, civil::date};
//!
//! let office = DayInterval::parse("09:00-17:30").unwrap();
//! let weekly = WeeklyHours::weekdays(vec![office]).unwrap();
//! let holidays = ["2024-03-29", "2024-04-01"]
//!     .map(|day| DayException::holiday("Easter", DateRule::Date(day.parse().unwrap())));
//! let berlin = BusinessCalendar::new(jiff::tz::db().get("Europe/Berlin").unwrap(), weekly, holidays.to_vec());
//!
//! // Thursday 17:00 CET: 30 minutes of business time are left that day.
//! let start: Timestamp = "2024-03-28T16:00:00Z".parse().unwrap();
//! let spent = berlin.deadline(start, SignedDuration::from_mins(30)).unwrap();
//! assert_eq!(spent.to_string(), "2024-03-28T16:30:00Z"); // 17:30 CET, the closing time
//! let next = berlin.deadline(start, SignedDuration::from_hours(1)).unwrap();
//! assert_eq!(next.to_string(), "2024-04-02T07:30:00Z"); // Tuesday 09:30 CEST
//! assert_eq!(berlin.elapsed(start, next).unwrap(), SignedDuration::from_hours(1));
//! ```
//!
//! A time inside the spring gap moves forward, and a repeated autumn time takes its first
//! occurrence. Lord Howe Island shifts by 30 minutes:
//!
//! ```
//! use accord_core::calendar::{BusinessCalendar, WeeklyHours};
//! use accord_core::DayInterval;
//! use jiff::{SignedDuration, Timestamp};
//!
//! // Opening at 02:00 on the first Sunday of October 2025, when 02:00 does not exist: the
//! // calendar opens at 02:30 LHDT (+11:00), the instant 2025-10-04T15:30Z.
//! let night = DayInterval::parse("02:00-04:00").unwrap();
//! let weekly = WeeklyHours::every_day(vec![night]).unwrap();
//! let lord_howe = BusinessCalendar::new(jiff::tz::db().get("Australia/Lord_Howe").unwrap(), weekly, vec![]);
//! let saturday_noon: Timestamp = "2025-10-04T01:00:00Z".parse().unwrap();
//! assert_eq!(
//!     lord_howe.next_open(saturday_noon).unwrap().unwrap().to_string(),
//!     "2025-10-04T15:30:00Z",
//! );
//! // 02:30 to 04:00 LHDT: 90 minutes of business time that night instead of 120.
//! let sunday_noon: Timestamp = "2025-10-05T01:00:00Z".parse().unwrap();
//! assert_eq!(
//!     lord_howe.elapsed(saturday_noon, sunday_noon).unwrap(),
//!     SignedDuration::from_mins(90),
//! );
//! ```
//!
//! Where local midnight does not exist (São Paulo started DST at 00:00 until 2018), a day that
//! opens at midnight opens at 01:00:
//!
//! ```
//! use accord_core::calendar::{BusinessCalendar, WeeklyHours};
//! use accord_core::DayInterval;
//! use jiff::Timestamp;
//!
//! let morning = DayInterval::parse("00:00-06:00").unwrap();
//! let weekly = WeeklyHours::every_day(vec![morning]).unwrap();
//! let sao_paulo = BusinessCalendar::new(jiff::tz::db().get("America/Sao_Paulo").unwrap(), weekly, vec![]);
//! // 2018-11-04 00:00 -03 became 01:00 -02 (03:00Z): opening at 01:00 -02.
//! let before: Timestamp = "2018-11-04T00:00:00Z".parse().unwrap();
//! assert_eq!(sao_paulo.next_open(before).unwrap().unwrap().to_string(), "2018-11-04T03:00:00Z");
//! ```
//!
//! An overnight shift is written as `22:00-24:00` on one day and `00:00-06:00` on the next;
//! across the autumn change in Berlin, the Saturday-to-Sunday night has nine real hours:
//!
//! ```
//! use accord_core::calendar::{BusinessCalendar, WeeklyHours};
//! use accord_core::DayInterval;
//! use jiff::{SignedDuration, Timestamp};
//!
//! let evening = DayInterval::parse("22:00-24:00").unwrap();
//! let morning = DayInterval::parse("00:00-06:00").unwrap();
//! let weekly = WeeklyHours::every_day(vec![morning, evening]).unwrap();
//! let night_shift = BusinessCalendar::new(jiff::tz::db().get("Europe/Berlin").unwrap(), weekly, vec![]);
//! // Saturday 25 October 2025, 22:00 CEST (20:00Z) to Sunday 06:00 CET (05:00Z).
//! let start: Timestamp = "2025-10-25T20:00:00Z".parse().unwrap();
//! let end: Timestamp = "2025-10-26T05:00:00Z".parse().unwrap();
//! assert_eq!(night_shift.elapsed(start, end).unwrap(), SignedDuration::from_hours(9));
//! assert_eq!(night_shift.deadline(start, SignedDuration::from_hours(9)).unwrap(), end);
//! assert_eq!(night_shift.next_close(start).unwrap().unwrap(), end);
//! ```
//!
//! # How it is fast
//!
//! Each calendar keeps an index of its open intervals as instants, built lazily in chunks of
//! about 194 days, with the running total of business seconds. `elapsed` is two binary
//! searches and a subtraction; `deadline` is one binary search on the running totals. No query
//! walks days or minutes, except across chunks for spans longer than a chunk.

mod index;
#[cfg(test)]
mod proptests;
mod recurrence;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use index::{Index, Position, Rules, horizon_end};
pub use recurrence::{YearlyDay, YearlyRule};

/// What is wrong with a calendar's definition.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A time of day that is not `HH:MM` or `HH:MM:SS` between 00:00 and 24:00.
    #[error("invalid time of day {text:?}: expected HH:MM between 00:00 and 24:00")]
    InvalidTime {
        /// The text as written.
        text: String,
    },
    /// An interval that is not `START-END`.
    #[error("invalid interval {text:?}: expected START-END such as 09:00-17:30")]
    InvalidInterval {
        /// The text as written.
        text: String,
    },
    /// An interval whose end is not after its start.
    #[error(
        "interval {text:?} ends before it starts: write an overnight shift as 22:00-24:00 on one day and 00:00-06:00 on the next"
    )]
    EndNotAfterStart {
        /// The text as written.
        text: String,
    },
    /// Two intervals of one day overlap.
    #[error("business hours overlap: {first} and {second}")]
    OverlappingHours {
        /// The earlier interval.
        first: DayInterval,
        /// The interval that overlaps it.
        second: DayInterval,
    },
    /// A yearly rule that cannot hold.
    #[error("invalid yearly rule: {why}")]
    InvalidYearlyRule {
        /// What is wrong.
        why: String,
    },
}

/// A query the calendar cannot answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// An instant before 1900-01-01 or from 2200-01-01 UTC on.
    #[error("{at} is outside the calendar horizon 1900-01-01 to 2200-01-01 UTC")]
    OutsideHorizon {
        /// The instant.
        at: Timestamp,
    },
    /// A deadline asked for a negative business duration.
    #[error("business duration {duration:#} is negative")]
    NegativeDuration {
        /// The duration asked for.
        duration: SignedDuration,
    },
    /// The calendar does not have that much business time before the horizon ends.
    #[error("{duration:#} of business time from {start} ends after 2200-01-01")]
    DeadlineBeyondHorizon {
        /// The start.
        start: Timestamp,
        /// The business duration.
        duration: SignedDuration,
    },
}

/// An open interval of one local day, `[start, end)` in seconds since local midnight, where an
/// end of 24:00 means midnight at the end of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayInterval {
    // Invariant: start < end <= 86_400.
    start: u32,
    end: u32,
}

impl DayInterval {
    /// The whole day, `00:00-24:00`.
    pub const WHOLE_DAY: DayInterval = DayInterval { start: 0, end: 86_400 };

    /// An interval from seconds since local midnight.
    ///
    /// # Errors
    ///
    /// [`CalendarError::EndNotAfterStart`] unless `start < end <= 86400`.
    pub fn from_seconds(start: u32, end: u32) -> Result<DayInterval, CalendarError> {
        if start < end && end <= 86_400 {
            Ok(DayInterval { start, end })
        } else {
            Err(CalendarError::EndNotAfterStart {
                text: format!("{}-{}", format_second(start), format_second(end)),
            })
        }
    }

    /// Parses `HH:MM-HH:MM` (seconds optional: `HH:MM:SS`); the end may be `24:00`.
    ///
    /// # Errors
    ///
    /// [`CalendarError::InvalidInterval`], [`CalendarError::InvalidTime`] or
    /// [`CalendarError::EndNotAfterStart`], naming the text.
    ///
    /// # Examples
    ///
    /// ```
    /// use accord_core::DayInterval;
    /// let lunch = DayInterval::parse("12:00-13:00").unwrap();
    /// assert_eq!(lunch.to_string(), "12:00-13:00");
    /// assert!(DayInterval::parse("22:00-06:00").is_err());
    /// assert!(DayInterval::parse("09:00-25:00").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<DayInterval, CalendarError> {
        let (start, end) = text
            .split_once('-')
            .ok_or_else(|| CalendarError::InvalidInterval { text: text.to_owned() })?;
        let (start, end) = (parse_second(start.trim())?, parse_second(end.trim())?);
        if start >= end || start == 86_400 {
            return Err(CalendarError::EndNotAfterStart { text: text.to_owned() });
        }
        Ok(DayInterval { start, end })
    }

    /// Seconds from local midnight to the start.
    pub fn start_second(self) -> u32 {
        self.start
    }

    /// Seconds from local midnight to the end (86400 for 24:00).
    pub fn end_second(self) -> u32 {
        self.end
    }
}

impl fmt::Display for DayInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", format_second(self.start), format_second(self.end))
    }
}

fn parse_second(text: &str) -> Result<u32, CalendarError> {
    let invalid = || CalendarError::InvalidTime { text: text.to_owned() };
    let mut parts = text.split(':');
    let mut field = |max: u32| -> Result<Option<u32>, CalendarError> {
        let Some(part) = parts.next() else { return Ok(None) };
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let value: u32 = part.parse().map_err(|_| invalid())?;
        if value > max {
            return Err(invalid());
        }
        Ok(Some(value))
    };
    let hours = field(24)?.ok_or_else(invalid)?;
    let minutes = field(59)?.ok_or_else(invalid)?;
    let seconds = field(59)?.unwrap_or(0);
    if parts.next().is_some() {
        return Err(invalid());
    }
    let second = hours * 3600 + minutes * 60 + seconds;
    if second > 86_400 {
        return Err(invalid());
    }
    Ok(second)
}

fn format_second(second: u32) -> String {
    let (h, m, s) = (second / 3600, second / 60 % 60, second % 60);
    if s == 0 { format!("{h:02}:{m:02}") } else { format!("{h:02}:{m:02}:{s:02}") }
}

/// Sorts one day's intervals and checks that none overlap (touching is fine).
fn checked_day(mut intervals: Vec<DayInterval>) -> Result<Vec<DayInterval>, CalendarError> {
    intervals.sort_unstable();
    if let Some(pair) = intervals.windows(2).find(|pair| pair[1].start < pair[0].end) {
        return Err(CalendarError::OverlappingHours { first: pair[0], second: pair[1] });
    }
    Ok(intervals)
}

/// Opening hours for each weekday, in local wall-clock time.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct WeeklyHours {
    // Invariant: each day sorted and non-overlapping. Index 0 is Monday.
    days: [Vec<DayInterval>; 7],
}

impl WeeklyHours {
    /// Hours for each weekday, Monday first.
    ///
    /// # Errors
    ///
    /// [`CalendarError::OverlappingHours`] when two intervals of one day overlap.
    pub fn new(days: [Vec<DayInterval>; 7]) -> Result<WeeklyHours, CalendarError> {
        let mut checked: [Vec<DayInterval>; 7] = Default::default();
        for (slot, day) in checked.iter_mut().zip(days) {
            *slot = checked_day(day)?;
        }
        Ok(WeeklyHours { days: checked })
    }

    /// The same hours Monday to Friday, closed at weekends.
    ///
    /// # Errors
    ///
    /// [`CalendarError::OverlappingHours`] when two intervals overlap.
    pub fn weekdays(hours: Vec<DayInterval>) -> Result<WeeklyHours, CalendarError> {
        let day = checked_day(hours)?;
        let mut days: [Vec<DayInterval>; 7] = Default::default();
        days[..5].fill(day);
        Ok(WeeklyHours { days })
    }

    /// The same hours every day of the week.
    ///
    /// # Errors
    ///
    /// [`CalendarError::OverlappingHours`] when two intervals overlap.
    pub fn every_day(hours: Vec<DayInterval>) -> Result<WeeklyHours, CalendarError> {
        let day = checked_day(hours)?;
        Ok(WeeklyHours { days: std::array::from_fn(|_| day.clone()) })
    }

    /// Open around the clock.
    pub fn always() -> WeeklyHours {
        WeeklyHours { days: std::array::from_fn(|_| vec![DayInterval::WHOLE_DAY]) }
    }

    /// The intervals of one weekday, sorted.
    pub fn on(&self, weekday: Weekday) -> &[DayInterval] {
        &self.days[weekday.to_monday_zero_offset() as usize]
    }
}

/// When a day exception applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateRule {
    /// One local date.
    Date(Date),
    /// A date every year.
    Yearly(YearlyRule),
}

/// Whether an exception closes (part of) a day or opens one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExceptionKind {
    /// Closed, or open shorter than usual (24 December 09:00-12:00).
    Holiday,
    /// Open on a day that is usually closed, or with other hours (a Saturday opened).
    WorkingDay,
}

/// A date whose hours differ from the weekly hours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayException {
    name: String,
    on: DateRule,
    kind: ExceptionKind,
    // Invariant: sorted and non-overlapping; empty means closed all day.
    hours: Vec<DayInterval>,
}

impl DayException {
    /// A holiday: closed the whole day.
    pub fn holiday(name: impl Into<String>, on: DateRule) -> DayException {
        DayException { name: name.into(), on, kind: ExceptionKind::Holiday, hours: vec![] }
    }

    /// A day with its own hours: a partial holiday or an extra working day.
    ///
    /// # Errors
    ///
    /// [`CalendarError::OverlappingHours`] when two intervals overlap.
    pub fn with_hours(
        name: impl Into<String>,
        on: DateRule,
        kind: ExceptionKind,
        hours: Vec<DayInterval>,
    ) -> Result<DayException, CalendarError> {
        Ok(DayException { name: name.into(), on, kind, hours: checked_day(hours)? })
    }

    /// The name people know the day by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When it applies.
    pub fn on(&self) -> &DateRule {
        &self.on
    }

    /// Whether it closes or opens.
    pub fn kind(&self) -> ExceptionKind {
        self.kind
    }

    /// The day's hours; empty when closed all day.
    pub fn hours(&self) -> &[DayInterval] {
        &self.hours
    }
}

/// For each date in `first..=last`, the first exception (in precedence order) that applies.
fn exceptions_between(
    exceptions: &[DayException],
    first: Date,
    last: Date,
) -> BTreeMap<Date, &DayException> {
    let mut by_date = BTreeMap::new();
    for exception in exceptions {
        match &exception.on {
            DateRule::Date(date) => {
                if (first..=last).contains(date) {
                    by_date.entry(*date).or_insert(exception);
                }
            }
            DateRule::Yearly(rule) => {
                for year in first.year()..=last.year() {
                    if let Some(date) = rule.occurrence_in(year)
                        && (first..=last).contains(&date)
                    {
                        by_date.entry(date).or_insert(exception);
                    }
                }
            }
        }
    }
    by_date
}

/// A span of time `[start, end)` between two instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeRange {
    // Invariant: start <= end.
    start: Timestamp,
    end: Timestamp,
}

impl TimeRange {
    /// The span from `start` to `end`, or `None` when `end` is before `start`.
    pub fn new(start: Timestamp, end: Timestamp) -> Option<TimeRange> {
        (start <= end).then_some(TimeRange { start, end })
    }

    /// The first instant inside.
    pub fn start(self) -> Timestamp {
        self.start
    }

    /// The first instant after.
    pub fn end(self) -> Timestamp {
        self.end
    }
}

/// The hours of one local date and why they are what they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayHours<'a> {
    /// The open intervals, sorted; empty when closed.
    pub hours: &'a [DayInterval],
    /// The exception that set them, or `None` for the weekly hours.
    pub exception: Option<&'a DayException>,
}

/// When a service is open, and the business-time arithmetic over it.
///
/// Cloning is cheap: clones share the index.
#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    zone: TimeZone,
    weekly: WeeklyHours,
    // In precedence order: for any date, the first exception that applies wins.
    exceptions: Vec<DayException>,
    index: Index,
}

impl BusinessCalendar {
    /// A calendar from its zone, weekly hours and day exceptions. Exceptions are in precedence
    /// order: on a date that several apply to, the first one wins.
    pub fn new(
        zone: TimeZone,
        weekly: WeeklyHours,
        exceptions: Vec<DayException>,
    ) -> BusinessCalendar {
        BusinessCalendar {
            inner: Arc::new(Inner { zone, weekly, exceptions, index: Index::new() }),
        }
    }

    /// Open every second of every day: business time is real elapsed time.
    pub fn always_open(zone: TimeZone) -> BusinessCalendar {
        BusinessCalendar::new(zone, WeeklyHours::always(), vec![])
    }

    /// An identity shared by this calendar and its clones, and by no other calendar alive.
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// The zone the hours are written in.
    pub fn zone(&self) -> &TimeZone {
        &self.inner.zone
    }

    /// The weekly hours.
    pub fn weekly(&self) -> &WeeklyHours {
        &self.inner.weekly
    }

    /// The day exceptions, in precedence order.
    pub fn exceptions(&self) -> &[DayException] {
        &self.inner.exceptions
    }

    /// The hours of one local date, and the exception that set them, if any.
    pub fn hours_on(&self, date: Date) -> DayHours<'_> {
        match exceptions_between(&self.inner.exceptions, date, date).remove(&date) {
            Some(exception) => DayHours { hours: exception.hours(), exception: Some(exception) },
            None => DayHours { hours: self.inner.weekly.on(date.weekday()), exception: None },
        }
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            zone: &self.inner.zone,
            weekly: &self.inner.weekly,
            exceptions: &self.inner.exceptions,
        }
    }

    #[inline]
    fn chunk(&self, chunk_idx: usize) -> &index::Chunk {
        self.inner.index.chunk(chunk_idx, &self.rules())
    }

    #[inline]
    fn position(t: Timestamp) -> Result<Position, QueryError> {
        Position::of(t).ok_or(QueryError::OutsideHorizon { at: t })
    }

    /// Whether the calendar is open at `t`.
    ///
    /// # Errors
    ///
    /// [`QueryError::OutsideHorizon`].
    pub fn is_open(&self, t: Timestamp) -> Result<bool, QueryError> {
        let at = Self::position(t)?;
        Ok(self.chunk(at.chunk_idx).business_before(at.offset).1)
    }

    /// The earliest instant at or after `t` at which the calendar is open (`t` itself when
    /// open), or `None` when it never opens again before the horizon ends.
    ///
    /// # Errors
    ///
    /// [`QueryError::OutsideHorizon`].
    pub fn next_open(&self, t: Timestamp) -> Result<Option<Timestamp>, QueryError> {
        let at = Self::position(t)?;
        if self.chunk(at.chunk_idx).interval_at(at.offset).is_some() {
            return Ok(Some(t));
        }
        let mut offset = at.offset;
        for chunk_idx in at.chunk_idx..Index::n_chunks() {
            if let Some((start, _)) = self.chunk(chunk_idx).interval_from(offset) {
                let start = Position::to_timestamp(chunk_idx, start.into(), 0);
                return Ok(Some(start).filter(|&t| t < horizon_end()));
            }
            offset = 0;
        }
        Ok(None)
    }

    /// The earliest instant at or after `t` at which the calendar is closed (`t` itself when
    /// closed), or `None` when it stays open until the horizon ends.
    ///
    /// # Errors
    ///
    /// [`QueryError::OutsideHorizon`].
    pub fn next_close(&self, t: Timestamp) -> Result<Option<Timestamp>, QueryError> {
        let at = Self::position(t)?;
        let Some((_, mut end)) = self.chunk(at.chunk_idx).interval_at(at.offset) else {
            return Ok(Some(t));
        };
        let mut chunk_idx = at.chunk_idx;
        // An interval that reaches the chunk's end may go on in the next chunk.
        while i64::from(end) == index::CHUNK_LEN {
            chunk_idx += 1;
            if chunk_idx == Index::n_chunks() {
                return Ok(None);
            }
            match self.chunk(chunk_idx).interval_at(0) {
                Some((_, next_end)) => end = next_end,
                None => {
                    end = 0;
                    break;
                }
            }
        }
        let end = Position::to_timestamp(chunk_idx, end.into(), 0);
        Ok(Some(end).filter(|&t| t < horizon_end()))
    }

    /// Business time in `[start, end)`; negative when `end` is before `start`.
    ///
    /// # Errors
    ///
    /// [`QueryError::OutsideHorizon`].
    #[inline]
    pub fn elapsed(&self, start: Timestamp, end: Timestamp) -> Result<SignedDuration, QueryError> {
        let (from, to) = (Self::position(start)?, Self::position(end)?);
        if end < start {
            return Ok(-self.elapsed_forward(to, from));
        }
        Ok(self.elapsed_forward(from, to))
    }

    #[inline]
    fn elapsed_forward(&self, from: Position, to: Position) -> SignedDuration {
        let (from_business, from_open) = self.chunk(from.chunk_idx).business_before(from.offset);
        let (to_business, to_open) = self.chunk(to.chunk_idx).business_before(to.offset);
        let mut seconds = i64::from(to_business) - i64::from(from_business);
        for chunk_idx in from.chunk_idx..to.chunk_idx {
            seconds += i64::from(self.chunk(chunk_idx).total());
        }
        let nanos = i64::from(if to_open { to.nanos } else { 0 })
            - i64::from(if from_open { from.nanos } else { 0 });
        SignedDuration::new(seconds, 0) + SignedDuration::from_nanos(nanos)
    }

    /// Business time in `[start, end)` outside the paused spans. Pauses may overlap each other
    /// and reach outside `[start, end)`; each business second counts at most once. Negative,
    /// with the same pauses left out, when `end` is before `start`.
    ///
    /// # Errors
    ///
    /// [`QueryError::OutsideHorizon`].
    pub fn elapsed_excluding(
        &self,
        start: Timestamp,
        end: Timestamp,
        paused: &[TimeRange],
    ) -> Result<SignedDuration, QueryError> {
        if end < start {
            return Ok(-self.elapsed_excluding(end, start, paused)?);
        }
        let mut total = self.elapsed(start, end)?;
        let mut clipped: Vec<(Timestamp, Timestamp)> = paused
            .iter()
            .map(|pause| (pause.start.max(start), pause.end.min(end)))
            .filter(|(pause_start, pause_end)| pause_start < pause_end)
            .collect();
        clipped.sort_unstable();
        let mut covered_until = start;
        for (pause_start, pause_end) in clipped {
            let pause_start = pause_start.max(covered_until);
            if pause_start < pause_end {
                total -= self.elapsed(pause_start, pause_end)?;
                covered_until = pause_end;
            }
        }
        Ok(total)
    }

    /// The earliest instant `t >= start` with `elapsed(start, t) == duration`.
    ///
    /// # Errors
    ///
    /// [`QueryError::OutsideHorizon`], [`QueryError::NegativeDuration`], or
    /// [`QueryError::DeadlineBeyondHorizon`] when the calendar has too little business time
    /// left (a calendar that is never open).
    #[inline]
    pub fn deadline(
        &self,
        start: Timestamp,
        duration: SignedDuration,
    ) -> Result<Timestamp, QueryError> {
        let from = Self::position(start)?;
        if duration.is_negative() {
            return Err(QueryError::NegativeDuration { duration });
        }
        if duration.is_zero() {
            return Ok(start);
        }
        let mut chunk_idx = from.chunk_idx;
        let (business, open) = self.chunk(chunk_idx).business_before(from.offset);
        // The target, as business time since the start of chunk `chunk_idx`.
        let nanos = u64::from(if open { from.nanos } else { 0 }) + duration.subsec_nanos() as u64;
        let target_nanos = (nanos % 1_000_000_000) as u32;
        let mut target = u64::from(business) + duration.as_secs() as u64 + nanos / 1_000_000_000;
        loop {
            let chunk = self.chunk(chunk_idx);
            let total = u64::from(chunk.total());
            if target < total || (target == total && target_nanos == 0) {
                let offset = chunk.offset_after(target as u32, target_nanos);
                let deadline = Position::to_timestamp(chunk_idx, offset.into(), target_nanos);
                // A deadline may land on the horizon's end itself, not past it.
                return Some(deadline)
                    .filter(|&t| t <= horizon_end())
                    .ok_or(QueryError::DeadlineBeyondHorizon { start, duration });
            }
            target -= total;
            chunk_idx += 1;
            if chunk_idx == Index::n_chunks() {
                return Err(QueryError::DeadlineBeyondHorizon { start, duration });
            }
        }
    }

    /// The open periods that overlap `[from, to)`, clipped to it and merged across chunks.
    ///
    /// # Errors
    ///
    /// [`QueryError::OutsideHorizon`].
    pub fn open_periods(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<TimeRange>, QueryError> {
        let (first, last) = (Self::position(from)?, Self::position(to)?);
        let mut periods: Vec<TimeRange> = Vec::new();
        for chunk_idx in first.chunk_idx..=last.chunk_idx {
            for (start, end) in self.chunk(chunk_idx).intervals() {
                let start = Position::to_timestamp(chunk_idx, start.into(), 0).max(from);
                let end = Position::to_timestamp(chunk_idx, end.into(), 0).min(to);
                if start >= end {
                    continue;
                }
                match periods.last_mut() {
                    Some(last) if last.end == start => last.end = end,
                    _ => periods.push(TimeRange { start, end }),
                }
            }
        }
        Ok(periods)
    }

    /// Builds the index for `[from, to)` now, so later queries there pay no build cost.
    ///
    /// # Errors
    ///
    /// [`QueryError::OutsideHorizon`].
    pub fn prepare(&self, from: Timestamp, to: Timestamp) -> Result<(), QueryError> {
        let (first, last) = (Self::position(from)?, Self::position(to)?);
        for chunk_idx in first.chunk_idx..=last.chunk_idx {
            self.chunk(chunk_idx);
        }
        Ok(())
    }

    /// Bytes of memory the index holds now (it grows as queries reach new chunks).
    pub fn index_bytes(&self) -> usize {
        self.inner.index.heap_bytes()
    }
}
