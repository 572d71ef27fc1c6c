//! One source of a job's log: one container of one pod, read from the archive first and then
//! from the live API, as one gapless, duplicate-free sequence of events.
//!
//! The rules (the pod log API's behaviour they rest on: `REFERENCE.md`, "The pod log API"):
//! - The archive holds the older part, the live API the newer (the shipper lags by minutes, the
//!   kubelet keeps only the newest 10 MiB). The live read starts at the second of the last
//!   archived line (`sinceTime` has whole seconds) and [`Resume`] skips what was delivered.
//! - A follow stream that ends while the pod runs (kubelet idle timeouts, rotation, a dropped
//!   connection) is reopened the same way: no line lost, none repeated.
//! - A 404 means the pod was deleted: what follows comes from the archive, or a marker says
//!   that the rest is gone.
//! - Every problem is a marker in the stream, and the source carries on where it can.
//!
//! The live read (opening, reopening, waiting, the hand-over back to the archive) is the state
//! machine of [`super::follow`]; this file reads the archive and keeps the resume point.

use super::event::{Event, SourceInfo};
use super::fold::Folder;
use super::follow::read_live;
use super::gunzip::Decoder;
use super::key_template::KeyVars;
use super::lines::{Line, LineSplitter, MAX_LINE};
use super::live::PodLogApi;
use super::merge::Feed;
use super::record::{MAX_RECORD, Nanos, Record, RecordFormat, parse};
use super::shipped::{ShippedLogs, ShippedObject};
use crate::archive::store::{ByteStream, StoreError};
use futures::StreamExt;
use jiff::Timestamp;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Events per batch sent to the merge.
const BATCH: usize = 256;
/// A source's first batch goes out at this size: the merge emits nothing before every source's
/// first batch has come, so with 200 sources a small first batch brings the first line sooner.
const FIRST_BATCH: usize = 16;
/// Lines parsed between two looks at the batch: a chunk of thousands of lines is not parsed
/// whole before its first events can go.
const PARSE_STEP: usize = 32;

/// Where the source stands in its own sequence: the last delivered time and how many lines had
/// exactly that time. Reading again from that second replays what was delivered; the replay
/// skips the earlier lines and as many at that time as were delivered (stern's
/// `ResumeRequest`, with nanoseconds). Outside a replay every line is new, even one whose time
/// goes backwards (said with a marker, never dropped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    pub last: Option<Nanos>,
    pub at_last: u32,
    skip: u32,
    replaying: bool,
}

/// What a line is to the resume point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    New,
    /// Delivered before this read started.
    Seen,
    /// New, but earlier than a line before it.
    OutOfOrder,
}

impl Resume {
    /// A new read from `last`'s second starts: the lines up to `last` come again.
    pub fn restart(&mut self) {
        self.skip = self.at_last;
        self.replaying = self.last.is_some();
    }

    pub fn admit(&mut self, time: Nanos) -> Admit {
        if self.replaying {
            match self.last {
                Some(last) if time < last => return Admit::Seen,
                Some(last) if time == last && self.skip > 0 => {
                    self.skip -= 1;
                    return Admit::Seen;
                }
                _ => self.replaying = false,
            }
        }
        match self.last {
            Some(last) if time < last => Admit::OutOfOrder,
            Some(last) if time == last => {
                self.at_last += 1;
                Admit::New
            }
            _ => {
                self.last = Some(time);
                self.at_last = 1;
                Admit::New
            }
        }
    }
}

/// Is the pod still there, and its container still running? Asked when a follow stream ends.
pub trait PodProbe: Send + Sync + 'static {
    fn state(&self, namespace: &str, pod: &str) -> PodNow;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodNow {
    Running,
    Stopped,
    Gone,
}

/// Keeps only the lines that concern one job (the operator's shared log).
#[derive(Clone, Debug)]
pub struct Mentions {
    needles: Vec<String>,
    klog: String,
}

impl Mentions {
    pub fn job(namespace: &str, name: &str) -> Mentions {
        Mentions {
            needles: vec![
                format!("\"name\": \"{name}\", \"namespace\": \"{namespace}\""),
                format!("\"name\":\"{name}\",\"namespace\":\"{namespace}\""),
            ],
            klog: format!("\"{namespace}/{name}\""),
        }
    }

    fn keeps(&self, text: &str) -> bool {
        text.contains(&self.klog) || self.needles.iter().any(|n| text.contains(n.as_str()))
    }
}

