//! The signed-in pages of tickets, clock timelines, availability and the customer portal, in
//! a real browser (see `browser`): the ticket page draws each clock as a timeline with its
//! breach marked, a customer cannot open another customer's ticket, the portal lists the
//! customer's own tickets only, and the availability page draws its bars. Screenshots of each
//! page go to `target/browser-artifacts/`.

use serde_json::json;

use crate::browser::{Browser, backend_name, browser_is_installed};
use crate::http::{Server, activate_examples, sign_in, token, user};
use crate::{Backend, backends};

/// A browser signed in as `name`: the session cookie is set on the server's origin.
fn signed_in(server: &Server, name: &str) -> Browser {
    let (cookie, _) = sign_in(server, name);
    Browser::with_cookies(server, 1800, &[("accord_session", &cookie)])
}

/// The examples applied and activated, and P1 tickets of acme and globex opened an hour from
/// now (the agreements are active from now on).
fn server_with_tickets(backend: &Backend) -> Server {
    activate_examples(backend, &["corporate-sla", "acme-sla"], None);
    let agent = token(backend, "helpdesk", "agent", &[]);
    user(backend, "ann", "agent", &[]);
    user(backend, "carl", "customer", &["--customer", "acme"]);
    let server = Server::start(backend);
    let opened = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1)).to_string();
    let later = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(2)).to_string();
    let events = json!([
        {"id": "a-1", "ticket": "T-ACME", "type": "created", "at": opened, "customer": "acme",
         "service": "service-desk", "priority": "P1", "externalRef": "ZAM-1"},
        {"id": "a-2", "ticket": "T-ACME", "type": "note", "at": later},
        {"id": "a-3", "ticket": "T-ACME", "type": "comment", "at": later, "author": "agent"},
        {"id": "g-1", "ticket": "T-GLOBEX", "type": "created", "at": opened,
         "customer": "globex", "service": "service-desk", "priority": "P1"},
    ]);
    let posted = server.post("/api/v1/events", &agent, &events);
    assert_eq!(posted.status, 200, "{}", posted.body);
    server
}

#[test]
fn tickets_timelines_availability_and_the_portal_in_a_browser() {
    if !browser_is_installed() {
        return;
    }
    for backend in backends("web_tickets") {
        let server = server_with_tickets(&backend);
        let name = backend_name(&backend);
        let origin = format!("http://{}", server.address);
        let at = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 8)).to_string();

        // Staff: the list, and the ticket's timeline with the breach marked.
        let staff = signed_in(&server, "ann");
        staff.go(&format!("{origin}/tickets?at={at}"));
        assert_eq!(staff.text("h1"), "Tickets");
        let customers = staff.contents(".ticket-row .customer");
        assert_eq!(customers, ["acme", "globex"]);
        staff.go(&format!("{origin}/tickets?state=breached&q=zam&at={at}"));
        assert_eq!(staff.contents(".ticket-row .customer"), ["acme"]);
        staff.screenshot(&format!("tickets-en-{name}"));

        staff.go(&format!("{origin}/tickets/T-ACME?at={at}"));
        assert_eq!(staff.text("h1"), "Ticket T-ACME");
        assert!(!staff.find_all("svg.timeline .span.counted").is_empty());
        assert!(!staff.find_all("svg.timeline .marker.breach").is_empty(), "a breach marker");
        let words = staff.contents(".spans li").join("\n");
        assert!(words.contains("Breached at"), "{words}");
        let events = staff.contents(".events li").join("\n");
        assert!(events.contains("Internal note"), "staff see notes: {events}");
        staff.screenshot(&format!("ticket-en-{name}"));
        staff.go(&format!("{origin}/tickets/T-ACME?at={at}&lang=zh-CN"));
        assert_eq!(staff.text("h1"), "工单 T-ACME");
        assert!(staff.contents(".spans li").join("\n").contains("违约"));
        staff.screenshot(&format!("ticket-zh-CN-{name}"));

        // Availability: bars drawn for acme's hosting objective.
        staff.go(&format!("{origin}/availability?lang=en"));
        assert!(!staff.find_all("figure.uptime svg rect").is_empty(), "uptime bars");
        staff.screenshot(&format!("availability-en-{name}"));

        // Staff see acme's portal as acme would.
        staff.go(&format!("{origin}/portal?customer=acme&lang=en"));
        assert!(staff.text(".banner.staff").contains("as the customer sees it"));
        staff.screenshot(&format!("portal-staff-en-{name}"));
        drop(staff);

        // acme's own user: its tickets only, globex's ticket is a 404 page, no notes.
        let carl = signed_in(&server, "carl");
        carl.go(&format!("{origin}/portal"));
        assert_eq!(carl.contents(".open-tickets .name"), ["T-ACME"]);
        carl.screenshot(&format!("portal-en-{name}"));
        carl.go(&format!("{origin}/tickets"));
        assert_eq!(carl.contents(".ticket-row a"), ["T-ACME"]);
        carl.go(&format!("{origin}/tickets/T-GLOBEX"));
        assert_eq!(carl.text("h1"), "Not found");
        assert!(carl.text(".missing").contains("There is no ticket T-GLOBEX"));
        carl.screenshot(&format!("ticket-missing-en-{name}"));
        carl.go(&format!("{origin}/tickets/T-ACME?at={at}"));
        let events = carl.contents(".events li").join("\n");
        assert!(!events.contains("Internal note") && events.contains("Comment"), "{events}");
        carl.go(&format!("{origin}/portal?lang=zh-CN"));
        assert_eq!(carl.contents(".open-tickets .name"), ["T-ACME"]);
        carl.screenshot(&format!("portal-zh-CN-{name}"));
        carl.go(&format!("{origin}/availability?lang=zh-CN"));
        assert!(!carl.find_all("figure.uptime svg rect").is_empty(), "uptime bars");
        carl.screenshot(&format!("availability-zh-CN-{name}"));
    }
}

/// Over plain HTTP: the 404 page is a real 404, and the same for a missing ticket as for
/// another customer's.
#[test]
fn another_customers_ticket_is_a_404_page_like_a_missing_one() {
    for backend in backends("web_tickets_404") {
        let server = server_with_tickets(&backend);
        let (cookie, _) = sign_in(&server, "carl");
        let cookie = format!("accord_session={cookie}");
        let foreign = server.send("GET", "/tickets/T-GLOBEX", &[("Cookie", &cookie)], b"");
        assert_eq!(foreign.status, 404, "{}", foreign.body);
        assert_eq!(foreign.header("content-type"), Some("text/html; charset=utf-8"));
        let absent = server.send("GET", "/tickets/T-NONE", &[("Cookie", &cookie)], b"");
        assert_eq!(absent.status, 404);
        assert_eq!(
            foreign.body.replace("T-GLOBEX", "T-X").split("<footer").next(),
            absent.body.replace("T-NONE", "T-X").split("<footer").next(),
        );
        let other = server.send("GET", "/portal?customer=globex", &[("Cookie", &cookie)], b"");
        assert_eq!(other.status, 404);
        let anonymous = server.send("GET", "/tickets", &[], b"");
        assert_eq!(anonymous.status, 303);
        assert_eq!(anonymous.header("location"), Some("/login?next=/tickets"));
    }
}
