//! Where receipts live: an object store (a local folder by default, or an S3 bucket).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use rand::RngCore;
use secrecy::ExposeSecret;

use crate::config::{ReceiptStorage, S3Storage};
use crate::error::ApiError;

/// How long a storage request may take before the API answers 503 (a 10 MiB receipt over a
/// slow link to the bucket still fits).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting to the storage server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The receipts' store. Keys are generated, never derived from uploaded names.
#[derive(Debug, Clone)]
pub struct ReceiptStore {
    store: Arc<dyn ObjectStore>,
}

impl ReceiptStore {
    /// The store the configuration names.
    pub fn from_config(storage: &ReceiptStorage) -> anyhow::Result<Self> {
        match storage {
            ReceiptStorage::Local(dir) => Self::local(dir),
            ReceiptStorage::S3(s3) => Self::s3(s3),
        }
    }

    /// A store in an S3 bucket. Nothing is contacted until the first request.
    ///
    /// Failed requests are retried a few times within seconds, not minutes: a user is waiting
    /// on the other end, and a 503 they can retry beats a hung upload.
    pub fn s3(s3: &S3Storage) -> anyhow::Result<Self> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region)
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(REQUEST_TIMEOUT)
                    .with_connect_timeout(CONNECT_TIMEOUT),
            )
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: Duration::from_secs(20),
            });
        if let Some(endpoint) = &s3.endpoint {
            builder = builder
                .with_endpoint(endpoint.as_str().trim_end_matches('/'))
                .with_allow_http(endpoint.scheme() == "http");
        }
        if let (Some(key), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret.expose_secret());
        }
        Ok(Self {
            store: Arc::new(builder.build()?),
        })
    }

    /// A store in a local folder, created if missing.
    pub fn local(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            store: Arc::new(LocalFileSystem::new_with_prefix(dir)?),
        })
    }

    /// A fresh key: `receipts/<32 random hex digits>.pdf`.
    pub fn new_key() -> String {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("receipts/{hex}.pdf")
    }

    /// Stores `pdf` under `key`.
    pub async fn put(&self, key: &str, pdf: Vec<u8>) -> Result<(), ApiError> {
        self.store
            .put(&ObjectPath::from(key), PutPayload::from(pdf))
            .await
            .map(|_| ())
            .map_err(|e| ApiError::Unavailable(format!("receipt storage: {e}")))
    }

    /// The PDF stored under `key`, as its size and a stream of its bytes (never whole in
    /// memory).
    pub async fn open(
        &self,
        key: &str,
    ) -> Result<
        (
            u64,
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, ApiError>> + use<>,
        ),
        ApiError,
    > {
        use futures_util::TryStreamExt;
        let result = self.get_result(key).await?;
        let size = result.meta.size;
        let stream = result
            .into_stream()
            .map_err(|e| ApiError::Unavailable(format!("receipt storage: {e}")));
        Ok((size, stream))
    }

    /// The PDF stored under `key`, whole.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, ApiError> {
        let result = self.get_result(key).await?;
        let bytes = result
            .bytes()
            .await
            .map_err(|e| ApiError::Unavailable(format!("receipt storage: {e}")))?;
        Ok(bytes.to_vec())
    }

    async fn get_result(&self, key: &str) -> Result<object_store::GetResult, ApiError> {
        self.store
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    ApiError::internal(anyhow::anyhow!("receipt {key} is missing from storage"))
                }
                other => ApiError::Unavailable(format!("receipt storage: {other}")),
            })
    }

    /// Whether the store answers: listing a folder that is never written must succeed (a bucket
    /// that is missing, or refuses our credentials, fails; a missing key would not tell, as a
    /// missing bucket also answers "not found").
    pub async fn is_reachable(&self) -> bool {
        self.store
            .list_with_delimiter(Some(&ObjectPath::from("readiness-probe")))
            .await
            .is_ok()
    }

    /// Every key in the store, in order (for backups).
    pub async fn keys(&self) -> Result<Vec<String>, ApiError> {
        use futures_util::TryStreamExt;
        let mut keys: Vec<String> = self
            .store
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .map_err(|e| ApiError::Unavailable(format!("receipt storage: {e}")))?;
        keys.sort();
        Ok(keys)
    }

    /// Deletes the PDF under `key`; a missing one is no error.
    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ApiError::Unavailable(format!("receipt storage: {e}"))),
        }
    }
}
