//! `Idempotency-Key` on POST: retries get the first answer, once per credential and request, and
//! only after the credential is checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use diesel::prelude::*;
use serde_json::json;
use support::*;

const KEY: &str = "4f9c2a4e-8d1e-4c6b-9c55-0d9a1c2b3e4f";

fn customer_count(db: &crm_db::test_support::TestDatabase) -> i64 {
    crm_db::schema::customers::table
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

fn add_customer(token: &str, key: Option<&str>, body: serde_json::Value) -> TestRequest {
    let request = bearer(TestRequest::post().uri("/api/v1/customers"), token).set_json(body);
    match key {
        Some(key) => request.insert_header(("Idempotency-Key", key)),
        None => request,
    }
}

#[actix_web::test]
async fn a_retry_with_the_same_key_gets_the_first_answer_and_adds_nothing() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "script").await;
    let body = json!({"name": "Grace Hopper", "email": "grace@example.com"});

    let first = send(&app, add_customer(&token, Some(KEY), body.clone())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = send(&app, add_customer(&token, Some(KEY), body.clone())).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json, first.json, "the same customer, not a new one");
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("content-type"), Some("application/json"));
    assert_eq!(customer_count(&db), 1);

    // Without a key, or with a new one, a POST is a new request.
    send(&app, add_customer(&token, None, body.clone())).await;
    send(
        &app,
        add_customer(&token, Some("another-key"), body.clone()),
    )
    .await;
    assert_eq!(customer_count(&db), 3);

    // The key belongs to the credential: another token's request with it is its own.
    let other = create_token(&app, &session, "other script").await;
    let theirs = send(&app, add_customer(&other, Some(KEY), body)).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.json["id"], first.json["id"]);
    assert_eq!(customer_count(&db), 4);
}

#[actix_web::test]
async fn a_key_reused_for_another_request_or_malformed_is_a_field_error() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "script").await;
    send(
        &app,
        add_customer(&token, Some(KEY), json!({"name": "Grace"})),
    )
    .await;

    let reused = send(
        &app,
        add_customer(&token, Some(KEY), json!({"name": "Ada"})),
    )
    .await;
    reused.assert_problem(422);
    assert_eq!(
        reused.field_errors("Idempotency-Key"),
        vec!["This key was used for a different request: use a new key for a new request."]
    );
    for bad in ["with space", &"k".repeat(256)] {
        let answer = send(
            &app,
            add_customer(&token, Some(bad), json!({"name": "Ada"})),
        )
        .await;
        answer.assert_problem(422);
        assert_eq!(answer.field_errors("Idempotency-Key").len(), 1, "{bad:?}");
    }
    assert_eq!(customer_count(&db), 1);
}

#[actix_web::test]
async fn refusals_are_replayed_and_a_request_still_running_gets_409() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "script").await;

    let invalid = json!({"name": "", "phone": "12"});
    let first = send(&app, add_customer(&token, Some(KEY), invalid.clone())).await;
    first.assert_problem(422);
    let retry = send(&app, add_customer(&token, Some(KEY), invalid)).await;
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.json, first.json);
    assert_eq!(
        retry.header("content-type"),
        Some("application/problem+json")
    );

    // Another process holds the key for the same request and has not answered yet.
    let body = json!({"name": "Grace"});
    let (token_id, user_id): (i64, i64) = crm_db::schema::api_tokens::table
        .select((
            crm_db::schema::api_tokens::id,
            crm_db::schema::api_tokens::user_id,
        ))
        .first(&mut db.connection())
        .unwrap();
    let owner = crm_db::idempotency::Owner {
        user: crm_domain::UserId::new(user_id),
        credential: crm_db::idempotency::Credential::Token(crm_domain::ApiTokenId::new(token_id)),
    };
    let fingerprint = crm_api::idempotency::fingerprint(
        "POST",
        "/api/v1/customers",
        b"application/json",
        &serde_json::to_vec(&body).unwrap(),
    );
    let claimed =
        crm_db::idempotency::claim(&mut db.connection(), &owner, "running", &fingerprint).unwrap();
    assert_eq!(claimed, crm_db::idempotency::Claim::Claimed);
    let busy = send(&app, add_customer(&token, Some("running"), body)).await;
    busy.assert_problem(409);
    assert_eq!(customer_count(&db), 0);
}

