//! What the workload engine plays: job templates that run again and again, the namespaces
//! they run in, and the nodes they run on.

use super::objects::Size;
use super::rng::Rng;

/// How a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Launcher {
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
    "daily-sales-agg", "clickstream-sessionize", "feature-build", "churn-model-train", "ads-attribution",
    "inventory-snapshot", "fraud-score", "recsys-embeddings", "billing-rollup", "events-compaction",
    "geo-enrich", "ab-test-metrics", "search-index-build", "user-segments", "payments-reconcile",
    "log-dedup", "marketing-mix", "forecast-demand", "orders-etl", "spark-pi",
];

/// The demo's outcomes, cycled over the templates so that every one appears.
const OUTCOMES: [Outcome; 10] = [
    Outcome::Complete, Outcome::ExecutorOom, Outcome::DriverError, Outcome::Complete, Outcome::SpotLost,
    Outcome::SubmissionFailed, Outcome::Complete, Outcome::Unschedulable, Outcome::DriverOom, Outcome::Complete,
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
