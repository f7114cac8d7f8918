//! The messages API end to end (real PostgreSQL and Redis): schedule, validate, list, edit,
//! cancel, resend, archive, the job in Redis, and Twilio's callbacks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use base64::Engine;
use chrono::{Duration, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use support::*;

fn post(uri: &str, body: Value) -> TestRequest {
    TestRequest::post().uri(uri).set_json(body)
}

fn in_minutes(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339()
}

/// A customer with a phone number (and, when asked, a WhatsApp number); returns its id.
async fn customer<S, B>(app: &S, s: &Session, body: Value) -> i64
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let created = send(app, s.apply(post("/api/v1/customers", body))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.json["id"].as_i64().unwrap()
}

fn message_count(db: &crm_db::test_support::TestDatabase) -> i64 {
    let mut conn = db.connection();
    crm_db::schema::messages::table
        .count()
        .get_result(&mut conn)
        .unwrap()
}

fn set_status(db: &crm_db::test_support::TestDatabase, id: i64, status: &str, provider_id: &str) {
    use crm_db::schema::messages::dsl;
    let mut conn = db.connection();
    diesel::update(dsl::messages.filter(dsl::id.eq(id)))
        .set((
            dsl::status.eq(status),
            dsl::provider_message_id.eq(provider_id),
        ))
        .execute(&mut conn)
        .unwrap();
}

/// The run time of `task` in the test's Redis queue, if it is scheduled there.
fn scheduled_at(state: &crm_api::state::AppState, task: &str) -> Option<f64> {
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_connection().unwrap();
    let set = format!("{}:scheduled", state.config.message_queue);
    redis::cmd("ZSCORE")
        .arg(set)
        .arg(task)
        .query(&mut conn)
        .unwrap()
}

#[actix_web::test]
async fn an_sms_is_scheduled_counted_and_its_job_waits_in_redis() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state.clone())).await;
    let s = setup_admin(&app).await;
    let id = customer(&app, &s, json!({"name": "Ada", "phone": "+14155552671"})).await;
    let send_at = Utc::now() + Duration::minutes(30);

    let created = send(
        &app,
        s.apply(post(
            &format!("/api/v1/customers/{id}/messages"),
            json!({"channel": "sms", "body": "Your order is ready €", "send_at": send_at.to_rfc3339()}),
        )),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let message = &created.json;
    let mid = message["id"].as_i64().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/messages/{mid}").as_str())
    );
    assert_eq!(message["status"], "scheduled");
    assert_eq!(message["recipient"], "+14155552671");
    assert_eq!(message["customer_name"], "Ada");
    assert_eq!(message["encoding"], "gsm7");
    assert_eq!(message["segments"], 1);
    assert_eq!(message["version"], 1);

    let task = format!("msg-{mid}-v1");
    let run_at = scheduled_at(&state, &task).expect("the job is in Redis");
    assert_eq!(
        run_at as i64,
        send_at.timestamp() + 1,
        "rounded up, never early"
    );
    let job_id: Option<String> = {
        use crm_db::schema::messages::dsl;
        dsl::messages
            .find(mid)
            .select(dsl::job_id)
            .first(&mut db.connection())
            .unwrap()
    };
    assert_eq!(job_id.as_deref(), Some(task.as_str()));

    let read = send(
        &app,
        s.apply(TestRequest::get().uri(&format!("/api/v1/messages/{mid}"))),
    )
    .await;
    assert_eq!(read.json["body"], "Your order is ready €");
    let activity = send(
        &app,
        s.apply(TestRequest::get().uri(&format!("/api/v1/customers/{id}/activity"))),
    )
    .await;
    assert_eq!(activity.json["items"][0]["action"], "message.scheduled");
    assert_eq!(activity.json["items"][0]["changes"]["message_id"], mid);
}

