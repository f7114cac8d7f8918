//! The reminders API end to end (real PostgreSQL): set three ways, validate, list by state
//! (decided by the database's clock), dismiss, snooze, delete; reminders follow their message;
//! nobody sees another's reminders or their events; the event log in commit order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use chrono::{DateTime, Duration, Utc};
use crm_db::live::Cursor;
use diesel::prelude::*;
use serde_json::{Value, json};
use support::*;

const GRACE_PASSWORD: &str = "a long passphrase";

fn post(uri: &str, body: Value) -> TestRequest {
    TestRequest::post().uri(uri).set_json(body)
}

fn in_minutes(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339()
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// Puts a reminder's time in the past (the API refuses to set one there).
fn make_due(db: &crm_db::test_support::TestDatabase, id: i64) {
    use crm_db::schema::reminders::dsl;
    diesel::update(dsl::reminders.filter(dsl::id.eq(id)))
        .set(dsl::remind_at.eq(Utc::now() - Duration::minutes(5)))
        .execute(&mut db.connection())
        .unwrap();
}

/// The events after `cursor` (those `user` may see), once at least `at_least` are readable:
/// an event waits for every older transaction of the cluster, and other tests run meanwhile.
fn events_after(
    conn: &mut diesel::PgConnection,
    cursor: Cursor,
    user: Option<crm_domain::UserId>,
    at_least: usize,
) -> Vec<crm_db::live::Record> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let records = crm_db::live::after(conn, cursor, user, 1000).unwrap();
        if records.len() >= at_least || std::time::Instant::now() > deadline {
            return records;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

macro_rules! app_with_customer {
    ($db:ident, $app:ident, $admin:ident, $customer:ident) => {
        let ($db, state) = fresh(&[]);
        let $app = init_service(crm_api::app(state)).await;
        let $admin = setup_admin(&$app).await;
        let created = send(
            &$app,
            $admin.apply(post(
                "/api/v1/customers",
                json!({"name": "Grace Hopper", "phone": "+14155552671", "timezone": "Europe/London"}),
            )),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let $customer = created.json["id"].as_i64().unwrap();
    };
}

#[actix_web::test]
async fn a_free_reminder_is_set_listed_by_state_and_dismissed() {
    app_with_customer!(db, app, admin, customer);
    let created = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "remind_at": in_minutes(60), "note": "  Call back about the repair "}),
        )),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json["id"].as_i64().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/reminders/{id}").as_str())
    );
    assert_eq!(created.json["note"], "Call back about the repair");
    assert_eq!(created.json["customer_name"], "Grace Hopper");
    assert_eq!(created.json["owner_name"], "Ada Lovelace");
    assert_eq!(created.json["due"], false);

    let list = |state: &str| {
        admin.apply(TestRequest::get().uri(&format!("/api/v1/reminders?state={state}")))
    };
    let upcoming = send(&app, list("upcoming")).await;
    assert_eq!(upcoming.json["total"], 1, "{}", upcoming.text);
    assert_eq!(send(&app, list("due")).await.json["total"], 0);

    make_due(&db, id);
    let due = send(
        &app,
        admin.apply(TestRequest::get().uri("/api/v1/reminders")),
    )
    .await;
    assert_eq!(due.json["total"], 1, "due is the default: {}", due.text);
    assert_eq!(due.json["items"][0]["due"], true);
    assert_eq!(send(&app, list("upcoming")).await.json["total"], 0);

    let dismissed = send(
        &app,
        admin.apply(TestRequest::post().uri(&format!("/api/v1/reminders/{id}/dismiss"))),
    )
    .await;
    assert_eq!(dismissed.status, StatusCode::OK, "{}", dismissed.text);
    assert!(dismissed.json["dismissed_at"].is_string());
    assert_eq!(dismissed.json["due"], false);
    assert_eq!(send(&app, list("due")).await.json["total"], 0);
    assert_eq!(send(&app, list("dismissed")).await.json["total"], 1);

    let customer_filter = send(
        &app,
        admin.apply(TestRequest::get().uri(&format!(
            "/api/v1/reminders?state=dismissed&customer_id={customer}"
        ))),
    )
    .await;
    assert_eq!(customer_filter.json["total"], 1);
    let other_customer = send(
        &app,
        admin.apply(TestRequest::get().uri(&format!(
            "/api/v1/reminders?state=dismissed&customer_id={}",
            customer + 1
        ))),
    )
    .await;
    assert_eq!(other_customer.json["total"], 0);
}

