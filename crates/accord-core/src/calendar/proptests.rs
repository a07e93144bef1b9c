//! Property tests for business-time arithmetic, checked against a naive oracle.
//!
//! The oracle here shares no code with the index: for each local date it reads the hours from
//! its own copy of the calendar's definition (with its own yearly-rule matching), turns each
//! interval into instants with jiff (`Disambiguation::Compatible`, 24:00 as the next date's
//! 00:00), takes the union, and measures or walks that union.
//! `Oracle::seconds_open` checks the oracle in turn, one second at a time, over a few hours.
//! Generators favour the places where calendars go wrong: DST transitions (Lord Howe's 30
//! minutes, São Paulo's midnight gap), odd offsets, leap days, month ends, midnights, overnight
//! shifts, and intervals that start or end inside a gap or a fold.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use super::{
    BusinessCalendar, DateRule, DayException, DayInterval, ExceptionKind, QueryError, TimeRange,
    WeeklyHours, YearlyDay, YearlyRule,
};

// The oracle.

/// An instant or a duration in nanoseconds (since the Unix epoch for instants).
type Nanos = i128;

const SECOND: Nanos = 1_000_000_000;
const DAY: Nanos = 86_400 * SECOND;
const HOUR: u32 = 3600;

/// Wall-clock hours of one day: sorted, non-overlapping `[start, end)` seconds since midnight.
type Hours = Vec<(u32, u32)>;

/// `2200-01-01T00:00:00Z`: the calendar answers nothing from here on.
fn horizon_end() -> Nanos {
    nanos("2200-01-01T00:00:00Z".parse().unwrap())
}

fn nanos(t: Timestamp) -> Nanos {
    t.as_nanosecond()
}

fn timestamp(t: Nanos) -> Timestamp {
    Timestamp::from_nanosecond(t).unwrap()
}

fn utc_date(t: Nanos) -> Date {
    Offset::UTC.to_datetime(timestamp(t)).date()
}

/// The calendar's definition, read the plain way.
#[derive(Debug)]
struct Oracle {
    zone: TimeZone,
    // Index 0 is Monday.
    weekly: [Hours; 7],
    // In precedence order: the first that applies to a date sets its hours.
    exceptions: Vec<(Rule, Hours)>,
}

#[derive(Clone, Debug)]
enum Rule {
    Date(Date),
    Yearly(Yearly),
}

#[derive(Clone, Debug)]
struct Yearly {
    month: i8,
    day: YearlyDay,
    first_year: Option<i16>,
    last_year: Option<i16>,
    every: i16,
    except: Vec<Date>,
}

impl Yearly {
    /// The rule's date in `year`, by listing the month's days and counting.
    fn occurrence_in(&self, year: i16) -> Option<Date> {
        if self.first_year.is_some_and(|first| year < first)
            || self.last_year.is_some_and(|last| year > last)
            || self.first_year.is_some_and(|first| (year - first) % self.every != 0)
        {
            return None;
        }
        let month_days: Vec<Date> =
            (1..=31).filter_map(|day| Date::new(year, self.month, day).ok()).collect();
        let (candidates, nth) = match self.day {
            YearlyDay::Fixed(day) => (month_days, day),
            YearlyDay::Nth { nth, weekday } => {
                (month_days.into_iter().filter(|day| day.weekday() == weekday).collect(), nth)
            }
        };
        let idx = if nth > 0 {
            usize::try_from(nth - 1).unwrap()
        } else {
            candidates.len().checked_sub(usize::from(nth.unsigned_abs()))?
        };
        let date = *candidates.get(idx)?;
        (!self.except.contains(&date)).then_some(date)
    }
}

impl Rule {
    fn applies(&self, date: Date) -> bool {
        match self {
            Rule::Date(on) => *on == date,
            Rule::Yearly(yearly) => yearly.occurrence_in(date.year()) == Some(date),
        }
    }
}

impl Oracle {
    fn hours(&self, date: Date) -> &[(u32, u32)] {
        for (rule, hours) in &self.exceptions {
            if rule.applies(date) {
                return hours;
            }
        }
        &self.weekly[usize::try_from(date.weekday().to_monday_zero_offset()).unwrap()]
    }

    fn instant(&self, date: Date, second_of_day: u32) -> Nanos {
        let (date, second_of_day) = if second_of_day == 86_400 {
            (date.tomorrow().unwrap(), 0)
        } else {
            (date, second_of_day)
        };
        let second = i32::try_from(second_of_day).unwrap();
        let time = Time::new(
            i8::try_from(second / 3600).unwrap(),
            i8::try_from(second / 60 % 60).unwrap(),
            i8::try_from(second % 60).unwrap(),
            0,
        )
        .unwrap();
        nanos(self.zone.to_ambiguous_timestamp(date.to_datetime(time)).compatible().unwrap())
    }

