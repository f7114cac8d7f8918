//! Audit trails: what was done to a customer or an account, by whom and when.
//!
//! [`AuditEvent`] is the one list of kinds of change. It travels as `{"action": "…",
//! "changes": {…}}`, is stored the same way, and the web app says each in words with a
//! `match` the compiler checks.

use chrono::{DateTime, Utc};
use crm_domain::{ApiTokenId, AuditEventId, Channel, InvoiceId, MessageId, Role, UserId};
use serde::de::{self, Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::Page;

/// A field's value before and after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

impl<T: PartialEq> Change<T> {
    /// `Some` when `from` and `to` differ.
    pub fn between(from: T, to: T) -> Option<Self> {
        (from != to).then_some(Self { from, to })
    }
}

/// A customer's editable fields, as recorded when the customer is added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerFields {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub whatsapp: Option<String>,
    pub timezone: String,
    pub notes: String,
    pub sms_opt_out: bool,
    pub whatsapp_opt_out: bool,
}

/// Each customer field an edit changed, before and after; fields left alone are absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Change<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Change<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp: Option<Change<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_opt_out: Option<Change<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whatsapp_opt_out: Option<Change<bool>>,
}

impl CustomerChanges {
    /// Each field that differs between `before` and `after`.
    pub fn between(before: &CustomerFields, after: &CustomerFields) -> Self {
        Self {
            name: Change::between(before.name.clone(), after.name.clone()),
            email: Change::between(before.email.clone(), after.email.clone()),
            phone: Change::between(before.phone.clone(), after.phone.clone()),
            whatsapp: Change::between(before.whatsapp.clone(), after.whatsapp.clone()),
            timezone: Change::between(before.timezone.clone(), after.timezone.clone()),
            notes: Change::between(before.notes.clone(), after.notes.clone()),
            sms_opt_out: Change::between(before.sms_opt_out, after.sms_opt_out),
            whatsapp_opt_out: Change::between(before.whatsapp_opt_out, after.whatsapp_opt_out),
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The names of the changed fields, in the form's order.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("email", self.email.is_some()),
            ("phone", self.phone.is_some()),
            ("whatsapp", self.whatsapp.is_some()),
            ("timezone", self.timezone.is_some()),
            ("notes", self.notes.is_some()),
            ("sms_opt_out", self.sms_opt_out.is_some()),
            ("whatsapp_opt_out", self.whatsapp_opt_out.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, changed)| changed.then_some(field))
        .collect()
    }
}

/// Marks that an admin reset an account's password (the password itself is never recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PasswordReset {
    Reset,
}

/// What an admin changed on an account; fields left alone are absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Change<Role>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Change<bool>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordReset>,
}

impl AccountChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// An invoice as recorded when it is added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceAdded {
    pub invoice_id: InvoiceId,
    pub number: String,
    pub amount: String,
    pub currency: String,
}

/// Which invoice an event is about, by id and the number it had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceRef {
    pub invoice_id: InvoiceId,
    pub number: String,
}

/// An invoice's new receipt, by its original file name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptReplaced {
    pub invoice_id: InvoiceId,
    pub original_name: String,
}

/// An account as it was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountCreated {
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// An API token as it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenMade {
    pub token_id: ApiTokenId,
    pub name: String,
}

/// Which API token an event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRef {
    pub token_id: ApiTokenId,
}

/// A message as it was scheduled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageScheduled {
    pub message_id: MessageId,
    pub channel: Channel,
    pub recipient: String,
    #[serde(with = "crate::time::rfc3339")]
    pub send_at: DateTime<Utc>,
}

/// What an edit changed on a scheduled message: its time before and after, and the names of
/// the other fields it changed (the texts themselves stay on the message).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageChanges {
    pub message_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// Why a message will not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// A person canceled it.
    Requested,
    /// Its customer was archived.
    CustomerArchived,
    /// Its customer opted out of the channel (e.g. answered STOP).
    OptedOut,
}

impl CancelReason {
    /// The reason in words, as shown beside the message.
    pub fn describe(self, channel: Channel) -> &'static str {
        match (self, channel) {
            (Self::Requested, _) => "Canceled by staff.",
            (Self::CustomerArchived, _) => "Canceled: the customer was archived.",
            (Self::OptedOut, Channel::Sms) => "Canceled: the customer opted out of SMS.",
            (Self::OptedOut, Channel::Whatsapp) => "Canceled: the customer opted out of WhatsApp.",
        }
    }
}

/// A message that will not be sent, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageCanceled {
    pub message_id: MessageId,
    pub reason: CancelReason,
}

