//! Dates that recur every year: fixed dates (25 December) and weekday rules (fourth Thursday of
//! November), the subset of RFC 5545 `FREQ=YEARLY` rules that holiday calendars use.

use jiff::civil::{Date, Weekday};

use super::CalendarError;

/// Which day of the month a yearly rule falls on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum YearlyDay {
    /// A day of the month: 1 to 31, or -1 to -31 counted from the month's end (-1 is the last
    /// day). A year whose month is too short has no occurrence, as in RFC 5545.
    Fixed(i8),
    /// The `nth` given weekday of the month: 1 to 5, or -1 to -5 counted from the month's end.
    /// A month without a fifth such weekday has no occurrence.
    Nth {
        /// Which occurrence of the weekday.
        nth: i8,
        /// The weekday.
        weekday: Weekday,
    },
}

/// A date that recurs every `interval` years within an optional range of years, with exceptions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearlyRule {
    month: i8,
    day: YearlyDay,
    first_year: Option<i16>,
    last_year: Option<i16>,
    interval: i16,
    // Invariant: sorted.
    except: Vec<Date>,
}

impl YearlyRule {
    /// A rule for `day` of `month` (1 to 12), every year.
    ///
    /// # Errors
    ///
    /// [`CalendarError::InvalidYearlyRule`] when the month or day is out of range.
    pub fn new(month: i8, day: YearlyDay) -> Result<YearlyRule, CalendarError> {
        let invalid = |why: String| Err(CalendarError::InvalidYearlyRule { why });
        if !(1..=12).contains(&month) {
            return invalid(format!("month {month} is not between 1 and 12"));
        }
        match day {
            YearlyDay::Fixed(day) if day == 0 || !(-31..=31).contains(&day) => {
                return invalid(format!("day of month {day} is not between 1 and 31"));
            }
            YearlyDay::Nth { nth, .. } if nth == 0 || !(-5..=5).contains(&nth) => {
                return invalid(format!("weekday occurrence {nth} is not between 1 and 5"));
            }
            _ => {}
        }
        Ok(YearlyRule {
            month,
            day,
            first_year: None,
            last_year: None,
            interval: 1,
            except: vec![],
        })
    }

    /// The same rule, limited to the years `first..=last` (either end open).
    ///
    /// # Errors
    ///
    /// [`CalendarError::InvalidYearlyRule`] when `last` comes before `first`.
    pub fn between(
        self,
        first: Option<i16>,
        last: Option<i16>,
    ) -> Result<YearlyRule, CalendarError> {
        if let (Some(first), Some(last)) = (first, last)
            && last < first
        {
            return Err(CalendarError::InvalidYearlyRule {
                why: format!("last year {last} is before first year {first}"),
            });
        }
        Ok(YearlyRule { first_year: first, last_year: last, ..self })
    }

    /// The same rule, every `interval` years counted from its first year.
    ///
    /// # Errors
    ///
    /// [`CalendarError::InvalidYearlyRule`] when `interval` is below 1, or above 1 without a
    /// first year to count from.
    pub fn every(self, interval: i16) -> Result<YearlyRule, CalendarError> {
        if interval < 1 || (interval > 1 && self.first_year.is_none()) {
            return Err(CalendarError::InvalidYearlyRule {
                why: format!(
                    "an interval of {interval} years needs a first year and must be 1 or more"
                ),
            });
        }
        Ok(YearlyRule { interval, ..self })
    }

    /// The same rule without the given dates (RFC 5545 `EXDATE`).
    pub fn except(self, mut dates: Vec<Date>) -> YearlyRule {
        dates.sort_unstable();
        dates.dedup();
        YearlyRule { except: dates, ..self }
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> i8 {
        self.month
    }

    /// The day within the month.
    pub fn day(&self) -> YearlyDay {
        self.day
    }

    /// The date in `year`, if the rule has one then.
    pub fn occurrence_in(&self, year: i16) -> Option<Date> {
        if self.first_year.is_some_and(|first| year < first)
            || self.last_year.is_some_and(|last| year > last)
        {
            return None;
        }
        if let Some(first) = self.first_year
            && (year - first) % self.interval != 0
        {
            return None;
        }
        let first_of_month = Date::new(year, self.month, 1).ok()?;
        let days_in_month = first_of_month.days_in_month();
        let date = match self.day {
            YearlyDay::Fixed(day) if day > 0 => {
                (day <= days_in_month).then(|| first_of_month.with().day(day).build().ok())??
            }
            YearlyDay::Fixed(day) => {
                let day = days_in_month + 1 + day;
                (day >= 1).then(|| first_of_month.with().day(day).build().ok())??
            }
            YearlyDay::Nth { nth, weekday } => {
                let date = first_of_month.nth_weekday_of_month(nth, weekday).ok()?;
                (date.month() == self.month).then_some(date)?
            }
        };
        self.except.binary_search(&date).is_err().then_some(date)
    }
}
