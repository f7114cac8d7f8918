//! Reminder rules: how long a snooze lasts.

/// How long to put a reminder off: the choices of `POST /reminders/{id}/snooze`'s `for`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snooze {
    /// `10m`.
    TenMinutes,
    /// `1h`.
    OneHour,
    /// `tomorrow`: 09:00 tomorrow in the owner's time zone.
    Tomorrow,
}

/// A snooze that is not one of the choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Choose 10m, 1h or tomorrow.")]
pub struct SnoozeError;

impl Snooze {
    /// The choice written `text`.
    pub fn parse(text: &str) -> Result<Self, SnoozeError> {
        match text.trim() {
            "10m" => Ok(Self::TenMinutes),
            "1h" => Ok(Self::OneHour),
            "tomorrow" => Ok(Self::Tomorrow),
            _ => Err(SnoozeError),
        }
    }

    /// When a reminder snoozed at `now` falls due again, for an owner in `zone`.
    #[cfg(feature = "server")]
    pub fn until(
        self,
        now: chrono::DateTime<chrono::Utc>,
        zone: &crate::TimeZone,
    ) -> chrono::DateTime<chrono::Utc> {
        use chrono::{Duration, TimeZone as _, Utc};

        match self {
            Self::TenMinutes => now + Duration::minutes(10),
            Self::OneHour => now + Duration::hours(1),
            Self::Tomorrow => {
                let tz = zone.tz();
                let tomorrow = now.with_timezone(&tz).date_naive() + Duration::days(1);
                // 09:00 exists in every zone on every day but, should a zone ever move its
                // clocks at that hour, the first minute after it that exists is taken.
                (0..=120)
                    .filter_map(|minutes| {
                        let local = tomorrow.and_hms_opt(9, 0, 0)? + Duration::minutes(minutes);
                        tz.from_local_datetime(&local).earliest()
                    })
                    .next()
                    .map_or(now + Duration::days(1), |at| at.with_timezone(&Utc))
            }
        }
    }
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::TimeZone;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn reads_the_choices_and_refuses_others() {
        assert_eq!(Snooze::parse("10m"), Ok(Snooze::TenMinutes));
        assert_eq!(Snooze::parse(" 1h "), Ok(Snooze::OneHour));
        assert_eq!(Snooze::parse("tomorrow"), Ok(Snooze::Tomorrow));
        assert_eq!(Snooze::parse("2h"), Err(SnoozeError));
    }

    #[test]
    fn tomorrow_is_nine_in_the_owners_zone() -> Result<(), crate::TimeZoneError> {
        let tokyo = TimeZone::parse("Asia/Tokyo")?;
        // 23:30 in Tokyo on 2 December: tomorrow is the 3rd, 09:00 JST = 00:00 UTC.
        let now = at("2026-12-02T14:30:00Z");
        assert_eq!(
            Snooze::Tomorrow.until(now, &tokyo),
            at("2026-12-03T00:00:00Z")
        );
        // The same instant is still 2 December in Los Angeles (06:30): tomorrow is the 3rd.
        let la = TimeZone::parse("America/Los_Angeles")?;
        assert_eq!(Snooze::Tomorrow.until(now, &la), at("2026-12-03T17:00:00Z"));
        Ok(())
    }

    #[test]
    fn tomorrow_across_a_clock_change_keeps_nine_local() -> Result<(), crate::TimeZoneError> {
        // Europe/London goes to summer time on 29 March 2026: 09:00 BST = 08:00 UTC.
        let london = TimeZone::parse("Europe/London")?;
        let now = at("2026-03-28T20:00:00Z");
        assert_eq!(
            Snooze::Tomorrow.until(now, &london),
            at("2026-03-29T08:00:00Z")
        );
        assert_eq!(
            Snooze::OneHour.until(now, &london),
            at("2026-03-28T21:00:00Z")
        );
        Ok(())
    }
}
