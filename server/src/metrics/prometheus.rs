//! A Prometheus HTTP API client: `query_range` only, over plain HTTP (Prometheus inside the
//! cluster, or VictoriaMetrics, which serves the same API), POSTed as a form so that long pod
//! regexes never meet a URL length limit.

use super::matrix::{self, Series};
use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jiff::Timestamp;
use std::time::Duration;

/// Largest response body read: a batch's matrix at the most points the API allows.
const MAX_BODY: usize = 256 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a query brought no data.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// No connection (refused, DNS, reset before an answer).
    #[error("Prometheus at {url} cannot be reached: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: hyper_util::client::legacy::Error,
    },
    /// No answer within the configured timeout.
    #[error("Prometheus at {url} did not answer within {seconds} s")]
    Timeout { url: String, seconds: f64 },
    /// An HTTP error status, with the `errorType` and `error` of Prometheus' error body when
    /// it sent one (bad query, query timeout, too many samples...).
    #[error("Prometheus answered {status}: {message}")]
    Status { status: StatusCode, error_type: Option<String>, message: String },
    /// A body that is not the API's JSON, or is cut short.
    #[error("Prometheus sent a response that is not its query API's: {0}")]
    BadResponse(String),
}

/// One Prometheus server.
#[derive(Clone, Debug)]
pub struct Prometheus {
    /// `http://host:port[/prefix]`, without a trailing slash.
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

/// A `--prometheus` value that is not an http:// URL.
#[derive(Debug, thiserror::Error)]
#[error("{0:?} must be http://host[:port][/path]")]
pub struct BadUrl(pub String);

impl Prometheus {
    /// A client for the server at `url` (`http://host:port`, optionally with a path prefix),
    /// giving up on each query after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Prometheus, BadUrl> {
        let base = url.trim().trim_end_matches('/').to_string();
        let parsed: Uri = base.parse().map_err(|_| BadUrl(url.to_string()))?;
        if parsed.scheme_str() != Some("http") || parsed.host().is_none_or(str::is_empty) || parsed.query().is_some() {
            return Err(BadUrl(url.to_string()));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Prometheus { base, client, timeout })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// `POST /api/v1/query_range`: the matrix of `query` from `start` to `end` every `step`
    /// seconds. Prometheus gets the timeout too, so it stops working when the client does.
    pub async fn query_range(&self, query: &str, start: Timestamp, end: Timestamp, step: f64) -> Result<Vec<Series>, PrometheusError> {
        let seconds = |t: Timestamp| format!("{:.3}", t.as_millisecond() as f64 / 1000.0);
        let form = [
            ("query", query.to_string()),
            ("start", seconds(start)),
            ("end", seconds(end)),
            ("step", format!("{step}")),
            ("timeout", format!("{}s", self.timeout.as_secs_f64())),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", app::query::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
        let body = self.post("/api/v1/query_range", form).await?;
        matrix::parse(&body).map_err(|e| PrometheusError::BadResponse(e.to_string()))
    }

    /// POSTs a form and returns a 200's body, or the error.
    async fn post(&self, path: &str, form: String) -> Result<Bytes, PrometheusError> {
        let url = format!("{}{path}", self.base);
        let request = Request::builder()
            .method(Method::POST)
            .uri(&url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| PrometheusError::BadResponse(format!("cannot build a request for {url}: {e}")))?;
        let timeout = || PrometheusError::Timeout { url: self.base.clone(), seconds: self.timeout.as_secs_f64() };
        let exchange = async {
            let response =
                self.client.request(request).await.map_err(|source| PrometheusError::Unreachable { url: self.base.clone(), source })?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| PrometheusError::BadResponse(format!("reading the body: {e}")))?
                .to_bytes();
            Ok((status, body))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange).await.map_err(|_| timeout())??;
        if status.is_success() {
            return Ok(body);
        }
        let (error_type, message) = match matrix::error_body(&body) {
            Some((kind, message)) => (Some(kind), message),
            None => (None, String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_string()),
        };
        Err(PrometheusError::Status { status, error_type, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_taken() {
        let ok = |url: &str| Prometheus::new(url, Duration::from_secs(1)).map(|p| p.url().to_string());
        assert_eq!(ok("http://prometheus:9090/").unwrap(), "http://prometheus:9090");
        assert_eq!(ok("http://gw.internal/prometheus").unwrap(), "http://gw.internal/prometheus");
        for bad in ["prometheus:9090", "https://p:9090", "http://", "ftp://p", "http://p:9090/?x=1", ""] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_not_a_panic() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let prometheus = Prometheus::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5)).unwrap();
        let now = Timestamp::now();
        let error = prometheus.query_range("up", now, now, 1.0).await.unwrap_err();
        assert!(matches!(error, PrometheusError::Unreachable { .. }), "{error}");
    }

    #[tokio::test]
    async fn error_bodies_and_timeouts_are_told_apart() {
        use axum::routing::post;
        let app = axum::Router::new()
            .route(
                "/api/v1/query_range",
                post(|| async {
                    (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}"#,
                    )
                }),
            )
            .route(
                "/slow/api/v1/query_range",
                post(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "{}"
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let now = Timestamp::now();
        let refused = Prometheus::new(&format!("http://{addr}"), Duration::from_secs(5)).unwrap();
        match refused.query_range("up", now, now, 1.0).await.unwrap_err() {
            PrometheusError::Status { status, error_type, message } => {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
                assert_eq!(error_type.as_deref(), Some("execution"));
                assert!(message.contains("too many samples"));
            }
            other => panic!("{other}"),
        }
        let slow = Prometheus::new(&format!("http://{addr}/slow"), Duration::from_millis(200)).unwrap();
        assert!(matches!(slow.query_range("up", now, now, 1.0).await.unwrap_err(), PrometheusError::Timeout { .. }));
    }
}
