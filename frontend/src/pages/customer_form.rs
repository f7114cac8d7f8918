//! The add/edit customer form, in a modal.

use crm_contract::customers::{CreateCustomerRequest, CustomerResponse, UpdateCustomerRequest};
use crm_domain::{CustomerName, EmailAddress, FieldErrors, Notes, PhoneNumber, Region, TimeZone};
use leptos::prelude::*;

use crate::api;
use crate::components::field::{
    CheckField, FormAlert, TextField, focus_first_invalid, show_save_error,
};
use crate::components::modal::Modal;
use crate::reactive::Task;
use crate::state::use_toasts;

/// Adds a customer (`existing` is `None`) or edits one; `on_saved` gets the stored customer.
#[component]
pub fn CustomerFormModal(
    existing: Option<CustomerResponse>,
    on_close: Callback<()>,
    on_saved: Callback<CustomerResponse>,
) -> impl IntoView {
    let toasts = use_toasts();
    let editing = existing.as_ref().map(|c| c.id);
    let start = existing.map_or_else(CustomerInput::new, CustomerInput::of);
    let name = RwSignal::new(start.name);
    let email = RwSignal::new(start.email);
    let phone = RwSignal::new(start.phone);
    let whatsapp = RwSignal::new(start.whatsapp);
    let timezone = RwSignal::new(start.timezone);
    let notes = RwSignal::new(start.notes);
    let sms_opt_out = RwSignal::new(start.sms_opt_out);
    let whatsapp_opt_out = RwSignal::new(start.whatsapp_opt_out);
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);

    let input = move || CustomerInput {
        name: name.get_untracked(),
        email: email.get_untracked(),
        phone: phone.get_untracked(),
        whatsapp: whatsapp.get_untracked(),
        timezone: timezone.get_untracked(),
        notes: notes.get_untracked(),
        sms_opt_out: sms_opt_out.get_untracked(),
        whatsapp_opt_out: whatsapp_opt_out.get_untracked(),
    };
    let save = Task::new(move |input: &CustomerInput| {
        let input = input.clone();
        async move {
            let result = match editing {
                Some(id) => api::customers::update(id, &input.into_update()).await,
                None => api::customers::create(&input.into_create()).await,
            };
            match result {
                Ok(customer) => {
                    let verb = if editing.is_some() { "saved" } else { "added" };
                    toasts.success(format!("{} {verb}.", customer.name));
                    on_saved.run(customer);
                }
                Err(error) => show_save_error(error, "customer-form", errors, alert, toasts),
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if save.pending().get_untracked() {
            return;
        }
        alert.set(None);
        let body = input();
        let found = validate(&body);
        let ok = found.is_empty();
        errors.set(found);
        if ok {
            save.dispatch(body);
        } else {
            focus_first_invalid("customer-form");
        }
    };
    let pending = save.pending();
    let title = if editing.is_some() {
        "Edit customer"
    } else {
        "Add customer"
    };
    view! {
        <Modal title=title.to_owned() on_close=on_close>
            <form id="customer-form" novalidate on:submit=on_submit>
                <FormAlert message=alert/>
                <TextField label="Name" name="name" value=name errors=errors autocomplete="off" required=true/>
                <TextField label="Email" name="email" value=email errors=errors input_type="email"/>
                <TextField label="Phone" name="phone" value=phone errors=errors input_type="tel"
                    help="International (+44 20 7946 0958) or national format."/>
                <TextField label="WhatsApp" name="whatsapp" value=whatsapp errors=errors input_type="tel"/>
                <TextField label="Time zone" name="timezone" value=timezone errors=errors
                    help="An IANA name, such as Europe/Berlin."/>
                <TextField label="Notes" name="notes" value=notes errors=errors multiline=true/>
                <CheckField label="No SMS (opted out)" name="sms_opt_out" value=sms_opt_out/>
                <CheckField label="No WhatsApp (opted out)" name="whatsapp_opt_out" value=whatsapp_opt_out/>
                <div class="d-flex justify-content-end gap-2 mt-3">
                    <button type="button" class="btn btn-outline-secondary" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                        {move || if pending.get() {
                            view! { <span class="spinner-border spinner-border-sm me-1" aria-hidden="true"></span>"Saving…" }.into_any()
                        } else {
                            view! { "Save" }.into_any()
                        }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// What the form holds: text as typed (an empty field is an empty string).
#[derive(Debug, Clone, PartialEq)]
struct CustomerInput {
    name: String,
    email: String,
    phone: String,
    whatsapp: String,
    timezone: String,
    notes: String,
    sms_opt_out: bool,
    whatsapp_opt_out: bool,
}

impl CustomerInput {
    /// An empty form, in the browser's own time zone.
    fn new() -> Self {
        Self {
            name: String::new(),
            email: String::new(),
            phone: String::new(),
            whatsapp: String::new(),
            timezone: browser_time_zone(),
            notes: String::new(),
            sms_opt_out: false,
            whatsapp_opt_out: false,
        }
    }

    /// The form filled in with `customer`.
    fn of(customer: CustomerResponse) -> Self {
        Self {
            name: customer.name,
            email: customer.email.unwrap_or_default(),
            phone: customer.phone.unwrap_or_default(),
            whatsapp: customer.whatsapp.unwrap_or_default(),
            timezone: customer.timezone,
            notes: customer.notes,
            sms_opt_out: customer.sms_opt_out,
            whatsapp_opt_out: customer.whatsapp_opt_out,
        }
    }

    /// A new customer: empty fields are left out.
    fn into_create(self) -> CreateCustomerRequest {
        CreateCustomerRequest {
            name: self.name,
            email: filled(self.email),
            phone: filled(self.phone),
            whatsapp: filled(self.whatsapp),
            timezone: Some(self.timezone),
            notes: filled(self.notes),
            sms_opt_out: self.sms_opt_out,
            whatsapp_opt_out: self.whatsapp_opt_out,
        }
    }

    /// Every field of the form, as on the screen: an emptied field is cleared (`null`).
    fn into_update(self) -> UpdateCustomerRequest {
        UpdateCustomerRequest {
            name: Some(Some(self.name)),
            email: Some(filled(self.email)),
            phone: Some(filled(self.phone)),
            whatsapp: Some(filled(self.whatsapp)),
            timezone: Some(Some(self.timezone)),
            notes: Some(filled(self.notes)),
            sms_opt_out: Some(self.sms_opt_out),
            whatsapp_opt_out: Some(self.whatsapp_opt_out),
        }
    }
}

/// `None` for a field left empty (or only spaces, which the server reads as empty too).
fn filled(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

/// The same rules as the server, before anything is sent.
fn validate(input: &CustomerInput) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let region = Region::default();
    errors.check("name", CustomerName::parse(&input.name));
    if !input.email.trim().is_empty() {
        errors.check("email", EmailAddress::parse(&input.email));
    }
    if !input.phone.trim().is_empty() {
        errors.check("phone", PhoneNumber::parse(&input.phone, region));
    }
    if !input.whatsapp.trim().is_empty() {
        errors.check("whatsapp", PhoneNumber::parse(&input.whatsapp, region));
    }
    errors.check("timezone", TimeZone::parse(&input.timezone));
    errors.check("notes", Notes::parse(&input.notes));
    errors
}

/// The browser's own time zone, the natural default for a new customer.
fn browser_time_zone() -> String {
    let options = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| "UTC".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CustomerInput {
        CustomerInput {
            name: "Ada Lovelace".into(),
            email: String::new(),
            phone: "+14155552671".into(),
            whatsapp: "  ".into(),
            timezone: "Europe/London".into(),
            notes: String::new(),
            sms_opt_out: true,
            whatsapp_opt_out: false,
        }
    }

    #[test]
    fn a_new_customer_leaves_empty_fields_out() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_value(input().into_create())?,
            serde_json::json!({
                "name": "Ada Lovelace", "phone": "+14155552671", "timezone": "Europe/London",
                "sms_opt_out": true, "whatsapp_opt_out": false
            })
        );
        Ok(())
    }

    #[test]
    fn an_edit_sends_every_field_and_null_for_emptied_ones() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_value(input().into_update())?,
            serde_json::json!({
                "name": "Ada Lovelace", "email": null, "phone": "+14155552671", "whatsapp": null,
                "timezone": "Europe/London", "notes": null,
                "sms_opt_out": true, "whatsapp_opt_out": false
            })
        );
        Ok(())
    }
}
