//! The command line: every flag also as a `SPARKBOARD_*` environment variable.
//!
//! Two steps, as in ripgrep: clap parses the raw arguments into the `*Args` structs here; their
//! methods ([`WorkloadArgs::options`], [`ArchiveArgs::location`], [`LogArgs::key_template`],
//! [`MetricsArgs::config`], [`ServeArgs::namespaces`], ...) check what clap cannot and hand the
//! rest of the program plain values, or a [`ConfigError`] that names the flag. Every flag, with
//! its default, is listed in `REFERENCE.md`, "The binary".

use clap::{Args, Parser, Subcommand};
use sparkboard_sim::SimOptions;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "sparkboard", version, about = "One URL per Spark job on Kubernetes: jobs, logs, metrics and the Spark UI.")]
pub struct Cli {
    /// Log filter, in tracing's env-filter syntax (e.g. `info,sparkboard=debug`).
    #[arg(long, global = true, env = "SPARKBOARD_LOG", default_value = "info")]
    pub log: String,
    /// What to run; `demo` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The simulated cluster in-process and the dashboard on it (the default).
    Demo(DemoArgs),
    /// The dashboard on a real cluster (kubeconfig, or in-cluster config in a pod).
    Serve(ServeArgs),
    /// The simulated cluster alone, as a Kubernetes API server (for kubectl and tests).
    Sim(SimArgs),
}

/// Where the dashboard listens.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address of the dashboard (port 0 picks a free port; the address is printed).
    #[arg(long, env = "SPARKBOARD_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
}

/// How the simulated workload plays.
#[derive(Debug, Args)]
pub struct WorkloadArgs {
    /// Seed of the simulated workload: the same seed gives the same cluster.
    #[arg(long, env = "SPARKBOARD_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Simulated seconds per real second (2 plays the workload twice as fast).
    #[arg(long, env = "SPARKBOARD_SPEED", default_value_t = 1.0)]
    pub speed: f64,
    /// A scenario file (JSON) describing the jobs to play, instead of the built-in demo.
    #[arg(long, env = "SPARKBOARD_SCENARIO", conflicts_with_all = ["jobs", "executors"])]
    pub scenario: Option<std::path::PathBuf>,
    /// How many Spark jobs the simulated cluster plays (each runs again and again).
    #[arg(long, env = "SPARKBOARD_JOBS", default_value_t = 20)]
    pub jobs: usize,
    /// Executors per job (default: 2 to 6, varying by job).
    #[arg(long, env = "SPARKBOARD_EXECUTORS")]
    pub executors: Option<u32>,
    /// Scales how many log lines the simulated containers write (0 for none).
    #[arg(long, env = "SPARKBOARD_LOG_RATE", default_value_t = 1.0)]
    pub log_rate: f64,
    /// Give up to this many running jobs a real local Spark driver (needs pyspark and Java),
    /// so their Spark UI is real.
    #[arg(long, env = "SPARKBOARD_REAL_SPARK_DRIVERS", default_value_t = 0)]
    pub real_spark_drivers: usize,
    /// The Python that runs the real Spark drivers (it must import pyspark).
    #[arg(long, env = "SPARKBOARD_PYTHON", default_value = "python3")]
    pub python: std::path::PathBuf,
    /// Where real drivers write their event logs (a History Server reads them).
    #[arg(long, env = "SPARKBOARD_SPARK_EVENT_LOG_DIR")]
    pub spark_event_log_dir: Option<std::path::PathBuf>,
    /// How many changes a watch can resume from; older resourceVersions get 410 Expired.
    #[arg(long, env = "SPARKBOARD_WATCH_HISTORY", default_value_t = sparkboard_sim::store::DEFAULT_HISTORY)]
    pub watch_history: usize,
    /// Fault injection: cut every watch connection this many seconds after it starts, without
    /// a clean end, as a load balancer or a restarting API server would.
    #[arg(long, env = "SPARKBOARD_DROP_WATCHES_AFTER")]
    pub drop_watches_after: Option<f64>,
}

