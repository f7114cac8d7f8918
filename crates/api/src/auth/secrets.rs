//! Random secrets (session ids, CSRF tokens, API tokens) and the hashes stored for them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A fresh 256-bit secret, URL-safe base64.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a secret: its SHA-256. Secrets are random 256-bit values, so a fast hash
/// is enough; a stolen table can't be turned back into working cookies or tokens.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Whether `secret` hashes to `stored`, in constant time.
pub fn matches(secret: &str, stored: &[u8]) -> bool {
    hash(secret).ct_eq(stored).into()
}

/// The prefix every API token starts with, so leaked tokens are easy to spot.
pub const API_TOKEN_PREFIX: &str = "crm_";

/// A new API token: the prefix and a random secret.
pub fn generate_api_token() -> String {
    format!("{API_TOKEN_PREFIX}{}", generate())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_match_only_their_hash() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(matches(&a, &hash(&a)));
        assert!(!matches(&b, &hash(&a)));
    }

    #[test]
    fn api_tokens_carry_their_prefix() {
        assert!(generate_api_token().starts_with("crm_"));
    }
}
