//! Spark's own executor metrics of one job, from Spark's REST API where the job's Spark UI is
//! served now ([`SparkClient::upstream`], the proxy's own decision): the running driver, then the
//! History Server once the driver is gone. Same pool, same upstream, nothing of the browser's
//! request: this is the proxy's route, asked by the server itself.
//!
//! One executor list (`allexecutors`: dead executors too) and, beside it, spill from the stages
//! that spilled ([`super::spark_executors`]), all under one deadline: the metrics page waits for it,
//! so a driver that hangs (a long GC, a full heap) costs a few seconds and a panel message, not
//! the page.

use super::spark_executors::{self, ParseError, SpillTotals};
use crate::sources::spark_ui::{SparkClient, Unavailable, Upstream, UpstreamError, history_may_lag};
use app::api::{Panel, PanelError, PanelErrorKind, Pod, SparkExecutor, SparkExecutors, SparkSource};
use bytes::Bytes;
use futures::StreamExt;
use http::StatusCode;
use http_body_util::{BodyExt, Limited};
use std::fmt;
use std::time::Duration;

/// The whole exchange, executor list and stages together. Connects are bounded by the pool (3 s).
const DEADLINE: Duration = Duration::from_secs(6);
/// The stages' spill, asked for beside the executor list: what it has by then.
const SPILL_DEADLINE: Duration = Duration::from_secs(4);
/// `allexecutors` of a job with hundreds of executors is a few MB; the stage list of a long
/// application can be tens.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Stages whose per-executor spill is read; a job that spilled in more is shown without spill.
const MAX_SPILL_STAGES: usize = 200;
/// Stage requests in flight at once: a driver serves the UI from a few Jetty threads.
const CONCURRENT_STAGES: usize = 4;

/// Which Spark server a request went to, for the messages.
#[derive(Clone, Debug)]
pub enum At {
    Driver(String),
    History(String),
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Driver(authority) => write!(f, "the driver's Spark REST API at {authority}"),
            At::History(authority) => write!(f, "the Spark History Server at {authority}"),
        }
    }
}

/// Why a job's executor metrics could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SparkRestError {
    /// The server answered with an error status (a driver's 500 while it is out of memory).
    #[error("{at} answered {status} for {path}{detail}")]
    Status { at: At, path: String, status: StatusCode, detail: String },
    /// No whole answer before the deadline.
    #[error("{at} did not answer within {seconds} s")]
    Timeout { at: At, seconds: u64 },
    /// No connection, or it broke before a response.
    #[error("{at} cannot be reached: {source}")]
    Unreachable {
        at: At,
        #[source]
        source: UpstreamError,
    },
    /// The response broke off, or was larger than any executor list.
    #[error("{at} sent an unreadable body for {path}: {detail}")]
    Body { at: At, path: String, detail: String },
    /// The body is not the JSON Spark sends there.
    #[error("{at} answered {path} with something that is not Spark's JSON: {source}")]
    NotJson {
        at: At,
        path: String,
        #[source]
        source: ParseError,
    },
    /// The job ended recently and the History Server has not read its event log yet.
    #[error(
        "the Spark History Server does not list application {app_id} yet (it scans for new event logs every few seconds): the executors' metrics follow once it does"
    )]
    HistoryPending { app_id: String },
    /// The job ended long ago and the History Server has no record of it.
    #[error("the Spark History Server has no record of application {app_id} (was event logging on for this job?)")]
    HistoryMissing { app_id: String },
    /// The driver is gone and nothing can stand in for it.
    #[error("the job is {state} and has no running driver; Spark's executor metrics are not available{why}")]
    NotRunning { state: String, why: &'static str },
    /// The job carries no Spark application id to ask for (or one no Spark would make).
    #[error("the job has no usable Spark application id (its pods' spark-app-selector label), so Spark cannot be asked for it")]
    NoAppId,
}

impl SparkRestError {
    /// The panel error it becomes.
    pub fn panel_error(&self) -> PanelError {
        let kind = match self {
            SparkRestError::Status { .. } => PanelErrorKind::Refused,
            SparkRestError::Timeout { .. } => PanelErrorKind::Timeout,
            SparkRestError::Unreachable { .. } => PanelErrorKind::Unreachable,
            SparkRestError::Body { .. } | SparkRestError::NotJson { .. } => PanelErrorKind::BadResponse,
            SparkRestError::HistoryPending { .. }
            | SparkRestError::HistoryMissing { .. }
            | SparkRestError::NotRunning { .. }
            | SparkRestError::NoAppId => PanelErrorKind::Missing,
        };
        PanelError { panel: Panel::Executors, kind, message: self.to_string() }
    }
}

