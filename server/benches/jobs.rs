//! `make bench`: the job inventory at scale, each figure beside its peer measured in the same
//! run.
//!
//! - list API at 100,000 jobs: p50/p99 over HTTP for typical queries (filters, search, sort,
//!   a cursor page) vs computing the same page in-process (direct access);
//! - memory per pod and per job in the model vs the size of the Kubernetes objects (JSON) a
//!   reflector keeping whole objects would hold;
//! - start-up with 250,000 archived jobs (30 days at ~8,000 a day) from a local directory and,
//!   when `WEED` names SeaweedFS, from S3: list, read and load, vs reading the same objects'
//!   bytes without parsing them;
//! - change to browser: a SparkApplication created in the (in-process) simulated cluster until
//!   the dashboard's live stream shows it, vs the Kubernetes watch event itself.
//!
//! Figures only: these machines are noisy, so nothing here asserts a time.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use app::api::{ExecutorCounts, Failure, Job, JobState};
use app::query::JobQuery;
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sparkboard::archive::jobs::JobArchive;
use sparkboard::archive::local::LocalDir;
use sparkboard::archive::store::ObjectStore;
use sparkboard::model::app::AppSummary;
use sparkboard::model::labels::LabelKeys;
use sparkboard::model::pod::PodSummary;
use sparkboard::model::{JobModel, ModelOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LIVE_JOBS: usize = 20_000;
const LISTED_JOBS: usize = 100_000;
const ARCHIVED_JOBS: usize = 250_000;
const HOURS: usize = 30 * 24;
const REQUESTS: usize = 200;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()).unwrap_or(0) * 4096
}

fn p50_p99(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    (support::percentile(samples, 0.5), support::percentile(samples, 0.99))
}

const NAMESPACES: [&str; 5] = ["data-eng", "ml", "analytics", "payments", "search"];
const NAMES: [&str; 8] = [
    "daily-sales-agg",
    "orders-etl",
    "clickstream-sessionize",
    "feature-build",
    "churn-model-train",
    "fraud-score",
    "geo-enrich",
    "spark-pi",
];

/// A finished job as the archive holds it, spread over the last 30 days.
fn archived_job(i: usize, now: Timestamp) -> Job {
    let submitted = now - SignedDuration::from_secs((i as i64 * 30 * 86_400) / ARCHIVED_JOBS as i64);
    let failed = i.is_multiple_of(7);
    Job {
        namespace: NAMESPACES[i % NAMESPACES.len()].into(),
        name: format!("{}-{i:07}", NAMES[i % NAMES.len()]),
        state: if failed { JobState::Failed } else { JobState::Completed },
        app_id: Some(format!("spark-{i:032x}")),
        user: Some(format!("user{}", i % 40)),
        team: Some(format!("team{}", i % 6)),
        submitted_at: Some(submitted),
        started_at: Some(submitted + SignedDuration::from_secs(20)),
        finished_at: Some(submitted + SignedDuration::from_secs(600 + (i % 3000) as i64)),
        duration_s: Some(580.0 + (i % 3000) as f64),
        executors: ExecutorCounts { requested: 8, running: 0, completed: 8, failed: u32::from(failed), oom_killed: u32::from(failed) },
        failure: failed.then(|| Failure {
            reason: "DriverOOMKilled".into(),
            message: "The driver container was killed for using more memory than its limit (exit code 137).".into(),
        }),
        airflow: None,
        scheduled_by: None,
        deleted_from_cluster: true,
        from_operator: true,
    }
}

fn app_object(i: usize, now: Timestamp) -> Value {
    let state = ["RUNNING", "SUBMITTED", "COMPLETED", "FAILED"][i % 4];
    json!({
        "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
        "metadata": {"name": format!("{}-live-{i:06}", NAMES[i % NAMES.len()]), "namespace": NAMESPACES[i % NAMESPACES.len()],
                     "creationTimestamp": (now - SignedDuration::from_secs(i as i64)).to_string(),
                     "labels": {"user": format!("user{}", i % 40), "team": format!("team{}", i % 6), "dag_id": "etl", "task_id": format!("t{}", i % 30), "run_id": format!("scheduled__{i}")}},
        "spec": {"type": "Scala", "mode": "cluster", "executor": {"instances": 8, "cores": 4, "memory": "8g"}, "driver": {"cores": 2, "memory": "4g"},
                 "sparkConf": {"spark.sql.shuffle.partitions": "400", "spark.dynamicAllocation.enabled": "false"}},
        "status": {"applicationState": {"state": state}, "sparkApplicationId": format!("spark-{i:032x}"),
                   "driverInfo": {"podName": format!("app-{i}-driver"), "webUIPort": 4040}}
    })
}

