//! Container logs, as the kubelet keeps and serves them: per container, the current instance
//! and the previous one (after a restart), each bounded to the newest ~10 MiB as with the
//! kubelet's default rotation, with nanosecond timestamps and followers woken on every write.

use jiff::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// The kubelet's default `containerLogMaxSize`: only the newest file is served.
pub const DEFAULT_LIMIT_BYTES: usize = 10 * 1024 * 1024;

/// One log line as the runtime recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Position in the container's log since it started: followers resume after it.
    pub seq: u64,
    pub time: Timestamp,
    pub text: Arc<str>,
}

/// The log of one container instance.
pub struct LogBuffer {
    state: Mutex<BufferState>,
    /// Bumped on every append and at the end, so followers wake up.
    changed: watch::Sender<u64>,
}

struct BufferState {
    lines: VecDeque<Line>,
    bytes: usize,
    limit: usize,
    next_seq: u64,
    /// The container terminated: followers stop at the end.
    finished: bool,
}

impl LogBuffer {
    fn new(limit: usize) -> LogBuffer {
        LogBuffer {
            state: Mutex::new(BufferState { lines: VecDeque::new(), bytes: 0, limit, next_seq: 0, finished: false }),
            changed: watch::channel(0).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BufferState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends one line; the oldest lines go once the buffer is over its limit (rotation).
    pub fn push(&self, time: Timestamp, text: &str) {
        let seq = {
            let mut state = self.lock();
            let seq = state.next_seq;
            state.next_seq += 1;
            state.bytes += text.len() + 1;
            state.lines.push_back(Line { seq, time, text: text.into() });
            while state.bytes > state.limit {
                match state.lines.pop_front() {
                    Some(old) => state.bytes -= old.text.len() + 1,
                    None => break,
                }
            }
            seq
        };
        self.changed.send_replace(seq + 1);
    }

    /// The container stopped: no more lines will come.
    pub fn finish(&self) {
        self.lock().finished = true;
        self.changed.send_modify(|v| *v += 1);
    }

    pub fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// Lines with `seq >= from`, at most `max`, and whether the log has ended after them.
    pub fn read_from(&self, from: u64, max: usize) -> (Vec<Line>, bool) {
        let state = self.lock();
        let start = state.lines.partition_point(|l| l.seq < from);
        let lines: Vec<Line> = state.lines.range(start..).take(max).cloned().collect();
        let at_end = start + lines.len() == state.lines.len();
        (lines, at_end && state.finished)
    }

    /// The sequence number where the last `n` lines start.
    pub fn tail_start(&self, n: usize) -> u64 {
        let state = self.lock();
        let skip = state.lines.len().saturating_sub(n);
        state.lines.get(skip).map_or(state.next_seq, |l| l.seq)
    }

    /// The sequence number of the first line at or after `since`.
    pub fn since_start(&self, since: Timestamp) -> u64 {
        let state = self.lock();
        let index = state.lines.partition_point(|l| l.time < since);
        state.lines.get(index).map_or(state.next_seq, |l| l.seq)
    }

    /// Resolves when something was appended or the log ended.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

#[derive(Default)]
struct Instances {
    current: Option<Arc<LogBuffer>>,
    previous: Option<Arc<LogBuffer>>,
}

/// Every container's logs, by pod (so a pod's logs go in one step when it is deleted).
pub struct LogStore {
    pods: Mutex<HashMap<(String, String), HashMap<String, Instances>>>,
    limit: usize,
    /// Logs of deleted pods and replaced instances, held for the log shipper until it has
    /// taken their last lines (as Vector's `delay_deletion_ms` does on a node). Only filled
    /// while a shipper runs.
    retired: Mutex<Option<Vec<ContainerLog>>>,
}

/// One container instance's log, named.
#[derive(Clone)]
pub struct ContainerLog {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub buffer: Arc<LogBuffer>,
}

impl Default for LogStore {
    fn default() -> Self {
        LogStore::with_limit(DEFAULT_LIMIT_BYTES)
    }
}

fn pod_key(namespace: &str, pod: &str) -> (String, String) {
    (namespace.to_string(), pod.to_string())
}

impl LogStore {
    pub fn with_limit(limit: usize) -> LogStore {
        LogStore { pods: Mutex::default(), limit, retired: Mutex::default() }
    }

    /// Keeps logs that leave the store for [`LogStore::take_retired`] from now on.
    pub fn keep_retired(&self) {
        self.retired.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Vec::new);
    }

    /// Logs that left the store since the last call.
    pub fn take_retired(&self) -> Vec<ContainerLog> {
        self.retired.lock().unwrap_or_else(|e| e.into_inner()).as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn retire(&self, logs: impl IntoIterator<Item = ContainerLog>) {
        if let Some(retired) = self.retired.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            retired.extend(logs);
        }
    }

    /// Every current container log.
    pub fn all(&self) -> Vec<ContainerLog> {
        let pods = self.lock();
        let mut all = Vec::new();
        for ((namespace, pod), containers) in pods.iter() {
            for (container, instances) in containers {
                for buffer in instances.current.iter() {
                    all.push(ContainerLog {
                        namespace: namespace.clone(),
                        pod: pod.clone(),
                        container: container.clone(),
                        buffer: buffer.clone(),
                    });
                }
            }
        }
        all
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), HashMap<String, Instances>>> {
        self.pods.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current instance's log, created when the container starts.
    pub fn current(&self, namespace: &str, pod: &str, container: &str) -> Arc<LogBuffer> {
        let limit = self.limit;
        self.lock()
            .entry(pod_key(namespace, pod))
            .or_default()
            .entry(container.to_string())
            .or_default()
            .current
            .get_or_insert_with(|| Arc::new(LogBuffer::new(limit)))
            .clone()
    }

    /// The current instance's log if the container has written one.
    pub fn existing(&self, namespace: &str, pod: &str, container: &str, previous: bool) -> Option<Arc<LogBuffer>> {
        let pods = self.lock();
        let instances = pods.get(&pod_key(namespace, pod))?.get(container)?;
        if previous { instances.previous.clone() } else { instances.current.clone() }
    }

    /// The container restarted: its log becomes the previous one and a new one starts.
    pub fn restart(&self, namespace: &str, pod: &str, container: &str) {
        let limit = self.limit;
        let mut pods = self.lock();
        let instances = pods.entry(pod_key(namespace, pod)).or_default().entry(container.to_string()).or_default();
        let replaced = instances.current.take().inspect(|old| old.finish());
        instances.previous = replaced.clone();
        instances.current = Some(Arc::new(LogBuffer::new(limit)));
        drop(pods);
        let name =
            |buffer| ContainerLog { namespace: namespace.to_string(), pod: pod.to_string(), container: container.to_string(), buffer };
        self.retire(replaced.map(name));
    }

    /// The pod is gone, and its logs with it.
    pub fn remove_pod(&self, namespace: &str, pod: &str) {
        let removed = self.lock().remove(&pod_key(namespace, pod)).unwrap_or_default();
        let mut retired = Vec::new();
        // Followers of a deleted pod's log see the end of the stream.
        for (container, instances) in removed {
            instances.current.iter().chain(instances.previous.iter()).for_each(|b| b.finish());
            let name =
                |buffer| ContainerLog { namespace: namespace.to_string(), pod: pod.to_string(), container: container.clone(), buffer };
            retired.extend(instances.current.map(name));
        }
        self.retire(retired);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn rotation_keeps_the_newest_lines_within_the_limit() {
        let buffer = LogBuffer::new(20);
        for i in 0..10 {
            buffer.push(t(i), &format!("line {i}"));
        }
        let (lines, ended) = buffer.read_from(0, 100);
        assert!(!ended);
        let texts: Vec<&str> = lines.iter().map(|l| &*l.text).collect();
        assert_eq!(texts, ["line 8", "line 9"]);
        assert_eq!(lines[0].seq, 8);
    }

    #[test]
    fn tail_and_since_find_their_start() {
        let buffer = LogBuffer::new(DEFAULT_LIMIT_BYTES);
        for i in 0..5 {
            buffer.push(t(i * 10), &format!("{i}"));
        }
        assert_eq!(buffer.tail_start(2), 3);
        assert_eq!(buffer.tail_start(99), 0);
        assert_eq!(buffer.since_start(t(20)), 2, "a line exactly at sinceTime is included");
        assert_eq!(buffer.since_start(t(21)), 3);
        assert_eq!(buffer.since_start(t(1000)), 5);
        buffer.finish();
        assert_eq!(buffer.read_from(5, 10), (vec![], true));
    }

    #[test]
    fn a_restart_keeps_one_previous_instance() {
        let store = LogStore::default();
        store.current("ns", "p", "c").push(t(1), "first life");
        store.restart("ns", "p", "c");
        store.current("ns", "p", "c").push(t(2), "second life");
        let previous = store.existing("ns", "p", "c", true).unwrap();
        assert!(previous.is_finished());
        assert_eq!(&*previous.read_from(0, 10).0[0].text, "first life");
        store.remove_pod("ns", "p");
        assert!(store.existing("ns", "p", "c", false).is_none());
    }
}
