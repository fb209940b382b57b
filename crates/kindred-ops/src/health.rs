use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Liveness and readiness of a service.
///
/// - live: the poll loop made progress (polled, even if nothing arrived)
///   within the stall timeout. High lag never makes a service unlive.
/// - ready: the service has joined its group, has partitions and its state is restored.
/// - started: the service has reached its poll loop once (its store opened,
///   its publisher started), and is live: what a startup probe waits for,
///   however long the service is then unready (a large outbox draining).
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    last_progress_ms: AtomicU64,
    ready: AtomicBool,
    started: AtomicBool,
    stall_timeout: Duration,
}

/// Milliseconds on a monotonic clock (since the first call): a wall-clock
/// step (NTP, a VM resumed) must not make a service look stalled.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64
}

impl Health {
    pub fn new(stall_timeout: Duration) -> Self {
        Health {
            inner: Arc::new(Inner {
                last_progress_ms: AtomicU64::new(now_ms()),
                ready: AtomicBool::new(false),
                started: AtomicBool::new(false),
                stall_timeout,
            }),
        }
    }

    /// Called by the poll loop on every turn.
    pub fn progress(&self) {
        self.inner
            .last_progress_ms
            .store(now_ms(), Ordering::Relaxed);
    }

    /// How often a heartbeat that keeps a waiting service live must beat:
    /// a quarter of the stall timeout, at most a second, so that a beat
    /// woken late on a loaded machine still lands inside the timeout.
    pub fn heartbeat_period(&self) -> Duration {
        (self.inner.stall_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// Ready or not; ready once means started for good.
    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::Relaxed);
        if ready {
            self.set_started();
        }
    }

    /// The service has reached its poll loop (for good).
    pub fn set_started(&self) {
        self.inner.started.store(true, Ordering::Relaxed);
    }

    pub fn is_started(&self) -> bool {
        self.inner.started.load(Ordering::Relaxed) && self.is_live()
    }

    pub fn is_live(&self) -> bool {
        let last = self.inner.last_progress_ms.load(Ordering::Relaxed);
        now_ms().saturating_sub(last) <= self.inner.stall_timeout.as_millis() as u64
    }

    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Relaxed) && self.is_live()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A beat must land well inside the stall timeout, however short.
    #[test]
    fn the_heartbeat_beats_four_times_per_stall_timeout_at_least() {
        let period = |secs| Health::new(Duration::from_secs(secs)).heartbeat_period();
        assert_eq!(period(60), Duration::from_secs(1));
        assert_eq!(period(2), Duration::from_millis(500));
        assert_eq!(period(1), Duration::from_millis(250));
    }
}
