//! `accord calendar ...`: business-time arithmetic from the command line.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use accord_core::calendar::ExceptionKind;
use accord_core::{BusinessCalendar, TimeRange};
use accord_format::bizbench::{self, Answer, Query};
use accord_format::document::{self, NamedCalendar};
use anyhow::{Context, bail};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

use crate::cli::{CalendarArg, CalendarCommand};
use crate::output;

/// Runs one `accord calendar` command.
///
/// # Errors
///
/// Unreadable or invalid files and arguments, named with what was expected.
pub fn run(command: CalendarCommand) -> anyhow::Result<ExitCode> {
    match command {
        CalendarCommand::Deadline { calendar, start, duration } => {
            let calendar = load(&calendar)?;
            let start = parse_instant("--start", &start)?;
            let duration = parse_duration(&duration)?;
            let deadline = calendar.calendar.deadline(start, duration)?;
            let local = deadline.to_zoned(calendar.calendar.zone().clone());
            output::text(&format!(
                "deadline: {}\n    UTC:  {}\ncalendar: {}\n   start: {}\nbusiness: {}",
                local.strftime("%Y-%m-%d %H:%M:%S %:z %Z (%A)"),
                deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
                calendar.name,
                start
                    .to_zoned(calendar.calendar.zone().clone())
                    .strftime("%Y-%m-%d %H:%M:%S %:z %Z"),
                format_duration(duration),
            ));
        }
        CalendarCommand::Elapsed { calendar, start, end, pauses } => {
            let calendar = load(&calendar)?;
            let start = parse_instant("--start", &start)?;
            let end = parse_instant("--end", &end)?;
            let pauses =
                pauses.iter().map(|pause| parse_pause(pause)).collect::<Result<Vec<_>, _>>()?;
            let elapsed = calendar.calendar.elapsed_excluding(start, end, &pauses)?;
            output::text(&format!(
                "business: {} ({} s)\ncalendar: {}\n    wall: {}",
                format_duration(elapsed),
                elapsed.as_secs(),
                calendar.name,
                format_duration(end.duration_since(start)),
            ));
        }
        CalendarCommand::Hours { calendar, from, days } => {
            let calendar = load(&calendar)?;
            let from: jiff::civil::Date = from
                .parse()
                .with_context(|| format!("--from: invalid date {from:?}: expected YYYY-MM-DD"))?;
            output::lines(hours_table(&calendar.calendar, from, days));
        }
        CalendarCommand::Check { files } => {
            let mut n_failed = 0;
            for file in &files {
                match document::load_calendar_file(file) {
                    Ok(calendar) => {
                        output::text(&format!("ok: {} ({})", file.display(), calendar.name))
                    }
                    Err(errors) => {
                        n_failed += 1;
                        output::note(&errors.to_string());
                    }
                }
            }
            if n_failed > 0 {
                bail!("{n_failed} of {} calendar files are invalid", files.len());
            }
        }
        CalendarCommand::Eval { calendars, queries, stats } => eval(&calendars, &queries, stats)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn load(arg: &CalendarArg) -> anyhow::Result<NamedCalendar> {
    if arg.calendar == "24x7" {
        return Ok(NamedCalendar {
            name: "24x7".into(),
            calendar: BusinessCalendar::always_open(TimeZone::UTC),
        });
    }
    Ok(document::load_calendar_file(Path::new(&arg.calendar))?)
}

/// Parses an instant given with an offset or a bracketed zone.
fn parse_instant(flag: &str, text: &str) -> anyhow::Result<Timestamp> {
    if let Ok(zoned) = text.parse::<Zoned>() {
        return Ok(zoned.timestamp());
    }
    text.parse::<Timestamp>().map_err(|_| {
        anyhow::anyhow!(
            "{flag}: invalid instant {text:?}: expected RFC 3339 with an offset, such as 2026-12-23T16:00:00+01:00"
        )
    })
}

fn parse_pause(text: &str) -> anyhow::Result<TimeRange> {
    let Some((start, end)) = text.split_once('/') else {
        bail!("--pause: invalid pause {text:?}: expected START/END");
    };
    let (start, end) = (parse_instant("--pause", start)?, parse_instant("--pause", end)?);
    TimeRange::new(start, end)
        .with_context(|| format!("--pause: pause {text:?} ends before it starts"))
}

/// Parses a business duration: `4h`, `1h30m`, `90s`, `2d` (2 x 24 h), or ISO 8601 `PT4H`.
fn parse_duration(text: &str) -> anyhow::Result<SignedDuration> {
    let duration: SignedDuration = text.parse().or_else(|_| {
        // jiff's friendly format has no calendar days in a SignedDuration; allow `Nd` as 24 h.
        text.strip_suffix('d')
            .and_then(|days| days.trim().parse::<i64>().ok())
            .map(|days| SignedDuration::from_hours(days * 24))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--duration: invalid duration {text:?}: expected 4h, 1h30m, 90s or PT4H"
                )
            })
    })?;
    if duration.is_negative() {
        bail!("--duration: duration {text:?} is negative");
    }
    Ok(duration)
}

