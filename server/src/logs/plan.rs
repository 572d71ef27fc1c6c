//! Which sources make a job's log, and the running merge over them.
//!
//! A job's log is: every container of its driver and executors (deleted ones from the archive),
//! its controller pods (the spark-submit that launched it), spark-operator's lines that name it,
//! and the Kubernetes events about it. While following, pods that start later (executors under
//! dynamic allocation) join as they appear.

use super::event::{Event, SourceInfo};
use super::live::PodLogApi;
use super::merge::{Feed, Merge, SourceFeed, feed};
use super::record::Nanos;
use super::shipped::ShippedLogs;
use super::source::{self, Mentions, PodNow, PodProbe, Presence, Readers, SourcePlan, Span};
use crate::model::JobModel;
use crate::model::pod::Phase;
use app::api::{JobDetail, LogLevel, LogSource, Pod, PodRole};
use app::log_query::LogQuery;
use futures::future::BoxFuture;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod as KubePod;
use kube::api::{Api, ListParams};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a followed job is looked at for new pods.
const NEW_PODS_EVERY: Duration = Duration::from_secs(1);

/// Where spark-operator runs, to read its lines about a job.
#[derive(Clone)]
pub struct OperatorPods {
    pub client: kube::Client,
    pub namespace: String,
    pub selector: String,
}

impl OperatorPods {
    async fn find(&self) -> Result<Vec<(String, Vec<String>, bool, bool)>, kube::Error> {
        let api: Api<KubePod> = Api::namespaced(self.client.clone(), &self.namespace);
        let pods = api.list(&ListParams::default().labels(&self.selector)).await?;
        Ok(pods
            .items
            .into_iter()
            .filter_map(|pod| {
                let name = pod.metadata.name?;
                let spec = pod.spec?;
                let status = pod.status.unwrap_or_default();
                let running = status.phase.as_deref() == Some("Running");
                let restarted = status.container_statuses.iter().flatten().any(|c| c.restart_count > 0);
                Some((name, spec.containers.into_iter().map(|c| c.name).collect(), running, restarted))
            })
            .collect())
    }
}

/// Finds a job's current detail again (for pods that start while following).
pub type Lookup = Arc<dyn Fn() -> BoxFuture<'static, Option<JobDetail>> + Send + Sync>;

/// The log pipeline's standing parts, shared by every request.
#[derive(Clone)]
pub struct LogService {
    pub archive: Option<Arc<ShippedLogs>>,
    pub live: Option<Arc<dyn PodLogApi>>,
    pub probe: Arc<dyn PodProbe>,
    pub operator: Option<OperatorPods>,
}

/// The model answers the probe.
pub struct ModelProbe(pub Arc<JobModel>);

impl PodProbe for ModelProbe {
    fn state(&self, namespace: &str, pod: &str) -> PodNow {
        match self.0.pod_phase(namespace, pod) {
            None => PodNow::Gone,
            Some(Phase::Running | Phase::Pending | Phase::Unknown) => PodNow::Running,
            Some(Phase::Succeeded | Phase::Failed) => PodNow::Stopped,
        }
    }
}

impl LogService {
    /// No archive, no live API: only what the model holds (events). For benchmarks of other
    /// parts and tests that do not read logs.
    pub fn without_sources(model: Arc<JobModel>) -> LogService {
        LogService { archive: None, live: None, probe: Arc::new(ModelProbe(model)), operator: None }
    }

    fn readers(&self) -> Readers {
        Readers { archive: self.archive.clone(), live: self.live.clone(), probe: self.probe.clone() }
    }

    /// Starts reading `detail`'s log as `query` asks; the merge gives the events in order.
    pub async fn open(&self, detail: JobDetail, query: &LogQuery, lookup: Lookup) -> Merge {
        let now = Timestamp::now();
        let (since, until) = query.span(now);
        let span = Span { since: since.map(Nanos::of), until: until.map(Nanos::of), follow: query.follow };
        let job = JobSources::new(&detail, query);
        let mut feeds = Vec::new();
        let mut started = HashSet::new();
        for plan in job.pod_plans(&detail) {
            started.insert((plan.pod.clone(), plan.container.clone()));
            feeds.push(self.spawn(plan, span));
        }
        if detail.job.from_operator
            && let Some(operator) = &self.operator
        {
            feeds.extend(self.operator_feeds(operator, &detail, &job, span).await);
        }
        if let Some(events) = job.events_feed(&detail, span) {
            feeds.push(events);
        }
        let added = if query.follow && detail.job.finished_at.is_none() {
            let (tx, rx) = mpsc::channel(16);
            tokio::spawn(self.clone().follow_new_pods(job, started, span, lookup, tx));
            Some(rx)
        } else {
            None
        };
        Merge::new(feeds, added)
    }

