//! Authentication: passwords, secrets, cookies, and the extractor that says who is asking.

pub mod cookies;
mod current_user;
pub mod login_limit;
pub mod password;
pub mod secrets;

pub use current_user::{AuthMethod, CurrentUser, authenticate};
