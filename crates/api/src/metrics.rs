//! What this process counts for Prometheus ([`ApiMetrics`]), the middleware that counts every
//! request, and the page `GET /api/v1/metrics` answers ([`ApiMetrics::render`]).
//!
//! Requests are labelled by their route's *pattern* (`/api/v1/customers/{id}`), never the raw
//! path, so the number of series stays bounded; a request no route takes is `unmatched`.

use std::time::{Duration, Instant};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use crm_metrics::{Counter, Family, Histogram, PoolMetrics, PoolState, Text};
use crm_receipts::SourceKind;

use crate::state::AppState;

/// The counters and histograms of one API process.
#[derive(Debug)]
pub struct ApiMetrics {
    requests: Family<Counter>,
    durations: Family<Histogram>,
    /// Waits for a PostgreSQL connection (recorded by [`AppState::db`]).
    pub pool: PoolMetrics,
    conversions: Family<Histogram>,
}

impl Default for ApiMetrics {
    fn default() -> Self {
        let conversions = Family::new(&["kind"], || Histogram::new(crm_metrics::SLOW_BUCKETS));
        for kind in [SourceKind::Pdf, SourceKind::Jpeg, SourceKind::Png] {
            conversions.with(&[kind_label(kind)], |_| ());
        }
        Self {
            requests: Family::counters(&["route", "method", "status"]),
            durations: Family::new(&["route", "method"], || {
                Histogram::new(crm_metrics::LATENCY_BUCKETS)
            }),
            pool: PoolMetrics::default(),
            conversions,
        }
    }
}

impl ApiMetrics {
    /// Counts one answered request.
    pub fn record_request(&self, route: &str, method: &Method, status: u16, took: Duration) {
        let method = method_label(method);
        let status = status.to_string();
        self.requests.with(&[route, method, &status], Counter::inc);
        self.durations
            .with(&[route, method], |histogram| histogram.observe(took));
    }

    /// Counts one receipt converted (or checked, for a PDF) from `kind`.
    pub fn record_conversion(&self, kind: SourceKind, took: Duration) {
        self.conversions
            .with(&[kind_label(kind)], |histogram| histogram.observe(took));
    }

    /// The Prometheus page, with the pool's state as it is now.
    pub fn render(&self, pool: PoolState) -> String {
        let mut text = Text::new();
        text.counters(
            "http_requests_total",
            "Requests answered, by route pattern, method and status.",
            &self.requests,
        );
        text.histograms(
            "http_request_duration_seconds",
            "Time to answer a request (until the response head), by route pattern and method.",
            &self.durations,
        );
        self.pool.write(&mut text, pool);
        text.histograms(
            "receipt_conversion_seconds",
            "Time to turn an uploaded receipt into a PDF (to check it, for a PDF), by its type.",
            &self.conversions,
        );
        text.finish()
    }
}

fn kind_label(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Pdf => "pdf",
        SourceKind::Jpeg => "jpeg",
        SourceKind::Png => "png",
    }
}

/// The method as a label: the standard ones, or `other` (anyone can send any method).
fn method_label(method: &Method) -> &'static str {
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .iter()
    .find(|known| *known == method)
    .map_or("other", Method::as_str)
}

/// The middleware (`actix_web::middleware::from_fn`, around the whole app): counts each request
/// with its route pattern, method, status and duration.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let route = req
        .match_pattern()
        .filter(|pattern| !pattern.is_empty())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().clone();
    let response = next.call(req).await;
    if let Some(state) = state {
        let status = match &response {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        state
            .metrics
            .record_request(&route, &method, status.as_u16(), started.elapsed());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let odd = Method::from_bytes(b"BREW").unwrap_or(Method::TRACE);
        assert_eq!(method_label(&odd), "other");
    }

    #[test]
    fn every_receipt_kind_shows_before_the_first_upload() {
        let page = ApiMetrics::default().render(PoolState {
            size: 4,
            connections: 1,
            idle: 1,
        });
        for kind in ["pdf", "jpeg", "png"] {
            assert!(
                page.contains(&format!(
                    "receipt_conversion_seconds_count{{kind=\"{kind}\"}} 0"
                )),
                "{page}"
            );
        }
        assert!(page.contains("db_pool_connections{state=\"in_use\"} 0"));
    }
}
