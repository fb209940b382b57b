//! `kindred resolve`: canonical topic in, profile change events out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_kafka::consumer::{self, CommitMode};
use kindred_kafka::rdkafka::consumer::Consumer;
use kindred_kafka::rdkafka::message::Message;
use kindred_kafka::{DeadLetter, Positions, Producer, ServiceContext};
use kindred_model::CanonicalEvent;
use kindred_resolver::{Resolver, SourceOffset, Store};
use kindred_schema::SchemaKind;
use tracing::Instrument;

use super::publish::Publisher;
use super::{
    alive_while, count_skipped, dead_letter_of, kafka_settings, learn_until_known, next_batch,
    next_offsets, observe_event_lag, offset_ranges, poll_paused, polling_while, rebalance_listener,
    resume_paused, send_until_acked, unapplied, with_lag_metrics, Ops, PausedWait,
};
use crate::{PipelineError, Shutdown};

const SERVICE: &str = "resolve";

/// Metrics and logs for what the guards did in a batch. Their records
/// (quarantine, review) travel through the outbox with the changes.
fn count_guards(outcome: &kindred_resolver::BatchOutcome, ops: &Ops) {
    for (reason, n) in &outcome.refused {
        ops.metrics
            .merges_refused
            .with_label_values(&[reason])
            .inc_by(*n);
    }
    for q in &outcome.quarantined {
        ops.metrics
            .identifiers_quarantined
            .with_label_values(&[&q.kind])
            .inc();
        // Masked, not the digest: in a plaintext (demo) store the digest is
        // an unkeyed hash a phone number can be recovered from by trying them.
        tracing::warn!(kind = %q.kind, masked = %q.masked, companions = q.companions, "identifier quarantined as over-shared");
    }
    for m in &outcome.marked_shared {
        ops.metrics
            .identifiers_marked_shared
            .with_label_values(&[m.kind.as_str()])
            .inc();
        // Masked, as a quarantine's: enough to `kindred explain` it.
        tracing::info!(kind = m.kind.as_str(), masked = %m.masked, "identifier shown shared: its records name clearly different people");
    }
    for s in &outcome.suggestions {
        ops.metrics
            .review_suggestions
            .with_label_values(&[s.reason])
            .inc();
    }
}

/// How long the resolver waits for its outbox to drain before it reports
/// itself unready.
const BACKLOG_UNREADY_AFTER: Duration = Duration::from_secs(30);

/// How long before the shutdown deadline the flush at a clean stop starts
/// no other family.
const FLUSH_MARGIN: Duration = Duration::from_secs(2);

/// How often the resolver flushes its store's memtables (see
/// `Store::flush_every`): a day.
const STORE_FLUSH_INTERVAL: Duration = Duration::from_secs(86_400);

/// How long the publisher's transactions may fail, none committing, before
/// the resolver reports itself unready (a missing topic, a refused ACL,
/// a broker away: nothing reaches downstream).
const PUBLISH_FAILING_UNREADY_AFTER: Duration = Duration::from_secs(30);

