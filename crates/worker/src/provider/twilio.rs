//! SMS and WhatsApp through Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`,
//! described in `../shared/contracts/twilio_messages_v2010.json`).
//!
//! # Which sender
//!
//! - SMS: the Messaging Service when one is configured (Twilio picks the number from its sender
//!   pool), otherwise the `from` number.
//! - WhatsApp: `whatsapp:` + the WhatsApp sender when one is configured, otherwise the Messaging
//!   Service (whose sender pool must then hold a WhatsApp sender). The SMS number is never used
//!   for WhatsApp: a number is a WhatsApp sender only once registered as one, and then it is
//!   configured as the WhatsApp sender.
//!
//! A channel with no sender is refused without calling Twilio.
//!
//! # How answers are read
//!
//! - A connection that could not be made (DNS, refused, TLS, connect timeout): nothing was
//!   sent, so [`SendError::Transient`].
//! - 2xx with a message SID: [`Accepted`]. 2xx whose body cannot be read: the message exists
//!   but we do not know its SID, so [`SendError::Unknown`].
//! - 429, and 408 (the request never arrived whole): [`SendError::Transient`], with
//!   `Retry-After` when given.
//! - 5xx: [`SendError::Transient`]. Twilio answers 5xx when it did not create the message, so
//!   sending again does not duplicate it. (A 504 from an HTTP proxy between the worker and
//!   Twilio would not keep that promise: the worker must talk to Twilio directly.)
//! - Any other 4xx (and a redirect, which means a wrong API URL): [`SendError::Permanent`], with
//!   Twilio's error code turned into a sentence by [`twilio_error_reason`].
//! - Any other failure once the request may have been written (the total timeout, a connection
//!   closed before the answer): [`SendError::Unknown`].

use std::{collections::BTreeMap, error::Error as _, time::Duration};

use crm_domain::{Channel, PhoneNumber};
use reqwest::{StatusCode, header::HeaderMap, redirect};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::{Accepted, Content, Outgoing, SendError};

/// Twilio's API, where requests go unless configured otherwise.
pub const DEFAULT_API_URL: &str = "https://api.twilio.com";

/// How long a send may take, from connecting to the end of the answer, unless configured
/// otherwise. Twilio usually answers within a second.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a connection may take to open; it is also at most half the total timeout, so a
/// slow connect is reported as one (nothing sent, [`SendError::Transient`]) before the total
/// timeout fires and could only be reported as [`SendError::Unknown`].
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Idle pooled connections are closed before Twilio's side may close them, so a request is
/// rarely written to a connection that is going away (which would make its outcome unknown).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach Twilio. `Debug` shows the auth token as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// The API's base URL: [`DEFAULT_API_URL`], or a local fake in tests.
    pub api_url: Url,
    /// The account SID, `AC` and 32 hexadecimal digits.
    pub account_sid: String,
    /// The account's auth token.
    pub auth_token: SecretString,
    /// The SMS sender: a Twilio number in E.164 form, a short code or an alphanumeric sender ID.
    pub from: Option<String>,
    /// A Messaging Service SID (`MG…`); when set it is the SMS sender, replacing `from`.
    pub messaging_service_sid: Option<String>,
    /// The WhatsApp sender number in E.164 form (a `whatsapp:` prefix is accepted and dropped).
    pub whatsapp_from: Option<String>,
    /// How long one send may take, from connecting to the end of the answer.
    pub timeout: Duration,
}

