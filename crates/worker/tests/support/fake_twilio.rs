//! A fake of Twilio's Messages API: a real HTTP server on 127.0.0.1 that checks every request
//! against the contract (`../shared/contracts/twilio_messages_v2010.json`, plus the rules our
//! worker promises), records it, and answers as told.
//!
//! Tests use [`FakeTwilio`] directly; `examples/fake_twilio.rs` runs the same code as a process
//! for the fault scripts and the benchmark, controlled over HTTP:
//!
//! - `GET /__received`: every request so far, as JSON ([`Received`]).
//! - `GET /__violations`: the requests that broke the contract, with what they broke.
//! - `GET /__delivered`: `{"total": n, "by_to": {…}, "by_body": {…}}`, counting accepted
//!   messages only, to check that each was delivered exactly once.
//! - `POST /__behaviour`: how to answer from now on, either one [`Answer`] for every request
//!   (`{"answer": "hang"}`) or a [`Behaviour`] script
//!   (`{"script": [{"answer": "server_error"}, {"answer": "accept"}], "otherwise": {"answer": "accept"}}`).
//! - `POST /__reset`: forgets the requests and answers `accept` again.
#![allow(
    dead_code,
    reason = "shared by the tests and the example, and each uses a different part"
)]

use std::{
    collections::{BTreeMap, VecDeque, hash_map::RandomState},
    hash::{BuildHasher, Hasher},
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http_body_util::{BodyExt as _, Full};
use hyper::{
    Method, Request, Response, StatusCode, body::Incoming, header, server::conn::http1,
    service::service_fn,
};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::{
    net::TcpListener,
    task::{JoinHandle, JoinSet},
};

/// The account SID the fake expects unless told otherwise.
pub const ACCOUNT_SID: &str = "ACfa4e0000000000000000000000000001";
/// The auth token the fake expects unless told otherwise.
pub const AUTH_TOKEN: &str = "fake-twilio-auth-token";

/// The request fields the contract's `CreateMessageRequest` defines; any other is a violation.
const CONTRACT_FIELDS: &[&str] = &[
    "To",
    "StatusCallback",
    "ApplicationSid",
    "MaxPrice",
    "ProvideFeedback",
    "Attempt",
    "ValidityPeriod",
    "ForceDelivery",
    "ContentRetention",
    "AddressRetention",
    "SmartEncoded",
    "PersistentAction",
    "TrafficType",
    "ShortenUrls",
    "ScheduleType",
    "SendAt",
    "SendAsMms",
    "ContentVariables",
    "RiskCheck",
    "From",
    "FallbackFrom",
    "MessagingServiceSid",
    "Body",
    "MediaUrl",
    "ContentSid",
];
/// The contract's array fields, which may be repeated.
const REPEATABLE_FIELDS: &[&str] = &["MediaUrl", "PersistentAction"];
/// The longest body Twilio accepts, in characters.
const MAX_BODY_CHARS: usize = 1600;

/// How the fake answers one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// 201 with a new message resource: a fresh `SM` + 32 hexadecimal digits SID, `queued`.
    #[default]
    Accept,
    /// The same, after a pause (a slow Twilio, for the benchmark).
    AcceptAfter {
        /// The pause, in milliseconds.
        delay_ms: u64,
    },
    /// A Twilio error: `{"code", "message", "more_info", "status"}`.
    Refuse {
        /// Twilio's error code, such as 21211.
        code: u32,
        /// The HTTP status, 400 unless given.
        #[serde(default = "bad_request")]
        status: u16,
        /// Twilio's message; a stock one for the code unless given.
        #[serde(default)]
        message: Option<String>,
    },
    /// 429 with `Retry-After`.
    RateLimit {
        /// The `Retry-After` value, in seconds.
        retry_after: u64,
    },
    /// A 5xx answer, 500 unless given.
    ServerError {
        /// The HTTP status.
        #[serde(default = "internal_server_error")]
        status: u16,
    },
    /// Reads the request and never answers.
    Hang,
    /// Reads the request and closes the connection without answering.
    Drop,
}

