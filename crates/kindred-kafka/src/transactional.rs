//! A transactional producer: every batch of records becomes visible to
//! `read_committed` consumers all at once, or not at all.
//!
//! Every call here blocks (librdkafka's transaction API is synchronous):
//! run it on a thread of its own, never on the async executor.
//!
//! Error handling follows librdkafka's transactional contract:
//! - an *abortable* error aborts the transaction; the caller sends the same
//!   records again in a new one;
//! - being *fenced* (a newer instance with the same `transactional.id`
//!   initialised its transactions) ends this producer for good: it is
//!   dropped, not rebuilt (a rebuilt one would fence the newer instance in
//!   turn, and the two would take turns publishing), and the caller stops;
//! - another *fatal* error leaves the producer unusable: it is dropped and
//!   rebuilt, and `init_transactions` completes or aborts whatever the old
//!   one left open. If that error came after the commit was sent, the
//!   records may be visible: the caller reads back its progress before
//!   sending them again;
//! - a *retriable* commit is retried as it is, for as long as it stays
//!   retriable (aborting a commit in flight is refused, and giving up on
//!   it would leave its outcome unknown).
//!
//! An empty transaction is never started (committing one fails with
//! INVALID_TXN_STATE).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::message::Message as _;
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer,
};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use crate::{KafkaError, KafkaSettings, OutRecord};

/// The records of a failed transaction that the brokers did not take, by
/// topic: librdkafka's error says only that a flush timed out or that "N
/// message(s) failed delivery", which left an operator guessing which
/// output topic is missing or refusing. Holds topics and error texts,
/// never a record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FailedDeliveries {
    /// Topic -> (records not delivered, the first error reported for one).
    by_topic: BTreeMap<String, (u64, Option<String>)>,
}

impl FailedDeliveries {
    pub fn is_empty(&self) -> bool {
        self.by_topic.is_empty()
    }

    /// The topics that took not every record, in name order.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.by_topic.keys().map(String::as_str)
    }
}

impl std::fmt::Display for FailedDeliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (topic, (n, error))) in self.by_topic.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            let error = error
                .as_deref()
                .unwrap_or("not acknowledged before the transaction failed");
            write!(f, "{sep}{n} to {topic} ({error})")?;
        }
        Ok(())
    }
}

/// One topic's records in the transaction in flight.
#[derive(Debug, Default)]
struct TopicTally {
    sent: u64,
    delivered: u64,
    first_error: Option<String>,
}

/// The transaction in flight: its number (delivery reports of an earlier,
/// aborted one may still come in) and its records by topic.
#[derive(Debug, Default)]
struct Tally {
    transaction: usize,
    by_topic: BTreeMap<String, TopicTally>,
}

/// The transactional producer's client context: throttled logs as
/// [`crate::Quiet`], and the delivery reports of the transaction in
/// flight counted by topic.
#[derive(Clone, Default)]
struct Deliveries {
    tally: Arc<Mutex<Tally>>,
}

impl Deliveries {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts counting a new transaction; returns its number.
    fn begin(&self) -> usize {
        let mut tally = self.lock();
        tally.transaction = tally.transaction.wrapping_add(1);
        tally.by_topic.clear();
        tally.transaction
    }

    fn sent(&self, topic: &str) {
        let mut tally = self.lock();
        match tally.by_topic.get_mut(topic) {
            Some(t) => t.sent += 1,
            None => {
                tally.by_topic.insert(
                    topic.to_string(),
                    TopicTally {
                        sent: 1,
                        ..TopicTally::default()
                    },
                );
            }
        }
    }

    /// The records of the transaction in flight not delivered (yet), by
    /// topic.
    fn undelivered(&self) -> FailedDeliveries {
        let tally = self.lock();
        FailedDeliveries {
            by_topic: tally
                .by_topic
                .iter()
                .filter(|(_, t)| t.sent > t.delivered)
                .map(|(topic, t)| (topic.clone(), (t.sent - t.delivered, t.first_error.clone())))
                .collect(),
        }
    }
}

impl ClientContext for Deliveries {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        crate::Quiet.log(level, fac, log_message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        crate::Quiet.error(error, reason);
    }
}