fn format_duration(duration: SignedDuration) -> String {
    let seconds = duration.as_secs();
    let sign = if seconds < 0 { "-" } else { "" };
    let seconds = seconds.unsigned_abs();
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if s == 0 { format!("{sign}{h}h{m:02}m") } else { format!("{sign}{h}h{m:02}m{s:02}s") }
}

fn hours_table(calendar: &BusinessCalendar, from: jiff::civil::Date, days: u16) -> Vec<String> {
    let mut rows = Vec::new();
    let mut date = from;
    for _ in 0..days {
        let day = calendar.hours_on(date);
        let hours = if day.hours.is_empty() {
            "closed".to_owned()
        } else {
            day.hours.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        };
        let why = match day.exception {
            None => String::new(),
            Some(exception) => match exception.kind() {
                ExceptionKind::Holiday => format!("  holiday: {}", exception.name()),
                ExceptionKind::WorkingDay => format!("  working day: {}", exception.name()),
            },
        };
        rows.push(format!("{} {}  {hours}{why}", date, date.strftime("%a")));
        let Ok(next) = date.tomorrow() else { break };
        date = next;
    }
    rows
}

fn eval(calendars_path: &Path, queries_path: &Path, stats: bool) -> anyhow::Result<()> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    };
    let calendars = bizbench::Calendars::parse(calendars_path, &read(calendars_path)?)?;
    let queries = bizbench::parse_queries(queries_path, &read(queries_path)?, &calendars)?;
    bizbench::prepare(&calendars, &queries.queries);

    // Split by operation before the clock starts, so only the answering is timed.
    let (add_idxs, elapsed_idxs): (Vec<usize>, Vec<usize>) = (0..queries.queries.len())
        .partition(|&query_idx| matches!(queries.queries[query_idx], Query::Add { .. }));
    let mut answers: Vec<Option<Answer>> = vec![None; queries.queries.len()];
    let mut timings = Vec::new();
    for (op, query_idxs) in [("add", add_idxs), ("elapsed", elapsed_idxs)] {
        let started = Instant::now();
        for &query_idx in &query_idxs {
            let answer =
                bizbench::answer(&calendars, &queries.queries[query_idx]).with_context(|| {
                    format!("{}:{}", queries_path.display(), queries.lines[query_idx])
                })?;
            answers[query_idx] = Some(answer);
        }
        timings.push((op, query_idxs.len(), started.elapsed()));
    }
    output::lines(answers.iter().map(|answer| answer.expect("every query was answered")));
    if stats {
        for (op, n_ops, took) in timings {
            let per_op = if n_ops == 0 { 0.0 } else { took.as_nanos() as f64 / n_ops as f64 };
            output::note(&format!("{op}: {n_ops} ops, {per_op:.1} ns/op"));
        }
        let index_bytes: usize =
            calendars.calendars.iter().map(|(_, calendar)| calendar.index_bytes()).sum();
        output::note(&format!(
            "index: {index_bytes} bytes for {} calendars",
            calendars.calendars.len()
        ));
    }
    Ok(())
}
