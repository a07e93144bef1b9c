//! The agreement and report pages in a real browser (see `browser`): the examples applied
//! and activated, the agreements list shows their state, the agreement page shows effective
//! terms with the file and line each comes from and the diff between two revisions, an agent
//! activates a revision with the page's button (a form with the session's CSRF token), a
//! viewer gets no buttons, a customer cannot open another customer's agreement, and the
//! reports page links the PDF and shows the credit ledger. Screenshots of each page go to
//! `target/browser-artifacts/`.

use serde_json::json;

use crate::api_agreements::{examples_request, faster_acme_sla};
use crate::backends;
use crate::browser::{Browser, backend_name, browser_is_installed};
use crate::http::{Server, sign_in, token, user};

/// A browser signed in as `name`: the session cookie, and the form CSRF cookie the sign-in
/// form sets, on the server's origin.
fn signed_in(server: &Server, name: &str) -> Browser {
    let (cookie, csrf) = sign_in(server, name);
    let cookies = [("accord_session", cookie.as_str()), ("accord_csrf", csrf.as_str())];
    Browser::with_cookies(server, 1600, &cookies)
}

/// Clicks the first element `css` selects.
fn click(browser: &Browser, css: &str) {
    let element = browser.find_all(css).into_iter().next().unwrap_or_else(|| panic!("no {css}"));
    browser.session_call("POST", &format!("/element/{element}/click"), Some(&json!({})));
}

/// Moves a revision through `actions` over the API.
#[track_caller]
fn advance(api: &Server, token: &str, name: &str, revision: u32, actions: &[&str]) {
    for action in actions {
        let body = json!({ "action": action, "revision": revision });
        let moved = api.post(&format!("/api/v1/agreements/{name}/lifecycle"), token, &body);
        assert_eq!(moved.status, 200, "{}", moved.body);
    }
}

