//! Deriving a [`Job`] from what the sources saw: the SparkApplication (if any) and its pods.
//! A pure function of its inputs, so every rule here is unit-tested without a cluster.

use super::app::AppSummary;
use super::labels::{LabelKeys, LabelsOfInterest};
use super::pod::{JobKey, Phase, PodSummary, Role};
use app::api::{AirflowTask, ExecutorCounts, Failure, Job, JobState};
use jiff::Timestamp;

/// What else a job's derivation reads besides its app and pods.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Which labels name the user, team and Airflow task.
    pub keys: &'a LabelKeys,
    /// The scheduler's latest FailedScheduling message about the driver, if any.
    pub unschedulable: Option<&'a str>,
    /// Closes the duration of a job still running.
    pub now: Timestamp,
}

/// The job for `key`.
pub fn derive(key: &JobKey, app: Option<&AppSummary>, pods: &[&PodSummary], cx: Context<'_>) -> Job {
    let now = cx.now;
    let driver = pods.iter().filter(|p| p.role == Role::Driver).max_by_key(|p| p.status.created).copied();
    let state = match app {
        Some(app) => app.state,
        None => driver.map_or(JobState::Unknown, state_from_driver),
    };
    let submitted_at = app.and_then(|a| a.created).or_else(|| driver.and_then(|d| d.status.created));
    let started_at = driver.and_then(|d| d.status.started_at);
    let finished_at =
        if state.is_terminal() { app.and_then(|a| a.terminated_at).or_else(|| driver.and_then(|d| d.status.finished_at)) } else { None };
    let end = finished_at.or((state == JobState::Running).then_some(now));
    let duration_s = match (started_at.or(submitted_at), end) {
        (Some(from), Some(to)) => Some((to.as_millisecond() - from.as_millisecond()).max(0) as f64 / 1000.0),
        _ => None,
    };
    let labels = app.map(|a| &a.labels).or(driver.map(|d| &d.labels));
    let executors = executor_counts(app, pods);
    Job {
        namespace: key.namespace.clone(),
        name: key.name.clone(),
        state,
        app_id: app.and_then(|a| a.app_id.clone()).or_else(|| pods.iter().find_map(|p| p.app_id.clone())),
        user: labels.and_then(|l| l.first(&cx.keys.user)).map(str::to_string),
        team: labels.and_then(|l| l.first(&cx.keys.team)).map(str::to_string),
        submitted_at,
        started_at,
        finished_at,
        duration_s,
        executors,
        failure: failure(state, app, driver, cx.unschedulable).map(|f| with_executor_ooms(f, &executors)),
        airflow: labels.and_then(|l| airflow_task(l, cx.keys)),
        scheduled_by: app.and_then(|a| a.scheduled_by.clone()),
        deleted_from_cluster: false,
        from_operator: app.is_some() || pods.iter().any(|p| p.from_operator),
    }
}

fn state_from_driver(driver: &PodSummary) -> JobState {
    match driver.status.phase {
        Phase::Pending => JobState::Submitted,
        Phase::Running => JobState::Running,
        Phase::Succeeded => JobState::Completed,
        Phase::Failed => JobState::Failed,
        Phase::Unknown => JobState::Unknown,
    }
}

/// Executor counts over every executor the job had: its pods (deleted ones included) and, for
/// executors whose pods were never seen, the operator's `executorState`.
fn executor_counts(app: Option<&AppSummary>, pods: &[&PodSummary]) -> ExecutorCounts {
    let mut counts = ExecutorCounts::default();
    let mut seen = 0;
    for pod in pods.iter().filter(|p| p.role == Role::Executor) {
        seen += 1;
        match (pod.status.phase, pod.deleted) {
            (Phase::Failed, _) => counts.failed += 1,
            (Phase::Succeeded, _) | (_, true) => counts.completed += 1,
            (Phase::Running, false) => counts.running += 1,
            _ => {}
        }
        if pod.status.oom_killed() {
            counts.oom_killed += 1;
        }
    }
    let known = |name: &str| pods.iter().any(|p| p.name == name);
    for (_, state) in app.into_iter().flat_map(|a| &a.executor_states).filter(|(name, _)| !known(name)) {
        seen += 1;
        match state.as_str() {
            "RUNNING" => counts.running += 1,
            "COMPLETED" => counts.completed += 1,
            "FAILED" => counts.failed += 1,
            _ => {}
        }
    }
    counts.requested = app.and_then(|a| a.requested_executors).unwrap_or(seen);
    counts
}

