//! Message providers: where a due message goes. `log` prints it (development); `twilio` sends it
//! as an SMS or a WhatsApp message through Twilio's Messages API.
//!
//! A provider answers every send with one of four outcomes, and the caller's next step depends
//! only on which: [`Accepted`] (record the provider's id), [`SendError::Transient`] (nothing was
//! sent: try again later), [`SendError::Permanent`] (refused for good: mark the message failed
//! with the reason) or [`SendError::Unknown`] (it may have been sent: never repeat it blindly).

mod log;
mod twilio;

use std::{collections::BTreeMap, time::Duration};

use crm_domain::{Channel, MessageText, PhoneNumber, TemplateSid, TemplateVariables};

pub use log::LogProvider;
pub use twilio::{
    DEFAULT_API_URL, DEFAULT_TIMEOUT, TwilioConfig, TwilioConfigError, TwilioProvider,
    twilio_error_reason,
};

/// What to send, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// SMS or WhatsApp.
    pub channel: Channel,
    /// The recipient in E.164 form (`+14155550123`), without any channel prefix.
    pub to: String,
    /// The text, or the template and its values.
    pub content: Content,
    /// Where the provider reports delivery (`delivered`, `undelivered`…), when we want to know.
    pub status_callback: Option<url::Url>,
}

impl Outgoing {
    /// A free-form text on `channel`.
    pub fn text(channel: Channel, to: &PhoneNumber, text: &MessageText) -> Self {
        Self {
            channel,
            to: to.as_str().to_owned(),
            content: Content::Text(text.as_str().to_owned()),
            status_callback: None,
        }
    }

    /// An approved WhatsApp template with its values.
    pub fn whatsapp_template(
        to: &PhoneNumber,
        sid: &TemplateSid,
        variables: &TemplateVariables,
    ) -> Self {
        Self {
            channel: Channel::Whatsapp,
            to: to.as_str().to_owned(),
            content: Content::Template {
                sid: sid.as_str().to_owned(),
                variables: variables.as_map().clone(),
            },
            status_callback: None,
        }
    }

    /// The same message, with delivery reports sent to `url`.
    #[must_use]
    pub fn with_status_callback(mut self, url: url::Url) -> Self {
        self.status_callback = Some(url);
        self
    }
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A free-form text.
    Text(String),
    /// A template of Twilio's Content API (`HX…`) and the values of its placeholders by name.
    Template {
        /// The template's content SID.
        sid: String,
        /// The values of its placeholders, by name (`"1"`, `"first_name"`).
        variables: BTreeMap<String, String>,
    },
}

/// The provider accepted the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The provider's id for the message: Twilio's `SM…`/`MM…` SID; `log-` and 32 hexadecimal
    /// digits from the log provider.
    pub provider_id: String,
    /// The provider's status in its answer (Twilio: `queued`, `accepted`…), when it gave one.
    pub status: Option<String>,
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Nothing was sent and trying again later may work (connect error, 429, 5xx).
    #[error("{reason}")]
    Transient {
        /// What went wrong, for the log.
        reason: String,
        /// How long the provider asked us to wait (`Retry-After`), when it said.
        retry_after: Option<Duration>,
    },
    /// The provider refused the message for good.
    #[error("{reason}")]
    Permanent {
        /// The provider's error code (Twilio's 21211…), when it gave one.
        code: Option<u32>,
        /// A sentence a shop assistant understands, shown on the failed message.
        reason: String,
    },
    /// The request may have reached the provider but no answer came (a timeout after sending, a
    /// connection broken before the answer): the message may have been sent, so never repeat it
    /// blindly.
    #[error("{reason}")]
    Unknown {
        /// What went wrong, for the log.
        reason: String,
    },
}

impl SendError {
    /// The sentence describing what went wrong.
    pub fn reason(&self) -> &str {
        match self {
            Self::Transient { reason, .. }
            | Self::Permanent { reason, .. }
            | Self::Unknown { reason } => reason,
        }
    }
}

/// The configured provider.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per process and shared by reference; never moved around in numbers"
)]
pub enum Provider {
    /// Prints messages instead of sending them (development).
    Log(LogProvider),
    /// Sends through Twilio.
    Twilio(TwilioProvider),
}

impl Provider {
    /// Sends one message.
    ///
    /// Sends exactly one request: retrying is the caller's decision, made from the error.
    pub async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        match self {
            Self::Log(provider) => Ok(provider.send(message)),
            Self::Twilio(provider) => provider.send(message).await,
        }
    }

    /// The provider's name as configured (`log`, `twilio`), for logs and the message row.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Log(_) => "log",
            Self::Twilio(_) => "twilio",
        }
    }
}
