//! State operations on the resolver store: snapshot, restore, rebuild.
//!
//! - A snapshot is a RocksDB checkpoint: a consistent copy of every column
//!   family, the source offsets and the outbox included. The resolver
//!   service writes them on a timer (`resolver.snapshot_interval_secs`);
//!   `kindred snapshot` writes one of a stopped store.
//! - A restore copies a snapshot into an empty data directory and gives the
//!   store a new identity; the resolver then resumes from the snapshot's
//!   offsets (events it re-reads are de-duplicated) and publishes the
//!   snapshot's unpublished outbox.
//! - A rebuild makes a new store from the canonical topic alone, when no
//!   snapshot is left.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kindred_config::Config;
use kindred_kafka::consumer;
use kindred_kafka::rdkafka::consumer::Consumer as _;
use kindred_kafka::rdkafka::Message as _;
use kindred_model::CanonicalEvent;
use kindred_resolver::{Resolver, SourceOffset, Store};
use kindred_schema::SchemaKind;

use crate::services::kafka_settings;
use crate::PipelineError;

/// Writes a checkpoint of the store at `resolver.data_dir` into `out`
/// (which must not exist). The store must not be open elsewhere.
pub fn snapshot(config: &Config, out: &Path) -> Result<String, PipelineError> {
    // RocksDB says only "Directory exists".
    if out.exists() {
        return Err(PipelineError::Config(format!(
            "--out {} exists already: a snapshot is written into a directory of its own, which it creates",
            out.display()
        )));
    }
    let resolver = crate::admin::open(config)?;
    let store = resolver.store();
    store.checkpoint(out)?;
    let stats = store.stats()?;
    Ok(format!(
        "snapshot of {} written to {}: {} profiles, {} events, {} index entries, {} outbox entries unpublished",
        config.resolver.data_dir.display(),
        out.display(),
        stats.profiles,
        stats.events,
        stats.identifiers,
        store.outbox_len()?
    ))
}

