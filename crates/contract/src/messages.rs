//! Scheduled SMS and WhatsApp messages.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use crm_domain::{Channel, CustomerId, MessageId, SmsEncoding};
use serde::{Deserialize, Serialize};

use crate::Page;

/// Where a message is in its life.
///
/// `scheduled` -> `sending` -> `sent` -> `delivered` | `undelivered` | `read`; `sending` ->
/// `failed` (the provider refused it, with a reason) or `unknown` (the outcome was lost: a
/// person decides whether to resend); `scheduled` -> `canceled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Scheduled,
    Sending,
    Sent,
    Delivered,
    Undelivered,
    Read,
    Failed,
    Canceled,
    Unknown,
}

impl MessageStatus {
    /// Every status, in the order of a message's life.
    pub const ALL: [Self; 9] = [
        Self::Scheduled,
        Self::Sending,
        Self::Sent,
        Self::Delivered,
        Self::Undelivered,
        Self::Read,
        Self::Failed,
        Self::Canceled,
        Self::Unknown,
    ];

    /// The status as it is written in the API and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Read => "read",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Unknown => "unknown",
        }
    }

    /// The status written `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether the message may still be edited or canceled.
    pub fn is_editable(self) -> bool {
        self == Self::Scheduled
    }

    /// Whether a person may send the message again as a new attempt.
    pub fn is_resendable(self) -> bool {
        matches!(self, Self::Failed | Self::Unknown)
    }
}

/// A scheduled message, as listed and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 12))]
    pub id: MessageId,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 42))]
    pub customer_id: CustomerId,
    /// The customer's name, for lists across customers.
    #[cfg_attr(feature = "openapi", schema(example = "Ada Lovelace"))]
    pub customer_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "sms"))]
    pub channel: Channel,
    /// The number it goes to (E.164), as it was when the message was scheduled.
    #[cfg_attr(feature = "openapi", schema(example = "+14155552671"))]
    pub recipient: String,
    /// The text; empty for a WhatsApp template.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Your order is ready for collection.")
    )]
    pub body: String,
    /// The WhatsApp template's content SID, when one is used instead of a body.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub template: Option<String>,
    /// The template's variables by name or number.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub variables: Option<BTreeMap<String, String>>,
    /// When it is sent (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub send_at: DateTime<Utc>,
    pub status: MessageStatus,
    /// Why it failed, was canceled or is unknown, in words.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub status_reason: Option<String>,
    /// How many times a worker has tried to send it.
    pub attempts: i32,
    /// The provider's id of the message once it was accepted (Twilio's `SM…`).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub provider_message_id: Option<String>,
    /// Bumped on every edit; send it back with an edit.
    pub version: i32,
    /// `gsm7` or `ucs2`: how the text travels as SMS.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "gsm7"))]
    pub encoding: SmsEncoding,
    /// How many SMS parts the text takes (1 for WhatsApp).
    #[cfg_attr(feature = "openapi", schema(example = 1))]
    pub segments: u32,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// When the provider accepted it.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(with = "crate::time::rfc3339::option")]
    pub sent_at: Option<DateTime<Utc>>,
    /// When the provider last reported on it (delivered, read, …).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(with = "crate::time::rfc3339::option")]
    pub status_at: Option<DateTime<Utc>>,
}

/// A page of messages.
pub type MessagePage = Page<MessageResponse>;

/// A message to schedule: a text (`body`), or for WhatsApp a `template` with `variables`.
///
/// `send_at` is RFC 3339 with an offset (`2026-12-24T09:30:00+01:00`), or a local date and
/// time (`2026-12-24T09:30`) with `timezone`; "send now" is the current time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "channel": "sms", "body": "Your order is ready for collection.",
    "send_at": "2026-12-24T09:30", "timezone": "Europe/London"
})))]
pub struct CreateMessageRequest {
    /// `sms` or `whatsapp`.
    #[cfg_attr(feature = "openapi", schema(example = "sms"))]
    pub channel: String,
    /// The text (required unless a WhatsApp template is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// A WhatsApp template's content SID (`HX…`), instead of a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The template's variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<BTreeMap<String, String>>,
    /// When to send it.
    #[cfg_attr(feature = "openapi", schema(example = "2026-12-24T09:30"))]
    pub send_at: String,
    /// The IANA time zone of a local `send_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// Changes to a message that is still scheduled; fields left out stay as they are.
/// `version` is the one last read: an edit of a message changed since then is refused (409).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "version": 1, "body": "Your order is ready: collect it from 10:00.",
    "send_at": "2026-12-24T10:00", "timezone": "Europe/London"
})))]
pub struct UpdateMessageRequest {
    pub version: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// A configured WhatsApp template offered in the schedule form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageTemplate {
    #[cfg_attr(feature = "openapi", schema(example = "Order ready"))]
    pub name: String,
    /// Twilio's content SID.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "HXb5b62575e6e4ff6129ad7c8efe1f983e")
    )]
    pub content_sid: String,
    /// The names of its variables, in order.
    pub variables: Vec<String>,
}

/// The configured WhatsApp templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateList {
    pub items: Vec<MessageTemplate>,
}

/// The job that tells a worker to look at a message when it is due.
///
/// PostgreSQL holds the message; the job only says which one and which version of it. A job
/// whose version no longer matches, or that arrives twice, does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMessage {
    pub message_id: MessageId,
    pub version: i32,
}
