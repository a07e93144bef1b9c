//! iCalendar (RFC 5545) holiday files: the all-day events of an `.ics` export (a shared holiday
//! calendar, a government's published list) turned into holidays.
//!
//! Only what a holiday set needs is read: all-day `VEVENT`s, their yearly `RRULE`, `EXDATE`s and
//! `RDATE`s. Other components (time zones, to-dos, alarms) are skipped. Anything that would
//! change which days are holidays but that a [`YearlyRule`] cannot say (a weekly rule,
//! `BYWEEKNO`, a timed event) is an error naming the line, not a silent approximation.
//! The reader is written by hand rather than on an iCalendar crate because the subset is small
//! and its errors have to point at the file's lines.

use std::path::Path;

use accord_core::calendar::{DateRule, DayException, YearlyDay, YearlyRule};
use jiff::civil::{Date, Weekday};

use crate::{FormatError, FormatErrors};

/// The last year a `COUNT` is counted to: calendar queries end at 2200-01-01.
const LAST_COUNTED_YEAR: i16 = 2200;

/// The longest event accepted, in days; longer ones are almost certainly a mistake.
const MAX_EVENT_DAYS: i32 = 366;

/// The `RRULE` parts this reader understands, for error messages.
const SUPPORTED_PARTS: &str = "FREQ, INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY, BYDAY, BYSETPOS";

/// Parses an iCalendar file's all-day events into holidays (closed all day).
/// `path` names the file in errors.
///
/// Each `VEVENT` becomes one holiday per day for a one-off event (`DTEND` is exclusive), or a
/// [`DateRule::Yearly`] holiday for an event with a yearly `RRULE`, named by its `SUMMARY`.
/// Holidays come in file order. Cancelled events (`STATUS:CANCELLED`) are skipped.
///
/// # Errors
///
/// [`FormatErrors`] listing every problem found in one pass: malformed lines, unbalanced
/// `BEGIN`/`END`, invalid dates, timed events, and recurrence rules other than the yearly ones
/// holidays use. Each error names the line a property starts on and the field, such as
/// `VEVENT.RRULE`.
pub fn parse_holidays(path: &Path, text: &str) -> Result<Vec<DayException>, FormatErrors> {
    let mut reader = Reader { path, errors: vec![], holidays: vec![] };
    if let Err(error) = reader.read(text) {
        reader.errors.push(error);
    }
    if reader.errors.is_empty() {
        return Ok(reader.holidays);
    }
    // Errors in an event are found when its `END` is read, after any malformed line in it.
    reader.errors.sort_by_key(|error| error.line);
    Err(FormatErrors(reader.errors))
}

/// One unfolded content line, `NAME;PARAM=VALUE:VALUE`.
#[derive(Debug)]
struct ContentLine {
    /// The 1-based physical line it starts on.
    line: usize,
    /// Upper case.
    name: String,
    /// Names upper case; values without their quotes.
    params: Vec<(String, String)>,
    value: String,
}

impl ContentLine {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(param, _)| param == name).map(|(_, value)| value.as_str())
    }
}

/// The content lines of one `VEVENT`, without those of its subcomponents.
struct Event {
    /// The line of its `BEGIN:VEVENT`.
    line: usize,
    properties: Vec<ContentLine>,
}

