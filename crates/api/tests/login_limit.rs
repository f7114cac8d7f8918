//! Sign-in limits end to end: attempts are counted before any password is checked, back-off
//! per account and per client that a correct password passes once its delay is over, client
//! addresses behind trusted proxies and in IPv6 /64s, and the current-password check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test::{TestRequest, init_service};
use serde_json::json;
use support::*;

/// `request` as if it came from `ip` (an IPv4 address or a bracketed IPv6 one).
fn from(request: TestRequest, ip: &str) -> TestRequest {
    request.peer_addr(format!("{ip}:40000").parse().unwrap())
}

/// `request` from `peer`, with `X-Forwarded-For: forwarded_for`.
fn forwarded(request: TestRequest, peer: &str, forwarded_for: &str) -> TestRequest {
    from(request, peer).insert_header(("X-Forwarded-For", forwarded_for.to_owned()))
}

/// The `Retry-After` of a 429 answer, in seconds.
fn retry_after(answer: &Answer) -> u64 {
    answer.assert_problem(429);
    answer
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", answer.headers))
}

#[actix_web::test]
async fn forty_parallel_wrong_passwords_for_one_account_get_exactly_five_checks() {
    // A long first delay: every one of the 40 arrives while the account must wait.
    let (_db, state) = fresh(&[
        ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "5"),
        ("LOGIN_BACKOFF_FIRST_SECS", "60"),
    ]);
    let checks = state.password_checks.clone();
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    let before = checks.load(Ordering::SeqCst);

    let guesses = (0..40).map(|n| send(&app, login(ADMIN_EMAIL, &format!("wrong guess {n}"))));
    let answers = futures_util::future::join_all(guesses).await;

    let count = |status: u16| answers.iter().filter(|a| a.status == status).count();
    assert_eq!(
        count(401),
        5,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert_eq!(count(429), 35);
    assert_eq!(
        checks.load(Ordering::SeqCst) - before,
        5,
        "Argon2 ran only for the admitted"
    );
    for refused in answers.iter().filter(|a| a.status == 429) {
        assert!((1..=60).contains(&retry_after(refused)));
    }
}

#[actix_web::test]
async fn after_the_free_attempts_the_right_password_signs_in_once_the_doubling_delay_is_over() {
    let (_db, state) = fresh(&[
        ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "3"),
        ("LOGIN_BACKOFF_FIRST_SECS", "1"),
    ]);
    let checks = state.password_checks.clone();
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    for _ in 0..3 {
        send(&app, login(ADMIN_EMAIL, "wrong password!"))
            .await
            .assert_problem(401);
    }
    // Within the delay even the right password waits, and no password is checked.
    let before = checks.load(Ordering::SeqCst);
    let waiting = send(&app, login(ADMIN_EMAIL, ADMIN_PASSWORD)).await;
    assert_eq!(retry_after(&waiting), 1);
    assert_eq!(checks.load(Ordering::SeqCst), before);

    // One more wrong guess after the delay doubles it.
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    send(&app, login(ADMIN_EMAIL, "wrong password!"))
        .await
        .assert_problem(401);
    let doubled = send(&app, login(ADMIN_EMAIL, ADMIN_PASSWORD)).await;
    assert_eq!(retry_after(&doubled), 2);

    // Once it is over, the owner signs in, and that starts the count afresh.
    actix_web::rt::time::sleep(Duration::from_millis(2100)).await;
    let signed_in = send(&app, login(ADMIN_EMAIL, ADMIN_PASSWORD)).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    for _ in 0..3 {
        send(&app, login(ADMIN_EMAIL, "wrong password!"))
            .await
            .assert_problem(401);
    }
}

