//! The simulated cluster's log shipper: what Fluent Bit or Vector does on a real node, writing
//! every container's log to an object store in that shipper's format and key layout, in
//! batches (`upload_timeout`), gzip-compressed, including the last lines of pods that were
//! deleted (Vector's `delay_deletion_ms`).
//!
//! It is part of the stand-in cluster, not of the dashboard: neither shipper can run here, and
//! the dashboard must be shown to read what they write. The formats follow
//! `research/logs-metrics.md` §3 field for field.

use super::logs::{ContainerLog, Line, LogStore};
use crate::archive::store::ObjectStore;
use crate::logs::key_template::{KeyTemplate, KeyVars};
use crate::logs::record::RecordFormat;
use crate::sim::pod_log::rfc3339_nano_fixed;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// containerd splits lines longer than this into partial (`P`) records.
const CRI_MAX_LINE: usize = 16 * 1024;
/// Lines per object at most (Fluent Bit cuts at `total_file_size`).
const LINES_PER_OBJECT: usize = 50_000;

/// Where and how the shipper writes.
#[derive(Clone)]
pub struct ShipOptions {
    pub store: Arc<dyn ObjectStore>,
    pub format: RecordFormat,
    pub template: KeyTemplate,
    /// How often buffered lines are uploaded.
    pub every: Duration,
}

impl std::fmt::Debug for ShipOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShipOptions")
            .field("store", &self.store.describe())
            .field("format", &self.format)
            .field("template", &self.template.as_str())
            .field("every", &self.every)
            .finish()
    }
}

pub struct Shipping {
    log: ContainerLog,
    next_seq: u64,
    container_id: String,
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
            Shipping { log, next_seq: 0, container_id }
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
            let key = key(options, entry, &lines, *objects);
            let body = encode(options.format, entry, &lines);
            // A failed upload is retried next round, as a shipper's buffer would.
            if options.store.put(&key, body).await.is_err() {
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

fn key(options: &ShipOptions, entry: &Shipping, lines: &[Line], n: u64) -> String {
    let log = &entry.log;
    let vars = KeyVars { namespace: &log.namespace, pod: &log.pod, container: &log.container, app_id: None };
    let token = format!("{:08x}", n.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32);
    let mut any = |i: usize| if i == 0 && options.template.names_pod() { entry.container_id[..12].to_string() } else { token.clone() };
    let mut key = options.template.render(&vars, lines[0].time, &mut any);
    if !key.ends_with(".gz") && options.template.as_str().ends_with('}') {
        key.push_str(".gz");
    }
    key
}

fn encode(format: RecordFormat, entry: &Shipping, lines: &[Line]) -> Bytes {
    let log = &entry.log;
    let mut out = Vec::with_capacity(lines.len() * 160);
    for line in lines {
        let time = rfc3339_nano_fixed(line.time);
        match format {
            RecordFormat::Cri | RecordFormat::KubeApi => {
                // containerd's file: long lines become partial records.
                let text = line.text.as_bytes();
                let mut parts = text.chunks(CRI_MAX_LINE).peekable();
                if parts.peek().is_none() {
                    let _ = writeln!(out, "{time} stderr F ");
                }
                while let Some(part) = parts.next() {
                    let tag = if parts.peek().is_some() { "P" } else { "F" };
                    let _ = write!(out, "{time} stderr {tag} ");
                    out.extend_from_slice(part);
                    out.push(b'\n');
                }
            }
            RecordFormat::FluentBit => {
                let seconds = line.time.as_nanosecond() as f64 / 1e9;
                let record = json!({
                    "date": seconds, "time": time, "stream": "stderr", "_p": "F", "log": &*line.text,
                    "kubernetes": {"pod_name": log.pod, "namespace_name": log.namespace, "container_name": log.container,
                                   "docker_id": entry.container_id, "host": "sim-node"}
                });
                let _ = serde_json::to_writer(&mut out, &record);
                out.push(b'\n');
            }
            RecordFormat::Vector => {
                let record = json!({
                    "file": format!("/var/log/pods/{}_{}_{}/{}/0.log", log.namespace, log.pod, &entry.container_id[..8], log.container),
                    "kubernetes": {"container_name": log.container, "pod_name": log.pod, "pod_namespace": log.namespace,
                                   "container_id": format!("containerd://{}", entry.container_id)},
                    "message": &*line.text, "source_type": "kubernetes_logs", "stream": "stderr", "timestamp": time
                });
                let _ = serde_json::to_writer(&mut out, &record);
                out.push(b'\n');
            }
        }
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(out.len() / 4), Compression::fast());
    let _ = encoder.write_all(&out);
    Bytes::from(encoder.finish().unwrap_or_default())
}
