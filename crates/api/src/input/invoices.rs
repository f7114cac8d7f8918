//! An invoice's fields from an upload form, and changes to an invoice from a PATCH.

use chrono::Utc;
use crm_contract::invoices::{UpdateInvoiceRequest, form};
use crm_db::invoices::{Invoice, InvoiceChanges};
use crm_domain::{Amount, Currency, FieldErrors, InvoiceNumber, IssueDate, Notes, REQUIRED};

use crate::upload::ReceiptForm;

/// A new invoice's checked fields.
#[derive(Debug)]
pub struct InvoiceFields {
    pub amount: Amount,
    pub number: String,
    pub issued_on: IssueDate,
    pub notes: Notes,
}

/// Checks a new invoice's fields in `upload`, recording each problem in `errors`; `currency`
/// defaults to `default_currency` and `issued_on` to today.
pub fn invoice_fields(
    upload: &ReceiptForm,
    default_currency: Currency,
    errors: &mut FieldErrors,
) -> Option<InvoiceFields> {
    let currency = match upload.text(form::CURRENCY) {
        Some(code) => errors.check(form::CURRENCY, Currency::parse(code)),
        None => Some(default_currency),
    };
    let amount = match (upload.text(form::AMOUNT), currency) {
        (None, _) => {
            errors.add(form::AMOUNT, REQUIRED);
            None
        }
        (Some(text), Some(currency)) => errors.check(form::AMOUNT, Amount::parse(text, currency)),
        (Some(_), None) => None,
    };
    let number = errors
        .check(
            form::NUMBER,
            InvoiceNumber::parse(upload.text(form::NUMBER).unwrap_or_default()),
        )
        .map(InvoiceNumber::into_inner)
        .unwrap_or_default();
    let issued_on = match upload.text(form::ISSUED_ON) {
        Some(text) => errors.check(form::ISSUED_ON, IssueDate::parse(text)),
        None => IssueDate::new(Utc::now().date_naive()),
    };
    let notes = errors.check(
        form::NOTES,
        Notes::parse(upload.text(form::NOTES).unwrap_or_default()),
    );
    Some(InvoiceFields {
        amount: amount?,
        number,
        issued_on: issued_on?,
        notes: notes?,
    })
}

/// What a multipart edit may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormEdit {
    /// Fields (those sent change) and, optionally, a new receipt.
    FieldsAndReceipt,
    /// A new receipt and nothing else.
    ReceiptOnly,
}

/// The field changes a multipart edit asks for (blank `currency` and `issued_on` keep the
/// invoice's own), recording fields the edit may not carry in `errors`.
pub fn edit_of_form(
    upload: &ReceiptForm,
    kind: FormEdit,
    errors: &mut FieldErrors,
) -> UpdateInvoiceRequest {
    match kind {
        FormEdit::FieldsAndReceipt => UpdateInvoiceRequest {
            number: upload.raw(form::NUMBER).map(str::to_owned),
            amount: upload.raw(form::AMOUNT).map(str::to_owned),
            currency: upload.text(form::CURRENCY).map(str::to_owned),
            issued_on: upload.text(form::ISSUED_ON).map(str::to_owned),
            notes: upload.raw(form::NOTES).map(str::to_owned),
        },
        FormEdit::ReceiptOnly => {
            for name in upload.text_fields() {
                errors.add(
                    name,
                    "Unknown field: only the receipt can be replaced here.",
                );
            }
            UpdateInvoiceRequest::default()
        }
    }
}

/// Turns a PATCH body into column changes against the invoice as it is, or every field's error.
/// Values sent as they already are change nothing (and leave no trace in the activity).
pub fn invoice_changes(
    body: &UpdateInvoiceRequest,
    current: &Invoice,
) -> Result<InvoiceChanges, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut changes = InvoiceChanges::default();
    let currency = match body.currency.as_deref() {
        Some(code) => errors.check(form::CURRENCY, Currency::parse(code)),
        None => Some(current.currency),
    };
    let currency_changed = currency.is_some_and(|c| c != current.currency);
    match (body.amount.as_deref(), currency) {
        (Some(text), Some(currency)) => {
            changes.amount_minor = errors
                .check(form::AMOUNT, Amount::parse(text, currency))
                .map(|a| a.minor())
        }
        (None, Some(_)) if currency_changed => errors.add(
            form::AMOUNT,
            "Give the amount again when changing the currency.",
        ),
        _ => {}
    }
    if currency_changed {
        changes.currency = currency;
    }
    if let Some(number) = &body.number {
        changes.number = errors
            .check(form::NUMBER, InvoiceNumber::parse(number))
            .map(InvoiceNumber::into_inner);
    }
    if let Some(date) = &body.issued_on {
        changes.issued_on = errors
            .check(form::ISSUED_ON, IssueDate::parse(date))
            .map(IssueDate::get);
    }
    if let Some(notes) = &body.notes {
        changes.notes = errors
            .check(form::NOTES, Notes::parse(notes))
            .map(Notes::into_inner);
    }
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
