use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::{Health, Metrics};

#[derive(Debug, thiserror::Error)]
#[error("cannot listen for /metrics on {addr}: {source}")]
pub struct HttpError {
    addr: String,
    #[source]
    source: std::io::Error,
}

#[derive(Clone)]
struct AppState {
    metrics: Metrics,
    health: Health,
}

/// Serves `/metrics`, `/healthz`, `/readyz` and `/startedz` on `addr` until the task is
/// aborted. Returns the bound address (useful with port 0) and the task.
pub async fn serve(
    addr: &str,
    metrics: Metrics,
    health: Health,
) -> Result<(SocketAddr, JoinHandle<()>), HttpError> {
    let listener = TcpListener::bind(addr).await.map_err(|source| HttpError {
        addr: addr.to_string(),
        source,
    })?;
    let local = listener.local_addr().map_err(|source| HttpError {
        addr: addr.to_string(),
        source,
    })?;
    let app = Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/startedz", get(startedz))
        .with_state(AppState { metrics, health });
    let task = tokio::spawn(accept_loop(listener, app));
    Ok((local, task))
}

/// At most this many connections are served at once (a scraper and two
/// probes need a handful); one more closes the oldest.
const MAX_CONNECTIONS: usize = 64;
/// A client must send a request's headers within this time.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// A connection is closed after this long, kept alive or not (Prometheus
/// opens a new one).
const MAX_CONNECTION_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// Serves each connection with HTTP/1 under the limits above: a client
/// that connects and sends nothing, or many that do, cannot hold the
/// service's file descriptors or starve the probes. When every slot is
/// taken, a new connection closes the oldest one rather than being closed
/// itself: closing the newcomer let 64 idle sockets fail the liveness probe
/// (and restart the pod) for as long as they were held, while a probe's
/// request is answered within a millisecond of its connection.
async fn accept_loop(listener: TcpListener, app: Router) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut live: std::collections::VecDeque<tokio::task::AbortHandle> =
        std::collections::VecDeque::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, say: wait, do not spin.
                tracing::warn!(error = %e, "metrics endpoint: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        live.retain(|connection| !connection.is_finished());
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if let Some(oldest) = live.pop_front() {
                    oldest.abort();
                }
                // The aborted task gives its slot back when it is dropped.
                let freed = tokio::time::timeout(
                    std::time::Duration::from_millis(100),
                    slots.clone().acquire_owned(),
                );
                match freed.await {
                    Ok(Ok(slot)) => slot,
                    _ => continue, // dropped: closed
                }
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = tokio::spawn(async move {
            let _slot = slot;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = tokio::time::timeout(MAX_CONNECTION_AGE, connection).await;
        });
        live.push_back(connection.abort_handle());
    }
}

async fn metrics_handler(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if state.health.is_live() {
        (StatusCode::OK, "ok\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "poll loop stalled\n")
    }
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.health.is_ready() {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
    }
}

async fn startedz(State(state): State<AppState>) -> impl IntoResponse {
    if state.health.is_started() {
        (StatusCode::OK, "started\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting\n")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// The status line and body of a GET of `path`.
    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .await
            .expect("response");
        response
    }

    #[tokio::test]
    async fn probes_and_metrics_answer_and_a_silent_client_is_let_go() {
        let health = Health::new(Duration::from_secs(60));
        let (addr, task) = serve("127.0.0.1:0", Metrics::new("test"), health.clone())
            .await
            .expect("serve");
        assert!(get(addr, "/healthz").await.starts_with("HTTP/1.1 200"));
        assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 503"));
        assert!(get(addr, "/startedz").await.starts_with("HTTP/1.1 503"));
        health.set_started();
        assert!(get(addr, "/startedz").await.starts_with("HTTP/1.1 200"));
        assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 503"));
        health.set_ready(true);
        assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 200"));
        // Started for good: unready again (an outbox draining) is still
        // started.
        health.set_ready(false);
        assert!(get(addr, "/startedz").await.starts_with("HTTP/1.1 200"));
        let metrics = get(addr, "/metrics").await;
        assert!(metrics.contains("kindred_"), "{metrics}");
        // Connects and sends nothing: closed after the header timeout, not
        // held open for good.
        let mut silent = TcpStream::connect(addr).await.expect("connect");
        let mut buf = Vec::new();
        let closed = tokio::time::timeout(
            HEADER_READ_TIMEOUT + Duration::from_secs(5),
            silent.read_to_end(&mut buf),
        )
        .await;
        assert!(closed.is_ok(), "a silent connection is closed");
        // And the endpoint still answers.
        assert!(get(addr, "/healthz").await.starts_with("HTTP/1.1 200"));
        task.abort();
    }

    /// Idle sockets holding every slot do not fail the probes: the probe's
    /// connection closes the oldest of them (it was closed on accept, and
    /// the liveness probe failed until the idle ones timed out).
    #[tokio::test]
    async fn idle_connections_filling_every_slot_do_not_starve_the_probes() {
        let health = Health::new(Duration::from_secs(60));
        let (addr, task) = serve("127.0.0.1:0", Metrics::new("test"), health.clone())
            .await
            .expect("serve");
        let mut idle = Vec::new();
        for _ in 0..MAX_CONNECTIONS + 8 {
            idle.push(TcpStream::connect(addr).await.expect("connect"));
        }
        // Let the server accept them all.
        tokio::time::sleep(Duration::from_millis(200)).await;
        for _ in 0..3 {
            let answer = tokio::time::timeout(Duration::from_secs(2), get(addr, "/healthz"))
                .await
                .expect("answered before the idle ones time out");
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
        }
        drop(idle);
        task.abort();
    }
}