impl Deliveries {
    /// Counts one delivery report of a record to `topic` sent in
    /// transaction number `transaction`: a report of an earlier (aborted)
    /// transaction, which librdkafka may deliver after the next one began,
    /// counts for nothing.
    fn report(&self, transaction: usize, topic: &str, outcome: Result<(), String>) {
        let mut tally = self.lock();
        if tally.transaction != transaction {
            return;
        }
        let Some(t) = tally.by_topic.get_mut(topic) else {
            return;
        };
        match outcome {
            Ok(()) => t.delivered += 1,
            Err(error) => {
                t.first_error.get_or_insert(error);
            }
        }
    }
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = usize;
    fn delivery(&self, result: &DeliveryResult<'_>, transaction: usize) {
        let (topic, outcome) = match result {
            Ok(message) => (message.topic(), Ok(())),
            Err((error, message)) => (message.topic(), Err(error.to_string())),
        };
        self.report(transaction, topic, outcome);
    }
}

/// What became of a transaction that did not commit.
#[derive(Debug, thiserror::Error)]
pub enum TxnFailure {
    /// The transaction was aborted: none of its records is visible. Send
    /// them again.
    #[error("transaction aborted: {0}")]
    Aborted(KafkaError),
    /// The producer failed fatally and was rebuilt (or could not be). If
    /// `committed_maybe`, the commit had been sent: the coordinator may have
    /// completed it, so the caller reads back what is visible (its progress
    /// record) before sending again; otherwise none of the records is.
    #[error("producer rebuilt after a fatal error: {error}")]
    Rebuilt {
        error: KafkaError,
        committed_maybe: bool,
    },
    /// Another producer with the same `transactional.id` took over. This
    /// one is dropped and must not be rebuilt: the caller stops.
    #[error("producer fenced by a newer instance: {0}")]
    Fenced(KafkaError),
}

impl TxnFailure {
    pub fn error(&self) -> &KafkaError {
        match self {
            TxnFailure::Aborted(e)
            | TxnFailure::Fenced(e)
            | TxnFailure::Rebuilt { error: e, .. } => e,
        }
    }
}

/// An idempotent producer with a stable `transactional.id`.
pub struct TransactionalProducer {
    inner: Option<ThreadedProducer<Deliveries>>,
    deliveries: Deliveries,
    settings: KafkaSettings,
    id: String,
    timeout: Duration,
    on_commit_retry: Option<std::sync::Arc<dyn Fn() -> bool + Send + Sync>>,
}

impl TransactionalProducer {
    /// Creates the producer and initialises its transactions, which fences
    /// any earlier producer with the same `transactional_id` and aborts the
    /// transaction it left open. `timeout` bounds each blocking call.
    pub fn new(
        settings: &KafkaSettings,
        transactional_id: &str,
        timeout: Duration,
    ) -> Result<Self, KafkaError> {
        let mut producer = TransactionalProducer {
            inner: None,
            deliveries: Deliveries::default(),
            settings: settings.clone(),
            id: transactional_id.to_string(),
            timeout,
            on_commit_retry: None,
        };
        producer.connect()?;
        Ok(producer)
    }

    /// Also calls `on_retry` each time a commit is not acknowledged in
    /// time, before it is sent again (the coordinator slow or unreachable):
    /// such retries happen inside [`send_transaction`](Self::send_transaction),
    /// which returns only once the commit succeeds or fails for good, or
    /// `on_retry` says `false` (the caller stops): the commit is then given
    /// up in doubt ([`TxnFailure::Rebuilt`] with `committed_maybe`).
    pub fn with_commit_retries(
        mut self,
        on_retry: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        self.on_commit_retry = Some(std::sync::Arc::new(on_retry));
        self
    }

    /// Makes sure a producer is up, (re)initialising its transactions if it
    /// had to be dropped: on return, whatever an earlier producer with this
    /// id left open is committed or aborted.
    pub fn ready(&mut self) -> Result<(), KafkaError> {
        self.connect().map(|_| ())
    }

    pub fn transactional_id(&self) -> &str {
        &self.id
    }