/// A failed or unknown message sent again, as a new attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageResent {
    pub message_id: MessageId,
    /// The status it had before: `failed` or `unknown`.
    pub previous_status: String,
}

/// One kind of recorded change, with its details.
///
/// Serialised by serde's derive as `{"action", "changes"}`; read back by
/// [`AuditEvent::decode`], which looks the action up once and reads `changes` straight into its
/// type (the derive would buffer them first, which costs the web app's download dearly).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", content = "changes")]
pub enum AuditEvent {
    /// A customer was added, with these fields.
    #[serde(rename = "customer.created")]
    CustomerCreated(CustomerFields),
    /// Some of a customer's fields changed.
    #[serde(rename = "customer.updated")]
    CustomerUpdated(CustomerChanges),
    /// A customer was archived.
    #[serde(rename = "customer.archived")]
    CustomerArchived {},
    /// A customer was restored from the archive.
    #[serde(rename = "customer.restored")]
    CustomerRestored {},
    /// An invoice was added with its receipt.
    #[serde(rename = "invoice.created")]
    InvoiceCreated(InvoiceAdded),
    /// An invoice's fields changed.
    #[serde(rename = "invoice.updated")]
    InvoiceUpdated(InvoiceRef),
    /// An invoice got a new receipt.
    #[serde(rename = "invoice.receipt_replaced")]
    InvoiceReceiptReplaced(ReceiptReplaced),
    /// An invoice and its receipt were deleted.
    #[serde(rename = "invoice.deleted")]
    InvoiceDeleted(InvoiceRef),
    /// An account was created.
    #[serde(rename = "user.created")]
    UserCreated(AccountCreated),
    /// An admin changed an account.
    #[serde(rename = "user.updated")]
    UserUpdated(AccountChanges),
    /// A user changed their own password.
    #[serde(rename = "user.password_changed")]
    PasswordChanged {},
    /// A user made an API token.
    #[serde(rename = "token.created")]
    TokenCreated(TokenMade),
    /// A user revoked an API token.
    #[serde(rename = "token.revoked")]
    TokenRevoked(TokenRef),
    /// A message was scheduled.
    #[serde(rename = "message.scheduled")]
    MessageScheduled(MessageScheduled),
    /// A scheduled message was edited.
    #[serde(rename = "message.updated")]
    MessageUpdated(MessageChanges),
    /// A scheduled message was canceled, by a person or because its customer can no longer
    /// receive it.
    #[serde(rename = "message.canceled")]
    MessageCanceled(MessageCanceled),
    /// A failed or unknown message was sent again.
    #[serde(rename = "message.resent")]
    MessageResent(MessageResent),
}

impl AuditEvent {
    /// The stored `action` and `changes` of this event.
    pub fn to_parts(&self) -> (String, serde_json::Value) {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        let action = value
            .get("action")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let changes = value
            .get_mut("changes")
            .map(serde_json::Value::take)
            .unwrap_or_else(|| serde_json::json!({}));
        (action, changes)
    }

    /// The event of a stored `action` and `changes`.
    pub fn from_parts(action: &str, changes: serde_json::Value) -> Result<Self, serde_json::Error> {
        Self::decode(action, changes)
    }

    /// The event named `action`, its details read from `changes`.
    pub fn decode<'de, D: Deserializer<'de>>(action: &str, changes: D) -> Result<Self, D::Error> {
        fn details<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
            changes: D,
            variant: fn(T) -> AuditEvent,
        ) -> Result<AuditEvent, D::Error> {
            T::deserialize(changes).map(variant)
        }
        fn no_details<'de, D: Deserializer<'de>>(
            changes: D,
            event: AuditEvent,
        ) -> Result<AuditEvent, D::Error> {
            IgnoredAny::deserialize(changes).map(|_| event)
        }
        match action {
            "customer.created" => details(changes, Self::CustomerCreated),
            "customer.updated" => details(changes, Self::CustomerUpdated),
            "customer.archived" => no_details(changes, Self::CustomerArchived {}),
            "customer.restored" => no_details(changes, Self::CustomerRestored {}),
            "invoice.created" => details(changes, Self::InvoiceCreated),
            "invoice.updated" => details(changes, Self::InvoiceUpdated),
            "invoice.receipt_replaced" => details(changes, Self::InvoiceReceiptReplaced),
            "invoice.deleted" => details(changes, Self::InvoiceDeleted),
            "user.created" => details(changes, Self::UserCreated),
            "user.updated" => details(changes, Self::UserUpdated),
            "user.password_changed" => no_details(changes, Self::PasswordChanged {}),
            "token.created" => details(changes, Self::TokenCreated),
            "token.revoked" => details(changes, Self::TokenRevoked),
            "message.scheduled" => details(changes, Self::MessageScheduled),
            "message.updated" => details(changes, Self::MessageUpdated),
            "message.canceled" => details(changes, Self::MessageCanceled),
            "message.resent" => details(changes, Self::MessageResent),
            other => Err(de::Error::unknown_variant(other, ACTIONS)),
        }
    }
}

