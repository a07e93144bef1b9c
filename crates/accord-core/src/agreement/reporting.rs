//! The reporting schedule of an agreement: how often a customer's compliance report is sent,
//! in which formats, to whom besides the customer's `reports` contacts, and when each period's
//! report is due.
//!
//! Separate from the rest of [`super::Terms`] because it is the one term about the provider's
//! paperwork rather than the service: it measures nothing, and only the server's report
//! scheduler reads it. The due instants are computed here, from values, so the scheduler only
//! asks and every node gets the same answer.

use std::fmt;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// How often a report is sent: one per calendar period, in the customer's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportEvery {
    /// Each calendar month.
    Month,
    /// Each calendar quarter (January, April, July and October start one).
    Quarter,
    /// Each calendar year.
    Year,
}

impl ReportEvery {
    /// Every period length, in document order.
    pub const ALL: [ReportEvery; 3] = [ReportEvery::Month, ReportEvery::Quarter, ReportEvery::Year];

    /// The word used in documents (`every: month`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportEvery::Month => "month",
            ReportEvery::Quarter => "quarter",
            ReportEvery::Year => "year",
        }
    }

    /// The period's length in months.
    fn months(self) -> i8 {
        match self {
            ReportEvery::Month => 1,
            ReportEvery::Quarter => 3,
            ReportEvery::Year => 12,
        }
    }
}

/// A report file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportFormat {
    /// Laid out for print.
    Pdf,
    /// A self-contained page.
    Html,
    /// One row per figure, for spreadsheets.
    Csv,
    /// Structured data, for programs.
    Json,
}

impl ReportFormat {
    /// Every format, in document order.
    pub const ALL: [ReportFormat; 4] =
        [ReportFormat::Pdf, ReportFormat::Html, ReportFormat::Csv, ReportFormat::Json];

    /// The word used in documents (`formats: [pdf]`), also the file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "pdf",
            ReportFormat::Html => "html",
            ReportFormat::Csv => "csv",
            ReportFormat::Json => "json",
        }
    }
}

/// When and how a customer's compliance report is sent (`spec.reporting`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reporting {
    /// The period each report covers.
    pub every: ReportEvery,
    /// The files attached.
    // Invariant (checked by the loader): at least one, none twice.
    pub formats: Vec<ReportFormat>,
    /// The day of the month after the period ends on which the report is due.
    // Invariant (checked by the loader): 1 to 28, so every month has it.
    pub day: i8,
    /// The local time on that day, in the customer's zone.
    pub at: Time,
    /// E-mail addresses the report goes to besides the customer's `reports` contacts.
    pub recipients: Vec<String>,
}

/// One period of a reporting schedule and when its report is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportPeriod {
    /// The period as reports name it: `2026-10`, `2026-Q4` or `2026`.
    pub label: String,
    /// Its first day.
    pub start: Date,
    /// The day after its last day.
    pub end: Date,
    /// When its report is due: the schedule's `day` of the month `end` falls in, at `at`.
    pub due_at: Timestamp,
}

impl Reporting {
    /// The latest period whose report is due at or before `now`, the schedule read in `zone`
    /// (the customer's). A due time in a DST gap moves forward by the gap, a repeated one takes
    /// its first occurrence (`Disambiguation::Compatible`).
    ///
    /// `None` only at the edges of the representable dates.
    ///
    /// # Examples
    ///
    /// ```
    /// use accord_core::agreement::{ReportEvery, ReportFormat, Reporting};
    /// use jiff::civil::time;
    ///
    /// let monthly = Reporting {
    ///     every: ReportEvery::Month,
    ///     formats: vec![ReportFormat::Pdf],
    ///     day: 1,
    ///     at: time(8, 0, 0, 0),
    ///     recipients: vec![],
    /// };
    /// let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    /// let due = monthly.latest_due(&berlin, "2026-11-22T12:00:00Z".parse().unwrap()).unwrap();
    /// assert_eq!(due.label, "2026-10");
    /// assert_eq!(due.due_at.to_string(), "2026-11-01T07:00:00Z");
    /// ```
    pub fn latest_due(&self, zone: &TimeZone, now: Timestamp) -> Option<ReportPeriod> {
        let current = self.period_start(now.to_zoned(zone.clone()).date())?;
        let ended = self.period(self.step(current, -1)?, zone)?;
        if ended.due_at <= now { Some(ended) } else { self.period(self.step(current, -2)?, zone) }
    }