    fn connect(&mut self) -> Result<&ThreadedProducer<Deliveries>, KafkaError> {
        if self.inner.is_none() {
            let producer: ThreadedProducer<Deliveries> =
                transactional_config(&self.settings, &self.id, self.timeout)
                    .create_with_context(self.deliveries.clone())
                    .map_err(|source| {
                        KafkaError::client("transactional producer", &self.settings, source)
                    })?;
            producer
                .init_transactions(self.timeout)
                .map_err(|source| self.txn_error(source))?;
            self.inner = Some(producer);
        }
        match &self.inner {
            Some(p) => Ok(p),
            None => Err(KafkaError::Timeout {
                operation: "producer start".into(),
                after: self.timeout,
            }),
        }
    }

    fn txn_error(&self, source: rdkafka::error::KafkaError) -> KafkaError {
        KafkaError::Transaction {
            transactional_id: self.id.clone(),
            source,
            failed: Box::default(),
        }
    }

    /// Writes `records` in one transaction and commits it. On `Err` none of
    /// them is visible to `read_committed` consumers and the producer is
    /// ready for the next attempt (rebuilt if it had to be).
    pub fn send_transaction(&mut self, records: &[OutRecord]) -> Result<(), TxnFailure> {
        if records.is_empty() {
            return Ok(());
        }
        let mut committing = false;
        let result = self.try_transaction(records, &mut committing);
        match result {
            Ok(()) => Ok(()),
            // Fenced, however the news came: as the transaction's error, or
            // as another one (a record refused with `__FATAL` while being
            // queued, a failed begin or abort) after librdkafka learned it.
            // Rebuilding would fence the newer instance in turn.
            Err(e) if is_fenced(&e) || self.fatally_fenced() => {
                self.inner = None;
                Err(TxnFailure::Fenced(e))
            }
            Err(e) if is_fatal(&e) => {
                tracing::warn!(error = %e, transactional_id = %self.id, "fatal transactional error: rebuilding the producer");
                self.inner = None;
                if let Err(again) = self.connect() {
                    tracing::warn!(error = %again, "rebuilding the transactional producer failed; will retry");
                }
                Err(TxnFailure::Rebuilt {
                    error: e,
                    committed_maybe: committing,
                })
            }
            Err(e) => {
                let aborted = self
                    .inner
                    .as_ref()
                    .map(|p| p.abort_transaction(self.timeout));
                if let Some(Err(abort)) = aborted {
                    // Fenced while aborting: stop, do not rebuild.
                    let abort = self.txn_error(abort);
                    if is_fenced(&abort) || self.fatally_fenced() {
                        self.inner = None;
                        return Err(TxnFailure::Fenced(abort));
                    }
                    // An abort that fails leaves the producer in an
                    // unknown state: start over with a new one.
                    tracing::warn!(error = %abort, "abort failed: rebuilding the producer");
                    self.inner = None;
                    if committing {
                        // The commit was sent and not taken back: the next
                        // producer's start may complete it, so the records
                        // may be visible. In doubt, not aborted.
                        return Err(TxnFailure::Rebuilt {
                            error: e,
                            committed_maybe: true,
                        });
                    }
                }
                Err(TxnFailure::Aborted(e))
            }
        }
    }

    /// Whether librdkafka holds this producer fatally fenced (a newer
    /// producer with its `transactional.id` took over), whatever error
    /// reported it.
    fn fatally_fenced(&self) -> bool {
        self.inner
            .as_ref()
            .and_then(|p| p.client().fatal_error())
            .is_some_and(|(code, _)| {
                matches!(
                    code,
                    RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced
                )
            })
    }

    /// Makes librdkafka hold this producer fenced, as a newer producer's
    /// start does when the broker answers this one with PRODUCER_FENCED,
    /// through librdkafka's own fault-injection hook
    /// (`rd_kafka_test_fatal_error`): the error then reaches the caller as
    /// whatever the next call fails with, not always as a fencing.
    #[cfg(feature = "fault-injection")]
    pub fn fail_fenced(&mut self) -> Result<(), KafkaError> {
        use rdkafka::types::RDKafkaRespErr;
        let producer = self.connect()?;
        // SAFETY: the client pointer is valid while the producer lives,
        // and librdkafka copies the NUL-terminated reason before returning.
        unsafe {
            rdkafka::bindings::rd_kafka_test_fatal_error(
                producer.client().native_ptr(),
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
                c"fenced by a test".as_ptr(),
            );
        }
        Ok(())
    }

