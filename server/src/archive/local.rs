//! The archive in a local directory: the demo's default, and what a single replica with a
//! persistent volume can use. Keys are relative paths; writes go to a temporary file renamed
//! into place, so a reader never sees half an object and a crash leaves no torn file.

use super::store::{ByteStream, ObjectStore, StoreError};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Cheap to clone: blocking file work runs on its own thread with a copy.
#[derive(Clone)]
pub struct LocalDir {
    root: Arc<PathBuf>,
    /// Makes temporary names unique within this process (the pid makes them unique across).
    counter: Arc<AtomicU64>,
}

impl LocalDir {
    pub fn new(root: impl Into<PathBuf>) -> LocalDir {
        LocalDir { root: Arc::new(root.into()), counter: Arc::default() }
    }

    fn error(&self, op: &'static str, key: &str, e: std::io::Error) -> StoreError {
        StoreError::Failed { store: self.describe(), op, key: key.to_string(), detail: e.to_string(), cause: Some(Box::new(e)) }
    }

    /// The file for `key`; keys that would leave the root are refused.
    fn path(&self, op: &'static str, key: &str) -> Result<PathBuf, StoreError> {
        let relative = Path::new(key);
        if key.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
            let detail = "not a plain relative key".into();
            return Err(StoreError::Failed { store: self.describe(), op, key: key.to_string(), detail, cause: None });
        }
        Ok(self.root.join(relative))
    }

    fn put_blocking(&self, key: &str, body: &[u8]) -> Result<(), StoreError> {
        let path = self.path("put", key)?;
        let dir = path.parent().unwrap_or(self.root.as_path());
        std::fs::create_dir_all(dir).map_err(|e| self.error("put", key, e))?;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        std::fs::write(&tmp, body).and_then(|()| std::fs::rename(&tmp, &path)).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            self.error("put", key, e)
        })
    }

    fn list_blocking(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        // Walk only the deepest directory the prefix names; the rest of the prefix filters.
        let dir_part = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        let start = if dir_part.is_empty() { self.root.to_path_buf() } else { self.path("list", dir_part)? };
        let mut keys = Vec::new();
        let mut stack = vec![start];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(self.error("list", prefix, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| self.error("list", prefix, e))?;
                let path = entry.path();
                let file_type = entry.file_type().map_err(|e| self.error("list", prefix, e))?;
                if file_type.is_dir() {
                    stack.push(path);
                } else if !entry.file_name().to_string_lossy().starts_with(".tmp-")
                    && let Ok(relative) = path.strip_prefix(self.root.as_path())
                {
                    let key = relative.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
                    if key.starts_with(prefix) {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

/// Runs blocking file work off the async threads.
fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, StoreError> + Send + 'static) -> BoxFuture<'static, Result<T, StoreError>> {
    async move {
        tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
            Err(StoreError::Failed {
                store: "local directory".into(),
                op: "io",
                key: String::new(),
                detail: e.to_string(),
                cause: Some(Box::new(e)),
            })
        })
    }
    .boxed()
}

impl ObjectStore for LocalDir {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn put(&self, key: &str, body: Bytes) -> BoxFuture<'_, Result<(), StoreError>> {
        let (this, key) = (self.clone(), key.to_string());
        blocking(move || this.put_blocking(&key, &body))
    }

    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<Bytes>, StoreError>> {
        let (this, key) = (self.clone(), key.to_string());
        blocking(move || match std::fs::read(this.path("get", &key)?) {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(this.error("get", &key, e)),
        })
    }

    fn get_stream(&self, key: &str) -> BoxFuture<'_, Result<Option<ByteStream>, StoreError>> {
        let (this, key) = (self.clone(), key.to_string());
        Box::pin(async move {
            let path = this.path("get", &key)?;
            let file = match tokio::fs::File::open(&path).await {
                Ok(file) => file,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(this.error("get", &key, e)),
            };
            let chunks = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024)
                .map(move |chunk| chunk.map_err(|e| this.error("get", &key, e)));
            Ok(Some(Box::pin(chunks) as ByteStream))
        })
    }

    fn list(&self, prefix: &str) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let (this, prefix) = (self.clone(), prefix.to_string());
        blocking(move || this.list_blocking(&prefix))
    }

    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        let (this, key) = (self.clone(), key.to_string());
        blocking(move || match std::fs::remove_file(this.path("delete", &key)?) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(this.error("delete", &key, e)),
            _ => Ok(()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[tokio::test]
    async fn keys_round_trip_and_list_by_prefix() {
        let dir = std::env::temp_dir().join(format!("sparkboard-local-{}", std::process::id()));
        let store = LocalDir::new(&dir);
        store.put("jobs/a/1.json", Bytes::from_static(b"one")).await.unwrap();
        store.put("jobs/a/2.json", Bytes::from_static(b"two")).await.unwrap();
        store.put("jobs/b/1.json", Bytes::from_static(b"three")).await.unwrap();
        store.put("jobs/a/1.json", Bytes::from_static(b"uno")).await.unwrap();
        assert_eq!(store.get("jobs/a/1.json").await.unwrap().as_deref(), Some(&b"uno"[..]));
        assert_eq!(store.get("jobs/zzz").await.unwrap(), None);
        assert_eq!(store.list("jobs/a/").await.unwrap(), ["jobs/a/1.json", "jobs/a/2.json"]);
        assert_eq!(store.list("jobs/").await.unwrap().len(), 3);
        assert_eq!(store.list("jobs/b/1").await.unwrap(), ["jobs/b/1.json"]);
        assert_eq!(store.list("nothing/").await.unwrap(), Vec::<String>::new());
        store.delete("jobs/a/1.json").await.unwrap();
        store.delete("jobs/a/1.json").await.unwrap();
        assert_eq!(store.list("jobs/a/").await.unwrap(), ["jobs/a/2.json"]);
        assert!(store.put("../escape", Bytes::new()).await.is_err());
        assert!(store.get("/etc/passwd").await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
