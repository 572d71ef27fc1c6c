//! Spark's executors: created with the driver as their owner, started, OOM-killed and replaced,
//! added and removed by dynamic allocation, and deleted by Spark as the application ends.

use super::labels::pod_labels;
use super::plan::{Executor, extra_executors};
use super::{DRIVER_CONTAINER, EXECUTOR_CONTAINER, Workload};
use crate::clock::after;
use crate::objects::{self, Owner, PodSpec};
use crate::resources::PODS;
use crate::scenario::{Outcome, Template};
use crate::spark_logs as text;
use jiff::Timestamp;
use serde_json::json;

impl Workload {
    /// The template's executors, Pending.
    pub(super) fn create_executors(&mut self, i: usize, t: &Template, at: Timestamp) {
        for _ in 0..t.executors {
            self.create_executor(i, t, at);
        }
    }

    /// Every executor created so far starts.
    pub(super) fn executors_running(&mut self, i: usize, at: Timestamp) {
        for e in 0..self.runs[i].executors.len() {
            self.start_executor(i, e, at);
        }
    }

    /// The first running executor goes over its memory limit: the kernel kills it (137), the
    /// driver loses it, the operator reports it.
    pub(super) fn oom_executor(&mut self, i: usize, t: &Template, at: Timestamp) {
        let Some(e) = self.runs[i].executors.iter().position(|e| e.running) else { return };
        let ns = t.namespace.as_str();
        let driver_pod = self.runs[i].driver_pod.clone();
        let (name, id, ip) = {
            let ex = &mut self.runs[i].executors[e];
            ex.running = false;
            (ex.name.clone(), ex.id, ex.ip.clone())
        };
        self.log(ns, &name, EXECUTOR_CONTAINER, at, &text::executor_memory_pressure(at));
        self.end_container(ns, &name, EXECUTOR_CONTAINER, |p| objects::set_terminated(p, 137, "OOMKilled", at));
        self.log(ns, &driver_pod, DRIVER_CONTAINER, at, &text::executor_lost(at, id, &ip));
        self.app_status(i, |s| s["executorState"][&name] = json!("FAILED"));
        self.app_event(i, "SparkExecutorFailed", &format!("Executor {name} failed with ExitCode: 137, Reason: OOMKilled"), true, at);
    }

    /// Spark asks for a new executor in place of a lost one.
    pub(super) fn replace_executor(&mut self, i: usize, t: &Template, at: Timestamp) {
        let e = self.create_executor(i, t, at);
        self.start_executor(i, e, at);
    }

    /// Dynamic allocation: tasks back up, more executors come.
    pub(super) fn scale_up(&mut self, i: usize, t: &Template, at: Timestamp) {
        let extra = extra_executors(t);
        let total = t.executors + extra;
        let line = format!(
            "Requesting {extra} new executors because tasks are backlogged (new desired total will be {total}) for resource profile id: 0"
        );
        let driver_pod = self.runs[i].driver_pod.clone();
        self.log(&t.namespace, &driver_pod, DRIVER_CONTAINER, at, &[text::log4j(at, "INFO", "ExecutorAllocationManager", &line)]);
        for _ in 0..extra {
            let e = self.create_executor(i, t, at);
            self.start_executor(i, e, at);
        }
    }

    /// Dynamic allocation: the executors beyond the template's idle out and Spark deletes them,
    /// newest first.
    pub(super) fn scale_down(&mut self, i: usize, t: &Template, at: Timestamp) {
        let ns = t.namespace.as_str();
        let driver_pod = self.runs[i].driver_pod.clone();
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
            let _ = self.sim.store.delete(&PODS, ns, &name);
            self.app_status(i, |s| s["executorState"][&name] = json!("COMPLETED"));
        }
    }

    /// Spark deletes its executor pods as the application ends.
    pub(super) fn remove_executors(&mut self, i: usize, t: &Template) {
        for name in self.runs[i].executors.iter().map(|e| e.name.clone()).collect::<Vec<_>>() {
            let _ = self.sim.store.delete(&PODS, &t.namespace, &name);
        }
        self.runs[i].executors.iter_mut().for_each(|e| e.running = false);
    }

    /// A new executor pod, Pending on a node of the scheduler's choice; returns its index in
    /// the run.
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
}