    /// Sets `committing` once the commit has been sent.
    fn try_transaction(
        &mut self,
        records: &[OutRecord],
        committing: &mut bool,
    ) -> Result<(), KafkaError> {
        let timeout = self.timeout;
        let id = self.id.clone();
        let on_commit_retry = self.on_commit_retry.clone();
        let deliveries = self.deliveries.clone();
        // A failure names the topics whose records were not delivered.
        let txn = |source| KafkaError::Transaction {
            transactional_id: id.clone(),
            source,
            failed: Box::new(deliveries.undelivered()),
        };
        let producer = self.connect()?;
        let transaction = deliveries.begin();
        producer.begin_transaction().map_err(&txn)?;
        for record in records {
            // Counted first: its delivery report may come in at once.
            deliveries.sent(&record.topic);
            enqueue(producer, record, transaction, timeout)?;
        }
        // Commit flushes every record first; a failed delivery fails it. A
        // retriable failure (a timeout) is retried until it succeeds or
        // turns abortable or fatal: librdkafka refuses an abort while a
        // commit is in flight, and a commit given up on may still complete.
        *committing = true;
        let mut attempts: u64 = 0;
        loop {
            match producer.commit_transaction(timeout) {
                Ok(()) => return Ok(()),
                Err(rdkafka::error::KafkaError::Transaction(e))
                    if e.is_retriable() && !e.txn_requires_abort() && !e.is_fatal() =>
                {
                    attempts += 1;
                    if on_commit_retry.as_ref().is_some_and(|go_on| !go_on()) {
                        tracing::warn!(error = %e, attempts, transactional_id = %id, "commit not acknowledged yet; given up (stopping): in doubt");
                        return Err(txn(rdkafka::error::KafkaError::Transaction(e)));
                    }
                    tracing::warn!(error = %e, attempts, transactional_id = %id, "commit not acknowledged yet; retrying it");
                }
                Err(source) => return Err(txn(source)),
            }
        }
    }
}

/// The client configuration of a transactional producer with id `id`:
/// kindred's defaults, the pass-through properties over them, and a
/// message timeout (`timeout`, or the one passed through) no longer than
/// the transaction timeout, which librdkafka requires of a transactional
/// producer (a `message.timeout.ms` raised for the ingest services'
/// plain producers, or a `transaction.timeout.ms` lowered, stopped the
/// resolver at start, naming a property the operator may not have set).
pub(crate) fn transactional_config(
    settings: &KafkaSettings,
    id: &str,
    timeout: Duration,
) -> rdkafka::ClientConfig {
    let timeout_ms = timeout.as_millis().to_string();
    let mut defaults: Vec<(&str, &str)> = crate::producer::PRODUCER_DEFAULTS.to_vec();
    defaults.extend([
        ("transactional.id", id),
        ("transaction.timeout.ms", "60000"),
        ("message.timeout.ms", &timeout_ms),
        ("queue.buffering.max.kbytes", "65536"),
    ]);
    let mut config = settings.client_config(&defaults);
    // `delivery.timeout.ms` is librdkafka's alias of `message.timeout.ms`:
    // passed through, it stands for it (the two in one configuration are
    // applied in no fixed order), and goes.
    if let Some(alias) = config.get("delivery.timeout.ms").map(str::to_string) {
        config.remove("delivery.timeout.ms");
        config.set("message.timeout.ms", alias);
    }
    let ms = |key: &str| config.get(key).and_then(|v| v.trim().parse::<u64>().ok());
    if let (Some(message), Some(transaction)) =
        (ms("message.timeout.ms"), ms("transaction.timeout.ms"))
    {
        if message > transaction {
            config.set("message.timeout.ms", transaction.to_string());
        }
    }
    config
}

