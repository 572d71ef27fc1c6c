//! The model: compact projections of what the sources saw, and the jobs derived from them.
//!
//! Sources write here (`apply_*`, `delete_*`, `replace_*`); views read (`jobs`, `job`) or
//! subscribe to the feed of job changes. Every write recomputes only the jobs it touches and
//! publishes a change only when a job really changed. Locks are short and never held across
//! an `.await`.

pub mod app;
pub mod event;
pub mod job;
pub mod node;
pub mod pod;

use self::app::AppSummary;
use self::event::{EventSummary, ObjectRef};
use self::node::NodeInfo;
use self::pod::{JobKey, PodSummary, Role};
use ::app::api::{Event, Job, JobChange, JobDetail, Pod, PodRole, sort_newest_first};
use jiff::Timestamp;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::broadcast;

/// How many job changes a slow subscriber may fall behind before it gets a fresh snapshot.
const FEED_CAPACITY: usize = 4096;

/// Jobs, as derived from SparkApplications and Spark pods.
pub struct JobModel {
    inner: RwLock<Inner>,
    feed: broadcast::Sender<JobChange>,
    /// Sources that have not finished their first full list yet.
    unsynced: Mutex<HashSet<String>>,
}

#[derive(Default)]
struct Inner {
    apps: HashMap<JobKey, AppSummary>,
    pods: HashMap<(String, String), PodSummary>,
    pods_by_job: HashMap<JobKey, BTreeSet<String>>,
    jobs: HashMap<JobKey, Job>,
    nodes: HashMap<String, NodeInfo>,
    events: HashMap<(String, String), EventSummary>,
    events_by_object: HashMap<ObjectRef, BTreeSet<(String, String)>>,
}

/// How many events the job page shows at most (the newest).
const EVENTS_PER_JOB: usize = 200;

impl Default for JobModel {
    fn default() -> Self {
        JobModel { inner: RwLock::default(), feed: broadcast::channel(FEED_CAPACITY).0, unsynced: Mutex::default() }
    }
}

impl JobModel {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Every job, newest submission first.
    pub fn jobs(&self) -> Vec<Job> {
        let now = Timestamp::now();
        let mut jobs: Vec<Job> = self.read().jobs.values().map(|j| live(j, now)).collect();
        sort_newest_first(&mut jobs);
        jobs
    }

    /// The job whose Spark application id is `app_id`.
    pub fn find_by_app_id(&self, app_id: &str) -> Option<JobKey> {
        let inner = self.read();
        inner.jobs.iter().find(|(_, job)| job.app_id.as_deref() == Some(app_id)).map(|(key, _)| key.clone())
    }

    /// The job an Airflow task run launched: that try, or the latest try when none is given.
    pub fn find_by_airflow(&self, dag_id: &str, task_id: &str, run_id: &str, try_number: Option<u32>) -> Option<JobKey> {
        let inner = self.read();
        inner
            .jobs
            .iter()
            .filter_map(|(key, job)| job.airflow.as_ref().map(|a| (key, a)))
            .filter(|(_, a)| a.dag_id == dag_id && a.task_id == task_id && a.run_id == run_id)
            .filter(|(_, a)| try_number.is_none_or(|t| a.try_number == Some(t)))
            .max_by_key(|(key, a)| (a.try_number, (*key).clone()))
            .map(|(key, _)| key.clone())
    }

