//! Live events across processes: two `crm-api` processes on one database; what is written
//! through one (or straight into the database, as a worker does) reaches a stream held open
//! against the other, a reminder falls due on time with no request arriving, and a stream
//! resumed with `Last-Event-ID` misses nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::Utc;
use crm_db::test_support::TestDatabase;
use diesel::prelude::*;
use serde_json::{Value, json};

/// A `crm-api serve` process, killed when dropped.
struct Api {
    child: Child,
    port: u16,
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Api {
    fn start(database_url: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_crm-api"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("RECEIPTS_DIR", support::scratch_dir("events"))
            .env(
                "MESSAGE_QUEUE",
                format!("crm:test:events:{}", std::process::id()),
            )
            .env(
                "RUST_LOG",
                std::env::var("EVENTS_TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let api = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while api.call("GET", "/healthz", &[], None).0 != 200 {
            assert!(Instant::now() < deadline, "crm-api did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        api
    }

    /// One request (`Connection: close`): status, raw head, body.
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[String],
        body: Option<&Value>,
    ) -> (u16, String, Value) {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, String::new(), Value::Null);
        };
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        for header in headers {
            request.push_str(&format!("{header}\r\n"));
        }
        if !body.is_empty() {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(&body);
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let json = serde_json::from_str(body.trim()).unwrap_or(Value::Null);
        (status, head.to_owned(), json)
    }

    /// Opens an event stream; every line arrives on the receiver with the time it came.
    fn events(
        &self,
        token: &str,
        last_event_id: Option<&str>,
    ) -> (TcpStream, mpsc::Receiver<(Instant, String)>) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let mut request = format!(
            "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        );
        if let Some(id) = last_event_id {
            request.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let reader = stream.try_clone().unwrap();
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { return };
                if sender.send((Instant::now(), line)).is_err() {
                    return;
                }
            }
        });
        (stream, receiver)
    }
}

/// An event as read from a stream.
#[derive(Debug, Clone)]
struct Event {
    id: Option<String>,
    kind: String,
    data: Value,
    at: Instant,
}

/// Reads events until `wanted` matches one (returned with those seen before it), or panics
/// after `within`.
fn wait_for(
    receiver: &mpsc::Receiver<(Instant, String)>,
    within: Duration,
    wanted: impl Fn(&Event) -> bool,
) -> (Event, Vec<Event>) {
    let deadline = Instant::now() + within;
    let (mut id, mut kind, mut seen, mut raw) = (None, None, Vec::new(), Vec::new());
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (at, line) = receiver
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no such event in {within:?}; saw {seen:#?} in {raw:?}"));
        raw.push(line.clone());
        if let Some(value) = line.strip_prefix("id: ") {
            id = Some(value.to_owned());
        } else if let Some(value) = line.strip_prefix("event: ") {
            kind = Some(value.to_owned());
        } else if let Some(value) = line.strip_prefix("data: ") {
            let event = Event {
                id: id.take(),
                kind: kind.take().unwrap_or_default(),
                data: serde_json::from_str(value).unwrap_or(Value::Null),
                at,
            };
            if wanted(&event) {
                return (event, seen);
            }
            seen.push(event);
        }
    }
}

/// The first admin's bearer token, through the API.
fn admin_token(api: &Api) -> String {
    let (status, head, _) = api.call(
        "POST",
        "/api/v1/setup",
        &[],
        Some(&json!({"name": "Ada Lovelace", "email": "ada@example.com", "password": "correct horse battery"})),
    );
    assert_eq!(status, 201, "{head}");
    let cookie = |name: &str| {
        head.lines()
            .filter_map(|l| {
                l.strip_prefix("set-cookie: ")
                    .or_else(|| l.strip_prefix("Set-Cookie: "))
            })
            .find_map(|c| c.strip_prefix(&format!("{name}=")))
            .and_then(|c| c.split(';').next())
            .unwrap()
            .to_owned()
    };
    let (session, csrf) = (cookie("crm_session"), cookie("crm_csrf"));
    let (status, _, token) = api.call(
        "POST",
        "/api/v1/tokens",
        &[
            format!("Cookie: crm_session={session}"),
            format!("X-CSRF-Token: {csrf}"),
        ],
        Some(&json!({"name": "events test", "current_password": "correct horse battery"})),
    );
    assert_eq!(status, 201);
    token["token"].as_str().unwrap().to_owned()
}

