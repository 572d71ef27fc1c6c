//! `GET /api/v1/jobs/{ns}/{name}/metrics?from&to&step`: the job's container metrics as
//! [`app::api::JobMetrics`]. A metrics source that fails is an error of the panels it feeds
//! inside a 200, so the page draws what it has; only an unknown job (404) or a range that does
//! not parse (400) fail the request.

use super::json_body::JsonBody;
use crate::access::{Caller, visible_job, visible_spark_ui};
use crate::metrics::SparkRest;
use crate::metrics::range::{MetricsRange, RangeError};
use crate::model::pod::JobKey;
use crate::state::AppState;
use app::api::JobMetrics;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use serde_json::json;

/// This module's routes.
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
    /// `summarise` is not a count of executors to keep.
    #[error("summarise={0:?} is not a number of executors from 0 to 1000")]
    Summarise(String),
}

impl IntoResponse for MetricsRequestError {
    fn into_response(self) -> Response {
        let status = match self {
            MetricsRequestError::NotFound(..) => StatusCode::NOT_FOUND,
            MetricsRequestError::Range(_) | MetricsRequestError::Summarise(_) => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

async fn job_metrics(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((namespace, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<JsonBody<JobMetrics>, MetricsRequestError> {
    let key = JobKey { namespace, name };
    let Some(detail) = visible_job(&state, &caller, &key).await else {
        return Err(MetricsRequestError::NotFound(key.namespace, key.name));
    };
    let raw = raw.unwrap_or_default();
    let range = MetricsRange::parse(&raw, &detail, Timestamp::now())?;
    let keep = summarise_param(&raw)?;
    // The Spark UI's upstream as the proxy would pick it: the driver, or the History Server.
    let spark = SparkRest { client: &state.spark, upstream: state.spark.upstream(visible_spark_ui(&state, &caller, &key)) };
    let mut metrics = state.metrics.job_metrics(&detail, &range, spark).await;
    if let Some(keep) = keep {
        app::metrics::summary::summarise(&mut metrics, &detail.pods, keep);
    }
    Ok(JsonBody::for_request(&headers, metrics))
}

/// `summarise=N`: beyond N executors, fold them into max, median and min (keeping N notable
/// ones line by line). The page asks for it; scripts get every series unless they ask too.
fn summarise_param(raw: &str) -> Result<Option<usize>, MetricsRequestError> {
    let Some(value) = app::query::decoded_pairs(raw).into_iter().find(|(k, _)| k == "summarise").map(|(_, v)| v) else {
        return Ok(None);
    };
    match value.parse::<usize>() {
        Ok(n) if n <= 1000 => Ok(Some(n)),
        _ => Err(MetricsRequestError::Summarise(value)),
    }
}
