//! Reminder requests turned into checked values, with every field's error at once.

use chrono::{DateTime, Duration, Utc};
use crm_contract::reminders::{
    CreateReminderRequest, ReminderState, SnoozeRequest, UpdateReminderRequest,
};
use crm_db::messages::Message;
use crm_db::reminders::{ReminderEdit, ReminderQuery};
use crm_domain::{
    CustomerId, FieldErrors, REQUIRED, ReminderNote, SendAtError, SendWindow, Snooze, TimeZone,
    UserId, parse_send_at,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::CurrentUser;
use crate::error::ApiError;

/// How far ahead a reminder may be set.
const HORIZON_DAYS: i64 = 366;

/// The filters of `GET /reminders`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReminderFilter {
    /// `due` (the default), `upcoming` or `dismissed`.
    #[param(example = "due")]
    pub state: Option<String>,
    /// Only reminders about this customer.
    #[param(value_type = Option<i64>)]
    pub customer_id: Option<String>,
    /// `all`: everyone's reminders (admins only); one's own otherwise.
    #[param(example = "all")]
    pub owner: Option<String>,
}

impl ReminderFilter {
    /// The query these filters ask for `user`, recording bad values in `errors`.
    pub fn parse(&self, user: &CurrentUser, errors: &mut FieldErrors) -> ReminderQuery {
        let state = match self.state.as_deref().filter(|s| !s.is_empty()) {
            None => ReminderState::Due,
            Some(text) => ReminderState::parse(text).unwrap_or_else(|| {
                errors.add("state", "Use due, upcoming or dismissed.");
                ReminderState::Due
            }),
        };
        let customer = self
            .customer_id
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|text| {
                errors.check(
                    "customer_id",
                    text.parse::<CustomerId>()
                        .map_err(|_| "Must be a customer id (a whole number)."),
                )
            });
        let owner = match self.owner.as_deref().filter(|s| !s.is_empty()) {
            None | Some("me") => Some(user.id),
            Some("all") if user.is_admin() => None,
            Some("all") => {
                errors.add("owner", "Only admins may list everyone's reminders.");
                Some(user.id)
            }
            Some(_) => {
                errors.add("owner", "Use me or all.");
                Some(user.id)
            }
        };
        ReminderQuery {
            owner,
            state,
            customer,
        }
    }
}

/// A checked new reminder (the customer and the message were found by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedReminder {
    pub remind_at: DateTime<Utc>,
    pub note: String,
}

