//! Authentication: passwords, secrets, cookies, and the extractor that says who is asking.

pub mod admin;
pub mod cookies;
mod current_user;
pub mod login_limit;
pub mod password;
pub mod required;
pub mod secrets;

pub use admin::{Admin, AdminOrSelf};
pub use current_user::{AuthMethod, CurrentUser, authenticate};
