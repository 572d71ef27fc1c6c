//! The JSON API in `app::api`'s wire format (`REFERENCE.md`, "Wire format"), plus `/healthz` and `/readyz`.

use super::json_body::JsonBody;
use crate::access::{Caller, visible_job, visible_jobs};
use crate::model::pod::JobKey;
use crate::state::AppState;
use app::api::{JobDetail, JobList};
use app::query::{JobQuery, QueryError};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{HeaderMap, StatusCode};
use serde_json::json;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/jobs", get(list_jobs))
        .route("/api/v1/jobs/{namespace}/{name}", get(get_job))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

/// Errors of the JSON API: each chooses its status and says what was asked for.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No job has that id (or the caller may not see it, which must look the same).
    #[error("no job {namespace}/{name}")]
    JobNotFound {
        /// The namespace asked for.
        namespace: String,
        /// The name asked for.
        name: String,
    },
    /// A query parameter that does not parse.
    #[error(transparent)]
    BadQuery(#[from] QueryError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::JobNotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::BadQuery(_) => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// The list's query from a raw query string.
pub fn parse_query(raw: Option<&str>) -> Result<JobQuery, ApiError> {
    Ok(JobQuery::from_query_string(raw.unwrap_or_default())?)
}

async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<JsonBody<JobList>, ApiError> {
    let query = parse_query(raw.as_deref())?;
    Ok(JsonBody::for_request(&headers, visible_jobs(&state, &caller, &query)))
}

async fn get_job(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<JsonBody<JobDetail>, ApiError> {
    let key = JobKey { namespace, name };
    match visible_job(&state, &caller, &key).await {
        Some(detail) => Ok(JsonBody::for_request(&headers, detail)),
        None => Err(ApiError::JobNotFound { namespace: key.namespace, name: key.name }),
    }
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.model.is_ready() {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "waiting for the first list of jobs and pods").into_response()
    }
}
