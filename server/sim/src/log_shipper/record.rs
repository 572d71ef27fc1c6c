//! One log line as each shipper writes it, taken from the shippers' own formats rather than from
//! the dashboard's reader, so that the dashboard is tested against what they write:
//!
//! - **CRI**: containerd's file under `/var/log/pods`: `<time> <stream> <P|F> <text>`, the time
//!   in Go's `RFC3339Nano` (trailing zeros dropped), lines over 16 KiB split into partial (`P`)
//!   records ending with a full (`F`) one.
//! - **Fluent Bit**: its `s3` output's JSON lines for a `tail` input with the `cri` parser and
//!   the `kubernetes` filter: the output's `date` key first (`json_date_format` defaults to
//!   `iso8601` in `out_s3`: microseconds), then the record as parsed: `time` as it stood in the
//!   file, `stream`, `_p`, `log`, and the filter's `kubernetes` map.
//! - **Vector**: the `kubernetes_logs` source through the `aws_s3` sink's `json` codec: fields in
//!   the sorted order of Vector's event map, `timestamp` as chrono writes it (0, 3, 6 or 9
//!   fractional digits, as few as hold the value).

use super::super::logs::Line;
use jiff::Timestamp;
use serde::Serialize;
use std::io::Write;

/// containerd splits lines longer than this into partial (`P`) records.
pub const CRI_MAX_LINE: usize = 16 * 1024;
/// Every simulated container writes to stderr, as Spark's log4j console appender does.
const STREAM: &str = "stderr";
/// The node the simulated containers run on, as the kubernetes filter names it.
const HOST: &str = "sim-node";

/// Which shipper's records to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShipFormat {
    FluentBit,
    Vector,
    Cri,
}

/// The container a line came from, as the shippers name it.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    /// The runtime's 64-hex-digit container id.
    pub container_id: &'a str,
    /// The pod's UID (the middle of its `/var/log/pods` directory name).
    pub pod_uid: &'a str,
}

impl Source<'_> {
    /// The container's file on the node, as the kubelet lays it out (restart 0).
    pub fn pod_log_file(&self) -> String {
        format!("/var/log/pods/{}_{}_{}/{}/0.log", self.namespace, self.pod, self.pod_uid, self.container)
    }
}

/// Appends `line`'s record(s) in `format` to `out`, each ending in a newline.
pub fn write(format: ShipFormat, source: &Source<'_>, line: &Line, out: &mut Vec<u8>) {
    match format {
        ShipFormat::Cri => write_cri(line, out),
        ShipFormat::FluentBit => write_json(&fluent_bit(source, line), out),
        ShipFormat::Vector => write_json(&vector(source, line), out),
    }
}

fn write_cri(line: &Line, out: &mut Vec<u8>) {
    let time = go_rfc3339_nano(line.time);
    let text = line.text.as_bytes();
    if text.is_empty() {
        let _ = writeln!(out, "{time} {STREAM} F ");
        return;
    }
    let mut parts = text.chunks(CRI_MAX_LINE).peekable();
    while let Some(part) = parts.next() {
        let tag = if parts.peek().is_some() { "P" } else { "F" };
        let _ = write!(out, "{time} {STREAM} {tag} ");
        out.extend_from_slice(part);
        out.push(b'\n');
    }
}

fn write_json(record: &impl Serialize, out: &mut Vec<u8>) {
    // Serializing borrowed strings into a Vec cannot fail; a record is never half-written.
    if serde_json::to_writer(&mut *out, record).is_ok() {
        out.push(b'\n');
    }
}

/// Fluent Bit's record, keys in the order it writes them.
#[derive(Serialize)]
struct FluentBitRecord<'a> {
    date: String,
    time: String,
    stream: &'a str,
    #[serde(rename = "_p")]
    partial: &'a str,
    log: &'a str,
    kubernetes: FluentBitKubernetes<'a>,
}

#[derive(Serialize)]
struct FluentBitKubernetes<'a> {
    pod_name: &'a str,
    namespace_name: &'a str,
    host: &'a str,
    container_name: &'a str,
    docker_id: &'a str,
}

fn fluent_bit<'a>(source: &Source<'a>, line: &'a Line) -> FluentBitRecord<'a> {
    // The cri parser joins partial lines before the output sees them: every record is whole.
    FluentBitRecord {
        date: iso8601_micros(line.time),
        time: go_rfc3339_nano(line.time),
        stream: STREAM,
        partial: "F",
        log: &line.text,
        kubernetes: FluentBitKubernetes {
            pod_name: source.pod,
            namespace_name: source.namespace,
            host: HOST,
            container_name: source.container,
            docker_id: source.container_id,
        },
    }
}

/// Vector's event, keys sorted as its event map keeps them.
#[derive(Serialize)]
struct VectorRecord<'a> {
    file: String,
    kubernetes: VectorKubernetes<'a>,
    message: &'a str,
    source_type: &'a str,
    stream: &'a str,
    timestamp: String,
}

#[derive(Serialize)]
struct VectorKubernetes<'a> {
    container_id: String,
    container_name: &'a str,
    pod_name: &'a str,
    pod_namespace: &'a str,
    pod_node_name: &'a str,
    pod_uid: &'a str,
}

fn vector<'a>(source: &Source<'a>, line: &'a Line) -> VectorRecord<'a> {
    VectorRecord {
        file: source.pod_log_file(),
        kubernetes: VectorKubernetes {
            container_id: format!("containerd://{}", source.container_id),
            container_name: source.container,
            pod_name: source.pod,
            pod_namespace: source.namespace,
            pod_node_name: HOST,
            pod_uid: source.pod_uid,
        },
        message: &line.text,
        source_type: "kubernetes_logs",
        stream: STREAM,
        timestamp: chrono_auto_si(line.time),
    }
}

