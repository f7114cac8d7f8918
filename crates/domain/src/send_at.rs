//! When a scheduled message is sent: reading the time people type, and the window it must fall in.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Timelike, Utc};

use crate::TimeZone;

/// Why a send time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendAtError {
    /// Not a date and time, or a local time with no zone to read it in.
    #[error("Use a date and time such as 2026-12-24T09:30, with a time zone or an offset.")]
    Invalid,
    /// Earlier than now (beyond the grace a form submission needs).
    #[error("This time has passed: choose a time from now on.")]
    Past,
    /// Further ahead than messages may be scheduled.
    #[error("At most {days} days ahead.")]
    TooFar {
        /// The horizon, in whole days.
        days: i64,
    },
    /// A local time skipped when the clocks go forward.
    #[error(
        "{} does not exist in {}: the clocks go forward then. Choose another time.",
        local_time_text(local),
        zone.as_str()
    )]
    DoesNotExist {
        /// The local time as read.
        local: NaiveDateTime,
        /// The zone it was read in.
        zone: TimeZone,
    },
}

/// `2026-03-29 02:30`, with `:SS` only when the seconds are not zero. Written by hand so the
/// browser build does not carry chrono's formatter for one message.
fn local_time_text(local: &NaiveDateTime) -> String {
    let mut text = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute()
    );
    if local.second() != 0 {
        text.push_str(&format!(":{:02}", local.second()));
    }
    text
}

/// The instants a message may be scheduled for, seen from `now`: from `now - grace` to
/// `now + horizon`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    now: DateTime<Utc>,
    grace: Duration,
    horizon: Duration,
}

impl SendWindow {
    /// The window from `now`: a grace of one minute (a time picked as "now" is a little in the
    /// past by the time the form arrives) and a horizon of 365 days.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now,
            grace: Duration::minutes(1),
            horizon: Duration::days(365),
        }
    }

    /// The same window with another grace for times just past.
    pub fn with_grace(self, grace: Duration) -> Self {
        Self { grace, ..self }
    }

    /// The same window with another horizon.
    pub fn with_horizon(self, horizon: Duration) -> Self {
        Self { horizon, ..self }
    }

    /// Checks `at` against the window and returns it unchanged.
    ///
    /// A time in the past within the grace is kept as given, not moved to `now`: the stored
    /// time stays the one that was asked for, and the sender sends every due message at once.
    pub fn check(&self, at: DateTime<Utc>) -> Result<DateTime<Utc>, SendAtError> {
        if self
            .now
            .checked_sub_signed(self.grace)
            .is_some_and(|earliest| at < earliest)
        {
            return Err(SendAtError::Past);
        }
        if self
            .now
            .checked_add_signed(self.horizon)
            .is_some_and(|latest| at > latest)
        {
            return Err(SendAtError::TooFar {
                days: self.horizon.num_days(),
            });
        }
        Ok(at)
    }
}

/// Reads a send time: RFC 3339 with an offset or `Z` (`2026-12-24T09:30:00+01:00`, the zone then
/// ignored), or a local `YYYY-MM-DDTHH:MM` or `YYYY-MM-DDTHH:MM:SS` read in `zone`.
///
/// A local time skipped by a change to summer time does not exist; one that happens twice when
/// the clocks go back is the earlier of the two instants (the first time the clock shows it).
/// Surrounding blanks are ignored. The browser converts local times itself, so this lives on the
/// server only.
#[cfg(feature = "server")]
pub fn parse_send_at(text: &str, zone: Option<&TimeZone>) -> Result<DateTime<Utc>, SendAtError> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| SendAtError::Invalid)?;
    let zone = zone.ok_or(SendAtError::Invalid)?;
    local_to_utc(local, zone)
}

