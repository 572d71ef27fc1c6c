//! What a simulated container uses, as a pure function of its spec and how long it has run: the
//! one usage model behind both the sim's metrics.k8s.io PodMetrics and its cAdvisor series, so
//! `kubectl top` and Prometheus tell the same story.
//!
//! - CPU demand swings around the request with a period of its own per pod; a container with a
//!   CPU limit gets at most the limit and is throttled in the CFS periods where it wants more.
//! - Memory (working set) rises toward a plateau under the limit, or, for a container the
//!   workload is about to OOM-kill, climbs to the limit by the time of the kill.
//!
//! Counters (CPU seconds, CFS periods) are integrals of those curves, summed in whole integer
//! cells over a fixed grid, so that they never go down between two scrapes, whenever they come
//! (a counter that goes down looks like a restart to Prometheus' `rate`).

use super::derived::{MEMORY_PROFILE, OOM_AT};
use super::quantity;
use jiff::Timestamp;
use serde_json::Value;
use std::f64::consts::TAU;

/// Memory of a container whose spec sets neither limit nor request.
const DEFAULT_MEMORY: f64 = 2.0 * 1_073_741_824.0;
/// CFS' default period: 100 ms.
const CFS_PERIODS_PER_SECOND: f64 = 10.0;
/// Grid cells per CPU period when integrating.
const CELLS: usize = 200;

/// How a container's memory behaves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Memory {
    /// Toward a plateau under the limit.
    Steady,
    /// Up to the limit: reached `seconds` after start, when known (the kill's planned time).
    Leak { seconds: Option<f64> },
}

/// One container's usage curves.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerUsage {
    cpu_request: f64,
    cpu_limit: Option<f64>,
    memory_limit: f64,
    memory: Memory,
    /// In [0, 1): each pod's curves have their own phase and period.
    phase: f64,
}

/// A stable number in [0, 1) from a pod's uid.
fn phase_of(uid: &str) -> f64 {
    let hash = uid.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    (hash % 10_000) as f64 / 10_000.0
}

/// When a container started: its status' `running.startedAt`, else the pod's `startTime`.
pub fn started_at(pod: &Value, container: &str) -> Option<Timestamp> {
    let statuses = pod["status"]["containerStatuses"].as_array();
    let status = statuses.into_iter().flatten().find(|s| s["name"] == container);
    let running = status.and_then(|s| s["state"]["running"]["startedAt"].as_str());
    running.or_else(|| pod["status"]["startTime"].as_str())?.parse().ok()
}

/// Seconds from `from` to `to` (0 if `to` is earlier).
pub fn seconds_since(from: Timestamp, to: Timestamp) -> f64 {
    ((to.as_nanosecond() - from.as_nanosecond()) as f64 / 1e9).max(0.0)
}

impl ContainerUsage {
    /// The curves of `container` (an element of the pod's `spec.containers`).
    pub fn of(pod: &Value, container: &Value) -> ContainerUsage {
        let resources = &container["resources"];
        let amount = |kind: &str, name: &str| resources[kind][name].as_str().and_then(quantity::parse);
        let memory = match pod["metadata"]["annotations"][MEMORY_PROFILE].as_str() {
            Some("leak") => {
                let oom_at = pod["metadata"]["annotations"][OOM_AT].as_str().and_then(|t| t.parse::<Timestamp>().ok());
                let start = container["name"].as_str().and_then(|name| started_at(pod, name));
                Memory::Leak { seconds: oom_at.zip(start).map(|(end, start)| seconds_since(start, end)).filter(|s| *s > 0.0) }
            }
            _ => Memory::Steady,
        };
        ContainerUsage {
            cpu_request: amount("requests", "cpu").or(amount("limits", "cpu")).unwrap_or(1.0),
            cpu_limit: amount("limits", "cpu"),
            memory_limit: amount("limits", "memory").or(amount("requests", "memory")).unwrap_or(DEFAULT_MEMORY),
            memory,
            phase: phase_of(pod["metadata"]["uid"].as_str().unwrap_or_default()),
        }
    }

    pub fn cpu_limit(&self) -> Option<f64> {
        self.cpu_limit
    }

    /// Working set `seconds` after start, in bytes; always under the limit.
    pub fn memory_bytes(&self, seconds: f64) -> f64 {
        let limit = self.memory_limit;
        let share = match self.memory {
            Memory::Leak { seconds: Some(until) } => 0.40 + 0.598 * (seconds / until).clamp(0.0, 1.0).powf(1.3),
            Memory::Leak { seconds: None } => 0.40 + 0.595 * (1.0 - (-seconds / 45.0).exp()),
            Memory::Steady => {
                let warm = 1.0 - (-seconds / 45.0).exp();
                let wobble = 0.02 * (seconds * TAU / (self.period() * 1.7) + self.phase * TAU).sin();
                0.30 + (0.35 + 0.1 * self.phase + wobble) * warm
            }
        };
        limit * share
    }

    /// Seconds of one swing of CPU demand: 40 to 80.
    fn period(&self) -> f64 {
        40.0 + 40.0 * self.phase
    }

    /// Cores wanted at `seconds`: half to 1.2 times the request.
    fn demand(&self, seconds: f64) -> f64 {
        self.cpu_request * (0.85 + 0.35 * (seconds * TAU / self.period() + self.phase * TAU).sin())
    }

    /// Cores used: the demand, up to the limit.
    fn used(&self, seconds: f64) -> f64 {
        let demand = self.demand(seconds);
        self.cpu_limit.map_or(demand, |limit| demand.min(limit))
    }

