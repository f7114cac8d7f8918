//! Argon2id password hashing.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use crm_domain::Password;

/// Hashes a new password with Argon2id (the crate's default parameters: 19 MiB, 2 passes).
pub fn hash(password: &Password) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
}

/// [`hash`] on a blocking thread (it takes tens of milliseconds of CPU by design), for async
/// handlers.
pub async fn hash_off_thread(password: Password) -> Result<String, crate::error::ApiError> {
    use crate::error::ApiError;
    actix_web::web::block(move || hash(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(anyhow::anyhow!("hashing failed: {e}")))
}

/// Whether `password` matches `stored`; an unreadable stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time of one verification when there is no account, so response times don't
/// reveal which email addresses have accounts.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        Password::parse("dummy password for timing")
            .ok()
            .and_then(|p| hash(&p).ok())
            .unwrap_or_default()
    });
    let _ = verify(password, &DUMMY);
}

/// The user `password` signs in as: an enabled account whose hash it matches. Takes the time of
/// one verification whether or not the account exists.
pub fn verify_user(
    user: Option<crm_db::users::User>,
    password: &str,
) -> Option<crm_db::users::User> {
    match user {
        Some(user) if user.disabled_at.is_none() && verify(password, &user.password_hash) => {
            Some(user)
        }
        Some(_) => None,
        None => {
            verify_against_nothing(password);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let password = Password::parse("correct horse battery").unwrap();
        let stored = hash(&password).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse battery!", &stored));
        assert!(!verify("anything", "not a hash"));
    }
}
