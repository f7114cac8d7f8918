//! Invoices with their receipts: upload (multipart), list with totals, read, download, delete.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use crm_db::audit::{self, NewAuditEvent};
use crm_db::invoices::{self as rows, Invoice, InvoiceChanges, NewInvoice, ReceiptColumns};
use crm_db::stale_receipts;
use crm_domain::{
    Amount, Currency, CustomerId, FieldErrors, InvoiceId, InvoiceNumber, Notes, REQUIRED, Total,
};
use crm_receipts::{ReceiptError, SourceKind};
use diesel::{Connection, QueryResult};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::cleanup;
use crate::error::responses::{
    CsrfRejected, InvalidInput, Malformed, NotFound, NotMultipart, NotSignedIn, Unavailable,
    UploadTooLarge,
};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, MULTIPART_OVERHEAD, declares_more_than};
use crate::pagination::{PageParams, parse_cursor, parse_limit, split_page};
use crate::state::AppState;
use crate::storage::ReceiptStore;

/// The stored receipt of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptInfo {
    /// Where to download the PDF.
    #[schema(example = "/api/v1/invoices/7/receipt")]
    pub url: String,
    /// SHA-256 of the stored PDF, hex.
    pub sha256: String,
    /// Bytes of the stored PDF.
    pub size: i64,
    /// Pages of the stored PDF.
    pub pages: i32,
    /// The uploaded file's name, as sent.
    #[schema(example = "IMG_2043.jpg")]
    pub original_name: String,
    /// What was uploaded: `application/pdf`, `image/jpeg` or `image/png`.
    #[schema(example = "image/jpeg")]
    pub original_type: String,
}

/// An invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceResponse {
    pub id: i64,
    pub customer_id: i64,
    #[schema(example = "2026-0042")]
    pub number: String,
    /// Exact decimal, as a string.
    #[schema(example = "1234.50")]
    pub amount: String,
    /// ISO 4217.
    #[schema(example = "EUR")]
    pub currency: String,
    pub issued_on: NaiveDate,
    pub notes: String,
    pub receipt: ReceiptInfo,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<Invoice> for InvoiceResponse {
    type Error = ApiError;
    fn try_from(invoice: Invoice) -> Result<Self, ApiError> {
        let currency = Currency::parse(&invoice.currency).map_err(ApiError::internal)?;
        Ok(Self {
            id: invoice.id,
            customer_id: invoice.customer_id,
            number: invoice.number,
            amount: Amount::from_minor(invoice.amount_minor, currency).to_string(),
            currency: invoice.currency,
            issued_on: invoice.issued_on,
            notes: invoice.notes,
            receipt: ReceiptInfo {
                url: format!("/api/v1/invoices/{}/receipt", invoice.id),
                sha256: hex(&invoice.receipt_sha256),
                size: invoice.receipt_size,
                pages: invoice.receipt_pages,
                original_name: invoice.receipt_original_name,
                original_type: invoice.receipt_original_type,
            },
            created_at: invoice.created_at,
            updated_at: invoice.updated_at,
        })
    }
}

/// The sum of a customer's invoices in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencyTotal {
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(example = "2469.00")]
    pub amount: String,
}

/// A page of a customer's invoices, newest issue date first, with totals per currency over
/// all of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePage {
    pub items: Vec<InvoiceResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many invoices the customer has, over all pages.
    pub total: i64,
    /// Sums per currency over all the customer's invoices (never added across currencies).
    pub totals: Vec<CurrencyTotal>,
}

/// Where a page of invoices ends (the opaque `cursor`).
#[derive(Debug, Serialize, Deserialize)]
struct InvoiceCursor {
    d: NaiveDate,
    i: i64,
}

/// The multipart form of a new invoice (for the OpenAPI description).
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

/// Longest text field accepted in the form.
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;
const MAX_FILE_NAME_CHARS: usize = 255;

