//! The archive's only need from S3 or a directory: a flat map of keys to bytes.
//!
//! Kept this small on purpose: the job archive's layout, compaction and race rules live above
//! it (in `jobs`) and are the same for both backends, so the local directory the demo uses
//! exercises the same code as S3 in production.

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;

/// An object's body as it arrives.
pub type ByteStream = BoxStream<'static, Result<Bytes, StoreError>>;

/// What went wrong talking to the store. `Unavailable` means it could not be reached, answered
/// 5xx or timed out: the caller degrades and retries. `Failed` is anything else (denied, no such
/// bucket, a path that is not a directory).
///
/// `detail` is the message as the store's client put it (the causes on one line); `cause` is the
/// client's error itself, kept so that a retry policy can look at it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{store} is unavailable ({op} {key}): {detail}")]
    Unavailable {
        store: String,
        op: &'static str,
        key: String,
        detail: String,
        #[source]
        cause: Option<Cause>,
    },
    #[error("{store} refused {op} {key}: {detail}")]
    Failed {
        store: String,
        op: &'static str,
        key: String,
        detail: String,
        #[source]
        cause: Option<Cause>,
    },
}

/// The client error under a [`StoreError`].
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A flat map of keys to bytes, relative to the store's root (a bucket prefix or a directory).
pub trait ObjectStore: Send + Sync + 'static {
    /// Where it is, for messages: `s3://bucket/prefix` or a directory path.
    fn describe(&self) -> String;
    /// Writes `key` whole, replacing what was there.
    fn put(&self, key: &str, body: Bytes) -> BoxFuture<'_, Result<(), StoreError>>;
    /// The object's bytes, or None when there is no such key.
    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<Bytes>, StoreError>>;
    /// The object's bytes as they arrive, for objects too big to hold (log archives), or None
    /// when there is no such key. The default reads the object whole.
    fn get_stream(&self, key: &str) -> BoxFuture<'_, Result<Option<ByteStream>, StoreError>> {
        let whole = self.get(key);
        Box::pin(async move {
            let body = whole.await?;
            Ok(body.map(|bytes| -> ByteStream { Box::pin(futures::stream::once(async move { Ok(bytes) })) }))
        })
    }
    /// Every key that starts with `prefix`, sorted, following pagination to the end.
    fn list(&self, prefix: &str) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    /// Removes `key`; removing a missing key is fine.
    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>>;
}
