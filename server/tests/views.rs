//! The views' answers in process (tower's `oneshot` over the router and a filled model): status
//! codes, headers and error bodies of the JSON API, the log and metrics routes and the Spark UI
//! proxy, without a release process or a cluster.

mod common;

use axum::body::Body;
use common::in_process::{self, Dashboard};
use http::{Method, Request, StatusCode, header};
use sparkboard::access::Access;

async fn call(dashboard: &Dashboard, method: Method, uri: &str) -> (StatusCode, http::HeaderMap, String) {
    let request = Request::builder().method(method).uri(uri).header(header::HOST, "dashboard.test").body(Body::empty()).expect("a request");
    let response = in_process::send(&dashboard.router, request).await;
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, in_process::first_text(response).await)
}

/// The `error` field of a JSON error body.
fn error_of(body: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    value["error"].as_str().unwrap_or_else(|| panic!("no error field: {body}")).to_string()
}

#[tokio::test]
async fn bad_parameters_are_400s_that_say_what_is_wrong() {
    let dashboard = in_process::dashboard(Access::open()).await;
    let cases = [
        ("/api/v1/jobs?cursor=zzz", "cursor"),
        ("/api/v1/jobs/team-a/secret-job/logs?re=(", "bad regular expression"),
        ("/api/v1/jobs/team-a/secret-job/metrics?summarise=lots", "summarise=\"lots\""),
        ("/api/v1/jobs/team-a/secret-job/metrics?from=yesterday", "from"),
    ];
    for (uri, says) in cases {
        let (status, headers, body) = call(&dashboard, Method::GET, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()), Some(&b"application/json"[..]), "{uri}");
        assert!(error_of(&body).contains(says), "{uri}: {body}");
    }
}

#[tokio::test]
async fn an_unknown_job_is_a_404_with_its_id_on_every_api_route() {
    let dashboard = in_process::dashboard(Access::open()).await;
    for uri in ["/api/v1/jobs/team-a/nope", "/api/v1/jobs/team-a/nope/logs", "/api/v1/jobs/team-a/nope/metrics"] {
        let (status, _, body) = call(&dashboard, Method::GET, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(error_of(&body), "no job team-a/nope", "{uri}");
    }
}

#[tokio::test]
async fn readiness_waits_for_every_source_to_list_once() {
    let dashboard = in_process::dashboard(Access::open()).await;
    dashboard.model.expect_source("pods");
    let (status, _, body) = call(&dashboard, Method::GET, "/readyz").await;
    assert_eq!((status, body.as_str()), (StatusCode::SERVICE_UNAVAILABLE, "waiting for the first list of jobs and pods"));
    dashboard.model.source_synced("pods");
    assert_eq!(call(&dashboard, Method::GET, "/readyz").await.0, StatusCode::OK);
    assert_eq!(call(&dashboard, Method::GET, "/healthz").await.2, "ok");
}

#[tokio::test]
async fn the_proxy_answers_itself_for_what_it_will_not_forward() {
    let dashboard = in_process::dashboard(Access::open()).await;
    let (status, headers, _) = call(&dashboard, Method::POST, "/jobs/team-a/secret-job/ui/jobs/").await;
    assert_eq!((status, headers.get(header::ALLOW).map(|v| v.as_bytes())), (StatusCode::METHOD_NOT_ALLOWED, Some(&b"GET, HEAD"[..])));
    let (status, _, body) = call(&dashboard, Method::GET, "/jobs/team-a/secret-job/ui/jobs/job/kill/?id=1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("disabled on this dashboard"), "{body}");
    let (status, _, body) = call(&dashboard, Method::GET, "/jobs/proxy/secret-job/ui/").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("cannot be served under a job named"), "{body}");
    let (status, headers, _) = call(&dashboard, Method::GET, "/jobs/team-a/secret-job/ui?x=1").await;
    assert_eq!(
        (status, headers.get(header::LOCATION).map(|v| v.as_bytes())),
        (StatusCode::TEMPORARY_REDIRECT, Some(&b"/jobs/team-a/secret-job/ui/?x=1"[..]))
    );
    // A running job's driver answers through it.
    let (status, _, body) = call(&dashboard, Method::GET, "/jobs/team-a/secret-job/ui/jobs/").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "driver-marker-body"));
}
