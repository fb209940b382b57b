//! `kindred deadletter replay`: re-submit dead letters to the topic they came
//! from, after the cause was fixed (a schema id mapped, a bug deployed).

use std::collections::BTreeMap;
use std::time::Duration;

use kindred_config::Config;
use kindred_kafka::consumer::{self, CommitMode};
use kindred_kafka::rdkafka::consumer::Consumer;
use kindred_kafka::rdkafka::message::Message;
use kindred_kafka::{DeadLetter, OutRecord, Producer, DLQ_HEADER_PREFIX};

use super::kafka_settings;
use crate::PipelineError;

/// Which dead letters to replay.
#[derive(Debug, Clone, Default)]
pub struct ReplayFilter {
    /// Only dead letters with this reason (`unknown_schema_id`, ...).
    pub reason: Option<String>,
    /// Only dead letters from this source topic.
    pub source_topic: Option<String>,
    /// Report what would be replayed, produce nothing, commit nothing.
    pub dry_run: bool,
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    pub read: u64,
    /// Replayed, by reason.
    pub replayed: BTreeMap<String, u64>,
    /// Passed over by the filter.
    pub skipped: u64,
    /// Without a readable `kindred.dlq.*` envelope (not kindred's dead letters).
    pub unreadable: u64,
    /// Not replayed: the dead letter holds only the start of its message
    /// (longer than `DeadLetter::MAX_PAYLOAD_BYTES`); the whole one is at
    /// the source topic, partition and offset in its headers.
    pub truncated: u64,
    /// Not replayed: the dead letter holds a copy of a refused erasure or
    /// decision request with its values masked ([`DeadLetter::MASKED`], or
    /// any letter of the two request topics, for releases before it), not
    /// the request as sent (the copy may parse where the original did
    /// not, and carry out what no one asked for in that form).
    pub masked: u64,
    /// Not replayed: the source topic refused the message for good (it no
    /// longer exists, or the message is too large for it), each as
    /// `topic: reason (dead letter partition/offset)`. The replay goes on
    /// past them; the letters stay on the dead-letter topic. (A client
    /// without the right to write fails the run: another's may have it.)
    pub refused: Vec<String>,
}

/// Header set on a replayed message: the dead letter's `partition/offset`.
pub const REPLAYED_FROM_HEADER: &str = "kindred.replayed.from";

/// Header set on a replayed message its source topic refused to take with
/// its own timestamp (older than the topic's
/// `message.timestamp.before.max.ms`, or `message.timestamp.difference.max.ms`
/// before Kafka 3.6): sent again stamped now, its own in this header.
pub const REPLAYED_TIMESTAMP_HEADER: &str = "kindred.replayed.timestamp_ms";

