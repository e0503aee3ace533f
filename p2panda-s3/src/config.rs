//! Where the bucket is and how to reach it.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::{BackoffConfig, ObjectStore, RetryConfig};

use crate::error::S3Error;

/// An S3-compatible bucket, as the user names it.
#[derive(Clone)]
pub struct S3Config {
    /// `https://host[:port]` (or `http://` for a server on this machine).
    pub endpoint: String,
    pub bucket: String,
    /// Most S3-compatible servers accept any region; AWS wants the bucket's.
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    /// Where in the bucket the mailbox lives (empty: at the top); several festivals share one.
    pub prefix: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Retries of a request that failed for a reason that may pass (5xx, dropped connection).
    pub max_retries: usize,
    /// The longest a request is retried for.
    pub retry_timeout: Duration,
    /// A full LIST of bundle names every this many pulls (and at the first), in case an index
    /// is missing or stale. 1: every pull; 0: only when an index cannot be read.
    pub list_every: u64,
}

impl S3Config {
    /// A bucket at `endpoint`, region `us-east-1`, no prefix, 8 requests in flight.
    pub fn new(endpoint: &str, bucket: &str, access_key: &str, secret_key: &str) -> Self {
        S3Config {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            bucket: bucket.to_string(),
            region: "us-east-1".to_string(),
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            prefix: String::new(),
            concurrency: 8,
            max_retries: 3,
            retry_timeout: Duration::from_secs(20),
            list_every: 10,
        }
    }

    /// The same with the mailbox under `prefix` in the bucket.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.trim_matches('/').to_string();
        self
    }

    pub(crate) fn store(&self) -> Result<Arc<dyn ObjectStore>, S3Error> {
        if self.bucket.is_empty() {
            return Err(S3Error::Config("the bucket name is empty".into()));
        }
        let http = self.endpoint.starts_with("http://");
        if !http && !self.endpoint.starts_with("https://") {
            return Err(S3Error::Config(format!(
                "the endpoint {} is not an http(s) URL",
                self.endpoint
            )));
        }
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: self.max_retries,
            retry_timeout: self.retry_timeout,
        };
        let store = AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_bucket_name(&self.bucket)
            .with_region(&self.region)
            .with_access_key_id(&self.access_key)
            .with_secret_access_key(&self.secret_key)
            // Plain HTTP only when the user wrote http:// (a server on this machine or network).
            .with_allow_http(http)
            // Path-style URLs work with every S3-compatible server; virtual hosts need DNS.
            .with_virtual_hosted_style_request(false)
            .with_retry(retry)
            .build()
            .map_err(|e| S3Error::Config(e.to_string()))?;
        Ok(Arc::new(store))
    }
}

// The secret key stays out of logs.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}
