//! A customer's invoices: list with totals, add with a receipt (upload progress), preview,
//! download, delete.

use crm_contract::invoices::{InvoiceResponse, form as field};
use crm_contract::{CustomerId, InvoiceId};
use crm_domain::{FieldErrors, Notes, REQUIRED};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

use crate::api::invoices::IdempotencyKey;
use crate::api::{self, ApiError, Paging};
use crate::components::field::{FormAlert, TextField, passes_checks, show_save_error};
use crate::components::list_parts::{ShowMore, loading, not_loaded};
use crate::components::modal::Modal;
use crate::components::modal::confirm;
use crate::components::when::When;
use crate::live::{coalesced, use_live};
use crate::reactive::{Fetched, Task};
use crate::state::use_toasts;

/// Invoices fetched per page.
const PAGE_SIZE: u32 = 25;

/// Pages after the first, fetched with "Show more": their invoices, and the cursor of the next.
#[derive(Debug, Clone, Default)]
struct LaterPages {
    items: Vec<InvoiceResponse>,
    next_cursor: Option<String>,
}

/// The invoices section of a customer's page. `changed` is bumped after every change, so that
/// the page can refresh what depends on invoices (the activity trail).
#[component]
pub fn InvoicesSection(
    customer_id: CustomerId,
    archived: bool,
    changed: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let reload = RwSignal::new(0u32);
    let later = RwSignal::new(None::<LaterPages>);
    let adding = RwSignal::new(false);
    let editing = RwSignal::new(None::<InvoiceResponse>);
    let previewing = RwSignal::new(None::<InvoiceResponse>);
    let invoices = Fetched::new(move || {
        reload.track();
        async move { api::invoices::list(customer_id, &Paging::first(PAGE_SIZE)).await }
    });
    // Back to the first page, fresh, after a change.
    let refresh = move || {
        later.set(None);
        reload.update(|n| *n += 1);
        changed.run(());
    };
    // Invoices added or deleted elsewhere (another user, the API) show without a reload.
    let live = use_live();
    let reload_soon = coalesced(reload);
    let refresh_soon = move || {
        later.set(None);
        reload_soon();
        changed.run(());
    };
    live.on_invoice(move |event| {
        if event.customer_id == customer_id {
            refresh_soon();
        }
    });
    live.on_resync(refresh_soon);
    let next_cursor = move || match later.get() {
        Some(pages) => pages.next_cursor,
        None => invoices
            .get()
            .and_then(|page| page.ok())
            .and_then(|invoices| invoices.page.next_cursor),
    };
    let show_more = Task::new(move |cursor: &String| {
        let paging = Paging::after(PAGE_SIZE, cursor.clone());
        async move {
            match api::invoices::list(customer_id, &paging).await {
                Ok(invoices) => later.update(|pages| {
                    let pages = pages.get_or_insert_with(LaterPages::default);
                    pages.items.extend(invoices.page.items);
                    pages.next_cursor = invoices.page.next_cursor;
                }),
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    let remove = Task::new(move |id: &InvoiceId| {
        let id = *id;
        async move {
            match api::invoices::remove(id).await {
                Ok(()) => {
                    toasts.success("Invoice deleted, with its receipt.");
                    refresh();
                }
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    view! {
        <section class="mt-4" aria-labelledby="invoices-heading">
            <div class="d-flex align-items-center gap-2 mb-2">
                <h2 class="h5 me-auto mb-0" id="invoices-heading">"Invoices"</h2>
                <button type="button" class="btn btn-sm btn-outline-primary" disabled=archived
                    on:click=move |_| adding.set(true)>"Add invoice"</button>
            </div>
            {move || invoices.get().map(|result| match result {
                Ok(list) if list.page.items.is_empty() => view! { <p class="text-muted">"No invoices yet."</p> }.into_any(),
                Ok(list) => {
                    let mut items = list.page.items;
                    if let Some(pages) = later.get() {
                        items.extend(pages.items);
                    }
                    let shown = items.len();
                    view! {
                    <div class="table-responsive">
                        <table class="table table-sm align-middle" id="invoices-table">
                            <thead><tr>
                                <th scope="col">"Date"</th><th scope="col">"Number"</th>
                                <th scope="col" class="text-end">"Amount"</th><th scope="col">"Receipt"</th><th scope="col"></th>
                            </tr></thead>
                            <tbody>
                                {items.into_iter().map(|invoice| {
                                    let (for_preview, for_edit, for_delete) = (invoice.clone(), invoice.clone(), invoice.id);
                                    view! {
                                        <tr>
                                            <td>{invoice.issued_on.to_string()}</td>
                                            <td>{invoice.number.clone()}</td>
                                            <td class="text-end">{format!("{} {}", invoice.amount, invoice.currency)}</td>
                                            <td>
                                                <button type="button" class="btn btn-link btn-sm p-0 me-2"
                                                    on:click=move |_| previewing.set(Some(for_preview.clone()))>"View"</button>
                                                <a href=invoice.receipt.url.clone() download=format!("invoice-{}.pdf", invoice.id)>"Download"</a>
                                            </td>
                                            <td class="text-end text-nowrap">
                                                <button type="button" class="btn btn-sm btn-outline-secondary me-1" disabled=archived
                                                    on:click=move |_| editing.set(Some(for_edit.clone()))>"Edit"</button>
                                                <button type="button" class="btn btn-sm btn-outline-danger" on:click=move |_| {
                                                    if confirm("Delete this invoice and its receipt?") {
                                                        remove.dispatch(for_delete);
                                                    }
                                                }>"Delete"</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <div class="d-flex flex-wrap align-items-center gap-2">
                        <p class="small text-muted me-auto mb-0" id="invoice-totals">
                            {format!("{shown} of {} shown. Totals: ", list.page.total)}
                            {list.totals.iter().map(|t| format!("{} {}", t.amount, t.currency)).collect::<Vec<_>>().join(" · ")}
                        </p>
                        <ShowMore next=next_cursor more=show_more/>
                    </div>
                }.into_any()
                }
                Err(error) => not_loaded(&error),
            }).unwrap_or_else(loading)}
        </section>
        <When when=move || adding.get()>
            <InvoiceFormModal customer_id=customer_id existing=None
                on_close=Callback::new(move |()| adding.set(false))
                on_saved=Callback::new(move |()| { adding.set(false); refresh(); })/>
        </When>
        {move || editing.get().map(|invoice| view! {
            <InvoiceFormModal customer_id=customer_id existing=Some(invoice)
                on_close=Callback::new(move |()| editing.set(None))
                on_saved=Callback::new(move |()| { editing.set(None); refresh(); })/>
        })}
        {move || previewing.get().map(|invoice| view! {
            <Modal title=format!("Receipt {}", invoice.receipt.original_name) wide=true on_close=Callback::new(move |()| previewing.set(None))>
                <iframe src=invoice.receipt.url.clone() title="Receipt preview" class="w-100 border-0" style="height: 70vh"></iframe>
                <a href=invoice.receipt.url.clone() download=format!("invoice-{}.pdf", invoice.id)>"Download the PDF"</a>
            </Modal>
        })}
    }
}

/// The invoice form, to add one (the receipt is required) or to edit one (a new receipt is
/// optional and replaces the old): fields, the file, and a progress bar while it uploads.
#[component]
fn InvoiceFormModal(
    customer_id: CustomerId,
    existing: Option<InvoiceResponse>,
    on_close: Callback<()>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let editing_id = existing.as_ref().map(|invoice| invoice.id);
    let initial = |get: fn(&InvoiceResponse) -> String| {
        RwSignal::new(existing.as_ref().map(get).unwrap_or_default())
    };
    let amount = initial(|i| i.amount.clone());
    let currency = initial(|i| i.currency.clone());
    let number = initial(|i| i.number.clone());
    let issued_on = initial(|i| i.issued_on.to_string());
    let notes = initial(|i| i.notes.clone());
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<f64>);
    let form_ref = NodeRef::<leptos::html::Form>::new();

    let show_errors = move |result: Result<InvoiceResponse, ApiError>| match result {
        Ok(invoice) => Some(invoice),
        // Too large: the file's fault, so said under the file.
        Err(ApiError::Problem {
            status: 413,
            message,
        }) => {
            let mut found = FieldErrors::new();
            found.add(field::RECEIPT, message);
            show_save_error(
                ApiError::Invalid(found),
                "invoice-form",
                errors,
                alert,
                toasts,
            );
            None
        }
        Err(error) => {
            show_save_error(error, "invoice-form", errors, alert, toasts);
            None
        }
    };
    // One key per attempt at this form: kept when the answer was lost (sending again is then
    // the same request, and gets the first answer if it arrived), renewed after any answer.
    let attempt = StoredValue::new(IdempotencyKey::new());
    let send = Task::new(move |submission: &SendWrapper<Submission>| {
        let submission = (**submission).clone();
        async move {
            progress.set(Some(0.0));
            let on_progress = move |done| progress.set(Some(done));
            let (result, done) = match submission {
                Submission::Add(form) => {
                    let key = attempt.get_value();
                    let added = api::invoices::add(customer_id, &form, &key, on_progress).await;
                    (added, "added")
                }
                // Fields and the new receipt, if any, in one request: saved together or not
                // at all.
                Submission::Edit { id, form } => {
                    (api::invoices::edit(id, &form, on_progress).await, "saved")
                }
            };
            progress.set(None);
            if result != Err(ApiError::Network) {
                attempt.set_value(IdempotencyKey::new());
            }
            if let Some(invoice) = show_errors(earlier_try_arrived(result)) {
                toasts.success(format!(
                    "Invoice {done}: {} {}.",
                    invoice.amount, invoice.currency
                ));
                on_saved.run(());
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if send.pending().get_untracked() {
            return;
        }
        alert.set(None);
        let Some(form) = form_ref.get_untracked() else {
            return;
        };
        let mut found = FieldErrors::new();
        if amount.get_untracked().trim().is_empty() {
            found.add(field::AMOUNT, REQUIRED);
        }
        found.check(field::NOTES, Notes::parse(&notes.get_untracked()));
        let file = chosen_file(&form);
        if file.is_none() && editing_id.is_none() {
            found.add(field::RECEIPT, REQUIRED);
        }
        if !passes_checks(found, errors, "invoice-form") {
            return;
        }
        // The whole form; a file input left empty sends no receipt, and a blank currency or
        // date keeps the invoice's own.
        let submission =
            web_sys::FormData::new_with_form(&form)
                .ok()
                .map(|form| match editing_id {
                    None => Submission::Add(form),
                    Some(id) => Submission::Edit { id, form },
                });
        if let Some(submission) = submission {
            send.dispatch(SendWrapper::new(submission));
        }
    };
    let receipt_errors = move || {
        errors.with(|e| {
            e.get(field::RECEIPT)
                .map(<[String]>::to_vec)
                .unwrap_or_default()
        })
    };
    let pending = send.pending();
    let (title, receipt_label, receipt_help) = if editing_id.is_some() {
        (
            "Edit invoice",
            "New receipt",
            "Only to replace the receipt: PDF, JPEG or PNG. Photos become PDFs without losing quality.",
        )
    } else {
        (
            "Add invoice",
            "Receipt *",
            "PDF, JPEG or PNG. Photos become PDFs without losing quality.",
        )
    };
    view! {
        <Modal title=title.to_owned() on_close=on_close>
            <form id="invoice-form" node_ref=form_ref novalidate on:submit=on_submit>
                <FormAlert message=alert/>
                <TextField label="Amount" name=field::AMOUNT value=amount errors=errors required=true help="For example 1234.50"/>
                <TextField label="Currency" name=field::CURRENCY value=currency errors=errors help="ISO code such as EUR; leave empty for the default."/>
                <TextField label="Invoice number" name=field::NUMBER value=number errors=errors/>
                <TextField label="Issued on" name=field::ISSUED_ON value=issued_on errors=errors input_type="date" help="Today when left empty."/>
                <TextField label="Notes" name=field::NOTES value=notes errors=errors multiline=true/>
                <div class="mb-3">
                    <label for="field-receipt" class="form-label">{receipt_label}</label>
                    <input id="field-receipt" name=field::RECEIPT type="file"
                        accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
                        class=move || if receipt_errors().is_empty() { "form-control" } else { "form-control is-invalid" }
                        aria-describedby="field-receipt-error"/>
                    <div id="field-receipt-error" class="invalid-feedback">
                        {move || receipt_errors().into_iter().map(|m| view! { <div>{m}</div> }).collect_view()}
                    </div>
                    <div class="form-text">{receipt_help}</div>
                </div>
                {move || progress.get().map(|done| {
                    // A whole number, as before; formatting an integer ships far less code than
                    // formatting a float.
                    let percent = (done * 100.0).round() as u32;
                    view! {
                        <div class="progress mb-3" role="progressbar" aria-label="Upload progress"
                            aria-valuenow=percent.to_string() aria-valuemin="0" aria-valuemax="100">
                            <div class="progress-bar" style=format!("width: {percent}%")>{format!("{percent}%")}</div>
                        </div>
                    }
                })}
                <div class="d-flex justify-content-end gap-2">
                    <button type="button" class="btn btn-outline-secondary" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                        {move || if pending.get() { "Uploading…" } else { "Save" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// What the invoice form sends.
#[derive(Clone)]
enum Submission {
    /// A new invoice: the whole form, receipt included.
    Add(web_sys::FormData),
    /// The form's fields, and the new receipt if one was chosen.
    Edit {
        id: InvoiceId,
        form: web_sys::FormData,
    },
}

/// Says so when the form changed after a lost answer that had in fact arrived (the server
/// refuses the reused `Idempotency-Key`): that invoice exists.
fn earlier_try_arrived(
    result: Result<InvoiceResponse, ApiError>,
) -> Result<InvoiceResponse, ApiError> {
    if let Err(ApiError::Invalid(found)) = &result
        && found.get("Idempotency-Key").is_some()
    {
        return Err(ApiError::Problem {
            status: 422,
            message: "An earlier try of this form reached the server before the connection \
                      dropped: check the invoices list before saving again."
                .into(),
        });
    }
    result
}

/// The file chosen in the form's receipt input, if any.
fn chosen_file(form: &web_sys::HtmlFormElement) -> Option<web_sys::File> {
    form.query_selector("input[name=receipt]")
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
}
