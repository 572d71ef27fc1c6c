//! Every route asks the access module: the dashboard's whole router, in process, walked with a
//! caller who may see no namespace, then with one who may see everything, over a model holding a
//! job whose data carries markers. The first walk must find no marker and no redirect to the job;
//! the second must find them (so the walk would notice a check that hid everything, too).
//!
//! The walk is checked against the routes the code declares (every `.route("...")` of the
//! server, every page path of the app, every server function), so a route added later without
//! an entry here fails this test instead of shipping without the check.

mod common;

use axum::Router;
use axum::body::Body;
use common::in_process::{self, Dashboard};
use http::{Method, Request, StatusCode, header};
use sparkboard::access::Access;
use std::collections::BTreeSet;

/// Text that only the job's own data holds: its user, a Spark setting, its driver's answer.
const MARKERS: [&str; 3] = ["alice-marker", "conf-marker-91a", "driver-marker-body"];

/// How a route shows the job to a caller who may see it.
#[derive(Clone, Copy, Debug)]
enum Shows {
    /// The answer holds one of [`MARKERS`] (or the driver's address).
    Data,
    /// A redirect to one of the job's pages.
    Redirect,
    /// A 200 about the job (a log or metrics answer: its content needs sources the test has
    /// not), where an unknown job is a 404.
    Found,
    /// Nothing about any job either way (health checks).
    Nothing,
}

/// One request of the walk: which declared route it exercises, and what it shows.
#[derive(Clone)]
struct Visit {
    route: &'static str,
    method: Method,
    uri: String,
    form: Option<&'static str>,
    shows: Shows,
}

fn get(route: &'static str, uri: impl Into<String>, shows: Shows) -> Visit {
    Visit { route, method: Method::GET, uri: uri.into(), form: None, shows }
}

fn visits(job: &Dashboard) -> Vec<Visit> {
    let app = &job.app_id;
    let mut visits = vec![
        get("/api/v1/jobs", "/api/v1/jobs", Shows::Data),
        get("/api/v1/jobs", "/api/v1/jobs?q=secret&state=RUNNING", Shows::Data),
        get("/api/v1/jobs/{namespace}/{name}", "/api/v1/jobs/team-a/secret-job", Shows::Data),
        get("/api/v1/jobs/{namespace}/{name}/logs", "/api/v1/jobs/team-a/secret-job/logs", Shows::Found),
        get("/api/v1/jobs/{namespace}/{name}/metrics", "/api/v1/jobs/team-a/secret-job/metrics", Shows::Found),
        get("/api/v1/jobs/stream", "/api/v1/jobs/stream", Shows::Data),
        get("/api/v1/jobs/{namespace}/{name}/stream", "/api/v1/jobs/team-a/secret-job/stream", Shows::Data),
        get("/healthz", "/healthz", Shows::Nothing),
        get("/readyz", "/readyz", Shows::Nothing),
        get("/jobs/{namespace}/{name}/ui", "/jobs/team-a/secret-job/ui", Shows::Redirect),
        get("/jobs/{namespace}/{name}/ui/", "/jobs/team-a/secret-job/ui/", Shows::Data),
        get("/jobs/{namespace}/{name}/ui/{*rest}", "/jobs/team-a/secret-job/ui/jobs/", Shows::Data),
        get("/jobs/{namespace}/{name}/ui/{*rest}", "/jobs/team-a/secret-job/ui/api/v1/applications", Shows::Data),
        // No History Server is configured: a job the caller sees is told so (503), one it may
        // not see is unknown (404).
        get("/jobs/{namespace}/{name}/shs/{*rest}", format!("/jobs/team-a/secret-job/shs/history/{app}/jobs/"), Shows::Found),
        get("/", "/", Shows::Data),
        get("/", "/?ns=team-a", Shows::Data),
        get("/jobs/:namespace/:name", "/jobs/team-a/secret-job", Shows::Data),
        get("/jobs/:namespace/:name/logs", "/jobs/team-a/secret-job/logs", Shows::Data),
        get("/jobs/:namespace/:name/metrics", "/jobs/team-a/secret-job/metrics", Shows::Data),
        get("/apps/:app_id", format!("/apps/{app}"), Shows::Redirect),
        get("/apps/:app_id", format!("/apps/{app}/executors/1/logs"), Shows::Redirect),
        get("/apps/:app_id", format!("/apps/{app}/executors/driver/logs/stderr"), Shows::Redirect),
        get("/airflow/*rest", "/airflow/nightly/aggregate/scheduled__2026-11-30/1", Shows::Redirect),
        get("/airflow/*rest", "/airflow/nightly/aggregate/scheduled__2026-11-30", Shows::Redirect),
    ];
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        // Every server function of the app takes its arguments as a form; extra fields are
        // ignored, so one form serves them all.
        visits.push(Visit {
            route: "/_fn/{*name}",
            method: method.clone(),
            uri: path.to_string(),
            form: Some("query=&namespace=team-a&name=secret-job"),
            shows: Shows::Data,
        });
    }
    visits
}

/// What came back: status, `Location`, and the body (for a stream, its first message).
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

