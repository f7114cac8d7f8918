//! Invoices and their receipts.

use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::{CustomerId, InvoiceId};
use serde::{Deserialize, Serialize};

use crate::Page;

/// The stored receipt of an invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptInfo {
    /// Where to download the PDF.
    #[cfg_attr(feature = "openapi", schema(example = "/api/v1/invoices/7/receipt"))]
    pub url: String,
    /// SHA-256 of the stored PDF, hex.
    pub sha256: String,
    /// Bytes of the stored PDF.
    pub size: i64,
    /// Pages of the stored PDF.
    pub pages: i32,
    /// The uploaded file's name, as sent.
    #[cfg_attr(feature = "openapi", schema(example = "IMG_2043.jpg"))]
    pub original_name: String,
    /// What was uploaded: `application/pdf`, `image/jpeg` or `image/png`.
    #[cfg_attr(feature = "openapi", schema(example = "image/jpeg"))]
    pub original_type: String,
}

/// An invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: InvoiceId,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub customer_id: CustomerId,
    #[cfg_attr(feature = "openapi", schema(example = "2026-0042"))]
    pub number: String,
    /// Exact decimal, as a string.
    #[cfg_attr(feature = "openapi", schema(example = "1234.50"))]
    pub amount: String,
    /// ISO 4217.
    #[cfg_attr(feature = "openapi", schema(example = "EUR"))]
    pub currency: String,
    #[serde(with = "crate::time::date")]
    pub issued_on: NaiveDate,
    pub notes: String,
    pub receipt: ReceiptInfo,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// The sum of a customer's invoices in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyTotal {
    #[cfg_attr(feature = "openapi", schema(example = "EUR"))]
    pub currency: String,
    #[cfg_attr(feature = "openapi", schema(example = "2469.00"))]
    pub amount: String,
}

/// A page of a customer's invoices, newest issue date first, with totals per currency over
/// all of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoicePage {
    #[serde(flatten)]
    pub page: Page<InvoiceResponse>,
    /// Sums per currency over all the customer's invoices (never added across currencies).
    pub totals: Vec<CurrencyTotal>,
}

// By hand: serde's derive would buffer the whole page to find the flattened fields.
impl<'de> Deserialize<'de> for InvoicePage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The page's fields side by side, as they travel.
        #[derive(Deserialize)]
        struct Flat {
            items: Vec<InvoiceResponse>,
            next_cursor: Option<String>,
            total: i64,
            total_exact: bool,
            totals: Vec<CurrencyTotal>,
        }
        let flat = Flat::deserialize(deserializer)?;
        Ok(Self {
            page: Page {
                items: flat.items,
                next_cursor: flat.next_cursor,
                total: flat.total,
                total_exact: flat.total_exact,
            },
            totals: flat.totals,
        })
    }
}

/// Changes to an invoice's fields; those left out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"amount": "99.90", "notes": "Paid by card."})))]
pub struct UpdateInvoiceRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub number: Option<String>,
    /// Exact decimal as a string; required when the currency changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The names of the multipart form fields of an invoice upload or edit.
pub mod form {
    /// Exact decimal with at most the currency's decimals, e.g. `1234.50`.
    pub const AMOUNT: &str = "amount";
    /// ISO 4217.
    pub const CURRENCY: &str = "currency";
    /// The invoice's own number.
    pub const NUMBER: &str = "number";
    /// `YYYY-MM-DD`.
    pub const ISSUED_ON: &str = "issued_on";
    /// Free text.
    pub const NOTES: &str = "notes";
    /// The PDF, JPEG or PNG file.
    pub const RECEIPT: &str = "receipt";
}