/// How this source exists in the cluster now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Deleted (or its job is gone): only the archive has its log. `stopped_at` is when its
    /// containers stopped, if known.
    Gone { stopped_at: Option<Timestamp> },
    /// There: `restarted` has a previous instance; `running` may still write.
    Present { restarted: bool, running: bool },
}

/// Everything one source needs to know.
pub struct SourcePlan {
    pub info: Arc<SourceInfo>,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub app_id: Option<String>,
    pub presence: Presence,
    /// When the job ran, to find archive objects; None skips the archive.
    pub lifetime: Option<(Timestamp, Timestamp)>,
    pub mentions: Option<Mentions>,
}

/// What the request asks of every source.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    pub since: Option<Nanos>,
    pub until: Option<Nanos>,
    pub follow: bool,
}

/// The readers a source may use.
#[derive(Clone)]
pub struct Readers {
    pub archive: Option<Arc<ShippedLogs>>,
    pub live: Option<Arc<dyn PodLogApi>>,
    pub probe: Arc<dyn PodProbe>,
}

/// The merge went away (the client disconnected): stop reading.
#[derive(Debug)]
pub(super) struct Closed;

/// One source's read in progress: where it stands, what it holds back, where it sends.
pub(super) struct Reading {
    pub(super) folder: Folder,
    pub(super) resume: Resume,
    pub(super) span: Span,
    mentions: Option<Mentions>,
    pub(super) batch: Vec<Event>,
    tx: mpsc::Sender<Feed>,
    /// A runtime's partial line being joined: its first part's time and stream, the text so far
    /// (at most [`MAX_LINE`]) and its whole length.
    partial: Option<(Nanos, Option<&'static str>, String, usize)>,
    /// Lines past `until`: the source is done.
    pub(super) past_until: bool,
    /// Lines delivered so far.
    pub(super) lines: u64,
    out_of_order: u64,
    /// Where a marker stands when no line has come: the source's start, so that the same
    /// request gives the same marker (and id) every time.
    anchor: Option<Nanos>,
    /// Whether a batch has gone to the merge yet.
    sent: bool,
}

impl Reading {
    pub(super) fn new(plan: &SourcePlan, span: Span, tx: mpsc::Sender<Feed>) -> Reading {
        Reading {
            folder: Folder::new(plan.info.clone()),
            resume: Resume::default(),
            span,
            mentions: plan.mentions.clone(),
            batch: Vec::new(),
            tx,
            partial: None,
            past_until: false,
            lines: 0,
            out_of_order: 0,
            anchor: plan.lifetime.map(|(from, _)| Nanos::of(from)),
            sent: false,
        }
    }

    fn record(&mut self, record: Record) {
        let Record { time, stream, text, length, partial, .. } = record;
        let (time, stream, mut text, length) = match self.partial.take() {
            Some((first, first_stream, mut joined, joined_length)) => {
                if joined.len() < MAX_LINE {
                    joined.push_str(&text[..text.floor_char_boundary(MAX_LINE - joined.len())]);
                }
                (first, first_stream.or(stream), joined, joined_length + length)
            }
            None => (time, stream, text, length),
        };
        if partial {
            self.partial = Some((time, stream, text, length));
            return;
        }
        if length > text.len() {
            text = Line { text, cut_from: Some(length) }.into_text();
        }
        match self.resume.admit(time) {
            Admit::Seen => return,
            Admit::OutOfOrder => {
                self.out_of_order += 1;
                if self.out_of_order == 1 {
                    let last = self.resume.last.unwrap_or(time);
                    self.marker(format!(
                        "lines out of time order: a line at {} came after one at {} (shown where they came; the merge keeps this source's order)",
                        app::api::nanos::format(time.timestamp()),
                        app::api::nanos::format(last.timestamp())
                    ));
                }
            }
            Admit::New => {}
        }
        if self.span.since.is_some_and(|since| time < since) {
            return;
        }
        if self.span.until.is_some_and(|until| time > until) {
            self.past_until = true;
            return;
        }
        if self.mentions.as_ref().is_some_and(|m| !m.keeps(&text)) {
            return;
        }
        self.lines += 1;
        self.folder.push(time, stream, text, &mut self.batch);
    }

    pub(super) fn marker(&mut self, text: String) {
        let time =
            self.folder.last_time().or(self.resume.last).or(self.span.since).or(self.anchor).unwrap_or_else(|| Nanos::of(Timestamp::now()));
        let label = self.folder.source().source.label();
        self.folder.marker(time, format!("{label}: {text}"), &mut self.batch);
    }

