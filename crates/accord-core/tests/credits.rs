//! Credit statements on hand-built months: published cloud schedules (AWS S3 Standard, GCP
//! Compute Engine), per-breach penalties with a cap and a minimum, rounding, a zero fee, and
//! claim deadlines around month ends and DST. Every expected figure is worked by hand in a
//! comment next to it.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::catalog;
use expect_test::expect;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use accord_core::agreement::{
    CreditTier, CreditedOn, Credits, Metric, Money, Origin, Penalty, Percent, Query, Sourced,
    resolve,
};
use accord_core::availability::{Impact, Outage, Rules, account};
use accord_core::calendar::TimeRange;
use accord_core::clock::{
    Author, CatalogTerms, Created, Engine, EventKind, RevisionRef, TicketEvent, TicketType,
};
use accord_core::credits::{
    BreachedClock, CreditError, CreditStatement, Evidence, Inputs, LineKind, MeasuredAvailability,
    Period, breached_clocks, compute, share_of,
};

/// The worked example of `docs/credits.md`: the corporate SLA's `credits` block, with a
/// 24x7 hosting service and one customer in Berlin.
const DOCUMENTS: &str = r"
apiVersion: accord/v1
kind: Service
metadata: { name: hosting }
spec:
  calendars: [{ calendar: 24x7 }]
---
apiVersion: accord/v1
kind: Customer
metadata: { name: acme }
spec: { timeZone: Europe/Berlin }
---
apiVersion: accord/v1
kind: Agreement
metadata: { name: corporate-sla }
spec:
  type: sla
  level: corporate
  parties: { provider: acme-it }
  term: { effectiveFrom: 2026-01-01, timeZone: Europe/Berlin }
  pricing: { monthlyFee: 1850000, currency: EUR }
  objectives:
    response: { P1: 30m, P2: 1h, P3: 4h }
    resolution: { P1: 4h, P2: 8h, P3: 24h }
    update: { P2: 4h }
    availability:
      - { name: hosting, service: hosting, target: 99.95, window: month }
  credits:
    availability:
      objective: hosting
      tiers:
        - { below: 99.95, credit: 5% }
        - { below: 99.9, credit: 10% }
        - { below: 99.0, credit: 25% }
    breaches:
      P1: 5%
      P2: { amount: 25000 }
    cap: 30%
    minimum: 5000
    claimWindowDays: 30
    creditedOn: refund
";

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").expect("zone")
}

fn percent(text: &str) -> Percent {
    Percent::parse(text).expect("percent")
}

fn tier(below: &str, credit: &str) -> CreditTier {
    CreditTier { below: percent(below), credit: percent(credit) }
}

/// `text` as a wall-clock time in `zone`.
fn at_in(zone: &TimeZone, text: &str) -> Timestamp {
    let datetime: DateTime = text.parse().expect("test instant");
    datetime.to_zoned(zone.clone()).expect("zoned").timestamp()
}

fn at(text: &str) -> Timestamp {
    at_in(&berlin(), text)
}

fn revision(agreement: &str, revision: &str) -> RevisionRef {
    RevisionRef { agreement: agreement.to_owned(), revision: revision.to_owned() }
}

/// Credits with `tiers` measured on `objective`, and nothing else set.
fn tiered(objective: &str, tiers: Vec<CreditTier>) -> Credits {
    Credits {
        availability_objective: Some(Sourced::new(
            objective.to_owned(),
            Origin::default_value("credits.availability.objective"),
        )),
        tiers,
        breaches: BTreeMap::new(),
        cap: None,
        minimum: None,
        claim_window_days: None,
        credited_on: CreditedOn::NextInvoice,
    }
}

/// AWS S3 Standard, <https://aws.amazon.com/s3/sla/> (updated 28 November 2023): less than
/// 99.9 % but at least 99.0 % earns 10 %, less than 99.0 % but at least 95.0 % earns 25 %,
/// less than 95.0 % earns 100 % of the month's charges. No cap beyond the charges themselves.
fn s3_standard() -> Credits {
    tiered("s3", vec![tier("99.9", "10"), tier("99.0", "25"), tier("95.0", "100")])
}

