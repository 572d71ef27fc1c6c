//! The events of one merged log, compact: a million lines must not cost gigabytes.
//!
//! Texts (each with its id in front) live in large string chunks, so growing the store never
//! copies what it holds; each event is one 32-byte [`Record`] pointing into them. Sources are
//! interned: a record names its source by a `u16` index.

use crate::api::{LogEvent, LogLevel, LogSource, PodRole};
use jiff::Timestamp;
use std::collections::HashMap;

/// Bytes per text chunk; an event longer than this gets a chunk of its own.
const CHUNK: usize = 1 << 20;

/// Whether a line came from stdout or stderr, when the source says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Unknown,
    Stdout,
    Stderr,
}

/// One event, without its texts.
#[derive(Clone, Copy, Debug)]
pub struct Record {
    /// Nanoseconds since the Unix epoch.
    pub time_ns: i64,
    chunk: u32,
    start: u32,
    text_len: u32,
    /// How many lines the text has (1 plus its folded continuation lines).
    pub lines: u32,
    id_len: u16,
    pub source: u16,
    pub level: LogLevel,
    pub stream: Stream,
}

/// A source of the log, with what the viewer shows for it.
#[derive(Clone, Debug)]
pub struct SourceInfo {
    pub source: LogSource,
    /// `driver`, `exec-3` or the pod's name.
    pub label: String,
    /// Index into [`super::colour::PALETTE`], stable for a label.
    pub colour: usize,
    /// How many events it has.
    pub count: u32,
}

/// Every event received so far, in arrival (time) order.
#[derive(Default)]
pub struct Store {
    records: Vec<Record>,
    chunks: Vec<String>,
    sources: Vec<SourceInfo>,
    by_source: HashMap<LogSource, u16>,
    level_counts: [u32; LogLevel::ALL.len()],
    text_bytes: u64,
}

/// A level's position in [`LogLevel::ALL`], for per-level arrays.
pub fn level_index(level: LogLevel) -> usize {
    level as usize
}

impl Store {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Adds one event and returns its index.
    pub fn push(&mut self, event: LogEvent) -> u32 {
        let source = self.intern(event.source);
        let text = event.text.trim_end_matches(['\n', '\r']);
        let id = truncate(&event.id, u16::MAX as usize);
        let (chunk, start) = self.reserve(id.len() + text.len());
        let buf = &mut self.chunks[chunk];
        buf.push_str(id);
        buf.push_str(text);
        let record = Record {
            time_ns: event.time.as_nanosecond().clamp(i64::MIN as i128, i64::MAX as i128) as i64,
            chunk: chunk as u32,
            start: start as u32,
            text_len: text.len() as u32,
            lines: 1 + text.bytes().filter(|b| *b == b'\n').count() as u32,
            id_len: id.len() as u16,
            source,
            level: event.level,
            stream: match event.stream.as_deref() {
                Some("stdout") => Stream::Stdout,
                Some("stderr") => Stream::Stderr,
                _ => Stream::Unknown,
            },
        };
        self.records.push(record);
        self.level_counts[level_index(event.level)] += 1;
        self.sources[source as usize].count += 1;
        self.text_bytes += text.len() as u64;
        (self.records.len() - 1) as u32
    }

    /// Room for `len` bytes at the end of a chunk: (chunk, offset).
    fn reserve(&mut self, len: usize) -> (usize, usize) {
        match self.chunks.last() {
            Some(last) if last.capacity() - last.len() >= len => {}
            _ => self.chunks.push(String::with_capacity(len.max(CHUNK))),
        }
        let chunk = self.chunks.len() - 1;
        (chunk, self.chunks[chunk].len())
    }

    fn intern(&mut self, source: LogSource) -> u16 {
        if let Some(&i) = self.by_source.get(&source) {
            return i;
        }
        // Past 65,535 sources, the last one stands for the rest (a log has tens, not thousands).
        if self.sources.len() > u16::MAX as usize {
            return u16::MAX;
        }
        let label = source.label();
        let colour = super::colour::for_label(&label);
        let i = self.sources.len() as u16;
        self.sources.push(SourceInfo { source: source.clone(), label, colour, count: 0 });
        self.by_source.insert(source, i);
        i
    }

