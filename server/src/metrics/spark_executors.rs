//! Spark's executor JSON read into the wire's [`SparkExecutor`]s: the executor list
//! (`/api/v1/applications/{id}/allexecutors`, the same on a driver and on the History Server)
//! and, for spill, the stages.
//!
//! Spark adds fields between versions and leaves out what it does not have
//! (`peakMemoryMetrics` before an executor's first heartbeat, `removeTime` while it lives), so
//! unknown fields are ignored, missing ones are `None` or 0, and a value of the wrong shape
//! counts as missing instead of failing the whole list: one odd executor must not hide the
//! others.
//!
//! Spill is not in the executor list: Spark keeps it per stage and, within a stage, per
//! executor. [`spilling_stages`] finds the stages that spilled in the stage list, and
//! [`add_stage_spill`] sums each one's per-executor summary.

use app::api::{PeakMemory, Pod, PodRole, SparkExecutor};
use jiff::Timestamp;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use std::collections::BTreeMap;

/// A field read as `T` when it has that shape, else as absent (null, a string for a number, a
/// negative size, ...).
#[derive(Clone, Debug)]
struct Lenient<T>(Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Ok(Lenient(serde_json::from_value(value).ok()))
    }
}

/// One entry of Spark's executor list (`ExecutorSummary`), only the fields shown.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ExecutorJson {
    id: Lenient<String>,
    host_port: Lenient<String>,
    is_active: Lenient<bool>,
    add_time: Lenient<String>,
    remove_time: Lenient<String>,
    remove_reason: Lenient<String>,
    #[serde(rename = "totalGCTime")]
    total_gc_time: Lenient<u64>,
    total_duration: Lenient<u64>,
    total_input_bytes: Lenient<u64>,
    total_shuffle_read: Lenient<u64>,
    total_shuffle_write: Lenient<u64>,
    failed_tasks: Lenient<u64>,
    completed_tasks: Lenient<u64>,
    max_memory: Lenient<u64>,
    peak_memory_metrics: Lenient<PeakJson>,
}

/// Spark's `peakMemoryMetrics`, keyed by its metric names.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PeakJson {
    #[serde(rename = "JVMHeapMemory")]
    jvm_heap: Lenient<u64>,
    #[serde(rename = "JVMOffHeapMemory")]
    jvm_off_heap: Lenient<u64>,
    #[serde(rename = "ProcessTreeJVMRSSMemory")]
    jvm_rss: Lenient<u64>,
    #[serde(rename = "ProcessTreePythonRSSMemory")]
    python: Lenient<u64>,
    #[serde(rename = "ProcessTreeOtherRSSMemory")]
    other: Lenient<u64>,
    #[serde(rename = "OnHeapExecutionMemory")]
    on_heap_execution: Lenient<u64>,
    #[serde(rename = "OffHeapExecutionMemory")]
    off_heap_execution: Lenient<u64>,
    #[serde(rename = "OnHeapStorageMemory")]
    on_heap_storage: Lenient<u64>,
    #[serde(rename = "OffHeapStorageMemory")]
    off_heap_storage: Lenient<u64>,
    #[serde(rename = "DirectPoolMemory")]
    direct_pool: Lenient<u64>,
    #[serde(rename = "MappedPoolMemory")]
    mapped_pool: Lenient<u64>,
}

impl From<PeakJson> for PeakMemory {
    fn from(p: PeakJson) -> PeakMemory {
        PeakMemory {
            jvm_heap: p.jvm_heap.0,
            jvm_off_heap: p.jvm_off_heap.0,
            jvm_rss: p.jvm_rss.0,
            python: p.python.0,
            other: p.other.0,
            on_heap_execution: p.on_heap_execution.0,
            off_heap_execution: p.off_heap_execution.0,
            on_heap_storage: p.on_heap_storage.0,
            off_heap_storage: p.off_heap_storage.0,
            direct_pool: p.direct_pool.0,
            mapped_pool: p.mapped_pool.0,
        }
    }
}

