//! First-run setup, sign-in, sessions, CSRF and API tokens, end to end (sign-in limits are in
//! `login_limit.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use diesel::prelude::*;
use serde_json::json;
use support::*;

#[actix_web::test]
async fn first_run_setup_creates_one_admin_and_then_refuses() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;

    let status = send(&app, TestRequest::get().uri("/api/v1/setup")).await;
    assert_eq!(
        status.json,
        json!({"needed": true, "token_required": false})
    );

    let session = setup_admin(&app).await;
    let me = send(
        &app,
        session.apply(TestRequest::get().uri("/api/v1/auth/me")),
    )
    .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["email"], ADMIN_EMAIL);
    assert_eq!(me.json["role"], "admin");

    let status = send(&app, TestRequest::get().uri("/api/v1/setup")).await;
    assert_eq!(
        status.json,
        json!({"needed": false, "token_required": false})
    );
    let again = send(
        &app,
        TestRequest::post().uri("/api/v1/setup").set_json(
            json!({"name": "Mallory", "email": "mallory@example.com", "password": "long enough password"}),
        ),
    )
    .await;
    again.assert_problem(409);
}

#[actix_web::test]
async fn setup_reports_every_invalid_field_and_creates_nothing() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let answer = send(
        &app,
        TestRequest::post()
            .uri("/api/v1/setup")
            .set_json(json!({"name": " ", "email": "not-an-email", "password": "short"})),
    )
    .await;
    answer.assert_problem(422);
    assert_eq!(answer.field_errors("name"), vec!["This field is required."]);
    assert_eq!(
        answer.field_errors("email"),
        vec!["Enter a valid email address, such as name@example.com."]
    );
    assert_eq!(
        answer.field_errors("password"),
        vec!["Use at least 10 characters."]
    );
    let mut conn = db.connection();
    assert!(!crm_db::users::any_exist(&mut conn).unwrap());
}

#[actix_web::test]
async fn concurrent_first_run_requests_create_exactly_one_admin() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let request = |n: usize| {
        TestRequest::post().uri("/api/v1/setup").set_json(
            json!({"name": format!("Admin {n}"), "email": format!("admin{n}@example.com"), "password": "long enough password"}),
        )
    };
    let answers = futures_util::future::join_all((0..4).map(|n| send(&app, request(n)))).await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let conflicts = answers
        .iter()
        .filter(|a| a.status == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 3));
    let mut conn = db.connection();
    let count: i64 = crm_db::schema::users::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(count, 1);
}

#[actix_web::test]
async fn sign_in_sets_a_hardened_session_cookie_and_a_readable_csrf_cookie() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;

    let answer = send(&app, login("ADA@example.com", ADMIN_PASSWORD)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let cookies: Vec<&str> = answer
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .collect();
    let session_cookie = cookies
        .iter()
        .find(|c| c.starts_with("crm_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(session_cookie.contains("Path=/"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "plain http must not set Secure: {session_cookie}"
    );
    let csrf_cookie = cookies.iter().find(|c| c.starts_with("crm_csrf=")).unwrap();
    assert!(!csrf_cookie.contains("HttpOnly"), "{csrf_cookie}");

    let session = session_of(&answer);
    assert_eq!(answer.json["csrf_token"], session.csrf.as_str());
    assert_eq!(answer.json["user"]["email"], ADMIN_EMAIL);

    // Only hashes are stored.
    let mut conn = db.connection();
    let hashes: Vec<Vec<u8>> = crm_db::schema::sessions::table
        .select(crm_db::schema::sessions::token_hash)
        .load(&mut conn)
        .unwrap();
    assert!(
        hashes
            .iter()
            .all(|h| h.len() == 32 && h.as_slice() != session.cookie.as_bytes())
    );
}

#[actix_web::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    let (_db, state) = fresh(&[("PUBLIC_URL", "https://crm.example.com")]);
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    let answer = send(&app, login(ADMIN_EMAIL, ADMIN_PASSWORD)).await;
    let cookies: Vec<&str> = answer
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(cookies.len(), 2);
    assert!(cookies.iter().all(|c| c.contains("Secure")), "{cookies:?}");
}

