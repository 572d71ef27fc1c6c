//! The per-executor table of Spark's own metrics: one row per executor (the driver first), the
//! columns a user reads to find the executor that went wrong (peak memory by kind, GC time as a
//! share of task time, spill, shuffle, failed tasks), and which cells stand out.
//!
//! A cell stands out when its value is far above the other executors' (skew: one executor
//! shuffling or spilling five times the median), or past a line Spark's own UI draws (GC over
//! 10 % of task time), or is a failure at all (failed tasks). The driver is shown but never
//! compared: its work differs from the executors'.

use super::median;
use crate::api::{Pod, PodRole, SparkExecutor, SparkExecutors};
use std::cmp::Ordering;

/// Spark's Executors page colours GC time red past this share of task time.
pub const GC_SHARE_ALARM: f64 = 0.1;
/// How far above the median a value must be to stand out: this many times the median...
const OUTLIER_TIMES_MEDIAN: f64 = 2.0;
/// ...and this many robust standard deviations (1.4826 × the median absolute deviation)...
const OUTLIER_DEVIATIONS: f64 = 3.0;
/// ...and at least this much more: 16 MiB more heap than the median is noise, and so is 2 % GC
/// against 1 %.
const OUTLIER_MIN_BYTES: f64 = 16.0 * 1024.0 * 1024.0;
const OUTLIER_MIN_SHARE: f64 = 0.05;
/// Executors needed before anything is called an outlier among them.
const OUTLIER_MIN_EXECUTORS: usize = 3;

/// What a column holds, for its formatting and for what counts as standing out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bytes,
    /// A share of task time, 0..1.
    Share,
    Count,
}

/// The table's numeric columns, in their order on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    Heap,
    OffHeap,
    Python,
    Other,
    Limit,
    GcShare,
    Spill,
    ShuffleRead,
    ShuffleWrite,
    Input,
    FailedTasks,
    Tasks,
}

impl Column {
    pub const ALL: [Column; 12] = [
        Column::Heap,
        Column::OffHeap,
        Column::Python,
        Column::Other,
        Column::Limit,
        Column::GcShare,
        Column::Spill,
        Column::ShuffleRead,
        Column::ShuffleWrite,
        Column::Input,
        Column::FailedTasks,
        Column::Tasks,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Column::Heap => "heap",
            Column::OffHeap => "off-heap",
            Column::Python => "python",
            Column::Other => "other",
            Column::Limit => "limit",
            Column::GcShare => "gc",
            Column::Spill => "spill",
            Column::ShuffleRead => "shuffle-read",
            Column::ShuffleWrite => "shuffle-write",
            Column::Input => "input",
            Column::FailedTasks => "failed",
            Column::Tasks => "tasks",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Column::Heap => "Peak heap",
            Column::OffHeap => "Peak off-heap",
            Column::Python => "Peak Python",
            Column::Other => "Peak other",
            Column::Limit => "Memory limit",
            Column::GcShare => "GC time",
            Column::Spill => "Spill (disk)",
            Column::ShuffleRead => "Shuffle read",
            Column::ShuffleWrite => "Shuffle write",
            Column::Input => "Input",
            Column::FailedTasks => "Failed tasks",
            Column::Tasks => "Tasks",
        }
    }

    /// What the header's tooltip says: where the number comes from.
    pub fn explain(self) -> &'static str {
        match self {
            Column::Heap => "Largest JVM heap in use (Spark's JVMHeapMemory peak)",
            Column::OffHeap => "Largest JVM memory outside the heap: metaspace, code cache (JVMOffHeapMemory), plus NIO direct buffers",
            Column::Python => {
                "Largest resident memory of the PySpark workers, outside the JVM (needs spark.executor.processTreeMetrics.enabled)"
            }
            Column::Other => "Largest resident memory of other child processes (needs spark.executor.processTreeMetrics.enabled)",
            Column::Limit => "The container's memory limit: what all of the above must fit in",
            Column::GcShare => "Time in garbage collection as a share of time running tasks; Spark flags over 10 %",
            Column::Spill => "Bytes spilled to disk, summed over stages (memory-side size in the tooltip)",
            Column::ShuffleRead => "Shuffle bytes read",
            Column::ShuffleWrite => "Shuffle bytes written",
            Column::Input => "Bytes read from sources",
            Column::FailedTasks => "Tasks that failed on this executor",
            Column::Tasks => "Tasks completed",
        }
    }

    pub fn kind(self) -> Kind {
        match self {
            Column::GcShare => Kind::Share,
            Column::FailedTasks | Column::Tasks => Kind::Count,
            _ => Kind::Bytes,
        }
    }

    /// Whether a large value is news. A memory limit or a task count is not wrong for being big.
    fn flags_high(self) -> bool {
        !matches!(self, Column::Limit | Column::Tasks)
    }

    fn value(self, e: &SparkExecutor, limit: Option<f64>) -> Option<f64> {
        let bytes = |v: Option<u64>| v.map(|v| v as f64);
        match self {
            Column::Heap => bytes(e.peak.jvm_heap),
            Column::OffHeap => match (e.peak.jvm_off_heap, e.peak.direct_pool) {
                (None, None) => None,
                (a, b) => Some((a.unwrap_or(0) + b.unwrap_or(0)) as f64),
            },
            Column::Python => bytes(e.peak.python),
            Column::Other => bytes(e.peak.other),
            Column::Limit => limit,
            Column::GcShare => (e.total_duration_ms > 0).then(|| e.total_gc_time_ms as f64 / e.total_duration_ms as f64),
            Column::Spill => bytes(e.disk_bytes_spilled),
            Column::ShuffleRead => Some(e.total_shuffle_read as f64),
            Column::ShuffleWrite => Some(e.total_shuffle_write as f64),
            Column::Input => Some(e.total_input_bytes as f64),
            Column::FailedTasks => Some(e.failed_tasks as f64),
            Column::Tasks => Some(e.completed_tasks as f64),
        }
    }
}

