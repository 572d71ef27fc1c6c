//! Loading the log in the browser: one streaming request at a time, parsed line by line into the
//! viewer and shown in batches (at most every 100 ms), yielding to the page between slices so it
//! stays responsive; following, resuming after a break, and the search that runs over what
//! arrived. Browser only.

use super::browser;
use super::state::{Failure, Logs, Status};
use crate::api::JobDetail;
use crate::log_query::LogQuery;
use crate::logs::fetch::{self, FetchError};
use crate::logs::ndjson::{self, Lines};
use crate::query::TimeBound;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;
use std::time::Duration;
use web_sys::AbortController;

/// Show what arrived at most this often while loading.
const COMMIT_MS: f64 = 100.0;
/// A resumed request starts this far before the newest event, so that nothing written at the
/// same moment by another source is lost (what was seen is skipped by id).
const RESUME_OVERLAP_NS: i64 = 2_000_000_000;
/// Events searched per slice.
const SEARCH_SLICE: usize = 20_000;

thread_local! {
    /// The request in flight, and its generation (a newer request makes older ones stop).
    static CURRENT: RefCell<(u64, Option<AbortController>)> = const { RefCell::new((0, None)) };
    /// Whether a search slice is scheduled.
    static SEARCHING: Cell<bool> = const { Cell::new(false) };
    /// Events already looked at for a permalink's target.
    static TARGET_SCANNED: Cell<u32> = const { Cell::new(0) };
}

/// Stops the request in flight (leaving the page, say).
pub fn stop() {
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        c.0 += 1;
        if let Some(controller) = c.1.take() {
            controller.abort();
        }
    });
}

/// Starts (or restarts) loading: the whole log on the first call, then only what is newer than
/// the newest event held. `follow` keeps the stream open for new lines.
pub fn start(logs: Logs, follow: bool) {
    stop();
    let Ok(controller) = AbortController::new() else { return };
    let signal = controller.signal();
    let generation = CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        c.1 = Some(controller);
        c.0
    });
    spawn_local(async move {
        let mut resumes_without_news = 0;
        loop {
            let before = logs.viewer.with_value(|v| v.store().len());
            let result = load(logs, follow, &signal).await;
            if CURRENT.with(|c| c.borrow().0) != generation {
                return;
            }
            let after = logs.viewer.with_value(|v| v.store().len());
            let status = match result {
                Ok(cut_short) if cut_short => Status::Interrupted("the last line arrived incomplete".into()),
                // A followed stream that ends: the job has finished, or something between us
                // and the server closed it. Ask which; go on following a job that still runs.
                Ok(_) if follow => {
                    resumes_without_news = if after > before { 0 } else { resumes_without_news + 1 };
                    if resumes_without_news < 5 && still_running(logs).await {
                        fetch::next_tick().await;
                        continue;
                    }
                    Status::Complete
                }
                Ok(_) if logs.running.get_value() => Status::Paused,
                Ok(_) => Status::Complete,
                Err(FetchError::Aborted) => return,
                Err(FetchError::Status { status, message }) => Status::Failed(match status {
                    404 => Failure::NotFound(message),
                    400 => Failure::BadQuery(message),
                    s => Failure::Server(s, message),
                }),
                Err(FetchError::Network(message)) if after == 0 => Status::Failed(Failure::Network(message)),
                Err(FetchError::Network(message)) => Status::Interrupted(message),
            };
            logs.status.set(status);
            if logs.target.get_untracked().is_some() && !follow {
                // Looked everywhere: the notice says the line is not here.
                logs.bump();
            }
            return;
        }
    });
}

/// Whether the job still runs, as far as the API says.
async fn still_running(logs: Logs) -> bool {
    let url = format!("/api/v1{}", logs.job_path());
    let mut body = Vec::new();
    let Ok(controller) = AbortController::new() else { return false };
    if fetch::stream(&url, &controller.signal(), |chunk| body.extend_from_slice(&chunk)).await.is_err() {
        return false;
    }
    serde_json::from_slice::<JobDetail>(&body).is_ok_and(|d| !d.job.state.is_terminal())
}

