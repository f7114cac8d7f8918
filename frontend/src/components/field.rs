//! A labelled input with its errors under it, in Bootstrap's `is-invalid` look.

use crm_domain::FieldErrors;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api::ApiError;
use crate::components::when::When;
use crate::state::Toasts;

/// One form field. `errors` holds the whole form's errors; this field shows its own.
#[component]
pub fn TextField(
    /// The visible label.
    label: &'static str,
    /// The field's name, as the API calls it (also its `errors` key).
    name: &'static str,
    /// The value, two-way bound.
    value: RwSignal<String>,
    /// The form's errors.
    errors: RwSignal<FieldErrors>,
    /// The input's `type`.
    #[prop(default = "text")]
    input_type: &'static str,
    /// A textarea instead of an input.
    #[prop(optional)]
    multiline: bool,
    /// The `autocomplete` hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// A hint under the input.
    #[prop(optional)]
    help: Option<&'static str>,
    /// Whether the field must be filled in.
    #[prop(optional)]
    required: bool,
    /// Sets the field's id apart (`field-{scope}-{name}`) where another form on the same page
    /// has a field of the same name, so each label points at its own input.
    #[prop(optional)]
    scope: Option<&'static str>,
) -> impl IntoView {
    let id = match scope {
        Some(scope) => format!("field-{scope}-{name}"),
        None => format!("field-{name}"),
    };
    let error_id = format!("{id}-error");
    let messages = move || errors.with(|e| e.get(name).map(<[String]>::to_vec).unwrap_or_default());
    let invalid = move || !messages().is_empty();
    let class = move || {
        if invalid() {
            "form-control is-invalid"
        } else {
            "form-control"
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        value.set(event_target_value(&ev));
    };
    let described_by = error_id.clone();
    let input = if multiline {
        view! {
            <textarea id=id.clone() name=name class=class rows="3"
                aria-invalid=move || invalid().to_string()
                aria-describedby=described_by.clone()
                prop:value=move || value.get() on:input=on_input></textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() name=name type=input_type class=class autocomplete=autocomplete
                required=required
                aria-invalid=move || invalid().to_string()
                aria-describedby=described_by.clone()
                prop:value=move || value.get() on:input=on_input/>
        }
        .into_any()
    };
    view! {
        <div class="mb-3">
            <label for=id class="form-label">{label}{required.then_some(" *")}</label>
            {input}
            <div id=error_id class="invalid-feedback">
                {move || messages().into_iter().map(|m| view! { <div>{m}</div> }).collect_view()}
            </div>
            {help.map(|h| view! { <div class="form-text">{h}</div> })}
        </div>
    }
}

/// A checkbox bound to a boolean.
#[component]
pub fn CheckField(label: &'static str, name: &'static str, value: RwSignal<bool>) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <div class="form-check mb-2">
            <input id=id.clone() name=name type="checkbox" class="form-check-input"
                prop:checked=move || value.get()
                on:change=move |ev| value.set(event_target_checked(&ev))/>
            <label for=id class="form-check-label">{label}</label>
        </div>
    }
}

/// Moves the focus to the first invalid input inside the element with `container_id`,
/// once the page shows the new errors.
pub fn focus_first_invalid(container_id: &'static str) {
    request_animation_frame(move || {
        let element = document()
            .get_element_by_id(container_id)
            .and_then(|form| form.query_selector(".is-invalid").ok().flatten())
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(element) = element {
            let _ = element.focus();
        }
    });
}

/// Shows the problems the browser found under their fields; `true` when there are none and the
/// form may be sent, else the first invalid field gets the focus.
pub fn passes_checks(
    found: FieldErrors,
    errors: RwSignal<FieldErrors>,
    form_id: &'static str,
) -> bool {
    let ok = found.is_empty();
    errors.set(found);
    if !ok {
        focus_first_invalid(form_id);
    }
    ok
}

/// Shows why a form's save failed: field errors under their fields (the first one focused),
/// anything else above the form, where what was typed stays; a toast either way.
pub fn show_save_error(
    error: ApiError,
    form_id: &'static str,
    errors: RwSignal<FieldErrors>,
    alert: RwSignal<Option<String>>,
    toasts: Toasts,
) {
    match error {
        ApiError::Invalid(found) => {
            errors.set(found);
            toasts.error("Please correct the highlighted fields.");
            focus_first_invalid(form_id);
        }
        other => {
            alert.set(Some(other.message()));
            toasts.error(other.message());
        }
    }
}

/// A form-level alert for problems that belong to no field.
#[component]
pub fn FormAlert(message: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <When when=move || message.with(Option::is_some)>
            <div class="alert alert-danger" role="alert">{move || message.get()}</div>
        </When>
    }
}
