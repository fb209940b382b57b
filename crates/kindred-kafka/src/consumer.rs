//! Consumers that never commit on their own: the service commits an offset
//! only once what it produced from the message is acknowledged.

pub use rdkafka::consumer::CommitMode;

use std::collections::BTreeMap;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::{GroupProtocol, KafkaError, KafkaSettings, ServiceContext};

/// The consumer of a kindred service.
pub type ServiceConsumer = StreamConsumer<ServiceContext>;

/// A consumer in `group_id` subscribed to `topics`, with automatic commits
/// off, reading from the earliest offset when the group has none, with the
/// cooperative-sticky assignor (a rebalance moves only the partitions that
/// change owner; the others keep flowing) and `read_committed` isolation.
///
/// Memory is bounded: librdkafka prefetches at most
/// `queued.max.messages.kbytes` (16 MiB here) per consumer; the service
/// holds one batch on top of it. A member that dies without leaving is
/// noticed after `session.timeout.ms` (15 s here). Pass-through settings
/// override all of these.
///
/// Under [`GroupProtocol::Consumer`] (KIP-848) the broker assigns the
/// partitions, incrementally as well, and owns the session timeout,
/// heartbeat interval and assignor (`group.consumer.*` on the broker):
/// librdkafka refuses a consumer that sets them, so none is set here.
///
/// `static_member`: a `group.instance.id` for a member that restarts in
/// place (the resolver, one per store): under the classic protocol a
/// restart takes its partitions back at once instead of waiting for the
/// session of the dead process to time out. Under KIP-848 the id is not
/// set: there the broker keeps a crashed static member's id until its
/// session ends and refuses the restarted process with a fatal
/// UNRELEASED_INSTANCE_ID, while a dynamic member just waits for the same
/// session, and a clean stop hands the partitions over at once either way.
pub fn subscribe(
    settings: &KafkaSettings,
    group_id: &str,
    topics: &[&str],
    context: ServiceContext,
    static_member: Option<&str>,
) -> Result<ServiceConsumer, KafkaError> {
    let consumer: ServiceConsumer = service_config(
        settings,
        group_id,
        static_member,
        context.wants_statistics(),
    )
    .create_with_context(context)
    .map_err(|source| KafkaError::client("consumer", settings, source))?;
    consumer.subscribe(topics).map_err(KafkaError::op(format!(
        "subscribe to {}",
        topics.join(", ")
    )))?;
    Ok(consumer)
}

/// The client configuration of a service's consumer ([`subscribe`]).
pub(crate) fn service_config(
    settings: &KafkaSettings,
    group_id: &str,
    static_member: Option<&str>,
    statistics: bool,
) -> rdkafka::ClientConfig {
    let mut defaults = vec![
        ("group.id", group_id),
        ("enable.auto.commit", "false"),
        ("enable.auto.offset.store", "false"),
        ("auto.offset.reset", "earliest"),
        ("isolation.level", "read_committed"),
        ("queued.max.messages.kbytes", "16384"),
    ];
    match settings.group_protocol {
        GroupProtocol::Classic => defaults.extend([
            ("partition.assignment.strategy", "cooperative-sticky"),
            ("session.timeout.ms", "15000"),
            ("heartbeat.interval.ms", "3000"),
        ]),
        GroupProtocol::Consumer => defaults.push(("group.protocol", "consumer")),
    }
    if let (Some(instance), GroupProtocol::Classic) = (static_member, settings.group_protocol) {
        defaults.push(("group.instance.id", instance));
    }
    if statistics {
        defaults.push(("statistics.interval.ms", crate::context::LAG_INTERVAL_MS));
    }
    settings.client_config(&defaults)
}