fn bad_request() -> u16 {
    400
}

fn internal_server_error() -> u16 {
    500
}

/// How the fake answers the coming requests: the script's answers one by one, then `otherwise`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// Answers for the next requests, in order.
    #[serde(default)]
    pub script: VecDeque<Answer>,
    /// The answer once the script is used up.
    #[serde(default)]
    pub otherwise: Answer,
}

impl From<Answer> for Behaviour {
    fn from(answer: Answer) -> Self {
        Self {
            script: VecDeque::new(),
            otherwise: answer,
        }
    }
}

/// The body of `POST /__behaviour`: one answer for every request, or a script.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum BehaviourRequest {
    Always(Answer),
    Script(Behaviour),
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Received {
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Its method.
    pub method: String,
    /// Its path.
    pub path: String,
    /// Its form fields (the values of a repeated field joined by a line break).
    pub fields: BTreeMap<String, String>,
    /// What it broke in the contract; it was answered 400 if anything.
    pub violations: Vec<String>,
    /// The HTTP status it was answered with; `None` for `hang` and `drop`.
    pub status: Option<u16>,
    /// The SID of the message created, when it was accepted.
    pub sid: Option<String>,
}

impl Received {
    /// A form field's value.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Messages accepted, counted by recipient and by body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    /// All accepted messages.
    pub total: usize,
    /// Accepted messages by `To`.
    pub by_to: BTreeMap<String, usize>,
    /// Accepted messages by `Body` (or `ContentSid` for a template).
    pub by_body: BTreeMap<String, usize>,
}

#[derive(Debug)]
struct State {
    account_sid: String,
    auth_token: String,
    behaviour: Behaviour,
    received: Vec<Received>,
    sid_seed: u64,
    sids_issued: u64,
}

type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    // A test that panicked while holding the lock leaves nothing half-written worth refusing.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake Twilio; it stops, dropping any connection still open, when dropped.
#[derive(Debug)]
pub struct FakeTwilio {
    addr: SocketAddr,
    account_sid: String,
    auth_token: String,
    state: Shared,
    server: JoinHandle<()>,
}

impl Drop for FakeTwilio {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeTwilio {
    /// Starts on a random port of 127.0.0.1, expecting [`ACCOUNT_SID`] and [`AUTH_TOKEN`].
    pub async fn start() -> std::io::Result<Self> {
        Self::bind(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            ACCOUNT_SID,
            AUTH_TOKEN,
        )
        .await
    }

    /// Starts on `addr` (port 0 for a random one), expecting these credentials.
    pub async fn bind(
        addr: SocketAddr,
        account_sid: &str,
        auth_token: &str,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            behaviour: Behaviour::default(),
            received: Vec::new(),
            sid_seed: RandomState::new().build_hasher().finish(),
            sids_issued: 0,
        }));
        let server = tokio::spawn(serve(listener, Arc::clone(&state)));
        Ok(Self {
            addr,
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            state,
            server,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL, `http://127.0.0.1:port`: the API URL to configure.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The account SID it expects.
    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    /// The auth token it expects.
    pub fn auth_token(&self) -> &str {
        &self.auth_token
    }

    /// Answers every coming request with `answer`.
    pub fn answer_with(&self, answer: Answer) {
        lock(&self.state).behaviour = answer.into();
    }

    /// Answers the coming requests with `script`, then accepts.
    pub fn answer_in_turn(&self, script: impl IntoIterator<Item = Answer>) {
        lock(&self.state).behaviour = Behaviour {
            script: script.into_iter().collect(),
            otherwise: Answer::Accept,
        };
    }

    /// Every request so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// The requests that broke the contract, with what each broke.
    pub fn violations(&self) -> Vec<Received> {
        violations(&lock(&self.state).received)
    }

    /// Accepted messages, counted by recipient and by body.
    pub fn delivered(&self) -> Delivered {
        delivered(&lock(&self.state).received)
    }

    /// How many messages to `to` were accepted.
    pub fn delivered_to(&self, to: &str) -> usize {
        self.delivered().by_to.get(to).copied().unwrap_or(0)
    }

    /// How many messages with this body (or template SID) were accepted.
    pub fn delivered_with_body(&self, body: &str) -> usize {
        self.delivered().by_body.get(body).copied().unwrap_or(0)
    }
}

/// Accepts connections until aborted; aborting drops the connections too, hanging ones included.
async fn serve(listener: TcpListener, state: Shared) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = Arc::clone(&state);
                connections.spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&state), request));
                    // A connection ends in an error when a client goes away or `drop` is asked
                    // for; either way there is nobody left to tell.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

