//! The job archive: finished jobs, kept after Kubernetes deletes them.
//!
//! - [`store`]: the flat key -> bytes interface both backends implement.
//! - [`local`]: a local directory (the demo's default).
//! - [`s3`]: S3 through aws-sdk-s3 (production; tests use SeaweedFS).
//! - [`jobs`]: the layout on a store: records, pending summaries, compacted hourly segments.
//! - [`writer`]: loading at start-up, writing as jobs finish, compacting, degrading when down.

pub mod jobs;
pub mod local;
pub mod s3;
pub mod store;
pub mod writer;
