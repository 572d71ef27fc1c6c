//! `make bench`: the metrics page of a job with 200 executors and 24 hours of 15 s samples,
//! each figure beside its peer measured in the same run.
//!
//! The data: a finished job `bench/app` in the model (a driver and 200 executors, one of them
//! OOM-killed an hour before the end), and a real Prometheus holding 24 h of cAdvisor samples
//! every 15 s of each of its containers, backfilled by promtool from OpenMetrics text written
//! here (the four series sparkboard queries, nothing else).
//!
//! - the metrics API as the page asks for it (`summarise=8`) and whole (every series): p50/p99
//!   and bytes, vs Prometheus' own `query_range` for the same panel queries over all 201 pods
//!   at the step sparkboard chose; and, to tell batching apart from the rest, sparkboard's
//!   batched queries sent straight to Prometheus, as many at a time as sparkboard sends them;
//! - the page in headless Chromium (`end2end/bench/metrics_page.mjs`, Playwright): time from
//!   navigation until every chart is drawn, and the bytes the browser received (the page's own
//!   assets, the metrics answer), vs Chromium showing Prometheus' answer to the memory query
//!   (the largest) as a plain document.
//!
//! Needs `PROMETHEUS` (with promtool beside it, or `PROMTOOL`); the browser part needs node,
//! Playwright (`node_modules`) and Chromium (`CHROMIUM`, else /usr/bin/chromium) and is
//! skipped without them. Figures only: these machines are noisy, so nothing here asserts a time.

mod support;

use app::api::{JobMetrics, Metric, Panel};
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use kube::api::DynamicObject;
use serde_json::{Value, json};
use sparkboard::metrics::MetricsService;
use sparkboard::metrics::batch::{BatchLimits, batches};
use sparkboard::metrics::panels::PrometheusSource;
use sparkboard::metrics::prometheus::Prometheus;
use sparkboard::metrics::promql::{panel_query, pods_regex};
use sparkboard::model::JobModel;
use sparkboard::model::labels::LabelKeys;
use sparkboard::model::pod::PodSummary;
use sparkboard_sim::objects::{self, Owner, PodSpec, Size};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NS: &str = "bench";
const JOB: &str = "app";
const APP_ID: &str = "spark-0123456789abcdef0123456789abcdef";
const EXECUTORS: usize = 200;
/// The executor the kernel kills for memory, an hour before the job ends.
const OOM_EXECUTOR: usize = 137;
const HOURS: i64 = 24;
/// Seconds between two scrapes of the kubelets: the samples' spacing, and what sparkboard is
/// told so that its `rate()` windows hold several of them.
const SCRAPE_S: i64 = 15;
/// Executors the page draws one by one (`KEEP_EXECUTORS` in app/src/routes/metrics.rs).
const KEEP: usize = 8;
/// Sparkboard's Prometheus queries in flight per request (`CONCURRENT_QUERIES` in
/// server/src/metrics/panels.rs), for the batched peer.
const CONCURRENT_QUERIES: usize = 4;
/// Sparkboard's default per-query timeout (`--prometheus-timeout`).
const PROMETHEUS_TIMEOUT: Duration = Duration::from_secs(10);
const API_RUNS: usize = 10;
const PAGE_LOADS: usize = 5;
/// promtool reads its whole input once per block: one block per 54 h window (a duration
/// Prometheus itself compacts to with 30 days of retention) makes two or three passes instead
/// of thirteen 2 h ones. (Hidden in Debian's promtool 2.42, but there.)
const MAX_BLOCK_DURATION: &str = "54h";
const DRIVER: Size = Size { cores: 1, memory_mib: 4096, overhead_mib: 1024 };
const EXECUTOR: Size = Size { cores: 2, memory_mib: 7168, overhead_mib: 1024 };
const DRIVER_CONTAINER: &str = "spark-kubernetes-driver";
const EXECUTOR_CONTAINER: &str = "spark-kubernetes-executor";

