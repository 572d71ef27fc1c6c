//! Watching SparkApplications, Spark pods, and the nodes and events around them into the model.
//!
//! One kube-rs watcher per resource and namespace, with backoff: errors (410 Gone, dropped
//! connections, API errors) are logged and the watcher re-lists or resumes by itself, so the
//! model converges again without a restart. Objects are projected as they arrive; no whole
//! object is kept.

use crate::model::JobModel;
use crate::model::app::AppSummary;
use crate::model::controller::ControllerSummary;
use crate::model::event::EventSummary;
use crate::model::labels::LabelKeys;
use crate::model::node::NodeInfo;
use crate::model::pod::{JobKey, PodSummary, labels};
use crate::model::schedule::ScheduleSummary;
use futures::StreamExt;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use std::sync::Arc;

/// How one watched resource lands in the model.
trait Projection: Send + Sync + 'static {
    type Summary: Send;
    const NAME: &'static str;
    fn resource() -> ApiResource;
    fn label_selector() -> Option<&'static str>;
    /// `keys`: which labels name the user, team and Airflow task.
    fn project(object: &DynamicObject, keys: &LabelKeys, source: &str) -> Option<Self::Summary>;
    fn apply(model: &JobModel, summary: Self::Summary);
    fn delete(model: &JobModel, object: &DynamicObject);
    /// A fresh full list from the watcher named `source`.
    fn replace(model: &JobModel, source: &str, namespace: Option<&str>, summaries: Vec<Self::Summary>);
}

/// A core/v1 resource.
fn core_v1(kind: &str, plural: &str) -> ApiResource {
    ApiResource { group: String::new(), version: "v1".into(), api_version: "v1".into(), kind: kind.into(), plural: plural.into() }
}

/// `(namespace, name)` of a namespaced object.
fn namespaced(object: &DynamicObject) -> Option<(&str, &str)> {
    Some((object.metadata.namespace.as_deref()?, object.metadata.name.as_deref()?))
}

/// spark-operator's SparkApplications.
struct SparkApps;

impl Projection for SparkApps {
    type Summary = AppSummary;
    const NAME: &'static str = "sparkapplications";

    fn resource() -> ApiResource {
        ApiResource {
            group: "sparkoperator.k8s.io".into(),
            version: "v1beta2".into(),
            api_version: "sparkoperator.k8s.io/v1beta2".into(),
            kind: "SparkApplication".into(),
            plural: "sparkapplications".into(),
        }
    }
    fn label_selector() -> Option<&'static str> {
        None
    }
    fn project(object: &DynamicObject, keys: &LabelKeys, _source: &str) -> Option<AppSummary> {
        AppSummary::from_object(object, keys)
    }
    fn apply(model: &JobModel, summary: AppSummary) {
        model.apply_app(summary);
    }
    fn delete(model: &JobModel, object: &DynamicObject) {
        if let Some((namespace, name)) = namespaced(object) {
            model.delete_app(&JobKey { namespace: namespace.to_string(), name: name.to_string() });
        }
    }
    fn replace(model: &JobModel, _source: &str, namespace: Option<&str>, summaries: Vec<AppSummary>) {
        model.replace_apps(namespace, summaries);
    }
}

/// spark-operator's ScheduledSparkApplications: the parents of scheduled runs.
struct ScheduledApps;

impl Projection for ScheduledApps {
    type Summary = ScheduleSummary;
    const NAME: &'static str = "scheduledsparkapplications";

    fn resource() -> ApiResource {
        ApiResource {
            group: "sparkoperator.k8s.io".into(),
            version: "v1beta2".into(),
            api_version: "sparkoperator.k8s.io/v1beta2".into(),
            kind: "ScheduledSparkApplication".into(),
            plural: "scheduledsparkapplications".into(),
        }
    }
    fn label_selector() -> Option<&'static str> {
        None
    }
    fn project(object: &DynamicObject, _keys: &LabelKeys, _source: &str) -> Option<ScheduleSummary> {
        ScheduleSummary::from_object(object)
    }
    fn apply(model: &JobModel, summary: ScheduleSummary) {
        model.apply_schedule(summary);
    }
    fn delete(model: &JobModel, object: &DynamicObject) {
        if let Some((namespace, name)) = namespaced(object) {
            model.delete_schedule(&JobKey { namespace: namespace.to_string(), name: name.to_string() });
        }
    }
    fn replace(model: &JobModel, _source: &str, namespace: Option<&str>, summaries: Vec<ScheduleSummary>) {
        model.replace_schedules(namespace, summaries);
    }
}

