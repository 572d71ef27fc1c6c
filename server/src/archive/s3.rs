//! The archive in S3: AWS itself in production (credentials from the default chain, so IRSA on
//! EKS works with no keys in our config), or any S3-compatible store (SeaweedFS, MinIO, Ceph)
//! given `endpoint` and usually `path_style`.

use super::store::{ByteStream, Cause, ObjectStore, StoreError};
use aws_config::{BehaviorVersion, Region, retry::RetryConfig, timeout::TimeoutConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use bytes::Bytes;
use futures::future::BoxFuture;
use std::error::Error;
use std::time::Duration;

/// Where the archive is; for AWS only `bucket` (and perhaps `prefix`) need setting.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub path_style: bool,
    /// An access key and secret to use instead of the default chain (a tool or a test that
    /// holds its own keys; the dashboard itself uses the chain).
    pub credentials: Option<(String, String)>,
}

pub struct S3Store {
    client: Client,
    bucket: String,
    /// "" or ending in "/", so joining and stripping keys is plain concatenation.
    prefix: String,
    describe: String,
}

impl S3Store {
    /// Cannot fail: whether the credentials work and the endpoint answers is only known at the
    /// first request, which reports it as a `StoreError` the dashboard shows and retries.
    pub async fn connect(options: S3Options) -> S3Store {
        // Our own HTTP client so rustls uses ring like the rest of the server, not the SDK's
        // default aws-lc (a second crypto library and a long C build).
        let http = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
        // A dead endpoint must fail in seconds so the dashboard can show its banner: refused
        // connections fail in well under a second, a black hole after 3 x 3 s. The caller
        // retries on its own, so the SDK's retries only smooth over a blip.
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .read_timeout(Duration::from_secs(10))
            .operation_timeout(Duration::from_secs(30))
            .build();
        let retries = RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_secs(1));
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http).timeout_config(timeouts).retry_config(retries);
        if let Some((key, secret)) = options.credentials {
            loader = loader.credentials_provider(aws_credential_types::Credentials::new(key, secret, None, None, "sparkboard"));
        }
        if let Some(region) = options.region.filter(|r| !r.is_empty()) {
            loader = loader.region(Region::new(region));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(options.path_style);
        if shared.region().is_none() {
            // S3-compatible stores ignore the region, but requests cannot be signed without one.
            config = config.region(Region::from_static("us-east-1"));
        }
        let trimmed = options.prefix.trim_matches('/');
        let prefix = if trimmed.is_empty() { String::new() } else { format!("{trimmed}/") };
        let mut describe = format!("s3://{}/{prefix}", options.bucket).trim_end_matches('/').to_string();
        if let Some(endpoint) = options.endpoint.filter(|e| !e.is_empty()) {
            // Connection errors do not name the host, so the message must.
            describe = format!("{describe} at {endpoint}");
            // Only where AWS asks for them: not every S3-compatible store takes CRC trailers.
            config = config
                .endpoint_url(endpoint)
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }
        S3Store { client: Client::from_conf(config.build()), bucket: options.bucket, prefix, describe }
    }

    /// Creates the bucket; one that exists already is fine. For tests and first-time setup: the
    /// dashboard itself never creates buckets (that is the deployment's business).
    pub async fn create_bucket(&self) -> Result<(), StoreError> {
        match self.client.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")) => Ok(()),
            Err(e) => Err(self.error("create bucket", "", e)),
        }
    }

    /// The object's headers and body stream, or None when there is no such key.
    async fn get_object(&self, key: &str) -> Result<Option<aws_sdk_s3::operation::get_object::GetObjectOutput>, StoreError> {
        match self.client.get_object().bucket(&self.bucket).key(format!("{}{key}", self.prefix)).send().await {
            Ok(output) => Ok(Some(output)),
            // A bare 404 counts as missing too (some stores send no code), but a missing bucket
            // is a misconfiguration that must not read as "nothing archived yet".
            Err(e) if status(&e) == Some(404) && e.code() != Some("NoSuchBucket") => Ok(None),
            Err(e) => Err(self.error("get", key, e)),
        }
    }

    /// Sorts an SDK error into the two kinds the caller acts on differently.
    fn error<E: Error + ProvideErrorMetadata + Send + Sync + 'static>(
        &self,
        op: &'static str,
        key: &str,
        err: SdkError<E, HttpResponse>,
    ) -> StoreError {
        let unavailable = match err {
            // Credentials are resolved at dispatch: none configured is a setup error, while a
            // slow IMDS or an unreachable STS (IRSA) is an outage like any other.
            SdkError::DispatchFailure(_) => !matches!(
                sources(&err).find_map(|e| e.downcast_ref::<CredentialsError>()),
                Some(CredentialsError::CredentialsNotLoaded(_) | CredentialsError::InvalidConfiguration(_))
            ),
            SdkError::TimeoutError(_) => true,
            // 429 too: throttling means "come back later", not "you are wrong".
            _ => status(&err).is_some_and(|s| s >= 500 || s == 429),
        };
        let detail = match (status(&err), err.code()) {
            (Some(status), Some(code)) => format!("HTTP {status} {code}: {}", err.message().unwrap_or("no message")),
            (Some(status), None) => format!("HTTP {status}: {}", chain(&err)),
            (None, _) => chain(&err),
        };
        let (store, key, cause) = (self.describe.clone(), key.to_string(), Some(Box::new(err) as Cause));
        if unavailable {
            StoreError::Unavailable { store, op, key, detail, cause }
        } else {
            StoreError::Failed { store, op, key, detail, cause }
        }
    }
}

