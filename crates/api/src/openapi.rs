//! The OpenAPI description, generated from the handlers' `#[utoipa::path]` attributes.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use actix_web::App;
use crm_contract::Problem;
use utoipa_actix_web::AppExt;

use crate::error::responses::{
    CsrfRejected, InvalidInput, Malformed, NotFound, NotMultipart, NotSignedIn, Unavailable,
    UploadTooLarge,
};

/// What the API says of itself; its operations come from the routes as they are registered
/// ([`document`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Customer Manager API",
        description = "Customers, invoices with receipts, scheduled messages and reminders.\n\n\
            Sign in with `POST /api/v1/auth/login` (cookie session; send the `crm_csrf` cookie's \
            value as `X-CSRF-Token` on unsafe requests) or send a personal API token as \
            `Authorization: Bearer <token>`. Errors are RFC 9457 problem details; invalid input \
            is a 422 whose `errors` maps each field to its messages.",
        license(name = "MIT")
    ),
    components(
        schemas(Problem),
        responses(Malformed, NotSignedIn, CsrfRejected, NotFound, InvalidInput, Unavailable, UploadTooLarge, NotMultipart)
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "operations", description = "Health probes"),
        (name = "setup", description = "First-run setup"),
        (name = "auth", description = "Sign-in and sessions"),
        (name = "tokens", description = "Personal API tokens"),
        (name = "users", description = "Staff accounts (admins only)"),
        (name = "customers", description = "Customers and their activity"),
        (name = "invoices", description = "Invoices and their receipts (always PDFs)"),
        (name = "messages", description = "Scheduled SMS and WhatsApp messages"),
        (name = "reminders", description = "Reminders: set, due, snoozed, dismissed"),
        (name = "events", description = "Live events for open web apps (Server-Sent Events)"),
        (name = "webhooks", description = "Provider callbacks"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// Declares the two ways to authenticate.
#[derive(Debug)]
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "crm_session",
                "Set by sign-in (named `__Host-crm_session` when served over https). Unsafe \
                 requests also need the X-CSRF-Token header.",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Documents `Idempotency-Key` on every POST that needs sign-in (see [`crate::idempotency`]).
#[derive(Debug)]
struct IdempotencyKeys;

impl Modify for IdempotencyKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{
            RefOr, Required, Type,
            schema::{ObjectBuilder, Schema},
        };
        for item in openapi.paths.paths.values_mut() {
            let Some(post) = item.post.as_mut() else {
                continue;
            };
            if post.security.as_ref().is_none_or(Vec::is_empty) {
                continue;
            }
            let parameter = ParameterBuilder::new()
                .name(crate::idempotency::HEADER)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes retries safe: a request sent again with the same key (within a day, \
                     with the same credential) gets the first answer again, marked \
                     `Idempotent-Replayed: true`, instead of being carried out twice. The same \
                     key with a different request is a 422. Visible ASCII characters only, such \
                     as a UUID.",
                ))
                .schema(Some(Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[!-~]+$"))
                        .build(),
                )))
                .example(Some(serde_json::json!(
                    "4f9c2a4e-8d1e-4c6b-9c55-0d9a1c2b3e4f"
                )))
                .build();
            post.parameters
                .get_or_insert_with(Vec::new)
                .push(RefOr::T(parameter));
            let responses = &mut post.responses.responses;
            responses.entry("409".to_owned()).or_insert_with(|| {
                problem("A request with this Idempotency-Key is still being worked on (or another conflict).")
            });
            responses.entry("422".to_owned()).or_insert_with(|| {
                problem("The Idempotency-Key is malformed, or was used for a different request.")
            });
        }
        // Every JSON body is read by one extractor, which answers 415 to any other type or none.
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.post, &mut item.put, &mut item.patch]
                .into_iter()
                .flatten()
            {
                let json = operation
                    .request_body
                    .as_ref()
                    .is_some_and(|body| match body {
                        RefOr::T(body) => body.content.contains_key("application/json"),
                        RefOr::Ref(_) => false,
                    });
                if json {
                    operation
                        .responses
                        .responses
                        .entry("415".to_owned())
                        .or_insert_with(|| {
                            problem("The body was sent without `Content-Type: application/json`.")
                        });
                }
            }
        }
    }
}

/// A response with a problem+json body.
fn problem(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// The multipart forms take no parts but their own (the extractor refuses others with 422),
/// which utoipa can only say of serde-derived types.
struct ClosedForms;

impl Modify for ClosedForms {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in ["InvoiceUpload", "InvoiceEdit", "ReceiptUpload"] {
            if let Some(RefOr::T(Schema::Object(form))) = components.schemas.get_mut(name) {
                form.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
        }
    }
}

/// The operations anyone may call, without a session or token (`security: []` in the
/// document). Twilio's webhook proves itself with its signature instead. Every other operation
/// needs sign-in, which [`crate::auth::required`] checks before anything else.
pub const PUBLIC_OPERATIONS: &[&str] = &[
    "healthz",
    "readyz",
    "setup_status",
    "create_first_admin",
    "login",
    "twilio_webhook",
];

/// Whether an operation of the [`document`] is public (`security: []`).
pub fn is_public(operation: &utoipa::openapi::path::Operation) -> bool {
    operation.security.as_ref().is_some_and(Vec::is_empty)
}

/// The operations of a path, with their methods in capitals.
pub fn operations(
    item: &utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &utoipa::openapi::path::Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_ref().map(|operation| (method, operation)))
}

/// Says who may call each operation: `security: []` on the [`PUBLIC_OPERATIONS`], and the two
/// ways to sign in on every other one, also one whose `#[utoipa::path]` forgot to say so.
struct Access;

impl Modify for Access {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::SecurityRequirement;
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let public = operation
                    .operation_id
                    .as_deref()
                    .is_some_and(|id| PUBLIC_OPERATIONS.contains(&id));
                if public {
                    operation.security = Some(Vec::new());
                } else if operation.security.as_ref().is_none_or(Vec::is_empty) {
                    operation.security = Some(vec![
                        SecurityRequirement::new("session", Vec::<String>::new()),
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                    ]);
                }
            }
        }
    }
}

/// The whole document: [`ApiDoc`] with every registered route's operation.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    Access.modify(&mut document);
    IdempotencyKeys.modify(&mut document);
    ClosedForms.modify(&mut document);
    document
}

/// The spec as pretty JSON with a final newline: what `crm-api openapi` writes.
pub fn to_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
