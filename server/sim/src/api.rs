//! The simulated cluster's HTTP API: discovery, then get / list / watch / create / delete on
//! every served resource, with the paths, query parameters and response shapes of a real
//! API server.
//!
//! Paths are resolved the way the API server's request-info resolver does it (one function over
//! the path segments), rather than as dozens of routes, so every resource gets every verb.

use super::SimStats;
use super::clock::SimClock;
use super::derived;
use super::discovery;
use super::exposition;
use super::logs::LogStore;
use super::pod_log;
use super::resources::{self, ResourceType};
use super::resources::{EVENTS_V1, NODE_METRICS, NODES, PODS, Storage};
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::{Change, ChangeType, Object, Store, StoreError, WatchFrom, object_key};
use super::table;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use http::{HeaderMap, Method, StatusCode, Uri, header};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How long a watch lasts when the client gives no `timeoutSeconds`.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);
/// How often a watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(5);

/// What the API serves: the objects, the containers' logs, and the simulated clock (for
/// `sinceSeconds`).
#[derive(Clone)]
pub struct SimState {
    pub store: Arc<Store>,
    pub logs: Arc<LogStore>,
    pub clock: SimClock,
    /// Fault injection: cut watches after this long.
    pub drop_watches_after: Option<Duration>,
    /// Fault injection: end every log follow this long after it starts, while the container
    /// still runs (as kubelet idle timeouts and log rotation do).
    pub cut_log_follows_after: Option<Duration>,
    pub stats: Arc<SimStats>,
}

impl SimState {
    /// A cluster over `store`, its clock running at `speed`, with no faults injected.
    pub fn new(store: Arc<Store>, speed: f64) -> SimState {
        SimState {
            store,
            logs: Arc::default(),
            clock: SimClock::new(speed),
            drop_watches_after: None,
            cut_log_follows_after: None,
            stats: Arc::default(),
        }
    }
}

/// The API router.
pub fn router(state: SimState) -> Router {
    Router::new()
        .route("/version", get(|| async { Json(discovery::version()) }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route("/sim/stats", get(stats))
        .route("/metrics/cadvisor", get(cadvisor))
        .route("/metrics/kube-state-metrics", get(kube_state_metrics))
        .route("/sim/speed", axum::routing::put(set_speed))
        .route("/api", get(|| async { Json(discovery::core_versions()) }))
        .route("/apis", get(|| async { Json(discovery::group_list()) }))
        .route("/api/{*rest}", axum::routing::any(handle))
        .route("/apis/{*rest}", axum::routing::any(handle))
        .fallback(|| async { ApiError::NoSuchResource })
        .with_state(state)
}

async fn stats(State(state): State<SimState>) -> Json<Value> {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &state.stats;
    Json(json!({
        "watches_started": s.watches_started.load(Relaxed),
        "watches_expired": s.watches_expired.load(Relaxed),
        "watches_dropped": s.watches_dropped.load(Relaxed),
        "log_follows_cut": s.log_follows_cut.load(Relaxed),
        "resource_version": state.store.resource_version(),
    }))
}

/// `GET /metrics/cadvisor`: the kubelet's cAdvisor series, as Prometheus scrapes them.
async fn cadvisor(State(state): State<SimState>) -> Response {
    let (pods, _) = state.store.list(&PODS, None);
    ([(header::CONTENT_TYPE, exposition::CONTENT_TYPE)], exposition::cadvisor(&pods, state.clock.now())).into_response()
}

/// `GET /metrics/kube-state-metrics`: kube-state-metrics' pod series.
async fn kube_state_metrics(State(state): State<SimState>) -> Response {
    let (pods, _) = state.store.list(&PODS, None);
    ([(header::CONTENT_TYPE, exposition::CONTENT_TYPE)], exposition::kube_state(&pods)).into_response()
}

/// `PUT /sim/speed?value=X`: how fast the workload plays from now on (0 freezes it).
async fn set_speed(State(state): State<SimState>, Query(query): Query<HashMap<String, String>>) -> Result<Json<Value>, ApiError> {
    let speed = query
        .get("value")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| ApiError::BadRequest("value must be a number of simulated seconds per second, 0 or more".into()))?;
    state.clock.set_speed(speed);
    Ok(Json(json!({"speed": speed})))
}

/// What a resource path names.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    /// A discovery document.
    Discovery(Value),
    /// A collection: all namespaces when `namespace` is `None`.
    Collection { resource: &'static ResourceType, namespace: Option<&'a str> },
    /// One object.
    Object { resource: &'static ResourceType, namespace: &'a str, name: &'a str, subresource: Option<&'a str> },
}