    pub(super) async fn send_if_full(&mut self) -> Result<(), Closed> {
        if self.batch.len() >= if self.sent { BATCH } else { FIRST_BATCH } { self.send().await } else { Ok(()) }
    }

    async fn send(&mut self) -> Result<(), Closed> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.sent = true;
        let batch = std::mem::take(&mut self.batch);
        self.tx.send(Feed::Events(batch)).await.map_err(|_| Closed)
    }

    /// Caught up with a live log: let the fold go and tell the merge.
    pub(super) async fn quiet(&mut self) -> Result<(), Closed> {
        self.folder.flush(&mut self.batch);
        self.send().await?;
        self.tx.send(Feed::Tailing).await.map_err(|_| Closed)
    }
}

/// Lines that did not parse, summed up in one marker per object or stream rather than one each.
#[derive(Default)]
pub(super) struct BadLines {
    count: u64,
    first: Option<String>,
}

impl BadLines {
    fn note(&mut self, why: String) {
        self.count += 1;
        self.first.get_or_insert(why);
    }

    pub(super) fn report(&mut self, reading: &mut Reading, place: &str) {
        if self.count > 0 {
            let why = self.first.take().unwrap_or_default();
            reading.marker(format!("{} unreadable line(s) skipped in {place} (first: {why})", self.count));
            self.count = 0;
        }
    }
}

/// One stream's bytes to records: split into lines, parsed in the source's format, and kept
/// when they are this source's (a shipper's object may hold other pods' records too).
pub(super) struct LineReader<'a> {
    splitter: LineSplitter,
    format: RecordFormat,
    /// Records must name this pod (or name none, when `must_name` is off).
    origin: Option<(&'a SourcePlan, bool)>,
    pub(super) bad: BadLines,
    lines: Vec<Line>,
}

impl<'a> LineReader<'a> {
    pub(super) fn live() -> LineReader<'a> {
        LineReader {
            splitter: LineSplitter::new(),
            format: RecordFormat::KubeApi,
            origin: None,
            bad: BadLines::default(),
            lines: Vec::new(),
        }
    }

    /// For an archive object; `must_name` when the key does not say whose records these are.
    fn archived(format: RecordFormat, plan: &'a SourcePlan, must_name: bool) -> LineReader<'a> {
        let splitter = match format {
            RecordFormat::FluentBit | RecordFormat::Vector => LineSplitter::with_max(MAX_RECORD),
            RecordFormat::Cri | RecordFormat::KubeApi => LineSplitter::new(),
        };
        LineReader { splitter, format, origin: Some((plan, must_name)), bad: BadLines::default(), lines: Vec::new() }
    }

    pub(super) fn split(&mut self, bytes: &[u8]) {
        let lines = &mut self.lines;
        self.splitter.push(bytes, &mut |line| lines.push(line));
    }

    /// The bytes ended: a last line without its newline counts.
    pub(super) fn finish(&mut self) {
        let lines = &mut self.lines;
        self.splitter.finish(&mut |line| lines.push(line));
    }

    /// Parses the lines split so far into `reading`, sending each batch as it fills.
    pub(super) async fn take(&mut self, reading: &mut Reading) -> Result<(), Closed> {
        while !self.lines.is_empty() {
            self.records_up_to(PARSE_STEP, &mut |record| reading.record(record));
            reading.send_if_full().await?;
        }
        Ok(())
    }

    /// Parses the lines split so far, giving this source's records to `out`.
    fn records(&mut self, out: &mut impl FnMut(Record)) {
        self.records_up_to(usize::MAX, out);
    }

    /// Parses up to `most` of the lines split so far, in order, giving this source's records to
    /// `out`.
    fn records_up_to(&mut self, most: usize, out: &mut impl FnMut(Record)) {
        let most = most.min(self.lines.len());
        for line in self.lines.drain(..most) {
            if line.text.is_empty() && line.cut_from.is_none() {
                continue;
            }
            let record = match parse(self.format, line) {
                Ok(record) => record,
                Err(e) => {
                    self.bad.note(e.to_string());
                    continue;
                }
            };
            if let Some((plan, must_name)) = self.origin {
                let origin = &record.origin;
                if must_name && origin.pod.is_none() {
                    self.bad.note("the record names no pod, and the key template has no {pod}".to_string());
                    continue;
                }
                let other = |field: &Option<String>, ours: &str| field.as_deref().is_some_and(|v| v != ours);
                if other(&origin.pod, &plan.pod) || other(&origin.namespace, &plan.namespace) || other(&origin.container, &plan.container) {
                    continue;
                }
            }
            out(record);
        }
    }
}

