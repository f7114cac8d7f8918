//! The multipart form of an invoice with its receipt: one extractor that streams it within
//! `MAX_UPLOAD_BYTES`, and the schemas that describe it in the OpenAPI document.

use std::future::Future;
use std::pin::Pin;

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use crm_contract::invoices::form;
use crm_domain::FieldErrors;
use futures_util::StreamExt;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract::{MULTIPART_OVERHEAD, declares_more_than};
use crate::state::AppState;

/// Longest text field accepted in the form.
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;
const MAX_FILE_NAME_CHARS: usize = 255;

/// A multipart invoice form as read: its text fields, the receipt (name and bytes), and the
/// problems found while reading (reported with the fields' own).
#[derive(Debug)]
pub struct ReceiptForm {
    texts: Vec<(String, String)>,
    /// The uploaded file's (display) name and bytes.
    pub receipt: Option<(String, Vec<u8>)>,
    /// Unknown fields, non-text values.
    pub errors: FieldErrors,
}

impl ReceiptForm {
    /// A text field as sent; `None` when absent.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// A text field, trimmed; `None` when absent or blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.raw(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }

    /// The names of the text fields sent.
    pub fn text_fields(&self) -> impl Iterator<Item = &str> {
        self.texts.iter().map(|(name, _)| name.as_str())
    }
}

impl FromRequest for ReceiptForm {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let max_bytes = req
                .app_data::<web::Data<AppState>>()
                .map(|state| state.config.max_upload_bytes)
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no application state")))?;
            read(&req, payload, max_bytes).await
        })
    }
}

/// Reads the form, streaming, refusing anything past `max_bytes` with a 413.
async fn read(
    req: &HttpRequest,
    payload: Payload,
    max_bytes: usize,
) -> Result<ReceiptForm, ApiError> {
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "The upload must be at most {} MiB.",
            max_bytes.div_ceil(1024 * 1024)
        ))
    };
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::UnsupportedMediaType(
            "Send the invoice as multipart/form-data, with the file in the 'receipt' field.".into(),
        ));
    }
    let body_limit = max_bytes.saturating_add(MULTIPART_OVERHEAD);
    if declares_more_than(req.headers(), body_limit) {
        return Err(too_large());
    }
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut form = ReceiptForm {
        texts: Vec::new(),
        receipt: None,
        errors: FieldErrors::new(),
    };
    let unreadable = || ApiError::BadRequest("The multipart body could not be read.".into());
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_owned();
        let raw_file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        let file_name = raw_file_name.as_deref().map(safe_file_name);
        let limit = if name == form::RECEIPT {
            max_bytes
        } else {
            MAX_TEXT_FIELD_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            total += chunk.len();
            if bytes.len() + chunk.len() > limit || total > body_limit {
                return Err(if name == form::RECEIPT || total > body_limit {
                    too_large()
                } else {
                    ApiError::field(&name, "This field is too long.")
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            // What a browser sends for a file input left empty: no name, no bytes. That is no
            // receipt ("required"), not an empty file.
            form::RECEIPT if bytes.is_empty() && raw_file_name.as_deref() == Some("") => {}
            form::RECEIPT => {
                form.receipt = Some((file_name.unwrap_or_else(|| "receipt".to_owned()), bytes))
            }
            form::AMOUNT | form::CURRENCY | form::NUMBER | form::ISSUED_ON | form::NOTES => {
                match String::from_utf8(bytes) {
                    Ok(text) => form.texts.push((name, text)),
                    Err(_) => form.errors.add(name, "Must be text (UTF-8)."),
                }
            }
            _ => form.errors.add(name, "Unknown field."),
        }
    }
    Ok(form)
}

/// The uploaded name without folders, control characters, or invisible and bidi formatting
/// characters (which can make `invoice\u{202E}fdp.exe` show as `invoiceexe.pdf`), for display
/// only.
fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    if clean.trim().is_empty() {
        "receipt".to_owned()
    } else {
        clean
    }
}

/// Unicode's format characters (general category Cf: bidi controls, zero-width characters,
/// the byte-order mark, tag characters...) and the line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// The multipart form of a new invoice.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct InvoiceUpload {
    /// Exact decimal with at most the currency's decimals, e.g. `1234.50`.
    amount: String,
    /// ISO 4217; the server's `DEFAULT_CURRENCY` when left out.
    currency: Option<String>,
    /// The invoice's own number, up to 64 characters.
    number: Option<String>,
    /// `YYYY-MM-DD`; today when left out.
    issued_on: Option<String>,
    notes: Option<String>,
    /// PDF, JPEG or PNG; images become PDFs.
    #[schema(value_type = String, format = Binary)]
    receipt: Vec<u8>,
}

/// The multipart form that edits an invoice: the fields sent change, those left out stay; a
/// `receipt` replaces the old one.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct InvoiceEdit {
    amount: Option<String>,
    currency: Option<String>,
    number: Option<String>,
    issued_on: Option<String>,
    notes: Option<String>,
    /// PDF, JPEG or PNG; images become PDFs.
    #[schema(value_type = Option<String>, format = Binary)]
    receipt: Option<Vec<u8>>,
}

/// The multipart form that replaces a receipt.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ReceiptUpload {
    /// PDF, JPEG or PNG; images become PDFs.
    #[schema(value_type = String, format = Binary)]
    receipt: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_folders_and_control_characters() {
        assert_eq!(safe_file_name("C:\\Users\\ada\\IMG_1.jpg"), "IMG_1.jpg");
        assert_eq!(safe_file_name("../../etc/pass\u{0}wd"), "passwd");
        assert_eq!(safe_file_name("  "), "receipt");
    }

    #[test]
    fn file_names_lose_bidi_and_invisible_characters() {
        assert_eq!(safe_file_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(
            safe_file_name("\u{FEFF}re\u{200B}ceipt\u{2066}\u{2069}\u{200F}.pdf"),
            "receipt.pdf"
        );
        assert_eq!(safe_file_name("\u{200B}\u{202E}"), "receipt");
        assert_eq!(safe_file_name("Quittung März.pdf"), "Quittung März.pdf");
    }
}
