//! The Spark UI by job id: `/jobs/{namespace}/{name}/ui/...` reverse-proxied to the job's
//! running driver (its pod IP and `spark-ui` port, as the model last saw them), with no Ingress
//! or Service per job.
//!
//! Spark writes its links under the prefix it reads from `X-Forwarded-Context`, which the proxy
//! sets from the validated job id; redirects are moved under the prefix (`headers`); bodies and
//! their encoding stream through untouched. The target comes only from the model: nothing in
//! the request picks a host or a port. Only GET and HEAD pass. Spark's kill endpoints are
//! refused unless the deployment enables them, and then only as a POST from the dashboard's
//! own origin (Spark 4.1 and older also kill on a GET, which any link or image could send).

pub mod headers;

use crate::access::{Caller, visible_spark_ui};
use crate::model::SparkUi;
use crate::model::pod::JobKey;
use crate::sources::spark_ui::{CONNECT_TIMEOUT, SparkClient, Unavailable, Upstream, UpstreamError, history_may_lag, target};
use crate::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::any;
use http::{HeaderMap, HeaderName, Method, StatusCode, Uri, header};
use std::time::Duration;

/// Time to the response's headers; a body that keeps streaming is never cut.
const HEADERS_TIMEOUT: Duration = Duration::from_secs(30);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs/{namespace}/{name}/ui", any(add_slash))
        .route("/jobs/{namespace}/{name}/ui/", any(proxy))
        .route("/jobs/{namespace}/{name}/ui/{*rest}", any(proxy))
        .route("/jobs/{namespace}/{name}/shs/{*rest}", any(history))
}

/// Relative links in Spark's pages need the trailing slash.
async fn add_slash(request: Request) -> Redirect {
    let path = request.uri().path();
    let query = request.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
    Redirect::temporary(&format!("{path}/{query}"))
}

/// Why the proxy answered itself instead of the driver.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("no job {0}")]
    NoSuchJob(String),
    #[error("the Spark UI cannot be served under a job named {0:?}: Spark's own pages look for a path segment of that name")]
    ReservedName(String),
    #[error("{0} is not allowed through the Spark UI proxy (only GET and HEAD)")]
    Method(Method),
    #[error("killing jobs and stages from the Spark UI is disabled on this dashboard")]
    KillDisabled,
    #[error("a kill must be a POST from the Spark UI's own kill button (a plain link could kill a job)")]
    KillByGet,
    #[error("a kill must come from this dashboard's own pages ({0})")]
    KillCrossSite(&'static str),
    #[error("the kill request's form could not be read whole within {0} bytes")]
    KillTooLarge(usize),
    #[error("the job is {state} and its driver is not running yet; this page reloads by itself until its Spark UI answers")]
    DriverStarting { state: String },
    #[error("the job is {state} and has no running driver; its Spark UI is not being served{why}")]
    NotRunning { state: String, why: &'static str },
    #[error(
        "the Spark History Server does not list application {app_id} yet (it scans for new event logs every few seconds); this page reloads by itself"
    )]
    HistoryPending { app_id: String },
    #[error("the Spark History Server has no record of application {app_id} (was event logging on for this job?)")]
    HistoryMissing { app_id: String },
    #[error("the Spark History Server at {authority} cannot be reached: {why}")]
    HistoryUnreachable { authority: String, why: NoAnswer },
    #[error("only this job's own application is served from the History Server")]
    OtherApplication,
    #[error("the driver's Spark UI at {authority} cannot be reached: {source}")]
    Unreachable {
        authority: String,
        #[source]
        source: UpstreamError,
    },
    #[error("the driver's Spark UI at {authority} did not answer within {seconds} s")]
    Timeout { authority: String, seconds: u64 },
}

