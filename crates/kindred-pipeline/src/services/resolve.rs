//! `kindred resolve`: canonical topic in, profile change events out.

use std::time::{Duration, Instant};

use kindred_config::Config;
use kindred_kafka::consumer::{self, CommitMode};
use kindred_kafka::rdkafka::message::Message;
use kindred_kafka::{OutRecord, Producer};
use kindred_model::CanonicalEvent;
use kindred_resolver::{Resolver, SourceOffset, Store};
use kindred_schema::{Framing, SchemaKind};
use tracing::Instrument;

use super::{dead_letter, kafka_settings, next_batch, next_offsets, send_until_acked, Ops};
use crate::{codec_from_config, PipelineError, Shutdown};

const SERVICE: &str = "resolve";

/// Publishes the change events offline commands (review, split, rules
/// apply) left in the store's outbox, then removes them. At least once: a
/// crash between the acknowledgement and the removal publishes them again
/// (same profile id and version: consumers keep the highest version).
async fn publish_outbox(
    config: &Config,
    resolver: &Resolver,
    codec: &kindred_schema::WireCodec,
    producer: &Producer,
    shutdown: &Shutdown,
    ops: &Ops,
) -> Result<(), PipelineError> {
    let pending = resolver.store().outbox()?;
    let Some((last, _)) = pending.last() else {
        return Ok(());
    };
    let last = *last;
    let mut records = Vec::with_capacity(pending.len());
    for (_, change) in &pending {
        records.push(change_record(config, codec, change)?);
    }
    if send_until_acked(producer, &records, shutdown, ops, "resolve").await {
        resolver.store().ack_outbox(last)?;
        tracing::info!(
            changes = records.len(),
            "published the outbox of offline commands"
        );
    }
    Ok(())
}

fn change_record(
    config: &Config,
    codec: &kindred_schema::WireCodec,
    change: &kindred_model::ProfileChange,
) -> Result<OutRecord, PipelineError> {
    Ok(OutRecord {
        topic: config.topics.profiles.clone(),
        key: Some(change.profile_id.clone().into_bytes()),
        payload: codec.encode(SchemaKind::ProfileChange, change)?,
        headers: Vec::new(),
    })
}

/// Review-queue and quarantine records for what the guards did in a batch,
/// and their metrics. JSON, keyed by the pair / the identifier's digest;
/// quarantine records carry the value masked, never raw. Review records
/// carry both golden records (the reviewer needs them): restrict the
/// review topic to reviewers.
fn guard_records(
    config: &Config,
    resolver: &Resolver,
    outcome: &kindred_resolver::BatchOutcome,
    ops: &Ops,
) -> Result<Vec<OutRecord>, PipelineError> {
    let mut records = Vec::new();
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
        tracing::warn!(kind = %q.kind, digest = %q.digest, companions = q.companions, "identifier quarantined as over-shared");
        let body = serde_json::json!({
            "kind": q.kind, "masked": q.masked, "digest": q.digest,
            "companions": q.companions, "at_ms": q.at_ms,
        });
        records.push(OutRecord {
            topic: config.topics.quarantine.clone(),
            key: Some(q.digest.clone().into_bytes()),
            payload: body.to_string().into_bytes(),
            headers: Vec::new(),
        });
    }
    for s in &outcome.suggestions {
        ops.metrics
            .review_suggestions
            .with_label_values(&[s.reason])
            .inc();
        let store = resolver.store();
        let body = serde_json::json!({
            "profile_a": s.profile_a, "profile_b": s.profile_b,
            "rule": s.evidence.rule, "rule_version": s.evidence.rule_version,
            "kinds": s.evidence.kinds, "reason": s.reason,
            "record_a": store.profile(&s.profile_a)?,
            "record_b": store.profile(&s.profile_b)?,
        });
        records.push(OutRecord {
            topic: config.topics.review.clone(),
            key: Some(format!("{}|{}", s.profile_a, s.profile_b).into_bytes()),
            payload: body.to_string().into_bytes(),
            headers: Vec::new(),
        });
    }
    Ok(records)
}

