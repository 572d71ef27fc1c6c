//! The Prometheus side of a job's metrics: every panel's query over every batch of pods, run a
//! few at a time, gathered into series, with each panel's failures kept to that panel.

use super::batch::{BatchLimits, batches};
use super::matrix::Series;
use super::prometheus::{Prometheus, PrometheusError};
use super::promql::{panel_query, pods_regex};
use super::range::MetricsRange;
use app::api::{Metric, MetricSeries, Panel, PanelError, PanelErrorKind};
use futures::StreamExt;
use std::time::Duration;

/// Queries in flight at once for one request.
const CONCURRENT_QUERIES: usize = 4;

/// Prometheus as a metrics source.
#[derive(Clone, Debug)]
pub struct PrometheusSource {
    pub client: Prometheus,
    pub limits: BatchLimits,
    /// How often Prometheus scrapes the kubelets: `rate()` needs several scrapes in its window.
    pub scrape_interval: Duration,
}

/// The panel error an error of Prometheus becomes.
pub fn panel_error(panel: Panel, error: &PrometheusError) -> PanelError {
    let kind = match error {
        PrometheusError::Unreachable { .. } => PanelErrorKind::Unreachable,
        PrometheusError::Timeout { .. } => PanelErrorKind::Timeout,
        PrometheusError::Status { error_type, .. } if error_type.as_deref() == Some("timeout") => PanelErrorKind::Timeout,
        PrometheusError::Status { .. } => PanelErrorKind::Refused,
        PrometheusError::BadResponse(_) => PanelErrorKind::BadResponse,
    };
    PanelError { panel, kind, message: error.to_string() }
}

/// A matrix series as one container's series of `metric`; `None` without pod and container.
fn to_series(metric: Metric, series: Series) -> Option<MetricSeries> {
    let mut labels = series.labels;
    Some(MetricSeries {
        pod: labels.remove("pod")?,
        container: labels.remove("container")?,
        metric,
        unit: metric.unit(),
        points: series.points,
        aggregate: None,
    })
}

impl PrometheusSource {
    /// Seconds of `rate()`'s window: two steps, and at least four scrapes.
    fn rate_window(&self, step: i64) -> u64 {
        (2 * step.max(1) as u64).max((4.0 * self.scrape_interval.as_secs_f64()).ceil() as u64)
    }

    /// The series of `pods` (of `namespace`) over `range`, and the panels that failed.
    pub async fn series(&self, namespace: &str, pods: &[&str], range: &MetricsRange) -> (Vec<MetricSeries>, Vec<PanelError>) {
        let window = self.rate_window(range.step);
        let queries: Vec<(Metric, String)> = batches(pods, self.limits)
            .iter()
            .flat_map(|batch| {
                let regex = pods_regex(batch);
                Metric::ALL.map(|metric| (metric, panel_query(metric, namespace, &regex, window)))
            })
            .collect();
        let answers: Vec<(Metric, Result<Vec<Series>, PrometheusError>)> = futures::stream::iter(queries)
            .map(|(metric, query)| async move { (metric, self.client.query_range(&query, range.from, range.to, range.step as f64).await) })
            .buffer_unordered(CONCURRENT_QUERIES)
            .collect()
            .await;
        let mut series = Vec::new();
        let mut errors: Vec<PanelError> = Vec::new();
        for (metric, answer) in answers {
            match answer {
                Ok(found) => series.extend(found.into_iter().filter_map(|s| to_series(metric, s))),
                // One message per panel: the first failure says why.
                Err(e) if !errors.iter().any(|known| known.panel == metric.panel()) => errors.push(panel_error(metric.panel(), &e)),
                Err(_) => {}
            }
        }
        for metric in [Metric::MemoryWorkingSet, Metric::CpuUsage] {
            let panel = metric.panel();
            if !pods.is_empty() && !series.iter().any(|s| s.metric == metric) && !errors.iter().any(|e| e.panel == panel) {
                errors.push(PanelError {
                    panel,
                    kind: PanelErrorKind::Missing,
                    message: format!(
                        "Prometheus at {} has no {} series of this job's pods in this range: are the kubelets' cAdvisor endpoints scraped, and is the range within its retention?",
                        self.client.url(),
                        match metric {
                            Metric::MemoryWorkingSet => "container_memory_working_set_bytes",
                            _ => "container_cpu_usage_seconds_total",
                        }
                    ),
                });
            }
        }
        series.sort_by(|a, b| (a.metric, &a.pod, &a.container).cmp(&(b.metric, &b.pod, &b.container)));
        errors.sort_by_key(|e| e.panel);
        (series, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use std::collections::BTreeMap;

    #[test]
    fn prometheus_errors_become_the_panel_errors_the_page_explains() {
        let timeout = PrometheusError::Status {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error_type: Some("timeout".into()),
            message: "query timed out".into(),
        };
        let limit = PrometheusError::Status {
            status: StatusCode::BAD_REQUEST,
            error_type: Some("bad_data".into()),
            message: "exceeded maximum resolution".into(),
        };
        let cases = [
            (PrometheusError::Timeout { url: "http://p".into(), seconds: 10.0 }, PanelErrorKind::Timeout),
            (timeout, PanelErrorKind::Timeout),
            (limit, PanelErrorKind::Refused),
            (PrometheusError::BadResponse("<html>".into()), PanelErrorKind::BadResponse),
        ];
        for (error, kind) in cases {
            let panel = panel_error(Panel::Cpu, &error);
            assert_eq!((panel.panel, panel.kind), (Panel::Cpu, kind), "{error}");
            assert_eq!(panel.message, error.to_string());
        }
    }

    #[test]
    fn a_series_without_pod_or_container_is_dropped() {
        let labels = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        let whole = Series { labels: labels(&[("pod", "p"), ("container", "c"), ("namespace", "ns")]), points: vec![] };
        let series = to_series(Metric::CpuThrottled, whole).unwrap();
        assert_eq!((series.pod.as_str(), series.container.as_str(), series.unit), ("p", "c", app::api::MetricUnit::Ratio));
        assert!(to_series(Metric::CpuUsage, Series { labels: labels(&[("pod", "p")]), points: vec![] }).is_none());
    }
}