impl Event {
    fn first(&self, name: &str) -> Option<&ContentLine> {
        self.properties.iter().find(|property| property.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ContentLine> {
        self.properties.iter().filter(move |property| property.name == name)
    }
}

struct Reader<'a> {
    path: &'a Path,
    errors: Vec<FormatError>,
    holidays: Vec<DayException>,
}

impl Reader<'_> {
    /// Walks the components. Returns `Err` for a structural error after which the nesting is
    /// unknown, so nothing more can be read reliably.
    fn read(&mut self, text: &str) -> Result<(), FormatError> {
        // Open components, outermost first, with the line of each `BEGIN`.
        let mut open: Vec<(String, usize)> = vec![];
        // The `VEVENT` being read, when it sits directly in a `VCALENDAR`.
        let mut event: Option<Event> = None;
        let mut n_calendars = 0;
        for (line, text) in unfold(text) {
            let field = component_path(&open);
            let property = match parse_content_line(line, &text) {
                Ok(property) => property,
                Err(message) if open.is_empty() => {
                    return Err(FormatError::at(self.path, line, 1, &field, message));
                }
                Err(message) => {
                    self.errors.push(FormatError::at(self.path, line, 1, &field, message));
                    continue;
                }
            };
            let structure_error =
                |message: String| FormatError::at(self.path, line, 1, &field, message);
            match property.name.as_str() {
                "BEGIN" => {
                    let component = component_name(&property).map_err(structure_error)?;
                    match (open.is_empty(), component == "VCALENDAR") {
                        (true, false) => {
                            return Err(structure_error(format!(
                                "BEGIN:{component} outside BEGIN:VCALENDAR ... END:VCALENDAR"
                            )));
                        }
                        (false, true) => {
                            return Err(structure_error(format!(
                                "BEGIN:VCALENDAR inside BEGIN:{}",
                                open[open.len() - 1].0
                            )));
                        }
                        _ => {}
                    }
                    if component == "VEVENT" && open.len() == 1 {
                        event = Some(Event { line, properties: vec![] });
                    }
                    open.push((component, line));
                }
                "END" => {
                    let component = component_name(&property).map_err(structure_error)?;
                    match open.last() {
                        Some((innermost, _)) if *innermost == component => {}
                        Some((innermost, begin_line)) => {
                            return Err(structure_error(format!(
                                "END:{component} does not close BEGIN:{innermost} from line {begin_line}"
                            )));
                        }
                        None => {
                            return Err(structure_error(format!(
                                "END:{component} without BEGIN:{component}"
                            )));
                        }
                    }
                    open.pop();
                    if component == "VCALENDAR" {
                        n_calendars += 1;
                    }
                    if open.len() == 1
                        && let Some(event) = event.take_if(|_| component == "VEVENT")
                    {
                        let holidays = event_holidays(self.path, &event, &mut self.errors);
                        self.holidays.extend(holidays);
                    }
                }
                _ if open.is_empty() => {
                    return Err(structure_error(format!(
                        "expected BEGIN:VCALENDAR, found {:?}",
                        excerpt(&text)
                    )));
                }
                _ if open.len() == 1 => {
                    if let Err(message) = check_calendar_property(&property) {
                        let field = format!("VCALENDAR.{}", property.name);
                        self.errors.push(FormatError::at(self.path, line, 1, &field, message));
                    }
                }
                _ => {
                    if let Some(event) = event.as_mut().filter(|_| open.len() == 2) {
                        event.properties.push(property);
                    }
                }
            }
        }
        if let Some((component, begin_line)) = open.last() {
            let field = component_path(&open);
            return Err(FormatError::at(
                self.path,
                *begin_line,
                1,
                &field,
                format!("BEGIN:{component} is never closed by END:{component}"),
            ));
        }
        if n_calendars == 0 {
            return Err(FormatError::at(
                self.path,
                1,
                1,
                "",
                "no BEGIN:VCALENDAR: the file is empty or not an iCalendar file",
            ));
        }
        Ok(())
    }
}

/// Joins folded lines (RFC 5545 section 3.1), LF or CRLF: each logical line with the 1-based
/// number of its first physical line. Blank lines are dropped.
fn unfold(text: &str) -> Vec<(usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines: Vec<(usize, String)> = vec![];
    for (line_idx, physical) in text.split('\n').enumerate() {
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        if let Some(continued) = physical.strip_prefix([' ', '\t'])
            && let Some((_, logical)) = lines.last_mut()
        {
            logical.push_str(continued);
        } else if !physical.trim().is_empty() {
            lines.push((line_idx + 1, physical.to_owned()));
        }
    }
    lines
}

