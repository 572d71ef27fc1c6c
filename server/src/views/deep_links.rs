//! Deep links into a job: `/apps/{spark-app-id}` (Spark and History Server links) and
//! `/airflow/{dag_id}/{task_id}/{run_id}[/{try_number}]` (Airflow task pages). A match is a
//! temporary redirect to the job page; no match falls through to the page that says what was
//! looked up (404), so the link itself stays valid when the job appears later.

use super::AppState;
use super::access::{Caller, can_view};
use crate::model::pod::JobKey;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Middleware in front of the pages.
pub async fn redirect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match resolve(&state, request.uri().path()) {
        Some(key) if can_view(&Caller, &key.namespace) => Redirect::temporary(&job_path(&key)).into_response(),
        _ => next.run(request).await,
    }
}

fn job_path(key: &JobKey) -> String {
    format!("/jobs/{}/{}", key.namespace, key.name)
}

/// The job a deep-link path names, if it names one that exists.
fn resolve(state: &AppState, path: &str) -> Option<JobKey> {
    let segments: Vec<String> = path.trim_matches('/').split('/').map(percent_decode).collect::<Option<Vec<_>>>()?;
    match segments.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["apps", app_id] => state.model.find_by_app_id(app_id),
        ["airflow", dag, task, run] => state.model.find_by_airflow(dag, task, run, None),
        ["airflow", dag, task, run, attempt] => state.model.find_by_airflow(dag, task, run, Some(attempt.parse().ok()?)),
        _ => None,
    }
}

/// Decodes `%XX` escapes (Airflow run ids carry `:` and `+`); `None` for a broken escape or
/// bytes that are not UTF-8.
fn percent_decode(segment: &str) -> Option<String> {
    let (bytes, clean) = app::query::unescape(segment, false);
    if clean { String::from_utf8(bytes).ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_decode_and_broken_ones_are_refused() {
        assert_eq!(percent_decode("scheduled__2026-11-21T05%3A00%3A00%2B00%3A00").as_deref(), Some("scheduled__2026-11-21T05:00:00+00:00"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("cut%4"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
