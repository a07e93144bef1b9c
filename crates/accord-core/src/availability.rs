//! Availability accounting: how much of a window a component was up, by the agreement's own
//! rules.
//!
//! The inputs are intervals, never samples: outages (from probes, heartbeats or recorded
//! incidents, each with an impact), and spans left out of the measurement (planned
//! maintenance, excluded incidents). A window's eligible time is its length less what is left
//! out; its downtime is the outage time inside the eligible time, major outages in full and
//! partial or degraded ones by their weights, where several outages overlap the worst impact
//! counting once; outages shorter than the agreement's minimum are ignored. Availability is
//! the exact ratio of the two, in nanoseconds, so 99.9953 % is what the month was, not a float.

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::agreement::{DowntimeExclusion, Percent, Window};
use crate::calendar::TimeRange;

/// How bad an outage is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impact {
    /// Degraded service (slow, some features missing).
    Degraded,
    /// Part of the service down.
    Partial,
    /// The service down.
    Major,
}

impl Impact {
    /// Every impact, least first.
    pub const ALL: [Impact; 3] = [Impact::Degraded, Impact::Partial, Impact::Major];

    /// The impact named by a word of [`Impact::as_str`].
    pub fn parse(word: &str) -> Option<Impact> {
        Impact::ALL.into_iter().find(|impact| impact.as_str() == word)
    }

    /// The word used in documents and files.
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Degraded => "degraded",
            Impact::Partial => "partial",
            Impact::Major => "major",
        }
    }
}

/// A span during which a component was not fully up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    /// When.
    pub range: TimeRange,
    /// How bad.
    pub impact: Impact,
}

/// What an incident affected: a whole service, or one component of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Affected {
    /// The service.
    pub service: String,
    /// The component; `None` for the whole service.
    pub component: Option<String>,
}

/// An incident recorded by people or imported: an outage with its context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    /// Its id.
    pub id: String,
    /// When it started.
    pub start: Timestamp,
    /// When it ended; `None` while it goes on.
    pub end: Option<Timestamp>,
    /// What it affected.
    pub affected: Vec<Affected>,
    /// How bad.
    pub impact: Impact,
    /// Why it does not count against the provider, when an agreement excludes that category.
    pub excluded: Option<(DowntimeExclusion, String)>,
    /// What happened.
    pub cause: String,
    /// Why it happened, when known.
    pub root_cause: String,
}

impl Incident {
    /// Whether it affected `service` (and `component`, when the objective measures one): an
    /// incident on the whole service affects every component; one on a component affects the
    /// whole service's objective too.
    pub fn affects(&self, service: &str, component: Option<&str>) -> bool {
        self.affected.iter().any(|affected| {
            affected.service == service
                && match (component, affected.component.as_deref()) {
                    (Some(wanted), Some(hit)) => wanted == hit,
                    _ => true,
                }
        })
    }

    /// Its span, an ongoing one running to `until`.
    pub fn range(&self, until: Timestamp) -> Option<TimeRange> {
        TimeRange::new(self.start, self.end.unwrap_or(until))
    }
}

/// The agreement's rules for counting downtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// The share of a partial outage's time that counts.
    pub partial_weight: Percent,
    /// The share of a degraded service's time that counts.
    pub degraded_weight: Percent,
    /// Outages shorter than this are ignored.
    pub minimum: SignedDuration,
}

impl Default for Rules {
    /// Partial outages count in full, degraded service not at all, every outage counts.
    fn default() -> Rules {
        Rules {
            partial_weight: Percent::HUNDRED,
            degraded_weight: Percent::from_micros(0).expect("0 % is a percentage"),
            minimum: SignedDuration::ZERO,
        }
    }
}

impl Rules {
    fn weight(&self, impact: Impact) -> Percent {
        match impact {
            Impact::Major => Percent::HUNDRED,
            Impact::Partial => self.partial_weight,
            Impact::Degraded => self.degraded_weight,
        }
    }
}

/// An exact availability: good over eligible, in time (nanoseconds), slices or requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Availability {
    // Invariant: 0 <= good <= eligible, in one unit.
    good: i128,
    eligible: i128,
}