/// One cell: its value (none when Spark has none) and whether it stands out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub value: Option<f64>,
    pub outlier: bool,
}

/// One executor's row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// `driver` or Spark's executor id.
    pub id: String,
    /// The executor's pod, when the job's pods name it.
    pub pod: Option<String>,
    pub is_driver: bool,
    pub is_active: bool,
    /// Why Spark removed it, when it did.
    pub removed: Option<String>,
    /// Memory spilled (the deserialized size), beside the disk figure.
    pub memory_spilled: Option<u64>,
    /// In [`Column::ALL`]'s order.
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn cell(&self, column: Column) -> Cell {
        self.cells.get(index(column)).copied().unwrap_or(Cell { value: None, outlier: false })
    }

    /// The log source name of the merged log (`driver`, `exec-3`), for a link to its lines.
    pub fn log_source(&self) -> String {
        if self.is_driver { "driver".to_string() } else { format!("exec-{}", self.id) }
    }
}

/// The table: rows in Spark's order (driver, then executors by id), and the columns worth
/// showing (a column no executor has a value in is left out, and named in `empty`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub rows: Vec<Row>,
    pub columns: Vec<Column>,
    pub empty: Vec<Column>,
    /// The executors' median per column (in [`Column::ALL`]'s order), what an outlier is far
    /// above; none with fewer than three executors.
    pub typical: Vec<Option<f64>>,
}

impl Table {
    pub fn typical(&self, column: Column) -> Option<f64> {
        self.typical.get(index(column)).copied().flatten()
    }
}

fn index(column: Column) -> usize {
    Column::ALL.iter().position(|c| *c == column).unwrap_or(0)
}

/// Builds the table from Spark's executors and the job's pods (for the memory limits).
pub fn table(spark: &SparkExecutors, pods: &[Pod]) -> Table {
    let mut rows: Vec<Row> = spark
        .executors
        .iter()
        .map(|e| {
            let is_driver = e.id == "driver";
            let pod = e.pod.clone().or_else(|| is_driver.then(|| driver_pod(pods)).flatten());
            let limit = pod.as_deref().and_then(|name| memory_limit(pods, name));
            Row {
                id: e.id.clone(),
                pod,
                is_driver,
                is_active: e.is_active,
                removed: e.remove_reason.clone().filter(|r| !r.is_empty()).or_else(|| e.removed_at.map(|_| "removed".to_string())),
                memory_spilled: e.memory_bytes_spilled,
                cells: Column::ALL.iter().map(|c| Cell { value: c.value(e, limit), outlier: false }).collect(),
            }
        })
        .collect();
    rows.sort_by(spark_order);
    let mut typical_values = Vec::new();
    for (i, column) in Column::ALL.iter().enumerate() {
        let values: Vec<Option<f64>> = rows.iter().map(|r| if r.is_driver { None } else { r.cells[i].value }).collect();
        let flags = outliers(*column, &values);
        for (row, flag) in rows.iter_mut().zip(flags) {
            // The driver is not compared, but its own alarms count.
            row.cells[i].outlier = flag || (row.is_driver && row.cells[i].value.is_some_and(|v| alarm(*column, v)));
        }
        typical_values.push(typical(&values));
    }
    let (columns, empty) = Column::ALL.iter().partition(|c| {
        let i = index(**c);
        // Python and other process memory are 0 when process-tree metrics are off: Spark does
        // not tell "off" from "none", so all-zero means "not measured" there.
        let measured = |v: Option<f64>| v.is_some_and(|v| v > 0.0 || !matches!(c, Column::Python | Column::Other));
        rows.iter().any(|r| measured(r.cells[i].value))
    });
    Table { rows, columns, empty, typical: typical_values }
}

