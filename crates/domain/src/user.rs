//! Users: roles and passwords.

use serde::{Deserialize, Serialize};

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than the minimum.
    #[error("Use at least {min} characters.")]
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// Longer than hashing should be asked to process.
    #[error("Must be at most {max} characters.")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// On the list of the most common passwords (checked by the server only).
    #[error("This password is too common; choose one that is harder to guess.")]
    TooCommon,
}

/// The 10,000 most common passwords, lower-cased (`data/common-passwords.txt`, which says
/// where the list comes from). Only the server carries it: the browser build stays small, and
/// the server's answer shows the same message under the field.
#[cfg(feature = "server")]
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Whether `input` is on the common-password list, ignoring case.
#[cfg(feature = "server")]
fn is_common(input: &str) -> bool {
    let lowered = input.to_lowercase();
    COMMON_PASSWORDS
        .lines()
        .filter(|line| !line.starts_with("# "))
        .any(|line| line == lowered)
}

#[cfg(not(feature = "server"))]
fn is_common(_input: &str) -> bool {
    false
}

/// A new password, as typed (never trimmed). Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The shortest accepted password, in characters.
    pub const MIN_CHARS: usize = 10;
    /// The longest accepted password, in characters.
    pub const MAX_CHARS: usize = 256;

    /// Checks a new password's length and, on the server, that it is not one of the 10,000
    /// most common ones (OWASP ASVS 6.2.4).
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        let chars = input.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(PasswordError::TooShort {
                min: Self::MIN_CHARS,
            });
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        if is_common(input) {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(input.to_owned()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Why a role was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Must be admin or staff.")]
pub struct RoleError;

/// What a user may do: admins also manage users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
#[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages users as well as customers.
    Admin,
    /// Works with customers.
    Staff,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Staff => "staff",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(input: &str) -> Result<Self, RoleError> {
        match input {
            "admin" => Ok(Self::Admin),
            "staff" => Ok(Self::Staff),
            _ => Err(RoleError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_password_needs_ten_characters_and_is_never_printed() {
        assert_eq!(
            Password::parse("short"),
            Err(PasswordError::TooShort { min: 10 })
        );
        let password = Password::parse("correct horse battery");
        assert!(password.is_ok());
        assert!(!format!("{password:?}").contains("horse"));
        assert_eq!(
            Password::parse(&"x".repeat(257)),
            Err(PasswordError::TooLong { max: 256 })
        );
    }

    #[cfg(feature = "server")]
    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in ["1234567890", "qwertyuiop", "UNBELIEVABLE", "Basketball"] {
            assert_eq!(
                Password::parse(common),
                Err(PasswordError::TooCommon),
                "{common}"
            );
        }
        assert!(Password::parse("basketball tuesday").is_ok());
        assert!(
            COMMON_PASSWORDS
                .lines()
                .filter(|l| !l.starts_with("# "))
                .count()
                >= 9_990
        );
    }

    #[test]
    fn roles_round_trip_through_their_spelling() {
        for role in [Role::Admin, Role::Staff] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("root"), Err(RoleError));
    }

    proptest! {
        #[test]
        fn a_password_keeps_its_exact_text(input in "\\PC{10,60}") {
            let password = Password::parse(&input);
            prop_assert_eq!(password.map(|p| p.expose().to_owned()), Ok(input));
        }
    }
}
