//! People signing in over real HTTP: the session cookie and what it may do, CSRF, signing
//! out, disabled users, the rate limit on failed sign-ins, and a log that never shows a
//! password or a session cookie.
//!
//! Users are made with `accord user add` as an operator does.

use serde_json::{Value, json};

use crate::backends;
use crate::http::{PASSWORD, Reply, Server, sign_in, token, user};

fn login(server: &Server, user: &str, password: &str) -> Reply {
    let body = json!({"user": user, "password": password}).to_string();
    server.send("POST", "/api/v1/login", &[], body.as_bytes())
}

/// Signs in, which must succeed.
#[track_caller]
fn session(server: &Server, user: &str) -> Session {
    let (cookie, csrf_token) = sign_in(server, user);
    Session { cookie: format!("accord_session={cookie}"), csrf_token }
}

/// A signed-in browser: what it sends back.
struct Session {
    /// `accord_session=...`, as a `Cookie` header holds it.
    cookie: String,
    csrf_token: String,
}

impl Session {
    fn cookie(&self) -> (&str, &str) {
        ("Cookie", &self.cookie)
    }

    fn csrf(&self) -> (&str, &str) {
        ("X-CSRF-Token", &self.csrf_token)
    }
}

impl Reply {
    fn code(&self) -> Value {
        self.json()["error"]["code"].clone()
    }
}

fn event(id: &str) -> String {
    json!({"id": id, "ticket": "T-1", "type": "created", "at": "2026-11-02T09:00:00+01:00",
           "customer": "acme", "service": "managed-workplace", "priority": "P2"})
    .to_string()
}

#[test]
fn signing_in_sets_an_http_only_cookie_that_acts_as_the_user() {
    for backend in backends("sessions_login") {
        user(&backend, "ann", "agent", &[]);
        user(&backend, "carl", "customer", &["--customer", "acme"]);
        let server = Server::start(&backend);

        let reply = login(&server, "ann", PASSWORD);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let body = reply.json();
        assert_eq!(
            (&body["user"], &body["role"], &body["customer"]),
            (&json!("ann"), &json!("agent"), &Value::Null)
        );
        assert!(body["csrfToken"].as_str().is_some_and(|token| token.len() >= 43), "{body}");
        let set_cookie = reply.header("set-cookie").expect("Set-Cookie");
        assert!(set_cookie.starts_with("accord_session="), "{set_cookie}");
        for attribute in ["; HttpOnly", "; SameSite=Lax", "; Path=/", "; Max-Age=43200"] {
            assert!(set_cookie.contains(attribute), "{attribute} missing in {set_cookie}");
        }
        // Plain HTTP: a Secure cookie would never come back.
        assert!(!set_cookie.contains("Secure"), "{set_cookie}");
        assert_eq!(reply.header("cache-control"), Some("no-store"));

        let ann = session(&server, "ann");
        let me = server.send("GET", "/api/v1/me", &[ann.cookie()], b"");
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(
            me.json(),
            json!({"user": "ann", "role": "agent", "scopes": ["read", "write", "ingest"],
                   "customer": null})
        );

        let carl = session(&server, "carl");
        let me = server.send("GET", "/api/v1/me", &[carl.cookie()], b"");
        assert_eq!(
            me.json(),
            json!({"user": "carl", "role": "customer", "scopes": ["read"], "customer": "acme"})
        );
        // A customer session is bound to its customer like a customer token.
        let log = server.send("GET", "/api/v1/events", &[carl.cookie()], b"");
        assert_eq!((log.status, log.code()), (403, json!("forbidden")));

        // Behind a proxy that speaks HTTPS, the cookie is Secure.
        let body = json!({"user": "ann", "password": PASSWORD}).to_string();
        let proxied = server.send(
            "POST",
            "/api/v1/login",
            &[("X-Forwarded-Proto", "https")],
            body.as_bytes(),
        );
        assert!(proxied.header("set-cookie").is_some_and(|cookie| cookie.ends_with("; Secure")));

        // A made-up cookie is no session.
        let forged = server.send("GET", "/api/v1/me", &[("Cookie", "accord_session=forged")], b"");
        assert_eq!((forged.status, forged.code()), (401, json!("unauthorized")));
    }
}

