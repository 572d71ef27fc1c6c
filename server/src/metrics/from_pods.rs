//! What the job's pods themselves tell about its metrics, whatever the metrics source: the
//! requests and limits of their containers, the OOM kills, and which pods ran in a range.

use super::range::MetricsRange;
use app::api::{OomKill, Pod, ResourcesByPod};

/// Requests and limits by pod and container.
pub fn requests_and_limits(pods: &[Pod]) -> (ResourcesByPod, ResourcesByPod) {
    let (mut requests, mut limits) = (ResourcesByPod::new(), ResourcesByPod::new());
    for pod in pods {
        for container in &pod.resources {
            requests.entry(pod.name.clone()).or_default().insert(container.container.clone(), container.requests);
            limits.entry(pod.name.clone()).or_default().insert(container.container.clone(), container.limits);
        }
    }
    (requests, limits)
}

/// Containers killed for memory: reason OOMKilled, or exit code 137 as Spark reports a kill,
/// oldest first. (The model keeps the first container's end, where Spark runs.)
pub fn oom_kills(pods: &[Pod]) -> Vec<OomKill> {
    let mut kills: Vec<OomKill> = pods
        .iter()
        .filter(|p| p.reason.as_deref() == Some("OOMKilled") || p.exit_code == Some(137))
        .map(|p| OomKill {
            time: p.finished_at,
            pod: p.name.clone(),
            container: p.containers.first().cloned(),
            exit_code: p.exit_code,
            reason: p.reason.clone(),
        })
        .collect();
    kills.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.pod.cmp(&b.pod)));
    kills
}

/// The pods that ran at some time within `range`, by name.
pub fn ran_within<'a>(pods: &'a [Pod], range: &MetricsRange) -> Vec<&'a str> {
    pods.iter()
        .filter(|p| p.started_at.is_some_and(|start| start <= range.to) && p.finished_at.is_none_or(|end| end >= range.from))
        .map(|p| p.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::{ContainerResources, PodRole, Resources};
    use jiff::Timestamp;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn pod(name: &str, started: Option<&str>, finished: Option<&str>, exit: Option<i32>, reason: Option<&str>) -> Pod {
        Pod {
            name: name.into(),
            role: PodRole::Executor,
            node: None,
            instance_type: None,
            capacity_type: None,
            phase: "Failed".into(),
            restarts: 0,
            exit_code: exit,
            reason: reason.map(String::from),
            started_at: started.map(t),
            finished_at: finished.map(t),
            deleted: false,
            containers: vec!["spark-kubernetes-executor".into()],
            executor_id: None,
            resources: vec![ContainerResources {
                container: "spark-kubernetes-executor".into(),
                requests: Resources { cpu: Some(2.0), memory: Some(5e9) },
                limits: Resources { cpu: Some(2.0), memory: Some(5e9) },
            }],
        }
    }

    #[test]
    fn oom_kills_are_the_oomkilled_and_exit_137_pods_in_time_order() {
        let pods = [
            pod("a", Some("2026-11-21T06:00:00Z"), Some("2026-11-21T06:09:00Z"), Some(137), None),
            pod("b", Some("2026-11-21T06:00:00Z"), Some("2026-11-21T06:05:00Z"), Some(137), Some("OOMKilled")),
            pod("c", Some("2026-11-21T06:00:00Z"), Some("2026-11-21T06:10:00Z"), Some(1), Some("Error")),
        ];
        let kills = oom_kills(&pods);
        assert_eq!(kills.iter().map(|k| k.pod.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(kills[0].container.as_deref(), Some("spark-kubernetes-executor"));
        let (requests, limits) = requests_and_limits(&pods);
        assert_eq!(requests["a"]["spark-kubernetes-executor"].cpu, Some(2.0));
        assert_eq!(limits["c"]["spark-kubernetes-executor"].memory, Some(5e9));
    }

    #[test]
    fn only_pods_that_ran_in_the_range_are_asked_for() {
        let pods = [
            pod("before", Some("2026-11-21T05:00:00Z"), Some("2026-11-21T05:30:00Z"), Some(0), None),
            pod("during", Some("2026-11-21T05:00:00Z"), Some("2026-11-21T06:30:00Z"), Some(0), None),
            pod("running", Some("2026-11-21T06:50:00Z"), None, None, None),
            pod("pending", None, None, None, None),
        ];
        let range = MetricsRange { from: t("2026-11-21T06:00:00Z"), to: t("2026-11-21T07:00:00Z"), step: 5 };
        assert_eq!(ran_within(&pods, &range), ["during", "running"]);
    }
}
