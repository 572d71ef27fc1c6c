//! The simulated cluster's Prometheus scrape targets, in the text exposition format (0.0.4):
//!
//! - `GET /metrics/cadvisor`: what the kubelet's cAdvisor endpoint serves for running
//!   containers (CPU seconds, working set, CFS periods), plus the pod-level cgroup series
//!   (`container=""`) that real queries must leave out;
//! - `GET /metrics/kube-state-metrics`: what kube-state-metrics v2 serves for every pod
//!   (requests and limits with `resource` and `unit`, termination reasons, restarts).
//!
//! Values come from [`super::usage`] at the simulated clock's now, so a Prometheus scraping the
//! sim every second records the workload as it plays (at speed 1 the simulated and real clocks
//! agree, which is what makes its timestamps line up with the jobs' own).

use super::quantity;
use super::usage::{ContainerUsage, seconds_since, started_at};
use jiff::Timestamp;
use serde_json::Value;
use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Metric families in the order they are written, each with its samples.
#[derive(Default)]
struct Families(BTreeMap<&'static str, (&'static str, &'static str, String)>);

impl Families {
    /// Adds one sample; `labels` are `(name, value)` pairs.
    fn sample(&mut self, family: &'static str, kind: &'static str, help: &'static str, labels: &[(&str, &str)], value: f64) {
        let (_, _, lines) = self.0.entry(family).or_insert_with(|| (kind, help, String::new()));
        lines.push_str(family);
        lines.push('{');
        for (i, (name, label)) in labels.iter().enumerate() {
            if i > 0 {
                lines.push(',');
            }
            let _ = write!(lines, "{name}=\"{}\"", escape(label));
        }
        let _ = writeln!(lines, "}} {value}");
    }

    fn render(self) -> String {
        let mut out = String::new();
        for (family, (kind, help, lines)) in self.0 {
            let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} {kind}");
            out.push_str(&lines);
        }
        out
    }
}

/// A label value as the format quotes it.
fn escape(value: &str) -> String {
    value.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n")
}

fn name_and_namespace(pod: &Value) -> (&str, &str) {
    (pod["metadata"]["name"].as_str().unwrap_or_default(), pod["metadata"]["namespace"].as_str().unwrap_or_default())
}

/// cAdvisor's series for the running containers of `pods` at `now`.
pub fn cadvisor(pods: &[impl Borrow<Value>], now: Timestamp) -> String {
    let mut families = Families::default();
    for pod in pods.iter().map(|p| -> &Value { p.borrow() }).filter(|p| p["status"]["phase"] == "Running") {
        let (name, namespace) = name_and_namespace(pod);
        let (mut pod_cpu, mut pod_memory) = (0.0, 0.0);
        for container in pod["spec"]["containers"].as_array().into_iter().flatten() {
            let Some(container_name) = container["name"].as_str() else { continue };
            let Some(start) = started_at(pod, container_name) else { continue };
            let seconds = seconds_since(start, now);
            let usage = ContainerUsage::of(pod, container);
            let labels = [("namespace", namespace), ("pod", name), ("container", container_name)];
            let (cpu, memory) = (usage.cpu_seconds(seconds), usage.memory_bytes(seconds).round());
            (pod_cpu, pod_memory) = (pod_cpu + cpu, pod_memory + memory);
            families.sample("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.", &labels, cpu);
            families.sample("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", &labels, memory);
            if usage.cpu_limit().is_some() {
                let periods = usage.cfs_periods(seconds) as f64;
                let throttled = usage.cfs_throttled_periods(seconds) as f64;
                families.sample(
                    "container_cpu_cfs_periods_total",
                    "counter",
                    "Number of elapsed enforcement period intervals.",
                    &labels,
                    periods,
                );
                families.sample(
                    "container_cpu_cfs_throttled_periods_total",
                    "counter",
                    "Number of throttled period intervals.",
                    &labels,
                    throttled,
                );
            }
        }
        let labels = [("namespace", namespace), ("pod", name), ("container", "")];
        families.sample("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.", &labels, pod_cpu);
        families.sample("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", &labels, pod_memory);
    }
    families.render()
}

