//! The compact projection of a Spark pod: what the job model needs, nothing else (no spec, no
//! managedFields), so that memory per pod stays small at 100,000 pods.

use super::labels::{LabelKeys, LabelsOfInterest};
use super::quantity;
use app::api::{ContainerResources, Resources};
use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::DynamicObject;
use serde_json::Value;

/// Label keys Spark and spark-operator put on pods.
pub mod labels {
    pub const ROLE: &str = "spark-role";
    pub const APP_SELECTOR: &str = "spark-app-selector";
    pub const EXEC_ID: &str = "spark-exec-id";
    pub const OPERATOR_APP: &str = "sparkoperator.k8s.io/app-name";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Driver,
    Executor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl Phase {
    fn parse(s: Option<&str>) -> Phase {
        match s {
            Some("Pending") => Phase::Pending,
            Some("Running") => Phase::Running,
            Some("Succeeded") => Phase::Succeeded,
            Some("Failed") => Phase::Failed,
            _ => Phase::Unknown,
        }
    }
}

/// Which job a pod belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKey {
    pub namespace: String,
    pub name: String,
}

/// One Spark pod, projected.
#[derive(Clone, Debug, PartialEq)]
pub struct PodSummary {
    pub namespace: String,
    pub name: String,
    pub job: JobKey,
    pub role: Role,
    pub app_id: Option<String>,
    pub status: PodStatus,
    pub labels: LabelsOfInterest,
    /// The pod's IP and, for a driver, the port of its Spark UI (the container port named
    /// `spark-ui`, else Spark's default 4040): where the UI proxy goes.
    pub ip: Option<String>,
    pub ui_port: Option<u16>,
    /// Labelled by spark-operator with its SparkApplication: such a pod does not make a job by
    /// itself (without its app it is either waiting for the app's watch, or being deleted with it).
    pub from_operator: bool,
    /// Deleted from the cluster while its job lives on: Spark deletes executor pods as it
    /// releases them, but the job's executor counts and pods table must still include them.
    pub deleted: bool,
}

/// The job a pod belongs to: the SparkApplication named by the operator's label; otherwise, for
/// plain spark-submit, the driver pod's name (without `-driver`), which executors reach through
/// their owner reference.
fn job_of(meta: &ObjectMeta, role: Role) -> Option<JobKey> {
    let namespace = meta.namespace.clone()?;
    let labels = meta.labels.as_ref()?;
    if let Some(app) = labels.get(labels::OPERATOR_APP) {
        return Some(JobKey { namespace, name: app.clone() });
    }
    let driver_name = match role {
        Role::Driver => meta.name.clone()?,
        Role::Executor => meta
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.kind == "Pod")
            .map(|o| o.name.clone())
            .or_else(|| labels.get(labels::APP_SELECTOR).cloned())?,
    };
    let name = driver_name.strip_suffix("-driver").unwrap_or(&driver_name).to_string();
    Some(JobKey { namespace, name })
}

/// Spark's UI port on a driver pod: the container port named `spark-ui`, else 4040.
fn ui_port(pod: &DynamicObject) -> u16 {
    pod.data["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["ports"].as_array().into_iter().flatten())
        .find(|p| p["name"] == "spark-ui")
        .and_then(|p| p["containerPort"].as_u64())
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(4040)
}

/// A container's requests and limits; quantities that do not parse count as unset.
fn container_resources(container: &Value) -> Option<ContainerResources> {
    let amounts = |of: &Value| Resources {
        cpu: of["cpu"].as_str().and_then(quantity::parse),
        memory: of["memory"].as_str().and_then(quantity::parse),
    };
    Some(ContainerResources {
        container: container["name"].as_str()?.to_string(),
        requests: amounts(&container["resources"]["requests"]),
        limits: amounts(&container["resources"]["limits"]),
    })
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(|s| s.parse().ok())
}

/// What any pod's status says about its (first) container, read leniently: a malformed status
/// costs its fields, never the pod.
#[derive(Clone, Debug, PartialEq)]
pub struct PodStatus {
    pub phase: Phase,
    pub created: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub node: Option<String>,
    pub restarts: u32,
    /// The containers' names (spec order), for their logs.
    pub containers: Vec<String>,
    /// The containers' requests and limits (spec order), for the metrics' reference lines.
    pub resources: Vec<ContainerResources>,
}

impl PodStatus {
    pub fn from_object(pod: &DynamicObject) -> PodStatus {
        let status = &pod.data["status"];
        let state = &status["containerStatuses"][0]["state"];
        let terminated = &state["terminated"];
        PodStatus {
            phase: Phase::parse(status["phase"].as_str()),
            created: pod.metadata.creation_timestamp.as_ref().map(|t| t.0),
            started_at: time(&state["running"]["startedAt"]).or_else(|| time(&terminated["startedAt"])),
            finished_at: time(&terminated["finishedAt"]),
            exit_code: terminated["exitCode"].as_i64().and_then(|c| i32::try_from(c).ok()),
            reason: status["reason"]
                .as_str()
                .or_else(|| terminated["reason"].as_str())
                .or_else(|| state["waiting"]["reason"].as_str())
                .map(str::to_string),
            node: pod.data["spec"]["nodeName"].as_str().map(str::to_string),
            restarts: status["containerStatuses"][0]["restartCount"].as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            containers: pod.data["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["name"].as_str())
                .map(str::to_string)
                .collect(),
            resources: pod.data["spec"]["containers"].as_array().into_iter().flatten().filter_map(container_resources).collect(),
        }
    }

    /// The phase as Kubernetes names it.
    pub fn phase_name(&self) -> &'static str {
        self.phase.name()
    }

    /// OOMKilled by the kernel: the reason says so, or exit code 137 (SIGKILL) as Spark reports it.
    pub fn oom_killed(&self) -> bool {
        self.reason.as_deref() == Some("OOMKilled") || self.exit_code == Some(137)
    }
}

impl Phase {
    /// The phase as Kubernetes names it.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Unknown => "Unknown",
        }
    }
}