/// Splits `NAME;PARAM=VALUE,"QUOTED":VALUE` (RFC 5545 section 3.1).
fn parse_content_line(line: usize, text: &str) -> Result<ContentLine, String> {
    let malformed = |why: &str| format!("malformed line {:?}: {why}", excerpt(text));
    let no_colon = || malformed("expected NAME:VALUE");
    let name_end = text.find([';', ':']).ok_or_else(no_colon)?;
    let name = &text[..name_end];
    if !is_name(name) {
        return Err(malformed("a property name has only letters, digits and '-'"));
    }
    let mut rest = &text[name_end..];
    let mut params = vec![];
    while let Some(param) = rest.strip_prefix(';') {
        let (param_name, mut after) = param.split_once('=').ok_or_else(no_colon)?;
        if !is_name(param_name) {
            return Err(malformed("a parameter is NAME=VALUE"));
        }
        let mut value = String::new();
        loop {
            if let Some(quoted) = after.strip_prefix('"') {
                let close = quoted
                    .find('"')
                    .ok_or_else(|| malformed("a quoted parameter value is never closed"))?;
                value.push_str(&quoted[..close]);
                after = &quoted[close + 1..];
            } else {
                let end = after.find([',', ';', ':']).unwrap_or(after.len());
                value.push_str(&after[..end]);
                after = &after[end..];
            }
            match after.strip_prefix(',') {
                Some(more) => {
                    value.push(',');
                    after = more;
                }
                None => break,
            }
        }
        params.push((param_name.to_ascii_uppercase(), value));
        rest = after;
    }
    let value = rest.strip_prefix(':').ok_or_else(no_colon)?;
    Ok(ContentLine { line, name: name.to_ascii_uppercase(), params, value: value.to_owned() })
}

