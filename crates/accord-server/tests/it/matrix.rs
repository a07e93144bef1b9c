//! The role matrix: every route the router serves, called by each kind of caller (anonymous,
//! admin, agent, viewer, and two customers), with the status each must get.
//!
//! The routes come from `accord_server::server::routes()`, the list the router is built from,
//! so a new route fails this test until it has a row here. A unit test in `server.rs` holds
//! `openapi.json` to the same list.
//!
//! What a status means: 401 is "who are you", 403 is "not for you", and 404 on another
//! customer's ticket or agreement is "not for you" too (a customer cannot tell it from one that
//! does not exist). Any other status means the request got past authentication and
//! authorization: writes are sent with bodies that are invalid (400) or harmless (an empty
//! batch, a check-in), since what is checked here is the decision, not the write.

use std::collections::BTreeSet;

use serde_json::json;

use crate::Backend;
use crate::backends;
use crate::http::{Server, activate_examples, token};

/// The callers, in the order of a row's statuses.
const CALLERS: [&str; 6] = ["anonymous", "admin", "agent", "viewer", "acme", "globex"];

/// A request body: its content type and text.
type Body = Option<(&'static str, &'static str)>;

const JSON: &str = "application/json";
const YAML: &str = "text/yaml";

/// One call: the method, the route as the router names it, the path with sample parameters,
/// the body, and the status for each of [`CALLERS`].
struct Row {
    method: &'static str,
    route: &'static str,
    path: &'static str,
    body: Body,
    expect: [u16; 6],
}

