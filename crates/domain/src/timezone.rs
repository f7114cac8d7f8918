//! IANA time zones.

use serde::Serialize;

/// Why a time zone was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeZoneError {
    /// Empty where a zone is required.
    #[error("This field is required.")]
    Required,
    /// Not a zone of the IANA database.
    #[error("Unknown time zone: use an IANA name such as Europe/Berlin.")]
    Unknown,
}

/// An IANA time zone name such as `Europe/Berlin`, in its canonical spelling.
///
/// With the `server` feature the name is looked up in the time-zone database; without it
/// (the browser) only its shape is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TimeZone(String);

impl TimeZone {
    /// Checks `input` (trimmed) against the time-zone database.
    pub fn parse(input: &str) -> Result<Self, TimeZoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(TimeZoneError::Required);
        }
        let shape_ok = input.len() <= 64
            && input
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
        if !shape_ok {
            return Err(TimeZoneError::Unknown);
        }
        lookup(input).map(Self)
    }

    /// The UTC zone.
    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }

    /// A zone read back from storage (a user's, a customer's): UTC when there is none, or
    /// when the time-zone database no longer knows it.
    pub fn stored_or_utc(name: Option<&str>) -> Self {
        name.and_then(|name| Self::parse(name).ok())
            .unwrap_or_else(Self::utc)
    }

    /// The zone's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone's name, owned.
    pub fn into_inner(self) -> String {
        self.0
    }

    /// The zone as a `chrono-tz` zone, for date arithmetic on the server.
    #[cfg(feature = "server")]
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0.parse().unwrap_or(chrono_tz::UTC)
    }
}

#[cfg(feature = "server")]
fn lookup(input: &str) -> Result<String, TimeZoneError> {
    chrono_tz::Tz::from_str_insensitive(input)
        .map(|tz| tz.name().to_owned())
        .map_err(|_| TimeZoneError::Unknown)
}

#[cfg(not(feature = "server"))]
fn lookup(input: &str) -> Result<String, TimeZoneError> {
    Ok(input.to_owned())
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_zones_are_accepted_in_their_canonical_spelling() {
        assert_eq!(
            TimeZone::parse(" europe/berlin ").map(TimeZone::into_inner),
            Ok("Europe/Berlin".to_owned())
        );
        assert_eq!(TimeZone::parse("UTC"), Ok(TimeZone::utc()));
    }

    #[test]
    fn unknown_zones_are_refused() {
        assert_eq!(
            TimeZone::parse("Mars/Olympus_Mons"),
            Err(TimeZoneError::Unknown)
        );
        assert_eq!(
            TimeZone::parse("Europe/Berlin; DROP"),
            Err(TimeZoneError::Unknown)
        );
        assert_eq!(TimeZone::parse(""), Err(TimeZoneError::Required));
    }

    #[test]
    fn every_zone_of_the_database_round_trips() {
        for tz in chrono_tz::TZ_VARIANTS {
            let parsed = TimeZone::parse(tz.name());
            assert_eq!(parsed.as_ref().map(TimeZone::as_str), Ok(tz.name()));
            assert_eq!(parsed.map(|z| z.tz()), Ok(tz));
        }
    }

    proptest! {
        #[test]
        fn whatever_parses_parses_again_to_itself(input in "[A-Za-z_/+-]{0,30}") {
            if let Ok(zone) = TimeZone::parse(&input) {
                prop_assert_eq!(TimeZone::parse(zone.as_str()), Ok(zone));
            }
        }
    }
}
