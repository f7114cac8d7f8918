//! What Twilio sends us: status callbacks and inbound messages, their signature, and what
//! they mean (a delivery report, or a STOP/START from a customer).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crm_contract::messages::MessageStatus;
use crm_domain::{Channel, PhoneNumber};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The form fields of a callback, in the order they came.
pub type Form = Vec<(String, String)>;

/// Reads a form-encoded body.
pub fn parse_form(body: &[u8]) -> Form {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// The value of the first field called `name`.
pub fn field<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Whether `signature` (`X-Twilio-Signature`) is Twilio's: base64 of HMAC-SHA1, keyed with the
/// auth token, over the URL Twilio called followed by every field's name and value sorted by
/// name. Compared in constant time.
pub fn signature_is_valid(auth_token: &str, url: &str, form: &Form, signature: &str) -> bool {
    let mut fields: Vec<&(String, String)> = form.iter().collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return false;
    };
    mac.update(url.as_bytes());
    for (name, value) in fields {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    expected
        .as_bytes()
        .ct_eq(signature.trim().as_bytes())
        .into()
}

/// What a callback tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// The provider's news about a message we sent.
    Status {
        provider_id: String,
        status: MessageStatus,
        reason: Option<String>,
    },
    /// A customer asked to receive no more messages on `channel` (STOP) or again (START).
    OptOut {
        number: PhoneNumber,
        channel: Channel,
        opt_out: bool,
    },
    /// Nothing we act on (an intermediate status, an ordinary reply).
    Ignored,
}

/// Reads a callback's meaning from its fields.
pub fn interpret(form: &Form) -> Callback {
    if let Some(status) = field(form, "MessageStatus") {
        return status_report(form, status);
    }
    let (Some(from), Some(body)) = (field(form, "From"), field(form, "Body")) else {
        return Callback::Ignored;
    };
    let (channel, number) = match from.strip_prefix("whatsapp:") {
        Some(number) => (Channel::Whatsapp, number),
        None => (Channel::Sms, from),
    };
    let Ok(number) = PhoneNumber::from_e164(number.to_owned()) else {
        return Callback::Ignored;
    };
    // Twilio's own opt-out and opt-in keywords.
    let word = body.trim().to_ascii_uppercase();
    let opt_out = match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" | "OPTOUT" | "REVOKE" => {
            true
        }
        "START" | "YES" | "UNSTOP" => false,
        _ => return Callback::Ignored,
    };
    Callback::OptOut {
        number,
        channel,
        opt_out,
    }
}

fn status_report(form: &Form, status: &str) -> Callback {
    let Some(provider_id) = field(form, "MessageSid").filter(|s| !s.is_empty()) else {
        return Callback::Ignored;
    };
    let status = match status {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "undelivered" => MessageStatus::Undelivered,
        "failed" => MessageStatus::Failed,
        "read" => MessageStatus::Read,
        _ => return Callback::Ignored,
    };
    let reason = match (status, field(form, "ErrorCode")) {
        (MessageStatus::Undelivered | MessageStatus::Failed, Some(code)) if !code.is_empty() => {
            Some(format!(
                "The carrier did not deliver it (Twilio error {code}: see twilio.com/docs/api/errors/{code})."
            ))
        }
        (MessageStatus::Undelivered | MessageStatus::Failed, _) => {
            Some("The carrier did not deliver it.".to_owned())
        }
        _ => None,
    };
    Callback::Status {
        provider_id: provider_id.to_owned(),
        status,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> Form {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Twilio's documented example: https://www.twilio.com/docs/usage/security#validating-requests
    #[test]
    fn twilios_documented_example_signature_is_accepted() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let fields = form(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let token = "12345";
        assert!(signature_is_valid(
            token,
            url,
            &fields,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        assert!(!signature_is_valid(
            token,
            url,
            &fields,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ"
        ));
        assert!(!signature_is_valid(
            "54321",
            url,
            &fields,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    #[test]
    fn delivery_reports_become_statuses_with_reasons() {
        let report = form(&[
            ("MessageSid", "SM0123"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30003"),
        ]);
        let Callback::Status { status, reason, .. } = interpret(&report) else {
            panic!("not a status");
        };
        assert_eq!(status, MessageStatus::Undelivered);
        assert!(reason.unwrap_or_default().contains("30003"));
        let queued = form(&[("MessageSid", "SM0123"), ("MessageStatus", "queued")]);
        assert_eq!(interpret(&queued), Callback::Ignored);
    }

    #[test]
    fn stop_and_start_from_a_customer_change_their_opt_out() {
        let stop = form(&[("From", "whatsapp:+14155552671"), ("Body", " stop ")]);
        assert!(matches!(
            interpret(&stop),
            Callback::OptOut {
                channel: Channel::Whatsapp,
                opt_out: true,
                ..
            }
        ));
        let start = form(&[("From", "+14155552671"), ("Body", "START")]);
        assert!(matches!(
            interpret(&start),
            Callback::OptOut {
                channel: Channel::Sms,
                opt_out: false,
                ..
            }
        ));
        let chat = form(&[("From", "+14155552671"), ("Body", "See you at 10")]);
        assert_eq!(interpret(&chat), Callback::Ignored);
    }
}
