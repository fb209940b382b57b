use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Liveness and readiness of a service.
///
/// - live: the poll loop made progress (polled, even if nothing arrived)
///   within the stall timeout. High lag never makes a service unlive.
/// - ready: the service has joined its group, has partitions and its state is restored.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    last_progress_ms: AtomicU64,
    ready: AtomicBool,
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

    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::Relaxed);
    }

    pub fn is_live(&self) -> bool {
        let last = self.inner.last_progress_ms.load(Ordering::Relaxed);
        now_ms().saturating_sub(last) <= self.inner.stall_timeout.as_millis() as u64
    }

    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Relaxed) && self.is_live()
    }
}