#[actix_web::test]
async fn a_cookie_request_without_its_csrf_token_never_gets_a_stored_answer() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let request = || {
        TestRequest::post()
            .uri("/api/v1/customers")
            .insert_header(("Idempotency-Key", KEY))
            .set_json(json!({"name": "Grace"}))
    };
    let first = send(&app, session.apply(request())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let forged = send(&app, session.cookie_only(request())).await;
    forged.assert_problem(403);
    let retry = send(&app, session.apply(request())).await;
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(customer_count(&db), 1);
}

#[actix_web::test]
async fn an_upload_retried_with_its_key_stores_one_invoice_and_one_receipt() {
    let receipts = scratch_dir("receipts");
    let (db, state) = fresh(&[("RECEIPTS_DIR", receipts.to_str().unwrap())]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let token = create_token(&app, &session, "script").await;
    let customer = send(&app, add_customer(&token, None, json!({"name": "Grace"}))).await;
    let boundary = "----crm-idempotency";
    let png = fixture("rgb.png");
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"amount\"\r\n\r\n12.50\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"receipt\"; filename=\"r.png\"\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let upload = || {
        bearer(
            TestRequest::post().uri(&format!(
                "/api/v1/customers/{}/invoices",
                customer.json["id"]
            )),
            &token,
        )
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .insert_header(("Idempotency-Key", KEY))
        .set_payload(body.clone())
    };
    let first = send(&app, upload()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let retry = send(&app, upload()).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.json["id"], first.json["id"]);
    let invoices: i64 = crm_db::schema::invoices::table
        .count()
        .get_result(&mut db.connection())
        .unwrap();
    assert_eq!(invoices, 1);
    let files = std::fs::read_dir(receipts.join("receipts"))
        .unwrap()
        .count();
    assert_eq!(files, 1, "one receipt stored");
}

fn stored_keys(db: &crm_db::test_support::TestDatabase) -> i64 {
    crm_db::schema::idempotency_keys::table
        .count()
        .get_result(&mut db.connection())
        .unwrap()
}

fn new_token(key: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/tokens")
        .insert_header(("Idempotency-Key", key))
        .set_json(json!({"name": "script", "current_password": ADMIN_PASSWORD}))
}

#[actix_web::test]
async fn a_captured_token_request_sent_again_after_sign_out_gets_401_and_no_secret() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    let created = send(&app, session.apply(new_token(KEY))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.json["token"].as_str().unwrap().to_owned();
    // A customer added in the same session, with a key: stored until the session ends.
    let customer = TestRequest::post()
        .uri("/api/v1/customers")
        .insert_header(("Idempotency-Key", "customer-key"))
        .set_json(json!({"name": "Grace"}));
    send(&app, session.apply(customer)).await;
    assert_eq!(stored_keys(&db), 1, "the token's answer is not stored");

    let signed_out = send(
        &app,
        session.apply(TestRequest::post().uri("/api/v1/auth/logout")),
    )
    .await;
    assert_eq!(signed_out.status, StatusCode::NO_CONTENT);
    assert_eq!(stored_keys(&db), 0, "the session's keys end with it");

    let replayed = send(&app, session.apply(new_token(KEY))).await;
    replayed.assert_problem(401);
    assert!(!replayed.text.contains(&secret), "{}", replayed.text);
    assert_eq!(replayed.header("idempotent-replayed"), None);
    let tokens: i64 = crm_db::schema::api_tokens::table
        .count()
        .get_result(&mut db.connection())
        .unwrap();
    assert_eq!(tokens, 1);
}

