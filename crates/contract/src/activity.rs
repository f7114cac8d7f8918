//! Audit trails: what was done to a customer or an account, by whom and when.
//!
//! [`AuditEvent`] is the one list of kinds of change. It travels as `{"action": "…",
//! "changes": {…}}`, is stored the same way, and the web app says each in words with a
//! `match` the compiler checks.

use chrono::{DateTime, Utc};
use crm_domain::{ApiTokenId, AuditEventId, InvoiceId, Role, UserId};
use serde::{Deserialize, Serialize};

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

/// One kind of recorded change, with its details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    InvoiceCreated {
        invoice_id: InvoiceId,
        number: String,
        amount: String,
        currency: String,
    },
    /// An invoice's fields changed.
    #[serde(rename = "invoice.updated")]
    InvoiceUpdated {
        invoice_id: InvoiceId,
        number: String,
    },
    /// An invoice got a new receipt.
    #[serde(rename = "invoice.receipt_replaced")]
    InvoiceReceiptReplaced {
        invoice_id: InvoiceId,
        original_name: String,
    },
    /// An invoice and its receipt were deleted.
    #[serde(rename = "invoice.deleted")]
    InvoiceDeleted {
        invoice_id: InvoiceId,
        number: String,
    },
    /// An account was created.
    #[serde(rename = "user.created")]
    UserCreated {
        name: String,
        email: String,
        role: Role,
    },
    /// An admin changed an account.
    #[serde(rename = "user.updated")]
    UserUpdated(AccountChanges),
    /// A user changed their own password.
    #[serde(rename = "user.password_changed")]
    PasswordChanged {},
    /// A user made an API token.
    #[serde(rename = "token.created")]
    TokenCreated { token_id: ApiTokenId, name: String },
    /// A user revoked an API token.
    #[serde(rename = "token.revoked")]
    TokenRevoked { token_id: ApiTokenId },
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
        serde_json::from_value(serde_json::json!({"action": action, "changes": changes}))
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
    /// `user.password_changed`, `token.created`, `token.revoked`.
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub created_at: DateTime<Utc>,
}

/// A page of activity, newest first.
pub type ActivityPage = Page<ActivityEvent>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_travel_as_an_action_and_its_changes() -> Result<(), serde_json::Error> {
        let event = AuditEvent::InvoiceDeleted {
            invoice_id: InvoiceId::new(7),
            number: "2026-1".into(),
        };
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

    #[test]
    fn an_activity_event_flattens_its_action_and_changes() -> Result<(), serde_json::Error> {
        let json = json!({
            "id": 3, "action": "customer.updated",
            "changes": {"phone": {"from": null, "to": "+14155552671"}},
            "actor": {"id": 1, "name": "Ada"}, "created_at": "2026-12-01T10:00:00Z"
        });
        let event: ActivityEvent = serde_json::from_value(json.clone())?;
        let AuditEvent::CustomerUpdated(changes) = &event.event else {
            panic!("wrong variant: {:?}", event.event);
        };
        assert_eq!(changes.fields(), vec!["phone"]);
        assert_eq!(serde_json::to_value(&event)?, json);
        Ok(())
    }
}
