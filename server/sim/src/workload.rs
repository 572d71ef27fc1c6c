//! The workload engine: plays Spark jobs on the simulated cluster in (scaled) real time.
//!
//! Each template of the [`Scenario`] runs again and again. A run is a plan of timed steps
//! (submit, driver pending, running, executors, an OOM kill, a lost node, the end, clean-up)
//! applied to the store as the simulated clock passes them; between steps, running containers
//! write their logs and stuck pods collect FailedScheduling events. At start-up the first run of
//! every template is placed in the past, so the cluster shows every state at once, and what
//! was due is applied with its own timestamps, as if the cluster had been running all along.

use super::SimState;
use super::objects::{
    self, AppSpec, EventSpec, Involved, OPERATOR_APP_NAME, Owner, PodSpec, SPARK_APP_SELECTOR, SPARK_EXEC_ID, SPARK_ROLE, Size,
};
use super::resources::{
    CUSTOM_RESOURCE_DEFINITIONS, EVENTS, NAMESPACES, NODES, PODS, SCHEDULED_SPARK_APPLICATIONS, SERVICES, SPARK_APPLICATIONS,
};
use super::rng::Rng;
use super::scenario::{Launcher, NodeSpec, Outcome, Scenario, Template};
use super::spark_driver::RealDrivers;
use super::spark_logs as text;
use super::store::rfc3339;
use jiff::Timestamp;
use serde_json::{Value, json};
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
/// Log lines per second: a driver, each executor.
const DRIVER_LINES_PER_SECOND: f64 = 1.5;
const EXECUTOR_LINES_PER_SECOND: f64 = 0.5;
/// How long events live, as with the API server's default `--event-ttl`.
const EVENT_TTL_SECONDS: f64 = 3600.0;
/// At most this many events are kept (the oldest go first), so that a large simulated
/// cluster's event storm cannot take the machine's memory.
const MAX_EVENTS: usize = 50_000;
/// How often the scheduler retries (and reports) a pod that does not fit.
const SCHEDULING_RETRY_SECONDS: f64 = 30.0;

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
    /// Dynamic allocation: tasks back up, more executors come.
    ScaleUp,
    /// Dynamic allocation: the extra executors idle out and Spark deletes them.
    ScaleDown,
    NodeLost,
    Finish,
    RemoveExecutors,
    /// Delete the run's objects; the next run starts.
    End,
}

fn plan(t: &Template) -> Vec<(f64, Step)> {
    let end = t.run_seconds + t.linger_seconds;
    let half = t.run_seconds / 2.0;
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
            if t.dynamic && t.outcome != Outcome::SpotLost {
                steps.extend([(t.run_seconds * 0.3, Step::ScaleUp), (t.run_seconds * 0.7, Step::ScaleDown)]);
            }
            match t.outcome {
                Outcome::ExecutorOom => steps.extend([(half, Step::OomExecutor), (half + 2.0, Step::ReplaceExecutor)]),
                Outcome::SpotLost => steps.push((half, Step::NodeLost)),
                _ => {}
            }
            if t.outcome != Outcome::SpotLost {
                steps.push((t.run_seconds, Step::Finish));
            }
            steps.push((t.run_seconds + 1.0, Step::RemoveExecutors));
        }
    }
    steps.push((end, Step::End));
    steps
}

struct Executor {
    name: String,
    id: usize,
    ip: String,
    running: bool,
}

/// A pod on a node: namespace, name, and the index of its run.
type Placed = (String, String, usize);

/// The names, ids and progress of one run.
struct Run {
    template: usize,
    number: u32,
    start: Timestamp,
    steps: Vec<(f64, Step)>,
    next: usize,
    job_name: String,
    driver_pod: String,
    /// The spark-submit pod of a run launched without the operator.
    controller_pod: Option<String>,
    /// Spark's resource name prefix: executors and the driver service are named after it.
    prefix: String,
    app_id: String,
    submission_id: String,
    executors: Vec<Executor>,
    node: Option<String>,
    driver_running: bool,
    /// Logs and events are written up to here.
    chatter_until: Timestamp,
    lines: u64,
    last_scheduling_report: Option<Timestamp>,
}

use super::clock::after;

fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_nanosecond() - from.as_nanosecond()) as f64 / 1e9
}

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
        workload.boot(boot, now);
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

    fn boot(&mut self, boot: Timestamp, now: Timestamp) {
        let store = self.sim.store.clone();
        for ns in self.scenario.namespaces.iter().map(String::as_str).chain([OPERATOR_NAMESPACE, "default"]) {
            let _ = store.create(&NAMESPACES, objects::namespace(ns, boot));
        }
        for node in &self.nodes {
            let _ = store.create(&NODES, objects::node(node, boot));
        }
        let app_columns = json!([
            {"name": "Status", "type": "string", "jsonPath": ".status.applicationState.state"},
            {"name": "Attempts", "type": "string", "jsonPath": ".status.executionAttempts"},
            {"name": "Start", "type": "string", "jsonPath": ".status.lastSubmissionAttemptTime"},
            {"name": "Finish", "type": "string", "jsonPath": ".status.terminationTime"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        ]);
        let scheduled_columns = json!([
            {"name": "Schedule", "type": "string", "jsonPath": ".spec.schedule"},
            {"name": "Last Run", "type": "date", "jsonPath": ".status.lastRun"},
            {"name": "Last Run Name", "type": "string", "jsonPath": ".status.lastRunName"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
        ]);
        let _ = store.create(&CUSTOM_RESOURCE_DEFINITIONS, objects::crd(&SPARK_APPLICATIONS, app_columns, boot));
        let _ = store.create(&CUSTOM_RESOURCE_DEFINITIONS, objects::crd(&SCHEDULED_SPARK_APPLICATIONS, scheduled_columns, boot));
        for t in self.scenario.templates.iter().filter(|t| t.scheduled) {
            let _ = store.create(&SCHEDULED_SPARK_APPLICATIONS, objects::scheduled_application(&t.namespace, &t.name, "@every 5m", boot));
        }
        // The operator crashed once a day ago (its previous log says why) and has run since.
        let restarted = after(now, -86_400.0);
        let ip = self.pod_ip();
        let _ = store.create(&PODS, objects::operator_pod(OPERATOR_POD, &self.nodes[0].name, &ip, boot, restarted));
        let logs = &self.sim.logs;
        let first = logs.current(OPERATOR_NAMESPACE, OPERATOR_POD, OPERATOR_CONTAINER);
        first.push(after(boot, 1.0), &format!("{}\tINFO\tcontroller/start.go:298\tStarting manager", rfc3339(boot)));
        first.push(after(restarted, -0.2), "E1120 06:00:01.118302       1 leaderelection.go:340] Failed to update lock optimitically: context deadline exceeded, falling back to slow path");
        first.push(after(restarted, -0.1), "F1120 06:00:01.118840       1 leaderelection.go:327] leader election lost");
        logs.restart(OPERATOR_NAMESPACE, OPERATOR_POD, OPERATOR_CONTAINER);
        logs.current(OPERATOR_NAMESPACE, OPERATOR_POD, OPERATOR_CONTAINER)
            .push(restarted, &format!("{}.000Z\tINFO\tcontroller/start.go:298\tStarting manager", restarted.strftime("%Y-%m-%dT%H:%M:%S")));
    }

    fn new_run(&mut self, template: usize, number: u32, start: Timestamp) -> Run {
        let t = &self.scenario.templates[template];
        let hex = self.rng.hex(16);
        let (job_name, driver_pod, prefix) = match t.launcher {
            Launcher::Operator => {
                let job = format!("{}-{number:03}", t.name);
                (job.clone(), format!("{job}-driver"), format!("{job}-{hex}"))
            }
            Launcher::SparkSubmit => {
                let prefix = format!("{}-{hex}", t.name);
                (prefix.clone(), format!("{prefix}-driver"), prefix)
            }
        };
        // Airflow's KubernetesPodOperator names its pod after the task; a Job after the job.
        let controller_pod = (t.launcher == Launcher::SparkSubmit).then(|| match &t.airflow {
            Some((_, task)) => format!("{}-{}", task.replace('_', "-"), &hex[..8]),
            None => format!("{prefix}-submit"),
        });
        let node = match t.outcome {
            Outcome::Unschedulable => None,
            Outcome::SpotLost => self.nodes.iter().filter(|n| n.spot).map(|n| n.name.clone()).next(),
            _ => Some(self.nodes[self.rng.below(self.nodes.len())].name.clone()),
        };
        Run {
            template,
            number,
            start,
            steps: plan(t),
            next: 0,
            job_name,
            driver_pod,
            controller_pod,
            prefix,
            app_id: format!("spark-{}", self.rng.hex(32)),
            submission_id: format!(
                "{}-{}-4{}-8{}-{}",
                self.rng.hex(8),
                self.rng.hex(4),
                self.rng.hex(3),
                self.rng.hex(3),
                self.rng.hex(12)
            ),
            executors: Vec::new(),
            node,
            driver_running: false,
            chatter_until: start,
            lines: 0,
            last_scheduling_report: None,
        }
    }

    /// Gives some running jobs real Spark drivers (call before the engine runs, in a runtime).
    pub fn with_real_drivers(mut self, mut drivers: RealDrivers) -> Workload {
        // Jobs already running when the cluster came up qualify too.
        for i in 0..self.runs.len() {
            let t = self.template(i);
            if self.runs[i].driver_running && wants_real_driver(t) {
                drivers.start(&t.namespace, &self.runs[i].driver_pod, &self.runs[i].job_name);
            }
        }
        self.real_drivers = Some(drivers);
        self
    }

    /// Points the pods of real drivers that came up at them.
    fn attach_real_drivers(&mut self) {
        let Some(started) = self.real_drivers.as_mut().map(RealDrivers::poll_started) else { return };
        for started in started {
            let run = self
                .runs
                .iter()
                .position(|r| r.driver_pod == started.pod && self.scenario.templates[r.template].namespace == started.namespace);
            let Some(i) = run.filter(|i| self.runs[*i].driver_running) else {
                // The job ended while its driver was starting.
                if let Some(drivers) = self.real_drivers.as_mut() {
                    drivers.stop(&started.namespace, &started.pod);
                }
                continue;
            };
            self.runs[i].app_id = started.app_id.clone();
            let port = started.ui_port;
            let _ = self.sim.store.update(&PODS, &started.namespace, &started.pod, |p| {
                p["status"]["podIP"] = json!("127.0.0.1");
                p["status"]["podIPs"] = json!([{"ip": "127.0.0.1"}]);
                p["spec"]["containers"][0]["ports"] = json!([{"name": "spark-ui", "containerPort": port, "protocol": "TCP"}]);
                p["metadata"]["labels"][SPARK_APP_SELECTOR] = json!(started.app_id);
                p["metadata"]["annotations"][REAL_DRIVER] = json!("true");
            });
            let app_id = started.app_id.clone();
            self.app_status(i, |s| s["sparkApplicationId"] = json!(app_id));
        }
    }

    fn stop_real_driver(&mut self, i: usize) {
        let ns = self.template(i).namespace.clone();
        let pod = self.runs[i].driver_pod.clone();
        if let Some(drivers) = self.real_drivers.as_mut() {
            drivers.stop(&ns, &pod);
        }
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

    /// The run's SparkApplication was deleted by a client, not by the engine.
    fn deleted_by_someone_else(&self, i: usize) -> bool {
        let t = self.template(i);
        t.launcher == Launcher::Operator && self.sim.store.get(&SPARK_APPLICATIONS, &t.namespace, &self.runs[i].job_name).is_err()
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

    /// The simulated pod network is 127.1.0.0/16: loopback, so that a client following a pod's
    /// IP (the dashboard's Spark UI proxy, say) never leaves the machine; nothing listens there
    /// except the real drivers, which get 127.0.0.1.
    fn pod_ip(&mut self) -> String {
        self.next_ip += 1;
        format!("127.1.{}.{}", (self.next_ip / 250) % 250, 2 + self.next_ip % 250)
    }

    fn template(&self, i: usize) -> &Template {
        &self.scenario.templates[self.runs[i].template]
    }

    /// Writes `lines` to a container's log at `at`, a nanosecond apart so their order holds.
    fn log(&self, namespace: &str, pod: &str, container: &str, at: Timestamp, lines: &[String]) {
        let buffer = self.sim.logs.current(namespace, pod, container);
        for (n, line) in lines.iter().enumerate() {
            buffer.push(after(at, n as f64 * 1e-9), line);
        }
    }

    fn operator_log(&self, at: Timestamp, namespace: &str, name: &str, state: &str, message: &str) {
        let line = text::operator(at, "INFO", "sparkapplication/controller.go:113", message, namespace, name, state);
        self.log(OPERATOR_NAMESPACE, OPERATOR_POD, OPERATOR_CONTAINER, at, &[line]);
    }

    /// Records an event; the same reason on the same object again raises its count.
    fn event(&mut self, involved: Involved<'_>, reason: &str, message: &str, warning: bool, component: &str, at: Timestamp) {
        let namespace = if involved.namespace.is_empty() { "default" } else { involved.namespace }.to_string();
        let key = (namespace.clone(), format!("{}/{}", involved.kind, involved.name), reason.to_string());
        if let Some(name) = self.events.get(&key) {
            let bumped = self.sim.store.update(&EVENTS, &namespace, name, |e| {
                e["count"] = json!(e["count"].as_u64().unwrap_or(1) + 1);
                e["lastTimestamp"] = json!(rfc3339(at));
                e["message"] = json!(message);
            });
            if bumped.is_ok() {
                return;
            }
        }
        let name = format!("{}.{}", involved.name, self.rng.hex(16));
        let spec = EventSpec { name: &name, involved, reason, message, warning, component };
        if self.sim.store.create(&EVENTS, objects::event(&spec, at)).is_ok() {
            self.events.insert(key.clone(), name);
            self.event_ages.push_back((at, key));
        }
        self.expire_events(at);
    }

    /// Deletes events older than the TTL.
    fn expire_events(&mut self, now: Timestamp) {
        let horizon = after(now, -EVENT_TTL_SECONDS);
        while self.event_ages.front().is_some_and(|(t, _)| *t < horizon) || self.event_ages.len() > MAX_EVENTS {
            let Some((_, key)) = self.event_ages.pop_front() else { break };
            if let Some(name) = self.events.remove(&key) {
                let _ = self.sim.store.delete(&EVENTS, &key.0, &name);
            }
        }
    }

    // Each argument is one field of the event as the kubelet or scheduler writes it.
    #[allow(clippy::too_many_arguments)]
    fn pod_event(&mut self, namespace: &str, pod: &str, reason: &str, message: &str, warning: bool, component: &str, at: Timestamp) {
        let uid = self
            .sim
            .store
            .get(&PODS, namespace, pod)
            .map(|p| p["metadata"]["uid"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        let involved = Involved { api_version: "v1", kind: "Pod", namespace, name: pod, uid: &uid };
        self.event(involved, reason, message, warning, component, at);
    }

    fn app_event(&mut self, i: usize, reason: &str, message: &str, warning: bool, at: Timestamp) {
        let t = self.template(i);
        if t.launcher != Launcher::Operator {
            return;
        }
        let (namespace, name) = (t.namespace.clone(), self.runs[i].job_name.clone());
        let uid = self
            .sim
            .store
            .get(&SPARK_APPLICATIONS, &namespace, &name)
            .map(|a| a["metadata"]["uid"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        let involved = Involved {
            api_version: "sparkoperator.k8s.io/v1beta2",
            kind: "SparkApplication",
            namespace: &namespace,
            name: &name,
            uid: &uid,
        };
        self.event(involved, reason, message, warning, "spark-operator", at);
    }

    /// Edits the status of run `i`'s SparkApplication (nothing for spark-submit runs).
    fn app_status(&self, i: usize, edit: impl FnOnce(&mut Value)) {
        let run = &self.runs[i];
        let t = &self.scenario.templates[run.template];
        if t.launcher == Launcher::Operator {
            let _ = self.sim.store.update(&SPARK_APPLICATIONS, &t.namespace, &run.job_name, |app| edit(&mut app["status"]));
        }
    }

    /// Logs and scheduling retries between the last moment written and `until`.
    fn chatter(&mut self, i: usize, until: Timestamp) {
        let from = self.runs[i].chatter_until;
        if until <= from {
            return;
        }
        self.runs[i].chatter_until = until;
        let elapsed = seconds_between(from, until);
        let rate = self.scenario.log_rate;
        if rate > 0.0 && self.runs[i].driver_running {
            let n = (elapsed * DRIVER_LINES_PER_SECOND * rate + self.rng.unit()) as u64;
            let executors = self.template(i).executors;
            let driver = self.runs[i].driver_pod.clone();
            self.spread(i, &driver, DRIVER_CONTAINER, from, elapsed, n, |at, line| text::driver_progress(at, line, executors));
        }
        for e in 0..self.runs[i].executors.len() {
            if rate == 0.0 || !self.runs[i].executors[e].running {
                continue;
            }
            let n = (elapsed * EXECUTOR_LINES_PER_SECOND * rate + self.rng.unit()) as u64;
            let name = self.runs[i].executors[e].name.clone();
            self.spread(i, &name, EXECUTOR_CONTAINER, from, elapsed, n, text::executor_progress);
        }
        let stuck = self.runs[i].node.is_none() && self.runs[i].last_scheduling_report.is_some();
        if stuck {
            let mut last = self.runs[i].last_scheduling_report.unwrap_or(from);
            while seconds_between(last, until) >= SCHEDULING_RETRY_SECONDS {
                last = after(last, SCHEDULING_RETRY_SECONDS);
                let (ns, pod) = (self.template(i).namespace.clone(), self.runs[i].driver_pod.clone());
                self.pod_event(&ns, &pod, "FailedScheduling", UNSCHEDULABLE, true, "default-scheduler", last);
            }
            self.runs[i].last_scheduling_report = Some(last);
        }
    }

    /// Writes `n` lines of chatter to a container, spread over `elapsed` seconds after `from`.
    #[allow(clippy::too_many_arguments)]
    fn spread(
        &mut self,
        i: usize,
        pod: &str,
        container: &str,
        from: Timestamp,
        elapsed: f64,
        n: u64,
        line: impl Fn(Timestamp, u64) -> String,
    ) {
        if n == 0 {
            return;
        }
        let buffer = self.sim.logs.current(&self.scenario.templates[self.runs[i].template].namespace, pod, container);
        for k in 0..n {
            let at = after(from, elapsed * (k as f64 + self.rng.unit()) / n as f64);
            self.runs[i].lines += 1;
            buffer.push(at, &line(at, self.runs[i].lines));
        }
    }

    fn apply(&mut self, i: usize, step: Step, at: Timestamp) {
        let t = self.template(i).clone();
        let operator = t.launcher == Launcher::Operator;
        let ns = t.namespace.as_str();
        let store = self.sim.store.clone();
        let (job_name, driver_pod, app_id, prefix) = {
            let run = &self.runs[i];
            (run.job_name.clone(), run.driver_pod.clone(), run.app_id.clone(), run.prefix.clone())
        };
        match step {
            Step::CreateApp if operator => {
                let mut labels = job_labels(&t, &self.runs[i]);
                let scheduled = t.scheduled.then(|| store.get(&SCHEDULED_SPARK_APPLICATIONS, ns, &t.name).ok()).flatten();
                if scheduled.is_some() {
                    labels["sparkoperator.k8s.io/scheduled-app-name"] = json!(t.name);
                }
                let spec = AppSpec {
                    namespace: ns,
                    name: &job_name,
                    labels: &labels,
                    driver: DRIVER_SIZE,
                    executor: t.executor,
                    instances: t.executors,
                    main_file: main_file(&t),
                    python: t.python,
                    max_executors: t.dynamic.then(|| t.executors + extra_executors(&t)),
                };
                let mut app = objects::spark_application(&spec, at);
                if let Some(parent) = &scheduled {
                    app["metadata"]["ownerReferences"] = json!([{
                        "apiVersion": "sparkoperator.k8s.io/v1beta2", "kind": "ScheduledSparkApplication",
                        "name": t.name, "uid": parent["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true
                    }]);
                    let _ = store.update(&SCHEDULED_SPARK_APPLICATIONS, ns, &t.name, |s| {
                        s["status"]["lastRun"] = json!(rfc3339(at));
                        s["status"]["lastRunName"] = json!(job_name);
                        s["status"]["nextRun"] = json!(rfc3339(after(at, t.run_seconds + t.linger_seconds)));
                    });
                }
                let _ = store.create(&SPARK_APPLICATIONS, app);
                self.operator_log(at, ns, &job_name, "", "SparkApplication added, enqueuing it for submission");
                self.app_event(
                    i,
                    "SparkApplicationAdded",
                    &format!("SparkApplication {job_name} was added, enqueuing it for submission"),
                    false,
                    at,
                );
            }
            Step::Submit => {
                let submission_id = self.runs[i].submission_id.clone();
                self.app_status(i, |s| {
                    *s = json!({
                        "applicationState": {"state": "SUBMITTED"},
                        "submissionID": submission_id,
                        "lastSubmissionAttemptTime": rfc3339(at),
                        "terminationTime": null,
                        "submissionAttempts": 1,
                        "executionAttempts": 0,
                        "driverInfo": {"podName": driver_pod, "webUIServiceName": format!("{job_name}-ui-svc"), "webUIPort": 4040, "webUIAddress": "172.20.14.7:4040"}
                    });
                });
                if let Ok(app) = store.get(&SPARK_APPLICATIONS, ns, &job_name) {
                    let owner = Owner {
                        api_version: "sparkoperator.k8s.io/v1beta2",
                        kind: "SparkApplication",
                        name: &job_name,
                        uid: app["metadata"]["uid"].as_str().unwrap_or_default(),
                    };
                    let _ = store.create(&SERVICES, objects::ui_service(ns, &job_name, &app_id, &owner, at));
                    self.operator_log(at, ns, &job_name, "SUBMITTED", "SparkApplication submitted");
                    self.app_event(
                        i,
                        "SparkApplicationSubmitted",
                        &format!("SparkApplication {job_name} was submitted successfully"),
                        false,
                        at,
                    );
                }
            }
            Step::SubmissionFail => {
                let message = format!(
                    "failed to run spark-submit for SparkApplication {ns}/{job_name}: Exception in thread \"main\" org.apache.spark.SparkException: Must specify the driver container image"
                );
                self.app_status(i, |s| {
                    *s = json!({
                        "applicationState": {"state": "SUBMISSION_FAILED", "errorMessage": message},
                        "lastSubmissionAttemptTime": rfc3339(at),
                        "terminationTime": rfc3339(at),
                        "submissionAttempts": 1,
                        "driverInfo": {}
                    });
                });
                self.operator_log(at, ns, &job_name, "SUBMISSION_FAILED", "Failed to submit SparkApplication");
                self.app_event(
                    i,
                    "SparkApplicationSubmissionFailed",
                    &format!("failed to submit SparkApplication {job_name}: {message}"),
                    true,
                    at,
                );
                self.record_scheduled_result(i, false);
            }
            Step::CreateDriver => self.create_driver(i, &t, at),
            Step::DriverRunning => {
                let ip = self.pod_ip();
                let _ = store.update(&PODS, ns, &driver_pod, |p| objects::set_running(p, &ip, at));
                self.runs[i].driver_running = true;
                if let Some(drivers) = self.real_drivers.as_mut().filter(|_| wants_real_driver(&t)) {
                    drivers.start(ns, &driver_pod, &job_name);
                }
                self.container_started_events(ns, &driver_pod, DRIVER_CONTAINER, at);
                let ui = format!("{prefix}-driver-svc.{ns}.svc");
                self.log(ns, &driver_pod, DRIVER_CONTAINER, at, &text::driver_start(at, &t.name, main_file(&t), t.executors, &ui));
                self.app_status(i, |s| {
                    s["applicationState"] = json!({"state": "RUNNING"});
                    s["sparkApplicationId"] = json!(app_id);
                    s["executionAttempts"] = json!(1);
                });
                self.operator_log(at, ns, &job_name, "RUNNING", "Driver pod is running");
                self.app_event(i, "SparkDriverRunning", &format!("Driver {driver_pod} is running"), false, at);
            }
            Step::CreateExecutors => {
                for _ in 0..t.executors {
                    self.create_executor(i, &t, at);
                }
            }
            Step::ExecutorsRunning => {
                for e in 0..self.runs[i].executors.len() {
                    self.start_executor(i, e, at);
                }
            }
            Step::OomExecutor => {
                if let Some(e) = self.runs[i].executors.iter().position(|e| e.running) {
                    let (name, id, ip) = {
                        let ex = &mut self.runs[i].executors[e];
                        ex.running = false;
                        (ex.name.clone(), ex.id, ex.ip.clone())
                    };
                    self.log(ns, &name, EXECUTOR_CONTAINER, at, &text::executor_memory_pressure(at));
                    self.end_container(ns, &name, EXECUTOR_CONTAINER, |p| objects::set_terminated(p, 137, "OOMKilled", at));
                    self.log(ns, &driver_pod, DRIVER_CONTAINER, at, &text::executor_lost(at, id, &ip));
                    self.app_status(i, |s| s["executorState"][&name] = json!("FAILED"));
                    self.app_event(
                        i,
                        "SparkExecutorFailed",
                        &format!("Executor {name} failed with ExitCode: 137, Reason: OOMKilled"),
                        true,
                        at,
                    );
                }
            }
            Step::ReplaceExecutor => {
                let e = self.create_executor(i, &t, at);
                self.start_executor(i, e, at);
            }
            Step::ScaleUp => {
                let extra = extra_executors(&t);
                let total = t.executors + extra;
                let line = format!(
                    "Requesting {extra} new executors because tasks are backlogged (new desired total will be {total}) for resource profile id: 0"
                );
                self.log(ns, &driver_pod, DRIVER_CONTAINER, at, &[text::log4j(at, "INFO", "ExecutorAllocationManager", &line)]);
                for _ in 0..extra {
                    let e = self.create_executor(i, &t, at);
                    self.start_executor(i, e, at);
                }
            }
            Step::ScaleDown => {
                let running: Vec<usize> = (0..self.runs[i].executors.len()).filter(|e| self.runs[i].executors[*e].running).collect();
                let surplus = running.len().saturating_sub(t.executors as usize);
                for &e in running.iter().rev().take(surplus) {
                    let (name, id) = (self.runs[i].executors[e].name.clone(), self.runs[i].executors[e].id);
                    self.runs[i].executors[e].running = false;
                    self.log(
                        ns,
                        &driver_pod,
                        DRIVER_CONTAINER,
                        at,
                        &[
                            text::log4j(at, "INFO", "ExecutorAllocationManager", &format!("Requesting to kill executor(s) {id}")),
                            text::log4j(at, "INFO", "ExecutorAllocationManager", &format!("Executors {id} removed due to idle timeout.")),
                        ],
                    );
                    self.log(ns, &name, EXECUTOR_CONTAINER, at, &text::executor_shutdown(at));
                    self.sim.logs.current(ns, &name, EXECUTOR_CONTAINER).finish();
                    let _ = store.delete(&PODS, ns, &name);
                    self.app_status(i, |s| s["executorState"][&name] = json!("COMPLETED"));
                }
            }
            Step::NodeLost => {
                self.stop_real_driver(i);
                self.lose_node(i, at);
            }
            Step::Finish => {
                self.stop_real_driver(i);
                self.finish(i, &t, at);
            }
            Step::RemoveExecutors => {
                // Spark deletes its executor pods as the application ends.
                for name in self.runs[i].executors.iter().map(|e| e.name.clone()).collect::<Vec<_>>() {
                    let _ = store.delete(&PODS, ns, &name);
                }
                self.runs[i].executors.iter_mut().for_each(|e| e.running = false);
            }
            Step::End => {
                self.stop_real_driver(i);
                if let Some(controller) = &self.runs[i].controller_pod {
                    let _ = store.delete(&PODS, ns, controller);
                }
                let deleted =
                    if operator { store.delete(&SPARK_APPLICATIONS, ns, &job_name) } else { store.delete(&PODS, ns, &driver_pod) };
                if let Err(e) = deleted {
                    tracing::debug!(job = %job_name, "end of run: {e}");
                }
            }
            Step::CreateApp => self.create_controller(i, &t, at),
        }
    }

    /// The spark-submit pod of a run without the operator: Airflow's KubernetesPodOperator (it
    /// carries the task's labels) or a plain Job (tied to its Spark pods by a job label).
    fn create_controller(&mut self, i: usize, t: &Template, at: Timestamp) {
        let Some(name) = self.runs[i].controller_pod.clone() else { return };
        let mut labels = job_labels(t, &self.runs[i]);
        if t.airflow.is_some() {
            labels[objects::AIRFLOW_POD_LABEL] = json!("True");
        } else {
            labels[objects::SUBMIT_COMPONENT_LABEL] = json!("spark-submit");
        }
        let (node, ip) = (self.nodes[0].name.clone(), self.pod_ip());
        let ns = t.namespace.clone();
        let _ = self.sim.store.create(&PODS, objects::submitter_pod(&ns, &name, labels, &node, &ip, at));
        let submit = text::log4j(
            at,
            "INFO",
            "SparkKubernetesClientFactory",
            "Auto-configuring K8S client using current context from users K8S config file",
        );
        self.log(&ns, &name, CONTROLLER_CONTAINER, at, &[submit]);
    }

    /// The spark-submit pod exits with its driver (it waits for the app to complete).
    fn end_controller(&mut self, i: usize, succeeded: bool, at: Timestamp) {
        let Some(name) = self.runs[i].controller_pod.clone() else { return };
        let ns = self.template(i).namespace.clone();
        let (exit, reason) = if succeeded { (0, "Completed") } else { (1, "Error") };
        let line = text::log4j(at, "INFO", "LoggingPodStatusWatcherImpl", &format!("Application {} finished.", self.runs[i].job_name));
        self.log(&ns, &name, CONTROLLER_CONTAINER, at, &[line]);
        self.end_container(&ns, &name, CONTROLLER_CONTAINER, |p| objects::set_terminated(p, exit, reason, at));
    }

    fn create_driver(&mut self, i: usize, t: &Template, at: Timestamp) {
        let store = self.sim.store.clone();
        let ns = t.namespace.as_str();
        let run = &self.runs[i];
        let app = if t.launcher == Launcher::Operator { store.get(&SPARK_APPLICATIONS, ns, &run.job_name).ok() } else { None };
        let owner = app.as_ref().map(|a| Owner {
            api_version: "sparkoperator.k8s.io/v1beta2",
            kind: "SparkApplication",
            name: a["metadata"]["name"].as_str().unwrap_or_default(),
            uid: a["metadata"]["uid"].as_str().unwrap_or_default(),
        });
        let spec = PodSpec {
            namespace: ns,
            name: &run.driver_pod,
            labels: pod_labels(t, run, None),
            owner,
            driver: true,
            size: DRIVER_SIZE,
            node: run.node.as_deref(),
            oom_at: (t.outcome == Outcome::DriverOom).then(|| after(run.start, t.run_seconds)),
        };
        let Ok(driver) = store.create(&PODS, objects::pod(&spec, at)) else { return };
        if let Some(node) = run.node.clone() {
            let pod = (ns.to_string(), run.driver_pod.clone(), i);
            self.place(node, pod);
        }
        let run = &self.runs[i];
        let owner =
            Owner { api_version: "v1", kind: "Pod", name: &run.driver_pod, uid: driver["metadata"]["uid"].as_str().unwrap_or_default() };
        let _ = store.create(&SERVICES, objects::driver_service(ns, &run.prefix, &run.app_id, &owner, at));
        let (pod, node) = (run.driver_pod.clone(), run.node.clone());
        match node {
            Some(node) => self.pod_event(
                ns,
                &pod,
                "Scheduled",
                &format!("Successfully assigned {ns}/{pod} to {node}"),
                false,
                "default-scheduler",
                at,
            ),
            None => {
                self.pod_event(ns, &pod, "FailedScheduling", UNSCHEDULABLE, true, "default-scheduler", at);
                self.runs[i].last_scheduling_report = Some(at);
            }
        }
    }

    /// Remembers which node a pod went to; drops pods that are gone once the list grows, so
    /// the index stays the size of what runs.
    fn place(&mut self, node: String, pod: Placed) {
        let store = self.sim.store.clone();
        let placed = self.pods_by_node.entry(node).or_default();
        placed.push(pod);
        if placed.len() >= 64 && placed.len().is_power_of_two() {
            placed.retain(|(ns, name, _)| store.get(&PODS, ns, name).is_ok());
        }
    }

    fn container_started_events(&mut self, ns: &str, pod: &str, container: &str, at: Timestamp) {
        self.pod_event(ns, pod, "Pulled", "Container image \"spark:4.0.1\" already present on machine", false, "kubelet", at);
        self.pod_event(ns, pod, "Created", &format!("Created container: {container}"), false, "kubelet", at);
        self.pod_event(ns, pod, "Started", &format!("Started container {container}"), false, "kubelet", at);
    }

    /// A new executor pod, Pending; returns its index in the run.
    fn create_executor(&mut self, i: usize, t: &Template, at: Timestamp) -> usize {
        let store = self.sim.store.clone();
        let run = &self.runs[i];
        let id = run.executors.len() + 1;
        let name = format!("{}-exec-{id}", run.prefix);
        let driver = store.get(&PODS, &t.namespace, &run.driver_pod).ok();
        let owner = driver.as_ref().map(|d| Owner {
            api_version: "v1",
            kind: "Pod",
            name: d["metadata"]["name"].as_str().unwrap_or_default(),
            uid: d["metadata"]["uid"].as_str().unwrap_or_default(),
        });
        let node = self.nodes[self.rng.below(self.nodes.len())].name.clone();
        let spec = PodSpec {
            namespace: &t.namespace,
            name: &name,
            labels: pod_labels(t, &self.runs[i], Some(id)),
            owner,
            driver: false,
            size: t.executor,
            node: Some(&node),
            // The first executor is the one OOM-killed half-way (the first that runs then).
            oom_at: (t.outcome == Outcome::ExecutorOom && id == 1).then(|| after(self.runs[i].start, t.run_seconds / 2.0)),
        };
        let _ = store.create(&PODS, objects::pod(&spec, at));
        self.place(node.clone(), (t.namespace.clone(), name.clone(), i));
        self.pod_event(
            &t.namespace,
            &name,
            "Scheduled",
            &format!("Successfully assigned {}/{name} to {node}", t.namespace),
            false,
            "default-scheduler",
            at,
        );
        self.runs[i].executors.push(Executor { name, id, ip: String::new(), running: false });
        self.runs[i].executors.len() - 1
    }

    fn start_executor(&mut self, i: usize, e: usize, at: Timestamp) {
        let ip = self.pod_ip();
        let ns = self.template(i).namespace.clone();
        let name = self.runs[i].executors[e].name.clone();
        let id = self.runs[i].executors[e].id;
        if self.sim.store.update(&PODS, &ns, &name, |p| objects::set_running(p, &ip, at)).is_err() {
            return;
        }
        self.runs[i].executors[e].running = true;
        self.runs[i].executors[e].ip = ip.clone();
        self.container_started_events(&ns, &name, EXECUTOR_CONTAINER, at);
        let driver_service = format!("{}-driver-svc.{ns}.svc", self.runs[i].prefix);
        self.log(&ns, &name, EXECUTOR_CONTAINER, at, &text::executor_start(at, id, &ip, &driver_service));
        self.app_status(i, |s| s["executorState"][&name] = json!("RUNNING"));
        self.app_event(i, "SparkExecutorRunning", &format!("Executor {name} is running"), false, at);
    }

    /// Ends a container: its pod's status, and the end of its log for followers.
    fn end_container(&self, ns: &str, pod: &str, container: &str, edit: impl FnOnce(&mut Value)) {
        let _ = self.sim.store.update(&PODS, ns, pod, edit);
        self.sim.logs.current(ns, pod, container).finish();
    }

    fn finish(&mut self, i: usize, t: &Template, at: Timestamp) {
        let (exit, reason) = match t.outcome {
            Outcome::DriverError => (1, "Error"),
            Outcome::DriverOom => (137, "OOMKilled"),
            _ => (0, "Completed"),
        };
        let ns = t.namespace.clone();
        let (driver_pod, job_name) = (self.runs[i].driver_pod.clone(), self.runs[i].job_name.clone());
        let last_words = match (exit, t.python) {
            (0, _) => text::driver_success(at),
            (137, _) => text::driver_out_of_memory(at),
            (_, true) => text::python_failure(at, &format!("s3a://lake/{}/input/", t.name)),
            (_, false) => text::java_failure(at),
        };
        self.log(&ns, &driver_pod, DRIVER_CONTAINER, at, &last_words);
        for e in 0..self.runs[i].executors.len() {
            if !self.runs[i].executors[e].running {
                continue;
            }
            self.runs[i].executors[e].running = false;
            let name = self.runs[i].executors[e].name.clone();
            self.log(&ns, &name, EXECUTOR_CONTAINER, at, &text::executor_shutdown(at));
            self.end_container(&ns, &name, EXECUTOR_CONTAINER, |p| objects::set_terminated(p, 0, "Completed", at));
            let state = if exit == 0 { "COMPLETED" } else { "FAILED" };
            self.app_status(i, |s| s["executorState"][&name] = json!(state));
        }
        self.runs[i].driver_running = false;
        self.end_container(&ns, &driver_pod, DRIVER_CONTAINER, |p| objects::set_terminated(p, exit, reason, at));
        self.end_controller(i, exit == 0, at);
        if t.launcher == Launcher::Operator {
            let failed = exit != 0;
            self.app_status(i, |s| {
                s["terminationTime"] = json!(rfc3339(at));
                s["applicationState"] = if failed {
                    json!({"state": "FAILED", "errorMessage": format!("driver container failed with ExitCode: {exit}, Reason: {reason}")})
                } else {
                    json!({"state": "COMPLETED"})
                };
            });
            let (state, driver_reason, app_reason) = if failed {
                ("FAILED", "SparkDriverFailed", "SparkApplicationFailed")
            } else {
                ("COMPLETED", "SparkDriverCompleted", "SparkApplicationCompleted")
            };
            self.operator_log(at, &ns, &job_name, state, "SparkApplication finished");
            let driver_message = if failed {
                format!("Driver {driver_pod} failed with ExitCode: {exit}, Reason: {reason}")
            } else {
                format!("Driver {driver_pod} completed")
            };
            self.app_event(i, driver_reason, &driver_message, failed, at);
            self.app_event(
                i,
                app_reason,
                &format!("SparkApplication {job_name} {}", if failed { "failed" } else { "completed" }),
                failed,
                at,
            );
            self.record_scheduled_result(i, !failed);
        }
    }

    /// The spot node under run `i`'s driver is reclaimed: the node goes, every pod on it fails,
    /// and Karpenter brings up a replacement.
    fn lose_node(&mut self, i: usize, at: Timestamp) {
        let Some(node) = self.runs[i].node.clone() else { return };
        let store = self.sim.store.clone();
        let (ns, driver) = (self.template(i).namespace.clone(), self.runs[i].driver_pod.clone());
        self.log(
            &ns,
            &driver,
            DRIVER_CONTAINER,
            at,
            &[text::log4j(at, "WARN", "SparkContext", "Received SIGTERM: the node is shutting down")],
        );
        let uid = store.get(&NODES, "", &node).map(|n| n["metadata"]["uid"].as_str().unwrap_or_default().to_string()).unwrap_or_default();
        let involved = Involved { api_version: "v1", kind: "Node", namespace: "", name: &node, uid: &uid };
        self.event(involved, "SpotInterrupted", "Spot interruption warning was triggered", true, "karpenter", after(at, -120.0));
        // Every running pod on the node fails, other jobs' executors too.
        for (ns, name, run) in self.pods_by_node.remove(&node).unwrap_or_default() {
            let Ok(pod) = store.get(&PODS, &ns, &name) else { continue };
            if pod["spec"]["nodeName"].as_str() != Some(node.as_str()) || pod["status"]["phase"] != "Running" {
                continue;
            }
            let container = pod["spec"]["containers"][0]["name"].as_str().unwrap_or_default();
            self.end_container(&ns, &name, container, |p| objects::set_node_lost(p, at));
            let Some(run) = self.runs.get_mut(run) else { continue };
            if run.driver_pod == name {
                run.driver_running = false;
            }
            run.executors.iter_mut().filter(|e| e.name == name).for_each(|e| e.running = false);
        }
        // The job's other executors lose their driver and exit.
        for e in 0..self.runs[i].executors.len() {
            if !self.runs[i].executors[e].running {
                continue;
            }
            self.runs[i].executors[e].running = false;
            let (ns, name) = (self.template(i).namespace.clone(), self.runs[i].executors[e].name.clone());
            let line = text::log4j(
                at,
                "ERROR",
                "CoarseGrainedExecutorBackend",
                "Executor self-exiting due to : Driver disassociated! Shutting down.",
            );
            self.log(&ns, &name, EXECUTOR_CONTAINER, at, &[line]);
            self.end_container(&ns, &name, EXECUTOR_CONTAINER, |p| objects::set_terminated(p, 1, "Error", at));
        }
        let _ = store.delete(&NODES, "", &node);
        self.end_controller(i, false, at);
        let t = self.template(i).clone();
        let driver_pod = self.runs[i].driver_pod.clone();
        let job_name = self.runs[i].job_name.clone();
        if t.launcher == Launcher::Operator {
            let message = "driver container failed with ExitCode: 143, Reason: Error".to_string();
            self.app_status(i, |s| {
                s["terminationTime"] = json!(rfc3339(at));
                s["applicationState"] = json!({"state": "FAILED", "errorMessage": message});
            });
            self.operator_log(at, &t.namespace, &job_name, "FAILED", "SparkApplication finished");
            self.app_event(i, "SparkDriverFailed", &format!("Driver {driver_pod} failed with ExitCode: 143, Reason: Error"), true, at);
            self.record_scheduled_result(i, false);
        }
        // Karpenter's replacement, under a new name.
        let spec = super::scenario::node(self.nodes_made, true);
        self.nodes_made += 1;
        let _ = store.create(&NODES, objects::node(&spec, after(at, 30.0)));
        self.nodes.retain(|n| n.name != node);
        self.nodes.push(spec);
    }

    fn record_scheduled_result(&self, i: usize, succeeded: bool) {
        let t = self.template(i);
        if !t.scheduled {
            return;
        }
        let name = self.runs[i].job_name.clone();
        let field = if succeeded { "pastSuccessfulRunNames" } else { "pastFailedRunNames" };
        let _ = self.sim.store.update(&SCHEDULED_SPARK_APPLICATIONS, &t.namespace, &t.name, |s| {
            let mut past: Vec<Value> = s["status"][field].as_array().cloned().unwrap_or_default();
            past.insert(0, json!(name));
            past.truncate(3);
            s["status"][field] = json!(past);
        });
    }
}

/// Jobs that get a real Spark driver when one is free: operator jobs that complete and run
/// long enough for a real driver to come up and be looked at.
fn wants_real_driver(t: &Template) -> bool {
    t.outcome == Outcome::Complete && t.run_seconds >= 120.0 && t.launcher == Launcher::Operator
}

/// How many executors dynamic allocation adds at its peak.
fn extra_executors(t: &Template) -> u32 {
    t.executors.div_ceil(2)
}

const UNSCHEDULABLE: &str =
    "0/6 nodes are available: 6 Insufficient memory. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.";

fn main_file(t: &Template) -> &'static str {
    if t.python { "s3a://jobs/main.py" } else { "local:///opt/spark/examples/jars/spark-examples.jar" }
}

/// Labels of the SparkApplication (and, through the operator, of its pods), or of a
/// spark-submit run's pods and its controller.
fn job_labels(t: &Template, run: &Run) -> Value {
    let mut labels = json!({"user": t.user, "team": t.namespace});
    if t.launcher == Launcher::SparkSubmit && t.airflow.is_none() {
        labels[objects::JOB_LINK_LABEL] = json!(run.prefix);
    }
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
