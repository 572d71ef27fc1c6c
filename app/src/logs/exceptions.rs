//! Exceptions in the log: Java stack traces (`pkg.SomeException: message` followed by `\tat`
//! frames, `Caused by:` chains) and Python tracebacks (`Traceback (most recent call last):`,
//! `File` frames, the final `pkg.Error: message` line), grouped by exception class and top three
//! frames so that a thousand copies of one failure read as one line with a count.

use super::store::Store;
use std::collections::HashMap;

/// How many frames make an exception's identity (and are shown).
pub const TOP_FRAMES: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Java,
    Python,
}

/// One exception found in an event's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    pub kind: Kind,
    /// `java.lang.NumberFormatException`, `ValueError`.
    pub class: String,
    pub message: String,
    /// The innermost frames, as written (trimmed): Java's first `at` lines, Python's last `File`
    /// lines.
    pub frames: Vec<String>,
    /// The root cause's class, when a `Caused by:` chain names another.
    pub cause: Option<String>,
}

/// The exception an event's text carries, if any. A Python traceback wins over a Java trace in
/// the same text (PySpark's Py4J errors carry both; Python's is the one that ended the job).
pub fn parse(text: &str) -> Option<Exception> {
    if !text.contains('\n') {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    if text.contains("Traceback (most recent call last):")
        && let Some(e) = python(&lines)
    {
        return Some(e);
    }
    if text.contains("at ") { java(&lines) } else { None }
}

fn java(lines: &[&str]) -> Option<Exception> {
    let at = (0..lines.len().saturating_sub(1)).find(|&j| is_java_frame(lines[j + 1]) && java_header(lines[j]).is_some())?;
    let (class, message) = java_header(lines[at])?;
    let frames = lines[at + 1..].iter().take_while(|l| is_java_frame(l)).take(TOP_FRAMES).map(|l| l.trim().to_string()).collect();
    let cause = lines[at + 1..]
        .iter()
        .filter_map(|l| l.trim_start().strip_prefix("Caused by: "))
        .filter_map(|l| java_header(l).map(|(c, _)| c))
        .next_back()
        .filter(|c| *c != class)
        .map(str::to_string);
    Some(Exception { kind: Kind::Java, class: class.to_string(), message: message.to_string(), frames, cause })
}

fn is_java_frame(line: &str) -> bool {
    let l = line.trim();
    l.starts_with("at ") && l.contains('(') && l.ends_with(')')
}

/// `(class, message)` of a line like `java.lang.X: msg`, `Caused by: a.B`, or
/// `Exception in thread "main" a.B: msg`.
fn java_header(line: &str) -> Option<(&str, &str)> {
    let mut l = line.trim();
    l = l.strip_prefix("Caused by: ").unwrap_or(l);
    l = l.strip_prefix(": ").unwrap_or(l);
    if let Some(rest) = l.strip_prefix("Exception in thread \"") {
        l = &rest[rest.find("\" ")? + 2..];
    }
    let (class, message) = l.split_once(": ").map_or((l, ""), |(c, m)| (c, m.trim()));
    is_class_name(class, true).then_some((class, message))
}

/// A dotted class name (`a.b.C`, `C$D`); `qualified` asks for at least one package.
fn is_class_name(s: &str, qualified: bool) -> bool {
    let last = s.rsplit('.').next().unwrap_or("");
    !s.is_empty()
        && (!qualified || s.contains('.'))
        && s.split('.').all(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$'))
        && last.chars().next().is_some_and(char::is_uppercase)
}

fn python(lines: &[&str]) -> Option<Exception> {
    // The last traceback of a chain is the exception that propagated.
    let start = lines.iter().rposition(|l| l.trim() == "Traceback (most recent call last):")?;
    let body = &lines[start + 1..];
    let end = body.iter().position(|l| !l.is_empty() && !l.starts_with([' ', '\t']))?;
    let last = body[end].trim();
    let (class, message) = last.split_once(": ").map_or((last.trim_end_matches(':'), ""), |(c, m)| (c, m.trim()));
    if !is_class_name(class, false) {
        return None;
    }
    let files: Vec<&str> = body[..end].iter().map(|l| l.trim()).filter(|l| l.starts_with("File \"")).collect();
    let frames = files[files.len().saturating_sub(TOP_FRAMES)..].iter().map(|l| l.to_string()).collect();
    Some(Exception { kind: Kind::Python, class: class.to_string(), message: message.to_string(), frames, cause: None })
}

/// Exceptions that share a class and top frames.
#[derive(Clone, Debug)]
pub struct Group {
    /// The first occurrence's exception (its message stands for the group's).
    pub exception: Exception,
    pub first_time_ns: i64,
    /// Source indices that threw it, in order of first appearance.
    pub sources: Vec<u16>,
    /// Every occurrence's event index, ascending.
    pub events: Vec<u32>,
}

impl Group {
    pub fn count(&self) -> usize {
        self.events.len()
    }

    pub fn first(&self) -> u32 {
        self.events[0]
    }
}

/// Every exception seen so far, grouped, in order of first occurrence.
#[derive(Clone, Debug, Default)]
pub struct Groups {
    index: HashMap<(String, Vec<String>), usize>,
    pub groups: Vec<Group>,
}

impl Groups {
    /// Looks at event `i` (call once per event, in order).
    pub fn observe(&mut self, store: &Store, i: u32) {
        let record = store.record(i);
        if record.lines < 2 {
            return;
        }
        let Some(exception) = parse(store.text(i)) else { return };
        let key = (exception.class.clone(), exception.frames.clone());
        let source = record.source;
        match self.index.get(&key) {
            Some(&g) => {
                let group = &mut self.groups[g];
                group.events.push(i);
                if !group.sources.contains(&source) {
                    group.sources.push(source);
                }
            }
            None => {
                self.index.insert(key, self.groups.len());
                self.groups.push(Group { exception, first_time_ns: record.time_ns, sources: vec![source], events: vec![i] });
            }
        }
    }

    /// Occurrences over all groups.
    pub fn total(&self) -> usize {
        self.groups.iter().map(Group::count).sum()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::api::LogLevel;
    use crate::logs::store::tests::event;

    /// What the demo's failing JVM driver writes, folded into its log4j line.
    pub const JAVA_STACKTRACE: &str = "26/11/21 06:02:03 ERROR SparkContext: Error in job 4
org.apache.spark.SparkException: Job aborted due to stage failure: Task 3 in stage 4.0 failed 4 times: java.lang.NumberFormatException: For input string: \"N/A\"
\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)
\tat java.base/java.lang.Long.parseLong(Long.java:711)
\tat com.example.etl.Orders$.$anonfun$parse$1(Orders.scala:88)
\tat org.apache.spark.scheduler.DAGScheduler.abortStage(DAGScheduler.scala:2834)
\t... 42 more
Caused by: java.lang.NumberFormatException: For input string: \"N/A\"
\tat java.base/java.lang.Long.parseLong(Long.java:711)
\t... 18 more";

    /// A PySpark job's traceback, folded into the log4j error before it.
    pub const PYTHON_TRACEBACK: &str = "26/11/21 06:02:03 ERROR SparkContext: Error in job: [PATH_NOT_FOUND] Path does not exist
Traceback (most recent call last):
  File \"/opt/spark/work-dir/main.py\", line 42, in <module>
    df = spark.read.parquet(source)
         ^^^^^^^^^^^^^^^^^^^^^^^^^^
  File \"/opt/spark/python/lib/pyspark.zip/pyspark/sql/readwriter.py\", line 642, in parquet
  File \"/opt/spark/python/lib/pyspark.zip/pyspark/errors/exceptions/captured.py\", line 288, in deco
pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not exist: s3a://x. SQLSTATE: 42K03";

    #[test]
    fn a_java_trace_gives_class_message_top_frames_and_root_cause() {
        let e = parse(JAVA_STACKTRACE).unwrap();
        assert_eq!(e.kind, Kind::Java);
        assert_eq!(e.class, "org.apache.spark.SparkException");
        assert!(e.message.starts_with("Job aborted due to stage failure"));
        assert_eq!(e.frames.len(), 3);
        assert_eq!(e.frames[0], "at java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)");
        assert_eq!(e.cause.as_deref(), Some("java.lang.NumberFormatException"));
    }

    #[test]
    fn java_headers_in_their_usual_shapes() {
        let e = parse("Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n\tat a.B.c(B.java:1)").unwrap();
        assert_eq!((e.class.as_str(), e.message.as_str()), ("java.lang.OutOfMemoryError", "Java heap space"));
        let e = parse("java.lang.IllegalStateException\n    at a.B.c(B.java:1)\n    at a.B.d(B.java:2)").unwrap();
        assert_eq!((e.class.as_str(), e.message.as_str(), e.frames.len()), ("java.lang.IllegalStateException", "", 2));
        assert_eq!(e.cause, None);
        // A log line before frames is no exception header; neither is a line without frames.
        assert_eq!(parse("26/11/21 06:02:03 ERROR X: boom\n\tat a.B.c(B.java:1)"), None);
        assert_eq!(parse("java.lang.RuntimeException: boom\nnext line"), None);
        assert_eq!(parse("java.lang.RuntimeException: boom"), None);
    }

    #[test]
    fn a_python_traceback_gives_the_final_exception_and_innermost_frames() {
        let e = parse(PYTHON_TRACEBACK).unwrap();
        assert_eq!(e.kind, Kind::Python);
        assert_eq!(e.class, "pyspark.errors.exceptions.captured.AnalysisException");
        assert!(e.message.starts_with("[PATH_NOT_FOUND]"));
        assert_eq!(e.frames.len(), 3);
        assert!(e.frames[2].contains("captured.py\", line 288"));
        let chained = "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\nKeyError: 'x'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"a.py\", line 3, in g\nValueError: bad";
        let e = parse(chained).unwrap();
        assert_eq!((e.class.as_str(), e.message.as_str()), ("ValueError", "bad"));
        assert_eq!(e.frames, vec!["File \"a.py\", line 3, in g"]);
        assert_eq!(parse("Traceback (most recent call last):\n  File \"a.py\", line 1, in f"), None);
        assert_eq!(parse("Traceback (most recent call last):\n  File \"a.py\", line 1\nthis is prose: x"), None);
    }

    #[test]
    fn groups_count_the_same_failure_across_sources() {
        let mut store = Store::default();
        let texts = [
            ("driver", JAVA_STACKTRACE),
            ("exec-1", "plain line"),
            ("exec-2", JAVA_STACKTRACE),
            ("exec-2", PYTHON_TRACEBACK),
            ("exec-1", &JAVA_STACKTRACE.replace("Orders.scala:88", "Orders.scala:99")),
            ("exec-3", JAVA_STACKTRACE),
        ];
        let mut groups = Groups::default();
        for (n, (pod, text)) in texts.iter().enumerate() {
            let i = store.push(event(&n.to_string(), pod, LogLevel::Error, text));
            groups.observe(&store, i);
        }
        assert_eq!(groups.groups.len(), 3);
        let java = &groups.groups[0];
        assert_eq!((java.count(), java.first(), java.events.clone()), (3, 0, vec![0, 2, 5]));
        let labels: Vec<&str> = java.sources.iter().map(|&s| store.sources()[s as usize].label.as_str()).collect();
        assert_eq!(labels, ["driver", "exec-2", "exec-3"]);
        assert_eq!(groups.groups[1].exception.kind, Kind::Python);
        assert_eq!(groups.groups[2].count(), 1);
        assert_eq!(groups.total(), 5);
    }
}
