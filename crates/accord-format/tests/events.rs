//! Ticket events as JSON Lines: files read into events and errors, and events written back.
//! Each test shows its whole input; outputs are pinned with `expect!` (`UPDATE_EXPECT=1`).

use std::sync::Arc;

use accord_core::clock::{EventKind, TicketEvent};
use accord_format::events::{
    EventError, ParsedEvents, parse_event, parse_events, to_json, write_jsonl,
};
use expect_test::{Expect, expect};
use serde_json::{Map, Value, json};

/// Records as `line: id ticket at kind`, then errors, then the duplicate count.
fn summary(parsed: &ParsedEvents) -> String {
    let mut out = String::new();
    for record in &parsed.records {
        let TicketEvent { id, ticket, at, kind } = &record.event;
        out.push_str(&format!("{}: {id} {ticket} {at} {kind:?}\n", record.line));
        if !record.extra.is_empty() {
            out.push_str(&format!("   extra {}\n", Value::Object(record.extra.clone())));
        }
    }
    for error in &parsed.errors {
        out.push_str(&format!("error {error}\n"));
    }
    if parsed.duplicates > 0 {
        out.push_str(&format!("duplicates: {}\n", parsed.duplicates));
    }
    out
}

#[track_caller]
fn check(text: &str, expect: Expect) {
    expect.assert_eq(&summary(&parse_events("events.jsonl", text)));
}

/// The example of `docs/events.md`: one ticket from creation to rating.
fn documented_example() -> String {
    let doc = include_str!("../../../docs/events.md");
    let start = doc.find("```jsonl\n").expect("docs/events.md has a jsonl example") + 9;
    let end = start + doc[start..].find("```").expect("the example block is closed");
    doc[start..end].to_owned()
}