/// Checks a new reminder for `user` at `now`; `message` is the one named in the request (the
/// caller checked it belongs to the customer) and `errors` what the caller found wrong already.
pub fn new_reminder(
    request: &CreateReminderRequest,
    message: Option<&Message>,
    mut errors: FieldErrors,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> Result<CheckedReminder, ApiError> {
    let zone = zone_of(request.timezone.as_deref(), user.zone(), &mut errors);
    let window = window(now);
    let remind_at = match (
        request.remind_at.as_deref(),
        request.minutes_before,
        message,
    ) {
        (Some(_), Some(_), _) => {
            errors.add(
                "minutes_before",
                "Give remind_at or minutes_before, not both.",
            );
            None
        }
        (Some(text), None, _) => time("remind_at", text, zone.as_ref(), window, &mut errors),
        (None, minutes, Some(message)) => {
            let at = message.send_at - Duration::minutes(i64::from(minutes.unwrap_or(0)));
            let field = if minutes.is_some() {
                "minutes_before"
            } else {
                "message_id"
            };
            errors.check(
                field,
                window.check(at).map_err(|e| before_message(e, minutes)),
            )
        }
        (None, Some(_), None) if request.message_id.is_some() => None,
        (None, Some(_), None) => {
            errors.add("minutes_before", "Only with a message_id.");
            None
        }
        (None, None, None) if request.message_id.is_some() => None,
        (None, None, None) => {
            errors.add("remind_at", REQUIRED);
            None
        }
    };
    let about_nothing = message.is_none() && request.message_id.is_none();
    let note = note(
        request.note.as_deref().unwrap_or_default(),
        about_nothing,
        &mut errors,
    );
    if request.minutes_before.is_some_and(|m| m > 10_080) {
        errors.add("minutes_before", "At most 10080 (a week).");
    }
    let checked = errors.into_result(|| (remind_at, note))?;
    match checked {
        (Some(remind_at), Some(note)) => Ok(CheckedReminder { remind_at, note }),
        _ => Err(ApiError::internal(anyhow::anyhow!(
            "a checked reminder lost a field"
        ))),
    }
}

/// Checks a change of a reminder owned by someone in `owner_zone`.
pub fn reminder_edit(
    request: &UpdateReminderRequest,
    about_message: bool,
    owner_zone: &TimeZone,
    now: DateTime<Utc>,
) -> Result<ReminderEdit, ApiError> {
    let mut errors = FieldErrors::new();
    let zone = zone_of(request.timezone.as_deref(), owner_zone.clone(), &mut errors);
    let remind_at = request
        .remind_at
        .as_deref()
        .and_then(|text| time("remind_at", text, zone.as_ref(), window(now), &mut errors));
    let note = request
        .note
        .as_deref()
        .and_then(|text| note(text, !about_message, &mut errors));
    errors
        .into_result(|| ReminderEdit { remind_at, note })
        .map_err(ApiError::from)
}

/// When a snoozed reminder falls due again, for an owner in `owner_zone`.
pub fn snooze_until(
    request: &SnoozeRequest,
    owner_zone: &TimeZone,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ApiError> {
    let mut errors = FieldErrors::new();
    let until = match (request.snooze_for.as_deref(), request.until.as_deref()) {
        (Some(choice), None) => errors
            .check("for", Snooze::parse(choice))
            .map(|snooze| snooze.until(now, owner_zone)),
        (None, Some(text)) => time("until", text, Some(owner_zone), window(now), &mut errors),
        (Some(_), Some(_)) => {
            errors.add("for", "Give for or until, not both.");
            None
        }
        (None, None) => {
            errors.add("for", "Choose 10m, 1h or tomorrow, or give until.");
            None
        }
    };
    errors
        .into_result(|| until)?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a checked snooze lost its time")))
}

/// The zone a local time is read in: the request's, else `default` (the user's).
fn zone_of(name: Option<&str>, default: TimeZone, errors: &mut FieldErrors) -> Option<TimeZone> {
    match name {
        Some(name) => errors.check("timezone", TimeZone::parse(name)),
        None => Some(default),
    }
}

fn window(now: DateTime<Utc>) -> SendWindow {
    SendWindow::new(now).with_horizon(Duration::days(HORIZON_DAYS))
}

/// A time field: RFC 3339, or local in `zone`; not in the past, not too far ahead.
fn time(
    field: &str,
    text: &str,
    zone: Option<&TimeZone>,
    window: SendWindow,
    errors: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    errors.check(
        field,
        parse_send_at(text, zone).and_then(|at| window.check(at)),
    )
}

/// A time before a message's that has already passed says so in the message's terms.
fn before_message(error: SendAtError, minutes: Option<u32>) -> String {
    match (error, minutes) {
        (SendAtError::Past, Some(_)) => {
            "That is already past: the message goes out sooner. Choose fewer minutes.".to_owned()
        }
        (SendAtError::Past, None) => "The message's time has passed.".to_owned(),
        (other, _) => other.to_string(),
    }
}

/// A note: required when the reminder is about no message.
fn note(text: &str, required: bool, errors: &mut FieldErrors) -> Option<String> {
    let note = errors.check("note", ReminderNote::parse(text))?;
    if required && note.as_str().is_empty() {
        errors.add(
            "note",
            "Say what to remember (or set the reminder on a message).",
        );
        return None;
    }
    Some(note.into_inner())
}

/// Whether `user` may see and change a reminder owned by `owner`: their own, or any for admins.
pub fn may_act_on(user: &CurrentUser, owner: UserId) -> bool {
    user.id == owner || user.is_admin()
}
