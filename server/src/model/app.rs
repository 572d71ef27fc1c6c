//! The compact projection of a SparkApplication.
//!
//! Parsed leniently from the raw object: a field of the wrong type, or a state this version does
//! not know, costs that field (shown as unknown), never the object or the whole list.

use super::labels::{LabelKeys, LabelsOfInterest};
use super::pod::JobKey;
use app::api::JobState;
use jiff::Timestamp;
use kube::api::DynamicObject;
use serde_json::Value;

/// One SparkApplication, projected.
#[derive(Clone, Debug, PartialEq)]
pub struct AppSummary {
    pub key: JobKey,
    pub state: JobState,
    pub error_message: Option<String>,
    pub app_id: Option<String>,
    pub created: Option<Timestamp>,
    pub submitted_at: Option<Timestamp>,
    pub terminated_at: Option<Timestamp>,
    pub requested_executors: Option<u32>,
    /// `status.executorState`: executor pod name -> the operator's state for it. Outlives the
    /// executor pods, which Spark deletes.
    pub executor_states: Vec<(String, String)>,
    /// Spark properties from the spec (`spark.executor.memory`, ...) and its `sparkConf`.
    pub spark_conf: Vec<(String, String)>,
    pub labels: LabelsOfInterest,
    /// The ScheduledSparkApplication that created this run (its label, or its owner).
    pub scheduled_by: Option<String>,
}

/// The spec fields spark-operator turns into Spark properties, with their Spark names.
const SPEC_PROPERTIES: &[(&str, &str, &str)] = &[
    ("driver", "cores", "spark.driver.cores"),
    ("driver", "memory", "spark.driver.memory"),
    ("driver", "memoryOverhead", "spark.driver.memoryOverhead"),
    ("executor", "cores", "spark.executor.cores"),
    ("executor", "memory", "spark.executor.memory"),
    ("executor", "memoryOverhead", "spark.executor.memoryOverhead"),
    ("executor", "instances", "spark.executor.instances"),
    ("dynamicAllocation", "enabled", "spark.dynamicAllocation.enabled"),
    ("dynamicAllocation", "initialExecutors", "spark.dynamicAllocation.initialExecutors"),
    ("dynamicAllocation", "minExecutors", "spark.dynamicAllocation.minExecutors"),
    ("dynamicAllocation", "maxExecutors", "spark.dynamicAllocation.maxExecutors"),
];

