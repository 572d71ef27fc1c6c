//! `make bench`: the simulated API server at scale, each figure beside its peer measured in
//! the same run (in-process "direct access": the same work without HTTP).
//!
//! - list of 100,000 pods over HTTP vs serializing the same list in-process;
//! - watch fan-out: 1,000 changes per second for 10 s to 50 HTTP watchers vs 50 in-process
//!   subscribers of the store, with delivery latency percentiles, throughput and losses;
//! - the workload engine at 10,000 jobs: start-up, live pods, and the share of real time the
//!   engine needs to play the cluster (its peer is the wall clock: under 100% keeps up).
//!
//! Figures only: these machines are noisy, so nothing here asserts a time.

mod support;

use futures::StreamExt;
use jiff::Timestamp;
use serde_json::{Value, json};
use sparkboard_sim::resources::PODS;
use sparkboard_sim::store::{Store, WatchFrom};
use sparkboard_sim::{SimState, api};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PODS_TOTAL: usize = 100_000;
const WATCHERS: usize = 50;
const CHANGES_PER_SECOND: u64 = 1_000;
const SECONDS: u64 = 10;

fn store_with_pods(n: usize) -> Arc<Store> {
    let store = Arc::new(Store::default());
    let now = Timestamp::now();
    for i in 0..n {
        let pod = support::spark_pod(i, &["data-eng", "ml", "analytics"], now);
        store.create(&PODS, pod).expect("create pod");
    }
    store
}

fn summary(latencies: &mut [f64]) -> String {
    latencies.sort_by(|a, b| a.total_cmp(b));
    format!(
        "p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        support::percentile(latencies, 0.5) * 1e3,
        support::percentile(latencies, 0.99) * 1e3,
        latencies.last().copied().unwrap_or(f64::NAN) * 1e3
    )
}

/// Writes `CHANGES_PER_SECOND` pod updates for `SECONDS`, stamping each with its send time.
async fn write_changes(store: Arc<Store>, origin: Instant) {
    let total = CHANGES_PER_SECOND * SECONDS;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let per_tick = CHANGES_PER_SECOND / 100;
    let mut sent = 0u64;
    while sent < total {
        tick.tick().await;
        for _ in 0..per_tick {
            let i = (sent as usize * 7919) % PODS_TOTAL;
            let (job, exec) = (i / 10, i % 10);
            let ns = ["data-eng", "ml", "analytics"][job % 3];
            let stamp = origin.elapsed().as_secs_f64();
            store
                .update(&PODS, ns, &format!("job-{job:05}-exec-{exec}"), |p| {
                    p["metadata"]["annotations"] = json!({"bench/sent-at": stamp.to_string()})
                })
                .expect("update");
            sent += 1;
        }
    }
}

fn sent_at(object: &Value) -> Option<f64> {
    object["metadata"]["annotations"]["bench/sent-at"].as_str()?.parse().ok()
}

async fn http_watcher(url: String, rv: u64, origin: Instant, expected: u64) -> (Vec<f64>, u64) {
    let response = reqwest::get(format!("{url}/api/v1/pods?watch=true&resourceVersion={rv}")).await.expect("watch");
    let mut body = response.bytes_stream();
    let mut buffer = Vec::new();
    let (mut latencies, mut received) = (Vec::new(), 0u64);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(SECONDS + 20);
    while received < expected {
        let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, body.next()).await else { break };
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let event: Value = serde_json::from_slice(&line).expect("watch line");
            if let Some(sent) = sent_at(&event["object"]) {
                latencies.push(origin.elapsed().as_secs_f64() - sent);
                received += 1;
            }
        }
    }
    (latencies, received)
}

async fn direct_watcher(store: Arc<Store>, rv: u64, origin: Instant, expected: u64) -> (Vec<f64>, u64) {
    let mut start = store.watch(&PODS, WatchFrom::Version(rv)).expect("watch");
    let (mut latencies, mut received) = (Vec::new(), 0u64);
    while received < expected {
        let Ok(Ok(change)) = tokio::time::timeout(Duration::from_secs(5), start.live.recv()).await else { break };
        if let Some(sent) = sent_at(&change.object) {
            latencies.push(origin.elapsed().as_secs_f64() - sent);
            received += 1;
        }
    }
    (latencies, received)
}

