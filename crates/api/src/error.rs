//! The one error type of the API, answered as RFC 9457 problem details.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use crm_contract::Problem;
use crm_domain::FieldErrors;

/// Every way a request can fail. 4xx variants say what the client can fix; `Internal` logs
/// its cause and answers a bare 500.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body can't be read (malformed JSON, empty body…).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: no valid session or token.
    #[error("not signed in")]
    Unauthorized,
    /// 401: wrong email or password.
    #[error("wrong credentials")]
    BadCredentials,
    /// 403: signed in but not allowed, or a missing/wrong CSRF token.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: no such record or route.
    #[error("not found")]
    NotFound,
    /// 405: the route exists but not with this method; `allow` lists those it takes.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    /// 409: the request conflicts with the record's state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 413: the body is larger than allowed.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// 415: the body is not of a type this endpoint reads.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 422: fields that break their rules, with a message each.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// 429: too many attempts; try again after this many seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until the next attempt may succeed.
        retry_after_secs: u64,
    },
    /// 503: a dependency (PostgreSQL) is down.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure; details go to the log only.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

/// Seconds a client should wait before retrying after a 503.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

impl ApiError {
    /// 422 for a single field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        Self::Invalid(errors)
    }

    /// Wraps any unexpected failure.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("bad-request", "Malformed request"),
            Self::Unauthorized => ("unauthorized", "Not signed in"),
            Self::BadCredentials => ("bad-credentials", "Wrong email or password"),
            Self::Forbidden(_) => ("forbidden", "Forbidden"),
            Self::NotFound => ("not-found", "Not found"),
            Self::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            Self::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Self::Invalid(_) => ("invalid-input", "Invalid input"),
            Self::RateLimited { .. } => ("rate-limited", "Too many attempts"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::Internal(_) => ("internal", "Internal server error"),
        }
    }

    fn detail(&self) -> Option<String> {
        match self {
            Self::BadRequest(d)
            | Self::Forbidden(d)
            | Self::Conflict(d)
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d) => Some(d.clone()),
            Self::Unauthorized => {
                Some("Sign in, or send an API token as 'Authorization: Bearer <token>'.".into())
            }
            Self::BadCredentials => Some("The email or password is incorrect.".into()),
            Self::NotFound => Some("There is nothing at this address.".into()),
            Self::MethodNotAllowed { .. } => {
                Some("This address does not accept that method.".into())
            }
            Self::Invalid(_) => Some("Some fields are not valid; see errors.".into()),
            Self::RateLimited { retry_after_secs } => Some(format!(
                "Too many failed attempts; try again in {retry_after_secs} seconds."
            )),
            Self::Unavailable(_) => {
                Some("The service is temporarily unavailable; try again shortly.".into())
            }
            Self::Internal(_) => None,
        }
    }

    /// The problem body for this error.
    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            errors: match self {
                Self::Invalid(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed")
            }
            Self::Unavailable(cause) => tracing::warn!(%cause, "dependency unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        match self {
            Self::RateLimited { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_SECS.to_string()));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, allow.clone()));
            }
            Self::Unauthorized => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"crm\""),
                ));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        if matches!(error, diesel::result::Error::NotFound) {
            Self::NotFound
        } else if crm_db::is_connection_error(&error) {
            Self::Unavailable(error.to_string())
        } else {
            Self::Internal(error.into())
        }
    }
}

impl From<crm_db::messages::ChangeError> for ApiError {
    fn from(error: crm_db::messages::ChangeError) -> Self {
        use crm_db::messages::ChangeError;
        match error {
            ChangeError::WrongStatus(status) => Self::Conflict(format!(
                "This message is {}: only scheduled messages can be changed or canceled, and only failed or unknown ones resent.",
                status.as_str()
            )),
            ChangeError::StaleVersion { current } => Self::Conflict(format!(
                "This message was changed meanwhile (it is now version {current}): reload it and try again."
            )),
            ChangeError::Db(error) => error.into(),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn internal_errors_tell_nothing_of_their_cause() {
        let error = ApiError::internal(anyhow::anyhow!("relation \"users\" does not exist"));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body()).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        assert!(!text.contains("relation"), "{text}");
        assert!(text.contains("\"status\":500"));
    }

    #[test]
    fn a_missing_row_is_a_404_and_a_dropped_connection_a_503() {
        assert!(matches!(
            ApiError::from(diesel::result::Error::NotFound),
            ApiError::NotFound
        ));
        let closed = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection".to_owned()),
        );
        assert!(matches!(ApiError::from(closed), ApiError::Unavailable(_)));
    }

