//! The merged log's query, as it appears in the URL of `/jobs/{ns}/{name}/logs` and of
//! `GET /api/v1/jobs/{ns}/{name}/logs`: which sources, which levels, what text, which span of
//! time, and whether to keep following.
//!
//! Like [`crate::query`], one type for the page and the API, so a filter means the same on both
//! sides.

use crate::api::{LogEvent, LogLevel, PodRole};
use crate::query::{QueryError, TimeBound, decoded_pairs, encode};
use jiff::Timestamp;

/// How the API writes the events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON [`LogEvent`] per line.
    #[default]
    Ndjson,
    /// Plain text for a download: `time source LEVEL text`, continuation lines indented.
    Text,
}

/// A source filter: a role (`driver`, `executor`, `controller`), a viewer label (`exec-3`),
/// or a pod name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFilter(pub String);

impl SourceFilter {
    pub fn matches(&self, source: &crate::api::LogSource) -> bool {
        let role = match source.role {
            PodRole::Driver => "driver",
            PodRole::Executor => "executor",
            PodRole::Controller => "controller",
        };
        self.0 == role || self.0 == source.pod || self.0 == source.label()
    }
}

/// What one request for a job's log asks for: `source` and `level` (each repeatable or
/// comma-separated), `q` (text, case-insensitive) or `re` (a regular expression), `since` and
/// `until` (RFC 3339 or a span back from now, as in the jobs list), `follow`, `format`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogQuery {
    pub sources: Vec<SourceFilter>,
    /// Levels to keep; empty keeps all. Markers are always kept: a gap is never hidden.
    pub levels: Vec<LogLevel>,
    pub q: Option<String>,
    pub re: Option<String>,
    pub since: Option<TimeBound>,
    pub until: Option<TimeBound>,
    pub follow: bool,
    pub format: LogFormat,
}

/// A log query parameter that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogQueryError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("unknown level {0:?} (one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, UNKNOWN)")]
    Level(String),
    #[error("unknown format {0:?} (ndjson or text)")]
    Format(String),
    #[error("bad flag {0:?} for {1} (true or false)")]
    Flag(String, &'static str),
}

impl LogQuery {
    /// Parses decoded `(key, value)` pairs; unknown keys are ignored so links can carry more.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<LogQuery, LogQueryError> {
        let mut query = LogQuery::default();
        let words = |v: &'a str| v.split(',').map(str::trim).filter(|s| !s.is_empty());
        let text = |v: &str| Some(v.to_string()).filter(|s| !s.trim().is_empty());
        for (key, value) in pairs {
            match key {
                "source" => {
                    for word in words(value) {
                        if !query.sources.iter().any(|s| s.0 == word) {
                            query.sources.push(SourceFilter(word.to_string()));
                        }
                    }
                }
                "level" => {
                    for word in words(value) {
                        let level = LogLevel::parse(word).ok_or_else(|| LogQueryError::Level(word.to_string()))?;
                        if !query.levels.contains(&level) {
                            query.levels.push(level);
                        }
                    }
                }
                "q" => query.q = text(value),
                "re" => query.re = text(value),
                "since" if !value.is_empty() => query.since = Some(TimeBound::parse(value)?),
                "until" if !value.is_empty() => query.until = Some(TimeBound::parse(value)?),
                "follow" => {
                    query.follow = match value {
                        "" | "true" | "1" => true,
                        "false" | "0" => false,
                        other => return Err(LogQueryError::Flag(other.to_string(), "follow")),
                    }
                }
                "format" => {
                    query.format = match value {
                        "" | "ndjson" | "json" => LogFormat::Ndjson,
                        "text" | "txt" => LogFormat::Text,
                        other => return Err(LogQueryError::Format(other.to_string())),
                    }
                }
                _ => {}
            }
        }
        Ok(query)
    }

    /// Parses a raw query string (`a=b&c=d`, percent-encoded).
    pub fn from_query_string(s: &str) -> Result<LogQuery, LogQueryError> {
        let pairs = decoded_pairs(s);
        LogQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The query string that means this query, without defaults, in a stable order.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if !self.sources.is_empty() {
            let names: Vec<&str> = self.sources.iter().map(|s| s.0.as_str()).collect();
            parts.push(format!("source={}", encode(&names.join(","))));
        }
        if !self.levels.is_empty() {
            let names: Vec<&str> = self.levels.iter().map(|l| l.as_str()).collect();
            parts.push(format!("level={}", names.join(",")));
        }
        if let Some(q) = &self.q {
            parts.push(format!("q={}", encode(q)));
        }
        if let Some(re) = &self.re {
            parts.push(format!("re={}", encode(re)));
        }
        if let Some(since) = self.since {
            parts.push(format!("since={}", encode(&since.as_param())));
        }
        if let Some(until) = self.until {
            parts.push(format!("until={}", encode(&until.as_param())));
        }
        if self.follow {
            parts.push("follow=true".to_string());
        }
        if self.format == LogFormat::Text {
            parts.push("format=text".to_string());
        }
        parts.join("&")
    }

    /// The time span, resolved against `now`.
    pub fn span(&self, now: Timestamp) -> (Option<Timestamp>, Option<Timestamp>) {
        (self.since.map(|b| b.resolve(now)), self.until.map(|b| b.resolve(now)))
    }

    /// Whether an event passes the source, level and text filters (not the regular expression,
    /// which the server compiles once; not the time span, which bounds the reading itself).
    pub fn keeps(&self, event: &LogEvent) -> bool {
        if event.level == LogLevel::Marker {
            return self.sources.is_empty() || self.sources.iter().any(|s| s.matches(&event.source));
        }
        (self.sources.is_empty() || self.sources.iter().any(|s| s.matches(&event.source)))
            && (self.levels.is_empty() || self.levels.contains(&event.level))
            && self.q.as_deref().is_none_or(|q| contains_ignoring_case(&event.text, q))
    }
}

