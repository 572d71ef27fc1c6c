//! A job's container metrics against real parts: a real Prometheus scraping the simulated
//! cluster's cAdvisor and kube-state-metrics endpoints every second, `sparkboard serve`
//! querying it (in batches of pods), Prometheus missing, and the metrics.k8s.io fallback.

mod common;

use common::{Process, Prometheus, SimCluster, eventually, get_json, scratch_dir, start_sim, until_ok, wait_ready};
use jiff::Timestamp;
use serde_json::Value;
use std::time::Duration;

const EXECUTOR: &str = "spark-kubernetes-executor";
/// 2048 MiB of heap and Spark's minimum 384 MiB overhead.
const EXECUTOR_LIMIT: f64 = 2432.0 * 1_048_576.0;

/// Short runs so that whole ones happen while Prometheus watches: one executor of `etl/leaky`
/// is OOM-killed half-way; `wide/fanout` has twelve executors.
const SCENARIO: &str = r#"{"namespaces": ["etl", "wide"], "jobs": [
  {"namespace": "etl", "name": "leaky", "outcome": "executor-oom", "executors": 3, "executor_memory_mib": 2048, "run_seconds": 40, "linger_seconds": 10},
  {"namespace": "wide", "name": "fanout", "executors": 12, "executor_memory_mib": 2048, "run_seconds": 40, "linger_seconds": 10}
]}"#;

fn scenario_sim(test: &str) -> SimCluster {
    let path = scratch_dir(&format!("{test}-scenario")).join("scenario.json");
    std::fs::write(&path, SCENARIO).expect("scenario");
    start_sim(test, &["--scenario", path.to_str().expect("utf-8 path"), "--log-rate", "0.1"])
}

async fn dashboard(sim: &SimCluster, extra: &[&str]) -> Process {
    let kubeconfig = sim.kubeconfig.to_str().unwrap().to_string();
    let mut args = vec!["serve", "--kubeconfig", &kubeconfig, "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let dashboard = Process::start(&args);
    wait_ready(&dashboard.url).await;
    dashboard
}

/// The sim, a Prometheus scraping it, and the dashboard asking that Prometheus five pods per
/// query; and when Prometheus began watching.
async fn watched_world(test: &str) -> (SimCluster, Prometheus, Process, Timestamp) {
    let sim = scenario_sim(test);
    let prometheus = Prometheus::start(test, &sim.process.url).await;
    let watched_from = Timestamp::now();
    let args = ["--prometheus", &prometheus.url, "--prometheus-scrape-interval", "1", "--prometheus-pods-per-query", "5"];
    let dashboard = dashboard(&sim, &args).await;
    (sim, prometheus, dashboard, watched_from)
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str()?.parse().ok()
}

/// The first job in `namespace` submitted after `after` for which `pick` says yes, in detail.
async fn job_where(url: &str, namespace: &str, after: Timestamp, limit: Duration, pick: impl Fn(&Value) -> bool) -> Value {
    eventually(&format!("a job in {namespace} submitted after {after}"), limit, || async {
        let list = get_json(&format!("{url}/api/v1/jobs?namespace={namespace}")).await;
        for job in list["jobs"].as_array().into_iter().flatten() {
            if time(&job["submitted_at"]).is_some_and(|t| t > after) {
                let detail = get_json(&format!("{url}/api/v1/jobs/{namespace}/{}", job["name"].as_str().unwrap_or_default())).await;
                if pick(&detail) {
                    return Ok(detail);
                }
            }
        }
        Err(format!("{} jobs, none fits", list["jobs"].as_array().map_or(0, Vec::len)))
    })
    .await
}

fn series<'a>(metrics: &'a Value, metric: &str, pod: &str) -> Option<&'a Value> {
    metrics["series"].as_array()?.iter().find(|s| s["metric"] == metric && s["pod"] == pod && s["container"] != "")
}

fn values(series: &Value) -> Vec<f64> {
    series["points"].as_array().into_iter().flatten().filter_map(|p| p[1].as_f64()).collect()
}

fn panel_errors(metrics: &Value) -> Vec<(String, String)> {
    let errors = metrics["errors"].as_array().into_iter().flatten();
    errors.map(|e| (e["panel"].as_str().unwrap_or_default().to_string(), e["kind"].as_str().unwrap_or_default().to_string())).collect()
}