/// Where finished jobs are kept after Kubernetes deletes them.
#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// The job archive: a directory, or `s3://bucket/prefix`; `memory` keeps finished jobs in
    /// memory only (lost on restart). Default: memory for `serve`, a directory under the
    /// system's temporary directory for `demo`.
    #[arg(long, env = "SPARKBOARD_ARCHIVE")]
    pub archive: Option<String>,
    #[command(flatten)]
    pub s3: S3Args,
    /// How many jobs Kubernetes deleted are kept in memory (with an archive, as one small
    /// summary each; the archive keeps the rest).
    #[arg(long, env = "SPARKBOARD_KEEP_FINISHED", default_value_t = crate::model::DEFAULT_KEEP_GONE)]
    pub keep_finished: usize,
    /// Seconds between compactions of the archive (folding an hour's summaries into one object).
    #[arg(long, env = "SPARKBOARD_ARCHIVE_COMPACT_EVERY", default_value_t = 600.0)]
    pub archive_compact_every: f64,
}

/// How to reach S3 (for the job archive and the log archive alike).
#[derive(Debug, Args, Clone, Default)]
pub struct S3Args {
    /// S3 endpoint URL, for S3-compatible stores (MinIO, SeaweedFS) or a VPC endpoint.
    #[arg(long, env = "SPARKBOARD_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region (default: from the AWS environment or profile).
    #[arg(long, env = "SPARKBOARD_S3_REGION")]
    pub s3_region: Option<String>,
    /// Address buckets by path (`endpoint/bucket/key`), as most S3-compatible stores want.
    #[arg(long, env = "SPARKBOARD_S3_PATH_STYLE")]
    pub s3_path_style: bool,
}

impl S3Args {
    /// A store location from a flag's value: a directory or `s3://bucket[/prefix]`.
    pub fn location(&self, flag: &'static str, value: &str) -> Result<ArchiveLocation, ConfigError> {
        let value = value.trim();
        if let Some(rest) = value.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(ConfigError::Location(flag, value.to_string()));
            }
            let prefix = prefix.trim_matches('/');
            return Ok(ArchiveLocation::S3 {
                bucket: bucket.to_string(),
                prefix: if prefix.is_empty() { String::new() } else { format!("{prefix}/") },
                endpoint: self.s3_endpoint.clone(),
                region: self.s3_region.clone(),
                path_style: self.s3_path_style,
            });
        }
        if value.is_empty() || value.contains("://") {
            return Err(ConfigError::Location(flag, value.to_string()));
        }
        Ok(ArchiveLocation::Directory(PathBuf::from(value)))
    }
}

/// The archive, as the rest of the program needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum ArchiveLocation {
    Memory,
    Directory(PathBuf),
    S3 { bucket: String, prefix: String, endpoint: Option<String>, region: Option<String>, path_style: bool },
}

impl ArchiveArgs {
    /// The archive location; `default` when the flag is absent.
    pub fn location(&self, default: ArchiveLocation) -> Result<ArchiveLocation, ConfigError> {
        let Some(archive) = self.archive.as_deref().map(str::trim) else { return Ok(default) };
        if archive == "memory" {
            return Ok(ArchiveLocation::Memory);
        }
        self.s3.location("--archive", archive)
    }

    pub fn compact_every(&self) -> Result<std::time::Duration, ConfigError> {
        seconds(self.archive_compact_every, ConfigError::CompactEvery)
    }
}

