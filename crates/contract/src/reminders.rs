//! Reminders: a note to oneself about a customer (and maybe one of their messages), shown when
//! it falls due.

use chrono::{DateTime, Utc};
use crm_domain::{CustomerId, MessageId, ReminderId, UserId};
use serde::{Deserialize, Serialize};

use crate::Page;

/// Which reminders a list shows.
///
/// `due`: its time has come and it is not dismissed; `upcoming`: not yet due, not dismissed;
/// `dismissed`: dismissed (newest first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ReminderState {
    #[default]
    Due,
    Upcoming,
    Dismissed,
}

impl ReminderState {
    /// Every state, as the Reminders page shows them.
    pub const ALL: [Self; 3] = [Self::Due, Self::Upcoming, Self::Dismissed];

    /// The state as it is written in `?state=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Due => "due",
            Self::Upcoming => "upcoming",
            Self::Dismissed => "dismissed",
        }
    }

    /// The state written `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }
}

/// A reminder, as listed and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReminderResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 7))]
    pub id: ReminderId,
    /// Whose reminder it is.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 1))]
    pub owner_id: UserId,
    #[cfg_attr(feature = "openapi", schema(example = "Ada Lovelace"))]
    pub owner_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 42))]
    pub customer_id: CustomerId,
    #[cfg_attr(feature = "openapi", schema(example = "Grace Hopper"))]
    pub customer_name: String,
    /// The message it is about, if any.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>, required = true, example = 12))]
    pub message_id: Option<MessageId>,
    /// The start of that message's text (or its template), for lists.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, example = "Your order is ready…")
    )]
    pub message_excerpt: Option<String>,
    /// When it falls due (UTC).
    #[serde(with = "crate::time::rfc3339")]
    pub remind_at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(example = "Call back about the repair"))]
    pub note: String,
    /// Whether its time has come (and it is not dismissed).
    pub due: bool,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(with = "crate::time::rfc3339::option")]
    pub dismissed_at: Option<DateTime<Utc>>,
    /// Why it was dismissed when nobody did it by hand (its message was canceled…).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub dismissed_reason: Option<String>,
    #[serde(with = "crate::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339")]
    pub updated_at: DateTime<Utc>,
}

/// A page of reminders.
pub type ReminderPage = Page<ReminderResponse>;

/// A new reminder about a customer, maybe about one of their messages.
///
/// `remind_at` is RFC 3339 with an offset, or a local date and time with `timezone`. With a
/// `message_id` it may be left out (the message's send time) or given as `minutes_before` the
/// send time. A reminder without a message needs a note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "customer_id": 42, "remind_at": "2026-12-08T10:00", "timezone": "Europe/London",
    "note": "Call back about the repair"
})))]
pub struct CreateReminderRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = i64, example = 42))]
    pub customer_id: CustomerId,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_at: Option<String>,
    /// With `message_id`: this many minutes before the message's send time.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10080))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_before: Option<u32>,
    /// The IANA time zone of a local `remind_at` (the user's when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// At most 1,000 characters.
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Changes to a reminder; fields left out stay as they are. A new time makes a dismissed
/// reminder open again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"note": "Call back after 14:00", "remind_at": "2026-12-08T14:00", "timezone": "Europe/London"})))]
pub struct UpdateReminderRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remind_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Puts a reminder off: `{"for": "10m" | "1h" | "tomorrow"}` (tomorrow is 09:00 in the
/// owner's time zone) or `{"until": <RFC 3339 time>}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"for": "1h"})))]
pub struct SnoozeRequest {
    /// `10m`, `1h` or `tomorrow`.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub snooze_for: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// The snooze choices the web app offers, as sent in `for`.
pub const SNOOZE_CHOICES: [(&str, &str); 3] = [
    ("10m", "10 minutes"),
    ("1h", "1 hour"),
    ("tomorrow", "Tomorrow 09:00"),
];
