//! Invoices with their receipts: upload (multipart), list with totals, read, download, edit,
//! delete.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use crm_contract::invoices::{
    CurrencyTotal, InvoicePage, InvoiceResponse, ReceiptInfo, UpdateInvoiceRequest, form,
};
use crm_contract::{CustomerId, InvoiceId, Problem, paths};
use crm_db::invoices::{self as rows, Invoice, NewInvoice};
use crm_domain::{FieldErrors, REQUIRED, Total};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::error::responses::{ActOnOne, ReadListOf, ReadOne, Upload};
use crate::extract::JsonBody;
use crate::input::invoices::{FormEdit, edit_of_form, invoice_changes, invoice_fields};
use crate::pagination::{PageParams, Paging};
use crate::receipt_files::{self, StoredReceipt};
use crate::state::AppState;
use crate::upload::{InvoiceEdit, InvoiceUpload, ReceiptForm, ReceiptUpload};

/// The invoice as the API shows it.
pub fn response(invoice: Invoice) -> InvoiceResponse {
    InvoiceResponse {
        id: invoice.id,
        customer_id: invoice.customer_id,
        number: invoice.number.clone(),
        amount: invoice.amount().to_string(),
        currency: invoice.currency.code().to_owned(),
        issued_on: invoice.issued_on,
        notes: invoice.notes,
        receipt: ReceiptInfo {
            url: paths::receipt(invoice.id),
            sha256: hex(&invoice.receipt_sha256),
            size: invoice.receipt_size,
            pages: invoice.receipt_pages,
            original_name: invoice.receipt_original_name,
            original_type: invoice.receipt_original_type,
        },
        created_at: invoice.created_at,
        updated_at: invoice.updated_at,
    }
}

/// Where a page of invoices ends (the opaque `cursor`).
#[derive(Debug, Serialize, Deserialize)]
struct InvoiceCursor {
    d: chrono::NaiveDate,
    i: InvoiceId,
}

/// Uploads an invoice with its receipt (`multipart/form-data`). The type is decided by the
/// file's content; images become PDFs (JPEGs without re-encoding).
#[utoipa::path(
    tag = "invoices",
    operation_id = "create_invoice",
    params(("id" = i64, Path, description = "Customer id")),
    request_body(content = InvoiceUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Created; `Location` names the invoice", body = InvoiceResponse),
        (status = 409, description = "The customer is archived", body = Problem, content_type = "application/problem+json"),
        Upload,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/customers/{id}/invoices")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<CustomerId>,
    mut upload: ReceiptForm,
) -> Result<HttpResponse, ApiError> {
    let customer_id = id.into_inner();
    active_customer(&state, customer_id).await?;
    let mut errors = std::mem::take(&mut upload.errors);
    let fields = invoice_fields(&upload, state.config.default_currency, &mut errors);
    let Some(stored) = receipt(&state, upload.receipt.take(), true, errors).await? else {
        return Err(ApiError::field(form::RECEIPT, REQUIRED));
    };
    let fields = fields.ok_or_else(|| ApiError::internal(anyhow::anyhow!("fields unchecked")))?;
    let key = stored.key().to_owned();
    let saved = state
        .db(move |conn| {
            let new = NewInvoice {
                customer_id,
                number: &fields.number,
                amount_minor: fields.amount.minor(),
                currency: fields.amount.currency(),
                issued_on: fields.issued_on.get(),
                notes: fields.notes.as_str(),
                receipt: stored.columns(),
                created_by: Some(user.id),
            };
            Ok(rows::create(conn, &new)?)
        })
        .await;
    let invoice = receipt_files::saved_or_removed(&state, &key, saved).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, paths::invoice(invoice.id)))
        .json(response(invoice)))
}

/// The customer, unless missing (404) or archived (409: invoices go to active customers).
async fn active_customer(state: &AppState, id: CustomerId) -> Result<(), ApiError> {
    let customer = state
        .db(move |conn| Ok(crm_db::customers::find(conn, id)?))
        .await?;
    match customer.archived_at {
        Some(_) => Err(ApiError::Conflict(
            "This customer is archived: restore it before adding invoices.".into(),
        )),
        None => Ok(()),
    }
}

