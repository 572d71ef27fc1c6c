//! The workload engine: plays Spark jobs on the simulated cluster in (scaled) real time.
//!
//! Each job template runs again and again. A run is a plan of timed steps (submit, driver
//! pending, running, executors, an OOM kill, the end, executor clean-up) applied to the store as
//! the simulated clock passes them. At start-up the first run of every template is placed in
//! the past, so the cluster shows every state at once; steps already due are applied with their
//! own timestamps, as if the cluster had been running all along.

use super::objects::{self, AppSpec, OPERATOR_APP_NAME, Owner, PodSpec, SPARK_APP_SELECTOR, SPARK_EXEC_ID, SPARK_ROLE, Size};
use super::resources::{NAMESPACES, NODES, PODS, SPARK_APPLICATIONS};
use super::rng::Rng;
use super::store::{Store, rfc3339};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Driver size of every demo job: 1 core, 2 GiB heap, Spark's default 384 MiB overhead.
const DRIVER_SIZE: Size = Size { cores: 1, memory_mib: 2048, overhead_mib: 384 };

/// How a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Complete,
    DriverError,
    DriverOom,
    /// One executor is OOMKilled half-way, replaced, and the job still completes.
    ExecutorOom,
    SubmissionFailed,
    /// The driver never fits on a node; the app stays SUBMITTED.
    Unschedulable,
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
    pub airflow: Option<(String, String)>,
}

/// What the engine plays.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub namespaces: Vec<String>,
    pub nodes: Vec<(String, String, String, bool)>,
    pub templates: Vec<Template>,
}

impl Scenario {
    /// The built-in demo: 20 jobs over 3 namespaces, every outcome, both launchers.
    pub fn demo(seed: u64) -> Scenario {
        const NAMES: [&str; 20] = [
            "daily-sales-agg", "clickstream-sessionize", "feature-build", "churn-model-train", "ads-attribution",
            "inventory-snapshot", "fraud-score", "recsys-embeddings", "billing-rollup", "events-compaction",
            "geo-enrich", "ab-test-metrics", "search-index-build", "user-segments", "payments-reconcile",
            "log-dedup", "marketing-mix", "forecast-demand", "orders-etl", "spark-pi",
        ];
        const OUTCOMES: [Outcome; 10] = [
            Outcome::Complete, Outcome::Complete, Outcome::DriverError, Outcome::ExecutorOom, Outcome::Complete,
            Outcome::SubmissionFailed, Outcome::Complete, Outcome::Unschedulable, Outcome::DriverOom, Outcome::Complete,
        ];
        let namespaces = ["data-eng", "ml", "analytics"];
        let users = ["alice", "bob", "carol", "dave", "erin"];
        let mut rng = Rng::new(seed);
        let templates = NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let namespace = namespaces[i % namespaces.len()];
                let outcome = OUTCOMES[i % OUTCOMES.len()];
                Template {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    user: users[rng.below(users.len())].to_string(),
                    launcher: if i % 5 == 3 { Launcher::SparkSubmit } else { Launcher::Operator },
                    outcome,
                    executors: 2 + rng.below(5) as u32,
                    executor: Size { cores: 2, memory_mib: [2048, 4096, 8192][rng.below(3)], overhead_mib: 1024 },
                    run_seconds: if outcome == Outcome::Unschedulable { 240.0 } else { rng.range(40.0, 180.0) },
                    linger_seconds: rng.range(20.0, 60.0),
                    python: i % 2 == 0,
                    airflow: (i % 3 == 0).then(|| (format!("{}_daily", namespace.replace('-', "_")), name.replace('-', "_"))),
                }
            })
            .collect();
        let nodes = (0..6)
            .map(|i| {
                let instance = ["r6i.2xlarge", "m6i.4xlarge", "r6i.4xlarge"][i % 3];
                (format!("ip-10-0-{}-{}.ec2.internal", i / 3, 10 + i), instance.to_string(), format!("us-east-1{}", ['a', 'b', 'c'][i % 3]), i >= 2)
            })
            .collect();
        Scenario { namespaces: namespaces.map(String::from).to_vec(), nodes, templates }
    }
}

/// One step of a run's plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    CreateApp,
    Submit,
    SubmissionFail,
    CreateDriver,
    DriverRunning,
    CreateExecutors,
    ExecutorsRunning,
    OomExecutor,
    ReplaceExecutor,
    Finish,
    RemoveExecutors,
    /// Delete the run's objects; the next run starts.
    End,
}

