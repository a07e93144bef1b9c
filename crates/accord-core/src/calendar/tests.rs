//! Worked cases for the calendar engine, each through one `check_*` helper so the API can
//! change while the cases stay put.

use expect_test::{Expect, expect};

use super::*;

/// A calendar from a compact text: `ZONE; mon-fri 09:00-17:30, 13:00-14:00; sat ...`, with
/// optional `holiday YYYY-MM-DD`, `yearly MM-DD`, `half YYYY-MM-DD 09:00-12:00` and
/// `open YYYY-MM-DD 10:00-14:00` parts.
fn calendar(text: &str) -> BusinessCalendar {
    let mut parts = text.split(';').map(str::trim);
    let zone = jiff::tz::db().get(parts.next().unwrap()).unwrap();
    let mut days: [Vec<DayInterval>; 7] = Default::default();
    let mut exceptions = Vec::new();
    for part in parts {
        let (head, rest) = part.split_once(' ').unwrap();
        let intervals = |rest: &str| -> Vec<DayInterval> {
            rest.split(',').map(|interval| DayInterval::parse(interval.trim()).unwrap()).collect()
        };
        match head {
            "holiday" => exceptions
                .push(DayException::holiday("holiday", DateRule::Date(rest.parse().unwrap()))),
            "yearly" => {
                let (month, day) = rest.split_once('-').unwrap();
                let rule =
                    YearlyRule::new(month.parse().unwrap(), YearlyDay::Fixed(day.parse().unwrap()))
                        .unwrap();
                exceptions.push(DayException::holiday("yearly", DateRule::Yearly(rule)));
            }
            "half" | "open" => {
                let (date, hours) = rest.split_once(' ').unwrap();
                let kind =
                    if head == "half" { ExceptionKind::Holiday } else { ExceptionKind::WorkingDay };
                exceptions.push(
                    DayException::with_hours(
                        head,
                        DateRule::Date(date.parse().unwrap()),
                        kind,
                        intervals(hours),
                    )
                    .unwrap(),
                );
            }
            weekdays => {
                let (first, last) = weekdays.split_once('-').unwrap_or((weekdays, weekdays));
                let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
                let first = names.iter().position(|name| *name == first).unwrap();
                let last = names.iter().position(|name| *name == last).unwrap();
                for day in &mut days[first..=last] {
                    *day = intervals(rest);
                }
            }
        }
    }
    BusinessCalendar::new(zone, WeeklyHours::new(days).unwrap(), exceptions)
}

fn instant(text: &str) -> Timestamp {
    text.parse::<jiff::Zoned>()
        .map(|zoned| zoned.timestamp())
        .unwrap_or_else(|_| text.parse().unwrap())
}

fn show(calendar: &BusinessCalendar, t: Timestamp) -> String {
    t.to_zoned(calendar.zone().clone()).strftime("%Y-%m-%d %H:%M:%S%.f %Z (%a)").to_string()
}

#[track_caller]
fn check_deadline(cal: &str, start: &str, duration: &str, expect: Expect) {
    let calendar = calendar(cal);
    let start = instant(start);
    let duration: SignedDuration = duration.parse().unwrap();
    let deadline = calendar.deadline(start, duration).unwrap();
    // The law behind every deadline: measuring it back gives the duration.
    assert_eq!(calendar.elapsed(start, deadline).unwrap(), duration, "elapsed(start, deadline)");
    expect.assert_eq(&show(&calendar, deadline));
}

#[track_caller]
fn check_elapsed(cal: &str, start: &str, end: &str, expect: Expect) {
    let calendar = calendar(cal);
    let elapsed = calendar.elapsed(instant(start), instant(end)).unwrap();
    expect.assert_eq(&format!("{elapsed:#}"));
}

const BERLIN: &str = "Europe/Berlin; mon-fri 09:00-17:30";
const LUNCH: &str = "Europe/Berlin; mon-fri 09:00-12:00, 13:00-17:00";