impl Availability {
    /// Good time over eligible time.
    pub fn of_time(good: SignedDuration, eligible: SignedDuration) -> Availability {
        Availability::of_counts(good.as_nanos(), eligible.as_nanos())
    }

    /// Good over eligible, counted (slices, requests).
    pub fn of_counts(good: i128, eligible: i128) -> Availability {
        let eligible = eligible.max(0);
        Availability { good: good.clamp(0, eligible), eligible }
    }

    /// The eligible amount: nanoseconds for time, slices or requests for counts.
    pub fn eligible(self) -> i128 {
        self.eligible
    }

    /// The eligible amount less the good one: downtime in nanoseconds for time, bad slices
    /// or failed requests for counts.
    pub fn bad(self) -> i128 {
        self.eligible - self.good
    }

    /// The share as a percentage, rounded down to a millionth of a percent (never overstating
    /// it); 100 % when nothing was eligible.
    pub fn percent(self) -> Percent {
        if self.eligible == 0 {
            return Percent::HUNDRED;
        }
        let micros = self.good * i128::from(Percent::HUNDRED.micros()) / self.eligible;
        Percent::from_micros(u32::try_from(micros).unwrap_or(0)).unwrap_or(Percent::HUNDRED)
    }

    /// Whether the availability is at least `target`, exactly.
    pub fn meets(self, target: Percent) -> bool {
        self.eligible == 0
            || self.good * i128::from(Percent::HUNDRED.micros())
                >= i128::from(target.micros()) * self.eligible
    }
}

impl fmt::Display for Availability {
    /// Four decimals, rounded down: `99.9953%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.percent().micros();
        let hundredths_of_basis = micros / 100;
        write!(f, "{}.{:04}%", hundredths_of_basis / 10_000, hundredths_of_basis % 10_000)
    }
}

/// How an outage was counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountedOutage {
    /// The outage as recorded.
    pub outage: Outage,
    /// The time it counted in the window (weighted, outside left-out spans, worst impact
    /// counted once where outages overlap).
    pub counted: SignedDuration,
    /// Whether it was ignored for being shorter than the minimum.
    pub too_short: bool,
}

/// A window's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The window.
    pub window: TimeRange,
    /// Time left out (maintenance, excluded incidents), inside the window.
    pub left_out: SignedDuration,
    /// Weighted downtime inside the eligible time.
    pub downtime: SignedDuration,
    /// Every outage that touches the window.
    pub outages: Vec<CountedOutage>,
}

impl Account {
    /// The window's length.
    pub fn length(&self) -> SignedDuration {
        self.window.end().duration_since(self.window.start())
    }

    /// Eligible time: the window less what is left out.
    pub fn eligible(&self) -> SignedDuration {
        self.length() - self.left_out
    }

    /// The availability.
    pub fn availability(&self) -> Availability {
        Availability::of_time(self.eligible() - self.downtime, self.eligible())
    }
}

/// Sorted, merged ranges clipped to `window`.
fn merged(ranges: impl IntoIterator<Item = TimeRange>, window: TimeRange) -> Vec<TimeRange> {
    let mut clipped: Vec<TimeRange> = ranges
        .into_iter()
        .filter_map(|range| {
            TimeRange::new(range.start().max(window.start()), range.end().min(window.end()))
        })
        .filter(|range| range.start() < range.end())
        .collect();
    clipped.sort_by_key(|range| range.start());
    let mut out: Vec<TimeRange> = Vec::with_capacity(clipped.len());
    for range in clipped {
        match out.last_mut() {
            Some(last) if range.start() <= last.end() => {
                if range.end() > last.end() {
                    *last = TimeRange::new(last.start(), range.end()).expect("ordered");
                }
            }
            _ => out.push(range),
        }
    }
    out
}

/// Length of `[from, to)` outside the sorted, merged `left_out` ranges.
fn outside(from: Timestamp, to: Timestamp, left_out: &[TimeRange]) -> SignedDuration {
    let mut total = to.duration_since(from);
    for range in left_out {
        let start = range.start().max(from);
        let end = range.end().min(to);
        if start < end {
            total -= end.duration_since(start);
        }
    }
    total
}

