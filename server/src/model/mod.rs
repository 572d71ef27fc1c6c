//! The model: compact projections of what the sources saw, and the jobs derived from them.
//!
//! Sources write here (`apply_*`, `delete_*`, `replace_*`); views read (`jobs`, `job`) or
//! subscribe to the feed of job changes. Every write recomputes only the jobs it touches and
//! publishes a change only when a job really changed. Locks are short and never held across
//! an `.await`.

pub mod app;
pub mod controller;
mod detail;
pub mod event;
pub mod job;
pub mod labels;
pub mod listing;
pub mod node;
pub mod pod;
pub mod quantity;
pub mod schedule;

use self::app::AppSummary;
use self::controller::{ControllerSummary, Link};
use self::event::{EventSummary, ObjectRef};
use self::labels::LabelKeys;
use self::node::NodeInfo;
use self::pod::{JobKey, PodSummary, Role};
use self::schedule::ScheduleSummary;
use ::app::api::{Failure, Job, JobDetail, JobList, JobState};
use ::app::query::JobQuery;
use jiff::Timestamp;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio::sync::{broadcast, mpsc};

/// How many changes a slow subscriber may fall behind before it is told to start over.
const FEED_CAPACITY: usize = 4096;

/// How many jobs gone from Kubernetes are kept in memory unless configured otherwise: with an
/// archive most of them are one small summary each; without one, this is all the history there is.
pub const DEFAULT_KEEP_GONE: usize = 100_000;

/// Jobs, as derived from SparkApplications and Spark pods, plus the jobs Kubernetes no longer
/// has (from this process's memory or the archive).
pub struct JobModel {
    inner: RwLock<Inner>,
    feed: broadcast::Sender<Touched>,
    /// Sources that have not finished their first full list yet.
    unsynced: Mutex<HashSet<String>>,
    /// Where jobs worth archiving are announced, when there is an archive.
    archive: Mutex<Option<mpsc::UnboundedSender<JobKey>>>,
    /// Problems a reader should know about, by who reports them (shown as banners).
    warnings: Mutex<BTreeMap<&'static str, String>>,
    keep_gone: usize,
    label_keys: LabelKeys,
}

/// How the model is configured.
#[derive(Clone, Debug)]
pub struct ModelOptions {
    /// How many jobs Kubernetes deleted are kept in memory.
    pub keep_gone: usize,
    /// Which labels name a job's user, team and Airflow task.
    pub label_keys: LabelKeys,
}

impl Default for ModelOptions {
    fn default() -> Self {
        ModelOptions { keep_gone: DEFAULT_KEEP_GONE, label_keys: LabelKeys::default() }
    }
}

/// One job was touched: its summary changed (`summary`), or only its pods or events did.
#[derive(Clone, Debug)]
pub struct Touched {
    pub key: JobKey,
    pub summary: bool,
}

impl Touched {
    /// A touch for every view (the archive loaded, a warning or a schedule changed): its key
    /// is empty, which no job's is.
    fn every_view(summary: bool) -> Touched {
        Touched { key: JobKey { namespace: String::new(), name: String::new() }, summary }
    }

    /// Whether a view of job `key` should look again.
    pub fn concerns(&self, key: &JobKey) -> bool {
        self.key == *key || self.key.name.is_empty()
    }
}

/// A job Kubernetes no longer has.
#[derive(Clone, Debug)]
pub struct Gone {
    pub job: Job,
    /// Its pods and events, while only memory has them; `None` once the archive has them.
    pub detail: Option<Arc<JobDetail>>,
    /// A live job has the same id (a newer run, or this run still in Kubernetes): list that one.
    pub shadowed: bool,
}

/// Where a job's Spark UI can be reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SparkUi {
    /// Its driver runs: `authority` is `ip:port` of its UI.
    Driver {
        authority: String,
        app_id: Option<String>,
    },
    /// The job is on its way to running a driver (submitted, pending, being rerun): its UI comes
    /// soon. (The History Server would show a half-written event log, if any, and a browser sent
    /// there would stay there.)
    Starting {
        state: JobState,
        app_id: Option<String>,
    },
    /// No running driver (finished, or gone), or one whose UI has no address: the History
    /// Server's turn.
    NotRunning {
        state: JobState,
        app_id: Option<String>,
        /// When it ended: how long the History Server may still lag behind it.
        finished_at: Option<Timestamp>,
    },
    NoSuchJob,
}

