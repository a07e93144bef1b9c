//! The bizbench interchange format: calendars as JSON, queries as TSV, answers as lines.
//!
//! bizbench is the business-time conformance workload in `shared/data/bizbench/` (its
//! `FORMAT.md` is the specification). Accord reads it to prove its calendar engine against the
//! reference answers and to measure its speed.

use std::collections::HashMap;
use std::path::Path;

use accord_core::calendar::{BusinessCalendar, DateRule, DayException, DayInterval, WeeklyHours};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::FormatError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarsFile {
    format: String,
    calendars: Vec<CalendarEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarEntry {
    id: String,
    tz: String,
    weekly: HashMap<String, Vec<[String; 2]>>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "free text the format allows")]
    note: Option<String>,
}

/// The calendars of a bizbench `calendars.json`, by id, in file order.
#[derive(Debug)]
pub struct Calendars {
    /// Ids and calendars, in file order.
    pub calendars: Vec<(String, BusinessCalendar)>,
}

impl Calendars {
    /// Parses `calendars.json` text; `path` names the file in errors.
    ///
    /// # Errors
    ///
    /// [`FormatError`] naming the file, line and field.
    pub fn parse(path: &Path, text: &str) -> Result<Calendars, FormatError> {
        let file: CalendarsFile = serde_json::from_str(text).map_err(|error| {
            FormatError::at(path, error.line(), error.column(), "", error.to_string())
        })?;
        let error = |field: String, message: String| FormatError::at(path, 0, 0, &field, message);
        if file.format != "bizbench-calendars/1" {
            return Err(error(
                "format".into(),
                format!("unsupported format {:?}: expected \"bizbench-calendars/1\"", file.format),
            ));
        }
        let mut calendars = Vec::new();
        for (entry_idx, entry) in file.calendars.into_iter().enumerate() {
            let field = |name: &str| format!("calendars[{entry_idx}].{name}");
            let zone = jiff::tz::db()
                .get(&entry.tz)
                .map_err(|_| error(field("tz"), format!("unknown time zone {:?}", entry.tz)))?;
            let mut days: [Vec<DayInterval>; 7] = Default::default();
            for (day, intervals) in entry.weekly {
                let weekday = crate::parse_weekday(&day).ok_or_else(|| {
                    error(field("weekly"), format!("unknown weekday {day:?}: expected mon..sun"))
                })?;
                days[weekday.to_monday_zero_offset() as usize] = intervals
                    .iter()
                    .map(|[start, end]| DayInterval::parse(&format!("{start}-{end}")))
                    .collect::<Result<_, _>>()
                    .map_err(|e| error(field(&format!("weekly.{day}")), e.to_string()))?;
            }
            let weekly =
                WeeklyHours::new(days).map_err(|e| error(field("weekly"), e.to_string()))?;
            let holidays = entry
                .holidays
                .iter()
                .map(|date| {
                    let date = date.parse().map_err(|_| {
                        error(
                            field("holidays"),
                            format!("invalid date {date:?}: expected YYYY-MM-DD"),
                        )
                    })?;
                    Ok(DayException::holiday("holiday", DateRule::Date(date)))
                })
                .collect::<Result<_, FormatError>>()?;
            calendars.push((entry.id, BusinessCalendar::new(zone, weekly, holidays)));
        }
        Ok(Calendars { calendars })
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.calendars.iter().position(|(calendar_id, _)| calendar_id == id)
    }
}

/// One bizbench query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// The deadline `seconds` of business time after `start`.
    Add {
        /// Index into [`Calendars::calendars`].
        calendar_idx: usize,
        /// The start.
        start: Timestamp,
        /// The business duration.
        duration: SignedDuration,
    },
    /// The business time in `[start, end)`.
    Elapsed {
        /// Index into [`Calendars::calendars`].
        calendar_idx: usize,
        /// The start.
        start: Timestamp,
        /// The end.
        end: Timestamp,
    },
}

/// The queries of a `queries.tsv`, with the line each came from.
#[derive(Debug, Default)]
pub struct Queries {
    /// The queries, in file order.
    pub queries: Vec<Query>,
    /// The 1-based line of each query.
    pub lines: Vec<usize>,
}

