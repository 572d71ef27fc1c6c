//! The Spark driver: its pod and service, its start and its last words, and the real Spark
//! drivers that stand behind some running jobs when Spark is installed (so their UI is real).

use super::labels::pod_labels;
use super::nodes::UNSCHEDULABLE;
use super::plan::{main_file, wants_real_driver};
use super::{DRIVER_CONTAINER, DRIVER_SIZE, EXECUTOR_CONTAINER, REAL_DRIVER, Workload};
use crate::clock::after;
use crate::objects::{self, Owner, PodSpec, SPARK_APP_SELECTOR};
use crate::resources::{PODS, SERVICES, SPARK_APPLICATIONS};
use crate::scenario::{Launcher, Outcome, Template};
use crate::spark_driver::RealDrivers;
use crate::spark_logs as text;
use jiff::Timestamp;
use serde_json::json;

impl Workload {
    /// The driver pod, Pending on its node (or unschedulable), and its headless service.
    pub(super) fn create_driver(&mut self, i: usize, t: &Template, at: Timestamp) {
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

    /// The driver runs: its first log lines, a real driver behind it when one is free, and the
    /// application RUNNING.
    pub(super) fn driver_running(&mut self, i: usize, t: &Template, at: Timestamp) {
        let ns = t.namespace.as_str();
        let run = &self.runs[i];
        let (job_name, driver_pod, app_id, prefix) = (run.job_name.clone(), run.driver_pod.clone(), run.app_id.clone(), run.prefix.clone());
        let ip = self.pod_ip();
        let _ = self.sim.store.update(&PODS, ns, &driver_pod, |p| objects::set_running(p, &ip, at));
        self.runs[i].driver_running = true;
        if let Some(drivers) = self.real_drivers.as_mut().filter(|_| wants_real_driver(t)) {
            drivers.start(ns, &driver_pod, &job_name);
        }
        self.container_started_events(ns, &driver_pod, DRIVER_CONTAINER, at);
        let ui = format!("{prefix}-driver-svc.{ns}.svc");
        self.log(ns, &driver_pod, DRIVER_CONTAINER, at, &text::driver_start(at, &t.name, main_file(t), t.executors, &ui));
        self.app_status(i, |s| {
            s["applicationState"] = json!({"state": "RUNNING"});
            s["sparkApplicationId"] = json!(app_id);
            s["executionAttempts"] = json!(1);
        });
        self.operator_log(at, ns, &job_name, "RUNNING", "Driver pod is running");
        self.app_event(i, "SparkDriverRunning", &format!("Driver {driver_pod} is running"), false, at);
    }

    /// The application ends as its template says: the driver's last words and exit, its
    /// executors shut down, the submitter exits, and the operator reports it.
    pub(super) fn finish(&mut self, i: usize, t: &Template, at: Timestamp) {
        self.stop_real_driver(i);
        let (exit, reason) = match t.outcome {
            Outcome::DriverError => (1, "Error"),
            Outcome::DriverOom => (137, "OOMKilled"),
            _ => (0, "Completed"),
        };
        let ns = t.namespace.clone();
        let driver_pod = self.runs[i].driver_pod.clone();
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
        self.report_end(i, t, exit, reason, at);
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
    pub(super) fn attach_real_drivers(&mut self) {
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

    pub(super) fn stop_real_driver(&mut self, i: usize) {
        let ns = self.template(i).namespace.clone();
        let pod = self.runs[i].driver_pod.clone();
        if let Some(drivers) = self.real_drivers.as_mut() {
            drivers.stop(&ns, &pod);
        }
    }
}
