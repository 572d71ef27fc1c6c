//! What each chart of the metrics page draws, from the API's answer and the job's pods: a table
//! with one row per time and one column per line (the shape the chart component takes), the
//! lines' names and kinds, and the OOM kills to mark. Pure and shared, so it is tested here and
//! the page only draws.
//!
//! Requests and limits are lines across the whole range, so a working set is read against them;
//! an OOM kill is a marker on the memory chart at its time, at the killed container's limit.

use crate::api::{Aggregate, JobMetrics, LogSource, Metric, MetricUnit, OomKill, Pod, PodRole, Resources};
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

/// One chart of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChartKind {
    Memory,
    Cpu,
    Throttling,
    Executors,
}

impl ChartKind {
    pub const ALL: [ChartKind; 4] = [ChartKind::Memory, ChartKind::Cpu, ChartKind::Throttling, ChartKind::Executors];

    pub fn title(self) -> &'static str {
        match self {
            ChartKind::Memory => "Memory working set",
            ChartKind::Cpu => "CPU",
            ChartKind::Throttling => "CPU throttling",
            ChartKind::Executors => "Executors",
        }
    }

    /// The `data-testid` and anchor of the chart.
    pub fn id(self) -> &'static str {
        match self {
            ChartKind::Memory => "memory",
            ChartKind::Cpu => "cpu",
            ChartKind::Throttling => "throttling",
            ChartKind::Executors => "executors",
        }
    }

    pub fn unit(self) -> MetricUnit {
        match self {
            ChartKind::Memory => MetricUnit::Bytes,
            ChartKind::Cpu => MetricUnit::Cores,
            ChartKind::Throttling => MetricUnit::Ratio,
            // A count; drawn with the cores' plain numbers.
            ChartKind::Executors => MetricUnit::Cores,
        }
    }

    fn metric(self) -> Option<Metric> {
        match self {
            ChartKind::Memory => Some(Metric::MemoryWorkingSet),
            ChartKind::Cpu => Some(Metric::CpuUsage),
            ChartKind::Throttling => Some(Metric::CpuThrottled),
            ChartKind::Executors => None,
        }
    }
}

/// What a line stands for, which sets its colour and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    Driver,
    Executor,
    /// All executors folded into one value per time.
    Summary(Aggregate),
    Request,
    Limit,
    /// Markers only: an OOM kill at its time.
    OomKill,
    /// The number of executors.
    Count,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LineSpec {
    pub label: String,
    pub kind: LineKind,
}

/// One time of a chart; `y[i]` is line `i`'s value, NaN where it has none (a gap).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub t: Timestamp,
    pub y: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChartData {
    pub kind: ChartKind,
    pub lines: Vec<LineSpec>,
    pub rows: Vec<Row>,
}

impl ChartData {
    /// Whether there is anything measured to draw (constant lines alone are not a chart).
    pub fn has_data(&self) -> bool {
        let measured: Vec<usize> = (0..self.lines.len())
            .filter(|&i| !matches!(self.lines[i].kind, LineKind::Request | LineKind::Limit | LineKind::OomKill))
            .collect();
        self.rows.iter().any(|r| measured.iter().any(|&i| r.y[i].is_finite()))
    }
}

/// The chart of `kind` for `metrics` of a job with `pods`.
pub fn chart(kind: ChartKind, metrics: &JobMetrics, pods: &[Pod]) -> ChartData {
    match kind.metric() {
        Some(metric) => measured(kind, metric, metrics, pods),
        None => executor_count(metrics.from, metrics.to, pods),
    }
}

/// A pod's short name, as the log viewer labels it: `driver`, `exec-3`, or the pod's name.
pub fn pod_label(pod: &str, pods: &[Pod]) -> String {
    series_label(pod, "", None, pods, false).0
}

/// A line's name: `driver`, `exec-3` (with the container when a pod has several measured ones),
/// `executors max`.
fn series_label(pod: &str, container: &str, aggregate: Option<Aggregate>, pods: &[Pod], several: bool) -> (String, LineKind) {
    if let Some(a) = aggregate {
        return (format!("executors {}", a.as_str()), LineKind::Summary(a));
    }
    let found = pods.iter().find(|p| p.name == pod);
    let role = found.map(|p| p.role).unwrap_or(PodRole::Executor);
    let source =
        LogSource { role, pod: pod.to_string(), container: container.to_string(), executor_id: found.and_then(|p| p.executor_id.clone()) };
    let label = if several { format!("{}/{container}", source.label()) } else { source.label() };
    (label, if role == PodRole::Driver { LineKind::Driver } else { LineKind::Executor })
}