/// Accounts for `window`: `outages` from any source, `left_out` spans (maintenance, excluded
/// incidents) that are not measured.
pub fn account(
    window: TimeRange,
    outages: &[Outage],
    left_out: &[TimeRange],
    rules: &Rules,
) -> Account {
    let left_out = merged(left_out.iter().copied(), window);
    let left_out_total = left_out
        .iter()
        .map(|range| range.end().duration_since(range.start()))
        .fold(SignedDuration::ZERO, |sum, length| sum + length);
    let counting: Vec<(usize, Outage)> = outages
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, outage)| {
            outage.range.end().duration_since(outage.range.start()) >= rules.minimum
        })
        .collect();
    // Cut the window at every outage boundary; in each piece the worst impact counts.
    let mut cuts: Vec<Timestamp> = counting
        .iter()
        .flat_map(|(_, outage)| [outage.range.start(), outage.range.end()])
        .filter(|at| *at > window.start() && *at < window.end())
        .chain([window.start(), window.end()])
        .collect();
    cuts.sort();
    cuts.dedup();
    let mut counted = vec![SignedDuration::ZERO; outages.len()];
    let mut downtime = SignedDuration::ZERO;
    for piece in cuts.windows(2) {
        let (from, to) = (piece[0], piece[1]);
        let worst = counting
            .iter()
            .filter(|(_, outage)| outage.range.start() <= from && outage.range.end() >= to)
            .max_by_key(|(idx, outage)| (outage.impact, std::cmp::Reverse(*idx)));
        let Some((idx, outage)) = worst else { continue };
        let time = rules.weight(outage.impact).of(outside(from, to, &left_out));
        counted[*idx] += time;
        downtime += time;
    }
    let outages = outages
        .iter()
        .enumerate()
        .filter(|(_, outage)| {
            outage.range.start() < window.end() && outage.range.end() > window.start()
        })
        .map(|(idx, outage)| CountedOutage {
            outage: *outage,
            counted: counted[idx],
            too_short: outage.range.end().duration_since(outage.range.start()) < rules.minimum,
        })
        .collect();
    Account { window, left_out: left_out_total, downtime, outages }
}

/// A window measured in time slices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SliceAccount {
    /// Slices with eligible time.
    pub n_slices: u32,
    /// Of which good.
    pub n_good: u32,
    /// The bad slices.
    pub bad: Vec<TimeRange>,
    /// The slice length.
    pub slice: SignedDuration,
}

impl SliceAccount {
    /// Good slices over counted slices.
    pub fn availability(&self) -> Availability {
        Availability::of_counts(i128::from(self.n_good), i128::from(self.n_slices))
    }
}

/// Cuts `window` into slices of `slice` from its start (the last may be shorter); a slice is
/// good when its eligible time was up for at least `slice_target` of it, and a slice left out
/// entirely does not count.
pub fn timeslices(
    window: TimeRange,
    slice: SignedDuration,
    slice_target: Percent,
    outages: &[Outage],
    left_out: &[TimeRange],
    rules: &Rules,
) -> SliceAccount {
    let mut result = SliceAccount { n_slices: 0, n_good: 0, bad: Vec::new(), slice };
    if slice <= SignedDuration::ZERO {
        return result;
    }
    // Only outages near a slice matter; sorting lets each slice look at a few.
    let mut outages: Vec<Outage> = outages.to_vec();
    outages.sort_by_key(|outage| outage.range.start());
    let mut start = window.start();
    while start < window.end() {
        let end = start.checked_add(slice).unwrap_or(window.end()).min(window.end());
        let Some(range) = TimeRange::new(start, end) else { break };
        let near: Vec<Outage> = outages
            .iter()
            .copied()
            .take_while(|outage| outage.range.start() < end)
            .filter(|outage| outage.range.end() > start)
            .collect();
        let account = account(range, &near, left_out, rules);
        if account.eligible() > SignedDuration::ZERO {
            result.n_slices += 1;
            if account.availability().meets(slice_target) {
                result.n_good += 1;
            } else {
                result.bad.push(range);
            }
        }
        start = end;
    }
    result
}

