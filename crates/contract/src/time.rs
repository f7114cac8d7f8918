//! Times and dates as they travel: RFC 3339 instants and `YYYY-MM-DD` dates.
//!
//! Written out by chrono; read back by a strict parser of exactly those two forms, built from
//! chrono's checked constructors. chrono's own text parser understands far more than the API
//! ever sends, and carries that generality into every browser's download; use these with
//! `#[serde(with = "crate::time::rfc3339")]` (or `…::rfc3339::option`, `…::date`).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};

/// An RFC 3339 instant: `2026-12-01T10:00:00Z`, `2026-12-01T11:00:00.5+01:00`.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    let date = parse_date(text.get(..10)?)?;
    if !matches!(bytes.get(10), Some(b'T' | b't' | b' ')) || bytes.get(13) != Some(&b':') {
        return None;
    }
    if bytes.get(16) != Some(&b':') {
        return None;
    }
    let hour = digits(text.get(11..13)?)?;
    let minute = digits(text.get(14..16)?)?;
    let second = digits(text.get(17..19)?)?;
    let mut rest = text.get(19..)?;
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        // Digits past nanoseconds are dropped, as chrono does.
        for (place, digit) in fraction.bytes().take(len).enumerate() {
            if place < 9 {
                nanos = nanos * 10 + u32::from(digit - b'0');
            }
        }
        nanos *= 10u32.pow(9u32.saturating_sub(len as u32));
        rest = fraction.get(len..)?;
    }
    let offset = match rest {
        "Z" | "z" => FixedOffset::east_opt(0)?,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let hours = digits(rest.get(1..3)?)?;
            let minutes = digits(rest.get(4..6)?)?;
            if minutes > 59 {
                return None;
            }
            FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60) as i32)?
        }
    };
    // A leap second (:60) is chrono's 59 with a second's worth of nanoseconds.
    let (second, nanos) = if second == 60 {
        (59, nanos + 1_000_000_000)
    } else {
        (second, nanos)
    };
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let local = date.and_time(time);
    let utc = local.checked_sub_offset(offset)?;
    Some(utc.and_utc())
}

/// A calendar date written `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = digits(text.get(..4)?)?;
    let month = digits(text.get(5..7)?)?;
    let day = digits(text.get(8..10)?)?;
    NaiveDate::from_ymd_opt(year as i32, month, day)
}

/// The value of a run of ASCII digits (no sign, no spaces).
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.bytes().try_fold(0u32, |value, digit| {
        value.checked_mul(10)?.checked_add(u32::from(digit - b'0'))
    })
}

/// `#[serde(with = "…")]` for `DateTime<Utc>` fields.
pub mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        at.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        super::parse_instant(&text)
            .ok_or_else(|| de::Error::custom("expected an RFC 3339 date and time with an offset"))
    }

    /// For `Option<DateTime<Utc>>` fields.
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

        pub fn serialize<S: Serializer>(
            at: &Option<DateTime<Utc>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            at.serialize(serializer)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let Some(text) = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?
            else {
                return Ok(None);
            };
            super::super::parse_instant(&text).map(Some).ok_or_else(|| {
                de::Error::custom("expected an RFC 3339 date and time with an offset")
            })
        }
    }
}

/// `#[serde(with = "…")]` for `NaiveDate` fields.
pub mod date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

    pub fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        date.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        super::parse_date(&text).ok_or_else(|| de::Error::custom("expected a date as YYYY-MM-DD"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono_reads(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| at.with_timezone(&Utc))
    }

    #[test]
    fn instants_read_as_chrono_reads_them() {
        for text in [
            "2026-12-01T10:00:00Z",
            "2026-12-01t10:00:00z",
            "2026-12-01 10:00:00Z",
            "2026-12-01T10:00:00.123456Z",
            "2026-12-01T10:00:00.123456789Z",
            "2026-12-01T10:00:00.1234567891Z",
            "2026-12-01T10:00:00.5+01:00",
            "2026-03-29T01:30:00-09:30",
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59.999999999Z",
            "2016-12-31T23:59:60Z",
        ] {
            assert_eq!(parse_instant(text), chrono_reads(text), "{text}");
            assert!(parse_instant(text).is_some(), "{text}");
        }
    }

    #[test]
    fn what_is_not_rfc_3339_is_refused() {
        for text in [
            "",
            "2026-12-01",
            "2026-12-01T10:00:00",
            "2026-12-01T10:00Z",
            "2026-12-01T10:00:00.Z",
            "2026-12-01T10:00:00+0100",
            "2026-12-01T10:00:00+01",
            "2026-12-01T10:00:00+01:60",
            "2026-13-01T10:00:00Z",
            "2026-02-30T10:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T10:60:00Z",
            "2026-12-01T10:00:00Z ",
            "+2026-12-01T10:00:00Z",
            "2026-12-01T1a:00:00Z",
            "２026-12-01T10:00:00Z",
        ] {
            assert_eq!(parse_instant(text), None, "{text}");
        }
    }

    #[test]
    fn what_chrono_writes_reads_back() {
        let at = Utc::now();
        let text = serde_json::to_string(&at).unwrap_or_default();
        assert_eq!(parse_instant(text.trim_matches('"')), Some(at));
    }

    #[test]
    fn dates_are_exactly_year_month_day() {
        assert_eq!(
            parse_date("2026-02-28"),
            NaiveDate::from_ymd_opt(2026, 2, 28)
        );
        for text in [
            "2026-02-29",
            "2026-2-28",
            "26-02-28",
            "2026/02/28",
            " 2026-02-28",
            "",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
    }
}
