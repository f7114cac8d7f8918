//! The schedule-a-message form, in a modal: channel, text with its live SMS counter or a
//! WhatsApp template with its variables, and when to send it in the customer's time zone.

use std::collections::BTreeMap;

use crm_contract::customers::CustomerResponse;
use crm_contract::messages::{
    CreateMessageRequest, MessageResponse, MessageTemplate, UpdateMessageRequest,
};
use crm_domain::{
    Channel, FieldErrors, MessageText, SmsEncoding, TemplateSid, TemplateVariables, sms_length,
};
use leptos::prelude::*;

use crate::api::invoices::IdempotencyKey;
use crate::api::{self, ApiError};
use crate::components::field::{FormAlert, passes_checks, show_save_error};
use crate::components::message_status::channel_label;
use crate::components::modal::Modal;
use crate::components::remind_me::{RemindMe, RemindMeFields, ReminderPlan, set_reminder};
use crate::components::when::When;
use crate::live::use_live;
use crate::reactive::{Fetched, Task};
use crate::state::{use_session, use_toasts};
use crate::wall_clock::{self, WallTime};

/// The form's id, for focusing its first invalid field.
const FORM_ID: &str = "message-form";

/// The counter under the text: characters, and for SMS the parts and encoding
/// ("42 characters · 1 SMS part · GSM-7"); for WhatsApp "42 / 1600 characters".
pub fn counter_text(body: &str, channel: Channel) -> String {
    let body = body.trim();
    let characters = body.chars().count();
    match channel {
        Channel::Whatsapp => {
            format!(
                "{characters} / {} characters",
                MessageText::MAX_WHATSAPP_CHARS
            )
        }
        Channel::Sms => {
            let length = sms_length(body);
            let encoding = match length.encoding {
                SmsEncoding::Gsm7 => "GSM-7",
                SmsEncoding::Ucs2 => "UCS-2",
            };
            format!(
                "{characters} character{} · {} SMS part{} · {encoding}",
                plural(characters),
                length.segments,
                plural(length.segments as usize),
            )
        }
    }
}

/// Whether the text is over its channel's limit (the counter turns red).
pub fn over_limit(body: &str, channel: Channel) -> bool {
    let body = body.trim();
    match channel {
        Channel::Sms => sms_length(body).segments > MessageText::MAX_SMS_PARTS,
        Channel::Whatsapp => body.chars().count() > MessageText::MAX_WHATSAPP_CHARS,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Why the customer can't get messages on `channel`, or `None` when they can.
pub fn channel_unavailable(customer: &CustomerResponse, channel: Channel) -> Option<String> {
    let (number, opted_out) = match channel {
        Channel::Sms => (&customer.phone, customer.sms_opt_out),
        Channel::Whatsapp => (&customer.whatsapp, customer.whatsapp_opt_out),
    };
    if customer.archived_at.is_some() {
        Some("The customer is archived.".to_owned())
    } else if opted_out {
        Some(format!("Opted out of {}.", channel_label(channel)))
    } else if number.as_deref().is_none_or(str::is_empty) {
        Some(match channel {
            Channel::Sms => "No phone number on file.".to_owned(),
            Channel::Whatsapp => "No WhatsApp number on file.".to_owned(),
        })
    } else {
        None
    }
}

/// The messages of one field, shown under it.
fn messages_of(errors: RwSignal<FieldErrors>, fields: &'static [&'static str]) -> Vec<String> {
    errors.with(|e| {
        fields
            .iter()
            .filter_map(|f| e.get(f))
            .flatten()
            .cloned()
            .collect()
    })
}

/// The form control classes, invalid when the fields have errors.
fn control_class(
    errors: RwSignal<FieldErrors>,
    fields: &'static [&'static str],
    base: &'static str,
) -> impl Fn() -> String {
    move || {
        if messages_of(errors, fields).is_empty() {
            base.to_owned()
        } else {
            format!("{base} is-invalid")
        }
    }
}

