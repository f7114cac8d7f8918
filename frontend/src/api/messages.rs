//! Scheduled SMS and WhatsApp messages: a customer's, the agenda across customers, and the
//! WhatsApp templates.

use crm_contract::messages::{
    CreateMessageRequest, MessagePage, MessageResponse, MessageStatus, TemplateList,
    UpdateMessageRequest,
};
use crm_contract::{CustomerId, MessageId};
use crm_domain::Channel;

use super::invoices::IdempotencyKey;
use super::paths::{self, Query};
use super::transport;
use super::{ApiError, Paging};

/// `POST /customers/{id}/messages`: schedules a message to the customer; `key` makes sending
/// it again after a lost answer safe.
pub async fn schedule(
    customer: CustomerId,
    request: &CreateMessageRequest,
    key: &IdempotencyKey,
) -> Result<MessageResponse, ApiError> {
    transport::post_once(&paths::customer_messages(customer), request, key.as_str()).await
}

/// `GET /customers/{id}/messages`: a page of the customer's messages, latest send time first.
pub async fn list_for_customer(
    customer: CustomerId,
    paging: &Paging,
) -> Result<MessagePage, ApiError> {
    let path = Query::default()
        .with_paging(paging)
        .on(paths::customer_messages(customer));
    transport::get(&path).await
}

/// Which messages of the agenda to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaQuery {
    /// Only these statuses; every status when empty.
    pub statuses: Vec<MessageStatus>,
    /// Only this channel; both when `None`.
    pub channel: Option<Channel>,
    pub paging: Paging,
}

/// `GET /messages`: a page of every customer's messages, soonest first.
pub async fn agenda(query: &AgendaQuery) -> Result<MessagePage, ApiError> {
    let statuses = query
        .statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let path = Query::default()
        .with_some("status", Some(statuses.as_str()).filter(|s| !s.is_empty()))
        .with_some("channel", query.channel.map(Channel::as_str))
        .with_paging(&query.paging)
        .on(paths::messages());
    transport::get(&path).await
}

/// `GET /messages/{id}`: one message as it is now.
pub async fn get(id: MessageId) -> Result<MessageResponse, ApiError> {
    transport::get(&paths::message(id)).await
}

/// `PATCH /messages/{id}`: changes a message that is still scheduled; `request.version` must be
/// the one last read (else 409).
pub async fn edit(
    id: MessageId,
    request: &UpdateMessageRequest,
) -> Result<MessageResponse, ApiError> {
    transport::patch(&paths::message(id), request).await
}

/// `POST /messages/{id}/cancel`: the scheduled message will not be sent.
pub async fn cancel(id: MessageId) -> Result<MessageResponse, ApiError> {
    transport::post_bodiless(&paths::message_cancel(id)).await
}

/// `POST /messages/{id}/resend`: sends a failed or unknown message again, now.
pub async fn resend(id: MessageId) -> Result<MessageResponse, ApiError> {
    transport::post_bodiless(&paths::message_resend(id)).await
}

/// `GET /message-templates`: the WhatsApp templates offered in the schedule form.
pub async fn templates() -> Result<TemplateList, ApiError> {
    transport::get(&paths::message_templates()).await
}