fn is_name(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// The text of a line, shortened for an error message.
fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The components below `VCALENDAR` joined by dots (`VEVENT.VALARM`), for the error field.
fn component_path(open: &[(String, usize)]) -> String {
    let names: Vec<&str> = open.iter().map(|(name, _)| name.as_str()).collect();
    match names.as_slice() {
        [] => String::new(),
        [calendar] => (*calendar).to_owned(),
        [_, inner @ ..] => inner.join("."),
    }
}

fn component_name(property: &ContentLine) -> Result<String, String> {
    let component = property.value.trim();
    if !is_name(component) {
        return Err(format!("invalid component name {component:?} in {}", property.name));
    }
    Ok(component.to_ascii_uppercase())
}

/// Refuses calendars whose dates mean something else than this reader assumes.
fn check_calendar_property(property: &ContentLine) -> Result<(), String> {
    let value = property.value.trim();
    match property.name.as_str() {
        "VERSION" if value != "2.0" => Err(format!(
            "unsupported VERSION {value:?}: only iCalendar 2.0 (RFC 5545) is supported"
        )),
        "CALSCALE" if !value.eq_ignore_ascii_case("GREGORIAN") => {
            Err(format!("unsupported CALSCALE {value:?}: only GREGORIAN is supported"))
        }
        _ => Ok(()),
    }
}

/// The holidays of one event; problems go to `errors`, and an event with any yields none.
fn event_holidays(path: &Path, event: &Event, errors: &mut Vec<FormatError>) -> Vec<DayException> {
    if event
        .first("STATUS")
        .is_some_and(|status| status.value.trim().eq_ignore_ascii_case("CANCELLED"))
    {
        return vec![];
    }
    let name = event
        .first("SUMMARY")
        .map(|summary| unescape_text(&summary.value))
        .filter(|summary| !summary.trim().is_empty())
        .unwrap_or_else(|| "holiday".to_owned());
    let n_errors_before = errors.len();
    let mut error = |line: usize, property: &str, message: String| {
        errors.push(FormatError::at(path, line, 1, &format!("VEVENT.{property}"), message));
    };

    for property_name in ["DTSTART", "DTEND", "DURATION", "RRULE"] {
        if let Some(repeated) = event.all(property_name).nth(1) {
            error(
                repeated.line,
                property_name,
                format!("event {name:?} has more than one {property_name}"),
            );
        }
    }
    let Some(dtstart_property) = event.first("DTSTART") else {
        error(event.line, "DTSTART", format!("event {name:?} has no DTSTART"));
        return vec![];
    };
    let dtstart = match all_day_date(dtstart_property) {
        Ok(date) => date,
        Err(message) => {
            error(dtstart_property.line, "DTSTART", message);
            return vec![];
        }
    };

    let n_days = match (event.first("DTEND"), event.first("DURATION")) {
        (Some(dtend), Some(_)) => {
            error(dtend.line, "DTEND", format!("event {name:?} has both DTEND and DURATION"));
            1
        }
        (Some(dtend), None) => match all_day_date(dtend) {
            Ok(end) if end <= dtstart => {
                let message = format!(
                    "DTEND {} is not after DTSTART {}: the end date is exclusive",
                    dtend.value.trim(),
                    dtstart_property.value.trim()
                );
                error(dtend.line, "DTEND", message);
                1
            }
            Ok(end) => checked_days(end - dtstart).unwrap_or_else(|message| {
                error(dtend.line, "DTEND", message);
                1
            }),
            Err(message) => {
                error(dtend.line, "DTEND", message);
                1
            }
        },
        (None, Some(duration)) => parse_duration_days(duration.value.trim())
            .and_then(checked_days)
            .unwrap_or_else(|message| {
                error(duration.line, "DURATION", message);
                1
            }),
        // RFC 5545 section 3.6.1: an all-day event without an end lasts one day.
        (None, None) => 1,
    };

    let mut exdates = vec![];
    for exdate in event.all("EXDATE") {
        for value in exdate.value.split(',') {
            match parse_date_time(value.trim()) {
                // A date-time excludes its day: holidays are whole days.
                Ok((date, _)) => exdates.push(date),
                Err(message) => error(exdate.line, "EXDATE", message),
            }
        }
    }
    let mut rdates = vec![];
    for rdate in event.all("RDATE") {
        if rdate.param("VALUE").is_some_and(|value| value.eq_ignore_ascii_case("PERIOD")) {
            let message = "RDATE periods are not supported: list dates with RDATE;VALUE=DATE";
            error(rdate.line, "RDATE", message.to_owned());
            continue;
        }
        for value in rdate.value.split(',') {
            match parse_date_time(value.trim()) {
                Ok((date, false)) => rdates.push(date),
                Ok((_, true)) => error(rdate.line, "RDATE", timed_message("RDATE", value.trim())),
                Err(message) => error(rdate.line, "RDATE", message),
            }
        }
    }

    let mut rule = None;
    let mut dtstart_in_rule = false;
    if let Some(rrule) = event.first("RRULE") {
        let recurrence = if n_days > 1 {
            Err(format!(
                "a recurring event of {n_days} days is not supported: write one yearly event per day"
            ))
        } else {
            parse_rrule(rrule.value.trim())
        };
        match recurrence.and_then(|recurrence| yearly_rule(dtstart, &recurrence, &exdates)) {
            Ok((yearly, covers_dtstart)) => {
                rule = yearly;
                dtstart_in_rule = covers_dtstart;
            }
            Err(message) => error(rrule.line, "RRULE", message),
        }
    }
    if errors.len() > n_errors_before {
        return vec![];
    }

    // The recurrence set: DTSTART, the rule's dates and the RDATEs, minus the EXDATEs
    // (RFC 5545 section 3.8.5). Each instance lasts `n_days`.
    let mut holidays = vec![];
    let add_instance = |start: Date, holidays: &mut Vec<DayException>| {
        if exdates.contains(&start) {
            return;
        }
        for day in start.series(jiff::Span::new().days(1)).take(n_days as usize) {
            holidays.push(DayException::holiday(name.clone(), DateRule::Date(day)));
        }
    };
    if !dtstart_in_rule {
        add_instance(dtstart, &mut holidays);
    }
    if let Some(rule) = rule {
        holidays.push(DayException::holiday(name.clone(), DateRule::Yearly(rule)));
    }
    for rdate in rdates {
        add_instance(rdate, &mut holidays);
    }
    holidays
}

/// A `DTSTART` or `DTEND` of an all-day event: a date, not a date-time.
fn all_day_date(property: &ContentLine) -> Result<Date, String> {
    let value = property.value.trim();
    if let Some(value_type) = property.param("VALUE")
        && !value_type.eq_ignore_ascii_case("DATE")
        && !value_type.eq_ignore_ascii_case("DATE-TIME")
    {
        return Err(format!(
            "{} has VALUE={value_type}: expected VALUE=DATE, such as {};VALUE=DATE:20261225",
            property.name, property.name
        ));
    }
    match parse_date_time(value)? {
        (date, false) => Ok(date),
        (_, true) => Err(timed_message(&property.name, value)),
    }
}

fn timed_message(property_name: &str, value: &str) -> String {
    format!(
        "only all-day events can be holidays: {property_name} {value} has a time of day; \
         write {property_name};VALUE=DATE:{}",
        value.get(..8).unwrap_or(value)
    )
}

/// `YYYYMMDD` or `YYYYMMDDTHHMMSS[Z]`: the date, and whether a time was given.
fn parse_date_time(text: &str) -> Result<(Date, bool), String> {
    let Some((date, time)) = text.split_once(['T', 't']) else {
        return Ok((parse_date(text)?, false));
    };
    let time = time.strip_suffix(['Z', 'z']).unwrap_or(time);
    let field = |range: std::ops::Range<usize>, max: u8| {
        time.get(range).and_then(|digits| digits.parse::<u8>().ok()).filter(|value| *value <= max)
    };
    let valid_time = time.len() == 6
        && time.bytes().all(|byte| byte.is_ascii_digit())
        && field(0..2, 23).is_some()
        && field(2..4, 59).is_some()
        // 60 is a leap second.
        && field(4..6, 60).is_some();
    if !valid_time {
        return Err(format!("invalid date-time {text:?}: expected YYYYMMDDTHHMMSS"));
    }
    Ok((parse_date(date)?, true))
}

/// `YYYYMMDD` (RFC 5545 section 3.3.4).
fn parse_date(text: &str) -> Result<Date, String> {
    if text.len() != 8 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("invalid date {text:?}: expected YYYYMMDD"));
    }
    let number = |range: std::ops::Range<usize>| {
        text[range].parse::<i16>().expect("four ASCII digits fit i16")
    };
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    if !(1..=12).contains(&month) {
        return Err(format!("invalid date {text:?}: month {month} is not between 1 and 12"));
    }
    let (month, day) = (month as i8, day as i8);
    let first_of_month =
        Date::new(year, month, 1).map_err(|error| format!("invalid date {text:?}: {error}"))?;
    let days_in_month = first_of_month.days_in_month();
    if !(1..=days_in_month).contains(&day) {
        return Err(format!(
            "invalid date {text:?}: day {day} is not between 1 and {days_in_month}"
        ));
    }
    first_of_month
        .with()
        .day(day)
        .build()
        .map_err(|error| format!("invalid date {text:?}: {error}"))
}

