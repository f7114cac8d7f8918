//! Domain values and rules of Customer Manager.
//!
//! Every value that has a rule (a customer's name, an email address, an E.164 phone number, an
//! IANA time zone…) is a newtype with a private field and one checked constructor returning a
//! typed error whose `Display` is the message shown under the form field. Code past the edge
//! never re-checks.
//!
//! This crate does no I/O and builds for `wasm32-unknown-unknown`, so the web app runs the same
//! rules before it sends a request. The `server` feature (on by default) adds the full phone-number
//! metadata and the time-zone database; without it the browser gets lighter checks that give the
//! same messages, and the server stays the authority.

mod date;
mod email;
mod field_errors;
mod ids;
mod message;
mod money;
mod phone;
mod reminder;
mod send_at;
#[cfg(feature = "diesel")]
mod sql;
mod text;
mod timezone;
mod user;

pub use date::{IssueDate, IssueDateError};
pub use email::{EmailAddress, EmailError};
pub use field_errors::FieldErrors;
pub use ids::{ApiTokenId, AuditEventId, CustomerId, InvoiceId, MessageId, ReminderId, UserId};
pub use message::{
    Channel, ChannelError, MessageText, MessageTextError, SmsEncoding, SmsLength, TemplateSid,
    TemplateSidError, TemplateVariables, TemplateVariablesError, sms_length,
};
pub use money::{Amount, AmountError, Currency, CurrencyError, Total};
pub use phone::{PhoneError, PhoneNumber, Region, RegionError};
pub use reminder::{Snooze, SnoozeError};
#[cfg(feature = "server")]
pub use send_at::parse_send_at;
pub use send_at::{SendAtError, SendWindow};
pub use text::{CustomerName, InvoiceNumber, Notes, ReminderNote, TextError, TokenName, UserName};
pub use timezone::{TimeZone, TimeZoneError};
pub use user::{Password, PasswordError, Role, RoleError};

/// The message for a field that must be present.
pub const REQUIRED: &str = "This field is required.";