/// Asks the partitions' leaders for the ends (high watermarks) of
/// `partitions`, within `budget` in all, and notes them on `consumer`'s
/// context ([`ServiceContext::note_log_ends`]): the lag of partitions a
/// service paused keeps counting what arrives (librdkafka learns an end
/// from fetches only). Blocking. Those not answered in time are left.
pub fn note_log_ends(
    consumer: &ServiceConsumer,
    partitions: impl IntoIterator<Item = (String, i32)>,
    budget: std::time::Duration,
) {
    let deadline = std::time::Instant::now() + budget;
    let mut ends = Vec::new();
    for (topic, partition) in partitions {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        match consumer.fetch_watermarks(&topic, partition, left) {
            Ok((_, high)) => ends.push((topic, partition, high)),
            // The broker is away: nothing better to say than before.
            Err(_) => break,
        }
    }
    consumer.context().note_log_ends(ends);
}

/// Commits `next_offsets` (topic, partition, next offset to read). `Async`
/// returns at once (use it in the poll loop: the call is issued after the
/// outputs were acknowledged, which is what ordering needs); `Sync` blocks
/// until the broker confirms (use it on shutdown).
///
/// Only partitions the consumer holds are committed: a batch read before
/// a partition was revoked (a cooperative rebalance while its outputs were
/// sent) must not commit it, since the broker checks a commit's member and
/// generation, not who holds the partition, and the offset would move back
/// past what its new owner committed. (Rebalances are taken in while the
/// consumer is polled, so the assignment read here is the one the commit
/// goes under.)
pub fn commit(
    consumer: &ServiceConsumer,
    next_offsets: &[(String, i32, i64)],
    mode: CommitMode,
) -> Result<(), KafkaError> {
    let held: Option<std::collections::HashSet<(String, i32)>> =
        consumer.assignment().ok().map(|list| {
            list.elements()
                .iter()
                .map(|e| (e.topic().to_string(), e.partition()))
                .collect()
        });
    let next_offsets: Vec<&(String, i32, i64)> = next_offsets
        .iter()
        .filter(|(t, p, _)| held.as_ref().is_none_or(|h| h.contains(&(t.clone(), *p))))
        .collect();
    if next_offsets.is_empty() {
        return Ok(());
    }
    let mut list = TopicPartitionList::new();
    for (topic, partition, offset) in next_offsets {
        list.add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .map_err(KafkaError::op("build commit list"))?;
    }
    commit_list(consumer, &list, mode)
}

/// [`commit`], leaving out the partitions that were taken from this
/// consumer or given to it since `read_at` (the assignment epoch taken
/// when the batch was read): one taken away and given back while the
/// batch's outputs were sent was read on by its other owner meanwhile,
/// and the batch's offsets would move the group's back past that.
pub fn commit_since(
    consumer: &ServiceConsumer,
    next_offsets: &[(String, i32, i64)],
    read_at: &crate::AssignmentEpoch,
    mode: CommitMode,
) -> Result<(), KafkaError> {
    let now = consumer.context().assignment_epoch();
    let unmoved: Vec<(String, i32, i64)> = next_offsets
        .iter()
        .filter(|(t, p, _)| !read_at.moved_by(&now, t, *p))
        .cloned()
        .collect();
    commit(consumer, &unmoved, mode)
}

