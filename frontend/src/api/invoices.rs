//! A customer's invoices and their receipts.

use crm_contract::invoices::{InvoicePage, InvoiceResponse};
use crm_contract::{CustomerId, InvoiceId};

use super::paths::{self, Query};
use super::transport::{self, UploadMethod};
use super::{ApiError, Paging};

/// `GET /customers/{id}/invoices`: a page of the customer's invoices, with totals over all.
pub async fn list(customer: CustomerId, paging: &Paging) -> Result<InvoicePage, ApiError> {
    let path = Query::default()
        .with_paging(paging)
        .on(paths::customer_invoices(customer));
    transport::get(&path).await
}

/// `POST /customers/{id}/invoices`: adds an invoice from the invoice form (fields and receipt,
/// multipart), reporting upload progress from 0.0 to 1.0. Sending the same `key` again after
/// a lost answer gets the first answer back instead of a second invoice.
pub async fn add(
    customer: CustomerId,
    form: &web_sys::FormData,
    key: &IdempotencyKey,
    on_progress: impl Fn(f64) + 'static,
) -> Result<InvoiceResponse, ApiError> {
    let path = paths::customer_invoices(customer);
    transport::upload(UploadMethod::Post, &path, form, Some(&key.0), on_progress).await
}

/// `PATCH /invoices/{id}`: saves the invoice form's fields and, when one was chosen, the new
/// receipt, together or not at all; reports upload progress from 0.0 to 1.0.
pub async fn edit(
    id: InvoiceId,
    form: &web_sys::FormData,
    on_progress: impl Fn(f64) + 'static,
) -> Result<InvoiceResponse, ApiError> {
    let path = paths::invoice(id);
    transport::upload(UploadMethod::Patch, &path, form, None, on_progress).await
}

/// `DELETE /invoices/{id}`: deletes the invoice and its receipt.
pub async fn remove(id: InvoiceId) -> Result<(), ApiError> {
    transport::delete(&paths::invoice(id)).await
}

/// An `Idempotency-Key`: one per attempt at a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A fresh key: a random UUID.
    pub fn new() -> Self {
        let uuid = web_sys::window()
            .and_then(|w| w.crypto().ok())
            .map(|c| c.random_uuid())
            .unwrap_or_else(|| {
                format!(
                    "{:x}-{:x}",
                    js_sys::Date::now() as u64,
                    (js_sys::Math::random() * 1e15) as u64
                )
            });
        Self(uuid)
    }

    /// The key as sent in the header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for IdempotencyKey {
    fn default() -> Self {
        Self::new()
    }
}
