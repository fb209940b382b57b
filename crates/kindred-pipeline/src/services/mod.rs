//! The Kafka services. Each is a poll loop of batches:
//! read a batch, process it, produce the outputs and wait for the broker's
//! acknowledgements, and only then commit the batch's input offsets.

pub mod deadletter;
pub mod ingest;
pub mod publish;
pub mod resolve;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_kafka::consumer::{CommitMode, ServiceConsumer};
use kindred_kafka::rdkafka::consumer::Consumer;
use kindred_kafka::rdkafka::error::KafkaError as KafkaClientError;
use kindred_kafka::rdkafka::message::{Message, OwnedMessage};
use kindred_kafka::{
    DeadLetter, GroupProtocol, KafkaSettings, OutRecord, Producer, RebalanceEvent, ServiceContext,
};
use kindred_ops::{Health, Metrics};

use crate::{PipelineError, Shutdown};

/// Metrics and health of one service, with its HTTP endpoint running.
pub struct Ops {
    pub metrics: Metrics,
    pub health: Health,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Ops {
    /// Starts the endpoint on `config.http.listen` for `service`.
    pub async fn start(config: &Config, service: &str) -> Result<Ops, PipelineError> {
        let metrics = Metrics::new(service);
        let health = Health::new(Duration::from_secs(config.http.stall_timeout_secs));
        let (addr, task) =
            kindred_ops::serve(&config.http.listen, metrics.clone(), health.clone()).await?;
        tracing::info!(%addr, service, "serving /metrics, /healthz, /readyz");
        Ok(Ops {
            metrics,
            health,
            addr,
            task,
        })
    }
}

impl Drop for Ops {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Kafka client settings from configuration.
pub fn kafka_settings(config: &Config) -> KafkaSettings {
    KafkaSettings {
        brokers: config.kafka.brokers.clone(),
        client: config.kafka.client.clone(),
        group_protocol: match config.kafka.group_protocol {
            kindred_config::GroupProtocol::Classic => GroupProtocol::Classic,
            kindred_config::GroupProtocol::Consumer => GroupProtocol::Consumer,
        },
    }
}

/// How often a waiting poll loop checks its partition assignment for `/readyz`.
const READY_RECHECK: Duration = Duration::from_secs(1);

/// How large a batch may grow: `messages`, and `bytes` of keys and
/// payloads as read (a batch holds at least one message, however large).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchLimit {
    pub messages: usize,
    pub bytes: u64,
}

/// Waits for the first message (or shutdown), then gathers more until the
/// [`BatchLimit`] is reached or `linger` has passed. Returns an empty batch on shutdown, or
/// when `interrupted` says so while no message is waiting (the resolver's
/// publisher stopped: an idle input must not hide it); and an error when
/// the consumer failed for good (fenced by another instance with the same
/// `group.instance.id`): the service must stop, not spin.
pub(crate) async fn next_batch(
    consumer: &ServiceConsumer,
    limit: BatchLimit,
    linger: Duration,
    shutdown: &Shutdown,
    ops: &Ops,
    interrupted: &(dyn Fn() -> bool + Sync),
    healthy: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<OwnedMessage>, PipelineError> {
    let mut batch = Vec::new();
    let mut bytes = 0u64;
    let mut deadline = None;
    let mut idle_since: Option<Instant> = None;
    let mut recommitted: Option<Instant> = None;
    let mut ready_checked: Option<Instant> = None;
    loop {
        ops.health.progress();
        // Ready while the consumer holds partitions (and `healthy` says
        // the service's outputs go out): checked at every batch and every
        // second, so a replica whose partitions were revoked (or whose
        // consumer was rebuilt) turns unready, not only one starting.
        if ready_checked.is_none_or(|t| t.elapsed() >= READY_RECHECK) {
            ready_checked = Some(Instant::now());
            let assigned = consumer.assignment().unwrap_or_default();
            set_assigned(consumer, &assigned, ops);
            ops.health.set_ready(assigned.count() > 0 && healthy());
        }
        // Never longer than half a second: liveness hears from the loop
        // while a batch lingers too (up to a minute), not only between
        // batches.
        let wait = match deadline {
            None => POLL_WAIT,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(batch);
                }
                (d - now).min(POLL_WAIT)
            }
        };
        tokio::select! {
            // Shutdown first when both are ready: a triggered shutdown
            // starts no other batch, and ends a lingering one now (it is
            // processed; the next call returns nothing): a linger of up to a
            // minute must not outlast `shutdown.timeout_secs`.
            biased;
            _ = shutdown.wait() => return Ok(batch),
            received = tokio::time::timeout(wait, consumer.recv()) => match received {
                Err(_elapsed) => {
                    if interrupted() {
                        return Ok(batch);
                    }
                    // Lingering: the loop's top returns the batch at its
                    // deadline.
                    if deadline.is_some() {
                        continue;
                    }
                    // Idle: everything read is processed. Its positions
                    // are committed again now and then: an asynchronous
                    // commit that failed (a rebalance, a broker restart)
                    // would otherwise leave the group's offsets, and the
                    // lag monitoring sees, behind until traffic came back
                    // (a failed one is only logged, by the consumer context).
                    let idle = idle_since.get_or_insert_with(Instant::now).elapsed();
                    if idle >= RECOMMIT_IDLE
                        && recommitted.is_none_or(|t| t.elapsed() >= RECOMMIT_IDLE)
                    {
                        recommitted = Some(Instant::now());
                        recommit_positions(consumer, ops);
                    }
                }
                Ok(Ok(message)) => {
                    let message = message.detach();
                    bytes += (message.payload().map_or(0, <[u8]>::len) + message.key().map_or(0, <[u8]>::len)) as u64;
                    batch.push(message);
                    // At least one message, however large.
                    if batch.len() >= limit.messages || bytes >= limit.bytes {
                        return Ok(batch);
                    }
                    deadline.get_or_insert_with(|| Instant::now() + linger);
                }
                Ok(Err(e @ KafkaClientError::MessageConsumptionFatal(_))) => {
                    ops.metrics.component_errors.with_label_values(&["kafka_consume", "consume"]).inc();
                    return Err(PipelineError::Consumer(e.to_string()));
                }
                Ok(Err(e)) => {
                    ops.metrics.component_errors.with_label_values(&["kafka_consume", "consume"]).inc();
                    if let Some(held_back) = kindred_kafka::admit_log(&e.to_string()) {
                        tracing::warn!(error = %e, held_back, "consumer error; librdkafka retries on its own");
                    }
                    if !batch.is_empty() {
                        return Ok(batch);
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }
}

/// What a wait in which the service reads nothing (the resolver's outbox
/// above its backlog limit) has read and paused ([`poll_paused`]).
#[derive(Default)]
pub(crate) struct PausedWait {
    /// Messages read during the wait, for the next batch, in order.
    pub held: Vec<OwnedMessage>,
    /// Every partition the wait paused: resumed at its end whether the
    /// consumer holds it then or not (librdkafka keeps a partition's
    /// pause through a rebalance that takes it away and gives it back).
    paused: std::collections::BTreeSet<(String, i32)>,
    /// When the paused partitions' ends were last asked for (the lag
    /// gauge's, [`kindred_kafka::consumer::note_log_ends`]).
    ends_asked: Option<std::time::Instant>,
}

/// How often a wait asks for its paused partitions' ends: librdkafka's
/// statistics interval, which reports the lag.
const PAUSED_ENDS_EVERY: Duration = Duration::from_secs(5);

/// One turn of such a wait: polls `consumer` for up to `wait` with every
/// assigned partition paused. The consumer stays in its group (librdkafka
/// leaves it after `max.poll.interval.ms`, 5 minutes, without a poll, and
/// the partitions are lost), its rebalances are served and its statistics
/// (the lag gauge) keep coming. A message of a partition assigned
/// meanwhile (not paused yet) is held for the next batch, and its
/// partition paused. False once the consumer failed for good (the next
/// batch surfaces it; the caller stops polling).
pub(crate) async fn poll_paused(
    consumer: &ServiceConsumer,
    wait_state: &mut PausedWait,
    wait: Duration,
    ops: &Ops,
) -> bool {
    // What the previous turns paused (this one pauses what was assigned
    // since).
    if !wait_state.paused.is_empty()
        && wait_state
            .ends_asked
            .is_none_or(|at| at.elapsed() >= PAUSED_ENDS_EVERY)
    {
        wait_state.ends_asked = Some(std::time::Instant::now());
        let paused: Vec<(String, i32)> = wait_state.paused.iter().cloned().collect();
        tokio::task::block_in_place(|| {
            // Within a heartbeat: liveness sees no gap.
            kindred_kafka::consumer::note_log_ends(consumer, paused, ops.health.heartbeat_period())
        });
    }
    let mut pause = |list: &kindred_kafka::rdkafka::TopicPartitionList| {
        if list.count() == 0 {
            return;
        }
        for e in list.elements() {
            wait_state
                .paused
                .insert((e.topic().to_string(), e.partition()));
        }
        if let Err(e) = consumer.pause(list) {
            tracing::debug!(error = %e, "pausing partitions failed");
        }
    };
    if let Ok(assigned) = consumer.assignment() {
        set_assigned(consumer, &assigned, ops);
        pause(&assigned);
    }
    match tokio::time::timeout(wait, consumer.recv()).await {
        Err(_elapsed) => true,
        Ok(Ok(message)) => {
            let mut one = kindred_kafka::rdkafka::TopicPartitionList::new();
            one.add_partition(message.topic(), message.partition());
            pause(&one);
            wait_state.held.push(message.detach());
            true
        }
        Ok(Err(e)) => {
            ops.metrics
                .component_errors
                .with_label_values(&["kafka_consume", "consume"])
                .inc();
            if matches!(e, KafkaClientError::MessageConsumptionFatal(_)) {
                return false;
            }
            if let Some(held_back) = kindred_kafka::admit_log(&e.to_string()) {
                tracing::warn!(error = %e, held_back, "consumer error; librdkafka retries on its own");
            }
            true
        }
    }
}

/// Resumes every partition the wait paused, held now or not, and every
/// one held now (after [`poll_paused`]): librdkafka keeps a partition's
/// pause through a rebalance that takes it away and gives it back.
pub(crate) fn resume_paused(consumer: &ServiceConsumer, wait_state: &PausedWait) {
    // Fetched again: librdkafka's statistics follow their ends.
    consumer.context().forget_log_ends();
    let mut list = consumer.assignment().unwrap_or_default();
    for (topic, partition) in &wait_state.paused {
        if list.find_partition(topic, *partition).is_none() {
            list.add_partition(topic, *partition);
        }
    }
    if list.count() > 0 {
        // Per partition: one no longer known to the client is skipped.
        if let Err(e) = consumer.resume(&list) {
            tracing::warn!(error = %e, "resuming partitions failed");
        }
    }
}

/// How long a wait on the broker or the schema registry (a batch's produce
/// or schema lookups) may take before the service polls its consumer
/// meanwhile ([`polling_while`]). Far above a healthy produce's
/// milliseconds, far below `max.poll.interval.ms` (5 minutes by default;
/// librdkafka allows no less than `session.timeout.ms`, at least 6 s on a
/// default broker).
const POLL_WHILE_WAITING_AFTER: Duration = Duration::from_secs(2);

/// Awaits `work` (a batch's produce or schema lookups, which retry for as
/// long as the broker or registry refuses) and, once it has taken
/// [`POLL_WHILE_WAITING_AFTER`], polls `consumer` meanwhile, its
/// partitions paused ([`poll_paused`]): a member that does not poll for
/// `max.poll.interval.ms` leaves its group, and the rebalance moves its
/// partitions to members no better off. What the polls read (a partition
/// assigned meanwhile) is added to `held`, for the next batch; every
/// partition paused is resumed when `work` is done.
pub(crate) async fn polling_while<F: std::future::Future>(
    consumer: &ServiceConsumer,
    work: F,
    held: &mut Vec<OwnedMessage>,
    ops: &Ops,
) -> F::Output {
    tokio::pin!(work);
    tokio::select! {
        done = &mut work => return done,
        _ = tokio::time::sleep(POLL_WHILE_WAITING_AFTER) => {}
    }
    let mut paused = PausedWait::default();
    let mut polling = true;
    let done = loop {
        if !polling {
            // The consumer failed for good: its next batch says so.
            break (&mut work).await;
        }
        tokio::select! {
            biased;
            done = &mut work => break done,
            going = poll_paused(consumer, &mut paused, Duration::from_millis(50), ops) => polling = going,
        }
    };
    resume_paused(consumer, &paused);
    held.append(&mut paused.held);
    done
}

/// Sets `kindred_consumer_assigned_partitions{topic}`: the partitions of
/// each topic `consumer` subscribes to that `assigned` holds (0 for one
/// it holds none of).
pub(crate) fn set_assigned(
    consumer: &ServiceConsumer,
    assigned: &kindred_kafka::rdkafka::TopicPartitionList,
    ops: &Ops,
) {
    let mut held: BTreeMap<String, i64> = consumer
        .subscription()
        .map(|s| {
            s.elements()
                .iter()
                .map(|e| (e.topic().to_string(), 0))
                .collect()
        })
        .unwrap_or_default();
    for e in assigned.elements() {
        *held.entry(e.topic().to_string()).or_default() += 1;
    }
    for (topic, n) in held {
        ops.metrics
            .assigned_partitions
            .with_label_values(&[&topic])
            .set(n);
    }
}

/// The offsets a batch covers, per partition, for its span:
/// `0:100-599 2:40-80` (partition:first-last) for messages of the service's
/// own topic `main`; a message of another topic (the resolver's erasure and
/// decision requests) is named with its topic,
/// `kindred.erasure.requests/0:7-7`.
pub(crate) fn offset_ranges(batch: &[OwnedMessage], main: &str) -> String {
    let mut ranges: BTreeMap<(bool, &str, i32), (i64, i64)> = BTreeMap::new();
    for m in batch {
        let r = ranges
            .entry((m.topic() != main, m.topic(), m.partition()))
            .or_insert((m.offset(), m.offset()));
        r.0 = r.0.min(m.offset());
        r.1 = r.1.max(m.offset());
    }
    ranges
        .iter()
        .map(|((other, topic, p), (first, last))| {
            if *other {
                format!("{topic}/{p}:{first}-{last}")
            } else {
                format!("{p}:{first}-{last}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Observes, for each message of a batch, the seconds since its record
/// timestamp (`kindred_event_lag_seconds{stage}`).
pub(crate) fn observe_event_lag(ops: &Ops, stage: &str, batch: &[OwnedMessage]) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let histogram = ops.metrics.event_lag.with_label_values(&[stage]);
    for m in batch {
        if let Some(ts) = raw_timestamp_ms(m) {
            // A producer's clock ahead of ours gives a negative lag: count it as 0.
            histogram.observe(now_ms.saturating_sub(ts).max(0) as f64 / 1000.0);
        }
    }
}

/// Header of a canonical record: its raw record's Kafka timestamp (ms),
/// which the resolver's end-to-end lag starts from. The canonical record
/// itself is stamped when ingest produces it, so the canonical topic's
/// retention counts from then: a re-ingested backlog of old raw records
/// is not deleted before the resolver reads it.
pub const RAW_TIMESTAMP_HEADER: &str = "kindred.raw.timestamp_ms";

/// When the raw record behind `m` was written: the header ingest sets, or
/// `m`'s own timestamp (a raw record, or a canonical one from an older
/// ingest).
pub(crate) fn raw_timestamp_ms(m: &OwnedMessage) -> Option<i64> {
    header(m, RAW_TIMESTAMP_HEADER)
        .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
        .or_else(|| m.timestamp().to_millis())
}

/// Counts and logs the rebalances of a service's consumer.
pub(crate) fn rebalance_listener(metrics: &Metrics) -> impl Fn(&RebalanceEvent) + Send + Sync {
    let metrics = metrics.clone();
    move |event| {
        let label = match event {
            RebalanceEvent::Assigned(parts) => {
                for (topic, partition, start) in parts {
                    tracing::info!(%topic, partition, start_offset = ?start, "partition assigned");
                }
                "assigned"
            }
            RebalanceEvent::Revoked(parts) => {
                for (topic, partition) in parts {
                    tracing::info!(%topic, partition, "partition revoked");
                }
                "revoked"
            }
            RebalanceEvent::Failed(reason) => {
                tracing::warn!(%reason, "rebalance failed");
                "failed"
            }
        };
        metrics.rebalances.with_label_values(&[label]).inc();
    }
}

/// `context` reporting its partitions' lag to `kindred_consumer_lag_messages`.
pub(crate) fn with_lag_metrics(context: ServiceContext, metrics: &Metrics) -> ServiceContext {
    let metrics = metrics.clone();
    context.with_lag(move |parts| {
        let lags: Vec<_> = parts
            .iter()
            .map(|p| (p.topic.clone(), p.partition, p.messages))
            .collect();
        metrics.set_consumer_lag(&lags);
    })
}

/// Counts the messages deleted from a partition before this service
/// processed them (`kindred_consumer_skipped_messages_total`, and an
/// error log). A consumer whose next offset was deleted (retention,
/// `kafka-delete-records`) is reset to the log start
/// (`auto.offset.reset=earliest`) and reads on from there without a word;
/// what it skipped shows as a gap in the offsets it delivers: before the
/// first message of a partition in `batch`, measured from `expected` (the
/// next offset the service had yet to process there, if it knows), or
/// between two messages of the batch (a reset while it was reading). Gaps
/// are normal on a transactional topic (each commit marker takes an
/// offset), so only a gap of more than one offset is checked against the
/// partition's log start (one broker round trip per partition and batch);
/// a single deleted message is not noticed, and what is counted are
/// offsets (markers among them too). Blocking: call it inside
/// `block_in_place`.
pub(crate) fn count_skipped(
    consumer: &ServiceConsumer,
    metrics: &Metrics,
    batch: &[OwnedMessage],
    expected: &dyn Fn(&str, i32) -> Option<i64>,
) {
    let offsets = batch.iter().map(|m| (m.topic(), m.partition(), m.offset()));
    for ((topic, partition), gaps) in offset_gaps(offsets, expected) {
        let log_start = match consumer.fetch_watermarks(topic, partition, Duration::from_secs(5)) {
            Ok((low, _)) => low,
            Err(e) => {
                tracing::warn!(%topic, partition, error = %e, "cannot read the log start to check a gap in the offsets");
                continue;
            }
        };
        for (from, offset) in gaps {
            if log_start <= from {
                continue;
            }
            let to = log_start.min(offset);
            metrics
                .skipped_messages
                .with_label_values(&[topic])
                .inc_by((to - from).unsigned_abs());
            tracing::error!(%topic, partition, from, to, messages = to - from,
                "messages were deleted from the partition before they were processed (retention or delete-records): they are lost to kindred");
        }
    }
}

/// The gaps of more than one offset in `offsets` (topic, partition,
/// offset, in the order delivered), per partition, as (next offset
/// expected, offset delivered): before a partition's first offset,
/// measured from `expected`, and between its consecutive offsets.
fn offset_gaps<'a>(
    offsets: impl Iterator<Item = (&'a str, i32, i64)>,
    expected: &dyn Fn(&str, i32) -> Option<i64>,
) -> BTreeMap<(&'a str, i32), Vec<(i64, i64)>> {
    let mut next: BTreeMap<(&str, i32), Option<i64>> = BTreeMap::new();
    let mut gaps: BTreeMap<(&str, i32), Vec<(i64, i64)>> = BTreeMap::new();
    for (topic, partition, offset) in offsets {
        let key = (topic, partition);
        let from = *next
            .entry(key)
            .or_insert_with(|| expected(topic, partition));
        if let Some(from) = from.filter(|f| offset > f + 1) {
            gaps.entry(key).or_default().push((from, offset));
        }
        next.insert(key, Some(offset + 1));
    }
    gaps
}

/// How long a service waits idle before it commits its positions again,
/// and how often it does while it stays idle.
const RECOMMIT_IDLE: Duration = Duration::from_secs(10);

/// Commits the consumer's position in every assigned partition it has
/// read from (asynchronously).
fn recommit_positions(consumer: &ServiceConsumer, ops: &Ops) {
    let positions = match consumer.position() {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the consumer's positions to commit them again");
            return;
        }
    };
    let next: Vec<(String, i32, i64)> = positions
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            kindred_kafka::rdkafka::Offset::Offset(o) => {
                Some((e.topic().to_string(), e.partition(), o))
            }
            _ => None,
        })
        .collect();
    if next.is_empty() {
        return;
    }
    if let Err(e) = kindred_kafka::consumer::commit(consumer, &next, CommitMode::Async) {
        commit_failures(ops).inc();
        tracing::warn!(error = %e, "offset commit of an idle consumer failed");
    }
}

/// The count of a consumer's offset commits that failed, refused when asked
/// or by the broker afterwards: one series, `kafka_commit` in the consumer's
/// stage, wherever the commit was made.
pub(crate) fn commit_failures(ops: &Ops) -> prometheus::IntCounter {
    ops.metrics
        .component_errors
        .with_label_values(&["kafka_commit", "consume"])
}

/// The group's committed offset of a partition, if it has one (a broker
/// round trip; blocking).
pub(crate) fn committed_offset(
    consumer: &ServiceConsumer,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    committed_offsets(consumer, &[(topic.to_string(), partition)])
        .remove(&(topic.to_string(), partition))
}

/// The group's committed offsets of `partitions`, in one call to the
/// coordinator (those with none, or all when it does not answer, are left
/// out).
pub(crate) fn committed_offsets(
    consumer: &ServiceConsumer,
    partitions: &[(String, i32)],
) -> BTreeMap<(String, i32), i64> {
    let mut list = kindred_kafka::rdkafka::TopicPartitionList::new();
    for (topic, partition) in partitions {
        list.add_partition(topic, *partition);
    }
    let Ok(committed) = consumer.committed_offsets(list, Duration::from_secs(5)) else {
        return BTreeMap::new();
    };
    committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            kindred_kafka::rdkafka::Offset::Offset(o) => {
                Some(((e.topic().to_string(), e.partition()), o))
            }
            _ => None,
        })
        .collect()
}

/// The next offset to read for each (topic, partition) of a batch.
pub(crate) fn next_offsets(batch: &[OwnedMessage]) -> Vec<(String, i32, i64)> {
    let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for m in batch {
        let slot = next
            .entry((m.topic().to_string(), m.partition()))
            .or_insert(0);
        *slot = (*slot).max(m.offset() + 1);
    }
    next.into_iter().map(|((t, p), o)| (t, p, o)).collect()
}

/// What [`unapplied`] kept of a batch.
pub(crate) struct Unapplied {
    pub(crate) messages: Vec<OwnedMessage>,
    /// Messages dropped: applied already, or held twice.
    pub(crate) dropped: usize,
    /// Partitions whose log ends before the state's position: recreated
    /// (or truncated), so their offsets name new messages.
    pub(crate) recreated: Vec<(String, i32)>,
}

/// The messages of `batch` not applied yet, in order, each (topic,
/// partition, offset) once. A message below its partition's `applied`
/// position (the state's: where it continues) is applied, and so is a
/// second copy of an offset the batch holds. Both happen when a partition
/// is revoked and assigned again: it restarts at the state's position, and
/// the consumer hands over again what the batch holds, or, when the batch
/// was applied before the rebalance ended, what the last one applied.
/// Events would be skipped by their source id anyway; a request (an
/// erasure, a review) would be carried out twice. Except where the
/// partition's log now ends before that position (`log_end`, asked only
/// then): the topic was recreated, and its offsets are new messages.
pub(crate) fn unapplied(
    batch: Vec<OwnedMessage>,
    applied: &dyn Fn(&str, i32) -> Option<i64>,
    log_end: &dyn Fn(&str, i32) -> Option<i64>,
) -> Unapplied {
    let before = batch.len();
    let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let mut recreated: Vec<(String, i32)> = Vec::new();
    // Asked once per partition: a re-delivery can be many messages.
    let mut ends: BTreeMap<(String, i32), Option<i64>> = BTreeMap::new();
    let messages: Vec<OwnedMessage> = batch
        .into_iter()
        .filter(|m| {
            let key = (m.topic().to_string(), m.partition());
            let fresh = match next.get(&key) {
                Some(n) => m.offset() >= *n,
                None => match applied(m.topic(), m.partition()) {
                    Some(position) if m.offset() < position => {
                        let end = *ends
                            .entry(key.clone())
                            .or_insert_with(|| log_end(m.topic(), m.partition()));
                        let gone = end.is_some_and(|end| end < position);
                        if gone && !recreated.contains(&key) {
                            recreated.push(key.clone());
                        }
                        gone
                    }
                    _ => true,
                },
            };
            if fresh {
                next.insert(key, m.offset() + 1);
            }
            fresh
        })
        .collect();
    Unapplied {
        dropped: before - messages.len(),
        messages,
        recreated,
    }
}

/// The dead-letter record for a message that could not be processed.
pub(crate) fn dead_letter(
    dlq_topic: &str,
    service: &str,
    message: &OwnedMessage,
    reason: &str,
    detail: String,
) -> OutRecord {
    dead_letter_of(
        dlq_topic,
        service,
        message,
        reason,
        detail,
        message.payload().unwrap_or_default(),
    )
}

/// [`dead_letter`] carrying `payload` instead of the message's own bytes.
pub(crate) fn dead_letter_of(
    dlq_topic: &str,
    service: &str,
    message: &OwnedMessage,
    reason: &str,
    detail: String,
    payload: &[u8],
) -> OutRecord {
    let mut record = DeadLetter {
        reason: reason.to_string(),
        message: detail,
        source_topic: message.topic().to_string(),
        source_partition: message.partition(),
        source_offset: message.offset(),
        service: service.to_string(),
    }
    .into_record(dlq_topic, message.key(), payload);
    let headers = kindred_kafka::headers::of(message);
    let headers = headers
        .iter()
        .filter_map(|(name, value)| value.map(|v| (name.as_ref(), v)));
    DeadLetter::carry_source(&mut record, message.timestamp().to_millis(), headers);
    record
}

/// Ends [`SEND_GRACE_AFTER_STOP`] after a stop: what a send waiting on the
/// broker is given once the service is told to stop.
async fn stopped_with_grace(shutdown: &Shutdown) {
    shutdown.wait().await;
    tokio::time::sleep(SEND_GRACE_AFTER_STOP).await;
}

/// Sends `records` until the broker acknowledged all of them, retrying with
/// backoff only those not acknowledged yet. Returns false if shutdown came
/// first (nothing is then committed, so the batch is read again after
/// restart).
///
/// A record that can never be produced (too large for the topic, refused
/// as invalid: [`kindred_kafka::KafkaError::is_unproducible`]) is handed to
/// `instead`, which gives what to send in its place (a dead letter of its
/// source message), or `None`: a dead letter then goes again as its
/// envelope alone ([`DeadLetter::without_payload`]), and anything else (or
/// an envelope refused too) stops the service with an error naming the
/// message rather than drop it: one bad record must not stall the batch
/// forever.
///
/// The service stays live while it waits (a broker outage is not cured by
/// restarting the pod: it would only add a rebalance), but turns unready
/// from the first failure until the next batch finds it assigned again.
pub(crate) async fn send_until_acked(
    producer: &Producer,
    records: &[OutRecord],
    shutdown: &Shutdown,
    ops: &Ops,
    stage: &str,
    instead: &(dyn Fn(usize, &OutRecord, &kindred_kafka::KafkaError) -> Option<OutRecord> + Sync),
) -> Result<bool, PipelineError> {
    let mut backoff = Duration::from_millis(100);
    let mut pending: Vec<(usize, OutRecord)> = records.iter().cloned().enumerate().collect();
    while !pending.is_empty() {
        let batch: Vec<OutRecord> = pending.iter().map(|(_, r)| r.clone()).collect();
        // Records are acknowledged in milliseconds when the broker is up;
        // when it is not, a send waits up to `message.timeout.ms` (two
        // minutes), longer than a stop may take: after a stop, two seconds
        // more, then the batch is given up (nothing of it is committed).
        let outcomes = tokio::select! {
            outcomes = while_live(producer.send_each(&batch), ops) => outcomes,
            () = stopped_with_grace(shutdown) => return Ok(false),
        };
        let (mut failed, mut suspects) = (Vec::new(), Vec::new());
        let mut first_error = None;
        for ((i, record), outcome) in pending.into_iter().zip(outcomes) {
            match outcome {
                Ok(_) => acknowledged(&record, ops),
                Err(e) if e.is_unproducible() => suspects.push((i, record)),
                Err(e) => {
                    first_error.get_or_insert(e);
                    failed.push((i, record));
                }
            }
        }
        // The broker refuses a whole produce request for one record in it
        // that is too large, so each suspect is tried again alone: only
        // one refused alone is replaced.
        for (i, record) in suspects {
            // As the batch's send: a stop gives it two seconds more.
            let sent = tokio::select! {
                sent = while_live(producer.send(&record), ops) => sent,
                () = stopped_with_grace(shutdown) => return Ok(false),
            };
            match sent {
                Ok(_) => acknowledged(&record, ops),
                Err(e) if e.is_unproducible() => {
                    // A dead letter its topic refuses goes again as its
                    // envelope alone (the message is at its source).
                    match instead(i, &record, &e).or_else(|| DeadLetter::without_payload(&record)) {
                        Some(replacement) => {
                            tracing::warn!(error = %e, topic = %record.topic, instead = %unproducible(&replacement), "a record cannot be produced: sending its replacement");
                            failed.push((i, replacement));
                        }
                        None => {
                            return Err(PipelineError::Unproducible {
                                what: unproducible(&record),
                                source: Box::new(e),
                            })
                        }
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                    failed.push((i, record));
                }
            }
        }
        pending = failed;
        if let Some(e) = first_error {
            ops.metrics
                .component_errors
                .with_label_values(&["kafka_produce", stage])
                .inc();
            // A producer librdkafka gave up on fails every send from now
            // on: stop (nothing of the batch is committed, so it is read
            // again) and let the restart bring a new one, rather than
            // retry for ever while liveness says all is well.
            if let Some(fatal) = producer.fatal_error() {
                return Err(PipelineError::Kafka(fatal));
            }
            tracing::warn!(error = %e, records = pending.len(), retry_in_ms = backoff.as_millis() as u64, "produce failed; retrying the records not acknowledged");
            if !wait_to_retry(&mut backoff, shutdown, ops).await {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Counts a record the broker acknowledged: produced, and for a dead
/// letter `kindred_dead_letters_total` (per delivery: a letter never
/// delivered is not counted; one delivered again after a restart is, as
/// the topic then holds it twice).
fn acknowledged(record: &OutRecord, ops: &Ops) {
    ops.metrics
        .events_produced
        .with_label_values(&[&record.topic])
        .inc();
    let headers = record
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()));
    if let Some(d) = DeadLetter::from_headers(headers) {
        ops.metrics
            .dead_letters
            .with_label_values(&[&d.source_topic, &d.reason])
            .inc();
    }
}

/// What a record that cannot be produced is, for an operator: a dead
/// letter by the message it stands for, any other record by its topic (not
/// its key: personal data).
fn unproducible(record: &OutRecord) -> String {
    let headers = record
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()));
    let bytes = record.payload.len() + record.key.as_ref().map_or(0, Vec::len);
    let what = format!("a {bytes}-byte record for {}", record.topic);
    match DeadLetter::from_headers(headers) {
        Some(d) => format!(
            "the dead letter ({}) of {} partition {} offset {}, {what}",
            d.reason, d.source_topic, d.source_partition, d.source_offset
        ),
        None => what,
    }
}

/// The longest a poll waits for a message before the loop tells liveness
/// it is alive (and checks readiness and the linger deadline).
const POLL_WAIT: Duration = Duration::from_millis(500);

/// How long a send in flight when the service is told to stop may still
/// take before its batch is given up.
const SEND_GRACE_AFTER_STOP: Duration = Duration::from_secs(2);

/// Awaits `work` while telling liveness the service is alive (a wait on
/// the broker or the registry is not a stall).
async fn while_live<F: std::future::Future>(work: F, ops: &Ops) -> F::Output {
    tokio::pin!(work);
    let mut alive = tokio::time::interval(ops.health.heartbeat_period());
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = alive.tick() => ops.health.progress(),
        }
    }
}

/// How long [`alive_while`] keeps telling liveness the service is alive.
const HEARTBEAT_LIMIT: Duration = Duration::from_secs(600);

/// Runs blocking `work` (a store write) on this worker thread while a
/// heartbeat tells liveness the service is alive, for at most
/// [`HEARTBEAT_LIMIT`]: a long recomputation or a RocksDB write stall is
/// not a stuck loop (a restart would only start it again), but one stuck
/// for ten minutes is.
pub(crate) fn alive_while<T>(ops: &Ops, work: impl FnOnce() -> T) -> T {
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let heart = scope.spawn(|| {
            let started = Instant::now();
            let period = ops.health.heartbeat_period();
            while !done.load(std::sync::atomic::Ordering::Acquire)
                && started.elapsed() < HEARTBEAT_LIMIT
            {
                ops.health.progress();
                std::thread::park_timeout(period);
            }
        });
        // Stops the heart when `work` returns and when it panics: the
        // scope waits for the heart before the panic goes on, which kept
        // the service live (and stuck) for `HEARTBEAT_LIMIT`.
        struct Stop<'a> {
            done: &'a std::sync::atomic::AtomicBool,
            heart: &'a std::thread::Thread,
        }
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.done.store(true, std::sync::atomic::Ordering::Release);
                self.heart.unpark();
            }
        }
        let _stop = Stop {
            done: &done,
            heart: heart.thread(),
        };
        tokio::task::block_in_place(work)
    })
}

