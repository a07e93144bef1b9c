//! Helpdesk adapters over real HTTP, on SQLite and PostgreSQL: each built-in adapter turns the
//! payloads its helpdesk documents into ticket events (read back with
//! `GET /api/v1/tickets/{ticket}/events`), a redelivered payload is a duplicate, a generic
//! mapping reads fields through JSON pointers, and refused payloads get a 4xx naming the field
//! and wait in the dead-letter log.
//!
//! The payloads are in `fixtures/adapters/`:
//!
//! - `zammad-default-payload.json`: Zammad's default webhook payload, as
//!   <https://admin-docs.zammad.org/en/latest/manage/webhook/payload.html> shows it
//!   (`manage/webhook/payload.rst` in zammad/zammad-admin-documentation; the 5.x copy of the
//!   page has trailing commas, which Zammad does not send and the later pages dropped).
//! - `jira-issue-updated-callback.json`: "Example callback for an issue-related event" from
//!   <https://developer.atlassian.com/server/jira/platform/webhooks/>, as printed there: the
//!   priority as a bare name, `timestamp` twice (the last one counts) and as text.
//!   `jira-issue-resolved.json` is the same issue in the shape Jira Cloud delivers
//!   (<https://developer.atlassian.com/cloud/jira/platform/webhooks/>): `timestamp` in
//!   milliseconds, priority and status as objects with `name`, a `changelog`.
//! - `zendesk-ticket-*.json`: Zendesk ticket event webhooks, with the envelope of
//!   <https://developer.zendesk.com/api-reference/webhooks/event-types/webhook-event-types/>
//!   (`type`, `account_id`, `id`, `time`, `zendesk_event_version`, `subject`, `detail`,
//!   `event`) and the `detail` properties and `event` objects of
//!   <https://developer.zendesk.com/api-reference/webhooks/event-types/ticket-events/>
//!   (`ticket.created`, `ticket.comment_added`, `ticket.status_changed`).

use std::path::Path;

use expect_test::{Expect, expect};
use serde_json::{Value, json};

use crate::backends;
use crate::http::{Reply, Server, token};

/// How this installation's helpdesks name customers, services and priorities.
const ADAPTERS: &str = "\
zammad:
  values:
    customer: { Awesome Customer Inc.: acme }
    service: { Service Desk: cloud-hosting }
jira:
  constants: { customer: acme, service: cloud-hosting }
zendesk:
  ticketPrefix: ZD-
  fields: { service: /detail/brand_id }
  values:
    customer: { '8447346622462': globex }
    service: { '8447346621310': cloud-hosting }
generic:
  portal:
    fields:
      id: /delivery
      ticket: /case/ref
      at: /case/changed
      type: /action
      customer: /case/account
      service: /case/product
      priority: /case/urgency
      author: /by
    values:
      type: { opened: created, replied: comment, resolved: solved }
      priority: { critical: P1, normal: P3 }
";

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/adapters").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn post(server: &Server, path: &str, token: &str, body: &str) -> Reply {
    server.send("POST", path, &[("Authorization", &bearer(token))], body.as_bytes())
}

fn put_adapters(server: &Server, token: &str, yaml: &str) -> Reply {
    let headers = [("Authorization", bearer(token)), ("Content-Type", "text/yaml".to_owned())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    server.send("PUT", "/api/v1/adapters", &headers, yaml.as_bytes())
}

/// The server, an admin token for reading and configuring, and an ingest token a helpdesk
/// uses, with the adapters document stored.
fn start(backend: &crate::Backend, helpdesk: &str) -> (Server, String, String) {
    let admin = token(backend, "root", "admin", &[]);
    let hook = token(backend, helpdesk, "agent", &["--scope", "ingest"]);
    let server = Server::start(backend);
    let stored = put_adapters(&server, &admin, ADAPTERS);
    assert_eq!(stored.status, 200, "{}", stored.body);
    (server, admin, hook)
}

/// The ticket's events as the log holds them, one JSON object per line.
#[track_caller]
fn check_ticket(server: &Server, token: &str, ticket: &str, expect: Expect) {
    let reply = server.get(&format!("/api/v1/tickets/{ticket}/events"), token);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let events = reply.json()["events"].as_array().expect("events").clone();
    let lines: String = events.iter().map(|listed| format!("{}\n", listed["event"])).collect();
    expect.assert_eq(&lines);
}

#[track_caller]
fn assert_counts(reply: &Reply, new: u64, duplicates: u64) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(
        (answer["new"].as_u64(), answer["duplicates"].as_u64()),
        (Some(new), Some(duplicates)),
        "{}",
        reply.body
    );
}

