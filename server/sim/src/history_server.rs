//! A real Spark History Server on loopback, from the same local Spark as the real drivers
//! (pyspark ships `spark-class` and the History Server's classes), reading their event logs.
//! The demo runs one so a job's Spark UI link keeps working after its driver stops; tests run
//! one the same way.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::{Child, Command};

/// Why the History Server could not start.
#[derive(Debug, thiserror::Error)]
pub enum HistoryServerError {
    #[error("cannot find Spark through {python}: {detail}")]
    NoSpark { python: String, detail: String },
    #[error("cannot start the History Server: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("no free port for the History Server: {0}")]
    NoPort(#[source] std::io::Error),
}

/// A running History Server; killed when dropped.
pub struct HistoryServer {
    pub url: String,
    _child: Child,
    _dir: PathBuf,
}

impl HistoryServer {
    /// Starts one that lists `event_log_dir` every 2 s. It serves some seconds later (a JVM
    /// starting): callers poll `url`, the proxy shows a page meanwhile.
    pub async fn start(python: &Path, event_log_dir: &Path) -> Result<HistoryServer, HistoryServerError> {
        let found = Command::new(python)
            .args(["-c", "import pyspark, os; print(os.path.dirname(pyspark.__file__))"])
            .output()
            .await
            .map_err(|e| HistoryServerError::NoSpark { python: python.display().to_string(), detail: e.to_string() })?;
        if !found.status.success() {
            let detail = String::from_utf8_lossy(&found.stderr).trim().to_string();
            return Err(HistoryServerError::NoSpark { python: python.display().to_string(), detail });
        }
        let spark_home = PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
        let port = super::spark_driver::free_port().map_err(HistoryServerError::NoPort)?;
        let _ = std::fs::create_dir_all(event_log_dir);
        let dir = std::env::temp_dir().join(format!("sparkboard-history-server-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(HistoryServerError::Spawn)?;
        let conf = dir.join("history.conf");
        let properties = format!(
            "spark.history.fs.logDirectory file:{}\nspark.history.ui.port {port}\nspark.history.fs.update.interval 2s\nspark.ui.port {port}\n",
            event_log_dir.display()
        );
        std::fs::write(&conf, properties).map_err(HistoryServerError::Spawn)?;
        let child = Command::new(spark_home.join("bin").join("spark-class"))
            .args(["org.apache.spark.deploy.history.HistoryServer", "--properties-file"])
            .arg(&conf)
            .env("SPARK_HOME", &spark_home)
            .env("SPARK_LOCAL_IP", "127.0.0.1")
            .env("SPARK_LOG_DIR", &dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("history-server.log")).map_err(HistoryServerError::Spawn)?)
            .kill_on_drop(true)
            .spawn()
            .map_err(HistoryServerError::Spawn)?;
        Ok(HistoryServer { url: format!("http://127.0.0.1:{port}"), _child: child, _dir: dir })
    }
}