/// The calendar period of `window` holding `at`, in `zone` (weeks start on Monday); a rolling
/// window is the N days of 24 hours up to `at`.
///
/// # Errors
///
/// When the period's bounds are outside what the zone can represent.
pub fn period_of(window: Window, at: Timestamp, zone: &TimeZone) -> Result<TimeRange, jiff::Error> {
    let date = zone.to_datetime(at).date();
    let (first, next) = match window {
        Window::Day => (date, date.tomorrow()?),
        Window::Week => {
            let monday =
                date.checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days())?;
            (monday, monday.checked_add(7.days())?)
        }
        Window::Month => {
            let first = date.first_of_month();
            (first, first.checked_add(1.month())?)
        }
        Window::Quarter => {
            let month = (date.month() - 1) / 3 * 3 + 1;
            let first = Date::new(date.year(), month, 1)?;
            (first, first.checked_add(3.months())?)
        }
        Window::Year => {
            let first = Date::new(date.year(), 1, 1)?;
            (first, first.checked_add(1.year())?)
        }
        Window::Rolling { days } => {
            let start = at.checked_sub(SignedDuration::from_hours(24 * i64::from(days)))?;
            return Ok(TimeRange::new(start, at).expect("ordered"));
        }
    };
    let start = first.to_zoned(zone.clone())?.timestamp();
    let end = next.to_zoned(zone.clone())?.timestamp();
    Ok(TimeRange::new(start, end).expect("a period ends after it starts"))
}

/// Parses a period label, `2026-10`, `2026-Q4` or `2026`, into its range in `zone`, with the
/// window kind it names.
///
/// # Errors
///
/// A message naming the label and the accepted forms.
pub fn parse_period(label: &str, zone: &TimeZone) -> Result<(Window, TimeRange), String> {
    let bad = || format!("invalid period {label:?}: expected YYYY-MM, YYYY-Qn or YYYY");
    let (window, first) = match label.split_once('-') {
        None => (Window::Year, Date::new(label.parse().map_err(|_| bad())?, 1, 1)),
        Some((year, quarter)) if quarter.starts_with('Q') => {
            let quarter: i8 = quarter[1..].parse().map_err(|_| bad())?;
            if !(1..=4).contains(&quarter) {
                return Err(bad());
            }
            (Window::Quarter, Date::new(year.parse().map_err(|_| bad())?, (quarter - 1) * 3 + 1, 1))
        }
        Some((year, month)) => (
            Window::Month,
            Date::new(year.parse().map_err(|_| bad())?, month.parse().map_err(|_| bad())?, 1),
        ),
    };
    let first = first.map_err(|_| bad())?;
    let at = first.to_zoned(zone.clone()).map_err(|_| bad())?.timestamp();
    let range = period_of(window, at, zone).map_err(|_| bad())?;
    Ok((window, range))
}

/// What the error budget of a window looks like at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Downtime the target allows over the whole window's eligible time.
    pub allowed: SignedDuration,
    /// Downtime so far.
    pub consumed: SignedDuration,
    /// `allowed - consumed`; negative once the objective is missed.
    pub remaining: SignedDuration,
    /// The window's availability at its end if downtime goes on at the rate so far.
    pub forecast: Availability,
}

/// The budget of a window whose whole account is `window` and whose account up to now is
/// `so_far` (the same when the window is over).
pub fn budget(target: Percent, window: &Account, so_far: &Account) -> Budget {
    let eligible = window.eligible();
    let allowed = target.complement_of(eligible);
    let consumed = so_far.downtime;
    let elapsed = so_far.eligible();
    let forecast_downtime = if elapsed > SignedDuration::ZERO {
        let nanos = consumed.as_nanos() * eligible.as_nanos() / elapsed.as_nanos();
        SignedDuration::from_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
    } else {
        SignedDuration::ZERO
    };
    Budget {
        allowed,
        consumed,
        remaining: allowed - consumed,
        forecast: Availability::of_time(eligible - forecast_downtime, eligible),
    }
}

/// The downtime a target allows over a window's length: 99.999 % of 30 days is 25.92 s.
pub fn allowed_downtime(target: Percent, length: SignedDuration) -> SignedDuration {
    target.complement_of(length)
}

/// One multiwindow burn-rate rule (Google SRE workbook, chapter 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurnRule {
    /// `page` or `ticket`.
    pub severity: &'static str,
    /// The burn rate, in tenths (144 is 14.4x).
    pub tenths: u32,
    /// The long lookback.
    pub long: SignedDuration,
    /// The short lookback.
    pub short: SignedDuration,
}