/// Runs the resolver service until `shutdown`.
///
/// Per batch: decode the canonical events (bad ones are dead-lettered),
/// apply them to the store in one atomic write that also records the input
/// offsets, publish the change events keyed by profile id, wait for the
/// acknowledgements, then commit the offsets to Kafka (for lag monitoring).
pub async fn run(config: &Config, ops: &Ops, shutdown: Shutdown) -> Result<(), PipelineError> {
    let codec = codec_from_config(config)?;
    let store = Store::open(&config.resolver.data_dir)?;
    let mut resolver = Resolver::with_policy(
        store,
        config.resolver.linking.clone(),
        config.resolver.survivorship.clone(),
    );
    ops.metrics
        .profiles
        .set(resolver.store().stats()?.profiles as i64);
    let settings = kafka_settings(config);
    let source = config.topics.canonical.clone();
    let group = format!("{}.resolve", config.kafka.group_prefix);
    let consumer = consumer::subscribe(&settings, &group, &[&source])?;
    let producer = Producer::new(&settings)?;
    publish_outbox(config, &resolver, &codec, &producer, &shutdown, ops).await?;
    let linger = Duration::from_millis(config.resolver.batch_linger_ms);
    tracing::info!(topic = %source, %group, store = %config.resolver.data_dir.display(), "resolver started");

    loop {
        let batch = next_batch(
            &consumer,
            config.resolver.batch_size,
            linger,
            &shutdown,
            ops,
        )
        .await;
        if batch.is_empty() {
            break;
        }
        let started = Instant::now();
        let span = tracing::info_span!("batch", service = SERVICE, topic = %source, messages = batch.len());
        async {
            let mut events: Vec<CanonicalEvent> = Vec::with_capacity(batch.len());
            let mut records = Vec::new();
            for message in &batch {
                ops.metrics
                    .events_consumed
                    .with_label_values(&[&source])
                    .inc();
                let decoded = message
                    .payload()
                    .ok_or(kindred_schema::DecodeError::Empty)
                    .and_then(|p| codec.decode(Framing::Confluent, SchemaKind::CanonicalEvent, p));
                match decoded {
                    Ok(event) => events.push(event),
                    Err(e) => {
                        ops.metrics
                            .dead_letters
                            .with_label_values(&[&source, e.kind()])
                            .inc();
                        records.push(dead_letter(
                            &config.topics.dead_letter,
                            SERVICE,
                            message,
                            e.kind(),
                            e.to_string(),
                        ));
                    }
                }
            }
            let offsets: Vec<SourceOffset> = next_offsets(&batch)
                .into_iter()
                .map(|(topic, partition, next_offset)| SourceOffset {
                    topic,
                    partition,
                    next_offset,
                })
                .collect();
            let outcome = tokio::task::block_in_place(|| resolver.apply(&events, &offsets))?;
            records.extend(guard_records(config, &resolver, &outcome, ops)?);
            ops.metrics
                .profiles
                .add(outcome.created as i64 - outcome.absorbed as i64);
            if outcome.duplicates > 0 {
                ops.metrics
                    .duplicate_events
                    .with_label_values(&["all"])
                    .inc_by(outcome.duplicates);
            }
            for change in &outcome.changes {
                ops.metrics
                    .profile_changes
                    .with_label_values(&[change.change_type.as_str()])
                    .inc();
                records.push(change_record(config, &codec, change)?);
            }
            if !send_until_acked(&producer, &records, &shutdown, ops, "resolve").await {
                return Ok(());
            }
            let commit: Vec<_> = offsets
                .into_iter()
                .map(|o| (o.topic, o.partition, o.next_offset))
                .collect();
            consumer::commit(&consumer, &commit, CommitMode::Async)?;
            ops.metrics
                .batch_duration
                .with_label_values(&["resolve"])
                .observe(started.elapsed().as_secs_f64());
            Ok::<_, PipelineError>(())
        }
        .instrument(span)
        .await?;
    }
    tracing::info!("resolver shutting down");
    Ok(())
}