#[test]
fn deadline_inside_one_working_period() {
    check_deadline(
        BERLIN,
        "2025-03-04T10:00[Europe/Berlin]",
        "2h",
        expect!["2025-03-04 12:00:00 CET (Tue)"],
    );
}

#[test]
fn deadline_that_uses_up_the_day_lands_on_the_closing_time() {
    check_deadline(
        BERLIN,
        "2025-03-04T16:30[Europe/Berlin]",
        "1h",
        expect!["2025-03-04 17:30:00 CET (Tue)"],
    );
}

#[test]
fn deadline_one_second_past_the_day_moves_to_the_next_opening() {
    check_deadline(
        BERLIN,
        "2025-03-04T16:30[Europe/Berlin]",
        "1h1s",
        expect!["2025-03-05 09:00:01 CET (Wed)"],
    );
}

#[test]
fn deadline_skips_the_weekend() {
    check_deadline(
        BERLIN,
        "2025-03-07T16:00[Europe/Berlin]",
        "2h",
        expect!["2025-03-10 09:30:00 CET (Mon)"],
    );
}

#[test]
fn deadline_from_closed_time_starts_at_the_next_opening() {
    check_deadline(
        BERLIN,
        "2025-03-08T12:00[Europe/Berlin]",
        "30m",
        expect!["2025-03-10 09:30:00 CET (Mon)"],
    );
}

#[test]
fn deadline_skips_the_lunch_break() {
    check_deadline(
        LUNCH,
        "2025-03-04T11:30[Europe/Berlin]",
        "1h",
        expect!["2025-03-04 13:30:00 CET (Tue)"],
    );
}

#[test]
fn deadline_that_ends_at_lunch_lands_on_the_start_of_lunch() {
    check_deadline(
        LUNCH,
        "2025-03-04T11:30[Europe/Berlin]",
        "30m",
        expect!["2025-03-04 12:00:00 CET (Tue)"],
    );
}

#[test]
fn zero_duration_deadline_is_the_start_even_when_closed() {
    check_deadline(
        BERLIN,
        "2025-03-08T12:00[Europe/Berlin]",
        "0s",
        expect!["2025-03-08 12:00:00 CET (Sat)"],
    );
}

#[test]
fn deadline_across_the_spring_change_counts_real_hours() {
    // 24x7: Saturday 12:00 CET + 24 h lands at Sunday 13:00 CEST (the night lost an hour).
    check_deadline(
        "Europe/Berlin; mon-sun 00:00-24:00",
        "2025-03-29T12:00[Europe/Berlin]",
        "24h",
        expect!["2025-03-30 13:00:00 CEST (Sun)"],
    );
}

#[test]
fn deadline_across_the_autumn_change_counts_real_hours() {
    check_deadline(
        "Europe/Berlin; mon-sun 00:00-24:00",
        "2025-10-25T12:00[Europe/Berlin]",
        "24h",
        expect!["2025-10-26 11:00:00 CET (Sun)"],
    );
}

#[test]
fn spring_gap_inside_opening_hours_shortens_the_day() {
    // Sunday 30 March 2025 opened 01:00-05:00: 02:00-03:00 does not exist, so 3 h of business.
    let night = "Europe/Berlin; sun 01:00-05:00";
    check_elapsed(night, "2025-03-29T00:00Z", "2025-03-31T00:00Z", expect!["3h"]);
    check_deadline(
        night,
        "2025-03-30T01:00[Europe/Berlin]",
        "1h",
        expect!["2025-03-30 03:00:00 CEST (Sun)"],
    );
}

#[test]
fn opening_inside_the_spring_gap_moves_forward_by_the_gap() {
    // Opening 02:30 does not exist on 30 March 2025: it becomes 03:30 CEST.
    let night = "Europe/Berlin; sun 02:30-05:00";
    check_elapsed(night, "2025-03-29T00:00Z", "2025-03-31T00:00Z", expect!["1h 30m"]);
    check_deadline(night, "2025-03-29T00:00Z", "1m", expect!["2025-03-30 03:31:00 CEST (Sun)"]);
}