/// Commits `list` as it is. `Async` asks librdkafka to put the result on
/// the consumer's queue, where the consumer's poll hands it to the
/// context's `commit_callback` (which counts failures): rust-rdkafka's
/// own asynchronous commit names no queue, so its result went nowhere and
/// a failing coordinator went uncounted (fede1024/rust-rdkafka#856; its
/// fix, #857, does this).
pub fn commit_list(
    consumer: &ServiceConsumer,
    list: &TopicPartitionList,
    mode: CommitMode,
) -> Result<(), KafkaError> {
    let failed = |code: RDKafkaErrorCode| KafkaError::Operation {
        operation: "commit offsets".into(),
        source: rdkafka::error::KafkaError::ConsumerCommit(code),
    };
    if let CommitMode::Sync = mode {
        return consumer
            .commit(list, mode)
            .map_err(KafkaError::op("commit offsets"));
    }
    let rk = consumer.client().native_ptr();
    // SAFETY: `rk` is the live consumer's handle and `list` a valid list
    // for the call's duration (librdkafka copies it). The queue handle
    // from `rd_kafka_queue_get_consumer` is ours to destroy; the commit
    // keeps a reference of its own to the queue until it replies.
    let code = unsafe {
        let queue = rdkafka::bindings::rd_kafka_queue_get_consumer(rk);
        if queue.is_null() {
            return Err(failed(RDKafkaErrorCode::UnknownGroup));
        }
        let code = rdkafka::bindings::rd_kafka_commit_queue(
            rk,
            list.ptr(),
            queue,
            None,
            std::ptr::null_mut(),
        );
        rdkafka::bindings::rd_kafka_queue_destroy(queue);
        RDKafkaErrorCode::from(code)
    };
    match code {
        RDKafkaErrorCode::NoError => Ok(()),
        code => Err(failed(code)),
    }
}

/// A consumer outside any group's bookkeeping that reads every partition of
/// `topics` from the beginning (it never commits): for tools that replay a
/// whole topic, such as `kindred eval --profile-topic` and `kindred load`.
///
/// It reads `read_committed` and reports `PartitionEOF(partition)` errors
/// whenever it reaches the end of a partition: on a topic written in
/// transactions the last offset is a commit marker no reader ever sees, so
/// "offset + 1 == end offset" does not tell a reader it is done; the EOF does.
pub fn read_from_start(
    settings: &KafkaSettings,
    topics: &[&str],
    timeout: std::time::Duration,
) -> Result<StreamConsumer<ReaderContext>, KafkaError> {
    let group = format!(
        "kindred-reader-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let consumer: StreamConsumer<ReaderContext> = new_reader(settings, &group)?;
    assign_from(&consumer, topics, &BTreeMap::new(), timeout)?;
    Ok(consumer)
}

/// The context of whole-topic readers: a partition's end is expected news
/// to them, not an error worth logging (librdkafka reports end-of-partition
/// events still queued when the reader is dropped as client errors).
#[derive(Clone, Default)]
pub struct ReaderContext;

impl rdkafka::ClientContext for ReaderContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        crate::logs::log(level, fac, log_message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        if matches!(
            error.rdkafka_error_code(),
            Some(rdkafka::types::RDKafkaErrorCode::PartitionEOF)
        ) {
            tracing::trace!(%reason, "end of partition");
        } else {
            crate::logs::client_error(&error, reason);
        }
    }
}

impl rdkafka::consumer::ConsumerContext for ReaderContext {}

/// A whole-topic reader: `read_committed`, never committing, reporting
/// each partition's end.
fn new_reader<C>(settings: &KafkaSettings, group: &str) -> Result<C, KafkaError>
where
    C: rdkafka::config::FromClientConfigAndContext<ReaderContext>,
{
    settings
        .client_config(&[
            ("group.id", group),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("isolation.level", "read_committed"),
            ("enable.partition.eof", "true"),
            // An offset gone from the log (its head removed by retention or
            // delete-records while this reads) is an error, not a jump to
            // the partition's end (librdkafka's default), which returned
            // as if every record had been read.
            ("auto.offset.reset", "error"),
        ])
        .create_with_context(ReaderContext)
        .map_err(|source| KafkaError::client("reader", settings, source))
}

/// Assigns every partition of `topics` from the offset `from` gives it,
/// else from its beginning; returns how many partitions that is.
fn assign_from<C: Consumer<ReaderContext>>(
    consumer: &C,
    topics: &[&str],
    from: &BTreeMap<i32, i64>,
    timeout: std::time::Duration,
) -> Result<i32, KafkaError> {
    let mut list = TopicPartitionList::new();
    let mut count = 0;
    for topic in topics {
        for partition in 0..partition_count(consumer, topic, timeout)? {
            let offset = from
                .get(&partition)
                .map_or(Offset::Beginning, |o| Offset::Offset(*o));
            list.add_partition_offset(topic, partition, offset)
                .map_err(KafkaError::op("build assignment"))?;
            count += 1;
        }
    }
    consumer
        .assign(&list)
        .map_err(KafkaError::op(format!("assign {}", topics.join(", "))))?;
    Ok(count)
}

