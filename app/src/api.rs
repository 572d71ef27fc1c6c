//! Wire types: the JSON API's contract, shared by the server (which builds them) and the browser
//! (which renders them). Field names are snake_case and times RFC 3339 in UTC; `REFERENCE.md`
//! ("Wire format", and the routes table) describes every field for API users. Extend these
//! types, never rename a field, because Airflow plugins and scripts read them too.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A job's lifecycle state, with spark-operator's names so that operator users recognise them.
///
/// Anything the operator may add later, or a driver pod in a phase we do not know, arrives as
/// [`JobState::Unknown`] instead of failing the whole list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Created but not yet submitted by the operator (empty state string).
    New,
    Submitted,
    Running,
    Completed,
    Failed,
    SubmissionFailed,
    PendingRerun,
    Invalidating,
    Succeeding,
    Failing,
    Suspending,
    Suspended,
    Resuming,
    #[serde(other)]
    Unknown,
}

impl JobState {
    /// Every state, in the order the UI lists state counts.
    pub const ALL: [JobState; 14] = [
        JobState::New,
        JobState::Submitted,
        JobState::Running,
        JobState::Completed,
        JobState::Failed,
        JobState::SubmissionFailed,
        JobState::PendingRerun,
        JobState::Invalidating,
        JobState::Succeeding,
        JobState::Failing,
        JobState::Suspending,
        JobState::Suspended,
        JobState::Resuming,
        JobState::Unknown,
    ];

    /// The operator's spelling (`applicationState.state`); the empty string is a new app.
    pub fn parse(s: &str) -> JobState {
        JobState::ALL.into_iter().find(|state| state.as_str() == s).unwrap_or(if s.is_empty() { JobState::New } else { JobState::Unknown })
    }

    /// The name used on the wire and in the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::New => "NEW",
            JobState::Submitted => "SUBMITTED",
            JobState::Running => "RUNNING",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::SubmissionFailed => "SUBMISSION_FAILED",
            JobState::PendingRerun => "PENDING_RERUN",
            JobState::Invalidating => "INVALIDATING",
            JobState::Succeeding => "SUCCEEDING",
            JobState::Failing => "FAILING",
            JobState::Suspending => "SUSPENDING",
            JobState::Suspended => "SUSPENDED",
            JobState::Resuming => "RESUMING",
            JobState::Unknown => "UNKNOWN",
        }
    }

    /// True once the job can no longer change by itself (what the archive keys on later).
    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Completed | JobState::Failed | JobState::SubmissionFailed)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Executor counts of one job. `requested` is what the spec asks for (or, without a spec, how
/// many executor pods were seen); the others count executor pods by how they are or ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutorCounts {
    pub requested: u32,
    pub running: u32,
    pub completed: u32,
    pub failed: u32,
    pub oom_killed: u32,
}

/// Why a job failed, in plain words: a short machine-friendly `reason` and a human `message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub reason: String,
    pub message: String,
}

/// The Airflow task that launched a job, from the labels Airflow's operators set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AirflowTask {
    pub dag_id: String,
    pub task_id: String,
    pub run_id: String,
    pub try_number: Option<u32>,
}

/// One Spark job: a SparkApplication, or a driver pod started by plain spark-submit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub namespace: String,
    pub name: String,
    pub state: JobState,
    pub app_id: Option<String>,
    pub user: Option<String>,
    /// The owning team, from a configurable label.
    #[serde(default)]
    pub team: Option<String>,
    pub submitted_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// Seconds from start (or submission) to the end, or to the moment the job was last seen
    /// changing while it runs.
    pub duration_s: Option<f64>,
    pub executors: ExecutorCounts,
    pub failure: Option<Failure>,
    pub airflow: Option<AirflowTask>,
    /// The ScheduledSparkApplication that started this run, if one did.
    #[serde(default)]
    pub scheduled_by: Option<String>,
    /// Gone from Kubernetes (its SparkApplication or driver pod was deleted): shown from
    /// sparkboard's own record, in memory or in the archive.
    #[serde(default)]
    pub deleted_from_cluster: bool,
    /// Submitted as a spark-operator SparkApplication (the operator's log tells of it), not by
    /// plain spark-submit. Kept after the SparkApplication is deleted.
    #[serde(default)]
    pub from_operator: bool,
}