    /// A job with its pods, events and Spark configuration.
    pub fn job_detail(&self, key: &JobKey) -> Option<JobDetail> {
        let inner = self.read();
        let job = live(inner.jobs.get(key)?, Timestamp::now());
        let mut pods: Vec<&PodSummary> = inner
            .pods_by_job
            .get(key)
            .into_iter()
            .flatten()
            .filter_map(|name| inner.pods.get(&(key.namespace.clone(), name.clone())))
            .filter(|p| !p.deleted)
            .collect();
        pods.sort_by_key(|p| (p.role != Role::Driver, executor_number(&p.name), p.name.clone()));
        let mut about = vec![ObjectRef { kind: "SparkApplication".into(), namespace: key.namespace.clone(), name: key.name.clone() }];
        for pod in &pods {
            about.push(ObjectRef { kind: "Pod".into(), namespace: pod.namespace.clone(), name: pod.name.clone() });
            if let Some(node) = &pod.node {
                about.push(ObjectRef { kind: "Node".into(), namespace: String::new(), name: node.clone() });
            }
        }
        about.sort();
        about.dedup();
        let mut events: Vec<&EventSummary> =
            about.iter().filter_map(|object| inner.events_by_object.get(object)).flatten().filter_map(|id| inner.events.get(id)).collect();
        events.sort_by_key(|e| e.time);
        let skip = events.len().saturating_sub(EVENTS_PER_JOB);
        let pods = pods
            .iter()
            .map(|p| {
                let node = p.node.as_ref().and_then(|n| inner.nodes.get(n));
                Pod {
                    name: p.name.clone(),
                    role: if p.role == Role::Driver { PodRole::Driver } else { PodRole::Executor },
                    node: p.node.clone(),
                    instance_type: node.and_then(|n| n.instance_type.clone()),
                    capacity_type: node.and_then(|n| n.capacity_type.clone()),
                    phase: p.phase_name().to_string(),
                    restarts: p.restarts,
                    exit_code: p.exit_code,
                    reason: p.reason.clone(),
                    started_at: p.started_at,
                    finished_at: p.finished_at,
                }
            })
            .collect();
        let events = events
            .into_iter()
            .skip(skip)
            .map(|e| Event {
                time: e.time,
                kind: if e.warning { "Warning" } else { "Normal" }.to_string(),
                reason: e.reason.clone(),
                message: e.message.clone(),
                object: format!("{}/{}", e.about.kind.to_lowercase(), e.about.name),
                count: e.count,
            })
            .collect();
        let spark_conf = inner.apps.get(key).map(|a| a.spark_conf.iter().cloned().collect()).unwrap_or_default();
        Some(JobDetail { job, pods, events, spark_conf })
    }

    pub fn apply_node(&self, node: NodeInfo) {
        self.write().nodes.insert(node.name.clone(), node);
    }

    pub fn delete_node(&self, name: &str) {
        self.write().nodes.remove(name);
    }

    /// A fresh full list of nodes.
    pub fn replace_nodes(&self, nodes: Vec<NodeInfo>) {
        self.write().nodes = nodes.into_iter().map(|n| (n.name.clone(), n)).collect();
    }

    pub fn apply_event(&self, event: EventSummary) {
        let mut inner = self.write();
        Self::unlink_event(&mut inner, &event.id);
        inner.events_by_object.entry(event.about.clone()).or_default().insert(event.id.clone());
        inner.events.insert(event.id.clone(), event);
    }

    pub fn delete_event(&self, namespace: &str, name: &str) {
        Self::unlink_event(&mut self.write(), &(namespace.to_string(), name.to_string()));
    }

    /// A fresh full list of events in `namespace` (all when `None`).
    pub fn replace_events(&self, namespace: Option<&str>, events: Vec<EventSummary>) {
        let mut inner = self.write();
        let gone: Vec<(String, String)> = inner.events.keys().filter(|(ns, _)| namespace.is_none_or(|n| n == ns)).cloned().collect();
        for id in gone {
            Self::unlink_event(&mut inner, &id);
        }
        for event in events {
            inner.events_by_object.entry(event.about.clone()).or_default().insert(event.id.clone());
            inner.events.insert(event.id.clone(), event);
        }
    }

    fn unlink_event(inner: &mut Inner, id: &(String, String)) {
        if let Some(old) = inner.events.remove(id)
            && let Some(ids) = inner.events_by_object.get_mut(&old.about)
        {
            ids.remove(id);
            if ids.is_empty() {
                inner.events_by_object.remove(&old.about);
            }
        }
    }