#[test]
fn autumn_fold_inside_opening_hours_lengthens_the_day() {
    let night = "Europe/Berlin; sun 01:00-05:00";
    check_elapsed(night, "2025-10-25T00:00Z", "2025-10-27T00:00Z", expect!["5h"]);
}

#[test]
fn closing_inside_the_autumn_fold_takes_the_first_occurrence() {
    // 00:00-02:30 on 26 October 2025: 02:30 is first reached at 02:30 CEST (00:30Z).
    let night = "Europe/Berlin; sun 00:00-02:30";
    check_elapsed(night, "2025-10-25T00:00Z", "2025-10-27T00:00Z", expect!["2h 30m"]);
    check_deadline(night, "2025-10-25T22:00Z", "2h30m", expect!["2025-10-26 02:30:00 CEST (Sun)"]);
}

#[test]
fn lord_howe_shifts_by_half_an_hour() {
    // Lord Howe moves from +10:30 to +11:00 at 02:00 on 5 October 2025; 24x7 loses 30 min.
    let always = "Australia/Lord_Howe; mon-sun 00:00-24:00";
    check_elapsed(
        always,
        "2025-10-04T00:00[Australia/Lord_Howe]",
        "2025-10-06T00:00[Australia/Lord_Howe]",
        expect!["47h 30m"],
    );
    check_deadline(
        always,
        "2025-10-05T01:45[Australia/Lord_Howe]",
        "30m",
        expect!["2025-10-05 02:45:00 +11 (Sun)"],
    );
}

#[test]
fn sao_paulo_midnight_that_does_not_exist_opens_at_one() {
    // 4 November 2018: 00:00 -03 jumped to 01:00 -02.
    let sao_paulo = "America/Sao_Paulo; mon-sun 00:00-08:00";
    check_elapsed(
        sao_paulo,
        "2018-11-03T12:00[America/Sao_Paulo]",
        "2018-11-04T12:00[America/Sao_Paulo]",
        expect!["7h"],
    );
    check_deadline(
        sao_paulo,
        "2018-11-03T12:00[America/Sao_Paulo]",
        "1m",
        expect!["2018-11-04 01:01:00 -02 (Sun)"],
    );
}

#[test]
fn overnight_shift_across_the_spring_change() {
    // Saturday 22:00 CET to Sunday 06:00 CEST is 7 real hours.
    let nights = "Europe/Berlin; mon-sun 00:00-06:00, 22:00-24:00";
    check_elapsed(nights, "2025-03-29T21:00Z", "2025-03-30T04:00Z", expect!["7h"]);
    check_deadline(
        nights,
        "2025-03-29T22:00[Europe/Berlin]",
        "7h",
        expect!["2025-03-30 06:00:00 CEST (Sun)"],
    );
}

#[test]
fn holiday_closes_only_intervals_that_start_that_day() {
    // The 24th is a holiday: its 22:00-24:00 is closed, but 00:00-06:00 on the 25th is worked.
    let nights = "Europe/Berlin; mon-sun 00:00-06:00, 22:00-24:00; holiday 2025-12-24";
    check_elapsed(
        nights,
        "2025-12-24T00:00[Europe/Berlin]",
        "2025-12-25T12:00[Europe/Berlin]",
        expect!["6h"],
    );
}

#[test]
fn partial_holiday_and_extra_working_day() {
    let cal = "Europe/Berlin; mon-fri 09:00-17:00; half 2026-12-24 09:00-12:00; open 2026-12-19 10:00-14:00";
    check_elapsed(
        cal,
        "2026-12-19T00:00[Europe/Berlin]",
        "2026-12-20T00:00[Europe/Berlin]",
        expect!["4h"],
    );
    check_deadline(
        cal,
        "2026-12-24T11:00[Europe/Berlin]",
        "2h",
        expect!["2026-12-25 10:00:00 CET (Fri)"],
    );
}

