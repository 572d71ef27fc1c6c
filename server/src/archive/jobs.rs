//! The job archive's layout on an [`ObjectStore`]: finished jobs, kept after Kubernetes deletes
//! them, readable at start-up without one request per job.
//!
//! ```text
//! jobs/v1/records/{namespace}/{name}/{submitted}.json.gz      the whole job: pods, events, conf
//! jobs/v1/pending/{hour}/{namespace}~{name}~{submitted}~{hash}.json   its summary, just written
//! jobs/v1/segments/{hour}/{hash}.ndjson.gz                    summaries of an hour, compacted
//! ```
//!
//! A writer puts the record, then a pending summary in the hour it writes. Compaction folds an
//! hour's pending summaries (once the hour is over) into one segment. Start-up lists segments
//! (24 a day) and pending summaries (the last hour or so), so 250,000 archived jobs cost about
//! 720 reads, not 250,000.
//!
//! Several replicas may write and compact the same archive at once. Every name is a function of
//! its content (records by job, summaries and segments by a hash), so two replicas writing the
//! same thing write the same key; and compaction only deletes what it has folded into a segment
//! it has already written. Two compactions racing leave two segments for one hour, which readers
//! merge: duplicates, never losses.

use super::store::{ObjectStore, StoreError};
use app::api::{Job, JobDetail};
use bytes::Bytes;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::sync::Arc;

const RECORDS: &str = "jobs/v1/records/";
const PENDING: &str = "jobs/v1/pending/";
const SEGMENTS: &str = "jobs/v1/segments/";

/// Requests in flight at once while loading: enough to hide S3's latency, few enough to be a
/// polite client.
const PARALLEL_READS: usize = 32;

/// An hour is compacted this long after it ends, so that writes still in flight land first.
const COMPACTION_GRACE: SignedDuration = SignedDuration::from_mins(5);

/// Problems with the archive, by boundary: the store, or what was in it.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{key} in {store} is corrupt: {detail}")]
    Corrupt { store: String, key: String, detail: String },
}

/// What start-up read from the archive.
#[derive(Debug, Default)]
pub struct Loaded {
    pub jobs: Vec<Job>,
    /// Objects that could not be read; they stay in the store untouched.
    pub unreadable: Vec<String>,
    /// How many objects were read (segments and pending summaries).
    pub objects: usize,
}

/// What one compaction pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Compacted {
    pub hours: usize,
    pub folded: usize,
}

pub struct JobArchive {
    store: Arc<dyn ObjectStore>,
}

impl JobArchive {
    pub fn new(store: Arc<dyn ObjectStore>) -> JobArchive {
        JobArchive { store }
    }

    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// Writes a job's record, then its summary: a summary never points at a missing record.
    pub async fn put(&self, detail: &JobDetail, now: Timestamp) -> Result<(), ArchiveError> {
        let record = serde_json::to_vec(detail).map_err(|e| self.corrupt("(record)", e))?;
        self.store.put(&record_key(&detail.job), gzip(&record)).await?;
        let summary = serde_json::to_vec(&detail.job).map_err(|e| self.corrupt("(summary)", e))?;
        self.store.put(&pending_key(&detail.job, &summary, now), Bytes::from(summary)).await?;
        Ok(())
    }

    /// The whole record of an archived job, `None` when the archive has none.
    pub async fn get(&self, job: &Job) -> Result<Option<JobDetail>, ArchiveError> {
        let key = record_key(job);
        let Some(bytes) = self.store.get(&key).await? else { return Ok(None) };
        let json = gunzip(&bytes).map_err(|e| self.corrupt(&key, e))?;
        serde_json::from_slice(&json).map(Some).map_err(|e| self.corrupt(&key, e))
    }

