//! The labels a run's objects carry, as Spark, spark-operator and Airflow set them: the
//! dashboard finds jobs, their pods and who ran them by these, so they follow the real ones.

use super::plan::Run;
use crate::objects::{self, OPERATOR_APP_NAME, SPARK_APP_SELECTOR, SPARK_EXEC_ID, SPARK_ROLE};
use crate::scenario::{Launcher, Template};
use serde_json::{Value, json};

/// Labels of the SparkApplication (and, through the operator, of its pods), or of a
/// spark-submit run's pods and its controller.
pub(super) fn job_labels(t: &Template, run: &Run) -> Value {
    let mut labels = json!({"user": t.user, "team": t.namespace});
    if t.launcher == Launcher::SparkSubmit && t.airflow.is_none() {
        labels[objects::JOB_LINK_LABEL] = json!(run.prefix);
    }
    if let Some((dag, task)) = &t.airflow {
        labels["dag_id"] = json!(dag);
        labels["task_id"] = json!(task);
        labels["run_id"] = json!(format!("scheduled__2026-11-21T{:02}0000", run.number % 24));
        labels["try_number"] = json!("1");
        labels["airflow_version"] = json!("2.10.5");
    }
    labels
}

/// Labels of a driver (`executor` None) or executor pod, as Spark and the operator set them.
pub(super) fn pod_labels(t: &Template, run: &Run, executor: Option<usize>) -> Value {
    let mut labels = job_labels(t, run);
    labels[SPARK_APP_SELECTOR] = json!(run.app_id);
    labels["spark-app-name"] = json!(t.name);
    labels["spark-version"] = json!("4.0.1");
    labels[SPARK_ROLE] = json!(if executor.is_some() { "executor" } else { "driver" });
    if let Some(id) = executor {
        labels[SPARK_EXEC_ID] = json!(id.to_string());
        labels["spark-exec-resourceprofile-id"] = json!("0");
    }
    if t.launcher == Launcher::Operator {
        labels[OPERATOR_APP_NAME] = json!(run.job_name);
        labels["sparkoperator.k8s.io/launched-by-spark-operator"] = json!("true");
        labels["sparkoperator.k8s.io/submission-id"] = json!(run.submission_id);
    }
    labels
}
