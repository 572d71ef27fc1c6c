//! Many executors in a few lines. A chart with two hundred executor lines answers no question
//! and costs megabytes; what a user asks of it is "did any executor come close to its limit, and
//! which". So beyond `keep` executors the answer keeps the notable ones line by line (OOM-killed
//! first, then those whose memory came closest to their limit) and folds all executors into
//! three lines per metric: at each time the largest, the median and the smallest value.

use super::median;
use crate::api::{Aggregate, JobMetrics, Metric, MetricSeries, Pod, PodRole, Summary};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The pod name of a summary series.
pub const EXECUTORS: &str = "executors";

/// Folds the executors of `metrics` when it has more than `keep` of them; a no-op otherwise.
/// `pods` says which pods are executors (a series of a pod not among them is left as it is).
pub fn summarise(metrics: &mut JobMetrics, pods: &[Pod], keep: usize) {
    let executors: HashSet<&str> = pods.iter().filter(|p| p.role == PodRole::Executor).map(|p| p.name.as_str()).collect();
    let with_series: BTreeSet<&str> = metrics.series.iter().map(|s| s.pod.as_str()).filter(|pod| executors.contains(pod)).collect();
    if with_series.len() <= keep {
        return;
    }
    let shown = notable(metrics, &with_series, keep);
    let mut folded: BTreeMap<(Metric, &str), Vec<&MetricSeries>> = BTreeMap::new();
    for series in metrics.series.iter().filter(|s| executors.contains(s.pod.as_str())) {
        folded.entry((series.metric, series.container.as_str())).or_default().push(series);
    }
    let mut summaries: Vec<MetricSeries> = Vec::new();
    for ((metric, container), group) in folded {
        for aggregate in Aggregate::ALL {
            summaries.push(MetricSeries {
                pod: EXECUTORS.to_string(),
                container: container.to_string(),
                metric,
                unit: metric.unit(),
                points: fold(&group, aggregate),
                aggregate: Some(aggregate),
            });
        }
    }
    let count = with_series.len();
    let keep_set: HashSet<String> = shown.iter().cloned().collect();
    metrics.series.retain(|s| !executors.contains(s.pod.as_str()) || keep_set.contains(&s.pod));
    metrics.series.extend(summaries);
    metrics.summary = Some(Summary { executors: count, shown });
}

/// Up to `keep` executors worth drawing alone: OOM-killed first, then by how close their
/// largest working set came to their memory limit (or by the largest working set, without a
/// limit), in that order.
fn notable(metrics: &JobMetrics, executors: &BTreeSet<&str>, keep: usize) -> Vec<String> {
    let killed: Vec<String> =
        metrics.events.iter().filter(|e| executors.contains(e.pod.as_str())).map(|e| e.pod.clone()).fold(Vec::new(), |mut seen, pod| {
            if !seen.contains(&pod) {
                seen.push(pod);
            }
            seen
        });
    let mut closeness: Vec<(f64, &str)> =
        executors.iter().filter(|pod| !killed.iter().any(|k| k == *pod)).map(|&pod| (peak_share(metrics, pod), pod)).collect();
    closeness.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    killed.into_iter().chain(closeness.into_iter().map(|(_, pod)| pod.to_string())).take(keep).collect()
}

/// The largest memory working set of `pod` over its limit (the largest of its containers), or
/// in bytes when no limit is set (every such pod then ranks above those with one: an executor
/// without a limit is the one that can take the node down).
fn peak_share(metrics: &JobMetrics, pod: &str) -> f64 {
    metrics
        .series
        .iter()
        .filter(|s| s.pod == pod && s.metric == Metric::MemoryWorkingSet)
        .map(|s| {
            let peak = s.points.iter().map(|p| p.1).fold(0.0, f64::max);
            let limit = metrics.limits.get(pod).and_then(|c| c.get(&s.container)).and_then(|r| r.memory);
            match limit {
                Some(limit) if limit > 0.0 => peak / limit,
                _ => peak,
            }
        })
        .fold(0.0, f64::max)
}

