//! Money: ISO 4217 currencies and exact amounts in minor units (cents), never floats.

use serde::Serialize;

/// Why a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    /// Empty where a currency is required.
    #[error("This field is required.")]
    Required,
    /// Not an active ISO 4217 code.
    #[error("Unknown currency: use an ISO 4217 code such as USD or EUR.")]
    Unknown,
}

/// Active ISO 4217 codes with their minor units (digits after the decimal point).
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// An ISO 4217 currency code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
#[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
#[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

impl Currency {
    /// Reads a code in either case.
    pub fn parse(input: &str) -> Result<Self, CurrencyError> {
        let code = input.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Err(CurrencyError::Required);
        }
        CURRENCIES
            .iter()
            .find(|(known, _)| *known == code)
            .and_then(|(known, minor_units)| {
                Some(Self {
                    code: known.as_bytes().try_into().ok()?,
                    minor_units: *minor_units,
                })
            })
            .ok_or(CurrencyError::Unknown)
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Digits after the decimal point (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn minor_units(&self) -> u8 {
        self.minor_units
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.code().to_owned()
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Empty.
    #[error("This field is required.")]
    Required,
    /// Not a plain decimal number.
    #[error("Enter an amount such as 1234.50 (digits, and a point before the cents).")]
    Invalid,
    /// Below zero.
    #[error("Must not be negative.")]
    Negative,
    /// More decimals than the currency has.
    #[error("{currency} amounts have at most {minor_units} decimal places.")]
    TooPrecise { currency: String, minor_units: u8 },
    /// Beyond what the system stores.
    #[error("Must be less than 1,000,000,000,000.")]
    TooLarge,
}

/// An exact, non-negative amount of one currency, held in its minor units (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

/// Largest accepted amount in major units (exclusive).
const MAX_MAJOR: i64 = 1_000_000_000_000;

impl Amount {
    /// Reads a decimal such as `1234.5` or `0.99` in `currency`; no floats are involved.
    pub fn parse(input: &str, currency: Currency) -> Result<Self, AmountError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(AmountError::Required);
        }
        if text.starts_with('-') {
            return Err(AmountError::Negative);
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty()
            || !digits_only(whole)
            || !digits_only(fraction)
            || (text.contains('.') && fraction.is_empty())
        {
            return Err(AmountError::Invalid);
        }
        let units = usize::from(currency.minor_units());
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > units {
            return Err(AmountError::TooPrecise {
                currency: currency.code().to_owned(),
                minor_units: currency.minor_units(),
            });
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > 13 {
            return Err(AmountError::TooLarge);
        }
        let major: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| AmountError::Invalid)?
        };
        if major >= MAX_MAJOR {
            return Err(AmountError::TooLarge);
        }
        let padded = format!("{fraction:0<units$}");
        let cents: i64 = if padded.is_empty() {
            0
        } else {
            padded.parse().map_err(|_| AmountError::Invalid)?
        };
        Ok(Self {
            minor: major * 10_i64.pow(u32::from(currency.minor_units())) + cents,
            currency,
        })
    }

    /// An amount from stored minor units.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// The amount in minor units (cents).
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }
}

/// The decimal text with exactly the currency's decimals: `1234.50`, `1200` for JPY.
impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_minor(i128::from(self.minor), self.currency, f)
    }
}

/// A sum of amounts in one currency, in minor units: it may grow past what one [`Amount`] holds
/// (a customer's invoices over the years), so it is wider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    minor: i128,
    currency: Currency,
}

impl Total {
    /// A total of `minor` units (cents) of `currency`.
    pub fn from_minor(minor: i128, currency: Currency) -> Self {
        Self { minor, currency }
    }
}

impl std::fmt::Display for Total {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_minor(self.minor, self.currency, f)
    }
}

