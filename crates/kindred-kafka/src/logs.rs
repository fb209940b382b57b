//! librdkafka's logs and client errors, each distinct message at most once
//! per [`EVERY`]: a broker down for an hour is a line a minute per thing
//! wrong (with how many like it were held back), not a thousand lines a
//! minute from every client's reconnect loop. Every kindred client context
//! logs through here ([`Quiet`] for those that need nothing else).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::ClientContext;

/// How long a message is held back after it was logged.
pub const EVERY: Duration = Duration::from_secs(30);

/// Distinct messages remembered; past it the memory starts over (a flood of
/// ever-new messages is logged, never held in memory).
const REMEMBERED: usize = 1024;

/// Messages seen: when each was last logged, and how many like it were
/// held back since.
#[derive(Default)]
pub(crate) struct Throttle {
    seen: HashMap<String, (Instant, u64)>,
}

impl Throttle {
    /// Whether `message` may be logged at `now`, and if so how many like it
    /// were held back since it last was. Messages alike but for their
    /// numbers (a counter, a time in ms, a port) are one.
    pub(crate) fn admit(&mut self, message: &str, now: Instant) -> Option<u64> {
        let key: String = message.chars().filter(|c| !c.is_ascii_digit()).collect();
        if self.seen.len() >= REMEMBERED && !self.seen.contains_key(&key) {
            self.seen.clear();
        }
        match self.seen.get_mut(&key) {
            Some((last, held)) if now.duration_since(*last) < EVERY => {
                *held += 1;
                None
            }
            Some((last, held)) => {
                *last = now;
                Some(std::mem::take(held))
            }
            None => {
                self.seen.insert(key, (now, 0));
                Some(0)
            }
        }
    }
}

/// The process's throttle, shared by its clients: the same broker down
/// seen by a consumer and a producer is one line. For a service's own log
/// lines about client errors too: `Some(n)` when `message` may be logged
/// now, `n` like it having been held back since it last was.
pub fn admit(message: &str) -> Option<u64> {
    static THROTTLE: OnceLock<Mutex<Throttle>> = OnceLock::new();
    THROTTLE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .admit(message, Instant::now())
}

fn held_back(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(
            " ({n} like it in the last {} s not logged)",
            EVERY.as_secs()
        )
    }
}

/// A librdkafka log line, at its level, throttled.
pub(crate) fn log(level: RDKafkaLogLevel, fac: &str, message: &str) {
    let text = format!("{fac} {message}");
    let Some(held) = admit(&text) else { return };
    let held = held_back(held);
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => tracing::error!(target: "librdkafka", "{text}{held}"),
        RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", "{text}{held}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!(target: "librdkafka", "{text}{held}")
        }
        RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", "{text}{held}"),
    }
}

/// A client error event, throttled. Every broker down is said once more
/// in words an operator can act on.
pub(crate) fn client_error(error: &KafkaError, reason: &str) {
    let text = format!("{error}: {reason}");
    let Some(held) = admit(&text) else { return };
    let hint = match error.rdkafka_error_code() {
        Some(rdkafka::types::RDKafkaErrorCode::AllBrokersDown) => {
            " (no broker in kafka.brokers answers: check the addresses, the network and the brokers; kindred retries)"
        }
        _ => "",
    };
    tracing::error!(target: "librdkafka", "Kafka client error: {text}{hint}{}", held_back(held));
}

/// A client context with nothing of its own but throttled logs.
#[derive(Clone, Copy, Default)]
pub struct Quiet;

impl ClientContext for Quiet {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        log(level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        client_error(&error, reason);
    }
}

impl ProducerContext for Quiet {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

impl rdkafka::consumer::ConsumerContext for Quiet {}

/// A client context for a command that reports itself whether its request
/// went ([`crate::Producer::for_one_request`]): librdkafka's logs and
/// client errors (a broker down, reconnects) go to debug level, throttled,
/// rather than flooding the terminal at error level while the command
/// waits; the command's own error says what failed.
#[derive(Clone, Copy, Default)]
pub struct Hushed;

impl ClientContext for Hushed {
    fn log(&self, _: RDKafkaLogLevel, fac: &str, log_message: &str) {
        log(RDKafkaLogLevel::Debug, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let text = format!("{error}: {reason}");
        if let Some(held) = admit(&text) {
            tracing::debug!(target: "librdkafka", "Kafka client error: {text}{}", held_back(held));
        }
    }
}

impl ProducerContext for Hushed {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_logged_once_per_window_with_how_many_were_held_back() {
        let mut t = Throttle::default();
        let t0 = Instant::now();
        let down = |ms: u32| {
            format!("127.0.0.1:9/bootstrap: Connect failed (after {ms}ms in state CONNECT)")
        };
        assert_eq!(t.admit(&down(0), t0), Some(0));
        for i in 1..100 {
            assert_eq!(
                t.admit(&down(i), t0 + Duration::from_millis(u64::from(i))),
                None
            );
        }
        // Another message is its own.
        assert_eq!(t.admit("1/1 brokers are down", t0), Some(0));
        assert_eq!(t.admit(&down(7), t0 + EVERY), Some(99));
        assert_eq!(t.admit(&down(7), t0 + EVERY), None);
        assert_eq!(t.admit(&down(7), t0 + EVERY * 2), Some(1));
    }

    #[test]
    fn a_flood_of_new_messages_is_not_remembered_for_ever() {
        let mut t = Throttle::default();
        let now = Instant::now();
        for i in 0..(REMEMBERED * 3) {
            let word: String = format!("{i:x}")
                .chars()
                .map(|c| ((c as u8) + 17) as char)
                .collect();
            assert_eq!(t.admit(&word, now), Some(0));
        }
        assert!(t.seen.len() <= REMEMBERED);
    }
}