/// Why the Twilio settings were refused at start-up.
#[derive(Debug, thiserror::Error)]
pub enum TwilioConfigError {
    /// The API URL is not an `http` or `https` base URL.
    #[error("the Twilio API URL {0} must be an http or https URL")]
    ApiUrl(Url),
    /// The account SID is not `AC` and 32 hexadecimal digits.
    #[error("the Twilio account SID must be AC followed by 32 hexadecimal digits")]
    AccountSid,
    /// The auth token is empty.
    #[error("the Twilio auth token is empty")]
    AuthToken,
    /// The Messaging Service SID is not `MG` and 32 hexadecimal digits.
    #[error("the Twilio Messaging Service SID must be MG followed by 32 hexadecimal digits")]
    MessagingServiceSid,
    /// The WhatsApp sender is not a number in E.164 form.
    #[error(
        "the Twilio WhatsApp sender must be a phone number in E.164 form, such as +14155550123"
    )]
    WhatsappFrom,
    /// Neither a number, a Messaging Service nor a WhatsApp sender is configured.
    #[error(
        "Twilio needs a sender: set the SMS number, the Messaging Service SID or the WhatsApp \
         sender"
    )]
    NoSender,
    /// The timeout is zero.
    #[error("the Twilio timeout must be longer than zero")]
    Timeout,
    /// The HTTP client could not be built (no TLS roots, for instance).
    #[error("could not build the HTTP client for Twilio")]
    Client(#[source] reqwest::Error),
}

/// Who a message is sent from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sender {
    /// `From`: a number, short code, alphanumeric ID or `whatsapp:` address.
    From(String),
    /// `MessagingServiceSid`: Twilio picks the number from the service's sender pool.
    MessagingService(String),
}

/// Sends messages through Twilio's Messages API.
#[derive(Debug, Clone)]
pub struct TwilioProvider {
    client: reqwest::Client,
    messages_url: Url,
    account_sid: String,
    auth_token: SecretString,
    sms_sender: Option<Sender>,
    whatsapp_sender: Option<Sender>,
    timeout: Duration,
}