/// GCP Compute Engine, <https://cloud.google.com/compute/sla>: Instances in Multiple Zones
/// promise a Monthly Uptime Percentage of at least 99.99 %, judged per calendar month. The
/// Financial Credit is 10 % from 99.0 % to under 99.99 %, 25 % from 95.0 % to under 99.0 %,
/// 50 % under 95.0 %, and under "Maximum Financial Credit" all credits of a billing month
/// together never exceed 50 % of the month's bill. The same table is printed on Google's other
/// 99.99 % SLAs, for example <https://cloud.google.com/alloydb/sla>.
fn gcp_compute() -> Credits {
    Credits {
        cap: Some(percent("50")),
        ..tiered("compute", vec![tier("99.99", "10"), tier("99.0", "25"), tier("95.0", "50")])
    }
}

/// The statement of `period` under `credits` and `fee`, with availability and breaches.
fn statement(
    credits: &Credits,
    fee: Money,
    period: &Period,
    availability: Option<&MeasuredAvailability>,
    breaches: &[BreachedClock],
) -> CreditStatement {
    compute(&Inputs {
        terms: credits,
        credits_revision: &revision("corporate-sla", "r2"),
        monthly_fee: fee,
        pricing_revision: None,
        period,
        availability,
        breaches,
    })
    .expect("statement")
}

/// The month's availability with one major outage of `down` from the 10th at 10:00.
fn measured(objective: &str, period: &Period, down: SignedDuration) -> MeasuredAvailability {
    let label = period.label();
    let start = at_in(period.zone(), &format!("{label}-10T10:00"));
    let outage = Outage {
        range: TimeRange::new(start, start + down).expect("ordered"),
        impact: Impact::Major,
    };
    let account = account(period.range(), &[outage], &[], &Rules::default());
    MeasuredAvailability::from_account(objective, &account)
}

/// The availability as shown and the total owed for `period` with `down` minutes of outage.
#[track_caller]
fn credit_for(
    credits: &Credits,
    fee: i64,
    label: &str,
    zone: &TimeZone,
    down: SignedDuration,
) -> (String, i64) {
    let period = Period::month(label, zone).expect("period");
    let objective = credits.availability_objective.as_ref().expect("objective").value.as_str();
    let availability = measured(objective, &period, down);
    let fee = Money::new(fee, "USD").expect("money");
    let statement = statement(credits, fee, &period, Some(&availability), &[]);
    (availability.availability.to_string(), statement.total.minor())
}

fn mins(minutes: i64) -> SignedDuration {
    SignedDuration::from_mins(minutes)
}

#[test]
fn s3_standard_schedule_on_a_30_day_month() {
    // November 2026 in UTC: 30 days, 43,200 minutes. Fee 10,000.00 USD = 1,000,000 cents.
    let s3 = s3_standard();
    let case = |down| credit_for(&s3, 1_000_000, "2026-11", &TimeZone::UTC, mins(down));
    // 21 min: 1 - 21/43200 = 99.951389 %, not below 99.9: nothing.
    assert_eq!(case(21), ("99.9513%".to_owned(), 0));
    // 60 min: 1 - 60/43200 = 99.861111 %, below 99.9: 10 % of 1,000,000 = 100,000.
    assert_eq!(case(60), ("99.8611%".to_owned(), 100_000));
    // 432 min: exactly 99.0 %, not below 99.0 but below 99.9: 10 %.
    assert_eq!(case(432), ("99.0000%".to_owned(), 100_000));
    // 600 min: 1 - 600/43200 = 98.611111 %, below 99.0: 25 % = 250,000.
    assert_eq!(case(600), ("98.6111%".to_owned(), 250_000));
    // 2,160 min: exactly 95.0 %, not below 95.0: still 25 %.
    assert_eq!(case(2160), ("95.0000%".to_owned(), 250_000));
    // 2,592 min: 1 - 2592/43200 = exactly 94.0 %, below 95.0: 100 % = 1,000,000.
    assert_eq!(case(2592), ("94.0000%".to_owned(), 1_000_000));
}

