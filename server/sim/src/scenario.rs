//! What the workload engine plays: job templates that run again and again, the namespaces
//! they run in, and the nodes they run on.

use super::objects::Size;
use super::rng::Rng;

/// How a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    #[default]
    Complete,
    /// The driver's main program throws (a Python traceback or a Java stack trace).
    DriverError,
    /// The driver container is OOMKilled (exit 137).
    DriverOom,
    /// One executor is OOMKilled half-way, replaced, and the job still completes.
    ExecutorOom,
    SubmissionFailed,
    /// The driver never fits on a node; the app stays SUBMITTED with FailedScheduling events.
    Unschedulable,
    /// The spot node under the driver is reclaimed half-way: node gone, pods failed.
    SpotLost,
}

/// Who submits the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Launcher {
    #[default]
    /// A SparkApplication handled by spark-operator.
    Operator,
    /// Plain spark-submit: a driver pod, no SparkApplication.
    SparkSubmit,
}

/// A job that runs again and again.
#[derive(Clone, Debug)]
pub struct Template {
    pub namespace: String,
    pub name: String,
    pub user: String,
    pub launcher: Launcher,
    pub outcome: Outcome,
    pub executors: u32,
    pub executor: Size,
    /// Seconds from submission to the end of the job.
    pub run_seconds: f64,
    /// Seconds the finished run stays before the next run replaces it.
    pub linger_seconds: f64,
    pub python: bool,
    /// Airflow `(dag_id, task_id)` when Airflow launches it.
    pub airflow: Option<(String, String)>,
    /// Launched by a ScheduledSparkApplication of the same name.
    pub scheduled: bool,
    /// Dynamic allocation: executors are added while tasks back up and removed when idle.
    pub dynamic: bool,
}

/// A worker node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: String,
    pub instance_type: String,
    pub zone: String,
    pub spot: bool,
}

/// What the engine plays.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub namespaces: Vec<String>,
    pub nodes: Vec<NodeSpec>,
    pub templates: Vec<Template>,
    /// Scales how many log lines running containers write (0 for none: large benchmarks).
    pub log_rate: f64,
}

const NAMES: [&str; 20] = [
    "daily-sales-agg",
    "clickstream-sessionize",
    "feature-build",
    "churn-model-train",
    "ads-attribution",
    "inventory-snapshot",
    "fraud-score",
    "recsys-embeddings",
    "billing-rollup",
    "events-compaction",
    "geo-enrich",
    "ab-test-metrics",
    "search-index-build",
    "user-segments",
    "payments-reconcile",
    "log-dedup",
    "marketing-mix",
    "forecast-demand",
    "orders-etl",
    "spark-pi",
];

/// The demo's outcomes, cycled over the templates so that every one appears.
const OUTCOMES: [Outcome; 10] = [
    Outcome::Complete,
    Outcome::ExecutorOom,
    Outcome::DriverError,
    Outcome::Complete,
    Outcome::SpotLost,
    Outcome::SubmissionFailed,
    Outcome::Complete,
    Outcome::Unschedulable,
    Outcome::DriverOom,
    Outcome::Complete,
];

const NAMESPACES: [&str; 3] = ["data-eng", "ml", "analytics"];
const USERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

impl Scenario {
    /// The built-in demo: 20 jobs over 3 namespaces, every outcome, both launchers, 6 nodes.
    pub fn demo(seed: u64) -> Scenario {
        Scenario::sized(seed, NAMES.len(), None)
    }

