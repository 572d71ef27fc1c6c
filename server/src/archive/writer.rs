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
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
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

/// Starts loading, writing and compacting; the tasks end with the process.
pub fn spawn(model: Arc<JobModel>, archive: Arc<JobArchive>, options: WriterOptions) -> Vec<JoinHandle<()>> {
    let (tx, rx) = mpsc::unbounded_channel();
    model.attach_archive(tx);
    let status = Arc::new(Status::default());
    vec![
        tokio::spawn(load(model.clone(), archive.clone(), options.clone(), status.clone())),
        tokio::spawn(write(model, archive.clone(), rx, options.clone(), status)),
        tokio::spawn(compact(archive, options)),
    ]
}

/// What the banner says is built from both tasks' last outcome.
#[derive(Default)]
struct Status {
    load_error: std::sync::Mutex<Option<String>>,
    write_error: std::sync::Mutex<Option<String>>,
}

impl Status {
    fn set(&self, model: &JobModel, load: Option<Option<String>>, write: Option<Option<String>>) {
        let lock = |m: &std::sync::Mutex<Option<String>>| m.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(load) = load {
            *self.load_error.lock().unwrap_or_else(|e| e.into_inner()) = load;
        }
        if let Some(write) = write {
            *self.write_error.lock().unwrap_or_else(|e| e.into_inner()) = write;
        }
        // The errors name the store and what failed; the banner says what it means.
        let message = match (lock(&self.load_error), lock(&self.write_error)) {
            (None, None) => None,
            (Some(e), _) => Some(format!(
                "The job archive cannot be read: {e}. Showing jobs from Kubernetes only; archived jobs will appear when it is back."
            )),
            (None, Some(e)) => Some(format!(
                "The job archive cannot be written: {e}. {} finished jobs are kept in memory until it is back.",
                model.unarchived_gone().max(1)
            )),
        };
        model.warn(WARNING, message);
    }
}

fn next_retry(current: Duration) -> Duration {
    (current * 2).min(Duration::from_secs(60))
}

async fn load(model: Arc<JobModel>, archive: Arc<JobArchive>, options: WriterOptions, status: Arc<Status>) {
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
                status.set(&model, Some(None), None);
                return;
            }
            Err(e) => {
                tracing::warn!("cannot load the job archive: {e}");
                status.set(&model, Some(Some(e.to_string())), None);
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
    options: WriterOptions,
    status: Arc<Status>,
) {
    // When each waiting job is due; a job asked for again while waiting keeps its turn.
    let mut due: HashMap<JobKey, Instant> = HashMap::new();
    let mut retry = options.retry;
    loop {
        let next = due.values().min().copied();
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            request = requests.recv() => match request {
                Some(key) => { due.entry(key).or_insert_with(|| Instant::now() + options.settle); }
                None => return,
            },
            () = sleep => {
                let now = Instant::now();
                let ready: Vec<JobKey> = due.iter().filter(|(_, at)| **at <= now).map(|(k, _)| k.clone()).collect();
                for key in ready {
                    due.remove(&key);
                    let Some(detail) = model.archive_snapshot(&key) else { continue };
                    match archive.put(&detail, Timestamp::now()).await {
                        Ok(()) => {
                            model.archived(&detail.job);
                            retry = options.retry;
                            status.set(&model, None, Some(None));
                        }
                        Err(e) => {
                            tracing::warn!(job = %format!("{}/{}", key.namespace, key.name), "cannot archive: {e}");
                            due.insert(key, Instant::now() + retry);
                            retry = next_retry(retry);
                            status.set(&model, None, Some(Some(e.to_string())));
                        }
                    }
                }
            }
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
