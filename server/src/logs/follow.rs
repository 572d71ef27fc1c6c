//! The live read of one source as a state machine: open a log stream from the resume point, read
//! it, and when it ends decide whether to reopen (at once or after a wait), hand over to the
//! archive (the pod was deleted), or stop.
//!
//! This is where "no gap, no duplicate" is kept across reopenings: every [`State::Opening`]
//! restarts the [`Resume`](super::source::Resume) at the second of the last delivered line (the
//! API's `sinceTime` has whole seconds), so the replay skips exactly what was delivered; a line
//! cut with its connection is dropped and comes again whole. Written as kube-runtime writes its
//! watcher: one enum of states and one [`Follow::step`] that takes a state and gives the next, so
//! each transition can be tested on its own.
//!
//! ```text
//!  Opening ──ok──> Streaming ──chunk / quiet──> Streaming
//!     │                │
//!     │                ├─ ended, delivered ──────────> Opening
//!     │                ├─ ended, nothing new ────────> Waiting ──> Opening
//!     │                ├─ pod gone ──────────────────> Archive ──> Done
//!     │                └─ stopped, not following, past `until`, gave up ──> Done
//!     ├─ 404 ─────────> Archive
//!     ├─ not started ─> Waiting (1 s; Done if the pod went)
//!     ├─ failed ──────> Waiting (backoff), or Done with a marker
//!     └─ no previous instance, or nothing to follow ──> Done
//! ```

use super::live::{LiveError, LiveParams, LiveStream, PodLogApi};
use super::source::{Closed, LineReader, PodNow, Readers, Reading, SourcePlan, read_archive};
use futures::StreamExt;
use jiff::Timestamp;
use std::time::Duration;

/// A follow stream quiet this long has caught up: pending folds go out and the merge is told.
const QUIET: Duration = Duration::from_millis(200);
/// Reopening a follow stream that keeps failing waits this long, doubling up to [`MAX_BACKOFF`].
const REOPEN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A container waiting to start is asked again this often.
const NOT_STARTED_WAIT: Duration = Duration::from_secs(1);
/// A source gives up on the live API after this many failures in a row.
const MAX_FAILURES: u32 = 8;

/// Where a live read stands.
pub(super) enum State {
    /// About to open a stream from the resume point.
    Opening,
    /// Reading an open stream.
    Streaming(Open),
    /// Waiting before opening again: after a failure, an empty stream, or a container that has
    /// not started.
    Waiting { delay: Duration, then: AfterWait },
    /// The pod was deleted while its log was read: the rest is in the archive, or nowhere.
    Archive,
    /// Nothing more to read.
    Done,
}

/// What a wait leads to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AfterWait {
    Reopen,
    /// The container had not started: reopen, unless the pod went meanwhile (then its log never
    /// began and there is nothing to hand over).
    ReopenUnlessGone,
}

/// An open stream and what its read has done so far.
pub(super) struct Open {
    stream: LiveStream,
    reader: LineReader<'static>,
    /// The merge has been told that this stream caught up, and nothing came since.
    told_quiet: bool,
    /// The source's line count when the stream opened: whether it delivered anything.
    lines_before: u64,
}

/// How a stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// The API closed it: the log's end, or (following) a timeout or the container stopping.
    Clean,
    /// The connection broke.
    Broken,
}

/// One live read: of the current or the previous instance, following or not. Holds what stays
/// the same from state to state, and the failure count and backoff that span reopenings.
pub(super) struct Follow<'a> {
    plan: &'a SourcePlan,
    readers: &'a Readers,
    live: &'a dyn PodLogApi,
    previous: bool,
    follow: bool,
    /// Failures in a row (refused opens, broken streams); a stream that delivers resets it.
    failures: u32,
    /// The next wait before reopening.
    backoff: Duration,
}