impl Job {
    /// A job known only by its id and state: every other fact unknown (no times, no executors,
    /// no failure). What a source fills in from there.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>, state: JobState) -> Job {
        Job {
            namespace: namespace.into(),
            name: name.into(),
            state,
            app_id: None,
            user: None,
            team: None,
            submitted_at: None,
            started_at: None,
            finished_at: None,
            duration_s: None,
            executors: ExecutorCounts::default(),
            failure: None,
            airflow: None,
            scheduled_by: None,
            deleted_from_cluster: false,
            from_operator: false,
        }
    }

    /// The job id, `{namespace}/{name}`, as used in URLs.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The duration as of `now`: a running job's grows by the second, while `duration_s` is
    /// only as fresh as the job's last change.
    pub fn duration_at(&self, now: Timestamp) -> Option<f64> {
        match (self.state, self.finished_at, self.started_at.or(self.submitted_at)) {
            (JobState::Running, None, Some(start)) => Some((now.as_millisecond() - start.as_millisecond()).max(0) as f64 / 1000.0),
            _ => self.duration_s,
        }
    }
}

/// The jobs list's order, on the server and in the browser alike: newest submission first, then
/// by id, so that equal times still sort the same way everywhere.
pub fn sort_newest_first(jobs: &mut [Job]) {
    jobs.sort_by(|a, b| b.submitted_at.cmp(&a.submitted_at).then_with(|| a.namespace.cmp(&b.namespace)).then_with(|| a.name.cmp(&b.name)));
}

/// What a pod does for its job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PodRole {
    Driver,
    Executor,
    Controller,
}

/// One pod of a job, for the job page's pods table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pod {
    pub name: String,
    pub role: PodRole,
    pub node: Option<String>,
    /// `node.kubernetes.io/instance-type` of its node, while the node is known.
    pub instance_type: Option<String>,
    /// `spot` or `on-demand`, from Karpenter's or EKS's node label.
    pub capacity_type: Option<String>,
    pub phase: String,
    pub restarts: u32,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// Deleted from Kubernetes (Spark deletes executors it releases); kept for its exit.
    #[serde(default)]
    pub deleted: bool,
    /// Its containers (not init containers), whose logs make the job's log.
    #[serde(default)]
    pub containers: Vec<String>,
    /// Spark's executor id, for executors.
    #[serde(default)]
    pub executor_id: Option<String>,
    /// Requests and limits of its containers, from the pod's spec (spec order).
    #[serde(default)]
    pub resources: Vec<ContainerResources>,
}

/// CPU and memory of one container, in the units the charts draw: cores and bytes. `None` when
/// the spec does not set it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
}

/// A container's requests and limits, from its pod's spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContainerResources {
    pub container: String,
    pub requests: Resources,
    pub limits: Resources,
}

/// The ScheduledSparkApplication behind a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub name: String,
    /// Cron or `@every` syntax, as written in the spec.
    pub schedule: Option<String>,
    pub suspended: bool,
    /// The operator's `scheduleState` (Scheduled, FailedValidation, ...).
    pub state: Option<String>,
    pub last_run: Option<Timestamp>,
    pub next_run: Option<Timestamp>,
}

/// A Kubernetes event about the job, its pods or their nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub time: Option<Timestamp>,
    #[serde(rename = "type")]
    pub kind: String,
    pub reason: String,
    pub message: String,
    /// `kind/name` of what it is about, as kubectl prints it (`pod/x-driver`).
    pub object: String,
    pub count: u32,
}

