//! Deep links into a job: `/apps/{spark-app-id}` (Spark and History Server links),
//! `/apps/{spark-app-id}/executors/{executor-id}/logs[/{file}]` (the target of Spark's
//! `spark.ui.custom.executor.log.url`, so the Executors page's log links open the merged log
//! filtered to that executor) and `/airflow/{dag_id}/{task_id}/{run_id}[/{try_number}]`
//! (Airflow task pages). A match is a temporary redirect to the job's page; no match falls
//! through to the page that says what was looked up (404), so the link itself stays valid when
//! the job appears later.

use crate::access::{Caller, visible_key};
use crate::model::pod::JobKey;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// Middleware in front of the pages.
pub async fn redirect(State(state): State<AppState>, caller: Caller, request: Request, next: Next) -> Response {
    match resolve(&state, &caller, request.uri().path()) {
        Some((key, page)) => Redirect::temporary(&page.path(&key)).into_response(),
        None => next.run(request).await,
    }
}

/// Which page of the job a link leads to.
#[derive(Debug, PartialEq, Eq)]
enum Page {
    Job,
    /// The merged log, showing only this source (`driver` or `exec-<id>`).
    LogOf(String),
}

impl Page {
    fn path(&self, key: &JobKey) -> String {
        let job = format!("/jobs/{}/{}", key.namespace, key.name);
        match self {
            Page::Job => job,
            Page::LogOf(source) => format!("{job}/logs?source={source}"),
        }
    }
}

/// The job and page a deep-link path names, if it names a job that exists and `caller` may see.
fn resolve(state: &AppState, caller: &Caller, path: &str) -> Option<(JobKey, Page)> {
    let segments: Vec<String> = path.trim_matches('/').split('/').map(percent_decode).collect::<Option<Vec<_>>>()?;
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if let ["apps", app_id, "executors", executor, "logs", file @ ..] = segments.as_slice() {
        // Spark's `{{FILE_NAME}}` (stdout, stderr) may follow: both are in the merged log.
        let source = executor_source(executor).filter(|_| file.len() <= 1)?;
        return Some((visible_key(caller, state.model.find_by_app_id(app_id))?, Page::LogOf(source)));
    }
    let key = match segments.as_slice() {
        ["apps", app_id] => state.model.find_by_app_id(app_id),
        ["airflow", dag, task, run] => state.model.find_by_airflow(dag, task, run, None),
        ["airflow", dag, task, run, attempt] => state.model.find_by_airflow(dag, task, run, Some(attempt.parse().ok()?)),
        _ => None,
    };
    Some((visible_key(caller, key)?, Page::Job))
}

/// The log source of a Spark executor id: `driver`, or `exec-<n>` for a numbered executor.
/// Anything else is not an executor id (and must not reach the query string).
fn executor_source(executor: &str) -> Option<String> {
    match executor {
        "driver" => Some("driver".into()),
        n if !n.is_empty() && n.len() <= 10 && n.bytes().all(|b| b.is_ascii_digit()) => Some(format!("exec-{n}")),
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
    fn executor_ids_become_log_sources_and_nothing_else_does() {
        assert_eq!(executor_source("driver").as_deref(), Some("driver"));
        assert_eq!(executor_source("17").as_deref(), Some("exec-17"));
        for bad in ["", "-1", "1&level=ERROR", "exec-1", "12345678901"] {
            assert_eq!(executor_source(bad), None, "{bad:?}");
        }
        let key = JobKey { namespace: "ml".into(), name: "etl".into() };
        assert_eq!(Page::LogOf("exec-3".into()).path(&key), "/jobs/ml/etl/logs?source=exec-3");
        assert_eq!(Page::Job.path(&key), "/jobs/ml/etl");
    }

    #[test]
    fn escapes_decode_and_broken_ones_are_refused() {
        assert_eq!(percent_decode("scheduled__2026-11-21T05%3A00%3A00%2B00%3A00").as_deref(), Some("scheduled__2026-11-21T05:00:00+00:00"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("cut%4"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
