//! `kindred ingest --channel C`: raw topic in, canonical topic and dead letters out.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_kafka::consumer::{self, CommitMode};
use kindred_kafka::rdkafka::message::Message;
use kindred_kafka::{OutRecord, Producer, RebalanceEvent, ServiceContext, MAX_RECORD_BYTES};
use kindred_model::Channel;
use kindred_schema::{Framing, SchemaKind};
use tracing::Instrument;

use super::{
    committed_offsets, count_skipped, dead_letter, kafka_settings, learn_until_known, next_batch,
    next_offsets, observe_event_lag, offset_ranges, polling_while, rebalance_listener,
    send_until_acked, with_lag_metrics, Ops, RAW_TIMESTAMP_HEADER,
};
use crate::topics::{raw_framing, raw_topic};
use crate::{normalize_options, IngestStage, PipelineError, Schemas, Shutdown};

/// Runs the ingest service of `channel` until `shutdown`.
pub async fn run(
    config: &Config,
    channel: Channel,
    ops: &Ops,
    shutdown: Shutdown,
) -> Result<(), PipelineError> {
    let service = format!("ingest-{channel}");
    let schemas = Schemas::from_config(
        config,
        &[(SchemaKind::CanonicalEvent, config.topics.canonical.as_str())],
    )
    .await?;
    let codec = schemas.codec().clone();
    let framing = raw_framing(config, channel);
    let stage = IngestStage::new(channel, framing, codec.clone(), normalize_options(config)?);
    let settings = kafka_settings(config);
    let source = raw_topic(config, channel).to_string();
    let group = format!("{}.ingest.{}", config.kafka.group_prefix, channel);
    // Where each partition goes on (for `count_skipped`): forgotten when
    // the partition is revoked or assigned, read from the group's committed
    // offset when it is (re)assigned. Assigned too: a batch that was being
    // collected when the partition was revoked records where it ends after
    // the revocation was taken in, and another member may have read on
    // (and retention deleted past that end) before the partition came back.
    let moved: Arc<Mutex<Vec<(String, i32)>>> = Arc::default();
    let listener = {
        let (base, moved) = (rebalance_listener(&ops.metrics), moved.clone());
        move |event: &RebalanceEvent| {
            base(event);
            let parts: Vec<(String, i32)> = match event {
                RebalanceEvent::Revoked(parts) => parts.clone(),
                RebalanceEvent::Assigned(parts) => {
                    parts.iter().map(|(t, p, _)| (t.clone(), *p)).collect()
                }
                RebalanceEvent::Failed(_) => Vec::new(),
            };
            moved
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(parts);
        }
    };
    let commit_errors = super::commit_failures(ops);
    let context = with_lag_metrics(ServiceContext::committed(listener), &ops.metrics)
        .with_commit_failures(move || commit_errors.inc());
    // The producer first: its drop is bounded (a purge and a short flush),
    // while a consumer's close waits on its group, so no error between the
    // two may leave a subscribed consumer to close before the guard below.
    let producer = Producer::new(&settings)?;
    let consumer = consumer::subscribe(&settings, &group, &[&source], context, None)?;
    // Dropped first on every return, error or not: the watchdog bounds the
    // close of the clients above.
    let _stop_on_return = shutdown.trigger_on_drop();
    // The work, in a block of its own: a failure is logged while the
    // clients are still open, before the guard starts the watchdog's
    // deadline and the clients close (a slow close must not hide it).
    let outcome: Result<(), PipelineError> = async {
        let linger = Duration::from_millis(config.ingest.batch_linger_ms);
        tracing::info!(%service, topic = %source, %group, group_protocol = %config.kafka.group_protocol.as_str(), "ingest service started");

        let mut next: BTreeMap<(String, i32), i64> = BTreeMap::new();
        // Messages read while a batch waited on the broker or registry,
        // and the partitions' moves as of when that wait began.
        let mut held = Vec::new();
        let mut held_read_at: Option<kindred_kafka::AssignmentEpoch> = None;
        loop {
            let epoch = || kindred_kafka::rdkafka::consumer::Consumer::context(&consumer).assignment_epoch();
            let from_held = !held.is_empty();
            // What the last batch's waits read (partitions paused) comes
            // first, as a batch of its own.
            let batch = if held.is_empty() {
                next_batch(
                    &consumer,
                    super::BatchLimit {
                        messages: config.ingest.batch_size,
                        bytes: config.ingest.batch_max_bytes,
                    },
                    linger,
                    &shutdown,
                    ops,
                    &|| false,
                    &|| true,
                )
                .await?
            } else {
                std::mem::take(&mut held)
            };
            if batch.is_empty() {
                break;
            }
            // Each partition's moves as of when the batch was read: one
            // taken away and given back while its outputs are sent is left
            // out of its commit. Held messages were read during the last
            // batch's waits: as of when those began (a partition assigned
            // meanwhile is committed with its next batch).
            let read_at = match held_read_at.take() {
                Some(at) if from_held => at,
                _ => epoch(),
            };
            for part in moved
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .drain(..)
            {
                next.remove(&part);
            }
            tokio::task::block_in_place(|| {
                // Partitions new to this instance start where the group
                // committed: asked for all of them in one call (one each
                // could add up past the liveness timeout after a rebalance).
                let new: BTreeSet<(String, i32)> = batch
                    .iter()
                    .map(|m| (m.topic().to_string(), m.partition()))
                    .filter(|k| !next.contains_key(k))
                    .collect();
                let committed = if new.is_empty() {
                    BTreeMap::new()
                } else {
                    committed_offsets(&consumer, &new.into_iter().collect::<Vec<_>>())
                };
                ops.health.progress();
                let expected = |t: &str, p: i32| {
                    let key = (t.to_string(), p);
                    next.get(&key).or_else(|| committed.get(&key)).copied()
                };
                count_skipped(&consumer, &ops.metrics, &batch, &expected)
            });
            let started = Instant::now();
            let span = tracing::info_span!("batch", %service, topic = %source, messages = batch.len(), offsets = %offset_ranges(&batch, &source));
            // Before the waits below read messages (held for the next batch).
            let waits_began = epoch();
            let carry_on = async {
                if framing == Framing::Confluent
                    && !polling_while(
                        &consumer,
                        learn_until_known(&schemas, &batch, &shutdown, ops, "ingest"),
                        &mut held,
                        ops,
                    )
                    .await?
                {
                    return Ok(false);
                }
                let mut records = Vec::with_capacity(batch.len());
                // Where a message made kindred panic (dead-lettered below).
                let mut panicked: Option<(i32, i64)> = None;
                for message in &batch {
                    ops.metrics
                        .events_consumed
                        .with_label_values(&[&source])
                        .inc();
                    let outcome = message
                        .payload()
                        .ok_or(crate::Rejection::Decode(kindred_schema::DecodeError::Empty))
                        .and_then(|payload| stage.canonical(payload, MAX_RECORD_BYTES));
                    match outcome {
                        Ok((event, payload)) => {
                            for dropped in &event.dropped {
                                ops.metrics
                                    .values_dropped
                                    .with_label_values(&[&dropped.field, &dropped.reason])
                                    .inc();
                            }
                            // Stamped now (retention counts from ingest);
                            // the raw record's time rides in a header.
                            let headers = message
                                .timestamp()
                                .to_millis()
                                .map(|ms| {
                                    (RAW_TIMESTAMP_HEADER.to_string(), ms.to_string().into_bytes())
                                })
                                .into_iter()
                                .collect();
                            records.push(OutRecord {
                                topic: config.topics.canonical.clone(),
                                key: Some(event.event_id.clone().into_bytes()),
                                payload,
                                headers,
                                timestamp_ms: None,
                            });
                        }
                        Err(e) => {
                            if matches!(e, crate::ingest::Rejection::Panicked) {
                                panicked = Some((message.partition(), message.offset()));
                            }
                            tracing::warn!(
                                reason = e.kind(),
                                partition = message.partition(),
                                offset = message.offset(),
                                "message dead-lettered"
                            );
                            // An id the registry has but kindred refused:
                            // the letter says why, not "unknown".
                            let detail = match &e {
                                crate::ingest::Rejection::Decode(
                                    kindred_schema::DecodeError::UnknownSchemaId { id },
                                ) => schemas.unlearned_because(*id).map(|why| {
                                    format!("schema id {id} was asked for and not learned from the schema registry: {why}")
                                }),
                                _ => None,
                            };
                            records.push(dead_letter(
                                &config.topics.dead_letter,
                                &service,
                                message,
                                e.kind(),
                                detail.unwrap_or_else(|| e.to_string()),
                            ));
                        }
                    }
                }
                // A canonical event the topic refuses (larger than its
                // max.message.bytes) becomes a dead letter of its message; a
                // dead letter refused too goes as its envelope alone
                // (`send_until_acked`).
                let instead = |i: usize, record: &kindred_kafka::OutRecord, e: &kindred_kafka::KafkaError| {
                    let message = batch.get(i)?;
                    if record.topic == config.topics.dead_letter {
                        return None;
                    }
                    Some(dead_letter(
                        &config.topics.dead_letter,
                        &service,
                        message,
                        "unproducible",
                        e.to_string(),
                    ))
                };
                // Retried while the broker refuses (minutes, in an outage):
                // the consumer is polled meanwhile, so it stays in its group.
                let sent = send_until_acked(&producer, &records, &shutdown, ops, "ingest", &instead);
                let polled = polling_while(&consumer, sent, &mut held, ops).await?;
                if !held.is_empty() {
                    held_read_at = Some(waits_began.clone());
                }
                if !polled {
                    // Shutdown came first: stop without reading (or committing)
                    // past this batch, which the next start reads again.
                    return Ok(false);
                }
                observe_event_lag(ops, "ingest", &batch);
                // Partitions revoked meanwhile, or revoked and given back,
                // are left out of the commit (`consumer::commit_since`):
                // their new owner reads the batch again from the group's
                // offset (the resolver de-duplicates), which this commit
                // must not move back.
                let offsets = next_offsets(&batch);
                for (t, p, o) in &offsets {
                    next.insert((t.clone(), *p), *o);
                }
                if let Some((partition, offset)) = panicked {
                    // A panic may leave a library's state broken (a
                    // poisoned lock: every later message panics too). The
                    // message is dead-lettered; its offset is committed
                    // for sure (as any batch's: not for a partition that
                    // moved meanwhile, whose new owner may have committed
                    // past it), and the service stops so that a restart
                    // starts clean, past it.
                    consumer::commit_since(&consumer, &offsets, &read_at, CommitMode::Sync)?;
                    return Err(PipelineError::Input(format!(
                        "{source}/{partition} offset {offset} made kindred panic (dead-lettered as internal_panic); \
                         the service stops so that a restart clears what the panic may have left broken"
                    )));
                }
                if let Err(e) = consumer::commit_since(&consumer, &offsets, &read_at, CommitMode::Async) {
                    super::commit_failures(ops).inc();
                    tracing::warn!(error = %e, "offset commit failed; the batch may be read again");
                }
                ops.metrics
                    .batch_duration
                    .with_label_values(&["ingest"])
                    .observe(started.elapsed().as_secs_f64());
                Ok::<_, PipelineError>(true)
            }
            .instrument(span)
            .await?;
            if !carry_on {
                break;
            }
        }
        tracing::info!(%service, "shutting down");
        Ok(())
    }
    .await;
    if let Err(e) = &outcome {
        tracing::error!(error = %e, "the ingest service failed; closing its Kafka clients");
    }
    outcome
}