#[actix_web::test]
async fn one_clients_guesses_across_accounts_do_not_hold_up_other_clients() {
    let (_db, state) = fresh(&[
        ("LOGIN_MAX_FAILURES_PER_CLIENT", "4"),
        ("LOGIN_BACKOFF_FIRST_SECS", "60"),
    ]);
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    for n in 0..4 {
        let guess = login(&format!("user{n}@example.com"), "wrong password!");
        send(&app, from(guess, "203.0.113.7"))
            .await
            .assert_problem(401);
    }
    let limited = send(
        &app,
        from(login(ADMIN_EMAIL, ADMIN_PASSWORD), "203.0.113.7"),
    )
    .await;
    assert!(retry_after(&limited) > 1);
    let elsewhere = send(
        &app,
        from(login(ADMIN_EMAIL, ADMIN_PASSWORD), "198.51.100.2"),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{}", elsewhere.text);
}

#[actix_web::test]
async fn x_forwarded_for_names_the_client_only_when_a_trusted_proxy_sends_it() {
    let (_db, state) = fresh(&[
        ("TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
        ("LOGIN_MAX_FAILURES_PER_CLIENT", "2"),
        ("LOGIN_BACKOFF_FIRST_SECS", "60"),
    ]);
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    let guess = |n: u32| login(&format!("user{n}@example.com"), "wrong password!");
    let proxy = "10.0.0.5";

    // Two guesses from one client behind the proxy use up that client's free attempts...
    for n in 0..2 {
        let answer = send(&app, forwarded(guess(n), proxy, "198.51.100.1")).await;
        answer.assert_problem(401);
    }
    let blocked = send(&app, forwarded(guess(2), proxy, "198.51.100.1")).await;
    retry_after(&blocked);
    // ...a left-most address it adds itself changes nothing (the proxy appended the real one)...
    let forged = send(&app, forwarded(guess(3), proxy, "192.0.2.1, 198.51.100.1")).await;
    retry_after(&forged);
    // ...another proxy hop on the right is skipped...
    let two_hops = send(&app, forwarded(guess(4), proxy, "198.51.100.1, 10.0.0.9")).await;
    retry_after(&two_hops);
    // ...while the proxy's other clients go on.
    let other = send(&app, forwarded(guess(5), proxy, "198.51.100.2")).await;
    other.assert_problem(401);

    // From an address that is not a trusted proxy the header is ignored: the peer counts.
    for n in 6..8 {
        let direct = send(&app, forwarded(guess(n), "203.0.113.9", "198.51.100.3")).await;
        direct.assert_problem(401);
    }
    let peer_blocked = send(&app, forwarded(guess(8), "203.0.113.9", "198.51.100.4")).await;
    retry_after(&peer_blocked);
    let claims_blocked_client =
        send(&app, forwarded(guess(9), "203.0.113.10", "198.51.100.1")).await;
    claims_blocked_client.assert_problem(401);
}

#[actix_web::test]
async fn ipv6_clients_are_counted_by_their_64_network() {
    let (_db, state) = fresh(&[
        ("LOGIN_MAX_FAILURES_PER_CLIENT", "2"),
        ("LOGIN_BACKOFF_FIRST_SECS", "60"),
    ]);
    let app = init_service(crm_api::app(state)).await;
    setup_admin(&app).await;
    let guess = |n: u32| login(&format!("user{n}@example.com"), "wrong password!");
    send(&app, from(guess(0), "[2001:db8:1:2::1]"))
        .await
        .assert_problem(401);
    send(&app, from(guess(1), "[2001:db8:1:2:ffff:ffff:ffff:fffe]"))
        .await
        .assert_problem(401);
    let same_network = send(&app, from(guess(2), "[2001:db8:1:2:abcd::9]")).await;
    retry_after(&same_network);
    let next_network = send(&app, from(guess(3), "[2001:db8:1:3::1]")).await;
    next_network.assert_problem(401);
}

#[actix_web::test]
async fn wrong_current_passwords_on_a_password_change_are_limited_like_sign_ins() {
    let (_db, state) = fresh(&[
        ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "2"),
        ("LOGIN_BACKOFF_FIRST_SECS", "60"),
    ]);
    let checks = state.password_checks.clone();
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let change = |current: &str| {
        admin.apply(TestRequest::post().uri("/api/v1/auth/password").set_json(
            json!({"current_password": current, "new_password": "a brand new passphrase"}),
        ))
    };
    for _ in 0..2 {
        let wrong = send(&app, change("not my password")).await;
        wrong.assert_problem(422);
        assert_eq!(
            wrong.field_errors("current_password"),
            vec!["This is not your current password."]
        );
    }
    let before = checks.load(Ordering::SeqCst);
    let waiting = send(&app, change(ADMIN_PASSWORD)).await;
    assert!(retry_after(&waiting) > 1);
    assert_eq!(
        checks.load(Ordering::SeqCst),
        before,
        "no Argon2 while waiting"
    );
    // The same account count holds up sign-in too.
    let sign_in = send(&app, login(ADMIN_EMAIL, ADMIN_PASSWORD)).await;
    retry_after(&sign_in);
}

#[actix_web::test]
async fn disabled_accounts_and_unknown_emails_are_answered_like_a_wrong_password() {
    let (_db, state) = fresh(&[]);
    let checks = state.password_checks.clone();
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let created = send(
        &app,
        admin.apply(TestRequest::post().uri("/api/v1/users").set_json(json!({
            "name": "Grace Hopper", "email": "grace@example.com",
            "password": "a long passphrase", "role": "staff"
        }))),
    )
    .await;
    let id = created.json["id"].as_i64().unwrap();
    let disabled = send(
        &app,
        admin.apply(
            TestRequest::patch()
                .uri(&format!("/api/v1/users/{id}"))
                .set_json(json!({"disabled": true})),
        ),
    )
    .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);

    let wrong = send(&app, login(ADMIN_EMAIL, "not the password")).await;
    wrong.assert_problem(401);
    let before = checks.load(Ordering::SeqCst);
    let disabled_answer = send(&app, login("grace@example.com", "a long passphrase")).await;
    let unknown_answer = send(&app, login("nobody@example.com", "a long passphrase")).await;
    for answer in [&disabled_answer, &unknown_answer] {
        answer.assert_problem(401);
        assert_eq!(answer.json, wrong.json);
        assert!(answer.headers.get("set-cookie").is_none());
    }
    // Each ran one Argon2 verification (against the dummy hash), as a wrong password does.
    assert_eq!(checks.load(Ordering::SeqCst) - before, 2);
}