/// Runs the resolver service until `shutdown`.
///
/// Per batch: decode the canonical events (bad ones are dead-lettered),
/// apply them to the store in one atomic write that also records the input
/// offsets and queues every output in the outbox; the publisher thread
/// commits the outbox to Kafka in transactions. Partitions start at the
/// offsets the store recorded, never at Kafka's committed offsets (those
/// are committed after each batch for lag monitoring only).
pub async fn run(config: &Config, ops: &Ops, shutdown: Shutdown) -> Result<(), PipelineError> {
    let schemas = crate::Schemas::for_own_topics(
        config,
        &[(SchemaKind::ProfileChange, config.topics.profiles.as_str())],
    )
    .await?;
    let codec = schemas.codec().clone();
    let store = crate::privacy::open_store(config)?;
    if store.is_rebuilding()? {
        return Err(PipelineError::Config(format!(
            "the store at {} is a `kindred rebuild` or `kindred restore` that did not finish: move it away and run it again",
            config.resolver.data_dir.display()
        )));
    }
    // The output policy is checked before any broker is asked anything: a
    // wrong one is a configuration error, said at once.
    crate::output_policy::OutputProtection::from_config(config)?;
    let erasure_topic = config.topics.erasure_requests.clone();
    let decision_topic = config.topics.decision_requests.clone();
    let normalize = crate::normalize_options(config)?;
    let mut resolver = Resolver::with_policy(
        store,
        config.resolver.linking.clone(),
        config.resolver.survivorship.clone(),
    );
    resolver.set_suppress_erased(config.privacy.suppress_erased);
    if resolver.survivorship_changed()? {
        tracing::warn!(
            "[resolver.survivorship] differs from the rules this store's profiles were settled by: \
             a profile follows the new rules once an event touches it; stop the resolver and run \
             `kindred republish` to settle (and publish) every profile by them"
        );
    }
    // Operator commands (`review`, `split`) compare their settings with these.
    resolver.record_running_settings()?;
    // Decision numbers continue past every one on the decisions topic: a
    // store restored from a snapshot would give again numbers that
    // decisions made after the snapshot carry there.
    let highest = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            crate::state::highest_decision_on_topic(&config, Duration::from_secs(30))
        })
        .await
        .map_err(|e| {
            PipelineError::Progress(format!("reading the decisions topic panicked: {e}"))
        })?
        // Not fatal when it cannot be read now: the numbers only matter to
        // a store behind the topic (a restore).
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the decisions topic: decision numbers continue from the store's own");
            0
        })
    };
    if resolver.number_decisions_after(highest)? {
        tracing::info!(highest, "the decisions topic names decisions this store does not have (restored from a snapshot?): its next decisions are numbered after them");
    }
    if let Some(applied) = resolver.applied_policy_differs() {
        tracing::warn!(
            applied,
            configured = %kindred_resolver::policy_fingerprint(resolver.policy()),
            "the configured linking rules differ from the ones the last `kindred rules apply` recorded: \
             profiles linked earlier keep their partition until an event touches them; run `kindred \
             rules diff` and `kindred rules apply` with this configuration to re-evaluate them all"
        );
    }
    if resolver.store().quarantine_recount_pending()? {
        tracing::warn!(
            "an erasure since the last `kindred rules apply` left quarantined identifiers the erased \
             records carried: run `kindred rules diff` and `kindred rules \
             apply` with this configuration to recount them as a store without the erased events \
             counts them"
        );
    }
    for outcome in ["erased", "not_found", "ambiguous"] {
        ops.metrics.erasures.with_label_values(&[outcome]);
    }
    for outcome in ["applied", "refused"] {
        ops.metrics.decision_requests.with_label_values(&[outcome]);
    }
    // Counting the profiles reads their whole family (minutes on a large
    // store): it runs beside the service, over the store as it is before
    // the first batch. The gauge counts each batch's creations and merges
    // from 0 and gets the count added when it is done.
    ops.metrics.profiles.set(0);
    let gauge = ops.metrics.profiles.clone();
    // What an erasure deleted leaves the write-ahead log within a day, as
    // periodic compaction takes it out of the table files within a week.
    let _flushing = {
        let errors = ops.metrics.component_errors.clone();
        resolver
            .shared_store()
            .flush_every(STORE_FLUSH_INTERVAL, move |e| {
                errors.with_label_values(&["flush", "resolve"]).inc();
                tracing::warn!(error = %e, "store flush failed");
            })?
    };
    // Snapshots on a clock of their own (a checkpoint is atomic with the
    // batches' writes): a store that receives nothing still takes them and
    // prunes the oldest, so one taken before an erasure is gone after
    // `snapshot_keep` intervals, traffic or not.
    let _snapshots = match &config.resolver.snapshot_dir {
        Some(dir) => {
            let (dir, keep) = (dir.clone(), config.resolver.snapshot_keep);
            let errors = ops.metrics.component_errors.clone();
            Some(resolver.shared_store().every(
                "kindred-snapshot",
                Duration::from_secs(config.resolver.snapshot_interval_secs),
                move |store| match crate::state::rotate_snapshot(store, &dir, keep) {
                    Ok(path) => tracing::info!(path = %path.display(), "store snapshot written"),
                    Err(e) => {
                        errors.with_label_values(&["snapshot", "resolve"]).inc();
                        tracing::warn!(error = %e, "store snapshot failed");
                    }
                },
            )?)
        }
        None => None,
    };
    // Dropped when `run` returns: the count stops and its thread ends
    // before the store is closed.
    let _counting = resolver
        .shared_store()
        .count_profiles_in_background(move |count| match count {
            Ok(n) => {
                gauge.add(n as i64);
                tracing::debug!(profiles = n, "the store's profiles counted");
            }
            Err(e) => tracing::warn!(
                error = %e,
                "cannot count the store's profiles: kindred_profiles counts only the changes since the start"
            ),
        })?;
    for result in ["committed", "aborted", "producer_rebuilt", "fenced"] {
        ops.metrics.transactions.with_label_values(&[result]);
    }
    for change in kindred_model::ChangeType::ALL {
        ops.metrics
            .profile_changes
            .with_label_values(&[change.as_str()]);
    }
    let settings = kafka_settings(config);
    let source = config.topics.canonical.clone();
    let group = group_id(config);
    ops.metrics.events_suppressed.with_label_values(&[&source]);
    let publisher = {
        let (config, settings, store, codec, metrics) = (
            config.clone(),
            settings.clone(),
            resolver.shared_store(),
            codec.clone(),
            ops.metrics.clone(),
        );
        tokio::task::spawn_blocking(move || {
            Publisher::start(&config, &settings, store, codec, metrics)
        })
        .await
        .map_err(|e| PipelineError::Progress(format!("publisher start panicked: {e}")))??
    };
    let _store_gauges = StoreGauges::start(&resolver.shared_store(), ops.metrics.clone());
    let positions = Positions::new(resolver.store().offsets()?);
    // One resolver per store, restarted in place: a static member (under
    // the classic protocol; `consumer::subscribe` says why not under
    // KIP-848). Each
    // consumer (a new one after a fatal error) starts every partition at
    // the store's position.
    let subscribe = || {
        let context = with_lag_metrics(
            ServiceContext::stored(positions.clone(), rebalance_listener(&ops.metrics)),
            &ops.metrics,
        );
        consumer::subscribe(
            &settings,
            &group,
            &[&source, &erasure_topic, &decision_topic],
            context,
            Some(&publisher_id(config)),
        )
    };
    // The producer first: its drop is bounded, a consumer's close is not.
    let producer = Producer::new(&settings)?;
    // Outside the work's block, which only borrows it (a block that moved
    // it closed it as the block ended: before the failure was logged and
    // the watchdog's deadline started).
    let mut consumer_slot = Some(subscribe()?);
    let mut rejoins: Vec<Instant> = Vec::new();
    // Dropped first on every return, error or not: the watchdog bounds the
    // close of the clients above.
    let _stop_on_return = shutdown.trigger_on_drop();
    // The work, in a block of its own: a failure is logged while the
    // clients are still open, before the guard starts the watchdog's
    // deadline and the clients close (a slow close must not hide it).
    let outcome: Result<(), PipelineError> = async {
        let linger = Duration::from_millis(config.resolver.batch_linger_ms);
        let mut written = resolver.store().next_outbox_seq()?.saturating_sub(1);
        tracing::info!(topic = %source, %group, group_protocol = %config.kafka.group_protocol.as_str(), store = %config.resolver.data_dir.display(), "resolver started");
        // Started (the startup probe's `/startedz`): the store is open and
        // the publisher runs, however long a large outbox keeps the
        // resolver unready below.
        ops.health.set_started();

        // Messages read while a batch waited on the schema registry.
        let mut carried = Vec::new();
        loop {
            let Some(consumer) = consumer_slot.as_ref() else {
                return Err(PipelineError::Consumer(
                    "no consumer after a rejoin".to_string(),
                ));
            };
            // Backpressure: while the broker lags behind, stop reading; the
            // backlog is on disk and bounded by `outbox_max_backlog`. Live
            // (the process is fine), but unready after a while: nothing is
            // published (the next batch's check makes it ready again).
            let waiting_since = Instant::now();
            let mut unready = false;
            // Read while waiting, partitions paused: for the next batch.
            let mut paused = PausedWait::default();
            let mut polling = true;
            let mut waited = false;
            while written.saturating_sub(publisher.acked()) > config.resolver.outbox_max_backlog
                && !shutdown.is_triggered()
                && !publisher.is_finished()
            {
                ops.metrics
                    .outbox_backlog
                    .set(written.saturating_sub(publisher.acked()) as i64);
                ops.health.progress();
                if !unready && waiting_since.elapsed() >= BACKLOG_UNREADY_AFTER {
                    unready = true;
                    ops.health.set_ready(false);
                    tracing::warn!(
                        backlog = written.saturating_sub(publisher.acked()),
                        limit = config.resolver.outbox_max_backlog,
                        waited_secs = waiting_since.elapsed().as_secs(),
                        "not reading: the outbox is not being published (see the publisher's warnings); unready until it drains"
                    );
                }
                if polling {
                    waited = true;
                    polling = poll_paused(consumer, &mut paused, Duration::from_millis(50), ops).await;
                } else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            if waited {
                resume_paused(consumer, &paused);
            }
            // What the last batch's schema lookups read, then this wait.
            let mut held = std::mem::take(&mut carried);
            held.extend(paused.held);
            if publisher.is_finished() {
                // Only a store error ends it early: surface it.
                return match publisher.finish(Instant::now()).await {
                    Err(e) => Err(e),
                    Ok(_) => Err(PipelineError::Progress(
                        "the outbox publisher stopped".into(),
                    )),
                };
            }
            // What the wait read is the next batch (a few messages: one a
            // partition at most, each paused after it); more comes after.
            let read = if held.is_empty() {
                next_batch(
                    consumer,
                    super::BatchLimit {
                        messages: config.resolver.batch_size,
                        bytes: config.resolver.batch_max_bytes,
                    },
                    linger,
                    &shutdown,
                    ops,
                    &|| publisher.is_finished(),
                    &|| {
                        publisher
                            .failing_for()
                            .is_none_or(|failing| failing < PUBLISH_FAILING_UNREADY_AFTER)
                    },
                )
                .await
            } else {
                Ok(held)
            };
            let batch = match read {
                Ok(batch) => batch,
                // A static member can be fenced by its own retried join after a
                // broker restart, not only by another instance: the consumer is
                // unusable either way, so rejoin with a new one (reading from
                // the store's positions; nothing is skipped). A real second
                // instance is stopped by the publisher's fencing instead.
                Err(PipelineError::Consumer(reason)) => {
                    // Again and again within minutes: another live instance
                    // fences this one each time (not a broker restart); stop.
                    rejoins.retain(|t: &Instant| t.elapsed() < Duration::from_secs(300));
                    if rejoins.len() >= 3 || shutdown.is_triggered() {
                        return Err(PipelineError::Consumer(reason));
                    }
                    rejoins.push(Instant::now());
                    tracing::warn!(%reason, "the consumer failed for good; rejoining with a new one");
                    // The new consumer reads them again from the store's
                    // positions.
                    carried.clear();
                    // Closed before the new one joins under its member id.
                    tokio::task::block_in_place(|| consumer_slot = None);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    consumer_slot = Some(subscribe()?);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if batch.is_empty() {
                if publisher.is_finished() && !shutdown.is_triggered() {
                    // Surfaced at the top of the loop.
                    continue;
                }
                break;
            }
            let kept = tokio::task::block_in_place(|| {
                unapplied(batch, &|t, p| positions.get(t, p), &|t, p| {
                    consumer
                        .fetch_watermarks(t, p, Duration::from_secs(10))
                        .ok()
                        .map(|(_, high)| high)
                })
            });
            for (topic, partition) in &kept.recreated {
                tracing::error!(%topic, partition, position = positions.get(topic, *partition),
                    "the partition's log ends before the store's position: the topic was recreated or truncated; its messages are applied as new (rebuild the store if this was not meant)");
            }
            if kept.dropped > 0 {
                tracing::warn!(
                    messages = kept.dropped,
                    "messages the store had applied were delivered again (a partition re-assigned); skipped"
                );
            }
            let batch = kept.messages;
            let started = Instant::now();
            let span = tracing::info_span!("batch", service = SERVICE, topic = %source, messages = batch.len(), offsets = %offset_ranges(&batch, &source));
            let carry_on = async {
                tokio::task::block_in_place(|| {
                    count_skipped(consumer, &ops.metrics, &batch, &|t, p| positions.get(t, p))
                });
                // Polled meanwhile (partitions paused), so that a registry
                // down for minutes does not cost the partitions.
                let learned = learn_until_known(&schemas, &batch, &shutdown, ops, "resolve");
                if !polling_while(consumer, learned, &mut carried, ops).await? {
                    return Ok(false);
                }
                // Events, and erasure and decision requests applied in order between them.
                let mut items: Vec<(usize, Item)> = Vec::with_capacity(batch.len());
                let mut dead = Vec::new();
                // Where a message made kindred panic (dead-lettered).
                let mut panicked: Option<(i32, i64)> = None;
                for (i, message) in batch.iter().enumerate() {
                    ops.metrics
                        .events_consumed
                        .with_label_values(&[message.topic()])
                        .inc();
                    let item = if message.topic() == erasure_topic {
                        let record_ms = message.timestamp().to_millis().unwrap_or(0);
                        crate::erasure::parse_request(message.payload().unwrap_or_default(), &normalize, record_ms)
                            .map(Item::Erase)
                            .map_err(|e| (e.kind(), e.to_string()))
                    } else if message.topic() == decision_topic {
                        crate::live::parse_request(message.payload().unwrap_or_default())
                            .map(Item::Decide)
                            .map_err(|e| (e.kind(), e.to_string()))
                    } else {
                        // Another producer's record could make a decoder
                        // panic: dead-lettered, then the service stops
                        // past it (below).
                        let decoded = crate::ingest::catch_panic(
                            || {
                                message
                                    .payload()
                                    .ok_or(kindred_schema::DecodeError::Empty)
                                    .and_then(|p| schemas.decode_own(SchemaKind::CanonicalEvent, p))
                                    .map_err(|e| (e.kind(), e.to_string()))
                                    .and_then(|mut e| {
                                        bound_to_what_ingest_makes(&mut e);
                                        match kindred_normalize::check_canonical(&e) {
                                            Ok(()) => Ok(Item::Event(Box::new(e))),
                                            Err(invalid) => Err((invalid.kind(), invalid.to_string())),
                                        }
                                    })
                            },
                            (INTERNAL_PANIC, PANICKED.to_string()),
                        );
                        if matches!(&decoded, Err((INTERNAL_PANIC, _))) {
                            panicked = Some((message.partition(), message.offset()));
                        }
                        decoded
                    };
                    match item {
                        Ok(item) => items.push((i, item)),
                        Err((reason, detail)) => {
                            // Someone asked for something (to be forgotten,
                            // a review, a split) that will not happen:
                            // worth a line an operator sees, without the
                            // request's values.
                            if message.topic() == erasure_topic || message.topic() == decision_topic {
                                tracing::warn!(
                                    topic = message.topic(),
                                    partition = message.partition(),
                                    offset = message.offset(),
                                    reason,
                                    "a request was refused and dead-lettered with its values masked; it was not applied"
                                );
                            }
                            // A request's bytes carry the identifier of
                            // someone asking to be forgotten (or split
                            // off): masked.
                            let (payload, masked) = if message.topic() == erasure_topic {
                                (crate::erasure::masked_payload(message.payload().unwrap_or_default()), true)
                            } else if message.topic() == decision_topic {
                                (crate::live::masked_payload(message.payload().unwrap_or_default()), true)
                            } else {
                                (message.payload().unwrap_or_default().to_vec(), false)
                            };
                            let mut letter = dead_letter_of(
                                &config.topics.dead_letter,
                                SERVICE,
                                message,
                                reason,
                                detail,
                                &payload,
                            );
                            // Not the request as sent: `deadletter replay`
                            // must not send it as one. Its key (the request
                            // id, or whatever a portal keys by: an e-mail)
                            // is masked as a request id is.
                            if masked {
                                // Nor does it carry the request's own
                                // headers: a portal's may name the person.
                                letter.headers.retain(|(k, _)| k.starts_with(kindred_kafka::DLQ_HEADER_PREFIX));
                                letter.headers.push((DeadLetter::MASKED.to_string(), b"true".to_vec()));
                                letter.key = message.key().map(|k| {
                                    crate::erasure::masked_request_id(&String::from_utf8_lossy(k)).into_bytes()
                                });
                            }
                            dead.push(letter);
                        }
                    }
                }
                // An event whose id another event holds (applied, or earlier
                // in this batch) with another event time: the first keeps
                // the id, and this one is dead-lettered rather than dropped
                // as a duplicate.
                let conflicts = {
                    let events: Vec<(usize, &CanonicalEvent)> = items
                        .iter()
                        .filter_map(|(i, item)| match item {
                            Item::Event(e) => Some((*i, e.as_ref())),
                            _ => None,
                        })
                        .collect();
                    let refs: Vec<&CanonicalEvent> = events.iter().map(|(_, e)| *e).collect();
                    tokio::task::block_in_place(|| resolver.conflicting_duplicates(&refs))?
                        .into_iter()
                        .map(|c| (events[c.index].0, c))
                        .collect::<Vec<_>>()
                };
                for (i, c) in &conflicts {
                    let message = &batch[*i];
                    tracing::warn!(
                        topic = message.topic(),
                        partition = message.partition(),
                        offset = message.offset(),
                        "an event reusing the id of another event was dead-lettered (conflicting_duplicate)"
                    );
                    dead.push(dead_letter_of(
                        &config.topics.dead_letter,
                        SERVICE,
                        message,
                        CONFLICTING_DUPLICATE,
                        format!(
                            "event id {} belongs to an event of event time {} ms; this one has {} ms: the first keeps \
                             the id (a source reusing event ids? give each source its own topic, or ids unique across them)",
                            c.event_id, c.kept_time_ms, c.time_ms
                        ),
                        message.payload().unwrap_or_default(),
                    ));
                }
                items.retain(|(i, _)| !conflicts.iter().any(|(c, _)| c == i));
                // Dead letters first: the offsets of their messages are about
                // to be recorded as applied. Polled meanwhile, as the
                // registry wait is: a dead-letter topic refusing writes for
                // minutes must not cost the partitions.
                if !dead.is_empty()
                    && !polling_while(
                        consumer,
                        send_until_acked(&producer, &dead, &shutdown, ops, "resolve", &|_, _, _| None),
                        &mut carried,
                        ops,
                    )
                    .await?
                {
                    // Shutdown came first: apply nothing of this batch, and read
                    // no further (the store's offsets must not pass it).
                    return Ok(false);
                }
                // Each request sees the events before it applied; each write
                // records the offsets of everything it covers.
                let mut events: Vec<CanonicalEvent> = Vec::new();
                for (i, item) in items {
                    if let Item::Event(event) = item {
                        events.push(*event);
                        continue;
                    }
                    let before = source_offsets(&batch[..i]);
                    let outcome = alive_while(ops, || {
                        resolver.apply(&std::mem::take(&mut events), &before)
                    })?;
                    observe_outcome(ops, &source, &outcome);
                    written = outcome.outbox_last.unwrap_or(written);
                    let through = source_offsets(&batch[..=i]);
                    match item {
                        Item::Event(_) => {}
                        Item::Decide(request) => {
                            let done = alive_while(ops, || resolver.apply_request(&request, &through))?;
                            let r = &done.reply;
                            ops.metrics
                                .decision_requests
                                .with_label_values(&[r.outcome.as_str()])
                                .inc();
                            observe_outcome(ops, &source, &done.neighbours);
                            if let Some(decided) = &done.decided {
                                observe_outcome(ops, &source, &decided.outcome);
                            }
                            // The outcome, a decision number and how many
                            // profiles. Profile ids stand for a person (and
                            // outlive their erasure in shipped logs), the
                            // reason names them, the request id is free text
                            // and who decided is in the lineage: debug only.
                            tracing::debug!(request_id = %r.request_id, actor = %request.actor,
                                profiles = ?r.profiles, reason = r.reason.as_deref().unwrap_or(""),
                                "decision request");
                            tracing::info!(outcome = %r.outcome,
                                decision = ?r.decision, profiles = r.profiles.len(),
                                "decision request applied");
                            written = done.outbox_last.unwrap_or(written);
                        }
                        Item::Erase(request) => {
                            let erasure = alive_while(ops, || resolver.erase(&request, &through))?;
                            let a = &erasure.audit;
                            ops.metrics
                                .erasures
                                .with_label_values(&[a.outcome.as_str()])
                                .inc();
                            for change in &erasure.changes {
                                ops.metrics
                                    .profile_changes
                                    .with_label_values(&[change.change_type.as_str()])
                                    .inc();
                            }
                            ops.metrics.profiles.sub(i64::from(!erasure.changes.is_empty()));
                            observe_outcome(ops, &source, &erasure.neighbours);
                            // The request id is free text a requester may have
                            // put a name or an address in, and the subject a
                            // profile id or an identifier's digest (one of a
                            // plaintext store is a guessable FNV hash of a
                            // phone): both at debug level only (the audit
                            // topic carries them); info says what kind.
                            tracing::debug!(audit_seq = a.seq, request_id = %a.request_id, subject = %a.subject, "erasure request id");
                            let subject_kind = a.subject.split_once(':').map_or("profile_id", |(kind, _)| kind);
                            tracing::info!(audit_seq = a.seq, subject_kind, outcome = a.outcome.as_str(),
                                profiles = a.profiles.len(), events = a.events_erased, suppressed = a.identifiers_suppressed,
                                "erasure request applied");
                            if erasure.quarantines_to_recount > 0 {
                                tracing::warn!(audit_seq = a.seq, identifiers = erasure.quarantines_to_recount,
                                    "the erased records carried quarantined identifiers, which stay quarantined (a quarantined entry keeps no holders to count again); `kindred rules diff` and `kindred rules apply` with this config recount them as a store without the erased events counts them");
                            }
                            written = erasure.outbox_last.unwrap_or(written);
                        }
                    }
                }
                let offsets = source_offsets(&batch);
                let outcome = alive_while(ops, || resolver.apply(&events, &offsets))?;
                for o in &offsets {
                    positions.advance(&o.topic, o.partition, o.next_offset);
                }
                if let Some((partition, offset)) = panicked {
                    // The store's position is past the message (dead-lettered
                    // first): stop, so that a restart starts clean.
                    return Err(PipelineError::Input(format!(
                        "{source}/{partition} offset {offset} made kindred panic (dead-lettered as {INTERNAL_PANIC}); \
                         the service stops so that a restart clears what the panic may have left broken"
                    )));
                }
                observe_event_lag(ops, "resolve", &batch);
                observe_outcome(ops, &source, &outcome);
                written = outcome.outbox_last.unwrap_or(written);
                publisher.notify();
                ops.metrics
                    .outbox_backlog
                    .set(written.saturating_sub(publisher.acked()) as i64);
                // For lag monitoring only: the store's offsets are the truth.
                let commit: Vec<_> = offsets
                    .into_iter()
                    .map(|o| (o.topic, o.partition, o.next_offset))
                    .collect();
                if let Err(e) = consumer::commit(consumer, &commit, CommitMode::Async) {
                    tracing::debug!(error = %e, "committing offsets for lag monitoring failed");
                }
                ops.metrics
                    .batch_duration
                    .with_label_values(&["resolve"])
                    .observe(started.elapsed().as_secs_f64());
                Ok::<_, PipelineError>(true)
            }
            .instrument(span)
            .await?;
            if !carry_on {
                break;
            }
        }
        // A second before the process's own deadline (the watchdog's,
        // counted from the trigger), so closing the consumer has time too.
        let deadline = shutdown.triggered_at().unwrap_or_else(Instant::now)
            + Duration::from_secs(config.shutdown.timeout_secs).saturating_sub(Duration::from_secs(1));
        tracing::info!("resolver stopping: publishing what the outbox holds");
        let complete = publisher.finish(deadline).await?;
        // A clean stop leaves no write-ahead log to replay: the next start
        // (and a reader opened meanwhile) is not slowed by up to
        // MAX_TOTAL_WAL_BYTES of it. Not worth missing the deadline for: a
        // family is started only while FLUSH_MARGIN is left (a flush waits
        // for its own, which a compaction can slow); a stop cut short by
        // the watchdog leaves the log, which the next start replays.
        let store = resolver.shared_store();
        let flush_by = deadline.checked_sub(FLUSH_MARGIN).unwrap_or(deadline);
        let flushed = tokio::task::block_in_place(|| store.flush_until(flush_by))
            .unwrap_or_else(|e| {
                ops.metrics
                    .component_errors
                    .with_label_values(&["flush", "resolve"])
                    .inc();
                tracing::warn!(error = %e, "store flush at shutdown failed (the next start replays the log)");
                false
            });
        tracing::info!(complete, flushed, "resolver stopped");
        Ok(())
    }
    .await;
    if let Err(e) = &outcome {
        tracing::error!(error = %e, "the resolver failed; closing its Kafka clients");
    }
    outcome
}

/// What one message of the resolver's input is.
enum Item {
    Event(Box<CanonicalEvent>),
    Erase(kindred_resolver::ErasureRequest),
    Decide(kindred_resolver::DecisionRequest),
}

/// The positions after `messages`, per topic and partition.
fn source_offsets(messages: &[kindred_kafka::rdkafka::message::OwnedMessage]) -> Vec<SourceOffset> {
    next_offsets(messages)
        .into_iter()
        .map(|(topic, partition, next_offset)| SourceOffset {
            topic,
            partition,
            next_offset,
        })
        .collect()
}

/// Counts what a batch did.
fn observe_outcome(ops: &Ops, source: &str, outcome: &kindred_resolver::BatchOutcome) {
    count_guards(outcome, ops);
    ops.metrics
        .profiles
        .add(outcome.created as i64 - outcome.absorbed as i64);
    if outcome.recomputed_events > 0 {
        ops.metrics
            .recomputed_events
            .with_label_values::<&str>(&[])
            .inc_by(outcome.recomputed_events);
    }
    for (channel, n) in kindred_model::Channel::ALL
        .iter()
        .zip(outcome.duplicates_by_channel)
    {
        if n > 0 {
            ops.metrics
                .duplicate_events
                .with_label_values(&[channel.as_str()])
                .inc_by(n);
        }
    }
    if outcome.suppressed > 0 {
        ops.metrics
            .events_suppressed
            .with_label_values(&[source])
            .inc_by(outcome.suppressed);
    }
    for change in &outcome.changes {
        ops.metrics
            .profile_changes
            .with_label_values(&[change.change_type.as_str()])
            .inc();
    }
}

/// Copies RocksDB's figures to the store gauges every few seconds, until
/// dropped. It holds the store weakly, and strongly only inside one
/// synchronous read, so the store closes (and releases its lock) when the
/// service lets go of it, not when this task is next polled.
struct StoreGauges(tokio::task::JoinHandle<()>);

impl StoreGauges {
    const INTERVAL: Duration = Duration::from_secs(5);

    fn start(store: &Arc<Store>, metrics: kindred_ops::Metrics) -> Self {
        let store = Arc::downgrade(store);
        StoreGauges(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Self::INTERVAL);
            loop {
                tick.tick().await;
                let Some(stats) = store.upgrade().map(|s| s.engine_stats()) else {
                    return;
                };
                match stats {
                    Ok(s) => metrics.set_store(&kindred_ops::StoreFigures {
                        identifiers: s.identifiers_estimate,
                        live_data_bytes: s.live_data_bytes,
                        pending_compaction_bytes: s.pending_compaction_bytes,
                        block_cache_usage_bytes: s.block_cache_usage_bytes,
                        write_stopped: s.write_stopped,
                        write_delayed: s.write_delayed,
                    }),
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot read the store's RocksDB properties")
                    }
                }
            }
        }))
    }
}

