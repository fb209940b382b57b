//! The outbox publisher: drains the resolver store's outbox to Kafka in
//! transactions, on a thread of its own (librdkafka's transaction calls
//! block).
//!
//! Each transaction holds a run of outbox entries (profile changes,
//! quarantine and review records) and one progress record: this store's
//! identity and the sequence of the last entry in the transaction. On start
//! the publisher initialises its transactions (fencing any older process
//! with the same `transactional.id` and aborting what it left open), reads
//! the last committed progress record, drops the entries it covers from the
//! outbox and continues after them. So every entry is committed to Kafka
//! exactly once, in sequence order, whatever crashed when.
//!
//! Golden records leave under their topic's personal-data policy
//! (`[privacy.output]`, [`crate::output_policy`]): no raw personal data is
//! published unless configured `raw`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_kafka::{
    consumer, KafkaSettings, OutRecord, TransactionalProducer, TxnFailure, MAX_RECORD_BYTES,
};
use kindred_model::ProfileChange;
use kindred_ops::Metrics;
use kindred_resolver::{OutboxEntry, Store, Tombstone};
use kindred_schema::{SchemaKind, WireCodec};
use serde::{Deserialize, Serialize};

use crate::output_policy::OutputProtection;
use crate::PipelineError;

/// The progress record: which store's outbox, and how far it was published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub store_id: String,
    /// Sequence of the last outbox entry committed to Kafka.
    pub seq: u64,
}

/// A progress record as [`Store::record_progress_seen`] keeps it
/// (`store_id:seq`; empty: none).
pub fn progress_text(progress: Option<&Progress>) -> String {
    progress.map_or_else(String::new, |p| format!("{}:{}", p.store_id, p.seq))
}

/// Reads the last committed progress of `transactional_id`.
pub fn read_progress(
    settings: &KafkaSettings,
    topic: &str,
    transactional_id: &str,
) -> Result<Option<Progress>, PipelineError> {
    // Every transaction appends a record here, and compaction never cleans
    // the newest segment: keep only the last one of this publisher.
    let mut last = None;
    consumer::read_each(
        settings,
        topic,
        Duration::from_secs(30),
        |(_, key, payload)| {
            if key.as_deref() == Some(transactional_id.as_bytes()) {
                last = Some(payload);
            }
        },
    )?;
    match last {
        None => Ok(None),
        Some(payload) => serde_json::from_slice(&payload).map(Some).map_err(|e| {
            PipelineError::Progress(format!(
                "the progress record of {transactional_id} on {topic} is not valid JSON: {e}"
            ))
        }),
    }
}

/// The Kafka record an outbox entry becomes, golden records under their
/// topic's policy in `protection`.
pub fn outbox_record(
    config: &Config,
    codec: &WireCodec,
    protection: &OutputProtection,
    entry: &OutboxEntry,
    record_limit: usize,
) -> Result<OutRecord, PipelineError> {
    let json = |topic: &str, key: String, body: serde_json::Value| OutRecord {
        topic: topic.to_string(),
        key: Some(key.into_bytes()),
        payload: body.to_string().into_bytes(),
        headers: Vec::new(),
        timestamp_ms: None,
    };
    Ok(match entry {
        OutboxEntry::Change(change) => {
            change_record(config, codec, protection, change, record_limit)?
        }
        // Masked value and digest only, never the raw identifier.
        OutboxEntry::Quarantined(q) => json(
            &config.topics.quarantine,
            q.digest.clone(),
            serde_json::json!({
                "kind": q.kind, "masked": q.masked, "digest": q.digest,
                "companions": q.companions, "at_ms": q.at_ms,
            }),
        ),
        // Both golden records, under the review topic's policy; a pair
        // whose records do not fit one Kafka record goes without them
        // (`records_cut`: the reviewer reads them with `kindred explain`).
        OutboxEntry::Review(r) => {
            let key = format!("{}|{}", r.profile_a, r.profile_b);
            let mut body = serde_json::json!({
                "profile_a": r.profile_a, "profile_b": r.profile_b,
                "rule": r.evidence.rule, "rule_version": r.evidence.rule_version,
                "kinds": r.evidence.kinds, "reason": r.reason,
                "record_a": r.record_a.as_ref().map(|g| protection.review_record(g)).transpose()?,
                "record_b": r.record_b.as_ref().map(|g| protection.review_record(g)).transpose()?,
            });
            if fits(&key, &body, record_limit).is_none() {
                body["record_a"] = serde_json::Value::Null;
                body["record_b"] = serde_json::Value::Null;
                body["records_cut"] = serde_json::Value::Bool(true);
                // Which pair: debug only (profile ids stand for people).
                tracing::debug!(profile_a = %r.profile_a, profile_b = %r.profile_b, "review record cut");
                tracing::warn!("a review record was over the record limit: published without the golden records (`records_cut` on the record)");
            }
            json(&config.topics.review, key, body)
        }
        OutboxEntry::Tombstone(t) => {
            let (topic, key) = match t {
                Tombstone::Profile(id) => (&config.topics.profiles, id.clone()),
                Tombstone::Review {
                    profile_a,
                    profile_b,
                } => (&config.topics.review, format!("{profile_a}|{profile_b}")),
            };
            OutRecord::tombstone(topic, key.into_bytes())
        }
        // A keyed hash of the subject, never a raw value.
        OutboxEntry::Audit(a) => json(
            &config.topics.erasure_audit,
            a.seq.to_string(),
            audit_json(a)?,
        ),
        // And keyed hashes of what the erasure suppressed.
        OutboxEntry::AuditListed(l) => listed_audit(config, l, None, record_limit)?,
        OutboxEntry::AuditWindowed {
            listed,
            suppressed_from_ms,
        } => listed_audit(config, listed, *suppressed_from_ms, record_limit)?,
        // An event's decisions now; none left is a tombstone (lifted, or
        // the event erased).
        OutboxEntry::Decisions(pinned) => {
            let key = pinned.event_id.clone().into_bytes();
            if pinned.constraints.is_empty() {
                OutRecord::tombstone(&config.topics.decisions, key)
            } else {
                OutRecord {
                    topic: config.topics.decisions.clone(),
                    key: Some(key),
                    payload: serde_json::to_vec(pinned).map_err(|e| {
                        PipelineError::Progress(format!(
                            "the decisions on event {} do not encode: {e}",
                            pinned.event_id
                        ))
                    })?,
                    headers: Vec::new(),
                    timestamp_ms: None,
                }
            }
        }
        // Profile ids, decision numbers and a reason; no personal data.
        OutboxEntry::Replied(reply) => json(
            &config.topics.decision_outcomes,
            reply.request_id.clone(),
            serde_json::to_value(reply).map_err(|e| {
                PipelineError::Progress(format!(
                    "the reply to decision request {} does not encode: {e}",
                    reply.request_id
                ))
            })?,
        ),
    })
}