/// Refuses events too long to be a holiday (and too long to list day by day).
fn checked_days(span: jiff::Span) -> Result<i32, String> {
    let n_days = span.get_days();
    if n_days > MAX_EVENT_DAYS {
        return Err(format!(
            "an event of {n_days} days is too long: at most {MAX_EVENT_DAYS} are supported"
        ));
    }
    Ok(n_days)
}

/// `P3D` or `P2W`: the length of an all-day event.
fn parse_duration_days(text: &str) -> Result<jiff::Span, String> {
    let invalid = || {
        format!(
            "invalid DURATION {text:?}: an all-day event lasts whole days or weeks, such as P1D or P2W"
        )
    };
    let upper = text.to_ascii_uppercase();
    let body = upper.strip_prefix('+').unwrap_or(&upper).strip_prefix('P').ok_or_else(invalid)?;
    let (digits, days_per_unit) = match body.split_at_checked(body.len().saturating_sub(1)) {
        Some((digits, "D")) => (digits, 1),
        Some((digits, "W")) => (digits, 7),
        _ => return Err(invalid()),
    };
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    // At most 999999 weeks: within the range of a span.
    let days = digits.parse::<i32>().expect("at most six ASCII digits") * days_per_unit;
    if days == 0 {
        return Err(format!("DURATION {text:?} is zero: an event lasts at least one day"));
    }
    Ok(jiff::Span::new().days(days))
}

