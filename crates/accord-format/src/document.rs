//! YAML documents in Accord's format: `apiVersion: accord/v1`, a `kind`, `metadata` and `spec`.
//!
//! Calendars are the first kind. The reference for their fields is `docs/calendars.md`.
//! Everything wrong with a document is reported at once, each error naming the file, line,
//! column and field path, and nothing is guessed: an unknown field is an error.
//!
//! **API boundary:** the document format is what users keep in git; change it compatibly.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use accord_core::calendar::{
    BusinessCalendar, DateRule, DayException, DayInterval, ExceptionKind, WeeklyHours, YearlyDay,
    YearlyRule,
};
use jiff::civil::{Date, Weekday};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::{FormatError, FormatErrors, parse_weekday};

/// The `apiVersion` this build reads.
pub const API_VERSION: &str = "accord/v1";

/// A calendar with the name its document gives it.
#[derive(Clone, Debug)]
pub struct NamedCalendar {
    /// `metadata.name`.
    pub name: String,
    /// The calendar.
    pub calendar: BusinessCalendar,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawDocument {
    api_version: Spanned<String>,
    kind: Spanned<String>,
    metadata: RawMetadata,
    spec: RawCalendarSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMetadata {
    name: Spanned<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "documentation for people; kept for the agreement loader")]
    description: Option<String>,
    #[serde(default)]
    #[expect(dead_code, reason = "free-form labels; kept for the agreement loader")]
    labels: Option<HashMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawCalendarSpec {
    time_zone: Spanned<String>,
    hours: Spanned<RawHours>,
    #[serde(default)]
    holidays: Vec<Spanned<RawDay>>,
    #[serde(default)]
    working_days: Vec<Spanned<RawDay>>,
    #[serde(default)]
    holiday_files: Vec<Spanned<String>>,
}

/// `24x7`, or weekday (or range of weekdays) to intervals or `closed`.
type RawHours = WordOr<HashMap<Spanned<String>, Spanned<RawDayHours>>>;
/// `closed`, or a list of intervals.
type RawDayHours = WordOr<Vec<Spanned<String>>>;

/// A keyword or a structured value. Written by hand instead of `#[serde(untagged)]`, which
/// buffers the input and so loses the line and column of everything inside.
enum WordOr<T> {
    Word(String),
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for WordOr<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = WordOr<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a keyword, a list or a map")
            }
            fn visit_str<E: serde::de::Error>(self, word: &str) -> Result<Self::Value, E> {
                Ok(WordOr::Word(word.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::SeqAccessDeserializer::new(seq)).map(WordOr::Value)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(WordOr::Value)
            }
        }
        deserializer.deserialize_any(Visitor(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawDay {
    #[serde(default)]
    date: Option<Spanned<String>>,
    #[serde(default)]
    yearly: Option<Spanned<String>>,
    #[serde(default)]
    from_year: Option<Spanned<i16>>,
    #[serde(default)]
    until_year: Option<Spanned<i16>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    hours: Option<Vec<Spanned<String>>>,
}

/// Collects errors against one file.
struct Report<'a> {
    path: &'a Path,
    errors: Vec<FormatError>,
}

impl Report<'_> {
    fn error<T>(&mut self, at: &Spanned<T>, field: &str, message: impl Into<String>) {
        let (line, column) = (at.referenced.line() as usize, at.referenced.column() as usize);
        self.errors.push(FormatError::at(self.path, line, column, field, message));
    }
}

/// Reads a calendar document from a file; `.ics` files it names are read relative to it.
///
/// # Errors
///
/// Every problem found, each naming the file, line, column and field.
pub fn load_calendar_file(path: &Path) -> Result<NamedCalendar, FormatErrors> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        FormatErrors(vec![FormatError::at(
            path,
            0,
            0,
            "",
            format!("cannot read the file: {error}"),
        )])
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse_calendar(path, &text, &|name| base.join(name))
}

