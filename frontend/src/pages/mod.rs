//! One module per page.

pub mod customer_detail;
pub mod customer_form;
pub mod customers;
pub mod invoices;
pub mod settings;
pub mod sign_in;
pub mod staff;

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

/// A date-time from the API (RFC 3339 UTC) in the browser's own time zone and format.
pub fn local_time(rfc3339: &str) -> String {
    let date = js_sys_date(rfc3339);
    date.unwrap_or_else(|| rfc3339.to_owned())
}

fn js_sys_date(rfc3339: &str) -> Option<String> {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return None;
    }
    date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .as_string()
}
