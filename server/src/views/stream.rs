//! Server push (SSE): `GET /api/v1/jobs/stream?<list query>` sends the page that query names
//! whenever it changes; `GET /api/v1/jobs/{ns}/{name}/stream` sends one job whenever it changes.
//!
//! Each connection computes its own view, so a browser on page 3 of failed jobs in one
//! namespace hears about that page only, and 100,000 jobs never cross the wire. A change after
//! a quiet spell goes out at once; within a burst, a view is recomputed at most once per
//! [`COALESCE`], so a thousand changes cost a handful of pages, each well within a second. A subscriber that falls behind the model's feed simply recomputes: views are state,
//! not deltas, so nothing can be missed.

use super::api::{ApiError, parse_query};
use crate::access::{Caller, visible_job, visible_jobs};
use crate::model::pod::JobKey;
use crate::model::{Touched, stop_the_clock};
use crate::state::AppState;
use app::api::{JobDetail, JobList};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use futures::future::BoxFuture;
use serde::Serialize;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{self, error::RecvError};

/// The least time between two messages of one view: a change after a quiet spell goes out at
/// once, a burst of changes costs one recompute per interval.
const COALESCE: Duration = Duration::from_millis(200);

/// This module's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/jobs/stream", get(list_stream)).route("/api/v1/jobs/{namespace}/{name}/stream", get(job_stream))
}

fn event(value: &impl Serialize) -> Event {
    Event::default().data(serde_json::to_string(value).unwrap_or_default())
}

/// Waits for a touch that `wanted` accepts (or a lag, after which anything may have changed),
/// then for the rest of the interval since `last` sent. `false` when the model is gone.
async fn next_change(feed: &mut broadcast::Receiver<Touched>, last: Option<Instant>, wanted: &impl Fn(&Touched) -> bool) -> bool {
    loop {
        match feed.recv().await {
            Ok(touched) if wanted(&touched) => break,
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => break,
            Err(RecvError::Closed) => return false,
        }
    }
    if let Some(last) = last {
        tokio::time::sleep_until((last + COALESCE).into()).await;
    }
    // Whatever else arrived meanwhile is covered by the recompute.
    while !matches!(feed.try_recv(), Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)) {}
    true
}

/// A pushed view, compared whole to the last one sent: every field counts (a field added
/// later is pushed without anyone listing it here), but the durations of running jobs, which
/// browsers tick themselves.
trait View: Serialize + Clone + PartialEq + Send + 'static {
    /// The value with running jobs' durations stopped.
    fn without_the_clock(&self) -> Self;
}

impl View for JobList {
    fn without_the_clock(&self) -> JobList {
        let mut list = self.clone();
        list.jobs.iter_mut().for_each(stop_the_clock);
        list
    }
}

impl View for Option<JobDetail> {
    fn without_the_clock(&self) -> Option<JobDetail> {
        let mut detail = self.clone();
        if let Some(detail) = &mut detail {
            stop_the_clock(&mut detail.job);
        }
        detail
    }
}

/// What one connection keeps between two messages.
struct Pushing<V> {
    /// Computed and not yet sent.
    pending: Option<V>,
    /// The last value sent, without the clock.
    sent: Option<V>,
    sent_at: Option<Instant>,
    feed: broadcast::Receiver<Touched>,
}

/// The SSE stream of one view: `first`, then `compute()` again after each change `wanted`
/// accepts, sent only when it differs from the last value sent.
fn push<V: View>(
    first: V,
    feed: broadcast::Receiver<Touched>,
    wanted: impl Fn(&Touched) -> bool + Clone + Send + Sync + 'static,
    compute: impl Fn() -> BoxFuture<'static, V> + Clone + Send + Sync + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let start = Pushing { pending: Some(first), sent: None, sent_at: None, feed };
    let stream = futures::stream::unfold(start, move |mut at| {
        let (wanted, compute) = (wanted.clone(), compute.clone());
        async move {
            loop {
                if let Some(value) = at.pending.take() {
                    let out = event(&value);
                    at.sent = Some(value.without_the_clock());
                    at.sent_at = Some(Instant::now());
                    return Some((Ok(out), at));
                }
                if !next_change(&mut at.feed, at.sent_at, &wanted).await {
                    return None;
                }
                let fresh = compute().await;
                if at.sent.as_ref() != Some(&fresh.without_the_clock()) {
                    at.pending = Some(fresh);
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn list_stream(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let query = parse_query(raw.as_deref())?;
    let feed = state.model.subscribe();
    let first = visible_jobs(&state, &caller, &query);
    let compute = move || -> BoxFuture<'static, JobList> {
        let page = visible_jobs(&state, &caller, &query);
        Box::pin(async move { page })
    };
    Ok(push(first, feed, |t: &Touched| t.summary, compute))
}

async fn job_stream(
    State(state): State<AppState>,
    caller: Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let key = JobKey { namespace, name };
    let feed = state.model.subscribe();
    let first = visible_job(&state, &caller, &key).await;
    let wanted = {
        let key = key.clone();
        move |t: &Touched| t.concerns(&key)
    };
    let compute = move || -> BoxFuture<'static, Option<JobDetail>> {
        let (state, caller, key) = (state.clone(), caller.clone(), key.clone());
        Box::pin(async move { visible_job(&state, &caller, &key).await })
    };
    push(first, feed, wanted, compute)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::{Job, JobState};

    fn job(state: JobState, duration_s: Option<f64>) -> Job {
        Job { duration_s, ..Job::new("ml", "etl", state) }
    }

    #[test]
    fn only_running_durations_are_left_out_of_the_comparison() {
        let page = |jobs: Vec<Job>, warnings: Vec<String>| JobList { jobs, warnings, ..Default::default() };
        let a = page(vec![job(JobState::Running, Some(10.0))], vec![]);
        let b = page(vec![job(JobState::Running, Some(11.0))], vec![]);
        assert_eq!(a.without_the_clock(), b.without_the_clock());
        // Any other field counts, with no list of fields to keep up to date.
        let warned = page(vec![job(JobState::Running, Some(10.0))], vec!["archive unreachable".into()]);
        assert_ne!(a.without_the_clock(), warned.without_the_clock());
        let done = |d| page(vec![job(JobState::Completed, Some(d))], vec![]);
        assert_ne!(done(10.0).without_the_clock(), done(11.0).without_the_clock());
        let detail = |d, warnings: Vec<String>| Some(JobDetail::summary_only(job(JobState::Running, Some(d)), warnings));
        assert_eq!(detail(1.0, vec![]).without_the_clock(), detail(2.0, vec![]).without_the_clock());
        assert_ne!(detail(1.0, vec![]).without_the_clock(), detail(1.0, vec!["x".into()]).without_the_clock());
    }
}
