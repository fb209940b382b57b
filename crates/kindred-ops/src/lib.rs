//! The operational surface every kindred service shares: Prometheus metrics
//! ([`Metrics`]), liveness and readiness ([`Health`]), and the HTTP endpoint
//! serving `/metrics`, `/healthz` and `/readyz` ([`serve`]).
//!
//! Metric names follow Prometheus practice: `kindred_` prefix, base units,
//! `_total` for counters, `_seconds` for durations, low-cardinality labels.

mod health;
mod http;
mod metrics;

pub use health::Health;
pub use http::{serve, HttpError};
pub use metrics::{Metrics, StoreFigures};
