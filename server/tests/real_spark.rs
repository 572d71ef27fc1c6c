//! Real Spark drivers in the simulated cluster (pyspark from PyPI, Java 17): a running job's
//! driver pod points at a real Spark UI on loopback, whose application is the job's; when the
//! job ends, the driver stops and its event log is complete. `make test` installs pyspark into
//! the tests' Python (`PYTHON`).

mod common;

use common::{Process, eventually, get_json, scratch_dir, start_sim};
use serde_json::Value;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_running_job_gets_a_real_spark_ui_that_stops_with_the_job() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let events = scratch_dir("real-spark-events");
    let events_arg = events.to_str().unwrap().to_string();
    let sim = start_sim("real-spark", &["--real-spark-drivers", "1", "--python", &python, "--spark-event-log-dir", &events_arg]);
    // A real History Server on the same event logs, for after the driver stops.
    let history =
        sparkboard_sim::history_server::HistoryServer::start(std::path::Path::new(&python), &events).await.expect("a History Server");
    let url = sim.process.url.clone();

    // The sim's clock is frozen once a real driver runs, so its job cannot end under the checks
    // of the live UI (a loaded machine is slow); the test fast-forwards to the end later.
    let speed = |value: u32| {
        let url = url.clone();
        async move { reqwest::Client::new().put(format!("{url}/sim/speed?value={value}")).send().await.unwrap() }
    };
    let running_real_driver = || async {
        let pods = get_json(&format!("{url}/api/v1/pods?labelSelector=spark-role%3Ddriver")).await;
        pods["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["metadata"]["annotations"]["sim.sparkboard.io/real-driver"] == "true" && p["status"]["phase"] == "Running")
            .cloned()
            .ok_or_else(|| "none yet (is pyspark installed in PYTHON, and java on PATH?)".to_string())
    };
    let pod: Value = eventually("a driver pod backed by a running real Spark driver", Duration::from_secs(180), || async {
        running_real_driver().await?;
        speed(0).await;
        // Still running once frozen?
        let pod = running_real_driver().await;
        if pod.is_err() {
            speed(1).await;
        }
        pod
    })
    .await;
    assert_eq!(pod["status"]["podIP"], "127.0.0.1");
    let port = pod["spec"]["containers"][0]["ports"][0]["containerPort"].as_u64().expect("spark-ui port");
    let app_id = pod["metadata"]["labels"]["spark-app-selector"].as_str().unwrap().to_string();
    let job = pod["metadata"]["labels"]["sparkoperator.k8s.io/app-name"].as_str().unwrap().to_string();
    let namespace = pod["metadata"]["namespace"].as_str().unwrap().to_string();

    let apps = get_json(&format!("http://127.0.0.1:{port}/api/v1/applications")).await;
    assert_eq!(apps[0]["id"], app_id.as_str(), "{apps}");
    assert_eq!(apps[0]["name"], job.as_str());
    let app = get_json(&format!("{url}/apis/sparkoperator.k8s.io/v1beta2/namespaces/{namespace}/sparkapplications/{job}")).await;
    assert_eq!(app["status"]["sparkApplicationId"], app_id.as_str());
    let jobs_page = reqwest::get(format!("http://127.0.0.1:{port}/jobs/")).await.unwrap();
    assert_eq!(jobs_page.status(), 200);

    // Through the dashboard's proxy, by job id: Spark writes every link under the prefix.
    let dashboard = Process::start(&[
        "serve",
        "--kubeconfig",
        sim.kubeconfig.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--history-server",
        &history.url,
        "--spark-ui-kill",
    ]);
    let prefix = format!("/jobs/{namespace}/{job}/ui");
    let proxied = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let root = eventually("the dashboard to proxy the job's Spark UI", Duration::from_secs(30), || async {
        let r = proxied.get(format!("{}{prefix}/", dashboard.url)).send().await.map_err(|e| e.to_string())?;
        if r.status().is_redirection() { Ok(r) } else { Err(r.status().to_string()) }
    })
    .await;
    assert_eq!(
        root.headers()["location"].to_str().unwrap(),
        format!("{prefix}/jobs/"),
        "Spark's absolute redirect, moved under the prefix"
    );
    let page = proxied.get(format!("{}{prefix}/jobs/", dashboard.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("setUIRoot('{prefix}')")), "Spark did not take the prefix");
    assert!(!html.contains("href=\"/jobs/\""), "an unprefixed link");
    let via_proxy: Value =
        proxied.get(format!("{}{prefix}/api/v1/applications", dashboard.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(via_proxy[0]["id"], app_id.as_str());
    let kill = proxied.get(format!("{}{prefix}/jobs/job/kill/?id=0", dashboard.url)).send().await.unwrap();
    assert_eq!(kill.status(), 405, "Spark 4.1 kills on GET: the proxy must not pass it");
    // The kill button's POST, from the dashboard's own page, reaches Spark (a job id that does
    // not run: Spark answers with its redirect back to the jobs page, moved under the prefix).
    let kill = proxied
        .post(format!("{}{prefix}/jobs/job/kill/", dashboard.url))
        .header("sec-fetch-site", "same-origin")
        .form(&[("id", "999999")])
        .send()
        .await
        .unwrap();
    assert_eq!(kill.status(), 302);
    assert_eq!(kill.headers()["location"].to_str().unwrap(), format!("{prefix}/jobs/"));
    // Spark's own executor metrics, from the running driver by the proxy's route: the driver's
    // entry (`local[2]`: it is the only executor), with its peaks after its first heartbeat.
    let metrics_url = format!("{}/api/v1/jobs/{namespace}/{job}/metrics", dashboard.url);
    let driver_pod = pod["metadata"]["name"].as_str().unwrap().to_string();
    let live = eventually("the driver's executor metrics with peaks", Duration::from_secs(60), || async {
        let metrics = get_json(&metrics_url).await;
        let driver = spark_driver_entry(&metrics, "driver")?;
        if driver["peak"]["jvm_heap"].as_u64().is_some_and(|b| b > 0) { Ok(driver) } else { Err(metrics.to_string()) }
    })
    .await;
    assert_eq!(live["pod"], driver_pod.as_str());
    assert_eq!(live["is_active"], true);
    assert!(live["host_port"].as_str().is_some_and(|h| h.starts_with("127.0.0.1:")), "{live}");
    assert!(live["peak"]["jvm_off_heap"].as_u64() > Some(0), "{live}");
    assert!(live["peak"]["python"].is_u64() && live["peak"]["other"].is_u64(), "process tree peaks are numbers: {live}");
    assert!(live["completed_tasks"].as_u64() > Some(0) && live["max_memory"].as_u64() > Some(0), "{live}");
    for counter in ["total_gc_time_ms", "total_duration_ms", "total_shuffle_read", "total_shuffle_write", "total_input_bytes"] {
        assert!(live[counter].is_u64(), "{counter}: {live}");
    }
    assert!(live["memory_bytes_spilled"].is_u64() && live["disk_bytes_spilled"].is_u64(), "spill read from the stages: {live}");
    assert!(time_of(&live["added_at"]).is_some() && live["removed_at"].is_null(), "{live}");

    // Jetty closes idle keep-alive connections after 8 s: a request after 9.5 s of quiet must
    // not land on a pooled connection the driver has closed.
    tokio::time::sleep(Duration::from_millis(9_500)).await;
    let after_idle = proxied.get(format!("{}{prefix}/api/v1/applications", dashboard.url)).send().await.unwrap();
    assert_eq!(after_idle.status(), 200, "a stale pooled connection");

    // Fast-forward: the job ends, its real driver stops and completes its event log.
    speed(40).await;
    eventually("the real driver to stop with its job", Duration::from_secs(90), || async {
        match reqwest::get(format!("http://127.0.0.1:{port}/api/v1/applications")).await {
            Ok(_) => Err("still serving".to_string()),
            Err(_) => Ok(()),
        }
    })
    .await;
    // Spark stops its UI first, then closes the event log.
    let log_dir = events.join(format!("eventlog_v2_{app_id}"));
    eventually("the event log to be complete", Duration::from_secs(30), || async {
        let files: Vec<String> = std::fs::read_dir(&log_dir)
            .map_err(|e| format!("{}: {e}", log_dir.display()))?
            .map(|f| f.map(|f| f.file_name().to_string_lossy().to_string()).unwrap_or_default())
            .collect();
        let complete = files.iter().any(|f| f.starts_with("events_")) && !files.iter().any(|f| f.ends_with(".inprogress"));
        if complete { Ok(()) } else { Err(format!("{files:?}")) }
    })
    .await;

    // The same URL now leads to the History Server's view of the job, under the job's prefix.
    let shs = format!("/jobs/{namespace}/{job}/shs");
    let moved = eventually("the Spark UI link to lead to the History Server", Duration::from_secs(90), || async {
        let r = proxied.get(format!("{}{prefix}/jobs/", dashboard.url)).send().await.map_err(|e| e.to_string())?;
        match r.status().as_u16() {
            307 => Ok(r.headers()["location"].to_str().unwrap().to_string()),
            other => Err(format!("{other}: {}", r.text().await.unwrap_or_default())),
        }
    })
    .await;
    assert_eq!(moved, format!("{shs}/history/{app_id}/jobs/"));
    // The History Server loads the app on first sight and redirects to the same page.
    let html = eventually("the History Server's page of the job", Duration::from_secs(180), || async {
        let r = proxied.get(format!("{}{moved}", dashboard.url)).send().await.map_err(|e| e.to_string())?;
        match r.status().as_u16() {
            200 => Ok(r.text().await.unwrap_or_default()),
            302 => {
                assert_eq!(r.headers()["location"].to_str().unwrap(), moved, "the loader's redirect, moved under the prefix");
                Err("loading".into())
            }
            other => Err(other.to_string()),
        }
    })
    .await;
    assert!(html.contains(&format!("setUIRoot('{shs}')")), "the History Server did not take the prefix");
    assert!(html.contains(&format!("setAppBasePath('/history/{app_id}')")));
    // Spark's executor metrics now come from the History Server, as the event log ends.
    let ended = eventually("the executor metrics from the History Server", Duration::from_secs(60), || async {
        let metrics = get_json(&metrics_url).await;
        if metrics["spark"]["from"] != "history_server" {
            return Err(metrics.to_string());
        }
        spark_driver_entry(&metrics, "history_server")
    })
    .await;
    assert_eq!(ended["pod"], driver_pod.as_str());
    // Its peaks are what the event log kept: task-end and (with
    // `spark.eventLog.logStageExecutorMetrics`) stage-end samples, zero for a short run.
    assert!(ended["peak"]["jvm_heap"].is_u64(), "{ended}");
    assert!(ended["completed_tasks"].as_u64() >= live["completed_tasks"].as_u64(), "{ended} after {live}");
    assert!(ended["total_shuffle_write"].as_u64() > Some(0), "its SQL rounds shuffled: {ended}");
    // One job's link does not open the History Server's other applications.
    let listing = proxied.get(format!("{}{shs}/api/v1/applications", dashboard.url)).send().await.unwrap();
    assert_eq!(listing.status(), 403);
    drop(history);
}

/// The driver's entry in a metrics answer whose executors came `from` there, with no error of
/// the executors panel.
fn spark_driver_entry(metrics: &Value, from: &str) -> Result<Value, String> {
    if let Some(error) = metrics["errors"].as_array().into_iter().flatten().find(|e| e["panel"] == "executors") {
        return Err(format!("executors panel error: {error}"));
    }
    if metrics["spark"]["from"] != from {
        return Err(format!("from {} instead of {from}", metrics["spark"]["from"]));
    }
    let mut executors = metrics["spark"]["executors"].as_array().into_iter().flatten();
    executors.find(|e| e["id"] == "driver").cloned().ok_or_else(|| metrics.to_string())
}

fn time_of(value: &Value) -> Option<jiff::Timestamp> {
    value.as_str()?.parse().ok()
}