#[test]
fn exactly_at_a_tier_boundary_is_not_below_it() {
    // November 2026 in UTC: 0.1 % of 43,200 minutes is 43.2 min = 43 min 12 s. That much
    // downtime leaves exactly 99.9 %, which is not below 99.9 %: no credit. One second more
    // is 1 - 2593/2592000 = 99.899961 %: 10 % of 1,000,000 = 100,000.
    let s3 = s3_standard();
    let exact = mins(43) + SignedDuration::from_secs(12);
    let utc = TimeZone::UTC;
    assert_eq!(credit_for(&s3, 1_000_000, "2026-11", &utc, exact), ("99.9000%".to_owned(), 0));
    let over = exact + SignedDuration::from_secs(1);
    assert_eq!(credit_for(&s3, 1_000_000, "2026-11", &utc, over), ("99.8999%".to_owned(), 100_000));
    // A nanosecond over is below too: the comparison is exact, not on the shown figure.
    let nano = exact + SignedDuration::from_nanos(1);
    assert_eq!(credit_for(&s3, 1_000_000, "2026-11", &utc, nano), ("99.8999%".to_owned(), 100_000));
}

#[test]
fn s3_standard_schedule_on_a_31_day_month() {
    // December 2026 in UTC: 31 days, 44,640 minutes; 0.1 % is 44.64 min and 1 % 446.4 min.
    let s3 = s3_standard();
    let case = |down| credit_for(&s3, 1_000_000, "2026-12", &TimeZone::UTC, mins(down));
    // 44 min: 1 - 44/44640 = 99.901434 %: nothing (in November it would be 99.898148 %).
    assert_eq!(case(44), ("99.9014%".to_owned(), 0));
    // 45 min: 1 - 45/44640 = 99.899194 %: 10 % = 100,000.
    assert_eq!(case(45), ("99.8991%".to_owned(), 100_000));
    // 446 min: 1 - 446/44640 = 99.000896 %: still 10 %.
    assert_eq!(case(446), ("99.0008%".to_owned(), 100_000));
    // 447 min: 1 - 447/44640 = 98.998656 %: 25 % = 250,000.
    assert_eq!(case(447), ("98.9986%".to_owned(), 250_000));
}

#[test]
fn s3_standard_schedule_in_a_leap_february() {
    // February 2028 in UTC: 29 days, 41,760 minutes; 0.1 % is 41.76 min.
    let s3 = s3_standard();
    let utc = TimeZone::UTC;
    let case = |label, down| credit_for(&s3, 1_000_000, label, &utc, mins(down));
    // 41 min: 1 - 41/41760 = 99.901820 %: nothing.
    assert_eq!(case("2028-02", 41), ("99.9018%".to_owned(), 0));
    // 42 min: 1 - 42/41760 = 99.899425 %: 10 % = 100,000.
    assert_eq!(case("2028-02", 42), ("99.8994%".to_owned(), 100_000));
    // 2,089 min: 1 - 2089/41760 = 94.997605 %: 100 % = 1,000,000.
    assert_eq!(case("2028-02", 2089), ("94.9976%".to_owned(), 1_000_000));
    // The same 41 minutes in February 2027 (28 days, 40,320 minutes): 1 - 41/40320 =
    // 99.898313 %, below 99.9: 10 %.
    assert_eq!(case("2027-02", 41), ("99.8983%".to_owned(), 100_000));
}

#[test]
fn gcp_compute_engine_schedule_with_its_50_percent_cap() {
    // November 2026 in UTC: 43,200 minutes; 0.01 % is 4.32 min. Fee 2,500.00 USD = 250,000.
    let gcp = gcp_compute();
    let case = |down| credit_for(&gcp, 250_000, "2026-11", &TimeZone::UTC, mins(down));
    // 4 min: 1 - 4/43200 = 99.990741 %: nothing.
    assert_eq!(case(4), ("99.9907%".to_owned(), 0));
    // 5 min: 1 - 5/43200 = 99.988426 %: 10 % of 250,000 = 25,000.
    assert_eq!(case(5), ("99.9884%".to_owned(), 25_000));
    // 432 min: exactly 99.0 %: still 10 %.
    assert_eq!(case(432), ("99.0000%".to_owned(), 25_000));
    // 433 min: 1 - 433/43200 = 98.997685 %: 25 % = 62,500.
    assert_eq!(case(433), ("98.9976%".to_owned(), 62_500));
    // 2,161 min: 1 - 2161/43200 = 94.997685 %: 50 % = 125,000.
    assert_eq!(case(2161), ("94.9976%".to_owned(), 125_000));
    // The whole month down: 0 %, still 50 %; the cap, 50 % of 250,000 = 125,000, removes
    // nothing because the tiers never go higher.
    let period = Period::month("2026-11", &TimeZone::UTC).expect("period");
    let outage = Outage { range: period.range(), impact: Impact::Major };
    let account = account(period.range(), &[outage], &[], &Rules::default());
    let whole = MeasuredAvailability::from_account("compute", &account);
    let fee = Money::new(250_000, "USD").expect("money");
    let statement = statement(&gcp, fee, &period, Some(&whole), &[]);
    assert_eq!(whole.availability.to_string(), "0.0000%");
    assert_eq!(statement.subtotal.minor(), 125_000);
    assert_eq!((statement.cap.limit.minor(), statement.cap.removed.minor()), (125_000, 0));
    assert!(statement.cap.from_terms);
    assert_eq!(statement.total.minor(), 125_000);
}