/// Spark driver and executor pods, whoever launched them.
struct SparkPods;

impl Projection for SparkPods {
    type Summary = PodSummary;
    const NAME: &'static str = "pods";

    fn resource() -> ApiResource {
        core_v1("Pod", "pods")
    }
    fn label_selector() -> Option<&'static str> {
        Some(labels::ROLE)
    }
    fn project(object: &DynamicObject, keys: &LabelKeys, _source: &str) -> Option<PodSummary> {
        PodSummary::from_object(object, keys)
    }
    fn apply(model: &JobModel, summary: PodSummary) {
        model.apply_pod(summary);
    }
    fn delete(model: &JobModel, object: &DynamicObject) {
        if let Some((namespace, name)) = namespaced(object) {
            model.delete_pod(namespace, name);
        }
    }
    fn replace(model: &JobModel, _source: &str, namespace: Option<&str>, summaries: Vec<PodSummary>) {
        model.replace_pods(namespace, summaries);
    }
}

/// Controller pods: what submitted a job, by a configured label selector.
struct ControllerPods;

impl Projection for ControllerPods {
    type Summary = ControllerSummary;
    const NAME: &'static str = "controller pods";

    fn resource() -> ApiResource {
        core_v1("Pod", "pods")
    }
    fn label_selector() -> Option<&'static str> {
        None
    }
    fn project(object: &DynamicObject, keys: &LabelKeys, source: &str) -> Option<ControllerSummary> {
        // A Spark pod that happens to match the selector is a Spark pod, not a controller.
        if object.metadata.labels.as_ref().is_some_and(|l| l.contains_key(labels::ROLE)) {
            return None;
        }
        ControllerSummary::from_object(object, keys, source)
    }
    fn apply(model: &JobModel, summary: ControllerSummary) {
        model.apply_controller(summary);
    }
    fn delete(model: &JobModel, object: &DynamicObject) {
        if let Some((namespace, name)) = namespaced(object) {
            model.delete_controller(namespace, name);
        }
    }
    fn replace(model: &JobModel, source: &str, namespace: Option<&str>, summaries: Vec<ControllerSummary>) {
        model.replace_controllers(source, namespace, summaries);
    }
}

/// Nodes: where pods ran (instance type, spot or on-demand).
struct Nodes;

impl Projection for Nodes {
    type Summary = NodeInfo;
    const NAME: &'static str = "nodes";

    fn resource() -> ApiResource {
        core_v1("Node", "nodes")
    }
    fn label_selector() -> Option<&'static str> {
        None
    }
    fn project(object: &DynamicObject, _keys: &LabelKeys, _source: &str) -> Option<NodeInfo> {
        NodeInfo::from_object(object)
    }
    fn apply(model: &JobModel, summary: NodeInfo) {
        model.apply_node(summary);
    }
    fn delete(model: &JobModel, object: &DynamicObject) {
        if let Some(name) = &object.metadata.name {
            model.delete_node(name);
        }
    }
    fn replace(model: &JobModel, _source: &str, _namespace: Option<&str>, summaries: Vec<NodeInfo>) {
        model.replace_nodes(summaries);
    }
}

/// Events: what the scheduler, the kubelet, the operator and the node provisioner said.
struct Events;

impl Projection for Events {
    type Summary = EventSummary;
    const NAME: &'static str = "events";