/// Which labels (or annotations) say who ran a job, which Airflow task launched it, and which
/// pods submitted it. Each key flag takes keys in order of preference (repeat it, or
/// comma-separate).
#[derive(Debug, Args)]
pub struct LabelArgs {
    #[arg(long = "user-label", env = "SPARKBOARD_USER_LABEL", value_delimiter = ',', default_value = "user,owner,spark-user")]
    pub user: Vec<String>,
    #[arg(long = "team-label", env = "SPARKBOARD_TEAM_LABEL", value_delimiter = ',', default_value = "team")]
    pub team: Vec<String>,
    #[arg(long = "airflow-dag-label", env = "SPARKBOARD_AIRFLOW_DAG_LABEL", value_delimiter = ',', default_value = "dag_id")]
    pub dag_id: Vec<String>,
    #[arg(long = "airflow-task-label", env = "SPARKBOARD_AIRFLOW_TASK_LABEL", value_delimiter = ',', default_value = "task_id")]
    pub task_id: Vec<String>,
    #[arg(long = "airflow-run-label", env = "SPARKBOARD_AIRFLOW_RUN_LABEL", value_delimiter = ',', default_value = "run_id")]
    pub run_id: Vec<String>,
    #[arg(long = "airflow-try-label", env = "SPARKBOARD_AIRFLOW_TRY_LABEL", value_delimiter = ',', default_value = "try_number")]
    pub try_number: Vec<String>,
    /// Labels a controller pod shares with the Spark pods it started, which tie the two.
    #[arg(
        long = "controller-link-label",
        env = "SPARKBOARD_CONTROLLER_LINK_LABEL",
        value_delimiter = ',',
        default_value = "emr-containers.amazonaws.com/job.id"
    )]
    pub link: Vec<String>,
    /// Label selector of the pods that submit Spark jobs (spark-submit run by Airflow, a Job,
    /// EMR on EKS's job runner); repeat for several (`;` between them in the environment).
    /// They are tied to their job by the Airflow task or a --controller-link-label.
    #[arg(
        long = "controller-selector",
        env = "SPARKBOARD_CONTROLLER_SELECTOR",
        value_delimiter = ';',
        default_value = "kubernetes_pod_operator=True;app.kubernetes.io/component=spark-submit"
    )]
    pub controller_selectors: Vec<String>,
}

impl LabelArgs {
    /// The controller pods' selectors, without empty ones.
    pub fn controller_selectors(&self) -> Vec<String> {
        self.controller_selectors.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    }

    pub fn keys(&self) -> Result<crate::model::labels::LabelKeys, ConfigError> {
        let clean = |flag: &'static str, keys: &[String]| {
            let keys: Vec<String> = keys.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect();
            if keys.is_empty() { Err(ConfigError::LabelKeys(flag)) } else { Ok(keys) }
        };
        Ok(crate::model::labels::LabelKeys {
            user: clean("--user-label", &self.user)?,
            team: clean("--team-label", &self.team)?,
            dag_id: clean("--airflow-dag-label", &self.dag_id)?,
            task_id: clean("--airflow-task-label", &self.task_id)?,
            run_id: clean("--airflow-run-label", &self.run_id)?,
            try_number: clean("--airflow-try-label", &self.try_number)?,
            link: self.link.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect(),
        })
    }
}

/// Where container logs are archived, and where spark-operator runs (for its lines about a job).
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Where the cluster's log shipper writes container logs: a directory or
    /// `s3://bucket[/prefix]`. Without it, logs come from the live API only, so executors Spark
    /// deleted have none. The demo ships its simulated pods' logs to a temporary directory.
    #[arg(long, env = "SPARKBOARD_LOG_ARCHIVE")]
    pub log_archive: Option<String>,
    /// The shipper's record format: `fluent-bit` (its s3 output's JSON lines), `vector`
    /// (aws_s3 sink, JSON codec) or `cri` (the container runtime's files, copied as they are).
    #[arg(long, env = "SPARKBOARD_LOG_FORMAT", value_enum, default_value = "fluent-bit")]
    pub log_format: LogFormat,
    /// The shipper's object key layout: `{namespace}`, `{pod}`, `{container}`, `{app_id}`,
    /// `{*}` for anything else, and strftime fields (`%Y/%m/%d/%H/%M/%S`, `%F`, `%s`). Default:
    /// the format's own default layout.
    #[arg(long, env = "SPARKBOARD_LOG_KEY_TEMPLATE")]
    pub log_key_template: Option<String>,
    /// The namespace spark-operator runs in.
    #[arg(long, env = "SPARKBOARD_OPERATOR_NAMESPACE", default_value = "spark-operator")]
    pub operator_namespace: String,
    /// The label selector of spark-operator's controller pods (empty: leave its lines out).
    #[arg(
        long,
        env = "SPARKBOARD_OPERATOR_SELECTOR",
        default_value = "app.kubernetes.io/name=spark-operator,app.kubernetes.io/component=controller"
    )]
    pub operator_selector: String,
    /// Seconds between the simulated shipper's uploads (`sim` and `demo` only; Fluent Bit's
    /// default `upload_timeout` is 600).
    #[arg(long, env = "SPARKBOARD_SHIP_EVERY", default_value_t = 5.0)]
    pub ship_every: f64,
}

