//! The contract of the Customer Manager API: every request and response body, the paged list,
//! the problem body, typed ids and the audit events, exactly as they travel as JSON.
//!
//! The server (`crm-api`) and the web app (`crm-frontend`) both use these types, so the two
//! cannot drift. It depends on serde and chrono only; the `openapi` feature adds
//! `utoipa::ToSchema` derives for the server's OpenAPI description, and the browser leaves it
//! off.

pub mod activity;
pub mod auth;
pub mod customers;
pub mod health;
pub mod invoices;
pub mod live;
pub mod messages;
pub mod page;
pub mod problem;
pub mod reminders;
pub mod time;
pub mod tokens;
pub mod users;

pub use activity::{ActivityEvent, ActivityPage, Actor, AuditEvent, Change};
pub use crm_domain::{
    ApiTokenId, AuditEventId, CustomerId, InvoiceId, MessageId, ReminderId, Role, UserId,
};
pub use page::{Page, Total};
pub use problem::Problem;

/// Paths of the API, built in one place for the server's `Location` headers and the web app.
pub mod paths {
    use crm_domain::{CustomerId, InvoiceId, MessageId, ReminderId};

    /// The prefix of every versioned endpoint.
    pub const PREFIX: &str = "/api/v1";

    /// `/api/v1/customers/{id}`.
    pub fn customer(id: CustomerId) -> String {
        format!("{PREFIX}/customers/{id}")
    }

    /// `/api/v1/invoices/{id}`.
    pub fn invoice(id: InvoiceId) -> String {
        format!("{PREFIX}/invoices/{id}")
    }

    /// `/api/v1/messages/{id}`.
    pub fn message(id: MessageId) -> String {
        format!("{PREFIX}/messages/{id}")
    }

    /// `/api/v1/reminders/{id}`.
    pub fn reminder(id: ReminderId) -> String {
        format!("{PREFIX}/reminders/{id}")
    }

    /// `/api/v1/invoices/{id}/receipt`: the invoice's PDF.
    pub fn receipt(id: InvoiceId) -> String {
        format!("{PREFIX}/invoices/{id}/receipt")
    }
}