/// One value per time among `group`'s points at that time.
fn fold(group: &[&MetricSeries], aggregate: Aggregate) -> Vec<(Timestamp, f64)> {
    let mut at: BTreeMap<Timestamp, Vec<f64>> = BTreeMap::new();
    for series in group {
        for &(t, v) in &series.points {
            at.entry(t).or_default().push(v);
        }
    }
    at.into_iter()
        .map(|(t, mut values)| {
            values.sort_by(f64::total_cmp);
            let v = match aggregate {
                Aggregate::Max => values[values.len() - 1],
                Aggregate::Min => values[0],
                Aggregate::Median => median(&values),
            };
            (t, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{MetricsSource, OomKill, Resources};
    use crate::metrics::test_support::{pod, t};

    fn memory(pod: &str, values: &[f64]) -> MetricSeries {
        MetricSeries {
            pod: pod.into(),
            container: "spark".into(),
            metric: Metric::MemoryWorkingSet,
            unit: Metric::MemoryWorkingSet.unit(),
            points: values.iter().enumerate().map(|(i, &v)| (t(i as i64 * 15), v)).collect(),
            aggregate: None,
        }
    }

    fn metrics(series: Vec<MetricSeries>) -> JobMetrics {
        JobMetrics {
            source: MetricsSource::Prometheus,
            from: t(0),
            to: t(60),
            step_s: 15.0,
            history_since: None,
            series,
            requests: Default::default(),
            limits: Default::default(),
            events: Vec::new(),
            errors: Vec::new(),
            summary: None,
            spark: Default::default(),
        }
    }

    fn limit(m: &mut JobMetrics, pod: &str, bytes: f64) {
        m.limits.entry(pod.into()).or_default().insert("spark".into(), Resources { cpu: None, memory: Some(bytes) });
    }

    #[test]
    fn few_executors_are_left_alone() {
        let pods = [pod("d", PodRole::Driver), pod("e1", PodRole::Executor), pod("e2", PodRole::Executor)];
        let mut m = metrics(vec![memory("d", &[1.0]), memory("e1", &[2.0]), memory("e2", &[3.0])]);
        let before = m.clone();
        summarise(&mut m, &pods, 2);
        assert_eq!(m, before);
    }

    #[test]
    fn many_executors_fold_into_max_median_min_keeping_the_killed_and_the_closest_to_their_limit() {
        let mut pods = vec![pod("driver", PodRole::Driver)];
        let mut series = vec![memory("driver", &[5.0, 5.0])];
        for i in 0..6 {
            pods.push(pod(&format!("e{i}"), PodRole::Executor));
            series.push(memory(&format!("e{i}"), &[i as f64, 10.0 * i as f64]));
        }
        let mut m = metrics(series);
        for i in 0..6 {
            limit(&mut m, &format!("e{i}"), 100.0);
        }
        // e1 used little but was killed; e2 has a small limit, so it came closest to it.
        limit(&mut m, "e2", 21.0);
        m.events.push(OomKill { time: Some(t(15)), pod: "e1".into(), container: Some("spark".into()), exit_code: Some(137), reason: None });
        summarise(&mut m, &pods, 3);
        let summary = m.summary.clone().unwrap();
        assert_eq!(summary.executors, 6);
        assert_eq!(summary.shown, vec!["e1", "e2", "e5"]);
        let pods_left: BTreeSet<&str> = m.series.iter().map(|s| s.pod.as_str()).collect();
        assert_eq!(pods_left, ["driver", "e1", "e2", "e5", EXECUTORS].into_iter().collect());
        let folded = |a: Aggregate| m.series.iter().find(|s| s.aggregate == Some(a)).unwrap().points.clone();
        assert_eq!(folded(Aggregate::Max), vec![(t(0), 5.0), (t(15), 50.0)]);
        assert_eq!(folded(Aggregate::Min), vec![(t(0), 0.0), (t(15), 0.0)]);
        assert_eq!(folded(Aggregate::Median), vec![(t(0), 2.5), (t(15), 25.0)]);
        // The answer stays JSON that older readers take (the new fields are optional).
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["series"][4]["aggregate"], "max");
        assert!(json["series"][0].get("aggregate").is_none());
    }
}