/// What `--log-format` names: the log shipper whose objects the archive holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Fluent Bit's s3 output (JSON lines).
    FluentBit,
    /// Vector's aws_s3 sink with the JSON codec.
    Vector,
    /// The container runtime's own files, copied as they are.
    Cri,
}

impl LogArgs {
    /// The dashboard reader's format for the shipper's records.
    pub fn format(&self) -> crate::logs::record::RecordFormat {
        use crate::logs::record::RecordFormat;
        match self.log_format {
            LogFormat::FluentBit => RecordFormat::FluentBit,
            LogFormat::Vector => RecordFormat::Vector,
            LogFormat::Cri => RecordFormat::Cri,
        }
    }

    pub fn key_template(&self) -> Result<crate::logs::key_template::KeyTemplate, ConfigError> {
        use crate::logs::key_template::{CRI_DEFAULT, FLUENT_BIT_DEFAULT, KeyTemplate, VECTOR_DEFAULT};
        let default = match self.format() {
            crate::logs::record::RecordFormat::Vector => VECTOR_DEFAULT,
            crate::logs::record::RecordFormat::Cri | crate::logs::record::RecordFormat::KubeApi => CRI_DEFAULT,
            crate::logs::record::RecordFormat::FluentBit => FLUENT_BIT_DEFAULT,
        };
        Ok(KeyTemplate::parse(self.log_key_template.as_deref().unwrap_or(default))?)
    }

    /// The simulated shipper's record format, the flag's as the sim names it.
    pub fn ship_format(&self) -> sparkboard_sim::log_shipper::ShipFormat {
        use sparkboard_sim::log_shipper::ShipFormat;
        match self.log_format {
            LogFormat::FluentBit => ShipFormat::FluentBit,
            LogFormat::Vector => ShipFormat::Vector,
            LogFormat::Cri => ShipFormat::Cri,
        }
    }

    /// Where the simulated shipper puts objects: the flag's template rendered by the sim's own
    /// code, or the shipper's own default layout (the dashboard's default template is its
    /// reading of that layout, checked against it).
    pub fn ship_layout(&self) -> Result<sparkboard_sim::log_shipper::KeyLayout, ConfigError> {
        use sparkboard_sim::log_shipper::KeyLayout;
        // The dashboard's parser first, so that a bad template reads the same in every command.
        self.key_template()?;
        Ok(match &self.log_key_template {
            Some(template) => KeyLayout::template(template)?,
            None => KeyLayout::default_for(self.ship_format()),
        })
    }

    pub fn ship_every(&self) -> Result<std::time::Duration, ConfigError> {
        seconds(self.ship_every, ConfigError::ShipEvery)
    }
}

/// The Spark UI proxy.
#[derive(Debug, Args)]
pub struct UiArgs {
    /// The Spark History Server (http://host:port) that shows jobs whose driver is gone. The
    /// demo starts a local one when Spark is installed and real drivers are asked for.
    #[arg(long, env = "SPARKBOARD_HISTORY_SERVER")]
    pub history_server: Option<String>,
    /// Let Spark UI users kill jobs and stages through the proxy (off: Spark 4.1 and older
    /// kill on a plain GET, which any link could trigger).
    #[arg(long, env = "SPARKBOARD_SPARK_UI_KILL")]
    pub spark_ui_kill: bool,
}

