//! The kubeconfig `sparkboard sim` writes, so that kubectl, the Python client and
//! `sparkboard serve` connect to the simulated cluster exactly as to a real one.

use base64::Engine;
use serde_json::json;

/// How clients prove who they are and check the server.
pub struct Credentials<'a> {
    /// PEM of the CA that signed the server's certificate.
    pub ca_pem: &'a str,
    pub token: &'a str,
}

/// A kubeconfig (JSON, which every kubeconfig reader accepts as YAML) for `server_url`, with
/// the CA and token when the server uses TLS.
pub fn render(server_url: &str, credentials: Option<Credentials<'_>>) -> String {
    let (cluster, user) = match credentials {
        Some(c) => (
            json!({"server": server_url, "certificate-authority-data": base64::engine::general_purpose::STANDARD.encode(c.ca_pem)}),
            json!({"token": c.token}),
        ),
        None => (json!({"server": server_url}), json!({})),
    };
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sparkboard-sim", "cluster": cluster}],
        "users": [{"name": "sparkboard-sim", "user": user}],
        "contexts": [{"name": "sparkboard-sim", "context": {"cluster": "sparkboard-sim", "user": "sparkboard-sim", "namespace": "default"}}],
        "current-context": "sparkboard-sim",
        "preferences": {}
    });
    serde_json::to_string_pretty(&config).unwrap_or_default()
}
