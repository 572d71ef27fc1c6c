//! `GET .../pods/{name}/log`: the pod log subresource, with the kubelet's parameters, output
//! and error messages (`sinceTime` in whole seconds and inclusive, `tailLines` of the current
//! file only, 400 while a container waits to start, 404 once the pod is deleted; the table is in
//! `REFERENCE.md`, "The pod log API").

use super::logs::{LogBuffer, LogStore};
use super::resources::PODS;
use super::status::ApiError;
use super::store::{Store, StoreError};
use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::mpsc;

/// How many lines one read takes from a buffer before yielding.
const BATCH: usize = 512;

/// The query of one log request, checked.
#[derive(Debug, Default)]
struct LogQuery {
    container: Option<String>,
    follow: bool,
    timestamps: bool,
    previous: bool,
    since: Option<Timestamp>,
    tail: Option<usize>,
    limit_bytes: Option<usize>,
}

fn invalid(message: &str) -> ApiError {
    ApiError::Store(StoreError::Invalid(message.to_string()))
}

impl LogQuery {
    fn parse(query: &HashMap<String, String>, now: Timestamp) -> Result<LogQuery, ApiError> {
        let get = |k: &str| query.get(k).map(String::as_str).filter(|v| !v.is_empty());
        let flag = |k: &str| matches!(get(k), Some("true" | "1"));
        let int = |k: &str| -> Result<Option<i64>, ApiError> {
            get(k).map(|v| v.parse::<i64>().map_err(|_| ApiError::BadRequest(format!("invalid value for {k}: {v:?}")))).transpose()
        };
        let since_seconds = int("sinceSeconds")?;
        let since_time = get("sinceTime")
            .map(|v| v.parse::<Timestamp>().map_err(|_| ApiError::BadRequest(format!("invalid value for sinceTime: {v:?}"))))
            .transpose()?;
        if since_seconds.is_some() && since_time.is_some() {
            return Err(invalid("PodLogOptions is invalid: at most one of `sinceTime` or `sinceSeconds` may be specified"));
        }
        let since = match since_seconds {
            Some(s) if s < 1 => return Err(invalid("PodLogOptions is invalid: sinceSeconds: Invalid value: must be greater than 0")),
            Some(s) => Some(now.saturating_sub(SignedDuration::from_secs(s)).unwrap_or(now)),
            None => since_time,
        };
        let tail = match int("tailLines")? {
            Some(n) if n < 0 => {
                return Err(invalid("PodLogOptions is invalid: tailLines: Invalid value: must be greater than or equal to 0"));
            }
            other => other.map(|n| n as usize),
        };
        let limit_bytes = match int("limitBytes")? {
            Some(n) if n < 1 => return Err(invalid("PodLogOptions is invalid: limitBytes: Invalid value: must be greater than 0")),
            other => other.map(|n| n as usize),
        };
        Ok(LogQuery {
            container: get("container").map(str::to_string),
            follow: flag("follow"),
            timestamps: flag("timestamps"),
            previous: flag("previous"),
            since,
            tail,
            limit_bytes,
        })
    }
}

/// Kubernetes' `RFC3339NanoFixed`: always nine fractional digits.
pub fn rfc3339_nano_fixed(t: Timestamp) -> String {
    format!("{}.{:09}Z", t.strftime("%Y-%m-%dT%H:%M:%S"), t.subsec_nanosecond())
}

