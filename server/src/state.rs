//! What every route can reach: the model, the archive, the Spark client, the log and metrics
//! services, and the access rule. Built once by `run`, cloned into each handler (every field is
//! a handle).

#![warn(missing_docs)]

use crate::access::{Access, JobSource};
use crate::archive::jobs::JobArchive;
use crate::model::pod::JobKey;
use crate::model::{Detail, JobModel};
use crate::sources::spark_ui::SparkClient;
use app::api::JobDetail;
use axum::extract::FromRef;
use std::sync::Arc;

/// What every view handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// Every job and pod the sources reported, and what is kept after Kubernetes deleted them.
    pub model: Arc<JobModel>,
    /// Finished jobs' records beyond what the model keeps (none for `--archive memory`).
    pub archive: Option<Arc<JobArchive>>,
    /// Spark's servers (one connection pool per upstream driver), for the UI proxy and the
    /// executor metrics.
    pub spark: SparkClient,
    /// The merged log pipeline's readers.
    pub logs: crate::logs::plan::LogService,
    /// Where the jobs' container metrics come from.
    pub metrics: crate::metrics::MetricsService,
    /// Who may see what ([`crate::access`]).
    pub access: Access,
}

impl FromRef<AppState> for Access {
    fn from_ref(state: &AppState) -> Access {
        state.access.clone()
    }
}

impl JobSource for AppState {
    fn model(&self) -> &JobModel {
        &self.model
    }

    async fn job_detail(&self, key: &JobKey) -> Option<JobDetail> {
        self.read_job_detail(key).await
    }
}

impl AppState {
    /// One job whole: from the model, or for a job only the archive still holds, from its
    /// record. A record that cannot be read still gives the job's summary, with a warning.
    ///
    /// It does not ask who is calling: routes reach it through [`crate::access::visible_job`].
    async fn read_job_detail(&self, key: &JobKey) -> Option<JobDetail> {
        let job = match self.model.job_detail(key)? {
            Detail::Here(detail) => return Some(*detail),
            Detail::Archived(job) => *job,
        };
        let summary_only = |warning: String| JobDetail::summary_only(job.clone(), vec![warning]);
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
