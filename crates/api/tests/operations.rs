//! Probes, headers, the OpenAPI document and behaviour when dependencies are down.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use crm_api::error::ApiError;
use crm_api::state::AppState;
use support::*;

#[actix_web::test]
async fn health_answers_without_dependencies_and_ready_checks_them() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let health = send(&app, TestRequest::get().uri("/healthz")).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json["status"], "ok");
    let ready = send(&app, TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(
        ready.json,
        serde_json::json!({"status": "ok", "postgres": "ok", "redis": "ok", "receipts": "ok"})
    );
}

#[actix_web::test]
async fn readiness_fails_when_redis_is_unreachable() {
    let (_db, state) = fresh(&[("REDIS_URL", "redis://127.0.0.1:1")]);
    let app = init_service(crm_api::app(state)).await;
    let ready = send(&app, TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json["redis"], "unavailable");
    assert_eq!(ready.json["postgres"], "ok");
}

#[actix_web::test]
async fn a_database_that_is_down_gives_503_quickly_not_a_hang() {
    let config = config_for(
        "postgres://postgres@127.0.0.1:1/nowhere",
        &[("DATABASE_TIMEOUT_SECS", "1")],
    );
    let app = init_service(crm_api::app(AppState::new(config).unwrap())).await;
    let started = Instant::now();
    let answer = send(
        &app,
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
    )
    .await;
    answer.assert_unavailable();
    assert!(started.elapsed() < Duration::from_secs(10));
    let ready = send(&app, TestRequest::get().uri("/readyz")).await;
    assert_eq!(ready.json["postgres"], "unavailable");
    let health = send(&app, TestRequest::get().uri("/healthz")).await;
    assert_eq!(health.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_receipt_whose_invoice_could_not_be_saved_for_want_of_postgresql_is_left_at_once() {
    let config = config_for(
        "postgres://postgres@127.0.0.1:1/nowhere",
        &[("DATABASE_TIMEOUT_SECS", "3")],
    );
    let state = AppState::new(config).unwrap();
    let key = crm_api::storage::ReceiptStore::new_key();
    state
        .receipts
        .put(&key, b"%PDF-1.4 stored".to_vec())
        .await
        .unwrap();
    let started = Instant::now();
    let saved: Result<(), ApiError> = Err(ApiError::Unavailable("PostgreSQL is down".into()));
    let outcome = crm_api::receipt_files::saved_or_removed(&state, &key, saved).await;
    assert!(matches!(outcome, Err(ApiError::Unavailable(_))));
    // Removing it needs PostgreSQL too: waiting for it again would double the caller's wait.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered after {:?}",
        started.elapsed()
    );
    assert!(state.receipts.get(&key).await.is_ok(), "left to the sweep");
}

#[actix_web::test]
async fn responses_carry_security_headers() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    for uri in ["/healthz", "/api/v1/auth/me", "/api/v1/setup"] {
        let answer = send(&app, TestRequest::get().uri(uri)).await;
        assert_eq!(
            answer.header("x-content-type-options"),
            Some("nosniff"),
            "{uri}"
        );
        assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{uri}");
        let csp = answer.header("content-security-policy").unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
}

#[actix_web::test]
async fn the_committed_openapi_document_matches_the_code() {
    let committed = std::fs::read_to_string(manifest_dir().join("../../openapi/openapi.json"))
        .expect("openapi/openapi.json exists; run `make openapi`");
    assert!(
        committed == crm_api::openapi::to_json(),
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    );
}

#[actix_web::test]
async fn the_spec_is_served_and_every_reference_in_it_resolves() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    send(&app, TestRequest::get().uri("/api/v1/openapi.json"))
        .await
        .assert_problem(401);
    let session = setup_admin(&app).await;
    let spec = send(
        &app,
        session.apply(TestRequest::get().uri("/api/v1/openapi.json")),
    )
    .await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.json["info"]["title"], "Customer Manager API");
    let mut references = Vec::new();
    collect_refs(&spec.json, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference.trim_start_matches('#');
        assert!(
            spec.json.pointer(pointer).is_some(),
            "dangling reference {reference}"
        );
    }
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v.as_str()) {
                    ("$ref", Some(r)) => out.push(r.to_owned()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[actix_web::test]
async fn swagger_ui_is_served_from_the_binary() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let redirect = send(&app, TestRequest::get().uri("/api/docs")).await;
    assert_eq!(redirect.header("location"), Some("/api/docs/"));
    let page = send(&app, TestRequest::get().uri("/api/docs/")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    let script = send(
        &app,
        TestRequest::get().uri("/api/docs/swagger-ui-bundle.js"),
    )
    .await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.text.len() > 100_000);
    let initializer = send(
        &app,
        TestRequest::get().uri("/api/docs/swagger-initializer.js"),
    )
    .await;
    assert!(
        initializer.text.contains("/api/v1/openapi.json"),
        "{}",
        initializer.text
    );
}

#[actix_web::test]
async fn the_web_app_is_served_at_the_root_with_its_routes_falling_back_to_index_html() {
    let web_dir = std::env::temp_dir().join(format!("crm-web-{}", std::process::id()));
    std::fs::create_dir_all(web_dir.join("assets")).unwrap();
    std::fs::write(
        web_dir.join("index.html"),
        "<!doctype html><title>Customer Manager</title>",
    )
    .unwrap();
    std::fs::write(web_dir.join("assets/app.css"), "body{}").unwrap();
    let (_db, state) = fresh(&[("WEB_DIR", web_dir.to_str().unwrap())]);
    let app = init_service(crm_api::app(state)).await;

    for path in ["/", "/customers/42", "/settings"] {
        let page = send(&app, TestRequest::get().uri(path)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.text.contains("<title>Customer Manager</title>"),
            "{path}"
        );
        assert!(page.header("content-security-policy").is_some());
    }
    let css = send(&app, TestRequest::get().uri("/assets/app.css")).await;
    assert_eq!(css.text, "body{}");
    assert_eq!(css.header("cache-control"), Some("no-cache"));
    // API addresses and missing files stay 404 problems, never the app's page.
    send(&app, TestRequest::get().uri("/api/nothing"))
        .await
        .assert_problem(404);
    send(&app, TestRequest::get().uri("/api/v1/nothing"))
        .await
        .assert_problem(404);
    send(&app, TestRequest::get().uri("/assets/missing.js"))
        .await
        .assert_problem(404);
    std::fs::remove_dir_all(web_dir).ok();
}

#[actix_web::test]
async fn without_a_built_web_app_the_root_says_how_to_build_it() {
    let (_db, state) = fresh(&[("WEB_DIR", "/nonexistent/web")]);
    let app = init_service(crm_api::app(state)).await;
    let page = send(&app, TestRequest::get().uri("/")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("make run"), "{}", page.text);
}

#[actix_web::test]
async fn a_method_an_address_does_not_take_is_405_with_the_methods_it_does() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    for (method, uri, allow) in [
        ("TRACE", "/api/v1/customers", "GET, POST"),
        ("PUT", "/api/v1/customers/7", "GET, PATCH"),
        ("DELETE", "/healthz", "GET"),
    ] {
        let request = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(uri);
        let answer = send(&app, request).await;
        answer.assert_problem(405);
        assert_eq!(answer.header("allow"), Some(allow), "{method} {uri}");
    }
    let nowhere = send(&app, TestRequest::get().uri("/api/v1/nowhere")).await;
    nowhere.assert_problem(404);
}
