//! The development provider: prints each message instead of sending it.

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use super::{Accepted, Content, Outgoing};

/// Prints each message as one `info` line and accepts it; nothing leaves the machine.
///
/// It exists for development, so the line carries the channel, the recipient and the whole
/// text (or the template and its values): that is what a developer wants to see. Never
/// configure it in production, where those are customers' personal data.
#[derive(Debug, Clone, Default)]
pub struct LogProvider;

impl LogProvider {
    /// A log provider.
    pub fn new() -> Self {
        Self
    }

    /// Prints `message` and accepts it under a made-up id.
    pub fn send(&self, message: &Outgoing) -> Accepted {
        let provider_id = made_up_id();
        let channel = message.channel.as_str();
        let to = message.to.as_str();
        match &message.content {
            Content::Text(text) => {
                tracing::info!(provider_id, channel, to, text, "message (log provider)");
            }
            Content::Template { sid, variables } => {
                tracing::info!(
                    provider_id,
                    channel,
                    to,
                    template = sid,
                    ?variables,
                    "template message (log provider)"
                );
            }
        }
        Accepted {
            provider_id,
            status: None,
        }
    }
}

/// `log-` and 32 hexadecimal digits: the time in nanoseconds, then 64 random bits, so ids from
/// several workers do not collide either.
fn made_up_id() -> String {
    static SENT: AtomicU64 = AtomicU64::new(0);
    // Truncating the nanoseconds keeps the fast-changing low bits, which is all that matters.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    // Every `RandomState` is keyed afresh from the process's random seed: no dependency needed.
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(SENT.fetch_add(1, Ordering::Relaxed));
    format!("log-{nanos:016x}{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_ids_are_log_and_32_hex_digits_and_differ() {
        let (first, second) = (made_up_id(), made_up_id());
        assert_ne!(first, second);
        let hex = first.strip_prefix("log-").unwrap();
        assert_eq!(hex.len(), 32);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