/// Memory per pod and per job in the model, by RSS deltas, beside the objects' JSON size.
fn memory() {
    let keys = LabelKeys::default();
    let now = Timestamp::now();
    let model = JobModel::new(ModelOptions { keep_gone: ARCHIVED_JOBS, label_keys: keys.clone() });
    let before = rss_bytes();
    let mut json_bytes = 0usize;
    let pods = 100_000;
    for i in 0..pods {
        let pod = support::spark_pod(i, &NAMESPACES, now);
        let text = serde_json::to_vec(&pod).unwrap_or_default();
        json_bytes += text.len();
        let object = serde_json::from_slice(&text).expect("a pod");
        if let Some(summary) = PodSummary::from_object(&object, &keys) {
            model.apply_pod(summary);
        }
    }
    let after_pods = rss_bytes();
    let per_pod = (after_pods.saturating_sub(before)) as f64 / pods as f64;
    let json_per_pod = json_bytes as f64 / pods as f64;
    println!(
        "memory per pod: {per_pod:.0} B in the model ({pods} pods, operator jobs without apps) vs {json_per_pod:.0} B of pod JSON; ratio {:.2}",
        per_pod / json_per_pod
    );

    let mut app_json = 0usize;
    for i in 0..LIVE_JOBS {
        let value = app_object(i, now);
        app_json += serde_json::to_vec(&value).map(|v| v.len()).unwrap_or(0);
        let object = serde_json::from_value(value).expect("an app");
        if let Some(app) = AppSummary::from_object(&object, &keys) {
            model.apply_app(app);
        }
    }
    let after_apps = rss_bytes();
    let per_app = after_apps.saturating_sub(after_pods) as f64 / LIVE_JOBS as f64;
    let json_per_app = app_json as f64 / LIVE_JOBS as f64;
    println!(
        "memory per live job: {per_app:.0} B (its SparkApplication's summary and the derived job; {LIVE_JOBS} jobs, 10 pods each) vs {json_per_app:.0} B of SparkApplication JSON; ratio {:.2}",
        per_app / json_per_app
    );

    let archived: Vec<Job> = (0..ARCHIVED_JOBS).map(|i| archived_job(i, now)).collect();
    let summary_json: usize = archived.iter().take(1000).map(|j| serde_json::to_vec(j).map(|v| v.len()).unwrap_or(0)).sum::<usize>() / 1000;
    let before_archive = rss_bytes();
    model.load_archived(archived);
    let per_archived = rss_bytes().saturating_sub(before_archive) as f64 / ARCHIVED_JOBS as f64;
    println!(
        "memory per archived job: {per_archived:.0} B ({ARCHIVED_JOBS} jobs, summary only; pods and events stay in the archive) vs {summary_json} B of summary JSON; ratio {:.2}",
        per_archived / summary_json as f64
    );
}

