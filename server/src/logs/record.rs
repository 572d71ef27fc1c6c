//! One line of a log source, read in the format that source writes:
//! - the pod log API with `timestamps=true`: `<RFC 3339, nine fractional digits> <text>`;
//! - raw CRI files: `<RFC 3339 nanos> <stdout|stderr> <F|P> <text>` (`P`: a part of a line over
//!   16 KiB, continued by the next record up to an `F`);
//! - Fluent Bit's `s3` output: JSON lines with `log`, `time` (else `date`), `stream` and
//!   `kubernetes` {`pod_name`, `namespace_name`, `container_name`, ...};
//! - Vector's `aws_s3` sink: JSON lines with `message`, `timestamp`, `stream` and `kubernetes`
//!   {`pod_name`, `pod_namespace`, `container_name`, ...}.
//!
//! Examples and the shippers' key layouts: `REFERENCE.md`, "Log archive layouts".
//!
//! Times are kept as nanoseconds since the epoch ([`Nanos`]): parsing them is the hot path of a
//! merge over gigabytes, and the kubelet's fixed nine-digit format parses in a few steps.

use super::lines::{Line, MAX_LINE};
use serde::Deserialize;
use std::borrow::Cow;

/// Nanoseconds since the Unix epoch (good until 2262).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nanos(pub i64);

impl Nanos {
    pub fn timestamp(self) -> jiff::Timestamp {
        jiff::Timestamp::from_nanosecond(i128::from(self.0)).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    pub fn of(t: jiff::Timestamp) -> Nanos {
        Nanos(i64::try_from(t.as_nanosecond()).unwrap_or(i64::MAX))
    }

    /// The whole second this time falls in: what `sinceTime` can express.
    pub fn floor_second(self) -> Nanos {
        Nanos(self.0.div_euclid(1_000_000_000) * 1_000_000_000)
    }
}

/// Which format a source's lines are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFormat {
    /// `GET .../pods/{p}/log?timestamps=true`: `<RFC3339Nano> <text>`.
    KubeApi,
    /// A container runtime's file: `<RFC3339Nano> <stdout|stderr> <P|F>[:tags] <text>`.
    Cri,
    /// Fluent Bit's JSON lines: `log`, `stream`, `time` (or `date`), `kubernetes.*`.
    FluentBit,
    /// Vector's JSON lines: `message`, `stream`, `timestamp`, `kubernetes.*`.
    Vector,
}

/// The pod a shipper's record names, when it names one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordOrigin {
    pub namespace: Option<String>,
    pub pod: Option<String>,
    pub container: Option<String>,
}

/// One parsed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub time: Nanos,
    pub stream: Option<&'static str>,
    /// At most [`MAX_LINE`] bytes of it: the reader says where a line was cut, once, after
    /// joining partial records.
    pub text: String,
    /// The text's whole length in bytes, before any cut.
    pub length: usize,
    /// A runtime's partial record (`P`): the line goes on in the next record.
    pub partial: bool,
    pub origin: RecordOrigin,
}

/// Why a line could not be read as a record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("no timestamp at the start of the line")]
    NoTimestamp,
    #[error("not a CRI log line (want `<time> <stdout|stderr> <P|F> <text>`)")]
    NotCri,
    #[error("not a JSON record: {0}")]
    Json(String),
    #[error("the record has no {0} field")]
    Missing(&'static str),
}

/// Reads one line of a source in `format`.
pub fn parse(format: RecordFormat, line: Line) -> Result<Record, RecordError> {
    match format {
        RecordFormat::KubeApi => {
            let (time, rest) = leading_time(&line.text).ok_or(RecordError::NoTimestamp)?;
            let length = cut_length(&line, rest);
            Ok(Record { time, stream: None, text: rest.to_string(), length, partial: false, origin: RecordOrigin::default() })
        }
        RecordFormat::Cri => {
            let (time, rest) = leading_time(&line.text).ok_or(RecordError::NoTimestamp)?;
            let (stream, rest) = rest.split_once(' ').ok_or(RecordError::NotCri)?;
            let stream = stream_name(stream).ok_or(RecordError::NotCri)?;
            let (tags, text) = rest.split_once(' ').unwrap_or((rest, ""));
            let partial = match tags.split(':').next() {
                Some("P") => true,
                Some("F") => false,
                _ => return Err(RecordError::NotCri),
            };
            let length = cut_length(&line, text);
            Ok(Record { time, stream: Some(stream), text: text.to_string(), length, partial, origin: RecordOrigin::default() })
        }
        RecordFormat::FluentBit | RecordFormat::Vector => shipper_record(format, &line),
    }
}

