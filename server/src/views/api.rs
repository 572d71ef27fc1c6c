//! The JSON API, in the wire format of `DESIGN.md`, plus `/healthz` and `/readyz`.

use super::AppState;
use super::access::{Caller, can_view};
use crate::model::pod::JobKey;
use app::api::{Job, JobDetail, JobList};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde_json::json;

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
    JobNotFound { namespace: String, name: String },
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::JobNotFound { .. } => StatusCode::NOT_FOUND,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

async fn list_jobs(State(state): State<AppState>) -> Json<JobList> {
    let caller = Caller;
    let jobs: Vec<Job> = state.model.jobs().into_iter().filter(|j| can_view(&caller, &j.namespace)).collect();
    Json(JobList { total: jobs.len(), jobs, next: None })
}

async fn get_job(State(state): State<AppState>, Path((namespace, name)): Path<(String, String)>) -> Result<Json<JobDetail>, ApiError> {
    let caller = Caller;
    let key = JobKey { namespace, name };
    match state.model.job_detail(&key) {
        Some(detail) if can_view(&caller, &detail.job.namespace) => Ok(Json(detail)),
        _ => Err(ApiError::JobNotFound { namespace: key.namespace, name: key.name }),
    }
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.model.is_ready() {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "waiting for the first list of jobs and pods").into_response()
    }
}
