//! `accord calendar deadline | elapsed | hours | check` as a user runs them.

use expect_test::expect;

use crate::{Run, accord};

const OFFICE: &str = "examples/calendars/office.yaml";

/// Runs `accord calendar deadline`.
fn deadline(calendar: &str, start: &str, duration: &str) -> Run {
    accord(&[
        "calendar",
        "deadline",
        "--calendar",
        calendar,
        "--start",
        start,
        "--duration",
        duration,
    ])
}

#[test]
fn deadline_prints_local_time_and_utc() {
    let run = deadline(OFFICE, "2026-12-23T16:00:00+01:00", "4h").ok();
    // Wednesday 16:00-17:00, then Christmas Eve's half day 08:00-11:00.
    expect![[r#"
        deadline: 2026-12-24 11:00:00 +01:00 CET (Thursday)
            UTC:  2026-12-24T10:00:00Z
        calendar: office-berlin
           start: 2026-12-23 16:00:00 +01:00 CET
        business: 4h00m
    "#]]
    .assert_eq(&run.stdout);
}

#[test]
fn deadline_over_christmas_skips_holidays_from_the_document() {
    let run = deadline(OFFICE, "2026-12-24T11:00[Europe/Berlin]", "2h").ok();
    // 1 h on the 24th; the 25th and 26th are yearly holidays, the 27th a Sunday.
    assert!(
        run.stdout.starts_with("deadline: 2026-12-28 09:00:00 +01:00 CET (Monday)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn deadline_on_the_ready_24x7_calendar_counts_real_time_across_dst() {
    let run = deadline("24x7", "2026-03-29T00:30:00+01:00", "2h").ok();
    assert!(run.stdout.contains("UTC:  2026-03-29T01:30:00Z"), "{}", run.stdout);
}

#[test]
fn elapsed_leaves_out_pauses() {
    let run = accord(&[
        "calendar",
        "elapsed",
        "--calendar",
        OFFICE,
        "--start",
        "2026-12-23T16:00:00+01:00",
        "--end",
        "2026-12-28T10:00:00+01:00",
        "--pause",
        "2026-12-24T09:00:00+01:00/2026-12-24T10:00:00+01:00",
    ])
    .ok();
    // 1 h on the 23rd, 4 h on the 24th less 1 h paused, 2 h on the 28th.
    expect![[r#"
        business: 6h00m (21600 s)
        calendar: office-berlin
            wall: 114h00m
    "#]]
    .assert_eq(&run.stdout);
}

#[test]
fn hours_lists_each_day_and_why() {
    let run = accord(&[
        "calendar",
        "hours",
        "--calendar",
        OFFICE,
        "--from",
        "2026-12-18",
        "--days",
        "10",
    ])
    .ok();
    expect![[r#"
        2026-12-18 Fri  08:00-12:30, 13:00-17:00
        2026-12-19 Sat  09:00-13:00  working day: Datacentre migration Saturday
        2026-12-20 Sun  closed
        2026-12-21 Mon  08:00-12:30, 13:00-17:00
        2026-12-22 Tue  08:00-12:30, 13:00-17:00
        2026-12-23 Wed  08:00-12:30, 13:00-17:00
        2026-12-24 Thu  08:00-12:00  holiday: Christmas Eve (half day)
        2026-12-25 Fri  closed  holiday: Christmas Day
        2026-12-26 Sat  closed  holiday: Second Day of Christmas
        2026-12-27 Sun  closed
    "#]]
    .assert_eq(&run.stdout);
}

#[test]
fn hours_shows_holidays_imported_from_icalendar() {
    let run =
        accord(&["calendar", "hours", "--calendar", OFFICE, "--from", "2027-05-01", "--days", "6"])
            .ok();
    expect![[r#"
        2027-05-01 Sat  closed  holiday: Labour Day
        2027-05-02 Sun  closed
        2027-05-03 Mon  08:00-12:30, 13:00-17:00
        2027-05-04 Tue  08:00-12:30, 13:00-17:00
        2027-05-05 Wed  08:00-12:30, 13:00-17:00
        2027-05-06 Thu  closed  holiday: Ascension Day
    "#]]
    .assert_eq(&run.stdout);
}

#[test]
fn examples_pass_the_check() {
    let run = accord(&[
        "calendar",
        "check",
        "examples/calendars/office.yaml",
        "examples/calendars/24x7.yaml",
        "examples/calendars/night-shift.yaml",
    ])
    .ok();
    assert_eq!(run.stdout.lines().filter(|line| line.starts_with("ok: ")).count(), 3);
}

#[test]
fn broken_calendar_reports_every_error_with_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(
        &path,
        "apiVersion: accord/v1
kind: Calendar
metadata:
  name: broken
spec:
  timeZone: Europe/Berln
  hours:
    mon-fri: [09:00-17:00, 12:00-13:00]
    fri: [10:00-12:00]
    funday: closed
    sat: [18:00-06:00]
  holidays:
    - date: 2026-02-30
    - yearly: 4th thu of novembre
  workingDays:
    - date: 2026-12-19
  holidayFiles:
    - missing.ics
",
    )
    .unwrap();
    let run = accord(&["calendar", "check", path.to_str().unwrap()]).failed();
    let stderr = run.stderr.replace(&dir.path().display().to_string(), "DIR");
    expect![[r#"
        DIR/broken.yaml:6:13: spec.timeZone: unknown time zone "Europe/Berln": expected an IANA name such as Europe/Berlin
        DIR/broken.yaml:8:28: spec.hours.mon-fri: business hours overlap: 09:00-17:00 and 12:00-13:00
        DIR/broken.yaml:9:5: spec.hours.fri: friday is already given by mon-fri on line 8
        DIR/broken.yaml:10:5: spec.hours.funday: unknown weekday "funday": expected mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, or daily
        DIR/broken.yaml:11:11: spec.hours.sat[0]: interval "18:00-06:00" ends before it starts: write an overnight shift as 22:00-24:00 on one day and 00:00-06:00 on the next
        DIR/broken.yaml:13:13: spec.holidays[0].date: invalid date "2026-02-30": expected YYYY-MM-DD
        DIR/broken.yaml:14:15: spec.holidays[1].yearly: invalid yearly date "4th thu of novembre": expected MM-DD (12-25) or NTH WEEKDAY of MONTH (4th thu of nov, last mon of may)
        DIR/broken.yaml:16:7: spec.workingDays[0]: a working day needs its hours, such as [09:00-13:00]
        DIR/broken.yaml:18:7: spec.holidayFiles[0]: cannot read DIR/missing.ics: No such file or directory (os error 2)
        error: 1 of 1 calendar files are invalid
    "#]]
    .assert_eq(&stderr);
}

#[test]
fn unknown_field_is_an_error_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.yaml");
    std::fs::write(&path, "apiVersion: accord/v1\nkind: Calendar\nmetadata:\n  name: typo\nspec:\n  timeZone: UTC\n  hourz: 24x7\n").unwrap();
    let run = deadline(path.to_str().unwrap(), "2026-01-01T00:00Z", "1h").failed();
    let stderr = run.stderr.replace(&dir.path().display().to_string(), "DIR");
    expect![[r#"
        error: DIR/typo.yaml:7:3: unknown field `hourz`, expected one of timeZone, hours, holidays, workingDays, holidayFiles
    "#]]
    .assert_eq(&stderr);
}

#[test]
fn bad_arguments_name_the_flag() {
    let run = deadline("24x7", "tomorrow", "1h").failed();
    expect![[r#"
        error: --start: invalid instant "tomorrow": expected RFC 3339 with an offset, such as 2026-12-23T16:00:00+01:00
    "#]]
    .assert_eq(&run.stderr);
}

#[test]
fn calendar_help_lists_the_commands() {
    let run = accord(&["calendar", "--help"]).ok();
    expect![[r#"
        Business calendars: deadlines, elapsed business time, opening hours

        Usage: accord calendar <COMMAND>

        Commands:
          deadline  Prints the instant at which a business duration from a start has passed
          elapsed   Prints the business time between two instants
          hours     Lists each day's opening hours and why (weekly hours, holiday, extra working day)
          check     Validates calendar files and reports every error found
          eval      Answers a bizbench workload: one line per query on stdout
          help      Print this message or the help of the given subcommand(s)

        Options:
          -h, --help     Print help
          -V, --version  Print version
    "#]].assert_eq(&run.stdout);
}
