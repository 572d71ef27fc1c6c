//! The k-way merge of every source's events into one time-ordered log.
//!
//! Order is `(time, source rank, sequence)`. A source whose clock goes backwards (a shipper's
//! out-of-order object, a node with a skewed clock) is ordered by the latest time it has shown,
//! so the merge's output stays sorted and each source keeps its own order; the event still
//! carries its true time.
//!
//! Holding back: an event goes out only when every open source has shown what comes next, so a
//! slow S3 read never lets later lines overtake. A live source that is tailing (caught up and
//! waiting for new lines) is waited for at most [`TAIL_DELAY`]: live lines come out in order
//! unless a pod stays silent longer than that, and even then at most that late.
//!
//! Memory: each source's channel holds a few batches and the merge holds one batch per source,
//! whatever the size of the log.

use super::event::{Event, SourceInfo};
use super::record::Nanos;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long an event waits for a silent tailing source.
pub const TAIL_DELAY: Duration = Duration::from_millis(500);
/// Events per output batch.
const OUT_BATCH: usize = 1024;

/// What a source sends.
#[derive(Debug)]
pub enum Feed {
    Events(Vec<Event>),
    /// Caught up with a live log: what comes next is new.
    Tailing,
}

/// A source's end of the pipe: its events, in its own order. Dropping the sender ends it.
pub struct SourceFeed {
    pub info: Arc<SourceInfo>,
    pub rx: mpsc::Receiver<Feed>,
}

/// Channel capacity per source, in batches.
pub const FEED_DEPTH: usize = 4;

pub fn feed(info: Arc<SourceInfo>) -> (mpsc::Sender<Feed>, SourceFeed) {
    let (tx, rx) = mpsc::channel(FEED_DEPTH);
    (tx, SourceFeed { info, rx })
}

struct Lane {
    info: Arc<SourceInfo>,
    buffer: VecDeque<Event>,
    /// The receiver, when no receive is in flight.
    rx: Option<mpsc::Receiver<Feed>>,
    ended: bool,
    tailing: bool,
    /// The latest time this source has shown: its events are ordered by at least this.
    clock: Nanos,
    /// Events taken from this source so far: the last tie-breaker.
    seq: u64,
    /// Whether the head of `buffer` is in the heap.
    queued: bool,
}

type Received = (usize, mpsc::Receiver<Feed>, Option<Feed>);

/// The merge. `next_batch` gives the next events in order, `None` at the end.
pub struct Merge {
    lanes: Vec<Lane>,
    heap: BinaryHeap<Reverse<(Nanos, u32, u64, usize)>>,
    receiving: FuturesUnordered<futures::future::BoxFuture<'static, Received>>,
    /// New sources (pods that start while following); closed when no more can come.
    added: Option<mpsc::Receiver<SourceFeed>>,
    /// When the event at the top of the heap started waiting for tailing sources.
    held_since: Option<Instant>,
}

impl Merge {
    pub fn new(sources: Vec<SourceFeed>, added: Option<mpsc::Receiver<SourceFeed>>) -> Merge {
        let mut merge = Merge { lanes: Vec::new(), heap: BinaryHeap::new(), receiving: FuturesUnordered::new(), added, held_since: None };
        for source in sources {
            merge.add(source);
        }
        merge
    }

    fn add(&mut self, source: SourceFeed) {
        let index = self.lanes.len();
        self.lanes.push(Lane {
            info: source.info,
            buffer: VecDeque::new(),
            rx: None,
            ended: false,
            tailing: false,
            clock: Nanos(i64::MIN),
            seq: 0,
            queued: false,
        });
        self.receive(index, source.rx);
    }

    fn receive(&mut self, index: usize, mut rx: mpsc::Receiver<Feed>) {
        self.receiving.push(Box::pin(async move {
            let feed = rx.recv().await;
            (index, rx, feed)
        }));
    }

