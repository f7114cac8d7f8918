//! Reminders: list (due, upcoming, dismissed), set, read, change, dismiss, snooze, delete.
//!
//! A user sees and changes their own reminders; admins may list and act on everyone's.
//! Another user's reminder is a 404 to staff, as if it did not exist.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use crm_contract::reminders::{
    CreateReminderRequest, ReminderPage, ReminderResponse, SnoozeRequest, UpdateReminderRequest,
};
use crm_contract::{Page, ReminderId, paths};
use crm_db::reminders::{self as rows, ListPosition, Listed, NewReminder, Reminder};
use crm_domain::{FieldErrors, TimeZone};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::input::reminders::{
    ReminderFilter, may_act_on, new_reminder, reminder_edit, snooze_until,
};
use crate::pagination::{PageParams, Paging};
use crate::state::AppState;

/// How much of a message's text a reminder shows.
const EXCERPT_CHARS: usize = 80;

/// The reminder as the API shows it.
pub fn response(listed: Listed) -> ReminderResponse {
    let Listed {
        reminder: r,
        owner_name,
        customer_name,
        message_body,
        message_template,
        due,
    } = listed;
    ReminderResponse {
        id: r.id,
        owner_id: r.owner_id,
        owner_name,
        customer_id: r.customer_id,
        customer_name,
        message_id: r.message_id,
        message_excerpt: excerpt(message_body.as_deref(), message_template.as_deref()),
        remind_at: r.remind_at,
        note: r.note,
        due,
        dismissed_at: r.dismissed_at,
        dismissed_reason: r.dismissed_reason,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// The start of a message's text, or which template it sends.
fn excerpt(body: Option<&str>, template: Option<&str>) -> Option<String> {
    if let Some(sid) = template {
        return Some(format!("WhatsApp template {sid}"));
    }
    let body = body?;
    let mut text: String = body.chars().take(EXCERPT_CHARS).collect();
    if body.chars().nth(EXCERPT_CHARS).is_some() {
        text.push('…');
    }
    Some(text)
}

/// Where a page of reminders ends (the opaque `cursor`).
#[derive(Debug, Serialize, Deserialize)]
struct ReminderCursor {
    t: DateTime<Utc>,
    i: ReminderId,
}

/// One's reminders by state: `due` (the default: time has come, not dismissed), `upcoming`
/// or `dismissed`; `customer_id` for one customer's; `owner=all` for everyone's (admins).
#[utoipa::path(
    tag = "reminders",
    operation_id = "list_reminders",
    params(ReminderFilter, PageParams),
    responses((status = 200, description = "A page of reminders", body = Page<ReminderResponse>), crate::error::responses::ReadList),
    security(("session" = []), ("bearer" = []))
)]
#[get("/reminders")]
pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    filter: web::Query<ReminderFilter>,
    paging: Paging<ReminderCursor>,
) -> Result<web::Json<ReminderPage>, ApiError> {
    let mut errors = FieldErrors::new();
    let query = filter.parse(&user, &mut errors);
    let paging = paging.checked(errors)?;
    let after = paging
        .after
        .as_ref()
        .map(|c| ListPosition { at: c.t, id: c.i });
    let fetch = paging.fetch();
    let (rows, total) = state
        .db(move |conn| {
            Ok((
                rows::list(conn, &query, after, fetch)?,
                rows::count(conn, &query)?,
            ))
        })
        .await?;
    let cursor_after = |listed: &Listed| {
        let position = ListPosition::after(&listed.reminder, query.state);
        ReminderCursor {
            t: position.at,
            i: position.id,
        }
    };
    Ok(web::Json(paging.page(rows, total, cursor_after, response)))
}

/// Sets a reminder about a customer, maybe about one of their messages (then `remind_at` may
/// be left out, for the send time, or be `minutes_before` it).
#[utoipa::path(
    tag = "reminders",
    operation_id = "create_reminder",
    request_body = CreateReminderRequest,
    responses(
        (status = 201, description = "Set; `Location` names the new reminder", body = ReminderResponse),
        crate::error::responses::Write,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/reminders")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: crate::extract::JsonBody<CreateReminderRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let listed = state
        .db(move |conn| {
            let (message, errors) = subject(conn, &request)?;
            let checked = new_reminder(&request, message.as_ref(), errors, &user, Utc::now())?;
            let new = NewReminder {
                owner_id: user.id,
                customer_id: request.customer_id,
                message_id: request.message_id,
                remind_at: checked.remind_at,
                note: &checked.note,
            };
            let reminder = rows::create(conn, &new)?;
            Ok(rows::find_listed(conn, reminder.id)?)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", paths::reminder(listed.reminder.id)))
        .json(response(listed)))
}

/// The message a new reminder names, with errors for a customer or message that does not
/// exist, or a message to another customer (422s under the field, with the others).
fn subject(
    conn: &mut diesel::PgConnection,
    request: &CreateReminderRequest,
) -> Result<(Option<crm_db::messages::Message>, FieldErrors), ApiError> {
    use diesel::result::Error::NotFound;

    let mut errors = FieldErrors::new();
    match crm_db::customers::find(conn, request.customer_id) {
        Ok(_) => {}
        Err(NotFound) => errors.add("customer_id", "No such customer."),
        Err(error) => return Err(error.into()),
    }
    let message = match request
        .message_id
        .map(|id| crm_db::messages::find(conn, id))
    {
        None => None,
        Some(Ok(message)) if message.customer_id == request.customer_id => Some(message),
        Some(Ok(_)) => {
            errors.add("message_id", "This message is not to this customer.");
            None
        }
        Some(Err(NotFound)) => {
            errors.add("message_id", "No such message.");
            None
        }
        Some(Err(error)) => return Err(error.into()),
    };
    Ok((message, errors))
}

/// One reminder.
#[utoipa::path(
    tag = "reminders",
    operation_id = "get_reminder",
    params(("id" = i64, Path, description = "Reminder id")),
    responses((status = 200, description = "The reminder", body = ReminderResponse), crate::error::responses::ReadOne),
    security(("session" = []), ("bearer" = []))
)]
#[get("/reminders/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<ReminderId>,
) -> Result<web::Json<ReminderResponse>, ApiError> {
    let id = id.into_inner();
    let listed = state
        .db(move |conn| {
            let listed = rows::find_listed(conn, id)?;
            visible(&user, &listed.reminder)?;
            Ok(listed)
        })
        .await?;
    Ok(web::Json(response(listed)))
}

