//! Liveness and readiness probes.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use crm_contract::health::{Health, Readiness};

use crate::state::AppState;

/// How long a readiness check waits for each dependency.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The process is up.
#[utoipa::path(
    tag = "operations",
    operation_id = "healthz",
    responses((status = 200, description = "The process is up", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// PostgreSQL, Redis and receipt storage are reachable.
#[utoipa::path(
    tag = "operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "A dependency is down", body = Readiness),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (postgres, redis, receipts) = futures_util::join!(
        postgres_ok(&state),
        redis_ok(&state),
        tokio::time::timeout(CHECK_TIMEOUT, state.receipts.is_reachable()),
    );
    let receipts = receipts.unwrap_or(false);
    let ready = postgres && redis && receipts;
    let word = |ok: bool| if ok { "ok" } else { "unavailable" }.to_owned();
    let body = Readiness {
        status: word(ready),
        postgres: word(postgres),
        redis: word(redis),
        receipts: word(receipts),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Retry-After", "5"))
            .json(body)
    }
}

async fn postgres_ok(state: &AppState) -> bool {
    let pool = state.pool.clone();
    let check = web::block(move || {
        use diesel::RunQueryDsl;
        let mut conn = pool.get_timeout(CHECK_TIMEOUT).ok()?;
        diesel::sql_query("SELECT 1").execute(&mut conn).ok()
    });
    matches!(check.await, Ok(Some(_)))
}

async fn redis_ok(state: &AppState) -> bool {
    let Some(client) = state.redis.clone() else {
        return false;
    };
    let ping = async move {
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .ok()
    };
    matches!(tokio::time::timeout(CHECK_TIMEOUT, ping).await, Ok(Some(_)))
}
