//! The providers against a fake Twilio over real HTTP: what is posted, and how each answer is
//! classified.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::BTreeMap, net::TcpListener, time::Duration};

use crm_domain::Channel;
use crm_worker::provider::{
    Content, LogProvider, Outgoing, Provider, SendError, TwilioConfig, TwilioProvider,
};
use support::{Answer, CUSTOMER, FakeTwilio, SMS_FROM, WHATSAPP_FROM, fake_twilio, text};

const MESSAGING_SERVICE: &str = "MG0123456789abcdef0123456789abcdef";
const TEMPLATE: &str = "HX0123456789abcdef0123456789abcdef";

fn twilio(config: TwilioConfig) -> Provider {
    Provider::Twilio(TwilioProvider::new(config).unwrap())
}

fn twilio_for(fake: &FakeTwilio) -> Provider {
    twilio(support::twilio_config(fake))
}

fn no_violations(fake: &FakeTwilio) {
    let violations = fake.violations();
    assert!(
        violations.is_empty(),
        "contract violations: {violations:#?}"
    );
}

#[tokio::test]
async fn an_sms_is_posted_as_the_contract_says() {
    let fake = fake_twilio().await;
    let callback: url::Url = "https://crm.example.com/api/v1/twilio/status"
        .parse()
        .unwrap();
    let message =
        text(Channel::Sms, CUSTOMER, "Your order is ready.").with_status_callback(callback.clone());

    let accepted = twilio_for(&fake).send(&message).await.unwrap();

    no_violations(&fake);
    let [request] = fake.received().try_into().unwrap();
    assert_eq!(
        request.path,
        format!("/2010-04-01/Accounts/{}/Messages.json", fake.account_sid())
    );
    assert_eq!(request.field("To"), Some(CUSTOMER));
    assert_eq!(request.field("From"), Some(SMS_FROM));
    assert_eq!(request.field("Body"), Some("Your order is ready."));
    assert_eq!(request.field("StatusCallback"), Some(callback.as_str()));
    assert_eq!(request.field("MessagingServiceSid"), None);
    assert_eq!(request.field("ContentSid"), None);
    assert_eq!(Some(&accepted.provider_id), request.sid.as_ref());
    assert!(accepted.provider_id.starts_with("SM") && accepted.provider_id.len() == 34);
    assert_eq!(accepted.status.as_deref(), Some("queued"));
}

#[tokio::test]
async fn a_whatsapp_text_goes_from_and_to_whatsapp_addresses() {
    let fake = fake_twilio().await;

    twilio_for(&fake)
        .send(&text(Channel::Whatsapp, CUSTOMER, "See you at 3 pm."))
        .await
        .unwrap();

    no_violations(&fake);
    let [request] = fake.received().try_into().unwrap();
    assert_eq!(request.field("To"), Some(&*format!("whatsapp:{CUSTOMER}")));
    assert_eq!(
        request.field("From"),
        Some(&*format!("whatsapp:{WHATSAPP_FROM}"))
    );
    assert_eq!(request.field("Body"), Some("See you at 3 pm."));
}

#[tokio::test]
async fn a_template_sends_its_content_sid_and_variables_and_no_body() {
    let fake = fake_twilio().await;
    let variables = BTreeMap::from([
        ("1".to_owned(), "Ada".to_owned()),
        ("2".to_owned(), "Friday at 3 pm".to_owned()),
    ]);
    let message = Outgoing {
        channel: Channel::Whatsapp,
        to: CUSTOMER.to_owned(),
        content: Content::Template {
            sid: TEMPLATE.to_owned(),
            variables: variables.clone(),
        },
        status_callback: None,
    };

    twilio_for(&fake).send(&message).await.unwrap();

    no_violations(&fake);
    let [request] = fake.received().try_into().unwrap();
    assert_eq!(request.field("ContentSid"), Some(TEMPLATE));
    let sent: BTreeMap<String, String> =
        serde_json::from_str(request.field("ContentVariables").unwrap()).unwrap();
    assert_eq!(sent, variables);
    assert_eq!(request.field("Body"), None);
    assert_eq!(
        request.field("From"),
        Some(&*format!("whatsapp:{WHATSAPP_FROM}"))
    );
}