const fn row(
    method: &'static str,
    route: &'static str,
    path: &'static str,
    body: Body,
    expect: [u16; 6],
) -> Row {
    Row { method, route, path, body, expect }
}

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // The statuses are for: anonymous, admin, agent, viewer, acme, globex.
    row("GET", "/healthz", "/healthz", None, [200, 200, 200, 200, 200, 200]),
    row("GET", "/readyz", "/readyz", None, [200, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", None, [200, 200, 200, 200, 200, 200]),
    row("GET", "/metrics", "/metrics", None, [401, 200, 200, 200, 403, 403]),
    // Signing in needs no principal: a body without credentials is a 400 for everyone.
    row("POST", "/api/v1/login", "/api/v1/login", Some((JSON, "{}")), [400, 400, 400, 400, 400, 400]),
    // Without a session there is nothing to end, and signing out succeeds.
    row("POST", "/api/v1/logout", "/api/v1/logout", None, [204, 204, 204, 204, 204, 204]),
    row("GET", "/api/v1/me", "/api/v1/me", None, [401, 200, 200, 200, 200, 200]),
    // An empty batch: 400 for those who may ingest.
    row("POST", "/api/v1/events", "/api/v1/events", Some((JSON, "[]")), [401, 400, 400, 403, 403, 403]),
    row("GET", "/api/v1/events", "/api/v1/events", None, [401, 200, 200, 200, 403, 403]),
    row("GET", "/api/v1/tickets/{ticket}/events", "/api/v1/tickets/T-ACME/events", None, [401, 200, 200, 200, 200, 404]),
    row("GET", "/api/v1/tickets/{ticket}/events", "/api/v1/tickets/T-GLOBEX/events", None, [401, 200, 200, 200, 404, 200]),
    row("GET", "/api/v1/tickets/{ticket}/clocks", "/api/v1/tickets/T-ACME/clocks", None, [401, 200, 200, 200, 200, 404]),
    row("GET", "/api/v1/tickets/{ticket}/clocks", "/api/v1/tickets/T-GLOBEX/clocks", None, [401, 200, 200, 200, 404, 200]),
    row("GET", "/api/v1/clocks", "/api/v1/clocks", None, [401, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/clocks", "/api/v1/clocks?customer=acme", None, [401, 200, 200, 200, 200, 404]),
    row("GET", "/api/v1/agreements", "/api/v1/agreements", None, [401, 200, 200, 200, 200, 200]),
    // A body without documents: 400 for those who may apply.
    row("POST", "/api/v1/agreements/apply", "/api/v1/agreements/apply", Some((JSON, "{}")), [401, 400, 400, 403, 403, 403]),
    row("GET", "/api/v1/agreements/{name}", "/api/v1/agreements/acme-sla", None, [401, 200, 200, 200, 200, 404]),
    row("GET", "/api/v1/agreements/{name}", "/api/v1/agreements/globex-cloud-hosting-sla", None, [401, 200, 200, 200, 404, 200]),
    row("GET", "/api/v1/agreements/{name}", "/api/v1/agreements/hostico-uc", None, [401, 200, 200, 200, 404, 404]),
    row("GET", "/api/v1/agreements/{name}/diff", "/api/v1/agreements/acme-sla/diff?from=1&to=1", None, [401, 200, 200, 200, 200, 404]),
    row("GET", "/api/v1/agreements/{name}/diff", "/api/v1/agreements/globex-cloud-hosting-sla/diff?from=1&to=1", None, [401, 200, 200, 200, 404, 200]),
    // An unknown action: 400 for those who may move revisions.
    row("POST", "/api/v1/agreements/{name}/lifecycle", "/api/v1/agreements/acme-sla/lifecycle", Some((JSON, r#"{"action": "none"}"#)), [401, 400, 400, 403, 403, 403]),
    row("GET", "/api/v1/terms", "/api/v1/terms?customer=acme&service=cloud-hosting", None, [401, 200, 200, 200, 200, 404]),
    row("GET", "/api/v1/customers", "/api/v1/customers", None, [401, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/customers/{name}", "/api/v1/customers/acme", None, [401, 200, 200, 200, 200, 404]),
    row("GET", "/api/v1/customers/{name}", "/api/v1/customers/globex", None, [401, 200, 200, 200, 404, 200]),
    row("GET", "/api/v1/services", "/api/v1/services", None, [401, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/calendars", "/api/v1/calendars", None, [401, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/maintenance", "/api/v1/maintenance", None, [401, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/terms", "/api/v1/terms?customer=globex&service=cloud-hosting", None, [401, 200, 200, 200, 404, 200]),
    row("GET", "/api/v1/probes", "/api/v1/probes", None, [401, 200, 200, 200, 200, 200]),
    // A probe file that is not one: 400 for those who may store probes.
    row("PUT", "/api/v1/probes", "/api/v1/probes", Some((YAML, "probes: 5\n")), [401, 400, 400, 403, 403, 403]),
    // A check-in now is harmless.
    row("POST", "/api/v1/heartbeats/{name}", "/api/v1/heartbeats/backup-job", None, [401, 200, 200, 403, 403, 403]),
    row("GET", "/api/v1/adapters", "/api/v1/adapters", None, [401, 200, 200, 200, 403, 403]),
    // An adapters document with an unknown section: 400 for those who may store it.
    row("PUT", "/api/v1/adapters", "/api/v1/adapters", Some((YAML, "mailbox: {}\n")), [401, 400, 400, 403, 403, 403]),
    // A payload that is not an object: 400 for those who may ingest.
    row("POST", "/api/v1/adapters/zammad", "/api/v1/adapters/zammad", Some((JSON, "[]")), [401, 400, 400, 403, 403, 403]),
    row("POST", "/api/v1/adapters/jira", "/api/v1/adapters/jira", Some((JSON, "[]")), [401, 400, 400, 403, 403, 403]),
    row("POST", "/api/v1/adapters/zendesk", "/api/v1/adapters/zendesk", Some((JSON, "[]")), [401, 400, 400, 403, 403, 403]),
    row("POST", "/api/v1/adapters/generic/{mapping}", "/api/v1/adapters/generic/none", Some((JSON, "[]")), [401, 400, 400, 403, 403, 403]),
    row("GET", "/api/v1/dead-letters", "/api/v1/dead-letters", None, [401, 200, 200, 200, 403, 403]),
    row("GET", "/api/v1/notifications", "/api/v1/notifications", None, [401, 200, 200, 200, 403, 403]),
    // Settings that are not a list of recipients: 400 for those who may store them.
    row("PUT", "/api/v1/notifications", "/api/v1/notifications", Some((YAML, "recipients: 5\n")), [401, 400, 400, 403, 403, 403]),
    row("GET", "/api/v1/escalations", "/api/v1/escalations", None, [401, 200, 200, 200, 403, 403]),
    row("GET", "/api/v1/deliveries", "/api/v1/deliveries", None, [401, 200, 200, 200, 403, 403]),
    // Scheduled reports: a customer sees its own sends only.
    row("GET", "/api/v1/report-sends", "/api/v1/report-sends", None, [401, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/report-sends", "/api/v1/report-sends?customer=acme", None, [401, 200, 200, 200, 200, 404]),
    // Empty lists: 400 for those who may record.
    row("POST", "/api/v1/probe-results", "/api/v1/probe-results", Some((JSON, "[]")), [401, 400, 400, 403, 403, 403]),
    row("POST", "/api/v1/request-counts", "/api/v1/request-counts", Some((JSON, "[]")), [401, 400, 400, 403, 403, 403]),
    row("POST", "/api/v1/incidents", "/api/v1/incidents", Some((JSON, "[]")), [401, 400, 400, 403, 403, 403]),
    row("GET", "/api/v1/incidents", "/api/v1/incidents?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", None, [401, 200, 200, 200, 403, 403]),
    row("GET", "/api/v1/availability", "/api/v1/availability?period=2026-11", None, [401, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/availability", "/api/v1/availability?period=2026-11&customer=acme", None, [401, 200, 200, 200, 200, 404]),
    // Reports, credits and watermelons: staff see every customer, a customer its own.
    row("GET", "/api/v1/reports", "/api/v1/reports?period=2026-11", None, [401, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/reports", "/api/v1/reports?period=2026-11&customer=acme&format=csv", None, [401, 200, 200, 200, 200, 404]),
    row("GET", "/api/v1/credits", "/api/v1/credits?period=2026-11", None, [401, 200, 200, 200, 200, 200]),
    row("GET", "/api/v1/credits", "/api/v1/credits?period=2026-11&customer=acme", None, [401, 200, 200, 200, 200, 404]),
    row("GET", "/api/v1/watermelons", "/api/v1/watermelons?period=2026-11", None, [401, 200, 200, 200, 200, 200]),
    // A public key is public; this server signs nothing, so there is none.
    row("GET", "/.well-known/accord/report-signing-key", "/.well-known/accord/report-signing-key", None, [404, 404, 404, 404, 404, 404]),
    // The audit log names every user and token: administrators only.
    row("GET", "/api/v1/audit", "/api/v1/audit", None, [401, 200, 403, 403, 403, 403]),
    row("GET", "/api/v1/audit/verify", "/api/v1/audit/verify", None, [401, 200, 403, 403, 403, 403]),
    // The survey page is public by design (the signed link is the credential): a bogus link is
    // a 400 for everyone, token or not.
    row("GET", "/survey/{token}", "/survey/bogus", None, [400, 400, 400, 400, 400, 400]),
    row("POST", "/survey/{token}", "/survey/bogus", Some(("application/x-www-form-urlencoded", "score=5")), [400, 400, 400, 400, 400, 400]),
    // The status page is public by design: it holds only what a provider publishes.
    row("GET", "/status", "/status", None, [200, 200, 200, 200, 200, 200]),
    // Signed-in pages: anonymous callers are sent to sign in; a customer sees its own only.
    row("GET", "/tickets", "/tickets", None, [303, 200, 200, 200, 200, 200]),
    row("GET", "/tickets/{ticket}", "/tickets/T-ACME", None, [303, 200, 200, 200, 200, 404]),
    row("GET", "/availability", "/availability?period=2026-11&customer=acme", None, [303, 200, 200, 200, 200, 404]),
    row("GET", "/portal", "/portal?customer=acme", None, [303, 200, 200, 200, 200, 404]),
    // Agreement and report pages: a customer sees its own only; the lifecycle form needs write.
    row("GET", "/agreements", "/agreements", None, [303, 200, 200, 200, 200, 200]),
    row("GET", "/agreements/{name}", "/agreements/acme-sla?from=1&to=1", None, [303, 200, 200, 200, 200, 404]),
    row("GET", "/agreements/{name}", "/agreements/globex-cloud-hosting-sla", None, [303, 200, 200, 200, 404, 200]),
    row("POST", "/agreements/{name}/lifecycle", "/agreements/acme-sla/lifecycle", Some(("application/x-www-form-urlencoded", "csrf=x&action=none&revision=1")), [303, 400, 400, 403, 403, 403]),
    row("GET", "/reports", "/reports?period=2026-11", None, [303, 200, 200, 200, 200, 200]),
    row("GET", "/reports", "/reports?period=2026-11&customer=acme", None, [303, 200, 200, 200, 200, 404]),
    // Sign-in pages: anyone may see the form; empty fields are refused before any counting.
    row("GET", "/login", "/login?next=/dashboard", None, [200, 200, 200, 200, 200, 200]),
    row("POST", "/login", "/login", Some(("application/x-www-form-urlencoded", "user=&password=")), [401, 401, 401, 401, 401, 401]),
    // Without a session there is nothing to end; a bearer token has no password to change.
    row("POST", "/logout", "/logout", Some(("application/x-www-form-urlencoded", "csrf=x")), [303, 303, 303, 303, 303, 303]),
    row("GET", "/account/password", "/account/password", None, [303, 200, 200, 200, 200, 200]),
    row("POST", "/account/password", "/account/password", Some(("application/x-www-form-urlencoded", "csrf=x&current=a&new=b&repeat=b")), [303, 303, 303, 303, 303, 303]),
    row("GET", "/dashboard", "/dashboard", None, [303, 200, 200, 200, 200, 200]),
];

/// Every route has at least one row, and every row is a route.
#[test]
fn the_matrix_has_a_row_for_every_route() {
    let routes: BTreeSet<(&str, &str)> = accord_server::server::routes().into_iter().collect();
    let rows: BTreeSet<(&str, &str)> = ROWS.iter().map(|row| (row.method, row.route)).collect();
    let missing: Vec<_> = routes.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "add a row for each of these routes to ROWS in tests/it/matrix.rs, with the status each \
         caller gets: {missing:?}"
    );
    let unknown: Vec<_> = rows.difference(&routes).collect();
    assert!(unknown.is_empty(), "ROWS names routes the router does not serve: {unknown:?}");
}

/// The served OpenAPI document is the committed file, byte for byte, and needs no token.
#[test]
fn the_openapi_document_is_served_as_committed() {
    let committed = include_str!("../../openapi.json");
    let backend = Backend::Sqlite(tempfile::tempdir().expect("temp dir"));
    let server = Server::start(&backend);
    let served = server.request("GET", "/api/v1/openapi.json", None, None);
    assert_eq!(served.status, 200, "{}", served.body);
    assert_eq!(served.header("content-type"), Some("application/json"));
    assert!(served.body == committed, "the served document differs from openapi.json");
}

/// Applies the examples, activates an SLA of each customer, and stores a heartbeat probe.
fn seed(backend: &Backend) {
    activate_examples(backend, &["corporate-sla", "acme-sla", "globex-cloud-hosting-sla"], None);
}

#[test]
fn every_route_gives_each_caller_the_status_its_role_allows() {
    for backend in backends("matrix") {
        seed(&backend);
        let tokens = [
            None,
            Some(token(&backend, "root", "admin", &[])),
            Some(token(&backend, "helpdesk", "agent", &[])),
            Some(token(&backend, "wallboard", "viewer", &[])),
            Some(token(&backend, "acme-portal", "customer", &["--customer", "acme"])),
            Some(token(&backend, "globex-portal", "customer", &["--customer", "globex"])),
        ];
        let admin = tokens[1].as_deref().expect("the admin token");
        let server = Server::start(&backend);
        let events = json!([
            {"id": "a-1", "ticket": "T-ACME", "type": "created", "at": "2026-11-02T09:00:00Z",
             "customer": "acme", "service": "cloud-hosting", "priority": "P2"},
            {"id": "g-1", "ticket": "T-GLOBEX", "type": "created", "at": "2026-11-02T09:00:00Z",
             "customer": "globex", "service": "cloud-hosting", "priority": "P2"},
        ]);
        let posted = server.post("/api/v1/events", admin, &events);
        assert_eq!(posted.status, 200, "{}", posted.body);
        let probes =
            "probes:\n  - { name: backup-job, affects: cloud-hosting, heartbeat: 5m, grace: 1m }\n";
        let stored = server.send(
            "PUT",
            "/api/v1/probes",
            &[("Authorization", &format!("Bearer {admin}")), ("Content-Type", YAML)],
            probes.as_bytes(),
        );
        assert_eq!(stored.status, 200, "{}", stored.body);

        let mut wrong = Vec::new();
        for row in ROWS {
            for ((caller, token), expect) in CALLERS.iter().zip(&tokens).zip(row.expect) {
                let bearer = token.as_ref().map(|token| format!("Bearer {token}"));
                let mut headers: Vec<(&str, &str)> =
                    bearer.iter().map(|bearer| ("Authorization", bearer.as_str())).collect();
                let (content_type, body) = row.body.unwrap_or((JSON, ""));
                headers.push(("Content-Type", content_type));
                let reply = server.send(row.method, row.path, &headers, body.as_bytes());
                if reply.status != expect {
                    wrong.push(format!(
                        "{} {} as {caller}: expected {expect}, got {}: {}",
                        row.method, row.path, reply.status, reply.body
                    ));
                }
                // A customer sees nothing of the other customer's, whatever the status; a
                // name the request itself sent does not count.
                let other: &[&str] = match *caller {
                    "acme" => &["globex", "t-globex"],
                    "globex" => &["acme", "t-acme"],
                    _ => &[],
                };
                let body = reply.body.to_lowercase();
                let path = row.path.to_lowercase();
                for name in other.iter().filter(|name| !path.contains(**name)) {
                    if body.contains(name) {
                        wrong.push(format!(
                            "{} {} as {caller}: the body names {name:?}: {}",
                            row.method, row.path, reply.body
                        ));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{} calls went wrong:\n{}", wrong.len(), wrong.join("\n"));
    }
}
