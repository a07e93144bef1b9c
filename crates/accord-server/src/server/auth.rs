//! Who is asking: every API route takes an [`Auth`], which reads the bearer token, looks up its
//! hash, and refuses a missing, unknown or revoked one with 401. A request without a token but
//! with a session cookie is a signed-in user's: `session` checks that one, CSRF included.

use accord_core::access::{Principal, Scope};
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};

use super::AppState;
use super::error::ApiError;
use super::session;
use crate::account_cmd::secret_hash;

/// The principal a request acts as.
#[derive(Clone, Debug)]
pub(super) struct Auth(pub(super) Principal);

impl Auth {
    /// The principal, if it holds `scope`; 403 otherwise.
    pub(super) fn require(&self, scope: Scope) -> Result<&Principal, ApiError> {
        if self.0.may(scope) {
            Ok(&self.0)
        } else {
            Err(ApiError::forbidden(format!("this needs the {scope} scope")))
        }
    }

    /// The principal, if it is provider staff holding `scope` (not a customer); 403 otherwise.
    pub(super) fn require_staff(&self, scope: Scope) -> Result<&Principal, ApiError> {
        let principal = self.require(scope)?;
        if principal.customer.is_some() {
            return Err(ApiError::forbidden("this is for the provider's staff"));
        }
        Ok(principal)
    }
}

/// A 401 that says how to authenticate.
pub(super) struct Unauthorized(pub(super) ApiError);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response.headers_mut().insert(WWW_AUTHENTICATE, "Bearer".parse().expect("a header value"));
        response
    }
}

/// How often a token's last use is written: at most once a minute per token.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Auth, Self::Rejection> {
        let unauthorized =
            |message: &str| Unauthorized(ApiError::unauthorized(message)).into_response();
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            if let Some(cookie) = session::session_cookie(&parts.headers) {
                return session::authenticate(&parts.method, &parts.headers, state, cookie)
                    .await
                    .map(Auth);
            }
            return Err(unauthorized(
                "send an API token (Authorization: Bearer TOKEN) or sign in at /api/v1/login",
            ));
        };
        let Some(token) = header.to_str().ok().and_then(|value| value.strip_prefix("Bearer "))
        else {
            return Err(unauthorized("the Authorization header must be Bearer TOKEN"));
        };
        let record = match state.store.token_by_hash(&secret_hash(token.trim())).await {
            Ok(record) => record,
            Err(error) => return Err(ApiError::from(error).into_response()),
        };
        let Some(record) = record.filter(|record| record.revoked_at.is_none()) else {
            return Err(unauthorized("the token is unknown or revoked"));
        };
        let now = Timestamp::now();
        let stale = record.last_used_at.is_none_or(|used| now.duration_since(used) > TOUCH_EVERY);
        if stale && let Err(error) = state.store.touch_token(record.id, now).await {
            tracing::warn!(%error, token = %record.name, "could not record the token's use");
        }
        Ok(Auth(Principal::new(
            format!("token:{}", record.name),
            record.role,
            record.scopes,
            record.customer,
        )))
    }
}