    fn take(&mut self, (index, rx, feed): Received) {
        let lane = &mut self.lanes[index];
        match feed {
            None => lane.ended = true,
            Some(Feed::Tailing) => {
                lane.tailing = true;
                lane.rx = Some(rx);
            }
            Some(Feed::Events(events)) => {
                lane.buffer.extend(events);
                lane.rx = Some(rx);
            }
        }
        self.queue_head(index);
    }

    /// Puts the lane's head into the heap, or asks for more when its buffer is empty.
    fn queue_head(&mut self, index: usize) {
        let lane = &mut self.lanes[index];
        if lane.queued {
            return;
        }
        if let Some(head) = lane.buffer.front() {
            lane.clock = lane.clock.max(head.time);
            lane.seq += 1;
            lane.queued = true;
            let key = (lane.clock, lane.info.rank, lane.seq, index);
            self.heap.push(Reverse(key));
        } else if !lane.ended
            && let Some(rx) = lane.rx.take()
        {
            self.receive(index, rx);
        }
    }

    /// Whether the heap's top may go now; if not, how long to wait at most (`None`: until a
    /// source sends).
    fn releasable(&self, top: Nanos, now: Instant) -> Result<(), Option<Duration>> {
        let mut wait_tail = false;
        for lane in &self.lanes {
            if lane.ended || lane.queued {
                continue;
            }
            // An empty lane that has not caught up: its next event may be earlier.
            if !lane.tailing {
                return Err(None);
            }
            if lane.clock < top {
                wait_tail = true;
            }
        }
        if !wait_tail {
            return Ok(());
        }
        let waited = self.held_since.map_or(Duration::ZERO, |since| now.duration_since(since));
        if waited >= TAIL_DELAY { Ok(()) } else { Err(Some(TAIL_DELAY - waited)) }
    }

    /// The next events in order; `None` when every source has ended and none can be added.
    pub async fn next_batch(&mut self) -> Option<Vec<Event>> {
        let mut out = Vec::new();
        loop {
            // Take whatever has already arrived without waiting.
            while let Some(Some(received)) = self.receiving.next().now_or_never() {
                self.take(received);
            }
            let mut wait = None;
            while let Some(&Reverse((clock, _, _, index))) = self.heap.peek() {
                match self.releasable(clock, Instant::now()) {
                    Ok(()) => {
                        self.heap.pop();
                        self.held_since = None;
                        let lane = &mut self.lanes[index];
                        lane.queued = false;
                        if let Some(event) = lane.buffer.pop_front() {
                            out.push(event);
                        }
                        self.queue_head(index);
                        if out.len() >= OUT_BATCH {
                            return Some(out);
                        }
                    }
                    Err(delay) => {
                        self.held_since.get_or_insert_with(Instant::now);
                        wait = delay;
                        break;
                    }
                }
            }
            if !out.is_empty() {
                return Some(out);
            }
            if self.heap.is_empty() && self.receiving.is_empty() && self.added.is_none() {
                return None;
            }
            let timer = async {
                match wait {
                    Some(delay) => tokio::time::sleep(delay).await,
                    None => std::future::pending().await,
                }
            };
            enum Woke {
                Received(Received),
                Added(Option<SourceFeed>),
                Timer,
            }
            let (receiving, added) = (&mut self.receiving, &mut self.added);
            let woke = tokio::select! {
                Some(received) = receiving.next(), if !receiving.is_empty() => Woke::Received(received),
                source = async { added.as_mut()?.recv().await }, if added.is_some() => Woke::Added(source),
                () = timer => Woke::Timer,
            };
            match woke {
                Woke::Received(received) => self.take(received),
                Woke::Added(Some(source)) => self.add(source),
                Woke::Added(None) => self.added = None,
                Woke::Timer => {}
            }
        }
    }
}

