//! The `CurrentUser` extractor: a bearer token, or a session cookie plus CSRF check.

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

    /// Checks the request's credentials: a bearer token, or a session cookie (with the CSRF
    /// header on unsafe methods).
    pub async fn authenticate(req: &HttpRequest) -> Result<Self, ApiError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no AppState")))?;
        match Credentials::of(req)? {
            Credentials::Bearer(token) => authenticate_token(&state, token).await,
            Credentials::Session { secret, csrf } => {
                authenticate_session(&state, secret, csrf).await
            }
        }
    }
}

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    /// The user [`super::required`] authenticated, or (on a route it does not cover) the
    /// request's credentials checked now.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let known = req.extensions().get::<Self>().cloned();
        let req = req.clone();
        Box::pin(async move {
            match known {
                Some(user) => Ok(user),
                None => Self::authenticate(&req).await,
            }
        })
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
        .db(move |conn| {
            let found = crm_db::api_tokens::find_active(conn, &token_hash)?;
            if let Some((token, _)) = &found {
                crm_db::api_tokens::touch(conn, token.id, Utc::now())?;
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
    let (session, user) = state
        .db(move |conn| {
            Ok(crm_db::sessions::find_active(
                conn,
                &lookup_hash,
                Utc::now(),
            )?)
        })
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if let Some(header) = csrf {
        let valid = header.is_some_and(|token| secrets::matches(&token, &session.csrf_token_hash));
        if !valid {
            return Err(ApiError::Forbidden(
                "Missing or wrong CSRF token: send the crm_csrf cookie's value in the X-CSRF-Token header.".into(),
            ));
        }
    }
    CurrentUser::new(user, AuthMethod::Session { token_hash })
}
