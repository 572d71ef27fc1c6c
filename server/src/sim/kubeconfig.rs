//! The kubeconfig `sparkboard sim` writes, so that kubectl, the Python client and
//! `sparkboard serve` connect to the simulated cluster exactly as to a real one.

use serde_json::json;

/// A kubeconfig (JSON, which every kubeconfig reader accepts as YAML) for `server_url`.
pub fn render(server_url: &str) -> String {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sparkboard-sim", "cluster": {"server": server_url}}],
        "users": [{"name": "sparkboard-sim", "user": {}}],
        "contexts": [{"name": "sparkboard-sim", "context": {"cluster": "sparkboard-sim", "user": "sparkboard-sim", "namespace": "default"}}],
        "current-context": "sparkboard-sim",
        "preferences": {}
    });
    serde_json::to_string_pretty(&config).unwrap_or_default()
}
