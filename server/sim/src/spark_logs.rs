//! What Spark, PySpark and spark-operator write to their logs, in their real formats
//! (`REFERENCE.md`, "Log line formats"): the driver's entrypoint trace and log4j lines
//! (`yy/MM/dd HH:mm:ss LEVEL Logger: msg`), Java stack traces, Python tracebacks, and the
//! operator's zap console lines.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// Spark's log4j timestamp, `yy/MM/dd HH:mm:ss`, in the image's UTC.
fn log4j_time(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC).strftime("%y/%m/%d %H:%M:%S").to_string()
}

/// One log4j line.
pub fn log4j(t: Timestamp, level: &str, logger: &str, message: &str) -> String {
    format!("{} {level} {logger}: {message}", log4j_time(t))
}

/// What a driver pod prints as it starts: the entrypoint's `set -x` trace, then Spark's banner.
pub fn driver_start(t: Timestamp, app: &str, class_or_file: &str, executors: u32, ui_service: &str) -> Vec<String> {
    let mut lines = vec![
        "++ id -u".to_string(),
        "+ myuid=185".to_string(),
        "++ id -g".to_string(),
        "+ mygid=0".to_string(),
        "+ set +e".to_string(),
        format!(
            "+ exec /usr/bin/tini -s -- /opt/spark/bin/spark-submit --conf spark.driver.bindAddress=10.1.0.1 --deploy-mode client --properties-file /opt/spark/conf/spark.properties {class_or_file}"
        ),
    ];
    lines.extend([
        log4j(t, "INFO", "SparkContext", "Running Spark version 4.0.1"),
        log4j(t, "INFO", "SparkContext", "OS info Linux, 6.1.0-28-cloud-amd64, amd64"),
        log4j(t, "INFO", "SparkContext", "Java version 17.0.15"),
        log4j(t, "INFO", "ResourceUtils", "=============================================================="),
        log4j(t, "INFO", "ResourceUtils", "No custom resources configured for spark.driver."),
        log4j(t, "INFO", "SparkContext", &format!("Submitted application: {app}")),
        log4j(t, "INFO", "Utils", "Successfully started service 'sparkDriver' on port 7078."),
        log4j(t, "INFO", "SparkEnv", "Registering BlockManagerMaster"),
        log4j(t, "INFO", "Utils", "Successfully started service 'SparkUI' on port 4040."),
        log4j(t, "INFO", "SparkUI", &format!("Bound SparkUI to 0.0.0.0, and started at http://{ui_service}:4040")),
        log4j(
            t,
            "INFO",
            "ExecutorPodsAllocator",
            &format!("Going to request {executors} executors from Kubernetes for ResourceProfile Id: 0, target: {executors}, known: 0, sharedSlotFromPendingPods: 2147483647."),
        ),
    ]);
    lines
}

/// An executor's first lines.
pub fn executor_start(t: Timestamp, id: usize, ip: &str, driver_service: &str) -> Vec<String> {
    vec![
        log4j(t, "INFO", "CoarseGrainedExecutorBackend", &format!("Started daemon with process name: 15@{ip}")),
        log4j(t, "INFO", "SignalUtils", "Registering signal handler for TERM"),
        log4j(
            t,
            "INFO",
            "CoarseGrainedExecutorBackend",
            &format!("Connecting to driver: spark://CoarseGrainedScheduler@{driver_service}:7078"),
        ),
        log4j(t, "INFO", "CoarseGrainedExecutorBackend", "Successfully registered with driver"),
        log4j(t, "INFO", "Executor", &format!("Starting executor ID {id} on host {ip}")),
    ]
}

