//! Where receipts live: an object store (a local folder by default).

use std::path::Path;
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use rand::RngCore;

use crate::error::ApiError;

/// The receipts' store. Keys are generated, never derived from uploaded names.
#[derive(Debug, Clone)]
pub struct ReceiptStore {
    store: Arc<dyn ObjectStore>,
}

impl ReceiptStore {
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

    /// The PDF stored under `key`.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, ApiError> {
        let result = self
            .store
            .get(&ObjectPath::from(key))
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => {
                    ApiError::internal(anyhow::anyhow!("receipt {key} is missing from storage"))
                }
                other => ApiError::Unavailable(format!("receipt storage: {other}")),
            })?;
        let bytes = result
            .bytes()
            .await
            .map_err(|e| ApiError::Unavailable(format!("receipt storage: {e}")))?;
        Ok(bytes.to_vec())
    }

    /// Deletes the PDF under `key`; a missing one is no error.
    pub async fn delete(&self, key: &str) -> Result<(), ApiError> {
        match self.store.delete(&ObjectPath::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ApiError::Unavailable(format!("receipt storage: {e}"))),
        }
    }
}
