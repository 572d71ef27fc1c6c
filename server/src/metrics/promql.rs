//! The PromQL sparkboard sends: one query per panel over a batch of the job's pods, on
//! cAdvisor's series as the kubelet exports them: `container_memory_working_set_bytes` (what the
//! OOM killer and metrics-server use), `rate()` of `container_cpu_usage_seconds_total`, and
//! throttling as the rate of `container_cpu_cfs_throttled_periods_total` over that of
//! `container_cpu_cfs_periods_total`. Prometheus answers `query_range` with at most 11,000
//! points per series. (`REFERENCE.md`, "Container metrics".)
//!
//! cAdvisor also reports each pod's own cgroup (`container=""`) and the pause container
//! (`container="POD"`); both are left out, or a pod's usage would count twice.

use app::api::Metric;

/// `s` as a PromQL double-quoted string.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `name` matched literally by an RE2 regular expression.
pub fn regex_literal(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A regex that matches exactly these pods (Prometheus anchors `=~` at both ends).
pub fn pods_regex(pods: &[&str]) -> String {
    pods.iter().map(|p| regex_literal(p)).collect::<Vec<_>>().join("|")
}

/// The selector of the containers of `pods_regex`'s pods in `namespace`.
fn containers(metric: &str, namespace: &str, pods_regex: &str) -> String {
    format!(r#"{metric}{{namespace={},pod=~{},container!="",container!="POD"}}"#, string_literal(namespace), string_literal(pods_regex))
}

/// The query of one panel's series, one per pod and container. `rate_window` is the range of
/// `rate()` in whole seconds: wide enough to hold several scrapes.
pub fn panel_query(metric: Metric, namespace: &str, pods_regex: &str, rate_window: u64) -> String {
    let rate = |counter: &str| format!("sum by (pod, container) (rate({}[{rate_window}s]))", containers(counter, namespace, pods_regex));
    match metric {
        Metric::MemoryWorkingSet => {
            format!("max by (pod, container) ({})", containers("container_memory_working_set_bytes", namespace, pods_regex))
        }
        Metric::CpuUsage => rate("container_cpu_usage_seconds_total"),
        Metric::CpuThrottled => {
            format!("{} / {}", rate("container_cpu_cfs_throttled_periods_total"), rate("container_cpu_cfs_periods_total"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_matched_literally_and_strings_quoted() {
        assert_eq!(pods_regex(&["a.b-exec-1", "c"]), r"a\.b-exec-1|c");
        assert_eq!(string_literal(r#"a"b\c"#), r#""a\"b\\c""#);
        // A regex escape inside a PromQL string doubles its backslash.
        assert_eq!(string_literal(&pods_regex(&["x.y"])), r#""x\\.y""#);
    }

    #[test]
    fn panel_queries_leave_out_pod_cgroups_and_pause_containers() {
        let cpu = panel_query(Metric::CpuUsage, "etl", "a|b", 60);
        assert_eq!(
            cpu,
            r#"sum by (pod, container) (rate(container_cpu_usage_seconds_total{namespace="etl",pod=~"a|b",container!="",container!="POD"}[60s]))"#
        );
        let throttled = panel_query(Metric::CpuThrottled, "etl", "a", 4);
        assert!(throttled.contains("container_cpu_cfs_throttled_periods_total") && throttled.contains(" / "));
        assert!(
            panel_query(Metric::MemoryWorkingSet, "etl", "a", 4)
                .starts_with("max by (pod, container) (container_memory_working_set_bytes{")
        );
    }
}