type Answered = Result<Response<Full<Bytes>>, std::io::Error>;

async fn handle(state: Shared, request: Request<Incoming>) -> Answered {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Err(std::io::Error::other(error)),
    };
    let path = parts.uri.path().to_owned();
    if let Some(control) = path.strip_prefix("/__") {
        return Ok(control_request(&state, &parts.method, control, &body));
    }

    let answer = {
        let mut state = lock(&state);
        let (fields, violations) = check(&state, &parts.method, &path, &parts.headers, &body);
        let answer = if violations.is_empty() {
            let State { behaviour, .. } = &mut *state;
            behaviour
                .script
                .pop_front()
                .unwrap_or_else(|| behaviour.otherwise.clone())
        } else {
            Answer::Refuse {
                code: 0,
                status: 400,
                message: Some(format!("Contract violation: {}", violations.join("; "))),
            }
        };
        let mut received = Received {
            received_at: Utc::now(),
            method: parts.method.to_string(),
            path,
            fields,
            violations,
            status: status_of(&answer),
            sid: None,
        };
        // The message exists from now on, as at Twilio, even if the answer comes late.
        let created = matches!(answer, Answer::Accept | Answer::AcceptAfter { .. }).then(|| {
            state.sids_issued += 1;
            let sid = format!("SM{:016x}{:016x}", state.sid_seed, state.sids_issued);
            received.sid = Some(sid.clone());
            created_message(&state.account_sid, sid, &received)
        });
        state.received.push(received);
        (answer, created)
    };

    let (answer, created) = answer;
    match answer {
        Answer::Accept | Answer::AcceptAfter { .. } => {
            if let Answer::AcceptAfter { delay_ms } = answer {
                tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            Ok(json(StatusCode::CREATED, &created.unwrap_or_default()))
        }
        Answer::Refuse {
            code,
            status,
            message,
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let message = message.unwrap_or_else(|| stock_message(code).to_owned());
            Ok(twilio_error(status, (code != 0).then_some(code), &message))
        }
        Answer::RateLimit { retry_after } => {
            let mut response = twilio_error(
                StatusCode::TOO_MANY_REQUESTS,
                Some(20429),
                "Too Many Requests",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
            Ok(response)
        }
        Answer::ServerError { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Ok(twilio_error(status, Some(20500), "Internal Server Error"))
        }
        Answer::Hang => std::future::pending().await,
        Answer::Drop => Err(std::io::Error::other("closing without an answer, as told")),
    }
}

fn status_of(answer: &Answer) -> Option<u16> {
    match answer {
        Answer::Accept | Answer::AcceptAfter { .. } => Some(201),
        Answer::Refuse { status, .. } => Some(*status),
        Answer::RateLimit { .. } => Some(429),
        Answer::ServerError { status } => Some(*status),
        Answer::Hang | Answer::Drop => None,
    }
}

/// Checks one request against the contract; returns its fields and what it broke.
fn check(
    state: &State,
    method: &Method,
    path: &str,
    headers: &header::HeaderMap,
    body: &[u8],
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut violations = Vec::new();

    if method != Method::POST {
        violations.push(format!("method {method}, expected POST"));
    }
    let expected_path = format!("/2010-04-01/Accounts/{}/Messages.json", state.account_sid);
    if path != expected_path {
        violations.push(format!("path {path}, expected {expected_path}"));
    }
    if !basic_auth_matches(headers, &state.account_sid, &state.auth_token) {
        violations.push("Authorization is not Basic with the account SID and auth token".into());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        violations.push(format!(
            "Content-Type {content_type:?}, expected application/x-www-form-urlencoded"
        ));
    }

    let mut fields = BTreeMap::<String, String>::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        if !CONTRACT_FIELDS.contains(&name.as_ref()) {
            violations.push(format!("field {name} is not in the contract"));
        }
        match fields.get_mut(name.as_ref()) {
            Some(earlier) if REPEATABLE_FIELDS.contains(&name.as_ref()) => {
                earlier.push('\n');
                earlier.push_str(&value);
            }
            Some(_) => violations.push(format!("field {name} is given more than once")),
            None => {
                fields.insert(name.into_owned(), value.into_owned());
            }
        }
    }
    check_fields(&fields, &mut violations);
    (fields, violations)
}