/// Reads the dead-letter topic from the replay group's position up to its
/// end as of the start, and re-produces each matching message, key and bytes
/// unchanged, to its source topic. Offsets are committed only after the
/// broker acknowledged the replayed messages, so a crash replays at most a
/// batch twice (harmless: the resolver de-duplicates by source event id).
pub async fn replay(config: &Config, filter: &ReplayFilter) -> Result<ReplayReport, PipelineError> {
    let settings = kafka_settings(config);
    let topic = config.topics.dead_letter.as_str();
    let group = replay_group(config, filter);
    let context = kindred_kafka::ServiceContext::committed(|_| {});
    let consumer = consumer::subscribe(&settings, &group, &[topic], context, None)?;
    let producer = Producer::new(&settings)?;
    let ends = watermarks(&consumer, topic)?;
    let mut report = ReplayReport::default();
    // A partition holding nothing (never written, or emptied by retention)
    // has nothing to give.
    let mut done: BTreeMap<i32, bool> = ends
        .iter()
        .map(|(p, (low, end))| (*p, low >= end))
        .collect();
    let ends: BTreeMap<i32, i64> = ends.into_iter().map(|(p, (_, end))| (p, end)).collect();
    let mut pending: Vec<OutRecord> = Vec::new();
    // Each pending record's dead-letter reason (a refused one is taken
    // back out of `report.replayed`).
    let mut reasons: Vec<String> = Vec::new();
    let mut pending_bytes = 0usize;
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    let mut silent = Duration::ZERO;
    while !done.values().all(|d| *d) {
        // Errors librdkafka recovers from (a rolling restart) are passed
        // over, within the quiet time: they are no record.
        let next_message = async {
            loop {
                match consumer.recv().await {
                    Err(e) if kindred_kafka::consumer::passing(&e) => continue,
                    other => break other,
                }
            }
        };
        let message = match tokio::time::timeout(QUIET, next_message).await {
            Err(_) => {
                // Nothing arrives: a partition whose group position is
                // already at its end (an earlier run replayed it) has
                // nothing to give, and is done.
                // The consumer's position also passes transaction markers,
                // which no message shows.
                let positions = consumer.position().ok();
                let position = |p: i32| {
                    positions
                        .as_ref()
                        .and_then(|l| l.find_partition(topic, p))
                        .and_then(|e| e.offset().to_raw())
                };
                for (p, d) in done.iter_mut().filter(|(_, d)| !**d) {
                    let end = ends.get(p).copied().unwrap_or(0);
                    *d = next.get(p).is_some_and(|o| *o >= end)
                        || position(*p).is_some_and(|o| o >= end)
                        || super::committed_offset(&consumer, topic, *p).is_some_and(|o| o >= end);
                }
                if done.values().all(|d| *d) {
                    break;
                }
                // Joining the group can take until an earlier member's
                // session times out (a run killed a moment ago).
                silent += QUIET;
                let assigned = consumer.assignment().is_ok_and(|a| a.count() > 0);
                if !assigned && silent < JOIN_WAIT {
                    continue;
                }
                if !filter.dry_run {
                    flush(
                        &producer,
                        &consumer,
                        topic,
                        &mut pending,
                        &mut reasons,
                        &next,
                        &mut report,
                    )
                    .await?;
                }
                let left: Vec<String> = done
                    .iter()
                    .filter(|(_, d)| !**d)
                    .map(|(p, _)| {
                        format!(
                            "{topic}/{p} at {} of {}",
                            next.get(p)
                                .map_or("its group position".to_string(), |o| o.to_string()),
                            ends.get(p).copied().unwrap_or(0)
                        )
                    })
                    .collect();
                return Err(PipelineError::Input(format!(
                    "dead-letter replay stopped before the end: nothing arrived for {:?} from {} ({} read, {} replayed so far, and committed); run it again",
                    silent,
                    left.join(", "),
                    report.read,
                    report.replayed.values().sum::<u64>(),
                )));
            }
            Ok(m) => m.map_err(kindred_kafka::KafkaError::op("read dead letters"))?,
        };
        silent = Duration::ZERO;
        let partition = message.partition();
        let end = ends.get(&partition).copied().unwrap_or(0);
        if message.offset() >= end {
            // Written since the start (a letter this run replayed and the
            // service dead-lettered again, say): for the next run, neither
            // replayed nor committed past now.
            done.insert(partition, true);
            continue;
        }
        report.read += 1;
        next.insert(partition, message.offset() + 1);
        if message.offset() + 1 >= end {
            done.insert(partition, true);
        }
        let read = kindred_kafka::headers::of(&message);
        let headers: Vec<(&str, &[u8])> = read
            .iter()
            .filter_map(|(name, value)| value.map(|v| (name.as_ref(), v)))
            .collect();
        // A letter whose payload or key was cut is not the message.
        let truncated = headers
            .iter()
            .any(|(k, _)| *k == DeadLetter::TRUNCATED_FROM || *k == DeadLetter::KEY_TRUNCATED_FROM);
        let marked_masked = headers.iter().any(|(k, _)| *k == DeadLetter::MASKED);
        let source_headers = headers.clone();
        let Some(envelope) = DeadLetter::from_headers(headers) else {
            report.unreadable += 1;
            continue;
        };
        let wanted = filter.reason.as_ref().is_none_or(|r| *r == envelope.reason)
            && filter
                .source_topic
                .as_ref()
                .is_none_or(|t| *t == envelope.source_topic);
        if !wanted {
            report.skipped += 1;
            continue;
        }
        // Letters that are not the message as sent: left, counted, and
        // pointed at the source, which holds the message.
        // A request topic's letters are all masked copies: those of releases
        // before the header lack it.
        let masked = marked_masked
            || envelope.source_topic == config.topics.erasure_requests
            || envelope.source_topic == config.topics.decision_requests;
        let withheld = if truncated {
            Some((
                &mut report.truncated,
                "a dead letter cut to its first bytes",
            ))
        } else if masked {
            Some((
                &mut report.masked,
                "a refused request kept with its values masked",
            ))
        } else {
            None
        };
        if let Some((count, what)) = withheld {
            *count += 1;
            tracing::warn!(partition, offset = message.offset(), source_topic = %envelope.source_topic,
                source_partition = envelope.source_partition, source_offset = envelope.source_offset,
                "not replaying {what}; the message as sent is at its source");
            continue;
        }
        *report.replayed.entry(envelope.reason.clone()).or_default() += 1;
        if filter.dry_run {
            continue;
        }
        pending_bytes += message.payload().map_or(0, <[u8]>::len);
        // The message as it was sent: its own headers (the letter's are
        // dropped) and its own timestamp, which derived records carry on.
        let source_timestamp = source_headers
            .iter()
            .find(|(k, _)| *k == DeadLetter::SOURCE_TIMESTAMP)
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<i64>().ok());
        let mut headers: Vec<(String, Vec<u8>)> = source_headers
            .iter()
            .filter(|(k, _)| {
                !k.starts_with(DLQ_HEADER_PREFIX)
                    && *k != REPLAYED_FROM_HEADER
                    && *k != REPLAYED_TIMESTAMP_HEADER
            })
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect();
        headers.push((
            REPLAYED_FROM_HEADER.to_string(),
            format!("{partition}/{}", message.offset()).into_bytes(),
        ));
        reasons.push(envelope.reason.clone());
        pending.push(OutRecord {
            topic: envelope.source_topic,
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().unwrap_or_default().to_vec(),
            headers,
            timestamp_ms: source_timestamp,
        });
        // In chunks: a month of dead letters need not fit in memory, and a
        // failure later replays again only what was not committed.
        if pending.len() >= REPLAY_CHUNK_RECORDS || pending_bytes >= REPLAY_CHUNK_BYTES {
            flush(
                &producer,
                &consumer,
                topic,
                &mut pending,
                &mut reasons,
                &next,
                &mut report,
            )
            .await?;
            pending_bytes = 0;
        }
    }
    if !filter.dry_run {
        flush(
            &producer,
            &consumer,
            topic,
            &mut pending,
            &mut reasons,
            &next,
            &mut report,
        )
        .await?;
    }
    Ok(report)
}