/// `GET /api/v1/jobs/{ns}/{name}`: the job, its pods, events and Spark configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: Job,
    pub pods: Vec<Pod>,
    pub events: Vec<Event>,
    /// Spark properties by their Spark names (`spark.executor.memory`, ...), from the
    /// SparkApplication's spec and its `sparkConf`.
    pub spark_conf: std::collections::BTreeMap<String, String>,
    /// The schedule that started this run, while Kubernetes has it.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// What this picture of the job may be missing, in plain words (an archived record that
    /// could not be read, say).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl JobDetail {
    /// The job alone, with no pods, events or Spark configuration (yet), and what is missing
    /// said in `warnings`.
    pub fn summary_only(job: Job, warnings: Vec<String>) -> JobDetail {
        JobDetail { job, pods: Vec::new(), events: Vec::new(), spark_conf: Default::default(), schedule: None, warnings }
    }
}

/// `GET /api/v1/jobs`: one page of the jobs that match a [`crate::query::JobQuery`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobList {
    pub jobs: Vec<Job>,
    /// How many jobs match the query, over all pages.
    pub total: usize,
    /// Cursor of the page after this one, when there is one.
    pub next: Option<String>,
    /// Cursor of the page before this one, when there is one.
    #[serde(default)]
    pub prev: Option<String>,
    /// Jobs per state under every filter but the state, so the state filter shows what each
    /// choice would give.
    #[serde(default)]
    pub counts: std::collections::BTreeMap<JobState, usize>,
    /// Every namespace with jobs, for the namespace filter.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// What the list may be missing right now, in plain words (an unreachable archive, a source
    /// still starting); shown as a banner.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Where a job's metrics came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricsSource {
    /// Prometheus (or anything serving its `query_range` API): cAdvisor and kube-state-metrics
    /// series, with history as far back as its retention.
    Prometheus,
    /// metrics.k8s.io, sampled by sparkboard while someone looks: history starts at
    /// [`JobMetrics::history_since`].
    MetricsServer,
    /// Neither is available: only requests, limits and OOM kills, from the pods.
    None,
}

/// One measured quantity of a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Memory working set, what the OOM killer compares with the limit (bytes).
    MemoryWorkingSet,
    /// CPU used (cores).
    CpuUsage,
    /// Share of CFS periods in which the container was throttled (0 to 1); only containers
    /// with a CPU limit have it.
    CpuThrottled,
}

impl Metric {
    pub const ALL: [Metric; 3] = [Metric::MemoryWorkingSet, Metric::CpuUsage, Metric::CpuThrottled];

    pub fn unit(self) -> MetricUnit {
        match self {
            Metric::MemoryWorkingSet => MetricUnit::Bytes,
            Metric::CpuUsage => MetricUnit::Cores,
            Metric::CpuThrottled => MetricUnit::Ratio,
        }
    }

    /// The chart that draws it.
    pub fn panel(self) -> Panel {
        match self {
            Metric::MemoryWorkingSet => Panel::Memory,
            Metric::CpuUsage => Panel::Cpu,
            Metric::CpuThrottled => Panel::Throttling,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricUnit {
    Bytes,
    Cores,
    Ratio,
}

/// One chart of the metrics page; errors are reported per panel, so one failed query leaves
/// the others drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Panel {
    Memory,
    Cpu,
    Throttling,
    /// Requests and limits.
    Resources,
    /// The per-executor table of Spark's own metrics ([`SparkExecutors`]), from the driver's
    /// REST API or the History Server: a driver that fails or hangs is an error of this panel
    /// only, so the containers' charts are still drawn.
    Executors,
}

/// One time series of one container.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    pub pod: String,
    pub container: String,
    pub metric: Metric,
    pub unit: MetricUnit,
    /// `[time, value]` in time order; times missing from the source are gaps (no point), and
    /// values are always finite.
    pub points: Vec<(Timestamp, f64)>,
    /// Set on a series that stands for many executors (`pod` is then `executors`): at each time,
    /// the largest, median or smallest value among them. See `summarise` in the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<Aggregate>,
}

/// How a summary series folds many executors into one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    Max,
    Median,
    Min,
}

impl Aggregate {
    pub const ALL: [Aggregate; 3] = [Aggregate::Max, Aggregate::Median, Aggregate::Min];

    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Max => "max",
            Aggregate::Median => "median",
            Aggregate::Min => "min",
        }
    }
}