impl UiArgs {
    /// `host:port` of the History Server, if one is configured.
    pub fn history_authority(&self) -> Result<Option<String>, ConfigError> {
        self.history_server
            .as_deref()
            .map(|url| crate::sources::spark_ui::history_authority(url).map_err(ConfigError::HistoryServer))
            .transpose()
    }
}

/// Where containers' CPU and memory come from.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Prometheus (or VictoriaMetrics) with cAdvisor's series, http://host:port[/path]. Without
    /// it, sparkboard samples metrics.k8s.io (metrics-server) while a job's metrics are viewed.
    #[arg(long, env = "SPARKBOARD_PROMETHEUS")]
    pub prometheus: Option<String>,
    /// Seconds a Prometheus query may take before its panel reports a timeout.
    #[arg(long, env = "SPARKBOARD_PROMETHEUS_TIMEOUT", default_value_t = 10.0)]
    pub prometheus_timeout: f64,
    /// Seconds between Prometheus' scrapes of the kubelets: rate() windows span at least four.
    #[arg(long, env = "SPARKBOARD_PROMETHEUS_SCRAPE_INTERVAL", default_value_t = 30.0)]
    pub prometheus_scrape_interval: f64,
    /// Pods per Prometheus query: a job with more executors is asked for in several queries.
    #[arg(long, env = "SPARKBOARD_PROMETHEUS_PODS_PER_QUERY", default_value_t = crate::metrics::batch::BatchLimits::default().max_pods)]
    pub prometheus_pods_per_query: usize,
    /// Without Prometheus: seconds between two samples of metrics.k8s.io for a viewed job.
    #[arg(long, env = "SPARKBOARD_METRICS_SAMPLE_EVERY", default_value_t = 15.0)]
    pub metrics_sample_every: f64,
}

impl MetricsArgs {
    /// The metrics source's settings: Prometheus' client, or the sampler's options.
    pub fn config(&self) -> Result<crate::metrics::MetricsConfig, ConfigError> {
        use crate::metrics::batch::BatchLimits;
        use crate::metrics::panels::PrometheusSource;
        use crate::metrics::prometheus::Prometheus;
        let timeout = seconds(self.prometheus_timeout, ConfigError::PrometheusTimeout)?;
        let scrape_interval = seconds(self.prometheus_scrape_interval, ConfigError::ScrapeInterval)?;
        if self.prometheus_pods_per_query == 0 {
            return Err(ConfigError::PodsPerQuery);
        }
        let limits = BatchLimits { max_pods: self.prometheus_pods_per_query, ..BatchLimits::default() };
        let prometheus = self
            .prometheus
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .map(|url| Prometheus::new(url, timeout).map(|client| PrometheusSource { client, limits, scrape_interval }))
            .transpose()?;
        let every = seconds(self.metrics_sample_every, ConfigError::SampleEvery)?;
        Ok(crate::metrics::MetricsConfig { prometheus, sampler: crate::metrics::sampler::SamplerOptions { every, ..Default::default() } })
    }
}

/// The dashboard's flags, the same for `demo` and `serve`: checked once by
/// [`DashboardArgs::validate`] into the [`DashboardConfig`] the dashboard runs with.
#[derive(Debug, Args)]
pub struct DashboardArgs {
    #[command(flatten)]
    pub listen: ListenArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
    #[command(flatten)]
    pub archive: ArchiveArgs,
    #[command(flatten)]
    pub labels: LabelArgs,
    #[command(flatten)]
    pub ui: UiArgs,
    #[command(flatten)]
    pub logs: LogArgs,
}

