//! In-memory stand-ins for the two sides of a source, for unit tests of the live read under
//! paused time: a kubelet's pod log API for one pod (with the semantics [`PodLogApi`] expects,
//! and the faults real ones show) and a log archive.
//!
//! The kubelet's semantics kept here: `sinceTime` has whole seconds (lines from the start of
//! that second come, whatever the nanoseconds asked), every line ends with a newline, a follow
//! ends when the container stops or the pod goes, a non-follow read is what the log held when
//! it was opened, a deleted pod is a 404 and a container waiting to start (or an instance that
//! never ran) a 400.

use super::key_template::{CRI_DEFAULT, KeyTemplate, KeyVars};
use super::live::{LiveError, LiveParams, LiveStream, PodLogApi};
use super::record::Nanos;
use super::record::RecordFormat;
use super::shipped::ShippedLogs;
use super::source::{PodNow, PodProbe};
use crate::archive::store::{ObjectStore, StoreError};
use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use jiff::Timestamp;
use sparkboard_sim::pod_log::rfc3339_nano_fixed;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

pub const NS: &str = "etl";
pub const POD: &str = "orders-exec-1";
pub const CONTAINER: &str = "spark-kubernetes-executor";

/// Where the fake pod's container is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodState {
    Waiting,
    Running,
    Stopped,
    Deleted,
}

/// What goes wrong with the next open (faults are taken in order, one per open that gets as
/// far as they need).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The open fails: the API unreachable, a 5xx.
    Refuse(String),
    /// After `after` whole lines the connection drops halfway through the next line: the
    /// stream gives the half line, then an error.
    Break { after: usize },
    /// After `after` whole lines the stream ends cleanly halfway through the next line (as the
    /// simulated cluster cuts follows).
    Cut { after: usize },
    /// After `after` whole lines a follow ends cleanly while the container runs (the kubelet's
    /// idle timeout, a log rotation).
    End { after: usize },
}

/// One pod's log API. Clones share the pod.
#[derive(Clone)]
pub struct FakeKubelet {
    inner: Arc<Inner>,
}

struct Inner {
    pod: Mutex<PodLog>,
    /// Ticks on every write and phase change: what a follow waits on.
    changed: watch::Sender<()>,
}

struct PodLog {
    phase: PodState,
    current: Vec<(Nanos, String)>,
    /// The previous instance's log, when the container restarted.
    previous: Option<Vec<(Nanos, String)>>,
    faults: VecDeque<Fault>,
    opens: Vec<LiveParams>,
}

impl FakeKubelet {
    pub fn new(phase: PodState) -> FakeKubelet {
        let pod = PodLog { phase, current: Vec::new(), previous: None, faults: VecDeque::new(), opens: Vec::new() };
        FakeKubelet { inner: Arc::new(Inner { pod: Mutex::new(pod), changed: watch::Sender::new(()) }) }
    }

    fn pod(&self) -> MutexGuard<'_, PodLog> {
        // A test that panicked while holding the lock has failed already.
        self.inner.pod.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The container writes a line.
    pub fn write(&self, time: Nanos, text: &str) {
        self.pod().current.push((time, text.to_string()));
        self.inner.changed.send_replace(());
    }

    pub fn set(&self, phase: PodState) {
        self.pod().phase = phase;
        self.inner.changed.send_replace(());
    }

    /// The container restarted: what it wrote becomes the previous instance's log.
    pub fn set_previous(&self, lines: &[(Nanos, &str)]) {
        self.pod().previous = Some(lines.iter().map(|(t, s)| (*t, s.to_string())).collect());
    }

    pub fn fault(&self, fault: Fault) {
        self.pod().faults.push_back(fault);
    }

    /// Every open asked for so far, in order.
    pub fn opens(&self) -> Vec<LiveParams> {
        self.pod().opens.clone()
    }