    /// Every interval of every local date that can reach into `[from, to)`, as instants:
    /// unclipped, unmerged, and empty (start >= end) where an interval ends inside a gap.
    fn raw_intervals(&self, from: Nanos, to: Nanos) -> Vec<(Nanos, Nanos)> {
        // Offsets stay within 15 hours of UTC and gaps are short, so a local date's intervals
        // lie within a day either side of the date in UTC. Three days leave room to spare.
        let mut date = utc_date(from).checked_sub(3.days()).unwrap();
        let last = utc_date(to).checked_add(3.days()).unwrap();
        let mut raw = Vec::new();
        while date <= last {
            for &(start, end) in self.hours(date) {
                raw.push((self.instant(date, start), self.instant(date, end)));
            }
            date = date.tomorrow().unwrap();
        }
        raw
    }

    /// Open time within `[from, to)`: sorted, merged, clipped.
    fn open(&self, from: Nanos, to: Nanos) -> Vec<(Nanos, Nanos)> {
        let mut clipped: Vec<(Nanos, Nanos)> = self
            .raw_intervals(from, to)
            .into_iter()
            .map(|(start, end)| (start.max(from), end.min(to)))
            .filter(|(start, end)| start < end)
            .collect();
        clipped.sort_unstable();
        let mut merged: Vec<(Nanos, Nanos)> = Vec::new();
        for (start, end) in clipped {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    fn is_open(&self, t: Nanos) -> bool {
        !self.open(t, t + 1).is_empty()
    }

    fn elapsed(&self, start: Nanos, end: Nanos) -> Nanos {
        if end < start {
            return -self.elapsed(end, start);
        }
        self.open(start, end).iter().map(|(open_start, open_end)| open_end - open_start).sum()
    }

    fn elapsed_excluding(&self, start: Nanos, end: Nanos, paused: &[(Nanos, Nanos)]) -> Nanos {
        let mut pauses: Vec<(Nanos, Nanos)> = paused.to_vec();
        pauses.sort_unstable();
        let mut merged: Vec<(Nanos, Nanos)> = Vec::new();
        for (pause_start, pause_end) in pauses.into_iter().filter(|(a, b)| a < b) {
            match merged.last_mut() {
                Some(last) if pause_start <= last.1 => last.1 = last.1.max(pause_end),
                _ => merged.push((pause_start, pause_end)),
            }
        }
        // The merged pauses are disjoint, so their overlaps with an open interval add up.
        self.open(start, end)
            .iter()
            .map(|&(open_start, open_end)| {
                let paused: Nanos = merged
                    .iter()
                    .map(|&(pause_start, pause_end)| {
                        (open_end.min(pause_end) - open_start.max(pause_start)).max(0)
                    })
                    .sum();
                open_end - open_start - paused
            })
            .sum()
    }

    /// Ends of ever larger windows from `start`, the last one at the horizon.
    fn window_ends(start: Nanos) -> impl Iterator<Item = Nanos> {
        let horizon_end = horizon_end();
        let mut days = 2;
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            days *= 4;
            let end = (start + days * DAY).min(horizon_end);
            done = end == horizon_end;
            Some(end)
        })
    }

    fn deadline(&self, start: Nanos, duration: Nanos) -> Option<Nanos> {
        if duration == 0 {
            return Some(start);
        }
        for end in Self::window_ends(start) {
            let mut remaining = duration;
            for (open_start, open_end) in self.open(start, end) {
                if open_end - open_start >= remaining {
                    return Some(open_start + remaining);
                }
                remaining -= open_end - open_start;
            }
        }
        None
    }

    fn next_open(&self, t: Nanos) -> Option<Nanos> {
        Self::window_ends(t).find_map(|end| self.open(t, end).first().map(|&(start, _)| start))
    }

    fn next_close(&self, t: Nanos) -> Option<Nanos> {
        for end in Self::window_ends(t) {
            match self.open(t, end).first() {
                // Still open at the window's end: look further.
                Some(&(start, open_end)) if start == t => {
                    if open_end < end {
                        return Some(open_end);
                    }
                }
                _ => return Some(t),
            }
        }
        None
    }

    /// Whether each whole second in `[from, from + n_seconds)` is open, found by testing the
    /// second against every raw interval: no union, no measuring.
    fn seconds_open(&self, from: i64, n_seconds: i64) -> Vec<bool> {
        let raw =
            self.raw_intervals(Nanos::from(from) * SECOND, Nanos::from(from + n_seconds) * SECOND);
        (from..from + n_seconds)
            .map(|second| {
                let t = Nanos::from(second) * SECOND;
                raw.iter().any(|&(start, end)| start <= t && t < end)
            })
            .collect()
    }
}

// Calendars under test, with the oracle's copy.

/// A calendar and the oracle's copy of its definition.
#[derive(Debug)]
struct Case {
    calendar: BusinessCalendar,
    oracle: Oracle,
    anchor: Timestamp,
}

fn day_intervals(hours: &[(u32, u32)]) -> Vec<DayInterval> {
    hours.iter().map(|&(start, end)| DayInterval::from_seconds(start, end).unwrap()).collect()
}