impl ProxyError {
    fn status(&self) -> StatusCode {
        match self {
            ProxyError::NoSuchJob(_) => StatusCode::NOT_FOUND,
            ProxyError::ReservedName(_) => StatusCode::BAD_REQUEST,
            ProxyError::Method(_) => StatusCode::METHOD_NOT_ALLOWED,
            ProxyError::KillDisabled | ProxyError::KillCrossSite(_) => StatusCode::FORBIDDEN,
            ProxyError::KillByGet => StatusCode::METHOD_NOT_ALLOWED,
            ProxyError::KillTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::NotRunning { .. } | ProxyError::DriverStarting { .. } | ProxyError::HistoryPending { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ProxyError::HistoryMissing { .. } => StatusCode::NOT_FOUND,
            ProxyError::HistoryUnreachable { .. } => StatusCode::BAD_GATEWAY,
            ProxyError::OtherApplication => StatusCode::FORBIDDEN,
            ProxyError::Unreachable { .. } => StatusCode::BAD_GATEWAY,
            ProxyError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        }
    }
}

/// An error page that says what happened and leads back to the job.
fn error_page(key: &JobKey, error: &ProxyError) -> Response {
    let job = format!("/jobs/{}/{}", key.namespace, key.name);
    let text = html_escape(&error.to_string());
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Spark UI unavailable</title></head>\
         <body style=\"font-family: sans-serif; margin: 2rem\"><h1>Spark UI of {id}</h1><p data-testid=\"ui-error\">{text}.</p>\
         <p><a href=\"{job}\">Back to the job</a> (its state, pods, events and failure), or \
         <a href=\"{job}/logs\" data-testid=\"ui-error-logs\">its merged log</a> (driver, executors and controller).</p></body></html>",
        id = html_escape(&format!("{}/{}", key.namespace, key.name)),
        job = html_escape(&job),
    );
    let mut response = (error.status(), Html(body)).into_response();
    let headers = response.headers_mut();
    match error {
        ProxyError::Method(_) => {
            headers.insert(header::ALLOW, http::HeaderValue::from_static("GET, HEAD"));
        }
        ProxyError::KillByGet => {
            headers.insert(header::ALLOW, http::HeaderValue::from_static("POST"));
        }
        ProxyError::KillTooLarge(_) => {
            // The rest of the body was not read: this connection cannot carry another request.
            headers.insert(header::CONNECTION, http::HeaderValue::from_static("close"));
        }
        ProxyError::HistoryPending { .. } | ProxyError::DriverStarting { .. } => {
            headers.insert(header::RETRY_AFTER, http::HeaderValue::from_static("3"));
            headers.insert(HeaderName::from_static("refresh"), http::HeaderValue::from_static("3"));
        }
        _ => {}
    }
    response
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The largest kill form passed on.
const MAX_KILL_FORM: usize = 16 * 1024;

/// Whether a state-changing request comes from a page of this dashboard: the browser says so
/// in `Sec-Fetch-Site`, or (older browsers) its `Origin` names the host it was sent to. A
/// request with neither is refused too: every browser that posts a form sends one of them.
fn same_origin(headers: &HeaderMap) -> Result<(), &'static str> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match (value("sec-fetch-site"), value("origin"), value("host")) {
        (Some("same-origin"), _, _) => Ok(()),
        (Some(_), _, _) => Err("the browser says it was sent from another site"),
        (None, Some(origin), Some(host)) => {
            let authority = origin.split_once("://").map_or("", |(_, rest)| rest);
            if authority.eq_ignore_ascii_case(host) { Ok(()) } else { Err("its Origin is another site") }
        }
        (None, _, _) => Err("it has neither Sec-Fetch-Site nor Origin"),
    }
}

/// Spark's kill links: `/jobs/job/kill/` and `/stages/stage/kill/`.
fn is_kill(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    path.ends_with("/jobs/job/kill") || path.ends_with("/stages/stage/kill")
}

/// The raw (still percent-encoded) part of the request path after `/jobs/{ns}/{name}/ui`, and
/// that prefix as the client wrote it.
fn split_prefix(uri: &Uri) -> Option<(&str, &str)> {
    let path = uri.path();
    // The fifth slash is the one after `ui`.
    let cut = path.match_indices('/').map(|(i, _)| i).nth(4)?;
    Some((&path[..cut], &path[cut..]))
}

/// The job a proxy route names (its routes also capture the rest of the path).
fn job_key(params: &[(String, String)]) -> JobKey {
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    JobKey { namespace: param("namespace"), name: param("name") }
}

async fn proxy(State(state): State<AppState>, caller: Caller, Path(params): Path<Vec<(String, String)>>, request: Request) -> Response {
    let key = job_key(&params);
    match forward(&state, &caller, &key, request).await {
        Ok(response) => response,
        Err(error) => error_page(&key, &error),
    }
}

/// The live UI, or the History Server's view once the driver is gone.
async fn forward(state: &AppState, caller: &Caller, key: &JobKey, request: Request) -> Result<Response, ProxyError> {
    let id = checked(key)?;
    let (prefix, rest) =
        split_prefix(request.uri()).map(|(p, r)| (p.to_string(), r.to_string())).ok_or_else(|| ProxyError::NoSuchJob(id.clone()))?;
    match state.spark.upstream(visible_spark_ui(state, caller, key)) {
        Upstream::Driver { authority, .. } => send(&state.spark, &authority, &prefix, &rest, request, state.spark.kill_enabled).await,
        Upstream::History { authority, app_id, finished_at } => {
            to_history(&state.spark, key, &authority, app_id, finished_at, &rest, request.uri().query()).await
        }
        Upstream::Unavailable(Unavailable::Starting { state }) => Err(ProxyError::DriverStarting { state: state.to_string() }),
        Upstream::Unavailable(Unavailable::NotRunning { state, why }) => Err(ProxyError::NotRunning { state: state.to_string(), why }),
        Upstream::Unavailable(Unavailable::NoSuchJob) => Err(ProxyError::NoSuchJob(id)),
    }
}