async fn fan_out(name: &str, store: Arc<Store>, url: Option<String>) -> f64 {
    let origin = Instant::now();
    let rv = store.resource_version();
    let expected = CHANGES_PER_SECOND * SECONDS;
    let watchers: Vec<_> = (0..WATCHERS)
        .map(|_| match &url {
            Some(url) => tokio::spawn(http_watcher(url.clone(), rv, origin, expected)),
            None => tokio::spawn(direct_watcher(store.clone(), rv, origin, expected)),
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    write_changes(store.clone(), origin).await;
    let mut all = Vec::new();
    let mut delivered = 0;
    for watcher in watchers {
        let (latencies, received) = watcher.await.expect("watcher");
        delivered += received;
        all.extend(latencies);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let lost = expected * WATCHERS as u64 - delivered;
    println!("  {name:<28} {:>9.0} events/s delivered  lost {lost:>6}  {}", delivered as f64 / elapsed, summary(&mut all));
    support::percentile(&all, 0.5)
}

/// Plays 10,000 jobs with 10 executors each for `seconds` of simulated time per speed, and
/// reports how much of real time the engine needed.
fn workload_at_scale() {
    use sparkboard_sim::Scenario;
    use sparkboard_sim::workload::Workload;
    let sim = SimState::new(Arc::new(Store::default()), 0.0);
    let mut scenario = Scenario::sized(1, 10_000, Some(10));
    scenario.log_rate = 0.0;
    let started = Instant::now();
    let mut workload = Workload::new(sim.clone(), scenario, 1);
    let startup = started.elapsed().as_secs_f64();
    let pods = sim.store.list(&PODS, None).0.len();
    println!("workload at scale (10,000 jobs x 10 executors):");
    println!("  start-up {startup:.1} s, {pods} pods live");
    for speed in [0.5, 1.0] {
        let ticks = 100;
        let mut busy = Duration::ZERO;
        for _ in 0..ticks {
            sim.clock.jump(0.1 * speed);
            let t = Instant::now();
            workload.tick();
            busy += t.elapsed();
        }
        let share = busy.as_secs_f64() / (ticks as f64 * 0.1);
        println!("  speed {speed}: the engine needs {:.0}% of real time (one core) to keep up", share * 100.0);
    }
}

#[tokio::main]
async fn main() {
    println!("sim_api benchmark ({PODS_TOTAL} pods; {WATCHERS} watchers x {CHANGES_PER_SECOND} changes/s x {SECONDS} s)");
    let build = Instant::now();
    let store = store_with_pods(PODS_TOTAL);
    println!("  store filled in {:.2} s", build.elapsed().as_secs_f64());

    let state = SimState::new(store.clone(), 1.0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, api::router(state)).await });

    // List: HTTP end to end vs in-process serialization of the same list.
    let client = reqwest::Client::new();
    let (mut http, mut direct) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let body = client.get(format!("{url}/api/v1/pods")).send().await.expect("list").bytes().await.expect("body");
        http.push(t.elapsed().as_secs_f64());
        bytes = body.len();
        let t = Instant::now();
        let (items, rv) = store.list(&PODS, None);
        let encoded = serde_json::to_vec(&(rv, &items)).expect("encode");
        direct.push(t.elapsed().as_secs_f64());
        assert!(!encoded.is_empty());
    }
    http.sort_by(f64::total_cmp);
    direct.sort_by(f64::total_cmp);
    let (h, d) = (support::percentile(&http, 0.5), support::percentile(&direct, 0.5));
    println!("list {PODS_TOTAL} pods ({:.1} MB):", bytes as f64 / 1e6);
    println!("  over HTTP (sparkboard sim)   median {:.0} ms  ({:.0} MB/s)", h * 1e3, bytes as f64 / h / 1e6);
    println!("  direct (in-process encode)   median {:.0} ms", d * 1e3);
    println!("  ratio HTTP / direct          {:.2}x", h / d);

    println!("watch fan-out:");
    let over_http = fan_out("over HTTP (sparkboard sim)", store.clone(), Some(url)).await;
    let in_process = fan_out("direct (store subscribers)", store.clone(), None).await;
    println!("  ratio p50 latency HTTP / direct  {:.2}x", over_http / in_process);
    drop(store);
    workload_at_scale();
}
