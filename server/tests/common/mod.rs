//! Harness for integration tests: the real `sparkboard` binary in separate processes, on
//! loopback ports it picks itself.

#![allow(dead_code)]

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
    /// Starts `sparkboard ARGS` and waits until it prints where it listens.
    pub fn start(args: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sparkboard"))
            .args(args)
            .env("SPARKBOARD_LOG", "warn")
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

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