impl TwilioProvider {
    /// Checks the settings and builds the HTTP client.
    ///
    /// Blank optional settings count as unset (an empty variable in a `.env` file).
    pub fn new(config: TwilioConfig) -> Result<Self, TwilioConfigError> {
        let TwilioConfig {
            api_url,
            account_sid,
            auth_token,
            from,
            messaging_service_sid,
            whatsapp_from,
            timeout,
        } = config;

        let account_sid = account_sid.trim().to_owned();
        if !is_sid(&account_sid, "AC") {
            return Err(TwilioConfigError::AccountSid);
        }
        if auth_token.expose_secret().trim().is_empty() {
            return Err(TwilioConfigError::AuthToken);
        }
        let messages_url = messages_url(&api_url, &account_sid)?;
        if timeout.is_zero() {
            return Err(TwilioConfigError::Timeout);
        }

        let from = non_blank(from);
        let messaging_service = match non_blank(messaging_service_sid) {
            Some(sid) if is_sid(&sid, "MG") => Some(Sender::MessagingService(sid)),
            Some(_) => return Err(TwilioConfigError::MessagingServiceSid),
            None => None,
        };
        let whatsapp_from = match non_blank(whatsapp_from) {
            Some(number) => {
                let number = number.strip_prefix("whatsapp:").unwrap_or(&number).trim();
                let number = PhoneNumber::from_e164(number.to_owned())
                    .map_err(|_| TwilioConfigError::WhatsappFrom)?;
                Some(Sender::From(format!("whatsapp:{}", number.as_str())))
            }
            None => None,
        };
        let sms_sender = messaging_service.clone().or(from.map(Sender::From));
        let whatsapp_sender = whatsapp_from.or(messaging_service);
        if sms_sender.is_none() && whatsapp_sender.is_none() {
            return Err(TwilioConfigError::NoSender);
        }

        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout((timeout / 2).min(MAX_CONNECT_TIMEOUT))
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .redirect(redirect::Policy::none())
            .user_agent(concat!("customer-manager/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(TwilioConfigError::Client)?;

        Ok(Self {
            client,
            messages_url,
            account_sid,
            auth_token,
            sms_sender,
            whatsapp_sender,
            timeout,
        })
    }

    /// Sends one message with one request: Twilio's Messages API takes no idempotency key, so
    /// repeating a request that may have arrived could send the message twice. See the
    /// module's documentation for how each answer is classified.
    pub async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let form = self.form(message)?;
        let response = self
            .client
            .post(self.messages_url.clone())
            .basic_auth(&self.account_sid, Some(self.auth_token.expose_secret()))
            .form(&form)
            .send()
            .await
            .map_err(|error| self.request_failed(error))?;

        let status = response.status();
        let retry_after = retry_after(response.headers());
        if status.is_success() {
            let body = response.bytes().await.map_err(|error| SendError::Unknown {
                reason: format!(
                    "Twilio answered {status} but its answer could not be read ({}); the \
                     message was probably created.",
                    describe(error)
                ),
            })?;
            return accepted(status, &body);
        }

        // The error body only adds detail: the status alone decides, even if it cannot be read.
        let body = response.bytes().await.unwrap_or_default();
        let error = serde_json::from_slice::<TwilioError>(&body).ok();
        let detail = error.as_ref().and_then(|e| e.message.as_deref());
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT {
            Err(SendError::Transient {
                reason: format!("{}.", answered(status, detail)),
                retry_after,
            })
        } else if status.is_server_error() {
            Err(SendError::Transient {
                reason: format!("{}; the message was not created.", answered(status, detail)),
                retry_after,
            })
        } else if status.is_client_error() {
            Err(refused(status, error))
        } else {
            Err(SendError::Permanent {
                code: None,
                reason: format!(
                    "Messages cannot be sent: Twilio answered {status} instead of creating the \
                     message. Ask your administrator to check the Twilio API URL."
                ),
            })
        }
    }

    /// The form fields of `message`, as the contract names them.
    fn form(&self, message: &Outgoing) -> Result<Vec<(&'static str, String)>, SendError> {
        let (to, sender) = match message.channel {
            Channel::Sms => (message.to.clone(), &self.sms_sender),
            Channel::Whatsapp => (format!("whatsapp:{}", message.to), &self.whatsapp_sender),
        };
        let mut form = vec![("To", to)];
        match sender {
            Some(Sender::From(from)) => form.push(("From", from.clone())),
            Some(Sender::MessagingService(sid)) => form.push(("MessagingServiceSid", sid.clone())),
            None => {
                let channel = match message.channel {
                    Channel::Sms => "Text messages are",
                    Channel::Whatsapp => "WhatsApp is",
                };
                return Err(SendError::Permanent {
                    code: None,
                    reason: format!(
                        "{channel} not set up: no Twilio sender is configured for this channel. \
                         Ask your administrator to check the Twilio settings."
                    ),
                });
            }
        }
        match &message.content {
            Content::Text(text) => form.push(("Body", text.clone())),
            Content::Template { sid, variables } => {
                form.push(("ContentSid", sid.clone()));
                if !variables.is_empty() {
                    form.push(("ContentVariables", content_variables(variables)));
                }
            }
        }
        if let Some(url) = &message.status_callback {
            form.push(("StatusCallback", url.as_str().to_owned()));
        }
        Ok(form)
    }

    /// Classifies a request that got no answer.
    fn request_failed(&self, error: reqwest::Error) -> SendError {
        if error.is_connect() || error.is_dns() {
            SendError::Transient {
                reason: format!("Could not connect to Twilio ({}).", describe(error)),
                retry_after: None,
            }
        } else if error.is_builder() {
            SendError::Permanent {
                code: None,
                reason: format!(
                    "The message could not be prepared for Twilio ({}).",
                    describe(error)
                ),
            }
        } else if error.is_timeout() {
            SendError::Unknown {
                reason: format!(
                    "Twilio did not answer within {} ms; the message may have been sent.",
                    self.timeout.as_millis()
                ),
            }
        } else {
            SendError::Unknown {
                reason: format!(
                    "The connection to Twilio broke before it answered ({}); the message may \
                     have been sent.",
                    describe(error)
                ),
            }
        }
    }
}

/// The message resource Twilio answers a create with; only what we keep.
#[derive(Debug, Deserialize)]
struct CreatedMessage {
    sid: String,
    status: Option<String>,
}

/// Twilio's error body: `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`.
#[derive(Debug, Deserialize)]
struct TwilioError {
    code: Option<u32>,
    message: Option<String>,
}

/// Reads the created message from a 2xx answer.
fn accepted(status: StatusCode, body: &[u8]) -> Result<Accepted, SendError> {
    match serde_json::from_slice::<CreatedMessage>(body) {
        Ok(created) if !created.sid.trim().is_empty() => Ok(Accepted {
            provider_id: created.sid,
            status: created.status,
        }),
        _ => Err(SendError::Unknown {
            reason: format!(
                "Twilio answered {status} without a message SID; the message was probably \
                 created."
            ),
        }),
    }
}

/// A 4xx refusal, with Twilio's code turned into a sentence.
fn refused(status: StatusCode, error: Option<TwilioError>) -> SendError {
    let (code, message) = error.map_or((None, None), |e| (e.code, e.message));
    match code {
        Some(code) => SendError::Permanent {
            code: Some(code),
            reason: twilio_error_reason(code, message.as_deref()),
        },
        None => SendError::Permanent {
            code: None,
            reason: with_detail(
                format!("Twilio refused the message ({status})"),
                message.as_deref(),
            ),
        },
    }
}

/// A sentence a shop assistant understands for a Twilio error code, from a send or a delivery
/// report; for a code without one, Twilio's own message with the code.
pub fn twilio_error_reason(code: u32, twilio_message: Option<&str>) -> String {
    if let Some(reason) = customer_problem(code) {
        return reason.to_owned();
    }
    if let Some(problem) = setup_problem(code) {
        return format!("{problem} Ask your administrator to check the Twilio settings.");
    }
    match twilio_message.map(str::trim) {
        Some(message) if !message.is_empty() => {
            format!("Twilio refused the message (code {code}): {message}")
        }
        _ => format!("Twilio refused the message (code {code})."),
    }
}

/// Codes about the recipient or the message itself.
fn customer_problem(code: u32) -> Option<&'static str> {
    Some(match code {
        21211 => "The number is not a valid phone number.",
        21408 => "Sending messages to this country is not enabled on our account.",
        21602 => "The message is empty.",
        21608 => "Our Twilio trial account may only send to verified numbers, and this one is not.",
        21610 => "The customer has opted out of messages from this number (they replied STOP).",
        21612 => "This number cannot receive messages from our sending number.",
        21614 => "The number is not a mobile number, so it cannot receive text messages.",
        21617 => "The message is too long: Twilio accepts at most 1,600 characters.",
        21655 => "The WhatsApp template was not found: check its content SID.",
        21656 => "The template's variables were refused: check their names and values.",
        30003 => "The phone was switched off or out of reach.",
        30004 => "The message was blocked by the recipient or their carrier.",
        30005 => "The number does not exist or is no longer in service.",
        30006 => "The number is a landline, or its carrier cannot receive text messages.",
        30007 => "The carrier filtered the message as spam.",
        30008 => "The carrier could not deliver the message, for no stated reason.",
        63003 => "This number does not use WhatsApp.",
        63016 => {
            "WhatsApp allows free-form messages only within 24 hours of the customer's last \
             message: use a template."
        }
        _ => return None,
    })
}