#[tokio::test]
async fn the_messaging_service_replaces_the_sms_number_when_configured() {
    let fake = fake_twilio().await;
    let provider = twilio(TwilioConfig {
        messaging_service_sid: Some(MESSAGING_SERVICE.to_owned()),
        ..support::twilio_config(&fake)
    });

    provider
        .send(&text(Channel::Sms, CUSTOMER, "Hello"))
        .await
        .unwrap();

    no_violations(&fake);
    let [request] = fake.received().try_into().unwrap();
    assert_eq!(
        request.field("MessagingServiceSid"),
        Some(MESSAGING_SERVICE)
    );
    assert_eq!(request.field("From"), None);
}

#[tokio::test]
async fn whatsapp_uses_the_messaging_service_only_without_a_whatsapp_sender() {
    let fake = fake_twilio().await;
    let config = TwilioConfig {
        messaging_service_sid: Some(MESSAGING_SERVICE.to_owned()),
        ..support::twilio_config(&fake)
    };
    let with_sender = twilio(config.clone());
    let without_sender = twilio(TwilioConfig {
        whatsapp_from: None,
        ..config
    });
    let message = text(Channel::Whatsapp, CUSTOMER, "Hello");

    with_sender.send(&message).await.unwrap();
    without_sender.send(&message).await.unwrap();

    no_violations(&fake);
    let [first, second] = fake.received().try_into().unwrap();
    assert_eq!(
        first.field("From"),
        Some(&*format!("whatsapp:{WHATSAPP_FROM}"))
    );
    assert_eq!(first.field("MessagingServiceSid"), None);
    assert_eq!(second.field("From"), None);
    assert_eq!(second.field("MessagingServiceSid"), Some(MESSAGING_SERVICE));
}

