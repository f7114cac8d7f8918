//! A customer's invoices: list with totals, add with a receipt (upload progress), preview,
//! download, delete.

use crm_domain::{FieldErrors, Notes, REQUIRED};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api::{self, ApiError};
use crate::components::field::{FormAlert, TextField, focus_first_invalid};
use crate::components::modal::Modal;
use crate::state::use_toasts;
use crate::types::{Invoice, InvoicePage};

/// Invoices fetched per page.
const PAGE_SIZE: u32 = 25;

/// Pages after the first, fetched with "Show more": their invoices, and the cursor of the next.
#[derive(Debug, Clone, Default)]
struct LaterPages {
    items: Vec<Invoice>,
    next_cursor: Option<String>,
}

/// The invoices section of a customer's page. `changed` is bumped after every change, so that
/// the page can refresh what depends on invoices (the activity trail).
#[component]
pub fn InvoicesSection(customer_id: i64, archived: bool, changed: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let reload = RwSignal::new(0u32);
    let later = RwSignal::new(None::<LaterPages>);
    let adding = RwSignal::new(false);
    let previewing = RwSignal::new(None::<Invoice>);
    let invoices = LocalResource::new(move || {
        reload.track();
        async move {
            api::get::<InvoicePage>(&format!(
                "/customers/{customer_id}/invoices?limit={PAGE_SIZE}"
            ))
            .await
        }
    });
    // Back to the first page, fresh, after a change.
    let refresh = move || {
        later.set(None);
        reload.update(|n| *n += 1);
        changed.run(());
    };
    let next_cursor = move || match later.get() {
        Some(pages) => pages.next_cursor,
        None => invoices
            .get()
            .and_then(|page| page.ok())
            .and_then(|page| page.next_cursor),
    };
    let show_more = Action::new_local(move |cursor: &String| {
        let path = format!(
            "/customers/{customer_id}/invoices?limit={PAGE_SIZE}&cursor={}",
            js_sys::encode_uri_component(cursor)
        );
        async move {
            match api::get::<InvoicePage>(&path).await {
                Ok(page) => later.update(|pages| {
                    let pages = pages.get_or_insert_with(LaterPages::default);
                    pages.items.extend(page.items);
                    pages.next_cursor = page.next_cursor;
                }),
                Err(error) => toasts.error(error.message()),
            }
        }
    });
    let remove = Action::new_local(move |invoice: &Invoice| {
        let invoice = invoice.clone();
        async move {
            match api::delete(&format!("/invoices/{}", invoice.id)).await {
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
            <Transition fallback=|| view! { <p class="text-muted">"Loading…"</p> }>
                {move || invoices.get().map(|result| match result {
                    Ok(list) if list.items.is_empty() => view! { <p class="text-muted">"No invoices yet."</p> }.into_any(),
                    Ok(list) => {
                        let mut items = list.items;
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
                                        let (for_preview, for_delete) = (invoice.clone(), invoice.clone());
                                        view! {
                                            <tr>
                                                <td>{invoice.issued_on.clone()}</td>
                                                <td>{invoice.number.clone()}</td>
                                                <td class="text-end">{format!("{} {}", invoice.amount, invoice.currency)}</td>
                                                <td>
                                                    <button type="button" class="btn btn-link btn-sm p-0 me-2"
                                                        on:click=move |_| previewing.set(Some(for_preview.clone()))>"View"</button>
                                                    <a href=invoice.receipt.url.clone() download=format!("invoice-{}.pdf", invoice.id)>"Download"</a>
                                                </td>
                                                <td class="text-end">
                                                    <button type="button" class="btn btn-sm btn-outline-danger" on:click=move |_| {
                                                        if confirm("Delete this invoice and its receipt?") {
                                                            remove.dispatch(for_delete.clone());
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
                                {format!("{shown} of {} shown. Totals: ", list.total)}
                                {list.totals.iter().map(|t| format!("{} {}", t.amount, t.currency)).collect::<Vec<_>>().join(" · ")}
                            </p>
                            {move || next_cursor().map(|cursor| view! {
                                <button type="button" class="btn btn-sm btn-outline-secondary"
                                    disabled=move || show_more.pending().get()
                                    on:click=move |_| { show_more.dispatch(cursor.clone()); }>"Show more"</button>
                            })}
                        </div>
                    }.into_any()
                    }
                    Err(error) => view! { <p class="text-muted">{error.message()}</p> }.into_any(),
                })}
            </Transition>
        </section>
        <Show when=move || adding.get()>
            <InvoiceFormModal customer_id=customer_id
                on_close=Callback::new(move |()| adding.set(false))
                on_saved=Callback::new(move |()| { adding.set(false); refresh(); })/>
        </Show>
        {move || previewing.get().map(|invoice| view! {
            <Modal title=format!("Receipt {}", invoice.receipt.original_name) on_close=Callback::new(move |()| previewing.set(None))>
                <iframe src=invoice.receipt.url.clone() title="Receipt preview" class="w-100 border-0" style="height: 70vh"></iframe>
                <a href=invoice.receipt.url.clone() download=format!("invoice-{}.pdf", invoice.id)>"Download the PDF"</a>
            </Modal>
        })}
    }
}

/// The "Add invoice" form: fields, the receipt file, and a progress bar while it uploads.
#[component]
fn InvoiceFormModal(
    customer_id: i64,
    on_close: Callback<()>,
    on_saved: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let amount = RwSignal::new(String::new());
    let currency = RwSignal::new(String::new());
    let number = RwSignal::new(String::new());
    let issued_on = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<f64>);
    let form_ref = NodeRef::<leptos::html::Form>::new();

    let send = Action::new_local(move |form: &send_wrapper::SendWrapper<web_sys::FormData>| {
        let form = form.clone();
        async move {
            progress.set(Some(0.0));
            let path = format!("/customers/{customer_id}/invoices");
            let result =
                api::upload::<Invoice>(&path, &form, move |done| progress.set(Some(done))).await;
            progress.set(None);
            match result {
                Ok(invoice) => {
                    toasts.success(format!(
                        "Invoice added: {} {}.",
                        invoice.amount, invoice.currency
                    ));
                    on_saved.run(());
                }
                Err(ApiError::Invalid(found)) => {
                    errors.set(found);
                    toasts.error("Please correct the highlighted fields.");
                    focus_first_invalid("invoice-form");
                }
                Err(error) => {
                    alert.set(Some(error.message()));
                    toasts.error(error.message());
                }
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
            found.add("amount", REQUIRED);
        }
        found.check("notes", Notes::parse(&notes.get_untracked()));
        let has_file = form
            .query_selector("input[name=receipt]")
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .is_some_and(|files| files.length() > 0);
        if !has_file {
            found.add("receipt", REQUIRED);
        }
        let ok = found.is_empty();
        errors.set(found);
        match (ok, web_sys::FormData::new_with_form(&form)) {
            (true, Ok(data)) => {
                send.dispatch(send_wrapper::SendWrapper::new(data));
            }
            _ => focus_first_invalid("invoice-form"),
        }
    };
    let receipt_errors =
        move || errors.with(|e| e.get("receipt").map(<[String]>::to_vec).unwrap_or_default());
    let pending = send.pending();
    view! {
        <Modal title="Add invoice".to_owned() on_close=on_close>
            <form id="invoice-form" node_ref=form_ref novalidate on:submit=on_submit>
                <FormAlert message=alert/>
                <TextField label="Amount" name="amount" value=amount errors=errors required=true help="For example 1234.50"/>
                <TextField label="Currency" name="currency" value=currency errors=errors help="ISO code such as EUR; leave empty for the default."/>
                <TextField label="Invoice number" name="number" value=number errors=errors/>
                <TextField label="Issued on" name="issued_on" value=issued_on errors=errors input_type="date" help="Today when left empty."/>
                <TextField label="Notes" name="notes" value=notes errors=errors multiline=true/>
                <div class="mb-3">
                    <label for="field-receipt" class="form-label">"Receipt *"</label>
                    <input id="field-receipt" name="receipt" type="file"
                        accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
                        class=move || if receipt_errors().is_empty() { "form-control" } else { "form-control is-invalid" }
                        aria-describedby="field-receipt-error"/>
                    <div id="field-receipt-error" class="invalid-feedback">
                        {move || receipt_errors().into_iter().map(|m| view! { <div>{m}</div> }).collect_view()}
                    </div>
                    <div class="form-text">"PDF, JPEG or PNG. Photos become PDFs without losing quality."</div>
                </div>
                {move || progress.get().map(|done| {
                    let percent = (done * 100.0).round();
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

fn confirm(question: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(question).ok())
        .unwrap_or(false)
}
