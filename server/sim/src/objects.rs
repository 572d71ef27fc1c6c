//! Kubernetes objects as the simulated workload writes them: the shapes and labels that
//! spark-operator, Spark's Kubernetes backend and the kubelet produce on a real cluster
//! (`REFERENCE.md`, "spark-operator's objects" and "spark-submit's pods, labels and service":
//! `spark-app-selector`, `spark-role`, `spark-exec-id`, `sparkoperator.k8s.io/app-name`, the
//! status fields and states).

use super::scenario::NodeSpec;
use super::store::rfc3339;
use jiff::Timestamp;
use serde_json::{Value, json};

/// Labels Spark puts on its pods.
pub const SPARK_ROLE: &str = "spark-role";
pub const SPARK_APP_SELECTOR: &str = "spark-app-selector";
pub const SPARK_EXEC_ID: &str = "spark-exec-id";
/// The label spark-operator puts on the pods of a SparkApplication.
pub const OPERATOR_APP_NAME: &str = "sparkoperator.k8s.io/app-name";

pub fn namespace(name: &str, created: Timestamp) -> Value {
    json!({"metadata": {"name": name, "creationTimestamp": rfc3339(created)}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

/// A worker node, labelled as Karpenter and EKS label them.
pub fn node(spec: &NodeSpec, created: Timestamp) -> Value {
    let (name, instance_type, zone, spot) = (spec.name.as_str(), spec.instance_type.as_str(), spec.zone.as_str(), spec.spot);
    let capacity = if spot { "spot" } else { "on-demand" };
    json!({
        "metadata": {
            "name": name,
            "creationTimestamp": rfc3339(created),
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": instance_type,
                "topology.kubernetes.io/zone": zone,
                "karpenter.sh/capacity-type": capacity,
                "eks.amazonaws.com/capacityType": if spot { "SPOT" } else { "ON_DEMAND" },
            }
        },
        "spec": {"providerID": format!("aws:///{zone}/i-{name}")},
        "status": {"conditions": [{"type": "Ready", "status": "True"}], "allocatable": {"cpu": "16", "memory": "64Gi"}}
    })
}

/// Resources of one Spark container: cores and memory (MiB) with Spark's overhead added, as
/// Spark sizes its pods.
#[derive(Clone, Copy, Debug)]
pub struct Size {
    pub cores: u32,
    pub memory_mib: u32,
    pub overhead_mib: u32,
}

impl Size {
    /// Requests and limits; executors are limited to their cores, as with
    /// `spark.kubernetes.executor.limit.cores`, so they can be throttled.
    fn resources(self, cpu_limit: bool) -> Value {
        let memory = format!("{}Mi", self.memory_mib + self.overhead_mib);
        let mut resources = json!({"requests": {"cpu": self.cores.to_string(), "memory": memory}, "limits": {"memory": memory}});
        if cpu_limit {
            resources["limits"]["cpu"] = json!(self.cores.to_string());
        }
        resources
    }
}

/// What a new SparkApplication asks for.
pub struct AppSpec<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub labels: &'a Value,
    pub driver: Size,
    pub executor: Size,
    pub instances: u32,
    pub main_file: &'a str,
    pub python: bool,
    /// Dynamic allocation: up to this many executors (`instances` is the initial number).
    pub max_executors: Option<u32>,
}

pub fn spark_application(spec: &AppSpec<'_>, created: Timestamp) -> Value {
    let (kind, image) = if spec.python { ("Python", "spark:4.0.1-python3") } else { ("Scala", "spark:4.0.1") };
    json!({
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": spec.labels, "creationTimestamp": rfc3339(created), "generation": 1},
        "spec": {
            "type": kind,
            "mode": "cluster",
            "image": image,
            "sparkVersion": "4.0.1",
            "mainApplicationFile": spec.main_file,
            "driver": {"cores": spec.driver.cores, "memory": format!("{}m", spec.driver.memory_mib), "memoryOverhead": format!("{}m", spec.driver.overhead_mib), "serviceAccount": "spark"},
            "executor": {"cores": spec.executor.cores, "memory": format!("{}m", spec.executor.memory_mib), "memoryOverhead": format!("{}m", spec.executor.overhead_mib), "instances": spec.instances},
            "dynamicAllocation": match spec.max_executors {
                Some(max) => json!({"enabled": true, "initialExecutors": spec.instances, "minExecutors": 1, "maxExecutors": max}),
                None => json!({"enabled": false}),
            },
            "sparkConf": {"spark.ui.port": "4040", "spark.eventLog.enabled": "true"},
            "restartPolicy": {"type": "Never"}
        }
    })
}

/// Who a pod belongs to: the object its ownerReference points at.
pub struct Owner<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
}

