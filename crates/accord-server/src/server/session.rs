//! People signing in: `POST /api/v1/login` checks a user's password and starts a web session,
//! `POST /api/v1/logout` ends it, and `GET /api/v1/me` says who a request acts as. [`Auth`]
//! accepts the session cookie this module hands out, through [`authenticate`]; API tokens stay
//! in `auth`, which knows nothing of passwords, cookies or CSRF.
//!
//! A session is the `accord_session` cookie (`HttpOnly`, `SameSite=Lax`, 12 hours) and a CSRF
//! token the login response carries once. The store keeps only the SHA-256 of each, so a copy
//! of the database lets no one act as a signed-in user. A request authenticated by the cookie
//! with an unsafe method must repeat the CSRF token in `X-CSRF-Token`: a cross-site form can
//! make the browser send the cookie, but cannot read the token.
//!
//! Failed sign-ins are counted in the store per user name and per client address, so every
//! server process sharing the database counts the same ones. After [`MAX_FAILURES`] of either
//! within [`FAILURE_WINDOW`], sign-ins are refused with 429, even with the right password,
//! until the failures age out of the window. The client address is the TCP peer, or, when the
//! peer is one of the configured `trusted_proxies`, the nearest address in `X-Forwarded-For`
//! that is not a trusted proxy (so clients behind a proxy are counted apart, and a client
//! cannot forge its address by sending the header itself).

use std::net::{IpAddr, SocketAddr};

use accord_core::access::{Principal, Scope};
use accord_store::{NewSession, SessionRecord, UserRecord};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::auth::{Auth, Unauthorized};
use super::error::ApiError;
use super::events::json_body;
use crate::account_cmd::{new_secret, secret_hash, verify_password};

/// The name of the session cookie.
const SESSION_COOKIE: &str = "accord_session";

/// The header that repeats a session's CSRF token.
const CSRF_HEADER: &str = "x-csrf-token";

/// How long a session lasts from signing in; it is not extended by use.
const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(12);

/// How far back failed sign-ins count.
const FAILURE_WINDOW: SignedDuration = SignedDuration::from_mins(15);

/// How many failed sign-ins of one user name, or from one client address, within
/// [`FAILURE_WINDOW`] refuse further attempts.
const MAX_FAILURES: u32 = 5;

/// The most characters of a user name that name its failure counter: the key is stored and
/// indexed, and however long the name, it must fit.
const MAX_KEY_NAME_CHARS: usize = 128;

/// An Argon2id hash (of random bytes no one kept) that unknown user names are checked
/// against, so a sign-in takes as long whether or not the name exists. Its parameters are
/// those of `hash_password`, which a test keeps true.
const DUMMY_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$50vv332WMRhdqhYKCvexew$+UbNtxfSKwHTnspc5Lh3XMnsHJB2Ajq0Sp7+Di7YAr0";

/// The one answer to a wrong password, an unknown user and a disabled user alike.
const WRONG_CREDENTIALS: &str = "wrong user name or password";

/// The body of `POST /api/v1/login`. No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    user: String,
    password: String,
}

/// The client's address, when the server knows it (it does when serving; a router called
/// directly, as in handler tests, has none).
pub(super) struct ClientAddress(pub(super) Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        Ok(ClientAddress(peer.map(|peer| client_address(peer, &forwarded, &state.trusted_proxies))))
    }
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; then, walking
/// `X-Forwarded-For` from the nearest hop, the first address that is not a trusted proxy (a
/// malformed entry stops the walk at the last trusted hop).
fn client_address(peer: IpAddr, forwarded: &[&str], trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    let hops = forwarded.iter().flat_map(|value| value.split(',')).map(str::trim).rev();
    for hop in hops {
        if !trusted.contains(&client) {
            break;
        }
        match hop.parse::<IpAddr>() {
            Ok(address) => client = address,
            Err(_) => break,
        }
    }
    client
}