/// Spark's REST timestamps (`2026-11-21T17:41:46.993GMT`, its own format, not RFC 3339).
fn spark_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    let utc = text.strip_suffix("GMT").map(|t| format!("{t}Z")).unwrap_or_else(|| text.to_string());
    utc.parse().ok()
}

/// The pod of executor `id` (`driver` for the driver) among the job's pods: the newest, when
/// a rerun left several.
fn pod_of<'a>(id: &str, pods: &'a [Pod]) -> Option<&'a Pod> {
    pods.iter()
        .filter(|p| match p.role {
            PodRole::Driver => id == "driver",
            PodRole::Executor => p.executor_id.as_deref() == Some(id),
            PodRole::Controller => false,
        })
        .max_by_key(|p| p.started_at)
}

/// Why a body is not Spark's executor or stage JSON.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a list of executors")]
    NotAList,
    #[error("not a stage")]
    NotAStage,
}

/// The executors of an `allexecutors` body, in Spark's order, each with its pod among `pods`
/// when one names its id. Spill is left unknown: [`apply_spill`] fills it in.
pub fn executors(body: &[u8], pods: &[Pod]) -> Result<Vec<SparkExecutor>, ParseError> {
    let serde_json::Value::Array(entries) = serde_json::from_slice(body)? else { return Err(ParseError::NotAList) };
    Ok(entries
        .into_iter()
        .filter_map(|entry| serde_json::from_value::<ExecutorJson>(entry).ok())
        .filter_map(|e| {
            let id = e.id.0?;
            Some(SparkExecutor {
                pod: pod_of(&id, pods).map(|p| p.name.clone()),
                id,
                host_port: e.host_port.0,
                is_active: e.is_active.0.unwrap_or(false),
                added_at: e.add_time.0.as_deref().and_then(spark_time),
                removed_at: e.remove_time.0.as_deref().and_then(spark_time),
                remove_reason: e.remove_reason.0.filter(|r| !r.is_empty()),
                peak: e.peak_memory_metrics.0.map(PeakMemory::from).unwrap_or_default(),
                total_gc_time_ms: e.total_gc_time.0.unwrap_or(0),
                total_duration_ms: e.total_duration.0.unwrap_or(0),
                memory_bytes_spilled: None,
                disk_bytes_spilled: None,
                total_shuffle_read: e.total_shuffle_read.0.unwrap_or(0),
                total_shuffle_write: e.total_shuffle_write.0.unwrap_or(0),
                total_input_bytes: e.total_input_bytes.0.unwrap_or(0),
                failed_tasks: e.failed_tasks.0.unwrap_or(0),
                completed_tasks: e.completed_tasks.0.unwrap_or(0),
                max_memory: e.max_memory.0.unwrap_or(0),
            })
        })
        .collect())
}

/// One stage of the stage list (`/stages?details=false`), or one stage with its executors
/// (`/stages/{id}/{attempt}?details=true`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct StageJson {
    stage_id: Lenient<u64>,
    attempt_id: Lenient<u64>,
    memory_bytes_spilled: Lenient<u64>,
    disk_bytes_spilled: Lenient<u64>,
    executor_summary: Lenient<BTreeMap<String, SpillJson>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SpillJson {
    memory_bytes_spilled: Lenient<u64>,
    disk_bytes_spilled: Lenient<u64>,
}

/// `(stage id, attempt id)` of the stages in a stage list that spilled to memory or disk.
pub fn spilling_stages(body: &[u8]) -> Result<Vec<(u64, u64)>, ParseError> {
    let serde_json::Value::Array(stages) = serde_json::from_slice(body)? else { return Err(ParseError::NotAList) };
    Ok(stages
        .into_iter()
        .filter_map(|stage| serde_json::from_value::<StageJson>(stage).ok())
        .filter(|s| s.memory_bytes_spilled.0.unwrap_or(0) > 0 || s.disk_bytes_spilled.0.unwrap_or(0) > 0)
        .filter_map(|s| Some((s.stage_id.0?, s.attempt_id.0.unwrap_or(0))))
        .collect())
}

