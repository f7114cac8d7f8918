//! Scheduled messages: schedule for a customer, list (a customer's, and the agenda across
//! customers), read, edit while scheduled, cancel, resend; the WhatsApp templates on offer.
//!
//! PostgreSQL holds each message; after a write the handler pushes a `SendMessage` job to
//! Redis at `send_at`. If Redis is down the message is saved all the same and the worker's
//! reconciler pushes its job later.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use crm_contract::messages::{
    CreateMessageRequest, MessagePage, MessageResponse, MessageTemplate, TemplateList,
    UpdateMessageRequest,
};
use crm_contract::{CustomerId, MessageId, Page, UserId, paths};
use crm_db::messages::{
    self as rows, ChangeError, ListPosition, Listed, Message, MessageQuery, NewMessage, Order,
};
use crm_domain::{Channel, FieldErrors, sms_length};
use serde::{Deserialize, Serialize};

use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::input::messages::{MessageFilter, message_edit, new_message};
use crate::pagination::{PageParams, Paging};
use crate::state::AppState;

/// The message as the API shows it.
pub fn response(listed: Listed) -> MessageResponse {
    let Listed {
        message: m,
        customer_name,
    } = listed;
    let length = sms_length(&m.body);
    let segments = match m.channel {
        Channel::Sms => length.segments,
        Channel::Whatsapp => 1,
    };
    let variables = m.variables();
    MessageResponse {
        id: m.id,
        customer_id: m.customer_id,
        customer_name,
        channel: m.channel,
        recipient: m.recipient.into_inner(),
        body: m.body,
        template: m.template_sid,
        variables,
        send_at: m.send_at,
        status: m.status,
        status_reason: m.status_reason,
        attempts: m.attempts,
        provider_message_id: m.provider_message_id,
        version: m.version,
        encoding: length.encoding,
        segments,
        created_at: m.created_at,
        updated_at: m.updated_at,
        sent_at: m.sent_at,
        status_at: m.status_at,
    }
}

/// Pushes the job of `message` (as it is now) to Redis; a Redis that is down is logged and
/// left to the worker's reconciler.
async fn enqueue(state: &AppState, message: &Message) {
    let Some(queue) = &state.queue else {
        return;
    };
    let job = message.job();
    let task_id = crm_queue::task_id(job, None);
    match crm_queue::schedule(queue, job, message.send_at, &task_id).await {
        Ok(()) => {
            let saved = state
                .db(move |conn| Ok(rows::set_job(conn, job, &task_id)?))
                .await;
            if let Err(error) = saved {
                tracing::warn!(%error, message = %job.message_id, "job pushed but not noted");
            }
        }
        Err(error) => {
            tracing::warn!(%error, message = %job.message_id, "message saved; its job waits for Redis");
        }
    }
}

/// Where a page of messages ends (the opaque `cursor`).
#[derive(Debug, Serialize, Deserialize)]
struct MessageCursor {
    t: DateTime<Utc>,
    i: MessageId,
}

fn cursor_after(listed: &Listed) -> MessageCursor {
    let position = ListPosition::after(&listed.message);
    MessageCursor {
        t: position.send_at,
        i: position.id,
    }
}

/// Schedules a message to a customer: a text (SMS or WhatsApp) or a WhatsApp template, at a
/// time (RFC 3339, or local with `timezone`; the customer's zone when left out).
#[utoipa::path(
    tag = "messages",
    operation_id = "schedule_message",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = CreateMessageRequest,
    responses(
        (status = 201, description = "Scheduled; `Location` names the new message", body = MessageResponse),
        crate::error::responses::WriteOne,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/customers/{id}/messages")]
pub async fn create(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<CustomerId>,
    body: crate::extract::JsonBody<CreateMessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, request, horizon) = (id.into_inner(), body.0, state.config.message_horizon);
    let listed = state
        .db(move |conn| {
            let customer = crm_db::customers::find(conn, id)?;
            let checked = new_message(&request, &customer, Utc::now(), horizon)?;
            let (body, template, variables) = checked.columns();
            let new = NewMessage {
                customer_id: id,
                channel: checked.channel,
                recipient: &checked.recipient,
                body: &body,
                template_sid: template.as_deref(),
                template_variables: variables,
                send_at: checked.send_at,
                created_by: Some(user.id),
            };
            let message = rows::create(conn, &new)?;
            Ok(Listed {
                message,
                customer_name: customer.name,
            })
        })
        .await?;
    enqueue(&state, &listed.message).await;
    Ok(HttpResponse::Created()
        .insert_header(("Location", paths::message(listed.message.id)))
        .json(response(listed)))
}

/// A customer's messages, latest send time first, with the agenda's filters.
#[utoipa::path(
    tag = "messages",
    operation_id = "list_customer_messages",
    params(("id" = i64, Path, description = "Customer id"), MessageFilter, PageParams),
    responses((status = 200, description = "A page of the customer's messages", body = Page<MessageResponse>), crate::error::responses::ReadListOf),
    security(("session" = []), ("bearer" = []))
)]
#[get("/customers/{id}/messages")]
pub async fn list_for_customer(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<CustomerId>,
    filter: web::Query<MessageFilter>,
    paging: Paging<MessageCursor>,
) -> Result<web::Json<MessagePage>, ApiError> {
    page(&state, filter.into_inner(), Some(id.into_inner()), paging).await
}

