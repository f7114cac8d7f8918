//! Credentials end when the decision to end them is made: an admin's reset or disable, one's
//! own password change, a session left idle, a token's expiry; and a new token needs the
//! password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use chrono::{DateTime, TimeDelta, Utc};
use crm_db::schema::{api_tokens, sessions};
use diesel::prelude::*;
use serde_json::{Value, json};
use support::*;

const GRACE_EMAIL: &str = "grace@example.com";
const GRACE_PASSWORD: &str = "a long passphrase";

fn me() -> TestRequest {
    TestRequest::get().uri("/api/v1/auth/me")
}

fn patch_user(id: i64, body: Value) -> TestRequest {
    TestRequest::patch()
        .uri(&format!("/api/v1/users/{id}"))
        .set_json(body)
}

fn change_password(current: &str, new: &str, revoke_tokens: Option<bool>) -> TestRequest {
    let mut body = json!({"current_password": current, "new_password": new});
    if let Some(revoke) = revoke_tokens {
        body["revoke_tokens"] = json!(revoke);
    }
    TestRequest::post()
        .uri("/api/v1/auth/password")
        .set_json(body)
}

fn token_count(db: &crm_db::test_support::TestDatabase) -> i64 {
    api_tokens::table
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

#[actix_web::test]
async fn an_admins_password_reset_ends_the_users_sessions_and_revokes_their_tokens() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let id = add_staff(&app, &admin, GRACE_EMAIL, GRACE_PASSWORD).await;
    let grace = session_of(&send(&app, login(GRACE_EMAIL, GRACE_PASSWORD)).await);
    let token = create_token_as(&app, &grace, "script", GRACE_PASSWORD).await;

    let reset = send(
        &app,
        admin.apply(patch_user(id, json!({"password": "a fresh passphrase"}))),
    )
    .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    send(&app, grace.apply(me())).await.assert_problem(401);
    send(&app, bearer(me(), &token)).await.assert_problem(401);
    // The admin's own session is untouched.
    assert_eq!(send(&app, admin.apply(me())).await.status, StatusCode::OK);

    // Signing in with the new password does not bring the token back.
    let again = session_of(&send(&app, login(GRACE_EMAIL, "a fresh passphrase")).await);
    send(&app, bearer(me(), &token)).await.assert_problem(401);
    let trail = send(
        &app,
        again.apply(TestRequest::get().uri(&format!("/api/v1/users/{id}/activity"))),
    )
    .await;
    assert_eq!(trail.json["items"][0]["action"], "token.revoked");
    assert_eq!(trail.json["items"][0]["actor"]["name"], "Ada Lovelace");
    assert_eq!(trail.json["items"][1]["action"], "user.updated");
}