/// The errors of the containers' panels. The sim's drivers serve no Spark UI (their pod IPs
/// are loopback addresses nobody listens on), so the executors panel always has its own error
/// here; Spark's executor metrics are tested against real drivers in `real_spark.rs`.
fn container_panel_errors(metrics: &Value) -> Vec<(String, String)> {
    panel_errors(metrics).into_iter().filter(|(panel, _)| panel != "executors").collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_the_sim_and_the_api_draws_an_oom_killed_executor_against_its_limit() {
    let (_sim, _prometheus, dashboard, watched_from) = watched_world("metrics-oom").await;
    let url = &dashboard.url;

    // A whole run of the leaky job under Prometheus' eye, up to its OOM kill.
    let job = job_where(url, "etl", watched_from, Duration::from_secs(150), |d| d["executors"]["oom_killed"].as_u64() >= Some(1)).await;
    let name = job["name"].as_str().unwrap();
    let oom_pod = job["pods"].as_array().unwrap().iter().find(|p| p["reason"] == "OOMKilled").expect("the OOM-killed pod");
    let oom_pod = oom_pod["name"].as_str().unwrap();
    let metrics_url = format!("{url}/api/v1/jobs/etl/{name}/metrics");
    let metrics = eventually("the OOM-killed executor's memory series", Duration::from_secs(30), || async {
        let metrics = get_json(&metrics_url).await;
        match series(&metrics, "memory_working_set", oom_pod) {
            Some(s) if values(s).len() >= 3 => Ok(metrics),
            _ => Err(metrics.to_string()),
        }
    })
    .await;
    assert_eq!(metrics["source"], "prometheus");
    assert_eq!(container_panel_errors(&metrics), vec![], "{metrics}");
    // The step keeps a job's lifetime within 1000 points; this one is short, so every second.
    assert_eq!(metrics["step_s"], 1.0);

    // Memory climbed to the limit before the kill, and never past it.
    let memory = values(series(&metrics, "memory_working_set", oom_pod).unwrap());
    let peak = memory.iter().cloned().fold(0.0, f64::max);
    assert!(peak > 0.85 * EXECUTOR_LIMIT && peak < EXECUTOR_LIMIT, "peak {peak} against a limit of {EXECUTOR_LIMIT}");
    assert!(memory.first().unwrap() < &(0.8 * EXECUTOR_LIMIT), "it rose from below: {memory:?}");
    assert_eq!(metrics["limits"][oom_pod][EXECUTOR]["memory"], EXECUTOR_LIMIT);
    assert_eq!(metrics["requests"][oom_pod][EXECUTOR]["cpu"], 2.0);
    assert_eq!(metrics["limits"][oom_pod][EXECUTOR]["cpu"], 2.0);
    let kill = metrics["events"].as_array().unwrap().iter().find(|e| e["pod"] == oom_pod).expect("an OOM event for the pod");
    assert_eq!(kill["reason"], "OOMKilled");
    assert_eq!(kill["exit_code"], 137);
    assert!(time(&kill["time"]).is_some());

    // CPU near the request, within the limit; throttling a share of periods.
    let cpu = values(series(&metrics, "cpu_usage", oom_pod).expect("the executor's CPU"));
    assert!(!cpu.is_empty() && cpu.iter().all(|c| *c > 0.3 && *c <= 2.05), "{cpu:?}");
    let throttled = metrics["series"].as_array().unwrap().iter().filter(|s| s["metric"] == "cpu_throttled");
    assert!(throttled.clone().count() > 0, "executors have a CPU limit, so a throttling series");
    assert!(throttled.flat_map(values).all(|r| (0.0..=1.0).contains(&r)));
    // Units name what the values are in; the pod cgroup (container "") never shows.
    for s in metrics["series"].as_array().unwrap() {
        let unit = match s["metric"].as_str().unwrap() {
            "memory_working_set" => "bytes",
            "cpu_usage" => "cores",
            _ => "ratio",
        };
        assert_eq!(s["unit"], unit);
        assert_ne!(s["container"], "");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_with_many_executors_is_asked_for_in_batches_and_comes_back_whole() {
    let (_sim, prometheus, dashboard, watched_from) = watched_world("metrics-batches").await;
    let url = &dashboard.url;
    let running_all = |d: &Value| d["executors"]["running"].as_u64() == Some(12);
    let job = job_where(url, "wide", watched_from, Duration::from_secs(120), running_all).await;
    let name = job["name"].as_str().unwrap();
    let pods: Vec<&str> =
        job["pods"].as_array().unwrap().iter().filter(|p| p["role"] != "controller").map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(pods.len(), 13, "a driver and twelve executors");
    let metrics_url = format!("{url}/api/v1/jobs/wide/{name}/metrics");
    let metrics = eventually("memory series of every pod", Duration::from_secs(30), || async {
        let metrics = get_json(&metrics_url).await;
        let missing: Vec<&&str> = pods.iter().filter(|p| series(&metrics, "memory_working_set", p).is_none()).collect();
        if missing.is_empty() { Ok(metrics) } else { Err(format!("no series for {missing:?}")) }
    })
    .await;
    assert_eq!(container_panel_errors(&metrics), vec![], "{metrics}");
    let each_once = pods
        .iter()
        .all(|p| metrics["series"].as_array().unwrap().iter().filter(|s| s["metric"] == "cpu_usage" && s["pod"] == *p).count() <= 1);
    assert!(each_once, "a pod's series came back twice");

    // Thirteen pods at five per query: three memory queries, each naming its own pods.
    let memory_queries: Vec<String> = prometheus
        .queries()
        .iter()
        .filter_map(|q| q["params"]["query"].as_str().map(str::to_string))
        .filter(|q| q.contains("container_memory_working_set_bytes") && q.contains(name))
        .collect();
    assert!(memory_queries.len() >= 3, "{memory_queries:#?}");
    for pod in &pods {
        assert!(memory_queries.iter().any(|q| q.contains(&pod.replace('.', r"\\."))), "no query names {pod}");
    }
    assert!(memory_queries.iter().all(|q| q.matches("-exec-").count() + q.matches("-driver").count() <= 5), "{memory_queries:#?}");

    // What the page asks for: beyond four executors, the rest fold into max, median and min.
    let summarised = get_json(&format!("{metrics_url}?summarise=4")).await;
    assert_eq!(summarised["summary"]["executors"], 12, "{}", summarised["summary"]);
    let shown: Vec<&str> = summarised["summary"]["shown"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(shown.len(), 4);
    let memory: Vec<&Value> = summarised["series"].as_array().unwrap().iter().filter(|s| s["metric"] == "memory_working_set").collect();
    let folded: Vec<&str> = memory.iter().filter(|s| s["pod"] == "executors").filter_map(|s| s["aggregate"].as_str()).collect();
    assert_eq!(folded, ["max", "median", "min"]);
    let drawn_alone: Vec<&str> =
        memory.iter().filter(|s| s["aggregate"].is_null()).filter_map(|s| s["pod"].as_str()).filter(|p| p.contains("-exec-")).collect();
    assert_eq!(drawn_alone.len(), 4, "{drawn_alone:?}");
    assert!(drawn_alone.iter().all(|p| shown.contains(p)));
    let status = reqwest::get(format!("{metrics_url}?summarise=lots")).await.unwrap().status();
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_down_is_an_error_of_each_panel_and_the_rest_still_comes() {
    let sim = scenario_sim("metrics-down");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let nowhere = format!("http://127.0.0.1:{closed}");
    let dashboard = dashboard(&sim, &["--prometheus", &nowhere, "--prometheus-timeout", "3"]).await;
    let url = &dashboard.url;
    let started =
        |d: &Value| d["pods"].as_array().is_some_and(|pods| pods.iter().any(|p| p["phase"] == "Running" && p["role"] == "executor"));
    let job = job_where(url, "etl", Timestamp::UNIX_EPOCH, Duration::from_secs(60), started).await;
    let name = job["name"].as_str().unwrap();

    let response = reqwest::get(format!("{url}/api/v1/jobs/etl/{name}/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let metrics: Value = response.json().await.unwrap();
    assert_eq!(metrics["source"], "prometheus");
    let errors = panel_errors(&metrics);
    for panel in ["memory", "cpu", "throttling"] {
        assert!(errors.contains(&(panel.to_string(), "unreachable".to_string())), "{panel}: {errors:?}");
    }
    let message = metrics["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(&nowhere) && message.contains("cannot be reached"), "{message}");
    assert!(metrics["series"].as_array().unwrap().is_empty());
    // What the pods say still comes.
    let executor = job["pods"].as_array().unwrap().iter().find(|p| p["role"] == "executor").unwrap();
    assert_eq!(metrics["limits"][executor["name"].as_str().unwrap()][EXECUTOR]["memory"], EXECUTOR_LIMIT);

    // The request's own mistakes are the caller's: 400 and 404, as JSON.
    let bad = reqwest::get(format!("{url}/api/v1/jobs/etl/{name}/metrics?step=soon")).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("step"));
    let too_many = reqwest::get(format!("{url}/api/v1/jobs/etl/{name}/metrics?from=2d&step=1")).await.unwrap();
    assert_eq!(too_many.status(), 400);
    assert_eq!(reqwest::get(format!("{url}/api/v1/jobs/etl/nope/metrics")).await.unwrap().status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn series_prometheus_does_not_have_are_said_missing_in_their_panels() {
    let sim = scenario_sim("metrics-missing");
    let prometheus = Prometheus::start_scraping_nothing("metrics-missing").await;
    let dashboard = dashboard(&sim, &["--prometheus", &prometheus.url]).await;
    let url = &dashboard.url;
    let started =
        |d: &Value| d["pods"].as_array().is_some_and(|pods| pods.iter().any(|p| p["phase"] == "Running" && p["role"] == "executor"));
    let job = job_where(url, "etl", Timestamp::UNIX_EPOCH, Duration::from_secs(60), started).await;
    let name = job["name"].as_str().unwrap();
    let metrics = get_json(&format!("{url}/api/v1/jobs/etl/{name}/metrics")).await;
    assert_eq!(metrics["source"], "prometheus");
    let errors = container_panel_errors(&metrics);
    for panel in ["memory", "cpu"] {
        assert!(errors.contains(&(panel.to_string(), "missing".to_string())), "{panel}: {errors:?}");
    }
    let message = metrics["errors"].as_array().unwrap().iter().find(|e| e["panel"] == "memory").unwrap()["message"].as_str().unwrap();
    assert!(message.contains("container_memory_working_set_bytes") && message.contains("scraped"), "{message}");
    // A missing series is not a failed query, and what the pods say still comes.
    assert!(metrics["series"].as_array().unwrap().is_empty());
    let executor = job["pods"].as_array().unwrap().iter().find(|p| p["role"] == "executor").unwrap();
    assert_eq!(metrics["limits"][executor["name"].as_str().unwrap()][EXECUTOR]["memory"], EXECUTOR_LIMIT);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_prometheus_metrics_server_is_sampled_while_watched() {
    let sim = scenario_sim("metrics-server");
    let dashboard = dashboard(&sim, &["--metrics-sample-every", "1"]).await;
    let url = &dashboard.url;
    let running =
        |d: &Value| d["pods"].as_array().is_some_and(|pods| pods.iter().any(|p| p["phase"] == "Running" && p["role"] == "executor"));
    let job = job_where(url, "wide", Timestamp::UNIX_EPOCH, Duration::from_secs(60), running).await;
    let name = job["name"].as_str().unwrap();
    let executor = job["pods"].as_array().unwrap().iter().find(|p| p["phase"] == "Running" && p["role"] == "executor").unwrap();
    let executor = executor["name"].as_str().unwrap().to_string();
    let metrics_url = format!("{url}/api/v1/jobs/wide/{name}/metrics");

    // The first request starts the sampler and gets its first sample.
    let first = get_json(&metrics_url).await;
    assert_eq!(first["source"], "metrics-server");
    let since = time(&first["history_since"]).expect("history starts when sampling started");
    assert!(series(&first, "memory_working_set", &executor).is_some(), "{first}");
    // Kept alive by asking again, it collects more.
    let later = eventually("three samples of the executor", Duration::from_secs(20), || async {
        let metrics = get_json(&metrics_url).await;
        match series(&metrics, "memory_working_set", &executor) {
            Some(s) if values(s).len() >= 3 => Ok(metrics),
            _ => Err(metrics.to_string()),
        }
    })
    .await;
    assert_eq!(time(&later["history_since"]), Some(since));
    assert_eq!(container_panel_errors(&later), vec![]);
    let memory = values(series(&later, "memory_working_set", &executor).unwrap());
    assert!(memory.iter().all(|m| *m > 0.2 * EXECUTOR_LIMIT && *m < EXECUTOR_LIMIT), "{memory:?}");
    let cpu = values(series(&later, "cpu_usage", &executor).expect("CPU samples"));
    assert!(cpu.iter().all(|c| *c > 0.0 && *c <= 2.05), "{cpu:?}");
    let times: Vec<Timestamp> =
        series(&later, "cpu_usage", &executor).unwrap()["points"].as_array().unwrap().iter().filter_map(|p| time(&p[0])).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "samples in time order, each once");
    assert!(times[0] >= since);
}

/// A driver whose Spark REST API answers 500 to everything, as one out of heap does.
async fn failing_driver() -> u16 {
    let app =
        axum::Router::new().fallback(|| async { (http::StatusCode::INTERNAL_SERVER_ERROR, "java.lang.OutOfMemoryError: Java heap space") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

/// A driver that takes connections and never answers (a JVM in a long GC pause).
async fn silent_driver() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

/// A running spark-submit driver pod whose Spark UI is `port` on loopback.
fn driver_pod(name: &str, port: u16) -> Value {
    let started = Timestamp::now().to_string();
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{name}-driver"), "namespace": "stubs",
                     "labels": {"spark-role": "driver", "spark-app-selector": format!("spark-{name}")}},
        "spec": {"containers": [{"name": "spark-kubernetes-driver", "image": "spark:4.1.1",
                 "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
                 "ports": [{"name": "spark-ui", "containerPort": port}]}]},
        "status": {"phase": "Running", "podIP": "127.0.0.1", "startTime": started,
                   "containerStatuses": [{"name": "spark-kubernetes-driver", "ready": true, "restartCount": 0,
                                          "state": {"running": {"startedAt": started}}}]}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_driver_that_fails_or_hangs_is_an_error_of_the_executors_panel_and_the_rest_still_comes() {
    let sim = start_sim("metrics-spark-faults", &["--speed", "1"]);
    for (name, port) in [("oom", failing_driver().await), ("gc", silent_driver().await)] {
        let created = reqwest::Client::new()
            .post(format!("{}/api/v1/namespaces/stubs/pods", sim.process.url))
            .json(&driver_pod(name, port))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
    }
    let dashboard = dashboard(&sim, &["--metrics-sample-every", "1"]).await;
    let url = &dashboard.url;
    let cases = [("oom", "refused", "answered 500 Internal Server Error"), ("gc", "timeout", "did not answer within")];
    for (name, kind, says) in cases {
        until_ok(&format!("the dashboard to know stubs/{name}"), &format!("{url}/api/v1/jobs/stubs/{name}"), Duration::from_secs(30)).await;
        let asked = std::time::Instant::now();
        let response = reqwest::get(format!("{url}/api/v1/jobs/stubs/{name}/metrics")).await.unwrap();
        assert!(asked.elapsed() < Duration::from_secs(15), "the page waited {:?} for a silent driver", asked.elapsed());
        assert_eq!(response.status(), 200);
        let metrics: Value = response.json().await.unwrap();
        assert_eq!(panel_errors(&metrics), vec![("executors".to_string(), kind.to_string())], "{metrics}");
        let message = metrics["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says) && message.contains("driver's Spark REST API at 127.0.0.1:"), "{message}");
        if name == "oom" {
            assert!(message.contains("OutOfMemoryError"), "Spark's own words are kept: {message}");
        }
        assert_eq!(metrics["spark"], serde_json::json!({"from": "none", "executors": []}));
        // The containers' panels are whole.
        let pod = format!("{name}-driver");
        assert!(series(&metrics, "memory_working_set", &pod).is_some(), "{metrics}");
        assert_eq!(metrics["requests"][&pod]["spark-kubernetes-driver"]["cpu"], 1.0);
        assert_eq!(metrics["limits"][&pod]["spark-kubernetes-driver"]["memory"], 1_073_741_824.0);
    }
}