/// Spill per executor id: bytes spilled from memory, and to disk.
pub type SpillTotals = BTreeMap<String, (u64, u64)>;

/// Adds one stage's per-executor spill (its `executorSummary`) into `totals`.
pub fn add_stage_spill(body: &[u8], totals: &mut SpillTotals) -> Result<(), ParseError> {
    let stage: StageJson = serde_json::from_slice(body)?;
    let summary = stage.executor_summary.0.ok_or(ParseError::NotAStage)?;
    for (id, spill) in summary {
        let total = totals.entry(id).or_default();
        total.0 = total.0.saturating_add(spill.memory_bytes_spilled.0.unwrap_or(0));
        total.1 = total.1.saturating_add(spill.disk_bytes_spilled.0.unwrap_or(0));
    }
    Ok(())
}

/// Sets each executor's spill from `totals` (0 where it spilled nothing), or leaves it unknown
/// when the stages could not be read.
pub fn apply_spill(executors: &mut [SparkExecutor], totals: Option<&SpillTotals>) {
    for executor in executors {
        let spill = totals.map(|t| t.get(&executor.id).copied().unwrap_or_default());
        executor.memory_bytes_spilled = spill.map(|s| s.0);
        executor.disk_bytes_spilled = spill.map(|s| s.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `allexecutors` of a running pyspark 4.1.1 driver (`local[2]`: the driver is the only
    /// executor), as it answered.
    const DRIVER_ALLEXECUTORS: &str = include_str!("fixtures/driver-allexecutors.json");
    /// The same application's `allexecutors` from a History Server (pyspark 4.1.1).
    const HISTORY_ALLEXECUTORS: &str = include_str!("fixtures/history-allexecutors.json");
    /// `/stages/1/0?details=true&taskStatus=KILLED` of that driver: the executor summary
    /// without the task list.
    const DRIVER_STAGE: &str = include_str!("fixtures/driver-stage.json");

    fn pod(name: &str, role: PodRole, executor_id: Option<&str>) -> Pod {
        Pod {
            name: name.into(),
            role,
            node: None,
            instance_type: None,
            capacity_type: None,
            phase: "Running".into(),
            restarts: 0,
            exit_code: None,
            reason: None,
            started_at: None,
            finished_at: None,
            deleted: false,
            containers: vec![],
            executor_id: executor_id.map(String::from),
            resources: vec![],
        }
    }

    #[test]
    fn a_real_driver_body_reads_with_its_peaks() {
        let pods = [pod("etl-driver", PodRole::Driver, None), pod("etl-exec-1", PodRole::Executor, Some("1"))];
        let executors = executors(DRIVER_ALLEXECUTORS.as_bytes(), &pods).unwrap();
        assert_eq!(executors.len(), 1);
        let driver = &executors[0];
        assert_eq!((driver.id.as_str(), driver.pod.as_deref(), driver.is_active), ("driver", Some("etl-driver"), true));
        assert_eq!(driver.host_port.as_deref(), Some("127.0.0.1:35123"));
        assert_eq!(driver.added_at, Some("2026-11-21T17:41:46.993Z".parse().unwrap()));
        assert_eq!((driver.removed_at, driver.remove_reason.as_deref()), (None, None));
        assert_eq!(driver.peak.jvm_heap, Some(154_910_176));
        assert_eq!(driver.peak.jvm_off_heap, Some(185_809_568));
        assert_eq!((driver.peak.python, driver.peak.other, driver.peak.direct_pool), (Some(0), Some(0), Some(275_476)));
        assert_eq!((driver.total_gc_time_ms, driver.total_duration_ms), (744, 73_289));
        assert_eq!((driver.total_shuffle_read, driver.total_shuffle_write, driver.completed_tasks), (6_454, 6_454, 98));
        assert_eq!(driver.max_memory, 455_501_414);
        assert_eq!(driver.memory_bytes_spilled, None, "spill comes from the stages");
    }

    #[test]
    fn a_real_history_server_body_reads_the_same_way() {
        let executors = executors(HISTORY_ALLEXECUTORS.as_bytes(), &[]).unwrap();
        assert_eq!(executors.len(), 1);
        assert_eq!((executors[0].id.as_str(), executors[0].pod.as_deref()), ("driver", None));
        assert_eq!(executors[0].peak.on_heap_execution, Some(8_650_736));
        assert_eq!(executors[0].completed_tasks, 98);
    }

    #[test]
    fn a_dead_executor_without_peaks_and_odd_fields_still_reads() {
        let body = r#"[
            {"id": "3", "isActive": false, "addTime": "2026-11-21T17:41:46.993GMT",
             "removeTime": "2026-11-21T17:50:00.000GMT", "removeReason": "Executor killed by driver.",
             "totalGCTime": -5, "totalDuration": "many", "failedTasks": 2, "brandNewField": {"x": 1}},
            {"hostPort": "no id"},
            "not an executor",
            {"id": "4", "peakMemoryMetrics": {"JVMHeapMemory": 1.5e3, "ProcessTreePythonRSSMemory": 7}, "addTime": "yesterday"}
        ]"#;
        let pods = [pod("etl-exec-3", PodRole::Executor, Some("3"))];
        let found = executors(body.as_bytes(), &pods).unwrap();
        assert_eq!(found.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["3", "4"]);
        let dead = &found[0];
        assert_eq!(dead.pod.as_deref(), Some("etl-exec-3"));
        assert!(!dead.is_active);
        assert_eq!(dead.removed_at, Some("2026-11-21T17:50:00Z".parse().unwrap()));
        assert_eq!(dead.remove_reason.as_deref(), Some("Executor killed by driver."));
        assert_eq!((dead.total_gc_time_ms, dead.total_duration_ms, dead.failed_tasks), (0, 0, 2));
        assert_eq!(dead.peak, PeakMemory::default());
        assert_eq!((found[1].peak.jvm_heap, found[1].peak.python, found[1].added_at), (None, Some(7), None));
    }

    #[test]
    fn what_is_not_an_executor_list_is_refused() {
        for body in ["<html>500</html>", "{\"id\": \"driver\"}", ""] {
            assert!(executors(body.as_bytes(), &[]).is_err(), "{body}");
        }
        assert!(executors(b"[]", &[]).unwrap().is_empty());
    }

    #[test]
    fn spill_is_summed_per_executor_over_the_stages_that_spilled() {
        let stages = r#"[{"stageId": 5, "attemptId": 1, "memoryBytesSpilled": 10, "diskBytesSpilled": 4},
                         {"stageId": 4, "attemptId": 0, "memoryBytesSpilled": 0, "diskBytesSpilled": 0},
                         {"stageId": 3, "memoryBytesSpilled": 0, "diskBytesSpilled": 9}]"#;
        assert_eq!(spilling_stages(stages.as_bytes()).unwrap(), [(5, 1), (3, 0)]);
        let mut totals = SpillTotals::new();
        add_stage_spill(br#"{"executorSummary": {"1": {"memoryBytesSpilled": 10, "diskBytesSpilled": 4}}}"#, &mut totals).unwrap();
        add_stage_spill(br#"{"executorSummary": {"1": {"diskBytesSpilled": 9}, "2": {}}}"#, &mut totals).unwrap();
        add_stage_spill(DRIVER_STAGE.as_bytes(), &mut totals).unwrap();
        assert_eq!(totals.get("1"), Some(&(10, 13)));
        assert_eq!(totals.get("driver"), Some(&(0, 0)), "the real stage body names the driver");
        assert!(add_stage_spill(b"[]", &mut totals).is_err());

        let mut found = executors(br#"[{"id": "1"}, {"id": "9"}]"#, &[]).unwrap();
        apply_spill(&mut found, Some(&totals));
        assert_eq!((found[0].memory_bytes_spilled, found[0].disk_bytes_spilled), (Some(10), Some(13)));
        assert_eq!((found[1].memory_bytes_spilled, found[1].disk_bytes_spilled), (Some(0), Some(0)));
        apply_spill(&mut found, None);
        assert_eq!(found[0].memory_bytes_spilled, None);
    }
}
