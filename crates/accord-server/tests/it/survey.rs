//! Accord's own satisfaction survey end to end: a solved ticket's requester gets one e-mail at a
//! real SMTP server (`aiosmtpd`, as in the escalation test), its link opens the rating page
//! without recording anything, one click records a `rating` event, the link rates once, and a
//! changed link is refused. A ticket without a requester gets no survey, and one reopened and
//! solved again gets no second one.
//!
//! Without `aiosmtpd` the test says so and is skipped; with `CI=true` it fails instead.

use std::time::Duration;

use serde_json::{Value, json};

use crate::backends;
use crate::escalations::{SmtpSink, eventually};
use crate::http::{Reply, Server, token};

const PUBLIC_URL: &str = "https://accord.example";

const FORM: &str = "application/x-www-form-urlencoded";

/// Events of `ticket` from `minutes_ago` on: created with `requester` (when given), solved a
/// minute later.
fn created_and_solved(ticket: &str, requester: Option<&str>, minutes_ago: i64) -> Value {
    let at = |minutes: i64| {
        (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(minutes)).to_string()
    };
    let mut created = json!({ "id": format!("{ticket}-created"), "ticket": ticket,
        "type": "created", "at": at(minutes_ago), "customer": "acme", "service": "desk",
        "priority": "P2", "externalRef": "ZD-48213" });
    if let Some(requester) = requester {
        created["requester"] = json!(requester);
    }
    let solved = json!({ "id": format!("{ticket}-solved"), "ticket": ticket, "type": "solved",
        "at": at(minutes_ago - 1) });
    json!([created, solved])
}

/// The ticket's events as the API lists them.
fn events(api: &Server, admin: &str, ticket: &str) -> Vec<Value> {
    let listed = api.get(&format!("/api/v1/tickets/{ticket}/events"), admin).json();
    listed["events"].as_array().expect("a list").iter().map(|e| e["event"].clone()).collect()
}

fn ratings(api: &Server, admin: &str, ticket: &str) -> Vec<Value> {
    events(api, admin, ticket).into_iter().filter(|event| event["type"] == "rating").collect()
}

/// The text of an e-mail as its reader sees it: lettre sends lines over 76 characters, such as
/// the link's, quoted-printable.
fn text_of(mail: &str) -> String {
    let mail = mail.replace("\r\n", "\n");
    let (head, body) = mail.split_once("\n\n").unwrap_or((&mail, ""));
    if !head.to_ascii_lowercase().contains("content-transfer-encoding: quoted-printable") {
        return body.to_owned();
    }
    let joined = body.replace("=\n", "");
    let mut text = Vec::with_capacity(joined.len());
    let mut bytes = joined.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'=' {
            let hex: String = bytes.by_ref().take(2).map(char::from).collect();
            text.push(u8::from_str_radix(&hex, 16).unwrap_or_else(|_| panic!("=XX in {body}")));
        } else {
            text.push(byte);
        }
    }
    String::from_utf8(text).expect("UTF-8")
}

/// The link's token, from the one line of the e-mail that holds the link.
fn token_of(text: &str) -> String {
    let prefix = format!("{PUBLIC_URL}/survey/");
    let line = text
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("a link line in {text}"));
    line.trim_end().strip_prefix(&prefix).expect("the prefix").to_owned()
}

fn answer(api: &Server, token: &str, body: &str) -> Reply {
    api.send("POST", &format!("/survey/{token}"), &[("Content-Type", FORM)], body.as_bytes())
}

