//! The jobs list's query: filters, sort and page, as they appear in the URL of `/` and of
//! `GET /api/v1/jobs`, so any view can be shared as a link.
//!
//! One type, parsed and printed here, used by the page, the API and the live stream alike: a
//! filter cannot mean one thing in the browser and another on the server.

#[cfg(feature = "ssr")]
use crate::api::Job;
use crate::api::JobState;
use jiff::{SignedDuration, Timestamp};
#[cfg(feature = "ssr")]
use std::cmp::Ordering;
use std::fmt::Write as _;

/// Rows per page unless the URL says otherwise.
pub const DEFAULT_LIMIT: usize = 100;
/// The most rows one page may ask for.
pub const MAX_LIMIT: usize = 1000;

/// A column the list can be sorted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortField {
    Submitted,
    Finished,
    Duration,
    Name,
    Namespace,
    State,
    User,
    Executors,
}

impl SortField {
    pub const ALL: [SortField; 8] = [
        SortField::Submitted,
        SortField::Finished,
        SortField::Duration,
        SortField::Name,
        SortField::Namespace,
        SortField::State,
        SortField::User,
        SortField::Executors,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Submitted => "submitted",
            SortField::Finished => "finished",
            SortField::Duration => "duration",
            SortField::Name => "name",
            SortField::Namespace => "namespace",
            SortField::State => "state",
            SortField::User => "user",
            SortField::Executors => "executors",
        }
    }

    /// The direction a first click on the column picks: newest, longest and biggest first.
    pub fn natural_descending(self) -> bool {
        matches!(self, SortField::Submitted | SortField::Finished | SortField::Duration | SortField::Executors)
    }
}

/// A sort: a field and a direction. In the URL, `sort=name` or `sort=-submitted` (descending).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Default for Sort {
    /// Newest submission first: what both someone looking for their job and on-call want.
    fn default() -> Self {
        Sort { field: SortField::Submitted, descending: true }
    }
}

impl Sort {
    pub fn parse(s: &str) -> Result<Sort, QueryError> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let field = SortField::ALL.into_iter().find(|f| f.as_str() == name).ok_or_else(|| QueryError::Sort(s.to_string()))?;
        Ok(Sort { field, descending })
    }

    pub fn as_param(self) -> String {
        format!("{}{}", if self.descending { "-" } else { "" }, self.field.as_str())
    }
}

/// Where a page starts: after or before one job in the list's order.
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor {
    pub before: bool,
    pub value: SortValue,
    pub namespace: String,
    pub name: String,
}

/// The value a job sorts by, as a cursor keeps it; a missing value sorts last in both directions.
#[derive(Clone, Debug, PartialEq)]
pub enum SortValue {
    Missing,
    Number(f64),
    Text(String),
}

impl Cursor {
    /// `a~<value>~<namespace>~<name>` (`b` for before): readable in a URL, and `~` cannot occur in
    /// a Kubernetes name, a label value or a number.
    pub fn as_param(&self) -> String {
        let value = match &self.value {
            SortValue::Missing => String::new(),
            SortValue::Number(n) => format!("n{n}"),
            SortValue::Text(t) => format!("t{t}"),
        };
        format!("{}~{value}~{}~{}", if self.before { "b" } else { "a" }, self.namespace, self.name)
    }

    pub fn parse(s: &str) -> Result<Cursor, QueryError> {
        let bad = || QueryError::Cursor(s.to_string());
        let mut parts = s.splitn(4, '~');
        let before = match parts.next() {
            Some("a") => false,
            Some("b") => true,
            _ => return Err(bad()),
        };
        let value = match parts.next().ok_or_else(bad)? {
            "" => SortValue::Missing,
            v if v.starts_with('n') => SortValue::Number(v[1..].parse().map_err(|_| bad())?),
            v if v.starts_with('t') => SortValue::Text(v[1..].to_string()),
            _ => return Err(bad()),
        };
        let namespace = parts.next().ok_or_else(bad)?.to_string();
        let name = parts.next().ok_or_else(bad)?.to_string();
        Ok(Cursor { before, value, namespace, name })
    }
}

/// A bound of the time range: a moment, or a span back from now (`1h`, `30m`, `7d`) so that a
/// shared "last hour" link stays the last hour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeBound {
    At(Timestamp),
    Ago(SignedDuration),
}