/// Codes that mean our Twilio account or senders are set up wrong: no message can go out
/// until an administrator fixes them.
fn setup_problem(code: u32) -> Option<&'static str> {
    Some(match code {
        20003 => "Messages cannot be sent: Twilio refused our account credentials.",
        20404 => "Messages cannot be sent: Twilio does not know our account.",
        21212 | 21606 => "Our sending number cannot send this message.",
        30034 => "Our US sending number is not registered for business texting (A2P 10DLC).",
        63007 => "Our WhatsApp sender is not set up on Twilio.",
        _ => return None,
    })
}

/// `ContentVariables`: the values as a JSON object string, `{"1":"Ada","2":"Friday"}`.
fn content_variables(variables: &BTreeMap<String, String>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = variables
        .iter()
        .map(|(name, value)| (name.clone(), serde_json::Value::String(value.clone())))
        .collect();
    serde_json::Value::Object(object).to_string()
}

/// `{api_url}/2010-04-01/Accounts/{sid}/Messages.json`, keeping any path prefix of `api_url`.
fn messages_url(api_url: &Url, account_sid: &str) -> Result<Url, TwilioConfigError> {
    if !matches!(api_url.scheme(), "http" | "https") || api_url.host_str().is_none() {
        return Err(TwilioConfigError::ApiUrl(api_url.clone()));
    }
    let mut url = api_url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| TwilioConfigError::ApiUrl(api_url.clone()))?
        .pop_if_empty()
        .extend(["2010-04-01", "Accounts", account_sid, "Messages.json"]);
    Ok(url)
}

