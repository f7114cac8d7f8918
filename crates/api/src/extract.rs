//! Request extractors that turn bad input into precise problems instead of actix's defaults.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use crm_domain::{FieldErrors, REQUIRED};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use crate::error::ApiError;

/// The largest JSON body accepted.
pub const MAX_JSON_BYTES: usize = 256 * 1024;

/// A JSON body, deserialized with field-level errors:
/// malformed JSON is a 400 saying where; a wrong type, a missing or an unknown field is a 422
/// naming the field; a body over 256 KiB is a 413; a body sent without
/// `Content-Type: application/json` (another type, or none) is a 415.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        let mut payload = payload.take();
        Box::pin(async move {
            if content_type_ok != Some(true) {
                return Err(ApiError::UnsupportedMediaType(
                    "Send the body as JSON with 'Content-Type: application/json'.".into(),
                ));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk
                    .map_err(|_| ApiError::BadRequest("The body could not be read.".into()))?;
                if body.len() + chunk.len() > MAX_JSON_BYTES {
                    return Err(ApiError::PayloadTooLarge(format!(
                        "The body must be at most {} KiB.",
                        MAX_JSON_BYTES / 1024
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(JsonBody)
        })
    }
}

/// Deserializes `body`, mapping each kind of serde failure to the right problem.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "The body is empty; send a JSON object.".into(),
        ));
    }
    // serde would also build a struct from a JSON array; the API only takes objects.
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::BadRequest(
            "The body must be a JSON object, not an array.".into(),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(problem_of)?;
    deserializer.end().map_err(|inner| malformed(&inner))?;
    refuse_nul_in_json(body)?;
    Ok(value)
}

/// What a field holding a NUL character gets: PostgreSQL can't store one in text, and no
/// legitimate input carries one.
pub const NUL_MESSAGE: &str = "Must not contain a NUL character (\\u0000).";

/// A 422 naming each string (or key) of the JSON `body` that holds a NUL character. JSON can
/// only carry one escaped, so a body without `\u0000` is passed over without parsing it again.
fn refuse_nul_in_json(body: &[u8]) -> Result<(), ApiError> {
    if !body.windows(6).any(|w| w == br"\u0000") {
        return Ok(());
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
    let mut errors = FieldErrors::new();
    find_nul(&value, "", &mut errors);
    errors.into_result(|| ()).map_err(ApiError::from)
}

fn find_nul(value: &serde_json::Value, path: &str, errors: &mut FieldErrors) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(text) if text.contains('\0') => {
            errors.add(if path.is_empty() { "." } else { path }, NUL_MESSAGE);
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                find_nul(item, &join(&index.to_string()), errors);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                let key = if key.contains('\0') {
                    let key = key.replace('\0', "\\u0000");
                    errors.add(join(&key), NUL_MESSAGE);
                    key
                } else {
                    key.clone()
                };
                find_nul(item, &join(&key), errors);
            }
        }
        _ => {}
    }
}

/// Middleware: a query parameter whose name or value holds a NUL character (`%00`) is a 422
/// naming it, whichever extractor would have read it.
pub async fn refuse_nul_in_query(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let mut errors = FieldErrors::new();
    if let Ok(pairs) = web::Query::<Vec<(String, String)>>::from_query(req.query_string()) {
        for (name, value) in pairs.iter() {
            if name.contains('\0') || value.contains('\0') {
                errors.add(name.replace('\0', "\\u0000"), NUL_MESSAGE);
            }
        }
    }
    if !errors.is_empty() {
        return Ok(req.error_response(ApiError::Invalid(errors)));
    }
    next.call(req)
        .await
        .map(actix_web::dev::ServiceResponse::map_into_boxed_body)
}

fn malformed(inner: &serde_json::Error) -> ApiError {
    ApiError::BadRequest(format!(
        "Malformed JSON at line {} column {}: {}.",
        inner.line(),
        inner.column(),
        message_of(inner)
    ))
}