fn resolve(path: &str) -> Result<Target<'_>, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group] => return discovery::api_group(group).map(Target::Discovery).ok_or(ApiError::NoSuchResource),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Err(ApiError::NoSuchResource),
    };
    let find = |plural: &str| resources::find(group, version, plural).ok_or(ApiError::NoSuchResource);
    match rest {
        [] => discovery::resource_list(group, version).map(Target::Discovery).ok_or(ApiError::NoSuchResource),
        [plural] => Ok(Target::Collection { resource: find(plural)?, namespace: None }),
        ["namespaces", ns, plural, tail @ ..] if !matches!(*plural, "status" | "finalize") => {
            let resource = find(plural)?;
            match tail {
                [] => Ok(Target::Collection { resource, namespace: Some(ns) }),
                [name] => Ok(Target::Object { resource, namespace: ns, name, subresource: None }),
                [name, sub] => Ok(Target::Object { resource, namespace: ns, name, subresource: Some(sub) }),
                _ => Err(ApiError::NoSuchResource),
            }
        }
        [plural, name] => Ok(Target::Object { resource: find(plural)?, namespace: "", name, subresource: None }),
        [plural, name, sub] => Ok(Target::Object { resource: find(plural)?, namespace: "", name, subresource: Some(sub) }),
        _ => Err(ApiError::NoSuchResource),
    }
}