/// Which executors a summarised answer still draws one by one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Executors the job had in the range.
    pub executors: usize,
    /// Pods drawn one by one: OOM-killed ones first, then those closest to their memory limit.
    pub shown: Vec<String>,
}

/// A container the kernel killed for memory (reason OOMKilled, or exit code 137).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OomKill {
    pub time: Option<Timestamp>,
    pub pod: String,
    pub container: Option<String>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

/// What went wrong with one panel's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PanelErrorKind {
    /// The metrics source cannot be reached.
    Unreachable,
    /// It did not answer in time.
    Timeout,
    /// It answered with an error (a bad query, overload, a limit).
    Refused,
    /// It answered something that is not its API.
    BadResponse,
    /// It answered, but without the series this panel needs (not scraped, or past retention).
    Missing,
}

/// A panel that could not be drawn whole, and why, in words for the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PanelError {
    pub panel: Panel,
    pub kind: PanelErrorKind,
    pub message: String,
}

/// Requests or limits by pod, then container.
pub type ResourcesByPod = std::collections::BTreeMap<String, std::collections::BTreeMap<String, Resources>>;

/// `GET /api/v1/jobs/{ns}/{name}/metrics`: the job's containers' CPU and memory over
/// `from..to`, with requests, limits and OOM kills to draw them against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobMetrics {
    pub source: MetricsSource,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Seconds between points.
    pub step_s: f64,
    /// With metrics-server, sampling began here: nothing before it can be shown.
    pub history_since: Option<Timestamp>,
    pub series: Vec<MetricSeries>,
    pub requests: ResourcesByPod,
    pub limits: ResourcesByPod,
    /// OOM kills of the job's containers, oldest first.
    pub events: Vec<OomKill>,
    pub errors: Vec<PanelError>,
    /// Set when executors were folded into max, median and min (`summarise=N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// Spark's own view of its executors (peak memory by kind, GC, spill, shuffle): what the
    /// containers' series cannot tell apart (heap against Python against off-heap). Defaulted
    /// so that JSON written before it existed still reads.
    #[serde(default)]
    pub spark: SparkExecutors,
}

/// Where the executors' Spark metrics came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SparkSource {
    /// The running driver's REST API (`/api/v1/applications/{id}/allexecutors`), reached
    /// through the same route as the Spark UI proxy: live numbers.
    Driver,
    /// The History Server, once the driver is gone: the numbers as the event log ends.
    HistoryServer,
    /// Neither answered, or the job has no driver yet: see the `executors` panel's error.
    #[default]
    None,
}

impl SparkSource {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SparkSource::Driver => "driver",
            SparkSource::HistoryServer => "history_server",
            SparkSource::None => "none",
        }
    }
}

/// Every executor Spark knew in the application, dead ones included, and the driver.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SparkExecutors {
    pub from: SparkSource,
    /// In Spark's order: the driver first, then executors as they were added.
    pub executors: Vec<SparkExecutor>,
}

/// One executor (or the driver) as Spark's REST API reports it. Counters are Spark's totals
/// over the executor's life; sizes are bytes, times milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SparkExecutor {
    /// `driver`, or Spark's executor id (`1`, `2`, ...), as in the pods' `spark-exec-id`.
    pub id: String,
    /// `host:port` of its block manager, as Spark reports it (the pod IP on Kubernetes).
    pub host_port: Option<String>,
    /// Its pod, when the job's pods name this executor id, to join with the container series.
    pub pod: Option<String>,
    pub is_active: bool,
    pub added_at: Option<Timestamp>,
    pub removed_at: Option<Timestamp>,
    /// Spark's words for why it was removed (`Executor killed by driver.`, a lost worker...).
    pub remove_reason: Option<String>,
    /// Peaks over its life; all `None` when Spark has no metrics of it yet (it omits them).
    #[serde(default)]
    pub peak: PeakMemory,
    pub total_gc_time_ms: u64,
    /// Time spent running tasks.
    pub total_duration_ms: u64,
    /// Spilled from memory (deserialized size) and to disk (serialized size), summed over the
    /// stages that spilled: Spark's executor list has no spill, its stages have it per
    /// executor. `None` when the stages could not be read.
    pub memory_bytes_spilled: Option<u64>,
    pub disk_bytes_spilled: Option<u64>,
    pub total_shuffle_read: u64,
    pub total_shuffle_write: u64,
    pub total_input_bytes: u64,
    pub failed_tasks: u64,
    pub completed_tasks: u64,
    /// Memory for storage and execution (Spark's unified memory), what `on_heap_*` peaks fill.
    pub max_memory: u64,
}