/// The buffer the request names, or the kubelet's error for why there is none.
fn buffer_for(pod: &Value, logs: &LogStore, query: &LogQuery) -> Result<Arc<LogBuffer>, ApiError> {
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default();
    let namespace = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let names: Vec<&str> = pod["spec"]["containers"].as_array().into_iter().flatten().filter_map(|c| c["name"].as_str()).collect();
    let container = match (&query.container, names.as_slice()) {
        (Some(c), _) => c.as_str(),
        (None, [only]) => only,
        (None, _) => {
            return Err(ApiError::BadRequest(format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    if !names.contains(&container) {
        return Err(ApiError::BadRequest(format!("container {container} is not valid for pod {pod_name}")));
    }
    if query.previous {
        return logs
            .existing(namespace, pod_name, container, true)
            .ok_or_else(|| ApiError::BadRequest(format!("previous terminated container \"{container}\" in pod \"{pod_name}\" not found")));
    }
    let status = pod["status"]["containerStatuses"].as_array().into_iter().flatten().find(|s| s["name"] == container);
    let waiting = match status {
        None => Some("ContainerCreating"),
        Some(s) if s["state"]["waiting"].is_object() => Some(s["state"]["waiting"]["reason"].as_str().unwrap_or("ContainerCreating")),
        Some(_) => None,
    };
    if let Some(reason) = waiting {
        return Err(ApiError::BadRequest(format!("container \"{container}\" in pod \"{pod_name}\" is waiting to start: {reason}")));
    }
    Ok(logs.existing(namespace, pod_name, container, false).unwrap_or_else(|| {
        // Ran, wrote nothing.
        let empty = logs.current(namespace, pod_name, container);
        if status.is_some_and(|s| s["state"]["terminated"].is_object()) {
            empty.finish();
        }
        empty
    }))
}

/// Serves a pod's log.
pub fn serve(
    store: &Store,
    logs: &LogStore,
    namespace: &str,
    name: &str,
    query: &HashMap<String, String>,
    now: Timestamp,
    cut: Option<(std::time::Duration, Arc<super::SimStats>)>,
) -> Result<Response, ApiError> {
    let query = LogQuery::parse(query, now)?;
    let pod = store.get(&PODS, namespace, name)?;
    let buffer = buffer_for(&pod, logs, &query)?;
    let mut start = query.tail.map_or(0, |n| buffer.tail_start(n));
    if let Some(since) = query.since {
        start = start.max(buffer.since_start(since));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    let deadline = cut.as_ref().map(|(after, _)| tokio::time::Instant::now() + *after);
    tokio::spawn(async move {
        let mut next = start;
        let mut budget = query.limit_bytes.unwrap_or(usize::MAX);
        let mut changed = buffer.subscribe();
        loop {
            let (lines, ended) = buffer.read_from(next, BATCH);
            if let Some(last) = lines.last() {
                next = last.seq + 1;
            }
            let mut chunk = Vec::new();
            for line in &lines {
                if query.timestamps {
                    chunk.extend_from_slice(rfc3339_nano_fixed(line.time).as_bytes());
                    chunk.push(b' ');
                }
                chunk.extend_from_slice(line.text.as_bytes());
                chunk.push(b'\n');
            }
            if chunk.len() >= budget {
                chunk.truncate(budget);
                let _ = tx.send(Bytes::from(chunk)).await;
                return;
            }
            budget -= chunk.len();
            if query.follow && !chunk.is_empty() && deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                // Cut mid-line, as a dropped connection would.
                chunk.truncate(chunk.len() / 2);
                let _ = tx.send(Bytes::from(chunk)).await;
                if let Some((_, stats)) = &cut {
                    stats.log_follows_cut.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                return;
            }
            if !chunk.is_empty() && tx.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
            if ended || (lines.len() < BATCH && !query.follow) {
                return;
            }
            if let Some(deadline) = deadline.filter(|_| query.follow) {
                if tokio::time::Instant::now() >= deadline {
                    if let Some((_, stats)) = &cut {
                        stats.log_follows_cut.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    return;
                }
                if lines.is_empty() && tokio::time::timeout_at(deadline, changed.changed()).await.is_ok_and(|r| r.is_err()) {
                    return;
                }
                continue;
            }
            if lines.is_empty() && changed.changed().await.is_err() {
                return;
            }
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok::<_, Infallible>));
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/plain")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

use futures::StreamExt;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_always_have_nine_digits() {
        let t: Timestamp = "2026-11-21T06:02:23.1Z".parse().unwrap();
        assert_eq!(rfc3339_nano_fixed(t), "2026-11-21T06:02:23.100000000Z");
    }

    #[test]
    fn bad_parameters_are_refused() {
        let now = Timestamp::now();
        let q = |pairs: &[(&str, &str)]| LogQuery::parse(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), now);
        assert!(q(&[("sinceSeconds", "10"), ("sinceTime", "2026-11-21T06:02:23Z")]).is_err());
        assert!(q(&[("limitBytes", "0")]).is_err());
        assert!(q(&[("tailLines", "-1")]).is_err());
        assert!(q(&[("sinceTime", "yesterday")]).is_err());
        let ok = q(&[("sinceSeconds", "60"), ("tailLines", "5"), ("follow", "true")]).unwrap();
        assert_eq!(ok.since, Some(now.saturating_sub(SignedDuration::from_secs(60)).unwrap()));
        assert!(ok.follow && ok.tail == Some(5));
    }
}

#[cfg(test)]
mod http_tests {
    //! The log endpoint through the router, without a socket.
    use crate::resources::PODS;
    use crate::store::Store;
    use crate::{SimState, api};
    use axum::body::Body;
    use http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use jiff::Timestamp;
    use serde_json::json;
    use std::sync::Arc;
    use tower::ServiceExt;

    fn cluster() -> (SimState, Timestamp) {
        let state = SimState::new(Arc::new(Store::default()), 0.0);
        let pod = json!({"metadata": {"name": "p", "namespace": "ns"}, "spec": {"containers": [{"name": "c"}]},
                         "status": {"phase": "Running", "containerStatuses": [{"name": "c", "state": {"running": {}}}]}});
        state.store.create(&PODS, pod).unwrap();
        let now = state.clock.now();
        let log = state.logs.current("ns", "p", "c");
        for (i, text) in ["one", "two", "three", "four"].into_iter().enumerate() {
            log.push(now.checked_sub(jiff::SignedDuration::from_secs(40 - 10 * i as i64)).unwrap(), text);
        }
        (state, now)
    }

    async fn get(state: &SimState, query: &str) -> (StatusCode, String) {
        let request = Request::get(format!("/api/v1/namespaces/ns/pods/p/log?{query}")).body(Body::empty()).unwrap();
        let response = api::router(state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).to_string())
    }

    #[tokio::test]
    async fn since_seconds_limit_bytes_and_tail() {
        let (state, _) = cluster();
        assert_eq!(get(&state, "").await, (StatusCode::OK, "one\ntwo\nthree\nfour\n".into()));
        assert_eq!(get(&state, "sinceSeconds=15").await.1, "four\n");
        assert_eq!(get(&state, "sinceSeconds=25").await.1, "three\nfour\n");
        assert_eq!(get(&state, "limitBytes=6").await.1, "one\ntw");
        assert_eq!(get(&state, "tailLines=1").await.1, "four\n");
        // The kubelet takes the tail first, then applies since.
        assert_eq!(get(&state, "tailLines=3&sinceSeconds=35").await.1, "two\nthree\nfour\n");
        assert_eq!(get(&state, "tailLines=3&sinceSeconds=25").await.1, "three\nfour\n");
        let (status, body) = get(&state, "container=nope").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("container nope is not valid for pod p"), "{body}");
        assert_eq!(get(&state, "limitBytes=0").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