/// The failure in plain words, for a job that failed, or one whose driver cannot be scheduled.
fn failure(state: JobState, app: Option<&AppSummary>, driver: Option<&PodSummary>, unschedulable: Option<&str>) -> Option<Failure> {
    let pending = driver.is_none_or(|d| d.status.phase == Phase::Pending);
    if !state.is_terminal() && state != JobState::Failing {
        // Not failed, but stuck: say so while it waits, it is what its owner needs to know.
        return match unschedulable {
            Some(why) if pending => {
                Some(Failure { reason: "Unschedulable".into(), message: format!("The driver pod cannot be scheduled: {why}") })
            }
            _ => None,
        };
    }
    if state == JobState::Completed {
        return None;
    }
    let error = app
        .and_then(|a| a.error_message.clone())
        .or_else(|| unschedulable.filter(|_| pending).map(|why| format!("The driver pod could not be scheduled: {why}")));
    let (reason, message) = match (state, driver) {
        (JobState::SubmissionFailed, _) => ("SubmissionFailed", error.unwrap_or_else(|| "spark-submit failed".into())),
        (_, Some(d)) if d.status.reason.as_deref() == Some("NodeShutdown") => (
            "NodeLost",
            format!(
                "The driver's node{} shut down under it (a reclaimed spot node, or a drained one), so the driver was killed. Run drivers on on-demand nodes to avoid this.",
                d.status.node.as_deref().map(|n| format!(" {n}")).unwrap_or_default()
            ),
        ),
        (_, Some(d)) if d.status.oom_killed() => (
            "DriverOOMKilled",
            "The driver container was killed for using more memory than its limit (exit code 137). Raise spark.driver.memory or spark.driver.memoryOverhead.".into(),
        ),
        (_, Some(d)) if d.status.exit_code.is_some_and(|c| c != 0) => {
            let code = d.status.exit_code.unwrap_or_default();
            let why = d.status.reason.clone().unwrap_or_else(|| "Error".into());
            ("DriverFailed", error.unwrap_or_else(|| format!("The driver exited with code {code} ({why}).")))
        }
        _ => ("Failed", error.unwrap_or_else(|| "The job failed; its status gives no reason.".into())),
    };
    Some(Failure { reason: reason.into(), message })
}

/// Executors killed for memory often explain a failure the driver reports vaguely ("Job
/// aborted due to stage failure"): name them.
fn with_executor_ooms(failure: Failure, executors: &ExecutorCounts) -> Failure {
    match executors.oom_killed {
        0 => failure,
        n => Failure {
            message: format!(
                "{} {n} executor{} OOMKilled (exit code 137): raise spark.executor.memoryOverhead, or spark.executor.memory.",
                failure.message.trim_end(),
                if n == 1 { " was" } else { "s were" }
            ),
            ..failure
        },
    }
}