    fn start(&self, namespace: &str, name: &str, params: LiveParams) -> Result<LiveStream, LiveError> {
        let mut pod = self.pod();
        pod.opens.push(params.clone());
        if let Some(Fault::Refuse(why)) = pod.faults.front() {
            let why = why.clone();
            pod.faults.pop_front();
            return Err(LiveError::Failed(why));
        }
        if namespace != NS || name != POD || pod.phase == PodState::Deleted {
            return Err(LiveError::NotFound(format!("pods \"{name}\" not found")));
        }
        if params.container != CONTAINER {
            return Err(LiveError::NotAvailable(format!("container {} is not valid for pod {name}", params.container)));
        }
        let log = if params.previous {
            pod.previous.as_ref().ok_or_else(|| {
                LiveError::NotAvailable(format!("previous terminated container \"{CONTAINER}\" in pod \"{name}\" not found"))
            })?
        } else if pod.phase == PodState::Waiting {
            return Err(LiveError::NotAvailable(format!(
                "container \"{CONTAINER}\" in pod \"{name}\" is waiting to start: ContainerCreating"
            )));
        } else {
            &pod.current
        };
        let limit = (!params.follow || params.previous).then_some(log.len());
        let fault = match pod.faults.front() {
            Some(Fault::Break { .. } | Fault::Cut { .. } | Fault::End { .. }) => pod.faults.pop_front(),
            _ => None,
        };
        let tail = Tail {
            inner: self.inner.clone(),
            changed: self.inner.changed.subscribe(),
            previous: params.previous,
            follow: params.follow && !params.previous,
            since: params.since.map(Nanos::floor_second),
            limit,
            next: 0,
            sent: 0,
            fault,
            pending: VecDeque::new(),
            done: false,
        };
        Ok(tail.into_stream())
    }
}

impl PodLogApi for FakeKubelet {
    fn open(&self, namespace: &str, pod: &str, params: LiveParams) -> BoxFuture<'static, Result<LiveStream, LiveError>> {
        let opened = self.start(namespace, pod, params);
        Box::pin(async move { opened })
    }
}

/// The fake knows its pod, so it answers the probe too (always up to date, unlike a model).
impl PodProbe for FakeKubelet {
    fn state(&self, namespace: &str, pod: &str) -> PodNow {
        if namespace != NS || pod != POD {
            return PodNow::Gone;
        }
        match self.pod().phase {
            PodState::Waiting | PodState::Running => PodNow::Running,
            PodState::Stopped => PodNow::Stopped,
            PodState::Deleted => PodNow::Gone,
        }
    }
}

/// One open log stream.
struct Tail {
    inner: Arc<Inner>,
    changed: watch::Receiver<()>,
    previous: bool,
    follow: bool,
    since: Option<Nanos>,
    /// A non-follow read ends where the log was when it opened.
    limit: Option<usize>,
    /// The next line of the log to look at.
    next: usize,
    /// Whole lines sent.
    sent: usize,
    fault: Option<Fault>,
    pending: VecDeque<Result<Bytes, LiveError>>,
    done: bool,
}

impl Tail {
    fn into_stream(self) -> LiveStream {
        futures::stream::unfold(self, |mut tail| async move { tail.next_item().await.map(|item| (item, tail)) }).boxed()
    }