/// A Spark driver or executor pod, Pending and not yet scheduled.
pub struct PodSpec<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub labels: Value,
    pub owner: Option<Owner<'a>>,
    pub driver: bool,
    pub size: Size,
    pub node: Option<&'a str>,
    /// The simulated container's memory climbs to its limit, reached at this time, when the
    /// workload OOM-kills it.
    pub oom_at: Option<Timestamp>,
}

pub fn pod(spec: &PodSpec<'_>, created: Timestamp) -> Value {
    let container = if spec.driver { "spark-kubernetes-driver" } else { "spark-kubernetes-executor" };
    let mut metadata =
        json!({"name": spec.name, "namespace": spec.namespace, "labels": spec.labels, "creationTimestamp": rfc3339(created)});
    if let Some(owner) = &spec.owner {
        metadata["ownerReferences"] = json!([owner_reference(owner)]);
    }
    if let Some(oom_at) = spec.oom_at {
        metadata["annotations"] = json!({super::derived::MEMORY_PROFILE: "leak", super::derived::OOM_AT: rfc3339(oom_at)});
    }
    let mut pod = json!({
        "metadata": metadata,
        "spec": {
            "containers": [{"name": container, "image": "spark:4.0.1", "resources": spec.size.resources(!spec.driver),
                            "ports": if spec.driver { json!([{"name": "spark-ui", "containerPort": 4040}]) } else { json!([]) }}],
            "restartPolicy": "Never",
            "serviceAccountName": "spark",
            "schedulerName": "default-scheduler"
        },
        "status": {"phase": "Pending", "qosClass": "Burstable"}
    });
    match spec.node {
        Some(node) => schedule(&mut pod, node, created),
        None => {
            pod["status"]["conditions"] = json!([{
                "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": rfc3339(created),
                "message": "0/6 nodes are available: 6 Insufficient memory. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod."
            }]);
        }
    }
    pod
}

fn container_name(pod: &Value) -> Value {
    pod["spec"]["containers"][0]["name"].clone()
}

fn schedule(pod: &mut Value, node: &str, at: Timestamp) {
    pod["spec"]["nodeName"] = json!(node);
    pod["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True", "lastTransitionTime": rfc3339(at)}]);
    pod["status"]["hostIP"] = json!("10.0.0.1");
    pod["status"]["containerStatuses"] = json!([{
        "name": container_name(pod), "image": "spark:4.0.1", "imageID": "", "ready": false, "restartCount": 0, "started": false,
        "state": {"waiting": {"reason": "ContainerCreating"}}
    }]);
}

/// The kubelet started the container.
pub fn set_running(pod: &mut Value, ip: &str, at: Timestamp) {
    pod["status"]["phase"] = json!("Running");
    pod["status"]["podIP"] = json!(ip);
    pod["status"]["podIPs"] = json!([{"ip": ip}]);
    pod["status"]["startTime"] = json!(rfc3339(at));
    pod["status"]["conditions"] = json!([
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": rfc3339(at)},
        {"type": "Initialized", "status": "True", "lastTransitionTime": rfc3339(at)},
        {"type": "ContainersReady", "status": "True", "lastTransitionTime": rfc3339(at)},
        {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(at)}
    ]);
    pod["status"]["containerStatuses"][0]["ready"] = json!(true);
    pod["status"]["containerStatuses"][0]["started"] = json!(true);
    pod["status"]["containerStatuses"][0]["state"] = json!({"running": {"startedAt": rfc3339(at)}});
}

/// The container ended with `exit_code`; `reason` as the kubelet reports it (Completed, Error,
/// OOMKilled).
pub fn set_terminated(pod: &mut Value, exit_code: i32, reason: &str, at: Timestamp) {
    let started = pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].clone();
    pod["status"]["phase"] = json!(if exit_code == 0 { "Succeeded" } else { "Failed" });
    pod["status"]["containerStatuses"][0]["ready"] = json!(false);
    pod["status"]["containerStatuses"][0]["started"] = json!(false);
    pod["status"]["containerStatuses"][0]["state"] = json!({"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": rfc3339(at), "containerID": ""}});
    if let Some(conditions) = pod["status"]["conditions"].as_array_mut() {
        for condition in conditions.iter_mut().filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady") {
            condition["status"] = json!("False");
            condition["reason"] = json!("PodCompleted");
        }
    }
}

