//! The sign-in pages: `GET`/`POST /login` (the form; the session it starts is the one
//! `POST /api/v1/login` starts, through `session::sign_in`), `POST /logout` and
//! `GET`/`POST /account/password`. Apart from `session` because this is HTML and forms; the
//! rules (failure counting, cookies, CSRF) stay there.
//!
//! A form cannot send `X-CSRF-Token`, so the sign-in form also sets the `accord_csrf` cookie
//! (see `session::form_token`) and every form repeats its value in a hidden `csrf` field.

use accord_core::access::Role;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use super::nav::{LanguageLink, Nav, html_response};
use super::page::{Page, percent_encode, query_value, see_other};
use super::session::{self, ClientAddress, Refusal};
use crate::account_cmd::{MIN_PASSWORD_CHARS, hash_password, secret_hash, verify_password};
use crate::web::CSS;
use crate::web::i18n::{self, Lang};

#[derive(Debug, Template)]
#[template(path = "login.html")]
struct LoginPage {
    lang: Lang,
    css: &'static str,
    title: &'static str,
    languages: Vec<LanguageLink>,
    user: String,
    next: String,
    /// `next` percent-encoded, for the language links.
    next_query: String,
    error: String,
}

/// The sign-in form's fields. No `Debug`: it holds a password.
#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The language of a page anyone may see (no [`Page`]): `?lang=`, the cookie, the header.
fn anonymous_lang(uri: &Uri, headers: &HeaderMap) -> Lang {
    let cookies = headers.get(COOKIE).and_then(|value| value.to_str().ok());
    let accept_language = headers.get(ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok());
    Lang::choose(
        query_value(uri.query(), "lang").as_deref(),
        i18n::cookie(cookies, "lang"),
        accept_language,
    )
}

/// `next` when it is a path on this site (`/…`, not `//…` or `/\…`, which browsers read as
/// another host), else empty.
fn same_site_path(next: &str) -> &str {
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if safe { next } else { "" }
}

fn login_page(lang: Lang, user: String, next: &str, error: &str) -> Result<String, ApiError> {
    LoginPage {
        lang,
        css: CSS,
        title: lang.t("ui.login.title"),
        languages: LanguageLink::all(lang),
        user,
        next: same_site_path(next).to_owned(),
        next_query: percent_encode(same_site_path(next)),
        error: error.to_owned(),
    }
    .render()
    .map_err(|error| ApiError::internal(&error))
}

/// `GET /login` (anyone): the sign-in form; `?next=PATH` is where it leads.
pub(super) async fn get_login(uri: Uri, headers: HeaderMap) -> Result<Response, ApiError> {
    let lang = anonymous_lang(&uri, &headers);
    let next = query_value(uri.query(), "next").unwrap_or_default();
    let html = login_page(lang, String::new(), &next, "")?;
    Ok(html_response(StatusCode::OK, lang, uri.query(), html))
}

/// `POST /login` (anyone; form `user`, `password`, `next`): starts a session as
/// `POST /api/v1/login` does and sends the browser on (303) to `next`, else to `/portal` for a
/// customer and `/dashboard` for staff. A refusal shows the form again: 401 for a wrong user
/// name or password, 429 after too many failures.
pub(super) async fn post_login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let lang = anonymous_lang(&uri, &headers);
    let form = form.map_or_else(
        |_| LoginForm { user: String::new(), password: String::new(), next: String::new() },
        |Form(form)| form,
    );
    let LoginForm { user, password, next } = form;
    let refused = |status: StatusCode, key: &str, user: String| -> Result<Response, ApiError> {
        let html = login_page(lang, user, &next, lang.t(key))?;
        Ok(html_response(status, lang, None, html))
    };
    if user.is_empty() || password.is_empty() {
        return refused(StatusCode::UNAUTHORIZED, "ui.login.missing", user);
    }
    let signed_in = match session::sign_in(&state, address, &headers, &user, password).await? {
        Ok(signed_in) => signed_in,
        Err(Refusal::WrongCredentials) => {
            return refused(StatusCode::UNAUTHORIZED, "ui.login.wrong", user);
        }
        Err(Refusal::TooManyAttempts) => {
            return refused(StatusCode::TOO_MANY_REQUESTS, "ui.login.too_many", user);
        }
    };
    let home = if signed_in.user.role == Role::Customer { "/portal" } else { "/dashboard" };
    let next = same_site_path(&next);
    let mut response = see_other(if next.is_empty() { home } else { next });
    let csrf_cookie = session::form_csrf_cookie(&headers, &signed_in);
    response.headers_mut().append(SET_COOKIE, signed_in.cookie);
    response.headers_mut().append(SET_COOKIE, csrf_cookie);
    Ok(response)
}

