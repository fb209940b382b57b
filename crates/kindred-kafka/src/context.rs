//! The consumer context every kindred service uses: it reports rebalances
//! to the service, and for a service that keeps its own offsets (the
//! resolver keeps them in RocksDB, with the state they produced) it starts
//! each newly assigned partition at the stored position instead of Kafka's
//! committed offset.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaResult;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, Statistics, TopicPartitionList};

/// Where a service's own state says each partition continues: the next
/// offset to read, per (topic, partition). Shared between the poll loop,
/// which advances it after each durable batch, and the rebalance callback,
/// which reads it when partitions are assigned.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    inner: Arc<Mutex<BTreeMap<(String, i32), i64>>>,
}

impl Positions {
    pub fn new(initial: BTreeMap<(String, i32), i64>) -> Self {
        Positions {
            inner: Arc::new(Mutex::new(initial)),
        }
    }

    /// Records that `(topic, partition)` continues at `next_offset`.
    pub fn advance(&self, topic: &str, partition: i32, next_offset: i64) {
        let mut map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert((topic.to_string(), partition), next_offset);
    }

    /// The stored position of a partition, if the state has one.
    pub fn get(&self, topic: &str, partition: i32) -> Option<i64> {
        let map = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&(topic.to_string(), partition)).copied()
    }
}

/// What a rebalance did, as reported to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebalanceEvent {
    /// Partitions given to this member, with the offset each starts at
    /// (`None`: Kafka's committed offset, or `auto.offset.reset`).
    Assigned(Vec<(String, i32, Option<i64>)>),
    /// Partitions taken away from this member.
    Revoked(Vec<(String, i32)>),
    /// The rebalance failed (the group retries on its own).
    Failed(String),
}

type Listener = Arc<dyn Fn(&RebalanceEvent) + Send + Sync>;
type LagListener = Arc<dyn Fn(&[PartitionLag]) + Send + Sync>;

/// A partition's consumer lag, from librdkafka's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLag {
    pub topic: String,
    pub partition: i32,
    /// Messages between the partition's end (the last stable offset under
    /// `read_committed`) and the group's committed offset; before the group
    /// committed anything, the partition's whole retained length.
    pub messages: i64,
}

/// How often librdkafka reports statistics (and so consumer lag) to a
/// context with a lag listener, unless `statistics.interval.ms` is set.
pub const LAG_INTERVAL_MS: &str = "5000";

/// How often each partition was assigned to or taken from a consumer, as
/// of some moment ([`ServiceContext::assignment_epoch`]): a batch read
/// before a partition was taken away and given back commits nothing for
/// it ([`crate::consumer::commit_since`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignmentEpoch {
    /// Moves per (topic, partition).
    moves: BTreeMap<(String, i32), u64>,
    /// Rebalances that failed (the whole assignment dropped).
    failures: u64,
}

impl AssignmentEpoch {
    /// Whether `(topic, partition)` moved, or any rebalance failed, between
    /// `self` and `now`.
    pub fn moved_by(&self, now: &AssignmentEpoch, topic: &str, partition: i32) -> bool {
        let key = (topic.to_string(), partition);
        self.failures != now.failures || self.moves.get(&key) != now.moves.get(&key)
    }
}

/// The consumer context of kindred's services.
#[derive(Clone)]
pub struct ServiceContext {
    positions: Option<Positions>,
    listener: Listener,
    lag: Option<LagListener>,
    commit_failed: Option<Arc<dyn Fn() + Send + Sync>>,
    epoch: Arc<Mutex<AssignmentEpoch>>,
    /// Partition ends learnt besides librdkafka's statistics
    /// ([`ServiceContext::note_log_ends`]).
    log_ends: Arc<Mutex<BTreeMap<(String, i32), i64>>>,
}

