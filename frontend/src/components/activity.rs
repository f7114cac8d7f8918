//! An audit trail as a list: who did what, when. Customers' and accounts' trails alike.

use chrono::{DateTime, Utc};
use crm_contract::activity::{
    AccountChanges, AccountCreated, CancelReason, CustomerChanges, InvoiceAdded, InvoiceRef,
    MessageCanceled, MessageScheduled, TokenMade,
};
use crm_contract::{ActivityPage, AuditEvent};
use crm_domain::Channel;
use leptos::prelude::*;

use crate::wall_clock::local_date_time;

/// The events of `page`, newest first, each said in words.
#[component]
pub fn ActivityList(page: ActivityPage) -> impl IntoView {
    if page.items.is_empty() {
        return view! { <p class="text-muted">"Nothing yet."</p> }.into_any();
    }
    view! {
        <ul class="list-group" id="activity">
            {page.items.into_iter().map(|event| {
                let who = event.actor.map(|a| a.name).unwrap_or_else(|| "Someone".to_owned());
                let what = describe(&event.event);
                view! {
                    <li class="list-group-item">
                        <div>{format!("{who} {what}")}</div>
                        <small class="text-muted">{to_the_minute(event.created_at)}</small>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// "changed email, phone", "made it admin, reset its password" and the like.
fn describe(event: &AuditEvent) -> String {
    match event {
        AuditEvent::CustomerCreated(_) => "added the customer".to_owned(),
        AuditEvent::CustomerUpdated(changes) => changed_fields(customer_fields(changes)),
        AuditEvent::CustomerArchived {} => "archived the customer".to_owned(),
        AuditEvent::CustomerRestored {} => "restored the customer".to_owned(),
        AuditEvent::InvoiceCreated(InvoiceAdded { number, .. }) => {
            format!("added {}", invoice(number))
        }
        AuditEvent::InvoiceUpdated(InvoiceRef { number, .. }) => {
            format!("changed {}", invoice(number))
        }
        AuditEvent::InvoiceDeleted(InvoiceRef { number, .. }) => {
            format!("deleted {}", invoice(number))
        }
        AuditEvent::InvoiceReceiptReplaced(_) => "replaced the receipt of an invoice".to_owned(),
        AuditEvent::UserCreated(AccountCreated { role, .. }) => {
            format!("created the account ({})", role.as_str())
        }
        AuditEvent::UserUpdated(changes) => account_changes(changes),
        AuditEvent::PasswordChanged {} => "changed their password".to_owned(),
        AuditEvent::TokenCreated(TokenMade { name, .. }) if name.is_empty() => {
            "made an API token".to_owned()
        }
        AuditEvent::TokenCreated(TokenMade { name, .. }) => {
            format!("made the API token \u{201c}{name}\u{201d}")
        }
        AuditEvent::TokenRevoked(_) => "revoked an API token".to_owned(),
        AuditEvent::MessageScheduled(MessageScheduled {
            channel, send_at, ..
        }) => format!(
            "scheduled {} for {}",
            channel_name(*channel),
            to_the_minute(*send_at)
        ),
        AuditEvent::MessageUpdated(_) => "changed a scheduled message".to_owned(),
        AuditEvent::MessageCanceled(MessageCanceled { reason, .. }) => match reason {
            CancelReason::Requested => "canceled a message".to_owned(),
            CancelReason::CustomerArchived => {
                "canceled a message (the customer was archived)".to_owned()
            }
            CancelReason::OptedOut => "canceled a message (the customer opted out)".to_owned(),
        },
        AuditEvent::MessageResent(_) => "sent a message again".to_owned(),
    }
}

/// A moment of the trail in the browser's time zone and format, to the minute like the rest of
/// the app's times.
fn to_the_minute(at: DateTime<Utc>) -> String {
    local_date_time(at.timestamp_millis() as f64)
}

/// "an SMS" or "a WhatsApp message".
fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "an SMS",
        Channel::Whatsapp => "a WhatsApp message",
    }
}

/// "invoice 2026-1", or "an invoice" when it has no number.
fn invoice(number: &str) -> String {
    if number.is_empty() {
        "an invoice".to_owned()
    } else {
        format!("invoice {number}")
    }
}

/// The changed fields of a customer in alphabetical order, as the trail has always listed them
/// (the order of the keys of the `changes` object when it was read as a JSON map).
fn customer_fields(changes: &CustomerChanges) -> Vec<&'static str> {
    let changed = changes.fields();
    ALPHABETICAL
        .into_iter()
        .filter(|field| changed.contains(field))
        .collect()
}

/// A customer's fields, sorted by name.
const ALPHABETICAL: [&str; 8] = [
    "email",
    "name",
    "notes",
    "phone",
    "sms_opt_out",
    "timezone",
    "whatsapp",
    "whatsapp_opt_out",
];

/// "changed sms opt out, whatsapp".
fn changed_fields(fields: Vec<&'static str>) -> String {
    let fields: Vec<String> = fields.iter().map(|f| f.replace('_', " ")).collect();
    format!("changed {}", fields.join(", "))
}

/// What an admin did to an account, in words.
fn account_changes(changes: &AccountChanges) -> String {
    let mut said = Vec::new();
    if let Some(role) = &changes.role {
        said.push(format!("made it {}", role.to.as_str()));
    }
    if let Some(name) = &changes.name {
        said.push(format!("renamed it {}", name.to));
    }
    match changes.disabled.as_ref().map(|d| d.to) {
        Some(true) => said.push("disabled it".to_owned()),
        Some(false) => said.push("enabled it".to_owned()),
        None => {}
    }
    if changes.password.is_some() {
        said.push("reset its password".to_owned());
    }
    if said.is_empty() {
        // Nothing recorded as changed.
        changed_fields(Vec::new())
    } else {
        said.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use crm_contract::activity::{
        Change, CustomerFields, PasswordReset, ReceiptReplaced, TokenRef,
    };
    use crm_contract::{ApiTokenId, InvoiceId, Role};

    use super::*;

    #[test]
    fn account_changes_are_said_in_words() {
        let promoted = AuditEvent::UserUpdated(AccountChanges {
            role: Change::between(Role::Staff, Role::Admin),
            password: Some(PasswordReset::Reset),
            ..AccountChanges::default()
        });
        assert_eq!(describe(&promoted), "made it admin, reset its password");
        let disabled = AuditEvent::UserUpdated(AccountChanges {
            disabled: Change::between(false, true),
            ..AccountChanges::default()
        });
        assert_eq!(describe(&disabled), "disabled it");
        let enabled = AuditEvent::UserUpdated(AccountChanges {
            disabled: Change::between(true, false),
            ..AccountChanges::default()
        });
        assert_eq!(describe(&enabled), "enabled it");
        let renamed = AuditEvent::UserUpdated(AccountChanges {
            name: Change::between("Grace".to_owned(), "Grace Hopper".to_owned()),
            ..AccountChanges::default()
        });
        assert_eq!(describe(&renamed), "renamed it Grace Hopper");
        let created = AuditEvent::UserCreated(AccountCreated {
            name: "Grace Hopper".into(),
            email: "grace@example.com".into(),
            role: Role::Staff,
        });
        assert_eq!(describe(&created), "created the account (staff)");
        assert_eq!(
            describe(&AuditEvent::PasswordChanged {}),
            "changed their password"
        );
    }

    #[test]
    fn tokens_are_said_with_their_names() {
        let made = AuditEvent::TokenCreated(TokenMade {
            token_id: ApiTokenId::new(3),
            name: "backup".into(),
        });
        assert_eq!(describe(&made), "made the API token \u{201c}backup\u{201d}");
        let revoked = AuditEvent::TokenRevoked(TokenRef {
            token_id: ApiTokenId::new(3),
        });
        assert_eq!(describe(&revoked), "revoked an API token");
    }

    #[test]
    fn customer_changes_list_their_fields_alphabetically() {
        let changes = CustomerChanges {
            phone: Change::between(None, Some("+14155552671".to_owned())),
            sms_opt_out: Change::between(false, true),
            ..CustomerChanges::default()
        };
        assert_eq!(
            describe(&AuditEvent::CustomerUpdated(changes)),
            "changed phone, sms opt out"
        );
        let changes = CustomerChanges {
            phone: Change::between(None, Some("+14155552671".to_owned())),
            email: Change::between(None, Some("ada@example.com".to_owned())),
            notes: Change::between(String::new(), "Prefers mornings.".to_owned()),
            whatsapp_opt_out: Change::between(false, true),
            ..CustomerChanges::default()
        };
        assert_eq!(
            describe(&AuditEvent::CustomerUpdated(changes)),
            "changed email, notes, phone, whatsapp opt out"
        );
        let added = AuditEvent::CustomerCreated(CustomerFields {
            name: "Ada Lovelace".into(),
            email: None,
            phone: None,
            whatsapp: None,
            timezone: "UTC".into(),
            notes: String::new(),
            sms_opt_out: false,
            whatsapp_opt_out: false,
        });
        assert_eq!(describe(&added), "added the customer");
        assert_eq!(
            describe(&AuditEvent::CustomerArchived {}),
            "archived the customer"
        );
        assert_eq!(
            describe(&AuditEvent::CustomerRestored {}),
            "restored the customer"
        );
    }

    #[test]
    fn invoices_are_named_by_number_when_they_have_one() {
        let id = InvoiceId::new(7);
        let added = AuditEvent::InvoiceCreated(InvoiceAdded {
            invoice_id: id,
            number: "2026-1".into(),
            amount: "1234.50".into(),
            currency: "EUR".into(),
        });
        assert_eq!(describe(&added), "added invoice 2026-1");
        let unnumbered = AuditEvent::InvoiceCreated(InvoiceAdded {
            invoice_id: id,
            number: String::new(),
            amount: "1234.50".into(),
            currency: "EUR".into(),
        });
        assert_eq!(describe(&unnumbered), "added an invoice");
        let changed = AuditEvent::InvoiceUpdated(InvoiceRef {
            invoice_id: id,
            number: "2026-0042".into(),
        });
        assert_eq!(describe(&changed), "changed invoice 2026-0042");
        let replaced = AuditEvent::InvoiceReceiptReplaced(ReceiptReplaced {
            invoice_id: id,
            original_name: "rgb.png".into(),
        });
        assert_eq!(describe(&replaced), "replaced the receipt of an invoice");
        let deleted = AuditEvent::InvoiceDeleted(InvoiceRef {
            invoice_id: id,
            number: "2026-0042".into(),
        });
        assert_eq!(describe(&deleted), "deleted invoice 2026-0042");
    }

    #[test]
    fn the_alphabetical_order_names_every_customer_field() {
        let mut sorted = ALPHABETICAL;
        sorted.sort_unstable();
        assert_eq!(sorted, ALPHABETICAL);
        let every = CustomerChanges {
            name: Change::between("A".to_owned(), "B".to_owned()),
            email: Change::between(None, Some("a@b.co".to_owned())),
            phone: Change::between(None, Some("+14155552671".to_owned())),
            whatsapp: Change::between(None, Some("+14155552671".to_owned())),
            timezone: Change::between("UTC".to_owned(), "Europe/Paris".to_owned()),
            notes: Change::between(String::new(), "x".to_owned()),
            sms_opt_out: Change::between(false, true),
            whatsapp_opt_out: Change::between(false, true),
        };
        assert_eq!(customer_fields(&every), ALPHABETICAL);
    }

    /// The same words as before the events were typed, read from the JSON the server sends.
    #[test]
    fn events_read_from_the_wire_are_said_as_before() -> Result<(), serde_json::Error> {
        let event: AuditEvent = serde_json::from_value(serde_json::json!({
            "action": "customer.updated",
            "changes": {"whatsapp": {"from": null, "to": "+14155552671"}, "email": {"from": "a@b.co", "to": null}}
        }))?;
        assert_eq!(describe(&event), "changed email, whatsapp");
        Ok(())
    }
}