impl TimeBound {
    pub fn parse(s: &str) -> Result<TimeBound, QueryError> {
        if let Ok(t) = s.parse::<Timestamp>() {
            return Ok(TimeBound::At(t));
        }
        let bad = || QueryError::Time(s.to_string());
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (n, unit) = s.split_at(split);
        let n: i64 = n.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return Err(bad()),
        };
        Ok(TimeBound::Ago(SignedDuration::from_secs(n.checked_mul(seconds).ok_or_else(bad)?)))
    }

    pub fn resolve(self, now: Timestamp) -> Timestamp {
        match self {
            TimeBound::At(t) => t,
            TimeBound::Ago(d) => now.checked_sub(d).unwrap_or(Timestamp::MIN),
        }
    }

    pub fn as_param(self) -> String {
        match self {
            TimeBound::At(t) => t.to_string(),
            TimeBound::Ago(d) => {
                let s = d.as_secs();
                match s {
                    _ if s % 86_400 == 0 => format!("{}d", s / 86_400),
                    _ if s % 3600 == 0 => format!("{}h", s / 3600),
                    _ if s % 60 == 0 => format!("{}m", s / 60),
                    _ => format!("{s}s"),
                }
            }
        }
    }
}

/// A query parameter that does not parse. The API answers 400 with it; the page shows it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("unknown state {0:?} (use the operator's names, such as RUNNING or FAILED)")]
    State(String),
    #[error("unknown sort {0:?} (one of submitted, finished, duration, name, namespace, state, user, executors; prefix - for descending)")]
    Sort(String),
    #[error("bad time {0:?} (an RFC 3339 time such as 2026-11-21T08:00:00Z, or a span back from now such as 90m, 6h, 7d)")]
    Time(String),
    #[error("bad limit {0:?} (a number from 1 to 1000)")]
    Limit(String),
    #[error("bad cursor {0:?} (use the next or prev value of a previous page)")]
    Cursor(String),
}

/// What the jobs list shows: `state`, `namespace` (each repeatable or comma-separated), `user`,
/// `q` (name, app id or Airflow dag), `since`/`until` (jobs active in that range), `sort`,
/// `limit`, `cursor`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct JobQuery {
    pub states: Vec<JobState>,
    pub namespaces: Vec<String>,
    pub user: Option<String>,
    pub q: Option<String>,
    pub since: Option<TimeBound>,
    pub until: Option<TimeBound>,
    pub sort: Sort,
    pub limit: Option<usize>,
    pub cursor: Option<Cursor>,
}

