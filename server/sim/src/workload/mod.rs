//! The workload engine: plays Spark jobs on the simulated cluster in (scaled) real time.
//!
//! Each template of the [`Scenario`] runs again and again. A run is a plan of timed steps
//! (submit, driver pending, running, executors, an OOM kill, a lost node, the end, clean-up)
//! applied to the store as the simulated clock passes them; between steps, running containers
//! write their logs and stuck pods collect FailedScheduling events. At start-up the first run of
//! every template is placed in the past, so the cluster shows every state at once, and what
//! was due is applied with its own timestamps, as if the cluster had been running all along.
//!
//! This module keeps the engine's clock and dispatch; each actor's part is its own module:
//! - [`plan`]: a run's steps and names; [`labels`]: the labels its objects carry.
//! - [`operator`]: spark-operator and the SparkApplication; [`submitter`]: the spark-submit pod
//!   of runs without the operator.
//! - [`driver`]: the Spark driver, real ones included; [`executors`]: its executors.
//! - [`nodes`]: nodes, the pod network, the kubelet, a lost spot node.
//! - [`events`]: Kubernetes events; [`chatter`]: logs and retries between steps.

mod chatter;
mod driver;
mod events;
mod executors;
mod labels;
mod nodes;
mod operator;
mod plan;
mod submitter;

use crate::SimState;
use crate::clock::after;
use crate::objects::Size;
use crate::rng::Rng;
use crate::scenario::{Launcher, NodeSpec, Scenario};
use crate::spark_driver::RealDrivers;
use jiff::Timestamp;
use nodes::Placed;
use plan::{Run, Step};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Duration;

/// Driver size of every job: 1 core, 2 GiB heap, Spark's default 384 MiB overhead.
const DRIVER_SIZE: Size = Size { cores: 1, memory_mib: 2048, overhead_mib: 384 };
const DRIVER_CONTAINER: &str = "spark-kubernetes-driver";
const EXECUTOR_CONTAINER: &str = "spark-kubernetes-executor";
const CONTROLLER_CONTAINER: &str = "base";
/// Marks a driver pod backed by a real Spark driver on loopback.
pub const REAL_DRIVER: &str = "sim.sparkboard.io/real-driver";
/// Where spark-operator runs, and its pod.
pub const OPERATOR_NAMESPACE: &str = "spark-operator";
pub const OPERATOR_POD: &str = "spark-operator-controller-7d9c5b6f4-x2k9p";
const OPERATOR_CONTAINER: &str = "spark-operator-controller";

/// The engine: the scenario, its runs, and the cluster it writes to.
pub struct Workload {
    sim: SimState,
    scenario: Scenario,
    nodes: Vec<NodeSpec>,
    nodes_made: usize,
    rng: Rng,
    runs: Vec<Run>,
    next_ip: u32,
    /// `(namespace, involved object, reason)` -> event name, so repeats raise its count.
    events: HashMap<(String, String, String), String>,
    /// Events in the order they were created, for the API server's event TTL.
    event_ages: VecDeque<(Timestamp, (String, String, String))>,
    /// Node -> the pods placed on it, with the run they belong to (some may be gone since),
    /// for losing a node.
    pods_by_node: HashMap<String, Vec<Placed>>,
    /// Real Spark drivers behind some running jobs, when Spark is installed.
    real_drivers: Option<RealDrivers>,
}

