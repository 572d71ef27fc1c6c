//! Controller pods: what submitted a job (Airflow's KubernetesPodOperator running
//! spark-submit, a Kubernetes Job, EMR on EKS's job runner). Found by configurable label
//! selectors, and tied to their job by what both carry: the Airflow task's identity, or a
//! shared job label (EMR on EKS puts `emr-containers.amazonaws.com/job.id` on both).

use super::labels::{LabelKeys, LabelsOfInterest};
use super::pod::PodStatus;
use super::{Inner, JobModel, job};
use app::api::AirflowTask;
use kube::api::DynamicObject;
use std::collections::HashSet;

/// A controller pod, projected.
#[derive(Clone, Debug, PartialEq)]
pub struct ControllerSummary {
    pub namespace: String,
    pub name: String,
    pub status: PodStatus,
    pub labels: LabelsOfInterest,
    /// Which watcher (label selector) saw it: a re-list replaces only its own.
    pub source: String,
    /// Deleted from Kubernetes; kept a while so the job it submitted still shows it.
    pub deleted: bool,
}

/// What ties a controller to a job.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Link {
    Airflow { dag_id: String, task_id: String, run_id: String, try_number: Option<u32> },
    Label { key: String, value: String },
}

impl ControllerSummary {
    pub fn from_object(pod: &DynamicObject, keys: &LabelKeys, source: &str) -> Option<ControllerSummary> {
        let meta = &pod.metadata;
        Some(ControllerSummary {
            namespace: meta.namespace.clone()?,
            name: meta.name.clone()?,
            status: PodStatus::from_object(pod),
            labels: keys.keep(meta.labels.as_ref(), meta.annotations.as_ref()),
            source: source.to_string(),
            deleted: false,
        })
    }
}

/// The links an object with these labels has: its Airflow task, and each link label it carries.
pub fn links(labels: &LabelsOfInterest, airflow: Option<&AirflowTask>, keys: &LabelKeys) -> Vec<Link> {
    let mut links: Vec<Link> = airflow
        .map(|a| Link::Airflow { dag_id: a.dag_id.clone(), task_id: a.task_id.clone(), run_id: a.run_id.clone(), try_number: a.try_number })
        .into_iter()
        .collect();
    for key in &keys.link {
        if let Some(value) = labels.get(key) {
            links.push(Link::Label { key: key.clone(), value: value.to_string() });
        }
    }
    links
}

/// How many deleted controller pods are kept for the jobs they submitted.
const KEEP_DELETED_CONTROLLERS: usize = 10_000;

/// How the model keeps controller pods: indexed by link, kept a while after deletion.
impl JobModel {
    pub fn apply_controller(&self, controller: ControllerSummary) {
        let mut inner = self.write();
        let id = (controller.namespace.clone(), controller.name.clone());
        Self::unlink_controller(&mut inner, &id, &self.label_keys);
        let airflow = job::airflow_task(&controller.labels, &self.label_keys);
        for link in links(&controller.labels, airflow.as_ref(), &self.label_keys) {
            inner.controllers_by_link.entry((id.0.clone(), link)).or_default().insert(id.1.clone());
        }
        inner.controllers.insert(id, controller);
        drop(inner);
        self.nudge();
    }

    fn unlink_controller(inner: &mut Inner, id: &(String, String), keys: &LabelKeys) -> Option<ControllerSummary> {
        let old = inner.controllers.remove(id)?;
        let airflow = job::airflow_task(&old.labels, keys);
        for link in links(&old.labels, airflow.as_ref(), keys) {
            let slot = (id.0.clone(), link);
            if let Some(names) = inner.controllers_by_link.get_mut(&slot) {
                names.remove(&id.1);
                if names.is_empty() {
                    inner.controllers_by_link.remove(&slot);
                }
            }
        }
        Some(old)
    }

    /// A controller pod is gone from Kubernetes: kept, marked, for the page of its job; the
    /// oldest deleted ones leave beyond a bound.
    pub fn delete_controller(&self, namespace: &str, name: &str) {
        let mut inner = self.write();
        if let Some(c) = inner.controllers.get_mut(&(namespace.to_string(), name.to_string())) {
            c.deleted = true;
        }
        // Only when there are that many controllers at all is it worth counting the deleted.
        if inner.controllers.len() <= KEEP_DELETED_CONTROLLERS + KEEP_DELETED_CONTROLLERS / 10 {
            drop(inner);
            self.nudge();
            return;
        }
        let mut deleted: Vec<(Option<jiff::Timestamp>, (String, String))> = inner
            .controllers
            .iter()
            .filter(|(_, c)| c.deleted)
            .map(|(id, c)| (c.status.finished_at.or(c.status.created), id.clone()))
            .collect();
        if deleted.len() > KEEP_DELETED_CONTROLLERS + KEEP_DELETED_CONTROLLERS / 10 {
            deleted.sort();
            for (_, id) in deleted.into_iter().take(KEEP_DELETED_CONTROLLERS / 10) {
                Self::unlink_controller(&mut inner, &id, &self.label_keys);
            }
        }
        drop(inner);
        self.nudge();
    }

    /// A fresh full list of the controller pods `source` watches, in `namespace` (all when None).
    pub fn replace_controllers(&self, source: &str, namespace: Option<&str>, controllers: Vec<ControllerSummary>) {
        let fresh: HashSet<(String, String)> = controllers.iter().map(|c| (c.namespace.clone(), c.name.clone())).collect();
        let gone: Vec<(String, String)> = self
            .read()
            .controllers
            .iter()
            .filter(|(id, c)| c.source == source && !c.deleted && namespace.is_none_or(|ns| id.0 == ns) && !fresh.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for (ns, name) in gone {
            self.delete_controller(&ns, &name);
        }
        for controller in controllers {
            self.apply_controller(controller);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_controller_links_by_airflow_task_and_by_job_label() {
        let keys = LabelKeys::default();
        let pod: DynamicObject = serde_json::from_value(json!({
            "metadata": {"name": "churn-model-train-1a2b3c4d", "namespace": "ml",
                         "labels": {"kubernetes_pod_operator": "True", "dag_id": "ml_daily", "task_id": "churn_model_train",
                                    "run_id": "scheduled__2026-11-21T080000", "try_number": "2",
                                    "emr-containers.amazonaws.com/job.id": "0000000abc"}},
            "status": {"phase": "Running"}
        }))
        .unwrap();
        let c = ControllerSummary::from_object(&pod, &keys, "pods[kubernetes_pod_operator=True]@*").unwrap();
        let airflow = crate::model::job::airflow_task(&c.labels, &keys);
        let links = links(&c.labels, airflow.as_ref(), &keys);
        assert_eq!(links.len(), 2);
        assert!(matches!(&links[0], Link::Airflow { try_number: Some(2), .. }));
        assert_eq!(links[1], Link::Label { key: "emr-containers.amazonaws.com/job.id".into(), value: "0000000abc".into() });
    }
}