/// The Airflow task, from the labels (or annotations) Airflow's Kubernetes operators set.
pub fn airflow_task(labels: &LabelsOfInterest, keys: &LabelKeys) -> Option<AirflowTask> {
    Some(AirflowTask {
        dag_id: labels.first(&keys.dag_id)?.to_string(),
        task_id: labels.first(&keys.task_id)?.to_string(),
        run_id: labels.first(&keys.run_id)?.to_string(),
        try_number: labels.first(&keys.try_number).and_then(|t| t.parse().ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pod::PodStatus;

    fn key() -> JobKey {
        JobKey { namespace: "ns".into(), name: "etl".into() }
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    static KEYS: std::sync::LazyLock<LabelKeys> = std::sync::LazyLock::new(LabelKeys::default);

    fn at(now: &str) -> Context<'static> {
        Context { keys: &KEYS, unschedulable: None, now: t(now) }
    }

    #[test]
    fn executors_killed_for_memory_are_named_in_a_failure() {
        let driver = pod(Role::Driver, Phase::Failed, Some(1), Some("Error"));
        let mut oom = pod(Role::Executor, Phase::Failed, Some(137), Some("OOMKilled"));
        oom.name = "x-exec-1".into();
        let failure = derive(&key(), None, &[&driver, &oom], at("2026-11-21T06:00:00Z")).failure.unwrap();
        assert_eq!(failure.reason, "DriverFailed");
        assert!(failure.message.contains("1 executor was OOMKilled"), "{}", failure.message);
    }

    #[test]
    fn a_driver_the_scheduler_cannot_place_is_named_while_it_waits() {
        let driver = pod(Role::Driver, Phase::Pending, None, None);
        let why = "0/12 nodes are available: 12 Insufficient memory.";
        let cx = Context { unschedulable: Some(why), ..at("2026-11-21T06:00:00Z") };
        let job = derive(&key(), None, &[&driver], cx);
        assert_eq!(job.state, JobState::Submitted);
        let failure = job.failure.unwrap();
        assert_eq!(failure.reason, "Unschedulable");
        assert!(failure.message.contains("Insufficient memory"));
        // Once it runs, the old complaint is history.
        let running = pod(Role::Driver, Phase::Running, None, None);
        assert!(derive(&key(), None, &[&running], cx).failure.is_none());
    }

    fn pod(role: Role, phase: Phase, exit: Option<i32>, reason: Option<&str>) -> PodSummary {
        PodSummary {
            namespace: "ns".into(),
            name: format!("{role:?}-{phase:?}"),
            job: key(),
            role,
            app_id: Some("spark-1".into()),
            status: PodStatus {
                phase,
                created: Some(t("2026-11-21T05:00:00Z")),
                started_at: Some(t("2026-11-21T05:00:10Z")),
                finished_at: exit.map(|_| t("2026-11-21T05:02:10Z")),
                exit_code: exit,
                reason: reason.map(String::from),
                node: Some("n1".into()),
                restarts: 0,
                containers: vec![],
                resources: vec![],
            },
            labels: LabelsOfInterest(vec![("user".into(), "bob".into())]),
            ip: None,
            ui_port: None,
            from_operator: false,
            deleted: false,
        }
    }

    #[test]
    fn a_spark_submit_job_takes_its_state_from_the_driver() {
        let driver = pod(Role::Driver, Phase::Running, None, None);
        let exec = pod(Role::Executor, Phase::Running, None, None);
        let job = derive(&key(), None, &[&driver, &exec], at("2026-11-21T05:01:10Z"));
        assert_eq!(job.state, JobState::Running);
        assert_eq!(job.duration_s, Some(60.0));
        assert_eq!(job.user.as_deref(), Some("bob"));
        assert_eq!(job.executors, ExecutorCounts { requested: 1, running: 1, ..Default::default() });
        assert_eq!(job.app_id.as_deref(), Some("spark-1"));
    }

    #[test]
    fn an_oom_killed_driver_is_named_as_such() {
        let driver = pod(Role::Driver, Phase::Failed, Some(137), Some("OOMKilled"));
        let job = derive(&key(), None, &[&driver], at("2026-11-21T06:00:00Z"));
        assert_eq!(job.state, JobState::Failed);
        assert_eq!(job.failure.unwrap().reason, "DriverOOMKilled");
        assert_eq!(job.duration_s, Some(120.0));
    }

    #[test]
    fn a_driver_on_a_lost_node_is_named_as_such() {
        let mut driver = pod(Role::Driver, Phase::Failed, Some(143), Some("NodeShutdown"));
        driver.status.node = Some("ip-10-0-0-12".into());
        let failure = derive(&key(), None, &[&driver], at("2026-11-21T06:00:00Z")).failure.unwrap();
        assert_eq!(failure.reason, "NodeLost");
        assert!(failure.message.contains("ip-10-0-0-12") && failure.message.contains("spot"), "{}", failure.message);
    }

    #[test]
    fn executor_ooms_are_counted_without_failing_the_job() {
        let driver = pod(Role::Driver, Phase::Succeeded, Some(0), Some("Completed"));
        let oom = pod(Role::Executor, Phase::Failed, Some(137), Some("OOMKilled"));
        let ok = pod(Role::Executor, Phase::Succeeded, Some(0), Some("Completed"));
        let job = derive(&key(), None, &[&driver, &oom, &ok], at("2026-11-21T06:00:00Z"));
        assert_eq!(job.state, JobState::Completed);
        assert_eq!(job.executors.oom_killed, 1);
        assert_eq!(job.executors.failed, 1);
        assert!(job.failure.is_none());
    }

    #[test]
    fn released_executors_still_count() {
        let driver = pod(Role::Driver, Phase::Succeeded, Some(0), None);
        let mut released = pod(Role::Executor, Phase::Running, None, None);
        released.deleted = true;
        let mut app = AppSummary::from_object(
            &serde_json::from_value(serde_json::json!({
                "metadata": {"name": "etl", "namespace": "ns"},
                "spec": {"executor": {"instances": 3}},
                "status": {"applicationState": {"state": "COMPLETED"},
                           "executorState": {"Executor-Running": "RUNNING", "gone-1": "COMPLETED", "gone-2": "FAILED"}}
            }))
            .unwrap(),
            &LabelKeys::default(),
        )
        .unwrap();
        let job = derive(&key(), Some(&app), &[&driver, &released], at("2026-11-21T06:00:00Z"));
        assert_eq!(job.executors, ExecutorCounts { requested: 3, running: 0, completed: 2, failed: 1, oom_killed: 0 });
        app.requested_executors = None;
        let without_spec = derive(&key(), Some(&app), &[&driver, &released], at("2026-11-21T06:00:00Z"));
        assert_eq!(without_spec.executors.requested, 3);
    }

    #[test]
    fn airflow_needs_dag_task_and_run() {
        let full = LabelsOfInterest(vec![
            ("dag_id".into(), "d".into()),
            ("task_id".into(), "t".into()),
            ("run_id".into(), "r".into()),
            ("try_number".into(), "2".into()),
        ]);
        assert_eq!(airflow_task(&full, &LabelKeys::default()).unwrap().try_number, Some(2));
        assert!(airflow_task(&LabelsOfInterest(vec![("dag_id".into(), "d".into())]), &LabelKeys::default()).is_none());
    }
}
