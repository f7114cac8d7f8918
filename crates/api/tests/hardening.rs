//! Smaller hardening, end to end: common passwords, `__Host-` cookies and HSTS over https,
//! invisible characters in receipt names, JSON only as JSON, and the setup token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use serde_json::json;
use support::*;

const TOO_COMMON: &str = "This password is too common; choose one that is harder to guess.";

#[actix_web::test]
async fn common_passwords_are_refused_wherever_a_password_is_set() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;

    let setup = send(
        &app,
        TestRequest::post().uri("/api/v1/setup").set_json(
            json!({"name": "Ada Lovelace", "email": ADMIN_EMAIL, "password": "Basketball"}),
        ),
    )
    .await;
    setup.assert_problem(422);
    assert_eq!(setup.field_errors("password"), vec![TOO_COMMON]);

    let admin = setup_admin(&app).await;
    let create = |password: &str| {
        admin.apply(TestRequest::post().uri("/api/v1/users").set_json(json!({
            "name": "Grace Hopper", "email": "grace@example.com", "password": password, "role": "staff"
        })))
    };
    let refused = send(&app, create("QWERTYUIOP")).await;
    refused.assert_problem(422);
    assert_eq!(refused.field_errors("password"), vec![TOO_COMMON]);
    let created = send(&app, create("a long passphrase")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    let reset = send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri(&format!("/api/v1/users/{}", created.json["id"]))
                .set_json(json!({"password": "1234567890"})),
        ),
    )
    .await;
    reset.assert_problem(422);
    assert_eq!(reset.field_errors("password"), vec![TOO_COMMON]);

    let own =
        send(
            &app,
            admin.apply(TestRequest::post().uri("/api/v1/auth/password").set_json(
                json!({"current_password": ADMIN_PASSWORD, "new_password": "Unbelievable"}),
            )),
        )
        .await;
    own.assert_problem(422);
    assert_eq!(own.field_errors("new_password"), vec![TOO_COMMON]);
}