use futures::FutureExt;

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::{LogLevel, LogSource, PodRole};

    fn info(rank: u32) -> Arc<SourceInfo> {
        let source =
            LogSource { role: PodRole::Executor, pod: format!("p{rank}"), container: "c".into(), executor_id: Some(rank.to_string()) };
        SourceInfo::new("ns", source, rank)
    }

    fn event(source: &Arc<SourceInfo>, t: i64) -> Event {
        Event { time: Nanos(t), source: source.clone(), level: LogLevel::Info, text: format!("{}@{t}", source.rank), stream: None, dup: 0 }
    }

    async fn drain(merge: &mut Merge) -> Vec<String> {
        let mut all = Vec::new();
        while let Some(batch) = merge.next_batch().await {
            all.extend(batch.into_iter().map(|e| e.text));
        }
        all
    }

    #[tokio::test]
    async fn interleaves_by_time_then_rank_and_waits_for_slow_sources() {
        let (a, b) = (info(1), info(2));
        let (tx_a, feed_a) = feed(a.clone());
        let (tx_b, feed_b) = feed(b.clone());
        let mut merge = Merge::new(vec![feed_a, feed_b], None);
        let events_a = vec![event(&a, 1), event(&a, 5), event(&a, 9)];
        let (ta, tb) = (a.clone(), b.clone());
        tokio::spawn(async move {
            tx_a.send(Feed::Events(events_a)).await.unwrap();
            tx_a.send(Feed::Events(vec![event(&ta, 12)])).await.unwrap();
        });
        tokio::spawn(async move {
            // Slow: the merge must not let a's later lines overtake.
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx_b.send(Feed::Events(vec![event(&tb, 1), event(&tb, 6)])).await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx_b.send(Feed::Events(vec![event(&tb, 10)])).await.unwrap();
        });
        assert_eq!(drain(&mut merge).await, ["1@1", "2@1", "1@5", "2@6", "1@9", "2@10", "1@12"]);
    }

    #[tokio::test]
    async fn a_source_going_back_in_time_keeps_its_order_and_the_output_stays_sorted() {
        let (a, b) = (info(1), info(2));
        let (tx_a, feed_a) = feed(a.clone());
        let (tx_b, feed_b) = feed(b.clone());
        tx_a.send(Feed::Events(vec![event(&a, 10), event(&a, 3), event(&a, 11)])).await.unwrap();
        tx_b.send(Feed::Events(vec![event(&b, 4), event(&b, 10)])).await.unwrap();
        drop((tx_a, tx_b));
        let mut merge = Merge::new(vec![feed_a, feed_b], None);
        assert_eq!(drain(&mut merge).await, ["2@4", "1@10", "1@3", "2@10", "1@11"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_tailing_source_holds_events_back_only_briefly() {
        let (a, b) = (info(1), info(2));
        let (tx_a, feed_a) = feed(a.clone());
        let (tx_b, feed_b) = feed(b.clone());
        let (add_tx, add_rx) = mpsc::channel(1);
        let mut merge = Merge::new(vec![feed_a, feed_b], Some(add_rx));
        tx_b.send(Feed::Tailing).await.unwrap();
        tx_a.send(Feed::Events(vec![event(&a, 5)])).await.unwrap();
        tx_a.send(Feed::Tailing).await.unwrap();
        let start = Instant::now();
        let first = merge.next_batch().await.unwrap();
        assert_eq!(first[0].text, "1@5");
        assert!(start.elapsed() >= TAIL_DELAY, "held for the tailing source");
        // A source added while following joins the merge.
        let c = info(3);
        let (tx_c, feed_c) = feed(c.clone());
        add_tx.send(feed_c).await.unwrap();
        tx_c.send(Feed::Events(vec![event(&c, 7)])).await.unwrap();
        tx_b.send(Feed::Events(vec![event(&b, 6)])).await.unwrap();
        drop((tx_a, tx_b, tx_c, add_tx));
        assert_eq!(drain(&mut merge).await, ["2@6", "3@7"]);
    }
}
