//! spark-operator: its CRDs and controller pod, and what it does to a SparkApplication (create,
//! submit, fail to submit, report the driver's end, delete), with its log lines and events as
//! the real operator writes them. Runs launched by spark-submit skip all of it.

use super::labels::job_labels;
use super::plan::{extra_executors, main_file};
use super::{DRIVER_SIZE, OPERATOR_CONTAINER, OPERATOR_NAMESPACE, OPERATOR_POD, Workload};
use crate::clock::after;
use crate::objects::{self, AppSpec, Owner};
use crate::resources::{CUSTOM_RESOURCE_DEFINITIONS, PODS, SCHEDULED_SPARK_APPLICATIONS, SERVICES, SPARK_APPLICATIONS};
use crate::scenario::{Launcher, Template};
use crate::spark_logs as text;
use crate::store::rfc3339;
use jiff::Timestamp;
use serde_json::{Value, json};

impl Workload {
    /// The operator's CRDs, the scheduled applications, and its controller pod: it crashed once
    /// a day ago (its previous log says why) and has run since.
    pub(super) fn install_operator(&mut self, boot: Timestamp, now: Timestamp) {
        let store = self.sim.store.clone();
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

    /// The run's SparkApplication appears (its ScheduledSparkApplication's child, when it has
    /// one) and the operator enqueues it.
    pub(super) fn create_app(&mut self, i: usize, t: &Template, at: Timestamp) {
        let store = self.sim.store.clone();
        let ns = t.namespace.as_str();
        let job_name = self.runs[i].job_name.clone();
        let mut labels = job_labels(t, &self.runs[i]);
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
            main_file: main_file(t),
            python: t.python,
            max_executors: t.dynamic.then(|| t.executors + extra_executors(t)),
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

    /// The operator runs spark-submit: the application is SUBMITTED and its UI service made.
    pub(super) fn submit(&mut self, i: usize, t: &Template, at: Timestamp) {
        let store = self.sim.store.clone();
        let ns = t.namespace.as_str();
        let run = &self.runs[i];
        let (job_name, driver_pod, app_id, submission_id) =
            (run.job_name.clone(), run.driver_pod.clone(), run.app_id.clone(), run.submission_id.clone());
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
            self.app_event(i, "SparkApplicationSubmitted", &format!("SparkApplication {job_name} was submitted successfully"), false, at);
        }
    }

    /// spark-submit fails before any pod exists: SUBMISSION_FAILED, with Spark's message.
    pub(super) fn submission_fail(&mut self, i: usize, t: &Template, at: Timestamp) {
        let ns = t.namespace.as_str();
        let job_name = self.runs[i].job_name.clone();
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

    /// The driver's end as the operator reports it: the application's final state, its log
    /// line and events, and the scheduled application's history.
    pub(super) fn report_end(&mut self, i: usize, t: &Template, exit: i32, reason: &str, at: Timestamp) {
        if t.launcher != Launcher::Operator {
            return;
        }
        let (driver_pod, job_name) = (self.runs[i].driver_pod.clone(), self.runs[i].job_name.clone());
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
        self.operator_log(at, &t.namespace, &job_name, state, "SparkApplication finished");
        let driver_message = if failed {
            format!("Driver {driver_pod} failed with ExitCode: {exit}, Reason: {reason}")
        } else {
            format!("Driver {driver_pod} completed")
        };
        self.app_event(i, driver_reason, &driver_message, failed, at);
        let verb = if failed { "failed" } else { "completed" };
        self.app_event(i, app_reason, &format!("SparkApplication {job_name} {verb}"), failed, at);
        self.record_scheduled_result(i, !failed);
    }

    /// The run's end: its owner deletes what is left (the SparkApplication, whose pods and
    /// services go with it by owner reference; or the spark-submit run's driver and submitter).
    pub(super) fn end_run(&mut self, i: usize, t: &Template) {
        self.stop_real_driver(i);
        let store = self.sim.store.clone();
        let ns = t.namespace.as_str();
        let run = &self.runs[i];
        if let Some(controller) = &run.controller_pod {
            let _ = store.delete(&PODS, ns, controller);
        }
        let deleted = if t.launcher == Launcher::Operator {
            store.delete(&SPARK_APPLICATIONS, ns, &run.job_name)
        } else {
            store.delete(&PODS, ns, &run.driver_pod)
        };
        if let Err(e) = deleted {
            tracing::debug!(job = %run.job_name, "end of run: {e}");
        }
    }

    /// The run's SparkApplication was deleted by a client, not by the engine.
    pub(super) fn deleted_by_someone_else(&self, i: usize) -> bool {
        let t = self.template(i);
        t.launcher == Launcher::Operator && self.sim.store.get(&SPARK_APPLICATIONS, &t.namespace, &self.runs[i].job_name).is_err()
    }

    pub(super) fn operator_log(&self, at: Timestamp, namespace: &str, name: &str, state: &str, message: &str) {
        let line = text::operator(at, "INFO", "sparkapplication/controller.go:113", message, namespace, name, state);
        self.log(OPERATOR_NAMESPACE, OPERATOR_POD, OPERATOR_CONTAINER, at, &[line]);
    }

    /// Edits the status of run `i`'s SparkApplication (nothing for spark-submit runs).
    pub(super) fn app_status(&self, i: usize, edit: impl FnOnce(&mut Value)) {
        let run = &self.runs[i];
        let t = &self.scenario.templates[run.template];
        if t.launcher == Launcher::Operator {
            let _ = self.sim.store.update(&SPARK_APPLICATIONS, &t.namespace, &run.job_name, |app| edit(&mut app["status"]));
        }
    }

    /// Adds the run to its ScheduledSparkApplication's last three successful or failed runs.
    pub(super) fn record_scheduled_result(&self, i: usize, succeeded: bool) {
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
