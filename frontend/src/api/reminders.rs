//! The signed-in user's reminders: list, add, edit, dismiss, snooze, delete.

use crm_contract::reminders::{
    CreateReminderRequest, ReminderPage, ReminderResponse, ReminderState, SnoozeRequest,
    UpdateReminderRequest,
};
use crm_contract::{CustomerId, ReminderId};

use super::paths::{self, Query};
use super::{ApiError, Paging, transport};

/// Which reminders a list shows, and which page of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderQuery {
    pub state: ReminderState,
    /// Only this customer's; everyone's when `None`.
    pub customer: Option<CustomerId>,
    pub paging: Paging,
}

/// `GET /reminders`: a page of the user's reminders in one state (due and upcoming soonest
/// first, dismissed newest first).
pub async fn list(query: &ReminderQuery) -> Result<ReminderPage, ApiError> {
    let customer = query.customer.map(|id| id.to_string());
    let path = Query::default()
        .with("state", query.state.as_str())
        .with_some("customer_id", customer.as_deref())
        .with_paging(&query.paging)
        .on(paths::reminders());
    transport::get(&path).await
}

/// `GET /reminders/{id}`: one reminder as it is now.
pub async fn get(id: ReminderId) -> Result<ReminderResponse, ApiError> {
    transport::get(&paths::reminder(id)).await
}

/// `POST /reminders`: a new reminder about a customer, maybe about one of their messages.
pub async fn create(body: &CreateReminderRequest) -> Result<ReminderResponse, ApiError> {
    transport::post(&paths::reminders(), body).await
}

/// `PATCH /reminders/{id}`: a new note or time (fields left out stay as they are); a new
/// time opens a dismissed reminder again.
pub async fn edit(
    id: ReminderId,
    body: &UpdateReminderRequest,
) -> Result<ReminderResponse, ApiError> {
    transport::patch(&paths::reminder(id), body).await
}

/// `POST /reminders/{id}/dismiss`: done with it.
pub async fn dismiss(id: ReminderId) -> Result<ReminderResponse, ApiError> {
    transport::post_bodiless(&paths::reminder_dismiss(id)).await
}

/// `POST /reminders/{id}/snooze`: puts it off by `choice`, one of
/// [`crm_contract::reminders::SNOOZE_CHOICES`] (`10m`, `1h`, `tomorrow`).
pub async fn snooze(id: ReminderId, choice: &str) -> Result<ReminderResponse, ApiError> {
    let body = SnoozeRequest {
        snooze_for: Some(choice.to_owned()),
        until: None,
    };
    transport::post(&paths::reminder_snooze(id), &body).await
}

/// `DELETE /reminders/{id}`.
pub async fn remove(id: ReminderId) -> Result<(), ApiError> {
    transport::delete(&paths::reminder(id)).await
}