impl JobQuery {
    /// Parses decoded `(key, value)` pairs; unknown keys are ignored so links can carry more.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<JobQuery, QueryError> {
        let mut query = JobQuery::default();
        let words = |v: &'a str| v.split(',').map(str::trim).filter(|s| !s.is_empty());
        let text = |v: &str| Some(v.trim().to_string()).filter(|s| !s.is_empty());
        for (key, value) in pairs {
            match key {
                "state" => {
                    for word in words(value) {
                        let state = JobState::parse(&word.to_ascii_uppercase());
                        if state == JobState::Unknown && !word.eq_ignore_ascii_case("UNKNOWN") {
                            return Err(QueryError::State(word.to_string()));
                        }
                        if !query.states.contains(&state) {
                            query.states.push(state);
                        }
                    }
                }
                "namespace" => {
                    for ns in words(value) {
                        if !query.namespaces.iter().any(|n| n == ns) {
                            query.namespaces.push(ns.to_string());
                        }
                    }
                }
                "user" => query.user = text(value),
                "q" => query.q = text(value),
                "since" if !value.is_empty() => query.since = Some(TimeBound::parse(value)?),
                "until" if !value.is_empty() => query.until = Some(TimeBound::parse(value)?),
                "sort" if !value.is_empty() => query.sort = Sort::parse(value)?,
                "limit" if !value.is_empty() => {
                    let n: usize = value.parse().map_err(|_| QueryError::Limit(value.to_string()))?;
                    if n == 0 || n > MAX_LIMIT {
                        return Err(QueryError::Limit(value.to_string()));
                    }
                    query.limit = Some(n);
                }
                "cursor" if !value.is_empty() => query.cursor = Some(Cursor::parse(value)?),
                _ => {}
            }
        }
        Ok(query)
    }

    /// Parses a raw query string (`a=b&c=d`, percent-encoded).
    pub fn from_query_string(s: &str) -> Result<JobQuery, QueryError> {
        let pairs = decoded_pairs(s);
        JobQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The query string that means this query, without defaults, in a stable order (so equal
    /// views have equal URLs).
    pub fn to_query_string(&self) -> String {
        let mut out = String::new();
        let mut add = |key: &str, value: &str| {
            let _ = write!(out, "{}{key}={}", if out.is_empty() { "" } else { "&" }, encode(value));
        };
        if !self.states.is_empty() {
            add("state", &self.states.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","));
        }
        if !self.namespaces.is_empty() {
            add("namespace", &self.namespaces.join(","));
        }
        if let Some(user) = &self.user {
            add("user", user);
        }
        if let Some(q) = &self.q {
            add("q", q);
        }
        if let Some(since) = self.since {
            add("since", &since.as_param());
        }
        if let Some(until) = self.until {
            add("until", &until.as_param());
        }
        if self.sort != Sort::default() {
            add("sort", &self.sort.as_param());
        }
        if let Some(limit) = self.limit {
            add("limit", &limit.to_string());
        }
        if let Some(cursor) = &self.cursor {
            add("cursor", &cursor.as_param());
        }
        out
    }

    /// `/` with this query, as a link.
    pub fn href(&self) -> String {
        let qs = self.to_query_string();
        if qs.is_empty() { "/".to_string() } else { format!("/?{qs}") }
    }

    pub fn page_size(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// The same filters and sort on their first page: what a changed filter or sort links to.
    pub fn first_page(&self) -> JobQuery {
        JobQuery { cursor: None, ..self.clone() }
    }

    /// Resolves relative times once, so one page is computed against one `now`. Only the
    /// server filters jobs (the browser shows the pages it sends), so the browser bundle leaves
    /// the matcher out.
    #[cfg(feature = "ssr")]
    pub fn matcher(&self, now: Timestamp) -> Matcher<'_> {
        Matcher {
            query: self,
            since: self.since.map(|b| b.resolve(now)),
            until: self.until.map(|b| b.resolve(now)),
            q: self.q.as_ref().map(|q| q.to_lowercase()),
            now,
        }
    }
}

/// A query ready to test jobs against.
#[cfg(feature = "ssr")]
pub struct Matcher<'a> {
    query: &'a JobQuery,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    q: Option<String>,
    now: Timestamp,
}