fn status<E>(err: &SdkError<E, HttpResponse>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

fn sources<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(err), |&e| e.source())
}

/// The error and its sources on one line, which is where the SDK keeps the useful part
/// ("dispatch failure: io error: ...: Connection refused"). Not `DisplayErrorContext`: it adds
/// the `Debug` form, which for a service error is the whole raw response, over a kilobyte.
fn chain(err: &(dyn Error + 'static)) -> String {
    let text = sources(err).map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl ObjectStore for S3Store {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn put(&self, key: &str, body: Bytes) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = key.to_string();
        Box::pin(async move {
            let request = self.client.put_object().bucket(&self.bucket).key(format!("{}{key}", self.prefix)).body(body.into());
            request.send().await.map_err(|e| self.error("put", &key, e))?;
            Ok(())
        })
    }

    fn get(&self, key: &str) -> BoxFuture<'_, Result<Option<Bytes>, StoreError>> {
        let key = key.to_string();
        Box::pin(async move {
            let Some(output) = self.get_object(&key).await? else { return Ok(None) };
            // The body streams after the headers, so losing the connection here is an outage too.
            match output.body.collect().await {
                Ok(body) => Ok(Some(body.into_bytes())),
                Err(e) => Err(StoreError::Unavailable {
                    store: self.describe.clone(),
                    op: "get",
                    key,
                    detail: chain(&e),
                    cause: Some(Box::new(e)),
                }),
            }
        })
    }

    fn get_stream(&self, key: &str) -> BoxFuture<'_, Result<Option<ByteStream>, StoreError>> {
        let key = key.to_string();
        Box::pin(async move {
            let Some(output) = self.get_object(&key).await? else { return Ok(None) };
            let describe = self.describe.clone();
            // One chunk at a time as the connection delivers it; an error ends the stream.
            let chunks = futures::stream::unfold(Some(output.body), move |body| {
                let (describe, key) = (describe.clone(), key.clone());
                async move {
                    let mut body = body?;
                    match body.try_next().await {
                        Ok(Some(bytes)) => Some((Ok(bytes), Some(body))),
                        Ok(None) => None,
                        Err(e) => {
                            let detail = chain(&e);
                            Some((Err(StoreError::Unavailable { store: describe, op: "get", key, detail, cause: Some(Box::new(e)) }), None))
                        }
                    }
                }
            });
            Ok(Some(Box::pin(chunks) as ByteStream))
        })
    }

    fn list(&self, prefix: &str) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let prefix = prefix.to_string();
        Box::pin(async move {
            let request = self.client.list_objects_v2().bucket(&self.bucket).prefix(format!("{}{prefix}", self.prefix));
            let mut pages = request.into_paginator().send();
            let mut keys = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.error("list", &prefix, e))?;
                let found = page.contents().iter().filter_map(|object| object.key()?.strip_prefix(&self.prefix));
                keys.extend(found.map(str::to_string));
            }
            // S3 sorts by UTF-8 bytes already; not every compatible store promises to.
            keys.sort_unstable();
            Ok(keys)
        })
    }

    fn delete(&self, key: &str) -> BoxFuture<'_, Result<(), StoreError>> {
        let key = key.to_string();
        Box::pin(async move {
            match self.client.delete_object().bucket(&self.bucket).key(format!("{}{key}", self.prefix)).send().await {
                // S3 answers 204 for a missing key; a compatible store's 404 means the same.
                Err(e) if status(&e) == Some(404) && e.code() != Some("NoSuchBucket") => Ok(()),
                Err(e) => Err(self.error("delete", &key, e)),
                Ok(_) => Ok(()),
            }
        })
    }
}
