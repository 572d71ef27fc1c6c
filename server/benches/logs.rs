//! `make bench`: the merged log pipeline, each figure beside its peer measured in the same run.
//!
//! - merge throughput: a job with 200 sources (CRI files in the log archive, about 1 GB; set
//!   `SPARKBOARD_BENCH_LOG_MB` for another size) read, parsed, folded, merged and written as
//!   NDJSON, vs GNU `sort -m` merging the same timestamped files;
//! - peak memory (RSS high-water mark) while streaming it, against the input's size;
//! - time to the first line from S3 (SeaweedFS on loopback, 200 gzip objects), vs the first
//!   byte of one raw GET of the same store, and vs what any merge must wait for: every
//!   source's listings and first byte, all at once, by a plain client.
//!
//! Figures only: these machines are noisy, so nothing here asserts a time.

#[path = "../tests/common/mod.rs"]
mod common;
mod support;

use app::api::JobDetail;
use app::log_query::LogQuery;
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sparkboard::archive::local::LocalDir;
use sparkboard::archive::store::ObjectStore;
use sparkboard::logs::key_template::{CRI_DEFAULT, KeyTemplate};
use sparkboard::logs::plan::{LogService, Lookup};
use sparkboard::logs::record::RecordFormat;
use sparkboard::logs::shipped::ShippedLogs;
use sparkboard::model::JobModel;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SOURCES: usize = 200;
const NS: &str = "bench";

#[tokio::main]
async fn main() {
    let megabytes: u64 = std::env::var("SPARKBOARD_BENCH_LOG_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let dir = std::env::temp_dir().join(format!("sparkboard-bench-logs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let start = Timestamp::now().checked_sub(SignedDuration::from_hours(2)).unwrap();
    let (files, bytes) = write_sources(&dir, start, megabytes * 1024 * 1024);
    merge_throughput(&dir, &files, bytes, start).await;
    let _ = std::fs::remove_dir_all(&dir);
    match std::env::var("WEED") {
        Ok(_) => first_line_from_s3(start).await,
        Err(_) => println!("first line from S3: skipped (set WEED to SeaweedFS's weed binary; `make bench` does)"),
    }
}

fn pod(i: usize) -> String {
    format!("etl-{i:03}-exec-{}", i + 1)
}

/// 200 executors' CRI files, lines interleaved in time across them, in the CRI layout.
fn write_sources(dir: &Path, start: Timestamp, target: u64) -> (Vec<PathBuf>, u64) {
    let template = KeyTemplate::parse(CRI_DEFAULT).unwrap();
    let mut writers = Vec::new();
    let mut files = Vec::new();
    for i in 0..SOURCES {
        let name = pod(i);
        let vars =
            sparkboard::logs::key_template::KeyVars { namespace: NS, pod: &name, container: "spark-kubernetes-executor", app_id: None };
        let key = template.render(&vars, start, &mut |n| if n == 0 { format!("uid{i}") } else { "0.log".into() });
        let path = dir.join(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        writers.push(std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&path).unwrap()));
        files.push(path);
    }
    let base = start.as_nanosecond() as i64;
    let mut written = 0u64;
    let mut k: u64 = 0;
    while written < target {
        let source = ((k * 7919) % SOURCES as u64) as usize;
        let time = Timestamp::from_nanosecond(i128::from(base + (k as i64) * 1_000)).unwrap();
        let line = format!(
            "{} stderr F {} INFO Executor: Finished task {}.0 in stage {}.0 (TID {k}). 2148 bytes result sent to driver\n",
            sparkboard_sim::pod_log::rfc3339_nano_fixed(time),
            time.strftime("%y/%m/%d %H:%M:%S"),
            k % 40,
            k / 4000
        );
        writers[source].write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        k += 1;
    }
    writers.into_iter().for_each(|mut w| w.flush().unwrap());
    (files, written)
}

fn detail(start: Timestamp) -> JobDetail {
    let pods: Vec<_> = (0..SOURCES)
        .map(|i| {
            json!({"name": pod(i), "role": "executor", "node": null, "instance_type": null, "capacity_type": null, "phase": "Succeeded",
                   "restarts": 0, "exit_code": 0, "reason": null, "started_at": start, "finished_at": null, "deleted": true,
                   "containers": ["spark-kubernetes-executor"], "executor_id": (i + 1).to_string()})
        })
        .collect();
    serde_json::from_value(json!({
        "namespace": NS, "name": "etl", "state": "COMPLETED", "app_id": "spark-bench", "user": null, "submitted_at": start,
        "started_at": start, "finished_at": Timestamp::now(), "duration_s": null,
        "executors": {"requested": SOURCES, "running": 0, "completed": SOURCES, "failed": 0, "oom_killed": 0},
        "failure": null, "airflow": null, "pods": pods, "events": [], "spark_conf": {}, "deleted_from_cluster": true
    }))
    .unwrap()
}

fn service(store: Arc<dyn ObjectStore>, format: RecordFormat, template: &str) -> LogService {
    let mut service = LogService::without_sources(Arc::new(JobModel::default()));
    service.archive = Some(Arc::new(ShippedLogs { store, format, template: KeyTemplate::parse(template).unwrap() }));
    service
}

fn lookup() -> Lookup {
    Arc::new(|| Box::pin(async { None }))
}

