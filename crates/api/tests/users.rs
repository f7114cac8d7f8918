//! Staff accounts: admins add, change, disable and enable them; staff can't; an admin remains.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use serde_json::json;
use support::*;

/// Adds Grace with `role` as the admin of `session`.
async fn add_grace<S, B>(app: &S, admin: &Session, role: &str) -> Answer
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    send(
        app,
        admin.apply(TestRequest::post().uri("/api/v1/users").set_json(json!({
            "name": "Grace Hopper", "email": "Grace@Example.com", "password": "a long passphrase", "role": role
        }))),
    )
    .await
}

#[actix_web::test]
async fn an_admin_adds_staff_who_sign_in_and_cannot_manage_accounts() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let created = add_grace(&app, &admin, "staff").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["role"], "staff");
    assert_eq!(
        created.json["email"], "Grace@example.com",
        "the domain is lower-cased"
    );
    assert_eq!(created.json["disabled_at"], serde_json::Value::Null);
    assert!(created.json.get("password_hash").is_none());

    let again = send(
        &app,
        admin.apply(TestRequest::post().uri("/api/v1/users").set_json(json!({
            "name": "Grace", "email": "grace@example.com", "password": "another passphrase", "role": "boss"
        }))),
    )
    .await;
    again.assert_problem(422);
    assert_eq!(again.field_errors("role"), vec!["Must be staff or admin."]);
    let again = send(
        &app,
        admin.apply(TestRequest::post().uri("/api/v1/users").set_json(json!({
            "name": "Grace", "email": "grace@example.com", "password": "another passphrase"
        }))),
    )
    .await;
    assert_eq!(
        again.field_errors("email"),
        vec!["An account with this email exists already."]
    );

    let list = send(&app, admin.apply(TestRequest::get().uri("/api/v1/users"))).await;
    assert_eq!(list.json["total"], 2);
    assert_eq!(list.json["items"][1]["name"], "Grace Hopper");

    let signed_in = send(&app, login("grace@example.com", "a long passphrase")).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    let grace = session_of(&signed_in);
    send(&app, grace.apply(TestRequest::get().uri("/api/v1/users")))
        .await
        .assert_problem(403);
    let refused = send(
        &app,
        grace.apply(TestRequest::post().uri("/api/v1/users").set_json(json!({
            "name": "Mallory", "email": "m@example.com", "password": "a long passphrase", "role": "admin"
        }))),
    )
    .await;
    refused.assert_problem(403);
    // Staff do the daily work.
    let customer = send(
        &app,
        grace.apply(
            TestRequest::post()
                .uri("/api/v1/customers")
                .set_json(json!({"name": "Ada"})),
        ),
    )
    .await;
    assert_eq!(customer.status, StatusCode::CREATED);
}

#[actix_web::test]
async fn disabling_an_account_ends_its_sessions_and_tokens_at_once() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let created = add_grace(&app, &admin, "staff").await;
    let id = created.json["id"].as_i64().unwrap();
    let grace = session_of(&send(&app, login("grace@example.com", "a long passphrase")).await);
    let token = create_token_as(&app, &grace, "script", "a long passphrase").await;

    let uri = format!("/api/v1/users/{id}");
    let disabled = send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri(&uri)
                .set_json(json!({"disabled": true})),
        ),
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
    assert!(disabled.json["disabled_at"].is_string());
    send(&app, grace.apply(TestRequest::get().uri("/api/v1/auth/me")))
        .await
        .assert_problem(401);
    send(
        &app,
        bearer(TestRequest::get().uri("/api/v1/customers"), &token),
    )
    .await
    .assert_problem(401);
    send(&app, login("grace@example.com", "a long passphrase"))
        .await
        .assert_problem(401);

    // Enabled again, with a new password set by the admin.
    let enabled = send(
        &app,
        admin.apply(TestRequest::patch().uri(&uri).set_json(
            json!({"disabled": false, "password": "a brand new passphrase", "name": "Grace B. Hopper"}),
        )),
    )
    .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.text);
    assert_eq!(enabled.json["disabled_at"], serde_json::Value::Null);
    assert_eq!(enabled.json["name"], "Grace B. Hopper");
    send(&app, login("grace@example.com", "a long passphrase"))
        .await
        .assert_problem(401);
    let back = send(&app, login("grace@example.com", "a brand new passphrase")).await;
    assert_eq!(back.status, StatusCode::OK);

    send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri("/api/v1/users/999999")
                .set_json(json!({"name": "X"})),
        ),
    )
    .await
    .assert_problem(404);
}

