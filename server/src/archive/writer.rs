//! The archive's life beside the model: load what is archived at start-up, write jobs as they
//! finish and as Kubernetes deletes them, compact now and then.
//!
//! The archive is never on a request's path. When it cannot be reached, the dashboard goes on
//! with live jobs, shows a banner, keeps finished jobs in memory and retries; nothing that was
//! archived is touched by a failure.

use super::jobs::JobArchive;
use crate::model::JobModel;
use crate::model::pod::JobKey;
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Who the model's warning comes from.
const WARNING: &str = "archive";

#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// How long a finished job settles before it is written (its last events and pod statuses
    /// arrive just after the state changes).
    pub settle: Duration,
    /// How often to look for hours to compact.
    pub compact_every: Duration,
    /// First retry delay after a failure; doubles up to a minute.
    pub retry: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { settle: Duration::from_secs(3), compact_every: Duration::from_secs(600), retry: Duration::from_secs(1) }
    }
}

/// The running writer: its tasks, and a way to write what is waiting before the process ends.
pub struct Writer {
    pub tasks: Vec<JoinHandle<()>>,
    flush: mpsc::UnboundedSender<oneshot::Sender<()>>,
}

impl Writer {
    /// Writes every job waiting (settling or retrying) now, giving up after `limit`: what
    /// Kubernetes' termination grace period allows on shutdown.
    pub async fn flush(&self, limit: Duration) {
        let (done, wait) = oneshot::channel();
        if self.flush.send(done).is_ok() && tokio::time::timeout(limit, wait).await.is_err() {
            tracing::warn!("gave up writing finished jobs to the archive after {limit:?}");
        }
    }
}

/// Starts loading, writing and compacting.
pub fn spawn(model: Arc<JobModel>, archive: Arc<JobArchive>, options: WriterOptions) -> Writer {
    let (tx, rx) = mpsc::unbounded_channel();
    let (flush, flushes) = mpsc::unbounded_channel();
    model.attach_archive(tx);
    let status = Arc::new(Status::default());
    let (loaded, is_loaded) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(load(model.clone(), archive.clone(), options.clone(), status.clone(), loaded)),
        tokio::spawn(write(model, archive.clone(), rx, flushes, is_loaded, options.clone(), status)),
        tokio::spawn(compact(archive, options)),
    ];
    Writer { tasks, flush }
}

/// What the banner says is built from both tasks' last outcome.
#[derive(Default)]
struct Status {
    errors: std::sync::Mutex<Errors>,
}

/// The last error of loading and of writing; `None` once it worked.
#[derive(Default)]
struct Errors {
    load: Option<String>,
    write: Option<String>,
}

impl Status {
    fn load(&self, model: &JobModel, error: Option<String>) {
        self.update(model, |e| e.load = error);
    }

    fn write(&self, model: &JobModel, error: Option<String>) {
        self.update(model, |e| e.write = error);
    }

    fn update(&self, model: &JobModel, change: impl FnOnce(&mut Errors)) {
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut errors);
        // The errors name the store and what failed; the banner says what it means.
        let message = match (&errors.load, &errors.write) {
            (None, None) => None,
            (Some(e), _) => Some(format!(
                "The job archive cannot be read: {e}. Showing jobs from Kubernetes only; archived jobs will appear when it is back."
            )),
            (None, Some(e)) => Some(format!(
                "The job archive cannot be written: {e}. {} finished jobs are kept in memory until it is back.",
                model.unarchived_gone().max(1)
            )),
        };
        drop(errors);
        model.warn(WARNING, message);
    }
}

fn next_retry(current: Duration) -> Duration {
    (current * 2).min(Duration::from_secs(60))
}

