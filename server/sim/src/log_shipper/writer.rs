//! Where the simulated shipper puts its objects: a local directory or an S3 bucket, through a
//! writer of its own. The dashboard reads the same place through its own store, so the two
//! meet only in the bytes and keys, as a real shipper and the dashboard do.

use aws_config::{BehaviorVersion, Region, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use bytes::Bytes;
use futures::future::BoxFuture;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// An upload that did not happen; the shipper keeps the lines and tries again next round.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{key} is not a plain relative key")]
    BadKey { key: String },
    #[error("writing {path}: {source}")]
    Local { path: PathBuf, source: std::io::Error },
    #[error("s3://{bucket}: PutObject {key}: {detail}")]
    S3 { bucket: String, key: String, detail: String },
}

/// Writes whole objects by key.
pub trait ObjectWriter: Send + Sync + 'static {
    /// Where it writes, for messages.
    fn describe(&self) -> String;
    /// Writes `key` whole, replacing what was there.
    fn put(&self, key: &str, body: Bytes) -> BoxFuture<'_, Result<(), WriteError>>;
}

/// Objects as files under a directory, each written to a temporary name and renamed into place:
/// the dashboard lists and reads the directory while the shipper writes, and must never see
/// half an object.
#[derive(Clone)]
pub struct LocalDir {
    root: Arc<PathBuf>,
    counter: Arc<AtomicU64>,
}

impl LocalDir {
    pub fn new(root: impl Into<PathBuf>) -> LocalDir {
        LocalDir { root: Arc::new(root.into()), counter: Arc::default() }
    }

    fn put_blocking(&self, key: &str, body: &[u8]) -> Result<(), WriteError> {
        let relative = Path::new(key);
        if key.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(WriteError::BadKey { key: key.to_string() });
        }
        let path = self.root.join(relative);
        let dir = path.parent().unwrap_or(self.root.as_path()).to_path_buf();
        let local = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WriteError::Local { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(local(&dir))?;
        // A name the dashboard's listing skips (`.tmp-`), unique in this process and across.
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        std::fs::write(&tmp, body).and_then(|()| std::fs::rename(&tmp, &path)).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            WriteError::Local { path: path.clone(), source: e }
        })
    }
}

impl ObjectWriter for LocalDir {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn put(&self, key: &str, body: Bytes) -> BoxFuture<'_, Result<(), WriteError>> {
        let (this, key) = (self.clone(), key.to_string());
        Box::pin(async move {
            let path = this.root.join(&key);
            match tokio::task::spawn_blocking(move || this.put_blocking(&key, &body)).await {
                Ok(result) => result,
                Err(e) => Err(WriteError::Local { path, source: std::io::Error::other(e.to_string()) }),
            }
        })
    }
}

/// Where in S3 the shipper writes; for AWS only `bucket` (and perhaps `prefix`) need setting.
#[derive(Clone, Debug, Default)]
pub struct S3Target {
    pub bucket: String,
    pub prefix: String,
    /// An S3-compatible store (SeaweedFS, MinIO).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub path_style: bool,
    /// An access key and secret instead of the default credential chain (tests).
    pub credentials: Option<(String, String)>,
}

/// Objects in a bucket, by `PutObject` as Fluent Bit's small batches and Vector's go up.
pub struct S3Writer {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// "" or ending in "/".
    prefix: String,
}

impl S3Writer {
    /// Cannot fail: whether the bucket takes our objects shows at the first upload.
    pub async fn connect(target: S3Target) -> S3Writer {
        // rustls on ring, as in the rest of the binary, rather than the SDK's default aws-lc.
        let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
        // A shipper retries next round on its own: an unreachable store must fail fast.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .read_timeout(Duration::from_secs(10))
            .operation_timeout(Duration::from_secs(30))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(timeouts)
            .retry_config(RetryConfig::standard().with_max_attempts(2));
        if let Some((key, secret)) = target.credentials {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(key, secret, None, None, "sparkboard-sim"));
        }
        if let Some(region) = target.region.filter(|r| !r.is_empty()) {
            loader = loader.region(Region::new(region));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(target.path_style);
        if shared.region().is_none() {
            // Requests cannot be signed without a region; S3-compatible stores ignore it.
            config = config.region(Region::from_static("us-east-1"));
        }
        if let Some(endpoint) = target.endpoint.filter(|e| !e.is_empty()) {
            // Checksum trailers only where asked for: not every S3-compatible store takes them.
            config = config
                .endpoint_url(endpoint)
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }
        let trimmed = target.prefix.trim_matches('/');
        let prefix = if trimmed.is_empty() { String::new() } else { format!("{trimmed}/") };
        S3Writer { client: aws_sdk_s3::Client::from_conf(config.build()), bucket: target.bucket, prefix }
    }
}

impl ObjectWriter for S3Writer {
    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix).trim_end_matches('/').to_string()
    }

    fn put(&self, key: &str, body: Bytes) -> BoxFuture<'_, Result<(), WriteError>> {
        let key = key.to_string();
        Box::pin(async move {
            let request = self.client.put_object().bucket(&self.bucket).key(format!("{}{key}", self.prefix)).body(body.into());
            match request.send().await {
                Ok(_) => Ok(()),
                Err(e) => Err(WriteError::S3 { bucket: self.bucket.clone(), key, detail: chain(&e) }),
            }
        })
    }
}

/// The error and its sources on one line: the SDK keeps the useful part ("connection
/// refused") a few sources down.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut detail = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        detail.push_str(": ");
        detail.push_str(&e.to_string());
        source = e.source();
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_object_appears_whole_and_keys_stay_inside() {
        let root = std::env::temp_dir().join(format!("sparkboard-sim-writer-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = LocalDir::new(&root);
        dir.put("a/b/c.gz", Bytes::from_static(b"body")).await.unwrap();
        assert_eq!(std::fs::read(root.join("a/b/c.gz")).unwrap(), b"body");
        let names: Vec<_> = std::fs::read_dir(root.join("a/b")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["c.gz"], "no temporary file is left");
        for bad in ["", "../x", "/abs", "a/../../x"] {
            assert!(matches!(dir.put(bad, Bytes::new()).await, Err(WriteError::BadKey { .. })), "{bad:?}");
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