/// An erasure audit record with the suppression-list entries it made, as
/// the audit topic's JSON. A list too long for one Kafka record is cut to
/// fit: it then lists fewer than `suppressed_total`, which a rebuild reports
/// as partial. `suppressed_from_ms`, when the record has it, is when the
/// entries' windows start (a rebuild puts them on its list so).
pub(crate) fn listed_audit(
    config: &Config,
    l: &kindred_resolver::ListedAudit,
    suppressed_from_ms: Option<i64>,
    record_limit: usize,
) -> Result<OutRecord, PipelineError> {
    let key = l.audit.seq.to_string();
    let mut body = audit_json(&l.audit)?;
    body["suppressed_total"] = serde_json::json!(l.suppressed_total);
    if let Some(at) = suppressed_from_ms {
        body["suppressed_from_ms"] = serde_json::json!(at);
    }
    let mut listed = l.suppressed.len();
    loop {
        body["suppressed"] = serde_json::json!(l.suppressed[..listed]);
        match fits(&key, &body, record_limit) {
            Some(_) => break,
            None if listed == 0 => break,
            // Entries are of one size: cut in proportion, a tenth more.
            None => {
                let size = key.len() + body.to_string().len();
                listed = listed * record_limit / size * 9 / 10;
            }
        }
    }
    if listed < l.suppressed.len() {
        tracing::warn!(
            seq = l.audit.seq,
            listed,
            of = l.suppressed.len(),
            "an erasure audit record was over the record limit: its suppression list was cut"
        );
    }
    Ok(OutRecord {
        topic: config.topics.erasure_audit.clone(),
        key: Some(key.into_bytes()),
        payload: body.to_string().into_bytes(),
        headers: Vec::new(),
        timestamp_ms: None,
    })
}

/// The size of a JSON record (key and body) if it fits `limit`.
fn fits(key: &str, body: &serde_json::Value, limit: usize) -> Option<usize> {
    let size = key.len() + body.to_string().len();
    (size <= limit).then_some(size)
}

/// An erasure audit record as the audit topic's JSON.
fn audit_json(a: &kindred_resolver::AuditRecord) -> Result<serde_json::Value, PipelineError> {
    serde_json::to_value(a).map_err(|e| {
        PipelineError::Progress(format!("audit record {} does not encode: {e}", a.seq))
    })
}