/// After a failure that waiting may cure: unready, still live, then sleeps
/// `backoff` (doubled for next time, up to 10 s). `false` when shutdown
/// came first: the caller stops without finishing the batch.
async fn wait_to_retry(backoff: &mut Duration, shutdown: &Shutdown, ops: &Ops) -> bool {
    ops.health.set_ready(false);
    if shutdown.is_triggered() {
        return false;
    }
    // A stop during the wait ends it: the sleep may be longer than
    // `shutdown.timeout_secs`, after which the watchdog would exit
    // without closing the consumer. Live meanwhile, however short
    // `http.stall_timeout_secs` is against the backoff's 10 s.
    let slept = while_live(
        async {
            tokio::select! {
                _ = tokio::time::sleep(*backoff) => true,
                _ = shutdown.wait() => false,
            }
        },
        ops,
    )
    .await;
    if !slept {
        return false;
    }
    *backoff = (*backoff * 2).min(Duration::from_secs(10));
    true
}

/// Learns the schema ids of `batch` the codec does not know from the
/// schema registry ([`Schemas::learn`]), retrying while the registry cannot
/// answer: the batch is not decoded (so not dead-lettered) until it can.
/// Like [`send_until_acked`], the service stays live and turns unready while
/// it waits. Returns `false` when shutdown comes first; fails when the
/// registry refuses kindred (credentials, a wrong URL).
pub(crate) async fn learn_until_known(
    schemas: &crate::Schemas,
    batch: &[OwnedMessage],
    shutdown: &Shutdown,
    ops: &Ops,
    stage: &str,
) -> Result<bool, PipelineError> {
    let mut backoff = Duration::from_millis(200);
    loop {
        // One call per unknown id: the service reports progress meanwhile.
        // A stop ends the wait (a slow registry takes its timeout per id,
        // longer than a stop may last).
        // Biased, the lookup first: a batch read as the stop came (the
        // lingering one, which is processed) whose ids are known takes no
        // wait, and must not lose a coin toss to the stop.
        let learned = tokio::select! {
            biased;
            learned = while_live(schemas.learn(batch.iter().filter_map(|m| m.payload())), ops) => learned,
            _ = shutdown.wait() => return Ok(false),
        };
        match learned {
            Ok(()) => return Ok(true),
            Err(PipelineError::Registry(e)) if e.is_transient() => {
                ops.metrics
                    .component_errors
                    .with_label_values(&["schema_registry", stage])
                    .inc();
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "schema registry unavailable; retrying the batch");
                if !wait_to_retry(&mut backoff, shutdown, ops).await {
                    return Ok(false);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Header value of `key` in a message (a header name that is not UTF-8
/// read lossily, never a panic: [`kindred_kafka::headers`]).
pub fn header<'a>(message: &'a OwnedMessage, key: &str) -> Option<&'a [u8]> {
    kindred_kafka::headers::value(message, key)
}

#[cfg(test)]
mod tests {
    use super::{
        alive_while, offset_gaps, offset_ranges, send_until_acked, unapplied, wait_to_retry,
        Config, Duration, Ops,
    };
    use crate::shutdown::Shutdown;
    use crate::PipelineError;
    use kindred_kafka::rdkafka::message::{Message, OwnedMessage, Timestamp};
    use kindred_kafka::{KafkaError, KafkaSettings, OutRecord, Producer};

    #[test]
    fn gaps_of_more_than_one_offset_are_found_before_and_inside_a_batch() {
        let expected = |t: &str, p: i32| match (t, p) {
            ("a", 0) => Some(10),
            ("a", 1) => Some(5),
            _ => None,
        };
        let offsets = [
            ("a", 0, 11), // a commit marker at 10: not a gap
            ("a", 0, 12),
            ("a", 0, 40), // reset to the log start while reading
            ("a", 1, 9),  // 5..9 missing before the first message
            ("b", 0, 70), // nothing known: nothing to compare with
            ("b", 0, 75),
        ];
        let gaps = offset_gaps(offsets.into_iter(), &expected);
        assert_eq!(gaps.get(&("a", 0)), Some(&vec![(13, 40)]));
        assert_eq!(gaps.get(&("a", 1)), Some(&vec![(5, 9)]));
        assert_eq!(gaps.get(&("b", 0)), Some(&vec![(71, 75)]));
        assert_eq!(gaps.len(), 3);
    }

    /// A batch's span names its offsets per partition, and the topic of a
    /// message from another topic than the service's own (an erasure
    /// request in the resolver's batch is not a canonical event).
    #[test]
    fn a_batch_span_names_the_topic_of_requests() {
        let m = |t: &str, p: i32, o: i64| {
            OwnedMessage::new(None, None, t.into(), Timestamp::NotAvailable, p, o, None)
        };
        let batch = [
            m("events", 0, 8),
            m("events", 0, 12),
            m("requests", 0, 3),
            m("events", 2, 40),
        ];
        assert_eq!(
            offset_ranges(&batch, "events"),
            "0:8-12 2:40-40 requests/0:3-3"
        );
        assert_eq!(offset_ranges(&batch[..2], "events"), "0:8-12");
    }

    /// A partition revoked and assigned again restarts at the state's
    /// position: what the batch holds, or what the last batch applied,
    /// comes again. Each offset goes through once, in order; a partition
    /// whose log ends before the state's position was recreated, and its
    /// offsets are new.
    #[test]
    fn a_batch_keeps_each_unapplied_offset_once() {
        let m = |t: &str, p: i32, o: i64| {
            OwnedMessage::new(
                None,
                None,
                t.to_string(),
                Timestamp::NotAvailable,
                p,
                o,
                None,
            )
        };
        let applied = |t: &str, p: i32| match (t, p) {
            ("events", 0) => Some(10),
            ("events", 2) => Some(500),
            _ => None,
        };
        let asked = std::cell::Cell::new(0);
        let log_end = |t: &str, p: i32| {
            asked.set(asked.get() + 1);
            match (t, p) {
                ("events", 0) => Some(40),
                ("events", 2) => Some(3),
                _ => None,
            }
        };
        let batch = vec![
            m("events", 0, 8), // applied by the last batch
            m("events", 0, 9),
            m("events", 0, 10),
            m("events", 0, 11),
            m("requests", 0, 3),
            m("events", 0, 10), // handed over again after the re-assignment
            m("events", 0, 11),
            m("requests", 0, 3),
            m("events", 0, 12),
            m("events", 1, 0),
            m("events", 2, 0), // the topic was recreated: new messages
            m("events", 2, 1),
        ];
        let kept = unapplied(batch, &applied, &log_end);
        let offsets: Vec<(String, i32, i64)> = kept
            .messages
            .iter()
            .map(|m| (m.topic().to_string(), m.partition(), m.offset()))
            .collect();
        let want = [
            ("events", 0, 10),
            ("events", 0, 11),
            ("requests", 0, 3),
            ("events", 0, 12),
            ("events", 1, 0),
            ("events", 2, 0),
            ("events", 2, 1),
        ];
        assert_eq!(
            offsets,
            want.map(|(t, p, o)| (t.to_string(), p, o)).to_vec()
        );
        assert_eq!(kept.dropped, 5);
        assert_eq!(kept.recreated, vec![("events".to_string(), 2)]);
        assert_eq!(asked.get(), 2, "the log's end asked once per partition");
    }

    /// A store write longer than the stall timeout keeps the service live;
    /// the heartbeat stops with it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_store_write_is_not_a_stall() {
        let mut config = Config::default();
        config.http.listen = "127.0.0.1:0".into();
        config.http.stall_timeout_secs = 1;
        let ops = Ops::start(&config, "test").await.expect("ops");
        ops.health.progress();
        let live_throughout = alive_while(&ops, || {
            (0..5).all(|_| {
                std::thread::sleep(Duration::from_millis(500));
                ops.health.is_live()
            })
        });
        assert!(live_throughout, "live while the write ran 2.5 s");
        tokio::time::sleep(Duration::from_millis(2_200)).await;
        assert!(
            !ops.health.is_live(),
            "the heartbeat stopped with the write"
        );
    }

    /// A store write that panics stops the heartbeat at once: the panic
    /// goes on (it waited for the heartbeat's ten minutes, the service
    /// reported live and stuck meanwhile).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_store_write_stops_the_heartbeat() {
        let mut config = Config::default();
        config.http.listen = "127.0.0.1:0".into();
        config.http.stall_timeout_secs = 1;
        let ops = Ops::start(&config, "test").await.expect("ops");
        let started = std::time::Instant::now();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            alive_while(&ops, || -> () { panic!("a bug in the write") })
        }));
        assert!(caught.is_err(), "the panic goes on");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "at once, not after the heartbeat's limit"
        );
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert!(!ops.health.is_live(), "nothing beats any more");
    }

    /// A stop during a retry's back-off ends the wait at once: the back-off
    /// (up to 10 s) may be longer than the time a stop is given.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stop_ends_a_retry_wait() {
        let mut config = Config::default();
        config.http.listen = "127.0.0.1:0".into();
        let ops = Ops::start(&config, "test").await.expect("ops");
        let shutdown = Shutdown::new();
        let mut backoff = Duration::from_millis(50);
        assert!(
            wait_to_retry(&mut backoff, &shutdown, &ops).await,
            "no stop: it waits and goes on"
        );
        assert_eq!(backoff, Duration::from_millis(100), "doubled");
        let mut backoff = Duration::from_secs(10);
        ops.health.set_ready(true);
        let stopper = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            stopper.trigger();
        });
        let started = std::time::Instant::now();
        assert!(
            !wait_to_retry(&mut backoff, &shutdown, &ops).await,
            "stopped"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the wait ended with the stop, not after {backoff:?}: {:?}",
            started.elapsed()
        );
        assert!(!ops.health.is_ready(), "unready while it retries");
    }

    /// The service's ops, `config`'s schemas and a message framed with
    /// schema id `id`, for the schema lookup's tests.
    async fn learning(config: &Config, id: u8) -> (Ops, crate::Schemas, OwnedMessage) {
        let ops = Ops::start(config, "test").await.expect("ops");
        let schemas = crate::Schemas::from_config(config, &[])
            .await
            .expect("schemas");
        let message = OwnedMessage::new(
            Some(vec![0, 0, 0, 0, id, 2]),
            None,
            "t".into(),
            Timestamp::NotAvailable,
            0,
            0,
            None,
        );
        (ops, schemas, message)
    }

    /// A stop ends a wait on a registry that does not answer (each unknown
    /// id waits for the registry's timeout: the watchdog's deadline came
    /// first, and the service was killed without finishing).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stop_ends_a_wait_on_a_silent_registry() {
        // Takes connections (the kernel's backlog) and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut config = Config::default();
        config.http.listen = "127.0.0.1:0".into();
        config.schemas.registry.url = format!("http://{}", silent.local_addr().expect("addr"));
        config.schemas.registry.timeout_ms = 30_000;
        let (ops, schemas, message) = learning(&config, 42).await;
        let shutdown = Shutdown::new();
        let stopper = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            stopper.trigger();
        });
        let started = std::time::Instant::now();
        let learned = super::learn_until_known(&schemas, &[message], &shutdown, &ops, "test")
            .await
            .expect("no error");
        assert!(!learned, "stopped");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "ended with the stop, not the registry's timeout: {:?}",
            started.elapsed()
        );
    }

    /// A batch read as the stop came (the lingering one) is processed when
    /// its ids need no lookup: the stop raced the lookup, which lost half
    /// the time, and the batch was read again after the restart.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_read_as_the_stop_came_is_learned_when_nothing_waits() {
        let mut config = Config::default();
        config.http.listen = "127.0.0.1:0".into();
        let (ops, schemas, message) = learning(&config, 1).await;
        let shutdown = Shutdown::new();
        shutdown.trigger();
        for _ in 0..64 {
            let learned = super::learn_until_known(
                &schemas,
                std::slice::from_ref(&message),
                &shutdown,
                &ops,
                "test",
            )
            .await
            .expect("no error");
            assert!(learned, "the stop won over a lookup that takes no wait");
        }
    }

    /// A retry's back-off longer than the stall timeout keeps the service
    /// live (it told liveness once, then slept: with
    /// `http.stall_timeout_secs` under 10, /healthz failed halfway through
    /// each 10 s back-off of an outage, and the pod was restarted).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_back_off_longer_than_the_stall_timeout_stays_live() {
        let mut config = Config::default();
        config.http.listen = "127.0.0.1:0".into();
        config.http.stall_timeout_secs = 1;
        let ops = Ops::start(&config, "test").await.expect("ops");
        let shutdown = Shutdown::new();
        let mut backoff = Duration::from_secs(3);
        let waiting = {
            let (shutdown, health) = (shutdown.clone(), ops.health.clone());
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(2_000)).await;
                let live = health.is_live();
                shutdown.trigger();
                live
            })
        };
        assert!(
            !wait_to_retry(&mut backoff, &shutdown, &ops).await,
            "stopped"
        );
        assert!(
            waiting.await.expect("checked"),
            "live 2 s into a 3 s back-off"
        );
    }

    /// A producer librdkafka has failed fatally cannot send again: the
    /// service stops with the error (its restart brings a new producer)
    /// instead of retrying for ever while liveness stays green. The real
    /// client, failed by librdkafka's own fault-injection hook; the
    /// project's broker when it runs (the send fails before any traffic).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fatally_failed_producer_stops_the_service() {
        let mut config = Config::default();
        config.http.listen = "127.0.0.1:0".into();
        let ops = Ops::start(&config, "test").await.expect("ops");
        let port = std::env::var("KAFKA_PORT").unwrap_or_else(|_| "9092".into());
        let producer =
            Producer::new(&KafkaSettings::new(format!("127.0.0.1:{port}"))).expect("producer");
        producer.fail_fatally("a fault injected by a test");
        let record = OutRecord {
            topic: "kindred.test.fatal".into(),
            key: Some(b"k".to_vec()),
            payload: b"v".to_vec(),
            headers: Vec::new(),
            timestamp_ms: None,
        };
        let sent = tokio::time::timeout(
            Duration::from_secs(30),
            send_until_acked(
                &producer,
                &[record],
                &Shutdown::new(),
                &ops,
                "test",
                &|_, _, _| None,
            ),
        )
        .await
        .expect("no retrying for ever");
        match sent {
            Err(PipelineError::Kafka(KafkaError::Fatal { reason, .. })) => {
                assert!(reason.contains("a fault injected by a test"), "{reason}")
            }
            other => panic!("expected the fatal error, got {other:?}"),
        }
        let errors = ops
            .metrics
            .component_errors
            .with_label_values(&["kafka_produce", "test"])
            .get();
        assert_eq!(errors, 1, "counted once");
    }
}