/// The rules on the fields themselves.
fn check_fields(fields: &BTreeMap<String, String>, violations: &mut Vec<String>) {
    let field = |name: &str| fields.get(name).map(String::as_str);

    let to = field("To");
    match to {
        None => violations.push("To is missing".into()),
        Some(to) if !is_e164(to.strip_prefix("whatsapp:").unwrap_or(to)) => {
            violations.push(format!("To {to:?} is not +E.164 or whatsapp:+E.164"));
        }
        Some(_) => {}
    }

    let from = field("From");
    let service = field("MessagingServiceSid");
    match (from, service) {
        (Some(_), Some(_)) => violations.push("both From and MessagingServiceSid are given".into()),
        (None, None) => violations.push("neither From nor MessagingServiceSid is given".into()),
        _ => {}
    }
    if let Some(from) = from {
        let valid = match from.strip_prefix("whatsapp:") {
            Some(number) => is_e164(number),
            None => !from.trim().is_empty() && from.trim() == from,
        };
        if !valid {
            violations.push(format!("From {from:?} is not a sender address"));
        }
    }
    if let Some(sid) = service
        && !is_sid(sid, "MG")
    {
        violations.push(format!(
            "MessagingServiceSid {sid:?} is not MG and 32 hex digits"
        ));
    }
    if let (Some(to), Some(from)) = (to, from)
        && to.starts_with("whatsapp:") != from.starts_with("whatsapp:")
    {
        violations.push(format!(
            "To {to:?} and From {from:?} are on different channels"
        ));
    }

    match (field("Body"), field("ContentSid")) {
        (Some(_), Some(_)) => violations.push("both Body and ContentSid are given".into()),
        (None, None) => violations.push("neither Body nor ContentSid is given".into()),
        (Some(body), None) => {
            if body.trim().is_empty() {
                violations.push("Body is empty".into());
            }
            if body.chars().count() > MAX_BODY_CHARS {
                violations.push(format!("Body is longer than {MAX_BODY_CHARS} characters"));
            }
        }
        (None, Some(sid)) => {
            if !is_sid(sid, "HX") {
                violations.push(format!("ContentSid {sid:?} is not HX and 32 hex digits"));
            }
        }
    }
    if let Some(variables) = field("ContentVariables") {
        if field("ContentSid").is_none() {
            violations.push("ContentVariables without ContentSid".into());
        }
        match serde_json::from_str::<serde_json::Value>(variables) {
            Ok(serde_json::Value::Object(object)) => {
                if !object.values().all(serde_json::Value::is_string) {
                    violations.push("ContentVariables has a value that is not a string".into());
                }
            }
            _ => violations.push(format!(
                "ContentVariables {variables:?} is not a JSON object"
            )),
        }
    }
    if let Some(callback) = field("StatusCallback") {
        let valid = url::Url::parse(callback).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|host| !host.contains('_'))
        });
        if !valid {
            violations.push(format!(
                "StatusCallback {callback:?} is not an http(s) URL with a valid host name"
            ));
        }
    }
}

