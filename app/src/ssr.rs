//! Server-side handles that pages reach through Leptos context.
//!
//! Pages never touch Kubernetes or S3: the server implements these traits over its model and
//! archive and provides them when it renders a page or answers a server function, so a page's
//! data flow stays one-way (model -> view) and the pages stay testable without a cluster.

use crate::api::{JobDetail, JobList};
use crate::query::JobQuery;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Read access to jobs, as the model (and the archive behind it) sees them.
pub trait JobDirectory: Send + Sync + 'static {
    /// One page of the jobs that match `query`.
    fn jobs(&self, query: &JobQuery) -> JobList;
    /// One job with its pods, events and Spark configuration; an archived job's record may take a
    /// read from the archive.
    fn job(&self, namespace: String, name: String) -> Pin<Box<dyn Future<Output = Option<JobDetail>> + Send>>;
}

/// The context value pages ask for.
#[derive(Clone)]
pub struct Jobs(pub Arc<dyn JobDirectory>);
