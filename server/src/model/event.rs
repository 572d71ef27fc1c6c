//! The compact projection of a core/v1 Event about a job, one of its pods, or a node.

use jiff::Timestamp;
use kube::api::DynamicObject;
use serde_json::Value;

/// What an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventSummary {
    /// `(namespace, name)` of the Event object itself.
    pub id: (String, String),
    pub about: ObjectRef,
    pub time: Option<Timestamp>,
    pub warning: bool,
    pub reason: String,
    pub message: String,
    pub count: u32,
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

impl EventSummary {
    /// Projects an event; `None` when it names no object.
    pub fn from_object(event: &DynamicObject) -> Option<EventSummary> {
        let data = &event.data;
        let involved = &data["involvedObject"];
        Some(EventSummary {
            id: (event.metadata.namespace.clone().unwrap_or_default(), event.metadata.name.clone()?),
            about: ObjectRef {
                kind: involved["kind"].as_str()?.to_string(),
                namespace: involved["namespace"].as_str().unwrap_or_default().to_string(),
                name: involved["name"].as_str()?.to_string(),
            },
            time: time(&data["lastTimestamp"]).or_else(|| time(&data["eventTime"])).or_else(|| time(&data["firstTimestamp"])),
            warning: data["type"] == "Warning",
            reason: data["reason"].as_str().unwrap_or_default().to_string(),
            message: data["message"].as_str().unwrap_or_default().to_string(),
            count: data["count"].as_u64().and_then(|c| u32::try_from(c).ok()).unwrap_or(1),
        })
    }
}