/// Parses a calendar document; `path` names it in errors and `resolve` turns a `holidayFiles`
/// entry into the path to read.
///
/// # Errors
///
/// Every problem found, each naming the file, line, column and field.
pub fn parse_calendar(
    path: &Path,
    text: &str,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<NamedCalendar, FormatErrors> {
    parse_calendar_with(path, text, &|name| {
        let path = resolve(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((path, text)),
            Err(error) => Err(format!("{}: {error}", path.display())),
        }
    })
}

/// Reads an included file by the name a document gives it: its path and text, or why not
/// (naming the file).
pub type ReadFile<'a> = dyn Fn(&str) -> Result<(PathBuf, String), String> + 'a;

/// Parses a calendar document; `read` returns the path and text of a `holidayFiles` entry, or
/// why it cannot.
///
/// # Errors
///
/// Every problem found, each naming the file, line, column and field.
pub fn parse_calendar_with(
    path: &Path,
    text: &str,
    read: &ReadFile<'_>,
) -> Result<NamedCalendar, FormatErrors> {
    let raw: RawDocument = serde_saphyr::from_str(text)
        .map_err(|error| FormatErrors(vec![yaml_error(path, &error, 0)]))?;
    let mut report = Report { path, errors: Vec::new() };

    if raw.api_version.value != API_VERSION {
        report.error(
            &raw.api_version,
            "apiVersion",
            format!("unsupported apiVersion {:?}: expected {API_VERSION:?}", raw.api_version.value),
        );
    }
    if raw.kind.value != "Calendar" {
        report.error(
            &raw.kind,
            "kind",
            format!("expected kind Calendar, found {:?}", raw.kind.value),
        );
    }
    let name = raw.metadata.name.value.clone();
    if name.trim().is_empty() {
        report.error(&raw.metadata.name, "metadata.name", "the name is empty");
    }

    let spec = raw.spec;
    let zone = match jiff::tz::db().get(&spec.time_zone.value) {
        Ok(zone) => Some(zone),
        Err(_) => {
            report.error(
                &spec.time_zone,
                "spec.timeZone",
                format!(
                    "unknown time zone {:?}: expected an IANA name such as Europe/Berlin",
                    spec.time_zone.value
                ),
            );
            None
        }
    };
    let weekly = weekly_hours(&mut report, &spec.hours);

    let mut dated: Vec<DayException> = Vec::new();
    let mut yearly: Vec<DayException> = Vec::new();
    let mut seen_dates: BTreeMap<Date, (String, usize)> = BTreeMap::new();
    for (list, kind) in
        [(&spec.holidays, ExceptionKind::Holiday), (&spec.working_days, ExceptionKind::WorkingDay)]
    {
        let list_name = match kind {
            ExceptionKind::Holiday => "spec.holidays",
            ExceptionKind::WorkingDay => "spec.workingDays",
        };
        for (entry_idx, entry) in list.iter().enumerate() {
            let field = format!("{list_name}[{entry_idx}]");
            let Some(exception) = day_exception(&mut report, &field, entry, kind) else { continue };
            if let DateRule::Date(date) = exception.on() {
                let line = entry.referenced.line() as usize;
                if let Some((first_field, first_line)) = seen_dates.get(date) {
                    report.error(
                        entry,
                        &field,
                        format!("{date} is already given by {first_field} on line {first_line}"),
                    );
                    continue;
                }
                seen_dates.insert(*date, (field.clone(), line));
                dated.push(exception);
            } else {
                yearly.push(exception);
            }
        }
    }

    let mut imported: Vec<DayException> = Vec::new();
    for (file_idx, file) in spec.holiday_files.iter().enumerate() {
        match read(&file.value) {
            Ok((ics_path, text)) => match crate::ical::parse_holidays(&ics_path, &text) {
                Ok(holidays) => imported.extend(holidays),
                Err(FormatErrors(errors)) => report.errors.extend(errors),
            },
            Err(error) => report.error(
                file,
                &format!("spec.holidayFiles[{file_idx}]"),
                format!("cannot read {error}"),
            ),
        }
    }

    if !report.errors.is_empty() {
        return Err(FormatErrors(report.errors));
    }
    let (Some(zone), Some(weekly)) = (zone, weekly) else {
        unreachable!("a missing zone or weekly hours was reported as an error");
    };
    // Precedence: what the document says about a date beats a yearly rule, and the document
    // beats imported files.
    let exceptions = dated.into_iter().chain(yearly).chain(imported).collect();
    Ok(NamedCalendar { name, calendar: BusinessCalendar::new(zone, weekly, exceptions) })
}

fn weekly_hours(report: &mut Report<'_>, hours: &Spanned<RawHours>) -> Option<WeeklyHours> {
    let entries = match &hours.value {
        RawHours::Word(keyword) if keyword == "24x7" => return Some(WeeklyHours::always()),
        RawHours::Word(keyword) => {
            report.error(
                hours,
                "spec.hours",
                format!(
                    "unknown hours {keyword:?}: expected 24x7 or a map of weekdays to intervals"
                ),
            );
            return None;
        }
        RawHours::Value(entries) => entries,
    };
    // Sorted by line so errors come in reading order.
    let mut entries: Vec<_> = entries.iter().collect();
    entries.sort_by_key(|(key, _)| (key.referenced.line(), key.referenced.column()));

    let mut days: [Vec<DayInterval>; 7] = Default::default();
    let mut given_by: [Option<(String, u64)>; 7] = Default::default();
    let n_errors = report.errors.len();
    for (key, day_hours) in entries {
        let field = format!("spec.hours.{}", key.value);
        let Some(weekdays) = weekday_range(&key.value) else {
            report.error(
                key,
                &field,
                format!(
                    "unknown weekday {:?}: expected mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, or daily",
                    key.value
                ),
            );
            continue;
        };
        // Bad intervals are reported, and the weekdays still count as given, so that a
        // duplicate weekday is reported in the same run.
        let intervals = match &day_hours.value {
            RawDayHours::Word(keyword) if keyword == "closed" => Some(Vec::new()),
            RawDayHours::Word(keyword) => {
                report.error(
                    day_hours,
                    &field,
                    format!("expected a list of intervals such as [09:00-17:00] or closed, found {keyword:?}"),
                );
                None
            }
            RawDayHours::Value(intervals) => day_intervals(report, &field, intervals),
        };
        for weekday in weekdays {
            let slot = weekday.to_monday_zero_offset() as usize;
            if let Some((first_key, first_line)) = &given_by[slot] {
                report.error(
                    key,
                    &field,
                    format!(
                        "{} is already given by {first_key} on line {first_line}",
                        weekday_name(weekday)
                    ),
                );
                continue;
            }
            given_by[slot] = Some((key.value.clone(), key.referenced.line()));
            if let Some(intervals) = &intervals {
                days[slot] = intervals.clone();
            }
        }
    }
    if report.errors.len() > n_errors {
        return None;
    }
    Some(WeeklyHours::new(days).expect("each day's intervals were checked"))
}

/// Parses one day's interval list, reporting each bad interval and any overlap.
fn day_intervals(
    report: &mut Report<'_>,
    field: &str,
    intervals: &[Spanned<String>],
) -> Option<Vec<DayInterval>> {
    let mut parsed: Vec<(DayInterval, &Spanned<String>)> = Vec::new();
    let mut ok = true;
    for (interval_idx, text) in intervals.iter().enumerate() {
        match DayInterval::parse(&text.value) {
            Ok(interval) => parsed.push((interval, text)),
            Err(error) => {
                report.error(text, &format!("{field}[{interval_idx}]"), error.to_string());
                ok = false;
            }
        }
    }
    parsed.sort_by_key(|(interval, _)| *interval);
    for pair in parsed.windows(2) {
        let ((first, _), (second, at)) = (pair[0], pair[1]);
        if second.start_second() < first.end_second() {
            report.error(at, field, format!("business hours overlap: {first} and {second}"));
            ok = false;
        }
    }
    ok.then(|| parsed.into_iter().map(|(interval, _)| interval).collect())
}

fn day_exception(
    report: &mut Report<'_>,
    field: &str,
    entry: &Spanned<RawDay>,
    kind: ExceptionKind,
) -> Option<DayException> {
    let day = &entry.value;
    let name = day.name.clone().unwrap_or_else(|| match kind {
        ExceptionKind::Holiday => "holiday".into(),
        ExceptionKind::WorkingDay => "working day".into(),
    });
    let on = match (&day.date, &day.yearly) {
        (Some(date), None) => {
            if day.from_year.is_some() || day.until_year.is_some() {
                report.error(entry, field, "fromYear and untilYear go with yearly, not with date");
                return None;
            }
            match date.value.parse::<Date>() {
                Ok(parsed) => DateRule::Date(parsed),
                Err(_) => {
                    report.error(
                        date,
                        &format!("{field}.date"),
                        format!("invalid date {:?}: expected YYYY-MM-DD", date.value),
                    );
                    return None;
                }
            }
        }
        (None, Some(yearly)) => {
            let rule = parse_yearly(&yearly.value).and_then(|rule| {
                rule.between(
                    day.from_year.as_ref().map(|year| year.value),
                    day.until_year.as_ref().map(|year| year.value),
                )
                .map_err(|error| error.to_string())
            });
            match rule {
                Ok(rule) => DateRule::Yearly(rule),
                Err(why) => {
                    report.error(yearly, &format!("{field}.yearly"), why);
                    return None;
                }
            }
        }
        _ => {
            report.error(
                entry,
                field,
                "give exactly one of date (2026-12-24) or yearly (12-25, or 4th thu of nov)",
            );
            return None;
        }
    };
    let hours = match &day.hours {
        Some(hours) => day_intervals(report, &format!("{field}.hours"), hours)?,
        None if kind == ExceptionKind::WorkingDay => {
            report.error(entry, field, "a working day needs its hours, such as [09:00-13:00]");
            return None;
        }
        None => Vec::new(),
    };
    Some(DayException::with_hours(name, on, kind, hours).expect("intervals were checked"))
}

/// Parses a yearly date: `12-25`, `4th thu of nov`, `last mon of may`.
fn parse_yearly(text: &str) -> Result<YearlyRule, String> {
    let expected = || {
        format!(
            "invalid yearly date {text:?}: expected MM-DD (12-25) or NTH WEEKDAY of MONTH (4th thu of nov, last mon of may)"
        )
    };
    if let Some((month, day)) = text.split_once('-')
        && let (Ok(month), Ok(day)) = (month.trim().parse::<i8>(), day.trim().parse::<i8>())
    {
        // Checked against a leap year so that 02-29 is accepted (it occurs in leap years).
        if Date::new(2024, month, day).is_err() {
            return Err(format!("invalid yearly date {text:?}: no such day of the year"));
        }
        return YearlyRule::new(month, YearlyDay::Fixed(day)).map_err(|error| error.to_string());
    }
    let words: Vec<String> = text.split_whitespace().map(str::to_ascii_lowercase).collect();
    let [nth, weekday, of, month] = words.as_slice() else { return Err(expected()) };
    let nth: i8 = match nth.as_str() {
        "1st" | "first" => 1,
        "2nd" | "second" => 2,
        "3rd" | "third" => 3,
        "4th" | "fourth" => 4,
        "5th" | "fifth" => 5,
        "last" => -1,
        _ => return Err(expected()),
    };
    let weekday = parse_weekday(weekday).ok_or_else(expected)?;
    let month = parse_month(month).ok_or_else(expected)?;
    if of != "of" {
        return Err(expected());
    }
    YearlyRule::new(month, YearlyDay::Nth { nth, weekday }).map_err(|error| error.to_string())
}

fn parse_month(text: &str) -> Option<i8> {
    const MONTHS: [&str; 12] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let text = text.to_ascii_lowercase();
    let month_idx = MONTHS.iter().position(|month| text.get(..3) == Some(*month))?;
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    (text.len() == 3 || full[month_idx] == text).then_some(month_idx as i8 + 1)
}

/// `mon`, `mon-fri`, `fri-mon` (wrapping) or `daily`.
fn weekday_range(text: &str) -> Option<Vec<Weekday>> {
    if text.eq_ignore_ascii_case("daily") {
        return Some((0..7).map(|offset| Weekday::Monday.wrapping_add(offset)).collect());
    }
    let Some((first, last)) = text.split_once('-') else {
        return parse_weekday(text.trim()).map(|weekday| vec![weekday]);
    };
    let (first, last) = (parse_weekday(first.trim())?, parse_weekday(last.trim())?);
    let n_days = first.until(last).rem_euclid(7);
    Some((0..=n_days).map(|offset| first.wrapping_add(offset)).collect())
}

fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

/// Turns a YAML reader error into ours, keeping its position (moved down by `line_offset`, the
/// document's offset in its file) and dropping its snippet.
pub(crate) fn yaml_error(
    path: &Path,
    error: &serde_saphyr::Error,
    line_offset: usize,
) -> FormatError {
    let location = error.location();
    let (line, column) =
        location.map(|at| (at.line() as usize, at.column() as usize)).unwrap_or((0, 0));
    let message = error.without_snippet().to_string();
    let message = match message.rfind(" at line ") {
        Some(cut) if line > 0 => message[..cut].to_owned(),
        _ => message,
    };
    let line = if line > 0 { line + line_offset } else { 0 };
    FormatError::at(path, line, column, "", message)
}