#[test]
fn yearly_holiday_on_leap_day_occurs_only_in_leap_years() {
    let cal = "UTC; mon-sun 09:00-17:00; yearly 02-29";
    check_elapsed(cal, "2024-02-29T00:00Z", "2024-03-01T00:00Z", expect!["0s"]);
    check_elapsed(cal, "2028-02-29T00:00Z", "2028-03-01T00:00Z", expect!["0s"]);
    check_elapsed(cal, "2025-02-28T00:00Z", "2025-03-01T00:00Z", expect!["8h"]);
}

#[test]
fn month_end_and_year_end() {
    check_deadline(
        BERLIN,
        "2025-12-31T17:00[Europe/Berlin]",
        "1h",
        expect!["2026-01-01 09:30:00 CET (Thu)"],
    );
    check_deadline(
        BERLIN,
        "2024-02-29T17:00[Europe/Berlin]",
        "1h",
        expect!["2024-03-01 09:30:00 CET (Fri)"],
    );
}

#[test]
fn deadline_across_chunks_and_years() {
    // A year of business time on a weekday calendar crosses two or three index chunks.
    check_deadline(BERLIN, "2025-01-01T00:00Z", "2218h", expect!["2025-12-31 17:00:00 CET (Wed)"]);
}

#[test]
fn sub_second_start_inside_open_time_counts_the_fraction() {
    let cal = calendar(BERLIN);
    let start = instant("2025-03-04T10:00:00.25+01:00");
    let deadline = cal.deadline(start, SignedDuration::from_millis(1500)).unwrap();
    assert_eq!(deadline, instant("2025-03-04T10:00:01.75+01:00"));
    assert_eq!(cal.elapsed(start, deadline).unwrap(), SignedDuration::from_millis(1500));
    // From closed time, the fraction of the start does not count.
    let closed = instant("2025-03-04T08:59:59.5+01:00");
    assert_eq!(
        cal.deadline(closed, SignedDuration::from_millis(500)).unwrap(),
        instant("2025-03-04T09:00:00.5+01:00")
    );
}

#[test]
fn elapsed_is_negative_when_the_end_comes_first() {
    check_elapsed(
        BERLIN,
        "2025-03-04T12:00[Europe/Berlin]",
        "2025-03-04T10:00[Europe/Berlin]",
        expect!["2h ago"],
    );
}

#[test]
fn elapsed_excluding_pauses_counts_each_second_once() {
    let cal = calendar(BERLIN);
    let range = |a: &str, b: &str| TimeRange::new(instant(a), instant(b)).unwrap();
    let pauses = [
        range("2025-03-04T10:00+01:00", "2025-03-04T11:00+01:00"),
        range("2025-03-04T10:30+01:00", "2025-03-04T11:30+01:00"),
        // Overnight pause: counts only its business time.
        range("2025-03-04T17:00+01:00", "2025-03-05T10:00+01:00"),
    ];
    let elapsed = cal
        .elapsed_excluding(
            instant("2025-03-04T09:00+01:00"),
            instant("2025-03-05T12:00+01:00"),
            &pauses,
        )
        .unwrap();
    // 8.5 h + 3 h of business, minus 1.5 h and 0.5 h + 1 h of pauses.
    assert_eq!(elapsed, SignedDuration::from_mins(8 * 60 + 30 + 3 * 60 - 90 - 90));
}