/// One line of the driver's steady chatter while tasks run; `n` numbers them.
pub fn driver_progress(t: Timestamp, n: u64, executors: u32) -> String {
    let stage = n / 40;
    let task = n % 40;
    let executor = 1 + n % u64::from(executors.max(1));
    match n % 4 {
        0 => log4j(
            t,
            "INFO",
            "TaskSetManager",
            &format!(
                "Starting task {task}.0 in stage {stage}.0 (TID {n}) (10.1.0.{executor}, executor {executor}, partition {task}, PROCESS_LOCAL, 9015 bytes)"
            ),
        ),
        1 => log4j(
            t,
            "INFO",
            "TaskSetManager",
            &format!(
                "Finished task {task}.0 in stage {stage}.0 (TID {n}) in {} ms on 10.1.0.{executor} (executor {executor}) ({}/40)",
                800 + n % 900,
                task + 1
            ),
        ),
        2 => log4j(
            t,
            "INFO",
            "BlockManagerInfo",
            &format!("Added broadcast_{stage}_piece0 in memory on 10.1.0.{executor}:7079 (size: 12.4 KiB, free: 1048.7 MiB)"),
        ),
        _ if task == 39 => log4j(
            t,
            "INFO",
            "DAGScheduler",
            &format!("Job {stage} finished: save at NativeMethodAccessorImpl.java:0, took {}.{} s", 30 + stage, n % 1000),
        ),
        _ => log4j(
            t,
            "INFO",
            "DAGScheduler",
            &format!(
                "Submitting {} missing tasks from ResultStage {stage} (MapPartitionsRDD[{}] at save at NativeMethodAccessorImpl.java:0)",
                40 - task,
                stage * 3 + 2
            ),
        ),
    }
}

/// One line of an executor's chatter.
pub fn executor_progress(t: Timestamp, n: u64) -> String {
    match n % 3 {
        0 => log4j(t, "INFO", "Executor", &format!("Running task {}.0 in stage {}.0 (TID {n})", n % 40, n / 40)),
        1 => log4j(
            t,
            "INFO",
            "ShuffleBlockFetcherIterator",
            &format!(
                "Getting 200 (12.{} MiB) non-empty blocks including 40 (2.1 MiB) local and 0 (0.0 B) host-local and 160 (10.0 MiB) remote blocks",
                n % 10
            ),
        ),
        _ => log4j(
            t,
            "INFO",
            "Executor",
            &format!("Finished task {}.0 in stage {}.0 (TID {n}). 2148 bytes result sent to driver", n % 40, n / 40),
        ),
    }
}

/// The driver's account of an executor killed for memory (exit 137), as Spark words it.
pub fn executor_lost(t: Timestamp, id: usize, ip: &str) -> Vec<String> {
    vec![
        log4j(
            t,
            "ERROR",
            "TaskSchedulerImpl",
            &format!("Lost executor {id} on {ip}: The executor with id {id} exited with exit code 137(SIGKILL, possible container OOM)."),
        ),
        format!("The API gave the following container statuses:"),
        format!("\t container name: spark-kubernetes-executor"),
        format!("\t container image: spark:4.0.1"),
        format!("\t container state: terminated"),
        format!("\t container started at: {}", t.strftime("%Y-%m-%dT%H:%M:%SZ")),
        format!("\t exit code: 137"),
        format!("\t termination reason: OOMKilled"),
        log4j(
            t,
            "WARN",
            "TaskSetManager",
            &format!(
                "Lost task 7.0 in stage 3.0 (TID 131) ({ip} executor {id}): ExecutorLostFailure (executor {id} exited caused by one of the running tasks) Reason: The executor with id {id} exited with exit code 137(SIGKILL, possible container OOM)."
            ),
        ),
    ]
}

/// What an executor says shortly before the kernel kills it for memory.
pub fn executor_memory_pressure(t: Timestamp) -> Vec<String> {
    vec![
        log4j(t, "WARN", "MemoryStore", "Not enough space to cache rdd_12_7 in memory! (computed 1843.2 MiB so far)"),
        log4j(t, "INFO", "UnsafeExternalSorter", "Thread 64 spilling sort data of 1920.0 MiB to disk (3  times so far)"),
    ]
}

/// A clean end.
pub fn driver_success(t: Timestamp) -> Vec<String> {
    vec![
        log4j(t, "INFO", "SparkContext", "SparkContext is stopping with exitCode 0 from stop at NativeMethodAccessorImpl.java:0."),
        log4j(t, "INFO", "SparkUI", "Stopped Spark web UI at http://10.1.0.1:4040"),
        log4j(t, "INFO", "KubernetesClusterSchedulerBackend", "Shutting down all executors"),
        log4j(t, "INFO", "SparkContext", "Successfully stopped SparkContext"),
        log4j(t, "INFO", "ShutdownHookManager", "Shutdown hook called"),
    ]
}

pub fn executor_shutdown(t: Timestamp) -> Vec<String> {
    vec![
        log4j(t, "INFO", "CoarseGrainedExecutorBackend", "Driver commanded a shutdown"),
        log4j(t, "INFO", "MemoryStore", "MemoryStore cleared"),
        log4j(t, "INFO", "ShutdownHookManager", "Shutdown hook called"),
    ]
}