#[tokio::main]
async fn main() {
    let Some(tools) = PrometheusTools::find() else {
        println!("metrics page: skipped (set PROMETHEUS to Prometheus' binary, with promtool beside it; `make bench` does)");
        return;
    };
    let scratch = Scratch::new();
    let timeline = Timeline::ending_now();
    println!(
        "metrics page: job {NS}/{JOB}, a driver and {EXECUTORS} executors ({JOB}-exec-{OOM_EXECUTOR} OOM-killed 1 h before the end), {HOURS} h of {SCRAPE_S} s samples"
    );
    let prometheus = fill_prometheus(&tools, &scratch, &timeline).await;
    let source = PrometheusSource {
        client: Prometheus::new(&prometheus.url, PROMETHEUS_TIMEOUT).expect("Prometheus' loopback URL"),
        limits: BatchLimits::default(),
        scrape_interval: Duration::from_secs(SCRAPE_S as u64),
    };
    let limits = source.limits;
    let dashboard = support::serve_dashboard_with(timeline.model(), MetricsService::Prometheus(Arc::new(source))).await;
    let client = reqwest::Client::new();
    let api = format!("http://{dashboard}/api/v1/jobs/{NS}/{JOB}/metrics");
    let answer = check_answer(&client, &api).await;
    let peer = PeerQueries::new(&prometheus.url, &timeline.pod_names(), &answer, limits);
    println!(
        "  sparkboard's settings: scrape interval {SCRAPE_S} s, {} pods per query ({} queries per request, {CONCURRENT_QUERIES} at a time); range {} to {}, step {} s, {} points per series",
        limits.max_pods,
        peer.batched.len(),
        answer.from,
        answer.to,
        answer.step_s,
        (answer.to.as_second() - answer.from.as_second()) / answer.step_s as i64 + 1
    );
    api_figures(&client, &api, &peer).await;
    match Browser::find() {
        Some(browser) => {
            let page = format!("http://{dashboard}/jobs/{NS}/{JOB}/metrics");
            browser_figures(&browser, &page, &peer.document_url(Metric::MemoryWorkingSet)).await;
        }
        None => println!("browser: skipped (needs node, Playwright in node_modules and Chromium at $CHROMIUM or /usr/bin/chromium)"),
    }
    // Stopped before its directory goes (the guards would do the same on a panic).
    drop(prometheus);
    drop(scratch);
}

/// The OpenMetrics file written, backfilled into blocks and removed, and Prometheus started
/// over them; the setup's times are printed (they are not figures: no peer, one run).
async fn fill_prometheus(tools: &PrometheusTools, scratch: &Scratch, timeline: &Timeline) -> RunningPrometheus {
    let begin = Instant::now();
    let input = scratch.path().join("cadvisor.om");
    let written = write_openmetrics(&input, &timeline.containers());
    let generated = begin.elapsed();
    let begin = Instant::now();
    let data = scratch.path().join("data");
    let blocks = tools.backfill(&input, &data);
    let backfilled = begin.elapsed();
    // Some 600 MB the run no longer needs.
    let _ = std::fs::remove_file(&input);
    let begin = Instant::now();
    let prometheus = tools.start(scratch.path(), &data).await;
    println!(
        "  setup (not a figure): {} samples of {} series, {:.0} MiB of OpenMetrics written in {:.1} s; promtool: {blocks} blocks in {:.1} s; Prometheus ready in {:.1} s",
        thousands(written.samples),
        written.series,
        mib(written.bytes),
        generated.as_secs_f64(),
        backfilled.as_secs_f64(),
        begin.elapsed().as_secs_f64()
    );
    prometheus
}

/// A directory of this run's own, removed with everything in it when the run ends or panics.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("sparkboard-bench-metrics-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// When the job ran: its driver from `start` to `end`, one executor killed at `oom_at`.
struct Timeline {
    start: Timestamp,
    end: Timestamp,
    oom_at: Timestamp,
}

/// One container as cAdvisor saw it: which, when it ran, what it was given.
struct Container {
    pod: String,
    name: &'static str,
    /// Seconds since the epoch: its start and its end (the last sample is at or before it).
    from: i64,
    to: i64,
    memory_limit: f64,
    cpu_limit: f64,
    /// Its memory climbs to the limit at `to`, where the kernel kills it.
    oom: bool,
    /// Picks its own curve (period and phase) and noise.
    seed: u64,
}

impl Timeline {
    /// A job that ran for the last [`HOURS`], to the second.
    fn ending_now() -> Timeline {
        let end = Timestamp::from_second(Timestamp::now().as_second()).expect("now in seconds");
        Timeline { start: end - SignedDuration::from_hours(HOURS), end, oom_at: end - SignedDuration::from_hours(1) }
    }

    fn driver_started(&self) -> Timestamp {
        self.start + SignedDuration::from_secs(5)
    }

    /// Spark asks for its executors once the driver is up; they end just before it does.
    fn executors_started(&self) -> Timestamp {
        self.start + SignedDuration::from_secs(30)
    }

    fn executor_ended(&self, i: usize) -> Timestamp {
        if i == OOM_EXECUTOR { self.oom_at } else { self.end - SignedDuration::from_secs(10) }
    }

    fn pod_names(&self) -> Vec<String> {
        std::iter::once(format!("{JOB}-driver")).chain((1..=EXECUTORS).map(|i| format!("{JOB}-exec-{i}"))).collect()
    }

