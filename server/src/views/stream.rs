//! Server push (SSE): `GET /api/v1/jobs/stream?<list query>` sends the page that query names
//! whenever it changes; `GET /api/v1/jobs/{ns}/{name}/stream` sends one job whenever it changes.
//!
//! Each connection computes its own view, so a browser on page 3 of failed jobs in one
//! namespace hears about that page only, and 100,000 jobs never cross the wire. A change after
//! a quiet spell goes out at once; within a burst, a view is recomputed at most once per
//! [`COALESCE`], so a thousand changes cost a handful of pages, each well within a second. A subscriber that falls behind the model's feed simply recomputes: views are state,
//! not deltas, so nothing can be missed.

use super::AppState;
use super::access::{Caller, can_view};
use super::api::{ApiError, parse_query};
use crate::model::pod::JobKey;
use crate::model::{JobModel, Touched, same_but_the_clock};
use app::api::{JobDetail, JobList};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use serde::Serialize;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::{self, error::RecvError};

/// The least time between two messages of one view: a change after a quiet spell goes out at
/// once, a burst of changes costs one recompute per interval.
const COALESCE: Duration = Duration::from_millis(200);

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/jobs/stream", get(list_stream)).route("/api/v1/jobs/{namespace}/{name}/stream", get(job_stream))
}

fn event(value: &impl Serialize) -> Event {
    Event::default().data(serde_json::to_string(value).unwrap_or_default())
}

/// Waits for a touch that `wanted` accepts (or a lag, after which anything may have changed),
/// then for the rest of the interval since `last` sent. `false` when the model is gone.
async fn next_change(feed: &mut broadcast::Receiver<Touched>, last: Option<Instant>, wanted: impl Fn(&Touched) -> bool) -> bool {
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

/// A page equal to the last one sent, but for running jobs' durations (browsers tick those).
fn same_page(a: &JobList, b: &JobList) -> bool {
    a.total == b.total
        && a.next == b.next
        && a.prev == b.prev
        && a.counts == b.counts
        && a.namespaces == b.namespaces
        && a.warnings == b.warnings
        && a.jobs.len() == b.jobs.len()
        && a.jobs.iter().zip(&b.jobs).all(|(x, y)| same_but_the_clock(x, y))
}

fn same_detail(a: &Option<JobDetail>, b: &Option<JobDetail>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            same_but_the_clock(&a.job, &b.job)
                && a.pods == b.pods
                && a.events == b.events
                && a.spark_conf == b.spark_conf
                && a.schedule == b.schedule
                && a.warnings == b.warnings
        }
        (None, None) => true,
        _ => false,
    }
}

fn page(model: &JobModel, query: &app::query::JobQuery) -> JobList {
    let caller = Caller;
    model.query(query, |namespace| can_view(&caller, namespace))
}

async fn list_stream(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let query = parse_query(raw.as_deref())?;
    let model = state.model.clone();
    let feed = model.subscribe();
    let first = page(&model, &query);
    let stream = futures::stream::unfold((Some(first), None::<JobList>, feed, None), move |(pending, last, mut feed, sent_at)| {
        let (model, query) = (model.clone(), query.clone());
        async move {
            let mut pending = pending;
            loop {
                if let Some(list) = pending.take() {
                    let out = event(&list);
                    return Some((Ok(out), (None, Some(list), feed, Some(Instant::now()))));
                }
                if !next_change(&mut feed, sent_at, |t| t.summary).await {
                    return None;
                }
                let list = page(&model, &query);
                if !last.as_ref().is_some_and(|l| same_page(l, &list)) {
                    pending = Some(list);
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn job_stream(
    State(state): State<AppState>,
    Path((namespace, name)): Path<(String, String)>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let key = JobKey { namespace, name };
    let feed = state.model.subscribe();
    let visible = can_view(&Caller, &key.namespace);
    let detail = move |state: AppState, key: JobKey| async move { if visible { state.job_detail(&key).await } else { None } };
    let first = detail(state.clone(), key.clone()).await;
    let stream =
        futures::stream::unfold((Some(first), None::<Option<JobDetail>>, feed, None), move |(pending, last, mut feed, sent_at)| {
            let (state, key) = (state.clone(), key.clone());
            async move {
                let mut pending = pending;
                loop {
                    if let Some(detail) = pending.take() {
                        let out = event(&detail);
                        return Some((Ok(out), (None, Some(detail), feed, Some(Instant::now()))));
                    }
                    if !next_change(&mut feed, sent_at, |t| t.concerns(&key)).await {
                        return None;
                    }
                    let fresh = detail(state.clone(), key.clone()).await;
                    if !last.as_ref().is_some_and(|l| same_detail(l, &fresh)) {
                        pending = Some(fresh);
                    }
                }
            }
        });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
