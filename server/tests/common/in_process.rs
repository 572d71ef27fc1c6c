//! The dashboard's router in this process, over a model filled with known jobs: views'
//! behaviour (status codes, headers, access, errors) tested with tower's `oneshot`, without a
//! release process or a cluster.

use axum::Router;
use axum::body::Body;
use http::{Request, Response};
use http_body_util::BodyExt;
use jiff::Timestamp;
use serde_json::{Value, json};
use sparkboard::access::Access;
use sparkboard::model::app::AppSummary;
use sparkboard::model::labels::LabelKeys;
use sparkboard::model::pod::PodSummary;
use sparkboard::model::{JobModel, ModelOptions};
use sparkboard::state::AppState;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// A router over a model with two running operator jobs: `team-a/secret-job` (its user
/// `alice-marker`, a Spark setting `conf-marker-91a`, launched by an Airflow task, its driver a
/// local server that answers `driver-marker-body`) and `team-b/other-job`.
pub struct Dashboard {
    pub router: Router,
    pub model: Arc<JobModel>,
    /// The secret job's Spark application id.
    pub app_id: String,
    /// Its driver's `ip:port`.
    pub driver: String,
}

impl Dashboard {
    /// The names a walk needs, without a router (for listing routes).
    pub fn placeholder() -> Dashboard {
        let model = Arc::new(JobModel::new(ModelOptions { keep_gone: 10, label_keys: LabelKeys::default() }));
        Dashboard { router: Router::new(), model, app_id: APP_ID.into(), driver: "127.0.0.1:1".into() }
    }
}

const APP_ID: &str = "spark-5ec2e7a77b1d4c0e";

/// A stand-in for a driver's Spark UI: any path answers the marker.
async fn driver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = Router::new().fallback(|| async { "driver-marker-body" });
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr.to_string()
}

/// The dashboard's whole router with `access` as its rule.
pub async fn dashboard(access: Access) -> Dashboard {
    let driver = driver().await;
    let keys = LabelKeys::default();
    let model = Arc::new(JobModel::new(ModelOptions { keep_gone: 100, label_keys: keys.clone() }));
    let now = Timestamp::now();
    let port: u16 = driver.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
    for (namespace, name, app_id, extra) in [
        (
            "team-a",
            "secret-job",
            APP_ID,
            json!({"user": "alice-marker", "dag_id": "nightly", "task_id": "aggregate", "run_id": "scheduled__2026-11-30", "try_number": "1"}),
        ),
        ("team-b", "other-job", "spark-0123456789abcdef", json!({"user": "bob"})),
    ] {
        let app = object(application(namespace, name, app_id, extra, now));
        model.apply_app(AppSummary::from_object(&app, &keys).expect("an application"));
        let pod = object(driver_pod(namespace, name, app_id, port, now));
        model.apply_pod(PodSummary::from_object(&pod, &keys).expect("a driver pod"));
    }
    let state = AppState {
        model: model.clone(),
        archive: None,
        spark: sparkboard::sources::spark_ui::SparkClient::new(false, None),
        logs: sparkboard::logs::plan::LogService::without_sources(model.clone()),
        metrics: sparkboard::metrics::MetricsService::None,
        access,
    };
    let leptos = leptos::prelude::LeptosOptions::builder().output_name("sparkboard").site_root("target/site").build();
    Dashboard { router: sparkboard::views::router(state, leptos), model, app_id: APP_ID.into(), driver }
}

fn object(value: Value) -> kube::api::DynamicObject {
    serde_json::from_value(value).expect("a Kubernetes object")
}

/// A running SparkApplication with `labels`.
pub fn application(namespace: &str, name: &str, app_id: &str, labels: Value, now: Timestamp) -> Value {
    json!({
        "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": now.to_string(), "labels": labels},
        "spec": {"type": "Scala", "mode": "cluster", "executor": {"instances": 2, "cores": 1, "memory": "2g"}, "driver": {"cores": 1, "memory": "2g"},
                 "sparkConf": {"spark.sparkboard.marker": if name == "secret-job" { "conf-marker-91a" } else { "plain" }}},
        "status": {"applicationState": {"state": "RUNNING"}, "sparkApplicationId": app_id,
                   "driverInfo": {"podName": format!("{name}-driver")}}
    })
}

/// The running driver pod of an operator job, its UI on 127.0.0.1:`port`.
pub fn driver_pod(namespace: &str, name: &str, app_id: &str, port: u16, now: Timestamp) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{name}-driver"), "namespace": namespace, "creationTimestamp": now.to_string(),
                     "labels": {"spark-role": "driver", "spark-app-selector": app_id, "sparkoperator.k8s.io/app-name": name}},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "spark:4.1.1",
                                 "ports": [{"name": "spark-ui", "containerPort": port}]}]},
        "status": {"phase": "Running", "podIP": "127.0.0.1", "startTime": now.to_string(),
                   "containerStatuses": [{"name": "spark-kubernetes-driver", "ready": true, "restartCount": 0,
                                          "state": {"running": {"startedAt": now.to_string()}}}]}
    })
}

/// One request through the router.
pub async fn send(router: &Router, request: Request<Body>) -> Response<Body> {
    router.clone().oneshot(request).await.unwrap_or_else(|e: std::convert::Infallible| match e {})
}

/// The body as text; for a stream that stays open (server push, a followed log), what came in
/// its first second.
pub async fn first_text(response: Response<Body>) -> String {
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
        bytes.extend_from_slice(frame.data_ref().map_or(&[][..], |d| d.as_ref()));
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every route the code declares: the server's `.route("...")` paths, the app's page paths, and
/// `/_fn/{*name}` for server functions; read from the sources, so a new route shows up here
/// without anyone listing it.
pub fn declared_routes() -> BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut routes = BTreeSet::new();
    let mut files = Vec::new();
    collect_rust_files(&root.join("src"), &mut files);
    collect_rust_files(&root.join("../app/src"), &mut files);
    for file in files {
        if file.components().any(|c| c.as_os_str() == "sim") {
            continue; // the simulated cluster's API, not the dashboard's
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for marker in [".route(\"", "path!(\""] {
            for rest in text.split(marker).skip(1) {
                if let Some(path) = rest.split('"').next() {
                    routes.insert(path.to_string());
                }
            }
        }
        if text.contains("path=StaticSegment(\"\")") {
            routes.insert("/".to_string());
        }
    }
    routes
}

fn collect_rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}
