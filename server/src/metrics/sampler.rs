//! The fallback when no Prometheus is configured: metrics.k8s.io (metrics-server) has no
//! history, only "now" (research §5.1), so sparkboard samples a job's pods itself while someone
//! looks at them. A request for a job's metrics starts a sampler for it, or keeps its sampler
//! alive; a sampler nobody asked for within `keep_alive` stops and forgets what it saw. Each
//! container keeps a bounded window of recent samples, and the response says when sampling
//! began, since nothing before it can be shown.

use crate::model::pod::JobKey;
use crate::model::quantity;
use app::api::{Metric, MetricSeries, Panel, PanelError, PanelErrorKind};
use jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How the sampler runs.
#[derive(Clone, Copy, Debug)]
pub struct SamplerOptions {
    /// Between two samples (metrics-server itself refreshes every 15 s by default).
    pub every: Duration,
    /// A sampler stops this long after the last request for its job.
    pub keep_alive: Duration,
    /// Samples kept per container: the window's length is `capacity * every`.
    pub capacity: usize,
    /// Jobs sampled at once; more get an error instead of another sampler.
    pub max_jobs: usize,
}

impl Default for SamplerOptions {
    fn default() -> SamplerOptions {
        SamplerOptions { every: Duration::from_secs(15), keep_alive: Duration::from_secs(300), capacity: 480, max_jobs: 100 }
    }
}

/// One sample of one container: time, cores, bytes.
type Sample = (Timestamp, f64, f64);

/// What a job's sampler has seen.
#[derive(Default)]
struct Seen {
    /// The job's pods, as of the last request.
    pods: BTreeSet<String>,
    last_asked: Option<Instant>,
    /// The first sample's time: history starts here.
    since: Option<Timestamp>,
    /// The last round's failure, if it failed.
    error: Option<PanelError>,
    samples: BTreeMap<(String, String), VecDeque<Sample>>,
}

/// A job's sampler: what it saw, and how many rounds it has done (requests wait for the first).
struct Sampling {
    seen: Mutex<Seen>,
    rounds: watch::Sender<u64>,
}

impl Sampling {
    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// metrics.k8s.io's PodMetrics.
fn pod_metrics() -> ApiResource {
    ApiResource {
        group: "metrics.k8s.io".into(),
        version: "v1beta1".into(),
        api_version: "metrics.k8s.io/v1beta1".into(),
        kind: "PodMetrics".into(),
        plural: "pods".into(),
    }
}

/// Samples jobs through metrics.k8s.io.
pub struct Sampler {
    client: kube::Client,
    options: SamplerOptions,
    jobs: Arc<Mutex<HashMap<JobKey, Arc<Sampling>>>>,
}

/// What a request gets: the series within its range, when history starts, and the failure.
pub struct Sampled {
    pub series: Vec<MetricSeries>,
    pub since: Option<Timestamp>,
    pub errors: Vec<PanelError>,
}

impl Sampler {
    pub fn new(client: kube::Client, options: SamplerOptions) -> Sampler {
        Sampler { client, options, jobs: Arc::default() }
    }

    /// `job`'s samples of `pods` within `from..=to`; starts its sampler (and waits a little for
    /// the first round) if none runs.
    pub async fn samples(&self, job: &JobKey, pods: &[&str], from: Timestamp, to: Timestamp) -> Sampled {
        let Some(sampling) = self.sampling(job) else {
            let message = format!("sparkboard already samples {} jobs, its most; try again in a few minutes", self.options.max_jobs);
            let errors =
                [Panel::Memory, Panel::Cpu].map(|panel| PanelError { panel, kind: PanelErrorKind::Refused, message: message.clone() });
            return Sampled { series: Vec::new(), since: None, errors: errors.to_vec() };
        };
        {
            let mut seen = sampling.lock();
            seen.pods = pods.iter().map(|p| p.to_string()).collect();
            seen.last_asked = Some(Instant::now());
        }
        let mut rounds = sampling.rounds.subscribe();
        let _ = tokio::time::timeout(Duration::from_secs(5), rounds.wait_for(|n| *n > 0)).await;
        let seen = sampling.lock();
        let mut series = Vec::new();
        for ((pod, container), samples) in seen.samples.iter().filter(|((pod, _), _)| seen.pods.contains(pod)) {
            let within: Vec<&Sample> = samples.iter().filter(|(t, _, _)| (from..=to).contains(t)).collect();
            for (metric, value) in [(Metric::CpuUsage, 1), (Metric::MemoryWorkingSet, 2)] {
                let points = within.iter().map(|s| (s.0, if value == 1 { s.1 } else { s.2 })).collect();
                series.push(MetricSeries {
                    pod: pod.clone(),
                    container: container.clone(),
                    metric,
                    unit: metric.unit(),
                    points,
                    aggregate: None,
                });
            }
        }
        series.sort_by(|a, b| (a.metric, &a.pod, &a.container).cmp(&(b.metric, &b.pod, &b.container)));
        let errors = seen.error.iter().flat_map(|e| [Panel::Memory, Panel::Cpu].map(|panel| PanelError { panel, ..e.clone() })).collect();
        Sampled { series, since: seen.since, errors }
    }

