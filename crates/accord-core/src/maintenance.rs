//! Recurrence rules of planned maintenance windows: RFC 5545 `RRULE` values, parsed,
//! validated and expanded into occurrence dates.
//!
//! Supported parts: `FREQ` (`DAILY`, `WEEKLY`, `MONTHLY`, `YEARLY`), `INTERVAL`, `COUNT`,
//! `UNTIL`, `BYDAY`, `BYMONTHDAY`, `BYMONTH`, `BYSETPOS` and `WKST`. Sub-daily frequencies are
//! refused: a maintenance window recurring every few hours is an outage, not maintenance.

use std::fmt;

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

/// An `RRULE` that does not parse, naming the part and what is expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid RRULE part {part:?}: {expected}")]
pub struct RruleError {
    /// The offending part (`BYDAY=XX`), or the whole rule.
    pub part: String,
    /// What is expected.
    pub expected: String,
}

/// How often a rule repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frequency {
    /// Every day.
    Daily,
    /// Every week.
    Weekly,
    /// Every month.
    Monthly,
    /// Every year.
    Yearly,
}

/// A weekday in `BYDAY`, with an optional ordinal (`1SA`, `-1FR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByDay {
    /// The ordinal within the month or year (1 = first, -1 = last), if any.
    pub nth: Option<i8>,
    /// The weekday.
    pub weekday: Weekday,
}

/// The end of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RruleEnd {
    /// Never.
    Never,
    /// After this many occurrences.
    Count(u32),
    /// On or before this date.
    Until(Date),
}

/// A validated RFC 5545 recurrence rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rrule {
    /// `FREQ`.
    pub frequency: Frequency,
    /// `INTERVAL` (at least 1).
    pub interval: u32,
    /// `COUNT` or `UNTIL`.
    pub end: RruleEnd,
    /// `BYDAY`.
    pub by_day: Vec<ByDay>,
    /// `BYMONTHDAY` (1..=31 or -31..=-1).
    pub by_month_day: Vec<i8>,
    /// `BYMONTH` (1..=12).
    pub by_month: Vec<i8>,
    /// `BYSETPOS` (1..=366 or -366..=-1).
    pub by_set_pos: Vec<i16>,
    /// `WKST`.
    pub week_start: Weekday,
    text: String,
}

impl Rrule {
    /// Parses `FREQ=MONTHLY;BYDAY=1SA` (an optional leading `RRULE:` is accepted).
    ///
    /// # Errors
    ///
    /// [`RruleError`] naming the first part that is unknown, repeated or out of range.
    pub fn parse(text: &str) -> Result<Rrule, RruleError> {
        let body = text.trim().strip_prefix("RRULE:").unwrap_or(text.trim());
        let error = |part: &str, expected: &str| RruleError {
            part: part.to_owned(),
            expected: expected.to_owned(),
        };
        let mut frequency = None;
        let mut rule = Rrule {
            frequency: Frequency::Daily,
            interval: 1,
            end: RruleEnd::Never,
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            by_month: Vec::new(),
            by_set_pos: Vec::new(),
            week_start: Weekday::Monday,
            text: body.to_owned(),
        };
        let mut seen: Vec<&str> = Vec::new();
        for part in body.split(';') {
            let Some((key, value)) = part.split_once('=') else {
                return Err(error(part, "expected NAME=VALUE"));
            };
            let key_upper = key.to_ascii_uppercase();
            if seen.iter().any(|earlier| earlier.eq_ignore_ascii_case(key)) {
                return Err(error(part, "each part may appear once"));
            }
            seen.push(key);
            let value = value.to_ascii_uppercase();
            match key_upper.as_str() {
                "FREQ" => {
                    frequency = Some(match value.as_str() {
                        "DAILY" => Frequency::Daily,
                        "WEEKLY" => Frequency::Weekly,
                        "MONTHLY" => Frequency::Monthly,
                        "YEARLY" => Frequency::Yearly,
                        "SECONDLY" | "MINUTELY" | "HOURLY" => {
                            return Err(error(
                                part,
                                "maintenance recurs at most daily: expected DAILY, WEEKLY, MONTHLY or YEARLY",
                            ));
                        }
                        _ => return Err(error(part, "expected DAILY, WEEKLY, MONTHLY or YEARLY")),
                    });
                }
                "INTERVAL" => {
                    rule.interval = value
                        .parse()
                        .ok()
                        .filter(|interval| *interval >= 1)
                        .ok_or_else(|| error(part, "expected a positive whole number"))?;
                }
                "COUNT" | "UNTIL" if rule.end != RruleEnd::Never => {
                    return Err(error(part, "give COUNT or UNTIL, not both"));
                }
                "COUNT" => {
                    let count = value
                        .parse()
                        .ok()
                        .filter(|count| *count >= 1)
                        .ok_or_else(|| error(part, "expected a positive whole number"))?;
                    rule.end = RruleEnd::Count(count);
                }
                "UNTIL" => {
                    let date = value.get(..8).and_then(|digits| {
                        let year = digits.get(0..4)?.parse().ok()?;
                        let month = digits.get(4..6)?.parse().ok()?;
                        let day = digits.get(6..8)?.parse().ok()?;
                        Date::new(year, month, day).ok()
                    });
                    let rest_ok = matches!(value.len(), 8 | 15 | 16);
                    match date {
                        Some(date) if rest_ok => rule.end = RruleEnd::Until(date),
                        _ => {
                            return Err(error(
                                part,
                                "expected a date YYYYMMDD or YYYYMMDDTHHMMSSZ",
                            ));
                        }
                    }
                }
                "BYDAY" => {
                    for item in value.split(',') {
                        rule.by_day.push(parse_by_day(item).ok_or_else(|| {
                            error(part, "expected weekdays such as MO,WE or 1SA,-1FR")
                        })?);
                    }
                }
                "BYMONTHDAY" => {
                    rule.by_month_day = parse_list(&value, 31).ok_or_else(|| {
                        error(part, "expected days of the month from 1 to 31 or -31 to -1")
                    })?;
                }
                "BYMONTH" => {
                    rule.by_month = parse_list(&value, 12)
                        .filter(|months| months.iter().all(|month| *month > 0))
                        .ok_or_else(|| error(part, "expected months from 1 to 12"))?;
                }
                "BYSETPOS" => {
                    rule.by_set_pos = parse_list(&value, 366).ok_or_else(|| {
                        error(part, "expected positions from 1 to 366 or -366 to -1")
                    })?;
                }
                "WKST" => {
                    rule.week_start = parse_weekday(&value)
                        .ok_or_else(|| error(part, "expected a weekday such as MO"))?;
                }
                _ => {
                    return Err(error(
                        part,
                        "unsupported part: expected FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS or WKST",
                    ));
                }
            }
        }
        rule.frequency = frequency.ok_or_else(|| error(body, "FREQ is required"))?;
        if rule.by_day.iter().any(|day| day.nth.is_some())
            && !matches!(rule.frequency, Frequency::Monthly | Frequency::Yearly)
        {
            return Err(error(body, "ordinal weekdays (1SA) need FREQ=MONTHLY or YEARLY"));
        }
        Ok(rule)
    }
}