/// Unescapes a TEXT value (RFC 5545 section 3.3.11): `\,` `\;` `\\` and `\n`. Other
/// backslashes are kept as written.
fn unescape_text(text: &str) -> String {
    let mut unescaped = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            unescaped.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => unescaped.push('\n'),
            Some(escaped @ (',' | ';' | '\\')) => unescaped.push(escaped),
            Some(other) => {
                unescaped.push('\\');
                unescaped.push(other);
            }
            None => unescaped.push('\\'),
        }
    }
    unescaped
}

/// The parts of a `FREQ=YEARLY` rule that a [`YearlyRule`] can hold.
#[derive(Debug)]
struct Recurrence {
    interval: i16,
    end: Option<RecurrenceEnd>,
    /// `None` means DTSTART's month.
    month: Option<i8>,
    /// `None` means DTSTART's day of the month.
    day: Option<YearlyDay>,
}

#[derive(Debug)]
enum RecurrenceEnd {
    Count(u32),
    /// The date of `UNTIL`; a date-time's time is dropped.
    Until(Date),
}

/// Parses an `RRULE` value (RFC 5545 section 3.3.10), refusing anything but a yearly rule for
/// one day a year.
fn parse_rrule(text: &str) -> Result<Recurrence, String> {
    let mut parts: Vec<(String, &str)> = vec![];
    for part in text.split(';').filter(|part| !part.trim().is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("invalid RRULE part {part:?}: expected NAME=VALUE"))?;
        let name = name.trim().to_ascii_uppercase();
        if parts.iter().any(|(seen, _)| *seen == name) {
            return Err(format!("RRULE part {name} appears more than once"));
        }
        parts.push((name, value.trim()));
    }
    let part = |name: &str| parts.iter().find(|(part, _)| part == name).map(|(_, value)| *value);
    match part("FREQ") {
        Some(freq) if freq.eq_ignore_ascii_case("YEARLY") => {}
        Some(freq) => {
            return Err(format!(
                "unsupported FREQ {freq:?}: only yearly rules (FREQ=YEARLY) are supported"
            ));
        }
        None => return Err(format!("RRULE {text:?} has no FREQ")),
    }
    // WKST only matters for weekly rules and BYWEEKNO, neither of which is supported.
    let known = [
        "FREQ",
        "INTERVAL",
        "COUNT",
        "UNTIL",
        "BYMONTH",
        "BYMONTHDAY",
        "BYDAY",
        "BYSETPOS",
        "WKST",
    ];
    if let Some((unknown, _)) = parts.iter().find(|(name, _)| !known.contains(&name.as_str())) {
        return Err(format!(
            "unsupported RRULE part {unknown}: supported parts are {SUPPORTED_PARTS}"
        ));
    }

    let interval = match part("INTERVAL") {
        None => 1,
        Some(interval) => {
            interval.parse::<i16>().ok().filter(|interval| *interval >= 1).ok_or_else(|| {
                format!("invalid INTERVAL {interval:?}: expected a whole number of years from 1")
            })?
        }
    };
    let end = match (part("COUNT"), part("UNTIL")) {
        (Some(_), Some(_)) => {
            return Err("RRULE has both COUNT and UNTIL: RFC 5545 allows one".to_owned());
        }
        (Some(count), None) => Some(RecurrenceEnd::Count(
            count.parse::<u32>().ok().filter(|count| *count >= 1).ok_or_else(|| {
                format!("invalid COUNT {count:?}: expected a whole number from 1")
            })?,
        )),
        (None, Some(until)) => Some(RecurrenceEnd::Until(
            parse_date_time(until).map_err(|message| format!("invalid UNTIL: {message}"))?.0,
        )),
        (None, None) => None,
    };
    let month = match part("BYMONTH") {
        None => None,
        Some(month) => {
            let month = single(month, "BYMONTH", "month")?;
            Some(month.parse::<i8>().ok().filter(|month| (1..=12).contains(month)).ok_or_else(
                || format!("invalid BYMONTH {month:?}: expected a month from 1 to 12"),
            )?)
        }
    };

    let ordinal_day = match (part("BYDAY"), part("BYSETPOS")) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(
                "BYSETPOS without BYDAY is not supported: use BYDAY=4TH or BYMONTHDAY".to_owned()
            );
        }
        (Some(byday), setpos) => {
            let byday = single(byday, "BYDAY", "weekday")?;
            let (ordinal, weekday) = parse_byday(byday)?;
            let ordinal = match (ordinal, setpos) {
                (Some(ordinal), None) => ordinal,
                (None, Some(setpos)) => {
                    let setpos = single(setpos, "BYSETPOS", "position")?;
                    setpos.parse::<i8>().ok().filter(|setpos| *setpos != 0).ok_or_else(|| {
                        format!("invalid BYSETPOS {setpos:?}: expected a position such as 4 or -1")
                    })?
                }
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "BYDAY {byday:?} with BYSETPOS is not supported: use BYDAY=4TH or BYDAY=-1MO alone"
                    ));
                }
                (None, None) => {
                    let within = if month.is_some() { "month" } else { "year" };
                    return Err(format!(
                        "BYDAY {byday:?} without an ordinal means every {weekday:?} of the {within}: \
                         a holiday is one day a year, such as BYDAY=4TH or BYDAY=-1MO"
                    ));
                }
            };
            Some((ordinal, weekday))
        }
    };

    let (month, day) = match (ordinal_day, part("BYMONTHDAY")) {
        (Some(_), Some(_)) => {
            return Err("BYDAY with BYMONTHDAY is not supported: use one of them".to_owned());
        }
        (Some((nth, weekday)), None) => match month {
            Some(_) if (-5..=5).contains(&nth) => (month, Some(YearlyDay::Nth { nth, weekday })),
            Some(_) => {
                return Err(format!(
                    "weekday occurrence {nth} is not between -5 and 5: a month has at most five {weekday:?}s"
                ));
            }
            // Without BYMONTH the ordinal counts within the year. The first four of a weekday
            // always fall in January and the last four in December; the fifth may not.
            None if (1..=4).contains(&nth) => (Some(1), Some(YearlyDay::Nth { nth, weekday })),
            None if (-4..=-1).contains(&nth) => (Some(12), Some(YearlyDay::Nth { nth, weekday })),
            None => {
                return Err(format!(
                    "weekday occurrence {nth} without BYMONTH counts {weekday:?}s within the year \
                     and does not stay in one month: add BYMONTH"
                ));
            }
        },
        (None, Some(monthday)) => {
            let monthday = single(monthday, "BYMONTHDAY", "day")?;
            let day = monthday
                .parse::<i8>()
                .ok()
                .filter(|day| *day != 0 && (-31..=31).contains(day))
                .ok_or_else(|| {
                    format!(
                        "invalid BYMONTHDAY {monthday:?}: expected a day from 1 to 31 or -31 to -1"
                    )
                })?;
            if month.is_none() {
                return Err(format!(
                    "BYMONTHDAY {monthday:?} without BYMONTH repeats every month: add BYMONTH"
                ));
            }
            (month, Some(YearlyDay::Fixed(day)))
        }
        (None, None) => (month, None),
    };
    Ok(Recurrence { interval, end, month, day })
}