impl Case {
    fn new(zone: &str, weekly: [Hours; 7], exceptions: Vec<(Rule, Hours)>) -> Case {
        let zone = TimeZone::get(zone).unwrap();
        let weekly_hours =
            WeeklyHours::new(std::array::from_fn(|day_idx| day_intervals(&weekly[day_idx])))
                .unwrap();
        let day_exceptions = exceptions
            .iter()
            .enumerate()
            .map(|(exception_idx, (rule, hours))| {
                let on = match rule {
                    Rule::Date(date) => DateRule::Date(*date),
                    Rule::Yearly(yearly) => DateRule::Yearly(
                        YearlyRule::new(yearly.month, yearly.day)
                            .unwrap()
                            .between(yearly.first_year, yearly.last_year)
                            .unwrap()
                            .every(yearly.every)
                            .unwrap()
                            .except(yearly.except.clone()),
                    ),
                };
                let name = format!("exception {exception_idx}");
                // Alternate the kinds: the engine must not care.
                let kind = if exception_idx % 2 == 0 {
                    ExceptionKind::Holiday
                } else {
                    ExceptionKind::WorkingDay
                };
                if hours.is_empty() && kind == ExceptionKind::Holiday {
                    DayException::holiday(name, on)
                } else {
                    DayException::with_hours(name, on, kind, day_intervals(hours)).unwrap()
                }
            })
            .collect();
        let calendar = BusinessCalendar::new(zone.clone(), weekly_hours, day_exceptions);
        Case {
            calendar,
            oracle: Oracle { zone, weekly, exceptions },
            anchor: Timestamp::UNIX_EPOCH,
        }
    }

    fn at(&self, offset: SignedDuration) -> Timestamp {
        self.anchor.checked_add(offset).unwrap()
    }
}

// Generators.

#[derive(Clone, Debug)]
struct Scenario {
    zone: &'static str,
    weekly: [Hours; 7],
    exceptions: Vec<ExceptionSpec>,
    anchor: AnchorSpec,
}

#[derive(Clone, Debug)]
struct ExceptionSpec {
    on: OnSpec,
    hours: Hours,
}

/// When an exception applies, mostly relative to the anchor so that it matters.
#[derive(Clone, Debug)]
enum OnSpec {
    Date {
        days_after_anchor: i32,
    },
    /// The anchor's local date plus some days, every year.
    YearlyNearAnchor {
        days_after_anchor: i32,
        limits: Limits,
    },
    /// A day of a month, negative from the month's end; 29 February now and then.
    Fixed {
        month: i8,
        day: i8,
        limits: Limits,
    },
    /// The nth weekday of the anchor's month or the next.
    Nth {
        months_after_anchor: i8,
        nth: i8,
        weekday: Weekday,
        limits: Limits,
    },
}

#[derive(Clone, Debug)]
struct Limits {
    /// First year, relative to the anchor's year.
    first_year: Option<i16>,
    /// Last year, relative to the first (or to the year before the anchor's).
    n_years: Option<i16>,
    every: i16,
    except_anchor_year: bool,
}

/// Where the queries cluster.
#[derive(Clone, Debug)]
enum AnchorSpec {
    /// The nth offset transition after 1 January of `year`, or before it when the zone has
    /// stopped changing; midnight local when it never changed.
    Transition { year: i16, nth: usize },
    /// A wall-clock time on a local date.
    LocalTime { date: DateSpec, second_of_day: u32 },
    /// Any second from 1970 to 2100.
    Uniform { second: i64 },
    /// A boundary between two chunks of the index (white box: chunks are 2^24 s long from
    /// 1900-01-01T00:00:00Z), where open intervals are cut in two.
    ChunkBoundary { chunk_idx: i64 },
    /// Shortly before the horizon ends, where deadlines run out of business time.
    HorizonEnd { seconds_before: i64 },
}

#[derive(Clone, Debug)]
enum DateSpec {
    LeapDay { year: i16 },
    MonthEnd { year: i16, month: i8 },
    Ordinal { year: i16, day: i16 },
}

impl AnchorSpec {
    fn resolve(&self, zone: &TimeZone) -> Timestamp {
        let local = |date: Date, second_of_day: u32| {
            let time =
                Time::midnight().checked_add(SignedDuration::from_secs(second_of_day.into()));
            zone.to_ambiguous_timestamp(DateTime::from_parts(date, time.unwrap()))
                .compatible()
                .unwrap()
        };
        match *self {
            AnchorSpec::Transition { year, nth } => {
                let new_year = local(Date::new(year, 1, 1).unwrap(), 0);
                // Old transitions (local mean time in the 1800s) lie outside the horizon.
                let inside = |t: &Timestamp| t.as_second() > -2_000_000_000;
                zone.following(new_year)
                    .nth(nth)
                    .map(|transition| transition.timestamp())
                    .or_else(|| zone.preceding(new_year).nth(nth).map(|at| at.timestamp()))
                    .filter(inside)
                    .unwrap_or(new_year)
            }
            AnchorSpec::LocalTime { ref date, second_of_day } => {
                let date = match *date {
                    DateSpec::LeapDay { year } => Date::new(year, 2, 29).unwrap(),
                    DateSpec::MonthEnd { year, month } => {
                        Date::new(year, month, 1).unwrap().last_of_month()
                    }
                    DateSpec::Ordinal { year, day } => {
                        Date::new(year, 1, 1).unwrap().checked_add((day - 1).days()).unwrap()
                    }
                };
                local(date, second_of_day)
            }
            AnchorSpec::Uniform { second } => Timestamp::from_second(second).unwrap(),
            AnchorSpec::ChunkBoundary { chunk_idx } => {
                let horizon_start: Timestamp = "1900-01-01T00:00:00Z".parse().unwrap();
                horizon_start.checked_add(SignedDuration::from_secs(chunk_idx << 24)).unwrap()
            }
            AnchorSpec::HorizonEnd { seconds_before } => timestamp(horizon_end())
                .checked_sub(SignedDuration::from_secs(seconds_before))
                .unwrap(),
        }
    }
}