/// What a Kubernetes event is about.
pub struct Involved<'a> {
    pub api_version: &'a str,
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
}

/// A core/v1 Event, as the scheduler, the kubelet, Karpenter and spark-operator write them.
pub struct EventSpec<'a> {
    pub name: &'a str,
    pub involved: Involved<'a>,
    pub reason: &'a str,
    pub message: &'a str,
    pub warning: bool,
    pub component: &'a str,
}

pub fn event(spec: &EventSpec<'_>, at: Timestamp) -> Value {
    let namespace = if spec.involved.namespace.is_empty() { "default" } else { spec.involved.namespace };
    json!({
        "metadata": {"name": spec.name, "namespace": namespace, "creationTimestamp": rfc3339(at)},
        "involvedObject": {
            "apiVersion": spec.involved.api_version, "kind": spec.involved.kind,
            "namespace": spec.involved.namespace, "name": spec.involved.name, "uid": spec.involved.uid
        },
        "reason": spec.reason,
        "message": spec.message,
        "type": if spec.warning { "Warning" } else { "Normal" },
        "count": 1,
        "firstTimestamp": rfc3339(at),
        "lastTimestamp": rfc3339(at),
        "source": {"component": spec.component},
        "reportingComponent": spec.component,
        "reportingInstance": ""
    })
}

/// spark-operator's `<app>-ui-svc`, owned by the app.
pub fn ui_service(namespace: &str, app: &str, app_id: &str, owner: &Owner<'_>, at: Timestamp) -> Value {
    json!({
        "metadata": {
            "name": format!("{app}-ui-svc"), "namespace": namespace, "creationTimestamp": rfc3339(at),
            "labels": {"sparkoperator.k8s.io/app-name": app, "sparkoperator.k8s.io/created-by-spark-operator": "true"},
            "ownerReferences": [owner_reference(owner)]
        },
        "spec": {
            "type": "ClusterIP", "clusterIP": "172.20.14.7",
            "selector": {"spark-app-selector": app_id, "spark-role": "driver"},
            "ports": [{"name": "spark-driver-ui-port", "port": 4040, "protocol": "TCP", "targetPort": 4040}]
        },
        "status": {"loadBalancer": {}}
    })
}

/// Spark's headless `<prefix>-driver-svc`, owned by the driver pod.
pub fn driver_service(namespace: &str, prefix: &str, app_id: &str, owner: &Owner<'_>, at: Timestamp) -> Value {
    json!({
        "metadata": {
            "name": format!("{prefix}-driver-svc"), "namespace": namespace, "creationTimestamp": rfc3339(at),
            "labels": {"spark-app-selector": app_id},
            "ownerReferences": [owner_reference(owner)]
        },
        "spec": {
            "type": "ClusterIP", "clusterIP": "None",
            "selector": {"spark-app-selector": app_id, "spark-role": "driver"},
            "ports": [
                {"name": "driver-rpc-port", "port": 7078, "protocol": "TCP", "targetPort": 7078},
                {"name": "blockmanager", "port": 7079, "protocol": "TCP", "targetPort": 7079},
                {"name": "spark-ui", "port": 4040, "protocol": "TCP", "targetPort": 4040}
            ]
        },
        "status": {"loadBalancer": {}}
    })
}

fn owner_reference(owner: &Owner<'_>) -> Value {
    json!({"apiVersion": owner.api_version, "kind": owner.kind, "name": owner.name, "uid": owner.uid, "controller": true, "blockOwnerDeletion": true})
}

