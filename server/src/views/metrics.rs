//! `GET /api/v1/jobs/{ns}/{name}/metrics?from&to&step`: the job's container metrics as
//! [`app::api::JobMetrics`]. A metrics source that fails is an error of the panels it feeds
//! inside a 200, so the page draws what it has; only an unknown job (404) or a range that does
//! not parse (400) fail the request.

use super::AppState;
use super::access::{Caller, can_view};
use crate::metrics::SparkRest;
use crate::metrics::range::{MetricsRange, RangeError};
use crate::model::pod::JobKey;
use app::api::JobMetrics;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use jiff::Timestamp;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/jobs/{namespace}/{name}/metrics", get(job_metrics))
}

/// Why a metrics request was refused.
#[derive(Debug, thiserror::Error)]
pub enum MetricsRequestError {
    /// No job has that id (or the caller may not see it, which must look the same).
    #[error("no job {0}/{1}")]
    NotFound(String, String),
    /// `from`, `to` or `step` do not parse, or ask for too many points.
    #[error(transparent)]
    Range(#[from] RangeError),
}

impl IntoResponse for MetricsRequestError {
    fn into_response(self) -> Response {
        let status = match self {
            MetricsRequestError::NotFound(..) => StatusCode::NOT_FOUND,
            MetricsRequestError::Range(_) => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

async fn job_metrics(
    State(state): State<AppState>,
    Path((namespace, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<JobMetrics>, MetricsRequestError> {
    let key = JobKey { namespace, name };
    let Some(detail) = can_view(&Caller, &key.namespace).then_some(()).and(state.job_detail(&key).await) else {
        return Err(MetricsRequestError::NotFound(key.namespace, key.name));
    };
    let range = MetricsRange::parse(raw.as_deref().unwrap_or_default(), &detail, Timestamp::now())?;
    // The Spark UI's upstream as the proxy would pick it: the driver, or the History Server.
    let spark = SparkRest { client: &state.ui_client, upstream: state.ui_client.upstream(state.model.spark_ui(&key)) };
    Ok(Json(state.metrics.job_metrics(&detail, &range, spark).await))
}