#[actix_web::test]
async fn every_wrong_field_is_reported_at_once_and_nothing_is_saved() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let id = customer(&app, &s, json!({"name": "Ada", "phone": "+14155552671"})).await;
    let uri = format!("/api/v1/customers/{id}/messages");

    let answer = send(
        &app,
        s.apply(post(
            &uri,
            json!({"channel": "whatsapp", "body": "  ", "send_at": in_minutes(-10)}),
        )),
    )
    .await;
    answer.assert_problem(422);
    assert!(
        answer.field_errors("channel")[0]
            .ends_with("has no WhatsApp number: add one to their details first."),
        "{}",
        answer.text
    );
    assert_eq!(answer.field_errors("body"), ["Write the message."]);
    assert!(
        answer.field_errors("send_at")[0].contains("passed"),
        "{}",
        answer.text
    );

    let too_long = "x".repeat(1531);
    let answer = send(
        &app,
        s.apply(post(
            &uri,
            json!({"channel": "sms", "body": too_long, "send_at": in_minutes(5)}),
        )),
    )
    .await;
    assert!(
        answer.field_errors("body")[0].contains("11 parts"),
        "{}",
        answer.text
    );

    let far = send(
        &app,
        s.apply(post(
            &uri,
            json!({"channel": "sms", "body": "Hi", "send_at": in_minutes(60 * 24 * 400)}),
        )),
    )
    .await;
    assert!(
        far.field_errors("send_at")[0].contains("365 days"),
        "{}",
        far.text
    );

    let gap = send(
        &app,
        s.apply(post(&uri, json!({"channel": "sms", "body": "Hi", "send_at": "2027-03-28T02:30", "timezone": "Europe/Berlin"}))),
    )
    .await;
    assert!(
        gap.field_errors("send_at")[0].contains("does not exist"),
        "{}",
        gap.text
    );
    assert_eq!(message_count(&db), 0);
}

#[actix_web::test]
async fn a_local_time_is_read_in_the_customers_zone_and_unicode_takes_ucs2_parts() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let id = customer(
        &app,
        &s,
        json!({"name": "Ada", "phone": "+14155552671", "timezone": "America/New_York"}),
    )
    .await;
    let created = send(
        &app,
        s.apply(post(
            &format!("/api/v1/customers/{id}/messages"),
            json!({"channel": "sms", "body": format!("{} 🙂", "a".repeat(70)), "send_at": "2027-07-01T09:30"}),
        )),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["send_at"], "2027-07-01T13:30:00Z");
    assert_eq!(created.json["encoding"], "ucs2");
    assert_eq!(created.json["segments"], 2);
}

#[actix_web::test]
async fn an_edit_needs_the_current_version_and_only_scheduled_messages_change() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state.clone())).await;
    let s = setup_admin(&app).await;
    let id = customer(&app, &s, json!({"name": "Ada", "phone": "+14155552671"})).await;
    let created = send(
        &app,
        s.apply(post(
            &format!("/api/v1/customers/{id}/messages"),
            json!({"channel": "sms", "body": "Hello", "send_at": in_minutes(30)}),
        )),
    )
    .await;
    let mid = created.json["id"].as_i64().unwrap();
    let uri = format!("/api/v1/messages/{mid}");
    let patch = |body: Value| TestRequest::patch().uri(&uri).set_json(body);

    let edited = send(
        &app,
        s.apply(patch(
            json!({"version": 1, "body": "Hello again", "send_at": in_minutes(60)}),
        )),
    )
    .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(edited.json["version"], 2);
    assert_eq!(edited.json["body"], "Hello again");
    assert!(
        scheduled_at(&state, &format!("msg-{mid}-v2")).is_some(),
        "the new version has its job"
    );

    let stale = send(
        &app,
        s.apply(patch(json!({"version": 1, "body": "Lost update"}))),
    )
    .await;
    stale.assert_problem(409);
    assert!(stale.text.contains("version 2"), "{}", stale.text);

    let canceled = send(
        &app,
        s.apply(TestRequest::post().uri(&format!("{uri}/cancel"))),
    )
    .await;
    assert_eq!(canceled.json["status"], "canceled", "{}", canceled.text);
    let late = send(
        &app,
        s.apply(patch(json!({"version": 3, "body": "Too late"}))),
    )
    .await;
    late.assert_problem(409);
    let resend = send(
        &app,
        s.apply(TestRequest::post().uri(&format!("{uri}/resend"))),
    )
    .await;
    resend.assert_problem(409);

    set_status(&db, mid, "failed", "SM1");
    let resent = send(
        &app,
        s.apply(TestRequest::post().uri(&format!("{uri}/resend"))),
    )
    .await;
    assert_eq!(resent.status, StatusCode::OK, "{}", resent.text);
    assert_eq!(resent.json["status"], "scheduled");
    let activity = send(
        &app,
        s.apply(TestRequest::get().uri(&format!("/api/v1/customers/{id}/activity"))),
    )
    .await;
    let actions: Vec<&str> = activity.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actions[..4],
        [
            "message.resent",
            "message.canceled",
            "message.updated",
            "message.scheduled"
        ]
    );
}