    fn containers(&self) -> Vec<Container> {
        let bytes = |size: Size| f64::from(size.memory_mib + size.overhead_mib) * 1024.0 * 1024.0;
        let driver = Container {
            pod: format!("{JOB}-driver"),
            name: DRIVER_CONTAINER,
            from: self.driver_started().as_second(),
            to: self.end.as_second(),
            memory_limit: bytes(DRIVER),
            cpu_limit: f64::from(DRIVER.cores),
            oom: false,
            seed: 0,
        };
        let executors = (1..=EXECUTORS).map(|i| Container {
            pod: format!("{JOB}-exec-{i}"),
            name: EXECUTOR_CONTAINER,
            from: self.executors_started().as_second(),
            to: self.executor_ended(i).as_second(),
            memory_limit: bytes(EXECUTOR),
            cpu_limit: f64::from(EXECUTOR.cores),
            oom: i == OOM_EXECUTOR,
            seed: i as u64,
        });
        std::iter::once(driver).chain(executors).collect()
    }

    /// The job's pods as the kubelet leaves them: the driver Succeeded at `end`, the executors
    /// Succeeded just before, one Failed (137, OOMKilled) at `oom_at`. Every container has CPU
    /// and memory requests and limits (Spark gives the driver no CPU limit; this one has one,
    /// so that every container has all four series).
    fn pods(&self) -> Vec<Value> {
        let node = |i: usize| format!("ip-10-0-{}-{}.ec2.internal", i / 16, 10 + i % 16);
        let driver_node = node(0);
        let spec = PodSpec {
            namespace: NS,
            name: &format!("{JOB}-driver"),
            labels: json!({"spark-role": "driver", "spark-app-selector": APP_ID}),
            owner: None,
            driver: true,
            size: DRIVER,
            node: Some(&driver_node),
            oom_at: None,
        };
        let mut driver = objects::pod(&spec, self.start);
        driver["spec"]["containers"][0]["resources"]["limits"]["cpu"] = json!(DRIVER.cores.to_string());
        objects::set_running(&mut driver, "10.1.0.1", self.driver_started());
        objects::set_terminated(&mut driver, 0, "Completed", self.end);
        // Spark's executors name their driver pod as owner: that is how a spark-submit job's
        // executors find their job.
        let owner = || Owner { api_version: "v1", kind: "Pod", name: "app-driver", uid: "00000000-0000-0000-0000-00000000d71e" };
        let executors = (1..=EXECUTORS).map(|i| {
            let (name, node) = (format!("{JOB}-exec-{i}"), node(i));
            let spec = PodSpec {
                namespace: NS,
                name: &name,
                labels: json!({"spark-role": "executor", "spark-app-selector": APP_ID, "spark-exec-id": i.to_string()}),
                owner: Some(owner()),
                driver: false,
                size: EXECUTOR,
                node: Some(&node),
                oom_at: None,
            };
            let mut pod = objects::pod(&spec, self.executors_started() - SignedDuration::from_secs(10));
            objects::set_running(&mut pod, &format!("10.1.{}.{}", i / 250, 2 + i % 250), self.executors_started());
            match i {
                OOM_EXECUTOR => objects::set_terminated(&mut pod, 137, "OOMKilled", self.oom_at),
                _ => objects::set_terminated(&mut pod, 0, "Completed", self.executor_ended(i)),
            }
            pod
        });
        std::iter::once(driver).chain(executors).collect()
    }

    /// The model as the pod watch would fill it.
    fn model(&self) -> Arc<JobModel> {
        let model = Arc::new(JobModel::default());
        let keys = LabelKeys::default();
        for pod in self.pods() {
            let object: DynamicObject = serde_json::from_value(pod).expect("a pod object");
            model.apply_pod(PodSummary::from_object(&object, &keys).expect("a Spark pod"));
        }
        model
    }
}

/// A deterministic number in [-1, 1) for `(seed, t)`: noise that is the same in every run.
fn noise(seed: u64, t: i64) -> f64 {
    let mut x = seed.wrapping_mul(0xD1B5_4A32_D192_ED03) ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 52) as f64 - 1.0
}

/// A slow wave of `period_h` hours through the job, shifted by the container's seed.
fn wave(seed: u64, t: i64, period_h: f64) -> f64 {
    let phase = (seed % 97) as f64 / 97.0 * std::f64::consts::TAU;
    (t as f64 / (period_h * 3600.0) * std::f64::consts::TAU + phase).sin()
}