    /// Every archived job's summary: the newest of each job when it was written more than once.
    pub async fn load(&self) -> Result<Loaded, ArchiveError> {
        let mut keys = self.store.list(SEGMENTS).await?;
        keys.extend(self.store.list(PENDING).await?);
        let reads: Vec<(String, Result<Vec<Job>, ArchiveError>)> = futures::stream::iter(keys)
            .map(|key| async move { (key.clone(), self.read_summaries(&key).await) })
            .buffer_unordered(PARALLEL_READS)
            .collect()
            .await;
        let mut loaded = Loaded { objects: reads.len(), ..Loaded::default() };
        let mut newest: HashMap<(String, String), Job> = HashMap::new();
        for (key, read) in reads {
            match read {
                Ok(jobs) => {
                    for job in jobs {
                        keep_newest(&mut newest, job);
                    }
                }
                // Unreachable mid-load: the whole load fails and is retried.
                Err(ArchiveError::Store(e)) => return Err(e.into()),
                Err(e) => {
                    tracing::warn!("skipping an archive object: {e}");
                    loaded.unreadable.push(key);
                }
            }
        }
        loaded.jobs = newest.into_values().collect();
        Ok(loaded)
    }

    /// Folds the pending summaries of every hour that ended more than a grace period before
    /// `now` into one segment per hour.
    pub async fn compact(&self, now: Timestamp) -> Result<Compacted, ArchiveError> {
        let pending = self.store.list(PENDING).await?;
        let mut by_hour: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for key in pending {
            if let Some((hour, _)) = key[PENDING.len()..].split_once('/') {
                by_hour.entry(hour.to_string()).or_default().push(key);
            }
        }
        let open = hour_of(now - COMPACTION_GRACE);
        let mut done = Compacted::default();
        for (hour, pending) in by_hour.into_iter().filter(|(hour, _)| *hour < open) {
            done.folded += self.compact_hour(&hour, pending).await?;
            done.hours += 1;
        }
        Ok(done)
    }

    async fn compact_hour(&self, hour: &str, pending: Vec<String>) -> Result<usize, ArchiveError> {
        let segments = self.store.list(&format!("{SEGMENTS}{hour}/")).await?;
        let mut newest = HashMap::new();
        let mut folded_keys = Vec::new();
        for key in segments.iter().chain(&pending) {
            match self.read_summaries(key).await {
                Ok(jobs) => {
                    jobs.into_iter().for_each(|job| keep_newest(&mut newest, job));
                    folded_keys.push(key.clone());
                }
                Err(ArchiveError::Store(e)) => return Err(e.into()),
                // A corrupt object is left where it is, for a person to look at.
                Err(e) => tracing::warn!("not compacting an unreadable archive object: {e}"),
            }
        }
        let segment = self.write_segment(hour, newest.into_values().collect()).await?;
        let folded = pending.iter().filter(|k| folded_keys.contains(k)).count();
        for key in folded_keys.iter().filter(|k| **k != segment) {
            self.store.delete(key).await?;
        }
        Ok(folded)
    }

    /// Writes one segment of an hour's summaries, named by its content; returns its key.
    /// (Compaction's output; public so that tools and benchmarks can lay out an archive.)
    pub async fn write_segment(&self, hour: &str, mut jobs: Vec<Job>) -> Result<String, ArchiveError> {
        jobs.sort_by(|a, b| (&a.namespace, &a.name, a.submitted_at).cmp(&(&b.namespace, &b.name, b.submitted_at)));
        let mut lines = Vec::new();
        for job in &jobs {
            serde_json::to_writer(&mut lines, job).map_err(|e| self.corrupt("(segment)", e))?;
            lines.push(b'\n');
        }
        let segment = format!("{SEGMENTS}{hour}/{}.ndjson.gz", content_hash(&lines));
        self.store.put(&segment, gzip(&lines)).await?;
        Ok(segment)
    }