/// A form with nothing but the CSRF token.
#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout` (form `csrf`): ends the session and goes (303) to `/login`. Without a live
/// session there is nothing to end, and it goes there all the same; a form without the
/// session's token is refused (403).
pub(super) async fn post_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, Response> {
    let csrf = form.map(|Form(form)| form.csrf).unwrap_or_default();
    if let Some(cookie) = session::session_cookie(&headers) {
        match session::authenticate_form(&headers, &state, &csrf).await {
            Ok(principal) => {
                state
                    .store
                    .delete_session(&secret_hash(cookie))
                    .await
                    .map_err(|error| ApiError::from(error).into_response())?;
                tracing::info!(user = %principal.subject, "signed out");
            }
            Err(response) if response.status() == StatusCode::UNAUTHORIZED => {}
            Err(response) => return Err(response),
        }
    }
    let mut response = see_other("/login");
    for cookie in session::cleared_cookies(&headers) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}

#[derive(Debug, Template)]
#[template(path = "password.html")]
struct PasswordPage {
    lang: Lang,
    css: &'static str,
    title: &'static str,
    nav: Nav,
    error: String,
    done: bool,
    min_chars: String,
}

fn password_page(
    page: &Page,
    headers: &HeaderMap,
    status: StatusCode,
    error: String,
    done: bool,
) -> Result<Response, ApiError> {
    let lang = page.lang;
    let html = PasswordPage {
        lang,
        css: CSS,
        title: lang.t("ui.password.title"),
        nav: Nav::new(page, headers, ""),
        error,
        done,
        min_chars: lang.fill("ui.password.rule", &[("n", &MIN_PASSWORD_CHARS.to_string())]),
    }
    .render()
    .map_err(|error| ApiError::internal(&error))?;
    let query = page.path.split_once('?').map(|(_, query)| query);
    Ok(html_response(status, lang, query, html))
}

/// `GET /account/password` (any signed-in user): the form to change one's password.
pub(super) async fn get_password(page: Page, headers: HeaderMap) -> Result<Response, ApiError> {
    password_page(&page, &headers, StatusCode::OK, String::new(), false)
}

/// The password form's fields. No `Debug`: it holds passwords.
#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// `POST /account/password` (form `csrf`, `current`, `new`, `repeat`): sets the signed-in
/// user's password through `Store::set_password`, which the audit log records. The current
/// password must be right (401 otherwise), the new one typed twice alike and long enough
/// (422 otherwise).
pub(super) async fn post_password(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response, Response> {
    // Not `Page`: its `Auth` wants the token in a header, and a form sends it as a field.
    let Ok(Form(form)) = form else {
        return Err(ApiError::body("expected the form's fields").into_response());
    };
    let principal = match session::authenticate_form(&headers, &state, &form.csrf).await {
        Ok(principal) => principal,
        Err(response) if response.status() == StatusCode::UNAUTHORIZED => {
            return Ok(see_other("/login?next=/account/password"));
        }
        Err(response) => return Err(response),
    };
    let page = Page {
        principal,
        lang: anonymous_lang(&uri, &headers),
        zone: jiff::tz::TimeZone::UTC,
        path: "/account/password".to_owned(),
    };
    let name = page.principal.subject.clone();
    let answer = change_password(&state, &page, &headers, &name, form).await;
    answer.map_err(IntoResponse::into_response)
}

async fn change_password(
    state: &AppState,
    page: &Page,
    headers: &HeaderMap,
    name: &str,
    form: PasswordForm,
) -> Result<Response, ApiError> {
    let lang = page.lang;
    let refuse =
        |status, key: &str| password_page(page, headers, status, lang.t(key).to_owned(), false);
    let Some(user) = state.store.user(name).await? else {
        return refuse(StatusCode::UNAUTHORIZED, "ui.password.wrong");
    };
    let PasswordForm { current, new, repeat, .. } = form;
    let password_hash = user.password_hash.clone();
    let verified = tokio::task::spawn_blocking(move || verify_password(&current, &password_hash))
        .await
        .map_err(|error| ApiError::internal(&error))?;
    if !verified {
        tracing::info!(user = %user.name, "password change refused: wrong current password");
        return refuse(StatusCode::UNAUTHORIZED, "ui.password.wrong");
    }
    if new != repeat {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "ui.password.mismatch");
    }
    if new.chars().count() < MIN_PASSWORD_CHARS {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "ui.password.short");
    }
    let new_hash = tokio::task::spawn_blocking(move || hash_password(&new))
        .await
        .map_err(|error| ApiError::internal(&error))?
        .map_err(|error| ApiError::internal(error.as_ref()))?;
    state.store.set_password(&user.name, &new_hash, &user.name, Timestamp::now()).await?;
    tracing::info!(user = %user.name, "password changed");
    password_page(page, headers, StatusCode::OK, String::new(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_kept_only_when_it_stays_on_this_site() {
        assert_eq!(same_site_path("/tickets?x=1"), "/tickets?x=1");
        assert_eq!(same_site_path("//evil.example/"), "");
        assert_eq!(same_site_path("/\\evil.example"), "");
        assert_eq!(same_site_path("https://evil.example/"), "");
        assert_eq!(same_site_path("/a\nb"), "");
        assert_eq!(same_site_path(""), "");
    }
}
