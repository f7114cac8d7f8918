//! Authorization, proven over every operation of the OpenAPI document: the table of operations
//! comes from `crm_api::openapi::document()`, so an operation added later is covered without
//! editing this test.
//!
//! Each request carries input that would fail if it were read — an id that does not exist and
//! an empty JSON object or a page size of 0 — so an answer of 401/403 shows that sign-in, CSRF
//! and role were checked before validation (422) and before any lookup (404).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use actix_web::http::{Method, StatusCode};
use actix_web::test::{TestRequest, init_service};
use serde_json::json;
use support::*;

/// An id that names nothing.
const MISSING_ID: &str = "999999";

/// One operation of the document, as the table tests it.
#[derive(Debug)]
struct Operation {
    method: Method,
    /// The path template, e.g. `/api/v1/customers/{id}`.
    template: String,
    public: bool,
    /// `x-required-role`: `admin` or `admin-or-self`.
    role: Option<String>,
}

impl Operation {
    fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// Whether a cookie request needs the CSRF header.
    fn is_unsafe(&self) -> bool {
        !matches!(self.method, Method::GET | Method::HEAD | Method::OPTIONS)
    }

    /// A request whose input is wrong in every way the operation could notice after sign-in:
    /// ids that do not exist (`id` for each path parameter), an empty JSON object as the body,
    /// a page size of 0.
    fn request(&self, id: &str) -> TestRequest {
        let mut path = String::new();
        let mut rest = self.template.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            path.push_str(&rest[..open]);
            path.push_str(id);
            rest = &rest[close..];
        }
        path.push_str(rest);
        let request = TestRequest::default().method(self.method.clone());
        if self.is_unsafe() {
            request.uri(&path).set_json(json!({}))
        } else {
            request.uri(&format!("{path}?limit=0"))
        }
    }
}

/// Every operation of the OpenAPI document.
fn operations() -> Vec<Operation> {
    let document = crm_api::openapi::document();
    let mut operations = Vec::new();
    for (template, item) in &document.paths.paths {
        for (method, operation) in crm_api::openapi::operations(item) {
            let role = operation
                .extensions
                .as_ref()
                .and_then(|extensions| extensions.get("x-required-role"))
                .and_then(|role| role.as_str())
                .map(str::to_owned);
            operations.push(Operation {
                method: method.parse().unwrap(),
                template: template.clone(),
                public: crm_api::openapi::is_public(operation),
                role,
            });
        }
    }
    operations
}

/// What the table found: the answers that were not as expected, and how many were checked.
#[derive(Debug, Default)]
struct Findings {
    wrong: Vec<String>,
    checked: usize,
}

impl Findings {
    fn expect(&mut self, what: &str, operation: &Operation, got: StatusCode, want: u16) {
        self.checked += 1;
        if got.as_u16() != want {
            self.wrong
                .push(format!("{}: {what}: {got}, not {want}", operation.name()));
        }
    }
}

#[test]
fn the_document_lists_the_public_operations_and_marks_the_admin_ones() {
    let operations = operations();
    assert!(
        operations.len() > 40,
        "only {} operations",
        operations.len()
    );
    let mut public: Vec<String> = operations
        .iter()
        .filter(|o| o.public)
        .map(Operation::name)
        .collect();
    public.sort();
    assert_eq!(
        public,
        [
            "GET /api/v1/setup",
            "GET /healthz",
            "GET /readyz",
            "POST /api/v1/auth/login",
            "POST /api/v1/setup",
            "POST /api/v1/webhooks/twilio",
        ]
    );
    let mut admin: Vec<String> = operations
        .iter()
        .filter_map(|o| o.role.as_ref().map(|role| format!("{} {role}", o.name())))
        .collect();
    admin.sort();
    assert_eq!(
        admin,
        [
            "GET /api/v1/metrics admin",
            "GET /api/v1/users admin",
            "GET /api/v1/users/{id}/activity admin-or-self",
            "PATCH /api/v1/users/{id} admin",
            "POST /api/v1/users admin",
        ]
    );
}