    /// The summaries in one object: a segment (gzipped lines) or a pending summary.
    async fn read_summaries(&self, key: &str) -> Result<Vec<Job>, ArchiveError> {
        let Some(bytes) = self.store.get(key).await? else { return Ok(Vec::new()) };
        if key.ends_with(".gz") {
            let text = gunzip(&bytes).map_err(|e| self.corrupt(key, e))?;
            text.split(|b| *b == b'\n')
                .filter(|line| !line.is_empty())
                .map(|line| serde_json::from_slice(line).map_err(|e| self.corrupt(key, e)))
                .collect()
        } else {
            serde_json::from_slice(&bytes).map(|job| vec![job]).map_err(|e| self.corrupt(key, e))
        }
    }

    fn corrupt(&self, key: &str, e: impl std::fmt::Display) -> ArchiveError {
        ArchiveError::Corrupt { store: self.store.describe(), key: key.to_string(), detail: e.to_string() }
    }

    /// How many objects of each kind the archive holds (for tests and benchmarks).
    pub async fn census(&self) -> Result<(usize, usize, usize), ArchiveError> {
        let try_count = |prefix: &'static str| async move { self.store.list(prefix).await.map(|k| k.len()) };
        let counts: Vec<usize> = futures::stream::iter([RECORDS, PENDING, SEGMENTS]).then(try_count).try_collect().await?;
        Ok((counts[0], counts[1], counts[2]))
    }
}

/// Keeps, per job id, its latest run, and of one run the copy that saw the most (a later end,
/// or its deletion from Kubernetes).
fn keep_newest(newest: &mut HashMap<(String, String), Job>, job: Job) {
    let rank = |j: &Job| (j.submitted_at, j.finished_at, j.deleted_from_cluster);
    match newest.entry((job.namespace.clone(), job.name.clone())) {
        std::collections::hash_map::Entry::Occupied(mut o) => {
            if rank(&job) > rank(o.get()) {
                o.insert(job);
            }
        }
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(job);
        }
    }
}

/// `20261121T083000.123Z`: sorts as time does, and names one run of a job.
fn stamp(job: &Job) -> String {
    job.submitted_at.map_or_else(|| "unsubmitted".into(), |t| t.strftime("%Y%m%dT%H%M%S%.3fZ").to_string())
}

fn record_key(job: &Job) -> String {
    format!("{RECORDS}{}/{}/{}.json.gz", job.namespace, job.name, stamp(job))
}

fn pending_key(job: &Job, summary: &[u8], now: Timestamp) -> String {
    format!("{PENDING}{}/{}~{}~{}~{}.json", hour_of(now), job.namespace, job.name, stamp(job), &content_hash(summary)[..8])
}

/// `2026-11-21T08`: the hour bucket of a moment, in UTC.
fn hour_of(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H").to_string()
}

/// A short, stable name for some bytes.
fn content_hash(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    Bytes::from(encoder.finish().unwrap_or_default())
}

fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::local::LocalDir;
    use app::api::JobState;

    fn detail(name: &str, submitted: &str, state: JobState) -> JobDetail {
        JobDetail {
            job: Job {
                app_id: Some(format!("spark-{name}")),
                submitted_at: Some(submitted.parse().unwrap()),
                ..Job::new("ns", name, state)
            },
            pods: vec![],
            events: vec![],
            spark_conf: [("spark.executor.memory".to_string(), "4g".to_string())].into(),
            schedule: None,
            warnings: vec![],
        }
    }

    fn archive(name: &str) -> (JobArchive, LocalDir, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("sparkboard-archive-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = LocalDir::new(&dir);
        (JobArchive::new(Arc::new(store.clone())), store, dir)
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn records_and_summaries_survive_compaction() {
        let (archive, _, dir) = archive("compact");
        let a = detail("a", "2026-11-21T07:10:00Z", JobState::Completed);
        let b = detail("b", "2026-11-21T07:20:00Z", JobState::Failed);
        archive.put(&a, t("2026-11-21T07:30:00Z")).await.unwrap();
        archive.put(&b, t("2026-11-21T07:40:00Z")).await.unwrap();
        // Written again later, when Kubernetes deleted it: newer wins.
        let mut a_gone = a.clone();
        a_gone.job.deleted_from_cluster = true;
        archive.put(&a_gone, t("2026-11-21T08:01:00Z")).await.unwrap();
        assert_eq!(archive.census().await.unwrap(), (2, 3, 0));

        // 08:03: hour 07 is still in its grace period.
        assert_eq!(archive.compact(t("2026-11-21T08:03:00Z")).await.unwrap(), Compacted::default());
        let done = archive.compact(t("2026-11-21T08:06:00Z")).await.unwrap();
        assert_eq!(done, Compacted { hours: 1, folded: 2 });
        assert_eq!(archive.census().await.unwrap(), (2, 1, 1));

        let loaded = archive.load().await.unwrap();
        assert_eq!(loaded.objects, 2);
        let mut jobs = loaded.jobs;
        jobs.sort_by(|x, y| x.name.cmp(&y.name));
        assert_eq!(jobs.len(), 2);
        assert!(jobs[0].deleted_from_cluster, "the later copy of a wins");
        assert_eq!(archive.get(&jobs[1]).await.unwrap().unwrap(), b);
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Two replicas compacting the same hour at once, with a write landing between them: each
    /// deletes only what it folded into a segment it wrote, so every job is still there.
    #[tokio::test]
    async fn racing_compactions_lose_nothing() {
        let (archive, store, dir) = archive("race");
        let now = t("2026-11-21T09:00:00Z");
        for i in 0..5 {
            archive.put(&detail(&format!("j{i}"), "2026-11-21T07:00:00Z", JobState::Completed), t("2026-11-21T07:30:00Z")).await.unwrap();
        }
        let other = JobArchive::new(Arc::new(store.clone()));
        let hour = "2026-11-21T07";
        let first_view = store.list(&format!("{PENDING}{hour}/")).await.unwrap();
        // A straggler lands after the first replica listed.
        archive.put(&detail("late", "2026-11-21T07:00:00Z", JobState::Failed), t("2026-11-21T07:59:59Z")).await.unwrap();
        let second_view = store.list(&format!("{PENDING}{hour}/")).await.unwrap();
        let (x, y) = tokio::join!(archive.compact_hour(hour, first_view), other.compact_hour(hour, second_view));
        assert_eq!((x.unwrap(), y.unwrap()), (5, 6));
        assert_eq!(archive.load().await.unwrap().jobs.len(), 6);
        // A later pass folds the two segments of the hour into one.
        archive.put(&detail("later", "2026-11-21T07:00:00Z", JobState::Failed), t("2026-11-21T07:59:59Z")).await.unwrap();
        archive.compact(now).await.unwrap();
        let (_, pending, segments) = archive.census().await.unwrap();
        assert_eq!((pending, segments), (0, 1));
        assert_eq!(archive.load().await.unwrap().jobs.len(), 7);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_corrupt_segment_is_reported_and_kept() {
        let (archive, store, dir) = archive("corrupt");
        archive.put(&detail("a", "2026-11-21T07:00:00Z", JobState::Completed), t("2026-11-21T07:30:00Z")).await.unwrap();
        store.put(&format!("{SEGMENTS}2026-11-21T06/deadbeef.ndjson.gz"), Bytes::from_static(b"not gzip")).await.unwrap();
        let loaded = archive.load().await.unwrap();
        assert_eq!(loaded.jobs.len(), 1);
        assert_eq!(loaded.unreadable, [format!("{SEGMENTS}2026-11-21T06/deadbeef.ndjson.gz")]);
        archive.compact(t("2026-11-21T12:00:00Z")).await.unwrap();
        assert_eq!(archive.census().await.unwrap(), (1, 0, 2), "the corrupt segment stays beside the new one");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
