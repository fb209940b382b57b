use tokio::sync::watch;

/// A shutdown signal shared by a service's tasks: cheap to clone, and
/// `wait` resolves once `trigger` was called (or every trigger was dropped).
#[derive(Clone)]
pub struct Shutdown {
    tx: std::sync::Arc<watch::Sender<bool>>,
    rx: watch::Receiver<bool>,
}

impl Shutdown {
    pub fn new() -> Self {
        let (tx, rx) = watch::channel(false);
        Shutdown {
            tx: std::sync::Arc::new(tx),
            rx,
        }
    }

    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Runs `work` to its end, but at most `grace` past the moment shutdown
    /// is triggered: `None` when the grace period ran out first (the work
    /// is dropped; whatever it had not committed is redone after restart).
    pub async fn bounded<F: std::future::Future>(
        &self,
        grace: std::time::Duration,
        work: F,
    ) -> Option<F::Output> {
        tokio::pin!(work);
        tokio::select! {
            out = &mut work => return Some(out),
            _ = self.wait() => {}
        }
        tokio::time::timeout(grace, work).await.ok()
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}