#[test]
fn zammad_default_payloads_become_events_and_a_redelivery_counts_once() {
    for backend in backends("adapters_zammad") {
        let (server, admin, hook) = start(&backend, "zammad");
        let payload = fixture("zammad-default-payload.json");
        let created = post(&server, "/api/v1/adapters/zammad", &hook, &payload);
        assert_counts(&created, 2, 0);
        assert_eq!(created.json()["adapter"], "zammad");
        assert_eq!(created.json()["ticket"], "10081");
        // Zammad retries a webhook that failed: the same payload again changes nothing.
        assert_counts(&post(&server, "/api/v1/adapters/zammad", &hook, &payload), 0, 2);

        // A later trigger: the agent raised the priority and closed the ticket. The token
        // comes in the query, as for a helpdesk that cannot set a header.
        let mut closed: Value = serde_json::from_str(&payload).unwrap();
        closed["ticket"]["state"] = json!("closed");
        closed["ticket"]["priority"]["name"] = json!("3 high");
        closed["ticket"]["updated_at"] = json!("2020-11-13T16:02:10.112Z");
        closed.as_object_mut().unwrap().remove("article");
        let path = format!("/api/v1/adapters/zammad?token={hook}");
        let reply = server.send("POST", &path, &[], closed.to_string().as_bytes());
        assert_counts(&reply, 2, 0);

        check_ticket(
            &server,
            &admin,
            "10081",
            expect![[r#"
                {"at":"2020-11-13T14:34:35.282Z","customer":"acme","group":"Service Desk","id":"zammad:81:2020-11-13T14:34:35.333Z:created","priority":"P2","service":"cloud-hosting","status":"open","ticket":"10081","ticketType":"incident","type":"created","v":1}
                {"at":"2020-11-13T14:34:35.318Z","author":"customer","id":"zammad:81:2020-11-13T14:34:35.333Z:comment","public":true,"ticket":"10081","type":"comment","v":1}
                {"at":"2020-11-13T16:02:10.112Z","id":"zammad:81:2020-11-13T16:02:10.112Z:closed","ticket":"10081","type":"closed","v":1}
                {"at":"2020-11-13T16:02:10.112Z","id":"zammad:81:2020-11-13T16:02:10.112Z:updated","priority":"P1","ticket":"10081","type":"updated","v":1}
            "#]],
        );
    }
}

#[test]
fn jira_callbacks_become_events() {
    for backend in backends("adapters_jira") {
        let (server, admin, hook) = start(&backend, "jira");
        let callback = fixture("jira-issue-updated-callback.json");
        // The log does not know JRA-20002 yet: the callback creates it, and its comment is
        // an agent's (the reporter is not in the payload).
        assert_counts(&post(&server, "/api/v1/adapters/jira", &hook, &callback), 2, 0);
        assert_counts(&post(&server, "/api/v1/adapters/jira", &hook, &callback), 0, 2);
        assert_counts(
            &post(&server, "/api/v1/adapters/jira", &hook, &fixture("jira-issue-resolved.json")),
            2,
            0,
        );
        check_ticket(
            &server,
            &admin,
            "JRA-20002",
            expect![[r#"
                {"at":"2009-12-17T05:46:10.612Z","customer":"acme","id":"jira:99291:2011-06-07T15:31:26.805Z:created","priority":"P3","service":"cloud-hosting","status":"new","ticket":"JRA-20002","ticketType":"incident","type":"created","v":1}
                {"at":"2011-06-07T15:31:26.805Z","author":"agent","id":"jira:99291:2011-06-07T15:31:26.805Z:comment","public":true,"ticket":"JRA-20002","type":"comment","v":1}
                {"at":"2018-05-07T13:03:57.764Z","id":"jira:99291:2018-05-07T13:03:57.764Z:solved","ticket":"JRA-20002","type":"solved","v":1}
                {"at":"2018-05-07T13:03:57.764Z","id":"jira:99291:2018-05-07T13:03:57.764Z:updated","priority":"P2","ticket":"JRA-20002","type":"updated","v":1}
            "#]],
        );
        // Events Accord has no use for are acknowledged, not refused.
        let deleted = post(
            &server,
            "/api/v1/adapters/jira",
            &hook,
            r#"{"webhookEvent": "jira:issue_deleted"}"#,
        );
        assert_eq!(deleted.status, 200, "{}", deleted.body);
        assert_eq!(
            deleted.json()["ignored"],
            "webhookEvent jira:issue_deleted does not change SLA clocks"
        );
    }
}

#[test]
fn zendesk_ticket_events_and_a_generic_mapping_become_events() {
    for backend in backends("adapters_zendesk") {
        let (server, admin, hook) = start(&backend, "zendesk");
        for name in [
            "zendesk-ticket-created.json",
            "zendesk-ticket-comment-added.json",
            "zendesk-ticket-status-changed.json",
        ] {
            let reply = post(&server, "/api/v1/adapters/zendesk", &hook, &fixture(name));
            assert_counts(&reply, 1, 0);
            assert_counts(&post(&server, "/api/v1/adapters/zendesk", &hook, &fixture(name)), 0, 1);
        }
        check_ticket(
            &server,
            &admin,
            "ZD-5158",
            expect![[r#"
                {"at":"2025-01-08T10:12:07Z","customer":"globex","group":"8447320466430","id":"zendesk:cbe4028c-7239-495d-b020-f22348516046:created","priority":"P4","service":"cloud-hosting","status":"open","ticket":"ZD-5158","ticketType":"incident","type":"created","v":1}
                {"at":"2025-01-08T10:40:12.118440219Z","author":"agent","id":"zendesk:7d2b4a4e-5f0c-4c4f-9a57-0c1e8f7d9a11:comment","public":true,"ticket":"ZD-5158","type":"comment","v":1}
                {"at":"2025-01-08T13:05:44.901223117Z","id":"zendesk:0f4a9d52-3c3e-4a8e-b1c7-2d9e6f1a8b30:solved","ticket":"ZD-5158","type":"solved","v":1}
            "#]],
        );

        // A generic mapping: any JSON, each field through its pointer and value map.
        let opened = json!({"delivery": "d-1", "action": "opened", "by": "customer",
            "case": {"ref": "C-7", "changed": "2026-11-02T09:00:00+01:00", "account": "acme",
                     "product": "cloud-hosting", "urgency": "critical"}});
        let reply = post(&server, "/api/v1/adapters/generic/portal", &hook, &opened.to_string());
        assert_counts(&reply, 1, 0);
        assert_eq!(reply.json()["adapter"], "generic/portal");
        let replied = json!({"delivery": "d-2", "action": "replied", "by": "agent",
            "case": {"ref": "C-7", "changed": 1_793_607_000_000_i64}});
        assert_counts(
            &post(&server, "/api/v1/adapters/generic/portal", &hook, &replied.to_string()),
            1,
            0,
        );
        assert_counts(
            &post(&server, "/api/v1/adapters/generic/portal", &hook, &replied.to_string()),
            0,
            1,
        );
        check_ticket(
            &server,
            &admin,
            "C-7",
            expect![[r#"
                {"at":"2026-11-02T08:00:00Z","author":"customer","customer":"acme","id":"portal:d-1","priority":"P1","service":"cloud-hosting","status":"new","ticket":"C-7","ticketType":"incident","type":"created","v":1}
                {"at":"2026-11-02T08:10:00Z","author":"agent","id":"portal:d-2","public":true,"ticket":"C-7","type":"comment","v":1}
            "#]],
        );
    }
}

#[test]
fn refused_payloads_name_the_field_and_wait_in_the_dead_letter_log() {
    for backend in backends("adapters_refused") {
        let (server, admin, hook) = start(&backend, "zammad");
        let viewer = token(&backend, "wallboard", "viewer", &[]);
        let customer = token(&backend, "acme-portal", "customer", &["--customer", "acme"]);

        // Not JSON at all.
        let broken = post(&server, "/api/v1/adapters/zammad", &hook, "{\"ticket\": ");
        assert_eq!(broken.status, 400, "{}", broken.body);
        assert_eq!(broken.json()["error"]["field"], "body");
        // Not a Zammad payload: 422, naming where the ticket was expected.
        let unknown = post(&server, "/api/v1/adapters/zammad", &hook, r#"{"event": "ping"}"#);
        assert_eq!(unknown.status, 422, "{}", unknown.body);
        expect![[r#"{"error":{"code":"unknown_payload","field":"/ticket","message":"not a Zammad webhook payload: expected the ticket object at /ticket (the default payload; a custom payload needs a generic mapping)"}}"#]]
            .assert_eq(&unknown.body);
        // A Zammad payload whose organization the document does not map and that has no
        // group: the event field and the payload's pointer are named.
        let mut payload: Value =
            serde_json::from_str(&fixture("zammad-default-payload.json")).unwrap();
        payload["ticket"].as_object_mut().unwrap().remove("group");
        let no_service = post(&server, "/api/v1/adapters/zammad", &hook, &payload.to_string());
        assert_eq!(no_service.status, 400, "{}", no_service.body);
        expect![[r#"{"error":{"code":"invalid_field","field":"/ticket/group/name","message":"missing: a new ticket needs its service, which the Zammad adapter reads at /ticket/group/name"}}"#]]
            .assert_eq(&no_service.body);
        // A value Accord refuses: the event field's check, at the payload's pointer.
        let jira = json!({"webhookEvent": "jira:issue_created", "timestamp": 1_700_000_000_000_i64,
            "issue": {"id": "1", "key": "SD-1", "fields": {"priority": {"name": " "}}}});
        let blank = post(&server, "/api/v1/adapters/jira", &hook, &jira.to_string());
        assert_eq!(blank.status, 400, "{}", blank.body);
        assert_eq!(blank.json()["error"]["field"], "/issue/fields/priority");
        assert!(
            blank.json()["error"]["message"].as_str().unwrap().starts_with("priority: "),
            "{}",
            blank.body
        );
        // No such generic mapping.
        let nowhere = post(&server, "/api/v1/adapters/generic/mailroom", &hook, "{}");
        assert_eq!(nowhere.status, 404, "{}", nowhere.body);

        // Newest first, each with the adapter, reason, field, sender and payload.
        let letters = server.get("/api/v1/dead-letters", &admin);
        assert_eq!(letters.status, 200, "{}", letters.body);
        let letters = letters.json();
        let listed: Vec<String> = letters["deadLetters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|letter| {
                format!(
                    "{} {} {} by {}: {}",
                    letter["adapter"].as_str().unwrap(),
                    letter["field"],
                    letter["payloadBytes"],
                    letter["principal"].as_str().unwrap(),
                    letter["reason"].as_str().unwrap()
                )
            })
            .collect();
        expect![[r#"
            generic/mailroom null 2 by token:zammad: no generic mapping mailroom: add it under generic.mailroom in the adapters document (PUT /api/v1/adapters)
            jira "/issue/fields/priority" 130 by token:zammad: priority: expected a non-empty string, found " "
            zammad "/ticket/group/name" 5339 by token:zammad: missing: a new ticket needs its service, which the Zammad adapter reads at /ticket/group/name
            zammad "/ticket" 17 by token:zammad: not a Zammad webhook payload: expected the ticket object at /ticket (the default payload; a custom payload needs a generic mapping)
            zammad "body" 11 by token:zammad: invalid JSON at line 1 column 11: EOF while parsing a value at line 1 column 11
        "#]]
        .assert_eq(&(listed.join("\n") + "\n"));
        assert_eq!(letters["deadLetters"][3]["payload"], r#"{"event": "ping"}"#);
        assert_eq!(letters["next"], Value::Null);
        let page = server.get("/api/v1/dead-letters?limit=2", &admin).json();
        assert_eq!(page["deadLetters"].as_array().unwrap().len(), 2);
        let rest =
            server.get(&format!("/api/v1/dead-letters?before={}", page["next"]), &admin).json();
        assert_eq!(rest["deadLetters"].as_array().unwrap().len(), 3);
        // Nothing was appended from any of them.
        assert_eq!(server.get("/api/v1/events", &admin).json()["events"], json!([]));

        // Neither a viewer nor a customer may post; a customer may not read the letters,
        // and a wrong token is no one.
        let payload = fixture("zammad-default-payload.json");
        for (who, token) in [("viewer", &viewer), ("customer", &customer)] {
            let reply = post(&server, "/api/v1/adapters/zammad", token, &payload);
            assert_eq!(reply.status, 403, "{who}: {}", reply.body);
        }
        assert_eq!(server.get("/api/v1/dead-letters", &customer).status, 403);
        assert_eq!(server.get("/api/v1/dead-letters", &viewer).status, 200);
        let stranger = server.send(
            "POST",
            "/api/v1/adapters/zammad?token=acc_nothing",
            &[],
            payload.as_bytes(),
        );
        assert_eq!(stranger.status, 401, "{}", stranger.body);
        // Refused callers leave no dead letters.
        let after = server.get("/api/v1/dead-letters", &admin).json();
        assert_eq!(after["deadLetters"].as_array().unwrap().len(), 5);
    }
}
