//! A job's container metrics: CPU, memory and CPU throttling per pod and container, with the
//! requests, limits and OOM kills to read them against.
//!
//! Where the series come from is chosen once, at start-up:
//! - [`panels`] over [`prometheus`]: history from Prometheus' `query_range` on cAdvisor's
//!   series ([`promql`]), the job's pods cut into [`batch`]es, answers read by [`matrix`];
//! - [`sampler`]: without Prometheus, metrics.k8s.io sampled while someone looks;
//! - neither: requests, limits and OOM kills only.
//!
//! Requests, limits and OOM kills come from the job's pods in the model ([`from_pods`]), so they
//! are there whatever the source; [`range`] reads the request's span and step.
//!
//! Spark's own view of its executors (peak memory by kind, GC, spill, shuffle) comes from its
//! REST API where the job's Spark UI is served ([`spark_rest`], read by [`spark_executors`]),
//! asked at the same time as the series.

pub mod batch;
pub mod from_pods;
pub mod matrix;
pub mod panels;
pub mod prometheus;
pub mod promql;
pub mod range;
pub mod sampler;
pub mod spark_executors;
pub mod spark_rest;

use crate::model::pod::JobKey;
use app::api::{JobDetail, JobMetrics, MetricSeries, MetricsSource, PanelError};
use jiff::Timestamp;
use panels::PrometheusSource;
use range::MetricsRange;
use sampler::Sampler;
use std::sync::Arc;

/// The metrics source as configured: Prometheus when given, else the sampler's settings.
#[derive(Clone, Debug)]
pub struct MetricsConfig {
    pub prometheus: Option<PrometheusSource>,
    pub sampler: sampler::SamplerOptions,
}

impl MetricsConfig {
    /// The service: Prometheus, or metrics.k8s.io sampled through `client`.
    pub fn service(self, client: kube::Client) -> MetricsService {
        match self.prometheus {
            Some(prometheus) => MetricsService::Prometheus(Arc::new(prometheus)),
            None => MetricsService::MetricsServer(Arc::new(Sampler::new(client, self.sampler))),
        }
    }
}

/// Where the series come from.
#[derive(Clone)]
pub enum MetricsService {
    Prometheus(Arc<PrometheusSource>),
    MetricsServer(Arc<Sampler>),
    /// No source: the response says so, and still carries requests, limits and OOM kills.
    None,
}

impl MetricsService {
    fn source(&self) -> MetricsSource {
        match self {
            MetricsService::Prometheus(_) => MetricsSource::Prometheus,
            MetricsService::MetricsServer(_) => MetricsSource::MetricsServer,
            MetricsService::None => MetricsSource::None,
        }
    }

    /// `detail`'s metrics over `range`, with Spark's executors from `spark`. Never fails as a
    /// whole: a source's failure is an error of the panels it feeds.
    pub async fn job_metrics(&self, detail: &JobDetail, range: &MetricsRange, spark: SparkRest<'_>) -> JobMetrics {
        let (requests, limits) = from_pods::requests_and_limits(&detail.pods);
        let ((series, mut errors, history_since), (spark, spark_error)) =
            tokio::join!(self.series(detail, range), spark_rest::executors(spark.client, spark.upstream, &detail.pods));
        errors.extend(spark_error);
        JobMetrics {
            source: self.source(),
            from: range.from,
            to: range.to,
            step_s: range.step as f64,
            history_since,
            series,
            requests,
            limits,
            events: from_pods::oom_kills(&detail.pods),
            errors,
            summary: None,
            spark,
        }
    }

    /// The containers' series over `range`, the panels that failed, and where history starts.
    async fn series(&self, detail: &JobDetail, range: &MetricsRange) -> (Vec<MetricSeries>, Vec<PanelError>, Option<Timestamp>) {
        let pods = from_pods::ran_within(&detail.pods, range);
        let namespace = &detail.job.namespace;
        match self {
            MetricsService::Prometheus(prometheus) if !pods.is_empty() => {
                let (series, errors) = prometheus.series(namespace, &pods, range).await;
                (series, errors, None)
            }
            MetricsService::MetricsServer(sampler) if !pods.is_empty() => {
                let key = JobKey { namespace: namespace.clone(), name: detail.job.name.clone() };
                let sampled = sampler.samples(&key, &pods, range.from, range.to).await;
                (sampled.series, sampled.errors, sampled.since)
            }
            _ => Default::default(),
        }
    }
}

/// Where a job's executor metrics are asked for: the Spark UI proxy's client (its pool) and
/// the upstream it resolved for the job ([`crate::sources::spark_ui::SparkClient::upstream`]).
pub struct SparkRest<'a> {
    pub client: &'a crate::sources::spark_ui::SparkClient,
    pub upstream: crate::sources::spark_ui::Upstream,
}
