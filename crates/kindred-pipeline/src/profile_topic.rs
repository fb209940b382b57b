//! Reading the profile change topic back, as a downstream system would.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_eval::ChangeLog;
use kindred_kafka::consumer;
use kindred_kafka::rdkafka::message::{Headers, Message};
use kindred_schema::{Framing, SchemaKind};

use crate::services::kafka_settings;
use crate::PipelineError;

/// What [`read_changelog`] read.
#[derive(Debug)]
pub struct TopicRead {
    pub changelog: ChangeLog,
    pub messages: u64,
    /// Messages that did not decode as profile changes (skipped).
    pub unreadable: u64,
    /// Tombstones (no payload): an erased profile's records, deleted.
    pub tombstones: u64,
    /// Changes whose id lists were cut to fit one record (see
    /// `publish::MOVED_EVENT_IDS_TOTAL`): events past a cut stay where an
    /// earlier change placed them, so the clustering read is incomplete.
    pub cut: u64,
}

/// Reads the profile topic from its beginning up to its end as of the call,
/// folding every change into a [`ChangeLog`]. Complete only while the topic
/// still holds every change (compaction keeps only the latest per profile,
/// after `min.compaction.lag.ms`) and no change's id lists were cut
/// ([`TopicRead::cut`]); the store is the reference otherwise. Kafka orders
/// records within a partition only: with several partitions, an event a
/// split moved to a profile on another partition is placed by the order
/// the partitions happen to be read in, unless the change carries its
/// place in the resolver's order (`kindred.change.seq`, every change this
/// release publishes): the later placement then wins.
pub async fn read_changelog(
    config: &Config,
    timeout: Duration,
) -> Result<TopicRead, PipelineError> {
    let topic = config.topics.profiles.as_str();
    let settings = kafka_settings(config);
    let reader = consumer::read_from_start(&settings, &[topic], Duration::from_secs(10))?;
    let mut remaining: BTreeMap<i32, i64> =
        consumer::end_offsets(&reader, topic, Duration::from_secs(10))?
            .into_iter()
            .filter(|(_, end)| *end > 0)
            .collect();
    let schemas = crate::Schemas::from_config(config, &[]).await?;
    let codec = schemas.codec().clone();
    // At most a day (a larger timeout would overflow the deadline).
    let timeout = timeout.min(Duration::from_secs(kindred_config::MAX_TIMEOUT_SECS));
    let deadline = Instant::now() + timeout;
    let mut read = TopicRead {
        changelog: ChangeLog::new(),
        messages: 0,
        unreadable: 0,
        tombstones: 0,
        cut: 0,
    };
    while !remaining.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(PipelineError::Input(format!(
                "{topic}: not read to its end within {timeout:?} ({} messages read)",
                read.messages
            )));
        }
        let Ok(message) = tokio::time::timeout(left, reader.recv()).await else {
            continue;
        };
        let message = match message {
            Err(kindred_kafka::rdkafka::error::KafkaError::PartitionEOF(p)) => {
                remaining.remove(&p);
                continue;
            }
            m => m.map_err(kindred_kafka::KafkaError::op(format!("read {topic}")))?,
        };
        read.messages += 1;
        if let Some(end) = remaining.get(&message.partition()) {
            if message.offset() + 1 >= *end {
                remaining.remove(&message.partition());
            }
        }
        let Some(payload) = message.payload() else {
            read.tombstones += 1;
            continue;
        };
        if message.headers().is_some_and(|h| {
            h.iter().any(|h| {
                crate::services::publish::CHANGE_CUTS
                    .iter()
                    .any(|cut| cut.places_events && h.key == cut.header)
            })
        }) {
            read.cut += 1;
        }
        let seq = crate::services::publish::change_seq(&message);
        schemas.learn_patiently(std::iter::once(payload)).await?;
        match codec.decode(Framing::Confluent, SchemaKind::ProfileChange, payload) {
            Ok(change) => {
                read.changelog.apply_at(&change, seq);
            }
            Err(e) => {
                read.unreadable += 1;
                tracing::warn!(topic, partition = message.partition(), offset = message.offset(), error = %e, "skipping an unreadable profile change");
            }
        }
    }
    Ok(read)
}
