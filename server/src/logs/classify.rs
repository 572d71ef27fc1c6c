//! What one line of text is: the start of a log event (with its level, when it names one), a
//! continuation of the event above (a Java stack frame, a Python traceback), or a plain line.
//!
//! Formats recognised (an example of each in `REFERENCE.md`, "Log line formats"): Spark's log4j
//! pattern (`yy/MM/dd HH:mm:ss LEVEL Logger: msg`), ISO-timestamped lines (Python logging, zap
//! console, most others), Python's `basicConfig` default (`LEVEL:name:msg`), klog
//! (`I0810 13:25:06.8…`), and JSON structured logs, Spark 4's among them, which are rewritten as
//! readable text with the exception as a Java-style trace (so the exceptions panel groups them
//! like the rest).

use app::api::LogLevel;
use serde_json::Value;

/// How a line relates to the lines around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Starts an event: a timestamped or levelled line.
    Header,
    /// Belongs to the event above: stack frames, `Caused by:`, traceback lines, exception lines.
    Continuation,
    /// Neither: a shell trace, a bare print. Folded only when it directly follows a header.
    Plain,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    pub kind: Kind,
    pub level: Option<LogLevel>,
    /// The line rewritten for reading (structured JSON logs); `None` keeps it as it is.
    pub rewritten: Option<String>,
}

impl Classified {
    fn new(kind: Kind, level: Option<LogLevel>) -> Classified {
        Classified { kind, level, rewritten: None }
    }
}

pub fn classify(text: &str) -> Classified {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return Classified::new(Kind::Plain, None);
    };
    if first == b'{'
        && let Some(structured) = structured(text)
    {
        return structured;
    }
    if is_continuation(text) {
        return Classified::new(Kind::Continuation, None);
    }
    if let Some(level) = klog_level(bytes) {
        return Classified::new(Kind::Header, Some(level));
    }
    if let Some((word, _)) = text.split_once(':')
        && word.len() <= 8
        && word.bytes().all(|b| b.is_ascii_uppercase())
        && let Some(level) = LogLevel::parse(word)
    {
        // Python's basicConfig default: `WARNING:root:message`.
        return Classified::new(Kind::Header, Some(level));
    }
    if first.is_ascii_digit() || first == b'[' {
        let level = level_token(text);
        let timestamped = first == b'[' || starts_with_date(bytes);
        if timestamped || level.is_some() {
            return Classified::new(Kind::Header, level);
        }
    }
    Classified::new(Kind::Plain, None)
}

/// `yy/MM/dd`, `yyyy-MM-dd` or `HH:mm:ss` at the start.
fn starts_with_date(b: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    (digits(0..2) && b.get(2) == Some(&b'/') && digits(3..5) && b.get(5) == Some(&b'/'))
        || (digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-'))
        || (digits(0..2) && b.get(2) == Some(&b':') && digits(3..5) && b.get(5) == Some(&b':'))
}

/// The first upper-case level word among the first few tokens (`INFO`, `[WARN]`, `ERROR:`).
fn level_token(text: &str) -> Option<LogLevel> {
    let head = &text[..text.floor_char_boundary(96)];
    head.split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | '|' | ':' | '(' | ')'))
        .filter(|t| !t.is_empty())
        .take(10)
        .find(|t| t.len() >= 3 && t.bytes().all(|b| b.is_ascii_uppercase()))
        .and_then(LogLevel::parse)
        .filter(|l| !matches!(l, LogLevel::Unknown | LogLevel::Marker))
}

/// klog: `I0810 13:25:06.827717      10 controller.go:274] msg`.
fn klog_level(b: &[u8]) -> Option<LogLevel> {
    if b.len() < 21 || !b[1..5].iter().all(u8::is_ascii_digit) || b[5] != b' ' || b[8] != b':' || b[11] != b':' || b[14] != b'.' {
        return None;
    }
    match b[0] {
        b'I' => Some(LogLevel::Info),
        b'W' => Some(LogLevel::Warn),
        b'E' => Some(LogLevel::Error),
        b'F' => Some(LogLevel::Fatal),
        _ => None,
    }
}

/// Stack frames, causes and the lines of a Python traceback.
pub fn is_continuation(text: &str) -> bool {
    let b = text.as_bytes();
    if matches!(b.first(), Some(b'\t' | b' ')) {
        return true;
    }
    text.starts_with("Caused by: ")
        || text.starts_with("Suppressed: ")
        || text.starts_with("Traceback (most recent call last):")
        || text.starts_with("During handling of the above exception")
        || text.starts_with("The above exception was the direct cause")
        || exception_class(text).is_some()
}

/// The exception class a line starts with: `java.lang.IllegalStateException: msg`,
/// `org.apache.spark.SparkException`, `ValueError: bad`, `pyspark.errors...AnalysisException: x`.
pub fn exception_class(text: &str) -> Option<&str> {
    let head = text.split_once(": ").map_or(text, |(h, _)| h);
    let head = head.trim_end_matches(':');
    if head.is_empty() || head.len() > 200 || head.contains(char::is_whitespace) {
        return None;
    }
    let last = head.rsplit('.').next()?;
    let identifier = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    let named_like_one = ["Exception", "Error", "Throwable", "Failure", "Exit", "Interrupt"].iter().any(|suffix| last.ends_with(suffix))
        && last.starts_with(|c: char| c.is_ascii_uppercase());
    (named_like_one && head.split('.').all(identifier)).then_some(head)
}