impl Workload {
    /// Sets up namespaces, nodes and spark-operator, and places every template's first run in
    /// the past.
    pub fn new(sim: SimState, scenario: Scenario, seed: u64) -> Workload {
        let now = sim.clock.now();
        let boot = after(now, -86_400.0 * 3.0);
        let nodes = scenario.nodes.clone();
        let mut workload = Workload {
            sim,
            nodes_made: nodes.len(),
            nodes,
            scenario,
            rng: Rng::new(seed ^ 0x5eed),
            runs: Vec::new(),
            next_ip: 0,
            events: HashMap::new(),
            event_ages: VecDeque::new(),
            pods_by_node: HashMap::new(),
            real_drivers: None,
        };
        workload.install_cluster(boot);
        workload.install_operator(boot, now);
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

    /// Applies every step that the clock has passed, across all runs in time order (the
    /// operator's log and the events are shared), with the logs written in between.
    pub fn tick(&mut self) {
        self.attach_real_drivers();
        let now = self.sim.clock.now();
        let mut due: BinaryHeap<Reverse<(Timestamp, usize)>> = (0..self.runs.len())
            .filter_map(|i| self.next_due(i).map(|at| Reverse((at, i))))
            .filter(|Reverse((at, _))| *at <= now)
            .collect();
        while let Some(Reverse((at, i))) = due.pop() {
            let Some(&(_, mut step)) = self.runs[i].steps.get(self.runs[i].next) else { continue };
            if step != Step::CreateApp && self.deleted_by_someone_else(i) {
                // kubectl delete, say: the operator stops working on it; the next run follows.
                self.runs[i].next = self.runs[i].steps.len() - 1;
                step = Step::End;
            }
            self.chatter(i, at);
            self.runs[i].next += 1;
            self.apply(i, step, at);
            if step == Step::End {
                let (template, number) = (self.runs[i].template, self.runs[i].number + 1);
                self.runs[i] = self.new_run(template, number, at);
            }
            if let Some(next) = self.next_due(i).filter(|next| *next <= now) {
                due.push(Reverse((next, i)));
            }
        }
        for i in 0..self.runs.len() {
            self.chatter(i, now);
        }
    }

    /// When run `i`'s next step is due.
    fn next_due(&self, i: usize) -> Option<Timestamp> {
        let run = &self.runs[i];
        run.steps.get(run.next).map(|(offset, _)| after(run.start, *offset))
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

    /// One step of run `i`, by the actor whose step it is.
    fn apply(&mut self, i: usize, step: Step, at: Timestamp) {
        let t = self.template(i).clone();
        match step {
            Step::CreateApp if t.launcher == Launcher::Operator => self.create_app(i, &t, at),
            Step::CreateApp => self.create_controller(i, &t, at),
            Step::Submit => self.submit(i, &t, at),
            Step::SubmissionFail => self.submission_fail(i, &t, at),
            Step::CreateDriver => self.create_driver(i, &t, at),
            Step::DriverRunning => self.driver_running(i, &t, at),
            Step::CreateExecutors => self.create_executors(i, &t, at),
            Step::ExecutorsRunning => self.executors_running(i, at),
            Step::OomExecutor => self.oom_executor(i, &t, at),
            Step::ReplaceExecutor => self.replace_executor(i, &t, at),
            Step::ScaleUp => self.scale_up(i, &t, at),
            Step::ScaleDown => self.scale_down(i, &t, at),
            Step::NodeLost => self.lose_node(i, at),
            Step::Finish => self.finish(i, &t, at),
            Step::RemoveExecutors => self.remove_executors(i, &t),
            Step::End => self.end_run(i, &t),
        }
    }

    fn template(&self, i: usize) -> &crate::scenario::Template {
        &self.scenario.templates[self.runs[i].template]
    }

    /// Writes `lines` to a container's log at `at`, a nanosecond apart so their order holds.
    fn log(&self, namespace: &str, pod: &str, container: &str, at: Timestamp, lines: &[String]) {
        let buffer = self.sim.logs.current(namespace, pod, container);
        for (n, line) in lines.iter().enumerate() {
            buffer.push(after(at, n as f64 * 1e-9), line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{OPERATOR_APP_NAME, SPARK_ROLE};
    use crate::resources::{EVENTS, PODS, SCHEDULED_SPARK_APPLICATIONS, SERVICES, SPARK_APPLICATIONS};
    use crate::store::Store;
    use std::sync::Arc;

    fn sim(speed: f64) -> SimState {
        SimState::new(Arc::new(Store::default()), speed)
    }

    fn app_states(sim: &SimState) -> std::collections::BTreeSet<String> {
        let (apps, _) = sim.store.list(&SPARK_APPLICATIONS, None);
        apps.iter().map(|a| a["status"]["applicationState"]["state"].as_str().unwrap_or_default().to_string()).collect()
    }

    #[test]
    fn the_demo_shows_every_state_at_start() {
        let sim = sim(1.0);
        let _ = Workload::new(sim.clone(), Scenario::demo(1), 1);
        let seen = app_states(&sim);
        for state in ["SUBMITTED", "RUNNING", "COMPLETED", "FAILED", "SUBMISSION_FAILED"] {
            assert!(seen.contains(state), "missing {state} in {seen:?}");
        }
        let (pods, _) = sim.store.list(&PODS, None);
        assert!(pods.iter().any(|p| p["metadata"]["labels"][SPARK_ROLE] == "executor"));
        assert!(
            pods.iter().any(|p| p["metadata"]["labels"][SPARK_ROLE] == "driver" && p["metadata"]["labels"][OPERATOR_APP_NAME].is_null()),
            "no spark-submit driver"
        );
        assert!(!sim.store.list(&SERVICES, None).0.is_empty());
        assert!(!sim.store.list(&SCHEDULED_SPARK_APPLICATIONS, None).0.is_empty());
    }

    #[test]
    fn the_same_seed_gives_the_same_cluster() {
        let names = |seed| {
            let sim = sim(0.0);
            let _ = Workload::new(sim.clone(), Scenario::demo(seed), seed);
            sim.store.list(&PODS, None).0.iter().map(|p| p["metadata"]["name"].clone()).collect::<Vec<_>>()
        };
        assert_eq!(names(42), names(42));
        assert_ne!(names(42), names(43));
    }

    #[test]
    fn running_drivers_write_spark_logs_in_time_order() {
        let sim = sim(1.0);
        let _ = Workload::new(sim.clone(), Scenario::demo(3), 3);
        let (pods, _) = sim.store.list(&PODS, None);
        let driver = pods
            .iter()
            .find(|p| p["metadata"]["labels"][SPARK_ROLE] == "driver" && p["status"]["phase"] == "Running")
            .expect("a running driver");
        let (ns, name) = (driver["metadata"]["namespace"].as_str().unwrap(), driver["metadata"]["name"].as_str().unwrap());
        let log = sim.logs.existing(ns, name, DRIVER_CONTAINER, false).expect("driver log");
        let (lines, ended) = log.read_from(0, 10_000);
        assert!(!ended);
        assert!(lines.iter().any(|l| l.text.contains("INFO SparkContext: Running Spark version 4.0.1")));
        assert!(lines.windows(2).all(|w| w[0].time <= w[1].time), "timestamps go backwards");
    }

    #[test]
    fn dynamic_allocation_adds_executors_then_deletes_the_idle_ones() {
        let sim = sim(0.0);
        let scenario = Scenario::from_json(
            r#"{"jobs": [{"namespace": "ml", "name": "elastic", "executors": 2, "run_seconds": 100, "linger_seconds": 20, "dynamic_allocation": true}]}"#,
            "test",
        )
        .unwrap();
        let mut workload = Workload::new(sim.clone(), scenario, 9);
        let executors = |sim: &SimState| {
            sim.store
                .list(&PODS, Some("ml"))
                .0
                .iter()
                .filter(|p| p["metadata"]["labels"][SPARK_ROLE] == "executor" && p["status"]["phase"] == "Running")
                .count()
        };
        let (mut peak, mut shrank_while_running) = (0, false);
        for _ in 0..240 {
            workload.sim.clock.jump(1.0);
            workload.tick();
            let now = executors(&sim);
            if peak > 2 && now == 2 {
                shrank_while_running = true;
            }
            peak = peak.max(now);
        }
        assert_eq!(peak, 3, "2 executors plus dynamic allocation's extra");
        assert!(shrank_while_running, "the extra executor was never removed while the job ran");
        let app = sim.store.list(&SPARK_APPLICATIONS, None).0;
        assert!(app.iter().all(|a| a["spec"]["dynamicAllocation"]["enabled"] == true));
    }

    #[test]
    fn failures_leave_their_traces() {
        let sim = sim(1.0);
        let mut workload = Workload::new(sim.clone(), Scenario::demo(5), 5);
        // Play four simulated minutes in one go: every outcome has happened at least once.
        workload.sim.clock.jump(400.0);
        workload.tick();
        let (events, _) = sim.store.list(&EVENTS, None);
        let reasons: std::collections::BTreeSet<&str> = events.iter().filter_map(|e| e["reason"].as_str()).collect();
        for reason in [
            "FailedScheduling",
            "Scheduled",
            "Started",
            "SparkApplicationSubmitted",
            "SparkExecutorFailed",
            "SparkDriverFailed",
            "SpotInterrupted",
        ] {
            assert!(reasons.contains(reason), "no {reason} event in {reasons:?}");
        }
        let retried = events.iter().any(|e| e["reason"] == "FailedScheduling" && e["count"].as_u64() > Some(1));
        assert!(retried, "FailedScheduling should repeat with a count");
        let operator = sim.logs.existing(OPERATOR_NAMESPACE, OPERATOR_POD, OPERATOR_CONTAINER, false).unwrap();
        let lines = operator.read_from(0, 100_000).0;
        assert!(lines.iter().any(|l| l.text.contains("\"state\": \"FAILED\"")));
        // Regression: runs caught up one after another wrote the shared log out of order.
        assert!(lines.windows(2).all(|w| w[0].time <= w[1].time), "the operator's log goes back in time");
        assert!(sim.logs.existing(OPERATOR_NAMESPACE, OPERATOR_POD, OPERATOR_CONTAINER, true).is_some());
    }
}