impl Limits {
    fn resolve(&self, anchor_year: i16) -> (Option<i16>, Option<i16>, i16) {
        let first_year = self.first_year.map(|years| anchor_year + years);
        let last_year = self.n_years.map(|n| first_year.unwrap_or(anchor_year - 1) + n);
        let every = if first_year.is_some() { self.every } else { 1 };
        (first_year, last_year, every)
    }
}

impl OnSpec {
    fn resolve(&self, anchor_date: Date) -> Rule {
        let yearly = |month: i8, day: YearlyDay, limits: &Limits| {
            let (first_year, last_year, every) = limits.resolve(anchor_date.year());
            let mut yearly = Yearly { month, day, first_year, last_year, every, except: vec![] };
            if limits.except_anchor_year {
                yearly.except = yearly.occurrence_in(anchor_date.year()).into_iter().collect();
            }
            Rule::Yearly(yearly)
        };
        match *self {
            OnSpec::Date { days_after_anchor } => {
                Rule::Date(anchor_date.checked_add(days_after_anchor.days()).unwrap())
            }
            OnSpec::YearlyNearAnchor { days_after_anchor, ref limits } => {
                let date = anchor_date.checked_add(days_after_anchor.days()).unwrap();
                yearly(date.month(), YearlyDay::Fixed(date.day()), limits)
            }
            OnSpec::Fixed { month, day, ref limits } => {
                yearly(month, YearlyDay::Fixed(day), limits)
            }
            OnSpec::Nth { months_after_anchor, nth, weekday, ref limits } => {
                let month = (anchor_date.month() - 1 + months_after_anchor) % 12 + 1;
                yearly(month, YearlyDay::Nth { nth, weekday }, limits)
            }
        }
    }
}

impl Scenario {
    fn build(&self) -> Case {
        let zone = TimeZone::get(self.zone).unwrap();
        let anchor = self.anchor.resolve(&zone);
        let anchor_date = zone.to_datetime(anchor).date();
        let exceptions = self
            .exceptions
            .iter()
            .map(|exception| (exception.on.resolve(anchor_date), exception.hours.clone()))
            .collect();
        Case { anchor, ..Case::new(self.zone, self.weekly.clone(), exceptions) }
    }
}

fn zone() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        3 => Just("Europe/Berlin"),
        2 => Just("America/New_York"),
        2 => Just("Australia/Lord_Howe"),
        2 => Just("America/Sao_Paulo"),
        1 => Just("Asia/Kolkata"),
        2 => Just("Pacific/Chatham"),
        1 => Just("UTC"),
        2 => Just("America/St_Johns"),
    ]
}

fn year() -> impl Strategy<Value = i16> {
    prop_oneof![8 => 2000i16..=2030, 2 => 1970i16..=2100]
}

/// Wall-clock times where calendars go wrong: DST changes happen at 00:00 (São Paulo), 00:01
/// (St. John's before 2011), 02:00, 02:30 (Lord Howe), 02:45 (Chatham) and 03:00.
const KEY_SECONDS: [u32; 21] = [
    0,
    60,
    1800,
    3600,
    5400,
    7200,
    9000,
    9900,
    10_800,
    12_600,
    13_500,
    14_400,
    8 * HOUR,
    9 * HOUR,
    12 * HOUR,
    13 * HOUR,
    17 * HOUR + 1800,
    22 * HOUR,
    23 * HOUR,
    23 * HOUR + 1800,
    24 * HOUR,
];

fn second_of_day() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => select(&KEY_SECONDS[..]),
        2 => (0u32..=96).prop_map(|quarter| quarter * 900),
        1 => 0u32..=86_400,
    ]
}

/// Pairs up sorted boundary points into one day's intervals, dropping empty ones.
fn pair_up(mut points: Vec<u32>) -> Hours {
    points.sort_unstable();
    points.chunks_exact(2).map(|pair| (pair[0], pair[1])).filter(|(a, b)| a < b).collect()
}

fn day_hours() -> impl Strategy<Value = Hours> {
    prop_oneof![
        2 => Just(vec![]),
        1 => Just(vec![(9 * HOUR, 17 * HOUR)]),
        1 => Just(vec![(8 * HOUR, 12 * HOUR), (13 * HOUR, 17 * HOUR + 1800)]),
        1 => Just(vec![(0, 6 * HOUR), (22 * HOUR, 24 * HOUR)]),
        1 => Just(vec![(2 * HOUR, 3 * HOUR)]),
        4 => vec(second_of_day(), 0..=6).prop_map(pair_up),
    ]
}