/// The executors of a job whose Spark UI is served from `upstream`, each matched with its pod
/// among `pods`; or why not, as the executors panel's error. A job whose driver is still
/// starting has none yet, and no error.
pub async fn executors(client: &SparkClient, upstream: Upstream, pods: &[Pod]) -> (SparkExecutors, Option<PanelError>) {
    let result = match upstream {
        Upstream::Driver { authority, app_id } => {
            let at = At::Driver(authority.clone());
            let read = async {
                let app_id = app_id.filter(|id| path_segment(id)).ok_or(SparkRestError::NoAppId)?;
                let api = Api { client, at: at.clone(), authority, base: format!("/api/v1/applications/{app_id}") };
                api.executors(pods).await
            };
            within(at.clone(), read).await.map(|found| Some((SparkSource::Driver, found)))
        }
        Upstream::History { app_id, .. } if !path_segment(&app_id) => Err(SparkRestError::NoAppId),
        Upstream::History { authority, app_id, finished_at } => {
            let at = At::History(authority.clone());
            let read = async { Api::history(client, authority, &app_id, finished_at).await?.executors(pods).await };
            within(at, read).await.map(|found| Some((SparkSource::HistoryServer, found)))
        }
        Upstream::Unavailable(Unavailable::NotRunning { state, why }) => Err(SparkRestError::NotRunning { state: state.to_string(), why }),
        Upstream::Unavailable(Unavailable::Starting { .. } | Unavailable::NoSuchJob) => Ok(None),
    };
    match result {
        Ok(Some((from, executors))) => (SparkExecutors { from, executors }, None),
        Ok(None) => (SparkExecutors::default(), None),
        Err(error) => (SparkExecutors::default(), Some(error.panel_error())),
    }
}

/// Whether an id from the model or a server's answer can go into a path as one segment: what
/// Spark's ids are made of (`spark-…`, `local-…`, `1`), and no dot segment.
fn path_segment(id: &str) -> bool {
    !id.is_empty() && id != "." && id != ".." && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `read`, or a timeout of `at` after [`DEADLINE`].
async fn within<T>(at: At, read: impl Future<Output = Result<T, SparkRestError>>) -> Result<T, SparkRestError> {
    tokio::time::timeout(DEADLINE, read).await.unwrap_or(Err(SparkRestError::Timeout { at, seconds: DEADLINE.as_secs() }))
}

/// One application's REST API on one server.
struct Api<'a> {
    client: &'a SparkClient,
    at: At,
    authority: String,
    /// `/api/v1/applications/{id}`, with the attempt on a History Server that has attempts.
    base: String,
}

/// The application as the History Server lists it: only its attempts matter here.
#[derive(serde::Deserialize)]
struct Application {
    #[serde(default)]
    attempts: Vec<Attempt>,
}

#[derive(serde::Deserialize)]
struct Attempt {
    #[serde(default, rename = "attemptId")]
    attempt_id: Option<String>,
}