#[actix_web::test]
async fn every_bad_field_comes_back_at_once_and_nothing_is_saved() {
    app_with_customer!(db, app, admin, customer);
    let bad = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer + 100, "remind_at": "next tuesday", "note": ""}),
        )),
    )
    .await;
    bad.assert_problem(422);
    assert_eq!(bad.field_errors("customer_id"), vec!["No such customer."]);
    assert!(!bad.field_errors("remind_at").is_empty(), "{}", bad.text);
    assert!(!bad.field_errors("note").is_empty(), "{}", bad.text);

    let past = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "remind_at": in_minutes(-10), "note": "x"}),
        )),
    )
    .await;
    assert_eq!(
        past.field_errors("remind_at"),
        vec!["This time has passed: choose a time from now on."]
    );

    let no_message = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "minutes_before": 15, "note": "x"}),
        )),
    )
    .await;
    assert_eq!(
        no_message.field_errors("minutes_before"),
        vec!["Only with a message_id."]
    );

    let unknown_field = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "remind_at": in_minutes(5), "colour": "red"}),
        )),
    )
    .await;
    assert_eq!(unknown_field.field_errors("colour"), vec!["Unknown field."]);

    let count: i64 = crm_db::schema::reminders::table
        .count()
        .get_result(&mut db.connection())
        .unwrap();
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn local_times_follow_the_zone_across_clock_changes() {
    app_with_customer!(db, app, admin, customer);
    let _ = &db;
    let at = |local: &str| {
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "remind_at": local, "timezone": "Europe/London", "note": "x"}),
        ))
    };
    // 29 March 2027, 01:30 does not exist in London (clocks go 01:00 -> 02:00).
    let gap = send(&app, at("2027-03-28T01:30")).await;
    gap.assert_problem(422);
    assert!(
        gap.field_errors("remind_at")[0].contains("does not exist in Europe/London"),
        "{}",
        gap.text
    );
    // 31 October 2027, 01:30 happens twice: the earlier (BST, 00:30 UTC) is taken.
    let fold = send(&app, at("2027-10-31T01:30")).await;
    assert_eq!(fold.status, StatusCode::CREATED, "{}", fold.text);
    assert_eq!(
        time(&fold.json["remind_at"]),
        time(&json!("2027-10-31T00:30:00Z"))
    );
    // Without a zone in the request, the user's zone is used once set.
    let me = send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri("/api/v1/auth/me")
                .set_json(json!({"timezone": "Asia/Tokyo"})),
        ),
    )
    .await;
    assert_eq!(me.json["timezone"], "Asia/Tokyo", "{}", me.text);
    let tokyo = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "remind_at": "2027-01-05T09:00", "note": "x"}),
        )),
    )
    .await;
    assert_eq!(
        time(&tokyo.json["remind_at"]),
        time(&json!("2027-01-05T00:00:00Z"))
    );
    let bad_zone = send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri("/api/v1/auth/me")
                .set_json(json!({"timezone": "Mars/Olympus"})),
        ),
    )
    .await;
    bad_zone.assert_problem(422);
    assert!(!bad_zone.field_errors("timezone").is_empty());
}

#[actix_web::test]
async fn snooze_puts_off_and_tomorrow_is_nine_in_the_owners_zone() {
    app_with_customer!(db, app, admin, customer);
    send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri("/api/v1/auth/me")
                .set_json(json!({"timezone": "America/New_York"})),
        ),
    )
    .await;
    let created = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "remind_at": in_minutes(1), "note": "x"}),
        )),
    )
    .await;
    let id = created.json["id"].as_i64().unwrap();
    make_due(&db, id);
    let snooze = |body: Value| admin.apply(post(&format!("/api/v1/reminders/{id}/snooze"), body));

    let before = Utc::now();
    let ten = send(&app, snooze(json!({"for": "10m"}))).await;
    assert_eq!(ten.status, StatusCode::OK, "{}", ten.text);
    let at = time(&ten.json["remind_at"]);
    assert!(at >= before + Duration::minutes(10) && at <= Utc::now() + Duration::minutes(10));
    assert_eq!(ten.json["due"], false);

    let tomorrow = send(&app, snooze(json!({"for": "tomorrow"}))).await;
    let at = time(&tomorrow.json["remind_at"]).with_timezone(&chrono_tz::America::New_York);
    assert_eq!(at.format("%H:%M").to_string(), "09:00");
    let today = Utc::now()
        .with_timezone(&chrono_tz::America::New_York)
        .date_naive();
    assert_eq!(at.date_naive(), today + Duration::days(1));

    let until = send(&app, snooze(json!({"until": in_minutes(90)}))).await;
    assert_eq!(until.status, StatusCode::OK, "{}", until.text);
    let bad = send(&app, snooze(json!({"for": "2h"}))).await;
    assert_eq!(bad.field_errors("for"), vec!["Choose 10m, 1h or tomorrow."]);
    let both = send(&app, snooze(json!({"for": "1h", "until": in_minutes(5)}))).await;
    both.assert_problem(422);

    // Snoozing a dismissed reminder opens it again.
    send(
        &app,
        admin.apply(TestRequest::post().uri(&format!("/api/v1/reminders/{id}/dismiss"))),
    )
    .await;
    let reopened = send(&app, snooze(json!({"for": "1h"}))).await;
    assert!(reopened.json["dismissed_at"].is_null(), "{}", reopened.text);

    let edited = send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri(&format!("/api/v1/reminders/{id}"))
                .set_json(json!({"note": "Call after lunch"})),
        ),
    )
    .await;
    assert_eq!(edited.json["note"], "Call after lunch");
    let deleted = send(
        &app,
        admin.apply(TestRequest::delete().uri(&format!("/api/v1/reminders/{id}"))),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = send(
        &app,
        admin.apply(TestRequest::get().uri(&format!("/api/v1/reminders/{id}"))),
    )
    .await;
    gone.assert_problem(404);
}