/// `POST /api/v1/login` (anyone): `{"user": NAME, "password": PASSWORD}` in; the user, its
/// role and customer, and the session's CSRF token out, with the session cookie.
pub(super) async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let credentials = read_credentials(body)?;
    let signed_in =
        match sign_in(&state, address, &headers, &credentials.user, credentials.password).await? {
            Ok(signed_in) => signed_in,
            Err(Refusal::WrongCredentials) => {
                return Err(ApiError::unauthorized(WRONG_CREDENTIALS));
            }
            Err(Refusal::TooManyAttempts) => return Ok(too_many_attempts()),
        };
    let body = json!({
        "user": signed_in.user.name,
        "role": signed_in.user.role.as_str(),
        "customer": signed_in.user.customer,
        "csrfToken": signed_in.csrf_token,
        "expiresAt": signed_in.expires_at.to_string(),
    });
    Ok((
        [(SET_COOKIE, signed_in.cookie), (CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(body),
    )
        .into_response())
}

/// A session just started.
pub(super) struct SignedIn {
    /// Who signed in.
    pub(super) user: UserRecord,
    /// The session's CSRF token (the store keeps only its hash).
    pub(super) csrf_token: String,
    /// When the session ends.
    pub(super) expires_at: Timestamp,
    /// `Set-Cookie` for the session cookie.
    pub(super) cookie: HeaderValue,
}

/// Why a sign-in was refused.
pub(super) enum Refusal {
    /// A wrong password, an unknown user or a disabled user alike.
    WrongCredentials,
    /// Too many failed sign-ins of the user name or from the client address.
    TooManyAttempts,
}

/// Checks `user`'s `password` and starts a session, counting failures per user name and
/// client address: what `POST /api/v1/login` and the sign-in form (`POST /login`) share.
pub(super) async fn sign_in(
    state: &AppState,
    address: Option<IpAddr>,
    headers: &HeaderMap,
    user_name: &str,
    password: String,
) -> Result<Result<SignedIn, Refusal>, ApiError> {
    let now = Timestamp::now();
    let client = address.map_or_else(|| "unknown".to_owned(), |address| address.to_string());
    let user_key = failure_key_of_user(user_name);
    let address_key = address.map(|address| format!("address:{address}"));
    let failure_keys: Vec<&str> =
        std::iter::once(user_key.as_str()).chain(address_key.as_deref()).collect();

    // Concurrent attempts may all pass this check before any of them records its failure:
    // the limit slows guessing down, it does not count exactly.
    let since = now.checked_sub(FAILURE_WINDOW).unwrap_or(Timestamp::MIN);
    for key in &failure_keys {
        let n_failures = state.store.login_failures_since(key, since).await?;
        if n_failures >= MAX_FAILURES {
            // The user name is not logged: it may be a password typed into the wrong field.
            let limited = if *key == user_key { "user name" } else { "client address" };
            tracing::warn!(limited, %client, "sign-in refused: too many failed attempts");
            return Ok(Err(Refusal::TooManyAttempts));
        }
    }

    // A name no user can have is not looked up (PostgreSQL refuses a NUL in text).
    let user = if user_name.chars().any(char::is_control) {
        None
    } else {
        state.store.user(user_name).await?
    };
    let password_hash =
        user.as_ref().map_or_else(|| DUMMY_PASSWORD_HASH.to_owned(), |u| u.password_hash.clone());
    // Argon2 takes tens of milliseconds of CPU on purpose: not on the async workers.
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &password_hash))
        .await
        .map_err(|error| ApiError::internal(&error))?;
    let user = match user {
        Some(user) if verified && user.disabled_at.is_none() => user,
        known => {
            for key in &failure_keys {
                state.store.record_login_failure(key, now).await?;
            }
            // An unknown name may be a password typed into the wrong field: not logged.
            match known {
                Some(user) => tracing::info!(user = %user.name, %client, "sign-in failed"),
                None => tracing::info!(%client, "sign-in failed: unknown user"),
            }
            return Ok(Err(Refusal::WrongCredentials));
        }
    };

    let session_id = new_secret("").map_err(|error| ApiError::internal(&*error))?;
    let csrf_token = new_secret("").map_err(|error| ApiError::internal(&*error))?;
    let expires_at = now.checked_add(SESSION_LIFETIME).expect("now plus 12 hours is an instant");
    state
        .store
        .create_session(&NewSession {
            id_hash: secret_hash(&session_id),
            user: user.name.clone(),
            csrf_token_hash: secret_hash(&csrf_token),
            created_at: now,
            expires_at,
        })
        .await?;
    state.store.clear_login_failures(&user_key).await?;
    // A browser signing in again leaves its previous session behind: end it.
    if let Some(previous) = session_cookie(headers) {
        state.store.delete_session(&secret_hash(previous)).await?;
    }
    tracing::info!(user = %user.name, %client, "signed in");

    let cookie = cookie_header(headers, &session_id, SESSION_LIFETIME.as_secs());
    Ok(Ok(SignedIn { user, csrf_token, expires_at, cookie }))
}

/// `POST /api/v1/logout`: ends the session the cookie names (its CSRF token is needed) and
/// clears the cookie. Without a live session there is nothing to end, and it still succeeds.
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    if let Some(cookie) = session_cookie(&headers) {
        let id_hash = secret_hash(cookie);
        let session = state
            .store
            .session_by_hash(&id_hash, Timestamp::now())
            .await
            .map_err(|error| ApiError::from(error).into_response())?;
        if let Some(session) = session {
            check_csrf(&headers, &session).map_err(IntoResponse::into_response)?;
            state
                .store
                .delete_session(&id_hash)
                .await
                .map_err(|error| ApiError::from(error).into_response())?;
            tracing::info!(user = %session.user, "signed out");
        }
    }
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie_header(&headers, "", 0))]).into_response())
}