impl fmt::Display for Rrule {
    /// The rule as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Rrule {
    /// The dates the rule gives from `first` (the window's first date, `DTSTART`) up to
    /// `last` inclusive, in order. `COUNT` counts from `first`; dates a month does not have
    /// (the 31st of April) are skipped, as RFC 5545 says.
    pub fn dates(&self, first: Date, last: Date) -> Vec<Date> {
        let mut dates = Vec::new();
        let mut n_seen: u32 = 0;
        let step = i64::from(self.interval);
        for period_idx in 0.. {
            let Some((period_start, candidates)) = self.period(first, period_idx * step) else {
                break;
            };
            if period_start > last {
                break;
            }
            for date in self.select(candidates) {
                if date < first {
                    continue;
                }
                match self.end {
                    RruleEnd::Count(count) if n_seen >= count => return dates,
                    RruleEnd::Until(until) if date > until => return dates,
                    _ => {}
                }
                n_seen += 1;
                if date <= last {
                    dates.push(date);
                }
            }
        }
        dates
    }

    /// The first date of the `offset`-th period after the one holding `first`, and the dates
    /// of that period the `BY` parts allow.
    fn period(&self, first: Date, offset: i64) -> Option<(Date, Vec<Date>)> {
        let keep_month =
            |date: &Date| self.by_month.is_empty() || self.by_month.contains(&date.month());
        let keep_weekday = |date: &Date| {
            self.by_day.is_empty() || self.by_day.iter().any(|by| by.weekday == date.weekday())
        };
        let keep_month_day = |date: &Date| {
            self.by_month_day.is_empty()
                || self.by_month_day.iter().any(|day| month_day(*date, *day) == Some(*date))
        };
        match self.frequency {
            Frequency::Daily => {
                let date = first.checked_add(offset.days()).ok()?;
                let keep = keep_month(&date) && keep_weekday(&date) && keep_month_day(&date);
                Some((date, if keep { vec![date] } else { Vec::new() }))
            }
            Frequency::Weekly => {
                let back = (7 + i64::from(first.weekday().to_monday_zero_offset())
                    - i64::from(self.week_start.to_monday_zero_offset()))
                    % 7;
                let start =
                    first.checked_sub(back.days()).ok()?.checked_add((7 * offset).days()).ok()?;
                let week: Vec<Date> =
                    (0..7).filter_map(|day| start.checked_add(day.days()).ok()).collect();
                let dates = week
                    .into_iter()
                    .filter(|date| {
                        let weekday = if self.by_day.is_empty() {
                            date.weekday() == first.weekday()
                        } else {
                            keep_weekday(date)
                        };
                        weekday && keep_month(date)
                    })
                    .collect();
                Some((start, dates))
            }
            Frequency::Monthly => {
                let start = first.first_of_month().checked_add(offset.months()).ok()?;
                let dates = self.month_dates(start, first).into_iter().filter(keep_month).collect();
                Some((start, dates))
            }
            Frequency::Yearly => {
                let start =
                    Date::new(first.year().checked_add(i16::try_from(offset).ok()?)?, 1, 1).ok()?;
                let months: Vec<i8> = if !self.by_month.is_empty() {
                    self.by_month.clone()
                } else if self.by_day.is_empty() && self.by_month_day.is_empty() {
                    vec![first.month()]
                } else {
                    (1..=12).collect()
                };
                let mut dates = Vec::new();
                for month in months {
                    let month_start = Date::new(start.year(), month, 1).ok()?;
                    dates.extend(self.month_dates(month_start, first));
                }
                Some((start, dates))
            }
        }
    }

