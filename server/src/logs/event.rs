//! The pipeline's own event: what a source produces and the merge orders, turned into the wire's
//! [`LogEvent`] only at the edge (so the merge compares integers, not strings).

use super::record::Nanos;
use app::api::{LogEvent, LogLevel, LogSource};
use std::sync::Arc;

/// A source as the merge knows it.
#[derive(Debug)]
pub struct SourceInfo {
    pub source: LogSource,
    /// Ties between sources at the same nanosecond go by rank: controller, driver, executors
    /// by number, so the order is the same on every request.
    pub rank: u32,
    /// A short, stable code for ids: a hash of namespace, pod and container.
    pub code: u32,
}

impl SourceInfo {
    pub fn new(namespace: &str, source: LogSource, rank: u32) -> Arc<SourceInfo> {
        let code = fnv1a(&[namespace, &source.pod, &source.container]);
        Arc::new(SourceInfo { source, rank, code })
    }
}

/// FNV-1a over the parts with a separator: tiny, stable across releases and platforms (unlike
/// std's hasher), which permalinks need.
fn fnv1a(parts: &[&str]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for &b in part.as_bytes().iter().chain(std::iter::once(&0u8)) {
            hash ^= u32::from(b);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    hash
}

/// One event: a line with its folded continuation lines, or a marker.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub time: Nanos,
    pub source: Arc<SourceInfo>,
    pub level: LogLevel,
    pub text: String,
    pub stream: Option<&'static str>,
    /// Rank among this source's events with the same `time`: the last part of the id.
    pub dup: u32,
}

impl PartialEq for SourceInfo {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.source == other.source
    }
}

impl Event {
    /// `<nanoseconds>-<source code>-<dup>`: stable across requests, reloads and the cut-over from
    /// archive to live, because all three parts come from the line itself.
    pub fn id(&self) -> String {
        format!("{}-{:08x}-{}", self.time.0, self.source.code, self.dup)
    }

    pub fn to_wire(&self) -> LogEvent {
        LogEvent {
            id: self.id(),
            time: self.time.timestamp(),
            source: self.source.source.clone(),
            level: self.level,
            text: self.text.clone(),
            stream: self.stream.map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::PodRole;

    #[test]
    fn ids_are_stable_and_distinct_per_source() {
        let source =
            |pod: &str| LogSource { role: PodRole::Executor, pod: pod.into(), container: "c".into(), executor_id: Some("1".into()) };
        let a = SourceInfo::new("ns", source("p-1"), 1);
        let b = SourceInfo::new("ns", source("p-2"), 2);
        assert_ne!(a.code, b.code);
        // Fixed forever: permalinks in chat and tickets depend on it.
        assert_eq!(fnv1a(&["ns", "p", "c"]), 0x5f55_0a39);
        let event = Event { time: Nanos(42), source: a, level: LogLevel::Info, text: "x".into(), stream: None, dup: 1 };
        assert_eq!(event.id(), format!("42-{:08x}-1", event.source.code));
        assert_eq!(event.to_wire().time, jiff::Timestamp::from_nanosecond(42).unwrap());
    }
}
