//! `sparkboard serve` against `sparkboard sim`, as separate processes over real HTTP: the
//! dashboard's jobs converge to what the simulated cluster holds, and stay converged as the
//! workload changes it.

mod common;

use common::{Process, SimCluster, eventually, get_json, start_sim, wait_ready};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// Job id -> state, as the cluster itself says: SparkApplications by their status, plain
/// spark-submit jobs by their driver pod's phase.
async fn cluster_jobs(sim: &str) -> BTreeMap<String, String> {
    let mut jobs = BTreeMap::new();
    let apps = get_json(&format!("{sim}/apis/sparkoperator.k8s.io/v1beta2/sparkapplications")).await;
    for app in apps["items"].as_array().expect("items") {
        let id = format!("{}/{}", app["metadata"]["namespace"].as_str().unwrap(), app["metadata"]["name"].as_str().unwrap());
        let state = app["status"]["applicationState"]["state"].as_str().unwrap_or("NEW");
        jobs.insert(id, state.to_string());
    }
    let selector = "spark-role=driver,!sparkoperator.k8s.io/app-name";
    let drivers = get_json(&format!("{sim}/api/v1/pods?labelSelector={selector}")).await;
    for pod in drivers["items"].as_array().expect("items") {
        let name = pod["metadata"]["name"].as_str().unwrap();
        let id = format!("{}/{}", pod["metadata"]["namespace"].as_str().unwrap(), name.trim_end_matches("-driver"));
        let state = match pod["status"]["phase"].as_str() {
            Some("Pending") => "SUBMITTED",
            Some("Running") => "RUNNING",
            Some("Succeeded") => "COMPLETED",
            Some("Failed") => "FAILED",
            _ => "UNKNOWN",
        };
        jobs.insert(id, state.to_string());
    }
    jobs
}

/// Job id -> state, as the dashboard lists the jobs Kubernetes still has.
async fn dashboard_jobs(dashboard: &str) -> BTreeMap<String, String> {
    dashboard_all_jobs(dashboard).await.into_iter().filter(|(_, (_, deleted))| !deleted).map(|(id, (state, _))| (id, state)).collect()
}

/// Job id -> (state, deleted from the cluster), everything the dashboard lists.
async fn dashboard_all_jobs(dashboard: &str) -> BTreeMap<String, (String, bool)> {
    let list = get_json(&format!("{dashboard}/api/v1/jobs?limit=1000")).await;
    assert_eq!(list["total"].as_u64().unwrap() as usize, list["jobs"].as_array().unwrap().len());
    list["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            let deleted = j["deleted_from_cluster"].as_bool().unwrap();
            (
                format!("{}/{}", j["namespace"].as_str().unwrap(), j["name"].as_str().unwrap()),
                (j["state"].as_str().unwrap().to_string(), deleted),
            )
        })
        .collect()
}

/// Waits until the dashboard shows exactly what the cluster holds, in a moment when the cluster
/// did not change between two reads (the workload keeps changing it).
async fn converges(sim: &str, dashboard: &str, keep: impl Fn(&str) -> bool) -> BTreeMap<String, String> {
    eventually("the dashboard converging to the cluster", Duration::from_secs(30), || async {
        let before: BTreeMap<_, _> = cluster_jobs(sim).await.into_iter().filter(|(id, _)| keep(id)).collect();
        let shown: BTreeMap<_, _> = dashboard_jobs(dashboard).await.into_iter().filter(|(id, _)| keep(id)).collect();
        let after: BTreeMap<_, _> = cluster_jobs(sim).await.into_iter().filter(|(id, _)| keep(id)).collect();
        if before == after && shown == before { Ok(shown) } else { Err(format!("cluster {before:?}\ndashboard {shown:?}")) }
    })
    .await
}

/// The detail of the first listed job that `listed` picks (from its summary) and `wanted`
/// accepts (from its detail).
async fn find_detail(dashboard: &str, listed: impl Fn(&Value) -> bool, wanted: impl Fn(&Value) -> bool) -> Result<Value, String> {
    let jobs = get_json(&format!("{dashboard}/api/v1/jobs?limit=1000")).await;
    for job in jobs["jobs"].as_array().unwrap().iter().filter(|j| listed(j)) {
        let detail =
            get_json(&format!("{dashboard}/api/v1/jobs/{}/{}", job["namespace"].as_str().unwrap(), job["name"].as_str().unwrap())).await;
        if wanted(&detail) {
            return Ok(detail);
        }
    }
    Err("none yet".to_string())
}