/// The whole length of `rest`, the end of `line`, when the splitter cut the line.
fn cut_length(line: &Line, rest: &str) -> usize {
    line.cut_from.map_or(rest.len(), |whole| whole - (line.text.len() - rest.len()))
}

fn stream_name(s: &str) -> Option<&'static str> {
    match s {
        "stdout" => Some("stdout"),
        "stderr" => Some("stderr"),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TimeField<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Seconds(f64),
}

#[derive(Deserialize, Default)]
struct KubernetesMeta<'a> {
    #[serde(borrow, default)]
    namespace_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pod_namespace: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pod_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    container_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ShipperLine<'a> {
    #[serde(borrow, default)]
    log: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    stream: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    time: Option<TimeField<'a>>,
    #[serde(borrow, default)]
    timestamp: Option<TimeField<'a>>,
    #[serde(borrow, default)]
    date: Option<TimeField<'a>>,
    #[serde(borrow, default, rename = "@timestamp")]
    at_timestamp: Option<TimeField<'a>>,
    #[serde(borrow, default)]
    kubernetes: Option<KubernetesMeta<'a>>,
    /// Fluent Bit's CRI parser keeps the partial flag as `_p`.
    #[serde(borrow, default, rename = "_p")]
    partial: Option<Cow<'a, str>>,
}

/// The longest shipper record read: its text is cut to [`MAX_LINE`] after parsing, but the JSON
/// around a long line must be read whole.
pub const MAX_RECORD: usize = 4 * 1024 * 1024;

fn shipper_record(format: RecordFormat, line: &Line) -> Result<Record, RecordError> {
    if let Some(length) = line.cut_from {
        return Err(RecordError::Json(format!("a record of {length} bytes is over the {MAX_RECORD}-byte limit")));
    }
    let record: ShipperLine<'_> = serde_json::from_str(&line.text).map_err(|e| RecordError::Json(e.to_string()))?;
    let (text, times) = match format {
        RecordFormat::Vector => (record.message.or(record.log), [record.timestamp, record.time, record.at_timestamp, record.date]),
        _ => (record.log.or(record.message), [record.time, record.date, record.timestamp, record.at_timestamp]),
    };
    let mut text = text.ok_or(RecordError::Missing(if format == RecordFormat::Vector { "message" } else { "log" }))?.into_owned();
    let time = times.into_iter().flatten().find_map(|t| match t {
        TimeField::Text(s) => leading_time(&s).map(|(t, _)| t).or_else(|| s.parse::<jiff::Timestamp>().ok().map(Nanos::of)),
        TimeField::Seconds(s) if s.is_finite() => Some(Nanos((s * 1e9) as i64)),
        TimeField::Seconds(_) => None,
    });
    let time = time.ok_or(RecordError::Missing("time"))?;
    // Docker's json-file keeps the newline; a record without one is a partial line.
    let docker_partial = text.ends_with('\n');
    if docker_partial {
        text.pop();
    }
    let length = text.len();
    text.truncate(text.floor_char_boundary(MAX_LINE));
    let kubernetes = record.kubernetes.unwrap_or_default();
    Ok(Record {
        length,
        time,
        stream: record.stream.as_deref().and_then(stream_name),
        text,
        partial: record.partial.as_deref() == Some("P"),
        origin: RecordOrigin {
            namespace: kubernetes.namespace_name.or(kubernetes.pod_namespace).map(Cow::into_owned),
            pod: kubernetes.pod_name.map(Cow::into_owned),
            container: kubernetes.container_name.map(Cow::into_owned),
        },
    })
}