#[actix_web::test]
async fn a_wrong_password_or_unknown_account_gets_the_same_401() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    let wrong = send(&app, login(ADMIN_EMAIL, "not the password")).await;
    wrong.assert_problem(401);
    assert!(wrong.headers.get("set-cookie").is_none());
    let unknown = send(&app, login("nobody@example.com", "not the password")).await;
    unknown.assert_problem(401);
    assert_eq!(wrong.json, unknown.json);

    let missing = send(
        &app,
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"email": ADMIN_EMAIL})),
    )
    .await;
    missing.assert_problem(422);
    assert_eq!(
        missing.field_errors("password"),
        vec!["This field is required."]
    );
}

#[actix_web::test]
async fn sign_out_ends_the_session_on_the_server_at_once() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let answer = send(
        &app,
        session.apply(TestRequest::post().uri("/api/v1/auth/logout")),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let cleared: Vec<&str> = answer
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("crm_session=;") && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    // The old cookie, replayed, no longer works.
    let me = send(
        &app,
        session.apply(TestRequest::get().uri("/api/v1/auth/me")),
    )
    .await;
    me.assert_problem(401);
}

#[actix_web::test]
async fn unsafe_cookie_requests_need_the_matching_csrf_header() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let create = || {
        TestRequest::post()
            .uri("/api/v1/customers")
            .set_json(json!({"name": "Grace Hopper"}))
    };

    send(&app, session.cookie_only(create()))
        .await
        .assert_problem(403);
    let wrong = session
        .cookie_only(create())
        .insert_header(("X-CSRF-Token", "guess"));
    send(&app, wrong).await.assert_problem(403);
    // A CSRF token of another session does not do either.
    let other = session_of(&send(&app, login(ADMIN_EMAIL, ADMIN_PASSWORD)).await);
    let mixed = session
        .cookie_only(create())
        .insert_header(("X-CSRF-Token", other.csrf.clone()));
    send(&app, mixed).await.assert_problem(403);
    let mut conn = db.connection();
    assert_eq!(
        crm_db::schema::customers::table
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap(),
        0
    );

    // Safe requests need no header; the right header works.
    let list = send(
        &app,
        session.cookie_only(TestRequest::get().uri("/api/v1/customers")),
    )
    .await;
    assert_eq!(list.status, StatusCode::OK);
    let ok = send(&app, session.apply(create())).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
}

