//! The simulated cluster's object store: objects by resource type, one resourceVersion counter,
//! a bounded history of changes for watches that resume, and a fan-out to live watchers.
//!
//! Like etcd behind a real API server, every write gets the next resourceVersion, and a watch
//! can resume from any version still in the history; an older one is answered with 410 Expired
//! so that clients re-list, which is the path real clients must handle after compaction.

use super::resources::ResourceType;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// Objects are immutable once stored; readers share them.
pub type Object = Arc<Value>;

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects.
pub type ObjectKey = (String, String);

/// How many changes a watch can resume from by default: minutes of a busy cluster, more than
/// the API server's own watch cache keeps, and a bound on the old versions it holds in memory.
pub const DEFAULT_HISTORY: usize = 10_000;
/// How far a live watcher may fall behind before it is cut off (it then resumes or re-lists).
const FANOUT_CAPACITY: usize = 16_384;

/// The type of one change, as watch events name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One committed write.
#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub resource: &'static ResourceType,
    pub change: ChangeType,
    pub object: Object,
    /// The object before a modification: a watch with a selector needs it to tell an object
    /// that starts or stops matching (sent as ADDED or DELETED, as a real server does).
    pub previous: Option<Object>,
    /// The object as JSON, encoded once for however many watchers send it.
    encoded: std::sync::OnceLock<bytes::Bytes>,
}

impl Change {
    fn new(rv: u64, resource: &'static ResourceType, change: ChangeType, object: Object, previous: Option<Object>) -> Change {
        Change { rv, resource, change, object, previous, encoded: std::sync::OnceLock::new() }
    }

    /// The object's JSON.
    pub fn encoded(&self) -> &bytes::Bytes {
        self.encoded.get_or_init(|| serde_json::to_vec(&*self.object).unwrap_or_default().into())
    }
}

/// Why a store operation was refused; each maps to one Kubernetes Status reason.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// No object of that type at that key (404 NotFound).
    #[error("{plural} \"{name}\" not found")]
    NotFound { plural: &'static str, name: String },
    /// Create of a key that exists (409 AlreadyExists).
    #[error("{plural} \"{name}\" already exists")]
    AlreadyExists { plural: &'static str, name: String },
    /// The object is not acceptable (422 Invalid).
    #[error("{0}")]
    Invalid(String),
    /// The resourceVersion asked for is older than the history kept (410 Expired).
    #[error("too old resource version: {requested} ({oldest})")]
    Expired { requested: u64, oldest: u64 },
}

/// Where a watch starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchFrom {
    /// Current objects first (as ADDED events), then changes: resourceVersion unset or "0".
    Now,
    /// Changes after this resourceVersion.
    Version(u64),
}

/// What a watch gets: events to send first, then the live feed.
pub struct WatchStart {
    /// The store's version when the watch started: everything up to it is in `backlog`.
    pub rv: u64,
    /// Either the current objects (as ADDED) or the history after the requested version.
    pub backlog: Vec<Arc<Change>>,
    pub live: broadcast::Receiver<Arc<Change>>,
}

/// The store. Cheap to share behind an `Arc`; every method takes a short lock, never across I/O.
pub struct Store {
    state: Mutex<State>,
    fanout: broadcast::Sender<Arc<Change>>,
}