    fn spawn(&self, plan: SourcePlan, span: Span) -> SourceFeed {
        let (tx, feed) = feed(plan.info.clone());
        tokio::spawn(source::run(plan, self.readers(), span, tx));
        feed
    }

    async fn operator_feeds(&self, operator: &OperatorPods, detail: &JobDetail, job: &JobSources, span: Span) -> Vec<SourceFeed> {
        let source = LogSource { role: PodRole::Controller, pod: "spark-operator".into(), container: String::new(), executor_id: None };
        if !job.wants(&source) {
            return Vec::new();
        }
        // The operator's log is shared by every app: read only the job's span of it.
        let started = detail.job.submitted_at.or(detail.job.started_at).map(|t| Nanos::of(t).floor_second());
        let span = Span { since: span.since.max(started.map(|t| Nanos(t.0 - 60_000_000_000))), ..span };
        match operator.find().await {
            Ok(pods) => pods
                .into_iter()
                .flat_map(|(pod, containers, running, restarted)| containers.into_iter().map(move |c| (pod.clone(), c, running, restarted)))
                .enumerate()
                .map(|(i, (pod, container, running, restarted))| {
                    let source = LogSource { role: PodRole::Controller, pod: pod.clone(), container: container.clone(), executor_id: None };
                    let plan = SourcePlan {
                        info: SourceInfo::new(&operator.namespace, source, 1 + i as u32),
                        namespace: operator.namespace.clone(),
                        pod,
                        container,
                        app_id: None,
                        presence: Presence::Present { restarted, running: running && detail.job.finished_at.is_none() },
                        lifetime: job.lifetime,
                        mentions: Some(Mentions::job(&detail.job.namespace, &detail.job.name)),
                    };
                    self.spawn(plan, span)
                })
                .collect(),
            Err(e) => {
                let info = SourceInfo::new(&operator.namespace, source, 1);
                let (tx, feed) = feed(info.clone());
                let marker = Event {
                    time: span.since.or(job.lifetime.map(|(from, _)| Nanos::of(from))).unwrap_or_default(),
                    source: info,
                    level: LogLevel::Marker,
                    text: format!(
                        "spark-operator's log could not be found (pods in {} with {}): {e}",
                        operator.namespace, operator.selector
                    ),
                    stream: None,
                    dup: 0,
                };
                let _ = tx.try_send(Feed::Events(vec![marker]));
                vec![feed]
            }
        }
    }

    /// While following, adds the sources of pods that appear, until the job ends.
    async fn follow_new_pods(
        self,
        job: JobSources,
        mut started: HashSet<(String, String)>,
        span: Span,
        lookup: Lookup,
        tx: mpsc::Sender<SourceFeed>,
    ) {
        loop {
            tokio::time::sleep(NEW_PODS_EVERY).await;
            if tx.is_closed() {
                return;
            }
            let Some(detail) = lookup().await else { return };
            for plan in job.pod_plans(&detail) {
                if started.insert((plan.pod.clone(), plan.container.clone())) && tx.send(self.spawn(plan, span)).await.is_err() {
                    return;
                }
            }
            if detail.job.finished_at.is_some() {
                return;
            }
        }
    }
}

/// The job's sources as the query narrows them.
struct JobSources {
    namespace: String,
    app_id: Option<String>,
    lifetime: Option<(Timestamp, Timestamp)>,
    query: LogQuery,
}