/// Peak memory of one executor by kind, in bytes (Spark's `peakMemoryMetrics`). The process
/// tree kinds (`python`, `other`, `jvm_rss`) are 0 unless the job sets
/// `spark.executor.processTreeMetrics.enabled`: Spark does not tell "off" from "none".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeakMemory {
    /// `JVMHeapMemory`.
    pub jvm_heap: Option<u64>,
    /// `JVMOffHeapMemory` (metaspace, code cache, ...; not direct buffers).
    pub jvm_off_heap: Option<u64>,
    /// `ProcessTreeJVMRSSMemory`: the JVM's resident memory.
    pub jvm_rss: Option<u64>,
    /// `ProcessTreePythonRSSMemory`: PySpark's Python workers, outside the JVM's heap and
    /// often what gets a container OOM-killed.
    pub python: Option<u64>,
    /// `ProcessTreeOtherRSSMemory`: other child processes (R, pipes).
    pub other: Option<u64>,
    pub on_heap_execution: Option<u64>,
    pub off_heap_execution: Option<u64>,
    pub on_heap_storage: Option<u64>,
    pub off_heap_storage: Option<u64>,
    /// `DirectPoolMemory`: NIO direct buffers (Netty shuffle).
    pub direct_pool: Option<u64>,
    /// `MappedPoolMemory`.
    pub mapped_pool: Option<u64>,
}

/// How bad a log event is, read from its line (log4j, Python logging, JSON `level`, zap, klog).
///
/// `Unknown` is a line that names no level (a shell trace, a bare `print`); `Marker` is not a
/// line at all but the pipeline saying what went wrong with a source (a corrupt archive object,
/// a deleted pod whose log is gone), so that a gap is never silent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
    Unknown,
    Marker,
}

impl LogLevel {
    pub const ALL: [LogLevel; 8] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
        LogLevel::Fatal,
        LogLevel::Unknown,
        LogLevel::Marker,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
            LogLevel::Unknown => "UNKNOWN",
            LogLevel::Marker => "MARKER",
        }
    }

    /// Case-insensitive, with the spellings loggers use (`WARNING`, `CRITICAL`, `ERR`...).
    pub fn parse(s: &str) -> Option<LogLevel> {
        let level = match s.to_ascii_uppercase().as_str() {
            "TRACE" | "FINEST" | "FINER" => LogLevel::Trace,
            "DEBUG" | "FINE" => LogLevel::Debug,
            "INFO" | "INFORMATION" | "NOTICE" => LogLevel::Info,
            "WARN" | "WARNING" => LogLevel::Warn,
            "ERROR" | "ERR" | "SEVERE" => LogLevel::Error,
            "FATAL" | "CRITICAL" | "CRIT" | "PANIC" | "DPANIC" | "EMERG" | "ALERT" => LogLevel::Fatal,
            "UNKNOWN" => LogLevel::Unknown,
            "MARKER" => LogLevel::Marker,
            _ => return None,
        };
        Some(level)
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a log event comes from: one container of one pod of the job.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LogSource {
    pub role: PodRole,
    pub pod: String,
    pub container: String,
    /// Spark's executor id (`spark-exec-id`), for executors.
    #[serde(default)]
    pub executor_id: Option<String>,
}

impl LogSource {
    /// The short name the viewer labels lines with: `driver`, `exec-3`, or the pod's name.
    pub fn label(&self) -> String {
        match (self.role, &self.executor_id) {
            (PodRole::Driver, _) => "driver".to_string(),
            (PodRole::Executor, Some(id)) => format!("exec-{id}"),
            _ => self.pod.clone(),
        }
    }
}

/// One event of a job's merged log: one NDJSON line of `GET /api/v1/jobs/{ns}/{name}/logs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEvent {
    /// Stable across requests and reloads (the kubelet's timestamp, the source, and the rank among
    /// that source's events with the same timestamp), so `#L<id>` is a permalink.
    pub id: String,
    /// The kubelet's (or shipper's) timestamp of the event's first line, in nanoseconds.
    #[serde(with = "nanos")]
    pub time: Timestamp,
    pub source: LogSource,
    pub level: LogLevel,
    /// The line, with its continuation lines (stack frames, traceback) folded in after `\n`.
    pub text: String,
    /// `stdout` or `stderr` when the source says (archives do; the pod log API does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
}

