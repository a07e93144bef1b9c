//! The API's errors: one JSON body for every failure, with a machine code, a message, and the
//! request field at fault when there is one.
//!
//! ```json
//! {"error": {"code": "invalid_field", "message": "expected an instant with a UTC offset", "field": "[2].at"}}
//! ```

use accord_store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable word for programs: `invalid_field`, `unauthorized`, ...
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
    /// The request field at fault (`[2].at`, `body`), when there is one.
    pub field: Option<String>,
}

impl ApiError {
    /// 400: a field of the request is wrong.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_field",
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// 400: the body is not what the route takes.
    pub fn body(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_body",
            message: message.into(),
            field: Some("body".to_owned()),
        }
    }

    /// 401: no valid credentials.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: message.into(),
            field: None,
        }
    }

    /// 403: valid credentials without the right.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::FORBIDDEN,
            code: "forbidden",
            message: message.into(),
            field: None,
        }
    }

    /// 404: nothing there (also what a customer gets for another customer's data).
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
            field: None,
        }
    }

    /// 409: the request contradicts what is stored.
    pub fn conflict(message: impl Into<String>, field: Option<String>) -> ApiError {
        ApiError { status: StatusCode::CONFLICT, code: "conflict", message: message.into(), field }
    }

    /// 503: the store cannot be reached or is busy; the client may retry.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "unavailable",
            message: message.into(),
            field: None,
        }
    }

    /// 500: a fault of the server, logged; the message says no more than that.
    pub fn internal(error: &dyn std::error::Error) -> ApiError {
        tracing::error!(error = %error, "request failed");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "the server failed; the error is in its log".to_owned(),
            field: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match &error {
            StoreError::NotFound { what } => ApiError::not_found(format!("no {what}")),
            StoreError::Invalid { what } => ApiError::body(what.clone()),
            StoreError::Lifecycle(refused) => ApiError::conflict(refused.to_string(), None),
            StoreError::Duplicate { what } => {
                ApiError::conflict(format!("{what} already exists"), None)
            }
            StoreError::EventConflict { id, .. } => {
                ApiError::conflict(error.to_string(), Some(format!("id {id}")))
            }
            StoreError::Conflict { .. } => {
                ApiError::unavailable("the store is busy with a conflicting change; try again")
            }
            _ => ApiError::internal(&error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}