    /// The job's running sampler, or a new one; `None` when too many run.
    fn sampling(&self, job: &JobKey) -> Option<Arc<Sampling>> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sampling) = jobs.get(job) {
            return Some(sampling.clone());
        }
        if jobs.len() >= self.options.max_jobs {
            return None;
        }
        let sampling = Arc::new(Sampling { seen: Mutex::default(), rounds: watch::Sender::new(0) });
        sampling.lock().last_asked = Some(Instant::now());
        jobs.insert(job.clone(), sampling.clone());
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), &job.namespace, &pod_metrics());
        tokio::spawn(run(api, job.clone(), sampling.clone(), self.options, self.jobs.clone()));
        Some(sampling)
    }
}

/// Samples until nobody asked for `keep_alive`, then leaves the map.
async fn run(
    api: Api<DynamicObject>,
    job: JobKey,
    sampling: Arc<Sampling>,
    options: SamplerOptions,
    jobs: Arc<Mutex<HashMap<JobKey, Arc<Sampling>>>>,
) {
    let mut tick = tokio::time::interval(options.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let idle = sampling.lock().last_asked.is_none_or(|t| t.elapsed() > options.keep_alive);
        if idle {
            jobs.lock().unwrap_or_else(|e| e.into_inner()).remove(&job);
            return;
        }
        let listed = api.list(&ListParams::default()).await;
        {
            let mut seen = sampling.lock();
            match listed {
                Ok(list) => {
                    seen.error = None;
                    let pods = seen.pods.clone();
                    for object in list.items.iter().filter(|o| o.metadata.name.as_ref().is_some_and(|n| pods.contains(n))) {
                        record(&mut seen, object, options.capacity);
                    }
                }
                Err(e) => seen.error = Some(error(&e)),
            }
        }
        sampling.rounds.send_modify(|n| *n += 1);
    }
}

/// Adds one PodMetrics' containers to what was seen, skipping a sample already kept
/// (metrics-server answers the same sample until its next scrape).
fn record(seen: &mut Seen, object: &DynamicObject, capacity: usize) {
    let Some(pod) = object.metadata.name.clone() else { return };
    let Some(time) = object.data["timestamp"].as_str().and_then(|t| t.parse::<Timestamp>().ok()) else { return };
    for container in object.data["containers"].as_array().into_iter().flatten() {
        let Some(name) = container["name"].as_str() else { continue };
        let cpu = container["usage"]["cpu"].as_str().and_then(quantity::parse);
        let memory = container["usage"]["memory"].as_str().and_then(quantity::parse);
        let (Some(cpu), Some(memory)) = (cpu, memory) else { continue };
        let samples = seen.samples.entry((pod.clone(), name.to_string())).or_default();
        if samples.back().is_some_and(|last| last.0 >= time) {
            continue;
        }
        samples.push_back((time, cpu, memory));
        if samples.len() > capacity.max(1) {
            samples.pop_front();
        }
        seen.since = Some(seen.since.map_or(time, |since| since.min(time)));
    }
}

/// What a failed list tells the page.
fn error(e: &kube::Error) -> PanelError {
    let (kind, message) = match e {
        kube::Error::Api(status) if status.code == 404 => {
            (PanelErrorKind::Missing, "metrics.k8s.io is not served by this cluster: is metrics-server installed?".to_string())
        }
        kube::Error::Api(status) => (PanelErrorKind::Refused, format!("metrics.k8s.io refused: {}", status.message)),
        other => (PanelErrorKind::Unreachable, format!("metrics.k8s.io cannot be reached: {other}")),
    };
    PanelError { panel: Panel::Memory, kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_metrics_at(pod: &str, time: &str, cpu: &str, memory: &str) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
            "metadata": {"name": pod, "namespace": "ns"}, "timestamp": time, "window": "15s",
            "containers": [{"name": "c", "usage": {"cpu": cpu, "memory": memory}}, {"name": "bad", "usage": {"cpu": "lots"}}]
        }))
        .unwrap()
    }

    #[test]
    fn samples_are_kept_once_each_within_the_window() {
        let mut seen = Seen::default();
        for (time, cpu) in [
            ("2026-11-21T06:00:00Z", "500m"),
            ("2026-11-21T06:00:00Z", "600m"),
            ("2026-11-21T06:00:15Z", "250000000n"),
            ("2026-11-21T06:00:30Z", "1"),
        ] {
            record(&mut seen, &pod_metrics_at("p", time, cpu, "1Gi"), 2);
        }
        let kept: Vec<f64> = seen.samples[&("p".to_string(), "c".to_string())].iter().map(|s| s.1).collect();
        assert_eq!(kept, [0.25, 1.0], "a repeated sample is skipped and the oldest leave first");
        assert_eq!(seen.since, Some("2026-11-21T06:00:00Z".parse().unwrap()), "history starts at the first sample ever");
        assert!(!seen.samples.contains_key(&("p".to_string(), "bad".to_string())), "a container whose usage does not parse is left out");
    }

    #[test]
    fn a_cluster_without_metrics_server_says_so() {
        let status = kube::core::Status::failure("the server could not find the requested resource", "NotFound").with_code(404);
        let missing = error(&kube::Error::Api(status.boxed()));
        assert_eq!(missing.kind, PanelErrorKind::Missing);
        assert!(missing.message.contains("metrics-server"));
    }
}