    /// Every job now, and the feed of changes after that moment, with nothing in between.
    pub fn subscribe(&self) -> (Vec<Job>, broadcast::Receiver<JobChange>) {
        let inner = self.read();
        let rx = self.feed.subscribe();
        let now = Timestamp::now();
        let mut jobs: Vec<Job> = inner.jobs.values().map(|j| live(j, now)).collect();
        drop(inner);
        sort_newest_first(&mut jobs);
        (jobs, rx)
    }

    pub fn apply_app(&self, app: AppSummary) {
        let mut inner = self.write();
        let key = app.key.clone();
        inner.apps.insert(key.clone(), app);
        self.recompute(&mut inner, key);
    }

    pub fn delete_app(&self, key: &JobKey) {
        let mut inner = self.write();
        inner.apps.remove(key);
        self.recompute(&mut inner, key.clone());
    }

    pub fn apply_pod(&self, pod: PodSummary) {
        let mut inner = self.write();
        let id = (pod.namespace.clone(), pod.name.clone());
        let key = pod.job.clone();
        if let Some(old) = inner.pods.insert(id, pod.clone())
            && old.job != key
        {
            self.unlink_pod(&mut inner, &old);
        }
        inner.pods_by_job.entry(key.clone()).or_default().insert(pod.name);
        self.recompute(&mut inner, key);
    }

    /// A pod is gone. An executor is kept, marked deleted, while its job lives: Spark deletes
    /// executors it releases, and the job's counts must still include them.
    pub fn delete_pod(&self, namespace: &str, name: &str) {
        let mut inner = self.write();
        let id = (namespace.to_string(), name.to_string());
        match inner.pods.get_mut(&id) {
            Some(pod) if pod.role == Role::Executor => {
                pod.deleted = true;
                let key = pod.job.clone();
                self.recompute(&mut inner, key);
            }
            Some(_) => {
                if let Some(old) = inner.pods.remove(&id) {
                    self.unlink_pod(&mut inner, &old);
                }
            }
            None => {}
        }
    }

    /// A fresh full list of apps in `namespace` (all when `None`): what is not in it is gone.
    pub fn replace_apps(&self, namespace: Option<&str>, apps: Vec<AppSummary>) {
        let mut inner = self.write();
        let fresh: HashSet<JobKey> = apps.iter().map(|a| a.key.clone()).collect();
        let gone: Vec<JobKey> =
            inner.apps.keys().filter(|k| namespace.is_none_or(|ns| k.namespace == ns) && !fresh.contains(*k)).cloned().collect();
        for key in gone {
            inner.apps.remove(&key);
            self.recompute(&mut inner, key);
        }
        for app in apps {
            let key = app.key.clone();
            if inner.apps.get(&key) != Some(&app) {
                inner.apps.insert(key.clone(), app);
                self.recompute(&mut inner, key);
            }
        }
    }

    /// A fresh full list of Spark pods in `namespace` (all when `None`).
    pub fn replace_pods(&self, namespace: Option<&str>, pods: Vec<PodSummary>) {
        let fresh: HashSet<(String, String)> = pods.iter().map(|p| (p.namespace.clone(), p.name.clone())).collect();
        let gone: Vec<(String, String)> = self
            .read()
            .pods
            .iter()
            .filter(|((ns, _), pod)| namespace.is_none_or(|n| ns == n) && !pod.deleted)
            .map(|(id, _)| id)
            .filter(|id| !fresh.contains(*id))
            .cloned()
            .collect();
        for (ns, name) in gone {
            self.delete_pod(&ns, &name);
        }
        for pod in pods {
            let unchanged = self.read().pods.get(&(pod.namespace.clone(), pod.name.clone())) == Some(&pod);
            if !unchanged {
                self.apply_pod(pod);
            }
        }
    }

    fn unlink_pod(&self, inner: &mut Inner, pod: &PodSummary) {
        if let Some(names) = inner.pods_by_job.get_mut(&pod.job) {
            names.remove(&pod.name);
            if names.is_empty() {
                inner.pods_by_job.remove(&pod.job);
            }
        }
        self.recompute(inner, pod.job.clone());
    }