    fn resource() -> ApiResource {
        core_v1("Event", "events")
    }
    fn label_selector() -> Option<&'static str> {
        None
    }
    fn project(object: &DynamicObject, _keys: &LabelKeys, _source: &str) -> Option<EventSummary> {
        EventSummary::from_object(object)
    }
    fn apply(model: &JobModel, summary: EventSummary) {
        model.apply_event(summary);
    }
    fn delete(model: &JobModel, object: &DynamicObject) {
        if let Some((namespace, name)) = namespaced(object) {
            model.delete_event(namespace, name);
        }
    }
    fn replace(model: &JobModel, _source: &str, namespace: Option<&str>, summaries: Vec<EventSummary>) {
        model.replace_events(namespace, summaries);
    }
}

/// What to watch, besides SparkApplications, Spark pods, nodes and events.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// Namespaces to watch; all when empty.
    pub namespaces: Vec<String>,
    /// Label selectors of controller pods (one watcher each).
    pub controller_selectors: Vec<String>,
}

/// Starts the watchers: every namespace when none are given, else one watcher per namespace
/// and resource. The model is ready once apps and pods have listed once; nodes, events,
/// schedules and controllers only add detail (and a deployment may not be allowed to list
/// nodes), so the dashboard does not wait for them.
pub fn spawn(client: Client, sources: &Sources, model: Arc<JobModel>) -> Vec<tokio::task::JoinHandle<()>> {
    let scopes: Vec<Option<String>> =
        if sources.namespaces.is_empty() { vec![None] } else { sources.namespaces.iter().cloned().map(Some).collect() };
    let mut tasks = vec![start::<Nodes>(client.clone(), None, None, model.clone(), false)];
    for scope in scopes {
        tasks.push(start::<SparkApps>(client.clone(), scope.clone(), None, model.clone(), true));
        tasks.push(start::<SparkPods>(client.clone(), scope.clone(), None, model.clone(), true));
        tasks.push(start::<ScheduledApps>(client.clone(), scope.clone(), None, model.clone(), false));
        for selector in &sources.controller_selectors {
            tasks.push(start::<ControllerPods>(client.clone(), scope.clone(), Some(selector.clone()), model.clone(), false));
        }
        tasks.push(start::<Events>(client.clone(), scope, None, model.clone(), false));
    }
    tasks
}

/// Starts one watcher; `selector` overrides the projection's own label selector.
fn start<P: Projection>(
    client: Client,
    namespace: Option<String>,
    selector: Option<String>,
    model: Arc<JobModel>,
    required: bool,
) -> tokio::task::JoinHandle<()> {
    let scope = namespace.as_deref().unwrap_or("*");
    let source = match &selector {
        Some(selector) => format!("{}[{selector}]@{scope}", P::NAME),
        None => format!("{}@{scope}", P::NAME),
    };
    if required {
        model.expect_source(&source);
    }
    tokio::spawn(follow::<P>(client, namespace, selector, model, source))
}

async fn follow<P: Projection>(client: Client, namespace: Option<String>, selector: Option<String>, model: Arc<JobModel>, source: String) {
    let resource = P::resource();
    let api: Api<DynamicObject> = match &namespace {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    };
    let mut config = watcher::Config::default();
    if let Some(selector) = selector.as_deref().or(P::label_selector()) {
        config = config.labels(selector);
    }
    let mut events = watcher(api, config).default_backoff().boxed();
    let mut relist: Vec<P::Summary> = Vec::new();
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Init) => relist.clear(),
            Ok(watcher::Event::InitApply(object)) => relist.extend(P::project(&object, model.label_keys(), &source)),
            Ok(watcher::Event::InitDone) => {
                P::replace(&model, &source, namespace.as_deref(), std::mem::take(&mut relist));
                model.source_synced(&source);
                tracing::debug!(%source, "listed");
            }
            Ok(watcher::Event::Apply(object)) => match P::project(&object, model.label_keys(), &source) {
                Some(summary) => P::apply(&model, summary),
                // A pod that lost its spark-role label, say: it is no longer ours.
                None => P::delete(&model, &object),
            },
            Ok(watcher::Event::Delete(object)) => P::delete(&model, &object),
            Err(error) => tracing::warn!(%source, "watch failed, retrying with backoff: {error}"),
        }
    }
}