/// Reads one source into `tx` until it ends, the span is covered, or the merge goes away.
pub async fn run(plan: SourcePlan, readers: Readers, span: Span, tx: mpsc::Sender<Feed>) {
    let mut reading = Reading::new(&plan, span, tx);
    let _ = read(&plan, &readers, &mut reading).await;
}

pub(super) async fn read(plan: &SourcePlan, readers: &Readers, reading: &mut Reading) -> Result<(), Closed> {
    let archived = match (&readers.archive, plan.lifetime) {
        (Some(archive), Some(lifetime)) => read_archive(plan, archive, lifetime, reading).await?,
        _ => 0,
    };
    if !reading.past_until {
        match (plan.presence, &readers.live) {
            (Presence::Gone { stopped_at }, _) => gone(plan, readers, archived, stopped_at, reading),
            (Presence::Present { .. }, None) => {}
            (Presence::Present { restarted, running }, Some(live)) => {
                if restarted {
                    read_live(plan, readers, live.as_ref(), true, false, reading).await?;
                }
                let follow = reading.span.follow && running;
                read_live(plan, readers, live.as_ref(), false, follow, reading).await?;
            }
        }
    }
    if reading.out_of_order > 1 {
        reading.marker(format!("{} lines in all were out of time order", reading.out_of_order));
    }
    reading.folder.flush(&mut reading.batch);
    reading.send().await
}

/// A shipper may still be uploading a pod's last lines this long after it stopped (Fluent Bit's
/// S3 output waits up to `upload_timeout`, ten minutes by default, before an upload).
const UPLOAD_LAG: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// The pod is gone: say so when nothing could stand in for the live log, or when the archive
/// may not have its end yet.
fn gone(plan: &SourcePlan, readers: &Readers, archived: u64, stopped_at: Option<Timestamp>, reading: &mut Reading) {
    match &readers.archive {
        None => reading.marker(format!(
            "pod {} was deleted from Kubernetes and its log with it; no log archive is configured (--log-archive)",
            plan.pod
        )),
        Some(archive) if archived == 0 => reading.marker(format!(
            "pod {} was deleted from Kubernetes and the log archive has no log for it ({})",
            plan.pod,
            archive.describe()
        )),
        Some(_) => {
            let (Some(stopped), Some(last)) = (stopped_at, reading.resume.last) else { return };
            let now = Timestamp::now();
            let recent = now.duration_since(stopped) < UPLOAD_LAG;
            let short = stopped.duration_since(last.timestamp());
            if recent && short > jiff::SignedDuration::from_secs(2) && reading.span.until.is_none_or(|u| u > last) {
                reading.marker(format!(
                    "pod {} was deleted; the log archive has its lines up to {}, and it stopped {:.0} s later, at {}: its last lines may not be uploaded yet",
                    plan.pod,
                    app::api::nanos::format(last.timestamp()),
                    short.as_secs_f64(),
                    app::api::nanos::format(stopped),
                ));
            }
        }
    }
}

/// Reads every archived object of the source after the resume point; returns how many lines.
pub(super) async fn read_archive(
    plan: &SourcePlan,
    archive: &ShippedLogs,
    (from, to): (Timestamp, Timestamp),
    reading: &mut Reading,
) -> Result<u64, Closed> {
    let vars = KeyVars { namespace: &plan.namespace, pod: &plan.pod, container: &plan.container, app_id: plan.app_id.as_deref() };
    let objects = match archive.objects(&vars, from, to).await {
        Ok(objects) => objects,
        Err(e) => {
            reading.marker(format!("the log archive could not be listed: {e}"));
            return Ok(0);
        }
    };
    let before = reading.lines;
    let must_name = !archive.template.names_pod();
    let objects = in_record_order(archive, &objects, plan, must_name).await;
    for object in objects {
        if reading.past_until {
            break;
        }
        let mut opened = match ArchivedObject::open(archive, &object.key, plan, must_name).await {
            Ok(Some(opened)) => opened,
            // Compacted or expired between the list and the read.
            Ok(None) => continue,
            Err(e) => {
                reading.marker(format!("archive object {} could not be read: {e}", object.key));
                continue;
            }
        };
        let failed = loop {
            let more = opened.fill().await;
            opened.reader.take(reading).await?;
            match more {
                Ok(true) => reading.send_if_full().await?,
                Ok(false) => break None,
                Err(why) => break Some(why),
            }
        };
        opened.reader.bad.report(reading, &format!("archive object {}", object.key));
        if let Some(why) = failed {
            reading.marker(format!("archive object {} is damaged, the rest of it was skipped: {why}", object.key));
        }
        reading.send_if_full().await?;
    }
    Ok(reading.lines - before)
}

