//! The Spark UI by job id: `/jobs/{namespace}/{name}/ui/...` reverse-proxied to the job's
//! running driver (its pod IP and `spark-ui` port, as the model last saw them), with no Ingress
//! or Service per job.
//!
//! Spark writes its links under the prefix it reads from `X-Forwarded-Context`, which the proxy
//! sets from the validated job id; redirects are moved under the prefix (`headers`); bodies and
//! their encoding stream through untouched. The target comes only from the model: nothing in
//! the request picks a host or a port. Only GET and HEAD pass (Spark's kill links, GETs on
//! Spark 4.1 and older, are refused unless the deployment enables them).

pub mod headers;

use crate::model::SparkUi;
use crate::model::pod::JobKey;
use crate::views::AppState;
use crate::views::access::{Caller, can_view};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::any;
use http::{Method, StatusCode, Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Spark's Jetty closes idle keep-alive connections after 8 s; pooled ones must go first, or a
/// request lands on a socket the driver is closing.
const POOL_IDLE: Duration = Duration::from_secs(5);
/// A dead driver's IP fails fast instead of hanging a browser tab.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time to the response's headers; a body that keeps streaming is never cut.
const HEADERS_TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP client of the proxy: one pool, keyed by upstream, shared by every request.
#[derive(Clone)]
pub struct UiClient {
    client: Client<HttpConnector, Body>,
    /// Spark's job and stage kill links pass only when the deployment enables them.
    pub kill_enabled: bool,
}

impl UiClient {
    pub fn new(kill_enabled: bool) -> UiClient {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE).build(connector);
        UiClient { client, kill_enabled }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs/{namespace}/{name}/ui", any(add_slash))
        .route("/jobs/{namespace}/{name}/ui/", any(proxy))
        .route("/jobs/{namespace}/{name}/ui/{*rest}", any(proxy))
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
    #[error("the job is {state} and has no running driver; its Spark UI is not being served")]
    NotRunning { state: String },
    #[error("the driver's Spark UI at {authority} cannot be reached: {detail}")]
    Unreachable { authority: String, detail: String },
    #[error("the driver's Spark UI at {authority} did not answer within {seconds} s")]
    Timeout { authority: String, seconds: u64 },
}

impl ProxyError {
    fn status(&self) -> StatusCode {
        match self {
            ProxyError::NoSuchJob(_) => StatusCode::NOT_FOUND,
            ProxyError::ReservedName(_) => StatusCode::BAD_REQUEST,
            ProxyError::Method(_) => StatusCode::METHOD_NOT_ALLOWED,
            ProxyError::KillDisabled => StatusCode::FORBIDDEN,
            ProxyError::NotRunning { .. } => StatusCode::SERVICE_UNAVAILABLE,
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
         <p><a href=\"{job}\">Back to the job</a> (its state, pods, events and failure).</p></body></html>",
        id = html_escape(&format!("{}/{}", key.namespace, key.name)),
        job = html_escape(&job),
    );
    let mut response = (error.status(), Html(body)).into_response();
    if matches!(error, ProxyError::Method(_)) {
        response.headers_mut().insert(header::ALLOW, http::HeaderValue::from_static("GET, HEAD"));
    }
    response
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
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

async fn proxy(State(state): State<AppState>, Path(params): Path<Vec<(String, String)>>, request: Request) -> Response {
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let key = JobKey { namespace: param("namespace"), name: param("name") };
    match forward(&state, &key, request).await {
        Ok(response) => response,
        Err(error) => error_page(&key, &error),
    }
}

async fn forward(state: &AppState, key: &JobKey, request: Request) -> Result<Response, ProxyError> {
    let id = format!("{}/{}", key.namespace, key.name);
    for part in [&key.namespace, &key.name] {
        if part == "proxy" || part == "history" {
            return Err(ProxyError::ReservedName(part.clone()));
        }
    }
    if !can_view(&Caller, &key.namespace) {
        return Err(ProxyError::NoSuchJob(id));
    }
    let authority = match state.model.spark_ui(key) {
        SparkUi::Driver { authority, .. } => authority,
        SparkUi::NotRunning { state, .. } => return Err(ProxyError::NotRunning { state: state.to_string() }),
        SparkUi::NoSuchJob => return Err(ProxyError::NoSuchJob(id)),
    };
    let client = &state.ui_client;
    let (prefix, rest) = split_prefix(request.uri()).ok_or_else(|| ProxyError::NoSuchJob(id.clone()))?;
    let (prefix, rest) = (prefix.to_string(), rest.to_string());
    let kill = is_kill(&rest);
    match request.method() {
        &Method::GET | &Method::HEAD if !kill => {}
        _ if kill && !client.kill_enabled => return Err(ProxyError::KillDisabled),
        &Method::GET | &Method::HEAD | &Method::POST if kill => {}
        other => return Err(ProxyError::Method(other.clone())),
    }
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.clone(),
    };
    // Only the model's authority and the request's path: nothing the client sends picks the host.
    let uri: Uri = format!("http://{authority}{path_and_query}")
        .parse()
        .map_err(|e: http::uri::InvalidUri| ProxyError::Unreachable { authority: authority.clone(), detail: e.to_string() })?;
    let (parts, body) = request.into_parts();
    let mut upstream = http::Request::builder().method(parts.method.clone()).uri(uri);
    if let Some(headers) = upstream.headers_mut() {
        *headers = headers::upstream_request(&parts.headers, &authority, &prefix);
        if kill {
            for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
                if let Some(value) = parts.headers.get(&name) {
                    headers.insert(name, value.clone());
                }
            }
        }
    }
    let body = if kill { body } else { Body::empty() };
    let upstream = upstream.body(body).map_err(|e| ProxyError::Unreachable { authority: authority.clone(), detail: e.to_string() })?;
    let response = match tokio::time::timeout(HEADERS_TIMEOUT, client.client.request(upstream)).await {
        Err(_) => return Err(ProxyError::Timeout { authority, seconds: HEADERS_TIMEOUT.as_secs() }),
        Ok(Err(e)) => return Err(ProxyError::Unreachable { authority, detail: error_chain(&e) }),
        Ok(Ok(response)) => response,
    };
    let (mut parts, body) = response.into_parts();
    parts.headers = headers::downstream_response(&parts.headers, &authority, &prefix);
    Ok(Response::from_parts(parts, Body::new(body)))
}

/// An error and its causes on one line ("client error (Connect): tcp connect error: ...").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| e.source()).map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
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
    fn kill_links_are_recognised_with_or_without_the_slash() {
        assert!(is_kill("/jobs/job/kill/"));
        assert!(is_kill("/stages/stage/kill"));
        assert!(!is_kill("/jobs/job/"));
    }
}
