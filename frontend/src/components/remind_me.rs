//! "Remind me" in the schedule form: no reminder, at the send time, some minutes before it, or
//! at a time of one's choosing; the reminder is set once the message is scheduled.

use crm_contract::reminders::CreateReminderRequest;
use crm_contract::{CustomerId, MessageId};
use crm_domain::FieldErrors;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::reminder_form::{an_hour_from_now, check_remind_at};
use crate::components::when::When;
use crate::live::Live;
use crate::state::Toasts;

/// Minutes before the send time offered at first.
const DEFAULT_MINUTES_BEFORE: &str = "15";
/// The most minutes before a message a reminder may be (a week; the server's rule).
const MAX_MINUTES_BEFORE: u32 = 10_080;

/// When to be reminded of the message being scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemindChoice {
    Never,
    AtSendTime,
    MinutesBefore,
    At,
}

impl RemindChoice {
    const ALL: [Self; 4] = [Self::Never, Self::AtSendTime, Self::MinutesBefore, Self::At];

    fn value(self) -> &'static str {
        match self {
            Self::Never => "none",
            Self::AtSendTime => "send_time",
            Self::MinutesBefore => "before",
            Self::At => "at",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Never => "No reminder",
            Self::AtSendTime => "At the send time",
            Self::MinutesBefore => "Some minutes before",
            Self::At => "At a time I choose",
        }
    }

    fn parse(value: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|c| c.value() == value)
            .unwrap_or(Self::Never)
    }
}

/// Reads the minutes-before input: a whole number from 0 to a week.
pub fn parse_minutes_before(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|m| *m <= MAX_MINUTES_BEFORE)
        .ok_or_else(|| format!("Whole minutes from 0 to {MAX_MINUTES_BEFORE} (a week)."))
}

/// The reminder to set once the message exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPlan {
    minutes_before: Option<u32>,
    /// A local time with its zone.
    at: Option<(String, String)>,
}

impl ReminderPlan {
    /// The request that sets it for `message` of `customer`.
    pub fn request(&self, customer: CustomerId, message: MessageId) -> CreateReminderRequest {
        let (remind_at, timezone) = self.at.clone().unzip();
        CreateReminderRequest {
            customer_id: customer,
            message_id: Some(message),
            remind_at,
            minutes_before: self.minutes_before,
            timezone,
            note: None,
        }
    }
}

/// Sets the reminder of a message just scheduled. A failure is said in a toast, and the
/// message stays scheduled.
pub async fn set_reminder(request: CreateReminderRequest, toasts: Toasts, live: Live) {
    match api::reminders::create(&request).await {
        Ok(_) => {
            toasts.success("Reminder set.");
            live.reminders_changed();
        }
        Err(error) => toasts.error(format!(
            "The message is scheduled, but the reminder was not set: {}",
            reminder_error_text(&error)
        )),
    }
}

