//! What crosses the proxy in each direction, as pure functions (unit-tested without a socket).
//!
//! Requests carry an allowlist of headers: never the dashboard's cookies or `Authorization`,
//! never a client's `X-Forwarded-*` (Spark reflects `X-Forwarded-Context` unescaped into an
//! inline script, so only the proxy sets it, from the validated job id). Responses lose
//! hop-by-hop headers and `Set-Cookie` (a job must not plant cookies on the dashboard's
//! origin); everything else, `Content-Encoding` and Spark's CSP included, passes unchanged.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// Request headers a Spark UI needs from a browser, and nothing else.
const FORWARDED_REQUEST: [HeaderName; 9] = [
    header::ACCEPT,
    header::ACCEPT_ENCODING,
    header::ACCEPT_LANGUAGE,
    header::CACHE_CONTROL,
    header::IF_MODIFIED_SINCE,
    header::IF_NONE_MATCH,
    header::IF_RANGE,
    header::RANGE,
    header::USER_AGENT,
];

/// Response headers that describe one connection, or that must not reach the browser.
const DROPPED_RESPONSE: [HeaderName; 8] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
    header::TRAILER,
    header::PROXY_AUTHENTICATE,
    header::SET_COOKIE,
    HeaderName::from_static("keep-alive"),
];

/// The headers sent upstream: the allowlist from the client, then the proxy's own.
pub fn upstream_request(client: &HeaderMap, authority: &str, prefix: &str) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in &FORWARDED_REQUEST {
        for value in client.get_all(name) {
            out.append(name.clone(), value.clone());
        }
    }
    // Spark builds absolute redirects from Host: make them name the upstream, which
    // `rewrite_location` recognises.
    if let Ok(host) = HeaderValue::from_str(authority) {
        out.insert(header::HOST, host);
    }
    if let Ok(context) = HeaderValue::from_str(prefix) {
        out.insert(HeaderName::from_static("x-forwarded-context"), context);
    }
    out
}

/// The upstream's response headers, as the browser may see them.
pub fn downstream_response(upstream: &HeaderMap, authority: &str, prefix: &str) -> HeaderMap {
    let mut out = upstream.clone();
    // Headers the upstream's `Connection` names are per-connection too.
    let listed: Vec<HeaderName> = upstream
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in DROPPED_RESPONSE.iter().chain(&listed) {
        out.remove(name);
    }
    if let Some(location) = upstream.get(header::LOCATION).and_then(|v| v.to_str().ok())
        && let Ok(value) = HeaderValue::from_str(&rewrite_location(location, authority, prefix))
    {
        out.insert(header::LOCATION, value);
    }
    out
}

/// A redirect from the upstream, moved under the job's prefix. Spark never applies the prefix
/// to redirects: old Jetty sends `http://<Host>/jobs/`, Jetty 12 sends `/jobs/`. Both become
/// `<prefix>/jobs/` (query kept); one already under the prefix, and one to another host, stay.
pub fn rewrite_location(location: &str, authority: &str, prefix: &str) -> String {
    let path = ["http://", "https://"]
        .iter()
        .find_map(|scheme| location.strip_prefix(scheme))
        .and_then(|rest| rest.strip_prefix(authority))
        .filter(|path| path.is_empty() || path.starts_with(['/', '?']))
        .or_else(|| location.strip_prefix('/').map(|_| location).filter(|l| !l.starts_with("//")));
    match path {
        Some(path) if path == prefix || path.starts_with(&format!("{prefix}/")) || path.starts_with(&format!("{prefix}?")) => {
            path.to_string()
        }
        Some("") => format!("{prefix}/"),
        Some(path) if path.starts_with('?') => format!("{prefix}/{path}"),
        Some(path) => format!("{prefix}{path}"),
        None => location.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UP: &str = "127.0.0.1:4041";
    const P: &str = "/jobs/ml/etl/ui";

    #[test]
    fn redirects_move_under_the_prefix_once() {
        // Old Jetty: absolute, to the Host the proxy sent.
        assert_eq!(rewrite_location("http://127.0.0.1:4041/jobs/", UP, P), "/jobs/ml/etl/ui/jobs/");
        assert_eq!(rewrite_location("http://127.0.0.1:4041/jobs/job/?id=0", UP, P), "/jobs/ml/etl/ui/jobs/job/?id=0");
        assert_eq!(rewrite_location("http://127.0.0.1:4041", UP, P), "/jobs/ml/etl/ui/");
        // Jetty 12: host-relative.
        assert_eq!(rewrite_location("/jobs/", UP, P), "/jobs/ml/etl/ui/jobs/");
        // Already prefixed (a driver with proxyRedirectUri): left alone.
        assert_eq!(rewrite_location("/jobs/ml/etl/ui/jobs/", UP, P), "/jobs/ml/etl/ui/jobs/");
        // Another host, a scheme-relative URL, a relative path: not ours to move.
        assert_eq!(rewrite_location("http://evil.example/x", UP, P), "http://evil.example/x");
        assert_eq!(rewrite_location("http://127.0.0.1:40410/x", UP, P), "http://127.0.0.1:40410/x");
        assert_eq!(rewrite_location("//evil.example/x", UP, P), "//evil.example/x");
        assert_eq!(rewrite_location("stages/", UP, P), "stages/");
    }

    #[test]
    fn only_the_allowlist_goes_upstream_and_the_context_is_ours() {
        let mut client = HeaderMap::new();
        client.insert(header::COOKIE, HeaderValue::from_static("session=secret"));
        client.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer dashboard"));
        client.insert("x-forwarded-context", HeaderValue::from_static("/evil');alert(1);('"));
        client.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        client.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        client.insert(header::HOST, HeaderValue::from_static("dashboard.example"));
        let up = upstream_request(&client, UP, P);
        assert_eq!(up.get("x-forwarded-context").unwrap(), P);
        assert_eq!(up.get(header::HOST).unwrap(), UP);
        assert_eq!(up.get(header::ACCEPT_ENCODING).unwrap(), "gzip");
        for gone in [header::COOKIE, header::AUTHORIZATION, HeaderName::from_static("x-forwarded-for")] {
            assert!(up.get(&gone).is_none(), "{gone} leaked");
        }
    }

    #[test]
    fn cookies_and_hop_by_hop_headers_stop_at_the_proxy() {
        let mut upstream = HeaderMap::new();
        upstream.insert(header::SET_COOKIE, HeaderValue::from_static("JSESSIONID=x"));
        upstream.insert(header::CONNECTION, HeaderValue::from_static("close, x-debug"));
        upstream.insert("x-debug", HeaderValue::from_static("1"));
        upstream.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        upstream.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("script-src 'nonce-abc'"));
        upstream.insert(header::LOCATION, HeaderValue::from_static("http://127.0.0.1:4041/jobs/"));
        let down = downstream_response(&upstream, UP, P);
        assert!(down.get(header::SET_COOKIE).is_none());
        assert!(down.get(header::CONNECTION).is_none() && down.get("x-debug").is_none());
        assert_eq!(down.get(header::CONTENT_ENCODING).unwrap(), "gzip");
        assert_eq!(down.get(header::CONTENT_SECURITY_POLICY).unwrap(), "script-src 'nonce-abc'");
        assert_eq!(down.get(header::LOCATION).unwrap(), "/jobs/ml/etl/ui/jobs/");
    }
}