#[actix_web::test]
async fn the_agenda_lists_every_customers_messages_soonest_first_with_filters_and_pages() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let ada = customer(&app, &s, json!({"name": "Ada", "phone": "+14155552671"})).await;
    let bob = customer(
        &app,
        &s,
        json!({"name": "Bob", "phone": "+14155552672", "whatsapp": "+14155552672"}),
    )
    .await;
    for (who, channel, minutes) in [
        (ada, "sms", 50),
        (bob, "whatsapp", 10),
        (ada, "sms", 30),
        (bob, "sms", 40),
    ] {
        let answer = send(
            &app,
            s.apply(post(
                &format!("/api/v1/customers/{who}/messages"),
                json!({"channel": channel, "body": format!("in {minutes}"), "send_at": in_minutes(minutes)}),
            )),
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    }
    let body = |answer: &Answer| -> Vec<String> {
        answer.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = send(
        &app,
        s.apply(TestRequest::get().uri("/api/v1/messages?status=scheduled&limit=3")),
    )
    .await;
    assert_eq!(body(&first), ["in 10", "in 30", "in 40"]);
    assert_eq!(first.json["total"], 4);
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let second = send(
        &app,
        s.apply(TestRequest::get().uri(&format!(
            "/api/v1/messages?status=scheduled&limit=3&cursor={cursor}"
        ))),
    )
    .await;
    assert_eq!(body(&second), ["in 50"]);
    assert!(second.json["next_cursor"].is_null());

    let whatsapp = send(
        &app,
        s.apply(TestRequest::get().uri("/api/v1/messages?channel=whatsapp")),
    )
    .await;
    assert_eq!(body(&whatsapp), ["in 10"]);
    let adas = send(
        &app,
        s.apply(TestRequest::get().uri(&format!("/api/v1/customers/{ada}/messages"))),
    )
    .await;
    assert_eq!(body(&adas), ["in 50", "in 30"], "latest first");
    let bad = send(
        &app,
        s.apply(TestRequest::get().uri("/api/v1/messages?status=lost&from=yesterday")),
    )
    .await;
    bad.assert_problem(422);
    assert!(!bad.field_errors("status").is_empty() && !bad.field_errors("from").is_empty());
}

#[actix_web::test]
async fn with_redis_down_the_message_is_saved_and_readyz_says_so() {
    let (db, state) = fresh(&[("REDIS_URL", "redis://127.0.0.1:9")]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let id = customer(&app, &s, json!({"name": "Ada", "phone": "+14155552671"})).await;
    let created = send(
        &app,
        s.apply(post(
            &format!("/api/v1/customers/{id}/messages"),
            json!({"channel": "sms", "body": "Hello", "send_at": in_minutes(1)}),
        )),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(message_count(&db), 1);
    let job_id: Option<String> = {
        use crm_db::schema::messages::dsl;
        dsl::messages
            .select(dsl::job_id)
            .first(&mut db.connection())
            .unwrap()
    };
    assert_eq!(job_id, None, "left for the reconciler");
    let ready = send(&app, TestRequest::get().uri("/readyz")).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    assert_eq!(ready.json["redis"], "unavailable", "{}", ready.text);
}

#[actix_web::test]
async fn archiving_a_customer_cancels_their_scheduled_messages() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let id = customer(&app, &s, json!({"name": "Ada", "phone": "+14155552671"})).await;
    let created = send(
        &app,
        s.apply(post(
            &format!("/api/v1/customers/{id}/messages"),
            json!({"channel": "sms", "body": "Hello", "send_at": in_minutes(30)}),
        )),
    )
    .await;
    let mid = created.json["id"].as_i64().unwrap();
    let archived = send(
        &app,
        s.apply(TestRequest::post().uri(&format!("/api/v1/customers/{id}/archive"))),
    )
    .await;
    assert_eq!(archived.status, StatusCode::OK);
    let message = send(
        &app,
        s.apply(TestRequest::get().uri(&format!("/api/v1/messages/{mid}"))),
    )
    .await;
    assert_eq!(message.json["status"], "canceled");
    assert_eq!(
        message.json["status_reason"],
        "Canceled: the customer was archived."
    );
}

type HmacSha1 = Hmac<sha1::Sha1>;

/// Twilio's signature of a callback to `url` with `fields`.
fn sign(token: &str, url: &str, fields: &[(&str, &str)]) -> String {
    let mut sorted = fields.to_vec();
    sorted.sort();
    let mut mac = HmacSha1::new_from_slice(token.as_bytes()).unwrap();
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn callback(fields: &[(&str, &str)], signature: &str, token: Option<&str>) -> TestRequest {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter())
        .finish();
    let mut request = TestRequest::post()
        .uri("/api/v1/webhooks/twilio")
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .insert_header(("X-Twilio-Signature", signature))
        .set_payload(body);
    if let Some(token) = token {
        request = request.insert_header(("I-Twilio-Idempotency-Token", token));
    }
    request
}

#[actix_web::test]
async fn twilio_callbacks_are_verified_recorded_once_and_stop_opts_the_customer_out() {
    const TOKEN: &str = "test-auth-token";
    const URL: &str = "https://crm.example.com/api/v1/webhooks/twilio";
    let (db, state) = fresh(&[
        ("TWILIO_AUTH_TOKEN", TOKEN),
        ("PUBLIC_URL", "https://crm.example.com"),
    ]);
    let app = init_service(crm_api::app(state)).await;
    let s = setup_admin(&app).await;
    let id = customer(&app, &s, json!({"name": "Ada", "phone": "+14155552671"})).await;
    let created = send(
        &app,
        s.apply(post(
            &format!("/api/v1/customers/{id}/messages"),
            json!({"channel": "sms", "body": "Hello", "send_at": in_minutes(1)}),
        )),
    )
    .await;
    let mid = created.json["id"].as_i64().unwrap();
    set_status(&db, mid, "sent", "SM0001");

    let delivered = [("MessageSid", "SM0001"), ("MessageStatus", "delivered")];
    let forged = send(&app, callback(&delivered, "bm90IGEgc2lnbmF0dXJl", None)).await;
    forged.assert_problem(403);
    let good = send(
        &app,
        callback(&delivered, &sign(TOKEN, URL, &delivered), Some("t-1")),
    )
    .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.text);
    let message = send(
        &app,
        s.apply(TestRequest::get().uri(&format!("/api/v1/messages/{mid}"))),
    )
    .await;
    assert_eq!(message.json["status"], "delivered");

    set_status(&db, mid, "sent", "SM0001");
    let repeat = send(
        &app,
        callback(&delivered, &sign(TOKEN, URL, &delivered), Some("t-1")),
    )
    .await;
    assert_eq!(repeat.status, StatusCode::OK);
    let message = send(
        &app,
        s.apply(TestRequest::get().uri(&format!("/api/v1/messages/{mid}"))),
    )
    .await;
    assert_eq!(message.json["status"], "sent", "a repeat is ignored");

    let stop = [
        ("From", "+14155552671"),
        ("To", "+15005550006"),
        ("Body", "STOP"),
    ];
    let answer = send(&app, callback(&stop, &sign(TOKEN, URL, &stop), Some("t-2"))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let ada = send(
        &app,
        s.apply(TestRequest::get().uri(&format!("/api/v1/customers/{id}"))),
    )
    .await;
    assert_eq!(ada.json["sms_opt_out"], true);
    let refused = send(
        &app,
        s.apply(post(
            &format!("/api/v1/customers/{id}/messages"),
            json!({"channel": "sms", "body": "Hello", "send_at": in_minutes(1)}),
        )),
    )
    .await;
    assert_eq!(
        refused.field_errors("channel"),
        ["This customer opted out of SMS."]
    );
}