impl ServiceContext {
    /// Partitions start at Kafka's committed offsets (ingest services).
    pub fn committed(listener: impl Fn(&RebalanceEvent) + Send + Sync + 'static) -> Self {
        ServiceContext {
            positions: None,
            listener: Arc::new(listener),
            lag: None,
            commit_failed: None,
            epoch: Arc::default(),
            log_ends: Arc::default(),
        }
    }

    /// Partitions start at `positions`; one the state has never read starts
    /// at the beginning of the partition, whatever Kafka has committed (the
    /// state, not the group, says what was applied).
    pub fn stored(
        positions: Positions,
        listener: impl Fn(&RebalanceEvent) + Send + Sync + 'static,
    ) -> Self {
        ServiceContext {
            positions: Some(positions),
            listener: Arc::new(listener),
            lag: None,
            commit_failed: None,
            epoch: Arc::default(),
            log_ends: Arc::default(),
        }
    }

    /// Also reports the lag of every assigned partition, each time
    /// librdkafka emits statistics ([`LAG_INTERVAL_MS`]).
    pub fn with_lag(mut self, listener: impl Fn(&[PartitionLag]) + Send + Sync + 'static) -> Self {
        self.lag = Some(Arc::new(listener));
        self
    }

    /// Also calls `on_failure` each time the broker refuses an offset
    /// commit for a reason other than a rebalance (an asynchronous commit
    /// only fails here, after the call that asked for it returned).
    pub fn with_commit_failures(mut self, on_failure: impl Fn() + Send + Sync + 'static) -> Self {
        self.commit_failed = Some(Arc::new(on_failure));
        self
    }

    /// Every partition's moves so far: taken when a batch is read, it
    /// tells the batch's commit which partitions went away and came back
    /// meanwhile.
    pub fn assignment_epoch(&self) -> AssignmentEpoch {
        self.epoch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Notes the ends (high watermarks) of partitions read by asking the
    /// broker: librdkafka learns a partition's end from its fetches only,
    /// and fetches no paused partition, so while a service waits with its
    /// partitions paused (the registry down, the outbox full) the lag its
    /// statistics report stands still however much arrives. A noted end
    /// past the statistics' adds the difference to the lag reported.
    pub fn note_log_ends(&self, ends: impl IntoIterator<Item = (String, i32, i64)>) {
        let mut known = self.log_ends.lock().unwrap_or_else(PoisonError::into_inner);
        for (topic, partition, end) in ends {
            known.insert((topic, partition), end);
        }
    }

    /// Forgets the noted ends (the partitions are fetched again).
    pub fn forget_log_ends(&self) {
        self.log_ends
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Whether statistics must be turned on for this context.
    pub(crate) fn wants_statistics(&self) -> bool {
        self.lag.is_some()
    }

    fn start_offsets(&self, tpl: &mut TopicPartitionList) -> Vec<(String, i32, Option<i64>)> {
        let mut out = Vec::new();
        for element in tpl.elements() {
            let (topic, partition) = (element.topic().to_string(), element.partition());
            let start = self.positions.as_ref().map(|p| p.get(&topic, partition));
            out.push((topic, partition, start.flatten()));
        }
        if self.positions.is_some() {
            for (topic, partition, start) in &out {
                let offset = start.map_or(Offset::Beginning, Offset::Offset);
                if let Err(e) = tpl.set_partition_offset(topic, *partition, offset) {
                    tracing::error!(%topic, partition, error = %e, "cannot set the start offset of an assigned partition");
                }
            }
        }
        out
    }
}

impl ClientContext for ServiceContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, log_message: &str) {
        crate::logs::log(level, fac, log_message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        crate::logs::client_error(&error, reason);
    }