    async fn next_item(&mut self) -> Option<Result<Bytes, LiveError>> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.fill().await;
        }
    }

    /// Serves what the log has past the last line sent, or waits for more while following.
    async fn fill(&mut self) {
        self.changed.borrow_and_update();
        let (lines, phase) = self.new_lines();
        if !lines.is_empty() {
            self.serve(&lines);
            return;
        }
        let idle_timeout = matches!(self.fault, Some(Fault::End { after }) if self.sent >= after);
        if !self.follow || phase != PodState::Running || idle_timeout || self.changed.changed().await.is_err() {
            self.done = true;
        }
    }

    /// The lines written since the last look, as the kubelet prints them with `timestamps=true`.
    fn new_lines(&mut self) -> (Vec<String>, PodState) {
        let pod = self.inner.pod.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let log = if self.previous { pod.previous.as_deref().unwrap_or_default() } else { &pod.current };
        let end = self.limit.unwrap_or(log.len()).min(log.len());
        let lines = log[self.next.min(end)..end]
            .iter()
            .filter(|(time, _)| self.since.is_none_or(|since| *time >= since))
            .map(|(time, text)| format!("{} {text}\n", rfc3339_nano_fixed(time.timestamp())))
            .collect();
        self.next = end;
        (lines, pod.phase)
    }

    /// Sends `lines` as one chunk, as far as the stream's fault lets them go.
    fn serve(&mut self, lines: &[String]) {
        let room = match self.fault {
            Some(Fault::Break { after } | Fault::Cut { after } | Fault::End { after }) => after.saturating_sub(self.sent),
            Some(Fault::Refuse(_)) | None => usize::MAX,
        };
        let whole = lines.len().min(room);
        let mut chunk = lines[..whole].concat().into_bytes();
        self.sent += whole;
        let fault = if whole < lines.len() { self.fault.take() } else { None };
        if let Some(Fault::Break { .. } | Fault::Cut { .. }) = fault {
            let cut = lines[whole].as_bytes();
            chunk.extend_from_slice(&cut[..cut.len() / 2]);
        }
        if !chunk.is_empty() {
            self.pending.push_back(Ok(Bytes::from(chunk)));
        }
        if let Some(Fault::Break { .. }) = fault {
            self.pending.push_back(Err(LiveError::Failed("connection lost: connection reset by peer".into())));
        }
        self.done |= fault.is_some();
    }
}

/// An object store in memory.
#[derive(Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, Bytes>>,
}

impl MemoryStore {
    fn objects(&self) -> MutexGuard<'_, BTreeMap<String, Bytes>> {
        self.objects.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl ObjectStore for MemoryStore {
    fn describe(&self) -> String {
        "memory".to_string()
    }

    fn put(&self, key: &str, body: Bytes) -> BoxFuture<'_, Result<(), StoreError>> {
        self.objects().insert(key.to_string(), body);
        Box::pin(async { Ok(()) })
    }

    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<Bytes>, StoreError>> {
        let body = self.objects().get(key).cloned();
        Box::pin(async move { Ok(body) })
    }

    fn list(&self, prefix: &str) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let keys = self.objects().keys().filter(|k| k.starts_with(prefix)).cloned().collect();
        Box::pin(async move { Ok(keys) })
    }

    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        self.objects().remove(key);
        Box::pin(async { Ok(()) })
    }
}

/// The fake pod's log archive: CRI files under Kubernetes' own layout, one per upload.
pub struct FakeArchive {
    store: Arc<MemoryStore>,
    pub logs: Arc<ShippedLogs>,
}

impl FakeArchive {
    pub fn new() -> FakeArchive {
        let store = Arc::new(MemoryStore::default());
        let template = KeyTemplate::parse(CRI_DEFAULT).unwrap_or_else(|e| panic!("the CRI layout parses: {e}"));
        let logs = Arc::new(ShippedLogs { store: store.clone(), format: RecordFormat::Cri, template });
        FakeArchive { store, logs }
    }

    /// The shipper uploads these lines as the next object (keys sort in upload order, up to 10).
    pub fn upload(&self, lines: &[(Nanos, &str)]) {
        let vars = KeyVars { namespace: NS, pod: POD, container: CONTAINER, app_id: None };
        let n = self.store.objects().len();
        let key = self.logs.template.render(&vars, Timestamp::UNIX_EPOCH, &mut |i| if i == 0 { "uid".into() } else { format!("{n}.log") });
        let body: String = lines.iter().map(|(time, text)| format!("{} stdout F {text}\n", rfc3339_nano_fixed(time.timestamp()))).collect();
        self.store.objects().insert(key, Bytes::from(body));
    }
}
