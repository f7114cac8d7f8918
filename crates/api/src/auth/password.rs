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

/// A hash of nothing anyone knows, made once with the same parameters as real ones, so that a
/// sign-in for an unknown or disabled account takes as long as a wrong password.
static DUMMY: LazyLock<String> = LazyLock::new(|| {
    let random = super::secrets::generate();
    Password::parse(&random)
        .ok()
        .and_then(|p| hash(&p).ok())
        .unwrap_or_default()
});

/// Makes the dummy hash now (at start-up), not during the first sign-in it would slow down.
pub fn warm_up() {
    LazyLock::force(&DUMMY);
}

/// Whether `password` matches `stored`; with no stored hash (no such account, or one that may
/// not sign in) it spends the same time on the dummy hash and answers `false`.
pub fn verify_or_dummy(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(stored) => verify(password, stored),
        None => {
            let _ = verify(password, &DUMMY);
            false
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

    #[test]
    fn the_dummy_hash_is_a_real_one_that_nothing_matches() {
        assert!(DUMMY.starts_with("$argon2id$"));
        assert!(!verify_or_dummy("", None));
        assert!(!verify_or_dummy("correct horse battery", None));
    }
}
