//! The resource types the simulated cluster serves, as its discovery documents describe them.

/// One served resource type (what `kubectl api-resources` lists).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Where its objects come from.
    pub storage: Storage,
}

/// How a resource's objects are kept.
#[derive(Debug, PartialEq, Eq, Hash)]
pub enum Storage {
    /// In the store, written by the workload and by clients.
    Stored,
    /// Another resource's objects in this version's shape (events.k8s.io/v1 over core events).
    ConvertedFrom(&'static ResourceType),
    /// Computed when asked (metrics.k8s.io): get and list only.
    Computed,
}

impl ResourceType {
    /// `v1` or `group/version`, as objects carry it in `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }
}

pub static NAMESPACES: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    short_names: &["ns"],
    storage: Storage::Stored,
};
pub static NODES: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "nodes",
    singular: "node",
    kind: "Node",
    namespaced: false,
    short_names: &["no"],
    storage: Storage::Stored,
};
pub static PODS: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    short_names: &["po"],
    storage: Storage::Stored,
};
pub static SERVICES: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "services",
    singular: "service",
    kind: "Service",
    namespaced: true,
    short_names: &["svc"],
    storage: Storage::Stored,
};
pub static EVENTS: ResourceType = ResourceType {
    group: "",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    short_names: &["ev"],
    storage: Storage::Stored,
};
pub static SPARK_APPLICATIONS: ResourceType = ResourceType {
    group: "sparkoperator.k8s.io",
    version: "v1beta2",
    plural: "sparkapplications",
    singular: "sparkapplication",
    kind: "SparkApplication",
    namespaced: true,
    short_names: &["sparkapp"],
    storage: Storage::Stored,
};
pub static SCHEDULED_SPARK_APPLICATIONS: ResourceType = ResourceType {
    group: "sparkoperator.k8s.io",
    version: "v1beta2",
    plural: "scheduledsparkapplications",
    singular: "scheduledsparkapplication",
    kind: "ScheduledSparkApplication",
    namespaced: true,
    short_names: &["scheduledsparkapp"],
    storage: Storage::Stored,
};

pub static EVENTS_V1: ResourceType = ResourceType {
    group: "events.k8s.io",
    version: "v1",
    plural: "events",
    singular: "event",
    kind: "Event",
    namespaced: true,
    short_names: &["ev"],
    storage: Storage::ConvertedFrom(&EVENTS),
};
pub static POD_METRICS: ResourceType = ResourceType {
    group: "metrics.k8s.io",
    version: "v1beta1",
    plural: "pods",
    singular: "",
    kind: "PodMetrics",
    namespaced: true,
    short_names: &[],
    storage: Storage::Computed,
};
pub static NODE_METRICS: ResourceType = ResourceType {
    group: "metrics.k8s.io",
    version: "v1beta1",
    plural: "nodes",
    singular: "",
    kind: "NodeMetrics",
    namespaced: false,
    short_names: &[],
    storage: Storage::Computed,
};
pub static CUSTOM_RESOURCE_DEFINITIONS: ResourceType = ResourceType {
    group: "apiextensions.k8s.io",
    version: "v1",
    plural: "customresourcedefinitions",
    singular: "customresourcedefinition",
    kind: "CustomResourceDefinition",
    namespaced: false,
    short_names: &["crd", "crds"],
    storage: Storage::Stored,
};

/// Everything served, in discovery order.
pub const ALL: &[&ResourceType] = &[
    &NAMESPACES,
    &NODES,
    &PODS,
    &SERVICES,
    &EVENTS,
    &EVENTS_V1,
    &SPARK_APPLICATIONS,
    &SCHEDULED_SPARK_APPLICATIONS,
    &POD_METRICS,
    &NODE_METRICS,
    &CUSTOM_RESOURCE_DEFINITIONS,
];

/// The resource at `group`/`version`/`plural`, if served.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    ALL.iter().copied().find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The group/versions served, for `/apis` (the core group is at `/api`).
pub fn groups() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in ALL.iter().filter(|r| !r.group.is_empty()) {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}
