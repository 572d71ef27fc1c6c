//! Real Spark drivers for the simulated cluster: when a local Spark is installed (pyspark,
//! with Java), some running jobs get a real driver process on loopback, and their driver pod
//! points at it (podIP 127.0.0.1, the `spark-ui` port), so the Spark UI of a simulated job is
//! a real Spark UI. Each driver writes its event log for a History Server.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// The driver program, run with the configured Python.
const PROGRAM: &str = include_str!("spark_driver.py");

/// Why a real driver could not start.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error("cannot start {python}: {source}")]
    Spawn {
        python: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the Spark driver exited before its UI came up")]
    Exited,
    #[error("the Spark driver printed no READY line: {0}")]
    NotReady(String),
    #[error("no free port for the Spark UI: {0}")]
    NoPort(#[source] std::io::Error),
}

/// Starts drivers with one Python and one event-log directory.
#[derive(Clone, Debug)]
pub struct Launcher {
    pub python: PathBuf,
    pub event_log_dir: PathBuf,
}

/// A running driver; dropping it closes its input, and the driver stops cleanly.
pub struct RealDriver {
    pub ui_port: u16,
    pub app_id: String,
    stdin: Option<ChildStdin>,
    child: Child,
}

impl Launcher {
    /// Whether this Python can run Spark (pyspark importable and Java on PATH).
    pub async fn available(python: &Path) -> bool {
        let status = Command::new(python)
            .args(["-c", "import pyspark, shutil, sys; sys.exit(0 if shutil.which('java') else 1)"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
        status.is_ok_and(|s| s.success())
    }

    /// Starts a driver named `app_name` and waits until its UI serves.
    pub async fn start(&self, app_name: &str) -> Result<RealDriver, DriverError> {
        let port = free_port().map_err(DriverError::NoPort)?;
        let _ = std::fs::create_dir_all(&self.event_log_dir);
        let mut child = Command::new(&self.python)
            .arg("-c")
            .arg(PROGRAM)
            .arg(app_name)
            .arg(port.to_string())
            .arg(&self.event_log_dir)
            .env("SPARK_LOCAL_IP", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| DriverError::Spawn { python: self.python.display().to_string(), source })?;
        let stdout = child.stdout.take().ok_or(DriverError::Exited)?;
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next_line().await.ok().flatten().ok_or(DriverError::Exited)?;
        let mut words = line.split_whitespace();
        let (Some("READY"), Some(ui_port), Some(app_id)) = (words.next(), words.next(), words.next()) else {
            return Err(DriverError::NotReady(line));
        };
        let ui_port = ui_port.parse().map_err(|_| DriverError::NotReady(line.clone()))?;
        let app_id = app_id.to_string();
        // Keep reading so the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(RealDriver { ui_port, app_id, stdin: child.stdin.take(), child })
    }
}

impl RealDriver {
    /// Asks the driver to stop and waits for it (it finishes its event log first).
    pub async fn stop(mut self) {
        self.stdin.take();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(30), self.child.wait()).await;
    }
}

pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Where one job's real driver stands.
enum Slot {
    Starting(tokio::task::JoinHandle<Result<RealDriver, DriverError>>),
    Running,
}

/// The real drivers of a workload: at most `limit` at a time, started as jobs' drivers start
/// and stopped as they end.
pub struct RealDrivers {
    launcher: Launcher,
    limit: usize,
    slots: std::collections::HashMap<(String, String), Slot>,
    running: std::collections::HashMap<(String, String), RealDriver>,
}

/// A driver that came up: the job's pod now points at it.
pub struct Started {
    pub namespace: String,
    pub pod: String,
    pub ui_port: u16,
    pub app_id: String,
}

impl RealDrivers {
    pub fn new(launcher: Launcher, limit: usize) -> RealDrivers {
        RealDrivers { launcher, limit, slots: Default::default(), running: Default::default() }
    }

    /// Starts a real driver for this pod if a slot is free.
    pub fn start(&mut self, namespace: &str, pod: &str, app_name: &str) -> bool {
        if self.slots.len() >= self.limit {
            return false;
        }
        let launcher = self.launcher.clone();
        let name = app_name.to_string();
        let task = tokio::spawn(async move { launcher.start(&name).await });
        self.slots.insert((namespace.to_string(), pod.to_string()), Slot::Starting(task));
        true
    }

    /// Drivers that finished starting since the last call.
    pub fn poll_started(&mut self) -> Vec<Started> {
        let done: Vec<(String, String)> = self
            .slots
            .iter()
            .filter(|(_, slot)| matches!(slot, Slot::Starting(task) if task.is_finished()))
            .map(|(key, _)| key.clone())
            .collect();
        let mut started = Vec::new();
        for key in done {
            let Some(Slot::Starting(mut task)) = self.slots.remove(&key) else { continue };
            match futures::FutureExt::now_or_never(&mut task) {
                Some(Ok(Ok(driver))) => {
                    started.push(Started {
                        namespace: key.0.clone(),
                        pod: key.1.clone(),
                        ui_port: driver.ui_port,
                        app_id: driver.app_id.clone(),
                    });
                    self.running.insert(key.clone(), driver);
                    self.slots.insert(key, Slot::Running);
                }
                Some(Ok(Err(error))) => tracing::warn!(pod = %key.1, "no real Spark driver: {error}"),
                Some(Err(error)) => tracing::warn!(pod = %key.1, "real Spark driver task failed: {error}"),
                None => {
                    self.slots.insert(key, Slot::Starting(task));
                }
            }
        }
        started
    }

    /// The job's driver ended: stop its real driver (or the start under way).
    pub fn stop(&mut self, namespace: &str, pod: &str) {
        let key = (namespace.to_string(), pod.to_string());
        match self.slots.remove(&key) {
            Some(Slot::Starting(task)) => {
                tokio::spawn(async move {
                    if let Ok(Ok(driver)) = task.await {
                        driver.stop().await;
                    }
                });
            }
            Some(Slot::Running) => {
                if let Some(driver) = self.running.remove(&key) {
                    tokio::spawn(driver.stop());
                }
            }
            None => {}
        }
    }
}