#[actix_web::test]
async fn the_last_enabled_admin_cannot_be_demoted_or_disabled() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let me = send(&app, admin.apply(TestRequest::get().uri("/api/v1/auth/me"))).await;
    let uri = format!("/api/v1/users/{}", me.json["id"]);
    for change in [json!({"role": "staff"}), json!({"disabled": true})] {
        let refused = send(
            &app,
            admin.apply(TestRequest::patch().uri(&uri).set_json(change)),
        )
        .await;
        refused.assert_problem(409);
    }
    let still = send(&app, admin.apply(TestRequest::get().uri("/api/v1/auth/me"))).await;
    assert_eq!(still.json["role"], "admin");
    let trail = send(
        &app,
        admin.apply(TestRequest::get().uri(&format!("{uri}/activity"))),
    )
    .await;
    assert_eq!(
        trail.json["total"], 1,
        "refused changes leave no trace: {}",
        trail.text
    );

    // With a second admin, the first may step down.
    let second = add_grace(&app, &admin, "admin").await;
    assert_eq!(second.json["role"], "admin");
    let stepped_down = send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri(&uri)
                .set_json(json!({"role": "staff"})),
        ),
    )
    .await;
    assert_eq!(stepped_down.status, StatusCode::OK, "{}", stepped_down.text);
    assert_eq!(stepped_down.json["role"], "staff");
}