/// What the model knows of one job's detail.
pub enum Detail {
    Here(Box<JobDetail>),
    /// Gone from Kubernetes and from memory: the archive has the rest.
    Archived(Box<Job>),
}

#[derive(Default)]
struct Inner {
    apps: HashMap<JobKey, AppSummary>,
    pods: HashMap<(String, String), PodSummary>,
    pods_by_job: HashMap<JobKey, BTreeSet<String>>,
    jobs: HashMap<JobKey, Job>,
    gone: HashMap<JobKey, Gone>,
    nodes: HashMap<String, NodeInfo>,
    schedules: HashMap<JobKey, ScheduleSummary>,
    controllers: HashMap<(String, String), ControllerSummary>,
    controllers_by_link: HashMap<(String, Link), BTreeSet<String>>,
    events: HashMap<(String, String), EventSummary>,
    events_by_object: HashMap<ObjectRef, BTreeSet<(String, String)>>,
}

impl Inner {
    /// Whether `object` is a job the model holds or one of its pods: its events are that job's
    /// history.
    fn holds_job_of(&self, object: &ObjectRef) -> bool {
        let id = (object.namespace.clone(), object.name.clone());
        match object.kind.as_str() {
            "SparkApplication" => self.jobs.contains_key(&JobKey { namespace: id.0, name: id.1 }),
            "Pod" => self.pods.contains_key(&id),
            _ => false,
        }
    }

    /// Every job to list: the live ones, and the gone ones no live job of the same id hides.
    fn all_jobs(&self) -> impl Iterator<Item = &Job> {
        self.jobs.values().chain(self.gone.values().filter(|g| !g.shadowed).map(|g| &g.job))
    }

    /// Adds or removes the live job `key`, keeping the shadow flag of a gone one true.
    fn set_live(&mut self, key: &JobKey, job: Option<Job>) {
        let live = job.is_some();
        match job {
            Some(job) => {
                self.jobs.insert(key.clone(), job);
            }
            None => {
                self.jobs.remove(key);
            }
        }
        if let Some(gone) = self.gone.get_mut(key) {
            gone.shadowed = live;
        }
    }
}

impl Default for JobModel {
    fn default() -> Self {
        JobModel::new(ModelOptions::default())
    }
}