fn problem_of(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if !inner.is_data() {
        return malformed(&inner);
    }
    let message = message_of(&inner);
    let parent = if path == "." {
        String::new()
    } else {
        format!("{path}.")
    };
    let mut errors = FieldErrors::new();
    if let Some(field) = between_backticks(&message, "missing field `") {
        errors.add(format!("{parent}{field}"), REQUIRED);
    } else if let Some(field) = between_backticks(&message, "unknown field `") {
        // The path already ends at the unknown key.
        let key = if path.ends_with(field) {
            path.clone()
        } else {
            format!("{parent}{field}")
        };
        errors.add(key, "Unknown field.");
    } else if path == "." {
        return ApiError::BadRequest(format!("The body must be a JSON object: {message}."));
    } else {
        errors.add(path, format!("{}.", capitalize(&message)));
    }
    ApiError::Invalid(errors)
}

/// serde_json's message without its " at line N column M" suffix.
fn message_of(error: &serde_json::Error) -> String {
    let text = error.to_string();
    text.rsplit_once(" at line ")
        .map_or(text.clone(), |(message, _)| message.to_owned())
}

fn between_backticks<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    message.strip_prefix(prefix)?.split('`').next()
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Deserializes an optional field that may also be `null`: absent -> `None`,
/// `null` -> `Some(None)`, a value -> `Some(Some(value))`. For PATCH bodies.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// The client's address, for rate limiting: the TCP peer, unless the peer is one of the
/// `trusted` reverse proxies; then the right-most address in `X-Forwarded-For` that is not
/// itself a trusted proxy (hops further left can be forged by the client). `None` when the
/// peer is unknown.
pub fn client_ip(req: &HttpRequest, trusted: &[ipnet::IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|addr| canonical(addr.ip()))?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // Garbage where an address should be: trust nothing further left.
            return Some(client);
        };
        client = ip;
        if !is_trusted(&client) {
            break;
        }
    }
    Some(client)
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .map(canonical)
}

/// IPv4 addresses written as IPv6 (`::ffff:1.2.3.4`) as the IPv4 addresses they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Room a multipart upload needs beyond its file: the other fields and the boundaries.
pub const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// Whether the request says (`Content-Length`) it is longer than `limit` bytes, so it can be
/// refused before a byte of it is read.
pub fn declares_more_than(headers: &actix_web::http::header::HeaderMap, limit: usize) -> bool {
    headers
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|length| length > limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        age: Option<u8>,
    }

    fn errors_of(result: Result<Input, ApiError>) -> Vec<(String, Vec<String>)> {
        match result {
            Err(ApiError::Invalid(errors)) => errors
                .iter()
                .map(|(f, m)| (f.to_owned(), m.to_vec()))
                .collect(),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_a_bad_request_that_says_where() {
        match parse_json::<Input>(br#"{"name": "Ada",,}"#) {
            Err(ApiError::BadRequest(detail)) => {
                assert!(
                    detail.starts_with("Malformed JSON at line 1 column"),
                    "{detail}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_json::<Input>(b"  "),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Input>(b"[1]"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Input>(br#"{"name":"a"} x"#),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let errors = errors_of(parse_json(br#"{"name": 5}"#));
        assert_eq!(errors[0].0, "name");
        assert!(errors[0].1[0].starts_with("Invalid type: integer `5`, expected a string"));
    }

    #[test]
    fn missing_and_unknown_fields_are_field_errors() {
        assert_eq!(
            errors_of(parse_json(br#"{"age": 3}"#)),
            vec![("name".to_owned(), vec![REQUIRED.to_owned()])]
        );
        assert_eq!(
            errors_of(parse_json(br#"{"name": "a", "colour": 3}"#)),
            vec![("colour".to_owned(), vec!["Unknown field.".to_owned()])]
        );
        let errors = errors_of(parse_json(br#"{"name": "a", "age": 300}"#));
        assert_eq!(errors[0].0, "age");
    }
}