impl Container {
    /// Working set in bytes: a JVM that fills its heap in the first minutes, then breathes with
    /// its stages; the OOM-killed one climbs to its limit.
    fn memory(&self, t: i64) -> f64 {
        let warm = ((t - self.from) as f64 / 600.0).min(1.0);
        let share = if self.oom {
            let p = (t - self.from) as f64 / (self.to - self.from) as f64;
            0.4 + 0.599 * p.powi(4) + 0.01 * noise(self.seed, t) * (1.0 - p)
        } else if self.name == DRIVER_CONTAINER {
            0.15 + 0.2 * warm + 0.05 * wave(self.seed, t, 5.0) + 0.01 * noise(self.seed, t)
        } else {
            let period = 2.0 + (self.seed % 5) as f64;
            (0.15 + 0.35 * warm + 0.15 * wave(self.seed, t, period) + 0.03 * noise(self.seed, t)).clamp(0.05, 0.95)
        };
        (share * self.memory_limit).round()
    }

    /// Cores in use over the last scrape interval.
    fn cpu_rate(&self, t: i64) -> f64 {
        let busy = if self.name == DRIVER_CONTAINER {
            0.15 + 0.1 * noise(self.seed, t).abs()
        } else {
            let period = 1.0 + (self.seed % 3) as f64;
            0.6 + 0.3 * wave(self.seed.wrapping_add(7), t, period) + 0.15 * noise(self.seed.wrapping_add(1), t)
        };
        self.cpu_limit * busy.clamp(0.02, 1.0)
    }

    /// Share of CFS periods throttled: none below three quarters of the limit, half at it.
    fn throttled_share(&self, rate: f64) -> f64 {
        ((rate / self.cpu_limit - 0.75) * 2.0).clamp(0.0, 0.5)
    }

    /// Its samples at the scrape instants (a grid shared by every container) while it ran,
    /// counters accumulated as cAdvisor reports them.
    fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        let first = (self.from + SCRAPE_S - 1).div_euclid(SCRAPE_S) * SCRAPE_S;
        (first..=self.to).step_by(SCRAPE_S as usize).scan(Sample::default(), move |acc, t| {
            let rate = self.cpu_rate(t);
            // CFS periods are 100 ms; a period counts when the cgroup had something to run.
            let periods = (10.0 * SCRAPE_S as f64 * (0.2 + rate / self.cpu_limit).min(1.0)).round();
            acc.t = t;
            acc.memory = self.memory(t);
            acc.cpu_seconds += rate * SCRAPE_S as f64;
            acc.periods += periods;
            acc.throttled += (periods * self.throttled_share(rate)).round();
            Some(*acc)
        })
    }
}

#[derive(Clone, Copy, Default)]
struct Sample {
    t: i64,
    memory: f64,
    cpu_seconds: f64,
    periods: f64,
    throttled: f64,
}

/// One cAdvisor metric family as OpenMetrics declares it (a counter's family name has no
/// `_total`; its samples do), and how a sample's value reads.
struct Family {
    name: &'static str,
    kind: &'static str,
    suffix: &'static str,
    value: fn(&Sample) -> String,
}

/// The four families sparkboard asks Prometheus for (server/src/metrics/promql.rs).
const FAMILIES: [Family; 4] = [
    Family { name: "container_memory_working_set_bytes", kind: "gauge", suffix: "", value: |s| format!("{:.0}", s.memory) },
    Family { name: "container_cpu_usage_seconds", kind: "counter", suffix: "_total", value: |s| format!("{:.3}", s.cpu_seconds) },
    Family { name: "container_cpu_cfs_periods", kind: "counter", suffix: "_total", value: |s| format!("{:.0}", s.periods) },
    Family { name: "container_cpu_cfs_throttled_periods", kind: "counter", suffix: "_total", value: |s| format!("{:.0}", s.throttled) },
];

struct Written {
    samples: u64,
    series: usize,
    bytes: u64,
}

/// `containers`' samples as OpenMetrics text in `path`, family by family, series by series,
/// streamed (the file is some 600 MB).
fn write_openmetrics(path: &Path, containers: &[Container]) -> Written {
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut written = Written { samples: 0, series: 0, bytes: 0 };
    let fail = |e: std::io::Error| panic!("write {}: {e}", path.display());
    for Family { name, kind, suffix, value } in FAMILIES {
        writeln!(out, "# TYPE {name} {kind}").unwrap_or_else(fail);
        for c in containers {
            let series = format!("{name}{suffix}{{namespace=\"{NS}\",pod=\"{}\",container=\"{}\"}} ", c.pod, c.name);
            for sample in c.samples() {
                writeln!(out, "{series}{} {}", value(&sample), sample.t).unwrap_or_else(fail);
                written.samples += 1;
            }
            written.series += 1;
        }
    }
    writeln!(out, "# EOF").unwrap_or_else(fail);
    out.flush().unwrap_or_else(fail);
    written.bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    written
}

/// Prometheus and promtool, from the same install.
struct PrometheusTools {
    prometheus: PathBuf,
    promtool: PathBuf,
}

