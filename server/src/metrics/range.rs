//! The span and resolution of a metrics request: `from`, `to` (RFC 3339, or a span back from
//! now such as `90m`) and `step` (seconds, or `15s`, `1m`, `1h`). By default the job's
//! lifetime, at a step that keeps every series at most [`DEFAULT_POINTS`] points.

use app::api::JobDetail;
use app::query::{QueryError, TimeBound, decoded_pairs};
use jiff::{SignedDuration, Timestamp};

/// Points per series when the request gives no step.
pub const DEFAULT_POINTS: i64 = 1000;
/// The most points per series a request may ask for: Prometheus' own limit per query.
pub const MAX_POINTS: i64 = 11_000;
/// How far back a job with no known start is shown.
const NO_START: SignedDuration = SignedDuration::from_hours(1);
/// How far back a running job is shown when its start is after our clock's now.
const SKEWED_START: SignedDuration = SignedDuration::from_mins(5);

/// A validated request range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricsRange {
    pub from: Timestamp,
    pub to: Timestamp,
    /// Seconds between points, at least 1.
    pub step: i64,
}

/// A range the API refuses (HTTP 400).
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum RangeError {
    #[error(transparent)]
    Time(#[from] QueryError),
    #[error("bad step {0:?} (seconds, or a duration such as 15s, 1m, 1h)")]
    Step(String),
    #[error("from must be before to")]
    Empty,
    #[error("{points} points per series is too many (at most {MAX_POINTS}): ask for a larger step or a shorter range")]
    TooManyPoints { points: i64 },
}

/// `15`, `15s`, `2m`, `1h`, `1d` -> seconds, at least 1.
fn parse_step(s: &str) -> Result<i64, RangeError> {
    let bad = || RangeError::Step(s.to_string());
    let (number, unit) = s.find(|c: char| !c.is_ascii_digit()).map_or((s, ""), |i| s.split_at(i));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let factor = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(factor).filter(|s| *s >= 1).ok_or_else(bad)
}

impl MetricsRange {
    /// The range of a request for `job`'s metrics at `now`, from its raw query string.
    pub fn parse(raw: &str, job: &JobDetail, now: Timestamp) -> Result<MetricsRange, RangeError> {
        let (mut from, mut to, mut step) = (None, None, None);
        for (key, value) in decoded_pairs(raw) {
            match key.as_str() {
                "from" if !value.is_empty() => from = Some(TimeBound::parse(&value)?.resolve(now)),
                "to" if !value.is_empty() => to = Some(TimeBound::parse(&value)?.resolve(now)),
                "step" if !value.is_empty() => step = Some(parse_step(&value)?),
                _ => {}
            }
        }
        let job = &job.job;
        let asked_from = from.is_some();
        let to = to.or(job.finished_at).unwrap_or(now);
        let before = |span: SignedDuration| to.checked_sub(span).unwrap_or(to);
        let mut from = from.or(job.submitted_at).or(job.started_at).unwrap_or_else(|| before(NO_START));
        if from >= to && !asked_from {
            // A running job that started "after now": the cluster's clock is ahead of ours.
            // Its metrics are stamped with ours, so the last minutes still show them.
            from = before(SKEWED_START);
        }
        if from >= to {
            return Err(RangeError::Empty);
        }
        let seconds = to.as_second() - from.as_second();
        let step = step.unwrap_or_else(|| ((seconds + DEFAULT_POINTS - 1) / DEFAULT_POINTS).max(1));
        let points = seconds / step + 1;
        if points > MAX_POINTS {
            return Err(RangeError::TooManyPoints { points });
        }
        // Aligned to the step, so that a chart reloaded later asks for the same instants.
        let from = Timestamp::from_second(from.as_second() - from.as_second().rem_euclid(step)).unwrap_or(from);
        Ok(MetricsRange { from, to, step })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// A job submitted and finished then (an absent field is `null` on the wire).
    fn job(submitted: Option<&str>, finished: Option<&str>) -> JobDetail {
        serde_json::from_value(serde_json::json!({
            "namespace": "ns", "name": "j", "state": "COMPLETED", "submitted_at": submitted, "finished_at": finished,
            "executors": {"requested": 0, "running": 0, "completed": 0, "failed": 0, "oom_killed": 0},
            "pods": [], "events": [], "spark_conf": {}
        }))
        .unwrap()
    }

    #[test]
    fn the_default_is_the_jobs_lifetime_at_a_thousand_points_at_most() {
        let now = t("2026-11-21T12:00:00Z");
        let done = job(Some("2026-11-21T06:00:00Z"), Some("2026-11-21T08:00:00Z"));
        let range = MetricsRange::parse("", &done, now).unwrap();
        assert_eq!((range.from, range.to, range.step), (t("2026-11-21T06:00:00Z"), t("2026-11-21T08:00:00Z"), 8));
        assert!((range.to.as_second() - range.from.as_second()) / range.step < DEFAULT_POINTS);
        let running = job(Some("2026-11-21T11:59:00Z"), None);
        let range = MetricsRange::parse("", &running, now).unwrap();
        assert_eq!((range.to, range.step), (now, 1));
        let unknown = MetricsRange::parse("", &job(None, None), now).unwrap();
        assert_eq!(unknown.from, t("2026-11-21T11:00:00Z"));
        // The cluster's clock runs ahead of ours: the last minutes, not a refusal.
        let ahead = MetricsRange::parse("", &job(Some("2026-11-21T12:00:30Z"), None), now).unwrap();
        assert_eq!((ahead.from, ahead.to), (t("2026-11-21T11:55:00Z"), now));
    }

    #[test]
    fn given_values_win_and_bad_ones_are_refused() {
        let now = t("2026-11-21T12:00:00Z");
        let j = job(Some("2026-11-21T06:00:00Z"), None);
        let range = MetricsRange::parse("from=2026-11-21T11:00:07Z&to=30m&step=1m", &j, now).unwrap();
        assert_eq!((range.from, range.to, range.step), (t("2026-11-21T11:00:00Z"), t("2026-11-21T11:30:00Z"), 60));
        assert!(matches!(MetricsRange::parse("step=0", &j, now), Err(RangeError::Step(_))));
        assert!(matches!(MetricsRange::parse("step=fast", &j, now), Err(RangeError::Step(_))));
        assert!(matches!(MetricsRange::parse("from=yesterday", &j, now), Err(RangeError::Time(_))));
        assert_eq!(MetricsRange::parse("from=1h&to=2h", &j, now), Err(RangeError::Empty));
        assert!(matches!(MetricsRange::parse("step=1", &j, now), Err(RangeError::TooManyPoints { points: 21_601 })));
    }
}