/// The workbook's four rules for a 30-day objective, with their lookbacks scaled to a window
/// of `length`: page at 14.4x over 1 h and 5 min, and at 6x over 6 h and 30 min; ticket at 3x
/// over 1 d and 2 h, and at 1x over 3 d and 6 h.
pub fn standard_burn_rules(length: SignedDuration) -> Vec<BurnRule> {
    let scale = |minutes: i64| {
        let nanos = SignedDuration::from_mins(minutes).as_nanos() * length.as_nanos()
            / SignedDuration::from_hours(24 * 30).as_nanos();
        SignedDuration::from_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
    };
    [
        ("page", 144, 60, 5),
        ("page", 60, 360, 30),
        ("ticket", 30, 1440, 120),
        ("ticket", 10, 4320, 360),
    ]
    .into_iter()
    .map(|(severity, tenths, long, short)| BurnRule {
        severity,
        tenths,
        long: scale(long),
        short: scale(short),
    })
    .collect()
}

/// A burn-rate alert: from the first evaluation at which both lookbacks burn at least the
/// rule's rate to the first at which one does not (`None`: still firing at the range's end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurnAlert {
    /// The rule.
    pub rule: BurnRule,
    /// When it starts.
    pub start: Timestamp,
    /// When it ends.
    pub end: Option<Timestamp>,
}

/// Evaluates `rules` every `step` over `range`, the way a rule engine evaluates alerts, and
/// returns the alerts with the instants they start and end.
pub fn burn_alerts(
    range: TimeRange,
    step: SignedDuration,
    target: Percent,
    outages: &[Outage],
    left_out: &[TimeRange],
    rules: &Rules,
    burn_rules: &[BurnRule],
) -> Vec<BurnAlert> {
    let budget_share = i128::from(Percent::HUNDRED.micros() - target.micros());
    let burning = |at: Timestamp, lookback: SignedDuration, tenths: u32| -> bool {
        let Ok(from) = at.checked_sub(lookback) else { return false };
        let Some(window) = TimeRange::new(from, at) else { return false };
        let account = account(window, outages, left_out, rules);
        let eligible = account.eligible().as_nanos();
        // downtime / eligible >= tenths / 10 * (100 % - target)
        eligible > 0
            && account.downtime.as_nanos() * 10 * i128::from(Percent::HUNDRED.micros())
                >= i128::from(tenths) * budget_share * eligible
    };
    let mut alerts = Vec::new();
    for rule in burn_rules {
        let mut open: Option<Timestamp> = None;
        let mut at = range.start();
        while at <= range.end() {
            let firing =
                burning(at, rule.long, rule.tenths) && burning(at, rule.short, rule.tenths);
            match (firing, open) {
                (true, None) => open = Some(at),
                (false, Some(start)) => {
                    alerts.push(BurnAlert { rule: *rule, start, end: Some(at) });
                    open = None;
                }
                _ => {}
            }
            let Ok(next) = at.checked_add(step) else { break };
            at = next;
        }
        if let Some(start) = open {
            alerts.push(BurnAlert { rule: *rule, start, end: None });
        }
    }
    alerts
}

#[cfg(test)]
mod tests;

/// Probe results of one component, kept as the instants its state changed rather than one
/// row per result.
///
/// A component is declared down after `retries + 1` failed results in a row (flap damping);
/// the outage then starts at the first of them, because that is when the service failed. The
/// first successful result ends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeTimeline {
    retries: u32,
    // Invariant: sorted, alternating: each outage's start and end (the last may be open).
    changes: Vec<Timestamp>,
    failures: u32,
    first_failure: Option<Timestamp>,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    max_gap: Option<SignedDuration>,
    // Invariant: sorted, disjoint: spans between two results further apart than `max_gap`.
    gaps: Vec<TimeRange>,
}

impl ProbeTimeline {
    /// A timeline that declares the component down after `retries + 1` failures in a row.
    pub fn new(retries: u32) -> ProbeTimeline {
        ProbeTimeline {
            retries,
            changes: Vec::new(),
            failures: 0,
            first_failure: None,
            first: None,
            last: None,
            max_gap: None,
            gaps: Vec::new(),
        }
    }