fn basic_auth_matches(headers: &header::HeaderMap, account_sid: &str, auth_token: &str) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
    else {
        return false;
    };
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .is_ok_and(|decoded| decoded == format!("{account_sid}:{auth_token}").as_bytes())
}

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (6..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn is_sid(sid: &str, prefix: &str) -> bool {
    sid.strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Twilio's message for the codes tests use, so answers look like the real ones.
fn stock_message(code: u32) -> &'static str {
    match code {
        21211 => "Invalid 'To' Phone Number",
        21408 => {
            "Permission to send an SMS has not been enabled for the region indicated by the 'To' number"
        }
        21610 => "Attempt to send to unsubscribed recipient",
        21612 => "The 'To' phone number is not currently reachable via SMS",
        21614 => "'To' number is not a valid mobile number",
        63016 => {
            "Failed to send freeform message because you are outside the allowed window. \
             Please use a Template."
        }
        _ => "The request was refused",
    }
}

/// A message resource as Twilio answers a create with it.
fn created_message(account_sid: &str, sid: String, received: &Received) -> serde_json::Value {
    let now = received.received_at.to_rfc2822();
    let uri = format!("/2010-04-01/Accounts/{account_sid}/Messages/{sid}");
    serde_json::json!({
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": received.field("Body"),
        "date_created": now,
        "date_sent": null,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": received.field("From"),
        "messaging_service_sid": received.field("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": "1",
        "price": null,
        "price_unit": null,
        "sid": sid,
        "status": "queued",
        "subresource_uris": { "media": format!("{uri}/Media.json") },
        "to": received.field("To"),
        "uri": format!("{uri}.json"),
    })
}

fn twilio_error(status: StatusCode, code: Option<u32>, message: &str) -> Response<Full<Bytes>> {
    json(
        status,
        &serde_json::json!({
            "code": code,
            "message": message,
            "more_info": code.map(|code| format!("https://www.twilio.com/docs/errors/{code}")),
            "status": status.as_u16(),
        }),
    )
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

fn violations(received: &[Received]) -> Vec<Received> {
    received
        .iter()
        .filter(|request| !request.violations.is_empty())
        .cloned()
        .collect()
}

fn delivered(received: &[Received]) -> Delivered {
    let mut delivered = Delivered::default();
    for request in received.iter().filter(|request| request.sid.is_some()) {
        delivered.total += 1;
        if let Some(to) = request.field("To") {
            *delivered.by_to.entry(to.to_owned()).or_default() += 1;
        }
        if let Some(body) = request.field("Body").or(request.field("ContentSid")) {
            *delivered.by_body.entry(body.to_owned()).or_default() += 1;
        }
    }
    delivered
}

/// The `/__…` endpoints.
fn control_request(
    state: &Shared,
    method: &Method,
    endpoint: &str,
    body: &[u8],
) -> Response<Full<Bytes>> {
    match (method, endpoint) {
        (&Method::GET, "received") => json(StatusCode::OK, &lock(state).received),
        (&Method::GET, "violations") => json(StatusCode::OK, &violations(&lock(state).received)),
        (&Method::GET, "delivered") => json(StatusCode::OK, &delivered(&lock(state).received)),
        (&Method::POST, "behaviour") => match serde_json::from_slice::<BehaviourRequest>(body) {
            Ok(request) => {
                let behaviour = match request {
                    BehaviourRequest::Always(answer) => answer.into(),
                    BehaviourRequest::Script(behaviour) => behaviour,
                };
                lock(state).behaviour = behaviour.clone();
                json(StatusCode::OK, &behaviour)
            }
            Err(error) => json(
                StatusCode::BAD_REQUEST,
                &serde_json::json!({ "error": format!("not an answer or a script: {error}") }),
            ),
        },
        (&Method::POST, "reset") => {
            let mut state = lock(state);
            state.received.clear();
            state.behaviour = Behaviour::default();
            json(StatusCode::OK, &state.behaviour)
        }
        _ => json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({
                "error": "unknown control endpoint",
                "endpoints": [
                    "GET /__received", "GET /__violations", "GET /__delivered",
                    "POST /__behaviour", "POST /__reset",
                ],
            }),
        ),
    }
}
