//! Message requests turned into checked values: channel, recipient (from the customer), body or
//! template, and the send time, with every field's error at once.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use crm_contract::messages::{CreateMessageRequest, UpdateMessageRequest};
use crm_db::customers::Customer;
use crm_db::messages::{Message, MessageEdit, MessageQuery};
use crm_domain::{
    Channel, FieldErrors, MessageText, PhoneNumber, SendWindow, TemplateSid, TemplateVariables,
    TimeZone, parse_send_at,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;

/// A message's content: a text, or a WhatsApp template with its variables.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(MessageText),
    Template(TemplateSid, TemplateVariables),
}

/// A checked message: what, to whom, when.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedMessage {
    pub channel: Channel,
    pub recipient: PhoneNumber,
    pub content: Content,
    pub send_at: DateTime<Utc>,
}

impl CheckedMessage {
    /// The body and template columns of the row.
    pub fn columns(&self) -> (String, Option<String>, Option<serde_json::Value>) {
        match &self.content {
            Content::Text(text) => (text.as_str().to_owned(), None, None),
            Content::Template(sid, variables) => (
                String::new(),
                Some(sid.as_str().to_owned()),
                serde_json::to_value(variables.as_map()).ok(),
            ),
        }
    }
}

/// The raw fields of a message, from a new one or an edit over the stored one.
struct Fields<'a> {
    channel: &'a str,
    body: Option<&'a str>,
    template: Option<&'a str>,
    variables: Option<BTreeMap<String, String>>,
    send_at: Option<&'a str>,
    timezone: Option<&'a str>,
}

/// Checks a new message for `customer` at `now`, allowing times up to `horizon` ahead.
pub fn new_message(
    request: &CreateMessageRequest,
    customer: &Customer,
    now: DateTime<Utc>,
    horizon: TimeDelta,
) -> Result<CheckedMessage, ApiError> {
    let fields = Fields {
        channel: &request.channel,
        body: request.body.as_deref(),
        template: request.template.as_deref(),
        variables: request.variables.clone(),
        send_at: Some(&request.send_at),
        timezone: request.timezone.as_deref(),
    };
    check(
        fields,
        customer,
        SendWindow::new(now).with_horizon(horizon),
        None,
    )
}

/// Checks an edit of `message` (fields left out keep their stored values) and returns what
/// changes.
pub fn message_edit(
    request: &UpdateMessageRequest,
    message: &Message,
    customer: &Customer,
    now: DateTime<Utc>,
    horizon: TimeDelta,
) -> Result<MessageEdit, ApiError> {
    // Naming a body switches to a text, naming a template to a template; naming neither
    // keeps what is stored.
    let (body, template) = match (request.body.as_deref(), request.template.as_deref()) {
        (None, None) => (
            Some(message.body.as_str()).filter(|_| message.template_sid.is_none()),
            message.template_sid.as_deref(),
        ),
        given => given,
    };
    let fields = Fields {
        channel: request
            .channel
            .as_deref()
            .unwrap_or(message.channel.as_str()),
        body,
        template,
        variables: request.variables.clone().or_else(|| message.variables()),
        send_at: request.send_at.as_deref(),
        timezone: request.timezone.as_deref(),
    };
    let window = SendWindow::new(now).with_horizon(horizon);
    let keep = request.send_at.is_none().then_some(message.send_at);
    let checked = check(fields, customer, window, keep)?;
    let (body, template, variables) = checked.columns();
    Ok(MessageEdit {
        channel: Some(checked.channel),
        recipient: Some(checked.recipient),
        body: Some(body),
        template_sid: Some(template),
        template_variables: Some(variables),
        send_at: request.send_at.is_some().then_some(checked.send_at),
    })
}

/// Every rule at once; `keep_send_at` is the stored time of an edit that leaves it alone.
fn check(
    fields: Fields<'_>,
    customer: &Customer,
    window: SendWindow,
    keep_send_at: Option<DateTime<Utc>>,
) -> Result<CheckedMessage, ApiError> {
    let mut errors = FieldErrors::new();
    let channel = errors.check("channel", Channel::parse(fields.channel));
    let recipient = channel.and_then(|channel| recipient_of(customer, channel, &mut errors));
    let content = channel.and_then(|channel| content_of(&fields, channel, &mut errors));
    let send_at = match keep_send_at {
        Some(stored) => Some(stored),
        None => send_time(&fields, customer, window, &mut errors),
    };
    match (channel, recipient, content, send_at) {
        (Some(channel), Some(recipient), Some(content), Some(send_at)) if errors.is_empty() => {
            Ok(CheckedMessage {
                channel,
                recipient,
                content,
                send_at,
            })
        }
        _ => Err(errors.into()),
    }
}

