//! `Idempotency-Key` on POST: a retried request gets the first request's answer instead of
//! doing the work twice (a second customer, a second invoice and receipt).
//!
//! The request is authenticated first, exactly as its handler will (and the handler reuses the
//! outcome): a request without valid credentials, or a cookie request without its CSRF token,
//! goes straight to the handler, which refuses it, with its body unread and nothing stored. A
//! key belongs to the user and the credential that was checked: the session or the API token.
//! Once that credential ends (sign-out, a password change, a reset, revocation, expiry) its keys
//! can't be reached any more, and a session's are deleted with it. Answers of `/auth/…`,
//! `/tokens` (a new token's secret) and `/setup` are never stored.
//!
//! Answers below 500 are kept for [`KEEP_FOR`], except those that depend on the moment rather
//! than the request (401, 403, 429); a server error releases the key so a retry does the work.
//! The same key with a different request is refused with 422; a retry while the first request is
//! still running gets 409.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use chrono::TimeDelta;
use crm_db::idempotency::{self as keys, Claim, Owner, StoredAnswer};
use crm_domain::FieldErrors;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::extract::{MULTIPART_OVERHEAD, declares_more_than};
use crate::state::AppState;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// How long answers are kept.
pub const KEEP_FOR: TimeDelta = TimeDelta::hours(24);
/// The longest key.
const MAX_KEY_CHARS: usize = 255;

/// The middleware (`actix_web::middleware::from_fn`).
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some((key, owner, state)) = applies(&req).await else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let key = match key {
        Ok(key) => key,
        Err(error) => return Ok(req.error_response(error)),
    };
    let (body, fingerprint) = match buffered(&mut req, &state).await {
        Ok(read) => read,
        Err(error) => return Ok(req.error_response(error)),
    };
    match claim(&state, owner, key.clone(), fingerprint).await {
        Ok(None) => {}
        Ok(Some(replayed)) => return Ok(req.into_response(replayed)),
        Err(error) => return Ok(req.error_response(error)),
    }
    req.set_payload(Payload::from(body));
    match next.call(req).await {
        Ok(response) => Ok(settle(&state, owner, key, response).await),
        Err(error) => {
            forget(&state, owner, key).await;
            Err(error)
        }
    }
}

/// The key (or why it is not one), its owner and the app's state, when the request is one the
/// middleware looks after: a signed-in POST with an `Idempotency-Key`, to a path whose answers
/// may be stored. Anything else goes straight to its handler (which refuses a request that is
/// not signed in, with its body unread).
async fn applies(
    req: &ServiceRequest,
) -> Option<(Result<String, ApiError>, Owner, web::Data<AppState>)> {
    let key = req.headers().get(HEADER)?;
    if req.method() != Method::POST || never_stored(req.match_info().unprocessed()) {
        return None;
    }
    let key = key
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .map(str::to_owned);
    let owner = authenticate(req.request()).await.ok()?.idempotency_owner();
    let state = req.app_data::<web::Data<AppState>>().cloned()?;
    let key = key.ok_or_else(|| {
        let mut errors = FieldErrors::new();
        errors.add(
            HEADER,
            format!("Must be 1 to {MAX_KEY_CHARS} visible ASCII characters, e.g. a UUID."),
        );
        ApiError::from(errors)
    });
    Some((key, owner, state))
}

/// Reads the whole body (413 beyond the upload limit, as the upload handler says it) and
/// fingerprints the request with it.
async fn buffered(
    req: &mut ServiceRequest,
    state: &AppState,
) -> Result<(web::Bytes, Vec<u8>), ApiError> {
    let max_upload = state
        .config
        .max_upload_bytes
        .max(crate::extract::MAX_JSON_BYTES);
    let too_large = ApiError::PayloadTooLarge(format!(
        "The upload must be at most {} MiB.",
        max_upload.div_ceil(1024 * 1024)
    ));
    let limit = max_upload.saturating_add(MULTIPART_OVERHEAD);
    if declares_more_than(req.headers(), limit) {
        return Err(too_large);
    }
    let body = read_body(req.take_payload(), limit, too_large).await?;
    let fingerprint = fingerprint(
        req.method().as_str(),
        req.uri().path_and_query().map_or("", |p| p.as_str()),
        req.headers()
            .get(header::CONTENT_TYPE)
            .map_or(b"".as_slice(), |v| v.as_bytes()),
        &body,
    );
    Ok((body, fingerprint))
}

