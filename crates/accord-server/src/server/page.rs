//! What every signed-in web page takes: [`Page`], the principal (from the session cookie or a
//! bearer token, through [`Auth`]), the language and the zone the viewer reads in. A request
//! without a valid session is sent to `/login?next=PATH` instead of getting a 401, so a
//! browser lands on the sign-in page and comes back.

use accord_core::access::Principal;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;

use super::AppState;
use super::auth::Auth;
use crate::web::i18n::{self, Lang};

/// A signed-in viewer of a page.
#[derive(Clone, Debug)]
pub(super) struct Page {
    /// Who is asking.
    pub(super) principal: Principal,
    /// The language to answer in (`?lang=`, the `lang` cookie, `Accept-Language`).
    pub(super) lang: Lang,
    /// The zone to show times in (`?tz=`, the `tz` cookie, else UTC), always named on the page.
    pub(super) zone: TimeZone,
    /// The path and query asked for (where sign-in returns to).
    pub(super) path: String,
}

/// The value of `name` in a query string (no decoding beyond `+` and `%XX`).
pub(super) fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

/// `%XX` and `+` decoded; invalid escapes kept as they are.
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        match bytes[idx] {
            b'+' => out.push(b' '),
            b'%' if idx + 2 < bytes.len() => {
                match u8::from_str_radix(&text[idx + 1..idx + 3], 16) {
                    Ok(byte) => {
                        out.push(byte);
                        idx += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        idx += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with everything but unreserved characters and `/` percent-encoded.
pub(super) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A 303 to `location`.
pub(super) fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Page, Response> {
        let path = parts.uri.path_and_query().map_or_else(|| "/".to_owned(), |p| p.to_string());
        let auth = match Auth::from_request_parts(parts, state).await {
            Ok(auth) => auth,
            Err(response) if response.status() == StatusCode::UNAUTHORIZED => {
                return Err(see_other(&format!("/login?next={}", percent_encode(&path))));
            }
            Err(response) => return Err(response),
        };
        let query = parts.uri.query();
        let cookies = parts.headers.get(COOKIE).and_then(|value| value.to_str().ok());
        let accept_language = parts.headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
        let lang = Lang::choose(
            query_value(query, "lang").as_deref(),
            i18n::cookie(cookies, "lang"),
            accept_language,
        );
        let zone = i18n::choose_zone(
            query_value(query, "tz").as_deref(),
            i18n::cookie(cookies, "tz"),
            TimeZone::UTC,
        );
        Ok(Page { principal: auth.0, lang, zone, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_survive_encoding_and_decoding() {
        let path = "/tickets/T-1?lang=zh-CN&q=a b";
        assert_eq!(percent_decode(&percent_encode(path)), path);
        assert_eq!(
            query_value(Some("next=%2Fdashboard%3Fx%3D1&lang=en"), "next").unwrap(),
            "/dashboard?x=1"
        );
        assert_eq!(percent_decode("100%"), "100%");
    }
}