/// A job id the proxy may serve under (whether the caller may see it is the upstream's
/// question: [`visible_spark_ui`]).
fn checked(key: &JobKey) -> Result<String, ProxyError> {
    let id = format!("{}/{}", key.namespace, key.name);
    for part in [&key.namespace, &key.name] {
        if part == "proxy" || part == "history" {
            return Err(ProxyError::ReservedName(part.clone()));
        }
    }
    Ok(id)
}

/// Why the History Server could not be asked about an application.
#[derive(Debug, thiserror::Error)]
pub enum NoAnswer {
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error("no answer within {0} s")]
    Timeout(u64),
    #[error("it answered {0}")]
    Status(StatusCode),
}

/// Sends the job's driver-less UI request to the History Server's page of its application,
/// once the History Server lists it.
async fn to_history(
    client: &SparkClient,
    key: &JobKey,
    authority: &str,
    app_id: String,
    finished: Option<jiff::Timestamp>,
    rest: &str,
    query: Option<&str>,
) -> Result<Response, ProxyError> {
    let unreachable = |why: NoAnswer| ProxyError::HistoryUnreachable { authority: authority.to_string(), why };
    let wait = CONNECT_TIMEOUT * 2;
    let status = match tokio::time::timeout(wait, client.get(authority, &format!("/api/v1/applications/{app_id}"))).await {
        Ok(Ok(response)) => response.status(),
        Ok(Err(e)) => return Err(unreachable(e.into())),
        Err(_) => return Err(unreachable(NoAnswer::Timeout(wait.as_secs()))),
    };
    match status {
        s if s.is_success() => {
            let page = if rest == "/" { "/jobs/" } else { rest };
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            Ok(Redirect::temporary(&format!("/jobs/{}/{}/shs/history/{app_id}{page}{query}", key.namespace, key.name)).into_response())
        }
        StatusCode::NOT_FOUND => {
            Err(if history_may_lag(finished) { ProxyError::HistoryPending { app_id } } else { ProxyError::HistoryMissing { app_id } })
        }
        other => Err(unreachable(NoAnswer::Status(other))),
    }
}

/// `/jobs/{ns}/{name}/shs/...`: the History Server, for this job's application only.
async fn history(State(state): State<AppState>, caller: Caller, Path(params): Path<Vec<(String, String)>>, request: Request) -> Response {
    let key = job_key(&params);
    let result = async {
        let id = checked(&key)?;
        let app_id = match visible_spark_ui(&state, &caller, &key) {
            SparkUi::Driver { app_id, .. } | SparkUi::Starting { app_id, .. } | SparkUi::NotRunning { app_id, .. } => app_id,
            SparkUi::NoSuchJob => return Err(ProxyError::NoSuchJob(id)),
        };
        let authority = state
            .spark
            .history
            .clone()
            .ok_or_else(|| ProxyError::NotRunning { state: "finished".into(), why: " (no History Server is configured)" })?;
        let app_id = app_id.ok_or(ProxyError::OtherApplication)?;
        let (prefix, rest) = split_prefix(request.uri()).map(|(p, r)| (p.to_string(), r.to_string())).ok_or(ProxyError::NoSuchJob(id))?;
        if !history_path_allowed(&rest, &app_id) {
            return Err(ProxyError::OtherApplication);
        }
        send(&state.spark, &authority, &prefix, &rest, request, false).await
    }
    .await;
    result.unwrap_or_else(|error| error_page(&key, &error))
}

/// What of a shared History Server one job's page may reach: its application's pages and API,
/// and the static files; not the list of everyone's applications, nor another's.
fn history_path_allowed(rest: &str, app_id: &str) -> bool {
    let under = |base: String| rest == base || rest.starts_with(&format!("{base}/"));
    under(format!("/history/{app_id}")) || under(format!("/api/v1/applications/{app_id}")) || rest.starts_with("/static/")
}

