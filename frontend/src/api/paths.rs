//! Every path the web app calls, built in one place, and their query strings.

use crm_contract::paths::PREFIX;
use crm_contract::{ApiTokenId, CustomerId, InvoiceId, MessageId, ReminderId, UserId};

use super::Paging;

pub(super) fn me() -> String {
    format!("{PREFIX}/auth/me")
}

/// The one path whose 401 means a wrong password, not an ended session.
pub(super) fn login() -> String {
    format!("{PREFIX}/auth/login")
}

pub(super) fn logout() -> String {
    format!("{PREFIX}/auth/logout")
}

pub(super) fn password() -> String {
    format!("{PREFIX}/auth/password")
}

pub(super) fn setup() -> String {
    format!("{PREFIX}/setup")
}

pub(super) fn customers() -> String {
    format!("{PREFIX}/customers")
}

pub(super) fn customer(id: CustomerId) -> String {
    crm_contract::paths::customer(id)
}

pub(super) fn customer_archive(id: CustomerId) -> String {
    format!("{}/archive", customer(id))
}

pub(super) fn customer_restore(id: CustomerId) -> String {
    format!("{}/restore", customer(id))
}

pub(super) fn customer_activity(id: CustomerId) -> String {
    format!("{}/activity", customer(id))
}

pub(super) fn customer_invoices(id: CustomerId) -> String {
    format!("{}/invoices", customer(id))
}

pub(super) fn invoice(id: InvoiceId) -> String {
    crm_contract::paths::invoice(id)
}

pub(super) fn customer_messages(id: CustomerId) -> String {
    format!("{}/messages", customer(id))
}

pub(super) fn messages() -> String {
    format!("{PREFIX}/messages")
}

pub(super) fn message(id: MessageId) -> String {
    crm_contract::paths::message(id)
}

pub(super) fn message_cancel(id: MessageId) -> String {
    format!("{}/cancel", message(id))
}

pub(super) fn message_resend(id: MessageId) -> String {
    format!("{}/resend", message(id))
}

pub(super) fn message_templates() -> String {
    format!("{PREFIX}/message-templates")
}

pub(super) fn reminders() -> String {
    format!("{PREFIX}/reminders")
}

pub(super) fn reminder(id: ReminderId) -> String {
    crm_contract::paths::reminder(id)
}

pub(super) fn reminder_dismiss(id: ReminderId) -> String {
    format!("{}/dismiss", reminder(id))
}

pub(super) fn reminder_snooze(id: ReminderId) -> String {
    format!("{}/snooze", reminder(id))
}

/// The live-event stream (Server-Sent Events).
pub(super) fn events() -> String {
    format!("{PREFIX}/events")
}

pub(super) fn tokens() -> String {
    format!("{PREFIX}/tokens")
}

pub(super) fn token(id: ApiTokenId) -> String {
    format!("{PREFIX}/tokens/{id}")
}

pub(super) fn users() -> String {
    format!("{PREFIX}/users")
}

pub(super) fn user(id: UserId) -> String {
    format!("{PREFIX}/users/{id}")
}

pub(super) fn user_activity(id: UserId) -> String {
    format!("{}/activity", user(id))
}

/// A query string, each value percent-encoded.
#[derive(Debug, Default)]
pub(super) struct Query(String);

impl Query {
    /// Adds `name=value`.
    pub(super) fn with(mut self, name: &str, value: &str) -> Self {
        self.0.push(if self.0.is_empty() { '?' } else { '&' });
        self.0.push_str(name);
        self.0.push('=');
        self.0.push_str(&percent_encode(value));
        self
    }

    /// Adds `name=value` when there is a value.
    pub(super) fn with_some(self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.with(name, value),
            None => self,
        }
    }

    /// Adds `limit` and, past the first page, `cursor`.
    pub(super) fn with_paging(self, paging: &Paging) -> Self {
        self.with("limit", &paging.limit.to_string())
            .with_some("cursor", paging.cursor.as_deref())
    }

    /// `path` with this query.
    pub(super) fn on(self, path: String) -> String {
        path + &self.0
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_and_absent_ones_left_out() {
        let path = Query::default()
            .with("q", "Zoë & co")
            .with_some("archived", None)
            .with_paging(&Paging::after(20, "a+b/c=".into()))
            .on(customers());
        assert_eq!(
            path,
            "/api/v1/customers?q=Zo%C3%AB%20%26%20co&limit=20&cursor=a%2Bb%2Fc%3D"
        );
        assert_eq!(
            Query::default()
                .with_paging(&Paging::first(50))
                .on(user_activity(UserId::new(3))),
            "/api/v1/users/3/activity?limit=50"
        );
        assert_eq!(
            Query::default()
                .with("status", "scheduled,sending")
                .on(messages()),
            "/api/v1/messages?status=scheduled%2Csending"
        );
        assert_eq!(
            message_cancel(MessageId::new(7)),
            "/api/v1/messages/7/cancel"
        );
        assert_eq!(
            reminder_snooze(ReminderId::new(4)),
            "/api/v1/reminders/4/snooze"
        );
        assert_eq!(
            Query::default()
                .with("state", "due")
                .with("customer_id", "42")
                .on(reminders()),
            "/api/v1/reminders?state=due&customer_id=42"
        );
    }
}