/// The errors of `fields`, in Bootstrap's feedback look (shown by a sibling `.is-invalid`, or
/// always with `d-block`).
#[component]
fn Feedback(
    id: &'static str,
    errors: RwSignal<FieldErrors>,
    fields: &'static [&'static str],
) -> impl IntoView {
    view! {
        <div id=id class="invalid-feedback d-block">
            {move || messages_of(errors, fields).into_iter().map(|m| view! { <div>{m}</div> }).collect_view()}
        </div>
    }
}

/// The schedule form: a new message to `customer`, or an edit of `existing` (sent with its
/// `version`). Calls `on_saved` with the message as the server now has it.
#[component]
pub fn MessageFormModal(
    customer: CustomerResponse,
    existing: Option<MessageResponse>,
    on_close: Callback<()>,
    on_saved: Callback<MessageResponse>,
) -> impl IntoView {
    let toasts = use_toasts();
    let live = use_live();
    // Only a new message offers a reminder.
    let remind = existing
        .is_none()
        .then(|| RemindMe::new(use_session().zone()));
    let zone = customer.timezone.clone();
    let editing = existing.as_ref().map(|m| (m.id, m.version));
    let first_open = [Channel::Sms, Channel::Whatsapp]
        .into_iter()
        .find(|c| channel_unavailable(&customer, *c).is_none())
        .unwrap_or(Channel::Sms);
    let channel = RwSignal::new(existing.as_ref().map_or(first_open, |m| m.channel));
    let body = RwSignal::new(
        existing
            .as_ref()
            .filter(|m| m.template.is_none())
            .map(|m| m.body.clone())
            .unwrap_or_default(),
    );
    let template = RwSignal::new(
        existing
            .as_ref()
            .and_then(|m| m.template.clone())
            .unwrap_or_default(),
    );
    let variables = RwSignal::new(
        existing
            .as_ref()
            .and_then(|m| m.variables.clone())
            .unwrap_or_default(),
    );
    // The date and time on the customer's clock: the message's, or an hour from now.
    let browser_zone = wall_clock::browser_zone();
    let clock_now = || {
        wall_clock::now_in(&zone).or_else(|| browser_zone.as_deref().and_then(wall_clock::now_in))
    };
    let initial = match &existing {
        Some(m) => wall_clock::wall_time_in(&zone, m.send_at.timestamp_millis() as f64),
        None => clock_now().map(WallTime::an_hour_after),
    };
    let initial_date = initial.map(WallTime::date_input).unwrap_or_default();
    let initial_time = initial.map(WallTime::time_input).unwrap_or_default();
    let date = RwSignal::new(initial_date.clone());
    let time = RwSignal::new(initial_time.clone());
    let send_now = RwSignal::new(false);
    let errors = RwSignal::new(FieldErrors::new());
    let alert = RwSignal::new(None::<String>);
    let templates = Fetched::new(api::messages::templates);
    let template_list = move || {
        templates
            .get()
            .and_then(Result::ok)
            .map(|list| list.items)
            .unwrap_or_default()
    };
    let chosen_template = move || {
        let sid = template.get();
        template_list().into_iter().find(|t| t.content_sid == sid)
    };
    let uses_template = move || channel.get() == Channel::Whatsapp && !template.get().is_empty();

    let customer = StoredValue::new(customer);
    let zone = StoredValue::new(zone);
    let browser_zone = StoredValue::new(browser_zone);

    // The chosen time on the browser's clock, when that is another zone's.
    let your_time = move || {
        let wall = WallTime::parse(&date.get(), &time.get())?;
        let zone = zone.get_value();
        let at = wall_clock::moment_in(&zone, wall)?;
        let local_zone = browser_zone.get_value()?;
        let local = wall_clock::wall_time_in(&local_zone, at)?;
        (local != wall).then(|| wall_clock::local_date_time(at))
    };

    // One key per attempt: kept when the answer was lost (sending again then gets the first
    // answer, never a second message), renewed after any answer.
    let attempt = StoredValue::new(IdempotencyKey::new());
    let send = Task::new(move |request: &Request| {
        let request = request.clone();
        async move {
            let customer_id = customer.with_value(|c| c.id);
            let (result, done, reminder) = match request {
                Request::Schedule(body, reminder) => {
                    let key = attempt.get_value();
                    let scheduled = api::messages::schedule(customer_id, &body, &key).await;
                    if scheduled != Err(ApiError::Network) {
                        attempt.set_value(IdempotencyKey::new());
                    }
                    (scheduled, "Message scheduled.", reminder)
                }
                Request::Edit(id, body) => (
                    api::messages::edit(id, &body).await,
                    "Message changed.",
                    None,
                ),
            };
            match result {
                Ok(message) => {
                    toasts.success(done);
                    if let Some(plan) = reminder {
                        set_reminder(plan.request(customer_id, message.id), toasts, live).await;
                    }
                    on_saved.run(message);
                }
                Err(error) => show_save_error(error, FORM_ID, errors, alert, toasts),
            }
        }
    });
    let pending = send.pending();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if send.pending().get_untracked() {
            return;
        }
        alert.set(None);
        let mut found = FieldErrors::new();
        let channel = channel.get_untracked();
        if let Some(reason) = customer.with_value(|c| channel_unavailable(c, channel)) {
            found.add("channel", reason);
        }
        let sid = Some(template.get_untracked())
            .filter(|t| channel == Channel::Whatsapp && !t.is_empty());
        let (text, vars) = match &sid {
            Some(sid) => {
                found.check("template", TemplateSid::parse(sid));
                let vars = variables.get_untracked();
                found.check("variables", TemplateVariables::parse(vars.clone()));
                (None, Some(vars))
            }
            None => {
                let text = body.get_untracked();
                found.check("body", MessageText::parse(&text, channel));
                (Some(text), None)
            }
        };
        let zone = zone.get_value();
        let when = if send_now.get_untracked() {
            Some(When::Now)
        } else {
            let wall = WallTime::parse(&date.get_untracked(), &time.get_untracked());
            match wall {
                None => {
                    found.add("send_at", "Choose a date and a time, or tick Send now.");
                    None
                }
                Some(wall) => {
                    let past = wall_clock::moment_in(&zone, wall)
                        .is_some_and(|at| at < js_sys::Date::now() - 60_000.0);
                    let unchanged = editing.is_some()
                        && date.get_untracked() == initial_date
                        && time.get_untracked() == initial_time;
                    if past && !unchanged {
                        found.add(
                            "send_at",
                            "That time has passed: choose a later one, or tick Send now.",
                        );
                    }
                    Some(if unchanged {
                        When::Unchanged
                    } else {
                        When::At(wall)
                    })
                }
            }
        };
        let reminder = remind.and_then(|remind| remind.plan(&mut found));
        if !passes_checks(found, errors, FORM_ID) {
            return;
        }
        let (send_at, timezone) = match when {
            Some(When::Now) => (Some(now_rfc3339()), None),
            Some(When::At(wall)) => (Some(wall.send_at()), Some(zone)),
            Some(When::Unchanged) | None => (None, None),
        };
        let request = match editing {
            Some((id, version)) => Request::Edit(
                id,
                UpdateMessageRequest {
                    version,
                    channel: Some(channel.as_str().to_owned()),
                    body: text,
                    template: sid,
                    variables: vars,
                    send_at,
                    timezone,
                },
            ),
            None => Request::Schedule(
                CreateMessageRequest {
                    channel: channel.as_str().to_owned(),
                    body: text,
                    template: sid,
                    variables: vars,
                    send_at: send_at.unwrap_or_default(),
                    timezone,
                },
                reminder,
            ),
        };
        send.dispatch(request);
    };

    let channel_choice = move |option: Channel| {
        let reason = customer.with_value(|c| channel_unavailable(c, option));
        let id = format!("message-channel-{}", option.as_str());
        let disabled = reason.is_some();
        view! {
            <div class="form-check">
                <input class="form-check-input" type="radio" name="channel" id=id.clone()
                    value=option.as_str() disabled=disabled
                    prop:checked=move || channel.get() == option
                    on:change=move |_| channel.set(option)/>
                <label class="form-check-label" for=id>{channel_label(option)}</label>
                {reason.map(|r| view! { <span class="form-text ms-2">{r}</span> })}
            </div>
        }
    };

    let on_template = move |ev: leptos::ev::Event| {
        let sid = event_target_value(&ev);
        let names = template_list()
            .into_iter()
            .find(|t| t.content_sid == sid)
            .map(|t| t.variables)
            .unwrap_or_default();
        variables.update(|vars| {
            let kept: BTreeMap<String, String> = names
                .into_iter()
                .map(|name| {
                    let value = vars.get(&name).cloned().unwrap_or_default();
                    (name, value)
                })
                .collect();
            *vars = kept;
        });
        template.set(sid);
    };

    let title = if editing.is_some() {
        "Edit message"
    } else {
        "Schedule message"
    };
    view! {
        <Modal title=title.to_owned() on_close=on_close>
            <form id=FORM_ID novalidate on:submit=on_submit>
                <FormAlert message=alert/>
                <fieldset class="mb-3">
                    <legend class="form-label fs-6">"Channel"</legend>
                    {channel_choice(Channel::Sms)}
                    {channel_choice(Channel::Whatsapp)}
                    <Feedback id="field-channel-error" errors=errors fields=&["channel"]/>
                </fieldset>
                <When when=move || channel.get() == Channel::Whatsapp && !template_list().is_empty()>
                    <div class="mb-3">
                        <label for="field-template" class="form-label">"Template"</label>
                        <select id="field-template" name="template"
                            class=control_class(errors, &["template"], "form-select")
                            on:change=on_template>
                            <option value="" selected=move || template.get().is_empty()>"None: write the text"</option>
                            {move || template_list().into_iter().map(|t: MessageTemplate| {
                                let sid = t.content_sid.clone();
                                view! {
                                    <option value=t.content_sid.clone()
                                        selected=move || template.get() == sid>{t.name}</option>
                                }
                            }).collect_view()}
                        </select>
                        <Feedback id="field-template-error" errors=errors fields=&["template"]/>
                        <div class="form-text">"An approved template can be sent at any time; free text only within 24 hours of the customer's last message."</div>
                    </div>
                </When>
                <When when=uses_template>
                    {move || chosen_template().map(|t| t.variables.into_iter().map(|name| {
                        let id = format!("field-variable-{name}");
                        let key = name.clone();
                        let value = name.clone();
                        view! {
                            <div class="mb-2">
                                <label for=id.clone() class="form-label">{format!("Variable {name}")}</label>
                                <input id=id type="text"
                                    class=control_class(errors, &["variables"], "form-control")
                                    prop:value=move || variables.with(|v| v.get(&value).cloned().unwrap_or_default())
                                    on:input=move |ev| {
                                        let typed = event_target_value(&ev);
                                        variables.update(|v| { v.insert(key.clone(), typed); });
                                    }/>
                            </div>
                        }
                    }).collect_view())}
                    <Feedback id="field-variables-error" errors=errors fields=&["variables"]/>
                </When>
                <When when=move || !uses_template()>
                    <div class="mb-3">
                        <label for="field-body" class="form-label">"Message *"</label>
                        <textarea id="field-body" name="body" rows="4"
                            class=control_class(errors, &["body"], "form-control")
                            aria-describedby="field-body-error field-body-counter"
                            prop:value=move || body.get()
                            on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                        <Feedback id="field-body-error" errors=errors fields=&["body"]/>
                        <div id="field-body-counter" aria-live="polite"
                            class=move || if over_limit(&body.get(), channel.get()) { "form-text text-danger" } else { "form-text" }>
                            {move || counter_text(&body.get(), channel.get())}
                        </div>
                    </div>
                </When>
                <div class="form-check mb-2">
                    <input id="field-send-now" type="checkbox" class="form-check-input"
                        prop:checked=move || send_now.get()
                        on:change=move |ev| send_now.set(event_target_checked(&ev))/>
                    <label for="field-send-now" class="form-check-label">"Send now"</label>
                </div>
                <fieldset class="mb-3" disabled=move || send_now.get()>
                    <legend class="form-label fs-6">"Send on"</legend>
                    <div class="d-flex gap-2">
                        <input id="field-send_at" type="date" aria-label="Date"
                            class=control_class(errors, &["send_at", "timezone"], "form-control")
                            prop:value=move || date.get()
                            on:input=move |ev| date.set(event_target_value(&ev))/>
                        <input id="field-send_at-time" type="time" aria-label="Time"
                            class=control_class(errors, &["send_at", "timezone"], "form-control")
                            prop:value=move || time.get()
                            on:input=move |ev| time.set(event_target_value(&ev))/>
                    </div>
                    <Feedback id="field-send_at-error" errors=errors fields=&["send_at", "timezone"]/>
                    <div class="form-text">
                        {format!("In the customer's time zone ({}).", zone.get_value())}
                        {move || your_time().map(|t| format!(" That is {t} your time."))}
                    </div>
                </fieldset>
                {remind.map(|remind| view! { <RemindMeFields remind=remind errors=errors/> })}
                <div class="d-flex justify-content-end gap-2">
                    <button type="button" class="btn btn-outline-secondary" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="btn btn-primary" disabled=move || pending.get()>
                        {move || match (pending.get(), send_now.get(), editing.is_some()) {
                            (true, _, _) => "Saving…",
                            (false, true, _) => "Send now",
                            (false, false, true) => "Save",
                            (false, false, false) => "Schedule",
                        }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// When the form says to send.
enum When {
    Now,
    At(WallTime),
    /// An edit that leaves the stored time as it is.
    Unchanged,
}

/// What the form sends.
#[derive(Clone)]
enum Request {
    /// A new message, and the reminder to set once it is scheduled.
    Schedule(CreateMessageRequest, Option<ReminderPlan>),
    Edit(crm_contract::MessageId, UpdateMessageRequest),
}

/// The current moment in RFC 3339 UTC (`2026-12-24T09:30:00.000Z`), for "send now".
fn now_rfc3339() -> String {
    js_sys::Date::new_0().to_iso_string().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer() -> CustomerResponse {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        CustomerResponse {
            id: crm_contract::CustomerId::new(1),
            name: "Ada".into(),
            email: None,
            phone: Some("+14155552671".into()),
            whatsapp: None,
            timezone: "Europe/London".into(),
            notes: String::new(),
            sms_opt_out: false,
            whatsapp_opt_out: false,
            created_at: at,
            updated_at: at,
            archived_at: None,
        }
    }

    #[test]
    fn the_sms_counter_says_characters_parts_and_encoding() {
        assert_eq!(
            counter_text(&"a".repeat(42), Channel::Sms),
            "42 characters · 1 SMS part · GSM-7"
        );
        assert_eq!(
            counter_text(&"a".repeat(161), Channel::Sms),
            "161 characters · 2 SMS parts · GSM-7"
        );
        assert_eq!(
            counter_text("Hi 🙂", Channel::Sms),
            "4 characters · 1 SMS part · UCS-2"
        );
        assert_eq!(
            counter_text("", Channel::Sms),
            "0 characters · 0 SMS parts · GSM-7"
        );
        assert_eq!(
            counter_text("x", Channel::Sms),
            "1 character · 1 SMS part · GSM-7"
        );
    }

    #[test]
    fn the_whatsapp_counter_counts_against_1600() {
        assert_eq!(
            counter_text("  Hello  ", Channel::Whatsapp),
            "5 / 1600 characters"
        );
        assert!(!over_limit(&"a".repeat(1600), Channel::Whatsapp));
        assert!(over_limit(&"a".repeat(1601), Channel::Whatsapp));
        assert!(!over_limit(&"a".repeat(1530), Channel::Sms));
        assert!(over_limit(&"a".repeat(1531), Channel::Sms));
    }

    #[test]
    fn a_channel_without_a_number_or_opted_out_is_unavailable_with_the_reason() {
        let mut ada = customer();
        assert_eq!(channel_unavailable(&ada, Channel::Sms), None);
        assert_eq!(
            channel_unavailable(&ada, Channel::Whatsapp).as_deref(),
            Some("No WhatsApp number on file.")
        );
        ada.sms_opt_out = true;
        assert_eq!(
            channel_unavailable(&ada, Channel::Sms).as_deref(),
            Some("Opted out of SMS.")
        );
        ada.archived_at = Some(ada.created_at);
        assert_eq!(
            channel_unavailable(&ada, Channel::Sms).as_deref(),
            Some("The customer is archived.")
        );
    }
}