    /// The first instant after `now` at which a period's report falls due.
    ///
    /// `None` only at the edges of the representable dates.
    pub fn next_due(&self, zone: &TimeZone, now: Timestamp) -> Option<Timestamp> {
        let current = self.period_start(now.to_zoned(zone.clone()).date())?;
        let ended = self.period(self.step(current, -1)?, zone)?;
        if ended.due_at > now {
            Some(ended.due_at)
        } else {
            Some(self.period(current, zone)?.due_at)
        }
    }

    /// The first day of the period `date` is in.
    fn period_start(&self, date: Date) -> Option<Date> {
        let month = match self.every {
            ReportEvery::Month => date.month(),
            ReportEvery::Quarter => (date.month() - 1) / 3 * 3 + 1,
            ReportEvery::Year => 1,
        };
        Date::new(date.year(), month, 1).ok()
    }

    /// The first day of the period `n` periods after (or before) the one starting on `start`.
    fn step(&self, start: Date, n: i8) -> Option<Date> {
        start.checked_add(i32::from(self.every.months() * n).months()).ok()
    }

    /// The period starting on `start`, and when its report is due in `zone`.
    fn period(&self, start: Date, zone: &TimeZone) -> Option<ReportPeriod> {
        let end = self.step(start, 1)?;
        let label = match self.every {
            ReportEvery::Month => format!("{:04}-{:02}", start.year(), start.month()),
            ReportEvery::Quarter => format!("{:04}-Q{}", start.year(), (start.month() - 1) / 3 + 1),
            ReportEvery::Year => format!("{:04}", start.year()),
        };
        // A day past the month's end (only out of the loader's range) is its last day.
        let due_date = Date::new(end.year(), end.month(), self.day).unwrap_or(end.last_of_month());
        let due_at =
            zone.to_ambiguous_timestamp(due_date.to_datetime(self.at)).compatible().ok()?;
        Some(ReportPeriod { label, start, end, due_at })
    }
}