    #[test]
    fn validation_problems_carry_each_fields_messages() {
        let problem =
            ApiError::field("receipt", "Only PDF, JPEG or PNG files are allowed.").problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.title, "Invalid input");
        assert_eq!(
            problem
                .errors
                .and_then(|e| e.get("receipt").map(<[String]>::to_vec)),
            Some(vec!["Only PDF, JPEG or PNG files are allowed.".to_owned()])
        );
    }
}

/// Reusable problem responses for the OpenAPI description (`components/responses`), and the
/// sets of them that operations share.
pub mod responses {
    use crm_contract::Problem;
    use utoipa::{IntoResponses, ToResponse};

    /// Malformed JSON, a body that is not a JSON object, or an unreadable query string.
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Malformed(pub Problem);

    /// Not signed in: no valid session cookie or bearer token.
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct NotSignedIn(pub Problem);

    /// A cookie request without the session's CSRF token in `X-CSRF-Token`.
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct CsrfRejected(pub Problem);

    /// No such record.
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct NotFound(pub Problem);

    /// Invalid fields or parameters; `errors` maps each to its messages.
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct InvalidInput(pub Problem);

    /// The upload is larger than `MAX_UPLOAD_BYTES`.
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct UploadTooLarge(pub Problem);

    /// The body is not `multipart/form-data`.
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct NotMultipart(pub Problem);

    /// PostgreSQL is unreachable; retry after `Retry-After` seconds.
    #[derive(Debug, ToResponse)]
    #[response(content_type = "application/problem+json")]
    pub struct Unavailable(pub Problem);

    /// Declares a set of the responses above, each under its status, for `responses(...)`.
    macro_rules! response_set {
        ($(#[$doc:meta])* $name:ident { $($status:tt => $response:ident),* $(,)? }) => {
            $(#[$doc])*
            #[derive(Debug, IntoResponses)]
            pub enum $name {
                $(
                    #[response(status = $status)]
                    $response(#[ref_response] $response),
                )*
            }
        };
    }

    response_set!(
        /// The errors of reading one record: 401, 404, 503.
        ReadOne { 401 => NotSignedIn, 404 => NotFound, 503 => Unavailable }
    );
    response_set!(
        /// The errors of a list: 400 (an unreadable query string), 401, 422 (bad parameters), 503.
        ReadList { 400 => Malformed, 401 => NotSignedIn, 422 => InvalidInput, 503 => Unavailable }
    );
    response_set!(
        /// The errors of a list that belongs to one record: [`ReadList`]'s and 404.
        ReadListOf {
            400 => Malformed, 401 => NotSignedIn, 404 => NotFound, 422 => InvalidInput,
            503 => Unavailable,
        }
    );
    response_set!(
        /// The errors of a JSON write: 400, 401, 403 (CSRF), 422, 503.
        Write {
            400 => Malformed, 401 => NotSignedIn, 403 => CsrfRejected, 422 => InvalidInput,
            503 => Unavailable,
        }
    );
    response_set!(
        /// The errors of a JSON write to one record: [`Write`]'s and 404.
        WriteOne {
            400 => Malformed, 401 => NotSignedIn, 403 => CsrfRejected, 404 => NotFound,
            422 => InvalidInput, 503 => Unavailable,
        }
    );
    response_set!(
        /// The errors of an action on one record without a body: 401, 403 (CSRF), 404, 503.
        ActOnOne { 401 => NotSignedIn, 403 => CsrfRejected, 404 => NotFound, 503 => Unavailable }
    );
    response_set!(
        /// The errors of an action on one's own session: 401, 403 (CSRF), 503.
        ActOnSelf { 401 => NotSignedIn, 403 => CsrfRejected, 503 => Unavailable }
    );
    response_set!(
        /// The errors of a receipt upload to one record: [`WriteOne`]'s, 413 and 415.
        Upload {
            400 => Malformed, 401 => NotSignedIn, 403 => CsrfRejected, 404 => NotFound,
            413 => UploadTooLarge, 415 => NotMultipart, 422 => InvalidInput, 503 => Unavailable,
        }
    );
}
