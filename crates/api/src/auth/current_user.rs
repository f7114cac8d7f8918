//! Who is asking: a bearer token, or a session cookie plus CSRF check. [`authenticate`] works it
//! out once per request (the idempotency middleware asks before the handler does); the
//! `CurrentUser` extractor reuses the answer.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::Utc;
use crm_db::users::User;
use crm_domain::{ApiTokenId, Role, UserId};

use super::cookies::{self, CSRF_HEADER};
use super::secrets;
use crate::error::ApiError;
use crate::state::AppState;

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// A session cookie; holds the session secret's hash, so sign-out can end it.
    Session {
        /// The session's row.
        id: i64,
        /// SHA-256 of the session secret.
        token_hash: Vec<u8>,
    },
    /// A personal API token.
    Token {
        /// Which token.
        id: ApiTokenId,
    },
}

/// The signed-in user making the request. Extracting it answers 401 without valid
/// credentials, and 403 for an unsafe cookie request without the matching CSRF token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: chrono::DateTime<Utc>,
    /// The IANA zone the user's times are shown in (`None`: not set yet, UTC meanwhile).
    pub timezone: Option<String>,
    pub method: AuthMethod,
}

impl CurrentUser {
    /// The user's time zone; UTC while none is set.
    pub fn zone(&self) -> crm_domain::TimeZone {
        crm_domain::TimeZone::stored_or_utc(self.timezone.as_deref())
    }

    /// Whether the user may see everyone's records, not only their own.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The credential the request was authenticated with, which its idempotency keys belong to.
    pub fn idempotency_owner(&self) -> crm_db::idempotency::Owner {
        use crm_db::idempotency::Credential;
        crm_db::idempotency::Owner {
            user: self.id,
            credential: match &self.method {
                AuthMethod::Session { id, .. } => Credential::Session(*id),
                AuthMethod::Token { id } => Credential::Token(*id),
            },
        }
    }

    fn new(user: User, method: AuthMethod) -> Result<Self, ApiError> {
        Ok(Self {
            id: user.id,
            role: user.role,
            email: user.email,
            name: user.name,
            created_at: user.created_at,
            timezone: user.timezone,
            method,
        })
    }
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    /// The user [`authenticate`] worked out (the sign-in middleware, [`super::required`], asks
    /// first on every route that needs sign-in), or on other routes the credentials checked now.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

/// The outcome of authenticating a request, kept in its extensions so that it is worked out
/// (and the session slid) once, however many parts of the app ask.
#[derive(Debug, Clone)]
enum Outcome {
    SignedIn(CurrentUser),
    NotSignedIn,
    Forbidden(String),
}

/// Who sends `req`: its bearer token or its session (with the CSRF token on unsafe methods),
/// still valid now. 401 without valid credentials, 403 for an unsafe cookie request without the
/// matching CSRF token; worked out once per request and remembered for later callers (a failure
/// to reach the database is not remembered).
pub async fn authenticate(req: &HttpRequest) -> Result<CurrentUser, ApiError> {
    let known = req.extensions().get::<Outcome>().cloned();
    if let Some(outcome) = known {
        return match outcome {
            Outcome::SignedIn(user) => Ok(user),
            Outcome::NotSignedIn => Err(ApiError::Unauthorized),
            Outcome::Forbidden(message) => Err(ApiError::Forbidden(message)),
        };
    }
    let result = resolve(req).await;
    let outcome = match &result {
        Ok(user) => Some(Outcome::SignedIn(user.clone())),
        Err(ApiError::Unauthorized) => Some(Outcome::NotSignedIn),
        Err(ApiError::Forbidden(message)) => Some(Outcome::Forbidden(message.clone())),
        Err(_) => None,
    };
    if let Some(outcome) = outcome {
        req.extensions_mut().insert(outcome);
    }
    result
}

/// Checks the request's credentials against the database.
async fn resolve(req: &HttpRequest) -> Result<CurrentUser, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no AppState")))?;
    match Credentials::of(req)? {
        Credentials::Bearer(token) => authenticate_token(&state, token).await,
        Credentials::Session { secret, csrf } => authenticate_session(&state, secret, csrf).await,
    }
}

/// What the request offers as proof, read before any I/O.
enum Credentials {
    Bearer(String),
    Session {
        secret: String,
        /// The `X-CSRF-Token` header, required (`Some`) on unsafe methods.
        csrf: Option<Option<String>>,
    },
}

impl Credentials {
    fn of(req: &HttpRequest) -> Result<Self, ApiError> {
        if let Some(value) = req.headers().get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or(ApiError::Unauthorized)?;
            return Ok(Self::Bearer(token.to_owned()));
        }
        let secret = cookies::session_of(req)
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let csrf = (!req.method().is_safe()).then(|| {
            req.headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        Ok(Self::Session { secret, csrf })
    }
}

async fn authenticate_token(state: &AppState, token: String) -> Result<CurrentUser, ApiError> {
    let token_hash = secrets::hash(&token);
    let (token, user) = state
        .db_retried(move |conn| {
            let now = Utc::now();
            let found = crm_db::api_tokens::find_active(conn, &token_hash, now)?;
            if let Some((token, _)) = &found {
                crm_db::api_tokens::touch(conn, token, now)?;
            }
            Ok(found)
        })
        .await?
        .ok_or(ApiError::Unauthorized)?;
    CurrentUser::new(user, AuthMethod::Token { id: token.id })
}

async fn authenticate_session(
    state: &AppState,
    secret: String,
    csrf: Option<Option<String>>,
) -> Result<CurrentUser, ApiError> {
    let token_hash = secrets::hash(&secret);
    let lookup_hash = token_hash.clone();
    let idle = state.config.session_idle;
    // A request refused for its CSRF token does not keep the session alive.
    let (session, user, csrf_ok) = state
        .db_retried(move |conn| {
            let now = Utc::now();
            let Some((session, user)) =
                crm_db::sessions::find_active(conn, &lookup_hash, now, idle)?
            else {
                return Ok(None);
            };
            let csrf_ok = csrf.as_ref().is_none_or(|header| {
                header
                    .as_ref()
                    .is_some_and(|token| secrets::matches(token, &session.csrf_token_hash))
            });
            if csrf_ok {
                crm_db::sessions::touch(conn, &session, now, idle)?;
            }
            Ok(Some((session, user, csrf_ok)))
        })
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if !csrf_ok {
        return Err(ApiError::Forbidden(
            "Missing or wrong CSRF token: send the crm_csrf cookie's value in the X-CSRF-Token header.".into(),
        ));
    }
    CurrentUser::new(
        user,
        AuthMethod::Session {
            id: session.id,
            token_hash,
        },
    )
}