fn seconds(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// Go's `time.RFC3339Nano` in UTC, which containerd writes: up to nine fractional digits,
/// trailing zeros dropped, no fraction at all on a whole second.
pub fn go_rfc3339_nano(t: Timestamp) -> String {
    let nanos = t.subsec_nanosecond();
    if nanos == 0 {
        return format!("{}Z", seconds(t));
    }
    let fraction = format!("{nanos:09}");
    format!("{}.{}Z", seconds(t), fraction.trim_end_matches('0'))
}

/// Fluent Bit's `iso8601` date: always six fractional digits.
fn iso8601_micros(t: Timestamp) -> String {
    format!("{}.{:06}Z", seconds(t), t.subsec_nanosecond() / 1000)
}

/// chrono's RFC 3339 with `SecondsFormat::AutoSi`, as serde writes a Vector timestamp: the
/// fewest of 0, 3, 6 or 9 fractional digits that hold the value.
fn chrono_auto_si(t: Timestamp) -> String {
    let nanos = t.subsec_nanosecond();
    match nanos {
        0 => format!("{}Z", seconds(t)),
        n if n % 1_000_000 == 0 => format!("{}.{:03}Z", seconds(t), n / 1_000_000),
        n if n % 1000 == 0 => format!("{}.{:06}Z", seconds(t), n / 1000),
        n => format!("{}.{n:09}Z", seconds(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const SOURCE: Source<'static> = Source {
        namespace: "etl",
        pod: "orders-exec-1",
        container: "spark-kubernetes-executor",
        container_id: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        pod_uid: "01234567-89ab-4def-8123-456789abcdef",
    };

    fn line(time: &str, text: &str) -> Line {
        Line { seq: 0, time: time.parse().unwrap(), text: Arc::from(text) }
    }

    fn written(format: ShipFormat, line: &Line) -> String {
        let mut out = Vec::new();
        write(format, &SOURCE, line, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_fluent_bit_record_is_the_s3_outputs_json_line() {
        let line = line("2026-11-21T05:10:03.1234567Z", "26/11/21 05:10:03 INFO Executor: \"done\"");
        assert_eq!(
            written(ShipFormat::FluentBit, &line),
            concat!(
                r#"{"date":"2026-11-21T05:10:03.123456Z","time":"2026-11-21T05:10:03.1234567Z","stream":"stderr","_p":"F","#,
                r#""log":"26/11/21 05:10:03 INFO Executor: \"done\"","#,
                r#""kubernetes":{"pod_name":"orders-exec-1","namespace_name":"etl","host":"sim-node","#,
                r#""container_name":"spark-kubernetes-executor","docker_id":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}"#,
                "\n"
            )
        );
    }

    #[test]
    fn a_vector_record_is_the_json_codecs_event() {
        let line = line("2026-11-21T05:10:03.120Z", "boom");
        assert_eq!(
            written(ShipFormat::Vector, &line),
            concat!(
                r#"{"file":"/var/log/pods/etl_orders-exec-1_01234567-89ab-4def-8123-456789abcdef/spark-kubernetes-executor/0.log","#,
                r#""kubernetes":{"container_id":"containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","#,
                r#""container_name":"spark-kubernetes-executor","pod_name":"orders-exec-1","pod_namespace":"etl","#,
                r#""pod_node_name":"sim-node","pod_uid":"01234567-89ab-4def-8123-456789abcdef"},"#,
                r#""message":"boom","source_type":"kubernetes_logs","stream":"stderr","timestamp":"2026-11-21T05:10:03.120Z"}"#,
                "\n"
            )
        );
        let whole = self::line("2026-11-21T05:10:03Z", "x");
        assert!(written(ShipFormat::Vector, &whole).contains(r#""timestamp":"2026-11-21T05:10:03Z""#));
        let micros = self::line("2026-11-21T05:10:03.000001Z", "x");
        assert!(written(ShipFormat::Vector, &micros).contains(r#""timestamp":"2026-11-21T05:10:03.000001Z""#));
        let nanos = self::line("2026-11-21T05:10:03.000000001Z", "x");
        assert!(written(ShipFormat::Vector, &nanos).contains(r#""timestamp":"2026-11-21T05:10:03.000000001Z""#));
    }

    #[test]
    fn a_cri_line_is_containerds_and_long_ones_are_split() {
        assert_eq!(written(ShipFormat::Cri, &line("2026-11-21T05:10:03.5Z", "hello")), "2026-11-21T05:10:03.5Z stderr F hello\n");
        assert_eq!(written(ShipFormat::Cri, &line("2026-11-21T05:10:03Z", "")), "2026-11-21T05:10:03Z stderr F \n");
        let long = "x".repeat(CRI_MAX_LINE * 2 + 3);
        let out = written(ShipFormat::Cri, &line("2026-11-21T05:10:03.000000042Z", &long));
        let records: Vec<&str> = out.lines().collect();
        assert_eq!(records.len(), 3);
        assert!(records[0].starts_with("2026-11-21T05:10:03.000000042Z stderr P xxx"));
        assert!(records[1].starts_with("2026-11-21T05:10:03.000000042Z stderr P xxx"));
        assert_eq!(records[2], "2026-11-21T05:10:03.000000042Z stderr F xxx");
        assert_eq!(records[0].len(), "2026-11-21T05:10:03.000000042Z stderr P ".len() + CRI_MAX_LINE);
    }
}