/// What went wrong with a reminder, in one sentence or a few (a 422's field messages, as no
/// field shows them).
pub fn reminder_error_text(error: &ApiError) -> String {
    match error {
        ApiError::Invalid(found) => found
            .iter()
            .flat_map(|(_, messages)| messages.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.message(),
    }
}

/// The "Remind me" fields' values, in the user's time zone `zone`.
#[derive(Debug, Clone, Copy)]
pub struct RemindMe {
    choice: RwSignal<RemindChoice>,
    minutes: RwSignal<String>,
    at: RwSignal<String>,
    zone: StoredValue<String>,
}

impl RemindMe {
    /// No reminder chosen yet.
    pub fn new(zone: String) -> Self {
        Self {
            choice: RwSignal::new(RemindChoice::Never),
            minutes: RwSignal::new(DEFAULT_MINUTES_BEFORE.to_owned()),
            at: RwSignal::new(an_hour_from_now(&zone)),
            zone: StoredValue::new(zone),
        }
    }

    /// The reminder the fields ask for, if any; problems go into `found` under
    /// `minutes_before` and `remind_at`.
    pub fn plan(&self, found: &mut FieldErrors) -> Option<ReminderPlan> {
        let plan = |minutes_before, at| ReminderPlan { minutes_before, at };
        match self.choice.get_untracked() {
            RemindChoice::Never => None,
            RemindChoice::AtSendTime => Some(plan(None, None)),
            RemindChoice::MinutesBefore => {
                let minutes = parse_minutes_before(&self.minutes.get_untracked());
                found
                    .check("minutes_before", minutes)
                    .map(|m| plan(Some(m), None))
            }
            RemindChoice::At => {
                let zone = self.zone.get_value();
                let at = check_remind_at(&self.at.get_untracked(), &zone);
                found
                    .check("remind_at", at)
                    .map(|at| plan(None, Some((at, zone))))
            }
        }
    }
}

/// The error messages of `field`, under its input.
fn field_errors(errors: RwSignal<FieldErrors>, field: &'static str) -> Vec<String> {
    errors.with(|e| e.get(field).map(<[String]>::to_vec).unwrap_or_default())
}

/// An input's classes, invalid when `field` has errors.
fn input_class(errors: RwSignal<FieldErrors>, field: &'static str) -> impl Fn() -> &'static str {
    move || {
        if field_errors(errors, field).is_empty() {
            "form-control"
        } else {
            "form-control is-invalid"
        }
    }
}

/// The "Remind me" choice and, with it, the minutes or the time.
#[component]
pub fn RemindMeFields(remind: RemindMe, errors: RwSignal<FieldErrors>) -> impl IntoView {
    let choice = remind.choice;
    let feedback = move |field: &'static str| {
        view! {
            <div id=format!("field-{field}-error") class="invalid-feedback">
                {move || field_errors(errors, field).into_iter().map(|m| view! { <div>{m}</div> }).collect_view()}
            </div>
        }
    };
    view! {
        <div class="mb-3">
            <label for="field-remind" class="form-label">"Remind me"</label>
            <select id="field-remind" class="form-select"
                on:change=move |ev| choice.set(RemindChoice::parse(&event_target_value(&ev)))>
                {RemindChoice::ALL.into_iter().map(|c| view! {
                    <option value=c.value() selected=move || choice.get() == c>{c.label()}</option>
                }).collect_view()}
            </select>
            <When when=move || choice.get() == RemindChoice::MinutesBefore>
                <div class="input-group mt-2">
                    <input id="field-minutes_before" type="number" min="0" max="10080" step="1"
                        class=input_class(errors, "minutes_before") aria-label="Minutes before the send time"
                        aria-describedby="field-minutes_before-error"
                        prop:value=move || remind.minutes.get()
                        on:input=move |ev| remind.minutes.set(event_target_value(&ev))/>
                    <span class="input-group-text">"minutes before"</span>
                    {feedback("minutes_before")}
                </div>
            </When>
            <When when=move || choice.get() == RemindChoice::At>
                <input id="field-remind_at" type="datetime-local" class=input_class(errors, "remind_at")
                    aria-label="Remind me at" aria-describedby="field-remind_at-error"
                    prop:value=move || remind.at.get()
                    on:input=move |ev| remind.at.set(event_target_value(&ev))/>
                {feedback("remind_at")}
                <div class="form-text">{format!("In your time zone ({}).", remind.zone.get_value())}</div>
            </When>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_before_are_whole_and_at_most_a_week() {
        assert_eq!(parse_minutes_before(" 15 "), Ok(15));
        assert_eq!(parse_minutes_before("0"), Ok(0));
        assert_eq!(parse_minutes_before("10080"), Ok(10_080));
        assert!(parse_minutes_before("10081").is_err());
        assert!(parse_minutes_before("-5").is_err());
        assert!(parse_minutes_before("1.5").is_err());
        assert!(parse_minutes_before("").is_err());
    }

    #[test]
    fn a_plan_asks_for_the_minutes_or_the_local_time_with_its_zone() {
        let message = MessageId::new(3);
        let customer = CustomerId::new(42);
        let before = ReminderPlan {
            minutes_before: Some(15),
            at: None,
        }
        .request(customer, message);
        assert_eq!(before.message_id, Some(message));
        assert_eq!(before.minutes_before, Some(15));
        assert_eq!(before.remind_at, None);
        let at = ReminderPlan {
            minutes_before: None,
            at: Some(("2026-12-24T09:00".into(), "Europe/London".into())),
        }
        .request(customer, message);
        assert_eq!(at.remind_at.as_deref(), Some("2026-12-24T09:00"));
        assert_eq!(at.timezone.as_deref(), Some("Europe/London"));
        assert_eq!(at.minutes_before, None);
    }
}
