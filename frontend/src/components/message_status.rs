//! How a message's status and content look in a list: a coloured badge with the reason, and a
//! short excerpt of the text or the template's name.

use crm_contract::MessageId;
use crm_contract::messages::{MessageResponse, MessageStatus, MessageTemplate};
use crm_domain::Channel;
use leptos::prelude::*;

use crate::live::use_live;

/// Characters of a body shown in a list before it is cut short.
const EXCERPT_CHARS: usize = 60;

/// The status in words.
pub fn status_label(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Scheduled => "Scheduled",
        MessageStatus::Sending => "Sending",
        MessageStatus::Sent => "Sent",
        MessageStatus::Delivered => "Delivered",
        MessageStatus::Undelivered => "Undelivered",
        MessageStatus::Read => "Read",
        MessageStatus::Failed => "Failed",
        MessageStatus::Canceled => "Canceled",
        MessageStatus::Unknown => "Unknown",
    }
}

/// Bootstrap's classes for the status's badge.
pub fn badge_class(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Scheduled => "badge text-bg-secondary",
        MessageStatus::Sending => "badge text-bg-info",
        MessageStatus::Sent => "badge text-bg-primary",
        MessageStatus::Delivered | MessageStatus::Read => "badge text-bg-success",
        MessageStatus::Failed | MessageStatus::Undelivered => "badge text-bg-danger",
        MessageStatus::Canceled => "badge text-bg-light border",
        MessageStatus::Unknown => "badge text-bg-warning",
    }
}

/// The channel's name.
pub fn channel_label(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "SMS",
        Channel::Whatsapp => "WhatsApp",
    }
}

/// The start of the body, or the template's name (its SID when it is no longer offered).
pub fn excerpt(message: &MessageResponse, templates: &[MessageTemplate]) -> String {
    if let Some(sid) = &message.template {
        let name = templates
            .iter()
            .find(|t| &t.content_sid == sid)
            .map_or(sid.as_str(), |t| t.name.as_str());
        return format!("Template: {name}");
    }
    let body = message.body.trim();
    if body.chars().count() <= EXCERPT_CHARS {
        return body.to_owned();
    }
    let cut: String = body.chars().take(EXCERPT_CHARS - 1).collect();
    format!("{}\u{2026}", cut.trim_end())
}

/// The status badge, with the reason under it when the message failed, was canceled or its
/// outcome is unknown.
#[component]
pub fn StatusBadge(status: MessageStatus, reason: Option<String>) -> impl IntoView {
    let reason_class = match status {
        MessageStatus::Failed | MessageStatus::Undelivered => "small text-danger",
        _ => "small text-muted",
    };
    view! {
        <span class=badge_class(status)>{status_label(status)}</span>
        {reason
            .filter(|r| !r.is_empty())
            .map(|r| view! { <div class=reason_class>{r}</div> })}
    }
}

/// The status badge of a listed message, kept up to date by `message.status` events without
/// fetching the list again.
#[component]
pub fn LiveStatusBadge(
    id: MessageId,
    status: MessageStatus,
    reason: Option<String>,
    /// The message's version as listed; older events are ignored.
    version: i32,
) -> impl IntoView {
    let live = use_live();
    let current = Memo::new(
        move |before: Option<&(MessageStatus, Option<String>, i32)>| {
            let before = before
                .cloned()
                .unwrap_or_else(|| (status, reason.clone(), version));
            live.message_status.with(|event| match event {
                Some(e) if e.message_id == id && e.version >= before.2 => {
                    (e.status, e.status_reason.clone(), e.version)
                }
                _ => before,
            })
        },
    );
    move || {
        let (status, reason, _) = current.get();
        view! { <StatusBadge status=status reason=reason/> }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_badge_colour() {
        assert_eq!(
            badge_class(MessageStatus::Scheduled),
            "badge text-bg-secondary"
        );
        assert_eq!(badge_class(MessageStatus::Sending), "badge text-bg-info");
        assert_eq!(badge_class(MessageStatus::Sent), "badge text-bg-primary");
        assert_eq!(badge_class(MessageStatus::Read), "badge text-bg-success");
        assert_eq!(badge_class(MessageStatus::Failed), "badge text-bg-danger");
        assert_eq!(badge_class(MessageStatus::Unknown), "badge text-bg-warning");
        for status in MessageStatus::ALL {
            assert!(!status_label(status).is_empty());
        }
    }
}