/// Uploads an invoice with its receipt (`multipart/form-data`). The type is decided by the
/// file's content; images become PDFs (JPEGs without re-encoding).
#[utoipa::path(
    tag = "invoices",
    params(("id" = i64, Path, description = "Customer id")),
    request_body(content = InvoiceUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Created; `Location` names the invoice", body = InvoiceResponse),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 404, response = NotFound),
        (status = 409, description = "The customer is archived", body = Problem, content_type = "application/problem+json"),
        (status = 413, response = UploadTooLarge),
        (status = 415, response = NotMultipart),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/customers/{id}/invoices")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let customer_id = CustomerId::new(id.into_inner());
    let customer = state
        .db(move |conn| Ok(crm_db::customers::find(conn, customer_id)?))
        .await?;
    if customer.archived_at.is_some() {
        return Err(ApiError::Conflict(
            "This customer is archived: restore it before adding invoices.".into(),
        ));
    }
    let mut form = read_form(&req, payload, state.config.max_upload_bytes).await?;

    let mut errors = std::mem::take(&mut form.errors);
    let currency = match form.text("currency") {
        Some(code) => errors.check("currency", Currency::parse(code)),
        None => Some(state.config.default_currency),
    };
    let amount = match (form.text("amount"), currency) {
        (None, _) => {
            errors.add("amount", REQUIRED);
            None
        }
        (Some(text), Some(currency)) => errors.check("amount", Amount::parse(text, currency)),
        (Some(_), None) => None,
    };
    let number = errors
        .check(
            "number",
            InvoiceNumber::parse(form.text("number").unwrap_or_default()),
        )
        .map(InvoiceNumber::into_inner)
        .unwrap_or_default();
    let issued_on = match form.text("issued_on") {
        Some(text) => errors.check("issued_on", parse_issued_on(text)),
        None => Some(Utc::now().date_naive()),
    };
    let notes = errors.check(
        "notes",
        Notes::parse(form.text("notes").unwrap_or_default()),
    );
    let upload = match form.receipt {
        Some(upload) => Some(upload),
        None => {
            errors.add("receipt", REQUIRED);
            None
        }
    };
    // Converted even when other fields are wrong, so every problem is reported at once.
    let converted = match upload {
        Some((name, bytes)) => errors
            .check("receipt", convert(&state, bytes).await?)
            .map(|converted| (name, converted)),
        None => None,
    };
    let (
        Some(amount),
        Some(issued_on),
        Some(notes),
        Some((original_name, (pdf, source, pages))),
        true,
    ) = (amount, issued_on, notes, converted, errors.is_empty())
    else {
        return Err(errors.into());
    };

    let stored = store_receipt(&state, original_name, pdf, source, pages).await?;
    let key = stored.key.clone();
    let inserted = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let invoice = rows::insert(
                    conn,
                    &NewInvoice {
                        customer_id: customer_id.get(),
                        number: &number,
                        amount_minor: amount.minor(),
                        currency: amount.currency().code(),
                        issued_on,
                        notes: notes.as_str(),
                        receipt: stored.columns(),
                        created_by: Some(user.id.get()),
                    },
                )?;
                claim(conn, &stored)?;
                let changes = serde_json::json!({
                    "invoice_id": invoice.id, "number": invoice.number,
                    "amount": amount.to_string(), "currency": invoice.currency,
                });
                audit::record(
                    conn,
                    &NewAuditEvent::for_customer(user.id, customer_id, "invoice.created", changes),
                )?;
                Ok::<_, diesel::result::Error>(invoice)
            })
            .map_err(ApiError::from)
        })
        .await;
    let invoice = match inserted {
        Ok(invoice) => invoice,
        Err(error) => {
            cleanup::remove_now(&state, &key).await;
            return Err(error);
        }
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/invoices/{}", invoice.id)))
        .json(InvoiceResponse::try_from(invoice)?))
}

/// The upload turned into a PDF, off the async workers: `(pdf, what was uploaded, pages)`.
async fn convert(
    state: &AppState,
    bytes: Vec<u8>,
) -> Result<Result<(Vec<u8>, SourceKind, u32), ReceiptError>, ApiError> {
    let limits = state.config.receipt_limits;
    let _permit = state
        .conversions
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    web::block(move || {
        crm_receipts::convert_to_pdf(&bytes, &limits)
            .map(|done| (done.pdf.into_owned(), done.source, done.pages))
    })
    .await
    .map_err(ApiError::internal)
}

/// A receipt in the store, with what its row records.
struct StoredReceipt {
    key: String,
    sha256: Vec<u8>,
    size: i64,
    pages: i32,
    original_name: String,
    original_type: &'static str,
}

impl StoredReceipt {
    /// The row's receipt columns.
    fn columns(&self) -> ReceiptColumns<'_> {
        ReceiptColumns {
            receipt_key: &self.key,
            receipt_sha256: &self.sha256,
            receipt_size: self.size,
            receipt_pages: self.pages,
            receipt_original_name: &self.original_name,
            receipt_original_type: self.original_type,
        }
    }
}

