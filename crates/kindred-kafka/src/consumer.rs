//! Consumers that never commit on their own: the service commits an offset
//! only once what it produced from the message is acknowledged.

pub use rdkafka::consumer::CommitMode;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::{KafkaError, KafkaSettings};

/// A consumer in `group_id` subscribed to `topics`, with automatic commits off
/// and reading from the earliest offset when the group has none.
pub fn subscribe(
    settings: &KafkaSettings,
    group_id: &str,
    topics: &[&str],
) -> Result<StreamConsumer, KafkaError> {
    let consumer: StreamConsumer = settings
        .client_config(&[
            ("group.id", group_id),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            ("partition.assignment.strategy", "cooperative-sticky"),
            ("isolation.level", "read_committed"),
        ])
        .create()
        .map_err(|source| KafkaError::Client {
            what: "consumer",
            brokers: settings.brokers.clone(),
            source,
        })?;
    consumer.subscribe(topics).map_err(KafkaError::op(format!(
        "subscribe to {}",
        topics.join(", ")
    )))?;
    Ok(consumer)
}

/// Commits `next_offsets` (topic, partition, next offset to read). `Async`
/// returns at once (use it in the poll loop: the call is issued after the
/// outputs were acknowledged, which is what ordering needs); `Sync` blocks
/// until the broker confirms (use it on shutdown).
pub fn commit(
    consumer: &StreamConsumer,
    next_offsets: &[(String, i32, i64)],
    mode: CommitMode,
) -> Result<(), KafkaError> {
    if next_offsets.is_empty() {
        return Ok(());
    }
    let mut list = TopicPartitionList::new();
    for (topic, partition, offset) in next_offsets {
        list.add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .map_err(KafkaError::op("build commit list"))?;
    }
    consumer
        .commit(&list, mode)
        .map_err(KafkaError::op("commit offsets"))
}
