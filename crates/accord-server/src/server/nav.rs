//! What every signed-in page's header shows ([`Nav`]: the sections, the user, the language
//! switch and the sign-out button, drawn by `templates/nav.html`) and how a page is answered
//! ([`html_response`]: the headers every page sends, and the `lang` cookie when `?lang=`
//! chose the language). Apart from `page` because `page` says who is asking; this says what
//! the frame around every page looks like.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, SET_COOKIE, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::page::{Page, query_value};
use super::session;
use crate::web::i18n::Lang;

/// The sections of the signed-in pages: path and message key.
const SECTIONS: [(&str, &str); 5] = [
    ("/dashboard", "ui.nav.dashboard"),
    ("/agreements", "ui.nav.agreements"),
    ("/tickets", "ui.nav.tickets"),
    ("/availability", "ui.nav.availability"),
    ("/reports", "ui.nav.reports"),
];

/// A link in the header.
#[derive(Debug)]
pub(super) struct NavLink {
    pub(super) href: &'static str,
    pub(super) label: &'static str,
    pub(super) current: bool,
}

/// A language in the switch.
#[derive(Debug)]
pub(super) struct LanguageLink {
    pub(super) tag: &'static str,
    pub(super) name: &'static str,
    pub(super) current: bool,
}

impl LanguageLink {
    /// The switch: every language, `lang` marked as the current one.
    pub(super) fn all(lang: Lang) -> Vec<LanguageLink> {
        Lang::ALL
            .iter()
            .map(|each| LanguageLink {
                tag: each.tag(),
                name: each.t("lang.name"),
                current: *each == lang,
            })
            .collect()
    }
}

/// The header of a signed-in page.
#[derive(Debug)]
pub(super) struct Nav {
    /// Who is signed in.
    pub(super) user: String,
    pub(super) links: Vec<NavLink>,
    pub(super) languages: Vec<LanguageLink>,
    /// The session's CSRF token for the sign-out form (empty for a bearer token).
    pub(super) csrf: String,
}

impl Nav {
    /// The header for `page`, with the section `current` (a path of [`SECTIONS`]) marked.
    pub(super) fn new(page: &Page, headers: &HeaderMap, current: &str) -> Nav {
        let lang = page.lang;
        Nav {
            user: page.principal.subject.clone(),
            links: SECTIONS
                .iter()
                .map(|&(href, key)| match (href, &page.principal.customer) {
                    // A customer's home is its portal.
                    ("/dashboard", Some(_)) => ("/portal", "portal.nav.portal"),
                    _ => (href, key),
                })
                .map(|(href, key)| NavLink { href, label: lang.t(key), current: href == current })
                .collect(),
            languages: LanguageLink::all(lang),
            csrf: session::form_token(headers).unwrap_or_default(),
        }
    }
}

/// A rendered page with `status` and the headers every page sends; when the query
/// (`?lang=`) chose the language, the `lang` cookie remembers it for the next page.
pub(super) fn html_response(
    status: StatusCode,
    lang: Lang,
    query: Option<&str>,
    html: String,
) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (CONTENT_TYPE, "text/html; charset=utf-8"),
        (VARY, "Accept-Language, Cookie"),
        (CACHE_CONTROL, "no-store"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Inline style and SVG, forms to this site only: no script, no other origin.
        (
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if query_value(query, "lang").as_deref().and_then(Lang::parse) == Some(lang) {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.tag());
        if let Ok(cookie) = HeaderValue::from_str(&cookie) {
            headers.append(SET_COOKIE, cookie);
        }
    }
    response
}
