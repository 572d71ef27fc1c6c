//! Kubernetes events, as the API server keeps them: one object per reason and involved object,
//! its count raised on repeats, gone after the event TTL.

use super::Workload;
use crate::clock::after;
use crate::objects::{self, EventSpec, Involved};
use crate::resources::{EVENTS, PODS, SPARK_APPLICATIONS};
use crate::scenario::Launcher;
use crate::store::rfc3339;
use jiff::Timestamp;
use serde_json::json;

/// How long events live, as with the API server's default `--event-ttl`.
const EVENT_TTL_SECONDS: f64 = 3600.0;
/// At most this many events are kept (the oldest go first), so that a large simulated
/// cluster's event storm cannot take the machine's memory.
const MAX_EVENTS: usize = 50_000;

impl Workload {
    /// Records an event; the same reason on the same object again raises its count.
    pub(super) fn event(&mut self, involved: Involved<'_>, reason: &str, message: &str, warning: bool, component: &str, at: Timestamp) {
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
    pub(super) fn pod_event(
        &mut self,
        namespace: &str,
        pod: &str,
        reason: &str,
        message: &str,
        warning: bool,
        component: &str,
        at: Timestamp,
    ) {
        let uid = self
            .sim
            .store
            .get(&PODS, namespace, pod)
            .map(|p| p["metadata"]["uid"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        let involved = Involved { api_version: "v1", kind: "Pod", namespace, name: pod, uid: &uid };
        self.event(involved, reason, message, warning, component, at);
    }

    /// An event of spark-operator on run `i`'s SparkApplication (nothing for spark-submit runs).
    pub(super) fn app_event(&mut self, i: usize, reason: &str, message: &str, warning: bool, at: Timestamp) {
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
}