#[test]
fn open_close_and_next_transitions() {
    let cal = calendar(LUNCH);
    let at = |text: &str| instant(text);
    assert!(cal.is_open(at("2025-03-04T09:00+01:00")).unwrap());
    assert!(!cal.is_open(at("2025-03-04T12:00+01:00")).unwrap());
    assert!(cal.is_open(at("2025-03-04T11:59:59+01:00")).unwrap());
    let next_open = cal.next_open(at("2025-03-04T12:10+01:00")).unwrap().unwrap();
    expect!["2025-03-04 13:00:00 CET (Tue)"].assert_eq(&show(&cal, next_open));
    let next_close = cal.next_close(at("2025-03-04T13:10+01:00")).unwrap().unwrap();
    expect!["2025-03-04 17:00:00 CET (Tue)"].assert_eq(&show(&cal, next_close));
    let from_friday = cal.next_open(at("2025-03-07T17:00+01:00")).unwrap().unwrap();
    expect!["2025-03-10 09:00:00 CET (Mon)"].assert_eq(&show(&cal, from_friday));
}

#[test]
fn always_open_calendar_never_closes_and_merges_across_chunks() {
    let always = BusinessCalendar::always_open(TimeZone::UTC);
    assert_eq!(always.next_close(instant("2025-01-01T00:00Z")).unwrap(), None);
    let periods =
        always.open_periods(instant("2024-01-01T00:00Z"), instant("2026-01-01T00:00Z")).unwrap();
    assert_eq!(periods.len(), 1, "one period across several chunks: {periods:?}");
    check_elapsed(
        "UTC; mon-sun 00:00-24:00",
        "1970-01-01T00:00Z",
        "2100-01-01T00:00Z",
        expect!["1139568h"],
    );
}

#[test]
fn never_open_calendar_reports_instead_of_looping() {
    let never = BusinessCalendar::new(TimeZone::UTC, WeeklyHours::default(), vec![]);
    let error =
        never.deadline(instant("2025-01-01T00:00Z"), SignedDuration::from_hours(1)).unwrap_err();
    expect!["1h of business time from 2025-01-01T00:00:00Z ends after 2200-01-01"]
        .assert_eq(&error.to_string());
    assert_eq!(never.next_open(instant("2025-01-01T00:00Z")).unwrap(), None);
}

#[test]
fn instants_outside_the_horizon_are_errors() {
    let cal = calendar(BERLIN);
    let error = cal.is_open(instant("1899-12-31T23:59:59Z")).unwrap_err();
    expect!["1899-12-31T23:59:59Z is outside the calendar horizon 1900-01-01 to 2200-01-01 UTC"]
        .assert_eq(&error.to_string());
    assert!(cal.is_open(instant("1900-01-01T00:00Z")).is_ok());
    assert!(cal.is_open(instant("2199-12-31T23:59:59Z")).is_ok());
    assert!(cal.is_open(instant("2200-01-01T00:00Z")).is_ok(), "the horizon includes its end");
    assert!(cal.is_open(instant("2200-01-01T00:00:00.000000001Z")).is_err());
    // No answer lies beyond the horizon: Tuesday 2199-12-31 17:30 CET is the last closing.
    let friday_evening = instant("2199-12-31T16:00Z");
    assert_eq!(
        cal.deadline(friday_evening, SignedDuration::from_hours(8)).unwrap_err(),
        QueryError::DeadlineBeyondHorizon {
            start: friday_evening,
            duration: SignedDuration::from_hours(8)
        }
    );
    assert_eq!(cal.next_open(instant("2199-12-31T18:00Z")).unwrap(), None);
    let always = BusinessCalendar::always_open(TimeZone::UTC);
    let last_day = instant("2199-12-31T00:00Z");
    assert_eq!(
        always.deadline(last_day, SignedDuration::from_hours(24)).unwrap(),
        instant("2200-01-01T00:00Z"),
        "a deadline may land on the horizon's end"
    );
    assert!(always.deadline(last_day, SignedDuration::from_hours(48)).is_err());
}