    /// Re-derives one job and publishes the change, if any.
    fn recompute(&self, inner: &mut Inner, key: JobKey) {
        let pods: Vec<&PodSummary> = inner
            .pods_by_job
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|name| inner.pods.get(&(key.namespace.clone(), name.clone())))
            .collect();
        let app = inner.apps.get(&key);
        let alive = app.is_some() || pods.iter().any(|p| !p.deleted);
        let derived = alive.then(|| job::derive(&key, app, &pods, Timestamp::now()));
        if !alive {
            // The job is gone: so are the executors kept for its counts.
            for name in inner.pods_by_job.remove(&key).into_iter().flatten() {
                inner.pods.remove(&(key.namespace.clone(), name));
            }
        }
        let change = match derived {
            Some(job) if !inner.jobs.get(&key).is_some_and(|old| same_but_the_clock(old, &job)) => {
                inner.jobs.insert(key, job.clone());
                JobChange::Upsert { job }
            }
            None if inner.jobs.remove(&key).is_some() => JobChange::Delete { namespace: key.namespace, name: key.name },
            _ => return,
        };
        // No subscribers is fine.
        let _ = self.feed.send(change);
    }

    /// Registers a source that must finish its first list before the model is ready.
    pub fn expect_source(&self, name: &str) {
        self.unsynced.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string());
    }

    /// A source finished its first full list.
    pub fn source_synced(&self, name: &str) {
        self.unsynced.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
    }

    /// True once every expected source has listed once.
    pub fn is_ready(&self) -> bool {
        self.unsynced.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }
}

/// A job as of `now`: the stored duration of a running job is as old as its last change.
fn live(job: &Job, now: Timestamp) -> Job {
    Job { duration_s: job.duration_at(now), ..job.clone() }
}

/// Equal jobs, or a running job whose duration only grew with the clock: that is no change
/// worth publishing (browsers tick running durations themselves).
fn same_but_the_clock(old: &Job, new: &Job) -> bool {
    if old.state == ::app::api::JobState::Running && new.state == ::app::api::JobState::Running {
        Job { duration_s: None, ..old.clone() } == Job { duration_s: None, ..new.clone() }
    } else {
        old == new
    }
}

/// `…-exec-12` -> 12, so executors sort by number; anything else sorts first.
fn executor_number(pod: &str) -> u64 {
    pod.rsplit_once("-exec-").and_then(|(_, n)| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(name: &str, state: &str) -> AppSummary {
        AppSummary::from_object(
            &serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "ns", "creationTimestamp": "2026-11-21T05:00:00Z"},
                "status": {"applicationState": {"state": state}}
            }))
            .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn changes_are_published_only_when_a_job_changes() {
        let model = JobModel::default();
        let (_, mut rx) = model.subscribe();
        model.apply_app(app("a", "RUNNING"));
        model.apply_app(app("a", "RUNNING"));
        model.apply_app(app("a", "COMPLETED"));
        model.delete_app(&JobKey { namespace: "ns".into(), name: "a".into() });
        let mut seen = Vec::new();
        while let Ok(change) = rx.try_recv() {
            seen.push(match change {
                JobChange::Upsert { job } => job.state.to_string(),
                JobChange::Delete { name, .. } => format!("delete {name}"),
                JobChange::Snapshot { .. } => "snapshot".into(),
            });
        }
        assert_eq!(seen, ["RUNNING", "COMPLETED", "delete a"]);
    }

    #[test]
    fn a_relist_drops_what_is_gone_in_its_scope_only() {
        let model = JobModel::default();
        model.apply_app(app("a", "RUNNING"));
        let mut other = app("b", "RUNNING");
        other.key.namespace = "other".into();
        model.apply_app(other);
        model.replace_apps(Some("ns"), vec![app("c", "SUBMITTED")]);
        let mut ids: Vec<String> = model.jobs().iter().map(|j| j.id()).collect();
        ids.sort();
        assert_eq!(ids, ["ns/c", "other/b"]);
    }
}