    /// The dates of the month starting at `month_start` that `BYDAY` and `BYMONTHDAY` allow;
    /// without either, the day of the month of `first`.
    fn month_dates(&self, month_start: Date, first: Date) -> Vec<Date> {
        let days: Vec<Date> = (0..i64::from(month_start.days_in_month()))
            .filter_map(|day| month_start.checked_add(day.days()).ok())
            .collect();
        let by_month_day =
            |date: &Date| self.by_month_day.iter().any(|day| month_day(*date, *day) == Some(*date));
        if self.by_day.is_empty() {
            if self.by_month_day.is_empty() {
                return days.into_iter().filter(|date| date.day() == first.day()).collect();
            }
            return days.into_iter().filter(by_month_day).collect();
        }
        let mut dates: Vec<Date> = Vec::new();
        for by in &self.by_day {
            let matching: Vec<Date> =
                days.iter().copied().filter(|date| date.weekday() == by.weekday).collect();
            match by.nth {
                None => dates.extend(matching),
                Some(nth) if nth > 0 => {
                    dates.extend(matching.get(usize::from(nth.unsigned_abs()) - 1))
                }
                Some(nth) => {
                    let back = usize::from(nth.unsigned_abs());
                    if back <= matching.len() {
                        dates.push(matching[matching.len() - back]);
                    }
                }
            }
        }
        if !self.by_month_day.is_empty() {
            dates.retain(by_month_day);
        }
        dates
    }

    /// Sorts a period's dates and applies `BYSETPOS`.
    fn select(&self, mut dates: Vec<Date>) -> Vec<Date> {
        dates.sort();
        dates.dedup();
        if self.by_set_pos.is_empty() {
            return dates;
        }
        let len = i16::try_from(dates.len()).unwrap_or(i16::MAX);
        let mut chosen: Vec<Date> = self
            .by_set_pos
            .iter()
            .filter_map(|pos| {
                let idx = if *pos > 0 { pos - 1 } else { len + pos };
                usize::try_from(idx).ok().and_then(|idx| dates.get(idx).copied())
            })
            .collect();
        chosen.sort();
        chosen.dedup();
        chosen
    }
}

/// The `day`-th day of `date`'s month (negative: from its end), if the month has it.
fn month_day(date: Date, day: i8) -> Option<Date> {
    let days_in_month = date.days_in_month();
    let day = if day > 0 { day } else { days_in_month + 1 + day };
    if day < 1 || day > days_in_month {
        return None;
    }
    Date::new(date.year(), date.month(), day).ok()
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    Some(match text {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return None,
    })
}

fn parse_by_day(item: &str) -> Option<ByDay> {
    let split = item.len().checked_sub(2)?;
    let weekday = parse_weekday(item.get(split..)?)?;
    let ordinal = item.get(..split)?;
    let nth = if ordinal.is_empty() {
        None
    } else {
        let nth: i8 = ordinal.strip_prefix('+').unwrap_or(ordinal).parse().ok()?;
        if nth == 0 || !(-53..=53).contains(&nth) {
            return None;
        }
        Some(nth)
    };
    Some(ByDay { nth, weekday })
}

fn parse_list<T: std::str::FromStr + Copy + Into<i32>>(text: &str, max: i32) -> Option<Vec<T>> {
    text.split(',')
        .map(|item| {
            let value: T = item.strip_prefix('+').unwrap_or(item).parse().ok()?;
            let number: i32 = value.into();
            (number != 0 && number.abs() <= max).then_some(value)
        })
        .collect()
}