/// A record read back: partition, key, payload.
pub type Record = (i32, Option<Vec<u8>>, Vec<u8>);

/// A record read back with its timestamp (ms since the epoch; `None` when
/// it has none).
pub type StampedRecord = (Record, Option<i64>);

/// Every record of `topic` that a `read_committed` reader sees now, as
/// (partition, key, payload), read from the beginning of each partition to
/// its end (records of aborted or still-open transactions are skipped).
/// `timeout` bounds each wait without a record, not the whole read.
pub fn read_to_end(
    settings: &KafkaSettings,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<Vec<Record>, KafkaError> {
    let mut out = Vec::new();
    read_each(settings, topic, timeout, |r| out.push(r))?;
    Ok(out)
}

/// [`read_to_end`], handing each record to `f` as it is read instead of
/// keeping them all: for a reader that needs only some (the last record of
/// a key on a topic whose newest segment compaction has not cleaned yet).
pub fn read_each(
    settings: &KafkaSettings,
    topic: &str,
    timeout: std::time::Duration,
    f: impl FnMut(Record),
) -> Result<(), KafkaError> {
    read_each_from(settings, topic, &BTreeMap::new(), timeout, f)
}

/// [`read_each`] from the offsets `from` gives (per partition; the others
/// from their beginning): what was written since [`topic_end_offsets`]
/// was read (a reply to a request sent after that).
pub fn read_each_from(
    settings: &KafkaSettings,
    topic: &str,
    from: &BTreeMap<i32, i64>,
    timeout: std::time::Duration,
    mut f: impl FnMut(Record),
) -> Result<(), KafkaError> {
    read_stamped_from(settings, topic, from, timeout, |record, _| f(record))
}

/// [`read_to_end`] with each record's timestamp (milliseconds since the
/// epoch; `None` when the record has none): for records whose time says
/// something (an erasure request's, from which its suppression windows run).
pub fn read_stamped_to_end(
    settings: &KafkaSettings,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<Vec<StampedRecord>, KafkaError> {
    let mut out = Vec::new();
    read_stamped_from(settings, topic, &BTreeMap::new(), timeout, |r, ms| {
        out.push((r, ms))
    })?;
    Ok(out)
}

/// [`read_each_from`], handing each record's timestamp too.
fn read_stamped_from(
    settings: &KafkaSettings,
    topic: &str,
    from: &BTreeMap<i32, i64>,
    timeout: std::time::Duration,
    mut f: impl FnMut(Record, Option<i64>),
) -> Result<(), KafkaError> {
    use rdkafka::consumer::BaseConsumer;
    use rdkafka::Message;
    let consumer: BaseConsumer<ReaderContext> = new_reader(settings, "kindred-read-to-end")?;
    let partitions = assign_from(&consumer, &[topic], from, timeout)?;
    // `timeout` bounds a wait without progress, not the whole read: a long
    // topic read steadily takes as long as it takes.
    let mut deadline = std::time::Instant::now() + timeout;
    let mut at_end = std::collections::BTreeSet::new();
    while (at_end.len() as i32) < partitions {
        if std::time::Instant::now() > deadline {
            return Err(KafkaError::Timeout {
                operation: format!("read {topic} to its end (no record for that long)"),
                after: timeout,
            });
        }
        match consumer.poll(std::time::Duration::from_millis(200)) {
            None => {}
            Some(Ok(m)) => {
                deadline = std::time::Instant::now() + timeout;
                f(
                    (
                        m.partition(),
                        m.key().map(<[u8]>::to_vec),
                        m.payload().unwrap_or_default().to_vec(),
                    ),
                    m.timestamp().to_millis(),
                )
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                deadline = std::time::Instant::now() + timeout;
                at_end.insert(p);
            }
            // The timeout (not reset) bounds how long nothing arrives.
            Some(Err(e)) if passing(&e) => {}
            Some(Err(e)) => return Err(read_failure(topic, e)),
        }
    }
    Ok(())
}

/// Whether a reader's error is one librdkafka recovers from by itself (a
/// broker's connection lost or refused in a rolling restart, a leader
/// moving, a request timing out): rust-rdkafka hands every error event to
/// the poll, and readers that stopped at them failed a replay or a
/// `--live` command's wait halfway through a rolling restart. The reader
/// goes on; its timeout bounds how long nothing arrives.
pub fn passing(e: &rdkafka::error::KafkaError) -> bool {
    matches!(
        e,
        rdkafka::error::KafkaError::MessageConsumption(
            RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::Resolve
                | RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::NetworkException
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::LeaderNotAvailable
        )
    )
}

/// What a whole-topic reader's failure to read `topic` says: a head
/// removed while it read ([`new_reader`]'s `auto.offset.reset`) in words.
pub fn read_failure(topic: &str, e: rdkafka::error::KafkaError) -> KafkaError {
    let operation = if e.rdkafka_error_code() == Some(RDKafkaErrorCode::AutoOffsetReset) {
        format!("read {topic}: records it was reading were removed from the log meanwhile (retention or delete-records moved a partition's start); run the command again")
    } else {
        format!("read {topic}")
    };
    KafkaError::Operation {
        operation,
        source: e,
    }
}

/// How many partitions `topic` has, from the cluster's metadata.
pub fn partition_count<X: rdkafka::consumer::ConsumerContext, C: Consumer<X>>(
    consumer: &C,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<i32, KafkaError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(KafkaError::op(format!("read metadata of {topic}")))?;
    let listed = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| (t.partitions().len(), t.error().map(RDKafkaErrorCode::from)));
    partitions_of(topic, listed)
}

/// How many partitions a metadata answer gives `topic` (`listed`: its
/// partition count and error, if the answer lists it). A topic the broker
/// does not know, or lists without partitions, is [`KafkaError::UnknownTopic`]
/// (callers read it as absent); an error of another kind (no permission to
/// describe it) is an error, not an absent topic.
fn partitions_of(
    topic: &str,
    listed: Option<(usize, Option<RDKafkaErrorCode>)>,
) -> Result<i32, KafkaError> {
    match listed {
        Some((_, Some(code)))
            if !matches!(
                code,
                RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::LeaderNotAvailable
            ) =>
        {
            Err(KafkaError::Operation {
                operation: format!("read metadata of {topic}"),
                source: rdkafka::error::KafkaError::MetadataFetch(code),
            })
        }
        Some((n, _)) if n > 0 => Ok(n as i32),
        _ => Err(KafkaError::UnknownTopic {
            topic: topic.to_string(),
        }),
    }
}

/// The end (high watermark) of every partition of `topic`: a reader that
/// reaches these offsets has read what the topic held when this was called.
pub fn end_offsets<X: rdkafka::consumer::ConsumerContext, C: Consumer<X>>(
    consumer: &C,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<Vec<(i32, i64)>, KafkaError> {
    Ok(watermarks(consumer, topic, timeout)?
        .into_iter()
        .map(|(p, _, high)| (p, high))
        .collect())
}

/// Every partition of `topic` with its low and high watermarks: where its
/// log starts (past what retention or `delete-records` removed) and ends.
fn watermarks<X: rdkafka::consumer::ConsumerContext, C: Consumer<X>>(
    consumer: &C,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<Vec<(i32, i64, i64)>, KafkaError> {
    (0..partition_count(consumer, topic, timeout)?)
        .map(|p| {
            consumer
                .fetch_watermarks(topic, p, timeout)
                .map(|(low, high)| (p, low, high))
                .map_err(KafkaError::op(format!("read the offsets of {topic}")))
        })
        .collect()
}

/// A short-lived connection for metadata and offsets.
fn metadata_client(
    settings: &KafkaSettings,
) -> Result<rdkafka::consumer::BaseConsumer<crate::Quiet>, KafkaError> {
    settings
        .client_config(&[("group.id", "kindred-metadata")])
        .create_with_context(crate::Quiet)
        .map_err(|source| KafkaError::client("metadata client", settings, source))
}

/// [`end_offsets`] of `topic` over a short-lived connection of its own.
pub fn topic_end_offsets(
    settings: &KafkaSettings,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<Vec<(i32, i64)>, KafkaError> {
    end_offsets(&metadata_client(settings)?, topic, timeout)
}

/// Where each partition of `topic` starts now (its low watermark: 0 for a
/// topic nothing was ever removed from), over a short-lived connection.
pub fn topic_start_offsets(
    settings: &KafkaSettings,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<Vec<(i32, i64)>, KafkaError> {
    Ok(watermarks(&metadata_client(settings)?, topic, timeout)?
        .into_iter()
        .map(|(p, low, _)| (p, low))
        .collect())
}

/// Reads the consumer lag of one group on one topic, as often as asked,
/// over one connection.
pub struct LagProbe {
    consumer: rdkafka::consumer::BaseConsumer<crate::Quiet>,
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
        let consumer: rdkafka::consumer::BaseConsumer<crate::Quiet> = settings
            .client_config(&[("group.id", group), ("enable.auto.commit", "false")])
            .create_with_context(crate::Quiet)
            .map_err(|source| KafkaError::client("lag probe", settings, source))?;
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

#[cfg(test)]
mod tests {
    /// What a rolling restart shows a reader passes; a head removed
    /// meanwhile, a refused ACL or a fatal error does not.
    #[test]
    fn only_errors_librdkafka_recovers_from_pass() {
        use rdkafka::error::KafkaError as E;
        use rdkafka::types::RDKafkaErrorCode as C;
        for code in [
            C::BrokerTransportFailure,
            C::AllBrokersDown,
            C::NotLeaderForPartition,
        ] {
            assert!(super::passing(&E::MessageConsumption(code)), "{code:?}");
        }
        for e in [
            E::MessageConsumption(C::AutoOffsetReset),
            E::MessageConsumption(C::TopicAuthorizationFailed),
            E::MessageConsumptionFatal(C::BrokerTransportFailure),
            E::PartitionEOF(0),
        ] {
            assert!(!super::passing(&e), "{e:?}");
        }
    }

    use super::*;

    /// A topic the broker does not know is absent; one the principal may
    /// not describe is an error naming the topic (callers that read an
    /// absent topic as empty must not read a refused one so).
    #[test]
    fn a_refused_topic_is_an_error_and_an_unknown_one_absent() {
        let absent = |r: Result<i32, KafkaError>| matches!(r, Err(KafkaError::UnknownTopic { .. }));
        assert!(absent(partitions_of("t", None)));
        assert!(absent(partitions_of("t", Some((0, None)))));
        assert!(absent(partitions_of(
            "t",
            Some((0, Some(RDKafkaErrorCode::UnknownTopicOrPartition)))
        )));
        assert_eq!(partitions_of("t", Some((3, None))).ok(), Some(3));
        let refused = partitions_of(
            "t",
            Some((0, Some(RDKafkaErrorCode::TopicAuthorizationFailed))),
        );
        match refused {
            Err(e @ KafkaError::Operation { .. }) => {
                assert!(e.to_string().contains("read metadata of t"), "{e}")
            }
            other => panic!("refused, not {other:?}"),
        }
    }
}
