//! Phone numbers in E.164 form (`+14155550123`).

use serde::Serialize;

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Empty where a number is required.
    #[error("This field is required.")]
    Required,
    /// Not a number that can be dialled.
    #[error("Enter a valid phone number, such as +14155550123.")]
    Invalid,
}

/// Why a region code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown region {0:?}: use a two-letter ISO 3166 code such as US or DE.")]
pub struct RegionError(String);

/// The region whose national format applies to numbers written without a `+` country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region([u8; 2]);

impl Region {
    /// Parses a two-letter ISO 3166-1 code, in either case.
    pub fn parse(code: &str) -> Result<Self, RegionError> {
        let upper = code.trim().to_ascii_uppercase();
        let bytes: [u8; 2] = upper
            .as_bytes()
            .try_into()
            .map_err(|_| RegionError(code.to_owned()))?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(RegionError(code.to_owned()));
        }
        #[cfg(feature = "server")]
        {
            use std::str::FromStr;
            phonenumber::country::Id::from_str(&upper).map_err(|_| RegionError(code.to_owned()))?;
        }
        Ok(Self(bytes))
    }

    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("US")
    }
}

impl Default for Region {
    fn default() -> Self {
        Self(*b"US")
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phone number in E.164 form.
///
/// Accepts international (`+44 20 7946 0958`) and national (`(415) 555-0123`, read in the
/// default region) formats. With the `server` feature the number is checked against the full
/// numbering plan metadata; without it (the browser) only its shape is checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
#[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
pub struct PhoneNumber(String);

/// Shortest and longest digit counts a dialable number can have (E.164 allows 15).
const MIN_DIGITS: usize = 6;
const MAX_DIGITS: usize = 15;
/// Input longer than this is refused before any parsing.
const MAX_INPUT_CHARS: usize = 40;

impl PhoneNumber {
    /// Reads `input`, in international or national format, and returns it in E.164 form.
    pub fn parse(input: &str, default_region: Region) -> Result<Self, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Required);
        }
        if input.chars().count() > MAX_INPUT_CHARS || !has_phone_shape(input) {
            return Err(PhoneError::Invalid);
        }
        parse_checked(input, default_region)
    }

    /// A number already in E.164 form (as stored): `+` and 6 to 15 digits, nothing else.
    pub fn from_e164(e164: String) -> Result<Self, PhoneError> {
        let digits = e164.strip_prefix('+').ok_or(PhoneError::Invalid)?;
        if (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            Ok(Self(e164))
        } else {
            Err(PhoneError::Invalid)
        }
    }

    /// The E.164 form, `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The E.164 form, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Digits with the punctuation people write between them; an optional leading `+`.
fn has_phone_shape(input: &str) -> bool {
    let rest = input.strip_prefix('+').unwrap_or(input);
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    (MIN_DIGITS..=MAX_DIGITS).contains(&digits)
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '/'))
}

#[cfg(feature = "server")]
fn parse_checked(input: &str, default_region: Region) -> Result<PhoneNumber, PhoneError> {
    use phonenumber::Mode;
    use std::str::FromStr;

    let region = phonenumber::country::Id::from_str(default_region.as_str()).ok();
    let number = phonenumber::parse(region, input).map_err(|_| PhoneError::Invalid)?;
    if !number.is_valid() {
        return Err(PhoneError::Invalid);
    }
    Ok(PhoneNumber(number.format().mode(Mode::E164).to_string()))
}

/// The browser's lighter check: the shape only, with a `+` country code or the default region's.
#[cfg(not(feature = "server"))]
fn parse_checked(input: &str, default_region: Region) -> Result<PhoneNumber, PhoneError> {
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    if input.starts_with('+') {
        return Ok(PhoneNumber(format!("+{digits}")));
    }
    // Only the calling code of the default region is known here; the server formats the rest.
    let code = match default_region.as_str() {
        "US" | "CA" => "1",
        "GB" => "44",
        "DE" => "49",
        "FR" => "33",
        _ => return Ok(PhoneNumber(digits)),
    };
    let national = digits.trim_start_matches('0');
    Ok(PhoneNumber(format!("+{code}{national}")))
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn us() -> Region {
        Region::default()
    }

    #[test]
    fn national_and_international_formats_give_the_same_e164() {
        for written in [
            "(415) 555-2671",
            "415.555.2671",
            "415 555 2671",
            "+1 415-555-2671",
            "+14155552671",
        ] {
            assert_eq!(
                PhoneNumber::parse(written, us()).map(PhoneNumber::into_inner),
                Ok("+14155552671".to_owned()),
                "{written}"
            );
        }
    }

    #[test]
    fn the_default_region_decides_national_numbers() {
        let uk = Region::parse("gb").unwrap_or_default();
        assert_eq!(
            PhoneNumber::parse("020 7946 0958", uk).map(PhoneNumber::into_inner),
            Ok("+442079460958".to_owned())
        );
    }

    #[test]
    fn refuses_what_cannot_be_dialled() {
        for bad in [
            "12",
            "hello",
            "+1 415 555",
            "+999 123 456 789",
            "555-CALL-NOW",
            "+1 (415) 555-2671 ext. 5",
        ] {
            assert_eq!(
                PhoneNumber::parse(bad, us()),
                Err(PhoneError::Invalid),
                "{bad}"
            );
        }
        assert_eq!(PhoneNumber::parse("  ", us()), Err(PhoneError::Required));
        assert_eq!(
            PhoneNumber::parse(&"1".repeat(1000), us()),
            Err(PhoneError::Invalid)
        );
    }

    #[test]
    fn region_codes_are_checked() {
        assert_eq!(
            Region::parse("de").map(|r| r.to_string()),
            Ok("DE".to_owned())
        );
        assert!(Region::parse("XX").is_err());
        assert!(Region::parse("USA").is_err());
        assert!(Region::parse("").is_err());
    }

    proptest! {
        #[test]
        fn us_numbers_in_any_layout_round_trip(
            area in 2u32..=9, area_rest in 0u32..=99, exchange in 2u32..=9, exchange_rest in 0u32..=99,
            line in 0u32..=9999, layout in 0usize..4,
        ) {
            let (a, e) = (format!("{area}{area_rest:02}"), format!("{exchange}{exchange_rest:02}"));
            let written = match layout {
                0 => format!("({a}) {e}-{line:04}"),
                1 => format!("{a}.{e}.{line:04}"),
                2 => format!("+1 {a} {e} {line:04}"),
                _ => format!("1{a}{e}{line:04}"),
            };
            if let Ok(number) = PhoneNumber::parse(&written, us()) {
                prop_assert_eq!(number.as_str(), format!("+1{a}{e}{line:04}"));
                prop_assert_eq!(PhoneNumber::parse(number.as_str(), us()), Ok(number.clone()));
            }
        }

        #[test]
        fn arbitrary_input_never_panics_and_results_are_e164(input in "\\PC{0,30}") {
            if let Ok(number) = PhoneNumber::parse(&input, us()) {
                prop_assert!(number.as_str().starts_with('+'));
                prop_assert!(number.as_str()[1..].chars().all(|c| c.is_ascii_digit()));
                prop_assert_eq!(PhoneNumber::parse(number.as_str(), us()), Ok(number.clone()));
            }
        }
    }
}