impl PrometheusTools {
    /// `PROMETHEUS` (else `prometheus` on PATH) and promtool beside it (else `PROMTOOL`, else
    /// on PATH); `None` when either does not run.
    fn find() -> Option<PrometheusTools> {
        let prometheus = PathBuf::from(std::env::var("PROMETHEUS").unwrap_or_else(|_| "prometheus".into()));
        let beside = prometheus.with_file_name("promtool");
        let promtool = match std::env::var("PROMTOOL") {
            Ok(path) => PathBuf::from(path),
            Err(_) if beside.is_file() => beside,
            Err(_) => PathBuf::from("promtool"),
        };
        let runs = |binary: &Path| Command::new(binary).arg("--version").output().is_ok_and(|o| o.status.success());
        (runs(&prometheus) && runs(&promtool)).then_some(PrometheusTools { prometheus, promtool })
    }

    /// Blocks in `data` from the OpenMetrics file `input`; how many.
    fn backfill(&self, input: &Path, data: &Path) -> usize {
        let output = Command::new(&self.promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
            .arg(format!("--max-block-duration={MAX_BLOCK_DURATION}"))
            .arg(input)
            .arg(data)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.promtool.display()));
        assert!(
            output.status.success(),
            "promtool could not backfill {}: {}\n{}",
            input.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read_dir(data)
            .unwrap_or_else(|e| panic!("promtool wrote no {}: {e}", data.display()))
            .filter_map(Result::ok)
            .filter(|entry| entry.path().join("meta.json").is_file())
            .count()
    }

    /// Prometheus over `data` on a free loopback port, scraping nothing, ready to answer.
    async fn start(&self, dir: &Path, data: &Path) -> RunningPrometheus {
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, format!("global:\n  scrape_interval: {SCRAPE_S}s\nscrape_configs: []\n")).expect("write prometheus.yml");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port();
        let log = dir.join("prometheus.log");
        let child = Command::new(&self.prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=30d")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create prometheus.log"))
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.prometheus.display()));
        let mut running = RunningPrometheus { child, url: format!("http://127.0.0.1:{port}") };
        running.wait_ready(&log).await;
        running
    }
}

/// A Prometheus process, killed when dropped (a panic included).
struct RunningPrometheus {
    child: Child,
    url: String,
}