/// Refuses a list where one value is supported.
fn single<'a>(value: &'a str, part: &str, what: &str) -> Result<&'a str, String> {
    if value.contains(',') {
        return Err(format!(
            "{part} {value:?} lists several values: only one {what} is supported, write one event for each"
        ));
    }
    Ok(value)
}

/// `4TH`, `-1MO`, `+2SU` or `MO`: the ordinal, if any, and the weekday.
fn parse_byday(text: &str) -> Result<(Option<i8>, Weekday), String> {
    let invalid = || {
        format!("invalid BYDAY {text:?}: expected an ordinal and a weekday, such as 4TH or -1MO")
    };
    if !text.is_ascii() || text.len() < 2 {
        return Err(invalid());
    }
    let (ordinal, code) = text.split_at(text.len() - 2);
    let weekday = match code.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return Err(invalid()),
    };
    if ordinal.is_empty() {
        return Ok((None, weekday));
    }
    let digits = ordinal.strip_prefix(['+', '-']).unwrap_or(ordinal);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(invalid());
    }
    let ordinal =
        ordinal.strip_prefix('+').unwrap_or(ordinal).parse::<i8>().map_err(|_| invalid())?;
    if ordinal == 0 {
        return Err(invalid());
    }
    Ok((Some(ordinal), weekday))
}

