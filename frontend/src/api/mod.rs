//! The typed API client: one function per endpoint the web app uses, grouped by resource
//! (`api::customers::create`, `api::invoices::remove`…), each taking and returning the
//! `crm-contract` bodies. Pages call these and nothing else: paths, query strings, the CSRF
//! header, problem bodies and the upload with progress stay inside this module.

pub mod auth;
pub mod customers;
pub mod invoices;
pub mod live;
pub mod messages;
mod paths;
pub mod reminders;
pub mod setup;
pub mod tokens;
mod transport;
pub mod users;

use crm_domain::FieldErrors;

pub use transport::on_unauthorized;

/// Why a request failed, as the pages show it.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server could not be reached; what the user typed is kept.
    Network,
    /// The session is gone; the app asks to sign in again.
    Unauthorized,
    /// Fields with their messages, shown under each input.
    Invalid(FieldErrors),
    /// Any other problem, with its status and human text.
    Problem { status: u16, message: String },
}

impl ApiError {
    /// One sentence for a toast.
    pub fn message(&self) -> String {
        match self {
            Self::Network => {
                "Cannot reach the server. Check your connection and try again; nothing was lost."
                    .into()
            }
            Self::Unauthorized => "Your session has ended. Sign in again.".into(),
            Self::Invalid(_) => "Please correct the highlighted fields.".into(),
            Self::Problem { message, .. } => message.clone(),
        }
    }
}

/// Which page of a list to fetch: at most `limit` items, starting at `cursor` (the
/// `next_cursor` of the page before) or, without one, at the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub limit: u32,
    pub cursor: Option<String>,
}

impl Paging {
    /// The first `limit` items.
    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            cursor: None,
        }
    }

    /// `limit` items from `cursor` on.
    pub fn after(limit: u32, cursor: String) -> Self {
        Self {
            limit,
            cursor: Some(cursor),
        }
    }
}