/// `Retry-After` in seconds, or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let wait = chrono::DateTime::parse_from_rfc2822(value).ok()?.to_utc() - chrono::Utc::now();
    // A date in the past means "now".
    Some(wait.to_std().unwrap_or_default())
}

/// `Twilio answered 503 Service Unavailable`, and Twilio's message when it adds something.
fn answered(status: StatusCode, detail: Option<&str>) -> String {
    match detail.map(str::trim) {
        Some(detail) if !detail.is_empty() && Some(detail) != status.canonical_reason() => {
            format!("Twilio answered {status}: {detail}")
        }
        _ => format!("Twilio answered {status}"),
    }
}

/// `prefix: detail.` or `prefix.`
fn with_detail(prefix: String, detail: Option<&str>) -> String {
    match detail.map(str::trim) {
        Some(detail) if !detail.is_empty() => format!("{prefix}: {detail}"),
        _ => format!("{prefix}."),
    }
}

/// An HTTP error and its causes, without the URL (the log line already says it is Twilio).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `prefix` and 32 hexadecimal digits, as the contract's SID patterns say.
fn is_sid(sid: &str, prefix: &str) -> bool {
    sid.strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `None` for an unset or blank setting; the trimmed value otherwise.
fn non_blank(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> TwilioConfig {
        TwilioConfig {
            api_url: Url::parse(DEFAULT_API_URL).unwrap(),
            account_sid: format!("AC{}", "0a".repeat(16)),
            auth_token: SecretString::from("secret-token-value"),
            from: Some("+15005550006".to_owned()),
            messaging_service_sid: None,
            whatsapp_from: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    #[test]
    fn the_messages_url_keeps_a_path_prefix_and_drops_a_trailing_slash() {
        let sid = "AC00000000000000000000000000000000";
        for (base, expected) in [
            (
                "https://api.twilio.com",
                "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json",
            ),
            (
                "http://127.0.0.1:4010/twilio/",
                "http://127.0.0.1:4010/twilio/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json",
            ),
        ] {
            let url = messages_url(&Url::parse(base).unwrap(), sid).unwrap();
            assert_eq!(url.as_str(), expected);
        }
        assert!(messages_url(&Url::parse("mailto:ops@example.com").unwrap(), sid).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_auth_token() {
        let config = config();
        assert!(!format!("{config:?}").contains("secret-token-value"));
        let provider = TwilioProvider::new(config).unwrap();
        assert!(!format!("{provider:?}").contains("secret-token-value"));
    }

    #[test]
    fn settings_that_twilio_would_refuse_are_refused_at_start_up() {
        let bad_sid = TwilioConfig {
            account_sid: "AC123".to_owned(),
            ..config()
        };
        assert!(matches!(
            TwilioProvider::new(bad_sid),
            Err(TwilioConfigError::AccountSid)
        ));
        let bad_service = TwilioConfig {
            messaging_service_sid: Some("MGnope".to_owned()),
            ..config()
        };
        assert!(matches!(
            TwilioProvider::new(bad_service),
            Err(TwilioConfigError::MessagingServiceSid)
        ));
        let no_sender = TwilioConfig {
            from: Some("  ".to_owned()),
            ..config()
        };
        assert!(matches!(
            TwilioProvider::new(no_sender),
            Err(TwilioConfigError::NoSender)
        ));
        let bad_whatsapp = TwilioConfig {
            whatsapp_from: Some("whatsapp:14155238886".to_owned()),
            ..config()
        };
        assert!(matches!(
            TwilioProvider::new(bad_whatsapp),
            Err(TwilioConfigError::WhatsappFrom)
        ));
    }

    #[test]
    fn retry_after_is_read_in_seconds_or_as_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(reqwest::header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn an_unknown_error_code_keeps_twilios_own_words() {
        assert_eq!(
            twilio_error_reason(12345, Some("Something odd.")),
            "Twilio refused the message (code 12345): Something odd."
        );
        assert_eq!(
            twilio_error_reason(12345, None),
            "Twilio refused the message (code 12345)."
        );
    }
}