fn plan(t: &Template) -> Vec<(f64, Step)> {
    let end = t.run_seconds + t.linger_seconds;
    let mut steps = vec![(0.0, Step::CreateApp)];
    match t.outcome {
        Outcome::SubmissionFailed => steps.push((1.0, Step::SubmissionFail)),
        Outcome::Unschedulable => steps.extend([(0.5, Step::Submit), (0.6, Step::CreateDriver)]),
        _ => {
            steps.extend([
                (0.5, Step::Submit),
                (0.6, Step::CreateDriver),
                (2.5, Step::DriverRunning),
                (4.0, Step::CreateExecutors),
                (6.0, Step::ExecutorsRunning),
            ]);
            if t.outcome == Outcome::ExecutorOom {
                let half = t.run_seconds / 2.0;
                steps.extend([(half, Step::OomExecutor), (half + 2.0, Step::ReplaceExecutor)]);
            }
            steps.extend([(t.run_seconds, Step::Finish), (t.run_seconds + 1.0, Step::RemoveExecutors)]);
        }
    }
    steps.push((end, Step::End));
    steps
}

/// The names and ids of one run.
struct Run {
    template: usize,
    number: u32,
    start: Timestamp,
    steps: Vec<(f64, Step)>,
    next: usize,
    job_name: String,
    driver_pod: String,
    executor_prefix: String,
    app_id: String,
    submission_id: String,
    executors: Vec<String>,
    node: Option<String>,
}

/// A clock that runs `speed` times faster than the wall clock.
#[derive(Clone, Copy, Debug)]
pub struct SimClock {
    wall_origin: Instant,
    sim_origin: Timestamp,
    speed: f64,
}

impl SimClock {
    pub fn new(speed: f64) -> SimClock {
        SimClock { wall_origin: Instant::now(), sim_origin: Timestamp::now(), speed: speed.max(0.0) }
    }

    pub fn now(&self) -> Timestamp {
        let elapsed = self.wall_origin.elapsed().as_secs_f64() * self.speed;
        self.sim_origin.saturating_add(SignedDuration::from_secs_f64(elapsed)).unwrap_or(self.sim_origin)
    }
}

fn after(start: Timestamp, seconds: f64) -> Timestamp {
    start.saturating_add(SignedDuration::from_secs_f64(seconds)).unwrap_or(start)
}

/// The engine: the scenario, its runs, and the store it writes to.
pub struct Workload {
    store: Arc<Store>,
    scenario: Scenario,
    clock: SimClock,
    rng: Rng,
    runs: Vec<Run>,
    next_ip: std::cell::Cell<u32>,
}

impl Workload {
    /// Sets up nodes and namespaces and places every template's first run in the past.
    pub fn new(store: Arc<Store>, scenario: Scenario, seed: u64, clock: SimClock) -> Workload {
        let now = clock.now();
        let boot = after(now, -86_400.0 * 3.0);
        for ns in &scenario.namespaces {
            let _ = store.create(&NAMESPACES, objects::namespace(ns, boot));
        }
        for (name, instance, zone, spot) in &scenario.nodes {
            let _ = store.create(&NODES, objects::node(name, instance, zone, *spot, boot));
        }
        let mut workload = Workload { store, clock, rng: Rng::new(seed ^ 0x5eed), runs: Vec::new(), next_ip: Default::default(), scenario };
        for i in 0..workload.scenario.templates.len() {
            let t = &workload.scenario.templates[i];
            let cycle = t.run_seconds + t.linger_seconds;
            let start = after(now, -workload.rng.range(0.0, cycle));
            let number = 1 + workload.rng.below(40) as u32;
            let run = workload.new_run(i, number, start);
            workload.runs.push(run);
        }
        workload.tick();
        workload
    }