/// Writes a timestamped checkpoint of a running resolver's store under
/// `dir`, keeping the newest `keep`. Returns the new snapshot's path.
///
/// Older snapshots are pruned first (a checkpoint that fails on a full
/// disk would otherwise never free the files the old ones pin), names
/// never go backwards when the clock steps back (a new snapshot must not
/// sort as the oldest), and a `.tmp` a killed checkpoint left is removed,
/// not counted.
pub fn rotate_snapshot(store: &Store, dir: &Path, keep: usize) -> Result<PathBuf, PipelineError> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        PipelineError::Input(format!("{what} {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
    let mut existing: Vec<(u128, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io("cannot read", dir, e))? {
        let path = entry.map_err(|e| io("cannot read", dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stamp) = name.strip_prefix("snapshot-") else {
            continue;
        };
        match stamp.parse::<u128>() {
            Ok(millis) => existing.push((millis, path)),
            // A checkpoint cut off halfway: no snapshot.
            Err(_) if name.ends_with(".tmp") => {
                std::fs::remove_dir_all(&path).map_err(|e| io("cannot remove", &path, e))?;
            }
            Err(_) => {}
        }
    }
    existing.sort();
    let excess = (existing.len() + 1).saturating_sub(keep.max(1));
    for (_, old) in &existing[..excess.min(existing.len())] {
        std::fs::remove_dir_all(old).map_err(|e| io("cannot remove", old, e))?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let newest = existing.last().map_or(0, |(m, _)| m + 1);
    let path = dir.join(format!("snapshot-{:015}", now.max(newest)));
    store.checkpoint(&path)?;
    Ok(path)
}

/// Restores the snapshot in `from` into `resolver.data_dir`, which must be
/// empty or absent, and puts the erasures the audit topic lists on the
/// restored store's suppression list, as a rebuild does: the resolver
/// re-reads the erasure requests made since the snapshot in its own
/// interleaving with the events, and one read before the erased person's
/// events (an erasure by e-mail, before the event that linked the e-mail
/// to a card) found no one, and the person's other events came back.
/// `timeout` bounds each wait for the broker.
pub async fn restore(
    config: &Config,
    from: &Path,
    timeout: Duration,
) -> Result<String, PipelineError> {
    if !from.join("CURRENT").is_file() {
        return Err(PipelineError::Config(format!(
            "{} is not a snapshot (no RocksDB CURRENT file in it)",
            from.display()
        )));
    }
    // The publisher's progress before any topic is read: what the old
    // resolver, if it still runs, publishes after this is caught when
    // the restored store's publisher starts.
    let progress_seen = progress_before_read_back(config)
        .map_err(|e| PipelineError::Input(format!("nothing was restored: {e}")))?;
    // What the lost store left on the topics is read first: a broker that
    // does not answer leaves nothing restored, rather than a store the
    // resolver would start on without it.
    let audit_topic = config.topics.erasure_audit.clone();
    let read = {
        let (settings, name) = (kafka_settings(config), audit_topic.clone());
        tokio::task::spawn_blocking(move || consumer::read_to_end(&settings, &name, timeout))
            .await
            .map_err(|e| PipelineError::Input(format!("reading {audit_topic}: {e}")))?
    };
    let audit = match read {
        Ok(records) => Some(records),
        Err(kindred_kafka::KafkaError::UnknownTopic { .. }) => None,
        Err(e) => {
            return Err(PipelineError::Input(format!(
                "nothing was restored: the erasures since the snapshot could not be read from {audit_topic} ({e}); \
                 restore again once the brokers answer"
            )))
        }
    };
    let mut published = crate::profile_topic::read_published(config, timeout)
        .await
        .map_err(|e| {
            PipelineError::Input(format!(
                "nothing was restored: the profile topic {} could not be read back ({e}); \
                 restore again once the brokers answer",
                config.topics.profiles
            ))
        })?;
    // The review topic's pairs and the decisions topic's highest number
    // too (used once the store is restored).
    let nothing_restored = |topic: &str, e: PipelineError| {
        PipelineError::Input(format!(
            "nothing was restored: {topic} could not be read ({e}); restore again once it can be"
        ))
    };
    let review_pairs = tokio::task::block_in_place(|| review_topic_pairs(config, timeout))
        .map_err(|e| nothing_restored(&config.topics.review, e))?;
    let (topic_pinned, highest) =
        tokio::task::block_in_place(|| decisions_on_topic(config, timeout))
            .map_err(|e| nothing_restored(&config.topics.decisions, e))?;
    let store = Store::restore(
        from,
        &config.resolver.data_dir,
        crate::privacy::store_options(config)?,
    )?;
    // Refused by the resolver until the erasures and the topic's ids are
    // settled on it.
    store.set_rebuilding(true)?;
    store.record_progress_seen(&progress_seen)?;
    let erasures = match &audit {
        Some(records) => {
            let carried = crate::erasure::carry_over(
                &store,
                records.iter().map(|(_, _, payload)| payload.as_slice()),
            )?;
            for id in &carried.erased_profiles {
                published.record_erased(id);
            }
            let mut said = format!(
                "{} erasures' suppression entries carried over from {audit_topic} ({} entries)",
                carried.listed, carried.digests
            );
            if carried.partial > 0 {
                said.push_str(&format!(
                    " (WARNING: {} audit records listed only part of their entries: an event of the person the list leaves out, read again before their request, may bring part of them back; find them with `kindred explain` and erase them again by identifier)",
                    carried.partial
                ));
            }
            said
        }
        None => format!("no erasure audit topic {audit_topic}: no erasure carried over"),
    };
    // What the lost store published since the snapshot: its ids are not
    // given again, versions continue from the topic's, and the ids this
    // store does not hold are tombstoned (their people come back under new
    // ids as the replay reaches their events).
    let mut resolver = Resolver::with_policy(
        store,
        config.resolver.linking.clone(),
        config.resolver.survivorship.clone(),
    );
    // The snapshot's version of a person erased since it was taken: the
    // events that joined their profiles later are suppressed now, so the
    // request read again would find one of them (the others, their card's
    // or their phone's, stayed live).
    resolver.set_suppress_erased(config.privacy.suppress_erased);
    let restated_erasures = tokio::task::block_in_place(|| {
        resolver.erase_suppressed_holders("restore", "kindred restore", crate::admin::now_ms())
    })?;
    for erasure in &restated_erasures {
        for id in &erasure.audit.profiles {
            published.record_erased(id);
        }
    }
    let erasures = if restated_erasures.is_empty() {
        erasures
    } else {
        format!(
            "{erasures}; {} snapshot profiles holding erased events erased again",
            restated_erasures.len()
        )
    };
    // Decisions made since the snapshot (a reject, an approval, a split
    // run offline, `rules apply`) are on the decisions topic, not in the
    // snapshot: without them a reviewer's split came undone and a rejected
    // pair merged on its next shared identifier. Those that differ from
    // the snapshot's are pinned again and their profiles recomputed, ids
    // numbered after the topic's first (the changes are restated below).
    // Only lists naming a decision the snapshot does not know: one the
    // snapshot made but had not published yet is newer than the topic's.
    let snapshot_highest = resolver
        .store()
        .decisions_pinned()?
        .events
        .iter()
        .flat_map(|(_, list)| list.iter().map(|c| c.highest_decision()))
        .max()
        .unwrap_or(0);
    let changed: Vec<(String, Vec<kindred_resolver::Constraint>)> = topic_pinned
        .events
        .into_iter()
        .filter(|(event, list)| {
            list.iter().any(|c| c.highest_decision() > snapshot_highest)
                && !matches!(resolver.store().constraints(event), Ok(held) if &held == list)
        })
        .collect();
    // Decisions made since the snapshot are on the decisions topic: the
    // store's next ones (the carried ones' first) are numbered after them,
    // so that an offline `review` or `split` run before the service starts
    // does not give a number the topic holds for another decision (a
    // rebuild would join the two decisions' sides).
    let renumbered = resolver.number_decisions_after(highest)?;
    let carried_decisions = if changed.is_empty() {
        0
    } else {
        tokio::task::block_in_place(|| resolver.number_profiles_after(&published))?;
        let done = tokio::task::block_in_place(|| {
            resolver.carry_decisions(
                &changed,
                topic_pinned.next_decision,
                "kindred restore",
                crate::admin::now_ms(),
            )
        })
        .map_err(|e| PipelineError::Config(format!("carrying decisions: {e}")))?;
        match done.decision.kind {
            kindred_resolver::DecisionKind::Carried { events } => events,
            _ => 0,
        }
    };
    let reconciled = tokio::task::block_in_place(|| {
        resolver.reconcile_with_published(&published, RESTATED_BY_RESTORE)
    })?;
    // Review pairs the lost store raised since the snapshot that name an
    // id this store does not hold: a reviewer's decision on them would be
    // refused (the replay raises its own).
    let stale: Vec<(String, String)> = review_pairs
        .into_iter()
        .filter(|(a, b)| {
            [a, b].iter().any(
                |id| !matches!(resolver.store().profile(id), Ok(Some(p)) if &p.profile_id == *id),
            )
        })
        .collect();
    tokio::task::block_in_place(|| resolver.tombstone_review_pairs(&stale))?;
    resolver.store().set_rebuilding(false)?;
    let mut topic_read_back = read_back_report(config, &published, &reconciled);
    if carried_decisions > 0 {
        topic_read_back.push_str(&format!(
            "; decisions made since the snapshot carried from {} onto {carried_decisions} events",
            config.topics.decisions
        ));
    }
    if renumbered {
        topic_read_back.push_str(&format!(
            "; decisions numbered after {highest}, the highest on {}",
            config.topics.decisions
        ));
    }
    let store = resolver.store();
    let offsets = store.offsets()?;
    let stats = store.stats()?;
    let positions: Vec<String> = offsets
        .iter()
        .map(|((t, p), o)| format!("{t}[{p}]@{o}"))
        .collect();
    Ok(format!(
        "restored {} into {} (new store id {}): {} profiles; {erasures}; {topic_read_back}; the resolver resumes at {}",
        from.display(),
        config.resolver.data_dir.display(),
        store.store_id()?,
        stats.profiles,
        if positions.is_empty() {
            "the beginning".to_string()
        } else {
            positions.join(", ")
        }
    ))
}

/// The cause of the changes a restore queues to restate what the profile
/// topic says under an id it holds (a decision's prefix: they place no
/// event).
const RESTATED_BY_RESTORE: &str = "decision:restore";

/// The cause of a rebuild's tombstones and restated ids.
const RESTATED_BY_REBUILD: &str = "decision:rebuild";

/// The publisher's progress record as it stands before the profile topic
/// is read back ([`crate::services::publish::progress_text`]): the
/// restored or rebuilt store's publisher refuses to start if the old
/// resolver published past it meanwhile (it is fenced only then).
fn progress_before_read_back(config: &Config) -> Result<String, PipelineError> {
    let progress = crate::services::publish::read_progress(
        &kafka_settings(config),
        &config.topics.progress,
        &crate::services::resolve::publisher_id(config),
    );
    match progress {
        Ok(p) => Ok(crate::services::publish::progress_text(p.as_ref())),
        Err(PipelineError::Kafka(kindred_kafka::KafkaError::UnknownTopic { .. })) => {
            Ok(String::new())
        }
        Err(e) => Err(e),
    }
}

/// The profile topic read back, with the ids the erasure audit topic says
/// were erased (their tombstones may be gone from the topic).
async fn read_published_and_erased(
    config: &Config,
    timeout: Duration,
    carried: &crate::erasure::CarriedErasures,
) -> Result<(kindred_resolver::Published, Vec<&'static str>), PipelineError> {
    let (mut published, placing) =
        crate::profile_topic::read_published_placed(config, timeout).await?;
    for id in &carried.erased_profiles {
        published.record_erased(id);
    }
    Ok((published, placing))
}

/// What reading the profile topic back settled, for a command's report.
fn read_back_report(
    config: &Config,
    published: &kindred_resolver::Published,
    reconciled: &kindred_resolver::Reconciled,
) -> String {
    let numbered = match reconciled.numbered_from {
        Some(n) => format!(
            "new profiles numbered from {}{n:012}",
            kindred_resolver::PROFILE_ID_PREFIX
        ),
        None => "profile numbering already past the topic's".to_string(),
    };
    format!(
        "{} read back ({} keys): {numbered}, {} versions continued from the topic's, {} ids this store does not hold tombstoned, {} changes it already carries dropped from the outbox",
        config.topics.profiles,
        published.len(),
        reconciled.versions_raised,
        reconciled.tombstoned,
        reconciled.already_published
    )
}

/// Rebuilds the store at `resolver.data_dir` (empty or absent) by replaying
/// the canonical topic from its beginning to its end as of the start.
///
/// The rebuilt store has the same people and golden records as the lost
/// one (resolution does not depend on arrival order), but numbers its
/// profiles in replay order, after every id the profile topic names (an
/// old id is never given to someone else). The replay's own changes are
/// not published; what is queued for the resolver to publish when it
/// starts is a tombstone for every old id, then every live profile under
/// its new id as `created`, with its events in `moved_event_ids` (and the
/// redirects of the ids it absorbed), numbered after the topic's highest
/// change sequence, so the compacted topic ends with exactly the rebuilt
/// store's profiles and an event-following consumer with its partition. The topic is read
/// at the start (numbering) and again at the end: ids published meanwhile
/// (a resolver still running) fail the rebuild.
///
/// A canonical topic whose head retention or `delete-records` removed
/// holds only part of the history: the rebuilt store would lack everyone
/// whose events are gone, and its reconciliation would tombstone them on
/// the profile topic. Refused, naming each partition and where it starts,
/// unless `from_what_is_left` (then the report warns).
pub async fn rebuild(
    config: &Config,
    timeout: Duration,
    decisions_from: Option<&std::path::Path>,
    from_what_is_left: bool,
) -> Result<String, PipelineError> {
    let dir = &config.resolver.data_dir;
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(PipelineError::Config(format!(
            "cannot rebuild into {}: the directory is not empty (move the old store away first)",
            dir.display()
        )));
    }
    let settings = kafka_settings(config);
    let canonical = config.topics.canonical.as_str();
    let truncated: Vec<String> = tokio::task::block_in_place(|| {
        consumer::topic_start_offsets(&settings, canonical, timeout)
    })?
    .into_iter()
    .filter(|(_, start)| *start > 0)
    .map(|(p, start)| format!("partition {p} starts at offset {start}"))
    .collect();
    let truncation_warning = if truncated.is_empty() {
        None
    } else if from_what_is_left {
        Some(format!(
            "WARNING: rebuilt from what is left of {canonical} ({}): the people whose events were removed are not in the store, and the resolver will tombstone their ids on the profile topic",
            truncated.join(", ")
        ))
    } else {
        return Err(PipelineError::Config(format!(
            "cannot rebuild from {canonical}: its head was removed ({}; retention or delete-records), so the rebuilt store would lack everyone whose events are gone and the profile topic would lose them too. \
             Restore a snapshot instead, or give --from-what-is-left to rebuild from the rest",
            truncated.join(", ")
        )));
    };
    // The publisher's progress before any topic is read (see `restore`).
    let progress_seen = progress_before_read_back(config)?;
    // The decisions by people (reviews, splits) to keep, read first: from
    // the old store when given, else from the decisions topic; a source
    // that cannot give them stops the rebuild before it starts.
    let (decisions, decisions_source, mut warnings) = match decisions_from {
        Some(old) => (
            Some(old_decisions(config, old)?),
            old.display().to_string(),
            Vec::new(),
        ),
        None => {
            let topic = config.topics.decisions.clone();
            let read = {
                let (settings, name) = (settings.clone(), topic.clone());
                tokio::task::spawn_blocking(move || {
                    consumer::read_to_end(&settings, &name, timeout)
                })
                .await
                .map_err(|e| PipelineError::Input(format!("reading {topic}: {e}")))?
            };
            match read {
                Ok(records) => {
                    let (pinned, malformed) = topic_decisions(&records);
                    // (An empty topic is the usual case, no decisions
                    // made: the report's count says so.)
                    let warnings: Vec<String> = malformed
                        .into_iter()
                        .map(|at| format!("WARNING: {topic}: {at}; skipped"))
                        .collect();
                    (Some(pinned), format!("topic {topic}"), warnings)
                }
                Err(kindred_kafka::KafkaError::UnknownTopic { .. }) => (
                    None,
                    String::new(),
                    vec![format!(
                        "WARNING: there is no decisions topic {topic} (made by `kindred topics create` since this release): \
                         no review or split decision was carried; give --decisions-from OLD_DIR if the old store is still there"
                    )],
                ),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let schemas = crate::Schemas::for_own_topics(config, &[]).await?;
    let topic = config.topics.canonical.as_str();
    let reader = consumer::read_from_start(&settings, &[topic], timeout)?;
    let ends: std::collections::BTreeMap<i32, i64> =
        consumer::end_offsets(&reader, topic, timeout)?
            .into_iter()
            .collect();
    let mut next: std::collections::BTreeMap<i32, i64> = ends.keys().map(|p| (*p, 0)).collect();
    let mut resolver = Resolver::with_policy(
        crate::privacy::open_store_at(config, dir)?,
        config.resolver.linking.clone(),
        config.resolver.survivorship.clone(),
    );
    // Until the last write: a rebuild cut off halfway must not pass for a
    // store (it would read the erasure topic from its start, out of order).
    resolver.store().set_rebuilding(true)?;
    // The lost store's erasures, as the audit topic lists them, go on the
    // new store's suppression list before any event is replayed: an erased
    // person's events are dropped as they come, however their request
    // named them (a profile id means someone else in the new numbering).
    let carried = {
        let settings = settings.clone();
        let audit_topic = config.topics.erasure_audit.clone();
        let records = tokio::task::spawn_blocking(move || {
            consumer::read_to_end(&settings, &audit_topic, timeout)
        })
        .await
        .map_err(|e| {
            PipelineError::Input(format!("reading {}: {e}", config.topics.erasure_audit))
        })??;
        crate::erasure::carry_over(
            resolver.store(),
            records.iter().map(|(_, _, payload)| payload.as_slice()),
        )?
    };
    // Profiles are numbered after every id the lost store published or
    // erased: a downstream system holding one must never be given someone
    // else's record under it.
    let (published, placing) = read_published_and_erased(config, timeout, &carried).await?;
    resolver.store().record_progress_seen(&progress_seen)?;
    // The rebuilt store goes on placing keys as the topic's records were
    // placed, whatever the configuration says now.
    warnings.extend(crate::services::publish::record_topic_partitioner(
        config,
        resolver.store(),
        &placing,
    )?);
    let numbered_from = tokio::task::block_in_place(|| resolver.number_profiles_after(&published))?;
    let (mut read, mut skipped) = (0u64, 0u64);
    let done = |next: &std::collections::BTreeMap<i32, i64>| {
        ends.iter()
            .all(|(p, end)| next.get(p).copied().unwrap_or(0) >= *end)
    };
    // Since the last record or partition end: errors librdkafka recovers
    // from are passed over, but not for longer than `timeout`.
    let mut progressed = std::time::Instant::now();
    while !done(&next) {
        let mut events: Vec<CanonicalEvent> = Vec::new();
        while events.len() < config.resolver.batch_size && !done(&next) {
            let left = timeout.saturating_sub(progressed.elapsed());
            let message = match tokio::time::timeout(left, reader.recv()).await {
                Err(_) => {
                    return Err(PipelineError::Input(format!(
                        "{topic}: nothing arrived for {timeout:?} before its end offsets {ends:?} (at {next:?})"
                    )))
                }
                Ok(Err(e)) if consumer::passing(&e) => continue,
                Ok(Err(kindred_kafka::rdkafka::error::KafkaError::PartitionEOF(p))) => {
                    progressed = std::time::Instant::now();
                    if let Some(end) = ends.get(&p) {
                        next.insert(p, *end);
                    }
                    continue;
                }
                Ok(m) => {
                    progressed = std::time::Instant::now();
                    m.map_err(|e| consumer::read_failure(topic, e))?
                }
            };
            next.insert(message.partition(), message.offset() + 1);
            read += 1;
            if let Some(payload) = message.payload() {
                schemas.learn_patiently(std::iter::once(payload)).await?;
                // A registry's wait is not the broker's silence.
                progressed = std::time::Instant::now();
            }
            match message
                .payload()
                .ok_or(kindred_schema::DecodeError::Empty)
                .and_then(|p| schemas.decode_own(SchemaKind::CanonicalEvent, p))
                .map(|mut event: CanonicalEvent| {
                    // Cut as the running resolver cuts it.
                    crate::services::resolve::bound_to_what_ingest_makes(&mut event);
                    event
                }) {
                Ok(event) if kindred_normalize::check_canonical(&event).is_ok() => {
                    events.push(event)
                }
                // Out of bounds: dead-lettered by the running resolver too.
                Ok(_) => skipped += 1,
                // With a registry, an id it does not give is history
                // written before the switch to it (under the configured
                // ids): skipping it would rebuild a store without it.
                Err(e @ kindred_schema::DecodeError::UnknownSchemaId { .. })
                    if config.schemas.registry.enabled() =>
                {
                    return Err(PipelineError::Input(format!(
                        "{topic}/{} offset {}: {e}; written before [schemas.registry] was set? \
                         rebuild with the configuration of that time (without the registry)",
                        message.partition(),
                        message.offset()
                    )));
                }
                // The running resolver dead-lettered these already.
                Err(_) => skipped += 1,
            }
        }
        let offsets: Vec<SourceOffset> = next
            .iter()
            .filter(|(_, o)| **o > 0)
            .map(|(p, o)| SourceOffset {
                topic: topic.to_string(),
                partition: *p,
                next_offset: *o,
            })
            .collect();
        let outcome = tokio::task::block_in_place(|| resolver.apply(&events, &offsets))?;
        if let Some(last) = outcome.outbox_last {
            resolver.store().ack_outbox(last)?;
        }
        // Applying is not the broker's silence either.
        progressed = std::time::Instant::now();
    }
    // Decisions pinned on the replayed events, then the profiles holding
    // them recomputed, before any erasure is applied again (an erased
    // person's events were dropped as they came and are skipped).
    let carried_decisions = match &decisions {
        Some(pinned) => {
            let done = tokio::task::block_in_place(|| {
                resolver.carry_decisions(
                    &pinned.events,
                    pinned.next_decision,
                    "kindred rebuild",
                    crate::admin::now_ms(),
                )
            })
            .map_err(|e| PipelineError::Config(format!("carrying decisions: {e}")))?;
            // Published by nothing, as the replay's own changes.
            let next = resolver.store().next_outbox_seq()?;
            if next > 1 {
                resolver.store().ack_outbox(next - 1)?;
            }
            match done.decision.kind {
                kindred_resolver::DecisionKind::Carried { events } => events,
                _ => 0,
            }
        }
        None => 0,
    };
    // The requests and the end they were read to, together: the resolver
    // goes on after the last one the rebuild applied (one sent meanwhile
    // is the resolver's to apply, once).
    let (requests, erasure_end) = tokio::task::block_in_place(|| {
        read_with_end(&settings, &config.topics.erasure_requests, timeout, false)
    })?;
    // Decision requests made so far name profile ids of the old numbering:
    // the new store starts after them. Those the old store applied are in
    // the decisions carried above; those without a reply (sent while it
    // was down, or applied but never published) are answered below.
    let (unanswered, decisions_end) =
        tokio::task::block_in_place(|| unanswered_requests(config, timeout))?;
    // The review topic's pairs are of the old numbering: replaced below.
    let stale_pairs = tokio::task::block_in_place(|| review_topic_pairs(config, timeout))?;
    reader.unsubscribe();
    // A request its audit record covers is not applied again: its
    // entries were carried over above, and applying it after all events
    // could erase someone else (a recycled number's new owner, the last
    // holder left of a once shared phone). The others (audited by an older
    // release, or their record aged out) apply again after all events if
    // they name an identifier; one naming a profile id cannot, since the
    // ids were numbered afresh: it is reported.
    resolver.set_suppress_erased(config.privacy.suppress_erased);
    let erasure_topic = config.topics.erasure_requests.clone();
    let normalize = crate::normalize_options(config)?;
    let (mut covered, mut applied, mut erased, mut by_profile) = (0u64, 0u64, 0u64, 0u64);
    for ((_, _, payload), record_ms) in &requests {
        // Bad requests were dead-lettered by the running resolver. Timed
        // as the running resolver times them: by the record when the
        // request does not say (with none, its suppressions would never
        // end: a recycled number's next owner dropped for good).
        let Ok(request) =
            crate::erasure::parse_request(payload, &normalize, record_ms.unwrap_or(0))
        else {
            continue;
        };
        if carried.covers(resolver.store(), &request) {
            covered += 1;
            continue;
        }
        if matches!(request.target, kindred_resolver::ErasureTarget::Profile(_)) {
            by_profile += 1;
            continue;
        }
        applied += 1;
        let done = tokio::task::block_in_place(|| resolver.erase(&request, &[]))?;
        if let Some(last) = done.outbox_last {
            resolver.store().ack_outbox(last)?;
        }
        erased += u64::from(done.audit.outcome == kindred_resolver::ErasureOutcome::Erased);
    }
    // The resolver goes on from these topics' ends.
    let ends: Vec<SourceOffset> = [
        (erasure_topic.clone(), erasure_end),
        (config.topics.decision_requests.clone(), decisions_end),
    ]
    .into_iter()
    .filter(|(_, end)| *end > 0)
    .map(|(topic, next_offset)| SourceOffset {
        topic,
        partition: 0,
        next_offset,
    })
    .collect();
    if !ends.is_empty() {
        tokio::task::block_in_place(|| resolver.apply(&[], &ends))?;
    }
    // Left for the resolver to publish when it starts: every decision the
    // rebuilt store holds (the topic may not have them: carried from an
    // old store, or its records lost with the old volume), and a refusal
    // for each request without a reply.
    // The topic as it is now: a resolver still publishing beside the
    // rebuild would have given ids this store gives again.
    let (now, _) = read_published_and_erased(config, timeout, &carried).await?;
    if now.highest_profile_seq() > published.highest_profile_seq() {
        return Err(PipelineError::Config(format!(
            "{} names profile ids up to {}{:012} that were published while this rebuild ran (it numbered its own after {}{:012}): \
             another resolver is running on these topics; stop it, remove {} and rebuild again",
            config.topics.profiles,
            kindred_resolver::PROFILE_ID_PREFIX,
            now.highest_profile_seq(),
            kindred_resolver::PROFILE_ID_PREFIX,
            published.highest_profile_seq(),
            dir.display()
        )));
    }
    let reconciled = tokio::task::block_in_place(|| -> Result<_, PipelineError> {
        // A tombstone for each old id, then every live profile (and every
        // pinned decision) under the new numbering.
        let mut reconciled = resolver.reconcile_with_published(&now, RESTATED_BY_REBUILD)?;
        reconciled.numbered_from = reconciled.numbered_from.or(numbered_from);
        resolver
            .publish_rebuilt(
                "kindred rebuild",
                crate::admin::now_ms(),
                crate::admin::REPUBLISH_CHUNK,
            )
            .map_err(|e| PipelineError::Config(format!("queueing the rebuilt profiles: {e}")))?;
        // (`republish` queued the rebuilt review queue.)
        resolver.tombstone_review_pairs(&stale_pairs)?;
        for request_id in &unanswered {
            resolver.refuse_request(
                request_id,
                "the resolver's store was rebuilt before this request was applied, and its profile ids were numbered afresh: send it again with the new ids",
                &[],
            )?;
        }
        Ok(reconciled)
    })?;
    resolver.store().set_rebuilding(false)?;
    let stats = resolver.store().stats()?;
    let mut report = format!(
        "rebuilt {} from {topic}: {read} messages read ({skipped} undecodable skipped), {} profiles, {} identifiers; {} suppression entries carried over from {} audit records; erasure requests: {covered} covered by their audit records, {applied} by identifier re-applied ({erased} erased someone)",
        dir.display(),
        stats.profiles,
        stats.identifiers,
        carried.digests,
        carried.listed,
    );
    report.push_str(&format!(
        "; {}; every live profile queued for the resolver to publish",
        read_back_report(config, &now, &reconciled)
    ));
    if let Some(pinned) = &decisions {
        let total = pinned.events.iter().filter(|(_, l)| !l.is_empty()).count() as u64;
        report.push_str(&format!(
            "; decisions of {decisions_source}: {total} events carried them, {carried_decisions} of them replayed here",
        ));
        if carried_decisions < total {
            warnings.push(format!(
                "WARNING: {} events with decisions on them are not in the rebuilt store (undecodable, suppressed by an erasure, or gone from the canonical topic): the decisions on them were not carried.",
                total - carried_decisions
            ));
        }
    }
    if !unanswered.is_empty() {
        warnings.push(format!(
            "WARNING: {} decision requests on {} had no reply: each gets one saying it was refused (send it again with the new profile ids)",
            unanswered.len(),
            config.topics.decision_requests
        ));
    }
    for warning in truncation_warning.into_iter().chain(warnings) {
        report.push('\n');
        report.push_str(&warning);
    }
    if by_profile > 0 || carried.partial > 0 {
        report.push_str(&format!(
            "\nWARNING: {by_profile} erasure requests by profile id have no audit record listing what they suppressed (written by an older release, or aged out) and were not applied again: profile ids are numbered afresh by a rebuild; {} audit records listed only part of their entries. The people concerned may be back: find them with `kindred explain` and erase them again by identifier.",
            carried.partial
        ));
    }
    Ok(report)
}

/// The decisions the decisions topic holds ([`topic_decisions`]; none
/// when there is no such topic yet), and the highest decision number any
/// of its records names ([`highest_decision_on_topic`]). Records of
/// another shape are skipped, as a rebuild skips them (it warns of them).
fn decisions_on_topic(
    config: &Config,
    timeout: Duration,
) -> Result<(kindred_resolver::PinnedDecisions, u64), PipelineError> {
    match consumer::read_to_end(&kafka_settings(config), &config.topics.decisions, timeout) {
        Ok(records) => {
            let highest = highest_decision_of(records.iter().map(|(_, _, p)| p.as_slice()));
            Ok((topic_decisions(&records).0, highest))
        }
        Err(kindred_kafka::KafkaError::UnknownTopic { .. }) => Ok((
            kindred_resolver::PinnedDecisions {
                events: Vec::new(),
                next_decision: 1,
            },
            0,
        )),
        Err(e) => Err(e.into()),
    }
}

/// The highest decision number the decisions topic names (0: none, or no
/// such topic yet): a resolver numbers its next decisions after it
/// ([`Resolver::number_decisions_after`]).
pub fn highest_decision_on_topic(config: &Config, timeout: Duration) -> Result<u64, PipelineError> {
    Ok(decisions_on_topic(config, timeout)?.1)
}

/// The highest decision number the decisions records `payloads` name,
/// superseded ones too.
fn highest_decision_of<'a>(payloads: impl Iterator<Item = &'a [u8]>) -> u64 {
    payloads
        .filter_map(|p| serde_json::from_slice::<kindred_resolver::PinnedEvent>(p).ok())
        .flat_map(|p| p.constraints)
        .map(|c| c.highest_decision())
        .max()
        .unwrap_or(0)
}

/// The pairs the review topic holds now (the last record of each key is
/// not a tombstone), by their `profile_a|profile_b` keys.
fn review_topic_pairs(
    config: &Config,
    timeout: Duration,
) -> Result<Vec<(String, String)>, PipelineError> {
    let records =
        match consumer::read_to_end(&kafka_settings(config), &config.topics.review, timeout) {
            Ok(records) => records,
            Err(kindred_kafka::KafkaError::UnknownTopic { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
    let mut latest: std::collections::BTreeMap<Vec<u8>, bool> = std::collections::BTreeMap::new();
    for (_, key, payload) in records {
        if let Some(key) = key {
            latest.insert(key, !payload.is_empty());
        }
    }
    Ok(latest
        .into_iter()
        .filter(|(_, live)| *live)
        .filter_map(|(key, _)| {
            let key = String::from_utf8(key).ok()?;
            let (a, b) = key.split_once('|')?;
            Some((a.to_string(), b.to_string()))
        })
        .collect())
}

/// The decision requests on the request topic that have no reply on the
/// outcome topic (their request ids, in order), and the request topic's
/// end as of that read: a rebuild answers them (refused: the ids they name
/// were renumbered) and starts after them. No such topic: none.
fn unanswered_requests(
    config: &Config,
    timeout: Duration,
) -> Result<(Vec<String>, i64), PipelineError> {
    let settings = kafka_settings(config);
    let (requests, end) =
        read_with_end(&settings, &config.topics.decision_requests, timeout, true)?;
    // Replies to requests read above, read after them.
    let (replies, _) = read_with_end(&settings, &config.topics.decision_outcomes, timeout, true)?;
    let answered: std::collections::BTreeSet<String> = replies
        .iter()
        .filter_map(|((_, _, p), _)| {
            serde_json::from_slice::<kindred_resolver::DecisionReply>(p).ok()
        })
        .map(|r| r.request_id)
        .collect();
    let mut open = Vec::new();
    for ((_, _, payload), _) in &requests {
        // Unreadable ones were dead-lettered (or will not be read).
        if let Ok(r) = crate::live::parse_request(payload) {
            if !answered.contains(&r.request_id) && !open.contains(&r.request_id) {
                open.push(r.request_id);
            }
        }
    }
    Ok((open, end))
}

/// Every record of `topic` a `read_committed` reader sees, with its
/// timestamp ([`consumer::read_stamped_to_end`]), and the topic's end offset (the highest of
/// its partitions') as of that read: read again while records keep
/// arriving, so the end is the end of what was read. A topic that does not
/// exist holds nothing (end 0) when `missing_ok`.
fn read_with_end(
    settings: &kindred_kafka::KafkaSettings,
    topic: &str,
    timeout: Duration,
    missing_ok: bool,
) -> Result<(Vec<consumer::StampedRecord>, i64), PipelineError> {
    let end = || -> Result<Option<i64>, PipelineError> {
        match consumer::topic_end_offsets(settings, topic, timeout) {
            Ok(ends) => Ok(Some(ends.into_iter().map(|(_, e)| e).max().unwrap_or(0))),
            Err(kindred_kafka::KafkaError::UnknownTopic { .. }) if missing_ok => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    for _ in 0..5 {
        let Some(before) = end()? else {
            return Ok((Vec::new(), 0));
        };
        let records = consumer::read_stamped_to_end(settings, topic, timeout)?;
        if end()? == Some(before) {
            return Ok((records, before));
        }
    }
    Err(PipelineError::Input(format!(
        "{topic}: requests kept arriving while the rebuild read them; stop sending them and try again"
    )))
}

/// The decisions the decisions topic holds, as [`Store::decisions_pinned`]
/// gives a store's: the last record of each event id (a tombstone drops
/// it), the next decision number past every one named. Also where each
/// record that is not a decisions record was (skipped).
fn topic_decisions(
    records: &[consumer::Record],
) -> (kindred_resolver::PinnedDecisions, Vec<String>) {
    let mut latest: std::collections::BTreeMap<&[u8], &[u8]> = std::collections::BTreeMap::new();
    let mut malformed = Vec::new();
    for (n, (partition, key, payload)) in records.iter().enumerate() {
        match key {
            Some(key) => {
                latest.insert(key, payload);
            }
            None => malformed.push(format!("partition {partition}, record {n} read: no key")),
        }
    }
    let mut pinned = kindred_resolver::PinnedDecisions {
        events: Vec::new(),
        next_decision: 1,
    };
    for (key, payload) in latest {
        if payload.is_empty() {
            continue;
        }
        match serde_json::from_slice::<kindred_resolver::PinnedEvent>(payload) {
            Ok(event) if event.event_id.as_bytes() == key => {
                for c in &event.constraints {
                    pinned.next_decision = pinned
                        .next_decision
                        .max(c.highest_decision().saturating_add(1));
                }
                pinned.events.push((event.event_id, event.constraints));
            }
            Ok(event) => malformed.push(format!(
                "the record keyed {} names event {}",
                String::from_utf8_lossy(key),
                event.event_id
            )),
            Err(e) => malformed.push(format!(
                "the record keyed {}: not a decisions record ({:?} error at line {} column {})",
                String::from_utf8_lossy(key),
                e.classify(),
                e.line(),
                e.column()
            )),
        }
    }
    (pinned, malformed)
}

/// The decisions another store (the one a rebuild replaces) pinned on
/// events, opened with this configuration's keyring; only the
/// `constraints` family and a counter are read, so a store whose profiles
/// an older release wrote still gives them.
fn old_decisions(
    config: &Config,
    old: &std::path::Path,
) -> Result<kindred_resolver::PinnedDecisions, PipelineError> {
    if !old.join("CURRENT").is_file() {
        return Err(PipelineError::Config(format!(
            "--decisions-from {}: no store there (no CURRENT file)",
            old.display()
        )));
    }
    let store = crate::privacy::open_store_at(config, old)?;
    store.decisions_pinned().map_err(|e| {
        PipelineError::Config(format!(
            "--decisions-from {}: reading its decisions: {e}",
            old.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindred_resolver::{Constraint, PinnedEvent};

    /// The decisions topic read back: the last record of each event wins,
    /// a tombstone drops it, the next decision number is past every one
    /// named, and records that are not decisions records are reported.
    #[test]
    fn the_decisions_topic_gives_the_last_decisions_of_each_event() {
        let record = |key: Option<&str>, event: &str, constraints: Vec<Constraint>| {
            let body = serde_json::to_vec(&PinnedEvent {
                event_id: event.into(),
                constraints,
            })
            .expect("encodes");
            (0, key.map(|k| k.as_bytes().to_vec()), body)
        };
        let apart = |decision, side| Constraint::Apart { decision, side };
        let records = vec![
            record(Some("pos:1"), "pos:1", vec![apart(3, 0)]),
            record(
                Some("web:2"),
                "web:2",
                vec![Constraint::Together { decision: 7 }],
            ),
            record(Some("pos:3"), "pos:3", vec![apart(9, 1)]),
            (1, Some(b"pos:3".to_vec()), Vec::new()),
            record(Some("pos:1"), "pos:1", vec![apart(3, 1), apart(4, 0)]),
            record(Some("pos:4"), "pos:5", vec![apart(20, 0)]),
            record(None, "pos:6", vec![apart(21, 0)]),
            (2, Some(b"pos:7".to_vec()), b"{not json".to_vec()),
        ];
        let (pinned, malformed) = topic_decisions(&records);
        assert_eq!(
            pinned.events,
            vec![
                ("pos:1".to_string(), vec![apart(3, 1), apart(4, 0)]),
                (
                    "web:2".to_string(),
                    vec![Constraint::Together { decision: 7 }]
                ),
            ]
        );
        assert_eq!(pinned.next_decision, 8, "past decision 7; 9 was erased");
        assert_eq!(malformed.len(), 3, "{malformed:?}");
        assert!(
            malformed.iter().any(|m| m.contains("names event pos:5")),
            "{malformed:?}"
        );
    }

    /// `--decisions-from` a directory with no store says so, before a
    /// rebuild reads anything; a store gives its pinned decisions.
    #[test]
    fn decisions_from_a_directory_without_a_store_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.privacy.plaintext_store = true;
        let err = old_decisions(&config, dir.path()).expect_err("no store");
        assert!(
            err.to_string().contains(&format!(
                "--decisions-from {}: no store there",
                dir.path().display()
            )),
            "{err}"
        );
        drop(Store::open(dir.path().join("db")).expect("store"));
        let pinned = old_decisions(&config, &dir.path().join("db")).expect("a store");
        assert_eq!((pinned.events.len(), pinned.next_decision), (0, 1));
    }

    /// Rotation keeps the newest `keep`, removes a checkpoint a kill cut
    /// off, and names a new snapshot after the newest even when the clock
    /// reads earlier (it must not sort as the oldest and be pruned).
    #[test]
    fn snapshots_rotate_newest_last_whatever_the_clock() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("db")).expect("store");
        let snaps = dir.path().join("snapshots");
        std::fs::create_dir_all(snaps.join("snapshot-000000000000123.tmp")).expect("tmp");
        // A snapshot "from the future": the clock stepped back since.
        let future = snaps.join("snapshot-005000000000000");
        store.checkpoint(&future).expect("checkpoint");
        let first = rotate_snapshot(&store, &snaps, 2).expect("rotate");
        assert_eq!(first, snaps.join("snapshot-005000000000001"));
        assert!(!snaps.join("snapshot-000000000000123.tmp").exists());
        let second = rotate_snapshot(&store, &snaps, 2).expect("rotate");
        let mut left: Vec<PathBuf> = std::fs::read_dir(&snaps)
            .expect("read")
            .map(|e| e.expect("entry").path())
            .collect();
        left.sort();
        assert_eq!(left, vec![first, second]);
    }
}