impl Drop for StoreGauges {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The dead-letter reason of a message that made kindred panic.
const INTERNAL_PANIC: &str = "internal_panic";

/// That dead letter's message (the panic's own words may quote a value).
const PANICKED: &str =
    "kindred failed on this message (a bug: report it, and replay the message once fixed)";

/// The dead-letter reason of an event whose id another event holds
/// ([`kindred_resolver::ConflictingDuplicate`]).
pub const CONFLICTING_DUPLICATE: &str = "conflicting_duplicate";

/// The resolver's consumer group: its [`publisher_id`]. Two stores on one
/// cluster with different transactional ids (a shadow store beside
/// production) each read every partition; in one group (it was
/// `<group_prefix>.resolve` whatever the id) they split the canonical
/// topic's partitions between them and each held half the people, and
/// only one got the single-partition erasure and decision requests.
/// Default `<group_prefix>.resolve`.
pub fn group_id(config: &Config) -> String {
    publisher_id(config)
}

/// The resolver's stable identity towards Kafka: its `transactional.id`
/// and its static group membership.
/// Cuts a canonical event read from the topic to the texts and lists
/// normalization keeps ([`kindred_normalize::bound_canonical`]), saying
/// which fields (not their values) another producer, or an older release,
/// sent larger.
pub(crate) fn bound_to_what_ingest_makes(e: &mut CanonicalEvent) {
    let cut = kindred_normalize::bound_canonical(e);
    if !cut.is_empty() {
        tracing::warn!(fields = ?cut, "a canonical event held texts or lists larger than normalization makes: cut to its bounds");
    }
}

pub fn publisher_id(config: &Config) -> String {
    config
        .resolver
        .transactional_id
        .clone()
        .unwrap_or_else(|| format!("{}.resolve", config.kafka.group_prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolvers_of_different_transactional_ids_are_in_different_groups() {
        let production = Config::default();
        assert_eq!(group_id(&production), "kindred.resolve");
        let mut shadow = production.clone();
        shadow.resolver.transactional_id = Some("kindred.resolve.shadow".into());
        assert_eq!(group_id(&shadow), "kindred.resolve.shadow");
        assert_ne!(group_id(&shadow), group_id(&production));
    }
}