#[test]
fn me_answers_for_a_token_too() {
    for backend in backends("sessions_me_token") {
        let wallboard = token(&backend, "wallboard", "viewer", &[]);
        let server = Server::start(&backend);
        let bearer = format!("Bearer {wallboard}");
        let me = server.send("GET", "/api/v1/me", &[("Authorization", &bearer)], b"");
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(
            me.json(),
            json!({"user": "token:wallboard", "role": "viewer", "scopes": ["read"],
                   "customer": null})
        );
        let anonymous = server.send("GET", "/api/v1/me", &[], b"");
        assert_eq!(anonymous.status, 401);
    }
}

#[test]
fn cookie_writes_need_the_csrf_token_and_token_writes_do_not() {
    for backend in backends("sessions_csrf") {
        user(&backend, "ann", "agent", &[]);
        let helpdesk = token(&backend, "helpdesk", "agent", &[]);
        let server = Server::start(&backend);
        let ann = session(&server, "ann");

        let bare = server.send("POST", "/api/v1/events", &[ann.cookie()], event("e-1").as_bytes());
        assert_eq!((bare.status, bare.code()), (403, json!("csrf")), "{}", bare.body);
        let wrong = server.send(
            "POST",
            "/api/v1/events",
            &[ann.cookie(), ("X-CSRF-Token", "not-the-token")],
            event("e-1").as_bytes(),
        );
        assert_eq!((wrong.status, wrong.code()), (403, json!("csrf")));
        // Another session's token is no better.
        let other = session(&server, "ann");
        let crossed = server.send(
            "POST",
            "/api/v1/events",
            &[ann.cookie(), other.csrf()],
            event("e-1").as_bytes(),
        );
        assert_eq!(crossed.status, 403);
        let log = server.send("GET", "/api/v1/events", &[ann.cookie()], b"");
        assert_eq!(log.json()["events"], json!([]), "nothing was written without the token");

        let posted = server.send(
            "POST",
            "/api/v1/events",
            &[ann.cookie(), ann.csrf()],
            event("e-1").as_bytes(),
        );
        assert_eq!(posted.status, 200, "{}", posted.body);
        assert_eq!(posted.json()["new"], 1);

        // Reading needs no CSRF token; neither does a bearer token writing.
        let log = server.send("GET", "/api/v1/events", &[ann.cookie()], b"");
        assert_eq!(log.json()["events"].as_array().map(Vec::len), Some(1), "{}", log.body);
        let bearer = format!("Bearer {helpdesk}");
        let by_token = server.send(
            "POST",
            "/api/v1/events",
            &[("Authorization", &bearer)],
            event("e-2").as_bytes(),
        );
        assert_eq!(by_token.status, 200, "{}", by_token.body);
    }
}

#[test]
fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    for backend in backends("sessions_wrong") {
        user(&backend, "ann", "agent", &[]);
        let server = Server::start(&backend);
        let wrong_password = login(&server, "ann", "correct horse battery staplE");
        let unknown_user = login(&server, "nobody", PASSWORD);
        for reply in [&wrong_password, &unknown_user] {
            assert_eq!(reply.status, 401, "{}", reply.body);
            assert_eq!(reply.header("set-cookie"), None);
        }
        assert_eq!(wrong_password.body, unknown_user.body);
        assert_eq!(
            wrong_password.json(),
            json!({"error": {"code": "unauthorized", "message": "wrong user name or password"}})
        );
        // Names no user can have are wrong like any other: PostgreSQL takes no NUL in text
        // and indexes no key of kilobytes, and neither reaches it.
        for name in ["ann\0", &"a".repeat(5_000)] {
            let reply = login(&server, name, PASSWORD);
            assert_eq!(reply.body, unknown_user.body, "{}", reply.status);
        }
        // A body that is not the credentials is refused without repeating it.
        let body = json!({"user": "ann", "password": 1234567}).to_string();
        let malformed = server.send("POST", "/api/v1/login", &[], body.as_bytes());
        assert_eq!((malformed.status, malformed.code()), (400, json!("invalid_body")));
        assert!(!malformed.body.contains("1234567"), "{}", malformed.body);
    }
}

