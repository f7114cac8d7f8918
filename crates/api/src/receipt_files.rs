//! The life cycle of a receipt file: converted off the async workers, stored under a fresh key
//! that is recorded as stale first, claimed by the invoice's transaction (`crm_db::invoices`),
//! released when the invoice lets go of it, and removed (now, or by the sweep in
//! [`crate::cleanup`]).

use actix_web::web;
use chrono::Utc;
use crm_db::invoices::ReceiptColumns;
use crm_receipts::{ReceiptError, SourceKind};
use sha2::{Digest, Sha256};

use crate::cleanup;
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::ReceiptStore;

/// An upload turned into a PDF.
#[derive(Debug)]
pub struct Converted {
    pdf: Vec<u8>,
    source: SourceKind,
    pages: u32,
}

/// Converts an upload into a PDF on a blocking thread, at most one per core at a time (each may
/// hold hundreds of megabytes). The inner error is the user's (a field error under `receipt`).
pub async fn convert(
    state: &AppState,
    bytes: Vec<u8>,
) -> Result<Result<Converted, ReceiptError>, ApiError> {
    let limits = state.config.receipt_limits;
    let _permit = state
        .conversions
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let metrics = std::sync::Arc::clone(&state.metrics);
    web::block(move || {
        let started = std::time::Instant::now();
        let converted = crm_receipts::convert_to_pdf(&bytes, &limits).map(|done| Converted {
            pdf: done.pdf.into_owned(),
            source: done.source,
            pages: done.pages,
        });
        if let Ok(done) = &converted {
            metrics.record_conversion(done.source, started.elapsed());
        }
        converted
    })
    .await
    .map_err(ApiError::internal)
}

/// A receipt in the store, with what its row records.
#[derive(Debug)]
pub struct StoredReceipt {
    key: String,
    sha256: Vec<u8>,
    size: i64,
    pages: i32,
    original_name: String,
    original_type: &'static str,
}

impl StoredReceipt {
    /// The row's receipt columns.
    pub fn columns(&self) -> ReceiptColumns<'_> {
        ReceiptColumns {
            receipt_key: &self.key,
            receipt_sha256: &self.sha256,
            receipt_size: self.size,
            receipt_pages: self.pages,
            receipt_original_name: &self.original_name,
            receipt_original_type: self.original_type,
        }
    }

    /// Its storage key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// Puts a converted receipt in the store under a fresh key, recorded first as stale so that the
/// file is swept away unless an invoice claims it within the claim window.
pub async fn store(
    state: &AppState,
    original_name: String,
    converted: Converted,
) -> Result<StoredReceipt, ApiError> {
    let stored = StoredReceipt {
        key: ReceiptStore::new_key(),
        sha256: Sha256::digest(&converted.pdf).to_vec(),
        size: i64::try_from(converted.pdf.len()).map_err(ApiError::internal)?,
        pages: i32::try_from(converted.pages).unwrap_or(i32::MAX),
        original_name,
        original_type: converted.source.media_type(),
    };
    cleanup::schedule_removal(
        state,
        &stored.key,
        Utc::now() + cleanup::UPLOAD_CLAIM_WINDOW,
    )
    .await?;
    if let Err(error) = state.receipts.put(&stored.key, converted.pdf).await {
        // Whether or not part of it was written, the sweep takes care of the key.
        cleanup::remove_now(state, &stored.key).await;
        return Err(error);
    }
    Ok(stored)
}

/// Passes on the outcome of saving a row that claims the file under `stored_key`; when saving
/// failed, the file is removed at once (its removal was recorded when it was stored), unless
/// PostgreSQL is unreachable: removing needs it too, and would keep the caller waiting as long
/// again only to leave the file to the sweep anyway.
pub async fn saved_or_removed<T>(
    state: &AppState,
    stored_key: &str,
    saved: Result<T, ApiError>,
) -> Result<T, ApiError> {
    match &saved {
        Err(ApiError::Unavailable(_)) => {
            tracing::warn!(key = stored_key, "receipt removal deferred to the sweep");
        }
        Err(_) => cleanup::remove_now(state, stored_key).await,
        Ok(_) => {}
    }
    saved
}

/// Removes a file its invoice let go of (its removal is recorded in the same transaction).
pub async fn remove_released(state: &AppState, key: &str) {
    cleanup::remove_now(state, key).await;
}