#[cfg(feature = "ssr")]
impl Matcher<'_> {
    /// Every filter but the state: what the per-state counts are counted over.
    pub fn matches_ignoring_state(&self, job: &Job) -> bool {
        let query = self.query;
        if !query.namespaces.is_empty() && !query.namespaces.contains(&job.namespace) {
            return false;
        }
        if let Some(user) = &query.user
            && job.user.as_deref() != Some(user.as_str())
        {
            return false;
        }
        if let Some(q) = &self.q
            && !contains_lowercase(&job.name, q)
            && !job.app_id.as_deref().is_some_and(|id| contains_lowercase(id, q))
            && !job.airflow.as_ref().is_some_and(|a| contains_lowercase(&a.dag_id, q) || contains_lowercase(&a.task_id, q))
            && !job.scheduled_by.as_deref().is_some_and(|s| contains_lowercase(s, q))
        {
            return false;
        }
        // A job matches a time range when it was active in it: submitted before the range ends
        // and not finished before it starts ("what failed in the last hour" includes a job
        // submitted yesterday that failed ten minutes ago).
        let start = job.submitted_at.or(job.started_at);
        if let (Some(until), Some(start)) = (self.until, start)
            && start > until
        {
            return false;
        }
        if let Some(since) = self.since {
            let end = job.finished_at.or(if job.state.is_terminal() { start } else { None }).unwrap_or(self.now);
            if end < since {
                return false;
            }
        }
        true
    }

    pub fn matches(&self, job: &Job) -> bool {
        self.matches_state(job) && self.matches_ignoring_state(job)
    }

    /// The state filter alone.
    pub fn matches_state(&self, job: &Job) -> bool {
        self.query.states.is_empty() || self.query.states.contains(&job.state)
    }

    /// What `job` sorts by under this query's sort, borrowed: sorting 100,000 jobs by name
    /// copies no names.
    pub fn sort_key<'j>(&self, job: &'j Job) -> SortKey<'j> {
        let time = |t: Option<Timestamp>| t.map_or(SortKey::Missing, |t| SortKey::Number(t.as_millisecond() as f64));
        let text = |t: Option<&'j str>| t.map_or(SortKey::Missing, SortKey::Text);
        match self.query.sort.field {
            SortField::Submitted => time(job.submitted_at),
            SortField::Finished => time(job.finished_at),
            SortField::Duration => job.duration_at(self.now).map_or(SortKey::Missing, SortKey::Number),
            SortField::Name => SortKey::Text(&job.name),
            SortField::Namespace => SortKey::Text(&job.namespace),
            SortField::State => SortKey::Text(job.state.as_str()),
            SortField::User => text(job.user.as_deref()),
            SortField::Executors => SortKey::Number(f64::from(job.executors.requested)),
        }
    }

    /// The list's total order: by the sort key (missing last, either direction), then by id.
    pub fn compare(&self, a: (SortKey<'_>, &str, &str), b: (SortKey<'_>, &str, &str)) -> Ordering {
        let by_key = match (a.0, b.0) {
            (SortKey::Missing, SortKey::Missing) => Ordering::Equal,
            (SortKey::Missing, _) => Ordering::Greater,
            (_, SortKey::Missing) => Ordering::Less,
            (x, y) => {
                let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                if self.query.sort.descending { o.reverse() } else { o }
            }
        };
        by_key.then_with(|| a.1.cmp(b.1)).then_with(|| a.2.cmp(b.2))
    }

    pub fn compare_jobs(&self, a: &Job, b: &Job) -> Ordering {
        self.compare((self.sort_key(a), &a.namespace, &a.name), (self.sort_key(b), &b.namespace, &b.name))
    }

    /// Where `job`, whose sort key is `key`, stands against the query's cursor: `Greater` after
    /// it, `Less` before it; `None` without a cursor.
    pub fn against_cursor_key(&self, key: SortKey<'_>, job: &Job) -> Option<Ordering> {
        let c = self.query.cursor.as_ref()?;
        Some(self.compare((key, &job.namespace, &job.name), (c.value.as_key(), &c.namespace, &c.name)))
    }

    /// The cursor that starts a page after (or before) `job`.
    pub fn cursor_at(&self, job: &Job, before: bool) -> Cursor {
        let value = match self.sort_key(job) {
            SortKey::Missing => SortValue::Missing,
            SortKey::Number(n) => SortValue::Number(n),
            SortKey::Text(t) => SortValue::Text(t.to_string()),
        };
        Cursor { before, value, namespace: job.namespace.clone(), name: job.name.clone() }
    }
}

/// A sort value borrowed from a job.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub enum SortKey<'a> {
    Missing,
    Number(f64),
    Text(&'a str),
}

impl SortValue {
    pub fn as_key(&self) -> SortKey<'_> {
        match self {
            SortValue::Missing => SortKey::Missing,
            SortValue::Number(n) => SortKey::Number(*n),
            SortValue::Text(t) => SortKey::Text(t),
        }
    }
}

#[cfg(feature = "ssr")]
fn contains_lowercase(haystack: &str, needle_lowercase: &str) -> bool {
    if haystack.is_ascii() {
        haystack.as_bytes().windows(needle_lowercase.len().max(1)).any(|w| w.eq_ignore_ascii_case(needle_lowercase.as_bytes()))
            || needle_lowercase.is_empty()
    } else {
        haystack.to_lowercase().contains(needle_lowercase)
    }
}

/// A raw query string (`a=b&c=d`, percent-encoded, with or without `?`) as decoded pairs.
pub fn decoded_pairs(s: &str) -> Vec<(String, String)> {
    s.trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b',' | b':') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes `%XX` and `+`; malformed escapes stay as they are, invalid UTF-8 becomes U+FFFD.
pub fn decode(s: &str) -> String {
    String::from_utf8_lossy(&unescape(s, true).0).into_owned()
}