#[test]
fn six_bad_attempts_lock_the_user_out_even_with_the_right_password() {
    for backend in backends("sessions_limit_user") {
        user(&backend, "ann", "agent", &[]);
        let server = Server::start(&backend);
        for attempt in 1..=5 {
            let reply = login(&server, "ann", &format!("guess number {attempt}"));
            assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.body);
        }
        let sixth = login(&server, "ann", "guess number 6");
        assert_eq!((sixth.status, sixth.code()), (429, json!("too_many_attempts")));
        assert_eq!(sixth.header("retry-after"), Some("900"));
        let right = login(&server, "ann", PASSWORD);
        assert_eq!((right.status, right.code()), (429, json!("too_many_attempts")));
        assert_eq!(right.header("set-cookie"), None);
    }
}

/// Behind a trusted proxy, clients are counted by the address the proxy forwards: one client's
/// failures lock that client, not the others; a success clears the user's failures.
#[test]
fn behind_a_trusted_proxy_each_client_is_counted_apart() {
    for backend in backends("sessions_proxy") {
        user(&backend, "ann", "agent", &[]);
        let trusted = [("ACCORD_TRUSTED_PROXIES", "127.0.0.1")];
        let server = Server::start_with_env(&backend, "warn", false, &trusted);
        let from = |client: &'static str, name: &str, password: &str| {
            let body = json!({"user": name, "password": password}).to_string();
            server.send("POST", "/api/v1/login", &[("X-Forwarded-For", client)], body.as_bytes())
        };
        for attempt in 1..=5 {
            let reply = from("198.51.100.1", &format!("guess-{attempt}"), PASSWORD);
            assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.body);
        }
        assert_eq!(from("198.51.100.1", "ann", PASSWORD).status, 429);
        // Another client behind the same proxy is not locked out.
        assert_eq!(from("198.51.100.2", "ann", PASSWORD).status, 200);
        // Four failures for ann, a success, four more: the success cleared the first four.
        for client in ["198.51.100.3", "198.51.100.4", "198.51.100.5", "198.51.100.6"] {
            assert_eq!(from(client, "ann", "wrong password!").status, 401);
        }
        assert_eq!(from("198.51.100.7", "ann", PASSWORD).status, 200);
        for client in ["198.51.100.8", "198.51.100.9", "198.51.100.10", "198.51.100.11"] {
            assert_eq!(from(client, "ann", "wrong password!").status, 401);
        }
        // A client that is not a trusted proxy cannot pick its address: straight to a server
        // that trusts no proxy, the header is ignored and the failures count for 127.0.0.1.
        drop(server);
        let plain = Server::start(&backend);
        for attempt in 1..=5 {
            let body = json!({"user": format!("x-{attempt}"), "password": PASSWORD}).to_string();
            let forged = format!("203.0.113.{attempt}");
            let reply = plain.send(
                "POST",
                "/api/v1/login",
                &[("X-Forwarded-For", forged.as_str())],
                body.as_bytes(),
            );
            assert_eq!(reply.status, 401);
        }
        assert_eq!(login(&plain, "ann", PASSWORD).status, 429);
    }
}

#[test]
fn failures_from_one_address_lock_it_whatever_the_user_names() {
    for backend in backends("sessions_limit_address") {
        user(&backend, "ann", "agent", &[]);
        let server = Server::start(&backend);
        for attempt in 1..=5 {
            let reply = login(&server, &format!("guess-{attempt}"), PASSWORD);
            assert_eq!(reply.status, 401, "attempt {attempt}: {}", reply.body);
        }
        let ann = login(&server, "ann", PASSWORD);
        assert_eq!((ann.status, ann.code()), (429, json!("too_many_attempts")), "{}", ann.body);
    }
}

