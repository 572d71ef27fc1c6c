//! Errors of the simulated API server, answered as Kubernetes `Status` objects with the codes
//! and reasons a real server uses, so clients take the same paths they take against a cluster.

use super::selector::SelectorError;
use super::store::StoreError;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Value, json};

/// One failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The store refused the operation.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A selector did not parse.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// A query parameter or body is malformed (400 BadRequest).
    #[error("{0}")]
    BadRequest(String),
    /// The path names no resource this server has (404 NotFound).
    #[error("the server could not find the requested resource")]
    NoSuchResource,
    /// The verb is not served on that resource (405 MethodNotAllowed).
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
}

impl ApiError {
    fn code_and_reason(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Store(StoreError::NotFound { .. }) | ApiError::NoSuchResource => (StatusCode::NOT_FOUND, "NotFound"),
            ApiError::Store(StoreError::AlreadyExists { .. }) => (StatusCode::CONFLICT, "AlreadyExists"),
            ApiError::Store(StoreError::Invalid(_)) => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid"),
            ApiError::Store(StoreError::Expired { .. }) => (StatusCode::GONE, "Expired"),
            ApiError::Selector(_) | ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "BadRequest"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
        }
    }

    /// The `Status` object; also what a watch sends in an ERROR event.
    pub fn status(&self) -> Value {
        let (code, reason) = self.code_and_reason();
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": reason,
            "code": code.as_u16(),
        });
        if let ApiError::Store(StoreError::NotFound { plural, name } | StoreError::AlreadyExists { plural, name }) = self {
            status["details"] = json!({"name": name, "kind": plural});
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, _) = self.code_and_reason();
        (code, axum::Json(self.status())).into_response()
    }
}
