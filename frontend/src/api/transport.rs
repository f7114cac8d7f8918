//! The generic transport under the typed functions: JSON requests with the CSRF header, the
//! multipart upload with progress, and problem bodies turned into [`ApiError`].

use std::cell::RefCell;

use crm_contract::Problem;
use gloo_net::http::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;

use super::{ApiError, paths};

thread_local! {
    static ON_UNAUTHORIZED: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

/// Sets what happens when any request finds the session gone (the app shows sign-in).
pub fn on_unauthorized(handler: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|slot| *slot.borrow_mut() = Some(Box::new(handler)));
}

/// The CSRF token from the readable `crm_csrf` cookie (`__Host-crm_csrf` when served over
/// https).
fn csrf_token() -> Option<String> {
    let document = web_sys::window()?.document()?;
    let cookies = document
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?
        .cookie()
        .ok()?;
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| matches!(*name, "crm_csrf" | "__Host-crm_csrf"))
        .map(|(_, value)| value.to_owned())
}

async fn call(method: Method, path: &str, body: Option<String>) -> Result<String, ApiError> {
    call_with_key(method, path, body, None).await
}

async fn call_with_key(
    method: Method,
    path: &str,
    body: Option<String>,
    idempotency_key: Option<&str>,
) -> Result<String, ApiError> {
    let mut builder = RequestBuilder::new(path)
        .method(method.clone())
        .header("Accept", "application/json");
    if let Some(key) = idempotency_key {
        builder = builder.header("Idempotency-Key", key);
    }
    if !matches!(method, Method::GET | Method::HEAD)
        && let Some(token) = csrf_token()
    {
        builder = builder.header("X-CSRF-Token", &token);
    }
    let request = match body {
        Some(json) => builder
            .header("Content-Type", "application/json")
            .body(json),
        None => builder.build(),
    }
    .map_err(|_| ApiError::Network)?;
    let response = request.send().await.map_err(|_| ApiError::Network)?;
    let status = response.status();
    let text = response.text().await.map_err(|_| ApiError::Network)?;
    if (200..300).contains(&status) {
        return Ok(text);
    }
    Err(problem_of(status, &text, path))
}

/// The error for a non-2xx answer, from its problem body when there is one.
fn problem_of(status: u16, text: &str, path: &str) -> ApiError {
    let problem: Option<Problem> = serde_json::from_str(text).ok();
    match (status, problem) {
        (401, _) if path != paths::login() => {
            ON_UNAUTHORIZED.with(|slot| {
                if let Some(handler) = slot.borrow().as_ref() {
                    handler();
                }
            });
            ApiError::Unauthorized
        }
        (
            422,
            Some(Problem {
                errors: Some(errors),
                ..
            }),
        ) => ApiError::Invalid(errors),
        (_, Some(problem)) => ApiError::Problem {
            status,
            message: problem.detail.unwrap_or(problem.title),
        },
        (_, None) => ApiError::Problem {
            status,
            message: format!("The server answered {status}; try again shortly."),
        },
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|_| ApiError::Problem {
        status: 200,
        message: "The server's answer could not be read.".into(),
    })
}

fn encode<B: Serialize>(body: &B) -> Option<String> {
    serde_json::to_string(body).ok()
}

/// `GET path`.
pub(super) async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    parse(&call(Method::GET, path, None).await?)
}

/// `POST path` with a JSON body.
pub(super) async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    parse(&call(Method::POST, path, encode(body)).await?)
}

/// `POST path` with a JSON body and an `Idempotency-Key`: sent again after a lost answer, it
/// gets the first answer instead of being carried out twice.
pub(super) async fn post_once<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    idempotency_key: &str,
) -> Result<T, ApiError> {
    parse(&call_with_key(Method::POST, path, encode(body), Some(idempotency_key)).await?)
}

/// `POST path` with no body, for an answer.
pub(super) async fn post_bodiless<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    parse(&call(Method::POST, path, None).await?)
}

/// `POST path` with no body and no meaningful answer body.
pub(super) async fn post_empty(path: &str) -> Result<(), ApiError> {
    call(Method::POST, path, None).await.map(|_| ())
}

/// `PATCH path` with a JSON body.
pub(super) async fn patch<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    parse(&call(Method::PATCH, path, encode(body)).await?)
}

/// `DELETE path`.
pub(super) async fn delete(path: &str) -> Result<(), ApiError> {
    call(Method::DELETE, path, None).await.map(|_| ())
}

/// The method of a multipart upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UploadMethod {
    Post,
    Patch,
}

/// Sends a multipart form, reporting upload progress (0.0 to 1.0): large photos over slow links
/// take a while, and `fetch` can't tell how far an upload has got.
///
/// With an `idempotency_key`, sending the same form again after a lost answer gets the first
/// answer back instead of doing the work twice.
pub(super) async fn upload<T: DeserializeOwned>(
    method: UploadMethod,
    path: &str,
    form: &web_sys::FormData,
    idempotency_key: Option<&str>,
    on_progress: impl Fn(f64) + 'static,
) -> Result<T, ApiError> {
    use wasm_bindgen::closure::Closure;

    let method = match method {
        UploadMethod::Post => "POST",
        UploadMethod::Patch => "PATCH",
    };
    let xhr = web_sys::XmlHttpRequest::new().map_err(|_| ApiError::Network)?;
    xhr.open(method, path).map_err(|_| ApiError::Network)?;
    let _ = xhr.set_request_header("Accept", "application/json");
    if let Some(token) = csrf_token() {
        let _ = xhr.set_request_header("X-CSRF-Token", &token);
    }
    if let Some(key) = idempotency_key {
        let _ = xhr.set_request_header("Idempotency-Key", key);
    }
    // Kept alive until the request ends, then dropped (not leaked).
    let progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                on_progress(ev.loaded() / ev.total());
            }
        });
    let upload = xhr.upload().ok();
    if let Some(upload) = &upload {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
        xhr.set_onabort(Some(&reject));
    });
    xhr.send_with_opt_form_data(Some(form))
        .map_err(|_| ApiError::Network)?;
    let finished = wasm_bindgen_futures::JsFuture::from(done).await;
    if let Some(upload) = &upload {
        upload.set_onprogress(None);
    }
    drop(progress);
    finished.map_err(|_| ApiError::Network)?;
    let status = xhr.status().map_err(|_| ApiError::Network)?;
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    if (200..300).contains(&status) {
        return parse(&text);
    }
    Err(problem_of(status, &text, path))
}