/// Puts a converted receipt in the store under a fresh key, recorded first as stale so that the
/// file is swept away unless an invoice claims it (with [`claim`]) within the claim window.
async fn store_receipt(
    state: &AppState,
    original_name: String,
    pdf: Vec<u8>,
    source: SourceKind,
    pages: u32,
) -> Result<StoredReceipt, ApiError> {
    let stored = StoredReceipt {
        key: ReceiptStore::new_key(),
        sha256: Sha256::digest(&pdf).to_vec(),
        size: i64::try_from(pdf.len()).map_err(ApiError::internal)?,
        pages: i32::try_from(pages).unwrap_or(i32::MAX),
        original_name,
        original_type: source.media_type(),
    };
    cleanup::schedule_removal(
        state,
        &stored.key,
        Utc::now() + cleanup::UPLOAD_CLAIM_WINDOW,
    )
    .await?;
    if let Err(error) = state.receipts.put(&stored.key, pdf).await {
        // Whether or not part of it was written, the sweep takes care of the key.
        cleanup::remove_now(state, &stored.key).await;
        return Err(error);
    }
    Ok(stored)
}

/// Within the transaction that writes the invoice: the stored receipt is the invoice's now.
fn claim(conn: &mut diesel::PgConnection, stored: &StoredReceipt) -> QueryResult<()> {
    stale_receipts::forget(conn, &stored.key)
}

/// Within the transaction that lets go of a receipt: its file is to be removed.
fn release(conn: &mut diesel::PgConnection, key: &str) -> QueryResult<()> {
    stale_receipts::schedule(conn, key, Utc::now())
}

/// What a multipart form held: its text fields, the receipt (name and bytes), and the
/// problems found while reading.
struct Form {
    texts: Vec<(String, String)>,
    receipt: Option<(String, Vec<u8>)>,
    errors: FieldErrors,
}

