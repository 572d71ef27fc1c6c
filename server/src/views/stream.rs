//! Server push: `GET /api/v1/jobs/stream`, server-sent events of [`JobChange`]s.
//!
//! A connection starts with a snapshot, then gets every change. A subscriber too slow for the
//! feed gets a fresh snapshot instead of the changes it missed, so memory stays bounded and the
//! browser still converges.

use super::AppState;
use super::access::{Caller, can_view};
use app::api::JobChange;
use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures::Stream;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/jobs/stream", get(jobs_stream))
}

fn event(change: &JobChange) -> Event {
    Event::default().data(serde_json::to_string(change).unwrap_or_default())
}

fn visible(caller: &Caller, change: JobChange) -> Option<JobChange> {
    match change {
        JobChange::Snapshot { jobs } => {
            Some(JobChange::Snapshot { jobs: jobs.into_iter().filter(|j| can_view(caller, &j.namespace)).collect() })
        }
        JobChange::Upsert { job } => can_view(caller, &job.namespace).then_some(JobChange::Upsert { job }),
        JobChange::Delete { namespace, name } => can_view(caller, &namespace).then_some(JobChange::Delete { namespace, name }),
    }
}

async fn jobs_stream(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let caller = Caller;
    let model = state.model.clone();
    let (jobs, feed) = model.subscribe();
    let first = JobChange::Snapshot { jobs };
    let stream = futures::stream::unfold((Some(first), feed, model, caller), |(mut pending, mut feed, model, caller)| async move {
        loop {
            let change = match pending.take() {
                Some(change) => change,
                None => match feed.recv().await {
                    Ok(change) => change,
                    Err(RecvError::Lagged(_)) => {
                        let (jobs, fresh) = model.subscribe();
                        feed = fresh;
                        JobChange::Snapshot { jobs }
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            if let Some(change) = visible(&caller, change) {
                return Some((Ok(event(&change)), (None, feed, model, caller)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
