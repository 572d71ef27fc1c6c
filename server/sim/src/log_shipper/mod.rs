//! The simulated cluster's log shipper: what Fluent Bit or Vector does on a real node, writing
//! every container's log to an object store in that shipper's format and key layout, in
//! batches (`upload_timeout`), gzip-compressed, including the last lines of pods that were
//! deleted (Vector's `delay_deletion_ms`).
//!
//! It is part of the stand-in cluster, not of the dashboard: neither shipper can run here, and
//! the dashboard must be shown to read what they write. So it writes from the shippers' own
//! formats ([`record`]) and key layouts ([`layout`]) through its own [`writer`], and shares no
//! code with the dashboard's reader: a mistake on either side shows as a test that fails.

pub mod layout;
pub mod record;
pub mod writer;

use super::logs::{ContainerLog, Line, LogStore};
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use layout::ObjectName;
pub use layout::{KeyLayout, LayoutError};
pub use record::ShipFormat;
use record::Source;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
pub use writer::{LocalDir, ObjectWriter, S3Target, S3Writer, WriteError};

/// Lines per object at most (Fluent Bit cuts at `total_file_size`).
const LINES_PER_OBJECT: usize = 50_000;

/// Where and how the shipper writes.
#[derive(Clone)]
pub struct ShipOptions {
    pub writer: Arc<dyn ObjectWriter>,
    pub format: ShipFormat,
    pub layout: KeyLayout,
    /// How often buffered lines are uploaded.
    pub every: Duration,
}

impl std::fmt::Debug for ShipOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShipOptions")
            .field("writer", &self.writer.describe())
            .field("format", &self.format)
            .field("layout", &self.layout)
            .field("every", &self.every)
            .finish()
    }
}

/// What the shipper remembers of one container's log: how far it has shipped, and the ids the
/// runtime gave the container and its pod.
pub struct Shipping {
    log: ContainerLog,
    next_seq: u64,
    container_id: String,
    pod_uid: String,
}

impl Shipping {
    fn source(&self) -> Source<'_> {
        Source {
            namespace: &self.log.namespace,
            pod: &self.log.pod,
            container: &self.log.container,
            container_id: &self.container_id,
            pod_uid: &self.pod_uid,
        }
    }
}

/// Ships until the task is dropped.
pub async fn run(logs: Arc<LogStore>, options: ShipOptions) {
    logs.keep_retired();
    let mut shipping: HashMap<usize, Shipping> = HashMap::new();
    let mut objects = 0u64;
    loop {
        tokio::time::sleep(options.every).await;
        ship_once(&logs, &options, &mut shipping, &mut objects).await;
    }
}

/// One upload round: every container's new lines, one object each (or more when long).
pub async fn ship_once(logs: &LogStore, options: &ShipOptions, shipping: &mut HashMap<usize, Shipping>, objects: &mut u64) {
    let current = logs.all();
    let present: std::collections::HashSet<usize> = current.iter().map(|l| Arc::as_ptr(&l.buffer) as usize).collect();
    for log in current.into_iter().chain(logs.take_retired()) {
        let id = Arc::as_ptr(&log.buffer) as usize;
        shipping.entry(id).or_insert_with(|| {
            let mix = |salt: u128| (id as u128 ^ salt).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834);
            let container_id = format!("{:032x}{:032x}", mix(1), mix(2));
            let uid = mix(3);
            let pod_uid = format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                uid >> 96,
                (uid >> 80) & 0xffff,
                (uid >> 68) & 0xfff,
                (uid >> 56) & 0xfff,
                uid & 0xffff_ffff_ffff
            );
            Shipping { log, next_seq: 0, container_id, pod_uid }
        });
    }
    let mut done = Vec::new();
    for (id, entry) in shipping.iter_mut() {
        let finished = entry.log.buffer.is_finished();
        loop {
            let (lines, _) = entry.log.buffer.read_from(entry.next_seq, LINES_PER_OBJECT);
            let Some(last) = lines.last() else { break };
            let next = last.seq + 1;
            *objects += 1;
            // A token per object, spread out as the shippers' random ones are.
            let token = objects.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 16;
            let name = ObjectName { source: entry.source(), first: lines[0].time, first_line: lines[0].seq, token };
            let key = options.layout.key(&name);
            let body = encode(options.format, &entry.source(), &lines);
            // A failed upload is retried next round, as a shipper's buffer would.
            if let Err(e) = options.writer.put(&key, body).await {
                tracing::debug!("log shipper: {e}");
                break;
            }
            entry.next_seq = next;
            if lines.len() < LINES_PER_OBJECT {
                break;
            }
        }
        let shipped_all = entry.log.buffer.read_from(entry.next_seq, 1).0.is_empty();
        if finished && shipped_all && !present.contains(id) {
            done.push(*id);
        }
    }
    for id in done {
        shipping.remove(&id);
    }
}

/// One object's body: the lines' records, gzip'ed as both shippers are set to.
fn encode(format: ShipFormat, source: &Source<'_>, lines: &[Line]) -> Bytes {
    let mut out = Vec::with_capacity(lines.len() * 160);
    for line in lines {
        record::write(format, source, line, &mut out);
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(out.len() / 4), Compression::fast());
    let _ = encoder.write_all(&out);
    Bytes::from(encoder.finish().unwrap_or_default())
}