    pub fn record(&self, i: u32) -> &Record {
        &self.records[i as usize]
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The event's text, continuation lines separated by `\n`.
    pub fn text(&self, i: u32) -> &str {
        let r = &self.records[i as usize];
        let start = r.start as usize + r.id_len as usize;
        &self.chunks[r.chunk as usize][start..start + r.text_len as usize]
    }

    /// The event's stable id (what `#L<id>` names).
    pub fn id(&self, i: u32) -> &str {
        let r = &self.records[i as usize];
        &self.chunks[r.chunk as usize][r.start as usize..r.start as usize + r.id_len as usize]
    }

    pub fn time(&self, i: u32) -> Timestamp {
        Timestamp::from_nanosecond(self.records[i as usize].time_ns as i128).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    pub fn source(&self, i: u32) -> &SourceInfo {
        &self.sources[self.records[i as usize].source as usize]
    }

    /// Events per level, over every source.
    pub fn level_counts(&self) -> &[u32; LogLevel::ALL.len()] {
        &self.level_counts
    }

    /// Bytes of text held (ids and bookkeeping aside).
    pub fn text_bytes(&self) -> u64 {
        self.text_bytes
    }

    /// The index of the event with this id; newest first, since a permalink usually names a line
    /// that has just arrived.
    pub fn find_id(&self, id: &str) -> Option<u32> {
        (0..self.records.len() as u32).rev().find(|&i| self.id(i) == id)
    }

    /// The ids of the events at or after `since_ns` among the last `limit` events, for
    /// recognising events a resumed stream sends again.
    pub fn recent_ids(&self, since_ns: i64, limit: usize) -> std::collections::HashSet<String> {
        let n = self.records.len() as u32;
        (n.saturating_sub(limit as u32)..n)
            .filter(|&i| self.records[i as usize].time_ns >= since_ns)
            .map(|i| self.id(i).to_string())
            .collect()
    }

    /// The time of the newest event, in nanoseconds.
    pub fn last_time_ns(&self) -> Option<i64> {
        self.records.iter().map(|r| r.time_ns).max()
    }

    /// Sources grouped for the filter: drivers, executors (by executor number), controllers.
    pub fn sources_by_role(&self) -> [(PodRole, Vec<u16>); 3] {
        let mut groups = [(PodRole::Driver, Vec::new()), (PodRole::Executor, Vec::new()), (PodRole::Controller, Vec::new())];
        for (i, s) in self.sources.iter().enumerate() {
            let group = match s.source.role {
                PodRole::Driver => 0,
                PodRole::Executor => 1,
                PodRole::Controller => 2,
            };
            groups[group].1.push(i as u16);
        }
        let number = |s: &SourceInfo| s.source.executor_id.as_deref().and_then(|id| id.parse::<u64>().ok()).unwrap_or(u64::MAX);
        groups[1].1.sort_by(|a, b| {
            let (a, b) = (&self.sources[*a as usize], &self.sources[*b as usize]);
            number(a).cmp(&number(b)).then_with(|| a.label.cmp(&b.label))
        });
        groups
    }
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An event from `pod` (`driver`, `exec-N` or a controller pod name) at `second` past
    /// 05:00 with a nanosecond part `n`.
    pub fn event(id: &str, pod: &str, level: LogLevel, text: &str) -> LogEvent {
        let (role, executor_id) = match pod.strip_prefix("exec-") {
            Some(n) => (PodRole::Executor, Some(n.to_string())),
            None if pod == "driver" => (PodRole::Driver, None),
            None => (PodRole::Controller, None),
        };
        LogEvent {
            id: id.into(),
            time: "2026-11-21T05:00:00.000000001Z".parse().unwrap(),
            source: LogSource { role, pod: format!("job-{pod}"), container: "spark".into(), executor_id },
            level,
            text: text.into(),
            stream: Some("stderr".into()),
        }
    }

    #[test]
    fn events_come_back_whole_from_the_compact_store() {
        let mut store = Store::default();
        let a = store.push(event("a1", "driver", LogLevel::Info, "hello"));
        let b = store.push(event("b22", "exec-3", LogLevel::Error, "boom\n\tat x.y(Z.java:1)\n"));
        let c = store.push(event("c", "driver", LogLevel::Warn, "é✓"));
        assert_eq!((store.id(a), store.text(a)), ("a1", "hello"));
        assert_eq!((store.id(b), store.text(b)), ("b22", "boom\n\tat x.y(Z.java:1)"));
        assert_eq!(store.record(b).lines, 2);
        assert_eq!(store.text(c), "é✓");
        assert_eq!(store.sources().len(), 2);
        assert_eq!(store.source(b).label, "exec-3");
        assert_eq!(store.source(c).count, 2);
        assert_eq!(store.record(b).stream, Stream::Stderr);
        assert_eq!(store.time(a).as_nanosecond() % 1_000_000_000, 1);
        assert_eq!(store.level_counts()[level_index(LogLevel::Error)], 1);
        assert_eq!(store.find_id("b22"), Some(b));
        assert_eq!(store.find_id("nope"), None);
        assert_eq!(std::mem::size_of::<Record>(), 32);
    }

    #[test]
    fn chunks_fill_up_and_big_texts_get_their_own() {
        let mut store = Store::default();
        let big = "x".repeat(CHUNK + 10);
        for i in 0..3000 {
            store.push(event(&i.to_string(), "driver", LogLevel::Info, &"y".repeat(500)));
        }
        let i = store.push(event("big", "driver", LogLevel::Info, &big));
        let j = store.push(event("after", "driver", LogLevel::Info, "small"));
        assert_eq!(store.text(i).len(), big.len());
        assert_eq!(store.text(j), "small");
        assert_eq!(store.text(2999).len(), 500);
        assert_eq!(store.id(2999), "2999");
        assert!(store.chunks.len() >= 3);
        assert!(store.chunks.iter().all(|c| c.capacity() <= CHUNK + 20));
    }

    #[test]
    fn executors_sort_by_number_within_their_group() {
        let mut store = Store::default();
        for pod in ["exec-10", "driver", "exec-2", "spark-submit-x", "exec-1"] {
            store.push(event(pod, pod, LogLevel::Info, ""));
        }
        let groups = store.sources_by_role();
        let labels: Vec<&str> = groups[1].1.iter().map(|&i| store.sources()[i as usize].label.as_str()).collect();
        assert_eq!(labels, ["exec-1", "exec-2", "exec-10"]);
        assert_eq!(groups[0].1.len(), 1);
        assert_eq!(store.sources()[groups[2].1[0] as usize].label, "job-spark-submit-x");
    }
}
