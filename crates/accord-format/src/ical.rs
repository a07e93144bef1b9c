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
    let summary = event
        .first("SUMMARY")
        .map(|summary| unescape_text(&summary.value))
        .filter(|summary| !summary.trim().is_empty());
    let label =
        summary.as_ref().map_or_else(|| "event".to_owned(), |name| format!("event {name:?}"));
    let name = summary.unwrap_or_else(|| "holiday".to_owned());
    let n_errors_before = errors.len();
    let mut error = |line: usize, property: &str, message: String| {
        errors.push(FormatError::at(path, line, 1, &format!("VEVENT.{property}"), message));
    };

    for property_name in ["DTSTART", "DTEND", "DURATION", "RRULE"] {
        if let Some(repeated) = event.all(property_name).nth(1) {
            error(
                repeated.line,
                property_name,
                format!("{label} has more than one {property_name}"),
            );
        }
    }
    let Some(dtstart_property) = event.first("DTSTART") else {
        error(event.line, "DTSTART", format!("{label} has no DTSTART"));
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
            error(dtend.line, "DTEND", format!("{label} has both DTEND and DURATION"));
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

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    /// Removes the indentation the test source adds; a folded line keeps its one extra space.
    fn dedent(text: &str) -> String {
        let text = text.strip_prefix('\n').unwrap_or(text);
        let indent = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| line.len() - line.trim_start().len())
            .min()
            .unwrap_or(0);
        let lines: Vec<&str> = text.lines().map(|line| line.get(indent..).unwrap_or("")).collect();
        lines.join("\n") + "\n"
    }

    /// The holidays' dates in `first_year..=last_year`, one per line, in date order.
    fn dates_between(holidays: &[DayException], first_year: i16, last_year: i16) -> String {
        let mut dates: Vec<(Date, &str)> = vec![];
        for holiday in holidays {
            match holiday.on() {
                DateRule::Date(date) => {
                    if (first_year..=last_year).contains(&date.year()) {
                        dates.push((*date, holiday.name()));
                    }
                }
                DateRule::Yearly(rule) => {
                    for year in first_year..=last_year {
                        dates.extend(rule.occurrence_in(year).map(|date| (date, holiday.name())));
                    }
                }
            }
        }
        dates.sort_by_key(|(date, _)| *date);
        dates.iter().map(|(date, name)| format!("{date} {name:?}\n")).collect()
    }

    #[track_caller]
    fn check_text(text: &str, first_year: i16, last_year: i16, expect: Expect) {
        let actual = match parse_holidays(Path::new("holidays.ics"), text) {
            Ok(holidays) => dates_between(&holidays, first_year, last_year),
            Err(errors) => format!("{errors}\n"),
        };
        expect.assert_eq(&actual);
    }

    /// Parses `ics` (indented, LF) and lists its holidays' dates in 2026 and 2027, or the
    /// errors.
    #[track_caller]
    fn check(ics: &str, expect: Expect) {
        check_text(&dedent(ics), 2026, 2027, expect);
    }

    #[track_caller]
    fn check_years(ics: &str, first_year: i16, last_year: i16, expect: Expect) {
        check_text(&dedent(ics), first_year, last_year, expect);
    }

    #[test]
    fn german_holidays_mix_fixed_dates_yearly_rules_and_rdates() {
        check(
            r"
            BEGIN:VCALENDAR
            VERSION:2.0
            PRODID:-//Accord//Feiertage Berlin//DE
            CALSCALE:GREGORIAN
            BEGIN:VEVENT
            UID:neujahr@feiertage.example
            DTSTART;VALUE=DATE:20200101
            RRULE:FREQ=YEARLY
            SUMMARY:Neujahr
            END:VEVENT
            BEGIN:VEVENT
            UID:frauentag@feiertage.example
            DTSTART;VALUE=DATE:20190308
            RRULE:FREQ=YEARLY
            SUMMARY:Internationaler Frauentag
            END:VEVENT
            BEGIN:VEVENT
            UID:karfreitag@feiertage.example
            DTSTART;VALUE=DATE:20260403
            RDATE;VALUE=DATE:20270326
            SUMMARY:Karfreitag
            END:VEVENT
            BEGIN:VEVENT
            UID:ostermontag@feiertage.example
            DTSTART;VALUE=DATE:20260406
            RDATE;VALUE=DATE:20270329
            SUMMARY:Ostermontag
            END:VEVENT
            BEGIN:VEVENT
            UID:maifeiertag@feiertage.example
            DTSTART;VALUE=DATE:20200501
            RRULE:FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=1
            SUMMARY:Tag der Arbeit
            END:VEVENT
            BEGIN:VEVENT
            UID:himmelfahrt@feiertage.example
            DTSTART;VALUE=DATE:20260514
            RDATE;VALUE=DATE:20270506,20280525
            SUMMARY:Christi Himmelfahrt
            END:VEVENT
            BEGIN:VEVENT
            UID:pfingstmontag@feiertage.example
            DTSTART:20260525
            RDATE;VALUE=DATE:20270517
            SUMMARY:Pfingstmontag
            END:VEVENT
            BEGIN:VEVENT
            UID:einheit@feiertage.example
            DTSTART;VALUE=DATE:19901003
            RRULE:FREQ=YEARLY
            SUMMARY:Tag der Deutschen
              Einheit
            END:VEVENT
            BEGIN:VEVENT
            UID:weihnachten@feiertage.example
            DTSTART;VALUE=DATE:20001225
            DTEND;VALUE=DATE:20001226
            RRULE:FREQ=YEARLY
            SUMMARY:1. Weihnachtstag
            END:VEVENT
            BEGIN:VEVENT
            UID:stephanstag@feiertage.example
            DTSTART;VALUE=DATE:20001226
            DURATION:P1D
            RRULE:FREQ=YEARLY
            SUMMARY:2. Weihnachtstag
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                2026-01-01 "Neujahr"
                2026-03-08 "Internationaler Frauentag"
                2026-04-03 "Karfreitag"
                2026-04-06 "Ostermontag"
                2026-05-01 "Tag der Arbeit"
                2026-05-14 "Christi Himmelfahrt"
                2026-05-25 "Pfingstmontag"
                2026-10-03 "Tag der Deutschen Einheit"
                2026-12-25 "1. Weihnachtstag"
                2026-12-26 "2. Weihnachtstag"
                2027-01-01 "Neujahr"
                2027-03-08 "Internationaler Frauentag"
                2027-03-26 "Karfreitag"
                2027-03-29 "Ostermontag"
                2027-05-01 "Tag der Arbeit"
                2027-05-06 "Christi Himmelfahrt"
                2027-05-17 "Pfingstmontag"
                2027-10-03 "Tag der Deutschen Einheit"
                2027-12-25 "1. Weihnachtstag"
                2027-12-26 "2. Weihnachtstag"
            "#]],
        );
    }

    #[test]
    fn thanksgiving_is_the_fourth_thursday_of_november() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:19421126
            RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH
            SUMMARY:Thanksgiving Day
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                2026-11-26 "Thanksgiving Day"
                2027-11-25 "Thanksgiving Day"
            "#]],
        );
    }

    #[test]
    fn negative_and_signed_weekday_ordinals_count_from_either_end_of_the_month() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:19710531
            RRULE:FREQ=YEARLY;BYDAY=-1MO;BYMONTH=5
            SUMMARY:Memorial Day
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20000514
            RRULE:freq=yearly;bymonth=5;byday=+2su
            SUMMARY:Mother's Day
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                2026-05-10 "Mother's Day"
                2026-05-25 "Memorial Day"
                2027-05-09 "Mother's Day"
                2027-05-31 "Memorial Day"
            "#]],
        );
    }

    #[test]
    fn bysetpos_picks_one_weekday_the_way_outlook_writes_it() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20000529
            RRULE:FREQ=YEARLY;BYDAY=MO;BYSETPOS=-1;BYMONTH=5
            SUMMARY:Spring Bank Holiday
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                2026-05-25 "Spring Bank Holiday"
                2027-05-31 "Spring Bank Holiday"
            "#]],
        );
    }

    #[test]
    fn weekday_ordinal_without_bymonth_counts_within_the_year() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260105
            RRULE:FREQ=YEARLY;BYDAY=1MO
            SUMMARY:First Monday of the year
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261228
            RRULE:FREQ=YEARLY;BYDAY=-1MO
            SUMMARY:Last Monday of the year
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                2026-01-05 "First Monday of the year"
                2026-12-28 "Last Monday of the year"
                2027-01-04 "First Monday of the year"
                2027-12-27 "Last Monday of the year"
            "#]],
        );
    }

    #[test]
    fn count_ends_the_rule_after_that_many_occurrences() {
        check_years(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20250704
            RRULE:FREQ=YEARLY;COUNT=2
            SUMMARY:Jubilee
            END:VEVENT
            END:VCALENDAR
            ",
            2024,
            2028,
            expect![[r#"
                2025-07-04 "Jubilee"
                2026-07-04 "Jubilee"
            "#]],
        );
    }

    #[test]
    fn count_counts_february_29_only_in_leap_years() {
        check_years(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20240229
            RRULE:FREQ=YEARLY;COUNT=3
            SUMMARY:Leap day
            END:VEVENT
            END:VCALENDAR
            ",
            2024,
            2040,
            expect![[r#"
                2024-02-29 "Leap day"
                2028-02-29 "Leap day"
                2032-02-29 "Leap day"
            "#]],
        );
    }

    #[test]
    fn count_with_an_interval_counts_only_the_years_the_rule_occurs() {
        check_years(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20240601
            RRULE:FREQ=YEARLY;INTERVAL=3;COUNT=3
            SUMMARY:Triennial
            END:VEVENT
            END:VCALENDAR
            ",
            2024,
            2036,
            expect![[r#"
                2024-06-01 "Triennial"
                2027-06-01 "Triennial"
                2030-06-01 "Triennial"
            "#]],
        );
    }

    #[test]
    fn until_ends_the_rule_at_the_last_occurrence_on_or_before_it() {
        check_years(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20241128
            RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;UNTIL=20271124
            SUMMARY:Until the day before
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20240101
            RRULE:FREQ=YEARLY;UNTIL=20260101T235959Z
            SUMMARY:Until the day itself
            END:VEVENT
            END:VCALENDAR
            ",
            2024,
            2028,
            expect![[r#"
                2024-01-01 "Until the day itself"
                2024-11-28 "Until the day before"
                2025-01-01 "Until the day itself"
                2025-11-27 "Until the day before"
                2026-01-01 "Until the day itself"
                2026-11-26 "Until the day before"
            "#]],
        );
    }

    #[test]
    fn exdate_removes_occurrences_given_as_dates_or_date_times() {
        check_years(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20201231
            RRULE:FREQ=YEARLY
            EXDATE;VALUE=DATE:20261231
            EXDATE;TZID=Europe/Berlin:20281231T000000,20291231T000000
            SUMMARY:Year-end closing
            END:VEVENT
            END:VCALENDAR
            ",
            2025,
            2030,
            expect![[r#"
                2025-12-31 "Year-end closing"
                2027-12-31 "Year-end closing"
                2030-12-31 "Year-end closing"
            "#]],
        );
    }

    #[test]
    fn dtstart_off_the_rule_is_an_occurrence_of_its_own_and_counts() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260101
            RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH;COUNT=2
            SUMMARY:Off the rule
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                2026-01-01 "Off the rule"
                2026-11-26 "Off the rule"
            "#]],
        );
    }

    #[test]
    fn rule_dates_before_dtstart_in_its_year_are_not_occurrences() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261201
            RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH
            SUMMARY:Late start
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                2026-12-01 "Late start"
                2027-11-25 "Late start"
            "#]],
        );
    }

    #[test]
    fn multi_day_events_make_one_holiday_per_day_in_file_order() {
        let ics = dedent(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261224
            DTEND;VALUE=DATE:20261227
            SUMMARY:Christmas closure
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260803
            DURATION:P1W
            SUMMARY:Summer shutdown
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260101
            RRULE:FREQ=YEARLY
            SUMMARY:New Year's Day
            END:VEVENT
            END:VCALENDAR
            ",
        );
        let holidays = parse_holidays(Path::new("holidays.ics"), &ics).unwrap();
        let listed: String = holidays
            .iter()
            .map(|holiday| match holiday.on() {
                DateRule::Date(date) => format!("{date} {:?}\n", holiday.name()),
                DateRule::Yearly(rule) => {
                    format!("yearly {}/{:?} {:?}\n", rule.month(), rule.day(), holiday.name())
                }
            })
            .collect();
        expect![[r#"
            2026-12-24 "Christmas closure"
            2026-12-25 "Christmas closure"
            2026-12-26 "Christmas closure"
            2026-08-03 "Summer shutdown"
            2026-08-04 "Summer shutdown"
            2026-08-05 "Summer shutdown"
            2026-08-06 "Summer shutdown"
            2026-08-07 "Summer shutdown"
            2026-08-08 "Summer shutdown"
            2026-08-09 "Summer shutdown"
            yearly 1/Fixed(1) "New Year's Day"
        "#]]
        .assert_eq(&listed);
    }

    #[test]
    fn folded_lines_are_joined_and_summary_escapes_undone() {
        check_text(
            concat!(
                "BEGIN:VCALENDAR\n",
                "BEGIN:VEVENT\n",
                "DTST\n",
                " ART;VALUE=DATE:20261226\n",
                "RRULE:FREQ=YEA\n",
                "\tRLY\n",
                "SUMMARY:Saint Stephen\\, Boxing Day\\; office\n",
                "  closed\\nall day \\\\ both sites\n",
                "END:VEVENT\n",
                "END:VCALENDAR\n",
            ),
            2026,
            2027,
            expect![[r#"
                2026-12-26 "Saint Stephen, Boxing Day; office closed\nall day \\ both sites"
                2027-12-26 "Saint Stephen, Boxing Day; office closed\nall day \\ both sites"
            "#]],
        );
    }

    #[test]
    fn crlf_input_reads_like_lf_input() {
        let ics = dedent(
            r"
            BEGIN:VCALENDAR
            VERSION:2.0
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261225
            RRULE:FREQ=YEARLY
            SUMMARY:Christmas
              Day
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261332
            END:VEVENT
            END:VCALENDAR
            ",
        );
        check_text(
            &ics.replace('\n', "\r\n"),
            2026,
            2027,
            expect![[r#"
                holidays.ics:10:1: VEVENT.DTSTART: invalid date "20261332": month 13 is not between 1 and 12
            "#]],
        );
        check_text(
            &ics.replace('\n', "\r\n").replace("20261332", "20260101"),
            2026,
            2027,
            expect![[r#"
                2026-01-01 "holiday"
                2026-12-25 "Christmas Day"
                2027-12-25 "Christmas Day"
            "#]],
        );
    }

    #[test]
    fn cancelled_events_are_skipped() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261231
            SUMMARY:Year-end closing
            STATUS:CANCELLED
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261225
            SUMMARY:Christmas Day
            STATUS:CONFIRMED
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                2026-12-25 "Christmas Day"
            "#]],
        );
    }

    #[test]
    fn components_other_than_events_are_skipped_however_nested() {
        check(
            r"
            BEGIN:VCALENDAR
            VERSION:2.0
            BEGIN:VTIMEZONE
            TZID:Europe/Berlin
            BEGIN:STANDARD
            DTSTART:19701025T030000
            RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
            TZOFFSETFROM:+0200
            TZOFFSETTO:+0100
            END:STANDARD
            END:VTIMEZONE
            BEGIN:VTODO
            DTSTART:20260105T090000
            SUMMARY:Publish the holiday list
            END:VTODO
            BEGIN:VEVENT
            dtstart;value=date:20261225
            summary:Christmas Day
            BEGIN:VALARM
            ACTION:EMAIL
            SUMMARY:Reminder
            TRIGGER:-P1D
            DURATION:PT15M
            REPEAT:2
            END:VALARM
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                2026-12-25 "Christmas Day"
            "#]],
        );
    }

    #[test]
    fn quoted_parameters_a_byte_order_mark_and_several_calendars_are_read() {
        check_text(
            concat!(
                "\u{feff}BEGIN:VCALENDAR\n",
                "BEGIN:VEVENT\n",
                "DTSTART;X-NOTE=\"closed: all sites; all day\";VALUE=DATE:20261225\n",
                "SUMMARY;LANGUAGE=en:Christmas Day\n",
                "END:VEVENT\n",
                "END:VCALENDAR\n",
                "\n",
                "BEGIN:VCALENDAR\n",
                "BEGIN:VEVENT\n",
                "DTSTART;VALUE=DATE:20261226\n",
                "SUMMARY:Boxing Day\n",
                "END:VEVENT\n",
                "END:VCALENDAR\n",
            ),
            2026,
            2027,
            expect![[r#"
                2026-12-25 "Christmas Day"
                2026-12-26 "Boxing Day"
            "#]],
        );
    }

    #[test]
    fn a_timed_event_is_an_error() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART:20261225T090000Z
            SUMMARY:Christmas party
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261224
            DTEND:20261224T120000
            SUMMARY:Christmas Eve
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                holidays.ics:3:1: VEVENT.DTSTART: only all-day events can be holidays: DTSTART 20261225T090000Z has a time of day; write DTSTART;VALUE=DATE:20261225
                holidays.ics:8:1: VEVENT.DTEND: only all-day events can be holidays: DTEND 20261224T120000 has a time of day; write DTEND;VALUE=DATE:20261224
            "#]],
        );
    }

    #[test]
    fn rules_other_than_yearly_are_errors() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260105
            RRULE:FREQ=WEEKLY;BYDAY=MO
            SUMMARY:Team day
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260105
            RRULE:FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO
            SUMMARY:Week 20
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260105
            RRULE:FREQ=YEARLY;BYYEARDAY=100
            SUMMARY:Day 100
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260101
            RRULE:COUNT=3
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                holidays.ics:4:1: VEVENT.RRULE: unsupported FREQ "WEEKLY": only yearly rules (FREQ=YEARLY) are supported
                holidays.ics:9:1: VEVENT.RRULE: unsupported RRULE part BYWEEKNO: supported parts are FREQ, INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY, BYDAY, BYSETPOS
                holidays.ics:14:1: VEVENT.RRULE: unsupported RRULE part BYYEARDAY: supported parts are FREQ, INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY, BYDAY, BYSETPOS
                holidays.ics:19:1: VEVENT.RRULE: RRULE "COUNT=3" has no FREQ
            "#]],
        );
    }

    #[test]
    fn yearly_rules_for_more_than_one_day_a_year_are_errors() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260105
            RRULE:FREQ=YEARLY;BYMONTH=1;BYDAY=MO
            SUMMARY:Every Monday in January
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260101
            RRULE:FREQ=YEARLY;BYMONTH=1,7
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260115
            RRULE:FREQ=YEARLY;BYMONTHDAY=15
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261224
            DTEND;VALUE=DATE:20261227
            RRULE:FREQ=YEARLY
            SUMMARY:Christmas closure
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260131
            RRULE:FREQ=YEARLY;BYMONTH=2
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260129
            RRULE:FREQ=YEARLY;BYMONTH=1;BYDAY=6TH
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260101
            RRULE:FREQ=YEARLY;COUNT=2;UNTIL=20300101
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                holidays.ics:4:1: VEVENT.RRULE: BYDAY "MO" without an ordinal means every Monday of the month: a holiday is one day a year, such as BYDAY=4TH or BYDAY=-1MO
                holidays.ics:9:1: VEVENT.RRULE: BYMONTH "1,7" lists several values: only one month is supported, write one event for each
                holidays.ics:13:1: VEVENT.RRULE: BYMONTHDAY "15" without BYMONTH repeats every month: add BYMONTH
                holidays.ics:18:1: VEVENT.RRULE: a recurring event of 3 days is not supported: write one yearly event per day
                holidays.ics:23:1: VEVENT.RRULE: the rule never occurs: month 2 has no day 31
                holidays.ics:27:1: VEVENT.RRULE: weekday occurrence 6 is not between -5 and 5: a month has at most five Thursdays
                holidays.ics:31:1: VEVENT.RRULE: RRULE has both COUNT and UNTIL: RFC 5545 allows one
            "#]],
        );
    }

    #[test]
    fn invalid_dates_and_durations_are_errors() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261332
            SUMMARY:Month 13
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20270229
            SUMMARY:Not a leap year
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:2026-12-25
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261225
            DTEND;VALUE=DATE:20261225
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261225
            DURATION:PT24H
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261225
            RRULE:FREQ=YEARLY
            EXDATE:20271225,2028
            RDATE;VALUE=PERIOD:20261224/P1D
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20260101
            DURATION:P400D
            RDATE:20260601T000000Z
            END:VEVENT
            BEGIN:VEVENT
            SUMMARY:No start
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                holidays.ics:3:1: VEVENT.DTSTART: invalid date "20261332": month 13 is not between 1 and 12
                holidays.ics:7:1: VEVENT.DTSTART: invalid date "20270229": day 29 is not between 1 and 28
                holidays.ics:11:1: VEVENT.DTSTART: invalid date "2026-12-25": expected YYYYMMDD
                holidays.ics:15:1: VEVENT.DTEND: DTEND 20261225 is not after DTSTART 20261225: the end date is exclusive
                holidays.ics:19:1: VEVENT.DURATION: invalid DURATION "PT24H": an all-day event lasts whole days or weeks, such as P1D or P2W
                holidays.ics:24:1: VEVENT.EXDATE: invalid date "2028": expected YYYYMMDD
                holidays.ics:25:1: VEVENT.RDATE: RDATE periods are not supported: list dates with RDATE;VALUE=DATE
                holidays.ics:29:1: VEVENT.DURATION: an event of 400 days is too long: at most 366 are supported
                holidays.ics:30:1: VEVENT.RDATE: only all-day events can be holidays: RDATE 20260601T000000Z has a time of day; write RDATE;VALUE=DATE:20260601
                holidays.ics:32:1: VEVENT.DTSTART: event "No start" has no DTSTART
            "#]],
        );
    }

    #[test]
    fn a_line_without_a_colon_is_an_error_and_reading_goes_on() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261225
            SUMMARY Christmas Day
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE 20261226
            RRULE:FREQ=DAILY
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                holidays.ics:4:1: VEVENT: malformed line "SUMMARY Christmas Day": expected NAME:VALUE
                holidays.ics:6:1: VEVENT.DTSTART: event has no DTSTART
                holidays.ics:7:1: VEVENT: malformed line "DTSTART;VALUE=DATE 20261226": expected NAME:VALUE
            "#]],
        );
    }

    #[test]
    fn unbalanced_begin_and_end_are_errors_naming_the_line() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261225
            BEGIN:VALARM
            TRIGGER:-P1D
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                holidays.ics:6:1: VEVENT.VALARM: END:VEVENT does not close BEGIN:VALARM from line 4
            "#]],
        );
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261225
            END:VEVENT
            ",
            expect![[r#"
                holidays.ics:1:1: VCALENDAR: BEGIN:VCALENDAR is never closed by END:VCALENDAR
            "#]],
        );
        check(
            r"
            BEGIN:VCALENDAR
            END:VCALENDAR
            END:VEVENT
            ",
            expect![[r#"
                holidays.ics:3:1: END:VEVENT without BEGIN:VEVENT
            "#]],
        );
    }

    #[test]
    fn errors_in_several_events_are_all_reported() {
        check(
            r"
            BEGIN:VCALENDAR
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261225
            RRULE:FREQ=MONTHLY
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261226
            SUMMARY:Fine
            END:VEVENT
            BEGIN:VEVENT
            DTSTART;VALUE=DATE:20261227
            DTSTART;VALUE=DATE:20261228
            RRULE:FREQ=YEARLY;INTERVAL=0
            END:VEVENT
            END:VCALENDAR
            ",
            expect![[r#"
                holidays.ics:4:1: VEVENT.RRULE: unsupported FREQ "MONTHLY": only yearly rules (FREQ=YEARLY) are supported
                holidays.ics:12:1: VEVENT.DTSTART: event has more than one DTSTART
                holidays.ics:13:1: VEVENT.RRULE: invalid INTERVAL "0": expected a whole number of years from 1
            "#]],
        );
    }

    #[test]
    fn text_that_is_not_an_icalendar_file_is_an_error() {
        check(
            "",
            expect![[r#"
                holidays.ics:1:1: no BEGIN:VCALENDAR: the file is empty or not an iCalendar file
            "#]],
        );
        check(
            r"
            kind: Calendar
            spec: {}
            ",
            expect![[r#"
                holidays.ics:1:1: expected BEGIN:VCALENDAR, found "kind: Calendar"
            "#]],
        );
        check(
            r"
            BEGIN:VCALENDAR
            VERSION:1.0
            END:VCALENDAR
            ",
            expect![[r#"
                holidays.ics:2:1: VCALENDAR.VERSION: unsupported VERSION "1.0": only iCalendar 2.0 (RFC 5545) is supported
            "#]],
        );
    }

    #[test]
    fn us_federal_holidays_fixture_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ical/us-holidays.ics");
        let text = std::fs::read_to_string(&path).unwrap();
        check_text(
            &text,
            2028,
            2029,
            expect![[r#"
                2028-01-01 "New Year's Day"
                2028-01-17 "Birthday of Martin Luther King, Jr."
                2028-02-21 "Washington's Birthday"
                2028-05-29 "Memorial Day"
                2028-06-19 "Juneteenth National Independence Day"
                2028-07-04 "Independence Day"
                2028-09-04 "Labor Day"
                2028-10-09 "Columbus Day"
                2028-11-11 "Veterans Day"
                2028-11-23 "Thanksgiving Day"
                2028-12-25 "Christmas Day"
                2029-01-01 "New Year's Day"
                2029-01-15 "Birthday of Martin Luther King, Jr."
                2029-01-20 "Inauguration Day"
                2029-02-19 "Washington's Birthday"
                2029-05-28 "Memorial Day"
                2029-06-19 "Juneteenth National Independence Day"
                2029-07-04 "Independence Day"
                2029-09-03 "Labor Day"
                2029-10-08 "Columbus Day"
                2029-11-11 "Veterans Day"
                2029-11-22 "Thanksgiving Day"
                2029-12-25 "Christmas Day"
            "#]],
        );
    }
}
