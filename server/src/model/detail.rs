//! A job's detail, assembled from the model's maps: its pods (deleted ones included; driver,
//! then the controllers that submitted it, then executors), the events about the job, its pods
//! and their nodes, its Spark configuration and its schedule.

use super::Inner;
use super::controller::{self, ControllerSummary};
use super::event::{EventSummary, ObjectRef};
use super::labels::LabelKeys;
use super::pod::{JobKey, PodStatus, PodSummary, Role};
use super::schedule::ScheduleSummary;
use app::api::{Event, Job, JobDetail, Pod, PodRole};

/// How many events the job page shows at most (the newest).
const EVENTS_PER_JOB: usize = 200;

impl Inner {
    pub(super) fn pods_of(&self, key: &JobKey) -> Vec<&PodSummary> {
        self.pods_by_job.get(key).into_iter().flatten().filter_map(|name| self.pods.get(&(key.namespace.clone(), name.clone()))).collect()
    }

    /// The controller pods that submitted `key`'s job: those sharing its Airflow task or a
    /// link label with the job's app or driver.
    pub(super) fn controllers_of(&self, key: &JobKey, job: &Job, keys: &LabelKeys, pods: &[&PodSummary]) -> Vec<&ControllerSummary> {
        let labels = self.apps.get(key).map(|a| &a.labels).or_else(|| pods.iter().find(|p| p.role == Role::Driver).map(|p| &p.labels));
        let links = labels.map(|l| controller::links(l, job.airflow.as_ref(), keys)).unwrap_or_default();
        let mut names: Vec<&String> =
            links.into_iter().filter_map(|link| self.controllers_by_link.get(&(key.namespace.clone(), link))).flatten().collect();
        names.sort();
        names.dedup();
        names.into_iter().filter_map(|name| self.controllers.get(&(key.namespace.clone(), name.clone()))).collect()
    }

    /// One row of the pods table.
    pub(super) fn pod_row(&self, name: &str, role: PodRole, status: &PodStatus, deleted: bool) -> Pod {
        let node = status.node.as_ref().and_then(|n| self.nodes.get(n));
        Pod {
            name: name.to_string(),
            role,
            node: status.node.clone(),
            instance_type: node.and_then(|n| n.instance_type.clone()),
            capacity_type: node.and_then(|n| n.capacity_type.clone()),
            phase: status.phase_name().to_string(),
            restarts: status.restarts,
            exit_code: status.exit_code,
            reason: status.reason.clone(),
            started_at: status.started_at,
            finished_at: status.finished_at,
            deleted,
            containers: status.containers.clone(),
            resources: status.resources.clone(),
            executor_id: (role == PodRole::Executor).then(|| executor_number(name)).filter(|&n| n > 0).map(|n| n.to_string()),
        }
    }

    /// The job's pods (deleted ones included; driver, then controllers, then executors),
    /// events and Spark configuration, as of now.
    pub(super) fn detail(&self, key: &JobKey, job: Job, keys: &LabelKeys) -> JobDetail {
        let mut pods = self.pods_of(key);
        pods.sort_by_key(|p| (p.role != Role::Driver, executor_number(&p.name), p.name.clone()));
        let controllers = self.controllers_of(key, &job, keys, &pods);
        let mut about = vec![ObjectRef { kind: "SparkApplication".into(), namespace: key.namespace.clone(), name: key.name.clone() }];
        let names_and_nodes = pods.iter().map(|p| (&p.name, &p.status.node)).chain(controllers.iter().map(|c| (&c.name, &c.status.node)));
        for (name, node) in names_and_nodes {
            about.push(ObjectRef { kind: "Pod".into(), namespace: key.namespace.clone(), name: name.clone() });
            if let Some(node) = node {
                about.push(ObjectRef { kind: "Node".into(), namespace: String::new(), name: node.clone() });
            }
        }
        about.sort();
        about.dedup();
        let mut events: Vec<&EventSummary> =
            about.iter().filter_map(|object| self.events_by_object.get(object)).flatten().filter_map(|id| self.events.get(id)).collect();
        events.sort_by_key(|e| e.time);
        let skip = events.len().saturating_sub(EVENTS_PER_JOB);
        let row = |p: &&PodSummary| {
            let role = if p.role == Role::Driver { PodRole::Driver } else { PodRole::Executor };
            self.pod_row(&p.name, role, &p.status, p.deleted)
        };
        let (drivers, executors): (Vec<&PodSummary>, Vec<&PodSummary>) = pods.iter().partition(|p| p.role == Role::Driver);
        let pods: Vec<Pod> = drivers
            .iter()
            .map(row)
            .chain(controllers.iter().map(|c| self.pod_row(&c.name, PodRole::Controller, &c.status, c.deleted)))
            .chain(executors.iter().map(row))
            .collect();
        let events = events
            .into_iter()
            .skip(skip)
            .map(|e| Event {
                time: e.time,
                kind: if e.warning { "Warning" } else { "Normal" }.to_string(),
                reason: e.reason.clone(),
                message: e.message.clone(),
                object: format!("{}/{}", e.about.kind.to_lowercase(), e.about.name),
                count: e.count,
            })
            .collect();
        let spark_conf = self.apps.get(key).map(|a| a.spark_conf.iter().cloned().collect()).unwrap_or_default();
        let schedule = job
            .scheduled_by
            .as_ref()
            .and_then(|name| self.schedules.get(&JobKey { namespace: key.namespace.clone(), name: name.clone() }))
            .map(ScheduleSummary::wire);
        JobDetail { job, pods, events, spark_conf, schedule, warnings: Vec::new() }
    }
}

/// `…-exec-12` -> 12, so executors sort by number; anything else sorts first.
fn executor_number(pod: &str) -> u64 {
    pod.rsplit_once("-exec-").and_then(|(_, n)| n.parse().ok()).unwrap_or(0)
}