/// kube-state-metrics' pod container series for every pod in `pods`.
pub fn kube_state(pods: &[impl Borrow<Value>]) -> String {
    let mut families = Families::default();
    for pod in pods.iter().map(|p| -> &Value { p.borrow() }) {
        let (name, namespace) = name_and_namespace(pod);
        let statuses = pod["status"]["containerStatuses"].as_array();
        for container in pod["spec"]["containers"].as_array().into_iter().flatten() {
            let Some(container_name) = container["name"].as_str() else { continue };
            for (family, kind, help) in [
                ("kube_pod_container_resource_requests", "requests", "The number of requested request resource by a container."),
                ("kube_pod_container_resource_limits", "limits", "The number of requested limit resource by a container."),
            ] {
                for (resource, unit) in [("cpu", "core"), ("memory", "byte")] {
                    let Some(amount) = container["resources"][kind][resource].as_str().and_then(quantity::parse) else { continue };
                    let labels =
                        [("namespace", namespace), ("pod", name), ("container", container_name), ("resource", resource), ("unit", unit)];
                    families.sample(family, "gauge", help, &labels, amount);
                }
            }
            let Some(status) = statuses.into_iter().flatten().find(|s| s["name"] == container_name) else { continue };
            let labels = [("namespace", namespace), ("pod", name), ("container", container_name)];
            let restarts = status["restartCount"].as_f64().unwrap_or(0.0);
            families.sample(
                "kube_pod_container_status_restarts_total",
                "counter",
                "The number of container restarts per container.",
                &labels,
                restarts,
            );
            for (family, state, help) in [
                (
                    "kube_pod_container_status_terminated_reason",
                    &status["state"],
                    "Describes the reason the container is currently in terminated state.",
                ),
                (
                    "kube_pod_container_status_last_terminated_reason",
                    &status["lastState"],
                    "Describes the last reason the container was in terminated state.",
                ),
            ] {
                if let Some(reason) = state["terminated"]["reason"].as_str() {
                    let labels = [("namespace", namespace), ("pod", name), ("container", container_name), ("reason", reason)];
                    families.sample(family, "gauge", help, &labels, 1.0);
                }
            }
        }
    }
    families.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pods() -> Vec<Value> {
        let resources = json!({"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}});
        vec![
            json!({"metadata": {"name": "job-exec-1", "namespace": "etl", "uid": "7"},
                   "spec": {"containers": [{"name": "spark-kubernetes-executor", "resources": resources}]},
                   "status": {"phase": "Running", "startTime": "2026-11-21T06:00:00Z",
                              "containerStatuses": [{"name": "spark-kubernetes-executor", "restartCount": 0, "state": {"running": {"startedAt": "2026-11-21T06:00:00Z"}}}]}}),
            json!({"metadata": {"name": "job-exec-2", "namespace": "etl", "uid": "8"},
                   "spec": {"containers": [{"name": "spark-kubernetes-executor", "resources": resources}]},
                   "status": {"phase": "Failed",
                              "containerStatuses": [{"name": "spark-kubernetes-executor", "restartCount": 0,
                                                     "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}}),
        ]
    }

    /// The value of the one sample whose line starts with `prefix`.
    fn value(text: &str, prefix: &str) -> f64 {
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(prefix)).collect();
        assert_eq!(lines.len(), 1, "{prefix} in\n{text}");
        lines[0].rsplit_once(' ').unwrap().1.parse().unwrap()
    }

    #[test]
    fn cadvisor_serves_running_containers_and_their_pod_cgroup() {
        let now: Timestamp = "2026-11-21T06:05:00Z".parse().unwrap();
        let text = cadvisor(&pods(), now);
        let exec = r#"{namespace="etl",pod="job-exec-1",container="spark-kubernetes-executor"}"#;
        let cpu = value(&text, &format!("container_cpu_usage_seconds_total{exec}"));
        assert!(cpu > 300.0 && cpu < 600.0, "{cpu} cpu seconds in 5 minutes at about 2 cores");
        let memory = value(&text, &format!("container_memory_working_set_bytes{exec}"));
        assert!(memory > 0.25 * 1_073_741_824.0 && memory < 1_073_741_824.0);
        assert_eq!(value(&text, r#"container_memory_working_set_bytes{namespace="etl",pod="job-exec-1",container=""}"#), memory);
        assert_eq!(value(&text, &format!("container_cpu_cfs_periods_total{exec}")), 3000.0);
        assert!(!text.contains("job-exec-2"), "a stopped container has no cAdvisor series");
        // Each family once, with its TYPE before its samples.
        assert_eq!(text.matches("# TYPE container_cpu_usage_seconds_total counter").count(), 1);
    }

    #[test]
    fn kube_state_metrics_serves_resources_and_oom_kills() {
        let text = kube_state(&pods());
        let cpu_request = r#"kube_pod_container_resource_requests{namespace="etl",pod="job-exec-2",container="spark-kubernetes-executor",resource="cpu",unit="core"}"#;
        assert_eq!(value(&text, cpu_request), 2.0);
        let memory_limit = r#"kube_pod_container_resource_limits{namespace="etl",pod="job-exec-1",container="spark-kubernetes-executor",resource="memory",unit="byte"}"#;
        assert_eq!(value(&text, memory_limit), 1_073_741_824.0);
        let oom = r#"kube_pod_container_status_terminated_reason{namespace="etl",pod="job-exec-2",container="spark-kubernetes-executor",reason="OOMKilled"}"#;
        assert_eq!(value(&text, oom), 1.0);
        assert!(text.contains("kube_pod_container_status_restarts_total{namespace=\"etl\",pod=\"job-exec-1\""));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
    }
}
