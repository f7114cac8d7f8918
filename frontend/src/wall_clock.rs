//! Dates and times on a wall clock in a named (IANA) time zone, for the message form: what the
//! time is in the customer's zone, and which moment a date and time there is.
//!
//! The browser's `Intl` knows the zones, so the web app ships no zone database; the arithmetic
//! around it is plain Rust and tested natively.

use chrono::{Datelike, NaiveDate, Timelike};

/// Milliseconds in a minute.
const MINUTE_MS: i64 = 60_000;

/// A date and time of day to the minute, in no particular zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WallTime(chrono::NaiveDateTime);

impl WallTime {
    /// The fields, when they make a real date and time.
    pub fn new(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, day)
            .and_then(|d| d.and_hms_opt(hour, minute, 0))
            .map(Self)
    }

    /// Reads a date input (`YYYY-MM-DD`) and a time input (`HH:MM`, seconds ignored).
    pub fn parse(date: &str, time: &str) -> Option<Self> {
        let mut d = date.trim().splitn(3, '-');
        let mut t = time.trim().split(':');
        let year = d.next()?.parse().ok()?;
        let month = d.next()?.parse().ok()?;
        let day = d.next()?.parse().ok()?;
        let hour = t.next()?.parse().ok()?;
        let minute = t.next()?.parse().ok()?;
        Self::new(year, month, day, hour, minute)
    }

    /// Reads a date-and-time input (`YYYY-MM-DDTHH:MM`, seconds ignored).
    pub fn parse_date_time(text: &str) -> Option<Self> {
        let (date, time) = text.trim().split_once('T')?;
        Self::parse(date, time)
    }

    /// The value of a date input: `YYYY-MM-DD`.
    pub fn date_input(self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            self.0.month(),
            self.0.day()
        )
    }

    /// The value of a time input: `HH:MM`.
    pub fn time_input(self) -> String {
        format!("{:02}:{:02}", self.0.hour(), self.0.minute())
    }

    /// The local date-time the API takes with a `timezone`: `YYYY-MM-DDTHH:MM`.
    pub fn send_at(self) -> String {
        format!("{}T{}", self.date_input(), self.time_input())
    }

    /// The milliseconds since the epoch this wall time would be in UTC.
    fn as_utc_millis(self) -> i64 {
        self.0.and_utc().timestamp_millis()
    }

    /// The wall time in UTC of `millis` since the epoch, to the minute.
    fn from_utc_millis(millis: i64) -> Option<Self> {
        chrono::DateTime::from_timestamp_millis(millis.div_euclid(MINUTE_MS) * MINUTE_MS)
            .map(|at| Self(at.naive_utc()))
    }

    /// The default time of a new message: an hour after `now`, up to the next quarter hour.
    pub fn an_hour_after(now: Self) -> Self {
        let later = now.as_utc_millis() + 60 * MINUTE_MS;
        let quarter = 15 * MINUTE_MS;
        let rounded = (later + quarter - 1).div_euclid(quarter) * quarter;
        Self::from_utc_millis(rounded).unwrap_or(now)
    }
}

/// The moment (milliseconds since the epoch) that `wall` is in a zone, given what the zone's
/// clock shows at any moment (`wall_at`).
///
/// The zone's offset is read at a first guess and once more where that lands, which settles
/// it on either side of a daylight-saving change. Only for showing the time: a time skipped by
/// the change lands an hour off here, and the server, which decides, refuses it.
fn moment_of(wall: WallTime, wall_at: impl Fn(i64) -> Option<WallTime>) -> Option<i64> {
    let guess = wall.as_utc_millis();
    let offset = |at: i64| wall_at(at).map(|w| w.as_utc_millis() - at);
    let first = offset(guess)?;
    let second = offset(guess - first)?;
    Some(guess - second)
}

