//! Lines to events, per source: a continuation line (a stack frame, a traceback) joins the event
//! above it, so that after the merge a stack trace is never interleaved with other pods' lines.
//!
//! Folding only looks backwards a little: a continuation joins an event at most
//! [`CONTINUATION_GAP`] after that event's last line, a plain line (Spark's multi-line messages)
//! only [`PLAIN_GAP`] after a header, as in Dozzle's grouping. An event stops growing at
//! [`MAX_EVENT_LINES`] or [`MAX_EVENT_BYTES`], so one endless trace cannot hold memory.

use super::classify::{Kind, classify};
use super::event::{Event, SourceInfo};
use super::record::Nanos;
use app::api::LogLevel;
use std::sync::Arc;

pub const CONTINUATION_GAP: Nanos = Nanos(2_000_000_000);
pub const PLAIN_GAP: Nanos = Nanos(50_000_000);
pub const MAX_EVENT_LINES: usize = 2000;
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

struct Pending {
    event: Event,
    last_line: Nanos,
    header: bool,
    lines: usize,
}

/// One source's folder.
pub struct Folder {
    source: Arc<SourceInfo>,
    pending: Option<Pending>,
    last_emitted: Option<Nanos>,
    dup: u32,
}

impl Folder {
    pub fn new(source: Arc<SourceInfo>) -> Folder {
        Folder { source, pending: None, last_emitted: None, dup: 0 }
    }

    pub fn source(&self) -> &Arc<SourceInfo> {
        &self.source
    }

    /// Takes one line; events it completes go to `out`.
    pub fn push(&mut self, time: Nanos, stream: Option<&'static str>, text: String, out: &mut Vec<Event>) {
        let classified = classify(&text);
        if let Some(pending) = &mut self.pending {
            let gap = Nanos(time.0.saturating_sub(pending.last_line.0));
            let joins = match classified.kind {
                Kind::Continuation => gap <= CONTINUATION_GAP,
                Kind::Plain => pending.header && gap <= PLAIN_GAP,
                Kind::Header => false,
            };
            if joins && pending.lines < MAX_EVENT_LINES && pending.event.text.len() + text.len() < MAX_EVENT_BYTES {
                pending.event.text.push('\n');
                pending.event.text.push_str(&text);
                pending.last_line = time.max(pending.last_line);
                pending.lines += 1;
                return;
            }
        }
        self.flush(out);
        let header = classified.kind == Kind::Header;
        let level = classified.level.unwrap_or(LogLevel::Unknown);
        let text = classified.rewritten.unwrap_or(text);
        let lines = 1 + text.matches('\n').count();
        let event = Event { time, source: self.source.clone(), level, text, stream, dup: 0 };
        self.pending = Some(Pending { event, last_line: time, header, lines });
    }

    /// A marker: the source saying what went wrong, in line with its events.
    pub fn marker(&mut self, time: Nanos, text: String, out: &mut Vec<Event>) {
        self.flush(out);
        let event = Event { time, source: self.source.clone(), level: LogLevel::Marker, text, stream: None, dup: 0 };
        self.emit(event, out);
    }

    /// Lets the event being folded go (the source went quiet, or ended).
    pub fn flush(&mut self, out: &mut Vec<Event>) {
        if let Some(pending) = self.pending.take() {
            self.emit(pending.event, out);
        }
    }

    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The time of the last line taken, folded or not.
    pub fn last_time(&self) -> Option<Nanos> {
        self.pending.as_ref().map(|p| p.last_line).or(self.last_emitted)
    }

    fn emit(&mut self, mut event: Event, out: &mut Vec<Event>) {
        self.dup = if self.last_emitted == Some(event.time) { self.dup + 1 } else { 0 };
        self.last_emitted = Some(event.time);
        event.dup = self.dup;
        out.push(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::{LogSource, PodRole};

    fn folder() -> Folder {
        let source = LogSource { role: PodRole::Driver, pod: "d".into(), container: "c".into(), executor_id: None };
        Folder::new(SourceInfo::new("ns", source, 0))
    }

    fn run(lines: &[(i64, &str)]) -> Vec<Event> {
        let mut folder = folder();
        let mut out = Vec::new();
        for (ms, text) in lines {
            folder.push(Nanos(ms * 1_000_000), None, text.to_string(), &mut out);
        }
        folder.flush(&mut out);
        out
    }

    #[test]
    fn stack_traces_and_tracebacks_fold_into_their_event() {
        let events = run(&[
            (0, "26/11/21 05:00:00 ERROR SparkContext: Error in job 4"),
            (0, "org.apache.spark.SparkException: Job aborted"),
            (1, "\tat a.B.c(B.java:1)"),
            (1, "Caused by: java.lang.NumberFormatException: For input string: \"N/A\""),
            (2, "\t... 18 more"),
            (5, "26/11/21 05:00:00 INFO ShutdownHookManager: Shutdown hook called"),
            (6, "Traceback (most recent call last):"),
            (6, "  File \"main.py\", line 42, in <module>"),
            (6, "ValueError: bad"),
        ]);
        assert_eq!(events.len(), 2, "{events:#?}");
        assert_eq!(events[0].level, LogLevel::Error);
        assert_eq!(events[0].text.lines().count(), 5);
        assert_eq!(events[1].level, LogLevel::Info);
        assert!(events[1].text.ends_with("ValueError: bad"), "a traceback after a line joins it: {}", events[1].text);
    }

    #[test]
    fn plain_lines_join_only_right_after_a_header_and_gaps_split() {
        let events = run(&[
            (0, "++ id -u"),
            (0, "+ myuid=185"),
            (10, "26/11/21 05:00:00 ERROR TaskSchedulerImpl: Lost executor 3"),
            (10, "The API gave the following container statuses:"),
            (500, "a plain line much later"),
            (600, "26/11/21 05:00:01 INFO A: x"),
            (5000, "\tat a.B.c(B.java:1)"),
        ]);
        let texts: Vec<&str> = events.iter().map(|e| e.text.lines().next().unwrap()).collect();
        assert_eq!(
            texts,
            [
                "++ id -u",
                "+ myuid=185",
                "26/11/21 05:00:00 ERROR TaskSchedulerImpl: Lost executor 3",
                "a plain line much later",
                "26/11/21 05:00:01 INFO A: x",
                "\tat a.B.c(B.java:1)"
            ]
        );
        assert_eq!(events[2].text.lines().count(), 2);
        assert_eq!(events[0].level, LogLevel::Unknown);
    }

    #[test]
    fn equal_times_get_distinct_ids_and_events_stay_bounded() {
        let events = run(&[(7, "a"), (7, "b"), (8, "c")]);
        assert_eq!(events.iter().map(|e| e.dup).collect::<Vec<_>>(), [0, 1, 0]);
        assert_ne!(events[0].id(), events[1].id());
        let mut lines = vec![(0, "26/11/21 05:00:00 ERROR A: x".to_string())];
        lines.extend((0..3000).map(|_| (0, "\tat a.B.c(B.java:1)".to_string())));
        let lines: Vec<(i64, &str)> = lines.iter().map(|(t, s)| (*t, s.as_str())).collect();
        let events = run(&lines);
        assert_eq!(events[0].text.lines().count(), MAX_EVENT_LINES);
        assert_eq!(events.len(), 1 + (3001 - MAX_EVENT_LINES).div_ceil(MAX_EVENT_LINES));
    }
}