impl PodSummary {
    /// Projects a pod; `None` for pods that are not Spark drivers or executors. Read leniently
    /// from the raw object: a malformed status costs its fields, never the pod or the list.
    pub fn from_object(pod: &DynamicObject, keys: &LabelKeys) -> Option<PodSummary> {
        let meta = &pod.metadata;
        let labels = meta.labels.as_ref()?;
        let role = match labels.get(labels::ROLE).map(String::as_str) {
            Some("driver") => Role::Driver,
            Some("executor") => Role::Executor,
            _ => return None,
        };
        let job = job_of(meta, role)?;
        Some(PodSummary {
            namespace: job.namespace.clone(),
            name: meta.name.clone().unwrap_or_default(),
            job,
            role,
            app_id: labels.get(labels::APP_SELECTOR).cloned(),
            status: PodStatus::from_object(pod),
            labels: keys.keep(Some(labels), meta.annotations.as_ref()),
            ip: pod.data["status"]["podIP"].as_str().map(str::to_string),
            ui_port: (role == Role::Driver).then(|| ui_port(pod)),
            from_operator: labels.contains_key(labels::OPERATOR_APP),
            deleted: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: serde_json::Value) -> DynamicObject {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn operator_pods_belong_to_their_app() {
        let p = pod(json!({"metadata": {"name": "etl-1-abc-exec-2", "namespace": "ns",
            "labels": {"spark-role": "executor", "sparkoperator.k8s.io/app-name": "etl-1", "spark-app-selector": "spark-1"}},
            "status": {"phase": "Failed", "containerStatuses": [{"state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}}));
        let s = PodSummary::from_object(&p, &LabelKeys::default()).unwrap();
        assert_eq!(s.job, JobKey { namespace: "ns".into(), name: "etl-1".into() });
        assert_eq!(s.role, Role::Executor);
        assert!(s.status.oom_killed());
    }

    #[test]
    fn requests_and_limits_come_from_the_spec_in_cores_and_bytes() {
        let p = pod(json!({"metadata": {"name": "d-driver", "namespace": "ns", "labels": {"spark-role": "driver"}},
            "spec": {"containers": [{"name": "spark-kubernetes-driver", "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "bogus"}}},
                                    {"name": "sidecar"}]}}));
        let s = PodSummary::from_object(&p, &LabelKeys::default()).unwrap();
        let driver = &s.status.resources[0];
        assert_eq!(driver.container, "spark-kubernetes-driver");
        assert_eq!(driver.requests, Resources { cpu: Some(0.5), memory: Some(1_073_741_824.0) });
        assert_eq!(driver.limits, Resources::default());
        assert_eq!(s.status.resources[1].requests, Resources::default());
    }

    #[test]
    fn spark_submit_executors_find_their_driver_through_the_owner() {
        let p = pod(json!({"metadata": {"name": "pi-1a2b-exec-1", "namespace": "ns",
            "labels": {"spark-role": "executor", "spark-app-selector": "spark-9"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "pi-1a2b-driver", "uid": "u"}]}}));
        assert_eq!(PodSummary::from_object(&p, &LabelKeys::default()).unwrap().job.name, "pi-1a2b");
    }

    #[test]
    fn a_malformed_status_costs_only_its_fields() {
        let p = pod(json!({"metadata": {"name": "d-driver", "namespace": "ns", "labels": {"spark-role": "driver"}},
            "status": {"phase": 7, "containerStatuses": "nope"}}));
        let s = PodSummary::from_object(&p, &LabelKeys::default()).unwrap();
        assert_eq!((s.status.phase, s.status.exit_code, s.status.started_at), (Phase::Unknown, None, None));
        assert_eq!(s.job.name, "d");
    }

    #[test]
    fn pods_without_a_spark_role_are_ignored() {
        let p = pod(json!({"metadata": {"name": "x", "namespace": "ns", "labels": {"spark-role": "connect-server"}}}));
        assert!(PodSummary::from_object(&p, &LabelKeys::default()).is_none());
        let p = pod(json!({"metadata": {"name": "x", "namespace": "ns"}}));
        assert!(PodSummary::from_object(&p, &LabelKeys::default()).is_none());
    }
}