/// How long a replay waits for the next dead letter before it checks
/// whether every partition is read to its end.
const QUIET: Duration = Duration::from_secs(10);

/// How long a replay waits to be given its partitions.
const JOIN_WAIT: Duration = Duration::from_secs(60);

/// At most this many replayed records, or bytes, are held before they are
/// sent and their dead letters' offsets committed.
const REPLAY_CHUNK_RECORDS: usize = 1_000;
const REPLAY_CHUNK_BYTES: usize = 64 << 20;

/// Sends `pending` and, once the broker acknowledged all of it, commits
/// the replay group's position up to `next`.
async fn flush(
    producer: &Producer,
    consumer: &kindred_kafka::rdkafka::consumer::StreamConsumer<kindred_kafka::ServiceContext>,
    topic: &str,
    pending: &mut Vec<OutRecord>,
    reasons: &mut Vec<String>,
    next: &BTreeMap<i32, i64>,
    report: &mut ReplayReport,
) -> Result<(), PipelineError> {
    // Each acknowledged or failed on its own: only the records a topic
    // refused for their old timestamps go again, stamped now (a replay
    // stuck at the first such letter, run after run, replayed nothing past
    // it).
    let outcomes = producer.send_each(pending).await;
    let mut again = Vec::new();
    for ((record, outcome), reason) in pending.iter().zip(outcomes).zip(reasons.iter()) {
        match outcome {
            Err(e) if e.is_invalid_timestamp() && record.timestamp_ms.is_some() => {
                again.push(restamped(record))
            }
            // A source topic gone (a channel retired), closed to this
            // client, or too small for the message: replayed letters
            // before it were sent again on every run and the replay
            // stopped there for good. Listed, and passed.
            Err(e) if e.is_refused_for_good() => {
                let from = record
                    .headers
                    .iter()
                    .find(|(k, _)| k == REPLAYED_FROM_HEADER)
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default();
                tracing::warn!(source_topic = %record.topic, dead_letter = %from, error = %e, "a dead letter's source topic refused it for good: not replayed");
                report
                    .refused
                    .push(format!("{}: {e} (dead letter {from})", record.topic));
                if let Some(n) = report.replayed.get_mut(reason) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        report.replayed.remove(reason);
                    }
                }
            }
            outcome => {
                outcome?;
            }
        }
    }
    if !again.is_empty() {
        tracing::warn!(
            records = again.len(),
            "the source topic refused replayed messages for their own (old) timestamps: sent again stamped now, each with its own in header {REPLAYED_TIMESTAMP_HEADER}"
        );
        producer.send_all(&again).await?;
    }
    pending.clear();
    reasons.clear();
    let commit: Vec<_> = next
        .iter()
        .map(|(p, o)| (topic.to_string(), *p, *o))
        .collect();
    consumer::commit(consumer, &commit, CommitMode::Sync)?;
    Ok(())
}

