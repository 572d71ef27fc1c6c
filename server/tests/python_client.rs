//! The official Kubernetes Python client (`pip install kubernetes`) against `sparkboard sim`:
//! list, watch with resourceVersion, pod logs (whole and followed), errors.
//! `make test` installs the client; the checks live in `tests/python/client_checks.py`.

mod common;

use common::start_sim;
use std::process::Command;

#[test]
fn the_python_client_works_unchanged() {
    let sim = start_sim("python-client", &["--speed", "4"]);
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_checks.py");
    let output = Command::new(&python).arg(script).arg(&sim.kubeconfig).output().unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python client checks failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