struct State {
    rv: u64,
    next_uid: u64,
    /// Objects by `(group, plural)`.
    objects: HashMap<(&'static str, &'static str), BTreeMap<ObjectKey, Object>>,
    /// Owner uid -> the objects whose ownerReferences name it, for the delete cascade.
    owned: HashMap<String, Vec<(&'static ResourceType, ObjectKey)>>,
    history: VecDeque<Arc<Change>>,
    history_limit: usize,
    /// Changes up to and including this version are no longer in `history`.
    compacted: u64,
}

impl Default for Store {
    fn default() -> Self {
        Store::with_history(DEFAULT_HISTORY)
    }
}

impl Store {
    /// A store that keeps the last `history_limit` changes for resuming watches.
    pub fn with_history(history_limit: usize) -> Store {
        Store {
            state: Mutex::new(State {
                rv: 1000,
                next_uid: 1,
                objects: HashMap::new(),
                owned: HashMap::new(),
                history: VecDeque::new(),
                history_limit: history_limit.max(1),
                compacted: 1000,
            }),
            fanout: broadcast::channel(FANOUT_CAPACITY).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-written object: every write builds
        // the new value first and inserts it in one step. So a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The newest resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// Creates an object; fills uid, resourceVersion and creationTimestamp.
    pub fn create(&self, resource: &'static ResourceType, mut object: Value) -> Result<Object, StoreError> {
        let key = object_key(resource, &object)?;
        let mut state = self.lock();
        if state.bucket(resource).contains_key(&key) {
            return Err(StoreError::AlreadyExists { plural: resource.plural, name: key.1 });
        }
        let uid = state.next_uid;
        state.next_uid += 1;
        let meta = metadata_mut(&mut object)?;
        meta.insert("uid".into(), json!(format!("00000000-0000-4000-8000-{uid:012x}")));
        if !meta.contains_key("creationTimestamp") {
            meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
        }
        object["apiVersion"] = json!(resource.api_version());
        object["kind"] = json!(resource.kind);
        Ok(state.commit(&self.fanout, resource, key, ChangeType::Added, object, None))
    }

    /// Replaces an existing object's content with the result of `edit` on a copy of it.
    /// Identity fields (name, namespace, uid, creationTimestamp) are kept whatever `edit` does.
    pub fn update(
        &self,
        resource: &'static ResourceType,
        namespace: &str,
        name: &str,
        edit: impl FnOnce(&mut Value),
    ) -> Result<Object, StoreError> {
        let key = (namespace.to_string(), name.to_string());
        let mut state = self.lock();
        let Some(current) = state.bucket(resource).get(&key).cloned() else {
            return Err(StoreError::NotFound { plural: resource.plural, name: name.to_string() });
        };
        let mut next = (*current).clone();
        edit(&mut next);
        for field in ["name", "namespace", "uid", "creationTimestamp"] {
            next["metadata"][field] = current["metadata"][field].clone();
        }
        if next == *current {
            return Ok(current);
        }
        Ok(state.commit(&self.fanout, resource, key, ChangeType::Modified, next, Some(current)))
    }

    /// Deletes an object, then, as the garbage collector does, every object it owns.
    pub fn delete(&self, resource: &'static ResourceType, namespace: &str, name: &str) -> Result<Object, StoreError> {
        let mut state = self.lock();
        let deleted = state.remove(&self.fanout, resource, namespace, name)?;
        let mut owners = vec![deleted["metadata"]["uid"].clone()];
        while let Some(owner) = owners.pop() {
            for (dependent_type, key) in state.dependents_of(&owner) {
                if let Ok(gone) = state.remove(&self.fanout, dependent_type, &key.0, &key.1) {
                    owners.push(gone["metadata"]["uid"].clone());
                }
            }
        }
        Ok(deleted)
    }

    /// One object.
    pub fn get(&self, resource: &'static ResourceType, namespace: &str, name: &str) -> Result<Object, StoreError> {
        let key = (namespace.to_string(), name.to_string());
        self.lock()
            .bucket(resource)
            .get(&key)
            .cloned()
            .ok_or_else(|| StoreError::NotFound { plural: resource.plural, name: name.to_string() })
    }

    /// Every object of a type, in one namespace or all, in key order, with the store's version.
    pub fn list(&self, resource: &'static ResourceType, namespace: Option<&str>) -> (Vec<Object>, u64) {
        let mut state = self.lock();
        let rv = state.rv;
        let bucket = state.bucket(resource);
        let items = match namespace {
            Some(ns) => bucket.range((ns.to_string(), String::new())..).take_while(|((n, _), _)| n == ns).map(|(_, o)| o.clone()).collect(),
            None => bucket.values().cloned().collect(),
        };
        (items, rv)
    }

    /// Starts a watch on one type; the caller filters by namespace and selectors.
    pub fn watch(&self, resource: &'static ResourceType, from: WatchFrom) -> Result<WatchStart, StoreError> {
        let mut state = self.lock();
        // Subscribing under the lock means no commit falls between the backlog and the feed.
        let live = self.fanout.subscribe();
        let backlog = match from {
            WatchFrom::Now => {
                let rv = state.rv;
                state
                    .bucket(resource)
                    .values()
                    .map(|object| Arc::new(Change::new(rv, resource, ChangeType::Added, object.clone(), None)))
                    .collect()
            }
            WatchFrom::Version(requested) if requested < state.compacted => {
                return Err(StoreError::Expired { requested, oldest: state.compacted + 1 });
            }
            WatchFrom::Version(requested) => state.history.iter().filter(|c| c.rv > requested && c.resource == resource).cloned().collect(),
        };
        Ok(WatchStart { rv: state.rv, backlog, live })
    }
}

impl State {
    fn bucket(&mut self, resource: &'static ResourceType) -> &mut BTreeMap<ObjectKey, Object> {
        self.objects.entry((resource.group, resource.plural)).or_default()
    }

    fn commit(
        &mut self,
        fanout: &broadcast::Sender<Arc<Change>>,
        resource: &'static ResourceType,
        key: ObjectKey,
        change: ChangeType,
        mut object: Value,
        previous: Option<Object>,
    ) -> Object {
        self.rv += 1;
        let rv = self.rv;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let object = Arc::new(object);
        self.index_owners(resource, &key, change, &object, previous.as_deref());
        match change {
            ChangeType::Deleted => self.bucket(resource).remove(&key),
            _ => self.bucket(resource).insert(key, object.clone()),
        };
        let entry = Arc::new(Change::new(rv, resource, change, object.clone(), previous));
        self.history.push_back(entry.clone());
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = fanout.send(entry);
        object
    }

    fn remove(
        &mut self,
        fanout: &broadcast::Sender<Arc<Change>>,
        resource: &'static ResourceType,
        namespace: &str,
        name: &str,
    ) -> Result<Object, StoreError> {
        let key = (namespace.to_string(), name.to_string());
        let Some(current) = self.bucket(resource).remove(&key) else {
            return Err(StoreError::NotFound { plural: resource.plural, name: name.to_string() });
        };
        // The deletion gets its own resourceVersion. An object no watcher history still holds
        // is taken as it is rather than copied: deleting old events costs next to nothing.
        let last = Arc::try_unwrap(current).unwrap_or_else(|shared| (*shared).clone());
        Ok(self.commit(fanout, resource, key, ChangeType::Deleted, last, None))
    }

    /// Objects whose ownerReferences name `owner_uid` (taken out of the index: they are
    /// about to be deleted).
    fn dependents_of(&mut self, owner_uid: &Value) -> Vec<(&'static ResourceType, ObjectKey)> {
        owner_uid.as_str().and_then(|uid| self.owned.remove(uid)).unwrap_or_default()
    }

    /// Keeps the owner index in step with one committed change.
    fn index_owners(
        &mut self,
        resource: &'static ResourceType,
        key: &ObjectKey,
        change: ChangeType,
        object: &Value,
        previous: Option<&Value>,
    ) {
        let owners = |o: &Value| -> Vec<String> {
            o["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["uid"].as_str().map(str::to_string))
                .collect()
        };
        let unlink = |state: &mut State, uid: String| {
            if let Some(list) = state.owned.get_mut(&uid) {
                list.retain(|(r, k)| !(*r == resource && k == key));
                if list.is_empty() {
                    state.owned.remove(&uid);
                }
            }
        };
        for uid in previous.map(owners).unwrap_or_default() {
            unlink(self, uid);
        }
        match change {
            ChangeType::Deleted => {
                for uid in owners(object) {
                    unlink(self, uid);
                }
            }
            _ => {
                for uid in owners(object) {
                    self.owned.entry(uid).or_default().push((resource, key.clone()));
                }
            }
        }
    }
}

fn metadata_mut(object: &mut Value) -> Result<&mut serde_json::Map<String, Value>, StoreError> {
    object.get_mut("metadata").and_then(Value::as_object_mut).ok_or_else(|| StoreError::Invalid("metadata: Required value".into()))
}

/// The store key of an object, checking that name and namespace are present where required.
pub fn object_key(resource: &ResourceType, object: &Value) -> Result<ObjectKey, StoreError> {
    let meta = &object["metadata"];
    let name = meta["name"].as_str().filter(|n| !n.is_empty());
    let Some(name) = name else {
        return Err(StoreError::Invalid(format!(
            "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
            resource.kind
        )));
    };
    let namespace = meta["namespace"].as_str().unwrap_or_default();
    if resource.namespaced && namespace.is_empty() {
        return Err(StoreError::Invalid(format!("{} \"{name}\" is invalid: metadata.namespace: Required value", resource.kind)));
    }
    let namespace = if resource.namespaced { namespace } else { "" };
    Ok((namespace.to_string(), name.to_string()))
}

/// Now, as Kubernetes writes times (RFC3339, seconds).
pub fn now_rfc3339() -> String {
    rfc3339(Timestamp::now())
}

/// A time as Kubernetes writes `metav1.Time`: RFC3339 in UTC to the second.
pub fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{PODS, SPARK_APPLICATIONS};

    fn pod(name: &str, owner_uid: Option<&str>) -> Value {
        let mut pod = json!({"metadata": {"name": name, "namespace": "ns"}, "status": {"phase": "Pending"}});
        if let Some(uid) = owner_uid {
            pod["metadata"]["ownerReferences"] = json!([{"uid": uid, "kind": "SparkApplication", "name": "app"}]);
        }
        pod
    }

    #[test]
    fn writes_advance_the_resource_version_and_keep_identity() {
        let store = Store::default();
        let created = store.create(&PODS, pod("a", None)).unwrap();
        let uid = created["metadata"]["uid"].clone();
        let updated = store
            .update(&PODS, "ns", "a", |p| {
                p["status"]["phase"] = json!("Running");
                p["metadata"]["uid"] = json!("forged");
            })
            .unwrap();
        assert_eq!(updated["metadata"]["uid"], uid);
        let v1: u64 = created["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
        let v2: u64 = updated["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
        assert!(v2 > v1);
        assert_eq!(store.create(&PODS, pod("a", None)), Err(StoreError::AlreadyExists { plural: "pods", name: "a".into() }));
    }

    #[test]
    fn deleting_an_owner_deletes_what_it_owns() {
        let store = Store::default();
        let app = store.create(&SPARK_APPLICATIONS, json!({"metadata": {"name": "app", "namespace": "ns"}})).unwrap();
        let uid = app["metadata"]["uid"].as_str().unwrap();
        store.create(&PODS, pod("app-driver", Some(uid))).unwrap();
        store.create(&PODS, pod("other", None)).unwrap();
        store.delete(&SPARK_APPLICATIONS, "ns", "app").unwrap();
        let names: Vec<_> = store.list(&PODS, None).0.iter().map(|p| p["metadata"]["name"].clone()).collect();
        assert_eq!(names, [json!("other")]);
    }

    #[test]
    fn a_watch_resumes_from_history_or_says_expired() {
        let store = Store::with_history(2);
        store.create(&PODS, pod("a", None)).unwrap();
        let after_a = store.resource_version();
        store.create(&PODS, pod("b", None)).unwrap();
        store.create(&PODS, pod("c", None)).unwrap();
        let start = store.watch(&PODS, WatchFrom::Version(after_a)).unwrap();
        let names: Vec<_> = start.backlog.iter().map(|c| c.object["metadata"]["name"].clone()).collect();
        assert_eq!(names, [json!("b"), json!("c")]);
        assert!(matches!(store.watch(&PODS, WatchFrom::Version(after_a - 1)), Err(StoreError::Expired { .. })));
    }

    #[test]
    fn objects_without_a_name_are_invalid() {
        let store = Store::default();
        let err = store.create(&PODS, json!({"metadata": {"namespace": "ns"}})).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)));
        let err = store.create(&PODS, json!({"metadata": {"name": "x"}})).unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)));
    }
}