/// One request: streams events into the viewer. `Ok(true)` when the body ended inside a line.
async fn load(logs: Logs, follow: bool, signal: &web_sys::AbortSignal) -> Result<bool, FetchError> {
    let (since, until) = logs.span.get_value();
    // Resuming: from just before the newest event, skipping what is already here.
    let resume = logs.viewer.with_value(|v| {
        v.store().last_time_ns().map(|t| {
            let from = t.saturating_sub(RESUME_OVERLAP_NS);
            (from, v.store().recent_ids(from, 100_000))
        })
    });
    let since = match &resume {
        Some((from, _)) => jiff::Timestamp::from_nanosecond(i128::from(*from)).ok().map(TimeBound::At).or(since),
        None => since,
    };
    let (skip_before, seen): (i64, HashSet<String>) = resume.unwrap_or((i64::MIN, HashSet::new()));
    let query = LogQuery { since, until, follow, ..LogQuery::default() };
    logs.status.set(if follow { Status::Following } else { Status::Loading });

    let mut lines = Lines::default();
    let bad = Rc::new(Cell::new(0u32));
    // A chunk held back by the rate limit is shown by a timer if no other chunk follows soon
    // (a followed log that goes quiet, a stream that stalls): nothing that arrived waits unseen.
    let held_back = Rc::new(Cell::new(false));
    let mut last_commit = fetch::now_ms();
    let result = fetch::stream(&logs.api_url(&query), signal, |chunk| {
        logs.viewer.update_value(|v| {
            lines.push(&chunk, |line| match ndjson::parse(line) {
                Ok(event) => {
                    let t = event.time.as_nanosecond();
                    if t < i128::from(skip_before) || (!seen.is_empty() && seen.contains(&event.id)) {
                        return;
                    }
                    v.push(event);
                }
                Err(_) => bad.set(bad.get() + 1),
            });
        });
        let now = fetch::now_ms();
        if now - last_commit >= COMMIT_MS {
            last_commit = now;
            held_back.set(false);
            commit(logs, bad.get());
        } else if !held_back.replace(true) {
            let (held_back, bad, signal) = (held_back.clone(), bad.clone(), signal.clone());
            set_timeout(
                move || {
                    if held_back.replace(false) && !signal.aborted() {
                        commit(logs, bad.get());
                    }
                },
                Duration::from_millis(COMMIT_MS as u64),
            );
        }
    })
    .await;
    held_back.set(false);
    commit(logs, bad.get());
    result.map(|()| !lines.unfinished().is_empty())
}

/// Shows what arrived: visible rows, layout and counts, the permalink's line once it is here,
/// the newest line while following, and the search over the new events.
fn commit(logs: Logs, bad: u32) {
    logs.viewer.update_value(|v| v.refresh());
    if bad > 0 {
        logs.bad_lines.update(|b| *b = (*b).max(bad));
    }
    logs.bump();
    look_for_target(logs);
    if logs.stick.get_untracked() {
        logs.scroll_to_latest();
    }
    pump_search(logs);
}

/// Goes to the permalink's line if it has arrived.
fn look_for_target(logs: Logs) {
    let Some(id) = logs.target.get_untracked() else { return };
    let from = TARGET_SCANNED.with(Cell::get);
    let (found, scanned) = logs.viewer.with_value(|v| {
        let store = v.store();
        let n = store.len() as u32;
        ((from..n).find(|&i| store.id(i) == id), n)
    });
    TARGET_SCANNED.with(|c| c.set(scanned));
    if let Some(i) = found {
        logs.target.set(None);
        logs.selected.set(Some(i));
        logs.go_to(i, false);
    }
}

/// Begins the permalink's hunt from the address's `#L<id>`.
pub fn target_from_address(logs: Logs) {
    let hash = browser::hash();
    if let Some(id) = hash.strip_prefix('L').filter(|id| !id.is_empty()) {
        TARGET_SCANNED.with(|c| c.set(0));
        logs.stick.set(false);
        logs.target.set(Some(id.to_string()));
    }
}

/// Runs the search over events it has not seen yet, a slice per turn of the event loop.
pub fn pump_search(logs: Logs) {
    if SEARCHING.with(Cell::get) {
        return;
    }
    let needle = logs.needle.get_untracked();
    let done = logs.viewer.with_value(|v| v.search().done(v.store()));
    if needle.is_empty() || done {
        logs.needle_error.set(None);
        return;
    }
    let matcher = match browser::matcher(&needle) {
        Ok(m) => m,
        Err(e) => {
            logs.needle_error.set(Some(e));
            return;
        }
    };
    logs.needle_error.set(None);
    SEARCHING.with(|s| s.set(true));
    spawn_local(async move {
        loop {
            // The needle may change between slices; a new one starts its own pump.
            if logs.needle.get_untracked() != needle {
                break;
            }
            let done = logs.viewer.try_update_value(|v| v.search_step(&*matcher, SEARCH_SLICE)).unwrap_or(true);
            logs.bump();
            if let Some(forward) = logs.pending_step.get_untracked()
                && (done || logs.viewer.with_value(|v| !v.search().hits.is_empty()))
            {
                logs.step_hit(forward);
            }
            if done {
                break;
            }
            fetch::next_tick().await;
        }
        SEARCHING.with(|s| s.set(false));
        // Events may have arrived, or the needle changed, while this pump finished.
        if logs.needle.get_untracked() != needle || !logs.viewer.with_value(|v| v.search().done(v.store())) {
            pump_search(logs);
        }
    });
}
