//! Server-side handles that pages reach through Leptos context.
//!
//! Pages never touch Kubernetes or S3: the server implements these traits over its model and
//! provides them when it renders a page or answers a server function, so a page's data flow
//! stays one-way (model -> view) and the pages stay testable without a cluster.

use crate::api::{Job, JobDetail};
use std::sync::Arc;

/// Read access to the current jobs, as the model sees them.
pub trait JobDirectory: Send + Sync + 'static {
    /// Every known job, newest submission first.
    fn jobs(&self) -> Vec<Job>;
    /// One job with its pods, events and Spark configuration.
    fn job(&self, namespace: &str, name: &str) -> Option<JobDetail>;
}

/// The context value pages ask for.
#[derive(Clone)]
pub struct Jobs(pub Arc<dyn JobDirectory>);
