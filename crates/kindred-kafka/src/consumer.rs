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

/// A consumer outside any group's bookkeeping that reads every partition of
/// `topics` from the beginning (it never commits): for tools that replay a
/// whole topic, such as `kindred eval --profile-topic` and `kindred load`.
pub fn read_from_start(
    settings: &KafkaSettings,
    topics: &[&str],
    timeout: std::time::Duration,
) -> Result<StreamConsumer, KafkaError> {
    let group = format!(
        "kindred-reader-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let consumer: StreamConsumer = settings
        .client_config(&[
            ("group.id", &group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("isolation.level", "read_committed"),
        ])
        .create()
        .map_err(|source| KafkaError::Client {
            what: "reader",
            brokers: settings.brokers.clone(),
            source,
        })?;
    let mut list = TopicPartitionList::new();
    for topic in topics {
        for partition in 0..partition_count(&consumer, topic, timeout)? {
            list.add_partition_offset(topic, partition, Offset::Beginning)
                .map_err(KafkaError::op("build assignment"))?;
        }
    }
    consumer
        .assign(&list)
        .map_err(KafkaError::op(format!("assign {}", topics.join(", "))))?;
    Ok(consumer)
}

/// How many partitions `topic` has, from the cluster's metadata.
pub fn partition_count<C: Consumer>(
    consumer: &C,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<i32, KafkaError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(KafkaError::op(format!("read metadata of {topic}")))?;
    let partitions = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().len())
        .unwrap_or(0);
    if partitions == 0 {
        return Err(KafkaError::UnknownTopic {
            topic: topic.to_string(),
        });
    }
    Ok(partitions as i32)
}

/// The end (high watermark) of every partition of `topic`: a reader that
/// reaches these offsets has read what the topic held when this was called.
pub fn end_offsets<C: Consumer>(
    consumer: &C,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<Vec<(i32, i64)>, KafkaError> {
    (0..partition_count(consumer, topic, timeout)?)
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, timeout)
                .map(|(_, high)| (p, high))
                .map_err(KafkaError::op(format!("read end offsets of {topic}")))
        })
        .collect()
}

/// Reads the consumer lag of one group on one topic, as often as asked,
/// over one connection.
pub struct LagProbe {
    consumer: rdkafka::consumer::BaseConsumer,
    group: String,
    topic: String,
    partitions: i32,
    timeout: std::time::Duration,
}

impl LagProbe {
    pub fn new(
        settings: &KafkaSettings,
        group: &str,
        topic: &str,
        timeout: std::time::Duration,
    ) -> Result<Self, KafkaError> {
        let consumer: rdkafka::consumer::BaseConsumer = settings
            .client_config(&[("group.id", group), ("enable.auto.commit", "false")])
            .create()
            .map_err(|source| KafkaError::Client {
                what: "lag probe",
                brokers: settings.brokers.clone(),
                source,
            })?;
        let partitions = partition_count(&consumer, topic, timeout)?;
        Ok(LagProbe {
            consumer,
            group: group.to_string(),
            topic: topic.to_string(),
            partitions,
            timeout,
        })
    }

    /// The consumer group this probe reads.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The group's lag: per partition, the end offset minus the committed
    /// offset (the whole partition when nothing is committed yet), summed.
    pub fn lag(&self) -> Result<i64, KafkaError> {
        let mut list = TopicPartitionList::new();
        for partition in 0..self.partitions {
            list.add_partition(&self.topic, partition);
        }
        let committed = self
            .consumer
            .committed_offsets(list, self.timeout)
            .map_err(KafkaError::op(format!(
                "read {}'s committed offsets",
                self.group
            )))?;
        let mut lag = 0;
        for element in committed.elements() {
            let (low, high) = self
                .consumer
                .fetch_watermarks(&self.topic, element.partition(), self.timeout)
                .map_err(KafkaError::op(format!(
                    "read end offsets of {}",
                    self.topic
                )))?;
            let position = match element.offset() {
                Offset::Offset(o) => o,
                _ => low,
            };
            lag += (high - position).max(0);
        }
        Ok(lag)
    }
}
