use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// What a watchdog does when the grace period after a trigger runs out.
type Expiry = Box<dyn FnOnce() + Send>;

/// A shutdown signal shared by a service's tasks: cheap to clone, and
/// `wait` resolves once `trigger` was called (or every trigger was dropped).
#[derive(Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
    watchdog: Arc<Mutex<Option<(Duration, Expiry)>>>,
    /// When the first trigger came: the watchdog's deadline counts from it.
    triggered_at: Arc<std::sync::OnceLock<Instant>>,
}

impl Shutdown {
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Shutdown {
            tx: Arc::new(tx),
            rx,
            watchdog: Arc::new(Mutex::new(None)),
            triggered_at: Arc::default(),
        }
    }

    /// Arms a watchdog: `grace` after the first `trigger`, `on_expiry` runs
    /// on a thread of its own (the binary exits the process there). It is
    /// an OS thread, not a task, on purpose: a shutdown can block an
    /// executor thread in a synchronous call that has no timeout (closing a
    /// Kafka consumer waits for its group to answer, however long a broker
    /// restart takes), and a timer on the same executor would never fire.
    /// Armed after the trigger, it starts at once.
    pub fn arm_watchdog(&self, grace: Duration, on_expiry: impl FnOnce() + Send + 'static) {
        if let Ok(mut slot) = self.watchdog.lock() {
            *slot = Some((grace, Box::new(on_expiry)));
        }
        if self.is_triggered() {
            self.start_watchdog();
        }
    }

    pub fn trigger(&self) {
        let _ = self.triggered_at.get_or_init(Instant::now);
        let _ = self.tx.send(true);
        self.start_watchdog();
    }

    fn start_watchdog(&self) {
        let armed = self.watchdog.lock().ok().and_then(|mut slot| slot.take());
        if let Some((grace, on_expiry)) = armed {
            let spawned = std::thread::Builder::new()
                .name("shutdown-watchdog".into())
                .spawn(move || {
                    std::thread::sleep(grace);
                    on_expiry();
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start the shutdown watchdog: the shutdown is not bounded");
            }
        }
    }

    /// A guard that triggers the shutdown when dropped, however its scope
    /// ends. A service holds one declared after its Kafka clients, so that
    /// an error return starts the watchdog before the clients are closed:
    /// closing a consumer can wait on its group without a timeout, on the
    /// error path as on a signal's.
    pub fn trigger_on_drop(&self) -> TriggerOnDrop {
        TriggerOnDrop(self.clone())
    }

    /// When the shutdown was first triggered, if it was: a service's own
    /// deadlines count from there, as the watchdog's does.
    pub fn triggered_at(&self) -> Option<Instant> {
        self.triggered_at.get().copied()
    }

    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// Triggers its [`Shutdown`] when dropped: [`Shutdown::trigger_on_drop`].
#[must_use = "the shutdown is triggered when the guard is dropped"]
pub struct TriggerOnDrop(Shutdown);

impl Drop for TriggerOnDrop {
    fn drop(&mut self) {
        self.0.trigger();
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Instant;

    #[test]
    fn the_watchdog_fires_after_the_grace_even_while_the_executor_is_blocked() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let shutdown = Shutdown::new();
        let (fired, expired) = mpsc::channel();
        shutdown.arm_watchdog(Duration::from_millis(100), move || {
            let _ = fired.send(Instant::now());
        });
        let started = Instant::now();
        let blocked_until = runtime.block_on(async {
            shutdown.trigger();
            // A synchronous call with no timeout, like a consumer's close:
            // the only executor thread is stuck in it.
            std::thread::sleep(Duration::from_millis(1500));
            Instant::now()
        });
        let at = expired
            .recv_timeout(Duration::from_secs(5))
            .expect("the watchdog fired");
        assert!(
            at < blocked_until,
            "it fired while the executor was blocked"
        );
        assert!(
            at - started >= Duration::from_millis(100),
            "not before the grace"
        );
    }

    #[test]
    fn an_armed_watchdog_waits_for_a_trigger_and_fires_once() {
        let shutdown = Shutdown::new();
        let (fired, expired) = mpsc::channel();
        shutdown.arm_watchdog(Duration::from_millis(10), move || {
            let _ = fired.send(());
        });
        assert!(
            expired.recv_timeout(Duration::from_millis(300)).is_err(),
            "no trigger, no expiry"
        );
        assert_eq!(shutdown.triggered_at(), None);
        shutdown.clone().trigger();
        let first = shutdown.triggered_at().expect("triggered");
        shutdown.trigger();
        assert_eq!(
            shutdown.triggered_at(),
            Some(first),
            "deadlines count from the first trigger"
        );
        assert!(expired.recv_timeout(Duration::from_secs(5)).is_ok());
        assert!(
            expired.recv_timeout(Duration::from_millis(300)).is_err(),
            "a second trigger starts no second watchdog"
        );
    }

    #[test]
    fn an_error_return_past_the_guard_starts_the_watchdog() {
        fn service(shutdown: &Shutdown) -> Result<(), &'static str> {
            let _stop = shutdown.trigger_on_drop();
            Err("the consumer failed for good")
        }
        let shutdown = Shutdown::new();
        let (fired, expired) = mpsc::channel();
        shutdown.arm_watchdog(Duration::from_millis(10), move || {
            let _ = fired.send(());
        });
        assert!(!shutdown.is_triggered());
        assert!(service(&shutdown).is_err());
        assert!(shutdown.is_triggered());
        assert!(expired.recv_timeout(Duration::from_secs(5)).is_ok());
    }

    #[test]
    fn a_watchdog_armed_after_the_trigger_starts_at_once() {
        let shutdown = Shutdown::new();
        shutdown.trigger();
        let (fired, expired) = mpsc::channel();
        shutdown.arm_watchdog(Duration::from_millis(10), move || {
            let _ = fired.send(());
        });
        assert!(expired.recv_timeout(Duration::from_secs(5)).is_ok());
    }
}
