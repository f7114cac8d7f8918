//! The API's JSON shapes, as the web app reads and writes them.

use serde::{Deserialize, Serialize};

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
}

/// The answer to sign-in and first-run setup.
#[derive(Debug, Clone, Deserialize)]
pub struct SignedIn {
    pub user: User,
}

/// Whether first-run setup is needed.
#[derive(Debug, Clone, Deserialize)]
pub struct SetupStatus {
    pub needed: bool,
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub whatsapp: Option<String>,
    pub timezone: String,
    pub notes: String,
    pub sms_opt_out: bool,
    pub whatsapp_opt_out: bool,
    pub created_at: String,
    pub updated_at: String,
    pub archived_at: Option<String>,
}

/// A page of customers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CustomerPage {
    pub items: Vec<Customer>,
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// The customer form's fields, sent on create and (all of them) on edit.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerInput {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub whatsapp: String,
    pub timezone: String,
    pub notes: String,
    pub sms_opt_out: bool,
    pub whatsapp_opt_out: bool,
}

/// Who did something.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Actor {
    pub name: String,
}

/// One entry of a customer's activity.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ActivityEvent {
    pub id: i64,
    pub action: String,
    pub actor: Option<Actor>,
    pub changes: serde_json::Value,
    pub created_at: String,
}

/// A page of activity.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ActivityPage {
    pub items: Vec<ActivityEvent>,
    pub next_cursor: Option<String>,
    pub total: i64,
}

/// An API token, without its secret.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// The user's tokens.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TokenList {
    pub items: Vec<Token>,
}

/// A new token with its secret, shown once.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedToken {
    pub name: String,
    pub token: String,
}

/// The stored receipt of an invoice.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReceiptInfo {
    pub url: String,
    pub pages: i32,
    pub original_name: String,
}

/// An invoice.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Invoice {
    pub id: i64,
    pub number: String,
    pub amount: String,
    pub currency: String,
    pub issued_on: String,
    pub notes: String,
    pub receipt: ReceiptInfo,
}

/// A currency's total.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CurrencyTotal {
    pub currency: String,
    pub amount: String,
}

/// A page of a customer's invoices, with totals over all of them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InvoicePage {
    pub items: Vec<Invoice>,
    pub next_cursor: Option<String>,
    pub total: i64,
    pub totals: Vec<CurrencyTotal>,
}

/// A staff account, as admins see it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StaffAccount {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub disabled_at: Option<String>,
}

/// A page of staff accounts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StaffPage {
    pub items: Vec<StaffAccount>,
    pub next_cursor: Option<String>,
    pub total: i64,
}