/// The driver first, then executors by their numeric id.
fn spark_order(a: &Row, b: &Row) -> Ordering {
    b.is_driver.cmp(&a.is_driver).then_with(|| {
        let (x, y) = (a.id.parse::<u64>().ok(), b.id.parse::<u64>().ok());
        x.cmp(&y).then_with(|| a.id.cmp(&b.id))
    })
}

fn driver_pod(pods: &[Pod]) -> Option<String> {
    pods.iter().filter(|p| p.role == PodRole::Driver).max_by_key(|p| p.started_at).map(|p| p.name.clone())
}

/// The memory limit of a pod's Spark container (the one named like Spark names it, else the
/// first with a limit).
fn memory_limit(pods: &[Pod], name: &str) -> Option<f64> {
    let pod = pods.iter().find(|p| p.name == name)?;
    let spark = pod.resources.iter().find(|r| matches!(r.container.as_str(), "spark-kubernetes-driver" | "spark-kubernetes-executor"));
    spark.or_else(|| pod.resources.iter().find(|r| r.limits.memory.is_some())).and_then(|r| r.limits.memory)
}

/// Which of `values` (one per row; `None` is not compared) stand out in `column`.
pub fn outliers(column: Column, values: &[Option<f64>]) -> Vec<bool> {
    let mut flags = vec![false; values.len()];
    if !column.flags_high() {
        return flags;
    }
    for (flag, value) in flags.iter_mut().zip(values) {
        *flag = value.is_some_and(|v| alarm(column, v));
    }
    let Some(typical) = typical(values) else { return flags };
    let mut deviations: Vec<f64> = values.iter().flatten().filter(|v| v.is_finite()).map(|v| (v - typical).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let spread = 1.4826 * median(&deviations);
    let min_excess = match column.kind() {
        Kind::Bytes => OUTLIER_MIN_BYTES,
        Kind::Share => OUTLIER_MIN_SHARE,
        Kind::Count => 0.0,
    };
    for (flag, value) in flags.iter_mut().zip(values) {
        if let Some(v) = value {
            let excess = v - typical;
            *flag |= excess > 0.0 && *v >= OUTLIER_TIMES_MEDIAN * typical && excess > OUTLIER_DEVIATIONS * spread && excess >= min_excess;
        }
    }
    flags
}

/// Lines that need no comparison: any failed task, GC past Spark's own alarm.
fn alarm(column: Column, value: f64) -> bool {
    match column {
        Column::FailedTasks => value > 0.0,
        Column::GcShare => value > GC_SHARE_ALARM,
        _ => false,
    }
}

/// The median of the values present, when there are enough to compare against.
pub fn typical(values: &[Option<f64>]) -> Option<f64> {
    let mut present: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    if present.len() < OUTLIER_MIN_EXECUTORS {
        return None;
    }
    present.sort_by(f64::total_cmp);
    Some(median(&present))
}

/// Orders rows by `column` (largest first when `descending`), missing values last either way,
/// ties in Spark's order: the table's sort on a header click.
pub fn sort(rows: &mut [Row], column: Column, descending: bool) {
    rows.sort_by(|a, b| {
        let by_value = match (a.cell(column).value, b.cell(column).value) {
            (Some(x), Some(y)) if descending => y.total_cmp(&x),
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_value.then_with(|| spark_order(a, b))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ContainerResources, PeakMemory, Resources, SparkSource};
    use crate::metrics::test_support;

    const MIB: u64 = 1024 * 1024;

    fn executor(id: &str, heap_mib: u64, shuffle_read: u64, gc_ms: u64) -> SparkExecutor {
        SparkExecutor {
            id: id.to_string(),
            pod: Some(if id == "driver" { "app-driver".to_string() } else { format!("app-exec-{id}") }),
            is_active: true,
            peak: PeakMemory { jvm_heap: Some(heap_mib * MIB), python: Some(0), other: Some(0), ..Default::default() },
            total_gc_time_ms: gc_ms,
            total_duration_ms: 10_000,
            total_shuffle_read: shuffle_read,
            completed_tasks: 10,
            ..Default::default()
        }
    }

    fn pod(name: &str, role: PodRole, container: &str, limit_mib: u64) -> Pod {
        let limits = Resources { cpu: None, memory: Some((limit_mib * MIB) as f64) };
        Pod {
            resources: vec![ContainerResources { container: container.to_string(), requests: Resources::default(), limits }],
            ..test_support::pod(name, role)
        }
    }

    fn spark(executors: Vec<SparkExecutor>) -> SparkExecutors {
        SparkExecutors { from: SparkSource::Driver, executors }
    }

    #[test]
    fn skewed_executor_stands_out_and_the_driver_is_never_compared() {
        let mut executors = vec![executor("driver", 4000, 0, 9000)];
        executors.extend((1..=9).map(|i| executor(&i.to_string(), 500 + i, 100 * MIB, 100)));
        executors.push(executor("10", 2900, 900 * MIB, 200));
        let table = table(&spark(executors), &[pod("app-exec-10", PodRole::Executor, "spark-kubernetes-executor", 4096)]);
        let ten = table.rows.iter().find(|r| r.id == "10").unwrap();
        assert!(ten.cell(Column::Heap).outlier && ten.cell(Column::ShuffleRead).outlier);
        assert!(!ten.cell(Column::GcShare).outlier, "2 % GC is fine");
        assert_eq!(ten.cell(Column::Limit).value, Some((4096 * MIB) as f64));
        let driver = &table.rows[0];
        assert!(driver.is_driver && driver.cell(Column::GcShare).outlier, "90 % GC is past Spark's line, driver or not");
        assert!(!driver.cell(Column::Heap).outlier, "the driver's heap is not compared with executors'");
        assert!(table.rows.iter().filter(|r| r.id != "10").all(|r| !r.cell(Column::ShuffleRead).outlier));
    }

    #[test]
    fn even_executors_have_no_outliers_and_small_excess_is_noise() {
        // 10 MiB above a flat median is twice it, but under the floor for sizes.
        let mut executors: Vec<_> = (1..=5).map(|i| executor(&i.to_string(), 5, 1000, 0)).collect();
        executors.push(executor("6", 15, 1000, 0));
        let table = table(&spark(executors), &[]);
        assert!(table.rows.iter().all(|r| r.cells.iter().all(|c| !c.outlier)), "{table:?}");
    }

    #[test]
    fn failed_tasks_always_stand_out_and_a_task_count_never_does() {
        let mut executors: Vec<_> = (1..=3).map(|i| executor(&i.to_string(), 100, 0, 0)).collect();
        executors[1].failed_tasks = 1;
        executors[2].completed_tasks = 10_000;
        let table = table(&spark(executors), &[]);
        assert!(table.rows[1].cell(Column::FailedTasks).outlier);
        assert!(!table.rows[2].cell(Column::Tasks).outlier);
    }

    #[test]
    fn columns_without_values_are_left_out_and_named() {
        let table = table(&spark(vec![executor("1", 100, 0, 0), executor("2", 100, 0, 0)]), &[]);
        for column in [Column::Python, Column::Other, Column::Limit, Column::Spill] {
            assert!(table.empty.contains(&column) && !table.columns.contains(&column), "{column:?}");
        }
        assert!(table.columns.contains(&Column::Heap) && table.columns.contains(&Column::ShuffleRead));
    }

    #[test]
    fn executors_in_spark_order_then_sorted_by_a_column_with_missing_values_last() {
        let mut executors = vec![executor("10", 300, 0, 0), executor("2", 100, 0, 0), executor("driver", 50, 0, 0)];
        executors.push(SparkExecutor { id: "3".into(), ..Default::default() });
        let mut rows = table(&spark(executors), &[]).rows;
        assert_eq!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["driver", "2", "3", "10"]);
        sort(&mut rows, Column::Heap, true);
        assert_eq!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["10", "2", "driver", "3"]);
        sort(&mut rows, Column::Heap, false);
        assert_eq!(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["driver", "2", "10", "3"]);
        assert_eq!(rows[0].log_source(), "driver");
        assert_eq!(rows[1].log_source(), "exec-2");
    }

    #[test]
    fn the_driver_row_finds_its_pod_when_spark_names_none() {
        let mut driver = executor("driver", 100, 0, 0);
        driver.pod = None;
        let table = table(&spark(vec![driver]), &[pod("app-driver", PodRole::Driver, "spark-kubernetes-driver", 2048)]);
        assert_eq!(table.rows[0].pod.as_deref(), Some("app-driver"));
        assert_eq!(table.rows[0].cell(Column::Limit).value, Some((2048 * MIB) as f64));
    }
}