/// `GET /api/v1/me` (any principal, by token or session): who the request acts as.
pub(super) async fn me(Auth(principal): Auth) -> Response {
    let scopes: Vec<&str> = principal.scopes.iter().map(Scope::as_str).collect();
    axum::Json(json!({
        "user": principal.subject,
        "role": principal.role.as_str(),
        "scopes": scopes,
        "customer": principal.customer,
    }))
    .into_response()
}

/// The value of the session cookie, if the request carries one.
pub(super) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// The principal of the session `cookie` names: its user, with every scope of the user's
/// role (read now, so a changed role applies at once). 401 when the session is unknown,
/// expired or its user disabled; 403 `csrf` for an unsafe method without the session's CSRF
/// token.
pub(super) async fn authenticate(
    method: &Method,
    headers: &HeaderMap,
    state: &AppState,
    cookie: &str,
) -> Result<Principal, Response> {
    let ended = || {
        Unauthorized(ApiError::unauthorized("the session has ended: sign in again")).into_response()
    };
    let session = state
        .store
        .session_by_hash(&secret_hash(cookie), Timestamp::now())
        .await
        .map_err(|error| ApiError::from(error).into_response())?
        .ok_or_else(ended)?;
    let user = state
        .store
        .user(&session.user)
        .await
        .map_err(|error| ApiError::from(error).into_response())?
        .filter(|user| user.disabled_at.is_none())
        .ok_or_else(ended)?;
    if !method.is_safe() {
        check_csrf(headers, &session).map_err(IntoResponse::into_response)?;
    }
    Ok(Principal::new(user.name, user.role, user.role.scopes(), user.customer))
}

/// The cookie that keeps a session's CSRF token for the server's own forms. A form cannot
/// send `X-CSRF-Token`, so a page puts the token in a hidden `csrf` field instead; the server
/// reads it from this cookie (`HttpOnly`, so no script reads it, and a cross-site page cannot
/// read it either). Only the sign-in form sets it: a session started through the API has no
/// forms.
const FORM_CSRF_COOKIE: &str = "accord_csrf";

