//! The spark-submit pod of a run launched without the operator: Airflow's
//! KubernetesPodOperator (it carries the task's labels) or a plain Job (tied to its Spark pods
//! by a job label). It starts before the driver and exits with it, as spark-submit waits for
//! the application to complete.

use super::labels::job_labels;
use super::{CONTROLLER_CONTAINER, Workload};
use crate::objects;
use crate::resources::PODS;
use crate::scenario::Template;
use crate::spark_logs as text;
use jiff::Timestamp;
use serde_json::json;

impl Workload {
    pub(super) fn create_controller(&mut self, i: usize, t: &Template, at: Timestamp) {
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

    /// The spark-submit pod exits with its driver.
    pub(super) fn end_controller(&mut self, i: usize, succeeded: bool, at: Timestamp) {
        let Some(name) = self.runs[i].controller_pod.clone() else { return };
        let ns = self.template(i).namespace.clone();
        let (exit, reason) = if succeeded { (0, "Completed") } else { (1, "Error") };
        let line = text::log4j(at, "INFO", "LoggingPodStatusWatcherImpl", &format!("Application {} finished.", self.runs[i].job_name));
        self.log(&ns, &name, CONTROLLER_CONTAINER, at, &[line]);
        self.end_container(&ns, &name, CONTROLLER_CONTAINER, |p| objects::set_terminated(p, exit, reason, at));
    }
}