impl JobModel {
    pub fn new(options: ModelOptions) -> Self {
        JobModel {
            inner: RwLock::default(),
            feed: broadcast::channel(FEED_CAPACITY).0,
            unsynced: Mutex::default(),
            archive: Mutex::default(),
            warnings: Mutex::default(),
            keep_gone: options.keep_gone.max(1),
            label_keys: options.label_keys,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn label_keys(&self) -> &LabelKeys {
        &self.label_keys
    }

    /// Every job, newest submission first.
    pub fn jobs(&self) -> Vec<Job> {
        let now = Timestamp::now();
        let mut jobs: Vec<Job> = self.read().all_jobs().map(|j| live(j, now)).collect();
        ::app::api::sort_newest_first(&mut jobs);
        jobs
    }

    /// One page of the jobs that match `query` among those the caller may see.
    pub fn query(&self, query: &JobQuery, visible: impl Fn(&str) -> bool) -> JobList {
        let now = Timestamp::now();
        let mut list = listing::page(self.read().all_jobs().filter(|j| visible(&j.namespace)), query, now);
        list.warnings = self.warnings();
        list
    }

    /// The job whose Spark application id is `app_id`.
    pub fn find_by_app_id(&self, app_id: &str) -> Option<JobKey> {
        let inner = self.read();
        inner.all_jobs().find(|job| job.app_id.as_deref() == Some(app_id)).map(key_of)
    }

    /// The job an Airflow task run launched: that try, or the latest try when none is given.
    pub fn find_by_airflow(&self, dag_id: &str, task_id: &str, run_id: &str, try_number: Option<u32>) -> Option<JobKey> {
        let inner = self.read();
        inner
            .all_jobs()
            .filter_map(|job| job.airflow.as_ref().map(|a| (job, a)))
            .filter(|(_, a)| a.dag_id == dag_id && a.task_id == task_id && a.run_id == run_id)
            .filter(|(_, a)| try_number.is_none_or(|t| a.try_number == Some(t)))
            .max_by_key(|(job, a)| (a.try_number, job.submitted_at, key_of(job)))
            .map(|(job, _)| key_of(job))
    }

    /// Where the job's Spark UI is now: its running driver's IP and UI port.
    pub fn spark_ui(&self, key: &JobKey) -> SparkUi {
        let inner = self.read();
        let Some(job) = inner.jobs.get(key).or_else(|| inner.gone.get(key).map(|g| &g.job)) else { return SparkUi::NoSuchJob };
        let driver = inner
            .pods_of(key)
            .into_iter()
            .filter(|p| p.role == Role::Driver && !p.deleted && p.status.phase == pod::Phase::Running)
            .max_by_key(|p| p.status.created);
        let starting =
            matches!(job.state, JobState::New | JobState::Submitted | JobState::Running | JobState::PendingRerun | JobState::Resuming);
        match (driver, driver.and_then(|d| Some(format!("{}:{}", d.ip.as_deref()?, d.ui_port?)))) {
            (_, Some(authority)) => SparkUi::Driver { authority, app_id: job.app_id.clone() },
            (None, None) if starting => SparkUi::Starting { state: job.state, app_id: job.app_id.clone() },
            _ => SparkUi::NotRunning { state: job.state, app_id: job.app_id.clone(), finished_at: job.finished_at },
        }
    }

    /// A pod of some job (driver, executor or controller) as the model sees it now: its phase,
    /// or None when it was deleted or never seen. The log pipeline asks when a follow ends.
    pub fn pod_phase(&self, namespace: &str, name: &str) -> Option<pod::Phase> {
        let inner = self.read();
        let key = (namespace.to_string(), name.to_string());
        let status = match (inner.pods.get(&key), inner.controllers.get(&key)) {
            (Some(pod), _) if !pod.deleted => &pod.status,
            (_, Some(controller)) if !controller.deleted => &controller.status,
            _ => return None,
        };
        Some(status.phase)
    }

    /// A job with its pods, events and Spark configuration.
    pub fn job_detail(&self, key: &JobKey) -> Option<Detail> {
        let inner = self.read();
        if let Some(job) = inner.jobs.get(key) {
            return Some(Detail::Here(Box::new(inner.detail(key, live(job, Timestamp::now()), &self.label_keys))));
        }
        let gone = inner.gone.get(key)?;
        Some(match &gone.detail {
            Some(detail) => Detail::Here(Box::new(JobDetail::clone(detail))),
            None => Detail::Archived(Box::new(gone.job.clone())),
        })
    }

    /// What to write to the archive for `key` now: its detail, unless the archive already has
    /// exactly this.
    pub fn archive_snapshot(&self, key: &JobKey) -> Option<JobDetail> {
        let inner = self.read();
        if let Some(job) = inner.jobs.get(key) {
            let archived =
                inner.gone.get(key).is_some_and(|g| g.detail.is_none() && Job { deleted_from_cluster: false, ..g.job.clone() } == *job);
            return (!archived).then(|| inner.detail(key, job.clone(), &self.label_keys));
        }
        inner.gone.get(key).and_then(|g| g.detail.as_deref().cloned())
    }

    /// The archive holds `job` now: a gone job's detail may leave memory.
    pub fn archived(&self, job: &Job) {
        let key = key_of(job);
        let mut inner = self.write();
        match inner.gone.get_mut(&key) {
            Some(gone) if gone.job == *job => gone.detail = None,
            Some(_) => {}
            // Still in Kubernetes: remember that this much is archived, so a restart or a
            // re-list does not write it again.
            None => {
                inner.gone.insert(key, Gone { job: Job { deleted_from_cluster: true, ..job.clone() }, detail: None, shadowed: true });
            }
        }
    }

    /// Jobs read from the archive at start-up. What memory has is newer and stays.
    pub fn load_archived(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut inner = self.write();
        for job in jobs {
            let key = key_of(&job);
            let newer_here = inner.gone.get(&key).is_some_and(|g| g.detail.is_some() || g.job.submitted_at >= job.submitted_at);
            if !newer_here {
                let shadowed = inner.jobs.contains_key(&key);
                inner.gone.insert(key, Gone { job: Job { deleted_from_cluster: true, ..job }, detail: None, shadowed });
            }
        }
        self.evict_gone(&mut inner);
        drop(inner);
        // One nudge for every view: a page recomputes from scratch anyway.
        let _ = self.feed.send(Touched::every_view(true));
    }

    /// Announces jobs worth archiving on `tx` from now on.
    pub fn attach_archive(&self, tx: mpsc::UnboundedSender<JobKey>) {
        let mut inner = self.write();
        let terminal: Vec<JobKey> = inner
            .jobs
            .iter()
            .filter(|(_, j)| j.state.is_terminal())
            .map(|(k, _)| k.clone())
            .chain(inner.gone.iter().filter(|(_, g)| g.detail.is_some()).map(|(k, _)| k.clone()))
            .collect();
        for key in terminal {
            let _ = tx.send(key);
        }
        *self.archive.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        inner.gone.shrink_to_fit();
    }

    fn request_archive(&self, key: &JobKey) {
        if let Some(tx) = self.archive.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = tx.send(key.clone());
        }
    }

    /// Sets (or clears, with `None`) the warning `from` reports.
    pub fn warn(&self, from: &'static str, message: Option<String>) {
        let mut warnings = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
        let changed = match message {
            Some(m) => warnings.insert(from, m.clone()).as_ref() != Some(&m),
            None => warnings.remove(from).is_some(),
        };
        drop(warnings);
        if changed {
            let _ = self.feed.send(Touched::every_view(true));
        }
    }

    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Jobs gone from Kubernetes that only memory holds (not yet in the archive).
    pub fn unarchived_gone(&self) -> usize {
        self.read().gone.values().filter(|g| g.detail.is_some()).count()
    }

    /// A schedule changed: pages of its runs may show it (a nudge, not a summary change).
    fn nudge(&self) {
        let _ = self.feed.send(Touched::every_view(false));
    }

    pub fn apply_schedule(&self, schedule: ScheduleSummary) {
        self.write().schedules.insert(schedule.key.clone(), schedule);
        self.nudge();
    }

    pub fn delete_schedule(&self, key: &JobKey) {
        self.write().schedules.remove(key);
        self.nudge();
    }

    /// A fresh full list of schedules in `namespace` (all when `None`).
    pub fn replace_schedules(&self, namespace: Option<&str>, schedules: Vec<ScheduleSummary>) {
        let mut inner = self.write();
        inner.schedules.retain(|k, _| namespace.is_some_and(|ns| k.namespace != ns));
        inner.schedules.extend(schedules.into_iter().map(|s| (s.key.clone(), s)));
        drop(inner);
        self.nudge();
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
        let job = match event.about.kind.as_str() {
            "SparkApplication" => Some(JobKey { namespace: event.about.namespace.clone(), name: event.about.name.clone() }),
            "Pod" => inner.pods.get(&(event.about.namespace.clone(), event.about.name.clone())).map(|p| p.job.clone()),
            _ => None,
        };
        inner.events_by_object.entry(event.about.clone()).or_default().insert(event.id.clone());
        inner.events.insert(event.id.clone(), event);
        // An event can change the summary (FailedScheduling), and always the job's page.
        if let Some(key) = job {
            self.recompute(&mut inner, key);
        }
    }

    /// The scheduler's latest FailedScheduling message about the job's driver.
    fn unschedulable<'a>(inner: &'a Inner, pods: &[&PodSummary]) -> Option<&'a str> {
        pods.iter()
            .filter(|p| p.role == Role::Driver && !p.deleted)
            .filter_map(|p| {
                inner.events_by_object.get(&ObjectRef { kind: "Pod".into(), namespace: p.namespace.clone(), name: p.name.clone() })
            })
            .flatten()
            .filter_map(|id| inner.events.get(id))
            .filter(|e| e.reason == "FailedScheduling")
            .max_by_key(|e| e.time)
            .map(|e| e.message.as_str())
    }

    /// Kubernetes deleted an event. One about a job the model holds stays with that job: the
    /// API server deletes every event an hour after it (`--event-ttl`), and last night's
    /// FailedScheduling or spot interruption is what an on-call engineer comes to read. It
    /// leaves when its job leaves ([`Self::forget_events_about`]).
    pub fn delete_event(&self, namespace: &str, name: &str) {
        let mut inner = self.write();
        let id = (namespace.to_string(), name.to_string());
        if !inner.events.get(&id).is_some_and(|e| inner.holds_job_of(&e.about)) {
            Self::unlink_event(&mut inner, &id);
        }
    }

    /// A fresh full list of events in `namespace` (all when `None`); those missing from it go,
    /// except the ones about a job the model holds (as in [`Self::delete_event`]).
    pub fn replace_events(&self, namespace: Option<&str>, events: Vec<EventSummary>) {
        let mut inner = self.write();
        let gone: Vec<(String, String)> = inner
            .events
            .iter()
            .filter(|((ns, _), event)| namespace.is_none_or(|n| n == ns) && !inner.holds_job_of(&event.about))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            Self::unlink_event(&mut inner, &id);
        }
        for event in events {
            inner.events_by_object.entry(event.about.clone()).or_default().insert(event.id.clone());
            inner.events.insert(event.id.clone(), event);
        }
    }

    /// Drops every event about `object`, gone from the model with its job.
    fn forget_events_about(inner: &mut Inner, object: &ObjectRef) {
        for id in inner.events_by_object.remove(object).unwrap_or_default() {
            inner.events.remove(&id);
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

    /// The feed of touched jobs from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Touched> {
        self.feed.subscribe()
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

    /// A pod is gone. It is kept, marked deleted, while its job lives: Spark deletes executors
    /// it releases, and the job's counts and pods table must still include them.
    pub fn delete_pod(&self, namespace: &str, name: &str) {
        let mut inner = self.write();
        if let Some(pod) = inner.pods.get_mut(&(namespace.to_string(), name.to_string())) {
            pod.deleted = true;
            let key = pod.job.clone();
            self.recompute(&mut inner, key);
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

    /// Re-derives one job and tells subscribers; a job that left Kubernetes becomes [`Gone`].
    fn recompute(&self, inner: &mut Inner, key: JobKey) {
        let now = Timestamp::now();
        let pods = inner.pods_of(&key);
        let app = inner.apps.get(&key);
        // Operator pods make no job without their app: at start-up they may be listed before
        // it, and when the app is deleted they follow it.
        let alive = app.is_some() || pods.iter().any(|p| !p.deleted && !p.from_operator);
        if !alive {
            let summary = match inner.jobs.get(&key) {
                Some(last) => {
                    let detail = inner.detail(&key, gone_job(last, now), &self.label_keys);
                    inner.jobs.remove(&key);
                    inner.gone.insert(key.clone(), Gone { job: detail.job.clone(), detail: Some(Arc::new(detail)), shadowed: false });
                    self.request_archive(&key);
                    self.evict_gone(inner);
                    true
                }
                None => false,
            };
            // Deleted pods leave with their job, and the events about them and the app (the
            // gone job's detail keeps them); live pods wait for their app.
            let mut left = Vec::new();
            if let Some(names) = inner.pods_by_job.get_mut(&key) {
                names.retain(|name| {
                    let id = (key.namespace.clone(), name.clone());
                    let deleted = inner.pods.get(&id).is_none_or(|p| p.deleted);
                    if deleted {
                        inner.pods.remove(&id);
                        left.push(ObjectRef { kind: "Pod".into(), namespace: id.0, name: id.1 });
                    }
                    !deleted
                });
                if names.is_empty() {
                    inner.pods_by_job.remove(&key);
                }
            }
            // The app's own events only when a job left: at start-up, operator pods may be
            // listed (and recomputed) before their app and its events.
            if summary {
                left.push(ObjectRef { kind: "SparkApplication".into(), namespace: key.namespace.clone(), name: key.name.clone() });
            }
            for object in &left {
                Self::forget_events_about(inner, object);
            }
            let _ = self.feed.send(Touched { key, summary });
            return;
        }
        let cx = job::Context { keys: &self.label_keys, unschedulable: Self::unschedulable(inner, &pods), now };
        let job = job::derive(&key, app, &pods, cx);
        let changed = !inner.jobs.get(&key).is_some_and(|old| same_but_the_clock(old, &job));
        if changed {
            if job.state.is_terminal() {
                self.request_archive(&key);
            }
            inner.set_live(&key, Some(job));
        }
        let _ = self.feed.send(Touched { key, summary: changed });
    }

    /// Keeps the newest `keep_gone` gone jobs, dropping the oldest in batches so that the cost is
    /// rare. Jobs not yet archived go last, but go: memory must stay bounded.
    fn evict_gone(&self, inner: &mut Inner) {
        if inner.gone.len() <= self.keep_gone + self.keep_gone / 10 {
            return;
        }
        let mut order: Vec<(bool, Option<Timestamp>, JobKey)> =
            inner.gone.iter().map(|(k, g)| (g.detail.is_none(), g.job.finished_at.or(g.job.submitted_at), k.clone())).collect();
        // Archived first, then oldest first: those are dropped.
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let excess = inner.gone.len() - self.keep_gone;
        let mut lost = 0;
        for (archived, _, key) in order.into_iter().take(excess) {
            lost += usize::from(!archived);
            inner.gone.remove(&key);
        }
        if lost > 0 {
            tracing::warn!(lost, "dropped finished jobs that no archive holds, to stay within --keep-finished");
        }
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

fn key_of(job: &Job) -> JobKey {
    JobKey { namespace: job.namespace.clone(), name: job.name.clone() }
}

/// The last picture of a job Kubernetes deleted. A job deleted before it ended did not end as
/// far as anyone saw: it reads UNKNOWN, with the state it was in when it went.
fn gone_job(last: &Job, now: Timestamp) -> Job {
    if last.state.is_terminal() {
        return Job { deleted_from_cluster: true, ..last.clone() };
    }
    let finished = Job { finished_at: Some(now), ..last.clone() };
    Job {
        state: JobState::Unknown,
        duration_s: live(last, now).duration_s,
        failure: Some(Failure {
            reason: "Deleted".into(),
            message: format!("Deleted from Kubernetes while {}; how the job ended was not seen.", last.state),
        }),
        deleted_from_cluster: true,
        ..finished
    }
}

/// Equal jobs, or a running job whose duration only grew with the clock: that is no change
/// worth publishing (browsers tick running durations themselves).
pub fn same_but_the_clock(old: &Job, new: &Job) -> bool {
    if old.state == ::app::api::JobState::Running && new.state == ::app::api::JobState::Running {
        Job { duration_s: None, ..old.clone() } == Job { duration_s: None, ..new.clone() }
    } else {
        old == new
    }
}

/// Leaves out what only the clock changes in a job: a running job's duration (browsers tick
/// it). Two jobs equal after this differ by nothing worth pushing.
pub fn stop_the_clock(job: &mut Job) {
    if job.state == ::app::api::JobState::Running {
        job.duration_s = None;
    }
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
            &LabelKeys::default(),
        )
        .unwrap()
    }

    fn key(name: &str) -> JobKey {
        JobKey { namespace: "ns".into(), name: name.into() }
    }

    fn pod(name: &str, role: &str, app: Option<&str>, phase: &str) -> PodSummary {
        let mut labels = json!({"spark-role": role, "spark-app-selector": "spark-1"});
        if let Some(app) = app {
            labels["sparkoperator.k8s.io/app-name"] = json!(app);
        }
        // A spark-submit executor finds its driver through its owner.
        let owner = name
            .split_once("-exec-")
            .map(|(job, _)| json!([{"apiVersion": "v1", "kind": "Pod", "name": format!("{job}-driver"), "uid": "u"}]));
        PodSummary::from_object(
            &serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": "ns", "labels": labels, "creationTimestamp": "2026-11-21T05:00:00Z",
                             "ownerReferences": owner.unwrap_or(json!([]))},
                "status": {"phase": phase}
            }))
            .unwrap(),
            &LabelKeys::default(),
        )
        .unwrap()
    }

    fn event(name: &str, kind: &str, about: &str) -> EventSummary {
        EventSummary {
            id: ("ns".into(), name.into()),
            about: ObjectRef { kind: kind.into(), namespace: "ns".into(), name: about.into() },
            time: Some("2026-11-21T05:00:00Z".parse().unwrap()),
            warning: true,
            reason: "FailedScheduling".into(),
            message: name.into(),
            count: 1,
        }
    }

    fn event_names(model: &JobModel, job: &str) -> Vec<String> {
        let Some(Detail::Here(detail)) = model.job_detail(&key(job)) else { panic!("no detail of {job}") };
        let mut names: Vec<String> = detail.events.iter().map(|e| e.message.clone()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_jobs_events_outlive_kubernetes_ttl_and_leave_with_the_job() {
        let model = JobModel::default();
        model.apply_app(app("a", "RUNNING"));
        model.apply_pod(pod("a-driver", "driver", Some("a"), "Running"));
        model.apply_event(event("e1", "SparkApplication", "a"));
        model.apply_event(event("e2", "Pod", "a-driver"));
        model.apply_event(event("e3", "Node", "n1"));
        // The API server's TTL deletes them all; a relist after a 410 misses them too.
        model.delete_event("ns", "e1");
        model.delete_event("ns", "e3");
        model.replace_events(Some("ns"), Vec::new());
        assert_eq!(event_names(&model, "a"), ["e1", "e2"]);
        assert!(!model.read().events.contains_key(&("ns".into(), "e3".into())), "an event about no job goes");
        // The job leaves Kubernetes: its page keeps them, the live index lets them go.
        model.delete_pod("ns", "a-driver");
        model.delete_app(&key("a"));
        assert_eq!(event_names(&model, "a"), ["e1", "e2"]);
        assert!(model.read().events.is_empty() && model.read().events_by_object.is_empty());
    }

    #[test]
    fn touches_say_whether_the_summary_changed() {
        let model = JobModel::default();
        let mut rx = model.subscribe();
        model.apply_app(app("a", "RUNNING"));
        model.apply_app(app("a", "RUNNING"));
        model.apply_app(app("a", "COMPLETED"));
        model.delete_app(&key("a"));
        let mut seen = Vec::new();
        while let Ok(touched) = rx.try_recv() {
            seen.push(touched.summary);
        }
        assert_eq!(seen, [true, false, true, true]);
        let jobs = model.jobs();
        assert_eq!((jobs[0].state, jobs[0].deleted_from_cluster), (JobState::Completed, true));
        // The operator's log still tells of it after its SparkApplication is deleted.
        assert!(jobs[0].from_operator);
    }

    #[test]
    fn a_relist_drops_what_is_gone_in_its_scope_only() {
        let model = JobModel::default();
        model.apply_app(app("a", "RUNNING"));
        let mut other = app("b", "RUNNING");
        other.key.namespace = "other".into();
        model.apply_app(other);
        model.replace_apps(Some("ns"), vec![app("c", "SUBMITTED")]);
        let mut ids: Vec<(String, bool)> = model.jobs().iter().map(|j| (j.id(), j.deleted_from_cluster)).collect();
        ids.sort();
        assert_eq!(ids, [("ns/a".into(), true), ("ns/c".into(), false), ("other/b".into(), false)]);
        // Deleted while running: its end was not seen, and the list says so.
        let a = model.jobs().into_iter().find(|j| j.name == "a").unwrap();
        assert_eq!(a.state, JobState::Unknown);
        assert_eq!(a.failure.unwrap().reason, "Deleted");
    }

    #[test]
    fn a_job_on_its_way_to_a_driver_is_starting_and_an_ended_one_goes_to_the_history_server() {
        let model = JobModel::default();
        model.apply_app(app("a", "SUBMITTED"));
        assert!(matches!(model.spark_ui(&key("a")), SparkUi::Starting { state: JobState::Submitted, .. }));
        model.apply_app(app("a", "RUNNING"));
        model.apply_pod(pod("a-driver", "driver", Some("a"), "Pending"));
        assert!(matches!(model.spark_ui(&key("a")), SparkUi::Starting { state: JobState::Running, .. }));
        // Running, but with no address for its UI: only the History Server can show it.
        model.apply_pod(pod("a-driver", "driver", Some("a"), "Running"));
        assert!(matches!(model.spark_ui(&key("a")), SparkUi::NotRunning { .. }));
        model.apply_app(app("a", "COMPLETED"));
        model.apply_pod(pod("a-driver", "driver", Some("a"), "Succeeded"));
        assert!(matches!(model.spark_ui(&key("a")), SparkUi::NotRunning { state: JobState::Completed, .. }));
        assert_eq!(model.spark_ui(&key("b")), SparkUi::NoSuchJob);
    }

    #[test]
    fn operator_pods_wait_for_their_app() {
        let model = JobModel::default();
        model.apply_pod(pod("a-driver", "driver", Some("a"), "Running"));
        assert!(model.jobs().is_empty());
        model.apply_app(app("a", "RUNNING"));
        let Some(Detail::Here(detail)) = model.job_detail(&key("a")) else { panic!("no detail") };
        assert_eq!(detail.pods.len(), 1);
    }

    #[test]
    fn a_finished_job_is_archived_once_and_then_leaves_memory() {
        let model = JobModel::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        model.attach_archive(tx);
        model.apply_pod(pod("s-driver", "driver", None, "Running"));
        model.apply_pod(pod("s-exec-1", "executor", None, "Running"));
        assert!(rx.try_recv().is_err());
        model.apply_pod(pod("s-driver", "driver", None, "Succeeded"));
        assert_eq!(rx.try_recv().unwrap(), key("s"));
        let snapshot = model.archive_snapshot(&key("s")).unwrap();
        assert_eq!(snapshot.job.state, JobState::Completed);
        assert!(!snapshot.job.from_operator, "plain spark-submit");
        model.archived(&snapshot.job);
        assert!(model.archive_snapshot(&key("s")).is_none(), "the archive has exactly this");
        // Spark deletes its executor, then the driver goes.
        model.delete_pod("ns", "s-exec-1");
        model.delete_pod("ns", "s-driver");
        assert_eq!(rx.try_recv().unwrap(), key("s"));
        let last = model.archive_snapshot(&key("s")).unwrap();
        assert!(last.job.deleted_from_cluster);
        assert_eq!(last.pods.iter().filter(|p| p.deleted).count(), 2);
        assert_eq!(model.unarchived_gone(), 1);
        model.archived(&last.job);
        assert_eq!(model.unarchived_gone(), 0);
        assert!(matches!(model.job_detail(&key("s")), Some(Detail::Archived(_))));
    }

    #[test]
    fn gone_jobs_are_bounded_and_the_oldest_leave_first() {
        let model = JobModel::new(ModelOptions { keep_gone: 10, ..ModelOptions::default() });
        let jobs = (0..20).map(|i| {
            let mut a = app(&format!("j{i:02}"), "COMPLETED");
            a.created = Some(Timestamp::from_second(1_700_000_000 + i).unwrap());
            job::derive(&a.key, Some(&a), &[], job::Context { keys: &LabelKeys::default(), unschedulable: None, now: Timestamp::now() })
        });
        model.load_archived(jobs);
        let names: Vec<String> = model.jobs().into_iter().map(|j| j.name).collect();
        assert_eq!(names.len(), 10);
        assert_eq!(names.first().map(String::as_str), Some("j19"));
        assert_eq!(names.last().map(String::as_str), Some("j10"));
    }
}