/// The browser's own time zone, e.g. `Europe/Paris`.
pub fn browser_zone() -> Option<String> {
    let format = date_time_format(None)?;
    let resolve = js_sys::Reflect::get(&format, &"resolvedOptions".into()).ok()?;
    let options = js_sys::Function::from(resolve).call0(&format).ok()?;
    js_sys::Reflect::get(&options, &"timeZone".into())
        .ok()?
        .as_string()
}

/// What the clock shows in `zone` at `millis` since the epoch; `None` for a zone the browser
/// does not know.
pub fn wall_time_in(zone: &str, millis: f64) -> Option<WallTime> {
    let format = date_time_format(Some(zone))?;
    let to_parts = js_sys::Reflect::get(&format, &"formatToParts".into()).ok()?;
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis));
    let parts = js_sys::Function::from(to_parts)
        .call1(&format, &date)
        .ok()
        .map(|parts| js_sys::Array::from(&parts))?;
    let field = |name: &str| -> Option<u32> {
        parts.iter().find_map(|part| {
            let kind = js_sys::Reflect::get(&part, &"type".into())
                .ok()?
                .as_string()?;
            if kind != name {
                return None;
            }
            js_sys::Reflect::get(&part, &"value".into())
                .ok()?
                .as_string()?
                .parse()
                .ok()
        })
    };
    // Some engines write midnight as hour 24 even with `h23`.
    let hour = field("hour")? % 24;
    WallTime::new(
        i32::try_from(field("year")?).ok()?,
        field("month")?,
        field("day")?,
        hour,
        field("minute")?,
    )
}

/// The moment (milliseconds since the epoch) that `wall` is in `zone`.
pub fn moment_in(zone: &str, wall: WallTime) -> Option<f64> {
    moment_of(wall, |at| wall_time_in(zone, at as f64)).map(|at| at as f64)
}

/// The time now in `zone`.
pub fn now_in(zone: &str) -> Option<WallTime> {
    wall_time_in(zone, js_sys::Date::now())
}

/// An `Intl.DateTimeFormat` showing every numeric field on a 24-hour clock, in `zone` or the
/// browser's own; `None` when the browser refuses the zone (it throws a `RangeError`).
fn date_time_format(zone: Option<&str>) -> Option<wasm_bindgen::JsValue> {
    let options = js_sys::Object::new();
    let set = |key: &str, value: &str| {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    };
    for key in ["year", "month", "day", "hour", "minute"] {
        set(key, "numeric");
    }
    set("hourCycle", "h23");
    if let Some(zone) = zone {
        set("timeZone", zone);
    }
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let constructor = js_sys::Reflect::get(&intl, &"DateTimeFormat".into()).ok()?;
    let args = js_sys::Array::of2(&"en-US".into(), &options);
    js_sys::Reflect::construct(&js_sys::Function::from(constructor), &args).ok()
}

/// `millis` since the epoch in `zone`, in the browser's format, to the minute (e.g. "24 Dec
/// 2026, 09:30"); in the browser's own zone when the browser does not know `zone`.
pub fn date_time_in(zone: &str, millis: f64) -> String {
    zoned_date_time(zone, millis).unwrap_or_else(|| local_date_time(millis))
}

/// `millis` since the epoch in `zone`, to the minute; `None` for a zone the browser does not
/// know (`Intl.DateTimeFormat` throws a `RangeError`).
fn zoned_date_time(zone: &str, millis: f64) -> Option<String> {
    let options = js_sys::Object::new();
    for (key, value) in [
        ("dateStyle", "medium"),
        ("timeStyle", "short"),
        ("timeZone", zone),
    ] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let constructor = js_sys::Reflect::get(&intl, &"DateTimeFormat".into()).ok()?;
    let args = js_sys::Array::of2(&wasm_bindgen::JsValue::UNDEFINED, &options);
    let format = js_sys::Reflect::construct(&js_sys::Function::from(constructor), &args).ok()?;
    let bound = js_sys::Reflect::get(&format, &"format".into()).ok()?;
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis));
    js_sys::Function::from(bound)
        .call1(&format, &date)
        .ok()?
        .as_string()
}

