//! Test helpers: the real app on its own PostgreSQL database, and request shortcuts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use crm_api::config::Config;
use crm_api::state::AppState;
use crm_db::test_support::TestDatabase;
use serde_json::{Value, json};

pub mod s3;

pub const ADMIN_EMAIL: &str = "ada@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

/// This package's folder, as cargo says when running the test (not as it was when the binary
/// was built: a target folder shared by several checkouts may hold another checkout's build).
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

/// A receipt fixture of `crates/receipts/tests/fixtures`.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(manifest_dir().join("../receipts/tests/fixtures").join(name))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Configuration for a test: its own database, the local Redis, short timeouts.
pub fn config_for(database_url: &str, extra: &[(&str, &str)]) -> Config {
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let mut vars: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database_url.into()),
        ("REDIS_URL".into(), redis),
        ("DATABASE_TIMEOUT_SECS".into(), "2".into()),
        ("DATABASE_POOL_SIZE".into(), "4".into()),
        // Each test's own queue: jobs never reach another test's worker.
        (
            "MESSAGE_QUEUE".into(),
            format!("crm-test:{}", database_name(database_url)),
        ),
        (
            "RECEIPTS_DIR".into(),
            scratch_dir("receipts").display().to_string(),
        ),
    ];
    vars.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Config::from_lookup(|name| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test configuration")
}

/// The database's name: the last part of its URL.
fn database_name(database_url: &str) -> &str {
    database_url.rsplit('/').next().unwrap_or(database_url)
}

/// A new empty folder under the system's temporary folder.
pub fn scratch_dir(what: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "crm-test-{what}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// A fresh database and the app's state on it.
pub fn fresh(extra: &[(&str, &str)]) -> (TestDatabase, AppState) {
    let db = TestDatabase::new();
    let state = AppState::new(config_for(db.url(), extra)).expect("app state");
    (db, state)
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Answer {
    /// The `errors` messages of a field in a 422 problem.
    pub fn field_errors(&self, field: &str) -> Vec<String> {
        self.json["errors"][field]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json body with this status.
    pub fn assert_problem(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.json["status"], status, "{}", self.text);
        assert!(self.json["title"].is_string());
    }

    /// Asserts a 503 problem that says when to retry and nothing of where the dependency is.
    pub fn assert_unavailable(&self) {
        self.assert_problem(503);
        assert!(self.header("retry-after").is_some());
        assert!(
            !self.text.contains("127.0.0.1"),
            "no internals: {}",
            self.text
        );
    }
}

/// Sends a request to the service and reads the answer.
pub async fn send<S, B>(app: &S, request: TestRequest) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = test::read_body(response).await;
    let text = String::from_utf8_lossy(&body).into_owned();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}

/// The status of the answer to `request`, without reading the body (an event stream's never
/// ends).
pub async fn status_of<S, B>(app: &S, request: TestRequest) -> StatusCode
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    test::call_service(app, request.to_request()).await.status()
}

/// A signed-in browser: its session cookie (and that cookie's name: `crm_session`, or
/// `__Host-crm_session` when the app is served over https) and CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie_name: String,
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// Adds the session cookie and, as the web app does, the CSRF header.
    pub fn apply(&self, request: TestRequest) -> TestRequest {
        request
            .cookie(actix_web::cookie::Cookie::new(
                self.cookie_name.clone(),
                self.cookie.clone(),
            ))
            .insert_header(("X-CSRF-Token", self.csrf.clone()))
    }

    /// Adds only the session cookie, as a cross-site form post would.
    pub fn cookie_only(&self, request: TestRequest) -> TestRequest {
        request.cookie(actix_web::cookie::Cookie::new(
            self.cookie_name.clone(),
            self.cookie.clone(),
        ))
    }
}

/// A sign-in request.
pub fn login(email: &str, password: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/auth/login")
        .set_json(json!({"email": email, "password": password}))
}

/// Reads the session from a sign-in answer's cookies (with or without the `__Host-` prefix).
pub fn session_of(answer: &Answer) -> Session {
    let find = |name: &str| {
        answer
            .headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| actix_web::cookie::Cookie::parse(v.to_owned()).ok())
            .find(|c| c.name().strip_prefix("__Host-").unwrap_or(c.name()) == name)
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .unwrap_or_else(|| panic!("no {name} cookie in {:?}", answer.headers))
    };
    let (cookie_name, cookie) = find("crm_session");
    Session {
        cookie_name,
        cookie,
        csrf: find("crm_csrf").1,
    }
}

/// Runs first-run setup for Ada, the admin, and returns her session.
pub async fn setup_admin<S, B>(app: &S) -> Session
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let answer = send(
        app,
        TestRequest::post().uri("/api/v1/setup").set_json(
            json!({"name": "Ada Lovelace", "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    session_of(&answer)
}

/// Has the admin of `admin` add a staff account named Grace Hopper with this email and password;
/// returns its id.
pub async fn add_staff<S, B>(app: &S, admin: &Session, email: &str, password: &str) -> i64
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let body = json!({"name": "Grace Hopper", "email": email, "password": password});
    let added = send(
        app,
        admin.apply(TestRequest::post().uri("/api/v1/users").set_json(body)),
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    added.json["id"].as_i64().expect("the account's id")
}

/// Creates an API token for Ada, the admin (signed in as `session`), and returns its secret.
pub async fn create_token<S, B>(app: &S, session: &Session, name: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    create_token_as(app, session, name, ADMIN_PASSWORD).await
}

/// Creates an API token for the session's user, whose password is `password`, and returns its
/// secret.
pub async fn create_token_as<S, B>(app: &S, session: &Session, name: &str, password: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let answer = send(
        app,
        session.apply(
            TestRequest::post()
                .uri("/api/v1/tokens")
                .set_json(json!({"name": name, "current_password": password})),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    answer.json["token"]
        .as_str()
        .expect("token secret")
        .to_owned()
}

/// Adds `Authorization: Bearer <token>`.
pub fn bearer(request: TestRequest, token: &str) -> TestRequest {
    request.insert_header(("Authorization", format!("Bearer {token}")))
}

/// The `crm-api` binary with only `PATH`, `DATABASE_URL` and `RUST_LOG=warn` set, run from the
/// temporary folder (so no `.env` is read).
pub fn crm_api(database_url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_crm-api"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir());
    command
}

/// The boundary of the multipart bodies [`multipart`] makes.
pub const BOUNDARY: &str = "----crm-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart body with text fields and, optionally, a file in `receipt`.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((file_name, bytes)) = file {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"receipt\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A receipt upload (`POST …/invoices`) of a [`multipart`] body.
pub fn upload(customer: i64, body: Vec<u8>) -> TestRequest {
    TestRequest::post()
        .uri(&format!("/api/v1/customers/{customer}/invoices"))
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(body)
}