/// The largest record to publish: [`MAX_RECORD_BYTES`], or less when an
/// output topic's `max.message.bytes` is lower (an operator may set it
/// so). A record, or a record batch, over its topic's limit would be
/// refused on every try and stop all publishing; [`change_record`] and the
/// review and audit records are cut to fit instead. One limit for every
/// output topic, the smallest (the producer's `batch.size` is one for all
/// of them too). A broker that does not say (no DescribeConfigs
/// permission) leaves the default for that topic, with a warning.
pub async fn record_limit(config: &Config, settings: &KafkaSettings) -> usize {
    let mut limit = MAX_RECORD_BYTES;
    for topic in output_topics(config) {
        match kindred_kafka::topic_setting(settings, topic, "max.message.bytes").await {
            // Room for the batch's own header and the record's headers.
            Ok(Some(v)) => {
                if let Ok(n) = v.parse::<usize>() {
                    limit = limit.min(n.saturating_sub(RECORD_OVERHEAD_BYTES));
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(%topic, error = %e, "cannot read the topic's max.message.bytes; assuming it takes 900,000-byte records");
            }
        }
    }
    limit
}

/// librdkafka's partitioner when none is set: CRC32 of the key.
const DEFAULT_PARTITIONER: &str = "consistent_random";

/// The partitioner `[kafka.client] partitioner` names (librdkafka's own
/// when none).
fn configured_partitioner(settings: &KafkaSettings) -> &str {
    settings
        .client
        .get("partitioner")
        .map_or(DEFAULT_PARTITIONER, String::as_str)
}

/// Records on a store rebuilt from its events the partitioner its profile
/// topic's keyed records were placed with, out of `placing` (the hashing
/// partitioners that place them where they lie): the configured one when
/// it places them alike, else the only one that does, so the publisher
/// refuses the configured one and names the topic's. A warning for the
/// report when the configured one is not the topic's, or when no
/// partitioner fits the records (placed at random, or partitions added
/// since): then the configured one is recorded.
pub(crate) fn record_topic_partitioner(
    config: &Config,
    store: &Store,
    placing: &[&'static str],
) -> Result<Option<String>, PipelineError> {
    let settings = super::kafka_settings(config);
    let configured = configured_partitioner(&settings);
    let profiles = &config.topics.profiles;
    let (recorded, warning) = if placing
        .iter()
        .any(|p| kindred_kafka::placement::places_alike(p, configured))
    {
        (configured, None)
    } else if let [only] = placing {
        (
            *only,
            Some(format!(
                "WARNING: {profiles}'s records were placed by partitioner \"{only}\", not the configured \"{configured}\": the rebuilt store keeps \"{only}\"; set [kafka.client] partitioner = \"{only}\" before the resolver starts (it refuses another)"
            )),
        )
    } else if placing.is_empty() {
        (
            configured,
            Some(format!(
                "WARNING: no partitioner kindred knows placed all of {profiles}'s records where they lie (placed at random, or partitions added since): the rebuilt store places keys with \"{configured}\", and a profile's earlier records may stay on other partitions"
            )),
        )
    } else {
        (
            configured,
            Some(format!(
                "WARNING: {profiles}'s records were not placed by the configured partitioner \"{configured}\" but by one of \"{}\" (too few records to tell which): the rebuilt store places keys with \"{configured}\"; to go on with the topic's, move the store away and rebuild with that partitioner set",
                placing.join("\", \"")
            )),
        )
    };
    store.output_partitioner(recorded)?;
    Ok(warning)
}

/// Every topic the outbox publisher writes to (its progress records too).
fn output_topics(config: &Config) -> [&str; 7] {
    let t = &config.topics;
    [
        &t.profiles,
        &t.progress,
        &t.review,
        &t.quarantine,
        &t.erasure_audit,
        &t.decisions,
        &t.decision_outcomes,
    ]
}

/// What a record batch and a profile change's headers take besides the
/// key and value (a batch header is 61 bytes; the headers a few dozen).
const RECORD_OVERHEAD_BYTES: usize = 1_024;

/// A profile change on the profile topic, keyed by profile id, under the
/// profile topic's policy.
pub fn change_record(
    config: &Config,
    codec: &WireCodec,
    protection: &OutputProtection,
    change: &ProfileChange,
    record_limit: usize,
) -> Result<OutRecord, PipelineError> {
    let mut shown = protection.profile_change(change)?;
    let key = change.profile_id.clone().into_bytes();
    let limit = record_limit.saturating_sub(key.len());
    let mut payload = codec.encode(SchemaKind::ProfileChange, &shown)?;
    let mut headers = Vec::new();
    // A change naming tens of thousands of moved events or absorbed ids
    // (a split of a huge profile), or a golden record with tens of
    // thousands of identifiers (a kiosk's devices), would be refused by the
    // producer on every try and stop all publishing: its parts are cut to
    // fit, in `CHANGE_CUTS` order, and a header gives each cut part's full
    // length.
    for cut in &CHANGE_CUTS {
        let total = (cut.len)(&shown);
        if payload.len() <= limit || total == 0 {
            continue;
        }
        headers.push((cut.header.to_string(), total.to_string().into_bytes()));
        while payload.len() > limit && (cut.len)(&shown) > 0 {
            (cut.drop)(&mut shown, payload.len() - limit);
            payload = codec.encode(SchemaKind::ProfileChange, &shown)?;
        }
    }
    if !headers.is_empty() {
        // Which profile: debug only (a profile id stands for a person); the
        // record carries the cut headers.
        tracing::debug!(profile_id = %change.profile_id, "profile change cut");
        tracing::warn!(
            moved_event_ids = change.moved_event_ids.len(),
            absorbed_ids = change.absorbed_ids.len(),
            split_into = change.split_into.len(),
            identifiers = change.record.as_ref().map_or(0, |r| r.identifiers.len()),
            record_cut = shown.record.is_none() && change.record.is_some(),
            bytes = payload.len() + key.len(),
            "a profile change was over the record limit: it was cut to fit"
        );
    }
    Ok(OutRecord {
        topic: config.topics.profiles.clone(),
        key: Some(key),
        payload,
        headers,
        timestamp_ms: None,
    })
}

/// A part of a profile change that [`change_record`] can cut to fit one
/// Kafka record: the header that then gives its full length, the label of
/// `kindred_profile_change_lists_cut_total`, its length and how to drop
/// items worth about `over` bytes from it.
pub struct ChangeCut {
    pub header: &'static str,
    pub label: &'static str,
    /// Whether a consumer that follows events per profile misses some
    /// when this part is cut (the id lists that place events).
    pub places_events: bool,
    len: fn(&ProfileChange) -> usize,
    drop: fn(&mut ProfileChange, usize),
}

/// What [`change_record`] cuts, in this order, while a change is over the
/// record limit: the lists of moved events, absorbed ids and split-off
/// ids (from their ends), then the golden record's identifiers (devices
/// first, then accounts, social ids, e-mails, phones, member cards; the
/// last of a kind first), and last the golden record itself (the change
/// says what happened; `kindred explain` shows the profile).
pub const CHANGE_CUTS: [ChangeCut; 5] = [
    ChangeCut {
        header: MOVED_EVENT_IDS_TOTAL,
        label: "moved_event_ids",
        places_events: true,
        len: |c| c.moved_event_ids.len(),
        drop: |c, over| drop_ids(&mut c.moved_event_ids, over),
    },
    ChangeCut {
        header: ABSORBED_IDS_TOTAL,
        label: "absorbed_ids",
        places_events: true,
        len: |c| c.absorbed_ids.len(),
        drop: |c, over| drop_ids(&mut c.absorbed_ids, over),
    },
    ChangeCut {
        header: SPLIT_INTO_TOTAL,
        label: "split_into",
        places_events: false,
        len: |c| c.split_into.len(),
        drop: |c, over| drop_ids(&mut c.split_into, over),
    },
    ChangeCut {
        header: IDENTIFIERS_TOTAL,
        label: "identifiers",
        places_events: false,
        len: |c| c.record.as_ref().map_or(0, |r| r.identifiers.len()),
        drop: |c, over| {
            if let Some(r) = c.record.as_mut() {
                drop_identifiers(&mut r.identifiers, over);
            }
        },
    },
    ChangeCut {
        header: RECORD_TOTAL,
        label: "record",
        places_events: false,
        len: |c| usize::from(c.record.is_some()),
        drop: |c, _| c.record = None,
    },
];

/// Drops ids worth about `over` bytes from the end of `ids` (each costs
/// its bytes and a length prefix of 1-3 bytes).
fn drop_ids(ids: &mut Vec<String>, mut over: usize) {
    while over > 0 {
        let Some(id) = ids.pop() else {
            break;
        };
        over = over.saturating_sub(id.len() + 1);
    }
}

/// Drops identifiers worth about `over` bytes: the least lasting kind
/// first (the last of [`IdentifierKind::ALL`]: devices), the last of a
/// kind first.
fn drop_identifiers(ids: &mut Vec<kindred_model::Identifier>, mut over: usize) {
    let rank = |k: kindred_model::IdentifierKind| {
        kindred_model::IdentifierKind::ALL
            .iter()
            .position(|x| *x == k)
            .unwrap_or(0)
    };
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((rank(ids[i].kind), i)));
    let mut dropped = vec![false; ids.len()];
    for i in order {
        if over == 0 {
            break;
        }
        dropped[i] = true;
        let id = &ids[i];
        // Kind, value and match key, each with its length or tag.
        over =
            over.saturating_sub(id.value.len() + id.match_key.as_ref().map_or(0, String::len) + 3);
    }
    let mut n = 0;
    ids.retain(|_| {
        n += 1;
        !dropped[n - 1]
    });
}

/// Header of a profile change whose `moved_event_ids` were cut to fit one
/// Kafka record: the list's full length (the ids past the cut are not
/// published).
pub const MOVED_EVENT_IDS_TOTAL: &str = "kindred.change.moved_event_ids_total";
/// The same for `absorbed_ids` (each absorbed id still gets its own
/// SUPERSEDED redirect record).
pub const ABSORBED_IDS_TOTAL: &str = "kindred.change.absorbed_ids_total";
/// The same for `split_into` (each split-off profile still gets its own
/// `CREATED` change).
pub const SPLIT_INTO_TOTAL: &str = "kindred.change.split_into_total";
/// The same for the golden record's `identifiers` (a profile with tens of
/// thousands of devices): the identifiers kept are the most lasting ones.
pub const IDENTIFIERS_TOTAL: &str = "kindred.change.identifiers_total";
/// Header (`1`) of a change published without its golden record: even cut
/// to its most lasting identifiers it did not fit one record.
pub const RECORD_TOTAL: &str = "kindred.change.record_total";
/// Header of every profile change: its place (decimal) in the order the
/// resolver made the changes, across all partitions of the profile topic
/// (Kafka orders records within a partition only). A consumer that folds
/// "event -> profile" from the topic keeps, per event, the placement with
/// the highest sequence; it restarts lower only when a store is restored
/// from a snapshot (the changes then repeat).
pub const CHANGE_SEQ: &str = "kindred.change.seq";

/// The [`CHANGE_SEQ`] of a profile change record, if it has one.
pub fn change_seq<M>(message: &M) -> Option<u64>
where
    M: kindred_kafka::rdkafka::Message,
    M::Headers: kindred_kafka::headers::NativeHeaders,
{
    let value = kindred_kafka::headers::value(message, CHANGE_SEQ)?;
    std::str::from_utf8(value).ok()?.parse::<u64>().ok()
}

/// The running publisher thread and what the poll loop needs of it.
/// Dropped without [`Publisher::finish`] (the resolver failed), it tells
/// the thread to stop and waits a moment for it: the thread holds the store
/// and a transactional producer.
pub struct Publisher {
    thread: Option<std::thread::JoinHandle<Result<(), PipelineError>>>,
    /// Sequence of the last entry committed to Kafka.
    acked: Arc<AtomicU64>,
    /// When transactions started failing without one committing since
    /// (an `Instant` as milliseconds since `started`), 0 when the last one
    /// committed.
    failing_since_ms: Arc<AtomicU64>,
    started: Instant,
    wake: SyncSender<()>,
    closing: Arc<AtomicBool>,
    /// Stop now: publish nothing more (the shutdown deadline passed, or
    /// the resolver failed); the next start publishes what is left.
    stop: Arc<AtomicBool>,
}

/// How long a publisher told to stop is waited for: it stops at its next
/// check (at most [`NAP`] away) unless a Kafka call holds it.
const STOP_GRACE: Duration = Duration::from_millis(500);

/// The step of the publisher's back-off sleeps, between checks of `stop`.
const NAP: Duration = Duration::from_millis(50);

impl Drop for Publisher {
    fn drop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.store(true, Ordering::Release);
        self.closing.store(true, Ordering::Release);
        let _ = self.wake.try_send(());
        let until = Instant::now() + STOP_GRACE;
        while !thread.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if thread.is_finished() {
            if let Ok(Err(e)) = thread.join() {
                tracing::debug!(error = %e, "the publisher stopped with an error");
            }
        } else {
            tracing::warn!("the outbox publisher is still inside a Kafka call; left to end on its own (the next start publishes what it did not)");
        }
    }
}