#[test]
fn agreements_terms_diff_and_the_lifecycle_buttons_in_a_browser() {
    if !browser_is_installed() {
        return;
    }
    for backend in backends("web_agreements") {
        let editor = token(&backend, "editor", "agent", &[]);
        user(&backend, "ann", "agent", &[]);
        user(&backend, "vic", "viewer", &[]);
        user(&backend, "carl", "customer", &["--customer", "acme"]);
        let api = Server::start(&backend);
        let applied = api.post("/api/v1/agreements/apply", &editor, &examples_request());
        assert_eq!(applied.status, 200, "{}", applied.body);
        advance(&api, &editor, "acme-sla", 1, &["submit", "approve", "activate"]);
        advance(&api, &editor, "corporate-sla", 1, &["submit", "approve", "activate"]);
        let name = backend_name(&backend);
        let origin = format!("http://{}", api.address);

        // The list: acme-sla active, with its level, customer and next review.
        let ann = signed_in(&api, "ann");
        ann.go(&format!("{origin}/agreements"));
        let row = ann.text(r#"tr[data-name="acme-sla"]"#);
        assert!(row.contains("Active"), "{row}");
        assert!(row.contains("customer") && row.contains("acme"), "{row}");
        assert!(row.contains("26 Feb 2027"), "the next review in {row}");
        ann.screenshot(&format!("agreements-{name}"));

        // A second revision, approved but not active: the page shows its diff and a button.
        let yaml = faster_acme_sla();
        let bearer = format!("Bearer {editor}");
        let posted = api.send(
            "POST",
            "/api/v1/agreements/apply?path=agreements/acme-sla.yaml",
            &[("Authorization", &bearer), ("Content-Type", "text/yaml")],
            yaml.as_bytes(),
        );
        assert_eq!(posted.status, 200, "{}", posted.body);
        advance(&api, &editor, "acme-sla", 2, &["submit", "approve"]);

        ann.go(&format!("{origin}/agreements/acme-sla"));
        let origins = ann.contents(".terms-table .origin");
        assert!(
            origins.iter().any(|origin| origin.starts_with("agreements/acme-sla.yaml@1:")),
            "an acme-sla term with its file and line in {origins:?}"
        );
        assert!(
            origins.iter().any(|origin| origin.starts_with("agreements/corporate-sla.yaml@1:")),
            "{origins:?}"
        );
        ann.screenshot(&format!("agreement-{name}"));

        ann.go(&format!("{origin}/agreements/acme-sla?from=1&to=2#diff"));
        let changes = ann.contents(".changes li").join("\n");
        assert!(changes.contains("P1 resolution"), "{changes}");
        assert!(changes.contains("2h") && changes.contains("1h30m"), "{changes}");
        ann.screenshot(&format!("agreement-diff-{name}"));

        // The agent activates revision 2 with the button; revision 1 is superseded.
        assert_eq!(ann.text("#revision-2 .lifecycle"), "Approved");
        click(&ann, r#"button[data-action="activate"][data-revision="2"]"#);
        // The click returns once the form is sent; the page it leads to may still be loading.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while ann.find_all("#revision-2 .lifecycle.active").is_empty() {
            assert!(std::time::Instant::now() < deadline, "revision 2 never showed as active");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(ann.text("#revision-2 .lifecycle"), "Active");
        assert_eq!(ann.text("#revision-1 .lifecycle"), "Superseded");
        let listed = api.get("/api/v1/agreements/acme-sla", &editor);
        assert_eq!(listed.json()["activeRevision"], 2, "{}", listed.body);
        ann.go(&format!("{origin}/agreements/acme-sla#history"));
        ann.screenshot(&format!("agreement-activated-{name}"));

        // A viewer reads the same page without buttons.
        let vic = signed_in(&api, "vic");
        vic.go(&format!("{origin}/agreements/acme-sla#history"));
        assert!(!vic.contents(".terms-table .origin").is_empty());
        assert!(vic.find_all("button.action").is_empty(), "a viewer gets no lifecycle buttons");
        vic.screenshot(&format!("agreement-viewer-{name}"));

        // A customer sees its own agreement, and another's is a 404 page like a missing one.
        let carl = signed_in(&api, "carl");
        carl.go(&format!("{origin}/agreements"));
        let names = carl.contents("tr[data-name] td:first-child a");
        assert!(names.contains(&"acme-sla".to_owned()), "{names:?}");
        assert!(!names.iter().any(|name| name.starts_with("globex")), "{names:?}");
        carl.go(&format!("{origin}/agreements/globex-cloud-hosting-sla"));
        assert_eq!(carl.text("h1"), "Not found");
        carl.screenshot(&format!("agreement-foreign-{name}"));
        let (cookie, _) = sign_in(&api, "carl");
        let cookie = format!("accord_session={cookie}");
        for path in ["/agreements/globex-cloud-hosting-sla", "/agreements/no-such-sla"] {
            let reply = api.send("GET", path, &[("Cookie", &cookie)], b"");
            assert_eq!(reply.status, 404, "{path}: {}", reply.body);
        }
    }
}

#[test]
fn a_lifecycle_form_without_the_session_token_is_refused() {
    for backend in backends("web_agreements_csrf") {
        let editor = token(&backend, "editor", "agent", &[]);
        user(&backend, "ann", "agent", &[]);
        let api = Server::start(&backend);
        let applied = api.post("/api/v1/agreements/apply", &editor, &examples_request());
        assert_eq!(applied.status, 200, "{}", applied.body);
        let (cookie, csrf) = sign_in(&api, "ann");
        let headers = [
            ("Cookie", format!("accord_session={cookie}; accord_csrf={csrf}")),
            ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
        ];
        let headers: Vec<(&str, &str)> =
            headers.iter().map(|(name, value)| (*name, value.as_str())).collect();
        let path = "/agreements/acme-sla/lifecycle";
        let forged = api.send("POST", path, &headers, b"csrf=guess&action=submit&revision=1");
        assert_eq!(forged.status, 403, "{}", forged.body);
        let form = format!("csrf={csrf}&action=submit&revision=1");
        let submitted = api.send("POST", path, &headers, form.as_bytes());
        assert_eq!(submitted.status, 303, "{}", submitted.body);
        assert_eq!(submitted.header("location"), Some("/agreements/acme-sla"));
        let shown = api.get("/api/v1/agreements/acme-sla", &editor).json();
        assert_eq!(shown["latestState"], "in_review", "{shown}");
    }
}

#[test]
fn the_reports_page_links_the_pdf_and_shows_the_credit_ledger() {
    if !browser_is_installed() {
        return;
    }
    for backend in backends("web_reports") {
        let editor = token(&backend, "editor", "agent", &[]);
        user(&backend, "ann", "agent", &[]);
        user(&backend, "carl", "customer", &["--customer", "acme"]);
        let api = Server::start(&backend);
        crate::reports::set_up(&api, &backend, &editor);
        let name = backend_name(&backend);
        let origin = format!("http://{}", api.address);

        let ann = signed_in(&api, "ann");
        ann.go(&format!("{origin}/reports?customer=acme&period=2026-09&format=pdf"));
        let links = ann.find_all("a.download");
        assert_eq!(links.len(), 1);
        let href = ann.session_call("GET", &format!("/element/{}/attribute/href", links[0]), None);
        let href = href.as_str().expect("an href");
        assert!(href.contains("/api/v1/reports?period=2026-09&format=pdf&customer=acme"), "{href}");
        let ledger = ann.text("table.ledger");
        assert!(ledger.contains("hosting") && ledger.contains("2026-09"), "{ledger}");
        assert!(ledger.contains("T-1"), "the breached ticket as evidence in {ledger}");
        assert!(ann.text(".totals").contains("acme: 1,500.00 EUR"), "{}", ann.text(".totals"));
        ann.screenshot(&format!("reports-{name}"));

        // The PDF downloads with the session cookie.
        let (cookie, _) = sign_in(&api, "carl");
        let cookie = format!("accord_session={cookie}");
        let pdf = api.send(
            "GET",
            "/api/v1/reports?period=2026-09&format=pdf",
            &[("Cookie", &cookie)],
            b"",
        );
        assert_eq!(pdf.status, 200);
        assert_eq!(pdf.header("content-type"), Some("application/pdf"));
        // A customer's own report page, and another customer's is a 404 page.
        let own = api.send("GET", "/reports?period=2026-09", &[("Cookie", &cookie)], b"");
        assert_eq!(own.status, 200, "{}", own.body);
        assert!(own.body.contains("T-1"), "{}", own.body);
        let other =
            api.send("GET", "/reports?period=2026-09&customer=globex", &[("Cookie", &cookie)], b"");
        assert_eq!(other.status, 404, "{}", other.body);
    }
}