    /// Share of CFS periods throttled: none well under the limit, all once demand is a quarter
    /// of the limit over it (bursts of many threads throttle before the average reaches it).
    fn throttled_share(&self, seconds: f64) -> f64 {
        match self.cpu_limit {
            Some(limit) if limit > 0.0 => ((self.demand(seconds) - 0.95 * limit) / (0.25 * limit)).clamp(0.0, 1.0),
            _ => 0.0,
        }
    }

    /// `container_cpu_usage_seconds_total` after `seconds` of running.
    pub fn cpu_seconds(&self, seconds: f64) -> f64 {
        integral(|s| self.used(s), self.period(), seconds, 1e9) as f64 / 1e9
    }

    /// Cores used on average over the `window` seconds before `seconds` (metrics-server's rate).
    pub fn cpu_cores(&self, seconds: f64, window: f64) -> f64 {
        let from = (seconds - window).max(0.0);
        if seconds <= from {
            return self.used(seconds);
        }
        (self.cpu_seconds(seconds) - self.cpu_seconds(from)) / (seconds - from)
    }

    /// `container_cpu_cfs_periods_total`: CFS periods elapsed (containers with a CPU limit).
    pub fn cfs_periods(&self, seconds: f64) -> u64 {
        (seconds * CFS_PERIODS_PER_SECOND).floor() as u64
    }

    /// `container_cpu_cfs_throttled_periods_total`.
    pub fn cfs_throttled_periods(&self, seconds: f64) -> u64 {
        integral(|s| CFS_PERIODS_PER_SECOND * self.throttled_share(s), self.period(), seconds, 1000.0) / 1000
    }
}

/// `∫₀^seconds f` for `f ≥ 0` periodic in `period`, times `scale`, in whole units: the sum of
/// trapezoids on a fixed grid, each rounded to an integer before summing, so the result never
/// decreases as `seconds` grows, whatever the floating-point rounding.
fn integral(f: impl Fn(f64) -> f64, period: f64, seconds: f64, scale: f64) -> u64 {
    if !(seconds > 0.0 && period > 0.0) {
        return 0;
    }
    let width = period / CELLS as f64;
    let cell = |j: usize| {
        let (a, b) = (j as f64 * width, (j + 1) as f64 * width);
        ((f(a).max(0.0) + f(b).max(0.0)) / 2.0 * width * scale).round() as u64
    };
    let cells: Vec<u64> = (0..CELLS).map(cell).collect();
    let whole_periods = (seconds / period).floor();
    let rest = (seconds - whole_periods * period).clamp(0.0, period);
    let full_cells = ((rest / width).floor() as usize).min(CELLS - 1);
    let fraction = ((rest - full_cells as f64 * width) / width).clamp(0.0, 1.0);
    let per_period: u64 = cells.iter().sum();
    let partial = (fraction * cells[full_cells] as f64).floor() as u64;
    (whole_periods as u64) * per_period + cells[..full_cells].iter().sum::<u64>() + partial.min(cells[full_cells])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn executor(annotations: Value) -> (Value, Value) {
        let container = json!({"name": "spark-kubernetes-executor",
            "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}}});
        let pod = json!({"metadata": {"uid": "42", "annotations": annotations},
            "spec": {"containers": [container.clone()]},
            "status": {"phase": "Running", "startTime": "2026-11-21T06:00:00Z",
                       "containerStatuses": [{"name": "spark-kubernetes-executor", "state": {"running": {"startedAt": "2026-11-21T06:00:00Z"}}}]}});
        (pod, container)
    }

    #[test]
    fn counters_never_go_down_wherever_the_scrapes_fall() {
        let (pod, container) = executor(json!({}));
        let usage = ContainerUsage::of(&pod, &container);
        let (mut cpu, mut throttled, mut periods) = (0.0, 0, 0);
        // Uneven steps, across many period boundaries.
        let mut s = 0.0;
        while s < 2_000.0 {
            let (c, t, p) = (usage.cpu_seconds(s), usage.cfs_throttled_periods(s), usage.cfs_periods(s));
            assert!(c >= cpu && t >= throttled && p >= periods, "a counter went down at {s}");
            (cpu, throttled, periods) = (c, t, p);
            s += 0.37 + (s * 7.0).sin().abs();
        }
        assert!(throttled > 0, "demand goes over the limit, so some periods are throttled");
        assert!(throttled < periods);
    }

    #[test]
    fn cpu_stays_near_the_request_and_under_the_limit() {
        let (pod, container) = executor(json!({}));
        let usage = ContainerUsage::of(&pod, &container);
        let mean = usage.cpu_seconds(800.0) / 800.0;
        assert!((1.4..=2.0).contains(&mean), "mean {mean} cores for a request of 2");
        for s in [10.0, 100.0, 333.0] {
            let cores = usage.cpu_cores(s, 15.0);
            assert!(cores > 0.5 && cores <= 2.0 + 1e-6, "{cores} at {s}");
        }
    }

    #[test]
    fn a_leak_reaches_the_limit_at_the_planned_kill_and_a_steady_container_stays_under() {
        let limit = 1_073_741_824.0;
        let (pod, container) = executor(json!({MEMORY_PROFILE: "leak", OOM_AT: "2026-11-21T06:01:40Z"}));
        let leak = ContainerUsage::of(&pod, &container);
        assert_eq!(leak.memory, Memory::Leak { seconds: Some(100.0) });
        assert!(leak.memory_bytes(10.0) < 0.5 * limit);
        assert!(leak.memory_bytes(99.0) > 0.98 * limit && leak.memory_bytes(100.0) < limit);
        let (pod, container) = executor(json!({}));
        let steady = ContainerUsage::of(&pod, &container);
        assert!((0..2000).map(|s| steady.memory_bytes(s as f64)).all(|m| m < 0.8 * limit && m > 0.25 * limit));
    }
}