/// The RFC 3339 time at the start of `s` and the rest after one space. The kubelet's fixed
/// form (`2026-11-21T05:00:00.123456789Z`) takes a fast path; other offsets and precisions go
/// through jiff.
pub fn leading_time(s: &str) -> Option<(Nanos, &str)> {
    let end = s.as_bytes().iter().take(40).position(|&b| b == b' ').unwrap_or(s.len().min(40));
    let (stamp, rest) = (&s[..end], s.get(end + 1..).unwrap_or(""));
    let time = fast_utc(stamp.as_bytes()).or_else(|| stamp.parse::<jiff::Timestamp>().ok().map(Nanos::of))?;
    Some((time, rest))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, checked byte by byte.
fn fast_utc(b: &[u8]) -> Option<Nanos> {
    if b.len() < 20 || b[b.len() - 1] != b'Z' || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range].iter().try_fold(0i64, |n, &c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let fraction = &b[19..b.len() - 1];
    let nanos = match fraction {
        [] => 0,
        [b'.', digits @ ..] if !digits.is_empty() && digits.len() <= 9 => {
            let n = num(20..20 + digits.len())?;
            n * 10i64.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(Nanos(((days * 24 + hour) * 60 + minute) * 60_000_000_000 + second * 1_000_000_000 + nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Line {
        Line { text: s.to_string(), cut_from: None }
    }

    fn nanos(s: &str) -> Nanos {
        Nanos::of(s.parse().unwrap())
    }

    #[test]
    fn the_fast_path_agrees_with_jiff() {
        for s in ["2026-11-21T05:00:00.123456789Z", "1999-12-31T23:59:59Z", "2024-02-29T12:00:00.5Z", "1970-01-01T00:00:00.000000001Z"] {
            assert_eq!(leading_time(s).unwrap().0, nanos(s), "{s}");
        }
        assert_eq!(leading_time("2026-11-21T06:00:00.25+01:00 x").unwrap(), (nanos("2026-11-21T05:00:00.25Z"), "x"));
        assert_eq!(leading_time("26/11/21 05:00:00 INFO x"), None);
        assert_eq!(leading_time("2026-13-01T00:00:00Z"), None);
    }

    #[test]
    fn api_and_cri_lines() {
        let api = parse(RecordFormat::KubeApi, line("2026-11-21T05:00:00.000000001Z 26/11/21 05:00:00 INFO A: b")).unwrap();
        assert_eq!(api.text, "26/11/21 05:00:00 INFO A: b");
        assert_eq!(api.time, nanos("2026-11-21T05:00:00.000000001Z"));
        assert_eq!(parse(RecordFormat::KubeApi, line("no time here")), Err(RecordError::NoTimestamp));
        let cri = parse(RecordFormat::Cri, line("2016-10-06T00:17:09.669794202Z stdout P log content 1")).unwrap();
        assert!(cri.partial);
        assert_eq!((cri.stream, cri.text.as_str()), (Some("stdout"), "log content 1"));
        let full = parse(RecordFormat::Cri, line("2016-10-06T00:17:09.669794203Z stderr F:x ")).unwrap();
        assert_eq!((full.partial, full.text.as_str()), (false, ""));
        assert_eq!(parse(RecordFormat::Cri, line("2016-10-06T00:17:09Z stdin F x")), Err(RecordError::NotCri));
    }

    #[test]
    fn shipper_records() {
        let fluent = r#"{"date":1735819200.123456,"time":"2025-01-02T12:00:00.123456789Z","stream":"stderr","_p":"F","log":"25/01/02 12:00:00 INFO SparkContext: Running","kubernetes":{"pod_name":"spark-pi-driver","namespace_name":"spark-jobs","labels":{"spark-role":"driver"},"container_name":"spark-kubernetes-driver"}}"#;
        let r = parse(RecordFormat::FluentBit, line(fluent)).unwrap();
        assert_eq!(r.time, nanos("2025-01-02T12:00:00.123456789Z"));
        assert_eq!(r.origin.pod.as_deref(), Some("spark-pi-driver"));
        assert_eq!(r.origin.namespace.as_deref(), Some("spark-jobs"));
        assert_eq!(r.stream, Some("stderr"));
        let only_date = parse(RecordFormat::FluentBit, line(r#"{"date":1735819200.5,"log":"x\n"}"#)).unwrap();
        assert_eq!((only_date.time, only_date.text.as_str()), (Nanos(1_735_819_200_500_000_000), "x"));
        let vector = r#"{"file":"/var/log/pods/a/0.log","kubernetes":{"container_name":"c","pod_name":"p","pod_namespace":"ns"},"message":"hé \"q\"","stream":"stdout","timestamp":"2025-01-02T12:00:00.000000007Z"}"#;
        let v = parse(RecordFormat::Vector, line(vector)).unwrap();
        assert_eq!(v.text, "hé \"q\"");
        assert_eq!(v.origin.namespace.as_deref(), Some("ns"));
        assert!(matches!(parse(RecordFormat::Vector, line("{not json")), Err(RecordError::Json(_))));
        assert_eq!(parse(RecordFormat::Vector, line(r#"{"timestamp":"2025-01-02T12:00:00Z"}"#)), Err(RecordError::Missing("message")));
        assert_eq!(parse(RecordFormat::FluentBit, line(r#"{"log":"x"}"#)), Err(RecordError::Missing("time")));
    }
}
