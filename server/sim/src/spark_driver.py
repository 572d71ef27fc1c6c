"""A real, local Spark driver for the simulated cluster (run by sparkboard's sim).

Usage: python spark_driver.py APP_NAME UI_PORT EVENT_LOG_DIR

Prints `READY <ui_port> <application_id>` once the driver's UI serves, then runs small jobs
(RDD stages, SQL queries with shuffles) until its standard input closes, and stops cleanly so
that the event log is complete for the History Server.
"""

import os
import sys
import threading
import time

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

from pyspark.sql import SparkSession  # noqa: E402


def main(app_name, ui_port, event_log_dir):
    spark = (
        SparkSession.builder.master("local[2]")
        .appName(app_name)
        .config("spark.ui.port", ui_port)
        .config("spark.port.maxRetries", "0")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.eventLog.enabled", "true")
        .config("spark.eventLog.dir", "file://" + os.path.abspath(event_log_dir))
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    sc = spark.sparkContext
    sc.setLogLevel("WARN")
    print(f"READY {ui_port} {sc.applicationId}", flush=True)

    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    round_ = 0
    while not stop.is_set():
        round_ += 1
        sc.setJobDescription(f"round {round_}: count")
        sc.parallelize(range(20_000), 4).map(lambda x: x * x).filter(lambda x: x % 3 == 0).count()
        sc.setJobDescription(f"round {round_}: aggregate")
        df = spark.range(0, 50_000).withColumnRenamed("id", "n")
        df.groupBy((df.n % 7).alias("bucket")).count().collect()
        stop.wait(3)
    spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