/// The high-water mark of this process's resident memory, in MiB; `reset` starts it anew.
fn peak_rss_mib(reset: bool) -> f64 {
    if reset {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

async fn merge_throughput(dir: &Path, files: &[PathBuf], bytes: u64, start: Timestamp) {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    println!("merge: {SOURCES} sources, {mib:.0} MiB of CRI lines");
    // The peer: GNU sort merging the same files (they are sorted by their leading timestamps).
    let begin = Instant::now();
    let sort = std::process::Command::new("sort")
        .env("LC_ALL", "C")
        .arg("-m")
        .args(files)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("sort");
    let sort_time = begin.elapsed();
    assert!(sort.success());
    let service = service(Arc::new(LocalDir::new(dir)), RecordFormat::Cri, CRI_DEFAULT);
    let before = peak_rss_mib(true);
    let begin = Instant::now();
    let mut merge = service.open(detail(start), &LogQuery::default(), lookup()).await;
    let (mut events, mut out_bytes) = (0u64, 0u64);
    let mut out = Vec::with_capacity(1 << 20);
    while let Some(batch) = merge.next_batch().await {
        out.clear();
        for event in &batch {
            sparkboard::views::logs::write_ndjson(event, &mut out);
        }
        events += batch.len() as u64;
        out_bytes += out.len() as u64;
    }
    let ours = begin.elapsed();
    let peak = peak_rss_mib(false);
    println!(
        "  sparkboard: {:.1} s, {:.0} MiB/s, {events} events, {:.0} MiB of NDJSON out",
        ours.as_secs_f64(),
        mib / ours.as_secs_f64(),
        out_bytes as f64 / (1024.0 * 1024.0)
    );
    println!("  sort -m:    {:.1} s, {:.0} MiB/s", sort_time.as_secs_f64(), mib / sort_time.as_secs_f64());
    println!("  ratio sparkboard / sort -m time: {:.2}", ours.as_secs_f64() / sort_time.as_secs_f64());
    println!("  peak RSS while streaming: {peak:.0} MiB (before: {before:.0} MiB), input {mib:.0} MiB: ratio {:.3}", peak / mib);
}

/// 200 gzip objects in SeaweedFS (one per executor, about 1 MiB of lines each): time to the
/// first merged line, vs the first byte of one GET.
async fn first_line_from_s3(start: Timestamp) {
    let weed = common::Seaweed::start("bench-logs").await;
    let store = weed.store("logs", "").await;
    store.create_bucket().await.expect("bucket");
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    let template = KeyTemplate::parse(CRI_DEFAULT).unwrap();
    let mut first_key = String::new();
    for i in 0..SOURCES {
        let name = pod(i);
        let vars =
            sparkboard::logs::key_template::KeyVars { namespace: NS, pod: &name, container: "spark-kubernetes-executor", app_id: None };
        let key = template.render(&vars, start, &mut |n| if n == 0 { format!("uid{i}") } else { "0.log.gz".into() });
        let mut text = Vec::new();
        for k in 0..8000u64 {
            let time = Timestamp::from_nanosecond(start.as_nanosecond() + i128::from(k * 1_000_000 + i as u64)).unwrap();
            let _ = writeln!(
                text,
                "{} stderr F 26/11/21 05:00:00 INFO Executor: Running task {k}.0 in stage 1.0 (TID {k})",
                sparkboard_sim::pod_log::rfc3339_nano_fixed(time)
            );
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        store.put(&key, gz.finish().unwrap().into()).await.unwrap();
        if i == 0 {
            first_key = key;
        }
    }
    let service = service(store.clone(), RecordFormat::Cri, CRI_DEFAULT);
    let job = detail(start);
    let (from, to) = (job.job.started_at.unwrap_or(start), job.job.finished_at.unwrap_or(start));
    let (mut ours, mut direct, mut every) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let begin = Instant::now();
        let mut merge = service.open(detail(start), &LogQuery::default(), lookup()).await;
        let first = merge.next_batch().await.expect("a first line");
        ours.push(begin.elapsed().as_secs_f64() * 1000.0);
        assert!(!first.is_empty());
        drop(merge);
        let begin = Instant::now();
        let mut body = store.get_stream(&first_key).await.unwrap().unwrap();
        body.next().await.unwrap().unwrap();
        direct.push(begin.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let begin = Instant::now();
        every_first_byte(&store, &template, from, to).await;
        every.push(begin.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for samples in [&mut ours, &mut direct, &mut every] {
        samples.sort_by(f64::total_cmp);
    }
    let (p50, d50, e50) = (support::percentile(&ours, 0.5), support::percentile(&direct, 0.5), support::percentile(&every, 0.5));
    println!("first line from S3 ({SOURCES} gzip objects, SeaweedFS): p50 {p50:.0} ms");
    println!("  vs one GET's first byte {d50:.1} ms: ratio {:.1}", p50 / d50);
    println!("  vs every source's listings and first byte, all at once, by a plain client {e50:.0} ms: ratio {:.2}", p50 / e50);
}

/// What any merge of the 200 sources must wait for at least: each source's listings under the
/// template's prefixes and the first byte of its first object, all sources at once.
async fn every_first_byte(store: &Arc<dyn ObjectStore>, template: &KeyTemplate, from: Timestamp, to: Timestamp) {
    futures::future::join_all((0..SOURCES).map(|i| async move {
        let name = pod(i);
        let vars =
            sparkboard::logs::key_template::KeyVars { namespace: NS, pod: &name, container: "spark-kubernetes-executor", app_id: None };
        let mut keys = Vec::new();
        for prefix in template.prefixes(&vars, from, to) {
            keys.extend(store.list(&prefix).await.expect("a listing"));
        }
        let first = keys.into_iter().min().expect("an object per source");
        let mut body = store.get_stream(&first).await.expect("a GET").expect("the object");
        body.next().await.expect("a first chunk").expect("its bytes");
    }))
    .await;
}