impl fmt::Display for Reporting {
    /// `every month on day 1 at 08:00, as pdf, csv, also to audit@acme.example`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let formats: Vec<&str> = self.formats.iter().map(|format| format.as_str()).collect();
        write!(
            f,
            "every {} on day {} at {}, as {}",
            self.every.as_str(),
            self.day,
            self.at.strftime("%H:%M"),
            formats.join(", ")
        )?;
        if !self.recipients.is_empty() {
            write!(f, ", also to {}", self.recipients.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use jiff::civil::time;

    use super::*;

    fn schedule(every: ReportEvery, day: i8, at: &str) -> Reporting {
        Reporting {
            every,
            formats: vec![ReportFormat::Pdf],
            day,
            at: at.parse().unwrap(),
            recipients: Vec::new(),
        }
    }

    /// The latest due period and the next due instant at `now`, in `zone`.
    #[track_caller]
    fn check(reporting: &Reporting, zone: &str, now: &str, expect: Expect) {
        let zone = TimeZone::get(zone).unwrap();
        let now: Timestamp = now.parse().unwrap();
        let latest = reporting.latest_due(&zone, now).unwrap();
        let next = reporting.next_due(&zone, now).unwrap();
        assert!(latest.due_at <= now && now < next, "{latest:?} {next}");
        expect.assert_eq(&format!(
            "{} ({} to {}) due {}; next {}",
            latest.label,
            latest.start,
            latest.end,
            latest.due_at.to_zoned(zone.clone()),
            next.to_zoned(zone)
        ));
    }

    #[test]
    fn a_month_is_due_on_the_day_of_the_next_month_in_local_time() {
        let monthly = schedule(ReportEvery::Month, 1, "08:00");
        check(
            &monthly,
            "Europe/Berlin",
            "2026-11-22T12:00:00Z",
            expect![
                "2026-10 (2026-10-01 to 2026-11-01) due 2026-11-01T08:00:00+01:00[Europe/Berlin]; next 2026-12-01T08:00:00+01:00[Europe/Berlin]"
            ],
        );
        // A minute before October's report is due, September's is the latest.
        check(
            &monthly,
            "Europe/Berlin",
            "2026-11-01T06:59:00Z",
            expect![
                "2026-09 (2026-09-01 to 2026-10-01) due 2026-10-01T08:00:00+02:00[Europe/Berlin]; next 2026-11-01T08:00:00+01:00[Europe/Berlin]"
            ],
        );
        // At the instant itself it is due.
        check(
            &monthly,
            "Europe/Berlin",
            "2026-11-01T07:00:00Z",
            expect![
                "2026-10 (2026-10-01 to 2026-11-01) due 2026-11-01T08:00:00+01:00[Europe/Berlin]; next 2026-12-01T08:00:00+01:00[Europe/Berlin]"
            ],
        );
    }

    #[test]
    fn quarters_and_years_are_due_after_they_end() {
        check(
            &schedule(ReportEvery::Quarter, 5, "09:30"),
            "Asia/Singapore",
            "2026-11-22T12:00:00Z",
            expect![
                "2026-Q3 (2026-07-01 to 2026-10-01) due 2026-10-05T09:30:00+08:00[Asia/Singapore]; next 2027-01-05T09:30:00+08:00[Asia/Singapore]"
            ],
        );
        check(
            &schedule(ReportEvery::Quarter, 5, "09:30"),
            "Asia/Singapore",
            "2027-01-03T00:00:00Z",
            expect![
                "2026-Q3 (2026-07-01 to 2026-10-01) due 2026-10-05T09:30:00+08:00[Asia/Singapore]; next 2027-01-05T09:30:00+08:00[Asia/Singapore]"
            ],
        );
        check(
            &schedule(ReportEvery::Year, 28, "00:00"),
            "UTC",
            "2026-11-22T12:00:00Z",
            expect![
                "2025 (2025-01-01 to 2026-01-01) due 2026-01-28T00:00:00+00:00[UTC]; next 2027-01-28T00:00:00+00:00[UTC]"
            ],
        );
    }

    #[test]
    fn due_times_in_a_gap_move_forward_and_in_a_fold_take_the_first() {
        // Berlin skips 02:00-03:00 on Sunday 28 March 2027.
        check(
            &schedule(ReportEvery::Month, 28, "02:30"),
            "Europe/Berlin",
            "2027-03-28T12:00:00Z",
            expect![
                "2027-02 (2027-02-01 to 2027-03-01) due 2027-03-28T03:30:00+02:00[Europe/Berlin]; next 2027-04-28T02:30:00+02:00[Europe/Berlin]"
            ],
        );
        // The repeated hour takes its first occurrence: Berlin repeats 02:00-03:00 on Sunday
        // 28 October 2029.
        check(
            &schedule(ReportEvery::Month, 28, "02:30"),
            "Europe/Berlin",
            "2029-10-28T12:00:00Z",
            expect![
                "2029-09 (2029-09-01 to 2029-10-01) due 2029-10-28T02:30:00+02:00[Europe/Berlin]; next 2029-11-28T02:30:00+01:00[Europe/Berlin]"
            ],
        );
    }

    #[test]
    fn the_schedule_reads_as_a_sentence() {
        let reporting = Reporting {
            formats: vec![ReportFormat::Pdf, ReportFormat::Csv],
            recipients: vec!["audit@acme.example".to_owned()],
            ..schedule(ReportEvery::Quarter, 3, "07:15")
        };
        assert_eq!(
            reporting.to_string(),
            "every quarter on day 3 at 07:15, as pdf, csv, also to audit@acme.example"
        );
    }

    #[test]
    fn every_local_day_of_a_leap_year_has_the_month_before_as_the_latest_due() {
        let monthly = schedule(ReportEvery::Month, 1, "00:00");
        let zone = TimeZone::get("America/New_York").unwrap();
        let mut day = jiff::civil::date(2028, 1, 1);
        while day.year() == 2028 {
            let noon = zone.to_ambiguous_timestamp(day.at(12, 0, 0, 0)).compatible().unwrap();
            let latest = monthly.latest_due(&zone, noon).unwrap();
            assert_eq!(latest.end, day.first_of_month(), "{day}");
            // Midnight of the 1st is due at once; a nanosecond before, the month before that.
            let first =
                zone.to_ambiguous_timestamp(day.first_of_month().to_datetime(time(0, 0, 0, 0)));
            let first = first.compatible().unwrap();
            assert_eq!(monthly.latest_due(&zone, first).unwrap().end, day.first_of_month());
            let before = first - jiff::SignedDuration::from_nanos(1);
            let earlier = monthly.latest_due(&zone, before).unwrap();
            assert_eq!(earlier.end, day.first_of_month() - 1.month(), "{day}");
            assert_eq!(monthly.next_due(&zone, before), Some(first), "{day}");
            day = day.tomorrow().unwrap();
        }
    }
}