/// The list API at 100,000 jobs, over HTTP and in-process.
async fn list_api() {
    let now = Timestamp::now();
    let keys = LabelKeys::default();
    let model = Arc::new(JobModel::new(ModelOptions { keep_gone: LISTED_JOBS, label_keys: keys.clone() }));
    for i in 0..LIVE_JOBS {
        if let Some(app) = AppSummary::from_object(&serde_json::from_value(app_object(i, now)).expect("app"), &keys) {
            model.apply_app(app);
        }
    }
    model.load_archived((0..LISTED_JOBS - LIVE_JOBS).map(|i| archived_job(i, now)));
    let addr = support::serve_dashboard(model.clone()).await;
    let client = reqwest::Client::new();
    let base = format!("http://{addr}/api/v1/jobs");
    let first = client.get(&base).send().await.expect("list").json::<Value>().await.expect("json");
    let cursor = first["next"].as_str().unwrap_or_default().to_string();
    println!("list API at {} jobs ({LIVE_JOBS} live, the rest archived), {REQUESTS} requests each:", model.jobs().len());
    let queries = [
        ("newest 100", String::new()),
        ("failed in the last 24 h", "state=FAILED&since=24h".into()),
        ("one namespace, text search", "namespace=ml&q=etl".into()),
        ("longest first", "sort=-duration&limit=50".into()),
        ("page 2 by cursor", format!("cursor={}", app::query::encode(&cursor))),
        ("one user, by name", "user=user7&sort=name".into()),
    ];
    for (what, qs) in queries {
        let url = if qs.is_empty() { base.clone() } else { format!("{base}?{qs}") };
        let mut http = Vec::with_capacity(REQUESTS);
        let mut bytes = 0;
        for _ in 0..REQUESTS {
            let start = Instant::now();
            let body = client.get(&url).send().await.expect("list").bytes().await.expect("body");
            http.push(start.elapsed().as_secs_f64());
            bytes = body.len();
        }
        let query = JobQuery::from_query_string(&qs).expect("query");
        let mut direct = Vec::with_capacity(REQUESTS);
        for _ in 0..REQUESTS {
            let start = Instant::now();
            let page = model.query(&query, |_| true);
            std::hint::black_box(&page);
            direct.push(start.elapsed().as_secs_f64());
        }
        let (h50, h99) = p50_p99(&mut http);
        let (d50, d99) = p50_p99(&mut direct);
        println!(
            "  {what:<28} HTTP p50 {:>6.2} ms p99 {:>6.2} ms ({bytes} B) | in-process p50 {:>6.2} ms p99 {:>6.2} ms | ratio p50 {:.2}",
            h50 * 1e3,
            h99 * 1e3,
            d50 * 1e3,
            d99 * 1e3,
            h50 / d50
        );
    }
}

/// Lays out 250,000 archived jobs as a month of hourly segments.
async fn seed_archive(archive: &JobArchive) {
    let now = Timestamp::now();
    let per_hour = ARCHIVED_JOBS.div_ceil(HOURS);
    let jobs: Vec<Job> = (0..ARCHIVED_JOBS).map(|i| archived_job(i, now)).collect();
    let writes = jobs.chunks(per_hour).enumerate().map(|(h, chunk)| {
        let hour = (now - SignedDuration::from_hours(h as i64)).strftime("%Y-%m-%dT%H").to_string();
        let chunk = chunk.to_vec();
        async move { archive.write_segment(&hour, chunk).await.expect("write segment") }
    });
    futures::stream::iter(writes).buffer_unordered(16).collect::<Vec<_>>().await;
}

/// Start-up from an archive: load and hand to the model, vs reading the bytes raw.
async fn start_up(what: &str, store: Arc<dyn ObjectStore>) {
    let archive = JobArchive::new(store.clone());
    let seeding = Instant::now();
    seed_archive(&archive).await;
    let seeded = seeding.elapsed();

    let start = Instant::now();
    let loaded = archive.load().await.expect("load");
    let model = JobModel::new(ModelOptions { keep_gone: ARCHIVED_JOBS, label_keys: LabelKeys::default() });
    let (jobs, objects) = (loaded.jobs.len(), loaded.objects);
    model.load_archived(loaded.jobs);
    let full = start.elapsed();

    let raw = Instant::now();
    let keys = store.list("jobs/v1/").await.expect("list");
    let bytes: usize = futures::stream::iter(keys.iter().map(|k| {
        let store = store.clone();
        async move { store.get(k).await.ok().flatten().map_or(0, |b| b.len()) }
    }))
    .buffer_unordered(32)
    .collect::<Vec<_>>()
    .await
    .into_iter()
    .sum();
    let raw = raw.elapsed();
    println!(
        "start-up with {jobs} archived jobs from {what}: {:.2} s ({objects} objects, {:.1} MB compressed) vs raw reads of the same objects {:.2} s; ratio {:.2} (seeding took {:.1} s)",
        full.as_secs_f64(),
        bytes as f64 / 1e6,
        raw.as_secs_f64(),
        full.as_secs_f64() / raw.as_secs_f64(),
        seeded.as_secs_f64()
    );
}