    fn new_run(&mut self, template: usize, number: u32, start: Timestamp) -> Run {
        let t = &self.scenario.templates[template];
        let hex = self.rng.hex(16);
        let (job_name, driver_pod, executor_prefix) = match t.launcher {
            Launcher::Operator => {
                let job = format!("{}-{number:03}", t.name);
                (job.clone(), format!("{job}-driver"), format!("{job}-{hex}"))
            }
            Launcher::SparkSubmit => {
                let prefix = format!("{}-{hex}", t.name);
                (prefix.clone(), format!("{prefix}-driver"), prefix)
            }
        };
        let node = (t.outcome != Outcome::Unschedulable).then(|| self.scenario.nodes[self.rng.below(self.scenario.nodes.len())].0.clone());
        Run {
            template,
            number,
            start,
            steps: plan(t),
            next: 0,
            job_name,
            driver_pod,
            executor_prefix,
            app_id: format!("spark-{}", self.rng.hex(32)),
            submission_id: format!("{}-{}-4{}-8{}-{}", self.rng.hex(8), self.rng.hex(4), self.rng.hex(3), self.rng.hex(3), self.rng.hex(12)),
            executors: Vec::new(),
            node,
        }
    }

    /// Applies every step that the clock has passed.
    pub fn tick(&mut self) {
        let now = self.clock.now();
        for i in 0..self.runs.len() {
            while let Some(&(offset, step)) = self.runs[i].steps.get(self.runs[i].next) {
                let at = after(self.runs[i].start, offset);
                if at > now {
                    break;
                }
                self.runs[i].next += 1;
                self.apply(i, step, at);
                if step == Step::End {
                    let (template, number) = (self.runs[i].template, self.runs[i].number + 1);
                    self.runs[i] = self.new_run(template, number, at);
                }
            }
        }
    }