/// The yearly rule for an event starting on `dtstart`, and whether the rule's dates include
/// `dtstart` (when they do not, `dtstart` is an occurrence of its own). `None` when the rule
/// ends before its first date.
fn yearly_rule(
    dtstart: Date,
    recurrence: &Recurrence,
    exdates: &[Date],
) -> Result<(Option<YearlyRule>, bool), String> {
    let first_year = dtstart.year();
    let month = recurrence.month.unwrap_or(dtstart.month());
    let day = recurrence.day.unwrap_or(YearlyDay::Fixed(dtstart.day()));
    if let YearlyDay::Fixed(day) = day {
        let longest = Date::new(2000, month, 1).expect("month is 1 to 12").days_in_month();
        if day.unsigned_abs() > longest.unsigned_abs() {
            return Err(format!("the rule never occurs: month {month} has no day {day}"));
        }
    }
    let rule = |last_year: Option<i16>| {
        YearlyRule::new(month, day)
            .and_then(|rule| rule.between(Some(first_year), last_year))
            .and_then(|rule| rule.every(recurrence.interval))
            .map_err(|error| error.to_string())
    };
    let unbounded = rule(None)?;
    let first_date = unbounded.occurrence_in(first_year);
    let covers_dtstart = first_date == Some(dtstart);
    let last_year = match recurrence.end {
        None => None,
        Some(RecurrenceEnd::Until(until)) => {
            let year = until.year();
            let until_year_in = unbounded.occurrence_in(year).is_some_and(|date| date <= until);
            Some(if until_year_in { year } else { year - 1 })
        }
        Some(RecurrenceEnd::Count(count)) => {
            // DTSTART always counts as the first occurrence (RFC 5545 section 3.3.10), so a
            // DTSTART off the rule uses up one.
            let mut remaining = count - u32::from(!covers_dtstart);
            let mut last_year = if remaining == 0 { Some(first_year - 1) } else { None };
            for year in first_year..=LAST_COUNTED_YEAR {
                if remaining == 0 {
                    break;
                }
                if unbounded.occurrence_in(year).is_some_and(|date| date >= dtstart) {
                    remaining -= 1;
                    if remaining == 0 {
                        last_year = Some(year);
                    }
                }
            }
            // A count not reached by 2200 runs past the calendar horizon: unbounded.
            last_year
        }
    };
    if last_year.is_some_and(|last_year| last_year < first_year) {
        return Ok((None, false));
    }
    let mut except = exdates.to_vec();
    // The rule's dates start at DTSTART: one earlier in DTSTART's year is not among them.
    except.extend(first_date.filter(|date| *date < dtstart));
    Ok((Some(rule(last_year)?.except(except)), covers_dtstart))
}