#[test]
fn signing_out_ends_the_session() {
    for backend in backends("sessions_logout") {
        user(&backend, "ann", "agent", &[]);
        let server = Server::start(&backend);
        let ann = session(&server, "ann");
        let other = session(&server, "ann");

        let forced = server.send("POST", "/api/v1/logout", &[ann.cookie()], b"");
        assert_eq!((forced.status, forced.code()), (403, json!("csrf")), "{}", forced.body);
        assert_eq!(server.send("GET", "/api/v1/me", &[ann.cookie()], b"").status, 200);

        let logout = server.send("POST", "/api/v1/logout", &[ann.cookie(), ann.csrf()], b"");
        assert_eq!(logout.status, 204, "{}", logout.body);
        let cleared = logout.header("set-cookie").expect("Set-Cookie");
        assert!(cleared.starts_with("accord_session=;") && cleared.contains("Max-Age=0"));
        let me = server.send("GET", "/api/v1/me", &[ann.cookie()], b"");
        assert_eq!((me.status, me.code()), (401, json!("unauthorized")), "{}", me.body);
        let write = server.send(
            "POST",
            "/api/v1/events",
            &[ann.cookie(), ann.csrf()],
            event("e").as_bytes(),
        );
        assert_eq!(write.status, 401);
        // Signing out again is no error; the user's other session lives on.
        let again = server.send("POST", "/api/v1/logout", &[ann.cookie(), ann.csrf()], b"");
        assert_eq!(again.status, 204);
        assert_eq!(server.send("GET", "/api/v1/me", &[other.cookie()], b"").status, 200);
    }
}

#[test]
fn a_disabled_user_cannot_sign_in_and_loses_their_sessions() {
    for backend in backends("sessions_disabled") {
        user(&backend, "ann", "agent", &[]);
        let server = Server::start(&backend);
        let ann = session(&server, "ann");
        let flags = backend.flags();
        let mut args = vec!["user", "disable", "ann"];
        args.extend(flags.iter().map(String::as_str));
        crate::accord(&args).ok();

        let me = server.send("GET", "/api/v1/me", &[ann.cookie()], b"");
        assert_eq!(me.status, 401, "{}", me.body);
        let login = login(&server, "ann", PASSWORD);
        assert_eq!(login.status, 401, "{}", login.body);
        assert_eq!(login.json()["error"]["message"], "wrong user name or password");
    }
}

#[test]
fn the_log_never_shows_a_password_or_a_session_cookie() {
    for backend in backends("sessions_log") {
        user(&backend, "ann", "agent", &[]);
        let server = Server::start_with(&backend, "debug", true);
        let wrong_password = "a wrong password of ann";
        assert_eq!(login(&server, "ann", wrong_password).status, 401);
        // A password typed into the name field.
        let typed_as_name = "password-typed-as-a-name";
        assert_eq!(login(&server, typed_as_name, PASSWORD).status, 401);
        let ann = session(&server, "ann");
        assert_eq!(server.send("GET", "/api/v1/me", &[ann.cookie()], b"").status, 200);
        let posted = server.send(
            "POST",
            "/api/v1/events",
            &[ann.cookie(), ann.csrf()],
            event("e").as_bytes(),
        );
        assert_eq!(posted.status, 200, "{}", posted.body);
        assert_eq!(server.send("POST", "/api/v1/events", &[ann.cookie()], b"").status, 403);
        assert_eq!(
            server.send("POST", "/api/v1/logout", &[ann.cookie(), ann.csrf()], b"").status,
            204
        );
        assert_eq!(server.send("GET", "/api/v1/me", &[ann.cookie()], b"").status, 401);

        let log = server.stop();
        assert!(log.contains("signed in"), "the log was not kept:\n{log}");
        let cookie_value = ann.cookie.trim_start_matches("accord_session=");
        for secret in [PASSWORD, wrong_password, typed_as_name, cookie_value, &ann.csrf_token] {
            assert!(!log.contains(secret), "{secret:?} is in the log:\n{log}");
        }
    }
}