/// Reads the live log of the current (or previous) instance; with `follow`, until the container
/// stops, reopening the stream whenever it ends early.
pub(super) async fn read_live(
    plan: &SourcePlan,
    readers: &Readers,
    live: &dyn PodLogApi,
    previous: bool,
    follow: bool,
    reading: &mut Reading,
) -> Result<(), Closed> {
    let mut machine = Follow::new(plan, readers, live, previous, follow);
    let mut state = State::Opening;
    while !matches!(state, State::Done) {
        state = machine.step(state, reading).await?;
    }
    Ok(())
}

impl<'a> Follow<'a> {
    pub(super) fn new(plan: &'a SourcePlan, readers: &'a Readers, live: &'a dyn PodLogApi, previous: bool, follow: bool) -> Follow<'a> {
        Follow { plan, readers, live, previous, follow, failures: 0, backoff: REOPEN_BACKOFF }
    }

    /// Does what `state` calls for and gives the state after it. `Err` only when the merge has
    /// gone away; `Done` stays `Done`.
    pub(super) async fn step(&mut self, state: State, reading: &mut Reading) -> Result<State, Closed> {
        match state {
            State::Opening => self.open(reading).await,
            State::Streaming(open) => self.stream(open, reading).await,
            State::Waiting { delay, then } => Ok(self.wait(delay, then).await),
            State::Archive => self.archive(reading).await,
            State::Done => Ok(State::Done),
        }
    }

    async fn open(&mut self, reading: &mut Reading) -> Result<State, Closed> {
        reading.resume.restart();
        let since = reading.resume.last.or(reading.span.since);
        let params = LiveParams { container: self.plan.container.clone(), follow: self.follow, previous: self.previous, since };
        match self.live.open(&self.plan.namespace, &self.plan.pod, params).await {
            Ok(stream) => Ok(State::Streaming(Open { stream, reader: LineReader::live(), told_quiet: false, lines_before: reading.lines })),
            Err(LiveError::NotFound(_)) => Ok(State::Archive),
            // No previous instance, or a container that never started: nothing to read.
            Err(LiveError::NotAvailable(_)) if self.previous || !self.follow => Ok(State::Done),
            Err(LiveError::NotAvailable(_)) => {
                // Waiting to start: come back when it has.
                reading.quiet().await?;
                Ok(State::Waiting { delay: NOT_STARTED_WAIT, then: AfterWait::ReopenUnlessGone })
            }
            Err(LiveError::Failed(e)) => {
                self.failures += 1;
                if self.failures >= MAX_FAILURES || !self.follow {
                    reading.marker(format!("the live log could not be read: {e}"));
                    return Ok(State::Done);
                }
                Ok(State::Waiting { delay: self.next_backoff(), then: AfterWait::Reopen })
            }
        }
    }

    /// Takes the stream's next chunk, or tells the merge that a follow has caught up when none
    /// comes for [`QUIET`] (once per silence, and again while folds or a batch wait).
    async fn stream(&mut self, mut open: Open, reading: &mut Reading) -> Result<State, Closed> {
        let next = if self.follow && (reading.folder.has_pending() || !reading.batch.is_empty() || !open.told_quiet) {
            match tokio::time::timeout(QUIET, open.stream.next()).await {
                Ok(next) => next,
                Err(_) => {
                    reading.quiet().await?;
                    open.told_quiet = true;
                    return Ok(State::Streaming(open));
                }
            }
        } else {
            open.stream.next().await
        };
        match next {
            Some(Ok(chunk)) => {
                open.told_quiet = false;
                open.reader.split(&chunk);
                open.reader.take(reading).await?;
                if reading.past_until {
                    return Ok(State::Done);
                }
                reading.send_if_full().await?;
                Ok(State::Streaming(open))
            }
            Some(Err(_)) => self.ended(open, End::Broken, reading).await,
            None => self.ended(open, End::Clean, reading).await,
        }
    }

    /// A stream ended: what it still holds goes out, and the next state depends on how it ended
    /// and what the pod is doing.
    async fn ended(&mut self, mut open: Open, end: End, reading: &mut Reading) -> Result<State, Closed> {
        // The kubelet ends every line; a line without its newline was cut with the connection
        // and comes again whole from the resume point, so only a clean, final end keeps it.
        if end == End::Clean && !self.follow {
            open.reader.finish();
            open.reader.take(reading).await?;
        }
        open.reader.bad.report(reading, &format!("the live log of {}", self.plan.pod));
        let delivered = reading.lines > open.lines_before;
        match end {
            End::Broken => {
                // The connection broke: read again from where it stood.
                self.failures += 1;
                if self.failures >= MAX_FAILURES {
                    reading
                        .marker(format!("the live log stream of {} kept breaking; gave up after {} tries", self.plan.pod, self.failures));
                    return Ok(State::Done);
                }
            }
            End::Clean if !self.follow => return Ok(State::Done),
            // A follow stream ended: the container stopped, the pod went, or a timeout did.
            End::Clean => match self.readers.probe.state(&self.plan.namespace, &self.plan.pod) {
                PodNow::Running => {}
                PodNow::Stopped => return Ok(State::Done),
                PodNow::Gone => return Ok(State::Archive),
            },
        }
        Ok(self.again(delivered))
    }

    /// Reopens at once after a stream that delivered; after one that did not (the model has not
    /// seen the container stop yet, say) waits first, so as not to spin.
    fn again(&mut self, delivered: bool) -> State {
        if delivered {
            self.backoff = REOPEN_BACKOFF;
            self.failures = 0;
            State::Opening
        } else {
            State::Waiting { delay: self.next_backoff(), then: AfterWait::Reopen }
        }
    }

    /// The wait before the next reopening; the one after doubles, up to [`MAX_BACKOFF`].
    fn next_backoff(&mut self) -> Duration {
        let delay = self.backoff;
        self.backoff = (delay * 2).min(MAX_BACKOFF);
        delay
    }

    async fn wait(&self, delay: Duration, then: AfterWait) -> State {
        tokio::time::sleep(delay).await;
        match then {
            AfterWait::ReopenUnlessGone if self.readers.probe.state(&self.plan.namespace, &self.plan.pod) == PodNow::Gone => State::Done,
            AfterWait::Reopen | AfterWait::ReopenUnlessGone => State::Opening,
        }
    }

    /// The pod went while its log was being read: the rest is in the archive, or nowhere.
    async fn archive(&self, reading: &mut Reading) -> Result<State, Closed> {
        match (&self.readers.archive, self.plan.lifetime) {
            (Some(archive), Some((from, _))) => {
                // The archive is read from the job's start: what the live log delivered comes
                // again and is skipped, as a reopened stream's replay is (a 404 on opening has
                // restarted already; restarting twice is the same).
                reading.resume.restart();
                read_archive(self.plan, archive, (from, Timestamp::now()), reading).await?;
            }
            _ => reading.marker(format!("pod {} was deleted while its log was read; the rest of its log is not archived", self.plan.pod)),
        }
        Ok(State::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::event::SourceInfo;
    use crate::logs::fakes::{CONTAINER, FakeArchive, FakeKubelet, Fault, NS, POD, PodState};
    use crate::logs::merge::Feed;
    use crate::logs::record::Nanos;
    use crate::logs::source::{Presence, Span, read};
    use app::api::{LogLevel, LogSource, PodRole};
    use std::sync::Arc;
    use tokio::sync::mpsc;
    use tokio::time::Instant;

    /// 2026-11-21T05:00:00Z plus `ms` milliseconds: the time of a line.
    fn at(ms: i64) -> Nanos {
        Nanos((1_795_237_200_000 + ms) * 1_000_000)
    }

    /// A state as the record of transitions shows it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Kind {
        Opening,
        Streaming,
        Waiting(Duration),
        Archive,
        Done,
    }

    fn kind(state: &State) -> Kind {
        match state {
            State::Opening => Kind::Opening,
            State::Streaming(_) => Kind::Streaming,
            State::Waiting { delay, .. } => Kind::Waiting(*delay),
            State::Archive => Kind::Archive,
            State::Done => Kind::Done,
        }
    }

    use Kind::{Archive, Done, Opening, Streaming, Waiting};

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// The fake pod, its archive, and a source reading them.
    struct Fixture {
        kubelet: FakeKubelet,
        archive: FakeArchive,
        plan: SourcePlan,
        readers: Readers,
    }

    impl Fixture {
        fn new(state: PodState, archived: bool) -> Fixture {
            let kubelet = FakeKubelet::new(state);
            let archive = FakeArchive::new();
            let source = LogSource { role: PodRole::Executor, pod: POD.into(), container: CONTAINER.into(), executor_id: Some("1".into()) };
            let plan = SourcePlan {
                info: SourceInfo::new(NS, source, 1),
                namespace: NS.into(),
                pod: POD.into(),
                container: CONTAINER.into(),
                app_id: None,
                presence: Presence::Present { restarted: false, running: true },
                lifetime: Some((at(0).timestamp(), at(600_000).timestamp())),
                mentions: None,
            };
            let readers = Readers {
                archive: archived.then(|| archive.logs.clone()),
                live: Some(Arc::new(kubelet.clone())),
                probe: Arc::new(kubelet.clone()),
            };
            Fixture { kubelet, archive, plan, readers }
        }

        /// The container writes `(ms, text)` lines.
        fn write(&self, lines: &[(i64, &str)]) {
            for &(t, text) in lines {
                self.kubelet.write(at(t), text);
            }
        }

        fn follow(&self, previous: bool, follow: bool) -> Follow<'_> {
            Follow::new(&self.plan, &self.readers, &self.kubelet, previous, follow)
        }

        /// The `since` of every open so far.
        fn sinces(&self) -> Vec<Option<Nanos>> {
            self.kubelet.opens().iter().map(|p| p.since).collect()
        }
    }

    /// What the merge receives, stamped with when (paused time from the start of the test): a
    /// line's text, a marker as `! text`, `~` for "caught up".
    struct Merge {
        start: Instant,
        received: tokio::task::JoinHandle<Vec<(Duration, String)>>,
    }

    fn merge(span: Span, plan: &SourcePlan) -> (Reading, Merge) {
        let (tx, mut rx) = mpsc::channel(1024);
        let start = Instant::now();
        let received = tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(feed) = rx.recv().await {
                let now = start.elapsed();
                match feed {
                    Feed::Tailing => got.push((now, "~".to_string())),
                    Feed::Events(events) => got.extend(events.into_iter().map(|e| (now, said(&e)))),
                }
            }
            got
        });
        (Reading::new(plan, span, tx), Merge { start, received })
    }

    fn said(event: &crate::logs::event::Event) -> String {
        if event.level == LogLevel::Marker { format!("! {}", event.text) } else { event.text.clone() }
    }

    impl Merge {
        /// Everything received once the read ends, as `read` ends it (the last fold goes out).
        async fn all(self, mut reading: Reading) -> Vec<(Duration, String)> {
            reading.folder.flush(&mut reading.batch);
            let last = std::mem::take(&mut reading.batch);
            let end = self.start.elapsed();
            drop(reading);
            let mut got = self.received.await.unwrap_or_default();
            got.extend(last.iter().map(|e| (end, said(e))));
            got
        }

        async fn texts(self, reading: Reading) -> Vec<String> {
            self.all(reading).await.into_iter().map(|(_, text)| text).collect()
        }
    }

    /// Steps from `state` until `until` (after at least one step) or `Done`; gives the state
    /// reached and every state taken, a run of `Streaming` as one.
    async fn drive_until(follow: &mut Follow<'_>, reading: &mut Reading, mut state: State, until: Kind) -> (State, Vec<Kind>) {
        let mut kinds = vec![kind(&state)];
        loop {
            state = follow.step(state, reading).await.unwrap_or_else(|Closed| panic!("the merge went away"));
            let now = kind(&state);
            if !(now == Streaming && kinds.last() == Some(&Streaming)) {
                kinds.push(now);
            }
            if now == until || now == Done {
                return (state, kinds);
            }
        }
    }

    async fn drive(follow: &mut Follow<'_>, reading: &mut Reading) -> Vec<Kind> {
        drive_until(follow, reading, State::Opening, Done).await.1
    }

    fn later(f: impl FnOnce() + Send + 'static, after: Duration) {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            f();
        });
    }

    /// Opening → Streaming → Done: a read without follow takes what the log holds and ends.
    #[tokio::test(start_paused = true)]
    async fn a_read_without_follow_takes_the_log_once() {
        let fx = Fixture::new(PodState::Running, false);
        fx.write(&[(0, "l0"), (1, "l1"), (1500, "l2")]);
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        let kinds = drive(&mut fx.follow(false, false), &mut reading).await;
        assert_eq!(kinds, [Opening, Streaming, Done]);
        fx.write(&[(1600, "written after the read")]);
        assert_eq!(merge.texts(reading).await, ["l0", "l1", "l2"]);
        assert_eq!(fx.sinces(), [None]);
    }

    /// Streaming → Opening: a follow cut mid-line while the container runs reopens at the second
    /// of the last line; the replay skips what was delivered (two lines share that nanosecond)
    /// and the cut line comes again whole, once.
    #[tokio::test(start_paused = true)]
    async fn a_follow_cut_mid_line_reopens_from_the_last_lines_second() {
        let fx = Fixture::new(PodState::Running, false);
        fx.write(&[(0, "l0"), (400, "l1"), (400, "l2"), (1200, "l3 cut in the middle"), (1300, "l4")]);
        fx.kubelet.fault(Fault::Cut { after: 3 });
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.set(PodState::Stopped), ms(1000));
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        let kinds = drive(&mut fx.follow(false, true), &mut reading).await;
        assert_eq!(kinds, [Opening, Streaming, Opening, Streaming, Done]);
        let got = merge.all(reading).await;
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["l0", "l1", "l2", "l3 cut in the middle", "l4", "~"]);
        assert_eq!(got[0].0, QUIET, "caught up after the reopening");
        // The fake, like the kubelet, reads from the start of that second.
        assert_eq!(fx.sinces(), [None, Some(at(400))]);
    }

    /// Streaming → Opening on a broken connection that delivered: reopened at once, the half
    /// line dropped and read again whole.
    #[tokio::test(start_paused = true)]
    async fn a_broken_connection_reopens_at_once_and_the_cut_line_comes_whole() {
        let fx = Fixture::new(PodState::Stopped, false);
        fx.write(&[(0, "l0"), (10, "l1"), (20, "l2 cut by the connection")]);
        fx.kubelet.fault(Fault::Break { after: 2 });
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        let kinds = drive(&mut fx.follow(false, true), &mut reading).await;
        assert_eq!(kinds, [Opening, Streaming, Opening, Streaming, Done]);
        assert_eq!(merge.texts(reading).await, ["l0", "l1", "l2 cut by the connection"]);
        assert_eq!(fx.sinces(), [None, Some(at(10))]);
    }

    /// Streaming → Waiting → Opening, and at last Streaming → Done: a stream that breaks before
    /// a whole line comes waits longer each time (200 ms doubling up to 5 s), then gives up
    /// with a marker.
    #[tokio::test(start_paused = true)]
    async fn a_stream_that_keeps_breaking_backs_off_then_gives_up_with_a_marker() {
        let fx = Fixture::new(PodState::Running, false);
        fx.write(&[(0, "l0 never whole")]);
        for _ in 0..MAX_FAILURES {
            fx.kubelet.fault(Fault::Break { after: 0 });
        }
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        let kinds = drive(&mut fx.follow(false, true), &mut reading).await;
        let waits = [200, 400, 800, 1600, 3200, 5000, 5000];
        let mut expected = vec![Opening, Streaming];
        for wait in waits {
            expected.extend([Waiting(ms(wait)), Opening, Streaming]);
        }
        expected.push(Done);
        assert_eq!(kinds, expected);
        let got = merge.all(reading).await;
        assert_eq!(
            got,
            [(ms(waits.iter().sum()), "! exec-1: the live log stream of orders-exec-1 kept breaking; gave up after 8 tries".to_string())]
        );
    }

    /// Opening → Waiting (backoff) → Opening: refused opens back off, and a stream that delivers
    /// starts the count and the backoff afresh.
    #[tokio::test(start_paused = true)]
    async fn refused_opens_back_off_and_a_stream_that_delivers_resets_the_backoff() {
        let fx = Fixture::new(PodState::Running, false);
        fx.write(&[(0, "l0"), (1000, "l1")]);
        for fault in [Fault::Refuse("503".into()), Fault::Refuse("503".into()), Fault::Cut { after: 1 }, Fault::Refuse("503".into())] {
            fx.kubelet.fault(fault);
        }
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.set(PodState::Stopped), ms(5000));
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        let kinds = drive(&mut fx.follow(false, true), &mut reading).await;
        assert_eq!(
            kinds,
            [Opening, Waiting(ms(200)), Opening, Waiting(ms(400)), Opening, Streaming, Opening, Waiting(ms(200)), Opening, Streaming, Done]
        );
        let got = merge.all(reading).await;
        assert_eq!(got, [(ms(1000), "l0".into()), (ms(1000), "l1".into()), (ms(1000), "~".into())]);
    }

    /// Opening → Done with a marker: a refused read that does not follow is not retried.
    #[tokio::test(start_paused = true)]
    async fn a_refused_read_without_follow_says_why() {
        let fx = Fixture::new(PodState::Stopped, false);
        fx.kubelet.fault(Fault::Refuse("the server is currently unable to handle the request".into()));
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        assert_eq!(drive(&mut fx.follow(false, false), &mut reading).await, [Opening, Done]);
        assert_eq!(
            merge.texts(reading).await,
            ["! exec-1: the live log could not be read: the server is currently unable to handle the request"]
        );
    }

    /// Streaming → Streaming on silence: a quiet pod is told to the merge once per silence
    /// (after [`QUIET`]), with the fold held so far; Streaming → Done when the container stops.
    #[tokio::test(start_paused = true)]
    async fn a_quiet_pod_is_told_to_the_merge_once_per_silence() {
        let fx = Fixture::new(PodState::Running, false);
        fx.write(&[(0, "l0")]);
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.write(at(1000), "l1"), ms(1000));
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.write(at(1050), "l2"), ms(1050));
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.set(PodState::Stopped), ms(3000));
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        assert_eq!(drive(&mut fx.follow(false, true), &mut reading).await, [Opening, Streaming, Done]);
        let got = merge.all(reading).await;
        let expected = [(200, "l0"), (200, "~"), (1250, "l1"), (1250, "l2"), (1250, "~")];
        assert_eq!(got, expected.map(|(t, s)| (ms(t), s.to_string())));
    }

    /// Opening → Waiting (1 s) → Opening: a container waiting to start is asked again every
    /// second, the merge told each time that nothing is coming yet.
    #[tokio::test(start_paused = true)]
    async fn a_container_waiting_to_start_is_asked_again_every_second() {
        let fx = Fixture::new(PodState::Waiting, false);
        let kubelet = fx.kubelet.clone();
        later(
            move || {
                kubelet.set(PodState::Running);
                kubelet.write(at(2500), "l0");
            },
            ms(2500),
        );
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.set(PodState::Stopped), ms(4000));
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        let kinds = drive(&mut fx.follow(false, true), &mut reading).await;
        let second = Waiting(ms(1000));
        assert_eq!(kinds, [Opening, second, Opening, second, Opening, second, Opening, Streaming, Done]);
        let got = merge.all(reading).await;
        let expected = [(0, "~"), (1000, "~"), (2000, "~"), (3200, "l0"), (3200, "~")];
        assert_eq!(got, expected.map(|(t, s)| (ms(t), s.to_string())));
    }

    /// Waiting → Done: a pod deleted before its container started has no log to hand over.
    #[tokio::test(start_paused = true)]
    async fn a_pod_deleted_before_its_container_started_ends_the_read() {
        let fx = Fixture::new(PodState::Waiting, true);
        fx.archive.upload(&[(at(0), "another run's line")]);
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.set(PodState::Deleted), ms(500));
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        assert_eq!(drive(&mut fx.follow(false, true), &mut reading).await, [Opening, Waiting(ms(1000)), Done]);
        assert_eq!(merge.all(reading).await, [(ms(0), "~".to_string())]);
    }

    /// Opening → Done, and Opening → Streaming → Done: no previous instance (or a container
    /// that never started, not following) is nothing to read; a previous one is read whole.
    #[tokio::test(start_paused = true)]
    async fn a_missing_previous_instance_is_nothing_to_read() {
        let fx = Fixture::new(PodState::Waiting, false);
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        assert_eq!(drive(&mut fx.follow(true, false), &mut reading).await, [Opening, Done]);
        assert_eq!(drive(&mut fx.follow(false, false), &mut reading).await, [Opening, Done]);
        fx.kubelet.set_previous(&[(at(0), "p0"), (at(5), "p1")]);
        assert_eq!(drive(&mut fx.follow(true, false), &mut reading).await, [Opening, Streaming, Done]);
        assert_eq!(merge.texts(reading).await, ["p0", "p1"]);
    }

    /// Streaming → Opening, then Streaming → Waiting → Opening: a follow ended by the kubelet
    /// while the container runs is reopened at once when it brought lines, and after a wait
    /// when it brought nothing new (no spinning on an API that keeps ending follows).
    #[tokio::test(start_paused = true)]
    async fn a_follow_ended_with_nothing_new_waits_before_reopening() {
        let fx = Fixture::new(PodState::Running, false);
        fx.write(&[(0, "l0")]);
        fx.kubelet.fault(Fault::End { after: 1 });
        fx.kubelet.fault(Fault::End { after: 1 });
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.write(at(1000), "l1"), ms(1000));
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.set(PodState::Stopped), ms(2000));
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        let kinds = drive(&mut fx.follow(false, true), &mut reading).await;
        assert_eq!(kinds, [Opening, Streaming, Opening, Streaming, Waiting(ms(200)), Opening, Streaming, Done]);
        assert_eq!(merge.texts(reading).await, ["l0", "~", "l1", "~"]);
        assert_eq!(fx.sinces(), [None, Some(at(0)), Some(at(0))]);
    }

    /// Streaming → Done: lines past the span's end end the read, though the pod runs on.
    #[tokio::test(start_paused = true)]
    async fn lines_past_until_end_the_read() {
        let fx = Fixture::new(PodState::Running, false);
        fx.write(&[(0, "l0"), (999, "l1"), (1001, "l2"), (2000, "l3")]);
        let span = Span { since: Some(at(1)), until: Some(at(1000)), follow: true };
        let (mut reading, merge) = merge(span, &fx.plan);
        assert_eq!(drive(&mut fx.follow(false, true), &mut reading).await, [Opening, Streaming, Done]);
        assert_eq!(merge.texts(reading).await, ["l1"]);
        assert_eq!(fx.sinces(), [Some(at(1))]);
    }

    /// Opening → Archive → Done: a 404 on reopening (the pod was deleted after a cut) hands over
    /// to the archive, which gives what the live log did not, and nothing twice.
    #[tokio::test(start_paused = true)]
    async fn a_404_on_reopening_reads_the_rest_from_the_archive() {
        let fx = Fixture::new(PodState::Running, true);
        fx.write(&[(0, "l0"), (500, "l1"), (500, "l2"), (1500, "l3")]);
        fx.kubelet.fault(Fault::Cut { after: 3 });
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        let mut follow = fx.follow(false, true);
        let (state, first) = drive_until(&mut follow, &mut reading, State::Opening, Opening).await;
        assert_eq!(first, [Opening, Streaming, Opening]);
        fx.kubelet.write(at(1600), "l4");
        fx.kubelet.set(PodState::Deleted);
        fx.archive.upload(&[(at(0), "l0"), (at(500), "l1"), (at(500), "l2")]);
        fx.archive.upload(&[(at(1500), "l3"), (at(1600), "l4")]);
        let (_, then) = drive_until(&mut follow, &mut reading, state, Done).await;
        assert_eq!(then, [Opening, Archive, Done]);
        assert_eq!(merge.texts(reading).await, ["l0", "l1", "l2", "l3", "l4"]);
    }

    /// Opening → Archive → Done without an archive: a marker says the rest is gone.
    #[tokio::test(start_paused = true)]
    async fn a_404_without_an_archive_says_the_rest_is_gone() {
        let fx = Fixture::new(PodState::Deleted, false);
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        assert_eq!(drive(&mut fx.follow(false, true), &mut reading).await, [Opening, Archive, Done]);
        assert_eq!(
            merge.texts(reading).await,
            ["! exec-1: pod orders-exec-1 was deleted while its log was read; the rest of its log is not archived"]
        );
    }

    /// Streaming → Archive → Done: a follow that ends because the pod was deleted hands over to
    /// the archive, which repeats none of what the live log gave.
    #[tokio::test(start_paused = true)]
    async fn a_pod_deleted_while_followed_hands_over_to_the_archive() {
        let fx = Fixture::new(PodState::Running, true);
        fx.write(&[(0, "l0"), (500, "l1"), (500, "l2")]);
        let kubelet = fx.kubelet.clone();
        later(move || kubelet.set(PodState::Deleted), ms(1000));
        fx.archive.upload(&[(at(0), "l0"), (at(500), "l1"), (at(500), "l2")]);
        let (mut reading, merge) = merge(Span::default(), &fx.plan);
        assert_eq!(drive(&mut fx.follow(false, true), &mut reading).await, [Opening, Streaming, Archive, Done]);
        assert_eq!(merge.texts(reading).await, ["l0", "l1", "l2", "~"]);
    }

    /// The whole source: the archive hands over to the live log (at a second shared by both,
    /// two lines at one nanosecond), the follow goes on, and after the pod is deleted the
    /// archive takes over again; every line comes once, in order.
    #[tokio::test(start_paused = true)]
    async fn the_archive_hands_over_to_the_live_log_and_back_without_a_gap_or_a_duplicate() {
        let fx = Fixture::new(PodState::Running, true);
        let early = [(0, "l0"), (500, "l1"), (500, "l2")];
        fx.write(&early);
        fx.write(&[(500, "l3"), (900, "l4")]);
        fx.archive.upload(&early.map(|(t, s)| (at(t), s)));
        fx.kubelet.fault(Fault::Cut { after: 4 });
        let kubelet = fx.kubelet.clone();
        let archive = Arc::new(fx.archive);
        let uploads = archive.clone();
        later(
            move || {
                kubelet.write(at(2000), "l5");
                kubelet.set(PodState::Deleted);
                uploads.upload(&[(at(500), "l3"), (at(900), "l4"), (at(2000), "l5"), (at(2100), "l6")]);
            },
            ms(1000),
        );
        let span = Span { follow: true, ..Span::default() };
        let (mut reading, merge) = merge(span, &fx.plan);
        read(&fx.plan, &fx.readers, &mut reading).await.unwrap_or_else(|Closed| panic!("the merge went away"));
        let got = merge.all(reading).await;
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["l0", "l1", "l2", "l3", "l4", "~", "l5", "l6"]);
        assert_eq!(fx.kubelet.opens().iter().map(|p| p.since).collect::<Vec<_>>(), [Some(at(500)), Some(at(500))]);
    }
}