    /// The same, also keeping the spans with no result for longer than `max_gap` (twice the
    /// probe's interval, say): the figures are computed without them, and reported with them.
    pub fn with_gaps(retries: u32, max_gap: SignedDuration) -> ProbeTimeline {
        ProbeTimeline { max_gap: Some(max_gap), ..ProbeTimeline::new(retries) }
    }

    /// The spans inside `range` with no result for longer than the gap limit, including
    /// before the first result and after the last one (empty without a limit).
    pub fn gaps(&self, range: TimeRange) -> Vec<TimeRange> {
        let Some(max_gap) = self.max_gap else { return Vec::new() };
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return vec![range];
        };
        let clip = |span: TimeRange| {
            TimeRange::new(span.start().max(range.start()), span.end().min(range.end()))
                .filter(|clipped| clipped.start() < clipped.end())
        };
        // Gaps between results were longer than the limit when recorded; the stretches
        // before the first result and after the last count when they are.
        let edges = [TimeRange::new(range.start(), first), TimeRange::new(last, range.end())]
            .into_iter()
            .flatten()
            .filter_map(clip)
            .filter(|edge| edge.end().duration_since(edge.start()) > max_gap);
        let mut gaps: Vec<TimeRange> =
            self.gaps.iter().copied().filter_map(clip).chain(edges).collect();
        gaps.sort_by_key(|gap| gap.start());
        gaps
    }

    /// A timeline restored from what was stored: its settings, where it stopped, and the
    /// outages (each `(start, end)`, the last possibly open) and gaps recorded so far, sorted.
    /// To go on recording, only the open outage is needed.
    pub fn restore(
        retries: u32,
        max_gap: Option<SignedDuration>,
        cursor: ProbeCursor,
        outages: &[(Timestamp, Option<Timestamp>)],
        gaps: Vec<TimeRange>,
    ) -> ProbeTimeline {
        let mut changes = Vec::with_capacity(outages.len() * 2);
        for (start, end) in outages {
            changes.push(*start);
            match end {
                Some(end) => changes.push(*end),
                None => break,
            }
        }
        ProbeTimeline {
            retries,
            changes,
            failures: cursor.failures,
            first_failure: cursor.first_failure,
            first: cursor.first,
            last: cursor.last,
            max_gap,
            gaps,
        }
    }

    /// Where the timeline stopped: what [`ProbeTimeline::restore`] needs beside the outages.
    pub fn cursor(&self) -> ProbeCursor {
        ProbeCursor {
            failures: self.failures,
            first_failure: self.first_failure,
            first: self.first,
            last: self.last,
        }
    }

    /// The newest result recorded.
    pub fn last(&self) -> Option<Timestamp> {
        self.last
    }

    /// Every outage kept, as `(start, end)`; the last may be open.
    pub fn intervals(&self) -> impl Iterator<Item = (Timestamp, Option<Timestamp>)> + '_ {
        self.changes.chunks(2).map(|pair| (pair[0], pair.get(1).copied()))
    }

    /// Every gap kept between two results.
    pub fn recorded_gaps(&self) -> &[TimeRange] {
        &self.gaps
    }

    /// Records one result; results no newer than the newest one are ignored (probes of one
    /// component run in order, and a result delivered twice counts once).
    pub fn record(&mut self, at: Timestamp, up: bool) {
        if self.last.is_some_and(|last| at <= last) {
            return;
        }
        if let (Some(last), Some(max_gap)) = (self.last, self.max_gap)
            && at.duration_since(last) > max_gap
            && let Some(gap) = TimeRange::new(last, at)
        {
            self.gaps.push(gap);
        }
        self.first.get_or_insert(at);
        self.last = Some(at);
        let down = self.changes.len() % 2 == 1;
        if up {
            if down {
                self.changes.push(at);
            }
            self.failures = 0;
            self.first_failure = None;
            return;
        }
        if down {
            return;
        }
        self.failures += 1;
        let first = *self.first_failure.get_or_insert(at);
        if self.failures > self.retries {
            self.changes.push(first);
        }
    }

    /// Whether the component is down after the last result.
    pub fn is_down(&self) -> bool {
        self.changes.len() % 2 == 1
    }

    /// The outages that overlap `range` (an open one runs to the range's end).
    pub fn outages(&self, range: TimeRange) -> Vec<Outage> {
        let first = self.changes.partition_point(|at| *at < range.start()) & !1;
        let first = first.saturating_sub(2);
        self.changes[first..]
            .chunks(2)
            .filter_map(|pair| {
                let start = pair[0];
                let end = pair.get(1).copied().unwrap_or(range.end());
                (start < range.end() && end > range.start())
                    .then(|| TimeRange::new(start, end))
                    .flatten()
                    .map(|range| Outage { range, impact: Impact::Major })
            })
            .collect()
    }

    /// The number of state changes kept.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether no outage was ever recorded.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Where a [`ProbeTimeline`] stopped, beside its outages: what a store keeps to go on