/// Creates SparkApplications in the in-process simulated cluster and times how long each
/// takes to show in the dashboard's live stream, beside the watch event's own latency.
async fn change_to_browser() {
    use kube::api::{Api, ApiResource, DynamicObject};
    use tower::ServiceExt;

    let options = sparkboard_sim::SimOptions {
        seed: 1,
        speed: 1.0,
        watch_history: sparkboard_sim::store::DEFAULT_HISTORY,
        drop_watches_after: None,
        scenario: sparkboard_sim::Scenario::demo(1),
        real_drivers: None,
        ship_logs: None,
    };
    let sim = sparkboard_sim::Sim::start(&options);
    let sim_router = sim.router();
    let client = kube::Client::new(sim.router(), "default");
    let model = Arc::new(JobModel::default());
    let _watchers =
        sparkboard::sources::spark_watch::spawn(client.clone(), &sparkboard::sources::spark_watch::Sources::default(), model.clone());
    let addr = support::serve_dashboard(model.clone()).await;
    while !model.is_ready() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let resource = ApiResource {
        group: "sparkoperator.k8s.io".into(),
        version: "v1beta2".into(),
        api_version: "sparkoperator.k8s.io/v1beta2".into(),
        kind: "SparkApplication".into(),
        plural: "sparkapplications".into(),
    };
    let apps: Api<DynamicObject> = Api::namespaced_with(client, "ml", &resource);
    let http = reqwest::Client::new();
    let (mut to_browser, mut to_watch) = (Vec::new(), Vec::new());
    for i in 0..20 {
        let name = format!("latency-probe-{i:03}");
        // The dashboard's view: a live stream of a search that only this job matches.
        let mut stream = http.get(format!("http://{addr}/api/v1/jobs/stream?q={name}")).send().await.expect("stream").bytes_stream();
        let _ = stream.next().await; // the first (empty) page
        // The peer: a plain watch on the cluster.
        let mut watch =
            kube::runtime::watcher(apps.clone(), kube::runtime::watcher::Config::default().fields(&format!("metadata.name={name}")))
                .boxed();
        loop {
            if let Some(Ok(kube::runtime::watcher::Event::InitDone)) = watch.next().await {
                break;
            }
        }
        // A change after a quiet spell (within a burst, a view sends at most every 200 ms).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let body = json!({"apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "SparkApplication",
                          "metadata": {"name": name, "namespace": "ml"}, "spec": {"type": "Scala", "mode": "cluster"}});
        let request = http::Request::post("/apis/sparkoperator.k8s.io/v1beta2/namespaces/ml/sparkapplications")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .expect("request");
        let start = Instant::now();
        let created = sim_router.clone().oneshot(request).await.expect("create");
        assert!(created.status().is_success(), "create: {}", created.status());
        let watched = async {
            while let Some(event) = watch.next().await {
                if let Ok(kube::runtime::watcher::Event::Apply(_)) = event {
                    return start.elapsed();
                }
            }
            start.elapsed()
        };
        let shown = async {
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = stream.next().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                if buffer.contains(&format!("\"name\":\"{name}\"")) {
                    return start.elapsed();
                }
            }
            start.elapsed()
        };
        let (w, s) = tokio::join!(watched, shown);
        to_watch.push(w.as_secs_f64());
        to_browser.push(s.as_secs_f64());
    }
    let (b50, b99) = p50_p99(&mut to_browser);
    let (w50, w99) = p50_p99(&mut to_watch);
    println!(
        "change to browser (create a SparkApplication -> the live stream shows it), 20 changes after a quiet spell: p50 {:.0} ms p99 {:.0} ms vs the watch event p50 {:.1} ms p99 {:.1} ms; ratio p50 {:.0}",
        b50 * 1e3,
        b99 * 1e3,
        w50 * 1e3,
        w99 * 1e3,
        b50 / w50
    );
}

#[tokio::main]
async fn main() {
    memory();
    list_api().await;
    let dir = std::env::temp_dir().join(format!("sparkboard-bench-archive-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    start_up("a local directory", Arc::new(LocalDir::new(&dir))).await;
    let _ = std::fs::remove_dir_all(&dir);
    match std::env::var("WEED") {
        Ok(_) => {
            let weed = common::Seaweed::start("bench").await;
            let store = weed.store("bench", "").await;
            store.create_bucket().await.expect("bucket");
            start_up("S3 (SeaweedFS on loopback)", Arc::new(store)).await;
        }
        Err(_) => println!("start-up from S3: skipped (set WEED to SeaweedFS's weed binary; `make bench` does)"),
    }
    change_to_browser().await;
}
