//! The `crm-api` command line: migrate, create-user, openapi.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::process::Stdio;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use crm_api::state::AppState;
use crm_db::test_support::TestDatabase;
use diesel::prelude::*;
use support::*;

fn create_user(database_url: &str, args: &[&str], password: &str) -> std::process::Output {
    let mut child = crm_api(database_url)
        .arg("create-user")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[actix_web::test]
async fn create_user_makes_an_account_that_can_sign_in() {
    let db = TestDatabase::new();
    let output = create_user(
        db.url(),
        &[
            "--email",
            "grace@example.com",
            "--name",
            "Grace Hopper",
            "--role",
            "staff",
        ],
        "a long enough password",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let app = init_service(crm_api::app(
        AppState::new(config_for(db.url(), &[])).unwrap(),
    ))
    .await;
    let login = TestRequest::post().uri("/api/v1/auth/login").set_json(
        serde_json::json!({"email": "grace@example.com", "password": "a long enough password"}),
    );
    let answer = send(&app, login).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["user"]["role"], "staff");
    // Setup is no longer offered once a user exists.
    let setup = send(&app, TestRequest::get().uri("/api/v1/setup")).await;
    assert_eq!(setup.json["needed"], false);

    let again = create_user(
        db.url(),
        &["--email", "GRACE@example.com", "--name", "G"],
        "another long password",
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}

#[test]
fn create_user_refuses_bad_input_before_touching_the_database() {
    // An unreachable database proves nothing was attempted: the error is about the input.
    let url = "postgres://postgres@127.0.0.1:1/nowhere";
    let short = create_user(url, &["--email", "a@example.com", "--name", "A"], "short");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("Use at least 10 characters"));
    let bad_email = create_user(
        url,
        &["--email", "nope", "--name", "A"],
        "long enough password",
    );
    assert!(String::from_utf8_lossy(&bad_email.stderr).contains("--email"));
}

#[test]
fn migrate_creates_a_missing_database_and_is_repeatable() {
    let admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("crm_test_cli_{}", std::process::id());
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    let drop = || {
        let mut conn = PgConnection::establish(&admin).unwrap();
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .unwrap();
    };
    drop();
    for _ in 0..2 {
        let output = crm_api(url.as_str()).arg("migrate").output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut conn = PgConnection::establish(url.as_str()).unwrap();
    assert!(!crm_db::users::any_exist(&mut conn).unwrap());
    std::mem::drop(conn);
    drop();
}

#[test]
fn openapi_prints_the_committed_spec() {
    let output = crm_api("postgres://unused")
        .args(["openapi", "--output", "-"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(printed, crm_api::openapi::to_json());
}
