//! The compact projection of a ScheduledSparkApplication: the parent of a job's runs, so that a
//! run's page can say which schedule started it and when the next run is due.

use super::pod::JobKey;
use app::api::Schedule;
use jiff::Timestamp;
use kube::api::DynamicObject;

/// A ScheduledSparkApplication, projected (no template: the runs carry their own spec).
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleSummary {
    pub key: JobKey,
    pub schedule: Option<String>,
    pub suspended: bool,
    pub state: Option<String>,
    pub last_run: Option<Timestamp>,
    pub next_run: Option<Timestamp>,
    pub last_run_name: Option<String>,
}

impl ScheduleSummary {
    /// Read leniently: a malformed field costs that field only.
    pub fn from_object(object: &DynamicObject) -> Option<ScheduleSummary> {
        let meta = &object.metadata;
        let key = JobKey { namespace: meta.namespace.clone()?, name: meta.name.clone()? };
        let (spec, status) = (&object.data["spec"], &object.data["status"]);
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let time = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse().ok());
        Some(ScheduleSummary {
            key,
            schedule: text(&spec["schedule"]),
            suspended: spec["suspend"].as_bool().unwrap_or(false),
            state: text(&status["scheduleState"]),
            last_run: time(&status["lastRun"]),
            next_run: time(&status["nextRun"]),
            last_run_name: text(&status["lastRunName"]),
        })
    }

    pub fn wire(&self) -> Schedule {
        Schedule {
            name: self.key.name.clone(),
            schedule: self.schedule.clone(),
            suspended: self.suspended,
            state: self.state.clone(),
            last_run: self.last_run,
            next_run: self.next_run,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schedule_is_read_and_odd_fields_cost_only_themselves() {
        let object: DynamicObject = serde_json::from_value(json!({
            "metadata": {"name": "nightly", "namespace": "etl"},
            "spec": {"schedule": "@every 5m", "suspend": "yes"},
            "status": {"scheduleState": "Scheduled", "nextRun": "2026-11-21T10:00:00Z", "lastRun": 12}
        }))
        .unwrap();
        let s = ScheduleSummary::from_object(&object).unwrap();
        assert_eq!(s.schedule.as_deref(), Some("@every 5m"));
        assert!(!s.suspended);
        assert_eq!(s.last_run, None);
        assert_eq!(s.next_run.map(|t| t.to_string()).as_deref(), Some("2026-11-21T10:00:00Z"));
    }
}