/// A breach of cycle 1 of `metric` at `priority`, started at `start` with `target` minutes,
/// breached at `breached` (Berlin wall-clock times).
fn breach(
    ticket: &str,
    metric: Metric,
    priority: &str,
    start: &str,
    target: i64,
    breached: &str,
) -> BreachedClock {
    BreachedClock {
        ticket: ticket.to_owned(),
        metric,
        priority: priority.to_owned(),
        cycle: 1,
        cycle_start: at(start),
        target: mins(target),
        breached_at: at(breached),
    }
}

fn eur(minor: i64) -> Money {
    Money::new(minor, "EUR").expect("money")
}

/// The `credits` terms of [`DOCUMENTS`] as resolved for acme's hosting in November 2026,
/// with the fee.
fn documented_terms() -> (Credits, Money) {
    let catalog = catalog(DOCUMENTS);
    let query = Query {
        customer: "acme",
        service: "hosting",
        region: None,
        site: None,
        on: Date::constant(2026, 11, 1),
    };
    let terms = resolve(&catalog, &query).expect("terms").terms;
    let credits = terms.credits.expect("credits").value;
    let fee = terms.pricing.expect("pricing").value.monthly_fee;
    (credits, fee)
}

#[test]
fn worked_example_of_the_credits_page() {
    // docs/credits.md. Fee 18,500.00 EUR = 1,850,000 cents, November 2026 in Berlin (30
    // days, no offset change: 43,200 minutes).
    let (credits, fee) = documented_terms();
    let period = Period::month("2026-11", &berlin()).expect("period");
    // 10 hours down: 1 - 600/43200 = 98.611111 %, below 99.0: 25 % of 1,850,000 = 462,500.
    let availability = measured("hosting", &period, mins(600));
    let breaches = [
        // 5 % of 1,850,000 = 92,500.
        breach("T-101", Metric::Resolution, "P1", "2026-11-03T10:00", 240, "2026-11-03T14:00"),
        // Two breached clocks, one ticket: one penalty, 92,500.
        breach("T-102", Metric::Response, "P1", "2026-11-12T09:00", 30, "2026-11-12T09:30"),
        breach("T-102", Metric::Resolution, "P1", "2026-11-12T09:00", 240, "2026-11-12T13:00"),
        // An amount: 25,000.
        breach("T-103", Metric::Response, "P2", "2026-11-20T10:00", 60, "2026-11-20T11:00"),
        // Update clocks earn no penalty.
        breach("T-104", Metric::Update, "P2", "2026-11-24T08:00", 240, "2026-11-24T12:00"),
        // P3 has no penalty.
        breach("T-105", Metric::Resolution, "P3", "2026-11-24T09:00", 1440, "2026-11-25T09:00"),
        // October's breach belongs to October's statement.
        breach("T-099", Metric::Resolution, "P1", "2026-10-31T19:00", 240, "2026-10-31T23:00"),
    ];
    let statement = compute(&Inputs {
        terms: &credits,
        credits_revision: &revision("corporate-sla", "r2"),
        monthly_fee: fee,
        pricing_revision: Some(&revision("corporate-sla", "r2")),
        period: &period,
        availability: Some(&availability),
        breaches: &breaches,
    })
    .expect("statement");
    // Subtotal 462,500 + 92,500 + 92,500 + 25,000 = 672,500. Cap 30 % of 1,850,000 =
    // 555,000, which removes 117,500. 555,000 is not under the minimum of 5,000.
    assert_eq!(statement.subtotal, eur(672_500));
    assert_eq!(statement.cap.removed, eur(117_500));
    assert_eq!(statement.total, eur(555_000));
    // The claim window: November ends at the start of 1 December; 30 days later is the end of
    // 30 December.
    expect![[r#"
        credits for 2026-11 (Europe/Berlin), monthly fee 18500.00 EUR
          4625.00 EUR  availability of hosting 98.6111% is below 99%: 25% of the monthly fee [corporate-sla r2]
                       major outage 2026-11-10 10:00 to 2026-11-10 20:00, counted 10h
           925.00 EUR  ticket T-101 breached its resolution target (P1): 5% of the monthly fee [corporate-sla r2]
                       resolution P1 cycle 1 from 2026-11-03 10:00, target 4h, breached 2026-11-03 14:00
           925.00 EUR  ticket T-102 breached its response target (P1): 5% of the monthly fee [corporate-sla r2]
                       response P1 cycle 1 from 2026-11-12 09:00, target 30m, breached 2026-11-12 09:30
                       resolution P1 cycle 1 from 2026-11-12 09:00, target 4h, breached 2026-11-12 13:00
           250.00 EUR  ticket T-103 breached its response target (P2): 250.00 EUR per ticket [corporate-sla r2]
                       response P2 cycle 1 from 2026-11-20 10:00, target 1h, breached 2026-11-20 11:00
          6725.00 EUR  subtotal
        cap 30% of the monthly fee: 5550.00 EUR, removes 1175.00 EUR
        minimum 50.00 EUR: not applied
        total 5550.00 EUR, refunded
        claim within 30 days: by 2026-12-30 (closes 2026-12-31 00:00)
        rules: corporate-sla r2; fee: corporate-sla r2
        note: no penalty for the priorities of T-105 (P3): no breach credit
        note: 1 breached update clock(s) left out: only response and resolution earn penalties
        note: 1 breach(es) outside 2026-11 left out
    "#]]
    .assert_eq(&statement.to_string());
}

#[test]
fn breach_penalties_are_capped_then_held_to_the_minimum() {
    // Fee 1,000.00 EUR = 100,000; P1 5 % = 5,000; P2 25,000 per ticket; cap 30 % = 30,000;
    // minimum 5,000. No availability tiers.
    let (documented, _) = documented_terms();
    let credits = Credits { tiers: Vec::new(), ..documented };
    let period = Period::month("2026-11", &berlin()).expect("period");
    let p1 = breach("T-1", Metric::Resolution, "P1", "2026-11-02T10:00", 240, "2026-11-02T14:00");
    let p2 =
        |ticket| breach(ticket, Metric::Response, "P2", "2026-11-05T10:00", 60, "2026-11-05T11:00");
    // 5,000 + 25,000 + 25,000 = 55,000; capped at 30,000, removing 25,000.
    let capped =
        statement(&credits, eur(100_000), &period, None, &[p1.clone(), p2("T-2"), p2("T-3")]);
    assert_eq!(capped.lines.len(), 3);
    assert_eq!(capped.subtotal, eur(55_000));
    assert_eq!((capped.cap.limit, capped.cap.removed), (eur(30_000), eur(25_000)));
    assert_eq!(capped.total, eur(30_000));
    assert!(!capped.minimum.expect("minimum").applied());
    // Fee 900.00 EUR = 90,000: one P1 breach is 5 % = 4,500, under the minimum of 5,000, so
    // nothing is paid and the statement says the minimum removed 4,500.
    let under = statement(&credits, eur(90_000), &period, None, std::slice::from_ref(&p1));
    assert_eq!(under.subtotal, eur(4_500));
    let minimum = under.minimum.expect("minimum");
    assert!(minimum.applied());
    assert_eq!(minimum.removed, eur(4_500));
    assert_eq!(under.total, eur(0));
    assert!(under.to_string().contains("minimum 50.00 EUR: 45.00 EUR is under it and is not paid"));
    // Fee 1,000.00 EUR: 5 % = 5,000, exactly the minimum, which is not under it: paid.
    let equal = statement(&credits, eur(100_000), &period, None, std::slice::from_ref(&p1));
    assert_eq!(equal.total, eur(5_000));
    // The cap comes first: fee 100.00 EUR = 10,000 caps a 25,000 P2 penalty at 3,000, which
    // is then under the minimum: nothing.
    let both = statement(&credits, eur(10_000), &period, None, &[p2("T-2")]);
    assert_eq!((both.subtotal, both.cap.removed), (eur(25_000), eur(22_000)));
    assert_eq!(both.minimum.expect("minimum").removed, eur(3_000));
    assert_eq!(both.total, eur(0));
}

#[test]
fn a_ticket_earns_the_largest_penalty_of_its_breached_priorities() {
    // T-1 breached its response as P2 (25,000) and, retargeted to P1, its resolution (5 % of
    // 100,000 = 5,000): one line, the larger, 25,000.
    let (credits, _) = documented_terms();
    let period = Period::month("2026-11", &berlin()).expect("period");
    let breaches = [
        breach("T-1", Metric::Response, "P2", "2026-11-02T10:00", 60, "2026-11-02T11:00"),
        breach("T-1", Metric::Resolution, "P1", "2026-11-02T10:00", 240, "2026-11-02T14:00"),
    ];
    let statement = statement(&credits, eur(100_000), &period, None, &breaches);
    assert_eq!(statement.lines.len(), 1);
    let line = &statement.lines[0];
    assert_eq!(line.amount, eur(25_000));
    assert_eq!(
        line.kind,
        LineKind::BreachPenalty { priority: "P2".to_owned(), penalty: Penalty::Amount(25_000) }
    );
    let Evidence::Breaches { ticket, clocks } = &line.evidence else { panic!("breach evidence") };
    assert_eq!((ticket.as_str(), clocks.len()), ("T-1", 2));
    assert_eq!(line.revision, revision("corporate-sla", "r2"));
    assert_eq!(
        statement.notes,
        ["no availability measured for objective hosting: no availability credit"]
    );
}

#[test]
fn each_line_is_rounded_half_away_from_zero_on_its_own() {
    // 10 % of 999 = 99.9 -> 100; 5 % of 999 = 49.95 -> 50; 5 % of 990 = 49.5 -> 50;
    // 5 % of 970 = 48.5 -> 49; 10 % of 4 = 0.4 -> 0; 25 % of 2 = 0.5 -> 1;
    // 33.333333 % of 100 = 33.333333 -> 33; 100 % of the largest amount is itself.
    assert_eq!(share_of(999, percent("10")), 100);
    assert_eq!(share_of(999, percent("5")), 50);
    assert_eq!(share_of(990, percent("5")), 50);
    assert_eq!(share_of(970, percent("5")), 49);
    assert_eq!(share_of(4, percent("10")), 0);
    assert_eq!(share_of(2, percent("25")), 1);
    assert_eq!(share_of(100, percent("33.333333")), 33);
    assert_eq!(share_of(i64::MAX, Percent::HUNDRED), i64::MAX);
    // Through a statement: fee 9.90 EUR = 990 cents, two P1 tickets at 5 % each: 49.5 -> 50
    // per line, 100 in all, where one 10 % share of the fee would have been 99. The cap of
    // 30 % is 297 exactly; the minimum is 0 here.
    let (documented, _) = documented_terms();
    let credits = Credits { tiers: Vec::new(), minimum: None, ..documented };
    let period = Period::month("2026-11", &berlin()).expect("period");
    let p1 = |ticket| {
        breach(ticket, Metric::Resolution, "P1", "2026-11-02T10:00", 240, "2026-11-02T14:00")
    };
    let statement = statement(&credits, eur(990), &period, None, &[p1("T-1"), p1("T-2")]);
    let amounts: Vec<i64> = statement.lines.iter().map(|line| line.amount.minor()).collect();
    assert_eq!(amounts, [50, 50]);
    assert_eq!((statement.subtotal, statement.cap.limit), (eur(100), eur(297)));
    assert_eq!(statement.total, eur(100));
    // A tier on an odd fee: 10 % of 9.99 USD (999 cents) = 99.9 -> 100 cents.
    let s3 = s3_standard();
    assert_eq!(
        credit_for(&s3, 999, "2026-11", &TimeZone::UTC, mins(60)),
        ("99.8611%".to_owned(), 100)
    );
}

#[test]
fn a_zero_fee_earns_nothing_even_with_amount_penalties() {
    // Fee 0: the 10 % tier is 0, the P2 penalty 25,000; the default cap is 100 % of the fee,
    // 0, so it removes all 25,000 and the total is 0.
    let s3 = s3_standard();
    let credits =
        Credits { breaches: BTreeMap::from([("P2".to_owned(), Penalty::Amount(25_000))]), ..s3 };
    let period = Period::month("2026-11", &TimeZone::UTC).expect("period");
    let availability = measured("s3", &period, mins(60));
    let p2 = breach("T-1", Metric::Response, "P2", "2026-11-05T10:00", 60, "2026-11-05T11:00");
    let statement = statement(&credits, eur(0), &period, Some(&availability), &[p2]);
    let amounts: Vec<i64> = statement.lines.iter().map(|line| line.amount.minor()).collect();
    assert_eq!(amounts, [0, 25_000]);
    assert!(!statement.cap.from_terms);
    assert_eq!((statement.cap.limit, statement.cap.removed), (eur(0), eur(25_000)));
    assert_eq!(statement.total, eur(0));
    assert!(statement.to_string().contains("cap 100% (default) of the monthly fee: 0.00 EUR"));
}

/// The last day and closing instant (UTC) of a claim window of `days` after `label` in Berlin.
#[track_caller]
fn claim(label: &str, days: u32) -> (Date, String) {
    let period = Period::month(label, &berlin()).expect("period");
    let deadline = period.claim_deadline(days).expect("deadline");
    (deadline.last_day, deadline.closes_at.to_string())
}

#[test]
fn claim_window_counts_calendar_days_across_the_autumn_change() {
    // September 2026 ends at 1 October 00:00 CEST (22:00 UTC on 30 September). Day 1 of 30
    // is 1 October, day 30 is 30 October; the window closes at 31 October 00:00, after the
    // change on 25 October, so in CET: 23:00 UTC on 30 October, 30 days and one hour later.
    assert_eq!(claim("2026-09", 30), (Date::constant(2026, 10, 30), "2026-10-30T23:00:00Z".into()));
    let september = Period::month("2026-09", &berlin()).expect("period");
    let deadline = september.claim_deadline(30).expect("deadline");
    assert_eq!(
        deadline.closes_at.duration_since(september.range().end()),
        SignedDuration::from_hours(30 * 24 + 1)
    );
    // February 2026 ends at 1 March 00:00 CET (23:00 UTC on 28 February); 30 days run to 30
    // March, closing at 31 March 00:00 CEST, after the spring change on 29 March: 22:00 UTC.
    assert_eq!(claim("2026-02", 30), (Date::constant(2026, 3, 30), "2026-03-30T22:00:00Z".into()));
}

#[test]
fn claim_window_around_month_ends_and_a_leap_february() {
    // October 2026 ends at 1 November 00:00 CET: one day means all of 1 November.
    assert_eq!(claim("2026-10", 1), (Date::constant(2026, 11, 1), "2026-11-01T23:00:00Z".into()));
    // November 2026, 30 days: 1 December to 30 December, closing 31 December 00:00 CET.
    assert_eq!(claim("2026-11", 30), (Date::constant(2026, 12, 30), "2026-12-30T23:00:00Z".into()));
    // December 2026, 31 days: into the next year, through 31 January 2027.
    assert_eq!(claim("2026-12", 31), (Date::constant(2027, 1, 31), "2027-01-31T23:00:00Z".into()));
    // January 2027, 30 days: February has 28 days, so day 30 is 2 March.
    assert_eq!(claim("2027-01", 30), (Date::constant(2027, 3, 2), "2027-03-02T23:00:00Z".into()));
    // February 2028 is a leap month ending at 1 March; day 30 is 30 March, closing at 31
    // March 00:00 CEST (the change is on 26 March 2028): 22:00 UTC.
    assert_eq!(claim("2028-02", 30), (Date::constant(2028, 3, 30), "2028-03-30T22:00:00Z".into()));
    // No days: the claim must be in by the month's last day, when the month ends.
    assert_eq!(claim("2026-11", 0), (Date::constant(2026, 11, 30), "2026-11-30T23:00:00Z".into()));
    // Without a window nothing needs claiming.
    let period = Period::month("2026-11", &berlin()).expect("period");
    let statement = statement(&s3_standard(), eur(100), &period, None, &[]);
    assert_eq!(statement.claim, None);
    assert!(statement.to_string().contains("no claim needed"));
}

/// A ticket event on acme's hosting, Berlin wall-clock time.
fn event(ticket: &str, idx: usize, at_text: &str, kind: EventKind) -> TicketEvent {
    TicketEvent {
        id: Arc::from(format!("{ticket}-e{idx}")),
        ticket: Arc::from(ticket),
        at: at(at_text),
        kind,
    }
}

fn created(priority: &str) -> EventKind {
    EventKind::Created(Box::new(Created {
        customer: Arc::from("acme"),
        service: Arc::from("hosting"),
        priority: Arc::from(priority),
        ticket_type: TicketType::Incident,
        request_type: None,
        status: Arc::from("new"),
        site: None,
        region: None,
        group: None,
        external_ref: None,
    }))
}

#[test]
fn breached_clocks_are_read_from_the_engine_within_the_month_and_by_now() {
    let revisions = BTreeMap::from([("corporate-sla".to_owned(), "r2".to_owned())]);
    let mut engine = Engine::new(CatalogTerms::new(catalog(DOCUMENTS), revisions));
    let reply = EventKind::Comment { author: Author::Agent, public: true };
    // T-1: P1 on a 24x7 calendar, created 10:00, answered 11:00 (due 10:30), solved 13:00
    // (due 14:00): the response breached at 10:30.
    engine.apply(event("T-1", 0, "2026-11-03T10:00", created("P1")));
    engine.apply(event("T-1", 1, "2026-11-03T11:00", reply.clone()));
    engine.apply(event("T-1", 2, "2026-11-03T13:00", EventKind::Solved));
    // T-2: P1 created at 22:00 on 30 November and never answered: the response breaches at
    // 22:30 in November, the resolution at 02:00 on 1 December, in December.
    engine.apply(event("T-2", 0, "2026-11-30T22:00", created("P1")));
    let november = Period::month("2026-11", &berlin()).expect("period").range();
    let read = |ticket: &str, now: &str| {
        let state = &engine.ticket(ticket).expect("ticket").state;
        breached_clocks(ticket, state, november, at(now))
    };
    assert_eq!(
        read("T-1", "2026-12-01T08:00"),
        [breach("T-1", Metric::Response, "P1", "2026-11-03T10:00", 30, "2026-11-03T10:30")]
    );
    // At 22:20 the response is not yet due: nothing has breached.
    assert_eq!(read("T-2", "2026-11-30T22:20"), []);
    // From December, November holds the response breach and not the resolution one.
    assert_eq!(
        read("T-2", "2026-12-02T08:00"),
        [breach("T-2", Metric::Response, "P1", "2026-11-30T22:00", 30, "2026-11-30T22:30")]
    );
}

#[test]
fn inputs_that_cannot_make_a_statement_are_errors() {
    let berlin = berlin();
    assert_eq!(
        Period::month("2026-Q4", &berlin).unwrap_err().to_string(),
        r#"invalid credit period "2026-Q4": expected a calendar month such as 2026-11"#
    );
    assert!(Period::month("2026-13", &berlin).is_err());
    let period = Period::month("2026-11", &berlin).expect("period");
    assert_eq!(period.label(), "2026-11");
    let s3 = s3_standard();
    let run = |fee: Money, availability: Option<&MeasuredAvailability>| {
        compute(&Inputs {
            terms: &s3,
            credits_revision: &revision("corporate-sla", "r2"),
            monthly_fee: fee,
            pricing_revision: None,
            period: &period,
            availability,
            breaches: &[],
        })
    };
    assert_eq!(run(eur(-1), None).unwrap_err(), CreditError::NegativeFee { fee: eur(-1) });
    assert_eq!(run(eur(-1), None).unwrap_err().to_string(), "monthly fee -0.01 EUR is negative");
    let other = measured("lan", &period, mins(60));
    assert_eq!(
        run(eur(100), Some(&other)).unwrap_err().to_string(),
        r#"availability measured for objective "lan", but the credit tiers measure "s3""#
    );
}