/// A JSON log line: level from `level`/`severity`/`@l`/`log.level`; Spark 4's structured logs
/// (`ts`, `level`, `msg`, `logger`, `context`, `exception`) rewritten as text.
fn structured(text: &str) -> Option<Classified> {
    let value: Value = serde_json::from_str(text).ok()?;
    let object = value.as_object()?;
    let level_field = ["level", "severity", "@l", "log.level", "levelname", "lvl"].iter().find_map(|k| object.get(*k)?.as_str());
    let level = level_field.and_then(LogLevel::parse).filter(|l| !matches!(l, LogLevel::Unknown | LogLevel::Marker));
    let message = ["msg", "message", "@m"].iter().find_map(|k| object.get(*k)?.as_str());
    let rewritten = message.map(|message| {
        let mut out = String::new();
        if let Some(logger) = object.get("logger").and_then(Value::as_str) {
            out.push_str(logger);
            out.push_str(": ");
        }
        out.push_str(message);
        if let Some(context) = object.get("context").and_then(Value::as_object).filter(|c| !c.is_empty()) {
            let pairs: Vec<String> =
                context.iter().map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect();
            out.push_str(&format!(" {{{}}}", pairs.join(", ")));
        }
        if let Some(exception) = object.get("exception").and_then(Value::as_object) {
            let class = exception.get("class").and_then(Value::as_str).unwrap_or("Exception");
            match exception.get("msg").and_then(Value::as_str) {
                Some(msg) => out.push_str(&format!("\n{class}: {msg}")),
                None => out.push_str(&format!("\n{class}")),
            }
            for frame in exception.get("stacktrace").and_then(Value::as_array).into_iter().flatten() {
                let field = |k: &str| frame.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).unwrap_or_default();
                out.push_str(&format!("\n\tat {}.{}({}:{})", field("class"), field("method"), field("file"), field("line")));
            }
        }
        out
    });
    (level.is_some() || rewritten.is_some()).then_some(Classified { kind: Kind::Header, level, rewritten })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> (Kind, Option<LogLevel>) {
        let c = classify(text);
        (c.kind, c.level)
    }

    #[test]
    fn headers_and_their_levels() {
        use LogLevel::*;
        assert_eq!(of("26/11/21 05:00:00 INFO SparkContext: Running Spark version 4.0.1"), (Kind::Header, Some(Info)));
        assert_eq!(of("26/11/21 05:00:00 ERROR TaskSchedulerImpl: Lost executor 3"), (Kind::Header, Some(Error)));
        assert_eq!(of("2024-07-02T02:29:23.855Z\tINFO\tsparkapplication/controller.go:113\tReconciling"), (Kind::Header, Some(Info)));
        assert_eq!(of("2026-11-21 05:00:00,123 - etl - WARNING - slow"), (Kind::Header, Some(Warn)));
        assert_eq!(of("WARNING:root:careful"), (Kind::Header, Some(Warn)));
        assert_eq!(of("E1120 06:00:01.118302       1 leaderelection.go:340] Failed to update lock"), (Kind::Header, Some(Error)));
        assert_eq!(of("F1120 06:00:01.118840       1 leaderelection.go:327] leader election lost"), (Kind::Header, Some(Fatal)));
        assert_eq!(of("[2026-11-21 05:00:00] [ERROR] boom"), (Kind::Header, Some(Error)));
        assert_eq!(of("26/11/21 05:00:00 SomeLogger: no level"), (Kind::Header, None));
        assert_eq!(of("++ id -u"), (Kind::Plain, None));
        assert_eq!(of("The API gave the following container statuses:"), (Kind::Plain, None));
        assert_eq!(of(""), (Kind::Plain, None));
        assert_eq!(of("INFORMATION about nothing"), (Kind::Plain, None));
    }

    #[test]
    fn continuations() {
        for line in [
            "\tat org.apache.spark.scheduler.DAGScheduler.abortStage(DAGScheduler.scala:2834)",
            "\t... 42 more",
            "Caused by: java.lang.NumberFormatException: For input string: \"N/A\"",
            "java.lang.OutOfMemoryError: Java heap space",
            "org.apache.spark.SparkException: Job aborted due to stage failure",
            "Traceback (most recent call last):",
            "  File \"/opt/spark/work-dir/main.py\", line 42, in <module>",
            "pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not exist",
            "ValueError: bad value",
            "java.lang.InterruptedException",
        ] {
            assert_eq!(classify(line).kind, Kind::Continuation, "{line}");
        }
        assert_eq!(exception_class("java.lang.OutOfMemoryError: Java heap space"), Some("java.lang.OutOfMemoryError"));
        assert_eq!(exception_class("Error in job 4"), None);
        assert_eq!(exception_class("Errors: 3"), None);
    }

    #[test]
    fn structured_logs_read_as_text() {
        let spark = r#"{"ts":"2024-05-04T01:11:03.797Z","level":"ERROR","msg":"Task failed","context":{"executor_id":"3"},"exception":{"class":"java.io.IOException","msg":"disk full","stacktrace":[{"class":"a.B","method":"write","file":"B.java","line":12}]},"logger":"Executor"}"#;
        let c = classify(spark);
        assert_eq!((c.kind, c.level), (Kind::Header, Some(LogLevel::Error)));
        assert_eq!(
            c.rewritten.as_deref(),
            Some("Executor: Task failed {executor_id=3}\njava.io.IOException: disk full\n\tat a.B.write(B.java:12)")
        );
        let plain_json = classify(r#"{"severity":"warning","message":"hm"}"#);
        assert_eq!((plain_json.level, plain_json.rewritten.as_deref()), (Some(LogLevel::Warn), Some("hm")));
        assert_eq!(classify("{not json").kind, Kind::Plain);
    }
}
