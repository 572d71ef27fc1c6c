//! The nodes and what runs on them: the namespaces and nodes the cluster boots with, the pod
//! network, which pod went where, the kubelet's container events, and a spot node reclaimed
//! under a running job (every pod on it fails, Karpenter brings up another).

use super::{DRIVER_CONTAINER, EXECUTOR_CONTAINER, OPERATOR_NAMESPACE, Workload};
use crate::clock::after;
use crate::objects::{self, Involved};
use crate::resources::{NAMESPACES, NODES, PODS};
use crate::scenario::Launcher;
use crate::spark_logs as text;
use crate::store::rfc3339;
use jiff::Timestamp;
use serde_json::{Value, json};

/// The scheduler's message for a driver that fits nowhere.
pub(super) const UNSCHEDULABLE: &str =
    "0/6 nodes are available: 6 Insufficient memory. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod.";

/// A pod on a node: namespace, name, and the index of its run.
pub(super) type Placed = (String, String, usize);

impl Workload {
    /// The scenario's namespaces (and the operator's, and `default`) and nodes.
    pub(super) fn install_cluster(&mut self, boot: Timestamp) {
        let store = self.sim.store.clone();
        for ns in self.scenario.namespaces.iter().map(String::as_str).chain([OPERATOR_NAMESPACE, "default"]) {
            let _ = store.create(&NAMESPACES, objects::namespace(ns, boot));
        }
        for node in &self.nodes {
            let _ = store.create(&NODES, objects::node(node, boot));
        }
    }

    /// The simulated pod network is 127.1.0.0/16: loopback, so that a client following a pod's
    /// IP (the dashboard's Spark UI proxy, say) never leaves the machine; nothing listens there
    /// except the real drivers, which get 127.0.0.1.
    pub(super) fn pod_ip(&mut self) -> String {
        self.next_ip += 1;
        format!("127.1.{}.{}", (self.next_ip / 250) % 250, 2 + self.next_ip % 250)
    }

    /// Remembers which node a pod went to; drops pods that are gone once the list grows, so
    /// the index stays the size of what runs.
    pub(super) fn place(&mut self, node: String, pod: Placed) {
        let store = self.sim.store.clone();
        let placed = self.pods_by_node.entry(node).or_default();
        placed.push(pod);
        if placed.len() >= 64 && placed.len().is_power_of_two() {
            placed.retain(|(ns, name, _)| store.get(&PODS, ns, name).is_ok());
        }
    }

    /// The kubelet's events as a container starts.
    pub(super) fn container_started_events(&mut self, ns: &str, pod: &str, container: &str, at: Timestamp) {
        self.pod_event(ns, pod, "Pulled", "Container image \"spark:4.0.1\" already present on machine", false, "kubelet", at);
        self.pod_event(ns, pod, "Created", &format!("Created container: {container}"), false, "kubelet", at);
        self.pod_event(ns, pod, "Started", &format!("Started container {container}"), false, "kubelet", at);
    }

    /// Ends a container: its pod's status, and the end of its log for followers.
    pub(super) fn end_container(&self, ns: &str, pod: &str, container: &str, edit: impl FnOnce(&mut Value)) {
        let _ = self.sim.store.update(&PODS, ns, pod, edit);
        self.sim.logs.current(ns, pod, container).finish();
    }

    /// The spot node under run `i`'s driver is reclaimed: the node goes, every pod on it fails,
    /// and Karpenter brings up a replacement.
    pub(super) fn lose_node(&mut self, i: usize, at: Timestamp) {
        self.stop_real_driver(i);
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
        let spec = crate::scenario::node(self.nodes_made, true);
        self.nodes_made += 1;
        let _ = store.create(&NODES, objects::node(&spec, after(at, 30.0)));
        self.nodes.retain(|n| n.name != node);
        self.nodes.push(spec);
    }
}
