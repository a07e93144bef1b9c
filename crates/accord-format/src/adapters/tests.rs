use std::path::Path;

use expect_test::{Expect, expect};
use serde_json::{Value, json};

use super::{Adapters, Helpdesk, Known, Read, parse_adapters, plan, read, read_generic};

fn adapters(yaml: &str) -> Adapters {
    parse_adapters(Path::new("adapters.yaml"), yaml).expect("a valid adapters document").0
}

#[track_caller]
fn check_errors(yaml: &str, expect: Expect) {
    let errors = parse_adapters(Path::new("adapters.yaml"), yaml).expect_err("errors");
    expect.assert_eq(&format!("{errors}\n"));
}

/// The events of one payload for a ticket the log knows as `known`, one per line, or the
/// error.
#[track_caller]
fn check_events(helpdesk: Helpdesk, yaml: &str, payload: &Value, known: &Known, expect: Expect) {
    let mapping = adapters(yaml).mapping(helpdesk);
    let actual = match read(helpdesk, &mapping, payload) {
        Ok(Read::Delivery(delivery)) => match plan(helpdesk, &delivery, known) {
            Ok(events) => events.iter().map(|event| format!("{event}\n")).collect::<String>(),
            Err(error) => format!("error at {}: {}\n", error.field, error.message),
        },
        Ok(Read::Ignored(reason)) => format!("ignored: {reason}\n"),
        Err(error) => format!(
            "{} at {}: {}\n",
            if error.unknown { "unknown" } else { "error" },
            error.field,
            error.message
        ),
    };
    expect.assert_eq(&actual);
}

fn zammad(state: &str, article: Option<Value>) -> Value {
    let mut payload = json!({"ticket": {
        "id": 81, "number": "10081", "state": state,
        "created_at": "2020-11-13T14:34:35.282Z", "updated_at": "2020-11-13T15:00:00.000Z",
        "group": {"name": "Service Desk"}, "priority": {"name": "3 high"},
        "organization": {"name": "Awesome Customer Inc."}
    }});
    if let Some(article) = article {
        payload["article"] = article;
    }
    payload
}

const ZAMMAD: &str = "zammad:\n  values:\n    customer: { Awesome Customer Inc.: acme }\n    service: { Service Desk: cloud-hosting }\n";

fn known(values: &[(&str, &str)], stage: super::Stage) -> Known {
    Known {
        exists: true,
        values: values
            .iter()
            .map(|(field, value)| ((*field).to_owned(), (*value).to_owned()))
            .collect(),
        stage,
    }
}