#[test]
fn exceptions_follow_precedence_order() {
    // The first exception that applies to a date wins: a dated half day before a yearly holiday.
    let half = DayException::with_hours(
        "half",
        DateRule::Date(jiff::civil::date(2026, 12, 24)),
        ExceptionKind::Holiday,
        vec![DayInterval::parse("09:00-12:00").unwrap()],
    )
    .unwrap();
    let yearly = DayException::holiday(
        "Christmas Eve",
        DateRule::Yearly(YearlyRule::new(12, YearlyDay::Fixed(24)).unwrap()),
    );
    let weekly = WeeklyHours::weekdays(vec![DayInterval::parse("09:00-17:00").unwrap()]).unwrap();
    let cal = BusinessCalendar::new(TimeZone::UTC, weekly, vec![half, yearly]);
    assert_eq!(cal.hours_on(jiff::civil::date(2026, 12, 24)).exception.unwrap().name(), "half");
    assert_eq!(
        cal.hours_on(jiff::civil::date(2025, 12, 24)).exception.unwrap().name(),
        "Christmas Eve"
    );
}

#[test]
fn interval_parsing_rejects_what_it_cannot_read() {
    let check = |text: &str, expect: Expect| {
        let shown = match DayInterval::parse(text) {
            Ok(interval) => interval.to_string(),
            Err(error) => error.to_string(),
        };
        expect.assert_eq(&shown);
    };
    check("09:00-17:30", expect!["09:00-17:30"]);
    check("22:00-24:00", expect!["22:00-24:00"]);
    check("08:00:30-09:00", expect!["08:00:30-09:00"]);
    check(
        "9:00-17:00",
        expect![[r#"invalid time of day "9:00": expected HH:MM between 00:00 and 24:00"#]],
    );
    check(
        "09:00-24:01",
        expect![[r#"invalid time of day "24:01": expected HH:MM between 00:00 and 24:00"#]],
    );
    check(
        "09:60-10:00",
        expect![[r#"invalid time of day "09:60": expected HH:MM between 00:00 and 24:00"#]],
    );
    check(
        "17:00-09:00",
        expect![[
            r#"interval "17:00-09:00" ends before it starts: write an overnight shift as 22:00-24:00 on one day and 00:00-06:00 on the next"#
        ]],
    );
    check(
        "10:00-10:00",
        expect![[
            r#"interval "10:00-10:00" ends before it starts: write an overnight shift as 22:00-24:00 on one day and 00:00-06:00 on the next"#
        ]],
    );
    check(
        "09:00",
        expect![[r#"invalid interval "09:00": expected START-END such as 09:00-17:30"#]],
    );
}

#[test]
fn overlapping_weekly_hours_are_rejected() {
    let error = WeeklyHours::weekdays(vec![
        DayInterval::parse("09:00-12:00").unwrap(),
        DayInterval::parse("11:00-17:00").unwrap(),
    ])
    .unwrap_err();
    expect!["business hours overlap: 09:00-12:00 and 11:00-17:00"].assert_eq(&error.to_string());
}

#[test]
fn every_minute_of_a_dst_week_agrees_with_counting() {
    // Exhaustive over the spring-change week in Berlin, lunch-break calendar: elapsed from the
    // week's start equals the count of open minutes found with is_open.
    let cal = calendar(LUNCH);
    let week_start = instant("2025-03-24T00:00[Europe/Berlin]");
    let mut open_minutes = 0i64;
    for minute in 0..7 * 24 * 60 {
        let t = week_start + SignedDuration::from_mins(minute);
        assert_eq!(cal.elapsed(week_start, t).unwrap(), SignedDuration::from_mins(open_minutes));
        if cal.is_open(t).unwrap() {
            open_minutes += 1;
        }
    }
    assert_eq!(open_minutes, 5 * 7 * 60);
}

#[test]
fn every_day_of_a_leap_year_has_its_hours() {
    // 2024: 366 days, of which 262 weekdays, each 8.5 business hours on the plain calendar.
    check_elapsed(
        BERLIN,
        "2024-01-01T00:00[Europe/Berlin]",
        "2025-01-01T00:00[Europe/Berlin]",
        expect!["2227h"],
    );
}