/// Converts the form's receipt (even when other fields are wrong, so every problem is reported
/// at once) and, when `errors` stays empty, stores it. `None` when there was no file and none
/// was `required`.
async fn receipt(
    state: &AppState,
    upload: Option<(String, Vec<u8>)>,
    required: bool,
    mut errors: FieldErrors,
) -> Result<Option<StoredReceipt>, ApiError> {
    let converted = match upload {
        Some((name, bytes)) => errors
            .check(form::RECEIPT, receipt_files::convert(state, bytes).await?)
            .map(|converted| (name, converted)),
        None if required => {
            errors.add(form::RECEIPT, REQUIRED);
            None
        }
        None => None,
    };
    errors.into_result(|| ())?;
    match converted {
        Some((name, converted)) => Ok(Some(receipt_files::store(state, name, converted).await?)),
        None => Ok(None),
    }
}

/// A page of a customer's invoices, newest issue date first, with totals per currency.
#[utoipa::path(
    tag = "invoices",
    operation_id = "list_invoices",
    params(("id" = i64, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "A page of invoices, with totals", body = InvoicePage), ReadListOf),
    security(("session" = []), ("bearer" = []))
)]
#[get("/customers/{id}/invoices")]
pub async fn list(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<CustomerId>,
    paging: Paging<InvoiceCursor>,
) -> Result<web::Json<InvoicePage>, ApiError> {
    let customer = id.into_inner();
    let paging = paging.checked(FieldErrors::new())?;
    let after = paging.after.as_ref().map(|c| rows::ListPosition {
        issued_on: c.d,
        id: c.i,
    });
    let fetch = paging.fetch();
    let (invoices, total, totals) = state
        .db(move |conn| {
            crm_db::customers::find(conn, customer)?;
            Ok((
                rows::list_for_customer(conn, customer, after, fetch)?,
                rows::count_for_customer(conn, customer)?,
                rows::totals_for_customer(conn, customer)?,
            ))
        })
        .await?;
    let totals = totals
        .into_iter()
        .map(|(currency, minor)| CurrencyTotal {
            currency: currency.code().to_owned(),
            amount: Total::from_minor(minor, currency).to_string(),
        })
        .collect();
    let position = |invoice: &Invoice| InvoiceCursor {
        d: invoice.issued_on,
        i: invoice.id,
    };
    let page = paging.page(invoices, total, position, response);
    Ok(web::Json(InvoicePage { page, totals }))
}

/// One invoice.
#[utoipa::path(
    tag = "invoices",
    operation_id = "get_invoice",
    params(("id" = i64, Path, description = "Invoice id")),
    responses((status = 200, description = "The invoice", body = InvoiceResponse), ReadOne),
    security(("session" = []), ("bearer" = []))
)]
#[get("/invoices/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<InvoiceId>,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    let id = id.into_inner();
    let invoice = state.db(move |conn| Ok(rows::find(conn, id)?)).await?;
    Ok(web::Json(response(invoice)))
}

/// The receipt PDF: shown inline in a sandbox, with an `ETag`.
#[utoipa::path(
    tag = "invoices",
    operation_id = "download_receipt",
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf", body = inline(PdfFile)),
        (status = 304, description = "Not modified (If-None-Match)"),
        ReadOne,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/invoices/{id}/receipt")]
pub async fn receipt_pdf(
    req: HttpRequest,
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
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
    Ok(HttpResponse::Ok()
        .no_chunking(size)
        .content_type("application/pdf")
        .insert_header((header::ETAG, etag))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{}\"", download_name(&invoice)),
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

/// A PDF file, as bytes.
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct PdfFile(#[allow(dead_code)] Vec<u8>);

/// Deletes an invoice and its receipt.
#[utoipa::path(
    tag = "invoices",
    operation_id = "delete_invoice",
    params(("id" = i64, Path, description = "Invoice id")),
    responses((status = 204, description = "Deleted, with its receipt"), ActOnOne),
    security(("session" = []), ("bearer" = []))
)]
#[delete("/invoices/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let invoice = state
        .db(move |conn| Ok(rows::delete(conn, user.id, id)?))
        .await?;
    receipt_files::remove_released(&state, &invoice.receipt_key).await;
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

