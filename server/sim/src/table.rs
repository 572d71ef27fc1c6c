//! Server-side printing: the `Table` form kubectl asks for (`Accept: ...;as=Table`), with the
//! columns a real API server prints for pods and spark-operator's CRD prints for its apps.

use super::resources::ResourceType;
use super::store::Object;
use jiff::Timestamp;
use serde_json::{Value, json};

fn column(name: &str, kind: &str, priority: u8) -> Value {
    json!({"name": name, "type": kind, "format": if name == "Name" { "name" } else { "" }, "description": name, "priority": priority})
}

/// A `meta.k8s.io/v1` Table of `objects`.
pub fn table(resource: &ResourceType, objects: &[Object], resource_version: u64, continue_token: Option<&str>, now: Timestamp) -> Value {
    let columns = match resource.plural {
        "pods" => vec![
            column("Name", "string", 0),
            column("Ready", "string", 0),
            column("Status", "string", 0),
            column("Restarts", "integer", 0),
            column("Age", "string", 0),
            column("IP", "string", 1),
            column("Node", "string", 1),
        ],
        "sparkapplications" => vec![
            column("Name", "string", 0),
            column("Status", "string", 0),
            column("Attempts", "string", 0),
            column("Start", "string", 0),
            column("Finish", "string", 0),
            column("Age", "date", 0),
        ],
        "events" => vec![
            column("Last Seen", "string", 0),
            column("Type", "string", 0),
            column("Reason", "string", 0),
            column("Object", "string", 0),
            column("Message", "string", 0),
            column("Count", "integer", 1),
            column("Name", "string", 1),
        ],
        "nodes" => vec![
            column("Name", "string", 0),
            column("Status", "string", 0),
            column("Roles", "string", 0),
            column("Age", "string", 0),
            column("Version", "string", 0),
        ],
        "services" => vec![
            column("Name", "string", 0),
            column("Type", "string", 0),
            column("Cluster-IP", "string", 0),
            column("External-IP", "string", 0),
            column("Port(s)", "string", 0),
            column("Age", "string", 0),
        ],
        "namespaces" => vec![column("Name", "string", 0), column("Status", "string", 0), column("Age", "string", 0)],
        _ => vec![column("Name", "string", 0), column("Age", "string", 0)],
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|object| {
            let cells = match resource.plural {
                "pods" => pod_cells(object, now),
                "sparkapplications" => spark_app_cells(object, now),
                "events" => event_cells(object, now),
                "nodes" => {
                    vec![object["metadata"]["name"].clone(), json!("Ready"), json!("<none>"), json!(age(object, now)), json!("v1.33.0-eks")]
                }
                "services" => service_cells(object, now),
                "namespaces" => vec![object["metadata"]["name"].clone(), object["status"]["phase"].clone(), json!(age(object, now))],
                _ => vec![object["metadata"]["name"].clone(), json!(age(object, now))],
            };
            let meta = &object["metadata"];
            json!({
                "cells": cells,
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta},
            })
        })
        .collect();
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": columns, "rows": rows})
}

fn pod_cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    let statuses = pod["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
    let total = pod["spec"]["containers"].as_array().map_or(statuses.len(), Vec::len);
    let ready = statuses.iter().filter(|s| s["ready"] == json!(true)).count();
    let restarts: i64 = statuses.iter().filter_map(|s| s["restartCount"].as_i64()).sum();
    vec![
        pod["metadata"]["name"].clone(),
        json!(format!("{ready}/{total}")),
        json!(pod_status(pod)),
        json!(restarts),
        json!(age(pod, now)),
        json!(pod["status"]["podIP"].as_str().unwrap_or("<none>")),
        json!(pod["spec"]["nodeName"].as_str().unwrap_or("<none>")),
    ]
}

/// The STATUS column: a container's waiting or terminated reason when there is one, else the phase.
pub fn pod_status(pod: &Value) -> String {
    if let Some(reason) = pod["status"]["reason"].as_str() {
        return reason.to_string();
    }
    for status in pod["status"]["containerStatuses"].as_array().into_iter().flatten() {
        if let Some(reason) = status["state"]["waiting"]["reason"].as_str() {
            return reason.to_string();
        }
        let terminated = &status["state"]["terminated"];
        if terminated.is_object() {
            return match terminated["reason"].as_str() {
                Some(reason) => reason.to_string(),
                None if terminated["exitCode"] == json!(0) => "Completed".to_string(),
                None => "Error".to_string(),
            };
        }
    }
    pod["status"]["phase"].as_str().unwrap_or("Unknown").to_string()
}

fn spark_app_cells(app: &Value, now: Timestamp) -> Vec<Value> {
    let status = &app["status"];
    let text = |v: &Value| json!(v.as_str().unwrap_or(""));
    vec![
        app["metadata"]["name"].clone(),
        text(&status["applicationState"]["state"]),
        json!(status["executionAttempts"].as_i64().map(|n| n.to_string()).unwrap_or_default()),
        text(&status["lastSubmissionAttemptTime"]),
        text(&status["terminationTime"]),
        json!(age(app, now)),
    ]
}

fn event_cells(event: &Value, now: Timestamp) -> Vec<Value> {
    let involved = &event["involvedObject"];
    let last_seen = since(&event["lastTimestamp"], now);
    vec![
        json!(last_seen),
        event["type"].clone(),
        event["reason"].clone(),
        json!(format!(
            "{}/{}",
            involved["kind"].as_str().unwrap_or_default().to_lowercase(),
            involved["name"].as_str().unwrap_or_default()
        )),
        event["message"].clone(),
        event["count"].clone(),
        event["metadata"]["name"].clone(),
    ]
}

fn service_cells(service: &Value, now: Timestamp) -> Vec<Value> {
    let ports: Vec<String> = service["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
        .collect();
    vec![
        service["metadata"]["name"].clone(),
        service["spec"]["type"].clone(),
        service["spec"]["clusterIP"].clone(),
        json!("<none>"),
        json!(ports.join(",")),
        json!(age(service, now)),
    ]
}

fn age(object: &Value, now: Timestamp) -> String {
    since(&object["metadata"]["creationTimestamp"], now)
}

/// How long ago a timestamp field was, as kubectl prints it.
fn since(time: &Value, now: Timestamp) -> String {
    time.as_str()
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(|created| human_duration((now.as_second() - created.as_second()).max(0)))
        .unwrap_or_else(|| "<unknown>".to_string())
}

/// Ages as kubectl prints them: `45s`, `3m12s`, `47m`, `5h3m`, `20h`, `3d4h`, `12d`.
pub fn human_duration(seconds: i64) -> String {
    let (m, h, d) = (seconds / 60, seconds / 3600, seconds / 86400);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if m < 10 => format!("{m}m{}s", s % 60),
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if d < 8 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_print_like_kubectl() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(192), "3m12s");
        assert_eq!(human_duration(47 * 60), "47m");
        assert_eq!(human_duration(5 * 3600 + 180), "5h3m");
        assert_eq!(human_duration(20 * 3600), "20h");
        assert_eq!(human_duration(3 * 86400 + 4 * 3600), "3d4h");
        assert_eq!(human_duration(12 * 86400), "12d");
    }

    #[test]
    fn pod_status_prefers_container_reasons() {
        let oom = json!({"status": {"phase": "Failed", "containerStatuses": [{"state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}});
        assert_eq!(pod_status(&oom), "OOMKilled");
        let pulling =
            json!({"status": {"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ContainerCreating"}}}]}});
        assert_eq!(pod_status(&pulling), "ContainerCreating");
        assert_eq!(pod_status(&json!({"status": {"phase": "Running"}})), "Running");
    }
}
