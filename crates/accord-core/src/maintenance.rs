//! Recurrence rules of planned maintenance windows: RFC 5545 `RRULE` values, parsed and
//! validated. Expanding them into occurrences belongs to availability accounting.
//!
//! Supported parts: `FREQ` (`DAILY`, `WEEKLY`, `MONTHLY`, `YEARLY`), `INTERVAL`, `COUNT`,
//! `UNTIL`, `BYDAY`, `BYMONTHDAY`, `BYMONTH`, `BYSETPOS` and `WKST`. Sub-daily frequencies are
//! refused: a maintenance window recurring every few hours is an outage, not maintenance.

use std::fmt;

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

#[cfg(test)]
mod tests {
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