/// The customer's number for `channel`, unless they have none or opted out.
fn recipient_of(
    customer: &Customer,
    channel: Channel,
    errors: &mut FieldErrors,
) -> Option<PhoneNumber> {
    let (number, opted_out, name) = match channel {
        Channel::Sms => (&customer.phone, customer.sms_opt_out, "SMS"),
        Channel::Whatsapp => (&customer.whatsapp, customer.whatsapp_opt_out, "WhatsApp"),
    };
    if customer.archived_at.is_some() {
        errors.add("channel", "This customer is archived: restore them first.");
        return None;
    }
    if opted_out {
        errors.add("channel", format!("This customer opted out of {name}."));
        return None;
    }
    match number {
        Some(number) => Some(number.clone()),
        None => {
            let field = match channel {
                Channel::Sms => "phone number",
                Channel::Whatsapp => "WhatsApp number",
            };
            errors.add(
                "channel",
                format!("This customer has no {field}: add one to their details first."),
            );
            None
        }
    }
}

/// The text, or for WhatsApp the template and its variables.
fn content_of(fields: &Fields<'_>, channel: Channel, errors: &mut FieldErrors) -> Option<Content> {
    let template = fields.template.filter(|t| !t.trim().is_empty());
    match (channel, template) {
        (Channel::Whatsapp, Some(sid)) => {
            if fields.body.is_some_and(|b| !b.trim().is_empty()) {
                errors.add("body", "Send either a text or a template, not both.");
            }
            let sid = errors.check("template", TemplateSid::parse(sid));
            let variables = errors.check(
                "variables",
                TemplateVariables::parse(fields.variables.clone().unwrap_or_default()),
            );
            Some(Content::Template(sid?, variables?))
        }
        (Channel::Sms, Some(_)) => {
            errors.add("template", "Templates are for WhatsApp only.");
            None
        }
        (_, None) => {
            let text = MessageText::parse(fields.body.unwrap_or_default(), channel);
            errors.check("body", text).map(Content::Text)
        }
    }
}

/// `send_at` in UTC: with its own offset, or local in `timezone` (the customer's by default).
fn send_time(
    fields: &Fields<'_>,
    customer: &Customer,
    window: SendWindow,
    errors: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    let zone = match fields.timezone.filter(|z| !z.trim().is_empty()) {
        Some(zone) => errors.check("timezone", TimeZone::parse(zone))?,
        None => TimeZone::stored_or_utc(Some(&customer.timezone)),
    };
    let Some(text) = fields.send_at.filter(|t| !t.trim().is_empty()) else {
        errors.add("send_at", crm_domain::REQUIRED);
        return None;
    };
    let at = errors.check("send_at", parse_send_at(text.trim(), Some(&zone)))?;
    errors.check("send_at", window.check(at))
}

/// The filters of `GET /messages`, as they come in the query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageFilter {
    /// Statuses to show, comma-separated (e.g. `scheduled,sending`); all when left out.
    #[param(example = "scheduled")]
    pub status: Option<String>,
    /// `sms` or `whatsapp`.
    pub channel: Option<String>,
    /// Only messages sent at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Only messages sent before this time (RFC 3339).
    pub to: Option<String>,
}

impl MessageFilter {
    /// The filters as a query, or their errors added to `errors`.
    pub fn parse(self, errors: &mut FieldErrors) -> MessageQuery {
        use crm_contract::messages::MessageStatus;
        let mut statuses = Vec::new();
        for word in self.status.iter().flat_map(|s| s.split(',')) {
            let word = word.trim();
            if word.is_empty() {
                continue;
            }
            match MessageStatus::parse(word) {
                Some(status) => statuses.push(status),
                None => errors.add(
                    "status",
                    format!(
                        "Unknown status {word:?}: use scheduled, sending, sent, delivered, undelivered, read, failed, canceled or unknown."
                    ),
                ),
            }
        }
        let channel = crate::input::optional(errors, "channel", self.channel.as_deref(), |c| {
            Channel::parse(c)
        });
        let instant = |errors: &mut FieldErrors, field: &str, raw: Option<&str>| {
            crate::input::optional(errors, field, raw, |text| {
                crm_contract::time::parse_instant(text.trim())
                    .ok_or("Use an RFC 3339 time such as 2026-12-24T09:30:00Z.")
            })
        };
        let from = instant(errors, "from", self.from.as_deref());
        let to = instant(errors, "to", self.to.as_deref());
        MessageQuery {
            customer: None,
            statuses,
            channel,
            from,
            to,
        }
    }
}