#[test]
fn documented_example_is_one_ticket_from_creation_to_rating() {
    check(
        &documented_example(),
        expect![[r#"
            1: e1 T-1001 2026-11-02T08:00:00Z Created(Created { customer: "acme", service: "hosting", priority: "P2", ticket_type: Incident, request_type: None, status: "new", site: Some("munich"), region: None, group: None, external_ref: Some("ZD-48213") })
            2: e2 T-1001 2026-11-02T08:20:00Z Comment { author: Agent, public: true }
            3: e3 T-1001 2026-11-02T08:21:00Z Updated(Updated { status: Some("waiting_on_customer"), priority: None, service: None, customer: None, site: None, region: None, group: None, request_type: None })
            4: e4 T-1001 2026-11-02T10:02:00Z Comment { author: Customer, public: true }
            5: e5 T-1001 2026-11-02T10:03:00Z Updated(Updated { status: Some("open"), priority: None, service: None, customer: None, site: None, region: None, group: None, request_type: None })
            6: e6 T-1001 2026-11-02T14:40:00Z Solved
            7: e7 T-1001 2026-11-05T14:40:00Z Closed
            8: e8 T-1001 2026-11-05T17:12:00Z Rating { score: Stars(5), comment: Some("quick and friendly") }
        "#]],
    );
}

#[test]
fn every_event_type_is_parsed_with_all_its_fields() {
    check(
        r#"{"v":1,"id":"e1","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z","customer":"acme","service":"hosting","priority":"P3","ticketType":"request","requestType":"new_vm","status":"open","site":"munich","region":"emea","group":"l1","externalRef":"ZD-1"}
{"id":"e2","ticket":"T-1","type":"updated","at":"2026-11-02T09:01:00Z","status":"waiting_on_vendor","priority":"P2","service":"network","customer":"globex","site":"berlin","region":"dach","group":"l2","requestType":"firewall"}
{"id":"e3","ticket":"T-1","type":"comment","at":"2026-11-02T09:02:00Z","author":"customer","public":false}
{"id":"e4","ticket":"T-1","type":"note","at":"2026-11-02T09:03:00Z"}
{"id":"e5","ticket":"T-1","type":"solved","at":"2026-11-02T09:04:00Z"}
{"id":"e6","ticket":"T-1","type":"closed","at":"2026-11-02T09:05:00Z"}
{"id":"e7","ticket":"T-1","type":"reopened","at":"2026-11-02T09:06:00Z","status":"in_progress"}
{"id":"e8","ticket":"T-1","type":"rating","at":"2026-11-02T09:07:00Z","score":"bad","comment":""}
{"id":"e9","ticket":"T-1","type":"rating","at":"2026-11-02T09:08:00Z","score":"good"}
{"id":"e10","ticket":"T-1","type":"rating","at":"2026-11-02T09:09:00Z","score":1}
"#,
        expect![[r#"
            1: e1 T-1 2026-11-02T09:00:00Z Created(Created { customer: "acme", service: "hosting", priority: "P3", ticket_type: Request, request_type: Some("new_vm"), status: "open", site: Some("munich"), region: Some("emea"), group: Some("l1"), external_ref: Some("ZD-1") })
            2: e2 T-1 2026-11-02T09:01:00Z Updated(Updated { status: Some("waiting_on_vendor"), priority: Some("P2"), service: Some("network"), customer: Some("globex"), site: Some("berlin"), region: Some("dach"), group: Some("l2"), request_type: Some("firewall") })
            3: e3 T-1 2026-11-02T09:02:00Z Comment { author: Customer, public: false }
            4: e4 T-1 2026-11-02T09:03:00Z Note
            5: e5 T-1 2026-11-02T09:04:00Z Solved
            6: e6 T-1 2026-11-02T09:05:00Z Closed
            7: e7 T-1 2026-11-02T09:06:00Z Reopened { status: Some("in_progress") }
            8: e8 T-1 2026-11-02T09:07:00Z Rating { score: Good(false), comment: Some("") }
            9: e9 T-1 2026-11-02T09:08:00Z Rating { score: Good(true), comment: None }
            10: e10 T-1 2026-11-02T09:09:00Z Rating { score: Stars(1), comment: None }
        "#]],
    );
}

#[test]
fn left_out_and_null_fields_take_their_defaults() {
    check(
        r#"{"id":"e1","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z","customer":"acme","service":"hosting","priority":"P3"}
{"v":null,"id":"e2","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z","customer":"acme","service":"hosting","priority":"P3","ticketType":null,"status":null,"site":null}
{"id":"e3","ticket":"T-1","type":"comment","at":"2026-11-02T09:02:00Z","author":"agent"}
{"id":"e4","ticket":"T-1","type":"reopened","at":"2026-11-02T09:06:00Z"}
{"id":"e5","ticket":"T-1","type":"updated","at":"2026-11-02T09:01:00Z","status":"open","priority":null}
"#,
        expect![[r#"
            1: e1 T-1 2026-11-02T09:00:00Z Created(Created { customer: "acme", service: "hosting", priority: "P3", ticket_type: Incident, request_type: None, status: "new", site: None, region: None, group: None, external_ref: None })
            2: e2 T-1 2026-11-02T09:00:00Z Created(Created { customer: "acme", service: "hosting", priority: "P3", ticket_type: Incident, request_type: None, status: "new", site: None, region: None, group: None, external_ref: None })
            3: e3 T-1 2026-11-02T09:02:00Z Comment { author: Agent, public: true }
            4: e4 T-1 2026-11-02T09:06:00Z Reopened { status: None }
            5: e5 T-1 2026-11-02T09:01:00Z Updated(Updated { status: Some("open"), priority: None, service: None, customer: None, site: None, region: None, group: None, request_type: None })
        "#]],
    );
}

#[test]
fn unknown_fields_are_kept_as_extra() {
    check(
        r#"{"id":"e1","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z","zendesk":{"via":"email","tags":["vip"]},"agentName":"Kim"}
{"id":"e2","ticket":"T-1","type":"solved","at":"2026-11-02T09:00:00Z","author":"agent","status":"solved"}
"#,
        expect![[r#"
            1: e1 T-1 2026-11-02T09:00:00Z Note
               extra {"agentName":"Kim","zendesk":{"tags":["vip"],"via":"email"}}
            2: e2 T-1 2026-11-02T09:00:00Z Solved
               extra {"author":"agent","status":"solved"}
        "#]],
    );
}

#[test]
fn blank_lines_are_skipped_and_counted_in_line_numbers() {
    check(
        "\n   \n{\"id\":\"e1\",\"ticket\":\"T-1\",\"type\":\"note\",\"at\":\"2026-11-02T09:00:00Z\"}\r\n\t\n{\"id\":\"e2\",\"ticket\":\"T-1\",\"type\":\"note\",\"at\":\"2026-11-02T09:00:00Z\"}",
        expect![[r#"
            3: e1 T-1 2026-11-02T09:00:00Z Note
            5: e2 T-1 2026-11-02T09:00:00Z Note
        "#]],
    );
}

#[test]
fn every_malformed_line_is_reported_with_its_line_and_field() {
    let created = r#""customer":"acme","service":"hosting","priority":"P2""#;
    let lines = [
        r#"{"id":"e1","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z"#.to_owned(),
        r#"["id","e1"]"#.to_owned(),
        r#"{"v":2,"id":"e1","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"v":"1","id":"e1","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"id":"","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"id":"e1","ticket":42,"type":"note","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"id":"e1","ticket":null,"type":"note","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"id":"e1","ticket":"T-1","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"escalated","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"note"}"#.to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"note","at":"yesterday"}"#.to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"note","at":1793606400}"#.to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z","customer":"acme","service":"hosting"}"#
            .to_owned(),
        format!(
            r#"{{"id":"e1","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z",{created},"ticketType":"bug"}}"#
        ),
        format!(
            r#"{{"id":"e1","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z",{created},"ticketType":"request"}}"#
        ),
        format!(
            r#"{{"id":"e1","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z",{created},"site":"  "}}"#
        ),
        format!(
            r#"{{"id":"e1","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z",{created},"status":["open"]}}"#
        ),
        r#"{"id":"e1","ticket":"T-1","type":"updated","at":"2026-11-02T09:00:00Z","note":"x"}"#
            .to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00Z","author":"bot"}"#
            .to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00Z","author":"agent","public":"yes"}"#
            .to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"reopened","at":"2026-11-02T09:00:00Z","status":7}"#
            .to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"rating","at":"2026-11-02T09:00:00Z","score":6}"#
            .to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"rating","at":"2026-11-02T09:00:00Z","score":4.5}"#
            .to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"rating","at":"2026-11-02T09:00:00Z","score":"5"}"#
            .to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"rating","at":"2026-11-02T09:00:00Z"}"#.to_owned(),
        r#"{"id":"e1","ticket":"T-1","type":"rating","at":"2026-11-02T09:00:00Z","score":5,"comment":5}"#
            .to_owned(),
    ];
    let text = lines.join("\n");
    let parsed = parse_events("events.jsonl", &text);
    assert!(parsed.records.is_empty());
    assert_eq!(parsed.errors.len(), lines.len(), "one error per line");
    check(
        &text,
        expect![[r#"
            error events.jsonl:1: invalid JSON at column 66: EOF while parsing a string
            error events.jsonl:2: expected a JSON object, found an array
            error events.jsonl:3: v: unsupported event format version 2: this Accord reads version 1
            error events.jsonl:4: v: expected an integer, found "1"
            error events.jsonl:5: id: missing: expected a non-empty string
            error events.jsonl:6: id: expected a non-empty string, found ""
            error events.jsonl:7: ticket: expected a non-empty string, found 42
            error events.jsonl:8: ticket: expected a non-empty string, found null
            error events.jsonl:9: type: missing: expected one of created, updated, comment, note, solved, closed, reopened, rating
            error events.jsonl:10: type: expected one of created, updated, comment, note, solved, closed, reopened, rating, found "escalated"
            error events.jsonl:11: at: missing: expected an RFC 3339 instant such as 2026-11-02T09:00:00+01:00
            error events.jsonl:12: at: expected an RFC 3339 instant such as 2026-11-02T09:00:00+01:00, found "yesterday"
            error events.jsonl:13: at: expected an RFC 3339 instant such as 2026-11-02T09:00:00+01:00, found 1793606400
            error events.jsonl:14: priority: missing: expected a non-empty string
            error events.jsonl:15: ticketType: expected incident or request, found "bug"
            error events.jsonl:16: requestType: missing: a request needs a request type (a non-empty string)
            error events.jsonl:17: site: expected a non-empty string, found "  "
            error events.jsonl:18: status: expected a non-empty string, found an array
            error events.jsonl:19: type: an updated event changes at least one of status, priority, service, customer, site, region, group, requestType
            error events.jsonl:20: author: expected agent or customer, found "bot"
            error events.jsonl:21: author: missing: expected agent or customer
            error events.jsonl:22: public: expected true or false, found "yes"
            error events.jsonl:23: status: expected a non-empty string, found 7
            error events.jsonl:24: score: expected an integer from 1 to 5, good or bad, found 6
            error events.jsonl:25: score: expected an integer from 1 to 5, good or bad, found 4.5
            error events.jsonl:26: score: expected an integer from 1 to 5, good or bad, found "5"
            error events.jsonl:27: score: missing: expected an integer from 1 to 5, good or bad
            error events.jsonl:28: comment: expected a string, found 5
        "#]],
    );
}

#[test]
fn a_field_given_twice_is_an_error() {
    check(
        r#"{"id":"e1","ticket":"T-1","type":"updated","at":"2026-11-02T09:00:00Z","status":"open","status":"closed"}
{"id":"e2","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z","x":1,"\u0078":2}
"#,
        expect![[r#"
            error events.jsonl:1: status: given more than once
            error events.jsonl:2: x: given more than once
        "#]],
    );
}

#[test]
fn escaped_names_and_values_read_like_plain_ones() {
    check(
        r#"{"\u0069d":"e\u0031","ticket":"T-\u00e9","type":"comm\u0065nt","at":"2026-11-02T09:00:00\u005a","author":"agent","n\u00f6te":"a\tb"}
  {"id":"e2","ticket":"T-é","type":"note","at":"2026-11-02T09:00:00Z"}
"#,
        expect![[r#"
            1: e1 T-é 2026-11-02T09:00:00Z Comment { author: Agent, public: true }
               extra {"nöte":"a\tb"}
            2: e2 T-é 2026-11-02T09:00:00Z Note
        "#]],
    );
}

#[test]
fn a_line_that_is_not_an_object_is_an_error() {
    check(
        r#""e1"
42
null
[{"id":"e1"}]
{"id":"e1"} {"id":"e2"}
{"id":"e1",}
"#,
        expect![[r#"
            error events.jsonl:1: expected a JSON object, found "e1"
            error events.jsonl:2: expected a JSON object, found 42
            error events.jsonl:3: expected a JSON object, found null
            error events.jsonl:4: expected a JSON object, found an array
            error events.jsonl:5: invalid JSON at column 13: trailing characters
            error events.jsonl:6: invalid JSON at column 12: trailing comma
        "#]],
    );
}

#[test]
fn errors_carry_path_line_and_field() {
    let text = r#"{"id":"e1","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z"}
{"id":"e2","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00Z","author":"bot"}
not json
{"id":"e3","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z"}
"#;
    let parsed = parse_events("exports/events.jsonl", text);
    assert_eq!(parsed.records.len(), 2, "the good lines around the bad ones are kept");
    assert_eq!(
        parsed.errors,
        [
            EventError {
                path: "exports/events.jsonl".to_owned(),
                line: 2,
                field: Some("author".to_owned()),
                message: r#"expected agent or customer, found "bot""#.to_owned(),
            },
            EventError {
                path: "exports/events.jsonl".to_owned(),
                line: 3,
                field: None,
                message: "invalid JSON at column 2: expected ident".to_owned(),
            },
        ]
    );
    let error: &dyn std::error::Error = &parsed.errors[0];
    assert_eq!(
        error.to_string(),
        r#"exports/events.jsonl:2: author: expected agent or customer, found "bot""#
    );
    assert_eq!(
        parsed.errors[1].to_string(),
        "exports/events.jsonl:3: invalid JSON at column 2: expected ident"
    );
}

#[test]
fn long_values_are_cut_in_messages() {
    check(
        &format!(
            r#"{{"id":"e1","ticket":"T-1","type":"{}","at":"2026-11-02T09:00:00Z"}}"#,
            "é".repeat(100)
        ),
        expect![[r#"
            error events.jsonl:1: type: expected one of created, updated, comment, note, solved, closed, reopened, rating, found "éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé"...
        "#]],
    );
}

#[test]
fn identical_duplicate_is_skipped_and_counted() {
    check(
        r#"{"id":"e1","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00+01:00","author":"agent","x":1}
{"id":"e2","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00+01:00"}
{"v":1,"x":1,"public":true,"author":"agent","at":"2026-11-02T08:00:00Z","type":"comment","ticket":"T-1","id":"e1"}
{"id":"e1","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00+01:00","author":"agent","x":1}
"#,
        expect![[r#"
            1: e1 T-1 2026-11-02T08:00:00Z Comment { author: Agent, public: true }
               extra {"x":1}
            2: e2 T-1 2026-11-02T08:00:00Z Note
            duplicates: 2
        "#]],
    );
}

#[test]
fn duplicate_id_of_a_different_event_is_an_error() {
    check(
        r#"{"id":"e1","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z"}
{"id":"e2","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00Z"}
{"id":"e5","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00Z","author":"agent"}
{"id":"e5","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00Z","author":"customer"}
{"id":"e5","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00Z","author":"agent","x":1}
{"id":"e1","ticket":"T-2","type":"note","at":"2026-11-02T09:00:00Z"}
{"id":"e5","ticket":"T-1","type":"comment","at":"2026-11-02T09:00:00Z","author":"agent"}
"#,
        expect![[r#"
            1: e1 T-1 2026-11-02T09:00:00Z Note
            2: e2 T-1 2026-11-02T09:00:00Z Note
            3: e5 T-1 2026-11-02T09:00:00Z Comment { author: Agent, public: true }
            error events.jsonl:4: id: event id "e5" was already used on line 3 for a different event
            error events.jsonl:5: id: event id "e5" was already used on line 3 for a different event
            error events.jsonl:6: id: event id "e1" was already used on line 1 for a different event
            duplicates: 1
        "#]],
    );
}

#[test]
fn offsets_and_z_give_the_same_instant() {
    check(
        r#"{"id":"e1","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00+01:00"}
{"id":"e2","ticket":"T-1","type":"note","at":"2026-11-02T08:00:00Z"}
{"id":"e3","ticket":"T-1","type":"note","at":"2026-11-02T03:00:00-05:00"}
{"id":"e4","ticket":"T-1","type":"note","at":"2026-11-02T13:30:00+05:30"}
{"id":"e5","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00+01:00[Europe/Berlin]"}
{"id":"e6","ticket":"T-1","type":"note","at":"2026-11-02T08:00:00.250Z"}
"#,
        expect![[r#"
            1: e1 T-1 2026-11-02T08:00:00Z Note
            2: e2 T-1 2026-11-02T08:00:00Z Note
            3: e3 T-1 2026-11-02T08:00:00Z Note
            4: e4 T-1 2026-11-02T08:00:00Z Note
            5: e5 T-1 2026-11-02T08:00:00Z Note
            6: e6 T-1 2026-11-02T08:00:00.25Z Note
        "#]],
    );
}

#[test]
fn local_time_without_offset_is_rejected() {
    check(
        r#"{"id":"e1","ticket":"T-1","type":"note","at":"2026-11-02T09:00:00"}
{"id":"e2","ticket":"T-1","type":"note","at":"2026-11-02 09:00"}
{"id":"e3","ticket":"T-1","type":"note","at":"2026-11-02"}
"#,
        expect![[r#"
            error events.jsonl:1: at: "2026-11-02T09:00:00" is a local time without a UTC offset: add Z or an offset such as +01:00
            error events.jsonl:2: at: "2026-11-02 09:00" is a local time without a UTC offset: add Z or an offset such as +01:00
            error events.jsonl:3: at: expected an RFC 3339 instant such as 2026-11-02T09:00:00+01:00, found "2026-11-02"
        "#]],
    );
}

#[test]
fn repeated_strings_share_one_allocation() {
    let parsed = parse_events(
        "events.jsonl",
        r#"{"id":"e1","ticket":"T-1","type":"created","at":"2026-11-02T09:00:00Z","customer":"acme","service":"hosting","priority":"P2","status":"open"}
{"id":"e2","ticket":"T-1","type":"updated","at":"2026-11-02T09:00:00Z","customer":"acme","status":"open"}
"#,
    );
    let [first, second] = &parsed.records[..] else { panic!("two records: {parsed:?}") };
    let (EventKind::Created(created), EventKind::Updated(updated)) =
        (&first.event.kind, &second.event.kind)
    else {
        panic!("created, then updated: {parsed:?}");
    };
    assert!(Arc::ptr_eq(&first.event.ticket, &second.event.ticket));
    assert!(Arc::ptr_eq(&created.customer, updated.customer.as_ref().unwrap()));
    assert!(Arc::ptr_eq(&created.status, updated.status.as_ref().unwrap()));
}

#[test]
fn written_events_read_back_equal() {
    let text = format!(
        "{}{}",
        documented_example(),
        r#"{"id":"e9","ticket":"T-2","type":"created","at":"2026-11-02T09:00:00.5+01:00","customer":"globex","service":"network","priority":"P1","ticketType":"request","requestType":"new_vm","status":"open","region":"apac","group":"l1"}
{"id":"e10","ticket":"T-2","type":"updated","at":"2026-11-02T09:01:00Z","priority":"P3","service":"hosting","customer":"acme","site":"munich","region":"emea","group":"l2","requestType":"firewall"}
{"id":"e11","ticket":"T-2","type":"comment","at":"2026-11-02T09:02:00Z","author":"customer","public":false}
{"id":"e12","ticket":"T-2","type":"note","at":"2026-11-02T09:03:00Z"}
{"id":"e13","ticket":"T-2","type":"reopened","at":"2026-11-02T09:04:00Z"}
{"id":"e14","ticket":"T-2","type":"reopened","at":"2026-11-02T09:05:00Z","status":"open"}
{"id":"e15","ticket":"T-2","type":"rating","at":"2026-11-02T09:06:00Z","score":"good"}
{"id":"e16","ticket":"T-2","type":"rating","at":"2026-11-02T09:07:00Z","score":"bad","comment":"slow \"fix\"\n"}
"#
    );
    let parsed = parse_events("events.jsonl", &text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let events: Vec<TicketEvent> = parsed.records.into_iter().map(|record| record.event).collect();

    let mut written = String::new();
    write_jsonl(&events, &mut written);
    let reread = parse_events("written.jsonl", &written);
    assert!(reread.errors.is_empty(), "{:?}", reread.errors);
    let reread: Vec<TicketEvent> = reread.records.into_iter().map(|record| record.event).collect();
    assert_eq!(reread, events);

    for event in &events {
        let extra: Map<String, Value> =
            [("crm".to_owned(), json!({"id": 7}))].into_iter().collect();
        let (reread, reread_extra) = parse_event(&to_json(event, &extra)).unwrap();
        assert_eq!((&reread, &reread_extra), (event, &extra));
    }
}

#[test]
fn write_jsonl_writes_fields_in_documented_order() {
    let parsed = parse_events("events.jsonl", &documented_example());
    let mut written = String::new();
    write_jsonl(parsed.records.iter().map(|record| &record.event), &mut written);
    expect![[r#"
        {"v":1,"id":"e1","ticket":"T-1001","type":"created","at":"2026-11-02T08:00:00Z","customer":"acme","service":"hosting","priority":"P2","ticketType":"incident","status":"new","site":"munich","externalRef":"ZD-48213"}
        {"v":1,"id":"e2","ticket":"T-1001","type":"comment","at":"2026-11-02T08:20:00Z","author":"agent","public":true}
        {"v":1,"id":"e3","ticket":"T-1001","type":"updated","at":"2026-11-02T08:21:00Z","status":"waiting_on_customer"}
        {"v":1,"id":"e4","ticket":"T-1001","type":"comment","at":"2026-11-02T10:02:00Z","author":"customer","public":true}
        {"v":1,"id":"e5","ticket":"T-1001","type":"updated","at":"2026-11-02T10:03:00Z","status":"open"}
        {"v":1,"id":"e6","ticket":"T-1001","type":"solved","at":"2026-11-02T14:40:00Z"}
        {"v":1,"id":"e7","ticket":"T-1001","type":"closed","at":"2026-11-05T14:40:00Z"}
        {"v":1,"id":"e8","ticket":"T-1001","type":"rating","at":"2026-11-05T17:12:00Z","score":5,"comment":"quick and friendly"}
    "#]]
    .assert_eq(&written);
}

#[test]
fn to_json_lets_the_event_win_over_extra_fields_of_the_same_name() {
    let (event, _) = parse_event(&json!({
        "id": "e1", "ticket": "T-1", "type": "note", "at": "2026-11-02T09:00:00Z",
    }))
    .unwrap();
    let extra: Map<String, Value> =
        [("type".to_owned(), json!("spam")), ("crm".to_owned(), json!(7))].into_iter().collect();
    expect![[
        r#"{"at":"2026-11-02T09:00:00Z","crm":7,"id":"e1","ticket":"T-1","type":"note","v":1}"#
    ]]
    .assert_eq(&to_json(&event, &extra).to_string());
}

#[test]
fn parse_event_reads_one_object() {
    let parsed = parse_event(&json!({
        "v": 1, "id": "e1", "ticket": "T-1", "type": "comment", "at": "2026-11-02T09:00:00Z",
        "author": "customer", "via": "portal",
    }));
    expect![[r#"
        Ok(
            (
                TicketEvent {
                    id: "e1",
                    ticket: "T-1",
                    at: 2026-11-02T09:00:00Z,
                    kind: Comment {
                        author: Customer,
                        public: true,
                    },
                },
                {
                    "via": String("portal"),
                },
            ),
        )
    "#]]
    .assert_debug_eq(&parsed);
    expect![[r#"
        Err(
            (
                None,
                "expected a JSON object, found \"e1\"",
            ),
        )
    "#]]
    .assert_debug_eq(&parse_event(&json!("e1")));
    expect![[r#"
        Err(
            (
                Some(
                    "public",
                ),
                "expected true or false, found 1",
            ),
        )
    "#]]
    .assert_debug_eq(&parse_event(&json!({
        "id": "e1", "ticket": "T-1", "type": "comment", "at": "2026-11-02T09:00:00Z",
        "author": "agent", "public": 1,
    })));
}
