//! `GET /api/v1/jobs/{ns}/{name}/logs`: the job's merged log as streaming NDJSON (one
//! [`app::api::LogEvent`] per line), or as plain text for a download (`format=text`).
//!
//! The body is written batch by batch as the merge releases events, so the first lines arrive
//! while the rest is still being read, and memory stays bounded whatever the log's size. With
//! `follow=true` the response stays open while the job runs.

use crate::access::{Caller, visible_job};
use crate::logs::event::Event;
use crate::logs::merge::Merge;
use crate::logs::plan::Lookup;
use crate::model::pod::JobKey;
use crate::state::AppState;
use app::api::{LogLevel, LogSource, nanos};
use app::log_query::{LogFormat, LogQuery};
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{StatusCode, header};
use regex::Regex;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/jobs/{namespace}/{name}/logs", get(job_log))
}

/// Why a log request was refused.
#[derive(Debug, thiserror::Error)]
pub enum LogRequestError {
    #[error("no job {0}/{1}")]
    /// No job of that namespace and name (or the caller may not see it).
    NotFound(String, String),
    #[error(transparent)]
    /// A query parameter that does not parse.
    Query(#[from] app::log_query::LogQueryError),
    #[error("bad regular expression: {0}")]
    /// `re` is not a regular expression (or too large a one).
    Regex(#[from] regex::Error),
}

impl IntoResponse for LogRequestError {
    fn into_response(self) -> Response {
        let status = match self {
            LogRequestError::NotFound(..) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// The filters applied to what the merge releases.
struct Filter {
    query: LogQuery,
    regex: Option<Regex>,
}

impl Filter {
    fn keeps(&self, event: &Event) -> bool {
        if event.level == LogLevel::Marker {
            return true;
        }
        self.query.keeps_line(event.level, &event.text) && self.regex.as_ref().is_none_or(|re| re.is_match(&event.text))
    }
}

/// [`app::api::LogEvent`]'s shape, borrowed, so writing an event copies no text.
#[derive(Serialize)]
struct WireEvent<'a> {
    id: String,
    time: String,
    source: &'a LogSource,
    level: LogLevel,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<&'a str>,
}

/// Appends one event as an NDJSON line (public for the benchmark).
pub fn write_ndjson(event: &Event, out: &mut Vec<u8>) {
    let wire = WireEvent {
        id: event.id(),
        time: nanos::format(event.time.timestamp()),
        source: &event.source.source,
        level: event.level,
        text: &event.text,
        stream: event.stream,
    };
    if serde_json::to_writer(&mut *out, &wire).is_ok() {
        out.push(b'\n');
    }
}

fn write_text(event: &Event, out: &mut Vec<u8>) {
    let line = format!(
        "{} {:<14} {:<7} {}\n",
        nanos::format(event.time.timestamp()),
        event.source.source.label(),
        event.level.as_str(),
        event.text
    );
    out.extend_from_slice(line.as_bytes());
}

async fn job_log(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, LogRequestError> {
    let query = LogQuery::from_query_string(raw.as_deref().unwrap_or_default())?;
    let regex =
        query.re.as_deref().map(|re| regex::RegexBuilder::new(re).case_insensitive(true).size_limit(1 << 20).build()).transpose()?;
    let key = JobKey { namespace, name };
    let detail = match visible_job(&state, &caller, &key).await {
        Some(detail) => detail,
        None => return Err(LogRequestError::NotFound(key.namespace, key.name)),
    };
    let lookup: Lookup = {
        let (state, key) = (state.clone(), key.clone());
        Arc::new(move || {
            let (state, caller, key) = (state.clone(), caller.clone(), key.clone());
            Box::pin(async move { visible_job(&state, &caller, &key).await })
        })
    };
    let merge = state.logs.open(detail, &query, lookup).await;
    let format = query.format;
    let filter = Filter { query, regex };
    let body = Body::from_stream(futures::stream::unfold((merge, filter), move |(mut merge, filter): (Merge, Filter)| async move {
        loop {
            let batch = merge.next_batch().await?;
            let mut out = Vec::with_capacity(batch.len() * 200);
            for event in batch.iter().filter(|e| filter.keeps(e)) {
                match format {
                    LogFormat::Ndjson => write_ndjson(event, &mut out),
                    LogFormat::Text => write_text(event, &mut out),
                }
            }
            if !out.is_empty() {
                return Some((Ok::<_, std::convert::Infallible>(Bytes::from(out)), (merge, filter)));
            }
        }
    }));
    let mut response = Response::builder()
        .header(header::CACHE_CONTROL, "no-store")
        // Reverse proxies must pass lines on as they come.
        .header("x-accel-buffering", "no");
    response = match format {
        LogFormat::Ndjson => response.header(header::CONTENT_TYPE, "application/x-ndjson"),
        LogFormat::Text => response
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}-{}.log\"", key.namespace, key.name)),
    };
    Ok(response.body(body).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}