/// A scalar as Spark writes properties; objects and arrays are not properties.
fn property(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn spark_conf(spec: &Value) -> Vec<(String, String)> {
    let mut conf: Vec<(String, String)> = SPEC_PROPERTIES
        .iter()
        .filter_map(|(section, field, name)| property(&spec[*section][*field]).map(|v| (name.to_string(), v)))
        .collect();
    for (key, value) in spec["sparkConf"].as_object().into_iter().flatten() {
        if let Some(value) = property(value) {
            // An explicit sparkConf entry wins over the spec field, as in spark-submit.
            conf.retain(|(k, _)| k != key);
            conf.push((key.clone(), value));
        }
    }
    conf
}

fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

impl AppSummary {
    /// Projects a SparkApplication; `None` without a namespace or a name.
    pub fn from_object(object: &DynamicObject, keys: &LabelKeys) -> Option<AppSummary> {
        let meta = &object.metadata;
        let key = JobKey { namespace: meta.namespace.clone()?, name: meta.name.clone()? };
        let status = &object.data["status"];
        let spec = &object.data["spec"];
        let dynamic = &spec["dynamicAllocation"];
        let requested = if dynamic["enabled"] == Value::Bool(true) {
            dynamic["initialExecutors"].as_u64().or_else(|| dynamic["minExecutors"].as_u64())
        } else {
            spec["executor"]["instances"].as_u64()
        };
        let labels = meta.labels.as_ref();
        Some(AppSummary {
            key,
            state: match &status["applicationState"]["state"] {
                Value::Null => JobState::New,
                Value::String(state) => JobState::parse(state),
                _ => JobState::Unknown,
            },
            error_message: text(&status["applicationState"]["errorMessage"]),
            app_id: text(&status["sparkApplicationId"]),
            created: meta.creation_timestamp.as_ref().map(|t| t.0),
            submitted_at: time(&status["lastSubmissionAttemptTime"]),
            terminated_at: time(&status["terminationTime"]),
            requested_executors: requested.and_then(|n| u32::try_from(n).ok()),
            executor_states: status["executorState"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(pod, state)| Some((pod.clone(), state.as_str()?.to_string())))
                .collect(),
            spark_conf: spark_conf(spec),
            labels: keys.keep(labels, meta.annotations.as_ref()),
            scheduled_by: labels
                .and_then(|l| l.get("sparkoperator.k8s.io/scheduled-app-name"))
                .cloned()
                .or_else(|| meta.owner_references.iter().flatten().find(|o| o.kind == "ScheduledSparkApplication").map(|o| o.name.clone())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> DynamicObject {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_full_status_is_read() {
        let app = json!({
            "metadata": {"name": "etl", "namespace": "ns", "creationTimestamp": "2026-11-21T05:00:00Z", "labels": {"user": "alice"}},
            "spec": {"executor": {"instances": 4}},
            "status": {"applicationState": {"state": "FAILED", "errorMessage": "driver container failed with ExitCode: 1, Reason: Error"},
                       "sparkApplicationId": "spark-1", "terminationTime": "2026-11-21T05:10:00Z", "lastSubmissionAttemptTime": null}
        });
        let s = AppSummary::from_object(&object(app), &LabelKeys::default()).unwrap();
        assert_eq!(s.state, JobState::Failed);
        assert_eq!(s.requested_executors, Some(4));
        assert_eq!(s.labels.get("user"), Some("alice"));
        assert!(s.terminated_at.is_some() && s.submitted_at.is_none());
        assert!(s.spark_conf.contains(&("spark.executor.instances".to_string(), "4".to_string())));
    }

    #[test]
    fn spark_conf_takes_spec_fields_and_explicit_properties() {
        let app = object(json!({"metadata": {"name": "a", "namespace": "ns"}, "spec": {
            "driver": {"cores": 1, "memory": "2g"}, "executor": {"memory": "4g", "instances": 3},
            "dynamicAllocation": {"enabled": true, "maxExecutors": 8},
            "sparkConf": {"spark.executor.memory": "6g", "spark.sql.shuffle.partitions": "400", "weird": {"nested": 1}}
        }}));
        let conf: std::collections::BTreeMap<_, _> =
            AppSummary::from_object(&app, &LabelKeys::default()).unwrap().spark_conf.into_iter().collect();
        assert_eq!(conf["spark.driver.cores"], "1");
        assert_eq!(conf["spark.executor.memory"], "6g");
        assert_eq!(conf["spark.dynamicAllocation.maxExecutors"], "8");
        assert_eq!(conf["spark.sql.shuffle.partitions"], "400");
        assert!(!conf.contains_key("weird"));
    }

    #[test]
    fn malformed_fields_cost_only_themselves() {
        let app = json!({
            "metadata": {"name": "odd", "namespace": "ns"},
            "spec": {"executor": {"instances": "many"}},
            "status": {"applicationState": {"state": "EXPLODING"}, "sparkApplicationId": 42}
        });
        let s = AppSummary::from_object(&object(app), &LabelKeys::default()).unwrap();
        assert_eq!(s.state, JobState::Unknown);
        assert_eq!((s.requested_executors, s.app_id), (None, None));
        let typed_wrong = object(json!({"metadata": {"name": "n", "namespace": "ns"}, "status": {"applicationState": {"state": 42}}}));
        assert_eq!(AppSummary::from_object(&typed_wrong, &LabelKeys::default()).unwrap().state, JobState::Unknown);
        let no_status =
            AppSummary::from_object(&object(json!({"metadata": {"name": "new", "namespace": "ns"}})), &LabelKeys::default()).unwrap();
        assert_eq!(no_status.state, JobState::New);
        assert!(AppSummary::from_object(&object(json!({"metadata": {"name": "x"}})), &LabelKeys::default()).is_none());
    }
}
