//! Reading the profile change topic back, as a downstream system would.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_eval::ChangeLog;
use kindred_kafka::consumer;
use kindred_kafka::rdkafka::message::Message;
use kindred_schema::SchemaKind;

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
    let mut read = TopicRead {
        changelog: ChangeLog::new(),
        messages: 0,
        unreadable: 0,
        tombstones: 0,
        cut: 0,
    };
    read_each(config, timeout, |_| true, |message, change| {
        read.messages += 1;
        match change {
            Record::Tombstone => read.tombstones += 1,
            Record::Skipped => {}
            Record::Unreadable(e) => {
                read.unreadable += 1;
                tracing::warn!(topic, partition = message.partition(), offset = message.offset(), error = %e, "skipping an unreadable profile change");
            }
            Record::Change(change) => {
                if kindred_kafka::headers::of(message).iter().any(|(name, _)| {
                    crate::services::publish::CHANGE_CUTS
                        .iter()
                        .any(|cut| cut.places_events && name == cut.header)
                }) {
                    read.cut += 1;
                }
                let seq = crate::services::publish::change_seq(message);
                read.changelog.apply_at(&change, seq);
            }
        }
    })
    .await?;
    Ok(read)
}

/// The profile topic's keys with the highest version under each and
/// whether its latest record is a tombstone, read from its beginning to
/// its end as of the call ([`kindred_resolver::Published`]; empty when
/// there is no such topic yet). Records under keys that are no profile id
/// are not read. One under a profile id that does not decode stops the
/// read: its version is unknown, and a store continuing below it would
/// publish versions a consumer ignores. `timeout` bounds each wait for the
/// next record, not the whole read.
pub async fn read_published(
    config: &Config,
    timeout: Duration,
) -> Result<kindred_resolver::Published, PipelineError> {
    Ok(read_published_placed(config, timeout).await?.0)
}

/// How many of the profile topic's keyed records [`read_published_placed`]
/// tells its partitioner by (a few thousand tell it for certain).
const PLACEMENT_SAMPLES: usize = 4_096;

/// [`read_published`], with the hashing partitioners that would have
/// placed the topic's keyed records where they lie
/// ([`kindred_kafka::placement::partitioners_placing`], from the first
/// few thousand): what a store rebuilt from its events must go on with.
pub async fn read_published_placed(
    config: &Config,
    timeout: Duration,
) -> Result<(kindred_resolver::Published, Vec<&'static str>), PipelineError> {
    let topic = config.topics.profiles.as_str();
    let mut published = kindred_resolver::Published::default();
    let mut placed: Vec<(i32, Vec<u8>)> = Vec::new();
    let mut problem = None;
    let ours = |key: Option<&[u8]>| {
        key.and_then(|k| std::str::from_utf8(k).ok())
            .is_some_and(|k| kindred_resolver::profile_seq(k).is_some())
    };
    let read = read_each(config, timeout, ours, |message, change| {
        let Some(key) = message.key().and_then(|k| std::str::from_utf8(k).ok()) else {
            return;
        };
        if placed.len() < PLACEMENT_SAMPLES && !matches!(change, Record::Skipped) {
            placed.push((message.partition(), key.as_bytes().to_vec()));
        }
        match change {
            Record::Skipped => {}
            Record::Tombstone => published.record(key, None),
            Record::Change(change) => {
                published.record(key, Some(change.version));
                if let Some(seq) = crate::services::publish::change_seq(message) {
                    published.record_change_seq(seq);
                }
            }
            Record::Unreadable(e) => {
                problem.get_or_insert_with(|| {
                    format!(
                        "{topic}/{} offset {}: {e}",
                        message.partition(),
                        message.offset()
                    )
                });
            }
        }
    })
    .await;
    let partitions = match read {
        Ok(partitions) => partitions,
        Err(PipelineError::Kafka(kindred_kafka::KafkaError::UnknownTopic { .. })) => {
            // Nothing placed yet: any partitioner goes on alike.
            let placing = kindred_kafka::placement::partitioners_placing(std::iter::empty(), 1);
            return Ok((published, placing));
        }
        Err(e) => return Err(e),
    };
    if let Some(at) = problem {
        return Err(PipelineError::Input(format!(
            "cannot read the profile topic's versions back: {at}"
        )));
    }
    let placing = kindred_kafka::placement::partitioners_placing(
        placed.iter().map(|(p, key)| (*p, key.as_slice())),
        partitions,
    );
    Ok((published, placing))
}

/// A record of the profile topic, decoded.
enum Record {
    Change(Box<kindred_model::ProfileChange>),
    Tombstone,
    Unreadable(kindred_schema::DecodeError),
    /// Its key is not one the reader wants decoded.
    Skipped,
}

/// Calls `each` with every record of the profile topic, from its beginning
/// up to its end as of the call; those under a key `decode` refuses are
/// not decoded. Fails when nothing arrives for `timeout`. Returns how
/// many partitions the topic has.
async fn read_each(
    config: &Config,
    timeout: Duration,
    decode: impl Fn(Option<&[u8]>) -> bool,
    mut each: impl FnMut(&kindred_kafka::rdkafka::message::BorrowedMessage<'_>, Record),
) -> Result<i32, PipelineError> {
    let topic = config.topics.profiles.as_str();
    let settings = kafka_settings(config);
    let reader = consumer::read_from_start(&settings, &[topic], Duration::from_secs(10))?;
    let ends = consumer::end_offsets(&reader, topic, Duration::from_secs(10))?;
    let partitions = i32::try_from(ends.len()).unwrap_or(i32::MAX);
    let mut remaining: BTreeMap<i32, i64> = ends.into_iter().filter(|(_, end)| *end > 0).collect();
    let schemas = crate::Schemas::for_own_topics(config, &[]).await?;
    // At most a day (a larger timeout would overflow the deadline).
    let timeout = timeout.min(Duration::from_secs(kindred_config::MAX_TIMEOUT_SECS));
    let mut deadline = Instant::now() + timeout;
    let mut messages = 0u64;
    while !remaining.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(PipelineError::Input(format!(
                "{topic}: nothing arrived for {timeout:?} before its end ({messages} messages read)"
            )));
        }
        let Ok(message) = tokio::time::timeout(left, reader.recv()).await else {
            continue;
        };
        let message = match message {
            // Not progress: the deadline stands.
            Err(e) if consumer::passing(&e) => continue,
            Err(kindred_kafka::rdkafka::error::KafkaError::PartitionEOF(p)) => {
                deadline = Instant::now() + timeout;
                remaining.remove(&p);
                continue;
            }
            m => {
                deadline = Instant::now() + timeout;
                m.map_err(|e| consumer::read_failure(topic, e))?
            }
        };
        messages += 1;
        if let Some(end) = remaining.get(&message.partition()) {
            if message.offset() + 1 >= *end {
                remaining.remove(&message.partition());
            }
        }
        let record = match message.payload() {
            None => Record::Tombstone,
            Some(_) if !decode(message.key()) => Record::Skipped,
            Some(payload) => {
                schemas.learn_patiently(std::iter::once(payload)).await?;
                match schemas.decode_own(SchemaKind::ProfileChange, payload) {
                    Ok(change) => Record::Change(Box::new(change)),
                    Err(e) => Record::Unreadable(e),
                }
            }
        };
        each(&message, record);
    }
    Ok(partitions)
}