/// Every action [`AuditEvent::decode`] knows.
const ACTIONS: &[&str] = &[
    "customer.created",
    "customer.updated",
    "customer.archived",
    "customer.restored",
    "invoice.created",
    "invoice.updated",
    "invoice.receipt_replaced",
    "invoice.deleted",
    "user.created",
    "user.updated",
    "user.password_changed",
    "token.created",
    "token.revoked",
    "message.scheduled",
    "message.updated",
    "message.canceled",
    "message.resent",
];

/// An event as it travels: its action and its details, still as JSON text.
#[derive(Deserialize)]
struct EventParts {
    action: String,
    #[serde(default)]
    changes: Option<Box<RawValue>>,
}

impl EventParts {
    fn decode<E: de::Error>(&self) -> Result<AuditEvent, E> {
        let changes = self.changes.as_deref().map_or("{}", RawValue::get);
        let mut details = serde_json::Deserializer::from_str(changes);
        AuditEvent::decode(&self.action, &mut details).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for AuditEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        EventParts::deserialize(deserializer)?.decode()
    }
}

/// How the OpenAPI document shows an [`AuditEvent`]: its action's name and its details, whose
/// shape depends on the action.
#[cfg(feature = "openapi")]
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AuditEventDoc {
    /// What happened: `customer.created`, `customer.updated`, `customer.archived`,
    /// `customer.restored`, `invoice.created`, `invoice.updated`, `invoice.receipt_replaced`,
    /// `invoice.deleted`; for accounts `user.created`, `user.updated`,
    /// `user.password_changed`, `token.created`, `token.revoked`; for messages
    /// `message.scheduled`, `message.updated`, `message.canceled`, `message.resent`.
    #[schema(example = "customer.updated")]
    action: String,
    /// Details: for updates, each changed field's value before and after.
    #[schema(value_type = Object, example = json!({"phone": {"from": null, "to": "+14155552671"}}))]
    changes: serde_json::Value,
}

/// Who did something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: UserId,
    pub name: String,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityEvent {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: AuditEventId,
    /// What happened (`action`) and its details (`changes`).
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = AuditEventDoc))]
    pub event: AuditEvent,
    /// The user who did it; `null` once that user is deleted, or when done from the command line.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub actor: Option<Actor>,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

impl<'de> Deserialize<'de> for ActivityEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The event's fields side by side, as they travel.
        #[derive(Deserialize)]
        struct Flat {
            id: AuditEventId,
            action: String,
            #[serde(default)]
            changes: Option<Box<RawValue>>,
            actor: Option<Actor>,
            #[serde(with = "crate::time::rfc3339")]
            created_at: DateTime<Utc>,
        }
        let flat = Flat::deserialize(deserializer)?;
        let parts = EventParts {
            action: flat.action,
            changes: flat.changes,
        };
        Ok(Self {
            id: flat.id,
            event: parts.decode()?,
            actor: flat.actor,
            created_at: flat.created_at,
        })
    }
}