    /// Runs the engine until the task is dropped.
    pub async fn run(mut self, every: Duration) {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            self.tick();
        }
    }

    fn pod_ip(&self) -> String {
        let n = self.next_ip.get() + 1;
        self.next_ip.set(n);
        format!("10.1.{}.{}", (n / 250) % 250, 2 + n % 250)
    }

    /// Edits the status of run `i`'s SparkApplication (nothing for spark-submit runs).
    fn app_status(&self, i: usize, edit: impl FnOnce(&mut Value)) {
        let run = &self.runs[i];
        let t = &self.scenario.templates[run.template];
        if t.launcher == Launcher::Operator {
            let _ = self.store.update(&SPARK_APPLICATIONS, &t.namespace, &run.job_name, |app| edit(&mut app["status"]));
        }
    }

    fn apply(&mut self, i: usize, step: Step, at: Timestamp) {
        let t = self.scenario.templates[self.runs[i].template].clone();
        let operator = t.launcher == Launcher::Operator;
        let store = self.store.clone();
        let ns = t.namespace.as_str();
        let run = &self.runs[i];
        let (job_name, driver_pod, app_id) = (run.job_name.clone(), run.driver_pod.clone(), run.app_id.clone());
        match step {
            Step::CreateApp if operator => {
                let spec = AppSpec {
                    namespace: ns,
                    name: &job_name,
                    labels: &job_labels(&t, run),
                    driver: DRIVER_SIZE,
                    executor: t.executor,
                    instances: t.executors,
                    main_file: if t.python { "s3a://jobs/main.py" } else { "local:///opt/spark/examples/jars/spark-examples.jar" },
                    python: t.python,
                };
                let _ = store.create(&SPARK_APPLICATIONS, objects::spark_application(&spec, at));
            }
            Step::Submit => {
                let submission_id = run.submission_id.clone();
                self.app_status(i, |s| {
                    *s = json!({
                        "applicationState": {"state": "SUBMITTED"},
                        "submissionID": submission_id,
                        "lastSubmissionAttemptTime": rfc3339(at),
                        "terminationTime": null,
                        "submissionAttempts": 1,
                        "executionAttempts": 0,
                        "driverInfo": {"podName": driver_pod, "webUIServiceName": format!("{job_name}-ui-svc"), "webUIPort": 4040}
                    });
                });
            }
            Step::SubmissionFail => self.app_status(i, |s| {
                *s = json!({
                    "applicationState": {
                        "state": "SUBMISSION_FAILED",
                        "errorMessage": format!("failed to run spark-submit for SparkApplication {ns}/{job_name}: Exception in thread \"main\" org.apache.spark.SparkException: Must specify the driver container image")
                    },
                    "lastSubmissionAttemptTime": rfc3339(at),
                    "terminationTime": rfc3339(at),
                    "submissionAttempts": 1,
                    "driverInfo": {}
                });
            }),
            Step::CreateDriver => {
                let app = if operator { store.get(&SPARK_APPLICATIONS, ns, &job_name).ok() } else { None };
                let owner = app.as_ref().map(|a| Owner {
                    api_version: "sparkoperator.k8s.io/v1beta2",
                    kind: "SparkApplication",
                    name: a["metadata"]["name"].as_str().unwrap_or_default(),
                    uid: a["metadata"]["uid"].as_str().unwrap_or_default(),
                });
                let spec = PodSpec {
                    namespace: ns,
                    name: &driver_pod,
                    labels: pod_labels(&t, run, None),
                    owner,
                    driver: true,
                    size: DRIVER_SIZE,
                    node: run.node.as_deref(),
                };
                let _ = store.create(&PODS, objects::pod(&spec, at));
            }
            Step::DriverRunning => {
                let ip = self.pod_ip();
                let _ = store.update(&PODS, ns, &driver_pod, |p| objects::set_running(p, &ip, at));
                self.app_status(i, |s| {
                    s["applicationState"] = json!({"state": "RUNNING"});
                    s["sparkApplicationId"] = json!(app_id);
                    s["executionAttempts"] = json!(1);
                });
            }
            Step::CreateExecutors => {
                for _ in 0..t.executors {
                    self.create_executor(i, &t, at);
                }
            }
            Step::ExecutorsRunning => {
                for name in self.runs[i].executors.clone() {
                    let ip = self.pod_ip();
                    let _ = store.update(&PODS, ns, &name, |p| objects::set_running(p, &ip, at));
                }
                self.executor_states(i, "RUNNING");
            }
            Step::OomExecutor => {
                if let Some(name) = run.executors.first().cloned() {
                    let _ = store.update(&PODS, ns, &name, |p| objects::set_terminated(p, 137, "OOMKilled", at));
                    self.app_status(i, |s| s["executorState"][&name] = json!("FAILED"));
                }
            }
            Step::ReplaceExecutor => {
                let name = self.create_executor(i, &t, at);
                let ip = self.pod_ip();
                let _ = store.update(&PODS, ns, &name, |p| objects::set_running(p, &ip, at));
                self.app_status(i, |s| s["executorState"][&name] = json!("RUNNING"));
            }
            Step::Finish => self.finish(i, &t, at),
            Step::RemoveExecutors => {
                for name in &run.executors {
                    let _ = store.delete(&PODS, ns, name);
                }
            }
            Step::End => {
                let deleted = if operator { store.delete(&SPARK_APPLICATIONS, ns, &job_name) } else { store.delete(&PODS, ns, &driver_pod) };
                if let Err(e) = deleted {
                    tracing::debug!(job = %job_name, "end of run: {e}");
                }
            }
            Step::CreateApp => {}
        }
    }

    fn create_executor(&mut self, i: usize, t: &Template, at: Timestamp) -> String {
        let run = &self.runs[i];
        let id = run.executors.len() + 1;
        let name = format!("{}-exec-{id}", run.executor_prefix);
        let driver = self.store.get(&PODS, &t.namespace, &run.driver_pod).ok();
        let owner = driver.as_ref().map(|d| Owner {
            api_version: "v1",
            kind: "Pod",
            name: d["metadata"]["name"].as_str().unwrap_or_default(),
            uid: d["metadata"]["uid"].as_str().unwrap_or_default(),
        });
        let node = self.scenario.nodes[self.rng.below(self.scenario.nodes.len())].0.clone();
        let spec = PodSpec {
            namespace: &t.namespace,
            name: &name,
            labels: pod_labels(t, run, Some(id)),
            owner,
            driver: false,
            size: t.executor,
            node: Some(&node),
        };
        let _ = self.store.create(&PODS, objects::pod(&spec, at));
        self.runs[i].executors.push(name.clone());
        name
    }

    fn executor_states(&self, i: usize, state: &str) {
        let run = &self.runs[i];
        let t = &self.scenario.templates[run.template];
        if t.launcher != Launcher::Operator {
            return;
        }
        let _ = self.store.update(&SPARK_APPLICATIONS, &t.namespace, &run.job_name, |app| {
            for name in &run.executors {
                if app["status"]["executorState"][name] != json!("FAILED") {
                    app["status"]["executorState"][name] = json!(state);
                }
            }
        });
    }

    fn finish(&mut self, i: usize, t: &Template, at: Timestamp) {
        let (exit, reason) = match t.outcome {
            Outcome::DriverError => (1, "Error"),
            Outcome::DriverOom => (137, "OOMKilled"),
            _ => (0, "Completed"),
        };
        let run = &self.runs[i];
        let ns = t.namespace.as_str();
        for name in &run.executors {
            let _ = self.store.update(&PODS, ns, name, |p| {
                if p["status"]["phase"] == json!("Running") {
                    objects::set_terminated(p, 0, "Completed", at);
                }
            });
        }
        let _ = self.store.update(&PODS, ns, &run.driver_pod, |p| objects::set_terminated(p, exit, reason, at));
        self.executor_states(i, if exit == 0 { "COMPLETED" } else { "FAILED" });
        if t.launcher == Launcher::Operator {
            let _ = self.store.update(&SPARK_APPLICATIONS, ns, &run.job_name, |app| {
                let s = &mut app["status"];
                s["terminationTime"] = json!(rfc3339(at));
                s["applicationState"] = if exit == 0 {
                    json!({"state": "COMPLETED"})
                } else {
                    json!({"state": "FAILED", "errorMessage": format!("driver container failed with ExitCode: {exit}, Reason: {reason}")})
                };
            });
        }
    }
}

