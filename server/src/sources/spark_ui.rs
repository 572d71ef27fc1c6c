//! The Spark client: where a job's Spark UI and REST API are served now (its running driver,
//! or the History Server once the driver is gone), and one pooled HTTP client to reach them.
//!
//! A source like the watchers: the Spark UI proxy forwards browsers' requests through it, and
//! the executor metrics ask Spark's REST API through it, so both see the same upstream for a job
//! and share one connection pool. It takes its targets only from the model (a driver's pod IP
//! and port) or the configuration (the History Server): nothing a client sends picks a host.

use crate::model::SparkUi;
use axum::body::Body;
use http::{Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Spark's Jetty closes idle keep-alive connections after 8 s; pooled ones must go first, or a
/// request lands on a socket the driver is closing.
const POOL_IDLE: Duration = Duration::from_secs(5);
/// A dead driver's IP fails fast instead of hanging a browser tab.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long after a job ends the History Server may still not list it (it scans every few
/// seconds, slower on S3): until then "not yet" is a page that refreshes, after it a 404.
const HISTORY_LAG: Duration = Duration::from_secs(600);

/// The HTTP client of Spark's servers: one pool, keyed by upstream, shared by every request.
#[derive(Clone)]
pub struct SparkClient {
    client: Client<HttpConnector, Body>,
    /// Spark's job and stage kill links pass only when the deployment enables them.
    pub kill_enabled: bool,
    /// `host:port` of the Spark History Server (plain HTTP), for jobs whose driver is gone.
    pub history: Option<String>,
}

impl SparkClient {
    /// A client with an empty pool; `history` is the History Server's `host:port`.
    pub fn new(kill_enabled: bool, history: Option<String>) -> SparkClient {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(POOL_IDLE).build(connector);
        SparkClient { client, kill_enabled, history }
    }

    /// Where a job's Spark UI (and its REST API) is served now, from what the model says of
    /// it (`ui`) and the configured History Server. The one place that decides it, for the
    /// proxy and for the executor metrics alike.
    pub fn upstream(&self, ui: SparkUi) -> Upstream {
        match ui {
            SparkUi::Driver { authority, app_id } => Upstream::Driver { authority, app_id },
            SparkUi::Starting { state, .. } => Upstream::Unavailable(Unavailable::Starting { state }),
            SparkUi::NotRunning { state, app_id, finished_at } => match (&self.history, app_id) {
                (None, _) => Upstream::Unavailable(Unavailable::NotRunning { state, why: " (no History Server is configured)" }),
                (Some(_), None) => {
                    Upstream::Unavailable(Unavailable::NotRunning { state, why: " (and it never reported a Spark application id)" })
                }
                (Some(authority), Some(app_id)) => Upstream::History { authority: authority.clone(), app_id, finished_at },
            },
            SparkUi::NoSuchJob => Upstream::Unavailable(Unavailable::NoSuchJob),
        }
    }

    /// `GET http://{authority}{path_and_query}` on the shared pool, with no body and nothing
    /// of any client's request: the authority comes from [`SparkClient::upstream`]. Callers
    /// bound the wait (the pool only bounds the connect).
    pub async fn get(&self, authority: &str, path_and_query: &str) -> Result<http::Response<hyper::body::Incoming>, UpstreamError> {
        let uri = target(authority, path_and_query)?;
        let request = http::Request::get(uri).header(header::HOST, authority).body(Body::empty()).map_err(UpstreamError::Request)?;
        self.send(request).await
    }

    /// Sends a request whose target the caller built with [`target`] (the proxy, which forwards
    /// a browser's method and allowed headers).
    pub async fn send(&self, request: http::Request<Body>) -> Result<http::Response<hyper::body::Incoming>, UpstreamError> {
        self.client.request(request).await.map_err(UpstreamError::Exchange)
    }
}

/// `http://{authority}{path_and_query}` as a request target: the authority is the model's or the
/// configuration's, the path the request's.
pub fn target(authority: &str, path_and_query: &str) -> Result<Uri, UpstreamError> {
    format!("http://{authority}{path_and_query}")
        .parse()
        .map_err(|source| UpstreamError::Target { authority: authority.to_string(), source })
}

/// A request to a driver or History Server that got no response. The message has the causes on
/// one line; the source is kept, so that a caller can tell a refused connection from a timeout
/// ([`UpstreamError::is_connect`]).
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The authority and path do not make a URI (a path with bytes a URI cannot carry).
    #[error("not a request target for {authority}: {source}")]
    Target {
        /// The upstream the request was for.
        authority: String,
        /// Why the URI does not parse.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// The request could not be built from the parts given.
    #[error("not a request: {0}")]
    Request(#[source] http::Error),
    /// No response: the connection was refused, timed out or broke.
    #[error("{}", error_chain(.0))]
    Exchange(#[source] hyper_util::client::legacy::Error),
}

impl UpstreamError {
    /// Whether no connection was made at all (refused, no route, connect timeout), rather than a
    /// connection that broke: a dead driver, not a busy one.
    pub fn is_connect(&self) -> bool {
        matches!(self, UpstreamError::Exchange(e) if e.is_connect())
    }
}

/// An error and its causes on one line ("client error (Connect): tcp connect error: ...").
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| e.source()).map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}

/// Where a job's Spark UI is served from now.
#[derive(Clone, Debug, PartialEq)]
pub enum Upstream {
    /// Its running driver's UI, at `ip:port`.
    Driver {
        /// The driver pod's `ip:port` of its `spark-ui` port.
        authority: String,
        /// The Spark application id, once the job reported one.
        app_id: Option<String>,
    },
    /// The History Server at `authority`, for a job whose driver is gone.
    History {
        /// The History Server's `host:port`.
        authority: String,
        /// The application it is asked for.
        app_id: String,
        /// When the job ended: a History Server may not list it for a while after.
        finished_at: Option<jiff::Timestamp>,
    },
    /// Nowhere, and why.
    Unavailable(Unavailable),
}

/// Why a job's Spark UI is served from nowhere.
#[derive(Clone, Debug, PartialEq)]
pub enum Unavailable {
    /// No job has that id (or the caller may not see it).
    NoSuchJob,
    /// On its way to running a driver.
    Starting {
        /// The job's state now.
        state: app::api::JobState,
    },
    /// No driver runs, and the History Server cannot stand in (`why`, as words to append).
    NotRunning {
        /// The job's state now.
        state: app::api::JobState,
        /// Why no History Server can stand in, as words to append.
        why: &'static str,
    },
}

/// Whether a History Server that does not list an application that ended at `finished` may
/// still be catching up, rather than never going to have it.
pub fn history_may_lag(finished: Option<jiff::Timestamp>) -> bool {
    finished.is_none_or(|t| jiff::Timestamp::now().duration_since(t).unsigned_abs() < HISTORY_LAG)
}

/// Why a `--history-server` value is not one.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum HistoryUrlError {
    #[error("{0:?} is not an http:// URL")]
    /// Another scheme (HTTPS is not supported yet).
    NotHttp(String),
    #[error("{0:?} must be http://host[:port], without a path")]
    /// A path, query, fragment or credentials after the host.
    NotAnAuthority(String),
}