/// Claims the key for this request: `None` when it is ours to work on, the stored answer when
/// the request was answered before; 409 while it is still being worked on, 422 when the key
/// was used for another request.
async fn claim(
    state: &AppState,
    owner: Owner,
    key: String,
    fingerprint: Vec<u8>,
) -> Result<Option<HttpResponse>, ApiError> {
    let claim = state
        .db(move |conn| Ok(keys::claim(conn, &owner, &key, &fingerprint)?))
        .await?;
    match claim {
        Claim::Claimed => Ok(None),
        Claim::Answered(answer) => Ok(Some(replay(answer))),
        Claim::InProgress => Err(ApiError::Conflict(format!(
            "A request with this {HEADER} is still being worked on; retry in a moment."
        ))),
        Claim::OtherRequest => {
            let mut errors = FieldErrors::new();
            errors.add(
                HEADER,
                "This key was used for a different request: use a new key for a new request.",
            );
            Err(errors.into())
        }
    }
}

/// After the handler: keeps an answer worth giving again, or releases the key (in the
/// background after a 503, when PostgreSQL is most likely down).
async fn settle(
    state: &AppState,
    owner: Owner,
    key: String,
    response: ServiceResponse<impl MessageBody + 'static>,
) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !keeps(status) {
        if status == StatusCode::SERVICE_UNAVAILABLE {
            forget_later(state, owner, key);
        } else {
            forget(state, owner, key).await;
        }
        return response.map_into_boxed_body();
    }
    let (req, response) = response.into_parts();
    let header_text = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (content_type, location) = (
        header_text(header::CONTENT_TYPE),
        header_text(header::LOCATION),
    );
    let (head, body) = response.into_parts();
    let Ok(body) = actix_web::body::to_bytes(body).await else {
        forget(state, owner, key).await;
        let error = ApiError::internal(anyhow::anyhow!("response body could not be read"));
        return ServiceResponse::new(req, error.error_response());
    };
    let answer = StoredAnswer {
        status: i16::try_from(status.as_u16()).unwrap_or(i16::MAX),
        content_type,
        location,
        body: body.to_vec(),
    };
    let stored = state
        .db(move |conn| Ok(keys::complete(conn, &owner, &key, &answer)?))
        .await;
    if let Err(error) = stored {
        // The work is done and its answer goes out; only a retry would repeat it.
        tracing::warn!(%error, "idempotent answer not stored");
    }
    ServiceResponse::new(req, head.set_body(body).map_into_boxed_body())
}

/// Whether answers to the path (within `/api/v1`, as the router reads it) are never stored:
/// sign-in and one's own account (`/auth/…`), API tokens (a new one's answer holds its secret),
/// and first-run setup.
fn never_stored(path: &str) -> bool {
    ["/auth/", "/tokens", "/setup"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

fn valid_key(key: &str) -> bool {
    (1..=MAX_KEY_CHARS).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What makes two requests the same one: method, path and query, content type and body. A
/// multipart body counts by its parts (headers and contents), not its boundary, which browsers
/// choose afresh for every send of the same form.
pub fn fingerprint(
    method: &str,
    path_and_query: &str,
    content_type: &[u8],
    body: &[u8],
) -> Vec<u8> {
    let mut hasher = Sha256::new();
    let boundary = multipart_boundary(content_type);
    let parts = boundary.as_deref().and_then(|b| multipart_parts(body, b));
    let content_type: &[u8] = if parts.is_some() {
        b"multipart/form-data"
    } else {
        content_type
    };
    for part in [method.as_bytes(), path_and_query.as_bytes(), content_type] {
        hasher.update(part);
        hasher.update(b"\0");
    }
    match parts {
        Some(parts) => {
            for (headers, content) in parts {
                // Lengths first, so that no two different part lists hash alike.
                for piece in [headers, content] {
                    hasher.update(piece.len().to_be_bytes());
                    hasher.update(piece);
                }
            }
        }
        None => hasher.update(body),
    }
    hasher.finalize().to_vec()
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(content_type).ok()?;
    let mut params = text.split(';');
    if !params
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    params.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').as_bytes().to_vec())
            .filter(|b| !b.is_empty())
    })
}

/// The parts of a multipart body: each one's header block and content.
fn multipart_parts<'a>(body: &'a [u8], boundary: &[u8]) -> Option<Vec<(&'a [u8], &'a [u8])>> {
    let delimiter = [b"--".as_slice(), boundary].concat();
    let find =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let end = find(rest, &[b"\r\n".as_slice(), &delimiter].concat())?;
        let part = &rest[..end];
        let split = find(part, b"\r\n\r\n")?;
        parts.push((&part[..split], &part[split + 4..]));
        rest = &rest[end + 2 + delimiter.len()..];
    }
}