impl crate::agreement::MaintenanceWindow {
    /// The window's occurrences that overlap `range`: each starts at the window's civil start
    /// time in its zone on an occurrence date (a time in a DST gap moves forward by the gap)
    /// and lasts `duration` of real time.
    pub fn occurrences(
        &self,
        range: crate::calendar::TimeRange,
    ) -> Vec<crate::calendar::TimeRange> {
        let first = self.start.date();
        let last = self.time_zone.to_datetime(range.end()).date();
        let dates = match &self.rrule {
            Some(rule) => rule.dates(first, last),
            None => vec![first],
        };
        dates
            .into_iter()
            .filter_map(|date| {
                let start =
                    date.to_datetime(self.start.time()).to_zoned(self.time_zone.clone()).ok()?;
                let start = start.timestamp();
                let end = start.checked_add(self.duration).ok()?;
                crate::calendar::TimeRange::new(start, end)
            })
            .filter(|occurrence| {
                occurrence.start() < range.end() && occurrence.end() > range.start()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn monthly_first_saturday_parses() {
        let rule = Rrule::parse("FREQ=MONTHLY;BYDAY=1SA").unwrap();
        assert_eq!(rule.frequency, Frequency::Monthly);
        assert_eq!(rule.by_day, vec![ByDay { nth: Some(1), weekday: Weekday::Saturday }]);
        assert_eq!(rule.to_string(), "FREQ=MONTHLY;BYDAY=1SA");
    }

    #[test]
    fn until_and_count_are_exclusive() {
        assert!(Rrule::parse("FREQ=WEEKLY;COUNT=3;UNTIL=20270101").is_err());
        let rule = Rrule::parse("FREQ=WEEKLY;UNTIL=20270101T000000Z;BYDAY=SU").unwrap();
        assert_eq!(rule.end, RruleEnd::Until(jiff::civil::date(2027, 1, 1)));
    }

    fn dates(rule: &str, first: Date, last: Date) -> Vec<String> {
        Rrule::parse(rule).unwrap().dates(first, last).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn first_saturday_of_each_month() {
        let got = dates("FREQ=MONTHLY;BYDAY=1SA", date(2026, 1, 3), date(2026, 5, 31));
        assert_eq!(got, ["2026-01-03", "2026-02-07", "2026-03-07", "2026-04-04", "2026-05-02"]);
    }

    #[test]
    fn last_weekday_of_the_month_with_setpos() {
        let got = dates(
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
            date(2026, 1, 30),
            date(2026, 5, 31),
        );
        assert_eq!(got, ["2026-01-30", "2026-02-27", "2026-03-31", "2026-04-30", "2026-05-29"]);
    }

    #[test]
    fn every_other_week_on_two_days_with_a_count() {
        let got = dates(
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=5",
            date(2026, 11, 3),
            date(2027, 12, 31),
        );
        assert_eq!(got, ["2026-11-03", "2026-11-05", "2026-11-17", "2026-11-19", "2026-12-01"]);
    }

    #[test]
    fn the_31st_is_skipped_in_short_months_and_until_is_inclusive() {
        let got = dates("FREQ=MONTHLY;UNTIL=20260731", date(2026, 1, 31), date(2026, 12, 31));
        assert_eq!(got, ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"]);
        let last_day = dates("FREQ=MONTHLY;BYMONTHDAY=-1", date(2028, 1, 31), date(2028, 3, 31));
        assert_eq!(last_day, ["2028-01-31", "2028-02-29", "2028-03-31"]);
    }

    #[test]
    fn yearly_on_the_second_sunday_of_march_and_daily_on_weekdays() {
        let got = dates("FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", date(2026, 3, 8), date(2028, 12, 31));
        assert_eq!(got, ["2026-03-08", "2027-03-14", "2028-03-12"]);
        let got = dates("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", date(2026, 11, 20), date(2026, 11, 24));
        assert_eq!(got, ["2026-11-20", "2026-11-23", "2026-11-24"]);
    }

    #[test]
    fn errors_name_the_part() {
        let cases = [
            ("FREQ=HOURLY", "FREQ=HOURLY"),
            ("FREQ=MONTHLY;BYDAY=XX", "BYDAY=XX"),
            ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY=32"),
            ("BYDAY=MO", "BYDAY=MO"),
            ("FREQ=WEEKLY;BYDAY=1MO", "FREQ=WEEKLY;BYDAY=1MO"),
            ("FREQ=DAILY;FOO=1", "FOO=1"),
            ("FREQ=DAILY;INTERVAL=0", "INTERVAL=0"),
        ];
        for (text, part) in cases {
            assert_eq!(Rrule::parse(text).unwrap_err().part, part, "{text}");
        }
    }
}