#[test]
fn a_solved_ticket_gets_one_survey_whose_link_rates_it_once() {
    for backend in backends("survey") {
        let Some(smtp) = SmtpSink::start() else { return };
        let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
        let api = Server::start_with_env(
            &backend,
            "warn",
            false,
            &[
                ("ACCORD_SMTP_URL", &smtp_url),
                ("ACCORD_PUBLIC_URL", PUBLIC_URL),
                ("ACCORD_SURVEY_SECRET", "test-survey-key"),
            ],
        );
        let admin = token(&backend, "admin", "admin", &[]);
        let settings = "survey:\n  after: 0s\n  expires: 14d\n";
        let put = api.send(
            "PUT",
            "/api/v1/notifications",
            &[("Authorization", &format!("Bearer {admin}")), ("Content-Type", "text/yaml")],
            settings.as_bytes(),
        );
        assert_eq!(put.status, 200, "{}", put.body);
        let stored = api.get("/api/v1/notifications", &admin).json();
        assert_eq!(stored["survey"]["enabled"], true, "{stored}");
        assert_eq!(stored["survey"]["expiresSeconds"], 14 * 24 * 3600, "{stored}");

        // T-1 has a requester; T-2 has none and gets no survey.
        for (ticket, requester) in [("T-1", Some("ann@acme.example")), ("T-2", None)] {
            let posted =
                api.post("/api/v1/events", &admin, &created_and_solved(ticket, requester, 3));
            assert_eq!(posted.status, 200, "{}", posted.body);
        }
        eventually(30, "the survey e-mail", || !smtp.messages().is_empty());
        let mails = smtp.messages();
        assert_eq!(mails.len(), 1, "{mails:#?}");
        let mail = &mails[0];
        assert!(mail.contains("To: ann@acme.example"), "{mail}");
        assert!(mail.contains("Subject: How did we do on ticket T-1?"), "{mail}");
        let text = text_of(mail);
        assert!(text.contains("your ticket T-1 (ZD-48213) has been solved"), "{text}");
        let token = token_of(&text);

        // The page: five buttons of one form, and nothing recorded by looking at it.
        let page = api.send("GET", &format!("/survey/{token}"), &[], b"");
        assert_eq!(page.status, 200, "{}", page.body);
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
        assert!(page.body.contains("<h1>How did we do on ticket T-1?</h1>"), "{}", page.body);
        assert_eq!(page.body.matches("<button type=\"submit\" name=\"score\"").count(), 5);
        assert_eq!(page.body.matches("<form method=\"post\">").count(), 1);
        assert!(page.body.contains("Very dissatisfied") && page.body.contains("Very satisfied"));
        assert!(!page.body.contains("<script"));
        assert_eq!(ratings(&api, &admin, "T-1"), Vec::<Value>::new());

        // A score out of range is refused and records nothing.
        let refused = answer(&api, &token, "score=9&comment=x");
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(refused.body.contains("Choose one of the five ratings."), "{}", refused.body);
        assert_eq!(ratings(&api, &admin, "T-1"), Vec::<Value>::new());

        // One click rates: the rating event, with its comment as typed (escaped on pages).
        let rated = answer(&api, &token, "comment=Slow+but+%3Cb%3Efriendly%3C%2Fb%3E&score=2");
        assert_eq!(rated.status, 200, "{}", rated.body);
        assert!(rated.body.contains("2 of 5, Dissatisfied"), "{}", rated.body);
        let ratings_now = ratings(&api, &admin, "T-1");
        assert_eq!(ratings_now.len(), 1, "{ratings_now:#?}");
        let rating = &ratings_now[0];
        assert_eq!(rating["id"], "survey:T-1");
        assert_eq!(rating["score"], 2);
        assert_eq!(rating["comment"], "Slow but <b>friendly</b>");
        assert_eq!(rating["source"], "survey");

        // The link rates once: a second answer is refused with the already-recorded page, and
        // the page says so too.
        let again = answer(&api, &token, "score=5");
        assert_eq!(again.status, 409, "{}", again.body);
        assert!(again.body.contains("already recorded"), "{}", again.body);
        let page = api.send("GET", &format!("/survey/{token}"), &[], b"");
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("already recorded"), "{}", page.body);
        assert_eq!(ratings(&api, &admin, "T-1").len(), 1);

        // A changed link is not valid, for looking and for answering.
        let (payload, signature) = token.split_once('.').expect("payload.signature");
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{payload}.{flipped}{}", &signature[1..]);
        for reply in [
            api.send("GET", &format!("/survey/{tampered}"), &[], b""),
            answer(&api, &tampered, "score=1"),
            api.send("GET", &format!("/survey/{payload}"), &[], b""),
        ] {
            assert_eq!(reply.status, 400, "{}", reply.body);
            assert!(reply.body.contains("This link is not valid"), "{}", reply.body);
        }

        // Reopened and solved again: no second survey, also after a restart.
        let later = json!([
            { "id": "T-1-reopened", "ticket": "T-1", "type": "reopened",
              "at": (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(20)).to_string() },
            { "id": "T-1-solved-again", "ticket": "T-1", "type": "solved",
              "at": (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(10)).to_string() },
        ]);
        let posted = api.post("/api/v1/events", &admin, &later);
        assert_eq!(posted.status, 200, "{}", posted.body);
        drop(api);
        let again = Server::start_with_env(
            &backend,
            "warn",
            false,
            &[
                ("ACCORD_SMTP_URL", &smtp_url),
                ("ACCORD_PUBLIC_URL", PUBLIC_URL),
                ("ACCORD_SURVEY_SECRET", "test-survey-key"),
            ],
        );
        std::thread::sleep(Duration::from_secs(4));
        assert_eq!(smtp.messages().len(), 1, "{:#?}", smtp.messages());
        // The link still says the rating is recorded; under another secret it is not valid.
        let page = again.send("GET", &format!("/survey/{token}"), &[], b"");
        assert!(page.body.contains("already recorded"), "{}", page.body);
        drop(again);
        let rekeyed =
            Server::start_with_env(&backend, "warn", false, &[("ACCORD_SURVEY_SECRET", "new")]);
        let page = rekeyed.send("GET", &format!("/survey/{token}"), &[], b"");
        assert_eq!(page.status, 400, "{}", page.body);
    }
}
