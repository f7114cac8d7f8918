//! Metrics for Prometheus, for admins (see the README's "Metrics").

use actix_web::{HttpResponse, get, web};
use crm_contract::Problem;
use crm_metrics::PoolState;

use crate::auth::Admin;
use crate::error::responses::NotSignedIn;
use crate::state::AppState;

/// This API process's counters and histograms in Prometheus's text format: requests by route
/// pattern, method and status, their latency, the PostgreSQL pool and receipt conversions
/// (admins only).
#[utoipa::path(
    tag = "operations",
    operation_id = "metrics",
    extensions(("x-required-role" = json!("admin"))),
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4",
            body = String, content_type = "text/plain; version=0.0.4",
            example = json!("# HELP db_pool_size Most PostgreSQL connections the pool opens.\n# TYPE db_pool_size gauge\ndb_pool_size 4\n")),
        (status = 401, response = NotSignedIn),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("session" = []), ("bearer" = []))
)]
#[get("/metrics")]
pub async fn scrape(_admin: Admin, state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.state();
    let page = state.metrics.render(PoolState {
        size: state.pool.max_size(),
        connections: pool.connections,
        idle: pool.idle_connections,
    });
    HttpResponse::Ok()
        .content_type(crm_metrics::CONTENT_TYPE)
        .body(page)
}
