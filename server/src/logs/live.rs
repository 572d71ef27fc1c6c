//! The live side: the pod log API (`GET .../pods/{pod}/log?timestamps=true`), behind a small
//! trait so the source logic can be tested against scripted failures as well as the simulated
//! cluster.

use super::record::Nanos;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};

/// What to ask the API for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveParams {
    pub container: String,
    pub follow: bool,
    pub previous: bool,
    /// Lines at or after this time. The API only takes whole seconds, so it is truncated here
    /// (kube-rs would round it, which can skip up to half a second of lines); the caller skips
    /// what it has already seen.
    pub since: Option<Nanos>,
}

/// Why the API gave no log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    /// 404: the pod is gone (Spark deletes executors), and its log with it.
    #[error("pod not found: {0}")]
    NotFound(String),
    /// 400: the container has not started, or there is no previous instance.
    #[error("{0}")]
    NotAvailable(String),
    /// Anything else: the API unreachable, 5xx, a denied request.
    #[error("{0}")]
    Failed(String),
}

/// A log as it arrives; an `Err` item is a dropped connection.
pub type LiveStream = BoxStream<'static, Result<Bytes, LiveError>>;

pub trait PodLogApi: Send + Sync + 'static {
    fn open(&self, namespace: &str, pod: &str, params: LiveParams) -> BoxFuture<'static, Result<LiveStream, LiveError>>;
}

/// The real API through kube-rs.
pub struct KubeLogs {
    client: kube::Client,
}

impl KubeLogs {
    pub fn new(client: kube::Client) -> KubeLogs {
        KubeLogs { client }
    }
}

impl PodLogApi for KubeLogs {
    fn open(&self, namespace: &str, pod: &str, params: LiveParams) -> BoxFuture<'static, Result<LiveStream, LiveError>> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let pod = pod.to_string();
        Box::pin(async move {
            let log_params = LogParams {
                container: Some(params.container),
                follow: params.follow,
                previous: params.previous,
                timestamps: true,
                since_time: params.since.map(|t| t.floor_second().timestamp()),
                ..LogParams::default()
            };
            let reader = api.log_stream(&pod, &log_params).await.map_err(|e| match e {
                kube::Error::Api(status) if status.code == 404 => LiveError::NotFound(status.message),
                kube::Error::Api(status) if status.code == 400 => LiveError::NotAvailable(status.message),
                other => LiveError::Failed(other.to_string()),
            })?;
            let chunks = futures::stream::unfold(Some(Box::pin(reader)), |reader| async move {
                let mut reader = reader?;
                let chunk = match reader.fill_buf().await {
                    Ok([]) => return None,
                    Ok(buf) => Bytes::copy_from_slice(buf),
                    Err(e) => return Some((Err(LiveError::Failed(format!("connection lost: {e}"))), None)),
                };
                reader.consume_unpin(chunk.len());
                Some((Ok(chunk), Some(reader)))
            });
            Ok(chunks.boxed())
        })
    }
}