fn measured(kind: ChartKind, metric: Metric, metrics: &JobMetrics, pods: &[Pod]) -> ChartData {
    let series: Vec<_> = metrics.series.iter().filter(|s| s.metric == metric).collect();
    let mut containers_of: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &series {
        *containers_of.entry(s.pod.as_str()).or_default() += 1;
    }
    let mut lines: Vec<LineSpec> = Vec::new();
    // Driver first, then executors, then the folded lines, each in name order.
    let mut ordered: Vec<(LineSpec, &[(Timestamp, f64)])> = series
        .iter()
        .map(|s| {
            let several = containers_of.get(s.pod.as_str()).copied().unwrap_or(0) > 1;
            let (label, kind) = series_label(&s.pod, &s.container, s.aggregate, pods, several);
            (LineSpec { label, kind }, s.points.as_slice())
        })
        .collect();
    ordered.sort_by_key(|(line, _)| (line_rank(line.kind), natural_key(&line.label)));
    let mut times: BTreeSet<Timestamp> = ordered.iter().flat_map(|(_, points)| points.iter().map(|p| p.0)).collect();
    // Requests and limits span the whole range, not only where something was measured.
    if !times.is_empty() && matches!(kind, ChartKind::Memory | ChartKind::Cpu) {
        times.extend([metrics.from, metrics.to]);
    }
    let index: BTreeMap<Timestamp, usize> = times.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let mut rows: Vec<Row> = times.iter().map(|&t| Row { t, y: Vec::new() }).collect();
    for (line, points) in ordered {
        let column = lines.len();
        lines.push(line);
        for row in &mut rows {
            row.y.push(f64::NAN);
        }
        for &(t, v) in points {
            rows[index[&t]].y[column] = v;
        }
    }
    if matches!(kind, ChartKind::Memory | ChartKind::Cpu) {
        let pick = |r: &Resources| if kind == ChartKind::Memory { r.memory } else { r.cpu };
        for (what, by_pod, line_kind) in [("request", &metrics.requests, LineKind::Request), ("limit", &metrics.limits, LineKind::Limit)] {
            for (label, value) in constant_lines(what, by_pod, pods, pick) {
                lines.push(LineSpec { label, kind: line_kind });
                for row in &mut rows {
                    row.y.push(value);
                }
            }
        }
    }
    if kind == ChartKind::Memory && !metrics.events.is_empty() && !rows.is_empty() {
        lines.push(LineSpec { label: "OOM kill".into(), kind: LineKind::OomKill });
        for row in &mut rows {
            row.y.push(f64::NAN);
        }
        for kill in &metrics.events {
            let Some(at) = kill.time.and_then(|t| nearest(&rows, t)) else { continue };
            let height = oom_height(kill, metrics, &rows[at]);
            let last = rows[at].y.len() - 1;
            rows[at].y[last] = height;
        }
    }
    ChartData { kind, lines, rows }
}

fn line_rank(kind: LineKind) -> u8 {
    match kind {
        LineKind::Driver => 0,
        LineKind::Executor => 1,
        LineKind::Summary(_) => 2,
        _ => 3,
    }
}

/// Sorts `exec-10` after `exec-9`.
fn natural_key(label: &str) -> (String, u64, String) {
    let digits_at = label.find(|c: char| c.is_ascii_digit()).unwrap_or(label.len());
    let (head, tail) = label.split_at(digits_at);
    let end = tail.find(|c: char| !c.is_ascii_digit()).unwrap_or(tail.len());
    (head.to_string(), tail[..end].parse().unwrap_or(0), tail[end..].to_string())
}

