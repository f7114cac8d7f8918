//! Email addresses.

use serde::Serialize;

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Empty where an address is required.
    #[error("This field is required.")]
    Required,
    /// Longer than the 254 characters an address may have.
    #[error("Must be at most 254 characters.")]
    TooLong,
    /// Not of the form `name@example.com`.
    #[error("Enter a valid email address, such as name@example.com.")]
    Invalid,
}

/// An email address: trimmed, `local@domain` with a dotted domain, domain in lower case.
///
/// The local part is kept as written: mail servers may treat it case-sensitively, while
/// comparisons for sign-in are case-insensitive in the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
#[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
pub struct EmailAddress(String);

const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;

impl EmailAddress {
    /// Trims `input` and checks it.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(EmailError::Required);
        }
        if input.chars().count() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = input.rsplit_once('@').ok_or(EmailError::Invalid)?;
        if !is_valid_local_part(local) || !is_valid_domain(domain) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The checked address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The checked address, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The unquoted dot-atom form of RFC 5322: what real people's addresses use.
fn is_valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
        })
}

/// A host name with at least two labels and a top-level domain that is not all digits.
fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<&str> for EmailAddress {
    type Error = EmailError;
    fn try_from(input: &str) -> Result<Self, EmailError> {
        Self::parse(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        let parsed =
            EmailAddress::parse("  Ada.Lovelace+crm@Example.CO.uk ").map(|e| e.into_inner());
        assert_eq!(parsed, Ok("Ada.Lovelace+crm@example.co.uk".to_owned()));
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada@exa mple.com",
            "ada..x@example.com",
            ".ada@example.com",
            "ada@-example.com",
            "ada@example.123",
            "ada@example..com",
            "a\"b@example.com",
            "ada@example.c",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
    }

    #[test]
    fn an_empty_address_is_required_and_a_huge_one_too_long() {
        assert_eq!(EmailAddress::parse("  "), Err(EmailError::Required));
        let huge = format!("{}@example.com", "a".repeat(300));
        assert_eq!(EmailAddress::parse(&huge), Err(EmailError::TooLong));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(EmailAddress::parse(&long_local), Err(EmailError::Invalid));
    }

    proptest! {
        #[test]
        fn generated_addresses_round_trip(
            local in "[a-zA-Z0-9_%+-]{1,20}(\\.[a-zA-Z0-9_%+-]{1,10}){0,2}",
            domain in "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\\.[a-z0-9]{1,10}){0,2}\\.[a-z]{2,8}",
        ) {
            let address = format!("{local}@{domain}");
            let parsed = EmailAddress::parse(&address);
            prop_assert_eq!(parsed.clone().map(EmailAddress::into_inner), Ok(address));
            let again = parsed.and_then(|p| EmailAddress::parse(p.as_str()));
            prop_assert!(again.is_ok());
        }

        #[test]
        fn whatever_parses_parses_again_to_itself(input in "\\PC{0,80}") {
            if let Ok(email) = EmailAddress::parse(&input) {
                prop_assert_eq!(EmailAddress::parse(email.as_str()), Ok(email));
            }
        }
    }
}
