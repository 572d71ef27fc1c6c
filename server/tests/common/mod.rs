//! Harness for integration tests: the real `sparkboard` binary in separate processes, on
//! loopback ports it picks itself.

#![allow(dead_code)]

pub mod in_process;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `sparkboard` process, killed when dropped.
pub struct Process {
    child: Child,
    /// The `http://addr` it printed when it started listening.
    pub url: String,
}

impl Process {
    /// Its resident memory now and at its peak (`VmRSS`, `VmHWM`), in bytes.
    pub fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("the process' /proc status");
        let field = |name: &str| -> u64 {
            let line = status.lines().find_map(|l| l.strip_prefix(name)).unwrap_or_else(|| panic!("{name} in /proc status"));
            line.trim().trim_end_matches("kB").trim().parse::<u64>().expect("a size in kB") * 1024
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Starts `sparkboard ARGS` and waits until it prints where it listens.
    pub fn start(args: &[&str]) -> Process {
        Process::start_with_env(args, &[])
    }

    /// Starts `sparkboard ARGS` with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, String)]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sparkboard"))
            .args(args)
            .env("SPARKBOARD_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sparkboard");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("sparkboard {args:?} did not start"));
        Process { child, url }
    }
}

impl Process {
    /// Stops it as Kubernetes would: SIGTERM, then waits for it to finish its shutdown.
    pub fn terminate(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("sparkboard did not stop within 30 s of SIGTERM");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the dashboard at `url` says it is ready.
pub async fn wait_ready(url: &str) {
    until_ok("the dashboard becoming ready", &format!("{url}/readyz"), Duration::from_secs(30)).await;
}

/// Waits (at most `limit`) until a GET of `url` answers with success: `what` names the wait.
pub async fn until_ok(what: &str, url: &str, limit: Duration) {
    eventually(what, limit, || async {
        match reqwest::get(url).await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(r.status().to_string()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;
}

/// A fresh directory for one test's files.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sparkboard-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A simulated cluster on a free port, with its kubeconfig.
pub struct SimCluster {
    pub process: Process,
    pub kubeconfig: PathBuf,
}

pub fn start_sim(test: &str, extra: &[&str]) -> SimCluster {
    let kubeconfig = scratch_dir(test).join("kubeconfig");
    let path = kubeconfig.to_str().expect("utf-8 path").to_string();
    let mut args = vec!["sim", "--listen", "127.0.0.1:0", "--kubeconfig-out", &path];
    args.extend_from_slice(extra);
    SimCluster { process: Process::start(&args), kubeconfig }
}

/// GET `url` as JSON.
pub async fn get_json(url: &str) -> serde_json::Value {
    let response = reqwest::get(url).await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    response.json().await.unwrap_or_else(|e| panic!("GET {url}: body is not JSON: {e}"))
}

/// Polls `check` every 200 ms until it returns `Some`, or panics with `what` after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if start.elapsed() > limit => panic!("{what} did not happen within {limit:?}; last: {last}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The credentials the SeaweedFS of the tests accepts (and nothing else).
pub const S3_ACCESS_KEY: &str = "sparkboard-test";
pub const S3_SECRET_KEY: &str = "sparkboard-test-secret";

/// SeaweedFS (`weed mini`) serving S3 on loopback ports of its own, killed when dropped. Every
/// port is given explicitly: the defaults are fixed, and two tests must not share them.
pub struct Seaweed {
    child: Option<Child>,
    args: Vec<String>,
    pub endpoint: String,
    pub dir: PathBuf,
}

/// A free loopback port (free now; the OS will not hand it out again soon).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A free port `p` with `p + 10000` free too, below 45000 (SeaweedFS's admin worker dials
/// admin + 10000 whatever it is told).
fn free_port_pair() -> u16 {
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    (0..1000u64)
        .map(|i| 20_000 + ((seed.wrapping_mul(2654435761).wrapping_add(i * 7919)) % 25_000) as u16)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok() && std::net::TcpListener::bind(("127.0.0.1", *p + 10_000)).is_ok())
        .expect("a free port pair")
}

impl Seaweed {
    /// Starts SeaweedFS with a fresh data directory and waits until S3 answers.
    pub async fn start(test: &str) -> Seaweed {
        let dir = scratch_dir(&format!("seaweed-{test}"));
        let config = dir.join("s3.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"identities":[{{"name":"tests","credentials":[{{"accessKey":"{S3_ACCESS_KEY}","secretKey":"{S3_SECRET_KEY}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
            ),
        )
        .expect("s3 config");
        let s3 = free_port();
        let admin = free_port_pair();
        let data = dir.join("data");
        std::fs::create_dir_all(&data).expect("data dir");
        let mut args: Vec<String> = vec!["-logtostderr=true".into(), "mini".into(), "-ip=127.0.0.1".into(), "-ip.bind=127.0.0.1".into()];
        args.push(format!("-dir={}", data.display()));
        for flag in ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc", "s3.port.grpc"]
        {
            args.push(format!("-{flag}={}", free_port()));
        }
        args.extend([
            format!("-s3.port={s3}"),
            "-s3.port.iceberg=0".into(),
            "-s3.port.lance=0".into(),
            "-webdav=false".into(),
            "-admin.ui=false".into(),
            format!("-admin.port={admin}"),
            format!("-admin.port.grpc={}", admin + 10_000),
            "-master.telemetry=false".into(),
            "-master.volumeSizeLimitMB=64".into(),
            format!("-s3.config={}", config.display()),
        ]);
        let mut weed = Seaweed { child: None, args, endpoint: format!("http://127.0.0.1:{s3}"), dir };
        weed.run().await;
        weed
    }

    async fn run(&mut self) {
        let binary = std::env::var("WEED").unwrap_or_else(|_| "weed".into());
        let log = std::fs::File::create(self.dir.join("weed.log")).expect("weed log");
        let child = Command::new(&binary)
            .args(&self.args)
            .current_dir(&self.dir)
            // weed adds AWS_* from its environment as an identity: only the config's may work.
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary} (set WEED, or run `make test-tools`): {e}"));
        self.child = Some(child);
        let endpoint = self.endpoint.clone();
        eventually("SeaweedFS's S3 to answer", Duration::from_secs(60), || async {
            reqwest::get(&endpoint).await.map(|_| ()).map_err(|e| e.to_string())
        })
        .await;
    }

    /// Stops it as an outage would (the data stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports and data.
    pub async fn restart(&mut self) {
        self.stop();
        self.run().await;
    }

    /// A store in `bucket` under `prefix` on this S3, with the tests' keys.
    pub async fn store(&self, bucket: &str, prefix: &str) -> sparkboard::archive::s3::S3Store {
        sparkboard::archive::s3::S3Store::connect(sparkboard::archive::s3::S3Options {
            bucket: bucket.into(),
            prefix: prefix.into(),
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            path_style: true,
            credentials: Some((S3_ACCESS_KEY.into(), S3_SECRET_KEY.into())),
        })
        .await
    }

    /// The simulated shipper's writer into `bucket` under `prefix` on this S3, with the tests' keys.
    pub async fn ship_writer(&self, bucket: &str, prefix: &str) -> sparkboard_sim::log_shipper::S3Writer {
        sparkboard_sim::log_shipper::S3Writer::connect(sparkboard_sim::log_shipper::S3Target {
            bucket: bucket.into(),
            prefix: prefix.into(),
            endpoint: Some(self.endpoint.clone()),
            region: Some("us-east-1".into()),
            path_style: true,
            credentials: Some((S3_ACCESS_KEY.into(), S3_SECRET_KEY.into())),
        })
        .await
    }

    /// The environment a `sparkboard` process needs to use this S3.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("SPARKBOARD_S3_ENDPOINT", self.endpoint.clone()),
            ("SPARKBOARD_S3_PATH_STYLE", "true".into()),
        ]
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A real Prometheus (`PROMETHEUS`, else `prometheus` on PATH) on a loopback port of its own,
/// scraping the simulated cluster's cAdvisor and kube-state-metrics endpoints every second
/// into a fresh storage directory; killed when dropped. Its query log records every query
/// sparkboard sends.
pub struct Prometheus {
    child: Option<Child>,
    pub url: String,
    pub dir: PathBuf,
}

impl Prometheus {
    /// Starts it scraping the sim at `sim_url` and waits until both targets are up.
    pub async fn start(test: &str, sim_url: &str) -> Prometheus {
        let target = sim_url.trim_start_matches("http://");
        let prometheus = Prometheus::launch(
            test,
            &format!(
                "scrape_configs:\n\
                 \x20 - job_name: cadvisor\n    metrics_path: /metrics/cadvisor\n    static_configs: [{{targets: ['{target}']}}]\n\
                 \x20 - job_name: kube-state-metrics\n    metrics_path: /metrics/kube-state-metrics\n    honor_labels: true\n    static_configs: [{{targets: ['{target}']}}]\n"
            ),
        );
        let up = format!("{}/api/v1/query?query=sum(up)", prometheus.url);
        eventually("Prometheus scraping both of the sim's targets", Duration::from_secs(60), || async {
            let answer: serde_json::Value = reqwest::get(&up).await.map_err(|e| e.to_string())?.json().await.map_err(|e| e.to_string())?;
            match answer["data"]["result"][0]["value"][1].as_str() {
                Some("2") => Ok(()),
                other => Err(format!("sum(up) = {other:?}")),
            }
        })
        .await;
        prometheus
    }

    /// Starts one that scrapes nothing (a cluster whose kubelets it was never told of), once
    /// it answers queries.
    pub async fn start_scraping_nothing(test: &str) -> Prometheus {
        let prometheus = Prometheus::launch(test, "");
        until_ok("Prometheus ready", &format!("{}/-/ready", prometheus.url), Duration::from_secs(60)).await;
        prometheus
    }

    /// Spawns it with `scrape` as the scrape part of its configuration.
    fn launch(test: &str, scrape: &str) -> Prometheus {
        let dir = scratch_dir(&format!("prometheus-{test}"));
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  query_log_file: {queries}\n{scrape}",
                queries = dir.join("queries.log").display()
            ),
        )
        .expect("prometheus config");
        let port = free_port();
        let binary = std::env::var("PROMETHEUS").unwrap_or_else(|_| "prometheus".into());
        let log = std::fs::File::create(dir.join("prometheus.log")).expect("prometheus log");
        let child = Command::new(&binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=1d")
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary} (set PROMETHEUS, or run `make test-tools`): {e}"));
        Prometheus { child: Some(child), url: format!("http://127.0.0.1:{port}"), dir }
    }

    /// Stops it, as an outage would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The queries it has answered so far (its query log, one JSON object per line).
    pub fn queries(&self) -> Vec<serde_json::Value> {
        let log = std::fs::read_to_string(self.dir.join("queries.log")).unwrap_or_default();
        log.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
