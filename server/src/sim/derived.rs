//! Objects the simulated API serves without storing them as such: events.k8s.io/v1 Events (the
//! core events in their newer shape, as the real API server converts them) and metrics.k8s.io
//! PodMetrics and NodeMetrics, computed from the running pods as metrics-server would report
//! them.

use super::store::{Object, rfc3339};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

/// The annotation through which the workload tells the metrics how a container's memory
/// behaves: `steady` (the default) or `leak` (climbs to its limit, as before an OOM kill).
pub const MEMORY_PROFILE: &str = "sim.sparkboard.io/memory-profile";

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

/// Parses a Kubernetes quantity of memory (`2432Mi`, `4Gi`, `1000000`) into bytes.
pub fn memory_bytes(quantity: &str) -> Option<f64> {
    let units =
        [("Ki", 1024f64), ("Mi", 1024f64.powi(2)), ("Gi", 1024f64.powi(3)), ("Ti", 1024f64.powi(4)), ("k", 1e3), ("M", 1e6), ("G", 1e9)];
    for (suffix, factor) in units {
        if let Some(number) = quantity.strip_suffix(suffix) {
            return number.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    quantity.parse().ok()
}

/// Parses CPU (`2`, `500m`) into cores.
pub fn cpu_cores(quantity: &str) -> Option<f64> {
    match quantity.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().ok().map(|m| m / 1000.0),
        None => quantity.parse().ok(),
    }
}

/// A stable number in [0, 1) from a pod's uid, so each pod's curve has its own phase.
fn phase_of(uid: &str) -> f64 {
    let hash = uid.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    (hash % 10_000) as f64 / 10_000.0
}

/// What one running container uses `seconds` after it started: memory rises toward a plateau
/// under its limit (or to the limit, for a leak), CPU swings around its request.
fn usage(container: &Value, seconds: f64, phase: f64, leak: bool) -> (f64, f64) {
    let resources = &container["resources"];
    let limit = resources["limits"]["memory"].as_str().and_then(memory_bytes).unwrap_or(2.0 * 1024f64.powi(3));
    let request_cpu = resources["requests"]["cpu"].as_str().and_then(cpu_cores).unwrap_or(1.0);
    let warm = 1.0 - (-seconds / 45.0).exp();
    let memory = if leak { limit * (0.40 + 0.595 * warm) } else { limit * (0.30 + (0.35 + 0.1 * phase) * warm) };
    let wobble = (seconds / 17.0 + phase * std::f64::consts::TAU).sin();
    let cpu = request_cpu * (0.55 + 0.4 * wobble).max(0.02) * warm.max(0.1);
    (memory, cpu)
}

/// metrics-server's PodMetrics for a running pod; `None` for one that is not running.
pub fn pod_metrics(pod: &Value, now: Timestamp) -> Option<Value> {
    if pod["status"]["phase"] != "Running" {
        return None;
    }
    let started: Timestamp = pod["status"]["startTime"].as_str()?.parse().ok()?;
    let seconds = (now.as_second() - started.as_second()).max(0) as f64;
    let phase = phase_of(pod["metadata"]["uid"].as_str().unwrap_or_default());
    let leak = pod["metadata"]["annotations"][MEMORY_PROFILE] == "leak";
    let containers: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let (memory, cpu) = usage(c, seconds, phase, leak);
            json!({"name": c["name"], "usage": {"cpu": format!("{}n", (cpu * 1e9) as u64), "memory": format!("{}Ki", (memory / 1024.0) as u64)}})
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
            memory += c["usage"]["memory"].as_str().and_then(memory_bytes).unwrap_or(0.0);
            cpu += c["usage"]["cpu"].as_str().and_then(|n| n.strip_suffix('n')).and_then(|n| n.parse::<f64>().ok()).unwrap_or(0.0) / 1e9;
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
    fn quantities_parse() {
        assert_eq!(memory_bytes("2432Mi"), Some(2432.0 * 1024.0 * 1024.0));
        assert_eq!(memory_bytes("1000"), Some(1000.0));
        assert_eq!(memory_bytes("lots"), None);
        assert_eq!(cpu_cores("500m"), Some(0.5));
        assert_eq!(cpu_cores("2"), Some(2.0));
    }

    #[test]
    fn a_leaking_container_approaches_its_limit_and_a_steady_one_stays_under() {
        let container = json!({"resources": {"limits": {"memory": "1Gi"}, "requests": {"cpu": "2"}}});
        let limit = 1024f64.powi(3);
        let (leak, _) = usage(&container, 600.0, 0.5, true);
        let (steady, cpu) = usage(&container, 600.0, 0.5, false);
        assert!(leak > 0.98 * limit && leak < limit);
        assert!(steady < 0.8 * limit);
        assert!(cpu > 0.0 && cpu < 2.0);
    }

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