#[actix_web::test]
async fn api_tokens_are_shown_once_work_without_csrf_and_stop_when_revoked() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let secret = create_token(&app, &session, "import script").await;
    assert!(secret.starts_with("crm_"));

    let listed = send(
        &app,
        session.apply(TestRequest::get().uri("/api/v1/tokens")),
    )
    .await;
    let items = listed.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "import script");
    assert_eq!(items[0]["prefix"], &secret[..12]);
    assert!(!listed.text.contains(&secret), "the secret is never listed");

    // The secret is stored hashed.
    let mut conn = db.connection();
    let stored: Vec<u8> = crm_db::schema::api_tokens::table
        .select(crm_db::schema::api_tokens::token_hash)
        .first(&mut conn)
        .unwrap();
    assert_ne!(stored, secret.as_bytes());

    // Bearer requests need no CSRF token, even when unsafe.
    let created = send(
        &app,
        bearer(TestRequest::post().uri("/api/v1/customers"), &secret)
            .set_json(json!({"name": "Grace Hopper"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let me = send(
        &app,
        bearer(TestRequest::get().uri("/api/v1/auth/me"), &secret),
    )
    .await;
    assert_eq!(me.json["email"], ADMIN_EMAIL);
    let listed = send(
        &app,
        session.apply(TestRequest::get().uri("/api/v1/tokens")),
    )
    .await;
    assert!(listed.json["items"][0]["last_used_at"].is_string());

    let id = items[0]["id"].as_i64().unwrap();
    let revoked = send(
        &app,
        session.apply(TestRequest::delete().uri(&format!("/api/v1/tokens/{id}"))),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    send(
        &app,
        bearer(TestRequest::get().uri("/api/v1/auth/me"), &secret),
    )
    .await
    .assert_problem(401);
    send(
        &app,
        session.apply(TestRequest::delete().uri(&format!("/api/v1/tokens/{id}"))),
    )
    .await
    .assert_problem(404);
    let listed = send(
        &app,
        session.apply(TestRequest::get().uri("/api/v1/tokens")),
    )
    .await;
    assert_eq!(listed.json["items"], json!([]));
}

#[actix_web::test]
async fn token_names_are_checked() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    for (body, message) in [
        (json!({"name": ""}), "This field is required."),
        (
            json!({"name": "x".repeat(101)}),
            "Must be at most 100 characters.",
        ),
    ] {
        let answer = send(
            &app,
            session.apply(TestRequest::post().uri("/api/v1/tokens").set_json(body)),
        )
        .await;
        answer.assert_problem(422);
        assert_eq!(answer.field_errors("name"), vec![message]);
    }
}

#[actix_web::test]
async fn garbage_credentials_are_refused_with_401() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    for header in ["Bearer", "Bearer crm_nope", "Basic YWRhOnB3", "bearer  "] {
        let request = TestRequest::get()
            .uri("/api/v1/auth/me")
            .insert_header(("Authorization", header));
        let answer = send(&app, request).await;
        answer.assert_problem(401);
        assert!(answer.header("www-authenticate").is_some());
    }
    let forged = TestRequest::get()
        .uri("/api/v1/auth/me")
        .cookie(actix_web::cookie::Cookie::new("crm_session", "forged"));
    send(&app, forged).await.assert_problem(401);
}

/// Every operation of the spec but setup, sign-in and the probes answers 401 without credentials.
#[actix_web::test]
async fn every_endpoint_but_setup_login_and_health_needs_credentials() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let spec: serde_json::Value = serde_json::from_str(&crm_api::openapi::to_json()).unwrap();
    let public = ["/healthz", "/readyz", "/api/v1/setup", "/api/v1/auth/login"];
    // Twilio signs its callbacks instead: without a valid signature, 403.
    let signed = ["/api/v1/webhooks/twilio"];
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if public.contains(&path.as_str()) {
                continue;
            }
            let uri = path.replace("{id}", "1");
            let request = TestRequest::default()
                .method(method.to_uppercase().parse().unwrap())
                .uri(&uri)
                .set_json(json!({}));
            let answer = send(&app, request).await;
            let expected = if signed.contains(&path.as_str()) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNAUTHORIZED
            };
            assert_eq!(answer.status, expected, "{method} {path}: {}", answer.text);
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} operations checked");
}

#[actix_web::test]
async fn an_expired_session_no_longer_works() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let mut conn = db.connection();
    diesel::update(crm_db::schema::sessions::table)
        .set(
            crm_db::schema::sessions::expires_at
                .eq(chrono::Utc::now() - chrono::TimeDelta::seconds(1)),
        )
        .execute(&mut conn)
        .unwrap();
    send(
        &app,
        session.apply(TestRequest::get().uri("/api/v1/auth/me")),
    )
    .await
    .assert_problem(401);
}

#[actix_web::test]
async fn a_nul_character_in_the_sign_in_email_is_a_field_error() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    let answer = send(&app, login("ada@example.com\u{0}", ADMIN_PASSWORD)).await;
    answer.assert_problem(422);
    assert_eq!(
        answer.field_errors("email"),
        vec!["Must not contain a NUL character (\\u0000)."]
    );
}