    fn stats(&self, statistics: Statistics) {
        if let Some(listener) = &self.lag {
            let known = self
                .log_ends
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            listener(&partition_lags(&statistics, &known));
        }
    }
}

/// The lag of each partition this consumer is assigned (librdkafka also
/// lists partitions it only knows from metadata, and a `-1` internal one),
/// with the records past its statistics' end that `known_ends` holds
/// ([`ServiceContext::note_log_ends`]).
pub fn partition_lags(
    statistics: &Statistics,
    known_ends: &BTreeMap<(String, i32), i64>,
) -> Vec<PartitionLag> {
    let mut lags = Vec::new();
    for (topic, t) in &statistics.topics {
        for p in t.partitions.values() {
            if p.partition < 0 || !p.desired || p.hi_offset < 0 {
                continue;
            }
            lags.push(PartitionLag {
                topic: topic.clone(),
                partition: p.partition,
                messages: partition_lag(p)
                    + unfetched(p, known_ends.get(&(topic.clone(), p.partition))),
            });
        }
    }
    lags.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    lags
}

/// One partition's lag: librdkafka's (the log's end less the group's
/// committed offset) when it knows the committed offset; else the log's
/// end less this consumer's own fetch position, plus what it fetched and
/// has not handed over yet; else the whole log. The resolver assigns its
/// partitions at the store's positions and commits a request topic's
/// offset only when it reads a request, so after a restart an idle
/// request topic had no committed offset, and its retained requests, all
/// applied, read as lag for good (a quiet night fired
/// KindredResolverStalled).
fn partition_lag(p: &rdkafka::statistics::Partition) -> i64 {
    if p.consumer_lag >= 0 {
        return p.consumer_lag;
    }
    // The last stable offset under read_committed, as librdkafka's own.
    let end = if p.ls_offset >= 0 {
        p.ls_offset
    } else {
        p.hi_offset
    };
    if p.next_offset >= 0 {
        (end - p.next_offset).max(0) + p.fetchq_cnt.max(0)
    } else {
        (p.hi_offset - p.lo_offset.max(0)).max(0)
    }
}

/// The records between a partition's end in the statistics and a later
/// `known_end` (0 without one): what arrived while it was not fetched.
fn unfetched(p: &rdkafka::statistics::Partition, known_end: Option<&i64>) -> i64 {
    let end = if p.ls_offset >= 0 {
        p.ls_offset
    } else {
        p.hi_offset
    };
    known_end.map_or(0, |known| (known - end).max(0))
}

impl ConsumerContext for ServiceContext {
    /// The default rebalance of rust-rdkafka (incremental under the
    /// cooperative protocol, eager otherwise), with the start offsets of
    /// assigned partitions set from the stored positions first.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let (event, result): (RebalanceEvent, KafkaResult<()>) = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let starts = self.start_offsets(tpl);
                let result = if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                (RebalanceEvent::Assigned(starts), result)
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let revoked = tpl
                    .elements()
                    .iter()
                    .map(|e| (e.topic().to_string(), e.partition()))
                    .collect();
                let result = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                (RebalanceEvent::Revoked(revoked), result)
            }
            other => {
                let code: rdkafka::error::RDKafkaErrorCode = other.into();
                // librdkafka asks for the assignment to be dropped on an error.
                let result = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                (RebalanceEvent::Failed(code.to_string()), result)
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, ?event, "applying a rebalance failed");
        }
        {
            let mut epoch = self.epoch.lock().unwrap_or_else(PoisonError::into_inner);
            match &event {
                RebalanceEvent::Assigned(parts) => {
                    for (t, p, _) in parts {
                        *epoch.moves.entry((t.clone(), *p)).or_default() += 1;
                    }
                }
                RebalanceEvent::Revoked(parts) => {
                    for key in parts {
                        *epoch.moves.entry(key.clone()).or_default() += 1;
                    }
                }
                RebalanceEvent::Failed(_) => epoch.failures += 1,
            }
        }
        (self.listener)(&event);
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        let Err(e) = result else { return };
        let offsets: Vec<String> = offsets
            .elements()
            .iter()
            .map(|t| format!("{}[{}]@{:?}", t.topic(), t.partition(), t.offset()))
            .collect();
        match e.rdkafka_error_code() {
            Some(code) if lost_to_rebalance(code) => {
                tracing::debug!(error = %e, ?offsets, "offset commit failed")
            }
            // Anything else (an ACL refusing the group, a coordinator
            // failing) leaves the group's offsets, and lag monitoring,
            // behind: a restart would read everything since again.
            _ => {
                tracing::warn!(error = %e, ?offsets, "offset commit failed");
                if let Some(on_failure) = &self.commit_failed {
                    on_failure();
                }
            }
        }
    }
}

