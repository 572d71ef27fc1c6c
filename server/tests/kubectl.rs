//! Debian's kubectl (package kubernetes-client) against `sparkboard sim`: a client nobody here
//! wrote must work unchanged. `make test` unpacks it and sets `KUBECTL`.

mod common;

use common::{SimCluster, get_json, start_sim};
use std::process::Command;

fn kubectl(sim: &SimCluster, args: &[&str]) -> String {
    let program = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let output = Command::new(&program)
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (make test installs Debian's kubectl and sets KUBECTL): {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "kubectl {args:?} failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    stdout
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
    assert!(apps.lines().next().unwrap().split_whitespace().eq(["NAMESPACE", "NAME", "STATUS", "ATTEMPTS", "START", "FINISH", "AGE"]), "{apps}");
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

    let output = Command::new(std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into()))
        .arg("--kubeconfig")
        .arg(&sim.kubeconfig)
        .args(["get", "pod", "no-such-pod", "-n", "ml"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("pods \"no-such-pod\" not found"));
}