/// `minor` units of `currency` as a decimal with the currency's own number of decimals.
fn write_minor(
    minor: i128,
    currency: Currency,
    f: &mut std::fmt::Formatter<'_>,
) -> std::fmt::Result {
    let units = u32::from(currency.minor_units());
    let scale = 10_i128.pow(units);
    let (major, fraction) = ((minor / scale).abs(), (minor % scale).abs());
    let sign = if minor < 0 { "-" } else { "" };
    if units == 0 {
        write!(f, "{sign}{major}")
    } else {
        write!(
            f,
            "{sign}{major}.{fraction:0width$}",
            width = units as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"))
    }

    #[test]
    fn totals_print_like_amounts_and_go_past_them() {
        let eur = currency("EUR");
        assert_eq!(Total::from_minor(1030, eur).to_string(), "10.30");
        assert_eq!(
            Total::from_minor(i128::from(i64::MAX) * 10, currency("BHD")).to_string(),
            "92233720368547758.070"
        );
        assert_eq!(Total::from_minor(1200, currency("JPY")).to_string(), "1200");
    }

    #[test]
    fn currencies_are_iso_codes_in_any_case() {
        assert_eq!(currency("eur").code(), "EUR");
        assert_eq!(currency(" JPY ").minor_units(), 0);
        assert_eq!(currency("KWD").minor_units(), 3);
        assert_eq!(Currency::parse("EURO"), Err(CurrencyError::Unknown));
        assert_eq!(Currency::parse("XYZ"), Err(CurrencyError::Unknown));
        assert_eq!(Currency::parse(""), Err(CurrencyError::Required));
    }

    #[test]
    fn amounts_are_exact_minor_units() {
        let usd = currency("USD");
        assert_eq!(Amount::parse("1234.5", usd).map(|a| a.minor()), Ok(123_450));
        assert_eq!(
            Amount::parse("0.10", usd).map(|a| a.to_string()),
            Ok("0.10".to_owned())
        );
        assert_eq!(
            Amount::parse("007", usd).map(|a| a.to_string()),
            Ok("7.00".to_owned())
        );
        assert_eq!(
            Amount::parse("1200", currency("JPY")).map(|a| a.to_string()),
            Ok("1200".to_owned())
        );
        assert_eq!(
            Amount::parse("1.234", currency("KWD")).map(|a| a.minor()),
            Ok(1234)
        );
        // 0.1 + 0.2 is exactly 0.3 here.
        let sum = Amount::parse("0.1", usd).map(|a| a.minor()).unwrap_or(0)
            + Amount::parse("0.2", usd).map(|a| a.minor()).unwrap_or(0);
        assert_eq!(Amount::from_minor(sum, usd).to_string(), "0.30");
    }

    #[test]
    fn bad_amounts_say_why() {
        let usd = currency("USD");
        assert_eq!(Amount::parse("", usd), Err(AmountError::Required));
        assert_eq!(Amount::parse("-5", usd), Err(AmountError::Negative));
        for bad in ["12,50", "1e3", "abc", ".5", "5.", "1.2.3", "NaN", "+5"] {
            assert_eq!(Amount::parse(bad, usd), Err(AmountError::Invalid), "{bad}");
        }
        assert!(matches!(
            Amount::parse("1.001", usd),
            Err(AmountError::TooPrecise { minor_units: 2, .. })
        ));
        assert!(matches!(
            Amount::parse("5.5", currency("JPY")),
            Err(AmountError::TooPrecise { minor_units: 0, .. })
        ));
        assert_eq!(
            Amount::parse("1000000000000", usd),
            Err(AmountError::TooLarge)
        );
        assert_eq!(
            Amount::parse("99999999999999999999999", usd),
            Err(AmountError::TooLarge)
        );
        assert!(Amount::parse("999999999999.99", usd).is_ok());
    }

    proptest! {
        #[test]
        fn printed_amounts_parse_back_to_themselves(minor in 0i64..MAX_MAJOR, which in 0usize..3) {
            let currency = currency(["USD", "JPY", "KWD"][which]);
            let amount = Amount::from_minor(minor, currency);
            prop_assert_eq!(Amount::parse(&amount.to_string(), currency), Ok(amount));
        }

        #[test]
        fn arbitrary_text_never_panics(input in "\\PC{0,40}") {
            let _ = Amount::parse(&input, currency("EUR"));
        }
    }
}