impl Form {
    /// A text field as sent; `None` when absent.
    fn raw(&self, name: &str) -> Option<&str> {
        self.texts
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// A text field, trimmed; `None` when absent or blank.
    fn text(&self, name: &str) -> Option<&str> {
        self.raw(name)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    }
}

/// Reads the form, streaming, refusing anything past `max_bytes` with a 413.
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    max_bytes: usize,
) -> Result<Form, ApiError> {
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
    let mut form = Form {
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
        let limit = if name == "receipt" {
            max_bytes
        } else {
            MAX_TEXT_FIELD_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            total += chunk.len();
            if bytes.len() + chunk.len() > limit || total > body_limit {
                return Err(if name == "receipt" || total > body_limit {
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
            "receipt" if bytes.is_empty() && raw_file_name.as_deref() == Some("") => {}
            "receipt" => {
                form.receipt = Some((file_name.unwrap_or_else(|| "receipt".to_owned()), bytes))
            }
            "amount" | "currency" | "number" | "issued_on" | "notes" => {
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

/// The uploaded name without folders or control characters, for display only.
fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    if clean.trim().is_empty() {
        "receipt".to_owned()
    } else {
        clean
    }
}

/// A page of a customer's invoices, newest issue date first, with totals per currency.
#[utoipa::path(
    tag = "invoices",
    params(("id" = i64, Path, description = "Customer id"), PageParams),
    responses(
        (status = 200, body = InvoicePage),
        (status = 401, response = NotSignedIn),
        (status = 404, response = NotFound),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/customers/{id}/invoices")]
pub async fn list(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<i64>,
    params: web::Query<PageParams>,
) -> Result<web::Json<InvoicePage>, ApiError> {
    let customer = CustomerId::new(id.into_inner());
    let mut errors = FieldErrors::new();
    let limit = parse_limit(params.limit.as_deref(), &mut errors);
    let cursor: Option<InvoiceCursor> = parse_cursor(params.cursor.as_deref(), &mut errors);
    errors.into_result(|| ())?;
    let after = cursor.map(|c| rows::ListPosition {
        issued_on: c.d,
        id: c.i,
    });
    let (invoices, total, totals) = state
        .db(move |conn| {
            crm_db::customers::find(conn, customer)?;
            Ok((
                rows::list_for_customer(conn, customer, after, limit + 1)?,
                rows::count_for_customer(conn, customer)?,
                rows::totals_for_customer(conn, customer)?,
            ))
        })
        .await?;
    let totals = totals
        .into_iter()
        .map(|(code, minor)| {
            let currency = Currency::parse(&code).map_err(ApiError::internal)?;
            Ok(CurrencyTotal {
                currency: code,
                amount: Total::from_minor(minor, currency).to_string(),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    let (invoices, next_cursor) = split_page(invoices, limit, |invoice| {
        let position = rows::ListPosition::after(invoice);
        InvoiceCursor {
            d: position.issued_on,
            i: position.id,
        }
    });
    let items = invoices
        .into_iter()
        .map(InvoiceResponse::try_from)
        .collect::<Result<_, _>>()?;
    Ok(web::Json(InvoicePage {
        items,
        next_cursor,
        total,
        totals,
    }))
}

/// One invoice.
#[utoipa::path(
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 200, body = InvoiceResponse),
        (status = 401, response = NotSignedIn),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/invoices/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<i64>,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    let id = InvoiceId::new(id.into_inner());
    let invoice = state.db(move |conn| Ok(rows::find(conn, id)?)).await?;
    Ok(web::Json(InvoiceResponse::try_from(invoice)?))
}

/// The receipt PDF: shown inline in a sandbox, with an `ETag`.
#[utoipa::path(
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = Vec<u8>),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 401, response = NotSignedIn),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/invoices/{id}/receipt")]
pub async fn receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = InvoiceId::new(id.into_inner());
    let invoice = state.db(move |conn| Ok(rows::find(conn, id)?)).await?;
    let etag = format!("\"{}\"", hex(&invoice.receipt_sha256));
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if matches {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let (size, pdf) = state.receipts.open(&invoice.receipt_key).await?;
    let file_name = download_name(&invoice);
    Ok(HttpResponse::Ok()
        .no_chunking(size)
        .content_type("application/pdf")
        .insert_header((header::ETAG, etag))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{file_name}\""),
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        // Shown in the app's preview frame only, with no scripts and no forms.
        .insert_header((
            "Content-Security-Policy",
            "sandbox; default-src 'none'; frame-ancestors 'self'",
        ))
        .insert_header(("X-Frame-Options", "SAMEORIGIN"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .streaming(pdf))
}

/// Deletes an invoice and its receipt.
#[utoipa::path(
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 204, description = "Deleted, with its receipt"),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 404, response = NotFound),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[delete("/invoices/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = InvoiceId::new(id.into_inner());
    let invoice = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let invoice = rows::delete(conn, id)?;
                release(conn, &invoice.receipt_key)?;
                let changes =
                    serde_json::json!({"invoice_id": invoice.id, "number": invoice.number});
                audit::record(
                    conn,
                    &NewAuditEvent::for_customer(
                        user.id,
                        CustomerId::new(invoice.customer_id),
                        "invoice.deleted",
                        changes,
                    ),
                )?;
                Ok::<_, diesel::result::Error>(invoice)
            })
            .map_err(ApiError::from)
        })
        .await?;
    cleanup::remove_now(&state, &invoice.receipt_key).await;
    Ok(HttpResponse::NoContent().finish())
}

/// An ASCII file name for downloads: `invoice-<number or id>.pdf`.
fn download_name(invoice: &Invoice) -> String {
    let label: String = invoice
        .number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if label.is_empty() {
        format!("invoice-{}.pdf", invoice.id)
    } else {
        format!("invoice-{label}.pdf")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Changes to an invoice's fields; those left out stay as they are.
#[derive(Debug, Default, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": "99.90", "notes": "Paid by card."}))]
pub struct UpdateInvoiceRequest {
    #[serde(default)]
    #[schema(max_length = 64)]
    pub number: Option<String>,
    /// Exact decimal as a string; required when the currency changes.
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub issued_on: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Changes an invoice's fields, and with `multipart/form-data` its receipt too, in one step:
/// when anything is wrong, nothing changes.
#[utoipa::path(
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    request_body(
        description = "JSON for the fields alone; `multipart/form-data` to send a new receipt \
                       with them (in a form, blank `currency` and `issued_on` keep the invoice's own).",
        content(
            (UpdateInvoiceRequest = "application/json"),
            (InvoiceEdit = "multipart/form-data"),
        )
    ),
    responses(
        (status = 200, body = InvoiceResponse),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 404, response = NotFound),
        (status = 413, response = UploadTooLarge),
        (status = 415, description = "Neither JSON nor `multipart/form-data`", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[patch("/invoices/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    JsonBody(body): JsonBody<UpdateInvoiceRequest>,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    let id = InvoiceId::new(id.into_inner());
    let invoice = state
        .db(move |conn| Ok(save_edit(conn, &user, id, &body, None)?.1))
        .await?;
    Ok(web::Json(InvoiceResponse::try_from(invoice)?))
}

fn is_multipart(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    ctx.header::<header::ContentType>()
        .is_some_and(|ct| ct.0.essence_str() == "multipart/form-data")
}

/// `PATCH /invoices/{id}` as `multipart/form-data`: fields and, optionally, a new receipt
/// (described in the OpenAPI spec under [`update`]).
#[patch("/invoices/{id}", guard = "is_multipart")]
pub async fn update_with_receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    let id = InvoiceId::new(id.into_inner());
    edit_from_form(&req, &state, user, id, payload, FormEdit::FieldsAndReceipt).await
}

/// What a multipart edit may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormEdit {
    /// Fields (those sent change) and, optionally, a new receipt.
    FieldsAndReceipt,
    /// A new receipt and nothing else.
    ReceiptOnly,
}

/// Reads a multipart edit, checks every field and the file (all problems at once), stores the
/// new receipt if any and saves it all in one transaction.
async fn edit_from_form(
    req: &HttpRequest,
    state: &AppState,
    user: CurrentUser,
    id: InvoiceId,
    payload: web::Payload,
    kind: FormEdit,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    let current = state.db(move |conn| Ok(rows::find(conn, id)?)).await?;
    let mut form = read_form(req, payload, state.config.max_upload_bytes).await?;
    let mut errors = std::mem::take(&mut form.errors);
    let body = match kind {
        FormEdit::FieldsAndReceipt => UpdateInvoiceRequest {
            number: form.raw("number").map(str::to_owned),
            amount: form.raw("amount").map(str::to_owned),
            currency: form.text("currency").map(str::to_owned),
            issued_on: form.text("issued_on").map(str::to_owned),
            notes: form.raw("notes").map(str::to_owned),
        },
        FormEdit::ReceiptOnly => {
            for (name, _) in &form.texts {
                errors.add(
                    name.clone(),
                    "Unknown field: only the receipt can be replaced here.",
                );
            }
            UpdateInvoiceRequest::default()
        }
    };
    // Checked against the invoice as it is now, so that every problem is reported at once;
    // checked again, under a lock, when saving.
    if let Err(found) = parse_changes(&body, &current) {
        errors.merge(found);
    }
    let converted = match form.receipt.take() {
        Some((name, bytes)) => errors
            .check("receipt", convert(state, bytes).await?)
            .map(|c| (name, c)),
        None if kind == FormEdit::ReceiptOnly => {
            errors.add("receipt", REQUIRED);
            None
        }
        None => None,
    };
    errors.into_result(|| ())?;
    match converted {
        Some((name, (pdf, source, pages))) => {
            let stored = store_receipt(state, name, pdf, source, pages).await?;
            save_with_receipt(state, user, id, body, stored).await
        }
        None => {
            let (_, invoice) = state
                .db(move |conn| save_edit(conn, &user, id, &body, None))
                .await?;
            Ok(web::Json(InvoiceResponse::try_from(invoice)?))
        }
    }
}

/// One edit in one transaction: the field changes in `body` and, when given, a stored new
/// receipt (claimed; the old one released), each recorded in the activity. Returns the old
/// receipt's key when it was replaced, and the invoice as it is now.
fn save_edit(
    conn: &mut diesel::PgConnection,
    user: &CurrentUser,
    id: InvoiceId,
    body: &UpdateInvoiceRequest,
    new_receipt: Option<&StoredReceipt>,
) -> Result<(Option<String>, Invoice), ApiError> {
    conn.transaction(|conn| {
        let before = rows::find_for_update(conn, id)?;
        let changes = parse_changes(body, &before)?;
        let mut after = rows::update(conn, id, &changes)?;
        let customer = CustomerId::new(after.customer_id);
        if changes != InvoiceChanges::default() {
            let event = NewAuditEvent::for_customer(
                user.id,
                customer,
                "invoice.updated",
                serde_json::json!({"invoice_id": after.id, "number": after.number}),
            );
            audit::record(conn, &event)?;
        }
        let Some(stored) = new_receipt else {
            return Ok((None, after));
        };
        after = rows::replace_receipt(conn, id, &stored.columns())?;
        claim(conn, stored)?;
        release(conn, &before.receipt_key)?;
        let event = NewAuditEvent::for_customer(
            user.id,
            customer,
            "invoice.receipt_replaced",
            serde_json::json!({"invoice_id": after.id, "original_name": after.receipt_original_name}),
        );
        audit::record(conn, &event)?;
        Ok((Some(before.receipt_key), after))
    })
}

/// Saves an edit with a stored new receipt; afterwards the file no longer in use (the old one,
/// or the new one when saving failed) is removed.
async fn save_with_receipt(
    state: &AppState,
    user: CurrentUser,
    id: InvoiceId,
    body: UpdateInvoiceRequest,
    stored: StoredReceipt,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    let new_key = stored.key.clone();
    let saved = state
        .db(move |conn| save_edit(conn, &user, id, &body, Some(&stored)))
        .await;
    match saved {
        Ok((old_key, invoice)) => {
            if let Some(old_key) = old_key {
                cleanup::remove_now(state, &old_key).await;
            }
            Ok(web::Json(InvoiceResponse::try_from(invoice)?))
        }
        Err(error) => {
            cleanup::remove_now(state, &new_key).await;
            Err(error)
        }
    }
}

/// The multipart form that edits an invoice (for the OpenAPI description): the fields sent
/// change, those left out stay; a `receipt` replaces the old one.
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

/// An issue date: `YYYY-MM-DD` from 1900 to 2999 (a year outside is a typo, and PostgreSQL's
/// own range is narrower than chrono's).
fn parse_issued_on(text: &str) -> Result<NaiveDate, &'static str> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .filter(|date| (1900..=2999).contains(&date.year()))
        .ok_or("Enter a date from 1900 to 2999 as YYYY-MM-DD.")
}

/// Turns a PATCH body into column changes, or every field's error.
fn parse_changes(
    body: &UpdateInvoiceRequest,
    current: &Invoice,
) -> Result<InvoiceChanges, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut changes = InvoiceChanges::default();
    let currency = match body.currency.as_deref() {
        Some(code) => errors.check("currency", Currency::parse(code)),
        None => Currency::parse(&current.currency).ok(),
    };
    let currency_changed = currency.is_some_and(|c| c.code() != current.currency);
    match (body.amount.as_deref(), currency) {
        (Some(text), Some(currency)) => {
            changes.amount_minor = errors
                .check("amount", Amount::parse(text, currency))
                .map(|a| a.minor())
        }
        (None, Some(_)) if currency_changed => errors.add(
            "amount",
            "Give the amount again when changing the currency.",
        ),
        _ => {}
    }
    if currency_changed {
        changes.currency = currency.map(|c| c.code().to_owned());
    }
    if let Some(number) = &body.number {
        changes.number = errors
            .check("number", InvoiceNumber::parse(number))
            .map(InvoiceNumber::into_inner);
    }
    if let Some(date) = &body.issued_on {
        changes.issued_on = errors.check("issued_on", parse_issued_on(date));
    }
    if let Some(notes) = &body.notes {
        changes.notes = errors
            .check("notes", Notes::parse(notes))
            .map(Notes::into_inner);
    }
    // What is sent as it already is changes nothing (and leaves no trace in the activity).
    if changes.number.as_deref() == Some(current.number.as_str()) {
        changes.number = None;
    }
    if !currency_changed && changes.amount_minor == Some(current.amount_minor) {
        changes.amount_minor = None;
    }
    if changes.issued_on == Some(current.issued_on) {
        changes.issued_on = None;
    }
    if changes.notes.as_deref() == Some(current.notes.as_str()) {
        changes.notes = None;
    }
    errors.into_result(|| changes)
}

/// Replaces an invoice's receipt (`multipart/form-data` with the file in `receipt`); the old
/// PDF is deleted once the new one is recorded.
#[utoipa::path(
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    request_body(content = ReceiptUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, body = InvoiceResponse),
        (status = 400, response = Malformed),
        (status = 401, response = NotSignedIn),
        (status = 403, response = CsrfRejected),
        (status = 404, response = NotFound),
        (status = 413, response = UploadTooLarge),
        (status = 415, response = NotMultipart),
        (status = 422, response = InvalidInput),
        (status = 503, response = Unavailable),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[put("/invoices/{id}/receipt")]
pub async fn replace_receipt(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    payload: web::Payload,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    let id = InvoiceId::new(id.into_inner());
    edit_from_form(&req, &state, user, id, payload, FormEdit::ReceiptOnly).await
}

/// The multipart form that replaces a receipt (for the OpenAPI description).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ReceiptUpload {
    /// PDF, JPEG or PNG; images become PDFs.
    #[schema(value_type = String, format = Binary)]
    receipt: Vec<u8>,
}
