//! Watching the pipeline's outputs: every profile change (when did the
//! event that caused it become visible downstream?) and every dead letter.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use kindred_config::Config;
use kindred_eval::ChangeLog;
use kindred_kafka::consumer;
use kindred_kafka::rdkafka::message::Message;
use kindred_pipeline::services::kafka_settings;
use kindred_pipeline::{Schemas, Shutdown};
use kindred_schema::SchemaKind;

use crate::LoadError;

/// What the observer has seen so far.
pub(crate) struct Observed {
    pub changelog: ChangeLog,
    /// Produce -> first profile change of the event, microseconds.
    pub latency_us: Histogram<u64>,
    /// When the last distinct event was done: its first profile change
    /// seen, or its dead letter (the run's rate counts both, so its time
    /// must too).
    pub last_done: Option<Instant>,
    pub changes: BTreeMap<String, u64>,
    /// Distinct events dead-lettered (by the letter's key).
    pub dead_letters: u64,
    pub dead_letter_keys: std::collections::HashSet<Vec<u8>>,
    pub unreadable: u64,
    /// When the observer last read a message of either topic.
    pub last_message: Option<Instant>,
}

impl Observed {
    /// A dead letter read at `now`, keyed by its event's source id: counted
    /// per distinct event (a rejected event delivered twice is one), and
    /// the first one of an event marks it done.
    pub fn note_dead_letter(&mut self, key: Option<&[u8]>, now: Instant) {
        let first = match key {
            Some(key) => self.dead_letter_keys.insert(key.to_vec()),
            None => true,
        };
        if first {
            self.dead_letters += 1;
            self.last_done = Some(now);
        }
    }
}

/// Whether the observer has read what the services published before they
/// stopped at `stopped`: `quiet` has passed since the stop and since the
/// last message it read (what a service flushed as it stopped reaches a
/// reader within that; a late redirect read or not changes the figures).
pub(crate) fn drained(
    stopped: Instant,
    last_message: Option<Instant>,
    now: Instant,
    quiet: Duration,
) -> bool {
    now.saturating_duration_since(stopped) >= quiet
        && last_message.is_none_or(|t| now.saturating_duration_since(t) >= quiet)
}

/// State shared by the producer loop and the observer.
pub(crate) struct Shared {
    /// Event id -> when it was first handed to the producer; removed when its
    /// first profile change is seen.
    pub produced: Mutex<HashMap<String, Instant>>,
    pub observed: Mutex<Observed>,
}

impl Shared {
    pub fn new() -> Result<Arc<Self>, LoadError> {
        // 1 µs to 1 hour at 3 significant digits.
        let latency_us = Histogram::new_with_bounds(1, 3_600_000_000, 3)
            .map_err(|e| LoadError::Invalid(format!("latency histogram: {e}")))?;
        Ok(Arc::new(Shared {
            produced: Mutex::new(HashMap::new()),
            observed: Mutex::new(Observed {
                changelog: ChangeLog::new(),
                latency_us,
                last_done: None,
                changes: BTreeMap::new(),
                dead_letters: 0,
                dead_letter_keys: Default::default(),
                unreadable: 0,
                last_message: None,
            }),
        }))
    }
}

/// Reads the profile and dead-letter topics from the start until `stop`.
pub(crate) async fn observe(
    config: Config,
    shared: Arc<Shared>,
    stop: Shutdown,
) -> Result<(), LoadError> {
    let profiles = config.topics.profiles.as_str();
    let dead_letter = config.topics.dead_letter.as_str();
    let reader = consumer::read_from_start(
        &kafka_settings(&config),
        &[profiles, dead_letter],
        Duration::from_secs(10),
    )?;
    let schemas = Schemas::for_own_topics(&config, &[]).await?;
    loop {
        let message = tokio::select! {
            _ = stop.wait() => return Ok(()),
            m = reader.recv() => m,
        };
        let message = match message {
            Ok(m) => m,
            Err(kindred_kafka::rdkafka::error::KafkaError::PartitionEOF(_)) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "observer: consume error");
                continue;
            }
        };
        let now = Instant::now();
        lock(&shared.observed).last_message = Some(now);
        if message.topic() == dead_letter {
            lock(&shared.observed).note_dead_letter(message.key(), now);
            continue;
        }
        // Patiently, as `eval --profile-topic` reads: a change given up at a
        // registry's hiccup would leave the run's change log short.
        if let Err(e) = schemas.learn_patiently(message.payload()).await {
            tracing::warn!(error = %e, "observer: cannot learn a schema id from the registry");
        }
        let decoded = message
            .payload()
            .ok_or(kindred_schema::DecodeError::Empty)
            .and_then(|p| schemas.decode_own(SchemaKind::ProfileChange, p));
        let change: kindred_model::ProfileChange = match decoded {
            Ok(c) => c,
            Err(_) => {
                lock(&shared.observed).unreadable += 1;
                continue;
            }
        };
        let mut observed = lock(&shared.observed);
        *observed
            .changes
            .entry(change.change_type.as_str().to_string())
            .or_default() += 1;
        // An event lands with its own change or, read first from another
        // partition, moved by a later split: its latency counts either way.
        let arriving: Vec<&String> = std::iter::once(&change.cause_event_id)
            .chain(&change.moved_event_ids)
            .filter(|e| !observed.changelog.has_landed(e))
            .collect();
        // In the resolver's order across partitions, as `eval
        // --profile-topic` reads them.
        let seq = kindred_pipeline::services::publish::change_seq(&message);
        observed.changelog.apply_at(&change, seq);
        let mut any = false;
        for event in arriving {
            if !observed.changelog.has_landed(event) {
                continue;
            }
            any = true;
            if let Some(at) = lock(&shared.produced).remove(event) {
                let us = now.saturating_duration_since(at).as_micros() as u64;
                observed.latency_us.saturating_record(us.max(1));
            }
        }
        if any {
            observed.last_done = Some(now);
        }
    }
}

/// Locks a mutex, carrying on with the data if another thread panicked
/// while holding it (the counts are still the best we have).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The run's rate counts dead letters, so its time runs to the last
    /// one: events rejected after the last landing made the rate look up
    /// to several times higher than it was.
    #[test]
    fn the_observer_reads_on_until_the_topics_are_quiet_after_the_stop() {
        let (t0, quiet) = (Instant::now(), Duration::from_secs(2));
        let at = |s: u64| t0 + Duration::from_secs(s);
        // Nothing read for long, but the stop was just now: wait.
        assert!(!drained(at(10), Some(at(1)), at(11), quiet));
        assert!(drained(at(10), Some(at(1)), at(12), quiet));
        // The services' last flush arriving after the stop: wait for it.
        assert!(!drained(at(10), Some(at(11)), at(12), quiet));
        assert!(drained(at(10), Some(at(11)), at(13), quiet));
        assert!(drained(at(10), None, at(12), quiet));
    }

    #[test]
    fn a_dead_letter_after_the_last_landing_ends_the_run_later() {
        let shared = Shared::new().expect("shared");
        let mut observed = lock(&shared.observed);
        let t0 = Instant::now();
        observed.last_done = Some(t0 + Duration::from_secs(1));
        observed.note_dead_letter(Some(b"T-9"), t0 + Duration::from_secs(10));
        assert_eq!(observed.last_done, Some(t0 + Duration::from_secs(10)));
        // The same letter again is the same event, done before.
        observed.note_dead_letter(Some(b"T-9"), t0 + Duration::from_secs(20));
        assert_eq!(observed.dead_letters, 1);
        assert_eq!(observed.last_done, Some(t0 + Duration::from_secs(10)));
    }
}
