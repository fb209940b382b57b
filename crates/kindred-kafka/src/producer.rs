use std::time::Duration;

use futures_util::future::try_join_all;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::ClientContext;

use crate::{KafkaError, KafkaSettings};

/// A record to produce.
#[derive(Debug, Clone)]
pub struct OutRecord {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    /// The value. Empty: the record is a tombstone (a null value, which a
    /// compacted topic's cleaner removes together with the key's history).
    pub payload: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
    /// The record's Kafka timestamp in milliseconds since the epoch; `None`:
    /// the time of producing. Derived records carry their input's timestamp
    /// (as Kafka Streams does), so lag can be measured end to end.
    pub timestamp_ms: Option<i64>,
}

impl OutRecord {
    /// A tombstone: `key` with a null value.
    pub fn tombstone(topic: &str, key: Vec<u8>) -> Self {
        OutRecord {
            topic: topic.to_string(),
            key: Some(key),
            payload: Vec::new(),
            headers: Vec::new(),
            timestamp_ms: None,
        }
    }

    /// The value as librdkafka takes it: none for a tombstone.
    pub(crate) fn value(&self) -> Option<&[u8]> {
        (!self.payload.is_empty()).then_some(self.payload.as_slice())
    }

    /// The record's headers as librdkafka takes them.
    pub(crate) fn kafka_headers(&self) -> OwnedHeaders {
        let mut headers = OwnedHeaders::new_with_capacity(self.headers.len());
        for (key, value) in &self.headers {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
        headers
    }
}

/// An idempotent producer (`acks=all`, `enable.idempotence=true`): a record
/// is only reported as sent once every in-sync replica has it, and retries
/// never write it twice.
///
/// A service's producer ([`Producer::new`]) logs librdkafka's complaints
/// through [`crate::Quiet`]; a command's one request
/// ([`Producer::for_one_request`]) through [`crate::Hushed`].
#[derive(Clone)]
pub struct Producer<C: ClientContext + 'static = crate::Quiet> {
    inner: FutureProducer<C>,
    brokers: String,
}

/// The producer settings kindred sets, but for `message.timeout.ms`; the
/// transactional producer starts from them too.
///
/// No `partitioner`: librdkafka's own (`consistent_random`, CRC32 of the
/// key), which earlier releases placed every key with. A compacted topic
/// must keep a key on one partition for good (an erasure's tombstone
/// removes only the records of its own partition), so the publisher
/// records the partitioner it places keys with and refuses another one;
/// a new deployment may choose Java's (`[kafka.client] partitioner =
/// "murmur2_random"`, which Kafka Streams, ksqlDB and Connect compute)
/// before it first publishes (docs/operations.md).
///
/// `allow.auto.create.topics` off: librdkafka's producer asks the broker to
/// create a topic it does not know (its default), which a broker with
/// `auto.create.topics.enable` (Apache Kafka's default) does with its own
/// defaults: a decisions topic with `cleanup.policy=delete` (gone after a
/// week, and `kindred rebuild` with it), a decision-request topic of many
/// partitions, a canonical topic of one replica. `kindred topics create`
/// makes them as they must be; until then a send fails and is retried.
pub(crate) const PRODUCER_DEFAULTS: [(&str, &str); 5] = [
    ("enable.idempotence", "true"),
    ("acks", "all"),
    ("linger.ms", "5"),
    ("compression.type", "lz4"),
    ("allow.auto.create.topics", "false"),
];

/// A producer's configuration: [`PRODUCER_DEFAULTS`] and `message_timeout`,
/// then the pass-through properties, which win over both.
pub(crate) fn producer_config(
    settings: &KafkaSettings,
    message_timeout_ms: u128,
) -> rdkafka::ClientConfig {
    let mut config = settings.client_config(&PRODUCER_DEFAULTS);
    crate::settings::set_property(
        &mut config,
        "message.timeout.ms",
        &message_timeout_ms.to_string(),
    );
    settings.pass_through(&mut config);
    config
}