#[test]
fn a_new_zammad_ticket_is_created_with_its_comment() {
    let article =
        json!({"sender": "Customer", "internal": false, "created_at": "2020-11-13T14:34:35.318Z"});
    check_events(
        Helpdesk::Zammad,
        ZAMMAD,
        &zammad("open", Some(article)),
        &Known::default(),
        expect![[r#"
            {"at":"2020-11-13T14:34:35.282Z","customer":"acme","group":"Service Desk","id":"zammad:81:2020-11-13T15:00:00Z:created","priority":"P1","service":"cloud-hosting","status":"open","ticket":"10081","type":"created"}
            {"at":"2020-11-13T14:34:35.318Z","author":"customer","id":"zammad:81:2020-11-13T15:00:00Z:comment","public":true,"ticket":"10081","type":"comment"}
        "#]],
    );
}

#[test]
fn a_known_ticket_gets_only_the_fields_that_changed() {
    let before = known(
        &[
            ("customer", "acme"),
            ("service", "cloud-hosting"),
            ("priority", "P2"),
            ("status", "open"),
            ("group", "Service Desk"),
        ],
        super::Stage::Open,
    );
    check_events(
        Helpdesk::Zammad,
        ZAMMAD,
        &zammad("pending reminder", None),
        &before,
        expect![[r#"
            {"at":"2020-11-13T15:00:00Z","id":"zammad:81:2020-11-13T15:00:00Z:updated","priority":"P1","status":"waiting_on_customer","ticket":"10081","type":"updated"}
        "#]],
    );
}

#[test]
fn statuses_solve_close_and_reopen_a_known_ticket() {
    let open = known(&[("status", "open")], super::Stage::Open);
    let closed = known(&[("status", "closed")], super::Stage::Closed);
    let yaml =
        "zammad:\n  fields: { customer: /none, service: /none, priority: /none, group: /none }\n";
    check_events(
        Helpdesk::Zammad,
        yaml,
        &zammad("pending close", None),
        &open,
        expect![[r#"
            {"at":"2020-11-13T15:00:00Z","id":"zammad:81:2020-11-13T15:00:00Z:solved","ticket":"10081","type":"solved"}
        "#]],
    );
    check_events(
        Helpdesk::Zammad,
        yaml,
        &zammad("open", None),
        &closed,
        expect![[r#"
            {"at":"2020-11-13T15:00:00Z","id":"zammad:81:2020-11-13T15:00:00Z:reopened","status":"open","ticket":"10081","type":"reopened"}
        "#]],
    );
    // Nothing changed: nothing to record.
    check_events(Helpdesk::Zammad, yaml, &zammad("open", None), &open, expect![[""]]);
}

#[test]
fn a_new_ticket_without_a_customer_names_where_the_adapter_looks() {
    let mut payload = zammad("open", None);
    payload["ticket"].as_object_mut().unwrap().remove("organization");
    check_events(
        Helpdesk::Zammad,
        ZAMMAD,
        &payload,
        &Known::default(),
        expect![[r#"
            error at /ticket/organization/name: missing: a new ticket needs its customer, which the Zammad adapter reads at /ticket/organization/name
        "#]],
    );
    check_events(
        Helpdesk::Jira,
        "",
        &json!({"webhookEvent": "jira:issue_created", "timestamp": 1_700_000_000_000_i64,
                "issue": {"id": "1", "key": "SD-1", "fields": {"priority": {"name": "High"}}}}),
        &Known::default(),
        expect![[r#"
            error at customer: a new ticket needs its customer: the adapters document gives the Jira adapter none (set jira.fields.customer to a JSON pointer or jira.constants.customer)
        "#]],
    );
}

#[test]
fn unknown_and_malformed_payloads_name_the_field() {
    check_events(
        Helpdesk::Zammad,
        "",
        &json!({"hello": 1}),
        &Known::default(),
        expect![[r#"
        unknown at /ticket: not a Zammad webhook payload: expected the ticket object at /ticket (the default payload; a custom payload needs a generic mapping)
    "#]],
    );
    let mut payload = zammad("open", None);
    payload["ticket"]["updated_at"] = json!("yesterday");
    check_events(
        Helpdesk::Zammad,
        ZAMMAD,
        &payload,
        &Known::default(),
        expect![[r#"
        error at /ticket/updated_at: expected an instant such as 2026-11-02T09:00:00Z or milliseconds since 1970, found "yesterday"
    "#]],
    );
    let mut payload = zammad("open", None);
    payload["ticket"]["priority"] = json!({"name": ["high"]});
    check_events(
        Helpdesk::Zammad,
        ZAMMAD,
        &payload,
        &Known::default(),
        expect![[r#"
        error at /ticket/priority/name: priority: expected text, found a list of 1
    "#]],
    );
    check_events(
        Helpdesk::Jira,
        "",
        &json!({"webhookEvent": "sprint_started"}),
        &Known::default(),
        expect![[r#"
        unknown at /webhookEvent: unknown webhookEvent "sprint_started": expected jira:issue_created, jira:issue_updated or comment_created
    "#]],
    );
    check_events(
        Helpdesk::Jira,
        "",
        &json!({"webhookEvent": "jira:issue_deleted"}),
        &Known::default(),
        expect![[r#"
        ignored: webhookEvent jira:issue_deleted does not change SLA clocks
    "#]],
    );
    check_events(
        Helpdesk::Zendesk,
        "",
        &json!({"type": "zen:event-type:user.created"}),
        &Known::default(),
        expect![[r#"
        unknown at /type: "zen:event-type:user.created" is not a ticket event: connect the webhook to zen:event-type:ticket.* events only
    "#]],
    );
    check_events(
        Helpdesk::Zendesk,
        "",
        &json!([]),
        &Known::default(),
        expect![[r#"
        error at body: expected a JSON object, found a list (empty)
    "#]],
    );
}

#[test]
fn jira_instants_with_basic_offsets_and_milliseconds() {
    let payload = json!({"webhookEvent": "jira:issue_updated", "timestamp": 1_525_698_237_764_i64,
        "issue": {"id": "99291", "key": "JRA-20002",
                  "fields": {"created": "2009-12-16T23:46:10.612-0600", "priority": "Minor"}},
        "comment": {"id": "1", "created": "2011-06-07T10:31:26.805-0500", "author": {"name": "brollins"}}});
    check_events(
        Helpdesk::Jira,
        "jira:\n  constants: { customer: acme, service: cloud-hosting }\n",
        &payload,
        &Known::default(),
        expect![[r#"
            {"at":"2009-12-17T05:46:10.612Z","customer":"acme","id":"jira:99291:2018-05-07T13:03:57.764Z:created","priority":"P3","service":"cloud-hosting","ticket":"JRA-20002","type":"created"}
            {"at":"2011-06-07T15:31:26.805Z","author":"agent","id":"jira:99291:2018-05-07T13:03:57.764Z:comment","public":true,"ticket":"JRA-20002","type":"comment"}
        "#]],
    );
}

#[test]
fn a_redelivery_is_recognized_by_its_prefix() {
    let mapping = adapters(ZAMMAD).mapping(Helpdesk::Zammad);
    let Ok(Read::Delivery(delivery)) = read(Helpdesk::Zammad, &mapping, &zammad("open", None))
    else {
        panic!("a delivery")
    };
    let created = plan(Helpdesk::Zammad, &delivery, &Known::default()).unwrap();
    let at: jiff::Timestamp = "2020-11-13T14:34:35.282Z".parse().unwrap();
    let stored: Vec<(&str, jiff::Timestamp, &Value)> =
        created.iter().map(|event| (event["id"].as_str().unwrap(), at, event)).collect();
    // Its own events do not make the ticket known: it plans the same events again.
    let again = super::known(&delivery, stored.iter().copied());
    assert_eq!(again, Known::default());
    assert_eq!(plan(Helpdesk::Zammad, &delivery, &again).unwrap(), created);
}

#[test]
fn generic_mappings_read_each_field_through_its_pointer() {
    let yaml = "generic:
  statuspage:
    ticketPrefix: SP-
    fields: { id: /event/id, ticket: /incident/id, at: /event/at, type: /event/kind, priority: /incident/impact, public: /event/visible }
    constants: { customer: acme, service: cloud-hosting, author: agent }
    values:
      type: { opened: created, note: comment }
      priority: { critical: P1 }
      public: { shown: 'true' }
";
    let mapping = adapters(yaml).generic["statuspage"].clone();
    let payload = json!({"event": {"id": 7, "at": 1_762_070_400_000_i64, "kind": "opened", "visible": "shown"},
                         "incident": {"id": "42", "impact": "critical"}});
    let read = read_generic("statuspage", &mapping, &payload).unwrap();
    expect![[r#"{"at":"2025-11-02T08:00:00Z","author":"agent","customer":"acme","id":"statuspage:7","priority":"P1","public":true,"service":"cloud-hosting","ticket":"SP-42","type":"created"}"#]]
        .assert_eq(&read.event.to_string());
    assert_eq!(read.origins["priority"], "/incident/impact");
    let error = read_generic("statuspage", &mapping, &json!({"event": {"id": 7}})).unwrap_err();
    assert_eq!(error.field, "/event/at");
    assert_eq!(error.message, "missing: the event's at (mapping statuspage)");
}

#[test]
fn document_errors_have_lines_and_fields() {
    check_errors(
        "zammad:
  fields: { customer: ticket/org, colour: /x }
  constants: { customer: acme }
jira:
  values: { priority: { High: [P1] } }
generic:
  Bad Name: {}
  tool:
    fields: { ticket: /t }
    constants: { id: x }
mailbox: {}
",
        expect![[r#"
            adapters.yaml:11:1: mailbox: unknown field "mailbox": expected one of zammad, jira, zendesk, generic
            adapters.yaml:2:23: zammad.fields.customer: invalid JSON pointer "ticket/org": it starts with / (such as /ticket/priority/name)
            adapters.yaml:2:43: zammad.fields.colour: unknown event field "colour": expected one of ticket, customer, service, priority, status, ticketType, requestType, site, region, group, externalRef
            adapters.yaml:5:31: jira.values.priority.High: expected text, found a list
            adapters.yaml:7:13: generic.Bad Name: invalid mapping name "Bad Name": expected lowercase letters, digits and '-'
            adapters.yaml:9:5: generic.tool: id must come from the payload: give fields.id a JSON pointer
            adapters.yaml:9:5: generic.tool: missing fields.at: the JSON pointer to the event's at
            adapters.yaml:9:5: generic.tool: missing fields.type: the JSON pointer to the event's type
        "#]],
    );
}

#[test]
fn the_document_overlays_the_defaults() {
    let adapters = adapters(
        "zendesk:\n  fields: { service: /detail/brand_id }\n  values:\n    priority: { LOW: P3 }\n",
    );
    let mapping = adapters.mapping(Helpdesk::Zendesk);
    assert_eq!(mapping.values["priority"]["LOW"], "P3");
    assert_eq!(mapping.values["priority"]["URGENT"], "P1");
    assert_eq!(mapping.fields["service"], super::Source::Pointer("/detail/brand_id".to_owned()));
    assert_eq!(mapping.fields["ticket"], super::Source::Pointer("/detail/id".to_owned()));
}