#[actix_web::test]
async fn reminders_follow_their_message() {
    app_with_customer!(db, app, admin, customer);
    let message = send(
        &app,
        admin.apply(post(
            &format!("/api/v1/customers/{customer}/messages"),
            json!({"channel": "sms", "body": "Your order is ready.", "send_at": in_minutes(120)}),
        )),
    )
    .await;
    assert_eq!(message.status, StatusCode::CREATED, "{}", message.text);
    let message_id = message.json["id"].as_i64().unwrap();
    let send_at = time(&message.json["send_at"]);

    let at_send = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "message_id": message_id}),
        )),
    )
    .await;
    assert_eq!(at_send.status, StatusCode::CREATED, "{}", at_send.text);
    assert_eq!(time(&at_send.json["remind_at"]), send_at);
    assert_eq!(at_send.json["message_excerpt"], "Your order is ready.");
    let before = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "message_id": message_id, "minutes_before": 15, "note": "Check stock"}),
        )),
    )
    .await;
    assert_eq!(
        time(&before.json["remind_at"]),
        send_at - Duration::minutes(15)
    );
    let too_early = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "message_id": message_id, "minutes_before": 600}),
        )),
    )
    .await;
    too_early.assert_problem(422);
    assert!(!too_early.field_errors("minutes_before").is_empty());

    // Another customer's message is refused.
    let other = send(
        &app,
        admin.apply(post("/api/v1/customers", json!({"name": "Alan Turing"}))),
    )
    .await;
    let wrong = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": other.json["id"], "message_id": message_id}),
        )),
    )
    .await;
    assert_eq!(
        wrong.field_errors("message_id"),
        vec!["This message is not to this customer."]
    );

    // The message moves an hour later: both reminders move with it.
    let moved = send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri(&format!("/api/v1/messages/{message_id}"))
                .set_json(
                    json!({"version": 1, "send_at": (send_at + Duration::hours(1)).to_rfc3339()}),
                ),
        ),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text);
    let reminder =
        |id: &Value| admin.apply(TestRequest::get().uri(&format!("/api/v1/reminders/{id}")));
    let followed = send(&app, reminder(&at_send.json["id"])).await;
    assert_eq!(
        time(&followed.json["remind_at"]),
        send_at + Duration::hours(1)
    );
    let followed = send(&app, reminder(&before.json["id"])).await;
    assert_eq!(
        time(&followed.json["remind_at"]),
        send_at + Duration::minutes(45)
    );

    // Canceled: both are dismissed, saying why.
    let canceled = send(
        &app,
        admin.apply(TestRequest::post().uri(&format!("/api/v1/messages/{message_id}/cancel"))),
    )
    .await;
    assert_eq!(canceled.status, StatusCode::OK, "{}", canceled.text);
    let dismissed = send(&app, reminder(&at_send.json["id"])).await;
    assert!(
        dismissed.json["dismissed_at"].is_string(),
        "{}",
        dismissed.text
    );
    assert_eq!(
        dismissed.json["dismissed_reason"],
        "Its message will not be sent. Canceled by staff."
    );
    let _ = &db;
}

