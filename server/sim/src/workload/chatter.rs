//! What happens between a run's steps: running containers write their logs at their rates, and
//! a pod that does not fit is retried (and reported) by the scheduler every 30 s.

use super::nodes::UNSCHEDULABLE;
use super::{DRIVER_CONTAINER, EXECUTOR_CONTAINER, Workload};
use crate::clock::after;
use crate::spark_logs as text;
use jiff::Timestamp;

/// Log lines per second: a driver, each executor.
const DRIVER_LINES_PER_SECOND: f64 = 1.5;
const EXECUTOR_LINES_PER_SECOND: f64 = 0.5;
/// How often the scheduler retries (and reports) a pod that does not fit.
const SCHEDULING_RETRY_SECONDS: f64 = 30.0;

fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_nanosecond() - from.as_nanosecond()) as f64 / 1e9
}

impl Workload {
    /// Logs and scheduling retries between the last moment written and `until`.
    pub(super) fn chatter(&mut self, i: usize, until: Timestamp) {
        let from = self.runs[i].chatter_until;
        if until <= from {
            return;
        }
        self.runs[i].chatter_until = until;
        let elapsed = seconds_between(from, until);
        let rate = self.scenario.log_rate;
        if rate > 0.0 && self.runs[i].driver_running {
            let n = (elapsed * DRIVER_LINES_PER_SECOND * rate + self.rng.unit()) as u64;
            let executors = self.template(i).executors;
            let driver = self.runs[i].driver_pod.clone();
            self.spread(i, &driver, DRIVER_CONTAINER, from, elapsed, n, |at, line| text::driver_progress(at, line, executors));
        }
        for e in 0..self.runs[i].executors.len() {
            if rate == 0.0 || !self.runs[i].executors[e].running {
                continue;
            }
            let n = (elapsed * EXECUTOR_LINES_PER_SECOND * rate + self.rng.unit()) as u64;
            let name = self.runs[i].executors[e].name.clone();
            self.spread(i, &name, EXECUTOR_CONTAINER, from, elapsed, n, text::executor_progress);
        }
        let stuck = self.runs[i].node.is_none() && self.runs[i].last_scheduling_report.is_some();
        if stuck {
            let mut last = self.runs[i].last_scheduling_report.unwrap_or(from);
            while seconds_between(last, until) >= SCHEDULING_RETRY_SECONDS {
                last = after(last, SCHEDULING_RETRY_SECONDS);
                let (ns, pod) = (self.template(i).namespace.clone(), self.runs[i].driver_pod.clone());
                self.pod_event(&ns, &pod, "FailedScheduling", UNSCHEDULABLE, true, "default-scheduler", last);
            }
            self.runs[i].last_scheduling_report = Some(last);
        }
    }

    /// Writes `n` lines of chatter to a container, spread over `elapsed` seconds after `from`.
    #[allow(clippy::too_many_arguments)]
    fn spread(
        &mut self,
        i: usize,
        pod: &str,
        container: &str,
        from: Timestamp,
        elapsed: f64,
        n: u64,
        line: impl Fn(Timestamp, u64) -> String,
    ) {
        if n == 0 {
            return;
        }
        let buffer = self.sim.logs.current(&self.scenario.templates[self.runs[i].template].namespace, pod, container);
        for k in 0..n {
            let at = after(from, elapsed * (k as f64 + self.rng.unit()) / n as f64);
            self.runs[i].lines += 1;
            buffer.push(at, &line(at, self.runs[i].lines));
        }
    }
}