/// Case-insensitive substring search without allocating for the common ASCII case.
pub fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if needle.is_ascii() {
        let needle = needle.as_bytes();
        return haystack.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle));
    }
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::LogSource;

    fn event(role: PodRole, pod: &str, exec: Option<&str>, level: LogLevel, text: &str) -> LogEvent {
        LogEvent {
            id: "1".into(),
            time: Timestamp::UNIX_EPOCH,
            source: LogSource { role, pod: pod.into(), container: "c".into(), executor_id: exec.map(str::to_string) },
            level,
            text: text.into(),
            stream: None,
        }
    }

    #[test]
    fn a_query_round_trips_through_its_url() {
        let s = "source=driver,exec-3&level=warn,ERROR&q=Lost%20executor&since=2h&follow=true&format=text";
        let query = LogQuery::from_query_string(s).unwrap();
        assert_eq!(query.sources, vec![SourceFilter("driver".into()), SourceFilter("exec-3".into())]);
        assert_eq!(query.levels, vec![LogLevel::Warn, LogLevel::Error]);
        assert_eq!(query.q.as_deref(), Some("Lost executor"));
        assert!(query.follow);
        assert_eq!(query.format, LogFormat::Text);
        assert_eq!(LogQuery::from_query_string(&query.to_query_string()).unwrap(), query);
        assert_eq!(
            LogQuery::from_query_string("level=LOUD").unwrap_err().to_string(),
            "unknown level \"LOUD\" (one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, UNKNOWN)"
        );
        assert!(LogQuery::from_query_string("since=yesterday").is_err());
        assert!(LogQuery::from_query_string("format=xml").is_err());
    }

    #[test]
    fn filters_keep_markers_of_chosen_sources() {
        let query = LogQuery::from_query_string("source=exec-3&level=ERROR&q=oom").unwrap();
        assert!(query.keeps(&event(PodRole::Executor, "p-exec-3", Some("3"), LogLevel::Error, "Killed: OOM")));
        assert!(!query.keeps(&event(PodRole::Executor, "p-exec-3", Some("3"), LogLevel::Info, "oom")));
        assert!(!query.keeps(&event(PodRole::Driver, "p-driver", None, LogLevel::Error, "oom")));
        assert!(query.keeps(&event(PodRole::Executor, "p-exec-3", Some("3"), LogLevel::Marker, "archive object corrupt")));
        let by_role = LogQuery::from_query_string("source=executor").unwrap();
        assert!(by_role.keeps(&event(PodRole::Executor, "x", Some("9"), LogLevel::Info, "")));
        assert!(contains_ignoring_case("Lost Executor 3", "lost executor"));
        assert!(contains_ignoring_case("Größe", "GRÖSSE") || contains_ignoring_case("Größe", "größe"));
    }
}
