//! One module per page.

pub mod customer_detail;
pub mod customer_form;
pub mod customer_messages;
pub mod customer_reminders;
pub mod customers;
pub mod invoices;
pub mod lazy;
pub mod messages;
pub mod preferences;
pub mod reminders;
pub mod settings;
pub mod sign_in;
pub mod staff;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;

/// An address that is no page.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <h1 class="h3">"Page not found"</h1>
        <p><A href="/">"Back to the customers"</A></p>
    }
}

/// A moment from the API in the browser's own time zone and format.
pub fn local_time(at: DateTime<Utc>) -> String {
    // A JavaScript Date counts whole milliseconds since the epoch, over a wider range than
    // chrono's; parsing the RFC 3339 text drops finer digits the same way, so this shows what
    // `new Date("…Z")` did.
    let millis = wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64);
    js_sys::Date::new(&millis)
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
        .unwrap_or_default()
}