/// Parses `queries.tsv` text against the calendars it names; `path` names the file in errors.
///
/// # Errors
///
/// [`FormatError`] naming the file, line and column.
pub fn parse_queries(
    path: &Path,
    text: &str,
    calendars: &Calendars,
) -> Result<Queries, FormatError> {
    let mut queries = Queries::default();
    for (line_idx, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let line_no = line_idx + 1;
        let error = |column: usize, field: &str, message: String| {
            FormatError::at(path, line_no, column, field, message)
        };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 4 {
            return Err(error(
                1,
                "",
                format!("expected 4 tab-separated fields, found {}", fields.len()),
            ));
        }
        let column = |field_idx: usize| -> usize {
            1 + fields[..field_idx].iter().map(|field| field.len() + 1).sum::<usize>()
        };
        let calendar_idx = calendars.position(fields[1]).ok_or_else(|| {
            error(column(1), "calendar", format!("unknown calendar {:?}", fields[1]))
        })?;
        let instant = |field_idx: usize, name: &str| -> Result<Timestamp, FormatError> {
            fields[field_idx].parse().map_err(|_| {
                error(
                    column(field_idx),
                    name,
                    format!("invalid instant {:?}: expected RFC 3339", fields[field_idx]),
                )
            })
        };
        let start = instant(2, "start")?;
        let query = match fields[0] {
            "add" => {
                let seconds: i64 = fields[3].parse().ok().filter(|s| *s >= 0).ok_or_else(|| {
                    error(column(3), "seconds", format!("invalid seconds {:?}", fields[3]))
                })?;
                Query::Add { calendar_idx, start, duration: SignedDuration::from_secs(seconds) }
            }
            "elapsed" => Query::Elapsed { calendar_idx, start, end: instant(3, "end")? },
            other => {
                return Err(error(
                    1,
                    "op",
                    format!("unknown operation {other:?}: expected add or elapsed"),
                ));
            }
        };
        queries.queries.push(query);
        queries.lines.push(line_no);
    }
    Ok(queries)
}

/// One query's answer, ready to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A deadline.
    Deadline(Timestamp),
    /// Business time.
    Elapsed(SignedDuration),
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // RFC 3339 in UTC with whole seconds, as `reference.txt` writes it.
            Answer::Deadline(t) => write!(f, "{}", t.strftime("%Y-%m-%dT%H:%M:%SZ")),
            Answer::Elapsed(duration) => write!(f, "{}", duration.as_secs()),
        }
    }
}

/// Answers one query.
///
/// # Errors
///
/// The calendar's [`accord_core::QueryError`].
#[inline]
pub fn answer(calendars: &Calendars, query: &Query) -> Result<Answer, accord_core::QueryError> {
    match *query {
        Query::Add { calendar_idx, start, duration } => {
            calendars.calendars[calendar_idx].1.deadline(start, duration).map(Answer::Deadline)
        }
        Query::Elapsed { calendar_idx, start, end } => {
            calendars.calendars[calendar_idx].1.elapsed(start, end).map(Answer::Elapsed)
        }
    }
}

/// Builds each calendar's index over the span the queries start in (plus a margin for the
/// deadlines), so timing measures queries, not index construction.
pub fn prepare(calendars: &Calendars, queries: &[Query]) {
    let mut spans: Vec<Option<(Timestamp, Timestamp)>> = vec![None; calendars.calendars.len()];
    for query in queries {
        let (calendar_idx, first, last) = match *query {
            Query::Add { calendar_idx, start, .. } => (calendar_idx, start, start),
            Query::Elapsed { calendar_idx, start, end } => (calendar_idx, start, end),
        };
        let span = &mut spans[calendar_idx];
        *span = Some(match *span {
            Some((lo, hi)) => (lo.min(first), hi.max(last)),
            None => (first, last),
        });
    }
    for ((_, calendar), span) in calendars.calendars.iter().zip(spans) {
        if let Some((first, last)) = span {
            let last = last.saturating_add(SignedDuration::from_hours(24 * 120)).unwrap_or(last);
            // Outside the horizon the queries themselves report the error.
            let _ = calendar.prepare(first, last);
        }
    }
}