/// The dashboard's settings, checked: plain values, nothing left to parse.
pub struct DashboardConfig {
    /// Where the dashboard listens.
    pub listen: SocketAddr,
    /// Which labels say who ran a job, and how many gone jobs are kept in memory.
    pub model: crate::model::ModelOptions,
    /// Label selectors of the pods that submit Spark jobs.
    pub controller_selectors: Vec<String>,
    /// Where finished jobs are kept.
    pub archive: ArchiveLocation,
    /// Time between compactions of the archive.
    pub compact_every: std::time::Duration,
    /// Whether Spark UI kill buttons pass the proxy.
    pub spark_ui_kill: bool,
    /// The History Server's `host:port`.
    pub history: Option<String>,
    /// Where the cluster's log shipper writes (none: logs from the live API only).
    pub log_archive: Option<ArchiveLocation>,
    /// The shipper's record format, as the dashboard reads it.
    pub log_format: crate::logs::record::RecordFormat,
    /// The shipper's object key layout.
    pub log_template: crate::logs::key_template::KeyTemplate,
    /// spark-operator's namespace and pod selector, for its lines about a job.
    pub operator: Option<(String, String)>,
    /// Where containers' metrics come from.
    pub metrics: crate::metrics::MetricsConfig,
}

impl DashboardArgs {
    /// Checks every dashboard flag at once; `default_archive` is the archive when `--archive`
    /// is absent (memory for `serve`, a directory for `demo`).
    pub fn validate(&self, default_archive: ArchiveLocation) -> Result<DashboardConfig, ConfigError> {
        let logs = &self.logs;
        let log_archive = logs.log_archive.as_deref().map(|value| self.archive.s3.location("--log-archive", value)).transpose()?;
        let operator =
            (!logs.operator_selector.trim().is_empty()).then(|| (logs.operator_namespace.clone(), logs.operator_selector.clone()));
        Ok(DashboardConfig {
            listen: self.listen.listen,
            model: crate::model::ModelOptions { keep_gone: self.archive.keep_finished, label_keys: self.labels.keys()? },
            controller_selectors: self.labels.controller_selectors(),
            archive: self.archive.location(default_archive)?,
            compact_every: self.archive.compact_every()?,
            spark_ui_kill: self.ui.spark_ui_kill,
            history: self.ui.history_authority()?,
            log_archive,
            log_format: logs.format(),
            log_template: logs.key_template()?,
            operator,
            metrics: self.metrics.config()?,
        })
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    /// Also serve the simulated cluster's API at this address (kubectl, a Prometheus scraping
    /// its kubelets' `/metrics/cadvisor` and `/metrics/kube-state-metrics`): the same cluster
    /// the dashboard watches in-process.
    #[arg(long, env = "SPARKBOARD_SIM_LISTEN")]
    pub sim_listen: Option<SocketAddr>,
    #[command(flatten)]
    pub workload: WorkloadArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub dashboard: DashboardArgs,
    /// Kubeconfig to use (its current context); without it: KUBECONFIG, ~/.kube/config, or
    /// the in-cluster service account.
    #[arg(long, env = "SPARKBOARD_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Namespace to watch; repeat the flag (or comma-separate) for several; all when omitted.
    #[arg(long = "namespace", env = "SPARKBOARD_NAMESPACE", value_delimiter = ',')]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address of the simulated API server (port 0 picks a free port; the address is printed).
    #[arg(long, env = "SPARKBOARD_LISTEN", default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,
    /// Where to write a kubeconfig for this cluster (for kubectl and `sparkboard serve`).
    #[arg(long, env = "SPARKBOARD_KUBECONFIG_OUT")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Serve HTTPS with a fresh CA and require a bearer token; both go into the kubeconfig.
    #[arg(long, env = "SPARKBOARD_TLS")]
    pub tls: bool,
    /// Ship the simulated pods' logs here (a directory or s3://bucket[/prefix]), as Fluent Bit
    /// or Vector would, in the format and layout of --log-format and --log-key-template.
    #[arg(long, env = "SPARKBOARD_SHIP_LOGS")]
    pub ship_logs: Option<String>,
    #[command(flatten)]
    pub s3: S3Args,
    #[command(flatten)]
    pub logs: LogArgs,
    #[command(flatten)]
    pub workload: WorkloadArgs,
}

/// A number of seconds from a flag: finite and above 0, or the flag's error.
fn seconds(value: f64, error: fn(f64) -> ConfigError) -> Result<std::time::Duration, ConfigError> {
    if value.is_finite() && value > 0.0 { Ok(std::time::Duration::from_secs_f64(value)) } else { Err(error(value)) }
}

/// A flag value clap accepted but the program cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--speed must be a finite number above 0, not {0}")]
    Speed(f64),
    #[error("--namespace must not be empty")]
    EmptyNamespace,
    #[error("--watch-history must be at least 1")]
    WatchHistory,
    #[error("--jobs must be between 1 and 100000")]
    Jobs,
    #[error("--log-rate must be a finite number, 0 or more, not {0}")]
    LogRate(f64),
    #[error(transparent)]
    Scenario(#[from] sparkboard_sim::scenario::ScenarioError),
    #[error("--drop-watches-after must be a finite number of seconds above 0, not {0}")]
    DropWatches(f64),
    #[error("{0} must be a directory or s3://bucket[/prefix], not {1:?}")]
    Location(&'static str, String),
    #[error("--log-key-template: {0}")]
    KeyTemplate(#[from] crate::logs::key_template::TemplateError),
    #[error("--log-key-template: {0}")]
    ShipLayout(#[from] sparkboard_sim::log_shipper::LayoutError),
    #[error("--ship-every must be a finite number of seconds above 0, not {0}")]
    ShipEvery(f64),
    #[error("--archive-compact-every must be a finite number of seconds above 0, not {0}")]
    CompactEvery(f64),
    #[error("{0} needs at least one key")]
    LabelKeys(&'static str),
    #[error("--history-server: {0}")]
    HistoryServer(#[source] crate::sources::spark_ui::HistoryUrlError),
    #[error("--prometheus: {0}")]
    Prometheus(#[from] crate::metrics::prometheus::BadUrl),
    #[error("--prometheus-timeout must be a finite number of seconds above 0, not {0}")]
    PrometheusTimeout(f64),
    #[error("--prometheus-scrape-interval must be a finite number of seconds above 0, not {0}")]
    ScrapeInterval(f64),
    #[error("--prometheus-pods-per-query must be at least 1")]
    PodsPerQuery,
    #[error("--metrics-sample-every must be a finite number of seconds above 0, not {0}")]
    SampleEvery(f64),
}

impl WorkloadArgs {
    pub fn options(&self) -> Result<SimOptions, ConfigError> {
        if !(self.speed.is_finite() && self.speed > 0.0) {
            return Err(ConfigError::Speed(self.speed));
        }
        if self.watch_history == 0 {
            return Err(ConfigError::WatchHistory);
        }
        if !(1..=100_000).contains(&self.jobs) {
            return Err(ConfigError::Jobs);
        }
        if !(self.log_rate.is_finite() && self.log_rate >= 0.0) {
            return Err(ConfigError::LogRate(self.log_rate));
        }
        let drop_watches_after = self.drop_watches_after.map(|s| seconds(s, ConfigError::DropWatches)).transpose()?;
        Ok(SimOptions {
            seed: self.seed,
            speed: self.speed,
            watch_history: self.watch_history,
            drop_watches_after,
            scenario: {
                let mut scenario = match &self.scenario {
                    Some(path) => sparkboard_sim::Scenario::from_file(path)?,
                    None => sparkboard_sim::Scenario::sized(self.seed, self.jobs, self.executors),
                };
                scenario.log_rate = self.log_rate;
                scenario
            },
            real_drivers: (self.real_spark_drivers > 0).then(|| {
                let event_log_dir =
                    self.spark_event_log_dir.clone().unwrap_or_else(|| std::env::temp_dir().join("sparkboard-spark-events"));
                (sparkboard_sim::spark_driver::Launcher { python: self.python.clone(), event_log_dir }, self.real_spark_drivers)
            }),
            ship_logs: None,
        })
    }
}

impl ServeArgs {
    pub fn namespaces(&self) -> Result<Vec<String>, ConfigError> {
        if self.namespaces.iter().any(|ns| ns.trim().is_empty()) {
            return Err(ConfigError::EmptyNamespace);
        }
        Ok(self.namespaces.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn namespaces_take_commas_and_repeats() {
        let cli = Cli::try_parse_from(["sparkboard", "serve", "--namespace", "a,b", "--namespace", "c"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else { panic!("not serve") };
        assert_eq!(args.namespaces().unwrap(), ["a", "b", "c"]);
    }

    #[test]
    fn archive_locations_parse() {
        let parse = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["sparkboard", "serve"], args].concat()).unwrap();
            let Some(Command::Serve(serve)) = cli.command else { panic!("not serve") };
            serve.dashboard.archive.location(ArchiveLocation::Memory)
        };
        assert_eq!(parse(&[]).unwrap(), ArchiveLocation::Memory);
        assert_eq!(parse(&["--archive", "/var/lib/sb"]).unwrap(), ArchiveLocation::Directory("/var/lib/sb".into()));
        assert_eq!(
            parse(&["--archive", "s3://logs/spark/jobs/", "--s3-endpoint", "http://127.0.0.1:8333", "--s3-path-style"]).unwrap(),
            ArchiveLocation::S3 {
                bucket: "logs".into(),
                prefix: "spark/jobs/".into(),
                endpoint: Some("http://127.0.0.1:8333".into()),
                region: None,
                path_style: true
            }
        );
        assert!(parse(&["--archive", "s3://"]).is_err());
        assert!(parse(&["--archive", "gs://bucket"]).is_err());
    }

    #[test]
    fn metrics_flags_validate() {
        let config = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["sparkboard", "serve"], args].concat()).unwrap();
            let Some(Command::Serve(serve)) = cli.command else { panic!("not serve") };
            serve.dashboard.metrics.config()
        };
        assert!(config(&[]).unwrap().prometheus.is_none());
        let with = config(&["--prometheus", "http://127.0.0.1:9090", "--prometheus-pods-per-query", "5"]).unwrap();
        let prometheus = with.prometheus.unwrap();
        assert_eq!((prometheus.client.url(), prometheus.limits.max_pods), ("http://127.0.0.1:9090", 5));
        assert!(matches!(config(&["--prometheus", "prometheus:9090"]), Err(ConfigError::Prometheus(_))));
        assert!(matches!(config(&["--prometheus-timeout", "0"]), Err(ConfigError::PrometheusTimeout(_))));
        assert!(matches!(config(&["--prometheus-pods-per-query", "0"]), Err(ConfigError::PodsPerQuery)));
        assert!(matches!(config(&["--metrics-sample-every", "nan"]), Err(ConfigError::SampleEvery(_))));
    }

    #[test]
    fn a_bad_speed_is_refused() {
        let ok = || WorkloadArgs {
            seed: 1,
            speed: 1.0,
            watch_history: 10,
            drop_watches_after: None,
            jobs: 20,
            executors: None,
            log_rate: 1.0,
            scenario: None,
            real_spark_drivers: 0,
            python: "python3".into(),
            spark_event_log_dir: None,
        };
        assert!(ok().options().is_ok());
        assert!(WorkloadArgs { speed: 0.0, ..ok() }.options().is_err());
        assert!(WorkloadArgs { drop_watches_after: Some(-1.0), ..ok() }.options().is_err());
        assert!(WorkloadArgs { jobs: 0, ..ok() }.options().is_err());
        assert!(WorkloadArgs { log_rate: f64::NAN, ..ok() }.options().is_err());
    }
}