/// Puts objects whose keys spell the same second in the order of their first records: keys
/// carry whole seconds and a random suffix (Fluent Bit's `%S-$UUID`, Vector's `%s-{uuid}`), so
/// two uploads within one second sort by chance. A shipper's uploads of one container do not
/// overlap in time, so the first record orders them. Costs one short read per such object.
async fn in_record_order(archive: &ShippedLogs, objects: &[ShippedObject], plan: &SourcePlan, must_name: bool) -> Vec<ShippedObject> {
    let mut ordered = Vec::with_capacity(objects.len());
    for group in objects.chunk_by(|a, b| a.time == b.time) {
        if group.len() < 2 || group[0].time.is_none() {
            ordered.extend_from_slice(group);
            continue;
        }
        let mut keyed = Vec::with_capacity(group.len());
        for object in group {
            keyed.push((first_record_time(archive, &object.key, plan, must_name).await, object.clone()));
        }
        // Objects that cannot be read go last; reading them says why.
        keyed.sort_by_key(|(first, _)| (first.is_none(), *first));
        ordered.extend(keyed.into_iter().map(|(_, object)| object));
    }
    ordered
}

/// The time of an object's first record of this source, reading no further than it.
async fn first_record_time(archive: &ShippedLogs, key: &str, plan: &SourcePlan, must_name: bool) -> Option<Nanos> {
    let mut opened = ArchivedObject::open(archive, key, plan, must_name).await.ok()??;
    loop {
        let more = opened.fill().await.ok()?;
        let mut first = None;
        opened.reader.records(&mut |record| {
            first.get_or_insert(record.time);
        });
        if first.is_some() || !more {
            return first;
        }
    }
}

/// One archive object being read: its byte stream, decoded (gzip or plain) into a line reader.
struct ArchivedObject<'a> {
    body: ByteStream,
    decoder: Decoder,
    reader: LineReader<'a>,
}

impl<'a> ArchivedObject<'a> {
    /// `None` when the object is gone (compacted or expired since the listing).
    async fn open(
        archive: &ShippedLogs,
        key: &str,
        plan: &'a SourcePlan,
        must_name: bool,
    ) -> Result<Option<ArchivedObject<'a>>, StoreError> {
        let Some(body) = archive.open(key).await? else { return Ok(None) };
        Ok(Some(ArchivedObject { body, decoder: Decoder::default(), reader: LineReader::archived(archive.format, plan, must_name) }))
    }

    /// Decodes the next chunk into the reader's lines: `true` while more may come, `false` once
    /// the object has ended whole; an error says how it is damaged (the rest is unreadable).
    async fn fill(&mut self) -> Result<bool, String> {
        let reader = &mut self.reader;
        match self.body.next().await {
            Some(Ok(chunk)) => self.decoder.push(&chunk, &mut |d| reader.split(d)).map(|()| true).map_err(|e| format!("corrupt gzip: {e}")),
            Some(Err(e)) => Err(e.to_string()),
            None => {
                self.decoder.finish(&mut |d| reader.split(d)).map_err(|e| format!("corrupt or truncated gzip: {e}"))?;
                reader.finish();
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_skips_exactly_what_was_delivered() {
        use Admit::*;
        let mut resume = Resume::default();
        let delivered: Vec<Admit> = [1, 2, 2, 3, 3].iter().map(|&t| resume.admit(Nanos(t))).collect();
        assert_eq!(delivered, [New; 5]);
        // Read again from the second of the last line: everything up to it comes again, then new lines.
        resume.restart();
        let again: Vec<Admit> = [1, 2, 2, 3, 3, 3, 4].iter().map(|&t| resume.admit(Nanos(t))).collect();
        assert_eq!(again, [Seen, Seen, Seen, Seen, Seen, New, New]);
        assert_eq!((resume.last, resume.at_last), (Some(Nanos(4)), 1));
        // Outside a replay a line going back in time is kept, and said to be out of order.
        assert_eq!([resume.admit(Nanos(2)), resume.admit(Nanos(5))], [OutOfOrder, New]);
    }
}