#[test]
fn events_reach_a_stream_on_another_process_on_time_and_after_a_reconnect() {
    let db = TestDatabase::new();
    let (one, two) = (Api::start(db.url()), Api::start(db.url()));
    let token = admin_token(&one);
    let auth = [format!("Authorization: Bearer {token}")];
    let (status, _, customer) = one.call(
        "POST",
        "/api/v1/customers",
        &auth,
        Some(&json!({"name": "Grace Hopper", "phone": "+14155552671"})),
    );
    assert_eq!(status, 201);
    let customer = customer["id"].as_i64().unwrap();

    let (stream, events) = two.events(&token, None);
    wait_for_line(&events, ": connected");

    // A reminder set through process one, 2 s ahead, falls due on process two's stream.
    let remind_at = Utc::now() + chrono::Duration::seconds(2);
    let (status, _, reminder) = one.call(
        "POST",
        "/api/v1/reminders",
        &auth,
        Some(&json!({"customer_id": customer, "remind_at": remind_at.to_rfc3339(), "note": "Call back"})),
    );
    assert_eq!(status, 201, "{reminder}");
    let reminder_id = reminder["id"].clone();
    let (changed, _) = wait_for(&events, Duration::from_secs(5), |e| {
        e.kind == "reminder.changed"
    });
    assert_eq!(changed.data["reminder_id"], reminder_id);
    let (due, _) = wait_for(&events, Duration::from_secs(10), |e| {
        e.kind == "reminder.due"
    });
    assert_eq!(due.data["note"], "Call back");
    let wall_at_due = Utc::now() - chrono::Duration::from_std(due.at.elapsed()).unwrap();
    let late = wall_at_due - remind_at;
    // The timer looks every 250 ms and a missed notification costs at most a second's wait for
    // the log; the rest is room for a busy machine (CI runs two tests, each with its own API
    // processes, on two CPUs: 2.4 s once). A sweep once a minute or on the next request would
    // mostly miss it.
    assert!(
        late < chrono::Duration::seconds(4),
        "reminder.due came {late} after its time"
    );

    // A worker's status change (a write by another process) shows as message.status.
    let (status, _, message) = one.call(
        "POST",
        &format!("/api/v1/customers/{customer}/messages"),
        &auth,
        Some(&json!({"channel": "sms", "body": "Ready", "send_at": (Utc::now() + chrono::Duration::minutes(5)).to_rfc3339()})),
    );
    assert_eq!(status, 201, "{message}");
    {
        use crm_db::schema::messages::dsl;
        diesel::update(dsl::messages.find(message["id"].as_i64().unwrap()))
            .set((dsl::status.eq("sent"), dsl::sent_at.eq(Utc::now())))
            .execute(&mut db.connection())
            .unwrap();
    }
    let (sent, _) = wait_for(&events, Duration::from_secs(5), |e| {
        e.kind == "message.status" && e.data["status"] == "sent"
    });
    assert_eq!(sent.data["message_id"], message["id"]);
    let last_id = sent.id.clone().expect("events carry ids");

    // Dropped; meanwhile two reminders are set; resumed with Last-Event-ID: both arrive.
    stream.shutdown(Shutdown::Both).unwrap();
    let mut missed = Vec::new();
    for note in ["First while away", "Second while away"] {
        let (status, _, created) = one.call(
            "POST",
            "/api/v1/reminders",
            &auth,
            Some(&json!({"customer_id": customer, "remind_at": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339(), "note": note})),
        );
        assert_eq!(status, 201);
        missed.push(created["id"].clone());
    }
    std::thread::sleep(Duration::from_millis(300));
    let (_resumed, events) = two.events(&token, Some(&last_id));
    let (second, before) = wait_for(&events, Duration::from_secs(5), |e| {
        e.data["reminder_id"] == missed[1]
    });
    assert!(
        before.iter().any(|e| e.data["reminder_id"] == missed[0]),
        "{before:?}"
    );
    assert!(
        before
            .iter()
            .all(|e| e.id.as_deref() != Some(last_id.as_str())),
        "nothing twice"
    );
    assert_eq!(second.kind, "reminder.changed");

    // Without credentials there is no stream.
    assert_eq!(two.call("GET", "/api/v1/events", &[], None).0, 401);

    // SIGTERM ends the open streams, so stopping does not wait for them.
    let mut two = two;
    let (_open, events) = two.events(&token, None);
    wait_for_line(&events, ": connected");
    let asked = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &two.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = two.child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "stopping took {:?}",
        asked.elapsed()
    );
}

fn wait_for_line(events: &mpsc::Receiver<(Instant, String)>, wanted: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (_, line) = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {wanted:?}"));
        if line.contains(wanted) {
            return;
        }
    }
}