impl Producer {
    pub fn new(settings: &KafkaSettings) -> Result<Self, KafkaError> {
        let inner = producer_config(settings, 120_000)
            .create_with_context(crate::Quiet)
            .map_err(|source| KafkaError::client("producer", settings, source))?;
        Ok(Producer {
            inner,
            brokers: settings.brokers.clone(),
        })
    }
}

impl Producer<crate::Hushed> {
    /// A producer for a command that sends one request and says itself
    /// whether it went: a record not acknowledged within `timeout` fails
    /// (librdkafka's `message.timeout.ms`, at least 1 s; a
    /// `[kafka.client]` value wins), and librdkafka's reconnect complaints
    /// are logged at debug level only ([`crate::Hushed`]). Check first with
    /// [`Producer::reach`] that a broker answers.
    pub fn for_one_request(
        settings: &KafkaSettings,
        timeout: Duration,
    ) -> Result<Self, KafkaError> {
        let ms = timeout.as_millis().clamp(1000, i32::MAX as u128);
        let inner = producer_config(settings, ms)
            .create_with_context(crate::Hushed)
            .map_err(|source| KafkaError::client("producer", settings, source))?;
        Ok(Producer {
            inner,
            brokers: settings.brokers.clone(),
        })
    }
}

impl<C: ClientContext + 'static> Producer<C> {
    /// Whether a broker answers within `timeout`: a metadata request for
    /// `topic` (which need not exist). [`KafkaError::Unreachable`] when
    /// none did: nothing this producer sends can have left the process.
    pub async fn reach(&self, topic: &str, timeout: Duration) -> Result<(), KafkaError> {
        let producer = self.inner.clone();
        let name = topic.to_string();
        let asked = tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(&name), timeout)
                .map(|_| ())
        })
        .await;
        match asked {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(KafkaError::Unreachable {
                brokers: self.brokers.clone(),
                after: timeout,
                reason: source.to_string(),
            }),
            Err(e) => Err(KafkaError::Unreachable {
                brokers: self.brokers.clone(),
                after: timeout,
                reason: format!("the metadata request stopped: {e}"),
            }),
        }
    }

    /// Sends every record and waits until the broker acknowledged all of
    /// them. Returns the first failure; records are sent concurrently, so on
    /// failure some others may have been written (callers retry the batch;
    /// downstream de-duplicates).
    pub async fn send_all(&self, records: &[OutRecord]) -> Result<(), KafkaError> {
        let sends = records.iter().map(|r| self.send(r));
        try_join_all(sends).await.map(|_| ())
    }

    /// Sends every record and waits for each one's acknowledgement or
    /// failure: the outcomes, in the order of `records`. (Resending only
    /// the failed ones rewrites none acknowledged; one that timed out may
    /// have been written and is written again, which readers de-duplicate.)
    pub async fn send_each(&self, records: &[OutRecord]) -> Vec<Result<(i32, i64), KafkaError>> {
        futures_util::future::join_all(records.iter().map(|r| self.send(r))).await
    }

    /// Sends one record and waits for the broker's acknowledgement.
    pub async fn send(&self, record: &OutRecord) -> Result<(i32, i64), KafkaError> {
        let mut fr = FutureRecord::<[u8], [u8]>::to(&record.topic).headers(record.kafka_headers());
        fr.payload = record.value();
        if let Some(key) = &record.key {
            fr = fr.key(key);
        }
        if let Some(ts) = record.timestamp_ms {
            fr = fr.timestamp(ts);
        }
        match self.inner.send(fr, Duration::from_secs(30)).await {
            Ok(delivery) => Ok((delivery.partition, delivery.offset)),
            Err((source, _)) => Err(KafkaError::Delivery {
                topic: record.topic.clone(),
                source,
            }),
        }
    }

    /// The fatal error that ended this producer, if one did: after it no
    /// send succeeds ([`KafkaError::Fatal`]).
    pub fn fatal_error(&self) -> Option<KafkaError> {
        self.inner
            .client()
            .fatal_error()
            .map(|(code, reason)| KafkaError::Fatal {
                code: format!("{code:?}"),
                reason,
            })
    }

    /// Makes librdkafka fail this producer fatally, as it does when the
    /// broker refuses its producer id or an idempotent sequence is lost,
    /// through librdkafka's own fault-injection hook
    /// (`rd_kafka_test_fatal_error`): the real client, in the state such a
    /// failure leaves it in, for tests of what a service does then.
    #[cfg(feature = "fault-injection")]
    pub fn fail_fatally(&self, reason: &str) {
        use rdkafka::types::RDKafkaRespErr;
        let reason = std::ffi::CString::new(reason.replace('\0', " ")).unwrap_or_default();
        // SAFETY: the client pointer is valid while `self.inner` lives, and
        // librdkafka copies the NUL-terminated reason before returning.
        unsafe {
            rdkafka::bindings::rd_kafka_test_fatal_error(
                self.inner.client().native_ptr(),
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                reason.as_ptr(),
            );
        }
    }

    /// Waits up to `timeout` for queued records to be delivered.
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.inner
            .flush(timeout)
            .map_err(KafkaError::op("producer flush"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every producer kindred makes asks no broker to create a topic
    /// (`kindred topics create` makes them with their policies), unless a
    /// pass-through property says otherwise; librdkafka takes the setting.
    #[test]
    fn producers_do_not_create_topics_unless_told_to() {
        let with = crate::settings::unreachable_with;
        let configs = |settings: &KafkaSettings| {
            [
                producer_config(settings, 120_000),
                crate::transactional::transactional_config(
                    settings,
                    "t.publisher",
                    Duration::from_secs(30),
                ),
            ]
        };
        for config in configs(&with(&[])) {
            assert_eq!(config.get("allow.auto.create.topics"), Some("false"));
            assert!(config.create::<rdkafka::producer::BaseProducer>().is_ok());
        }
        for config in configs(&with(&[("allow.auto.create.topics", "true")])) {
            assert_eq!(config.get("allow.auto.create.topics"), Some("true"));
        }
    }

    /// A property passed through under another spelling than kindred's
    /// own setting of it replaces that setting: both in one configuration
    /// were applied in no fixed order, so `delivery.timeout.ms`,
    /// `compression.codec` or `queue.buffering.max.ms` took effect on some
    /// starts only.
    #[test]
    fn a_property_passed_through_under_an_alias_replaces_kindreds() {
        let settings = crate::settings::unreachable_with(&[
            ("delivery.timeout.ms", "30000"),
            ("compression.codec", "zstd"),
            ("queue.buffering.max.ms", "50"),
        ]);
        let config = producer_config(&settings, 120_000);
        let map = config.config_map();
        for (kindreds, passed) in [
            ("message.timeout.ms", "delivery.timeout.ms"),
            ("compression.type", "compression.codec"),
            ("linger.ms", "queue.buffering.max.ms"),
        ] {
            assert!(!map.contains_key(kindreds), "{kindreds} beside {passed}");
            assert!(map.contains_key(passed), "{passed}");
        }
        // librdkafka reads them back under either name.
        let native = config.create_native_config().expect("a configuration");
        assert_eq!(
            native.get("message.timeout.ms").ok().as_deref(),
            Some("30000")
        );
        assert_eq!(
            native.get("compression.codec").ok().as_deref(),
            Some("zstd")
        );
        let tx = crate::transactional::transactional_config(
            &settings,
            "t.publisher",
            Duration::from_secs(30),
        );
        assert_eq!(tx.get("message.timeout.ms"), Some("30000"));
        assert!(!tx.config_map().contains_key("delivery.timeout.ms"));
        assert!(!tx.config_map().contains_key("compression.type"));
    }
}
