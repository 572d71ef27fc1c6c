//! Views: everything that answers HTTP. They read the model (and, for archived jobs' records,
//! the archive) and never reach past them to Kubernetes.
//!
//! - [`api`]: the JSON API (`/api/v1/...`) and operations endpoints.
//! - [`logs`]: a job's merged log, streamed (NDJSON or text).
//! - [`metrics`]: a job's container metrics (JSON).
//! - [`stream`]: server push of a list page or a job (SSE).
//! - [`site`]: the Leptos pages (SSR + hydrate) and the embedded static site.
//! - [`deep_links`]: `/apps/...` and `/airflow/...` redirects.
//! - [`access`]: the one place every route asks whether the caller may see a namespace.

pub mod access;
pub mod api;
pub mod deep_links;
pub mod json_body;
pub mod logs;
pub mod metrics;
pub mod site;
pub mod stream;

use crate::archive::jobs::JobArchive;
use crate::model::pod::JobKey;
use crate::model::{Detail, JobModel};
use app::api::JobDetail;
use axum::Router;
use std::sync::Arc;

/// What every view handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub model: Arc<JobModel>,
    pub archive: Option<Arc<JobArchive>>,
    /// The Spark UI proxy's client (one connection pool per upstream driver).
    pub ui_client: crate::ui_proxy::UiClient,
    /// The merged log pipeline's readers.
    pub logs: crate::logs::plan::LogService,
    /// Where the jobs' container metrics come from.
    pub metrics: crate::metrics::MetricsService,
}

impl AppState {
    /// One job whole: from the model, or for a job only the archive still holds, from its
    /// record. A record that cannot be read still gives the job's summary, with a warning.
    pub async fn job_detail(&self, key: &JobKey) -> Option<JobDetail> {
        let job = match self.model.job_detail(key)? {
            Detail::Here(detail) => return Some(*detail),
            Detail::Archived(job) => *job,
        };
        let summary_only = |warning: String| JobDetail {
            job: job.clone(),
            pods: Vec::new(),
            events: Vec::new(),
            spark_conf: Default::default(),
            schedule: None,
            warnings: vec![warning],
        };
        let Some(archive) = &self.archive else {
            return Some(summary_only("This job's pods and events were archived, but no archive is configured.".into()));
        };
        Some(match archive.get(&job).await {
            Ok(Some(detail)) => JobDetail { job: job.clone(), ..detail },
            Ok(None) => summary_only(format!("The archive at {} has no record of this job's pods and events.", archive.describe())),
            Err(e) => summary_only(format!("This job's pods and events could not be read from the archive: {e}")),
        })
    }
}

/// The dashboard's listener, with Nagle's algorithm off: a response streamed in pieces (a
/// proxied Spark page, a live stream) must not wait 40 ms for the client's delayed ACK between
/// them.
pub fn listener(listener: tokio::net::TcpListener) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    fn no_delay(tcp: &mut tokio::net::TcpStream) {
        let _ = tcp.set_nodelay(true);
    }
    listener.tap_io(no_delay as fn(&mut tokio::net::TcpStream))
}

/// The dashboard's whole HTTP surface.
pub fn router(state: AppState, leptos: leptos::prelude::LeptosOptions) -> Router {
    let pages = site::routes(state.clone(), leptos).layer(axum::middleware::from_fn_with_state(state.clone(), deep_links::redirect));
    Router::new()
        .merge(api::routes())
        .merge(logs::routes())
        .merge(metrics::routes())
        .merge(stream::routes())
        .merge(crate::ui_proxy::routes())
        .with_state(state)
        .merge(pages)
}