#[actix_web::test]
async fn every_operation_checks_credentials_csrf_and_role_before_reading_its_input() {
    let (_db, state) = fresh(&[]);
    let app = init_service(crm_api::app(state)).await;
    let admin = setup_admin(&app).await;
    let admin_token = create_token(&app, &admin, "table").await;
    let me = send(
        &app,
        bearer(TestRequest::get().uri("/api/v1/auth/me"), &admin_token),
    )
    .await;
    let admin_id = me.json["id"].to_string();
    let created = send(
        &app,
        bearer(TestRequest::post().uri("/api/v1/users"), &admin_token).set_json(json!({
            "name": "Grace Hopper", "email": "grace@example.com",
            "password": "a long passphrase", "role": "staff"
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let staff = session_of(&send(&app, login("grace@example.com", "a long passphrase")).await);
    let staff_token = create_token_as(&app, &staff, "staff table", "a long passphrase").await;

    let operations = operations();
    let mut found = Findings::default();
    for operation in &operations {
        let request = || operation.request(MISSING_ID);
        if operation.public {
            let status = status_of(&app, request()).await;
            if status == StatusCode::UNAUTHORIZED {
                found
                    .wrong
                    .push(format!("{}: public but answers 401", operation.name()));
            }
            continue;
        }
        let anonymous = send(&app, request()).await;
        found.expect("no credentials", operation, anonymous.status, 401);
        if anonymous.status == StatusCode::UNAUTHORIZED {
            anonymous.assert_problem(401);
            assert!(anonymous.header("www-authenticate").is_some());
        }
        let forged = bearer(request(), "crm_not-a-real-token");
        found.expect(
            "invalid bearer token",
            operation,
            status_of(&app, forged).await,
            401,
        );
        let malformed = request().insert_header(("Authorization", "Basic YWRhOmFkYQ=="));
        found.expect(
            "not a bearer token",
            operation,
            status_of(&app, malformed).await,
            401,
        );
        if operation.is_unsafe() {
            let no_csrf = admin.cookie_only(request());
            found.expect(
                "cookie without CSRF",
                operation,
                status_of(&app, no_csrf).await,
                403,
            );
            let wrong_csrf = admin
                .cookie_only(request())
                .insert_header(("X-CSRF-Token", "not-the-token"));
            found.expect(
                "cookie, wrong CSRF",
                operation,
                status_of(&app, wrong_csrf).await,
                403,
            );
            let other_csrf = admin
                .cookie_only(request())
                .insert_header(("X-CSRF-Token", staff.csrf.clone()));
            found.expect(
                "another session's CSRF",
                operation,
                status_of(&app, other_csrf).await,
                403,
            );
        }
        match operation.role.as_deref() {
            Some("admin") => {
                let as_staff = bearer(request(), &staff_token);
                found.expect(
                    "staff on admin",
                    operation,
                    status_of(&app, as_staff).await,
                    403,
                );
                let as_staff = staff.apply(request());
                found.expect(
                    "staff session",
                    operation,
                    status_of(&app, as_staff).await,
                    403,
                );
            }
            Some("admin-or-self") => {
                let as_staff = bearer(operation.request(&admin_id), &staff_token);
                found.expect(
                    "staff on another's",
                    operation,
                    status_of(&app, as_staff).await,
                    403,
                );
            }
            Some(other) => found
                .wrong
                .push(format!("{}: unknown role {other}", operation.name())),
            None => {}
        }
        // The control: the admin's credentials pass the same checks (her session only on
        // safe methods: sign-out would end it).
        let mut controls = vec![("admin token", bearer(request(), &admin_token))];
        if !operation.is_unsafe() {
            controls.push(("admin session", admin.apply(request())));
        }
        for (how, signed_in) in controls {
            let status = status_of(&app, signed_in).await;
            if matches!(status.as_u16(), 401 | 403) {
                found
                    .wrong
                    .push(format!("{}: {how}: {status}", operation.name()));
            }
        }
    }
    assert!(found.wrong.is_empty(), "{}", found.wrong.join("\n"));
    assert!(found.checked > 40 * 3, "only {} checks", found.checked);
}