#[actix_web::test]
async fn anyone_changes_their_own_password_and_their_other_sessions_end() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    add_grace(&app, &admin, "staff").await;
    let here = session_of(&send(&app, login("grace@example.com", "a long passphrase")).await);
    let elsewhere = session_of(&send(&app, login("grace@example.com", "a long passphrase")).await);
    let change = |current: &str, new: &str| {
        here.apply(
            TestRequest::post()
                .uri("/api/v1/auth/password")
                .set_json(json!({"current_password": current, "new_password": new})),
        )
    };

    let wrong = send(&app, change("not it", "short")).await;
    wrong.assert_problem(422);
    assert_eq!(
        wrong.field_errors("current_password"),
        vec!["This is not your current password."]
    );
    assert_eq!(wrong.field_errors("new_password").len(), 1);

    let changed = send(
        &app,
        change("a long passphrase", "an even longer passphrase"),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(
        changed.json,
        json!({"sessions_ended": 1, "tokens_revoked": 0})
    );
    let me = send(&app, here.apply(TestRequest::get().uri("/api/v1/auth/me"))).await;
    assert_eq!(me.status, StatusCode::OK, "this session stays");
    send(
        &app,
        elsewhere.apply(TestRequest::get().uri("/api/v1/auth/me")),
    )
    .await
    .assert_problem(401);
    send(&app, login("grace@example.com", "a long passphrase"))
        .await
        .assert_problem(401);
    let again = send(
        &app,
        login("grace@example.com", "an even longer passphrase"),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
}

#[actix_web::test]
async fn account_changes_are_recorded_and_shown_to_admins_and_the_owner() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let me = send(&app, admin.apply(TestRequest::get().uri("/api/v1/auth/me"))).await;
    let admin_id = me.json["id"].as_i64().unwrap();
    let grace_id = add_grace(&app, &admin, "staff").await.json["id"]
        .as_i64()
        .unwrap();
    let actions = |answer: &Answer| -> Vec<String> {
        answer.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    };
    let trail_of = |session: &Session, id: i64| {
        session.apply(TestRequest::get().uri(&format!("/api/v1/users/{id}/activity")))
    };

    // The first admin made herself at setup.
    let own = send(&app, trail_of(&admin, admin_id)).await;
    assert_eq!(actions(&own), vec!["user.created"]);
    assert_eq!(own.json["items"][0]["actor"]["id"], admin_id);

    // An admin's changes, one event per request, only what really changed, never a password.
    let uri = format!("/api/v1/users/{grace_id}");
    let patch =
        |body: serde_json::Value| admin.apply(TestRequest::patch().uri(&uri).set_json(body));
    let changed = send(
        &app,
        patch(json!({"name": "Grace B. Hopper", "role": "admin", "password": "a new long passphrase"})),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    send(&app, patch(json!({"name": "Grace B. Hopper"}))).await;
    send(&app, patch(json!({"disabled": true}))).await;
    send(&app, patch(json!({"disabled": false, "role": "staff"}))).await;
    let trail = send(&app, trail_of(&admin, grace_id)).await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.text);
    assert_eq!(
        actions(&trail),
        vec![
            "user.updated",
            "user.updated",
            "user.updated",
            "user.created"
        ],
        "newest first; the request that changed nothing left nothing"
    );
    assert_eq!(
        trail.json["items"][2]["changes"],
        json!({
            "name": {"from": "Grace Hopper", "to": "Grace B. Hopper"},
            "role": {"from": "staff", "to": "admin"},
            "password": "reset"
        })
    );
    assert_eq!(
        trail.json["items"][1]["changes"],
        json!({"disabled": {"from": false, "to": true}})
    );
    assert_eq!(trail.json["items"][0]["actor"]["name"], "Ada Lovelace");
    assert!(!trail.text.contains("a new long passphrase"));

    // Grace's own doings land in her trail; she may read it, not the admin's.
    let grace = session_of(&send(&app, login("grace@example.com", "a new long passphrase")).await);
    let token = send(
        &app,
        grace.apply(TestRequest::post().uri("/api/v1/tokens").set_json(
            json!({"name": "backup script", "current_password": "a new long passphrase"}),
        )),
    )
    .await;
    let token_id = token.json["id"].as_i64().unwrap();
    send(
        &app,
        grace.apply(TestRequest::delete().uri(&format!("/api/v1/tokens/{token_id}"))),
    )
    .await;
    send(
        &app,
        grace.apply(TestRequest::post().uri("/api/v1/auth/password").set_json(
            json!({"current_password": "a new long passphrase", "new_password": "her very own passphrase"}),
        )),
    )
    .await;
    let own = send(&app, trail_of(&grace, grace_id)).await;
    assert_eq!(
        actions(&own)[..3],
        ["user.password_changed", "token.revoked", "token.created"]
    );
    assert_eq!(own.json["items"][2]["changes"]["name"], "backup script");
    assert_eq!(own.json["total"], 7);
    send(&app, trail_of(&grace, admin_id))
        .await
        .assert_problem(403);
    send(&app, trail_of(&admin, 9999)).await.assert_problem(404);

    // In pages, like every list.
    let first = send(
        &app,
        admin.apply(TestRequest::get().uri(&format!("/api/v1/users/{grace_id}/activity?limit=4"))),
    )
    .await;
    assert_eq!(actions(&first).len(), 4);
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let rest = send(
        &app,
        admin.apply(TestRequest::get().uri(&format!(
            "/api/v1/users/{grace_id}/activity?limit=4&cursor={cursor}"
        ))),
    )
    .await;
    assert_eq!(
        actions(&rest),
        vec!["user.updated", "user.updated", "user.created"]
    );
    assert_eq!(rest.json["next_cursor"], serde_json::Value::Null);
}