    /// `jobs` templates (names numbered past the demo's 20) with `executors` executors each
    /// (the demo's 2 to 6 when `None`), on enough nodes for them.
    pub fn sized(seed: u64, jobs: usize, executors: Option<u32>) -> Scenario {
        let mut rng = Rng::new(seed);
        let templates = (0..jobs)
            .map(|i| {
                let namespace = NAMESPACES[i % NAMESPACES.len()];
                let outcome = OUTCOMES[i % OUTCOMES.len()];
                let name = match NAMES.get(i) {
                    Some(name) => name.to_string(),
                    None => format!("{}-{}", NAMES[i % NAMES.len()], i / NAMES.len()),
                };
                Template {
                    namespace: namespace.to_string(),
                    user: USERS[rng.below(USERS.len())].to_string(),
                    launcher: if i % 5 == 3 { Launcher::SparkSubmit } else { Launcher::Operator },
                    outcome,
                    executors: executors.unwrap_or_else(|| 2 + rng.below(5) as u32),
                    executor: Size { cores: 2, memory_mib: [2048, 4096, 8192][rng.below(3)], overhead_mib: 1024 },
                    run_seconds: if outcome == Outcome::Unschedulable { 240.0 } else { rng.range(40.0, 180.0) },
                    linger_seconds: rng.range(20.0, 60.0),
                    python: i % 2 == 0,
                    airflow: (i % 3 == 0).then(|| (format!("{}_daily", namespace.replace('-', "_")), name.replace('-', "_"))),
                    scheduled: i % 4 == 0 && i % 5 != 3,
                    dynamic: i % 4 == 2 && i % 5 != 3,
                    name,
                }
            })
            .collect();
        let node_count = 6.max(jobs / 4);
        let nodes = (0..node_count).map(|i| node(i, i >= 2)).collect();
        Scenario { namespaces: NAMESPACES.map(String::from).to_vec(), nodes, templates, log_rate: 1.0 }
    }
}

/// Node number `i`, named as EKS names them.
pub fn node(i: usize, spot: bool) -> NodeSpec {
    NodeSpec {
        name: format!("ip-10-0-{}-{}.ec2.internal", i / 250, 10 + i % 250),
        instance_type: ["r6i.2xlarge", "m6i.4xlarge", "r6i.4xlarge"][i % 3].to_string(),
        zone: format!("us-east-1{}", ['a', 'b', 'c'][i % 3]),
        spot,
    }
}

/// A scenario file (JSON): the jobs to play, and optionally namespaces and a node count.
///
/// ```json
/// {"nodes": 8, "jobs": [{"namespace": "etl", "name": "nightly", "outcome": "executor-oom",
///   "executors": 4, "run_seconds": 120, "airflow": {"dag_id": "etl", "task_id": "nightly"}}]}
/// ```
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    namespaces: Option<Vec<String>>,
    nodes: Option<usize>,
    jobs: Vec<JobEntry>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JobEntry {
    namespace: String,
    name: String,
    #[serde(default = "default_user")]
    user: String,
    #[serde(default)]
    launcher: Launcher,
    #[serde(default)]
    outcome: Outcome,
    #[serde(default = "default_executors")]
    executors: u32,
    #[serde(default = "default_memory")]
    executor_memory_mib: u32,
    #[serde(default = "default_run_seconds")]
    run_seconds: f64,
    #[serde(default = "default_linger_seconds")]
    linger_seconds: f64,
    #[serde(default)]
    python: bool,
    airflow: Option<AirflowEntry>,
    #[serde(default)]
    scheduled: bool,
    #[serde(default)]
    dynamic_allocation: bool,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AirflowEntry {
    dag_id: String,
    task_id: String,
}

fn default_user() -> String {
    "alice".into()
}
fn default_executors() -> u32 {
    3
}
fn default_memory() -> u32 {
    4096
}
fn default_run_seconds() -> f64 {
    90.0
}
fn default_linger_seconds() -> f64 {
    30.0
}

/// A scenario file that cannot be played.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("scenario {path} is not valid: {source}")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("scenario {path}: {message}")]
    Invalid { path: String, message: String },
}

