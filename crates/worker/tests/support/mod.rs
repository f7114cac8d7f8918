//! What the worker's integration tests share: a fake Twilio, and the settings and messages to
//! use with it.
#![allow(dead_code, unused_imports)] // Each test crate uses a different part.
#![allow(clippy::unwrap_used, clippy::expect_used)] // A test that cannot set up fails.

pub mod fake_twilio;

use std::time::Duration;

use crm_domain::Channel;
use crm_worker::provider::{Content, Outgoing, TwilioConfig};
pub use fake_twilio::{Answer, FakeTwilio};

/// Our SMS number in the tests (Twilio's magic test number).
pub const SMS_FROM: &str = "+15005550006";
/// Our WhatsApp sender in the tests (Twilio's WhatsApp sandbox number).
pub const WHATSAPP_FROM: &str = "+14155238886";
/// A customer's mobile number.
pub const CUSTOMER: &str = "+14155552671";

/// Starts a fake Twilio, failing the test when it cannot.
pub async fn fake_twilio() -> FakeTwilio {
    FakeTwilio::start().await.unwrap()
}

/// Settings that send through `fake` from [`SMS_FROM`] and [`WHATSAPP_FROM`].
pub fn twilio_config(fake: &FakeTwilio) -> TwilioConfig {
    TwilioConfig {
        api_url: fake.base_url().parse().unwrap(),
        account_sid: fake.account_sid().to_owned(),
        auth_token: fake.auth_token().into(),
        from: Some(SMS_FROM.to_owned()),
        messaging_service_sid: None,
        whatsapp_from: Some(WHATSAPP_FROM.to_owned()),
        timeout: Duration::from_secs(5),
    }
}

/// A free-form text to `to` on `channel`.
pub fn text(channel: Channel, to: &str, body: &str) -> Outgoing {
    Outgoing {
        channel,
        to: to.to_owned(),
        content: Content::Text(body.to_owned()),
        status_callback: None,
    }
}