impl JobSources {
    fn new(detail: &JobDetail, query: &LogQuery) -> JobSources {
        let job = &detail.job;
        let first_pod = detail.pods.iter().filter_map(|p| p.started_at).min();
        let from = [job.submitted_at, job.started_at, first_pod].into_iter().flatten().min();
        let lifetime = from.map(|from| (from, job.finished_at.unwrap_or_else(Timestamp::now).max(from)));
        JobSources { namespace: job.namespace.clone(), app_id: job.app_id.clone(), lifetime, query: query.clone() }
    }

    fn wants(&self, source: &LogSource) -> bool {
        self.query.sources.is_empty() || self.query.sources.iter().any(|s| s.matches(source))
    }

    fn pod_plans(&self, detail: &JobDetail) -> Vec<SourcePlan> {
        let gone_job = detail.job.deleted_from_cluster;
        let mut plans = Vec::new();
        for (i, pod) in detail.pods.iter().enumerate() {
            for container in containers(pod) {
                let source =
                    LogSource { role: pod.role, pod: pod.name.clone(), container: container.clone(), executor_id: pod.executor_id.clone() };
                if !self.wants(&source) {
                    continue;
                }
                let presence = if pod.deleted || gone_job {
                    Presence::Gone { stopped_at: pod.finished_at }
                } else {
                    Presence::Present { restarted: pod.restarts > 0, running: pod.phase == "Running" || pod.phase == "Pending" }
                };
                let rank = match pod.role {
                    PodRole::Controller => 2 + i as u32,
                    PodRole::Driver => 1000,
                    PodRole::Executor => 2000 + pod.executor_id.as_deref().and_then(|id| id.parse::<u32>().ok()).unwrap_or(i as u32),
                };
                // A pod's own life bounds its archive objects better than the job's.
                let lifetime = self
                    .lifetime
                    .map(|(from, to)| (pod.started_at.map_or(from, |s| s.min(to)), pod.finished_at.map_or(to, |f| f.max(from))));
                plans.push(SourcePlan {
                    info: SourceInfo::new(&self.namespace, source, rank),
                    namespace: self.namespace.clone(),
                    pod: pod.name.clone(),
                    container,
                    app_id: self.app_id.clone(),
                    presence,
                    lifetime,
                    mentions: None,
                });
            }
        }
        plans
    }

    /// The job's Kubernetes events as one more source (they have whole-second times).
    fn events_feed(&self, detail: &JobDetail, span: Span) -> Option<SourceFeed> {
        let source = LogSource { role: PodRole::Controller, pod: "events".into(), container: "kubernetes".into(), executor_id: None };
        if !self.wants(&source) || detail.events.is_empty() {
            return None;
        }
        let info = SourceInfo::new(&self.namespace, source, 0);
        let mut events: Vec<Event> = detail
            .events
            .iter()
            .filter_map(|e| {
                let time = Nanos::of(e.time?);
                let inside = span.since.is_none_or(|s| time >= s) && span.until.is_none_or(|u| time <= u);
                inside.then(|| Event {
                    time,
                    source: info.clone(),
                    level: if e.kind == "Warning" { LogLevel::Warn } else { LogLevel::Info },
                    text: format!(
                        "{} {}: {}{}",
                        e.reason,
                        e.object,
                        e.message,
                        if e.count > 1 { format!(" (x{})", e.count) } else { String::new() }
                    ),
                    stream: None,
                    dup: 0,
                })
            })
            .collect();
        events.sort_by_key(|e| e.time);
        for i in 1..events.len() {
            if events[i].time == events[i - 1].time {
                events[i].dup = events[i - 1].dup + 1;
            }
        }
        let (tx, feed) = feed(info);
        tokio::spawn(async move {
            for chunk in events.chunks(256) {
                if tx.send(Feed::Events(chunk.to_vec())).await.is_err() {
                    return;
                }
            }
        });
        Some(feed)
    }
}

/// A pod's containers; pods recorded before containers were kept have Spark's defaults.
fn containers(pod: &Pod) -> Vec<String> {
    if !pod.containers.is_empty() {
        return pod.containers.clone();
    }
    let default = match pod.role {
        PodRole::Driver => "spark-kubernetes-driver",
        PodRole::Executor => "spark-kubernetes-executor",
        PodRole::Controller => return Vec::new(),
    };
    vec![default.to_string()]
}