/// Labels of the SparkApplication (and, through the operator, of its pods).
fn job_labels(t: &Template, run: &Run) -> Value {
    let mut labels = json!({"user": t.user, "team": t.namespace});
    if let Some((dag, task)) = &t.airflow {
        labels["dag_id"] = json!(dag);
        labels["task_id"] = json!(task);
        labels["run_id"] = json!(format!("scheduled__2026-11-21T{:02}0000", run.number % 24));
        labels["try_number"] = json!("1");
        labels["airflow_version"] = json!("2.10.5");
    }
    labels
}

/// Labels of a driver (`executor` None) or executor pod, as Spark and the operator set them.
fn pod_labels(t: &Template, run: &Run, executor: Option<usize>) -> Value {
    let mut labels = job_labels(t, run);
    labels[SPARK_APP_SELECTOR] = json!(run.app_id);
    labels["spark-app-name"] = json!(t.name);
    labels["spark-version"] = json!("4.0.1");
    labels[SPARK_ROLE] = json!(if executor.is_some() { "executor" } else { "driver" });
    if let Some(id) = executor {
        labels[SPARK_EXEC_ID] = json!(id.to_string());
        labels["spark-exec-resourceprofile-id"] = json!("0");
    }
    if t.launcher == Launcher::Operator {
        labels[OPERATOR_APP_NAME] = json!(run.job_name);
        labels["sparkoperator.k8s.io/launched-by-spark-operator"] = json!("true");
        labels["sparkoperator.k8s.io/submission-id"] = json!(run.submission_id);
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn states(store: &Store) -> Vec<(String, String)> {
        let (apps, _) = store.list(&SPARK_APPLICATIONS, None);
        apps.iter()
            .map(|a| {
                let name = a["metadata"]["name"].as_str().unwrap_or_default().to_string();
                (name, a["status"]["applicationState"]["state"].as_str().unwrap_or_default().to_string())
            })
            .collect()
    }

    #[test]
    fn the_demo_shows_every_state_at_start() {
        let store = Arc::new(Store::default());
        let _ = Workload::new(store.clone(), Scenario::demo(1), 1, SimClock::new(1.0));
        let seen: std::collections::BTreeSet<String> = states(&store).into_iter().map(|(_, s)| s).collect();
        for state in ["SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "SUBMISSION_FAILED"] {
            assert!(seen.contains(state), "missing {state} in {seen:?}");
        }
        let (pods, _) = store.list(&PODS, None);
        assert!(pods.iter().any(|p| p["metadata"]["labels"][SPARK_ROLE] == "executor"));
        assert!(pods.iter().any(|p| p["metadata"]["labels"][OPERATOR_APP_NAME].is_null()), "no spark-submit driver");
    }

    #[test]
    fn the_same_seed_gives_the_same_cluster() {
        let names = |seed| {
            let store = Arc::new(Store::default());
            let _ = Workload::new(store.clone(), Scenario::demo(seed), seed, SimClock::new(0.0));
            store.list(&PODS, None).0.iter().map(|p| p["metadata"]["name"].clone()).collect::<Vec<_>>()
        };
        assert_eq!(names(42), names(42));
        assert_ne!(names(42), names(43));
    }
}