/// A History Server URL as `--history-server` takes it: `http://host:port`, no path.
pub fn history_authority(url: &str) -> Result<String, HistoryUrlError> {
    let rest = url.trim().strip_prefix("http://").ok_or_else(|| HistoryUrlError::NotHttp(url.to_string()))?;
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return Err(HistoryUrlError::NotAnAuthority(url.to_string()));
    }
    Ok(authority.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_server_is_named_by_its_authority_only() {
        assert_eq!(history_authority("http://shs:18080/"), Ok("shs:18080".into()));
        assert_eq!(history_authority("https://shs"), Err(HistoryUrlError::NotHttp("https://shs".into())));
        assert_eq!(history_authority("http://shs/x"), Err(HistoryUrlError::NotAnAuthority("http://shs/x".into())));
        assert!(history_authority("http://user@shs").is_err());
    }

    #[tokio::test]
    async fn a_refused_connection_says_so_and_keeps_its_cause() {
        // A port nothing listens on: bind one, then let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = SparkClient::new(false, None);
        let error = client.get(&format!("127.0.0.1:{port}"), "/api/v1/applications").await.unwrap_err();
        assert!(error.is_connect(), "{error:?}");
        assert!(std::error::Error::source(&error).is_some());
        assert!(error.to_string().contains("onnect"), "{error}");
        let bad = client.get("127.0.0.1:1", "/a b").await.unwrap_err();
        assert!(matches!(bad, UpstreamError::Target { .. }) && !bad.is_connect(), "{bad:?}");
    }
}