/// recording after a restart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeCursor {
    /// Failed results in a row since the last success, while not yet declared down.
    pub failures: u32,
    /// The first of those failures.
    pub first_failure: Option<Timestamp>,
    /// The first result ever recorded.
    pub first: Option<Timestamp>,
    /// The newest result recorded.
    pub last: Option<Timestamp>,
}

/// Latencies kept as one small histogram per minute, so a percentile over any window of whole
/// minutes can be computed without keeping every sample.
///
/// Buckets grow by a factor of 2^(1/8) (about 9 %) from 1 ms; a percentile is reported as the
/// upper bound of the bucket holding it, so it is never understated and at most 9 % high.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    // Invariant: per minute since the Unix epoch, (bucket, count) sorted by bucket.
    minutes: std::collections::BTreeMap<i64, Vec<(u16, u32)>>,
}

const BUCKETS_PER_DOUBLING: f64 = 8.0;

fn bucket_of(latency: SignedDuration) -> u16 {
    let millis = latency.as_secs_f64() * 1000.0;
    if millis <= 1.0 {
        return 0;
    }
    // Float only to find the bucket; the bucket's bound is what is reported.
    let bucket = (millis.log2() * BUCKETS_PER_DOUBLING).ceil();
    if bucket >= f64::from(u16::MAX) { u16::MAX } else { bucket as u16 }
}

/// The upper bound of a bucket.
fn bucket_bound(bucket: u16) -> SignedDuration {
    let millis = (f64::from(bucket) / BUCKETS_PER_DOUBLING).exp2();
    SignedDuration::from_micros((millis * 1000.0).round() as i64)
}

impl LatencyHistogram {
    /// Records one latency measured at `at`.
    pub fn record(&mut self, at: Timestamp, latency: SignedDuration) {
        let minute = at.as_second().div_euclid(60);
        let bucket = bucket_of(latency);
        let counts = self.minutes.entry(minute).or_default();
        match counts.binary_search_by_key(&bucket, |(b, _)| *b) {
            Ok(idx) => counts[idx].1 += 1,
            Err(idx) => counts.insert(idx, (bucket, 1)),
        }
    }

    /// Each minute (since the Unix epoch) with its `(bucket, count)` pairs, in order.
    pub fn minutes(&self) -> impl Iterator<Item = (i64, &[(u16, u32)])> + '_ {
        self.minutes.iter().map(|(minute, counts)| (*minute, counts.as_slice()))
    }

    /// Adds counts to one minute, as [`LatencyHistogram::minutes`] gives them (merging two
    /// histograms, or restoring a stored one).
    pub fn add(&mut self, minute: i64, counts: &[(u16, u32)]) {
        let kept = self.minutes.entry(minute).or_default();
        for (bucket, count) in counts {
            match kept.binary_search_by_key(bucket, |(b, _)| *b) {
                Ok(idx) => kept[idx].1 = kept[idx].1.saturating_add(*count),
                Err(idx) => kept.insert(idx, (*bucket, *count)),
            }
        }
    }

    /// Whether no latency was recorded.
    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty()
    }

    /// The `percentile` (such as 99) of the latencies recorded in the minutes that start in
    /// `range`, with the number of samples; `None` without samples.
    pub fn percentile(
        &self,
        range: TimeRange,
        percentile: Percent,
    ) -> Option<(SignedDuration, u64)> {
        let first = range.start().as_second().div_euclid(60);
        let last = (range.end().as_second() - 1).div_euclid(60);
        let mut totals: std::collections::BTreeMap<u16, u64> = std::collections::BTreeMap::new();
        for counts in self.minutes.range(first..=last).map(|(_, counts)| counts) {
            for (bucket, count) in counts {
                *totals.entry(*bucket).or_default() += u64::from(*count);
            }
        }
        let n_samples: u64 = totals.values().sum();
        if n_samples == 0 {
            return None;
        }
        // The rank of the sample at the percentile: ceil(n * p / 100), at least 1.
        let scale = u128::from(Percent::HUNDRED.micros());
        let rank = (u128::from(n_samples) * u128::from(percentile.micros())).div_ceil(scale).max(1);
        let mut seen: u128 = 0;
        for (bucket, count) in totals {
            seen += u128::from(count);
            if seen >= rank {
                return Some((bucket_bound(bucket), n_samples));
            }
        }
        None
    }
}

