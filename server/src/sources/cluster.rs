//! Connecting to a Kubernetes API: a kubeconfig, the pod's in-cluster config, or the simulated
//! cluster's router in the same process.

use std::path::PathBuf;

/// Where the cluster is.
pub enum ClusterConnection {
    /// A kubeconfig file (its current context).
    Kubeconfig(PathBuf),
    /// `KUBECONFIG`, `~/.kube/config`, or the service account when run in a pod.
    Infer,
    /// The simulated cluster's router, called in-process as a `tower::Service`.
    InProcess(axum::Router),
}

/// Why no client could be built.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot read kubeconfig {path}: {source}")]
    /// The kubeconfig given does not load.
    Kubeconfig {
        /// The file asked for.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("no usable Kubernetes configuration (kubeconfig or in-cluster): {0}")]
    /// Neither `KUBECONFIG`, `~/.kube/config` nor a pod's service account.
    Infer(#[source] kube::config::InferConfigError),
    #[error("cannot build a Kubernetes client: {0}")]
    /// The configuration loaded, but no client could be made of it (a bad TLS setting, say).
    Client(#[source] kube::Error),
}

/// A client for the cluster.
pub async fn connect(connection: ClusterConnection) -> Result<kube::Client, ConnectError> {
    let config = match connection {
        ClusterConnection::InProcess(router) => return Ok(kube::Client::new(router, "default")),
        ClusterConnection::Kubeconfig(path) => {
            let kubeconfig =
                kube::config::Kubeconfig::read_from(&path).map_err(|source| ConnectError::Kubeconfig { path: path.clone(), source })?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .map_err(|source| ConnectError::Kubeconfig { path, source })?
        }
        ClusterConnection::Infer => kube::Config::infer().await.map_err(ConnectError::Infer)?,
    };
    kube::Client::try_from(config).map_err(ConnectError::Client)
}