/// The whole body, up to `limit` bytes (413 beyond).
async fn read_body(
    mut payload: Payload,
    limit: usize,
    too_large: ApiError,
) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::BadRequest("The request body was cut short.".into()))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Whether an answer is the request's own, worth giving again to a retry.
fn keeps(status: StatusCode) -> bool {
    !status.is_server_error()
        && !matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        )
}

/// The stored answer, marked as a replay.
fn replay(answer: StoredAnswer) -> HttpResponse {
    let status = u16::try_from(answer.status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response.insert_header(("Idempotent-Replayed", "true"));
    if let Some(content_type) = answer.content_type {
        response.insert_header((header::CONTENT_TYPE, content_type));
    }
    if let Some(location) = answer.location {
        response.insert_header((header::LOCATION, location));
    }
    response.body(answer.body)
}

/// Releases the key in the background, after a 503: PostgreSQL is most likely down, and waiting
/// for a connection to release the key would keep the caller waiting as long again.
fn forget_later(state: &AppState, owner: Owner, key: String) {
    let state = state.clone();
    actix_web::rt::spawn(async move { forget(&state, owner, key).await });
}

/// Releases a claimed key after an answer not worth keeping.
async fn forget(state: &AppState, owner: Owner, key: String) {
    let released = state
        .db(move |conn| Ok(keys::release(conn, &owner, &key)?))
        .await;
    if let Err(error) = released {
        tracing::warn!(%error, "idempotency key not released; it expires in a day");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(valid_key("4f9c2a4e-8d1e-4c6b-9c55-0d9a1c2b3e4f"));
        assert!(!valid_key(""));
        assert!(!valid_key("with space"));
        assert!(!valid_key("ключ"));
        assert!(!valid_key(&"k".repeat(256)));
    }

    #[test]
    fn a_form_sent_again_with_another_boundary_is_the_same_request() {
        let form = |boundary: &str, amount: &str| {
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n{amount}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"receipt\"; filename=\"r.pdf\"\r\n\
                 Content-Type: application/pdf\r\n\r\n%PDF-1.7 body\r\n--{boundary}--\r\n"
            );
            let content_type = format!("multipart/form-data; boundary={boundary}");
            fingerprint(
                "POST",
                "/api/v1/customers/1/invoices",
                content_type.as_bytes(),
                body.as_bytes(),
            )
        };
        assert_eq!(
            form("----a1", "12.50"),
            form("----WebKitFormBoundaryZ9", "12.50")
        );
        assert_ne!(form("----a1", "12.50"), form("----a1", "12.51"));
        let json = |body: &str| {
            fingerprint(
                "POST",
                "/api/v1/customers",
                b"application/json",
                body.as_bytes(),
            )
        };
        assert_eq!(json("{}"), json("{}"));
        assert_ne!(json("{}"), json("{ }"));
    }

    #[test]
    fn sign_in_tokens_and_setup_are_never_stored() {
        for path in ["/auth/login", "/auth/password", "/tokens", "/setup"] {
            assert!(never_stored(path), "{path}");
        }
        for path in ["/customers", "/customers/1/invoices", "/reminders"] {
            assert!(!never_stored(path), "{path}");
        }
    }

    #[test]
    fn answers_that_depend_on_the_moment_are_not_kept() {
        for kept in [200, 201, 204, 400, 404, 409, 413, 422] {
            assert!(keeps(StatusCode::from_u16(kept).unwrap()), "{kept}");
        }
        for not_kept in [401, 403, 429, 500, 503] {
            assert!(
                !keeps(StatusCode::from_u16(not_kept).unwrap()),
                "{not_kept}"
            );
        }
    }
}