/// The requests or limits worth a line: the driver's, and the executors' (the largest when
/// they differ, which the label says).
fn constant_lines(
    what: &str,
    by_pod: &crate::api::ResourcesByPod,
    pods: &[Pod],
    pick: impl Fn(&Resources) -> Option<f64>,
) -> Vec<(String, f64)> {
    let mut driver: Vec<f64> = Vec::new();
    let mut executors: Vec<f64> = Vec::new();
    for (pod, containers) in by_pod {
        let role = pods.iter().find(|p| &p.name == pod).map(|p| p.role);
        let values = containers.values().filter_map(&pick).filter(|v| v.is_finite() && *v > 0.0);
        match role {
            Some(PodRole::Driver) => driver.extend(values),
            Some(PodRole::Executor) => executors.extend(values),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(v) = driver.iter().copied().reduce(f64::max) {
        out.push((format!("driver {what}"), v));
    }
    if let Some(v) = executors.iter().copied().reduce(f64::max) {
        let differ = executors.iter().any(|&x| x != v);
        out.push((if differ { format!("executor {what} (largest)") } else { format!("executor {what}") }, v));
    }
    out
}

/// The row closest in time to `t`, when `t` falls inside the rows' span (give or take a step).
fn nearest(rows: &[Row], t: Timestamp) -> Option<usize> {
    let first = rows.first()?.t;
    let last = rows.last()?.t;
    let step = if rows.len() > 1 { (last.as_second() - first.as_second()) / (rows.len() as i64 - 1) } else { 0 };
    if t.as_second() < first.as_second() - step || t.as_second() > last.as_second() + step {
        return None;
    }
    let i = rows.partition_point(|r| r.t < t);
    match (i.checked_sub(1), rows.get(i)) {
        (Some(before), Some(after)) => {
            let gap_before = t.as_second() - rows[before].t.as_second();
            let gap_after = after.t.as_second() - t.as_second();
            Some(if gap_before <= gap_after { before } else { i })
        }
        (Some(before), None) => Some(before),
        (None, _) => Some(0),
    }
}

/// Where an OOM kill's marker sits: at the killed container's memory limit, or the highest value
/// of its row without one.
fn oom_height(kill: &OomKill, metrics: &JobMetrics, row: &Row) -> f64 {
    let limit = metrics.limits.get(&kill.pod).and_then(|containers| match &kill.container {
        Some(c) => containers.get(c).and_then(|r| r.memory),
        None => containers.values().filter_map(|r| r.memory).reduce(f64::max),
    });
    limit.unwrap_or_else(|| row.y.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max))
}

/// How many executors ran over time, from the pods' start and end: a step at each change.
fn executor_count(from: Timestamp, to: Timestamp, pods: &[Pod]) -> ChartData {
    let mut changes: BTreeMap<Timestamp, i64> = BTreeMap::new();
    for pod in pods.iter().filter(|p| p.role == PodRole::Executor) {
        let Some(start) = pod.started_at else { continue };
        *changes.entry(start.max(from)).or_default() += 1;
        if let Some(end) = pod.finished_at {
            *changes.entry(end.max(from)).or_default() -= 1;
        }
    }
    let mut rows = vec![Row { t: from, y: vec![0.0] }];
    let mut running = 0i64;
    for (t, delta) in changes {
        running += delta;
        if t > to {
            break;
        }
        match rows.last_mut() {
            Some(last) if last.t == t => last.y[0] = running as f64,
            _ => rows.push(Row { t, y: vec![running as f64] }),
        }
    }
    let last = rows.last().map(|r| r.y[0]).unwrap_or(0.0);
    if rows.last().is_some_and(|r| r.t < to) {
        rows.push(Row { t: to, y: vec![last] });
    }
    ChartData { kind: ChartKind::Executors, lines: vec![LineSpec { label: "executors".into(), kind: LineKind::Count }], rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{MetricSeries, MetricsSource};
    use crate::metrics::test_support::{self, t};

    fn pod(name: &str, role: PodRole, exec: Option<&str>, started: Option<i64>, finished: Option<i64>) -> Pod {
        Pod {
            executor_id: exec.map(String::from),
            started_at: started.map(t),
            finished_at: finished.map(t),
            ..test_support::pod(name, role)
        }
    }

    fn series(pod: &str, metric: Metric, points: &[(i64, f64)]) -> MetricSeries {
        MetricSeries {
            pod: pod.into(),
            container: "spark".into(),
            metric,
            unit: metric.unit(),
            points: points.iter().map(|&(s, v)| (t(s), v)).collect(),
            aggregate: None,
        }
    }

    fn resources(memory: f64) -> BTreeMap<String, Resources> {
        [("spark".to_string(), Resources { cpu: Some(1.0), memory: Some(memory) })].into_iter().collect()
    }

    fn job() -> (JobMetrics, Vec<Pod>) {
        let pods = vec![
            pod("app-driver", PodRole::Driver, None, Some(0), None),
            pod("app-exec-10", PodRole::Executor, Some("10"), Some(10), None),
            pod("app-exec-2", PodRole::Executor, Some("2"), Some(10), Some(40)),
        ];
        let metrics = JobMetrics {
            source: MetricsSource::Prometheus,
            from: t(0),
            to: t(60),
            step_s: 15.0,
            history_since: None,
            series: vec![
                series("app-exec-10", Metric::MemoryWorkingSet, &[(15, 10.0), (30, 20.0), (45, 30.0)]),
                series("app-driver", Metric::MemoryWorkingSet, &[(0, 5.0), (15, 6.0), (30, 7.0), (45, 8.0)]),
                series("app-exec-2", Metric::MemoryWorkingSet, &[(15, 50.0), (30, 90.0)]),
                series("app-driver", Metric::CpuUsage, &[(0, 0.5)]),
            ],
            requests: [
                ("app-driver".to_string(), resources(8.0)),
                ("app-exec-2".to_string(), resources(60.0)),
                ("app-exec-10".to_string(), resources(60.0)),
            ]
            .into_iter()
            .collect(),
            limits: [
                ("app-driver".to_string(), resources(16.0)),
                ("app-exec-2".to_string(), resources(90.0)),
                ("app-exec-10".to_string(), resources(100.0)),
            ]
            .into_iter()
            .collect(),
            events: vec![OomKill {
                time: Some(t(37)),
                pod: "app-exec-2".into(),
                container: Some("spark".into()),
                exit_code: Some(137),
                reason: Some("OOMKilled".into()),
            }],
            errors: Vec::new(),
            summary: None,
            spark: Default::default(),
        };
        (metrics, pods)
    }

    #[test]
    fn memory_lines_are_driver_executors_then_requests_limits_and_the_oom_kill() {
        let (metrics, pods) = job();
        let chart = chart(ChartKind::Memory, &metrics, &pods);
        let labels: Vec<&str> = chart.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            ["driver", "exec-2", "exec-10", "driver request", "executor request", "driver limit", "executor limit (largest)", "OOM kill"]
        );
        // The range's ends are rows too, so requests and limits span it.
        assert_eq!(chart.rows.iter().map(|r| r.t).collect::<Vec<_>>(), [t(0), t(15), t(30), t(45), t(60)]);
        assert_eq!(chart.rows[4].y[6], 100.0);
        assert!(chart.rows[4].y[0].is_nan());
        // A series without a value at a time is a gap there.
        assert!(chart.rows[0].y[1].is_nan());
        assert_eq!(chart.rows[2].y[..3], [7.0, 90.0, 20.0]);
        // The kill at 37 s sits on the nearest row, at the killed executor's own limit.
        let oom: Vec<f64> = chart.rows.iter().map(|r| r.y[7]).collect();
        assert!(oom[0].is_nan() && oom[1].is_nan() && oom[3].is_nan() && oom[4].is_nan());
        assert_eq!(oom[2], 90.0);
        assert!(chart.has_data());
    }

    #[test]
    fn a_chart_of_constant_lines_alone_has_no_data() {
        let (mut metrics, pods) = job();
        metrics.series.clear();
        let chart = chart(ChartKind::Memory, &metrics, &pods);
        assert!(!chart.has_data());
        assert!(chart.rows.is_empty());
    }

    #[test]
    fn the_executor_count_steps_at_each_start_and_end() {
        let (metrics, pods) = job();
        let chart = chart(ChartKind::Executors, &metrics, &pods);
        let steps: Vec<(Timestamp, f64)> = chart.rows.iter().map(|r| (r.t, r.y[0])).collect();
        assert_eq!(steps, [(t(0), 0.0), (t(10), 2.0), (t(40), 1.0), (t(60), 1.0)]);
    }

    #[test]
    fn an_oom_kill_outside_the_range_has_no_marker() {
        let (mut metrics, pods) = job();
        metrics.events[0].time = Some(t(3600));
        let chart = chart(ChartKind::Memory, &metrics, &pods);
        assert!(chart.rows.iter().all(|r| r.y.last().unwrap().is_nan()));
    }
}