/// The CSRF token a page puts in its forms' hidden `csrf` field, when the request has one.
pub(super) fn form_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == FORM_CSRF_COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` for the form CSRF cookie of a session just started.
pub(super) fn form_csrf_cookie(headers: &HeaderMap, signed_in: &SignedIn) -> HeaderValue {
    named_cookie_header(
        headers,
        FORM_CSRF_COOKIE,
        &signed_in.csrf_token,
        SESSION_LIFETIME.as_secs(),
    )
}

/// `Set-Cookie` values that clear the session and form CSRF cookies.
pub(super) fn cleared_cookies(headers: &HeaderMap) -> [HeaderValue; 2] {
    [cookie_header(headers, "", 0), named_cookie_header(headers, FORM_CSRF_COOKIE, "", 0)]
}

/// The principal of a form post signed in by the session cookie: as [`authenticate`], but
/// the session's CSRF token comes in the form's `csrf` field (`form_token`) instead of the
/// `X-CSRF-Token` header. 401 without a live session, 403 `csrf` when the token is not the
/// session's.
pub(super) async fn authenticate_form(
    headers: &HeaderMap,
    state: &AppState,
    form_token: &str,
) -> Result<Principal, Response> {
    let cookie = session_cookie(headers).unwrap_or_default();
    let mut with_token = headers.clone();
    with_token.remove(CSRF_HEADER);
    if let Ok(token) = HeaderValue::from_str(form_token) {
        with_token.insert(CSRF_HEADER, token);
    }
    authenticate(&Method::POST, &with_token, state, cookie).await
}

/// 403 `csrf` unless `X-CSRF-Token` holds the session's CSRF token.
fn check_csrf(headers: &HeaderMap, session: &SessionRecord) -> Result<(), ApiError> {
    let given = headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok());
    match given {
        Some(token) if equal_in_constant_time(&secret_hash(token), &session.csrf_token_hash) => {
            Ok(())
        }
        _ => Err(ApiError {
            status: StatusCode::FORBIDDEN,
            code: "csrf",
            message: "a request signed in by cookie needs the session's X-CSRF-Token header"
                .to_owned(),
            field: None,
        }),
    }
}

/// Whether `a` and `b` are equal, taking as long wherever they differ. The length is not
/// secret (both are SHA-256 in hex).
fn equal_in_constant_time(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// Reads the login body; the message never repeats what was sent (it may be a password).
fn read_credentials(body: Result<Bytes, BytesRejection>) -> Result<Credentials, ApiError> {
    let body = body.map_err(|rejection| ApiError {
        status: rejection.status(),
        code: if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else {
            "invalid_body"
        },
        message: rejection.body_text(),
        field: Some("body".to_owned()),
    })?;
    serde_json::from_value(json_body(&body)?).map_err(|_| {
        ApiError::body(r#"expected {"user": NAME, "password": PASSWORD}, both strings"#)
    })
}

/// The failure counter of a user name: control characters dropped and the length capped, so
/// any name makes a key the store takes; names alike in their first 128 characters share one.
fn failure_key_of_user(name: &str) -> String {
    let kept: String = name.chars().filter(|c| !c.is_control()).take(MAX_KEY_NAME_CHARS).collect();
    format!("user:{kept}")
}

/// 429 `too_many_attempts`, with the longest wait: the failures have aged out of the window
/// by then.
fn too_many_attempts() -> Response {
    let wait = FAILURE_WINDOW;
    let mut response = ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "too_many_attempts",
        message: format!("too many failed sign-ins: try again in {} minutes", wait.as_mins()),
        field: None,
    }
    .into_response();
    response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(wait.as_secs()));
    response
}

/// `Set-Cookie` for the session cookie holding `value` for `max_age_secs` (0 clears it).
/// `Secure` is added when the request came over HTTPS as the proxy in front says
/// (`X-Forwarded-Proto: https`); the server itself speaks plain HTTP.
fn cookie_header(request_headers: &HeaderMap, value: &str, max_age_secs: i64) -> HeaderValue {
    named_cookie_header(request_headers, SESSION_COOKIE, value, max_age_secs)
}

/// `Set-Cookie` for cookie `name`, as [`cookie_header`] makes the session cookie.
fn named_cookie_header(
    request_headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age_secs: i64,
) -> HeaderValue {
    let https = request_headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let secure = if https { "; Secure" } else { "" };
    let cookie =
        format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&cookie).expect("a base64url secret makes a header value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account_cmd::hash_password;

    #[test]
    fn the_client_behind_trusted_proxies_is_the_first_untrusted_hop() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let trusted = [ip("10.0.0.2"), ip("10.0.0.3")];
        // Straight from a client: the header is not believed.
        assert_eq!(client_address(ip("203.0.113.9"), &["1.2.3.4"], &trusted), ip("203.0.113.9"));
        // Through two trusted proxies; the leftmost entry was sent by the client and is
        // ignored because an untrusted hop comes first.
        let through = ["6.6.6.6, 198.51.100.7, 10.0.0.3"];
        assert_eq!(client_address(ip("10.0.0.2"), &through, &trusted), ip("198.51.100.7"));
        // A trusted proxy with no header, or a malformed one, is the client as far as known.
        assert_eq!(client_address(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
        assert_eq!(client_address(ip("10.0.0.2"), &["junk"], &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let params = |phc: &str| phc.rsplitn(3, '$').nth(2).map(str::to_owned);
        let real = hash_password("correct horse battery").unwrap();
        assert_eq!(params(DUMMY_PASSWORD_HASH), params(&real));
        assert_eq!(params(&real).as_deref(), Some("$argon2id$v=19$m=19456,t=2,p=1"));
        assert!(!verify_password("", DUMMY_PASSWORD_HASH));
    }

    #[test]
    fn constant_time_equality_is_equality() {
        assert!(equal_in_constant_time("", ""));
        assert!(equal_in_constant_time("abc", "abc"));
        assert!(!equal_in_constant_time("abc", "abd"));
        assert!(!equal_in_constant_time("abc", "ab"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        assert_eq!(session_cookie(&headers), None);
        headers.append(COOKIE, HeaderValue::from_static("theme=dark; accord_sessionx=1"));
        headers.append(COOKIE, HeaderValue::from_static("a=b;accord_session=s3cr-t_; c=d"));
        assert_eq!(session_cookie(&headers), Some("s3cr-t_"));
    }

    #[test]
    fn the_cookie_is_secure_behind_an_https_proxy() {
        let mut headers = HeaderMap::new();
        let plain = cookie_header(&headers, "v", 43200);
        assert_eq!(plain, "accord_session=v; HttpOnly; SameSite=Lax; Path=/; Max-Age=43200");
        headers.insert("x-forwarded-proto", HeaderValue::from_static("HTTPS"));
        assert!(cookie_header(&headers, "", 0).to_str().unwrap().ends_with("Max-Age=0; Secure"));
    }

    #[test]
    fn failure_keys_fit_the_store_whatever_the_name() {
        assert_eq!(failure_key_of_user("ann"), "user:ann");
        assert_eq!(failure_key_of_user("a\0b\nc"), "user:abc");
        assert_eq!(failure_key_of_user(&"x".repeat(10_000)).len(), 5 + MAX_KEY_NAME_CHARS);
    }
}
