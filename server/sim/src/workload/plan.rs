//! A run's plan: the timed steps one job goes through, from the SparkApplication's creation to
//! the deletion of what is left, and the names and ids the run is played under.
//!
//! The plan is fixed when the run starts (from its template's outcome), so a replay with the
//! same seed applies the same steps at the same offsets whatever the clock does in between.

use super::Workload;
use crate::scenario::{Launcher, Outcome, Template};
use jiff::Timestamp;

/// One step of a run's plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    CreateApp,
    Submit,
    SubmissionFail,
    CreateDriver,
    DriverRunning,
    CreateExecutors,
    ExecutorsRunning,
    OomExecutor,
    ReplaceExecutor,
    /// Dynamic allocation: tasks back up, more executors come.
    ScaleUp,
    /// Dynamic allocation: the extra executors idle out and Spark deletes them.
    ScaleDown,
    NodeLost,
    Finish,
    RemoveExecutors,
    /// Delete the run's objects; the next run starts.
    End,
}

/// The steps of a run of `t`, at their offsets in seconds from its start.
pub(super) fn plan(t: &Template) -> Vec<(f64, Step)> {
    let end = t.run_seconds + t.linger_seconds;
    let half = t.run_seconds / 2.0;
    let mut steps = vec![(0.0, Step::CreateApp)];
    match t.outcome {
        Outcome::SubmissionFailed => steps.push((1.0, Step::SubmissionFail)),
        Outcome::Unschedulable => steps.extend([(0.5, Step::Submit), (0.6, Step::CreateDriver)]),
        _ => {
            steps.extend([
                (0.5, Step::Submit),
                (0.6, Step::CreateDriver),
                (2.5, Step::DriverRunning),
                (4.0, Step::CreateExecutors),
                (6.0, Step::ExecutorsRunning),
            ]);
            if t.dynamic && t.outcome != Outcome::SpotLost {
                steps.extend([(t.run_seconds * 0.3, Step::ScaleUp), (t.run_seconds * 0.7, Step::ScaleDown)]);
            }
            match t.outcome {
                Outcome::ExecutorOom => steps.extend([(half, Step::OomExecutor), (half + 2.0, Step::ReplaceExecutor)]),
                Outcome::SpotLost => steps.push((half, Step::NodeLost)),
                _ => {}
            }
            if t.outcome != Outcome::SpotLost {
                steps.push((t.run_seconds, Step::Finish));
            }
            steps.push((t.run_seconds + 1.0, Step::RemoveExecutors));
        }
    }
    steps.push((end, Step::End));
    steps
}

pub(super) struct Executor {
    pub(super) name: String,
    pub(super) id: usize,
    pub(super) ip: String,
    pub(super) running: bool,
}

/// The names, ids and progress of one run.
pub(super) struct Run {
    pub(super) template: usize,
    pub(super) number: u32,
    pub(super) start: Timestamp,
    pub(super) steps: Vec<(f64, Step)>,
    pub(super) next: usize,
    pub(super) job_name: String,
    pub(super) driver_pod: String,
    /// The spark-submit pod of a run launched without the operator.
    pub(super) controller_pod: Option<String>,
    /// Spark's resource name prefix: executors and the driver service are named after it.
    pub(super) prefix: String,
    pub(super) app_id: String,
    pub(super) submission_id: String,
    pub(super) executors: Vec<Executor>,
    pub(super) node: Option<String>,
    pub(super) driver_running: bool,
    /// Logs and events are written up to here.
    pub(super) chatter_until: Timestamp,
    pub(super) lines: u64,
    pub(super) last_scheduling_report: Option<Timestamp>,
}

impl Workload {
    /// Run `number` of template `template`, starting at `start`: its names as the operator or
    /// spark-submit gives them, its ids, and the node its driver will land on.
    pub(super) fn new_run(&mut self, template: usize, number: u32, start: Timestamp) -> Run {
        let t = &self.scenario.templates[template];
        let hex = self.rng.hex(16);
        let (job_name, driver_pod, prefix) = match t.launcher {
            Launcher::Operator => {
                let job = format!("{}-{number:03}", t.name);
                (job.clone(), format!("{job}-driver"), format!("{job}-{hex}"))
            }
            Launcher::SparkSubmit => {
                let prefix = format!("{}-{hex}", t.name);
                (prefix.clone(), format!("{prefix}-driver"), prefix)
            }
        };
        // Airflow's KubernetesPodOperator names its pod after the task; a Job after the job.
        let controller_pod = (t.launcher == Launcher::SparkSubmit).then(|| match &t.airflow {
            Some((_, task)) => format!("{}-{}", task.replace('_', "-"), &hex[..8]),
            None => format!("{prefix}-submit"),
        });
        let node = match t.outcome {
            Outcome::Unschedulable => None,
            Outcome::SpotLost => self.nodes.iter().filter(|n| n.spot).map(|n| n.name.clone()).next(),
            _ => Some(self.nodes[self.rng.below(self.nodes.len())].name.clone()),
        };
        Run {
            template,
            number,
            start,
            steps: plan(t),
            next: 0,
            job_name,
            driver_pod,
            controller_pod,
            prefix,
            app_id: format!("spark-{}", self.rng.hex(32)),
            submission_id: format!(
                "{}-{}-4{}-8{}-{}",
                self.rng.hex(8),
                self.rng.hex(4),
                self.rng.hex(3),
                self.rng.hex(3),
                self.rng.hex(12)
            ),
            executors: Vec::new(),
            node,
            driver_running: false,
            chatter_until: start,
            lines: 0,
            last_scheduling_report: None,
        }
    }
}

/// Jobs that get a real Spark driver when one is free: operator jobs that complete and run
/// long enough for a real driver to come up and be looked at.
pub(super) fn wants_real_driver(t: &Template) -> bool {
    t.outcome == Outcome::Complete && t.run_seconds >= 120.0 && t.launcher == Launcher::Operator
}

/// How many executors dynamic allocation adds at its peak.
pub(super) fn extra_executors(t: &Template) -> u32 {
    t.executors.div_ceil(2)
}

/// The application's main file, as its spec and the driver's log name it.
pub(super) fn main_file(t: &Template) -> &'static str {
    if t.python { "s3a://jobs/main.py" } else { "local:///opt/spark/examples/jars/spark-examples.jar" }
}