/// Changes a reminder's note or time (a new time opens a dismissed one again).
#[utoipa::path(
    tag = "reminders",
    operation_id = "update_reminder",
    params(("id" = i64, Path, description = "Reminder id")),
    request_body = UpdateReminderRequest,
    responses((status = 200, description = "The reminder as it is now", body = ReminderResponse), crate::error::responses::WriteOne),
    security(("session" = []), ("bearer" = []))
)]
#[patch("/reminders/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<ReminderId>,
    body: crate::extract::JsonBody<UpdateReminderRequest>,
) -> Result<web::Json<ReminderResponse>, ApiError> {
    let request = body.0;
    act(
        &state,
        user,
        id.into_inner(),
        move |conn, reminder, zone| {
            let edit = reminder_edit(&request, reminder.message_id.is_some(), zone, Utc::now())?;
            Ok(rows::edit(conn, reminder.id, &edit)?)
        },
    )
    .await
}

/// Dismisses a reminder: it is no longer due or upcoming.
#[utoipa::path(
    tag = "reminders",
    operation_id = "dismiss_reminder",
    params(("id" = i64, Path, description = "Reminder id")),
    responses((status = 200, description = "The reminder, dismissed", body = ReminderResponse), crate::error::responses::ActOnOne),
    security(("session" = []), ("bearer" = []))
)]
#[post("/reminders/{id}/dismiss")]
pub async fn dismiss(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<ReminderId>,
) -> Result<web::Json<ReminderResponse>, ApiError> {
    act(&state, user, id.into_inner(), |conn, reminder, _| {
        Ok(rows::dismiss(conn, reminder.id)?)
    })
    .await
}

/// Puts a reminder off: `for` 10m, 1h or tomorrow (09:00 in the owner's time zone), or
/// `until` a time. It falls due again then (a dismissed one opens again).
#[utoipa::path(
    tag = "reminders",
    operation_id = "snooze_reminder",
    params(("id" = i64, Path, description = "Reminder id")),
    request_body = SnoozeRequest,
    responses((status = 200, description = "The reminder, put off", body = ReminderResponse), crate::error::responses::WriteOne),
    security(("session" = []), ("bearer" = []))
)]
#[post("/reminders/{id}/snooze")]
pub async fn snooze(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<ReminderId>,
    body: crate::extract::JsonBody<SnoozeRequest>,
) -> Result<web::Json<ReminderResponse>, ApiError> {
    let request = body.0;
    act(
        &state,
        user,
        id.into_inner(),
        move |conn, reminder, zone| {
            let until = snooze_until(&request, zone, Utc::now())?;
            Ok(rows::snooze(conn, reminder.id, until)?)
        },
    )
    .await
}

/// Deletes a reminder.
#[utoipa::path(
    tag = "reminders",
    operation_id = "delete_reminder",
    params(("id" = i64, Path, description = "Reminder id")),
    responses((status = 204, description = "Deleted"), crate::error::responses::ActOnOne),
    security(("session" = []), ("bearer" = []))
)]
#[delete("/reminders/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<ReminderId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state
        .db(move |conn| {
            visible(&user, &rows::find(conn, id)?)?;
            Ok(rows::delete(conn, id)?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A 404 unless `user` may see `reminder`.
fn visible(user: &CurrentUser, reminder: &Reminder) -> Result<(), ApiError> {
    if may_act_on(user, reminder.owner_id) {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Runs `action` on a reminder `user` may act on, with its owner's time zone, in one
/// transaction; answers the reminder as it is after.
async fn act<F>(
    state: &AppState,
    user: CurrentUser,
    id: ReminderId,
    action: F,
) -> Result<web::Json<ReminderResponse>, ApiError>
where
    F: FnOnce(&mut diesel::PgConnection, &Reminder, &TimeZone) -> Result<Reminder, ApiError>
        + Send
        + 'static,
{
    use diesel::Connection;

    let listed = state
        .db(move |conn| {
            conn.transaction(|conn| {
                let reminder = rows::find(conn, id)?;
                visible(&user, &reminder)?;
                let zone = if reminder.owner_id == user.id {
                    user.zone()
                } else {
                    owner_zone(conn, &reminder)?
                };
                action(conn, &reminder, &zone)?;
                Ok(rows::find_listed(conn, id)?)
            })
        })
        .await?;
    Ok(web::Json(response(listed)))
}

/// The time zone of a reminder's owner (UTC if unset).
fn owner_zone(conn: &mut diesel::PgConnection, reminder: &Reminder) -> Result<TimeZone, ApiError> {
    let owner = crm_db::users::find(conn, reminder.owner_id)?;
    Ok(TimeZone::stored_or_utc(owner.timezone.as_deref()))
}