/// The agenda: messages of every customer, soonest first; e.g. `?status=scheduled` for what is
/// still to go, `from`/`to` for a day.
#[utoipa::path(
    tag = "messages",
    operation_id = "list_messages",
    params(MessageFilter, PageParams),
    responses((status = 200, description = "A page of messages", body = Page<MessageResponse>), crate::error::responses::ReadList),
    security(("session" = []), ("bearer" = []))
)]
#[get("/messages")]
pub async fn list(
    state: web::Data<AppState>,
    _user: CurrentUser,
    filter: web::Query<MessageFilter>,
    paging: Paging<MessageCursor>,
) -> Result<web::Json<MessagePage>, ApiError> {
    page(&state, filter.into_inner(), None, paging).await
}

/// A page of messages: of one customer (a 404 if there is none), latest first; or of all,
/// soonest first.
async fn page(
    state: &AppState,
    filter: MessageFilter,
    customer: Option<CustomerId>,
    paging: Paging<MessageCursor>,
) -> Result<web::Json<MessagePage>, ApiError> {
    let mut errors = FieldErrors::new();
    let query = MessageQuery {
        customer,
        ..filter.parse(&mut errors)
    };
    let paging = paging.checked(errors)?;
    let after = paging.after.as_ref().map(|c| ListPosition {
        send_at: c.t,
        id: c.i,
    });
    let order = match customer {
        Some(_) => Order::LatestFirst,
        None => Order::SoonestFirst,
    };
    let fetch = paging.fetch();
    let (rows, total) = state
        .db(move |conn| {
            if let Some(customer) = customer {
                crm_db::customers::find(conn, customer)?;
            }
            let rows = rows::list(conn, &query, order, after, fetch)?;
            Ok((rows, rows::count(conn, &query)?))
        })
        .await?;
    Ok(web::Json(paging.page(rows, total, cursor_after, response)))
}

/// One message.
#[utoipa::path(
    tag = "messages",
    operation_id = "get_message",
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 200, description = "The message", body = MessageResponse), crate::error::responses::ReadOne),
    security(("session" = []), ("bearer" = []))
)]
#[get("/messages/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    _user: CurrentUser,
    id: web::Path<MessageId>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let id = id.into_inner();
    let listed = state
        .db(move |conn| Ok(rows::find_listed(conn, id)?))
        .await?;
    Ok(web::Json(response(listed)))
}

/// Changes a message that is still scheduled; `version` must be the one last read.
#[utoipa::path(
    tag = "messages",
    operation_id = "update_message",
    params(("id" = i64, Path, description = "Message id")),
    request_body = UpdateMessageRequest,
    responses(
        (status = 200, description = "The message as it is now (a new version)", body = MessageResponse),
        (status = 409, description = "No longer scheduled, or changed since `version`", body = crm_contract::Problem, content_type = "application/problem+json"),
        crate::error::responses::WriteOne,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[patch("/messages/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<MessageId>,
    body: crate::extract::JsonBody<UpdateMessageRequest>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let (id, request, horizon) = (id.into_inner(), body.0, state.config.message_horizon);
    let listed = state
        .db(move |conn| {
            let edit_of = |conn: &mut _, message: &Message| {
                let customer = crm_db::customers::find(conn, message.customer_id)?;
                message_edit(&request, message, &customer, Utc::now(), horizon)
            };
            rows::edit(conn, user.id, id, request.version, edit_of)?;
            Ok(rows::find_listed(conn, id)?)
        })
        .await?;
    enqueue(&state, &listed.message).await;
    Ok(web::Json(response(listed)))
}

/// Cancels a scheduled message: it will not be sent.
#[utoipa::path(
    tag = "messages",
    operation_id = "cancel_message",
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message, canceled", body = MessageResponse),
        (status = 409, description = "No longer scheduled", body = crm_contract::Problem, content_type = "application/problem+json"),
        crate::error::responses::ActOnOne,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/messages/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<MessageId>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let listed = act(&state, &user, id.into_inner(), rows::cancel).await?;
    Ok(web::Json(response(listed)))
}

/// Sends a `failed` or `unknown` message again, now, as a new attempt.
#[utoipa::path(
    tag = "messages",
    operation_id = "resend_message",
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message, scheduled again for now", body = MessageResponse),
        (status = 409, description = "Neither failed nor unknown", body = crm_contract::Problem, content_type = "application/problem+json"),
        crate::error::responses::ActOnOne,
    ),
    security(("session" = []), ("bearer" = []))
)]
#[post("/messages/{id}/resend")]
pub async fn resend(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<MessageId>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    let listed = act(&state, &user, id.into_inner(), rows::resend).await?;
    enqueue(&state, &listed.message).await;
    Ok(web::Json(response(listed)))
}

/// A person's action on one message (cancel, resend), and the message as it is after it.
async fn act(
    state: &AppState,
    user: &CurrentUser,
    id: MessageId,
    action: fn(&mut diesel::PgConnection, UserId, MessageId) -> Result<Message, ChangeError>,
) -> Result<Listed, ApiError> {
    let actor = user.id;
    state
        .db(move |conn| {
            action(conn, actor, id)?;
            Ok(rows::find_listed(conn, id)?)
        })
        .await
}

/// The WhatsApp templates offered in the schedule form (approved in Twilio first; added with
/// `crm-api add-template`).
#[utoipa::path(
    tag = "messages",
    operation_id = "list_message_templates",
    responses((status = 200, description = "The templates", body = TemplateList), crate::error::responses::ReadOne),
    security(("session" = []), ("bearer" = []))
)]
#[get("/message-templates")]
pub async fn templates(
    state: web::Data<AppState>,
    _user: CurrentUser,
) -> Result<web::Json<TemplateList>, ApiError> {
    let templates = state.db(|conn| Ok(rows::templates(conn)?)).await?;
    let items = templates
        .into_iter()
        .map(|t| MessageTemplate {
            name: t.name,
            content_sid: t.content_sid,
            variables: t.variables.into_iter().flatten().collect(),
        })
        .collect();
    Ok(web::Json(TemplateList { items }))
}