fn weekly() -> impl Strategy<Value = [Hours; 7]> {
    prop_oneof![
        1 => Just(std::array::from_fn(|_| vec![(0, 24 * HOUR)])),
        3 => day_hours().prop_map(|day| std::array::from_fn(|day_idx| {
            if day_idx < 5 { day.clone() } else { vec![] }
        })),
        2 => day_hours().prop_map(|day| std::array::from_fn(|_| day.clone())),
        4 => proptest::array::uniform7(day_hours()),
    ]
    .prop_map(|mut weekly| {
        // A calendar that is never open has no deadlines to check.
        if weekly.iter().all(Vec::is_empty) {
            weekly[0] = vec![(9 * HOUR, 17 * HOUR)];
        }
        weekly
    })
}

fn limits() -> impl Strategy<Value = Limits> {
    let every_year =
        Limits { first_year: None, n_years: None, every: 1, except_anchor_year: false };
    prop_oneof![
        3 => Just(every_year),
        1 => (option::of(-3i16..=0), option::of(0i16..=3), 1i16..=3, any::<bool>()).prop_map(
            |(first_year, n_years, every, except_anchor_year)| Limits {
                first_year,
                n_years,
                every,
                except_anchor_year,
            }
        ),
    ]
}

fn weekday() -> impl Strategy<Value = Weekday> {
    (0i8..7).prop_map(|offset| Weekday::from_monday_zero_offset(offset).unwrap())
}

fn on_spec() -> impl Strategy<Value = OnSpec> {
    let month_day = prop_oneof![
        2 => Just((2i8, 29i8)),
        1 => Just((2, -1)),
        2 => (1i8..=12, 1i8..=31),
        1 => (1i8..=12, -31i8..=-1),
    ];
    prop_oneof![
        4 => (-3i32..=40).prop_map(|days_after_anchor| OnSpec::Date { days_after_anchor }),
        2 => (-3i32..=40, limits()).prop_map(|(days_after_anchor, limits)| {
            OnSpec::YearlyNearAnchor { days_after_anchor, limits }
        }),
        1 => (month_day, limits())
            .prop_map(|((month, day), limits)| OnSpec::Fixed { month, day, limits }),
        2 => (0i8..=1, prop_oneof![1i8..=5, -5i8..=-1], weekday(), limits()).prop_map(
            |(months_after_anchor, nth, weekday, limits)| OnSpec::Nth {
                months_after_anchor,
                nth,
                weekday,
                limits,
            }
        ),
    ]
}

fn exception() -> impl Strategy<Value = ExceptionSpec> {
    (on_spec(), prop_oneof![3 => Just(vec![]), 2 => day_hours()])
        .prop_map(|(on, hours)| ExceptionSpec { on, hours })
}

fn anchor() -> impl Strategy<Value = AnchorSpec> {
    let leap_year = prop_oneof![3 => Just(2024i16), 1 => (0i16..32).prop_map(|k| 1972 + 4 * k)];
    let date = prop_oneof![
        2 => leap_year.prop_map(|year| DateSpec::LeapDay { year }),
        2 => (year(), 1i8..=12).prop_map(|(year, month)| DateSpec::MonthEnd { year, month }),
        1 => (year(), 1i16..=365).prop_map(|(year, day)| DateSpec::Ordinal { year, day }),
    ];
    prop_oneof![
        5 => (year(), 0usize..4).prop_map(|(year, nth)| AnchorSpec::Transition { year, nth }),
        3 => (date, second_of_day().prop_filter("a time of day", |second| *second < 86_400))
            .prop_map(|(date, second_of_day)| AnchorSpec::LocalTime { date, second_of_day }),
        1 => (0i64..4_102_444_800).prop_map(|second| AnchorSpec::Uniform { second }),
        // Chunks 132 to 370 start between 1970 and 2100.
        2 => (132i64..=370).prop_map(|chunk_idx| AnchorSpec::ChunkBoundary { chunk_idx }),
    ]
}

fn scenario_around(anchor: impl Strategy<Value = AnchorSpec>) -> impl Strategy<Value = Scenario> {
    (zone(), weekly(), vec(exception(), 0..=4), anchor).prop_map(
        |(zone, weekly, exceptions, anchor)| Scenario { zone, weekly, exceptions, anchor },
    )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    scenario_around(anchor())
}

/// A scenario a few weeks or months before the horizon ends, far enough that every query
/// start stays inside it.
fn scenario_near_horizon_end() -> impl Strategy<Value = Scenario> {
    scenario_around(
        (41 * 86_400i64..=400 * 86_400)
            .prop_map(|seconds_before| AnchorSpec::HorizonEnd { seconds_before }),
    )
}

fn subsec_nanos() -> impl Strategy<Value = i32> {
    prop_oneof![7 => Just(0), 1 => 1i32..1_000_000_000]
}

/// Where a query starts, relative to the anchor: on it, a second off, on a quarter hour
/// nearby, or anywhere within days or weeks; now and then with a fraction of a second.
fn offset() -> impl Strategy<Value = SignedDuration> {
    let seconds = prop_oneof![
        2 => Just(0i64),
        2 => -2i64..=2,
        3 => (-192i64..=192).prop_map(|quarter| quarter * 900),
        3 => -3 * 86_400i64..=3 * 86_400,
        1 => -40 * 86_400i64..=40 * 86_400,
    ];
    (seconds, subsec_nanos()).prop_map(|(seconds, nanos)| SignedDuration::new(seconds, nanos))
}

