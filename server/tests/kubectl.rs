//! Debian's kubectl (package kubernetes-client) against `sparkboard sim`: a client nobody here
//! wrote must work unchanged. `make test` unpacks it and sets `KUBECTL`.

mod common;

use common::{SimCluster, get_json, start_sim};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// kubectl against the simulated cluster, with a discovery cache of its own (a shared one would
/// remember another test's server on the same port).
fn command(sim: &SimCluster, args: &[&str]) -> Command {
    command_with(&sim.kubeconfig, args)
}

fn command_with(kubeconfig: &std::path::Path, args: &[&str]) -> Command {
    let program = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let mut command = Command::new(program);
    command.arg("--kubeconfig").arg(kubeconfig).arg("--cache-dir").arg(kubeconfig.with_file_name("kube-cache")).args(args);
    command
}

/// Runs kubectl and returns stdout, failing the test if kubectl fails.
fn kubectl(sim: &SimCluster, args: &[&str]) -> String {
    let output = command(sim, args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kubectl (make test installs Debian's kubectl and sets KUBECTL): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "kubectl {args:?} failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// Runs kubectl expecting it to fail; returns stderr.
fn kubectl_fails(sim: &SimCluster, args: &[&str]) -> String {
    let output = command(sim, args).output().expect("run kubectl");
    assert!(!output.status.success(), "kubectl {args:?} should have failed");
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// The NAME column of kubectl's table output (after NAMESPACE with `-A`).
fn names(table: &str, column: usize) -> Vec<String> {
    table.lines().skip(1).filter_map(|l| l.split_whitespace().nth(column)).map(String::from).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_lists_pods_and_spark_applications() {
    let sim = start_sim("kubectl", &["--speed", "0.01"]);

    let pods = kubectl(&sim, &["get", "pods", "-A"]);
    assert!(pods.lines().next().unwrap().split_whitespace().eq(["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]), "{pods}");
    let listed = get_json(&format!("{}/api/v1/pods", sim.process.url)).await;
    let mut expected: Vec<String> =
        listed["items"].as_array().unwrap().iter().map(|p| p["metadata"]["name"].as_str().unwrap().to_string()).collect();
    let mut shown = names(&pods, 1);
    expected.sort();
    shown.sort();
    assert_eq!(shown, expected);
    assert!(pods.contains("OOMKilled") || pods.contains("Running"), "{pods}");

    let apps = kubectl(&sim, &["get", "sparkapplications", "-A"]);
    assert!(
        apps.lines().next().unwrap().split_whitespace().eq(["NAMESPACE", "NAME", "STATUS", "ATTEMPTS", "START", "FINISH", "AGE"]),
        "{apps}"
    );
    assert!(names(&apps, 1).len() >= 10, "{apps}");
    for state in ["RUNNING", "COMPLETED", "FAILED", "SUBMITTED", "SUBMISSION_FAILED"] {
        assert!(apps.split_whitespace().any(|w| w == state), "no {state} in\n{apps}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_selects_by_label_and_namespace_and_reads_one_object() {
    let sim = start_sim("kubectl-select", &["--speed", "0.01"]);
    let executors = kubectl(&sim, &["get", "pods", "-n", "ml", "-l", "spark-role=executor", "-o", "name"]);
    assert!(!executors.trim().is_empty());
    assert!(executors.lines().all(|l| l.starts_with("pod/") && l.contains("-exec-")), "{executors}");

    let by_short_name = kubectl(&sim, &["get", "sparkapp", "-n", "ml", "-o", "jsonpath={.items[*].metadata.namespace}"]);
    assert!(by_short_name.split_whitespace().all(|ns| ns == "ml"), "{by_short_name}");

    let first = executors.lines().next().unwrap().trim_start_matches("pod/");
    let role = kubectl(&sim, &["get", "pod", first, "-n", "ml", "-o", "jsonpath={.metadata.labels.spark-role}"]);
    assert_eq!(role, "executor");

    let missing = kubectl_fails(&sim, &["get", "pod", "no-such-pod", "-n", "ml"]);
    assert!(missing.contains("pods \"no-such-pod\" not found"), "{missing}");
}

/// The first pod in `namespace` matching `selector` whose phase is `phase`.
async fn pod_in_phase(sim: &SimCluster, namespace: &str, selector: &str, phase: &str) -> String {
    let pods = get_json(&format!("{}/api/v1/namespaces/{namespace}/pods?labelSelector={selector}", sim.process.url)).await;
    pods["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["status"]["phase"] == phase)
        .and_then(|p| p["metadata"]["name"].as_str())
        .unwrap_or_else(|| panic!("no {phase} pod for {selector} in {namespace}"))
        .to_string()
}

/// Timestamps of `--timestamps` output lines.
fn times(output: &str) -> Vec<jiff::Timestamp> {
    output.lines().map(|l| l.split(' ').next().unwrap().parse().unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_reads_logs_like_from_a_kubelet() {
    let sim = start_sim("kubectl-logs", &["--speed", "0.01"]);
    let driver = pod_in_phase(&sim, "ml", "spark-role=driver", "Running").await;

    let all = kubectl(&sim, &["logs", "-n", "ml", &driver, "--timestamps"]);
    assert!(all.contains("INFO SparkContext: Running Spark version 4.0.1"), "{all}");
    let stamps = times(&all);
    assert!(stamps.len() > 10);
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
    assert!(all.lines().all(|l| l.split(' ').next().unwrap().len() == 30), "RFC3339 with 9 fractional digits");

    let tail = kubectl(&sim, &["logs", "-n", "ml", &driver, "--tail", "3"]);
    let last_three: Vec<&str> =
        all.lines().rev().take(3).map(|l| l.split_once(' ').unwrap().1).collect::<Vec<_>>().into_iter().rev().collect();
    assert_eq!(tail.lines().collect::<Vec<_>>(), last_three);

    // sinceTime has second precision; a line exactly at it is included.
    let cut = stamps[stamps.len() / 2].strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let cut_time: jiff::Timestamp = cut.parse().unwrap();
    let since = kubectl(&sim, &["logs", "-n", "ml", &driver, "--timestamps", &format!("--since-time={cut}")]);
    let expected: Vec<&str> =
        all.lines().filter(|l| l.split(' ').next().unwrap().parse::<jiff::Timestamp>().unwrap() >= cut_time).collect();
    assert_eq!(since.lines().collect::<Vec<_>>(), expected);

    let container = kubectl(&sim, &["logs", "-n", "ml", &driver, "-c", "spark-kubernetes-driver", "--tail", "1"]);
    assert_eq!(container.lines().count(), 1);
    let wrong = kubectl_fails(&sim, &["logs", "-n", "ml", &driver, "-c", "sidecar"]);
    assert!(wrong.contains("container sidecar is not valid for pod"), "{wrong}");

    let no_previous = kubectl_fails(&sim, &["logs", "-n", "ml", &driver, "--previous"]);
    assert!(
        no_previous.contains(&format!("previous terminated container \"spark-kubernetes-driver\" in pod \"{driver}\" not found")),
        "{no_previous}"
    );
    let operator = "spark-operator-controller-7d9c5b6f4-x2k9p";
    let previous = kubectl(&sim, &["logs", "-n", "spark-operator", operator, "--previous"]);
    assert!(previous.contains("leader election lost"), "{previous}");
    let current = kubectl(&sim, &["logs", "-n", "spark-operator", operator]);
    assert!(!current.contains("leader election lost") && current.contains("SparkApplication"), "{current}");

    let pending = pod_in_phase(&sim, "analytics", "spark-role=driver", "Pending").await;
    let waiting = kubectl_fails(&sim, &["logs", "-n", "analytics", &pending]);
    assert!(waiting.contains("is waiting to start: ContainerCreating"), "{waiting}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_follows_a_log_until_the_container_ends() {
    let sim = start_sim("kubectl-follow", &["--speed", "20"]);
    let driver = pod_in_phase(&sim, "ml", "spark-role=driver", "Running").await;
    let mut child = command(&sim, &["logs", "-f", "--timestamps", "-n", "ml", &driver]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // At 20x, every demo job ends within 12 s: the stream must end by itself.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => lines.push(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() > deadline => {
                panic!("kubectl logs -f did not end; got {} lines", lines.len())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    assert!(child.wait().unwrap().success());
    let stamps = times(&lines.join("\n"));
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "followed lines out of order");
    let mut seen = std::collections::HashSet::new();
    assert!(lines.iter().all(|l| seen.insert(l.clone())), "a line came twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_watches_describes_and_deletes() {
    let sim = start_sim("kubectl-watch", &["--speed", "8"]);
    let mut watch = command(&sim, &["get", "sparkapplications", "-A", "--watch", "--no-headers"]).stdout(Stdio::piped()).spawn().unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let listed = get_json(&format!("{}/apis/sparkoperator.k8s.io/v1beta2/sparkapplications", sim.process.url)).await;
    let initial = listed["items"].as_array().unwrap().len();
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while lines.len() <= initial + 2 && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(line);
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    assert!(lines.len() > initial + 2, "the watch showed no changes after the first {initial} lines: {lines:#?}");

    let driver = pod_in_phase(&sim, "data-eng", "spark-role=driver", "Running").await;
    let described = kubectl(&sim, &["describe", "pod", "-n", "data-eng", &driver]);
    for needle in ["Status:", "Running", "spark-role=driver", "Events:", "Scheduled", "default-scheduler"] {
        assert!(described.contains(needle), "no {needle:?} in\n{described}");
    }

    let apps = kubectl(&sim, &["get", "sparkapp", "-n", "data-eng", "-o", "jsonpath={.items[*].metadata.name}"]);
    let app = apps.split_whitespace().next().expect("an app in data-eng");
    let deleted = kubectl(&sim, &["delete", "sparkapplication", "-n", "data-eng", app]);
    assert!(deleted.contains(&format!("\"{app}\" deleted")), "{deleted}");
    let pods =
        get_json(&format!("{}/api/v1/namespaces/data-eng/pods?labelSelector=sparkoperator.k8s.io%2Fapp-name%3D{app}", sim.process.url))
            .await;
    assert_eq!(pods["items"].as_array().unwrap().len(), 0, "deleting the app deletes its pods");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_needs_the_ca_and_the_token_of_a_tls_cluster() {
    let sim = start_sim("kubectl-tls", &["--tls"]);
    let pods = kubectl(&sim, &["get", "pods", "-A", "-o", "name"]);
    assert!(pods.lines().count() > 20, "{pods}");

    let good = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    let token = serde_json::from_str::<serde_json::Value>(&good).unwrap()["users"][0]["user"]["token"].as_str().unwrap().to_string();
    let wrong_token = sim.kubeconfig.with_file_name("wrong-token");
    std::fs::write(&wrong_token, good.replace(&token, "not-the-token")).unwrap();
    let refused = command_with(&wrong_token, &["get", "pods", "-A"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("Unauthorized"), "{refused:?}");

    let no_ca = sim.kubeconfig.with_file_name("no-ca");
    let mut config: serde_json::Value = serde_json::from_str(&good).unwrap();
    config["clusters"][0]["cluster"].as_object_mut().unwrap().remove("certificate-authority-data");
    std::fs::write(&no_ca, config.to_string()).unwrap();
    let untrusted = command_with(&no_ca, &["get", "pods", "-A"]).output().unwrap();
    assert!(!untrusted.status.success());
    assert!(String::from_utf8_lossy(&untrusted.stderr).contains("certificate"), "{untrusted:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_top_reads_pod_metrics_from_metrics_k8s_io() {
    let sim = start_sim("kubectl-top", &["--speed", "0.01"]);
    let running = kubectl(&sim, &["get", "pods", "-n", "ml", "--field-selector", "status.phase=Running", "-o", "name"]);
    let running: Vec<&str> = running.lines().filter_map(|l| l.strip_prefix("pod/")).collect();
    assert!(!running.is_empty(), "no running pod in ml");
    let top = kubectl(&sim, &["top", "pod", "-n", "ml", "--containers"]);
    assert!(top.lines().next().unwrap().split_whitespace().eq(["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]), "{top}");
    let shown = names(&top, 0);
    for pod in &running {
        assert!(shown.iter().any(|p| p == pod), "{pod} missing from\n{top}");
    }
    // Values in kubectl's units: millicores and MiB, above zero.
    for line in top.lines().skip(1) {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let cpu: u64 = columns[2].strip_suffix('m').and_then(|m| m.parse().ok()).unwrap_or_else(|| panic!("{line}"));
        let memory: u64 = columns[3].strip_suffix("Mi").and_then(|m| m.parse().ok()).unwrap_or_else(|| panic!("{line}"));
        assert!(cpu > 0 && memory > 0, "{line}");
    }
}