/// RFC 3339 in UTC with nine fractional digits, as the wire format fixes for log events (jiff's
/// own format drops trailing zeros, which would make the strings sort wrongly as text).
pub mod nanos {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(t: Timestamp) -> String {
        format!("{}.{:09}Z", t.strftime("%Y-%m-%dT%H:%M:%S"), t.subsec_nanosecond())
    }

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_the_operator_spelling() {
        for state in JobState::ALL {
            assert_eq!(JobState::parse(state.as_str()), state);
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
        }
        assert_eq!(JobState::parse(""), JobState::New);
        assert_eq!(JobState::parse("EXPLODED"), JobState::Unknown);
        let unknown: JobState = serde_json::from_str("\"SOMETHING_NEW\"").unwrap();
        assert_eq!(unknown, JobState::Unknown);
    }

    #[test]
    fn a_running_job_ages_while_a_finished_one_does_not() {
        let start: Timestamp = "2026-11-21T05:00:00Z".parse().unwrap();
        let now: Timestamp = "2026-11-21T05:01:30Z".parse().unwrap();
        let mut job =
            Job { submitted_at: Some(start), started_at: Some(start), duration_s: Some(4.0), ..Job::new("ns", "a", JobState::Running) };
        assert_eq!(job.duration_at(now), Some(90.0));
        job.state = JobState::Completed;
        assert_eq!(job.duration_at(now), Some(4.0));
    }

    #[test]
    fn metrics_written_before_spark_executors_still_read() {
        let old = r#"{"source": "prometheus", "from": "2026-11-21T05:00:00Z", "to": "2026-11-21T06:00:00Z", "step_s": 15.0,
            "history_since": null, "series": [], "requests": {}, "limits": {}, "events": [], "errors": []}"#;
        let metrics: JobMetrics = serde_json::from_str(old).unwrap();
        assert_eq!(metrics.spark, SparkExecutors { from: SparkSource::None, executors: vec![] });
        let panel = PanelError { panel: Panel::Executors, kind: PanelErrorKind::Refused, message: "500".into() };
        assert!(serde_json::to_string(&panel).unwrap().contains(r#""panel":"executors""#));
        let executor = SparkExecutor { id: "driver".into(), ..SparkExecutor::default() };
        let json = serde_json::to_string(&SparkExecutors { from: SparkSource::HistoryServer, executors: vec![executor] }).unwrap();
        assert!(json.contains(r#""from":"history_server""#) && json.contains(r#""peak":{"jvm_heap":null"#), "{json}");
    }

    #[test]
    fn log_events_carry_nine_fractional_digits() {
        let event = LogEvent {
            id: "x".into(),
            time: "2026-11-21T05:00:00.1Z".parse().unwrap(),
            source: LogSource { role: PodRole::Executor, pod: "p".into(), container: "c".into(), executor_id: Some("3".into()) },
            level: LogLevel::Warn,
            text: "t".into(),
            stream: None,
        };
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.contains(r#""time":"2026-11-21T05:00:00.100000000Z""#), "{json}");
        assert!(!json.contains("stream"));
        assert_eq!(serde_json::from_str::<LogEvent>(&json).unwrap(), event);
        assert_eq!(event.source.label(), "exec-3");
        assert_eq!(LogLevel::parse("warning"), Some(LogLevel::Warn));
    }
}