/// A business duration from a fraction of a second to 30 business days of 8 hours.
fn budget() -> impl Strategy<Value = SignedDuration> {
    let seconds = prop_oneof![
        3 => 1i64..=120,
        3 => (1i64..=600).prop_map(|minutes| minutes * 60),
        2 => (1i64..=72).prop_map(|hours| hours * 3600),
        3 => 1i64..=30 * 8 * 3600,
        1 => (1i64..=30).prop_map(|days| days * 8 * 3600),
    ];
    prop_oneof![
        12 => (seconds, subsec_nanos()).prop_map(|(seconds, nanos)| SignedDuration::new(seconds, nanos)),
        1 => (1i32..1_000_000_000).prop_map(|nanos| SignedDuration::new(0, nanos)),
    ]
}

fn ordered<T: Ord>(a: T, b: T) -> (T, T) {
    if a <= b { (a, b) } else { (b, a) }
}

// The laws.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn deadline_matches_oracle_measures_back_and_lands_in_open_time(
        scenario in scenario(),
        offset in offset(),
        budget in budget(),
    ) {
        let case = scenario.build();
        let start = case.at(offset);
        prop_assert_eq!(
            case.calendar.deadline(start, -budget),
            Err(QueryError::NegativeDuration { duration: -budget }),
        );
        let deadline = case.calendar.deadline(start, budget);
        let Some(expected) = case.oracle.deadline(nanos(start), budget.as_nanos()) else {
            prop_assert_eq!(
                deadline,
                Err(QueryError::DeadlineBeyondHorizon { start, duration: budget }),
                "deadline from {} for {}", start, budget,
            );
            return Ok(());
        };
        prop_assert_eq!(deadline, Ok(timestamp(expected)), "deadline from {} for {}", start, budget);
        let deadline = timestamp(expected);
        prop_assert_eq!(
            case.calendar.elapsed(start, deadline).unwrap(),
            budget,
            "elapsed from {} to its deadline {}", start, deadline,
        );
        // Open at the deadline, or exactly at a closing instant.
        prop_assert!(
            case.oracle.is_open(nanos(deadline)) || case.oracle.is_open(nanos(deadline) - SECOND),
            "deadline {} from {} for {} is in closed time", deadline, start, budget,
        );
    }

    #[test]
    fn deadline_is_monotonic_in_start_and_budget(
        scenario in scenario(),
        offsets in (offset(), offset()),
        budgets in (budget(), budget()),
    ) {
        let case = scenario.build();
        let (early, late) = ordered(case.at(offsets.0), case.at(offsets.1));
        let (small, large) = ordered(budgets.0, budgets.1);
        // Running out of business time before the horizon ends counts as infinitely late.
        let deadline = |start, budget| {
            let deadline = case.calendar.deadline(start, budget);
            (deadline.is_err(), deadline.ok())
        };
        for budget in [small, large] {
            prop_assert!(
                deadline(early, budget) <= deadline(late, budget),
                "{} from {} ends after the same from {}", budget, early, late,
            );
        }
        for start in [early, late] {
            prop_assert!(
                deadline(start, small) <= deadline(start, large),
                "{} from {} ends after {} from it", small, start, large,
            );
        }
    }

    #[test]
    fn elapsed_matches_oracle_adds_up_and_is_bounded(
        scenario in scenario(),
        offsets in (offset(), offset(), offset()),
    ) {
        let case = scenario.build();
        let (a, b, c) = (case.at(offsets.0), case.at(offsets.1), case.at(offsets.2));
        let elapsed = |start, end| case.calendar.elapsed(start, end).unwrap();
        for (start, end) in [(a, b), (b, c), (a, c)] {
            let expected = case.oracle.elapsed(nanos(start), nanos(end));
            prop_assert_eq!(elapsed(start, end).as_nanos(), expected, "from {} to {}", start, end);
            let (early, late) = ordered(start, end);
            prop_assert!(SignedDuration::ZERO <= elapsed(early, late));
            prop_assert!(elapsed(early, late) <= late.duration_since(early));
            prop_assert_eq!(elapsed(late, early), -elapsed(early, late));
        }
        prop_assert_eq!(elapsed(a, c), elapsed(a, b) + elapsed(b, c), "via {} from {} to {}", b, a, c);
    }

    #[test]
    fn open_and_close_match_oracle(scenario in scenario(), offset in offset()) {
        let case = scenario.build();
        let t = case.at(offset);
        let at = nanos(t);
        prop_assert_eq!(case.calendar.is_open(t).unwrap(), case.oracle.is_open(at), "at {}", t);
        prop_assert_eq!(
            case.calendar.next_open(t).unwrap(),
            case.oracle.next_open(at).map(timestamp),
            "next open from {}", t,
        );
        prop_assert_eq!(
            case.calendar.next_close(t).unwrap(),
            case.oracle.next_close(at).map(timestamp),
            "next close from {}", t,
        );
        let until = t.checked_add(SignedDuration::from_hours(72)).unwrap();
        let periods: Vec<(Nanos, Nanos)> = case
            .calendar
            .open_periods(t, until)
            .unwrap()
            .into_iter()
            .map(|period| (nanos(period.start()), nanos(period.end())))
            .collect();
        prop_assert_eq!(periods, case.oracle.open(at, nanos(until)), "open periods from {}", t);
    }

    #[test]
    fn elapsed_excluding_matches_oracle(
        scenario in scenario(),
        offset in offset(),
        span in prop_oneof![Just(0i64), 1i64..=3 * 86_400, 1i64..=20 * 86_400],
        pauses in vec((-86_400i64..=4 * 86_400, 0i64..=2 * 86_400, subsec_nanos()), 0..=5),
    ) {
        let case = scenario.build();
        let start = case.at(offset);
        let end = start.checked_add(SignedDuration::from_secs(span)).unwrap();
        let paused: Vec<TimeRange> = pauses
            .iter()
            .map(|&(after_start, length, nanos)| {
                let pause_start =
                    start.checked_add(SignedDuration::new(after_start, nanos)).unwrap();
                let pause_end = pause_start.checked_add(SignedDuration::from_secs(length)).unwrap();
                TimeRange::new(pause_start, pause_end).unwrap()
            })
            .collect();
        let oracle_pauses: Vec<(Nanos, Nanos)> =
            paused.iter().map(|pause| (nanos(pause.start()), nanos(pause.end()))).collect();
        prop_assert_eq!(
            case.calendar.elapsed_excluding(start, end, &paused).unwrap().as_nanos(),
            case.oracle.elapsed_excluding(nanos(start), nanos(end), &oracle_pauses),
            "from {} to {} excluding {:?}", start, end, paused,
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Near the end of the horizon, answers must stay inside it: a deadline that the calendar
    /// cannot reach before 2200-01-01 is `DeadlineBeyondHorizon`, and `next_open` and
    /// `next_close` say `None` rather than name an instant no other query accepts.
    #[test]
    fn answers_near_horizon_end_match_oracle(
        scenario in scenario_near_horizon_end(),
        offset in offset(),
        budget in budget(),
    ) {
        let case = scenario.build();
        let t = case.at(offset);
        let expected = match case.oracle.deadline(nanos(t), budget.as_nanos()) {
            Some(deadline) => Ok(timestamp(deadline)),
            None => Err(QueryError::DeadlineBeyondHorizon { start: t, duration: budget }),
        };
        prop_assert_eq!(case.calendar.deadline(t, budget), expected, "deadline from {}", t);
        prop_assert_eq!(
            case.calendar.next_open(t).unwrap(),
            case.oracle.next_open(nanos(t)).map(timestamp),
            "next open from {}", t,
        );
        prop_assert_eq!(
            case.calendar.next_close(t).unwrap(),
            case.oracle.next_close(nanos(t)).map(timestamp),
            "next close from {}", t,
        );
    }

    /// Checks the interval oracle, and the engine with it, against a walk one second at a time.
    #[test]
    fn interval_oracle_matches_second_by_second_walk(
        scenario in scenario(),
        offset in -3 * 86_400i64..=3 * 86_400,
        n_seconds in 1i64..=3 * 3600,
    ) {
        let case = scenario.build();
        let from_second = case.at(SignedDuration::from_secs(offset)).as_second();
        let from = Timestamp::from_second(from_second).unwrap();
        let open = case.oracle.seconds_open(from_second, n_seconds);
        let union = case.oracle.open(nanos(from), Nanos::from(from_second + n_seconds) * SECOND);
        let union_contains = |t: Nanos| union.iter().any(|&(start, end)| start <= t && t < end);
        let mut n_open = 0;
        for (second, is_open) in (from_second..).zip(open.iter().copied()) {
            let t = Timestamp::from_second(second).unwrap();
            // The oracle's own functions are slower: check them where openness changes and now
            // and then, and the engine everywhere.
            let changes = open.get(usize::try_from(second - from_second).unwrap().wrapping_sub(1))
                != Some(&is_open);
            if changes || (second - from_second) % 600 == 0 {
                prop_assert_eq!(case.oracle.is_open(nanos(t)), is_open, "oracle open at {}", t);
                prop_assert_eq!(
                    case.oracle.elapsed(nanos(from), nanos(t)),
                    Nanos::from(n_open) * SECOND,
                    "oracle elapsed from {} to {}", from, t,
                );
            }
            prop_assert_eq!(union_contains(nanos(t)), is_open, "union at {}", t);
            prop_assert_eq!(case.calendar.is_open(t).unwrap(), is_open, "engine open at {}", t);
            prop_assert_eq!(
                case.calendar.elapsed(from, t).unwrap(),
                SignedDuration::from_secs(n_open),
                "engine elapsed from {} to {}", from, t,
            );
            if is_open {
                n_open += 1;
                // The walk's deadline for `n_open` seconds is the end of this second.
                let deadline = Timestamp::from_second(second + 1).unwrap();
                let budget = SignedDuration::from_secs(n_open);
                prop_assert_eq!(case.calendar.deadline(from, budget).unwrap(), deadline);
                if changes || n_open % 600 == 0 {
                    prop_assert_eq!(
                        case.oracle.deadline(nanos(from), budget.as_nanos()),
                        Some(nanos(deadline)),
                        "oracle deadline from {} for {}", from, budget,
                    );
                }
            }
        }
    }
}

// Exhaustive loops.

fn hours(text: &str) -> Hours {
    text.split_whitespace()
        .map(|interval| {
            let interval = DayInterval::parse(interval).unwrap();
            (interval.start_second(), interval.end_second())
        })
        .collect()
}

#[test]
fn berlin_dst_week_every_minute_matches_oracle() {
    // A lunch break on weekdays and a Saturday night shift across the spring change, which
    // happens at 02:00 on Sunday 30 March 2025.
    let weekday = hours("08:00-12:00 13:00-17:00");
    let weekly = [
        weekday.clone(),
        weekday.clone(),
        weekday.clone(),
        weekday.clone(),
        weekday,
        hours("22:00-24:00"),
        hours("00:00-06:00"),
    ];
    let case = Case::new("Europe/Berlin", weekly, vec![]);
    let week_start: Timestamp = "2025-03-24T00:00:00+01:00".parse().unwrap();
    let week_end: Timestamp = "2025-03-31T00:00:00+02:00".parse().unwrap();
    let open = case.oracle.open(nanos(week_start), nanos(week_end));
    let n_minutes = week_end.duration_since(week_start).as_mins();
    assert_eq!(n_minutes, 7 * 24 * 60 - 60);
    // Five days of 8 hours, 2 hours on Saturday, and 00:00-06:00 on Sunday without 02:00-03:00.
    assert_eq!(
        case.calendar.elapsed(week_start, week_end).unwrap(),
        SignedDuration::from_hours(47)
    );

    let (mut open_idx, mut business) = (0, 0);
    for minute in 0..n_minutes {
        let t = week_start.checked_add(SignedDuration::from_mins(minute)).unwrap();
        let at = nanos(t);
        while open.get(open_idx).is_some_and(|&(_, end)| end <= at) {
            business += open[open_idx].1 - open[open_idx].0;
            open_idx += 1;
        }
        let (is_open, so_far) = match open.get(open_idx) {
            Some(&(start, _)) if start <= at => (true, business + (at - start)),
            _ => (false, business),
        };
        assert_eq!(case.calendar.is_open(t).unwrap(), is_open, "open at {t}");
        let elapsed = case.calendar.elapsed(week_start, t).unwrap();
        assert_eq!(elapsed.as_nanos(), so_far, "elapsed from {week_start} to {t}");
        if so_far > 0 {
            let expected = case.oracle.deadline(nanos(week_start), so_far).map(timestamp);
            assert_eq!(Some(case.calendar.deadline(week_start, elapsed).unwrap()), expected);
        }
        assert_eq!(case.calendar.next_open(t).unwrap(), case.oracle.next_open(at).map(timestamp));
        assert_eq!(case.calendar.next_close(t).unwrap(), case.oracle.next_close(at).map(timestamp));
    }
}

#[test]
fn every_day_of_leap_year_matches_oracle() {
    let office = hours("09:00-17:00");
    let mut weekly: [Hours; 7] = std::array::from_fn(|_| office.clone());
    weekly[5] = vec![];
    weekly[6] = vec![];
    let yearly = |month, day| {
        Rule::Yearly(Yearly {
            month,
            day,
            first_year: None,
            last_year: None,
            every: 1,
            except: vec![],
        })
    };
    let exceptions = vec![
        // Precedence: the dated partial holiday wins over the yearly full one.
        (Rule::Date(Date::new(2024, 12, 24).unwrap()), hours("09:00-12:00")),
        (yearly(12, YearlyDay::Fixed(24)), vec![]),
        (yearly(2, YearlyDay::Fixed(29)), vec![]),
        (yearly(5, YearlyDay::Nth { nth: -1, weekday: Weekday::Monday }), vec![]),
        (yearly(11, YearlyDay::Nth { nth: 4, weekday: Weekday::Thursday }), vec![]),
        // The last day of the year, a Tuesday in 2024, and the first Saturday of March.
        (yearly(12, YearlyDay::Fixed(-1)), hours("10:00-14:00")),
        (yearly(3, YearlyDay::Nth { nth: 1, weekday: Weekday::Saturday }), hours("01:00-04:00")),
    ];
    let case = Case::new("America/New_York", weekly, exceptions);
    let mut date = Date::new(2024, 1, 1).unwrap();
    let mut n_days = 0;
    while date.year() == 2024 {
        let expected = case.oracle.hours(date);
        let actual: Hours = case
            .calendar
            .hours_on(date)
            .hours
            .iter()
            .map(|interval| (interval.start_second(), interval.end_second()))
            .collect();
        assert_eq!(actual, expected, "hours on {date}");
        let day_start = case.oracle.instant(date, 0);
        let day_end = case.oracle.instant(date, 86_400);
        assert_eq!(
            case.calendar.elapsed(timestamp(day_start), timestamp(day_end)).unwrap().as_nanos(),
            case.oracle.elapsed(day_start, day_end),
            "business time on {date}",
        );
        n_days += 1;
        date = date.tomorrow().unwrap();
    }
    assert_eq!(n_days, 366);
    assert_eq!(case.calendar.hours_on(Date::new(2024, 2, 29).unwrap()).hours, &[]);
    assert_eq!(case.oracle.hours(Date::new(2024, 11, 28).unwrap()), &[]);
}