/// A failing PySpark job: the Python traceback on stderr, after Spark's own error.
pub fn python_failure(t: Timestamp, path: &str) -> Vec<String> {
    vec![
        log4j(t, "ERROR", "SparkContext", "Error in job: [PATH_NOT_FOUND] Path does not exist"),
        "Traceback (most recent call last):".to_string(),
        "  File \"/opt/spark/work-dir/main.py\", line 42, in <module>".to_string(),
        "    df = spark.read.parquet(source)".to_string(),
        "         ^^^^^^^^^^^^^^^^^^^^^^^^^^".to_string(),
        "  File \"/opt/spark/python/lib/pyspark.zip/pyspark/sql/readwriter.py\", line 642, in parquet".to_string(),
        "  File \"/opt/spark/python/lib/pyspark.zip/pyspark/errors/exceptions/captured.py\", line 288, in deco".to_string(),
        format!("pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not exist: {path}. SQLSTATE: 42K03"),
        log4j(t, "INFO", "ShutdownHookManager", "Shutdown hook called"),
    ]
}

/// A failing JVM job: the exception and its stack trace (`%ex`: no header on the frames).
pub fn java_failure(t: Timestamp) -> Vec<String> {
    vec![
        log4j(t, "ERROR", "SparkContext", "Error in job 4"),
        "org.apache.spark.SparkException: Job aborted due to stage failure: Task 3 in stage 4.0 failed 4 times, most recent failure: Lost task 3.3 in stage 4.0 (TID 211) (10.1.0.7 executor 2): java.lang.NumberFormatException: For input string: \"N/A\"".to_string(),
        "\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)".to_string(),
        "\tat java.base/java.lang.Long.parseLong(Long.java:711)".to_string(),
        "\tat com.example.etl.Orders$.$anonfun$parse$1(Orders.scala:88)".to_string(),
        "\tat org.apache.spark.sql.catalyst.expressions.GeneratedClass$GeneratedIteratorForCodegenStage1.processNext(Unknown Source)".to_string(),
        "\tat org.apache.spark.scheduler.DAGScheduler.failJobAndIndependentStages(DAGScheduler.scala:2898)".to_string(),
        "\tat org.apache.spark.scheduler.DAGScheduler.abortStage(DAGScheduler.scala:2834)".to_string(),
        "\t... 42 more".to_string(),
        "Caused by: java.lang.NumberFormatException: For input string: \"N/A\"".to_string(),
        "\tat java.base/java.lang.Long.parseLong(Long.java:711)".to_string(),
        "\t... 18 more".to_string(),
        log4j(t, "INFO", "ShutdownHookManager", "Shutdown hook called"),
    ]
}

/// A driver running out of heap before the kernel kills the container.
pub fn driver_out_of_memory(t: Timestamp) -> Vec<String> {
    vec![
        log4j(t, "WARN", "MemoryStore", "Not enough space to cache broadcast_41 in memory! (computed 1412.0 MiB so far)"),
        log4j(t, "ERROR", "Utils", "uncaught error in thread spark-listener-group-appStatus, stopping SparkContext"),
        "java.lang.OutOfMemoryError: Java heap space".to_string(),
        "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)".to_string(),
        "\tat org.apache.spark.sql.execution.SparkPlan.executeCollect(SparkPlan.scala:448)".to_string(),
    ]
}

/// spark-operator v2's zap console line.
pub fn operator(t: Timestamp, level: &str, caller: &str, message: &str, namespace: &str, name: &str, state: &str) -> String {
    format!(
        "{}.{:03}Z\t{level}\t{caller}\t{message}\t{{\"name\": \"{name}\", \"namespace\": \"{namespace}\", \"state\": \"{state}\"}}",
        t.strftime("%Y-%m-%dT%H:%M:%S"),
        t.subsec_millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_the_real_patterns() {
        let t: Timestamp = "2026-11-21T06:02:03.456Z".parse().unwrap();
        assert_eq!(log4j(t, "INFO", "SparkContext", "hi"), "26/11/21 06:02:03 INFO SparkContext: hi");
        assert!(
            operator(t, "INFO", "sparkapplication/controller.go:113", "Reconciling", "ns", "a", "RUNNING")
                .starts_with("2026-11-21T06:02:03.456Z\tINFO\tsparkapplication/controller.go:113\tReconciling\t{\"name\": \"a\"")
        );
    }
}