/// The outages of a component that must check in every `every`: when a check-in comes more
/// than `grace` late, the component was down from the instant it was due until it checked in
/// (or until `range` ends). `beats` are the check-ins, sorted; `since` is when monitoring
/// began, so a component that never checked in is down from `since + every`.
pub fn heartbeat_outages(
    beats: &[Timestamp],
    every: SignedDuration,
    grace: SignedDuration,
    since: Timestamp,
    range: TimeRange,
) -> Vec<Outage> {
    let mut outages = Vec::new();
    let mut last = since;
    let beats_in = beats.iter().copied().filter(|beat| *beat >= since && *beat < range.end());
    for beat in beats_in.chain(std::iter::once(range.end())) {
        let (Ok(due), Ok(late)) = (last.checked_add(every), last.checked_add(every + grace)) else {
            break;
        };
        if beat > late && due < range.end() {
            let start = due.max(range.start());
            let end = beat.min(range.end());
            if let Some(span) = TimeRange::new(start, end).filter(|span| span.start() < span.end())
            {
                outages.push(Outage { range: span, impact: Impact::Major });
            }
        }
        last = beat;
    }
    outages
}

/// Good and total requests of one interval, as a service pushes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestCount {
    /// The interval counted.
    pub range: TimeRange,
    /// Requests that succeeded.
    pub good: u64,
    /// All requests.
    pub total: u64,
}

/// Whether an interval counts in `window`: it starts there, outside every left-out span.
fn counts_in(count: &RequestCount, window: TimeRange, left_out: &[TimeRange]) -> bool {
    let start = count.range.start();
    start >= window.start()
        && start < window.end()
        && !left_out.iter().any(|span| span.start() <= start && start < span.end())
}

/// Good requests over all requests of the intervals that start in `window` outside the
/// left-out spans (`method: requests`).
pub fn requests(
    window: TimeRange,
    counts: &[RequestCount],
    left_out: &[TimeRange],
) -> Availability {
    let (good, total) = counts.iter().filter(|count| counts_in(count, window, left_out)).fold(
        (0i128, 0i128),
        |(good, total), count| {
            (good + i128::from(count.good.min(count.total)), total + i128::from(count.total))
        },
    );
    Availability::of_counts(good, total)
}

/// The mean over slices of `slice` of each slice's good share (`method: ratio_timeslices`);
/// slices without requests do not count. Each slice's share is taken to a millionth of a
/// percent, rounded down, before the mean.
pub fn ratio_timeslices(
    window: TimeRange,
    slice: SignedDuration,
    counts: &[RequestCount],
    left_out: &[TimeRange],
) -> Availability {
    let mut slices: std::collections::BTreeMap<i128, (i128, i128)> =
        std::collections::BTreeMap::new();
    let slice_nanos = slice.as_nanos().max(1);
    for count in counts.iter().filter(|count| counts_in(count, window, left_out)) {
        let idx = count.range.start().duration_since(window.start()).as_nanos() / slice_nanos;
        let entry = slices.entry(idx).or_default();
        entry.0 += i128::from(count.good.min(count.total));
        entry.1 += i128::from(count.total);
    }
    let hundred = i128::from(Percent::HUNDRED.micros());
    let (sum, n) = slices
        .values()
        .filter(|(_, total)| *total > 0)
        .fold((0i128, 0i128), |(sum, n), (good, total)| (sum + good * hundred / total, n + 1));
    Availability::of_counts(sum, n * hundred)
}
