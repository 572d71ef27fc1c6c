//! The archive side: what the cluster's log shipper wrote to S3 (or a directory), found through
//! the key template and read as a stream.

use super::key_template::{KeyTemplate, KeyVars};
use super::record::{Nanos, RecordFormat};
use crate::archive::store::{ByteStream, ObjectStore, StoreError};
use jiff::Timestamp;
use std::sync::Arc;

/// A log archive: where, in which format, under which keys.
pub struct ShippedLogs {
    pub store: Arc<dyn ObjectStore>,
    pub format: RecordFormat,
    pub template: KeyTemplate,
}

/// One object of a container's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShippedObject {
    pub key: String,
    /// The time its key spells: the first record's, for Fluent Bit and Vector.
    pub time: Option<Nanos>,
}

/// Objects may start this long before the job (a shipper's clock, a pod that started early).
const SLACK_BEFORE: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);
/// And the last upload of a container comes up to this long after it ends (Fluent Bit's
/// default `upload_timeout` is 10 minutes).
const SLACK_AFTER: jiff::SignedDuration = jiff::SignedDuration::from_mins(30);

impl ShippedLogs {
    pub fn describe(&self) -> String {
        format!("{} ({})", self.store.describe(), self.template.as_str())
    }

    /// The container's objects for a job that ran over `[from, to]`, in time order.
    pub async fn objects(&self, vars: &KeyVars<'_>, from: Timestamp, to: Timestamp) -> Result<Vec<ShippedObject>, StoreError> {
        let from = from.checked_sub(SLACK_BEFORE).unwrap_or(from);
        let to = to.checked_add(SLACK_AFTER).unwrap_or(to);
        let (from_ns, to_ns) = (Nanos::of(from), Nanos::of(to));
        let mut objects = Vec::new();
        for prefix in self.template.prefixes(vars, from, to) {
            for key in self.store.list(&prefix).await? {
                if let Some(time) = self.template.matches(&key, vars) {
                    // Keys that spell a time outside the job's life are another run's.
                    if time.is_none_or(|t| t >= from_ns && t <= to_ns) {
                        objects.push(ShippedObject { key, time });
                    }
                }
            }
        }
        objects.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.key.cmp(&b.key)));
        objects.dedup();
        Ok(objects)
    }

    pub async fn open(&self, key: &str) -> Result<Option<ByteStream>, StoreError> {
        self.store.get_stream(key).await
    }
}