/// spark-operator's controller pod (a Deployment's pod), restarted once.
pub fn operator_pod(name: &str, node: &str, ip: &str, booted: Timestamp, restarted: Timestamp) -> Value {
    json!({
        "metadata": {
            "name": name, "namespace": "spark-operator", "creationTimestamp": rfc3339(booted),
            "labels": {"app.kubernetes.io/name": "spark-operator", "app.kubernetes.io/component": "controller", "pod-template-hash": "7d9c5b6f4"}
        },
        "spec": {"containers": [{"name": "spark-operator-controller", "image": "ghcr.io/kubeflow/spark-operator/controller:2.3.0"}], "nodeName": node, "serviceAccountName": "spark-operator-controller"},
        "status": {
            "phase": "Running", "podIP": ip, "startTime": rfc3339(booted),
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(restarted)}],
            "containerStatuses": [{
                "name": "spark-operator-controller", "image": "ghcr.io/kubeflow/spark-operator/controller:2.3.0", "imageID": "",
                "ready": true, "started": true, "restartCount": 1,
                "state": {"running": {"startedAt": rfc3339(restarted)}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": rfc3339(booted), "finishedAt": rfc3339(restarted)}}
            }]
        }
    })
}

/// Label of the spark-submit pods Airflow's KubernetesPodOperator runs.
pub const AIRFLOW_POD_LABEL: &str = "kubernetes_pod_operator";
/// Label of a plain spark-submit pod (a Kubernetes Job or a CI runner), by convention.
pub const SUBMIT_COMPONENT_LABEL: &str = "app.kubernetes.io/component";
/// EMR on EKS's job label, on the job runner and on the Spark pods it starts: it ties them.
pub const JOB_LINK_LABEL: &str = "emr-containers.amazonaws.com/job.id";

/// The pod that ran spark-submit for a job (KubernetesPodOperator's container is `base`),
/// running on `node` from `at`.
pub fn submitter_pod(namespace: &str, name: &str, labels: Value, node: &str, ip: &str, at: Timestamp) -> Value {
    let mut pod = json!({
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "creationTimestamp": rfc3339(at)},
        "spec": {
            "containers": [{"name": "base", "image": "spark:4.0.1", "command": ["/opt/spark/bin/spark-submit"],
                            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}}],
            "restartPolicy": "Never",
            "serviceAccountName": "spark-submitter"
        },
        "status": {"phase": "Pending", "qosClass": "Burstable",
                   "containerStatuses": [{"name": "base", "ready": false, "restartCount": 0, "image": "spark:4.0.1",
                                          "state": {"waiting": {"reason": "ContainerCreating"}}}]}
    });
    schedule(&mut pod, node, at);
    set_running(&mut pod, ip, at);
    pod
}

/// A ScheduledSparkApplication that launches the runs of one template.
pub fn scheduled_application(namespace: &str, name: &str, schedule: &str, at: Timestamp) -> Value {
    json!({
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": rfc3339(at), "generation": 1},
        "spec": {"schedule": schedule, "concurrencyPolicy": "Forbid", "successfulRunHistoryLimit": 3, "failedRunHistoryLimit": 3,
                 "template": {"type": "Python", "mode": "cluster", "image": "spark:4.0.1-python3", "sparkVersion": "4.0.1"}},
        "status": {"scheduleState": "Scheduled", "pastSuccessfulRunNames": [], "pastFailedRunNames": []}
    })
}

/// The terminated state of a pod on a node that went away.
pub fn set_node_lost(pod: &mut Value, at: Timestamp) {
    set_terminated(pod, 143, "Error", at);
    pod["status"]["phase"] = json!("Failed");
    pod["status"]["reason"] = json!("NodeShutdown");
    pod["status"]["message"] = json!("Pod was terminated in response to imminent node shutdown.");
}

/// The CustomResourceDefinition spark-operator installs for one of its kinds, with the printer
/// columns kubectl shows.
pub fn crd(resource: &super::resources::ResourceType, columns: Value, at: Timestamp) -> Value {
    json!({
        "metadata": {"name": format!("{}.{}", resource.plural, resource.group), "creationTimestamp": rfc3339(at),
                     "annotations": {"controller-gen.kubebuilder.io/version": "v0.17.1"}},
        "spec": {
            "group": resource.group,
            "names": {"kind": resource.kind, "listKind": format!("{}List", resource.kind), "plural": resource.plural,
                      "singular": resource.singular, "shortNames": resource.short_names},
            "scope": "Namespaced",
            "versions": [{
                "name": resource.version, "served": true, "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            }]
        },
        "status": {"acceptedNames": {"kind": resource.kind, "plural": resource.plural}, "storedVersions": [resource.version],
                   "conditions": [{"type": "Established", "status": "True", "lastTransitionTime": rfc3339(at)}]}
    })
}
