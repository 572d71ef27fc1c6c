//! JSON answers, gzip-compressed when the client takes it. The API's bodies are large and
//! repetitive (the metrics page's answer for 200 executors is 1.4 MiB, a quarter of that
//! compressed), and the dashboard's own static files are served precompressed anyway
//! ([`super::site`]). Streams (NDJSON logs, server-sent events) are not sent this way: a
//! compressor holds bytes back, and those must flow as they come.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Serialize;
use std::io::Write;

/// Smaller bodies go as they are: compressing them saves less than the header costs.
const MIN_GZIP: usize = 1024;

/// Whether the request's `Accept-Encoding` lists `encoding` (and not with `q=0`).
pub fn accepts(headers: &HeaderMap, encoding: &str) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let named = parts.next().is_some_and(|name| name.eq_ignore_ascii_case(encoding));
        let refused = parts.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()) == Some(0.0));
        named && !refused
    })
}

/// A value answered as JSON; gzip'ed when `gzip` (from [`accepts`]) and worth it.
pub struct JsonBody<T> {
    /// What is answered.
    pub value: T,
    /// Whether the client takes gzip.
    pub gzip: bool,
}

impl<T> JsonBody<T> {
    /// `value`, compressed if the request's headers allow it.
    pub fn for_request(headers: &HeaderMap, value: T) -> JsonBody<T> {
        JsonBody { value, gzip: accepts(headers, "gzip") }
    }
}

impl<T: Serialize> IntoResponse for JsonBody<T> {
    fn into_response(self) -> Response {
        let json = match serde_json::to_vec(&self.value) {
            Ok(json) => json,
            Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("the answer could not be written as JSON: {e}")).into_response(),
        };
        let mut encoding = None;
        let body = if self.gzip && json.len() >= MIN_GZIP {
            // The fastest level: most of the gain for a tenth of the default level's time.
            let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::fast());
            match gz.write_all(&json).and_then(|()| gz.finish()) {
                Ok(compressed) => {
                    encoding = Some(HeaderValue::from_static("gzip"));
                    compressed
                }
                Err(_) => json,
            }
        } else {
            json
        };
        let mut response = Response::new(Body::from(body));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(encoding) = encoding {
            headers.insert(header::CONTENT_ENCODING, encoding);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn headers(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
        h
    }

    #[test]
    fn accept_encoding_is_read_as_a_list_with_weights() {
        assert!(accepts(&headers("gzip, deflate, br, zstd"), "gzip"));
        assert!(accepts(&headers("br;q=1.0, GZIP;q=0.5"), "gzip"));
        assert!(!accepts(&headers("gzip;q=0, br"), "gzip"));
        assert!(!accepts(&headers("identity"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }

    #[tokio::test]
    async fn large_answers_are_gzipped_for_clients_that_take_it_and_small_ones_are_not() {
        let value: Vec<u32> = (0..2000).collect();
        let response = JsonBody::for_request(&headers("gzip"), &value).into_response();
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let mut json = String::new();
        flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut json).unwrap();
        assert_eq!(serde_json::from_str::<Vec<u32>>(&json).unwrap(), value);
        let plain = JsonBody::for_request(&HeaderMap::new(), &value).into_response();
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        let small = JsonBody::for_request(&headers("gzip"), &[1, 2, 3]).into_response();
        assert!(small.headers().get(header::CONTENT_ENCODING).is_none());
    }
}