/// `record` stamped now by the producer, its own timestamp in
/// [`REPLAYED_TIMESTAMP_HEADER`].
fn restamped(record: &OutRecord) -> OutRecord {
    let mut record = record.clone();
    if let Some(ts) = record.timestamp_ms.take() {
        record.headers.push((
            REPLAYED_TIMESTAMP_HEADER.to_string(),
            ts.to_string().into_bytes(),
        ));
    }
    record
}

/// The consumer group whose position a replay with `filter` reads from and
/// moves: one per filter, so dead letters a filtered run skipped stay on
/// offer to every other filter and to an unfiltered run (which may then
/// replay some twice: harmless, the resolver skips events it has applied).
pub fn replay_group(config: &Config, filter: &ReplayFilter) -> String {
    let mut group = format!("{}.deadletter.replay", config.kafka.group_prefix);
    if let Some(reason) = &filter.reason {
        group.push_str(&format!(".reason-{reason}"));
    }
    if let Some(topic) = &filter.source_topic {
        group.push_str(&format!(".topic-{topic}"));
    }
    group
}

/// Each partition's (log start, end) as of now.
fn watermarks(
    consumer: &kindred_kafka::consumer::ServiceConsumer,
    topic: &str,
) -> Result<BTreeMap<i32, (i64, i64)>, PipelineError> {
    let timeout = Duration::from_secs(10);
    // A topic that does not exist, or that kindred may not describe, is an
    // error: read as empty, the replay would say it replayed nothing.
    let partitions = kindred_kafka::consumer::partition_count(consumer, topic, timeout)?;
    let mut ends = BTreeMap::new();
    for p in 0..partitions {
        let (low, high) =
            consumer
                .fetch_watermarks(topic, p, timeout)
                .map_err(kindred_kafka::KafkaError::op(format!(
                    "read the end of {topic}/{p}"
                )))?;
        ends.insert(p, (low, high));
    }
    Ok(ends)
}