async fn load(model: Arc<JobModel>, archive: Arc<JobArchive>, options: WriterOptions, status: Arc<Status>, done: watch::Sender<bool>) {
    let started = std::time::Instant::now();
    let mut retry = options.retry;
    loop {
        match archive.load().await {
            Ok(loaded) => {
                tracing::info!(
                    jobs = loaded.jobs.len(),
                    objects = loaded.objects,
                    unreadable = loaded.unreadable.len(),
                    seconds = started.elapsed().as_secs_f64(),
                    "loaded the job archive"
                );
                model.load_archived(loaded.jobs);
                status.load(&model, None);
                let _ = done.send(true);
                return;
            }
            Err(e) => {
                tracing::warn!("cannot load the job archive: {e}");
                status.load(&model, Some(e.to_string()));
                tokio::time::sleep(retry).await;
                retry = next_retry(retry);
            }
        }
    }
}

async fn write(
    model: Arc<JobModel>,
    archive: Arc<JobArchive>,
    mut requests: mpsc::UnboundedReceiver<JobKey>,
    mut flushes: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    mut loaded: watch::Receiver<bool>,
    options: WriterOptions,
    status: Arc<Status>,
) {
    // Nothing is written before the archive is loaded: what it already holds (the finished jobs
    // still in Kubernetes after a restart) is then known and not written again. Requests wait
    // in the channel meanwhile; a flush has nothing it could write.
    loop {
        tokio::select! {
            ready = loaded.wait_for(|done| *done) => match ready {
                Ok(_) => break,
                Err(_) => return,
            },
            Some(done) = flushes.recv() => {
                let _ = done.send(());
            }
        }
    }
    // When each waiting job is due; a job asked for again while waiting keeps its turn.
    let mut due: HashMap<JobKey, Instant> = HashMap::new();
    // Jobs whose last write failed: the banner stays until none is left.
    let mut failing: HashSet<JobKey> = HashSet::new();
    let mut retry = options.retry;
    loop {
        let next = due.values().min().copied();
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let mut flushed = None;
        tokio::select! {
            request = requests.recv() => match request {
                Some(key) => {
                    due.entry(key).or_insert_with(|| Instant::now() + options.settle);
                    continue;
                }
                None => return,
            },
            Some(done) = flushes.recv() => {
                let now = Instant::now();
                due.values_mut().for_each(|at| *at = now);
                flushed = Some(done);
            }
            () = sleep => {}
        }
        let now = Instant::now();
        let ready: Vec<JobKey> = due.iter().filter(|(_, at)| **at <= now).map(|(k, _)| k.clone()).collect();
        for key in ready {
            due.remove(&key);
            let Some(detail) = model.archive_snapshot(&key) else {
                failing.remove(&key);
                continue;
            };
            match archive.put(&detail, Timestamp::now()).await {
                Ok(()) => {
                    model.archived(&detail.job);
                    failing.remove(&key);
                    if retry > options.retry {
                        // The store is back: what waited for it need not wait out its backoff.
                        let now = Instant::now();
                        for waiting in &failing {
                            if let Some(at) = due.get_mut(waiting) {
                                *at = now;
                            }
                        }
                        retry = options.retry;
                    }
                    if failing.is_empty() {
                        status.write(&model, None);
                    }
                }
                Err(e) => {
                    tracing::warn!(job = %format!("{}/{}", key.namespace, key.name), "cannot archive: {e}");
                    // On a flush there is no later: one attempt each.
                    if flushed.is_none() {
                        due.insert(key.clone(), Instant::now() + retry);
                    }
                    failing.insert(key);
                    retry = next_retry(retry);
                    status.write(&model, Some(e.to_string()));
                }
            }
        }
        if let Some(done) = flushed {
            let _ = done.send(());
        }
    }
}

async fn compact(archive: Arc<JobArchive>, options: WriterOptions) {
    let mut tick = tokio::time::interval(options.compact_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match archive.compact(Timestamp::now()).await {
            Ok(done) if done.hours > 0 => tracing::info!(hours = done.hours, folded = done.folded, "compacted the job archive"),
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot compact the job archive: {e}"),
        }
    }
}