/// Whether a commit failed with `code` because this member lost the
/// partitions (or its place in the group) to a rebalance, under the
/// classic protocol or KIP-848's (a member epoch bumped or fenced): the
/// new owner reads them again (the resolver de-duplicates), so no failure.
/// Nothing to commit is none either.
fn lost_to_rebalance(code: rdkafka::types::RDKafkaErrorCode) -> bool {
    use rdkafka::types::RDKafkaErrorCode as Code;
    matches!(
        code,
        Code::RebalanceInProgress
            | Code::IllegalGeneration
            | Code::UnknownMemberId
            | Code::NoOffset
            | Code::AssignmentLost
            | Code::StaleMemberEpoch
            | Code::FencedMemberEpoch
    )
}

#[cfg(test)]
mod tests {
    use rdkafka::statistics::Partition;
    use rdkafka::types::RDKafkaErrorCode as Code;

    /// KIP-848's routine rebalance errors are no commit failures; a
    /// refused group is.
    #[test]
    fn commits_lost_to_a_rebalance_are_no_failures_under_either_protocol() {
        for code in [
            Code::RebalanceInProgress,
            Code::UnknownMemberId,
            Code::StaleMemberEpoch,
            Code::FencedMemberEpoch,
        ] {
            assert!(super::lost_to_rebalance(code), "{code:?}");
        }
        for code in [
            Code::GroupAuthorizationFailed,
            Code::CoordinatorNotAvailable,
        ] {
            assert!(!super::lost_to_rebalance(code), "{code:?}");
        }
    }

    use super::partition_lag;

    fn partition(committed_lag: i64, next: i64, lo: i64, hi: i64, ls: i64) -> Partition {
        Partition {
            consumer_lag: committed_lag,
            next_offset: next,
            lo_offset: lo,
            hi_offset: hi,
            ls_offset: ls,
            ..Partition::default()
        }
    }

    /// An idle request partition, its 40 requests applied, assigned at the
    /// store's position after a restart: no committed offset, no lag (it
    /// read 40 for as long as no new request came).
    #[test]
    fn a_partition_read_to_its_end_without_a_commit_has_no_lag() {
        assert_eq!(partition_lag(&partition(-1, 40, 0, 40, 40)), 0);
        // A transaction's commit marker after the last message: the fetch
        // position moves past it, the last stable offset is the end.
        assert_eq!(partition_lag(&partition(-1, 41, 0, 41, 41)), 0);
        // Behind: what is left, and what was fetched but not handed over.
        let mut behind = partition(-1, 30, 0, 40, 40);
        behind.fetchq_cnt = 5;
        assert_eq!(partition_lag(&behind), 15);
        // librdkafka's own figure, when it knows the committed offset.
        assert_eq!(partition_lag(&partition(7, 40, 0, 40, 40)), 7);
        // No position yet: the whole log.
        assert_eq!(partition_lag(&partition(-1, -1001, 10, 40, 40)), 30);
        // A paused partition's end, noted past the statistics' stale one,
        // adds what arrived since.
        assert_eq!(
            super::unfetched(&partition(7, 40, 0, 40, 40), Some(&1040)),
            1000
        );
        assert_eq!(super::unfetched(&partition(7, 40, 0, 50, -1), Some(&40)), 0);
        assert_eq!(super::unfetched(&partition(7, 40, 0, 40, 40), None), 0);
    }
}