/// The instant `local` shows in `zone`: the earlier one when it happens twice.
#[cfg(feature = "server")]
fn local_to_utc(local: NaiveDateTime, zone: &TimeZone) -> Result<DateTime<Utc>, SendAtError> {
    use chrono::{LocalResult, TimeZone as _};

    match zone.tz().from_local_datetime(&local) {
        LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(one, other) => Ok(one.min(other).with_timezone(&Utc)),
        LocalResult::None => Err(SendAtError::DoesNotExist {
            local,
            zone: zone.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn window() -> SendWindow {
        SendWindow::new(utc("2026-06-01T12:00:00Z"))
    }

    #[test]
    fn a_time_ahead_within_the_horizon_is_kept_as_is() {
        for at in [
            "2026-06-01T12:00:00Z",
            "2026-06-01T12:00:01Z",
            "2027-06-01T12:00:00Z",
        ] {
            assert_eq!(window().check(utc(at)), Ok(utc(at)), "{at}");
        }
    }

    #[test]
    fn a_time_just_past_within_the_grace_is_accepted_unchanged() {
        let at = utc("2026-06-01T11:59:00Z");
        assert_eq!(window().check(at), Ok(at));
        assert_eq!(
            window().with_grace(Duration::zero()).check(at),
            Err(SendAtError::Past)
        );
    }

    #[test]
    fn a_time_past_beyond_the_grace_is_refused() {
        assert_eq!(
            window().check(utc("2026-06-01T11:58:59Z")),
            Err(SendAtError::Past)
        );
        assert_eq!(
            SendAtError::Past.to_string(),
            "This time has passed: choose a time from now on."
        );
    }

    #[test]
    fn a_time_beyond_the_horizon_is_refused_with_the_days() {
        assert_eq!(
            window().check(utc("2027-06-01T12:00:01Z")),
            Err(SendAtError::TooFar { days: 365 })
        );
        let short = window().with_horizon(Duration::days(30));
        assert_eq!(
            short.check(utc("2026-07-02T12:00:00Z")),
            Err(SendAtError::TooFar { days: 30 })
        );
        assert_eq!(
            SendAtError::TooFar { days: 30 }.to_string(),
            "At most 30 days ahead."
        );
    }

    #[test]
    fn the_window_never_overflows_at_the_ends_of_time() {
        let at_the_end = SendWindow::new(DateTime::<Utc>::MAX_UTC);
        assert!(at_the_end.check(DateTime::<Utc>::MAX_UTC).is_ok());
        let at_the_start = SendWindow::new(DateTime::<Utc>::MIN_UTC);
        assert!(at_the_start.check(DateTime::<Utc>::MIN_UTC).is_ok());
    }

    #[test]
    fn a_missing_local_time_names_the_time_and_the_zone() {
        let error = TimeZone::parse("Europe/Berlin").map(|zone| SendAtError::DoesNotExist {
            local: NaiveDateTime::parse_from_str("2026-03-29T02:30", "%Y-%m-%dT%H:%M")
                .unwrap_or_default(),
            zone,
        });
        assert_eq!(
            error.map(|e| e.to_string()),
            Ok(
                "2026-03-29 02:30 does not exist in Europe/Berlin: the clocks go forward then. \
                Choose another time."
                    .to_owned()
            )
        );
    }

    #[cfg(feature = "server")]
    mod parsing {
        use super::*;

        fn zone(name: &str) -> TimeZone {
            TimeZone::parse(name).unwrap_or_else(|_| TimeZone::utc())
        }

        #[test]
        fn an_rfc3339_time_with_an_offset_ignores_the_zone() {
            let berlin = zone("Europe/Berlin");
            for (text, expected) in [
                ("2026-12-24T09:30:00+01:00", "2026-12-24T08:30:00Z"),
                ("2026-12-24T09:30:00Z", "2026-12-24T09:30:00Z"),
                (" 2026-12-24T09:30:00.5-05:00 ", "2026-12-24T14:30:00.5Z"),
            ] {
                assert_eq!(
                    parse_send_at(text, Some(&berlin)),
                    Ok(utc(expected)),
                    "{text}"
                );
                assert_eq!(parse_send_at(text, None), Ok(utc(expected)), "{text}");
            }
        }

        #[test]
        fn a_local_time_is_read_in_the_zone_with_or_without_seconds() {
            let new_york = zone("America/New_York");
            for (text, expected) in [
                ("2026-12-24T09:30", "2026-12-24T14:30:00Z"),
                ("2026-07-04T09:30:15", "2026-07-04T13:30:15Z"),
                ("2026-03-08T01:59", "2026-03-08T06:59:00Z"),
                ("2026-03-08T03:00", "2026-03-08T07:00:00Z"),
            ] {
                assert_eq!(
                    parse_send_at(text, Some(&new_york)),
                    Ok(utc(expected)),
                    "{text}"
                );
            }
        }

        #[test]
        fn a_local_time_skipped_by_summer_time_does_not_exist() {
            let berlin = zone("Europe/Berlin");
            let error = parse_send_at("2026-03-29T02:30", Some(&berlin));
            assert!(matches!(error, Err(SendAtError::DoesNotExist { .. })));
            assert_eq!(
                error.map_err(|e| e.to_string()),
                Err(
                    "2026-03-29 02:30 does not exist in Europe/Berlin: the clocks go forward \
                     then. Choose another time."
                        .to_owned()
                )
            );
            assert!(matches!(
                parse_send_at("2026-03-08T02:15", Some(&zone("America/New_York"))),
                Err(SendAtError::DoesNotExist { .. })
            ));
        }

        #[test]
        fn a_local_time_that_happens_twice_is_the_earlier_instant() {
            assert_eq!(
                parse_send_at("2026-10-25T02:30", Some(&zone("Europe/Berlin"))),
                Ok(utc("2026-10-25T00:30:00Z"))
            );
            assert_eq!(
                parse_send_at("2026-11-01T01:30", Some(&zone("America/New_York"))),
                Ok(utc("2026-11-01T05:30:00Z"))
            );
        }

        #[test]
        fn a_local_time_without_a_zone_or_anything_else_is_invalid() {
            assert_eq!(
                parse_send_at("2026-12-24T09:30", None),
                Err(SendAtError::Invalid)
            );
            let utc_zone = TimeZone::utc();
            for bad in [
                "",
                "tomorrow",
                "2026-12-24",
                "2026-12-24T09:30+01:00",
                "2026-12-24T25:00",
                "2026-02-30T09:30",
                "24.12.2026 09:30",
                "2026-12-24T09:30:00 Europe/Berlin",
            ] {
                assert_eq!(
                    parse_send_at(bad, Some(&utc_zone)),
                    Err(SendAtError::Invalid),
                    "{bad}"
                );
            }
            assert_eq!(
                SendAtError::Invalid.to_string(),
                "Use a date and time such as 2026-12-24T09:30, with a time zone or an offset."
            );
        }

        #[test]
        fn a_parsed_time_is_then_checked_against_the_window() {
            let now = utc("2026-12-24T08:00:00Z");
            let berlin = zone("Europe/Berlin");
            let check = |text: &str| {
                parse_send_at(text, Some(&berlin)).and_then(|at| SendWindow::new(now).check(at))
            };
            assert_eq!(check("2026-12-24T09:30"), Ok(utc("2026-12-24T08:30:00Z")));
            assert_eq!(check("2026-12-24T08:30"), Err(SendAtError::Past));
            assert_eq!(
                check("2028-01-01T00:00"),
                Err(SendAtError::TooFar { days: 365 })
            );
        }
    }
}