impl<'a> Api<'a> {
    /// The History Server's API of `app_id`: under its latest attempt when it has attempts
    /// (YARN; on Kubernetes there are none, and an attempt in the path is a 404).
    async fn history(
        client: &'a SparkClient,
        authority: String,
        app_id: &str,
        finished: Option<jiff::Timestamp>,
    ) -> Result<Api<'a>, SparkRestError> {
        let mut api = Api { client, at: At::History(authority.clone()), authority, base: format!("/api/v1/applications/{app_id}") };
        let body = match api.get(&api.base.clone()).await {
            Err(SparkRestError::Status { status: StatusCode::NOT_FOUND, .. }) if history_may_lag(finished) => {
                return Err(SparkRestError::HistoryPending { app_id: app_id.to_string() });
            }
            Err(SparkRestError::Status { status: StatusCode::NOT_FOUND, .. }) => {
                return Err(SparkRestError::HistoryMissing { app_id: app_id.to_string() });
            }
            other => other?,
        };
        let application: Application = serde_json::from_slice(&body).map_err(|e| SparkRestError::NotJson {
            at: api.at.clone(),
            path: api.base.clone(),
            source: e.into(),
        })?;
        // The History Server lists the newest attempt first.
        if let Some(attempt) = application.attempts.into_iter().next().and_then(|a| a.attempt_id).filter(|a| path_segment(a)) {
            api.base = format!("{}/{attempt}", api.base);
        }
        Ok(api)
    }

    /// Every executor, with spill when the stages can be read.
    async fn executors(&self, pods: &[Pod]) -> Result<Vec<SparkExecutor>, SparkRestError> {
        let path = format!("{}/allexecutors", self.base);
        // Spill is a column of the table, not the table: it gets a shorter time, and without
        // it the rest still shows.
        let (body, spill) = tokio::join!(self.get(&path), tokio::time::timeout(SPILL_DEADLINE, self.spill()));
        let mut executors =
            spark_executors::executors(&body?, pods).map_err(|source| SparkRestError::NotJson { at: self.at.clone(), path, source })?;
        spark_executors::apply_spill(&mut executors, spill.ok().and_then(Result::ok).as_ref());
        Ok(executors)
    }

    /// Spill per executor, over the stages that spilled (at most [`MAX_SPILL_STAGES`]).
    async fn spill(&self) -> Result<SpillTotals, SparkRestError> {
        let path = format!("{}/stages?details=false", self.base);
        let list = self.get(&path).await?;
        let stages =
            spark_executors::spilling_stages(&list).map_err(|source| SparkRestError::NotJson { at: self.at.clone(), path, source })?;
        if stages.len() > MAX_SPILL_STAGES {
            return Err(SparkRestError::Body {
                at: self.at.clone(),
                path: "stages".into(),
                detail: format!("{} stages spilled", stages.len()),
            });
        }
        // `details=true` brings the per-executor summary; a task status filter keeps the task
        // list (which can be huge) down to the killed ones.
        let bodies: Vec<Result<Bytes, SparkRestError>> = futures::stream::iter(stages)
            .map(|(stage, attempt)| async move {
                self.get(&format!("{}/stages/{stage}/{attempt}?details=true&taskStatus=KILLED", self.base)).await
            })
            .buffer_unordered(CONCURRENT_STAGES)
            .collect()
            .await;
        let mut totals = SpillTotals::new();
        for body in bodies {
            spark_executors::add_stage_spill(&body?, &mut totals).map_err(|source| SparkRestError::NotJson {
                at: self.at.clone(),
                path: "stages".into(),
                source,
            })?;
        }
        Ok(totals)
    }

    /// A 200's body, or the error.
    async fn get(&self, path: &str) -> Result<Bytes, SparkRestError> {
        let response =
            self.client.get(&self.authority, path).await.map_err(|source| SparkRestError::Unreachable { at: self.at.clone(), source })?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| SparkRestError::Body { at: self.at.clone(), path: path.to_string(), detail: e.to_string() })?
            .to_bytes();
        if status.is_success() {
            return Ok(body);
        }
        // Spark's own errors are a line of text ("no such app: ..."); Jetty's are an HTML page
        // whose status line already says it all.
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).split_whitespace().collect::<Vec<_>>().join(" ");
        let detail = if text.is_empty() || text.starts_with('<') { String::new() } else { format!(": {text}") };
        Err(SparkRestError::Status { at: self.at.clone(), path: path.to_string(), status, detail })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::spark_ui::target;

    #[test]
    fn each_failure_is_an_error_of_the_executors_panel_that_says_where() {
        let driver = At::Driver("10.1.2.3:4040".into());
        let cases = [
            (
                SparkRestError::Status {
                    at: driver.clone(),
                    path: "/api/v1/applications/spark-1/allexecutors".into(),
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    detail: String::new(),
                },
                PanelErrorKind::Refused,
                "the driver's Spark REST API at 10.1.2.3:4040 answered 500 Internal Server Error for /api/v1/applications/spark-1/allexecutors",
            ),
            (SparkRestError::Timeout { at: driver.clone(), seconds: 6 }, PanelErrorKind::Timeout, "did not answer within 6 s"),
            (
                SparkRestError::Unreachable { at: driver, source: target("10.1.2.3:4040", "/a b").unwrap_err() },
                PanelErrorKind::Unreachable,
                "cannot be reached: not a request target for 10.1.2.3:4040",
            ),
            (SparkRestError::HistoryPending { app_id: "spark-1".into() }, PanelErrorKind::Missing, "does not list application spark-1 yet"),
            (
                SparkRestError::NotJson { at: At::History("shs:18080".into()), path: "/x".into(), source: ParseError::NotAList },
                PanelErrorKind::BadResponse,
                "the Spark History Server at shs:18080 answered /x with something that is not Spark's JSON",
            ),
        ];
        assert!(path_segment("spark-0c5d7e") && path_segment("local-1795282906849") && path_segment("1"));
        for bad in ["", "..", "a/b", "a?b", "a b", "%2e%2e"] {
            assert!(!path_segment(bad), "{bad}");
        }
        for (error, kind, says) in cases {
            let panel = error.panel_error();
            assert_eq!((panel.panel, panel.kind), (Panel::Executors, kind));
            assert!(panel.message.contains(says), "{}", panel.message);
        }
    }
}