#[tokio::test]
async fn a_channel_without_a_sender_is_refused_without_calling_twilio() {
    let fake = fake_twilio().await;
    let provider = twilio(TwilioConfig {
        whatsapp_from: None,
        ..support::twilio_config(&fake)
    });

    let error = provider
        .send(&text(Channel::Whatsapp, CUSTOMER, "Hello"))
        .await
        .unwrap_err();

    assert!(
        matches!(&error, SendError::Permanent { code: None, reason } if reason.starts_with("WhatsApp is not set up:")),
        "{error:?}"
    );
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn an_invalid_number_is_refused_for_good_in_plain_words() {
    let fake = fake_twilio().await;
    fake.answer_with(Answer::Refuse {
        code: 21211,
        status: 400,
        message: None,
    });

    let error = twilio_for(&fake)
        .send(&text(Channel::Sms, CUSTOMER, "Hello"))
        .await
        .unwrap_err();

    assert_eq!(
        error,
        SendError::Permanent {
            code: Some(21211),
            reason: "The number is not a valid phone number.".to_owned()
        }
    );
    no_violations(&fake);
}

#[tokio::test]
async fn a_free_form_whatsapp_message_after_24_hours_says_to_use_a_template() {
    let fake = fake_twilio().await;
    fake.answer_with(Answer::Refuse {
        code: 63016,
        status: 400,
        message: None,
    });

    let error = twilio_for(&fake)
        .send(&text(Channel::Whatsapp, CUSTOMER, "Hello again"))
        .await
        .unwrap_err();

    let SendError::Permanent { code, reason } = error else {
        panic!("expected a permanent error, got {error:?}");
    };
    assert_eq!(code, Some(63016));
    assert!(reason.ends_with("use a template."), "{reason}");
}

#[tokio::test]
async fn an_unknown_error_code_is_reported_in_twilios_words() {
    let fake = fake_twilio().await;
    fake.answer_with(Answer::Refuse {
        code: 21999,
        status: 400,
        message: Some("Something new went wrong.".to_owned()),
    });

    let error = twilio_for(&fake)
        .send(&text(Channel::Sms, CUSTOMER, "Hello"))
        .await
        .unwrap_err();

    assert_eq!(
        error,
        SendError::Permanent {
            code: Some(21999),
            reason: "Twilio refused the message (code 21999): Something new went wrong.".to_owned()
        }
    );
}

#[tokio::test]
async fn too_many_requests_is_transient_and_keeps_the_retry_after() {
    let fake = fake_twilio().await;
    fake.answer_with(Answer::RateLimit { retry_after: 3 });

    let error = twilio_for(&fake)
        .send(&text(Channel::Sms, CUSTOMER, "Hello"))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            SendError::Transient {
                retry_after: Some(wait),
                ..
            } if wait == Duration::from_secs(3)
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_server_error_is_transient() {
    let fake = fake_twilio().await;
    fake.answer_with(Answer::ServerError { status: 500 });

    let error = twilio_for(&fake)
        .send(&text(Channel::Sms, CUSTOMER, "Hello"))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            SendError::Transient {
                retry_after: None,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn retrying_through_an_outage_delivers_exactly_once() {
    let fake = fake_twilio().await;
    fake.answer_in_turn([
        Answer::ServerError { status: 500 },
        Answer::ServerError { status: 503 },
        Answer::Accept,
    ]);
    let provider = twilio_for(&fake);
    let message = text(Channel::Sms, CUSTOMER, "Your order is ready.");

    let mut outcomes = Vec::new();
    for _ in 0..5 {
        let outcome = provider.send(&message).await;
        let transient = matches!(outcome, Err(SendError::Transient { .. }));
        outcomes.push(outcome);
        if !transient {
            break;
        }
    }

    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(outcomes.last().is_some_and(Result::is_ok), "{outcomes:?}");
    assert_eq!(fake.delivered_to(CUSTOMER), 1);
    assert_eq!(fake.delivered_with_body("Your order is ready."), 1);
    no_violations(&fake);
}

#[tokio::test]
async fn a_twilio_that_never_answers_leaves_the_outcome_unknown_after_the_timeout() {
    let fake = fake_twilio().await;
    fake.answer_with(Answer::Hang);
    let provider = twilio(TwilioConfig {
        timeout: Duration::from_millis(500),
        ..support::twilio_config(&fake)
    });

    let started = std::time::Instant::now();
    let error = provider
        .send(&text(Channel::Sms, CUSTOMER, "Hello"))
        .await
        .unwrap_err();

    assert!(matches!(error, SendError::Unknown { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // The request did arrive: sending it again could deliver it twice.
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn a_connection_closed_before_the_answer_leaves_the_outcome_unknown() {
    let fake = fake_twilio().await;
    fake.answer_with(Answer::Drop);

    let error = twilio_for(&fake)
        .send(&text(Channel::Sms, CUSTOMER, "Hello"))
        .await
        .unwrap_err();

    assert!(matches!(error, SendError::Unknown { .. }), "{error:?}");
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn nothing_listening_is_transient() {
    let fake = fake_twilio().await;
    let closed_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let provider = twilio(TwilioConfig {
        api_url: format!("http://127.0.0.1:{closed_port}").parse().unwrap(),
        ..support::twilio_config(&fake)
    });

    let error = provider
        .send(&text(Channel::Sms, CUSTOMER, "Hello"))
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            SendError::Transient {
                retry_after: None,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_fake_refuses_a_request_that_breaks_the_contract() {
    let fake = fake_twilio().await;
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        fake.base_url(),
        fake.account_sid()
    );

    let response = reqwest::Client::new()
        .post(url)
        .basic_auth(fake.account_sid(), Some(fake.auth_token()))
        .form(&[("To", CUSTOMER), ("Body", "No sender")])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 400);
    let [violation] = fake.violations().try_into().unwrap();
    assert_eq!(
        violation.violations,
        ["neither From nor MessagingServiceSid is given"]
    );
    assert_eq!(fake.delivered().total, 0);
}

#[tokio::test]
async fn the_log_provider_accepts_without_sending_anything() {
    let provider = Provider::Log(LogProvider::new());

    let accepted = provider
        .send(&text(Channel::Sms, CUSTOMER, "Hello"))
        .await
        .unwrap();

    assert_eq!(provider.name(), "log");
    assert!(accepted.provider_id.starts_with("log-"));
    assert_eq!(accepted.status, None);
}