/// Queues one record, waiting while the local queue is full.
fn enqueue(
    producer: &ThreadedProducer<Deliveries>,
    record: &OutRecord,
    transaction: usize,
    timeout: Duration,
) -> Result<(), KafkaError> {
    let mut base = BaseRecord::<[u8], [u8], usize>::with_opaque_to(&record.topic, transaction)
        .headers(record.kafka_headers());
    base.payload = record.value();
    if let Some(key) = &record.key {
        base = base.key(key);
    }
    if let Some(ts) = record.timestamp_ms {
        base = base.timestamp(ts);
    }
    let deadline = Instant::now() + timeout;
    loop {
        match producer.send(base) {
            Ok(()) => return Ok(()),
            Err((
                rdkafka::error::KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull),
                back,
            )) if Instant::now() < deadline => {
                base = back;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err((source, _)) => {
                return Err(KafkaError::Delivery {
                    topic: record.topic.clone(),
                    source,
                })
            }
        }
    }
}

/// Whether a newer producer with the same `transactional.id` fenced this
/// one (a fatal error; not INVALID_PRODUCER_EPOCH, which older brokers also
/// give for a transaction that timed out: that one rebuilds).
fn is_fenced(error: &KafkaError) -> bool {
    match error {
        KafkaError::Transaction {
            source: rdkafka::error::KafkaError::Transaction(e),
            ..
        } => {
            e.is_fatal()
                && matches!(
                    e.code(),
                    RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced
                )
        }
        _ => false,
    }
}

fn is_fatal(error: &KafkaError) -> bool {
    match error {
        KafkaError::Transaction {
            source: rdkafka::error::KafkaError::Transaction(e),
            ..
        } => e.is_fatal(),
        // The producer could not be created or initialised: start over.
        KafkaError::Client { .. } => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message timeout passed through above the transaction timeout (or
    /// a transaction timeout below kindred's message timeout) is cut to the
    /// transaction timeout: librdkafka refuses to make the producer
    /// otherwise. Made without a broker.
    #[test]
    fn a_message_timeout_above_the_transaction_timeout_is_cut_to_it() {
        let with = crate::settings::unreachable_with;
        let made = |settings: &KafkaSettings| {
            let config = transactional_config(settings, "t.publisher", Duration::from_secs(30));
            let message = config.get("message.timeout.ms").map(str::to_string);
            let created = config.create::<rdkafka::producer::BaseProducer>();
            (message, created.map(|_| ()).map_err(|e| e.to_string()))
        };
        assert_eq!(
            made(&with(&[("message.timeout.ms", "300000")])),
            (Some("60000".into()), Ok(()))
        );
        assert_eq!(
            made(&with(&[("transaction.timeout.ms", "20000")])),
            (Some("20000".into()), Ok(()))
        );
        assert_eq!(made(&with(&[])), (Some("30000".into()), Ok(())));
        // Its alias, the same: made every time (librdkafka applies the
        // properties of a configuration in no fixed order).
        for _ in 0..16 {
            assert_eq!(
                made(&with(&[("delivery.timeout.ms", "300000")])),
                (Some("60000".into()), Ok(()))
            );
        }
    }

    /// The failed transaction names the topics its records did not reach,
    /// with the first error for each; a delivery report of an earlier,
    /// aborted transaction (librdkafka may deliver it after the next one
    /// began) counts neither as delivered nor as failed.
    #[test]
    fn undelivered_records_are_counted_per_topic_of_the_transaction_in_flight() {
        let d = Deliveries::default();
        let aborted = d.begin();
        d.sent("profiles");
        let current = d.begin();
        assert_ne!(aborted, current);
        for _ in 0..3 {
            d.sent("profiles");
        }
        d.sent("review");
        // Late reports of the aborted transaction's record.
        d.report(aborted, "profiles", Ok(()));
        d.report(aborted, "review", Err("stale".into()));
        d.report(current, "profiles", Ok(()));
        d.report(current, "profiles", Err("Local: Message timed out".into()));
        d.report(current, "profiles", Err("a later error".into()));
        let failed = d.undelivered();
        assert_eq!(failed.topics().collect::<Vec<_>>(), ["profiles", "review"]);
        assert_eq!(
            failed.to_string(),
            "2 to profiles (Local: Message timed out); 1 to review (not acknowledged before the transaction failed)"
        );
        // Everything delivered: nothing to name.
        d.report(current, "profiles", Ok(()));
        d.report(current, "profiles", Ok(()));
        d.report(current, "review", Ok(()));
        assert!(d.undelivered().is_empty());
    }
}