/// Forwards `request` to `authority` as `rest` (query kept), under the public `prefix`.
async fn send(
    client: &SparkClient,
    authority: &str,
    prefix: &str,
    rest: &str,
    request: Request,
    kill_enabled: bool,
) -> Result<Response, ProxyError> {
    let authority = authority.to_string();
    let kill = is_kill(rest);
    match request.method() {
        &Method::GET | &Method::HEAD if !kill => {}
        _ if kill && !kill_enabled => return Err(ProxyError::KillDisabled),
        &Method::POST if kill => same_origin(request.headers()).map_err(ProxyError::KillCrossSite)?,
        &Method::GET | &Method::HEAD if kill => return Err(ProxyError::KillByGet),
        other => return Err(ProxyError::Method(other.clone())),
    }
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_string(),
    };
    // Only the model's (or the configuration's) authority and the request's path: nothing the
    // client sends picks the host.
    let uri = target(&authority, &path_and_query).map_err(|source| ProxyError::Unreachable { authority: authority.clone(), source })?;
    let (parts, body) = request.into_parts();
    let mut upstream = http::Request::builder().method(parts.method.clone()).uri(uri);
    if let Some(headers) = upstream.headers_mut() {
        *headers = headers::upstream_request(&parts.headers, &authority, prefix);
        if kill {
            for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
                if let Some(value) = parts.headers.get(&name) {
                    headers.insert(name, value.clone());
                }
            }
        }
    }
    // Only a kill has a body: Spark's small form (`id`, and `csrfToken` from 4.2), read whole
    // under a cap so that nothing large is forwarded.
    let body = if kill {
        Body::from(axum::body::to_bytes(body, MAX_KILL_FORM).await.map_err(|_| ProxyError::KillTooLarge(MAX_KILL_FORM))?)
    } else {
        Body::empty()
    };
    let upstream =
        upstream.body(body).map_err(|e| ProxyError::Unreachable { authority: authority.clone(), source: UpstreamError::Request(e) })?;
    let response = match tokio::time::timeout(HEADERS_TIMEOUT, client.send(upstream)).await {
        Err(_) => return Err(ProxyError::Timeout { authority, seconds: HEADERS_TIMEOUT.as_secs() }),
        Ok(Err(source)) => return Err(ProxyError::Unreachable { authority, source }),
        Ok(Ok(response)) => response,
    };
    let (mut parts, body) = response.into_parts();
    parts.headers = headers::downstream_response(&parts.headers, &authority, prefix);
    Ok(Response::from_parts(parts, Body::new(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_cut_as_the_client_wrote_it() {
        let uri: Uri = "/jobs/ml/etl%2Dx/ui/stages/stage/?id=0&attempt=0".parse().unwrap();
        assert_eq!(split_prefix(&uri), Some(("/jobs/ml/etl%2Dx/ui", "/stages/stage/")));
        let root: Uri = "/jobs/ml/etl/ui/".parse().unwrap();
        assert_eq!(split_prefix(&root), Some(("/jobs/ml/etl/ui", "/")));
        let encoded: Uri = "/jobs/ml/etl/ui/..%2f..%2f169.254.169.254/".parse().unwrap();
        assert_eq!(split_prefix(&encoded), Some(("/jobs/ml/etl/ui", "/..%2f..%2f169.254.169.254/")));
    }

    #[test]
    fn a_job_reaches_only_its_own_application_on_the_history_server() {
        assert!(history_path_allowed("/history/spark-1/jobs/", "spark-1"));
        assert!(history_path_allowed("/api/v1/applications/spark-1/executors", "spark-1"));
        assert!(history_path_allowed("/static/webui.js", "spark-1"));
        for other in [
            "/",
            "/history/spark-2/jobs/",
            "/history/spark-10/jobs/",
            "/api/v1/applications",
            "/api/v1/applications/spark-2",
            "/logPage/?self",
        ] {
            assert!(!history_path_allowed(other, "spark-1"), "{other}");
        }
    }

    #[test]
    fn a_kill_must_come_from_the_same_origin() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            pairs.iter().map(|(k, v)| (HeaderName::from_static(k), http::HeaderValue::from_static(v))).collect::<HeaderMap>()
        };
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        assert!(same_origin(&headers(&[("sec-fetch-site", "cross-site"), ("origin", "http://dash:3000"), ("host", "dash:3000")])).is_err());
        assert!(same_origin(&headers(&[("origin", "https://dash.example.com"), ("host", "dash.example.com")])).is_ok());
        assert!(same_origin(&headers(&[("origin", "https://evil.example"), ("host", "dash.example.com")])).is_err());
        assert!(same_origin(&headers(&[("origin", "null"), ("host", "dash.example.com")])).is_err());
        assert!(same_origin(&headers(&[("host", "dash.example.com")])).is_err());
    }

    #[test]
    fn kill_links_are_recognised_with_or_without_the_slash() {
        assert!(is_kill("/jobs/job/kill/"));
        assert!(is_kill("/stages/stage/kill"));
        assert!(!is_kill("/jobs/job/"));
    }
}
