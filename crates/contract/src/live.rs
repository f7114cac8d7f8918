//! Live events: what `GET /api/v1/events` (Server-Sent Events) tells an open web app.
//!
//! Each event travels as `id: <cursor>`, `event: <kind>` and `data: <JSON>`; the kind names
//! the payload's type. A client that reconnects sends its last id in `Last-Event-ID` and gets
//! what it missed. `resync` (no payload) says events were lost (the client was too slow, or
//! away longer than events are kept): reload what is shown.

use chrono::{DateTime, Utc};
use crm_domain::{CustomerId, InvoiceId, MessageId, ReminderId};
use serde::{Deserialize, Serialize};

use crate::messages::MessageStatus;

/// `reminder.due`: a reminder of the user's fell due ([`ReminderEvent`]).
pub const REMINDER_DUE: &str = "reminder.due";
/// `reminder.changed`: a reminder of the user's was created, changed, dismissed, snoozed or
/// deleted ([`ReminderEvent`]).
pub const REMINDER_CHANGED: &str = "reminder.changed";
/// `message.status`: a message was scheduled, edited, or its status changed
/// ([`MessageStatusEvent`]).
pub const MESSAGE_STATUS: &str = "message.status";
/// `invoice.created` ([`InvoiceEvent`]).
pub const INVOICE_CREATED: &str = "invoice.created";
/// `invoice.deleted` ([`InvoiceEvent`]).
pub const INVOICE_DELETED: &str = "invoice.deleted";
/// `resync`: events were lost; reload.
pub const RESYNC: &str = "resync";

/// Every kind of event, in the order listed above.
pub const KINDS: [&str; 6] = [
    REMINDER_DUE,
    REMINDER_CHANGED,
    MESSAGE_STATUS,
    INVOICE_CREATED,
    INVOICE_DELETED,
    RESYNC,
];

/// A reminder, as a live event carries it (its owner is the only one who gets it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReminderEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub reminder_id: ReminderId,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub customer_id: CustomerId,
    pub customer_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub message_id: Option<MessageId>,
    pub note: String,
    #[serde(with = "crate::time::rfc3339")]
    pub remind_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339::option")]
    pub dismissed_at: Option<DateTime<Utc>>,
    /// The reminder is gone.
    pub deleted: bool,
}

/// A message's status now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageStatusEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub message_id: MessageId,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub customer_id: CustomerId,
    pub status: MessageStatus,
    pub status_reason: Option<String>,
    pub version: i32,
    #[serde(with = "crate::time::rfc3339")]
    pub send_at: DateTime<Utc>,
}

/// An invoice that was added or deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub invoice_id: InvoiceId,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub customer_id: CustomerId,
}

/// One live event, read back from its kind and data.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    ReminderDue(ReminderEvent),
    ReminderChanged(ReminderEvent),
    MessageStatus(MessageStatusEvent),
    InvoiceCreated(InvoiceEvent),
    InvoiceDeleted(InvoiceEvent),
    Resync,
}

/// An event whose kind is not one of [`KINDS`], or whose data does not fit its kind.
#[derive(Debug)]
pub struct UnknownEvent;

impl std::fmt::Display for UnknownEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a known live event")
    }
}

impl std::error::Error for UnknownEvent {}

impl LiveEvent {
    /// Reads the event of `kind` whose payload is `data`.
    pub fn parse(kind: &str, data: &str) -> Result<Self, UnknownEvent> {
        fn read<'a, T: Deserialize<'a>>(data: &'a str) -> Result<T, UnknownEvent> {
            serde_json::from_str(data).map_err(|_| UnknownEvent)
        }
        Ok(match kind {
            REMINDER_DUE => Self::ReminderDue(read(data)?),
            REMINDER_CHANGED => Self::ReminderChanged(read(data)?),
            MESSAGE_STATUS => Self::MessageStatus(read(data)?),
            INVOICE_CREATED => Self::InvoiceCreated(read(data)?),
            INVOICE_DELETED => Self::InvoiceDeleted(read(data)?),
            RESYNC => Self::Resync,
            _ => return Err(UnknownEvent),
        })
    }

    /// The event's kind, as sent in `event:`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ReminderDue(_) => REMINDER_DUE,
            Self::ReminderChanged(_) => REMINDER_CHANGED,
            Self::MessageStatus(_) => MESSAGE_STATUS,
            Self::InvoiceCreated(_) => INVOICE_CREATED,
            Self::InvoiceDeleted(_) => INVOICE_DELETED,
            Self::Resync => RESYNC,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_kind_as_the_database_writes_it() {
        let reminder = r#"{"reminder_id": 7, "customer_id": 42, "customer_name": "Grace", "message_id": null,
            "note": "Call back", "remind_at": "2026-12-02T19:20:00.123456+00:00", "dismissed_at": null, "deleted": false}"#;
        let Ok(LiveEvent::ReminderDue(event)) = LiveEvent::parse(REMINDER_DUE, reminder) else {
            panic!("a reminder.due event did not read");
        };
        assert_eq!(event.reminder_id, ReminderId::new(7));
        assert_eq!(event.remind_at.timestamp_subsec_micros(), 123_456);
        let message = r#"{"message_id": 3, "customer_id": 42, "status": "sent", "status_reason": null,
            "version": 2, "send_at": "2026-12-02T19:20:00+00:00"}"#;
        assert!(matches!(
            LiveEvent::parse(MESSAGE_STATUS, message),
            Ok(LiveEvent::MessageStatus(MessageStatusEvent {
                status: MessageStatus::Sent,
                ..
            }))
        ));
        let invoice = r#"{"invoice_id": 5, "customer_id": 42}"#;
        assert!(LiveEvent::parse(INVOICE_CREATED, invoice).is_ok());
        assert!(matches!(
            LiveEvent::parse(RESYNC, ""),
            Ok(LiveEvent::Resync)
        ));
        assert!(LiveEvent::parse("reminder.gone", reminder).is_err());
        assert!(LiveEvent::parse(REMINDER_DUE, invoice).is_err());
    }
}
