// Synthetic merged logs for the viewer's tests: NDJSON in the API's wire format, with the
// shapes Spark really writes (log4j lines, a Java stack trace, a Python traceback, ANSI colours,
// a marker), so that tests can serve a log of any size with `page.route`.

export type LogEvent = {
  id: string;
  time: string;
  source: { role: "driver" | "executor" | "controller"; pod: string; container: string; executor_id?: string | null };
  level: string;
  text: string;
  stream?: string;
};

const START_NS = BigInt(Date.UTC(2026, 10, 21, 5, 0, 0)) * 1_000_000n;

/** RFC 3339 with nine fractional digits, as the API writes event times. */
export function nanos(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString().slice(0, 19);
  return `${iso}.${(ns % 1_000_000_000n).toString().padStart(9, "0")}Z`;
}

function source(n: number): LogEvent["source"] {
  const k = n % 4;
  if (k === 0) return { role: "driver", pod: "etl-driver", container: "spark-kubernetes-driver", executor_id: null };
  return { role: "executor", pod: `etl-exec-${k}`, container: "spark-kubernetes-executor", executor_id: String(k) };
}

export const JAVA_TRACE = [
  "26/11/21 05:00:03 ERROR Executor: Exception in task 3.0 in stage 4.0 (TID 211)",
  "java.lang.NumberFormatException: For input string: \"N/A\"",
  "\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)",
  "\tat java.base/java.lang.Long.parseLong(Long.java:711)",
  "\tat com.example.etl.Orders$.$anonfun$parse$1(Orders.scala:88)",
  "\tat org.apache.spark.executor.Executor$TaskRunner.run(Executor.scala:620)",
].join("\n");

export const PYTHON_TRACE = [
  "Traceback (most recent call last):",
  "  File \"/opt/spark/work-dir/main.py\", line 42, in <module>",
  "    df = spark.read.parquet(source)",
  "  File \"/opt/spark/python/lib/pyspark.zip/pyspark/sql/readwriter.py\", line 642, in parquet",
  "pyspark.errors.exceptions.captured.AnalysisException: [PATH_NOT_FOUND] Path does not exist: s3a://x",
].join("\n");

/** Event `n` of a synthetic log: mostly INFO chatter, with a warning, errors with traces, ANSI
 * colours and a marker at fixed places. */
export function event(n: number): LogEvent {
  const ns = START_NS + BigInt(n) * 1_000_000n + 7n;
  const base = { id: `e${n}`, time: nanos(ns), source: source(n), stream: "stderr" };
  if (n === 5) return { ...base, level: "WARN", text: "26/11/21 05:00:00 WARN TaskSetManager: Lost task 1.0 in stage 0.0 (TID 1) (slow node)" };
  if (n === 7) return { ...base, level: "INFO", text: "\u001b[32mstage 0 \u001b[1;31mFAILED\u001b[0m retrying" };
  if (n === 9) return { ...base, level: "MARKER", text: "pod etl-exec-1 was deleted; its log after this point is gone" };
  if (n % 5000 === 11) return { ...base, level: "ERROR", text: JAVA_TRACE };
  if (n % 5000 === 13) return { ...base, source: source(0), level: "ERROR", text: PYTHON_TRACE };
  return { ...base, level: "INFO", text: `26/11/21 05:00:00 INFO TaskSetManager: Finished task ${n % 40}.0 in stage ${Math.floor(n / 40)}.0 (TID ${n}) in ${800 + (n % 900)} ms line ${n}` };
}

/** The label the server gives a source (`LogSource::label`): `driver`, `exec-3`, or the pod. */
function label(source: LogEvent["source"]): string {
  if (source.role === "driver") return "driver";
  if (source.role === "executor" && source.executor_id) return `exec-${source.executor_id}`;
  return source.pod;
}

/** An event as the API's `format=text` writes it (`write_text` in server/src/views/logs.rs):
 * time, label and level padded to columns, then the text with its folded lines. */
export function textLine(e: LogEvent): string {
  return `${e.time} ${label(e.source).padEnd(14)} ${e.level.padEnd(7)} ${e.text}\n`;
}

/** `count` events as an NDJSON body. */
export function ndjson(count: number, from = 0): string {
  const lines: string[] = [];
  for (let n = from; n < from + count; n++) lines.push(JSON.stringify(event(n)));
  return lines.join("\n") + "\n";
}