impl Publisher {
    /// Starts publishing the outbox of `store`. Blocks until the producer
    /// fenced any predecessor and the last progress was read (run it off
    /// the async executor, e.g. in `spawn_blocking`).
    pub fn start(
        config: &Config,
        settings: &KafkaSettings,
        store: Arc<Store>,
        codec: Arc<WireCodec>,
        metrics: Metrics,
    ) -> Result<Publisher, PipelineError> {
        // First: a policy that cannot be applied (hashed, no keyring) stops
        // the service before it fences anyone or reads anything.
        let protection = OutputProtection::from_config(config)?;
        tracing::info!(
            profiles = %crate::output_policy::summary(protection.profiles()),
            review = %crate::output_policy::summary(protection.review()),
            "output policy"
        );
        let record_limit = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                for problem in
                    runtime.block_on(crate::topics::erasure_compaction_problems(config, settings))
                {
                    tracing::warn!(%problem, "an erased person's records may stay on a compacted topic past topics.compaction_deadline_ms");
                }
                runtime.block_on(record_limit(config, settings))
            }
            Err(_) => MAX_RECORD_BYTES,
        };
        // A compacted topic keeps each key on one partition only while every
        // record of it is placed alike.
        let configured = configured_partitioner(settings);
        let recorded = store.output_partitioner(configured)?;
        if recorded != configured {
            return Err(PipelineError::Config(format!(
                "[kafka.client] partitioner = \"{configured}\" is not \"{recorded}\", the partitioner this store's outputs were placed with: a profile's later records, and an erased person's tombstone, would land on other partitions than its earlier records, where compaction never removes them. Keep partitioner = \"{recorded}\" (\"{DEFAULT_PARTITIONER}\" is librdkafka's own, what no setting gives), or move to new topics (docs/operations.md, \"Upgrading kindred\")"
            )));
        }
        let transactional_id = super::resolve::publisher_id(config);
        // The broker holds a whole record batch to the topic's limit, and
        // librdkafka does not split a batch the broker refuses: batches no
        // larger than the limit (unless the operator set batch.size).
        let mut producer_settings = settings.clone();
        producer_settings
            .client
            .entry("batch.size".to_string())
            .or_insert_with(|| (record_limit + RECORD_OVERHEAD_BYTES).to_string());
        // Before the producer's initialisation fences the other producer
        // of this transactional id: a store that published and was
        // replaced (or fenced by a second resolver, and restarted) must
        // not fence back. `published_up_to` checks again once fenced.
        let store_id = store.store_id()?;
        if store.published_before()? {
            if let Some(p) = read_progress(settings, &config.topics.progress, &transactional_id)? {
                if p.store_id != store_id {
                    return Err(replaced(config, &transactional_id, &store_id, &p));
                }
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let commit_retries = metrics
            .component_errors
            .with_label_values(&["kafka_transaction", "publish"]);
        let producer = TransactionalProducer::new(
            &producer_settings,
            &transactional_id,
            Duration::from_secs(30),
        )?
        .with_commit_retries({
            let stop = stop.clone();
            move || {
                commit_retries.inc();
                !stop.load(Ordering::Acquire)
            }
        });
        let acked = published_up_to(config, settings, &transactional_id, &store, &store_id)?;
        let next = store.next_outbox_seq()?;
        tracing::info!(%transactional_id, store_id = %store_id, published_up_to = acked, pending = next.saturating_sub(acked + 1), "outbox publisher ready");
        let acked = Arc::new(AtomicU64::new(acked));
        let closing = Arc::new(AtomicBool::new(false));
        let failing_since_ms = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let (wake, woken) = sync_channel(1);
        let task = Task {
            config: config.clone(),
            settings: settings.clone(),
            store,
            codec,
            protection,
            record_limit,
            metrics,
            producer,
            store_id,
            published: false,
            acked: acked.clone(),
            failing_since_ms: failing_since_ms.clone(),
            started,
            closing: closing.clone(),
            stop: stop.clone(),
            woken,
        };
        let thread = std::thread::Builder::new()
            .name("outbox-publisher".into())
            .spawn(move || task.run())
            .map_err(|e| {
                PipelineError::Progress(format!("cannot start the publisher thread: {e}"))
            })?;
        Ok(Publisher {
            thread: Some(thread),
            acked,
            failing_since_ms,
            started,
            wake,
            closing,
            stop,
        })
    }

    /// How long transactions have been failing, or one has been in
    /// flight, without one committing (none: the last one committed, or
    /// none was needed).
    pub fn failing_for(&self) -> Option<Duration> {
        match self.failing_since_ms.load(Ordering::Acquire) {
            0 => None,
            since => Some(
                self.started
                    .elapsed()
                    .saturating_sub(Duration::from_millis(since)),
            ),
        }
    }

    /// Sequence of the last outbox entry committed to Kafka.
    pub fn acked(&self) -> u64 {
        self.acked.load(Ordering::Acquire)
    }

    /// Tells the publisher that new entries are waiting.
    pub fn notify(&self) {
        let _ = self.wake.try_send(());
    }

    /// Whether the publisher thread ended (it only does on shutdown or on
    /// an error of the store).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Publishes what is left, until the outbox is empty or `deadline`;
    /// returns whether everything was published. What is not is published
    /// by the next start. At the deadline the thread is told to stop and
    /// waited for [`STOP_GRACE`] more; one still inside a Kafka call (a
    /// transaction's commit or abort, up to its timeout) is left to end on
    /// its own: it stops, releasing the store, when the call returns.
    pub async fn finish(mut self, deadline: Instant) -> Result<bool, PipelineError> {
        self.closing.store(true, Ordering::Release);
        self.notify();
        let mut complete = true;
        while !self.is_finished() {
            if Instant::now() >= deadline {
                if complete {
                    tracing::warn!(
                        "shutdown deadline reached with outputs unpublished; the next start publishes them"
                    );
                    complete = false;
                    self.stop.store(true, Ordering::Release);
                } else if Instant::now() >= deadline + STOP_GRACE {
                    // Told to stop, left to end on its own (detached here:
                    // the drop must not wait again, the watchdog is near).
                    tracing::warn!("the outbox publisher is still inside a Kafka call; left to end on its own (the next start publishes what it did not)");
                    drop(self.thread.take());
                    return Ok(false);
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let Some(thread) = self.thread.take() else {
            return Ok(complete);
        };
        match thread.join() {
            Ok(result) => result.map(|()| complete),
            Err(_) => Err(PipelineError::Progress(
                "the publisher thread panicked".into(),
            )),
        }
    }
}

/// The last outbox sequence of `store` that Kafka holds, by the last
/// committed progress record of `transactional_id` (acknowledged in the
/// store); for a new or restored store, the sequence before its first
/// outbox entry.
fn published_up_to(
    config: &Config,
    settings: &KafkaSettings,
    transactional_id: &str,
    store: &Store,
    store_id: &str,
) -> Result<u64, PipelineError> {
    let progress = read_progress(settings, &config.topics.progress, transactional_id)?;
    let next = store.next_outbox_seq()?;
    Ok(match progress {
        Some(p) if p.store_id == store_id => {
            if p.seq >= next {
                return Err(PipelineError::Progress(format!(
                    "the store at {} (id {store_id}) is behind what {transactional_id} already published: \
                     Kafka has its outbox up to {}, the store only wrote up to {}. \
                     A store copied by hand? Use `kindred restore`, which gives it a new identity.",
                    config.resolver.data_dir.display(),
                    p.seq,
                    next.saturating_sub(1)
                )));
            }
            store.ack_outbox(p.seq)?;
            store.record_published()?;
            p.seq
        }
        // A restored or rebuilt store whose old resolver published after
        // the profile topic was read back (it was still running: only
        // this publisher's start fenced it). The ids and versions it gave
        // meanwhile are unknown to this store, which would give them again
        // to other people.
        ref now
            if store
                .progress_seen()?
                .is_some_and(|seen| seen != progress_text(now.as_ref())) =>
        {
            return Err(PipelineError::Progress(format!(
                "{transactional_id} published from the old store after `kindred restore` or `kindred rebuild` read the profile topic back (its progress was {}, it is {} now): the old resolver was still running. It is fenced now; stop it, and restore or rebuild again",
                store.progress_seen()?.filter(|s| !s.is_empty()).unwrap_or_else(|| "none".into()),
                progress_text(now.as_ref())
            )));
        }
        // Another store published after this one did: a second resolver
        // on this transactional id (which fenced this one), or a store
        // restored or rebuilt elsewhere. Fencing it back would make the
        // two take turns, each giving profile ids the other gives too.
        Some(p) if store.published_before()? => {
            return Err(replaced(config, transactional_id, store_id, &p));
        }
        // Another store published before: an empty store here is a lost
        // or unmounted volume, unless a fresh start is meant (or it is
        // restored or rebuilt from topics that held no event).
        Some(p)
            if !config.resolver.allow_new_store
                && store.offsets()?.is_empty()
                && store.progress_seen()?.is_none() =>
        {
            return Err(PipelineError::Progress(format!(
                "the store at {} is empty, but {transactional_id} published from another store \
                 (id {}, outbox up to {}): is the data volume lost or not mounted? Restore a \
                 snapshot (`kindred restore`) or rebuild from the topics (`kindred rebuild`); \
                 for a deliberate fresh start set resolver.allow_new_store = true",
                config.resolver.data_dir.display(),
                p.store_id,
                p.seq
            )));
        }
        // A new, restored or rebuilt store: what its outbox holds is
        // unpublished. What it no longer holds (deleted by a rebuild, or
        // published from the store a snapshot was taken of) is not waited
        // for: counted as published, the resolver's backpressure would
        // otherwise wait for ever on entries that will never be sent.
        _ => match store.outbox_after(0, 1)?.first() {
            Some(&(first, _)) => first.saturating_sub(1),
            None => next.saturating_sub(1),
        },
    })
}

/// A store that published finds another store's progress: why it does
/// not start ([`published_up_to`]).
fn replaced(
    config: &Config,
    transactional_id: &str,
    store_id: &str,
    p: &Progress,
) -> PipelineError {
    PipelineError::Progress(format!(
        "{transactional_id} was published from another store (id {}, outbox up to {}) after this one (id {store_id}, at {}) last published: \
         another resolver runs with this transactional id, or this store was replaced by `kindred restore` or `kindred rebuild`. \
         Not starting, so as not to fence the other one; stop one of them, and restore or rebuild the one that stopped before it runs again",
        p.store_id,
        p.seq,
        config.resolver.data_dir.display()
    ))
}

struct Task {
    config: Config,
    settings: KafkaSettings,
    store: Arc<Store>,
    codec: Arc<WireCodec>,
    protection: OutputProtection,
    /// The largest profile change record published (see [`record_limit`]).
    record_limit: usize,
    metrics: Metrics,
    producer: TransactionalProducer,
    store_id: String,
    /// The store has recorded that it published under its identity.
    published: bool,
    acked: Arc<AtomicU64>,
    failing_since_ms: Arc<AtomicU64>,
    started: Instant,
    closing: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    woken: Receiver<()>,
}

impl Task {
    /// Sleeps `how_long`, or less once told to stop; whether to go on.
    fn nap(&self, how_long: Duration) -> bool {
        let until = Instant::now() + how_long;
        while !self.stop.load(Ordering::Acquire) {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(NAP));
        }
        false
    }

    /// Records that transactions are not committing from now, unless an
    /// earlier time is already recorded ([`Publisher::failing_for`]).
    fn mark_failing(&self) {
        // Never 0 (which means "not failing").
        let now = (self.started.elapsed().as_millis() as u64).max(1);
        let _ = self
            .failing_since_ms
            .compare_exchange(0, now, Ordering::AcqRel, Ordering::Acquire);
    }

    fn run(mut self) -> Result<(), PipelineError> {
        let mut backoff = Duration::from_millis(100);
        // A commit in flight when the producer failed may have completed:
        // nothing is sent until the progress record says what it made visible
        // (the rebuilt producer's initialisation waited for the coordinator
        // to finish that transaction).
        let mut in_doubt = false;
        // The records of the transaction in doubt, with its last sequence:
        // counted as published if the read-back finds it committed.
        let mut doubted: Option<(u64, Vec<OutRecord>)> = None;
        loop {
            if self.stop.load(Ordering::Acquire) {
                return Ok(());
            }
            if in_doubt {
                let read_back = self
                    .producer
                    .ready()
                    .map_err(PipelineError::from)
                    .and_then(|()| {
                        published_up_to(
                            &self.config,
                            &self.settings,
                            self.producer.transactional_id(),
                            &self.store,
                            &self.store_id,
                        )
                    });
                match read_back {
                    Ok(seq) => {
                        if let Some((last, records)) = doubted.take() {
                            if seq >= last {
                                // Its records were produced (the attempt was
                                // counted `producer_rebuilt` already).
                                self.count_produced(&records);
                            }
                        }
                        let seq = seq.max(self.acked.load(Ordering::Acquire));
                        self.acked.store(seq, Ordering::Release);
                        in_doubt = false;
                    }
                    // The store failing (a full disk), a progress record
                    // that is not one, a store behind it, or a newer
                    // publisher: no retry mends those, and the poll loop
                    // would stay live while nothing is published.
                    Err(
                        e @ (PipelineError::Store(_)
                        | PipelineError::Progress(_)
                        | PipelineError::Fenced(_)),
                    ) => return Err(e),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read back the progress after a commit in doubt; reading it again before sending anything");
                        if !self.nap(backoff) {
                            return Ok(());
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
            }
            let acked = self.acked.load(Ordering::Acquire);
            let entries = self.store.outbox_within(
                acked,
                self.config.resolver.transaction_max_records.max(1),
                self.config.resolver.transaction_max_bytes,
            )?;
            let Some(&(mut last, _)) = entries.last() else {
                self.metrics.outbox_backlog.set(0);
                // Nothing left to publish is not failing (a commit in
                // doubt that the read-back found made leaves nothing).
                self.failing_since_ms.store(0, Ordering::Release);
                if self.closing.load(Ordering::Acquire) {
                    return Ok(());
                }
                match self.woken.recv_timeout(Duration::from_millis(200)) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => {
                        self.closing.store(true, Ordering::Release);
                        continue;
                    }
                }
            };
            // At most transaction_max_bytes of keys and values (one record
            // at least): 5,000 large profile changes held a transaction's
            // gigabytes in memory, and librdkafka's queue.
            let budget = self.config.resolver.transaction_max_bytes;
            let mut records = Vec::with_capacity(entries.len() + 1);
            let mut bytes = 0usize;
            for (seq, entry) in &entries {
                let mut record = outbox_record(
                    &self.config,
                    &self.codec,
                    &self.protection,
                    entry,
                    self.record_limit,
                )?;
                if matches!(entry, OutboxEntry::Change(_)) {
                    record
                        .headers
                        .push((CHANGE_SEQ.to_string(), seq.to_string().into_bytes()));
                }
                let size = record.payload.len() + record.key.as_ref().map_or(0, Vec::len);
                if !records.is_empty() && bytes.saturating_add(size) > budget {
                    break;
                }
                bytes = bytes.saturating_add(size);
                records.push(record);
                last = *seq;
            }
            let progress = Progress {
                store_id: self.store_id.clone(),
                seq: last,
            };
            records.push(OutRecord {
                topic: self.config.topics.progress.clone(),
                key: Some(self.producer.transactional_id().as_bytes().to_vec()),
                payload: serde_json::to_vec(&progress).map_err(|e| {
                    PipelineError::Progress(format!("cannot encode the progress record: {e}"))
                })?,
                headers: Vec::new(),
                timestamp_ms: None,
            });
            // From now until a commit: a commit librdkafka retries inside
            // the call (the coordinator unreachable) counts as failing too,
            // so readiness sees it while it lasts (a healthy one takes
            // milliseconds).
            self.mark_failing();
            match self.producer.send_transaction(&records) {
                Ok(()) => {
                    self.acked.store(last, Ordering::Release);
                    self.failing_since_ms.store(0, Ordering::Release);
                    if !self.published {
                        self.store.record_published()?;
                        self.published = true;
                    }
                    // Kafka has them: the outbox may forget them. A crash
                    // before this line is covered by the progress record.
                    self.store.ack_outbox(last)?;
                    let written = self.store.next_outbox_seq()?.saturating_sub(1);
                    self.metrics
                        .outbox_backlog
                        .set(written.saturating_sub(last) as i64);
                    self.metrics
                        .transactions
                        .with_label_values(&["committed"])
                        .inc();
                    self.count_produced(&records);
                    backoff = Duration::from_millis(100);
                }
                Err(TxnFailure::Fenced(e)) => {
                    self.metrics
                        .transactions
                        .with_label_values(&["fenced"])
                        .inc();
                    tracing::error!(error = %e, transactional_id = %self.producer.transactional_id(), "fenced: by a newer instance with this transactional id, or the broker aborted a transaction that outlived transaction.timeout.ms; this publisher stops");
                    return Err(PipelineError::Fenced(
                        self.producer.transactional_id().to_string(),
                    ));
                }
                Err(failure) => {
                    let result = match failure {
                        TxnFailure::Aborted(_) => "aborted",
                        TxnFailure::Rebuilt { .. } => "producer_rebuilt",
                        TxnFailure::Fenced(_) => "fenced",
                    };
                    if let TxnFailure::Rebuilt {
                        committed_maybe: true,
                        ..
                    } = failure
                    {
                        in_doubt = true;
                    }
                    self.metrics.transactions.with_label_values(&[result]).inc();
                    self.metrics
                        .component_errors
                        .with_label_values(&["kafka_transaction", "publish"])
                        .inc();
                    self.mark_failing();
                    tracing::warn!(error = %failure.error(), result, records = records.len(), retry_in_ms = backoff.as_millis() as u64, "outbox transaction failed; sending it again");
                    if in_doubt {
                        doubted = Some((last, records));
                    }
                    if !self.nap(backoff) {
                        return Ok(());
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

impl Task {
    /// Counts the records of a committed transaction (its outbox records
    /// and, last, its progress record): each record produced by topic, and
    /// the change lists cut.
    fn count_produced(&self, records: &[OutRecord]) {
        for r in &records[..records.len().saturating_sub(1)] {
            self.metrics
                .events_produced
                .with_label_values(&[&r.topic])
                .inc();
            for cut in &CHANGE_CUTS {
                if r.headers.iter().any(|(k, _)| k == cut.header) {
                    self.metrics
                        .change_lists_cut
                        .with_label_values(&[cut.label])
                        .inc();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kindred_config::{OutputConfig, OutputPolicy};
    use kindred_crypto::Keyring;
    use kindred_model::{
        CanonicalEvent, ChangeType, Channel, GoldenRecord, Identifier, IdentifierKind,
        MergeEvidence, Provenance, Sourced,
    };
    use kindred_resolver::ReviewNotice;
    use kindred_schema::Framing;

    use super::*;

    const PHONE: &str = "+8613910248876";
    const NAME: &str = "Maria Sentosa";

    fn record(id: &str) -> GoldenRecord {
        let event = CanonicalEvent::new(
            "pos:P1",
            Channel::Pos,
            1,
            vec![
                Identifier::new(IdentifierKind::Phone, PHONE),
                Identifier::new(IdentifierKind::MemberId, "MAIN:M-B002"),
            ],
        );
        let mut r = GoldenRecord::new(id.into(), &event);
        r.full_name = Some(Sourced {
            value: NAME.into(),
            source: Provenance {
                channel: Channel::Pos,
                event_id: "pos:P1".into(),
                event_time_ms: 1,
            },
        });
        r
    }

    fn change() -> OutboxEntry {
        let mut c = ProfileChange::superseded("P1".into(), 0, "pos:P1".into(), String::new());
        c.change_type = ChangeType::Created;
        c.superseded_by = None;
        c.record = Some(record("P1"));
        OutboxEntry::Change(Box::new(c))
    }

    fn review() -> OutboxEntry {
        OutboxEntry::Review(Box::new(ReviewNotice {
            profile_a: "P1".into(),
            profile_b: "P2".into(),
            evidence: MergeEvidence {
                rule: "shared_identifier".into(),
                rule_version: 1,
                kinds: vec!["phone".into()],
            },
            reason: "name_mismatch".into(),
            record_a: Some(record("P1")),
            record_b: Some(record("P2")),
        }))
    }

    fn protection(output: OutputConfig) -> OutputProtection {
        let keyring = Keyring::parse(&Keyring::generate(), "test").expect("keyring");
        OutputProtection::new(output, Some(Arc::new(keyring))).expect("a valid policy")
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    }

    /// A split of a huge profile names every moved event: past the record
    /// limit the producer would refuse the change forever and publishing
    /// would stop. The lists are cut to fit, the header gives the full
    /// length, and what is kept is the start of the list.
    #[test]
    fn a_change_over_the_record_limit_has_its_id_lists_cut_to_fit() {
        let config = Config::default();
        let codec = WireCodec::with_default_ids().expect("codec");
        let default = protection(OutputConfig::default());
        let OutboxEntry::Change(mut big) = change() else {
            unreachable!("change() is a change")
        };
        big.moved_event_ids = (0..40_000)
            .map(|i| format!("web:00000000-0000-0000-0000-{i:012}"))
            .collect();
        big.absorbed_ids = (0..5_000).map(|i| format!("kp-{i:012}")).collect();
        let out = change_record(&config, &codec, &default, &big, MAX_RECORD_BYTES).expect("record");
        let size = out.payload.len() + out.key.as_ref().map_or(0, Vec::len);
        assert!(size <= MAX_RECORD_BYTES, "{size} bytes");
        assert!(
            size > MAX_RECORD_BYTES - 1_000,
            "cut no more than needed: {size} bytes"
        );
        let header = |name: &str| {
            out.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(header(MOVED_EVENT_IDS_TOTAL).as_deref(), Some("40000"));
        // The moved list alone was enough to cut: the absorbed ids are whole.
        assert_eq!(header(ABSORBED_IDS_TOTAL), None);
        let published: ProfileChange = codec
            .decode(Framing::Confluent, SchemaKind::ProfileChange, &out.payload)
            .expect("decodes");
        let kept = published.moved_event_ids.len();
        assert!(kept > 10_000 && kept < 40_000, "{kept} kept");
        assert_eq!(published.moved_event_ids[..], big.moved_event_ids[..kept]);
        assert_eq!(published.absorbed_ids, big.absorbed_ids);
        // The golden record leaves under the policy, as any change's does.
        let policed = default.profile_change(&big).expect("policy");
        assert_eq!(published.record, policed.record);

        // A profile topic taking smaller records (max.message.bytes set
        // lower): cut to its limit.
        let out = change_record(&config, &codec, &default, &big, 100_000).expect("record");
        let size = out.payload.len() + out.key.as_ref().map_or(0, Vec::len);
        assert!(size <= 100_000 && size > 99_000, "{size} bytes");

        // A change that fits is untouched, with no header.
        let out =
            outbox_record(&config, &codec, &default, &change(), MAX_RECORD_BYTES).expect("record");
        assert!(out.headers.is_empty());
    }

    /// A kiosk's profile with 40,000 device ids (devices have no limit per
    /// profile) published its golden record whole: about 1.6 MB with the
    /// identifiers as keyed hashes, refused on every try, and no change
    /// after it left. Its identifiers are cut, devices first; the member
    /// card and the phone stay. A record over the limit even then goes
    /// without its golden record.
    #[test]
    fn a_change_whose_golden_record_is_over_the_limit_is_cut_to_fit() {
        let config = Config::default();
        let codec = WireCodec::with_default_ids().expect("codec");
        let default = protection(OutputConfig::default());
        let OutboxEntry::Change(mut big) = change() else {
            unreachable!("change() is a change")
        };
        let mut kiosk = big.record.take().expect("a record");
        for i in 0..40_000 {
            kiosk.identifiers.push(Identifier::new(
                IdentifierKind::Device,
                format!("web:3f2a0000-0000-0000-0000-{i:012}"),
            ));
        }
        kiosk.identifiers.sort();
        big.record = Some(kiosk);
        big.split_into = (0..30_000).map(|i| format!("kp-{i:012}")).collect();
        let whole = default.profile_change(&big).expect("policy");
        let whole_size = codec
            .encode(SchemaKind::ProfileChange, &whole)
            .expect("encodes")
            .len();
        // Over the limit without the split-off ids too.
        assert!(
            whole_size > 30_000 * 16 + MAX_RECORD_BYTES + 100_000,
            "{whole_size} bytes"
        );

        let out = change_record(&config, &codec, &default, &big, MAX_RECORD_BYTES).expect("record");
        let size = out.payload.len() + out.key.as_ref().map_or(0, Vec::len);
        assert!(
            size <= MAX_RECORD_BYTES && size > MAX_RECORD_BYTES - 1_000,
            "{size} bytes"
        );
        let header = |out: &OutRecord, name: &str| {
            out.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(header(&out, SPLIT_INTO_TOTAL).as_deref(), Some("30000"));
        assert_eq!(header(&out, IDENTIFIERS_TOTAL).as_deref(), Some("40002"));
        assert_eq!(header(&out, RECORD_TOTAL), None);
        let published: ProfileChange = codec
            .decode(Framing::Confluent, SchemaKind::ProfileChange, &out.payload)
            .expect("decodes");
        assert!(published.split_into.is_empty(), "cut before the record");
        let record = published.record.expect("the golden record, cut");
        let whole_record = whole.record.clone().expect("a record");
        let kinds = |r: &GoldenRecord, k: IdentifierKind| {
            r.identifiers
                .iter()
                .filter(|i| i.kind == k)
                .cloned()
                .collect::<Vec<_>>()
        };
        for k in [IdentifierKind::MemberId, IdentifierKind::Phone] {
            assert_eq!(kinds(&record, k), kinds(&whole_record, k), "{k:?} kept");
        }
        let devices = kinds(&record, IdentifierKind::Device);
        assert!(
            devices.len() > 1_000 && devices.len() < 40_000,
            "{}",
            devices.len()
        );
        // The first devices stay, the last go.
        let all_devices = kinds(&whole_record, IdentifierKind::Device);
        assert_eq!(devices[..], all_devices[..devices.len()]);
        assert_eq!(record.full_name, whole_record.full_name);

        // A topic taking records smaller than the record's lasting part:
        // the change goes without its golden record.
        let mut bare = whole.clone();
        bare.record = None;
        bare.split_into.clear();
        let limit = codec
            .encode(SchemaKind::ProfileChange, &bare)
            .expect("encodes")
            .len()
            + 2
            + 10;
        let out = change_record(&config, &codec, &default, &big, limit).expect("record");
        assert!(out.payload.len() + out.key.as_ref().map_or(0, Vec::len) <= limit);
        assert_eq!(header(&out, RECORD_TOTAL).as_deref(), Some("1"));
        let published: ProfileChange = codec
            .decode(Framing::Confluent, SchemaKind::ProfileChange, &out.payload)
            .expect("decodes");
        assert_eq!(published.record, None);
        assert_eq!(published.change_type, ChangeType::Created);
        assert_eq!(published.profile_id, "P1");
    }

    /// A review record or an erasure audit record too large for one Kafka
    /// record would be refused on every try and stop all publishing: the
    /// review goes without its golden records, the audit with a shorter
    /// list (fewer than its total: a rebuild reports it as partial).
    #[test]
    fn review_and_audit_records_are_cut_to_the_record_limit() {
        let config = Config::default();
        let codec = WireCodec::with_default_ids().expect("codec");
        let default = protection(OutputConfig::default());
        let body = |out: &OutRecord| -> serde_json::Value {
            serde_json::from_slice(&out.payload).expect("json")
        };
        let size = |out: &OutRecord| out.payload.len() + out.key.as_ref().map_or(0, Vec::len);

        let whole =
            outbox_record(&config, &codec, &default, &review(), MAX_RECORD_BYTES).expect("record");
        assert!(body(&whole)["record_a"].is_object());
        assert_eq!(body(&whole).get("records_cut"), None);
        let limit = size(&whole) - 1;
        let cut = outbox_record(&config, &codec, &default, &review(), limit).expect("record");
        assert!(size(&cut) <= limit, "{} > {limit}", size(&cut));
        let cut_body = body(&cut);
        assert!(cut_body["record_a"].is_null() && cut_body["record_b"].is_null());
        assert_eq!(cut_body["records_cut"], serde_json::json!(true));
        assert_eq!(cut_body["reason"], body(&whole)["reason"]);

        let listed = |n: usize| {
            OutboxEntry::AuditListed(Box::new(kindred_resolver::ListedAudit {
                audit: kindred_resolver::AuditRecord {
                    seq: 7,
                    request_id: "r-7".into(),
                    subject: "email:0123456789abcdef".into(),
                    requested_by: "dpo".into(),
                    requested_at_ms: 0,
                    outcome: kindred_resolver::ErasureOutcome::Erased,
                    profiles: vec!["kp-1".into()],
                    events_erased: n as u64,
                    identifiers_suppressed: 1,
                },
                suppressed: (0..n).map(|i| format!("event:{i:064x}")).collect(),
                suppressed_total: n as u64,
            }))
        };
        let whole = outbox_record(&config, &codec, &default, &listed(1_000), MAX_RECORD_BYTES)
            .expect("record");
        assert_eq!(
            body(&whole)["suppressed"].as_array().map(Vec::len),
            Some(1_000)
        );
        let limit = 20_000;
        let cut = outbox_record(&config, &codec, &default, &listed(1_000), limit).expect("record");
        assert!(size(&cut) <= limit, "{} > {limit}", size(&cut));
        let kept = body(&cut)["suppressed"].as_array().map_or(0, Vec::len);
        assert!(kept > 100 && kept < 1_000, "{kept} kept");
        assert_eq!(body(&cut)["suppressed_total"], serde_json::json!(1_000));
        assert_eq!(
            body(&cut)["suppressed"][0],
            body(&whole)["suppressed"][0],
            "the first entries (identifiers first) are kept"
        );
    }

    /// An event's decisions go to the decisions topic keyed by the event,
    /// as the JSON a rebuild reads back; none left is a tombstone.
    #[test]
    fn decisions_and_replies_are_keyed_by_event_and_request_and_none_left_is_a_tombstone() {
        let config = Config::default();
        let codec = WireCodec::with_default_ids().expect("codec");
        let default = protection(OutputConfig::default());
        let pinned = kindred_resolver::PinnedEvent {
            event_id: "pos:e-1".into(),
            constraints: vec![kindred_resolver::Constraint::Together { decision: 4 }],
        };
        let entry = OutboxEntry::Decisions(pinned.clone());
        let out =
            outbox_record(&config, &codec, &default, &entry, MAX_RECORD_BYTES).expect("record");
        assert_eq!(out.topic, config.topics.decisions);
        assert_eq!(out.key.as_deref(), Some(&b"pos:e-1"[..]));
        let back: kindred_resolver::PinnedEvent =
            serde_json::from_slice(&out.payload).expect("json");
        assert_eq!(back, pinned);
        let lifted = OutboxEntry::Decisions(kindred_resolver::PinnedEvent {
            constraints: Vec::new(),
            ..pinned
        });
        let out =
            outbox_record(&config, &codec, &default, &lifted, MAX_RECORD_BYTES).expect("record");
        assert_eq!(
            (out.topic.as_str(), out.key.as_deref(), out.payload.len()),
            (config.topics.decisions.as_str(), Some(&b"pos:e-1"[..]), 0),
            "a tombstone"
        );
        // A decision request's reply: on the outcome topic, by request id.
        let reply = kindred_resolver::DecisionReply {
            request_id: "dr-9".into(),
            outcome: "refused".into(),
            decision: None,
            kind: None,
            profiles: Vec::new(),
            changes: 0,
            reason: Some("no profile kp-000000000009 in the store".into()),
        };
        let entry = OutboxEntry::Replied(reply.clone());
        let out =
            outbox_record(&config, &codec, &default, &entry, MAX_RECORD_BYTES).expect("record");
        assert_eq!(out.topic, config.topics.decision_outcomes);
        assert_eq!(out.key.as_deref(), Some(&b"dr-9"[..]));
        let back: kindred_resolver::DecisionReply =
            serde_json::from_slice(&out.payload).expect("json");
        assert_eq!(back, reply);
    }

    #[test]
    fn golden_records_leave_under_their_topics_policy() {
        let config = Config::default();
        let codec = WireCodec::with_default_ids().expect("codec");
        let default = protection(OutputConfig::default());
        let raw = protection(OutputConfig {
            profiles: OutputPolicy::all_raw(),
            review: OutputPolicy::all_raw(),
        });

        // The default: no raw phone, card or name in either topic's bytes.
        for entry in [change(), review()] {
            let out =
                outbox_record(&config, &codec, &default, &entry, MAX_RECORD_BYTES).expect("record");
            for value in [PHONE, "M-B002", NAME] {
                assert!(!contains(&out.payload, value), "{value} on {}", out.topic);
            }
        }
        let out =
            outbox_record(&config, &codec, &default, &change(), MAX_RECORD_BYTES).expect("record");
        assert_eq!(out.topic, config.topics.profiles);
        let published: ProfileChange = codec
            .decode(Framing::Confluent, SchemaKind::ProfileChange, &out.payload)
            .expect("decodes");
        // Exactly what the one policy function makes of the stored change.
        let OutboxEntry::Change(stored) = change() else {
            unreachable!("change() is a change")
        };
        assert_eq!(published, default.profile_change(&stored).expect("applies"));
        let record = published.record.expect("record");
        assert!(record.identifiers.iter().any(|i| i.value == "+86****876"));
        assert!(record
            .identifiers
            .iter()
            .any(|i| i.value.starts_with("hmac:")));

        // Switched to raw, the values are published as stored.
        for entry in [change(), review()] {
            let out =
                outbox_record(&config, &codec, &raw, &entry, MAX_RECORD_BYTES).expect("record");
            for value in [PHONE, "M-B002", NAME] {
                assert!(contains(&out.payload, value), "{value} on {}", out.topic);
            }
        }
        let review_json: serde_json::Value = serde_json::from_slice(
            &outbox_record(&config, &codec, &default, &review(), MAX_RECORD_BYTES)
                .expect("record")
                .payload,
        )
        .expect("json");
        assert_eq!(review_json["record_b"]["profile_id"], "P2");
        assert_eq!(review_json["record_a"]["full_name"]["value"], "M**** S****");
    }
}