/// A Kubernetes name: lowercase alphanumerics and '-', starting and ending alphanumeric.
fn dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl Scenario {
    /// Reads a scenario file.
    pub fn from_file(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read { path: shown.clone(), source })?;
        Scenario::from_json(&text, &shown)
    }

    /// Parses a scenario; `origin` names it in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let file: ScenarioFile = serde_json::from_str(text).map_err(|source| ScenarioError::Parse { path: origin.to_string(), source })?;
        let invalid = |message: String| ScenarioError::Invalid { path: origin.to_string(), message };
        if file.jobs.is_empty() {
            return Err(invalid("it has no jobs".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for job in &file.jobs {
            if !dns_label(&job.namespace) || !dns_label(&job.name) || job.name.len() > 40 {
                return Err(invalid(format!(
                    "job {}/{}: namespace and name must be DNS labels (names up to 40 characters)",
                    job.namespace, job.name
                )));
            }
            if !seen.insert((&job.namespace, &job.name)) {
                return Err(invalid(format!("job {}/{} appears twice", job.namespace, job.name)));
            }
            if !(job.run_seconds.is_finite() && job.run_seconds >= 10.0 && job.linger_seconds.is_finite() && job.linger_seconds >= 0.0) {
                return Err(invalid(format!(
                    "job {}/{}: run_seconds must be at least 10 and linger_seconds at least 0",
                    job.namespace, job.name
                )));
            }
            if job.launcher == Launcher::SparkSubmit && matches!(job.outcome, Outcome::SubmissionFailed | Outcome::Unschedulable) {
                return Err(invalid(format!(
                    "job {}/{}: a spark-submit job cannot have outcome {:?}",
                    job.namespace, job.name, job.outcome
                )));
            }
        }
        let mut namespaces = file.namespaces.unwrap_or_default();
        for job in &file.jobs {
            if !namespaces.contains(&job.namespace) {
                namespaces.push(job.namespace.clone());
            }
        }
        let templates = file
            .jobs
            .into_iter()
            .map(|j| Template {
                namespace: j.namespace,
                name: j.name,
                user: j.user,
                launcher: j.launcher,
                outcome: j.outcome,
                executors: j.executors.max(1),
                executor: Size { cores: 2, memory_mib: j.executor_memory_mib, overhead_mib: (j.executor_memory_mib / 10).max(384) },
                run_seconds: j.run_seconds,
                linger_seconds: j.linger_seconds,
                python: j.python,
                airflow: j.airflow.map(|a| (a.dag_id, a.task_id)),
                scheduled: j.scheduled,
                dynamic: j.dynamic_allocation,
            })
            .collect();
        let nodes = (0..file.nodes.unwrap_or(6).max(2)).map(|i| node(i, i >= 2)).collect();
        Ok(Scenario { namespaces, nodes, templates, log_rate: 1.0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_file_fills_in_defaults() {
        let scenario = Scenario::from_json(
            r#"{"nodes": 3, "jobs": [
                {"namespace": "etl", "name": "nightly", "outcome": "executor-oom", "executors": 4, "airflow": {"dag_id": "d", "task_id": "t"}},
                {"namespace": "ml", "name": "train", "launcher": "spark-submit", "dynamic_allocation": true}
            ]}"#,
            "test",
        )
        .unwrap();
        assert_eq!(scenario.namespaces, ["etl", "ml"]);
        assert_eq!(scenario.nodes.len(), 3);
        let first = &scenario.templates[0];
        assert_eq!((first.outcome, first.executors, first.run_seconds), (Outcome::ExecutorOom, 4, 90.0));
        assert_eq!(first.airflow, Some(("d".into(), "t".into())));
        assert!(scenario.templates[1].dynamic && scenario.templates[1].launcher == Launcher::SparkSubmit);
    }

    #[test]
    fn bad_scenarios_say_what_is_wrong() {
        let cases = [
            (r#"{"jobs": []}"#, "no jobs"),
            (r#"{"jobs": [{"namespace": "Bad_NS", "name": "x"}]}"#, "DNS labels"),
            (r#"{"jobs": [{"namespace": "a", "name": "x"}, {"namespace": "a", "name": "x"}]}"#, "twice"),
            (r#"{"jobs": [{"namespace": "a", "name": "x", "outcome": "exploded"}]}"#, "unknown variant"),
            (r#"{"jobs": [{"namespace": "a", "name": "x", "colour": "red"}]}"#, "unknown field"),
            (r#"{"jobs": [{"namespace": "a", "name": "x", "launcher": "spark-submit", "outcome": "unschedulable"}]}"#, "cannot have"),
            ("{not json", "not valid"),
        ];
        for (text, expected) in cases {
            let error = Scenario::from_json(text, "s.json").unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