async fn handle(
    State(state): State<SimState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let store = &state.store;
    let stored = |r: &ResourceType| r.storage == Storage::Stored;
    match (resolve(uri.path())?, method) {
        (Target::Discovery(doc), Method::GET) => Ok(Json(doc).into_response()),
        (Target::Collection { resource, namespace }, Method::GET) => {
            let params = ListParams::parse(resource, &query)?;
            if params.watch { watch(&state, resource, namespace, params) } else { list(&state, resource, namespace, params, &headers) }
        }
        (Target::Collection { resource, namespace }, Method::POST) if stored(resource) => create(store, resource, namespace, &body),
        (Target::Object { resource, namespace, name, subresource: None }, Method::GET) if stored(resource) => {
            Ok(Json(store.get(resource, namespace, name)?).into_response())
        }
        (Target::Object { resource, namespace, name, subresource: None }, Method::GET) => {
            let (items, _) = current(&state, resource, Some(namespace).filter(|ns| !ns.is_empty()));
            items
                .into_iter()
                .find(|o| o["metadata"]["name"] == name)
                .map(|o| Json(o).into_response())
                .ok_or_else(|| StoreError::NotFound { plural: resource.plural, name: name.to_string() }.into())
        }
        (Target::Object { resource, namespace, name, subresource: None }, Method::DELETE) if stored(resource) => {
            Ok(Json(store.delete(resource, namespace, name)?).into_response())
        }
        (Target::Object { resource, namespace, name, subresource: Some("log") }, Method::GET) if resource == &PODS => {
            let cut = state.cut_log_follows_after.map(|after| (after, state.stats.clone()));
            pod_log::serve(store, &state.logs, namespace, name, &query, state.clock.now(), cut)
        }
        (Target::Object { subresource: Some(_), .. }, _) => Err(ApiError::NoSuchResource),
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// The query parameters of a list or a watch.
struct ListParams {
    labels: LabelSelector,
    fields: FieldSelector,
    limit: Option<usize>,
    continue_after: Option<(String, String)>,
    watch: bool,
    from: WatchFrom,
    bookmarks: bool,
    timeout: Duration,
}

impl ListParams {
    fn parse(resource: &ResourceType, query: &HashMap<String, String>) -> Result<ListParams, ApiError> {
        let get = |key: &str| query.get(key).map(String::as_str);
        let flag = |key: &str| matches!(get(key), Some("true" | "1"));
        let number = |key: &str| -> Result<Option<u64>, ApiError> {
            get(key)
                .filter(|v| !v.is_empty())
                .map(|v| v.parse::<u64>().map_err(|_| ApiError::BadRequest(format!("invalid value for {key}: {v:?}"))))
                .transpose()
        };
        let supported_fields: &[&str] = match resource.plural {
            "pods" => {
                &["spec.nodeName", "status.phase", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.podIP"]
            }
            "events" if resource.group == "events.k8s.io" => {
                &["regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "reason", "type", "reportingController"]
            }
            "events" => &[
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            ],
            _ => &[],
        };
        let continue_after = get("continue").filter(|t| !t.is_empty()).map(decode_continue).transpose()?;
        Ok(ListParams {
            labels: LabelSelector::parse(get("labelSelector").unwrap_or(""))?,
            fields: FieldSelector::parse(get("fieldSelector").unwrap_or(""), supported_fields)?,
            limit: number("limit")?.filter(|n| *n > 0).map(|n| n as usize),
            continue_after,
            watch: flag("watch"),
            from: match number("resourceVersion")? {
                None | Some(0) => WatchFrom::Now,
                Some(rv) => WatchFrom::Version(rv),
            },
            bookmarks: flag("allowWatchBookmarks"),
            timeout: number("timeoutSeconds")?.map_or(DEFAULT_WATCH_TIMEOUT, Duration::from_secs),
        })
    }

    fn matches(&self, namespace: Option<&str>, object: &Value) -> bool {
        namespace.is_none_or(|ns| object["metadata"]["namespace"].as_str() == Some(ns))
            && self.labels.matches(object)
            && self.fields.matches(object)
    }
}

fn encode_continue(key: &(String, String)) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json!([key.0, key.1])).unwrap_or_default())
}

fn decode_continue(token: &str) -> Result<(String, String), ApiError> {
    let bad = || ApiError::BadRequest(format!("invalid continue token {token:?}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    serde_json::from_slice::<(String, String)>(&bytes).map_err(|_| bad())
}

fn wants_table(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("as=Table"))
}

/// The objects of a resource now, however it is kept, with the store's version.
fn current(state: &SimState, resource: &'static ResourceType, namespace: Option<&str>) -> (Vec<Object>, u64) {
    match resource.storage {
        Storage::Stored => state.store.list(resource, namespace),
        Storage::ConvertedFrom(base) => {
            let (items, rv) = state.store.list(base, namespace);
            (derived::objects(items.iter().map(|o| convert(resource, o))), rv)
        }
        Storage::Computed => {
            let now = state.clock.now();
            let (pods, rv) = state.store.list(&PODS, None);
            let values: Vec<Value> = if resource == &NODE_METRICS {
                state.store.list(&NODES, None).0.iter().map(|n| derived::node_metrics(n, &pods, now)).collect()
            } else {
                pods.iter()
                    .filter(|p| namespace.is_none_or(|ns| p["metadata"]["namespace"] == ns))
                    .filter_map(|p| derived::pod_metrics(p, now))
                    .collect()
            };
            (derived::objects(values), rv)
        }
    }
}

/// An object of a converted resource in that resource's shape.
fn convert(resource: &ResourceType, object: &Value) -> Value {
    if resource == &EVENTS_V1 { derived::event_v1(object) } else { object.clone() }
}

fn list(
    state: &SimState,
    resource: &'static ResourceType,
    namespace: Option<&str>,
    params: ListParams,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (items, rv) = current(state, resource, namespace);
    let mut selected: Vec<Object> = items
        .into_iter()
        .filter(|o| params.matches(namespace, o))
        .filter(|o| match &params.continue_after {
            Some(after) => object_key(resource, o).is_ok_and(|key| &key > after),
            None => true,
        })
        .collect();
    let mut continue_token = None;
    if let Some(limit) = params.limit.filter(|l| selected.len() > *l) {
        selected.truncate(limit);
        continue_token = selected.last().and_then(|o| object_key(resource, o).ok()).map(|k| encode_continue(&k));
    }
    if wants_table(headers) {
        return Ok(Json(table::table(resource, &selected, rv, continue_token.as_deref(), Timestamp::now())).into_response());
    }
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
    }
    let body = ListBody { kind: format!("{}List", resource.kind), api_version: resource.api_version(), metadata, items: &selected };
    // Straight to bytes: building a `Value` first would copy every object once more.
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::BadRequest(format!("cannot encode the list: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// A list response, serialized from the stored objects without copying them.
#[derive(serde::Serialize)]
struct ListBody<'a> {
    kind: String,
    #[serde(rename = "apiVersion")]
    api_version: String,
    metadata: Value,
    items: &'a [Object],
}

fn create(store: &Store, resource: &'static ResourceType, namespace: Option<&str>, body: &[u8]) -> Result<Response, ApiError> {
    let mut object: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("the body of the request was in an unknown format: {e}")))?;
    if !object["metadata"].is_object() {
        return Err(StoreError::Invalid(format!("{} is invalid: metadata: Required value", resource.kind)).into());
    }
    if let Some(ns) = namespace {
        match object["metadata"]["namespace"].as_str() {
            Some(given) if given != ns => {
                return Err(ApiError::BadRequest(format!(
                    "the namespace of the provided object does not match the namespace sent on the request ({given} != {ns})"
                )));
            }
            _ => object["metadata"]["namespace"] = json!(ns),
        }
    }
    let created = store.create(resource, object)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// One line of a watch stream.
fn watch_line(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

/// The watch event a change becomes for this watcher, if any: an object that starts or stops
/// matching the selectors is ADDED or DELETED for it.
fn event_for(resource: &ResourceType, change: &Change, namespace: Option<&str>, params: &ListParams) -> Option<Bytes> {
    let converted = resource.storage != Storage::Stored;
    let object = if converted { Cow::Owned(convert(resource, &change.object)) } else { Cow::Borrowed(&*change.object) };
    let now = params.matches(namespace, &object);
    let before = change
        .previous
        .as_ref()
        .map(|p| if converted { params.matches(namespace, &convert(resource, p)) } else { params.matches(namespace, p) });
    let kind = match (change.change, before, now) {
        (ChangeType::Modified, Some(true), true) => "MODIFIED",
        (ChangeType::Modified, Some(false), true) => "ADDED",
        (ChangeType::Modified, Some(true), false) => "DELETED",
        (ChangeType::Added | ChangeType::Deleted, _, true) => change.change.as_str(),
        _ => return None,
    };
    if converted {
        return Some(watch_line(kind, &object));
    }
    // The object's JSON is shared by every watcher: only the envelope is written per watcher.
    let encoded = change.encoded();
    let mut line = Vec::with_capacity(encoded.len() + 40);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    line.extend_from_slice(encoded);
    line.extend_from_slice(b"}\n");
    Some(Bytes::from(line))
}

fn watch(state: &SimState, resource: &'static ResourceType, namespace: Option<&str>, params: ListParams) -> Result<Response, ApiError> {
    use std::sync::atomic::Ordering::Relaxed;
    let source = match resource.storage {
        Storage::Stored => resource,
        Storage::ConvertedFrom(base) => base,
        Storage::Computed => return Err(ApiError::MethodNotAllowed),
    };
    state.stats.watches_started.fetch_add(1, Relaxed);
    let start = match state.store.watch(source, params.from) {
        Ok(start) => start,
        // A real server opens the stream and sends the 410 as an ERROR event.
        Err(err @ StoreError::Expired { .. }) => {
            state.stats.watches_expired.fetch_add(1, Relaxed);
            let line = watch_line("ERROR", &ApiError::from(err).status());
            return Ok(stream_response(futures::stream::iter([Ok::<_, Infallible>(line)])));
        }
        Err(other) => return Err(other.into()),
    };
    let namespace = namespace.map(str::to_string);
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(256);
    let cut_after = state.drop_watches_after;
    let stats = state.stats.clone();
    tokio::spawn(async move {
        let mut seen = start.rv;
        for change in &start.backlog {
            if let Some(line) = event_for(resource, change, namespace.as_deref(), &params)
                && tx.send(Ok(line)).await.is_err()
            {
                return;
            }
        }
        let deadline = tokio::time::sleep(params.timeout);
        tokio::pin!(deadline);
        let cut = tokio::time::sleep(cut_after.unwrap_or(Duration::MAX / 4));
        tokio::pin!(cut);
        let mut bookmarks = tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
        let mut live = start.live;
        loop {
            let line = tokio::select! {
                _ = &mut deadline => return,
                _ = &mut cut, if cut_after.is_some() => {
                    // An error ends the body without its terminator: the client sees a broken
                    // connection, not a clean end.
                    stats.watches_dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let _ = tx.send(Err(std::io::Error::other("watch cut by fault injection"))).await;
                    return;
                }
                _ = bookmarks.tick(), if params.bookmarks => Some(watch_line(
                    "BOOKMARK",
                    &json!({"kind": resource.kind, "apiVersion": resource.api_version(), "metadata": {"resourceVersion": seen.to_string()}}),
                )),
                received = live.recv() => match received {
                    Ok(change) => {
                        seen = seen.max(change.rv);
                        if change.resource == source { event_for(resource, &change, namespace.as_deref(), &params) } else { None }
                    }
                    // Fell too far behind: end the stream; the client resumes from its last version.
                    Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            if let Some(line) = line
                && tx.send(Ok(line)).await.is_err()
            {
                return;
            }
        }
    });
    Ok(stream_response(tokio_stream::wrappers::ReceiverStream::new(rx)))
}

fn stream_response<S, E>(stream: S) -> Response
where
    S: futures::Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<axum::BoxError>,
{
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{NAMESPACES, PODS, SPARK_APPLICATIONS};

    #[test]
    fn paths_resolve_like_the_api_server() {
        let pods = Target::Collection { resource: &PODS, namespace: None };
        assert_eq!(resolve("/api/v1/pods").unwrap(), pods);
        assert_eq!(
            resolve("/api/v1/namespaces/ns/pods/p/log").unwrap(),
            Target::Object { resource: &PODS, namespace: "ns", name: "p", subresource: Some("log") }
        );
        assert_eq!(
            resolve("/api/v1/namespaces/ns").unwrap(),
            Target::Object { resource: &NAMESPACES, namespace: "", name: "ns", subresource: None }
        );
        assert_eq!(
            resolve("/apis/sparkoperator.k8s.io/v1beta2/namespaces/ns/sparkapplications").unwrap(),
            Target::Collection { resource: &SPARK_APPLICATIONS, namespace: Some("ns") }
        );
        assert!(matches!(resolve("/apis/sparkoperator.k8s.io/v1beta2").unwrap(), Target::Discovery(_)));
        assert!(matches!(resolve("/api/v1/widgets"), Err(ApiError::NoSuchResource)));
        assert!(matches!(resolve("/apis/nope/v1/things"), Err(ApiError::NoSuchResource)));
    }

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let key = ("ns".to_string(), "pod-1".to_string());
        assert_eq!(decode_continue(&encode_continue(&key)).unwrap(), key);
        assert!(decode_continue("%%%").is_err());
    }
}

#[cfg(test)]
mod http_tests {
    //! The router exercised without a socket.
    use super::*;
    use http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn router(store: Arc<Store>) -> Router {
        super::router(SimState::new(store, 1.0))
    }

    fn store_with_pods() -> Arc<Store> {
        let store = Arc::new(Store::default());
        for (name, role) in [("a-driver", "driver"), ("a-exec-1", "executor"), ("a-exec-2", "executor")] {
            store
                .create(
                    &PODS,
                    json!({"metadata": {"name": name, "namespace": "ns", "labels": {"spark-role": role}}, "status": {"phase": "Running"}}),
                )
                .unwrap();
        }
        store
    }

    async fn get(store: &Arc<Store>, uri: &str, accept: &str) -> (StatusCode, Value) {
        let request = Request::get(uri).header(header::ACCEPT, accept).body(Body::empty()).unwrap();
        let response = router(store.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn lists_select_by_label_and_page_with_continue() {
        let store = store_with_pods();
        let (status, list) =
            get(&store, "/api/v1/namespaces/ns/pods?labelSelector=spark-role%3Dexecutor&limit=1", "application/json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["kind"], "PodList");
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        let token = list["metadata"]["continue"].as_str().unwrap().to_string();
        let (_, rest) = get(
            &store,
            &format!("/api/v1/namespaces/ns/pods?labelSelector=spark-role%3Dexecutor&limit=1&continue={token}"),
            "application/json",
        )
        .await;
        assert_eq!(rest["items"][0]["metadata"]["name"], "a-exec-2");
        assert!(rest["metadata"]["continue"].is_null());
    }

    #[tokio::test]
    async fn kubectl_gets_a_table() {
        let store = store_with_pods();
        let (_, table) = get(&store, "/api/v1/pods", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json").await;
        assert_eq!(table["kind"], "Table");
        assert_eq!(table["rows"].as_array().unwrap().len(), 3);
        assert_eq!(table["rows"][0]["object"]["metadata"]["namespace"], "ns");
    }

    #[tokio::test]
    async fn errors_are_status_objects_with_the_right_codes() {
        let store = store_with_pods();
        let cases = [
            ("/api/v1/pods?labelSelector=a%20in%20b", StatusCode::BAD_REQUEST, "BadRequest"),
            ("/api/v1/pods?fieldSelector=spec.bogus%3D1", StatusCode::BAD_REQUEST, "BadRequest"),
            ("/api/v1/pods?limit=many", StatusCode::BAD_REQUEST, "BadRequest"),
            ("/api/v1/namespaces/ns/pods/missing", StatusCode::NOT_FOUND, "NotFound"),
            ("/api/v1/widgets", StatusCode::NOT_FOUND, "NotFound"),
            ("/apis/nope.io/v1", StatusCode::NOT_FOUND, "NotFound"),
        ];
        for (uri, code, reason) in cases {
            let (status, body) = get(&store, uri, "application/json").await;
            assert_eq!((status, body["kind"].as_str(), body["reason"].as_str()), (code, Some("Status"), Some(reason)), "{uri}: {body}");
            assert_eq!(body["code"], code.as_u16(), "{uri}");
        }
    }

    #[tokio::test]
    async fn a_malformed_body_is_a_bad_request_and_a_duplicate_a_conflict() {
        let store = store_with_pods();
        let post = |body: &'static str| {
            Request::post("/api/v1/namespaces/ns/pods").header(header::CONTENT_TYPE, "application/json").body(Body::from(body)).unwrap()
        };
        let response = router(store.clone()).oneshot(post("{not json")).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let response = router(store.clone()).oneshot(post(r#"{"metadata": {"name": "a-driver"}}"#)).await.unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let response = router(store.clone()).oneshot(post(r#"{"metadata": {}}"#)).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    /// Reads watch lines until `n` arrived.
    async fn watch_lines(store: &Arc<Store>, uri: &str, n: usize) -> Vec<Value> {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let response = router(store.clone()).oneshot(request).await.unwrap();
        let mut body = response.into_body();
        let mut buffer = Vec::new();
        let mut lines = Vec::new();
        while lines.len() < n {
            let frame = tokio::time::timeout(Duration::from_secs(5), body.frame()).await.expect("watch event in time");
            let Some(Ok(frame)) = frame else { break };
            buffer.extend_from_slice(frame.data_ref().map(|d| d.as_ref()).unwrap_or_default());
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                lines.push(serde_json::from_slice(&line).unwrap());
            }
        }
        lines
    }

    /// Regression: resources compared by address missed every live event after a resume.
    #[tokio::test]
    async fn a_watch_from_a_version_gets_history_then_live_changes() {
        let store = store_with_pods();
        let rv = store.resource_version();
        store.update(&PODS, "ns", "a-exec-1", |p| p["status"]["phase"] = json!("Succeeded")).unwrap();
        let writer = store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            writer.delete(&PODS, "ns", "a-exec-2").unwrap();
        });
        let lines = watch_lines(&store, &format!("/api/v1/namespaces/ns/pods?watch=true&resourceVersion={rv}"), 2).await;
        assert_eq!(lines[0]["type"], "MODIFIED");
        assert_eq!(lines[0]["object"]["status"]["phase"], "Succeeded");
        assert_eq!(lines[1]["type"], "DELETED");
        assert_eq!(lines[1]["object"]["metadata"]["name"], "a-exec-2");
    }

    #[tokio::test]
    async fn a_selector_watch_sees_objects_leave_and_an_old_version_is_gone() {
        let store = store_with_pods();
        let rv = store.resource_version();
        store.update(&PODS, "ns", "a-exec-1", |p| p["metadata"]["labels"]["spark-role"] = json!("other")).unwrap();
        let lines = watch_lines(&store, &format!("/api/v1/pods?watch=1&labelSelector=spark-role%3Dexecutor&resourceVersion={rv}"), 1).await;
        assert_eq!((lines[0]["type"].as_str(), lines[0]["object"]["metadata"]["name"].as_str()), (Some("DELETED"), Some("a-exec-1")));

        let small = Arc::new(Store::with_history(1));
        for name in ["x", "y", "z"] {
            small.create(&PODS, json!({"metadata": {"name": name, "namespace": "ns"}})).unwrap();
        }
        let lines = watch_lines(&small, "/api/v1/pods?watch=true&resourceVersion=1001", 1).await;
        assert_eq!(lines[0]["type"], "ERROR");
        assert_eq!(lines[0]["object"]["code"], 410);
        assert_eq!(lines[0]["object"]["reason"], "Expired");
    }
}
