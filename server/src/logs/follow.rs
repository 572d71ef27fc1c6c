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
                read_archive(self.plan, archive, (from, Timestamp::now()), reading).await?;
            }
            _ => reading.marker(format!("pod {} was deleted while its log was read; the rest of its log is not archived", self.plan.pod)),
        }
        Ok(State::Done)
    }
}