/// The `Set-Cookie` headers of an answer.
fn set_cookies(answer: &Answer) -> Vec<String> {
    answer
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

#[actix_web::test]
async fn over_https_cookies_are_host_prefixed_and_responses_carry_hsts() {
    let (_db, state) = fresh(&[("PUBLIC_URL", "https://crm.example.com")]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    assert_eq!(session.cookie_name, "__Host-crm_session");

    let answer = send(&app, login(ADMIN_EMAIL, ADMIN_PASSWORD)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let cookies = set_cookies(&answer);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    for prefix in ["__Host-crm_session=", "__Host-crm_csrf="] {
        let cookie = cookies.iter().find(|c| c.starts_with(prefix)).unwrap();
        assert!(cookie.contains("Secure"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.contains("Domain"), "{cookie}");
    }
    assert_eq!(
        answer.header("strict-transport-security"),
        Some("max-age=31536000")
    );
    let health = send(&app, TestRequest::get().uri("/healthz")).await;
    assert_eq!(
        health.header("strict-transport-security"),
        Some("max-age=31536000")
    );

    // The prefixed cookie is the session; an unprefixed one (which a neighbouring subdomain
    // could plant) is not.
    let signed_in = session_of(&answer);
    let me = send(
        &app,
        signed_in.apply(TestRequest::get().uri("/api/v1/auth/me")),
    )
    .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    let planted = TestRequest::get()
        .uri("/api/v1/auth/me")
        .cookie(actix_web::cookie::Cookie::new(
            "crm_session",
            signed_in.cookie,
        ));
    send(&app, planted).await.assert_problem(401);

    let logout = send(
        &app,
        session.apply(TestRequest::post().uri("/api/v1/auth/logout")),
    )
    .await;
    assert!(
        set_cookies(&logout)
            .iter()
            .any(|c| c.starts_with("__Host-crm_session=;") && c.contains("Max-Age=0")),
        "{:?}",
        logout.headers
    );
}

#[actix_web::test]
async fn over_plain_http_cookies_keep_their_names_and_there_is_no_hsts() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    let answer = send(&app, login(ADMIN_EMAIL, ADMIN_PASSWORD)).await;
    let cookies = set_cookies(&answer);
    assert!(
        cookies.iter().any(|c| c.starts_with("crm_session=")),
        "{cookies:?}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with("crm_csrf=")),
        "{cookies:?}"
    );
    assert!(answer.header("strict-transport-security").is_none());
}

const BOUNDARY: &str = "----crm-hardening-boundary-g7Sd2";

#[actix_web::test]
async fn receipt_names_lose_bidi_controls_and_invisible_characters() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let customer = send(
        &app,
        admin.apply(
            TestRequest::post()
                .uri("/api/v1/customers")
                .set_json(json!({"name": "Grace Hopper"})),
        ),
    )
    .await;
    let customer = customer.json["id"].as_i64().unwrap();

    // Shown raw, "invoice\u{202E}fdp.exe" reads "invoiceexe.pdf".
    let name = "\u{FEFF}invoice\u{200B}\u{202E}fdp.exe\u{2066}\u{2069}";
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n12.50\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"receipt\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&fixture("baseline.jpg"));
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let upload = admin.apply(
        TestRequest::post()
            .uri(&format!("/api/v1/customers/{customer}/invoices"))
            .insert_header((
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(body),
    );
    let created = send(&app, upload).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["receipt"]["original_name"], "invoicefdp.exe");
}

#[actix_web::test]
async fn a_json_body_without_the_json_content_type_is_refused_with_415() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let body = json!({"name": "Grace Hopper"}).to_string();
    let post = || TestRequest::post().uri("/api/v1/customers");

    let missing = send(&app, admin.apply(post().set_payload(body.clone()))).await;
    missing.assert_problem(415);
    let text = send(
        &app,
        admin.apply(
            post()
                .insert_header(("Content-Type", "text/plain"))
                .set_payload(body.clone()),
        ),
    )
    .await;
    text.assert_problem(415);
    let form = send(
        &app,
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload("email=ada%40example.com&password=x"),
    )
    .await;
    form.assert_problem(415);

    let json = send(
        &app,
        admin.apply(
            post()
                .insert_header(("Content-Type", "application/json; charset=utf-8"))
                .set_payload(body),
        ),
    )
    .await;
    assert_eq!(json.status, StatusCode::CREATED, "{}", json.text);
}

#[actix_web::test]
async fn with_a_setup_token_only_who_knows_it_creates_the_first_admin() {
    let (_db, state) = fresh(&[("SETUP_TOKEN", "s3cret-setup-token")]);
    let app = init_service(crm_api::app(state)).await;
    let status = send(&app, TestRequest::get().uri("/api/v1/setup")).await;
    assert_eq!(status.json, json!({"needed": true, "token_required": true}));

    let admin = json!({"name": "Ada Lovelace", "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let setup = || TestRequest::post().uri("/api/v1/setup");
    let missing = send(&app, setup().set_json(&admin)).await;
    missing.assert_problem(403);
    let wrong = send(
        &app,
        setup()
            .insert_header(("X-Setup-Token", "guess"))
            .set_json(&admin),
    )
    .await;
    wrong.assert_problem(403);
    assert!(!wrong.text.contains("s3cret"), "{}", wrong.text);
    let mut wrong_body = admin.clone();
    wrong_body["setup_token"] = json!("s3cret-setup-toke");
    send(&app, setup().set_json(&wrong_body))
        .await
        .assert_problem(403);

    let mut right_body = admin.clone();
    right_body["setup_token"] = json!("s3cret-setup-token");
    let created = send(&app, setup().set_json(&right_body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
}

#[actix_web::test]
async fn the_setup_token_may_come_in_the_header() {
    let (_db, state) = fresh(&[("SETUP_TOKEN", "s3cret-setup-token")]);
    let app = init_service(crm_api::app(state)).await;
    let created = send(
        &app,
        TestRequest::post()
            .uri("/api/v1/setup")
            .insert_header(("X-Setup-Token", "s3cret-setup-token"))
            .set_json(
                json!({"name": "Ada Lovelace", "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
            ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
}
