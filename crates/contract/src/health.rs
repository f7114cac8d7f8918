//! The health probes' answers.

use serde::{Deserialize, Serialize};

/// Liveness answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Always `ok` when the process answers.
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub status: String,
}

/// Readiness answer: each dependency's state, `ok` or `unavailable`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// `ok` when every dependency is reachable, else `unavailable`.
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub status: String,
    /// PostgreSQL: `ok` or `unavailable`.
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub postgres: String,
    /// Redis: `ok` or `unavailable`.
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub redis: String,
    /// Receipt storage (the folder or the S3 bucket): `ok` or `unavailable`.
    #[cfg_attr(feature = "openapi", schema(example = "ok"))]
    pub receipts: String,
}