impl RunningPrometheus {
    /// Waits for `/-/ready` (its blocks loaded); panics with its log if it exits or takes a minute.
    async fn wait_ready(&mut self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let ready = format!("{}/-/ready", self.url);
        loop {
            if reqwest::get(&ready).await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            let exited = self.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                panic!(
                    "Prometheus at {} not ready ({}):\n{}",
                    self.url,
                    exited.map_or("not within 60 s".to_string(), |s| format!("exited: {s}")),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for RunningPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sparkboard's answer as the page asks for it, checked: Prometheus' series for every pod, no
/// panel error, the OOM kill, the executors folded. Its range and step are the peers'.
async fn check_answer(client: &reqwest::Client, api: &str) -> JobMetrics {
    let url = format!("{api}?summarise={KEEP}");
    let response = client.get(&url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status();
    let body = response.bytes().await.unwrap_or_else(|e| panic!("GET {url}: body: {e}"));
    assert!(status.is_success(), "GET {url}: {status}: {}", String::from_utf8_lossy(&body[..body.len().min(500)]));
    let answer: JobMetrics = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("GET {url}: not JobMetrics: {e}"));
    // The executors table's panel says there is no Spark UI to ask (the job is over, and no
    // History Server is configured): expected. A chart's error means Prometheus' side broke.
    let errors: Vec<&str> = answer.errors.iter().filter(|e| e.panel != Panel::Executors).map(|e| e.message.as_str()).collect();
    assert!(errors.is_empty(), "sparkboard's metrics answer has chart panel errors: {errors:?}");
    let summary = answer.summary.as_ref().expect("executors folded (summarise=8)");
    assert_eq!(summary.executors, EXECUTORS, "executors with series");
    assert_eq!(answer.events.len(), 1, "one OOM kill");
    answer
}

/// Prometheus' side of the same question: the panel queries sparkboard sends, over every pod
/// in one query each, or cut into sparkboard's batches; at sparkboard's range and step.
struct PeerQueries {
    url: String,
    from: Timestamp,
    to: Timestamp,
    step: f64,
    /// One per panel, all 201 pods.
    whole: Vec<(Metric, String)>,
    /// Sparkboard's own: every batch's panels.
    batched: Vec<String>,
}

impl PeerQueries {
    fn new(url: &str, pods: &[String], answer: &JobMetrics, limits: BatchLimits) -> PeerQueries {
        let pods: Vec<&str> = pods.iter().map(String::as_str).collect();
        let step = answer.step_s;
        // `PrometheusSource::rate_window`: two steps, and at least four scrapes.
        let window = ((2.0 * step) as u64).max(4 * SCRAPE_S as u64);
        let whole = Metric::ALL.map(|metric| (metric, panel_query(metric, NS, &pods_regex(&pods), window))).to_vec();
        let batched = batches(&pods, limits)
            .iter()
            .flat_map(|batch| Metric::ALL.map(|metric| panel_query(metric, NS, &pods_regex(batch), window)))
            .collect();
        PeerQueries { url: url.to_string(), from: answer.from, to: answer.to, step, whole, batched }
    }

    fn form(&self, query: &str) -> [(&'static str, String); 4] {
        let seconds = |t: Timestamp| format!("{:.3}", t.as_millisecond() as f64 / 1000.0);
        [("query", query.to_string()), ("start", seconds(self.from)), ("end", seconds(self.to)), ("step", self.step.to_string())]
    }

    /// `POST /api/v1/query_range`; the body's size on the wire, gzip if asked for.
    async fn query(&self, client: &reqwest::Client, query: &str, gzip: bool) -> (u64, Option<String>) {
        let mut request = client.post(format!("{}/api/v1/query_range", self.url)).form(&self.form(query));
        if gzip {
            request = request.header("accept-encoding", "gzip");
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("Prometheus query_range: {e}"));
        let (status, encoding) = (response.status(), content_encoding(&response));
        let body = response.bytes().await.unwrap_or_else(|e| panic!("Prometheus query_range: body: {e}"));
        assert!(status.is_success(), "Prometheus query_range {query}: {status}: {}", String::from_utf8_lossy(&body[..body.len().min(500)]));
        (body.len() as u64, encoding)
    }

    /// The panel queries over all pods, one after the other; the bytes they brought.
    async fn whole_in_turn(&self, client: &reqwest::Client) -> u64 {
        let mut bytes = 0;
        for (_, query) in &self.whole {
            bytes += self.query(client, query, false).await.0;
        }
        bytes
    }

    /// Sparkboard's batch queries, as many in flight as sparkboard sends; the bytes they brought.
    async fn batched_like_sparkboard(&self, client: &reqwest::Client) -> u64 {
        futures::stream::iter(&self.batched)
            .map(|query| self.query(client, query, false))
            .buffer_unordered(CONCURRENT_QUERIES)
            .fold(0, |sum, (bytes, _)| async move { sum + bytes })
            .await
    }

    /// The answers to `queries`, summed: raw, and gzipped as Prometheus sends them.
    async fn bytes(&self, client: &reqwest::Client, queries: impl Iterator<Item = &str>) -> Bytes {
        let mut bytes = Bytes { raw: 0, sent_gzip: Some(0), would_gzip: 0 };
        for query in queries {
            bytes.raw += self.query(client, query, false).await.0;
            let (gz, encoding) = self.query(client, query, true).await;
            assert_eq!(encoding.as_deref(), Some("gzip"), "Prometheus compresses for Accept-Encoding: gzip");
            bytes.sent_gzip = bytes.sent_gzip.map(|sum| sum + gz);
            bytes.would_gzip += gz;
        }
        bytes
    }

    /// The GET address of `metric`'s whole query, for a browser to show as a document.
    fn document_url(&self, metric: Metric) -> String {
        let (_, query) = self.whole.iter().find(|(m, _)| *m == metric).expect("every panel has a query");
        let pairs: Vec<String> = self.form(query).iter().map(|(k, v)| format!("{k}={}", app::query::encode(v))).collect();
        format!("{}/api/v1/query_range?{}", self.url, pairs.join("&"))
    }
}

fn content_encoding(response: &reqwest::Response) -> Option<String> {
    response.headers().get("content-encoding").and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// One GET of sparkboard's API: the body's size on the wire and its encoding.
async fn get(client: &reqwest::Client, url: &str, gzip: bool) -> (Vec<u8>, Option<String>) {
    let mut request = client.get(url);
    if gzip {
        request = request.header("accept-encoding", "gzip");
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let (status, encoding) = (response.status(), content_encoding(&response));
    let body = response.bytes().await.unwrap_or_else(|e| panic!("GET {url}: body: {e}"));
    assert!(status.is_success(), "GET {url}: {status}");
    (body.to_vec(), encoding)
}

/// Seconds of one run of `work`.
async fn timed<F: std::future::Future>(work: F) -> f64 {
    let begin = Instant::now();
    std::hint::black_box(work.await);
    begin.elapsed().as_secs_f64()
}

fn p50_p99(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    (support::percentile(samples, 0.5), support::percentile(samples, 0.99))
}

/// The API figures: sparkboard summarised and whole, Prometheus whole and batched, the runs
/// interleaved so that a busy moment of the machine falls on all of them alike.
async fn api_figures(client: &reqwest::Client, api: &str, peer: &PeerQueries) {
    let summarised = format!("{api}?summarise={KEEP}");
    // Warm-up: connections, Prometheus' page cache and chunk decoding, sparkboard's allocator.
    get(client, &summarised, false).await;
    get(client, api, false).await;
    peer.whole_in_turn(client).await;
    peer.batched_like_sparkboard(client).await;
    let mut times: [Vec<f64>; 4] = Default::default();
    for _ in 0..API_RUNS {
        times[0].push(timed(get(client, &summarised, false)).await);
        times[1].push(timed(get(client, api, false)).await);
        times[2].push(timed(peer.whole_in_turn(client)).await);
        times[3].push(timed(peer.batched_like_sparkboard(client)).await);
    }
    let [summarised_time, every_time, whole_time, batched_time] = times.map(|mut t| p50_p99(&mut t));
    let ways = [
        Way {
            name: format!("sparkboard ?summarise={KEEP} (what the page asks)"),
            time: summarised_time,
            bytes: sparkboard_bytes(client, &summarised).await,
        },
        Way { name: "sparkboard, every series".into(), time: every_time, bytes: sparkboard_bytes(client, api).await },
        Way {
            name: format!("Prometheus: the {} panel queries over all 201 pods, in turn", peer.whole.len()),
            time: whole_time,
            bytes: peer.bytes(client, peer.whole.iter().map(|(_, q)| q.as_str())).await,
        },
        Way {
            name: format!("Prometheus: sparkboard's {} batch queries, {CONCURRENT_QUERIES} at a time", peer.batched.len()),
            time: batched_time,
            bytes: peer.bytes(client, peer.batched.iter().map(String::as_str)).await,
        },
    ];
    print_api(&ways);
}

/// One way of getting the answer: p50 and p99 seconds, and bytes.
struct Way {
    name: String,
    time: (f64, f64),
    bytes: Bytes,
}

/// An answer's size raw, gzipped when the server compresses for `Accept-Encoding: gzip`, and
/// what gzip would make of it.
struct Bytes {
    raw: u64,
    sent_gzip: Option<u64>,
    would_gzip: u64,
}

/// Sparkboard's answer at `url`, raw and as it answers a client that accepts gzip.
async fn sparkboard_bytes(client: &reqwest::Client, url: &str) -> Bytes {
    let (raw, _) = get(client, url, false).await;
    let (gz, encoding) = get(client, url, true).await;
    Bytes { raw: raw.len() as u64, sent_gzip: encoding.map(|_| gz.len() as u64), would_gzip: gzip_size(&raw) }
}

fn print_api(ways: &[Way; 4]) {
    println!();
    println!("{:<60} {:>11} {:>11} {:>11}    gzip", format!("API, {API_RUNS} runs each, interleaved"), "p50", "p99", "bytes");
    for way in ways {
        let gzip = match way.bytes.sent_gzip {
            Some(gz) => size(gz),
            None => format!("not sent (would be {})", size(way.bytes.would_gzip)),
        };
        println!("  {:<58} {:>8} ms {:>8} ms {:>11}    {gzip}", way.name, ms(way.time.0), ms(way.time.1), size(way.bytes.raw));
    }
    let [summarised, every, whole, batched] = ways;
    let (time, bytes) = (|a: &Way, b: &Way| a.time.0 / b.time.0, |a: &Way, b: &Way| a.bytes.raw as f64 / b.bytes.raw as f64);
    println!(
        "  ratios sparkboard / Prometheus (all pods) p50: summarised {:.2}, every series {:.2}; bytes: summarised {:.2}, every series {:.2}",
        time(summarised, whole),
        time(every, whole),
        bytes(summarised, whole),
        bytes(every, whole)
    );
    println!("  ratio sparkboard summarised / its own batch queries straight to Prometheus p50: {:.2}", time(summarised, batched));
}

/// `raw` gzipped at the default level: what compression would save.
fn gzip_size(raw: &[u8]) -> u64 {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(raw).expect("gzip in memory");
    gz.finish().expect("gzip in memory").len() as u64
}

/// Node with Playwright and Chromium, to drive the page.
struct Browser {
    chromium: String,
    script: PathBuf,
}

impl Browser {
    fn find() -> Option<Browser> {
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/bench/metrics_page.mjs");
        let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
        let playwright = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node_modules/playwright").is_dir();
        (node && playwright && Path::new(&chromium).is_file() && script.is_file()).then_some(Browser { chromium, script })
    }

    /// Runs the script over `page` and `peer`; its JSON report.
    async fn run(&self, page: &str, peer: &str) -> Value {
        let config = json!({"page": page, "peer": peer, "loads": PAGE_LOADS, "chromium": self.chromium});
        // Spawned rather than `output()`, which would capture stderr too: the script's errors
        // go straight to the bench's own stderr.
        let node = tokio::process::Command::new("node")
            .arg(&self.script)
            .arg(config.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("run node {}: {e}", self.script.display()));
        let output = node.wait_with_output().await.unwrap_or_else(|e| panic!("node {}: {e}", self.script.display()));
        assert!(output.status.success(), "{} failed ({}): see its error above", self.script.display(), output.status);
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!("{} printed no JSON report ({e}): {}", self.script.display(), String::from_utf8_lossy(&output.stdout))
        })
    }
}

/// The p50 of `field` over the loads in `loads`.
fn p50_of(loads: &Value, field: &str) -> f64 {
    let mut values: Vec<f64> = loads.as_array().into_iter().flatten().filter_map(|l| l.pointer(field)).filter_map(Value::as_f64).collect();
    values.sort_by(f64::total_cmp);
    support::percentile(&values, 0.5)
}

async fn browser_figures(browser: &Browser, page: &str, peer: &str) {
    let report = browser.run(page, peer).await;
    let (ours, theirs) = (&report["page"], &report["peer"]);
    println!();
    println!(
        "{:<66} {:>15} {:>17} {:>13}",
        format!("browser, {PAGE_LOADS} cold loads each after a warm-up, p50"),
        "sparkboard page",
        "Prometheus JSON",
        "page / JSON"
    );
    let row = |name: &str, field: &str, with_peer: bool| {
        let page = p50_of(ours, field);
        let json = with_peer.then(|| p50_of(theirs, field));
        let json_text = json.map_or("—".to_string(), |j| format!("{} ms", thousands_f(j)));
        let ratio = json.filter(|j| *j > 0.0).map_or(String::new(), |j| format!("{:.2}×", page / j));
        println!("  {name:<64} {:>12} ms {json_text:>17} {ratio:>13}", thousands_f(page));
    };
    row("first contentful paint", "/fcp_ms", true);
    row("data asked for (metrics call sent / navigation)", "/data_start_ms", true);
    row("data received (responseEnd)", "/data_end_ms", true);
    row("drawn (4 charts + executors table / JSON loaded and painted)", "/rendered_ms", true);
    let bytes = |loads: &Value, field: &str| p50_of(loads, field) as u64;
    let byte_row = |name: &str, field: &str, peer_field: Option<&str>| {
        let page = bytes(ours, field);
        let json = peer_field.map(|f| bytes(theirs, f));
        let json_text = json.map_or("—".to_string(), size);
        let ratio = json.filter(|j| *j > 0).map_or(String::new(), |j| format!("{:.2}×", page as f64 / j as f64));
        println!("  {name:<64} {:>15} {json_text:>17} {ratio:>13}", size(page));
    };
    byte_row("bytes received: the page's own assets", "/bytes/page", None);
    byte_row("bytes received: the data (metrics answer / JSON document)", "/bytes/data", Some("/bytes/data"));
    byte_row("bytes received: all", "/bytes/total", Some("/bytes/total"));
    let first = &ours[0];
    println!(
        "  the page's assets: html {}, js {}, wasm {}, css {}, other {}; the job's live stream, while loading: {} ({} requests in all)",
        size(bytes(ours, "/bytes/html")),
        size(bytes(ours, "/bytes/js")),
        size(bytes(ours, "/bytes/wasm")),
        size(bytes(ours, "/bytes/css")),
        size(bytes(ours, "/bytes/other")),
        size(bytes(ours, "/bytes/stream")),
        first["requests"].as_array().map_or(0, Vec::len)
    );
    let panels: Vec<String> = ["memory", "cpu", "throttling", "executors"]
        .iter()
        .map(|kind| format!("{kind} {}", first["panels"][kind].as_str().unwrap_or("?")))
        .collect();
    println!(
        "  panels (first load): {}; headless Chromium {}",
        panels.join(", "),
        report["chromium"].as_str().unwrap_or("(version unknown)")
    );
}

fn ms(seconds: f64) -> String {
    thousands_f(seconds * 1e3)
}

fn thousands_f(v: f64) -> String {
    if v.is_nan() {
        return "—".into();
    }
    if v < 100.0 { format!("{v:.1}") } else { thousands(v.round() as u64) }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Bytes as KiB or MiB.
fn size(bytes: u64) -> String {
    if bytes < 1024 * 1024 { format!("{:.1} KiB", bytes as f64 / 1024.0) } else { format!("{:.2} MiB", mib(bytes)) }
}
