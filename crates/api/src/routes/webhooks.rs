//! Provider callbacks: Twilio's status reports and inbound messages (STOP/START).
//!
//! Not signed in: Twilio proves itself with `X-Twilio-Signature`, an HMAC of the URL it called
//! (`PUBLIC_URL` + this path) and the form, keyed with the account's auth token.

use actix_web::{HttpRequest, HttpResponse, post, web};
use crm_db::{customers, messages};
use secrecy::ExposeSecret;

use crate::error::ApiError;
use crate::state::AppState;
use crate::twilio::{self, Callback};

/// The path Twilio is told to call (`StatusCallback`, and the number's messaging webhook).
pub const TWILIO_PATH: &str = "/api/v1/webhooks/twilio";

/// Twilio's status callback and inbound-message webhook. Repeats (same
/// `I-Twilio-Idempotency-Token`) are acknowledged and ignored.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "twilio_webhook",
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's form: `MessageSid` and `MessageStatus` (status callback), or `From` and `Body` (inbound)"),
    responses(
        (status = 200, description = "Handled (or ignored); an empty TwiML answer", body = String, content_type = "text/xml"),
        (status = 403, description = "The signature is missing or wrong, or the webhook is not configured", body = crm_contract::Problem, content_type = "application/problem+json"),
        (status = 503, description = "PostgreSQL is unavailable; Twilio retries", body = crm_contract::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/twilio")]
pub async fn twilio_callback(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let form = twilio::parse_form(&body);
    verify(&state, &request, &form)?;
    let token = header(&request, "I-Twilio-Idempotency-Token");
    let callback = twilio::interpret(&form);
    state
        .db(move |conn| {
            if let Some(token) = token
                && !messages::first_delivery(conn, &token)?
            {
                return Ok(());
            }
            match callback {
                Callback::Status {
                    provider_id,
                    status,
                    reason,
                } => {
                    messages::record_report(conn, &provider_id, status, reason.as_deref())?;
                }
                Callback::OptOut {
                    number,
                    channel,
                    opt_out,
                } => {
                    customers::set_opt_out_by_number(conn, &number, channel, opt_out)?;
                }
                Callback::Ignored => {}
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/xml")
        .body(r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#))
}

/// Refuses a callback that is not signed with the configured auth token for `PUBLIC_URL`.
fn verify(state: &AppState, request: &HttpRequest, form: &twilio::Form) -> Result<(), ApiError> {
    let refused = || ApiError::Forbidden("The Twilio signature is missing or wrong.".into());
    let (Some(token), Some(public)) = (&state.config.twilio_auth_token, &state.config.public_url)
    else {
        return Err(refused());
    };
    let mut url = format!("{}{TWILIO_PATH}", public.as_str().trim_end_matches('/'));
    if !request.query_string().is_empty() {
        url = format!("{url}?{}", request.query_string());
    }
    let signature = header(request, "X-Twilio-Signature").ok_or_else(refused)?;
    if twilio::signature_is_valid(token.expose_secret(), &url, form, &signature) {
        Ok(())
    } else {
        Err(refused())
    }
}

fn header(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}
