//! What the benchmarks share: percentiles, and the Spark pods they fill stores and models with.

#![allow(dead_code)]

use jiff::Timestamp;
use serde_json::{Value, json};
use sparkboard_sim::objects::{self, PodSpec, Size};

/// Serves the dashboard over `model` (no archive, no log sources, no metrics source, the
/// proxy's defaults) on a loopback port, in the background; its address.
pub async fn serve_dashboard(model: std::sync::Arc<sparkboard::model::JobModel>) -> std::net::SocketAddr {
    serve_dashboard_with(model, sparkboard::metrics::MetricsService::None).await
}

/// [`serve_dashboard`] with `metrics` as its metrics source (a real Prometheus, say).
pub async fn serve_dashboard_with(
    model: std::sync::Arc<sparkboard::model::JobModel>,
    metrics: sparkboard::metrics::MetricsService,
) -> std::net::SocketAddr {
    let state = sparkboard::state::AppState {
        model: model.clone(),
        archive: None,
        spark: sparkboard::sources::spark_ui::SparkClient::new(false, None),
        logs: sparkboard::logs::plan::LogService::without_sources(model),
        metrics,
        access: sparkboard::access::Access::open(),
    };
    let leptos = leptos::prelude::LeptosOptions::builder().output_name("sparkboard").site_root("target/site").build();
    let router = sparkboard::views::router(state, leptos);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(sparkboard::views::listener(listener), router).await });
    addr
}

/// The `p` quantile (0..=1) of sorted samples; NaN without samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Pod `i` of a cluster whose operator jobs have ten running pods each (a driver and nine
/// executors), spread over `namespaces`.
pub fn spark_pod(i: usize, namespaces: &[&str], now: Timestamp) -> Value {
    let (job, exec) = (i / 10, i % 10);
    let name = format!("job-{job:05}-exec-{exec}");
    let labels = json!({"spark-role": if exec == 0 { "driver" } else { "executor" }, "spark-app-selector": format!("spark-{job:032}"),
                        "sparkoperator.k8s.io/app-name": format!("job-{job:05}"), "spark-exec-id": exec.to_string()});
    let spec = PodSpec {
        namespace: namespaces[job % namespaces.len()],
        name: &name,
        labels,
        owner: None,
        driver: exec == 0,
        size: Size { cores: 2, memory_mib: 4096, overhead_mib: 1024 },
        node: Some("ip-10-0-0-10.ec2.internal"),
        oom_at: None,
    };
    let mut pod = objects::pod(&spec, now);
    objects::set_running(&mut pod, "10.1.0.1", now);
    pod
}
