//! Objects the simulated API serves without storing them as such: events.k8s.io/v1 Events (the
//! core events in their newer shape, as the real API server converts them) and metrics.k8s.io
//! PodMetrics and NodeMetrics, computed from the running pods as metrics-server would report
//! them.

use super::quantity;
use super::store::{Object, rfc3339};
use super::usage::{ContainerUsage, seconds_since, started_at};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

/// The annotation through which the workload tells the metrics how a container's memory
/// behaves: `steady` (the default) or `leak` (climbs to its limit, as before an OOM kill).
pub const MEMORY_PROFILE: &str = "sim.sparkboard.io/memory-profile";
/// When the workload will OOM-kill a leaking container (RFC 3339): its memory reaches the limit
/// then.
pub const OOM_AT: &str = "sim.sparkboard.io/oom-at";

/// A core/v1 Event in events.k8s.io/v1's shape.
pub fn event_v1(core: &Value) -> Value {
    json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": core["metadata"],
        "eventTime": null,
        "reason": core["reason"],
        "note": core["message"],
        "type": core["type"],
        "regarding": core["involvedObject"],
        "action": core["reason"],
        "reportingController": core["reportingComponent"],
        "reportingInstance": core["reportingInstance"],
        "deprecatedCount": core["count"],
        "deprecatedFirstTimestamp": core["firstTimestamp"],
        "deprecatedLastTimestamp": core["lastTimestamp"],
        "deprecatedSource": core["source"],
    })
}

/// How long a metrics-server sample averages CPU over.
const WINDOW_SECONDS: f64 = 15.0;

/// metrics-server's PodMetrics for a running pod; `None` for one that is not running.
pub fn pod_metrics(pod: &Value, now: Timestamp) -> Option<Value> {
    if pod["status"]["phase"] != "Running" {
        return None;
    }
    let containers: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let seconds = seconds_since(started_at(pod, c["name"].as_str()?)?, now);
            let usage = ContainerUsage::of(pod, c);
            let (memory, cpu) = (usage.memory_bytes(seconds), usage.cpu_cores(seconds, WINDOW_SECONDS));
            Some(json!({"name": c["name"], "usage": {"cpu": format!("{}n", (cpu * 1e9) as u64), "memory": format!("{}Ki", (memory / 1024.0) as u64)}}))
        })
        .collect();
    Some(json!({
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"],
            "labels": pod["metadata"]["labels"], "creationTimestamp": rfc3339(now)
        },
        "timestamp": rfc3339(now),
        "window": "15s",
        "containers": containers,
    }))
}

/// NodeMetrics: the sum of its pods' usage plus the system's share.
pub fn node_metrics(node: &Value, pods: &[Object], now: Timestamp) -> Value {
    let name = node["metadata"]["name"].as_str().unwrap_or_default();
    let (mut memory, mut cpu) = (1.5 * 1024f64.powi(3), 0.25);
    for metrics in pods.iter().filter(|p| p["spec"]["nodeName"] == name).filter_map(|p| pod_metrics(p, now)) {
        for c in metrics["containers"].as_array().into_iter().flatten() {
            memory += c["usage"]["memory"].as_str().and_then(quantity::parse).unwrap_or(0.0);
            cpu += c["usage"]["cpu"].as_str().and_then(quantity::parse).unwrap_or(0.0);
        }
    }
    json!({
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {"name": name, "labels": node["metadata"]["labels"], "creationTimestamp": rfc3339(now)},
        "timestamp": rfc3339(now),
        "window": "15s",
        "usage": {"cpu": format!("{}n", (cpu * 1e9) as u64), "memory": format!("{}Ki", (memory / 1024.0) as u64)},
    })
}

/// Wraps computed values as store objects.
pub fn objects(values: impl IntoIterator<Item = Value>) -> Vec<Object> {
    values.into_iter().map(Arc::new).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_running_pods_have_metrics() {
        let now: Timestamp = "2026-11-21T06:10:00Z".parse().unwrap();
        let pod = json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u"}, "status": {"phase": "Running", "startTime": "2026-11-21T06:00:00Z"},
                         "spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": "1Gi"}}}]}});
        let metrics = pod_metrics(&pod, now).unwrap();
        assert_eq!(metrics["containers"][0]["name"], "c");
        assert!(metrics["containers"][0]["usage"]["memory"].as_str().unwrap().ends_with("Ki"));
        let mut done = pod.clone();
        done["status"]["phase"] = json!("Succeeded");
        assert!(pod_metrics(&done, now).is_none());
    }
}