/// A page of activity, newest first.
pub type ActivityPage = Page<ActivityEvent>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_travel_as_an_action_and_its_changes() -> Result<(), serde_json::Error> {
        let event = AuditEvent::InvoiceDeleted(InvoiceRef {
            invoice_id: InvoiceId::new(7),
            number: "2026-1".into(),
        });
        assert_eq!(
            serde_json::to_value(&event)?,
            json!({"action": "invoice.deleted", "changes": {"invoice_id": 7, "number": "2026-1"}})
        );
        let (action, changes) = AuditEvent::CustomerArchived {}.to_parts();
        assert_eq!((action.as_str(), changes), ("customer.archived", json!({})));
        Ok(())
    }

    #[test]
    fn stored_events_read_back_as_they_were_written() -> Result<(), serde_json::Error> {
        let changes = AccountChanges {
            role: Change::between(Role::Staff, Role::Admin),
            password: Some(PasswordReset::Reset),
            ..AccountChanges::default()
        };
        let event = AuditEvent::UserUpdated(changes);
        let (action, stored) = event.to_parts();
        assert_eq!(
            stored,
            json!({"role": {"from": "staff", "to": "admin"}, "password": "reset"})
        );
        assert_eq!(AuditEvent::from_parts(&action, stored)?, event);
        Ok(())
    }

    /// One event of every kind.
    fn one_of_each() -> Vec<AuditEvent> {
        let invoice = InvoiceRef {
            invoice_id: InvoiceId::new(7),
            number: "2026-1".into(),
        };
        vec![
            AuditEvent::CustomerCreated(CustomerFields {
                name: "Ada".into(),
                email: None,
                phone: Some("+14155552671".into()),
                whatsapp: None,
                timezone: "Europe/London".into(),
                notes: String::new(),
                sms_opt_out: false,
                whatsapp_opt_out: true,
            }),
            AuditEvent::CustomerUpdated(CustomerChanges {
                name: Change::between("Ada".into(), "Ada L".into()),
                ..CustomerChanges::default()
            }),
            AuditEvent::CustomerArchived {},
            AuditEvent::CustomerRestored {},
            AuditEvent::InvoiceCreated(InvoiceAdded {
                invoice_id: InvoiceId::new(7),
                number: "2026-1".into(),
                amount: "10.00".into(),
                currency: "EUR".into(),
            }),
            AuditEvent::InvoiceUpdated(invoice.clone()),
            AuditEvent::InvoiceReceiptReplaced(ReceiptReplaced {
                invoice_id: InvoiceId::new(7),
                original_name: "scan.png".into(),
            }),
            AuditEvent::InvoiceDeleted(invoice),
            AuditEvent::UserCreated(AccountCreated {
                name: "Grace".into(),
                email: "grace@example.com".into(),
                role: Role::Staff,
            }),
            AuditEvent::UserUpdated(AccountChanges {
                disabled: Change::between(false, true),
                ..AccountChanges::default()
            }),
            AuditEvent::PasswordChanged {},
            AuditEvent::TokenCreated(TokenMade {
                token_id: ApiTokenId::new(3),
                name: "backup".into(),
            }),
            AuditEvent::TokenRevoked(TokenRef {
                token_id: ApiTokenId::new(3),
            }),
            AuditEvent::MessageScheduled(MessageScheduled {
                message_id: MessageId::new(5),
                channel: Channel::Sms,
                recipient: "+14155552671".into(),
                send_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
            }),
            AuditEvent::MessageUpdated(MessageChanges {
                message_id: MessageId::new(5),
                send_at: Change::between("a".to_owned(), "b".to_owned()),
                fields: vec!["body".into()],
            }),
            AuditEvent::MessageCanceled(MessageCanceled {
                message_id: MessageId::new(5),
                reason: CancelReason::OptedOut,
            }),
            AuditEvent::MessageResent(MessageResent {
                message_id: MessageId::new(5),
                previous_status: "unknown".into(),
            }),
        ]
    }

    #[test]
    fn every_kind_of_event_reads_back_as_written() -> Result<(), serde_json::Error> {
        let events = one_of_each();
        assert_eq!(events.len(), ACTIONS.len());
        for event in events {
            let (action, changes) = event.to_parts();
            assert!(ACTIONS.contains(&action.as_str()), "{action}");
            assert_eq!(AuditEvent::from_parts(&action, changes)?, event);
            let text = serde_json::to_string(&event)?;
            assert_eq!(serde_json::from_str::<AuditEvent>(&text)?, event);
        }
        Ok(())
    }

    #[test]
    fn an_unknown_action_or_wrong_details_are_errors() {
        let unknown = AuditEvent::from_parts("customer.teleported", json!({}));
        assert!(unknown.is_err());
        let wrong = AuditEvent::from_parts("invoice.deleted", json!({"number": 7}));
        assert!(wrong.is_err());
        let text = r#"{"changes": {"token_id": 3}, "action": "token.revoked"}"#;
        let event: Result<AuditEvent, _> = serde_json::from_str(text);
        assert_eq!(
            event.ok(),
            Some(AuditEvent::TokenRevoked(TokenRef {
                token_id: ApiTokenId::new(3)
            }))
        );
    }

    #[test]
    fn an_activity_event_flattens_its_action_and_changes() -> Result<(), serde_json::Error> {
        let json = json!({
            "id": 3, "action": "customer.updated",
            "changes": {"phone": {"from": null, "to": "+14155552671"}},
            "actor": {"id": 1, "name": "Ada"}, "created_at": "2026-12-01T10:00:00Z"
        });
        let event: ActivityEvent = serde_json::from_str(&json.to_string())?;
        let AuditEvent::CustomerUpdated(changes) = &event.event else {
            panic!("wrong variant: {:?}", event.event);
        };
        assert_eq!(changes.fields(), vec!["phone"]);
        assert_eq!(serde_json::to_value(&event)?, json);
        Ok(())
    }
}