/// A simulated cluster and `sparkboard serve` on it, ready.
async fn cluster_and_dashboard(test: &str, sim_args: &[&str], serve_args: &[&str]) -> (SimCluster, Process) {
    let sim = start_sim(test, sim_args);
    let kubeconfig = sim.kubeconfig.to_str().unwrap().to_string();
    let mut args = vec!["serve", "--kubeconfig", &kubeconfig, "--listen", "127.0.0.1:0"];
    args.extend_from_slice(serve_args);
    let dashboard = Process::start(&args);
    wait_ready(&dashboard.url).await;
    (sim, dashboard)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_converges_to_the_simulated_cluster_and_follows_it() {
    let (sim, dashboard) = cluster_and_dashboard("converge", &["--speed", "4"], &[]).await;

    let first = converges(&sim.process.url, &dashboard.url, |_| true).await;
    assert!(first.len() >= 15, "expected the demo's ~20 jobs, got {first:?}");
    assert!(first.values().any(|s| s == "RUNNING"), "no running job in {first:?}");
    // The workload moves on; the dashboard follows it without a restart.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let later = converges(&sim.process.url, &dashboard.url, |_| true).await;
    assert_ne!(first, later, "the workload should have changed some job in 5 s at speed 4");
    // Jobs Kubernetes deleted meanwhile are still listed, marked as such.
    let everything = dashboard_all_jobs(&dashboard.url).await;
    let deleted: Vec<&String> = first.keys().filter(|id| !later.contains_key(*id)).collect();
    assert!(!deleted.is_empty(), "the workload deletes finished jobs");
    for id in deleted {
        assert_eq!(everything.get(id).map(|(_, gone)| *gone), Some(true), "{id} was deleted from the cluster but is not listed as such");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_watches_only_the_namespaces_it_is_given() {
    let (sim, dashboard) = cluster_and_dashboard("namespaces", &[], &["--namespace", "ml,analytics"]).await;
    let shown = converges(&sim.process.url, &dashboard.url, |id| id.starts_with("ml/") || id.starts_with("analytics/")).await;
    assert!(!shown.is_empty());
    let everything = dashboard_jobs(&dashboard.url).await;
    assert!(everything.keys().all(|id| !id.starts_with("data-eng/")), "{everything:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_spark_application_is_shown_as_unknown_and_the_rest_keeps_working() {
    let (sim, dashboard) = cluster_and_dashboard("malformed", &[], &[]).await;
    let broken = json!({
        "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
        "metadata": {"name": "broken-app", "namespace": "ml"},
        "spec": "not an object",
        "status": {"applicationState": {"state": 42}, "sparkApplicationId": ["no"], "terminationTime": "yesterday"}
    });
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/apis/sparkoperator.k8s.io/v1beta2/namespaces/ml/sparkapplications", sim.process.url))
        .json(&broken)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let job: Value = eventually("the broken app to appear", Duration::from_secs(15), || async {
        let response = reqwest::get(format!("{}/api/v1/jobs/ml/broken-app", dashboard.url)).await.map_err(|e| e.to_string())?;
        if response.status() == 200 { response.json().await.map_err(|e| e.to_string()) } else { Err(response.status().to_string()) }
    })
    .await;
    assert_eq!(job["state"], "UNKNOWN");
    assert_eq!(job["app_id"], Value::Null);
    converges(&sim.process.url, &dashboard.url, |id| id != "ml/broken-app").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_job_is_a_404_that_names_it() {
    let (_sim, dashboard) = cluster_and_dashboard("unknown-job", &[], &[]).await;
    let response = reqwest::get(format!("{}/api/v1/jobs/ml/nope", dashboard.url)).await.unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "no job ml/nope");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_recovers_from_cut_watches_and_expired_versions() {
    // Watches are cut mid-stream every second, and the sim remembers only the last change: at
    // 30x, a watcher resuming from its last resourceVersion finds it gone (410) and must list
    // again. Then the cluster is frozen, and the dashboard must have caught up exactly.
    let (sim, dashboard) =
        cluster_and_dashboard("faults", &["--speed", "30", "--watch-history", "1", "--drop-watches-after", "1"], &[]).await;
    let stats = eventually("a watch cut and a resume refused with 410", Duration::from_secs(30), || async {
        let stats = get_json(&format!("{}/sim/stats", sim.process.url)).await;
        let (dropped, expired) = (stats["watches_dropped"].as_u64().unwrap(), stats["watches_expired"].as_u64().unwrap());
        if dropped > 0 && expired > 0 { Ok(stats) } else { Err(stats.to_string()) }
    })
    .await;
    let client = reqwest::Client::new();
    let frozen = client.put(format!("{}/sim/speed?value=0", sim.process.url)).send().await.unwrap();
    assert!(frozen.status().is_success());
    let shown = converges(&sim.process.url, &dashboard.url, |_| true).await;
    assert!(shown.len() >= 15, "{shown:?} after {stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_connects_to_a_tls_cluster_with_a_token() {
    let (sim, dashboard) = cluster_and_dashboard("tls", &["--tls"], &[]).await;
    assert!(sim.process.url.starts_with("https://"));
    let kubeconfig = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    assert!(kubeconfig.contains("certificate-authority-data") && kubeconfig.contains("\"token\""));
    let jobs = dashboard_jobs(&dashboard.url).await;
    assert!(jobs.len() >= 15, "{jobs:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_comes_with_its_pods_events_and_spark_conf() {
    let (sim, dashboard) = cluster_and_dashboard("detail", &["--speed", "4"], &[]).await;
    // A running operator job: its driver's node, kubelet and operator events, its Spark conf.
    let detail: Value = eventually("a running job with its driver's events", Duration::from_secs(30), || {
        find_detail(
            &dashboard.url,
            |j| j["state"] == "RUNNING",
            |detail| {
                let has = |reason: &str| detail["events"].as_array().unwrap().iter().any(|e| e["reason"] == reason);
                // Nodes and events are listed alongside the jobs, not before: wait for them too.
                let node_known = detail["pods"][0]["instance_type"].is_string();
                detail["spark_conf"]["spark.executor.instances"].is_string()
                    && has("Scheduled")
                    && has("SparkApplicationSubmitted")
                    && node_known
            },
        )
    })
    .await;
    let pods = detail["pods"].as_array().unwrap();
    assert_eq!(pods[0]["role"], "driver", "driver first: {pods:?}");
    assert!(pods[0]["node"].is_string() && pods[0]["instance_type"].is_string(), "{:?}", pods[0]);
    assert!(["spot", "on-demand"].contains(&pods[0]["capacity_type"].as_str().unwrap()));
    assert!(pods.iter().skip(1).all(|p| p["role"] == "executor"));
    assert!(detail["spark_conf"]["spark.driver.memory"].is_string());
    assert_eq!(detail["state"], "RUNNING", "the job's own fields are flattened in");

    // A job whose spot node was reclaimed shows the node's interruption among its events.
    let lost: Value = eventually("a job that lost its spot node", Duration::from_secs(60), || async {
        let pods = get_json(&format!("{}/api/v1/pods?labelSelector=spark-role%3Ddriver", sim.process.url)).await;
        let Some(driver) = pods["items"].as_array().unwrap().iter().find(|p| p["status"]["reason"] == "NodeShutdown") else {
            return Err("no driver lost its node yet".to_string());
        };
        let job = driver["metadata"]["labels"]["sparkoperator.k8s.io/app-name"].as_str().unwrap_or_default();
        let detail = get_json(&format!("{}/api/v1/jobs/{}/{job}", dashboard.url, driver["metadata"]["namespace"].as_str().unwrap())).await;
        if detail["events"].as_array().is_some_and(|e| e.iter().any(|e| e["reason"] == "SpotInterrupted")) {
            Ok(detail)
        } else {
            Err(detail.to_string())
        }
    })
    .await;
    assert_eq!(lost["state"], "FAILED");
    assert_eq!(lost["pods"][0]["reason"], "NodeShutdown");
    assert_eq!(lost["failure"]["reason"], "NodeLost", "{}", lost["failure"]);

    // A scheduled run names its ScheduledSparkApplication, with the schedule itself.
    let scheduled: Value = eventually("a run of a ScheduledSparkApplication with its schedule", Duration::from_secs(30), || {
        find_detail(&dashboard.url, |j| j["scheduled_by"].is_string() && j["deleted_from_cluster"] == false, |d| d["schedule"].is_object())
    })
    .await;
    assert_eq!(scheduled["schedule"]["name"], scheduled["scheduled_by"]);
    assert_eq!(scheduled["schedule"]["schedule"], "@every 5m");

    // spark-submit jobs come with the pod that submitted them: tied by the Airflow task for
    // KubernetesPodOperator pods, by a shared job label for the others.
    for by_airflow in [true, false] {
        let what = if by_airflow { "a job with its Airflow submitter pod" } else { "a job with its spark-submit pod, tied by a job label" };
        let detail: Value = eventually(what, Duration::from_secs(60), || {
            find_detail(
                &dashboard.url,
                |j| j["airflow"].is_object() == by_airflow && j["deleted_from_cluster"] == false,
                |d| d["pods"].as_array().unwrap().iter().any(|p| p["role"] == "controller"),
            )
        })
        .await;
        let pods = detail["pods"].as_array().unwrap();
        assert_eq!(pods[0]["role"], "driver", "driver first: {pods:?}");
        assert_eq!(pods[1]["role"], "controller", "then what submitted it: {pods:?}");
        assert!(pods[1]["node"].is_string());
    }

    // A driver the scheduler cannot place is named as such while it waits.
    let stuck: Value = eventually("an unschedulable driver named in the summary", Duration::from_secs(30), || async {
        let jobs = get_json(&format!("{}/api/v1/jobs?limit=1000&state=SUBMITTED", dashboard.url)).await;
        jobs["jobs"].as_array().unwrap().iter().find(|j| j["failure"]["reason"] == "Unschedulable").cloned().ok_or_else(|| jobs.to_string())
    })
    .await;
    assert!(stuck["failure"]["message"].as_str().unwrap().contains("Insufficient memory"), "{stuck}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_links_redirect_to_the_job_or_say_what_was_not_found() {
    let (_sim, dashboard) = cluster_and_dashboard("deep-links", &[], &[]).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let jobs = get_json(&format!("{}/api/v1/jobs?limit=1000", dashboard.url)).await;
    let jobs = jobs["jobs"].as_array().unwrap();
    let with_app = jobs.iter().find(|j| j["app_id"].is_string()).expect("a job with an app id");
    let expected = format!("/jobs/{}/{}", with_app["namespace"].as_str().unwrap(), with_app["name"].as_str().unwrap());
    let response = client.get(format!("{}/apps/{}", dashboard.url, with_app["app_id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(response.status(), 307);
    assert_eq!(response.headers()["location"], expected.as_str());
    // Spark's executor log links (`spark.ui.custom.executor.log.url`) open the merged log of
    // that executor; a `{{FILE_NAME}}` after them is fine; anything else is no executor.
    let app = with_app["app_id"].as_str().unwrap();
    for (link, source) in [("executors/3/logs", "exec-3"), ("executors/driver/logs/stderr", "driver")] {
        let response = client.get(format!("{}/apps/{app}/{link}", dashboard.url)).send().await.unwrap();
        assert_eq!(response.status(), 307, "{link}");
        assert_eq!(response.headers()["location"], format!("{expected}/logs?source={source}").as_str());
    }
    for link in ["executors/3%26level%3DERROR/logs", "executors/3/logs/stdout/more", "executors/3"] {
        let response = client.get(format!("{}/apps/{app}/{link}", dashboard.url)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{link}");
    }

    let from_airflow = jobs.iter().find(|j| j["airflow"].is_object()).expect("a job launched by Airflow");
    let airflow = &from_airflow["airflow"];
    let run = airflow["run_id"].as_str().unwrap().replace(':', "%3A");
    let link =
        format!("{}/airflow/{}/{}/{run}/1", dashboard.url, airflow["dag_id"].as_str().unwrap(), airflow["task_id"].as_str().unwrap());
    let response = client.get(link).send().await.unwrap();
    assert_eq!(response.status(), 307);
    let expected = format!("/jobs/{}/{}", from_airflow["namespace"].as_str().unwrap(), from_airflow["name"].as_str().unwrap());
    assert_eq!(response.headers()["location"], expected.as_str());

    let response = client.get(format!("{}/apps/spark-nope", dashboard.url)).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("spark-nope"));
    let response = client.get(format!("{}/airflow/d/t/r/not-a-number", dashboard.url)).send().await.unwrap();
    assert_eq!(response.status(), 404);
}