/// Changes an invoice's fields, and with `multipart/form-data` its receipt too, in one step:
/// when anything is wrong, nothing changes.
#[utoipa::path(
    tag = "invoices",
    operation_id = "update_invoice",
    params(("id" = i64, Path, description = "Invoice id")),
    request_body(
        description = "JSON for the fields alone; `multipart/form-data` to send a new receipt \
                       with them (in a form, blank `currency` and `issued_on` keep the invoice's own).",
        content(
            (UpdateInvoiceRequest = "application/json"),
            (InvoiceEdit = "multipart/form-data"),
        )
    ),
    responses((status = 200, description = "The invoice as it is now", body = InvoiceResponse), Upload),
    security(("session" = []), ("bearer" = []))
)]
#[patch("/invoices/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<InvoiceId>,
    JsonBody(body): JsonBody<UpdateInvoiceRequest>,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    let id = id.into_inner();
    let (_, invoice) = state
        .db(move |conn| {
            rows::edit(
                conn,
                user.id,
                id,
                |current| Ok::<_, ApiError>(invoice_changes(&body, current)?),
                None,
            )
        })
        .await?;
    Ok(web::Json(response(invoice)))
}

fn is_multipart(ctx: &actix_web::guard::GuardContext<'_>) -> bool {
    ctx.header::<header::ContentType>()
        .is_some_and(|ct| ct.0.essence_str() == "multipart/form-data")
}

/// `PATCH /invoices/{id}` as `multipart/form-data`: fields and, optionally, a new receipt
/// (described in the OpenAPI document under [`update`]).
#[patch("/invoices/{id}", guard = "is_multipart")]
pub async fn update_with_receipt(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<InvoiceId>,
    upload: ReceiptForm,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    edit_from_form(
        &state,
        user,
        id.into_inner(),
        upload,
        FormEdit::FieldsAndReceipt,
    )
    .await
}

/// Replaces an invoice's receipt (`multipart/form-data` with the file in `receipt`); the old
/// PDF is deleted once the new one is recorded.
#[utoipa::path(
    tag = "invoices",
    operation_id = "replace_receipt",
    params(("id" = i64, Path, description = "Invoice id")),
    request_body(content = ReceiptUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "The invoice with its new receipt", body = InvoiceResponse), Upload),
    security(("session" = []), ("bearer" = []))
)]
#[put("/invoices/{id}/receipt")]
pub async fn replace_receipt(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<InvoiceId>,
    upload: ReceiptForm,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    edit_from_form(&state, user, id.into_inner(), upload, FormEdit::ReceiptOnly).await
}

/// Checks every field and the file of a multipart edit (all problems at once), stores the new
/// receipt if any, and saves it all in one transaction; afterwards the file no longer in use
/// (the old one, or the new one when saving failed) is removed.
async fn edit_from_form(
    state: &AppState,
    user: CurrentUser,
    id: InvoiceId,
    mut upload: ReceiptForm,
    kind: FormEdit,
) -> Result<web::Json<InvoiceResponse>, ApiError> {
    let current = state.db(move |conn| Ok(rows::find(conn, id)?)).await?;
    let mut errors = std::mem::take(&mut upload.errors);
    let body = edit_of_form(&upload, kind, &mut errors);
    // Checked against the invoice as it is now, so that every problem is reported at once;
    // checked again, under a lock, when saving.
    if let Err(found) = invoice_changes(&body, &current) {
        errors.merge(found);
    }
    let required = kind == FormEdit::ReceiptOnly;
    let stored = receipt(state, upload.receipt.take(), required, errors).await?;
    let new_key = stored.as_ref().map(|s| s.key().to_owned());
    let saved = state
        .db(move |conn| {
            let columns = stored.as_ref().map(StoredReceipt::columns);
            let changes_of =
                |current: &Invoice| Ok::<_, ApiError>(invoice_changes(&body, current)?);
            rows::edit(conn, user.id, id, changes_of, columns.as_ref())
        })
        .await;
    let (old_key, invoice) = match new_key {
        Some(key) => receipt_files::saved_or_removed(state, &key, saved).await?,
        None => saved?,
    };
    if let Some(old_key) = old_key {
        receipt_files::remove_released(state, &old_key).await;
    }
    Ok(web::Json(response(invoice)))
}