/// `%XX` escapes (and, in a query, `+` for a space) decoded to bytes, with whether every escape
/// was well formed (a broken one is kept as written). Query values take the bytes leniently; a
/// path segment is refused when it is not clean.
pub fn unescape(s: &str, plus_is_space: bool) -> (Vec<u8>, bool) {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut clean = true;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                    continue;
                }
                _ => {
                    clean = false;
                    out.push(b'%');
                }
            },
            b => out.push(b),
        }
        i += 1;
    }
    (out, clean)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "ssr")]
    fn job(ns: &str, name: &str, state: JobState, submitted: &str, finished: Option<&str>) -> Job {
        Job {
            app_id: Some(format!("spark-{name}")),
            user: Some("ana".into()),
            submitted_at: Some(submitted.parse().unwrap()),
            finished_at: finished.map(|f| f.parse().unwrap()),
            ..Job::new(ns, name, state)
        }
    }

    #[test]
    fn a_query_survives_its_url() {
        let qs = "state=failed,SUBMISSION_FAILED&namespace=etl&namespace=ml&user=ana&q=daily%20sales&since=1h&sort=-duration&limit=50&cursor=a~n12.5~etl~x.y";
        let query = JobQuery::from_query_string(qs).unwrap();
        assert_eq!(query.states, [JobState::Failed, JobState::SubmissionFailed]);
        assert_eq!(query.namespaces, ["etl", "ml"]);
        assert_eq!(query.q.as_deref(), Some("daily sales"));
        assert_eq!(query.since, Some(TimeBound::Ago(SignedDuration::from_hours(1))));
        assert_eq!(query.sort, Sort { field: SortField::Duration, descending: true });
        assert_eq!(query.cursor.as_ref().unwrap().name, "x.y");
        assert_eq!(JobQuery::from_query_string(&query.to_query_string()).unwrap(), query);
        assert_eq!(JobQuery::default().href(), "/");
    }

    #[test]
    fn bad_parameters_say_what_is_wrong() {
        assert_eq!(JobQuery::from_query_string("state=EXPLODED"), Err(QueryError::State("EXPLODED".into())));
        assert!(matches!(JobQuery::from_query_string("sort=size"), Err(QueryError::Sort(_))));
        assert!(matches!(JobQuery::from_query_string("since=yesterday"), Err(QueryError::Time(_))));
        assert!(matches!(JobQuery::from_query_string("limit=0"), Err(QueryError::Limit(_))));
        assert!(matches!(JobQuery::from_query_string("limit=5000"), Err(QueryError::Limit(_))));
        assert!(matches!(JobQuery::from_query_string("cursor=zzz"), Err(QueryError::Cursor(_))));
        assert!(JobQuery::from_query_string("state=unknown&other=1&%zz=%").is_ok());
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn a_time_range_keeps_jobs_active_in_it() {
        let now: Timestamp = "2026-11-21T12:00:00Z".parse().unwrap();
        let query = JobQuery::from_query_string("since=1h").unwrap();
        let m = query.matcher(now);
        // Submitted yesterday, failed ten minutes ago: in the last hour.
        assert!(m.matches(&job("a", "old-fail", JobState::Failed, "2026-11-20T12:00:00Z", Some("2026-11-21T11:50:00Z"))));
        // Running since yesterday: active now.
        assert!(m.matches(&job("a", "long", JobState::Running, "2026-11-20T12:00:00Z", None)));
        // Finished two hours ago: not.
        assert!(!m.matches(&job("a", "done", JobState::Completed, "2026-11-21T09:00:00Z", Some("2026-11-21T10:00:00Z"))));
        let until = JobQuery::from_query_string("until=2026-11-21T10:00:00Z").unwrap();
        assert!(!until.matcher(now).matches(&job("a", "later", JobState::Running, "2026-11-21T11:00:00Z", None)));
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn search_covers_name_and_app_id_without_case() {
        let now = Timestamp::now();
        let query = JobQuery::from_query_string("q=NIGHTLY").unwrap();
        assert!(query.matcher(now).matches(&job("a", "nightly-etl", JobState::Running, "2026-11-21T11:00:00Z", None)));
        let query = JobQuery::from_query_string("q=spark-etl").unwrap();
        assert!(query.matcher(now).matches(&job("a", "etl", JobState::Running, "2026-11-21T11:00:00Z", None)));
        assert!(!query.matcher(now).matches(&job("a", "other", JobState::Running, "2026-11-21T11:00:00Z", None)));
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn missing_values_sort_last_both_ways() {
        for descending in [false, true] {
            let query = JobQuery { sort: Sort { field: SortField::User, descending }, ..JobQuery::default() };
            let m = query.matcher(Timestamp::now());
            assert_eq!(m.compare((SortKey::Missing, "a", "x"), (SortKey::Text("ana"), "a", "y")), Ordering::Greater);
        }
    }

    #[test]
    fn encoding_round_trips() {
        for s in ["a b&c=d/é%", "plain", "~cursor~ns~name.with.dots"] {
            assert_eq!(decode(&encode(s)), s);
        }
        assert_eq!(decode("%zz%4"), "%zz%4");
    }
}