async fn visit(router: &Router, visit: &Visit) -> Answer {
    let mut request = Request::builder().method(visit.method.clone()).uri(&visit.uri).header(header::HOST, "dashboard.test");
    if visit.form.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").header(header::ACCEPT, "application/json");
    }
    let request = request.body(visit.form.map_or_else(Body::empty, Body::from)).expect("a request");
    let response = in_process::send(router, request).await;
    let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let status = response.status();
    let body = in_process::first_text(response).await;
    Answer { status, location, body }
}

/// The same request about a job that does not exist: another name, application id and DAG.
fn as_unknown(uri: &str, app_id: &str) -> String {
    uri.replace("secret-job", "no-such-job").replace(app_id, "spark-00000000000000ff").replace("/airflow/nightly/", "/airflow/no-dag/")
}

fn holds_data(answer: &Answer, job: &Dashboard) -> bool {
    MARKERS.iter().any(|m| answer.body.contains(m)) || answer.body.contains(&job.driver)
}

/// A redirect to the job's pages that the request did not name itself (a deep link resolved).
fn leads_to_job(answer: &Answer, uri: &str) -> bool {
    answer.status.is_redirection()
        && answer.location.as_deref().is_some_and(|l| l.starts_with("/jobs/team-a/secret-job") && !l.starts_with(uri))
}

#[tokio::test]
async fn a_caller_who_may_see_no_namespace_gets_no_jobs_data_from_any_route() {
    let nobody = in_process::dashboard(Access::only([])).await;
    let everyone = in_process::dashboard(Access::open()).await;
    let mut failures = Vec::new();
    for v in visits(&nobody) {
        let hidden = visit(&nobody.router, &v).await;
        if holds_data(&hidden, &nobody) || leads_to_job(&hidden, &v.uri) {
            failures.push(format!(
                "{} {} showed the job to nobody: {} {:?} {:.300}",
                v.method, v.uri, hidden.status, hidden.location, hidden.body
            ));
        }
        if hidden.body.contains("team-a/secret-job") && !v.uri.contains("secret-job") {
            failures.push(format!("{} {} named the job to nobody: {:.300}", v.method, v.uri, hidden.body));
        }
        // A job the caller may not see answers like one that does not exist.
        let unknown = visit(&nobody.router, &Visit { uri: as_unknown(&v.uri, &nobody.app_id), ..v.clone() }).await;
        let location = hidden.location.as_deref().map(|l| as_unknown(l, &nobody.app_id));
        if (hidden.status, location) != (unknown.status, unknown.location.clone()) {
            failures.push(format!(
                "{} {} answered nobody {} {:?}, but a job that does not exist {} {:?}",
                v.method, v.uri, hidden.status, hidden.location, unknown.status, unknown.location
            ));
        }
        let shown = visit(&everyone.router, &v).await;
        let seen = match v.shows {
            Shows::Data => holds_data(&shown, &everyone),
            Shows::Redirect => {
                shown.status.is_redirection() && shown.location.as_deref().is_some_and(|l| l.starts_with("/jobs/team-a/secret-job"))
            }
            Shows::Found => shown.status != StatusCode::NOT_FOUND && hidden.status == StatusCode::NOT_FOUND,
            Shows::Nothing => !holds_data(&shown, &everyone) && shown.status == hidden.status,
        };
        if !seen {
            failures.push(format!(
                "{} {} did not show the job as {:?} to a caller who may see it: {} {:?} {:.300} (hidden: {})",
                v.method, v.uri, v.shows, shown.status, shown.location, shown.body, hidden.status
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_caller_of_one_namespace_sees_its_jobs_and_counts_only() {
    let dashboard = in_process::dashboard(Access::only(["team-b".to_string()])).await;
    let list = visit(&dashboard.router, &get("/api/v1/jobs", "/api/v1/jobs", Shows::Data)).await;
    let list: app::api::JobList = serde_json::from_str(&list.body).expect("a job list");
    let ids: Vec<String> = list.jobs.iter().map(|j| j.id()).collect();
    assert_eq!(ids, ["team-b/other-job"]);
    assert_eq!((list.total, list.namespaces.as_slice()), (1, ["team-b".to_string()].as_slice()));
    assert_eq!(list.counts.values().sum::<usize>(), 1, "{:?}", list.counts);
    let job = visit(&dashboard.router, &get("/api/v1/jobs/{namespace}/{name}", "/api/v1/jobs/team-b/other-job", Shows::Data)).await;
    assert_eq!(job.status, StatusCode::OK);
    let hidden = visit(&dashboard.router, &get("/api/v1/jobs/{namespace}/{name}", "/api/v1/jobs/team-a/secret-job", Shows::Data)).await;
    let unknown = visit(&dashboard.router, &get("/api/v1/jobs/{namespace}/{name}", "/api/v1/jobs/team-a/no-such-job", Shows::Data)).await;
    assert_eq!((hidden.status, unknown.status), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(hidden.body.replace("secret-job", "X"), unknown.body.replace("no-such-job", "X"), "hidden and unknown look alike");
}

#[test]
fn the_walk_covers_every_route_the_code_declares() {
    let walked: BTreeSet<&str> = visits(&Dashboard::placeholder()).iter().map(|v| v.route).collect();
    let declared = in_process::declared_routes();
    let missing: Vec<&String> = declared.iter().filter(|r| !walked.contains(r.as_str())).collect();
    assert!(missing.is_empty(), "routes not walked by the access test: {missing:?}");
    assert!(declared.len() >= 15, "the route scan found too little: {declared:?}");
}