#[actix_web::test]
async fn a_key_used_by_one_user_is_not_replayed_to_another() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let ada = setup_admin(&app).await;
    add_staff(&app, &ada, "grace@example.com", "a long passphrase").await;
    let grace = session_of(&send(&app, login("grace@example.com", "a long passphrase")).await);
    let request = || {
        TestRequest::post()
            .uri("/api/v1/customers")
            .insert_header(("Idempotency-Key", KEY))
            .set_json(json!({"name": "Alan Turing"}))
    };

    let hers = send(&app, ada.apply(request())).await;
    assert_eq!(hers.status, StatusCode::CREATED, "{}", hers.text);
    let theirs = send(&app, grace.apply(request())).await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    assert_eq!(theirs.header("idempotent-replayed"), None);
    assert_ne!(theirs.json["id"], hers.json["id"]);
    assert_eq!(customer_count(&db), 2);
    // Each still gets their own answer back.
    let again = send(&app, grace.apply(request())).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.json["id"], theirs.json["id"]);
}

#[actix_web::test]
async fn answers_of_setup_sign_in_and_tokens_are_never_stored() {
    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let setup = TestRequest::post()
        .uri("/api/v1/setup")
        .insert_header(("Idempotency-Key", KEY))
        .set_json(
            json!({"name": "Ada Lovelace", "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        );
    let session = session_of(&send(&app, setup).await);
    let signed_in = login(ADMIN_EMAIL, ADMIN_PASSWORD).insert_header(("Idempotency-Key", KEY));
    assert_eq!(send(&app, signed_in).await.status, StatusCode::OK);

    let first = send(&app, session.apply(new_token(KEY))).await;
    let second = send(&app, session.apply(new_token(KEY))).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_eq!(second.header("idempotent-replayed"), None);
    assert_ne!(
        first.json["token"], second.json["token"],
        "a new token each time"
    );
    // The same path, spelt with an escape the router decodes.
    let escaped = new_token("escaped").uri("/api/v1/%74okens");
    let third = send(&app, session.apply(escaped)).await;
    assert_eq!(third.status, StatusCode::CREATED, "{}", third.text);

    let password = TestRequest::post()
        .uri("/api/v1/auth/password")
        .insert_header(("Idempotency-Key", KEY))
        .set_json(json!({"current_password": ADMIN_PASSWORD, "new_password": "a new long passphrase", "revoke_tokens": false}));
    let changed = send(&app, session.apply(password)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(stored_keys(&db), 0);
}

/// A multipart upload of `size` bytes to a customer's invoices.
fn upload_of(size: usize) -> (String, Vec<u8>) {
    let boundary = "----crm-unauthenticated";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"receipt\"; filename=\"r.pdf\"\r\n\r\n"
    )
    .into_bytes();
    body.resize(size, b'x');
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[actix_web::test]
async fn an_unauthenticated_post_is_refused_before_its_body_is_read_and_leaves_nothing() {
    use actix_web::web::Bytes;
    use futures_util::StreamExt;

    let (db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let session = setup_admin(&app).await;
    send(
        &app,
        session.apply(TestRequest::post().uri("/api/v1/auth/logout")),
    )
    .await;
    let (content_type, body) = upload_of(5 * 1024 * 1024);
    let request = || {
        session.apply(
            TestRequest::post()
                .uri("/api/v1/customers/1/invoices")
                .insert_header(("Idempotency-Key", KEY))
                .insert_header(("Content-Type", content_type.clone())),
        )
    };

    // 5 MiB with the cookie and CSRF token of an ended session.
    let refused = send(&app, request().set_payload(body.clone())).await;
    refused.assert_problem(401);
    assert_eq!(stored_keys(&db), 0);

    // A body that never ends: the answer comes without waiting for it.
    let chunks: Vec<Result<Bytes, actix_http::error::PayloadError>> = body
        .chunks(64 * 1024)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();
    let endless = futures_util::stream::iter(chunks).chain(futures_util::stream::pending());
    let (stalled, _) = request()
        .to_request()
        .replace_payload(actix_http::Payload::from(
            Box::pin(endless) as actix_http::BoxedPayloadStream
        ));
    let answer = actix_web::rt::time::timeout(
        std::time::Duration::from_secs(10),
        actix_web::test::call_service(&app, stalled),
    )
    .await
    .expect("answered without reading the body");
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(stored_keys(&db), 0);
}