/// `millis` since the epoch in the browser's time zone and format, to the minute (e.g.
/// "24 Dec 2026, 09:30").
pub fn local_date_time(millis: f64) -> String {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(millis))
        .to_locale_string("default", &options)
        .as_string()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wall(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> WallTime {
        WallTime::new(year, month, day, hour, minute).unwrap_or_else(|| panic!("a real time"))
    }

    /// A zone on UTC+1 in winter and UTC+2 from 2026-03-29 01:00 UTC (like Central Europe).
    fn central_europe(at: i64) -> Option<WallTime> {
        let change = wall(2026, 3, 29, 1, 0).as_utc_millis();
        let offset = if at < change { 1 } else { 2 };
        WallTime::from_utc_millis(at + offset * 60 * MINUTE_MS)
    }

    #[test]
    fn date_and_time_inputs_are_read_and_written_back() {
        let at = WallTime::parse("2026-12-24", "09:05");
        assert_eq!(at, Some(wall(2026, 12, 24, 9, 5)));
        assert_eq!(at.map(WallTime::date_input).as_deref(), Some("2026-12-24"));
        assert_eq!(at.map(WallTime::time_input).as_deref(), Some("09:05"));
        assert_eq!(
            at.map(WallTime::send_at).as_deref(),
            Some("2026-12-24T09:05")
        );
        assert_eq!(
            WallTime::parse("2026-12-24", "09:05:30"),
            Some(wall(2026, 12, 24, 9, 5))
        );
    }

    #[test]
    fn a_date_and_time_input_is_read_like_the_two_inputs() {
        let at = WallTime::parse_date_time("2026-12-24T09:05");
        assert_eq!(at, Some(wall(2026, 12, 24, 9, 5)));
        assert_eq!(
            at.map(WallTime::send_at).as_deref(),
            Some("2026-12-24T09:05")
        );
        assert_eq!(WallTime::parse_date_time("2026-12-24"), None);
        assert_eq!(WallTime::parse_date_time(""), None);
    }

    #[test]
    fn empty_or_impossible_inputs_are_no_time() {
        assert_eq!(WallTime::parse("", "09:00"), None);
        assert_eq!(WallTime::parse("2026-12-24", ""), None);
        assert_eq!(WallTime::parse("2026-02-30", "09:00"), None);
        assert_eq!(WallTime::parse("2026-12-24", "25:00"), None);
    }

    #[test]
    fn a_new_message_defaults_to_an_hour_later_up_to_the_quarter() {
        assert_eq!(
            WallTime::an_hour_after(wall(2026, 5, 4, 14, 7)),
            wall(2026, 5, 4, 15, 15)
        );
        assert_eq!(
            WallTime::an_hour_after(wall(2026, 5, 4, 14, 30)),
            wall(2026, 5, 4, 15, 30)
        );
        assert_eq!(
            WallTime::an_hour_after(wall(2026, 12, 31, 23, 50)),
            wall(2027, 1, 1, 1, 0)
        );
    }

    #[test]
    fn a_wall_time_in_a_zone_is_the_moment_its_offset_says() {
        let winter = moment_of(wall(2026, 1, 10, 9, 30), central_europe);
        assert_eq!(winter, Some(wall(2026, 1, 10, 8, 30).as_utc_millis()));
        let summer = moment_of(wall(2026, 7, 10, 9, 30), central_europe);
        assert_eq!(summer, Some(wall(2026, 7, 10, 7, 30).as_utc_millis()));
    }

    #[test]
    fn the_offset_is_settled_on_both_sides_of_a_daylight_saving_change() {
        // 01:30 is still winter time; 03:30 already summer time.
        assert_eq!(
            moment_of(wall(2026, 3, 29, 1, 30), central_europe),
            Some(wall(2026, 3, 29, 0, 30).as_utc_millis())
        );
        assert_eq!(
            moment_of(wall(2026, 3, 29, 3, 30), central_europe),
            Some(wall(2026, 3, 29, 1, 30).as_utc_millis())
        );
    }
}