#[actix_web::test]
async fn nobody_sees_anothers_reminders_or_their_events() {
    app_with_customer!(db, app, admin, customer);
    let grace = send(
        &app,
        admin.apply(post("/api/v1/users", json!({
            "name": "Grace Hopper", "email": "grace@example.com", "password": GRACE_PASSWORD, "role": "staff"
        }))),
    )
    .await;
    let grace_id = grace.json["id"].as_i64().unwrap();
    let staff = session_of(&send(&app, login("grace@example.com", GRACE_PASSWORD)).await);
    let cursor = crm_db::live::end(&mut db.connection()).unwrap();

    let admins = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "remind_at": in_minutes(30), "note": "Ada's"}),
        )),
    )
    .await;
    let admins_id = admins.json["id"].as_i64().unwrap();
    let staffs = send(
        &app,
        staff.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "remind_at": in_minutes(30), "note": "Grace's"}),
        )),
    )
    .await;
    assert_eq!(staffs.status, StatusCode::CREATED, "{}", staffs.text);
    let staffs_id = staffs.json["id"].as_i64().unwrap();

    let upcoming = |s: &Session, extra: &str| {
        s.apply(TestRequest::get().uri(&format!("/api/v1/reminders?state=upcoming{extra}")))
    };
    let own = send(&app, upcoming(&staff, "")).await;
    assert_eq!(own.json["total"], 1);
    assert_eq!(own.json["items"][0]["note"], "Grace's");
    let not_allowed = send(&app, upcoming(&staff, "&owner=all")).await;
    assert_eq!(
        not_allowed.field_errors("owner"),
        vec!["Only admins may list everyone's reminders."]
    );
    let everyone = send(&app, upcoming(&admin, "&owner=all")).await;
    assert_eq!(everyone.json["total"], 2);

    for request in [
        TestRequest::get().uri(&format!("/api/v1/reminders/{admins_id}")),
        TestRequest::post().uri(&format!("/api/v1/reminders/{admins_id}/dismiss")),
        TestRequest::delete().uri(&format!("/api/v1/reminders/{admins_id}")),
    ] {
        send(&app, staff.apply(request)).await.assert_problem(404);
    }
    let admin_acts = send(
        &app,
        admin.apply(TestRequest::post().uri(&format!("/api/v1/reminders/{staffs_id}/dismiss"))),
    )
    .await;
    assert_eq!(admin_acts.status, StatusCode::OK, "{}", admin_acts.text);

    // The event log: Grace sees only her reminder's events; messages are everyone's.
    make_due(&db, staffs_id);
    let mut conn = db.connection();
    crm_db::reminders::announce_due(&mut conn, 10).unwrap();
    // Grace's reminder was created, dismissed by Ada and moved by the test: three events.
    let for_grace = events_after(
        &mut conn,
        cursor,
        Some(crm_domain::UserId::new(grace_id)),
        3,
    );
    let reminders: Vec<i64> = for_grace
        .iter()
        .filter(|r| r.kind.starts_with("reminder."))
        .map(|r| {
            serde_json::from_str::<Value>(&r.data).unwrap()["reminder_id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert!(!reminders.is_empty(), "{for_grace:?} {}", grace.text);
    assert!(reminders.iter().all(|id| *id == staffs_id), "{reminders:?}");
    let all = events_after(&mut conn, cursor, None, 3);
    assert!(
        all.iter()
            .any(|r| r.kind == "reminder.changed" && r.user_id.map(|u| u.get()) != Some(grace_id))
    );
    for record in &all {
        crm_contract::live::LiveEvent::parse(&record.kind, &record.data).unwrap_or_else(|_| {
            panic!(
                "{} does not read as its contract type: {}",
                record.kind, record.data
            )
        });
    }
}

#[actix_web::test]
async fn due_reminders_are_announced_once_and_events_come_in_commit_order() {
    app_with_customer!(db, app, admin, customer);
    let mut conn = db.connection();
    let start = crm_db::live::end(&mut conn).unwrap();
    let created = send(
        &app,
        admin.apply(post(
            "/api/v1/reminders",
            json!({"customer_id": customer, "remind_at": in_minutes(1), "note": "x"}),
        )),
    )
    .await;
    let id = created.json["id"].as_i64().unwrap();
    make_due(&db, id);
    assert_eq!(crm_db::reminders::announce_due(&mut conn, 10).unwrap(), 1);
    assert_eq!(
        crm_db::reminders::announce_due(&mut conn, 10).unwrap(),
        0,
        "announced once"
    );
    let kinds: Vec<String> = events_after(&mut conn, start, None, 2)
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "reminder.due").count(),
        1,
        "{kinds:?}"
    );

    // A transaction that started first but commits last is not skipped by a reader that has
    // already read past a later one.
    let mut slow = db.connection();
    diesel::sql_query("BEGIN").execute(&mut slow).ok();
    diesel::sql_query("SELECT publish_live_event(NULL, 'resync', '{}')")
        .execute(&mut slow)
        .unwrap();
    diesel::sql_query("SELECT publish_live_event(NULL, 'resync', '{}')")
        .execute(&mut conn)
        .unwrap();
    let seen = crm_db::live::after(&mut conn, start, None, 100).unwrap();
    let last_seen: Cursor = seen.last().map(|r| r.cursor()).unwrap_or(start);
    assert!(
        seen.iter().all(|r| r.kind != "resync"),
        "nothing after a running transaction's event is handed out yet"
    );
    diesel::sql_query("COMMIT").execute(&mut slow).unwrap();
    let later = events_after(&mut conn, last_seen, None, 2);
    assert_eq!(later.iter().filter(|r| r.kind == "resync").count(), 2);
}
