//! The command line refuses what it cannot use with a clear message and a failing exit code.

mod common;

use common::{Process, get_json, scratch_dir};
use std::process::Command;

fn fails(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_sparkboard")).args(args).output().expect("run sparkboard");
    assert!(!output.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn bad_flags_and_scenarios_are_refused_with_a_reason() {
    let dir = scratch_dir("cli");
    assert!(fails(&["sim", "--listen", "127.0.0.1:0", "--speed", "0"]).contains("--speed must be"));
    assert!(
        fails(&["sim", "--listen", "127.0.0.1:0", "--scenario", "/no/such/file.json"]).contains("cannot read scenario /no/such/file.json")
    );
    let broken = dir.join("broken.json");
    std::fs::write(&broken, r#"{"jobs": [{"namespace": "etl", "name": "x", "outcome": "boom"}]}"#).unwrap();
    let message = fails(&["sim", "--listen", "127.0.0.1:0", "--scenario", broken.to_str().unwrap()]);
    assert!(message.contains("is not valid") && message.contains("boom"), "{message}");
    assert!(fails(&["serve", "--kubeconfig", "/no/such/kubeconfig", "--listen", "127.0.0.1:0"]).contains("cannot read kubeconfig"));
    assert!(fails(&["demo", "--listen", "not-an-address"]).contains("invalid value"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_file_decides_what_the_cluster_plays() {
    let dir = scratch_dir("cli-scenario");
    let file = dir.join("scenario.json");
    std::fs::write(
        &file,
        r#"{"jobs": [
            {"namespace": "etl", "name": "nightly", "run_seconds": 600, "executors": 2},
            {"namespace": "ml", "name": "train", "launcher": "spark-submit", "run_seconds": 600}
        ]}"#,
    )
    .unwrap();
    let sim = Process::start(&["sim", "--listen", "127.0.0.1:0", "--scenario", file.to_str().unwrap()]);
    let namespaces = get_json(&format!("{}/api/v1/namespaces", sim.url)).await;
    let names: Vec<&str> = namespaces["items"].as_array().unwrap().iter().filter_map(|n| n["metadata"]["name"].as_str()).collect();
    assert!(names.contains(&"etl") && names.contains(&"ml") && !names.contains(&"data-eng"), "{names:?}");
    let apps = get_json(&format!("{}/apis/sparkoperator.k8s.io/v1beta2/sparkapplications", sim.url)).await;
    let apps: Vec<&str> = apps["items"].as_array().unwrap().iter().filter_map(|a| a["metadata"]["name"].as_str()).collect();
    assert_eq!(apps.len(), 1);
    assert!(apps[0].starts_with("nightly-"), "{apps:?}");
}