#[actix_web::test]
async fn disabling_ends_sessions_and_tokens_and_enabling_again_does_not_revive_them() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let id = add_staff(&app, &admin, GRACE_EMAIL, GRACE_PASSWORD).await;
    let grace = session_of(&send(&app, login(GRACE_EMAIL, GRACE_PASSWORD)).await);
    let token = create_token_as(&app, &grace, "script", GRACE_PASSWORD).await;

    for disabled in [true, false] {
        let answer = send(
            &app,
            admin.apply(patch_user(id, json!({"disabled": disabled}))),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    send(&app, grace.apply(me())).await.assert_problem(401);
    send(&app, bearer(me(), &token)).await.assert_problem(401);
    let mut conn = db.connection();
    let left: i64 = sessions::table
        .filter(sessions::user_id.eq(id))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(left, 0, "the sessions are gone, not just hidden");
    let revoked: Option<DateTime<Utc>> = api_tokens::table
        .select(api_tokens::revoked_at)
        .first(&mut conn)
        .unwrap();
    assert!(revoked.is_some());
    // Enabled again, Grace signs in afresh.
    let back = send(&app, login(GRACE_EMAIL, GRACE_PASSWORD)).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
}

#[actix_web::test]
async fn changing_your_own_password_revokes_your_tokens_unless_you_ask_to_keep_them() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    add_staff(&app, &admin, GRACE_EMAIL, GRACE_PASSWORD).await;
    let grace = session_of(&send(&app, login(GRACE_EMAIL, GRACE_PASSWORD)).await);
    let elsewhere = session_of(&send(&app, login(GRACE_EMAIL, GRACE_PASSWORD)).await);
    let first = create_token_as(&app, &grace, "one", GRACE_PASSWORD).await;
    let second = create_token_as(&app, &grace, "two", GRACE_PASSWORD).await;
    let admins = create_token(&app, &admin, "ada's").await;

    let changed = send(
        &app,
        grace.apply(change_password(GRACE_PASSWORD, "a second passphrase", None)),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(
        changed.json,
        json!({"sessions_ended": 1, "tokens_revoked": 2})
    );
    for token in [&first, &second] {
        send(&app, bearer(me(), token)).await.assert_problem(401);
    }
    send(&app, elsewhere.apply(me())).await.assert_problem(401);
    assert_eq!(send(&app, grace.apply(me())).await.status, StatusCode::OK);
    assert_eq!(
        send(&app, bearer(me(), &admins)).await.status,
        StatusCode::OK,
        "someone else's tokens stay"
    );

    let kept = create_token_as(&app, &grace, "kept", "a second passphrase").await;
    let changed = send(
        &app,
        grace.apply(change_password(
            "a second passphrase",
            "a third passphrase",
            Some(false),
        )),
    )
    .await;
    assert_eq!(
        changed.json,
        json!({"sessions_ended": 0, "tokens_revoked": 0})
    );
    assert_eq!(send(&app, bearer(me(), &kept)).await.status, StatusCode::OK);
}

/// Sets when the session was last used, as if time had passed.
fn last_used(db: &crm_db::test_support::TestDatabase, ago: TimeDelta) {
    diesel::update(sessions::table)
        .set(sessions::last_seen_at.eq(Utc::now() - ago))
        .execute(&mut db.connection())
        .unwrap();
}

fn last_seen(db: &crm_db::test_support::TestDatabase) -> DateTime<Utc> {
    sessions::table
        .select(sessions::last_seen_at)
        .first(&mut db.connection())
        .unwrap()
}

#[actix_web::test]
async fn a_session_left_idle_answers_401_and_each_use_slides_it() {
    let (db, state) = fresh(&[("SESSION_IDLE_MINUTES", "1")]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;

    // Used 50 seconds ago: still on, and this use counts.
    last_used(&db, TimeDelta::seconds(50));
    assert_eq!(send(&app, session.apply(me())).await.status, StatusCode::OK);
    assert!(Utc::now() - last_seen(&db) < TimeDelta::seconds(10), "slid");
    // Used a moment ago: no write for every read.
    last_used(&db, TimeDelta::seconds(2));
    let before = last_seen(&db);
    send(&app, session.apply(me())).await;
    assert_eq!(last_seen(&db), before);
    // A write refused for want of its CSRF token (a cross-site post) is not a use.
    last_used(&db, TimeDelta::seconds(50));
    let before = last_seen(&db);
    let cross_site = TestRequest::post()
        .uri("/api/v1/customers")
        .set_json(json!({"name": "Grace"}));
    send(&app, session.cookie_only(cross_site))
        .await
        .assert_problem(403);
    assert_eq!(last_seen(&db), before, "not slid");

    // Unused for longer than the limit: signed out, for writes too.
    last_used(&db, TimeDelta::seconds(61));
    send(&app, session.apply(me())).await.assert_problem(401);
    let write = TestRequest::post()
        .uri("/api/v1/customers")
        .set_json(json!({"name": "Grace"}));
    send(&app, session.apply(write)).await.assert_problem(401);
}

fn new_token(body: Value) -> TestRequest {
    TestRequest::post().uri("/api/v1/tokens").set_json(body)
}

#[actix_web::test]
async fn a_token_is_made_only_with_the_current_password() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;

    let missing = send(&app, session.apply(new_token(json!({"name": "script"})))).await;
    missing.assert_problem(422);
    assert_eq!(
        missing.field_errors("current_password"),
        vec!["This field is required."]
    );
    let wrong = send(
        &app,
        session.apply(new_token(
            json!({"name": "script", "current_password": "not my password"}),
        )),
    )
    .await;
    wrong.assert_problem(422);
    assert_eq!(
        wrong.field_errors("current_password"),
        vec!["This is not your current password."]
    );
    // Every field's problem at once.
    let all = send(
        &app,
        session.apply(new_token(
            json!({"name": "", "current_password": "", "expires_in_days": 366}),
        )),
    )
    .await;
    all.assert_problem(422);
    for field in ["name", "current_password", "expires_in_days"] {
        assert_eq!(all.field_errors(field).len(), 1, "{field}: {}", all.text);
    }
    assert_eq!(token_count(&db), 0, "no token made");
}

#[actix_web::test]
async fn a_token_may_expire_and_then_answers_401() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let made = send(
        &app,
        session.apply(new_token(json!({
            "name": "for a month",
            "current_password": ADMIN_PASSWORD,
            "expires_in_days": 30
        }))),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let expires: DateTime<Utc> = made.json["expires_at"].as_str().unwrap().parse().unwrap();
    let in_30_days = Utc::now() + TimeDelta::days(30);
    assert!(
        (in_30_days - expires).abs() < TimeDelta::minutes(1),
        "{expires}"
    );
    let forever = create_token(&app, &session, "forever").await;
    let listed = send(
        &app,
        session.apply(TestRequest::get().uri("/api/v1/tokens")),
    )
    .await;
    assert_eq!(listed.json["items"][0]["expires_at"], Value::Null);
    assert_eq!(
        listed.json["items"][1]["expires_at"],
        made.json["expires_at"]
    );
    let secret = made.json["token"].as_str().unwrap();
    assert_eq!(
        send(&app, bearer(me(), secret)).await.status,
        StatusCode::OK
    );

    // A month later.
    diesel::update(api_tokens::table.filter(api_tokens::name.eq("for a month")))
        .set(api_tokens::expires_at.eq(Utc::now() - TimeDelta::seconds(1)))
        .execute(&mut db.connection())
        .unwrap();
    send(&app, bearer(me(), secret)).await.assert_problem(401);
    assert_eq!(
        send(&app, bearer(me(), &forever)).await.status,
        StatusCode::OK
    );
    let listed = send(
        &app,
        session.apply(TestRequest::get().uri("/api/v1/tokens")),
    )
    .await;
    assert_eq!(listed.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed.json["items"][0]["name"], "forever");

    for days in [0, -1, 366] {
        let refused = send(
            &app,
            session.apply(new_token(json!({
                "name": "odd",
                "current_password": ADMIN_PASSWORD,
                "expires_in_days": days
            }))),
        )
        .await;
        refused.assert_problem(422);
        assert_eq!(refused.field_errors("expires_in_days").len(), 1, "{days}");
    }
}
